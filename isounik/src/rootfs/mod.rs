//! The guest's root file system, packed as the initramfs (shared by `isounik run` and
//! `isounik build`).
//!
//! What goes in, in this order (a later step never silently overrides an earlier one
//! except where said):
//! 1. every `--add HOST[:GUEST]`, in command-line order (`host`): a later file replaces an
//!    earlier one at the same guest path, a later directory merges into an earlier one;
//! 2. the program at its guest path (the same host file may already be there; a different
//!    one is an error);
//! 3. the `--workdir` directory if it does not exist yet;
//! 4. the defaults (`defaults`) wherever the user put nothing: `/dev`, `/proc`, `/tmp`,
//!    `/root`, `/etc/{passwd,group,hostname,hosts,localtime}`.
//!
//! Missing parent directories are created with mode 0755. Every entry is owned by root
//! (uid 0, gid 0) whoever owns the host file: the guest runs as root, and the archive then
//! does not depend on who built it. Host files keep their mode bits and mtimes; generated
//! entries (parents, defaults, the boot directory) have mtime 0 (the epoch). The archive
//! is a pure function of its inputs: the same files, arguments and environment give the
//! same bytes (`archive` describes the order and inode numbers).

pub mod archive;
mod defaults;
mod host;
mod tree;

use std::path::Path;

use anyhow::Result;

pub use archive::{extract, BootFiles};
pub use tree::Tree;

use crate::guest_path::GuestPath;
use crate::launch::{AddSpec, Program};
use tree::Origin;

/// Everything the root tree is made of.
pub struct Contents<'a> {
    pub program: &'a Program,
    pub adds: &'a [AddSpec],
    pub workdir: Option<&'a GuestPath>,
    /// The current directory, which relative `--add` HOST paths are taken from (also for
    /// their default guest path).
    pub cwd: &'a Path,
    /// The contents of `/etc/localtime` (see [`localtime`]).
    pub localtime: &'a [u8],
}

/// `/etc/localtime` for the guest: the host's if it is a readable TZif file, else UTC.
pub fn localtime() -> Vec<u8> {
    defaults::host_localtime().unwrap_or_else(defaults::utc_tzif)
}

/// Builds the root tree (host files are not read yet).
pub fn tree(contents: &Contents<'_>) -> Result<Tree> {
    let mut tree = Tree::default();
    for spec in contents.adds {
        host::add(&mut tree, spec, contents.cwd)?;
    }
    host::add_program(&mut tree, contents.program)?;
    if let Some(dir) = contents.workdir {
        tree.ensure_dir(dir.clone(), Origin::Workdir, "")?;
    }
    defaults::add(&mut tree, contents.localtime)?;
    Ok(tree)
}

/// The initramfs: the boot files and the root tree as a cpio newc archive.
pub fn pack(contents: &Contents<'_>, boot: &BootFiles) -> Result<Vec<u8>> {
    archive::write(&tree(contents)?, boot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::ffi::OsStr;
    use std::fs;
    use std::os::unix::fs::{symlink, PermissionsExt};
    use std::path::PathBuf;

    use isounik_cpio::{mode, Reader};

    use crate::launch::{argv_file, resolve_program};

    /// One archive entry, owned.
    #[derive(Clone, Debug, PartialEq, Eq)]
    struct E {
        ino: u32,
        mode: u32,
        uid: u32,
        gid: u32,
        nlink: u32,
        mtime: u32,
        data: Vec<u8>,
    }

    fn entries(archive: &[u8]) -> (Vec<String>, BTreeMap<String, E>) {
        let mut order = Vec::new();
        let mut map = BTreeMap::new();
        for entry in Reader::new(archive) {
            let e = entry.unwrap();
            let name = String::from_utf8(e.name.to_vec()).unwrap();
            order.push(name.clone());
            map.insert(
                name,
                E {
                    ino: e.ino,
                    mode: e.mode,
                    uid: e.uid,
                    gid: e.gid,
                    nlink: e.nlink,
                    mtime: e.mtime,
                    data: e.data.to_vec(),
                },
            );
        }
        (order, map)
    }

    fn set_mtime(path: &Path, secs: i64) {
        let t = nix::sys::time::TimeSpec::new(secs, 0);
        nix::sys::stat::utimensat(
            nix::fcntl::AT_FDCWD,
            path,
            &t,
            &t,
            nix::sys::stat::UtimensatFlags::NoFollowSymlink,
        )
        .unwrap();
    }

    fn chmod(path: &Path, perm: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(perm)).unwrap();
    }

    /// A host directory: `prog` (executable), `data/` with a file, a subdirectory, a
    /// symlink, two hard links and a FIFO.
    struct Fixture {
        dir: tempfile::TempDir,
    }

    impl Fixture {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path();
            fs::write(d.join("prog"), b"\x7fELF program").unwrap();
            chmod(&d.join("prog"), 0o755);
            set_mtime(&d.join("prog"), 1_000_000);
            let data = d.join("data");
            fs::create_dir_all(data.join("sub")).unwrap();
            fs::write(data.join("a.txt"), b"alpha\n").unwrap();
            chmod(&data.join("a.txt"), 0o640);
            fs::write(data.join("sub/b"), b"beta").unwrap();
            fs::write(data.join("hard1"), b"shared").unwrap();
            fs::hard_link(data.join("hard1"), data.join("hard2")).unwrap();
            symlink("a.txt", data.join("link")).unwrap();
            symlink("/nonexistent", data.join("dangling")).unwrap();
            nix::unistd::mkfifo(
                &data.join("fifo"),
                nix::sys::stat::Mode::from_bits_truncate(0o600),
            )
            .unwrap();
            for (p, t) in [
                ("data/a.txt", 1_700_000_001),
                ("data/sub/b", 1_700_000_002),
                ("data/hard1", 1_700_000_003),
                ("data/link", 1_700_000_004),
                ("data/dangling", 1_700_000_004),
                ("data/fifo", 1_700_000_005),
                ("data/sub", 1_700_000_006),
                ("data", 1_700_000_007),
            ] {
                set_mtime(&d.join(p), t);
            }
            chmod(&data.join("sub"), 0o750);
            Fixture { dir }
        }

        fn path(&self) -> &Path {
            self.dir.path()
        }

        fn program(&self) -> Program {
            resolve_program(self.path().join("prog").as_os_str(), None, self.path()).unwrap()
        }
    }

    fn adds(specs: &[&str]) -> Vec<AddSpec> {
        specs
            .iter()
            .map(|s| AddSpec::parse(OsStr::new(s)).unwrap())
            .collect()
    }

    fn boot(program: &Program) -> BootFiles {
        BootFiles {
            argv: argv_file(&program.guest, &["x".into()]),
            env: b"PATH=/bin\0".to_vec(),
            cwd: None,
        }
    }

    /// Packs from the fixture directory (relative --add paths are relative to it).
    fn pack_in(fixture: &Fixture, specs: &[&str], workdir: Option<&str>) -> Result<Vec<u8>> {
        let program = fixture.program();
        let adds = adds(specs);
        let workdir = workdir.map(|w| GuestPath::new(w.as_bytes()).unwrap());
        let mut boot = boot(&program);
        boot.cwd = workdir.as_ref().map(|w| w.as_bytes().to_vec());
        // Host paths are opened relative to the process's cwd: the tests give absolute
        // ones (they run in parallel and cannot change it).
        pack(
            &Contents {
                program: &program,
                adds: &adds,
                workdir: workdir.as_ref(),
                cwd: fixture.path(),
                localtime: b"TZif-test",
            },
            &boot,
        )
    }

    fn abs(fixture: &Fixture, rel: &str) -> String {
        fixture.path().join(rel).to_string_lossy().into_owned()
    }

    #[test]
    fn archive_holds_boot_files_program_adds_and_defaults() {
        let f = Fixture::new();
        let prog_guest = abs(&f, "prog");
        let spec = format!("{}:/data", abs(&f, "data"));
        let archive = pack_in(&f, &[&spec], Some("/work")).unwrap();
        let (order, e) = entries(&archive);

        // The boot directory first, then everything sorted.
        assert_eq!(
            order[..4],
            [".isounik", ".isounik/argv", ".isounik/cwd", ".isounik/env"]
        );
        let mut sorted = order[4..].to_vec();
        sorted.sort();
        assert_eq!(order[4..], sorted[..]);
        assert_eq!(
            e[".isounik/argv"].data,
            format!("{prog_guest}\0x\0").as_bytes()
        );
        assert_eq!(e[".isounik/env"].data, b"PATH=/bin\0");
        assert_eq!(e[".isounik/cwd"].data, b"/work");

        // The program at its absolute host path, parents 0755 with mtime 0.
        let prog = &e[&prog_guest[1..]];
        assert_eq!(prog.data, b"\x7fELF program");
        assert_eq!(prog.mode, mode::REGULAR | 0o755);
        assert_eq!(prog.mtime, 1_000_000);
        let parent = &prog_guest[1..prog_guest.rfind('/').unwrap()];
        assert_eq!(e[parent].mode, mode::DIRECTORY | 0o755);
        assert_eq!(e[parent].mtime, 0);

        // --add: modes, mtimes, symlinks as symlinks, hard links, FIFOs; owner root.
        assert_eq!(e["data"].mode, mode::DIRECTORY | 0o755);
        assert_eq!(e["data"].mtime, 1_700_000_007);
        assert_eq!(e["data"].nlink, 3);
        assert_eq!(e["data/a.txt"].mode, mode::REGULAR | 0o640);
        assert_eq!(e["data/a.txt"].data, b"alpha\n");
        assert_eq!(e["data/a.txt"].mtime, 1_700_000_001);
        assert_eq!(e["data/sub"].mode, mode::DIRECTORY | 0o750);
        assert_eq!(e["data/sub"].mtime, 1_700_000_006);
        assert_eq!(e["data/sub/b"].data, b"beta");
        assert_eq!(e["data/link"].mode & mode::TYPE_MASK, mode::SYMLINK);
        assert_eq!(e["data/link"].data, b"a.txt");
        assert_eq!(e["data/link"].mtime, 1_700_000_004);
        assert_eq!(e["data/dangling"].data, b"/nonexistent");
        assert_eq!(e["data/fifo"].mode, mode::FIFO | 0o600);
        let (h1, h2) = (&e["data/hard1"], &e["data/hard2"]);
        assert_eq!(h1.ino, h2.ino);
        assert_eq!((h1.nlink, h2.nlink), (2, 2));
        assert_eq!(h1.data, b"shared", "the data travels with the first name");
        assert!(h2.data.is_empty());
        for (name, entry) in &e {
            assert_eq!((entry.uid, entry.gid), (0, 0), "{name}");
        }
        // Distinct inodes otherwise.
        assert_ne!(e["data/a.txt"].ino, e["data/sub/b"].ino);

        // --workdir created; defaults present.
        assert_eq!(e["work"].mode, mode::DIRECTORY | 0o755);
        assert_eq!(e["tmp"].mode, mode::DIRECTORY | 0o1777);
        assert_eq!(e["root"].mode, mode::DIRECTORY | 0o700);
        for mount_point in ["dev", "proc"] {
            assert_eq!(e[mount_point].mode, mode::DIRECTORY | 0o755);
            assert!(!order
                .iter()
                .any(|n| n.starts_with(&format!("{mount_point}/"))));
        }
        assert_eq!(e["etc/passwd"].data, b"root:x:0:0:root:/root:/bin/sh\n");
        assert_eq!(e["etc/group"].data, b"root:x:0:\n");
        assert_eq!(e["etc/hostname"].data, b"isounik\n");
        assert_eq!(e["etc/hosts"].data, b"127.0.0.1 localhost\n::1 localhost\n");
        assert_eq!(e["etc/localtime"].data, b"TZif-test");
        assert_eq!(e["etc/passwd"].mode, mode::REGULAR | 0o644);
        assert_eq!(e["etc/passwd"].mtime, 0);
    }

    #[test]
    fn archives_are_deterministic() {
        let f = Fixture::new();
        let spec = format!("{}:/data", abs(&f, "data"));
        let a = pack_in(&f, &[&spec], Some("/data")).unwrap();
        let b = pack_in(&f, &[&spec], Some("/data")).unwrap();
        assert_eq!(a, b);
        // A copy of the inputs elsewhere gives the same bytes apart from the paths.
        let g = Fixture::new();
        let spec_g = format!("{}:/data", abs(&g, "data"));
        let c = pack_in(&g, &[&spec_g], Some("/data")).unwrap();
        let (_, ea) = entries(&a);
        let (_, ec) = entries(&c);
        let data = |m: &BTreeMap<String, E>| {
            m.iter()
                .filter(|(k, _)| k.starts_with("data") || k.starts_with("etc"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(data(&ea), data(&ec));
    }

    #[test]
    fn add_mapping_rules() {
        let f = Fixture::new();
        let data = abs(&f, "data");
        // Default guest path: the absolute host path; a trailing '/' puts a file inside.
        let specs = [
            data.clone(),
            format!("{data}/a.txt:/srv/"),
            format!("{data}/a.txt:/srv/renamed"),
            // A symlink given as HOST is followed.
            format!("{data}/link:/followed"),
            // The same host file again: a hard link to the others.
            format!("{data}/hard1:/srv/hard3"),
        ];
        let specs: Vec<&str> = specs.iter().map(String::as_str).collect();
        let archive = pack_in(&f, &specs, None).unwrap();
        let (order, e) = entries(&archive);
        let d = &data[1..];
        assert_eq!(e[&format!("{d}/a.txt")].mode, mode::REGULAR | 0o640);
        assert_eq!(
            e[&format!("{d}/link")].mode & mode::TYPE_MASK,
            mode::SYMLINK
        );
        assert_eq!(e["srv/renamed"].mode, mode::REGULAR | 0o640);
        assert_eq!(e["followed"].mode, mode::REGULAR | 0o640);
        assert_eq!(e["followed"].ino, e["srv/a.txt"].ino);
        assert_eq!(e["followed"].nlink, 4);
        assert_eq!(e["srv/hard3"].ino, e[&format!("{d}/hard1")].ino);
        assert_eq!(e["srv/hard3"].nlink, 3);
        // One name per hard-link group carries the data: the first in the archive.
        let group: Vec<&String> = order
            .iter()
            .filter(|n| e[*n].ino == e["srv/a.txt"].ino)
            .collect();
        assert_eq!(group.len(), 4);
        assert_eq!(e[group[0]].data, b"alpha\n");
        assert!(group[1..].iter().all(|n| e[*n].data.is_empty()));
        assert!(!e.contains_key("work"));
        assert!(!e.contains_key(".isounik/cwd"));
    }

    #[test]
    fn later_adds_win_and_defaults_do_not_override_user_files() {
        let f = Fixture::new();
        fs::write(f.path().join("passwd"), b"me:x:0:0::/:/bin/sh\n").unwrap();
        fs::create_dir(f.path().join("tmpdir")).unwrap();
        chmod(&f.path().join("tmpdir"), 0o700);
        let specs = [
            format!("{}:/etc/passwd", abs(&f, "data/a.txt")),
            format!("{}:/etc/passwd", abs(&f, "passwd")),
            format!("{}:/tmp", abs(&f, "tmpdir")),
        ];
        let specs: Vec<&str> = specs.iter().map(String::as_str).collect();
        let (_, e) = entries(&pack_in(&f, &specs, None).unwrap());
        assert_eq!(e["etc/passwd"].data, b"me:x:0:0::/:/bin/sh\n");
        assert_eq!(e["etc/group"].data, b"root:x:0:\n");
        assert_eq!(e["tmp"].mode, mode::DIRECTORY | 0o700);
    }

    #[test]
    fn errors_name_the_option() {
        let f = Fixture::new();
        let err = pack_in(&f, &["/nonexistent/isounik"], None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--add /nonexistent/isounik: No such file or directory"
        );
        let listener_dir = f.path().join("sock");
        fs::create_dir(&listener_dir).unwrap();
        let _listener = std::os::unix::net::UnixListener::bind(listener_dir.join("s")).unwrap();
        let spec = abs(&f, "sock");
        let err = pack_in(&f, &[&spec], None).unwrap_err().to_string();
        assert!(
            err.contains("is a socket, which an initramfs cannot hold"),
            "{err}"
        );
        let spec = format!("{}:/dev", abs(&f, "data/a.txt"));
        let err = pack_in(&f, &[&spec], None).unwrap_err().to_string();
        assert!(err.contains("/dev must be a directory"), "{err}");
        let spec = format!("{}:/etc", abs(&f, "data/a.txt"));
        let err = pack_in(&f, &[&spec], Some("/etc/x"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/etc is a file"), "{err}");
        // Another file where the program goes.
        let spec = format!("{}:{}", abs(&f, "data/a.txt"), abs(&f, "prog"));
        let err = pack_in(&f, &[&spec], None).unwrap_err().to_string();
        assert!(err.starts_with("PROGRAM is placed at "), "{err}");
    }

    #[test]
    fn extracts_the_guest_root_without_boot_files() {
        use std::os::unix::fs::MetadataExt;
        let f = Fixture::new();
        let spec = format!("{}:/data", abs(&f, "data"));
        let archive = pack_in(&f, &[&spec], Some("/data")).unwrap();
        let out = tempfile::tempdir().unwrap();
        let root: PathBuf = out.path().join("root");
        extract(&archive, &root).unwrap();
        assert!(!root.join(".isounik").exists());
        assert_eq!(fs::read(root.join("data/a.txt")).unwrap(), b"alpha\n");
        let m = fs::symlink_metadata(root.join("data/a.txt")).unwrap();
        assert_eq!((m.mode() & 0o7777, m.mtime()), (0o640, 1_700_000_001));
        assert_eq!(
            fs::read_link(root.join("data/link")).unwrap(),
            PathBuf::from("a.txt")
        );
        assert_eq!(
            fs::symlink_metadata(root.join("data/link"))
                .unwrap()
                .mtime(),
            1_700_000_004
        );
        let (h1, h2) = (
            fs::metadata(root.join("data/hard1")).unwrap(),
            fs::metadata(root.join("data/hard2")).unwrap(),
        );
        assert_eq!(h1.ino(), h2.ino());
        assert_eq!(fs::read(root.join("data/hard2")).unwrap(), b"shared");
        let m = fs::metadata(root.join("data/sub")).unwrap();
        assert_eq!((m.mode() & 0o7777, m.mtime()), (0o750, 1_700_000_006));
        let m = fs::metadata(root.join("tmp")).unwrap();
        assert_eq!(m.mode() & 0o7777, 0o1777);
        let m = fs::metadata(&root).unwrap();
        assert_eq!((m.mode() & 0o7777, m.mtime()), (0o755, 0));
        assert_eq!(
            fs::read_to_string(root.join("etc/hostname")).unwrap(),
            "isounik\n"
        );
        // Not into a non-empty directory.
        let err = extract(&archive, &root).unwrap_err();
        assert!(err.to_string().contains("not empty"), "{err}");
    }
}
