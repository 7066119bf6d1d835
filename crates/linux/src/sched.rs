//! `clone` flags, `clone3` sizes and scheduling policies (linux/sched.h).

use crate::flags::{self, Names};
use alloc::string::String;

/// The low byte of `clone`'s flags: the signal sent to the parent when the child exits.
pub const CSIGNAL: u64 = 0x0000_00ff;
pub const CLONE_NEWTIME: u64 = 0x0000_0080;
pub const CLONE_VM: u64 = 0x0000_0100;
pub const CLONE_FS: u64 = 0x0000_0200;
pub const CLONE_FILES: u64 = 0x0000_0400;
pub const CLONE_SIGHAND: u64 = 0x0000_0800;
pub const CLONE_PIDFD: u64 = 0x0000_1000;
pub const CLONE_PTRACE: u64 = 0x0000_2000;
pub const CLONE_VFORK: u64 = 0x0000_4000;
pub const CLONE_PARENT: u64 = 0x0000_8000;
pub const CLONE_THREAD: u64 = 0x0001_0000;
pub const CLONE_NEWNS: u64 = 0x0002_0000;
pub const CLONE_SYSVSEM: u64 = 0x0004_0000;
pub const CLONE_SETTLS: u64 = 0x0008_0000;
pub const CLONE_PARENT_SETTID: u64 = 0x0010_0000;
pub const CLONE_CHILD_CLEARTID: u64 = 0x0020_0000;
pub const CLONE_DETACHED: u64 = 0x0040_0000;
pub const CLONE_UNTRACED: u64 = 0x0080_0000;
pub const CLONE_CHILD_SETTID: u64 = 0x0100_0000;
pub const CLONE_NEWCGROUP: u64 = 0x0200_0000;
pub const CLONE_NEWUTS: u64 = 0x0400_0000;
pub const CLONE_NEWIPC: u64 = 0x0800_0000;
pub const CLONE_NEWUSER: u64 = 0x1000_0000;
pub const CLONE_NEWPID: u64 = 0x2000_0000;
pub const CLONE_NEWNET: u64 = 0x4000_0000;
pub const CLONE_IO: u64 = 0x8000_0000;
/// clone3 only: reset all signal handlers to the default.
pub const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;
/// clone3 only: start in the cgroup given by `clone_args.cgroup`.
pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// `clone_args` sizes accepted by `clone3` (first version, +set_tid, +cgroup).
pub const CLONE_ARGS_SIZE_VER0: usize = 64;
pub const CLONE_ARGS_SIZE_VER1: usize = 80;
pub const CLONE_ARGS_SIZE_VER2: usize = 88;

/// Clone flags above the signal byte, in value order (as strace prints them).
pub const CLONE_FLAG_NAMES: Names = &[
    (CLONE_VM, "CLONE_VM"),
    (CLONE_FS, "CLONE_FS"),
    (CLONE_FILES, "CLONE_FILES"),
    (CLONE_SIGHAND, "CLONE_SIGHAND"),
    (CLONE_PIDFD, "CLONE_PIDFD"),
    (CLONE_PTRACE, "CLONE_PTRACE"),
    (CLONE_VFORK, "CLONE_VFORK"),
    (CLONE_PARENT, "CLONE_PARENT"),
    (CLONE_THREAD, "CLONE_THREAD"),
    (CLONE_NEWNS, "CLONE_NEWNS"),
    (CLONE_SYSVSEM, "CLONE_SYSVSEM"),
    (CLONE_SETTLS, "CLONE_SETTLS"),
    (CLONE_PARENT_SETTID, "CLONE_PARENT_SETTID"),
    (CLONE_CHILD_CLEARTID, "CLONE_CHILD_CLEARTID"),
    (CLONE_DETACHED, "CLONE_DETACHED"),
    (CLONE_UNTRACED, "CLONE_UNTRACED"),
    (CLONE_CHILD_SETTID, "CLONE_CHILD_SETTID"),
    (CLONE_NEWCGROUP, "CLONE_NEWCGROUP"),
    (CLONE_NEWUTS, "CLONE_NEWUTS"),
    (CLONE_NEWIPC, "CLONE_NEWIPC"),
    (CLONE_NEWUSER, "CLONE_NEWUSER"),
    (CLONE_NEWPID, "CLONE_NEWPID"),
    (CLONE_NEWNET, "CLONE_NEWNET"),
    (CLONE_IO, "CLONE_IO"),
    (CLONE_CLEAR_SIGHAND, "CLONE_CLEAR_SIGHAND"),
    (CLONE_INTO_CGROUP, "CLONE_INTO_CGROUP"),
];

/// Flags of `unshare`/`setns` (no signal byte; `CLONE_NEWTIME` is meaningful there).
pub const UNSHARE_FLAG_NAMES: Names = &[
    (CLONE_NEWTIME, "CLONE_NEWTIME"),
    (CLONE_VM, "CLONE_VM"),
    (CLONE_FS, "CLONE_FS"),
    (CLONE_FILES, "CLONE_FILES"),
    (CLONE_SIGHAND, "CLONE_SIGHAND"),
    (CLONE_THREAD, "CLONE_THREAD"),
    (CLONE_NEWNS, "CLONE_NEWNS"),
    (CLONE_SYSVSEM, "CLONE_SYSVSEM"),
    (CLONE_NEWCGROUP, "CLONE_NEWCGROUP"),
    (CLONE_NEWUTS, "CLONE_NEWUTS"),
    (CLONE_NEWIPC, "CLONE_NEWIPC"),
    (CLONE_NEWUSER, "CLONE_NEWUSER"),
    (CLONE_NEWPID, "CLONE_NEWPID"),
    (CLONE_NEWNET, "CLONE_NEWNET"),
];

/// `clone`'s first argument as strace prints it: `CLONE_VM|...|SIGCHLD`, or just the
/// signal (`SIGCHLD`) when no flag is set.
pub fn format_clone_flags(flags: u64) -> String {
    let sig = (flags & CSIGNAL) as u32;
    let rest = flags & !CSIGNAL;
    let mut s = String::new();
    if rest != 0 {
        flags::write_flags(&mut s, rest, CLONE_FLAG_NAMES);
        if sig != 0 {
            s.push('|');
            crate::signal::write_signal(&mut s, sig as i64);
        }
    } else {
        crate::signal::write_signal(&mut s, sig as i64);
    }
    s
}

pub const SCHED_NORMAL: u32 = 0;
pub const SCHED_OTHER: u32 = SCHED_NORMAL;
pub const SCHED_FIFO: u32 = 1;
pub const SCHED_RR: u32 = 2;
pub const SCHED_BATCH: u32 = 3;
pub const SCHED_IDLE: u32 = 5;
pub const SCHED_DEADLINE: u32 = 6;
pub const SCHED_EXT: u32 = 7;
pub const SCHED_RESET_ON_FORK: u32 = 0x4000_0000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_flags() {
        assert_eq!(
            format_clone_flags(CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | 17),
            "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"
        );
        assert_eq!(format_clone_flags(17), "SIGCHLD");
        assert_eq!(format_clone_flags(0), "0");
        assert_eq!(
            format_clone_flags(CLONE_VM | CLONE_VFORK | 17),
            "CLONE_VM|CLONE_VFORK|SIGCHLD"
        );
        assert_eq!(
            format_clone_flags(
                CLONE_VM
                    | CLONE_FS
                    | CLONE_FILES
                    | CLONE_SIGHAND
                    | CLONE_THREAD
                    | CLONE_SYSVSEM
                    | CLONE_SETTLS
                    | CLONE_PARENT_SETTID
                    | CLONE_CHILD_CLEARTID
            ),
            "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|\
             CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID"
        );
    }
}
