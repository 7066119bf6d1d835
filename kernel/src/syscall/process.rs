//! Process-wide calls: exit, identity, limits, arch_prctl, prctl, getrandom, execve.

use alloc::vec::Vec;

use isounik_linux::errno::Errno;

use super::{Args, SysResult};
use crate::proc::{ExitStatus, Process};

pub fn sys_exit(p: &mut Process, a: Args) -> SysResult {
    // One thread per process so far: exit ends the process.
    p.exit = Some(ExitStatus::Exited(a.int(0) as u8));
    Ok(0)
}

pub fn sys_exit_group(p: &mut Process, a: Args) -> SysResult {
    p.exit = Some(ExitStatus::Exited(a.int(0) as u8));
    Ok(0)
}

const ARCH_SET_GS: u64 = 0x1001;
const ARCH_SET_FS: u64 = 0x1002;
const ARCH_GET_FS: u64 = 0x1003;
const ARCH_GET_GS: u64 = 0x1004;

pub fn sys_arch_prctl(p: &mut Process, a: Args) -> SysResult {
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
            p.mm.write(value, &fs.to_le_bytes())?;
            Ok(0)
        }
        // The user GS base is not switched yet; nothing in static libcs uses it.
        ARCH_SET_GS | ARCH_GET_GS => Err(Errno::EINVAL),
        _ => Err(Errno::EINVAL),
    }
}

pub fn sys_set_tid_address(p: &mut Process, a: Args) -> SysResult {
    p.clear_child_tid = a.ptr(0);
    Ok(p.pid as u64)
}

pub fn sys_set_robust_list(p: &mut Process, a: Args) -> SysResult {
    if a.raw(1) != 24 {
        return Err(Errno::EINVAL);
    }
    p.robust_list = (a.ptr(0), a.raw(1));
    Ok(0)
}

pub fn sys_get_robust_list(p: &mut Process, a: Args) -> SysResult {
    if a.int(0) != 0 && a.uint(0) != p.pid {
        return Err(Errno::ESRCH);
    }
    let (head, len) = p.robust_list;
    p.mm.write(a.ptr(1), &head.to_le_bytes())?;
    p.mm.write(a.ptr(2), &len.to_le_bytes())?;
    Ok(0)
}

fn rlimit_index(resource: u64) -> Result<usize, Errno> {
    if resource < 16 {
        Ok(resource as usize)
    } else {
        Err(Errno::EINVAL)
    }
}

fn read_rlimit(p: &mut Process, addr: u64) -> Result<(u64, u64), Errno> {
    let mut b = [0u8; 16];
    p.mm.read(addr, &mut b)?;
    let soft = u64::from_le_bytes(b[..8].try_into().expect("8"));
    let hard = u64::from_le_bytes(b[8..].try_into().expect("8"));
    if soft > hard {
        return Err(Errno::EINVAL);
    }
    Ok((soft, hard))
}

fn write_rlimit(p: &mut Process, addr: u64, (soft, hard): (u64, u64)) -> Result<(), Errno> {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&soft.to_le_bytes());
    b[8..].copy_from_slice(&hard.to_le_bytes());
    p.mm.write(addr, &b)
}

pub fn sys_prlimit64(p: &mut Process, a: Args) -> SysResult {
    if a.int(0) != 0 && a.uint(0) != p.pid {
        return Err(Errno::ESRCH);
    }
    let i = rlimit_index(a.raw(1))?;
    let old = p.rlimits[i];
    let new = if a.ptr(2) != 0 {
        Some(read_rlimit(p, a.ptr(2))?)
    } else {
        None
    };
    if a.ptr(3) != 0 {
        write_rlimit(p, a.ptr(3), old)?;
    }
    if let Some(new) = new {
        p.rlimits[i] = new;
    }
    Ok(0)
}

pub fn sys_getrlimit(p: &mut Process, a: Args) -> SysResult {
    let i = rlimit_index(a.raw(0))?;
    let limit = p.rlimits[i];
    write_rlimit(p, a.ptr(1), limit)?;
    Ok(0)
}

pub fn sys_setrlimit(p: &mut Process, a: Args) -> SysResult {
    let i = rlimit_index(a.raw(0))?;
    p.rlimits[i] = read_rlimit(p, a.ptr(1))?;
    Ok(0)
}

pub fn sys_getrusage(p: &mut Process, a: Args) -> SysResult {
    let who = a.int(0);
    if !(-1..=1).contains(&who) {
        return Err(Errno::EINVAL);
    }
    // struct rusage: utime and stime from the process's lifetime, the rest zero.
    let mut b = [0u8; 144];
    let ns = crate::time::uptime_ns();
    b[0..8].copy_from_slice(&((ns / 1_000_000_000) as i64).to_le_bytes());
    b[8..16].copy_from_slice(&(((ns / 1000) % 1_000_000) as i64).to_le_bytes());
    p.mm.write(a.ptr(1), &b)?;
    Ok(0)
}

pub fn sys_umask(p: &mut Process, a: Args) -> SysResult {
    let old = p.umask;
    p.umask = a.uint(0) & 0o777;
    Ok(old as u64)
}

pub fn sys_getpid(p: &mut Process, _a: Args) -> SysResult {
    Ok(p.pid as u64)
}

pub fn sys_gettid(p: &mut Process, _a: Args) -> SysResult {
    Ok(p.pid as u64)
}

pub fn sys_getppid(p: &mut Process, _a: Args) -> SysResult {
    Ok(p.ppid as u64)
}

/// Every process runs as root (uid and gid 0) for now.
pub fn sys_getuid(_p: &mut Process, _a: Args) -> SysResult {
    Ok(0)
}

pub fn sys_getresuid(p: &mut Process, a: Args) -> SysResult {
    for i in 0..3 {
        p.mm.write(a.ptr(i), &0u32.to_le_bytes())?;
    }
    Ok(0)
}

pub fn sys_getgroups(p: &mut Process, a: Args) -> SysResult {
    let size = a.int(0);
    if size < 0 {
        return Err(Errno::EINVAL);
    }
    if size >= 1 {
        p.mm.write(a.ptr(1), &0u32.to_le_bytes())?;
    }
    Ok(1)
}

pub fn sys_setuid(_p: &mut Process, a: Args) -> SysResult {
    // Root may become root; other identities arrive with users.
    if a.uint(0) == 0 {
        Ok(0)
    } else {
        Err(Errno::EPERM)
    }
}

pub fn sys_getpgrp(p: &mut Process, _a: Args) -> SysResult {
    Ok(p.pid as u64)
}

pub fn sys_getpgid(p: &mut Process, a: Args) -> SysResult {
    match a.int(0) {
        0 => Ok(p.pid as u64),
        pid if pid as u32 == p.pid => Ok(p.pid as u64),
        _ => Err(Errno::ESRCH),
    }
}

pub fn sys_sched_yield(_p: &mut Process, _a: Args) -> SysResult {
    Ok(0)
}

pub fn sys_sched_getaffinity(p: &mut Process, a: Args) -> SysResult {
    let len = a.usize(1);
    if len < 8 || !len.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    // One CPU: CPU 0.
    p.mm.write(a.ptr(2), &1u64.to_le_bytes())?;
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

pub fn sys_prctl(p: &mut Process, a: Args) -> SysResult {
    match a.raw(0) {
        PR_SET_NAME => {
            let name = p.mm.read_cstr(a.ptr(1), 4096)?;
            let n = name.len().min(15);
            p.name = [0; 16];
            p.name[..n].copy_from_slice(&name[..n]);
            Ok(0)
        }
        PR_GET_NAME => {
            let name = p.name;
            p.mm.write(a.ptr(1), &name)?;
            Ok(0)
        }
        PR_SET_PDEATHSIG | PR_SET_DUMPABLE | PR_SET_NO_NEW_PRIVS => Ok(0),
        PR_GET_PDEATHSIG => {
            p.mm.write(a.ptr(1), &0i32.to_le_bytes())?;
            Ok(0)
        }
        PR_GET_DUMPABLE => Ok(1),
        PR_GET_NO_NEW_PRIVS => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

pub fn sys_getrandom(p: &mut Process, a: Args) -> SysResult {
    const GRND_NONBLOCK: u64 = 1;
    const GRND_RANDOM: u64 = 2;
    const GRND_INSECURE: u64 = 4;
    if a.raw(2) & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0 {
        return Err(Errno::EINVAL);
    }
    let len = a.usize(1).min(32 * 1024 * 1024);
    let mut chunk = [0u8; 256];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(chunk.len());
        crate::random::fill(&mut chunk[..n]);
        p.mm.write(a.ptr(0) + done as u64, &chunk[..n])?;
        done += n;
    }
    Ok(len as u64)
}

/// `rseq` and other calls that static C libraries probe for and fall back from.
pub fn sys_enosys_quiet(_p: &mut Process, _a: Args) -> SysResult {
    Err(Errno::ENOSYS)
}

fn read_string_array(p: &mut Process, mut addr: u64) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    loop {
        let mut ptr = [0u8; 8];
        p.mm.read(addr, &mut ptr)?;
        let s = u64::from_le_bytes(ptr);
        if s == 0 {
            return Ok(out);
        }
        if out.len() >= 100_000 {
            return Err(Errno::E2BIG);
        }
        out.push(p.mm.read_cstr(s, 128 * 1024).map_err(|e| {
            if e == Errno::ENAMETOOLONG {
                Errno::E2BIG
            } else {
                e
            }
        })?);
        addr += 8;
    }
}

pub fn sys_execve(p: &mut Process, a: Args) -> SysResult {
    let path = p.mm.read_cstr(a.ptr(0), 4095)?;
    let argv = read_string_array(p, a.ptr(1))?;
    let envp = read_string_array(p, a.ptr(2))?;
    crate::proc::exec_in_place(p, &path, argv, envp)?;
    // The new program starts with the registers `exec_in_place` set; rax must stay 0.
    Ok(0)
}
