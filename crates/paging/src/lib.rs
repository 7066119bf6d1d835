//! x86-64 4-level page tables with protection keys, and a physical frame allocator.
//!
//! Pure bookkeeping: physical memory is reached through the [`PhysMemory`] trait, so the same
//! code runs in the kernel (through its direct map) and in host unit tests (on a simulated
//! memory).
#![no_std]

#[cfg(test)]
extern crate std;

mod frames;
mod table;

pub use frames::{BitmapFrameAllocator, FrameError};
pub use table::{
    flags, Attrs, MapError, Mapping, PageSize, PageTable, PhysMemory, ENTRIES_PER_TABLE,
};

/// Size of a base page and of a page-table frame.
pub const PAGE_SIZE: u64 = 4096;

/// Hands out and takes back 4 KiB physical frames (physical addresses, page aligned).
pub trait FrameAllocator {
    fn allocate(&mut self) -> Option<u64>;
    fn deallocate(&mut self, frame: u64);
}

pub const fn is_page_aligned(addr: u64) -> bool {
    addr.is_multiple_of(PAGE_SIZE)
}

pub const fn is_canonical(addr: u64) -> bool {
    let top = addr >> 47;
    top == 0 || top == 0x1_ffff
}
