//! `mode=run`: what the kernel does for `isounik run`: unpack the initramfs and run the
//! program it names as PID 1. Without an initramfs, command-line words select built-in
//! actions that exercise the boot path (exit status, sleeping, console input, crashes).

use alloc::string::String;
use alloc::vec::Vec;

use isounik_abi::log::{ERROR, MARK};
use isounik_abi::{cmdline, status};
use isounik_linux::errno::Errno;

use crate::boot_info::BootInfo;
use crate::drivers::uart::{self, ReadResult};
use crate::fs::{self, Device, FdTable, FileKind, Node, OpenFile};
use crate::proc;
use crate::{shutdown, time};

pub fn main(line: &str, boot: &BootInfo) -> ! {
    if let Some(kind) = cmdline::get(line, cmdline::CRASH) {
        crash_on_purpose(kind);
    }
    time::init_wall_clock(cmdline::get(line, cmdline::TIME).and_then(|t| t.parse().ok()));
    crate::random::init(cmdline::get(line, cmdline::SEED));
    crate::drivers::stdio::set_tty(cmdline::get(line, cmdline::CONSOLE) == Some("tty"));
    if let Some((rows, cols)) = cmdline::get(line, "winsize").and_then(|w| w.split_once('x')) {
        if let (Ok(rows), Ok(cols)) = (rows.parse::<u16>(), cols.parse::<u16>()) {
            let mut w = [0u8; 8];
            w[..2].copy_from_slice(&rows.to_le_bytes());
            w[2..4].copy_from_slice(&cols.to_le_bytes());
            crate::drivers::stdio::set_winsize(w);
        }
    }
    crate::syscall::init(cmdline::get(line, cmdline::STRACE).is_some());
    if cmdline::get(line, "syscall_entry") == Some("gate") {
        crate::arch::x86_64::gate::enable(cmdline::get(line, cmdline::STRACE).is_some());
    }
    if let Some(n) = cmdline::get(line, "max_procs").and_then(|n| n.parse().ok()) {
        proc::set_process_limit(n);
    }
    if cmdline::get(line, "net") == Some("virtio-mmio") {
        crate::drivers::net::init();
    }
    let initrd = boot
        .modules()
        .first()
        .map(|m| crate::mm::phys_slice(m.paddr, m.size));
    let program = match fs::init(initrd) {
        Ok(p) => p,
        Err(message) => {
            kprintln!("{MARK}{ERROR} {message}");
            shutdown(status::CANNOT_EXECUTE)
        }
    };
    // The archive has been copied into the file system: give its memory back.
    for m in boot.modules() {
        crate::mm::release_range(m.paddr, m.paddr + m.size);
    }
    if let Some(program) = program {
        run_program(program);
    }
    if cmdline::get(line, cmdline::CONSOLE) == Some("echo") {
        echo_console();
    }
    if let Some(ms) = cmdline::get(line, cmdline::SLEEP) {
        match ms.parse() {
            Ok(ms) => time::sleep_ms(ms),
            Err(_) => {
                kprintln!("sleep={ms}: not a number of milliseconds");
                shutdown(2)
            }
        }
    }
    let status = match cmdline::get(line, cmdline::EXIT) {
        None => 0,
        Some(s) => s.parse().unwrap_or_else(|_| {
            kprintln!("exit={s}: not a status between 0 and 255");
            2
        }),
    };
    kdebug!("nothing to run; exiting with status {status}");
    shutdown(status)
}

fn standard_streams() -> FdTable {
    let mut files = FdTable::new();
    let streams = if crate::drivers::stdio::is_tty() {
        [(Device::Tty, 2u32), (Device::Tty, 2), (Device::Tty, 2)]
    } else {
        [
            (Device::HostStdin, 0u32),
            (Device::HostStdout, 1),
            (Device::HostStderr, 1),
        ]
    };
    for (fd, (device, flags)) in streams.into_iter().enumerate() {
        let file = OpenFile::new(FileKind::HostStream(device), flags, Vec::new());
        files
            .insert_at(fd, file, false, 3)
            .expect("three descriptors fit");
    }
    files
}

/// Runs the program from the initramfs as PID 1 and ends the VM with its status.
fn run_program(program: fs::BootProgram) -> ! {
    let path = String::from_utf8_lossy(&program.argv[0]).into_owned();
    let cwd = match &program.cwd {
        Some(dir) => match fs::with_vfs(|v| v.resolve(v.root(), v.root(), dir, true)) {
            Ok(isounik_vfs::Resolved::Node(id))
                if fs::with_vfs(|v| v.file_type(id)) == Ok(isounik_vfs::FileType::Directory) =>
            {
                Node::Inode(id)
            }
            _ => {
                kprintln!(
                    "{MARK}{ERROR} working directory {}: not a directory in the guest",
                    String::from_utf8_lossy(dir)
                );
                shutdown(status::CANNOT_EXECUTE)
            }
        },
        None => Node::Inode(fs::root()),
    };
    match proc::spawn_init(&path, program.argv, program.envp, cwd, standard_streams()) {
        Ok(_) => {}
        Err(e) => {
            kprintln!("{MARK}{ERROR} {}", e.message);
            shutdown(if e.errno == Errno::ENOENT {
                status::NOT_FOUND
            } else {
                status::CANNOT_EXECUTE
            })
        }
    }
    // The boot task stays as the sender of keyboard signals (^C, ^Z, ^\), which the
    // interrupt handler cannot send itself; the VM ends when PID 1 exits.
    loop {
        crate::drivers::tty::dispatch_signal();
        crate::sched::block(None);
    }
}

/// Copies console input to console output until end of input.
fn echo_console() -> ! {
    let mut buf = [0u8; 256];
    loop {
        match uart::read(&mut buf) {
            ReadResult::Bytes(n) => uart::write(&buf[..n]),
            ReadResult::Eof => shutdown(0),
            ReadResult::Empty => {}
        }
    }
}

/// Recurses until the stack's guard page stops it (`black_box` hides that it never ends).
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let pad = [depth; 64];
    core::hint::black_box(&pad);
    if core::hint::black_box(depth) == u64::MAX {
        return 0;
    }
    recurse(depth + 1) + core::hint::black_box(pad[3])
}

/// Fails inside the kernel in the named way, to test that failures are reported.
fn crash_on_purpose(kind: &str) -> ! {
    match kind {
        "pagefault" => {
            // SAFETY: none; this deliberately reads an unmapped kernel address.
            let v = unsafe { core::ptr::read_volatile(0xffff_ff00_dead_0000 as *const u64) };
            kprintln!("read {v} from an unmapped address?!");
        }
        "gp" => {
            // SAFETY: none; a non-canonical address raises #GP.
            let v = unsafe { core::ptr::read_volatile(0x8000_0000_0000_0000u64 as *const u64) };
            kprintln!("read {v} from a non-canonical address?!");
        }
        "ud" => {
            // SAFETY: none; ud2 raises #UD.
            unsafe { core::arch::asm!("ud2") };
        }
        "divide" => {
            // SAFETY: none; dividing by zero in asm raises #DE (Rust's `/` would panic first).
            unsafe {
                core::arch::asm!("xor edx, edx", "xor ecx, ecx", "div ecx", out("eax") _, out("edx") _, out("ecx") _)
            };
        }
        "breakpoint" => {
            // SAFETY: none; int3 raises #BP, which is fatal outside the self test.
            unsafe { core::arch::asm!("int3") };
        }
        "stackoverflow" => {
            core::hint::black_box(recurse(0));
        }
        "panic" => panic!("deliberate panic requested on the command line"),
        "hang" => loop {
            // Never finishes (tests the host's --timeout); halts between timer ticks.
            crate::arch::x86_64::cpu::wait_for_interrupt();
        },
        "oom" => {
            let mut hog: Vec<Vec<u8>> = Vec::new();
            loop {
                hog.push(alloc::vec![0xa5; 1 << 20]);
            }
        }
        other => {
            kprintln!("crash={other}: unknown kind (pagefault, gp, ud, divide, breakpoint, stackoverflow, panic, oom, hang)");
            shutdown(2)
        }
    }
    crate::crash::fatal(format_args!("crash={kind} did not crash"))
}
