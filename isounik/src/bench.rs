//! `isounik bench`: the benchmark suite of `tests-programs/bench/` (embedded here, built
//! with musl-gcc at run time) run in Iso-UniK and, with `--vs-linux`, in Debian's Linux
//! kernel booted under the same QEMU (machine, `-cpu`, memory, accelerator), with the
//! results as a table, a JSON file and a check of the project's targets.
//!
//! The Iso-UniK side runs through `isounik run` (this executable), whose stdout is the
//! guest program's stdout byte for byte. The Linux side boots the kernel with an
//! initramfs holding the same binaries, `/bin/busybox` and a static `/init` that runs the
//! suite and powers off; the result lines come from the serial console.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};

use crate::kvm::{self, Probe};
use crate::qemu::{self, Accel, LinuxInvocation, Machine, MemSize};

pub const HELP: &str = "\
Runs the benchmark programs of tests-programs/bench/ (built with musl-gcc) in Iso-UniK and,
with --vs-linux, in Debian's Linux kernel (linux-image-amd64, /boot/vmlinuz-*) booted under
the same QEMU with the same machine, CPU model, memory and accelerator. Each benchmark is a
warm-up batch then several timed batches; the table shows the median per operation.

Modes:
  icount  TCG with -icount shift=0,align=off,sleep=off: rdtsc deltas are guest instruction
          counts (path lengths, deterministic), not cycles
  tcg     wall time under plain TCG: emulated time, not hardware time (TCG flushes its TLB
          on every PKRU write, so PKRU-heavy paths look slower than on hardware)
  kvm     only when a KVM vCPU exposes PKU (see `isounik info`)

Iso-UniK runs the suite twice by default: with trap entry (the `syscall` instruction) and
with `isounik run --syscall-entry=gate` (syscall sites rewritten into calls through the MPK
gate); --syscall-entry trap or gate runs only one of them.

Examples:
  isounik bench --quick --vs-linux        Both systems, fewer iterations (a few minutes)
  isounik bench --mode tcg --vs-linux     Wall time under TCG, full run
  isounik bench --only null,fork --skip-boot --json /tmp/r.json";

/// The embedded benchmark sources (`tests-programs/bench/`).
const SOURCES: [(&str, &str); 3] = [
    ("bench", include_str!("../../tests-programs/bench/bench.c")),
    ("hello", include_str!("../../tests-programs/bench/hello.c")),
    ("init", include_str!("../../tests-programs/bench/init.c")),
];

/// The benchmarks in table order: name, operation, what one operation is.
pub const BENCHMARKS: [(&str, &str); 24] = [
    ("null", "null syscall (getppid)"),
    (
        "null_raw",
        "null syscall, bare `syscall` instruction in a loop",
    ),
    (
        "loop_raw",
        "the same loop without the system call (baseline)",
    ),
    ("clock", "clock_gettime(CLOCK_MONOTONIC)"),
    ("open_close", "open+close"),
    ("stat", "stat"),
    ("file_rw", "pread+pwrite of a 4 KiB file page"),
    ("fork", "fork+exit+wait"),
    ("vfork", "vfork+exit+wait"),
    ("fork_exec", "fork+exec+exit (static hello)"),
    ("fork_sh", "fork+exec sh -c hello (busybox)"),
    ("posix_spawn", "posix_spawn+wait (hello)"),
    ("pipe_lat", "pipe round trip, 2 processes"),
    ("pipe_bw", "pipe transfer of 64 KiB"),
    ("unix_lat", "AF_UNIX socket round trip, 2 processes"),
    ("tcp_lat", "TCP loopback round trip, 2 processes"),
    ("tcp_conn", "TCP loopback connect+accept+close"),
    (
        "ctx_yield",
        "sched_yield pair, 2 processes (switching not verified)",
    ),
    ("sig_install", "sigaction install"),
    ("sig_catch", "signal to self + handler"),
    ("sigmask", "sigprocmask block + restore (2 calls)"),
    ("prot_fault", "write fault + SIGSEGV + mprotect"),
    ("page_fault", "page fault, fresh anonymous page"),
    ("mmap_1m", "mmap+munmap 1 MiB"),
];

/// Loops that only the Linux guest runs (`--vs-linux --only ...`; not in the default
/// selection): the MPK gate's own code (`--mode native`'s loops) in a Linux process with
/// protection keys, which shows under icount that the code works and what it executes.
/// Iso-UniK has no `pkey_alloc` for its programs, so its columns stay empty.
pub const LINUX_ONLY: [(&str, &str); 4] = [
    (
        "gate_isolated",
        "the gate's data page faults without the gate (a fork; Linux + PKU)",
    ),
    ("wrpkru", "one WRPKRU (Linux + PKU)"),
    (
        "gate_native",
        "the gate's code: getppid round trip from `gate_direct` (Linux + PKU)",
    ),
    ("loop_native", "the same loop without the call (baseline)"),
];

/// What the issue asks for: (benchmark, mode, largest ratio Iso-UniK/Linux, text).
/// The two-process context switch is measured as lmbench's lat_ctx does, by passing a
/// token through pipes: that is `pipe_lat` (`ctx_yield` cannot tell whether the scheduler
/// really switched on each yield: Linux's CFS may not).
const TARGETS: [(&str, Mode, f64, &str); 7] = [
    (
        "null",
        Mode::Icount,
        0.5,
        "null syscall (trap) <= 0.5x Linux instructions",
    ),
    (
        "fork",
        Mode::Icount,
        0.3,
        "fork+exit+wait <= 0.3x Linux instructions",
    ),
    (
        "fork",
        Mode::Tcg,
        0.5,
        "fork+exit+wait <= 0.5x Linux TCG wall time",
    ),
    (
        "fork_exec",
        Mode::Icount,
        0.5,
        "fork+exec+exit <= 0.5x Linux instructions",
    ),
    (
        "fork_exec",
        Mode::Tcg,
        0.5,
        "fork+exec+exit <= 0.5x Linux TCG wall time",
    ),
    (
        "pipe_lat",
        Mode::Icount,
        1.0,
        "pipe round trip = 2-process context switch (lat_ctx) no worse than Linux",
    ),
    (
        "pipe_lat",
        Mode::Tcg,
        1.0,
        "pipe round trip = 2-process context switch (lat_ctx) no worse than Linux",
    ),
];
/// Boot to the application's first instruction <= 0.2x Linux's boot to init.
const BOOT_TARGET: f64 = 0.2;
/// The null system call through the MPK gate, in instructions (icount mode; an absolute
/// count, not a ratio).
const GATE_TARGET: f64 = 30.0;

/// How Iso-UniK's programs enter the kernel (`isounik run --syscall-entry`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    Trap,
    Gate,
}

impl Entry {
    fn name(self) -> &'static str {
        match self {
            Entry::Trap => "trap",
            Entry::Gate => "gate",
        }
    }
}

/// Which entry modes `isounik bench` measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Entries {
    /// Trap entry, then gate entry
    Both,
    /// Only trap entry (the `syscall` instruction)
    Trap,
    /// Only gate entry (`isounik run --syscall-entry=gate`)
    Gate,
}

impl Entries {
    fn list(self) -> &'static [Entry] {
        match self {
            Entries::Both => &[Entry::Trap, Entry::Gate],
            Entries::Trap => &[Entry::Trap],
            Entries::Gate => &[Entry::Gate],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Deterministic guest instruction counts (TCG -icount shift=0)
    Icount,
    /// Wall time under plain TCG
    Tcg,
    /// Wall time under KVM (only when a KVM vCPU exposes PKU)
    Kvm,
    /// The MPK gate's own code on this host's CPU, next to a WRPKRU and the host's getppid
    /// (rdtsc ticks; needs a CPU with PKU; no QEMU)
    Native,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Icount => "icount",
            Mode::Tcg => "tcg",
            Mode::Kvm => "kvm",
            Mode::Native => "native",
        }
    }

    /// Whether the table shows rdtsc ticks (instructions) rather than nanoseconds.
    fn counts_instructions(self) -> bool {
        self == Mode::Icount
    }
}

#[derive(Args)]
pub struct BenchArgs {
    /// What to measure
    #[arg(long, value_enum, default_value_t = Mode::Icount)]
    mode: Mode,
    /// Fewer iterations and repetitions (a few minutes in all)
    #[arg(long)]
    quick: bool,
    /// Also boot Debian's Linux kernel (linux-image-amd64) and run the same suite there
    #[arg(long)]
    vs_linux: bool,
    /// The Linux kernel to compare with [default: the newest /boot/vmlinuz-*]
    #[arg(long, value_name = "PATH")]
    linux_kernel: Option<PathBuf>,
    /// Write the raw numbers here [default: target/bench/results-MODE.json]
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Run only these benchmarks (NAME[,NAME...]; see the table for names)
    #[arg(long, value_name = "NAMES")]
    only: Option<String>,
    /// Do not measure boot times
    #[arg(long)]
    skip_boot: bool,
    /// Iso-UniK's system-call entries to measure
    #[arg(long, value_enum, value_name = "ENTRY", default_value_t = Entries::Both)]
    syscall_entry: Entries,
    /// Guest memory (both systems)
    #[arg(long, value_name = "SIZE", default_value = "256M")]
    mem: MemSize,
    /// QEMU binary [default: qemu-system-x86_64 from PATH]
    #[arg(long, value_name = "PATH")]
    qemu: Option<PathBuf>,
    /// Time limit of each boot, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    timeout: u64,
    /// Show the guests' output and isounik's messages
    #[arg(short, long)]
    verbose: bool,
}

// ---------------------------------------------------------------------------------------
// Result lines and statistics
// ---------------------------------------------------------------------------------------

/// One benchmark's numbers, per operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Measure {
    pub name: String,
    pub iterations: u64,
    pub reps: u32,
    /// rdtsc ticks (instructions under icount).
    pub min: f64,
    pub median: f64,
    /// CLOCK_MONOTONIC nanoseconds.
    pub ns_min: f64,
    pub ns_median: f64,
}

impl Measure {
    /// The number the table shows in `mode`.
    fn value(&self, mode: Mode) -> f64 {
        if mode.counts_instructions() {
            self.median
        } else {
            self.ns_median
        }
    }
}

/// A line the benchmark programs print.
#[derive(Clone, Debug, PartialEq)]
pub enum Line {
    Result(Measure),
    Error {
        name: String,
        what: String,
    },
    /// `boot tsc=T`: the time stamp counter when the program started.
    BootTsc(u64),
    /// `boot uptime=U`: the Linux guest's /proc/uptime at init, in seconds.
    BootUptime(f64),
    Done,
}

/// `key=value` words.
fn fields(words: &str) -> BTreeMap<&str, &str> {
    words
        .split_whitespace()
        .filter_map(|w| w.split_once('='))
        .collect()
}

/// Parses one line of the programs' output (other lines: `None`). Leading garbage (a
/// console's carriage returns, kernel messages on the same line) is skipped.
pub fn parse_line(line: &str) -> Option<Line> {
    let line = line.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    if let Some(rest) = line.strip_prefix("bench-done") {
        let _ = rest;
        return Some(Line::Done);
    }
    if let Some(rest) = line.strip_prefix("boot ") {
        let f = fields(rest);
        if let Some(tsc) = f.get("tsc") {
            return tsc.parse().ok().map(Line::BootTsc);
        }
        return f.get("uptime")?.parse().ok().map(Line::BootUptime);
    }
    let rest = line.strip_prefix("bench ")?;
    let (name, rest) = rest.split_once(' ')?;
    let f = fields(rest);
    if let Some(what) = f.get("error") {
        let errno = f.get("errno").unwrap_or(&"0");
        return Some(Line::Error {
            name: name.to_owned(),
            what: format!("{what} (errno {errno})"),
        });
    }
    let num = |key: &str| f.get(key)?.parse::<f64>().ok().filter(|v| v.is_finite());
    Some(Line::Result(Measure {
        name: name.to_owned(),
        iterations: f.get("iterations")?.parse().ok()?,
        reps: f.get("reps")?.parse().ok()?,
        min: num("min")?,
        median: num("median")?,
        ns_min: num("ns_min")?,
        ns_median: num("ns_median")?,
    }))
}

/// The median (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

pub fn minimum(values: &[f64]) -> Option<f64> {
    values
        .iter()
        .copied()
        .filter(|x| !x.is_nan())
        .reduce(f64::min)
}

/// Iso-UniK / Linux, when both are known and Linux's is positive.
pub fn ratio(isounik: Option<f64>, linux: Option<f64>) -> Option<f64> {
    match (isounik, linux) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// Boot-time samples of one system.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Boot {
    /// Guest TSC at the first instruction of the program (Iso-UniK) or of /init (Linux).
    pub tsc: Vec<f64>,
    /// Host milliseconds from starting isounik (Iso-UniK) or QEMU (Linux) to that
    /// program's first output line.
    pub host_ms: Vec<f64>,
    /// Linux's /proc/uptime at init, in milliseconds.
    pub uptime_ms: Vec<f64>,
}

impl Boot {
    /// The table's number: instructions (icount) or host milliseconds.
    fn value(&self, mode: Mode) -> Option<f64> {
        if mode.counts_instructions() {
            median(&self.tsc)
        } else {
            median(&self.host_ms)
        }
    }
}

/// Everything measured on one system.
#[derive(Clone, Debug, Default)]
pub struct Side {
    pub results: Vec<Measure>,
    pub errors: Vec<(String, String)>,
    pub boot: Boot,
}

impl Side {
    fn get(&self, name: &str) -> Option<&Measure> {
        self.results.iter().find(|m| m.name == name)
    }

    fn take(&mut self, lines: &[String]) -> bool {
        let mut done = false;
        for line in lines {
            match parse_line(line) {
                Some(Line::Result(m)) => self.results.push(m),
                Some(Line::Error { name, what }) => self.errors.push((name, what)),
                Some(Line::Done) => done = true,
                Some(Line::BootTsc(_) | Line::BootUptime(_)) | None => {}
            }
        }
        done
    }
}

// ---------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------

/// A guest's stdout lines, when its first line arrived, and how it ended.
struct Ran {
    lines: Vec<String>,
    first_line: Option<Duration>,
    success: bool,
    status: String,
    stderr: String,
}

/// Runs `command`, collecting stdout lines (echoed with `verbose`) and stderr, killing it
/// after `limit`.
fn run_collecting(mut command: Command, limit: Duration, verbose: bool) -> Result<Ran> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if verbose {
        eprintln!("isounik bench: {command:?}");
    }
    let start = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start {}", command.get_program().to_string_lossy()))?;
    let pid = child.id();
    let finished = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let finished = Arc::clone(&finished);
        std::thread::spawn(move || {
            let deadline = Instant::now() + limit;
            while !finished.load(Ordering::Relaxed) {
                if Instant::now() >= deadline {
                    // The child is ours and not yet reaped (the main thread waits only
                    // after its stdout ends), so the pid still names it.
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid as i32),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                    return true;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            false
        })
    };
    let mut stderr_pipe = child.stderr.take().context("no stderr pipe")?;
    let stderr_thread = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut text);
        String::from_utf8_lossy(&text).into_owned()
    });
    let mut lines = Vec::new();
    let mut first_line = None;
    let stdout = child.stdout.take().context("no stdout pipe")?;
    for line in BufRead::split(BufReader::new(stdout), b'\n') {
        let Ok(line) = line else { break };
        first_line.get_or_insert_with(|| start.elapsed());
        let line = String::from_utf8_lossy(&line)
            .trim_end_matches('\r')
            .to_owned();
        if verbose {
            eprintln!("  | {line}");
        }
        lines.push(line);
    }
    let status = child.wait()?;
    finished.store(true, Ordering::Relaxed);
    let killed = watchdog.join().unwrap_or(false);
    let stderr = stderr_thread.join().unwrap_or_default();
    let status_text = if killed {
        format!("killed after {} s", limit.as_secs())
    } else {
        status.to_string()
    };
    Ok(Ran {
        lines,
        first_line,
        success: status.success() && !killed,
        status: status_text,
        stderr,
    })
}

/// Builds the benchmark programs into `dir` with musl-gcc, and `bench_native`: `bench`
/// with the MPK gate's own code linked in, for `--mode native` and the Linux guest (it
/// contains WRPKRU, so Iso-UniK rightly refuses to run it).
fn build_programs(dir: &Path) -> Result<()> {
    let source_dir = dir.join("src");
    std::fs::create_dir_all(&source_dir)?;
    let gate = source_dir.join("gate.S");
    std::fs::write(&gate, crate::native_gate::gate_assembly())?;
    let mut builds: Vec<(String, &str, Vec<OsString>)> = SOURCES
        .iter()
        .map(|(name, source)| (name.to_string(), *source, Vec::new()))
        .collect();
    let mut native_extra: Vec<OsString> = crate::native_gate::c_flags()
        .into_iter()
        .map(OsString::from)
        .collect();
    native_extra.push(gate.into_os_string());
    builds.push(("bench_native".into(), SOURCES[0].1, native_extra));
    for (name, source, extra) in builds {
        let source_path = source_dir.join(format!("{name}.c"));
        std::fs::write(&source_path, source)?;
        let output = Command::new("musl-gcc")
            .args(["-static", "-O2", "-Wall", "-Wextra", "-o"])
            .arg(dir.join(&name))
            .arg(&source_path)
            .args(&extra)
            .stdin(Stdio::null())
            .output();
        let output = match output {
            Ok(output) => output,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                bail!("musl-gcc not found; install it with: apt-get install musl-tools")
            }
            Err(e) => return Err(e).context("cannot run musl-gcc"),
        };
        if !output.status.success() {
            bail!(
                "musl-gcc failed on {name}.c:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    Ok(())
}

/// `/bin/busybox` on the host, which must be static (busybox-static).
fn busybox() -> Result<PathBuf> {
    let path = PathBuf::from("/bin/busybox");
    let data = std::fs::read(&path).map_err(|_| {
        anyhow::anyhow!("/bin/busybox not found; install it with: apt-get install busybox-static")
    })?;
    let file = elf::ElfBytes::<elf::endian::AnyEndian>::minimal_parse(&data)
        .context("/bin/busybox is not an ELF file")?;
    let dynamic = file
        .segments()
        .is_some_and(|s| s.iter().any(|p| p.p_type == elf::abi::PT_INTERP));
    if dynamic {
        bail!(
            "/bin/busybox is dynamically linked; install it with: apt-get install busybox-static"
        );
    }
    Ok(path)
}

/// How both systems are booted.
struct Setup {
    mode: Mode,
    accel: Accel,
    mem: MemSize,
    qemu: PathBuf,
    bin: PathBuf,
    busybox: PathBuf,
    limit: Duration,
    verbose: bool,
    quick: bool,
}

impl Setup {
    /// `isounik run` of `program` (in `bin`) with the same files as the Linux guest.
    fn isounik(&self, entry: Entry, program: &str, args: &[&str]) -> Result<Command> {
        let exe = std::env::current_exe().context("cannot find isounik's own executable")?;
        let mut command = Command::new(exe);
        command.arg("run").arg("--mem").arg(self.mem.to_string());
        command.arg(format!("--syscall-entry={}", entry.name()));
        command.arg("--qemu").arg(&self.qemu);
        match self.accel {
            Accel::Tcg => command.args(["--accel", "tcg"]),
            Accel::TcgIcount => command.args(["--accel", "tcg", "--icount"]),
            Accel::Kvm => command.args(["--accel", "kvm"]),
        };
        command
            .arg("--timeout")
            .arg(self.limit.as_secs().to_string());
        let mut add = self.bin.clone().into_os_string();
        add.push(":/bench");
        command.arg("--add").arg(add);
        let mut add = self.busybox.clone().into_os_string();
        add.push(":/bin/busybox");
        command.arg("--add").arg(add);
        command.arg(self.bin.join(program)).args(args);
        Ok(command)
    }

    fn bench_args(&self, names: &[String]) -> Vec<String> {
        let mut args = Vec::new();
        if self.quick {
            args.push("-q".to_owned());
        }
        args.extend(names.iter().cloned());
        args
    }

    fn boot_samples(&self) -> usize {
        if self.quick {
            3
        } else {
            5
        }
    }
}

fn describe_failure(what: &str, ran: &Ran) -> String {
    let mut text = format!("{what} ended with {}", ran.status);
    let stderr = ran.stderr.trim();
    if !stderr.is_empty() {
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        for line in tail.into_iter().rev() {
            text.push_str("\n    ");
            text.push_str(line);
        }
    }
    text
}

/// The Iso-UniK side with `entry`: the suite in one boot, then `hello boot` for the boot
/// time.
fn run_isounik(setup: &Setup, entry: Entry, names: &[String], boot: bool) -> Result<Side> {
    let mut side = Side::default();
    let names: Vec<String> = names
        .iter()
        .filter(|n| !LINUX_ONLY.iter().any(|(l, _)| l == n))
        .cloned()
        .collect();
    if !names.is_empty() {
        eprintln!(
            "isounik bench: running the suite in Iso-UniK ({}, {} entry)",
            setup.mode.name(),
            entry.name()
        );
        let args = setup.bench_args(&names);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let ran = run_collecting(
            setup.isounik(entry, "bench", &args)?,
            setup.limit,
            setup.verbose,
        )?;
        let done = side.take(&ran.lines);
        if !done || !ran.success {
            let error = describe_failure(
                &format!("Iso-UniK's benchmark run ({} entry)", entry.name()),
                &ran,
            );
            eprintln!("isounik bench: {error}");
            side.errors.push((
                "suite".into(),
                error.lines().next().unwrap_or("").to_owned(),
            ));
        }
    }
    if boot {
        eprintln!(
            "isounik bench: measuring Iso-UniK's boot ({} entry)",
            entry.name()
        );
        for _ in 0..setup.boot_samples() {
            let ran = run_collecting(
                setup.isounik(entry, "hello", &["boot"])?,
                setup.limit,
                setup.verbose,
            )?;
            let tsc = ran.lines.iter().find_map(|l| match parse_line(l) {
                Some(Line::BootTsc(t)) => Some(t),
                _ => None,
            });
            match (tsc, ran.first_line) {
                (Some(tsc), Some(at)) if ran.success => {
                    side.boot.tsc.push(tsc as f64);
                    side.boot.host_ms.push(at.as_secs_f64() * 1e3);
                }
                _ => bail!("{}", describe_failure("Iso-UniK's boot probe", &ran)),
            }
        }
    }
    Ok(side)
}

/// The newest `/boot/vmlinuz-*`, or `explicit`.
fn linux_kernel(explicit: Option<&Path>) -> Result<PathBuf> {
    const INSTALL: &str = "install it with: apt-get install linux-image-amd64";
    if let Some(path) = explicit {
        if !path.is_file() {
            bail!("--linux-kernel {}: no such file", path.display());
        }
        return Ok(path.to_owned());
    }
    let mut kernels: Vec<PathBuf> = std::fs::read_dir("/boot")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmlinuz-"))
        })
        .collect();
    kernels.sort();
    match kernels.pop() {
        Some(kernel) => Ok(kernel),
        None => {
            println!("{INSTALL}");
            bail!("--vs-linux needs Debian's Linux kernel (/boot/vmlinuz-*), which is not installed; {INSTALL}")
        }
    }
}

/// The Linux guest's initramfs: /init, /bench/{bench,hello}, /bin/busybox, /dev/console.
fn linux_initramfs(setup: &Setup) -> Result<Vec<u8>> {
    use isounik_cpio::{Meta, Writer};
    let mut w = Writer::new();
    let dir = Meta::new(0o040755);
    let exe = Meta::new(0o100755);
    for d in ["bench", "bin", "dev", "proc", "root", "sys"] {
        w.add(d.as_bytes(), dir, b"");
    }
    w.add(b"tmp", Meta::new(0o041777), b"");
    w.add(
        b"dev/console",
        Meta {
            rdev_major: 5,
            rdev_minor: 1,
            ..Meta::new(0o020600)
        },
        b"",
    );
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
    w.add(b"init", exe, &read(&setup.bin.join("init"))?);
    // With the gate's code for the LINUX_ONLY loops; the rest is the same program.
    w.add(b"bench/bench", exe, &read(&setup.bin.join("bench_native"))?);
    w.add(b"bench/hello", exe, &read(&setup.bin.join("hello"))?);
    w.add(b"bin/busybox", exe, &read(&setup.busybox)?);
    Ok(w.finish())
}

/// The Linux side: one boot that runs the suite (its boot is one boot sample), then more
/// boots that run nothing, for the boot time.
fn run_linux(setup: &Setup, kernel: &Path, names: &[String], boot: bool) -> Result<Side> {
    let work = tempfile::Builder::new()
        .prefix("isounik-bench.")
        .tempdir()?;
    let initrd = work.path().join("initrd.cpio");
    std::fs::write(&initrd, linux_initramfs(setup)?)?;
    let mut side = Side::default();
    let boots = if boot { setup.boot_samples().min(3) } else { 1 };
    for i in 0..boots {
        let suite = i == 0 && !names.is_empty();
        if i > 0 || names.is_empty() {
            eprintln!(
                "isounik bench: booting Linux for its boot time ({}/{boots})",
                i + 1
            );
        } else {
            eprintln!(
                "isounik bench: running the suite in Linux ({})",
                setup.mode.name()
            );
        }
        let mut cmdline = "console=ttyS0 quiet panic=-1".to_owned();
        if suite {
            cmdline.push_str(" bench=");
            cmdline.push_str(&setup.bench_args(names).join(","));
        }
        let args = qemu::linux_argv(&LinuxInvocation {
            machine: Machine::Q35,
            accel: setup.accel,
            mem: setup.mem,
            kernel,
            initrd: &initrd,
            cmdline: &cmdline,
        });
        let mut command = Command::new(&setup.qemu);
        command.args(args);
        let ran = run_collecting(command, setup.limit, setup.verbose)?;
        // The first line of ours is `boot tsc=`; the kernel is quiet, but find it anyway.
        let mut tsc = None;
        let mut uptime = None;
        for line in &ran.lines {
            match parse_line(line) {
                Some(Line::BootTsc(t)) if tsc.is_none() => tsc = Some(t),
                Some(Line::BootUptime(u)) if uptime.is_none() => uptime = Some(u),
                _ => {}
            }
        }
        let Some(tsc) = tsc else {
            let mut error = describe_failure("the Linux guest", &ran);
            for line in ran.lines.iter().rev().take(20).rev() {
                error.push_str("\n    console: ");
                error.push_str(line);
            }
            bail!("{error}");
        };
        side.boot.tsc.push(tsc as f64);
        if let Some(uptime) = uptime {
            side.boot.uptime_ms.push(uptime * 1e3);
        }
        // The host time to the `boot tsc=` line (quiet kernels print nothing before it;
        // if one did, this is an upper bound).
        if let Some(at) = ran.first_line {
            side.boot.host_ms.push(at.as_secs_f64() * 1e3);
        }
        if suite {
            let done = side.take(&ran.lines);
            if !done {
                side.errors.push((
                    "suite".into(),
                    describe_failure("Linux's benchmark run", &ran)
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_owned(),
                ));
            }
        }
    }
    Ok(side)
}

// ---------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------

/// Where and when the numbers were taken.
pub struct RunInfo {
    pub mode: Mode,
    pub quick: bool,
    pub cpu: String,
    pub nproc: usize,
    pub qemu: String,
    pub date: String,
    pub linux: Option<String>,
    pub mem: MemSize,
}

/// Everything measured in one run: Iso-UniK with each entry mode, and Linux.
#[derive(Clone, Debug, Default)]
pub struct Runs {
    /// Iso-UniK with trap entry (`syscall`), when measured.
    pub trap: Option<Side>,
    /// Iso-UniK with `--syscall-entry=gate`, when measured.
    pub gate: Option<Side>,
    pub linux: Option<Side>,
}

impl Runs {
    /// The Iso-UniK sides that ran, with their entry modes.
    fn isounik(&self) -> impl Iterator<Item = (Entry, &Side)> {
        [(Entry::Trap, &self.trap), (Entry::Gate, &self.gate)]
            .into_iter()
            .filter_map(|(e, s)| s.as_ref().map(|s| (e, s)))
    }

    fn failed(&self) -> bool {
        self.isounik()
            .map(|(_, s)| s)
            .chain(&self.linux)
            .any(|s| !s.errors.is_empty())
    }
}

/// A target of the issue and whether it is met.
#[derive(Debug, PartialEq)]
pub struct TargetCheck {
    pub text: String,
    /// Iso-UniK/Linux, or the measured count for an absolute target.
    pub ratio: Option<f64>,
    pub limit: f64,
    /// An instruction count to compare with `limit`, not a ratio.
    pub absolute: bool,
    /// The same ratio with gate entry, for information (targets on the trap side).
    pub gate_ratio: Option<f64>,
    /// Why it could not be measured.
    pub why_not: Option<&'static str>,
}

impl TargetCheck {
    fn verdict(&self) -> &'static str {
        match self.ratio {
            Some(r) if r <= self.limit => "met",
            Some(_) => "MISSED",
            None => "not measured",
        }
    }

    /// `1.38x`, `4,040 instructions`, or why it was not measured; with the gate ratio.
    fn shown(&self) -> String {
        let mut text = match (self.ratio, self.why_not) {
            (Some(v), _) if self.absolute => format!("{} instructions", group_or_dash(Some(v))),
            (None, Some(why)) => why.to_owned(),
            (r, _) => format_ratio(r),
        };
        if let Some(g) = self.gate_ratio {
            let _ = write!(text, "; gate entry {}", format_ratio(Some(g)));
        }
        text
    }
}

pub fn check_targets(mode: Mode, runs: &Runs) -> Vec<TargetCheck> {
    let empty = Side::default();
    let linux = runs.linux.as_ref().unwrap_or(&empty);
    let of = |side: Option<&Side>, name: &str| {
        ratio(
            side.and_then(|s| s.get(name)).map(|m| m.value(mode)),
            linux.get(name).map(|m| m.value(mode)),
        )
    };
    let mut checks: Vec<TargetCheck> = TARGETS
        .iter()
        .filter(|t| t.1 == mode)
        .map(|&(name, _, limit, text)| TargetCheck {
            text: text.to_owned(),
            ratio: of(runs.trap.as_ref(), name),
            limit,
            absolute: false,
            // The null-syscall target is the trap path's; the gate has its own below.
            gate_ratio: of(runs.gate.as_ref(), name).filter(|_| name != "null"),
            why_not: runs.trap.is_none().then_some("trap entry not run"),
        })
        .collect();
    if mode != Mode::Kvm {
        let boot = |side: Option<&Side>| {
            ratio(
                side.and_then(|s| s.boot.value(mode)),
                linux.boot.value(mode),
            )
        };
        checks.push(TargetCheck {
            text: format!(
                "boot to the first instruction <= {BOOT_TARGET}x Linux boot to init ({})",
                if mode.counts_instructions() {
                    "guest TSC"
                } else {
                    "host wall time"
                }
            ),
            ratio: boot(runs.trap.as_ref()),
            limit: BOOT_TARGET,
            absolute: false,
            gate_ratio: boot(runs.gate.as_ref()),
            why_not: None,
        });
    }
    // The gate's round trip from the rewritten site's `call` to its return: the bare
    // `syscall` loop less the same loop without it (libc's wrapper is not the gate's).
    let round_trip = |side: Option<&Side>| {
        let side = side?;
        let with = side.get("null_raw")?.median;
        let without = side.get("loop_raw")?.median;
        Some(with - without)
    };
    let trap_round_trip = round_trip(runs.trap.as_ref()).filter(|_| mode.counts_instructions());
    checks.push(TargetCheck {
        text: format!(
            "null syscall (getppid) round trip through the MPK gate <= {GATE_TARGET} instructions \
             (null_raw - loop_raw; trap round trip: {})",
            trap_round_trip.map_or("-".into(), |v| format!("{v:.0}"))
        ),
        ratio: round_trip(runs.gate.as_ref()).filter(|_| mode.counts_instructions()),
        limit: GATE_TARGET,
        absolute: true,
        gate_ratio: None,
        why_not: Some(if !mode.counts_instructions() {
            "instruction counts: icount mode only"
        } else if runs.gate.is_none() {
            "gate entry not run"
        } else {
            "`null_raw` and `loop_raw` not both run"
        }),
    });
    checks
}

fn format_value(mode: Mode, value: Option<f64>) -> String {
    match value {
        None => "-".into(),
        Some(v) if mode.counts_instructions() => group_digits(v.round() as u64),
        Some(v) => format!("{:.2} µs", v / 1e3),
    }
}

fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn format_ratio(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{r:.2}x"))
}

/// The Markdown report: header, table, targets, errors.
pub fn render(ctx: &RunInfo, runs: &Runs) -> String {
    let mode = ctx.mode;
    let mut out = String::new();
    let unit = if mode.counts_instructions() {
        "guest instructions per operation (rdtsc under -icount shift=0), median"
    } else {
        "wall time per operation (CLOCK_MONOTONIC in the guest), median"
    };
    let _ = writeln!(
        out,
        "isounik bench: mode {}{}",
        mode.name(),
        if ctx.quick { " (--quick)" } else { "" }
    );
    let _ = writeln!(
        out,
        "machine: {}, {} CPUs; {}; guest: q35, -cpu max, {}, 1 vCPU",
        ctx.cpu, ctx.nproc, ctx.qemu, ctx.mem
    );
    let entries: Vec<&str> = runs.isounik().map(|(e, _)| e.name()).collect();
    let _ = writeln!(
        out,
        "date: {}; Iso-UniK: isounik {}, syscall entry {}; Linux: {}",
        ctx.date,
        env!("CARGO_PKG_VERSION"),
        if entries.is_empty() {
            "not run".to_owned()
        } else {
            entries.join(" and ")
        },
        ctx.linux.as_deref().unwrap_or("not run")
    );
    let _ = writeln!(out, "unit: {unit}\n");
    let _ = writeln!(
        out,
        "| operation | Iso-UniK trap | Iso-UniK gate | Linux | ratio trap/Linux | ratio gate/Linux |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    let sides = [runs.trap.as_ref(), runs.gate.as_ref(), runs.linux.as_ref()];
    for &(name, what) in BENCHMARKS.iter().chain(&LINUX_ONLY) {
        let known = sides
            .iter()
            .flatten()
            .any(|s| s.get(name).is_some() || s.errors.iter().any(|e| e.0 == name));
        if !known {
            continue;
        }
        let cell = |side: Option<&Side>| match side {
            None => "not run".to_owned(),
            Some(side) => match (side.get(name), side.errors.iter().find(|e| e.0 == name)) {
                (Some(m), _) => format_value(mode, Some(m.value(mode))),
                (None, Some(e)) => format!("FAILED: {}", e.1),
                (None, None) => "-".into(),
            },
        };
        let value = |side: Option<&Side>| side.and_then(|s| s.get(name)).map(|m| m.value(mode));
        let linux_value = value(runs.linux.as_ref());
        let _ = writeln!(
            out,
            "| {what} (`{name}`) | {} | {} | {} | {} | {} |",
            cell(sides[0]),
            cell(sides[1]),
            cell(sides[2]),
            format_ratio(ratio(value(sides[0]), linux_value)),
            format_ratio(ratio(value(sides[1]), linux_value)),
        );
    }
    let boot_known = sides.iter().flatten().any(|s| !s.boot.tsc.is_empty());
    if boot_known {
        let tsc = |side: Option<&Side>| side.and_then(|s| median(&s.boot.tsc));
        let host = |side: Option<&Side>| side.and_then(|s| median(&s.boot.host_ms));
        let ms = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.0} ms"));
        let _ = writeln!(
            out,
            "| boot to first instruction, guest TSC{} (`boot`) | {} | {} | {} | {} | {} |",
            if mode.counts_instructions() {
                " = instructions + idle skips"
            } else {
                " ticks"
            },
            group_or_dash(tsc(sides[0])),
            group_or_dash(tsc(sides[1])),
            group_or_dash(tsc(sides[2])),
            format_ratio(ratio(tsc(sides[0]), tsc(sides[2]))),
            format_ratio(ratio(tsc(sides[1]), tsc(sides[2]))),
        );
        let _ = writeln!(
            out,
            "| boot to first output line, host wall time (`boot_ms`) | {} | {} | {} | {} | {} |",
            ms(host(sides[0])),
            ms(host(sides[1])),
            ms(host(sides[2])),
            format_ratio(ratio(host(sides[0]), host(sides[2]))),
            format_ratio(ratio(host(sides[1]), host(sides[2]))),
        );
    }
    if runs.linux.is_some() || runs.gate.is_some() {
        let _ = writeln!(
            out,
            "\nTargets (ratio Iso-UniK trap/Linux, gate entry's for information; the gate target in instructions):\n"
        );
        for t in check_targets(mode, runs) {
            let _ = writeln!(out, "- {}: {} ({})", t.text, t.verdict(), t.shown());
        }
    }
    let errors: Vec<String> = runs
        .isounik()
        .map(|(e, s)| (format!("Iso-UniK {}", e.name()), s))
        .chain(runs.linux.iter().map(|s| ("Linux".to_owned(), s)))
        .flat_map(|(who, side)| {
            side.errors
                .iter()
                .map(move |(n, e)| format!("- {who} `{n}`: {e}"))
        })
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(out, "\nFailures:\n\n{}", errors.join("\n"));
    }
    out
}

fn group_or_dash(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| group_digits(v.round() as u64))
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_number(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".into()
    }
}

fn json_numbers(v: &[f64]) -> String {
    let items: Vec<String> = v.iter().map(|&x| json_number(x)).collect();
    format!("[{}]", items.join(", "))
}

/// The raw numbers; one result per line (`"system"`, `"name"`, ticks and ns).
pub fn to_json(ctx: &RunInfo, runs: &Runs) -> String {
    let mut out = String::from("{\n");
    let _ = writeln!(out, "  \"mode\": {},", json_string(ctx.mode.name()));
    let _ = writeln!(out, "  \"quick\": {},", ctx.quick);
    let _ = writeln!(out, "  \"date\": {},", json_string(&ctx.date));
    let _ = writeln!(out, "  \"cpu\": {},", json_string(&ctx.cpu));
    let _ = writeln!(out, "  \"nproc\": {},", ctx.nproc);
    let _ = writeln!(out, "  \"qemu\": {},", json_string(&ctx.qemu));
    let _ = writeln!(
        out,
        "  \"guest_memory\": {},",
        json_string(&ctx.mem.to_string())
    );
    let _ = writeln!(
        out,
        "  \"linux_kernel\": {},",
        ctx.linux.as_deref().map_or("null".into(), json_string)
    );
    let _ = writeln!(
        out,
        "  \"isounik_version\": {},",
        json_string(env!("CARGO_PKG_VERSION"))
    );
    let sides: Vec<(&str, &Side)> = [
        ("isounik-trap", &runs.trap),
        ("isounik-gate", &runs.gate),
        ("linux", &runs.linux),
    ]
    .into_iter()
    .filter_map(|(system, side)| side.as_ref().map(|s| (system, s)))
    .collect();
    let mut results = Vec::new();
    let mut errors = Vec::new();
    let mut boots = Vec::new();
    for (system, side) in &sides {
        for m in &side.results {
            results.push(format!(
                "    {{\"system\": {}, \"name\": {}, \"iterations\": {}, \"reps\": {}, \"ticks_min\": {}, \"ticks_median\": {}, \"ns_min\": {}, \"ns_median\": {}}}",
                json_string(system),
                json_string(&m.name),
                m.iterations,
                m.reps,
                json_number(m.min),
                json_number(m.median),
                json_number(m.ns_min),
                json_number(m.ns_median)
            ));
        }
        for (name, what) in &side.errors {
            errors.push(format!(
                "    {{\"system\": {}, \"name\": {}, \"error\": {}}}",
                json_string(system),
                json_string(name),
                json_string(what)
            ));
        }
        if !side.boot.tsc.is_empty() {
            boots.push(format!(
                "    {{\"system\": {}, \"tsc_min\": {}, \"tsc\": {}, \"host_ms\": {}, \"uptime_ms\": {}}}",
                json_string(system),
                minimum(&side.boot.tsc).map_or("null".into(), json_number),
                json_numbers(&side.boot.tsc),
                json_numbers(&side.boot.host_ms),
                json_numbers(&side.boot.uptime_ms)
            ));
        }
    }
    let _ = writeln!(out, "  \"results\": [\n{}\n  ],", results.join(",\n"));
    let _ = writeln!(out, "  \"errors\": [\n{}\n  ],", errors.join(",\n"));
    let _ = writeln!(out, "  \"boot\": [\n{}\n  ],", boots.join(",\n"));
    let targets: Vec<String> = if runs.linux.is_some() || runs.gate.is_some() {
        check_targets(ctx.mode, runs)
            .iter()
            .map(|t| {
                format!(
                    "    {{\"target\": {}, \"limit\": {}, \"{}\": {}, \"gate_ratio\": {}, \"verdict\": {}}}",
                    json_string(&t.text),
                    json_number(t.limit),
                    if t.absolute { "instructions" } else { "ratio" },
                    t.ratio.map_or("null".into(), json_number),
                    t.gate_ratio.map_or("null".into(), json_number),
                    json_string(t.verdict())
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let _ = writeln!(out, "  \"targets\": [\n{}\n  ]", targets.join(",\n"));
    out.push_str("}\n");
    out
}

/// `YYYY-MM-DD HH:MM UTC`.
pub fn utc_date(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = (secs / 86400) as i64;
    let (h, m) = ((secs % 86400) / 3600, (secs % 3600) / 60);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{d:02} {h:02}:{m:02} UTC")
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// The benchmark names to run.
fn selected(only: Option<&str>) -> Result<Vec<String>> {
    let Some(only) = only else {
        return Ok(BENCHMARKS.iter().map(|(n, _)| (*n).to_owned()).collect());
    };
    let mut names = Vec::new();
    for name in only.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !BENCHMARKS
            .iter()
            .chain(&LINUX_ONLY)
            .any(|(n, _)| *n == name)
        {
            let known: Vec<&str> = BENCHMARKS
                .iter()
                .chain(&LINUX_ONLY)
                .map(|(n, _)| *n)
                .collect();
            bail!(
                "--only: unknown benchmark `{name}` (known: {})",
                known.join(", ")
            );
        }
        names.push(name.to_owned());
    }
    Ok(names)
}

pub fn run(args: BenchArgs) -> Result<u8> {
    if args.mode == Mode::Native {
        let work = tempfile::Builder::new()
            .prefix("isounik-bench.")
            .tempdir()?;
        build_programs(work.path())?;
        return crate::native_gate::run(work.path(), args.quick, &cpu_model());
    }
    let names = selected(args.only.as_deref())?;
    let accel = match args.mode {
        Mode::Native => unreachable!("handled above"),
        Mode::Icount => Accel::TcgIcount,
        Mode::Tcg => Accel::Tcg,
        Mode::Kvm => match kvm::probe() {
            Probe::Pku => Accel::Kvm,
            probe => bail!(
                "--mode kvm needs a KVM vCPU that exposes PKU, and /dev/kvm is {probe}; \
                 KVM mode skipped (use --mode icount or --mode tcg)"
            ),
        },
    };
    let qemu_path = qemu::find(args.qemu.as_deref())?;
    let qemu_version = qemu::version(&qemu_path)?;
    let linux_kernel = if args.vs_linux {
        Some(linux_kernel(args.linux_kernel.as_deref())?)
    } else {
        None
    };
    let busybox = busybox()?;
    let work = tempfile::Builder::new()
        .prefix("isounik-bench.")
        .tempdir()?;
    let bin = work.path().join("bin");
    std::fs::create_dir_all(&bin)?;
    build_programs(&bin)?;
    let setup = Setup {
        mode: args.mode,
        accel,
        mem: args.mem,
        qemu: qemu_path,
        bin,
        busybox,
        limit: Duration::from_secs(args.timeout.max(1)),
        verbose: args.verbose,
        quick: args.quick,
    };
    let boot = !args.skip_boot;
    let mut runs = Runs::default();
    for &entry in args.syscall_entry.list() {
        let side = Some(run_isounik(&setup, entry, &names, boot)?);
        match entry {
            Entry::Trap => runs.trap = side,
            Entry::Gate => runs.gate = side,
        }
    }
    if let Some(kernel) = &linux_kernel {
        runs.linux = Some(run_linux(&setup, kernel, &names, boot)?);
    }
    let ctx = RunInfo {
        mode: args.mode,
        quick: args.quick,
        cpu: cpu_model(),
        nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
        qemu: qemu_version,
        date: utc_date(SystemTime::now()),
        linux: linux_kernel.as_ref().map(|k| {
            k.file_name().map_or_else(
                || k.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        }),
        mem: args.mem,
    };
    print!("{}", render(&ctx, &runs));
    let json_path = args.json.clone().unwrap_or_else(|| {
        PathBuf::from("target/bench").join(format!("results-{}.json", args.mode.name()))
    });
    if let Some(parent) = json_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(&json_path, to_json(&ctx, &runs))
        .with_context(|| format!("cannot write {}", json_path.display()))?;
    println!("\nraw numbers: {}", json_path.display());
    Ok(if runs.failed() { 1 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measure(name: &str, median: f64, ns: f64) -> Measure {
        Measure {
            name: name.into(),
            iterations: 10,
            reps: 5,
            min: median,
            median,
            ns_min: ns,
            ns_median: ns,
        }
    }

    #[test]
    fn parses_result_lines() {
        let line = "bench fork iterations=200 reps=11 unit=ticks min=1744691.0 median=2249686.4 ns_min=670815.8 ns_median=864657.8";
        assert_eq!(
            parse_line(line),
            Some(Line::Result(Measure {
                name: "fork".into(),
                iterations: 200,
                reps: 11,
                min: 1_744_691.0,
                median: 2_249_686.4,
                ns_min: 670_815.8,
                ns_median: 864_657.8,
            }))
        );
        // Console line endings and padding are tolerated.
        assert!(matches!(
            parse_line(&format!("\r{line}\r")),
            Some(Line::Result(_))
        ));
        assert_eq!(
            parse_line("bench ctx error=fork errno=12"),
            Some(Line::Error {
                name: "ctx".into(),
                what: "fork (errno 12)".into()
            })
        );
        assert_eq!(parse_line("boot tsc=123456"), Some(Line::BootTsc(123_456)));
        assert_eq!(parse_line("boot uptime=1.25"), Some(Line::BootUptime(1.25)));
        assert_eq!(parse_line("bench-done count=3"), Some(Line::Done));
        for other in [
            "",
            "[    0.1] Linux version",
            "bench",
            "bench null iterations=x reps=1 min=1 median=1 ns_min=1 ns_median=1",
            "bench null iterations=1 reps=1 min=1 median=nan ns_min=1 ns_median=1",
            "bench null iterations=1 reps=1 min=1",
            "boot tsc=-1",
        ] {
            assert_eq!(parse_line(other), None, "{other:?}");
        }
    }

    #[test]
    fn medians_minimums_and_ratios() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[f64::NAN, 2.0]), Some(2.0));
        assert_eq!(minimum(&[4.0, 1.5, 3.0]), Some(1.5));
        assert_eq!(minimum(&[]), None);
        assert_eq!(ratio(Some(1.0), Some(4.0)), Some(0.25));
        assert_eq!(ratio(Some(1.0), Some(0.0)), None);
        assert_eq!(ratio(None, Some(4.0)), None);
        assert_eq!(ratio(Some(1.0), None), None);
    }

    #[test]
    fn targets_follow_the_mode() {
        let isounik = Side {
            results: vec![
                measure("fork", 100.0, 1000.0),
                measure("null", 60.0, 10.0),
                measure("null_raw", 520.0, 1.0),
                measure("loop_raw", 20.0, 1.0),
            ],
            boot: Boot {
                tsc: vec![10.0, 12.0, 11.0],
                host_ms: vec![100.0],
                uptime_ms: vec![],
            },
            ..Side::default()
        };
        let linux = Side {
            results: vec![measure("fork", 400.0, 1500.0), measure("null", 100.0, 10.0)],
            boot: Boot {
                tsc: vec![100.0],
                host_ms: vec![1000.0],
                uptime_ms: vec![500.0],
            },
            ..Side::default()
        };
        let gate = Side {
            results: vec![
                measure("fork", 120.0, 900.0),
                measure("null", 60.0, 1.0),
                measure("null_raw", 45.0, 1.0),
                measure("loop_raw", 20.0, 1.0),
            ],
            ..Side::default()
        };
        let mut runs = Runs {
            trap: Some(isounik),
            gate: None,
            linux: Some(linux),
        };
        let checks = check_targets(Mode::Icount, &runs);
        let find = |text: &str| checks.iter().find(|c| c.text.starts_with(text)).unwrap();
        assert_eq!(find("fork+exit").ratio, Some(0.25));
        assert_eq!(find("fork+exit").verdict(), "met");
        assert_eq!(find("null syscall (trap)").verdict(), "MISSED");
        assert_eq!(find("fork+exec").verdict(), "not measured");
        assert_eq!(find("boot").ratio, Some(0.11));
        let gate_target = find("null syscall (getppid) round trip through the MPK gate");
        assert_eq!(gate_target.verdict(), "not measured");
        assert_eq!(gate_target.shown(), "gate entry not run");
        runs.gate = Some(gate);
        let checks = check_targets(Mode::Icount, &runs);
        let find = |text: &str| checks.iter().find(|c| c.text.starts_with(text)).unwrap();
        let gate_target = find("null syscall (getppid) round trip through the MPK gate");
        assert_eq!(
            (gate_target.ratio, gate_target.verdict()),
            (Some(25.0), "met")
        );
        assert!(gate_target.text.ends_with("trap round trip: 500)"));
        assert_eq!(gate_target.shown(), "25 instructions");
        assert_eq!(find("fork+exit").gate_ratio, Some(0.3));
        assert_eq!(find("fork+exit").shown(), "0.25x; gate entry 0.30x");
        assert_eq!(find("null syscall (trap)").gate_ratio, None);
        runs.gate.as_mut().unwrap().results[2].median = 4060.0;
        let checks = check_targets(Mode::Icount, &runs);
        let gate_target = checks.last().unwrap();
        assert_eq!(gate_target.verdict(), "MISSED");
        assert_eq!(gate_target.shown(), "4,040 instructions");
        let checks = check_targets(Mode::Tcg, &runs);
        assert_eq!(
            checks.last().unwrap().shown(),
            "instruction counts: icount mode only"
        );
        let fork = checks
            .iter()
            .find(|c| c.text.starts_with("fork+exit"))
            .unwrap();
        assert_eq!(fork.limit, 0.5);
        assert_eq!(fork.verdict(), "MISSED");
        let boot = checks.iter().find(|c| c.text.starts_with("boot")).unwrap();
        assert_eq!(boot.ratio, Some(0.1));
    }

    #[test]
    fn renders_tables_and_json() {
        let ctx = RunInfo {
            mode: Mode::Icount,
            quick: true,
            cpu: "Test CPU".into(),
            nproc: 2,
            qemu: "QEMU emulator version 7.2".into(),
            date: "2026-01-01 00:00 UTC".into(),
            linux: Some("vmlinuz-6.1".into()),
            mem: MemSize::from_mib(256),
        };
        let isounik = Side {
            results: vec![measure("null", 1234.0, 10.0)],
            errors: vec![("fork".into(), "fork (errno 12)".into())],
            ..Side::default()
        };
        let linux = Side {
            results: vec![measure("null", 2468.0, 20.0), measure("fork", 10.0, 1.0)],
            ..Side::default()
        };
        let gate = Side {
            results: vec![
                measure("null", 4936.0, 40.0),
                measure("null_raw", 4956.0, 40.0),
                measure("loop_raw", 20.0, 1.0),
            ],
            ..Side::default()
        };
        let mut runs = Runs {
            trap: Some(isounik),
            gate: None,
            linux: Some(linux),
        };
        let table = render(&ctx, &runs);
        assert!(
            table.contains(
                "| null syscall (getppid) (`null`) | 1,234 | not run | 2,468 | 0.50x | - |"
            ),
            "{table}"
        );
        assert!(
            table.contains("| fork+exit+wait (`fork`) | FAILED: fork (errno 12) | not run | 10 |"),
            "{table}"
        );
        assert!(table.contains("machine: Test CPU, 2 CPUs"));
        assert!(
            table.contains("syscall entry trap; Linux: vmlinuz-6.1"),
            "{table}"
        );
        runs.gate = Some(gate);
        let table = render(&ctx, &runs);
        assert!(
            table.contains(
                "| null syscall (getppid) (`null`) | 1,234 | 4,936 | 2,468 | 0.50x | 2.00x |"
            ),
            "{table}"
        );
        assert!(table.contains("syscall entry trap and gate;"), "{table}");
        assert!(
            table.contains("- null syscall (getppid) round trip through the MPK gate <= 30 instructions (null_raw - loop_raw; trap round trip: -): MISSED (4,936 instructions)"),
            "{table}"
        );
        let json = to_json(&ctx, &runs);
        assert!(json.contains(
            "{\"system\": \"isounik-gate\", \"name\": \"null\", \"iterations\": 10, \"reps\": 5, \"ticks_min\": 4936, \"ticks_median\": 4936, \"ns_min\": 40, \"ns_median\": 40}"
        ), "{json}");
        assert!(
            json.contains("\"instructions\": 4936, \"gate_ratio\": null, \"verdict\": \"MISSED\""),
            "{json}"
        );
        assert!(json.contains(
            "{\"system\": \"isounik-trap\", \"name\": \"null\", \"iterations\": 10, \"reps\": 5, \"ticks_min\": 1234, \"ticks_median\": 1234, \"ns_min\": 10, \"ns_median\": 10}"
        ), "{json}");
        assert!(json.contains("\"verdict\": \"met\""));
        assert_eq!(json_string("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
        assert_eq!(group_digits(1_234_567), "1,234,567");
        assert_eq!(group_digits(12), "12");
        assert_eq!(format_value(Mode::Tcg, Some(1500.0)), "1.50 µs");
    }

    #[test]
    fn dates_and_selection() {
        assert_eq!(utc_date(UNIX_EPOCH), "1970-01-01 00:00 UTC");
        let at = UNIX_EPOCH + Duration::from_secs(1_709_210_096); // 2024-02-29 12:34:56
        assert_eq!(utc_date(at), "2024-02-29 12:34 UTC");
        assert_eq!(selected(Some("null, fork")).unwrap(), ["null", "fork"]);
        assert_eq!(selected(None).unwrap().len(), BENCHMARKS.len());
        assert!(selected(Some("nope")).is_err());
    }

    #[test]
    fn every_benchmark_is_in_the_program() {
        let source = SOURCES[0].1;
        for (name, _) in BENCHMARKS {
            assert!(source.contains(&format!("{{\"{name}\",")), "{name}");
        }
    }
}
