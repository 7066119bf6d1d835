//! Directories: entries, creation and removal of names, listing with stable cookies.
//!
//! Listing order is insertion order, not name order: each entry carries a per-directory
//! sequence number that only grows, and a second map from sequence to name lets `readdir`
//! continue "after sequence s" in O(log n). A cookie therefore stays meaningful whatever is
//! inserted or removed meanwhile: surviving entries are neither repeated nor skipped, new
//! entries show up at the end (POSIX leaves them unspecified), and a renamed entry is a new
//! entry (removed, then added) except when it replaces an existing name, which keeps its place.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::inode::{Inode, Kind, Up};
use crate::{DirEntry, FileType, FsError, InodeId, Platform, Vfs, NAME_MAX, SYMLINK_MAX};

/// Cookies 0, 1 and 2 are the start, after ".", and after ".."; an entry with sequence `s`
/// has cookie `s + FIRST_ENTRY_COOKIE`.
const FIRST_ENTRY_COOKIE: u64 = 3;
/// Keeps every cookie below `i64::MAX` (`d_off` and `lseek` offsets are signed).
const MAX_SEQ: u64 = i64::MAX as u64 - FIRST_ENTRY_COOKIE - 1;

pub(crate) const S_ISUID: u32 = 0o4000;
pub(crate) const S_ISGID: u32 = 0o2000;

pub(crate) struct DirSlot {
    pub(crate) ino: InodeId,
    seq: u64,
}

pub(crate) struct Dir {
    pub(crate) up: Up,
    pub(crate) entries: BTreeMap<Vec<u8>, DirSlot>,
    /// Sequence -> name: the listing order.
    order: BTreeMap<u64, Vec<u8>>,
    next_seq: u64,
}

impl Dir {
    pub(crate) fn new(parent: InodeId, name: Vec<u8>) -> Self {
        Dir {
            up: Up { parent, name },
            entries: BTreeMap::new(),
            order: BTreeMap::new(),
            next_seq: 0,
        }
    }

    pub(crate) fn get(&self, name: &[u8]) -> Option<InodeId> {
        self.entries.get(name).map(|slot| slot.ino)
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether [`Dir::insert`] can succeed (sequence numbers left).
    pub(crate) fn can_insert(&self) -> Result<(), FsError> {
        if self.next_seq > MAX_SEQ {
            Err(FsError::NoSpace)
        } else {
            Ok(())
        }
    }

    /// Adds a name that is not present.
    pub(crate) fn insert(&mut self, name: Vec<u8>, ino: InodeId) -> Result<(), FsError> {
        self.can_insert()?;
        let seq = self.next_seq;
        self.next_seq += 1;
        self.order.insert(seq, name.clone());
        self.entries.insert(name, DirSlot { ino, seq });
        Ok(())
    }

    pub(crate) fn remove(&mut self, name: &[u8]) -> Option<InodeId> {
        let slot = self.entries.remove(name)?;
        self.order.remove(&slot.seq);
        Some(slot.ino)
    }

    /// Points an existing name at another inode, keeping its place in the listing.
    pub(crate) fn replace(&mut self, name: &[u8], ino: InodeId) -> Option<InodeId> {
        let slot = self.entries.get_mut(name)?;
        Some(core::mem::replace(&mut slot.ino, ino))
    }
}

/// What a single name component is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Name {
    Dot,
    DotDot,
    Normal,
}

/// Checks one component: empty -> NotFound, over 255 bytes -> NameTooLong, '/' or NUL inside
/// -> Invalid (a caller bug: resolution never produces those).
pub(crate) fn classify(name: &[u8]) -> Result<Name, FsError> {
    if name.is_empty() {
        return Err(FsError::NotFound);
    }
    if name.len() > NAME_MAX {
        return Err(FsError::NameTooLong);
    }
    if name.iter().any(|&b| b == b'/' || b == 0) {
        return Err(FsError::Invalid);
    }
    Ok(match name {
        b"." => Name::Dot,
        b".." => Name::DotDot,
        _ => Name::Normal,
    })
}

/// Checks a name about to be created: "." and ".." already exist (Linux: EEXIST).
fn new_name(name: &[u8]) -> Result<(), FsError> {
    match classify(name)? {
        Name::Normal => Ok(()),
        Name::Dot | Name::DotDot => Err(FsError::Exists),
    }
}

/// Owner, permissions and device number of a node to create.
struct NewAttrs {
    perm: u32,
    uid: u32,
    gid: u32,
    rdev: (u32, u32),
}

impl NewAttrs {
    fn new(perm: u32, uid: u32, gid: u32) -> Self {
        NewAttrs {
            perm,
            uid,
            gid,
            rdev: (0, 0),
        }
    }
}

/// The node to create, before its place in the tree is known.
enum NewKind {
    Regular,
    Directory,
    Symlink(Vec<u8>),
    Special(FileType),
    Mount(u32),
}

impl<P: Platform> Vfs<P> {
    /// A live directory to change: NotDirectory for other inodes, NotFound once removed
    /// (Linux refuses to create entries in a deleted directory).
    pub(crate) fn live_dir(&self, dir: InodeId) -> Result<&Inode<P>, FsError> {
        let inode = self.inode(dir)?;
        inode.dir()?;
        if inode.nlink == 0 {
            return Err(FsError::NotFound);
        }
        Ok(inode)
    }

    /// The entry `name` of directory `dir`; "." is `dir` and ".." its parent (no chroot
    /// clamping here: [`Vfs::resolve`] does that). Symlinks are not followed.
    pub fn lookup(&self, dir: InodeId, name: &[u8]) -> Result<InodeId, FsError> {
        let d = self.inode(dir)?.dir()?;
        match classify(name)? {
            Name::Dot => Ok(dir),
            Name::DotDot => Ok(d.up.parent),
            Name::Normal => d.get(name).ok_or(FsError::NotFound),
        }
    }

    /// The directory containing a directory or mount point (the root's is the root).
    pub fn parent(&self, dir: InodeId) -> Result<InodeId, FsError> {
        let up = self.inode(dir)?.kind.up().ok_or(FsError::NotDirectory)?;
        Ok(up.parent)
    }

    fn create(
        &mut self,
        dir: InodeId,
        name: &[u8],
        new: NewKind,
        attrs: NewAttrs,
    ) -> Result<InodeId, FsError> {
        let NewAttrs {
            perm,
            uid,
            gid,
            rdev,
        } = attrs;
        new_name(name)?;
        let now = self.now();
        let parent = self.live_dir(dir)?;
        let d = parent.dir()?;
        if d.entries.contains_key(name) {
            return Err(FsError::Exists);
        }
        d.can_insert()?;
        let dir_like = matches!(new, NewKind::Directory | NewKind::Mount(_));
        if dir_like && parent.nlink == u32::MAX {
            return Err(FsError::TooManyLinks);
        }
        // Files created in a set-group-ID directory get its group; subdirectories inherit
        // the bit (as Linux's inode_init_owner does).
        let (gid, perm) = if parent.perm & S_ISGID != 0 {
            let inherit = if matches!(new, NewKind::Directory) {
                S_ISGID
            } else {
                0
            };
            (parent.gid, perm | inherit)
        } else {
            (gid, perm)
        };
        let kind = match new {
            NewKind::Regular => Kind::Regular(BTreeMap::new()),
            NewKind::Directory => Kind::Directory(Dir::new(dir, name.to_vec())),
            NewKind::Symlink(target) => Kind::Symlink(target),
            NewKind::Special(t) => Kind::Special(t),
            NewKind::Mount(tag) => Kind::Mount {
                tag,
                up: Up {
                    parent: dir,
                    name: name.to_vec(),
                },
            },
        };
        let mut inode = Inode::new(kind, perm, uid, gid, now);
        inode.rdev = rdev;
        let id = self.alloc_inode(inode)?;
        let parent = self.inode_mut(dir)?;
        parent.dir_mut()?.insert(name.to_vec(), id)?;
        if dir_like {
            parent.nlink += 1;
        }
        parent.touch_modified(now);
        Ok(id)
    }

    /// Creates an empty regular file. `mode` is masked to 0o7777 (the kernel applies the
    /// umask). Existing name, ".", ".." -> Exists.
    pub fn create_file(
        &mut self,
        dir: InodeId,
        name: &[u8],
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<InodeId, FsError> {
        self.create(dir, name, NewKind::Regular, NewAttrs::new(mode, uid, gid))
    }

    /// Creates an empty directory. Existing name, ".", ".." -> Exists; a parent with
    /// `u32::MAX` links -> TooManyLinks.
    pub fn mkdir(
        &mut self,
        dir: InodeId,
        name: &[u8],
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<InodeId, FsError> {
        self.create(dir, name, NewKind::Directory, NewAttrs::new(mode, uid, gid))
    }

    /// Creates a symlink (mode 0o777). The target must have 1..=4095 bytes without NUL:
    /// empty -> NotFound, too long -> NameTooLong (as Linux).
    pub fn symlink(
        &mut self,
        dir: InodeId,
        name: &[u8],
        target: &[u8],
        uid: u32,
        gid: u32,
    ) -> Result<InodeId, FsError> {
        if target.is_empty() {
            return Err(FsError::NotFound);
        }
        if target.len() > SYMLINK_MAX {
            return Err(FsError::NameTooLong);
        }
        if target.contains(&0) {
            return Err(FsError::Invalid);
        }
        let new = NewKind::Symlink(target.to_vec());
        self.create(dir, name, new, NewAttrs::new(0o777, uid, gid))
    }

    /// Creates a device, fifo or socket (or, as Linux's mknod allows, an empty regular
    /// file). `rdev` = (major, minor) is kept for devices only. Directory -> NotPermitted,
    /// symlink or mount -> Invalid (Linux's mknod errors).
    #[allow(clippy::too_many_arguments)]
    pub fn mknod(
        &mut self,
        dir: InodeId,
        name: &[u8],
        file_type: FileType,
        mode: u32,
        rdev: (u32, u32),
        uid: u32,
        gid: u32,
    ) -> Result<InodeId, FsError> {
        let (new, rdev) = match file_type {
            FileType::Regular => (NewKind::Regular, (0, 0)),
            FileType::CharDevice | FileType::BlockDevice => (NewKind::Special(file_type), rdev),
            FileType::Fifo | FileType::Socket => (NewKind::Special(file_type), (0, 0)),
            FileType::Directory => return Err(FsError::NotPermitted),
            FileType::Symlink | FileType::Mount => return Err(FsError::Invalid),
        };
        let attrs = NewAttrs {
            rdev,
            ..NewAttrs::new(mode, uid, gid)
        };
        self.create(dir, name, new, attrs)
    }

    /// Creates a mount point (owned by root) whose contents the kernel provides; path
    /// resolution reports entering it as [`crate::Resolved::Foreign`] with `tag`.
    pub fn mount_point(
        &mut self,
        dir: InodeId,
        name: &[u8],
        tag: u32,
        mode: u32,
    ) -> Result<InodeId, FsError> {
        self.create(dir, name, NewKind::Mount(tag), NewAttrs::new(mode, 0, 0))
    }

    /// Adds a name for an existing non-directory. Existing name, ".", ".." -> Exists;
    /// a directory or mount point -> NotPermitted; an inode with no name left (unlinked but
    /// open) -> NotFound; `u32::MAX` links -> TooManyLinks.
    pub fn link(&mut self, existing: InodeId, dir: InodeId, name: &[u8]) -> Result<(), FsError> {
        new_name(name)?;
        let now = self.now();
        let d = self.live_dir(dir)?.dir()?;
        if d.entries.contains_key(name) {
            return Err(FsError::Exists);
        }
        d.can_insert()?;
        let target = self.inode(existing)?;
        if target.kind.is_dir_like() {
            return Err(FsError::NotPermitted);
        }
        if target.nlink == 0 {
            return Err(FsError::NotFound);
        }
        if target.nlink == u32::MAX {
            return Err(FsError::TooManyLinks);
        }
        let parent = self.inode_mut(dir)?;
        parent.dir_mut()?.insert(name.to_vec(), existing)?;
        parent.touch_modified(now);
        let target = self.inode_mut(existing)?;
        target.nlink += 1;
        target.ctime = now;
        Ok(())
    }

    /// Removes a non-directory's name; the inode is freed when it has no name and no open
    /// reference left. "." or ".." or a directory or mount point -> IsDirectory.
    pub fn unlink(&mut self, dir: InodeId, name: &[u8]) -> Result<(), FsError> {
        if classify(name)? != Name::Normal {
            return Err(FsError::IsDirectory);
        }
        let now = self.now();
        let child = self.lookup(dir, name)?;
        if self.inode(child)?.kind.is_dir_like() {
            return Err(FsError::IsDirectory);
        }
        let parent = self.inode_mut(dir)?;
        parent.dir_mut()?.remove(name);
        parent.touch_modified(now);
        let inode = self.inode_mut(child)?;
        inode.nlink = inode.nlink.saturating_sub(1);
        inode.ctime = now;
        self.release_if_unused(child);
        Ok(())
    }

    /// Removes an empty directory. "." -> Invalid, ".." -> NotEmpty (Linux's errors); not a
    /// directory -> NotDirectory; a mount point -> Busy; entries left -> NotEmpty.
    pub fn rmdir(&mut self, dir: InodeId, name: &[u8]) -> Result<(), FsError> {
        match classify(name)? {
            Name::Dot => return Err(FsError::Invalid),
            Name::DotDot => return Err(FsError::NotEmpty),
            Name::Normal => {}
        }
        let now = self.now();
        let child = self.lookup(dir, name)?;
        match &self.inode(child)?.kind {
            Kind::Directory(d) if !d.is_empty() => return Err(FsError::NotEmpty),
            Kind::Directory(_) => {}
            Kind::Mount { .. } => return Err(FsError::Busy),
            _ => return Err(FsError::NotDirectory),
        }
        let parent = self.inode_mut(dir)?;
        parent.dir_mut()?.remove(name);
        parent.nlink = parent.nlink.saturating_sub(1);
        parent.touch_modified(now);
        let inode = self.inode_mut(child)?;
        inode.nlink = 0;
        inode.ctime = now;
        self.release_if_unused(child);
        Ok(())
    }

    /// Lists `dir` from `cookie` (0 = start): ".", "..", then the entries in a stable order.
    /// `f` gets each entry and returns false when it cannot take it (buffer full): that entry
    /// is not consumed and the listing stops; continue later from the `next_cookie` of the
    /// last entry taken. Any cookie is accepted (unknown ones past the end list nothing).
    /// A removed directory -> NotFound (Linux lists nothing there). Updates the access time.
    pub fn readdir(
        &mut self,
        dir: InodeId,
        cookie: u64,
        mut f: impl FnMut(DirEntry<'_>) -> bool,
    ) -> Result<(), FsError> {
        let inode = self.inode(dir)?;
        let d = inode.dir()?;
        if inode.nlink == 0 {
            return Err(FsError::NotFound);
        }
        let dots = [(&b"."[..], dir), (&b".."[..], d.up.parent)];
        let mut stopped = false;
        for (i, (name, ino)) in dots.into_iter().enumerate() {
            let i = i as u64;
            if cookie <= i {
                let next_cookie = i + 1;
                let file_type = FileType::Directory;
                if !f(DirEntry {
                    name,
                    ino,
                    file_type,
                    next_cookie,
                }) {
                    stopped = true;
                    break;
                }
            }
        }
        if !stopped {
            let from = cookie.saturating_sub(FIRST_ENTRY_COOKIE - 1);
            for (&seq, name) in d.order.range(from..) {
                let Some(ino) = d.get(name) else { continue };
                let Ok(child) = self.inode(ino) else { continue };
                let entry = DirEntry {
                    name,
                    ino,
                    file_type: child.kind.file_type(),
                    next_cookie: seq + FIRST_ENTRY_COOKIE,
                };
                if !f(entry) {
                    break;
                }
            }
        }
        self.touch_atime(dir)
    }
}
