//! Reaching physical memory through the direct map (supervisor pages at PHYSMAP_BASE).

use isounik_abi::layout::PHYSMAP_BASE;
use isounik_paging::{PhysMemory, ENTRIES_PER_TABLE};

pub fn phys_to_virt(phys: u64) -> u64 {
    PHYSMAP_BASE + phys
}

/// The kernel's [`PhysMemory`]: page-table frames through the direct map.
pub struct Physmap;

impl PhysMemory for Physmap {
    fn table(&mut self, frame: u64) -> &mut [u64; ENTRIES_PER_TABLE] {
        // SAFETY: `frame` is a page-table frame handed out by the frame allocator (or the
        // CPU's CR3), mapped by the direct map; callers hold the memory lock (or, for the
        // crash reporter, only read), so no other reference to it is live.
        unsafe { &mut *(phys_to_virt(frame) as *mut [u64; ENTRIES_PER_TABLE]) }
    }
}
