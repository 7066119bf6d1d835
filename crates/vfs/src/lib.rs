//! The kernel's in-memory file system: the root file system unpacked from the cpio
//! initramfs, writable, with Linux tmpfs semantics.
//!
//! Everything here is bookkeeping over an inode arena; page storage and the clock come from a
//! [`Platform`], so the same code runs in the kernel (reference-counted physical frames, which
//! it can map into processes without copying) and in host unit tests. File descriptors, `/dev`,
//! `/proc` and credentials live in the kernel: this crate only provides the operations, the
//! POSIX checks that depend on nothing but the file system, and [`FsError`] values that map
//! one-to-one to Linux errno values.
//!
//! Every argument is treated as hostile program input: operations return errors, never panic,
//! and never allocate in proportion to a size or offset a program chose (file data is a sparse
//! map of pages).
//!
//! What stays with the kernel, because it needs credentials or descriptors:
//! * permission checks ([`Vfs::access_allowed`] is the helper): search permission on each
//!   directory a path walks through, write permission on the directory of a change, the
//!   sticky bit, who may chmod/chown, the umask;
//! * [`Vfs::open_ref`]/[`Vfs::close_ref`] around everything that uses an inode beyond one
//!   call (open files, working and root directories, mappings), so that removed inodes live
//!   on until unused, as POSIX requires;
//! * the meaning of a trailing slash for the operation at hand ([`Parent::Local`]);
//! * the contents of mount points ([`Resolved::Foreign`]).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod cpio;
mod dir;
mod file;
mod inode;
mod meta;
mod path;
mod rename;
mod ring;
mod types;

#[cfg(test)]
mod tests;

pub use cpio::{UnpackError, UnpackErrorKind, UnpackStats};
pub use file::WriteSource;
pub use ring::ByteRing;
pub use types::{DirEntry, FileType, FsError, InodeId, Parent, Resolved, Stat, Timespec};

use alloc::vec::Vec;
use inode::Slot;

/// Size of a page of file data.
pub const PAGE_SIZE: usize = 4096;
/// Longest name of a directory entry (Linux `NAME_MAX`).
pub const NAME_MAX: usize = 255;
/// Longest path, including its terminating NUL (Linux `PATH_MAX`): paths have at most 4095
/// bytes.
pub const PATH_MAX: usize = 4096;
/// Longest symlink target (Linux `PATH_MAX - 1`).
pub const SYMLINK_MAX: usize = PATH_MAX - 1;
/// Symlinks followed in one path resolution before giving up with [`FsError::Loop`] (Linux
/// `MAXSYMLINKS`).
pub const MAX_SYMLINKS: u32 = 40;
/// Largest file size: writes and truncation beyond it fail with [`FsError::FileTooBig`].
pub const MAX_FILE_SIZE: u64 = 1 << 40;
/// `st_blksize`.
pub const BLOCK_SIZE: u32 = PAGE_SIZE as u32;
/// `rename` flag: fail with [`FsError::Exists`] if the target exists (Linux value).
pub const RENAME_NOREPLACE: u32 = 1;
/// `rename` flag: swap the two entries, which must both exist (Linux value).
pub const RENAME_EXCHANGE: u32 = 2;

/// What the kernel provides: page storage and the clock.
pub trait Platform {
    /// A counted reference to one 4 KiB page of file data (the kernel uses a
    /// reference-counted physical frame; clones share the page).
    type Page: Clone;
    /// A new zero-filled page, or None when memory is exhausted (-> [`FsError::NoSpace`]).
    fn alloc_zeroed(&mut self) -> Option<Self::Page>;
    fn bytes<'a>(&self, page: &'a Self::Page) -> &'a [u8; PAGE_SIZE];
    /// Mutable access; if the page is shared (other clones alive), first replace `*page` by a
    /// private copy (copy-on-write). None when memory is exhausted.
    fn bytes_mut<'a>(&mut self, page: &'a mut Self::Page) -> Option<&'a mut [u8; PAGE_SIZE]>;
    /// Current wall-clock time.
    fn now(&self) -> Timespec;
}

/// The file system: the platform and an arena of inodes. Inode 0 of the arena is the root
/// directory, which is never freed.
pub struct Vfs<P: Platform> {
    platform: P,
    slots: Vec<Slot<P>>,
    /// Indices of empty slots, reused before the arena grows.
    free: Vec<u32>,
    live: usize,
    /// Most live inodes (tmpfs `nr_inodes`): metadata lives on the kernel heap, whose
    /// exhaustion would be fatal, so the kernel caps it.
    max_inodes: usize,
}

impl<P: Platform> Vfs<P> {
    /// An empty file system: a root directory with mode 0o755 owned by uid/gid 0.
    pub fn new(platform: P) -> Self {
        let mut vfs = Vfs {
            platform,
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
            max_inodes: usize::MAX,
        };
        vfs.init_root();
        vfs
    }

    pub fn platform(&self) -> &P {
        &self.platform
    }

    pub fn platform_mut(&mut self) -> &mut P {
        &mut self.platform
    }

    /// Number of live inodes (for `statfs` `f_files - f_ffree`).
    pub fn inode_count(&self) -> usize {
        self.live
    }

    /// Caps the number of live inodes: creating more fails with [`FsError::NoSpace`].
    /// Unlimited by default.
    pub fn set_inode_limit(&mut self, max_inodes: usize) {
        self.max_inodes = max_inodes;
    }

    pub fn inode_limit(&self) -> usize {
        self.max_inodes
    }
}
