use std::vec::Vec;

use super::*;
use crate::{FsError, RENAME_EXCHANGE, RENAME_NOREPLACE};

/// /a/{f:"f", g:"g", sub/{x}, empty/}, /b/{h:"h", dir/}
fn tree() -> TestVfs {
    let mut vfs = new_vfs();
    mkdir(&mut vfs, "/a");
    mkdir(&mut vfs, "/b");
    create(&mut vfs, "/a/f", b"f");
    create(&mut vfs, "/a/g", b"g");
    mkdir(&mut vfs, "/a/sub");
    create(&mut vfs, "/a/sub/x", b"x");
    mkdir(&mut vfs, "/a/empty");
    create(&mut vfs, "/b/h", b"h");
    mkdir(&mut vfs, "/b/dir");
    vfs
}

fn mv(vfs: &mut TestVfs, from: &str, to: &str, flags: u32) -> Result<(), FsError> {
    let (od, on) = parent(vfs, from)?;
    let (nd, nn) = parent(vfs, to)?;
    vfs.rename(od, &on, nd, &nn, flags)
}

fn nlink(vfs: &TestVfs, path: &str) -> u32 {
    vfs.stat(node(vfs, path)).unwrap().nlink
}

#[test]
fn files_move_and_replace() {
    let mut vfs = tree();
    let f = node(&vfs, "/a/f");
    let g = node(&vfs, "/a/g");
    mv(&mut vfs, "/a/f", "/a/f2", 0).unwrap();
    assert_eq!(node(&vfs, "/a/f2"), f);
    assert_eq!(try_node(&vfs, "/a/f"), Err(FsError::NotFound));
    mv(&mut vfs, "/a/f2", "/b/f", 0).unwrap();
    assert_eq!(node(&vfs, "/b/f"), f);
    // Replacing a file frees the old one.
    let pages = live_pages(&vfs);
    mv(&mut vfs, "/b/f", "/a/g", 0).unwrap();
    assert_eq!(node(&vfs, "/a/g"), f);
    assert!(!vfs.exists(g));
    assert_eq!(live_pages(&vfs), pages - 1);
    assert_eq!(read_all(&mut vfs, f), b"f");
    assert_eq!(nlink(&vfs, "/a/g"), 1);
}

#[test]
fn replaced_file_that_is_open_survives() {
    let mut vfs = tree();
    let g = node(&vfs, "/a/g");
    vfs.open_ref(g).unwrap();
    mv(&mut vfs, "/a/f", "/a/g", 0).unwrap();
    assert_eq!(vfs.stat(g).unwrap().nlink, 0);
    assert_eq!(read_all(&mut vfs, g), b"g");
    vfs.close_ref(g).unwrap();
    assert!(!vfs.exists(g));
}

#[test]
fn same_inode_is_a_no_op() {
    let mut vfs = tree();
    let f = node(&vfs, "/a/f");
    let b = node(&vfs, "/b");
    vfs.link(f, b, b"hard").unwrap();
    mv(&mut vfs, "/a/f", "/b/hard", 0).unwrap();
    // Both names remain (POSIX: "shall return successfully and perform no other action").
    assert_eq!(node(&vfs, "/a/f"), f);
    assert_eq!(node(&vfs, "/b/hard"), f);
    assert_eq!(vfs.stat(f).unwrap().nlink, 2);
    mv(&mut vfs, "/a/f", "/a/f", 0).unwrap();
    mv(&mut vfs, "/a/sub", "/a/sub", 0).unwrap();
    mv(&mut vfs, "/a/f", "/b/hard", RENAME_EXCHANGE).unwrap();
    assert_eq!(
        mv(&mut vfs, "/a/f", "/a/f", RENAME_NOREPLACE),
        Err(FsError::Exists)
    );
}

#[test]
fn directories_move_with_their_parent_links() {
    let mut vfs = tree();
    let sub = node(&vfs, "/a/sub");
    assert_eq!((nlink(&vfs, "/a"), nlink(&vfs, "/b")), (4, 3));
    mv(&mut vfs, "/a/sub", "/b/sub2", 0).unwrap();
    assert_eq!(node(&vfs, "/b/sub2"), sub);
    assert_eq!(node(&vfs, "/b/sub2/x"), node(&vfs, "/b/sub2/x"));
    assert_eq!((nlink(&vfs, "/a"), nlink(&vfs, "/b")), (3, 4));
    assert_eq!(node(&vfs, "/b/sub2/.."), node(&vfs, "/b"));
    assert_eq!(vfs.path_of(sub), Ok(b"/b/sub2".to_vec()));
    // Over an empty directory: replaced and freed; link counts stay right.
    let dir = node(&vfs, "/b/dir");
    mv(&mut vfs, "/b/sub2", "/b/dir", 0).unwrap();
    assert!(!vfs.exists(dir));
    assert_eq!(node(&vfs, "/b/dir"), sub);
    assert_eq!(nlink(&vfs, "/b"), 3);
    let empty = node(&vfs, "/a/empty");
    mv(&mut vfs, "/b/dir", "/a/empty", 0).unwrap();
    assert!(!vfs.exists(empty));
    assert_eq!((nlink(&vfs, "/a"), nlink(&vfs, "/b")), (3, 2));
    assert_eq!(vfs.path_of(sub), Ok(b"/a/empty".to_vec()));
    assert_eq!(vfs.stat(node(&vfs, "/a")).unwrap().size, (3 + 2) * 20);
}

#[test]
fn type_and_ancestry_errors() {
    let mut vfs = tree();
    assert_eq!(mv(&mut vfs, "/a/f", "/b/dir", 0), Err(FsError::IsDirectory));
    assert_eq!(
        mv(&mut vfs, "/a/sub", "/b/h", 0),
        Err(FsError::NotDirectory)
    );
    assert_eq!(
        mv(&mut vfs, "/a/empty", "/a/sub", 0),
        Err(FsError::NotEmpty)
    );
    assert_eq!(mv(&mut vfs, "/a", "/a/sub/a", 0), Err(FsError::Invalid));
    assert_eq!(mv(&mut vfs, "/a", "/a/new", 0), Err(FsError::Invalid));
    // The target contains the source.
    assert_eq!(mv(&mut vfs, "/a/sub/x", "/a", 0), Err(FsError::NotEmpty));
    assert_eq!(mv(&mut vfs, "/a/sub", "/a", 0), Err(FsError::NotEmpty));
    assert_eq!(
        mv(&mut vfs, "/a/missing", "/b/x", 0),
        Err(FsError::NotFound)
    );
    // Dot names.
    assert_eq!(mv(&mut vfs, "/a/.", "/b/x", 0), Err(FsError::Busy));
    assert_eq!(mv(&mut vfs, "/a/sub/..", "/b/x", 0), Err(FsError::Busy));
    assert_eq!(mv(&mut vfs, "/a/f", "/b/.", 0), Err(FsError::Busy));
    assert_eq!(
        mv(&mut vfs, "/a/f", "/b/..", RENAME_NOREPLACE),
        Err(FsError::Exists)
    );
    assert_eq!(mv(&mut vfs, "/", "/b/x", 0), Err(FsError::Busy));
    // Flags.
    assert_eq!(mv(&mut vfs, "/a/f", "/b/x", 4), Err(FsError::Invalid));
    assert_eq!(
        mv(&mut vfs, "/a/f", "/b/x", RENAME_EXCHANGE | RENAME_NOREPLACE),
        Err(FsError::Invalid)
    );
    // Mount points.
    let root = vfs.root();
    vfs.mount_point(root, b"proc", 1, 0o555).unwrap();
    assert_eq!(mv(&mut vfs, "/proc", "/p2", 0), Err(FsError::Busy));
    assert_eq!(mv(&mut vfs, "/a/empty", "/proc", 0), Err(FsError::Busy));
    // Non-directories and removed directories as parents.
    let f = node(&vfs, "/a/f");
    let a = node(&vfs, "/a");
    assert_eq!(vfs.rename(f, b"x", a, b"y", 0), Err(FsError::NotDirectory));
    let empty = node(&vfs, "/a/empty");
    vfs.open_ref(empty).unwrap();
    vfs.rmdir(a, b"empty").unwrap();
    assert_eq!(vfs.rename(a, b"f", empty, b"f", 0), Err(FsError::NotFound));
    // Nothing changed.
    assert_eq!(read_all(&mut vfs, f), b"f");
    assert_eq!(node(&vfs, "/a/sub/x"), node(&vfs, "/a/sub/x"));
}

#[test]
fn noreplace_and_exchange() {
    let mut vfs = tree();
    let f = node(&vfs, "/a/f");
    let g = node(&vfs, "/a/g");
    assert_eq!(
        mv(&mut vfs, "/a/f", "/a/g", RENAME_NOREPLACE),
        Err(FsError::Exists)
    );
    mv(&mut vfs, "/a/f", "/a/f3", RENAME_NOREPLACE).unwrap();
    assert_eq!(node(&vfs, "/a/f3"), f);
    assert_eq!(
        mv(&mut vfs, "/a/f3", "/a/none", RENAME_EXCHANGE),
        Err(FsError::NotFound)
    );
    mv(&mut vfs, "/a/f3", "/a/g", RENAME_EXCHANGE).unwrap();
    assert_eq!((node(&vfs, "/a/f3"), node(&vfs, "/a/g")), (g, f));
    // A file and a directory across parents: parents' link counts and ".." follow.
    let sub = node(&vfs, "/a/sub");
    let h = node(&vfs, "/b/h");
    mv(&mut vfs, "/a/sub", "/b/h", RENAME_EXCHANGE).unwrap();
    assert_eq!((node(&vfs, "/a/sub"), node(&vfs, "/b/h")), (h, sub));
    assert_eq!((nlink(&vfs, "/a"), nlink(&vfs, "/b")), (3, 4));
    assert_eq!(node(&vfs, "/b/h/.."), node(&vfs, "/b"));
    assert_eq!(vfs.path_of(sub), Ok(b"/b/h".to_vec()));
    // Two directories.
    let dir = node(&vfs, "/b/dir");
    let empty = node(&vfs, "/a/empty");
    mv(&mut vfs, "/b/dir", "/a/empty", RENAME_EXCHANGE).unwrap();
    assert_eq!(vfs.path_of(dir), Ok(b"/a/empty".to_vec()));
    assert_eq!(vfs.path_of(empty), Ok(b"/b/dir".to_vec()));
    assert_eq!((nlink(&vfs, "/a"), nlink(&vfs, "/b")), (3, 4));
    // A directory with its own ancestor.
    assert_eq!(
        mv(&mut vfs, "/b", "/b/h/x", RENAME_EXCHANGE),
        Err(FsError::Invalid)
    );
    assert_eq!(
        mv(&mut vfs, "/b/h/x", "/b", RENAME_EXCHANGE),
        Err(FsError::Invalid)
    );
}

#[test]
fn renames_keep_listing_places() {
    let mut vfs = tree();
    let a = node(&vfs, "/a");
    // Replacing keeps the target name's place; a moved name goes to the end.
    mv(&mut vfs, "/a/empty", "/a/sub2", 0).unwrap();
    assert_eq!(
        list(&mut vfs, a),
        [&b"f"[..], b"g", b"sub", b"sub2"].map(|s| s.to_vec())
    );
    mv(&mut vfs, "/a/g", "/a/f", 0).unwrap();
    assert_eq!(
        list(&mut vfs, a),
        [&b"f"[..], b"sub", b"sub2"].map(|s| s.to_vec())
    );
    let names: Vec<_> = list(&mut vfs, a);
    mv(&mut vfs, "/a/sub", "/a/sub2", RENAME_EXCHANGE).unwrap();
    assert_eq!(list(&mut vfs, a), names);
}
