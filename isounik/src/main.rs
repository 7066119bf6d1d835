//! `isounik`: the host tool of Iso-UniK. It carries the kernel (built and embedded by
//! build.rs), boots it in QEMU, relays its console and tells how it ended.

#![warn(clippy::undocumented_unsafe_blocks)]

mod bench;
mod console;
mod guest_path;
mod kernel;
mod kvm;
mod launch;
mod log;
mod native_gate;
mod qemu;
mod records;
mod rootfs;
mod selftest;
mod session;
mod symbols;

use std::ffi::{OsStr, OsString};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use clap::{ArgGroup, Args, Parser, Subcommand};
use isounik_abi::cmdline;

use crate::console::Input;
use crate::kernel::KernelImage;
use crate::launch::{AddSpec, Program, ProgramError};
use crate::qemu::{Accel, AccelChoice, Machine, MemSize};
use crate::records::Reporter;
use crate::rootfs::{BootFiles, Contents};
use crate::session::Guest;

const ABOUT: &str = "Iso-UniK: a unikernel that runs unmodified Linux binaries as processes \
                     kept apart by Intel protection keys (MPK). isounik boots it in QEMU.";

const EXIT_STATUS: &str = "\
Exit status: the program's own status (128+N if a signal N killed it, 126 if it cannot be
executed, 127 if it does not exist); 70 if the kernel crashed or the guest reset; 124 on
--timeout; 125 if isounik or QEMU failed; 130 on Ctrl-C.";

const EXAMPLES: &str = "\
Examples:
  isounik run /bin/busybox echo hello      Run a static Linux program in Iso-UniK
  isounik run --add ./data:/data /bin/busybox ls -la /data
                                           Give the guest a host directory
  isounik run --strace /bin/busybox ls /   Show every system call on stderr
  isounik build --rootfs /tmp/root /bin/busybox ls /
                                           Write the guest's root tree for inspection
  isounik run --append exit=3              No PROGRAM: boot the kernel alone (test words)
  isounik selftest                         Run the in-kernel self tests
  isounik selftest --filter heap --accel auto
  isounik info                             QEMU/KVM details for bug reports";

const RUN_HELP: &str = "\
PROGRAM is a static x86-64 Linux executable: a host path, or a name looked up in the host's
PATH. The guest finds it at its absolute host path (symlinks in the path are kept as
written; nothing can be placed under /dev or /proc). Its stdout and stderr are isounik's,
byte for byte; piped stdin reaches it (a terminal only with --interactive). Kernel
messages appear only with --verbose or when something fails.

The guest's root is an in-memory file system built from PROGRAM, every --add, and defaults:
/tmp, /root, /dev and /proc (the kernel mounts its own), and /etc/passwd, group, hostname,
hosts and localtime unless you add your own. Every file is owned by root. The environment is
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin, HOME=/root, TERM (the
host's, else linux), then each -e in order.

Examples:
  isounik run /bin/busybox echo hello
  isounik run --add ./data:/data /bin/busybox ls -la /data
  isounik run --strace /bin/busybox ls /
  printf 'b\\na\\n' | isounik run /bin/busybox sort
  isounik run -e GREETING=hi -e TERM -w /tmp /bin/busybox env
  isounik run --machine microvm --mem 1G --timeout 60 ./my-static-program arg1 arg2
  isounik run --append exit=3              No PROGRAM: boot the kernel alone with test words

Exit status: the program's own status (128+N if a signal N killed it, 126 if it cannot be
executed, 127 if it does not exist); 70 if the kernel crashed or the guest reset; 124 on
--timeout; 125 if isounik or QEMU failed; 130 on Ctrl-C.";

const BUILD_HELP: &str = "\
Writes what `isounik run` with the same arguments would give the guest: the initramfs
(--output, a cpio newc archive with the boot files in .isounik/), or the guest's root tree
(--rootfs, without .isounik/, which the kernel removes at boot). The same inputs always give
the same archive bytes.

Examples:
  isounik build --output busybox.cpio /bin/busybox ls -la /
  isounik build --rootfs /tmp/root --add ./data:/data /bin/busybox ls /data
  chroot /tmp/root /bin/busybox ls -la /   (compare with: isounik run /bin/busybox ls -la /)";

#[derive(Parser)]
#[command(name = "isounik", version, about = ABOUT, after_help = format!("{EXAMPLES}\n\n{EXIT_STATUS}"))]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a static Linux program in Iso-UniK (or, without PROGRAM, boot the kernel alone)
    #[command(after_help = RUN_HELP)]
    Run(RunArgs),
    /// Write the initramfs or the guest root tree that `run` would use
    #[command(after_help = BUILD_HELP)]
    Build(BuildArgs),
    /// Run the in-kernel self tests and report like `cargo test`
    Selftest(SelftestArgs),
    /// Show the QEMU, KVM and kernel this isounik would use
    Info(InfoArgs),
    /// Measure system-call, process, pipe, signal and memory costs (and boot time), and
    /// compare with a Linux guest under the same QEMU
    #[command(after_help = bench::HELP)]
    Bench(bench::BenchArgs),
}

/// Options of every boot.
#[derive(Args)]
struct VmArgs {
    /// Guest memory: 512M, 1G, or a number of MiB
    #[arg(long, value_name = "SIZE", default_value = "256M")]
    mem: MemSize,
    /// Machine model [default: q35; microvm with --publish]
    #[arg(long, value_enum)]
    machine: Option<Machine>,
    /// Accelerator
    #[arg(long, value_enum, default_value_t = AccelChoice::Tcg)]
    accel: AccelChoice,
    /// Boot this kernel ELF instead of the embedded one
    #[arg(long, value_name = "PATH")]
    kernel: Option<PathBuf>,
    /// Extra kernel command-line words
    #[arg(long, value_name = "WORDS")]
    append: Vec<String>,
    /// QEMU binary [default: qemu-system-x86_64 from PATH]
    #[arg(long, value_name = "PATH")]
    qemu: Option<PathBuf>,
    /// Show the QEMU command line, QEMU's messages and the kernel log (on stderr)
    #[arg(short, long)]
    verbose: bool,
    /// Count instructions: TCG with `-icount shift=0,align=off,sleep=off` (for `isounik bench`)
    #[arg(long, hide = true)]
    icount: bool,
}

/// What goes into the guest besides the program.
#[derive(Args)]
struct ContentArgs {
    /// Add a host file or directory (recursively) at GUEST [default: its absolute host
    /// path]; a GUEST ending in / receives a file inside. Repeatable; later ones win
    #[arg(long, value_name = "HOST[:GUEST]")]
    add: Vec<OsString>,
    /// Set an environment variable, or copy the host's value with NAME alone. Repeatable;
    /// later ones win
    #[arg(short = 'e', long = "env", value_name = "NAME[=VALUE]")]
    env: Vec<OsString>,
    /// The program's working directory: an absolute guest path, created if missing
    #[arg(short = 'w', long, value_name = "DIR")]
    workdir: Option<OsString>,
}

impl ContentArgs {
    fn is_empty(&self) -> bool {
        self.add.is_empty() && self.env.is_empty() && self.workdir.is_none()
    }
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    vm: VmArgs,
    #[command(flatten)]
    content: ContentArgs,
    /// Print every system call on stderr, strace-style
    #[arg(long)]
    strace: bool,
    /// Kill the guest after this many seconds (0: never)
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    timeout: u64,
    /// Forward stdin to the guest even when it is a terminal
    #[arg(short, long)]
    interactive: bool,
    /// Give the program a terminal: the console becomes a tty (line editing, ^C, job
    /// control) and, when stdin is a terminal, it is put in raw mode for the session.
    /// Use `-it` for an interactive shell.
    #[arg(short = 't', long)]
    tty: bool,
    /// How the program enters the kernel: `trap` (the `syscall` instruction, a ring
    /// transition) or `gate` (each `syscall` site is rewritten at its first use into a call
    /// through the MPK gate, which answers simple calls in ring 3 with two PKRU writes)
    #[arg(long, value_name = "MODE", default_value = "trap", value_parser = ["trap", "gate"])]
    syscall_entry: String,
    /// Publish a guest TCP port on the host, as `docker run -p`: connections to
    /// HOST_IP:HOST_PORT (default 127.0.0.1) reach the program listening on GUEST_PORT,
    /// through a virtio-net device on QEMU's user network (guest address 10.0.2.15; uses
    /// --machine microvm). Repeatable
    #[arg(short = 'p', long, value_name = "[HOST_IP:]HOST_PORT:GUEST_PORT")]
    publish: Vec<qemu::PortForward>,
    /// Give the guest a network device even without --publish: QEMU's user network, on
    /// which programs connect out over TCP (the host is 10.0.2.2; uses --machine microvm)
    #[arg(long)]
    net: bool,
    /// The program: a host path, or a name looked up in the host's PATH
    #[arg(value_name = "PROGRAM")]
    program: Option<OsString>,
    /// The program's arguments (everything after PROGRAM)
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true,
        requires = "program"
    )]
    args: Vec<OsString>,
}

#[derive(Args)]
#[command(group(ArgGroup::new("destination").required(true).multiple(true).args(["output", "rootfs"])))]
struct BuildArgs {
    #[command(flatten)]
    content: ContentArgs,
    /// Write the initramfs (cpio newc) to FILE (`-`: stdout)
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Unpack the guest's root tree into DIR (created if absent; must be empty)
    #[arg(long, value_name = "DIR")]
    rootfs: Option<PathBuf>,
    /// The program: a host path, or a name looked up in the host's PATH
    #[arg(value_name = "PROGRAM")]
    program: OsString,
    /// The program's arguments (everything after PROGRAM)
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    args: Vec<OsString>,
}

#[derive(Args)]
struct SelftestArgs {
    #[command(flatten)]
    vm: VmArgs,
    /// Kill the guest after this many seconds (0: never)
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout: u64,
    /// Run only the named self tests (NAME[,NAME...])
    #[arg(long, value_name = "NAME")]
    filter: Option<String>,
}

#[derive(Args)]
struct InfoArgs {
    /// QEMU binary [default: qemu-system-x86_64 from PATH]
    #[arg(long, value_name = "PATH")]
    qemu: Option<PathBuf>,
    /// Describe this kernel ELF instead of the embedded one
    #[arg(long, value_name = "PATH")]
    kernel: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Build(args) => build(args),
        Command::Selftest(args) => run_selftest(args),
        Command::Info(args) => info(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => match error.downcast_ref::<ProgramError>() {
            // A program that cannot run is reported as a shell would.
            Some(error) => {
                eprintln!("isounik: {error}");
                ExitCode::from(error.status)
            }
            None => {
                eprintln!("isounik: error: {error:#}");
                ExitCode::from(session::EXIT_TOOL)
            }
        },
    }
}

/// The kernel command line: `base` words, then `--append` strings.
fn kernel_cmdline<'a>(base: impl IntoIterator<Item = &'a str>, append: &'a [String]) -> String {
    base.into_iter()
        .chain(append.iter().map(String::as_str))
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `time=<ns since the epoch>` and `seed=<32 hex digits>` (`abi::cmdline`).
fn time_and_seed(now: SystemTime, seed: [u8; 16]) -> [String; 2] {
    let ns = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
    [
        format!("{}={ns}", cmdline::TIME),
        format!("{}={hex}", cmdline::SEED),
    ]
}

fn timeout(seconds: u64) -> Option<Duration> {
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

/// Resolves what every boot needs and calls `boot` with the guest description.
/// `cmdline` is called last, just before the boot (it reads the clock).
fn with_guest<T>(
    vm: &VmArgs,
    network: Option<&[qemu::PortForward]>,
    cmdline: impl FnOnce() -> Result<String>,
    initrd: Option<&[u8]>,
    timeout: Option<Duration>,
    input: Input,
    boot: impl FnOnce(&Guest<'_>) -> Result<T>,
) -> Result<T> {
    let kernel = KernelImage::select(vm.kernel.as_deref())?;
    let qemu = qemu::find(vm.qemu.as_deref())?;
    let accel = match (kvm::resolve(vm.accel, kvm::probe)?, vm.icount) {
        (accel, false) => accel,
        (Accel::Tcg, true) => Accel::TcgIcount,
        (accel, true) => bail!("--icount needs TCG, not {accel}"),
    };
    // The network device is virtio-mmio, which only microvm has (q35 would need PCI).
    let machine = match (vm.machine, network.is_some()) {
        (Some(Machine::Q35), true) => bail!(
            "--publish and --net need --machine microvm (the network device is virtio-mmio; \
             q35's PCI is not supported yet)"
        ),
        (Some(m), _) => m,
        (None, false) => Machine::Q35,
        (None, true) => Machine::Microvm,
    };
    boot(&Guest {
        qemu: &qemu,
        machine,
        network,
        accel,
        mem: vm.mem,
        kernel: &kernel,
        cmdline: cmdline()?,
        initrd,
        timeout,
        verbose: vm.verbose,
        input,
    })
}

/// The program and the initramfs that runs it.
struct Prepared {
    program: Program,
    archive: Vec<u8>,
}

/// Resolves PROGRAM and packs the initramfs (`run` and `build` alike).
fn prepare(program: &OsStr, args: &[OsString], content: &ContentArgs) -> Result<Prepared> {
    let adds = content
        .add
        .iter()
        .map(|spec| AddSpec::parse(spec))
        .collect::<Result<Vec<_>>>()?;
    let env = launch::environment(std::env::var_os("TERM"), &content.env, |name| {
        std::env::var_os(name)
    })?;
    let workdir = content
        .workdir
        .as_deref()
        .map(launch::workdir)
        .transpose()?;
    let cwd = launch::logical_cwd().context("cannot find the current directory")?;
    let program = launch::resolve_program(program, std::env::var_os("PATH").as_deref(), &cwd)?;
    let boot = BootFiles {
        argv: launch::argv_file(&program.guest, args),
        env: launch::env_file(&env),
        cwd: workdir.as_ref().map(|w| w.as_bytes().to_vec()),
    };
    let localtime = rootfs::localtime();
    let archive = rootfs::pack(
        &Contents {
            program: &program,
            adds: &adds,
            workdir: workdir.as_ref(),
            cwd: &cwd,
            localtime: &localtime,
        },
        &boot,
    )?;
    Ok(Prepared { program, archive })
}

/// Refuses an initramfs that cannot fit: the guest holds the archive and the files
/// unpacked from it.
fn check_fits(archive: &[u8], mem: MemSize) -> Result<()> {
    let mib = (archive.len() as u64).div_ceil(1 << 20);
    if mib * 2 > mem.mib() {
        bail!(
            "the initramfs is {mib} MiB, too large for {mem} of guest memory: use --mem {}M or more",
            (mib * 2 + 64).next_power_of_two()
        );
    }
    Ok(())
}

fn run(args: RunArgs) -> Result<u8> {
    let prepared = match &args.program {
        Some(program) => Some(prepare(program, &args.args, &args.content)?),
        None if !args.content.is_empty() => {
            bail!("--add, --env and --workdir need a PROGRAM to run")
        }
        None => None,
    };
    if let Some(prepared) = &prepared {
        check_fits(&prepared.archive, args.vm.mem)?;
    }
    let mut reporter = Reporter::new(match &prepared {
        Some(prepared) => prepared.program.guest.to_string(),
        None => "the guest".to_owned(),
    });
    let cmdline = || {
        let mut seed = [0u8; 16];
        getrandom::fill(&mut seed)
            .map_err(|e| anyhow::anyhow!("cannot get random bytes from the host: {e}"))?;
        let base = time_and_seed(SystemTime::now(), seed);
        let strace = args.strace.then_some(cmdline::STRACE);
        let mut tty_words = Vec::new();
        if args.syscall_entry == "gate" {
            tty_words.push("syscall_entry=gate".to_owned());
        }
        if args.net || !args.publish.is_empty() {
            tty_words.push("net=virtio-mmio".to_owned());
        }
        if args.tty {
            tty_words.push("console=tty".to_owned());
            if let Some((rows, cols)) = terminal_size() {
                tty_words.push(format!("winsize={rows}x{cols}"));
            }
        }
        Ok(kernel_cmdline(
            base.iter()
                .map(String::as_str)
                .chain(strace)
                .chain(tty_words.iter().map(String::as_str)),
            &args.vm.append,
        ))
    };
    let input = Input::choose(args.interactive, std::io::stdin().is_terminal());
    // Raw mode for the whole session, restored when the guard drops (also on errors).
    let _raw = if args.tty && std::io::stdin().is_terminal() {
        Some(RawTerminal::enter()?)
    } else {
        None
    };
    let initrd = prepared.as_ref().map(|p| p.archive.as_slice());
    let network = (args.net || !args.publish.is_empty()).then_some(args.publish.as_slice());
    with_guest(
        &args.vm,
        network,
        cmdline,
        initrd,
        timeout(args.timeout),
        input,
        |guest| {
            let session = session::boot(guest, &mut |record| match reporter.line(record) {
                Some(line) => {
                    let mut stderr = std::io::stderr().lock();
                    let _ = writeln!(stderr, "{line}");
                    true
                }
                None => false,
            })?;
            let outcome = session.outcome();
            session.report(&outcome, guest.kernel, guest.verbose);
            Ok(outcome.exit_code())
        },
    )
}

fn build(args: BuildArgs) -> Result<u8> {
    let prepared = prepare(&args.program, &args.args, &args.content)?;
    if let Some(output) = &args.output {
        if output == Path::new("-") {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&prepared.archive)
                .and_then(|()| stdout.flush())
                .context("cannot write the archive to stdout")?;
        } else {
            std::fs::write(output, &prepared.archive)
                .with_context(|| format!("--output {}: cannot write", output.display()))?;
        }
    }
    if let Some(dir) = &args.rootfs {
        rootfs::extract(&prepared.archive, dir)?;
    }
    Ok(0)
}

fn run_selftest(args: SelftestArgs) -> Result<u8> {
    let mode = format!("{}=selftest", cmdline::MODE);
    let filter = match &args.filter {
        Some(names) if names.is_empty() || names.contains(char::is_whitespace) => {
            bail!("--filter takes NAME[,NAME...] without spaces")
        }
        Some(names) => Some(format!("{}={names}", cmdline::SELFTEST_FILTER)),
        None => None,
    };
    let base = [mode.as_str()].into_iter().chain(filter.as_deref());
    let cmdline = kernel_cmdline(base, &args.vm.append);
    with_guest(
        &args.vm,
        None,
        || Ok(cmdline),
        None,
        timeout(args.timeout),
        Input::Closed,
        |guest| selftest::run(guest, args.filter.as_deref()),
    )
}

fn info(args: InfoArgs) -> Result<u8> {
    println!("isounik {}", env!("CARGO_PKG_VERSION"));
    match qemu::find(args.qemu.as_deref()) {
        Ok(path) => match qemu::version(&path) {
            Ok(version) => println!("qemu:          {} ({version})", path.display()),
            Err(error) => println!("qemu:          {} (unusable: {error:#})", path.display()),
        },
        Err(error) => println!("qemu:          {error}"),
    }
    let probe = kvm::probe();
    println!("kvm:           /dev/kvm {probe}");
    let auto = kvm::resolve(AccelChoice::Auto, || probe)?;
    println!("--accel auto:  {auto}");
    let kernel = KernelImage::select(args.kernel.as_deref().map(Path::new))?;
    println!("kernel:        {}", kernel.describe());
    Ok(0)
}

/// The host terminal's size (rows, columns), if stdin is a terminal.
fn terminal_size() -> Option<(u16, u16)> {
    let ws = nix::pty::Winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    nix::ioctl_read_bad!(tiocgwinsz, nix::libc::TIOCGWINSZ, nix::pty::Winsize);
    let mut ws = ws;
    // SAFETY: TIOCGWINSZ writes one `struct winsize` into `ws`, which lives on our stack.
    let r = unsafe { tiocgwinsz(0, &mut ws) };
    (r.is_ok() && ws.ws_row > 0 && ws.ws_col > 0).then_some((ws.ws_row, ws.ws_col))
}

/// Puts the host terminal in raw mode (keys go to the guest unprocessed: its own line
/// discipline handles them) and restores the previous mode on drop.
struct RawTerminal {
    saved: nix::sys::termios::Termios,
}

impl RawTerminal {
    fn enter() -> Result<RawTerminal> {
        use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
        let stdin = std::io::stdin();
        let saved = tcgetattr(&stdin).context("cannot read the terminal's mode")?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        tcsetattr(&stdin, SetArg::TCSANOW, &raw).context("cannot put the terminal in raw mode")?;
        Ok(RawTerminal { saved })
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let _ = nix::sys::termios::tcsetattr(
            std::io::stdin(),
            nix::sys::termios::SetArg::TCSANOW,
            &self.saved,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn builds_kernel_command_lines() {
        let append = [
            " crash=gp ".to_owned(),
            String::new(),
            "exit=3 verbose".to_owned(),
        ];
        assert_eq!(kernel_cmdline([], &[]), "");
        assert_eq!(
            kernel_cmdline(["mode=selftest"], &append),
            "mode=selftest crash=gp exit=3 verbose"
        );
        let at = UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789);
        let seed = [0xab, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xff];
        assert_eq!(
            time_and_seed(at, seed),
            [
                "time=1700000000123456789".to_owned(),
                "seed=ab0102030405060708090a0b0c0d0eff".to_owned()
            ]
        );
    }

    fn parse_run(args: &[&str]) -> RunArgs {
        let cli = Cli::try_parse_from(["isounik", "run"].iter().chain(args)).unwrap();
        let Command::Run(args) = cli.command else {
            panic!("not run")
        };
        args
    }

    #[test]
    fn parses_run_options() {
        let args = parse_run(&[
            "--mem",
            "1G",
            "--machine",
            "microvm",
            "--accel",
            "auto",
            "-v",
            "--append",
            "exit=3",
        ]);
        assert_eq!(args.vm.mem.mib(), 1024);
        assert_eq!(args.vm.machine, Some(Machine::Microvm));
        assert_eq!(args.vm.accel, AccelChoice::Auto);
        assert!(args.vm.verbose);
        assert_eq!(args.timeout, 0);
        assert_eq!(args.vm.append, ["exit=3"]);
        assert_eq!(args.program, None);
        assert!(args.args.is_empty());
        assert!(Cli::try_parse_from(["isounik", "run", "--mem", "lots"]).is_err());
    }

    #[test]
    fn program_arguments_are_the_programs_even_when_they_look_like_options() {
        let args = parse_run(&[
            "--strace",
            "-e",
            "A=1",
            "--add",
            "./d:/d",
            "-w",
            "/d",
            "/bin/busybox",
            "ls",
            "-la",
            "--strace",
            "--",
            "-v",
        ]);
        assert!(args.strace);
        assert_eq!(args.content.env, ["A=1"]);
        assert_eq!(args.content.add, ["./d:/d"]);
        assert_eq!(args.content.workdir.as_deref(), Some(OsStr::new("/d")));
        assert_eq!(args.program.as_deref(), Some(OsStr::new("/bin/busybox")));
        assert_eq!(args.args, ["ls", "-la", "--strace", "--", "-v"]);
        let args = parse_run(&["--", "/bin/busybox", "-x"]);
        assert_eq!(args.program.as_deref(), Some(OsStr::new("/bin/busybox")));
        assert_eq!(args.args, ["-x"]);
        let args = parse_run(&["/bin/busybox"]);
        assert!(args.args.is_empty());
        // A misspelt option is an error, not a program name.
        assert!(Cli::try_parse_from(["isounik", "run", "--tiemout", "5", "/bin/true"]).is_err());
    }

    #[test]
    fn build_needs_a_destination() {
        assert!(Cli::try_parse_from(["isounik", "build", "/bin/busybox"]).is_err());
        let cli = Cli::try_parse_from([
            "isounik",
            "build",
            "--rootfs",
            "/tmp/r",
            "--add",
            "x",
            "/bin/busybox",
            "ls",
            "-l",
        ])
        .unwrap();
        let Command::Build(args) = cli.command else {
            panic!("not build")
        };
        assert_eq!(args.rootfs.as_deref(), Some(Path::new("/tmp/r")));
        assert_eq!(args.output, None);
        assert_eq!(args.args, ["ls", "-l"]);
    }

    #[test]
    fn large_initramfs_needs_memory() {
        let mem: MemSize = "256M".parse().unwrap();
        assert!(check_fits(&vec![0; 100 << 20], mem).is_ok());
        let err = check_fits(&vec![0; 200 << 20], mem).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the initramfs is 200 MiB, too large for 256M of guest memory: use --mem 512M or more"
        );
    }

    #[test]
    fn selftest_defaults_to_a_minute() {
        let cli = Cli::try_parse_from(["isounik", "selftest"]).unwrap();
        let Command::Selftest(args) = cli.command else {
            panic!("not selftest")
        };
        assert_eq!(args.timeout, 60);
        assert_eq!(args.vm.machine, None);
        assert_eq!(args.vm.accel, AccelChoice::Tcg);
    }
}
