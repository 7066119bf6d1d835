//! GDT, TSS, IDT, per-CPU data and the `syscall` MSRs. All of it lives in supervisor pages
//! (the `.supervisor` section): the CPU and the entry code touch it before PKRU can be switched.

use core::cell::UnsafeCell;
use core::mem::{offset_of, size_of};

use x86_64::registers::model_specific::{Efer, EferFlags, GsBase, KernelGsBase, Msr};

use super::trap::{self, DOUBLE_FAULT, MACHINE_CHECK, NMI};

pub const KERNEL_CS: u16 = 0x08;
pub const KERNEL_SS: u16 = 0x10;
pub const USER_SS: u16 = 0x18 | 3;
pub const USER_CS: u16 = 0x20 | 3;
const TSS_SELECTOR: u16 = 0x28;

const STACK_SIZE: usize = 16 * 1024;

/// IST indexes (1-based as in the TSS). Exceptions share one stack: a fault while handling
/// another is fatal anyway (and #DF has its own stack to report it).
const IST_EXCEPTION: u8 = 1;
const IST_DOUBLE_FAULT: u8 = 2;
const IST_NMI: u8 = 3;
const IST_MACHINE_CHECK: u8 = 4;
const IST_INTERRUPT: u8 = 5;
const IST_COUNT: usize = 5;

/// What the entry code finds through GS.
#[repr(C)]
pub struct PerCpu {
    self_ptr: u64,
    /// Top of the entry stack (= TSS.RSP0): where `syscall` and ring-3 interrupts land.
    entry_stack_top: u64,
    /// The user rsp during `syscall` entry.
    scratch: u64,
    /// The thread kernel stack inside `user_enter`.
    kernel_rsp: u64,
    /// The `UserContext` being run.
    user_ctx: u64,
}

pub const PERCPU_ENTRY_STACK: usize = offset_of!(PerCpu, entry_stack_top);
pub const PERCPU_SCRATCH: usize = offset_of!(PerCpu, scratch);
pub const PERCPU_KERNEL_RSP: usize = offset_of!(PerCpu, kernel_rsp);
pub const PERCPU_USER_CTX: usize = offset_of!(PerCpu, user_ctx);

#[repr(C, packed(4))]
struct Tss {
    reserved0: u32,
    rsp: [u64; 3],
    reserved1: u64,
    ist: [u64; 7],
    reserved2: u64,
    reserved3: u16,
    iomap_base: u16,
}

#[repr(C, align(16))]
struct Stack([u8; STACK_SIZE]);

#[repr(C, align(4096))]
struct Supervisor {
    gdt: [u64; 8],
    tss: Tss,
    percpu: PerCpu,
    idt: [[u64; 2]; 256],
    entry_stack: Stack,
    ist_stacks: [Stack; IST_COUNT],
}

struct SupervisorCell(UnsafeCell<Supervisor>);
// SAFETY: written only by `init` on the boot CPU before interrupts are enabled; afterwards
// only the CPU (and the entry code, through GS) reads it, apart from `entry_frame_slot`.
unsafe impl Sync for SupervisorCell {}

// Zero-initialised, so it lands in a NOBITS section that the linker script maps as
// supervisor pages.
#[link_section = ".supervisor.cpu0"]
static CPU0: SupervisorCell = SupervisorCell(UnsafeCell::new(
    // SAFETY: all-zero is a valid value for this plain-data struct.
    unsafe { core::mem::zeroed() },
));

fn stack_top(stack: &Stack) -> u64 {
    stack.0.as_ptr_range().end as u64
}

/// Loads the GDT, TSS and IDT, sets up GS and the `syscall` MSRs. Called once, early.
pub fn init() {
    // SAFETY: single-threaded early boot; nothing else references CPU0 yet.
    let s = unsafe { &mut *CPU0.0.get() };
    s.gdt = [
        0,
        0x00af_9a00_0000_ffff, // 0x08 kernel code (64-bit)
        0x00cf_9200_0000_ffff, // 0x10 kernel data
        0x00cf_f200_0000_ffff, // 0x18 user data (DPL 3)
        0x00af_fa00_0000_ffff, // 0x20 user code (64-bit, DPL 3)
        0,
        0,
        0,
    ];
    let tss_addr = &s.tss as *const Tss as u64;
    let limit = (size_of::<Tss>() - 1) as u64;
    s.gdt[5] = limit
        | ((tss_addr & 0xff_ffff) << 16)
        | (0x89 << 40) // present, 64-bit available TSS
        | (((tss_addr >> 24) & 0xff) << 56);
    s.gdt[6] = tss_addr >> 32;

    s.tss.rsp[0] = stack_top(&s.entry_stack);
    for (i, stack) in s.ist_stacks.iter().enumerate() {
        s.tss.ist[i] = stack_top(stack);
    }
    s.tss.iomap_base = size_of::<Tss>() as u16; // no I/O permission bitmap: ring 3 gets none

    s.percpu.self_ptr = &s.percpu as *const PerCpu as u64;
    // The top of the entry stack holds the TrapFrame that `user_enter` pops.
    s.percpu.entry_stack_top = stack_top(&s.entry_stack);

    let stubs = (&raw const trap::trap_stubs) as u64;
    for (vector, entry) in s.idt.iter_mut().enumerate() {
        let ist = match vector as u64 {
            DOUBLE_FAULT => IST_DOUBLE_FAULT,
            NMI => IST_NMI,
            MACHINE_CHECK => IST_MACHINE_CHECK,
            0..=31 => IST_EXCEPTION,
            _ => IST_INTERRUPT,
        };
        // Breakpoint and overflow may be raised by ring 3 (int3/into): DPL 3. Others DPL 0,
        // so `int n` from ring 3 is a #GP.
        let dpl: u64 = if vector == 3 || vector == 4 { 3 } else { 0 };
        let handler = stubs + vector as u64 * 16;
        entry[0] = (handler & 0xffff)
            | ((KERNEL_CS as u64) << 16)
            | ((ist as u64) << 32)
            | (0x8e << 40) // present, 64-bit interrupt gate (clears IF)
            | (dpl << 45)
            | (((handler >> 16) & 0xffff) << 48);
        entry[1] = handler >> 32;
    }

    let gdt_ptr = x86_64::structures::DescriptorTablePointer {
        limit: (size_of::<[u64; 8]>() - 1) as u16,
        base: x86_64::VirtAddr::new(s.gdt.as_ptr() as u64),
    };
    let idt_ptr = x86_64::structures::DescriptorTablePointer {
        limit: (size_of::<[[u64; 2]; 256]>() - 1) as u16,
        base: x86_64::VirtAddr::new(s.idt.as_ptr() as u64),
    };
    // SAFETY: the tables are fully built, 'static, and in supervisor pages; the selectors
    // loaded below index valid descriptors of this GDT.
    unsafe {
        x86_64::instructions::tables::lgdt(&gdt_ptr);
        core::arch::asm!(
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov ss, {ss:x}",
            "mov ds, {zero:x}",
            "mov es, {zero:x}",
            cs = const KERNEL_CS as u64,
            ss = in(reg) KERNEL_SS as u64,
            zero = in(reg) 0u64,
            tmp = out(reg) _,
        );
        x86_64::instructions::tables::load_tss(x86_64::structures::gdt::SegmentSelector(
            TSS_SELECTOR,
        ));
        x86_64::instructions::tables::lidt(&idt_ptr);
        GsBase::write(x86_64::VirtAddr::new(s.percpu.self_ptr));
        KernelGsBase::write(x86_64::VirtAddr::new(0));

        // syscall: CS/SS from STAR, entry at LSTAR; clear IF, TF, DF, AC, NT on entry.
        Efer::update(|e| e.insert(EferFlags::SYSTEM_CALL_EXTENSIONS));
        let star = ((KERNEL_CS as u64) << 32) | (((USER_SS as u64 & !3) - 8) << 48);
        Msr::new(0xc000_0081).write(star);
        Msr::new(0xc000_0082).write(syscall_entry as *const () as u64);
        Msr::new(0xc000_0084).write(0x4_4700); // AC | NT | DF | IF | TF
    }
}

extern "C" {
    fn syscall_entry();
}

/// The TrapFrame slot at the top of the entry stack, which `user_enter` pops into ring 3.
pub fn entry_frame_slot() -> *mut trap::TrapFrame {
    // SAFETY: only the address is computed; CPU0 is initialised by `init`.
    let top = unsafe { (*CPU0.0.get()).percpu.entry_stack_top };
    (top as usize - size_of::<trap::TrapFrame>()) as *mut trap::TrapFrame
}

/// Supervisor-area bounds, for the page-table layout and its self test.
pub fn supervisor_range() -> core::ops::Range<u64> {
    let start = CPU0.0.get() as u64;
    start..start + size_of::<Supervisor>() as u64
}

/// IST and entry stack ranges, for the crash reporter's backtrace bounds.
pub fn ring0_stack_ranges() -> impl Iterator<Item = core::ops::Range<u64>> {
    // SAFETY: only addresses are read.
    let s = unsafe { &*CPU0.0.get() };
    let entry = &s.entry_stack;
    core::iter::once(entry)
        .chain(s.ist_stacks.iter())
        .map(|st| st.0.as_ptr_range())
        .map(|r| r.start as u64..r.end as u64)
}
