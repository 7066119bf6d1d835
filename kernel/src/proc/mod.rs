//! Processes and threads. A `Thread` is what runs (one scheduler task each) and what system
//! calls act on; it shares its address space, descriptors, file-system context and signal
//! handlers with the other threads of its process (and, after `clone` without the sharing
//! flags, gets copies). A `Process` is the thread group: identity, family, exit status.

pub mod exec;
pub(crate) mod oom;
mod run;
pub mod signal;
pub mod vdso;
pub mod wait;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use isounik_abi::pkey::APP_PKRU;
use isounik_linux::errno::Errno;

use crate::arch::x86_64::user::UserContext;
use crate::fs::{FdTable, Node};
use crate::mm::vm::AddressSpace;
use crate::sched::{self, Tid};
pub use run::{kill_by_signal, thread_entry};

pub type Pid = u32;

/// Default for the most processes alive at once (a fork bomb meets EAGAIN and the system
/// survives); `max_procs=N` on the kernel command line changes it.
pub const MAX_PROCESSES: usize = 1024;

static PROCESS_LIMIT: AtomicU32 = AtomicU32::new(MAX_PROCESSES as u32);

/// Sets the process limit (from the command line), at least 2.
pub fn set_process_limit(n: usize) {
    PROCESS_LIMIT.store(n.clamp(2, 1 << 20) as u32, Ordering::Relaxed);
}

pub fn process_limit() -> usize {
    PROCESS_LIMIT.load(Ordering::Relaxed) as usize
}

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Exited(u8),
    Signaled(u8),
}

impl ExitStatus {
    /// The status a shell reports: the exit code, or 128 + signal.
    pub fn shell_status(self) -> u8 {
        match self {
            ExitStatus::Exited(code) => code,
            ExitStatus::Signaled(sig) => 128 + sig,
        }
    }

    /// The `wait` status word.
    pub fn wait_status(self) -> i32 {
        match self {
            ExitStatus::Exited(code) => (code as i32) << 8,
            // No core file is ever written, so the core flag stays clear (as on Linux with
            // the default RLIMIT_CORE of 0).
            ExitStatus::Signaled(sig) => sig as i32,
        }
    }
}

/// Working directory and umask (shared by CLONE_FS).
pub struct FsContext {
    pub cwd: Node,
    pub umask: u32,
}

/// Signal dispositions: the raw kernel `struct sigaction` of signals 1..=64 (shared by
/// CLONE_SIGHAND).
#[derive(Clone)]
pub struct SigHandlers {
    pub actions: [[u8; 32]; 65],
}

/// The state of a thread that others may read or change (its pending signals, its mask,
/// read by senders choosing which thread to wake), or that the MPK gate's handlers may
/// change in ring 3 (they cannot reach the `Thread` itself).
pub struct ThreadShared {
    pub pid: Pid,
    pub pending: AtomicU64,
    pub blocked: AtomicU64,
    /// set_tid_address / CLONE_CHILD_CLEARTID: cleared and woken when the thread ends.
    pub clear_child_tid: AtomicU64,
    /// set_robust_list: head and length.
    pub robust_list: [AtomicU64; 2],
    /// A call the MPK gate ran in ring 3 was interrupted by a signal: its number + 1, for
    /// ring 0 to restart it or make it fail with EINTR (`gate::finished_call`); 0: none.
    pub interrupted_call: AtomicU64,
}

impl ThreadShared {
    fn new(pid: Pid, blocked: u64, clear_child_tid: u64) -> Arc<Self> {
        Arc::new(ThreadShared {
            pid,
            pending: AtomicU64::new(0),
            blocked: AtomicU64::new(blocked),
            clear_child_tid: AtomicU64::new(clear_child_tid),
            robust_list: [AtomicU64::new(0), AtomicU64::new(0)],
            interrupted_call: AtomicU64::new(0),
        })
    }
}

/// The thread group.
pub struct Process {
    pub pid: Pid,
    pub inner: spin::Mutex<ProcInner>,
}

impl ProcInner {
    /// The RLIMIT_NOFILE soft limit, bounded (the most descriptors a process may hold).
    pub fn nofile_limit(&self) -> usize {
        self.rlimits[7].0.min(1 << 20) as usize
    }
}

pub struct ProcInner {
    pub ppid: Pid,
    pub pgid: Pid,
    pub sid: Pid,
    pub children: Vec<Pid>,
    pub threads: Vec<Tid>,
    /// Set when the last thread has exited: the process is a zombie until reaped.
    pub zombie: Option<ExitStatus>,
    /// exit_group or a fatal signal: every thread ends with this status.
    pub group_exit: Option<ExitStatus>,
    /// Stopped by a signal (job control): the signal, until SIGCONT.
    pub stopped: Option<u8>,
    /// A stop or continue the parent has not collected with WUNTRACED/WCONTINUED yet.
    pub stop_report: Option<wait::StopReport>,
    pub exe: String,
    pub cmdline: Vec<u8>,
    pub name: [u8; 16],
    pub rlimits: [(u64, u64); 16],
    /// Signals sent to the process (any thread may take them).
    pub pending: u64,
    /// The siginfo of pending process signals that carry one (kill's sender, SIGCHLD's
    /// child).
    pub siginfo: Vec<(u8, isounik_linux::structs::Siginfo)>,
    /// Tasks blocked in wait4/waitid for a child of this process.
    pub child_waiters: Vec<Tid>,
    /// The parent task blocked in vfork until this child execs or exits.
    pub vfork_parent: Option<Tid>,
    /// ITIMER_REAL / alarm: (uptime ns of expiry, interval ns).
    pub real_timer: Option<(u64, u64)>,
    /// The dispositions its threads share (read by senders and by a child's exit).
    pub sighand: Arc<spin::Mutex<SigHandlers>>,
    /// Its memory, for the out-of-memory killer to weigh (gone once the process has exited).
    pub mm: Weak<spin::Mutex<AddressSpace>>,
}

pub struct Thread {
    pub tid: Tid,
    pub pid: Pid,
    pub process: Arc<Process>,
    pub mm: Arc<spin::Mutex<AddressSpace>>,
    pub files: Arc<spin::Mutex<FdTable>>,
    pub fs: Arc<spin::Mutex<FsContext>>,
    pub sighand: Arc<spin::Mutex<SigHandlers>>,
    pub shared: Arc<ThreadShared>,
    pub ctx: Box<UserContext>,
    pub alt_stack: [u8; 24],
    /// The thread ends (exit) with this status.
    pub exit: Option<ExitStatus>,
    /// The system call being handled, for restarting it after a signal handler.
    pub syscall_nr: u64,
    /// The last system call was interrupted by a signal (ERESTARTSYS): restart it or make
    /// it fail with EINTR, depending on the handler.
    pub restart: bool,
    /// The mask to restore after a handler when rt_sigsuspend/pause set a temporary one.
    pub saved_mask: Option<u64>,
}

pub const RLIM_INFINITY: u64 = u64::MAX;

/// Linux's defaults for a process started by init (stack 8 MiB, 1024 files, ...).
pub fn default_rlimits() -> [(u64, u64); 16] {
    let mut r = [(RLIM_INFINITY, RLIM_INFINITY); 16];
    r[3] = (8 << 20, RLIM_INFINITY); // RLIMIT_STACK
    r[4] = (0, RLIM_INFINITY); // RLIMIT_CORE
    r[6] = (process_limit() as u64, process_limit() as u64); // RLIMIT_NPROC
    r[7] = (1024, 4096); // RLIMIT_NOFILE
    r[8] = (8 << 20, 8 << 20); // RLIMIT_MEMLOCK
    r[13] = (0, 0); // RLIMIT_NICE
    r[14] = (0, 0); // RLIMIT_RTPRIO
    r
}

static PROCESSES: spin::Mutex<BTreeMap<Pid, Arc<Process>>> = spin::Mutex::new(BTreeMap::new());
static THREADS: spin::Mutex<BTreeMap<Tid, Arc<ThreadShared>>> = spin::Mutex::new(BTreeMap::new());
static NEXT_ID: AtomicU32 = AtomicU32::new(1);

/// The process with `pid`, if it exists (zombies included).
pub fn process(pid: Pid) -> Option<Arc<Process>> {
    PROCESSES.lock().get(&pid).cloned()
}

/// Every process, for kill(-1) and process groups.
pub fn all_processes() -> Vec<Arc<Process>> {
    PROCESSES.lock().values().cloned().collect()
}

pub fn thread_shared(tid: Tid) -> Option<Arc<ThreadShared>> {
    THREADS.lock().get(&tid).cloned()
}

pub fn process_count() -> usize {
    PROCESSES.lock().len()
}

/// A fresh id for a process or thread (ids are shared, as in Linux).
fn allocate_id() -> Result<u32, Errno> {
    let procs = PROCESSES.lock();
    let threads = THREADS.lock();
    if procs.len() >= process_limit() || threads.len() >= process_limit() * 4 {
        return Err(Errno::EAGAIN);
    }
    for _ in 0..1 << 22 {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        if id >= 1 << 22 {
            NEXT_ID.store(2, Ordering::Relaxed);
            continue;
        }
        if !procs.contains_key(&id) && !threads.contains_key(&id) {
            return Ok(id);
        }
    }
    Err(Errno::EAGAIN)
}

impl Thread {
    pub fn mm(&self) -> spin::MutexGuard<'_, AddressSpace> {
        self.mm.lock()
    }

    pub fn files(&self) -> spin::MutexGuard<'_, FdTable> {
        self.files.lock()
    }

    pub fn inner(&self) -> spin::MutexGuard<'_, ProcInner> {
        self.process.inner.lock()
    }

    pub fn cwd(&self) -> Node {
        self.fs.lock().cwd.clone()
    }

    pub fn umask(&self) -> u32 {
        self.fs.lock().umask
    }

    pub fn ppid(&self) -> Pid {
        self.inner().ppid
    }

    pub fn blocked(&self) -> u64 {
        self.shared.blocked.load(Ordering::Relaxed)
    }

    pub fn set_blocked(&self, mask: u64) {
        self.shared
            .blocked
            .store(mask & !signal::UNBLOCKABLE, Ordering::Relaxed);
    }

    /// A blocking call was interrupted by a signal: EINTR, restarted if the handler has
    /// SA_RESTART (or if no handler runs).
    pub fn interrupted(&mut self) -> Errno {
        self.restart = true;
        Errno::EINTR
    }

    /// Whether a signal is waiting that should interrupt a blocking call.
    pub fn signal_pending(&self) -> bool {
        signal::has_deliverable(self)
    }
}

/// Starts the first program as PID 1 on its own task; returns its pid.
pub fn spawn_init(
    path: &str,
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
    cwd: Node,
    files: FdTable,
) -> Result<Pid, exec::ExecError> {
    let mut path_bytes = path.as_bytes().to_vec();
    let mut argv = argv;
    let mut file = crate::fs::open_executable(&cwd, None, &path_bytes)?;
    for _ in 0..exec::MAX_INTERPRETER_DEPTH {
        match exec::shebang(&file).map_err(|e| exec::ExecError {
            errno: e,
            message: alloc::format!("{path}: bad #! line"),
        })? {
            Some((interp, arg)) => {
                (path_bytes, argv) = exec::apply_shebang(&path_bytes, &argv, interp, arg);
                file = crate::fs::open_executable(&cwd, None, &path_bytes)?;
            }
            None => break,
        }
    }
    let shown_path = String::from_utf8_lossy(&path_bytes).into_owned();
    let path = shown_path.as_str();
    let loaded = exec::load(&file, path, &argv, &envp, crate::random::bytes16())?;
    let pid = allocate_id().map_err(|e| exec::ExecError {
        errno: e,
        message: String::from("no process id left"),
    })?;
    let mut name = [0u8; 16];
    let base = path.rsplit('/').next().unwrap_or(path).as_bytes();
    let n = base.len().min(15);
    name[..n].copy_from_slice(&base[..n]);
    let sighand = Arc::new(spin::Mutex::new(SigHandlers {
        actions: [[0; 32]; 65],
    }));
    let process = Arc::new(Process {
        pid,
        inner: spin::Mutex::new(ProcInner {
            ppid: 0,
            pgid: pid,
            sid: pid,
            children: Vec::new(),
            threads: alloc::vec![pid],
            zombie: None,
            group_exit: None,
            stopped: None,
            stop_report: None,
            exe: String::from(path),
            cmdline: join_args(&argv),
            name,
            rlimits: default_rlimits(),
            pending: 0,
            siginfo: Vec::new(),
            child_waiters: Vec::new(),
            vfork_parent: None,
            real_timer: None,
            sighand: sighand.clone(),
            mm: Weak::new(),
        }),
    });
    let shared = ThreadShared::new(pid, 0, 0);
    let cr3 = loaded.mm.root();
    let mm = Arc::new(spin::Mutex::new(loaded.mm));
    process.inner.lock().mm = Arc::downgrade(&mm);
    let thread = Box::new(Thread {
        tid: pid,
        pid,
        process: process.clone(),
        mm,
        files: Arc::new(spin::Mutex::new(files)),
        fs: Arc::new(spin::Mutex::new(FsContext { cwd, umask: 0o022 })),
        sighand,
        shared: shared.clone(),
        ctx: Box::new(UserContext::new(
            loaded.entry,
            loaded.stack_pointer,
            APP_PKRU,
        )),
        alt_stack: signal::DISABLED_ALT_STACK,
        exit: None,
        syscall_nr: 0,
        restart: false,
        saved_mask: None,
    });
    PROCESSES.lock().insert(pid, process);
    THREADS.lock().insert(pid, shared);
    start(thread, cr3).map_err(|e| exec::ExecError {
        errno: e,
        message: String::from("out of memory"),
    })?;
    Ok(pid)
}

fn join_args(argv: &[Vec<u8>]) -> Vec<u8> {
    argv.iter()
        .flat_map(|a| a.iter().copied().chain(core::iter::once(0)))
        .collect()
}

/// Hands `thread` to a new scheduler task.
fn start(thread: Box<Thread>, cr3: u64) -> Result<(), Errno> {
    let tid = thread.tid;
    let raw = Box::into_raw(thread);
    if let Err(e) = sched::spawn(tid, cr3, thread_entry, raw as usize) {
        // SAFETY: the task was not created, so `raw` was not handed to anyone.
        drop(unsafe { Box::from_raw(raw) });
        return Err(e);
    }
    Ok(())
}

pub const CLONE_VM: u64 = 0x100;
pub const CLONE_FS: u64 = 0x200;
pub const CLONE_FILES: u64 = 0x400;
pub const CLONE_SIGHAND: u64 = 0x800;
pub const CLONE_VFORK: u64 = 0x4000;
pub const CLONE_PARENT: u64 = 0x8000;
pub const CLONE_THREAD: u64 = 0x10000;
pub const CLONE_SETTLS: u64 = 0x80000;
pub const CLONE_PARENT_SETTID: u64 = 0x100000;
pub const CLONE_CHILD_CLEARTID: u64 = 0x200000;
pub const CLONE_CHILD_SETTID: u64 = 0x1000000;

/// What `clone` was asked for.
pub struct CloneRequest {
    pub flags: u64,
    pub exit_signal: u8,
    pub stack: u64,
    pub parent_tid: u64,
    pub child_tid: u64,
    pub tls: u64,
}

/// fork, vfork and clone: a new thread (and, without CLONE_THREAD, a new process) that
/// returns 0 from the call; returns its id.
pub fn clone_thread(t: &mut Thread, req: CloneRequest) -> Result<Pid, Errno> {
    // Out of memory: let the killer free some, a few times at most.
    for _ in 0..4 {
        match try_clone_thread(t, &req) {
            Err(Errno::ENOMEM) if oom::reclaim(t) => continue,
            result => return result,
        }
    }
    try_clone_thread(t, &req)
}

fn try_clone_thread(t: &mut Thread, req: &CloneRequest) -> Result<Pid, Errno> {
    let f = req.flags;
    if f & CLONE_THREAD != 0 && f & CLONE_SIGHAND == 0
        || f & CLONE_SIGHAND != 0 && f & CLONE_VM == 0
    {
        return Err(Errno::EINVAL);
    }
    let id = allocate_id()?;
    let mm = if f & CLONE_VM != 0 {
        t.mm.clone()
    } else {
        Arc::new(spin::Mutex::new(t.mm().fork()?))
    };
    let files = if f & CLONE_FILES != 0 {
        t.files.clone()
    } else {
        Arc::new(spin::Mutex::new(t.files().clone()))
    };
    let fs = if f & CLONE_FS != 0 {
        t.fs.clone()
    } else {
        let cur = t.fs.lock();
        Arc::new(spin::Mutex::new(FsContext {
            cwd: cur.cwd.clone(),
            umask: cur.umask,
        }))
    };
    let sighand = if f & CLONE_SIGHAND != 0 {
        t.sighand.clone()
    } else {
        Arc::new(spin::Mutex::new(t.sighand.lock().clone()))
    };
    let (group, pid) = if f & CLONE_THREAD != 0 {
        t.inner().threads.push(id);
        (t.process.clone(), t.pid)
    } else {
        let parent = t.inner();
        let ppid = if f & CLONE_PARENT != 0 {
            parent.ppid
        } else {
            t.pid
        };
        let child = Arc::new(Process {
            pid: id,
            inner: spin::Mutex::new(ProcInner {
                ppid,
                pgid: parent.pgid,
                sid: parent.sid,
                children: Vec::new(),
                threads: alloc::vec![id],
                zombie: None,
                group_exit: None,
                stopped: None,
                stop_report: None,
                exe: parent.exe.clone(),
                cmdline: parent.cmdline.clone(),
                name: parent.name,
                rlimits: parent.rlimits,
                pending: 0,
                siginfo: Vec::new(),
                child_waiters: Vec::new(),
                vfork_parent: (f & CLONE_VFORK != 0).then_some(t.tid),
                real_timer: None,
                sighand: sighand.clone(),
                mm: Arc::downgrade(&mm),
            }),
        });
        let _ = req.exit_signal; // SIGCHLD is the only exit signal supported
        drop(parent);
        if ppid == t.pid {
            t.inner().children.push(id);
        } else if let Some(grand) = process(ppid) {
            grand.inner.lock().children.push(id);
        }
        PROCESSES.lock().insert(id, child.clone());
        (child, id)
    };
    let shared = ThreadShared::new(
        pid,
        t.blocked(),
        if f & CLONE_CHILD_CLEARTID != 0 {
            req.child_tid
        } else {
            0
        },
    );
    let mut ctx = t.ctx.boxed_copy();
    ctx.regs.rax = 0;
    if req.stack != 0 {
        ctx.regs.rsp = req.stack;
    }
    if f & CLONE_SETTLS != 0 {
        ctx.fs_base = req.tls;
    }
    let child = Box::new(Thread {
        tid: id,
        pid,
        process: group,
        mm: mm.clone(),
        files,
        fs,
        sighand,
        shared: shared.clone(),
        ctx,
        alt_stack: if f & CLONE_VM != 0 && f & CLONE_VFORK == 0 {
            signal::DISABLED_ALT_STACK
        } else {
            t.alt_stack
        },
        exit: None,
        syscall_nr: 0,
        restart: false,
        saved_mask: None,
    });
    if f & CLONE_PARENT_SETTID != 0 {
        t.mm().write(req.parent_tid, &id.to_le_bytes())?;
    }
    if f & CLONE_CHILD_SETTID != 0 {
        // In the child's memory (the same as ours with CLONE_VM).
        if f & CLONE_VM == 0 {
            let mut child_mm = mm.lock();
            child_mm.activate();
            let r = child_mm.write(req.child_tid, &id.to_le_bytes());
            drop(child_mm);
            t.mm().activate();
            r?;
        } else {
            t.mm().write(req.child_tid, &id.to_le_bytes())?;
        }
    }
    THREADS.lock().insert(id, shared);
    let cr3 = mm.lock().root();
    start(child, cr3)?;
    if f & CLONE_VFORK != 0 {
        // The parent waits until the child execs or exits (it may share our memory).
        loop {
            let done = process(id).is_none_or(|c| c.inner.lock().vfork_parent.is_none());
            if done {
                break;
            }
            sched::block(None);
        }
    }
    Ok(id)
}

/// Releases a vfork parent waiting on `p` (at exec or exit).
pub fn release_vfork_parent(p: &Process) {
    if let Some(parent) = p.inner.lock().vfork_parent.take() {
        sched::wake(parent);
    }
}

/// Replaces the program of the calling thread (execve): on success the old address space
/// is gone and the registers start the new program; on failure nothing changed.
pub fn exec_in_place(
    t: &mut Thread,
    path: &[u8],
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
) -> Result<(), Errno> {
    let cwd = t.cwd();
    let mut file = crate::fs::open_executable(&cwd, Some(t), path).map_err(|e| e.errno)?;
    // `#!` scripts run their interpreter (up to four levels, as Linux).
    let mut script_path = path.to_vec();
    let mut argv = argv;
    let mut depth = 0;
    while let Some((interp, arg)) = exec::shebang(&file)? {
        depth += 1;
        if depth > exec::MAX_INTERPRETER_DEPTH {
            return Err(Errno::ELOOP);
        }
        (script_path, argv) = exec::apply_shebang(&script_path, &argv, interp, arg);
        file = crate::fs::open_executable(&cwd, Some(t), &script_path).map_err(|e| e.errno)?;
    }
    let path = script_path.as_slice();
    // /proc/self/exe names the file, not the path used (which may be /proc/self/exe).
    let shown = String::from_utf8_lossy(
        &crate::fs::canonical_path(t, &cwd, path).unwrap_or_else(|| path.to_vec()),
    )
    .into_owned();
    let loaded = match exec::load(&file, &shown, &argv, &envp, crate::random::bytes16()) {
        Ok(l) => l,
        Err(e) => {
            t.mm().activate();
            kdebug!("execve: {}", e.message);
            return Err(e.errno);
        }
    };
    // Other threads of the process end (Linux's de_thread); then the new image replaces
    // the old one, in a memory no longer shared with a vfork parent.
    signal::kill_other_threads(t);
    sched::set_current_cr3(loaded.mm.root());
    t.mm = Arc::new(spin::Mutex::new(loaded.mm));
    t.inner().mm = Arc::downgrade(&t.mm);
    *t.ctx = UserContext::new(loaded.entry, loaded.stack_pointer, APP_PKRU);
    // The descriptor table stops being shared (unshare_files) before close-on-exec.
    let files = t.files().clone();
    t.files = Arc::new(spin::Mutex::new(files));
    t.files().close_on_exec();
    {
        let mut inner = t.inner();
        inner.exe = shown.clone();
        inner.cmdline = join_args(&argv);
        // comm is the last component of the path as given (Linux: "exe" for /proc/self/exe).
        let base = path.rsplit(|b| *b == b'/').next().unwrap_or(path);
        inner.name = [0; 16];
        let n = base.len().min(15);
        inner.name[..n].copy_from_slice(&base[..n]);
    }
    // Caught signals return to their default action; ignored ones stay ignored.
    let mut handlers = t.sighand.lock().clone();
    for action in handlers.actions.iter_mut() {
        let handler = u64::from_le_bytes(action[..8].try_into().expect("8"));
        if handler > 1 {
            *action = [0; 32];
        }
    }
    t.sighand = Arc::new(spin::Mutex::new(handlers));
    t.inner().sighand = t.sighand.clone();
    t.alt_stack = signal::DISABLED_ALT_STACK;
    t.shared.clear_child_tid.store(0, Ordering::Relaxed);
    for word in &t.shared.robust_list {
        word.store(0, Ordering::Relaxed);
    }
    release_vfork_parent(&t.process);
    Ok(())
}

/// Removes a reaped process from the tables.
pub fn remove_process(pid: Pid) {
    PROCESSES.lock().remove(&pid);
}

pub fn remove_thread(tid: Tid) {
    THREADS.lock().remove(&tid);
}

/// Every thread id of process `pid`.
pub fn threads_of(p: &Process) -> Vec<Tid> {
    p.inner.lock().threads.clone()
}
