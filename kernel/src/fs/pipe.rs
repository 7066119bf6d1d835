//! Pipes: a 64 KiB ring shared by a read end and a write end. Reads block while the pipe is
//! empty and a writer exists (EOF when none is left); writes block while it is full, and
//! fail with EPIPE (and SIGPIPE) when no reader is left. Writes of at most PIPE_BUF bytes
//! are atomic.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use isounik_linux::errno::Errno;
use isounik_vfs::ByteRing;

use super::waiters::Watchable;
use crate::sched::{self, Tid};
use crate::syscall::Caller;

pub const PIPE_BUF: usize = 4096;
pub const DEFAULT_CAPACITY: usize = 64 * 1024;
/// The most files one direction of a connection holds in flight (Linux bounds them by
/// RLIMIT_NOFILE per user: ETOOMANYREFS), so that messages carrying files cannot pin
/// unbounded memory.
pub const MAX_FILES_IN_FLIGHT: usize = 1024;

static NEXT_PIPE_INO: AtomicU64 = AtomicU64::new(1000);

/// How a read or write waits and what it does besides moving bytes (sockets use more of
/// it than pipes).
#[derive(Clone, Copy, Default)]
pub struct Flow {
    /// EAGAIN instead of waiting.
    pub nonblock: bool,
    /// A read leaves the bytes in the pipe (MSG_PEEK).
    pub peek: bool,
    /// A write with no reader left does not send SIGPIPE (MSG_NOSIGNAL).
    pub no_sigpipe: bool,
    /// Waiting ends with EAGAIN at this uptime (SO_RCVTIMEO, SO_SNDTIMEO).
    pub deadline: Option<u64>,
}

impl Flow {
    pub fn waiting(nonblock: bool) -> Flow {
        Flow {
            nonblock,
            ..Flow::default()
        }
    }

    /// Blocks the caller until woken or the deadline; false if the deadline has passed.
    pub fn wait(&self) -> bool {
        if let Some(d) = self.deadline {
            if crate::time::uptime_ns() >= d {
                return false;
            }
        }
        sched::block(self.deadline);
        true
    }
}

pub struct Pipe {
    state: spin::Mutex<PipeState>,
    pub ino: u64,
    /// Grows at every change of what is in the pipe or who holds it (edge-triggered epoll).
    changes: AtomicU64,
}

/// Open files sent along with bytes (SCM_RIGHTS over an AF_UNIX stream socket).
pub type Attachment = Vec<Arc<super::OpenFile>>;

/// Files that travel with the message of `len` bytes starting at stream offset `at`.
struct Marker {
    at: u64,
    len: u64,
    files: Attachment,
}

struct PipeState {
    /// The bytes waiting (grown as needed, up to `capacity`).
    ring: ByteRing,
    /// Bytes ever written and taken (stream offsets of the markers).
    written: u64,
    consumed: u64,
    /// Attachments waiting, in stream order, and how many files they hold.
    markers: VecDeque<Marker>,
    files_in_flight: usize,
    capacity: usize,
    readers: u32,
    writers: u32,
    waiters: Vec<Tid>,
}

impl Pipe {
    pub fn new() -> Arc<Pipe> {
        Arc::new(Pipe {
            state: spin::Mutex::new(PipeState {
                ring: ByteRing::new(),
                written: 0,
                consumed: 0,
                markers: VecDeque::new(),
                files_in_flight: 0,
                capacity: DEFAULT_CAPACITY,
                readers: 0,
                writers: 0,
                waiters: Vec::new(),
            }),
            ino: NEXT_PIPE_INO.fetch_add(1, Ordering::Relaxed),
            changes: AtomicU64::new(0),
        })
    }

    fn wake_all(&self, state: &mut PipeState) {
        self.changes.fetch_add(1, Ordering::Relaxed);
        for tid in state.waiters.drain(..) {
            sched::wake(tid);
        }
    }

    pub fn open_end(&self, write: bool) {
        let mut s = self.state.lock();
        if write {
            s.writers += 1;
        } else {
            s.readers += 1;
        }
    }

    pub fn close_end(&self, write: bool) {
        let mut s = self.state.lock();
        if write {
            s.writers -= 1;
        } else {
            s.readers -= 1;
        }
        self.wake_all(&mut s);
    }

    pub fn capacity(&self) -> usize {
        self.state.lock().capacity
    }

    pub fn set_capacity(&self, size: usize) -> Result<usize, Errno> {
        let mut s = self.state.lock();
        let size = size.clamp(PIPE_BUF, 1 << 20).next_power_of_two();
        if size < s.ring.len() {
            return Err(Errno::EBUSY);
        }
        s.capacity = size;
        Ok(size)
    }

    /// (readable now, writable now, hung up) for poll.
    pub fn ready(&self) -> (bool, bool, bool) {
        let s = self.state.lock();
        (
            !s.ring.is_empty() || s.writers == 0,
            s.ring.len() < s.capacity || s.readers == 0,
            s.writers == 0,
        )
    }

    /// Takes what is there, up to `out.len()` bytes, without waiting (the network bridge,
    /// which has no caller to block).
    pub fn try_read(&self, out: &mut [u8]) -> usize {
        let mut s = self.state.lock();
        let (a, b) = s.ring.filled();
        let first = a.len().min(out.len());
        let second = b.len().min(out.len() - first);
        out[..first].copy_from_slice(&a[..first]);
        out[first..first + second].copy_from_slice(&b[..second]);
        let n = first + second;
        if n > 0 {
            s.ring.consume(n);
            s.consumed += n as u64;
            self.wake_all(&mut s);
        }
        n
    }

    /// Puts as much of `data` as fits, without waiting; 0 when full.
    pub fn try_write(&self, data: &[u8]) -> usize {
        let mut s = self.state.lock();
        let room = s.capacity.saturating_sub(s.ring.len()).min(data.len());
        let capacity = s.capacity;
        let Some((a, b)) = s.ring.room(room, capacity) else {
            return 0;
        };
        let first = a.len().min(room);
        let second = (room - first).min(b.len());
        a[..first].copy_from_slice(&data[..first]);
        b[..second].copy_from_slice(&data[first..first + second]);
        let n = first + second;
        s.ring.commit(n);
        s.written += n as u64;
        if n > 0 {
            self.wake_all(&mut s);
        }
        n
    }

    /// Whether the pipe is empty and every write end is closed (the end of the stream).
    pub fn drained_and_closed(&self) -> bool {
        let s = self.state.lock();
        s.ring.is_empty() && s.writers == 0
    }

    /// Whether every read end is closed (a write would fail with EPIPE).
    pub fn no_readers(&self) -> bool {
        self.state.lock().readers == 0
    }

    pub fn available(&self) -> usize {
        self.state.lock().ring.len()
    }

    /// Reads into kernel memory.
    pub fn read(&self, c: &Caller, out: &mut [u8], nonblock: bool) -> Result<usize, Errno> {
        // Attachments read past are dropped (their files closed), as Linux's read does.
        let mut passed = Vec::new();
        self.read_with(
            c,
            out.len(),
            Flow::waiting(nonblock),
            &mut passed,
            |from, bytes| {
                out[from..from + bytes.len()].copy_from_slice(bytes);
                Ok(())
            },
        )
    }

    /// Reads into the caller's memory at `addr`, straight from the ring (no kernel buffer).
    pub fn read_to_user(
        &self,
        c: &Caller,
        addr: u64,
        len: usize,
        flow: Flow,
    ) -> Result<usize, Errno> {
        let mut passed = Vec::new();
        self.read_to_user_attached(c, addr, len, flow, &mut passed)
    }

    /// `read_to_user` that also hands over the attachment of a message it reads into
    /// (`attached`, dropped by the caller outside the pipe's lock). A read stops at the end
    /// of such a message, as Linux's does.
    pub fn read_to_user_attached(
        &self,
        c: &Caller,
        addr: u64,
        len: usize,
        flow: Flow,
        attached: &mut Vec<Attachment>,
    ) -> Result<usize, Errno> {
        self.read_with(c, len, flow, attached, |from, bytes| {
            c.write(addr + from as u64, bytes)
        })
    }

    /// Waits for data (or the end), then hands up to `max` bytes to `sink` (offset in the
    /// reader's buffer, bytes) in at most two pieces; only what `sink` took leaves the pipe.
    /// A failure of the first piece is the call's error.
    /// Runs behind the MPK gate too (`Caller`): it blocks and wakes through `sched`, with
    /// no lock held while it blocks.
    fn read_with(
        &self,
        c: &Caller,
        max: usize,
        flow: Flow,
        attached: &mut Vec<Attachment>,
        mut sink: impl FnMut(usize, &[u8]) -> Result<(), Errno>,
    ) -> Result<usize, Errno> {
        if max == 0 {
            return Ok(0);
        }
        loop {
            {
                let mut s = self.state.lock();
                if !s.ring.is_empty() {
                    // A message with files in reach: read to its end at most.
                    let start = s.consumed;
                    let carrying = s
                        .markers
                        .front()
                        .filter(|m| m.at < start + max as u64)
                        .map(|m| (m.at, m.len));
                    let max = match carrying {
                        Some((at, len)) => max.min((at + len - start) as usize),
                        None => max,
                    };
                    let (a, b) = s.ring.filled();
                    let first = a.len().min(max);
                    let second = b.len().min(max - first);
                    let mut taken = 0;
                    let mut failure = None;
                    for piece in [&a[..first], &b[..second]] {
                        if piece.is_empty() {
                            continue;
                        }
                        match sink(taken, piece) {
                            Ok(()) => taken += piece.len(),
                            Err(e) => {
                                failure = Some(e);
                                break;
                            }
                        }
                    }
                    if taken > 0 {
                        let reached = carrying.is_some_and(|(at, _)| at < start + taken as u64);
                        if flow.peek {
                            if reached {
                                let files = s.markers.front().map(|m| m.files.clone());
                                attached.extend(files);
                            }
                        } else {
                            if reached {
                                if let Some(m) = s.markers.pop_front() {
                                    s.files_in_flight -= m.files.len();
                                    attached.push(m.files);
                                }
                            }
                            s.ring.consume(taken);
                            s.consumed += taken as u64;
                            self.wake_all(&mut s);
                        }
                        return Ok(taken);
                    }
                    return Err(failure.unwrap_or(Errno::EFAULT));
                }
                if s.writers == 0 {
                    return Ok(0);
                }
                if flow.nonblock {
                    return Err(Errno::EAGAIN);
                }
                s.waiters.push(c.tid);
            }
            if c.signal_pending() {
                return Err(c.interrupted());
            }
            if !flow.wait() {
                return Err(Errno::EAGAIN);
            }
        }
    }

    /// Writes from kernel memory.
    pub fn write(&self, c: &Caller, data: &[u8], nonblock: bool) -> Result<usize, Errno> {
        self.write_with(
            c,
            data.len(),
            Flow::waiting(nonblock),
            &mut None,
            |from, room| {
                room.copy_from_slice(&data[from..from + room.len()]);
                Ok(())
            },
        )
    }

    /// Writes from the caller's memory at `addr`, straight into the ring.
    pub fn write_from_user(
        &self,
        c: &Caller,
        addr: u64,
        len: usize,
        flow: Flow,
    ) -> Result<usize, Errno> {
        self.write_from_user_attached(c, addr, len, flow, &mut None)
    }

    /// `write_from_user` with files that travel with these bytes (taken from `attach`
    /// when the first byte goes in; left there, for the caller to drop, if none does).
    pub fn write_from_user_attached(
        &self,
        c: &Caller,
        addr: u64,
        len: usize,
        flow: Flow,
        attach: &mut Option<Attachment>,
    ) -> Result<usize, Errno> {
        self.write_with(c, len, flow, attach, |from, room| {
            c.read(addr + from as u64, room)
        })
    }

    /// Writes `len` bytes that `source` (offset in the writer's buffer, room) supplies,
    /// blocking while the pipe is full. Up to PIPE_BUF bytes go in whole or not at all.
    fn write_with(
        &self,
        c: &Caller,
        len: usize,
        flow: Flow,
        attach: &mut Option<Attachment>,
        mut source: impl FnMut(usize, &mut [u8]) -> Result<(), Errno>,
    ) -> Result<usize, Errno> {
        if len == 0 {
            return Ok(0);
        }
        let mut done = 0;
        loop {
            {
                let mut s = self.state.lock();
                if s.readers == 0 {
                    drop(s);
                    if !flow.no_sigpipe {
                        send_sigpipe(c);
                    }
                    return if done > 0 {
                        Ok(done)
                    } else {
                        Err(Errno::EPIPE)
                    };
                }
                if attach
                    .as_ref()
                    .is_some_and(|f| s.files_in_flight + f.len() > MAX_FILES_IN_FLIGHT)
                {
                    return Err(Errno::ETOOMANYREFS);
                }
                let space = s.capacity.saturating_sub(s.ring.len());
                let left = len - done;
                let fits = if left <= PIPE_BUF {
                    space >= left
                } else {
                    space > 0
                };
                if fits {
                    let n = left.min(space);
                    let capacity = s.capacity;
                    let Some((a, b)) = s.ring.room(n, capacity) else {
                        return if done > 0 {
                            Ok(done)
                        } else {
                            Err(Errno::ENOMEM)
                        };
                    };
                    let first = a.len().min(n);
                    let second = (n - first).min(b.len());
                    let mut put = 0;
                    let mut failure = None;
                    for piece in [&mut a[..first], &mut b[..second]] {
                        if piece.is_empty() {
                            continue;
                        }
                        match source(done + put, piece) {
                            Ok(()) => put += piece.len(),
                            Err(e) => {
                                failure = Some(e);
                                break;
                            }
                        }
                    }
                    // An atomic write that could not be read whole leaves nothing behind.
                    if failure.is_some() && left <= PIPE_BUF {
                        put = 0;
                    }
                    if put > 0 {
                        if let Some(files) = attach.take() {
                            let at = s.written;
                            s.files_in_flight += files.len();
                            s.markers.push_back(Marker {
                                at,
                                len: len as u64,
                                files,
                            });
                        }
                    }
                    s.ring.commit(put);
                    s.written += put as u64;
                    done += put;
                    if put > 0 {
                        self.wake_all(&mut s);
                    }
                    if let Some(e) = failure {
                        return if done > 0 { Ok(done) } else { Err(e) };
                    }
                    if done == len {
                        return Ok(done);
                    }
                    continue;
                }
                if flow.nonblock {
                    return if done > 0 {
                        Ok(done)
                    } else {
                        Err(Errno::EAGAIN)
                    };
                }
                s.waiters.push(c.tid);
            }
            if c.signal_pending() {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(c.interrupted())
                };
            }
            if !flow.wait() {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(Errno::EAGAIN)
                };
            }
        }
    }
}

impl Watchable for Pipe {
    /// Wakes `tid` at the pipe's next change (poll and select wait this way).
    fn add_waiter(&self, tid: Tid) {
        let mut s = self.state.lock();
        if !s.waiters.contains(&tid) {
            s.waiters.push(tid);
        }
    }

    fn changes(&self) -> u64 {
        self.changes.load(Ordering::Relaxed)
    }
}

/// SIGPIPE for a write that found no reader.
pub fn send_sigpipe(c: &Caller) {
    let _ = crate::proc::signal::send_to_thread(c.tid, crate::proc::signal::SIGPIPE);
}

/// One end of a pipe held by an open file; closing the file closes the end.
pub struct PipeEnd {
    pub pipe: Arc<Pipe>,
    pub write: bool,
}

impl PipeEnd {
    pub fn new(pipe: Arc<Pipe>, write: bool) -> PipeEnd {
        pipe.open_end(write);
        PipeEnd { pipe, write }
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        self.pipe.close_end(self.write);
    }
}
