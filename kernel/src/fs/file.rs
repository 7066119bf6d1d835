//! Open files and descriptor tables. An `OpenFile` is what `open` creates (Linux's
//! `struct file`): its offset and status flags are shared by every descriptor that `dup`
//! (and later `fork`) makes.

use alloc::sync::Arc;
use alloc::vec::Vec;

use isounik_linux::errno::Errno;
use isounik_vfs::{InodeId, WriteSource};

use super::dev::Device;
use super::epoll::{Epoll, EventFd, TimerFd};
use super::pipe::{Flow, PipeEnd};
use super::socket::{Socket, SocketFile};
use super::waiters::Watchable;
use super::{procfs::ProcNode, with_vfs, FileRef, Node, StatInfo};
use crate::proc::Thread;
use crate::syscall::Caller;

/// O_ACCMODE and the status flags `fcntl(F_SETFL)` may change.
pub const O_ACCMODE: u32 = 3;
pub const O_WRONLY: u32 = 1;
pub const O_RDWR: u32 = 2;
pub const O_APPEND: u32 = 0o2000;
pub const O_NONBLOCK: u32 = 0o4000;
pub const O_PATH: u32 = 0o10000000;
const SETFL_MASK: u32 = O_APPEND | O_NONBLOCK | 0o40000 /* O_DIRECT */ | 0o1000000 /* O_NOATIME */ | 0o20000 /* O_ASYNC */;

pub enum FileKind {
    /// A regular file of the root file system.
    Regular(FileRef),
    /// A directory of the root file system; the offset is the readdir cookie.
    Directory(InodeId),
    /// A device node.
    Device(Device, InodeId),
    /// One of the host's standard streams given to the first program.
    HostStream(Device),
    /// A /proc directory, listed at each getdents (so it shows the descriptor reading it).
    ProcDir(ProcNode),
    /// A /proc file, generated when opened.
    ProcFile(ProcNode, Vec<u8>),
    /// O_PATH descriptors and other nodes that only name something (symlinks, fifos...).
    PathOnly(Node),
    /// One end of a pipe.
    Pipe(PipeEnd),
    /// A socket (`fs::socket`).
    Socket(SocketFile),
    /// An epoll instance (`fs::epoll`).
    Epoll(Arc<Epoll>),
    /// An eventfd counter.
    EventFd(Arc<EventFd>),
    /// A timerfd.
    TimerFd(Arc<TimerFd>),
}

pub struct OpenFile {
    pub kind: FileKind,
    state: spin::Mutex<FileState>,
    path: Vec<u8>,
}

struct FileState {
    offset: u64,
    flags: u32,
}

impl OpenFile {
    pub fn new(kind: FileKind, flags: u32, path: Vec<u8>) -> Arc<OpenFile> {
        Arc::new(OpenFile {
            kind,
            state: spin::Mutex::new(FileState { offset: 0, flags }),
            path,
        })
    }

    pub fn flags(&self) -> u32 {
        self.state.lock().flags
    }

    pub fn set_status_flags(&self, flags: u32) {
        let mut s = self.state.lock();
        s.flags = (s.flags & !SETFL_MASK) | (flags & SETFL_MASK);
    }

    fn readable(&self) -> bool {
        let f = self.flags();
        f & O_PATH == 0 && f & O_ACCMODE != O_WRONLY
    }

    fn writable(&self) -> bool {
        let f = self.flags();
        f & O_PATH == 0 && matches!(f & O_ACCMODE, O_WRONLY | O_RDWR)
    }

    pub fn offset(&self) -> u64 {
        self.state.lock().offset
    }

    pub fn set_offset(&self, offset: u64) {
        self.state.lock().offset = offset;
    }

    /// What /proc/self/fd/N points to.
    pub fn describe(&self) -> Vec<u8> {
        match &self.kind {
            FileKind::HostStream(Device::HostStdin) => b"pipe:[1]".to_vec(),
            FileKind::HostStream(Device::HostStdout) => b"pipe:[2]".to_vec(),
            FileKind::HostStream(Device::HostStderr) => b"pipe:[3]".to_vec(),
            FileKind::HostStream(_) => b"/dev/console".to_vec(),
            FileKind::Pipe(end) => alloc::format!("pipe:[{}]", end.pipe.ino).into_bytes(),
            FileKind::Socket(s) => alloc::format!("socket:[{}]", s.ino).into_bytes(),
            FileKind::Epoll(_) => b"anon_inode:[eventpoll]".to_vec(),
            FileKind::EventFd(_) => b"anon_inode:[eventfd]".to_vec(),
            FileKind::TimerFd(_) => b"anon_inode:[timerfd]".to_vec(),
            _ => self.path.clone(),
        }
    }

    pub fn node(&self) -> Option<Node> {
        match &self.kind {
            FileKind::Regular(f) => Some(Node::Inode(f.inode())),
            FileKind::Directory(id) | FileKind::Device(_, id) => Some(Node::Inode(*id)),
            FileKind::ProcDir(n) | FileKind::ProcFile(n, _) => Some(Node::Proc(n.clone())),
            FileKind::PathOnly(n) => Some(n.clone()),
            FileKind::HostStream(_)
            | FileKind::Pipe(_)
            | FileKind::Socket(_)
            | FileKind::Epoll(_)
            | FileKind::EventFd(_)
            | FileKind::TimerFd(_) => None,
        }
    }

    fn device(&self) -> Option<Device> {
        match &self.kind {
            FileKind::Device(d, _) | FileKind::HostStream(d) => Some(*d),
            _ => None,
        }
    }

    pub fn is_tty(&self) -> bool {
        self.device().is_some_and(|d| d.is_tty())
    }

    /// A pipe's or a socket's read straight into user memory at `addr` (no kernel
    /// buffer); `None` for any other file. With `no_wait`, EAGAIN instead of waiting
    /// (readv after some bytes).
    pub fn stream_read_to_user(
        &self,
        c: &Caller,
        addr: u64,
        len: usize,
        no_wait: bool,
    ) -> Option<Result<usize, Errno>> {
        if let FileKind::Socket(socket) = &self.kind {
            let flow = socket.recv_flow(self.is_nonblocking() || no_wait, 0);
            return Some(socket.recv_to_user(c, addr, len, flow, false, &mut Vec::new()));
        }
        if let FileKind::EventFd(counter) = &self.kind {
            return Some(self.counter_read(c, addr, len, |flow| counter.read(c, flow)));
        }
        if let FileKind::TimerFd(timer) = &self.kind {
            return Some(self.counter_read(c, addr, len, |flow| timer.read(c, flow)));
        }
        if let FileKind::Epoll(_) = &self.kind {
            return Some(Err(Errno::EINVAL));
        }
        let checked = self.pipe_for_transfer(false)?;
        Some(checked.and_then(|(pipe, nonblock)| {
            pipe.read_to_user(c, addr, len, Flow::waiting(nonblock || no_wait))
        }))
    }

    /// A pipe's or a socket's write straight from user memory at `addr`; `None` for any
    /// other file.
    pub fn stream_write_from_user(
        &self,
        c: &Caller,
        addr: u64,
        len: usize,
    ) -> Option<Result<usize, Errno>> {
        if let FileKind::Socket(socket) = &self.kind {
            let flow = socket.send_flow(self.is_nonblocking(), 0);
            return Some(socket.send_from_user(c, addr, len, flow, &mut None));
        }
        if let FileKind::EventFd(counter) = &self.kind {
            return Some(self.eventfd_write(c, counter, addr, len));
        }
        if let FileKind::Epoll(_) | FileKind::TimerFd(_) = &self.kind {
            return Some(Err(Errno::EINVAL));
        }
        let checked = self.pipe_for_transfer(true)?;
        Some(checked.and_then(|(pipe, nonblock)| {
            pipe.write_from_user(c, addr, len, Flow::waiting(nonblock))
        }))
    }

    /// read(2) of an eventfd or a timerfd: the 8-byte count `take` gives (waiting as the
    /// descriptor says), into user memory.
    fn counter_read(
        &self,
        c: &Caller,
        addr: u64,
        len: usize,
        take: impl FnOnce(Flow) -> Result<u64, Errno>,
    ) -> Result<usize, Errno> {
        if len < 8 {
            return Err(Errno::EINVAL);
        }
        c.check_range(addr, 8)?;
        let value = take(Flow::waiting(self.is_nonblocking()))?;
        c.write(addr, &value.to_le_bytes())?;
        Ok(8)
    }

    /// write(2) of an eventfd: 8 bytes from user memory added to the count.
    fn eventfd_write(
        &self,
        c: &Caller,
        counter: &EventFd,
        addr: u64,
        len: usize,
    ) -> Result<usize, Errno> {
        if len < 8 {
            return Err(Errno::EINVAL);
        }
        let mut b = [0u8; 8];
        c.read(addr, &mut b)?;
        counter.write(
            c,
            u64::from_le_bytes(b),
            Flow::waiting(self.is_nonblocking()),
        )?;
        Ok(8)
    }

    pub fn is_nonblocking(&self) -> bool {
        self.flags() & O_NONBLOCK != 0
    }

    /// The socket behind the descriptor: ENOTSOCK for any other file.
    pub fn socket(&self) -> Result<&Arc<Socket>, Errno> {
        match &self.kind {
            FileKind::Socket(s) => Ok(s),
            _ => Err(Errno::ENOTSOCK),
        }
    }

    /// A read of a memory device (`Device::is_memory`) straight into user memory at
    /// `addr`; `None` for any other file.
    pub fn memory_device_read_to_user(
        &self,
        c: &Caller,
        addr: u64,
        len: usize,
    ) -> Option<Result<usize, Errno>> {
        let device = self.device().filter(|d| d.is_memory())?;
        if !self.readable() {
            return Some(Err(Errno::EBADF));
        }
        let mut chunk = [0u8; 256];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(chunk.len());
            let got = match device.read(&mut chunk[..n], true) {
                Ok(0) => break,
                Ok(got) => got,
                Err(e) => return Some(Err(e)),
            };
            if let Err(e) = c.write(addr + done as u64, &chunk[..got]) {
                return Some(if done == 0 { Err(e) } else { Ok(done) });
            }
            done += got;
        }
        Some(Ok(done))
    }

    /// A write to a memory device: the bytes are not even read (as Linux); `None` for any
    /// other file.
    pub fn memory_device_write(&self, len: usize) -> Option<Result<usize, Errno>> {
        let device = self.device().filter(|d| d.is_memory())?;
        Some(if !self.writable() {
            Err(Errno::EBADF)
        } else {
            device.write(&[]).map(|_| len)
        })
    }

    /// The pipe and O_NONBLOCK for a read or write of this file, after the check `read`
    /// and `write` make (open for it); `None` if it is not a pipe.
    fn pipe_for_transfer(&self, write: bool) -> Option<Result<(&super::pipe::Pipe, bool), Errno>> {
        let FileKind::Pipe(end) = &self.kind else {
            return None;
        };
        let open_for_it = if write {
            self.writable()
        } else {
            self.readable()
        };
        Some(if !open_for_it {
            Err(Errno::EBADF)
        } else {
            Ok((&end.pipe, self.flags() & O_NONBLOCK != 0))
        })
    }

    /// Whether reads and writes of the file need no device: a pipe, a socket, a memory
    /// device, a regular or /proc file (the MPK gate serves those in ring 3).
    pub fn is_in_memory(&self) -> bool {
        // (The objects that wake waiters are all libOS memory.)
        self.watchable().is_some() || self.is_data() || self.device().is_some_and(|d| d.is_memory())
    }

    /// The bytes behind a regular or /proc file; `None` for any other file.
    fn data_source(&self) -> Option<DataSource<'_>> {
        match &self.kind {
            FileKind::Regular(f) => Some(DataSource::File(f)),
            FileKind::ProcFile(_, data) => Some(DataSource::Generated(data)),
            _ => None,
        }
    }

    /// Whether the file is data in memory (a regular file or a generated /proc file), which
    /// `read_data` and `write_data` serve in either ring.
    pub fn is_data(&self) -> bool {
        self.data_source().is_some()
    }

    /// Reads a regular or /proc file's data at the file offset (or at `at` for pread),
    /// advancing the offset in the first case; `None` for any other file.
    pub fn read_data(&self, buf: &mut [u8], at: Option<u64>) -> Option<Result<usize, Errno>> {
        let source = self.data_source()?;
        if !self.readable() {
            return Some(Err(Errno::EBADF));
        }
        let mut st = self.state.lock();
        let off = at.unwrap_or(st.offset);
        let n = match source {
            DataSource::File(f) => match f.read_at(off, buf) {
                Ok(n) => n,
                Err(e) => return Some(Err(e)),
            },
            DataSource::Generated(data) => {
                let start = usize::try_from(off).unwrap_or(usize::MAX).min(data.len());
                let n = (data.len() - start).min(buf.len());
                buf[..n].copy_from_slice(&data[start..start + n]);
                n
            }
        };
        if at.is_none() {
            st.offset = off + n as u64;
        }
        Some(Ok(n))
    }

    /// Reads a regular or /proc file's data into a program's memory at `addr`, as
    /// `read_data`. A regular file's pages are copied from directly, outside the file
    /// system's lock (clones of them: a concurrent write copies a page it finds shared),
    /// as paging in the destination may need that lock. EFAULT if nothing could be copied.
    pub fn read_data_to_user(
        &self,
        c: &Caller,
        addr: u64,
        len: usize,
        at: Option<u64>,
    ) -> Option<Result<usize, Errno>> {
        let source = self.data_source()?;
        if !self.readable() {
            return Some(Err(Errno::EBADF));
        }
        if let Err(e) = c.check_range(addr, len) {
            return Some(Err(e));
        }
        let mut st = self.state.lock();
        let off = at.unwrap_or(st.offset);
        let result = match source {
            DataSource::File(f) => read_pages_to_user(c, f.inode(), off, addr, len),
            DataSource::Generated(data) => {
                let start = usize::try_from(off).unwrap_or(usize::MAX).min(data.len());
                let n = (data.len() - start).min(len);
                c.write(addr, &data[start..start + n]).map(|()| n)
            }
        };
        if let (Ok(n), None) = (&result, at) {
            st.offset = off + *n as u64;
        }
        Some(result)
    }

    /// Writes a regular file's data at the file offset (or at `at` for pwrite; O_APPEND: at
    /// the end); `None` for any other file. When memory runs short, ring 0 may have the OOM
    /// killer make room (`RING0_NEEDED` behind the gate, before anything is written).
    pub fn write_data(
        &self,
        c: &Caller,
        data: &[u8],
        at: Option<u64>,
    ) -> Option<Result<usize, Errno>> {
        match &self.kind {
            FileKind::Regular(f) => Some(self.write_regular(c, f, data.len(), &mut { data }, at)),
            FileKind::ProcFile(..) => Some(Err(if self.writable() {
                Errno::EACCES
            } else {
                Errno::EBADF
            })),
            _ => None,
        }
    }

    /// A write of `len` bytes of a program's memory at `addr` to a regular file, copied
    /// straight into its pages as far as that memory is present (`Caller::read_present`);
    /// `Ok(0)` when none of it is (the caller copies through a buffer, which pages it in);
    /// `None` for files that are not data.
    pub fn write_user_data(
        &self,
        c: &Caller,
        addr: u64,
        len: usize,
        at: Option<u64>,
    ) -> Option<Result<usize, Errno>> {
        match &self.kind {
            FileKind::Regular(f) => Some(if !self.writable() {
                Err(Errno::EBADF)
            } else {
                c.check_range(addr, len).and_then(|()| {
                    self.write_regular(c, f, len, &mut UserBytes { caller: c, addr }, at)
                })
            }),
            FileKind::ProcFile(..) => self.write_data(c, &[], at),
            _ => None,
        }
    }

    fn write_regular(
        &self,
        c: &Caller,
        f: &FileRef,
        len: usize,
        source: &mut impl WriteSource,
        at: Option<u64>,
    ) -> Result<usize, Errno> {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        let mut st = self.state.lock();
        let id = f.inode();
        // O_APPEND: every write goes to the end, even pwrite (as Linux does).
        let off = if st.flags & O_APPEND != 0 {
            with_vfs(|v| v.stat(id))
                .map(|s| s.size)
                .map_err(super::errno)?
        } else {
            at.unwrap_or(st.offset)
        };
        let n = match with_vfs(|v| v.write_from(id, off, len, source)).map_err(super::errno) {
            // Nothing written, memory is short: a process holding much of it may be the cause.
            Err(Errno::ENOSPC) => {
                let t = c.thread()?;
                drop(st);
                if !crate::proc::oom::reclaim_for_file_data(t) {
                    return Err(Errno::ENOSPC);
                }
                return self.write_regular(c, f, len, source, at);
            }
            other => other?,
        };
        if at.is_none() {
            st.offset = off + n as u64;
        }
        Ok(n)
    }

    /// Reads at the file offset (or at `at` for pread), advancing the offset in the first
    /// case. Pipes and the console block the calling thread `t` until data arrives.
    pub fn read(&self, t: &mut Thread, buf: &mut [u8], at: Option<u64>) -> Result<usize, Errno> {
        if let Some(result) = self.read_data(buf, at) {
            return result;
        }
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        let nonblock = self.flags() & O_NONBLOCK != 0;
        match &self.kind {
            FileKind::Device(d, _) | FileKind::HostStream(d) => {
                if !matches!(d, Device::HostStdin | Device::Tty) {
                    return d.read(buf, nonblock);
                }
                if at.is_some() {
                    return Err(Errno::ESPIPE);
                }
                if *d == Device::Tty {
                    return crate::drivers::tty::read(t, buf, nonblock);
                }
                // The console: wait for input as a blocked task, not a spinning CPU.
                loop {
                    match d.read(buf, true) {
                        Err(Errno::EAGAIN) if !nonblock => {}
                        other => return other,
                    }
                    crate::drivers::uart::add_waiter(t.tid);
                    if crate::drivers::uart::input_ready() {
                        continue;
                    }
                    if t.signal_pending() {
                        return Err(t.interrupted());
                    }
                    crate::sched::block(None);
                }
            }
            FileKind::Pipe(end) => {
                if at.is_some() {
                    return Err(Errno::ESPIPE);
                }
                Caller::run_for(t, |c| end.pipe.read(c, buf, nonblock))
            }
            FileKind::Socket(socket) => {
                if at.is_some() {
                    return Err(Errno::ESPIPE);
                }
                Caller::run_for(t, |c| socket.recv(c, buf, nonblock))
            }
            // (Reads of these into user memory are `stream_read_to_user`'s.)
            FileKind::Epoll(_) | FileKind::EventFd(_) | FileKind::TimerFd(_) => Err(Errno::EINVAL),
            FileKind::Directory(_) | FileKind::ProcDir(_) => Err(Errno::EISDIR),
            // (Regular and /proc files were `read_data`'s above.)
            FileKind::PathOnly(_) | FileKind::Regular(_) | FileKind::ProcFile(..) => {
                Err(Errno::EBADF)
            }
        }
    }

    /// Writes libOS bytes to anything held in memory (a pipe, a regular file at the file
    /// offset, a memory device), in either ring; `None` for any other file.
    pub fn write_in_memory(&self, c: &Caller, data: &[u8]) -> Option<Result<usize, Errno>> {
        if let Some(checked) = self.pipe_for_transfer(true) {
            return Some(checked.and_then(|(pipe, nonblock)| pipe.write(c, data, nonblock)));
        }
        if let FileKind::Socket(socket) = &self.kind {
            return Some(socket.send(c, data, self.is_nonblocking()));
        }
        self.write_data(c, data, None)
            .or_else(|| self.memory_device_write(data.len()))
    }

    /// Writes at the file offset (or at `at` for pwrite).
    pub fn write(&self, t: &mut Thread, data: &[u8], at: Option<u64>) -> Result<usize, Errno> {
        // Pipes, sockets and the event objects have no file offset.
        if at.is_some() && self.watchable().is_some() {
            return Err(Errno::ESPIPE);
        }
        let in_memory = match at {
            None => Caller::run_for(t, |c| self.write_in_memory(c, data)),
            Some(_) => Caller::run_for(t, |c| self.write_data(c, data, at)),
        };
        if let Some(result) = in_memory {
            return result;
        }
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        match &self.kind {
            FileKind::Device(d, _) | FileKind::HostStream(d) => {
                if at.is_some()
                    && matches!(d, Device::HostStdout | Device::HostStderr | Device::Tty)
                {
                    return Err(Errno::ESPIPE);
                }
                d.write(data)
            }
            FileKind::Directory(_) | FileKind::ProcDir(_) => Err(Errno::EISDIR),
            // (Files and pipes were `write_in_memory`'s or `write_data`'s above.)
            FileKind::PathOnly(_)
            | FileKind::Regular(_)
            | FileKind::ProcFile(..)
            | FileKind::Pipe(_)
            | FileKind::Socket(_) => Err(Errno::EBADF),
            FileKind::Epoll(_) | FileKind::EventFd(_) | FileKind::TimerFd(_) => Err(Errno::EINVAL),
        }
    }

    pub fn seek(&self, offset: i64, whence: u32) -> Result<u64, Errno> {
        const SEEK_SET: u32 = 0;
        const SEEK_CUR: u32 = 1;
        const SEEK_END: u32 = 2;
        const SEEK_DATA: u32 = 3;
        const SEEK_HOLE: u32 = 4;
        let size = match &self.kind {
            FileKind::Regular(f) => f.size(),
            FileKind::ProcFile(_, data) => data.len() as u64,
            FileKind::Directory(_) | FileKind::ProcDir(_) => {
                // Directories: only rewinding or restoring a telldir cookie.
                if whence == SEEK_SET && offset >= 0 {
                    self.set_offset(offset as u64);
                    return Ok(offset as u64);
                }
                if whence == SEEK_CUR && offset == 0 {
                    return Ok(self.offset());
                }
                return Err(Errno::EINVAL);
            }
            FileKind::Device(d, _) | FileKind::HostStream(d) => {
                return match d {
                    Device::HostStdin | Device::HostStdout | Device::HostStderr | Device::Tty => {
                        Err(Errno::ESPIPE)
                    }
                    _ => Ok(0),
                };
            }
            FileKind::PathOnly(_) => return Err(Errno::EBADF),
            FileKind::Pipe(_)
            | FileKind::Socket(_)
            | FileKind::Epoll(_)
            | FileKind::EventFd(_)
            | FileKind::TimerFd(_) => return Err(Errno::ESPIPE),
        };
        let mut st = self.state.lock();
        let base: i128 = match whence {
            SEEK_SET => 0,
            SEEK_CUR => st.offset as i128,
            SEEK_END => size as i128,
            SEEK_DATA => {
                if offset < 0 || offset as u64 >= size {
                    return Err(Errno::ENXIO);
                }
                0
            }
            SEEK_HOLE => {
                if offset < 0 || offset as u64 > size {
                    return Err(Errno::ENXIO);
                }
                st.offset = size;
                return Ok(size);
            }
            _ => return Err(Errno::EINVAL),
        };
        let new = base + offset as i128;
        if new < 0 || new > i64::MAX as i128 {
            return Err(Errno::EINVAL);
        }
        st.offset = new as u64;
        Ok(new as u64)
    }

    pub fn stat(&self, c: &Caller) -> Result<StatInfo, Errno> {
        match &self.kind {
            FileKind::HostStream(d) => Ok(StatInfo::host_stream(*d)),
            FileKind::Pipe(end) => Ok(StatInfo::pipe(end.pipe.ino)),
            FileKind::Socket(s) => Ok(StatInfo::socket(s.ino)),
            FileKind::Epoll(e) => Ok(StatInfo::anon(e.ino)),
            FileKind::EventFd(e) => Ok(StatInfo::anon(e.ino)),
            FileKind::TimerFd(t) => Ok(StatInfo::anon(t.ino)),
            _ => super::stat_node(c, &self.node().ok_or(Errno::EBADF)?),
        }
    }

    /// The file for `mmap`: regular files only; a descriptor opened without read access
    /// (or, for a shared writable mapping, without write access) gives EACCES.
    pub fn mappable_file(&self, shared_write: bool) -> Result<FileRef, Errno> {
        match &self.kind {
            FileKind::Regular(f) => {
                if !self.readable() || (shared_write && !self.writable()) {
                    return Err(Errno::EACCES);
                }
                Ok(f.clone())
            }
            FileKind::Directory(_) | FileKind::ProcDir(_) => Err(Errno::ENODEV),
            FileKind::PathOnly(_) => Err(Errno::EBADF),
            _ => Err(Errno::ENODEV),
        }
    }

    /// (readable now, writable now) for poll.
    pub fn ready(&self) -> (bool, bool) {
        if let FileKind::Pipe(end) = &self.kind {
            let (r, w, _) = end.pipe.ready();
            return (r && !end.write, w && end.write);
        }
        match &self.kind {
            FileKind::Socket(s) => return s.ready(),
            FileKind::Epoll(e) => return (e.any_ready(), false),
            FileKind::EventFd(e) => return e.ready(),
            FileKind::TimerFd(t) => return (t.readable(), false),
            _ => {}
        }
        match self.device() {
            Some(d) => d.ready(),
            None => (true, true),
        }
    }

    /// Whether `ready` needs ring 0: the console and the host's streams (their input
    /// buffer is shared with an interrupt handler).
    pub fn readiness_needs_ring0(&self) -> bool {
        self.device().is_some_and(|d| !d.is_memory())
    }

    /// The object behind the file whose changes wake waiters (pipes, sockets, eventfds,
    /// timerfds, epoll instances); `None` for files whose readiness never changes.
    fn watchable(&self) -> Option<&dyn Watchable> {
        match &self.kind {
            FileKind::Pipe(end) => Some(&*end.pipe),
            FileKind::Socket(s) => Some(&***s),
            FileKind::EventFd(e) => Some(&**e),
            FileKind::TimerFd(t) => Some(&**t),
            FileKind::Epoll(e) => Some(&**e),
            _ => None,
        }
    }

    /// Arranges for `tid` to be woken when this file's readiness may change (true); false
    /// for files that never wake anyone.
    pub fn wake_on_change(&self, tid: crate::sched::Tid) -> bool {
        self.watchable().map(|w| w.add_waiter(tid)).is_some()
    }

    /// The poll(2) events of the file now (POLLIN/RDNORM, POLLOUT/WRNORM, POLLHUP,
    /// POLLRDHUP), whatever was asked; the caller keeps the asked ones and POLLHUP.
    pub fn poll_mask(&self) -> u32 {
        use isounik_linux::poll::{
            EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLRDNORM, EPOLLWRNORM,
        };
        let (r, w) = self.ready();
        let mut mask = 0;
        if r {
            mask |= EPOLLIN | EPOLLRDNORM;
        }
        if w {
            mask |= EPOLLOUT | EPOLLWRNORM;
        }
        // The host's stdin at its end.
        if r && matches!(self.kind, FileKind::HostStream(Device::HostStdin))
            && self.available() == 0
        {
            mask |= EPOLLHUP;
        }
        if self.hung_up() {
            mask |= EPOLLHUP;
        }
        // A pipe's write end without readers (a write would be EPIPE).
        if let FileKind::Pipe(end) = &self.kind {
            if end.write && end.pipe.no_readers() {
                mask |= isounik_linux::poll::EPOLLERR;
            }
        }
        if let FileKind::Socket(s) = &self.kind {
            if s.peer_done_writing() {
                mask |= EPOLLRDHUP;
            }
        }
        mask
    }

    /// A count that grows whenever the file's readiness may change (edge-triggered epoll);
    /// constant for files that are always ready.
    pub fn changes(&self) -> u64 {
        self.watchable().map_or(0, |w| w.changes())
    }

    /// When a waiter on the file must look at it again though nothing wakes it (a
    /// timerfd's next expiry): poll and epoll bound their sleep by it.
    pub fn deadline(&self) -> Option<u64> {
        match &self.kind {
            FileKind::TimerFd(t) => t.deadline(),
            FileKind::Epoll(e) => e.deadline(),
            _ => None,
        }
    }

    /// Whether poll and epoll can watch the file (Linux: EPERM from epoll_ctl for regular
    /// files and directories, whose readiness never changes).
    pub fn can_poll(&self) -> bool {
        !matches!(
            self.kind,
            FileKind::Regular(_)
                | FileKind::Directory(_)
                | FileKind::ProcDir(_)
                | FileKind::ProcFile(..)
                | FileKind::PathOnly(_)
        )
    }

    /// Whether the other side of a pipe is gone (POLLHUP / POLLERR).
    pub fn hung_up(&self) -> bool {
        match &self.kind {
            FileKind::Pipe(end) if !end.write => end.pipe.ready().2,
            FileKind::Socket(s) => s.hung_up(),
            _ => false,
        }
    }

    pub fn available(&self) -> usize {
        match (&self.kind, self.device()) {
            (FileKind::Pipe(end), _) => end.pipe.available(),
            (FileKind::Socket(s), _) => s.available(),
            (_, Some(d)) => d.available(),
            (FileKind::Regular(f), _) => f.size().saturating_sub(self.offset()) as usize,
            (FileKind::ProcFile(_, data), _) => data.len().saturating_sub(self.offset() as usize),
            _ => 0,
        }
    }
}

#[derive(Clone)]
struct Slot {
    file: Arc<OpenFile>,
    cloexec: bool,
}

/// A process's descriptors.
#[derive(Clone, Default)]
pub struct FdTable {
    slots: Vec<Option<Slot>>,
}

impl FdTable {
    pub fn new() -> Self {
        FdTable { slots: Vec::new() }
    }

    pub fn get(&self, fd: usize) -> Result<Arc<OpenFile>, Errno> {
        self.slots
            .get(fd)
            .and_then(|s| s.as_ref())
            .map(|s| s.file.clone())
            .ok_or(Errno::EBADF)
    }

    /// Installs `file` at the lowest free descriptor >= `min`, below `limit` (EMFILE).
    pub fn insert_from(
        &mut self,
        min: usize,
        file: Arc<OpenFile>,
        cloexec: bool,
        limit: usize,
    ) -> Result<usize, Errno> {
        let fd = self.lowest_free(min);
        if fd >= limit {
            return Err(Errno::EMFILE);
        }
        if fd >= self.slots.len() {
            self.slots.resize(fd + 1, None);
        }
        self.slots[fd] = Some(Slot { file, cloexec });
        Ok(fd)
    }

    /// Puts `file` at exactly `fd`, closing what was there.
    pub fn insert_at(
        &mut self,
        fd: usize,
        file: Arc<OpenFile>,
        cloexec: bool,
        limit: usize,
    ) -> Result<(), Errno> {
        if fd >= limit {
            return Err(Errno::EBADF);
        }
        if fd >= self.slots.len() {
            self.slots.resize(fd + 1, None);
        }
        self.slots[fd] = Some(Slot { file, cloexec });
        Ok(())
    }

    /// The lowest free descriptor >= `min`.
    fn lowest_free(&self, min: usize) -> usize {
        let mut fd = min;
        while fd < self.slots.len() && self.slots[fd].is_some() {
            fd += 1;
        }
        fd
    }

    pub fn close(&mut self, fd: usize) -> Result<(), Errno> {
        match self.slots.get_mut(fd) {
            Some(slot @ Some(_)) => {
                *slot = None;
                Ok(())
            }
            _ => Err(Errno::EBADF),
        }
    }

    pub fn cloexec(&self, fd: usize) -> Result<bool, Errno> {
        self.slots
            .get(fd)
            .and_then(|s| s.as_ref())
            .map(|s| s.cloexec)
            .ok_or(Errno::EBADF)
    }

    pub fn set_cloexec(&mut self, fd: usize, on: bool) -> Result<(), Errno> {
        self.slots
            .get_mut(fd)
            .and_then(|s| s.as_mut())
            .map(|s| s.cloexec = on)
            .ok_or(Errno::EBADF)
    }

    /// Closes every close-on-exec descriptor (execve).
    pub fn close_on_exec(&mut self) {
        for slot in &mut self.slots {
            if slot.as_ref().is_some_and(|s| s.cloexec) {
                *slot = None;
            }
        }
    }

    pub fn open_fds(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_some())
            .map(|(i, _)| i)
    }
}

/// What a regular or /proc file's bytes are.
enum DataSource<'a> {
    File(&'a FileRef),
    Generated(&'a [u8]),
}

/// A program's memory as the source of a file write, copied only where present.
struct UserBytes<'a, 'c> {
    caller: &'a Caller<'c>,
    addr: u64,
}

impl WriteSource for UserBytes<'_, '_> {
    fn copy_to(&mut self, dst: &mut [u8], from: usize) -> usize {
        self.addr
            .checked_add(from as u64)
            .map_or(0, |addr| self.caller.read_present(addr, dst))
    }
}

/// What a hole in a file reads as.
static ZERO_PAGE: [u8; PAGE] = [0; PAGE];
const PAGE: usize = isounik_vfs::PAGE_SIZE;

/// Copies `len` bytes of file `id` from `offset` to user memory at `addr`, 64 KiB of pages
/// at a time; returns the bytes copied (EFAULT if none could be).
fn read_pages_to_user(
    c: &Caller,
    id: InodeId,
    offset: u64,
    addr: u64,
    len: usize,
) -> Result<usize, Errno> {
    const CHUNK: usize = 64 * 1024;
    let mut pages = Vec::with_capacity(CHUNK / PAGE + 1);
    let mut done = 0;
    while done < len {
        let want = (len - done).min(CHUNK);
        let start = offset + done as u64;
        let n = match with_vfs(|v| v.read_pages(id, start, want, &mut pages)) {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(super::errno(e)),
            Err(_) => break,
        };
        let mut pos = start;
        let end = start + n as u64;
        let mut next = pages.iter().peekable();
        while pos < end {
            let index = pos / PAGE as u64;
            let in_page = (pos % PAGE as u64) as usize;
            let here = (PAGE - in_page).min((end - pos) as usize);
            let page = next.next_if(|(i, _)| *i == index).map(|(_, page)| page);
            let bytes = match page {
                Some(page) => &page.bytes()[in_page..in_page + here],
                None => &ZERO_PAGE[..here],
            };
            if let Err(e) = c.write(addr + (pos - offset), bytes) {
                return if pos == offset {
                    Err(e)
                } else {
                    Ok((pos - offset) as usize)
                };
            }
            pos += here as u64;
        }
        pages.clear();
        done += n;
        if n < want {
            break;
        }
    }
    Ok(done)
}
