//! `struct stat` (x86-64, asm/stat.h) and `struct statx` (linux/stat.h).

use super::le::*;
use super::time::Timespec;

/// The x86-64 `struct stat` of `stat`/`fstat`/`lstat`/`newfstatat`: 144 bytes.
///
/// Offsets: st_dev 0, st_ino 8, st_nlink 16, st_mode 24, st_uid 28, st_gid 32, (pad 36),
/// st_rdev 40, st_size 48, st_blksize 56, st_blocks 64, st_atime 72 (+nsec 80),
/// st_mtime 88 (+nsec 96), st_ctime 104 (+nsec 112), 3 reserved longs 120..144.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    pub st_dev: u64,
    pub st_ino: u64,
    pub st_nlink: u64,
    pub st_mode: u32,
    pub st_uid: u32,
    pub st_gid: u32,
    pub st_rdev: u64,
    pub st_size: i64,
    pub st_blksize: i64,
    /// In 512-byte units.
    pub st_blocks: i64,
    pub st_atime: Timespec,
    pub st_mtime: Timespec,
    pub st_ctime: Timespec,
}

impl Stat {
    pub const SIZE: usize = 144;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u64(&mut b, 0, self.st_dev);
        put_u64(&mut b, 8, self.st_ino);
        put_u64(&mut b, 16, self.st_nlink);
        put_u32(&mut b, 24, self.st_mode);
        put_u32(&mut b, 28, self.st_uid);
        put_u32(&mut b, 32, self.st_gid);
        put_u64(&mut b, 40, self.st_rdev);
        put_i64(&mut b, 48, self.st_size);
        put_i64(&mut b, 56, self.st_blksize);
        put_i64(&mut b, 64, self.st_blocks);
        self.st_atime.write(&mut b, 72);
        self.st_mtime.write(&mut b, 88);
        self.st_ctime.write(&mut b, 104);
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() < Self::SIZE {
            return None;
        }
        Some(Stat {
            st_dev: get_u64(b, 0),
            st_ino: get_u64(b, 8),
            st_nlink: get_u64(b, 16),
            st_mode: get_u32(b, 24),
            st_uid: get_u32(b, 28),
            st_gid: get_u32(b, 32),
            st_rdev: get_u64(b, 40),
            st_size: get_i64(b, 48),
            st_blksize: get_i64(b, 56),
            st_blocks: get_i64(b, 64),
            st_atime: Timespec::read(b, 72),
            st_mtime: Timespec::read(b, 88),
            st_ctime: Timespec::read(b, 104),
        })
    }
}

/// `struct statx_timestamp`: `tv_sec` i64, `tv_nsec` u32, reserved i32; 16 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatxTimestamp {
    pub tv_sec: i64,
    pub tv_nsec: u32,
}

impl StatxTimestamp {
    pub const SIZE: usize = 16;

    pub(crate) fn write(&self, b: &mut [u8], off: usize) {
        put_i64(b, off, self.tv_sec);
        put_u32(b, off + 8, self.tv_nsec);
    }

    pub(crate) fn read(b: &[u8], off: usize) -> Self {
        StatxTimestamp {
            tv_sec: get_i64(b, off),
            tv_nsec: get_u32(b, off + 8),
        }
    }
}

impl From<Timespec> for StatxTimestamp {
    fn from(t: Timespec) -> Self {
        StatxTimestamp {
            tv_sec: t.tv_sec,
            tv_nsec: t.tv_nsec as u32,
        }
    }
}

/// `struct statx`: 256 bytes.
///
/// Offsets: mask 0, blksize 4, attributes 8, nlink 16, uid 20, gid 24, mode 28 (u16),
/// ino 32, size 40, blocks 48, attributes_mask 56, atime 64, btime 80, ctime 96,
/// mtime 112, rdev_major 128, rdev_minor 132, dev_major 136, dev_minor 140, mnt_id 144,
/// dio_mem_align 152, dio_offset_align 156, subvol 160, atomic_write_unit_min 168,
/// atomic_write_unit_max 172, atomic_write_segments_max 176, dio_read_offset_align 180,
/// atomic_write_unit_max_opt 184, spare 188..256.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Statx {
    pub stx_mask: u32,
    pub stx_blksize: u32,
    pub stx_attributes: u64,
    pub stx_nlink: u32,
    pub stx_uid: u32,
    pub stx_gid: u32,
    pub stx_mode: u16,
    pub stx_ino: u64,
    pub stx_size: u64,
    pub stx_blocks: u64,
    pub stx_attributes_mask: u64,
    pub stx_atime: StatxTimestamp,
    pub stx_btime: StatxTimestamp,
    pub stx_ctime: StatxTimestamp,
    pub stx_mtime: StatxTimestamp,
    pub stx_rdev_major: u32,
    pub stx_rdev_minor: u32,
    pub stx_dev_major: u32,
    pub stx_dev_minor: u32,
    pub stx_mnt_id: u64,
    pub stx_dio_mem_align: u32,
    pub stx_dio_offset_align: u32,
    pub stx_subvol: u64,
    pub stx_atomic_write_unit_min: u32,
    pub stx_atomic_write_unit_max: u32,
    pub stx_atomic_write_segments_max: u32,
    pub stx_dio_read_offset_align: u32,
    pub stx_atomic_write_unit_max_opt: u32,
}

impl Statx {
    pub const SIZE: usize = 256;

    /// The `statx` answer carrying what a `struct stat` says, with
    /// `stx_mask = STATX_BASIC_STATS`.
    pub fn from_stat(st: &Stat) -> Self {
        use crate::stat::{major, minor, STATX_BASIC_STATS};
        Statx {
            stx_mask: STATX_BASIC_STATS,
            stx_blksize: st.st_blksize as u32,
            stx_nlink: st.st_nlink as u32,
            stx_uid: st.st_uid,
            stx_gid: st.st_gid,
            stx_mode: st.st_mode as u16,
            stx_ino: st.st_ino,
            stx_size: st.st_size as u64,
            stx_blocks: st.st_blocks as u64,
            stx_atime: st.st_atime.into(),
            stx_ctime: st.st_ctime.into(),
            stx_mtime: st.st_mtime.into(),
            stx_rdev_major: major(st.st_rdev),
            stx_rdev_minor: minor(st.st_rdev),
            stx_dev_major: major(st.st_dev),
            stx_dev_minor: minor(st.st_dev),
            ..Statx::default()
        }
    }

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u32(&mut b, 0, self.stx_mask);
        put_u32(&mut b, 4, self.stx_blksize);
        put_u64(&mut b, 8, self.stx_attributes);
        put_u32(&mut b, 16, self.stx_nlink);
        put_u32(&mut b, 20, self.stx_uid);
        put_u32(&mut b, 24, self.stx_gid);
        put_u16(&mut b, 28, self.stx_mode);
        put_u64(&mut b, 32, self.stx_ino);
        put_u64(&mut b, 40, self.stx_size);
        put_u64(&mut b, 48, self.stx_blocks);
        put_u64(&mut b, 56, self.stx_attributes_mask);
        self.stx_atime.write(&mut b, 64);
        self.stx_btime.write(&mut b, 80);
        self.stx_ctime.write(&mut b, 96);
        self.stx_mtime.write(&mut b, 112);
        put_u32(&mut b, 128, self.stx_rdev_major);
        put_u32(&mut b, 132, self.stx_rdev_minor);
        put_u32(&mut b, 136, self.stx_dev_major);
        put_u32(&mut b, 140, self.stx_dev_minor);
        put_u64(&mut b, 144, self.stx_mnt_id);
        put_u32(&mut b, 152, self.stx_dio_mem_align);
        put_u32(&mut b, 156, self.stx_dio_offset_align);
        put_u64(&mut b, 160, self.stx_subvol);
        put_u32(&mut b, 168, self.stx_atomic_write_unit_min);
        put_u32(&mut b, 172, self.stx_atomic_write_unit_max);
        put_u32(&mut b, 176, self.stx_atomic_write_segments_max);
        put_u32(&mut b, 180, self.stx_dio_read_offset_align);
        put_u32(&mut b, 184, self.stx_atomic_write_unit_max_opt);
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() < Self::SIZE {
            return None;
        }
        Some(Statx {
            stx_mask: get_u32(b, 0),
            stx_blksize: get_u32(b, 4),
            stx_attributes: get_u64(b, 8),
            stx_nlink: get_u32(b, 16),
            stx_uid: get_u32(b, 20),
            stx_gid: get_u32(b, 24),
            stx_mode: get_u16(b, 28),
            stx_ino: get_u64(b, 32),
            stx_size: get_u64(b, 40),
            stx_blocks: get_u64(b, 48),
            stx_attributes_mask: get_u64(b, 56),
            stx_atime: StatxTimestamp::read(b, 64),
            stx_btime: StatxTimestamp::read(b, 80),
            stx_ctime: StatxTimestamp::read(b, 96),
            stx_mtime: StatxTimestamp::read(b, 112),
            stx_rdev_major: get_u32(b, 128),
            stx_rdev_minor: get_u32(b, 132),
            stx_dev_major: get_u32(b, 136),
            stx_dev_minor: get_u32(b, 140),
            stx_mnt_id: get_u64(b, 144),
            stx_dio_mem_align: get_u32(b, 152),
            stx_dio_offset_align: get_u32(b, 156),
            stx_subvol: get_u64(b, 160),
            stx_atomic_write_unit_min: get_u32(b, 168),
            stx_atomic_write_unit_max: get_u32(b, 172),
            stx_atomic_write_segments_max: get_u32(b, 176),
            stx_dio_read_offset_align: get_u32(b, 180),
            stx_atomic_write_unit_max_opt: get_u32(b, 184),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structs::testutil::rd;

    #[test]
    fn stat_layout() {
        let st = Stat {
            st_dev: 0x0101,
            st_ino: 0x0202,
            st_nlink: 3,
            st_mode: 0o100644,
            st_uid: 1000,
            st_gid: 100,
            st_rdev: 0x0505,
            st_size: 0x0606,
            st_blksize: 4096,
            st_blocks: 8,
            st_atime: Timespec::new(11, 12),
            st_mtime: Timespec::new(13, 14),
            st_ctime: Timespec::new(15, 16),
        };
        let b = st.to_bytes();
        assert_eq!(b.len(), 144);
        let expect: &[(usize, usize, u64)] = &[
            (0, 8, 0x0101),
            (8, 8, 0x0202),
            (16, 8, 3),
            (24, 4, 0o100644),
            (28, 4, 1000),
            (32, 4, 100),
            (36, 4, 0),
            (40, 8, 0x0505),
            (48, 8, 0x0606),
            (56, 8, 4096),
            (64, 8, 8),
            (72, 8, 11),
            (80, 8, 12),
            (88, 8, 13),
            (96, 8, 14),
            (104, 8, 15),
            (112, 8, 16),
            (120, 8, 0),
            (128, 8, 0),
            (136, 8, 0),
        ];
        for &(off, n, v) in expect {
            assert_eq!(rd(&b, off, n), v, "offset {off}");
        }
        assert_eq!(Stat::from_bytes(&b), Some(st));
        assert_eq!(Stat::from_bytes(&b[..143]), None);
    }

    #[test]
    fn statx_layout() {
        let sx = Statx {
            stx_mask: 0x7ff,
            stx_blksize: 4096,
            stx_attributes: 0x20,
            stx_nlink: 2,
            stx_uid: 1000,
            stx_gid: 1001,
            stx_mode: 0o40755,
            stx_ino: 77,
            stx_size: 1234,
            stx_blocks: 8,
            stx_attributes_mask: 0x3070,
            stx_atime: StatxTimestamp {
                tv_sec: 1,
                tv_nsec: 2,
            },
            stx_btime: StatxTimestamp {
                tv_sec: 3,
                tv_nsec: 4,
            },
            stx_ctime: StatxTimestamp {
                tv_sec: 5,
                tv_nsec: 6,
            },
            stx_mtime: StatxTimestamp {
                tv_sec: 7,
                tv_nsec: 8,
            },
            stx_rdev_major: 136,
            stx_rdev_minor: 1,
            stx_dev_major: 8,
            stx_dev_minor: 2,
            stx_mnt_id: 99,
            stx_dio_mem_align: 512,
            stx_dio_offset_align: 4096,
            stx_subvol: 5,
            stx_atomic_write_unit_min: 11,
            stx_atomic_write_unit_max: 12,
            stx_atomic_write_segments_max: 13,
            stx_dio_read_offset_align: 14,
            stx_atomic_write_unit_max_opt: 15,
        };
        let b = sx.to_bytes();
        assert_eq!(b.len(), 256);
        let expect: &[(usize, usize, u64)] = &[
            (0, 4, 0x7ff),
            (4, 4, 4096),
            (8, 8, 0x20),
            (16, 4, 2),
            (20, 4, 1000),
            (24, 4, 1001),
            (28, 2, 0o40755),
            (30, 2, 0),
            (32, 8, 77),
            (40, 8, 1234),
            (48, 8, 8),
            (56, 8, 0x3070),
            (64, 8, 1),
            (72, 4, 2),
            (76, 4, 0),
            (80, 8, 3),
            (88, 4, 4),
            (96, 8, 5),
            (104, 4, 6),
            (112, 8, 7),
            (120, 4, 8),
            (128, 4, 136),
            (132, 4, 1),
            (136, 4, 8),
            (140, 4, 2),
            (144, 8, 99),
            (152, 4, 512),
            (156, 4, 4096),
            (160, 8, 5),
            (168, 4, 11),
            (172, 4, 12),
            (176, 4, 13),
            (180, 4, 14),
            (184, 4, 15),
        ];
        for &(off, n, v) in expect {
            assert_eq!(rd(&b, off, n), v, "offset {off}");
        }
        assert!(b[188..].iter().all(|&x| x == 0));
        assert_eq!(Statx::from_bytes(&b), Some(sx));
    }

    #[test]
    fn statx_from_stat() {
        let st = Stat {
            st_dev: crate::stat::makedev(8, 1),
            st_rdev: crate::stat::makedev(136, 3),
            st_mode: 0o20620,
            st_size: 0,
            st_blksize: 1024,
            st_ino: 9,
            st_nlink: 1,
            st_mtime: Timespec::new(100, 5),
            ..Stat::default()
        };
        let sx = Statx::from_stat(&st);
        assert_eq!(sx.stx_mask, crate::stat::STATX_BASIC_STATS);
        assert_eq!((sx.stx_dev_major, sx.stx_dev_minor), (8, 1));
        assert_eq!((sx.stx_rdev_major, sx.stx_rdev_minor), (136, 3));
        assert_eq!(sx.stx_mode, 0o20620);
        assert_eq!(
            sx.stx_mtime,
            StatxTimestamp {
                tv_sec: 100,
                tv_nsec: 5
            }
        );
    }
}
