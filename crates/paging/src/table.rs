//! Walking and editing 4-level page tables.
//!
//! Intermediate entries are always present, writable and user: the leaf alone decides the
//! rights of a page (effective rights are the AND of all levels, so permissive upper levels
//! give the leaf full control). TLB invalidation is the caller's job.

use crate::{is_canonical, FrameAllocator, PAGE_SIZE};

pub const ENTRIES_PER_TABLE: usize = 512;

/// Page-table entry bits.
pub mod flags {
    pub const PRESENT: u64 = 1 << 0;
    pub const WRITABLE: u64 = 1 << 1;
    pub const USER: u64 = 1 << 2;
    pub const WRITE_THROUGH: u64 = 1 << 3;
    pub const NO_CACHE: u64 = 1 << 4;
    pub const ACCESSED: u64 = 1 << 5;
    pub const DIRTY: u64 = 1 << 6;
    /// PS: a 2 MiB (level 2) or 1 GiB (level 3) leaf.
    pub const HUGE: u64 = 1 << 7;
    pub const GLOBAL: u64 = 1 << 8;
    pub const NO_EXECUTE: u64 = 1 << 63;
    /// Protection key: bits 59-62 of a leaf that maps a user page.
    pub const PKEY_SHIFT: u32 = 59;
    pub const PKEY_MASK: u64 = 0xf << PKEY_SHIFT;
    /// Physical address bits of an entry.
    pub const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

    pub const fn pkey(entry: u64) -> u8 {
        ((entry & PKEY_MASK) >> PKEY_SHIFT) as u8
    }
}

use flags::*;

/// Reaches the page-table frames in physical memory.
pub trait PhysMemory {
    /// The 512 entries of the page-table frame at physical address `frame`.
    fn table(&mut self, frame: u64) -> &mut [u64; ENTRIES_PER_TABLE];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageSize {
    Size4K,
    Size2M,
    Size1G,
}

impl PageSize {
    pub const fn bytes(self) -> u64 {
        match self {
            PageSize::Size4K => PAGE_SIZE,
            PageSize::Size2M => 2 << 20,
            PageSize::Size1G => 1 << 30,
        }
    }
    /// The table level that holds a leaf of this size (4 = PML4 ... 1 = PT).
    const fn leaf_level(self) -> usize {
        match self {
            PageSize::Size4K => 1,
            PageSize::Size2M => 2,
            PageSize::Size1G => 3,
        }
    }
}

/// The rights of a mapping, turned into entry bits by [`Attrs::leaf_flags`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attrs {
    pub writable: bool,
    pub executable: bool,
    /// A user page (U/S = 1): reachable from ring 3 and subject to protection keys.
    pub user: bool,
    /// Protection key of a user page (0-15).
    pub pkey: u8,
    /// Uncached (MMIO).
    pub uncached: bool,
    pub global: bool,
}

impl Attrs {
    /// Supervisor read-write data, not executable.
    pub const SUPERVISOR_DATA: Attrs = Attrs {
        writable: true,
        executable: false,
        user: false,
        pkey: 0,
        uncached: false,
        global: true,
    };

    /// User page with the given key, read-only and not executable; adjust with the fields.
    pub const fn user(pkey: u8) -> Attrs {
        Attrs {
            writable: false,
            executable: false,
            user: true,
            pkey,
            uncached: false,
            global: false,
        }
    }

    pub const fn leaf_flags(self, size: PageSize) -> u64 {
        let mut f = PRESENT;
        if self.writable {
            f |= WRITABLE;
        }
        if !self.executable {
            f |= NO_EXECUTE;
        }
        if self.user {
            f |= USER | ((self.pkey as u64 & 0xf) << PKEY_SHIFT);
        }
        if self.uncached {
            f |= NO_CACHE | WRITE_THROUGH;
        }
        if self.global {
            f |= GLOBAL;
        }
        if !matches!(size, PageSize::Size4K) {
            f |= HUGE;
        }
        f
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    NotAligned,
    NonCanonical,
    /// Something is already mapped there.
    AlreadyMapped,
    /// A larger page covers the address.
    HugePageInTheWay,
    OutOfFrames,
}

/// A leaf found by [`PageTable::translate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// Physical address the virtual address translates to (offset included).
    pub phys: u64,
    /// The leaf entry's flag bits (address bits cleared).
    pub flags: u64,
    pub size: PageSize,
}

const fn index(va: u64, level: usize) -> usize {
    ((va >> (12 + 9 * (level - 1))) & 0x1ff) as usize
}

const INTERMEDIATE: u64 = PRESENT | WRITABLE | USER;

/// `take_range` in the table at `level` covering `[base, base + 512 entries)`.
fn take_leaves(
    mem: &mut impl PhysMemory,
    table: u64,
    level: usize,
    base: u64,
    start: u64,
    end: u64,
    f: &mut impl FnMut(u64, u64),
) {
    let span = 1u64 << (12 + 9 * (level - 1));
    let first = (start.max(base) - base) / span;
    let last = (end.min(base + ENTRIES_PER_TABLE as u64 * span) - 1 - base) / span;
    for i in first as usize..=last as usize {
        let entry = mem.table(table)[i];
        if entry & PRESENT == 0 {
            continue;
        }
        let va = base + i as u64 * span;
        if level == 1 {
            mem.table(table)[i] = 0;
            f(va, entry);
        } else if entry & HUGE == 0 {
            take_leaves(mem, entry & ADDR_MASK, level - 1, va, start, end, f);
        }
    }
}

/// A 4-level page table, named by the physical address of its PML4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageTable {
    root: u64,
}

/// Entries tested together when walking a page table for present leaves.
const EMPTY_RUN: usize = 8;

/// Whether any of `entries` is present (one OR chain, one test).
fn any_present(entries: &[u64]) -> bool {
    entries.iter().fold(0, |all, e| all | e) & PRESENT != 0
}

/// Mirrors the first `count` entries of the table at `parent` into the new table at
/// `child`, writing every entry once (the child frame is not cleared first): 0 for each
/// empty one (runs of eight at a time), and for each present one 0 and then
/// `f(mem, index, entry)`, which writes the child's entry itself. If `f` fails, the
/// child's entries after it are cleared too, so the child stays walkable for its drop.
fn copy_entries<M: PhysMemory>(
    mem: &mut M,
    parent: u64,
    child: u64,
    count: usize,
    mut f: impl FnMut(&mut M, usize, u64) -> Result<(), MapError>,
) -> Result<(), MapError> {
    for run in (0..count).step_by(EMPTY_RUN) {
        if !any_present(&mem.table(parent)[run..run + EMPTY_RUN]) {
            mem.table(child)[run..run + EMPTY_RUN].copy_from_slice(&[0; EMPTY_RUN]);
            continue;
        }
        for i in run..run + EMPTY_RUN {
            let entry = mem.table(parent)[i];
            mem.table(child)[i] = 0;
            if entry & PRESENT == 0 {
                continue;
            }
            if let Err(e) = f(mem, i, entry) {
                mem.table(child)[i + 1..count].fill(0);
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Calls `f(mem, index, entry)` for every present entry among the first `count` of the
/// table at `table`, passing over runs of empty entries with one test each (most of a page
/// table is empty).
fn for_each_present<M: PhysMemory>(
    mem: &mut M,
    table: u64,
    count: usize,
    mut f: impl FnMut(&mut M, usize, u64),
) {
    for run in (0..count).step_by(EMPTY_RUN) {
        if !any_present(&mem.table(table)[run..run + EMPTY_RUN]) {
            continue;
        }
        for i in run..run + EMPTY_RUN {
            let entry = mem.table(table)[i];
            if entry & PRESENT != 0 {
                f(mem, i, entry);
            }
        }
    }
}

impl PageTable {
    /// A new, empty page table.
    pub fn new(
        mem: &mut impl PhysMemory,
        alloc: &mut impl FrameAllocator,
    ) -> Result<Self, MapError> {
        let root = alloc.allocate().ok_or(MapError::OutOfFrames)?;
        mem.table(root).fill(0);
        Ok(PageTable { root })
    }

    /// Adopts an existing PML4 frame.
    pub const fn from_root(root: u64) -> Self {
        PageTable { root }
    }

    pub const fn root(&self) -> u64 {
        self.root
    }

    /// Maps `va` to `pa` with a page of `size`.
    pub fn map(
        &mut self,
        mem: &mut impl PhysMemory,
        alloc: &mut impl FrameAllocator,
        va: u64,
        pa: u64,
        size: PageSize,
        attrs: Attrs,
    ) -> Result<(), MapError> {
        if !va.is_multiple_of(size.bytes())
            || !pa.is_multiple_of(size.bytes())
            || pa & !ADDR_MASK != 0
        {
            return Err(MapError::NotAligned);
        }
        if !is_canonical(va) {
            return Err(MapError::NonCanonical);
        }
        let mut table = self.root;
        for level in (size.leaf_level() + 1..=4).rev() {
            let i = index(va, level);
            let entry = mem.table(table)[i];
            table = if entry & PRESENT == 0 {
                let next = alloc.allocate().ok_or(MapError::OutOfFrames)?;
                mem.table(next).fill(0);
                mem.table(table)[i] = next | INTERMEDIATE;
                next
            } else if entry & HUGE != 0 {
                return Err(MapError::HugePageInTheWay);
            } else {
                entry & ADDR_MASK
            };
        }
        let slot = &mut mem.table(table)[index(va, size.leaf_level())];
        if *slot & PRESENT != 0 {
            return Err(MapError::AlreadyMapped);
        }
        *slot = pa | attrs.leaf_flags(size);
        Ok(())
    }

    /// The leaf entry slot for `va`: (table frame, index, level), if the walk reaches a leaf.
    fn leaf_slot(&self, mem: &mut impl PhysMemory, va: u64) -> Option<(u64, usize, usize)> {
        if !is_canonical(va) {
            return None;
        }
        let mut table = self.root;
        for level in (1..=4).rev() {
            let i = index(va, level);
            let entry = mem.table(table)[i];
            if entry & PRESENT == 0 {
                return None;
            }
            if level == 1 || (entry & HUGE != 0 && level <= 3) {
                return Some((table, i, level));
            }
            table = entry & ADDR_MASK;
        }
        None
    }

    /// The physical address and rights `va` translates to.
    pub fn translate(&self, mem: &mut impl PhysMemory, va: u64) -> Option<Mapping> {
        let (table, i, level) = self.leaf_slot(mem, va)?;
        let entry = mem.table(table)[i];
        let size = match level {
            1 => PageSize::Size4K,
            2 => PageSize::Size2M,
            _ => PageSize::Size1G,
        };
        let base = entry & ADDR_MASK & !(size.bytes() - 1);
        Some(Mapping {
            phys: base + (va & (size.bytes() - 1)),
            flags: entry & !ADDR_MASK,
            size,
        })
    }

    /// Removes the 4 KiB mapping at `va`; returns the frame it mapped. Huge pages are not
    /// split: unmapping inside one is refused (`None`).
    pub fn unmap(&mut self, mem: &mut impl PhysMemory, va: u64) -> Option<u64> {
        let (table, i, level) = self.leaf_slot(mem, va & !(PAGE_SIZE - 1))?;
        if level != 1 {
            return None;
        }
        let entry = core::mem::replace(&mut mem.table(table)[i], 0);
        Some(entry & ADDR_MASK)
    }

    /// Rewrites the rights of the leaf at `va` (any size), keeping its address.
    pub fn protect(
        &mut self,
        mem: &mut impl PhysMemory,
        va: u64,
        attrs: Attrs,
    ) -> Result<(), MapError> {
        let (table, i, level) = self.leaf_slot(mem, va).ok_or(MapError::NotAligned)?;
        let size = match level {
            1 => PageSize::Size4K,
            2 => PageSize::Size2M,
            _ => PageSize::Size1G,
        };
        let slot = &mut mem.table(table)[i];
        *slot = (*slot & ADDR_MASK) | attrs.leaf_flags(size);
        Ok(())
    }

    /// A new table whose upper half (the libOS half) is `from`'s and whose lower half is
    /// empty, written entry by entry (one store each, no clearing of the frame first).
    pub fn new_sharing_upper_half(
        mem: &mut impl PhysMemory,
        alloc: &mut impl FrameAllocator,
        from: &PageTable,
    ) -> Result<Self, MapError> {
        let root = alloc.allocate().ok_or(MapError::OutOfFrames)?;
        for i in 0..ENTRIES_PER_TABLE {
            let entry = if i < ENTRIES_PER_TABLE / 2 {
                0
            } else {
                mem.table(from.root)[i]
            };
            mem.table(root)[i] = entry;
        }
        Ok(PageTable { root })
    }

    /// Makes this table's upper half (PML4 entries 256-511, the libOS half) the same as
    /// `from`'s: both then share every lower-level table of that half.
    pub fn share_upper_half(&mut self, mem: &mut impl PhysMemory, from: &PageTable) {
        let mut upper = [0u64; ENTRIES_PER_TABLE / 2];
        upper.copy_from_slice(&mem.table(from.root)[256..]);
        mem.table(self.root)[256..].copy_from_slice(&upper);
    }

    /// Empties the lower half (the application's): calls `leaf(va, entry)` for every present
    /// 4 KiB leaf (huge leaves are not used there), then frees every lower-half table frame.
    pub fn clear_lower_half(
        &mut self,
        mem: &mut impl PhysMemory,
        alloc: &mut impl FrameAllocator,
        mut leaf: impl FnMut(u64, u64),
    ) {
        let root = self.root;
        for_each_present(mem, root, ENTRIES_PER_TABLE / 2, |mem, i4, e4| {
            mem.table(root)[i4] = 0;
            let pdpt = e4 & ADDR_MASK;
            for_each_present(mem, pdpt, ENTRIES_PER_TABLE, |mem, i3, e3| {
                if e3 & HUGE != 0 {
                    return;
                }
                let pd = e3 & ADDR_MASK;
                for_each_present(mem, pd, ENTRIES_PER_TABLE, |mem, i2, e2| {
                    if e2 & HUGE != 0 {
                        return;
                    }
                    let pt = e2 & ADDR_MASK;
                    for_each_present(mem, pt, ENTRIES_PER_TABLE, |_, i1, e1| {
                        let va = ((i4 as u64) << 39)
                            | ((i3 as u64) << 30)
                            | ((i2 as u64) << 21)
                            | ((i1 as u64) << 12);
                        leaf(va, e1);
                    });
                    alloc.deallocate(pt);
                });
                alloc.deallocate(pd);
            });
            alloc.deallocate(pdpt);
        });
    }

    /// How many 4 KiB pages the lower half (the application's) maps: its resident set, as
    /// the out-of-memory killer weighs processes.
    pub fn count_lower_half(&self, mem: &mut impl PhysMemory) -> usize {
        let mut count = 0;
        for_each_present(mem, self.root, ENTRIES_PER_TABLE / 2, |mem, _, e4| {
            for_each_present(mem, e4 & ADDR_MASK, ENTRIES_PER_TABLE, |mem, _, e3| {
                if e3 & HUGE != 0 {
                    return;
                }
                for_each_present(mem, e3 & ADDR_MASK, ENTRIES_PER_TABLE, |mem, _, e2| {
                    if e2 & HUGE != 0 {
                        return;
                    }
                    for_each_present(mem, e2 & ADDR_MASK, ENTRIES_PER_TABLE, |_, _, _| {
                        count += 1;
                    });
                });
            });
        });
        count
    }

    /// Copies the lower half of this table into `child` (which must have an empty lower
    /// half), for fork: every present leaf is passed to `share(va, entry)`, which returns the
    /// entry to keep here and the entry to give the child (e.g. both read-only for
    /// copy-on-write, the frame's count raised by one).
    pub fn copy_lower_half(
        &mut self,
        child: &mut PageTable,
        mem: &mut impl PhysMemory,
        alloc: &mut impl FrameAllocator,
        mut share: impl FnMut(u64, u64) -> (u64, u64),
    ) -> Result<(), MapError> {
        let child_root = child.root;
        copy_entries(
            mem,
            self.root,
            child_root,
            ENTRIES_PER_TABLE / 2,
            |mem, i4, e4| {
                let child_pdpt = alloc.allocate().ok_or(MapError::OutOfFrames)?;
                mem.table(child_root)[i4] = child_pdpt | INTERMEDIATE;
                copy_entries(
                    mem,
                    e4 & ADDR_MASK,
                    child_pdpt,
                    ENTRIES_PER_TABLE,
                    |mem, i3, e3| {
                        if e3 & HUGE != 0 {
                            return Ok(());
                        }
                        let child_pd = alloc.allocate().ok_or(MapError::OutOfFrames)?;
                        mem.table(child_pdpt)[i3] = child_pd | INTERMEDIATE;
                        copy_entries(
                            mem,
                            e3 & ADDR_MASK,
                            child_pd,
                            ENTRIES_PER_TABLE,
                            |mem, i2, e2| {
                                if e2 & HUGE != 0 {
                                    return Ok(());
                                }
                                let child_pt = alloc.allocate().ok_or(MapError::OutOfFrames)?;
                                mem.table(child_pd)[i2] = child_pt | INTERMEDIATE;
                                let pt = e2 & ADDR_MASK;
                                copy_entries(mem, pt, child_pt, ENTRIES_PER_TABLE, |mem, i1, e1| {
                                    let va = ((i4 as u64) << 39)
                                        | ((i3 as u64) << 30)
                                        | ((i2 as u64) << 21)
                                        | ((i1 as u64) << 12);
                                    let (mine, theirs) = share(va, e1);
                                    mem.table(pt)[i1] = mine;
                                    mem.table(child_pt)[i1] = theirs;
                                    Ok(())
                                })
                            },
                        )
                    },
                )
            },
        )
    }

    /// The raw leaf entry for the 4 KiB page at `va`, if its tables exist (present or not).
    pub fn entry(&self, mem: &mut impl PhysMemory, va: u64) -> Option<u64> {
        let (table, i, level) = self.leaf_slot(mem, va)?;
        (level == 1).then(|| mem.table(table)[i])
    }

    /// Replaces the 4 KiB leaf at `va` with `entry` (creating tables as needed); returns the
    /// old entry (0 if none). The caller owns whatever frame either entry refers to.
    pub fn set_entry(
        &mut self,
        mem: &mut impl PhysMemory,
        alloc: &mut impl FrameAllocator,
        va: u64,
        entry: u64,
    ) -> Result<u64, MapError> {
        if !is_canonical(va) || !va.is_multiple_of(PAGE_SIZE) {
            return Err(MapError::NotAligned);
        }
        let mut table = self.root;
        for level in (2..=4).rev() {
            let i = index(va, level);
            let e = mem.table(table)[i];
            table = if e & PRESENT == 0 {
                let next = alloc.allocate().ok_or(MapError::OutOfFrames)?;
                mem.table(next).fill(0);
                mem.table(table)[i] = next | INTERMEDIATE;
                next
            } else if e & HUGE != 0 {
                return Err(MapError::HugePageInTheWay);
            } else {
                e & ADDR_MASK
            };
        }
        Ok(core::mem::replace(
            &mut mem.table(table)[index(va, 1)],
            entry,
        ))
    }

    /// Clears the 4 KiB leaf entry for `va` and returns what it held (present or not); 0 when
    /// no page table reaches `va` (nothing is allocated to find out) or a huge page covers it.
    pub fn take_entry(&mut self, mem: &mut impl PhysMemory, va: u64) -> u64 {
        if !is_canonical(va) {
            return 0;
        }
        let mut table = self.root;
        for level in (2..=4).rev() {
            let e = mem.table(table)[index(va, level)];
            if e & PRESENT == 0 || e & HUGE != 0 {
                return 0;
            }
            table = e & ADDR_MASK;
        }
        core::mem::replace(&mut mem.table(table)[index(va, 1)], 0)
    }

    /// Clears every present 4 KiB leaf in `[start, end)` of the lower half and hands each
    /// (its address, the entry it held) to `f`. Only tables that exist are walked, so a range
    /// never touched costs one look per missing table instead of one walk per page (munmap
    /// of a large region). Huge pages and the tables themselves are left as they are.
    pub fn take_range(
        &mut self,
        mem: &mut impl PhysMemory,
        start: u64,
        end: u64,
        mut f: impl FnMut(u64, u64),
    ) {
        const LOWER_HALF_END: u64 = 1 << 47;
        let end = end.min(LOWER_HALF_END);
        if start < end {
            take_leaves(mem, self.root, 4, 0, start, end, &mut f);
        }
    }

    /// Pre-creates the PML4 entries in `[first, last]` so that later mappings there are seen
    /// by every table that shares this upper half.
    pub fn populate_pml4(
        &mut self,
        mem: &mut impl PhysMemory,
        alloc: &mut impl FrameAllocator,
        first: usize,
        last: usize,
    ) -> Result<(), MapError> {
        for i in first..=last {
            if mem.table(self.root)[i] & PRESENT == 0 {
                let next = alloc.allocate().ok_or(MapError::OutOfFrames)?;
                mem.table(next).fill(0);
                mem.table(self.root)[i] = next | INTERMEDIATE;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BitmapFrameAllocator;
    use std::boxed::Box;
    use std::collections::BTreeMap;
    use std::vec;
    use std::vec::Vec;

    /// Simulated physical memory: page-table frames materialise on first touch.
    #[derive(Default)]
    struct FakeMemory(BTreeMap<u64, Box<[u64; ENTRIES_PER_TABLE]>>);

    impl PhysMemory for FakeMemory {
        fn table(&mut self, frame: u64) -> &mut [u64; ENTRIES_PER_TABLE] {
            assert_eq!(frame % PAGE_SIZE, 0);
            self.0
                .entry(frame)
                .or_insert_with(|| Box::new([0xdead_beef; ENTRIES_PER_TABLE]))
        }
    }

    fn setup(bits: &mut [u64]) -> (FakeMemory, BitmapFrameAllocator<'_>) {
        let mut alloc = BitmapFrameAllocator::new(bits, 0x100_0000);
        alloc.add_free_range(0x100_0000, 0x100_0000 + 1024 * PAGE_SIZE);
        (FakeMemory::default(), alloc)
    }

    #[test]
    fn map_translate_unmap_4k_with_pkey() {
        let mut bits = vec![0u64; 16];
        let (mut mem, mut alloc) = setup(&mut bits);
        let mut pt = PageTable::new(&mut mem, &mut alloc).unwrap();
        let va = 0xffff_c000_0000_3000;
        let attrs = Attrs {
            writable: true,
            ..Attrs::user(1)
        };
        pt.map(&mut mem, &mut alloc, va, 0x5000, PageSize::Size4K, attrs)
            .unwrap();
        let m = pt.translate(&mut mem, va + 0x123).unwrap();
        assert_eq!(m.phys, 0x5123);
        assert_eq!(flags::pkey(m.flags), 1);
        assert!(m.flags & USER != 0 && m.flags & WRITABLE != 0 && m.flags & NO_EXECUTE != 0);
        assert_eq!(pt.translate(&mut mem, va + PAGE_SIZE), None);
        assert_eq!(
            pt.map(&mut mem, &mut alloc, va, 0x6000, PageSize::Size4K, attrs),
            Err(MapError::AlreadyMapped)
        );
        assert_eq!(pt.unmap(&mut mem, va), Some(0x5000));
        assert_eq!(pt.translate(&mut mem, va), None);
        assert_eq!(pt.unmap(&mut mem, va), None);
    }

    #[test]
    fn huge_pages_and_their_conflicts() {
        let mut bits = vec![0u64; 16];
        let (mut mem, mut alloc) = setup(&mut bits);
        let mut pt = PageTable::new(&mut mem, &mut alloc).unwrap();
        let base = 0xffff_8000_0000_0000;
        pt.map(
            &mut mem,
            &mut alloc,
            base,
            0,
            PageSize::Size1G,
            Attrs::SUPERVISOR_DATA,
        )
        .unwrap();
        pt.map(
            &mut mem,
            &mut alloc,
            base + (1 << 30),
            1 << 30,
            PageSize::Size2M,
            Attrs::SUPERVISOR_DATA,
        )
        .unwrap();
        let m = pt.translate(&mut mem, base + 0x1234_5678).unwrap();
        assert_eq!((m.phys, m.size), (0x1234_5678, PageSize::Size1G));
        assert!(m.flags & USER == 0 && m.flags & HUGE != 0);
        let m = pt
            .translate(&mut mem, base + (1 << 30) + 0x1f_ffff)
            .unwrap();
        assert_eq!((m.phys, m.size), ((1 << 30) + 0x1f_ffff, PageSize::Size2M));
        assert_eq!(
            pt.map(
                &mut mem,
                &mut alloc,
                base + 0x1000,
                0,
                PageSize::Size4K,
                Attrs::SUPERVISOR_DATA
            ),
            Err(MapError::HugePageInTheWay)
        );
        assert_eq!(pt.unmap(&mut mem, base), None, "huge pages are not split");
        assert_eq!(
            pt.map(
                &mut mem,
                &mut alloc,
                base + 0x1000,
                0,
                PageSize::Size2M,
                Attrs::SUPERVISOR_DATA
            ),
            Err(MapError::NotAligned)
        );
    }

    #[test]
    fn rejects_non_canonical_and_counts_table_frames() {
        let mut bits = vec![0u64; 16];
        let (mut mem, mut alloc) = setup(&mut bits);
        let mut pt = PageTable::new(&mut mem, &mut alloc).unwrap();
        let free = alloc.free_frames();
        assert_eq!(
            pt.map(
                &mut mem,
                &mut alloc,
                0x0000_8000_0000_0000,
                0,
                PageSize::Size4K,
                Attrs::user(0)
            ),
            Err(MapError::NonCanonical)
        );
        pt.map(
            &mut mem,
            &mut alloc,
            0x40_0000,
            0x1000,
            PageSize::Size4K,
            Attrs::user(0),
        )
        .unwrap();
        assert_eq!(
            free - alloc.free_frames(),
            3,
            "PDPT, PD and PT were created"
        );
        pt.map(
            &mut mem,
            &mut alloc,
            0x40_1000,
            0x2000,
            PageSize::Size4K,
            Attrs::user(0),
        )
        .unwrap();
        assert_eq!(free - alloc.free_frames(), 3, "the second page reuses them");
    }

    #[test]
    fn protect_changes_rights_and_keeps_address() {
        let mut bits = vec![0u64; 16];
        let (mut mem, mut alloc) = setup(&mut bits);
        let mut pt = PageTable::new(&mut mem, &mut alloc).unwrap();
        let va = 0x7000_0000;
        pt.map(
            &mut mem,
            &mut alloc,
            va,
            0x9000,
            PageSize::Size4K,
            Attrs::user(0),
        )
        .unwrap();
        let rx = Attrs {
            executable: true,
            ..Attrs::user(2)
        };
        pt.protect(&mut mem, va, rx).unwrap();
        let m = pt.translate(&mut mem, va).unwrap();
        assert_eq!(m.phys, 0x9000);
        assert_eq!(flags::pkey(m.flags), 2);
        assert!(m.flags & NO_EXECUTE == 0 && m.flags & WRITABLE == 0);
        assert_eq!(
            pt.protect(&mut mem, va + PAGE_SIZE, rx),
            Err(MapError::NotAligned)
        );
    }

    #[test]
    fn upper_half_is_shared_between_tables() {
        let mut bits = vec![0u64; 16];
        let (mut mem, mut alloc) = setup(&mut bits);
        let mut kernel = PageTable::new(&mut mem, &mut alloc).unwrap();
        kernel
            .populate_pml4(&mut mem, &mut alloc, 256, 511)
            .unwrap();
        let mut process = PageTable::new(&mut mem, &mut alloc).unwrap();
        process.share_upper_half(&mut mem, &kernel);
        // A libOS mapping added later through the kernel table shows up in the process's.
        let va = 0xffff_c000_0000_0000;
        kernel
            .map(
                &mut mem,
                &mut alloc,
                va,
                0x8000,
                PageSize::Size4K,
                Attrs::user(1),
            )
            .unwrap();
        assert_eq!(process.translate(&mut mem, va).unwrap().phys, 0x8000);
        // The lower half stays private.
        process
            .map(
                &mut mem,
                &mut alloc,
                0x40_0000,
                0x1000,
                PageSize::Size4K,
                Attrs::user(0),
            )
            .unwrap();
        assert_eq!(kernel.translate(&mut mem, 0x40_0000), None);
    }

    #[test]
    fn take_range_clears_the_present_leaves_of_a_range_only() {
        let mut bits = vec![0u64; 16];
        let (mut mem, mut alloc) = setup(&mut bits);
        let mut pt = PageTable::new(&mut mem, &mut alloc).unwrap();
        let pages = [
            0x40_0000u64,
            0x40_1000,
            0x60_0000,
            0x3f_ffff_f000,
            0x40_0000_0000,
            0x7fff_ffff_f000,
        ];
        for (i, va) in pages.iter().enumerate() {
            let phys = 0x10_0000 + i as u64 * 0x1000;
            pt.map(
                &mut mem,
                &mut alloc,
                *va,
                phys,
                PageSize::Size4K,
                Attrs::user(0),
            )
            .unwrap();
        }
        let free = alloc.free_frames();
        let mut seen = Vec::new();
        // From the middle of the first page to just past the fourth: pages 0-3.
        pt.take_range(&mut mem, 0x40_0800, 0x3f_ffff_f001, |va, e| {
            seen.push((va, e & ADDR_MASK))
        });
        assert_eq!(
            seen,
            vec![
                (0x40_0000, 0x10_0000),
                (0x40_1000, 0x10_1000),
                (0x60_0000, 0x10_2000),
                (0x3f_ffff_f000, 0x10_3000)
            ]
        );
        for va in &pages[..4] {
            assert_eq!(pt.translate(&mut mem, *va), None, "{va:#x} still mapped");
        }
        for va in &pages[4..] {
            assert!(pt.translate(&mut mem, *va).is_some(), "{va:#x} lost");
        }
        // Nothing left there, an empty range, a range past the lower half: nothing seen,
        // nothing allocated or freed.
        let mut again = 0;
        pt.take_range(&mut mem, 0x40_0000, 0x40_0000_0000, |_, _| again += 1);
        pt.take_range(&mut mem, 0x7fff_ffff_f000, 0x7fff_ffff_f000, |_, _| {
            again += 1
        });
        pt.take_range(&mut mem, 0x8000_0000_0000, u64::MAX, |_, _| again += 1);
        assert_eq!(again, 0);
        assert_eq!(alloc.free_frames(), free);
        // The rest of the lower half: the last two pages.
        let mut rest = Vec::new();
        pt.take_range(&mut mem, 0, u64::MAX, |va, _| rest.push(va));
        assert_eq!(rest, vec![0x40_0000_0000, 0x7fff_ffff_f000]);
    }

    #[test]
    fn clear_lower_half_visits_leaves_and_frees_tables() {
        let mut bits = vec![0u64; 16];
        let (mut mem, mut alloc) = setup(&mut bits);
        let mut pt = PageTable::new(&mut mem, &mut alloc).unwrap();
        pt.populate_pml4(&mut mem, &mut alloc, 256, 511).unwrap();
        let free = alloc.free_frames();
        pt.map(
            &mut mem,
            &mut alloc,
            0x40_0000,
            0x1000,
            PageSize::Size4K,
            Attrs::user(0),
        )
        .unwrap();
        pt.map(
            &mut mem,
            &mut alloc,
            0x7fff_f000_0000,
            0x2000,
            PageSize::Size4K,
            Attrs::user(0),
        )
        .unwrap();
        let old = pt
            .set_entry(&mut mem, &mut alloc, 0x40_1000, 0x3000 | PRESENT | USER)
            .unwrap();
        assert_eq!(old, 0);
        assert_eq!(pt.entry(&mut mem, 0x40_1000), Some(0x3000 | PRESENT | USER));
        // take_entry clears a leaf and gives it back, and allocates nothing where no page
        // table reaches.
        let before = alloc.free_frames();
        assert_eq!(pt.take_entry(&mut mem, 0x40_1000), 0x3000 | PRESENT | USER);
        assert_eq!(pt.take_entry(&mut mem, 0x40_1000), 0);
        assert_eq!(pt.take_entry(&mut mem, 0x5555_0000_0000), 0);
        assert_eq!(pt.take_entry(&mut mem, 0x8000_0000_0000), 0);
        assert_eq!(alloc.free_frames(), before);
        pt.set_entry(&mut mem, &mut alloc, 0x40_1000, 0x3000 | PRESENT | USER)
            .unwrap();
        pt.map(
            &mut mem,
            &mut alloc,
            0xffff_c000_0000_0000,
            0x4000,
            PageSize::Size4K,
            Attrs::user(1),
        )
        .unwrap();
        let mut seen = std::vec::Vec::new();
        pt.clear_lower_half(&mut mem, &mut alloc, |va, e| seen.push((va, e & ADDR_MASK)));
        seen.sort();
        assert_eq!(
            seen,
            [
                (0x40_0000, 0x1000),
                (0x40_1000, 0x3000),
                (0x7fff_f000_0000, 0x2000)
            ]
        );
        assert_eq!(pt.translate(&mut mem, 0x40_0000), None);
        assert!(
            pt.translate(&mut mem, 0xffff_c000_0000_0000).is_some(),
            "upper half untouched"
        );
        // Only the upper-half mapping's PD and PT remain allocated beyond the start.
        assert_eq!(free - alloc.free_frames(), 2);
    }

    #[test]
    fn copy_lower_half_shares_leaves_through_the_callback() {
        let mut bits = vec![0u64; 16];
        let (mut mem, mut alloc) = setup(&mut bits);
        let mut parent = PageTable::new(&mut mem, &mut alloc).unwrap();
        let rw = Attrs {
            writable: true,
            ..Attrs::user(0)
        };
        parent
            .map(
                &mut mem,
                &mut alloc,
                0x40_0000,
                0x1000,
                PageSize::Size4K,
                rw,
            )
            .unwrap();
        parent
            .map(
                &mut mem,
                &mut alloc,
                0x7fff_0000_0000,
                0x2000,
                PageSize::Size4K,
                rw,
            )
            .unwrap();
        let mut child = PageTable::new(&mut mem, &mut alloc).unwrap();
        let mut seen = 0;
        parent
            .copy_lower_half(&mut child, &mut mem, &mut alloc, |_, e| {
                seen += 1;
                (e & !WRITABLE, e & !WRITABLE)
            })
            .unwrap();
        assert_eq!(seen, 2);
        assert_eq!(parent.count_lower_half(&mut mem), 2);
        assert_eq!(child.count_lower_half(&mut mem), 2);
        for t in [&parent, &child] {
            let m = t.translate(&mut mem, 0x40_0000).unwrap();
            assert_eq!(m.phys, 0x1000);
            assert_eq!(m.flags & WRITABLE, 0);
            assert_eq!(
                t.translate(&mut mem, 0x7fff_0000_0000).unwrap().phys,
                0x2000
            );
        }
        // Separate tables: unmapping in the child leaves the parent alone.
        assert_eq!(child.unmap(&mut mem, 0x40_0000), Some(0x1000));
        assert!(parent.translate(&mut mem, 0x40_0000).is_some());
        assert_eq!(child.count_lower_half(&mut mem), 1);
        assert_eq!(parent.count_lower_half(&mut mem), 2);
    }

    #[test]
    fn copy_lower_half_out_of_frames_leaves_a_walkable_child() {
        // Leaves in many page tables; the allocator runs dry part way through the copy.
        for frames_left in 0..8 {
            let mut bits = vec![0u64; 16];
            let (mut mem, mut alloc) = setup(&mut bits);
            let mut parent = PageTable::new(&mut mem, &mut alloc).unwrap();
            let attrs = Attrs::user(0);
            for i in 0..6u64 {
                let va = 0x40_0000 + i * (1 << 30) + i * (1 << 21);
                parent
                    .map(&mut mem, &mut alloc, va, 0x1000, PageSize::Size4K, attrs)
                    .unwrap();
            }
            let mut child = PageTable::new(&mut mem, &mut alloc).unwrap();
            let mut spare = Vec::new();
            while alloc.free_frames() > frames_left {
                spare.push(alloc.allocate().unwrap());
            }
            let result = parent.copy_lower_half(&mut child, &mut mem, &mut alloc, |_, e| (e, e));
            // Whatever was copied is a proper table: only the leaves the parent has.
            let copied = child.count_lower_half(&mut mem);
            assert!(copied <= 6, "{frames_left} frames: {copied} leaves");
            assert_eq!(
                result.is_ok(),
                copied == 6,
                "{frames_left} frames: {result:?}"
            );
            let mut seen = 0;
            child.clear_lower_half(&mut mem, &mut alloc, |_, e| {
                assert_eq!(e & ADDR_MASK, 0x1000);
                seen += 1;
            });
            assert_eq!(seen, copied);
        }
    }

    #[test]
    fn a_new_table_sharing_the_upper_half_has_an_empty_lower_half() {
        let mut bits = vec![0u64; 16];
        let (mut mem, mut alloc) = setup(&mut bits);
        let mut kernel = PageTable::new(&mut mem, &mut alloc).unwrap();
        let va = 0xffff_c000_0000_3000;
        kernel
            .map(
                &mut mem,
                &mut alloc,
                va,
                0x5000,
                PageSize::Size4K,
                Attrs::user(1),
            )
            .unwrap();
        // Frames come back dirty (FakeMemory fills them with a pattern).
        let t = PageTable::new_sharing_upper_half(&mut mem, &mut alloc, &kernel).unwrap();
        assert_eq!(t.translate(&mut mem, va).unwrap().phys, 0x5000);
        assert_eq!(t.count_lower_half(&mut mem), 0);
        assert_eq!(t.translate(&mut mem, 0x40_0000), None);
    }

    #[test]
    fn supervisor_and_uncached_flags() {
        let f = Attrs {
            uncached: true,
            ..Attrs::SUPERVISOR_DATA
        }
        .leaf_flags(PageSize::Size4K);
        assert!(f & USER == 0 && f & NO_CACHE != 0 && f & PKEY_MASK == 0 && f & GLOBAL != 0);
        let f = Attrs {
            executable: true,
            ..Attrs::user(15)
        }
        .leaf_flags(PageSize::Size2M);
        assert_eq!(flags::pkey(f), 15);
        assert!(f & HUGE != 0 && f & NO_EXECUTE == 0);
    }
}
