//! futex: WAIT, WAKE, REQUEUE, CMP_REQUEUE and their bitset variants, private and shared,
//! with timeouts. A waiter is keyed by its address space (private) or by the physical
//! address of the futex word (shared), so shared futexes work across processes. Private
//! ones run behind the MPK gate too (waits block through the privilege gate); a shared
//! key needs a page-table walk, ring 0's.

use alloc::vec::Vec;

use isounik_linux::errno::Errno;

use super::{Args, Caller, SysResult};
use crate::proc::Thread;
use crate::sched::{self, Tid};

const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
const FUTEX_REQUEUE: u32 = 3;
const FUTEX_CMP_REQUEUE: u32 = 4;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_WAKE_BITSET: u32 = 10;
const FUTEX_PRIVATE_FLAG: u32 = 128;
const FUTEX_CLOCK_REALTIME: u32 = 256;
const BITSET_MATCH_ANY: u32 = u32::MAX;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Key(u64, u64);

struct Waiter {
    key: Key,
    tid: Tid,
    bitset: u32,
}

static WAITERS: spin::Mutex<Vec<Waiter>> = spin::Mutex::new(Vec::new());

fn key(c: &Caller, addr: u64, private: bool) -> Result<Key, Errno> {
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    if private {
        return Ok(Key(c.mm_key, addr));
    }
    let t = c.thread()?;
    // Shared: the physical frame (fault it in first so both sides see the same page).
    let mut word = [0u8; 4];
    t.mm().read(addr, &mut word)?;
    let phys = crate::mm::translate_unlocked(addr)
        .map(|m| m.phys)
        .ok_or(Errno::EFAULT)?;
    Ok(Key(0, phys))
}

fn read_word(c: &Caller, addr: u64) -> Result<u32, Errno> {
    let mut b = [0u8; 4];
    c.read(addr, &mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn wake(k: Key, count: usize, bitset: u32) -> usize {
    let mut woken = 0;
    let mut waiters = WAITERS.lock();
    waiters.retain(|w| {
        if woken < count && w.key == k && w.bitset & bitset != 0 {
            sched::wake(w.tid);
            woken += 1;
            false
        } else {
            true
        }
    });
    woken
}

/// Wakes up to `count` waiters on `addr` in `t`'s address space (thread exit with
/// CLONE_CHILD_CLEARTID).
pub fn wake_address(t: &Thread, addr: u64, count: usize) {
    let c = Caller::of(t);
    if let Ok(k) = key(&c, addr, true) {
        wake(k, count, BITSET_MATCH_ANY);
    }
    if let Ok(k) = key(&c, addr, false) {
        wake(k, count, BITSET_MATCH_ANY);
    }
}

fn wait(
    c: &Caller,
    addr: u64,
    expected: u32,
    deadline: Option<u64>,
    bitset: u32,
    private: bool,
) -> SysResult {
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let k = key(c, addr, private)?;
    if read_word(c, addr)? != expected {
        return Err(Errno::EAGAIN);
    }
    WAITERS.lock().push(Waiter {
        key: k,
        tid: c.tid,
        bitset,
    });
    loop {
        let still_waiting = WAITERS.lock().iter().any(|w| w.tid == c.tid);
        if !still_waiting {
            return Ok(0);
        }
        if c.signal_pending() {
            WAITERS.lock().retain(|w| w.tid != c.tid);
            return Err(c.interrupted());
        }
        if deadline.is_some_and(|d| crate::time::uptime_ns() >= d) {
            WAITERS.lock().retain(|w| w.tid != c.tid);
            return Err(Errno::ETIMEDOUT);
        }
        sched::block(deadline);
    }
}

fn timeout(c: &Caller, addr: u64, absolute: bool, realtime: bool) -> Result<Option<u64>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let ns = super::time::read_timespec(c, addr)?;
    let now = crate::time::uptime_ns();
    Ok(Some(if absolute {
        let clock_now = if realtime {
            crate::time::realtime_ns()
        } else {
            now
        };
        now + ns.saturating_sub(clock_now)
    } else {
        now.saturating_add(ns)
    }))
}

pub fn sys_futex(c: &Caller, a: Args) -> SysResult {
    let (addr, op, val, addr2, val3) = (a.ptr(0), a.uint(1), a.uint(2), a.ptr(4), a.uint(5));
    let private = op & FUTEX_PRIVATE_FLAG != 0;
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;
    match op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME) {
        FUTEX_WAIT => {
            let deadline = timeout(c, a.ptr(3), false, false)?;
            wait(c, addr, val, deadline, BITSET_MATCH_ANY, private)
        }
        FUTEX_WAIT_BITSET => {
            let deadline = timeout(c, a.ptr(3), true, realtime)?;
            wait(c, addr, val, deadline, val3, private)
        }
        FUTEX_WAKE => Ok(wake(key(c, addr, private)?, val as usize, BITSET_MATCH_ANY) as u64),
        FUTEX_WAKE_BITSET => {
            if val3 == 0 {
                return Err(Errno::EINVAL);
            }
            Ok(wake(key(c, addr, private)?, val as usize, val3) as u64)
        }
        cmd @ (FUTEX_REQUEUE | FUTEX_CMP_REQUEUE) => {
            if cmd == FUTEX_CMP_REQUEUE && read_word(c, addr)? != val3 {
                return Err(Errno::EAGAIN);
            }
            let from = key(c, addr, private)?;
            let to = key(c, addr2, private)?;
            let woken = wake(from, val as usize, BITSET_MATCH_ANY);
            let limit = a.raw(3) as usize; // val2: how many to move
            let mut moved = 0;
            for w in WAITERS.lock().iter_mut() {
                if moved < limit && w.key == from {
                    w.key = to;
                    moved += 1;
                }
            }
            Ok((woken + if cmd == FUTEX_CMP_REQUEUE { moved } else { 0 }) as u64)
        }
        _ => Err(Errno::ENOSYS),
    }
}
