//! The loop that runs a process: ring 3 until it stops, then the system call, the page fault
//! or the interrupt, again and again until it exits.

use alloc::string::String;
use core::fmt::Write;

use isounik_abi::log::{MARK, SIGNAL};

use super::{ExitStatus, Process};
use crate::arch::x86_64::trap;
use crate::arch::x86_64::user::UserExit;
use crate::mm::vm::{Access, FaultError};
use crate::{irq, syscall};

/// Linux signal numbers used for faults.
const SIGILL: u8 = 4;
const SIGTRAP: u8 = 5;
const SIGBUS: u8 = 7;
const SIGFPE: u8 = 8;
const SIGSEGV: u8 = 11;

pub fn run(p: &mut Process) -> ExitStatus {
    p.mm.activate();
    loop {
        match p.ctx.execute() {
            UserExit::Syscall => syscall::dispatch(p),
            UserExit::Interrupt(vector) => irq::dispatch(vector),
            UserExit::Exception { vector, error, cr2 } => handle_exception(p, vector, error, cr2),
        }
        if let Some(status) = p.exit {
            return status;
        }
    }
}

fn handle_exception(p: &mut Process, vector: u8, error: u64, cr2: u64) {
    let rip = p.ctx.regs.rip;
    let mut reason = String::new();
    let signal = match vector as u64 {
        trap::PAGE_FAULT => {
            let access = Access::from_error_code(error);
            // A protection-key violation is never resolved by paging.
            let result = if error & 0x20 != 0 {
                Err(FaultError::Denied)
            } else {
                p.mm.handle_fault(cr2, access)
            };
            match result {
                Ok(()) => return,
                Err(e) => {
                    let _ = write!(reason, "segmentation fault at {cr2:#x} (");
                    let _ = trap::describe_page_fault(error, &mut reason);
                    let _ = write!(
                        reason,
                        "; {})",
                        match e {
                            FaultError::NotMapped => "no mapping there",
                            FaultError::Denied if error & 0x20 != 0 => "protection key denies it",
                            FaultError::Denied => "the mapping does not allow it",
                            FaultError::NoMemory => "out of memory",
                        }
                    );
                    SIGSEGV
                }
            }
        }
        0 => {
            reason.push_str("divide error");
            SIGFPE
        }
        16 | 19 => {
            reason.push_str("floating-point exception");
            SIGFPE
        }
        1 | 3 => {
            reason.push_str("trace/breakpoint trap");
            SIGTRAP
        }
        6 => {
            reason.push_str("illegal instruction");
            SIGILL
        }
        17 => {
            reason.push_str("alignment check");
            SIGBUS
        }
        12 => {
            reason.push_str("stack segment fault");
            SIGBUS
        }
        _ => {
            let _ = write!(
                reason,
                "general protection fault ({})",
                trap::exception_name(vector as u64)
            );
            SIGSEGV
        }
    };
    let _ = write!(reason, ", rip {rip:#x}");
    kill_by_signal(p, signal, &reason);
}

/// Ends the process with a signal's default action, reporting why.
pub fn kill_by_signal(p: &mut Process, signal: u8, reason: &str) {
    kprintln!("{MARK}{SIGNAL} {} {signal} {reason}", p.pid);
    p.exit = Some(ExitStatus::Signaled(signal));
}
