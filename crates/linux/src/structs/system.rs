//! `struct new_utsname`, `sysinfo`, `rlimit`, `rusage`.

use super::le::*;
use super::time::Timeval;

/// Length of each `utsname` field including the NUL (`__NEW_UTS_LEN + 1`).
pub const UTS_FIELD_LEN: usize = 65;

/// `struct new_utsname` (`uname`): six 65-byte NUL-terminated fields, 390 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utsname {
    pub sysname: [u8; UTS_FIELD_LEN],
    pub nodename: [u8; UTS_FIELD_LEN],
    pub release: [u8; UTS_FIELD_LEN],
    pub version: [u8; UTS_FIELD_LEN],
    pub machine: [u8; UTS_FIELD_LEN],
    pub domainname: [u8; UTS_FIELD_LEN],
}

impl Default for Utsname {
    fn default() -> Self {
        let z = [0u8; UTS_FIELD_LEN];
        Utsname {
            sysname: z,
            nodename: z,
            release: z,
            version: z,
            machine: z,
            domainname: z,
        }
    }
}

impl Utsname {
    pub const SIZE: usize = 6 * UTS_FIELD_LEN;

    /// Builds the fields from strings, each truncated to 64 bytes at a character boundary.
    pub fn new(
        sysname: &str,
        nodename: &str,
        release: &str,
        version: &str,
        machine: &str,
        domainname: &str,
    ) -> Self {
        Utsname {
            sysname: Self::field_from_str(sysname),
            nodename: Self::field_from_str(nodename),
            release: Self::field_from_str(release),
            version: Self::field_from_str(version),
            machine: Self::field_from_str(machine),
            domainname: Self::field_from_str(domainname),
        }
    }

    /// A field holding `s` truncated to at most 64 bytes at a UTF-8 character boundary.
    pub fn field_from_str(s: &str) -> [u8; UTS_FIELD_LEN] {
        let mut n = s.len().min(UTS_FIELD_LEN - 1);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        Self::field_from_bytes(&s.as_bytes()[..n])
    }

    /// A field holding `b` truncated to 64 bytes (what `sethostname` stores; the kernel
    /// rejects longer names with `EINVAL` before that).
    pub fn field_from_bytes(b: &[u8]) -> [u8; UTS_FIELD_LEN] {
        let mut f = [0u8; UTS_FIELD_LEN];
        let n = b.len().min(UTS_FIELD_LEN - 1);
        f[..n].copy_from_slice(&b[..n]);
        f
    }

    /// The bytes of a field up to its NUL.
    pub fn field_bytes(f: &[u8; UTS_FIELD_LEN]) -> &[u8] {
        let n = f.iter().position(|&c| c == 0).unwrap_or(UTS_FIELD_LEN);
        &f[..n]
    }

    fn fields(&self) -> [&[u8; UTS_FIELD_LEN]; 6] {
        [
            &self.sysname,
            &self.nodename,
            &self.release,
            &self.version,
            &self.machine,
            &self.domainname,
        ]
    }

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        for (i, f) in self.fields().into_iter().enumerate() {
            b[i * UTS_FIELD_LEN..(i + 1) * UTS_FIELD_LEN].copy_from_slice(f);
        }
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() < Self::SIZE {
            return None;
        }
        let f = |i: usize| {
            let mut a = [0u8; UTS_FIELD_LEN];
            a.copy_from_slice(&b[i * UTS_FIELD_LEN..(i + 1) * UTS_FIELD_LEN]);
            a
        };
        Some(Utsname {
            sysname: f(0),
            nodename: f(1),
            release: f(2),
            version: f(3),
            machine: f(4),
            domainname: f(5),
        })
    }
}

/// `struct sysinfo` on x86-64: 112 bytes (the `_f` padding is empty on 64-bit, the
/// structure is padded from 108 to 112).
///
/// Offsets: uptime 0, loads 8/16/24, totalram 32, freeram 40, sharedram 48,
/// bufferram 56, totalswap 64, freeswap 72, procs 80 (u16), pad 82, totalhigh 88,
/// freehigh 96, mem_unit 104 (u32).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sysinfo {
    pub uptime: i64,
    /// 1, 5 and 15 minute load averages, fixed point with 16 fractional bits
    /// (`SI_LOAD_SHIFT`).
    pub loads: [u64; 3],
    pub totalram: u64,
    pub freeram: u64,
    pub sharedram: u64,
    pub bufferram: u64,
    pub totalswap: u64,
    pub freeswap: u64,
    pub procs: u16,
    pub totalhigh: u64,
    pub freehigh: u64,
    /// Unit of the memory fields in bytes.
    pub mem_unit: u32,
}

impl Sysinfo {
    pub const SIZE: usize = 112;
    /// Fractional bits of `loads`.
    pub const SI_LOAD_SHIFT: u32 = 16;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_i64(&mut b, 0, self.uptime);
        put_u64(&mut b, 8, self.loads[0]);
        put_u64(&mut b, 16, self.loads[1]);
        put_u64(&mut b, 24, self.loads[2]);
        put_u64(&mut b, 32, self.totalram);
        put_u64(&mut b, 40, self.freeram);
        put_u64(&mut b, 48, self.sharedram);
        put_u64(&mut b, 56, self.bufferram);
        put_u64(&mut b, 64, self.totalswap);
        put_u64(&mut b, 72, self.freeswap);
        put_u16(&mut b, 80, self.procs);
        put_u64(&mut b, 88, self.totalhigh);
        put_u64(&mut b, 96, self.freehigh);
        put_u32(&mut b, 104, self.mem_unit);
        b
    }
}

/// `struct rlimit` / `rlimit64`: 16 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rlimit {
    pub rlim_cur: u64,
    pub rlim_max: u64,
}

impl Rlimit {
    pub const SIZE: usize = 16;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u64(&mut b, 0, self.rlim_cur);
        put_u64(&mut b, 8, self.rlim_max);
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        (b.len() >= Self::SIZE).then(|| Rlimit {
            rlim_cur: get_u64(b, 0),
            rlim_max: get_u64(b, 8),
        })
    }
}

/// `struct rusage`: two timevals and 14 longs, 144 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rusage {
    pub ru_utime: Timeval,
    pub ru_stime: Timeval,
    /// In KiB.
    pub ru_maxrss: i64,
    pub ru_ixrss: i64,
    pub ru_idrss: i64,
    pub ru_isrss: i64,
    pub ru_minflt: i64,
    pub ru_majflt: i64,
    pub ru_nswap: i64,
    pub ru_inblock: i64,
    pub ru_oublock: i64,
    pub ru_msgsnd: i64,
    pub ru_msgrcv: i64,
    pub ru_nsignals: i64,
    pub ru_nvcsw: i64,
    pub ru_nivcsw: i64,
}

impl Rusage {
    pub const SIZE: usize = 144;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        self.ru_utime.write(&mut b, 0);
        self.ru_stime.write(&mut b, 16);
        let longs = [
            self.ru_maxrss,
            self.ru_ixrss,
            self.ru_idrss,
            self.ru_isrss,
            self.ru_minflt,
            self.ru_majflt,
            self.ru_nswap,
            self.ru_inblock,
            self.ru_oublock,
            self.ru_msgsnd,
            self.ru_msgrcv,
            self.ru_nsignals,
            self.ru_nvcsw,
            self.ru_nivcsw,
        ];
        for (i, v) in longs.into_iter().enumerate() {
            put_i64(&mut b, 32 + 8 * i, v);
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structs::testutil::rd;

    #[test]
    fn utsname() {
        let u = Utsname::new("Linux", "iso-unik", "6.1.0", "#1 SMP", "x86_64", "(none)");
        let b = u.to_bytes();
        assert_eq!(b.len(), 390);
        assert_eq!(&b[0..6], b"Linux\0");
        assert_eq!(&b[65..74], b"iso-unik\0");
        assert_eq!(&b[130..136], b"6.1.0\0");
        assert_eq!(&b[195..202], b"#1 SMP\0");
        assert_eq!(&b[260..267], b"x86_64\0");
        assert_eq!(&b[325..332], b"(none)\0");
        assert_eq!(Utsname::from_bytes(&b), Some(u));
        assert_eq!(Utsname::field_bytes(&u.machine), b"x86_64");

        // Truncation: 64 bytes max, never splitting a character, always NUL-terminated.
        let long = "a".repeat(70);
        let f = Utsname::field_from_str(&long);
        assert_eq!(Utsname::field_bytes(&f).len(), 64);
        assert_eq!(f[64], 0);
        let mut s = "b".repeat(63);
        s.push('é'); // two bytes, would end at byte 65
        let f = Utsname::field_from_str(&s);
        assert_eq!(Utsname::field_bytes(&f), "b".repeat(63).as_bytes());
    }

    #[test]
    fn sysinfo() {
        let si = Sysinfo {
            uptime: 1,
            loads: [2, 3, 4],
            totalram: 5,
            freeram: 6,
            sharedram: 7,
            bufferram: 8,
            totalswap: 9,
            freeswap: 10,
            procs: 11,
            totalhigh: 12,
            freehigh: 13,
            mem_unit: 14,
        };
        let b = si.to_bytes();
        assert_eq!(b.len(), 112);
        let expect: &[(usize, usize, u64)] = &[
            (0, 8, 1),
            (8, 8, 2),
            (16, 8, 3),
            (24, 8, 4),
            (32, 8, 5),
            (40, 8, 6),
            (48, 8, 7),
            (56, 8, 8),
            (64, 8, 9),
            (72, 8, 10),
            (80, 2, 11),
            (82, 6, 0),
            (88, 8, 12),
            (96, 8, 13),
            (104, 4, 14),
            (108, 4, 0),
        ];
        for &(off, n, v) in expect {
            assert_eq!(rd(&b, off, n), v, "offset {off}");
        }
    }

    #[test]
    fn rlimit_and_rusage() {
        let r = Rlimit {
            rlim_cur: 1024,
            rlim_max: u64::MAX,
        };
        let b = r.to_bytes();
        assert_eq!((rd(&b, 0, 8), rd(&b, 8, 8)), (1024, u64::MAX));
        assert_eq!(Rlimit::from_bytes(&b), Some(r));

        let ru = Rusage {
            ru_utime: Timeval::new(1, 2),
            ru_stime: Timeval::new(3, 4),
            ru_maxrss: 5,
            ru_minflt: 9,
            ru_nivcsw: 18,
            ..Rusage::default()
        };
        let b = ru.to_bytes();
        assert_eq!(b.len(), 144);
        assert_eq!(
            [rd(&b, 0, 8), rd(&b, 8, 8), rd(&b, 16, 8), rd(&b, 24, 8)],
            [1, 2, 3, 4]
        );
        assert_eq!(rd(&b, 32, 8), 5);
        assert_eq!(rd(&b, 64, 8), 9);
        assert_eq!(rd(&b, 136, 8), 18);
    }
}
