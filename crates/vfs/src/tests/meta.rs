use super::*;
use crate::{FileType, FsError, Timespec};

#[test]
fn stat_of_each_type() {
    let mut vfs = new_vfs();
    let root = vfs.root();
    set_time(&mut vfs, 1234);
    let f = vfs
        .create_file(root, b"f", 0o100644 | 0o4000, 5, 6)
        .unwrap();
    vfs.write_at(f, 0, b"hello").unwrap();
    let st = vfs.stat(f).unwrap();
    assert_eq!(st.ino, f.ino());
    assert_eq!(st.file_type, FileType::Regular);
    // Type bits in `mode` are ignored; permission bits kept.
    assert_eq!(st.mode, 0o104644);
    assert_eq!(
        (st.uid, st.gid, st.nlink, st.size, st.blocks),
        (5, 6, 1, 5, 8)
    );
    assert_eq!(st.mtime, Timespec::new(1234, 0));
    let s = vfs.symlink(root, b"s", b"target", 1, 2).unwrap();
    let st = vfs.stat(s).unwrap();
    assert_eq!((st.mode, st.size, st.blocks, st.nlink), (0o120777, 6, 0, 1));
    let m = vfs.mount_point(root, b"proc", 9, 0o555).unwrap();
    let st = vfs.stat(m).unwrap();
    assert_eq!(
        (st.mode, st.nlink, st.file_type),
        (0o040555, 2, FileType::Mount)
    );
    assert_eq!(vfs.readlink(s), Ok(&b"target"[..]));
    assert_eq!(vfs.readlink(f), Err(FsError::Invalid));
    assert_eq!(vfs.file_type(s), Ok(FileType::Symlink));
    assert_eq!(vfs.file_type(InodeId::from_raw(99)), Err(FsError::NotFound));
    assert_eq!(FileType::from_mode(0o120777), Some(FileType::Symlink));
    assert_eq!(FileType::from_mode(0o777), None);
    assert_eq!(FileType::Mount.dirent_type(), 4);
    assert_eq!(FsError::NotEmpty.errno(), 39);
}

#[test]
fn chmod_chown_and_times() {
    let mut vfs = new_vfs();
    let root = vfs.root();
    let f = vfs.create_file(root, b"f", 0o6755, 0, 0).unwrap();
    set_time(&mut vfs, 50);
    vfs.chmod(f, 0o170777).unwrap();
    let st = vfs.stat(f).unwrap();
    assert_eq!((st.mode, st.ctime.sec), (0o100777, 50));
    vfs.chmod(f, 0o6755).unwrap();
    // chown clears set-user-ID always and set-group-ID when group-executable.
    vfs.chown(f, Some(7), None).unwrap();
    let st = vfs.stat(f).unwrap();
    assert_eq!((st.uid, st.gid, st.mode & 0o7777), (7, 0, 0o755));
    vfs.chmod(f, 0o6745).unwrap();
    vfs.chown(f, None, Some(8)).unwrap();
    let st = vfs.stat(f).unwrap();
    assert_eq!((st.uid, st.gid, st.mode & 0o7777), (7, 8, 0o2745));
    // Even chown(-1, -1) does.
    vfs.chmod(f, 0o4755).unwrap();
    vfs.chown(f, None, None).unwrap();
    assert_eq!(vfs.stat(f).unwrap().mode & 0o7777, 0o755);
    // Directories keep their bits.
    let d = vfs.mkdir(root, b"d", 0o2775, 0, 0).unwrap();
    vfs.chown(d, Some(1), Some(1)).unwrap();
    assert_eq!(vfs.stat(d).unwrap().mode & 0o7777, 0o2775);
    // Times.
    set_time(&mut vfs, 99);
    vfs.set_times(f, Some(Timespec::new(5, 6)), None).unwrap();
    let st = vfs.stat(f).unwrap();
    assert_eq!(
        (st.atime, st.mtime.sec, st.ctime.sec),
        (Timespec::new(5, 6), 1000, 99)
    );
    vfs.set_times(f, None, Some(Timespec::new(-1, 999_999_999)))
        .unwrap();
    assert_eq!(vfs.stat(f).unwrap().mtime, Timespec::new(-1, 999_999_999));
    assert_eq!(vfs.chmod(InodeId::from_raw(5), 0), Err(FsError::NotFound));
}

#[test]
fn permission_checks() {
    let mut vfs = new_vfs();
    let root = vfs.root();
    let f = vfs.create_file(root, b"f", 0o640, 100, 200).unwrap();
    let x = vfs.create_file(root, b"x", 0o700, 100, 200).unwrap();
    let noexec = vfs.create_file(root, b"n", 0o666, 100, 200).unwrap();
    let d = vfs.mkdir(root, b"d", 0o000, 100, 200).unwrap();
    let ok = |id, uid, gids: &[u32], mask| vfs.access_allowed(id, uid, gids, mask);
    // Owner class.
    assert!(ok(f, 100, &[], 4));
    assert!(ok(f, 100, &[], 6));
    assert!(!ok(f, 100, &[], 1));
    // Group class, by any of the caller's groups.
    assert!(ok(f, 101, &[5, 200], 4));
    assert!(!ok(f, 101, &[200], 2));
    // Other class.
    assert!(!ok(f, 101, &[], 4));
    // Only one class applies: an owner without a permission does not fall back to group.
    let g = vfs.create_file(root, b"g", 0o077, 100, 200).unwrap();
    assert!(!vfs.access_allowed(g, 100, &[200], 4));
    assert!(vfs.access_allowed(g, 101, &[200], 7));
    // Root: read and write always, execute if any x bit or a directory.
    let ok = |id, uid, gids: &[u32], mask| vfs.access_allowed(id, uid, gids, mask);
    assert!(ok(f, 0, &[], 6));
    assert!(!ok(f, 0, &[], 1));
    assert!(ok(x, 0, &[], 7));
    assert!(!ok(noexec, 0, &[], 1));
    assert!(ok(d, 0, &[], 7));
    assert!(!ok(d, 100, &[], 1));
    assert!(ok(d, 100, &[], 0));
    assert!(!ok(InodeId::from_raw(42), 0, &[], 4));
}
