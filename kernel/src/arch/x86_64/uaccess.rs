//! Copies between kernel memory and user addresses that may fault. A fault inside the copy
//! instruction is resumed at a fixup (through the exception table) and reported as an
//! error: the kernel never dies because a program passed a bad pointer.

use core::arch::asm;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use isounik_abi::layout::USER_END;

/// Where and why the last user copy faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserFault {
    pub address: u64,
    pub error: u64,
}

static FAULT_ADDRESS: AtomicU64 = AtomicU64::new(0);
static FAULT_ERROR: AtomicU64 = AtomicU64::new(0);

/// Called by the page-fault handler before resuming at the fixup.
pub fn record_fault(address: u64, error: u64) {
    FAULT_ADDRESS.store(address, Ordering::Relaxed);
    FAULT_ERROR.store(error, Ordering::Relaxed);
}

fn last_fault() -> UserFault {
    UserFault {
        address: FAULT_ADDRESS.load(Ordering::Relaxed),
        error: FAULT_ERROR.load(Ordering::Relaxed),
    }
}

/// Whether `[addr, addr + len)` lies in the application half. The libOS must never read or
/// write its own memory on a caller's behalf (ARCHITECTURE.md §2).
pub fn is_user_range(addr: u64, len: usize) -> bool {
    addr.checked_add(len as u64)
        .is_some_and(|end| end <= USER_END)
}

/// `rep movsb` with an exception-table entry; returns the bytes not copied (0 = success).
///
/// # Safety
/// `dst`/`src` must be valid kernel memory for `len` bytes, except the user side, which may
/// fault (and is then reported, not fatal).
unsafe fn copy_with_fixup(dst: *mut u8, src: *const u8, len: usize) -> usize {
    let left: usize;
    // SAFETY: forwarded contract; a fault at label 2 resumes at label 3 with rcx = bytes left.
    unsafe {
        asm!(
            "2: rep movsb",
            "3:",
            ".pushsection .extable, \"a\"",
            ".balign 8",
            ".quad 2b, 3b",
            ".popsection",
            inout("rcx") len => left,
            inout("rdi") dst => _,
            inout("rsi") src => _,
            options(nostack, preserves_flags),
        );
    }
    left
}

/// Copies `dst.len()` bytes from user address `src`.
pub fn copy_from_user(dst: &mut [u8], src: u64) -> Result<(), UserFault> {
    if !is_user_range(src, dst.len()) {
        return Err(UserFault {
            address: src,
            error: 0,
        });
    }
    // SAFETY: `dst` is a valid kernel buffer; the source is a lower-half address whose
    // faults are caught by the exception table.
    match unsafe { copy_with_fixup(dst.as_mut_ptr(), src as *const u8, dst.len()) } {
        0 => Ok(()),
        _ => Err(last_fault()),
    }
}

/// Set while `copy_from_user_nofault` runs (libOS memory; one CPU, and a thread inside
/// the gate is not preempted): ring 0 then fails a fault in the copy instead of paging.
static NO_PAGING: AtomicBool = AtomicBool::new(false);

/// Whether ring 0 may page in memory for a faulting copy (`copy_from_user_nofault` says
/// no: its caller may hold locks that paging needs, such as the file system's).
pub fn paging_allowed() -> bool {
    !NO_PAGING.load(Ordering::Relaxed)
}

/// Copies from user address `src` as far as the memory there is present and readable,
/// paging nothing in; returns the bytes copied. For copies made with the file system
/// locked (straight into a file's page): the caller goes the slow way for the rest.
pub fn copy_from_user_nofault(dst: &mut [u8], src: u64) -> usize {
    if !is_user_range(src, dst.len()) {
        return 0;
    }
    // (The asm block may touch memory, so the flag's stores stay on their sides of it.)
    NO_PAGING.store(true, Ordering::Relaxed);
    // SAFETY: as in `copy_from_user`.
    let left = unsafe { copy_with_fixup(dst.as_mut_ptr(), src as *const u8, dst.len()) };
    NO_PAGING.store(false, Ordering::Relaxed);
    dst.len() - left
}

/// Copies `src` to user address `dst`.
pub fn copy_to_user(dst: u64, src: &[u8]) -> Result<(), UserFault> {
    if !is_user_range(dst, src.len()) {
        return Err(UserFault {
            address: dst,
            error: 0,
        });
    }
    // SAFETY: as in `copy_from_user`, with the roles swapped.
    match unsafe { copy_with_fixup(dst as *mut u8, src.as_ptr(), src.len()) } {
        0 => Ok(()),
        _ => Err(last_fault()),
    }
}

/// Reads a u64 at any address, reporting a fault instead of dying. For self tests that
/// check what is and is not mapped or allowed.
pub fn probe_read(addr: u64) -> Result<u64, UserFault> {
    let mut value = [0u8; 8];
    // SAFETY: the destination is a local buffer; a fault on the source is caught by the
    // exception table.
    match unsafe { copy_with_fixup(value.as_mut_ptr(), addr as *const u8, 8) } {
        0 => Ok(u64::from_le_bytes(value)),
        _ => Err(last_fault()),
    }
}

/// Writes a u64 at any address, reporting a fault instead of dying. For self tests only:
/// the caller must know that a successful write there harms nothing.
pub fn probe_write(addr: u64, value: u64) -> Result<(), UserFault> {
    let bytes = value.to_le_bytes();
    // SAFETY: as in `probe_read`; the caller vouches for the destination.
    match unsafe { copy_with_fixup(addr as *mut u8, bytes.as_ptr(), 8) } {
        0 => Ok(()),
        _ => Err(last_fault()),
    }
}
