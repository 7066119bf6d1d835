//! File attributes as `stat` and `statx` report them.

use isounik_linux::stat::makedev;
use isounik_linux::structs::{Stat, Statx, Timespec as LinuxTimespec};
use isounik_vfs::{Stat as VfsStat, Timespec};

use super::dev::Device;

/// Everything `stat`/`statx` say about a file, whatever kind of file it is.
#[derive(Clone, Copy, Debug)]
pub struct StatInfo {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev_major: u32,
    pub rdev_minor: u32,
    pub size: u64,
    pub blocks: u64,
    pub blksize: u32,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
}

impl StatInfo {
    /// Device numbers of the file systems (st_dev), as anonymous devices 0:N.
    pub const ROOT_DEV: u64 = 0x10;
    pub const PROC_DEV: u64 = 0x11;
    pub const PIPE_DEV: u64 = 0x12;
    pub const SOCKET_DEV: u64 = 0x13;
    pub const ANON_DEV: u64 = 0x14;

    pub fn from_vfs(s: VfsStat) -> StatInfo {
        StatInfo {
            dev: Self::ROOT_DEV,
            ino: s.ino,
            mode: s.mode,
            nlink: s.nlink,
            uid: s.uid,
            gid: s.gid,
            rdev_major: s.rdev_major,
            rdev_minor: s.rdev_minor,
            size: s.size,
            blocks: s.blocks,
            blksize: s.blksize,
            atime: s.atime,
            mtime: s.mtime,
            ctime: s.ctime,
        }
    }

    pub fn synthetic(
        ino: u64,
        mode: u32,
        nlink: u32,
        size: u64,
        time_ns: u64,
        dev: u64,
    ) -> StatInfo {
        let t = Timespec::new(
            (time_ns / 1_000_000_000) as i64,
            (time_ns % 1_000_000_000) as u32,
        );
        StatInfo {
            dev,
            ino,
            mode,
            nlink,
            uid: 0,
            gid: 0,
            rdev_major: 0,
            rdev_minor: 0,
            size,
            blocks: 0,
            blksize: 4096,
            atime: t,
            mtime: t,
            ctime: t,
        }
    }

    /// The host's standard streams look like pipes (as under `docker run` without `-t`).
    pub fn host_stream(d: Device) -> StatInfo {
        let boot = crate::time::realtime_ns() - crate::time::uptime_ns();
        let ino = match d {
            Device::HostStdin => 1,
            Device::HostStdout => 2,
            _ => 3,
        };
        StatInfo::synthetic(ino, 0o010600, 1, 0, boot, Self::PIPE_DEV)
    }

    pub fn pipe(ino: u64) -> StatInfo {
        let boot = crate::time::realtime_ns() - crate::time::uptime_ns();
        StatInfo::synthetic(ino, 0o010600, 1, 0, boot, Self::PIPE_DEV)
    }

    pub fn socket(ino: u64) -> StatInfo {
        let boot = crate::time::realtime_ns() - crate::time::uptime_ns();
        StatInfo::synthetic(ino, 0o140777, 1, 0, boot, Self::SOCKET_DEV)
    }

    /// An anonymous inode (epoll, eventfd): no file type bits, as Linux.
    pub fn anon(ino: u64) -> StatInfo {
        let boot = crate::time::realtime_ns() - crate::time::uptime_ns();
        StatInfo::synthetic(ino, 0o600, 1, 0, boot, Self::ANON_DEV)
    }

    /// `struct stat` of x86-64.
    pub fn to_linux(self) -> Stat {
        let ts = |t: Timespec| LinuxTimespec {
            tv_sec: t.sec,
            tv_nsec: t.nsec as i64,
        };
        Stat {
            st_dev: self.dev,
            st_ino: self.ino,
            st_nlink: self.nlink as u64,
            st_mode: self.mode,
            st_uid: self.uid,
            st_gid: self.gid,
            st_rdev: makedev(self.rdev_major, self.rdev_minor),
            st_size: self.size as i64,
            st_blksize: self.blksize as i64,
            st_blocks: self.blocks as i64,
            st_atime: ts(self.atime),
            st_mtime: ts(self.mtime),
            st_ctime: ts(self.ctime),
        }
    }

    pub fn to_stat_bytes(self) -> [u8; Stat::SIZE] {
        self.to_linux().to_bytes()
    }

    pub fn to_statx_bytes(self) -> [u8; Statx::SIZE] {
        Statx::from_stat(&self.to_linux()).to_bytes()
    }
}
