//! Files the tests give the guest, on a tmpfs when there is one (`/dev/shm`), so that
//! directory sizes, block counts and link counts on the host behave like the guest's
//! in-memory file system. Guest paths for them must be given explicitly (`--add
//! HOST:GUEST`): the guest's `/dev` is the kernel's own.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use nix::sys::stat::{utimensat, UtimensatFlags};
use nix::sys::time::TimeSpec;

/// A fixed mtime for fixtures: 2024-01-02 03:04:05 UTC.
pub const MTIME: i64 = 1_704_164_645;

const PREFIX: &str = "isounik-tests-";

/// `base/isounik-tests-PID`, created empty; directories of test processes that no longer
/// run are removed first.
fn process_dir(base: &Path) -> PathBuf {
    if let Ok(entries) = std::fs::read_dir(base) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix(PREFIX) {
                if !Path::new("/proc").join(pid).exists() {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
    }
    let dir = base.join(format!("{PREFIX}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

static SCRATCH: OnceLock<PathBuf> = OnceLock::new();
static PROGRAMS: OnceLock<PathBuf> = OnceLock::new();

/// Removes this process's scratch directories (at exit) unless ISOUNIK_KEEP_FIXTURES is set.
extern "C" fn remove_scratch() {
    if std::env::var_os("ISOUNIK_KEEP_FIXTURES").is_some() {
        return;
    }
    for dir in [SCRATCH.get(), PROGRAMS.get()].into_iter().flatten() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn remove_at_exit() {
    static REGISTERED: OnceLock<()> = OnceLock::new();
    REGISTERED.get_or_init(|| {
        // SAFETY: atexit(3) only records the function; `remove_scratch` takes no arguments,
        // touches only this process's own directories and never unwinds.
        unsafe { nix::libc::atexit(remove_scratch) };
    });
}

/// This test process's scratch directory on a tmpfs (`/dev/shm/isounik-tests-PID`, else
/// under `/tmp`), removed at exit (set ISOUNIK_KEEP_FIXTURES=1 to keep it).
pub fn scratch() -> &'static Path {
    SCRATCH.get_or_init(|| {
        remove_at_exit();
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        process_dir(&base)
    })
}

fn unique(base: &Path, name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = base.join(format!(
        "{name}-{}",
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create a fixture directory");
    dir
}

/// A new, empty directory in [`scratch`].
pub fn new_dir(name: &str) -> PathBuf {
    unique(scratch(), name)
}

/// A new, empty directory for files used as PROGRAM, which must not live under `/dev`
/// (their guest path is their host path): under `<target>/tmp`.
pub fn program_dir(name: &str) -> PathBuf {
    let base = PROGRAMS.get_or_init(|| {
        remove_at_exit();
        process_dir(Path::new(env!("CARGO_TARGET_TMPDIR")))
    });
    unique(base, name)
}

/// Sets the access and modification times of `path` (not following a symlink).
pub fn set_mtime(path: &Path, secs: i64) {
    let time = TimeSpec::new(secs, 0);
    utimensat(
        nix::fcntl::AT_FDCWD,
        path,
        &time,
        &time,
        UtimensatFlags::NoFollowSymlink,
    )
    .unwrap_or_else(|e| panic!("utimensat {}: {e}", path.display()));
}

pub fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

pub fn write(path: &Path, data: impl AsRef<[u8]>) {
    std::fs::write(path, data).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Deterministic pseudo-random bytes (xorshift64*).
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Sets the mtime of everything below `dir` and of `dir` itself to [`MTIME`], innermost
/// first (setting a directory's time after its contents).
pub fn fix_mtimes(dir: &Path) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for entry in entries {
        let meta = std::fs::symlink_metadata(&entry).unwrap();
        if meta.is_dir() {
            fix_mtimes(&entry);
        } else {
            set_mtime(&entry, MTIME);
        }
    }
    set_mtime(dir, MTIME);
}
