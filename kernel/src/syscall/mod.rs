//! The Linux system call table and its dispatcher. One line per call; handlers live in one
//! file per family and take the process and the decoded arguments. `-errno` is produced in
//! exactly one place (`isounik_linux::errno::syscall_return`).

mod fs;
mod futex;
mod info;
mod mem;
mod process;
mod signal;
mod time;

pub use futex::wake_address as futex_wake_address;
pub use info::RELEASE;
pub use time::{clock_now, timespec_bytes, timeval_bytes};

use core::sync::atomic::{AtomicBool, Ordering};

use isounik_abi::log::{MARK, STRACE};
use isounik_linux::errno::{syscall_return, Errno};
use isounik_linux::syscall::nr;

use crate::proc::Thread;

pub type SysResult = Result<u64, Errno>;
type Handler = fn(&mut Thread, Args) -> SysResult;

/// The six argument registers (rdi, rsi, rdx, r10, r8, r9), decoded on demand.
#[derive(Clone, Copy, Debug)]
pub struct Args(pub [u64; 6]);

impl Args {
    pub fn raw(&self, i: usize) -> u64 {
        self.0[i]
    }
    /// A file descriptor: the low 32 bits as a signed int (as the kernel's `unsigned int fd`
    /// / `int fd`); negative ones are EBADF.
    pub fn fd(&self, i: usize) -> Result<usize, Errno> {
        let fd = self.0[i] as u32 as i32;
        if fd < 0 {
            Err(Errno::EBADF)
        } else {
            Ok(fd as usize)
        }
    }
    /// An `int` argument.
    pub fn int(&self, i: usize) -> i32 {
        self.0[i] as u32 as i32
    }
    pub fn uint(&self, i: usize) -> u32 {
        self.0[i] as u32
    }
    pub fn usize(&self, i: usize) -> usize {
        self.0[i] as usize
    }
    pub fn ptr(&self, i: usize) -> u64 {
        self.0[i]
    }
}

const CALLS: &[(u32, Handler)] = &[
    // files and directories
    (nr::READ, fs::sys_read),
    (nr::WRITE, fs::sys_write),
    (nr::READV, fs::sys_readv),
    (nr::WRITEV, fs::sys_writev),
    (nr::PREAD64, fs::sys_pread64),
    (nr::PWRITE64, fs::sys_pwrite64),
    (nr::OPEN, fs::sys_open),
    (nr::OPENAT, fs::sys_openat),
    (nr::CREAT, fs::sys_creat),
    (nr::CLOSE, fs::sys_close),
    (nr::LSEEK, fs::sys_lseek),
    (nr::STAT, fs::sys_stat),
    (nr::FSTAT, fs::sys_fstat),
    (nr::LSTAT, fs::sys_lstat),
    (nr::NEWFSTATAT, fs::sys_newfstatat),
    (nr::STATX, fs::sys_statx),
    (nr::ACCESS, fs::sys_access),
    (nr::FACCESSAT, fs::sys_faccessat),
    (nr::FACCESSAT2, fs::sys_faccessat2),
    (nr::GETDENTS64, fs::sys_getdents64),
    (nr::READLINK, fs::sys_readlink),
    (nr::READLINKAT, fs::sys_readlinkat),
    (nr::MKDIR, fs::sys_mkdir),
    (nr::MKDIRAT, fs::sys_mkdirat),
    (nr::MKNOD, fs::sys_mknod),
    (nr::MKNODAT, fs::sys_mknodat),
    (nr::RMDIR, fs::sys_rmdir),
    (nr::UNLINK, fs::sys_unlink),
    (nr::UNLINKAT, fs::sys_unlinkat),
    (nr::RENAME, fs::sys_rename),
    (nr::RENAMEAT, fs::sys_renameat),
    (nr::RENAMEAT2, fs::sys_renameat2),
    (nr::SYMLINK, fs::sys_symlink),
    (nr::SYMLINKAT, fs::sys_symlinkat),
    (nr::LINK, fs::sys_link),
    (nr::LINKAT, fs::sys_linkat),
    (nr::CHMOD, fs::sys_chmod),
    (nr::FCHMOD, fs::sys_fchmod),
    (nr::FCHMODAT, fs::sys_fchmodat),
    (nr::CHOWN, fs::sys_chown),
    (nr::LCHOWN, fs::sys_lchown),
    (nr::FCHOWN, fs::sys_fchown),
    (nr::FCHOWNAT, fs::sys_fchownat),
    (nr::UTIMENSAT, fs::sys_utimensat),
    (nr::UTIMES, fs::sys_utimes),
    (nr::UTIME, fs::sys_utime),
    (nr::FUTIMESAT, fs::sys_futimesat),
    (nr::TRUNCATE, fs::sys_truncate),
    (nr::FTRUNCATE, fs::sys_ftruncate),
    (nr::FALLOCATE, fs::sys_fallocate),
    (nr::CHDIR, fs::sys_chdir),
    (nr::FCHDIR, fs::sys_fchdir),
    (nr::GETCWD, fs::sys_getcwd),
    (nr::FCNTL, fs::sys_fcntl),
    (nr::IOCTL, fs::sys_ioctl),
    (nr::DUP, fs::sys_dup),
    (nr::DUP2, fs::sys_dup2),
    (nr::DUP3, fs::sys_dup3),
    (nr::POLL, fs::sys_poll),
    (nr::PPOLL, fs::sys_ppoll),
    (nr::SELECT, fs::sys_select),
    (nr::PSELECT6, fs::sys_pselect6),
    (nr::SENDFILE, fs::sys_sendfile),
    (nr::FSYNC, fs::sys_fsync),
    (nr::FDATASYNC, fs::sys_fsync),
    (nr::SYNC, fs::sys_sync),
    (nr::STATFS, fs::sys_statfs),
    (nr::FSTATFS, fs::sys_fstatfs),
    (nr::FADVISE64, fs::sys_fadvise64),
    (nr::PIPE, fs::sys_pipe),
    (nr::PIPE2, fs::sys_pipe2),
    // memory
    (nr::BRK, mem::sys_brk),
    (nr::MMAP, mem::sys_mmap),
    (nr::MUNMAP, mem::sys_munmap),
    (nr::MPROTECT, mem::sys_mprotect),
    (nr::MREMAP, mem::sys_mremap),
    (nr::MADVISE, mem::sys_madvise),
    (nr::MSYNC, mem::sys_msync),
    (nr::MLOCK, mem::sys_mlock),
    (nr::MUNLOCK, mem::sys_mlock),
    // process
    (nr::EXIT, process::sys_exit),
    (nr::EXIT_GROUP, process::sys_exit_group),
    (nr::ARCH_PRCTL, process::sys_arch_prctl),
    (nr::SET_TID_ADDRESS, process::sys_set_tid_address),
    (nr::SET_ROBUST_LIST, process::sys_set_robust_list),
    (nr::GET_ROBUST_LIST, process::sys_get_robust_list),
    (nr::PRLIMIT64, process::sys_prlimit64),
    (nr::GETRLIMIT, process::sys_getrlimit),
    (nr::SETRLIMIT, process::sys_setrlimit),
    (nr::GETRUSAGE, process::sys_getrusage),
    (nr::UMASK, process::sys_umask),
    (nr::GETPID, process::sys_getpid),
    (nr::GETTID, process::sys_gettid),
    (nr::GETPPID, process::sys_getppid),
    (nr::GETUID, process::sys_getuid),
    (nr::GETEUID, process::sys_getuid),
    (nr::GETGID, process::sys_getuid),
    (nr::GETEGID, process::sys_getuid),
    (nr::GETRESUID, process::sys_getresuid),
    (nr::GETRESGID, process::sys_getresuid),
    (nr::GETGROUPS, process::sys_getgroups),
    (nr::SETUID, process::sys_setuid),
    (nr::SETGID, process::sys_setuid),
    (nr::GETPGRP, process::sys_getpgrp),
    (nr::GETPGID, process::sys_getpgid),
    (nr::GETSID, process::sys_getsid),
    (nr::SETSID, process::sys_setsid),
    (nr::SETPGID, process::sys_setpgid),
    (nr::FORK, process::sys_fork),
    (nr::VFORK, process::sys_vfork),
    (nr::CLONE, process::sys_clone),
    (nr::WAIT4, process::sys_wait4),
    (nr::WAITID, process::sys_waitid),
    (nr::SCHED_YIELD, process::sys_sched_yield),
    (nr::SCHED_GETAFFINITY, process::sys_sched_getaffinity),
    (nr::PRCTL, process::sys_prctl),
    (nr::GETRANDOM, process::sys_getrandom),
    (nr::RSEQ, process::sys_enosys_quiet),
    (nr::FUTEX, futex::sys_futex),
    (nr::EXECVE, process::sys_execve),
    // signals (state only until delivery arrives)
    (nr::RT_SIGACTION, signal::sys_rt_sigaction),
    (nr::RT_SIGPROCMASK, signal::sys_rt_sigprocmask),
    (nr::SIGALTSTACK, signal::sys_sigaltstack),
    (nr::KILL, signal::sys_kill),
    (nr::TGKILL, signal::sys_tgkill),
    (nr::TKILL, signal::sys_tkill),
    (nr::RT_SIGRETURN, signal::sys_rt_sigreturn),
    (nr::RT_SIGSUSPEND, signal::sys_rt_sigsuspend),
    (nr::RT_SIGPENDING, signal::sys_rt_sigpending),
    (nr::RT_SIGTIMEDWAIT, signal::sys_rt_sigtimedwait),
    (nr::PAUSE, signal::sys_pause),
    (nr::ALARM, signal::sys_alarm),
    (nr::SETITIMER, signal::sys_setitimer),
    (nr::GETITIMER, signal::sys_getitimer),
    // time
    (nr::CLOCK_GETTIME, time::sys_clock_gettime),
    (nr::CLOCK_GETRES, time::sys_clock_getres),
    (nr::GETTIMEOFDAY, time::sys_gettimeofday),
    (nr::TIME, time::sys_time),
    (nr::NANOSLEEP, time::sys_nanosleep),
    (nr::CLOCK_NANOSLEEP, time::sys_clock_nanosleep),
    (nr::TIMES, time::sys_times),
    // system information
    (nr::UNAME, info::sys_uname),
    (nr::SYSINFO, info::sys_sysinfo),
];

const TABLE_SIZE: usize = 512;

static TABLE: spin::Once<[Option<Handler>; TABLE_SIZE]> = spin::Once::new();
static STRACE_ON: AtomicBool = AtomicBool::new(false);

pub fn init(strace: bool) {
    TABLE.call_once(|| {
        let mut t: [Option<Handler>; TABLE_SIZE] = [None; TABLE_SIZE];
        for (nr, handler) in CALLS {
            debug_assert!(t[*nr as usize].is_none(), "system call {nr} listed twice");
            t[*nr as usize] = Some(*handler);
        }
        t
    });
    STRACE_ON.store(strace, Ordering::Relaxed);
}

/// Handles the system call the process just made (number in rax).
pub fn dispatch(p: &mut Thread) {
    let forwarded = p.ctx.regs.rax == isounik_abi::gate::PRIV_FORWARD;
    if forwarded {
        // The privilege gate: the MPK gate forwards the application's call to ring 0.
        if let Err(e) = crate::arch::x86_64::gate::forwarded_call(p) {
            p.ctx.regs.rax = syscall_return(Err(e));
            return;
        }
    }
    let r = &p.ctx.regs;
    let number = r.rax;
    p.syscall_nr = number;
    p.restart = false;
    let args = Args([r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9]);
    let handler = TABLE
        .get()
        .and_then(|t| t.get(number as usize).copied().flatten());
    let result = match handler {
        Some(h) => h(p, args),
        None => Err(Errno::ENOSYS),
    };
    let ret = syscall_return(result);
    p.ctx.regs.rax = ret;
    // Gate mode: the site that trapped goes through the gate from now on.
    if crate::arch::x86_64::gate::enabled()
        && !forwarded
        && p.exit.is_none()
        && number != nr::EXECVE as u64
        && number != nr::RT_SIGRETURN as u64
    {
        let site = p.ctx.regs.rip.wrapping_sub(2);
        p.mm().rewrite_syscall_site(site);
    }
    if STRACE_ON.load(Ordering::Relaxed) {
        trace(p, number, args, ret);
    }
}

fn trace(p: &mut Thread, number: u64, args: Args, ret: u64) {
    let mm = p.mm.clone();
    let read = |addr: u64, max: usize| -> Option<alloc::vec::Vec<u8>> {
        let mut buf = alloc::vec![0u8; max];
        // Read what is readable, up to `max`, page by page.
        let mut got = 0;
        let mut mm = mm.lock();
        while got < max {
            let chunk = ((4096 - (addr + got as u64) % 4096) as usize).min(max - got);
            if mm
                .read(addr + got as u64, &mut buf[got..got + chunk])
                .is_err()
            {
                break;
            }
            got += chunk;
        }
        (got > 0).then(|| {
            buf.truncate(got);
            buf
        })
    };
    let line = isounik_linux::strace::format_call(number as u32, args.0, &read, ret);
    kprintln!("{MARK}{STRACE} {} {line}", p.tid);
}
