//! The PKU self tests can fail: a kernel built with `--features break-pkru` (applications run
//! with the libOS PKRU) must fail them. A test that cannot fail proves nothing.

use std::path::PathBuf;
use std::process::Command;

const ISOUNIK: &str = env!("CARGO_BIN_EXE_isounik");

fn build_broken_kernel() -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target_dir = repo.join("target/kernel-break-pkru");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(repo.join("kernel"))
        .args([
            "build",
            "--release",
            "--quiet",
            "--features",
            "break-pkru",
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
    assert!(status.success(), "building the break-pkru kernel failed");
    target_dir.join("x86_64-unknown-linux-gnu/release/isounik-kernel")
}

#[test]
fn pku_self_tests_fail_when_pkru_enforcement_is_broken() {
    let kernel = build_broken_kernel();
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
