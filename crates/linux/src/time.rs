//! Clocks and timers (linux/time.h, linux/timerfd.h).

use crate::flags::Names;

pub const CLOCK_REALTIME: u32 = 0;
pub const CLOCK_MONOTONIC: u32 = 1;
pub const CLOCK_PROCESS_CPUTIME_ID: u32 = 2;
pub const CLOCK_THREAD_CPUTIME_ID: u32 = 3;
pub const CLOCK_MONOTONIC_RAW: u32 = 4;
pub const CLOCK_REALTIME_COARSE: u32 = 5;
pub const CLOCK_MONOTONIC_COARSE: u32 = 6;
pub const CLOCK_BOOTTIME: u32 = 7;
pub const CLOCK_REALTIME_ALARM: u32 = 8;
pub const CLOCK_BOOTTIME_ALARM: u32 = 9;
/// Unused since Linux 4.x but still reserved.
pub const CLOCK_SGI_CYCLE: u32 = 10;
pub const CLOCK_TAI: u32 = 11;
pub const MAX_CLOCKS: u32 = 16;

pub const CLOCK_NAMES: Names = &[
    (0, "CLOCK_REALTIME"),
    (1, "CLOCK_MONOTONIC"),
    (2, "CLOCK_PROCESS_CPUTIME_ID"),
    (3, "CLOCK_THREAD_CPUTIME_ID"),
    (4, "CLOCK_MONOTONIC_RAW"),
    (5, "CLOCK_REALTIME_COARSE"),
    (6, "CLOCK_MONOTONIC_COARSE"),
    (7, "CLOCK_BOOTTIME"),
    (8, "CLOCK_REALTIME_ALARM"),
    (9, "CLOCK_BOOTTIME_ALARM"),
    (10, "CLOCK_SGI_CYCLE"),
    (11, "CLOCK_TAI"),
];

/// `clock_nanosleep`/`timer_settime` flag: the time is absolute.
pub const TIMER_ABSTIME: u32 = 0x01;
pub const TIMER_FLAG_NAMES: Names = &[(TIMER_ABSTIME as u64, "TIMER_ABSTIME")];

/// `setitimer`/`getitimer` timers.
pub const ITIMER_REAL: u32 = 0;
pub const ITIMER_VIRTUAL: u32 = 1;
pub const ITIMER_PROF: u32 = 2;
pub const ITIMER_NAMES: Names = &[
    (0, "ITIMER_REAL"),
    (1, "ITIMER_VIRTUAL"),
    (2, "ITIMER_PROF"),
];

/// `timerfd_create` flags (the open flag bits).
pub const TFD_CLOEXEC: u32 = crate::fcntl::O_CLOEXEC;
pub const TFD_NONBLOCK: u32 = crate::fcntl::O_NONBLOCK;
/// `timerfd_settime` flags.
pub const TFD_TIMER_ABSTIME: u32 = 1 << 0;
pub const TFD_TIMER_CANCEL_ON_SET: u32 = 1 << 1;

pub const NSEC_PER_SEC: u64 = 1_000_000_000;
pub const USEC_PER_SEC: u64 = 1_000_000;
/// `sysconf(_SC_CLK_TCK)` as Linux reports it (`AT_CLKTCK`, `times()` units).
pub const USER_HZ: u64 = 100;
