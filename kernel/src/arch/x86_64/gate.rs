//! The MPK call gate (ARCHITECTURE.md §3): system calls entered with a `call` into libOS
//! code in ring 3, switching rights with WRPKRU instead of a ring transition.
//!
//! * A `syscall` site of a program is rewritten lazily, at its first trap, into `call *%rax`
//!   (`ff d0`, the same two bytes). The call lands in the trampoline page mapped at virtual
//!   address 0 (zpoline-style), whose `jmp rel8` hops lead every entry to a jump to
//!   `gate_entry`. That page is execute-only: its key (`K_TRAMPOLINE`) is denied to
//!   data accesses by every application PKRU (fetches are never key-checked), so NULL reads
//!   and writes still fault.
//! * `gate_entry` (`gate.s`) writes the libOS PKRU with a constant and checks it (a jump
//!   into the middle cannot keep other rights), dispatches through `GATE_TABLE`: the ids
//!   in assembly, and every call the kernel's system call table marks `Gate` through that
//!   same table (`gate_dispatch`, in Rust on the thread's gate stack); then writes the
//!   application PKRU back (checked too) and returns. Every other call, and any a handler
//!   finds needs ring 0, goes there through the privilege gate: the gate's own `syscall`
//!   with the libOS rights held, which `forwarded_call` accepts from nowhere else. ECX and
//!   EDX are 0 at every WRPKRU.
//! * The `call` writes its return address below the stack pointer, into the 128-byte red
//!   zone that leaf functions may use: gate mode is therefore opt-in
//!   (`isounik run --syscall-entry=gate`); see docs/gate.md.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

use isounik_abi::gate::{
    PRIV_BLOCK, PRIV_CRASH, PRIV_FILE_PAGE, PRIV_FINISH, PRIV_FLUSH, PRIV_FORWARD, PRIV_GROW_HEAP,
    PRIV_YIELD, SLOW, TABLE_LEN,
};
use isounik_abi::pkey::{APP_PKRU, LIBOS_PKRU};
use isounik_linux::errno::Errno;

use super::uaccess;
use crate::fs::FdTable;
use crate::proc::{FsContext, Process, SigHandlers, Thread, ThreadShared};
use crate::syscall::Caller;

/// Whether programs run with gate entry (`syscall_entry=gate`).
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns gate entry on. Under `strace`, every call takes the trap path so that each is
/// traced; otherwise the calls the system call table marks as runnable behind the gate go to
/// `gate_dispatch`, and the ids to their handlers in assembly.
pub fn enable(trace: bool) {
    let slow = gate_slow as *const () as u64;
    for entry in GATE_TABLE.iter() {
        entry.store(slow, Ordering::Relaxed);
    }
    if !trace {
        let asm = |nr: u64, handler: unsafe extern "C" fn()| {
            if let Some(entry) = GATE_TABLE.get(nr as usize) {
                entry.store(handler as usize as u64, Ordering::Relaxed)
            }
        };
        for nr in crate::syscall::gate_numbers() {
            asm(nr, gate_rust);
        }
        asm(NR_GETPID, gate_getpid);
        asm(NR_GETPPID, gate_getppid);
        asm(NR_GETTID, gate_gettid);
        for nr in [NR_GETUID, NR_GETGID, NR_GETEUID, NR_GETEGID] {
            asm(nr, gate_zero);
        }
    }
    ENABLED.store(true, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// What the gate answers without ring 0: the running thread's ids, its gate stack and the
/// parts of it that `gate_dispatch` hands to the system call table as a `Caller`, published
/// before each return to ring 3 (libOS data: only readable after the gate's WRPKRU).
#[no_mangle]
static GATE_PID: AtomicU64 = AtomicU64::new(0);
#[no_mangle]
static GATE_TID: AtomicU64 = AtomicU64::new(0);
#[no_mangle]
static GATE_PPID: AtomicU64 = AtomicU64::new(0);
/// Top of the running thread's gate stack (0: none).
#[no_mangle]
static GATE_STACK: AtomicU64 = AtomicU64::new(0);
static GATE_PROCESS: AtomicPtr<Process> = AtomicPtr::new(core::ptr::null_mut());
static GATE_THREAD: AtomicPtr<ThreadShared> = AtomicPtr::new(core::ptr::null_mut());
static GATE_SIGHAND: AtomicPtr<spin::Mutex<SigHandlers>> = AtomicPtr::new(core::ptr::null_mut());
static GATE_FS: AtomicPtr<spin::Mutex<FsContext>> = AtomicPtr::new(core::ptr::null_mut());
static GATE_FILES: AtomicPtr<spin::Mutex<FdTable>> = AtomicPtr::new(core::ptr::null_mut());
static GATE_MM: AtomicU64 = AtomicU64::new(0);

/// Publishes the thread about to run in ring 3 (one CPU: one such thread at a time).
pub fn publish(t: &Thread, stack: &GateStack) {
    GATE_PID.store(t.pid as u64, Ordering::Relaxed);
    GATE_TID.store(t.tid as u64, Ordering::Relaxed);
    // Held only by this thread's own gate handler, interrupted: then nothing has run
    // since this thread's last publication (no switch while a handler holds a lock).
    if let Some(inner) = t.process.inner.try_lock() {
        GATE_PPID.store(inner.ppid as u64, Ordering::Relaxed);
    }
    GATE_STACK.store(stack.top(), Ordering::Relaxed);
    GATE_PROCESS.store(Arc::as_ptr(&t.process).cast_mut(), Ordering::Relaxed);
    GATE_THREAD.store(Arc::as_ptr(&t.shared).cast_mut(), Ordering::Relaxed);
    GATE_SIGHAND.store(Arc::as_ptr(&t.sighand).cast_mut(), Ordering::Relaxed);
    GATE_FS.store(Arc::as_ptr(&t.fs).cast_mut(), Ordering::Relaxed);
    GATE_FILES.store(Arc::as_ptr(&t.files).cast_mut(), Ordering::Relaxed);
    GATE_MM.store(Arc::as_ptr(&t.mm) as u64, Ordering::Relaxed);
}

/// A thread's stack for the gate's handlers written in Rust: the lowest `GATE_STACK_SIZE`
/// bytes of the thread's own kernel stack, right above that stack's guard page. That is
/// libOS memory (K_LIBOS), so neither the application nor its other threads can touch it;
/// it is found through `GATE_STACK`, never through an application register; a handler
/// that overflows it faults on the guard page (its program gets SIGSEGV, nothing else is
/// touched). Ring 0 uses the kernel stack from its top, and while the thread is inside
/// the gate only for the shallow work of an interrupt, a fault or a service, so the two
/// never meet; outside the gate the area is free for ring 0.
pub struct GateStack {
    top: u64,
}

const GATE_STACK_SIZE: u64 = 16 * 1024;

impl GateStack {
    /// The gate stack in the kernel stack `kernel_stack` (the current task's).
    pub fn in_kernel_stack(kernel_stack: core::ops::Range<u64>) -> GateStack {
        // Every thread runs on a task of its own (`sched::spawn`), never the boot stack.
        if kernel_stack.end - kernel_stack.start < 4 * GATE_STACK_SIZE {
            crate::crash::fatal(format_args!("no kernel stack for a gate stack"));
        }
        GateStack {
            top: kernel_stack.start + GATE_STACK_SIZE,
        }
    }

    fn top(&self) -> u64 {
        self.top
    }
}

const NR_GETPID: u64 = 39;
const NR_GETUID: u64 = 102;
const NR_GETGID: u64 = 104;
const NR_GETEUID: u64 = 107;
const NR_GETEGID: u64 = 108;
const NR_GETPPID: u64 = 110;
const NR_GETTID: u64 = 186;

/// Where the gate goes for each number, with libOS rights: a handler in assembly (the ids),
/// `gate_rust` (`gate_dispatch`, on the gate stack), or `gate_slow` (ring 0, through the
/// privilege gate). Filled by `enable`.
#[no_mangle]
static GATE_TABLE: [AtomicU64; TABLE_LEN] = [const { AtomicU64::new(0) }; TABLE_LEN];

extern "C" {
    fn gate_slow();
    fn gate_rust();
    fn gate_getpid();
    fn gate_getppid();
    fn gate_gettid();
    fn gate_zero();
    fn gate_service(request: u64, argument: u64) -> u64;
}

core::arch::global_asm!(
    include_str!("gate.s"),
    libos = const LIBOS_PKRU,
    app = const APP_PKRU,
    table_len = const TABLE_LEN,
    slow = const SLOW,
    priv_forward = const PRIV_FORWARD,
    priv_finish = const PRIV_FINISH,
);

extern "C" {
    static gate_entry: u8;
    static gate_priv_return: u8;
    static gate_priv_finish_return: u8;
    static gate_service_return: u8;
    static __text_start: u8;
    static __text_end: u8;
}

/// Whether `rip` lies in the libOS code that ring 3 can run (the gate and the Rust
/// handlers it calls, with what they call).
fn in_libos_text(rip: u64) -> bool {
    let start = (&raw const __text_start) as u64;
    let end = (&raw const __text_end) as u64;
    (start..end).contains(&rip)
}

/// What `gate_dispatch` returns (in rax and rdx).
#[repr(C)]
struct GateResult {
    /// The call's result, or `SLOW`: ring 0 must run it.
    value: i64,
    /// Nonzero: a signal or a task switch is due; ring 0 returns `value` to the program.
    finish_in_ring0: u64,
}

/// The gate's way into the system call table (`gate_rust` calls it on the thread's gate
/// stack, in ring 3 with the libOS rights). The caller is the thread published by
/// `publish`, never anything the application passed; its pointers come from the `Arc`s of
/// the running thread, which outlives the call.
#[no_mangle]
extern "C" fn gate_dispatch(args: &[u64; 6], number: u64) -> GateResult {
    // SAFETY: `publish` stored these from the running thread's own `Arc`s before it
    // entered ring 3 (it always has in gate mode: the thread loop publishes before every
    // entry); the thread holds them until it ends, and it is the thread running this call.
    // Only shared references are made: every mutable part is behind a lock or an atomic.
    let (process, shared, sighand, fs, files) = unsafe {
        (
            &*GATE_PROCESS.load(Ordering::Relaxed),
            &*GATE_THREAD.load(Ordering::Relaxed),
            &*GATE_SIGHAND.load(Ordering::Relaxed),
            &*GATE_FS.load(Ordering::Relaxed),
            &*GATE_FILES.load(Ordering::Relaxed),
        )
    };
    let caller = Caller::in_gate(
        GATE_TID.load(Ordering::Relaxed) as u32,
        process,
        shared,
        sighand,
        fs,
        files,
        GATE_MM.load(Ordering::Relaxed),
    );
    let events = crate::proc::signal::events();
    let blocked = shared.blocked.load(Ordering::Relaxed);
    let Some(value) = crate::syscall::gate_call(number, &caller, crate::syscall::Args(*args))
    else {
        return GateResult {
            value: SLOW,
            finish_in_ring0: 0,
        };
    };
    // What ring 0 does before every return to a program, and the gate's own return would
    // skip: deliver a signal (sent meanwhile, or unblocked by this very call), switch tasks.
    // Ring 0 delivered what was due when the thread last left it; since then only an event
    // (a signal sent, a tick) or this call's unblocking can have made more due.
    let unblocked = blocked & !shared.blocked.load(Ordering::Relaxed) != 0;
    let interrupted = caller.was_interrupted();
    if interrupted {
        shared.interrupted_call.store(number + 1, Ordering::Relaxed);
    }
    let due = interrupted
        || crate::sched::need_resched()
        || ((unblocked || crate::proc::signal::events() != events)
            && crate::proc::signal::work_pending(process, shared));
    GateResult {
        value: value as i64,
        finish_in_ring0: due as u64,
    }
}

/// The trampoline page's contents (`isounik_abi::trampoline`): `call *%rax` lands at the
/// byte whose address is the system call number, and a few `jmp rel8` hops bring every
/// Linux number to a jump to `gate_entry`.
pub fn trampoline_page() -> [u8; 4096] {
    isounik_abi::trampoline::build((&raw const gate_entry) as u64)
}

/// The PKRU a thread resumes with after an interruption at `rip`: in libOS code with the
/// libOS rights it legitimately took through the gate (ring 3 can get them no other way:
/// the gate's WRPKRU is the only one it can reach, XRSTOR cannot load PKRU, sigreturn never
/// takes it), those; otherwise the application's. Nothing else is ever taken from the
/// interrupted state.
pub fn resume_pkru(rip: u64, interrupted_pkru: u32, app_pkru: u32) -> u32 {
    if interrupted_pkru == LIBOS_PKRU && in_libos_text(rip) {
        LIBOS_PKRU
    } else {
        app_pkru
    }
}

/// The privilege gate (ARCHITECTURE.md §3): a `syscall` with `rax = PRIV_FORWARD`
/// is a request of the gate's ring-3 code, accepted only from the gate's own `syscall`
/// instruction made with the libOS PKRU, a state ring 3 reaches only through the gate's
/// checked WRPKRU. The request asks ring 0 to run system call `rdx` for the application:
/// the thread's registers become the application's own at its call site (`rdx` and the
/// return address popped from its stack, where the gate pushed them) with the application
/// PKRU, as if the site had trapped, and the caller dispatches the call from there: its
/// result, signals, restarts (`rip - 2` is the site's `call *%rax`), fork's child and
/// `--strace` all see the application, never the gate. From anywhere else: EPERM.
pub fn forwarded_call(t: &mut crate::proc::Thread) -> Result<(), Errno> {
    let number = back_to_application(t, (&raw const gate_priv_return) as u64)?;
    t.ctx.regs.rax = number;
    Ok(())
}

/// The privilege gate's `PRIV_FINISH` request: the gate ran the call in ring 3 and its
/// result is `rdx`; the thread becomes the application right after its call site with
/// that result, and ring 0 delivers signals or switches tasks before it runs on. Accepted
/// under the same conditions as `forwarded_call`, from the gate's other `syscall`.
pub fn finished_call(t: &mut crate::proc::Thread) -> Result<(), Errno> {
    let result = back_to_application(t, (&raw const gate_priv_finish_return) as u64)?;
    t.ctx.regs.rax = result;
    // Interrupted by a signal: restarted at its site (`rip - 2`) or EINTR, as a trapped call.
    let interrupted = t.shared.interrupted_call.swap(0, Ordering::Relaxed);
    if interrupted != 0 {
        t.restart = true;
        t.syscall_nr = interrupted - 1;
    }
    Ok(())
}

/// Asks ring 0, from libOS code running behind the gate (ring 3, libOS rights), for one of
/// the privilege gate's services (`PRIV_FLUSH`, `PRIV_BLOCK`, `PRIV_GROW_HEAP`,
/// `PRIV_CRASH`).
/// The callers (`sched::wake`, `sched::block`, the heap) come here only in ring 3.
pub fn service(request: u64, argument: u64) -> u64 {
    debug_assert!(super::cpu::in_ring3());
    // SAFETY: `gate_service` is a `syscall` between register moves and a `ret` (rcx and r11,
    // which `syscall` overwrites, are caller-saved); in ring 3 it enters ring 0's system call
    // path, which answers it (`serve`) and returns after it with this thread's state.
    unsafe { gate_service(request, argument) }
}

/// Ring-0 work asked by libOS code behind the gate, done at this CPU's next entry into
/// ring 0 (`run_deferred`, before anything there may schedule):
/// * wake-ups: the woken tasks could not run before that anyway (one CPU; the running
///   thread keeps it until it blocks, traps or is interrupted, and each of those enters
///   ring 0 first). A pipe's write then costs no ring transition; its reader is made
///   runnable when the writer next enters ring 0, often to block in its own read;
/// * frees of physical frames whose last reference went in ring 3 (the allocator is in
///   supervisor memory, and a file page leaves the file-data window): until then the
///   frame is only unused a little longer.
///
/// libOS data: the application cannot touch it. An entry is a tid, or a frame's physical
/// address with `DEFERRED_FRAME` set.
static DEFERRED: [AtomicU64; 16] = [const { AtomicU64::new(0) }; 16];
static DEFERRED_COUNT: AtomicU64 = AtomicU64::new(0);
const DEFERRED_FRAME: u64 = 1 << 63;

/// `sched::wake` in ring 3.
pub fn defer_wake(tid: crate::sched::Tid) {
    defer(tid as u64);
}

/// A frame whose last reference went in ring 3 (`Frame`'s drop): back to the allocator.
pub fn defer_frame_free(phys: u64) {
    defer(phys | DEFERRED_FRAME);
}

fn defer(entry: u64) {
    loop {
        // An interrupt may run the list between these steps. The entry counts only if no
        // run came in between (the compare-exchange); otherwise it is written again at the
        // new end. So each entry is done exactly once: a frame is never released twice.
        let n = DEFERRED_COUNT.load(Ordering::Relaxed) as usize;
        if let Some(slot) = DEFERRED.get(n) {
            slot.store(entry, Ordering::Relaxed);
            if DEFERRED_COUNT
                .compare_exchange(n as u64, n as u64 + 1, Ordering::Release, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
            continue;
        }
        // Full: ring 0 runs the list on the way in.
        service(PRIV_FLUSH, 0);
    }
}

/// Ring 0, right after every exit from ring 3: the work the gate's code deferred.
pub fn run_deferred() {
    let n = DEFERRED_COUNT.load(Ordering::Acquire) as usize;
    if n == 0 {
        return;
    }
    for slot in DEFERRED.iter().take(n) {
        let entry = slot.load(Ordering::Relaxed);
        if entry & DEFERRED_FRAME != 0 {
            crate::mm::frame::Frame::free_released(entry & !DEFERRED_FRAME);
        } else {
            crate::sched::wake(entry as crate::sched::Tid);
        }
    }
    DEFERRED_COUNT.store(0, Ordering::Relaxed);
}

/// Ring 0's side of `service`: the request `t` made at the gate's service `syscall` with the
/// libOS PKRU, which ring 3 reaches only through the gate's checked WRPKRU, so the request
/// and its argument come from libOS code. The thread goes back to that code with its
/// rights and the answer in `rax`. From anywhere else: EPERM, nothing done.
pub fn serve(t: &mut crate::proc::Thread, request: u64) -> Result<u64, Errno> {
    if t.ctx.pkru != LIBOS_PKRU || t.ctx.regs.rip != (&raw const gate_service_return) as u64 {
        return Err(Errno::EPERM);
    }
    let argument = t.ctx.regs.rdx;
    match request {
        // The entry into ring 0 has run the deferred work already.
        PRIV_FLUSH => Ok(0),
        PRIV_BLOCK => {
            crate::sched::block((argument != u64::MAX).then_some(argument));
            Ok(0)
        }
        PRIV_YIELD => {
            crate::sched::yield_now();
            Ok(0)
        }
        PRIV_GROW_HEAP => Ok(crate::mm::grow_heap(argument).map_or(0, |range| range.start)),
        PRIV_FILE_PAGE => crate::mm::frame::Frame::new_file_data_for_ring3(argument)
            .map(|page| page.map_or(0, crate::mm::frame::Frame::into_raw))
            .map_err(|()| Errno::EINVAL),
        PRIV_CRASH => {
            // The message is a `LineBuf` on this thread's gate stack (`crash_from_ring3`).
            let top = GATE_STACK.load(Ordering::Relaxed);
            let size = core::mem::size_of::<crate::crash::LineBuf>() as u64;
            let on_gate_stack = argument >= top.saturating_sub(GATE_STACK_SIZE)
                && argument.checked_add(size).is_some_and(|end| end <= top)
                && argument.is_multiple_of(core::mem::align_of::<crate::crash::LineBuf>() as u64);
            let message = if on_gate_stack {
                // SAFETY: a `LineBuf` the libOS code behind the gate made on the running
                // thread's gate stack (libOS memory, mapped in every address space) and
                // passed at the service `syscall`, which only that code reaches; the
                // thread waits in ring 0 while it is read.
                unsafe { &*(argument as *const crate::crash::LineBuf) }.as_str()
            } else {
                "(no readable message)"
            };
            crate::crash::fatal(format_args!("in libOS code behind the MPK gate: {message}"))
        }
        _ => Err(Errno::EINVAL),
    }
}

/// A panic or fatal error of libOS code running behind the gate: ring 3 cannot write the
/// log, so ring 0 reports it (`PRIV_CRASH`) and stops the machine, as for its own.
pub fn crash_from_ring3(message: &crate::crash::LineBuf) -> ! {
    service(PRIV_CRASH, message as *const crate::crash::LineBuf as u64);
    // Only if ring 0 refused, which it does not for the gate's own code.
    loop {
        core::hint::spin_loop();
    }
}

/// Checks a privilege-gate request made at the `syscall` before `from` and returns the
/// thread to the application (its rdx and return address popped from its stack, its own
/// PKRU); gives the request's `rdx`.
fn back_to_application(t: &mut crate::proc::Thread, from: u64) -> Result<u64, Errno> {
    if t.ctx.pkru != LIBOS_PKRU || t.ctx.regs.rip != from {
        return Err(Errno::EPERM);
    }
    let mut saved = [0u8; 16];
    // The application's stack, where the gate has just pushed (so present: a direct copy;
    // the page-table walk of `mm().read` only if that faults). A failure: the gate's `ud2`
    // after the request runs, and the fault drops the rights.
    if uaccess::copy_from_user(&mut saved, t.ctx.regs.rsp).is_err() {
        t.mm().read(t.ctx.regs.rsp, &mut saved)?;
    }
    let regs = &mut t.ctx.regs;
    let request_rdx = regs.rdx;
    regs.rdx = u64::from_le_bytes(saved[..8].try_into().expect("8 bytes"));
    regs.rip = u64::from_le_bytes(saved[8..].try_into().expect("8 bytes"));
    regs.rsp += 16;
    t.ctx.pkru = t.ctx.app_pkru;
    Ok(request_rdx)
}

/// A fault taken in ring 3 with libOS rights at a `uaccess` copy (a gate handler writing
/// the caller's memory) that paging could not resolve: where to resume so that the copy
/// reports the failure (-EFAULT), as it would in ring 0.
pub fn uaccess_fixup(rip: u64, pkru: u32) -> Option<u64> {
    if pkru != LIBOS_PKRU || !in_libos_text(rip) {
        return None;
    }
    super::trap::fixup_for(rip)
}
