//! File type and permission bits, directory entry types, `utimensat` special values,
//! `statx` masks and attributes, and the `dev_t` encoding (linux/stat.h, linux/kdev_t.h).

use crate::flags::{self, Names};
use alloc::string::String;

pub const S_IFMT: u32 = 0o170000;
pub const S_IFSOCK: u32 = 0o140000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFIFO: u32 = 0o010000;
pub const S_ISUID: u32 = 0o4000;
pub const S_ISGID: u32 = 0o2000;
pub const S_ISVTX: u32 = 0o1000;
pub const S_IRWXU: u32 = 0o700;
pub const S_IRUSR: u32 = 0o400;
pub const S_IWUSR: u32 = 0o200;
pub const S_IXUSR: u32 = 0o100;
pub const S_IRWXG: u32 = 0o070;
pub const S_IRGRP: u32 = 0o040;
pub const S_IWGRP: u32 = 0o020;
pub const S_IXGRP: u32 = 0o010;
pub const S_IRWXO: u32 = 0o007;
pub const S_IROTH: u32 = 0o004;
pub const S_IWOTH: u32 = 0o002;
pub const S_IXOTH: u32 = 0o001;

pub const FILE_TYPE_NAMES: Names = &[
    (S_IFSOCK as u64, "S_IFSOCK"),
    (S_IFLNK as u64, "S_IFLNK"),
    (S_IFREG as u64, "S_IFREG"),
    (S_IFBLK as u64, "S_IFBLK"),
    (S_IFDIR as u64, "S_IFDIR"),
    (S_IFCHR as u64, "S_IFCHR"),
    (S_IFIFO as u64, "S_IFIFO"),
];

/// strace's symbolic mode: `S_IFREG|0644`, `S_IFDIR|S_ISVTX|0777`, or `0644` without a
/// type.
pub fn format_mode(mode: u64) -> String {
    let mut s = String::new();
    let ty = mode & S_IFMT as u64;
    if ty != 0 {
        match flags::lookup(ty, FILE_TYPE_NAMES) {
            Some(n) => s.push_str(n),
            None => flags::write_hex(&mut s, ty),
        }
        s.push('|');
    }
    for (bit, name) in [
        (S_ISUID, "S_ISUID"),
        (S_ISGID, "S_ISGID"),
        (S_ISVTX, "S_ISVTX"),
    ] {
        if mode & bit as u64 != 0 {
            s.push_str(name);
            s.push('|');
        }
    }
    flags::write_octal(&mut s, mode & 0o777);
    let extra = mode & !(S_IFMT as u64 | 0o7777);
    if extra != 0 {
        s.push('|');
        flags::write_hex(&mut s, extra);
    }
    s
}

// ---- d_type of getdents ----
pub const DT_UNKNOWN: u8 = 0;
pub const DT_FIFO: u8 = 1;
pub const DT_CHR: u8 = 2;
pub const DT_DIR: u8 = 4;
pub const DT_BLK: u8 = 6;
pub const DT_REG: u8 = 8;
pub const DT_LNK: u8 = 10;
pub const DT_SOCK: u8 = 12;
pub const DT_WHT: u8 = 14;

/// The `d_type` of a file with mode `mode` (`(mode >> 12) & 15`, as `IFTODT`).
pub const fn dt_from_mode(mode: u32) -> u8 {
    ((mode & S_IFMT) >> 12) as u8
}

// ---- utimensat ----
pub const UTIME_NOW: i64 = (1 << 30) - 1;
pub const UTIME_OMIT: i64 = (1 << 30) - 2;

// ---- dev_t (the 64-bit encoding of glibc/Linux new_encode_dev) ----
/// `makedev(major, minor)` as the kernel encodes `st_dev`/`st_rdev` for user space.
pub const fn makedev(major: u32, minor: u32) -> u64 {
    let (ma, mi) = (major as u64, minor as u64);
    ((ma & 0xffff_f000) << 32) | ((ma & 0xfff) << 8) | ((mi & 0xffff_ff00) << 12) | (mi & 0xff)
}

/// The major number of an encoded device.
pub const fn major(dev: u64) -> u32 {
    (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)) as u32
}

/// The minor number of an encoded device.
pub const fn minor(dev: u64) -> u32 {
    (((dev >> 12) & 0xffff_ff00) | (dev & 0xff)) as u32
}

// ---- statx ----
pub const STATX_TYPE: u32 = 0x0000_0001;
pub const STATX_MODE: u32 = 0x0000_0002;
pub const STATX_NLINK: u32 = 0x0000_0004;
pub const STATX_UID: u32 = 0x0000_0008;
pub const STATX_GID: u32 = 0x0000_0010;
pub const STATX_ATIME: u32 = 0x0000_0020;
pub const STATX_MTIME: u32 = 0x0000_0040;
pub const STATX_CTIME: u32 = 0x0000_0080;
pub const STATX_INO: u32 = 0x0000_0100;
pub const STATX_SIZE: u32 = 0x0000_0200;
pub const STATX_BLOCKS: u32 = 0x0000_0400;
/// Everything `struct stat` has.
pub const STATX_BASIC_STATS: u32 = 0x0000_07ff;
pub const STATX_BTIME: u32 = 0x0000_0800;
/// Deprecated: basic stats and btime.
pub const STATX_ALL: u32 = 0x0000_0fff;
pub const STATX_MNT_ID: u32 = 0x0000_1000;
pub const STATX_DIOALIGN: u32 = 0x0000_2000;
pub const STATX_MNT_ID_UNIQUE: u32 = 0x0000_4000;
pub const STATX_SUBVOL: u32 = 0x0000_8000;
pub const STATX_WRITE_ATOMIC: u32 = 0x0001_0000;
pub const STATX_DIO_READ_ALIGN: u32 = 0x0002_0000;
/// Reserved for future `struct statx` expansion: requesting it is `EINVAL`.
pub const STATX__RESERVED: u32 = 0x8000_0000;

pub const STATX_MASK_NAMES: Names = &[
    (STATX_ALL as u64, "STATX_ALL"),
    (STATX_BASIC_STATS as u64, "STATX_BASIC_STATS"),
    (STATX_TYPE as u64, "STATX_TYPE"),
    (STATX_MODE as u64, "STATX_MODE"),
    (STATX_NLINK as u64, "STATX_NLINK"),
    (STATX_UID as u64, "STATX_UID"),
    (STATX_GID as u64, "STATX_GID"),
    (STATX_ATIME as u64, "STATX_ATIME"),
    (STATX_MTIME as u64, "STATX_MTIME"),
    (STATX_CTIME as u64, "STATX_CTIME"),
    (STATX_INO as u64, "STATX_INO"),
    (STATX_SIZE as u64, "STATX_SIZE"),
    (STATX_BLOCKS as u64, "STATX_BLOCKS"),
    (STATX_BTIME as u64, "STATX_BTIME"),
    (STATX_MNT_ID as u64, "STATX_MNT_ID"),
    (STATX_DIOALIGN as u64, "STATX_DIOALIGN"),
    (STATX_MNT_ID_UNIQUE as u64, "STATX_MNT_ID_UNIQUE"),
    (STATX_SUBVOL as u64, "STATX_SUBVOL"),
    (STATX_WRITE_ATOMIC as u64, "STATX_WRITE_ATOMIC"),
    (STATX_DIO_READ_ALIGN as u64, "STATX_DIO_READ_ALIGN"),
];

pub const STATX_ATTR_COMPRESSED: u64 = 0x0000_0004;
pub const STATX_ATTR_IMMUTABLE: u64 = 0x0000_0010;
pub const STATX_ATTR_APPEND: u64 = 0x0000_0020;
pub const STATX_ATTR_NODUMP: u64 = 0x0000_0040;
pub const STATX_ATTR_ENCRYPTED: u64 = 0x0000_0800;
pub const STATX_ATTR_AUTOMOUNT: u64 = 0x0000_1000;
pub const STATX_ATTR_MOUNT_ROOT: u64 = 0x0000_2000;
pub const STATX_ATTR_VERITY: u64 = 0x0010_0000;
pub const STATX_ATTR_DAX: u64 = 0x0020_0000;
pub const STATX_ATTR_WRITE_ATOMIC: u64 = 0x0040_0000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(format_mode((S_IFREG | 0o644) as u64), "S_IFREG|0644");
        assert_eq!(
            format_mode((S_IFDIR | S_ISVTX | 0o777) as u64),
            "S_IFDIR|S_ISVTX|0777"
        );
        assert_eq!(format_mode((S_IFCHR | 0o620) as u64), "S_IFCHR|0620");
        assert_eq!(format_mode(0o755), "0755");
        assert_eq!(dt_from_mode(S_IFREG | 0o644), DT_REG);
        assert_eq!(dt_from_mode(S_IFDIR), DT_DIR);
        assert_eq!(dt_from_mode(S_IFLNK), DT_LNK);
        assert_eq!(dt_from_mode(S_IFCHR), DT_CHR);
        assert_eq!(dt_from_mode(S_IFSOCK), DT_SOCK);
    }

    #[test]
    fn devices() {
        // /dev/null is 1:3, /dev/tty 5:0, /dev/pts/0 136:0.
        assert_eq!(makedev(1, 3), 0x103);
        assert_eq!(makedev(136, 0), 0x8800);
        assert_eq!(makedev(259, 0x12345), 0x1231_0345);
        for (ma, mi) in [
            (0, 0),
            (1, 3),
            (259, 70000),
            (0xfffff, 0xffff_ffff),
            (4096, 256),
        ] {
            let d = makedev(ma, mi);
            assert_eq!((major(d), minor(d)), (ma, mi));
        }
        assert_eq!(flags::flags_string(0xfff, STATX_MASK_NAMES), "STATX_ALL");
        assert_eq!(
            flags::flags_string(0x17ff, STATX_MASK_NAMES),
            "STATX_BASIC_STATS|STATX_MNT_ID"
        );
    }
}
