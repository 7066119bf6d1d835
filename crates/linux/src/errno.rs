//! `errno` values (asm-generic/errno-base.h and asm-generic/errno.h, which x86-64 uses)
//! and the one place where a system call result becomes the `-errno` return value.

use core::fmt;

macro_rules! errnos {
    ($($name:ident = $n:literal, $desc:literal;)*) => {
        /// A Linux error number. Every value 1..=133 that Linux defines (41 and 58 are
        /// unused there and absent here). The doc of each variant is its `strerror` text.
        #[allow(clippy::upper_case_acronyms)]
        #[repr(i32)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Errno {
            $(#[doc = $desc] $name = $n,)*
        }

        impl Errno {
            /// Every error number, in numeric order.
            pub const ALL: &'static [Errno] = &[$(Errno::$name),*];

            /// The symbolic name, e.g. `"ENOENT"`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Errno::$name => stringify!($name),)*
                }
            }

            /// The `strerror` text (glibc's wording), e.g. `"No such file or directory"`.
            pub const fn description(self) -> &'static str {
                match self {
                    $(Errno::$name => $desc,)*
                }
            }

            /// The error with number `n`, if Linux defines one.
            pub const fn from_i32(n: i32) -> Option<Errno> {
                match n {
                    $($n => Some(Errno::$name),)*
                    _ => None,
                }
            }
        }
    };
}

errnos! {
    EPERM = 1, "Operation not permitted";
    ENOENT = 2, "No such file or directory";
    ESRCH = 3, "No such process";
    EINTR = 4, "Interrupted system call";
    EIO = 5, "Input/output error";
    ENXIO = 6, "No such device or address";
    E2BIG = 7, "Argument list too long";
    ENOEXEC = 8, "Exec format error";
    EBADF = 9, "Bad file descriptor";
    ECHILD = 10, "No child processes";
    EAGAIN = 11, "Resource temporarily unavailable";
    ENOMEM = 12, "Cannot allocate memory";
    EACCES = 13, "Permission denied";
    EFAULT = 14, "Bad address";
    ENOTBLK = 15, "Block device required";
    EBUSY = 16, "Device or resource busy";
    EEXIST = 17, "File exists";
    EXDEV = 18, "Invalid cross-device link";
    ENODEV = 19, "No such device";
    ENOTDIR = 20, "Not a directory";
    EISDIR = 21, "Is a directory";
    EINVAL = 22, "Invalid argument";
    ENFILE = 23, "Too many open files in system";
    EMFILE = 24, "Too many open files";
    ENOTTY = 25, "Inappropriate ioctl for device";
    ETXTBSY = 26, "Text file busy";
    EFBIG = 27, "File too large";
    ENOSPC = 28, "No space left on device";
    ESPIPE = 29, "Illegal seek";
    EROFS = 30, "Read-only file system";
    EMLINK = 31, "Too many links";
    EPIPE = 32, "Broken pipe";
    EDOM = 33, "Numerical argument out of domain";
    ERANGE = 34, "Numerical result out of range";
    EDEADLK = 35, "Resource deadlock avoided";
    ENAMETOOLONG = 36, "File name too long";
    ENOLCK = 37, "No locks available";
    ENOSYS = 38, "Function not implemented";
    ENOTEMPTY = 39, "Directory not empty";
    ELOOP = 40, "Too many levels of symbolic links";
    ENOMSG = 42, "No message of desired type";
    EIDRM = 43, "Identifier removed";
    ECHRNG = 44, "Channel number out of range";
    EL2NSYNC = 45, "Level 2 not synchronized";
    EL3HLT = 46, "Level 3 halted";
    EL3RST = 47, "Level 3 reset";
    ELNRNG = 48, "Link number out of range";
    EUNATCH = 49, "Protocol driver not attached";
    ENOCSI = 50, "No CSI structure available";
    EL2HLT = 51, "Level 2 halted";
    EBADE = 52, "Invalid exchange";
    EBADR = 53, "Invalid request descriptor";
    EXFULL = 54, "Exchange full";
    ENOANO = 55, "No anode";
    EBADRQC = 56, "Invalid request code";
    EBADSLT = 57, "Invalid slot";
    EBFONT = 59, "Bad font file format";
    ENOSTR = 60, "Device not a stream";
    ENODATA = 61, "No data available";
    ETIME = 62, "Timer expired";
    ENOSR = 63, "Out of streams resources";
    ENONET = 64, "Machine is not on the network";
    ENOPKG = 65, "Package not installed";
    EREMOTE = 66, "Object is remote";
    ENOLINK = 67, "Link has been severed";
    EADV = 68, "Advertise error";
    ESRMNT = 69, "Srmount error";
    ECOMM = 70, "Communication error on send";
    EPROTO = 71, "Protocol error";
    EMULTIHOP = 72, "Multihop attempted";
    EDOTDOT = 73, "RFS specific error";
    EBADMSG = 74, "Bad message";
    EOVERFLOW = 75, "Value too large for defined data type";
    ENOTUNIQ = 76, "Name not unique on network";
    EBADFD = 77, "File descriptor in bad state";
    EREMCHG = 78, "Remote address changed";
    ELIBACC = 79, "Can not access a needed shared library";
    ELIBBAD = 80, "Accessing a corrupted shared library";
    ELIBSCN = 81, ".lib section in a.out corrupted";
    ELIBMAX = 82, "Attempting to link in too many shared libraries";
    ELIBEXEC = 83, "Cannot exec a shared library directly";
    EILSEQ = 84, "Invalid or incomplete multibyte or wide character";
    ERESTART = 85, "Interrupted system call should be restarted";
    ESTRPIPE = 86, "Streams pipe error";
    EUSERS = 87, "Too many users";
    ENOTSOCK = 88, "Socket operation on non-socket";
    EDESTADDRREQ = 89, "Destination address required";
    EMSGSIZE = 90, "Message too long";
    EPROTOTYPE = 91, "Protocol wrong type for socket";
    ENOPROTOOPT = 92, "Protocol not available";
    EPROTONOSUPPORT = 93, "Protocol not supported";
    ESOCKTNOSUPPORT = 94, "Socket type not supported";
    EOPNOTSUPP = 95, "Operation not supported";
    EPFNOSUPPORT = 96, "Protocol family not supported";
    EAFNOSUPPORT = 97, "Address family not supported by protocol";
    EADDRINUSE = 98, "Address already in use";
    EADDRNOTAVAIL = 99, "Cannot assign requested address";
    ENETDOWN = 100, "Network is down";
    ENETUNREACH = 101, "Network is unreachable";
    ENETRESET = 102, "Network dropped connection on reset";
    ECONNABORTED = 103, "Software caused connection abort";
    ECONNRESET = 104, "Connection reset by peer";
    ENOBUFS = 105, "No buffer space available";
    EISCONN = 106, "Transport endpoint is already connected";
    ENOTCONN = 107, "Transport endpoint is not connected";
    ESHUTDOWN = 108, "Cannot send after transport endpoint shutdown";
    ETOOMANYREFS = 109, "Too many references: cannot splice";
    ETIMEDOUT = 110, "Connection timed out";
    ECONNREFUSED = 111, "Connection refused";
    EHOSTDOWN = 112, "Host is down";
    EHOSTUNREACH = 113, "No route to host";
    EALREADY = 114, "Operation already in progress";
    EINPROGRESS = 115, "Operation now in progress";
    ESTALE = 116, "Stale file handle";
    EUCLEAN = 117, "Structure needs cleaning";
    ENOTNAM = 118, "Not a XENIX named type file";
    ENAVAIL = 119, "No XENIX semaphores available";
    EISNAM = 120, "Is a named type file";
    EREMOTEIO = 121, "Remote I/O error";
    EDQUOT = 122, "Disk quota exceeded";
    ENOMEDIUM = 123, "No medium found";
    EMEDIUMTYPE = 124, "Wrong medium type";
    ECANCELED = 125, "Operation canceled";
    ENOKEY = 126, "Required key not available";
    EKEYEXPIRED = 127, "Key has expired";
    EKEYREVOKED = 128, "Key has been revoked";
    EKEYREJECTED = 129, "Key was rejected by service";
    EOWNERDEAD = 130, "Owner died";
    ENOTRECOVERABLE = 131, "State not recoverable";
    ERFKILL = 132, "Operation not possible due to RF-kill";
    EHWPOISON = 133, "Memory page has hardware error";
}

#[allow(clippy::upper_case_acronyms)]
impl Errno {
    /// `EWOULDBLOCK` is `EAGAIN` on Linux.
    pub const EWOULDBLOCK: Errno = Errno::EAGAIN;
    /// `EDEADLOCK` is `EDEADLK` on x86.
    pub const EDEADLOCK: Errno = Errno::EDEADLK;
    /// `ENOTSUP` is `EOPNOTSUPP` on Linux.
    pub const ENOTSUP: Errno = Errno::EOPNOTSUPP;

    /// The number, e.g. 2 for `ENOENT`.
    pub const fn as_i32(self) -> i32 {
        self as i32
    }

    /// The system call return value carrying this error (see [`syscall_return`]).
    pub fn to_return(self) -> u64 {
        syscall_return(Err(self))
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<Errno> for i32 {
    fn from(e: Errno) -> i32 {
        e as i32
    }
}

/// The result of a system call implementation.
pub type Result<T> = core::result::Result<T, Errno>;

/// The largest errno a system call may return: return values in `-MAX_ERRNO..=-1`
/// (as `u64`, `0xffff_ffff_ffff_f001..`) are errors, everything else is a value.
pub const MAX_ERRNO: u64 = 4095;

/// The value placed in `rax` when a system call returns: the value itself, or `-errno`.
/// This is the only place that encodes errors as negative numbers.
pub fn syscall_return(r: Result<u64>) -> u64 {
    match r {
        Ok(v) => v,
        Err(e) => (-(e.as_i32() as i64)) as u64,
    }
}

/// Whether a raw return value is an error (`-4095..=-1`).
pub const fn is_error_return(v: u64) -> bool {
    v > u64::MAX - MAX_ERRNO
}

/// The inverse of [`syscall_return`]: `Err(errno number)` for `-4095..=-1`, else `Ok`.
/// The error side is the raw number, since not every value in that range is a known errno.
pub const fn decode_return(v: u64) -> core::result::Result<u64, i32> {
    if is_error_return(v) {
        Err((v as i64).wrapping_neg() as i32)
    } else {
        Ok(v)
    }
}

/// The kernel-internal "restart" codes (include/linux/errno.h). They never reach user
/// space (the signal code turns them into `EINTR` or restarts the call), but a trace taken
/// right after a call's body can see them; strace shows them as `= ? ERESTARTSYS (...)`.
pub mod restart {
    /// Restart if the handler has `SA_RESTART` (or no handler runs), else `EINTR`.
    pub const ERESTARTSYS: i32 = 512;
    /// Always restart.
    pub const ERESTARTNOINTR: i32 = 513;
    /// Restart if no handler runs, else `EINTR`.
    pub const ERESTARTNOHAND: i32 = 514;
    /// `open` on a device that wants a retry (internal).
    pub const ENOIOCTLCMD: i32 = 515;
    /// Restart through `restart_syscall` if no handler runs, else `EINTR`.
    pub const ERESTART_RESTARTBLOCK: i32 = 516;

    /// Name and strace's explanation of a restart code.
    pub const fn describe(n: i32) -> Option<(&'static str, &'static str)> {
        match n {
            ERESTARTSYS => Some(("ERESTARTSYS", "To be restarted if SA_RESTART is set")),
            ERESTARTNOINTR => Some(("ERESTARTNOINTR", "To be restarted")),
            ERESTARTNOHAND => Some(("ERESTARTNOHAND", "To be restarted if no handler")),
            ENOIOCTLCMD => Some(("ENOIOCTLCMD", "No ioctl command")),
            ERESTART_RESTARTBLOCK => Some(("ERESTART_RESTARTBLOCK", "Interrupted by signal")),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_is_complete() {
        assert_eq!(Errno::ALL.len(), 131);
        for n in 1..=133 {
            match Errno::from_i32(n) {
                Some(e) => assert_eq!(e.as_i32(), n),
                None => assert!(n == 41 || n == 58, "missing errno {n}"),
            }
        }
        assert_eq!(Errno::from_i32(0), None);
        assert_eq!(Errno::from_i32(134), None);
        assert_eq!(Errno::from_i32(-1), None);
        for w in Errno::ALL.windows(2) {
            assert!(w[0].as_i32() < w[1].as_i32());
        }
    }

    #[test]
    fn names_and_descriptions() {
        let sample = [
            (Errno::EPERM, 1, "EPERM", "Operation not permitted"),
            (Errno::ENOENT, 2, "ENOENT", "No such file or directory"),
            (Errno::EINTR, 4, "EINTR", "Interrupted system call"),
            (Errno::EBADF, 9, "EBADF", "Bad file descriptor"),
            (
                Errno::EAGAIN,
                11,
                "EAGAIN",
                "Resource temporarily unavailable",
            ),
            (Errno::ENOMEM, 12, "ENOMEM", "Cannot allocate memory"),
            (Errno::EFAULT, 14, "EFAULT", "Bad address"),
            (Errno::EEXIST, 17, "EEXIST", "File exists"),
            (Errno::EINVAL, 22, "EINVAL", "Invalid argument"),
            (
                Errno::ENOTTY,
                25,
                "ENOTTY",
                "Inappropriate ioctl for device",
            ),
            (Errno::ESPIPE, 29, "ESPIPE", "Illegal seek"),
            (Errno::EPIPE, 32, "EPIPE", "Broken pipe"),
            (Errno::ERANGE, 34, "ERANGE", "Numerical result out of range"),
            (Errno::ENOSYS, 38, "ENOSYS", "Function not implemented"),
            (
                Errno::ELOOP,
                40,
                "ELOOP",
                "Too many levels of symbolic links",
            ),
            (
                Errno::EOVERFLOW,
                75,
                "EOVERFLOW",
                "Value too large for defined data type",
            ),
            (
                Errno::ENOTSOCK,
                88,
                "ENOTSOCK",
                "Socket operation on non-socket",
            ),
            (
                Errno::EOPNOTSUPP,
                95,
                "EOPNOTSUPP",
                "Operation not supported",
            ),
            (Errno::ETIMEDOUT, 110, "ETIMEDOUT", "Connection timed out"),
            (Errno::ECANCELED, 125, "ECANCELED", "Operation canceled"),
            (
                Errno::EHWPOISON,
                133,
                "EHWPOISON",
                "Memory page has hardware error",
            ),
        ];
        for (e, n, name, desc) in sample {
            assert_eq!(e.as_i32(), n);
            assert_eq!(e.name(), name);
            assert_eq!(e.description(), desc);
            assert_eq!(Errno::from_i32(n), Some(e));
        }
        assert_eq!(Errno::EWOULDBLOCK, Errno::EAGAIN);
        assert_eq!(Errno::EDEADLOCK, Errno::EDEADLK);
    }

    #[test]
    fn return_values() {
        assert_eq!(syscall_return(Ok(3)), 3);
        assert_eq!(syscall_return(Err(Errno::ENOENT)), (-2i64) as u64);
        assert_eq!(syscall_return(Err(Errno::EHWPOISON)), (-133i64) as u64);
        assert!(is_error_return((-1i64) as u64));
        assert!(is_error_return((-4095i64) as u64));
        assert!(!is_error_return((-4096i64) as u64));
        assert!(!is_error_return(0x7f00_0000_0000));
        assert_eq!(decode_return((-38i64) as u64), Err(38));
        assert_eq!(decode_return(5), Ok(5));
        assert_eq!(restart::describe(512).unwrap().0, "ERESTARTSYS");
    }
}
