//! `wait4`/`waitid` options and id types, and the wait status encoding (linux/wait.h,
//! the kernel's `do_wait` status words).

use crate::flags::Names;
use alloc::string::String;
use core::fmt::Write;

pub const WNOHANG: u32 = 0x0000_0001;
pub const WUNTRACED: u32 = 0x0000_0002;
/// `waitid` name of `WUNTRACED`.
pub const WSTOPPED: u32 = WUNTRACED;
pub const WEXITED: u32 = 0x0000_0004;
pub const WCONTINUED: u32 = 0x0000_0008;
pub const WNOWAIT: u32 = 0x0100_0000;
pub const __WNOTHREAD: u32 = 0x2000_0000;
pub const __WALL: u32 = 0x4000_0000;
pub const __WCLONE: u32 = 0x8000_0000;

pub const WAIT_OPTION_NAMES: Names = &[
    (WNOHANG as u64, "WNOHANG"),
    (WSTOPPED as u64, "WSTOPPED"),
    (WEXITED as u64, "WEXITED"),
    (WCONTINUED as u64, "WCONTINUED"),
    (WNOWAIT as u64, "WNOWAIT"),
    (__WNOTHREAD as u64, "__WNOTHREAD"),
    (__WALL as u64, "__WALL"),
    (__WCLONE as u64, "__WCLONE"),
];

/// `wait4` options print `WUNTRACED` for bit 2 (strace's `wait4_options`).
pub const WAIT4_OPTION_NAMES: Names = &[
    (WNOHANG as u64, "WNOHANG"),
    (WUNTRACED as u64, "WUNTRACED"),
    (WCONTINUED as u64, "WCONTINUED"),
    (__WNOTHREAD as u64, "__WNOTHREAD"),
    (__WALL as u64, "__WALL"),
    (__WCLONE as u64, "__WCLONE"),
];

/// `waitid` id types.
pub const P_ALL: u32 = 0;
pub const P_PID: u32 = 1;
pub const P_PGID: u32 = 2;
pub const P_PIDFD: u32 = 3;
pub const IDTYPE_NAMES: Names = &[(0, "P_ALL"), (1, "P_PID"), (2, "P_PGID"), (3, "P_PIDFD")];

/// Status of a child that called `exit(code)`: `(code & 0xff) << 8`.
pub const fn exited(code: i32) -> i32 {
    (code & 0xff) << 8
}

/// Status of a child killed by `sig`, with `core` when it dumped core (`0x80`).
pub const fn signaled(sig: u32, core: bool) -> i32 {
    (sig & 0x7f) as i32 | if core { 0x80 } else { 0 }
}

/// Status of a child stopped by `sig`: `(sig << 8) | 0x7f`.
pub const fn stopped(sig: u32) -> i32 {
    (((sig & 0xff) as i32) << 8) | 0x7f
}

/// Status of a continued child (`WCONTINUED`).
pub const fn continued() -> i32 {
    0xffff
}

pub const fn wifexited(s: i32) -> bool {
    s & 0x7f == 0
}
pub const fn wexitstatus(s: i32) -> i32 {
    (s >> 8) & 0xff
}
pub const fn wifsignaled(s: i32) -> bool {
    ((s & 0x7f) + 1) as i8 >> 1 > 0
}
pub const fn wtermsig(s: i32) -> u32 {
    (s & 0x7f) as u32
}
pub const fn wcoredump(s: i32) -> bool {
    s & 0x80 != 0
}
pub const fn wifstopped(s: i32) -> bool {
    s & 0xff == 0x7f
}
pub const fn wstopsig(s: i32) -> u32 {
    ((s >> 8) & 0xff) as u32
}
pub const fn wifcontinued(s: i32) -> bool {
    s == 0xffff
}

/// A status as strace shows it: `[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]`,
/// `[{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}]`,
/// `[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGTSTP}]`, `[{WIFCONTINUED(s)}]`.
pub fn format_status(s: i32) -> String {
    let mut out = String::from("[{");
    if wifcontinued(s) {
        out.push_str("WIFCONTINUED(s)");
    } else if wifstopped(s) {
        out.push_str("WIFSTOPPED(s) && WSTOPSIG(s) == ");
        crate::signal::write_signal(&mut out, wstopsig(s) as i64);
        if s >> 16 != 0 {
            let _ = write!(out, " && s >> 16 == {}", s >> 16);
        }
    } else if wifsignaled(s) {
        out.push_str("WIFSIGNALED(s) && WTERMSIG(s) == ");
        crate::signal::write_signal(&mut out, wtermsig(s) as i64);
        if wcoredump(s) {
            out.push_str(" && WCOREDUMP(s)");
        }
    } else if wifexited(s) {
        let _ = write!(out, "WIFEXITED(s) && WEXITSTATUS(s) == {}", wexitstatus(s));
    } else {
        let _ = write!(out, "{s:#x}");
    }
    out.push_str("}]");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding() {
        assert_eq!(exited(0), 0);
        assert_eq!(exited(1), 0x100);
        assert_eq!(exited(256 + 3), 0x300);
        assert_eq!(exited(-1), 0xff00);
        assert_eq!(signaled(9, false), 9);
        assert_eq!(signaled(11, true), 0x8b);
        assert_eq!(stopped(19), 0x137f);
        assert_eq!(continued(), 0xffff);
        let st = exited(42);
        assert!(wifexited(st) && !wifsignaled(st) && !wifstopped(st));
        assert_eq!(wexitstatus(st), 42);
        let sg = signaled(11, true);
        assert!(wifsignaled(sg) && !wifexited(sg) && !wifstopped(sg));
        assert_eq!(wtermsig(sg), 11);
        assert!(wcoredump(sg));
        let sp = stopped(20);
        assert!(wifstopped(sp) && !wifsignaled(sp) && !wifexited(sp));
        assert_eq!(wstopsig(sp), 20);
        assert!(wifcontinued(continued()) && !wifsignaled(continued()));
    }

    #[test]
    fn strace_style() {
        assert_eq!(
            format_status(exited(0)),
            "[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]"
        );
        assert_eq!(
            format_status(signaled(11, true)),
            "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}]"
        );
        assert_eq!(
            format_status(signaled(9, false)),
            "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}]"
        );
        assert_eq!(
            format_status(stopped(20)),
            "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGTSTP}]"
        );
        assert_eq!(format_status(continued()), "[{WIFCONTINUED(s)}]");
    }
}
