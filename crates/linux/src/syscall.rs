//! The x86-64 system call table (arch/x86/entry/syscalls/syscall_64.tbl, "common" and
//! "64" entries; the x32 numbers 512.. are not x86-64 calls).
//!
//! [`nr`] holds one constant per call and is the only place the numbers are written;
//! [`TABLE`] is indexed by number (gaps are `None`) and describes how strace shows each
//! argument ([`Arg`]) and the result ([`Ret`]).

/// How an argument is shown (and, for buffers, where its length is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// C `int`: signed decimal of the low 32 bits.
    Int,
    /// C `unsigned int`: decimal of the low 32 bits.
    UInt,
    /// C `long`/`off_t`/`loff_t`: signed decimal.
    Long,
    /// `size_t`: unsigned decimal.
    Size,
    /// Hexadecimal (`0` or `0x...`): flags nobody decodes, opaque values.
    Hex,
    /// A file descriptor (decimal).
    Fd,
    /// A directory descriptor of the `*at` calls: `AT_FDCWD` or decimal.
    DirFd,
    /// A user pointer: `NULL` or `0x...`.
    Ptr,
    /// A NUL-terminated string in user memory (a path, a name): `"/etc/passwd"`.
    Path,
    /// An input buffer whose length is argument `len_arg` (write-like): up to 32 bytes.
    Str { len_arg: usize },
    /// An output buffer (read-like): shown after the call with the result as its length
    /// (bounded by argument `len_arg`), or as a pointer when the call failed.
    OutStr { len_arg: usize },
    /// Like [`Arg::OutStr`] with every byte hex-escaped (`getrandom`).
    OutHexStr { len_arg: usize },
    /// An output NUL-terminated string (`getcwd`).
    OutPath,
    /// `execve`'s `argv`: `["ls", "-l"]`.
    Argv,
    /// `execve`'s `envp`: `0x7ffc... /* 12 vars */`.
    Envp,
    /// `open` flags: `O_RDONLY|O_CLOEXEC`.
    OpenFlags,
    /// The mode of `open`/`openat`: shown (octal) only when the flags argument has
    /// `O_CREAT` or `O_TMPFILE`.
    OpenMode,
    /// A permission mode in octal: `0644`.
    Mode,
    /// A mode with file type (`mknod`): `S_IFCHR|0666`.
    FileMode,
    /// `access` mode: `F_OK`, `R_OK|X_OK`.
    AccessMode,
    /// `AT_*` flags.
    AtFlags,
    /// `faccessat2` flags (`AT_EACCESS`...).
    AccessAtFlags,
    /// `statx` flags: `AT_STATX_SYNC_AS_STAT|AT_EMPTY_PATH`.
    StatxFlags,
    /// `statx` mask: `STATX_BASIC_STATS|STATX_BTIME`.
    StatxMask,
    /// `renameat2` flags.
    RenameFlags,
    /// `PROT_*`.
    MmapProt,
    /// `MAP_*`.
    MmapFlags,
    /// `MREMAP_*`.
    MremapFlags,
    /// `MADV_*`.
    MadviseAdvice,
    /// `MS_*`.
    MsyncFlags,
    /// `MFD_*`.
    MemfdFlags,
    /// `CLONE_*` flags without a signal byte (`unshare`, `setns`).
    CloneFlags,
    /// A signal number: `SIGINT`.
    Signal,
    /// `SIG_BLOCK`, `SIG_UNBLOCK`, `SIG_SETMASK`.
    SigHow,
    /// Pointer to an input signal set: `[INT TERM]`, `~[KILL STOP]`.
    Sigset,
    /// Pointer to an output signal set (shown after a successful call).
    OutSigset,
    /// Pointer to an input `struct sigaction`.
    Sigaction,
    /// Pointer to an output `struct sigaction`.
    OutSigaction,
    /// `SEEK_SET`...
    Whence,
    /// `CLOCK_MONOTONIC`...
    ClockId,
    /// `TIMER_ABSTIME` or `0`.
    TimerFlags,
    /// `ITIMER_REAL`...
    ItimerWhich,
    /// Pointer to an input `struct timespec`: `{tv_sec=1, tv_nsec=0}`.
    Timespec,
    /// Pointer to an output `struct timespec`.
    OutTimespec,
    /// Pointer to an output `struct timeval`.
    OutTimeval,
    /// An `ioctl` request: `TCGETS`.
    IoctlCmd,
    /// An `fcntl` command: `F_GETFL`.
    FcntlCmd,
    /// An `arch_prctl` code: `ARCH_SET_FS`.
    ArchPrctlCode,
    /// A `futex` operation: `FUTEX_WAIT_PRIVATE`.
    FutexOp,
    /// A `prctl` option: `PR_SET_NAME`.
    PrctlOption,
    /// `wait4`/`waitid` options: `WNOHANG|__WALL`.
    WaitOptions,
    /// Pointer to an output wait status: `[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]`.
    OutWaitStatus,
    /// `waitid` id type: `P_PID`.
    IdType,
    /// Pointer to an output `int[2]` (`pipe`, `socketpair`): `[3, 4]`.
    PipeFds,
    /// Flags of `pipe2`/`dup3`: `O_CLOEXEC|O_NONBLOCK`.
    PipeFlags,
    /// An input iovec array of argument `count_arg` entries (`writev`).
    Iovec { count_arg: usize },
    /// An output iovec array (`readv`): data shown up to the result.
    OutIovec { count_arg: usize },
    /// A `pollfd` array of argument `count_arg` entries: `[{fd=0, events=POLLIN}]`.
    Pollfds { count_arg: usize },
    /// `AF_*`.
    SockFamily,
    /// `SOCK_*` type and flags.
    SockType,
    /// `SOCK_CLOEXEC|SOCK_NONBLOCK` (`accept4`).
    SockFlags,
    /// Pointer to an input socket address of argument `len_arg` bytes.
    SockAddr { len_arg: usize },
    /// `MSG_*`.
    MsgFlags,
    /// `SHUT_RD`...
    ShutdownHow,
    /// `GRND_*`.
    GrndFlags,
    /// `RLIMIT_*`.
    RlimitResource,
    /// `RUSAGE_SELF`...
    RusageWho,
    /// `LOCK_SH|LOCK_NB`...
    FlockOp,
    /// `EPOLL_CTL_ADD`...
    EpollCtlOp,
    /// `EPOLL_CLOEXEC`.
    EpollFlags,
    /// Pointer to an output `struct stat`: `{st_mode=S_IFREG|0644, st_size=3, ...}`.
    OutStat,
    /// Pointer to an output `struct new_utsname`: `{sysname="Linux", nodename="x", ...}`.
    OutUtsname,
    /// Not shown (e.g. the high half of `preadv`'s split offset).
    Skip,
}

/// How the result is shown (errors are always `-1 ENAME (text)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ret {
    /// Signed decimal.
    Int,
    /// Hexadecimal address (`mmap`, `brk`, `mremap`, `shmat`).
    Addr,
    /// Octal (`umask`).
    Octal,
    /// The call does not return (`exit`, `exit_group`): `= ?`.
    NoReturn,
}

/// One system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyscallInfo {
    pub nr: u32,
    pub name: &'static str,
    /// The arguments as strace lists them (register order: rdi, rsi, rdx, r10, r8, r9).
    pub args: &'static [Arg],
    pub ret: Ret,
}

macro_rules! ret_kind {
    () => {
        Ret::Int
    };
    ($r:ident) => {
        Ret::$r
    };
}

macro_rules! syscalls {
    ($($konst:ident = $nr:literal $name:ident ($($arg:expr),* $(,)?) $(-> $ret:ident)?;)*) => {
        /// System call numbers, one constant per call (`nr::READ == 0`). These are the only
        /// copy of the numbers: the kernel's dispatch uses them.
        pub mod nr {
            $(pub const $konst: u32 = $nr;)*
        }

        /// Every call, in number order.
        const LIST: &[SyscallInfo] = &[
            $(SyscallInfo {
                nr: nr::$konst,
                name: stringify!($name),
                args: &[$($arg),*],
                ret: ret_kind!($($ret)?),
            },)*
        ];
    };
}

use Arg::*;

syscalls! {
    READ = 0 read(Fd, OutStr { len_arg: 2 }, Size);
    WRITE = 1 write(Fd, Str { len_arg: 2 }, Size);
    OPEN = 2 open(Path, OpenFlags, OpenMode);
    CLOSE = 3 close(Fd);
    STAT = 4 stat(Path, OutStat);
    FSTAT = 5 fstat(Fd, OutStat);
    LSTAT = 6 lstat(Path, OutStat);
    POLL = 7 poll(Pollfds { count_arg: 1 }, UInt, Int);
    LSEEK = 8 lseek(Fd, Long, Whence);
    MMAP = 9 mmap(Ptr, Size, MmapProt, MmapFlags, Fd, Hex) -> Addr;
    MPROTECT = 10 mprotect(Ptr, Size, MmapProt);
    MUNMAP = 11 munmap(Ptr, Size);
    BRK = 12 brk(Ptr) -> Addr;
    RT_SIGACTION = 13 rt_sigaction(Signal, Sigaction, OutSigaction, Size);
    RT_SIGPROCMASK = 14 rt_sigprocmask(SigHow, Sigset, OutSigset, Size);
    RT_SIGRETURN = 15 rt_sigreturn();
    IOCTL = 16 ioctl(Fd, IoctlCmd, Hex);
    PREAD64 = 17 pread64(Fd, OutStr { len_arg: 2 }, Size, Long);
    PWRITE64 = 18 pwrite64(Fd, Str { len_arg: 2 }, Size, Long);
    READV = 19 readv(Fd, OutIovec { count_arg: 2 }, Int);
    WRITEV = 20 writev(Fd, Iovec { count_arg: 2 }, Int);
    ACCESS = 21 access(Path, AccessMode);
    PIPE = 22 pipe(PipeFds);
    SELECT = 23 select(Int, Ptr, Ptr, Ptr, Ptr);
    SCHED_YIELD = 24 sched_yield();
    MREMAP = 25 mremap(Ptr, Size, Size, MremapFlags, Ptr) -> Addr;
    MSYNC = 26 msync(Ptr, Size, MsyncFlags);
    MINCORE = 27 mincore(Ptr, Size, Ptr);
    MADVISE = 28 madvise(Ptr, Size, MadviseAdvice);
    SHMGET = 29 shmget(Hex, Size, Hex);
    SHMAT = 30 shmat(Int, Ptr, Hex) -> Addr;
    SHMCTL = 31 shmctl(Int, Int, Ptr);
    DUP = 32 dup(Fd);
    DUP2 = 33 dup2(Fd, Fd);
    PAUSE = 34 pause();
    NANOSLEEP = 35 nanosleep(Timespec, Ptr);
    GETITIMER = 36 getitimer(ItimerWhich, Ptr);
    ALARM = 37 alarm(UInt);
    SETITIMER = 38 setitimer(ItimerWhich, Ptr, Ptr);
    GETPID = 39 getpid();
    SENDFILE = 40 sendfile(Fd, Fd, Ptr, Size);
    SOCKET = 41 socket(SockFamily, SockType, Int);
    CONNECT = 42 connect(Fd, SockAddr { len_arg: 2 }, UInt);
    ACCEPT = 43 accept(Fd, Ptr, Ptr);
    SENDTO = 44 sendto(Fd, Str { len_arg: 2 }, Size, MsgFlags, SockAddr { len_arg: 5 }, UInt);
    RECVFROM = 45 recvfrom(Fd, OutStr { len_arg: 2 }, Size, MsgFlags, Ptr, Ptr);
    SENDMSG = 46 sendmsg(Fd, Ptr, MsgFlags);
    RECVMSG = 47 recvmsg(Fd, Ptr, MsgFlags);
    SHUTDOWN = 48 shutdown(Fd, ShutdownHow);
    BIND = 49 bind(Fd, SockAddr { len_arg: 2 }, UInt);
    LISTEN = 50 listen(Fd, Int);
    GETSOCKNAME = 51 getsockname(Fd, Ptr, Ptr);
    GETPEERNAME = 52 getpeername(Fd, Ptr, Ptr);
    SOCKETPAIR = 53 socketpair(SockFamily, SockType, Int, PipeFds);
    SETSOCKOPT = 54 setsockopt(Fd, Int, Int, Ptr, UInt);
    GETSOCKOPT = 55 getsockopt(Fd, Int, Int, Ptr, Ptr);
    CLONE = 56 clone(Hex, Ptr, Ptr, Ptr, Hex);
    FORK = 57 fork();
    VFORK = 58 vfork();
    EXECVE = 59 execve(Path, Argv, Envp);
    EXIT = 60 exit(Int) -> NoReturn;
    WAIT4 = 61 wait4(Int, OutWaitStatus, WaitOptions, Ptr);
    KILL = 62 kill(Int, Signal);
    UNAME = 63 uname(OutUtsname);
    SEMGET = 64 semget(Hex, Int, Hex);
    SEMOP = 65 semop(Int, Ptr, Size);
    SEMCTL = 66 semctl(Int, Int, Int, Hex);
    SHMDT = 67 shmdt(Ptr);
    MSGGET = 68 msgget(Hex, Hex);
    MSGSND = 69 msgsnd(Int, Ptr, Size, Hex);
    MSGRCV = 70 msgrcv(Int, Ptr, Size, Long, Hex);
    MSGCTL = 71 msgctl(Int, Int, Ptr);
    FCNTL = 72 fcntl(Fd, FcntlCmd, Hex);
    FLOCK = 73 flock(Fd, FlockOp);
    FSYNC = 74 fsync(Fd);
    FDATASYNC = 75 fdatasync(Fd);
    TRUNCATE = 76 truncate(Path, Long);
    FTRUNCATE = 77 ftruncate(Fd, Long);
    GETDENTS = 78 getdents(Fd, Ptr, UInt);
    GETCWD = 79 getcwd(OutPath, Size);
    CHDIR = 80 chdir(Path);
    FCHDIR = 81 fchdir(Fd);
    RENAME = 82 rename(Path, Path);
    MKDIR = 83 mkdir(Path, Mode);
    RMDIR = 84 rmdir(Path);
    CREAT = 85 creat(Path, Mode);
    LINK = 86 link(Path, Path);
    UNLINK = 87 unlink(Path);
    SYMLINK = 88 symlink(Path, Path);
    READLINK = 89 readlink(Path, OutStr { len_arg: 2 }, Size);
    CHMOD = 90 chmod(Path, Mode);
    FCHMOD = 91 fchmod(Fd, Mode);
    CHOWN = 92 chown(Path, Int, Int);
    FCHOWN = 93 fchown(Fd, Int, Int);
    LCHOWN = 94 lchown(Path, Int, Int);
    UMASK = 95 umask(Mode) -> Octal;
    GETTIMEOFDAY = 96 gettimeofday(OutTimeval, Ptr);
    GETRLIMIT = 97 getrlimit(RlimitResource, Ptr);
    GETRUSAGE = 98 getrusage(RusageWho, Ptr);
    SYSINFO = 99 sysinfo(Ptr);
    TIMES = 100 times(Ptr);
    PTRACE = 101 ptrace(Hex, Int, Ptr, Ptr);
    GETUID = 102 getuid();
    SYSLOG = 103 syslog(Int, Ptr, Int);
    GETGID = 104 getgid();
    SETUID = 105 setuid(UInt);
    SETGID = 106 setgid(UInt);
    GETEUID = 107 geteuid();
    GETEGID = 108 getegid();
    SETPGID = 109 setpgid(Int, Int);
    GETPPID = 110 getppid();
    GETPGRP = 111 getpgrp();
    SETSID = 112 setsid();
    SETREUID = 113 setreuid(Int, Int);
    SETREGID = 114 setregid(Int, Int);
    GETGROUPS = 115 getgroups(Int, Ptr);
    SETGROUPS = 116 setgroups(Int, Ptr);
    SETRESUID = 117 setresuid(Int, Int, Int);
    GETRESUID = 118 getresuid(Ptr, Ptr, Ptr);
    SETRESGID = 119 setresgid(Int, Int, Int);
    GETRESGID = 120 getresgid(Ptr, Ptr, Ptr);
    GETPGID = 121 getpgid(Int);
    SETFSUID = 122 setfsuid(UInt);
    SETFSGID = 123 setfsgid(UInt);
    GETSID = 124 getsid(Int);
    CAPGET = 125 capget(Ptr, Ptr);
    CAPSET = 126 capset(Ptr, Ptr);
    RT_SIGPENDING = 127 rt_sigpending(OutSigset, Size);
    RT_SIGTIMEDWAIT = 128 rt_sigtimedwait(Sigset, Ptr, Timespec, Size);
    RT_SIGQUEUEINFO = 129 rt_sigqueueinfo(Int, Signal, Ptr);
    RT_SIGSUSPEND = 130 rt_sigsuspend(Sigset, Size);
    SIGALTSTACK = 131 sigaltstack(Ptr, Ptr);
    UTIME = 132 utime(Path, Ptr);
    MKNOD = 133 mknod(Path, FileMode, Hex);
    USELIB = 134 uselib(Path);
    PERSONALITY = 135 personality(Hex);
    USTAT = 136 ustat(Hex, Ptr);
    STATFS = 137 statfs(Path, Ptr);
    FSTATFS = 138 fstatfs(Fd, Ptr);
    SYSFS = 139 sysfs(Int, Hex, Hex);
    GETPRIORITY = 140 getpriority(Int, Int);
    SETPRIORITY = 141 setpriority(Int, Int, Int);
    SCHED_SETPARAM = 142 sched_setparam(Int, Ptr);
    SCHED_GETPARAM = 143 sched_getparam(Int, Ptr);
    SCHED_SETSCHEDULER = 144 sched_setscheduler(Int, Int, Ptr);
    SCHED_GETSCHEDULER = 145 sched_getscheduler(Int);
    SCHED_GET_PRIORITY_MAX = 146 sched_get_priority_max(Int);
    SCHED_GET_PRIORITY_MIN = 147 sched_get_priority_min(Int);
    SCHED_RR_GET_INTERVAL = 148 sched_rr_get_interval(Int, Ptr);
    MLOCK = 149 mlock(Ptr, Size);
    MUNLOCK = 150 munlock(Ptr, Size);
    MLOCKALL = 151 mlockall(Hex);
    MUNLOCKALL = 152 munlockall();
    VHANGUP = 153 vhangup();
    MODIFY_LDT = 154 modify_ldt(Int, Ptr, Size);
    PIVOT_ROOT = 155 pivot_root(Path, Path);
    _SYSCTL = 156 _sysctl(Ptr);
    PRCTL = 157 prctl(PrctlOption, Hex, Hex, Hex, Hex);
    ARCH_PRCTL = 158 arch_prctl(ArchPrctlCode, Hex);
    ADJTIMEX = 159 adjtimex(Ptr);
    SETRLIMIT = 160 setrlimit(RlimitResource, Ptr);
    CHROOT = 161 chroot(Path);
    SYNC = 162 sync();
    ACCT = 163 acct(Path);
    SETTIMEOFDAY = 164 settimeofday(Ptr, Ptr);
    MOUNT = 165 mount(Path, Path, Path, Hex, Ptr);
    UMOUNT2 = 166 umount2(Path, Hex);
    SWAPON = 167 swapon(Path, Hex);
    SWAPOFF = 168 swapoff(Path);
    REBOOT = 169 reboot(Hex, Hex, Hex, Ptr);
    SETHOSTNAME = 170 sethostname(Str { len_arg: 1 }, Size);
    SETDOMAINNAME = 171 setdomainname(Str { len_arg: 1 }, Size);
    IOPL = 172 iopl(Int);
    IOPERM = 173 ioperm(Hex, Hex, Int);
    CREATE_MODULE = 174 create_module(Hex, Hex);
    INIT_MODULE = 175 init_module(Ptr, Size, Path);
    DELETE_MODULE = 176 delete_module(Path, Hex);
    GET_KERNEL_SYMS = 177 get_kernel_syms(Hex);
    QUERY_MODULE = 178 query_module(Hex, Hex, Hex, Hex, Hex);
    QUOTACTL = 179 quotactl(Hex, Path, Int, Ptr);
    NFSSERVCTL = 180 nfsservctl(Hex, Hex, Hex);
    GETPMSG = 181 getpmsg(Hex, Hex, Hex, Hex, Hex);
    PUTPMSG = 182 putpmsg(Hex, Hex, Hex, Hex, Hex);
    AFS_SYSCALL = 183 afs_syscall(Hex, Hex, Hex, Hex, Hex);
    TUXCALL = 184 tuxcall(Hex, Hex, Hex);
    SECURITY = 185 security(Hex, Hex, Hex);
    GETTID = 186 gettid();
    READAHEAD = 187 readahead(Fd, Long, Size);
    SETXATTR = 188 setxattr(Path, Path, Str { len_arg: 3 }, Size, Hex);
    LSETXATTR = 189 lsetxattr(Path, Path, Str { len_arg: 3 }, Size, Hex);
    FSETXATTR = 190 fsetxattr(Fd, Path, Str { len_arg: 3 }, Size, Hex);
    GETXATTR = 191 getxattr(Path, Path, OutStr { len_arg: 3 }, Size);
    LGETXATTR = 192 lgetxattr(Path, Path, OutStr { len_arg: 3 }, Size);
    FGETXATTR = 193 fgetxattr(Fd, Path, OutStr { len_arg: 3 }, Size);
    LISTXATTR = 194 listxattr(Path, OutStr { len_arg: 2 }, Size);
    LLISTXATTR = 195 llistxattr(Path, OutStr { len_arg: 2 }, Size);
    FLISTXATTR = 196 flistxattr(Fd, OutStr { len_arg: 2 }, Size);
    REMOVEXATTR = 197 removexattr(Path, Path);
    LREMOVEXATTR = 198 lremovexattr(Path, Path);
    FREMOVEXATTR = 199 fremovexattr(Fd, Path);
    TKILL = 200 tkill(Int, Signal);
    TIME = 201 time(Ptr);
    FUTEX = 202 futex(Ptr, FutexOp, UInt, Timespec, Ptr, UInt);
    SCHED_SETAFFINITY = 203 sched_setaffinity(Int, Size, Ptr);
    SCHED_GETAFFINITY = 204 sched_getaffinity(Int, Size, Ptr);
    SET_THREAD_AREA = 205 set_thread_area(Ptr);
    IO_SETUP = 206 io_setup(UInt, Ptr);
    IO_DESTROY = 207 io_destroy(Hex);
    IO_GETEVENTS = 208 io_getevents(Hex, Long, Long, Ptr, Timespec);
    IO_SUBMIT = 209 io_submit(Hex, Long, Ptr);
    IO_CANCEL = 210 io_cancel(Hex, Ptr, Ptr);
    GET_THREAD_AREA = 211 get_thread_area(Ptr);
    LOOKUP_DCOOKIE = 212 lookup_dcookie(Hex, Ptr, Size);
    EPOLL_CREATE = 213 epoll_create(Int);
    EPOLL_CTL_OLD = 214 epoll_ctl_old(Hex, Hex, Hex, Hex);
    EPOLL_WAIT_OLD = 215 epoll_wait_old(Hex, Hex, Hex, Hex);
    REMAP_FILE_PAGES = 216 remap_file_pages(Ptr, Size, MmapProt, Size, MmapFlags);
    GETDENTS64 = 217 getdents64(Fd, Ptr, UInt);
    SET_TID_ADDRESS = 218 set_tid_address(Ptr);
    RESTART_SYSCALL = 219 restart_syscall();
    SEMTIMEDOP = 220 semtimedop(Int, Ptr, Size, Timespec);
    FADVISE64 = 221 fadvise64(Fd, Long, Long, Int);
    TIMER_CREATE = 222 timer_create(ClockId, Ptr, Ptr);
    TIMER_SETTIME = 223 timer_settime(Int, TimerFlags, Ptr, Ptr);
    TIMER_GETTIME = 224 timer_gettime(Int, Ptr);
    TIMER_GETOVERRUN = 225 timer_getoverrun(Int);
    TIMER_DELETE = 226 timer_delete(Int);
    CLOCK_SETTIME = 227 clock_settime(ClockId, Timespec);
    CLOCK_GETTIME = 228 clock_gettime(ClockId, OutTimespec);
    CLOCK_GETRES = 229 clock_getres(ClockId, OutTimespec);
    CLOCK_NANOSLEEP = 230 clock_nanosleep(ClockId, TimerFlags, Timespec, Ptr);
    EXIT_GROUP = 231 exit_group(Int) -> NoReturn;
    EPOLL_WAIT = 232 epoll_wait(Fd, Ptr, Int, Int);
    EPOLL_CTL = 233 epoll_ctl(Fd, EpollCtlOp, Fd, Ptr);
    TGKILL = 234 tgkill(Int, Int, Signal);
    UTIMES = 235 utimes(Path, Ptr);
    VSERVER = 236 vserver(Hex, Hex, Hex, Hex, Hex);
    MBIND = 237 mbind(Ptr, Size, Int, Ptr, Size, Hex);
    SET_MEMPOLICY = 238 set_mempolicy(Int, Ptr, Size);
    GET_MEMPOLICY = 239 get_mempolicy(Ptr, Ptr, Size, Ptr, Hex);
    MQ_OPEN = 240 mq_open(Path, OpenFlags, OpenMode, Ptr);
    MQ_UNLINK = 241 mq_unlink(Path);
    MQ_TIMEDSEND = 242 mq_timedsend(Fd, Str { len_arg: 2 }, Size, UInt, Timespec);
    MQ_TIMEDRECEIVE = 243 mq_timedreceive(Fd, OutStr { len_arg: 2 }, Size, Ptr, Timespec);
    MQ_NOTIFY = 244 mq_notify(Fd, Ptr);
    MQ_GETSETATTR = 245 mq_getsetattr(Fd, Ptr, Ptr);
    KEXEC_LOAD = 246 kexec_load(Hex, Size, Ptr, Hex);
    WAITID = 247 waitid(IdType, Int, Ptr, WaitOptions, Ptr);
    ADD_KEY = 248 add_key(Path, Path, Ptr, Size, Int);
    REQUEST_KEY = 249 request_key(Path, Path, Path, Int);
    KEYCTL = 250 keyctl(Int, Hex, Hex, Hex, Hex);
    IOPRIO_SET = 251 ioprio_set(Int, Int, Int);
    IOPRIO_GET = 252 ioprio_get(Int, Int);
    INOTIFY_INIT = 253 inotify_init();
    INOTIFY_ADD_WATCH = 254 inotify_add_watch(Fd, Path, Hex);
    INOTIFY_RM_WATCH = 255 inotify_rm_watch(Fd, Int);
    MIGRATE_PAGES = 256 migrate_pages(Int, Size, Ptr, Ptr);
    OPENAT = 257 openat(DirFd, Path, OpenFlags, OpenMode);
    MKDIRAT = 258 mkdirat(DirFd, Path, Mode);
    MKNODAT = 259 mknodat(DirFd, Path, FileMode, Hex);
    FCHOWNAT = 260 fchownat(DirFd, Path, Int, Int, AtFlags);
    FUTIMESAT = 261 futimesat(DirFd, Path, Ptr);
    NEWFSTATAT = 262 newfstatat(DirFd, Path, OutStat, AtFlags);
    UNLINKAT = 263 unlinkat(DirFd, Path, AtFlags);
    RENAMEAT = 264 renameat(DirFd, Path, DirFd, Path);
    LINKAT = 265 linkat(DirFd, Path, DirFd, Path, AtFlags);
    SYMLINKAT = 266 symlinkat(Path, DirFd, Path);
    READLINKAT = 267 readlinkat(DirFd, Path, OutStr { len_arg: 3 }, Size);
    FCHMODAT = 268 fchmodat(DirFd, Path, Mode);
    FACCESSAT = 269 faccessat(DirFd, Path, AccessMode);
    PSELECT6 = 270 pselect6(Int, Ptr, Ptr, Ptr, Timespec, Ptr);
    PPOLL = 271 ppoll(Pollfds { count_arg: 1 }, UInt, Timespec, Sigset, Size);
    UNSHARE = 272 unshare(CloneFlags);
    SET_ROBUST_LIST = 273 set_robust_list(Ptr, Size);
    GET_ROBUST_LIST = 274 get_robust_list(Int, Ptr, Ptr);
    SPLICE = 275 splice(Fd, Ptr, Fd, Ptr, Size, Hex);
    TEE = 276 tee(Fd, Fd, Size, Hex);
    SYNC_FILE_RANGE = 277 sync_file_range(Fd, Long, Long, Hex);
    VMSPLICE = 278 vmsplice(Fd, Ptr, Size, Hex);
    MOVE_PAGES = 279 move_pages(Int, Size, Ptr, Ptr, Ptr, Hex);
    UTIMENSAT = 280 utimensat(DirFd, Path, Ptr, AtFlags);
    EPOLL_PWAIT = 281 epoll_pwait(Fd, Ptr, Int, Int, Sigset, Size);
    SIGNALFD = 282 signalfd(Fd, Sigset, Size);
    TIMERFD_CREATE = 283 timerfd_create(ClockId, Hex);
    EVENTFD = 284 eventfd(UInt);
    FALLOCATE = 285 fallocate(Fd, Hex, Long, Long);
    TIMERFD_SETTIME = 286 timerfd_settime(Fd, TimerFlags, Ptr, Ptr);
    TIMERFD_GETTIME = 287 timerfd_gettime(Fd, Ptr);
    ACCEPT4 = 288 accept4(Fd, Ptr, Ptr, SockFlags);
    SIGNALFD4 = 289 signalfd4(Fd, Sigset, Size, Hex);
    EVENTFD2 = 290 eventfd2(UInt, Hex);
    EPOLL_CREATE1 = 291 epoll_create1(EpollFlags);
    DUP3 = 292 dup3(Fd, Fd, PipeFlags);
    PIPE2 = 293 pipe2(PipeFds, PipeFlags);
    INOTIFY_INIT1 = 294 inotify_init1(Hex);
    PREADV = 295 preadv(Fd, OutIovec { count_arg: 2 }, Int, Long, Skip);
    PWRITEV = 296 pwritev(Fd, Iovec { count_arg: 2 }, Int, Long, Skip);
    RT_TGSIGQUEUEINFO = 297 rt_tgsigqueueinfo(Int, Int, Signal, Ptr);
    PERF_EVENT_OPEN = 298 perf_event_open(Ptr, Int, Int, Fd, Hex);
    RECVMMSG = 299 recvmmsg(Fd, Ptr, UInt, MsgFlags, Timespec);
    FANOTIFY_INIT = 300 fanotify_init(Hex, Hex);
    FANOTIFY_MARK = 301 fanotify_mark(Fd, Hex, Hex, DirFd, Path);
    PRLIMIT64 = 302 prlimit64(Int, RlimitResource, Ptr, Ptr);
    NAME_TO_HANDLE_AT = 303 name_to_handle_at(DirFd, Path, Ptr, Ptr, AtFlags);
    OPEN_BY_HANDLE_AT = 304 open_by_handle_at(Fd, Ptr, OpenFlags);
    CLOCK_ADJTIME = 305 clock_adjtime(ClockId, Ptr);
    SYNCFS = 306 syncfs(Fd);
    SENDMMSG = 307 sendmmsg(Fd, Ptr, UInt, MsgFlags);
    SETNS = 308 setns(Fd, CloneFlags);
    GETCPU = 309 getcpu(Ptr, Ptr, Ptr);
    PROCESS_VM_READV = 310 process_vm_readv(Int, Ptr, Size, Ptr, Size, Hex);
    PROCESS_VM_WRITEV = 311 process_vm_writev(Int, Ptr, Size, Ptr, Size, Hex);
    KCMP = 312 kcmp(Int, Int, Int, Hex, Hex);
    FINIT_MODULE = 313 finit_module(Fd, Path, Hex);
    SCHED_SETATTR = 314 sched_setattr(Int, Ptr, Hex);
    SCHED_GETATTR = 315 sched_getattr(Int, Ptr, UInt, Hex);
    RENAMEAT2 = 316 renameat2(DirFd, Path, DirFd, Path, RenameFlags);
    SECCOMP = 317 seccomp(UInt, Hex, Ptr);
    GETRANDOM = 318 getrandom(OutHexStr { len_arg: 1 }, Size, GrndFlags);
    MEMFD_CREATE = 319 memfd_create(Path, MemfdFlags);
    KEXEC_FILE_LOAD = 320 kexec_file_load(Fd, Fd, Size, Path, Hex);
    BPF = 321 bpf(Int, Ptr, UInt);
    EXECVEAT = 322 execveat(DirFd, Path, Argv, Envp, AtFlags);
    USERFAULTFD = 323 userfaultfd(Hex);
    MEMBARRIER = 324 membarrier(Int, Hex, Int);
    MLOCK2 = 325 mlock2(Ptr, Size, Hex);
    COPY_FILE_RANGE = 326 copy_file_range(Fd, Ptr, Fd, Ptr, Size, Hex);
    PREADV2 = 327 preadv2(Fd, OutIovec { count_arg: 2 }, Int, Long, Skip, Hex);
    PWRITEV2 = 328 pwritev2(Fd, Iovec { count_arg: 2 }, Int, Long, Skip, Hex);
    PKEY_MPROTECT = 329 pkey_mprotect(Ptr, Size, MmapProt, Int);
    PKEY_ALLOC = 330 pkey_alloc(Hex, Hex);
    PKEY_FREE = 331 pkey_free(Int);
    STATX = 332 statx(DirFd, Path, StatxFlags, StatxMask, Ptr);
    IO_PGETEVENTS = 333 io_pgetevents(Hex, Long, Long, Ptr, Timespec, Ptr);
    RSEQ = 334 rseq(Ptr, UInt, Hex, Hex);
    URETPROBE = 335 uretprobe();
    UPROBE = 336 uprobe();
    PIDFD_SEND_SIGNAL = 424 pidfd_send_signal(Fd, Signal, Ptr, Hex);
    IO_URING_SETUP = 425 io_uring_setup(UInt, Ptr);
    IO_URING_ENTER = 426 io_uring_enter(Fd, UInt, UInt, Hex, Ptr, Size);
    IO_URING_REGISTER = 427 io_uring_register(Fd, UInt, Ptr, UInt);
    OPEN_TREE = 428 open_tree(DirFd, Path, Hex);
    MOVE_MOUNT = 429 move_mount(DirFd, Path, DirFd, Path, Hex);
    FSOPEN = 430 fsopen(Path, Hex);
    FSCONFIG = 431 fsconfig(Fd, UInt, Path, Ptr, Int);
    FSMOUNT = 432 fsmount(Fd, Hex, Hex);
    FSPICK = 433 fspick(DirFd, Path, Hex);
    PIDFD_OPEN = 434 pidfd_open(Int, Hex);
    CLONE3 = 435 clone3(Ptr, Size);
    CLOSE_RANGE = 436 close_range(UInt, UInt, Hex);
    OPENAT2 = 437 openat2(DirFd, Path, Ptr, Size);
    PIDFD_GETFD = 438 pidfd_getfd(Fd, Int, Hex);
    FACCESSAT2 = 439 faccessat2(DirFd, Path, AccessMode, AccessAtFlags);
    PROCESS_MADVISE = 440 process_madvise(Fd, Ptr, Size, MadviseAdvice, Hex);
    EPOLL_PWAIT2 = 441 epoll_pwait2(Fd, Ptr, Int, Timespec, Sigset, Size);
    MOUNT_SETATTR = 442 mount_setattr(DirFd, Path, AtFlags, Ptr, Size);
    QUOTACTL_FD = 443 quotactl_fd(Fd, Hex, Int, Ptr);
    LANDLOCK_CREATE_RULESET = 444 landlock_create_ruleset(Ptr, Size, Hex);
    LANDLOCK_ADD_RULE = 445 landlock_add_rule(Fd, Int, Ptr, Hex);
    LANDLOCK_RESTRICT_SELF = 446 landlock_restrict_self(Fd, Hex);
    MEMFD_SECRET = 447 memfd_secret(Hex);
    PROCESS_MRELEASE = 448 process_mrelease(Fd, Hex);
    FUTEX_WAITV = 449 futex_waitv(Ptr, UInt, Hex, Timespec, ClockId);
    SET_MEMPOLICY_HOME_NODE = 450 set_mempolicy_home_node(Ptr, Size, Hex, Hex);
    CACHESTAT = 451 cachestat(Fd, Ptr, Ptr, Hex);
    FCHMODAT2 = 452 fchmodat2(DirFd, Path, Mode, AtFlags);
    MAP_SHADOW_STACK = 453 map_shadow_stack(Ptr, Size, Hex) -> Addr;
    FUTEX_WAKE = 454 futex_wake(Ptr, Hex, Int, Hex);
    FUTEX_WAIT = 455 futex_wait(Ptr, Hex, Hex, Hex, Timespec, ClockId);
    FUTEX_REQUEUE = 456 futex_requeue(Ptr, Hex, Int, Int);
    STATMOUNT = 457 statmount(Ptr, Ptr, Size, Hex);
    LISTMOUNT = 458 listmount(Ptr, Ptr, Size, Hex);
    LSM_GET_SELF_ATTR = 459 lsm_get_self_attr(UInt, Ptr, Ptr, Hex);
    LSM_SET_SELF_ATTR = 460 lsm_set_self_attr(UInt, Ptr, Size, Hex);
    LSM_LIST_MODULES = 461 lsm_list_modules(Ptr, Ptr, Hex);
    MSEAL = 462 mseal(Ptr, Size, Hex);
    SETXATTRAT = 463 setxattrat(DirFd, Path, AtFlags, Path, Ptr, Size);
    GETXATTRAT = 464 getxattrat(DirFd, Path, AtFlags, Path, Ptr, Size);
    LISTXATTRAT = 465 listxattrat(DirFd, Path, AtFlags, OutStr { len_arg: 4 }, Size);
    REMOVEXATTRAT = 466 removexattrat(DirFd, Path, AtFlags, Path);
    OPEN_TREE_ATTR = 467 open_tree_attr(DirFd, Path, Hex, Ptr, Size);
    FILE_GETATTR = 468 file_getattr(DirFd, Path, Ptr, Size, AtFlags);
    FILE_SETATTR = 469 file_setattr(DirFd, Path, Ptr, Size, AtFlags);
    LISTNS = 470 listns(Ptr, Ptr, Size, Hex);
}

/// One past the highest system call number.
pub const NR_SYSCALLS: usize = 471;

const fn build_table() -> [Option<SyscallInfo>; NR_SYSCALLS] {
    let mut t: [Option<SyscallInfo>; NR_SYSCALLS] = [None; NR_SYSCALLS];
    let mut i = 0;
    while i < LIST.len() {
        let e = LIST[i];
        let n = e.nr as usize;
        assert!(n < NR_SYSCALLS, "system call number out of range");
        assert!(t[n].is_none(), "duplicate system call number");
        assert!(i == 0 || LIST[i - 1].nr < e.nr, "system calls out of order");
        assert!(e.args.len() <= 6, "more than six arguments");
        t[n] = Some(e);
        i += 1;
    }
    t
}

/// The table, indexed by number; `None` where Linux defines no call (e.g. 337..=423).
pub static TABLE: [Option<SyscallInfo>; NR_SYSCALLS] = build_table();

/// The call with number `nr` (O(1)).
pub fn by_number(nr: u32) -> Option<&'static SyscallInfo> {
    TABLE.get(nr as usize).and_then(Option::as_ref)
}

/// The call named `name` (`"openat"`).
pub fn by_name(name: &str) -> Option<&'static SyscallInfo> {
    LIST.iter().find(|s| s.name == name)
}

/// Every call, in number order.
pub fn iter() -> impl Iterator<Item = &'static SyscallInfo> {
    LIST.iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        let mut count = 0;
        for (i, e) in TABLE.iter().enumerate() {
            if let Some(e) = e {
                assert_eq!(e.nr as usize, i);
                assert!(e.args.len() <= 6);
                assert_eq!(
                    by_name(e.name).map(|s| s.nr),
                    Some(e.nr),
                    "{} not unique",
                    e.name
                );
                for a in e.args {
                    let idx = match *a {
                        Str { len_arg } | OutStr { len_arg } | OutHexStr { len_arg } => len_arg,
                        SockAddr { len_arg } => len_arg,
                        Iovec { count_arg } | OutIovec { count_arg } | Pollfds { count_arg } => {
                            count_arg
                        }
                        _ => 0,
                    };
                    assert!(
                        idx < e.args.len(),
                        "{}: length argument out of range",
                        e.name
                    );
                }
                count += 1;
            }
        }
        // 0..=336 all defined, 337..=423 reserved, 424..=470 defined.
        assert_eq!(count, 337 + 47);
        assert!((0..=336).all(|n| by_number(n).is_some()));
        assert!((337..=423).all(|n| by_number(n).is_none()));
        assert!((424..=470).all(|n| by_number(n).is_some()));
        assert!(by_number(471).is_none());
        assert!(by_number(512).is_none());
        assert!(by_number(u32::MAX).is_none());
        assert_eq!(iter().count(), count);
    }

    #[test]
    fn well_known_numbers() {
        let known: &[(&str, u32)] = &[
            ("read", 0),
            ("write", 1),
            ("open", 2),
            ("close", 3),
            ("stat", 4),
            ("fstat", 5),
            ("lstat", 6),
            ("poll", 7),
            ("lseek", 8),
            ("mmap", 9),
            ("mprotect", 10),
            ("munmap", 11),
            ("brk", 12),
            ("rt_sigaction", 13),
            ("rt_sigprocmask", 14),
            ("rt_sigreturn", 15),
            ("ioctl", 16),
            ("pread64", 17),
            ("pwrite64", 18),
            ("readv", 19),
            ("writev", 20),
            ("access", 21),
            ("pipe", 22),
            ("select", 23),
            ("sched_yield", 24),
            ("mremap", 25),
            ("dup", 32),
            ("dup2", 33),
            ("nanosleep", 35),
            ("getpid", 39),
            ("clone", 56),
            ("fork", 57),
            ("vfork", 58),
            ("execve", 59),
            ("exit", 60),
            ("wait4", 61),
            ("kill", 62),
            ("uname", 63),
            ("fcntl", 72),
            ("getdents64", 217),
            ("set_tid_address", 218),
            ("clock_gettime", 228),
            ("exit_group", 231),
            ("openat", 257),
            ("newfstatat", 262),
            ("pipe2", 293),
            ("prlimit64", 302),
            ("getrandom", 318),
            ("statx", 332),
            ("rseq", 334),
            ("clone3", 435),
            ("faccessat2", 439),
            ("mseal", 462),
        ];
        for &(name, n) in known {
            let e = by_name(name).unwrap_or_else(|| panic!("{name} missing"));
            assert_eq!(e.nr, n, "{name}");
            assert_eq!(by_number(n).unwrap().name, name);
        }
        assert_eq!(nr::READ, 0);
        assert_eq!(nr::ARCH_PRCTL, 158);
        assert_eq!(nr::GETTID, 186);
        assert_eq!(nr::FUTEX, 202);
        assert_eq!(nr::SET_ROBUST_LIST, 273);
        assert_eq!(nr::RSEQ, 334);
        assert_eq!(nr::CLONE3, 435);
        assert_eq!(nr::MSEAL, 462);
        assert_eq!(by_number(nr::MMAP).unwrap().ret, Ret::Addr);
        assert_eq!(by_number(nr::EXIT_GROUP).unwrap().ret, Ret::NoReturn);
    }
}
