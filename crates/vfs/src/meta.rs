//! Metadata: stat, ownership, permissions, times, and the permission check.

use crate::dir::{S_ISGID, S_ISUID};
use crate::inode::Kind;
use crate::{FileType, FsError, InodeId, Platform, Stat, Timespec, Vfs, BLOCK_SIZE};

/// tmpfs reports a directory's size as 20 bytes per entry, "." and ".." included.
const BOGO_DIRENT_SIZE: u64 = 20;
/// relatime: the access time is refreshed at least once a day.
const RELATIME_INTERVAL_SECS: i64 = 24 * 60 * 60;
const S_IXGRP: u32 = 0o010;

impl<P: Platform> Vfs<P> {
    pub fn stat(&self, id: InodeId) -> Result<Stat, FsError> {
        let inode = self.inode(id)?;
        let file_type = inode.kind.file_type();
        let (size, blocks) = match &inode.kind {
            Kind::Regular(pages) => (inode.size, pages.len() as u64 * (BLOCK_SIZE as u64 / 512)),
            Kind::Directory(d) => ((d.len() as u64 + 2) * BOGO_DIRENT_SIZE, 0),
            Kind::Symlink(target) => (target.len() as u64, 0),
            // A mount point shows as the empty directory it covers (what a host sees in
            // the same tree before mounting anything there).
            Kind::Mount { .. } => (2 * BOGO_DIRENT_SIZE, 0),
            Kind::Special(_) => (0, 0),
        };
        Ok(Stat {
            ino: id.ino(),
            file_type,
            mode: file_type.mode_bits() | inode.perm,
            nlink: inode.nlink,
            uid: inode.uid,
            gid: inode.gid,
            rdev_major: inode.rdev.0,
            rdev_minor: inode.rdev.1,
            size,
            blocks,
            blksize: BLOCK_SIZE,
            atime: inode.atime,
            mtime: inode.mtime,
            ctime: inode.ctime,
        })
    }

    pub fn file_type(&self, id: InodeId) -> Result<FileType, FsError> {
        Ok(self.inode(id)?.kind.file_type())
    }

    /// The kernel's tag of a mount point; None for other inodes (and dead ids).
    pub fn mount_tag(&self, id: InodeId) -> Option<u32> {
        match self.inode(id).ok()?.kind {
            Kind::Mount { tag, .. } => Some(tag),
            _ => None,
        }
    }

    /// A symlink's target; Invalid for other inodes (Linux readlink's EINVAL).
    pub fn readlink(&self, id: InodeId) -> Result<&[u8], FsError> {
        match &self.inode(id)?.kind {
            Kind::Symlink(target) => Ok(target),
            _ => Err(FsError::Invalid),
        }
    }

    /// Sets the permission bits (mode & 0o7777). Whether the caller may, and Linux's
    /// clearing of set-group-ID for callers outside the group, is the kernel's (it has the
    /// credentials).
    pub fn chmod(&mut self, id: InodeId, mode: u32) -> Result<(), FsError> {
        let now = self.now();
        let inode = self.inode_mut(id)?;
        inode.perm = mode & 0o7777;
        inode.ctime = now;
        Ok(())
    }

    /// Changes owner and/or group. As Linux (since 2.2.13, for root too), any chown of a
    /// non-directory clears set-user-ID, and set-group-ID when group-execute is set (without
    /// it, the bit marks mandatory locking and stays).
    pub fn chown(
        &mut self,
        id: InodeId,
        uid: Option<u32>,
        gid: Option<u32>,
    ) -> Result<(), FsError> {
        let now = self.now();
        let inode = self.inode_mut(id)?;
        if let Some(uid) = uid {
            inode.uid = uid;
        }
        if let Some(gid) = gid {
            inode.gid = gid;
        }
        if !inode.kind.is_dir_like() {
            inode.perm &= !S_ISUID;
            if inode.perm & S_IXGRP != 0 {
                inode.perm &= !S_ISGID;
            }
        }
        inode.ctime = now;
        Ok(())
    }

    /// Sets access and/or modification time (`utimensat`; the kernel turns `UTIME_NOW` into
    /// `platform().now()` and `UTIME_OMIT` into None). The change time becomes now.
    pub fn set_times(
        &mut self,
        id: InodeId,
        atime: Option<Timespec>,
        mtime: Option<Timespec>,
    ) -> Result<(), FsError> {
        let now = self.now();
        let inode = self.inode_mut(id)?;
        if let Some(t) = atime {
            inode.atime = t;
        }
        if let Some(t) = mtime {
            inode.mtime = t;
        }
        inode.ctime = now;
        Ok(())
    }

    /// Records an access with Linux's default `relatime` rule: the access time moves only
    /// when it is not newer than the modification or change time, or is a day old. Reads and
    /// listings call it; the kernel calls it for other accesses (exec, mmap).
    pub fn touch_atime(&mut self, id: InodeId) -> Result<(), FsError> {
        let now = self.now();
        let inode = self.inode_mut(id)?;
        if inode.atime <= inode.mtime
            || inode.atime <= inode.ctime
            || now.sec.saturating_sub(inode.atime.sec) >= RELATIME_INTERVAL_SECS
        {
            inode.atime = now;
        }
        Ok(())
    }

    /// POSIX permission check of `mask` (4 = read, 2 = write, 1 = execute/search) for a
    /// caller with `uid` and groups `gids` (effective gid and supplementary groups). Exactly
    /// one class applies: owner, else group, else other. uid 0 may always read and write,
    /// and execute when any execute bit is set or the inode is a directory. A dead id -> false.
    pub fn access_allowed(&self, id: InodeId, uid: u32, gids: &[u32], mask: u32) -> bool {
        let Ok(inode) = self.inode(id) else {
            return false;
        };
        let mask = mask & 7;
        if uid == 0 {
            return mask & 1 == 0 || inode.kind.is_dir_like() || inode.perm & 0o111 != 0;
        }
        let class = if uid == inode.uid {
            (inode.perm >> 6) & 7
        } else if gids.contains(&inode.gid) {
            (inode.perm >> 3) & 7
        } else {
            inode.perm & 7
        };
        class & mask == mask
    }
}
