//! File and directory system calls.

use alloc::sync::Arc;
use alloc::vec::Vec;

use isounik_linux::errno::Errno;
use isounik_vfs::{FileType, InodeId, Timespec};

use super::caller::RING0_NEEDED;
use super::{Args, Caller, SysResult};
use crate::fs::{self, procfs, with_vfs, Device, FileKind, FileRef, Node, OpenFile};
use crate::proc::Thread;

const AT_FDCWD: i32 = -100;
const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
const AT_REMOVEDIR: u32 = 0x200;
const AT_SYMLINK_FOLLOW: u32 = 0x400;
const AT_NO_AUTOMOUNT: u32 = 0x800;
const AT_EMPTY_PATH: u32 = 0x1000;
const AT_STATX_SYNC_TYPE: u32 = 0x6000;
const AT_EACCESS: u32 = 0x200;

const O_CREAT: u32 = 0o100;
const O_EXCL: u32 = 0o200;
const O_TRUNC: u32 = 0o1000;
const O_DIRECTORY: u32 = 0o200000;
const O_NOFOLLOW: u32 = 0o400000;
const O_CLOEXEC: u32 = 0o2000000;
const O_TMPFILE: u32 = 0o20200000;

/// Largest chunk copied through the kernel per step of a read or write.
const CHUNK: usize = 64 * 1024;
/// Linux caps a single read/write at this many bytes.
const MAX_RW: usize = 0x7fff_f000;

/// Reads a path argument (ENOENT for an empty one unless `allow_empty`).
fn path_arg(c: &Caller, addr: u64, allow_empty: bool) -> Result<Vec<u8>, Errno> {
    let path = c.read_cstr(addr, 4095)?;
    if path.is_empty() && !allow_empty {
        return Err(Errno::ENOENT);
    }
    Ok(path)
}

/// Where a relative path starts for `dirfd`.
fn start_of(c: &Caller, dirfd: i32, path: &[u8]) -> Result<Node, Errno> {
    if path.starts_with(b"/") || dirfd == AT_FDCWD {
        return Ok(c.cwd());
    }
    if dirfd < 0 {
        return Err(Errno::EBADF);
    }
    let file = c.files.lock().get(dirfd as usize)?;
    let node = file.node().ok_or(Errno::ENOTDIR)?;
    let is_dir = match &node {
        Node::Inode(id) => matches!(
            with_vfs(|v| v.file_type(*id)),
            Ok(FileType::Directory) | Ok(FileType::Mount)
        ),
        Node::Proc(pn) => pn.is_dir(),
    };
    if is_dir || path.is_empty() {
        Ok(node)
    } else {
        Err(Errno::ENOTDIR)
    }
}

/// The node `(dirfd, path)` names; with AT_EMPTY_PATH and an empty path, the descriptor's.
fn lookup_at(c: &Caller, dirfd: i32, path_addr: u64, flags: u32) -> Result<Node, Errno> {
    let empty_ok = flags & AT_EMPTY_PATH != 0;
    let path = path_arg(c, path_addr, empty_ok)?;
    if path.is_empty() {
        if dirfd == AT_FDCWD {
            return Ok(c.cwd());
        }
        let file = c.files.lock().get(dirfd.max(0) as usize)?;
        return file.node().ok_or(Errno::EBADF);
    }
    let start = start_of(c, dirfd, &path)?;
    fs::resolve(c, &start, &path, flags & AT_SYMLINK_NOFOLLOW == 0)
}

/// An absolute, lexically normalized path (for /proc/self/fd and messages).
fn absolute(start: &Node, path: &[u8]) -> Vec<u8> {
    let full = if path.starts_with(b"/") {
        path.to_vec()
    } else {
        let mut base = fs::path_of(start);
        base.push(b'/');
        base.extend_from_slice(path);
        base
    };
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in full.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = Vec::new();
    for c in parts {
        out.push(b'/');
        out.extend_from_slice(c);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

// ---- open, close, read, write ------------------------------------------------------------

/// The open file for `node`. A /proc file's contents are made from the whole thread:
/// `RING0_NEEDED` behind the gate, asked before anything changes.
fn open_node(c: &Caller, node: Node, flags: u32, path: Vec<u8>) -> Result<Arc<OpenFile>, Errno> {
    let accmode = flags & fs::file::O_ACCMODE;
    let wants_write = accmode != 0 || flags & O_TRUNC != 0;
    if flags & fs::file::O_PATH != 0 {
        return Ok(OpenFile::new(FileKind::PathOnly(node), flags, path));
    }
    let kind = match &node {
        Node::Inode(id) => {
            let st = with_vfs(|v| v.stat(*id)).map_err(fs::errno)?;
            match st.file_type {
                FileType::Regular => {
                    if flags & O_DIRECTORY != 0 {
                        return Err(Errno::ENOTDIR);
                    }
                    if flags & O_TRUNC != 0 && accmode != 0 {
                        with_vfs(|v| v.truncate(*id, 0)).map_err(fs::errno)?;
                    }
                    FileKind::Regular(FileRef::new(*id, &path)?)
                }
                FileType::Directory | FileType::Mount => {
                    if wants_write {
                        return Err(Errno::EISDIR);
                    }
                    FileKind::Directory(*id)
                }
                FileType::Symlink => return Err(Errno::ELOOP),
                FileType::CharDevice => {
                    if flags & O_DIRECTORY != 0 {
                        return Err(Errno::ENOTDIR);
                    }
                    let d = fs::dev_from_rdev(st.rdev_major, st.rdev_minor).ok_or(Errno::ENXIO)?;
                    FileKind::Device(d, *id)
                }
                // Named pipes and sockets arrive with inter-process communication.
                _ => return Err(Errno::ENXIO),
            }
        }
        Node::Proc(pn) => {
            if pn.is_dir() {
                if wants_write {
                    return Err(Errno::EISDIR);
                }
                FileKind::ProcDir(pn.clone())
            } else if pn.is_symlink() {
                return Err(Errno::ELOOP);
            } else {
                if flags & O_DIRECTORY != 0 {
                    return Err(Errno::ENOTDIR);
                }
                if wants_write {
                    return Err(Errno::EACCES);
                }
                FileKind::ProcFile(pn.clone(), procfs::contents(c.thread()?, pn)?)
            }
        }
    };
    Ok(OpenFile::new(kind, flags, path))
}

fn do_open(c: &Caller, dirfd: i32, path_addr: u64, flags: u32, mode: u32) -> SysResult {
    if flags & O_TMPFILE == O_TMPFILE {
        return Err(Errno::EOPNOTSUPP);
    }
    let path = path_arg(c, path_addr, false)?;
    let start = start_of(c, dirfd, &path)?;
    let creating = flags & O_CREAT != 0;
    let follow = flags & O_NOFOLLOW == 0 && !(creating && flags & O_EXCL != 0);
    let node = match fs::resolve(c, &start, &path, follow) {
        Ok(n) => {
            if creating && flags & O_EXCL != 0 {
                return Err(Errno::EEXIST);
            }
            if flags & O_NOFOLLOW != 0 && flags & fs::file::O_PATH == 0 {
                if let Node::Inode(id) = n {
                    if with_vfs(|v| v.file_type(id)) == Ok(FileType::Symlink) {
                        return Err(Errno::ELOOP);
                    }
                }
            }
            n
        }
        Err(Errno::ENOENT) if creating => {
            let (dir, name, trailing) = fs::resolve_parent(&start, &path)?;
            if trailing {
                return Err(Errno::EISDIR);
            }
            let perm = mode & 0o7777 & !c.fs.lock().umask;
            Node::Inode(with_vfs(|v| v.create_file(dir, &name, perm, 0, 0)).map_err(fs::errno)?)
        }
        Err(e) => return Err(e),
    };
    let file = open_node(c, node, flags, absolute(&start, &path))?;
    let limit = c.nofile_limit();
    Ok(c.files
        .lock()
        .insert_from(0, file, flags & O_CLOEXEC != 0, limit)? as u64)
}

pub fn sys_open(c: &Caller, a: Args) -> SysResult {
    do_open(c, AT_FDCWD, a.ptr(0), a.uint(1), a.uint(2))
}

pub fn sys_openat(c: &Caller, a: Args) -> SysResult {
    do_open(c, a.int(0), a.ptr(1), a.uint(2), a.uint(3))
}

pub fn sys_creat(c: &Caller, a: Args) -> SysResult {
    do_open(
        c,
        AT_FDCWD,
        a.ptr(0),
        O_CREAT | fs::file::O_WRONLY | O_TRUNC,
        a.uint(1),
    )
}

pub fn sys_close(c: &Caller, a: Args) -> SysResult {
    let fd = a.fd(0)?;
    c.files.lock().close(fd)?;
    Ok(0)
}

/// Reads a device (the console, a terminal, a host stream) into user memory at `buf`:
/// what it has, up to `CHUNK` bytes. Everything held in memory is the `Split` entries'
/// first halves' (`read_in_memory`), on both paths.
fn read_into_user(
    p: &mut Thread,
    file: &OpenFile,
    buf: u64,
    len: usize,
    at: Option<u64>,
) -> SysResult {
    let mut kbuf = alloc::vec![0u8; len.min(MAX_RW).min(CHUNK)];
    let n = file.read(p, &mut kbuf, at)?;
    p.mm().write(buf, &kbuf[..n])?;
    Ok(n as u64)
}

/// Writes user memory at `buf` to a device, `CHUNK` bytes at a time.
fn write_from_user(
    p: &mut Thread,
    file: &OpenFile,
    buf: u64,
    len: usize,
    mut at: Option<u64>,
) -> SysResult {
    let len = len.min(MAX_RW);
    let mut kbuf = alloc::vec![0u8; len.min(CHUNK)];
    let mut done = 0;
    while done < len {
        let want = (len - done).min(CHUNK);
        if let Err(e) = p.mm().read(buf + done as u64, &mut kbuf[..want]) {
            if done == 0 {
                return Err(e);
            }
            break;
        }
        let n = match file.write(p, &kbuf[..want], at) {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        done += n;
        if let Some(off) = at.as_mut() {
            *off += n as u64;
        }
        if n < want {
            break;
        }
    }
    Ok(done as u64)
}

pub fn sys_read(p: &mut Thread, a: Args) -> SysResult {
    let file = p.files().get(a.fd(0)?)?;
    read_into_user(p, &file, a.ptr(1), a.usize(2), None)
}

pub fn sys_write(p: &mut Thread, a: Args) -> SysResult {
    let file = p.files().get(a.fd(0)?)?;
    write_from_user(p, &file, a.ptr(1), a.usize(2), None)
}

/// A regular or /proc file's data into user memory at `buf` (`OpenFile::read_data_to_user`);
/// `None` for any other file.
fn read_data_to_user(
    c: &Caller,
    file: &OpenFile,
    buf: u64,
    len: usize,
    at: Option<u64>,
) -> Option<SysResult> {
    file.read_data_to_user(c, buf, len.min(MAX_RW), at)
        .map(|result| result.map(|n| n as u64))
}

/// User memory at `buf` into a regular file (`None` for any other file): straight into the
/// file's pages where the memory is present, through a page-sized buffer (which pages it
/// in, or finds it unreadable: EFAULT) where it is not.
fn write_data_from_user(
    c: &Caller,
    file: &OpenFile,
    buf: u64,
    len: usize,
    mut at: Option<u64>,
) -> Option<SysResult> {
    if !file.is_data() {
        return None;
    }
    let len = len.min(MAX_RW);
    let mut done = 0;
    while done < len {
        let addr = buf + done as u64;
        let mut n = match file.write_user_data(c, addr, len - done, at)? {
            Ok(n) => n,
            Err(e) if done == 0 => return Some(Err(e)),
            Err(_) => break,
        };
        if n == 0 {
            let mut page = [0u8; 512];
            let want = (len - done).min(page.len() - (addr % page.len() as u64) as usize);
            if let Err(e) = c.read(addr, &mut page[..want]) {
                if done == 0 {
                    return Some(Err(e));
                }
                break;
            }
            n = match file.write_data(c, &page[..want], at)? {
                Ok(n) => n,
                Err(e) if done == 0 => return Some(Err(e)),
                Err(_) => break,
            };
            if n == 0 {
                break;
            }
        }
        done += n;
        if let Some(off) = at.as_mut() {
            *off += n as u64;
        }
    }
    Some(Ok(done as u64))
}

/// A read of anything held in memory (a pipe, a memory device, a regular or /proc file)
/// straight into user memory; `None` for devices.
fn read_in_memory(
    c: &Caller,
    file: &OpenFile,
    buf: u64,
    len: usize,
    no_wait: bool,
) -> Option<SysResult> {
    let len = len.min(MAX_RW);
    let transfer = file
        .stream_read_to_user(c, buf, len, no_wait)
        .or_else(|| file.memory_device_read_to_user(c, buf, len));
    match transfer {
        Some(result) => Some(result.map(|n| n as u64)),
        None => read_data_to_user(c, file, buf, len, None),
    }
}

/// A write of user memory to anything held in memory, as `read_in_memory`.
fn write_in_memory(c: &Caller, file: &OpenFile, buf: u64, len: usize) -> Option<SysResult> {
    let len = len.min(MAX_RW);
    let transfer = file
        .stream_write_from_user(c, buf, len)
        .or_else(|| file.memory_device_write(len));
    match transfer {
        Some(result) => Some(result.map(|n| n as u64)),
        None => write_data_from_user(c, file, buf, len, None),
    }
}

/// For the first half of a `Split` entry: "not mine", in either ring (unlike
/// `Caller::ring0_if`, which is about what ring 3 cannot do): the second half serves it.
fn split_ring0_half_if(not_mine: bool) -> Result<(), Errno> {
    if not_mine {
        Err(RING0_NEEDED)
    } else {
        Ok(())
    }
}

/// read(2) of anything held in memory (`read_in_memory`): runs behind the gate (a pipe
/// blocks through the privilege gate); devices are `sys_read`'s, in ring 0.
pub fn sys_read_in_memory(c: &Caller, a: Args) -> SysResult {
    let file = c.files.lock().get(a.fd(0)?)?;
    read_in_memory(c, &file, a.ptr(1), a.usize(2), false).unwrap_or(Err(RING0_NEEDED))
}

/// write(2) of anything held in memory, as `sys_read_in_memory`.
pub fn sys_write_in_memory(c: &Caller, a: Args) -> SysResult {
    let file = c.files.lock().get(a.fd(0)?)?;
    write_in_memory(c, &file, a.ptr(1), a.usize(2)).unwrap_or(Err(RING0_NEEDED))
}

fn offset_arg(a: Args, i: usize) -> Result<u64, Errno> {
    let off = a.raw(i) as i64;
    if off < 0 {
        Err(Errno::EINVAL)
    } else {
        Ok(off as u64)
    }
}

fn must_seek(file: &OpenFile) -> Result<(), Errno> {
    match file.kind {
        FileKind::HostStream(_)
        | FileKind::Device(Device::Tty, _)
        | FileKind::Pipe(_)
        | FileKind::Socket(_) => Err(Errno::ESPIPE),
        _ => Ok(()),
    }
}

/// pread64(2) of a regular or /proc file (in either ring); devices are `sys_pread64`'s.
pub fn sys_pread64_data(c: &Caller, a: Args) -> SysResult {
    let file = c.files.lock().get(a.fd(0)?)?;
    must_seek(&file)?;
    let at = Some(offset_arg(a, 3)?);
    read_data_to_user(c, &file, a.ptr(1), a.usize(2), at).unwrap_or(Err(RING0_NEEDED))
}

/// pwrite64(2) of a regular file, as `sys_pread64_data`.
pub fn sys_pwrite64_data(c: &Caller, a: Args) -> SysResult {
    let file = c.files.lock().get(a.fd(0)?)?;
    must_seek(&file)?;
    let at = Some(offset_arg(a, 3)?);
    write_data_from_user(c, &file, a.ptr(1), a.usize(2), at).unwrap_or(Err(RING0_NEEDED))
}

pub fn sys_pread64(p: &mut Thread, a: Args) -> SysResult {
    let file = p.files().get(a.fd(0)?)?;
    must_seek(&file)?;
    read_into_user(p, &file, a.ptr(1), a.usize(2), Some(offset_arg(a, 3)?))
}

pub fn sys_pwrite64(p: &mut Thread, a: Args) -> SysResult {
    let file = p.files().get(a.fd(0)?)?;
    must_seek(&file)?;
    write_from_user(p, &file, a.ptr(1), a.usize(2), Some(offset_arg(a, 3)?))
}

pub(super) fn read_iovecs(c: &Caller, addr: u64, count: usize) -> Result<Vec<(u64, usize)>, Errno> {
    if count > 1024 {
        return Err(Errno::EINVAL);
    }
    let mut raw = alloc::vec![0u8; count * 16];
    c.read(addr, &mut raw)?;
    let iov: Vec<(u64, usize)> = raw
        .chunks_exact(16)
        .map(|c| {
            (
                u64::from_le_bytes(c[..8].try_into().expect("8")),
                u64::from_le_bytes(c[8..].try_into().expect("8")) as usize,
            )
        })
        .collect();
    if iov.iter().any(|(_, len)| (*len as i64) < 0) {
        return Err(Errno::EINVAL);
    }
    Ok(iov)
}

/// readv/writev: moves each iovec in turn with `transfer` (given the bytes moved so far),
/// stopping at the first short transfer; an error after some bytes moved ends the call
/// with what moved (as Linux).
pub(super) fn transfer_each(
    iov: Vec<(u64, usize)>,
    mut transfer: impl FnMut(u64, usize, u64) -> SysResult,
) -> SysResult {
    let mut total = 0;
    for (base, len) in iov {
        if len == 0 {
            continue;
        }
        let n = match transfer(base, len, total) {
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        total += n;
        if (n as usize) < len {
            break;
        }
    }
    Ok(total)
}

fn transfer_iovecs(
    p: &mut Thread,
    a: Args,
    transfer: fn(&mut Thread, &OpenFile, u64, usize, Option<u64>) -> SysResult,
) -> SysResult {
    let file = p.files().get(a.fd(0)?)?;
    let iov = Caller::run_for(p, |c| read_iovecs(c, a.ptr(1), a.usize(2)))?;
    transfer_each(iov, |base, len, _| transfer(p, &file, base, len, None))
}

pub fn sys_readv(p: &mut Thread, a: Args) -> SysResult {
    transfer_iovecs(p, a, read_into_user)
}

pub fn sys_writev(p: &mut Thread, a: Args) -> SysResult {
    transfer_iovecs(p, a, write_from_user)
}

/// readv(2) of anything held in memory, as `sys_read_in_memory`. Once some bytes have
/// arrived from a pipe it does not wait for more to fill the next buffers (as Linux:
/// musl's stdio reads with two).
pub fn sys_readv_in_memory(c: &Caller, a: Args) -> SysResult {
    let file = c.files.lock().get(a.fd(0)?)?;
    // Decided before the vector is read: a device is ring 0's with nothing done.
    split_ring0_half_if(!file.is_in_memory())?;
    let iov = read_iovecs(c, a.ptr(1), a.usize(2))?;
    transfer_each(iov, |base, len, total| {
        read_in_memory(c, &file, base, len, total > 0).unwrap_or(Err(RING0_NEEDED))
    })
}

/// writev(2) of anything held in memory, as `sys_read_in_memory`.
pub fn sys_writev_in_memory(c: &Caller, a: Args) -> SysResult {
    let file = c.files.lock().get(a.fd(0)?)?;
    split_ring0_half_if(!file.is_in_memory())?;
    let iov = read_iovecs(c, a.ptr(1), a.usize(2))?;
    transfer_each(iov, |base, len, _| {
        write_in_memory(c, &file, base, len).unwrap_or(Err(RING0_NEEDED))
    })
}

pub fn sys_lseek(c: &Caller, a: Args) -> SysResult {
    let file = c.files.lock().get(a.fd(0)?)?;
    file.seek(a.raw(1) as i64, a.uint(2))
}

/// The two ends of a sendfile: one loop (`sendfile_loop`) serves both paths.
trait SendfileEnds {
    fn read(&mut self, buf: &mut [u8], at: Option<u64>) -> Result<usize, Errno>;
    fn write(&mut self, data: &[u8]) -> Result<usize, Errno>;
}

/// sendfile's offset argument: `None` for NULL (use and move the file offset).
fn sendfile_offset(c: &Caller, addr: u64) -> Result<Option<u64>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let mut b = [0u8; 8];
    c.read(addr, &mut b)?;
    u64::try_from(i64::from_le_bytes(b))
        .map(Some)
        .map_err(|_| Errno::EINVAL)
}

/// Moves up to `count` bytes, `CHUNK` at a time. A file's data is read at explicit
/// positions from `start` (so its offset moves by what was written, not read); a stream
/// (`start` is `None`: a pipe, a terminal) is read once, as read(2) returns what it has.
/// An error after some bytes moved ends the call with them. Returns (bytes, new position).
fn sendfile_loop(
    ends: &mut impl SendfileEnds,
    count: usize,
    start: Option<u64>,
) -> Result<(usize, Option<u64>), Errno> {
    let mut pos = start;
    let mut kbuf = alloc::vec![0u8; count.min(CHUNK)];
    let mut done = 0;
    while done < count {
        let want = (count - done).min(CHUNK);
        let moved = ends
            .read(&mut kbuf[..want], pos)
            .and_then(|n| Ok((n, if n > 0 { ends.write(&kbuf[..n])? } else { 0 })));
        let (n, written) = match moved {
            Ok(m) => m,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        done += written;
        if let Some(p) = pos.as_mut() {
            *p += written as u64;
        }
        if n == 0 || written < n || pos.is_none() {
            break;
        }
    }
    Ok((done, pos))
}

/// Where sendfile starts reading: the offset given, else the file offset of a file's data;
/// `None` for a stream.
fn sendfile_start(input: &OpenFile, at: Option<u64>) -> Option<u64> {
    match at {
        Some(at) => Some(at),
        None => input.is_data().then(|| input.offset()),
    }
}

/// Gives the new position back: to the caller's offset, or as the file offset.
fn sendfile_finish(
    c: &Caller,
    input: &OpenFile,
    offset_addr: u64,
    pos: Option<u64>,
) -> Result<(), Errno> {
    match (pos, offset_addr) {
        (Some(pos), 0) => input.set_offset(pos),
        (Some(pos), addr) => c.write(addr, &pos.to_le_bytes())?,
        (None, _) => {}
    }
    Ok(())
}

struct InMemoryEnds<'a, 'c> {
    c: &'a Caller<'c>,
    input: &'a OpenFile,
    out: &'a OpenFile,
}

impl SendfileEnds for InMemoryEnds<'_, '_> {
    fn read(&mut self, buf: &mut [u8], at: Option<u64>) -> Result<usize, Errno> {
        self.input.read_data(buf, at).unwrap_or(Err(RING0_NEEDED))
    }
    fn write(&mut self, data: &[u8]) -> Result<usize, Errno> {
        self.out
            .write_in_memory(self.c, data)
            .unwrap_or(Err(RING0_NEEDED))
    }
}

/// sendfile(2) from a regular or /proc file to anything held in memory (a pipe, a regular
/// file, a memory device), in either ring; from a stream or to a device, `sys_sendfile`.
pub fn sys_sendfile_in_memory(c: &Caller, a: Args) -> SysResult {
    let out = c.files.lock().get(a.fd(0)?)?;
    let input = c.files.lock().get(a.fd(1)?)?;
    split_ring0_half_if(!out.is_in_memory() || !input.is_data())?;
    let at = sendfile_offset(c, a.ptr(2))?;
    // The source's checks (open for reading) before anything moves.
    input.read_data(&mut [], at).unwrap_or(Err(RING0_NEEDED))?;
    let mut ends = InMemoryEnds {
        c,
        input: &input,
        out: &out,
    };
    let (done, pos) = sendfile_loop(
        &mut ends,
        a.usize(3).min(MAX_RW),
        sendfile_start(&input, at),
    )?;
    sendfile_finish(c, &input, a.ptr(2), pos)?;
    Ok(done as u64)
}

struct ThreadEnds<'a> {
    t: &'a mut Thread,
    input: &'a OpenFile,
    out: &'a OpenFile,
}

impl SendfileEnds for ThreadEnds<'_> {
    fn read(&mut self, buf: &mut [u8], at: Option<u64>) -> Result<usize, Errno> {
        self.input.read(self.t, buf, at)
    }
    fn write(&mut self, data: &[u8]) -> Result<usize, Errno> {
        self.out.write(self.t, data, None)
    }
}

pub fn sys_sendfile(p: &mut Thread, a: Args) -> SysResult {
    let out = p.files().get(a.fd(0)?)?;
    let input = p.files().get(a.fd(1)?)?;
    let at = Caller::run_for(p, |c| sendfile_offset(c, a.ptr(2)))?;
    let start = sendfile_start(&input, at);
    let mut ends = ThreadEnds {
        t: p,
        input: &input,
        out: &out,
    };
    let (done, pos) = sendfile_loop(&mut ends, a.usize(3).min(MAX_RW), start)?;
    Caller::run_for(p, |c| sendfile_finish(c, &input, a.ptr(2), pos))?;
    Ok(done as u64)
}

// ---- attributes ----------------------------------------------------------------------

fn write_stat(c: &Caller, node: &Node, addr: u64) -> SysResult {
    let st = fs::stat_node(c, node)?;
    c.write(addr, &st.to_stat_bytes())?;
    Ok(0)
}

pub fn sys_stat(c: &Caller, a: Args) -> SysResult {
    let node = lookup_at(c, AT_FDCWD, a.ptr(0), 0)?;
    write_stat(c, &node, a.ptr(1))
}

pub fn sys_lstat(c: &Caller, a: Args) -> SysResult {
    let node = lookup_at(c, AT_FDCWD, a.ptr(0), AT_SYMLINK_NOFOLLOW)?;
    write_stat(c, &node, a.ptr(1))
}

pub fn sys_fstat(c: &Caller, a: Args) -> SysResult {
    let file = c.files.lock().get(a.fd(0)?)?;
    let st = file.stat(c)?;
    c.write(a.ptr(1), &st.to_stat_bytes())?;
    Ok(0)
}

fn stat_at(c: &Caller, dirfd: i32, path: u64, flags: u32) -> Result<fs::StatInfo, Errno> {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & AT_EMPTY_PATH != 0 {
        let raw = path_arg(c, path, true)?;
        if raw.is_empty() && dirfd != AT_FDCWD {
            let file = c.files.lock().get(dirfd.max(0) as usize)?;
            return file.stat(c);
        }
    }
    let node = lookup_at(c, dirfd, path, flags)?;
    fs::stat_node(c, &node)
}

pub fn sys_newfstatat(c: &Caller, a: Args) -> SysResult {
    let st = stat_at(c, a.int(0), a.ptr(1), a.uint(3))?;
    c.write(a.ptr(2), &st.to_stat_bytes())?;
    Ok(0)
}

pub fn sys_statx(c: &Caller, a: Args) -> SysResult {
    let st = stat_at(c, a.int(0), a.ptr(1), a.uint(2))?;
    if a.uint(3) & 0x8000_0000 != 0 {
        return Err(Errno::EINVAL); // STATX__RESERVED
    }
    c.write(a.ptr(4), &st.to_statx_bytes())?;
    Ok(0)
}

fn check_access(c: &Caller, dirfd: i32, path: u64, mode: u32, flags: u32) -> SysResult {
    if mode & !7 != 0 || flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let node = lookup_at(c, dirfd, path, flags)?;
    let st = fs::stat_node(c, &node)?;
    // Everything runs as root: read and write are always allowed; execute needs an x bit
    // (or a directory).
    if mode & 1 != 0 && st.mode & 0o170000 != 0o040000 && st.mode & 0o111 == 0 {
        return Err(Errno::EACCES);
    }
    Ok(0)
}

pub fn sys_access(c: &Caller, a: Args) -> SysResult {
    check_access(c, AT_FDCWD, a.ptr(0), a.uint(1), 0)
}

pub fn sys_faccessat(c: &Caller, a: Args) -> SysResult {
    check_access(c, a.int(0), a.ptr(1), a.uint(2), 0)
}

pub fn sys_faccessat2(c: &Caller, a: Args) -> SysResult {
    check_access(c, a.int(0), a.ptr(1), a.uint(2), a.uint(3))
}

fn inode_of(node: &Node) -> Result<InodeId, Errno> {
    match node {
        Node::Inode(id) => Ok(*id),
        Node::Proc(_) => Err(Errno::EPERM),
    }
}

fn chmod_node(node: &Node, mode: u32) -> SysResult {
    let id = inode_of(node)?;
    with_vfs(|v| v.chmod(id, mode & 0o7777)).map_err(fs::errno)?;
    Ok(0)
}

pub fn sys_chmod(c: &Caller, a: Args) -> SysResult {
    let node = lookup_at(c, AT_FDCWD, a.ptr(0), 0)?;
    chmod_node(&node, a.uint(1))
}

pub fn sys_fchmod(c: &Caller, a: Args) -> SysResult {
    let node = c.files.lock().get(a.fd(0)?)?.node().ok_or(Errno::EPERM)?;
    chmod_node(&node, a.uint(1))
}

pub fn sys_fchmodat(c: &Caller, a: Args) -> SysResult {
    let node = lookup_at(c, a.int(0), a.ptr(1), 0)?;
    chmod_node(&node, a.uint(2))
}

fn chown_node(node: &Node, uid: u32, gid: u32) -> SysResult {
    let id = inode_of(node)?;
    let uid = (uid != u32::MAX).then_some(uid);
    let gid = (gid != u32::MAX).then_some(gid);
    with_vfs(|v| v.chown(id, uid, gid)).map_err(fs::errno)?;
    Ok(0)
}

pub fn sys_chown(c: &Caller, a: Args) -> SysResult {
    let node = lookup_at(c, AT_FDCWD, a.ptr(0), 0)?;
    chown_node(&node, a.uint(1), a.uint(2))
}

pub fn sys_lchown(c: &Caller, a: Args) -> SysResult {
    let node = lookup_at(c, AT_FDCWD, a.ptr(0), AT_SYMLINK_NOFOLLOW)?;
    chown_node(&node, a.uint(1), a.uint(2))
}

pub fn sys_fchown(c: &Caller, a: Args) -> SysResult {
    let node = c.files.lock().get(a.fd(0)?)?.node().ok_or(Errno::EPERM)?;
    chown_node(&node, a.uint(1), a.uint(2))
}

pub fn sys_fchownat(c: &Caller, a: Args) -> SysResult {
    let node = lookup_at(c, a.int(0), a.ptr(1), a.uint(4))?;
    chown_node(&node, a.uint(2), a.uint(3))
}

const UTIME_NOW: i64 = (1 << 30) - 1;
const UTIME_OMIT: i64 = (1 << 30) - 2;

fn set_times(node: &Node, atime: Option<Timespec>, mtime: Option<Timespec>) -> SysResult {
    let id = inode_of(node)?;
    with_vfs(|v| v.set_times(id, atime, mtime)).map_err(fs::errno)?;
    Ok(0)
}

fn now() -> Timespec {
    let ns = crate::time::realtime_ns();
    Timespec::new((ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as u32)
}

fn timespec_arg(sec: i64, nsec: i64) -> Result<Option<Timespec>, Errno> {
    match nsec {
        UTIME_NOW => Ok(Some(now())),
        UTIME_OMIT => Ok(None),
        0..=999_999_999 => Ok(Some(Timespec::new(sec, nsec as u32))),
        _ => Err(Errno::EINVAL),
    }
}

pub fn sys_utimensat(c: &Caller, a: Args) -> SysResult {
    let (dirfd, path, times, flags) = (a.int(0), a.ptr(1), a.ptr(2), a.uint(3));
    let (atime, mtime) = if times == 0 {
        (Some(now()), Some(now()))
    } else {
        let mut b = [0u8; 32];
        c.read(times, &mut b)?;
        let f = |i: usize| i64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8"));
        (timespec_arg(f(0), f(1))?, timespec_arg(f(2), f(3))?)
    };
    let node = if path == 0 {
        // futimens: the descriptor itself.
        c.files
            .lock()
            .get(dirfd.max(0) as usize)?
            .node()
            .ok_or(Errno::EBADF)?
    } else {
        lookup_at(
            c,
            dirfd,
            path,
            flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH),
        )?
    };
    set_times(&node, atime, mtime)
}

fn timeval_times(c: &Caller, addr: u64) -> Result<(Option<Timespec>, Option<Timespec>), Errno> {
    if addr == 0 {
        return Ok((Some(now()), Some(now())));
    }
    let mut b = [0u8; 32];
    c.read(addr, &mut b)?;
    let f = |i: usize| i64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8"));
    let tv = |sec: i64, usec: i64| {
        if (0..1_000_000).contains(&usec) {
            Ok(Some(Timespec::new(sec, (usec * 1000) as u32)))
        } else {
            Err(Errno::EINVAL)
        }
    };
    Ok((tv(f(0), f(1))?, tv(f(2), f(3))?))
}

pub fn sys_utimes(c: &Caller, a: Args) -> SysResult {
    let (at, mt) = timeval_times(c, a.ptr(1))?;
    let node = lookup_at(c, AT_FDCWD, a.ptr(0), 0)?;
    set_times(&node, at, mt)
}

pub fn sys_futimesat(c: &Caller, a: Args) -> SysResult {
    let (at, mt) = timeval_times(c, a.ptr(2))?;
    let node = lookup_at(c, a.int(0), a.ptr(1), 0)?;
    set_times(&node, at, mt)
}

pub fn sys_utime(c: &Caller, a: Args) -> SysResult {
    let (at, mt) = if a.ptr(1) == 0 {
        (Some(now()), Some(now()))
    } else {
        let mut b = [0u8; 16];
        c.read(a.ptr(1), &mut b)?;
        let f = |i: usize| i64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8"));
        (Some(Timespec::new(f(0), 0)), Some(Timespec::new(f(1), 0)))
    };
    let node = lookup_at(c, AT_FDCWD, a.ptr(0), 0)?;
    set_times(&node, at, mt)
}

fn truncate_node(node: &Node, len: i64) -> SysResult {
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let id = inode_of(node)?;
    match with_vfs(|v| v.file_type(id)).map_err(fs::errno)? {
        FileType::Regular => {}
        FileType::Directory | FileType::Mount => return Err(Errno::EISDIR),
        _ => return Err(Errno::EINVAL),
    }
    with_vfs(|v| v.truncate(id, len as u64)).map_err(fs::errno)?;
    Ok(0)
}

pub fn sys_truncate(c: &Caller, a: Args) -> SysResult {
    let node = lookup_at(c, AT_FDCWD, a.ptr(0), 0)?;
    truncate_node(&node, a.raw(1) as i64)
}

pub fn sys_ftruncate(c: &Caller, a: Args) -> SysResult {
    let file = c.files.lock().get(a.fd(0)?)?;
    if file.flags() & fs::file::O_ACCMODE == 0 {
        return Err(Errno::EINVAL);
    }
    truncate_node(&file.node().ok_or(Errno::EINVAL)?, a.raw(1) as i64)
}

pub fn sys_fallocate(c: &Caller, a: Args) -> SysResult {
    let file = c.files.lock().get(a.fd(0)?)?;
    let (mode, off, len) = (a.int(1), a.raw(2) as i64, a.raw(3) as i64);
    if off < 0 || len <= 0 {
        return Err(Errno::EINVAL);
    }
    if mode != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let FileKind::Regular(f) = &file.kind else {
        return Err(Errno::ENODEV);
    };
    let end = off.checked_add(len).ok_or(Errno::EFBIG)? as u64;
    if f.size() < end {
        with_vfs(|v| v.truncate(f.inode(), end)).map_err(fs::errno)?;
    }
    Ok(0)
}

// ---- directories and names -------------------------------------------------------------

pub fn sys_getdents64(c: &Caller, a: Args) -> SysResult {
    let file = c.files.lock().get(a.fd(0)?)?;
    let size = a.usize(2).min(1 << 20);
    let mut out = alloc::vec![0u8; size];
    let mut used = 0;
    let mut too_small = false;
    let next_offset = match &file.kind {
        FileKind::Directory(id) => {
            let mut cookie = file.offset();
            with_vfs(|v| {
                v.readdir(*id, file.offset(), |e| {
                    match write_dirent(
                        &mut out[used..],
                        e.ino.ino(),
                        e.next_cookie,
                        e.file_type.dirent_type(),
                        e.name,
                    ) {
                        Some(n) => {
                            used += n;
                            cookie = e.next_cookie;
                            true
                        }
                        None => {
                            too_small = used == 0;
                            false
                        }
                    }
                })
            })
            .map_err(fs::errno)?;
            cookie
        }
        FileKind::ProcDir(pn) => {
            let entries = procfs::list(c.thread()?, pn)?;
            let mut index = file.offset() as usize;
            let dot: [(Vec<u8>, u64, u8); 2] = [(b".".to_vec(), 1, 4), (b"..".to_vec(), 1, 4)];
            let all: Vec<&(Vec<u8>, u64, u8)> = dot.iter().chain(entries.iter()).collect();
            while index < all.len() {
                let (name, ino, t) = all[index];
                match write_dirent(&mut out[used..], *ino, index as u64 + 1, *t, name) {
                    Some(n) => used += n,
                    None => {
                        too_small = used == 0;
                        break;
                    }
                }
                index += 1;
            }
            index as u64
        }
        _ => return Err(Errno::ENOTDIR),
    };
    if too_small {
        return Err(Errno::EINVAL);
    }
    // Entries the caller could not take stay for the next call.
    c.write(a.ptr(1), &out[..used])?;
    file.set_offset(next_offset);
    Ok(used as u64)
}

/// One `struct linux_dirent64`; `None` if it does not fit.
fn write_dirent(out: &mut [u8], ino: u64, next: u64, d_type: u8, name: &[u8]) -> Option<usize> {
    isounik_linux::structs::write_dirent64(out, ino, next as i64, d_type, name)
}

fn do_readlink(c: &Caller, dirfd: i32, path: u64, buf: u64, size: i32) -> SysResult {
    if size <= 0 {
        return Err(Errno::EINVAL);
    }
    let node = lookup_at(c, dirfd, path, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)?;
    let target = match &node {
        Node::Inode(id) => {
            with_vfs(|v| v.readlink(*id).map(|t| t.to_vec())).map_err(|_| Errno::EINVAL)?
        }
        Node::Proc(pn) => procfs::readlink(c.thread()?, pn)?,
    };
    let n = target.len().min(size as usize);
    c.write(buf, &target[..n])?;
    Ok(n as u64)
}

pub fn sys_readlink(c: &Caller, a: Args) -> SysResult {
    do_readlink(c, AT_FDCWD, a.ptr(0), a.ptr(1), a.int(2))
}

pub fn sys_readlinkat(c: &Caller, a: Args) -> SysResult {
    do_readlink(c, a.int(0), a.ptr(1), a.ptr(2), a.int(3))
}

fn parent_at(c: &Caller, dirfd: i32, path_addr: u64) -> Result<(InodeId, Vec<u8>, bool), Errno> {
    let path = path_arg(c, path_addr, false)?;
    let start = start_of(c, dirfd, &path)?;
    fs::resolve_parent(&start, &path)
}

fn do_mkdir(c: &Caller, dirfd: i32, path: u64, mode: u32) -> SysResult {
    let (dir, name, _) = parent_at(c, dirfd, path)?;
    let perm = mode & 0o7777 & !c.fs.lock().umask;
    with_vfs(|v| v.mkdir(dir, &name, perm, 0, 0)).map_err(fs::errno)?;
    Ok(0)
}

pub fn sys_mkdir(c: &Caller, a: Args) -> SysResult {
    do_mkdir(c, AT_FDCWD, a.ptr(0), a.uint(1))
}

pub fn sys_mkdirat(c: &Caller, a: Args) -> SysResult {
    do_mkdir(c, a.int(0), a.ptr(1), a.uint(2))
}

fn do_mknod(c: &Caller, dirfd: i32, path: u64, mode: u32, dev: u64) -> SysResult {
    let (dir, name, trailing) = parent_at(c, dirfd, path)?;
    if trailing {
        return Err(Errno::ENOENT);
    }
    let perm = mode & 0o7777 & !c.fs.lock().umask;
    let kind = match mode & 0o170000 {
        0 | 0o100000 => {
            with_vfs(|v| v.create_file(dir, &name, perm, 0, 0)).map_err(fs::errno)?;
            return Ok(0);
        }
        0o020000 => FileType::CharDevice,
        0o060000 => FileType::BlockDevice,
        0o010000 => FileType::Fifo,
        0o140000 => FileType::Socket,
        _ => return Err(Errno::EINVAL),
    };
    let major = ((dev >> 8) & 0xfff) as u32 | ((dev >> 32) as u32 & !0xfff);
    let minor = (dev & 0xff) as u32 | ((dev >> 12) as u32 & !0xff);
    with_vfs(|v| v.mknod(dir, &name, kind, perm, (major, minor), 0, 0)).map_err(fs::errno)?;
    Ok(0)
}

pub fn sys_mknod(c: &Caller, a: Args) -> SysResult {
    do_mknod(c, AT_FDCWD, a.ptr(0), a.uint(1), a.raw(2))
}

pub fn sys_mknodat(c: &Caller, a: Args) -> SysResult {
    do_mknod(c, a.int(0), a.ptr(1), a.uint(2), a.raw(3))
}

fn do_unlink(c: &Caller, dirfd: i32, path: u64, flags: u32) -> SysResult {
    if flags & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    let (dir, name, trailing) = parent_at(c, dirfd, path)?;
    if flags & AT_REMOVEDIR != 0 {
        with_vfs(|v| v.rmdir(dir, &name)).map_err(fs::errno)?;
    } else {
        if trailing {
            // "file/" names a directory; unlink on one is EISDIR, on a file ENOTDIR.
            let is_dir = with_vfs(|v| v.lookup(dir, &name).and_then(|id| v.file_type(id)));
            return Err(match is_dir {
                Ok(FileType::Directory) => Errno::EISDIR,
                Ok(_) => Errno::ENOTDIR,
                Err(e) => fs::errno(e),
            });
        }
        with_vfs(|v| v.unlink(dir, &name)).map_err(fs::errno)?;
    }
    Ok(0)
}

pub fn sys_unlink(c: &Caller, a: Args) -> SysResult {
    do_unlink(c, AT_FDCWD, a.ptr(0), 0)
}

pub fn sys_unlinkat(c: &Caller, a: Args) -> SysResult {
    do_unlink(c, a.int(0), a.ptr(1), a.uint(2))
}

pub fn sys_rmdir(c: &Caller, a: Args) -> SysResult {
    do_unlink(c, AT_FDCWD, a.ptr(0), AT_REMOVEDIR)
}

fn do_rename(c: &Caller, olddir: i32, old: u64, newdir: i32, new: u64, flags: u32) -> SysResult {
    if flags & !3 != 0 || flags == 3 {
        return Err(Errno::EINVAL);
    }
    let (od, on, _) = parent_at(c, olddir, old)?;
    let (nd, nn, _) = parent_at(c, newdir, new)?;
    with_vfs(|v| v.rename(od, &on, nd, &nn, flags)).map_err(fs::errno)?;
    Ok(0)
}

pub fn sys_rename(c: &Caller, a: Args) -> SysResult {
    do_rename(c, AT_FDCWD, a.ptr(0), AT_FDCWD, a.ptr(1), 0)
}

pub fn sys_renameat(c: &Caller, a: Args) -> SysResult {
    do_rename(c, a.int(0), a.ptr(1), a.int(2), a.ptr(3), 0)
}

pub fn sys_renameat2(c: &Caller, a: Args) -> SysResult {
    do_rename(c, a.int(0), a.ptr(1), a.int(2), a.ptr(3), a.uint(4))
}

fn do_symlink(c: &Caller, target: u64, dirfd: i32, path: u64) -> SysResult {
    let target = path_arg(c, target, false)?;
    let (dir, name, trailing) = parent_at(c, dirfd, path)?;
    if trailing {
        return Err(Errno::ENOENT);
    }
    with_vfs(|v| v.symlink(dir, &name, &target, 0, 0)).map_err(fs::errno)?;
    Ok(0)
}

pub fn sys_symlink(c: &Caller, a: Args) -> SysResult {
    do_symlink(c, a.ptr(0), AT_FDCWD, a.ptr(1))
}

pub fn sys_symlinkat(c: &Caller, a: Args) -> SysResult {
    do_symlink(c, a.ptr(0), a.int(1), a.ptr(2))
}

fn do_link(c: &Caller, olddir: i32, old: u64, newdir: i32, new: u64, flags: u32) -> SysResult {
    if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let follow = if flags & AT_SYMLINK_FOLLOW != 0 {
        0
    } else {
        AT_SYMLINK_NOFOLLOW
    };
    let existing = inode_of(&lookup_at(
        c,
        olddir,
        old,
        follow | (flags & AT_EMPTY_PATH),
    )?)?;
    let (dir, name, _) = parent_at(c, newdir, new)?;
    with_vfs(|v| v.link(existing, dir, &name)).map_err(fs::errno)?;
    Ok(0)
}

pub fn sys_link(c: &Caller, a: Args) -> SysResult {
    do_link(c, AT_FDCWD, a.ptr(0), AT_FDCWD, a.ptr(1), 0)
}

pub fn sys_linkat(c: &Caller, a: Args) -> SysResult {
    do_link(c, a.int(0), a.ptr(1), a.int(2), a.ptr(3), a.uint(4))
}

fn change_dir(c: &Caller, node: Node) -> SysResult {
    let st = fs::stat_node(c, &node)?;
    if st.mode & 0o170000 != 0o040000 {
        return Err(Errno::ENOTDIR);
    }
    c.fs.lock().cwd = node;
    Ok(0)
}

pub fn sys_chdir(c: &Caller, a: Args) -> SysResult {
    let node = lookup_at(c, AT_FDCWD, a.ptr(0), 0)?;
    change_dir(c, node)
}

pub fn sys_fchdir(c: &Caller, a: Args) -> SysResult {
    let node = c.files.lock().get(a.fd(0)?)?.node().ok_or(Errno::ENOTDIR)?;
    change_dir(c, node)
}

pub fn sys_getcwd(c: &Caller, a: Args) -> SysResult {
    let mut path = fs::path_of(&c.cwd());
    path.push(0);
    if path.len() > a.usize(1) {
        return Err(Errno::ERANGE);
    }
    c.write(a.ptr(0), &path)?;
    Ok(path.len() as u64)
}

// ---- descriptors ---------------------------------------------------------------------

/// Installs a copy of descriptor `old` at the lowest free descriptor >= `min`.
fn dup_from(c: &Caller, old: usize, min: usize, cloexec: bool) -> SysResult {
    let limit = c.nofile_limit();
    let mut files = c.files.lock();
    let file = files.get(old)?;
    Ok(files.insert_from(min, file, cloexec, limit)? as u64)
}

pub fn sys_dup(c: &Caller, a: Args) -> SysResult {
    dup_from(c, a.fd(0)?, 0, false)
}

fn do_dup3(c: &Caller, old: usize, new: usize, cloexec: bool) -> SysResult {
    let limit = c.nofile_limit();
    let mut files = c.files.lock();
    let file = files.get(old)?;
    files.insert_at(new, file, cloexec, limit)?;
    Ok(new as u64)
}

pub fn sys_dup2(c: &Caller, a: Args) -> SysResult {
    let (old, new) = (a.fd(0)?, a.fd(1)?);
    if old == new {
        c.files.lock().get(old)?;
        return Ok(new as u64);
    }
    do_dup3(c, old, new, false)
}

pub fn sys_dup3(c: &Caller, a: Args) -> SysResult {
    let (old, new, flags) = (a.fd(0)?, a.fd(1)?, a.uint(2));
    if old == new || flags & !O_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    do_dup3(c, old, new, flags & O_CLOEXEC != 0)
}

pub fn sys_fcntl(c: &Caller, a: Args) -> SysResult {
    const F_DUPFD: u32 = 0;
    const F_GETFD: u32 = 1;
    const F_SETFD: u32 = 2;
    const F_GETFL: u32 = 3;
    const F_SETFL: u32 = 4;
    const F_GETLK: u32 = 5;
    const F_SETLK: u32 = 6;
    const F_SETLKW: u32 = 7;
    const F_DUPFD_CLOEXEC: u32 = 1030;
    const F_SETPIPE_SZ: u32 = 1031;
    const F_GETPIPE_SZ: u32 = 1032;
    const FD_CLOEXEC: u64 = 1;
    let fd = a.fd(0)?;
    let file = c.files.lock().get(fd)?;
    match a.uint(1) {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let min = a.fd(2).map_err(|_| Errno::EINVAL)?;
            if min >= c.nofile_limit() {
                return Err(Errno::EINVAL);
            }
            dup_from(c, fd, min, a.uint(1) == F_DUPFD_CLOEXEC)
        }
        F_GETFD => Ok(c.files.lock().cloexec(fd)? as u64),
        F_SETFD => {
            c.files.lock().set_cloexec(fd, a.raw(2) & FD_CLOEXEC != 0)?;
            Ok(0)
        }
        F_GETFL => Ok(file.flags() as u64 & !(O_CLOEXEC as u64)),
        F_SETFL => {
            file.set_status_flags(a.uint(2));
            Ok(0)
        }
        F_GETPIPE_SZ => match &file.kind {
            FileKind::Pipe(end) => Ok(end.pipe.capacity() as u64),
            _ => Err(Errno::EBADF),
        },
        F_SETPIPE_SZ => match &file.kind {
            FileKind::Pipe(end) => Ok(end.pipe.set_capacity(a.usize(2))? as u64),
            _ => Err(Errno::EBADF),
        },
        // Record locks are not arbitrated between processes yet: every request is granted
        // and F_GETLK reports the region unlocked (l_type = F_UNLCK).
        F_SETLK | F_SETLKW => Ok(0),
        F_GETLK => {
            const F_UNLCK: i16 = 2;
            c.write(a.ptr(2), &F_UNLCK.to_le_bytes())?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

const FIONREAD: u32 = 0x541b;
const FIONBIO: u32 = 0x5421;
const FIONCLEX: u32 = 0x5450;
const FIOCLEX: u32 = 0x5451;

/// The ioctls of every file (close-on-exec, non-blocking, bytes ready); `None` for others.
fn ioctl_any_file(c: &Caller, fd: usize, file: &OpenFile, a: Args) -> Option<SysResult> {
    let arg = a.ptr(2);
    Some(match a.uint(1) {
        FIOCLEX | FIONCLEX => c
            .files
            .lock()
            .set_cloexec(fd, a.uint(1) == FIOCLEX)
            .map(|()| 0),
        FIONBIO => {
            let mut b = [0u8; 4];
            c.read(arg, &mut b).map(|()| {
                let flags = file.flags();
                let on = i32::from_le_bytes(b) != 0;
                file.set_status_flags(if on {
                    flags | fs::file::O_NONBLOCK
                } else {
                    flags & !fs::file::O_NONBLOCK
                });
                0
            })
        }
        FIONREAD => {
            let n = file.available() as i32;
            c.write(arg, &n.to_le_bytes()).map(|()| 0)
        }
        _ => return None,
    })
}

/// ioctl(2) of anything held in memory (in either ring): the ioctls of every file, and
/// ENOTTY for the terminal ones (which C libraries ask of stdout to choose its buffering:
/// a pipe in a pipeline, a file after a redirection). The console and terminals are
/// `sys_ioctl`'s, in ring 0.
pub fn sys_ioctl_in_memory(c: &Caller, a: Args) -> SysResult {
    let fd = a.fd(0)?;
    let file = c.files.lock().get(fd)?;
    split_ring0_half_if(!file.is_in_memory())?;
    ioctl_any_file(c, fd, &file, a).unwrap_or(Err(Errno::ENOTTY))
}

pub fn sys_ioctl(p: &mut Thread, a: Args) -> SysResult {
    const TCGETS: u32 = 0x5401;
    const TCSETS: u32 = 0x5402;
    const TCSETSW: u32 = 0x5403;
    const TCSETSF: u32 = 0x5404;
    const TCSBRK: u32 = 0x5409;
    const TCXONC: u32 = 0x540a;
    const TCFLSH: u32 = 0x540b;
    const TIOCSCTTY: u32 = 0x540e;
    const TIOCGPGRP: u32 = 0x540f;
    const TIOCSPGRP: u32 = 0x5410;
    const TIOCGWINSZ: u32 = 0x5413;
    const TIOCSWINSZ: u32 = 0x5414;
    const TIOCNOTTY: u32 = 0x5422;
    const TIOCGSID: u32 = 0x5429;
    let fd = a.fd(0)?;
    let file = p.files().get(fd)?;
    if let Some(result) = Caller::run_for(p, |c| ioctl_any_file(c, fd, &file, a)) {
        return result;
    }
    let arg = a.ptr(2);
    let tty = file.is_tty();
    match a.uint(1) {
        _ if !tty => Err(Errno::ENOTTY),
        TCGETS => {
            let t = crate::drivers::stdio::termios();
            p.mm().write(arg, &t)?;
            Ok(0)
        }
        TCSETS | TCSETSW | TCSETSF => {
            let mut t = [0u8; 36];
            p.mm().read(arg, &mut t)?;
            crate::drivers::stdio::set_termios(t);
            Ok(0)
        }
        TIOCGWINSZ => {
            let w = crate::drivers::stdio::winsize();
            p.mm().write(arg, &w)?;
            Ok(0)
        }
        TIOCSWINSZ => {
            let mut w = [0u8; 8];
            p.mm().read(arg, &mut w)?;
            crate::drivers::stdio::set_winsize(w);
            Ok(0)
        }
        TIOCGPGRP => {
            let fg = crate::drivers::tty::foreground() as i32;
            p.mm().write(arg, &fg.to_le_bytes())?;
            Ok(0)
        }
        TIOCGSID => {
            let sid = p.inner().sid as i32;
            p.mm().write(arg, &sid.to_le_bytes())?;
            Ok(0)
        }
        TIOCSPGRP => {
            let mut b = [0u8; 4];
            p.mm().read(arg, &mut b)?;
            let pgrp = i32::from_le_bytes(b);
            if pgrp <= 0 {
                return Err(Errno::EINVAL);
            }
            let my_sid = p.inner().sid;
            let exists = crate::proc::all_processes().iter().any(|q| {
                let qi = q.inner.lock();
                qi.pgid == pgrp as u32 && qi.sid == my_sid
            });
            if !exists {
                return Err(Errno::EPERM);
            }
            crate::drivers::tty::set_foreground(pgrp as u32);
            Ok(0)
        }
        TIOCSCTTY | TIOCNOTTY | TCSBRK | TCXONC | TCFLSH => Ok(0),
        _ => Err(Errno::ENOTTY),
    }
}

const POLLIN: i16 = 0x1;
const POLLPRI: i16 = 0x2;
const POLLOUT: i16 = 0x4;
const POLLHUP: i16 = 0x10;
const POLLERR: u32 = 0x8;
const POLLNVAL: i16 = 0x20;

/// Checks every pollfd once; returns how many have events.
/// One look at every descriptor of a pollfd array (revents filled in); how many are
/// ready. The console's readiness is ring 0's: `RING0_NEEDED` behind the gate.
fn poll_once(c: &Caller, fds: &mut [u8]) -> Result<u64, Errno> {
    let mut count = 0;
    for entry in fds.chunks_exact_mut(8) {
        let fd = i32::from_le_bytes(entry[0..4].try_into().expect("4"));
        let events = i16::from_le_bytes(entry[4..6].try_into().expect("2"));
        let mut revents: i16 = 0;
        if fd >= 0 {
            let file = c.files.lock().get(fd as usize);
            match file {
                Err(_) => revents = POLLNVAL,
                Ok(file) => {
                    if file.readiness_needs_ring0() {
                        c.thread()?;
                    }
                    // POLLHUP and POLLERR are reported whether asked or not.
                    let asked = events as u16 as u32 | POLLHUP as u32 | POLLERR;
                    revents = (file.poll_mask() & asked) as i16;
                }
            }
        }
        entry[6..8].copy_from_slice(&revents.to_le_bytes());
        if revents != 0 {
            count += 1;
        }
    }
    Ok(count)
}

/// Blocks until a descriptor of the pollfd array `fds` may have become ready, or the
/// deadline: a pipe wakes its pollers when it is read or written; the console (ring 0
/// only) wakes its waiter on input and is looked at again at each tick.
fn wait_for_readiness(c: &Caller, fds: &[u8], deadline: Option<u64>) -> Result<(), Errno> {
    let mut polled = false;
    // A timerfd wakes nobody when it expires: the sleep ends at its expiry.
    let mut expiry: Option<u64> = None;
    for entry in fds.chunks_exact(8) {
        let fd = i32::from_le_bytes(entry[0..4].try_into().expect("4"));
        let Ok(file) = c.files.lock().get(fd.max(0) as usize) else {
            continue;
        };
        if !file.wake_on_change(c.tid) && file.readiness_needs_ring0() {
            crate::drivers::uart::add_waiter(c.thread()?.tid);
            polled = true;
        }
        expiry = [expiry, file.deadline()].into_iter().flatten().min();
    }
    let tick = polled.then(|| crate::time::uptime_ns() + 10_000_000);
    let wake_at = [deadline, tick, expiry].into_iter().flatten().min();
    crate::sched::block(wake_at);
    Ok(())
}

fn do_poll(c: &Caller, fds_addr: u64, nfds: usize, timeout_ns: Option<u64>) -> SysResult {
    if nfds > c.nofile_limit() {
        return Err(Errno::EINVAL);
    }
    let mut fds = alloc::vec![0u8; nfds * 8];
    c.read(fds_addr, &mut fds)?;
    let deadline = timeout_ns.map(|t| crate::time::uptime_ns().saturating_add(t));
    loop {
        let n = poll_once(c, &mut fds)?;
        let expired = deadline.is_some_and(|d| crate::time::uptime_ns() >= d);
        if n > 0 || expired {
            c.write(fds_addr, &fds)?;
            return Ok(n);
        }
        if c.signal_pending() {
            return Err(Errno::EINTR);
        }
        wait_for_readiness(c, &fds, deadline)?;
    }
}

/// poll(2): behind the gate too, unless a descriptor is the console.
pub fn sys_poll(c: &Caller, a: Args) -> SysResult {
    let timeout = a.int(2);
    let ns = (timeout >= 0).then(|| timeout as u64 * 1_000_000);
    do_poll(c, a.ptr(0), a.usize(1), ns)
}

pub fn sys_ppoll(p: &mut Thread, a: Args) -> SysResult {
    let ns = if a.ptr(2) == 0 {
        None
    } else {
        Some(super::time::read_timespec(&Caller::of(p), a.ptr(2))?)
    };
    let old = p.blocked();
    if a.ptr(3) != 0 {
        let mut set = [0u8; 8];
        p.mm().read(a.ptr(3), &mut set)?;
        p.set_blocked(u64::from_le_bytes(set));
    }
    let r = do_poll(&Caller::of(p), a.ptr(0), a.usize(1), ns);
    if a.ptr(3) != 0 {
        if matches!(r, Err(Errno::EINTR)) {
            p.saved_mask = Some(old);
        } else {
            p.set_blocked(old);
        }
    }
    r
}

pub fn sys_fsync(c: &Caller, a: Args) -> SysResult {
    // Memory is the storage: data is durable as soon as it is written.
    c.files.lock().get(a.fd(0)?)?;
    Ok(0)
}

pub fn sys_sync(_c: &Caller, _a: Args) -> SysResult {
    Ok(0)
}

fn statfs_bytes() -> [u8; 120] {
    const TMPFS_MAGIC: u64 = 0x0102_1994;
    let st = crate::mm::stats();
    let mut b = [0u8; 120];
    let mut put = |at: usize, v: u64| b[at..at + 8].copy_from_slice(&v.to_le_bytes());
    put(0, TMPFS_MAGIC);
    put(8, 4096); // f_bsize
    put(16, st.total_frames as u64);
    put(24, st.free_frames as u64);
    put(32, st.free_frames as u64);
    let files = with_vfs(|v| v.inode_count()) as u64;
    put(40, files + st.free_frames as u64);
    put(48, st.free_frames as u64);
    put(64, 255); // f_namelen
    put(72, 4096); // f_frsize
    b
}

pub fn sys_statfs(c: &Caller, a: Args) -> SysResult {
    lookup_at(c, AT_FDCWD, a.ptr(0), 0)?;
    c.write(a.ptr(1), &statfs_bytes())?;
    Ok(0)
}

pub fn sys_fstatfs(c: &Caller, a: Args) -> SysResult {
    c.files.lock().get(a.fd(0)?)?;
    c.write(a.ptr(1), &statfs_bytes())?;
    Ok(0)
}

pub fn sys_fadvise64(c: &Caller, a: Args) -> SysResult {
    // Advice about caching: everything is in memory already, so there is nothing to do.
    c.files.lock().get(a.fd(0)?)?;
    if a.int(3) > 5 || a.int(3) < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

fn do_pipe(c: &Caller, fds_addr: u64, flags: u32) -> SysResult {
    const O_DIRECT: u32 = 0o40000;
    if flags & !(O_CLOEXEC | fs::file::O_NONBLOCK | O_DIRECT) != 0 {
        return Err(Errno::EINVAL);
    }
    let pipe = fs::pipe::Pipe::new();
    let status = flags & fs::file::O_NONBLOCK;
    let read = OpenFile::new(
        FileKind::Pipe(fs::pipe::PipeEnd::new(pipe.clone(), false)),
        status,
        Vec::new(),
    );
    let write = OpenFile::new(
        FileKind::Pipe(fs::pipe::PipeEnd::new(pipe, true)),
        status | fs::file::O_WRONLY,
        Vec::new(),
    );
    install_pair(c, [read, write], flags & O_CLOEXEC != 0, fds_addr)
}

/// Gives two new open files descriptors and writes them as `int[2]` at `fds_addr`
/// (pipe, socketpair); nothing stays open if that fails.
pub(super) fn install_pair(
    c: &Caller,
    files: [Arc<OpenFile>; 2],
    cloexec: bool,
    fds_addr: u64,
) -> SysResult {
    let limit = c.nofile_limit();
    let [first, second] = files;
    let fd0 = c.files.lock().insert_from(0, first, cloexec, limit)?;
    let fd1 = match c.files.lock().insert_from(0, second, cloexec, limit) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = c.files.lock().close(fd0);
            return Err(e);
        }
    };
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&(fd0 as i32).to_le_bytes());
    b[4..].copy_from_slice(&(fd1 as i32).to_le_bytes());
    if let Err(e) = c.write(fds_addr, &b) {
        let _ = c.files.lock().close(fd0);
        let _ = c.files.lock().close(fd1);
        return Err(e);
    }
    Ok(0)
}

pub fn sys_pipe(c: &Caller, a: Args) -> SysResult {
    do_pipe(c, a.ptr(0), 0)
}

pub fn sys_pipe2(c: &Caller, a: Args) -> SysResult {
    do_pipe(c, a.ptr(0), a.uint(1))
}

/// select/pselect6 on top of the poll machinery: fd_set bitmaps in, ready bitmaps out.
fn do_select(c: &Caller, nfds: usize, sets: [u64; 3], timeout_ns: Option<u64>) -> SysResult {
    if nfds > c.nofile_limit().max(1024) {
        return Err(Errno::EINVAL);
    }
    let bytes = nfds.div_ceil(64) * 8;
    let mut masks = [
        alloc::vec![0u8; bytes],
        alloc::vec![0u8; bytes],
        alloc::vec![0u8; bytes],
    ];
    for (mask, addr) in masks.iter_mut().zip(sets) {
        if addr != 0 {
            c.read(addr, mask)?;
        }
    }
    let is_set = |m: &[u8], fd: usize| m[fd / 8] & (1 << (fd % 8)) != 0;
    // Build a pollfd list for the descriptors named in any set.
    let mut fds = Vec::new();
    let mut order = Vec::new();
    for fd in 0..nfds {
        let mut events: i16 = 0;
        if is_set(&masks[0], fd) {
            events |= POLLIN;
        }
        if is_set(&masks[1], fd) {
            events |= POLLOUT;
        }
        if is_set(&masks[2], fd) {
            events |= POLLPRI;
        }
        if events != 0 {
            c.files.lock().get(fd)?; // EBADF for a closed descriptor, as select does
            fds.extend_from_slice(&(fd as i32).to_le_bytes());
            fds.extend_from_slice(&events.to_le_bytes());
            fds.extend_from_slice(&0i16.to_le_bytes());
            order.push(fd);
        }
    }
    let deadline = timeout_ns.map(|t| crate::time::uptime_ns().saturating_add(t));
    loop {
        poll_once(c, &mut fds)?;
        let mut out = [
            alloc::vec![0u8; bytes],
            alloc::vec![0u8; bytes],
            alloc::vec![0u8; bytes],
        ];
        let mut count = 0;
        for (i, fd) in order.iter().enumerate() {
            let revents = i16::from_le_bytes(fds[i * 8 + 6..i * 8 + 8].try_into().expect("2"));
            let wanted = i16::from_le_bytes(fds[i * 8 + 4..i * 8 + 6].try_into().expect("2"));
            let hits = [
                revents & (POLLIN | POLLHUP) != 0 && wanted & POLLIN != 0,
                revents & POLLOUT != 0 && wanted & POLLOUT != 0,
                revents & POLLPRI != 0 && wanted & POLLPRI != 0,
            ];
            for (set, hit) in out.iter_mut().zip(hits) {
                if hit {
                    set[fd / 8] |= 1 << (fd % 8);
                    count += 1;
                }
            }
        }
        let expired = deadline.is_some_and(|d| crate::time::uptime_ns() >= d);
        if count > 0 || expired {
            for (mask, addr) in out.iter().zip(sets) {
                if addr != 0 {
                    c.write(addr, mask)?;
                }
            }
            return Ok(count);
        }
        if c.signal_pending() {
            return Err(Errno::EINTR);
        }
        wait_for_readiness(c, &fds, deadline)?;
    }
}

pub fn sys_select(c: &Caller, a: Args) -> SysResult {
    let timeout = if a.ptr(4) == 0 {
        None
    } else {
        let mut b = [0u8; 16];
        c.read(a.ptr(4), &mut b)?;
        let sec = i64::from_le_bytes(b[..8].try_into().expect("8"));
        let usec = i64::from_le_bytes(b[8..].try_into().expect("8"));
        if sec < 0 || !(0..1_000_000).contains(&usec) {
            return Err(Errno::EINVAL);
        }
        Some(sec as u64 * 1_000_000_000 + usec as u64 * 1000)
    };
    do_select(c, a.usize(0), [a.ptr(1), a.ptr(2), a.ptr(3)], timeout)
}

pub fn sys_pselect6(p: &mut Thread, a: Args) -> SysResult {
    let timeout = if a.ptr(4) == 0 {
        None
    } else {
        Some(super::time::read_timespec(&Caller::of(p), a.ptr(4))?)
    };
    // The sigmask argument (a.ptr(5)) is applied for the duration of the wait.
    let old = p.blocked();
    if a.ptr(5) != 0 {
        let mut desc = [0u8; 16];
        p.mm().read(a.ptr(5), &mut desc)?;
        let set_addr = u64::from_le_bytes(desc[..8].try_into().expect("8"));
        if set_addr != 0 {
            let mut set = [0u8; 8];
            p.mm().read(set_addr, &mut set)?;
            p.set_blocked(u64::from_le_bytes(set));
        }
    }
    let r = do_select(
        &Caller::of(p),
        a.usize(0),
        [a.ptr(1), a.ptr(2), a.ptr(3)],
        timeout,
    );
    if a.ptr(5) != 0 {
        if matches!(r, Err(Errno::EINTR)) {
            p.saved_mask = Some(old);
        } else {
            p.set_blocked(old);
        }
    }
    r
}
