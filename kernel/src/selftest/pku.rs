//! Protection keys: enforcement in ring 0 and ring 3, the libOS hidden from applications,
//! and XRSTOR unable to load PKRU.

use isounik_abi::layout::{LIBOS_FRAME_COUNTS_BASE, LIBOS_HEAP_BASE, PAGE_SIZE, PHYSMAP_BASE};
use isounik_abi::pkey::{access_disable, write_disable, APP_PKRU, K_TEST, LIBOS_PKRU};
use isounik_paging::Attrs;

use super::memory::TEST_VA;
use super::user::{run_probe, Probe, STACK_VA};
use super::{Outcome, TestResult};
use crate::arch::x86_64::user::{last_user_pkru, UserExit};
use crate::arch::x86_64::{cpu, gdt, uaccess};
use crate::ensure;
use crate::mm::{self, phys_to_virt};

const PATTERN: u64 = 0x150_c0de_f00d;

/// Page-fault error code bits.
const PF_PRESENT: u64 = 1;
const PF_WRITE: u64 = 2;
const PF_USER: u64 = 4;
const PF_PK: u64 = 0x20;

/// Maps TEST_VA as a user page with `key`, holding PATTERN, and the probe stack; runs `f`;
/// unmaps both.
fn with_key_page(key: u8, f: impl FnOnce() -> TestResult) -> TestResult {
    if !cpu::pku_enabled() {
        return Ok(Outcome::Skip("no PKU on this CPU"));
    }
    let attrs = Attrs {
        writable: true,
        ..Attrs::user(key)
    };
    let stack = Attrs {
        writable: true,
        ..Attrs::user(0)
    };
    let frame = mm::with(|m| {
        let frame = m.map_page(TEST_VA, attrs)?;
        m.map_page(STACK_VA, stack)?;
        Ok::<_, isounik_paging::MapError>(frame)
    })
    .map_err(|e| alloc::format!("map: {e:?}"))?;
    // Written through the direct map: the libOS PKRU itself denies K_TEST.
    // SAFETY: the frame was just allocated for this test.
    unsafe { core::ptr::write_volatile(phys_to_virt(frame) as *mut u64, PATTERN) };
    let result = f();
    mm::with(|m| {
        m.unmap_page(TEST_VA);
        m.unmap_page(STACK_VA);
    });
    result
}

fn expect_fault(
    exit: UserExit,
    address: u64,
    error: u64,
    what: &str,
) -> Result<(), alloc::string::String> {
    match exit {
        UserExit::Exception {
            vector: 14,
            error: e,
            cr2,
        } if e == error && cr2 == address => Ok(()),
        other => Err(alloc::format!(
            "{what}: expected #PF error {error:#x} at {address:#x}, got {other:?}"
        )),
    }
}

pub fn ring0() -> TestResult {
    with_key_page(K_TEST, || {
        ensure!(
            cpu::read_pkru() == LIBOS_PKRU,
            "the kernel runs with PKRU {:#x}",
            cpu::read_pkru()
        );
        let run = |pkru: u32, f: &dyn Fn() -> Result<u64, uaccess::UserFault>| {
            cpu::write_pkru(pkru);
            let r = f();
            cpu::write_pkru(LIBOS_PKRU);
            r
        };
        let allow = LIBOS_PKRU & !(access_disable(K_TEST) | write_disable(K_TEST));
        let v = run(allow, &|| uaccess::probe_read(TEST_VA))
            .map_err(|e| alloc::format!("allowed read faulted: {e:?}"))?;
        ensure!(v == PATTERN, "allowed read gave {v:#x}");
        run(allow, &|| uaccess::probe_write(TEST_VA + 8, 1).map(|_| 0))
            .map_err(|e| alloc::format!("allowed write faulted: {e:?}"))?;

        let e = run(LIBOS_PKRU, &|| uaccess::probe_read(TEST_VA))
            .err()
            .ok_or("read allowed although PKRU denies the key")?;
        ensure!(
            e.error == PF_PRESENT | PF_PK,
            "denied read: error code {:#x}, expected {:#x}",
            e.error,
            PF_PRESENT | PF_PK
        );

        let write_only_denied = allow | write_disable(K_TEST);
        ensure!(
            run(write_only_denied, &|| uaccess::probe_read(TEST_VA)) == Ok(PATTERN),
            "read denied under write-disable only"
        );
        let e = run(write_only_denied, &|| {
            uaccess::probe_write(TEST_VA, 2).map(|_| 0)
        })
        .err()
        .ok_or("write allowed under write-disable")?;
        ensure!(
            e.error == PF_PRESENT | PF_WRITE | PF_PK,
            "denied write: error code {:#x}",
            e.error
        );
        Ok(Outcome::Pass)
    })
}

pub fn ring3() -> TestResult {
    with_key_page(K_TEST, || {
        let allow = APP_PKRU & !(access_disable(K_TEST) | write_disable(K_TEST));
        match run_probe(Probe::Read, [TEST_VA, 0], allow) {
            (UserExit::Syscall, regs) if regs.rax == PATTERN => {}
            other => return Err(alloc::format!("allowed ring-3 read: {other:?}")),
        }
        let (exit, _) = run_probe(Probe::Read, [TEST_VA, 0], APP_PKRU);
        expect_fault(
            exit,
            TEST_VA,
            PF_PRESENT | PF_USER | PF_PK,
            "denied ring-3 read",
        )?;
        let write_only_denied = allow | write_disable(K_TEST);
        match run_probe(Probe::Read, [TEST_VA, 0], write_only_denied) {
            (UserExit::Syscall, regs) if regs.rax == PATTERN => {}
            other => return Err(alloc::format!("ring-3 read under write-disable: {other:?}")),
        }
        let (exit, _) = run_probe(Probe::Write, [TEST_VA, 5], write_only_denied);
        expect_fault(
            exit,
            TEST_VA,
            PF_PRESENT | PF_WRITE | PF_USER | PF_PK,
            "denied ring-3 write",
        )?;
        Ok(Outcome::Pass)
    })
}

/// An application PKRU denies every libOS page: data, heap; supervisor pages are out of
/// reach by U/S.
pub fn libos_hidden_from_ring3() -> TestResult {
    static LIBOS_SECRET: core::sync::atomic::AtomicU64 =
        core::sync::atomic::AtomicU64::new(0x5ec7e7);
    with_key_page(K_TEST, || {
        let secret = &LIBOS_SECRET as *const _ as u64;
        let (exit, _) = run_probe(Probe::Read, [secret, 0], APP_PKRU);
        expect_fault(
            exit,
            secret,
            PF_PRESENT | PF_USER | PF_PK,
            "ring-3 read of libOS data",
        )?;
        let (exit, _) = run_probe(Probe::Write, [secret, 0], APP_PKRU);
        expect_fault(
            exit,
            secret,
            PF_PRESENT | PF_WRITE | PF_USER | PF_PK,
            "ring-3 write of libOS data",
        )?;
        ensure!(
            LIBOS_SECRET.load(core::sync::atomic::Ordering::SeqCst) == 0x5ec7e7,
            "libOS data changed"
        );
        let (exit, _) = run_probe(Probe::Read, [LIBOS_HEAP_BASE, 0], APP_PKRU);
        expect_fault(
            exit,
            LIBOS_HEAP_BASE,
            PF_PRESENT | PF_USER | PF_PK,
            "ring-3 read of the libOS heap",
        )?;
        // A file's data and the frames' reference counts, which ring-3 libOS code uses.
        let file_page = crate::mm::frame::Frame::new_file_data(None).ok_or("no memory")?;
        let file_data = crate::mm::frame::file_data_address(file_page.phys());
        for (addr, what) in [
            (file_data, "ring-3 read of a file page"),
            (LIBOS_FRAME_COUNTS_BASE, "ring-3 read of the frame counts"),
        ] {
            let (exit, _) = run_probe(Probe::Read, [addr, 0], APP_PKRU);
            expect_fault(exit, addr, PF_PRESENT | PF_USER | PF_PK, what)?;
        }
        let (exit, _) = run_probe(Probe::Write, [file_data, 0], APP_PKRU);
        expect_fault(
            exit,
            file_data,
            PF_PRESENT | PF_WRITE | PF_USER | PF_PK,
            "ring-3 write of a file page",
        )?;
        ensure!(
            file_page.file_data().iter().all(|b| *b == 0),
            "file data changed"
        );
        drop(file_page);
        let gdt = gdt::supervisor_range().start;
        let (exit, _) = run_probe(Probe::Read, [gdt, 0], APP_PKRU);
        expect_fault(
            exit,
            gdt,
            PF_PRESENT | PF_USER,
            "ring-3 read of a supervisor page",
        )?;
        let (exit, _) = run_probe(Probe::Read, [PHYSMAP_BASE + PAGE_SIZE, 0], APP_PKRU);
        expect_fault(
            exit,
            PHYSMAP_BASE + PAGE_SIZE,
            PF_PRESENT | PF_USER,
            "ring-3 read of the direct map",
        )?;
        Ok(Outcome::Pass)
    })
}

/// XCR0 bit 9 is clear, so XRSTOR (any mask) cannot load PKRU (ARCHITECTURE.md §4.2).
pub fn xrstor_cannot_load_pkru() -> TestResult {
    if !cpu::cpu().xsave {
        return Ok(Outcome::Skip("no XSAVE"));
    }
    ensure!(
        cpu::read_xcr0() & (1 << 9) == 0,
        "XCR0 {:#x} includes PKRU",
        cpu::read_xcr0()
    );
    with_key_page(0, || {
        // An XSAVE image in user memory: legacy area with MXCSR, header with XSTATE_BV = x87|SSE,
        // and a PKRU component (offset from CPUID.(0xD,9)) holding "allow everything".
        let pkru_offset = core::arch::x86_64::__cpuid_count(0xd, 9).ebx as u64;
        let base = TEST_VA;
        let zero = [0u8; 8];
        for off in (0..PAGE_SIZE).step_by(8) {
            uaccess::copy_to_user(base + off, &zero).map_err(|e| alloc::format!("{e:?}"))?;
        }
        uaccess::copy_to_user(base + 24, &0x1f80u32.to_le_bytes())
            .map_err(|e| alloc::format!("{e:?}"))?;
        uaccess::copy_to_user(base + 512, &3u64.to_le_bytes())
            .map_err(|e| alloc::format!("{e:?}"))?;
        if pkru_offset != 0 && pkru_offset + 4 <= PAGE_SIZE {
            uaccess::copy_to_user(base + pkru_offset, &0u32.to_le_bytes())
                .map_err(|e| alloc::format!("{e:?}"))?;
        }
        match run_probe(Probe::Xrstor, [base, 0], APP_PKRU) {
            (UserExit::Syscall, regs) => {
                ensure!(
                    regs.rax as u32 == APP_PKRU,
                    "PKRU after XRSTOR is {:#x}, expected {APP_PKRU:#x}",
                    regs.rax
                )
            }
            other => return Err(alloc::format!("XRSTOR probe: {other:?}")),
        }
        // Asking for the PKRU component in XSTATE_BV is refused by the CPU (#GP) and
        // leaves PKRU as it was.
        uaccess::copy_to_user(base + 512, &(3u64 | 1 << 9).to_le_bytes())
            .map_err(|e| alloc::format!("{e:?}"))?;
        match run_probe(Probe::Xrstor, [base, 0], APP_PKRU) {
            (UserExit::Exception { vector: 13, .. }, _) if last_user_pkru() == APP_PKRU => {}
            other => {
                return Err(alloc::format!(
                    "XRSTOR with XSTATE_BV bit 9: {other:?}, PKRU {:#x}",
                    last_user_pkru()
                ))
            }
        }
        Ok(Outcome::Pass)
    })
}
