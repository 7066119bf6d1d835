//! Ring 3 through UserContext::execute: register preservation across a system call,
//! privileged instructions refused, and a timer interrupt taking the CPU back.

use isounik_abi::pkey::APP_PKRU;
use isounik_paging::Attrs;

use super::{Outcome, TestResult};
use crate::arch::x86_64::trap::TIMER_VECTOR;
use crate::arch::x86_64::user::{GeneralRegs, UserContext, UserExit};
use crate::ensure;
use crate::{irq, mm, time};

/// The probes' stack page.
pub const STACK_VA: u64 = 0x4010_0000;

extern "C" {
    fn probe_read();
    fn probe_write();
    fn probe_xrstor();
    fn probe_registers();
    fn probe_spin();
    fn probe_cli();
    fn probe_hlt();
    fn probe_in();
    fn probe_out();
    fn probe_wrmsr();
    fn probe_mov_cr3();
    fn probe_int80();
    fn probe_int3();
}

core::arch::global_asm!(include_str!("probes.s"));

#[derive(Clone, Copy, Debug)]
pub enum Probe {
    Read,
    Write,
    Xrstor,
    Registers,
    Spin,
    Cli,
    Hlt,
    In,
    Out,
    Wrmsr,
    MovCr3,
    Int80,
    Int3,
}

impl Probe {
    fn entry(self) -> u64 {
        let f: unsafe extern "C" fn() = match self {
            Probe::Read => probe_read,
            Probe::Write => probe_write,
            Probe::Xrstor => probe_xrstor,
            Probe::Registers => probe_registers,
            Probe::Spin => probe_spin,
            Probe::Cli => probe_cli,
            Probe::Hlt => probe_hlt,
            Probe::In => probe_in,
            Probe::Out => probe_out,
            Probe::Wrmsr => probe_wrmsr,
            Probe::MovCr3 => probe_mov_cr3,
            Probe::Int80 => probe_int80,
            Probe::Int3 => probe_int3,
        };
        f as usize as u64
    }
}

/// Runs `probe` in ring 3 with `args` in rdi and rsi, until it stops; device interrupts on
/// the way are handled and the probe resumed.
pub fn run_probe(probe: Probe, args: [u64; 2], pkru: u32) -> (UserExit, GeneralRegs) {
    let mut ctx = alloc::boxed::Box::new(UserContext::new(probe.entry(), STACK_VA + 4096, pkru));
    ctx.regs.rdi = args[0];
    ctx.regs.rsi = args[1];
    loop {
        match ctx.execute() {
            UserExit::Interrupt(v) => irq::dispatch(v),
            exit => return (exit, ctx.regs),
        }
    }
}

fn with_stack(f: impl FnOnce() -> TestResult) -> TestResult {
    mm::with(|m| {
        m.map_page(
            STACK_VA,
            Attrs {
                writable: true,
                ..Attrs::user(0)
            },
        )
    })
    .map_err(|e| alloc::format!("{e:?}"))?;
    let r = f();
    mm::with(|m| m.unmap_page(STACK_VA));
    r
}

pub fn syscall_roundtrip() -> TestResult {
    with_stack(|| {
        let mut ctx = alloc::boxed::Box::new(UserContext::new(
            Probe::Registers.entry(),
            STACK_VA + 4096,
            APP_PKRU,
        ));
        let values = [3u64, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43];
        let r = &mut ctx.regs;
        [
            r.rbx, r.rdx, r.rsi, r.rdi, r.rbp, r.r8, r.r9, r.r10, r.r12, r.r13, r.r14, r.r15, r.rax,
        ] = values;
        let sent = ctx.regs;
        let exit = loop {
            match ctx.execute() {
                UserExit::Interrupt(v) => irq::dispatch(v),
                e => break e,
            }
        };
        ensure!(exit == UserExit::Syscall, "first stop: {exit:?}");
        let got = ctx.regs;
        let kept = |r: &GeneralRegs| {
            [
                r.rbx, r.rdx, r.rsi, r.rdi, r.rbp, r.r8, r.r9, r.r10, r.r12, r.r13, r.r14, r.r15,
                r.rax,
            ]
        };
        ensure!(
            kept(&got) == kept(&sent),
            "registers changed on the way in: {got:?}"
        );
        ensure!(
            got.rcx == got.rip,
            "syscall leaves the return address in rcx"
        );
        ensure!(got.rsp == STACK_VA + 4096, "user rsp {:#x}", got.rsp);
        // Resume with rax = 1; the probe sums what it got back.
        ctx.regs.rax = 1;
        let exit = loop {
            match ctx.execute() {
                UserExit::Interrupt(v) => irq::dispatch(v),
                e => break e,
            }
        };
        ensure!(exit == UserExit::Syscall, "second stop: {exit:?}");
        let expected = 1 + values[..12].iter().sum::<u64>();
        ensure!(
            ctx.regs.rax == expected,
            "probe saw registers summing to {} instead of {expected}",
            ctx.regs.rax
        );
        Ok(Outcome::Pass)
    })
}

pub fn privileged_instructions() -> TestResult {
    with_stack(|| {
        for probe in [
            Probe::Cli,
            Probe::Hlt,
            Probe::In,
            Probe::Out,
            Probe::Wrmsr,
            Probe::MovCr3,
        ] {
            match run_probe(probe, [0, 0], APP_PKRU).0 {
                UserExit::Exception { vector: 13, .. } => {}
                other => {
                    return Err(alloc::format!(
                        "{probe:?} in ring 3: expected #GP, got {other:?}"
                    ))
                }
            }
        }
        // `int 0x80` hits a DPL-0 gate: #GP with an IDT error code naming the gate (QEMU
        // scales the index by the 16-byte long-mode descriptor size); `int3` is allowed.
        match run_probe(Probe::Int80, [0, 0], APP_PKRU).0 {
            UserExit::Exception {
                vector: 13, error, ..
            } if error == (0x80 << 3) | 2 || error == (0x80 << 4) | 2 => {}
            other => return Err(alloc::format!("int 0x80: {other:?}")),
        }
        match run_probe(Probe::Int3, [0, 0], APP_PKRU).0 {
            UserExit::Exception { vector: 3, .. } => {}
            other => return Err(alloc::format!("int3: {other:?}")),
        }
        Ok(Outcome::Pass)
    })
}

pub fn preempted_by_timer() -> TestResult {
    with_stack(|| {
        let mut ctx = alloc::boxed::Box::new(UserContext::new(
            Probe::Spin.entry(),
            STACK_VA + 4096,
            APP_PKRU,
        ));
        let start = time::ticks();
        let mut timer_stops = 0;
        while time::ticks() < start + 3 {
            match ctx.execute() {
                UserExit::Interrupt(v) => {
                    if v == TIMER_VECTOR {
                        timer_stops += 1;
                    }
                    irq::dispatch(v)
                }
                other => return Err(alloc::format!("spinning probe stopped with {other:?}")),
            }
        }
        ensure!(
            timer_stops >= 3,
            "only {timer_stops} timer interrupts reached ring 3"
        );
        Ok(Outcome::Pass)
    })
}
