//! Reference-counted physical frames. A `Frame` owns one reference; page-cache pages, user
//! page-table entries and copy-on-write sharing all hold references, and the frame returns
//! to the allocator when the last one goes.

use core::sync::atomic::{AtomicU32, Ordering};

use isounik_abi::layout::PAGE_SIZE;
use isounik_paging::FrameAllocator;

use super::phys_to_virt;

/// One counter per physical frame (index = physical address / 4096), set up by `mm::init`.
static REFCOUNTS: spin::Once<&'static [AtomicU32]> = spin::Once::new();

pub(super) fn init_refcounts(counters: &'static [AtomicU32]) {
    REFCOUNTS.call_once(|| counters);
}

fn counter(phys: u64) -> &'static AtomicU32 {
    let table = REFCOUNTS.get().expect("frame refcounts initialised");
    &table[(phys / PAGE_SIZE) as usize]
}

/// A counted reference to a 4 KiB physical frame.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame {
    phys: u64,
}

/// Frames kept back from programs and file data for the libOS itself (its heap, page
/// tables): a program that exhausts memory gets ENOMEM or SIGSEGV while the kernel keeps
/// working. The larger of 4 MiB and 1/32 of memory.
pub(super) fn reserve(m: &super::Memory) -> usize {
    (m.frames.total_frames() / 32).max(1024)
}

/// Takes a frame for a program or for file data, leaving the kernel's reserve.
fn allocate_for_user() -> Option<u64> {
    super::with(|m| {
        if m.frames.free_frames() > reserve(m) {
            m.frames.allocate()
        } else {
            None
        }
    })
}

/// Whether memory for programs and file data is exhausted (down to the reserve).
pub(super) fn exhausted(m: &super::Memory) -> bool {
    m.frames.free_frames() <= reserve(m)
}

impl Frame {
    /// A new zero-filled frame, or `None` when memory for programs is exhausted.
    pub fn alloc_zeroed() -> Option<Frame> {
        let phys = allocate_for_user()?;
        counter(phys).store(1, Ordering::Relaxed);
        let frame = Frame { phys };
        frame.zero();
        Some(frame)
    }

    /// A new frame holding a copy of `self`.
    pub fn duplicate(&self) -> Option<Frame> {
        let phys = allocate_for_user()?;
        counter(phys).store(1, Ordering::Relaxed);
        // SAFETY: both frames are owned (the new one exclusively), distinct, and reached
        // through the direct map.
        unsafe {
            core::ptr::copy_nonoverlapping(
                phys_to_virt(self.phys) as *const u8,
                phys_to_virt(phys) as *mut u8,
                PAGE_SIZE as usize,
            )
        };
        Some(Frame { phys })
    }

    fn zero(&self) {
        // SAFETY: the frame is owned and reached through the direct map.
        unsafe {
            core::ptr::write_bytes(phys_to_virt(self.phys) as *mut u8, 0, PAGE_SIZE as usize)
        };
    }

    pub fn phys(&self) -> u64 {
        self.phys
    }

    /// How many references exist (this one included).
    pub fn ref_count(&self) -> u32 {
        counter(self.phys).load(Ordering::Relaxed)
    }

    pub fn is_unique(&self) -> bool {
        self.ref_count() == 1
    }

    /// The frame's bytes. Callers must not hold this across code that could write the
    /// frame through another reference (a user mapping writes only after copy-on-write).
    pub fn bytes(&self) -> &[u8; PAGE_SIZE as usize] {
        // SAFETY: the frame stays allocated while `self` lives; the direct map covers it.
        unsafe { &*(phys_to_virt(self.phys) as *const [u8; PAGE_SIZE as usize]) }
    }

    /// Mutable bytes, only for the sole owner.
    pub fn bytes_mut(&mut self) -> Option<&mut [u8; PAGE_SIZE as usize]> {
        if !self.is_unique() {
            return None;
        }
        // SAFETY: the only reference to the frame is `self`, borrowed mutably.
        Some(unsafe { &mut *(phys_to_virt(self.phys) as *mut [u8; PAGE_SIZE as usize]) })
    }

    /// Makes `self` the sole owner of its contents, copying if shared; `None` on OOM.
    pub fn make_unique(&mut self) -> Option<&mut [u8; PAGE_SIZE as usize]> {
        if !self.is_unique() {
            *self = self.duplicate()?;
        }
        self.bytes_mut()
    }

    /// Gives up ownership to a page-table entry; `from_raw` takes it back.
    pub fn into_raw(self) -> u64 {
        let phys = self.phys;
        core::mem::forget(self);
        phys
    }

    /// Takes back the reference a page-table entry held.
    ///
    /// # Safety
    /// `phys` must come from `into_raw` (or a reference counted by `clone_raw`), once.
    pub unsafe fn from_raw(phys: u64) -> Frame {
        Frame { phys }
    }

    /// A new reference to the frame a page-table entry holds, leaving the entry's own.
    /// Writes `bytes` at `offset` in the frame at `phys` if a single reference holds it
    /// (the one page-table entry that maps it: that mapping's private copy); false
    /// otherwise, and nothing is written.
    pub fn patch_if_sole_reference(phys: u64, offset: usize, bytes: &[u8]) -> bool {
        if counter(phys).load(Ordering::Relaxed) != 1
            || offset
                .checked_add(bytes.len())
                .is_none_or(|end| end > PAGE_SIZE as usize)
        {
            return false;
        }
        // SAFETY: the frame is allocated (a reference holds it) and reached through the
        // direct map; no other owner exists that could read or write it concurrently (one
        // CPU, and the caller owns the sole reference's page table), and the range is
        // inside the page.
        unsafe {
            core::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                (phys_to_virt(phys) as *mut u8).add(offset),
                bytes.len(),
            )
        };
        true
    }

    pub fn clone_raw(phys: u64) -> Frame {
        counter(phys).fetch_add(1, Ordering::Relaxed);
        Frame { phys }
    }
}

impl Clone for Frame {
    fn clone(&self) -> Self {
        counter(self.phys).fetch_add(1, Ordering::Relaxed);
        Frame { phys: self.phys }
    }
}

impl Frame {
    /// Gives up one reference to the frame at `phys` (ring 0: the counters live in
    /// supervisor memory), freeing it with the last.
    #[inline]
    pub fn release_raw(phys: u64) {
        if counter(phys).fetch_sub(1, Ordering::AcqRel) == 1 {
            super::with(|m| m.frames.deallocate(phys));
        }
    }
}

impl Drop for Frame {
    #[inline]
    fn drop(&mut self) {
        if crate::arch::x86_64::cpu::in_ring3() {
            defer_release(self.phys);
        } else {
            Frame::release_raw(self.phys);
        }
    }
}

/// libOS code behind the gate (a file's last page going with it): ring 0 does it at its
/// next entry.
#[cold]
#[inline(never)]
fn defer_release(phys: u64) {
    crate::arch::x86_64::gate::defer_frame_release(phys);
}
