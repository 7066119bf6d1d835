//! Iso-UniK kernel: the libOS that runs isolated Linux processes, kept apart by memory
//! protection keys (see ARCHITECTURE.md). Boots through PVH (arch/x86_64/boot.s).
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

extern crate alloc;

#[macro_use]
mod log;

mod arch;
mod boot_info;
mod crash;
mod drivers;
mod fs;
mod irq;
mod mem;
mod mm;
mod proc;
mod random;
mod run;
mod sched;
mod selftest;
mod syscall;
mod time;

use isounik_abi::cmdline;
use isounik_abi::log::{EXIT, MARK};

use arch::x86_64::{apic, cpu, gdt, trap};
use boot_info::BootInfo;

static BOOT_INFO: spin::Once<BootInfo> = spin::Once::new();

/// Entered from boot.s on the boot stack, with the boot page tables.
#[no_mangle]
extern "C" fn kmain(start_info_phys: u64) -> ! {
    gdt::init();
    let boot = BOOT_INFO.call_once(|| {
        BootInfo::parse(start_info_phys).unwrap_or_else(|e| crash::fatal(format_args!("{e}")))
    });
    log::set_verbose(cmdline::get(boot.cmdline(), cmdline::VERBOSE).is_some());
    kdebug!(
        "Iso-UniK {} booting; command line: {:?}",
        env!("CARGO_PKG_VERSION"),
        boot.cmdline()
    );
    if let Err(why) = cpu::init() {
        kprintln!("warning: {why}");
    }
    let f = cpu::cpu();
    kdebug!(
        "cpu: {} pku={} xsave={} avx={} avx512={} pcid={} fsgsbase={} invariant-tsc={} tsc-deadline={} x2apic={} hypervisor={}",
        core::str::from_utf8(&f.vendor).unwrap_or("?"),
        f.pku, f.xsave, f.avx, f.avx512, f.pcid, f.fsgsbase, f.invariant_tsc, f.tsc_deadline, f.x2apic, f.hypervisor
    );
    mm::init(boot);
    let stack = mm::with(|m| m.new_kernel_stack())
        .unwrap_or_else(|e| crash::fatal(format_args!("no memory for the kernel stack: {e:?}")));
    // SAFETY: the new stack is mapped, unused and 16-byte aligned at its top;
    // `kmain_on_stack` never returns, so nothing on the boot stack is needed again.
    unsafe {
        core::arch::asm!(
            "mov rsp, {top}",
            "xor ebp, ebp",
            "call {next}",
            "ud2",
            top = in(reg) stack.end,
            next = sym kmain_on_stack,
            options(noreturn),
        )
    }
}

/// The rest of boot, on a stack with a guard page.
extern "C" fn kmain_on_stack() -> ! {
    let boot = BOOT_INFO.get().expect("set in kmain");
    let (lapic, ioapic) = mm::with(|m| {
        Ok::<_, isounik_paging::MapError>((
            m.map_mmio(apic::LAPIC_PHYS, 4096)?,
            m.map_mmio(apic::IOAPIC_PHYS, 4096)?,
        ))
    })
    .unwrap_or_else(|e| crash::fatal(format_args!("mapping the APICs failed: {e:?}")));
    apic::init(lapic, ioapic, trap::SPURIOUS_VECTOR);
    drivers::uart::init();
    apic::route_irq(isounik_abi::io::CONSOLE_IRQ, trap::UART_VECTOR);
    kprintln!("{MARK}{} ", isounik_abi::log::CONSOLE_READY);
    match time::init() {
        Ok(source) => kdebug!(
            "TSC {} kHz (from {:?}), APIC timer {} ticks per {} ms",
            time::tsc_hz() / 1000,
            source,
            time::apic_ticks_per_period(),
            1000 / time::TICK_HZ
        ),
        Err(why) => crash::fatal(format_args!("{why}")),
    }
    cpu::enable_interrupts();
    let stats = mm::stats();
    kdebug!(
        "memory: {} MiB usable, {} MiB free, PKU {}",
        (stats.total_frames * 4096) >> 20,
        (stats.free_frames * 4096) >> 20,
        if cpu::pku_enabled() { "on" } else { "OFF" }
    );

    // The boot code becomes task 0; programs run on tasks of their own.
    sched::init(0);
    let line = boot.cmdline();
    match cmdline::get(line, cmdline::MODE).unwrap_or("run") {
        "selftest" => {
            let failed = selftest::run_all(cmdline::get(line, cmdline::SELFTEST_FILTER));
            shutdown(if failed == 0 { 0 } else { 1 })
        }
        "run" => run::main(line, boot),
        other => {
            kprintln!("unknown mode {other:?} (expected run or selftest)");
            shutdown(2)
        }
    }
}

/// Ends the VM with `status` as the guest's exit status.
pub fn shutdown(status: u8) -> ! {
    drivers::uart::flush();
    mm::activate_kernel_table();
    kprintln!("{MARK}{EXIT} {status}");
    arch::x86_64::exit_qemu(isounik_abi::exit::NORMAL)
}
