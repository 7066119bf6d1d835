//! `mode=run`: what the kernel does for `isounik run`. Programs arrive with the next issue;
//! until then the command line selects built-in actions that exercise the boot path.

use alloc::vec::Vec;

use isounik_abi::cmdline;

use crate::drivers::uart::{self, ReadResult};
use crate::{shutdown, time};

pub fn main(line: &str) -> ! {
    if let Some(kind) = cmdline::get(line, cmdline::CRASH) {
        crash_on_purpose(kind);
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
