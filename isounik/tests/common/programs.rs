//! The test programs of `tests-programs/`, built on first use into
//! `<target>/test-programs/{musl,glibc,rust}/NAME` (rebuilt only when older than their
//! source or `check.h`). Each output is built once per test process (one `OnceLock` per
//! program, so tests in parallel wait for each other), into a temporary name renamed into
//! place, so concurrent test processes never see a half-written binary.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Libc {
    /// `musl-gcc -static -O2`
    Musl,
    /// `gcc -static -O2` (glibc)
    Glibc,
}

/// `tests-programs/` in the repository.
pub fn sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("isounik/ has a parent")
        .join("tests-programs")
}

fn output_dir(kind: &str) -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp.
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("test-programs")
        .join(kind)
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Whether `output` exists and is newer than every input.
fn fresh(output: &Path, inputs: &[PathBuf]) -> bool {
    let Some(built) = modified(output) else {
        return false;
    };
    inputs
        .iter()
        .all(|input| modified(input).is_some_and(|m| m <= built))
}

type Slot = Arc<OnceLock<Result<(), String>>>;

fn slot(output: &Path) -> Slot {
    static SLOTS: OnceLock<Mutex<HashMap<PathBuf, Slot>>> = OnceLock::new();
    let slots = SLOTS.get_or_init(Default::default);
    let mut slots = slots.lock().unwrap_or_else(|e| e.into_inner());
    slots.entry(output.to_owned()).or_default().clone()
}

/// Builds `output` from `inputs` with `command` (which gets the temporary output path as
/// its last argument) unless it is fresh; panics with the compiler's output on failure.
fn build(output: &Path, inputs: &[PathBuf], mut command: Command, hint: &str) -> PathBuf {
    let slot = slot(output);
    let result = slot.get_or_init(|| {
        if fresh(output, inputs) {
            return Ok(());
        }
        let dir = output.parent().expect("a directory");
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let temporary = dir.join(format!(
            ".{}.{}.tmp",
            output.file_name().unwrap().to_string_lossy(),
            std::process::id()
        ));
        command.arg(&temporary);
        let shown = format!("{command:?}");
        let result = command
            .output()
            .map_err(|e| format!("cannot run {shown}: {e}; {hint}"))?;
        if !result.status.success() {
            let _ = std::fs::remove_file(&temporary);
            return Err(format!(
                "building a test program failed: {shown}\n{}{}",
                String::from_utf8_lossy(&result.stdout),
                String::from_utf8_lossy(&result.stderr)
            ));
        }
        std::fs::rename(&temporary, output)
            .map_err(|e| format!("cannot rename {}: {e}", temporary.display()))
    });
    if let Err(message) = result {
        panic!("{message}");
    }
    output.to_owned()
}

/// `tests-programs/NAME.c`, statically linked against `libc`.
pub fn c_program(name: &str, libc: Libc) -> PathBuf {
    let (kind, compiler, hint) = match libc {
        Libc::Musl => (
            "musl",
            "musl-gcc",
            "install it with: apt-get install musl-tools",
        ),
        Libc::Glibc => (
            "glibc",
            "gcc",
            "install it with: apt-get install gcc libc6-dev",
        ),
    };
    let source = sources().join(format!("{name}.c"));
    assert!(source.is_file(), "no test program {}", source.display());
    let output = output_dir(kind).join(name);
    let mut command = Command::new(compiler);
    command
        .args(["-static", "-O2", "-Wall", "-Wextra", "-I"])
        .arg(sources())
        .arg(&source)
        .arg("-o");
    build(&output, &[source, sources().join("check.h")], command, hint)
}

/// `tests-programs/NAME.rs`, built with `rustc -O -C target-feature=+crt-static` for the
/// host target (a static PIE).
pub fn rust_program(name: &str) -> PathBuf {
    let source = sources().join(format!("{name}.rs"));
    assert!(source.is_file(), "no test program {}", source.display());
    let output = output_dir("rust").join(name);
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut command = Command::new(rustc);
    command
        .args([
            "--edition",
            "2021",
            "-O",
            "-C",
            "target-feature=+crt-static",
        ])
        .arg(&source)
        .arg("-o");
    build(&output, &[source], command, "is rustc on PATH?")
}

/// Whether an ELF file has no program interpreter (`PT_INTERP`): it is statically linked
/// (a static PIE has a `PT_DYNAMIC` for its own relocations, but no interpreter).
pub fn is_static(path: &Path) -> bool {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = elf::ElfBytes::<elf::endian::AnyEndian>::minimal_parse(&data)
        .unwrap_or_else(|e| panic!("{} is not an ELF file: {e}", path.display()));
    let segments = file.segments().expect("program headers");
    !segments.iter().any(|s| s.p_type == elf::abi::PT_INTERP)
}
