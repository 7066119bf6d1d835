//! The out-of-memory killer. When a program cannot get a page (a page fault, `fork`), the
//! process that maps the most pages is killed with SIGKILL, as Linux's OOM killer does, and
//! the program waits for that memory to come back and tries again. If the program itself
//! maps the most, nothing is killed for it: it fails (ENOMEM, or SIGSEGV for a fault).
//! Without this, whoever happened to fault next while a hog held all memory died, not the
//! hog. PID 1 (the program `isounik run` started) is never killed for another's sake.

use alloc::sync::Arc;

use isounik_abi::layout::PAGE_SIZE;

use super::{Process, Thread};
use crate::sched;

const SIGKILL: u8 = 9;

/// How long a program waits for a killed process's memory before trying again anyway.
const RELEASE_WAIT_NS: u64 = 2_000_000_000;

/// Frees memory for `t`, which could not get any: returns whether it should try again.
/// Call it holding no lock (it blocks).
pub fn reclaim(t: &Thread) -> bool {
    // The kernel stacks kept for reuse come back first: nobody has to die for them.
    if crate::mm::with(|m| m.release_spare_stacks()) > 0 {
        return true;
    }
    // A process already on its way out (killed, exiting) gives its memory back soon: wait
    // for it rather than kill another one (the first victim may not have run yet).
    if let Some(dying) = candidates(t).find(|c| c.dying && c.pages > 0) {
        wait_for_release(&dying.process);
        return true;
    }
    let mine = t.mm().resident_pages();
    let Some(victim) = candidates(t).max_by_key(|c| c.pages) else {
        return false;
    };
    if victim.pages <= mine {
        return false;
    }
    let reason = alloc::format!(
        "out of memory: it held the most ({} KiB) when process {} needed a page",
        victim.pages as u64 * PAGE_SIZE / 1024,
        t.pid
    );
    super::kill_by_signal(victim.process.pid, SIGKILL, &reason);
    super::signal::send_to_process(&victim.process, SIGKILL);
    wait_for_release(&victim.process);
    true
}

/// Frees memory for `t`'s write to a file, which found no page: when memory itself is
/// exhausted (not the file system's size limit), a larger process is killed as for a page
/// fault (Linux's tmpfs does the same) rather than the write failing with ENOSPC.
pub fn reclaim_for_file_data(t: &Thread) -> bool {
    crate::mm::memory_exhausted() && reclaim(t)
}

/// Waits until `p`'s threads have ended and its memory is back (it is a zombie), or
/// `RELEASE_WAIT_NS` has passed.
fn wait_for_release(p: &Process) {
    let deadline = crate::time::uptime_ns() + RELEASE_WAIT_NS;
    while p.inner.lock().zombie.is_none() {
        let now = crate::time::uptime_ns();
        if now >= deadline {
            break;
        }
        sched::block(Some((now + 1_000_000).min(deadline)));
    }
}

/// A process the killer may weigh.
struct Candidate {
    process: Arc<Process>,
    /// Pages it maps.
    pages: usize,
    /// Already ending (exit_group, a fatal signal, SIGKILL pending).
    dying: bool,
}

/// Every live process but `t`'s own and PID 1. A process sharing `t`'s memory (a vfork
/// child) frees nothing if killed: never a candidate.
fn candidates(t: &Thread) -> impl Iterator<Item = Candidate> + '_ {
    super::all_processes().into_iter().filter_map(move |p| {
        if p.pid == t.pid || p.pid == 1 {
            return None;
        }
        let (mm, dying) = {
            let inner = p.inner.lock();
            if inner.zombie.is_some() {
                return None;
            }
            let dying = inner.group_exit.is_some() || inner.pending & (1 << (SIGKILL - 1)) != 0;
            (inner.mm.upgrade()?, dying)
        };
        if Arc::ptr_eq(&mm, &t.mm) {
            return None;
        }
        // Nothing blocks holding an address-space lock; a held one is skipped, not waited on.
        let pages = mm.try_lock()?.resident_pages();
        Some(Candidate {
            process: p,
            pages,
            dying,
        })
    })
}
