//! What the blocking objects of `fs` (eventfds, timerfds, epoll instances, datagram
//! queues, sockets) share: the threads waiting on one, and the loop of a call that waits.

use alloc::vec::Vec;

use isounik_linux::errno::Errno;

use super::pipe::Flow;
use crate::sched::{self, Tid};
use crate::syscall::Caller;

/// Threads to wake at the object's next change (kept under the object's own lock).
#[derive(Default)]
pub struct Waiters(Vec<Tid>);

impl Waiters {
    pub const fn new() -> Waiters {
        Waiters(Vec::new())
    }

    /// Adds `tid` (once).
    pub fn add(&mut self, tid: Tid) {
        if !self.0.contains(&tid) {
            self.0.push(tid);
        }
    }

    pub fn wake_all(&mut self) {
        for tid in self.0.drain(..) {
            sched::wake(tid);
        }
    }
}

/// What poll and epoll need of an object whose readiness changes (pipes, sockets,
/// eventfds, timerfds, epoll instances).
pub trait Watchable {
    /// Wakes `tid` at the object's next change.
    fn add_waiter(&self, tid: Tid);
    /// A count that grows at every change (edge-triggered epoll).
    fn changes(&self) -> u64;
}

/// Calls `attempt` until it answers, blocking in between: `attempt(waiter)` tries under
/// its object's lock and either answers (`Some`), or registers `waiter` (when there is
/// one: not for a non-blocking call) and says to wait (`None`). EAGAIN for a non-blocking
/// call or at `flow.deadline`; a signal interrupts (restarted per SA_RESTART). No lock is
/// held while the thread blocks.
pub fn block_until<T>(
    c: &Caller,
    flow: Flow,
    mut attempt: impl FnMut(Option<Tid>) -> Option<Result<T, Errno>>,
) -> Result<T, Errno> {
    let waiter = (!flow.nonblock).then_some(c.tid);
    loop {
        if let Some(answer) = attempt(waiter) {
            return answer;
        }
        if flow.nonblock {
            return Err(Errno::EAGAIN);
        }
        if c.signal_pending() {
            return Err(c.interrupted());
        }
        if !flow.wait() {
            return Err(Errno::EAGAIN);
        }
    }
}
