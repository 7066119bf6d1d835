//! Everything specific to x86-64: boot, CPU setup, descriptor tables, entry code, interrupt
//! controllers, port I/O and user-memory access. Most of the kernel's `unsafe` lives here.

pub mod apic;
pub mod cpu;
pub mod gate;
pub mod gdt;
pub mod pit;
pub mod port;
pub mod trap;
pub mod uaccess;
pub mod user;

core::arch::global_asm!(include_str!("boot.s"), options(att_syntax));

/// Ends the VM through QEMU's isa-debug-exit device.
pub fn exit_qemu(value: u32) -> ! {
    port::outl(isounik_abi::io::DEBUG_EXIT, value);
    // Without the device (another hypervisor), stop here.
    loop {
        cpu::disable_interrupts();
        x86_64::instructions::hlt();
    }
}
