//! Builds the Iso-UniK kernel (its own cargo workspace at `<repo>/kernel`) and hands its ELF
//! to the `isounik` crate, which embeds it with `include_bytes!(env!("ISOUNIK_KERNEL_ELF"))`.
//!
//! The kernel carries bare-metal rustflags in `kernel/.cargo/config.toml`; cargo picks that
//! file by the current directory, so the kernel is built by a separate `cargo` process started
//! in `kernel/`, with everything the outer build put in the environment removed.
//!
//! `ISOUNIK_KERNEL_FEATURES=a,b` builds the kernel with `--features a,b` (used to build
//! deliberately broken test kernels).

use std::env;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// Environment variables of the outer build that must not reach the kernel build, besides
/// every `CARGO_*` variable (see [`keep_var`]).
const REMOVED_VARS: &[&str] = &[
    "RUSTFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTDOCFLAGS",
    "TARGET",
    "HOST",
    "OUT_DIR",
    "PROFILE",
    "OPT_LEVEL",
    "DEBUG",
    "NUM_JOBS",
    "RUSTC",
    "RUSTDOC",
    "RUSTC_LINKER",
];

/// Whether the outer build's environment variable `name` may reach the kernel build.
pub fn keep_var(name: &str) -> bool {
    if let Some(rest) = name.strip_prefix("CARGO_") {
        return rest == "HOME" || rest == "MAKEFLAGS";
    }
    !REMOVED_VARS.contains(&name)
}

fn main() -> ExitCode {
    match build_kernel() {
        Ok(elf) => {
            println!("cargo:rustc-env=ISOUNIK_KERNEL_ELF={}", elf.display());
            ExitCode::SUCCESS
        }
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn build_kernel() -> Result<PathBuf, String> {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set")?);
    let repo = manifest_dir
        .parent()
        .ok_or("isounik/ has no parent directory")?
        .to_path_buf();
    let kernel = repo.join("kernel");

    for path in [
        "kernel/src",
        "kernel/Cargo.toml",
        "kernel/Cargo.lock",
        "kernel/build.rs",
        "kernel/linker.ld",
        "kernel/.cargo/config.toml",
        "crates",
    ] {
        println!("cargo:rerun-if-changed={}", repo.join(path).display());
    }
    println!("cargo:rerun-if-env-changed=ISOUNIK_KERNEL_FEATURES");

    if !kernel.join("Cargo.toml").is_file() {
        return Err(format!(
            "the Iso-UniK kernel is missing: {} does not exist (isounik embeds the kernel \
             and builds it from there)",
            kernel.join("Cargo.toml").display()
        ));
    }

    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let target_dir = repo.join("target").join("kernel");
    let mut command = Command::new(&cargo);
    command
        .current_dir(&kernel)
        .env_clear()
        .envs(env::vars_os().filter(|(name, _)| name.to_str().is_none_or(keep_var)))
        .env("CARGO_TARGET_DIR", &target_dir)
        // Diagnostics are rendered to stderr as usual; stdout carries JSON messages, one of
        // which names the kernel executable (wherever the kernel's cargo config puts it).
        .args([
            "build",
            "--release",
            "--color",
            "never",
            "--message-format=json-render-diagnostics",
        ])
        .stdin(Stdio::null());
    if let Some(features) = env::var("ISOUNIK_KERNEL_FEATURES")
        .ok()
        .filter(|f| !f.trim().is_empty())
    {
        command.args(["--features", features.trim()]);
    }

    let output = command
        .output()
        .map_err(|e| format!("could not run {}: {e}", Path::new(&cargo).display()))?;
    if !output.status.success() {
        let mut stderr = std::io::stderr();
        let _ = stderr.write_all(&output.stderr);
        return Err(format!(
            "building the kernel failed ({}): `cargo build --release` in {} (output above)",
            output.status,
            kernel.display()
        ));
    }

    let stdout = String::from_utf8_lossy(&output.stdout);
    let elf = kernel_executable(&stdout).ok_or_else(|| {
        format!(
            "the kernel build succeeded but named no `{KERNEL_BIN}` executable (looked in the \
             JSON messages of cargo build under {})",
            target_dir.display()
        )
    })?;
    // No rerun-if-changed on the ELF itself: this script writes it (cargo would see it as
    // changed on the next build), and include_bytes! already makes rustc track it.
    Ok(elf)
}

/// The kernel's binary target.
const KERNEL_BIN: &str = "isounik-kernel";

/// The `executable` of the `compiler-artifact` message for [`KERNEL_BIN`] among cargo's JSON
/// messages (one per line). Cargo emits it for fresh builds too. Plain string matching keeps
/// serde out of the build: paths are plain strings in these messages.
pub fn kernel_executable(messages: &str) -> Option<PathBuf> {
    messages
        .lines()
        .rev()
        .filter(|line| line.contains("\"reason\":\"compiler-artifact\""))
        .filter(|line| line.contains(&format!("\"name\":\"{KERNEL_BIN}\"")))
        .find_map(|line| json_string_field(line, "executable"))
        .map(PathBuf::from)
}

/// The value of the first `"field":"..."` string in `json`, with escapes undone.
pub fn json_string_field(json: &str, field: &str) -> Option<String> {
    let start = json.find(&format!("\"{field}\":\""))? + field.len() + 4;
    let mut value = String::new();
    let mut chars = json[start..].chars();
    loop {
        match chars.next()? {
            '"' => return Some(value),
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                'r' => value.push('\r'),
                'u' => {
                    let code: String = chars.by_ref().take(4).collect();
                    value.push(char::from_u32(u32::from_str_radix(&code, 16).ok()?)?);
                }
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
}
