//! strace-style rendering of a system call:
//! `openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3`.
//!
//! [`format_call`] is called after the call returned, with the raw argument registers,
//! a reader of the caller's memory and the raw result. Input buffers, output buffers
//! (shown with the result as their length, as strace does on exit) and structures are
//! read through the reader; anything unreadable is shown as its address. Strings are cut
//! at [`MAX_STRLEN`] bytes with `...` after the closing quote (paths are shown whole).

use crate::errno::{self, restart, Errno};
use crate::fcntl::{self, __O_TMPFILE, AT_FDCWD, O_CREAT};
use crate::flags::{self, write_hex, write_octal};
use crate::structs::{Sigset, Stat, Timespec, Timeval, Utsname, Winsize};
use crate::syscall::{self, nr, Arg, Ret, SyscallInfo};
use crate::{futex, ioctl, mman, poll, prctl, resource, sched, signal, socket, stat, time, wait};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// strace's default `-s 32`: bytes of a buffer or string shown before `...`.
pub const MAX_STRLEN: usize = 32;
/// The longest path shown (`PATH_MAX`).
pub const MAX_PATH: usize = 4096;
/// Elements of an array (argv, iovec, pollfd) shown before `...`.
pub const MAX_ELEMENTS: usize = 32;

/// Reads user memory: `mem(addr, max_len)` returns up to `max_len` bytes at `addr`
/// (fewer if the readable memory ends), or `None` when `addr` is not readable.
pub type MemReader<'a> = &'a dyn Fn(u64, usize) -> Option<Vec<u8>>;

/// Renders one call: `name(args) = result`. `nr` is the call number, `args` the six
/// argument registers (rdi, rsi, rdx, r10, r8, r9), `mem` reads the caller's memory after
/// the call, `result` is the raw `rax` (`-errno` on failure).
pub fn format_call(nr: u32, args: [u64; 6], mem: MemReader<'_>, result: u64) -> String {
    let c = Ctx {
        args,
        mem,
        result,
        nr,
    };
    let mut out = String::new();
    let Some(info) = syscall::by_number(nr) else {
        let _ = write!(out, "syscall_{nr:#x}(");
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write_hex(&mut out, *a);
        }
        out.push_str(") = ");
        out.push_str(&format_int_result(result));
        return out;
    };
    out.push_str(info.name);
    out.push('(');
    let (parts, ret) = match nr {
        nr::CLONE => (c.clone_args(), None),
        nr::CLONE3 => (c.clone3_args(), None),
        nr::FCNTL => c.fcntl_args(),
        nr::FUTEX => (c.futex_args(), None),
        nr::PRCTL => (c.prctl_args(), None),
        nr::IOCTL => (c.ioctl_args(), None),
        _ => (c.generic_args(info), None),
    };
    out.push_str(&parts.join(", "));
    out.push_str(") = ");
    match ret {
        Some(r) if !c.failed() => out.push_str(&r),
        _ => out.push_str(&c.format_result(info)),
    }
    out
}

/// A result in the generic integer style: `3`, or `-1 ENOENT (No such file or directory)`.
pub fn format_int_result(result: u64) -> String {
    match errno::decode_return(result) {
        Ok(v) => format!("{}", v as i64),
        Err(e) => format_error(e),
    }
}

/// `-1 ENOENT (No such file or directory)`, `-1 200 (Unknown error 200)`, and strace's
/// `? ERESTARTSYS (To be restarted if SA_RESTART is set)` for the kernel-internal codes.
pub fn format_error(e: i32) -> String {
    if let Some((name, desc)) = restart::describe(e) {
        return format!("? {name} ({desc})");
    }
    match Errno::from_i32(e) {
        Some(err) => format!("-1 {} ({})", err.name(), err.description()),
        None => format!("-1 {e} (Unknown error {e})"),
    }
}

/// A byte string quoted like strace: printable ASCII as is, `\n \t \r \v \f \" \\`, other
/// bytes in octal (3 digits when the next byte is an octal digit), or every byte as `\xNN`
/// when `hex`.
pub fn quote_bytes(data: &[u8], hex: bool) -> String {
    let mut s = String::with_capacity(data.len() + 2);
    write_quoted(&mut s, data, hex);
    s
}

fn write_quoted(s: &mut String, data: &[u8], hex: bool) {
    s.push('"');
    for (i, &c) in data.iter().enumerate() {
        if hex {
            let _ = write!(s, "\\x{c:02x}");
            continue;
        }
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x0c => s.push_str("\\f"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x0b => s.push_str("\\v"),
            0x20..=0x7e => s.push(c as char),
            _ => {
                let pad = data.get(i + 1).is_some_and(|n| (b'0'..=b'7').contains(n));
                s.push('\\');
                if pad || c >> 6 != 0 {
                    s.push((b'0' + (c >> 6)) as char);
                }
                if pad || c >> 3 != 0 {
                    s.push((b'0' + ((c >> 3) & 7)) as char);
                }
                s.push((b'0' + (c & 7)) as char);
            }
        }
    }
    s.push('"');
}

/// A signal set like strace: `[]`, `[INT TERM]`, `[RTMIN RT_1]`, and `~[KILL STOP]` when
/// two thirds or more of the 64 signals are in the set.
pub fn format_sigset(set: Sigset) -> String {
    let mut s = String::new();
    let mut bits = set.0;
    if bits.count_ones() >= 64 * 2 / 3 {
        s.push('~');
        bits = !bits;
    }
    s.push('[');
    let mut first = true;
    for sig in Sigset(bits).iter() {
        if !first {
            s.push(' ');
        }
        first = false;
        s.push_str(&signal::NAMES[sig as usize][3..]);
    }
    s.push(']');
    s
}

struct Ctx<'a> {
    args: [u64; 6],
    mem: MemReader<'a>,
    result: u64,
    nr: u32,
}

fn ptr(v: u64) -> String {
    if v == 0 {
        String::from("NULL")
    } else {
        format!("{v:#x}")
    }
}

fn hex(v: u64) -> String {
    flags::hex_string(v)
}

fn octal(v: u64) -> String {
    let mut s = String::new();
    write_octal(&mut s, v);
    s
}

impl Ctx<'_> {
    /// Whether the call failed (including the internal restart codes).
    fn failed(&self) -> bool {
        errno::is_error_return(self.result)
    }

    /// Exactly `len` bytes at `addr`, or `None`.
    fn read(&self, addr: u64, len: usize) -> Option<Vec<u8>> {
        if len == 0 {
            return Some(Vec::new());
        }
        if addr == 0 {
            return None;
        }
        let v = (self.mem)(addr, len)?;
        (v.len() >= len).then(|| v[..len].to_vec())
    }

    fn read_u32(&self, addr: u64) -> Option<u32> {
        let b = self.read(addr, 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn read_u64(&self, addr: u64) -> Option<u64> {
        let b = self.read(addr, 8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(&b);
        Some(u64::from_le_bytes(a))
    }

    /// A NUL-terminated string of at most `limit` bytes, read page by page so a string
    /// ending just before unmapped memory is still found. `(bytes, terminated)`.
    fn read_cstr(&self, addr: u64, limit: usize) -> Option<(Vec<u8>, bool)> {
        if addr == 0 {
            return None;
        }
        let mut out = Vec::new();
        let mut a = addr;
        while out.len() < limit {
            let chunk = (limit - out.len()).min(4096 - (a % 4096) as usize);
            let v = match (self.mem)(a, chunk) {
                Some(v) if !v.is_empty() => v,
                _ if out.is_empty() => return None,
                _ => break,
            };
            let v = &v[..v.len().min(chunk)];
            if let Some(p) = v.iter().position(|&c| c == 0) {
                out.extend_from_slice(&v[..p]);
                return Some((out, true));
            }
            out.extend_from_slice(v);
            a = a.wrapping_add(v.len() as u64);
            if v.len() < chunk {
                break;
            }
        }
        Some((out, false))
    }

    /// A path: `NULL`, `"..."` (whole), or the address if unreadable.
    fn path(&self, addr: u64) -> String {
        self.cstring(addr, MAX_PATH)
    }

    /// A NUL-terminated string cut at `limit` bytes with `...`.
    fn cstring(&self, addr: u64, limit: usize) -> String {
        if addr == 0 {
            return String::from("NULL");
        }
        match self.read_cstr(addr, limit) {
            Some((b, terminated)) => {
                let mut s = quote_bytes(&b, false);
                if !terminated {
                    s.push_str("...");
                }
                s
            }
            None => ptr(addr),
        }
    }

    /// A buffer of `len` bytes: up to 32 shown, `...` when longer.
    fn buffer(&self, addr: u64, len: u64, hex: bool) -> String {
        if addr == 0 {
            return String::from("NULL");
        }
        let n = (len as usize).min(MAX_STRLEN);
        match self.read(addr, n) {
            Some(b) => {
                let mut s = quote_bytes(&b, hex);
                if len > MAX_STRLEN as u64 {
                    s.push_str("...");
                }
                s
            }
            None => ptr(addr),
        }
    }

    fn generic_args(&self, info: &SyscallInfo) -> Vec<String> {
        let mut parts = Vec::new();
        let mut args = info.args;
        if self.nr == nr::MREMAP && self.args[3] & mman::MREMAP_FIXED as u64 == 0 {
            args = &args[..4];
        }
        for (i, &kind) in args.iter().enumerate() {
            if kind == Arg::Skip {
                continue;
            }
            if kind == Arg::OpenMode {
                let fi = info.args.iter().position(|a| *a == Arg::OpenFlags);
                if let Some(fi) = fi {
                    if self.args[fi] & (O_CREAT | __O_TMPFILE) as u64 == 0 {
                        continue;
                    }
                }
            }
            parts.push(self.arg(kind, i));
        }
        parts
    }

    fn arg(&self, kind: Arg, i: usize) -> String {
        let v = self.args[i];
        let a = &self.args;
        let failed = self.failed();
        match kind {
            Arg::Int | Arg::Fd => format!("{}", v as i32),
            Arg::UInt => format!("{}", v as u32),
            Arg::Long => format!("{}", v as i64),
            Arg::Size => format!("{v}"),
            Arg::Hex => hex(v),
            Arg::DirFd => {
                if v as i32 == AT_FDCWD {
                    String::from("AT_FDCWD")
                } else {
                    format!("{}", v as i32)
                }
            }
            Arg::Ptr => ptr(v),
            Arg::Path => self.path(v),
            Arg::Str { len_arg } => self.buffer(v, a[len_arg], false),
            Arg::OutStr { len_arg } | Arg::OutHexStr { len_arg } if !failed => self.buffer(
                v,
                self.result.min(a[len_arg]),
                matches!(kind, Arg::OutHexStr { .. }),
            ),
            Arg::OutPath if !failed => self.path(v),
            Arg::Argv => self.argv(v),
            Arg::Envp => self.envp(v),
            Arg::OpenFlags => fcntl::format_open_flags(v & 0xffff_ffff),
            Arg::OpenMode | Arg::Mode => octal(v & 0xffff_ffff),
            Arg::FileMode => stat::format_mode(v & 0xffff_ffff),
            Arg::AccessMode => fcntl::format_access_mode(v & 0xffff_ffff),
            Arg::AtFlags => flags::flags_string(v & 0xffff_ffff, fcntl::AT_FLAG_NAMES),
            Arg::AccessAtFlags => flags::flags_string(v & 0xffff_ffff, fcntl::FACCESSAT_FLAG_NAMES),
            Arg::StatxFlags => fcntl::format_statx_flags(v & 0xffff_ffff),
            Arg::StatxMask => flags::flags_string(v & 0xffff_ffff, stat::STATX_MASK_NAMES),
            Arg::RenameFlags => flags::flags_string(v & 0xffff_ffff, fcntl::RENAME_FLAG_NAMES),
            Arg::MmapProt => mman::format_prot(v),
            Arg::MmapFlags => mman::format_mmap_flags(v),
            Arg::MremapFlags => flags::flags_string(v, mman::MREMAP_NAMES),
            Arg::MadviseAdvice => flags::enum_string(v & 0xffff_ffff, mman::MADV_NAMES, "MADV_???"),
            Arg::MsyncFlags => flags::flags_string(v & 0xffff_ffff, mman::MSYNC_NAMES),
            Arg::MemfdFlags => flags::flags_string(v & 0xffff_ffff, mman::MFD_NAMES),
            Arg::CloneFlags => flags::flags_string(v, sched::UNSHARE_FLAG_NAMES),
            Arg::Signal => {
                let mut s = String::new();
                signal::write_signal(&mut s, v as i32 as i64);
                s
            }
            Arg::SigHow => flags::enum_string(v & 0xffff_ffff, signal::SIGHOW_NAMES, "SIG_???"),
            Arg::Sigset => self.sigset(v),
            Arg::OutSigset if !failed => self.sigset(v),
            Arg::Sigaction => self.sigaction(v),
            Arg::OutSigaction if !failed => self.sigaction(v),
            Arg::Whence => flags::enum_string(v & 0xffff_ffff, fcntl::WHENCE_NAMES, "SEEK_???"),
            Arg::ClockId => flags::enum_string(v & 0xffff_ffff, time::CLOCK_NAMES, "CLOCK_???"),
            Arg::TimerFlags => flags::flags_string(v & 0xffff_ffff, time::TIMER_FLAG_NAMES),
            Arg::ItimerWhich => {
                flags::enum_string(v & 0xffff_ffff, time::ITIMER_NAMES, "ITIMER_???")
            }
            Arg::Timespec => self.timespec(v),
            Arg::OutTimespec if !failed => self.timespec(v),
            Arg::OutTimeval if !failed => self.timeval(v),
            Arg::IoctlCmd => ioctl::format_cmd(v),
            Arg::FcntlCmd => flags::enum_string(v & 0xffff_ffff, fcntl::FCNTL_CMD_NAMES, "F_???"),
            Arg::ArchPrctlCode => {
                flags::enum_string(v & 0xffff_ffff, crate::arch_prctl::ARCH_NAMES, "ARCH_???")
            }
            Arg::FutexOp => futex::format_op(v),
            Arg::PrctlOption => flags::enum_string(v & 0xffff_ffff, prctl::PR_NAMES, "PR_???"),
            Arg::WaitOptions => {
                let names = if self.nr == nr::WAITID {
                    wait::WAIT_OPTION_NAMES
                } else {
                    wait::WAIT4_OPTION_NAMES
                };
                flags::flags_string(v & 0xffff_ffff, names)
            }
            Arg::OutWaitStatus => {
                if failed || self.result == 0 {
                    return ptr(v);
                }
                match self.read_u32(v) {
                    Some(st) => wait::format_status(st as i32),
                    None => ptr(v),
                }
            }
            Arg::IdType => flags::enum_string(v & 0xffff_ffff, wait::IDTYPE_NAMES, "P_???"),
            Arg::PipeFds if !failed => match self.read(v, 8) {
                Some(b) => format!(
                    "[{}, {}]",
                    i32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                    i32::from_le_bytes([b[4], b[5], b[6], b[7]])
                ),
                None => ptr(v),
            },
            Arg::PipeFlags => flags::flags_string(v & 0xffff_ffff, fcntl::PIPE_FLAG_NAMES),
            Arg::Iovec { count_arg } => self.iovec(v, a[count_arg], None),
            Arg::OutIovec { count_arg } if !failed => {
                self.iovec(v, a[count_arg], Some(self.result))
            }
            Arg::Pollfds { count_arg } => self.pollfds(v, a[count_arg]),
            Arg::SockFamily => flags::enum_string(v & 0xffff_ffff, socket::AF_NAMES, "AF_???"),
            Arg::SockType => socket::format_sock_type(v & 0xffff_ffff),
            Arg::SockFlags => flags::flags_string(v & 0xffff_ffff, socket::SOCK_FLAG_NAMES),
            Arg::SockAddr { len_arg } => self.sockaddr(v, a[len_arg]),
            Arg::MsgFlags => flags::flags_string(v & 0xffff_ffff, socket::MSG_NAMES),
            Arg::ShutdownHow => flags::enum_string(v & 0xffff_ffff, socket::SHUT_NAMES, "SHUT_???"),
            Arg::GrndFlags => flags::flags_string(v & 0xffff_ffff, crate::random::GRND_NAMES),
            Arg::RlimitResource => {
                flags::enum_string(v & 0xffff_ffff, resource::RLIMIT_NAMES, "RLIMIT_???")
            }
            Arg::RusageWho => {
                flags::enum_string(v & 0xffff_ffff, resource::RUSAGE_NAMES, "RUSAGE_???")
            }
            Arg::FlockOp => flags::flags_string(v & 0xffff_ffff, fcntl::FLOCK_OP_NAMES),
            Arg::EpollCtlOp => {
                flags::enum_string(v & 0xffff_ffff, poll::EPOLL_CTL_NAMES, "EPOLL_CTL_???")
            }
            Arg::EpollFlags => flags::flags_string(v & 0xffff_ffff, poll::EPOLL_FLAG_NAMES),
            Arg::OutStat if !failed => self.stat(v),
            Arg::OutUtsname if !failed => self.uname(v),
            Arg::Skip => String::new(),
            // Output arguments of a failed call.
            Arg::OutStr { .. }
            | Arg::OutHexStr { .. }
            | Arg::OutPath
            | Arg::OutSigset
            | Arg::OutSigaction
            | Arg::OutTimespec
            | Arg::OutTimeval
            | Arg::PipeFds
            | Arg::OutIovec { .. }
            | Arg::OutStat
            | Arg::OutUtsname => ptr(v),
        }
    }

    fn argv(&self, addr: u64) -> String {
        if addr == 0 {
            return String::from("NULL");
        }
        let mut items = Vec::new();
        let mut p = addr;
        loop {
            if items.len() == MAX_ELEMENTS {
                items.push(String::from("..."));
                break;
            }
            match self.read_u64(p) {
                Some(0) => break,
                Some(s) => items.push(self.cstring(s, MAX_STRLEN)),
                None if items.is_empty() => return ptr(addr),
                None => {
                    items.push(String::from("..."));
                    break;
                }
            }
            p = p.wrapping_add(8);
        }
        format!("[{}]", items.join(", "))
    }

    fn envp(&self, addr: u64) -> String {
        if addr == 0 {
            return String::from("NULL");
        }
        let mut n = 0u64;
        let mut p = addr;
        loop {
            match self.read_u64(p) {
                Some(0) => break,
                Some(_) if n < 65536 => n += 1,
                _ => return ptr(addr),
            }
            p = p.wrapping_add(8);
        }
        format!("{addr:#x} /* {n} var{} */", if n == 1 { "" } else { "s" })
    }

    fn sigset(&self, addr: u64) -> String {
        if addr == 0 {
            return String::from("NULL");
        }
        match self.read_u64(addr) {
            Some(bits) => format_sigset(Sigset(bits)),
            None => ptr(addr),
        }
    }

    fn sigaction(&self, addr: u64) -> String {
        if addr == 0 {
            return String::from("NULL");
        }
        let Some(sa) = self
            .read(addr, 32)
            .and_then(|b| crate::structs::Sigaction::from_bytes(&b))
        else {
            return ptr(addr);
        };
        let mut s = String::from("{sa_handler=");
        match flags::lookup(sa.sa_handler, signal::SA_HANDLER_NAMES) {
            Some(n) => s.push_str(n),
            None => write_hex(&mut s, sa.sa_handler),
        }
        s.push_str(", sa_mask=");
        s.push_str(&format_sigset(sa.sa_mask));
        s.push_str(", sa_flags=");
        flags::write_flags(&mut s, sa.sa_flags, signal::SA_NAMES);
        if sa.sa_flags & signal::SA_RESTORER != 0 {
            s.push_str(", sa_restorer=");
            s.push_str(&ptr(sa.sa_restorer));
        }
        s.push('}');
        s
    }

    fn timespec(&self, addr: u64) -> String {
        if addr == 0 {
            return String::from("NULL");
        }
        match self.read(addr, 16).and_then(|b| Timespec::from_bytes(&b)) {
            Some(t) => format!("{{tv_sec={}, tv_nsec={}}}", t.tv_sec, t.tv_nsec),
            None => ptr(addr),
        }
    }

    fn timeval(&self, addr: u64) -> String {
        if addr == 0 {
            return String::from("NULL");
        }
        match self.read(addr, 16).and_then(|b| Timeval::from_bytes(&b)) {
            Some(t) => format!("{{tv_sec={}, tv_usec={}}}", t.tv_sec, t.tv_usec),
            None => ptr(addr),
        }
    }

    /// `[{iov_base="hello", iov_len=5}, ...]`; for output arrays the data shown stops
    /// after `data` bytes in total.
    fn iovec(&self, addr: u64, count: u64, data: Option<u64>) -> String {
        if addr == 0 {
            return String::from("NULL");
        }
        let count = count as i32;
        if count < 0 {
            return ptr(addr);
        }
        if count == 0 {
            return String::from("[]");
        }
        let shown = (count as usize).min(MAX_ELEMENTS);
        let Some(raw) = self.read(addr, shown * 16) else {
            return ptr(addr);
        };
        let mut left = data;
        let mut items = Vec::new();
        for iov in crate::structs::Iovec::array_from_bytes(&raw) {
            let len = match left {
                Some(l) => {
                    let n = iov.iov_len.min(l);
                    left = Some(l - n);
                    n
                }
                None => iov.iov_len,
            };
            items.push(format!(
                "{{iov_base={}, iov_len={}}}",
                self.buffer(iov.iov_base, len, false),
                iov.iov_len
            ));
        }
        if count as usize > shown {
            items.push(String::from("..."));
        }
        format!("[{}]", items.join(", "))
    }

    fn pollfds(&self, addr: u64, count: u64) -> String {
        if addr == 0 {
            return String::from("NULL");
        }
        let count = count as u32 as usize;
        let shown = count.min(MAX_ELEMENTS);
        let Some(raw) = self.read(addr, shown * 8) else {
            return ptr(addr);
        };
        let mut items: Vec<String> = raw
            .chunks_exact(8)
            .filter_map(crate::structs::Pollfd::from_bytes)
            .map(|p| {
                format!(
                    "{{fd={}, events={}}}",
                    p.fd,
                    flags::flags_string(p.events as u64, poll::POLL_NAMES)
                )
            })
            .collect();
        if count > shown {
            items.push(String::from("..."));
        }
        format!("[{}]", items.join(", "))
    }

    /// The `revents` part strace appends to a successful `poll`: ` ([{fd=3, revents=POLLIN}])`.
    fn poll_revents(&self) -> Option<String> {
        let count = (self.args[1] as u32 as usize).min(MAX_ELEMENTS);
        let raw = self.read(self.args[0], count * 8)?;
        let items: Vec<String> = raw
            .chunks_exact(8)
            .filter_map(crate::structs::Pollfd::from_bytes)
            .filter(|p| p.revents != 0)
            .map(|p| {
                format!(
                    "{{fd={}, revents={}}}",
                    p.fd,
                    flags::flags_string(p.revents as u64, poll::POLL_NAMES)
                )
            })
            .collect();
        Some(format!(" ([{}])", items.join(", ")))
    }

    fn sockaddr(&self, addr: u64, len: u64) -> String {
        if addr == 0 {
            return String::from("NULL");
        }
        let len = (len as u32 as usize).min(socket::SOCKADDR_STORAGE_SIZE);
        if len < 2 {
            return ptr(addr);
        }
        let Some(b) = self.read(addr, len) else {
            return ptr(addr);
        };
        let family = u16::from_le_bytes([b[0], b[1]]) as u64;
        let mut s = String::from("{sa_family=");
        flags::write_enum(&mut s, family, socket::AF_NAMES, "AF_???");
        match family as u32 {
            socket::AF_UNIX => {
                let path = &b[2..];
                if path.first() == Some(&0) && path.len() > 1 {
                    s.push_str(", sun_path=@");
                    s.push_str(&quote_bytes(&path[1..], false));
                } else if !path.is_empty() {
                    let n = path.iter().position(|&c| c == 0).unwrap_or(path.len());
                    s.push_str(", sun_path=");
                    s.push_str(&quote_bytes(&path[..n], false));
                }
            }
            socket::AF_INET if len >= 8 => {
                let port = u16::from_be_bytes([b[2], b[3]]);
                let _ = write!(
                    s,
                    ", sin_port=htons({port}), sin_addr=inet_addr(\"{}.{}.{}.{}\")",
                    b[4], b[5], b[6], b[7]
                );
            }
            socket::AF_INET6 if len >= 4 => {
                let port = u16::from_be_bytes([b[2], b[3]]);
                let _ = write!(s, ", sin6_port=htons({port}), ...");
            }
            _ => {
                let n = (len - 2).min(MAX_STRLEN);
                s.push_str(", sa_data=");
                s.push_str(&quote_bytes(&b[2..2 + n], false));
            }
        }
        s.push('}');
        s
    }

    fn stat(&self, addr: u64) -> String {
        let Some(st) = self
            .read(addr, Stat::SIZE)
            .and_then(|b| Stat::from_bytes(&b))
        else {
            return ptr(addr);
        };
        let ty = st.st_mode & stat::S_IFMT;
        let mut s = format!("{{st_mode={}, ", stat::format_mode(st.st_mode as u64));
        if ty == stat::S_IFCHR || ty == stat::S_IFBLK {
            let _ = write!(
                s,
                "st_rdev=makedev({}, {}), ...}}",
                hex(stat::major(st.st_rdev) as u64),
                hex(stat::minor(st.st_rdev) as u64)
            );
        } else {
            let _ = write!(s, "st_size={}, ...}}", st.st_size);
        }
        s
    }

    fn uname(&self, addr: u64) -> String {
        match self
            .read(addr, Utsname::SIZE)
            .and_then(|b| Utsname::from_bytes(&b))
        {
            Some(u) => format!(
                "{{sysname={}, nodename={}, ...}}",
                quote_bytes(Utsname::field_bytes(&u.sysname), false),
                quote_bytes(Utsname::field_bytes(&u.nodename), false)
            ),
            None => ptr(addr),
        }
    }

    fn int_at(&self, addr: u64, output: bool) -> String {
        if addr == 0 {
            return String::from("NULL");
        }
        if output && self.failed() {
            return ptr(addr);
        }
        match self.read_u32(addr) {
            Some(v) => format!("[{}]", v as i32),
            None => ptr(addr),
        }
    }

    fn format_result(&self, info: &SyscallInfo) -> String {
        if let Err(e) = errno::decode_return(self.result) {
            if info.ret == Ret::NoReturn {
                return String::from("?");
            }
            return format_error(e);
        }
        let r = self.result;
        let mut s = match info.ret {
            Ret::NoReturn => return String::from("?"),
            Ret::Int => format!("{}", r as i64),
            Ret::Addr => hex(r),
            Ret::Octal => octal(r),
        };
        match self.nr {
            nr::POLL | nr::PPOLL if r > 0 => {
                if let Some(x) = self.poll_revents() {
                    s.push_str(&x);
                }
            }
            nr::RT_SIGTIMEDWAIT if r > 0 => {
                if let Some(n) = signal::name(r as u32) {
                    let _ = write!(s, " ({n})");
                }
            }
            _ => {}
        }
        s
    }

    // ---- calls with their own argument rules ----

    fn clone_args(&self) -> Vec<String> {
        let a = &self.args;
        let fl = a[0];
        let mut v = Vec::from([
            format!("child_stack={}", ptr(a[1])),
            format!("flags={}", sched::format_clone_flags(fl)),
        ]);
        if fl & (sched::CLONE_PARENT_SETTID | sched::CLONE_PIDFD) != 0 {
            v.push(format!("parent_tid={}", self.int_at(a[2], true)));
        }
        if fl & sched::CLONE_SETTLS != 0 {
            v.push(format!("tls={}", ptr(a[4])));
        }
        if fl & (sched::CLONE_CHILD_SETTID | sched::CLONE_CHILD_CLEARTID) != 0 {
            v.push(format!("child_tidptr={}", ptr(a[3])));
        }
        v
    }

    fn clone3_args(&self) -> Vec<String> {
        let (addr, size) = (self.args[0], self.args[1]);
        let fetch = (size as usize).min(crate::structs::CloneArgs::SIZE);
        let parsed = if fetch < sched::CLONE_ARGS_SIZE_VER0 {
            None
        } else {
            self.read(addr, fetch)
                .and_then(|b| crate::structs::CloneArgs::from_bytes(&b))
        };
        let first = match parsed {
            None => ptr(addr),
            Some(c) => {
                let mut f = Vec::new();
                f.push(format!(
                    "flags={}",
                    flags::flags_string(c.flags, sched::CLONE_FLAG_NAMES)
                ));
                if c.flags & sched::CLONE_PIDFD != 0 {
                    f.push(format!("pidfd={}", ptr(c.pidfd)));
                }
                if c.flags & (sched::CLONE_CHILD_SETTID | sched::CLONE_CHILD_CLEARTID) != 0 {
                    f.push(format!("child_tid={}", ptr(c.child_tid)));
                }
                if c.flags & sched::CLONE_PARENT_SETTID != 0 {
                    f.push(format!("parent_tid={}", ptr(c.parent_tid)));
                }
                let mut sig = String::new();
                if c.exit_signal < i32::MAX as u64 {
                    signal::write_signal(&mut sig, c.exit_signal as i64);
                } else {
                    let _ = write!(sig, "{}", c.exit_signal);
                }
                f.push(format!("exit_signal={sig}"));
                f.push(format!("stack={}", ptr(c.stack)));
                f.push(format!("stack_size={}", hex(c.stack_size)));
                if c.flags & sched::CLONE_SETTLS != 0 {
                    f.push(format!("tls={}", ptr(c.tls)));
                }
                if c.set_tid != 0 || c.set_tid_size != 0 {
                    f.push(format!("set_tid={}", ptr(c.set_tid)));
                    f.push(format!("set_tid_size={}", c.set_tid_size));
                }
                if fetch > 80 && (c.cgroup != 0 || c.flags & sched::CLONE_INTO_CGROUP != 0) {
                    f.push(format!("cgroup={}", c.cgroup));
                }
                format!("{{{}}}", f.join(", "))
            }
        };
        Vec::from([first, format!("{size}")])
    }

    fn fcntl_args(&self) -> (Vec<String>, Option<String>) {
        let a = &self.args;
        let cmd = a[1] as u32;
        let mut v = Vec::from([
            format!("{}", a[0] as i32),
            flags::enum_string(cmd as u64, fcntl::FCNTL_CMD_NAMES, "F_???"),
        ]);
        let arg = a[2];
        let mut ret = None;
        match cmd {
            fcntl::F_SETFD => v.push(flags::flags_string(arg & 0xffff_ffff, fcntl::FD_FLAG_NAMES)),
            fcntl::F_SETFL => v.push(fcntl::format_open_flags(arg & 0xffff_ffff)),
            fcntl::F_DUPFD
            | fcntl::F_DUPFD_CLOEXEC
            | fcntl::F_SETPIPE_SZ
            | fcntl::F_SETOWN
            | fcntl::F_DUPFD_QUERY => v.push(format!("{}", arg as i32)),
            fcntl::F_SETLK | fcntl::F_SETLKW | fcntl::F_OFD_SETLK | fcntl::F_OFD_SETLKW => {
                v.push(self.flock(arg, false))
            }
            fcntl::F_GETLK | fcntl::F_OFD_GETLK => v.push(if self.failed() {
                ptr(arg)
            } else {
                self.flock(arg, true)
            }),
            fcntl::F_SETSIG => {
                let mut s = String::new();
                signal::write_signal(&mut s, arg as i32 as i64);
                v.push(s);
            }
            fcntl::F_ADD_SEALS => v.push(flags::flags_string(arg & 0xffff_ffff, fcntl::SEAL_NAMES)),
            fcntl::F_SETLEASE => v.push(flags::enum_string(
                arg & 0xffff_ffff,
                fcntl::LOCK_TYPE_NAMES,
                "F_???",
            )),
            fcntl::F_GETFD => {
                if self.result != 0 {
                    ret = Some(format!(
                        "{} (flags {})",
                        hex(self.result),
                        flags::flags_string(self.result, fcntl::FD_FLAG_NAMES)
                    ));
                }
            }
            fcntl::F_GETFL => {
                ret = Some(format!(
                    "{} (flags {})",
                    hex(self.result),
                    fcntl::format_open_flags(self.result)
                ));
            }
            fcntl::F_GET_SEALS => {
                if self.result != 0 {
                    ret = Some(format!(
                        "{} (seals {})",
                        hex(self.result),
                        flags::flags_string(self.result, fcntl::SEAL_NAMES)
                    ));
                }
            }
            fcntl::F_GETSIG => {
                if let Some(n) = signal::name(self.result as u32).filter(|_| self.result != 0) {
                    ret = Some(format!("{} ({n})", self.result));
                }
            }
            fcntl::F_GETOWN | fcntl::F_GETPIPE_SZ | fcntl::F_GETLEASE | fcntl::F_GETOWN_EX => {}
            _ => v.push(hex(arg)),
        }
        (v, ret)
    }

    fn flock(&self, addr: u64, getlk: bool) -> String {
        let Some(f) = self
            .read(addr, 32)
            .and_then(|b| crate::structs::Flock::from_bytes(&b))
        else {
            return ptr(addr);
        };
        let mut s = format!(
            "{{l_type={}, l_whence={}, l_start={}, l_len={}",
            flags::enum_string(f.l_type as u16 as u64, fcntl::LOCK_TYPE_NAMES, "F_???"),
            flags::enum_string(f.l_whence as u16 as u64, fcntl::WHENCE_NAMES, "SEEK_???"),
            f.l_start,
            f.l_len
        );
        if getlk {
            let _ = write!(s, ", l_pid={}", f.l_pid);
        }
        s.push('}');
        s
    }

    fn futex_args(&self) -> Vec<String> {
        let a = &self.args;
        let (uaddr, op) = (a[0], a[1]);
        let val = a[2] as u32;
        let val2 = a[3] as u32;
        let (timeout, uaddr2, val3) = (a[3], a[4], a[5] as u32);
        let mut v = Vec::from([ptr(uaddr), futex::format_op(op)]);
        let bitset = |b: u32| {
            if b == futex::FUTEX_BITSET_MATCH_ANY {
                String::from("FUTEX_BITSET_MATCH_ANY")
            } else {
                hex(b as u64)
            }
        };
        match op as u32 & 127 {
            futex::FUTEX_WAIT => {
                v.push(format!("{val}"));
                v.push(self.timespec(timeout));
            }
            futex::FUTEX_LOCK_PI | futex::FUTEX_LOCK_PI2 => v.push(self.timespec(timeout)),
            futex::FUTEX_WAIT_BITSET => {
                v.push(format!("{val}"));
                v.push(self.timespec(timeout));
                v.push(bitset(val3));
            }
            futex::FUTEX_WAKE_BITSET => {
                v.push(format!("{val}"));
                v.push(bitset(val3));
            }
            futex::FUTEX_REQUEUE => {
                v.push(format!("{val}"));
                v.push(format!("{val2}"));
                v.push(ptr(uaddr2));
            }
            futex::FUTEX_CMP_REQUEUE | futex::FUTEX_CMP_REQUEUE_PI => {
                v.push(format!("{val}"));
                v.push(format!("{val2}"));
                v.push(ptr(uaddr2));
                v.push(format!("{val3}"));
            }
            futex::FUTEX_WAKE_OP => {
                v.push(format!("{val}"));
                v.push(format!("{val2}"));
                v.push(ptr(uaddr2));
                v.push(format_wake_op(val3));
            }
            futex::FUTEX_WAIT_REQUEUE_PI => {
                v.push(format!("{val}"));
                v.push(self.timespec(timeout));
                v.push(ptr(uaddr2));
            }
            futex::FUTEX_FD | futex::FUTEX_WAKE => v.push(format!("{val}")),
            futex::FUTEX_UNLOCK_PI | futex::FUTEX_TRYLOCK_PI => {}
            _ => {
                v.push(format!("{val}"));
                v.push(ptr(timeout));
                v.push(ptr(uaddr2));
                v.push(hex(val3 as u64));
            }
        }
        v
    }

    fn prctl_args(&self) -> Vec<String> {
        let a = &self.args;
        let opt = a[0] as u32;
        let mut v = Vec::from([flags::enum_string(opt as u64, prctl::PR_NAMES, "PR_???")]);
        match opt {
            prctl::PR_SET_NAME => v.push(self.cstring(a[1], prctl::TASK_COMM_LEN - 1)),
            prctl::PR_GET_NAME => v.push(if self.failed() {
                ptr(a[1])
            } else {
                self.cstring(a[1], prctl::TASK_COMM_LEN - 1)
            }),
            prctl::PR_SET_PDEATHSIG => {
                let mut s = String::new();
                signal::write_signal(&mut s, a[1] as i32 as i64);
                v.push(s);
            }
            prctl::PR_GET_PDEATHSIG => {
                if self.failed() || a[1] == 0 {
                    v.push(ptr(a[1]));
                } else {
                    match self.read_u32(a[1]) {
                        Some(sig) => {
                            let mut s = String::from("[");
                            signal::write_signal(&mut s, sig as i32 as i64);
                            s.push(']');
                            v.push(s);
                        }
                        None => v.push(ptr(a[1])),
                    }
                }
            }
            prctl::PR_GET_DUMPABLE
            | prctl::PR_GET_KEEPCAPS
            | prctl::PR_GET_NO_NEW_PRIVS
            | prctl::PR_GET_SECCOMP
            | prctl::PR_GET_TIMERSLACK
            | prctl::PR_GET_THP_DISABLE
            | prctl::PR_GET_IO_FLUSHER => {}
            prctl::PR_SET_DUMPABLE | prctl::PR_SET_KEEPCAPS | prctl::PR_SET_TIMERSLACK => {
                v.push(format!("{}", a[1]))
            }
            prctl::PR_SET_CHILD_SUBREAPER => v.push(format!("{}", a[1] as i32)),
            prctl::PR_SET_NO_NEW_PRIVS | prctl::PR_SET_THP_DISABLE => {
                v.push(format!("{}", a[1]));
                v.extend(a[2..5].iter().map(|&x| hex(x)));
            }
            _ => v.extend(a[1..5].iter().map(|&x| hex(x))),
        }
        v
    }

    fn ioctl_args(&self) -> Vec<String> {
        let a = &self.args;
        let cmd = a[1] as u32;
        let arg = a[2];
        let mut v = Vec::from([format!("{}", a[0] as i32), ioctl::format_cmd(cmd as u64)]);
        let winsize = |addr: u64| match self.read(addr, 8).and_then(|b| Winsize::from_bytes(&b)) {
            Some(w) => format!(
                "{{ws_row={}, ws_col={}, ws_xpixel={}, ws_ypixel={}}}",
                w.ws_row, w.ws_col, w.ws_xpixel, w.ws_ypixel
            ),
            None => ptr(addr),
        };
        match cmd {
            ioctl::TIOCGWINSZ => v.push(if self.failed() {
                ptr(arg)
            } else {
                winsize(arg)
            }),
            ioctl::TIOCSWINSZ => v.push(winsize(arg)),
            ioctl::TIOCGPGRP
            | ioctl::TIOCGSID
            | ioctl::FIONREAD
            | ioctl::TIOCOUTQ
            | ioctl::TIOCGPTN
            | ioctl::TIOCGETD => v.push(self.int_at(arg, true)),
            ioctl::TIOCSPGRP
            | ioctl::FIONBIO
            | ioctl::FIOASYNC
            | ioctl::TIOCSPTLCK
            | ioctl::TIOCSETD
            | ioctl::TIOCPKT => v.push(self.int_at(arg, false)),
            ioctl::TCFLSH => v.push(flags::enum_string(
                arg & 0xffff_ffff,
                &[(0, "TCIFLUSH"), (1, "TCOFLUSH"), (2, "TCIOFLUSH")],
                "TC???",
            )),
            ioctl::TCXONC => v.push(flags::enum_string(
                arg & 0xffff_ffff,
                &[(0, "TCOOFF"), (1, "TCOON"), (2, "TCIOFF"), (3, "TCION")],
                "TC???",
            )),
            ioctl::TCSBRK | ioctl::TCSBRKP | ioctl::TIOCSCTTY => v.push(format!("{}", arg as i32)),
            ioctl::TIOCNOTTY
            | ioctl::FIOCLEX
            | ioctl::FIONCLEX
            | ioctl::TIOCEXCL
            | ioctl::TIOCNXCL
            | ioctl::TIOCSBRK
            | ioctl::TIOCCBRK
            | ioctl::TIOCCONS
            | ioctl::TIOCVHANGUP => {}
            _ => v.push(hex(arg)),
        }
        v
    }
}

/// `FUTEX_OP_SET<<28|0<<12|FUTEX_OP_CMP_GT<<24|0x1`, strace's view of `FUTEX_WAKE_OP`'s
/// `val3`.
fn format_wake_op(val3: u32) -> String {
    const OPS: flags::Names = &[
        (0, "FUTEX_OP_SET"),
        (1, "FUTEX_OP_ADD"),
        (2, "FUTEX_OP_OR"),
        (3, "FUTEX_OP_ANDN"),
        (4, "FUTEX_OP_XOR"),
    ];
    const CMPS: flags::Names = &[
        (0, "FUTEX_OP_CMP_EQ"),
        (1, "FUTEX_OP_CMP_NE"),
        (2, "FUTEX_OP_CMP_LT"),
        (3, "FUTEX_OP_CMP_LE"),
        (4, "FUTEX_OP_CMP_GT"),
        (5, "FUTEX_OP_CMP_GE"),
    ];
    let mut s = String::new();
    if (val3 >> 28) & futex::FUTEX_OP_OPARG_SHIFT != 0 {
        s.push_str("FUTEX_OP_OPARG_SHIFT<<28|");
    }
    let op = ((val3 >> 28) & 7) as u64;
    match flags::lookup(op, OPS) {
        Some(n) => s.push_str(n),
        None => {
            let _ = write!(s, "{op}");
        }
    }
    let _ = write!(s, "<<28|{}<<12|", hex(((val3 >> 12) & 0xfff) as u64));
    let cmp = ((val3 >> 24) & 0xf) as u64;
    match flags::lookup(cmp, CMPS) {
        Some(n) => s.push_str(n),
        None => {
            let _ = write!(s, "{cmp}");
        }
    }
    let _ = write!(s, "<<24|{}", hex((val3 & 0xfff) as u64));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structs::{Pollfd, Sigaction, Stat, Utsname, Winsize};
    use alloc::vec;

    /// A fake address space: regions of bytes.
    #[derive(Default)]
    struct Mem(Vec<(u64, Vec<u8>)>);

    impl Mem {
        fn put(&mut self, addr: u64, bytes: &[u8]) -> &mut Self {
            self.0.push((addr, bytes.to_vec()));
            self
        }
        fn reader(&self) -> impl Fn(u64, usize) -> Option<Vec<u8>> + '_ {
            move |addr, len| {
                self.0.iter().find_map(|(base, data)| {
                    let end = base + data.len() as u64;
                    (addr >= *base && addr < end).then(|| {
                        let off = (addr - base) as usize;
                        data[off..(off + len).min(data.len())].to_vec()
                    })
                })
            }
        }
    }

    fn call(m: &Mem, nr: u32, args: &[u64], result: i64) -> String {
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        format_call(nr, a, &m.reader(), result as u64)
    }

    fn err(e: Errno) -> i64 {
        -(e.as_i32() as i64)
    }

    fn cstr(s: &str) -> Vec<u8> {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        v
    }

    const FDCWD: u64 = -100i64 as u64;

    #[test]
    fn files() {
        let mut m = Mem::default();
        m.put(0x1000, &cstr("/etc/passwd"))
            .put(0x2000, &cstr("out.txt"))
            .put(
                0x3000,
                b"root:x:0:0:root:/root:/bin/sh\nbin:x:1:1:bin:/bin:/sbin/nologin\n",
            )
            .put(0x4000, b"hello\n");
        assert_eq!(
            call(&m, nr::OPENAT, &[FDCWD, 0x1000, 0o2000000], 3),
            "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC) = 3"
        );
        assert_eq!(
            call(&m, nr::OPENAT, &[FDCWD, 0x2000, 0o1101, 0o644], 4),
            "openat(AT_FDCWD, \"out.txt\", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 4"
        );
        assert_eq!(
            call(&m, nr::OPENAT, &[FDCWD, 0x1000, 0x4000_0000], err(Errno::ENOENT)),
            "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|0x40000000) = -1 ENOENT (No such file or directory)"
        );
        assert_eq!(
            call(&m, nr::OPENAT, &[FDCWD, 0xdead_0000, 0], err(Errno::EFAULT)),
            "openat(AT_FDCWD, 0xdead0000, O_RDONLY) = -1 EFAULT (Bad address)"
        );
        assert_eq!(
            call(&m, nr::OPEN, &[0x1000, 0o100000], 3),
            "open(\"/etc/passwd\", O_RDONLY|O_LARGEFILE) = 3"
        );
        // Read-like: the data shown is what was read (result bytes), cut at 32.
        assert_eq!(
            call(&m, nr::READ, &[3, 0x3000, 4096], 63),
            "read(3, \"root:x:0:0:root:/root:/bin/sh\\nbi\"..., 4096) = 63"
        );
        assert_eq!(
            call(&m, nr::READ, &[3, 0x3000, 4096], 30),
            "read(3, \"root:x:0:0:root:/root:/bin/sh\\n\", 4096) = 30"
        );
        assert_eq!(
            call(&m, nr::READ, &[3, 0x3000, 4096], 0),
            "read(3, \"\", 4096) = 0"
        );
        assert_eq!(
            call(&m, nr::READ, &[0, 0x3000, 1024], err(Errno::EAGAIN)),
            "read(0, 0x3000, 1024) = -1 EAGAIN (Resource temporarily unavailable)"
        );
        assert_eq!(
            call(&m, nr::READ, &[0, 0x3000, 1024], -512),
            "read(0, 0x3000, 1024) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)"
        );
        // Write-like: the data shown is the length argument.
        assert_eq!(
            call(&m, nr::WRITE, &[1, 0x4000, 6], 6),
            "write(1, \"hello\\n\", 6) = 6"
        );
        assert_eq!(
            call(&m, nr::WRITE, &[1, 0x4000, 6], err(Errno::EPIPE)),
            "write(1, \"hello\\n\", 6) = -1 EPIPE (Broken pipe)"
        );
        assert_eq!(
            call(&m, nr::CLOSE, &[3], err(Errno::EBADF)),
            "close(3) = -1 EBADF (Bad file descriptor)"
        );
        assert_eq!(
            call(&m, nr::LSEEK, &[3, 0, 2], 1234),
            "lseek(3, 0, SEEK_END) = 1234"
        );
        assert_eq!(
            call(&m, nr::LSEEK, &[3, -5i64 as u64, 9], 0),
            "lseek(3, -5, 0x9 /* SEEK_??? */) = 0"
        );
        assert_eq!(
            call(&m, nr::ACCESS, &[0x1000, 4], err(Errno::ENOENT)),
            "access(\"/etc/passwd\", R_OK) = -1 ENOENT (No such file or directory)"
        );
        assert_eq!(call(&m, nr::UMASK, &[0o22], 0o22), "umask(022) = 022");
    }

    #[test]
    fn binary_data_is_escaped_like_strace() {
        let mut m = Mem::default();
        let mut elf = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0];
        elf.extend_from_slice(&[0; 8]);
        elf.extend_from_slice(&[3, 0, b'>', 0, 1, 0, 0, 0, 0x10, 0x83, 0, 0, 0, 0, 0, 0]);
        elf.extend_from_slice(&[0x40; 800]);
        m.put(0x5000, &elf)
            .put(0x6000, &[0, b'1', b'"', b'\\', 0x1b, b'[', b'm', b'\t']);
        assert_eq!(
            call(&m, nr::READ, &[3, 0x5000, 832], 832),
            "read(3, \"\\177ELF\\2\\1\\1\\0\\0\\0\\0\\0\\0\\0\\0\\0\\3\\0>\\0\\1\\0\\0\\0\\20\\203\\0\\0\\0\\0\\0\\0\"..., 832) = 832"
        );
        assert_eq!(
            call(&m, nr::WRITE, &[2, 0x6000, 8], 8),
            "write(2, \"\\0001\\\"\\\\\\33[m\\t\", 8) = 8"
        );
        m.put(0x7000, &[0xde, 0xad, 0xbe, 0xef, b'A', 0, 1, 2]);
        assert_eq!(
            call(&m, nr::GETRANDOM, &[0x7000, 8, 1], 8),
            "getrandom(\"\\xde\\xad\\xbe\\xef\\x41\\x00\\x01\\x02\", 8, GRND_NONBLOCK) = 8"
        );
    }

    #[test]
    fn memory() {
        let m = Mem::default();
        assert_eq!(
            call(&m, nr::MMAP, &[0, 8192, 3, 0x22, -1i64 as u64, 0], 0x7f00_0000_0000),
            "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000"
        );
        assert_eq!(
            call(&m, nr::MMAP, &[0x7f00_0000_0000, 4096, 5, 0x812, 3, 0x28000], 0x7f00_0000_0000),
            "mmap(0x7f0000000000, 4096, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x28000) = 0x7f0000000000"
        );
        assert_eq!(
            call(&m, nr::MMAP, &[0, 1 << 40, 3, 0x22, -1i64 as u64, 0], err(Errno::ENOMEM)),
            "mmap(NULL, 1099511627776, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = -1 ENOMEM (Cannot allocate memory)"
        );
        assert_eq!(
            call(&m, nr::MPROTECT, &[0x7f00_0000_0000, 4096, 0], 0),
            "mprotect(0x7f0000000000, 4096, PROT_NONE) = 0"
        );
        assert_eq!(
            call(&m, nr::BRK, &[0], 0x5555_5555_9000),
            "brk(NULL) = 0x555555559000"
        );
        assert_eq!(
            call(
                &m,
                nr::MREMAP,
                &[0x7f00_0000_0000, 4096, 8192, 1, 0],
                0x7f00_0001_0000
            ),
            "mremap(0x7f0000000000, 4096, 8192, MREMAP_MAYMOVE) = 0x7f0000010000"
        );
        assert_eq!(
            call(&m, nr::MADVISE, &[0x7f00_0000_0000, 4096, 4], 0),
            "madvise(0x7f0000000000, 4096, MADV_DONTNEED) = 0"
        );
    }

    #[test]
    fn process_and_signals() {
        let mut m = Mem::default();
        let sa = Sigaction {
            sa_handler: 0x401000,
            sa_flags: signal::SA_RESTORER | signal::SA_RESTART,
            sa_restorer: 0x402000,
            sa_mask: Sigset::EMPTY,
        };
        let old = Sigaction {
            sa_handler: signal::SIG_DFL,
            ..Sigaction::default()
        };
        m.put(0x1000, &sa.to_bytes())
            .put(0x1100, &old.to_bytes())
            .put(0x2000, &Sigset::FULL.0.to_le_bytes())
            .put(0x2100, &0u64.to_le_bytes())
            .put(0x2200, &((1u64 << 31) | (1 << 32)).to_le_bytes())
            .put(0x2300, &(!((1u64 << 31) | (1 << 32))).to_le_bytes())
            .put(0x3000, &cstr("/bin/ls"))
            .put(0x3100, &cstr("ls"))
            .put(0x3200, &cstr("-l"))
            .put(
                0x3300,
                &[0x3100u64.to_le_bytes(), 0x3200u64.to_le_bytes(), [0; 8]].concat(),
            )
            .put(
                0x3400,
                &[0x3100u64.to_le_bytes(), 0x3200u64.to_le_bytes(), [0; 8]].concat(),
            )
            .put(0x4000, &(crate::wait::exited(0) as u32).to_le_bytes())
            .put(
                0x4100,
                &(crate::wait::signaled(11, true) as u32).to_le_bytes(),
            );
        assert_eq!(
            call(&m, nr::RT_SIGACTION, &[2, 0x1000, 0, 8], 0),
            "rt_sigaction(SIGINT, {sa_handler=0x401000, sa_mask=[], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x402000}, NULL, 8) = 0"
        );
        assert_eq!(
            call(&m, nr::RT_SIGACTION, &[13, 0, 0x1100, 8], 0),
            "rt_sigaction(SIGPIPE, NULL, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0"
        );
        assert_eq!(
            call(&m, nr::RT_SIGPROCMASK, &[1, 0x2200, 0, 8], 0),
            "rt_sigprocmask(SIG_UNBLOCK, [RTMIN RT_1], NULL, 8) = 0"
        );
        assert_eq!(
            call(&m, nr::RT_SIGPROCMASK, &[0, 0x2000, 0x2100, 8], 0),
            "rt_sigprocmask(SIG_BLOCK, ~[], [], 8) = 0"
        );
        assert_eq!(
            call(&m, nr::RT_SIGPROCMASK, &[2, 0x2300, 0, 8], 0),
            "rt_sigprocmask(SIG_SETMASK, ~[RTMIN RT_1], NULL, 8) = 0"
        );
        assert_eq!(
            call(&m, nr::EXECVE, &[0x3000, 0x3300, 0x3400], 0),
            "execve(\"/bin/ls\", [\"ls\", \"-l\"], 0x3400 /* 2 vars */) = 0"
        );
        assert_eq!(call(&m, nr::EXIT_GROUP, &[0], 0), "exit_group(0) = ?");
        assert_eq!(call(&m, nr::EXIT, &[1], 0), "exit(1) = ?");
        assert_eq!(
            call(&m, nr::CLONE, &[0x0120_0011, 0, 0, 0x7f00_0000_1000, 0], 42),
            "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f0000001000) = 42"
        );
        assert_eq!(
            call(&m, nr::WAIT4, &[-1i64 as u64, 0x4000, 0, 0], 42),
            "wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 42"
        );
        assert_eq!(
            call(&m, nr::WAIT4, &[42, 0x4100, 0x4000_0000, 0], 42),
            "wait4(42, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}], __WALL, NULL) = 42"
        );
        assert_eq!(
            call(
                &m,
                nr::WAIT4,
                &[-1i64 as u64, 0x4000, 1, 0],
                err(Errno::ECHILD)
            ),
            "wait4(-1, 0x4000, WNOHANG, NULL) = -1 ECHILD (No child processes)"
        );
        assert_eq!(
            call(&m, nr::KILL, &[42, 15], err(Errno::ESRCH)),
            "kill(42, SIGTERM) = -1 ESRCH (No such process)"
        );
        assert_eq!(
            call(&m, nr::TGKILL, &[7, 7, 6], 0),
            "tgkill(7, 7, SIGABRT) = 0"
        );
        assert_eq!(call(&m, nr::GETPID, &[], 7), "getpid() = 7");
        assert_eq!(
            call(&m, nr::ARCH_PRCTL, &[0x1002, 0x7f00_0000_0740], 0),
            "arch_prctl(ARCH_SET_FS, 0x7f0000000740) = 0"
        );
        assert_eq!(
            call(&m, nr::SET_TID_ADDRESS, &[0x7f00_0000_0a10], 7),
            "set_tid_address(0x7f0000000a10) = 7"
        );
    }

    #[test]
    fn special_calls() {
        let mut m = Mem::default();
        m.put(0x1000, &cstr("worker"))
            .put(0x2000, &[3i32.to_le_bytes(), 4i32.to_le_bytes()].concat())
            .put(0x3000, &[1u64.to_le_bytes(), 500u64.to_le_bytes()].concat());
        assert_eq!(
            call(&m, nr::FCNTL, &[3, 3], 0o100002),
            "fcntl(3, F_GETFL) = 0x8002 (flags O_RDWR|O_LARGEFILE)"
        );
        assert_eq!(
            call(&m, nr::FCNTL, &[3, 1], 1),
            "fcntl(3, F_GETFD) = 0x1 (flags FD_CLOEXEC)"
        );
        assert_eq!(call(&m, nr::FCNTL, &[3, 1], 0), "fcntl(3, F_GETFD) = 0");
        assert_eq!(
            call(&m, nr::FCNTL, &[3, 2, 1], 0),
            "fcntl(3, F_SETFD, FD_CLOEXEC) = 0"
        );
        assert_eq!(
            call(&m, nr::FCNTL, &[3, 1030, 0], 4),
            "fcntl(3, F_DUPFD_CLOEXEC, 0) = 4"
        );
        assert_eq!(
            call(&m, nr::FCNTL, &[0, 4, 0o4002], 0),
            "fcntl(0, F_SETFL, O_RDWR|O_NONBLOCK) = 0"
        );
        assert_eq!(
            call(&m, nr::FCNTL, &[9, 3], err(Errno::EBADF)),
            "fcntl(9, F_GETFL) = -1 EBADF (Bad file descriptor)"
        );
        assert_eq!(
            call(&m, nr::FUTEX, &[0x601000, 0x80, 2, 0], 0),
            "futex(0x601000, FUTEX_WAIT_PRIVATE, 2, NULL) = 0"
        );
        assert_eq!(
            call(&m, nr::FUTEX, &[0x601000, 0x81, 1], 1),
            "futex(0x601000, FUTEX_WAKE_PRIVATE, 1) = 1"
        );
        assert_eq!(
            call(&m, nr::FUTEX, &[0x601000, 0x189, 0, 0x3000, 0, 0xffff_ffff], err(Errno::ETIMEDOUT)),
            "futex(0x601000, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, {tv_sec=1, tv_nsec=500}, FUTEX_BITSET_MATCH_ANY) = -1 ETIMEDOUT (Connection timed out)"
        );
        assert_eq!(
            call(&m, nr::FUTEX, &[0x601000, 0x85, 1, 1, 0x601004, 0x0400_0001], 1),
            "futex(0x601000, FUTEX_WAKE_OP_PRIVATE, 1, 1, 0x601004, FUTEX_OP_SET<<28|0<<12|FUTEX_OP_CMP_GT<<24|0x1) = 1"
        );
        assert_eq!(
            call(&m, nr::PRCTL, &[15, 0x1000], 0),
            "prctl(PR_SET_NAME, \"worker\") = 0"
        );
        assert_eq!(
            call(&m, nr::PRCTL, &[1, 9], 0),
            "prctl(PR_SET_PDEATHSIG, SIGKILL) = 0"
        );
        assert_eq!(call(&m, nr::PRCTL, &[3], 1), "prctl(PR_GET_DUMPABLE) = 1");
        assert_eq!(
            call(&m, nr::PIPE2, &[0x2000, 0o2000000], 0),
            "pipe2([3, 4], O_CLOEXEC) = 0"
        );
        assert_eq!(
            call(&m, nr::PIPE2, &[0x2000, 0], err(Errno::EMFILE)),
            "pipe2(0x2000, 0) = -1 EMFILE (Too many open files)"
        );
        assert_eq!(
            call(&m, nr::CLOCK_GETTIME, &[1, 0x3000], 0),
            "clock_gettime(CLOCK_MONOTONIC, {tv_sec=1, tv_nsec=500}) = 0"
        );
        assert_eq!(
            call(&m, nr::NANOSLEEP, &[0x3000, 0], 0),
            "nanosleep({tv_sec=1, tv_nsec=500}, NULL) = 0"
        );
        assert_eq!(call(&m, nr::SCHED_YIELD, &[], 0), "sched_yield() = 0");
        assert_eq!(
            call(&m, 0x1f0, &[1, 2, 3, 4, 5, 6], err(Errno::ENOSYS)),
            "syscall_0x1f0(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 ENOSYS (Function not implemented)"
        );
        assert_eq!(
            call(&m, 999, &[0, 0, 0, 0, 0, 0], err(Errno::ENOSYS)),
            "syscall_0x3e7(0, 0, 0, 0, 0, 0) = -1 ENOSYS (Function not implemented)"
        );
        assert_eq!(
            call(&m, nr::GETPID, &[], -200),
            "getpid() = -1 200 (Unknown error 200)"
        );
    }

    #[test]
    fn structures() {
        let mut m = Mem::default();
        let st = Stat {
            st_mode: 0o100644,
            st_size: 1234,
            ..Stat::default()
        };
        let dev = Stat {
            st_mode: 0o20666,
            st_rdev: crate::stat::makedev(1, 3),
            ..Stat::default()
        };
        let ws = Winsize {
            ws_row: 24,
            ws_col: 80,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pfd = Pollfd {
            fd: 0,
            events: 1,
            revents: 1,
        };
        let u = Utsname::new("Linux", "iso-unik", "6.1.0", "#1", "x86_64", "(none)");
        let mut sun = vec![1u8, 0];
        sun.extend_from_slice(b"/var/run/nscd/socket");
        sun.resize(110, 0);
        m.put(0x1000, &cstr("/etc/passwd"))
            .put(0x2000, &st.to_bytes())
            .put(0x2100, &dev.to_bytes())
            .put(0x3000, &ws.to_bytes())
            .put(0x4000, &pfd.to_bytes())
            .put(0x5000, b"hello")
            .put(0x5100, b"\n")
            .put(
                0x5200,
                &[
                    0x5000u64.to_le_bytes(),
                    5u64.to_le_bytes(),
                    0x5100u64.to_le_bytes(),
                    1u64.to_le_bytes(),
                ]
                .concat(),
            )
            .put(0x6000, &u.to_bytes())
            .put(0x7000, &sun)
            .put(0x7100, &[2, 0, 0, 80, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            call(&m, nr::NEWFSTATAT, &[FDCWD, 0x1000, 0x2000, 0], 0),
            "newfstatat(AT_FDCWD, \"/etc/passwd\", {st_mode=S_IFREG|0644, st_size=1234, ...}, 0) = 0"
        );
        assert_eq!(
            call(&m, nr::FSTAT, &[0, 0x2100], 0),
            "fstat(0, {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}) = 0"
        );
        assert_eq!(
            call(&m, nr::NEWFSTATAT, &[3, 0x1000, 0x2000, 0x100], err(Errno::ENOENT)),
            "newfstatat(3, \"/etc/passwd\", 0x2000, AT_SYMLINK_NOFOLLOW) = -1 ENOENT (No such file or directory)"
        );
        assert_eq!(
            call(&m, nr::IOCTL, &[1, 0x5413, 0x3000], 0),
            "ioctl(1, TIOCGWINSZ, {ws_row=24, ws_col=80, ws_xpixel=0, ws_ypixel=0}) = 0"
        );
        assert_eq!(
            call(&m, nr::IOCTL, &[0, 0x5401, 0x3000], err(Errno::ENOTTY)),
            "ioctl(0, TCGETS, 0x3000) = -1 ENOTTY (Inappropriate ioctl for device)"
        );
        assert_eq!(
            call(&m, nr::POLL, &[0x4000, 1, -1i64 as u64], 1),
            "poll([{fd=0, events=POLLIN}], 1, -1) = 1 ([{fd=0, revents=POLLIN}])"
        );
        assert_eq!(
            call(&m, nr::WRITEV, &[1, 0x5200, 2], 6),
            "writev(1, [{iov_base=\"hello\", iov_len=5}, {iov_base=\"\\n\", iov_len=1}], 2) = 6"
        );
        assert_eq!(
            call(&m, nr::READV, &[0, 0x5200, 2], 3),
            "readv(0, [{iov_base=\"hel\", iov_len=5}, {iov_base=\"\", iov_len=1}], 2) = 3"
        );
        assert_eq!(
            call(&m, nr::UNAME, &[0x6000], 0),
            "uname({sysname=\"Linux\", nodename=\"iso-unik\", ...}) = 0"
        );
        assert_eq!(
            call(&m, nr::SOCKET, &[1, 0o2000001, 0], 3),
            "socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3"
        );
        assert_eq!(
            call(&m, nr::CONNECT, &[3, 0x7000, 110], err(Errno::ENOENT)),
            "connect(3, {sa_family=AF_UNIX, sun_path=\"/var/run/nscd/socket\"}, 110) = -1 ENOENT (No such file or directory)"
        );
        assert_eq!(
            call(&m, nr::CONNECT, &[3, 0x7100, 16], 0),
            "connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = 0"
        );
        assert_eq!(
            call(&m, nr::STATX, &[FDCWD, 0x1000, 0x100, 0xfff, 0x2000], 0),
            "statx(AT_FDCWD, \"/etc/passwd\", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW, STATX_ALL, 0x2000) = 0"
        );
        assert_eq!(
            call(&m, nr::GETDENTS64, &[3, 0x2000, 32768], 48),
            "getdents64(3, 0x2000, 32768) = 48"
        );
    }

    #[test]
    fn sigset_formatting() {
        assert_eq!(format_sigset(Sigset::EMPTY), "[]");
        assert_eq!(format_sigset(Sigset::of(2).with(15)), "[INT TERM]");
        assert_eq!(format_sigset(Sigset::of(64)), "[RT_32]");
        assert_eq!(format_sigset(Sigset::FULL), "~[]");
        assert_eq!(format_sigset(Sigset::FULL.blockable()), "~[KILL STOP]");
        assert_eq!(quote_bytes(b"a\x007", false), "\"a\\0007\"");
        assert_eq!(quote_bytes(b"\x08x", false), "\"\\10x\"");
        assert_eq!(quote_bytes(b"\x08", false), "\"\\10\"");
        assert_eq!(quote_bytes(b"\x7f\xff", false), "\"\\177\\377\"");
    }
}
