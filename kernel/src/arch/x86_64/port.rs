//! x86 port I/O.

use core::arch::asm;

pub fn outb(port: u16, value: u8) {
    // SAFETY: port writes have no memory effects visible to Rust; the ports the kernel uses
    // belong to devices it owns (UART, PIT, PIC, debugcon, debug-exit).
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags))
    }
}

pub fn outl(port: u16, value: u32) {
    // SAFETY: as in `outb`.
    unsafe {
        asm!("out dx, eax", in("dx") port, in("eax") value, options(nomem, nostack, preserves_flags))
    }
}

pub fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: as in `outb`; reads have device side effects only.
    unsafe {
        asm!("in al, dx", out("al") value, in("dx") port, options(nomem, nostack, preserves_flags))
    }
    value
}

/// Writes a byte string to one port (`rep outsb`).
pub fn outsb(port: u16, bytes: &[u8]) {
    // SAFETY: reads exactly `bytes.len()` bytes from a valid slice; DF is clear.
    unsafe {
        asm!("rep outsb", in("dx") port, inout("rsi") bytes.as_ptr() => _,
             inout("rcx") bytes.len() => _, options(readonly, nostack, preserves_flags))
    }
}
