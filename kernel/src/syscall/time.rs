//! Clocks and sleeping.

use isounik_linux::errno::Errno;

use super::{Args, Caller, SysResult};
use crate::time;

const CLOCK_REALTIME: u32 = 0;
const CLOCK_MONOTONIC: u32 = 1;
const CLOCK_PROCESS_CPUTIME_ID: u32 = 2;
const CLOCK_THREAD_CPUTIME_ID: u32 = 3;
const CLOCK_MONOTONIC_RAW: u32 = 4;
const CLOCK_REALTIME_COARSE: u32 = 5;
const CLOCK_MONOTONIC_COARSE: u32 = 6;
const CLOCK_BOOTTIME: u32 = 7;
const TIMER_ABSTIME: u64 = 1;

fn clock_ns(clock: u32) -> Result<u64, Errno> {
    match clock {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE => Ok(time::realtime_ns()),
        CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME => {
            Ok(time::uptime_ns())
        }
        // One process on one CPU that never sleeps in the background: its CPU time is close
        // to the uptime; good enough until accounting exists.
        CLOCK_PROCESS_CPUTIME_ID | CLOCK_THREAD_CPUTIME_ID => Ok(time::uptime_ns()),
        _ => Err(Errno::EINVAL),
    }
}

pub fn timeval_bytes(ns: u64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&((ns / 1_000_000_000) as i64).to_le_bytes());
    b[8..].copy_from_slice(&(((ns / 1000) % 1_000_000) as i64).to_le_bytes());
    b
}

pub fn timespec_bytes(ns: u64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&((ns / 1_000_000_000) as i64).to_le_bytes());
    b[8..].copy_from_slice(&((ns % 1_000_000_000) as i64).to_le_bytes());
    b
}

/// A `struct timespec` at `addr` in nanoseconds (EINVAL unless valid, as Linux).
pub(super) fn read_timespec(c: &Caller, addr: u64) -> Result<u64, Errno> {
    let mut b = [0u8; 16];
    c.read(addr, &mut b)?;
    let sec = i64::from_le_bytes(b[..8].try_into().expect("8"));
    let nsec = i64::from_le_bytes(b[8..].try_into().expect("8"));
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    Ok((sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(nsec as u64))
}

pub fn sys_clock_gettime(c: &Caller, a: Args) -> SysResult {
    let ns = clock_ns(a.uint(0))?;
    c.write(a.ptr(1), &timespec_bytes(ns))?;
    Ok(0)
}

pub fn sys_clock_getres(c: &Caller, a: Args) -> SysResult {
    clock_ns(a.uint(0))?;
    if a.ptr(1) != 0 {
        c.write(a.ptr(1), &timespec_bytes(1))?;
    }
    Ok(0)
}

pub fn sys_gettimeofday(c: &Caller, a: Args) -> SysResult {
    if a.ptr(0) != 0 {
        c.write(a.ptr(0), &timeval_bytes(time::realtime_ns()))?;
    }
    if a.ptr(1) != 0 {
        c.write(a.ptr(1), &[0u8; 8])?; // struct timezone: UTC
    }
    Ok(0)
}

pub fn sys_time(c: &Caller, a: Args) -> SysResult {
    let secs = time::realtime_ns() / 1_000_000_000;
    if a.ptr(0) != 0 {
        c.write(a.ptr(0), &secs.to_le_bytes())?;
    }
    Ok(secs)
}

/// Sleeps as a blocked task until the deadline (uptime ns). A signal ends the sleep early:
/// EINTR, with the time left written to `remain` (if not null) for relative sleeps. Runs
/// behind the MPK gate too (blocking through the privilege gate's `PRIV_BLOCK`).
fn sleep_until(c: &Caller, deadline: u64, remain: u64) -> SysResult {
    loop {
        let now = time::uptime_ns();
        if now >= deadline {
            return Ok(0);
        }
        if c.signal_pending() {
            if remain != 0 {
                c.write(remain, &timespec_bytes(deadline - now))?;
            }
            return Err(Errno::EINTR);
        }
        crate::sched::block(Some(deadline));
    }
}

pub fn sys_nanosleep(c: &Caller, a: Args) -> SysResult {
    let ns = read_timespec(c, a.ptr(0))?;
    sleep_until(c, time::uptime_ns().saturating_add(ns), a.ptr(1))
}

pub fn sys_clock_nanosleep(c: &Caller, a: Args) -> SysResult {
    let clock = a.uint(0);
    if clock == CLOCK_PROCESS_CPUTIME_ID || clock == CLOCK_THREAD_CPUTIME_ID {
        return Err(Errno::EINVAL);
    }
    clock_ns(clock)?;
    let ns = read_timespec(c, a.ptr(2))?;
    let absolute = a.raw(1) & TIMER_ABSTIME != 0;
    let deadline = if absolute {
        // Convert an absolute deadline on this clock to uptime.
        let now = clock_ns(clock)?;
        time::uptime_ns() + ns.saturating_sub(now)
    } else {
        time::uptime_ns().saturating_add(ns)
    };
    sleep_until(c, deadline, if absolute { 0 } else { a.ptr(3) })
}

pub fn sys_times(c: &Caller, a: Args) -> SysResult {
    let ticks = time::uptime_ns() / 10_000_000; // USER_HZ = 100
    if a.ptr(0) != 0 {
        let mut b = [0u8; 32];
        b[..8].copy_from_slice(&ticks.to_le_bytes());
        c.write(a.ptr(0), &b)?;
    }
    Ok(ticks)
}
