//! epoll and eventfd (`fs::epoll`). All of them need only a `Caller` (the MPK gate runs
//! them in ring 3) except a wait that swaps the signal mask, which ring 0 does, as ppoll.

use alloc::sync::Arc;
use alloc::vec::Vec;

use isounik_linux::errno::Errno;
use isounik_linux::poll::{EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE, EPOLL_CLOEXEC};
use isounik_linux::structs::EpollEvent;

use super::caller::RING0_NEEDED;
use super::{Args, Caller, SysResult};
use crate::fs::epoll::{Epoll, EventFd};
use crate::fs::file::{O_NONBLOCK, O_RDWR};
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
    let mut b = [0u8; 16];
    c.read(addr, &mut b)?;
    let sec = i64::from_le_bytes(b[..8].try_into().expect("8"));
    let nsec = i64::from_le_bytes(b[8..].try_into().expect("8"));
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(Some(
        (sec as u64).saturating_mul(1_000_000_000) + nsec as u64,
    ))
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
