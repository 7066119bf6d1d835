//! QEMU's `isa-debugcon`: a write-only byte port carrying the kernel log.

use isounik_abi::io::DEBUGCON;

use crate::arch::x86_64::port;

pub fn write(bytes: &[u8]) {
    port::outsb(DEBUGCON, bytes);
}
