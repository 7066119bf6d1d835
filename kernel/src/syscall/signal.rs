//! Signal system calls: dispositions, masks, sending, waiting, returning from handlers,
//! alarms.

use isounik_linux::errno::Errno;

use super::{Args, Caller, SysResult};
use crate::proc::{self, signal, Thread};
use crate::sched;

const SIG_BLOCK: u64 = 0;
const SIG_UNBLOCK: u64 = 1;
const SIG_SETMASK: u64 = 2;

fn signal_number(raw: u64) -> Result<u8, Errno> {
    if raw > 64 {
        Err(Errno::EINVAL)
    } else {
        Ok(raw as u8)
    }
}

pub fn sys_rt_sigaction(c: &Caller, a: Args) -> SysResult {
    let sig = a.raw(0);
    if a.raw(3) != 8 || sig == 0 || sig > 64 {
        return Err(Errno::EINVAL);
    }
    if (sig == 9 || sig == 19) && a.ptr(1) != 0 {
        return Err(Errno::EINVAL);
    }
    let new = if a.ptr(1) != 0 {
        let mut new = [0u8; 32];
        c.read(a.ptr(1), &mut new)?;
        Some(new)
    } else {
        None
    };
    let old = c.sighand.lock().actions[sig as usize];
    if a.ptr(2) != 0 {
        c.write(a.ptr(2), &old)?;
    }
    if let Some(new) = new {
        c.sighand.lock().actions[sig as usize] = new;
        // Setting SIG_IGN discards what is pending (POSIX).
        if new[..8] == 1u64.to_le_bytes() {
            c.shared.pending.fetch_and(
                !signal::bit(sig as u8),
                core::sync::atomic::Ordering::Relaxed,
            );
            c.inner().pending &= !signal::bit(sig as u8);
        }
    }
    Ok(0)
}

pub fn sys_rt_sigprocmask(c: &Caller, a: Args) -> SysResult {
    if a.raw(3) != 8 {
        return Err(Errno::EINVAL);
    }
    let old = c.blocked();
    if a.ptr(1) != 0 {
        let mut b = [0u8; 8];
        c.read(a.ptr(1), &mut b)?;
        let set = u64::from_le_bytes(b);
        let new = match a.raw(0) {
            SIG_BLOCK => old | set,
            SIG_UNBLOCK => old & !set,
            SIG_SETMASK => set,
            _ => return Err(Errno::EINVAL),
        } & !signal::UNBLOCKABLE;
        // A pending signal this unblocks is delivered before the program runs on: at the
        // end of the trap, or by the gate finishing the call in ring 0.
        c.shared
            .blocked
            .store(new, core::sync::atomic::Ordering::Relaxed);
    }
    if a.ptr(2) != 0 {
        c.write(a.ptr(2), &old.to_le_bytes())?;
    }
    Ok(0)
}

/// Signals waiting for the caller's thread: its own and its process's.
fn pending(c: &Caller) -> u64 {
    c.shared.pending.load(core::sync::atomic::Ordering::Relaxed) | c.inner().pending
}

pub fn sys_rt_sigpending(c: &Caller, a: Args) -> SysResult {
    if a.raw(1) != 8 {
        return Err(Errno::EINVAL);
    }
    let waiting = pending(c) & c.blocked();
    c.write(a.ptr(0), &waiting.to_le_bytes())?;
    Ok(0)
}

pub fn sys_sigaltstack(p: &mut Thread, a: Args) -> SysResult {
    // The flags reported are SS_ONSTACK while running on the stack, SS_DISABLE if it is off.
    let mut old = p.alt_stack;
    {
        let sp = u64::from_le_bytes(old[..8].try_into().expect("8"));
        let size = u64::from_le_bytes(old[16..24].try_into().expect("8"));
        let rsp = p.ctx.regs.rsp;
        if old[8] & 2 == 0 && size != 0 && rsp > sp && rsp <= sp + size {
            old[8..12].copy_from_slice(&1i32.to_le_bytes());
        }
    }
    if a.ptr(0) != 0 {
        let mut new = [0u8; 24];
        p.mm().read(a.ptr(0), &mut new)?;
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
        // Changing the stack while running on it is EPERM.
        let (sp, osize) = (
            u64::from_le_bytes(old[..8].try_into().expect("8")),
            u64::from_le_bytes(old[16..24].try_into().expect("8")),
        );
        let rsp = p.ctx.regs.rsp;
        if osize != 0 && old[8] & 2 == 0 && rsp > sp && rsp <= sp + osize {
            return Err(Errno::EPERM);
        }
        if a.ptr(1) != 0 {
            p.mm().write(a.ptr(1), &old)?;
        }
        p.alt_stack = new;
    } else if a.ptr(1) != 0 {
        p.mm().write(a.ptr(1), &old)?;
    }
    Ok(0)
}

pub fn sys_kill(c: &Caller, a: Args) -> SysResult {
    let sig = signal_number(a.raw(1))?;
    match a.int(0) {
        0 => {
            let pgid = c.inner().pgid;
            signal::send_to_group(pgid, sig)?;
        }
        -1 => {
            // Every process but init and the caller (as Linux).
            for q in proc::all_processes() {
                if q.pid != 1 && q.pid != c.pid && q.inner.lock().zombie.is_none() {
                    signal::send_to_process_with(
                        &q,
                        sig,
                        isounik_linux::structs::Siginfo::kill(sig as u32, c.pid as i32, 0),
                    );
                }
            }
        }
        pid if pid < -1 => signal::send_to_group((-pid) as u32, sig)?,
        pid => {
            let target = proc::process(pid as u32).ok_or(Errno::ESRCH)?;
            if target.inner.lock().zombie.is_none() {
                signal::send_to_process_with(
                    &target,
                    sig,
                    isounik_linux::structs::Siginfo::kill(sig as u32, c.pid as i32, 0),
                );
            }
        }
    }
    Ok(0)
}

pub fn sys_tgkill(_: &Caller, a: Args) -> SysResult {
    let sig = signal_number(a.raw(2))?;
    let ts = proc::thread_shared(a.uint(1)).ok_or(Errno::ESRCH)?;
    if ts.pid != a.uint(0) {
        return Err(Errno::ESRCH);
    }
    signal::send_to_thread(a.uint(1), sig)?;
    Ok(0)
}

pub fn sys_tkill(_: &Caller, a: Args) -> SysResult {
    let sig = signal_number(a.raw(1))?;
    signal::send_to_thread(a.uint(0), sig)?;
    Ok(0)
}

/// rt_sigreturn(2). A frame that cannot be read or restored forces SIGSEGV, as Linux:
/// a handler runs if there is one (on the current stack), else the process dies.
pub fn sys_rt_sigreturn(p: &mut Thread, _a: Args) -> SysResult {
    match signal::sigreturn(p) {
        Ok(rax) => Ok(rax),
        Err(_) => {
            const SI_KERNEL: i32 = 0x80;
            signal::force_fault_signal(
                p,
                signal::SIGSEGV,
                SI_KERNEL,
                0,
                "rt_sigreturn with an unreadable or invalid frame",
            );
            // (A handler starts with rax 0, as Linux sets it.)
            Ok(0)
        }
    }
}

/// Blocks until a signal arrives (with `mask` in force meanwhile); always EINTR.
fn suspend(p: &mut Thread, mask: u64) -> SysResult {
    let old = p.blocked();
    p.set_blocked(mask);
    while !p.signal_pending() {
        sched::block(None);
    }
    // The handler runs with the temporary mask and its frame records `old`, which
    // sigreturn restores (or deliver() does, when no handler runs).
    p.saved_mask = Some(old);
    Err(Errno::EINTR)
}

pub fn sys_rt_sigsuspend(p: &mut Thread, a: Args) -> SysResult {
    if a.raw(1) != 8 {
        return Err(Errno::EINVAL);
    }
    let mut b = [0u8; 8];
    p.mm().read(a.ptr(0), &mut b)?;
    suspend(p, u64::from_le_bytes(b))
}

pub fn sys_pause(p: &mut Thread, _a: Args) -> SysResult {
    let mask = p.blocked();
    suspend(p, mask)
}

pub fn sys_rt_sigtimedwait(p: &mut Thread, a: Args) -> SysResult {
    if a.raw(3) != 8 {
        return Err(Errno::EINVAL);
    }
    let mut b = [0u8; 8];
    p.mm().read(a.ptr(0), &mut b)?;
    let set = u64::from_le_bytes(b) & !signal::UNBLOCKABLE;
    let deadline = if a.ptr(2) != 0 {
        let mut t = [0u8; 16];
        p.mm().read(a.ptr(2), &mut t)?;
        let sec = i64::from_le_bytes(t[..8].try_into().expect("8"));
        let nsec = i64::from_le_bytes(t[8..].try_into().expect("8"));
        if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
            return Err(Errno::EINVAL);
        }
        Some(crate::time::uptime_ns() + sec as u64 * 1_000_000_000 + nsec as u64)
    } else {
        None
    };
    loop {
        if let Some(sig) = signal::take_from(p, set) {
            if a.ptr(1) != 0 {
                let info = isounik_linux::structs::Siginfo::kernel(sig as u32);
                p.mm().write(a.ptr(1), &info.to_bytes())?;
            }
            return Ok(sig as u64);
        }
        if p.signal_pending() {
            return Err(Errno::EINTR);
        }
        if deadline.is_some_and(|d| crate::time::uptime_ns() >= d) {
            return Err(Errno::EAGAIN);
        }
        sched::block(deadline);
    }
}

const ITIMER_REAL: u32 = 0;

fn read_timeval_pair(p: &mut Thread, addr: u64) -> Result<(u64, u64), Errno> {
    let mut b = [0u8; 32];
    p.mm().read(addr, &mut b)?;
    let f = |i: usize| i64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8"));
    let ns = |sec: i64, usec: i64| -> Result<u64, Errno> {
        if sec < 0 || !(0..1_000_000).contains(&usec) {
            return Err(Errno::EINVAL);
        }
        Ok(sec as u64 * 1_000_000_000 + usec as u64 * 1000)
    };
    Ok((ns(f(0), f(1))?, ns(f(2), f(3))?))
}

fn timeval_pair_bytes(interval: u64, value: u64) -> [u8; 32] {
    let mut b = [0u8; 32];
    for (i, ns) in [interval, value].iter().enumerate() {
        b[i * 16..i * 16 + 8].copy_from_slice(&((ns / 1_000_000_000) as i64).to_le_bytes());
        b[i * 16 + 8..i * 16 + 16]
            .copy_from_slice(&(((ns / 1000) % 1_000_000) as i64).to_le_bytes());
    }
    b
}

/// The current ITIMER_REAL as (interval, remaining), in ns.
fn real_timer_now(p: &Thread) -> (u64, u64) {
    match p.inner().real_timer {
        Some((expiry, interval)) => (
            interval,
            expiry.saturating_sub(crate::time::uptime_ns()).max(1),
        ),
        None => (0, 0),
    }
}

fn set_real_timer(p: &Thread, value: u64, interval: u64) {
    let timer = (value != 0).then(|| (crate::time::uptime_ns() + value, interval));
    p.inner().real_timer = timer;
    crate::time::arm_process_timer(p.pid, timer.map(|(expiry, _)| expiry));
}

pub fn sys_setitimer(p: &mut Thread, a: Args) -> SysResult {
    if a.uint(0) != ITIMER_REAL {
        return Err(Errno::EINVAL);
    }
    let (interval, value) = if a.ptr(1) != 0 {
        read_timeval_pair(p, a.ptr(1))?
    } else {
        (0, 0)
    };
    let (old_interval, old_value) = real_timer_now(p);
    if a.ptr(2) != 0 {
        p.mm()
            .write(a.ptr(2), &timeval_pair_bytes(old_interval, old_value))?;
    }
    set_real_timer(p, value, interval);
    Ok(0)
}

pub fn sys_getitimer(p: &mut Thread, a: Args) -> SysResult {
    if a.uint(0) != ITIMER_REAL {
        return Err(Errno::EINVAL);
    }
    let (interval, value) = real_timer_now(p);
    p.mm()
        .write(a.ptr(1), &timeval_pair_bytes(interval, value))?;
    Ok(0)
}

pub fn sys_alarm(p: &mut Thread, a: Args) -> SysResult {
    let (_, old) = real_timer_now(p);
    set_real_timer(p, a.uint(0) as u64 * 1_000_000_000, 0);
    Ok(old.div_ceil(1_000_000_000))
}
