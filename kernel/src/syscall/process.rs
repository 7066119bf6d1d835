//! Process-wide calls: exit, identity, limits, arch_prctl, prctl, getrandom, execve.

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use isounik_linux::errno::Errno;

use super::{Args, Caller, SysResult};
use crate::proc::{self, wait, CloneRequest, ExitStatus, Thread};

/// Ends the calling thread (the process ends with its last thread).
pub fn sys_exit(p: &mut Thread, a: Args) -> SysResult {
    p.exit = Some(ExitStatus::Exited(a.int(0) as u8));
    Ok(0)
}

pub fn sys_exit_group(p: &mut Thread, a: Args) -> SysResult {
    proc::signal::group_exit(p, ExitStatus::Exited(a.int(0) as u8));
    Ok(0)
}

const SIGCHLD: u64 = 17;

pub fn sys_fork(p: &mut Thread, _a: Args) -> SysResult {
    let req = CloneRequest {
        flags: SIGCHLD,
        exit_signal: SIGCHLD as u8,
        stack: 0,
        parent_tid: 0,
        child_tid: 0,
        tls: 0,
    };
    Ok(proc::clone_thread(p, req)? as u64)
}

pub fn sys_vfork(p: &mut Thread, _a: Args) -> SysResult {
    // The child runs in our memory (on our stack) while we wait for it to exec or exit.
    let req = CloneRequest {
        flags: proc::CLONE_VM | proc::CLONE_VFORK | SIGCHLD,
        exit_signal: SIGCHLD as u8,
        stack: 0,
        parent_tid: 0,
        child_tid: 0,
        tls: 0,
    };
    Ok(proc::clone_thread(p, req)? as u64)
}

/// clone(flags, stack, parent_tid, child_tid, tls) on x86-64.
pub fn sys_clone(p: &mut Thread, a: Args) -> SysResult {
    let flags = a.raw(0);
    const SUPPORTED: u64 = 0xff
        | proc::CLONE_VM
        | proc::CLONE_FS
        | proc::CLONE_FILES
        | proc::CLONE_SIGHAND
        | proc::CLONE_VFORK
        | proc::CLONE_PARENT
        | proc::CLONE_THREAD
        | proc::CLONE_SETTLS
        | proc::CLONE_PARENT_SETTID
        | proc::CLONE_CHILD_CLEARTID
        | proc::CLONE_CHILD_SETTID
        | 0x400000 /* CLONE_DETACHED */
        | 0x40000 /* CLONE_SYSVSEM */;
    if flags & !SUPPORTED != 0 {
        return Err(Errno::EINVAL);
    }
    let req = CloneRequest {
        flags,
        exit_signal: (flags & 0xff) as u8,
        stack: a.ptr(1),
        parent_tid: a.ptr(2),
        child_tid: a.ptr(3),
        tls: a.raw(4),
    };
    Ok(proc::clone_thread(p, req)? as u64)
}

fn selector(pid: i32) -> wait::Selector {
    match pid {
        -1 => wait::Selector::Any,
        0 => wait::Selector::Group(0),
        p if p < -1 => wait::Selector::Group((-p) as u32),
        p => wait::Selector::Pid(p as u32),
    }
}

pub fn sys_wait4(p: &mut Thread, a: Args) -> SysResult {
    let options = a.uint(2);
    if options
        & !(wait::WNOHANG
            | wait::WUNTRACED
            | wait::WCONTINUED
            | 0x4000_0000
            | 0x8000_0000
            | 0x2000_0000)
        != 0
    {
        return Err(Errno::EINVAL);
    }
    match wait::wait(p, selector(a.int(0)), options | wait::WEXITED)? {
        None => Ok(0),
        Some(w) => {
            if a.ptr(1) != 0 {
                p.mm().write(a.ptr(1), &w.status.to_le_bytes())?;
            }
            if a.ptr(3) != 0 {
                p.mm().write(a.ptr(3), &[0u8; 144])?;
            }
            Ok(w.pid as u64)
        }
    }
}

pub fn sys_waitid(p: &mut Thread, a: Args) -> SysResult {
    const P_ALL: u32 = 0;
    const P_PID: u32 = 1;
    const P_PGID: u32 = 2;
    let (idtype, id, infop, options) = (a.uint(0), a.uint(1), a.ptr(2), a.uint(3));
    let sel = match idtype {
        P_ALL => wait::Selector::Any,
        P_PID => wait::Selector::Pid(id),
        P_PGID => wait::Selector::Group(id),
        _ => return Err(Errno::EINVAL),
    };
    if options & (wait::WEXITED | wait::WUNTRACED | wait::WCONTINUED) == 0 {
        return Err(Errno::EINVAL);
    }
    let found = wait::wait(p, sel, options)?;
    if infop != 0 {
        let info = match found {
            Some(w) => {
                let status = if w.code == 1 {
                    (w.status >> 8) & 0xff
                } else if w.code == 6 {
                    18
                } else if w.code == 5 {
                    (w.status >> 8) & 0xff
                } else {
                    w.status & 0x7f
                };
                isounik_linux::structs::Siginfo::child(w.code, w.pid as i32, 0, status, 0, 0)
                    .to_bytes()
            }
            None => [0u8; 128],
        };
        p.mm().write(infop, &info)?;
    }
    Ok(0)
}

const ARCH_SET_GS: u64 = 0x1001;
const ARCH_SET_FS: u64 = 0x1002;
const ARCH_GET_FS: u64 = 0x1003;
const ARCH_GET_GS: u64 = 0x1004;

pub fn sys_arch_prctl(p: &mut Thread, a: Args) -> SysResult {
    let value = a.raw(1);
    match a.raw(0) {
        ARCH_SET_FS => {
            if value >= isounik_abi::layout::USER_END {
                return Err(Errno::EPERM);
            }
            p.ctx.fs_base = value;
            Ok(0)
        }
        ARCH_GET_FS => {
            let fs = p.ctx.fs_base;
            p.mm().write(value, &fs.to_le_bytes())?;
            Ok(0)
        }
        // The user GS base is not switched yet; nothing in static libcs uses it.
        ARCH_SET_GS | ARCH_GET_GS => Err(Errno::EINVAL),
        _ => Err(Errno::EINVAL),
    }
}

pub fn sys_set_tid_address(c: &Caller, a: Args) -> SysResult {
    c.shared.clear_child_tid.store(a.ptr(0), Ordering::Relaxed);
    Ok(c.tid as u64)
}

pub fn sys_set_robust_list(c: &Caller, a: Args) -> SysResult {
    if a.raw(1) != 24 {
        return Err(Errno::EINVAL);
    }
    c.shared.robust_list[0].store(a.ptr(0), Ordering::Relaxed);
    c.shared.robust_list[1].store(a.raw(1), Ordering::Relaxed);
    Ok(0)
}

pub fn sys_get_robust_list(c: &Caller, a: Args) -> SysResult {
    if a.int(0) != 0 && a.uint(0) != c.tid {
        return Err(Errno::ESRCH);
    }
    let head = c.shared.robust_list[0].load(Ordering::Relaxed);
    let len = c.shared.robust_list[1].load(Ordering::Relaxed);
    c.write(a.ptr(1), &head.to_le_bytes())?;
    c.write(a.ptr(2), &len.to_le_bytes())?;
    Ok(0)
}

pub fn sys_setsid(c: &Caller, _a: Args) -> SysResult {
    let pid = c.pid;
    // No process group may be named after the caller (it leads one, or once did and
    // members are left), as Linux: the new session's group would not be new.
    let group_exists = proc::all_processes()
        .iter()
        .any(|q| q.pid != pid && q.inner.lock().pgid == pid);
    let mut inner = c.inner();
    if inner.pgid == pid || group_exists {
        return Err(Errno::EPERM);
    }
    inner.sid = pid;
    inner.pgid = pid;
    Ok(pid as u64)
}

pub fn sys_setpgid(c: &Caller, a: Args) -> SysResult {
    let target = if a.int(0) == 0 {
        c.pid
    } else {
        a.int(0) as u32
    };
    let pgid = if a.int(1) == 0 {
        target
    } else {
        a.int(1) as u32
    };
    if a.int(0) < 0 || a.int(1) < 0 {
        return Err(Errno::EINVAL);
    }
    let proc = proc::process(target).ok_or(Errno::ESRCH)?;
    let my_sid = c.inner().sid;
    if target != c.pid && proc.inner.lock().ppid != c.pid {
        return Err(Errno::ESRCH);
    }
    let mut inner = proc.inner.lock();
    if inner.sid != my_sid {
        return Err(Errno::EPERM);
    }
    if inner.sid == target {
        return Err(Errno::EPERM); // a session leader keeps its group
    }
    if pgid != target {
        // Joining a group: it must exist in the same session.
        drop(inner);
        let exists = proc::all_processes().iter().any(|q| {
            let qi = q.inner.lock();
            qi.pgid == pgid && qi.sid == my_sid
        });
        if !exists {
            return Err(Errno::EPERM);
        }
        inner = proc.inner.lock();
    }
    inner.pgid = pgid;
    Ok(0)
}

fn rlimit_index(resource: u64) -> Result<usize, Errno> {
    if resource < 16 {
        Ok(resource as usize)
    } else {
        Err(Errno::EINVAL)
    }
}

fn read_rlimit(c: &Caller, addr: u64) -> Result<(u64, u64), Errno> {
    let mut soft = [0u8; 8];
    let mut hard = [0u8; 8];
    c.read(addr, &mut soft)?;
    c.read(addr + 8, &mut hard)?;
    let (soft, hard) = (u64::from_le_bytes(soft), u64::from_le_bytes(hard));
    if soft > hard {
        return Err(Errno::EINVAL);
    }
    Ok((soft, hard))
}

fn write_rlimit(c: &Caller, addr: u64, (soft, hard): (u64, u64)) -> Result<(), Errno> {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&soft.to_le_bytes());
    b[8..].copy_from_slice(&hard.to_le_bytes());
    c.write(addr, &b)
}

pub fn sys_prlimit64(c: &Caller, a: Args) -> SysResult {
    if a.int(0) != 0 && a.uint(0) != c.pid {
        return Err(Errno::ESRCH);
    }
    let i = rlimit_index(a.raw(1))?;
    let old = c.inner().rlimits[i];
    let new = if a.ptr(2) != 0 {
        Some(read_rlimit(c, a.ptr(2))?)
    } else {
        None
    };
    if a.ptr(3) != 0 {
        write_rlimit(c, a.ptr(3), old)?;
    }
    if let Some(new) = new {
        c.inner().rlimits[i] = new;
    }
    Ok(0)
}

pub fn sys_getrlimit(c: &Caller, a: Args) -> SysResult {
    let i = rlimit_index(a.raw(0))?;
    let limit = c.inner().rlimits[i];
    write_rlimit(c, a.ptr(1), limit)?;
    Ok(0)
}

pub fn sys_setrlimit(c: &Caller, a: Args) -> SysResult {
    let i = rlimit_index(a.raw(0))?;
    let new = read_rlimit(c, a.ptr(1))?;
    c.inner().rlimits[i] = new;
    Ok(0)
}

pub fn sys_getrusage(c: &Caller, a: Args) -> SysResult {
    let who = a.int(0);
    if !(-1..=1).contains(&who) {
        return Err(Errno::EINVAL);
    }
    // struct rusage: utime and stime from the process's lifetime, the rest zero.
    let mut b = [0u8; 144];
    let ns = crate::time::uptime_ns();
    b[0..8].copy_from_slice(&((ns / 1_000_000_000) as i64).to_le_bytes());
    b[8..16].copy_from_slice(&(((ns / 1000) % 1_000_000) as i64).to_le_bytes());
    c.write(a.ptr(1), &b)?;
    Ok(0)
}

pub fn sys_umask(c: &Caller, a: Args) -> SysResult {
    let mut fs = c.fs.lock();
    let old = fs.umask;
    fs.umask = a.uint(0) & 0o777;
    Ok(old as u64)
}

pub fn sys_getpid(c: &Caller, _a: Args) -> SysResult {
    Ok(c.pid as u64)
}

pub fn sys_gettid(c: &Caller, _a: Args) -> SysResult {
    Ok(c.tid as u64)
}

pub fn sys_getppid(c: &Caller, _a: Args) -> SysResult {
    Ok(c.inner().ppid as u64)
}

/// Every process runs as root (uid and gid 0) for now.
pub fn sys_getuid(_c: &Caller, _a: Args) -> SysResult {
    Ok(0)
}

pub fn sys_getresuid(c: &Caller, a: Args) -> SysResult {
    for i in 0..3 {
        c.write(a.ptr(i), &0u32.to_le_bytes())?;
    }
    Ok(0)
}

pub fn sys_getgroups(c: &Caller, a: Args) -> SysResult {
    let size = a.int(0);
    if size < 0 {
        return Err(Errno::EINVAL);
    }
    if size >= 1 {
        c.write(a.ptr(1), &0u32.to_le_bytes())?;
    }
    Ok(1)
}

pub fn sys_setuid(_c: &Caller, a: Args) -> SysResult {
    // Root may become root; other identities arrive with users.
    if a.uint(0) == 0 {
        Ok(0)
    } else {
        Err(Errno::EPERM)
    }
}

pub fn sys_getpgrp(c: &Caller, _a: Args) -> SysResult {
    Ok(c.inner().pgid as u64)
}

/// A field of the process a getpgid/getsid-style call names: its first argument, 0 for the
/// caller. Another process is looked up in ring 0 (the process table, a reference count).
fn of_named_process(c: &Caller, a: &Args, field: fn(&proc::ProcInner) -> proc::Pid) -> SysResult {
    let pid = a.int(0);
    if pid == 0 || pid as u32 == c.pid {
        return Ok(field(&c.inner()) as u64);
    }
    c.ring0_if(true)?; // the process table, a reference count
    let process = proc::process(pid as u32).ok_or(Errno::ESRCH)?;
    let value = field(&process.inner.lock());
    Ok(value as u64)
}

pub fn sys_getpgid(c: &Caller, a: Args) -> SysResult {
    of_named_process(c, &a, |p| p.pgid)
}

pub fn sys_getsid(c: &Caller, a: Args) -> SysResult {
    of_named_process(c, &a, |p| p.sid)
}

pub fn sys_sched_yield(_c: &Caller, _a: Args) -> SysResult {
    crate::sched::yield_now();
    Ok(0)
}

pub fn sys_sched_getaffinity(c: &Caller, a: Args) -> SysResult {
    let len = a.usize(1);
    if len < 8 || !len.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    // One CPU: CPU 0.
    c.write(a.ptr(2), &1u64.to_le_bytes())?;
    Ok(8)
}

const PR_SET_PDEATHSIG: u64 = 1;
const PR_GET_PDEATHSIG: u64 = 2;
const PR_GET_DUMPABLE: u64 = 3;
const PR_SET_DUMPABLE: u64 = 4;
const PR_SET_NAME: u64 = 15;
const PR_GET_NAME: u64 = 16;
const PR_SET_NO_NEW_PRIVS: u64 = 38;
const PR_GET_NO_NEW_PRIVS: u64 = 39;

pub fn sys_prctl(c: &Caller, a: Args) -> SysResult {
    match a.raw(0) {
        PR_SET_NAME => {
            // Up to 15 bytes and a NUL, read a byte at a time (the string may end just
            // before an unmapped page).
            let mut name = [0u8; 16];
            for (i, byte) in name.iter_mut().take(15).enumerate() {
                c.read(a.ptr(1).wrapping_add(i as u64), core::slice::from_mut(byte))?;
                if *byte == 0 {
                    break;
                }
            }
            c.inner().name = name;
            Ok(0)
        }
        PR_GET_NAME => {
            let name = c.inner().name;
            c.write(a.ptr(1), &name)?;
            Ok(0)
        }
        PR_SET_PDEATHSIG | PR_SET_DUMPABLE | PR_SET_NO_NEW_PRIVS => Ok(0),
        PR_GET_PDEATHSIG => {
            c.write(a.ptr(1), &0i32.to_le_bytes())?;
            Ok(0)
        }
        PR_GET_DUMPABLE => Ok(1),
        PR_GET_NO_NEW_PRIVS => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

pub fn sys_getrandom(c: &Caller, a: Args) -> SysResult {
    const GRND_NONBLOCK: u64 = 1;
    const GRND_RANDOM: u64 = 2;
    const GRND_INSECURE: u64 = 4;
    if cfg!(feature = "panic-in-gate") && a.raw(2) == 0x4953_4f55 {
        panic!("deliberate panic (test kernel)");
    }
    if a.raw(2) & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0 {
        return Err(Errno::EINVAL);
    }
    let len = a.usize(1).min(32 * 1024 * 1024);
    let mut chunk = [0u8; 256];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(chunk.len());
        crate::random::fill(&mut chunk[..n]);
        c.write(a.ptr(0) + done as u64, &chunk[..n])?;
        done += n;
    }
    Ok(len as u64)
}

/// `rseq` and other calls that static C libraries probe for and fall back from.
pub fn sys_enosys_quiet(_c: &Caller, _a: Args) -> SysResult {
    Err(Errno::ENOSYS)
}

fn read_string_array(p: &mut Thread, mut addr: u64) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    loop {
        let mut ptr = [0u8; 8];
        p.mm().read(addr, &mut ptr)?;
        let s = u64::from_le_bytes(ptr);
        if s == 0 {
            return Ok(out);
        }
        if out.len() >= 100_000 {
            return Err(Errno::E2BIG);
        }
        out.push(Caller::of(p).read_cstr(s, 128 * 1024).map_err(|e| {
            if e == Errno::ENAMETOOLONG {
                Errno::E2BIG
            } else {
                e
            }
        })?);
        addr += 8;
    }
}

pub fn sys_execve(p: &mut Thread, a: Args) -> SysResult {
    let path = Caller::of(p).read_cstr(a.ptr(0), 4095)?;
    let argv = read_string_array(p, a.ptr(1))?;
    let envp = read_string_array(p, a.ptr(2))?;
    proc::exec_in_place(p, &path, argv, envp)?;
    // The new program starts with the registers `exec_in_place` set; rax must stay 0.
    Ok(0)
}
