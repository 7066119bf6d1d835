//! The file-system layer of the libOS: the in-memory root file system (crate `isounik-vfs`)
//! unpacked from the initramfs, `/dev` device nodes, `/proc`, path resolution across them,
//! and the files that descriptors refer to.

pub mod datagram;
mod dev;
pub mod epoll;
pub mod file;
pub mod pipe;
pub mod procfs;
pub mod socket;
mod stat;
pub mod waiters;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use isounik_linux::errno::Errno;
use isounik_vfs::{FileType, FsError, InodeId, Parent, Platform, Resolved, Timespec, Vfs};

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::mm::frame::Frame;
use crate::proc::Thread;
use crate::syscall::Caller;
pub use dev::{from_rdev as dev_from_rdev, Device};
pub use file::{FdTable, FileKind, OpenFile};
pub use procfs::ProcNode;
pub use stat::StatInfo;

/// Mount tag of `/proc`.
pub const PROC_MOUNT: u32 = 1;

/// Pages of file data are reference-counted physical frames, so a file page can be mapped
/// into a process without copying (copy-on-write on the first write). The libOS reaches
/// them in its file-data window (`Frame::file_data`), in ring 0 and behind the MPK gate.
pub struct KernelPlatform {
    /// The most file pages (`mm::file_data_limit`); ENOSPC beyond.
    max_pages: usize,
}

/// File pages alive (every `FilePage`: the file system's own and short-lived clones).
static FILE_PAGES: AtomicUsize = AtomicUsize::new(0);

/// A page of file data: a frame counted against the file system's size limit.
pub struct FilePage(Frame);

impl FilePage {
    fn new(frame: Frame) -> FilePage {
        FILE_PAGES.fetch_add(1, Ordering::Relaxed);
        FilePage(frame)
    }

    /// The frame, to map into a process.
    pub fn frame(&self) -> Frame {
        self.0.clone()
    }

    /// The page's bytes, in the file-data window (either ring).
    pub fn bytes(&self) -> &[u8; isounik_vfs::PAGE_SIZE] {
        self.0.file_data()
    }
}

impl Clone for FilePage {
    fn clone(&self) -> FilePage {
        FilePage::new(self.0.clone())
    }
}

impl Drop for FilePage {
    fn drop(&mut self) {
        FILE_PAGES.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Platform for KernelPlatform {
    type Page = FilePage;

    fn alloc_zeroed(&mut self) -> Option<FilePage> {
        if FILE_PAGES.load(Ordering::Relaxed) >= self.max_pages {
            return None;
        }
        Frame::new_file_data(None).map(FilePage::new)
    }

    fn bytes<'a>(&self, page: &'a FilePage) -> &'a [u8; isounik_vfs::PAGE_SIZE] {
        page.bytes()
    }

    fn bytes_mut<'a>(
        &mut self,
        page: &'a mut FilePage,
    ) -> Option<&'a mut [u8; isounik_vfs::PAGE_SIZE]> {
        page.0.file_data_mut()
    }

    fn now(&self) -> Timespec {
        let ns = crate::time::realtime_ns();
        Timespec::new((ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as u32)
    }
}

type KernelVfs = Vfs<KernelPlatform>;

static VFS: spin::Mutex<Option<KernelVfs>> = spin::Mutex::new(None);
static PROC_MOUNT_INODE: spin::Once<InodeId> = spin::Once::new();

/// Runs `f` on the file system. Never called from interrupt handlers.
pub fn with_vfs<R>(f: impl FnOnce(&mut KernelVfs) -> R) -> R {
    f(VFS.lock().as_mut().expect("fs::init has run"))
}

pub fn errno(e: FsError) -> Errno {
    Errno::from_i32(e.errno()).unwrap_or(Errno::EIO)
}

pub fn root() -> InodeId {
    with_vfs(|v| v.root())
}

/// What the program to run is, as the host packed it.
pub struct BootProgram {
    pub argv: Vec<Vec<u8>>,
    pub envp: Vec<Vec<u8>>,
    pub cwd: Option<Vec<u8>>,
}

/// Unpacks the initramfs into a fresh file system, adds the device nodes and `/proc`, and
/// takes out the `.isounik` boot directory. `None` when no archive was given.
pub fn init(initramfs: Option<&[u8]>) -> Result<Option<BootProgram>, String> {
    let mut vfs = Vfs::new(KernelPlatform {
        max_pages: crate::mm::file_data_limit(),
    });
    let root = vfs.root();
    if let Some(archive) = initramfs {
        vfs.unpack_cpio(root, archive)
            .map_err(|e| alloc::format!("malformed initramfs: {e}"))?;
    }
    // What the boot changes below (removing .isounik, mounting /proc) must not show in the
    // root directory's times: they stay as the host packed them.
    let root_times = vfs.stat(root).map(|s| (s.atime, s.mtime)).ok();
    let program = initramfs
        .map(|_| take_boot_program(&mut vfs, root))
        .transpose()?;
    dev::populate(&mut vfs, root).map_err(|e| alloc::format!("creating /dev: {e:?}"))?;
    // /proc: a mount point with the attributes of the directory the host packed (if any).
    let (mode, uid, gid, times) = match vfs.lookup(root, b"proc").and_then(|id| vfs.stat(id)) {
        Ok(st) => (st.mode & 0o7777, st.uid, st.gid, Some((st.atime, st.mtime))),
        Err(_) => (0o555, 0, 0, None),
    };
    let _ = vfs.rmdir(root, b"proc");
    let proc_inode = vfs
        .mount_point(root, b"proc", PROC_MOUNT, mode)
        .map_err(|e| alloc::format!("mounting /proc: {e:?}"))?;
    let _ = vfs.chown(proc_inode, Some(uid), Some(gid));
    if let Some((atime, mtime)) = times {
        let _ = vfs.set_times(proc_inode, Some(atime), Some(mtime));
    }
    PROC_MOUNT_INODE.call_once(|| proc_inode);
    // Names and directory entries live on the kernel heap: bound the inode count so that
    // creating files can end in ENOSPC, never in a kernel allocation failure (about one
    // inode per 2 KiB of memory).
    let frames = crate::mm::stats().total_frames;
    vfs.set_inode_limit((frames * 2).max(4096));
    if let Some((atime, mtime)) = root_times {
        let _ = vfs.set_times(root, Some(atime), Some(mtime));
    }
    *VFS.lock() = Some(vfs);
    Ok(program)
}

fn read_whole(vfs: &mut KernelVfs, id: InodeId) -> Vec<u8> {
    let size = vfs.stat(id).map(|s| s.size).unwrap_or(0).min(16 << 20) as usize;
    let mut buf = alloc::vec![0u8; size];
    let n = vfs.read_at(id, 0, &mut buf).unwrap_or(0);
    buf.truncate(n);
    buf
}

fn take_boot_program(vfs: &mut KernelVfs, root: InodeId) -> Result<BootProgram, String> {
    use isounik_abi::initramfs::{split_nul_list, BOOT_DIR};
    let dir = vfs.lookup(root, BOOT_DIR.as_bytes()).map_err(|_| {
        String::from("the initramfs has no .isounik directory (was it made by isounik?)")
    })?;
    let mut file = |name: &str| {
        vfs.lookup(dir, name.as_bytes())
            .ok()
            .map(|id| read_whole(vfs, id))
    };
    let argv_raw =
        file("argv").ok_or_else(|| String::from("the initramfs has no .isounik/argv"))?;
    let env_raw = file("env").unwrap_or_default();
    let cwd = file("cwd");
    let argv: Vec<Vec<u8>> = split_nul_list(&argv_raw).map(|s| s.to_vec()).collect();
    if argv.is_empty() || argv[0].is_empty() {
        return Err(String::from(".isounik/argv names no program"));
    }
    let envp = split_nul_list(&env_raw).map(|s| s.to_vec()).collect();
    // Remove the boot directory so the program never sees it.
    let names: Vec<Vec<u8>> = {
        let mut names = Vec::new();
        let _ = vfs.readdir(dir, 0, |e| {
            if e.name != b"." && e.name != b".." {
                names.push(e.name.to_vec());
            }
            true
        });
        names
    };
    for n in names {
        let _ = vfs.unlink(dir, &n);
    }
    let _ = vfs.rmdir(root, BOOT_DIR.as_bytes());
    Ok(BootProgram { argv, envp, cwd })
}

/// The host name from /etc/hostname (first line), else "isounik".
pub fn hostname() -> Vec<u8> {
    let name = with_vfs(|v| {
        let root = v.root();
        let id = v
            .lookup(root, b"etc")
            .and_then(|etc| v.lookup(etc, b"hostname"))
            .ok()?;
        Some(read_whole(v, id))
    });
    match name {
        Some(n) => {
            let line = n.split(|b| *b == b'\n').next().unwrap_or(&[]).trim_ascii();
            if line.is_empty() {
                b"isounik".to_vec()
            } else {
                line.to_vec()
            }
        }
        None => b"isounik".to_vec(),
    }
}

/// Where a path leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Inode(InodeId),
    Proc(ProcNode),
}

/// A process's working directory.
pub type Cwd = Node;

const MAX_HOPS: usize = 40;

fn join(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut v = a.to_vec();
    if !b.is_empty() {
        if !v.ends_with(b"/") {
            v.push(b'/');
        }
        v.extend_from_slice(b);
    }
    v
}

/// Resolves `path` from `start` (used for relative paths), following a final symlink when
/// `follow` is set. Behind the MPK gate, a path into /proc is `RING0_NEEDED` (procfs
/// describes the whole thread).
pub fn resolve(c: &Caller, start: &Node, path: &[u8], follow: bool) -> Result<Node, Errno> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let root = root();
    let mut path = path.to_vec();
    let mut start = match start {
        Node::Inode(id) => *id,
        Node::Proc(pn) => {
            if !path.starts_with(b"/") {
                path = join(&join(b"/proc", &pn.path()), &path);
            }
            root
        }
    };
    for _ in 0..MAX_HOPS {
        let resolved = with_vfs(|v| v.resolve(start, root, &path, follow)).map_err(errno)?;
        match resolved {
            Resolved::Node(id) => return Ok(Node::Inode(id)),
            Resolved::Foreign {
                mount,
                mount_inode,
                rest,
            } => {
                if mount != PROC_MOUNT {
                    return Err(Errno::ENOENT);
                }
                match procfs::lookup(c.thread()?, &rest, follow)? {
                    procfs::Lookup::Node(n) => return Ok(Node::Proc(n)),
                    procfs::Lookup::Symlink { target, remaining } => {
                        path = join(&target, &remaining);
                        start = with_vfs(|v| v.parent(mount_inode)).map_err(errno)?;
                        if !path.starts_with(b"/") {
                            // Relative proc links are relative to /proc.
                            path = join(b"/proc", &path);
                        }
                    }
                    procfs::Lookup::Up(remaining) => {
                        start = with_vfs(|v| v.parent(mount_inode)).map_err(errno)?;
                        path = if remaining.is_empty() {
                            b".".to_vec()
                        } else {
                            remaining
                        };
                    }
                }
            }
        }
    }
    Err(Errno::ELOOP)
}

/// The directory and last name of `path`, for creating, removing and renaming.
pub fn resolve_parent(start: &Node, path: &[u8]) -> Result<(InodeId, Vec<u8>, bool), Errno> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let root = root();
    let (start, path) = match start {
        Node::Inode(id) => (*id, path.to_vec()),
        Node::Proc(pn) => (
            root,
            if path.starts_with(b"/") {
                path.to_vec()
            } else {
                join(&pn.path(), path)
            },
        ),
    };
    match with_vfs(|v| v.resolve_parent(start, root, &path)).map_err(errno)? {
        Parent::Local {
            dir,
            name,
            trailing_slash,
        } => Ok((dir, name, trailing_slash)),
        // Nothing can be created or removed inside /proc.
        Parent::Foreign { .. } => Err(Errno::EACCES),
    }
}

/// The absolute path of the file `path` finally names, following every symlink (also those
/// of /proc), without `.` or `..`: what /proc/self/exe shows after execve.
pub fn canonical_path(p: &Thread, start: &Node, path: &[u8]) -> Option<Vec<u8>> {
    let mut path = if path.starts_with(b"/") {
        path.to_vec()
    } else {
        join(&path_of(start), path)
    };
    for _ in 0..MAX_HOPS {
        match resolve(&Caller::of(p), start, &path, false).ok()? {
            Node::Inode(id) => {
                if with_vfs(|v| v.file_type(id)) == Ok(FileType::Symlink) {
                    let target = with_vfs(|v| v.readlink(id).map(|t| t.to_vec())).ok()?;
                    path = if target.starts_with(b"/") {
                        target
                    } else {
                        let dir = path.rsplitn(2, |b| *b == b'/').nth(1).unwrap_or(b"");
                        join(if dir.is_empty() { b"/" } else { dir }, &target)
                    };
                    continue;
                }
                let (dir, name, _) = resolve_parent(start, &path).ok()?;
                return Some(join(&path_of(&Node::Inode(dir)), &name));
            }
            Node::Proc(pn) if pn.is_symlink() => path = procfs::readlink(p, &pn).ok()?,
            Node::Proc(pn) => return Some(join(b"/proc", &pn.path())),
        }
    }
    None
}

/// An absolute path naming `node`, for getcwd and /proc links.
pub fn path_of(node: &Node) -> Vec<u8> {
    match node {
        Node::Inode(id) => with_vfs(|v| v.path_of(*id)).unwrap_or_else(|_| b"/".to_vec()),
        Node::Proc(pn) => join(b"/proc", &pn.path()),
    }
}

/// A node's attributes (a /proc node's are ring 0's: `RING0_NEEDED` behind the gate).
pub fn stat_node(c: &Caller, node: &Node) -> Result<StatInfo, Errno> {
    match node {
        Node::Inode(id) => with_vfs(|v| v.stat(*id))
            .map(StatInfo::from_vfs)
            .map_err(errno),
        Node::Proc(pn) => procfs::stat(c.thread()?, pn),
    }
}

/// A regular file of the root file system, held open (its data survives unlinking while a
/// `FileRef` exists). Executables and file mappings use it.
#[derive(Clone, Debug)]
pub struct FileRef(Arc<FileHold>);

#[derive(Debug)]
struct FileHold {
    id: InodeId,
    path: String,
}

impl Drop for FileHold {
    fn drop(&mut self) {
        let _ = with_vfs(|v| v.close_ref(self.id));
    }
}

impl FileRef {
    pub fn new(id: InodeId, path: &[u8]) -> Result<FileRef, Errno> {
        with_vfs(|v| v.open_ref(id)).map_err(errno)?;
        Ok(FileRef(Arc::new(FileHold {
            id,
            path: String::from_utf8_lossy(path).into_owned(),
        })))
    }

    pub fn inode(&self) -> InodeId {
        self.0.id
    }

    pub fn path(&self) -> String {
        self.0.path.clone()
    }

    pub fn size(&self) -> u64 {
        with_vfs(|v| v.stat(self.0.id)).map(|s| s.size).unwrap_or(0)
    }

    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        with_vfs(|v| v.read_at(self.0.id, offset, buf)).map_err(errno)
    }

    /// Changes whenever the file's contents do (see `isounik_vfs::Vfs::data_version`).
    pub fn data_version(&self) -> Result<u64, Errno> {
        with_vfs(|v| v.data_version(self.0.id)).map_err(errno)
    }

    /// The page-cache page at `index` (shared: map it read-only).
    pub fn page(&self, index: u64) -> Result<Frame, Errno> {
        with_vfs(|v| v.page(self.0.id, index).map(|page| page.frame())).map_err(errno)
    }

    /// The page at `index` for a MAP_SHARED mapping, which writes it in place: a page
    /// mapped executable or held elsewhere is first replaced by a copy in the file, and
    /// the one returned is marked shared-mapped (later file writes go into it too).
    pub fn shared_page(&self, index: u64) -> Result<Frame, Errno> {
        with_vfs(|v| {
            v.page_for_write(self.0.id, index).map(|page| {
                let frame = page.frame();
                frame.mark_shared_mapped();
                frame
            })
        })
        .map_err(errno)
    }
}

/// Opens the program at `path` for execution: it must be a regular file with an execute
/// bit (EACCES otherwise, as Linux).
pub fn open_executable(
    cwd: &Cwd,
    p: Option<&Thread>,
    path: &[u8],
) -> Result<FileRef, crate::proc::exec::ExecError> {
    use crate::proc::exec::ExecError;
    let shown = String::from_utf8_lossy(path).into_owned();
    let err = |errno: Errno, what: &str| ExecError {
        errno,
        message: alloc::format!("{shown}: {what}"),
    };
    let node = match p {
        Some(p) => resolve(&Caller::of(p), cwd, path, true),
        None => match with_vfs(|v| v.resolve(v.root(), v.root(), path, true)) {
            Ok(Resolved::Node(id)) => Ok(Node::Inode(id)),
            Ok(_) => Err(Errno::EACCES),
            Err(e) => Err(errno(e)),
        },
    }
    .map_err(|e| {
        err(
            e,
            if e == Errno::ENOENT {
                "No such file or directory"
            } else {
                "cannot be resolved"
            },
        )
    })?;
    let Node::Inode(id) = node else {
        return Err(err(Errno::EACCES, "Permission denied"));
    };
    let st = with_vfs(|v| v.stat(id)).map_err(|e| err(errno(e), "stat failed"))?;
    match st.file_type {
        FileType::Regular => {}
        FileType::Directory | FileType::Mount => return Err(err(Errno::EACCES, "Is a directory")),
        _ => return Err(err(Errno::EACCES, "Permission denied")),
    }
    if st.mode & 0o111 == 0 {
        return Err(err(Errno::EACCES, "Permission denied (no execute bit)"));
    }
    FileRef::new(id, path).map_err(|e| err(e, "cannot be opened"))
}
