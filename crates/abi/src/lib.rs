//! What the Iso-UniK kernel and the `isounik` host tool both speak.
//!
//! * [`io`]: the I/O ports of the virtual devices the host tool attaches.
//! * [`log`]: the kernel log channel, a line protocol the host tool parses.
//! * [`exit`]: how the guest's exit reaches the host through `isa-debug-exit`.
//! * [`cmdline`]: the kernel command line keys.
//! * [`layout`]: the virtual memory layout of every address space.
//! * [`pkey`]: protection keys and the PKRU values of the domains.
//! * [`trampoline`]: the gate mode's system call trampoline page.
//! * [`gate`]: constants of the MPK call gate's code (`kernel/src/arch/x86_64/gate.s`).
#![no_std]

pub mod trampoline;

/// Fixed I/O ports of the devices `isounik` gives every guest.
pub mod io {
    /// COM1: the console (programs' stdin/stdout), a 16550 UART.
    pub const CONSOLE_UART: u16 = 0x3f8;
    /// The ISA IRQ line of COM1.
    pub const CONSOLE_IRQ: u8 = 4;
    /// QEMU `isa-debugcon`: a write-only byte port that carries the kernel log.
    pub const DEBUGCON: u16 = 0xe9;
    /// A second `isa-debugcon`: the program's standard output when the console is not a
    /// terminal (byte-exact, separate from stderr and from the kernel log).
    pub const STDOUT: u16 = 0x3e0;
    /// A third `isa-debugcon`: the program's standard error when the console is not a
    /// terminal.
    pub const STDERR: u16 = 0x3e1;
    /// QEMU `isa-debug-exit`: writing `v` ends QEMU with status `(v << 1) | 1`.
    pub const DEBUG_EXIT: u16 = 0xf4;
}

/// The kernel log channel (debugcon): UTF-8 text lines ending in `\n`. Ordinary lines are
/// human-readable messages. Lines starting with [`log::MARK`] are records for the host tool.
pub mod log {
    /// First character of a record line.
    pub const MARK: char = '@';
    /// `@selftest <name> ok|FAIL|skip [detail]`: one in-kernel self test's result.
    pub const SELFTEST: &str = "selftest";
    /// `@exit <status>`: the guest's exit status (0..=255), sent just before the debug exit.
    pub const EXIT: &str = "exit";
    /// `@bt <index> <hex address>`: one frame of a kernel backtrace; the host adds the symbol.
    /// For an exception, frame 0 is the faulting instruction; every other frame is a return
    /// address (the call is the instruction before it).
    pub const BACKTRACE: &str = "bt";
    /// `@crash <one-line reason>`: the kernel stopped on an unrecoverable error.
    pub const CRASH: &str = "crash";
    /// `@strace <pid> <call line>`: one system call, strace-style (with `strace` on the
    /// command line). The host prints `[pid N] line` or just `line` to stderr.
    pub const STRACE: &str = "strace";
    /// `@signal <pid> <signo> <one-line reason>`: a process was killed by a signal, e.g.
    /// `@signal 1 11 segmentation fault at 0x0 (read, page not present), rip 0x401000`.
    /// The host shows it on stderr whether or not `--verbose` is given.
    pub const SIGNAL: &str = "signal";
    /// `@console-ready`: the console UART is set up; the host may start sending input (bytes
    /// sent earlier could be lost when the guest enables the UART's FIFO).
    pub const CONSOLE_READY: &str = "console-ready";
    /// `@error <message>`: a problem the user must see (a program that cannot be started,
    /// a malformed initramfs). The host shows it on stderr as `isounik: <message>`.
    pub const ERROR: &str = "error";

    /// The verdict of one self test.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Verdict {
        Ok,
        Fail,
        Skip,
    }

    impl Verdict {
        pub const fn as_str(self) -> &'static str {
            match self {
                Verdict::Ok => "ok",
                Verdict::Fail => "FAIL",
                Verdict::Skip => "skip",
            }
        }

        pub fn parse(s: &str) -> Option<Self> {
            match s {
                "ok" => Some(Verdict::Ok),
                "FAIL" => Some(Verdict::Fail),
                "skip" => Some(Verdict::Skip),
                _ => None,
            }
        }
    }

    /// A parsed record line.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum Record<'a> {
        SelfTest {
            name: &'a str,
            verdict: Verdict,
            detail: &'a str,
        },
        Exit(u8),
        Backtrace {
            index: u32,
            address: u64,
        },
        Crash(&'a str),
        Strace {
            pid: u32,
            line: &'a str,
        },
        Signal {
            pid: u32,
            signo: u8,
            reason: &'a str,
        },
        Error(&'a str),
        ConsoleReady,
    }

    /// Parses one log line (without its newline). `None` for ordinary message lines and for
    /// malformed records, which the host shows as text.
    pub fn parse(line: &str) -> Option<Record<'_>> {
        let rest = line.strip_prefix(MARK)?;
        let (kind, args) = rest.split_once(' ').unwrap_or((rest, ""));
        match kind {
            SELFTEST => {
                let (name, rest) = args.split_once(' ')?;
                let (verdict, detail) = rest.split_once(' ').unwrap_or((rest, ""));
                Some(Record::SelfTest {
                    name,
                    verdict: Verdict::parse(verdict)?,
                    detail: detail.trim(),
                })
            }
            EXIT => args.trim().parse().ok().map(Record::Exit),
            BACKTRACE => {
                let (index, address) = args.split_once(' ')?;
                let address = address.trim().trim_start_matches("0x");
                Some(Record::Backtrace {
                    index: index.parse().ok()?,
                    address: u64::from_str_radix(address, 16).ok()?,
                })
            }
            CRASH => Some(Record::Crash(args.trim())),
            STRACE => {
                let (pid, line) = args.split_once(' ')?;
                Some(Record::Strace {
                    pid: pid.parse().ok()?,
                    line,
                })
            }
            SIGNAL => {
                let (pid, rest) = args.split_once(' ')?;
                let (signo, reason) = rest.split_once(' ').unwrap_or((rest, ""));
                Some(Record::Signal {
                    pid: pid.parse().ok()?,
                    signo: signo.parse().ok()?,
                    reason: reason.trim(),
                })
            }
            ERROR => Some(Record::Error(args.trim())),
            CONSOLE_READY => Some(Record::ConsoleReady),
            _ => None,
        }
    }
}

/// How the guest ends. The kernel first logs `@exit <status>` (or `@crash ...`), then writes
/// one of these values to [`io::DEBUG_EXIT`]; QEMU exits with `(value << 1) | 1`. The `@exit`
/// record is mandatory before [`exit::NORMAL`]: QEMU's own errors also give status 1.
/// A QEMU exit status of 0 means the guest reset (a triple fault under `-no-reboot`).
pub mod exit {
    /// The guest shut down normally; its status is in the `@exit` record.
    pub const NORMAL: u32 = 0;
    /// The kernel stopped on an unrecoverable error (panic, CPU exception in the kernel).
    pub const KERNEL_FAILURE: u32 = 0x3f;

    /// QEMU's process exit status for a value written to the debug-exit port.
    pub const fn qemu_status(value: u32) -> i32 {
        (((value << 1) | 1) & 0xff) as i32
    }
}

/// Kernel command line: space-separated `key` or `key=value` words.
pub mod cmdline {
    /// `mode=selftest` runs the in-kernel self tests; `mode=run` (default) runs the workload.
    pub const MODE: &str = "mode";
    /// `selftest=NAME[,NAME]`: run only the named self tests.
    pub const SELFTEST_FILTER: &str = "selftest";
    /// `exit=N`: with nothing to run, end with status N (tests the exit path).
    pub const EXIT: &str = "exit";
    /// `crash=KIND`: deliberately fail inside the kernel (tests fault reporting). KINDs:
    /// `pagefault`, `gp`, `ud`, `divide`, `stackoverflow`, `panic`, `oom`, `breakpoint`,
    /// and `hang` (never finishes: tests the host's timeout).
    pub const CRASH: &str = "crash";
    /// `sleep=MS`: with nothing to run, sleep MS milliseconds before exiting (tests time).
    pub const SLEEP: &str = "sleep";
    /// `console=echo`: echo console input back, line by line, until EOF (tests input).
    /// `console=tty`: the console is a terminal (COM1 carries stdin, stdout and stderr, with a
    /// line discipline). Without it, stdin comes from COM1, stdout and stderr leave through
    /// the [`io::STDOUT`](super::io::STDOUT) and [`io::STDERR`](super::io::STDERR) ports, and
    /// none of them is a terminal (as `docker run` without `-t`).
    pub const CONSOLE: &str = "console";
    /// `verbose`: more kernel log lines.
    pub const VERBOSE: &str = "verbose";
    /// `strace`: log every system call as an `@strace` record.
    pub const STRACE: &str = "strace";
    /// `time=<nanoseconds since the Unix epoch>`: the host's clock when it started the VM;
    /// the guest's wall clock starts from it (more precise than the CMOS clock).
    pub const TIME: &str = "time";
    /// `seed=<32 hex digits>`: entropy from the host, mixed into the guest's random
    /// generator (which also uses RDRAND/RDSEED when the CPU has them).
    pub const SEED: &str = "seed";

    /// Iterates over `(key, value)` pairs; a bare `key` has the value `""`.
    pub fn words(cmdline: &str) -> impl Iterator<Item = (&str, &str)> {
        cmdline
            .split_ascii_whitespace()
            .map(|w| w.split_once('=').unwrap_or((w, "")))
    }

    /// The value of the last occurrence of `key`.
    pub fn get<'a>(cmdline: &'a str, key: &str) -> Option<&'a str> {
        words(cmdline)
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v)
            .last()
    }
}

/// The initramfs (the PVH module, QEMU `-initrd`): a cpio newc archive holding the root file
/// system, plus a directory [`initramfs::BOOT_DIR`] that tells the kernel what to run. The
/// kernel reads it and removes it before the program starts.
pub mod initramfs {
    /// Name of the boot directory at the archive's root.
    pub const BOOT_DIR: &str = ".isounik";
    /// `.isounik/argv`: the program's arguments, each followed by a NUL. `argv[0]` is the
    /// guest path of the program to execute.
    pub const ARGV: &str = ".isounik/argv";
    /// `.isounik/env`: `NAME=value` strings, each followed by a NUL.
    pub const ENV: &str = ".isounik/env";
    /// `.isounik/cwd` (optional): the working directory, without a trailing NUL.
    pub const CWD: &str = ".isounik/cwd";

    /// Splits a NUL-terminated list; a missing final NUL is tolerated.
    pub fn split_nul_list(data: &[u8]) -> impl Iterator<Item = &[u8]> {
        let data = data.strip_suffix(&[0]).unwrap_or(data);
        data.split(|b| *b == 0).filter(move |_| !data.is_empty())
    }
}

/// Exit statuses the guest reports for a program that could not start (as shells do).
pub mod status {
    /// The program exists but cannot be executed (not ELF, dynamically linked, malformed).
    pub const CANNOT_EXECUTE: u8 = 126;
    /// The program does not exist.
    pub const NOT_FOUND: u8 = 127;
    /// Killed by signal `n`: 128 + n.
    pub const fn killed_by(signo: u8) -> u8 {
        128 + signo
    }
}

/// The console input stream from the host is escaped so the guest can tell end-of-file
/// from data: [`console::ESCAPE`] followed by [`console::ESCAPE`] is a literal `0xff`,
/// followed by [`console::EOF`] marks end of input.
pub mod console {
    pub const ESCAPE: u8 = 0xff;
    pub const EOF: u8 = 0x00;

    /// What one received byte means.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Input {
        Byte(u8),
        Eof,
        /// Part of an escape sequence; nothing yet.
        Pending,
    }

    /// Undoes the host's escaping, one byte at a time.
    #[derive(Clone, Copy, Debug, Default)]
    pub struct Decoder {
        escaped: bool,
    }

    impl Decoder {
        pub const fn new() -> Self {
            Decoder { escaped: false }
        }

        pub fn feed(&mut self, byte: u8) -> Input {
            match (self.escaped, byte) {
                (false, ESCAPE) => {
                    self.escaped = true;
                    Input::Pending
                }
                (false, b) => Input::Byte(b),
                (true, EOF) => {
                    self.escaped = false;
                    Input::Eof
                }
                (true, b) => {
                    // ESCAPE ESCAPE is a literal 0xff; anything else is taken literally too.
                    self.escaped = false;
                    Input::Byte(b)
                }
            }
        }
    }

    /// Escapes `data` for the guest, appending to `out`.
    pub fn escape_into(data: &[u8], out: &mut impl Extend<u8>) {
        for &b in data {
            if b == ESCAPE {
                out.extend([ESCAPE, ESCAPE]);
            } else {
                out.extend([b]);
            }
        }
    }
}

/// Virtual memory layout (ARCHITECTURE.md §1-2). The lower half belongs to the application
/// of each address space; the upper half is the libOS half, the same in every page table.
pub mod layout {
    /// End (exclusive) of the application half: the lower canonical half.
    pub const USER_END: u64 = 0x0000_8000_0000_0000;
    /// Direct map of all physical memory: supervisor pages, ring 0 only.
    pub const PHYSMAP_BASE: u64 = 0xffff_8000_0000_0000;
    /// Size reserved for the direct map (one PML4 slot each 512 GiB).
    pub const PHYSMAP_SIZE: u64 = 0x0000_4000_0000_0000;
    /// libOS heap: user pages tagged `K_LIBOS`.
    pub const LIBOS_HEAP_BASE: u64 = 0xffff_c000_0000_0000;
    /// Largest heap the layout allows.
    pub const LIBOS_HEAP_MAX: u64 = 0x0000_0080_0000_0000;
    /// libOS thread stacks: user pages tagged `K_LIBOS`, each with a guard page.
    pub const LIBOS_STACKS_BASE: u64 = 0xffff_c100_0000_0000;
    /// File data: every frame that holds a page of a file, at this base plus its physical
    /// address, while it does; user pages tagged `K_LIBOS`, so that the libOS code behind
    /// the MPK gate (ring 3) reads and writes files, and only those frames, without the
    /// supervisor direct map.
    pub const LIBOS_FILE_DATA_BASE: u64 = 0xffff_c200_0000_0000;
    /// The frames' reference counters (one `u32` per frame): user pages tagged `K_LIBOS`,
    /// so that libOS code in ring 3 can share and give up file pages.
    pub const LIBOS_FRAME_COUNTS_BASE: u64 = 0xffff_c300_0000_0000;
    /// Supervisor area: what the CPU or entry code touches before PKRU is switched
    /// (GDT, IDT, TSS, entry and IST stacks, per-CPU data) and MMIO.
    pub const SUPERVISOR_BASE: u64 = 0xffff_fe00_0000_0000;
    /// MMIO windows (local APIC, I/O APIC): supervisor, uncached.
    pub const MMIO_BASE: u64 = 0xffff_fe80_0000_0000;
    /// The kernel image (libOS code and data): user pages tagged `K_LIBOS`, except its
    /// `.supervisor` section. Linked in the top 2 GiB (`code-model=kernel`).
    pub const KERNEL_BASE: u64 = 0xffff_ffff_8000_0000;

    pub const PAGE_SIZE: u64 = 4096;
}

/// Protection keys (ARCHITECTURE.md §1). PKRU has two bits per key: access-disable at bit
/// `2k`, write-disable at bit `2k + 1`.
pub mod pkey {
    /// Application memory.
    pub const K_APP: u8 = 0;
    /// libOS memory in user pages.
    pub const K_LIBOS: u8 = 1;
    /// The execute-only system call trampoline page (gate mode).
    pub const K_TRAMPOLINE: u8 = 2;
    /// Used by self tests.
    pub const K_TEST: u8 = 15;

    /// Access-disable bit of `key`.
    pub const fn access_disable(key: u8) -> u32 {
        1 << (2 * key as u32)
    }
    /// Write-disable bit of `key`.
    pub const fn write_disable(key: u8) -> u32 {
        1 << (2 * key as u32 + 1)
    }
    /// Both bits of every key except those in `allowed`.
    pub const fn deny_all_but(allowed: &[u8]) -> u32 {
        let mut value = u32::MAX;
        let mut i = 0;
        while i < allowed.len() {
            value &= !(access_disable(allowed[i]) | write_disable(allowed[i]));
            i += 1;
        }
        value
    }
    /// The libOS domain: application and libOS memory.
    pub const LIBOS_PKRU: u32 = deny_all_but(&[K_APP, K_LIBOS]);
    /// An application: its own memory only. Fetches are never key-checked, so the
    /// trampoline page stays executable.
    pub const APP_PKRU: u32 = deny_all_but(&[K_APP]);
}

/// Constants the MPK gate's assembly (`kernel/src/arch/x86_64/gate.s`) is assembled with,
/// in the kernel and in the native host benchmark.
pub mod gate {
    /// System call numbers below this can have a handler in ring 3 (`GATE_TABLE`): every
    /// Linux x86-64 number (the last, 462, is mseal), so the `*at` calls and statx too.
    pub const TABLE_LEN: usize = 464;
    /// What a ring-3 handler in Rust returns to send the call down the trap path.
    pub const SLOW: i64 = i64::MIN;
    /// The privilege gate's request (in `rax` at the gate's own `syscall`, with the libOS
    /// rights held): "run system call `rdx` for the application". Ring 0 refuses it from
    /// anywhere else. No Linux number is this large.
    pub const PRIV_FORWARD: u64 = 0x4953_4f55_4e49_4b01;
    /// The privilege gate's other request: "the call is done, its result is `rdx`; return
    /// it to the application from ring 0", made when a signal or a task switch is due, so
    /// that they happen before the program runs on (as at the end of a trapped call).
    pub const PRIV_FINISH: u64 = 0x4953_4f55_4e49_4b02;
    /// The privilege gate's services for the libOS code running behind the MPK gate (ring 3,
    /// libOS rights), asked at the gate's service `syscall` (`rdx` = the argument, result
    /// in `rax`), which returns to that code: do the ring-0 work deferred so far (wake-ups,
    /// frame releases: ring 0 does it at every entry from ring 3; asked when its list is
    /// full),
    pub const PRIV_FLUSH: u64 = 0x4953_4f55_4e49_4b03;
    /// block the calling task until it is woken or the uptime `rdx` (ns; `u64::MAX`: no
    /// deadline) has passed,
    pub const PRIV_BLOCK: u64 = 0x4953_4f55_4e49_4b04;
    /// map `rdx` more bytes of libOS heap (rounded up to pages); gives their start, 0 when
    /// no memory is left.
    pub const PRIV_GROW_HEAP: u64 = 0x4953_4f55_4e49_4b05;
    /// report a fatal error of the libOS code (a panic; `rdx`: its message, a line buffer
    /// on the thread's gate stack) and stop the machine, as a panic in ring 0 does,
    pub const PRIV_CRASH: u64 = 0x4953_4f55_4e49_4b06;
    /// give the CPU to another runnable task (sched_yield),
    pub const PRIV_YIELD: u64 = 0x4953_4f55_4e49_4b07;
    /// a new page of file data, mapped in the libOS's file-data window: zero-filled when
    /// `rdx` is `u64::MAX`, else a copy of the file page at physical address `rdx`; gives
    /// its physical address (one reference, the caller's), 0 when memory is exhausted.
    pub const PRIV_FILE_PAGE: u64 = 0x4953_4f55_4e49_4b08;
    /// The first and last service (ring 0 routes this range to its service handler).
    pub const PRIV_SERVICES: core::ops::RangeInclusive<u64> = PRIV_FLUSH..=PRIV_FILE_PAGE;
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn parses_selftest_records() {
        assert_eq!(
            log::parse("@selftest pku_ring0 ok"),
            Some(log::Record::SelfTest {
                name: "pku_ring0",
                verdict: log::Verdict::Ok,
                detail: ""
            })
        );
        assert_eq!(
            log::parse("@selftest heap FAIL lost 3 blocks"),
            Some(log::Record::SelfTest {
                name: "heap",
                verdict: log::Verdict::Fail,
                detail: "lost 3 blocks"
            })
        );
        assert_eq!(log::parse("@selftest heap maybe"), None);
        assert_eq!(log::parse("selftest heap ok"), None);
    }

    #[test]
    fn parses_exit_backtrace_crash() {
        assert_eq!(log::parse("@exit 139"), Some(log::Record::Exit(139)));
        assert_eq!(log::parse("@exit 300"), None);
        assert_eq!(
            log::parse("@bt 2 0xffffffff80001234"),
            Some(log::Record::Backtrace {
                index: 2,
                address: 0xffff_ffff_8000_1234
            })
        );
        assert_eq!(
            log::parse("@crash page fault at 0x0"),
            Some(log::Record::Crash("page fault at 0x0"))
        );
        assert_eq!(log::parse("plain text"), None);
    }

    #[test]
    fn parses_strace_signal_error() {
        assert_eq!(
            log::parse("@strace 1 write(1, \"hi\\n\", 3) = 3"),
            Some(log::Record::Strace {
                pid: 1,
                line: "write(1, \"hi\\n\", 3) = 3"
            })
        );
        assert_eq!(
            log::parse("@signal 7 11 segmentation fault at 0x0"),
            Some(log::Record::Signal {
                pid: 7,
                signo: 11,
                reason: "segmentation fault at 0x0"
            })
        );
        assert_eq!(
            log::parse("@error no such program"),
            Some(log::Record::Error("no such program"))
        );
        assert_eq!(log::parse("@signal x 11 y"), None);
    }

    #[test]
    fn nul_lists() {
        let v: std::vec::Vec<_> = initramfs::split_nul_list(b"a\0bc\0").collect();
        assert_eq!(v, [&b"a"[..], &b"bc"[..]]);
        let v: std::vec::Vec<_> = initramfs::split_nul_list(b"a\0\0b").collect();
        assert_eq!(v, [&b"a"[..], &b""[..], &b"b"[..]]);
        assert_eq!(initramfs::split_nul_list(b"").count(), 0);
    }

    #[test]
    fn debug_exit_statuses_are_distinct_and_nonzero() {
        assert_eq!(exit::qemu_status(exit::NORMAL), 1);
        assert_eq!(exit::qemu_status(exit::KERNEL_FAILURE), 127);
    }

    #[test]
    fn cmdline_words() {
        let c = "mode=selftest verbose exit=3 exit=4";
        assert_eq!(cmdline::get(c, "mode"), Some("selftest"));
        assert_eq!(cmdline::get(c, "verbose"), Some(""));
        assert_eq!(cmdline::get(c, "exit"), Some("4"));
        assert_eq!(cmdline::get(c, "crash"), None);
    }

    #[test]
    fn console_escaping_round_trips() {
        extern crate std;
        use std::vec::Vec;
        let data = [1u8, 0xff, 0, 0xff, 0xff, 7];
        let mut wire = Vec::new();
        console::escape_into(&data, &mut wire);
        wire.extend([console::ESCAPE, console::EOF]);
        let mut d = console::Decoder::new();
        let mut got = Vec::new();
        let mut eof = false;
        for b in wire {
            match d.feed(b) {
                console::Input::Byte(b) => got.push(b),
                console::Input::Eof => eof = true,
                console::Input::Pending => {}
            }
        }
        assert_eq!(got, data);
        assert!(eof);
    }

    #[test]
    fn pkru_values() {
        assert_eq!(pkey::LIBOS_PKRU, 0xffff_fff0);
        assert_eq!(pkey::APP_PKRU, 0xffff_fffc);
        assert_eq!(pkey::APP_PKRU & pkey::access_disable(pkey::K_LIBOS), 4);
    }
}
