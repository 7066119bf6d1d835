//! The receive queue of a datagram socket (AF_UNIX SOCK_DGRAM, UDP on loopback): whole
//! messages with their sender's address and, for AF_UNIX, the files they carry.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use isounik_linux::errno::Errno;
use isounik_linux::structs::SocketAddress;

use super::pipe::{Attachment, Flow};
use super::waiters::{block_until, Waiters};
use crate::sched::Tid;
use crate::syscall::Caller;

/// What a queue holds at most, in bytes of data (Linux's default receive buffer) and in
/// messages (net.unix.max_dgram_qlen).
pub const QUEUE_BYTES: usize = 212_992;
pub const QUEUE_MESSAGES: usize = 512;

pub struct Datagram {
    pub data: Vec<u8>,
    pub from: SocketAddress,
    pub files: Option<Attachment>,
}

pub struct Inbox {
    state: spin::Mutex<InboxState>,
    changes: AtomicU64,
}

struct InboxState {
    messages: VecDeque<Datagram>,
    bytes: usize,
    waiters: Waiters,
    /// Its socket is closed: senders get ECONNREFUSED.
    closed: bool,
}

impl Inbox {
    pub fn new() -> Inbox {
        Inbox {
            state: spin::Mutex::new(InboxState {
                messages: VecDeque::new(),
                bytes: 0,
                waiters: Waiters::new(),
                closed: false,
            }),
            changes: AtomicU64::new(0),
        }
    }

    fn changed(&self, st: &mut InboxState) {
        self.changes.fetch_add(1, Ordering::Relaxed);
        st.waiters.wake_all();
    }

    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::Relaxed)
    }

    /// Queues `message`. A full queue makes the sender wait (AF_UNIX: `may_wait`), or
    /// drops the message as a full UDP receive buffer does (still a success for the
    /// sender). A closed queue is ECONNREFUSED.
    pub fn push(
        &self,
        c: &Caller,
        message: Datagram,
        flow: Flow,
        may_wait: bool,
    ) -> Result<(), Errno> {
        let mut message = Some(message);
        let mut dropped = None;
        let result = block_until(c, flow, |waiter| {
            let mut st = self.state.lock();
            if st.closed {
                return Some(Err(Errno::ECONNREFUSED));
            }
            let len = message.as_ref().map_or(0, |m| m.data.len());
            let fits = st.messages.len() < QUEUE_MESSAGES
                && (st.bytes + len <= QUEUE_BYTES || st.messages.is_empty());
            if fits {
                if let Some(m) = message.take() {
                    st.bytes += m.data.len();
                    st.messages.push_back(m);
                }
                self.changed(&mut st);
                return Some(Ok(()));
            }
            if !may_wait {
                dropped = message.take();
                return Some(Ok(()));
            }
            st.waiters.add(waiter?);
            None
        });
        // (A dropped message's files go outside the lock: they may be sockets.)
        drop(dropped);
        result
    }

    /// Takes the next message (a copy of it with MSG_PEEK, its files duplicated), waiting
    /// for one unless `flow.nonblock`.
    pub fn pop(&self, c: &Caller, flow: Flow) -> Result<Datagram, Errno> {
        block_until(c, flow, |waiter| {
            let mut st = self.state.lock();
            if flow.peek {
                if let Some(m) = st.messages.front() {
                    return Some(Ok(Datagram {
                        data: m.data.clone(),
                        from: m.from.clone(),
                        files: m.files.clone(),
                    }));
                }
            } else if let Some(m) = st.messages.pop_front() {
                st.bytes -= m.data.len();
                self.changed(&mut st);
                return Some(Ok(m));
            }
            st.waiters.add(waiter?);
            None
        })
    }

    /// The size of the next message (FIONREAD), 0 if none.
    pub fn next_len(&self) -> usize {
        self.state
            .lock()
            .messages
            .front()
            .map_or(0, |m| m.data.len())
    }

    pub fn is_empty(&self) -> bool {
        self.state.lock().messages.is_empty()
    }

    pub fn add_waiter(&self, tid: Tid) {
        self.state.lock().waiters.add(tid);
    }

    /// The socket closed: later sends fail, queued messages (and their files) go.
    pub fn close(&self) {
        let dropped = {
            let mut st = self.state.lock();
            st.closed = true;
            st.bytes = 0;
            self.changed(&mut st);
            core::mem::take(&mut st.messages)
        };
        drop(dropped);
    }
}
