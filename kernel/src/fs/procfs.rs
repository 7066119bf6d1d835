//! A minimal /proc: `self`, `<pid>/{exe,cwd,fd/,maps,cmdline,comm,status,stat,environ}`,
//! `meminfo`, `cpuinfo`, `uptime`, `version`, `mounts`, `filesystems`, `loadavg`. Contents
//! are generated when a file is opened.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use isounik_linux::errno::Errno;

use super::StatInfo;
use crate::proc::Thread;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcNode {
    Root,
    SelfLink,
    Pid(u32),
    Exe(u32),
    Cwd(u32),
    FdDir(u32),
    Fd(u32, usize),
    PidFile(u32, PidFile),
    File(GlobalFile),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PidFile {
    Maps,
    Cmdline,
    Comm,
    Status,
    Stat,
    Environ,
    Mounts,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlobalFile {
    Meminfo,
    Cpuinfo,
    Uptime,
    Version,
    Mounts,
    Filesystems,
    Loadavg,
}

const PID_FILES: [(&str, PidFile); 7] = [
    ("maps", PidFile::Maps),
    ("cmdline", PidFile::Cmdline),
    ("comm", PidFile::Comm),
    ("status", PidFile::Status),
    ("stat", PidFile::Stat),
    ("environ", PidFile::Environ),
    ("mounts", PidFile::Mounts),
];

const GLOBAL_FILES: [(&str, GlobalFile); 7] = [
    ("meminfo", GlobalFile::Meminfo),
    ("cpuinfo", GlobalFile::Cpuinfo),
    ("uptime", GlobalFile::Uptime),
    ("version", GlobalFile::Version),
    ("mounts", GlobalFile::Mounts),
    ("filesystems", GlobalFile::Filesystems),
    ("loadavg", GlobalFile::Loadavg),
];

impl ProcNode {
    /// The path below /proc.
    pub fn path(&self) -> Vec<u8> {
        let s = match self {
            ProcNode::Root => String::new(),
            ProcNode::SelfLink => String::from("self"),
            ProcNode::Pid(p) => alloc::format!("{p}"),
            ProcNode::Exe(p) => alloc::format!("{p}/exe"),
            ProcNode::Cwd(p) => alloc::format!("{p}/cwd"),
            ProcNode::FdDir(p) => alloc::format!("{p}/fd"),
            ProcNode::Fd(p, fd) => alloc::format!("{p}/fd/{fd}"),
            ProcNode::PidFile(p, f) => {
                let name = PID_FILES
                    .iter()
                    .find(|(_, k)| k == f)
                    .map(|(n, _)| *n)
                    .unwrap_or("?");
                alloc::format!("{p}/{name}")
            }
            ProcNode::File(f) => String::from(
                GLOBAL_FILES
                    .iter()
                    .find(|(_, k)| k == f)
                    .map(|(n, _)| *n)
                    .unwrap_or("?"),
            ),
        };
        s.into_bytes()
    }

    pub fn is_dir(&self) -> bool {
        matches!(self, ProcNode::Root | ProcNode::Pid(_) | ProcNode::FdDir(_))
    }

    pub fn is_symlink(&self) -> bool {
        matches!(
            self,
            ProcNode::SelfLink | ProcNode::Exe(_) | ProcNode::Cwd(_) | ProcNode::Fd(..)
        )
    }
}

/// What a lookup inside /proc found.
pub enum Lookup {
    Node(ProcNode),
    /// A symlink to follow: continue with `target` joined with `remaining`.
    Symlink {
        target: Vec<u8>,
        remaining: Vec<u8>,
    },
    /// ".." climbed out of /proc: continue with `remaining` from /proc's parent.
    Up(Vec<u8>),
}

/// The target of a /proc symlink.
pub fn readlink(p: &Thread, node: &ProcNode) -> Result<Vec<u8>, Errno> {
    match node {
        ProcNode::SelfLink => Ok(alloc::format!("{}", p.pid).into_bytes()),
        ProcNode::Exe(pid) => Ok(snapshot(*pid)?.exe.into_bytes()),
        ProcNode::Cwd(pid) if *pid == p.pid => Ok(super::path_of(&p.cwd())),
        // Another process's working directory and descriptors live in its threads.
        ProcNode::Cwd(_) => Err(Errno::EACCES),
        ProcNode::Fd(_, fd) => Ok(p.files().get(*fd)?.describe()),
        _ => Err(Errno::EINVAL),
    }
}

fn parse_pid(_p: &Thread, name: &[u8]) -> Option<u32> {
    let pid: u32 = core::str::from_utf8(name).ok()?.parse().ok()?;
    crate::proc::process(pid).map(|_| pid)
}

/// What /proc shows of process `pid` (any process, zombies included).
struct Snapshot {
    name: Vec<u8>,
    state: char,
    ppid: u32,
    pgid: u32,
    sid: u32,
    exe: String,
    cmdline: Vec<u8>,
    threads: usize,
}

fn snapshot(pid: u32) -> Result<Snapshot, Errno> {
    let process = crate::proc::process(pid).ok_or(Errno::ENOENT)?;
    let inner = process.inner.lock();
    let end = inner.name.iter().position(|b| *b == 0).unwrap_or(16);
    let state = if inner.zombie.is_some() {
        'Z'
    } else if inner.stopped.is_some() {
        'T'
    } else {
        'S'
    };
    Ok(Snapshot {
        name: inner.name[..end].to_vec(),
        state,
        ppid: inner.ppid,
        pgid: inner.pgid,
        sid: inner.sid,
        exe: inner.exe.clone(),
        cmdline: if inner.zombie.is_some() {
            Vec::new()
        } else {
            inner.cmdline.clone()
        },
        threads: inner.threads.len().max(1),
    })
}

/// Resolves `rest` (relative to /proc) for process `p`.
pub fn lookup(p: &Thread, rest: &[u8], follow: bool) -> Result<Lookup, Errno> {
    let parts: Vec<&[u8]> = rest
        .split(|b| *b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .collect();
    let mut node = ProcNode::Root;
    // "link/" and "link/." name what the link points to, like a trailing slash.
    let trailing_slash = rest.ends_with(b"/") || rest.ends_with(b"/.") || rest == b".";
    let mut i = 0;
    while i < parts.len() {
        let name = parts[i];
        let last = i + 1 == parts.len();
        let remaining = || parts[i + 1..].join(&b'/');
        if name == b".." {
            node = match node {
                ProcNode::Root => {
                    return Ok(Lookup::Up(remaining()));
                }
                ProcNode::Pid(_) => ProcNode::Root,
                ProcNode::FdDir(pid) => ProcNode::Pid(pid),
                _ => return Err(Errno::ENOTDIR),
            };
            i += 1;
            continue;
        }
        let next = match &node {
            ProcNode::Root => {
                if name == b"self" {
                    ProcNode::SelfLink
                } else if let Some(pid) = parse_pid(p, name) {
                    ProcNode::Pid(pid)
                } else {
                    let f = GLOBAL_FILES
                        .iter()
                        .find(|(n, _)| n.as_bytes() == name)
                        .ok_or(Errno::ENOENT)?;
                    ProcNode::File(f.1)
                }
            }
            ProcNode::Pid(pid) => match name {
                b"exe" => ProcNode::Exe(*pid),
                b"cwd" => ProcNode::Cwd(*pid),
                b"fd" => ProcNode::FdDir(*pid),
                _ => {
                    let f = PID_FILES
                        .iter()
                        .find(|(n, _)| n.as_bytes() == name)
                        .ok_or(Errno::ENOENT)?;
                    ProcNode::PidFile(*pid, f.1)
                }
            },
            ProcNode::FdDir(pid) => {
                let fd: usize = core::str::from_utf8(name)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or(Errno::ENOENT)?;
                p.files().get(fd).map_err(|_| Errno::ENOENT)?;
                ProcNode::Fd(*pid, fd)
            }
            _ => return Err(Errno::ENOTDIR),
        };
        if next.is_symlink() && (!last || follow || trailing_slash) {
            let target = readlink(p, &next)?;
            // "self" points inside /proc; the others at absolute paths (or pseudo names such
            // as "pipe:[3]", which resolve to nothing).
            if next == ProcNode::SelfLink {
                node = ProcNode::Pid(p.pid);
                i += 1;
                continue;
            }
            if !target.starts_with(b"/") {
                return Err(Errno::ENOENT);
            }
            return Ok(Lookup::Symlink {
                target,
                remaining: remaining(),
            });
        }
        node = next;
        i += 1;
    }
    if trailing_slash && !node.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(Lookup::Node(node))
}

fn inode_number(node: &ProcNode) -> u64 {
    // Stable, distinct numbers: a hash of the path (FNV-1a), kept away from small numbers.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in node.path() {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    (h >> 16) | 0x1000
}

pub fn stat(p: &Thread, node: &ProcNode) -> Result<StatInfo, Errno> {
    if *node == ProcNode::Root {
        // /proc itself shows the attributes of the directory it is mounted on.
        if let Some(id) = super::PROC_MOUNT_INODE.get() {
            return super::with_vfs(|v| v.stat(*id))
                .map(StatInfo::from_vfs)
                .map_err(super::errno);
        }
    }
    let boot = crate::time::realtime_ns() - crate::time::uptime_ns();
    let (mode, nlink, size) = if node.is_dir() {
        (0o040555, 2, 0)
    } else if node.is_symlink() {
        (
            0o120777,
            1,
            readlink(p, node).map(|t| t.len() as u64).unwrap_or(0),
        )
    } else {
        (0o100444, 1, 0)
    };
    Ok(StatInfo::synthetic(
        inode_number(node),
        mode,
        nlink,
        size,
        boot,
        StatInfo::PROC_DEV,
    ))
}

/// Directory entries: (name, inode, d_type).
pub fn list(p: &Thread, node: &ProcNode) -> Result<Vec<(Vec<u8>, u64, u8)>, Errno> {
    const DT_DIR: u8 = 4;
    const DT_REG: u8 = 8;
    const DT_LNK: u8 = 10;
    let mut out = Vec::new();
    let entry = |n: ProcNode, name: &[u8], t: u8| (name.to_vec(), inode_number(&n), t);
    match node {
        ProcNode::Root => {
            for q in crate::proc::all_processes() {
                out.push(entry(
                    ProcNode::Pid(q.pid),
                    alloc::format!("{}", q.pid).as_bytes(),
                    DT_DIR,
                ));
            }
            out.push(entry(ProcNode::SelfLink, b"self", DT_LNK));
            for (name, f) in GLOBAL_FILES {
                out.push(entry(ProcNode::File(f), name.as_bytes(), DT_REG));
            }
        }
        ProcNode::Pid(pid) => {
            out.push(entry(ProcNode::Exe(*pid), b"exe", DT_LNK));
            out.push(entry(ProcNode::Cwd(*pid), b"cwd", DT_LNK));
            out.push(entry(ProcNode::FdDir(*pid), b"fd", DT_DIR));
            for (name, f) in PID_FILES {
                out.push(entry(ProcNode::PidFile(*pid, f), name.as_bytes(), DT_REG));
            }
        }
        ProcNode::FdDir(pid) => {
            if *pid != p.pid {
                return Err(Errno::EACCES);
            }
            for fd in p.files().open_fds() {
                out.push(entry(
                    ProcNode::Fd(*pid, fd),
                    alloc::format!("{fd}").as_bytes(),
                    DT_LNK,
                ));
            }
        }
        _ => return Err(Errno::ENOTDIR),
    }
    Ok(out)
}

/// The contents of a /proc file at the moment it is opened.
pub fn contents(p: &Thread, node: &ProcNode) -> Result<Vec<u8>, Errno> {
    let mut s = String::new();
    match node {
        ProcNode::PidFile(pid, PidFile::Maps | PidFile::Environ) if *pid != p.pid => {
            return Err(Errno::EACCES)
        }
        ProcNode::PidFile(
            pid,
            f @ (PidFile::Cmdline | PidFile::Comm | PidFile::Status | PidFile::Stat),
        ) if *pid != p.pid || matches!(f, PidFile::Stat | PidFile::Status) => {
            let snap = snapshot(*pid)?;
            let name = String::from_utf8_lossy(&snap.name).into_owned();
            match f {
                PidFile::Cmdline => return Ok(snap.cmdline),
                PidFile::Comm => {
                    let mut v = snap.name;
                    v.push(b'\n');
                    return Ok(v);
                }
                PidFile::Status => {
                    let _ = write!(
                        s,
                        "Name:\t{name}\nState:\t{} ({})\nTgid:\t{pid}\nNgid:\t0\nPid:\t{pid}\nPPid:\t{}\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t{}\n",
                        snap.state,
                        match snap.state {
                            'Z' => "zombie",
                            'T' => "stopped",
                            _ => "sleeping",
                        },
                        snap.ppid,
                        snap.threads
                    );
                }
                _ => {
                    let _ = writeln!(
                        s,
                        "{pid} ({name}) {} {} {} {} 0 -1 0 0 0 0 0 0 0 0 0 20 0 {} 0 0 0 0",
                        snap.state, snap.ppid, snap.pgid, snap.sid, snap.threads
                    );
                }
            }
        }
        ProcNode::PidFile(_, PidFile::Maps) => {
            for v in p.mm().vmas() {
                let perms = [
                    if v.prot.read { 'r' } else { '-' },
                    if v.prot.write { 'w' } else { '-' },
                    if v.prot.exec { 'x' } else { '-' },
                    'p',
                ];
                let (offset, name) = match (&v.backing, &v.name) {
                    (
                        crate::mm::vm::Backing::File { offset, .. },
                        crate::mm::vm::VmaName::Path(path),
                    ) => (*offset, path.as_str()),
                    (_, crate::mm::vm::VmaName::Heap) => (0, "[heap]"),
                    (_, crate::mm::vm::VmaName::Stack) => (0, "[stack]"),
                    (_, crate::mm::vm::VmaName::Vvar) => (0, "[vvar]"),
                    (_, crate::mm::vm::VmaName::Vdso) => (0, "[vdso]"),
                    _ => (0, ""),
                };
                let perms: String = perms.iter().collect();
                let _ = writeln!(
                    s,
                    "{:08x}-{:08x} {perms} {offset:08x} 00:00 0 {}{name}",
                    v.start,
                    v.end,
                    if name.is_empty() {
                        ""
                    } else {
                        "                          "
                    }
                );
            }
        }
        ProcNode::PidFile(_, PidFile::Cmdline) => return Ok(p.inner().cmdline.clone()),
        ProcNode::PidFile(_, PidFile::Environ) => return Ok(Vec::new()),
        ProcNode::PidFile(_, PidFile::Comm) => {
            let name = p.inner().name;
            let end = name.iter().position(|b| *b == 0).unwrap_or(16);
            let mut v = name[..end].to_vec();
            v.push(b'\n');
            return Ok(v);
        }
        ProcNode::PidFile(_, PidFile::Status) => {
            let raw = p.inner().name;
            let end = raw.iter().position(|b| *b == 0).unwrap_or(16);
            let name = String::from_utf8_lossy(&raw[..end]);
            let _ = write!(
                s,
                "Name:\t{name}\nUmask:\t{:04o}\nState:\tR (running)\nTgid:\t{pid}\nNgid:\t0\nPid:\t{pid}\nPPid:\t{}\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t64\nThreads:\t1\nSigBlk:\t{:016x}\n",
                p.umask(),
                p.ppid(),
                p.blocked(),
                pid = p.pid
            );
        }
        ProcNode::PidFile(_, PidFile::Stat) => {
            let raw = p.inner().name;
            let end = raw.iter().position(|b| *b == 0).unwrap_or(16);
            let name = String::from_utf8_lossy(&raw[..end]);
            let _ = writeln!(
                s,
                "{pid} ({name}) R {} {pid} {pid} 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 0 0 0",
                p.ppid(),
                pid = p.pid
            );
        }
        ProcNode::PidFile(_, PidFile::Mounts) | ProcNode::File(GlobalFile::Mounts) => {
            s.push_str("rootfs / rootfs rw 0 0\nproc /proc proc rw,nosuid,nodev,noexec 0 0\n");
        }
        ProcNode::File(GlobalFile::Meminfo) => {
            let st = crate::mm::stats();
            let kb = |frames: usize| frames as u64 * 4;
            let _ = write!(
                s,
                "MemTotal:       {:8} kB\nMemFree:        {:8} kB\nMemAvailable:   {:8} kB\nBuffers:               0 kB\nCached:                0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n",
                kb(st.total_frames),
                kb(st.free_frames),
                kb(st.available_frames)
            );
        }
        ProcNode::File(GlobalFile::Cpuinfo) => {
            let f = crate::arch::x86_64::cpu::cpu();
            let vendor = core::str::from_utf8(&f.vendor).unwrap_or("unknown");
            let mut flags = String::from(
                "fpu tsc msr pae cx8 apic sep cmov pat clflush mmx fxsr sse sse2 syscall nx lm",
            );
            for (on, name) in [
                (f.xsave, " xsave"),
                (f.avx, " avx"),
                (f.avx512, " avx512f"),
                (f.pku, " pku ospke"),
                (f.fsgsbase, " fsgsbase"),
                (f.pcid, " pcid"),
            ] {
                if on {
                    flags.push_str(name);
                }
            }
            let _ = write!(
                s,
                "processor\t: 0\nvendor_id\t: {vendor}\nmodel name\t: Iso-UniK virtual CPU\ncpu MHz\t\t: {}.{:03}\ncpu cores\t: 1\nflags\t\t: {flags}\n\n",
                crate::time::tsc_hz() / 1_000_000,
                (crate::time::tsc_hz() / 1000) % 1000
            );
        }
        ProcNode::File(GlobalFile::Uptime) => {
            let ns = crate::time::uptime_ns();
            let _ = writeln!(
                s,
                "{}.{:02} 0.00",
                ns / 1_000_000_000,
                (ns / 10_000_000) % 100
            );
        }
        ProcNode::File(GlobalFile::Version) => {
            let _ = writeln!(
                s,
                "Linux version {} (Iso-UniK {}) #1",
                crate::syscall::RELEASE,
                env!("CARGO_PKG_VERSION")
            );
        }
        ProcNode::File(GlobalFile::Filesystems) => s.push_str("nodev\trootfs\nnodev\tproc\n"),
        ProcNode::File(GlobalFile::Loadavg) => {
            let _ = writeln!(s, "0.00 0.00 0.00 1/1 {}", p.pid);
        }
        n if n.is_dir() => return Err(Errno::EISDIR),
        _ => return Err(Errno::EINVAL),
    }
    Ok(s.into_bytes())
}
