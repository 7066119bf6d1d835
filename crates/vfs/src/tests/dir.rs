use std::collections::BTreeSet;
use std::format;
use std::vec::Vec;

use super::*;
use crate::{DirEntry, FileType, FsError};

#[test]
fn create_errors() {
    let mut vfs = new_vfs();
    let root = vfs.root();
    let f = create(&mut vfs, "/f", b"");
    assert_eq!(
        vfs.create_file(root, b"f", 0o644, 0, 0),
        Err(FsError::Exists)
    );
    assert_eq!(vfs.mkdir(root, b"f", 0o755, 0, 0), Err(FsError::Exists));
    assert_eq!(vfs.symlink(root, b"f", b"x", 0, 0), Err(FsError::Exists));
    assert_eq!(
        vfs.create_file(root, b".", 0o644, 0, 0),
        Err(FsError::Exists)
    );
    assert_eq!(
        vfs.create_file(root, b"..", 0o644, 0, 0),
        Err(FsError::Exists)
    );
    assert_eq!(
        vfs.create_file(root, b"", 0o644, 0, 0),
        Err(FsError::NotFound)
    );
    assert_eq!(
        vfs.create_file(root, b"a/b", 0o644, 0, 0),
        Err(FsError::Invalid)
    );
    assert_eq!(
        vfs.create_file(root, b"a\0", 0o644, 0, 0),
        Err(FsError::Invalid)
    );
    assert_eq!(
        vfs.create_file(root, &[b'x'; 256], 0o644, 0, 0),
        Err(FsError::NameTooLong)
    );
    assert!(vfs.create_file(root, &[b'x'; 255], 0o644, 0, 0).is_ok());
    assert_eq!(
        vfs.create_file(f, b"x", 0o644, 0, 0),
        Err(FsError::NotDirectory)
    );
    assert_eq!(
        vfs.create_file(InodeId::from_raw(77), b"x", 0o644, 0, 0),
        Err(FsError::NotFound)
    );
    // Names are bytes: anything but '/' and NUL.
    let odd = [0xffu8, b' ', b'\n', 0x80];
    let id = vfs.create_file(root, &odd, 0o644, 0, 0).unwrap();
    assert_eq!(vfs.lookup(root, &odd), Ok(id));
    // Symlink targets.
    assert_eq!(vfs.symlink(root, b"s", b"", 0, 0), Err(FsError::NotFound));
    assert_eq!(
        vfs.symlink(root, b"s", &[b'a'; 4096], 0, 0),
        Err(FsError::NameTooLong)
    );
    assert_eq!(vfs.symlink(root, b"s", b"a\0", 0, 0), Err(FsError::Invalid));
    assert!(vfs.symlink(root, b"s", &[b'a'; 4095], 0, 0).is_ok());
    // Mount points.
    let m = vfs.mount_point(root, b"m", 3, 0o555).unwrap();
    assert_eq!(
        vfs.create_file(m, b"x", 0o644, 0, 0),
        Err(FsError::NotDirectory)
    );
    assert_eq!(vfs.mount_point(root, b"m", 4, 0o555), Err(FsError::Exists));
}

#[test]
fn tmpfs_sizes_and_link_counts() {
    let mut vfs = new_vfs();
    let root = vfs.root();
    let st = vfs.stat(root).unwrap();
    assert_eq!((st.size, st.nlink, st.mode), (40, 2, 0o040755));
    let a = mkdir(&mut vfs, "/a");
    assert_eq!(vfs.stat(root).unwrap().nlink, 3);
    assert_eq!(vfs.stat(root).unwrap().size, 60);
    assert_eq!(vfs.stat(a).unwrap().nlink, 2);
    create(&mut vfs, "/f", b"");
    symlink(&mut vfs, "/l", "f");
    vfs.mount_point(root, b"proc", 1, 0o555).unwrap();
    let st = vfs.stat(root).unwrap();
    // Files and symlinks add size only; mount points count as subdirectories.
    assert_eq!((st.size, st.nlink), (120, 4));
    mkdir(&mut vfs, "/a/x");
    mkdir(&mut vfs, "/a/y");
    assert_eq!(vfs.stat(a).unwrap().nlink, 4);
    vfs.rmdir(a, b"x").unwrap();
    assert_eq!(vfs.stat(a).unwrap().nlink, 3);
    assert_eq!(vfs.stat(a).unwrap().size, 60);
    vfs.unlink(root, b"l").unwrap();
    assert_eq!(vfs.stat(root).unwrap().size, 100);
}

#[test]
fn unlink_and_rmdir_errors() {
    let mut vfs = new_vfs();
    let root = vfs.root();
    let a = mkdir(&mut vfs, "/a");
    create(&mut vfs, "/a/f", b"data");
    create(&mut vfs, "/g", b"");
    vfs.mount_point(root, b"proc", 1, 0o555).unwrap();
    assert_eq!(vfs.unlink(root, b"a"), Err(FsError::IsDirectory));
    assert_eq!(vfs.unlink(root, b"proc"), Err(FsError::IsDirectory));
    assert_eq!(vfs.unlink(root, b".."), Err(FsError::IsDirectory));
    assert_eq!(vfs.unlink(root, b"missing"), Err(FsError::NotFound));
    assert_eq!(
        vfs.unlink(node(&vfs, "/g"), b"x"),
        Err(FsError::NotDirectory)
    );
    assert_eq!(vfs.rmdir(root, b"a"), Err(FsError::NotEmpty));
    assert_eq!(vfs.rmdir(root, b"g"), Err(FsError::NotDirectory));
    assert_eq!(vfs.rmdir(root, b"proc"), Err(FsError::Busy));
    assert_eq!(vfs.rmdir(root, b"missing"), Err(FsError::NotFound));
    vfs.unlink(a, b"f").unwrap();
    assert_eq!(try_node(&vfs, "/a/f"), Err(FsError::NotFound));
    vfs.rmdir(root, b"a").unwrap();
    assert!(!vfs.exists(a));
    assert_eq!(vfs.stat(root).unwrap().nlink, 3);
    assert_eq!(live_pages(&vfs), 0);
}

#[test]
fn parent_times_follow_changes() {
    let mut vfs = new_vfs();
    let root = vfs.root();
    set_time(&mut vfs, 2000);
    let f = create(&mut vfs, "/f", b"");
    let st = vfs.stat(root).unwrap();
    assert_eq!((st.mtime.sec, st.ctime.sec), (2000, 2000));
    assert_eq!(vfs.stat(f).unwrap().mtime.sec, 2000);
    set_time(&mut vfs, 3000);
    vfs.link(f, root, b"g").unwrap();
    assert_eq!(vfs.stat(root).unwrap().mtime.sec, 3000);
    assert_eq!(vfs.stat(f).unwrap().ctime.sec, 3000);
    assert_eq!(vfs.stat(f).unwrap().mtime.sec, 2000);
    set_time(&mut vfs, 4000);
    vfs.unlink(root, b"g").unwrap();
    assert_eq!(vfs.stat(root).unwrap().mtime.sec, 4000);
    assert_eq!(vfs.stat(f).unwrap().ctime.sec, 4000);
}

#[test]
fn hard_links_share_the_inode() {
    let mut vfs = new_vfs();
    let root = vfs.root();
    let d = mkdir(&mut vfs, "/d");
    let f = create(&mut vfs, "/f", b"shared");
    vfs.link(f, d, b"g").unwrap();
    assert_eq!(node(&vfs, "/d/g"), f);
    assert_eq!(vfs.stat(f).unwrap().nlink, 2);
    assert_eq!(vfs.link(f, d, b"g"), Err(FsError::Exists));
    assert_eq!(vfs.link(f, d, b"."), Err(FsError::Exists));
    assert_eq!(vfs.link(d, root, b"d2"), Err(FsError::NotPermitted));
    assert_eq!(vfs.link(f, f, b"x"), Err(FsError::NotDirectory));
    vfs.write_at(f, 6, b"!").unwrap();
    let g = node(&vfs, "/d/g");
    assert_eq!(read_all(&mut vfs, g), b"shared!");
    vfs.unlink(root, b"f").unwrap();
    assert_eq!(vfs.stat(g).unwrap().nlink, 1);
    assert_eq!(read_all(&mut vfs, g), b"shared!");
    vfs.unlink(d, b"g").unwrap();
    assert!(!vfs.exists(f));
    assert_eq!(live_pages(&vfs), 0);
    // Links to symlinks and devices are fine too.
    let s = symlink(&mut vfs, "/s", "target");
    vfs.link(s, root, b"s2").unwrap();
    assert_eq!(vfs.stat(s).unwrap().nlink, 2);
}

#[test]
fn unlinked_but_open_files_live_until_closed() {
    let mut vfs = new_vfs();
    let root = vfs.root();
    let f = create(&mut vfs, "/f", &[7u8; 10000]);
    assert_eq!(live_pages(&vfs), 3);
    let count = vfs.inode_count();
    vfs.open_ref(f).unwrap();
    vfs.open_ref(f).unwrap();
    vfs.unlink(root, b"f").unwrap();
    assert_eq!(try_node(&vfs, "/f"), Err(FsError::NotFound));
    assert_eq!(vfs.stat(f).unwrap().nlink, 0);
    // Still readable and writable through the open reference.
    vfs.write_at(f, 0, b"x").unwrap();
    assert_eq!(read_all(&mut vfs, f)[..2], [b'x', 7]);
    // Linking an unlinked file back is refused (no O_TMPFILE semantics).
    assert_eq!(vfs.link(f, root, b"back"), Err(FsError::NotFound));
    vfs.close_ref(f).unwrap();
    assert!(vfs.exists(f));
    assert_eq!(live_pages(&vfs), 3);
    vfs.close_ref(f).unwrap();
    assert!(!vfs.exists(f));
    assert_eq!(live_pages(&vfs), 0);
    assert_eq!(vfs.inode_count(), count - 1);
    assert_eq!(vfs.close_ref(f), Err(FsError::NotFound));
    // Closing without a reference is a caller bug, reported, not a panic.
    let g = create(&mut vfs, "/g", b"");
    assert_eq!(vfs.close_ref(g), Err(FsError::Invalid));
    assert!(vfs.exists(g));
    // Open references alone do not keep named files from being freed later.
    vfs.open_ref(g).unwrap();
    vfs.close_ref(g).unwrap();
    assert!(vfs.exists(g));
}

#[test]
fn freed_ids_do_not_alias_new_inodes() {
    let mut vfs = new_vfs();
    let root = vfs.root();
    let f = create(&mut vfs, "/f", b"old");
    vfs.unlink(root, b"f").unwrap();
    let g = create(&mut vfs, "/g", b"new");
    assert_ne!(f, g);
    assert_ne!(f.ino(), g.ino());
    assert_eq!(vfs.stat(f), Err(FsError::NotFound));
    assert_eq!(vfs.read_at(f, 0, &mut [0; 4]), Err(FsError::NotFound));
    assert_eq!(vfs.write_at(f, 0, b"x"), Err(FsError::NotFound));
    assert_eq!(vfs.open_ref(f), Err(FsError::NotFound));
    assert_eq!(read_all(&mut vfs, g), b"new");
    // No id is ever 0, and arbitrary raw ids are harmless.
    assert_ne!(root.ino(), 0);
    for raw in [0, 1 << 32, u64::MAX, 12345] {
        let id = InodeId::from_raw(raw);
        let _ = vfs.stat(id);
        let _ = vfs.unlink(id, b"x");
        let _ = vfs.close_ref(id);
        assert!(!vfs.access_allowed(id, 0, &[], 4) || vfs.exists(id));
    }
}

#[test]
fn mknod_types() {
    let mut vfs = new_vfs();
    let root = vfs.root();
    let c = vfs
        .mknod(root, b"null", FileType::CharDevice, 0o666, (1, 3), 0, 0)
        .unwrap();
    let b = vfs
        .mknod(root, b"sda", FileType::BlockDevice, 0o660, (8, 0), 0, 6)
        .unwrap();
    let p = vfs
        .mknod(root, b"fifo", FileType::Fifo, 0o600, (9, 9), 0, 0)
        .unwrap();
    let s = vfs
        .mknod(root, b"sock", FileType::Socket, 0o755, (0, 0), 0, 0)
        .unwrap();
    let r = vfs
        .mknod(root, b"reg", FileType::Regular, 0o644, (0, 0), 0, 0)
        .unwrap();
    let st = vfs.stat(c).unwrap();
    assert_eq!((st.mode, st.rdev_major, st.rdev_minor), (0o020666, 1, 3));
    let st = vfs.stat(b).unwrap();
    assert_eq!(
        (st.mode, st.rdev_major, st.rdev_minor, st.gid),
        (0o060660, 8, 0, 6)
    );
    let st = vfs.stat(p).unwrap();
    assert_eq!((st.mode, st.rdev_major), (0o010600, 0));
    assert_eq!(vfs.stat(s).unwrap().mode, 0o140755);
    assert_eq!(vfs.file_type(r), Ok(FileType::Regular));
    assert_eq!(
        vfs.mknod(root, b"d", FileType::Directory, 0o755, (0, 0), 0, 0),
        Err(FsError::NotPermitted)
    );
    assert_eq!(
        vfs.mknod(root, b"l", FileType::Symlink, 0o755, (0, 0), 0, 0),
        Err(FsError::Invalid)
    );
    assert_eq!(
        vfs.mknod(root, b"m", FileType::Mount, 0o755, (0, 0), 0, 0),
        Err(FsError::Invalid)
    );
    // Devices have no data here.
    assert_eq!(vfs.read_at(c, 0, &mut [0; 4]), Err(FsError::Invalid));
    assert_eq!(vfs.write_at(c, 0, b"x"), Err(FsError::Invalid));
    assert_eq!(vfs.truncate(p, 0), Err(FsError::Invalid));
}

#[test]
fn setgid_directories_pass_on_their_group() {
    let mut vfs = new_vfs();
    let root = vfs.root();
    let shared = vfs.mkdir(root, b"shared", 0o2775, 0, 50).unwrap();
    let f = vfs.create_file(shared, b"f", 0o644, 1000, 1000).unwrap();
    let d = vfs.mkdir(shared, b"d", 0o755, 1000, 1000).unwrap();
    assert_eq!(
        (vfs.stat(f).unwrap().uid, vfs.stat(f).unwrap().gid),
        (1000, 50)
    );
    assert_eq!(vfs.stat(f).unwrap().mode & 0o7777, 0o644);
    assert_eq!(vfs.stat(d).unwrap().gid, 50);
    assert_eq!(vfs.stat(d).unwrap().mode & 0o7777, 0o2755);
    let plain = vfs.create_file(root, b"p", 0o644, 1000, 1000).unwrap();
    assert_eq!(vfs.stat(plain).unwrap().gid, 1000);
}

fn collect(vfs: &mut TestVfs, dir: InodeId, cookie: u64, max: usize) -> Vec<(Vec<u8>, u64)> {
    let mut out = Vec::new();
    vfs.readdir(dir, cookie, |e: DirEntry<'_>| {
        if out.len() == max {
            return false;
        }
        out.push((e.name.to_vec(), e.next_cookie));
        true
    })
    .unwrap();
    out
}

#[test]
fn readdir_lists_dots_then_entries() {
    let mut vfs = new_vfs();
    let a = mkdir(&mut vfs, "/a");
    let f = create(&mut vfs, "/a/zz", b"");
    mkdir(&mut vfs, "/a/sub");
    symlink(&mut vfs, "/a/ln", "zz");
    let mut entries = Vec::new();
    vfs.readdir(a, 0, |e| {
        entries.push((e.name.to_vec(), e.ino, e.file_type));
        true
    })
    .unwrap();
    let root = vfs.root();
    assert_eq!(
        entries,
        [
            (b".".to_vec(), a, FileType::Directory),
            (b"..".to_vec(), root, FileType::Directory),
            (b"zz".to_vec(), f, FileType::Regular),
            (b"sub".to_vec(), node(&vfs, "/a/sub"), FileType::Directory),
            (
                b"ln".to_vec(),
                vfs.lookup(a, b"ln").unwrap(),
                FileType::Symlink
            ),
        ]
    );
    // The root's ".." is itself.
    let first = collect(&mut vfs, root, 0, 2);
    assert_eq!(first[1].0, b"..");
    // Stopping and continuing from each cookie gives the rest, without loss.
    let all = collect(&mut vfs, a, 0, usize::MAX);
    for (i, (_, cookie)) in all.iter().enumerate() {
        let rest = collect(&mut vfs, a, *cookie, usize::MAX);
        assert_eq!(rest, all[i + 1..]);
    }
    // A callback refusing the first entry consumes nothing.
    assert!(collect(&mut vfs, a, 0, 0).is_empty());
    // Cookies past the end, and every cookie below i64::MAX.
    assert!(collect(&mut vfs, a, u64::MAX, 10).is_empty());
    assert!(collect(&mut vfs, a, 1 << 62, 10).is_empty());
    assert!(all.iter().all(|(_, c)| *c < i64::MAX as u64));
    // Errors.
    assert_eq!(vfs.readdir(f, 0, |_| true), Err(FsError::NotDirectory));
    vfs.open_ref(a).unwrap();
    for name in [&b"zz"[..], b"ln"] {
        vfs.unlink(a, name).unwrap();
    }
    vfs.rmdir(a, b"sub").unwrap();
    vfs.rmdir(root, b"a").unwrap();
    assert_eq!(vfs.readdir(a, 0, |_| true), Err(FsError::NotFound));
}

#[test]
fn readdir_cookies_survive_concurrent_changes() {
    let mut rng = Rng::new(0x5eed);
    for round in 0..20 {
        let mut vfs = new_vfs();
        let root = vfs.root();
        let mut present: BTreeSet<Vec<u8>> = BTreeSet::new();
        let mut counter = 0;
        for _ in 0..rng.below(60) {
            let name = format!("n{counter}").into_bytes();
            counter += 1;
            vfs.create_file(root, &name, 0o644, 0, 0).unwrap();
            present.insert(name);
        }
        // Entries present from start to end must be seen exactly once; nothing is seen twice.
        let initial = present.clone();
        let mut removed_ever: BTreeSet<Vec<u8>> = BTreeSet::new();
        let mut seen: Vec<Vec<u8>> = Vec::new();
        let mut cookie = 2; // skip "." and ".."
        loop {
            let batch = collect(&mut vfs, root, cookie, 1 + rng.below(5) as usize);
            if batch.is_empty() {
                break;
            }
            for (name, next) in batch {
                seen.push(name);
                cookie = next;
            }
            // Mutate between batches: remove some, add some, re-add removed names.
            for _ in 0..rng.below(4) {
                if rng.chance(50) && !present.is_empty() {
                    let idx = rng.below(present.len() as u64) as usize;
                    let name = present.iter().nth(idx).unwrap().clone();
                    vfs.unlink(root, &name).unwrap();
                    present.remove(&name);
                    removed_ever.insert(name);
                } else {
                    let name = if rng.chance(30) && !removed_ever.is_empty() {
                        let idx = rng.below(removed_ever.len() as u64) as usize;
                        removed_ever.iter().nth(idx).unwrap().clone()
                    } else {
                        counter += 1;
                        format!("n{counter}").into_bytes()
                    };
                    if !present.contains(&name) {
                        vfs.create_file(root, &name, 0o644, 0, 0).unwrap();
                        present.insert(name);
                    }
                }
            }
        }
        let seen_set: BTreeSet<_> = seen.iter().cloned().collect();
        // A name removed and re-added is a new entry, and may legitimately show up twice.
        let survivors: BTreeSet<_> = initial.difference(&removed_ever).cloned().collect();
        assert!(
            survivors.is_subset(&seen_set),
            "round {round}: missed entries"
        );
        let mut counts = std::collections::BTreeMap::new();
        for name in &seen {
            *counts.entry(name.clone()).or_insert(0) += 1;
        }
        for (name, count) in counts {
            assert!(
                count == 1 || removed_ever.contains(&name),
                "round {round}: {name:?} twice"
            );
        }
    }
}

#[test]
fn inode_limit() {
    let mut vfs = new_vfs();
    let root = vfs.root();
    vfs.set_inode_limit(3);
    vfs.create_file(root, b"a", 0o644, 0, 0).unwrap();
    vfs.mkdir(root, b"b", 0o755, 0, 0).unwrap();
    assert_eq!(
        vfs.create_file(root, b"c", 0o644, 0, 0),
        Err(FsError::NoSpace)
    );
    assert_eq!(vfs.symlink(root, b"c", b"a", 0, 0), Err(FsError::NoSpace));
    // Links need no inode.
    let a = vfs.lookup(root, b"a").unwrap();
    vfs.link(a, root, b"c").unwrap();
    vfs.unlink(root, b"a").unwrap();
    vfs.unlink(root, b"c").unwrap();
    assert_eq!(vfs.inode_count(), 2);
    vfs.create_file(root, b"d", 0o644, 0, 0).unwrap();
    assert_eq!(list(&mut vfs, root), [b"b".to_vec(), b"d".to_vec()]);
}
