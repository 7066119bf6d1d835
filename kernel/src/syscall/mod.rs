//! The Linux system call table and its dispatchers. One line per call; handlers live in one
//! file per family and take the caller and the decoded arguments. `-errno` is produced in
//! exactly one place (`isounik_linux::errno::syscall_return`).
//!
//! Both ways in use this one table: the trap path (`dispatch`, ring 0) runs every entry;
//! the MPK gate (`gate_call`, ring 3 with the libOS rights) runs the `Gate` entries itself
//! and forwards the others to ring 0 through the privilege gate.

mod caller;
mod events;
mod fs;
mod futex;
mod info;
mod mem;
mod net;
mod process;
mod signal;
mod time;

pub use caller::Caller;
pub use futex::wake_address as futex_wake_address;
pub use info::RELEASE;

use core::sync::atomic::{AtomicBool, Ordering};

use isounik_abi::log::{MARK, STRACE};
use isounik_linux::errno::{syscall_return, Errno};
use isounik_linux::syscall::nr;

use crate::proc::Thread;

pub type SysResult = Result<u64, Errno>;

/// Where a call can run.
#[derive(Clone, Copy)]
enum Call {
    /// Needs the whole thread (registers, address space, blocking, devices): ring 0.
    Trap(fn(&mut Thread, Args) -> SysResult),
    /// Needs only what `Caller` offers (see its rules): ring 0 on the trap path, ring 3
    /// behind the MPK gate.
    Gate(fn(&Caller, Args) -> SysResult),
    /// The first handler is a `Gate` one for the cases it can serve with a `Caller` (a
    /// pipe's read, say) and answers `RING0_NEEDED` for the others before changing
    /// anything; then the second, a `Trap` one, runs them in ring 0. Both paths try the
    /// first handler first.
    Split(
        fn(&Caller, Args) -> SysResult,
        fn(&mut Thread, Args) -> SysResult,
    ),
}
use Call::{Gate, Split, Trap};

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

const CALLS: &[(u32, Call)] = &[
    // files and directories
    (nr::READ, Split(fs::sys_read_in_memory, fs::sys_read)),
    (nr::WRITE, Split(fs::sys_write_in_memory, fs::sys_write)),
    (nr::READV, Split(fs::sys_readv_in_memory, fs::sys_readv)),
    (nr::WRITEV, Split(fs::sys_writev_in_memory, fs::sys_writev)),
    (nr::PREAD64, Split(fs::sys_pread64_data, fs::sys_pread64)),
    (nr::PWRITE64, Split(fs::sys_pwrite64_data, fs::sys_pwrite64)),
    (nr::OPEN, Gate(fs::sys_open)),
    (nr::OPENAT, Gate(fs::sys_openat)),
    (nr::CREAT, Gate(fs::sys_creat)),
    (nr::CLOSE, Gate(fs::sys_close)),
    (nr::LSEEK, Gate(fs::sys_lseek)),
    (nr::STAT, Gate(fs::sys_stat)),
    (nr::FSTAT, Gate(fs::sys_fstat)),
    (nr::LSTAT, Gate(fs::sys_lstat)),
    (nr::NEWFSTATAT, Gate(fs::sys_newfstatat)),
    (nr::STATX, Gate(fs::sys_statx)),
    (nr::ACCESS, Gate(fs::sys_access)),
    (nr::FACCESSAT, Gate(fs::sys_faccessat)),
    (nr::FACCESSAT2, Gate(fs::sys_faccessat2)),
    (nr::GETDENTS64, Gate(fs::sys_getdents64)),
    (nr::READLINK, Gate(fs::sys_readlink)),
    (nr::READLINKAT, Gate(fs::sys_readlinkat)),
    (nr::MKDIR, Gate(fs::sys_mkdir)),
    (nr::MKDIRAT, Gate(fs::sys_mkdirat)),
    (nr::MKNOD, Gate(fs::sys_mknod)),
    (nr::MKNODAT, Gate(fs::sys_mknodat)),
    (nr::RMDIR, Gate(fs::sys_rmdir)),
    (nr::UNLINK, Gate(fs::sys_unlink)),
    (nr::UNLINKAT, Gate(fs::sys_unlinkat)),
    (nr::RENAME, Gate(fs::sys_rename)),
    (nr::RENAMEAT, Gate(fs::sys_renameat)),
    (nr::RENAMEAT2, Gate(fs::sys_renameat2)),
    (nr::SYMLINK, Gate(fs::sys_symlink)),
    (nr::SYMLINKAT, Gate(fs::sys_symlinkat)),
    (nr::LINK, Gate(fs::sys_link)),
    (nr::LINKAT, Gate(fs::sys_linkat)),
    (nr::CHMOD, Gate(fs::sys_chmod)),
    (nr::FCHMOD, Gate(fs::sys_fchmod)),
    (nr::FCHMODAT, Gate(fs::sys_fchmodat)),
    (nr::CHOWN, Gate(fs::sys_chown)),
    (nr::LCHOWN, Gate(fs::sys_lchown)),
    (nr::FCHOWN, Gate(fs::sys_fchown)),
    (nr::FCHOWNAT, Gate(fs::sys_fchownat)),
    (nr::UTIMENSAT, Gate(fs::sys_utimensat)),
    (nr::UTIMES, Gate(fs::sys_utimes)),
    (nr::UTIME, Gate(fs::sys_utime)),
    (nr::FUTIMESAT, Gate(fs::sys_futimesat)),
    (nr::TRUNCATE, Gate(fs::sys_truncate)),
    (nr::FTRUNCATE, Gate(fs::sys_ftruncate)),
    (nr::FALLOCATE, Gate(fs::sys_fallocate)),
    (nr::CHDIR, Gate(fs::sys_chdir)),
    (nr::FCHDIR, Gate(fs::sys_fchdir)),
    (nr::GETCWD, Gate(fs::sys_getcwd)),
    (nr::FCNTL, Gate(fs::sys_fcntl)),
    (nr::IOCTL, Split(fs::sys_ioctl_in_memory, fs::sys_ioctl)),
    (nr::DUP, Gate(fs::sys_dup)),
    (nr::DUP2, Gate(fs::sys_dup2)),
    (nr::DUP3, Gate(fs::sys_dup3)),
    (nr::POLL, Gate(fs::sys_poll)),
    (nr::PPOLL, Trap(fs::sys_ppoll)),
    (nr::SELECT, Gate(fs::sys_select)),
    (nr::PSELECT6, Trap(fs::sys_pselect6)),
    (
        nr::SENDFILE,
        Split(fs::sys_sendfile_in_memory, fs::sys_sendfile),
    ),
    (nr::FSYNC, Gate(fs::sys_fsync)),
    (nr::FDATASYNC, Gate(fs::sys_fsync)),
    (nr::SYNC, Gate(fs::sys_sync)),
    (nr::STATFS, Gate(fs::sys_statfs)),
    (nr::FSTATFS, Gate(fs::sys_fstatfs)),
    (nr::FADVISE64, Gate(fs::sys_fadvise64)),
    (nr::PIPE, Gate(fs::sys_pipe)),
    (nr::PIPE2, Gate(fs::sys_pipe2)),
    // event loops
    (nr::EPOLL_CREATE, Gate(events::sys_epoll_create)),
    (nr::EPOLL_CREATE1, Gate(events::sys_epoll_create1)),
    (nr::EPOLL_CTL, Gate(events::sys_epoll_ctl)),
    (nr::EPOLL_WAIT, Gate(events::sys_epoll_wait)),
    (
        nr::EPOLL_PWAIT,
        Split(events::sys_epoll_pwait_unmasked, events::sys_epoll_pwait),
    ),
    (
        nr::EPOLL_PWAIT2,
        Split(events::sys_epoll_pwait2_unmasked, events::sys_epoll_pwait2),
    ),
    (nr::EVENTFD, Gate(events::sys_eventfd)),
    (nr::EVENTFD2, Gate(events::sys_eventfd2)),
    (nr::TIMERFD_CREATE, Gate(events::sys_timerfd_create)),
    (nr::TIMERFD_SETTIME, Gate(events::sys_timerfd_settime)),
    (nr::TIMERFD_GETTIME, Gate(events::sys_timerfd_gettime)),
    // sockets
    (nr::SOCKET, Gate(net::sys_socket)),
    (nr::SOCKETPAIR, Gate(net::sys_socketpair)),
    (nr::BIND, Gate(net::sys_bind)),
    (nr::LISTEN, Gate(net::sys_listen)),
    (nr::ACCEPT, Gate(net::sys_accept)),
    (nr::ACCEPT4, Gate(net::sys_accept4)),
    (nr::CONNECT, Gate(net::sys_connect)),
    (nr::GETSOCKNAME, Gate(net::sys_getsockname)),
    (nr::GETPEERNAME, Gate(net::sys_getpeername)),
    (nr::SHUTDOWN, Gate(net::sys_shutdown)),
    (nr::SENDTO, Gate(net::sys_sendto)),
    (nr::RECVFROM, Gate(net::sys_recvfrom)),
    (nr::SENDMSG, Gate(net::sys_sendmsg)),
    (nr::RECVMSG, Gate(net::sys_recvmsg)),
    (nr::SETSOCKOPT, Gate(net::sys_setsockopt)),
    (nr::GETSOCKOPT, Gate(net::sys_getsockopt)),
    // memory
    (nr::BRK, Trap(mem::sys_brk)),
    (nr::MMAP, Trap(mem::sys_mmap)),
    (nr::MUNMAP, Trap(mem::sys_munmap)),
    (nr::MPROTECT, Trap(mem::sys_mprotect)),
    (nr::MREMAP, Trap(mem::sys_mremap)),
    (nr::MADVISE, Trap(mem::sys_madvise)),
    (nr::MSYNC, Trap(mem::sys_msync)),
    (nr::MLOCK, Trap(mem::sys_mlock)),
    (nr::MUNLOCK, Trap(mem::sys_mlock)),
    // process
    (nr::EXIT, Trap(process::sys_exit)),
    (nr::EXIT_GROUP, Trap(process::sys_exit_group)),
    (nr::ARCH_PRCTL, Trap(process::sys_arch_prctl)),
    (nr::SET_TID_ADDRESS, Gate(process::sys_set_tid_address)),
    (nr::SET_ROBUST_LIST, Gate(process::sys_set_robust_list)),
    (nr::GET_ROBUST_LIST, Gate(process::sys_get_robust_list)),
    (nr::PRLIMIT64, Gate(process::sys_prlimit64)),
    (nr::GETRLIMIT, Gate(process::sys_getrlimit)),
    (nr::SETRLIMIT, Gate(process::sys_setrlimit)),
    (nr::GETRUSAGE, Gate(process::sys_getrusage)),
    (nr::UMASK, Gate(process::sys_umask)),
    (nr::GETPID, Gate(process::sys_getpid)),
    (nr::GETTID, Gate(process::sys_gettid)),
    (nr::GETPPID, Gate(process::sys_getppid)),
    (nr::GETUID, Gate(process::sys_getuid)),
    (nr::GETEUID, Gate(process::sys_getuid)),
    (nr::GETGID, Gate(process::sys_getuid)),
    (nr::GETEGID, Gate(process::sys_getuid)),
    (nr::GETRESUID, Gate(process::sys_getresuid)),
    (nr::GETRESGID, Gate(process::sys_getresuid)),
    (nr::GETGROUPS, Gate(process::sys_getgroups)),
    (nr::SETUID, Gate(process::sys_setuid)),
    (nr::SETGID, Gate(process::sys_setuid)),
    (nr::GETPGRP, Gate(process::sys_getpgrp)),
    (nr::GETPGID, Gate(process::sys_getpgid)),
    (nr::GETSID, Gate(process::sys_getsid)),
    (nr::SETSID, Gate(process::sys_setsid)),
    (nr::SETPGID, Gate(process::sys_setpgid)),
    (nr::FORK, Trap(process::sys_fork)),
    (nr::VFORK, Trap(process::sys_vfork)),
    (nr::CLONE, Trap(process::sys_clone)),
    (nr::WAIT4, Trap(process::sys_wait4)),
    (nr::WAITID, Trap(process::sys_waitid)),
    (nr::SCHED_YIELD, Gate(process::sys_sched_yield)),
    (nr::SCHED_GETAFFINITY, Gate(process::sys_sched_getaffinity)),
    (nr::PRCTL, Gate(process::sys_prctl)),
    (nr::GETRANDOM, Gate(process::sys_getrandom)),
    (nr::RSEQ, Gate(process::sys_enosys_quiet)),
    (nr::FUTEX, Gate(futex::sys_futex)),
    (nr::EXECVE, Trap(process::sys_execve)),
    // signals (state only until delivery arrives)
    (nr::RT_SIGACTION, Gate(signal::sys_rt_sigaction)),
    (nr::RT_SIGPROCMASK, Gate(signal::sys_rt_sigprocmask)),
    (nr::SIGALTSTACK, Trap(signal::sys_sigaltstack)),
    (nr::KILL, Gate(signal::sys_kill)),
    (nr::TGKILL, Gate(signal::sys_tgkill)),
    (nr::TKILL, Gate(signal::sys_tkill)),
    (nr::RT_SIGRETURN, Trap(signal::sys_rt_sigreturn)),
    (nr::RT_SIGSUSPEND, Trap(signal::sys_rt_sigsuspend)),
    (nr::RT_SIGPENDING, Gate(signal::sys_rt_sigpending)),
    (nr::RT_SIGTIMEDWAIT, Trap(signal::sys_rt_sigtimedwait)),
    (nr::PAUSE, Trap(signal::sys_pause)),
    (nr::ALARM, Trap(signal::sys_alarm)),
    (nr::SETITIMER, Trap(signal::sys_setitimer)),
    (nr::GETITIMER, Trap(signal::sys_getitimer)),
    // time
    (nr::CLOCK_GETTIME, Gate(time::sys_clock_gettime)),
    (nr::CLOCK_GETRES, Gate(time::sys_clock_getres)),
    (nr::GETTIMEOFDAY, Gate(time::sys_gettimeofday)),
    (nr::TIME, Gate(time::sys_time)),
    (nr::NANOSLEEP, Gate(time::sys_nanosleep)),
    (nr::CLOCK_NANOSLEEP, Gate(time::sys_clock_nanosleep)),
    (nr::TIMES, Gate(time::sys_times)),
    // system information
    (nr::UNAME, Gate(info::sys_uname)),
    (nr::SYSINFO, Gate(info::sys_sysinfo)),
];

const TABLE_SIZE: usize = 512;

/// `CALLS` indexed by number, built by the compiler (no lookup, no initialisation).
static TABLE: [Option<Call>; TABLE_SIZE] = {
    let mut t: [Option<Call>; TABLE_SIZE] = [None; TABLE_SIZE];
    let mut i = 0;
    while i < CALLS.len() {
        let (nr, call) = CALLS[i];
        assert!(t[nr as usize].is_none(), "a system call is listed twice");
        t[nr as usize] = Some(call);
        i += 1;
    }
    t
};
static STRACE_ON: AtomicBool = AtomicBool::new(false);

pub fn init(strace: bool) {
    STRACE_ON.store(strace, Ordering::Relaxed);
}

/// Handles the system call the process just made (number in rax).
pub fn dispatch(p: &mut Thread) {
    use isounik_abi::gate::{PRIV_FINISH, PRIV_FORWARD, PRIV_SERVICES};
    let mut forwarded = false;
    // The privilege gate's requests: numbers no Linux call has (one test on the common path).
    if p.ctx.regs.rax >= PRIV_FORWARD {
        let request = p.ctx.regs.rax;
        if PRIV_SERVICES.contains(&request) {
            // A service for libOS code behind the gate, which goes on where it asked.
            let answer = crate::arch::x86_64::gate::serve(p, request);
            p.ctx.regs.rax = answer.unwrap_or_else(|e| syscall_return(Err(e)));
            return;
        }
        if request == PRIV_FINISH {
            // A call the MPK gate ran in ring 3, returned from here so that a signal or a
            // task switch comes first.
            if let Err(e) = crate::arch::x86_64::gate::finished_call(p) {
                p.ctx.regs.rax = syscall_return(Err(e));
            }
            return;
        }
        if request == PRIV_FORWARD {
            // The MPK gate forwards the application's call to ring 0.
            if let Err(e) = crate::arch::x86_64::gate::forwarded_call(p) {
                p.ctx.regs.rax = syscall_return(Err(e));
                return;
            }
            forwarded = true;
        }
    }
    let r = &p.ctx.regs;
    let number = r.rax;
    p.syscall_nr = number;
    p.restart = false;
    let args = Args([r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9]);
    let result = match lookup(number) {
        Some(Trap(h)) => h(p, args),
        Some(Gate(h)) => Caller::run_for(p, |caller| h(caller, args)),
        Some(Split(first, rest)) => match Caller::run_for(p, |caller| first(caller, args)) {
            Err(caller::RING0_NEEDED) => rest(p, args),
            result => result,
        },
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

fn lookup(number: u64) -> Option<Call> {
    TABLE.get(number as usize).copied().flatten()
}

/// The numbers of the calls the MPK gate can run itself.
pub fn gate_numbers() -> impl Iterator<Item = u64> {
    CALLS
        .iter()
        .filter(|(_, call)| matches!(call, Gate(_) | Split(..)))
        .map(|(nr, _)| *nr as u64)
}

/// Runs system call `number` behind the MPK gate, in ring 3: its Linux result (`-errno`
/// included), or `None` when ring 0 must run it (not a `Gate` entry, or the handler found
/// that it needs more than the gate offers, before changing anything).
pub fn gate_call(number: u64, caller: &Caller, args: Args) -> Option<u64> {
    match lookup(number)? {
        Gate(h) | Split(h, _) => match h(caller, args) {
            Err(caller::RING0_NEEDED) => None,
            result => Some(syscall_return(result)),
        },
        Trap(_) => None,
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
