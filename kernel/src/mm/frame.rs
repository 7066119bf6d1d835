//! Reference-counted physical frames. A `Frame` owns one reference; page-cache pages, user
//! page-table entries and copy-on-write sharing all hold references, and the frame returns
//! to the allocator when the last one goes.

use core::sync::atomic::{AtomicU32, Ordering};

use isounik_abi::layout::{LIBOS_FILE_DATA_BASE, PAGE_SIZE};
use isounik_paging::FrameAllocator;

use super::phys_to_virt;

/// One counter per physical frame (index = physical address / 4096), set up by `mm::init`
/// (libOS memory, `LIBOS_FRAME_COUNTS_BASE`: ring-3 libOS code counts references too).
static REFCOUNTS: spin::Once<&'static [AtomicU32]> = spin::Once::new();

/// A counter's top bit: the frame holds file data and is mapped in the file-data window
/// (`LIBOS_FILE_DATA_BASE`) until its last reference goes. The low bits are the count.
const FILE_DATA: u32 = 1 << 31;
/// A file page mapped executable somewhere (sticky until freed): a write to the file
/// copies it first, so code never changes under a program (W^X).
const EXEC_MAPPED: u32 = 1 << 30;
/// A file page mapped by a MAP_SHARED mapping (sticky until freed): writes to the file go
/// into it in place, so every sharer sees them; an executable mapping takes a copy.
const SHARED_MAPPED: u32 = 1 << 29;
const COUNT: u32 = !(FILE_DATA | EXEC_MAPPED | SHARED_MAPPED);

pub(super) fn init_refcounts(counters: &'static [AtomicU32]) {
    REFCOUNTS.call_once(|| counters);
}

fn counter(phys: u64) -> &'static AtomicU32 {
    let table = REFCOUNTS.get().expect("frame refcounts initialised");
    &table[(phys / PAGE_SIZE) as usize]
}

/// The counter of `phys` if it names a frame of RAM (for addresses ring-3 code hands in).
fn counter_checked(phys: u64) -> Option<&'static AtomicU32> {
    let table = REFCOUNTS.get()?;
    if !phys.is_multiple_of(PAGE_SIZE) {
        return None;
    }
    table.get(usize::try_from(phys / PAGE_SIZE).ok()?)
}

/// Where the frame at `phys` is while it holds file data.
pub fn file_data_address(phys: u64) -> u64 {
    LIBOS_FILE_DATA_BASE + phys
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
        counter(self.phys).load(Ordering::Relaxed) & COUNT
    }

    /// Whether the frame holds (or held, while references from before remain) file data,
    /// reachable in the file-data window: never a program's private page, whatever its
    /// count says (`AddressSpace::handle_fault` copies it instead).
    pub fn is_file_data(&self) -> bool {
        counter(self.phys).load(Ordering::Relaxed) & FILE_DATA != 0
    }

    /// A new page of file data, zero-filled or a copy of `source` (a file page), mapped in
    /// the file-data window; `None` when memory is exhausted. Ring 3 asks ring 0 for it
    /// (`PRIV_FILE_PAGE`): it takes a frame and changes the page table.
    pub fn new_file_data(source: Option<&Frame>) -> Option<Frame> {
        if crate::arch::x86_64::cpu::in_ring3() {
            let phys = crate::arch::x86_64::gate::service(
                isounik_abi::gate::PRIV_FILE_PAGE,
                source.map_or(u64::MAX, |f| f.phys),
            );
            // SAFETY: the service hands over the one reference it made (0: none).
            return (phys != 0 && phys.is_multiple_of(PAGE_SIZE))
                .then(|| unsafe { Frame::from_raw(phys) });
        }
        let frame = match source {
            Some(page) => page.duplicate()?,
            None => Frame::alloc_zeroed()?,
        };
        // A mapping failure (no frame for a page table) drops `frame`: it was never file data.
        super::with(|m| m.map_file_data(frame.phys)).ok()?;
        counter(frame.phys).fetch_or(FILE_DATA, Ordering::Relaxed);
        Some(frame)
    }

    /// `PRIV_FILE_PAGE` for ring-3 code: `source` must be a live file page (anything else
    /// could be a program's memory or the libOS's own).
    pub fn new_file_data_for_ring3(source: u64) -> Result<Option<Frame>, ()> {
        if source == u64::MAX {
            return Ok(Frame::new_file_data(None));
        }
        let count = counter_checked(source).ok_or(())?.load(Ordering::Relaxed);
        if count & FILE_DATA == 0 || count & COUNT == 0 {
            return Err(());
        }
        // Ring 0 runs this with the caller (holding its reference) waiting.
        let page = Frame::clone_raw(source);
        Ok(Frame::new_file_data(Some(&page)))
    }

    /// The bytes of a file page through the file-data window (both rings).
    pub fn file_data(&self) -> &[u8; PAGE_SIZE as usize] {
        debug_assert!(self.is_file_data());
        // SAFETY: a file page stays mapped in the window while a reference (`self`) lives.
        unsafe { &*(file_data_address(self.phys) as *const [u8; PAGE_SIZE as usize]) }
    }

    /// Mutable bytes of a file page, copying it first if others hold it (copy-on-write),
    /// unless it is a MAP_SHARED page not mapped executable: those are written in place
    /// (the sharers must see it); `None` when memory is exhausted.
    pub fn file_data_mut(&mut self) -> Option<&mut [u8; PAGE_SIZE as usize]> {
        let c = counter(self.phys).load(Ordering::Relaxed);
        let in_place = c & SHARED_MAPPED != 0 && c & EXEC_MAPPED == 0;
        if c & COUNT != 1 && !in_place {
            *self = Frame::new_file_data(Some(self))?;
        }
        // SAFETY: as `file_data`; `self` is the only reference, or the frame is a shared
        // mapping's page whose every holder may write it (as in Linux, concurrent writers
        // of one file page are not serialised with each other's plain stores).
        Some(unsafe { &mut *(file_data_address(self.phys) as *mut [u8; PAGE_SIZE as usize]) })
    }

    /// Marks a file page mapped executable (see `EXEC_MAPPED`).
    pub fn mark_exec_mapped(&self) {
        counter(self.phys).fetch_or(EXEC_MAPPED, Ordering::Relaxed);
    }

    /// Marks a file page mapped by a MAP_SHARED mapping (see `SHARED_MAPPED`).
    pub fn mark_shared_mapped(&self) {
        counter(self.phys).fetch_or(SHARED_MAPPED, Ordering::Relaxed);
    }

    /// Whether a MAP_SHARED mapping holds the page (it may change at any time).
    pub fn is_shared_mapped(&self) -> bool {
        counter(self.phys).load(Ordering::Relaxed) & SHARED_MAPPED != 0
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
        // (A file page's counter has FILE_DATA set: never patched in place.)
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
        if counter(phys).fetch_sub(1, Ordering::AcqRel) & COUNT == 1 {
            Frame::free_released(phys);
        }
    }

    /// Gives the frame at `phys`, whose last reference has gone, back to the allocator
    /// (ring 0), taking it out of the file-data window if it was there.
    pub fn free_released(phys: u64) {
        let flags = counter(phys).swap(0, Ordering::Relaxed);
        super::with(|m| {
            if flags & FILE_DATA != 0 {
                m.unmap_file_data(phys);
            }
            m.frames.deallocate(phys)
        });
    }
}

impl Drop for Frame {
    #[inline]
    fn drop(&mut self) {
        if crate::arch::x86_64::cpu::in_ring3() {
            // Behind the gate: the count is libOS memory, but a last reference's frame goes
            // back to the allocator (and out of the window) in ring 0, at its next entry.
            if counter(self.phys).fetch_sub(1, Ordering::AcqRel) & COUNT == 1 {
                defer_free(self.phys);
            }
        } else {
            Frame::release_raw(self.phys);
        }
    }
}

#[cold]
#[inline(never)]
fn defer_free(phys: u64) {
    crate::arch::x86_64::gate::defer_frame_free(phys);
}
