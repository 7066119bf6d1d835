//! epoll instances and eventfd counters: the readiness interfaces event loops are built on
//! (libuv, tokio, Go's netpoller, nginx, Python's asyncio). Both are libOS memory and
//! block through `sched`, so the MPK gate runs their calls in ring 3.
//!
//! An epoll instance holds its interest list: for each (descriptor number, open file) the
//! events asked and the user's data. A wait looks at every interest's readiness (the
//! files' `poll_mask`), reports the ready ones and, when none is, registers with each file
//! (`OpenFile::wake_on_change`) and blocks, as `poll` does. Edge-triggered interests
//! (EPOLLET) report a file again only after its readiness may have changed: every file
//! that can change counts its changes (`OpenFile::changes`), and the interest remembers
//! the count it last reported. EPOLLONESHOT disables an interest after one report until
//! EPOLL_CTL_MOD. An interest ends with its open file (Linux: when the last descriptor of
//! the file description closes), or with EPOLL_CTL_DEL.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use isounik_linux::errno::Errno;
use isounik_linux::poll::*;

use super::file::{FileKind, OpenFile};
use super::pipe::Flow;
use super::waiters::{block_until, Waiters, Watchable};
use crate::sched::{self, Tid};
use crate::syscall::Caller;

static NEXT_ANON_INO: AtomicU64 = AtomicU64::new(1 << 40);

fn next_ino() -> u64 {
    NEXT_ANON_INO.fetch_add(1, Ordering::Relaxed)
}

/// How deep epoll instances may watch each other (Linux's EPOLL_MAX_NESTS).
const MAX_NESTING: usize = 4;

/// Events that are always reported when they occur, asked or not.
const ALWAYS: u32 = EPOLLERR | EPOLLHUP;
/// Flags of an interest that are not events.
const INTEREST_FLAGS: u32 = EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP;

struct Interest {
    fd: i32,
    file: Weak<OpenFile>,
    events: u32,
    data: u64,
    /// The file's change count at the last report (edge-triggered interests).
    reported_at: Option<u64>,
    /// A one-shot interest that has reported (until EPOLL_CTL_MOD).
    spent: bool,
}

pub struct Epoll {
    pub ino: u64,
    state: spin::Mutex<EpollState>,
    changes: AtomicU64,
}

struct EpollState {
    interests: Vec<Interest>,
    /// Where the next wait starts looking, so that a small `maxevents` serves every
    /// ready interest in turn.
    next: usize,
    /// Threads waiting on this instance (woken when an interest is added or changed).
    waiters: Waiters,
}

/// One event for the program: (events, data).
pub type Event = (u32, u64);

impl Epoll {
    pub fn new() -> Arc<Epoll> {
        Arc::new(Epoll {
            ino: next_ino(),
            state: spin::Mutex::new(EpollState {
                interests: Vec::new(),
                next: 0,
                waiters: Waiters::new(),
            }),
            changes: AtomicU64::new(0),
        })
    }

    fn touched(&self, st: &mut EpollState) {
        self.changes.fetch_add(1, Ordering::Relaxed);
        st.waiters.wake_all();
    }

    /// epoll_ctl(2). `file` is what `fd` names.
    pub fn control(
        self: &Arc<Self>,
        op: u32,
        fd: i32,
        file: &Arc<OpenFile>,
        events: u32,
        data: u64,
    ) -> Result<(), Errno> {
        if let FileKind::Epoll(inner) = &file.kind {
            if Arc::ptr_eq(inner, self) {
                return Err(Errno::EINVAL);
            }
            if op != EPOLL_CTL_DEL && (inner.watches(self, 1) || inner.depth() >= MAX_NESTING) {
                return Err(Errno::ELOOP);
            }
        }
        if !file.can_poll() {
            return Err(Errno::EPERM);
        }
        // (Linux: an exclusive interest cannot be modified, nor made by MOD.)
        if op == EPOLL_CTL_MOD && events & EPOLLEXCLUSIVE != 0 {
            return Err(Errno::EINVAL);
        }
        let mut st = self.state.lock();
        st.interests.retain(|i| i.file.strong_count() > 0);
        let existing = st
            .interests
            .iter()
            .position(|i| i.fd == fd && core::ptr::eq(i.file.as_ptr(), Arc::as_ptr(file)));
        match (op, existing) {
            (EPOLL_CTL_ADD, Some(_)) => return Err(Errno::EEXIST),
            (EPOLL_CTL_ADD, None) => st.interests.push(Interest {
                fd,
                file: Arc::downgrade(file),
                events,
                data,
                reported_at: None,
                spent: false,
            }),
            (EPOLL_CTL_MOD, Some(i)) => {
                let interest = &mut st.interests[i];
                if interest.events & EPOLLEXCLUSIVE != 0 {
                    return Err(Errno::EINVAL);
                }
                interest.events = events;
                interest.data = data;
                interest.reported_at = None;
                interest.spent = false;
            }
            (EPOLL_CTL_DEL, Some(i)) => {
                st.interests.remove(i);
            }
            (EPOLL_CTL_MOD | EPOLL_CTL_DEL, None) => return Err(Errno::ENOENT),
            _ => return Err(Errno::EINVAL),
        }
        self.touched(&mut st);
        Ok(())
    }

    /// Whether this instance watches `other`, directly or through nested instances.
    fn watches(&self, other: &Arc<Epoll>, depth: usize) -> bool {
        if depth > MAX_NESTING {
            return true;
        }
        let inner: Vec<Arc<Epoll>> = self.nested();
        inner
            .iter()
            .any(|e| Arc::ptr_eq(e, other) || e.watches(other, depth + 1))
    }

    /// How many levels of epoll instances this one watches.
    fn depth(&self) -> usize {
        self.nested()
            .iter()
            .map(|e| 1 + e.depth().min(MAX_NESTING))
            .max()
            .unwrap_or(0)
    }

    fn nested(&self) -> Vec<Arc<Epoll>> {
        let st = self.state.lock();
        st.interests
            .iter()
            .filter_map(|i| i.file.upgrade())
            .filter_map(|f| match &f.kind {
                FileKind::Epoll(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }

    /// Up to `max` ready events (reporting them: edge and one-shot bookkeeping), in turn
    /// from where the last call stopped. `RING0_NEEDED` if a watched file's readiness is
    /// ring 0's (the console) and this runs behind the gate.
    pub fn collect(&self, c: &Caller, max: usize) -> Result<Vec<Event>, Errno> {
        let mut st = self.state.lock();
        st.interests.retain(|i| i.file.strong_count() > 0);
        let count = st.interests.len();
        let start = if count == 0 { 0 } else { st.next % count };
        let mut out = Vec::new();
        let mut last = start;
        for k in 0..count {
            if out.len() == max {
                break;
            }
            let idx = (start + k) % count;
            let interest = &mut st.interests[idx];
            let Some(file) = interest.file.upgrade() else {
                continue;
            };
            if interest.spent {
                continue;
            }
            if file.readiness_needs_ring0() {
                c.thread()?;
            }
            let mask = file.poll_mask();
            let wanted = (interest.events & !INTEREST_FLAGS) | ALWAYS;
            let events = mask & wanted;
            if events == 0 {
                continue;
            }
            if interest.events & EPOLLET != 0 {
                let now = file.changes();
                if interest.reported_at == Some(now) {
                    continue;
                }
                interest.reported_at = Some(now);
            }
            if interest.events & EPOLLONESHOT != 0 {
                interest.spent = true;
            }
            out.push((events, interest.data));
            last = idx + 1;
        }
        st.next = last;
        Ok(out)
    }

    /// Whether a wait would report something now (poll of the instance itself; nothing
    /// is marked reported).
    pub fn any_ready(&self) -> bool {
        let st = self.state.lock();
        st.interests.iter().any(|i| {
            !i.spent
                && i.file.upgrade().is_some_and(|f| {
                    let wanted = (i.events & !INTEREST_FLAGS) | ALWAYS;
                    let fresh = i.events & EPOLLET == 0 || i.reported_at != Some(f.changes());
                    fresh && !f.readiness_needs_ring0() && f.poll_mask() & wanted != 0
                })
        })
    }

    /// Registers `tid` with every watched file and the instance itself; whether one of
    /// them needs polling at ticks (the console).
    pub fn wake_on_change(&self, tid: Tid) -> bool {
        let files: Vec<Arc<OpenFile>> = {
            let mut st = self.state.lock();
            st.waiters.add(tid);
            st.interests
                .iter()
                .filter_map(|i| i.file.upgrade())
                .collect()
        };
        let mut needs_ticks = false;
        for f in files {
            if !f.wake_on_change(tid) && f.readiness_needs_ring0() {
                needs_ticks = true;
            }
        }
        needs_ticks
    }

    /// The earliest time a watched file must be looked at again (a timerfd's expiry).
    pub fn deadline(&self) -> Option<u64> {
        let files: Vec<Arc<OpenFile>> = {
            let st = self.state.lock();
            st.interests
                .iter()
                .filter_map(|i| i.file.upgrade())
                .collect()
        };
        files.iter().filter_map(|f| f.deadline()).min()
    }

    /// Blocks until an event may be ready or `deadline`; EINTR on a signal (epoll_wait is
    /// never restarted, as Linux).
    pub fn wait(&self, c: &Caller, max: usize, deadline: Option<u64>) -> Result<Vec<Event>, Errno> {
        loop {
            let ready = self.collect(c, max)?;
            if !ready.is_empty() {
                return Ok(ready);
            }
            let now = crate::time::uptime_ns();
            if deadline.is_some_and(|d| now >= d) {
                return Ok(ready);
            }
            if c.signal_pending() {
                return Err(Errno::EINTR);
            }
            let needs_ticks = self.wake_on_change(c.tid);
            if needs_ticks {
                crate::drivers::uart::add_waiter(c.thread()?.tid);
            }
            let tick = needs_ticks.then(|| now + 10_000_000);
            let wake_at = [deadline, tick, self.deadline()]
                .into_iter()
                .flatten()
                .min();
            sched::block(wake_at);
        }
    }
}

/// An eventfd: a 64-bit counter that writes add to and reads take (all of it, or one in
/// semaphore mode), blocking at 0 and before overflow.
pub struct EventFd {
    pub ino: u64,
    semaphore: bool,
    state: spin::Mutex<EventState>,
    changes: AtomicU64,
}

struct EventState {
    count: u64,
    waiters: Waiters,
}

/// The largest count (u64::MAX is not a valid value).
const EVENTFD_MAX: u64 = u64::MAX - 1;

impl EventFd {
    pub fn new(initial: u32, semaphore: bool) -> Arc<EventFd> {
        Arc::new(EventFd {
            ino: next_ino(),
            semaphore,
            state: spin::Mutex::new(EventState {
                count: initial as u64,
                waiters: Waiters::new(),
            }),
            changes: AtomicU64::new(0),
        })
    }

    fn changed(&self, st: &mut EventState) {
        self.changes.fetch_add(1, Ordering::Relaxed);
        st.waiters.wake_all();
    }

    /// The 8-byte read: the count (or 1), waiting while it is 0.
    pub fn read(&self, c: &Caller, flow: Flow) -> Result<u64, Errno> {
        block_until(c, flow, |waiter| {
            let mut st = self.state.lock();
            if st.count > 0 {
                let taken = if self.semaphore { 1 } else { st.count };
                st.count -= taken;
                self.changed(&mut st);
                return Some(Ok(taken));
            }
            st.waiters.add(waiter?);
            None
        })
    }

    /// The 8-byte write of `value`, waiting while it would overflow the count.
    pub fn write(&self, c: &Caller, value: u64, flow: Flow) -> Result<(), Errno> {
        if value == u64::MAX {
            return Err(Errno::EINVAL);
        }
        block_until(c, flow, |waiter| {
            let mut st = self.state.lock();
            if EVENTFD_MAX - st.count >= value {
                st.count += value;
                if value > 0 {
                    self.changed(&mut st);
                }
                return Some(Ok(()));
            }
            st.waiters.add(waiter?);
            None
        })
    }

    /// (readable, writable).
    pub fn ready(&self) -> (bool, bool) {
        let st = self.state.lock();
        (st.count > 0, st.count < EVENTFD_MAX)
    }
}

/// A timerfd: expirations of a one-shot or periodic timer, counted until a read takes them.
/// Deadlines are kept on the monotonic uptime clock; a CLOCK_REALTIME timer set with an
/// absolute time is converted when it is set.
pub struct TimerFd {
    pub ino: u64,
    pub realtime: bool,
    state: spin::Mutex<TimerState>,
    changes: AtomicU64,
}

struct TimerState {
    /// The next expiry (uptime ns), if armed.
    next: Option<u64>,
    /// The period (0: one-shot).
    interval: u64,
    /// Expirations not read yet.
    expired: u64,
    waiters: Waiters,
}

impl TimerFd {
    pub fn new(realtime: bool) -> Arc<TimerFd> {
        Arc::new(TimerFd {
            ino: next_ino(),
            realtime,
            state: spin::Mutex::new(TimerState {
                next: None,
                interval: 0,
                expired: 0,
                waiters: Waiters::new(),
            }),
            changes: AtomicU64::new(0),
        })
    }

    /// Counts the expirations up to now.
    fn advance(&self, st: &mut TimerState, now: u64) {
        let Some(next) = st.next else {
            return;
        };
        if now < next {
            return;
        }
        // A periodic timer counts every period that ended; a one-shot one disarms.
        let passed = match (now - next).checked_div(st.interval) {
            Some(periods) => {
                let n = 1 + periods;
                st.next = Some(next.saturating_add(n.saturating_mul(st.interval)));
                n
            }
            None => {
                st.next = None;
                1
            }
        };
        st.expired = st.expired.saturating_add(passed);
        self.changes.fetch_add(1, Ordering::Relaxed);
    }

    /// timerfd_settime: arms (`value` > 0: the first expiry `value` ns from now, or at
    /// uptime `value` when `absolute`) or disarms (`value` == 0). Returns the old setting
    /// as (ns to the next expiry, interval).
    pub fn set(&self, value: u64, interval: u64, absolute: bool) -> (u64, u64) {
        let now = crate::time::uptime_ns();
        let mut st = self.state.lock();
        self.advance(&mut st, now);
        let old = (st.next.map_or(0, |n| n.saturating_sub(now)), st.interval);
        st.expired = 0;
        st.interval = interval;
        st.next = match (value, absolute) {
            (0, _) => None,
            (v, true) => Some(v),
            (v, false) => Some(now.saturating_add(v)),
        };
        // An absolute time already past expires at once.
        self.advance(&mut st, now);
        self.changes.fetch_add(1, Ordering::Relaxed);
        st.waiters.wake_all();
        old
    }

    /// timerfd_gettime: (ns to the next expiry, interval).
    pub fn get(&self) -> (u64, u64) {
        let now = crate::time::uptime_ns();
        let mut st = self.state.lock();
        self.advance(&mut st, now);
        (st.next.map_or(0, |n| n.saturating_sub(now)), st.interval)
    }

    /// The 8-byte read: the expirations so far, waiting for the first.
    pub fn read(&self, c: &Caller, flow: Flow) -> Result<u64, Errno> {
        loop {
            let deadline = {
                let mut st = self.state.lock();
                self.advance(&mut st, crate::time::uptime_ns());
                if st.expired > 0 {
                    let n = st.expired;
                    st.expired = 0;
                    self.changes.fetch_add(1, Ordering::Relaxed);
                    return Ok(n);
                }
                if flow.nonblock {
                    return Err(Errno::EAGAIN);
                }
                st.waiters.add(c.tid);
                st.next
            };
            if c.signal_pending() {
                return Err(c.interrupted());
            }
            sched::block(deadline);
        }
    }

    pub fn readable(&self) -> bool {
        let mut st = self.state.lock();
        self.advance(&mut st, crate::time::uptime_ns());
        st.expired > 0
    }

    /// When a waiter must look again (poll and epoll bound their sleep by it).
    pub fn deadline(&self) -> Option<u64> {
        self.state.lock().next
    }
}

impl Watchable for Epoll {
    fn add_waiter(&self, tid: Tid) {
        self.wake_on_change(tid);
    }

    fn changes(&self) -> u64 {
        self.changes.load(Ordering::Relaxed)
    }
}

impl Watchable for EventFd {
    fn add_waiter(&self, tid: Tid) {
        self.state.lock().waiters.add(tid);
    }

    fn changes(&self) -> u64 {
        self.changes.load(Ordering::Relaxed)
    }
}

impl Watchable for TimerFd {
    fn add_waiter(&self, tid: Tid) {
        self.state.lock().waiters.add(tid);
    }

    /// (Expirations due by now count as changes too.)
    fn changes(&self) -> u64 {
        let mut st = self.state.lock();
        self.advance(&mut st, crate::time::uptime_ns());
        self.changes.load(Ordering::Relaxed)
    }
}
