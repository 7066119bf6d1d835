//! Static Linux programs (C with musl and glibc, and Rust) run in Iso-UniK: each checks one
//! area of the system call ABI and says what failed. Every program also runs natively
//! first, so a test program that is itself wrong fails with a message saying so instead
//! of blaming the kernel.
//!
//! Sources: `tests-programs/` (built at test time, see `common::programs`).

mod common;

use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use common::programs::{c_program, is_static, rust_program, Libc};
use common::{guest, guest_with, native, Ran};

fn args(program: &Path, rest: &[&str]) -> Vec<OsString> {
    std::iter::once(program.as_os_str().to_owned())
        .chain(rest.iter().map(OsString::from))
        .collect()
}

/// Runs the program natively and checks it ends as expected (`Some(status)`, or `None`
/// for a death by SIGSEGV): otherwise the test program is wrong, not the kernel.
fn native_check(program: &Path, rest: &[&str], expected: Option<i32>) -> Ran {
    let ran = native(program, rest);
    let ok = match expected {
        Some(status) => ran.code() == Some(status),
        None => ran.output.status.signal() == Some(11),
    };
    assert!(
        ok,
        "BROKEN TEST PROGRAM: {} does not behave as expected on the host itself (expected {}); \
         fix it in tests-programs/\n{}",
        program.display(),
        expected.map_or("death by SIGSEGV".into(), |s| format!("status {s}")),
        ran.describe()
    );
    ran
}

/// A program that must pass (status 0) natively and in the guest, with the same output.
fn passes(name: &str, libc: Libc, rest: &[&str]) -> Ran {
    let program = c_program(name, libc);
    let host = native_check(&program, rest, Some(0));
    let ran = guest(&args(&program, rest));
    assert_eq!(
        ran.code(),
        Some(0),
        "{name} ({libc:?}) failed in Iso-UniK; its stdout says which check (the line starting \
         with FAIL)\n{}",
        ran.describe()
    );
    assert!(
        ran.stderr().is_empty(),
        "{name}: unexpected stderr\n{}",
        ran.describe()
    );
    let last = |r: &Ran| r.stdout().lines().last().unwrap_or_default().to_owned();
    assert_eq!(
        last(&ran),
        last(&host),
        "{name}: the last line differs from the host's\n{}",
        ran.describe()
    );
    ran
}

/// A program that SIGSEGV must kill: exit status 139 and isounik's signal line on stderr.
fn killed_by_sigsegv(name: &str, rest: &[&str]) {
    let program = c_program(name, Libc::Musl);
    native_check(&program, rest, None);
    let ran = guest(&args(&program, rest));
    assert_eq!(
        ran.code(),
        Some(139),
        "{name} must be killed by SIGSEGV (status 128 + 11)\n{}",
        ran.describe()
    );
    let prefix = format!("isounik: {}[", program.display());
    assert!(
        ran.stderr()
            .lines()
            .any(|l| l.starts_with(&prefix) && l.contains("]: killed by SIGSEGV: ")),
        "{name}: stderr lacks the line `{prefix}PID]: killed by SIGSEGV: REASON`\n{}",
        ran.describe()
    );
    assert!(
        !ran.stdout().contains("FAIL"),
        "{name} survived what must kill it\n{}",
        ran.describe()
    );
}

fn exit_statuses(libc: Libc) {
    let program = c_program("exit_code", libc);
    for status in [0, 3, 255] {
        let arg = status.to_string();
        native_check(&program, &[&arg], Some(status));
        let ran = guest(&args(&program, &[&arg]));
        assert_eq!(
            ran.code(),
            Some(status),
            "exit_code {status} ({libc:?})\n{}",
            ran.describe()
        );
        assert_eq!(
            ran.stdout(),
            format!("exit_code: exiting with {status}\n"),
            "{}",
            ran.describe()
        );
    }
}

#[test]
fn exit_statuses_reach_the_host_musl() {
    exit_statuses(Libc::Musl);
}

#[test]
fn exit_statuses_reach_the_host_glibc() {
    exit_statuses(Libc::Glibc);
}

#[test]
fn file_io_musl() {
    passes("fileio", Libc::Musl, &[]);
}

#[test]
fn file_io_glibc() {
    passes("fileio", Libc::Glibc, &[]);
}

#[test]
fn mmap_of_files_and_anonymous_memory() {
    passes("mmap_file", Libc::Musl, &[]);
}

#[test]
fn shared_file_mappings_reach_the_file_and_each_other_musl() {
    passes("mmap_shared", Libc::Musl, &[]);
}

#[test]
fn shared_file_mappings_reach_the_file_and_each_other_glibc() {
    passes("mmap_shared", Libc::Glibc, &[]);
}

#[test]
fn mprotect_changes_and_keeps_contents() {
    passes("mprotect", Libc::Musl, &[]);
}

#[test]
fn write_to_a_read_only_page_is_sigsegv() {
    killed_by_sigsegv("mprotect", &["segv"]);
}

#[test]
fn brk_grows_to_64_mib_and_shrinks() {
    passes("brk", Libc::Musl, &[]);
}

#[test]
fn data_below_the_stack_pointer_survives_inline_system_calls() {
    passes("red_zone", Libc::Musl, &[]);
}

#[test]
fn vdso_clocks_agree_with_the_system_calls_musl() {
    passes("vdso", Libc::Musl, &[]);
}

#[test]
fn vdso_clocks_agree_with_the_system_calls_glibc() {
    passes("vdso", Libc::Glibc, &[]);
}

#[test]
fn getrandom_gives_fresh_bytes() {
    passes("getrandom", Libc::Musl, &[]);
}

#[test]
fn clocks_are_monotonic_and_near_the_host() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let host = format!("{}.{:03}", now.as_secs(), now.subsec_millis());
    passes("clock", Libc::Musl, &[&host]);
}

#[test]
fn proc_self_exe_is_the_program() {
    passes("proc_self_exe", Libc::Musl, &[]);
}

#[test]
fn null_dereference_is_sigsegv() {
    killed_by_sigsegv("null_deref", &[]);
}

#[test]
fn write_to_own_code_is_sigsegv() {
    killed_by_sigsegv("write_text", &[]);
}

#[test]
fn bad_pointers_are_efault() {
    let ran = passes("efault", Libc::Musl, &[]);
    assert!(ran.stdout().ends_with("EFAULT ok\n"), "{}", ran.describe());
}

#[test]
fn unknown_system_calls_are_enosys() {
    let ran = passes("unknown_syscall", Libc::Musl, &[]);
    assert!(ran.stdout().ends_with("ENOSYS ok\n"), "{}", ran.describe());
}

#[test]
fn unknown_system_call_shows_enosys_under_strace() {
    let program = c_program("unknown_syscall", Libc::Musl);
    let mut cli = vec![OsString::from("--strace")];
    cli.extend(args(&program, &[]));
    let ran = guest(&cli);
    assert_eq!(ran.code(), Some(0), "{}", ran.describe());
    assert!(
        ran.stderr()
            .lines()
            .any(|l| l.contains("ENOSYS") && l.contains(" = ")),
        "--strace shows no call returning ENOSYS\n{}",
        ran.describe()
    );
}

/// args_env's output for `args`, the guest environment plus `extra`, in `cwd`.
fn expected_args_env(program: &Path, rest: &[&str], extra: &[&str], cwd: &str) -> String {
    let mut out = format!("argc={}\n", rest.len() + 1);
    out += &format!("argv[0]={}\n", program.display());
    for (i, a) in rest.iter().enumerate() {
        out += &format!("argv[{}]={a}\n", i + 1);
    }
    for (k, v) in common::guest_env() {
        out += &format!("env={k}={v}\n");
    }
    for e in extra {
        out += &format!("env={e}\n");
    }
    out += &format!("cwd={cwd}\npagesz=4096\n");
    out
}

/// The output with its `env=` lines sorted.
fn sorted_env(output: &str) -> Vec<String> {
    let mut env: Vec<String> = output
        .lines()
        .filter(|l| l.starts_with("env="))
        .map(str::to_owned)
        .collect();
    env.sort();
    let mut lines: Vec<String> = output
        .lines()
        .filter(|l| !l.starts_with("env="))
        .map(str::to_owned)
        .collect();
    lines.extend(env);
    lines
}

fn args_env(libc: Libc) {
    let program = c_program("args_env", libc);
    let rest = ["one", "two words", "", "--flag", "-e", "ünïcode"];
    // Natively (same environment, cwd /), as a check of the program itself. std's Command
    // orders the environment by name, so only the guest's order is checked.
    let host = native_check(&program, &rest, Some(0));
    assert_eq!(
        sorted_env(&host.stdout()),
        sorted_env(&expected_args_env(&program, &rest, &[], "/")),
        "BROKEN TEST PROGRAM: args_env on the host"
    );
    let mut cli: Vec<OsString> = [
        "-e",
        "GREETING=hello world",
        "-e",
        "EMPTY=",
        "--workdir",
        "/tmp",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    cli.extend(args(&program, &rest));
    let ran = guest(&cli);
    assert_eq!(ran.code(), Some(0), "{}", ran.describe());
    assert_eq!(
        ran.stdout(),
        expected_args_env(&program, &rest, &["GREETING=hello world", "EMPTY="], "/tmp"),
        "argv, environment or working directory differ from what isounik was asked for\n{}",
        ran.describe()
    );
}

#[test]
fn arguments_environment_and_workdir_musl() {
    args_env(Libc::Musl);
}

#[test]
fn arguments_environment_and_workdir_glibc() {
    args_env(Libc::Glibc);
}

#[test]
fn rust_program_runs() {
    let program = rust_program("rust_hello");
    assert!(
        is_static(&program),
        "{} has a program interpreter: rustc did not link it statically",
        program.display()
    );
    native_check(&program, &["a b"], Some(0));
    let ran = guest(&args(&program, &["a b"]));
    assert_eq!(ran.code(), Some(0), "{}", ran.describe());
    assert_eq!(
        ran.stdout(),
        "hello from Rust with 2 arguments\narg 1: a b\nok: files\nok: HashMap\nok: sleep\n",
        "{}",
        ran.describe()
    );
    native_check(&program, &["fail"], Some(3));
    let ran = guest_with(&args(&program, &["fail"]), b"");
    assert_eq!(ran.code(), Some(3), "{}", ran.describe());
}

/// Rust's std networking and processes on Iso-UniK: threads serving TCP connections,
/// UnixStream, UdpSocket, std::process with piped stdin/stdout.
#[test]
fn rust_std_net_threads_and_processes() {
    let program = rust_program("rust_net");
    native_check(&program, &[], Some(0));
    let ran = guest(&args(&program, &[]));
    assert_eq!(ran.code(), Some(0), "{}", ran.describe());
    assert_eq!(
        ran.stdout(),
        "ok: TCP server with a thread per connection answered 4 clients\n\
         ok: UnixStream pair\n\
         ok: UDP datagram with its sender's address\n\
         ok: std::process child fed 100000 bytes through a pipe\n",
        "{}",
        ran.describe()
    );
}
