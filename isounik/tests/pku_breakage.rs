//! Deliberately broken kernels show that the checks catch what they claim to: a kernel
//! built with `--features break-pkru` (applications run with the libOS PKRU) must fail the
//! PKU self tests, and one built with `--features panic-in-gate` (a panic on request, in
//! ring 3 behind the MPK gate) must report it and stop. A test that cannot fail proves
//! nothing.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::programs::{c_program, Libc};

const ISOUNIK: &str = env!("CARGO_BIN_EXE_isounik");

/// The kernel built with `feature`, in a target directory of its own.
fn build_kernel_with(feature: &str) -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target_dir = repo.join(format!("target/kernel-{feature}"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(repo.join("kernel"))
        .args([
            "build",
            "--release",
            "--quiet",
            "--features",
            feature,
            "--target-dir",
        ])
        .arg(&target_dir);
    // Only the kernel's own .cargo/config.toml may set its flags.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        if (name.starts_with("CARGO_") && name != "CARGO_HOME")
            || name.starts_with("RUST") && name != "RUSTUP_HOME" && name != "RUSTUP_TOOLCHAIN"
        {
            cmd.env_remove(&name);
        }
    }
    let status = cmd.status().expect("cargo runs");
    assert!(status.success(), "building the {feature} kernel failed");
    target_dir.join("x86_64-unknown-linux-gnu/release/isounik-kernel")
}

#[test]
fn pku_self_tests_fail_when_pkru_enforcement_is_broken() {
    let kernel = build_kernel_with("break-pkru");
    let output = Command::new(ISOUNIK)
        .args(["selftest", "--timeout", "60", "--kernel"])
        .arg(&kernel)
        .output()
        .expect("isounik runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_ne!(
        output.status.code(),
        Some(0),
        "selftest passed with broken PKRU:\n{stdout}"
    );
    for test in ["pku_ring3", "pku_libos_hidden_from_ring3"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("test {test} ... FAILED"))),
            "{test} did not fail with broken PKRU:\n{stdout}"
        );
    }
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("selftest: ") && !last.contains(" 0 failed"),
        "closing line: {last}"
    );
}

/// `isounik run` of `program` (with `args`) on `kernel` with the given system-call entry.
fn run_on(kernel: &Path, entry: &str, program: &Path, args: &[&str]) -> Output {
    Command::new(ISOUNIK)
        .args([
            "run",
            "--timeout",
            "60",
            "--syscall-entry",
            entry,
            "--kernel",
        ])
        .arg(kernel)
        .arg(program)
        .args(args)
        .output()
        .expect("isounik runs")
}

#[test]
fn a_panic_behind_the_gate_is_reported_and_stops_the_machine() {
    let kernel = build_kernel_with("panic-in-gate");
    let program = c_program("gate_panic", Libc::Musl);
    for (entry, reason) in [
        (
            "gate",
            "kernel crashed: in libOS code behind the MPK gate: kernel panic: deliberate panic \
             (test kernel)",
        ),
        (
            "trap",
            "kernel crashed: kernel panic: deliberate panic (test kernel)",
        ),
    ] {
        let output = run_on(&kernel, entry, &program, &["panic"]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(70),
            "[{entry}] exit status; stdout:\n{stdout}\nstderr:\n{stderr}"
        );
        assert!(
            stdout.contains("site used 8 times") && !stdout.contains("no panic"),
            "[{entry}] {stdout}"
        );
        assert!(
            stderr.contains(reason),
            "[{entry}] stderr lacks {reason:?}:\n{stderr}"
        );
    }
    // Without the request the same kernel runs the program to its end.
    let output = run_on(&kernel, "gate", &program, &[]);
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("no panic"));
}
