//! `open` flags, `*at` flags, `fcntl` commands, `lseek` whence, `flock`, `access` modes
//! (asm-generic/fcntl.h, linux/fcntl.h, linux/fs.h, linux/openat2.h).

use crate::flags::{self, Names};
use alloc::string::String;

// ---- open(2) flags (octal, as in asm-generic/fcntl.h; x86 uses the generic values) ----
pub const O_ACCMODE: u32 = 0o3;
pub const O_RDONLY: u32 = 0o0;
pub const O_WRONLY: u32 = 0o1;
pub const O_RDWR: u32 = 0o2;
pub const O_CREAT: u32 = 0o100;
pub const O_EXCL: u32 = 0o200;
pub const O_NOCTTY: u32 = 0o400;
pub const O_TRUNC: u32 = 0o1000;
pub const O_APPEND: u32 = 0o2000;
pub const O_NONBLOCK: u32 = 0o4000;
pub const O_NDELAY: u32 = O_NONBLOCK;
pub const O_DSYNC: u32 = 0o10000;
pub const FASYNC: u32 = 0o20000;
pub const O_ASYNC: u32 = FASYNC;
pub const O_DIRECT: u32 = 0o40000;
/// Forced on by the kernel for every open on 64-bit (`force_o_largefile`).
pub const O_LARGEFILE: u32 = 0o100000;
pub const O_DIRECTORY: u32 = 0o200000;
pub const O_NOFOLLOW: u32 = 0o400000;
pub const O_NOATIME: u32 = 0o1000000;
pub const O_CLOEXEC: u32 = 0o2000000;
pub const __O_SYNC: u32 = 0o4000000;
pub const O_SYNC: u32 = __O_SYNC | O_DSYNC;
pub const O_RSYNC: u32 = O_SYNC;
pub const O_PATH: u32 = 0o10000000;
pub const __O_TMPFILE: u32 = 0o20000000;
/// `O_TMPFILE` includes `O_DIRECTORY`.
pub const O_TMPFILE: u32 = __O_TMPFILE | O_DIRECTORY;
/// Pipe-only flag of `pipe2` (linux/watch_queue.h): `O_EXCL`.
pub const O_NOTIFICATION_PIPE: u32 = O_EXCL;

/// Open flags other than the access mode, in strace's order (composites first).
pub const OPEN_FLAG_NAMES: Names = &[
    (O_CREAT as u64, "O_CREAT"),
    (O_EXCL as u64, "O_EXCL"),
    (O_NOCTTY as u64, "O_NOCTTY"),
    (O_TRUNC as u64, "O_TRUNC"),
    (O_APPEND as u64, "O_APPEND"),
    (O_NONBLOCK as u64, "O_NONBLOCK"),
    (O_SYNC as u64, "O_SYNC"),
    (__O_SYNC as u64, "__O_SYNC"),
    (O_DSYNC as u64, "O_DSYNC"),
    (O_DIRECT as u64, "O_DIRECT"),
    (O_LARGEFILE as u64, "O_LARGEFILE"),
    (O_NOFOLLOW as u64, "O_NOFOLLOW"),
    (O_NOATIME as u64, "O_NOATIME"),
    (O_CLOEXEC as u64, "O_CLOEXEC"),
    (O_PATH as u64, "O_PATH"),
    (O_TMPFILE as u64, "O_TMPFILE"),
    (__O_TMPFILE as u64, "__O_TMPFILE"),
    (O_DIRECTORY as u64, "O_DIRECTORY"),
    (FASYNC as u64, "FASYNC"),
];

/// `O_RDONLY|O_CLOEXEC`, `O_WRONLY|O_CREAT|O_TRUNC`, `O_RDONLY|0x40000000`.
pub fn format_open_flags(flags: u64) -> String {
    let mut s = String::new();
    match flags & O_ACCMODE as u64 {
        0 => s.push_str("O_RDONLY"),
        1 => s.push_str("O_WRONLY"),
        2 => s.push_str("O_RDWR"),
        _ => s.push_str("O_ACCMODE"),
    }
    let rest = flags & !(O_ACCMODE as u64);
    if rest != 0 {
        s.push('|');
        flags::write_flags(&mut s, rest, OPEN_FLAG_NAMES);
    }
    s
}

/// Flags of `pipe2`/`dup3`/`eventfd2`-like calls that reuse open flag bits.
pub const PIPE_FLAG_NAMES: Names = &[
    (O_NOTIFICATION_PIPE as u64, "O_NOTIFICATION_PIPE"),
    (O_NONBLOCK as u64, "O_NONBLOCK"),
    (O_DIRECT as u64, "O_DIRECT"),
    (O_CLOEXEC as u64, "O_CLOEXEC"),
];

// ---- *at() ----
/// The "current directory" pseudo descriptor of the `*at` calls.
pub const AT_FDCWD: i32 = -100;
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
/// `faccessat2`: check with the effective ids (same bit as `AT_REMOVEDIR`).
pub const AT_EACCESS: u32 = 0x200;
/// `unlinkat`: remove a directory.
pub const AT_REMOVEDIR: u32 = 0x200;
/// `linkat`: follow a symlink source.
pub const AT_SYMLINK_FOLLOW: u32 = 0x400;
pub const AT_NO_AUTOMOUNT: u32 = 0x800;
pub const AT_EMPTY_PATH: u32 = 0x1000;
pub const AT_STATX_SYNC_TYPE: u32 = 0x6000;
pub const AT_STATX_SYNC_AS_STAT: u32 = 0x0000;
pub const AT_STATX_FORCE_SYNC: u32 = 0x2000;
pub const AT_STATX_DONT_SYNC: u32 = 0x4000;
pub const AT_RECURSIVE: u32 = 0x8000;

/// `AT_*` flags as strace prints them for most calls (0x200 as `AT_REMOVEDIR`).
pub const AT_FLAG_NAMES: Names = &[
    (AT_SYMLINK_NOFOLLOW as u64, "AT_SYMLINK_NOFOLLOW"),
    (AT_REMOVEDIR as u64, "AT_REMOVEDIR"),
    (AT_SYMLINK_FOLLOW as u64, "AT_SYMLINK_FOLLOW"),
    (AT_NO_AUTOMOUNT as u64, "AT_NO_AUTOMOUNT"),
    (AT_EMPTY_PATH as u64, "AT_EMPTY_PATH"),
    (AT_RECURSIVE as u64, "AT_RECURSIVE"),
];

/// `faccessat2` flags.
pub const FACCESSAT_FLAG_NAMES: Names = &[
    (AT_SYMLINK_NOFOLLOW as u64, "AT_SYMLINK_NOFOLLOW"),
    (AT_EACCESS as u64, "AT_EACCESS"),
    (AT_EMPTY_PATH as u64, "AT_EMPTY_PATH"),
];

/// `statx` flags: the sync type, then the `AT_*` flags:
/// `AT_STATX_SYNC_AS_STAT|AT_EMPTY_PATH`.
pub fn format_statx_flags(flags: u64) -> String {
    let mut s = String::from(match flags & AT_STATX_SYNC_TYPE as u64 {
        0 => "AT_STATX_SYNC_AS_STAT",
        0x2000 => "AT_STATX_FORCE_SYNC",
        0x4000 => "AT_STATX_DONT_SYNC",
        _ => "AT_STATX_SYNC_TYPE",
    });
    let rest = flags & !(AT_STATX_SYNC_TYPE as u64);
    if rest != 0 {
        s.push('|');
        flags::write_flags(&mut s, rest, AT_FLAG_NAMES);
    }
    s
}

// ---- renameat2 ----
pub const RENAME_NOREPLACE: u32 = 1 << 0;
pub const RENAME_EXCHANGE: u32 = 1 << 1;
pub const RENAME_WHITEOUT: u32 = 1 << 2;
pub const RENAME_FLAG_NAMES: Names = &[
    (RENAME_NOREPLACE as u64, "RENAME_NOREPLACE"),
    (RENAME_EXCHANGE as u64, "RENAME_EXCHANGE"),
    (RENAME_WHITEOUT as u64, "RENAME_WHITEOUT"),
];

// ---- fcntl(2) commands ----
pub const F_DUPFD: u32 = 0;
pub const F_GETFD: u32 = 1;
pub const F_SETFD: u32 = 2;
pub const F_GETFL: u32 = 3;
pub const F_SETFL: u32 = 4;
pub const F_GETLK: u32 = 5;
pub const F_SETLK: u32 = 6;
pub const F_SETLKW: u32 = 7;
pub const F_SETOWN: u32 = 8;
pub const F_GETOWN: u32 = 9;
pub const F_SETSIG: u32 = 10;
pub const F_GETSIG: u32 = 11;
pub const F_SETOWN_EX: u32 = 15;
pub const F_GETOWN_EX: u32 = 16;
pub const F_GETOWNER_UIDS: u32 = 17;
pub const F_OFD_GETLK: u32 = 36;
pub const F_OFD_SETLK: u32 = 37;
pub const F_OFD_SETLKW: u32 = 38;
pub const F_LINUX_SPECIFIC_BASE: u32 = 1024;
pub const F_SETLEASE: u32 = F_LINUX_SPECIFIC_BASE;
pub const F_GETLEASE: u32 = F_LINUX_SPECIFIC_BASE + 1;
pub const F_NOTIFY: u32 = F_LINUX_SPECIFIC_BASE + 2;
pub const F_DUPFD_QUERY: u32 = F_LINUX_SPECIFIC_BASE + 3;
pub const F_CREATED_QUERY: u32 = F_LINUX_SPECIFIC_BASE + 4;
pub const F_CANCELLK: u32 = F_LINUX_SPECIFIC_BASE + 5;
pub const F_DUPFD_CLOEXEC: u32 = F_LINUX_SPECIFIC_BASE + 6;
pub const F_SETPIPE_SZ: u32 = F_LINUX_SPECIFIC_BASE + 7;
pub const F_GETPIPE_SZ: u32 = F_LINUX_SPECIFIC_BASE + 8;
pub const F_ADD_SEALS: u32 = F_LINUX_SPECIFIC_BASE + 9;
pub const F_GET_SEALS: u32 = F_LINUX_SPECIFIC_BASE + 10;
pub const F_GET_RW_HINT: u32 = F_LINUX_SPECIFIC_BASE + 11;
pub const F_SET_RW_HINT: u32 = F_LINUX_SPECIFIC_BASE + 12;
pub const F_GET_FILE_RW_HINT: u32 = F_LINUX_SPECIFIC_BASE + 13;
pub const F_SET_FILE_RW_HINT: u32 = F_LINUX_SPECIFIC_BASE + 14;

pub const FCNTL_CMD_NAMES: Names = &[
    (F_DUPFD as u64, "F_DUPFD"),
    (F_GETFD as u64, "F_GETFD"),
    (F_SETFD as u64, "F_SETFD"),
    (F_GETFL as u64, "F_GETFL"),
    (F_SETFL as u64, "F_SETFL"),
    (F_GETLK as u64, "F_GETLK"),
    (F_SETLK as u64, "F_SETLK"),
    (F_SETLKW as u64, "F_SETLKW"),
    (F_SETOWN as u64, "F_SETOWN"),
    (F_GETOWN as u64, "F_GETOWN"),
    (F_SETSIG as u64, "F_SETSIG"),
    (F_GETSIG as u64, "F_GETSIG"),
    (F_SETOWN_EX as u64, "F_SETOWN_EX"),
    (F_GETOWN_EX as u64, "F_GETOWN_EX"),
    (F_GETOWNER_UIDS as u64, "F_GETOWNER_UIDS"),
    (F_OFD_GETLK as u64, "F_OFD_GETLK"),
    (F_OFD_SETLK as u64, "F_OFD_SETLK"),
    (F_OFD_SETLKW as u64, "F_OFD_SETLKW"),
    (F_SETLEASE as u64, "F_SETLEASE"),
    (F_GETLEASE as u64, "F_GETLEASE"),
    (F_NOTIFY as u64, "F_NOTIFY"),
    (F_DUPFD_QUERY as u64, "F_DUPFD_QUERY"),
    (F_CREATED_QUERY as u64, "F_CREATED_QUERY"),
    (F_CANCELLK as u64, "F_CANCELLK"),
    (F_DUPFD_CLOEXEC as u64, "F_DUPFD_CLOEXEC"),
    (F_SETPIPE_SZ as u64, "F_SETPIPE_SZ"),
    (F_GETPIPE_SZ as u64, "F_GETPIPE_SZ"),
    (F_ADD_SEALS as u64, "F_ADD_SEALS"),
    (F_GET_SEALS as u64, "F_GET_SEALS"),
    (F_GET_RW_HINT as u64, "F_GET_RW_HINT"),
    (F_SET_RW_HINT as u64, "F_SET_RW_HINT"),
    (F_GET_FILE_RW_HINT as u64, "F_GET_FILE_RW_HINT"),
    (F_SET_FILE_RW_HINT as u64, "F_SET_FILE_RW_HINT"),
];

/// The close-on-exec descriptor flag (`F_GETFD`/`F_SETFD`).
pub const FD_CLOEXEC: u32 = 1;
pub const FD_FLAG_NAMES: Names = &[(FD_CLOEXEC as u64, "FD_CLOEXEC")];

/// `struct flock` lock types.
pub const F_RDLCK: i16 = 0;
pub const F_WRLCK: i16 = 1;
pub const F_UNLCK: i16 = 2;
pub const LOCK_TYPE_NAMES: Names = &[(0, "F_RDLCK"), (1, "F_WRLCK"), (2, "F_UNLCK")];

/// `F_SETOWN_EX` owner types.
pub const F_OWNER_TID: i32 = 0;
pub const F_OWNER_PID: i32 = 1;
pub const F_OWNER_PGRP: i32 = 2;

/// File seals (`F_ADD_SEALS`).
pub const F_SEAL_SEAL: u32 = 0x0001;
pub const F_SEAL_SHRINK: u32 = 0x0002;
pub const F_SEAL_GROW: u32 = 0x0004;
pub const F_SEAL_WRITE: u32 = 0x0008;
pub const F_SEAL_FUTURE_WRITE: u32 = 0x0010;
pub const F_SEAL_EXEC: u32 = 0x0020;
pub const SEAL_NAMES: Names = &[
    (F_SEAL_SEAL as u64, "F_SEAL_SEAL"),
    (F_SEAL_SHRINK as u64, "F_SEAL_SHRINK"),
    (F_SEAL_GROW as u64, "F_SEAL_GROW"),
    (F_SEAL_WRITE as u64, "F_SEAL_WRITE"),
    (F_SEAL_FUTURE_WRITE as u64, "F_SEAL_FUTURE_WRITE"),
    (F_SEAL_EXEC as u64, "F_SEAL_EXEC"),
];

// ---- lseek(2) ----
pub const SEEK_SET: u32 = 0;
pub const SEEK_CUR: u32 = 1;
pub const SEEK_END: u32 = 2;
pub const SEEK_DATA: u32 = 3;
pub const SEEK_HOLE: u32 = 4;
pub const WHENCE_NAMES: Names = &[
    (0, "SEEK_SET"),
    (1, "SEEK_CUR"),
    (2, "SEEK_END"),
    (3, "SEEK_DATA"),
    (4, "SEEK_HOLE"),
];

// ---- flock(2) ----
pub const LOCK_SH: u32 = 1;
pub const LOCK_EX: u32 = 2;
pub const LOCK_NB: u32 = 4;
pub const LOCK_UN: u32 = 8;
pub const FLOCK_OP_NAMES: Names = &[
    (LOCK_SH as u64, "LOCK_SH"),
    (LOCK_EX as u64, "LOCK_EX"),
    (LOCK_NB as u64, "LOCK_NB"),
    (LOCK_UN as u64, "LOCK_UN"),
];

// ---- access(2) ----
pub const F_OK: u32 = 0;
pub const X_OK: u32 = 1;
pub const W_OK: u32 = 2;
pub const R_OK: u32 = 4;
pub const ACCESS_MODE_NAMES: Names = &[
    (R_OK as u64, "R_OK"),
    (W_OK as u64, "W_OK"),
    (X_OK as u64, "X_OK"),
];

/// `F_OK`, `R_OK`, `R_OK|X_OK`.
pub fn format_access_mode(mode: u64) -> String {
    if mode == 0 {
        String::from("F_OK")
    } else {
        flags::flags_string(mode, ACCESS_MODE_NAMES)
    }
}

// ---- openat2(2) (linux/openat2.h) ----
pub const RESOLVE_NO_XDEV: u64 = 0x01;
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
pub const RESOLVE_BENEATH: u64 = 0x08;
pub const RESOLVE_IN_ROOT: u64 = 0x10;
pub const RESOLVE_CACHED: u64 = 0x20;

// ---- fallocate(2) (linux/falloc.h) ----
pub const FALLOC_FL_KEEP_SIZE: u32 = 0x01;
pub const FALLOC_FL_PUNCH_HOLE: u32 = 0x02;
pub const FALLOC_FL_COLLAPSE_RANGE: u32 = 0x08;
pub const FALLOC_FL_ZERO_RANGE: u32 = 0x10;
pub const FALLOC_FL_INSERT_RANGE: u32 = 0x20;
pub const FALLOC_FL_UNSHARE_RANGE: u32 = 0x40;

// ---- posix_fadvise ----
pub const POSIX_FADV_NORMAL: u32 = 0;
pub const POSIX_FADV_RANDOM: u32 = 1;
pub const POSIX_FADV_SEQUENTIAL: u32 = 2;
pub const POSIX_FADV_WILLNEED: u32 = 3;
/// x86-64 values (s390 differs).
pub const POSIX_FADV_DONTNEED: u32 = 4;
pub const POSIX_FADV_NOREUSE: u32 = 5;

// ---- close_range(2) ----
pub const CLOSE_RANGE_UNSHARE: u32 = 1 << 1;
pub const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_flags() {
        assert_eq!(format_open_flags(0), "O_RDONLY");
        assert_eq!(
            format_open_flags((O_RDONLY | O_CLOEXEC) as u64),
            "O_RDONLY|O_CLOEXEC"
        );
        assert_eq!(
            format_open_flags((O_WRONLY | O_CREAT | O_TRUNC) as u64),
            "O_WRONLY|O_CREAT|O_TRUNC"
        );
        assert_eq!(
            format_open_flags((O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_DIRECTORY) as u64),
            "O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY"
        );
        assert_eq!(
            format_open_flags((O_RDWR | O_TMPFILE) as u64),
            "O_RDWR|O_TMPFILE"
        );
        assert_eq!(
            format_open_flags((O_WRONLY | O_SYNC) as u64),
            "O_WRONLY|O_SYNC"
        );
        assert_eq!(
            format_open_flags((O_WRONLY | O_DSYNC) as u64),
            "O_WRONLY|O_DSYNC"
        );
        assert_eq!(format_open_flags(0o100002), "O_RDWR|O_LARGEFILE");
        assert_eq!(format_open_flags(0x4000_0000), "O_RDONLY|0x40000000");
        assert_eq!(O_LARGEFILE, 0o100000);
        assert_eq!(O_TMPFILE, 0o20200000);
        assert_eq!(O_CLOEXEC, 0x80000);
        assert_eq!(O_DIRECTORY, 0x10000);
        assert_eq!(O_PATH, 0x200000);
    }

    #[test]
    fn at_and_access() {
        assert_eq!(
            flags::flags_string(0x1100, AT_FLAG_NAMES),
            "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH"
        );
        assert_eq!(format_statx_flags(0), "AT_STATX_SYNC_AS_STAT");
        assert_eq!(
            format_statx_flags(0x1000),
            "AT_STATX_SYNC_AS_STAT|AT_EMPTY_PATH"
        );
        assert_eq!(format_access_mode(0), "F_OK");
        assert_eq!(format_access_mode(5), "R_OK|X_OK");
        assert_eq!(F_DUPFD_CLOEXEC, 1030);
        assert_eq!(F_GETPIPE_SZ, 1032);
    }
}
