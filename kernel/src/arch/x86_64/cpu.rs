//! CPU features and control registers: CR0/CR4, XCR0, PKRU, interrupts, halting.

use core::arch::asm;
use core::arch::x86_64::{__cpuid, __cpuid_count, CpuidResult};
use core::sync::atomic::{AtomicU8, Ordering};

use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};
use x86_64::registers::xcontrol::{XCr0, XCr0Flags};

/// What the kernel uses of CPUID.
#[derive(Clone, Copy, Debug, Default)]
pub struct Features {
    pub pku: bool,
    pub xsave: bool,
    pub avx: bool,
    pub avx512: bool,
    pub pcid: bool,
    pub fsgsbase: bool,
    pub invariant_tsc: bool,
    pub tsc_deadline: bool,
    pub x2apic: bool,
    pub hypervisor: bool,
    /// CPUID.15H: TSC/crystal ratio and crystal frequency, when reported.
    pub tsc_hz_from_cpuid: Option<u64>,
    /// Leaf 0x40000010 (hypervisor timing information): TSC frequency.
    pub tsc_hz_from_hypervisor: Option<u64>,
    pub vendor: [u8; 12],
}

pub fn features() -> Features {
    let leaf0 = __cpuid(0);
    let max_leaf = leaf0.eax;
    let mut vendor = [0u8; 12];
    vendor[0..4].copy_from_slice(&leaf0.ebx.to_le_bytes());
    vendor[4..8].copy_from_slice(&leaf0.edx.to_le_bytes());
    vendor[8..12].copy_from_slice(&leaf0.ecx.to_le_bytes());
    let leaf1 = __cpuid(1);
    let leaf7 = if max_leaf >= 7 {
        __cpuid_count(7, 0)
    } else {
        CpuidResult {
            eax: 0,
            ebx: 0,
            ecx: 0,
            edx: 0,
        }
    };
    let ext_max = __cpuid(0x8000_0000).eax;
    let invariant_tsc = ext_max >= 0x8000_0007 && __cpuid(0x8000_0007).edx & (1 << 8) != 0;
    let tsc_hz_from_cpuid = if max_leaf >= 0x15 {
        let l = __cpuid(0x15);
        (l.eax != 0 && l.ebx != 0 && l.ecx != 0).then(|| l.ecx as u64 * l.ebx as u64 / l.eax as u64)
    } else {
        None
    };
    let hypervisor = leaf1.ecx & (1 << 31) != 0;
    let tsc_hz_from_hypervisor = if hypervisor && __cpuid(0x4000_0000).eax >= 0x4000_0010 {
        let khz = __cpuid(0x4000_0010).eax;
        (khz != 0).then_some(khz as u64 * 1000)
    } else {
        None
    };
    Features {
        pku: leaf7.ecx & (1 << 3) != 0,
        xsave: leaf1.ecx & (1 << 26) != 0,
        avx: leaf1.ecx & (1 << 28) != 0,
        avx512: leaf7.ebx & (1 << 16) != 0,
        pcid: leaf1.ecx & (1 << 17) != 0,
        fsgsbase: leaf7.ebx & 1 != 0,
        invariant_tsc,
        tsc_deadline: leaf1.ecx & (1 << 24) != 0,
        x2apic: leaf1.ecx & (1 << 21) != 0,
        hypervisor,
        tsc_hz_from_cpuid,
        tsc_hz_from_hypervisor,
        vendor,
    }
}

static FEATURES: spin::Once<Features> = spin::Once::new();

pub fn cpu() -> &'static Features {
    FEATURES.call_once(features)
}

/// 1 when CR4.PKE is set. Read by the entry code before PKRU is switched, so it lives in a
/// supervisor page. Without PKU the kernel runs, but without isolation.
#[link_section = ".supervisor.pku_flag"]
pub static PKU_ENTRY_FLAG: AtomicU8 = AtomicU8::new(0);

/// 1 when CR4.OSXSAVE is set: the entry code saves user FPU state with XSAVE, else FXSAVE.
#[link_section = ".supervisor.xsave_flag"]
pub static XSAVE_ENTRY_FLAG: AtomicU8 = AtomicU8::new(0);

pub fn pku_enabled() -> bool {
    PKU_ENTRY_FLAG.load(Ordering::Relaxed) != 0
}

/// Turns on what the kernel relies on: write protection in ring 0, SSE (already on from boot),
/// XSAVE with an XCR0 that never includes PKRU (ARCHITECTURE.md §4.2), and CR4.PKE with the
/// libOS PKRU. Returns a description of what could not be enabled.
pub fn init() -> Result<(), &'static str> {
    let f = cpu();
    // SAFETY: enabling write protection and SSE exception reporting changes no mappings.
    unsafe {
        Cr0::update(|c| {
            c.insert(Cr0Flags::WRITE_PROTECT | Cr0Flags::MONITOR_COPROCESSOR);
            c.remove(Cr0Flags::EMULATE_COPROCESSOR);
        });
    }
    if f.xsave {
        // SAFETY: OSXSAVE only allows XGETBV/XSETBV/XSAVE; checked in CPUID.
        unsafe { Cr4::update(|c| c.insert(Cr4Flags::OSXSAVE)) };
        let supported = xcr0_supported();
        let mut xcr0 = XCr0Flags::X87 | XCr0Flags::SSE;
        if f.avx && supported.contains(XCr0Flags::AVX) {
            xcr0 |= XCr0Flags::AVX;
            let avx512 = XCr0Flags::OPMASK | XCr0Flags::ZMM_HI256 | XCr0Flags::HI16_ZMM;
            if f.avx512 && supported.contains(avx512) {
                xcr0 |= avx512;
            }
        }
        // Bit 9 (PKRU) stays clear: XRSTOR from any ring can then never load PKRU.
        debug_assert!(!xcr0.contains(XCr0Flags::MPK));
        // SAFETY: every bit set is reported supported by CPUID.(EAX=0DH,ECX=0).
        unsafe { XCr0::write(xcr0) };
        XSAVE_ENTRY_FLAG.store(1, Ordering::Relaxed);
    }
    if f.fsgsbase {
        // SAFETY: lets ring 3 use RD/WRFSBASE; the entry code never trusts GS (swapgs).
        unsafe { Cr4::update(|c| c.insert(Cr4Flags::FSGSBASE)) };
    }
    if !f.pku {
        return Err("the CPU has no protection keys (PKU): processes are NOT isolated from the libOS; use -cpu max under TCG or a KVM host with PKU");
    }
    // SAFETY: PKE makes PKRU govern user-page data accesses; PKRU is set to the libOS value
    // at once, which allows every key the kernel's own pages use.
    unsafe { Cr4::update(|c| c.insert(Cr4Flags::PROTECTION_KEY_USER)) };
    PKU_ENTRY_FLAG.store(1, Ordering::Relaxed);
    write_pkru(isounik_abi::pkey::LIBOS_PKRU);
    Ok(())
}

fn xcr0_supported() -> XCr0Flags {
    let l = __cpuid_count(0xd, 0);
    XCr0Flags::from_bits_truncate(l.eax as u64 | ((l.edx as u64) << 32))
}

pub fn read_xcr0() -> u64 {
    XCr0::read_raw()
}

pub fn read_pkru() -> u32 {
    if !pku_enabled() {
        return 0;
    }
    let value: u32;
    // SAFETY: RDPKRU with ECX=0 only reads PKRU; CR4.PKE is set (checked above).
    unsafe {
        asm!("rdpkru", out("eax") value, in("ecx") 0, out("edx") _, options(nomem, nostack, preserves_flags))
    }
    value
}

/// Writes PKRU (ring 0 only). The instruction lives in supervisor pages (`.stext`): ring 3
/// cannot jump to it (ARCHITECTURE.md §4.1 applied to the libOS's own code).
#[inline(never)]
#[link_section = ".stext.write_pkru"]
pub fn write_pkru(value: u32) {
    if !pku_enabled() {
        return;
    }
    // SAFETY: WRPKRU with ECX=EDX=0 only changes which user-page data accesses are allowed.
    // Callers are libOS code choosing the domain; memory effects are the point, so no `nomem`.
    unsafe {
        asm!("wrpkru", in("eax") value, in("ecx") 0, in("edx") 0, options(nostack, preserves_flags))
    }
}

/// Whether this code runs in ring 3: libOS code behind the MPK gate, which reaches what
/// needs ring 0 through the privilege gate's services (`gate::service`).
#[inline]
pub fn in_ring3() -> bool {
    let cs: u16;
    // SAFETY: reads the code segment selector; no memory, no side effects.
    unsafe { asm!("mov {0:x}, cs", out(reg) cs, options(nomem, nostack, preserves_flags)) };
    cs & 3 == 3
}

pub fn interrupts_enabled() -> bool {
    x86_64::instructions::interrupts::are_enabled()
}

pub fn enable_interrupts() {
    x86_64::instructions::interrupts::enable();
}

pub fn disable_interrupts() {
    x86_64::instructions::interrupts::disable();
}

/// Runs `f` with interrupts off, restoring the previous state.
pub fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
    x86_64::instructions::interrupts::without_interrupts(f)
}

/// Waits for the next interrupt (enables interrupts atomically with the halt).
pub fn wait_for_interrupt() {
    x86_64::instructions::interrupts::enable_and_hlt();
}

pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC has no side effects.
    unsafe { core::arch::x86_64::_rdtsc() }
}

pub fn read_cr2() -> u64 {
    x86_64::registers::control::Cr2::read_raw()
}

pub fn read_cr3() -> u64 {
    x86_64::registers::control::Cr3::read_raw()
        .0
        .start_address()
        .as_u64()
}

pub fn read_cr4() -> u64 {
    Cr4::read_raw()
}
