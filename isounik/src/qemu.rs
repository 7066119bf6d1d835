//! The QEMU command line: machine, accelerator and memory options, and a pure function from
//! them to QEMU's arguments.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{bail, Context, Result};
use isounik_abi::io;

/// The QEMU binary looked up in `PATH` when `--qemu` is not given.
pub const DEFAULT_QEMU: &str = "qemu-system-x86_64";

/// The virtual machine model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Machine {
    /// A PC with a Q35 chipset and SeaBIOS (the reference machine).
    Q35,
    /// QEMU's minimal microvm (qboot, no PCI): boots about four times faster.
    Microvm,
}

impl Machine {
    /// The value of QEMU's `-M` option.
    pub fn qemu_spec(self) -> &'static str {
        match self {
            Machine::Q35 => "q35",
            // No option ROMs; the ISA devices the kernel uses (COM1, RTC, PIT). The legacy
            // PIC is left out: interrupts go through the I/O APIC as on the q35 machine.
            Machine::Microvm => "microvm,x-option-roms=off,isa-serial=on,rtc=on,pit=on,pic=off",
        }
    }
}

/// The accelerator as the user asked for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AccelChoice {
    /// QEMU's emulator (always works; faithful protection keys).
    Tcg,
    /// Hardware virtualisation; fails unless /dev/kvm is usable and its vCPUs have PKU.
    Kvm,
    /// KVM if its vCPUs have PKU, else TCG.
    Auto,
}

/// The accelerator QEMU is started with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accel {
    Tcg,
    Kvm,
    /// TCG with `-icount shift=0,align=off,sleep=off`: one virtual nanosecond and one TSC
    /// tick per guest instruction, so runs are deterministic and `rdtsc` deltas count
    /// instructions (`isounik bench --mode icount`).
    TcgIcount,
}

/// QEMU's deterministic instruction counting (see [`Accel::TcgIcount`]).
pub const ICOUNT: &str = "shift=0,align=off,sleep=off";

impl Accel {
    fn qemu_args(self) -> &'static [&'static str] {
        match self {
            Accel::Tcg => &["-accel", "tcg", "-cpu", "max"],
            Accel::Kvm => &["-accel", "kvm", "-cpu", "host"],
            Accel::TcgIcount => &["-accel", "tcg", "-cpu", "max", "-icount", ICOUNT],
        }
    }
}

impl fmt::Display for Accel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Accel::Tcg => "tcg",
            Accel::Kvm => "kvm",
            Accel::TcgIcount => "tcg (icount)",
        })
    }
}

/// Guest memory, in MiB. Parses `512M`, `1G`, `1GiB`, or a plain number of MiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemSize {
    mib: u64,
}

impl MemSize {
    #[cfg(test)]
    pub const fn from_mib(mib: u64) -> Self {
        MemSize { mib }
    }

    pub fn mib(self) -> u64 {
        self.mib
    }
}

impl FromStr for MemSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (number, unit) = s.split_at(split);
        let number: u64 = number
            .parse()
            .map_err(|_| format!("`{s}` is not a memory size (examples: 256M, 1G, 512)"))?;
        let factor = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "m" | "mb" | "mib" => 1,
            "g" | "gb" | "gib" => 1024,
            _ => {
                return Err(format!(
                    "unknown unit in `{s}`: use M or G (examples: 256M, 1G, 512)"
                ))
            }
        };
        let mib = number
            .checked_mul(factor)
            .filter(|&mib| mib <= 1 << 30)
            .ok_or_else(|| format!("`{s}` is too large"))?;
        if mib == 0 {
            return Err("the memory size must not be zero".into());
        }
        Ok(MemSize { mib })
    }
}

impl fmt::Display for MemSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}M", self.mib)
    }
}

/// A host port forwarded to a guest port (`isounik run -p [HOST_IP:]HOST_PORT:GUEST_PORT`):
/// QEMU's user network takes connections on the host and makes them to the guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortForward {
    pub host_ip: String,
    pub host_port: u16,
    pub guest_port: u16,
}

impl FromStr for PortForward {
    type Err = String;

    /// `8080:80`, `127.0.0.1:8080:80`, `0.0.0.0:8080:80` (as `docker run -p`); the host
    /// address defaults to 127.0.0.1, so a published port is not open to the network
    /// unless asked.
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split(':').collect();
        let (host_ip, host, guest) = match parts.as_slice() {
            [host, guest] => ("127.0.0.1", *host, *guest),
            [ip, host, guest] => (*ip, *host, *guest),
            _ => return Err(format!("{s:?}: expected [HOST_IP:]HOST_PORT:GUEST_PORT")),
        };
        let port = |p: &str| -> Result<u16, String> {
            match p.parse::<u16>() {
                Ok(0) | Err(_) => Err(format!("{s:?}: {p:?} is not a port (1-65535)")),
                Ok(n) => Ok(n),
            }
        };
        if host_ip.parse::<std::net::Ipv4Addr>().is_err() {
            return Err(format!("{s:?}: {host_ip:?} is not an IPv4 address"));
        }
        Ok(PortForward {
            host_ip: host_ip.to_owned(),
            host_port: port(host)?,
            guest_port: port(guest)?,
        })
    }
}

/// Everything the QEMU command line depends on.
#[derive(Clone, Debug)]
pub struct Invocation<'a> {
    pub machine: Machine,
    /// A virtio-net device on QEMU's user network (microvm), with the ports published to
    /// the host; `None`: no network.
    pub network: Option<&'a [PortForward]>,
    pub accel: Accel,
    pub mem: MemSize,
    /// The kernel ELF (booted through its PVH note).
    pub kernel: &'a Path,
    pub cmdline: &'a str,
    /// The initramfs (a PVH module), if any.
    pub initrd: Option<&'a Path>,
    /// Unix socket isounik listens on for the console (COM1).
    pub console_socket: &'a Path,
    /// Unix socket isounik listens on for the kernel log (debugcon).
    pub log_socket: &'a Path,
    /// Unix sockets isounik listens on for the program's stdout and stderr (two more
    /// debugcon ports; the kernel uses them unless the console is a terminal).
    pub stdout_socket: &'a Path,
    pub stderr_socket: &'a Path,
}

/// QEMU's arguments (without the program name).
pub fn argv(inv: &Invocation<'_>) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
    let mut push = |a: &dyn AsRef<OsStr>| args.push(a.as_ref().to_owned());
    push(&"-M");
    if inv.network.is_none() {
        push(&inv.machine.qemu_spec());
    } else {
        // One I/O APIC: the virtio-mmio transports' interrupts land on its pins 16-23.
        push(&format!("{},ioapic2=off", inv.machine.qemu_spec()));
    }
    for a in inv.accel.qemu_args() {
        push(a);
    }
    push(&"-m");
    push(&inv.mem.to_string());
    // No `-nographic`: with it QEMU points SeaBIOS's serial console (fw_cfg
    // `etc/sercon-port`) at COM1, and the BIOS banner would land in the guest's stdout.
    // `-display none` with `-nodefaults` is all of its effect that is wanted.
    for a in [
        "-nodefaults",
        "-no-user-config",
        "-no-reboot",
        "-display",
        "none",
    ] {
        push(&a);
    }
    push(&"-kernel");
    push(&inv.kernel);
    push(&"-append");
    push(&inv.cmdline);
    if let Some(initrd) = inv.initrd {
        push(&"-initrd");
        push(&initrd);
    }
    push(&"-chardev");
    push(&socket_chardev("con", inv.console_socket));
    push(&"-serial");
    push(&"chardev:con");
    push(&"-chardev");
    push(&socket_chardev("log", inv.log_socket));
    push(&"-device");
    push(&format!(
        "isa-debugcon,iobase={:#x},chardev=log",
        io::DEBUGCON
    ));
    for (id, socket, port) in [
        ("out", inv.stdout_socket, io::STDOUT),
        ("err", inv.stderr_socket, io::STDERR),
    ] {
        push(&"-chardev");
        push(&socket_chardev(id, socket));
        push(&"-device");
        push(&format!("isa-debugcon,iobase={port:#x},chardev={id}"));
    }
    push(&"-device");
    push(&format!(
        "isa-debug-exit,iobase={:#x},iosize=0x04",
        io::DEBUG_EXIT
    ));
    if let Some(publish) = inv.network {
        let forwards: String = publish
            .iter()
            .map(|f| {
                format!(
                    ",hostfwd=tcp:{}:{}-:{}",
                    f.host_ip, f.host_port, f.guest_port
                )
            })
            .collect();
        push(&"-netdev");
        push(&format!("user,id=net0{forwards}"));
        push(&"-device");
        push(&"virtio-net-device,netdev=net0");
    }
    args
}

/// A foreign Linux kernel (a bzImage) booted with the same machine, accelerator and memory
/// as Iso-UniK, its console (COM1) on QEMU's stdout (`isounik bench --vs-linux`).
pub struct LinuxInvocation<'a> {
    pub machine: Machine,
    pub accel: Accel,
    pub mem: MemSize,
    pub kernel: &'a Path,
    pub initrd: &'a Path,
    pub cmdline: &'a str,
}

/// QEMU's arguments for a [`LinuxInvocation`] (without the program name).
pub fn linux_argv(inv: &LinuxInvocation<'_>) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["-M".into(), inv.machine.qemu_spec().into()];
    args.extend(inv.accel.qemu_args().iter().map(OsString::from));
    args.extend(["-m".into(), inv.mem.to_string().into()]);
    for a in [
        "-nodefaults",
        "-no-user-config",
        "-no-reboot",
        "-display",
        "none",
        "-serial",
        "stdio",
    ] {
        args.push(a.into());
    }
    args.extend([
        "-kernel".into(),
        inv.kernel.as_os_str().to_owned(),
        "-initrd".into(),
        inv.initrd.as_os_str().to_owned(),
        "-append".into(),
        inv.cmdline.into(),
    ]);
    args
}

/// `socket,id=<id>,path=<path>`: a client connection to isounik's listening socket. QEMU
/// option values escape a comma by doubling it.
fn socket_chardev(id: &str, path: &Path) -> OsString {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let mut spec = format!("socket,id={id},path=").into_bytes();
    for &b in path.as_os_str().as_bytes() {
        spec.push(b);
        if b == b',' {
            spec.push(b',');
        }
    }
    OsString::from_vec(spec)
}

/// Renders a command line for humans (`--verbose`), quoting words the shell would split.
pub fn display_command(program: &Path, args: &[OsString]) -> String {
    std::iter::once(program.as_os_str())
        .chain(args.iter().map(OsString::as_os_str))
        .map(|a| {
            let a = a.to_string_lossy();
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./,:=+@%".contains(c));
            if plain {
                a.into_owned()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why a QEMU binary could not be found.
#[derive(Debug)]
pub struct QemuNotFound(String);

impl fmt::Display for QemuNotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QemuNotFound {}

/// The QEMU binary: `explicit` (`--qemu`), else [`DEFAULT_QEMU`] from `PATH`.
pub fn find(explicit: Option<&Path>) -> Result<PathBuf> {
    let name = explicit.unwrap_or(Path::new(DEFAULT_QEMU));
    let found = if name.components().count() > 1 {
        is_executable(name).then(|| name.to_path_buf())
    } else {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|candidate| is_executable(candidate))
        })
    };
    match found {
        Some(path) => Ok(path),
        None if explicit.is_none() => Err(QemuNotFound(format!(
            "{DEFAULT_QEMU} not found; install it with: apt-get install qemu-system-x86"
        ))
        .into()),
        None => {
            Err(QemuNotFound(format!("QEMU binary {} not found (--qemu)", name.display())).into())
        }
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The first line of `qemu --version`.
pub fn version(qemu: &Path) -> Result<String> {
    let output = std::process::Command::new(qemu)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("could not run {}", qemu.display()))?;
    if !output.status.success() {
        bail!("{} --version failed ({})", qemu.display(), output.status);
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem(s: &str) -> Result<u64, String> {
        s.parse::<MemSize>().map(MemSize::mib)
    }

    #[test]
    fn parses_memory_sizes() {
        assert_eq!(mem("256M"), Ok(256));
        assert_eq!(mem("512M"), Ok(512));
        assert_eq!(mem("1G"), Ok(1024));
        assert_eq!(mem("2g"), Ok(2048));
        assert_eq!(mem("1GiB"), Ok(1024));
        assert_eq!(mem("768MiB"), Ok(768));
        assert_eq!(mem("300"), Ok(300));
        assert_eq!(mem(" 64m "), Ok(64));
        assert!(mem("0").is_err());
        assert!(mem("").is_err());
        assert!(mem("M").is_err());
        assert!(mem("1.5G").is_err());
        assert!(mem("12K").is_err());
        assert!(mem("-1G").is_err());
        assert!(mem("99999999999999999999G").is_err());
        assert_eq!(MemSize::from_mib(512).to_string(), "512M");
    }

    fn strings(args: Vec<OsString>) -> Vec<String> {
        args.into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    fn invocation(machine: Machine, accel: Accel) -> Vec<String> {
        strings(argv(&Invocation {
            machine,
            accel,
            mem: MemSize::from_mib(256),
            kernel: Path::new("/tmp/x/isounik-kernel"),
            cmdline: "exit=3 verbose",
            initrd: None,
            console_socket: Path::new("/tmp/x/con"),
            log_socket: Path::new("/tmp/x/log"),
            stdout_socket: Path::new("/tmp/x/out"),
            stderr_socket: Path::new("/tmp/x/err"),
            network: None,
        }))
    }

    #[test]
    fn port_forwards_parse_like_docker_publish() {
        let f: PortForward = "8080:80".parse().unwrap();
        assert_eq!(
            (f.host_ip.as_str(), f.host_port, f.guest_port),
            ("127.0.0.1", 8080, 80)
        );
        let f: PortForward = "0.0.0.0:9000:9001".parse().unwrap();
        assert_eq!(
            (f.host_ip.as_str(), f.host_port, f.guest_port),
            ("0.0.0.0", 9000, 9001)
        );
        for bad in ["80", "a:80", "8080:0", "1:2:3:4", "host:1:2", "8080:70000"] {
            assert!(bad.parse::<PortForward>().is_err(), "{bad}");
        }
    }

    #[test]
    fn published_ports_add_a_user_network_on_microvm() {
        let publish = [
            "18080:80".parse().unwrap(),
            "0.0.0.0:2222:22".parse().unwrap(),
        ];
        let args = strings(argv(&Invocation {
            machine: Machine::Microvm,
            accel: Accel::Tcg,
            mem: MemSize::from_mib(256),
            kernel: Path::new("/k"),
            cmdline: "",
            initrd: None,
            console_socket: Path::new("/c"),
            log_socket: Path::new("/l"),
            stdout_socket: Path::new("/o"),
            stderr_socket: Path::new("/e"),
            network: Some(&publish),
        }));
        assert!(args[1].ends_with(",ioapic2=off"), "{}", args[1]);
        let n = args.iter().position(|a| a == "-netdev").unwrap();
        assert_eq!(
            args[n + 1],
            "user,id=net0,hostfwd=tcp:127.0.0.1:18080-:80,hostfwd=tcp:0.0.0.0:2222-:22"
        );
        assert_eq!(args[n + 3], "virtio-net-device,netdev=net0");
    }

    #[test]
    fn q35_tcg_command_line() {
        let expected = [
            "-M",
            "q35",
            "-accel",
            "tcg",
            "-cpu",
            "max",
            "-m",
            "256M",
            "-nodefaults",
            "-no-user-config",
            "-no-reboot",
            "-display",
            "none",
            "-kernel",
            "/tmp/x/isounik-kernel",
            "-append",
            "exit=3 verbose",
            "-chardev",
            "socket,id=con,path=/tmp/x/con",
            "-serial",
            "chardev:con",
            "-chardev",
            "socket,id=log,path=/tmp/x/log",
            "-device",
            "isa-debugcon,iobase=0xe9,chardev=log",
            "-chardev",
            "socket,id=out,path=/tmp/x/out",
            "-device",
            "isa-debugcon,iobase=0x3e0,chardev=out",
            "-chardev",
            "socket,id=err,path=/tmp/x/err",
            "-device",
            "isa-debugcon,iobase=0x3e1,chardev=err",
            "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x04",
        ];
        assert_eq!(invocation(Machine::Q35, Accel::Tcg), expected);
    }

    #[test]
    fn microvm_kvm_command_line() {
        let args = invocation(Machine::Microvm, Accel::Kvm);
        assert_eq!(
            args[..6],
            [
                "-M",
                "microvm,x-option-roms=off,isa-serial=on,rtc=on,pit=on,pic=off",
                "-accel",
                "kvm",
                "-cpu",
                "host"
            ]
        );
        let append = args.iter().position(|a| a == "-append").unwrap();
        assert_eq!(args[append + 1], "exit=3 verbose");
        assert!(args
            .iter()
            .any(|a| a == "isa-debug-exit,iobase=0xf4,iosize=0x04"));
        assert!(args
            .iter()
            .any(|a| a == "isa-debugcon,iobase=0xe9,chardev=log"));
    }

    #[test]
    fn initrd_follows_the_command_line() {
        let args = strings(argv(&Invocation {
            machine: Machine::Microvm,
            accel: Accel::Tcg,
            mem: MemSize::from_mib(256),
            kernel: Path::new("/k"),
            cmdline: "time=1",
            initrd: Some(Path::new("/tmp/x/initrd.cpio")),
            console_socket: Path::new("/c"),
            log_socket: Path::new("/l"),
            stdout_socket: Path::new("/o"),
            stderr_socket: Path::new("/e"),
            network: None,
        }));
        let append = args.iter().position(|a| a == "-append").unwrap();
        assert_eq!(
            args[append..append + 4],
            ["-append", "time=1", "-initrd", "/tmp/x/initrd.cpio"]
        );
    }

    #[test]
    fn icount_and_linux_command_lines() {
        let args = strings(linux_argv(&LinuxInvocation {
            machine: Machine::Q35,
            accel: Accel::TcgIcount,
            mem: MemSize::from_mib(256),
            kernel: Path::new("/boot/vmlinuz"),
            initrd: Path::new("/tmp/i.cpio"),
            cmdline: "console=ttyS0 quiet",
        }));
        assert_eq!(
            args,
            [
                "-M",
                "q35",
                "-accel",
                "tcg",
                "-cpu",
                "max",
                "-icount",
                "shift=0,align=off,sleep=off",
                "-m",
                "256M",
                "-nodefaults",
                "-no-user-config",
                "-no-reboot",
                "-display",
                "none",
                "-serial",
                "stdio",
                "-kernel",
                "/boot/vmlinuz",
                "-initrd",
                "/tmp/i.cpio",
                "-append",
                "console=ttyS0 quiet"
            ]
        );
        let args = invocation(Machine::Q35, Accel::TcgIcount);
        assert_eq!(
            args[2..8],
            ["-accel", "tcg", "-cpu", "max", "-icount", ICOUNT]
        );
    }

    #[test]
    fn socket_paths_escape_commas() {
        assert_eq!(
            socket_chardev("con", Path::new("/tmp/a,b/con")),
            OsString::from("socket,id=con,path=/tmp/a,,b/con")
        );
    }

    #[test]
    fn displays_commands_for_shells() {
        let args = [
            OsString::from("-append"),
            OsString::from("a b"),
            OsString::from("it's"),
        ];
        assert_eq!(
            display_command(Path::new("/usr/bin/qemu"), &args),
            r"/usr/bin/qemu -append 'a b' 'it'\''s'"
        );
    }

    #[test]
    fn missing_qemu_names_the_package() {
        let err = find(Some(Path::new("/nonexistent/qemu"))).unwrap_err();
        assert!(err.downcast_ref::<QemuNotFound>().is_some());
        assert!(err.to_string().contains("/nonexistent/qemu"));
    }
}
