//! Traps: the frame the entry code builds, the ring-0 handler, exception names, and the
//! exception table that turns a fault in a user-memory copy into an error.

use core::mem::offset_of;

use isounik_abi::pkey::LIBOS_PKRU;

use super::{apic, cpu, gdt, user};
use crate::crash;

/// Pseudo vector for the `syscall` instruction.
pub const SYSCALL_VECTOR: u64 = 0x100;

pub const PAGE_FAULT: u64 = 14;
pub const DOUBLE_FAULT: u64 = 8;
pub const NMI: u64 = 2;
pub const MACHINE_CHECK: u64 = 18;
pub const BREAKPOINT: u64 = 3;

/// Interrupt vectors of devices.
pub const TIMER_VECTOR: u8 = 0x20;
pub const UART_VECTOR: u8 = 0x24;
pub const SPURIOUS_VECTOR: u8 = 0xff;

/// Register state saved on every entry, lowest address first (entry.s builds it).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TrapFrame {
    pub pkru: u64,
    pub rax: u64,
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rbp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub vector: u64,
    pub error: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

const _: () = assert!(offset_of!(TrapFrame, cs) - offset_of!(TrapFrame, vector) == 24);

core::arch::global_asm!(
    include_str!("entry.s"),
    pku_flag = sym cpu::PKU_ENTRY_FLAG,
    xsave_flag = sym cpu::XSAVE_ENTRY_FLAG,
    libos_pkru = const LIBOS_PKRU,
    kernel_trap = sym kernel_trap,
    user_exit_collect = sym user::user_exit_collect,
    default_mxcsr = sym user::DEFAULT_MXCSR,
    pc_scratch = const gdt::PERCPU_SCRATCH,
    pc_entry_stack = const gdt::PERCPU_ENTRY_STACK,
    pc_user_ctx = const gdt::PERCPU_USER_CTX,
    pc_kernel_rsp = const gdt::PERCPU_KERNEL_RSP,
    user_cs = const gdt::USER_CS as u64,
    user_ss = const gdt::USER_SS as u64,
    syscall_vector = const SYSCALL_VECTOR,
    ctx_fpu = const user::CTX_FPU_OFFSET,
);

extern "C" {
    /// 256 entry stubs, 16 bytes apart.
    pub static trap_stubs: [u8; 256 * 16];
}

/// An entry of the exception table: a faulting instruction in a user-memory copy and where
/// to resume with `rax = -EFAULT`.
#[repr(C)]
pub struct ExtableEntry {
    pub fault_ip: u64,
    pub fixup_ip: u64,
}

extern "C" {
    static __extable_start: ExtableEntry;
    static __extable_end: ExtableEntry;
}

fn extable() -> &'static [ExtableEntry] {
    // SAFETY: the linker script brackets the `.extable` section with these symbols; it holds
    // only ExtableEntry records emitted by `uaccess`.
    unsafe {
        let start = &raw const __extable_start;
        let end = &raw const __extable_end;
        core::slice::from_raw_parts(start, end.offset_from(start) as usize)
    }
}

pub fn fixup_for(rip: u64) -> Option<u64> {
    extable()
        .iter()
        .find(|e| e.fault_ip == rip)
        .map(|e| e.fixup_ip)
}

/// Handles a trap taken in ring 0, on an IST stack.
extern "C" fn kernel_trap(frame: &mut TrapFrame) {
    match frame.vector {
        v if v == TIMER_VECTOR as u64
            || v == UART_VECTOR as u64
            || v == crate::drivers::net::NET_VECTOR as u64
            || v == SPURIOUS_VECTOR as u64 =>
        {
            crate::irq::dispatch(v as u8)
        }
        PAGE_FAULT => {
            if let Some(fixup) = fixup_for(frame.rip) {
                crate::arch::x86_64::uaccess::record_fault(cpu::read_cr2(), frame.error);
                frame.rip = fixup;
                return;
            }
            crash::exception(frame, cpu::read_cr2())
        }
        BREAKPOINT if crate::selftest::take_expected_breakpoint() => {}
        32..=255 => {
            kdebug!("unexpected interrupt vector {:#x}", frame.vector);
            apic::end_of_interrupt();
        }
        _ => crash::exception(frame, cpu::read_cr2()),
    }
}

pub fn exception_name(vector: u64) -> &'static str {
    match vector {
        0 => "divide error (#DE)",
        1 => "debug (#DB)",
        2 => "non-maskable interrupt",
        3 => "breakpoint (#BP)",
        4 => "overflow (#OF)",
        5 => "bound range exceeded (#BR)",
        6 => "invalid opcode (#UD)",
        7 => "device not available (#NM)",
        8 => "double fault (#DF)",
        10 => "invalid TSS (#TS)",
        11 => "segment not present (#NP)",
        12 => "stack-segment fault (#SS)",
        13 => "general protection fault (#GP)",
        14 => "page fault (#PF)",
        16 => "x87 floating-point error (#MF)",
        17 => "alignment check (#AC)",
        18 => "machine check (#MC)",
        19 => "SIMD floating-point error (#XM)",
        20 => "virtualization exception (#VE)",
        21 => "control protection (#CP)",
        SYSCALL_VECTOR => "syscall",
        9 | 15 | 22..=31 => "reserved exception",
        _ => "interrupt",
    }
}

/// Decodes a page-fault error code, e.g. "read, user, present, protection key".
pub fn describe_page_fault(error: u64, out: &mut impl core::fmt::Write) -> core::fmt::Result {
    let access = if error & 0x10 != 0 {
        "instruction fetch"
    } else if error & 2 != 0 {
        "write"
    } else {
        "read"
    };
    write!(
        out,
        "{access}, {} mode, {}",
        if error & 4 != 0 { "user" } else { "kernel" },
        if error & 1 != 0 {
            "protection violation"
        } else {
            "page not present"
        }
    )?;
    if error & 0x20 != 0 {
        write!(out, ", protection key")?;
    }
    if error & 8 != 0 {
        write!(out, ", reserved bit set")?;
    }
    Ok(())
}
