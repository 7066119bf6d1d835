//! Pipes: a 64 KiB ring shared by a read end and a write end. Reads block while the pipe is
//! empty and a writer exists (EOF when none is left); writes block while it is full, and
//! fail with EPIPE (and SIGPIPE) when no reader is left. Writes of at most PIPE_BUF bytes
//! are atomic.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use isounik_linux::errno::Errno;

use crate::proc::Thread;
use crate::sched::{self, Tid};

pub const PIPE_BUF: usize = 4096;
pub const DEFAULT_CAPACITY: usize = 64 * 1024;

static NEXT_PIPE_INO: AtomicU64 = AtomicU64::new(1000);

pub struct Pipe {
    state: spin::Mutex<PipeState>,
    pub ino: u64,
}

struct PipeState {
    buf: VecDeque<u8>,
    capacity: usize,
    readers: u32,
    writers: u32,
    waiters: Vec<Tid>,
}

impl Pipe {
    pub fn new() -> Arc<Pipe> {
        Arc::new(Pipe {
            state: spin::Mutex::new(PipeState {
                buf: VecDeque::new(),
                capacity: DEFAULT_CAPACITY,
                readers: 0,
                writers: 0,
                waiters: Vec::new(),
            }),
            ino: NEXT_PIPE_INO.fetch_add(1, Ordering::Relaxed),
        })
    }

    fn wake_all(state: &mut PipeState) {
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
        Self::wake_all(&mut s);
    }

    pub fn capacity(&self) -> usize {
        self.state.lock().capacity
    }

    pub fn set_capacity(&self, size: usize) -> Result<usize, Errno> {
        let mut s = self.state.lock();
        let size = size.clamp(PIPE_BUF, 1 << 20).next_power_of_two();
        if size < s.buf.len() {
            return Err(Errno::EBUSY);
        }
        s.capacity = size;
        Ok(size)
    }

    /// (readable now, writable now, hung up) for poll.
    pub fn ready(&self) -> (bool, bool, bool) {
        let s = self.state.lock();
        (
            !s.buf.is_empty() || s.writers == 0,
            s.buf.len() < s.capacity || s.readers == 0,
            s.writers == 0,
        )
    }

    pub fn available(&self) -> usize {
        self.state.lock().buf.len()
    }

    pub fn read(&self, t: &mut Thread, out: &mut [u8], nonblock: bool) -> Result<usize, Errno> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            {
                let mut s = self.state.lock();
                if !s.buf.is_empty() {
                    let n = out.len().min(s.buf.len());
                    for (slot, b) in out.iter_mut().zip(s.buf.drain(..n)) {
                        *slot = b;
                    }
                    Self::wake_all(&mut s);
                    return Ok(n);
                }
                if s.writers == 0 {
                    return Ok(0);
                }
                if nonblock {
                    return Err(Errno::EAGAIN);
                }
                s.waiters.push(t.tid);
            }
            if t.signal_pending() {
                return Err(t.interrupted());
            }
            sched::block(None);
        }
    }

    pub fn write(&self, t: &mut Thread, data: &[u8], nonblock: bool) -> Result<usize, Errno> {
        let mut done = 0;
        loop {
            {
                let mut s = self.state.lock();
                if s.readers == 0 {
                    drop(s);
                    let _ =
                        crate::proc::signal::send_to_thread(t.tid, crate::proc::signal::SIGPIPE);
                    return if done > 0 {
                        Ok(done)
                    } else {
                        Err(Errno::EPIPE)
                    };
                }
                let space = s.capacity - s.buf.len();
                let left = data.len() - done;
                // Up to PIPE_BUF bytes go in whole or not at all.
                let fits = if left <= PIPE_BUF {
                    space >= left
                } else {
                    space > 0
                };
                if fits {
                    let n = left.min(space);
                    s.buf.extend(&data[done..done + n]);
                    done += n;
                    Self::wake_all(&mut s);
                    if done == data.len() {
                        return Ok(done);
                    }
                    continue;
                }
                if nonblock {
                    return if done > 0 {
                        Ok(done)
                    } else {
                        Err(Errno::EAGAIN)
                    };
                }
                s.waiters.push(t.tid);
            }
            if t.signal_pending() {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(t.interrupted())
                };
            }
            sched::block(None);
        }
    }
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
