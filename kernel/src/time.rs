//! Time: the TSC as the clock, calibrated at boot, and the local APIC timer as the periodic
//! tick (TICK_HZ).

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::x86_64::{apic, cpu, pit, trap::TIMER_VECTOR};

pub const TICK_HZ: u64 = 100;

static TSC_HZ: AtomicU64 = AtomicU64::new(0);
static TSC_AT_BOOT: AtomicU64 = AtomicU64::new(0);
static TICKS: AtomicU64 = AtomicU64::new(0);
static APIC_TICKS_PER_PERIOD: AtomicU64 = AtomicU64::new(0);

/// Where the TSC frequency came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TscSource {
    CpuidLeaf15,
    HypervisorLeaf,
    Pit,
}

/// PIT ticks to calibrate over: 20 ms.
const PIT_CALIBRATION_TICKS: u32 = (pit::HZ / 50) as u32;

/// Calibrates the TSC (and from it the APIC timer) and starts the periodic tick.
pub fn init() -> Result<TscSource, &'static str> {
    TSC_AT_BOOT.store(cpu::rdtsc(), Ordering::Relaxed);
    let f = cpu::cpu();
    let (hz, source) = if let Some(hz) = f.tsc_hz_from_cpuid {
        (hz, TscSource::CpuidLeaf15)
    } else if let Some(hz) = f.tsc_hz_from_hypervisor {
        (hz, TscSource::HypervisorLeaf)
    } else if pit::present() {
        (
            pit::tsc_hz(PIT_CALIBRATION_TICKS, cpu::rdtsc),
            TscSource::Pit,
        )
    } else {
        return Err("no reference clock to calibrate the TSC (no CPUID leaf 15h, no hypervisor timing leaf, no PIT)");
    };
    if hz < 1_000_000 {
        return Err("TSC calibration gave an implausible frequency (below 1 MHz)");
    }
    TSC_HZ.store(hz, Ordering::Relaxed);

    // APIC timer ticks per period, measured against the now-calibrated TSC over 10 ms.
    apic::timer_start_measure();
    let start = cpu::rdtsc();
    let span = hz / 100;
    while cpu::rdtsc() - start < span {
        core::hint::spin_loop();
    }
    let per_10ms = apic::timer_measured() as u64;
    let per_period = per_10ms * 100 / TICK_HZ;
    APIC_TICKS_PER_PERIOD.store(per_period, Ordering::Relaxed);
    apic::timer_periodic(TIMER_VECTOR, per_period.min(u32::MAX as u64) as u32);
    Ok(source)
}

pub fn on_tick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
}

pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

pub fn apic_ticks_per_period() -> u64 {
    APIC_TICKS_PER_PERIOD.load(Ordering::Relaxed)
}

/// Nanoseconds since boot.
pub fn uptime_ns() -> u64 {
    let hz = tsc_hz().max(1);
    let dt = cpu::rdtsc() - TSC_AT_BOOT.load(Ordering::Relaxed);
    ((dt as u128 * 1_000_000_000) / hz as u128) as u64
}

/// Sleeps (halting) for at least `ms` milliseconds.
pub fn sleep_ms(ms: u64) {
    let until = uptime_ns() + ms * 1_000_000;
    while uptime_ns() < until {
        cpu::wait_for_interrupt();
    }
}
