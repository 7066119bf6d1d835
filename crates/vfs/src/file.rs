//! Regular file data: sparse pages, read, write, truncate, and pages for mmap.
//!
//! Invariant: the bytes of the last page beyond the file size are zero, so growing a file
//! (by truncate or a write past the end) exposes zeros. Shrinking restores it by zeroing the
//! tail; growing re-checks it, because the kernel may have handed the page to a mapping that
//! wrote past the end.

use alloc::collections::btree_map::Entry;
use alloc::collections::BTreeMap;

use crate::inode::{Inode, Kind};
use crate::{FsError, InodeId, Platform, Vfs, MAX_FILE_SIZE, PAGE_SIZE};

const PS: u64 = PAGE_SIZE as u64;

/// The error for data operations on inodes that have no data.
fn not_regular<P: Platform>(kind: &Kind<P>) -> FsError {
    match kind {
        Kind::Directory(_) | Kind::Mount { .. } => FsError::IsDirectory,
        _ => FsError::Invalid,
    }
}

fn pages_mut<P: Platform>(inode: &mut Inode<P>) -> Result<&mut BTreeMap<u64, P::Page>, FsError> {
    match &mut inode.kind {
        Kind::Regular(pages) => Ok(pages),
        other => Err(not_regular(other)),
    }
}

/// Zeroes the last page from `size` to its end, copying it only if it holds nonzero bytes.
fn zero_tail<P: Platform>(
    platform: &mut P,
    pages: &mut BTreeMap<u64, P::Page>,
    size: u64,
) -> Result<(), FsError> {
    let off = (size % PS) as usize;
    if off == 0 {
        return Ok(());
    }
    if let Some(page) = pages.get_mut(&(size / PS)) {
        if platform.bytes(page)[off..].iter().any(|&b| b != 0) {
            let bytes = platform.bytes_mut(page).ok_or(FsError::NoSpace)?;
            bytes[off..].fill(0);
        }
    }
    Ok(())
}

/// The page at `index`, allocating a zero page for a hole.
fn page_or_alloc<'a, P: Platform>(
    platform: &mut P,
    pages: &'a mut BTreeMap<u64, P::Page>,
    index: u64,
) -> Option<&'a mut P::Page> {
    match pages.entry(index) {
        Entry::Occupied(e) => Some(e.into_mut()),
        Entry::Vacant(v) => Some(v.insert(platform.alloc_zeroed()?)),
    }
}

/// Checks a new size or write offset: negative as off_t -> Invalid, beyond the maximum
/// file size -> FileTooBig.
fn check_size(size: u64) -> Result<(), FsError> {
    if size > i64::MAX as u64 {
        Err(FsError::Invalid)
    } else if size > MAX_FILE_SIZE {
        Err(FsError::FileTooBig)
    } else {
        Ok(())
    }
}

/// Where the bytes of a write come from ([`Vfs::write_from`]): a slice, or memory the
/// kernel copies from with a copy that may stop early (a program's buffer at a page it
/// cannot read).
pub trait WriteSource {
    /// Fills `dst` with the source's bytes from `from` on; returns how many it copied
    /// (fewer than `dst.len()`: the source ends there, and the write stops).
    fn copy_to(&mut self, dst: &mut [u8], from: usize) -> usize;
}

impl WriteSource for &[u8] {
    fn copy_to(&mut self, dst: &mut [u8], from: usize) -> usize {
        let n = dst.len().min(self.len().saturating_sub(from));
        dst[..n].copy_from_slice(&self[from..from + n]);
        n
    }
}

impl<P: Platform> Vfs<P> {
    /// The pages of a regular file that hold its bytes in `[offset, offset + len)`, cloned
    /// into `out` (index, page) in order; holes are absent and read as zeros. Returns how
    /// many bytes the range has before the end of the file. The caller copies from the
    /// pages without holding the file system (a clone stays as it was: writers copy a
    /// shared page first). Updates the access time as [`Vfs::read_at`].
    pub fn read_pages(
        &mut self,
        id: InodeId,
        offset: u64,
        len: usize,
        out: &mut alloc::vec::Vec<(u64, P::Page)>,
    ) -> Result<usize, FsError> {
        let inode = self.inode(id)?;
        let Kind::Regular(pages) = &inode.kind else {
            return Err(not_regular(&inode.kind));
        };
        if offset >= inode.size || len == 0 {
            return Ok(0);
        }
        let n = (inode.size - offset).min(len as u64) as usize;
        let end = offset + n as u64;
        out.extend(
            pages
                .range(offset / PS..=(end - 1) / PS)
                .map(|(&index, page)| (index, page.clone())),
        );
        self.touch_atime(id)?;
        Ok(n)
    }

    /// Reads from a regular file at `offset` into `buf`; returns the bytes read (0 at or
    /// past the end). Holes read as zeros. Updates the access time (relatime). A directory
    /// -> IsDirectory, other non-regular inodes -> Invalid.
    pub fn read_at(&mut self, id: InodeId, offset: u64, buf: &mut [u8]) -> Result<usize, FsError> {
        let n = self.read_at_noatime(id, offset, buf)?;
        if !buf.is_empty() {
            self.touch_atime(id)?;
        }
        Ok(n)
    }

    /// [`Vfs::read_at`] without the access-time update (`O_NOATIME`, or the kernel's own
    /// reads such as loading an executable), through a shared reference.
    pub fn read_at_noatime(
        &self,
        id: InodeId,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, FsError> {
        let inode = self.inode(id)?;
        let Kind::Regular(pages) = &inode.kind else {
            return Err(not_regular(&inode.kind));
        };
        if offset >= inode.size || buf.is_empty() {
            return Ok(0);
        }
        let n = (inode.size - offset).min(buf.len() as u64) as usize;
        let end = offset + n as u64;
        let buf = &mut buf[..n];
        let mut filled = 0;
        for (&index, page) in pages.range(offset / PS..=(end - 1) / PS) {
            let page_start = index * PS;
            let from = page_start.max(offset);
            let to = (page_start + PS).min(end);
            let at = (from - offset) as usize;
            let len = (to - from) as usize;
            let in_page = (from - page_start) as usize;
            buf[filled..at].fill(0);
            buf[at..at + len].copy_from_slice(&self.platform.bytes(page)[in_page..in_page + len]);
            filled = at + len;
        }
        buf[filled..].fill(0);
        Ok(n)
    }

    /// Writes `data` at `offset` of a regular file, extending it; a gap before `offset`
    /// becomes a hole. Returns the bytes written, which is short when memory runs out
    /// (nothing written -> NoSpace) or the write crosses [`MAX_FILE_SIZE`] (starting at or
    /// past it -> FileTooBig). `offset + len` overflowing or beyond `i64::MAX` -> Invalid.
    /// Updates modification and change time.
    pub fn write_at(&mut self, id: InodeId, offset: u64, data: &[u8]) -> Result<usize, FsError> {
        self.write_from(id, offset, data.len(), &mut { data })
    }

    /// [`Vfs::write_at`] of `len` bytes from `source`. A source that stops early ends the
    /// write there: the bytes it gave are written (and the size and times updated); if it
    /// gave none, the result is `Ok(0)` and the file is unchanged but for a page a hole may
    /// have got (zeros).
    pub fn write_from(
        &mut self,
        id: InodeId,
        offset: u64,
        len: usize,
        source: &mut impl WriteSource,
    ) -> Result<usize, FsError> {
        let now = self.now();
        let (inode, platform) = self.inode_and_platform(id)?;
        let old_size = inode.size;
        let pages = pages_mut(inode)?;
        if len == 0 {
            return Ok(0);
        }
        let end = offset
            .checked_add(len as u64)
            .filter(|&end| end <= i64::MAX as u64)
            .ok_or(FsError::Invalid)?;
        if offset >= MAX_FILE_SIZE {
            return Err(FsError::FileTooBig);
        }
        let end = end.min(MAX_FILE_SIZE);
        if offset > old_size {
            zero_tail(platform, pages, old_size)?;
        }
        let mut pos = offset;
        let mut written = 0;
        let mut source_ended = false;
        while pos < end {
            let in_page = (pos % PS) as usize;
            let chunk = (PS - pos % PS).min(end - pos) as usize;
            let Some(page) = page_or_alloc(platform, pages, pos / PS) else {
                break;
            };
            let Some(bytes) = platform.bytes_mut(page) else {
                break;
            };
            let copied = source.copy_to(&mut bytes[in_page..in_page + chunk], written);
            pos += copied as u64;
            written += copied;
            if copied < chunk {
                source_ended = true;
                break;
            }
        }
        if written == 0 {
            return if source_ended {
                Ok(0)
            } else {
                Err(FsError::NoSpace)
            };
        }
        inode.size = old_size.max(pos);
        inode.touch_modified(now);
        Ok(written)
    }

    /// Sets the size of a regular file: shrinking frees the pages past the end and zeroes
    /// the tail of the last one; growing adds a hole. Beyond [`MAX_FILE_SIZE`] ->
    /// FileTooBig, beyond `i64::MAX` -> Invalid. Updates modification and change time.
    pub fn truncate(&mut self, id: InodeId, new_size: u64) -> Result<(), FsError> {
        let now = self.now();
        let (inode, platform) = self.inode_and_platform(id)?;
        let old_size = inode.size;
        let pages = pages_mut(inode)?;
        check_size(new_size)?;
        if new_size < old_size {
            zero_tail(platform, pages, new_size)?;
            drop(pages.split_off(&new_size.div_ceil(PS)));
        } else if new_size > old_size {
            zero_tail(platform, pages, old_size)?;
        }
        inode.size = new_size;
        inode.touch_modified(now);
        Ok(())
    }

    /// A number that changes whenever the contents of `id` change (every write and
    /// truncate; the inode's identity includes its generation, so a reused slot is another
    /// file): facts learnt from a file's bytes stay true while it is the same.
    pub fn data_version(&self, id: InodeId) -> Result<u64, FsError> {
        Ok(self.inode(id)?.data_version)
    }

    /// The page at `index` (below the size) for a mapping that writes the file in place
    /// (MAP_SHARED): the platform's `bytes_mut` runs on it first, so a page that must not
    /// change where it is (the kernel: one mapped executable, or held by others without a
    /// shared mapping) is replaced by a copy in the file before the mapping takes it.
    pub fn page_for_write(&mut self, id: InodeId, index: u64) -> Result<P::Page, FsError> {
        self.page_to_map(id, index, true)
    }

    /// The page at `index` of a regular file, for mapping it into a process: a hole inside
    /// the file gets a zero page first. A page wholly past the end -> Invalid (the kernel's
    /// SIGBUS); out of memory -> NoSpace.
    pub fn page(&mut self, id: InodeId, index: u64) -> Result<P::Page, FsError> {
        self.page_to_map(id, index, false)
    }

    /// `page` and `page_for_write` (which first lets the platform make it writable).
    fn page_to_map(&mut self, id: InodeId, index: u64, writable: bool) -> Result<P::Page, FsError> {
        let (inode, platform) = self.inode_and_platform(id)?;
        let size = inode.size;
        let pages = pages_mut(inode)?;
        match index.checked_mul(PS) {
            Some(start) if start < size => {}
            _ => return Err(FsError::Invalid),
        }
        let page = page_or_alloc(platform, pages, index).ok_or(FsError::NoSpace)?;
        if writable {
            platform.bytes_mut(page).ok_or(FsError::NoSpace)?;
        }
        Ok(page.clone())
    }
}
