//! Exit, zombies and waiting: wait4/waitid, SIGCHLD, reparenting orphans to PID 1, and
//! automatic reaping when the parent ignores SIGCHLD (or sets SA_NOCLDWAIT).

use alloc::sync::Arc;
use alloc::vec::Vec;

use isounik_linux::errno::Errno;
use isounik_linux::signal as sig;
use isounik_linux::structs::Sigaction;

use super::{process, remove_process, ExitStatus, Pid, Process, Thread};
use crate::sched;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReport {
    Stopped(u8),
    Continued,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildEvent {
    Exited,
    Stopped,
    Continued,
}

pub const WNOHANG: u32 = 1;
pub const WUNTRACED: u32 = 2;
pub const WEXITED: u32 = 4;
pub const WCONTINUED: u32 = 8;
pub const WNOWAIT: u32 = 0x0100_0000;

/// Which children a wait call is about.
#[derive(Clone, Copy, Debug)]
pub enum Selector {
    Any,
    Pid(Pid),
    Group(Pid),
}

/// Tells the parent of `child` about `event`: SIGCHLD (unless it asked not to) and a wake-up
/// of its waiting threads.
pub fn notify_parent(child: &Arc<Process>, event: ChildEvent) {
    let info = {
        let inner = child.inner.lock();
        let (code, status) = match (event, inner.zombie, inner.stopped) {
            (ChildEvent::Exited, Some(ExitStatus::Exited(c)), _) => (1, c as i32),
            (ChildEvent::Exited, Some(ExitStatus::Signaled(s)), _) => (2, s as i32),
            (ChildEvent::Stopped, _, Some(s)) => (5, s as i32),
            (ChildEvent::Continued, _, _) => (6, super::signal::SIGCONT as i32),
            _ => (1, 0),
        };
        isounik_linux::structs::Siginfo::child(code, child.pid as i32, 0, status, 0, 0)
    };
    let ppid = child.inner.lock().ppid;
    let Some(parent) = process(ppid) else { return };
    let a = {
        let handlers = parent.inner.lock().sighand.clone();
        let raw = handlers.lock().actions[sig::SIGCHLD as usize];
        Sigaction::from_bytes(&raw).unwrap_or_default()
    };
    let quiet_stop = event != ChildEvent::Exited && a.sa_flags & sig::SA_NOCLDSTOP != 0;
    if !quiet_stop {
        super::signal::send_to_process_with(&parent, super::signal::SIGCHLD, info);
    }
    let waiters = core::mem::take(&mut parent.inner.lock().child_waiters);
    for tid in waiters {
        sched::wake(tid);
    }
}

/// The last thread of `p` has exited.
pub fn become_zombie(p: &Arc<Process>, status: ExitStatus) {
    // Orphans go to PID 1, which reaps them.
    let children = core::mem::take(&mut p.inner.lock().children);
    if !children.is_empty() {
        if let Some(init) = process(1).filter(|i| i.pid != p.pid) {
            let mut any_zombie = false;
            for c in &children {
                if let Some(child) = process(*c) {
                    let mut ci = child.inner.lock();
                    ci.ppid = 1;
                    any_zombie |= ci.zombie.is_some();
                }
            }
            init.inner.lock().children.extend(children);
            if any_zombie {
                let waiters = core::mem::take(&mut init.inner.lock().child_waiters);
                waiters.into_iter().for_each(sched::wake);
            }
        } else {
            for c in children {
                remove_process(c);
            }
        }
    }
    p.inner.lock().zombie = Some(status);
    let ppid = p.inner.lock().ppid;
    let Some(parent) = process(ppid) else {
        remove_process(p.pid);
        return;
    };
    // A parent that ignores SIGCHLD (or set SA_NOCLDWAIT) never sees zombies.
    let a = {
        let handlers = parent.inner.lock().sighand.clone();
        let raw = handlers.lock().actions[sig::SIGCHLD as usize];
        Sigaction::from_bytes(&raw).unwrap_or_default()
    };
    if a.sa_handler == sig::SIG_IGN || a.sa_flags & sig::SA_NOCLDWAIT != 0 {
        parent.inner.lock().children.retain(|c| *c != p.pid);
        remove_process(p.pid);
        let waiters = core::mem::take(&mut parent.inner.lock().child_waiters);
        waiters.into_iter().for_each(sched::wake);
        return;
    }
    notify_parent(p, ChildEvent::Exited);
}

/// What a wait call found.
pub struct Waited {
    pub pid: Pid,
    pub status: i32,
    pub code: i32,
}

fn matches(sel: Selector, child: &Process, my_pgid: Pid) -> bool {
    match sel {
        Selector::Any => true,
        Selector::Pid(pid) => child.pid == pid,
        Selector::Group(0) => child.inner.lock().pgid == my_pgid,
        Selector::Group(g) => child.inner.lock().pgid == g,
    }
}

/// wait4/waitid: a child matching `sel` that exited (or stopped/continued, if asked);
/// `None` with WNOHANG when none has yet; ECHILD when there is no such child at all.
pub fn wait(t: &mut Thread, sel: Selector, options: u32) -> Result<Option<Waited>, Errno> {
    loop {
        let (children, my_pgid) = {
            let inner = t.inner();
            (inner.children.clone(), inner.pgid)
        };
        let candidates: Vec<Arc<Process>> = children
            .iter()
            .filter_map(|c| process(*c))
            .filter(|c| matches(sel, c, my_pgid))
            .collect();
        if candidates.is_empty() {
            return Err(Errno::ECHILD);
        }
        for c in &candidates {
            let mut ci = c.inner.lock();
            if options & WEXITED != 0 {
                if let Some(status) = ci.zombie {
                    drop(ci);
                    if options & WNOWAIT == 0 {
                        t.inner().children.retain(|x| *x != c.pid);
                        remove_process(c.pid);
                    }
                    let code = match status {
                        ExitStatus::Exited(_) => 1,   // CLD_EXITED
                        ExitStatus::Signaled(_) => 2, // CLD_KILLED (no core is dumped)
                    };
                    return Ok(Some(Waited {
                        pid: c.pid,
                        status: status.wait_status(),
                        code,
                    }));
                }
            }
            match ci.stop_report {
                Some(StopReport::Stopped(s)) if options & WUNTRACED != 0 => {
                    if options & WNOWAIT == 0 {
                        ci.stop_report = None;
                    }
                    return Ok(Some(Waited {
                        pid: c.pid,
                        status: 0x7f | ((s as i32) << 8),
                        code: 5,
                    }));
                }
                Some(StopReport::Continued) if options & WCONTINUED != 0 => {
                    if options & WNOWAIT == 0 {
                        ci.stop_report = None;
                    }
                    return Ok(Some(Waited {
                        pid: c.pid,
                        status: 0xffff,
                        code: 6,
                    }));
                }
                _ => {}
            }
        }
        if options & WNOHANG != 0 {
            return Ok(None);
        }
        t.inner().child_waiters.push(t.tid);
        if t.signal_pending() {
            t.inner().child_waiters.retain(|x| *x != t.tid);
            return Err(t.interrupted());
        }
        sched::block(None);
        t.inner().child_waiters.retain(|x| *x != t.tid);
        if t.signal_pending() {
            return Err(t.interrupted());
        }
    }
}
