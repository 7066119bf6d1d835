//! Host tests, with a platform whose pages are `Rc`s (clone = share, `make_mut` = copy on
//! write), a settable clock and an optional page limit.

mod cpio;
mod dir;
mod file;
mod meta;
mod model;
mod path;
mod rename;

use std::cell::Cell;
use std::rc::Rc;
use std::vec::Vec;

use crate::{FsError, InodeId, Parent, Platform, Resolved, Timespec, Vfs, PAGE_SIZE};

/// Page contents plus the platform's count of live pages (to check that pages are freed).
pub struct PageData {
    bytes: [u8; PAGE_SIZE],
    live: Rc<Cell<usize>>,
}

impl Clone for PageData {
    fn clone(&self) -> Self {
        self.live.set(self.live.get() + 1);
        PageData {
            bytes: self.bytes,
            live: self.live.clone(),
        }
    }
}

impl Drop for PageData {
    fn drop(&mut self) {
        self.live.set(self.live.get() - 1);
    }
}

pub struct TestPlatform {
    pub live: Rc<Cell<usize>>,
    /// Most live pages allowed (allocations and copies beyond fail).
    pub limit: Option<usize>,
    pub now: Timespec,
    /// Copies made by copy-on-write.
    pub copies: usize,
}

impl TestPlatform {
    fn full(&self) -> bool {
        self.limit.is_some_and(|limit| self.live.get() >= limit)
    }
}

impl Platform for TestPlatform {
    type Page = Rc<PageData>;

    fn alloc_zeroed(&mut self) -> Option<Self::Page> {
        if self.full() {
            return None;
        }
        self.live.set(self.live.get() + 1);
        Some(Rc::new(PageData {
            bytes: [0; PAGE_SIZE],
            live: self.live.clone(),
        }))
    }

    fn bytes<'a>(&self, page: &'a Self::Page) -> &'a [u8; PAGE_SIZE] {
        &page.bytes
    }

    fn bytes_mut<'a>(&mut self, page: &'a mut Self::Page) -> Option<&'a mut [u8; PAGE_SIZE]> {
        if Rc::strong_count(page) > 1 {
            if self.full() {
                return None;
            }
            self.copies += 1;
        }
        Some(&mut Rc::make_mut(page).bytes)
    }

    fn now(&self) -> Timespec {
        self.now
    }
}

pub type TestVfs = Vfs<TestPlatform>;

pub fn new_vfs() -> TestVfs {
    Vfs::new(TestPlatform {
        live: Rc::new(Cell::new(0)),
        limit: None,
        now: Timespec::new(1000, 0),
        copies: 0,
    })
}

pub fn live_pages(vfs: &TestVfs) -> usize {
    vfs.platform().live.get()
}

pub fn set_time(vfs: &mut TestVfs, sec: i64) {
    vfs.platform_mut().now = Timespec::new(sec, 0);
}

/// Resolves from the root, following the final symlink; Foreign results are errors.
pub fn try_node(vfs: &TestVfs, path: &str) -> Result<InodeId, FsError> {
    let root = vfs.root();
    match vfs.resolve(root, root, path.as_bytes(), true)? {
        Resolved::Node(id) => Ok(id),
        Resolved::Foreign { .. } => Err(FsError::Busy),
    }
}

pub fn node(vfs: &TestVfs, path: &str) -> InodeId {
    try_node(vfs, path).unwrap_or_else(|e| panic!("{path}: {e:?}"))
}

pub fn parent(vfs: &TestVfs, path: &str) -> Result<(InodeId, Vec<u8>), FsError> {
    let root = vfs.root();
    match vfs.resolve_parent(root, root, path.as_bytes())? {
        Parent::Local { dir, name, .. } => Ok((dir, name)),
        Parent::Foreign { .. } => Err(FsError::Busy),
    }
}

pub fn mkdir(vfs: &mut TestVfs, path: &str) -> InodeId {
    let (dir, name) = parent(vfs, path).unwrap();
    vfs.mkdir(dir, &name, 0o755, 0, 0)
        .unwrap_or_else(|e| panic!("mkdir {path}: {e:?}"))
}

pub fn create(vfs: &mut TestVfs, path: &str, data: &[u8]) -> InodeId {
    let (dir, name) = parent(vfs, path).unwrap();
    let id = vfs
        .create_file(dir, &name, 0o644, 0, 0)
        .unwrap_or_else(|e| panic!("create {path}: {e:?}"));
    assert_eq!(vfs.write_at(id, 0, data), Ok(data.len()));
    id
}

pub fn symlink(vfs: &mut TestVfs, path: &str, target: &str) -> InodeId {
    let (dir, name) = parent(vfs, path).unwrap();
    vfs.symlink(dir, &name, target.as_bytes(), 0, 0).unwrap()
}

pub fn read_all(vfs: &mut TestVfs, id: InodeId) -> Vec<u8> {
    let size = vfs.stat(id).unwrap().size as usize;
    let mut buf = std::vec![0xaa; size + 10];
    let n = vfs.read_at(id, 0, &mut buf).unwrap();
    assert_eq!(n, size);
    buf.truncate(n);
    buf
}

/// Names in a directory, without "." and "..", in listing order.
pub fn list(vfs: &mut TestVfs, dir: InodeId) -> Vec<Vec<u8>> {
    let mut names = Vec::new();
    vfs.readdir(dir, 0, |e| {
        if e.name != b"." && e.name != b".." {
            names.push(e.name.to_vec());
        }
        true
    })
    .unwrap();
    names
}

/// A fixed-seed xorshift64 generator for randomized tests.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}
