//! The 8254 PIT, used only as a reference clock to calibrate the TSC. Channel 0 is read back
//! by latching its count: this needs neither port 0x61 (absent on `-M microvm`, which made
//! channel-2 gate polling read garbage) nor an interrupt.

use super::port::{inb, outb};

pub const HZ: u64 = 1_193_182;

fn read_count() -> u16 {
    outb(0x43, 0x00); // latch channel 0
    let lo = inb(0x40) as u16;
    let hi = inb(0x40) as u16;
    lo | (hi << 8)
}

/// Whether a PIT answers: its count must move.
pub fn present() -> bool {
    start();
    let first = read_count();
    (0..10_000).any(|_| read_count() != first)
}

/// Channel 0, mode 2 (rate generator), full 65536 period, counting down.
fn start() {
    outb(0x43, 0x34);
    outb(0x40, 0);
    outb(0x40, 0);
}

/// Measures the TSC frequency against the PIT over about `pit_ticks` PIT ticks.
pub fn tsc_hz(pit_ticks: u32, rdtsc: impl Fn() -> u64) -> u64 {
    start();
    let mut prev = read_count();
    let t0 = rdtsc();
    let mut elapsed: u32 = 0;
    while elapsed < pit_ticks {
        let now = read_count();
        elapsed += prev.wrapping_sub(now) as u32; // a down-counter that wraps
        prev = now;
    }
    let t1 = rdtsc();
    (t1 - t0) * HZ / elapsed as u64
}
