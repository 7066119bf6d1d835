//! What the integration tests share: running isounik under a watchdog, running the same
//! program natively for comparison, building the test programs, and tmpfs fixtures.
//!
//! Every isounik boot passes `--timeout`, and the harness kills isounik itself if even that
//! fails, so a hang fails a test instead of blocking the run.
#![allow(dead_code)]

pub mod fixtures;
pub mod programs;

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

pub const ISOUNIK: &str = env!("CARGO_BIN_EXE_isounik");

/// Exit statuses of isounik (see `isounik --help`).
pub const EXIT_CRASH: i32 = 70;
pub const EXIT_TOOL: i32 = 125;

/// The `--timeout` every program run gets, and how long the harness waits before killing
/// isounik itself.
pub const GUEST_TIMEOUT: &str = "60";
pub const WATCHDOG: Duration = Duration::from_secs(90);

/// The guest's environment (see `isounik run --help`), for running the same program
/// natively with the same variables.
pub fn guest_env() -> Vec<(String, String)> {
    let term = std::env::var("TERM")
        .ok()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "linux".into());
    vec![
        (
            "PATH".into(),
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        ),
        ("HOME".into(), "/root".into()),
        ("TERM".into(), term),
    ]
}

/// A finished command, with what is needed to explain a failure.
pub struct Ran {
    pub command: String,
    pub output: Output,
    pub elapsed: Duration,
}

impl Ran {
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    pub fn stdout(&self) -> String {
        text(&self.output.stdout)
    }

    pub fn stderr(&self) -> String {
        text(&self.output.stderr)
    }

    /// The command, its status and its output, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "command: {}\nstatus: {:?} after {:?}\n--- stdout ({} bytes):\n{}\n--- stderr:\n{}",
            self.command,
            self.output.status,
            self.elapsed,
            self.output.stdout.len(),
            excerpt(&self.output.stdout),
            text(&self.output.stderr)
        )
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// At most 4000 characters of `bytes`, for messages.
pub fn excerpt(bytes: &[u8]) -> String {
    let s = text(bytes);
    if s.len() <= 4000 {
        s
    } else {
        let mut end = 4000;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}\n... ({} bytes in all)", &s[..end], bytes.len())
    }
}

fn shell_words(program: &OsStr, args: &[OsString]) -> String {
    std::iter::once(program)
        .chain(args.iter().map(OsString::as_os_str))
        .map(|a| {
            let a = a.to_string_lossy();
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./,:=+@%".contains(c))
            {
                a.into_owned()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `command` with `stdin`; kills it after `limit` and fails the test if it ran that
/// long.
pub fn run_with_watchdog(mut command: Command, stdin: &[u8], limit: Duration) -> Ran {
    let description = shell_words(
        command.get_program(),
        &command.get_args().map(OsStr::to_owned).collect::<Vec<_>>(),
    );
    // Its own process group, so that the watchdog also kills what it started (a program's
    // children may hold the output pipes open after it has ended).
    let mut child = command
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {description}: {e}"));
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let feeder = thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let pid = child.id();
    let started = Instant::now();
    let watchdog = thread::spawn(move || {
        while started.elapsed() < limit {
            thread::sleep(Duration::from_millis(100));
            if std::fs::metadata(format!("/proc/{pid}")).is_err() {
                return false;
            }
        }
        // Still running: kill its process group (isounik's parent-death signal takes QEMU
        // along in any case).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .status();
        true
    });
    let output = child.wait_with_output().expect("the command runs");
    let _ = feeder.join();
    let elapsed = started.elapsed();
    let ran = Ran {
        command: description,
        output,
        elapsed,
    };
    assert!(
        elapsed < limit,
        "ran {elapsed:?}, longer than {limit:?}; killed={:?}\n{}",
        watchdog.join().ok(),
        ran.describe()
    );
    ran
}

/// `isounik ARGS` with `stdin`, under the watchdog.
pub fn isounik_with(args: &[impl AsRef<OsStr>], stdin: &[u8], limit: Duration) -> Ran {
    let mut command = Command::new(ISOUNIK);
    command.args(args);
    run_with_watchdog(command, stdin, limit)
}

/// `isounik ARGS` with empty stdin.
pub fn isounik(args: &[impl AsRef<OsStr>]) -> Ran {
    isounik_with(args, b"", WATCHDOG)
}

/// `isounik run --machine microvm --timeout 60 ARGS` (the machine does not matter for
/// programs, and microvm boots about four times faster than q35). With
/// `ISOUNIK_TEST_SYSCALL_ENTRY=gate` in the environment, programs enter the kernel through
/// the MPK gate (`--syscall-entry=gate`): the suites run once in each mode.
pub fn guest_with(args: &[impl AsRef<OsStr>], stdin: &[u8]) -> Ran {
    let mut all: Vec<OsString> = ["run", "--machine", "microvm", "--timeout", GUEST_TIMEOUT]
        .iter()
        .map(OsString::from)
        .collect();
    if let Ok(mode) = std::env::var("ISOUNIK_TEST_SYSCALL_ENTRY") {
        all.push(OsString::from(format!("--syscall-entry={mode}")));
    }
    all.extend(args.iter().map(|a| a.as_ref().to_owned()));
    isounik_with(&all, stdin, WATCHDOG)
}

pub fn guest(args: &[impl AsRef<OsStr>]) -> Ran {
    guest_with(args, b"")
}

/// Runs `program ARGS` on the host with the guest's environment, in `cwd`.
pub fn native_in(cwd: &Path, program: impl AsRef<OsStr>, args: &[impl AsRef<OsStr>]) -> Ran {
    let mut command = Command::new(program);
    command.args(args).current_dir(cwd).env_clear();
    command.envs(guest_env());
    // The guest's first process starts with every signal at its default and none blocked;
    // the host reference must too, whatever the test runner inherited (a background job
    // has SIGINT and SIGQUIT ignored, which `kill -INT $$` would show).
    // SAFETY: between fork and exec the closure only calls sigaction and sigprocmask,
    // which are async-signal-safe, and allocates nothing.
    unsafe {
        command.pre_exec(|| {
            use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
            let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
            for signal in Signal::iterator() {
                if !matches!(signal, Signal::SIGKILL | Signal::SIGSTOP) {
                    let _ = sigaction(signal, &default);
                }
            }
            SigSet::empty()
                .thread_set_mask()
                .map_err(std::io::Error::from)
        });
    }
    run_with_watchdog(command, b"", WATCHDOG)
}

pub fn native(program: impl AsRef<OsStr>, args: &[impl AsRef<OsStr>]) -> Ran {
    native_in(Path::new("/"), program, args)
}

/// Fails with both descriptions unless the two runs have the same exit status and stdout.
pub fn assert_same(what: &str, guest: &Ran, host: &Ran) {
    let same_status = guest.code() == host.code();
    let same_stdout = guest.output.stdout == host.output.stdout;
    if same_status && same_stdout {
        return;
    }
    let mut why = Vec::new();
    if !same_status {
        why.push(format!(
            "exit status differs: guest {:?}, host {:?}",
            guest.code(),
            host.code()
        ));
    }
    if !same_stdout {
        why.push(first_difference(&guest.output.stdout, &host.output.stdout));
    }
    panic!(
        "{what}: the guest and the host differ: {}\n\n=== guest:\n{}\n\n=== host:\n{}",
        why.join("; "),
        guest.describe(),
        host.describe()
    );
}

/// Where two outputs first differ, by line.
pub fn first_difference(guest: &[u8], host: &[u8]) -> String {
    let g: Vec<&[u8]> = guest.split(|&b| b == b'\n').collect();
    let h: Vec<&[u8]> = host.split(|&b| b == b'\n').collect();
    for i in 0..g.len().max(h.len()) {
        let (a, b) = (g.get(i), h.get(i));
        if a != b {
            return format!(
                "stdout differs first at line {}: guest {:?}, host {:?}",
                i + 1,
                a.map(|l| text(l)),
                b.map(|l| text(l))
            );
        }
    }
    format!("stdout differs ({} vs {} bytes)", guest.len(), host.len())
}
