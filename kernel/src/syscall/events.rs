//! epoll, eventfd and timerfd (`fs::epoll`). All of them need only a `Caller` (the MPK gate runs
//! them in ring 3) except a wait that swaps the signal mask, which ring 0 does, as ppoll.

use alloc::sync::Arc;
use alloc::vec::Vec;

use isounik_linux::errno::Errno;
use isounik_linux::poll::{EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE, EPOLL_CLOEXEC};
use isounik_linux::structs::{EpollEvent, Itimerspec, Timespec};

use super::caller::RING0_NEEDED;
use super::{Args, Caller, SysResult};
use crate::fs::epoll::{Epoll, EventFd, TimerFd};
use crate::fs::file::{O_NONBLOCK, O_RDWR};

const O_CLOEXEC: u32 = 0o2000000;
use crate::fs::{FileKind, OpenFile};
use crate::proc::Thread;

fn install(c: &Caller, kind: FileKind, status: u32, cloexec: bool) -> SysResult {
    let limit = c.nofile_limit();
    let file = OpenFile::new(kind, O_RDWR | status, Vec::new());
    Ok(c.files.lock().insert_from(0, file, cloexec, limit)? as u64)
}

pub fn sys_epoll_create(c: &Caller, a: Args) -> SysResult {
    // The size is a hint nobody uses, but it must be positive.
    if a.int(0) <= 0 {
        return Err(Errno::EINVAL);
    }
    install(c, FileKind::Epoll(Epoll::new()), 0, false)
}

pub fn sys_epoll_create1(c: &Caller, a: Args) -> SysResult {
    let flags = a.uint(0);
    if flags & !EPOLL_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    install(c, FileKind::Epoll(Epoll::new()), 0, flags != 0)
}

/// The epoll instance behind descriptor argument `i` (EINVAL for any other file).
fn epoll_arg(c: &Caller, a: Args, i: usize) -> Result<Arc<Epoll>, Errno> {
    let file = c.files.lock().get(a.fd(i)?)?;
    match &file.kind {
        FileKind::Epoll(e) => Ok(e.clone()),
        _ => Err(Errno::EINVAL),
    }
}

pub fn sys_epoll_ctl(c: &Caller, a: Args) -> SysResult {
    let epoll = epoll_arg(c, a, 0)?;
    let op = a.uint(1);
    let fd = a.fd(2)?;
    let file = c.files.lock().get(fd)?;
    let (events, data) = if op == isounik_linux::poll::EPOLL_CTL_DEL {
        (0, 0)
    } else {
        let mut b = [0u8; EpollEvent::SIZE];
        c.read(a.ptr(3), &mut b)?;
        let e = EpollEvent::from_bytes(&b).ok_or(Errno::EFAULT)?;
        (e.events, e.data)
    };
    epoll.control(op, fd as i32, &file, events, data)?;
    Ok(0)
}

/// The common part of the waits: checks, waits, writes the events out.
fn do_wait(c: &Caller, a: Args, timeout_ns: Option<u64>) -> SysResult {
    let epoll = epoll_arg(c, a, 0)?;
    let (events_addr, max) = (a.ptr(1), a.int(2));
    if max <= 0 || max as usize > i32::MAX as usize / EpollEvent::SIZE {
        return Err(Errno::EINVAL);
    }
    let max = max as usize;
    c.check_range(events_addr, max * EpollEvent::SIZE)?;
    let deadline = timeout_ns.map(|t| crate::time::uptime_ns().saturating_add(t));
    let ready = epoll.wait(c, max, deadline)?;
    let mut out = Vec::with_capacity(ready.len() * EpollEvent::SIZE);
    for (events, data) in &ready {
        out.extend_from_slice(
            &EpollEvent {
                events: *events,
                data: *data,
            }
            .to_bytes(),
        );
    }
    c.write(events_addr, &out)?;
    Ok(ready.len() as u64)
}

fn millis(timeout: i32) -> Option<u64> {
    (timeout >= 0).then(|| timeout as u64 * 1_000_000)
}

pub fn sys_epoll_wait(c: &Caller, a: Args) -> SysResult {
    do_wait(c, a, millis(a.int(3)))
}

/// epoll_pwait without a signal mask is epoll_wait; with one, ring 0's (`sys_epoll_pwait`).
pub fn sys_epoll_pwait_unmasked(c: &Caller, a: Args) -> SysResult {
    if a.ptr(4) != 0 {
        return Err(RING0_NEEDED);
    }
    do_wait(c, a, millis(a.int(3)))
}

/// The `struct timespec` timeout of epoll_pwait2 (NULL: none).
fn timespec_timeout(c: &Caller, addr: u64) -> Result<Option<u64>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    super::time::read_timespec(c, addr).map(Some)
}

pub fn sys_epoll_pwait2_unmasked(c: &Caller, a: Args) -> SysResult {
    if a.ptr(4) != 0 {
        return Err(RING0_NEEDED);
    }
    let timeout = timespec_timeout(c, a.ptr(3))?;
    do_wait(c, a, timeout)
}

/// A wait with a signal mask for its duration (ring 0: the mask is the thread's).
fn masked_wait(
    p: &mut Thread,
    a: Args,
    timeout: impl FnOnce(&Caller) -> Result<Option<u64>, Errno>,
) -> SysResult {
    if a.usize(5) != 8 {
        return Err(Errno::EINVAL);
    }
    let mut set = [0u8; 8];
    p.mm().read(a.ptr(4), &mut set)?;
    let old = p.blocked();
    p.set_blocked(u64::from_le_bytes(set));
    let r = {
        let c = Caller::of(p);
        timeout(&c).and_then(|t| do_wait(&c, a, t))
    };
    if matches!(r, Err(Errno::EINTR)) {
        // The handler runs with the wait's mask; sigreturn restores the old one.
        p.saved_mask = Some(old);
    } else {
        p.set_blocked(old);
    }
    r
}

pub fn sys_epoll_pwait(p: &mut Thread, a: Args) -> SysResult {
    masked_wait(p, a, |_| Ok(millis(a.int(3))))
}

pub fn sys_epoll_pwait2(p: &mut Thread, a: Args) -> SysResult {
    masked_wait(p, a, |c| timespec_timeout(c, a.ptr(3)))
}

fn do_eventfd(c: &Caller, initial: u32, flags: u32) -> SysResult {
    if flags & !(EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    install(
        c,
        FileKind::EventFd(EventFd::new(initial, flags & EFD_SEMAPHORE != 0)),
        flags & O_NONBLOCK,
        flags & EFD_CLOEXEC != 0,
    )
}

pub fn sys_eventfd(c: &Caller, a: Args) -> SysResult {
    do_eventfd(c, a.uint(0), 0)
}

pub fn sys_eventfd2(c: &Caller, a: Args) -> SysResult {
    do_eventfd(c, a.uint(0), a.uint(1))
}

const TFD_TIMER_ABSTIME: u32 = 1;
const TFD_TIMER_CANCEL_ON_SET: u32 = 2;

pub fn sys_timerfd_create(c: &Caller, a: Args) -> SysResult {
    use isounik_linux::time::*;
    let realtime = match a.uint(0) {
        CLOCK_REALTIME | CLOCK_REALTIME_ALARM => true,
        CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_BOOTTIME_ALARM => false,
        _ => return Err(Errno::EINVAL),
    };
    let flags = a.uint(1);
    if flags & !(O_NONBLOCK | O_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    install(
        c,
        FileKind::TimerFd(TimerFd::new(realtime)),
        flags & O_NONBLOCK,
        flags & O_CLOEXEC != 0,
    )
}

fn timerfd_arg(c: &Caller, a: Args) -> Result<Arc<TimerFd>, Errno> {
    let file = c.files.lock().get(a.fd(0)?)?;
    match &file.kind {
        FileKind::TimerFd(t) => Ok(t.clone()),
        _ => Err(Errno::EINVAL),
    }
}

fn itimerspec_bytes(next_ns: u64, interval_ns: u64) -> [u8; Itimerspec::SIZE] {
    Itimerspec {
        it_interval: Timespec::from_nanos(interval_ns),
        it_value: Timespec::from_nanos(next_ns),
    }
    .to_bytes()
}

pub fn sys_timerfd_settime(c: &Caller, a: Args) -> SysResult {
    let timer = timerfd_arg(c, a)?;
    let flags = a.uint(1);
    if flags & !(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET) != 0 {
        return Err(Errno::EINVAL);
    }
    let mut b = [0u8; Itimerspec::SIZE];
    c.read(a.ptr(2), &mut b)?;
    let spec = Itimerspec::from_bytes(&b).ok_or(Errno::EFAULT)?;
    let value = spec.it_value.as_nanos().ok_or(Errno::EINVAL)?;
    let interval = spec.it_interval.as_nanos().ok_or(Errno::EINVAL)?;
    let absolute = flags & TFD_TIMER_ABSTIME != 0;
    // Deadlines are uptime: an absolute wall-clock time becomes one (a time already past
    // expires at once; 1 ns, since 0 disarms).
    let value = if absolute && timer.realtime && value != 0 {
        let now_real = crate::time::realtime_ns();
        let now = crate::time::uptime_ns();
        (value.saturating_sub(now_real) + now).max(1)
    } else {
        value
    };
    if a.ptr(3) != 0 {
        c.check_range(a.ptr(3), Itimerspec::SIZE)?;
    }
    let (old_next, old_interval) = timer.set(value, interval, absolute);
    if a.ptr(3) != 0 {
        c.write(a.ptr(3), &itimerspec_bytes(old_next, old_interval))?;
    }
    Ok(0)
}

pub fn sys_timerfd_gettime(c: &Caller, a: Args) -> SysResult {
    let timer = timerfd_arg(c, a)?;
    let (next, interval) = timer.get();
    c.write(a.ptr(1), &itimerspec_bytes(next, interval))?;
    Ok(0)
}
