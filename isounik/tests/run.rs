//! `isounik run` and `isounik build` as a user sees them: standard streams, exit statuses,
//! programs that cannot run, `--strace`, how PROGRAM is found and placed, `--add`, `-e`,
//! and the archives and root trees `build` writes.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::fixtures::{self, chmod, new_dir, write};
use common::programs::{c_program, Libc};
use common::{guest, guest_with, isounik, run_with_watchdog, Ran, EXIT_CRASH, EXIT_TOOL, WATCHDOG};
use isounik_cpio::{mode, Reader};

const BUSYBOX: &str = "/bin/busybox";

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

#[test]
fn stdin_reaches_the_program() {
    let ran = guest_with(&[BUSYBOX, "sort"], b"b\na\n");
    assert_eq!(ran.code(), Some(0), "{}", ran.describe());
    assert_eq!(ran.stdout(), "a\nb\n", "{}", ran.describe());
}

#[test]
fn binary_stdin_is_exact() {
    // Every byte value, 0xff included (escaped on the way in), in 16 KiB (the console is
    // slow under TCG: one interrupt per byte).
    let mut data = fixtures::random_bytes(12 << 10, 9);
    data.extend((0..=255u8).cycle().take(4096));
    let ran = guest_with(&[BUSYBOX, "cat"], &data);
    assert_eq!(ran.code(), Some(0), "{}", ran.describe());
    assert!(
        ran.output.stdout == data,
        "stdin did not come back unchanged through `cat`: {} bytes in, {} out, first difference \
         at byte {:?}",
        data.len(),
        ran.output.stdout.len(),
        ran.output
            .stdout
            .iter()
            .zip(&data)
            .position(|(a, b)| a != b)
    );
}

#[test]
fn binary_stdout_is_exact() {
    let dir = new_dir("binary");
    let data = fixtures::random_bytes(300 << 10, 42);
    write(&dir.join("random.bin"), &data);
    let ran = guest(&[
        OsString::from("--add"),
        format!("{}:/data", dir.display()).into(),
        BUSYBOX.into(),
        "cat".into(),
        "/data/random.bin".into(),
    ]);
    assert_eq!(ran.code(), Some(0), "{}", ran.describe());
    assert_eq!(ran.output.stdout.len(), data.len(), "{}", ran.describe());
    assert!(
        ran.output.stdout == data,
        "the program's 300 KiB of random bytes came out changed (first difference at byte {:?})",
        ran.output
            .stdout
            .iter()
            .zip(&data)
            .position(|(a, b)| a != b)
    );
}

#[test]
fn stdout_and_stderr_stay_apart() {
    let ran = guest(&[BUSYBOX, "ls", "/", "/nonexistent"]);
    assert_eq!(ran.code(), Some(1), "{}", ran.describe());
    assert_eq!(
        ran.stderr(),
        "ls: /nonexistent: No such file or directory\n",
        "the program's stderr must reach isounik's stderr alone\n{}",
        ran.describe()
    );
    assert!(
        ran.stdout().contains("tmp\n") && !ran.stdout().contains("nonexistent"),
        "{}",
        ran.describe()
    );
}

#[test]
fn dynamically_linked_programs_are_refused_clearly() {
    let program = Path::new("/bin/true");
    assert!(
        !common::programs::is_static(program),
        "/bin/true is expected to be dynamically linked"
    );
    let ran = guest(&["/bin/true"]);
    assert_eq!(ran.code(), Some(126), "{}", ran.describe());
    assert!(
        ran.stderr().starts_with("isounik: ") && ran.stderr().contains("dynamic"),
        "stderr must say the program is dynamically linked\n{}",
        ran.describe()
    );
}

/// A file that cannot be executed must end with status 126 and a message, the kernel
/// intact (not status 70).
fn cannot_execute(name: &str, contents: &[u8], why: &str) {
    let dir = fixtures::program_dir("badelf");
    let path = dir.join(name);
    write(&path, contents);
    chmod(&path, 0o755);
    let ran = guest(&[&path]);
    assert_ne!(
        ran.code(),
        Some(EXIT_CRASH),
        "{why}: the kernel crashed\n{}",
        ran.describe()
    );
    assert_eq!(
        ran.code(),
        Some(126),
        "{why}: expected status 126 (cannot execute)\n{}",
        ran.describe()
    );
    assert!(
        ran.stderr().starts_with("isounik: ") && ran.stderr().len() > 12,
        "{why}: expected a message on stderr\n{}",
        ran.describe()
    );
}

#[test]
fn garbage_after_elf_magic_cannot_execute() {
    let mut contents = b"\x7fELF".to_vec();
    contents.extend(fixtures::random_bytes(4096, 3));
    cannot_execute("garbage", &contents, "ELF magic followed by garbage");
}

#[test]
fn truncated_busybox_cannot_execute() {
    let busybox = std::fs::read(BUSYBOX).expect("read /bin/busybox");
    cannot_execute(
        "busybox-truncated",
        &busybox[..64 << 10],
        "the first 64 KiB of busybox",
    );
}

#[test]
fn text_file_with_exec_bits_cannot_execute() {
    cannot_execute("text", b"hello, I am not a program\n", "a text file");
}

#[test]
fn missing_program_is_status_127() {
    let ran = guest(&["nosuch-program-isounik"]);
    assert_eq!(ran.code(), Some(127), "{}", ran.describe());
    assert_eq!(
        ran.stderr(),
        "isounik: nosuch-program-isounik: No such file or directory\n"
    );
    let ran = guest(&["./nosuch/program"]);
    assert_eq!(ran.code(), Some(127), "{}", ran.describe());
    assert_eq!(
        ran.stderr(),
        "isounik: ./nosuch/program: No such file or directory\n"
    );
}

#[test]
fn directory_as_program_is_status_126() {
    let ran = guest(&["/tmp"]);
    assert_eq!(ran.code(), Some(126), "{}", ran.describe());
    assert_eq!(ran.stderr(), "isounik: /tmp: Is a directory\n");
}

#[test]
fn strace_shows_every_call() {
    let ran = guest(&["--strace", BUSYBOX, "ls", "/"]);
    assert_eq!(ran.code(), Some(0), "{}", ran.describe());
    assert!(ran.stdout().contains("tmp\n"), "{}", ran.describe());
    let stderr = ran.stderr();
    let lines: Vec<&str> = stderr.lines().collect();
    for call in ["openat(", "getdents64(", "write(1, ", "exit_group("] {
        assert!(
            lines.iter().any(|l| l.starts_with(call)),
            "--strace shows no `{call}...` line\n{}",
            ran.describe()
        );
    }
    for line in &lines {
        assert!(
            line.contains(" = "),
            "strace line without ` = result`: {line:?}\n{}",
            ran.describe()
        );
        assert!(
            !line.starts_with("[pid "),
            "one process: no [pid N] prefixes: {line:?}"
        );
    }
    // Without --strace: nothing on stderr.
    let quiet = guest(&[BUSYBOX, "ls", "/"]);
    assert!(quiet.stderr().is_empty(), "{}", quiet.describe());
}

#[test]
fn program_found_in_path_and_relative_programs_get_absolute_guest_paths() {
    let program = c_program("args_env", Libc::Musl);
    let dir = program.parent().unwrap();
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new(common::ISOUNIK);
    command
        .args([
            "run",
            "--machine",
            "microvm",
            "--timeout",
            common::GUEST_TIMEOUT,
        ])
        .arg("args_env")
        .env("PATH", &path);
    let ran = run_with_watchdog(command, b"", WATCHDOG);
    assert_eq!(ran.code(), Some(0), "{}", ran.describe());
    assert!(
        ran.stdout()
            .starts_with(&format!("argc=1\nargv[0]={}\n", program.display())),
        "a program found in PATH runs at its absolute path\n{}",
        ran.describe()
    );

    let mut command = Command::new(common::ISOUNIK);
    command
        .args([
            "run",
            "--machine",
            "microvm",
            "--timeout",
            common::GUEST_TIMEOUT,
        ])
        .arg("./musl/../musl/args_env")
        .current_dir(dir.parent().unwrap())
        .env_remove("PWD");
    let ran = run_with_watchdog(command, b"", WATCHDOG);
    assert_eq!(ran.code(), Some(0), "{}", ran.describe());
    assert!(
        ran.stdout()
            .starts_with(&format!("argc=1\nargv[0]={}\n", program.display())),
        "a relative program path is made absolute and normalized\n{}",
        ran.describe()
    );
}

#[test]
fn env_copies_host_variables() {
    let program = c_program("args_env", Libc::Musl);
    let mut command = Command::new(common::ISOUNIK);
    command
        .args([
            "run",
            "--machine",
            "microvm",
            "--timeout",
            common::GUEST_TIMEOUT,
        ])
        .args([
            "-e",
            "FROM_HOST",
            "-e",
            "NOT_ON_HOST",
            "-e",
            "HOME=/home/x",
            "-e",
            "A=1",
        ])
        .arg(&program)
        .env("FROM_HOST", "copied value")
        .env_remove("NOT_ON_HOST")
        .env("TERM", "vt100");
    let ran = run_with_watchdog(command, b"", WATCHDOG);
    assert_eq!(ran.code(), Some(0), "{}", ran.describe());
    let env: Vec<&str> = ran
        .stdout()
        .lines()
        .filter_map(|l| l.strip_prefix("env="))
        .map(|l| -> &str { Box::leak(l.to_owned().into_boxed_str()) })
        .collect();
    assert_eq!(
        env,
        [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME=/home/x",
            "TERM=vt100",
            "FROM_HOST=copied value",
            "A=1"
        ],
        "{}",
        ran.describe()
    );
}

#[test]
fn add_errors_are_clear() {
    let ran = guest(&["--add", "/nonexistent/isounik-data", BUSYBOX, "true"]);
    assert_eq!(ran.code(), Some(EXIT_TOOL), "{}", ran.describe());
    assert_eq!(
        ran.stderr(),
        "isounik: error: --add /nonexistent/isounik-data: No such file or directory\n"
    );

    let dir = new_dir("socket");
    let _listener = std::os::unix::net::UnixListener::bind(dir.join("sock")).unwrap();
    let ran = guest(&[
        OsString::from("--add"),
        format!("{}:/data", dir.display()).into(),
        BUSYBOX.into(),
        "true".into(),
    ]);
    assert_eq!(ran.code(), Some(EXIT_TOOL), "{}", ran.describe());
    assert!(
        ran.stderr().starts_with("isounik: error: ") && ran.stderr().contains("is a socket"),
        "{}",
        ran.describe()
    );

    let ran = guest(&["--add", "/tmp:/dev/x", BUSYBOX, "true"]);
    assert_eq!(ran.code(), Some(EXIT_TOOL), "{}", ran.describe());
    assert!(ran.stderr().contains("under /dev"), "{}", ran.describe());
}

#[test]
fn help_teaches_run_and_build() {
    let help = isounik(&["run", "--help"]);
    assert_eq!(help.code(), Some(0));
    for example in [
        "isounik run /bin/busybox echo hello",
        "isounik run --add ./data:/data /bin/busybox ls -la /data",
        "isounik run --strace /bin/busybox ls /",
        "--append",
        "--workdir",
        "--env",
    ] {
        assert!(
            help.stdout().contains(example),
            "run --help lacks {example:?}\n{}",
            help.stdout()
        );
    }
    let help = isounik(&["build", "--help"]);
    assert_eq!(help.code(), Some(0));
    for word in ["--output", "--rootfs", "Examples"] {
        assert!(help.stdout().contains(word), "build --help lacks {word:?}");
    }
}

/// A host directory to add: files with modes, a symlink, hard links, a subdirectory.
fn content_dir() -> PathBuf {
    let dir = new_dir("content").join("data");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    write(&dir.join("a.txt"), "alpha\n");
    chmod(&dir.join("a.txt"), 0o640);
    write(&dir.join("sub/b"), "beta\n");
    write(&dir.join("h1"), "linked\n");
    std::fs::hard_link(dir.join("h1"), dir.join("h2")).unwrap();
    std::os::unix::fs::symlink("a.txt", dir.join("link")).unwrap();
    chmod(&dir.join("sub"), 0o700);
    fixtures::fix_mtimes(&dir);
    dir
}

#[test]
fn build_rootfs_writes_the_guest_tree() {
    let data = content_dir();
    let root = new_dir("rootfs").join("root");
    let ran = isounik(&[
        OsString::from("build"),
        "--rootfs".into(),
        root.clone().into(),
        "--add".into(),
        format!("{}:/srv/data", data.display()).into(),
        "--workdir".into(),
        "/work".into(),
        BUSYBOX.into(),
        "ls".into(),
    ]);
    assert_eq!(ran.code(), Some(0), "{}", ran.describe());
    let meta = |p: &str| {
        std::fs::symlink_metadata(root.join(p))
            .unwrap_or_else(|e| panic!("{p} in the root tree: {e}"))
    };
    assert!(
        !root.join(".isounik").exists(),
        "the boot directory is not part of the tree"
    );
    assert_eq!(
        std::fs::read(root.join("bin/busybox")).unwrap(),
        std::fs::read(BUSYBOX).unwrap()
    );
    assert_eq!(meta("bin/busybox").mode() & 0o7777, 0o755);
    assert_eq!(meta("bin").mode() & 0o7777, 0o755);
    assert_eq!(meta("tmp").mode() & 0o7777, 0o1777);
    assert_eq!(meta("root").mode() & 0o7777, 0o700);
    for empty in ["dev", "proc"] {
        assert!(meta(empty).is_dir());
        assert_eq!(std::fs::read_dir(root.join(empty)).unwrap().count(), 0);
    }
    assert!(meta("work").is_dir());
    let etc = |name: &str| std::fs::read_to_string(root.join("etc").join(name)).unwrap();
    assert_eq!(etc("passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    assert_eq!(etc("group"), "root:x:0:\n");
    assert_eq!(etc("hostname"), "isounik\n");
    assert_eq!(etc("hosts"), "127.0.0.1 localhost\n::1 localhost\n");
    assert!(std::fs::read(root.join("etc/localtime"))
        .unwrap()
        .starts_with(b"TZif"));
    // The added directory: contents, modes, mtimes, symlinks, hard links.
    assert_eq!(
        std::fs::read_to_string(root.join("srv/data/a.txt")).unwrap(),
        "alpha\n"
    );
    assert_eq!(meta("srv/data/a.txt").mode() & 0o7777, 0o640);
    assert_eq!(meta("srv/data/a.txt").mtime(), fixtures::MTIME);
    assert_eq!(meta("srv/data/sub").mode() & 0o7777, 0o700);
    assert_eq!(meta("srv/data/sub").mtime(), fixtures::MTIME);
    assert_eq!(
        std::fs::read_link(root.join("srv/data/link")).unwrap(),
        Path::new("a.txt")
    );
    assert_eq!(meta("srv/data/h1").ino(), meta("srv/data/h2").ino());
    assert_eq!(meta("srv/data/h1").nlink(), 2);
    if fixtures::is_root() {
        assert_eq!(
            (meta("srv/data/a.txt").uid(), meta("srv/data/a.txt").gid()),
            (0, 0)
        );
    }
    // Not into a non-empty directory.
    let again = isounik(&[
        OsString::from("build"),
        "--rootfs".into(),
        root.into(),
        BUSYBOX.into(),
    ]);
    assert_eq!(again.code(), Some(EXIT_TOOL), "{}", again.describe());
    assert!(again.stderr().contains("not empty"), "{}", again.describe());
}

fn archive_entries(path: &Path) -> BTreeMap<String, (u32, Vec<u8>)> {
    let data = std::fs::read(path).unwrap();
    Reader::new(&data)
        .map(|e| {
            let e = e.expect("a valid cpio newc archive");
            (
                String::from_utf8_lossy(e.name).into_owned(),
                (e.mode, e.data.to_vec()),
            )
        })
        .collect()
}

#[test]
fn build_output_is_deterministic_and_holds_the_boot_files() {
    let data = content_dir();
    let dir = new_dir("archives");
    let build = |name: &str| {
        let output = dir.join(name);
        let ran = isounik(&[
            OsString::from("build"),
            "--output".into(),
            output.clone().into(),
            "--add".into(),
            format!("{}:/data", data.display()).into(),
            "-e".into(),
            "GREETING=hi".into(),
            "--workdir".into(),
            "/data".into(),
            BUSYBOX.into(),
            "ls".into(),
            "-l".into(),
        ]);
        assert_eq!(ran.code(), Some(0), "{}", ran.describe());
        output
    };
    let (a, b) = (build("a.cpio"), build("b.cpio"));
    assert!(
        std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
        "two builds from the same inputs differ"
    );
    let entries = archive_entries(&a);
    assert_eq!(entries[".isounik/argv"].1, b"/bin/busybox\0ls\0-l\0");
    assert_eq!(entries[".isounik/cwd"].1, b"/data");
    let env = String::from_utf8(entries[".isounik/env"].1.clone()).unwrap();
    assert!(
        env.starts_with(
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\0HOME=/root\0TERM="
        ) && env.ends_with("\0GREETING=hi\0"),
        "{env:?}"
    );
    assert_eq!(
        entries["data/a.txt"],
        (mode::REGULAR | 0o640, b"alpha\n".to_vec())
    );
    assert_eq!(entries["data/link"].0 & mode::TYPE_MASK, mode::SYMLINK);
    assert_eq!(entries["bin/busybox"].0, mode::REGULAR | 0o755);
    let names: Vec<&String> = entries.keys().collect();
    assert!(names.iter().all(|n| !n.starts_with('/')), "{names:?}");
    // The same archive on stdout.
    let mut command = Command::new(common::ISOUNIK);
    command.args(os(&["build", "--output", "-", BUSYBOX, "true"]));
    let ran: Ran = run_with_watchdog(command, b"", WATCHDOG);
    assert_eq!(ran.code(), Some(0), "{}", ran.describe());
    assert!(
        ran.output.stdout.starts_with(b"070701"),
        "not a newc archive on stdout"
    );
}

/// `#!` scripts run their interpreter, as program and through execve from a shell, with
/// Linux's argument rules (one optional interpreter argument).
#[test]
fn shebang_scripts_run_their_interpreter() {
    let dir = new_dir("shebang").join("scripts");
    std::fs::create_dir_all(&dir).unwrap();
    write(
        &dir.join("hello.sh"),
        "#!/bin/busybox sh\necho \"script $0 $*\"\nexit 5\n",
    );
    chmod(&dir.join("hello.sh"), 0o755);
    write(&dir.join("count.awk"), "#!/bin/busybox awk -f\n");
    chmod(&dir.join("count.awk"), 0o755);
    // As the program itself (the interpreter must be in the guest too), from a path outside
    // /dev (where the fixtures live, but the guest mounts its own /dev).
    let script = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hello.sh");
    std::fs::copy(dir.join("hello.sh"), &script).unwrap();
    let ran = guest(&[
        OsString::from("--add"),
        OsString::from(BUSYBOX),
        script.clone().into(),
        OsString::from("a"),
    ]);
    assert_eq!(ran.code(), Some(5), "{}", ran.describe());
    assert_eq!(
        common::text(&ran.output.stdout),
        format!("script {} a\n", script.display())
    );

    // Through execve from a shell; the whole rest of the #! line is one argument.
    let add = format!("{}:/data", dir.display());
    let ran = guest(&os(&[
        "--add",
        &add,
        BUSYBOX,
        "sh",
        "-c",
        "/data/hello.sh x y; echo \"status $?\"; /data/count.awk; echo \"awk $?\"",
    ]));
    assert_eq!(ran.code(), Some(0), "{}", ran.describe());
    assert_eq!(
        common::text(&ran.output.stdout),
        "script /data/hello.sh x y\nstatus 5\nawk 127\n"
    );
    assert!(
        common::text(&ran.output.stderr).contains("awk -f: applet not found"),
        "{}",
        ran.describe()
    );
}
