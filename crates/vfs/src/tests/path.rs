use std::format;
use std::vec::Vec;

use super::*;
use crate::{FsError, Parent, Resolved, MAX_SYMLINKS};

/// /a/b (dir), /a/f (file "x"), /d (dir)
fn tree() -> TestVfs {
    let mut vfs = new_vfs();
    mkdir(&mut vfs, "/a");
    mkdir(&mut vfs, "/a/b");
    mkdir(&mut vfs, "/d");
    create(&mut vfs, "/a/f", b"x");
    vfs
}

fn resolve(vfs: &TestVfs, start: InodeId, path: &[u8], follow: bool) -> Result<InodeId, FsError> {
    match vfs.resolve(start, vfs.root(), path, follow)? {
        Resolved::Node(id) => Ok(id),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn absolute_relative_dots_and_slashes() {
    let vfs = tree();
    let root = vfs.root();
    let a = node(&vfs, "/a");
    let b = node(&vfs, "/a/b");
    assert_eq!(node(&vfs, "/"), root);
    assert_eq!(node(&vfs, "///"), root);
    assert_eq!(node(&vfs, "//a///b"), b);
    assert_eq!(node(&vfs, "/./a/./b/."), b);
    assert_eq!(node(&vfs, "/a/b/.."), a);
    assert_eq!(node(&vfs, "/a/../a/b"), b);
    assert_eq!(resolve(&vfs, a, b"b", true), Ok(b));
    assert_eq!(resolve(&vfs, a, b".", true), Ok(a));
    assert_eq!(resolve(&vfs, b, b"../..", true), Ok(root));
    assert_eq!(resolve(&vfs, b, b"/a", true), Ok(a));
    // ".." at the root stays there, absolute or relative.
    assert_eq!(node(&vfs, "/../../a"), a);
    assert_eq!(resolve(&vfs, b, b"../../../../a/b", true), Ok(b));
}

#[test]
fn errors_on_malformed_paths() {
    let vfs = tree();
    let root = vfs.root();
    assert_eq!(try_node(&vfs, ""), Err(FsError::NotFound));
    assert_eq!(try_node(&vfs, "/missing"), Err(FsError::NotFound));
    assert_eq!(try_node(&vfs, "/missing/x"), Err(FsError::NotFound));
    assert_eq!(try_node(&vfs, "/a/f/x"), Err(FsError::NotDirectory));
    assert_eq!(try_node(&vfs, "/a/f/."), Err(FsError::NotDirectory));
    assert_eq!(try_node(&vfs, "/a/f/.."), Err(FsError::NotDirectory));
    // Component length: 255 is fine (just missing), 256 is too long.
    let ok = format!("/{}", "n".repeat(255));
    assert_eq!(try_node(&vfs, &ok), Err(FsError::NotFound));
    let long = format!("/{}", "n".repeat(256));
    assert_eq!(try_node(&vfs, &long), Err(FsError::NameTooLong));
    // A missing directory before a long name is reported first, as Linux walks in order.
    let long_after_missing = format!("/missing/{}", "n".repeat(256));
    assert_eq!(try_node(&vfs, &long_after_missing), Err(FsError::NotFound));
    // Whole path: 4095 bytes is allowed, 4096 not.
    let mut p = b"/".repeat(4094);
    p.push(b'a');
    assert_eq!(
        vfs.resolve(root, root, &p, true),
        Ok(Resolved::Node(node(&vfs, "/a")))
    );
    p.insert(0, b'/');
    assert_eq!(vfs.resolve(root, root, &p, true), Err(FsError::NameTooLong));
    assert_eq!(
        vfs.resolve(root, root, b"/a\0b", true),
        Err(FsError::Invalid)
    );
    // A relative path from a file.
    let f = node(&vfs, "/a/f");
    assert_eq!(resolve(&vfs, f, b"x", true), Err(FsError::NotDirectory));
    assert_eq!(resolve(&vfs, f, b".", true), Err(FsError::NotDirectory));
    // Dead ids.
    assert_eq!(
        vfs.resolve(InodeId::from_raw(0), root, b"a", true),
        Err(FsError::NotFound)
    );
    assert_eq!(
        vfs.resolve(root, InodeId::from_raw(999), b"/a", true),
        Err(FsError::NotFound)
    );
    assert_eq!(
        vfs.resolve(root, f, b"/a", true),
        Err(FsError::NotDirectory)
    );
}

#[test]
fn trailing_slashes_require_directories() {
    let mut vfs = tree();
    symlink(&mut vfs, "/ld", "a/b");
    symlink(&mut vfs, "/lf", "a/f");
    let b = node(&vfs, "/a/b");
    let root = vfs.root();
    assert_eq!(node(&vfs, "/a/b/"), b);
    assert_eq!(node(&vfs, "/a/b//"), b);
    assert_eq!(try_node(&vfs, "/a/f/"), Err(FsError::NotDirectory));
    // A trailing slash follows a final symlink even without follow.
    assert_eq!(resolve(&vfs, root, b"/ld/", false), Ok(b));
    assert_eq!(
        resolve(&vfs, root, b"/ld", false),
        Ok(node_nofollow(&vfs, "/ld"))
    );
    assert_eq!(
        resolve(&vfs, root, b"/lf/", false),
        Err(FsError::NotDirectory)
    );
    // A symlink whose target ends in '/' must lead to a directory.
    symlink(&mut vfs, "/lf2", "a/f/");
    assert_eq!(try_node(&vfs, "/lf2"), Err(FsError::NotDirectory));
    symlink(&mut vfs, "/ld2", "a/b/");
    assert_eq!(try_node(&vfs, "/ld2"), Ok(b));
}

fn node_nofollow(vfs: &TestVfs, path: &str) -> InodeId {
    resolve(vfs, vfs.root(), path.as_bytes(), false).unwrap()
}

#[test]
fn symlinks_relative_absolute_and_final() {
    let mut vfs = tree();
    let b = node(&vfs, "/a/b");
    let f = node(&vfs, "/a/f");
    // Relative targets resolve from the symlink's directory, absolute from the root.
    symlink(&mut vfs, "/a/rel", "b");
    symlink(&mut vfs, "/a/up", "../d");
    symlink(&mut vfs, "/d/abs", "/a/f");
    symlink(&mut vfs, "/d/chain", "abs");
    symlink(&mut vfs, "/d/dangling", "nowhere");
    symlink(&mut vfs, "/d/toroot", "/");
    assert_eq!(node(&vfs, "/a/rel"), b);
    assert_eq!(node(&vfs, "/a/rel/"), b);
    assert_eq!(node(&vfs, "/a/up"), node(&vfs, "/d"));
    assert_eq!(node(&vfs, "/a/up/abs"), f);
    assert_eq!(node(&vfs, "/d/chain"), f);
    assert_eq!(node(&vfs, "/d/toroot"), vfs.root());
    assert_eq!(node(&vfs, "/d/toroot/a/rel/.."), node(&vfs, "/a"));
    // Middle symlinks are always followed; the final one only when asked.
    let root = vfs.root();
    assert_eq!(
        resolve(&vfs, root, b"/a/rel/..", false),
        Ok(node(&vfs, "/a"))
    );
    let chain = node_nofollow(&vfs, "/d/chain");
    assert_ne!(chain, f);
    assert_eq!(vfs.readlink(chain), Ok(&b"abs"[..]));
    assert_eq!(try_node(&vfs, "/d/dangling"), Err(FsError::NotFound));
    assert!(resolve(&vfs, root, b"/d/dangling", false).is_ok());
    assert_eq!(try_node(&vfs, "/d/dangling/x"), Err(FsError::NotFound));
    // A symlink to a file in the middle.
    assert_eq!(try_node(&vfs, "/d/abs/x"), Err(FsError::NotDirectory));
}

#[test]
fn symlink_loops_and_the_limit() {
    let mut vfs = tree();
    symlink(&mut vfs, "/self", "self");
    symlink(&mut vfs, "/l1", "l2");
    symlink(&mut vfs, "/l2", "/l1");
    assert_eq!(try_node(&vfs, "/self"), Err(FsError::Loop));
    assert_eq!(try_node(&vfs, "/l1"), Err(FsError::Loop));
    assert_eq!(try_node(&vfs, "/l1/x"), Err(FsError::Loop));
    // Not following the final symlink never loops.
    assert!(resolve(&vfs, vfs.root(), b"/self", false).is_ok());
    // A chain of exactly MAX_SYMLINKS links resolves; one more is a loop.
    let n = MAX_SYMLINKS as usize;
    for i in 0..=n {
        let target = if i == n {
            "/a/f".into()
        } else {
            format!("c{}", i + 1)
        };
        symlink(&mut vfs, &format!("/d/c{i}"), &target);
    }
    assert_eq!(try_node(&vfs, "/d/c1"), Ok(node(&vfs, "/a/f")));
    assert_eq!(try_node(&vfs, "/d/c0"), Err(FsError::Loop));
    // Links count across the whole resolution, middle ones included.
    assert_eq!(try_node(&vfs, "/d/c1/"), Err(FsError::NotDirectory));
}

#[test]
fn chroot_root_confines_dotdot_and_absolute_symlinks() {
    let mut vfs = tree();
    let jail = mkdir(&mut vfs, "/jail");
    mkdir(&mut vfs, "/jail/etc");
    symlink(&mut vfs, "/jail/abs", "/etc");
    symlink(&mut vfs, "/jail/esc", "../../..");
    let etc = node(&vfs, "/jail/etc");
    let r = |path: &[u8]| match vfs.resolve(jail, jail, path, true) {
        Ok(Resolved::Node(id)) => Ok(id),
        Ok(other) => panic!("{other:?}"),
        Err(e) => Err(e),
    };
    assert_eq!(r(b"/"), Ok(jail));
    assert_eq!(r(b"/.."), Ok(jail));
    assert_eq!(r(b"../../etc"), Ok(etc));
    assert_eq!(r(b"/abs"), Ok(etc));
    assert_eq!(r(b"esc"), Ok(jail));
    assert_eq!(r(b"/a"), Err(FsError::NotFound));
    // A start outside the jail (an fd opened before chroot) walks ".." normally.
    let b = node(&vfs, "/a/b");
    assert_eq!(
        vfs.resolve(b, jail, b"../..", true),
        Ok(Resolved::Node(vfs.root()))
    );
}

#[test]
fn mount_points_hand_over_the_rest() {
    let mut vfs = tree();
    let root = vfs.root();
    let proc_ = vfs.mount_point(root, b"proc", 7, 0o555).unwrap();
    symlink(&mut vfs, "/mounts", "proc/self/mounts");
    symlink(&mut vfs, "/d/p", "/proc");
    let foreign = |rest: &[u8]| {
        Ok(Resolved::Foreign {
            mount: 7,
            mount_inode: proc_,
            rest: rest.to_vec(),
        })
    };
    let r = |path: &[u8], follow| vfs.resolve(root, root, path, follow);
    assert_eq!(r(b"/proc", false), foreign(b""));
    assert_eq!(r(b"/proc/", true), foreign(b""));
    assert_eq!(r(b"/proc/.", true), foreign(b""));
    assert_eq!(r(b"/proc/self/maps", true), foreign(b"self/maps"));
    assert_eq!(r(b"/proc//./self/", true), foreign(b"self/"));
    assert_eq!(r(b"/proc/self/..", true), foreign(b"self/.."));
    assert_eq!(r(b"/mounts", true), foreign(b"self/mounts"));
    assert_eq!(r(b"/d/p/1", true), foreign(b"1"));
    assert_eq!(
        r(b"/d/p", false),
        Ok(Resolved::Node(node_nofollow(&vfs, "/d/p")))
    );
    // ".." right after the mount point leaves it.
    assert_eq!(r(b"/proc/..", true), Ok(Resolved::Node(root)));
    assert_eq!(
        r(b"/proc/../a/b", true),
        Ok(Resolved::Node(node(&vfs, "/a/b")))
    );
    assert_eq!(
        r(b"/proc/./../d", true),
        Ok(Resolved::Node(node(&vfs, "/d")))
    );
    assert_eq!(vfs.parent(proc_), Ok(root));
    // Parents.
    let rp = |path: &[u8]| vfs.resolve_parent(root, root, path);
    assert_eq!(
        rp(b"/proc"),
        Ok(Parent::Local {
            dir: root,
            name: b"proc".to_vec(),
            trailing_slash: false
        })
    );
    assert_eq!(
        rp(b"/proc/sys/x"),
        Ok(Parent::Foreign {
            mount: 7,
            mount_inode: proc_,
            rest: b"sys/x".to_vec()
        })
    );
    assert_eq!(
        rp(b"/proc/."),
        Ok(Parent::Local {
            dir: proc_,
            name: b".".to_vec(),
            trailing_slash: false
        })
    );
    assert_eq!(
        rp(b"/proc/../d/new"),
        Ok(Parent::Local {
            dir: node(&vfs, "/d"),
            name: b"new".to_vec(),
            trailing_slash: false
        })
    );
    assert_eq!(vfs.mount_tag(proc_), Some(7));
    assert_eq!(vfs.mount_tag(root), None);
}

#[test]
fn resolve_parent_cases() {
    let mut vfs = tree();
    symlink(&mut vfs, "/la", "a");
    symlink(&mut vfs, "/a/lf", "f");
    let root = vfs.root();
    let a = node(&vfs, "/a");
    let b = node(&vfs, "/a/b");
    let local = |dir, name: &[u8], trailing_slash| {
        Ok(Parent::Local {
            dir,
            name: name.to_vec(),
            trailing_slash,
        })
    };
    let rp = |start, path: &[u8]| vfs.resolve_parent(start, root, path);
    assert_eq!(rp(root, b"/a/new"), local(a, b"new", false));
    assert_eq!(rp(root, b"/a/new/"), local(a, b"new", true));
    assert_eq!(rp(root, b"/a/new//"), local(a, b"new", true));
    assert_eq!(rp(a, b"new"), local(a, b"new", false));
    assert_eq!(rp(a, b"b/"), local(a, b"b", true));
    // Intermediate symlinks are followed, the final one is not.
    assert_eq!(rp(root, b"/la/b"), local(a, b"b", false));
    assert_eq!(rp(root, b"/a/lf"), local(a, b"lf", false));
    assert_eq!(rp(root, b"/a/lf/x"), Err(FsError::NotDirectory));
    // Dot names are returned for the operation to judge.
    assert_eq!(rp(root, b"/"), local(root, b".", false));
    assert_eq!(rp(root, b"///"), local(root, b".", false));
    assert_eq!(rp(a, b"."), local(a, b".", false));
    assert_eq!(rp(root, b"/a/b/.."), local(b, b"..", false));
    assert_eq!(rp(root, b"/a/b/./"), local(b, b".", true));
    // Errors.
    assert_eq!(rp(root, b""), Err(FsError::NotFound));
    assert_eq!(rp(root, b"/missing/x"), Err(FsError::NotFound));
    assert_eq!(rp(root, b"/a/f/x"), Err(FsError::NotDirectory));
    let long = format!("/a/{}", "n".repeat(256));
    assert_eq!(rp(root, long.as_bytes()), Err(FsError::NameTooLong));
    // The parent of "/a/f" exists even though "f" is a file; creating there fails later.
    let (dir, name) = parent(&vfs, "/a/f").unwrap();
    assert_eq!(
        vfs.create_file(dir, &name, 0o644, 0, 0),
        Err(FsError::Exists)
    );
    // The operations answer dot names like Linux.
    assert_eq!(vfs.mkdir(a, b".", 0o755, 0, 0), Err(FsError::Exists));
    assert_eq!(vfs.mkdir(a, b"..", 0o755, 0, 0), Err(FsError::Exists));
    assert_eq!(vfs.rmdir(a, b"."), Err(FsError::Invalid));
    assert_eq!(vfs.rmdir(a, b".."), Err(FsError::NotEmpty));
    assert_eq!(vfs.unlink(a, b"."), Err(FsError::IsDirectory));
}

#[test]
fn lookup_and_parent() {
    let vfs = tree();
    let a = node(&vfs, "/a");
    let b = node(&vfs, "/a/b");
    let f = node(&vfs, "/a/f");
    assert_eq!(vfs.lookup(a, b"b"), Ok(b));
    assert_eq!(vfs.lookup(a, b"."), Ok(a));
    assert_eq!(vfs.lookup(b, b".."), Ok(a));
    assert_eq!(vfs.lookup(vfs.root(), b".."), Ok(vfs.root()));
    assert_eq!(vfs.lookup(a, b"zz"), Err(FsError::NotFound));
    assert_eq!(vfs.lookup(a, b""), Err(FsError::NotFound));
    assert_eq!(vfs.lookup(a, b"x/y"), Err(FsError::Invalid));
    assert_eq!(vfs.lookup(a, &[b'n'; 256]), Err(FsError::NameTooLong));
    assert_eq!(vfs.lookup(f, b"x"), Err(FsError::NotDirectory));
    assert_eq!(vfs.parent(b), Ok(a));
    assert_eq!(vfs.parent(f), Err(FsError::NotDirectory));
}

#[test]
fn path_of_directories() {
    let mut vfs = tree();
    let root = vfs.root();
    let b = node(&vfs, "/a/b");
    assert_eq!(vfs.path_of(root), Ok(b"/".to_vec()));
    assert_eq!(vfs.path_of(b), Ok(b"/a/b".to_vec()));
    assert_eq!(vfs.path_of(node(&vfs, "/a/f")), Err(FsError::NotDirectory));
    let a = node(&vfs, "/a");
    let d = node(&vfs, "/d");
    vfs.rename(a, b"b", d, b"moved", 0).unwrap();
    assert_eq!(vfs.path_of(b), Ok(b"/d/moved".to_vec()));
    // Chroot views.
    assert_eq!(vfs.path_from(d, b), Ok(Some(b"/moved".to_vec())));
    assert_eq!(vfs.path_from(d, d), Ok(Some(b"/".to_vec())));
    assert_eq!(vfs.path_from(b, a), Ok(None));
    // A removed working directory.
    vfs.open_ref(b).unwrap();
    vfs.rmdir(d, b"moved").unwrap();
    assert_eq!(vfs.path_of(b), Err(FsError::NotFound));
    // Its ".." still leads to where it was; creating in it fails.
    assert_eq!(resolve(&vfs, b, b"..", true), Ok(d));
    assert_eq!(resolve(&vfs, b, b".", true), Ok(b));
    assert_eq!(
        vfs.create_file(b, b"x", 0o644, 0, 0),
        Err(FsError::NotFound)
    );
    vfs.close_ref(b).unwrap();
    assert!(!vfs.exists(b));
}

#[test]
fn deep_paths_do_not_recurse() {
    // 2100 nested directories: everything is iterative.
    let mut vfs = new_vfs();
    let mut dir = vfs.root();
    for _ in 0..2100 {
        dir = vfs.mkdir(dir, b"d", 0o755, 0, 0).unwrap();
    }
    let path = vfs.path_of(dir).unwrap();
    assert_eq!(path.len(), 4200);
    // Too long for one resolution, but walkable in pieces from a start directory.
    let root = vfs.root();
    assert_eq!(
        vfs.resolve(root, root, &path, true),
        Err(FsError::NameTooLong)
    );
    let half = &path[..2100];
    let mid = match vfs.resolve(root, root, half, true).unwrap() {
        Resolved::Node(id) => id,
        other => panic!("{other:?}"),
    };
    assert_eq!(resolve(&vfs, mid, &path[2101..], true), Ok(dir));
    let ups: Vec<u8> = b"../".repeat(1050);
    assert_eq!(resolve(&vfs, dir, &ups, true), Ok(mid));
}
