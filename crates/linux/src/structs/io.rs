//! `struct iovec`, `pollfd`, `epoll_event`, `flock`, `open_how` and the `getdents`
//! record writers.

use super::le::*;
use alloc::vec::Vec;

/// `struct iovec`: base and length, 16 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Iovec {
    pub iov_base: u64,
    pub iov_len: u64,
}

impl Iovec {
    pub const SIZE: usize = 16;
    /// `UIO_MAXIOV`: the most entries `readv`/`writev` accept.
    pub const MAX: usize = 1024;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u64(&mut b, 0, self.iov_base);
        put_u64(&mut b, 8, self.iov_len);
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        (b.len() >= Self::SIZE).then(|| Iovec {
            iov_base: get_u64(b, 0),
            iov_len: get_u64(b, 8),
        })
    }

    /// Parses an array of `b.len() / 16` entries (a trailing partial entry is ignored).
    pub fn array_from_bytes(b: &[u8]) -> Vec<Iovec> {
        b.chunks_exact(Self::SIZE)
            .filter_map(Self::from_bytes)
            .collect()
    }
}

/// `struct pollfd`: fd, requested events, returned events; 8 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pollfd {
    pub fd: i32,
    pub events: u16,
    pub revents: u16,
}

impl Pollfd {
    pub const SIZE: usize = 8;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_i32(&mut b, 0, self.fd);
        put_u16(&mut b, 4, self.events);
        put_u16(&mut b, 6, self.revents);
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        (b.len() >= Self::SIZE).then(|| Pollfd {
            fd: get_i32(b, 0),
            events: get_u16(b, 4),
            revents: get_u16(b, 6),
        })
    }
}

/// `struct epoll_event`: **packed** on x86-64 (`__EPOLL_PACKED`), events u32 at 0 and
/// data u64 at 4; 12 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EpollEvent {
    pub events: u32,
    pub data: u64,
}

impl EpollEvent {
    pub const SIZE: usize = 12;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u32(&mut b, 0, self.events);
        put_u64(&mut b, 4, self.data);
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        (b.len() >= Self::SIZE).then(|| EpollEvent {
            events: get_u32(b, 0),
            data: get_u64(b, 4),
        })
    }
}

/// `struct flock` (= `flock64` on x86-64): type i16 at 0, whence i16 at 2, start i64 at
/// 8, len i64 at 16, pid i32 at 24; 32 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flock {
    pub l_type: i16,
    pub l_whence: i16,
    pub l_start: i64,
    pub l_len: i64,
    pub l_pid: i32,
}

impl Flock {
    pub const SIZE: usize = 32;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_i16(&mut b, 0, self.l_type);
        put_i16(&mut b, 2, self.l_whence);
        put_i64(&mut b, 8, self.l_start);
        put_i64(&mut b, 16, self.l_len);
        put_i32(&mut b, 24, self.l_pid);
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        (b.len() >= Self::SIZE).then(|| Flock {
            l_type: get_i16(b, 0),
            l_whence: get_i16(b, 2),
            l_start: get_i64(b, 8),
            l_len: get_i64(b, 16),
            l_pid: get_i32(b, 24),
        })
    }
}

/// `struct open_how` (`openat2`): flags, mode, resolve; 24 bytes (`OPEN_HOW_SIZE_VER0`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenHow {
    pub flags: u64,
    pub mode: u64,
    pub resolve: u64,
}

impl OpenHow {
    pub const SIZE: usize = 24;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u64(&mut b, 0, self.flags);
        put_u64(&mut b, 8, self.mode);
        put_u64(&mut b, 16, self.resolve);
        b
    }

    /// Parses the first 24 bytes; like the kernel's `copy_struct_from_user`, a longer
    /// structure is accepted only if its extra bytes are zero (else `None`, `E2BIG`).
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() < Self::SIZE || b[Self::SIZE..].iter().any(|&x| x != 0) {
            return None;
        }
        Some(OpenHow {
            flags: get_u64(b, 0),
            mode: get_u64(b, 8),
            resolve: get_u64(b, 16),
        })
    }
}

/// Offset of `d_name` in `struct linux_dirent64` (after d_ino, d_off, d_reclen, d_type).
pub const DIRENT64_NAME_OFFSET: usize = 19;

/// The record length of a `linux_dirent64` with a name of `name_len` bytes: header, name,
/// NUL, rounded up to 8.
pub const fn dirent64_reclen(name_len: usize) -> usize {
    (DIRENT64_NAME_OFFSET + name_len + 1 + 7) & !7
}

/// Writes one `struct linux_dirent64` (`getdents64`) at the start of `out`:
/// d_ino u64 at 0, d_off i64 at 8, d_reclen u16 at 16, d_type u8 at 18, the name at 19,
/// a NUL and zero padding to a multiple of 8. Returns the record length, or `None` if it
/// does not fit in `out` (or the record would exceed `u16::MAX`).
pub fn write_dirent64(
    out: &mut [u8],
    ino: u64,
    off: i64,
    d_type: u8,
    name: &[u8],
) -> Option<usize> {
    let reclen = dirent64_reclen(name.len());
    if reclen > out.len() || reclen > u16::MAX as usize {
        return None;
    }
    let rec = &mut out[..reclen];
    rec.fill(0);
    put_u64(rec, 0, ino);
    put_i64(rec, 8, off);
    put_u16(rec, 16, reclen as u16);
    put_u8(rec, 18, d_type);
    rec[DIRENT64_NAME_OFFSET..DIRENT64_NAME_OFFSET + name.len()].copy_from_slice(name);
    Some(reclen)
}

/// Offset of `d_name` in the old `struct linux_dirent` (`getdents`).
pub const DIRENT_NAME_OFFSET: usize = 18;

/// The record length of an old `linux_dirent`: header, name, NUL, `d_type` byte, rounded
/// up to 8.
pub const fn dirent_reclen(name_len: usize) -> usize {
    (DIRENT_NAME_OFFSET + name_len + 2 + 7) & !7
}

/// Writes one old `struct linux_dirent` (`getdents`, nr 78): d_ino u64 at 0, d_off u64 at
/// 8, d_reclen u16 at 16, the name at 18 with its NUL, and `d_type` in the record's last
/// byte.
pub fn write_dirent(out: &mut [u8], ino: u64, off: i64, d_type: u8, name: &[u8]) -> Option<usize> {
    let reclen = dirent_reclen(name.len());
    if reclen > out.len() || reclen > u16::MAX as usize {
        return None;
    }
    let rec = &mut out[..reclen];
    rec.fill(0);
    put_u64(rec, 0, ino);
    put_i64(rec, 8, off);
    put_u16(rec, 16, reclen as u16);
    rec[DIRENT_NAME_OFFSET..DIRENT_NAME_OFFSET + name.len()].copy_from_slice(name);
    rec[reclen - 1] = d_type;
    Some(reclen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structs::testutil::rd;

    #[test]
    fn small_structs() {
        let v = Iovec {
            iov_base: 0x7fff_0000,
            iov_len: 12,
        };
        let b = v.to_bytes();
        assert_eq!((rd(&b, 0, 8), rd(&b, 8, 8)), (0x7fff_0000, 12));
        let mut two = b.to_vec();
        two.extend_from_slice(
            &Iovec {
                iov_base: 1,
                iov_len: 2,
            }
            .to_bytes(),
        );
        two.push(0xff);
        assert_eq!(
            Iovec::array_from_bytes(&two),
            [
                v,
                Iovec {
                    iov_base: 1,
                    iov_len: 2
                }
            ]
        );

        let p = Pollfd {
            fd: -1,
            events: 1,
            revents: 0x10,
        };
        let b = p.to_bytes();
        assert_eq!(
            (rd(&b, 0, 4), rd(&b, 4, 2), rd(&b, 6, 2)),
            (0xffff_ffff, 1, 0x10)
        );
        assert_eq!(Pollfd::from_bytes(&b), Some(p));

        let e = EpollEvent {
            events: 0x8000_0001,
            data: 0x1122_3344_5566_7788,
        };
        let b = e.to_bytes();
        assert_eq!(b.len(), 12);
        assert_eq!(
            (rd(&b, 0, 4), rd(&b, 4, 8)),
            (0x8000_0001, 0x1122_3344_5566_7788)
        );
        assert_eq!(EpollEvent::from_bytes(&b), Some(e));

        let f = Flock {
            l_type: 1,
            l_whence: 2,
            l_start: 100,
            l_len: -1,
            l_pid: 42,
        };
        let b = f.to_bytes();
        assert_eq!(b.len(), 32);
        assert_eq!((rd(&b, 0, 2), rd(&b, 2, 2), rd(&b, 4, 4)), (1, 2, 0));
        assert_eq!(
            (rd(&b, 8, 8), rd(&b, 16, 8), rd(&b, 24, 4)),
            (100, u64::MAX, 42)
        );
        assert_eq!(Flock::from_bytes(&b), Some(f));

        let h = OpenHow {
            flags: 0o2000000,
            mode: 0o644,
            resolve: 8,
        };
        let mut b = h.to_bytes().to_vec();
        assert_eq!(OpenHow::from_bytes(&b), Some(h));
        b.extend_from_slice(&[0; 8]);
        assert_eq!(OpenHow::from_bytes(&b), Some(h));
        b[30] = 1;
        assert_eq!(OpenHow::from_bytes(&b), None);
    }

    #[test]
    fn dirents() {
        let mut buf = [0xaau8; 64];
        // "." : 19 + 1 + 1 = 21 -> 24
        assert_eq!(write_dirent64(&mut buf, 2, 1, 4, b"."), Some(24));
        assert_eq!(rd(&buf, 0, 8), 2);
        assert_eq!(rd(&buf, 8, 8), 1);
        assert_eq!(rd(&buf, 16, 2), 24);
        assert_eq!(buf[18], 4);
        assert_eq!(&buf[19..24], b".\0\0\0\0");
        assert_eq!(buf[24], 0xaa);
        // 5-byte name: 19 + 5 + 1 = 25 -> 32; 4-byte name: 24 -> 24
        assert_eq!(dirent64_reclen(5), 32);
        assert_eq!(dirent64_reclen(4), 24);
        assert_eq!(write_dirent64(&mut buf[..31], 3, 2, 8, b"hello"), None);
        assert_eq!(write_dirent64(&mut buf[..32], 3, 2, 8, b"hello"), Some(32));

        let mut old = [0xaau8; 32];
        // 18 + 3 + 2 = 23 -> 24
        assert_eq!(write_dirent(&mut old, 7, 9, 8, b"abc"), Some(24));
        assert_eq!(rd(&old, 16, 2), 24);
        assert_eq!(&old[18..22], b"abc\0");
        assert_eq!(old[23], 8);
        assert_eq!(old[24], 0xaa);
    }
}
