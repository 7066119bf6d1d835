//! Frames, heap, page tables and the address-space layout.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use isounik_abi::layout::{KERNEL_BASE, LIBOS_HEAP_BASE, PAGE_SIZE, PHYSMAP_BASE, USER_END};
use isounik_abi::pkey::K_LIBOS;
use isounik_paging::{flags, Attrs, FrameAllocator};

use super::{Outcome, TestResult};
use crate::arch::x86_64::{gdt, uaccess};
use crate::ensure;
use crate::mm::{self, phys_to_virt};

/// A lower-half address the tests map and unmap; nothing else uses the kernel table's
/// lower half.
pub const TEST_VA: u64 = 0x4000_0000;

pub fn frame_allocator() -> TestResult {
    let before = mm::stats().free_frames;
    let frames: Vec<u64> = mm::with(|m| (0..100).map_while(|_| m.frames.allocate()).collect());
    ensure!(
        frames.len() == 100,
        "only {} frames allocated",
        frames.len()
    );
    let mut sorted = frames.clone();
    sorted.sort_unstable();
    sorted.dedup();
    ensure!(sorted.len() == 100, "a frame was handed out twice");
    ensure!(
        frames.iter().all(|f| f % PAGE_SIZE == 0 && *f >= 1 << 20),
        "misaligned or low frame"
    );
    ensure!(
        mm::stats().free_frames == before - 100,
        "free count did not drop by 100"
    );
    for f in &frames {
        // Frames are usable memory: write a pattern through the direct map.
        // SAFETY: the frame was just allocated to this test.
        unsafe { core::ptr::write_volatile(phys_to_virt(*f) as *mut u64, *f ^ 0x5a5a) };
    }
    for f in &frames {
        // SAFETY: as above.
        let v = unsafe { core::ptr::read_volatile(phys_to_virt(*f) as *const u64) };
        ensure!(v == f ^ 0x5a5a, "frame {f:#x} lost its pattern");
    }
    mm::with(|m| frames.iter().for_each(|f| m.frames.deallocate(*f)));
    ensure!(mm::stats().free_frames == before, "frames leaked");
    Ok(Outcome::Pass)
}

pub fn heap() -> TestResult {
    let mut map = BTreeMap::new();
    for i in 0..2000u64 {
        map.insert(i, alloc::format!("value {i}"));
    }
    ensure!(
        map.get(&1234).map(|s| s.as_str()) == Some("value 1234"),
        "BTreeMap lost a value"
    );
    // A block larger than the initial heap forces it to grow by mapping frames.
    let big: Vec<u64> = (0..(4 << 20) / 8).collect();
    ensure!(
        big.iter().enumerate().all(|(i, v)| *v == i as u64),
        "large block corrupted"
    );
    ensure!(mm::stats().heap_bytes >= 4 << 20, "heap did not grow");
    let boxed = alloc::boxed::Box::new([7u8; 10_000]);
    ensure!(boxed.iter().all(|b| *b == 7), "boxed array corrupted");
    Ok(Outcome::Pass)
}

pub fn page_tables() -> TestResult {
    let attrs = Attrs {
        writable: true,
        ..Attrs::user(0)
    };
    let frame =
        mm::with(|m| m.map_page(TEST_VA, attrs)).map_err(|e| alloc::format!("map: {e:?}"))?;
    let result = (|| {
        uaccess::probe_write(TEST_VA + 8, 0x1122_3344)
            .map_err(|e| alloc::format!("write via new mapping: {e:?}"))?;
        // SAFETY: the frame backs TEST_VA and belongs to this test.
        let via_physmap =
            unsafe { core::ptr::read_volatile((phys_to_virt(frame) + 8) as *const u64) };
        ensure!(
            via_physmap == 0x1122_3344,
            "direct map sees {via_physmap:#x}"
        );
        let m = mm::with(|m| m.translate(TEST_VA + 8)).ok_or("translate failed")?;
        ensure!(
            m.phys == frame + 8,
            "translate gives {:#x}, expected {:#x}",
            m.phys,
            frame + 8
        );
        // Read-only now: a write must fault, a read must not.
        mm::with(|m| m.protect_page(TEST_VA, Attrs::user(0)))
            .map_err(|e| alloc::format!("protect: {e:?}"))?;
        ensure!(
            uaccess::probe_read(TEST_VA + 8) == Ok(0x1122_3344),
            "read after protect failed"
        );
        let err = uaccess::probe_write(TEST_VA, 1)
            .err()
            .ok_or("write to a read-only page succeeded")?;
        ensure!(
            err.error & 3 == 3,
            "read-only write fault error code {:#x}",
            err.error
        );
        Ok(Outcome::Pass)
    })();
    mm::with(|m| m.unmap_page(TEST_VA));
    let err = uaccess::probe_read(TEST_VA)
        .err()
        .ok_or("unmapped page still readable (stale TLB?)")?;
    ensure!(
        err.address == TEST_VA && err.error & 1 == 0,
        "unexpected fault {err:?}"
    );
    result
}

fn leaf(va: u64) -> Result<u64, alloc::string::String> {
    mm::with(|m| m.translate(va))
        .map(|m| m.flags)
        .ok_or(alloc::format!("{va:#x} is not mapped"))
}

pub fn layout() -> TestResult {
    extern "C" {
        static __text_start: u8;
        static __stext_start: u8;
        static __rodata_start: u8;
        static __data_start: u8;
    }
    // Ring-0-only code (every WRPKRU but the call gate's) is out of ring 3's reach.
    let stext = leaf((&raw const __stext_start) as u64)?;
    ensure!(
        stext & flags::USER == 0 && stext & flags::NO_EXECUTE == 0 && stext & flags::WRITABLE == 0,
        "stext flags {stext:#x}"
    );
    let text = leaf((&raw const __text_start) as u64)?;
    let rodata = leaf((&raw const __rodata_start) as u64)?;
    let data = leaf((&raw const __data_start) as u64)?;
    let libos_user = |f: u64| f & flags::USER != 0 && flags::pkey(f) == K_LIBOS;
    ensure!(
        libos_user(text) && text & flags::NO_EXECUTE == 0 && text & flags::WRITABLE == 0,
        "text flags {text:#x}"
    );
    ensure!(
        libos_user(rodata) && rodata & flags::NO_EXECUTE != 0 && rodata & flags::WRITABLE == 0,
        "rodata flags {rodata:#x}"
    );
    ensure!(
        libos_user(data) && data & flags::NO_EXECUTE != 0 && data & flags::WRITABLE != 0,
        "data flags {data:#x}"
    );
    let heap = leaf(LIBOS_HEAP_BASE)?;
    ensure!(
        libos_user(heap) && heap & flags::NO_EXECUTE != 0,
        "heap flags {heap:#x}"
    );
    // What the CPU touches before PKRU is switched must be supervisor pages.
    for addr in gdt::supervisor_range().step_by(PAGE_SIZE as usize) {
        let f = leaf(addr)?;
        ensure!(
            f & flags::USER == 0 && f & flags::NO_EXECUTE != 0,
            "supervisor page {addr:#x} flags {f:#x}"
        );
    }
    let physmap = leaf(PHYSMAP_BASE + (1 << 20))?;
    ensure!(
        physmap & flags::USER == 0 && physmap & flags::NO_EXECUTE != 0,
        "direct map flags {physmap:#x}"
    );
    // The boot identity map is gone: the lower half is the application's.
    ensure!(
        mm::with(|m| m.translate(1 << 20)).is_none(),
        "low memory still identity-mapped"
    );
    ensure!(KERNEL_BASE > USER_END, "kernel image in the lower half");
    Ok(Outcome::Pass)
}

/// File pages live in the file-data window (user pages of the libOS, K_LIBOS) exactly as
/// long as they do; writing a shared one makes a copy with its own place there; the last
/// reference takes a page out and gives its frame back.
pub fn file_data_window() -> TestResult {
    use crate::mm::frame::{file_data_address, Frame};
    let before = mm::stats().free_frames;
    let mut page = Frame::new_file_data(None).ok_or("no memory for a file page")?;
    let first = leaf(file_data_address(page.phys()))?;
    ensure!(
        first & flags::USER != 0
            && flags::pkey(first) == K_LIBOS
            && first & flags::NO_EXECUTE != 0
            && first & flags::WRITABLE != 0,
        "file-data window flags {first:#x}"
    );
    ensure!(
        page.is_file_data() && page.file_data().iter().all(|b| *b == 0),
        "a new file page is not zero-filled file data"
    );
    page.file_data_mut().ok_or("no memory")?[..4].copy_from_slice(b"data");
    let shared = page.clone();
    page.file_data_mut().ok_or("no memory for the copy")?[..4].copy_from_slice(b"DATA");
    ensure!(
        page.phys() != shared.phys() && page.is_file_data() && page.is_unique(),
        "a shared file page was written in place"
    );
    ensure!(
        shared.file_data()[..4] == *b"data" && page.file_data()[..4] == *b"DATA",
        "the copy or the original has the wrong bytes"
    );
    let places = [page.phys(), shared.phys()].map(file_data_address);
    drop(page);
    drop(shared);
    for va in places {
        ensure!(
            leaf(va).is_err(),
            "{va:#x} still in the window after its last reference"
        );
    }
    // The window's page tables stay once made: at most a page directory and a page table
    // for each of the two pages.
    let after = mm::stats().free_frames;
    ensure!(
        after + 4 >= before,
        "file pages leaked: {before} free frames before, {after} after"
    );
    Ok(Outcome::Pass)
}

pub fn guard_page() -> TestResult {
    let stack = mm::with(|m| m.new_kernel_stack()).map_err(|e| alloc::format!("{e:?}"))?;
    ensure!(
        uaccess::probe_read(stack.start).is_ok(),
        "stack bottom not mapped"
    );
    ensure!(
        uaccess::probe_read(stack.end - 8).is_ok(),
        "stack top not mapped"
    );
    let err = uaccess::probe_read(stack.start - 8)
        .err()
        .ok_or("guard page below the stack is mapped")?;
    ensure!(
        mm::is_guard_page(err.address),
        "fault at {:#x} not recognised as a guard page",
        err.address
    );
    Ok(Outcome::Pass)
}

pub fn user_copy_fault() -> TestResult {
    let mut buf = [0u8; 16];
    let e = uaccess::copy_from_user(&mut buf, 0x10)
        .err()
        .ok_or("NULL page readable")?;
    ensure!(e.address == 0x10, "fault address {:#x}", e.address);
    // The libOS must refuse its own addresses on a caller's behalf, without touching them.
    let e = uaccess::copy_from_user(&mut buf, LIBOS_HEAP_BASE)
        .err()
        .ok_or("copied from the libOS heap")?;
    ensure!(
        e.error == 0,
        "the range check should refuse before any access"
    );
    ensure!(
        uaccess::copy_to_user(USER_END - 8, &buf).is_err(),
        "range crossing USER_END accepted"
    );
    let attrs = Attrs {
        writable: true,
        ..Attrs::user(0)
    };
    mm::with(|m| m.map_page(TEST_VA, attrs)).map_err(|e| alloc::format!("{e:?}"))?;
    let ok = uaccess::copy_to_user(TEST_VA + PAGE_SIZE - 8, &buf[..8]).is_ok()
        && uaccess::copy_to_user(TEST_VA + PAGE_SIZE - 8, &buf).is_err();
    mm::with(|m| m.unmap_page(TEST_VA));
    ensure!(
        ok,
        "copy inside the page must work and a copy running past it must fail"
    );
    Ok(Outcome::Pass)
}
