//! Time: the TSC as the clock, calibrated at boot, and the local APIC timer as the periodic
//! tick (TICK_HZ).

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::x86_64::{apic, cpu, pit, trap::TIMER_VECTOR};

pub const TICK_HZ: u64 = 100;

static TSC_HZ: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds per TSC tick as a whole part and a 64-bit binary fraction, so that reading
/// a clock is two multiplications, not a 128-bit division (the MPK gate reads clocks in
/// ring 3 on every `clock_gettime`).
static NS_PER_TICK_WHOLE: AtomicU64 = AtomicU64::new(0);
static NS_PER_TICK_FRACTION: AtomicU64 = AtomicU64::new(0);
static TSC_AT_BOOT: AtomicU64 = AtomicU64::new(0);
static TICKS: AtomicU64 = AtomicU64::new(0);
/// Wall-clock time at boot (ns since the Unix epoch).
static EPOCH_AT_BOOT_NS: AtomicU64 = AtomicU64::new(0);
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
    NS_PER_TICK_WHOLE.store(1_000_000_000 / hz, Ordering::Relaxed);
    let remainder = (1_000_000_000 % hz) as u128;
    NS_PER_TICK_FRACTION.store(((remainder << 64) / hz as u128) as u64, Ordering::Relaxed);

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
    crate::sched::tick();
    // Processes whose interval timer expired: wake their main thread, which posts SIGALRM
    // itself (an interrupt handler must not take process locks).
    let now = uptime_ns();
    if let Some(mut timers) = PROCESS_TIMERS.try_lock() {
        for slot in timers.iter_mut() {
            if slot.0 != 0 && slot.1 <= now {
                crate::sched::wake(slot.0);
                *slot = (0, 0);
            }
        }
    }
}

/// (pid, expiry uptime ns) of armed ITIMER_REAL timers; pid 0 = free slot.
static PROCESS_TIMERS: spin::Mutex<[(u32, u64); 64]> = spin::Mutex::new([(0, 0); 64]);

/// Arms (or with `None` disarms) the wake-up for process `pid`'s real timer.
pub fn arm_process_timer(pid: u32, expiry: Option<u64>) {
    crate::arch::x86_64::cpu::without_interrupts(|| {
        let mut timers = PROCESS_TIMERS.lock();
        for slot in timers.iter_mut().filter(|s| s.0 == pid) {
            *slot = (0, 0);
        }
        if let Some(at) = expiry {
            if let Some(slot) = timers.iter_mut().find(|s| s.0 == 0) {
                *slot = (pid, at);
            }
        }
    })
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

/// Nanoseconds since boot (0 before calibration). Exact to within one nanosecond of
/// `ticks * 10^9 / hz`, rounding down, so it never goes backwards.
pub fn uptime_ns() -> u64 {
    let dt = cpu::rdtsc().wrapping_sub(TSC_AT_BOOT.load(Ordering::Relaxed));
    ticks_to_ns(
        dt,
        NS_PER_TICK_WHOLE.load(Ordering::Relaxed),
        NS_PER_TICK_FRACTION.load(Ordering::Relaxed),
    )
}

fn ticks_to_ns(ticks: u64, whole: u64, fraction: u64) -> u64 {
    let part = ((ticks as u128 * fraction as u128) >> 64) as u64;
    ticks.wrapping_mul(whole).wrapping_add(part)
}

/// Sleeps (halting) for at least `ms` milliseconds.
pub fn sleep_ms(ms: u64) {
    let until = uptime_ns() + ms * 1_000_000;
    while uptime_ns() < until {
        cpu::wait_for_interrupt();
    }
}

/// Sets the wall clock: from the host's `time=` (ns since the epoch), else the CMOS clock.
pub fn init_wall_clock(host_ns: Option<u64>) {
    let ns = host_ns.unwrap_or_else(|| rtc_seconds() * 1_000_000_000);
    EPOCH_AT_BOOT_NS.store(ns.saturating_sub(uptime_ns()), Ordering::Relaxed);
}

/// What the vDSO needs to compute the clocks as `uptime_ns` and `realtime_ns` do; fixed
/// once the clocks are set up.
pub struct VdsoConstants {
    pub tsc_at_boot: u64,
    pub ns_per_tick_whole: u64,
    pub ns_per_tick_fraction: u64,
    pub epoch_at_boot_ns: u64,
}

pub fn vdso_constants() -> VdsoConstants {
    VdsoConstants {
        tsc_at_boot: TSC_AT_BOOT.load(Ordering::Relaxed),
        ns_per_tick_whole: NS_PER_TICK_WHOLE.load(Ordering::Relaxed),
        ns_per_tick_fraction: NS_PER_TICK_FRACTION.load(Ordering::Relaxed),
        epoch_at_boot_ns: EPOCH_AT_BOOT_NS.load(Ordering::Relaxed),
    }
}

/// Nanoseconds since the Unix epoch.
pub fn realtime_ns() -> u64 {
    EPOCH_AT_BOOT_NS.load(Ordering::Relaxed) + uptime_ns()
}

/// Reads the CMOS real-time clock (UTC), in seconds since the epoch.
fn rtc_seconds() -> u64 {
    use crate::arch::x86_64::port::{inb, outb};
    let read = |reg: u8| {
        outb(0x70, reg);
        inb(0x71)
    };
    // Wait for an update to finish, then read twice until stable.
    let snapshot = || {
        while read(0x0a) & 0x80 != 0 {
            core::hint::spin_loop();
        }
        [
            read(0x00),
            read(0x02),
            read(0x04),
            read(0x07),
            read(0x08),
            read(0x09),
            read(0x32),
        ]
    };
    let mut v = snapshot();
    loop {
        let again = snapshot();
        if again == v {
            break;
        }
        v = again;
    }
    let status_b = read(0x0b);
    let bcd = |x: u8| {
        if status_b & 0x04 == 0 {
            (x & 0x0f) + (x >> 4) * 10
        } else {
            x
        }
    };
    let (sec, min, day, month) = (
        bcd(v[0]) as u64,
        bcd(v[1]) as u64,
        bcd(v[3]) as u64,
        bcd(v[4]) as u64,
    );
    let mut hour = bcd(v[2] & 0x7f) as u64;
    if status_b & 0x02 == 0 && v[2] & 0x80 != 0 {
        hour = (hour + 12) % 24;
    }
    let century = match bcd(v[6]) as u64 {
        c @ 19..=21 => c,
        _ => 20,
    };
    let year = century * 100 + bcd(v[5]) as u64;
    days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y } as i64;
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468).max(0) as u64
}
