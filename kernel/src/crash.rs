//! Reporting an unrecoverable kernel error: a readable report on the log (reason, registers,
//! a frame-pointer backtrace that the host tool symbolizes), then a failure exit. Never a
//! silent hang or a reboot loop.

use core::fmt::Write;
use core::sync::atomic::{AtomicBool, Ordering};

use isounik_abi::exit::KERNEL_FAILURE;
use isounik_abi::log::{BACKTRACE, CRASH, MARK};

use crate::arch::x86_64::trap::{self, TrapFrame};
use crate::arch::x86_64::{cpu, exit_qemu, gdt};
use crate::log::write_line_unlocked as line;

static CRASHING: AtomicBool = AtomicBool::new(false);

/// A fixed-size line buffer, so reporting needs no heap (which may be what failed).
pub struct LineBuf {
    buf: [u8; 200],
    len: usize,
}

impl LineBuf {
    pub const fn new() -> Self {
        LineBuf {
            buf: [0; 200],
            len: 0,
        }
    }
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("<invalid utf-8>")
    }
}

impl Write for LineBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Enters crash mode; a second crash while reporting exits at once.
fn begin() {
    cpu::disable_interrupts();
    if CRASHING.swap(true, Ordering::SeqCst) {
        line(format_args!("{MARK}{CRASH} fault while reporting a crash"));
        exit_qemu(KERNEL_FAILURE);
    }
}

/// Stacks a frame pointer may point into.
fn on_known_stack(addr: u64) -> bool {
    gdt::ring0_stack_ranges()
        .chain(crate::mm::kernel_stack_ranges())
        .any(|r| r.start <= addr && addr + 16 <= r.end)
        || crate::mm::is_mapped_stack(addr)
}

fn backtrace(mut rbp: u64, first_ip: Option<u64>) {
    let mut index = 0;
    if let Some(ip) = first_ip {
        line(format_args!("{MARK}{BACKTRACE} {index} {ip:#x}"));
        index += 1;
    }
    while index < 40 && rbp.is_multiple_of(8) && on_known_stack(rbp) {
        // SAFETY: rbp lies within a mapped kernel stack (checked above); the frame layout is
        // [saved rbp][return address], kept by -C force-frame-pointers.
        let (next, ret) = unsafe { (*(rbp as *const u64), *((rbp + 8) as *const u64)) };
        if ret == 0 {
            break;
        }
        line(format_args!("{MARK}{BACKTRACE} {index} {ret:#x}"));
        index += 1;
        if next <= rbp {
            break;
        }
        rbp = next;
    }
}

/// Reports a panic and exits.
pub fn panic(info: &core::panic::PanicInfo) -> ! {
    if crate::arch::x86_64::cpu::in_ring3() {
        let mut message = LineBuf::new();
        let _ = write!(message, "kernel panic: {}", info.message());
        if let Some(loc) = info.location() {
            let _ = write!(message, " at {}:{}", loc.file(), loc.line());
        }
        crate::arch::x86_64::gate::crash_from_ring3(&message);
    }
    begin();
    let mut message = LineBuf::new();
    let _ = write!(message, "{}", info.message());
    if let Some(loc) = info.location() {
        let _ = write!(message, " at {}:{}", loc.file(), loc.line());
    }
    line(format_args!("KERNEL PANIC: {}", message.as_str()));
    let mut reason = LineBuf::new();
    let _ = write!(reason, "kernel panic: {}", message.as_str());
    line(format_args!("{MARK}{CRASH} {}", reason.as_str()));
    let rbp: u64;
    // SAFETY: reads the frame pointer register.
    unsafe { core::arch::asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack)) };
    backtrace(rbp, None);
    exit_qemu(KERNEL_FAILURE)
}

/// Reports a CPU exception taken in ring 0 and exits.
pub fn exception(frame: &TrapFrame, cr2: u64) -> ! {
    begin();
    let mut reason = LineBuf::new();
    let _ = write!(
        reason,
        "{} in the kernel at rip {:#x}",
        trap::exception_name(frame.vector),
        frame.rip
    );
    if frame.vector == trap::PAGE_FAULT {
        let _ = write!(reason, ", address {cr2:#x} (");
        let _ = trap::describe_page_fault(frame.error, &mut reason);
        let _ = write!(reason, ")");
        if crate::mm::is_guard_page(cr2) {
            let _ = write!(reason, ": kernel stack overflow");
        }
    }
    line(format_args!("KERNEL EXCEPTION: {}", reason.as_str()));
    line(format_args!(
        "  vector {} error {:#x} rip {:#018x} cs {:#x} rflags {:#x} rsp {:#018x} ss {:#x}",
        frame.vector, frame.error, frame.rip, frame.cs, frame.rflags, frame.rsp, frame.ss
    ));
    line(format_args!(
        "  cr2 {:#018x} cr3 {:#018x} cr4 {:#x} pkru {:#010x}",
        cr2,
        cpu::read_cr3(),
        cpu::read_cr4(),
        frame.pkru
    ));
    line(format_args!(
        "  rax {:#018x} rbx {:#018x} rcx {:#018x} rdx {:#018x}",
        frame.rax, frame.rbx, frame.rcx, frame.rdx
    ));
    line(format_args!(
        "  rsi {:#018x} rdi {:#018x} rbp {:#018x} r8  {:#018x}",
        frame.rsi, frame.rdi, frame.rbp, frame.r8
    ));
    line(format_args!(
        "  r9  {:#018x} r10 {:#018x} r11 {:#018x} r12 {:#018x}",
        frame.r9, frame.r10, frame.r11, frame.r12
    ));
    line(format_args!(
        "  r13 {:#018x} r14 {:#018x} r15 {:#018x}",
        frame.r13, frame.r14, frame.r15
    ));
    line(format_args!("{MARK}{CRASH} {}", reason.as_str()));
    backtrace(frame.rbp, Some(frame.rip));
    exit_qemu(KERNEL_FAILURE)
}

/// Reports an unrecoverable error found by kernel code (not a Rust panic) and exits.
pub fn fatal(args: core::fmt::Arguments) -> ! {
    if crate::arch::x86_64::cpu::in_ring3() {
        let mut message = LineBuf::new();
        let _ = message.write_fmt(args);
        crate::arch::x86_64::gate::crash_from_ring3(&message);
    }
    begin();
    let mut reason = LineBuf::new();
    let _ = reason.write_fmt(args);
    line(format_args!("KERNEL ERROR: {}", reason.as_str()));
    line(format_args!("{MARK}{CRASH} {}", reason.as_str()));
    exit_qemu(KERNEL_FAILURE)
}

#[panic_handler]
fn on_panic(info: &core::panic::PanicInfo) -> ! {
    panic(info)
}
