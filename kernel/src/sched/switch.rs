//! Switching kernel stacks between tasks.

use core::arch::global_asm;

global_asm!(
    ".section .text.sched, \"ax\"",
    ".global sched_switch_context",
    "sched_switch_context:", // (from: *mut u64 [rdi], to: u64 [rsi])
    "push rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "mov [rdi], rsp",
    "mov rsp, rsi",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    ".global sched_task_start",
    "sched_task_start:", // first return of a new task: r12 = entry, r13 = arg
    "mov rdi, r13",
    "xor ebp, ebp",
    "sti",
    "call r12",
    "ud2",
);

extern "C" {
    fn sched_switch_context(from: *mut u64, to: u64);
    fn sched_task_start();
}

/// Saves the current context at `*from` and resumes the one saved at `to`.
///
/// # Safety
/// `from` must be writable; `to` must be a context saved by this function or built by
/// `prepare_stack`, on a stack that is still mapped.
pub unsafe fn switch_context(from: *mut u64, to: u64) {
    // SAFETY: forwarded contract; the asm follows the C ABI (callee-saved registers kept).
    unsafe { sched_switch_context(from, to) }
}

/// Builds the initial context of a new task on the stack ending at `top`: the first
/// `switch_context` to it "returns" into `sched_task_start`, which calls `entry(arg)` with
/// interrupts on.
pub fn prepare_stack(top: u64, entry: extern "C" fn(usize) -> !, arg: usize) -> u64 {
    // [r15, r14, r13 = arg, r12 = entry, rbx, rbp, return address, pad]. After the six pops
    // and `ret`, rsp = base + 56, which must be 16-byte aligned before `call r12`.
    let frame: [u64; 8] = [
        0,
        0,
        arg as u64,
        entry as usize as u64,
        0,
        0,
        sched_task_start as *const () as u64,
        0,
    ];
    let rsp = ((top - 72) & !15) + 8;
    for (i, word) in frame.iter().enumerate() {
        // SAFETY: the stack was just mapped for this task and is not in use; `rsp` and the
        // 8 words above it lie inside it.
        unsafe { core::ptr::write((rsp + i as u64 * 8) as *mut u64, *word) };
    }
    rsp
}
