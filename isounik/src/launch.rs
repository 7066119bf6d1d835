//! What the user asks the guest to run: the program (found on the host, placed at its
//! absolute host path in the guest), its arguments, environment and working directory, and
//! the `--add` requests. Everything here is decided before anything is packed.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::guest_path::GuestPath;

/// The environment every program starts with (before `TERM` and `-e`).
pub const BASE_ENV: [(&str, &str); 2] = [
    (
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ),
    ("HOME", "/root"),
];
/// `TERM` when the host has none.
pub const DEFAULT_TERM: &str = "linux";

/// An error that ends isounik with its own status and message (`isounik: MESSAGE`), as a
/// shell reports a command it cannot run: 127 for a missing program, 126 for one that is
/// not a runnable file.
#[derive(Debug, PartialEq, Eq)]
pub struct ProgramError {
    pub status: u8,
    pub message: String,
}

impl fmt::Display for ProgramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProgramError {}

/// Status of a missing program (as shells use it).
pub const NOT_FOUND: u8 = 127;
/// Status of a program that exists but is not a runnable file.
pub const CANNOT_EXECUTE: u8 = 126;

/// The program to run: where isounik reads it and where the guest finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// As the user wrote it (for messages).
    pub name: OsString,
    /// The host file, absolute (a path that may go through symlinks; its target is what is
    /// read).
    pub host: PathBuf,
    /// Its absolute host path as given, normalized lexically, symlinks not resolved.
    pub guest: GuestPath,
}

/// The text of an OS error without Rust's ` (os error N)` suffix.
pub fn os_error_text(error: &io::Error) -> String {
    match error.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_owned(),
        None => error.to_string(),
    }
}

fn program_error(name: &OsStr, status: u8, what: &str) -> ProgramError {
    let mut message = format!("{}: {what}", name.to_string_lossy());
    let bytes = name.as_bytes();
    if status == NOT_FOUND && bytes.contains(&b'=') && !bytes.contains(&b'/') {
        // `isounik run -- exit=3` meant kernel words before PROGRAM existed.
        message.push_str(&format!(
            "\nisounik: hint: kernel command-line words go with --append (isounik run --append {})",
            name.to_string_lossy()
        ));
    }
    ProgramError { status, message }
}

/// Finds PROGRAM: a name containing `/` is a host path (relative to `cwd`, which must be
/// the current directory, as [`logical_cwd`] gives it); any other name is looked up in
/// `path_var` (the host's `PATH`) like `execvp` does, preferring the first executable
/// regular file. The result must be an executable regular file.
pub fn resolve_program(
    name: &OsStr,
    path_var: Option<&OsStr>,
    cwd: &Path,
) -> Result<Program, ProgramError> {
    if name.is_empty() {
        return Err(program_error(name, NOT_FOUND, "No such file or directory"));
    }
    let host = if name.as_bytes().contains(&b'/') {
        cwd.join(name)
    } else {
        search_path(name, path_var, cwd)
            .ok_or_else(|| program_error(name, NOT_FOUND, "No such file or directory"))?
    };
    let metadata = match std::fs::metadata(&host) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(program_error(name, NOT_FOUND, "No such file or directory"))
        }
        Err(e) => return Err(program_error(name, CANNOT_EXECUTE, &os_error_text(&e))),
    };
    if metadata.is_dir() {
        return Err(program_error(name, CANNOT_EXECUTE, "Is a directory"));
    }
    if !metadata.is_file() {
        return Err(program_error(name, CANNOT_EXECUTE, "not a regular file"));
    }
    if metadata.permissions().mode() & 0o111 == 0 {
        return Err(program_error(name, CANNOT_EXECUTE, "Permission denied"));
    }
    let guest = GuestPath::from_host(&host, cwd);
    Ok(Program {
        name: name.to_owned(),
        host,
        guest,
    })
}

/// `PATH` lookup: the first executable regular file, else the first regular file (which
/// then fails as not executable, as in shells). Relative entries (an empty one is the
/// current directory) are taken from `cwd`.
fn search_path(name: &OsStr, path_var: Option<&OsStr>, cwd: &Path) -> Option<PathBuf> {
    let path_var = path_var?;
    let candidates: Vec<PathBuf> = std::env::split_paths(path_var)
        .map(|dir| cwd.join(dir).join(name))
        .filter(|candidate| std::fs::metadata(candidate).is_ok_and(|m| m.is_file()))
        .collect();
    candidates
        .iter()
        .find(|c| std::fs::metadata(c).is_ok_and(|m| m.permissions().mode() & 0o111 != 0))
        .or(candidates.first())
        .cloned()
}

/// The current directory as the user sees it: `$PWD` when it names the current directory
/// (so a path under a symlinked directory keeps its spelling, like `pwd -L`), else the
/// resolved one.
pub fn logical_cwd() -> Result<PathBuf> {
    let physical = std::env::current_dir()?;
    if let Some(pwd) = std::env::var_os("PWD").map(PathBuf::from) {
        if pwd.is_absolute() {
            if let (Ok(a), Ok(b)) = (std::fs::metadata(&pwd), std::fs::metadata(&physical)) {
                if (a.dev(), a.ino()) == (b.dev(), b.ino()) {
                    return Ok(pwd);
                }
            }
        }
    }
    Ok(physical)
}

/// One `--add HOST[:GUEST]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddSpec {
    /// The option's value, for messages.
    pub spec: OsString,
    /// The host path as given.
    pub host: PathBuf,
    /// Where it goes; `None`: the host path made absolute.
    pub guest: Option<GuestPath>,
    /// GUEST was written with a trailing `/`: a file goes inside that directory.
    pub into_directory: bool,
}

impl AddSpec {
    /// Parses `HOST[:GUEST]`. The first `:` separates the two (a HOST containing `:` cannot
    /// be given); GUEST must be absolute.
    pub fn parse(spec: &OsStr) -> Result<Self> {
        let bytes = spec.as_bytes();
        let (host, guest) = match bytes.iter().position(|&b| b == b':') {
            Some(i) => (&bytes[..i], Some(&bytes[i + 1..])),
            None => (bytes, None),
        };
        if host.is_empty() {
            bail!(
                "--add {}: HOST is empty (use --add HOST[:GUEST])",
                spec.to_string_lossy()
            );
        }
        let (guest, into_directory) = match guest {
            None => (None, false),
            Some(guest) => match GuestPath::new(guest) {
                Some(path) => (Some(path), guest.ends_with(b"/")),
                None => bail!(
                    "--add {}: the guest path {:?} must be absolute",
                    spec.to_string_lossy(),
                    String::from_utf8_lossy(guest)
                ),
            },
        };
        Ok(AddSpec {
            spec: spec.to_owned(),
            host: PathBuf::from(OsStr::from_bytes(host)),
            guest,
            into_directory,
        })
    }

    /// The host path as the user wrote it, for messages.
    pub fn host_display(&self) -> String {
        self.host.to_string_lossy().into_owned()
    }
}

/// The guest's environment: [`BASE_ENV`], `TERM` (the host's, else [`DEFAULT_TERM`]), then
/// each `-e NAME=VALUE` or `-e NAME` (the host's value; removes NAME when the host has
/// none), a later setting replacing an earlier one in place.
pub fn environment(
    host_term: Option<OsString>,
    settings: &[OsString],
    host_var: impl Fn(&OsStr) -> Option<OsString>,
) -> Result<Vec<(OsString, OsString)>> {
    let mut env: Vec<(OsString, OsString)> = BASE_ENV
        .iter()
        .map(|(k, v)| (OsString::from(k), OsString::from(v)))
        .collect();
    let term = host_term
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| DEFAULT_TERM.into());
    env.push(("TERM".into(), term));
    for setting in settings {
        let bytes = setting.as_bytes();
        let (name, value) = match bytes.iter().position(|&b| b == b'=') {
            Some(i) => (
                OsStr::from_bytes(&bytes[..i]),
                Some(OsString::from_vec(bytes[i + 1..].to_vec())),
            ),
            None => (setting.as_os_str(), None),
        };
        if name.is_empty() {
            bail!(
                "--env {}: the variable name is empty (use -e NAME=VALUE or -e NAME)",
                setting.to_string_lossy()
            );
        }
        let value = value.or_else(|| host_var(name));
        let existing = env.iter().position(|(k, _)| k == name);
        match (existing, value) {
            (Some(i), Some(value)) => env[i].1 = value,
            (Some(i), None) => {
                env.remove(i);
            }
            (None, Some(value)) => env.push((name.to_owned(), value)),
            (None, None) => {}
        }
    }
    Ok(env)
}

/// `--workdir DIR`: an absolute guest path.
pub fn workdir(dir: &OsStr) -> Result<GuestPath> {
    match GuestPath::new(dir.as_bytes()) {
        Some(path) => Ok(path),
        None => bail!(
            "--workdir {}: the working directory must be an absolute guest path",
            dir.to_string_lossy()
        ),
    }
}

/// A NUL-terminated list (`abi::initramfs` `argv` and `env` files).
pub fn nul_list<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for item in items {
        out.extend_from_slice(item);
        out.push(0);
    }
    out
}

/// The `.isounik/argv` contents: the program's guest path, then ARGS.
pub fn argv_file(program: &GuestPath, args: &[OsString]) -> Vec<u8> {
    nul_list(std::iter::once(program.as_bytes()).chain(args.iter().map(|a| a.as_bytes())))
}

/// The `.isounik/env` contents.
pub fn env_file(env: &[(OsString, OsString)]) -> Vec<u8> {
    let strings: Vec<Vec<u8>> = env
        .iter()
        .map(|(k, v)| [k.as_bytes(), b"=", v.as_bytes()].concat())
        .collect();
    nul_list(strings.iter().map(Vec::as_slice))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn exec_file(path: &Path) {
        std::fs::write(path, b"\x7fELF").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn resolves_paths_and_path_lookups() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("a")).unwrap();
        std::fs::create_dir_all(d.join("b")).unwrap();
        exec_file(&d.join("b/tool"));
        std::fs::write(d.join("a/tool"), "not executable").unwrap();
        symlink("b", d.join("link")).unwrap();

        // A path with '/' is taken relative to the cwd; symlinks are kept in the guest path.
        let p = resolve_program(OsStr::new("link/./tool"), None, d).unwrap();
        assert_eq!(p.host, d.join("link/./tool"));
        assert_eq!(p.guest.to_string(), format!("{}/link/tool", d.display()));

        // PATH lookup prefers the first executable file.
        let path_var = std::env::join_paths([d.join("a"), d.join("b")]).unwrap();
        let p = resolve_program(OsStr::new("tool"), Some(&path_var), Path::new("/")).unwrap();
        assert_eq!(p.host, d.join("b/tool"));
        assert_eq!(p.guest.to_string(), format!("{}/b/tool", d.display()));

        // Only a non-executable one: found, then refused like a shell does.
        let path_var = std::env::join_paths([d.join("a")]).unwrap();
        let err = resolve_program(OsStr::new("tool"), Some(&path_var), d).unwrap_err();
        assert_eq!(err.status, CANNOT_EXECUTE);
        assert_eq!(err.message, "tool: Permission denied");

        // Relative PATH entries are taken from the cwd.
        let p = resolve_program(OsStr::new("tool"), Some(OsStr::new("a:b")), d).unwrap();
        assert_eq!(p.guest.to_string(), format!("{}/b/tool", d.display()));
    }

    #[test]
    fn missing_and_unrunnable_programs() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let err = resolve_program(
            OsStr::new("nosuch-isounik-tool"),
            Some(OsStr::new("/nonexistent")),
            d,
        )
        .unwrap_err();
        assert_eq!(
            err,
            ProgramError {
                status: 127,
                message: "nosuch-isounik-tool: No such file or directory".into()
            }
        );
        let err = resolve_program(OsStr::new("./missing"), None, d).unwrap_err();
        assert_eq!(err.status, 127);
        assert_eq!(err.message, "./missing: No such file or directory");
        let err = resolve_program(d.as_os_str(), None, d).unwrap_err();
        assert_eq!(err.status, 126);
        assert!(err.message.ends_with(": Is a directory"));
        let err = resolve_program(OsStr::new("/dev/null"), None, d).unwrap_err();
        assert_eq!(err.status, 126);
        assert_eq!(err.message, "/dev/null: not a regular file");
        let err = resolve_program(OsStr::new(""), None, d).unwrap_err();
        assert_eq!(err.status, 127);
        let err = resolve_program(OsStr::new("exit=3"), None, d).unwrap_err();
        assert_eq!(
            err.message,
            "exit=3: No such file or directory\nisounik: hint: kernel command-line words go with \
             --append (isounik run --append exit=3)"
        );
    }

    #[test]
    fn parses_add_specs() {
        let a = AddSpec::parse(OsStr::new("./data:/data")).unwrap();
        assert_eq!(a.host, PathBuf::from("./data"));
        assert_eq!(a.guest.unwrap().to_string(), "/data");
        assert!(!a.into_directory);
        let a = AddSpec::parse(OsStr::new("f.txt:/srv/x/")).unwrap();
        assert_eq!(a.guest.unwrap().to_string(), "/srv/x");
        assert!(a.into_directory);
        let a = AddSpec::parse(OsStr::new("/etc/hosts")).unwrap();
        assert_eq!(a.guest, None);
        let a = AddSpec::parse(OsStr::new("rootfs:/")).unwrap();
        assert!(a.guest.unwrap().is_root());
        let err = AddSpec::parse(OsStr::new("x:relative")).unwrap_err();
        assert!(err.to_string().contains("must be absolute"), "{err}");
        assert!(AddSpec::parse(OsStr::new(":/x")).is_err());
    }

    fn env_strings(env: &[(OsString, OsString)]) -> Vec<String> {
        env.iter()
            .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
            .collect()
    }

    #[test]
    fn builds_the_environment() {
        let host = |name: &OsStr| (name == "HOSTVAR").then(|| OsString::from("from host"));
        let env = environment(None, &[], host).unwrap();
        assert_eq!(
            env_strings(&env),
            [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOME=/root",
                "TERM=linux"
            ]
        );
        let settings: Vec<OsString> = [
            "A=1",
            "HOSTVAR",
            "HOME=/home/x",
            "A=2",
            "B=x=y",
            "MISSING",
            "E=",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let env = environment(Some("xterm".into()), &settings, host).unwrap();
        assert_eq!(
            env_strings(&env),
            [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOME=/home/x",
                "TERM=xterm",
                "A=2",
                "HOSTVAR=from host",
                "B=x=y",
                "E="
            ]
        );
        // `-e NAME` for a variable the host lacks removes it.
        let env = environment(None, &["TERM".into()], host).unwrap();
        assert_eq!(env.len(), 2);
        assert!(environment(None, &["=x".into()], host).is_err());
    }

    #[test]
    fn boot_files() {
        let program = GuestPath::new(b"/bin/busybox").unwrap();
        assert_eq!(
            argv_file(&program, &["echo".into(), "".into(), "a b".into()]),
            b"/bin/busybox\0echo\0\0a b\0"
        );
        assert_eq!(
            env_file(&[("A".into(), "1".into()), ("B".into(), "".into())]),
            b"A=1\0B=\0"
        );
        assert_eq!(env_file(&[]), b"");
        assert_eq!(
            workdir(OsStr::new("/srv/./app/")).unwrap().to_string(),
            "/srv/app"
        );
        assert!(workdir(OsStr::new("srv")).is_err());
    }

    #[test]
    fn os_errors_read_like_the_shell() {
        let e = io::Error::from_raw_os_error(2);
        assert_eq!(os_error_text(&e), "No such file or directory");
    }
}
