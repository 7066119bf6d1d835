//! `Caller`: what a system call that may run behind the MPK gate, in ring 3, can see of the
//! thread that made it. The same handler runs on both paths: the trap path builds a
//! `Caller` from its `Thread`, the gate (`arch::x86_64::gate`) from what the running thread
//! published before it entered ring 3.
//!
//! The rules that make a handler safe to run in ring 3 with the libOS rights (it cannot
//! disable interrupts, and an interrupt or fault there enters ring 0 with the call half
//! done):
//! * only shared state behind the locks offered here (process, thread, signal handlers,
//!   file-system context, descriptors) and locks that no interrupt handler takes and that
//!   are never held across a block (the heap, a pipe's state, the file system's tree);
//!   never the thread's registers, its address space's lock, the log, a port or a device;
//!   of physical memory only file pages, through the file-data window (`Frame::file_data`;
//!   the direct map and the frame allocator are ring 0's);
//! * it may allocate (the heap grows through the privilege gate's `PRIV_GROW_HEAP`, new
//!   file pages come from `PRIV_FILE_PAGE`), wake tasks and drop frames (both deferred to
//!   ring 0's next entry), and block
//!   (`sched::block` goes through `PRIV_BLOCK` in ring 3), but it blocks with no lock held,
//!   and a wait interrupted by a signal ends with `Caller::interrupted` (the gate then has
//!   ring 0 restart the call or fail it with EINTR, as the trap path does);
//! * user memory only through `read`/`write` (a fault there is resolved by ring 0 without
//!   switching tasks, or the copy fails with EFAULT);
//! * where the call needs more (/proc, a device, the OOM killer), return
//!   `RING0_NEEDED` before changing anything
//!   (`Caller::ring0_if`): the gate then forwards the call to ring 0, which runs the same
//!   handler again (or the ring-0 half of a `Split` entry). Signals and task switches
//!   that fall due during the call are handled by the gate itself (`PRIV_FINISH`).
//!
//! Ring 0 keeps its side of the bargain in `proc::run`: while a thread is interrupted inside
//! the gate it is neither preempted nor sent signals, so no lock a handler holds is ever
//! wanted by other code before the handler goes on.

use core::cell::Cell;

use alloc::vec::Vec;

use isounik_linux::errno::Errno;

use crate::arch::x86_64::uaccess;
use crate::fs::FdTable;
use crate::proc::{FsContext, Pid, Process, SigHandlers, Thread, ThreadShared};
use crate::sched::Tid;

/// A gate handler's answer "ring 0 must do this": never returned to a program (only made
/// behind the gate, by `Caller::ring0_if`, and the gate then forwards the call).
pub const RING0_NEEDED: Errno = Errno::ERESTART;

pub struct Caller<'a> {
    pub pid: Pid,
    pub tid: Tid,
    pub process: &'a Process,
    pub shared: &'a ThreadShared,
    pub sighand: &'a spin::Mutex<SigHandlers>,
    pub fs: &'a spin::Mutex<FsContext>,
    pub files: &'a spin::Mutex<FdTable>,
    /// Names the address space (the address of its lock; threads sharing it share this),
    /// for keys such as a private futex's.
    pub mm_key: u64,
    /// Ring 0 only: the whole thread (its address space, to fault pages in on the way, as
    /// the CPU's fault does in ring 3; /proc, which describes it).
    thread: Option<&'a Thread>,
    /// The call was interrupted by a signal (`interrupted`): restart it or make it fail
    /// with EINTR, depending on the handler, once the call has returned.
    interrupted: Cell<bool>,
}

impl<'a> Caller<'a> {
    /// The trap path's view of `t`.
    pub fn of(t: &'a Thread) -> Self {
        Caller {
            pid: t.pid,
            tid: t.tid,
            process: &t.process,
            shared: &t.shared,
            sighand: &t.sighand,
            fs: &t.fs,
            files: &t.files,
            mm_key: alloc::sync::Arc::as_ptr(&t.mm) as u64,
            thread: Some(t),
            interrupted: Cell::new(false),
        }
    }

    /// Runs `f` with the trap path's view of `t`; an interruption it reports becomes `t`'s.
    pub fn run_for<R>(t: &mut Thread, f: impl FnOnce(&Caller) -> R) -> R {
        let caller = Caller::of(t);
        let result = f(&caller);
        let interrupted = caller.was_interrupted();
        t.restart |= interrupted;
        result
    }

    /// The gate's view of the running thread, from the parts it published (its pid is its
    /// process's).
    pub fn in_gate(
        tid: Tid,
        process: &'a Process,
        shared: &'a ThreadShared,
        sighand: &'a spin::Mutex<SigHandlers>,
        fs: &'a spin::Mutex<FsContext>,
        files: &'a spin::Mutex<FdTable>,
        mm_key: u64,
    ) -> Self {
        Caller {
            pid: process.pid,
            tid,
            process,
            shared,
            sighand,
            fs,
            files,
            mm_key,
            thread: None,
            interrupted: Cell::new(false),
        }
    }

    /// Whether the handler runs behind the gate, in ring 3.
    fn is_in_gate(&self) -> bool {
        self.thread.is_none()
    }

    /// The whole thread, in ring 0; `RING0_NEEDED` behind the gate (call it before changing
    /// anything).
    pub fn thread(&self) -> Result<&'a Thread, Errno> {
        self.thread.ok_or(RING0_NEEDED)
    }

    /// Copies from the caller's memory: EFAULT for anything it may not read (libOS
    /// addresses included).
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        match (uaccess::copy_from_user(buf, addr), self.thread) {
            (Ok(()), _) => Ok(()),
            // Ring 0: the page may just not be present yet (or be copy-on-write).
            (Err(_), Some(t)) => t.mm().read(addr, buf),
            (Err(_), None) => Err(Errno::EFAULT),
        }
    }

    /// Copies into the caller's memory: EFAULT for anything it may not write.
    pub fn write(&self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        match (uaccess::copy_to_user(addr, data), self.thread) {
            (Ok(()), _) => Ok(()),
            (Err(_), Some(t)) => t.mm().write(addr, data),
            (Err(_), None) => Err(Errno::EFAULT),
        }
    }

    /// EFAULT unless `[addr, addr + len)` lies in the application half (Linux's
    /// `access_ok`: a libOS address fails even where nothing would be copied).
    pub fn check_range(&self, addr: u64, len: usize) -> Result<(), Errno> {
        if uaccess::is_user_range(addr, len) {
            Ok(())
        } else {
            Err(Errno::EFAULT)
        }
    }

    /// Copies from the caller's memory as far as it is present and readable, paging nothing
    /// in (safe with the file system locked); returns the bytes copied.
    pub fn read_present(&self, addr: u64, buf: &mut [u8]) -> usize {
        uaccess::copy_from_user_nofault(buf, addr)
    }

    /// A NUL-terminated string of the caller's (a path): ENAMETOOLONG past `max` bytes,
    /// EFAULT where it cannot be read. Read in steps that never cross a page boundary, so
    /// an unreadable page after the end of the string does not matter.
    pub fn read_cstr(&self, addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
        const PAGE: u64 = 4096;
        // Paths are short: small steps, never past the end of a page.
        const STEP: u64 = 128;
        let mut out = Vec::new();
        let mut cursor = addr;
        loop {
            let chunk = (PAGE - cursor % PAGE).min(STEP) as usize;
            let start = out.len();
            out.resize(start + chunk, 0);
            self.read(cursor, &mut out[start..])?;
            if let Some(nul) = out[start..].iter().position(|b| *b == 0) {
                out.truncate(start + nul);
                return if out.len() > max {
                    Err(Errno::ENAMETOOLONG)
                } else {
                    Ok(out)
                };
            }
            if out.len() > max {
                return Err(Errno::ENAMETOOLONG);
            }
            cursor = cursor.checked_add(chunk as u64).ok_or(Errno::EFAULT)?;
        }
    }

    /// The current directory.
    pub fn cwd(&self) -> crate::fs::Node {
        self.fs.lock().cwd.clone()
    }

    pub fn inner(&self) -> spin::MutexGuard<'a, crate::proc::ProcInner> {
        self.process.inner.lock()
    }

    /// The RLIMIT_NOFILE soft limit, bounded.
    pub fn nofile_limit(&self) -> usize {
        self.inner().nofile_limit()
    }

    /// `RING0_NEEDED` in the gate when `needed`: for a handler that would otherwise do
    /// something ring 3 cannot (allocate, close the last reference to a file).
    pub fn ring0_if(&self, needed: bool) -> Result<(), Errno> {
        if needed && self.is_in_gate() {
            Err(RING0_NEEDED)
        } else {
            Ok(())
        }
    }

    /// Whether a blocking call must stop waiting: a signal it does not block, an expired
    /// alarm, a stop or a group exit (what ring 0 acts on before the program runs on).
    pub fn signal_pending(&self) -> bool {
        crate::proc::signal::work_pending(self.process, self.shared)
    }

    /// A blocking call was interrupted by a signal: EINTR, restarted if the handler has
    /// SA_RESTART (or if no handler runs).
    pub fn interrupted(&self) -> Errno {
        self.interrupted.set(true);
        Errno::EINTR
    }

    /// Whether the call said it was `interrupted`.
    pub fn was_interrupted(&self) -> bool {
        self.interrupted.get()
    }

    pub fn blocked(&self) -> u64 {
        self.shared
            .blocked
            .load(core::sync::atomic::Ordering::Relaxed)
    }
}
