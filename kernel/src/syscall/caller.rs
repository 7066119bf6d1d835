//! `Caller`: what a system call that may run behind the MPK gate, in ring 3, can see of the
//! thread that made it. The same handler runs on both paths: the trap path builds a
//! `Caller` from its `Thread`, the gate (`arch::x86_64::gate`) from what the running thread
//! published before it entered ring 3.
//!
//! The rules that make a handler safe to run in ring 3 with the libOS rights (it cannot
//! disable interrupts, and an interrupt or fault there enters ring 0 with the call half
//! done):
//! * only shared state behind the locks offered here (process, thread, signal handlers,
//!   file-system context, descriptors), never the thread's registers, its address space's
//!   lock, the heap (no allocation, no last reference to anything dropped), the log, a port,
//!   or anything that blocks or wakes a task;
//! * user memory only through `read`/`write`, and never while a lock is held (a fault there
//!   may have to wait for memory, which switches tasks);
//! * where the call needs more (another process, a table that must grow, a file whose last
//!   reference it would close), return `RING0_NEEDED` before changing anything
//!   (`Caller::ring0_if`): the gate then forwards the call to ring 0, which runs the same
//!   handler again. Signals and task switches that fall due during the call are handled
//!   by the gate itself (`PRIV_FINISH`).
//!
//! Ring 0 keeps its side of the bargain in `proc::run`: while a thread is interrupted inside
//! the gate it is neither preempted nor sent signals, so no lock a handler holds is ever
//! wanted by other code before the handler goes on.

use isounik_linux::errno::Errno;

use crate::arch::x86_64::uaccess;
use crate::fs::FdTable;
use crate::mm::vm::AddressSpace;
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
    /// Ring 0 only: the address space, to fault pages in on the way (in ring 3 the CPU's
    /// fault does that).
    mm: Option<&'a spin::Mutex<AddressSpace>>,
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
            mm: Some(&t.mm),
        }
    }

    /// The gate's view of the running thread, from the parts it published.
    pub fn in_gate(
        pid: Pid,
        tid: Tid,
        process: &'a Process,
        shared: &'a ThreadShared,
        sighand: &'a spin::Mutex<SigHandlers>,
        fs: &'a spin::Mutex<FsContext>,
        files: &'a spin::Mutex<FdTable>,
    ) -> Self {
        Caller {
            pid,
            tid,
            process,
            shared,
            sighand,
            fs,
            files,
            mm: None,
        }
    }

    /// Whether the handler runs behind the gate, in ring 3.
    fn is_in_gate(&self) -> bool {
        self.mm.is_none()
    }

    /// Copies from the caller's memory: EFAULT for anything it may not read (libOS
    /// addresses included).
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        match (uaccess::copy_from_user(buf, addr), self.mm) {
            (Ok(()), _) => Ok(()),
            // Ring 0: the page may just not be present yet (or be copy-on-write).
            (Err(_), Some(mm)) => mm.lock().read(addr, buf),
            (Err(_), None) => Err(Errno::EFAULT),
        }
    }

    /// Copies into the caller's memory: EFAULT for anything it may not write.
    pub fn write(&self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        match (uaccess::copy_to_user(addr, data), self.mm) {
            (Ok(()), _) => Ok(()),
            (Err(_), Some(mm)) => mm.lock().write(addr, data),
            (Err(_), None) => Err(Errno::EFAULT),
        }
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

    pub fn blocked(&self) -> u64 {
        self.shared
            .blocked
            .load(core::sync::atomic::Ordering::Relaxed)
    }
}
