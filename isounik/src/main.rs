//! `isounik`: the host tool of Iso-UniK. It carries the kernel (built and embedded by
//! build.rs), boots it in QEMU, relays its console and tells how it ended.

#![warn(clippy::undocumented_unsafe_blocks)]

mod console;
mod kernel;
mod kvm;
mod log;
mod qemu;
mod selftest;
mod session;
mod symbols;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::{Args, Parser, Subcommand};
use isounik_abi::cmdline;

use crate::console::Input;
use crate::kernel::KernelImage;
use crate::qemu::{AccelChoice, Machine, MemSize};
use crate::session::Guest;

const ABOUT: &str = "Iso-UniK: a unikernel that runs unmodified Linux binaries as processes \
                     kept apart by Intel protection keys (MPK). isounik boots it in QEMU.";

const EXAMPLES: &str = "\
Examples:
  isounik run                              Boot the kernel; its console is this terminal
  isounik run -- exit=3                    Pass kernel command-line words (exits with 3)
  printf 'hi\\n' | isounik run -- console=echo
                                           Piped stdin goes to the guest console
  isounik run --machine microvm --mem 1G -v
                                           Faster boot, more memory, show the kernel log
  isounik selftest                         Run the in-kernel self tests
  isounik selftest --filter heap --accel auto
  isounik info                             QEMU/KVM details for bug reports

Exit status: the guest's own status; 70 if the kernel crashed or the guest reset; 124 on
--timeout; 125 if isounik or QEMU failed; 128+N on signal N (130 for Ctrl-C).";

#[derive(Parser)]
#[command(name = "isounik", version, about = ABOUT, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Boot the kernel in QEMU, relaying its console to stdin/stdout
    #[command(after_help = EXAMPLES)]
    Run(RunArgs),
    /// Run the in-kernel self tests and report like `cargo test`
    Selftest(SelftestArgs),
    /// Show the QEMU, KVM and kernel this isounik would use
    Info(InfoArgs),
}

/// Options of every boot.
#[derive(Args)]
struct VmArgs {
    /// Guest memory: 512M, 1G, or a number of MiB
    #[arg(long, value_name = "SIZE", default_value = "256M")]
    mem: MemSize,
    /// Machine model
    #[arg(long, value_enum, default_value_t = Machine::Q35)]
    machine: Machine,
    /// Accelerator
    #[arg(long, value_enum, default_value_t = AccelChoice::Tcg)]
    accel: AccelChoice,
    /// Boot this kernel ELF instead of the embedded one
    #[arg(long, value_name = "PATH")]
    kernel: Option<PathBuf>,
    /// Extra kernel command-line words
    #[arg(long, value_name = "STRING")]
    append: Vec<String>,
    /// QEMU binary [default: qemu-system-x86_64 from PATH]
    #[arg(long, value_name = "PATH")]
    qemu: Option<PathBuf>,
    /// Show the QEMU command line, QEMU's messages and the kernel log (on stderr)
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    vm: VmArgs,
    /// Kill the guest after this many seconds (0: never)
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    timeout: u64,
    /// Forward stdin to the guest even when it is a terminal
    #[arg(short, long)]
    interactive: bool,
    /// Kernel command-line words (after `--`)
    #[arg(last = true, value_name = "KERNEL-CMDLINE")]
    words: Vec<String>,
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
        Command::Selftest(args) => run_selftest(args),
        Command::Info(args) => info(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("isounik: error: {error:#}");
            ExitCode::from(session::EXIT_TOOL)
        }
    }
}

/// The kernel command line: `base` words, then `--append` strings, then trailing words.
fn kernel_cmdline<'a>(
    base: impl IntoIterator<Item = &'a str>,
    append: &'a [String],
    words: &'a [String],
) -> String {
    base.into_iter()
        .chain(append.iter().map(String::as_str))
        .chain(words.iter().map(String::as_str))
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn timeout(seconds: u64) -> Option<Duration> {
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

/// Resolves what every boot needs and calls `boot` with the guest description.
fn with_guest<T>(
    vm: &VmArgs,
    cmdline: String,
    timeout: Option<Duration>,
    input: Input,
    boot: impl FnOnce(&Guest<'_>) -> Result<T>,
) -> Result<T> {
    let kernel = KernelImage::select(vm.kernel.as_deref())?;
    let qemu = qemu::find(vm.qemu.as_deref())?;
    let accel = kvm::resolve(vm.accel, kvm::probe)?;
    boot(&Guest {
        qemu: &qemu,
        machine: vm.machine,
        accel,
        mem: vm.mem,
        kernel: &kernel,
        cmdline,
        timeout,
        verbose: vm.verbose,
        input,
    })
}

fn run(args: RunArgs) -> Result<u8> {
    // Trailing words are kernel command-line words for now; they will become the PROGRAM
    // and its arguments, with kernel words moving to --append only.
    let cmdline = kernel_cmdline([], &args.vm.append, &args.words);
    let input = Input::choose(args.interactive, std::io::stdin().is_terminal());
    with_guest(&args.vm, cmdline, timeout(args.timeout), input, |guest| {
        let session = session::boot(guest, &mut |_| {})?;
        let outcome = session.outcome();
        session.report(&outcome, guest.kernel, guest.verbose);
        Ok(outcome.exit_code())
    })
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
    let cmdline = kernel_cmdline(base, &args.vm.append, &[]);
    with_guest(
        &args.vm,
        cmdline,
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
        let words = ["exit=3".to_owned(), "verbose".to_owned()];
        let append = [" crash=gp ".to_owned(), String::new()];
        assert_eq!(kernel_cmdline([], &[], &[]), "");
        assert_eq!(kernel_cmdline([], &[], &words), "exit=3 verbose");
        assert_eq!(
            kernel_cmdline(["mode=selftest"], &append, &words),
            "mode=selftest crash=gp exit=3 verbose"
        );
    }

    #[test]
    fn parses_run_options() {
        let cli = Cli::try_parse_from([
            "isounik",
            "run",
            "--mem",
            "1G",
            "--machine",
            "microvm",
            "--accel",
            "auto",
            "-v",
            "--",
            "exit=3",
            "--weird",
        ])
        .unwrap();
        let Command::Run(args) = cli.command else {
            panic!("not run")
        };
        assert_eq!(args.vm.mem.mib(), 1024);
        assert_eq!(args.vm.machine, Machine::Microvm);
        assert_eq!(args.vm.accel, AccelChoice::Auto);
        assert!(args.vm.verbose);
        assert_eq!(args.timeout, 0);
        assert_eq!(args.words, ["exit=3", "--weird"]);
        assert!(Cli::try_parse_from(["isounik", "run", "--mem", "lots"]).is_err());
        assert!(Cli::try_parse_from(["isounik", "run", "exit=3"]).is_err());
    }

    #[test]
    fn selftest_defaults_to_a_minute() {
        let cli = Cli::try_parse_from(["isounik", "selftest"]).unwrap();
        let Command::Selftest(args) = cli.command else {
            panic!("not selftest")
        };
        assert_eq!(args.timeout, 60);
        assert_eq!(args.vm.machine, Machine::Q35);
        assert_eq!(args.vm.accel, AccelChoice::Tcg);
    }
}
