//! The libOS heap (K_LIBOS user pages at LIBOS_HEAP_BASE): a buddy allocator that grows by
//! mapping more frames when it runs out. When no frame is left, the allocation fails and
//! Rust's allocation-error path reports it (a crash report naming the size), never a hang.
//! The libOS code behind the MPK gate allocates too (in ring 3: the heap's lock does not
//! mask interrupts); it asks ring 0 to map more through the privilege gate.

use core::alloc::Layout;

use buddy_system_allocator::{Heap, LockedHeapWithRescue};

const ORDER: usize = 32;
/// Grow in steps of at least this much, to keep the mapping work off the common path.
const GROW_STEP: u64 = 1 << 20;

#[global_allocator]
static HEAP: LockedHeapWithRescue<ORDER> = LockedHeapWithRescue::new(rescue);

fn rescue(heap: &mut Heap<ORDER>, layout: &Layout) {
    // Room for the request at its alignment, in a buddy block.
    let need = (layout.size().max(layout.align()) as u64).next_power_of_two() * 2;
    let bytes = need.max(GROW_STEP);
    let grown = if crate::arch::x86_64::cpu::in_ring3() {
        // Behind the MPK gate: ring 0 maps the pages (the privilege gate's PRIV_GROW_HEAP).
        let start = crate::arch::x86_64::gate::service(isounik_abi::gate::PRIV_GROW_HEAP, bytes);
        (start != 0).then(|| start..start + bytes.next_multiple_of(super::PAGE_SIZE))
    } else {
        super::grow_heap(bytes)
    };
    if let Some(range) = grown {
        // SAFETY: the range was just mapped writable for the heap and is used by nothing else.
        unsafe { heap.add_to_heap(range.start as usize, range.end as usize) };
    }
}

pub fn init(initial: u64) {
    let range = super::grow_heap(initial).unwrap_or_else(|| {
        crate::crash::fatal(format_args!(
            "not enough memory for the initial {initial}-byte heap"
        ))
    });
    // SAFETY: as in `rescue`.
    unsafe {
        HEAP.lock()
            .add_to_heap(range.start as usize, range.end as usize)
    };
}
