//! The MPK call gate (ARCHITECTURE.md §3): system calls entered with a `call` into libOS
//! code in ring 3, switching rights with WRPKRU instead of a ring transition.
//!
//! * A `syscall` site of a program is rewritten lazily, at its first trap, into `call *%rax`
//!   (`ff d0`, the same two bytes). The call lands in the trampoline page mapped at virtual
//!   address 0 (zpoline-style): a sled of `nop`s, one per system call number, ending in a
//!   jump to `gate_entry`. That page is execute-only: its key (`K_TRAMPOLINE`) is denied to
//!   data accesses by every application PKRU (fetches are never key-checked), so NULL reads
//!   and writes still fault.
//! * `gate_entry` writes the libOS PKRU with a constant and checks it (a jump into the
//!   middle cannot keep other rights), handles the calls it can answer from libOS memory
//!   without ring 0, writes the application PKRU back (checked too) and returns. Every
//!   other call leaves the gate with the application's rights and takes the trap path
//!   through a `syscall` instruction of the gate: that is the privilege gate, and ring 0 sees
//!   an ordinary system call. ECX and EDX are 0 at every WRPKRU.
//! * The `call` writes its return address below the stack pointer, into the 128-byte red
//!   zone that leaf functions may use: gate mode is therefore opt-in
//!   (`isounik run --syscall-entry=gate`); see docs/gate.md.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use isounik_abi::pkey::{APP_PKRU, LIBOS_PKRU};

/// Whether programs run with gate entry (`syscall_entry=gate`).
static ENABLED: AtomicBool = AtomicBool::new(false);

pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// What the gate answers without ring 0: the running thread's ids, published before each
/// return to ring 3 (libOS data: only readable after the gate's WRPKRU).
#[no_mangle]
static GATE_PID: AtomicU64 = AtomicU64::new(0);
#[no_mangle]
static GATE_TID: AtomicU64 = AtomicU64::new(0);
#[no_mangle]
static GATE_PPID: AtomicU64 = AtomicU64::new(0);

pub fn publish(pid: u32, tid: u32, ppid: u32) {
    GATE_PID.store(pid as u64, Ordering::Relaxed);
    GATE_TID.store(tid as u64, Ordering::Relaxed);
    GATE_PPID.store(ppid as u64, Ordering::Relaxed);
}

/// System call numbers the gate answers itself.
const NR_GETPID: u64 = 39;
const NR_GETPPID: u64 = 110;
const NR_GETTID: u64 = 186;

core::arch::global_asm!(
    ".section .text.gate, \"ax\"",
    ".balign 64",
    ".global gate_start",
    "gate_start:",
    ".global gate_entry",
    "gate_entry:",
    // [rsp] = return address pushed by `call *%rax`; rax = number; rdx = argument 3.
    "push rdx",
    "push rax",
    "2:",
    "xor ecx, ecx",
    "xor edx, edx",
    "mov eax, {libos}",
    "wrpkru",
    "cmp eax, {libos}",
    "jne 2b",
    // libOS rights now. Only a rewritten site may come in: the return address must be an
    // application address right after `call *%rax` (ff d0). A jump or call to address 0 (or
    // into the sled) from anywhere else faults as a NULL access would.
    "mov r11, [rsp + 16]",
    "mov rcx, {user_end}",
    "cmp r11, rcx",
    "jae 9f",
    "cmp word ptr [r11 - 2], 0xd0ff",
    "jne 9f",
    // rax and rdx come back from our own pushes.
    "mov rax, [rsp]",
    "cmp rax, {getppid}",
    "je 5f",
    "cmp rax, {getpid}",
    "je 6f",
    "cmp rax, {gettid}",
    "je 7f",
    // Anything else: back to the application's rights, then the trap path.
    "3:",
    "xor ecx, ecx",
    "xor edx, edx",
    "mov eax, {app}",
    "wrpkru",
    "cmp eax, {app}",
    "jne 3b",
    "pop rax",
    "pop rdx",
    "syscall",
    "ret",
    "5:",
    "mov r11, [rip + GATE_PPID]",
    "jmp 8f",
    "6:",
    "mov r11, [rip + GATE_PID]",
    "jmp 8f",
    "7:",
    "mov r11, [rip + GATE_TID]",
    "8:",
    "xor ecx, ecx",
    "xor edx, edx",
    "mov eax, {app}",
    "wrpkru",
    "cmp eax, {app}",
    "jne 8b",
    "mov rax, r11",
    "add rsp, 8",
    "pop rdx",
    "ret",
    "9:",
    "xor ecx, ecx",
    "xor edx, edx",
    "mov eax, {app}",
    "wrpkru",
    "cmp eax, {app}",
    "jne 9b",
    "mov rax, qword ptr [0]",
    "ud2",
    ".global gate_end",
    "gate_end:",
    ".text",
    libos = const LIBOS_PKRU,
    app = const APP_PKRU,
    getppid = const NR_GETPPID,
    getpid = const NR_GETPID,
    gettid = const NR_GETTID,
    user_end = const isounik_abi::layout::USER_END,
);

extern "C" {
    static gate_start: u8;
    static gate_end: u8;
    static gate_entry: u8;
}

/// Whether `rip` lies inside the gate's code.
pub fn in_gate(rip: u64) -> bool {
    let start = (&raw const gate_start) as u64;
    let end = (&raw const gate_end) as u64;
    (start..end).contains(&rip)
}

/// The trampoline page's contents. `call *%rax` lands at the address equal to the system
/// call number, so the page is a sled that every entry point slides down to a jump to
/// `gate_entry`. The sled is made of `a9` bytes: from any offset they decode as
/// `test eax, 0xa9a9a9a9` (5 bytes, only the flags change), five times fewer instructions
/// than a `nop` sled; four `nop`s after it realign every phase. Numbers below 480 (all of
/// Linux's) use a first sled ending at 480; numbers from 512 up (unknown ones, which must
/// still reach ENOSYS) a second one at the end of the page. 480..512 holds the first jump
/// and `int3`s.
pub fn trampoline_page() -> [u8; 4096] {
    let target = (&raw const gate_entry) as u64;
    let mut jump = [0u8; 13];
    jump[0] = 0x49; // movabs r11, imm64
    jump[1] = 0xbb;
    jump[2..10].copy_from_slice(&target.to_le_bytes());
    jump[10] = 0x41; // jmp r11
    jump[11] = 0xff;
    jump[12] = 0xe3;
    let mut page = [0xccu8; 4096]; // int3 outside the sleds and jumps
    let mut sled = |start: usize, end: usize| {
        page[start..end].fill(0xa9);
        page[end..end + 4].fill(0x90);
        page[end + 4..end + 4 + jump.len()].copy_from_slice(&jump);
    };
    sled(0, 480);
    sled(512, 4096 - 4 - 13);
    page
}

/// The PKRU a thread resumes with after an interruption at `rip`: inside the gate with the
/// libOS rights it legitimately took, those; otherwise the application's. Nothing else is
/// ever taken from the interrupted state.
pub fn resume_pkru(rip: u64, interrupted_pkru: u32, app_pkru: u32) -> u32 {
    if in_gate(rip) && interrupted_pkru == LIBOS_PKRU {
        LIBOS_PKRU
    } else {
        app_pkru
    }
}
