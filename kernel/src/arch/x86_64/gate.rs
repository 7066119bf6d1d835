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
//!   in assembly, the clocks in Rust on the thread's gate stack; then writes the
//!   application PKRU back (checked too) and returns. Every other call goes to ring 0
//!   through the privilege gate: the gate's own `syscall` with the libOS rights held,
//!   which `forwarded_call` accepts from nowhere else. ECX and EDX are 0 at every WRPKRU.
//! * The `call` writes its return address below the stack pointer, into the 128-byte red
//!   zone that leaf functions may use: gate mode is therefore opt-in
//!   (`isounik run --syscall-entry=gate`); see docs/gate.md.

use alloc::boxed::Box;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use isounik_abi::gate::{PRIV_FORWARD, SLOW, TABLE_LEN};
use isounik_abi::pkey::{APP_PKRU, LIBOS_PKRU};
use isounik_linux::errno::Errno;

use super::uaccess;

/// Whether programs run with gate entry (`syscall_entry=gate`).
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns gate entry on. Under `strace`, every call takes the trap path so that each is
/// traced; otherwise the calls the gate can answer in ring 3 get their handlers.
pub fn enable(trace: bool) {
    let slow = gate_slow as *const () as u64;
    for entry in GATE_TABLE.iter() {
        entry.store(slow, Ordering::Relaxed);
    }
    if !trace {
        let asm = |nr: u64, handler: unsafe extern "C" fn()| {
            GATE_TABLE[nr as usize].store(handler as usize as u64, Ordering::Relaxed)
        };
        asm(NR_GETPID, gate_getpid);
        asm(NR_GETPPID, gate_getppid);
        asm(NR_GETTID, gate_gettid);
        for nr in [NR_GETUID, NR_GETGID, NR_GETEUID, NR_GETEGID] {
            asm(nr, gate_zero);
        }
        let rust = |nr: u64, handler: RustHandler| {
            GATE_RUST[nr as usize].store(handler as usize as u64, Ordering::Relaxed);
            asm(nr, gate_rust);
        };
        rust(NR_CLOCK_GETTIME, clock_gettime);
        rust(NR_GETTIMEOFDAY, gettimeofday);
        rust(NR_TIME, time);
    }
    ENABLED.store(true, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// What the gate answers without ring 0: the running thread's ids and its gate stack,
/// published before each return to ring 3 (libOS data: only readable after the gate's
/// WRPKRU).
#[no_mangle]
static GATE_PID: AtomicU64 = AtomicU64::new(0);
#[no_mangle]
static GATE_TID: AtomicU64 = AtomicU64::new(0);
#[no_mangle]
static GATE_PPID: AtomicU64 = AtomicU64::new(0);
/// Top of the running thread's gate stack (0: none).
#[no_mangle]
static GATE_STACK: AtomicU64 = AtomicU64::new(0);

pub fn publish(pid: u32, tid: u32, ppid: u32, stack: &GateStack) {
    GATE_PID.store(pid as u64, Ordering::Relaxed);
    GATE_TID.store(tid as u64, Ordering::Relaxed);
    GATE_PPID.store(ppid as u64, Ordering::Relaxed);
    GATE_STACK.store(stack.top(), Ordering::Relaxed);
}

/// A thread's stack for the gate's handlers written in Rust: libOS memory (the heap is
/// K_LIBOS), so neither the application nor its other threads can touch it, and found
/// through `GATE_STACK`, never through an application register.
/// Not zeroed: only the gate's own pushes and calls ever read it.
#[repr(C, align(16))]
pub struct GateStack(MaybeUninit<[u8; GATE_STACK_SIZE]>);

const GATE_STACK_SIZE: usize = 8192;

impl GateStack {
    pub fn new() -> Box<GateStack> {
        Box::new(GateStack(MaybeUninit::uninit()))
    }

    fn top(&self) -> u64 {
        self.0.as_ptr() as u64 + GATE_STACK_SIZE as u64
    }
}

const NR_GETPID: u64 = 39;
const NR_GETTIMEOFDAY: u64 = 96;
const NR_GETUID: u64 = 102;
const NR_GETGID: u64 = 104;
const NR_GETEUID: u64 = 107;
const NR_GETEGID: u64 = 108;
const NR_GETPPID: u64 = 110;
const NR_GETTID: u64 = 186;
const NR_TIME: u64 = 201;
const NR_CLOCK_GETTIME: u64 = 228;

/// Where the gate goes for each number, with libOS rights: a handler in assembly (the ids),
/// `gate_rust` (a Rust handler from `GATE_RUST`, on the gate stack), or `gate_slow` (back
/// to the application's rights and the trap path). Filled by `enable`.
#[no_mangle]
static GATE_TABLE: [AtomicU64; TABLE_LEN] = [const { AtomicU64::new(0) }; TABLE_LEN];
#[no_mangle]
static GATE_RUST: [AtomicU64; TABLE_LEN] = [const { AtomicU64::new(0) }; TABLE_LEN];

/// A system call answered in ring 3 with libOS rights: the first four arguments in, the
/// Linux result (or `-errno`) out, or `SLOW` to take the trap path instead.
type RustHandler = extern "C" fn(u64, u64, u64, u64) -> i64;

extern "C" {
    fn gate_slow();
    fn gate_rust();
    fn gate_getpid();
    fn gate_getppid();
    fn gate_gettid();
    fn gate_zero();
}

core::arch::global_asm!(
    include_str!("gate.s"),
    libos = const LIBOS_PKRU,
    app = const APP_PKRU,
    table_len = const TABLE_LEN,
    slow = const SLOW,
    priv_forward = const PRIV_FORWARD,
);

extern "C" {
    static gate_entry: u8;
    static gate_priv_return: u8;
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

// ---- Handlers in Rust (ring 3, libOS rights, the gate stack) ----
//
// They run the same code as the trap path's (`time`, `uaccess`) and write the caller's
// memory only through `uaccess::copy_to_user`, which refuses anything outside the
// application half (libOS memory can never be a target) and whose faults the kernel turns
// into a return of -EFAULT, as in ring 0.

fn put(addr: u64, bytes: &[u8]) -> i64 {
    match uaccess::copy_to_user(addr, bytes) {
        Ok(()) => 0,
        Err(_) => -(Errno::EFAULT as i64),
    }
}

extern "C" fn clock_gettime(clock: u64, ts: u64, _: u64, _: u64) -> i64 {
    match crate::syscall::clock_now(clock as u32) {
        Some(ns) => put(ts, &crate::syscall::timespec_bytes(ns)),
        None => SLOW,
    }
}

extern "C" fn gettimeofday(tv: u64, tz: u64, _: u64, _: u64) -> i64 {
    if tv != 0 {
        let r = put(
            tv,
            &crate::syscall::timeval_bytes(crate::time::realtime_ns()),
        );
        if r != 0 {
            return r;
        }
    }
    if tz != 0 {
        return put(tz, &[0u8; 8]); // struct timezone: UTC
    }
    0
}

extern "C" fn time(tloc: u64, _: u64, _: u64, _: u64) -> i64 {
    let secs = crate::time::realtime_ns() / 1_000_000_000;
    if tloc != 0 {
        let r = put(tloc, &secs.to_le_bytes());
        if r != 0 {
            return r;
        }
    }
    secs as i64
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

/// The privilege gate (ARCHITECTURE.md §3): a `syscall` with `rax = PRIV_FORWARD` is a
/// request of the gate's ring-3 code, accepted only from the gate's own `syscall`
/// instruction made with the libOS PKRU, a state ring 3 reaches only through the gate's
/// checked WRPKRU. The request asks ring 0 to run system call `rdx` for the application:
/// the thread's registers become the application's own at its call site (`rdx` and the
/// return address popped from its stack, where the gate pushed them) with the application
/// PKRU, as if the site had trapped, and the caller dispatches the call from there: its
/// result, signals, restarts (`rip - 2` is the site's `call *%rax`), fork's child and
/// `--strace` all see the application, never the gate. From anywhere else: EPERM.
pub fn forwarded_call(t: &mut crate::proc::Thread) -> Result<(), isounik_linux::errno::Errno> {
    let from_gate = (&raw const gate_priv_return) as u64;
    if t.ctx.pkru != LIBOS_PKRU || t.ctx.regs.rip != from_gate {
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
    regs.rax = regs.rdx;
    regs.rdx = u64::from_le_bytes(saved[..8].try_into().expect("8 bytes"));
    regs.rip = u64::from_le_bytes(saved[8..].try_into().expect("8 bytes"));
    regs.rsp += 16;
    t.ctx.pkru = t.ctx.app_pkru;
    Ok(())
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
