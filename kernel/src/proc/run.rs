//! The loop each thread runs on its own task: ring 3 until it stops, then the system call,
//! the page fault or the interrupt; signals are delivered before every return to ring 3.
//! Then the thread's end: zombie, reparenting, SIGCHLD, and the VM's end with PID 1.

use alloc::boxed::Box;
use alloc::string::String;
use core::fmt::Write;

use isounik_abi::log::{MARK, SIGNAL};

use super::{signal, ExitStatus, Pid, Thread};
use crate::arch::x86_64::user::UserExit;
use crate::arch::x86_64::{gate, trap, uaccess};
use crate::mm::vm::{Access, FaultError};
use crate::{irq, sched, syscall};

const SIGILL: u8 = 4;
const SIGKILL: u8 = 9;
const SIGTRAP: u8 = 5;
const SIGBUS: u8 = 7;
const SIGFPE: u8 = 8;
const SIGSEGV: u8 = 11;

/// Entry of a thread's task: `arg` is a `Box<Thread>` given up by `proc::start`.
pub extern "C" fn thread_entry(arg: usize) -> ! {
    // SAFETY: `start` passes exactly one `Box::into_raw` pointer per task.
    let mut t = unsafe { Box::from_raw(arg as *mut Thread) };
    run(&mut t);
    finish(t);
    sched::exit_current()
}

fn run(t: &mut Thread) {
    let gate_stack =
        gate::enabled().then(|| gate::GateStack::in_kernel_stack(sched::current_stack()));
    // Interrupted inside the gate (libOS rights in ring 3, maybe holding a lock of this
    // process): no signal and no switch to another task until it has left, so nothing else
    // wants that lock meanwhile (the rules in `syscall::Caller`).
    let mut in_gate = false;
    loop {
        if !in_gate {
            signal::deliver(t);
        }
        if t.exit.is_some() {
            return;
        }
        {
            let mm = t.mm();
            if !mm.is_active() {
                mm.activate();
            }
        }
        if let Some(stack) = &gate_stack {
            gate::publish(t, stack);
        }
        let exit = t.ctx.execute();
        // Before anything may schedule: the work the gate's ring-3 code deferred.
        gate::run_deferred();
        match exit {
            UserExit::Syscall => syscall::dispatch(t),
            UserExit::Interrupt(vector) => irq::dispatch(vector),
            UserExit::Exception { vector, error, cr2 } => handle_exception(t, vector, error, cr2),
        }
        in_gate = t.ctx.pkru != t.ctx.app_pkru;
        if !in_gate {
            crate::drivers::tty::dispatch_signal();
            if sched::need_resched() {
                sched::yield_now();
            }
        }
    }
}

/// Gate mode: a rewritten site (`call *%rax`) called with a number past the trampoline
/// page (4096 and above) faults at once, at the landing address (a page fault that paging
/// could not resolve, as a `call *%rax` of a function not yet paged in is the same fault).
/// That is a system call all the same: it is completed through the ordinary dispatch
/// (ENOSYS for such numbers, under `--strace` too), as the trap would.
fn complete_stray_gate_call(t: &mut Thread, vector: u8, error: u64, cr2: u64) -> bool {
    const INSTRUCTION_FETCH: u64 = 1 << 4;
    let regs = &t.ctx.regs;
    let landed_here = vector as u64 == trap::PAGE_FAULT
        && error & INSTRUCTION_FETCH != 0
        && cr2 == regs.rip
        && regs.rip == regs.rax;
    if !landed_here || regs.rax < 4096 {
        return false;
    }
    let (rsp, mut ret) = (regs.rsp, [0u8; 8]);
    let mut site = [0u8; 2];
    {
        let mut mm = t.mm.lock();
        if mm.read(rsp, &mut ret).is_err() {
            return false;
        }
        let ret = u64::from_le_bytes(ret);
        if ret < 4096 + 2 || mm.read(ret - 2, &mut site).is_err() {
            return false;
        }
    }
    if site != [0xff, 0xd0] {
        return false;
    }
    t.ctx.regs.rip = u64::from_le_bytes(ret);
    t.ctx.regs.rsp = rsp + 8;
    syscall::dispatch(t);
    true
}

fn handle_exception(t: &mut Thread, vector: u8, error: u64, cr2: u64) {
    let rip = t.ctx.regs.rip;
    let mut reason = String::new();
    let (sig, code, addr) = match vector as u64 {
        trap::PAGE_FAULT => {
            let access = Access::from_error_code(error);
            let pku = error & 0x20 != 0;
            // A protection-key violation is never resolved by paging, nor a gate handler's
            // copy made with paging off (it may hold locks that paging needs).
            let no_paging =
                !uaccess::paging_allowed() && gate::uaccess_fixup(rip, t.ctx.pkru).is_some();
            let result = if pku || no_paging {
                Err(FaultError::Denied)
            } else {
                t.mm().handle_fault(cr2, access)
            };
            // A gate handler's copy to the caller's memory: the copy fails (EFAULT) instead.
            if let (Err(_), Some(fixup)) = (&result, gate::uaccess_fixup(rip, t.ctx.pkru)) {
                t.ctx.regs.rip = fixup;
                return;
            }
            match result {
                Ok(()) => return,
                // Another process is killed to free memory; the instruction runs again.
                Err(FaultError::NoMemory) if super::oom::reclaim(t) => return,
                Err(FaultError::NoMemory) => {
                    // This process holds the most memory: it is the one killed, with
                    // SIGKILL as by Linux's OOM killer (a SIGSEGV handler could only retry).
                    let reason = alloc::format!(
                        "out of memory: no page for {cr2:#x} (rip {rip:#x}) and no larger \
                         process to kill"
                    );
                    kill_by_signal(t.pid, SIGKILL, &reason);
                    signal::group_exit(t, super::ExitStatus::Signaled(SIGKILL));
                    return;
                }
                Err(_) if gate::enabled() && complete_stray_gate_call(t, vector, error, cr2) => {
                    return
                }
                Err(FaultError::BeyondFile) => {
                    let _ = write!(
                        reason,
                        "bus error at {cr2:#x}: past the end of a shared file mapping's file"
                    );
                    (SIGBUS, signal::BUS_ADRERR, cr2)
                }
                Err(e) => {
                    let _ = write!(reason, "segmentation fault at {cr2:#x} (");
                    let _ = trap::describe_page_fault(error, &mut reason);
                    let _ = write!(
                        reason,
                        "; {})",
                        match e {
                            FaultError::NotMapped => "no mapping there",
                            FaultError::Denied if pku => "protection key denies it",
                            FaultError::Denied => "the mapping does not allow it",
                            FaultError::NoMemory => "out of memory",
                            FaultError::BeyondFile => "past the end of the file",
                        }
                    );
                    let code = match e {
                        // The gate's trampoline at address 0 is not the program's memory:
                        // a NULL access there reads as "nothing mapped", as on Linux.
                        _ if pku && cr2 < 4096 && gate::enabled() => signal::SEGV_MAPERR,
                        _ if pku => signal::SEGV_PKUERR,
                        FaultError::NotMapped => signal::SEGV_MAPERR,
                        _ => signal::SEGV_ACCERR,
                    };
                    (SIGSEGV, code, cr2)
                }
            }
        }
        0 => {
            reason.push_str("divide error");
            (SIGFPE, signal::FPE_INTDIV, rip)
        }
        16 | 19 => {
            reason.push_str("floating-point exception");
            (SIGFPE, signal::FPE_FLTINV, rip)
        }
        1 | 3 => {
            reason.push_str("trace/breakpoint trap");
            (SIGTRAP, signal::TRAP_BRKPT, rip)
        }
        6 => {
            reason.push_str("illegal instruction");
            (SIGILL, signal::ILL_ILLOPN, rip)
        }
        17 => {
            reason.push_str("alignment check");
            (SIGBUS, signal::BUS_ADRALN, rip)
        }
        12 => {
            reason.push_str("stack segment fault");
            (SIGBUS, signal::SI_KERNEL, 0)
        }
        _ => {
            let _ = write!(
                reason,
                "general protection fault ({})",
                trap::exception_name(vector as u64)
            );
            (SIGSEGV, signal::SI_KERNEL, 0)
        }
    };
    let _ = write!(reason, ", rip {rip:#x}");
    signal::force_fault_signal(t, sig, code, addr, &reason);
}

/// Reports a process killed by `sig` (on the log, for isounik to show).
pub fn kill_by_signal(pid: Pid, sig: u8, reason: &str) {
    kprintln!("{MARK}{SIGNAL} {pid} {sig} {reason}");
}

/// The end of a thread: release what it holds; if it was the last thread of its process,
/// the process becomes a zombie for its parent (or ends the VM if it is PID 1).
fn finish(t: Box<Thread>) {
    let status = t.exit.unwrap_or(ExitStatus::Exited(0));
    // CLONE_CHILD_CLEARTID: clear the tid word and wake a joiner.
    let addr = t
        .shared
        .clear_child_tid
        .load(core::sync::atomic::Ordering::Relaxed);
    if addr != 0 && t.mm().write(addr, &0u32.to_le_bytes()).is_ok() {
        crate::syscall::futex_wake_address(&t, addr, 1);
    }
    super::remove_thread(t.tid);
    let last = {
        let mut inner = t.inner();
        inner.threads.retain(|x| *x != t.tid);
        inner.threads.is_empty()
    };
    if !last {
        return;
    }
    let status = t.inner().group_exit.unwrap_or(status);
    // Drop memory and descriptors now (pipes see their ends close; frames return).
    crate::mm::activate_kernel_table();
    let pid = t.pid;
    let process = t.process.clone();
    super::release_vfork_parent(&process);
    drop(t);
    super::wait::become_zombie(&process, status);
    if pid == 1 {
        crate::shutdown(status.shell_status());
    }
}
