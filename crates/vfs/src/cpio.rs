//! Unpacking a cpio "newc" initramfs into the tree, as Linux's `init/initramfs.c` does.
//!
//! Differences from Linux, all on the safe side: names with ".." or that would pass through
//! a symlink are errors (Linux follows them), missing parent directories are created
//! (mode 0o755, root-owned), and anything at or below a mount point is skipped, so the kernel
//! can create its mount points (`/dev`, `/proc`) before unpacking an archive that also has
//! them.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use isounik_cpio::{Entry, Error as CpioError, Reader, HEADER_LEN, TRAILER};

use crate::{FileType, FsError, InodeId, Platform, Timespec, Vfs, PATH_MAX};

/// What an unpacked archive contained.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnpackStats {
    /// Archive members, trailers excluded.
    pub entries: usize,
    pub files: usize,
    pub directories: usize,
    pub symlinks: usize,
    /// Devices, fifos and sockets.
    pub special: usize,
    /// Entries that became another name of an earlier one.
    pub hard_links: usize,
    /// Entries of unknown type, or at or below a mount point.
    pub skipped: usize,
    /// File data written.
    pub bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnpackErrorKind {
    /// The archive is malformed (offsets count from the start of the whole archive).
    Archive(CpioError),
    /// The file system refused the entry.
    Fs(FsError),
    /// The name has a ".." component.
    DotDot,
    /// The name leads through a symlink.
    ThroughSymlink,
    /// Something other than NUL padding or another archive follows a trailer.
    TrailingGarbage(usize),
}

/// Why unpacking stopped, naming the entry (for archive errors, the last good entry, if any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnpackError {
    pub entry: Option<Vec<u8>>,
    pub kind: UnpackErrorKind,
}

impl fmt::Display for UnpackErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnpackErrorKind::Archive(e) => write!(f, "{e}"),
            UnpackErrorKind::Fs(e) => write!(f, "{e}"),
            UnpackErrorKind::DotDot => f.write_str("name has a \"..\" component"),
            UnpackErrorKind::ThroughSymlink => f.write_str("name leads through a symlink"),
            UnpackErrorKind::TrailingGarbage(at) => {
                write!(f, "data that is not a cpio archive at offset {at}")
            }
        }
    }
}

impl fmt::Display for UnpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, &self.entry) {
            (UnpackErrorKind::Archive(_) | UnpackErrorKind::TrailingGarbage(_), Some(name)) => {
                write!(f, "{} (after entry \"{}\")", self.kind, name.escape_ascii())
            }
            (_, Some(name)) => write!(
                f,
                "initramfs entry \"{}\": {}",
                name.escape_ascii(),
                self.kind
            ),
            (_, None) => write!(f, "initramfs: {}", self.kind),
        }
    }
}

impl core::error::Error for UnpackError {}

const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Bytes the reader consumed for `entry` when it started at `at` (4-aligned).
fn entry_end(at: usize, entry: &Entry<'_>) -> usize {
    align4(align4(at + HEADER_LEN + entry.name.len() + 1) + entry.data.len())
}

fn rebase(e: CpioError, base: usize) -> CpioError {
    match e {
        CpioError::BadMagic(at) => CpioError::BadMagic(at + base),
        CpioError::BadNumber(at) => CpioError::BadNumber(at + base),
        CpioError::Truncated(at) => CpioError::Truncated(at + base),
        CpioError::BadName(at) => CpioError::BadName(at + base),
        CpioError::MissingTrailer => CpioError::MissingTrailer,
    }
}

/// State kept across the entries of one archive.
#[derive(Default)]
struct Unpacker {
    stats: UnpackStats,
    /// (dev major, dev minor, ino) -> the inode, for entries with nlink >= 2.
    links: BTreeMap<(u32, u32, u32), InodeId>,
    /// Directory times, set at the end because creating children changes them (as Linux).
    dir_times: Vec<(InodeId, Timespec)>,
}

impl<P: Platform> Vfs<P> {
    /// Unpacks a newc archive (or several concatenated, NUL padding between them allowed, as
    /// Linux accepts) into directory `root`. Names may start with "/" or "./"; "." and "/"
    /// are `root` (a directory entry for it sets its mode and owner, as in Linux). Mode, owner
    /// and mtime (as all three times) are kept, no umask applies. An existing non-directory
    /// is replaced; an existing directory keeps its contents and takes the entry's metadata.
    /// Hard links (entries sharing an inode number, nlink >= 2) become links of one inode
    /// whose data is that of the last entry that had any. On error the tree holds what was
    /// unpacked so far.
    pub fn unpack_cpio(
        &mut self,
        root: InodeId,
        archive: &[u8],
    ) -> Result<UnpackStats, UnpackError> {
        let mut state = Unpacker::default();
        let mut base = 0;
        let mut last: Option<Vec<u8>> = None;
        loop {
            let part = archive.get(base..).unwrap_or_default();
            let mut at = 0;
            for item in Reader::new(part) {
                let entry = item.map_err(|e| UnpackError {
                    entry: last.clone(),
                    kind: UnpackErrorKind::Archive(rebase(e, base)),
                })?;
                at = entry_end(at, &entry);
                self.unpack_entry(root, &entry, &mut state)
                    .map_err(|kind| UnpackError {
                        entry: Some(entry.name.to_vec()),
                        kind,
                    })?;
                last = Some(entry.name.to_vec());
            }
            // The reader stopped at a trailer (an error would have returned), which starts at
            // `at`. Inode numbers are per archive.
            state.links.clear();
            base += align4(at + HEADER_LEN + TRAILER.len() + 1);
            while archive.get(base) == Some(&0) {
                base += 1;
            }
            if base >= archive.len() {
                break;
            }
            if base % 4 != 0 {
                return Err(UnpackError {
                    entry: last,
                    kind: UnpackErrorKind::TrailingGarbage(base),
                });
            }
        }
        for (id, time) in state.dir_times {
            if let Ok(inode) = self.inode_mut(id) {
                inode.atime = time;
                inode.mtime = time;
                inode.ctime = time;
            }
        }
        Ok(state.stats)
    }

    fn unpack_entry(
        &mut self,
        root: InodeId,
        e: &Entry<'_>,
        state: &mut Unpacker,
    ) -> Result<(), UnpackErrorKind> {
        use UnpackErrorKind::Fs;
        state.stats.entries += 1;
        let mut name = e.name;
        while let Some(rest) = name.strip_prefix(b"./").or_else(|| name.strip_prefix(b"/")) {
            name = rest;
        }
        if name.len() >= PATH_MAX {
            return Err(Fs(FsError::NameTooLong));
        }
        let comps: Vec<&[u8]> = name
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty() && *c != b".")
            .collect();
        if comps.iter().any(|c| *c == b"..") {
            return Err(UnpackErrorKind::DotDot);
        }
        let file_type = FileType::from_mode(e.mode);
        let meta = Meta {
            perm: e.mode & 0o7777,
            uid: e.uid,
            gid: e.gid,
            time: Timespec::new(i64::from(e.mtime), 0),
        };
        let Some((last, parents)) = comps.split_last() else {
            if file_type == Some(FileType::Directory) {
                self.set_meta(root, meta).map_err(Fs)?;
                state.dir_times.push((root, meta.time));
                state.stats.directories += 1;
            } else {
                state.stats.skipped += 1;
            }
            return Ok(());
        };
        let mut dir = root;
        for comp in parents {
            dir = match self.lookup(dir, comp) {
                Ok(id) => match self.file_type(id).map_err(Fs)? {
                    FileType::Directory => id,
                    FileType::Symlink => return Err(UnpackErrorKind::ThroughSymlink),
                    FileType::Mount => {
                        state.stats.skipped += 1;
                        return Ok(());
                    }
                    _ => return Err(Fs(FsError::NotDirectory)),
                },
                Err(FsError::NotFound) => self.mkdir(dir, comp, 0o755, 0, 0).map_err(Fs)?,
                Err(err) => return Err(Fs(err)),
            };
        }
        let Some(file_type) = file_type else {
            state.stats.skipped += 1;
            return Ok(());
        };
        let existing = match self.lookup(dir, last) {
            Ok(id) => Some((id, self.file_type(id).map_err(Fs)?)),
            Err(FsError::NotFound) => None,
            Err(err) => return Err(Fs(err)),
        };
        match existing {
            Some((_, FileType::Mount)) => {
                state.stats.skipped += 1;
                return Ok(());
            }
            Some((id, FileType::Directory)) if file_type == FileType::Directory => {
                self.set_meta(id, meta).map_err(Fs)?;
                state.dir_times.push((id, meta.time));
                state.stats.directories += 1;
                return Ok(());
            }
            Some((_, FileType::Directory)) => self.rmdir(dir, last).map_err(Fs)?,
            Some(_) => self.unlink(dir, last).map_err(Fs)?,
            None => {}
        }
        let key = (e.dev_major, e.dev_minor, e.ino);
        let linkable =
            e.nlink >= 2 && !matches!(file_type, FileType::Directory | FileType::Symlink);
        if linkable {
            if let Some(&target) = state.links.get(&key) {
                if self.file_type(target) == Ok(file_type) {
                    self.link(target, dir, last).map_err(Fs)?;
                    if !e.data.is_empty() && file_type == FileType::Regular {
                        self.truncate(target, 0).map_err(Fs)?;
                        self.write_all(target, e.data).map_err(Fs)?;
                        state.stats.bytes += e.data.len() as u64;
                    }
                    self.set_meta(target, meta).map_err(Fs)?;
                    state.stats.hard_links += 1;
                    return Ok(());
                }
            }
        }
        let stats = &mut state.stats;
        let id = match file_type {
            FileType::Directory => {
                let id = self
                    .mkdir(dir, last, meta.perm, meta.uid, meta.gid)
                    .map_err(Fs)?;
                state.dir_times.push((id, meta.time));
                stats.directories += 1;
                id
            }
            FileType::Regular => {
                let id = self
                    .create_file(dir, last, meta.perm, meta.uid, meta.gid)
                    .map_err(Fs)?;
                self.write_all(id, e.data).map_err(Fs)?;
                stats.files += 1;
                stats.bytes += e.data.len() as u64;
                id
            }
            FileType::Symlink => {
                let id = self
                    .symlink(dir, last, e.data, meta.uid, meta.gid)
                    .map_err(Fs)?;
                stats.symlinks += 1;
                id
            }
            FileType::CharDevice | FileType::BlockDevice | FileType::Fifo | FileType::Socket => {
                let rdev = (e.rdev_major, e.rdev_minor);
                let id = self
                    .mknod(dir, last, file_type, meta.perm, rdev, meta.uid, meta.gid)
                    .map_err(Fs)?;
                stats.special += 1;
                id
            }
            FileType::Mount => {
                stats.skipped += 1;
                return Ok(());
            }
        };
        let meta = if file_type == FileType::Symlink {
            Meta {
                perm: 0o777,
                ..meta
            }
        } else {
            meta
        };
        self.set_meta(id, meta).map_err(Fs)?;
        if linkable {
            state.links.insert(key, id);
        }
        Ok(())
    }

    fn set_meta(&mut self, id: InodeId, meta: Meta) -> Result<(), FsError> {
        let inode = self.inode_mut(id)?;
        inode.perm = meta.perm;
        inode.uid = meta.uid;
        inode.gid = meta.gid;
        inode.atime = meta.time;
        inode.mtime = meta.time;
        inode.ctime = meta.time;
        Ok(())
    }

    fn write_all(&mut self, id: InodeId, data: &[u8]) -> Result<(), FsError> {
        let mut done = 0;
        while done < data.len() {
            match self.write_at(id, done as u64, &data[done..])? {
                0 => return Err(FsError::NoSpace),
                n => done += n,
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
struct Meta {
    perm: u32,
    uid: u32,
    gid: u32,
    time: Timespec,
}
