use std::string::ToString;
use std::vec;
use std::vec::Vec;

use isounik_cpio::{mode, Error as CpioError, Meta, Writer};

use super::*;
use crate::{FileType, FsError, Timespec, UnpackErrorKind};

fn meta(m: u32) -> Meta {
    Meta::new(m)
}

fn unpack(archive: &[u8]) -> (TestVfs, Result<crate::UnpackStats, crate::UnpackError>) {
    let mut vfs = new_vfs();
    let root = vfs.root();
    let result = vfs.unpack_cpio(root, archive);
    (vfs, result)
}

fn sample() -> Vec<u8> {
    let mut w = Writer::new();
    w.add(
        b".",
        Meta {
            mtime: 7,
            ..meta(mode::DIRECTORY | 0o700)
        },
        b"",
    );
    w.add(
        b"./bin",
        Meta {
            mtime: 100,
            ..meta(mode::DIRECTORY | 0o751)
        },
        b"",
    );
    w.add(
        b"./bin/busybox",
        Meta {
            uid: 1,
            gid: 2,
            mtime: 200,
            ..meta(mode::REGULAR | 0o4755)
        },
        &[0x7f; 5000],
    );
    w.add(b"bin/sh", meta(mode::SYMLINK | 0o777), b"busybox");
    w.add(
        b"/etc/deep/er/passwd",
        meta(mode::REGULAR | 0o644),
        b"root:x:0:0\n",
    );
    w.add(
        b"etc",
        Meta {
            mtime: 300,
            ..meta(mode::DIRECTORY | 0o755)
        },
        b"",
    );
    w.add(
        b"dev/console",
        Meta {
            rdev_major: 5,
            rdev_minor: 1,
            ..meta(mode::CHAR_DEVICE | 0o600)
        },
        b"",
    );
    w.add(
        b"dev/sda",
        Meta {
            rdev_major: 8,
            ..meta(mode::BLOCK_DEVICE | 0o660)
        },
        b"",
    );
    w.add(b"dev/initctl", meta(mode::FIFO | 0o600), b"");
    w.add(b"run/sock", meta(mode::SOCKET | 0o777), b"");
    w.add(b"empty", meta(mode::REGULAR | 0o600), b"");
    w.finish()
}

#[test]
fn unpacks_a_tree_with_metadata() {
    let (mut vfs, result) = unpack(&sample());
    let stats = result.unwrap();
    assert_eq!(stats.entries, 11);
    assert_eq!(
        (
            stats.files,
            stats.directories,
            stats.symlinks,
            stats.special
        ),
        (3, 3, 1, 4)
    );
    assert_eq!(stats.bytes, 5000 + 11);
    let root = vfs.root();
    // "." set the root's mode and time.
    let st = vfs.stat(root).unwrap();
    assert_eq!((st.mode, st.mtime.sec), (0o040700, 7));
    let bb = node(&vfs, "/bin/busybox");
    let st = vfs.stat(bb).unwrap();
    assert_eq!((st.mode, st.uid, st.gid, st.size), (0o104755, 1, 2, 5000));
    assert_eq!((st.atime.sec, st.mtime.sec, st.ctime.sec), (200, 200, 200));
    assert_eq!(read_all(&mut vfs, bb), vec![0x7f; 5000]);
    assert_eq!(node(&vfs, "/bin/sh"), bb);
    let sh = vfs.resolve(root, root, b"/bin/sh", false).unwrap();
    let crate::Resolved::Node(sh) = sh else {
        panic!()
    };
    assert_eq!(vfs.readlink(sh), Ok(&b"busybox"[..]));
    // Directory times survive the creation of their children.
    let st = vfs.stat(node(&vfs, "/bin")).unwrap();
    assert_eq!((st.mode, st.mtime.sec, st.nlink), (0o040751, 100, 2));
    assert_eq!(vfs.stat(node(&vfs, "/etc")).unwrap().mtime.sec, 300);
    // Implicit parents are 0o755 root-owned.
    let st = vfs.stat(node(&vfs, "/etc/deep/er")).unwrap();
    assert_eq!((st.mode, st.uid), (0o040755, 0));
    let passwd = node(&vfs, "/etc/deep/er/passwd");
    assert_eq!(read_all(&mut vfs, passwd), b"root:x:0:0\n");
    let st = vfs.stat(node(&vfs, "/dev/console")).unwrap();
    assert_eq!((st.mode, st.rdev_major, st.rdev_minor), (0o020600, 5, 1));
    let st = vfs.stat(node(&vfs, "/dev/sda")).unwrap();
    assert_eq!((st.file_type, st.rdev_major), (FileType::BlockDevice, 8));
    assert_eq!(
        vfs.file_type(node(&vfs, "/dev/initctl")),
        Ok(FileType::Fifo)
    );
    assert_eq!(vfs.file_type(node(&vfs, "/run/sock")), Ok(FileType::Socket));
    assert_eq!(vfs.stat(node(&vfs, "/empty")).unwrap().size, 0);
    assert_eq!(vfs.stat(root).unwrap().nlink, 2 + 4);
}

#[test]
fn hard_links_share_one_inode_with_the_last_data() {
    let mut w = Writer::new();
    let link = |name: &[u8], w: &mut Writer, data: &[u8]| {
        let m = Meta {
            ino: 42,
            nlink: 3,
            mtime: 9,
            ..meta(mode::REGULAR | 0o755)
        };
        w.add(name, m, data);
    };
    link(b"bin/a", &mut w, b"");
    link(b"bin/b", &mut w, b"");
    link(b"usr/bin/c", &mut w, b"the data");
    // Same inode number but nlink 1: an unrelated file (writers reuse numbers then).
    w.add(
        b"other",
        Meta {
            ino: 42,
            ..meta(mode::REGULAR | 0o644)
        },
        b"other",
    );
    let (mut vfs, result) = unpack(&w.finish());
    let stats = result.unwrap();
    assert_eq!((stats.files, stats.hard_links), (2, 2));
    let a = node(&vfs, "/bin/a");
    assert_eq!(node(&vfs, "/bin/b"), a);
    assert_eq!(node(&vfs, "/usr/bin/c"), a);
    let st = vfs.stat(a).unwrap();
    assert_eq!((st.nlink, st.size, st.mtime.sec), (3, 8, 9));
    assert_eq!(read_all(&mut vfs, a), b"the data");
    assert_ne!(node(&vfs, "/other"), a);
}

#[test]
fn later_entries_replace_earlier_ones() {
    let mut w = Writer::new();
    w.add(b"f", meta(mode::REGULAR | 0o644), b"first");
    w.add(b"f", meta(mode::REGULAR | 0o600), b"second");
    w.add(b"s", meta(mode::SYMLINK | 0o777), b"f");
    w.add(b"s", meta(mode::DIRECTORY | 0o755), b"");
    w.add(b"d", meta(mode::DIRECTORY | 0o755), b"");
    w.add(b"d", meta(mode::DIRECTORY | 0o700), b"");
    w.add(b"e", meta(mode::DIRECTORY | 0o755), b"");
    w.add(b"e", meta(mode::REGULAR | 0o644), b"now a file");
    let (mut vfs, result) = unpack(&w.finish());
    result.unwrap();
    let f = node(&vfs, "/f");
    assert_eq!(read_all(&mut vfs, f), b"second");
    assert_eq!(vfs.stat(f).unwrap().mode, 0o100600);
    assert_eq!(vfs.file_type(node(&vfs, "/s")), Ok(FileType::Directory));
    assert_eq!(vfs.stat(node(&vfs, "/d")).unwrap().mode, 0o040700);
    assert_eq!(vfs.file_type(node(&vfs, "/e")), Ok(FileType::Regular));
    // Replacing a non-empty directory by a file is an error naming the entry.
    let mut w = Writer::new();
    w.add(b"d/x", meta(mode::REGULAR | 0o644), b"");
    w.add(b"d", meta(mode::REGULAR | 0o644), b"");
    let (_, result) = unpack(&w.finish());
    let err = result.unwrap_err();
    assert_eq!(err.kind, UnpackErrorKind::Fs(FsError::NotEmpty));
    assert_eq!(
        err.to_string(),
        "initramfs entry \"d\": directory not empty"
    );
}

#[test]
fn dangerous_names_are_rejected() {
    for (name, kind) in [
        (&b"../etc/passwd"[..], UnpackErrorKind::DotDot),
        (b"a/../../x", UnpackErrorKind::DotDot),
        (b"./..", UnpackErrorKind::DotDot),
        (b"link/x", UnpackErrorKind::ThroughSymlink),
        (b"file/x", UnpackErrorKind::Fs(FsError::NotDirectory)),
    ] {
        let mut w = Writer::new();
        w.add(b"link", meta(mode::SYMLINK | 0o777), b"/");
        w.add(b"file", meta(mode::REGULAR | 0o644), b"");
        w.add(name, meta(mode::REGULAR | 0o644), b"evil");
        let (vfs, result) = unpack(&w.finish());
        let err = result.unwrap_err();
        assert_eq!((err.entry.as_deref(), &err.kind), (Some(name), &kind));
        assert!(err.to_string().contains(&*name.escape_ascii().to_string()));
        assert_eq!(try_node(&vfs, "/x"), Err(FsError::NotFound));
        assert_eq!(try_node(&vfs, "/etc"), Err(FsError::NotFound));
    }
    // Bad component lengths and symlink targets come back as file-system errors.
    let long = [b'n'; 256];
    let mut w = Writer::new();
    w.add(&long, meta(mode::REGULAR | 0o644), b"");
    let (_, result) = unpack(&w.finish());
    assert_eq!(
        result.unwrap_err().kind,
        UnpackErrorKind::Fs(FsError::NameTooLong)
    );
    let mut w = Writer::new();
    w.add(b"s", meta(mode::SYMLINK | 0o777), b"");
    let (_, result) = unpack(&w.finish());
    assert_eq!(
        result.unwrap_err().kind,
        UnpackErrorKind::Fs(FsError::NotFound)
    );
    // Non-UTF-8 names are escaped in messages.
    let mut w = Writer::new();
    w.add(b"\xff/../x", meta(mode::REGULAR | 0o644), b"");
    let (_, result) = unpack(&w.finish());
    let text = result.unwrap_err().to_string();
    assert_eq!(
        text,
        "initramfs entry \"\\xff/../x\": name has a \"..\" component"
    );
}

#[test]
fn unknown_types_and_mount_points_are_skipped() {
    let mut vfs = new_vfs();
    let root = vfs.root();
    let dev = vfs.mount_point(root, b"dev", 2, 0o755).unwrap();
    let mut w = Writer::new();
    w.add(b"dev", meta(mode::DIRECTORY | 0o700), b"");
    w.add(b"dev/console", meta(mode::CHAR_DEVICE | 0o600), b"");
    w.add(b"weird", meta(0o644), b"");
    w.add(b"ok", meta(mode::REGULAR | 0o644), b"");
    let stats = vfs.unpack_cpio(root, &w.finish()).unwrap();
    assert_eq!((stats.entries, stats.skipped, stats.files), (4, 3, 1));
    assert_eq!(vfs.stat(dev).unwrap().mode, 0o040755);
    assert_eq!(try_node(&vfs, "/weird"), Err(FsError::NotFound));
}

#[test]
fn unpacks_into_a_subdirectory() {
    let mut vfs = new_vfs();
    let sub = mkdir(&mut vfs, "/sub");
    let mut w = Writer::new();
    w.add(b"/a/b", meta(mode::REGULAR | 0o644), b"x");
    w.add(b"/", meta(mode::DIRECTORY | 0o711), b"");
    vfs.unpack_cpio(sub, &w.finish()).unwrap();
    assert!(try_node(&vfs, "/sub/a/b").is_ok());
    assert_eq!(vfs.stat(sub).unwrap().mode, 0o040711);
    assert_eq!(vfs.stat(vfs.root()).unwrap().mode, 0o040755);
}

#[test]
fn concatenated_archives() {
    let mut first = Writer::new();
    first.add(
        b"a",
        Meta {
            ino: 5,
            nlink: 2,
            ..meta(mode::REGULAR | 0o644)
        },
        b"one",
    );
    let mut second = Writer::new();
    second.add(
        b"b",
        Meta {
            ino: 5,
            nlink: 2,
            ..meta(mode::REGULAR | 0o644)
        },
        b"two",
    );
    second.add(b"a", meta(mode::REGULAR | 0o644), b"replaced");
    let mut archive = first.finish();
    archive.extend_from_slice(&[0; 512]);
    archive.extend_from_slice(&second.finish());
    archive.extend_from_slice(&[0; 3]);
    let (mut vfs, result) = unpack(&archive);
    let stats = result.unwrap();
    assert_eq!((stats.entries, stats.files, stats.hard_links), (3, 3, 0));
    let a = node(&vfs, "/a");
    let b = node(&vfs, "/b");
    assert_ne!(a, b, "inode numbers are per archive");
    assert_eq!(read_all(&mut vfs, a), b"replaced");
    assert_eq!(read_all(&mut vfs, b), b"two");
    // Garbage after a trailer.
    let mut bad = sample();
    bad.extend_from_slice(b"\0\0\0\0");
    bad.extend_from_slice(&b"junk".repeat(40));
    let (_, result) = unpack(&bad);
    let err = result.unwrap_err();
    assert!(
        matches!(err.kind, UnpackErrorKind::Archive(CpioError::BadMagic(at)) if at == sample().len() + 4)
    );
    assert_eq!(err.entry.as_deref(), Some(&b"empty"[..]));
    let mut bad = sample();
    bad.extend_from_slice(b"\0x");
    let (_, result) = unpack(&bad);
    let len = sample().len();
    assert_eq!(
        result.unwrap_err().kind,
        UnpackErrorKind::TrailingGarbage(len + 1)
    );
}

#[test]
fn malformed_archives_are_errors_not_panics() {
    let archive = sample();
    // Every truncation.
    for cut in 0..archive.len() {
        let (_, result) = unpack(&archive[..cut]);
        let err = result.expect_err("truncated archive accepted");
        assert!(
            matches!(err.kind, UnpackErrorKind::Archive(_)),
            "cut {cut}: {err}"
        );
    }
    let (_, result) = unpack(&[]);
    let err = result.unwrap_err();
    assert_eq!(
        err.kind,
        UnpackErrorKind::Archive(CpioError::MissingTrailer)
    );
    assert_eq!(
        err.to_string(),
        "initramfs: cpio archive has no TRAILER!!! entry"
    );
    let (_, result) = unpack(&archive[..200]);
    let text = result.unwrap_err().to_string();
    assert!(text.starts_with("cpio archive truncated"), "{text}");
    assert!(text.ends_with("(after entry \".\")"), "{text}");
    // Random corruption: any outcome but a panic, and a consistent tree after.
    let mut rng = Rng::new(77);
    for _ in 0..3000 {
        let mut bad = archive.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bad.len() as u64) as usize;
            bad[at] = match rng.below(3) {
                0 => rng.next() as u8,
                1 => b"0123456789abcdef/."[rng.below(18) as usize],
                _ => 0,
            };
        }
        let (mut vfs, _) = unpack(&bad);
        let root = vfs.root();
        assert!(vfs.readdir(root, 0, |_| true).is_ok());
    }
}

#[test]
fn times_are_archive_times() {
    let mut w = Writer::new();
    w.add(
        b"d",
        Meta {
            mtime: u32::MAX,
            ..meta(mode::DIRECTORY | 0o755)
        },
        b"",
    );
    w.add(
        b"d/f",
        Meta {
            mtime: 1,
            ..meta(mode::REGULAR | 0o644)
        },
        b"x",
    );
    let (vfs, result) = unpack(&w.finish());
    result.unwrap();
    let st = vfs.stat(node(&vfs, "/d")).unwrap();
    assert_eq!(st.mtime, Timespec::new(u32::MAX as i64, 0));
    assert_eq!(st.ctime, st.mtime);
    assert_eq!(vfs.stat(node(&vfs, "/d/f")).unwrap().mtime.sec, 1);
}
