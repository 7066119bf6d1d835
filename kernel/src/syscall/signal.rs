//! Signal state: dispositions, the blocked mask, the alternate stack. Delivery arrives with
//! multiple processes; until then a signal sent to the process itself takes its default
//! action only for signals that terminate.

use isounik_linux::errno::Errno;

use super::{Args, SysResult};
use crate::proc::Process;

const SIGKILL: u64 = 9;
const SIGSTOP: u64 = 19;
const SIG_BLOCK: u64 = 0;
const SIG_UNBLOCK: u64 = 1;
const SIG_SETMASK: u64 = 2;
/// SIGKILL and SIGSTOP can be neither caught nor blocked.
const UNBLOCKABLE: u64 = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));

pub fn sys_rt_sigaction(p: &mut Process, a: Args) -> SysResult {
    let sig = a.raw(0);
    if a.raw(3) != 8 {
        return Err(Errno::EINVAL);
    }
    if sig == 0 || sig > 64 {
        return Err(Errno::EINVAL);
    }
    if (sig == SIGKILL || sig == SIGSTOP) && a.ptr(1) != 0 {
        return Err(Errno::EINVAL);
    }
    let old = p.signals.actions[sig as usize];
    if a.ptr(1) != 0 {
        let mut new = [0u8; 32];
        p.mm.read(a.ptr(1), &mut new)?;
        if a.ptr(2) != 0 {
            p.mm.write(a.ptr(2), &old)?;
        }
        p.signals.actions[sig as usize] = new;
    } else if a.ptr(2) != 0 {
        p.mm.write(a.ptr(2), &old)?;
    }
    Ok(0)
}

pub fn sys_rt_sigprocmask(p: &mut Process, a: Args) -> SysResult {
    if a.raw(3) != 8 {
        return Err(Errno::EINVAL);
    }
    let old = p.signals.blocked;
    if a.ptr(1) != 0 {
        let mut b = [0u8; 8];
        p.mm.read(a.ptr(1), &mut b)?;
        let set = u64::from_le_bytes(b);
        p.signals.blocked = match a.raw(0) {
            SIG_BLOCK => old | set,
            SIG_UNBLOCK => old & !set,
            SIG_SETMASK => set,
            _ => return Err(Errno::EINVAL),
        } & !UNBLOCKABLE;
    }
    if a.ptr(2) != 0 {
        p.mm.write(a.ptr(2), &old.to_le_bytes())?;
    }
    Ok(0)
}

pub fn sys_sigaltstack(p: &mut Process, a: Args) -> SysResult {
    let old = p.signals.alt_stack;
    if a.ptr(0) != 0 {
        let mut new = [0u8; 24];
        p.mm.read(a.ptr(0), &mut new)?;
        let flags = i32::from_le_bytes(new[8..12].try_into().expect("4"));
        const SS_DISABLE: i32 = 2;
        const SS_AUTODISARM: i32 = 1 << 31;
        if flags & !(SS_DISABLE | SS_AUTODISARM) != 0 {
            return Err(Errno::EINVAL);
        }
        let size = u64::from_le_bytes(new[16..24].try_into().expect("8"));
        if flags & SS_DISABLE == 0 && size < 2048 {
            return Err(Errno::ENOMEM);
        }
        if a.ptr(1) != 0 {
            p.mm.write(a.ptr(1), &old)?;
        }
        p.signals.alt_stack = new;
    } else if a.ptr(1) != 0 {
        p.mm.write(a.ptr(1), &old)?;
    }
    Ok(0)
}

/// A signal to this process: SIG 0 checks existence; signals whose disposition is the
/// default terminate the process (without delivery to handlers yet).
fn signal_self(p: &mut Process, sig: u64) -> SysResult {
    if sig > 64 {
        return Err(Errno::EINVAL);
    }
    if sig == 0 {
        return Ok(0);
    }
    let handler = u64::from_le_bytes(p.signals.actions[sig as usize][..8].try_into().expect("8"));
    const SIG_IGN: u64 = 1;
    // Signals that are ignored by default (SIGCHLD, SIGURG, SIGWINCH) or explicitly.
    let ignored_by_default = matches!(sig, 17 | 23 | 28);
    let blocked = p.signals.blocked & (1 << (sig - 1)) != 0 && sig != SIGKILL;
    if handler == SIG_IGN || (handler == 0 && ignored_by_default) || blocked {
        return Ok(0);
    }
    if handler != 0 && sig != SIGKILL {
        // A handler is installed but delivery does not exist yet: do not kill silently.
        return Err(Errno::ENOSYS);
    }
    crate::proc::kill_by_signal(p, sig as u8, "sent by the process itself");
    Ok(0)
}

pub fn sys_kill(p: &mut Process, a: Args) -> SysResult {
    let pid = a.int(0);
    if pid == p.pid as i32 || pid == 0 || pid == -1 || pid == -(p.pid as i32) {
        signal_self(p, a.raw(1))
    } else {
        Err(Errno::ESRCH)
    }
}

pub fn sys_tgkill(p: &mut Process, a: Args) -> SysResult {
    if a.uint(0) != p.pid || a.uint(1) != p.pid {
        return Err(Errno::ESRCH);
    }
    signal_self(p, a.raw(2))
}

pub fn sys_tkill(p: &mut Process, a: Args) -> SysResult {
    if a.uint(0) != p.pid {
        return Err(Errno::ESRCH);
    }
    signal_self(p, a.raw(1))
}
