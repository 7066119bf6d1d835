//! Inodes and their arena: slots with generations, a free list, and the lifetime rule (an
//! inode lives while it has a name or an open reference).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::dir::Dir;
use crate::{FileType, FsError, InodeId, Platform, Timespec, Vfs};

/// Where a directory or mount point hangs in the tree. Both have exactly one name (no hard
/// links), so keeping it makes `..` and `getcwd` O(depth) without searching the parent.
pub(crate) struct Up {
    /// The root's parent is the root itself.
    pub(crate) parent: InodeId,
    pub(crate) name: Vec<u8>,
}

pub(crate) enum Kind<P: Platform> {
    /// Sparse pages by index: a missing page is a hole that reads as zeros. A map rather than
    /// a vector so a write at a huge offset costs one page, not a table covering the gap.
    Regular(BTreeMap<u64, P::Page>),
    Directory(Dir),
    Symlink(Vec<u8>),
    /// A device, fifo or socket: nothing but metadata here.
    Special(FileType),
    Mount {
        tag: u32,
        up: Up,
    },
}

impl<P: Platform> Kind<P> {
    pub(crate) fn file_type(&self) -> FileType {
        match self {
            Kind::Regular(_) => FileType::Regular,
            Kind::Directory(_) => FileType::Directory,
            Kind::Symlink(_) => FileType::Symlink,
            Kind::Special(t) => *t,
            Kind::Mount { .. } => FileType::Mount,
        }
    }

    pub(crate) fn up(&self) -> Option<&Up> {
        match self {
            Kind::Directory(d) => Some(&d.up),
            Kind::Mount { up, .. } => Some(up),
            _ => None,
        }
    }

    pub(crate) fn up_mut(&mut self) -> Option<&mut Up> {
        match self {
            Kind::Directory(d) => Some(&mut d.up),
            Kind::Mount { up, .. } => Some(up),
            _ => None,
        }
    }

    /// Directories and mount points: what counts in a parent's link count.
    pub(crate) fn is_dir_like(&self) -> bool {
        matches!(self, Kind::Directory(_) | Kind::Mount { .. })
    }
}

pub(crate) struct Inode<P: Platform> {
    pub(crate) kind: Kind<P>,
    /// Permission bits (mode & 0o7777).
    pub(crate) perm: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    /// Names of a file; 2 + subdirectories for a directory; 0 once removed.
    pub(crate) nlink: u32,
    /// Bytes of a regular file (directories and symlinks compute theirs in `stat`).
    pub(crate) size: u64,
    pub(crate) atime: Timespec,
    pub(crate) mtime: Timespec,
    pub(crate) ctime: Timespec,
    pub(crate) rdev: (u32, u32),
    /// Open files, working directories, mappings... that keep the inode alive.
    pub(crate) open_refs: u64,
    /// Bumped by every change of the contents (write, truncate): what a cache of facts
    /// about a file's bytes is keyed on.
    pub(crate) data_version: u64,
}

impl<P: Platform> Inode<P> {
    pub(crate) fn new(kind: Kind<P>, perm: u32, uid: u32, gid: u32, now: Timespec) -> Self {
        let nlink = if kind.is_dir_like() { 2 } else { 1 };
        Inode {
            kind,
            perm: perm & 0o7777,
            uid,
            gid,
            nlink,
            size: 0,
            atime: now,
            mtime: now,
            ctime: now,
            rdev: (0, 0),
            open_refs: 0,
            data_version: 0,
        }
    }

    pub(crate) fn dir(&self) -> Result<&Dir, FsError> {
        match &self.kind {
            Kind::Directory(d) => Ok(d),
            _ => Err(FsError::NotDirectory),
        }
    }

    pub(crate) fn dir_mut(&mut self) -> Result<&mut Dir, FsError> {
        match &mut self.kind {
            Kind::Directory(d) => Ok(d),
            _ => Err(FsError::NotDirectory),
        }
    }

    pub(crate) fn touch_modified(&mut self, now: Timespec) {
        self.mtime = now;
        self.ctime = now;
        self.data_version += 1;
    }
}

pub(crate) struct Slot<P: Platform> {
    generation: u32,
    inode: Option<Inode<P>>,
}

impl<P: Platform> Vfs<P> {
    pub(crate) fn init_root(&mut self) {
        let now = self.platform.now();
        let root = InodeId::new(0, 0);
        let dir = Dir::new(root, Vec::new());
        self.slots.push(Slot {
            generation: 0,
            inode: Some(Inode::new(Kind::Directory(dir), 0o755, 0, 0, now)),
        });
        self.live = 1;
    }

    /// The root directory.
    pub fn root(&self) -> InodeId {
        InodeId::new(0, 0)
    }

    pub(crate) fn now(&self) -> Timespec {
        self.platform.now()
    }

    pub(crate) fn inode(&self, id: InodeId) -> Result<&Inode<P>, FsError> {
        let (index, generation) = id.split().ok_or(FsError::NotFound)?;
        match self.slots.get(index) {
            Some(Slot {
                generation: g,
                inode: Some(inode),
            }) if *g == generation => Ok(inode),
            _ => Err(FsError::NotFound),
        }
    }

    pub(crate) fn inode_mut(&mut self, id: InodeId) -> Result<&mut Inode<P>, FsError> {
        let (index, generation) = id.split().ok_or(FsError::NotFound)?;
        match self.slots.get_mut(index) {
            Some(Slot {
                generation: g,
                inode: Some(inode),
            }) if *g == generation => Ok(inode),
            _ => Err(FsError::NotFound),
        }
    }

    /// The inode and the platform at once (file data needs both).
    pub(crate) fn inode_and_platform(
        &mut self,
        id: InodeId,
    ) -> Result<(&mut Inode<P>, &mut P), FsError> {
        let (index, generation) = id.split().ok_or(FsError::NotFound)?;
        match self.slots.get_mut(index) {
            Some(Slot {
                generation: g,
                inode: Some(inode),
            }) if *g == generation => Ok((inode, &mut self.platform)),
            _ => Err(FsError::NotFound),
        }
    }

    /// Puts a new inode in the arena.
    pub(crate) fn alloc_inode(&mut self, inode: Inode<P>) -> Result<InodeId, FsError> {
        if self.live >= self.max_inodes {
            return Err(FsError::NoSpace);
        }
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.inode = Some(inode);
            self.live += 1;
            return Ok(InodeId::new(index, slot.generation));
        }
        // Index + 1 must fit the id's low 32 bits.
        let index = u32::try_from(self.slots.len())
            .ok()
            .filter(|&i| i < u32::MAX)
            .ok_or(FsError::NoSpace)?;
        self.slots.try_reserve(1).map_err(|_| FsError::NoSpace)?;
        // The free list can then hold every slot, so freeing never allocates. (It is empty
        // here: pop failed.)
        self.free
            .try_reserve(self.slots.len() + 1)
            .map_err(|_| FsError::NoSpace)?;
        self.slots.push(Slot {
            generation: 0,
            inode: Some(inode),
        });
        self.live += 1;
        Ok(InodeId::new(index, 0))
    }

    /// Frees the inode (and its pages) if nothing keeps it alive any more.
    pub(crate) fn release_if_unused(&mut self, id: InodeId) {
        let Some((index, generation)) = id.split() else {
            return;
        };
        if index == 0 {
            return; // the root
        }
        let Some(slot) = self.slots.get_mut(index) else {
            return;
        };
        if slot.generation != generation {
            return;
        }
        if let Some(inode) = &slot.inode {
            if inode.nlink == 0 && inode.open_refs == 0 {
                slot.inode = None;
                slot.generation = slot.generation.wrapping_add(1);
                self.live -= 1;
                // Reserved in alloc_inode, so this never reallocates.
                self.free.push(index as u32);
            }
        }
    }

    /// Records one more open reference (open file, working directory, mapping): the inode
    /// then outlives its last name until the matching [`Vfs::close_ref`].
    pub fn open_ref(&mut self, id: InodeId) -> Result<(), FsError> {
        let inode = self.inode_mut(id)?;
        inode.open_refs = inode.open_refs.checked_add(1).ok_or(FsError::NoSpace)?;
        Ok(())
    }

    /// Drops a reference taken with [`Vfs::open_ref`]; frees the inode if it was the last
    /// and the inode has no name left. `Invalid` if no reference was held.
    pub fn close_ref(&mut self, id: InodeId) -> Result<(), FsError> {
        let inode = self.inode_mut(id)?;
        inode.open_refs = inode.open_refs.checked_sub(1).ok_or(FsError::Invalid)?;
        self.release_if_unused(id);
        Ok(())
    }

    /// Whether `id` names a live inode.
    pub fn exists(&self, id: InodeId) -> bool {
        self.inode(id).is_ok()
    }
}
