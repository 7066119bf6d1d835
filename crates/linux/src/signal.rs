//! Signal numbers, names and default actions, `sigaction` flags, `sigprocmask` hows,
//! `sigaltstack` flags and `si_code` values (asm/signal.h for x86, asm-generic/siginfo.h,
//! asm-generic/signal-defs.h). The signal set type is [`crate::structs::Sigset`].

use crate::flags::Names;
use alloc::string::String;
use core::fmt::Write;

pub const SIGHUP: u32 = 1;
pub const SIGINT: u32 = 2;
pub const SIGQUIT: u32 = 3;
pub const SIGILL: u32 = 4;
pub const SIGTRAP: u32 = 5;
pub const SIGABRT: u32 = 6;
pub const SIGIOT: u32 = 6;
pub const SIGBUS: u32 = 7;
pub const SIGFPE: u32 = 8;
pub const SIGKILL: u32 = 9;
pub const SIGUSR1: u32 = 10;
pub const SIGSEGV: u32 = 11;
pub const SIGUSR2: u32 = 12;
pub const SIGPIPE: u32 = 13;
pub const SIGALRM: u32 = 14;
pub const SIGTERM: u32 = 15;
pub const SIGSTKFLT: u32 = 16;
pub const SIGCHLD: u32 = 17;
pub const SIGCONT: u32 = 18;
pub const SIGSTOP: u32 = 19;
pub const SIGTSTP: u32 = 20;
pub const SIGTTIN: u32 = 21;
pub const SIGTTOU: u32 = 22;
pub const SIGURG: u32 = 23;
pub const SIGXCPU: u32 = 24;
pub const SIGXFSZ: u32 = 25;
pub const SIGVTALRM: u32 = 26;
pub const SIGPROF: u32 = 27;
pub const SIGWINCH: u32 = 28;
pub const SIGIO: u32 = 29;
pub const SIGPOLL: u32 = SIGIO;
pub const SIGPWR: u32 = 30;
pub const SIGSYS: u32 = 31;
/// The kernel's first real-time signal (asm/signal.h). glibc and musl reserve 32 and 33
/// (musl also 34) for themselves, so the libc `SIGRTMIN` is [`LIBC_SIGRTMIN`].
pub const SIGRTMIN: u32 = 32;
/// The glibc value of `SIGRTMIN` (what `kill -l` shows as `RTMIN`).
pub const LIBC_SIGRTMIN: u32 = 34;
/// The last signal (`_NSIG`).
pub const SIGRTMAX: u32 = 64;
/// Number of signals (`_NSIG`); signals are 1..=NSIG.
pub const NSIG: u32 = 64;

/// strace's names, indexed by signal number (index 0 is `"0"`): `SIGHUP`..`SIGSYS`,
/// `SIGRTMIN` for 32, then `SIGRT_1`..`SIGRT_32`.
pub const NAMES: [&str; 65] = [
    "0",
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
    "SIGRTMIN",
    "SIGRT_1",
    "SIGRT_2",
    "SIGRT_3",
    "SIGRT_4",
    "SIGRT_5",
    "SIGRT_6",
    "SIGRT_7",
    "SIGRT_8",
    "SIGRT_9",
    "SIGRT_10",
    "SIGRT_11",
    "SIGRT_12",
    "SIGRT_13",
    "SIGRT_14",
    "SIGRT_15",
    "SIGRT_16",
    "SIGRT_17",
    "SIGRT_18",
    "SIGRT_19",
    "SIGRT_20",
    "SIGRT_21",
    "SIGRT_22",
    "SIGRT_23",
    "SIGRT_24",
    "SIGRT_25",
    "SIGRT_26",
    "SIGRT_27",
    "SIGRT_28",
    "SIGRT_29",
    "SIGRT_30",
    "SIGRT_31",
    "SIGRT_32",
];

/// The name of signal `sig` (1..=64), e.g. `"SIGINT"`.
pub const fn name(sig: u32) -> Option<&'static str> {
    if sig >= 1 && sig <= NSIG {
        Some(NAMES[sig as usize])
    } else {
        None
    }
}

/// The signal called `name` (`"SIGINT"`, also `"INT"`, `"SIGIOT"`, `"SIGPOLL"`).
pub fn from_name(name: &str) -> Option<u32> {
    let full = |n: &str| match n {
        "SIGIOT" => Some(SIGIOT),
        "SIGPOLL" => Some(SIGPOLL),
        _ => (1..=NSIG).find(|&s| NAMES[s as usize] == n),
    };
    if name.starts_with("SIG") {
        full(name)
    } else {
        let mut buf = String::from("SIG");
        buf.push_str(name);
        full(&buf)
    }
}

/// Appends a signal as strace prints it: its name, or the number for 0 and out-of-range
/// values.
pub fn write_signal(out: &mut String, sig: i64) {
    match u32::try_from(sig).ok().and_then(name) {
        Some(n) => out.push_str(n),
        None => {
            let _ = write!(out, "{sig}");
        }
    }
}

/// What happens when a signal with `SIG_DFL` disposition is delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// End the process.
    Terminate,
    /// End the process and dump core (`WCOREDUMP`).
    CoreDump,
    /// Discard the signal.
    Ignore,
    /// Stop the process (job control).
    Stop,
    /// Continue a stopped process (otherwise ignored).
    Continue,
}

/// The default action of `sig` (signal(7)); real-time signals terminate.
pub const fn default_action(sig: u32) -> DefaultAction {
    match sig {
        SIGQUIT | SIGILL | SIGTRAP | SIGABRT | SIGBUS | SIGFPE | SIGSEGV | SIGXCPU | SIGXFSZ
        | SIGSYS => DefaultAction::CoreDump,
        SIGCHLD | SIGURG | SIGWINCH => DefaultAction::Ignore,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => DefaultAction::Stop,
        SIGCONT => DefaultAction::Continue,
        _ => DefaultAction::Terminate,
    }
}

/// Signals that cannot be caught, blocked or ignored.
pub const fn is_unblockable(sig: u32) -> bool {
    sig == SIGKILL || sig == SIGSTOP
}

/// The signals the kernel raises synchronously for a fault or trap of the current
/// instruction (Linux delivers these before other pending signals: `SYNCHRONOUS_MASK`).
pub const fn is_synchronous(sig: u32) -> bool {
    matches!(sig, SIGSEGV | SIGBUS | SIGILL | SIGTRAP | SIGFPE | SIGSYS)
}

// ---- sigaction ----
pub const SA_NOCLDSTOP: u64 = 0x0000_0001;
pub const SA_NOCLDWAIT: u64 = 0x0000_0002;
pub const SA_SIGINFO: u64 = 0x0000_0004;
pub const SA_UNSUPPORTED: u64 = 0x0000_0400;
pub const SA_EXPOSE_TAGBITS: u64 = 0x0000_0800;
/// x86-64 requires it: the handler returns to `sa_restorer`.
pub const SA_RESTORER: u64 = 0x0400_0000;
pub const SA_ONSTACK: u64 = 0x0800_0000;
pub const SA_RESTART: u64 = 0x1000_0000;
pub const SA_NODEFER: u64 = 0x4000_0000;
pub const SA_RESETHAND: u64 = 0x8000_0000;
pub const SA_NOMASK: u64 = SA_NODEFER;
pub const SA_ONESHOT: u64 = SA_RESETHAND;

/// In strace's order.
pub const SA_NAMES: Names = &[
    (SA_RESTORER, "SA_RESTORER"),
    (SA_ONSTACK, "SA_ONSTACK"),
    (SA_RESTART, "SA_RESTART"),
    (SA_NODEFER, "SA_NODEFER"),
    (SA_RESETHAND, "SA_RESETHAND"),
    (SA_SIGINFO, "SA_SIGINFO"),
    (SA_NOCLDSTOP, "SA_NOCLDSTOP"),
    (SA_NOCLDWAIT, "SA_NOCLDWAIT"),
    (SA_UNSUPPORTED, "SA_UNSUPPORTED"),
    (SA_EXPOSE_TAGBITS, "SA_EXPOSE_TAGBITS"),
];

/// Handler values with a meaning.
pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;
pub const SIG_ERR: u64 = u64::MAX;
pub const SA_HANDLER_NAMES: Names = &[(SIG_DFL, "SIG_DFL"), (SIG_IGN, "SIG_IGN")];

// ---- sigprocmask ----
pub const SIG_BLOCK: u32 = 0;
pub const SIG_UNBLOCK: u32 = 1;
pub const SIG_SETMASK: u32 = 2;
pub const SIGHOW_NAMES: Names = &[(0, "SIG_BLOCK"), (1, "SIG_UNBLOCK"), (2, "SIG_SETMASK")];

/// The only `sigsetsize` the rt_sig* calls accept on x86-64.
pub const SIGSET_SIZE: usize = 8;

// ---- sigaltstack ----
pub const SS_ONSTACK: i32 = 1;
pub const SS_DISABLE: i32 = 2;
pub const SS_AUTODISARM: i32 = 1 << 31;
/// x86 uapi values; the real minimum is `AT_MINSIGSTKSZ` (depends on the xsave size).
pub const MINSIGSTKSZ: usize = 2048;
pub const SIGSTKSZ: usize = 8192;

// ---- si_code ----
pub const SI_USER: i32 = 0;
pub const SI_KERNEL: i32 = 0x80;
pub const SI_QUEUE: i32 = -1;
pub const SI_TIMER: i32 = -2;
pub const SI_MESGQ: i32 = -3;
pub const SI_ASYNCIO: i32 = -4;
pub const SI_SIGIO: i32 = -5;
pub const SI_TKILL: i32 = -6;
pub const SI_DETHREAD: i32 = -7;
pub const SI_ASYNCNL: i32 = -60;

pub const ILL_ILLOPC: i32 = 1;
pub const ILL_ILLOPN: i32 = 2;
pub const ILL_ILLADR: i32 = 3;
pub const ILL_ILLTRP: i32 = 4;
pub const ILL_PRVOPC: i32 = 5;
pub const ILL_PRVREG: i32 = 6;
pub const ILL_COPROC: i32 = 7;
pub const ILL_BADSTK: i32 = 8;
pub const ILL_BADIADDR: i32 = 9;

pub const FPE_INTDIV: i32 = 1;
pub const FPE_INTOVF: i32 = 2;
pub const FPE_FLTDIV: i32 = 3;
pub const FPE_FLTOVF: i32 = 4;
pub const FPE_FLTUND: i32 = 5;
pub const FPE_FLTRES: i32 = 6;
pub const FPE_FLTINV: i32 = 7;
pub const FPE_FLTSUB: i32 = 8;
pub const FPE_FLTUNK: i32 = 14;
pub const FPE_CONDTRAP: i32 = 15;

pub const SEGV_MAPERR: i32 = 1;
pub const SEGV_ACCERR: i32 = 2;
pub const SEGV_BNDERR: i32 = 3;
/// Protection-key violation: `si_pkey` is set.
pub const SEGV_PKUERR: i32 = 4;
pub const SEGV_ACCADI: i32 = 5;
pub const SEGV_ADIDERR: i32 = 6;
pub const SEGV_ADIPERR: i32 = 7;
pub const SEGV_MTEAERR: i32 = 8;
pub const SEGV_MTESERR: i32 = 9;
pub const SEGV_CPERR: i32 = 10;

pub const BUS_ADRALN: i32 = 1;
pub const BUS_ADRERR: i32 = 2;
pub const BUS_OBJERR: i32 = 3;
pub const BUS_MCEERR_AR: i32 = 4;
pub const BUS_MCEERR_AO: i32 = 5;

pub const TRAP_BRKPT: i32 = 1;
pub const TRAP_TRACE: i32 = 2;
pub const TRAP_BRANCH: i32 = 3;
pub const TRAP_HWBKPT: i32 = 4;
pub const TRAP_UNK: i32 = 5;
pub const TRAP_PERF: i32 = 6;

pub const CLD_EXITED: i32 = 1;
pub const CLD_KILLED: i32 = 2;
pub const CLD_DUMPED: i32 = 3;
pub const CLD_TRAPPED: i32 = 4;
pub const CLD_STOPPED: i32 = 5;
pub const CLD_CONTINUED: i32 = 6;

pub const POLL_IN: i32 = 1;
pub const POLL_OUT: i32 = 2;
pub const POLL_MSG: i32 = 3;
pub const POLL_ERR: i32 = 4;
pub const POLL_PRI: i32 = 5;
pub const POLL_HUP: i32 = 6;

pub const SYS_SECCOMP: i32 = 1;
pub const SYS_USER_DISPATCH: i32 = 2;

// ---- sigevent ----
pub const SIGEV_SIGNAL: i32 = 0;
pub const SIGEV_NONE: i32 = 1;
pub const SIGEV_THREAD: i32 = 2;
pub const SIGEV_THREAD_ID: i32 = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_names() {
        let expect = [
            (1, "SIGHUP"),
            (2, "SIGINT"),
            (3, "SIGQUIT"),
            (6, "SIGABRT"),
            (9, "SIGKILL"),
            (11, "SIGSEGV"),
            (13, "SIGPIPE"),
            (15, "SIGTERM"),
            (17, "SIGCHLD"),
            (19, "SIGSTOP"),
            (20, "SIGTSTP"),
            (28, "SIGWINCH"),
            (31, "SIGSYS"),
            (32, "SIGRTMIN"),
            (33, "SIGRT_1"),
            (64, "SIGRT_32"),
        ];
        for (n, s) in expect {
            assert_eq!(name(n), Some(s));
            assert_eq!(from_name(s), Some(n));
        }
        assert_eq!(name(0), None);
        assert_eq!(name(65), None);
        assert_eq!(from_name("INT"), Some(2));
        assert_eq!(from_name("SIGIOT"), Some(6));
        let mut s = String::new();
        write_signal(&mut s, 0);
        s.push(' ');
        write_signal(&mut s, 2);
        s.push(' ');
        write_signal(&mut s, 99);
        assert_eq!(s, "0 SIGINT 99");
    }

    #[test]
    fn default_actions() {
        use DefaultAction::*;
        assert_eq!(default_action(SIGINT), Terminate);
        assert_eq!(default_action(SIGKILL), Terminate);
        assert_eq!(default_action(SIGPIPE), Terminate);
        assert_eq!(default_action(SIGSEGV), CoreDump);
        assert_eq!(default_action(SIGQUIT), CoreDump);
        assert_eq!(default_action(SIGXFSZ), CoreDump);
        assert_eq!(default_action(SIGCHLD), Ignore);
        assert_eq!(default_action(SIGWINCH), Ignore);
        assert_eq!(default_action(SIGURG), Ignore);
        assert_eq!(default_action(SIGSTOP), Stop);
        assert_eq!(default_action(SIGTTOU), Stop);
        assert_eq!(default_action(SIGCONT), Continue);
        assert_eq!(default_action(40), Terminate);
        assert!(is_unblockable(SIGKILL) && is_unblockable(SIGSTOP) && !is_unblockable(SIGTERM));
    }
}
