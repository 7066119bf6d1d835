//! The public value types: ids, times, file types, errors, and what operations return.

use alloc::vec::Vec;

/// Seconds and nanoseconds since the epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: u32,
}

impl Timespec {
    pub const fn new(sec: i64, nsec: u32) -> Self {
        Timespec { sec, nsec }
    }
}

/// Names an inode while it lives. The low 32 bits are the arena slot plus one, the high 32
/// bits the slot's generation, so an id kept after its inode was freed never aliases the
/// inode that reuses the slot: operations on it fail with [`FsError::NotFound`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InodeId(pub(crate) u64);

impl InodeId {
    /// The inode number (`st_ino`, `d_ino`): never 0, unique among live inodes, and not
    /// reused soon after an inode is freed.
    pub const fn ino(self) -> u64 {
        self.0
    }

    /// The id as a number, e.g. to key a kernel table.
    pub const fn to_raw(self) -> u64 {
        self.0
    }

    /// An id from [`InodeId::to_raw`]. Any value is accepted: a wrong one is just an id of
    /// no live inode.
    pub const fn from_raw(raw: u64) -> Self {
        InodeId(raw)
    }

    pub(crate) fn new(index: u32, generation: u32) -> Self {
        InodeId((u64::from(generation) << 32) | (u64::from(index) + 1))
    }

    /// Slot index and generation, or None for an id that cannot name any slot.
    pub(crate) fn split(self) -> Option<(usize, u32)> {
        let low = (self.0 & 0xffff_ffff) as u32;
        let index = low.checked_sub(1)?;
        Some((index as usize, (self.0 >> 32) as u32))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileType {
    Regular,
    Directory,
    Symlink,
    CharDevice,
    BlockDevice,
    Fifo,
    Socket,
    /// A mount point whose contents the kernel implements (`/proc`, `/dev`, ...). It looks
    /// like a directory to `stat`.
    Mount,
}

impl FileType {
    /// The `S_IFMT` bits of `st_mode`.
    pub const fn mode_bits(self) -> u32 {
        match self {
            FileType::Regular => 0o100000,
            FileType::Directory | FileType::Mount => 0o040000,
            FileType::Symlink => 0o120000,
            FileType::CharDevice => 0o020000,
            FileType::BlockDevice => 0o060000,
            FileType::Fifo => 0o010000,
            FileType::Socket => 0o140000,
        }
    }

    /// The type named by the `S_IFMT` bits of `mode` (never [`FileType::Mount`]).
    pub const fn from_mode(mode: u32) -> Option<FileType> {
        Some(match mode & 0o170000 {
            0o100000 => FileType::Regular,
            0o040000 => FileType::Directory,
            0o120000 => FileType::Symlink,
            0o020000 => FileType::CharDevice,
            0o060000 => FileType::BlockDevice,
            0o010000 => FileType::Fifo,
            0o140000 => FileType::Socket,
            _ => return None,
        })
    }

    /// Linux `d_type` (`DT_*`) for `getdents64`.
    pub const fn dirent_type(self) -> u8 {
        match self {
            FileType::Fifo => 1,
            FileType::CharDevice => 2,
            FileType::Directory | FileType::Mount => 4,
            FileType::BlockDevice => 6,
            FileType::Regular => 8,
            FileType::Symlink => 10,
            FileType::Socket => 12,
        }
    }
}

/// Why an operation failed; each variant is one Linux errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FsError {
    /// ENOENT; also for an [`InodeId`] of no live inode.
    NotFound,
    /// ENOTDIR
    NotDirectory,
    /// EISDIR
    IsDirectory,
    /// EEXIST
    Exists,
    /// ENOTEMPTY
    NotEmpty,
    /// ELOOP
    Loop,
    /// ENAMETOOLONG
    NameTooLong,
    /// ENOSPC
    NoSpace,
    /// EINVAL
    Invalid,
    /// EACCES
    PermissionDenied,
    /// EPERM
    NotPermitted,
    /// EBUSY
    Busy,
    /// EFBIG
    FileTooBig,
    /// EMLINK
    TooManyLinks,
}

impl FsError {
    /// The positive Linux errno value.
    pub const fn errno(self) -> i32 {
        match self {
            FsError::NotFound => 2,
            FsError::NotDirectory => 20,
            FsError::IsDirectory => 21,
            FsError::Exists => 17,
            FsError::NotEmpty => 39,
            FsError::Loop => 40,
            FsError::NameTooLong => 36,
            FsError::NoSpace => 28,
            FsError::Invalid => 22,
            FsError::PermissionDenied => 13,
            FsError::NotPermitted => 1,
            FsError::Busy => 16,
            FsError::FileTooBig => 27,
            FsError::TooManyLinks => 31,
        }
    }
}

impl core::fmt::Display for FsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            FsError::NotFound => "no such file or directory",
            FsError::NotDirectory => "not a directory",
            FsError::IsDirectory => "is a directory",
            FsError::Exists => "file exists",
            FsError::NotEmpty => "directory not empty",
            FsError::Loop => "too many levels of symbolic links",
            FsError::NameTooLong => "file name too long",
            FsError::NoSpace => "no space left on device",
            FsError::Invalid => "invalid argument",
            FsError::PermissionDenied => "permission denied",
            FsError::NotPermitted => "operation not permitted",
            FsError::Busy => "device or resource busy",
            FsError::FileTooBig => "file too large",
            FsError::TooManyLinks => "too many links",
        })
    }
}

impl core::error::Error for FsError {}

/// Where a path led.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolved {
    Node(InodeId),
    /// The walk entered a mount point; the kernel resolves `rest` in the file system mounted
    /// there. `rest` is relative (no leading '/'), may be empty (the mount point itself) and
    /// never starts with a "." or ".." component: those right after the mount point were
    /// handled here (".." leaves the mount). ".." deeper in `rest` is the kernel's: when it
    /// climbs above the mount's root it continues with [`Vfs::resolve`] from
    /// [`Vfs::parent`]`(mount_inode)`.
    ///
    /// [`Vfs::resolve`]: crate::Vfs::resolve
    /// [`Vfs::parent`]: crate::Vfs::parent
    Foreign {
        mount: u32,
        mount_inode: InodeId,
        rest: Vec<u8>,
    },
}

/// Where the last component of a path lives, for operations that create, remove or rename it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parent {
    /// `name` in directory `dir`. `name` may be "." or ".." (paths like "a/.." or "/"; for
    /// "/" it is "." in the root): the operations of this crate answer those with Linux's
    /// errors (see each operation). `trailing_slash` says the path ended in '/': Linux then
    /// requires the entry to be (or become) a directory, which the caller checks (e.g.
    /// `creat("f/")` is EISDIR, `unlink("f/")` ENOTDIR, `rename("f", "g/")` ENOTDIR for a file
    /// "f").
    Local {
        dir: InodeId,
        name: Vec<u8>,
        trailing_slash: bool,
    },
    /// The path's directory part entered a mount point: as in [`Resolved::Foreign`], with
    /// `rest` ending in the last component.
    Foreign {
        mount: u32,
        mount_inode: InodeId,
        rest: Vec<u8>,
    },
}

/// `stat` of an inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    pub ino: u64,
    pub file_type: FileType,
    /// `st_mode`: type bits | permission bits.
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev_major: u32,
    pub rdev_minor: u32,
    pub size: u64,
    /// 512-byte blocks allocated.
    pub blocks: u64,
    pub blksize: u32,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
}

/// One entry of a directory listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirEntry<'a> {
    pub name: &'a [u8],
    pub ino: InodeId,
    pub file_type: FileType,
    /// Where to continue after this entry (`d_off`); always below `i64::MAX`.
    pub next_cookie: u64,
}
