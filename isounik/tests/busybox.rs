//! Debian's busybox-static (`/bin/busybox`) in Iso-UniK against the same binary on the host:
//! each command runs once in the guest and once natively, and their exit statuses, stdout
//! and stderr must be the same, byte for byte.
//!
//! How the two runs see the same files: a fixture directory is made on a tmpfs
//! (`/dev/shm`; see `common::fixtures`), so that directory sizes, block counts and link
//! counts on the host follow the same tmpfs conventions as the guest's in-memory file
//! system; every entry has a fixed mtime and is owned by root (the tests run as root; the
//! cases that print owners are skipped otherwise). The guest gets it with
//! `--add FIXTURE:/data --workdir /data`; the host runs in the fixture directory; commands
//! name files by relative paths, so outputs that show paths agree. Commands that change
//! files run on the host in a fresh copy (`cp -a`). Both sides get the guest's
//! environment (PATH, HOME, TERM) and read the same `/etc/localtime` (the guest gets the
//! host's).
//!
//! What differs by design, and how it is handled:
//! * Directory order: readdir order is each file system's own choice, so for output in
//!   readdir order (`find`, `grep -r`, `cp -rv`, `tar -c`) the lines (or tar members) are
//!   compared sorted.
//! * `stat`: device and inode numbers are assigned by each file system, the access time
//!   changes when the host reads a file, and the change time is when the host created the
//!   fixture (it cannot be set), so those four fields are masked on both sides.
//! * `ls -la /` runs on the host in a chroot of `isounik build --rootfs`, the same root
//!   tree; `/dev` and `/proc` are the kernel's own file systems in the guest (only their
//!   being directories is compared), and the root's own date is masked (the kernel removes
//!   the boot directory `/.isounik` at boot, which changes the root's mtime).
//! * Each `isounik run` is a separate VM and busybox `sh` needs fork (a later issue), so a
//!   scenario must be one applet. Changes are observed through verbose output where this
//!   busybox has it (`cp -rv`, `ln -sv`, `tar -xv`); `mv`, `rm` and `mkdir` have no `-v`
//!   here, so for them status, stdout and stderr of successful and failing runs are
//!   compared (the fileio test program checks the effects of those calls).

mod common;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use common::fixtures::{self, chmod, is_root, new_dir, write};
use common::{assert_same, guest, native_in, run_with_watchdog, Ran, WATCHDOG};

const BUSYBOX: &str = "/bin/busybox";

/// Unsorted lines with repeats, for sort, uniq, head, tail.
const LINES: &str = "pear\napple\nfig\nbanana\napple\ncherry\nkiwi\nfig\ndate\nelderberry\n\
                     grape\nlemon\nmango\napple\nnectarine\norange\npapaya\nquince\nraspberry\nkiwi\n";

/// The fixture (made once per test process):
/// `archive.tar big.bin dups.txt empty hard1 hard2 lines.txt link numbers.txt private
/// script.sh sub/{deeper/needle.txt,notes.txt} text.txt`, created in that order.
fn data() -> &'static Path {
    static DATA: OnceLock<PathBuf> = OnceLock::new();
    DATA.get_or_init(|| {
        let root = new_dir("busybox");
        // What archive.tar holds (made by the host's busybox tar from fixed files).
        let tar_source = root.join("tar-source");
        std::fs::create_dir_all(tar_source.join("dir")).unwrap();
        write(&tar_source.join("dir/inner.txt"), "inside the archive\n");
        write(&tar_source.join("hello.txt"), "hello from tar\n");
        std::os::unix::fs::symlink("hello.txt", tar_source.join("link")).unwrap();
        fixtures::fix_mtimes(&tar_source);

        let data = root.join("data");
        std::fs::create_dir(&data).unwrap();
        let made = Command::new(BUSYBOX)
            .args(["tar", "-cf"])
            .arg(data.join("archive.tar"))
            .arg("-C")
            .arg(&tar_source)
            .args(["hello.txt", "dir", "link"])
            .status()
            .expect("busybox tar runs");
        assert!(made.success(), "making archive.tar failed");
        write(&data.join("big.bin"), fixtures::random_bytes(1 << 20, 7));
        write(&data.join("dups.txt"), "a\na\nb\nc\nc\nc\nd\na\na\n");
        write(&data.join("empty"), "");
        write(&data.join("hard1"), "linked twice\n");
        std::fs::hard_link(data.join("hard1"), data.join("hard2")).unwrap();
        write(&data.join("lines.txt"), LINES);
        std::os::unix::fs::symlink("text.txt", data.join("link")).unwrap();
        write(
            &data.join("numbers.txt"),
            "alpha 3\nbeta 14\ngamma 15\ndelta 92\nepsilon 65\n",
        );
        write(&data.join("private"), "secret\n");
        chmod(&data.join("private"), 0o600);
        write(&data.join("script.sh"), "#!/bin/sh\necho script\n");
        chmod(&data.join("script.sh"), 0o755);
        std::fs::create_dir_all(data.join("sub/deeper")).unwrap();
        write(
            &data.join("sub/deeper/needle.txt"),
            "a needle here\nand hay\n",
        );
        write(
            &data.join("sub/notes.txt"),
            "needle in the notes\nnothing else\n",
        );
        chmod(&data.join("sub"), 0o750);
        write(
            &data.join("text.txt"),
            "foo bar\nbaz foo\nqux\nthe quick brown fox\njumps over the lazy dog\n",
        );
        fixtures::fix_mtimes(&data);
        data
    })
}

/// A fresh copy of the fixture (modes, times, owners, hard links kept) for a command that
/// changes files.
fn copy_of_data() -> PathBuf {
    let dir = new_dir("busybox-copy");
    let status = Command::new("cp")
        .arg("-a")
        .arg(data())
        .arg(&dir)
        .status()
        .expect("cp runs");
    assert!(status.success(), "cp -a of the fixture failed");
    dir.join("data")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    /// Byte for byte.
    Exact,
    /// Output lines in readdir order: compared sorted.
    SortedLines,
}

/// `busybox ARGS` in the guest (the fixture at /data, the working directory) and on the
/// host (in the fixture, or a copy if `changes_files`).
fn both(args: &[&str], changes_files: bool) -> (Ran, Ran) {
    let mut cli: Vec<OsString> = vec![
        "--add".into(),
        format!("{}:/data", data().display()).into(),
        "--workdir".into(),
        "/data".into(),
        BUSYBOX.into(),
    ];
    cli.extend(args.iter().map(OsString::from));
    let guest = guest(&cli);
    let dir = if changes_files {
        copy_of_data()
    } else {
        data().to_owned()
    };
    let host = native_in(&dir, BUSYBOX, args);
    (guest, host)
}

fn sorted_lines(bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines
        .iter()
        .flat_map(|l| [l.as_bytes(), b"\n"])
        .flatten()
        .copied()
        .collect()
}

fn with_output(ran: &Ran, stdout: Vec<u8>, stderr: Vec<u8>) -> Ran {
    let mut output = ran.output.clone();
    output.stdout = stdout;
    output.stderr = stderr;
    Ran {
        command: ran.command.clone(),
        output,
        elapsed: ran.elapsed,
    }
}

/// Status, stdout and stderr must be the same.
fn assert_same_all(what: &str, guest: &Ran, host: &Ran) {
    assert_same(what, guest, host);
    assert_eq!(
        guest.stderr(),
        host.stderr(),
        "{what}: stderr differs\n\n=== guest:\n{}\n\n=== host:\n{}",
        guest.describe(),
        host.describe()
    );
}

fn compare_with(args: &[&str], order: Order, changes_files: bool) -> (Ran, Ran) {
    let (guest, host) = both(args, changes_files);
    let what = format!("busybox {}", args.join(" "));
    match order {
        Order::Exact => assert_same_all(&what, &guest, &host),
        Order::SortedLines => {
            let sort = |r: &Ran| {
                with_output(
                    r,
                    sorted_lines(&r.output.stdout),
                    sorted_lines(&r.output.stderr),
                )
            };
            assert_same_all(
                &format!("{what} (lines sorted)"),
                &sort(&guest),
                &sort(&host),
            );
        }
    }
    (guest, host)
}

fn compare(args: &[&str]) -> (Ran, Ran) {
    compare_with(args, Order::Exact, false)
}

/// Commands whose output shows owners: the fixture is owned by root only when the tests
/// run as root (as in CI).
fn needs_root(what: &str) -> bool {
    if is_root() {
        return true;
    }
    eprintln!("skipped {what}: the fixture is not owned by root when the tests do not run as root");
    false
}

#[test]
fn echo_prints_hello() {
    let (guest, _) = compare(&["echo", "hello"]);
    assert_eq!(guest.output.stdout, b"hello\n", "{}", guest.describe());
    assert_eq!(guest.code(), Some(0));
}

#[test]
fn cat_files() {
    compare(&["cat", "text.txt", "lines.txt", "link"]);
}

#[test]
fn cat_of_a_missing_file_fails_like_the_host() {
    let (guest, _) = compare(&["cat", "text.txt", "nonexistent"]);
    assert_eq!(guest.code(), Some(1), "{}", guest.describe());
}

#[test]
fn head_and_tail() {
    compare(&["head", "-n", "3", "lines.txt"]);
    compare(&["tail", "-n", "3", "lines.txt"]);
    compare(&["tail", "-c", "1000", "big.bin"]);
}

#[test]
fn wc_counts() {
    compare(&["wc", "text.txt", "lines.txt", "big.bin", "empty"]);
}

#[test]
fn sort_and_uniq() {
    compare(&["sort", "lines.txt"]);
    compare(&["sort", "-k2,2n", "-r", "numbers.txt"]);
    compare(&["uniq", "-c", "dups.txt"]);
}

#[test]
fn sed_edits() {
    compare(&["sed", "-e", "s/foo/FOO/g", "-e", "2d", "text.txt"]);
    compare(&["sed", "-n", "/needle/p", "sub/notes.txt"]);
}

#[test]
fn awk_computes() {
    compare(&[
        "awk",
        "{ s += $2; n++ } END { printf \"%d %.3f %d %s\\n\", s, s / n, NR, toupper($1) }",
        "numbers.txt",
    ]);
}

#[test]
fn grep_and_grep_recursive() {
    compare(&["grep", "-n", "foo", "text.txt"]);
    compare_with(&["grep", "-r", "needle", "."], Order::SortedLines, false);
    let (guest, _) = compare(&["grep", "nomatch", "text.txt"]);
    assert_eq!(guest.code(), Some(1), "{}", guest.describe());
}

#[test]
fn find_walks_the_tree() {
    compare_with(&["find", "."], Order::SortedLines, false);
    compare_with(
        &["find", ".", "-type", "f", "-name", "*.txt"],
        Order::SortedLines,
        false,
    );
    compare_with(&["find", ".", "-type", "l"], Order::SortedLines, false);
    compare_with(
        &["find", ".", "-links", "2", "-type", "f"],
        Order::SortedLines,
        false,
    );
}

#[test]
fn checksums_of_a_1_mib_file() {
    compare(&["sha256sum", "big.bin"]);
    compare(&["md5sum", "big.bin", "text.txt"]);
}

#[test]
fn ls_long_listings() {
    if needs_root("ls -l") {
        compare(&["ls", "-l"]);
        compare(&["ls", "-la", "sub"]);
        compare(&["ls", "-lR"]);
    }
    compare(&["ls"]);
    compare(&["ls", "-1F", "sub"]);
}

/// `stat` output with the fields each file system assigns itself masked: device and inode
/// numbers, access time (the host updates it on reads), change time (the fixture's
/// creation, which cannot be set).
fn normalize_stat(output: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(output);
    let mut out = String::new();
    for line in text.lines() {
        let normalized = if line.starts_with("Device:") {
            let links = line.split("Links:").nth(1).unwrap_or("").trim();
            format!("Device: <masked> Inode: <masked> Links: {links}")
        } else if line.starts_with("Access: ") && !line.starts_with("Access: (") {
            "Access: <masked>".to_owned()
        } else if line.starts_with("Change: ") {
            "Change: <masked>".to_owned()
        } else {
            line.to_owned()
        };
        out.push_str(&normalized);
        out.push('\n');
    }
    out.into_bytes()
}

#[test]
fn stat_shows_the_same_metadata() {
    if !needs_root("stat") {
        return;
    }
    let args = [
        "stat",
        "text.txt",
        "sub",
        "link",
        "hard1",
        "big.bin",
        "empty",
        "private",
        "script.sh",
    ];
    let (guest, host) = both(&args, false);
    let norm = |r: &Ran| with_output(r, normalize_stat(&r.output.stdout), r.output.stderr.clone());
    assert_same_all(
        "busybox stat (device, inode, atime and ctime masked)",
        &norm(&guest),
        &norm(&host),
    );
    compare(&[
        "stat",
        "-c",
        "%n %s %b %f %h %u %g %Y",
        "text.txt",
        "sub",
        "link",
        "hard2",
    ]);
}

#[test]
fn tar_lists_and_extracts() {
    if needs_root("tar -tv") {
        compare(&["tar", "-tvf", "archive.tar"]);
    }
    compare(&["tar", "-tf", "archive.tar"]);
    compare_with(
        &["tar", "-xvf", "archive.tar", "-C", "sub/deeper"],
        Order::Exact,
        true,
    );
    compare(&["tar", "-xOf", "archive.tar", "dir/inner.txt"]);
}

/// A tar stream's members (header block and data), sorted by name, and its length.
fn tar_members(stream: &[u8]) -> (Vec<(String, Vec<u8>)>, usize) {
    let mut members = Vec::new();
    let mut at = 0;
    while at + 512 <= stream.len() {
        let header = &stream[at..at + 512];
        if header.iter().all(|&b| b == 0) {
            break;
        }
        let field = |range: std::ops::Range<usize>| {
            String::from_utf8_lossy(&header[range])
                .trim_end_matches('\0')
                .to_owned()
        };
        let name = format!("{}{}", field(345..500), field(0..100));
        let size = u64::from_str_radix(field(124..136).trim(), 8).unwrap_or(0) as usize;
        let end = (at + 512 + size.div_ceil(512) * 512).min(stream.len());
        members.push((name, stream[at..end].to_vec()));
        at = end;
    }
    members.sort();
    (members, stream.len())
}

#[test]
fn tar_creates_the_same_archive() {
    if !needs_root("tar -c") {
        return;
    }
    // The archive goes to stdout (binary through the guest's stdout); members come in
    // readdir order, so they are compared sorted by name.
    let (guest, host) = both(&["tar", "-cf", "-", "sub", "text.txt", "link"], false);
    assert_eq!(
        guest.code(),
        host.code(),
        "{}\n{}",
        guest.describe(),
        host.describe()
    );
    let (g, h) = (
        tar_members(&guest.output.stdout),
        tar_members(&host.output.stdout),
    );
    let names = |m: &[(String, Vec<u8>)]| m.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&g.0),
        names(&h.0),
        "the archives have different members\n{}",
        guest.describe()
    );
    for ((name, a), (_, b)) in g.0.iter().zip(&h.0) {
        assert!(
            a == b,
            "member {name} differs between the guest's and the host's archive"
        );
    }
    assert_eq!(g.1, h.1, "the archives' lengths differ");
    assert_eq!(guest.stderr(), host.stderr());
}

#[test]
fn cp_recursive_verbose() {
    compare_with(&["cp", "-rv", "sub", "copy"], Order::SortedLines, true);
    compare_with(&["cp", "-v", "text.txt", "sub/"], Order::Exact, true);
}

#[test]
fn ln_symbolic_verbose() {
    compare_with(&["ln", "-sv", "text.txt", "newlink"], Order::Exact, true);
    let (guest, _) = compare_with(&["ln", "-s", "text.txt", "link"], Order::Exact, true);
    assert_eq!(
        guest.code(),
        Some(1),
        "ln onto an existing name must fail\n{}",
        guest.describe()
    );
}

#[test]
fn mv_rm_mkdir_succeed_and_fail_like_the_host() {
    compare_with(&["mv", "text.txt", "sub/moved.txt"], Order::Exact, true);
    compare_with(&["mv", "sub", "renamed"], Order::Exact, true);
    let (guest, _) = compare_with(&["mv", "text.txt", "nonexistent/x"], Order::Exact, true);
    assert_eq!(guest.code(), Some(1), "{}", guest.describe());
    compare_with(&["rm", "-r", "sub", "text.txt"], Order::Exact, true);
    let (guest, _) = compare_with(&["rm", "nonexistent"], Order::Exact, true);
    assert_eq!(guest.code(), Some(1), "{}", guest.describe());
    let (guest, _) = compare_with(&["rm", "sub"], Order::Exact, true);
    assert_eq!(
        guest.code(),
        Some(1),
        "rm of a directory without -r\n{}",
        guest.describe()
    );
    compare_with(&["mkdir", "-p", "x/y/z", "sub/deeper"], Order::Exact, true);
    let (guest, _) = compare_with(&["mkdir", "sub"], Order::Exact, true);
    assert_eq!(guest.code(), Some(1), "{}", guest.describe());
    compare_with(&["rmdir", "sub/deeper"], Order::Exact, true);
}

#[test]
fn expr_and_seq() {
    let (guest, _) = compare(&["expr", "6", "*", "7"]);
    assert_eq!(guest.stdout(), "42\n");
    let (guest, _) = compare(&["seq", "1", "10000"]);
    assert_eq!(guest.output.stdout.len(), 48894, "{}", guest.describe());
}

#[test]
fn date_formats_the_same_and_is_near_the_host() {
    compare(&["date", "-d", "@1700000000"]);
    compare(&[
        "date",
        "-u",
        "-d",
        "@1700000000",
        "+%Y-%m-%d %H:%M:%S %Z %s",
    ]);
    let (guest, _) = both(&["date", "+%s"], false);
    let host = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let seconds: i64 = guest
        .stdout()
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("date +%s printed no number\n{}", guest.describe()));
    assert!(
        (seconds - host).abs() <= 5,
        "the guest's clock says {seconds}, the host's {host}\n{}",
        guest.describe()
    );
}

#[test]
fn identity_and_system() {
    compare(&["whoami"]);
    compare(&["uname", "-sm"]);
    compare(&["basename", "/a/b/c.txt", ".txt"]);
    compare_with(&["env"], Order::SortedLines, false);
    let (guest, _) = both(&["hostname"], false);
    assert_eq!(guest.stdout(), "isounik\n", "{}", guest.describe());
}

/// `ls -la /` line for comparison: the kernel's mount points reduced to their type and
/// name, the root's own date masked.
fn normalize_root_listing(output: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(output);
    let mut out = String::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let name = fields.last().copied().unwrap_or("");
        let normalized = if fields.len() >= 9 && (name == "dev" || name == "proc") {
            format!("{} {name} (mount point)", &fields[0][..1])
        } else if fields.len() >= 9 && (name == "." || name == "..") {
            format!("{} <date masked> {name}", fields[..5].join(" "))
        } else {
            line.to_owned()
        };
        out.push_str(&normalized);
        out.push('\n');
    }
    out.into_bytes()
}

#[test]
fn ls_la_root_matches_a_chroot_of_the_same_tree() {
    if !needs_root("ls -la /") {
        return;
    }
    let root = new_dir("chroot").join("root");
    let built = common::isounik(&[
        "build".as_ref(),
        "--rootfs".as_ref(),
        root.as_os_str(),
        BUSYBOX.as_ref(),
        "ls".as_ref(),
        "-la".as_ref(),
        "/".as_ref(),
    ]);
    assert_eq!(built.code(), Some(0), "{}", built.describe());
    let mut chroot = Command::new("chroot");
    chroot
        .arg(&root)
        .args([BUSYBOX, "ls", "-la", "/"])
        .env_clear()
        .envs(common::guest_env());
    let host = run_with_watchdog(chroot, b"", WATCHDOG);
    if host.code() != Some(0) && host.stderr().contains("Operation not permitted") {
        eprintln!(
            "skipped ls -la /: chroot is not permitted here\n{}",
            host.describe()
        );
        return;
    }
    assert_eq!(host.code(), Some(0), "chroot failed\n{}", host.describe());
    let guest = guest(&[BUSYBOX, "ls", "-la", "/"]);
    let norm = |r: &Ran| {
        with_output(
            r,
            normalize_root_listing(&r.output.stdout),
            r.output.stderr.clone(),
        )
    };
    assert_same_all(
        "busybox ls -la / against a chroot of `isounik build --rootfs` (mount points and the root's date masked)",
        &norm(&guest),
        &norm(&host),
    );
}
