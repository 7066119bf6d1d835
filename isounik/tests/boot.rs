//! Boots the real (embedded) kernel through the `isounik` binary and checks the host-guest
//! contract of `crates/abi` end to end: self tests, exit statuses, crash reports with
//! symbolized backtraces, console input, and the tool's own errors.
//!
//! Every boot passes `--timeout`, and the harness kills isounik itself if even that fails,
//! so a hang fails a test instead of blocking the run.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{isounik, isounik_with, Ran, EXIT_CRASH, EXIT_TOOL, ISOUNIK};

fn describe(ran: &Ran) -> String {
    ran.describe()
}

/// `selftest: N passed, 0 failed[, K skipped]` as the last stdout line; returns N.
fn passed_count(output: &Ran) -> usize {
    let stdout = output.stdout();
    let last = stdout.lines().last().unwrap_or_default().to_owned();
    let rest = last
        .strip_prefix("selftest: ")
        .unwrap_or_else(|| panic!("no closing line\n{}", describe(output)));
    let mut parts = rest.split(", ");
    let passed: usize = parts
        .next()
        .and_then(|p| p.strip_suffix(" passed"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("bad closing line {last:?}"));
    assert_eq!(parts.next(), Some("0 failed"), "{}", describe(output));
    if let Some(skipped) = parts.next() {
        assert!(skipped.ends_with(" skipped"), "bad closing line {last:?}");
    }
    passed
}

fn selftest_passes(machine: &str) {
    let output = isounik(&["selftest", "--machine", machine, "--timeout", "60"]);
    assert_eq!(output.code(), Some(0), "{}", describe(&output));
    let passed = passed_count(&output);
    assert!(
        passed >= 8,
        "only {passed} self tests passed\n{}",
        describe(&output)
    );
    let stdout = output.stdout();
    let results = stdout.lines().filter(|l| l.starts_with("test ")).count();
    assert!(results >= passed, "{}", describe(&output));
}

#[test]
fn selftest_passes_on_q35() {
    selftest_passes("q35");
}

#[test]
fn selftest_passes_on_microvm() {
    selftest_passes("microvm");
}

#[test]
fn run_exits_with_the_guest_status_and_prints_nothing() {
    let output = isounik(&["run", "--timeout", "60", "--append", "exit=3"]);
    assert_eq!(output.code(), Some(3), "{}", describe(&output));
    assert!(output.output.stdout.is_empty(), "{}", describe(&output));
    assert!(
        output.output.stderr.is_empty(),
        "quiet by default\n{}",
        describe(&output)
    );
}

#[test]
fn run_on_microvm_exits_with_the_guest_status() {
    let output = isounik(&[
        "run",
        "--machine",
        "microvm",
        "--timeout",
        "60",
        "--append",
        "exit=7",
    ]);
    assert_eq!(output.code(), Some(7), "{}", describe(&output));
    assert!(output.output.stdout.is_empty(), "{}", describe(&output));
}

/// Backtrace frame lines: `  #I 0xADDR symbol+0xoff`.
fn frames(stderr: &str) -> impl Iterator<Item = &str> {
    stderr
        .lines()
        .filter(|line| line.starts_with("  #") && line.contains(" 0x"))
}

/// A frame that names a function of the kernel crate.
fn has_kernel_frame(stderr: &str) -> bool {
    frames(stderr).any(|line| line.contains("isounik_kernel"))
}

/// A frame with a symbol at all.
fn has_symbolized_frame(stderr: &str) -> bool {
    frames(stderr).any(|line| !line.ends_with(" ??"))
}

fn crash_is_reported(kind: &str, limit: Duration) -> Ran {
    let arg = format!("crash={kind}");
    let output = isounik_with(&["run", "--timeout", "60", "--append", &arg], b"", limit);
    assert_eq!(
        output.code(),
        Some(EXIT_CRASH),
        "crash={kind}\n{}",
        describe(&output)
    );
    let stderr = output.stderr();
    assert!(
        stderr.contains("isounik: error: kernel crashed"),
        "crash={kind}\n{}",
        describe(&output)
    );
    output
}

#[test]
fn pagefault_crash_is_reported_with_a_symbolized_backtrace() {
    let output = crash_is_reported("pagefault", Duration::from_secs(60));
    assert!(
        has_kernel_frame(&output.stderr()),
        "no backtrace frame naming a kernel function\n{}",
        describe(&output)
    );
}

#[test]
fn stackoverflow_crash_is_reported() {
    crash_is_reported("stackoverflow", Duration::from_secs(30));
}

#[test]
fn invalid_opcode_crash_is_reported() {
    crash_is_reported("ud", Duration::from_secs(30));
}

#[test]
fn general_protection_crash_is_reported() {
    crash_is_reported("gp", Duration::from_secs(30));
}

#[test]
fn divide_error_crash_is_reported() {
    crash_is_reported("divide", Duration::from_secs(30));
}

#[test]
fn panic_is_reported() {
    let output = crash_is_reported("panic", Duration::from_secs(30));
    assert!(
        has_symbolized_frame(&output.stderr()),
        "{}",
        describe(&output)
    );
}

#[test]
fn out_of_memory_is_reported() {
    crash_is_reported("oom", Duration::from_secs(30));
}

#[test]
fn console_input_is_echoed() {
    let output = isounik_with(
        &["run", "--timeout", "60", "--append", "console=echo"],
        b"hello\nworld\n",
        Duration::from_secs(90),
    );
    assert_eq!(output.code(), Some(0), "{}", describe(&output));
    assert_eq!(output.stdout(), "hello\nworld\n", "{}", describe(&output));
}

#[test]
fn missing_kernel_is_a_clear_error() {
    let output = isounik(&[
        "run",
        "--timeout",
        "60",
        "--kernel",
        "/nonexistent/isounik-kernel",
    ]);
    assert_eq!(output.code(), Some(EXIT_TOOL), "{}", describe(&output));
    let stderr = output.stderr();
    assert!(
        stderr.starts_with("isounik: error: ") && stderr.contains("/nonexistent/isounik-kernel"),
        "{}",
        describe(&output)
    );
}

#[test]
fn missing_qemu_is_a_clear_error() {
    let output = isounik(&[
        "run",
        "--timeout",
        "60",
        "--qemu",
        "/nonexistent/qemu-system-x86_64",
    ]);
    assert_eq!(output.code(), Some(EXIT_TOOL), "{}", describe(&output));
    assert!(
        output.stderr().contains("not found"),
        "{}",
        describe(&output)
    );

    let mut command = Command::new(ISOUNIK);
    command
        .args(["run", "--timeout", "60"])
        .env("PATH", "/nonexistent");
    let output = common::run_with_watchdog(command, b"", common::WATCHDOG);
    assert_eq!(output.code(), Some(EXIT_TOOL), "{}", describe(&output));
    assert_eq!(
        output.stderr(),
        "isounik: error: qemu-system-x86_64 not found; install it with: apt-get install qemu-system-x86\n"
    );
}

#[test]
fn kvm_without_pku_is_refused() {
    let info = isounik(&["info"]);
    assert_eq!(info.code(), Some(0), "{}", describe(&info));
    if info.stdout().contains("--accel auto:  kvm") {
        eprintln!("skipped: this machine's KVM exposes PKU");
        return;
    }
    let output = isounik(&[
        "run",
        "--accel",
        "kvm",
        "--timeout",
        "60",
        "--append",
        "exit=0",
    ]);
    assert_eq!(output.code(), Some(EXIT_TOOL), "{}", describe(&output));
    let stderr = output.stderr();
    assert!(
        stderr.starts_with("isounik: error: --accel kvm: ")
            && (stderr.contains("PKU") || stderr.contains("KVM")),
        "{}",
        describe(&output)
    );
}

#[test]
fn help_teaches_the_subcommands() {
    let output = isounik(&["--help"]);
    assert_eq!(output.code(), Some(0));
    let help = output.stdout();
    for word in ["Iso-UniK", "run", "selftest", "info", "Examples"] {
        assert!(help.contains(word), "--help lacks {word:?}:\n{help}");
    }
}

/// The TSC and APIC calibration are right in wall-clock terms: a guest sleep of 1500 ms takes
/// at least that long on the host and not much more (boot adds well under a second).
fn sleep_matches_wall_clock(machine: &str) {
    let started = Instant::now();
    let output = isounik(&[
        "run",
        "--machine",
        machine,
        "--timeout",
        "60",
        "--append",
        "sleep=1500",
    ]);
    let elapsed = started.elapsed();
    assert_eq!(output.code(), Some(0), "{}", describe(&output));
    assert!(
        elapsed >= Duration::from_millis(1500) && elapsed < Duration::from_millis(1500 + 2500),
        "a 1500 ms guest sleep took {elapsed:?} on {machine}"
    );
}

#[test]
fn guest_time_matches_wall_clock_on_q35() {
    sleep_matches_wall_clock("q35");
}

#[test]
fn guest_time_matches_wall_clock_on_microvm() {
    sleep_matches_wall_clock("microvm");
}

#[test]
fn timeout_stops_a_guest_that_never_finishes() {
    let started = Instant::now();
    let output = isounik(&["run", "--timeout", "2", "--append", "crash=hang"]);
    assert_eq!(output.code(), Some(124), "{}", describe(&output));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        output.stderr().contains("did not finish within 2 s"),
        "{}",
        describe(&output)
    );
}

/// ARCHITECTURE.md §4.1 applied to the libOS itself: ring 3 can fetch libOS code in user
/// pages (protection keys do not check fetches), so the only `0f 01 ef` (WRPKRU) bytes there
/// may be the call gate's, each followed by its re-check. Every other WRPKRU is in `.stext`,
/// which is mapped as supervisor pages (checked by the `layout` self test).
#[test]
fn the_only_wrpkru_reachable_from_ring_3_is_the_call_gate() {
    let elf = std::fs::read(env!("ISOUNIK_KERNEL_ELF")).expect("kernel ELF");
    let file = elf::ElfBytes::<elf::endian::LittleEndian>::minimal_parse(&elf).expect("ELF");
    let (shdrs, strtab) = file.section_headers_with_strtab().expect("sections");
    let (shdrs, strtab) = (shdrs.expect("section headers"), strtab.expect("names"));
    let text = shdrs
        .iter()
        .find(|s| strtab.get(s.sh_name as usize).ok() == Some(".text"))
        .expect(".text");
    let (symtab, symstr) = file.symbol_table().expect("symbols").expect("symbol table");
    let symbol = |name: &str| {
        symtab
            .iter()
            .find(|s| symstr.get(s.st_name as usize).ok() == Some(name))
            .unwrap_or_else(|| panic!("no symbol {name}"))
            .st_value
    };
    let (gate_start, gate_end) = (symbol("gate_start"), symbol("gate_end"));
    let bytes = &elf[text.sh_offset as usize..(text.sh_offset + text.sh_size) as usize];
    let hits: Vec<u64> = bytes
        .windows(3)
        .enumerate()
        .filter(|(_, w)| *w == [0x0f, 0x01, 0xef])
        .map(|(i, _)| text.sh_addr + i as u64)
        .collect();
    assert!(
        !hits.is_empty(),
        "the call gate's WRPKRU should be in .text"
    );
    for hit in hits {
        assert!(
            (gate_start..gate_end).contains(&hit),
            "WRPKRU bytes at {hit:#x} in user-executable .text outside the call gate ({gate_start:#x}..{gate_end:#x})"
        );
    }
}
