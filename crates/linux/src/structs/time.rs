//! `struct timespec`, `timeval`, `timezone`, `itimerval`, `itimerspec`, `tms`.

use super::le::*;
use crate::time::{NSEC_PER_SEC, USEC_PER_SEC};

/// `struct timespec` (`__kernel_timespec` on x86-64): 16 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}

impl Timespec {
    pub const SIZE: usize = 16;

    pub const fn new(tv_sec: i64, tv_nsec: i64) -> Self {
        Timespec { tv_sec, tv_nsec }
    }

    pub const fn from_nanos(ns: u64) -> Self {
        Timespec {
            tv_sec: (ns / NSEC_PER_SEC) as i64,
            tv_nsec: (ns % NSEC_PER_SEC) as i64,
        }
    }

    /// Whether the kernel accepts it as a time value: `tv_sec >= 0`, `0 <= tv_nsec < 1e9`
    /// (`timespec64_valid`).
    pub const fn is_valid(&self) -> bool {
        self.tv_sec >= 0 && self.tv_nsec >= 0 && self.tv_nsec < NSEC_PER_SEC as i64
    }

    /// Total nanoseconds, `None` if invalid or overflowing.
    pub fn as_nanos(&self) -> Option<u64> {
        if !self.is_valid() {
            return None;
        }
        (self.tv_sec as u64)
            .checked_mul(NSEC_PER_SEC)?
            .checked_add(self.tv_nsec as u64)
    }

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        self.write(&mut b, 0);
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        (b.len() >= Self::SIZE).then(|| Self::read(b, 0))
    }

    pub(crate) fn write(&self, b: &mut [u8], off: usize) {
        put_i64(b, off, self.tv_sec);
        put_i64(b, off + 8, self.tv_nsec);
    }

    pub(crate) fn read(b: &[u8], off: usize) -> Self {
        Timespec {
            tv_sec: get_i64(b, off),
            tv_nsec: get_i64(b, off + 8),
        }
    }
}

/// `struct timeval` (`__kernel_old_timeval`): 16 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timeval {
    pub tv_sec: i64,
    pub tv_usec: i64,
}

impl Timeval {
    pub const SIZE: usize = 16;

    pub const fn new(tv_sec: i64, tv_usec: i64) -> Self {
        Timeval { tv_sec, tv_usec }
    }

    /// Truncates to microseconds.
    pub const fn from_nanos(ns: u64) -> Self {
        Timeval {
            tv_sec: (ns / NSEC_PER_SEC) as i64,
            tv_usec: ((ns % NSEC_PER_SEC) / 1000) as i64,
        }
    }

    pub const fn is_valid(&self) -> bool {
        self.tv_sec >= 0 && self.tv_usec >= 0 && self.tv_usec < USEC_PER_SEC as i64
    }

    pub fn as_nanos(&self) -> Option<u64> {
        if !self.is_valid() {
            return None;
        }
        (self.tv_sec as u64)
            .checked_mul(NSEC_PER_SEC)?
            .checked_add(self.tv_usec as u64 * 1000)
    }

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        self.write(&mut b, 0);
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        (b.len() >= Self::SIZE).then(|| Self::read(b, 0))
    }

    pub(crate) fn write(&self, b: &mut [u8], off: usize) {
        put_i64(b, off, self.tv_sec);
        put_i64(b, off + 8, self.tv_usec);
    }

    pub(crate) fn read(b: &[u8], off: usize) -> Self {
        Timeval {
            tv_sec: get_i64(b, off),
            tv_usec: get_i64(b, off + 8),
        }
    }
}

/// `struct timezone`: 8 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timezone {
    pub tz_minuteswest: i32,
    pub tz_dsttime: i32,
}

impl Timezone {
    pub const SIZE: usize = 8;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_i32(&mut b, 0, self.tz_minuteswest);
        put_i32(&mut b, 4, self.tz_dsttime);
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        (b.len() >= Self::SIZE).then(|| Timezone {
            tz_minuteswest: get_i32(b, 0),
            tz_dsttime: get_i32(b, 4),
        })
    }
}

/// `struct itimerval` (`setitimer`): interval then value, 32 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Itimerval {
    pub it_interval: Timeval,
    pub it_value: Timeval,
}

impl Itimerval {
    pub const SIZE: usize = 32;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        self.it_interval.write(&mut b, 0);
        self.it_value.write(&mut b, 16);
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        (b.len() >= Self::SIZE).then(|| Itimerval {
            it_interval: Timeval::read(b, 0),
            it_value: Timeval::read(b, 16),
        })
    }
}

/// `struct itimerspec` (`timer_settime`, `timerfd_settime`): interval then value, 32 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Itimerspec {
    pub it_interval: Timespec,
    pub it_value: Timespec,
}

impl Itimerspec {
    pub const SIZE: usize = 32;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        self.it_interval.write(&mut b, 0);
        self.it_value.write(&mut b, 16);
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        (b.len() >= Self::SIZE).then(|| Itimerspec {
            it_interval: Timespec::read(b, 0),
            it_value: Timespec::read(b, 16),
        })
    }
}

/// `struct tms` (`times`), in clock ticks (`USER_HZ`): 32 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tms {
    pub tms_utime: i64,
    pub tms_stime: i64,
    pub tms_cutime: i64,
    pub tms_cstime: i64,
}

impl Tms {
    pub const SIZE: usize = 32;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_i64(&mut b, 0, self.tms_utime);
        put_i64(&mut b, 8, self.tms_stime);
        put_i64(&mut b, 16, self.tms_cutime);
        put_i64(&mut b, 24, self.tms_cstime);
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structs::testutil::rd;

    #[test]
    fn layouts() {
        let t = Timespec::new(0x1122_3344_5566_7788, 999_999_999);
        let b = t.to_bytes();
        assert_eq!(b.len(), 16);
        assert_eq!(rd(&b, 0, 8), 0x1122_3344_5566_7788);
        assert_eq!(rd(&b, 8, 8), 999_999_999);
        assert_eq!(Timespec::from_bytes(&b), Some(t));
        assert_eq!(Timespec::from_bytes(&b[..15]), None);

        let v = Timeval::new(5, 123_456);
        let b = v.to_bytes();
        assert_eq!((rd(&b, 0, 8), rd(&b, 8, 8)), (5, 123_456));
        assert_eq!(Timeval::from_bytes(&b), Some(v));

        let z = Timezone {
            tz_minuteswest: -60,
            tz_dsttime: 1,
        };
        let b = z.to_bytes();
        assert_eq!(rd(&b, 0, 4) as u32 as i32, -60);
        assert_eq!(rd(&b, 4, 4), 1);
        assert_eq!(Timezone::from_bytes(&b), Some(z));

        let it = Itimerval {
            it_interval: Timeval::new(1, 2),
            it_value: Timeval::new(3, 4),
        };
        let b = it.to_bytes();
        assert_eq!(
            [rd(&b, 0, 8), rd(&b, 8, 8), rd(&b, 16, 8), rd(&b, 24, 8)],
            [1, 2, 3, 4]
        );
        assert_eq!(Itimerval::from_bytes(&b), Some(it));

        let is = Itimerspec {
            it_interval: Timespec::new(1, 2),
            it_value: Timespec::new(3, 4),
        };
        let b = is.to_bytes();
        assert_eq!(
            [rd(&b, 0, 8), rd(&b, 8, 8), rd(&b, 16, 8), rd(&b, 24, 8)],
            [1, 2, 3, 4]
        );
        assert_eq!(Itimerspec::from_bytes(&b), Some(is));

        let tms = Tms {
            tms_utime: 1,
            tms_stime: 2,
            tms_cutime: 3,
            tms_cstime: 4,
        };
        let b = tms.to_bytes();
        assert_eq!(
            [rd(&b, 0, 8), rd(&b, 8, 8), rd(&b, 16, 8), rd(&b, 24, 8)],
            [1, 2, 3, 4]
        );
    }

    #[test]
    fn conversions() {
        assert_eq!(
            Timespec::from_nanos(1_500_000_000),
            Timespec::new(1, 500_000_000)
        );
        assert_eq!(Timespec::new(2, 5).as_nanos(), Some(2_000_000_005));
        assert_eq!(Timespec::new(0, 1_000_000_000).as_nanos(), None);
        assert_eq!(Timespec::new(-1, 0).as_nanos(), None);
        assert_eq!(Timeval::from_nanos(1_500_000_999), Timeval::new(1, 500_000));
        assert_eq!(Timeval::new(1, 1).as_nanos(), Some(1_000_001_000));
        assert!(!Timeval::new(0, 1_000_000).is_valid());
    }
}
