//! Local APIC (xAPIC, memory-mapped), I/O APIC routing, and the legacy 8259 PICs (remapped
//! out of the exception range and masked).

use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::registers::model_specific::Msr;

use super::port::outb;

pub const LAPIC_PHYS: u64 = 0xfee0_0000;
pub const IOAPIC_PHYS: u64 = 0xfec0_0000;

const REG_ID: usize = 0x20;
const REG_TPR: usize = 0x80;
const REG_EOI: usize = 0xb0;
const REG_SVR: usize = 0xf0;
const REG_LVT_TIMER: usize = 0x320;
const REG_LVT_LINT0: usize = 0x350;
const REG_LVT_LINT1: usize = 0x360;
const REG_LVT_ERROR: usize = 0x370;
const REG_TIMER_INITIAL: usize = 0x380;
const REG_TIMER_CURRENT: usize = 0x390;
const REG_TIMER_DIVIDE: usize = 0x3e0;

const LVT_MASKED: u32 = 1 << 16;
const LVT_PERIODIC: u32 = 1 << 17;

static LAPIC_BASE: AtomicU64 = AtomicU64::new(0);
static IOAPIC_BASE: AtomicU64 = AtomicU64::new(0);

fn lapic_read(reg: usize) -> u32 {
    let base = LAPIC_BASE.load(Ordering::Relaxed);
    debug_assert!(base != 0);
    // SAFETY: `base` maps the local APIC page (uncached, supervisor) set by `init`; `reg` is
    // an architectural register offset within it.
    unsafe { read_volatile((base as usize + reg) as *const u32) }
}

fn lapic_write(reg: usize, value: u32) {
    let base = LAPIC_BASE.load(Ordering::Relaxed);
    // SAFETY: as in `lapic_read`.
    unsafe { write_volatile((base as usize + reg) as *mut u32, value) }
}

/// Remaps the 8259 PICs to vectors 0xe0-0xef and masks every line: the I/O APIC is used
/// instead, and a spurious PIC interrupt must not look like a CPU exception.
fn disable_pic() {
    for (cmd, data, offset, cascade) in [(0x20, 0x21, 0xe0, 4), (0xa0, 0xa1, 0xe8, 2)] {
        outb(cmd, 0x11);
        outb(data, offset);
        outb(data, cascade);
        outb(data, 0x01);
        outb(data, 0xff);
    }
}

/// Enables the local APIC at `lapic_virt` and the I/O APIC at `ioapic_virt` (both mapped
/// uncached by the caller).
pub fn init(lapic_virt: u64, ioapic_virt: u64, spurious_vector: u8) {
    disable_pic();
    let apic_base = Msr::new(0x1b);
    // SAFETY: sets the global-enable bit of IA32_APIC_BASE, keeping the base address.
    unsafe {
        let mut msr = apic_base;
        let value = msr.read();
        msr.write(value | (1 << 11));
    }
    LAPIC_BASE.store(lapic_virt, Ordering::Relaxed);
    IOAPIC_BASE.store(ioapic_virt, Ordering::Relaxed);
    lapic_write(REG_TPR, 0);
    lapic_write(REG_LVT_TIMER, LVT_MASKED);
    lapic_write(REG_LVT_LINT0, LVT_MASKED);
    lapic_write(REG_LVT_LINT1, 4 << 8); // NMI
    lapic_write(REG_LVT_ERROR, LVT_MASKED);
    lapic_write(REG_SVR, 0x100 | spurious_vector as u32);
    end_of_interrupt();
}

pub fn id() -> u8 {
    (lapic_read(REG_ID) >> 24) as u8
}

pub fn end_of_interrupt() {
    if LAPIC_BASE.load(Ordering::Relaxed) != 0 {
        lapic_write(REG_EOI, 0);
    }
}

/// Divide-by-16 is the value the calibration and the periodic timer both use.
const TIMER_DIVIDE_16: u32 = 0b0011;

/// Starts a free-running one-shot count from the maximum, for calibration.
pub fn timer_start_measure() {
    lapic_write(REG_TIMER_DIVIDE, TIMER_DIVIDE_16);
    lapic_write(REG_LVT_TIMER, LVT_MASKED);
    lapic_write(REG_TIMER_INITIAL, u32::MAX);
}

/// APIC timer ticks elapsed since `timer_start_measure`.
pub fn timer_measured() -> u32 {
    u32::MAX - lapic_read(REG_TIMER_CURRENT)
}

/// Starts the periodic timer: an interrupt on `vector` every `ticks` (divided) APIC ticks.
pub fn timer_periodic(vector: u8, ticks: u32) {
    lapic_write(REG_TIMER_DIVIDE, TIMER_DIVIDE_16);
    lapic_write(REG_LVT_TIMER, vector as u32 | LVT_PERIODIC);
    lapic_write(REG_TIMER_INITIAL, ticks.max(1));
}

fn ioapic_write(reg: u32, value: u32) {
    let base = IOAPIC_BASE.load(Ordering::Relaxed) as usize;
    // SAFETY: `base` maps the I/O APIC page; IOREGSEL at 0, IOWIN at 0x10.
    unsafe {
        write_volatile(base as *mut u32, reg);
        write_volatile((base + 0x10) as *mut u32, value);
    }
}

/// Routes I/O APIC input `gsi` (edge, active high) to `vector` on this CPU.
/// ISA IRQs 1-15 other than 0 map to the same GSI on QEMU's q35 and microvm (only IRQ 0 has
/// an override, to GSI 2, and the kernel does not use the PIT interrupt).
pub fn route_irq(gsi: u8, vector: u8) {
    let reg = 0x10 + 2 * gsi as u32;
    ioapic_write(reg + 1, (id() as u32) << 24);
    ioapic_write(reg, vector as u32);
}
