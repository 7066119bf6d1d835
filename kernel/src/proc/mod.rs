//! Processes: what the libOS keeps for each running program, and the loop that runs it.

pub mod exec;
mod run;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use isounik_abi::pkey::APP_PKRU;

use crate::arch::x86_64::user::UserContext;
use crate::fs::{Cwd, FdTable};
use crate::mm::vm::AddressSpace;
pub use run::{kill_by_signal, run};

/// Signal dispositions and the blocked mask (delivery arrives with the multi-process work;
/// until then the state is kept and faults use the default action).
#[derive(Clone)]
pub struct Signals {
    /// Raw kernel `struct sigaction` per signal 1..=64 (index 0 unused).
    pub actions: [[u8; 32]; 65],
    pub blocked: u64,
    pub alt_stack: [u8; 24],
}

impl Default for Signals {
    fn default() -> Self {
        Signals {
            actions: [[0; 32]; 65],
            blocked: 0,
            alt_stack: [
                0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ],
        }
    }
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
}

pub struct Process {
    pub pid: u32,
    pub ppid: u32,
    pub mm: AddressSpace,
    pub files: FdTable,
    pub cwd: Cwd,
    pub umask: u32,
    /// Guest path of the executable (for /proc/self/exe).
    pub exe: String,
    /// argv joined with NULs (for /proc/self/cmdline).
    pub cmdline: Vec<u8>,
    pub name: [u8; 16],
    pub signals: Signals,
    /// RLIMIT_* values: (soft, hard).
    pub rlimits: [(u64, u64); 16],
    pub clear_child_tid: u64,
    pub robust_list: (u64, u64),
    pub ctx: Box<UserContext>,
    pub exit: Option<ExitStatus>,
}

pub const RLIM_INFINITY: u64 = u64::MAX;

/// Linux's defaults for a process started by init (stack 8 MiB, 1024 files, ...).
pub fn default_rlimits() -> [(u64, u64); 16] {
    let mut r = [(RLIM_INFINITY, RLIM_INFINITY); 16];
    r[3] = (8 << 20, RLIM_INFINITY); // RLIMIT_STACK
    r[4] = (0, RLIM_INFINITY); // RLIMIT_CORE
    r[7] = (1024, 4096); // RLIMIT_NOFILE
    r[8] = (8 << 20, 8 << 20); // RLIMIT_MEMLOCK
    r[13] = (0, 0); // RLIMIT_NICE
    r[14] = (0, 0); // RLIMIT_RTPRIO
    r
}

impl Process {
    /// Starts `path` with `argv`/`envp` as a new process (the first one is PID 1).
    pub fn spawn(
        pid: u32,
        path: &str,
        argv: Vec<Vec<u8>>,
        envp: Vec<Vec<u8>>,
        cwd: Cwd,
        files: FdTable,
    ) -> Result<Process, exec::ExecError> {
        let file = crate::fs::open_executable(&cwd, None, path.as_bytes())?;
        let loaded = exec::load(&file, path, &argv, &envp, crate::random::bytes16())?;
        let mut name = [0u8; 16];
        let base = path.rsplit('/').next().unwrap_or(path).as_bytes();
        let n = base.len().min(15);
        name[..n].copy_from_slice(&base[..n]);
        Ok(Process {
            pid,
            ppid: 0,
            mm: loaded.mm,
            files,
            cwd,
            umask: 0o022,
            exe: String::from(path),
            cmdline: argv
                .iter()
                .flat_map(|a| a.iter().copied().chain(core::iter::once(0)))
                .collect(),
            name,
            signals: Signals::default(),
            rlimits: default_rlimits(),
            clear_child_tid: 0,
            robust_list: (0, 0),
            ctx: Box::new(UserContext::new(
                loaded.entry,
                loaded.stack_pointer,
                APP_PKRU,
            )),
            exit: None,
        })
    }
}

/// Replaces the program of `p` (execve): on success the old address space is gone and the
/// registers start the new program; on failure nothing changed.
pub fn exec_in_place(
    p: &mut Process,
    path: &[u8],
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
) -> Result<(), isounik_linux::errno::Errno> {
    let cwd = p.cwd.clone();
    let file = crate::fs::open_executable(&cwd, Some(p), path).map_err(|e| e.errno)?;
    let shown = String::from_utf8_lossy(path).into_owned();
    let loaded = match exec::load(&file, &shown, &argv, &envp, crate::random::bytes16()) {
        Ok(l) => l,
        Err(e) => {
            p.mm.activate();
            kdebug!("execve: {}", e.message);
            return Err(e.errno);
        }
    };
    p.mm = loaded.mm;
    *p.ctx = UserContext::new(loaded.entry, loaded.stack_pointer, APP_PKRU);
    p.files.close_on_exec();
    p.exe = shown.clone();
    p.cmdline = argv
        .iter()
        .flat_map(|a| a.iter().copied().chain(core::iter::once(0)))
        .collect();
    let base = shown.rsplit('/').next().unwrap_or(&shown).as_bytes();
    p.name = [0; 16];
    let n = base.len().min(15);
    p.name[..n].copy_from_slice(&base[..n]);
    // Caught signals return to their default action; ignored ones stay ignored.
    for action in p.signals.actions.iter_mut() {
        let handler = u64::from_le_bytes(action[..8].try_into().expect("8"));
        if handler > 1 {
            *action = [0; 32];
        }
    }
    p.signals.alt_stack = Signals::default().alt_stack;
    p.clear_child_tid = 0;
    p.robust_list = (0, 0);
    Ok(())
}
