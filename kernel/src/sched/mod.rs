//! Tasks and the scheduler. A task is a kernel stack with a saved context; each user thread
//! runs its loop (`proc::run`) on its own task. One CPU: ring-0 code is never preempted (it
//! gives the CPU up only by blocking or yielding), ring-3 code is preempted by the timer
//! tick, which asks the run loop to yield. An idle CPU halts.

mod switch;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::ops::Range;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::x86_64::{cpu, gate};

pub type Tid = u32;

/// Ticks (10 ms each) a task may run in ring 3 before another runnable task gets the CPU.
const TIME_SLICE_TICKS: u32 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Runnable,
    Running,
    Blocked,
    Dead,
}

struct Task {
    state: State,
    /// The kernel stack pointer while switched out.
    saved_rsp: u64,
    /// The page table the task runs with (its process's).
    cr3: u64,
    stack: Range<u64>,
    /// Uptime (ns) at which a blocked task wakes by itself.
    wake_at: Option<u64>,
    /// A wake-up that arrived before the task blocked: the next block returns at once.
    wake_pending: bool,
}

struct Scheduler {
    /// Round-robin order is tid order: the next runnable task after the current one. (No
    /// queue: interrupt handlers wake tasks and must not allocate.)
    tasks: BTreeMap<Tid, Task>,
    current: Tid,
    slice_left: u32,
    need_resched: bool,
    /// Stacks of dead tasks, freed once we are off them.
    dead_stacks: Vec<Range<u64>>,
}

static SCHED: spin::Mutex<Option<Scheduler>> = spin::Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut Scheduler) -> R) -> R {
    cpu::without_interrupts(|| f(SCHED.lock().as_mut().expect("sched::init has run")))
}

/// Makes the code running now (the boot stack) task `tid`.
pub fn init(tid: Tid) {
    let mut tasks = BTreeMap::new();
    tasks.insert(
        tid,
        Task {
            state: State::Running,
            saved_rsp: 0,
            cr3: cpu::read_cr3(),
            stack: 0..0,
            wake_at: None,
            wake_pending: false,
        },
    );
    *SCHED.lock() = Some(Scheduler {
        tasks,
        current: tid,
        slice_left: TIME_SLICE_TICKS,
        need_resched: false,
        dead_stacks: Vec::new(),
    });
}

/// Creates a runnable task `tid` that will call `entry(arg)` on a fresh kernel stack, with
/// page table `cr3`.
pub fn spawn(
    tid: Tid,
    cr3: u64,
    entry: extern "C" fn(usize) -> !,
    arg: usize,
) -> Result<(), isounik_linux::errno::Errno> {
    let stack = crate::mm::with(|m| m.new_kernel_stack())
        .map_err(|_| isounik_linux::errno::Errno::ENOMEM)?;
    let saved_rsp = switch::prepare_stack(stack.end, entry, arg);
    with(|s| {
        s.tasks.insert(
            tid,
            Task {
                state: State::Runnable,
                saved_rsp,
                cr3,
                stack,
                wake_at: None,
                wake_pending: false,
            },
        );
    });
    Ok(())
}

/// The kernel stack of the current task (empty for the boot task).
pub fn current_stack() -> Range<u64> {
    with(|s| s.tasks.get(&s.current).map_or(0..0, |t| t.stack.clone()))
}

/// Records the page table the current task runs with (after exec or when it starts).
pub fn set_current_cr3(cr3: u64) {
    with(|s| {
        let cur = s.current;
        if let Some(t) = s.tasks.get_mut(&cur) {
            t.cr3 = cr3;
        }
    });
}

/// Called by the timer interrupt.
pub fn tick() {
    let now = crate::time::uptime_ns();
    // The lock may be held by the code this interrupt stopped; then skip this tick.
    let Some(mut guard) = SCHED.try_lock() else {
        return;
    };
    let Some(s) = guard.as_mut() else { return };
    let mut others_runnable = false;
    for (tid, t) in s.tasks.iter_mut() {
        if t.state == State::Blocked && t.wake_at.is_some_and(|w| w <= now) {
            t.wake_at = None;
            t.state = State::Runnable;
        }
        others_runnable |= t.state == State::Runnable && *tid != s.current;
    }
    s.slice_left = s.slice_left.saturating_sub(1);
    if s.slice_left == 0 && others_runnable {
        s.need_resched = true;
        NEED_RESCHED.store(true, Ordering::Relaxed);
    }
}

/// `need_resched` of the scheduler's state, readable without its lock (checked after every
/// system call and interrupt).
static NEED_RESCHED: AtomicBool = AtomicBool::new(false);

/// Whether the current task has used its time slice while others wait.
pub fn need_resched() -> bool {
    NEED_RESCHED.load(Ordering::Relaxed)
}

/// Makes `tid` runnable (it was blocked), or makes its next block return at once.
/// Behind the MPK gate (ring 3) deferred to the CPU's next entry into ring 0
/// (`gate::defer_wake`).
pub fn wake(tid: Tid) {
    if cpu::in_ring3() {
        gate::defer_wake(tid);
        return;
    }
    with(|s| {
        let Some(t) = s.tasks.get_mut(&tid) else {
            return;
        };
        match t.state {
            State::Blocked => {
                t.state = State::Runnable;
                t.wake_at = None;
            }
            State::Running | State::Runnable => t.wake_pending = true,
            State::Dead => {}
        }
    })
}

/// Gives the CPU to another runnable task, if any; returns when this one runs again.
/// Behind the MPK gate (ring 3) through the privilege gate's `PRIV_YIELD`.
pub fn yield_now() {
    if cpu::in_ring3() {
        gate::service(isounik_abi::gate::PRIV_YIELD, 0);
        return;
    }
    schedule(State::Runnable, None);
}

/// Blocks the current task until `wake` (or the deadline, an uptime in ns).
/// Callers check their condition again afterwards: wake-ups may be spurious.
/// Behind the MPK gate (ring 3) through the privilege gate's `PRIV_BLOCK`: the caller must
/// hold no lock (other tasks run meanwhile).
pub fn block(deadline: Option<u64>) {
    if cpu::in_ring3() {
        gate::service(isounik_abi::gate::PRIV_BLOCK, deadline.unwrap_or(u64::MAX));
        return;
    }
    schedule(State::Blocked, deadline);
}

/// Ends the current task; its stack is freed by whoever runs next.
pub fn exit_current() -> ! {
    schedule(State::Dead, None);
    unreachable!("a dead task was scheduled again");
}

fn schedule(new_state: State, deadline: Option<u64>) {
    cpu::without_interrupts(|| {
        let mut guard = SCHED.lock();
        let s = guard.as_mut().expect("sched::init has run");
        let cur = s.current;
        {
            let t = s.tasks.get_mut(&cur).expect("current task exists");
            if new_state == State::Blocked && t.wake_pending {
                t.wake_pending = false;
                return;
            }
            t.wake_pending = false;
            t.state = new_state;
            t.wake_at = deadline;
            t.cr3 = cpu::read_cr3();
        }
        s.need_resched = false;
        NEED_RESCHED.store(false, Ordering::Relaxed);
        s.slice_left = TIME_SLICE_TICKS;
        // The next runnable task; with none, halt until an interrupt (a timer deadline, the
        // console) makes one runnable. The current task may be the one that wakes.
        let next = loop {
            let s = guard.as_mut().expect("initialised");
            let mut after = s.tasks.range(cur + 1..).chain(s.tasks.range(..=cur));
            if let Some((n, _)) = after.find(|(_, t)| t.state == State::Runnable) {
                break *n;
            }
            drop(guard);
            cpu::wait_for_interrupt();
            cpu::disable_interrupts();
            guard = SCHED.lock();
        };
        let s = guard.as_mut().expect("initialised");
        if next == cur {
            s.tasks.get_mut(&cur).expect("exists").state = State::Running;
            return;
        }
        if new_state == State::Dead {
            let stack = s.tasks.remove(&cur).expect("exists").stack;
            if !stack.is_empty() {
                s.dead_stacks.push(stack);
            }
        }
        s.current = next;
        let to = s.tasks.get_mut(&next).expect("runnable task exists");
        to.state = State::Running;
        let (to_rsp, to_cr3) = (to.saved_rsp, to.cr3);
        let from_rsp = match s.tasks.get_mut(&cur) {
            Some(t) => &mut t.saved_rsp as *mut u64,
            // A dead task's context is never resumed: save it anywhere.
            None => core::ptr::addr_of_mut!(DISCARDED_RSP),
        };
        drop(guard);
        if cpu::read_cr3() != to_cr3 {
            // SAFETY: every task's page table maps the libOS half like the kernel's.
            unsafe { core::arch::asm!("mov cr3, {}", in(reg) to_cr3, options(nostack)) };
        }
        // SAFETY: `from_rsp` is the current task's save slot (its map entry does not move
        // before `switch_context` writes it, as nothing else runs with interrupts off);
        // `to_rsp` was saved by `switch_context` or built by `prepare_stack`; no lock is
        // held across the switch.
        unsafe { switch::switch_context(from_rsp, to_rsp) };
        free_dead_stacks();
    });
}

/// Where a dying task's last context goes.
static mut DISCARDED_RSP: u64 = 0;

fn free_dead_stacks() {
    let stacks: Vec<Range<u64>> = with(|s| core::mem::take(&mut s.dead_stacks));
    for stack in stacks {
        crate::mm::with(|m| m.free_kernel_stack(stack));
    }
}
