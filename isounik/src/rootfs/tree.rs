//! The guest's root tree before it is written: a map from guest path to node, with the
//! rules for putting things into it (parents created, conflicts refused with a message
//! that names who put what where).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::guest_path::GuestPath;

/// Where the kernel mounts its own file systems: nothing may be put below them.
pub const MOUNT_POINTS: [&str; 2] = ["/dev", "/proc"];
/// Mode of directories isounik creates (parents, `/dev`, `/proc`, `--workdir`).
pub const DIR_MODE: u32 = 0o755;
/// mtime of every entry isounik generates (parents, defaults, the boot directory): the
/// epoch, so that the archive depends only on the inputs.
pub const GENERATED_MTIME: u32 = 0;

/// A host file, by device and inode: the same host file added at several guest paths
/// becomes one file with several hard links.
pub type FileId = (u64, u64);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// Read from the host when the archive is written.
    Host {
        path: PathBuf,
        id: FileId,
    },
    Bytes(Vec<u8>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File(Content),
    /// The link's target, as stored.
    Symlink(Vec<u8>),
    Fifo,
    CharDevice {
        major: u32,
        minor: u32,
    },
    BlockDevice {
        major: u32,
        minor: u32,
    },
}

impl Kind {
    fn describe(&self) -> &'static str {
        match self {
            Kind::Dir => "directory",
            Kind::File(_) => "file",
            Kind::Symlink(_) => "symbolic link",
            Kind::Fifo => "FIFO",
            Kind::CharDevice { .. } => "character device",
            Kind::BlockDevice { .. } => "block device",
        }
    }
}

/// Who put a node there (for messages).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Created as the parent of something else.
    Parent,
    /// One of isounik's defaults (`/etc/passwd`, `/tmp`...).
    Default,
    Program,
    Workdir,
    /// `--add` with this value.
    Add(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Parent => f.write_str("a parent directory"),
            Origin::Default => f.write_str("isounik's defaults"),
            Origin::Program => f.write_str("PROGRAM"),
            Origin::Workdir => f.write_str("--workdir"),
            Origin::Add(spec) => write!(f, "--add {spec}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub kind: Kind,
    /// Permission bits with set-id and sticky bits (`0o7777`).
    pub perm: u32,
    pub mtime: u32,
    pub origin: Origin,
}

impl Node {
    pub fn dir(perm: u32, origin: Origin) -> Self {
        Node {
            kind: Kind::Dir,
            perm,
            mtime: GENERATED_MTIME,
            origin,
        }
    }

    pub fn is_dir(&self) -> bool {
        self.kind == Kind::Dir
    }
}

/// The guest's root tree (the root directory itself is implicit: mode 0755, owned by root).
#[derive(Debug, Default)]
pub struct Tree {
    nodes: BTreeMap<GuestPath, Node>,
}

impl Tree {
    #[cfg(test)]
    pub fn get(&self, path: &GuestPath) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// Every node in byte order of its path, so a directory comes before its contents.
    pub fn iter(&self) -> impl Iterator<Item = (&GuestPath, &Node)> {
        self.nodes.iter()
    }

    fn has_children(&self, dir: &GuestPath) -> bool {
        if dir.is_root() {
            return !self.nodes.is_empty();
        }
        // Every path with `dir`'s bytes as a prefix is in one run of the sorted map.
        self.nodes
            .range(dir.clone()..)
            .take_while(|(path, _)| path.as_bytes().starts_with(dir.as_bytes()))
            .any(|(path, _)| path != dir && path.starts_with(dir))
    }

    /// Creates the missing ancestors of `path` as directories; fails when one is taken by
    /// something else.
    fn make_parents(&mut self, path: &GuestPath, origin: &Origin) -> Result<()> {
        for ancestor in path.ancestors() {
            match self.nodes.get(&ancestor) {
                None => {
                    self.nodes
                        .insert(ancestor, Node::dir(DIR_MODE, Origin::Parent));
                }
                Some(node) if node.is_dir() => {}
                Some(node) => bail!(
                    "{origin}: cannot put {path} in the guest: {ancestor} is a {} (from {}), not a directory",
                    node.kind.describe(),
                    node.origin
                ),
            }
        }
        Ok(())
    }

    /// Puts `node` at `path`: a later directory merges into an earlier one (its mode and
    /// mtime win); anything else replaces what was there, except a non-empty directory.
    pub fn insert(&mut self, path: GuestPath, node: Node) -> Result<()> {
        let reserved = GuestPath::new(b"/.isounik").expect("absolute");
        if path.starts_with(&reserved) {
            bail!(
                "{}: {path} is reserved for isounik's boot files",
                node.origin
            );
        }
        for mount_point in MOUNT_POINTS {
            let mount_point = GuestPath::new(mount_point.as_bytes()).expect("absolute");
            if path.starts_with(&mount_point) && path != mount_point {
                bail!(
                    "{}: {path} is under {mount_point}, where the kernel mounts its own file \
                     system; choose another guest path",
                    node.origin
                );
            }
        }
        if path.is_root() {
            if node.is_dir() {
                // The root's own metadata is not in the archive: the guest's root is 0755.
                return Ok(());
            }
            bail!(
                "{}: cannot put a {} at / in the guest",
                node.origin,
                node.kind.describe()
            );
        }
        self.make_parents(&path, &node.origin)?;
        if let Some(existing) = self.nodes.get(&path) {
            if !node.is_dir() && existing.is_dir() && self.has_children(&path) {
                bail!(
                    "{}: cannot replace the directory {path} (from {}) with a {}",
                    node.origin,
                    existing.origin,
                    node.kind.describe()
                );
            }
        }
        self.nodes.insert(path, node);
        Ok(())
    }

    /// Puts the program at its guest path. The same host file may already be there (from an
    /// `--add` of its directory); a different one is refused.
    pub fn insert_program(&mut self, path: GuestPath, node: Node) -> Result<()> {
        if let Some(existing) = self.nodes.get(&path) {
            let same = match (&existing.kind, &node.kind) {
                (
                    Kind::File(Content::Host { id: a, .. }),
                    Kind::File(Content::Host { id: b, .. }),
                ) => a == b,
                _ => false,
            };
            if same {
                return Ok(());
            }
            bail!(
                "PROGRAM is placed at {path} in the guest, but {} put a different {} there",
                existing.origin,
                existing.kind.describe()
            );
        }
        self.insert(path, node)
    }

    /// Puts `node` at `path` unless the user already put something there or at an
    /// ancestor that is not a directory (their `/etc` symlink, say). A directory that
    /// exists only as a parent takes a default directory's metadata.
    pub fn insert_default(&mut self, path: GuestPath, node: Node) -> Result<()> {
        let blocked = path
            .ancestors()
            .iter()
            .any(|a| self.nodes.get(a).is_some_and(|n| !n.is_dir()));
        match self.nodes.get(&path) {
            _ if blocked => Ok(()),
            // A directory made only as a parent (of a program under /tmp, say) takes the
            // default's mode.
            Some(existing) if existing.origin == Origin::Parent && node.is_dir() => {
                self.nodes.insert(path, node);
                Ok(())
            }
            Some(_) => Ok(()),
            None => self.insert(path, node),
        }
    }

    /// Makes sure `path` is a directory, creating it (and its parents) with `origin` if absent.
    pub fn ensure_dir(&mut self, path: GuestPath, origin: Origin, why: &str) -> Result<()> {
        if path.is_root() {
            return Ok(());
        }
        match self.nodes.get(&path) {
            Some(node) if node.is_dir() => Ok(()),
            Some(node) => bail!(
                "{origin}: {path} must be a directory{why}, but {} put a {} there",
                node.origin,
                node.kind.describe()
            ),
            None => self.insert(path, Node::dir(DIR_MODE, origin)),
        }
    }

    /// For each directory, how many directories it directly contains (for `nlink`).
    pub fn subdir_counts(&self) -> BTreeMap<GuestPath, u32> {
        let mut counts = BTreeMap::new();
        for (path, node) in &self.nodes {
            if node.is_dir() {
                if let Some(parent) = path.ancestors().pop() {
                    *counts.entry(parent).or_default() += 1;
                }
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> GuestPath {
        GuestPath::new(s.as_bytes()).unwrap()
    }

    fn file(data: &str, origin: Origin) -> Node {
        Node {
            kind: Kind::File(Content::Bytes(data.as_bytes().to_vec())),
            perm: 0o644,
            mtime: 5,
            origin,
        }
    }

    fn add(spec: &str) -> Origin {
        Origin::Add(spec.into())
    }

    #[test]
    fn creates_parents_and_merges_directories() {
        let mut t = Tree::default();
        t.insert(p("/a/b/c"), file("x", add("1"))).unwrap();
        assert_eq!(t.get(&p("/a")).unwrap(), &Node::dir(0o755, Origin::Parent));
        assert!(t.get(&p("/a/b")).unwrap().is_dir());
        // A later directory at /a gives its metadata but keeps the contents.
        let mut dir = Node::dir(0o700, add("2"));
        dir.mtime = 9;
        t.insert(p("/a"), dir.clone()).unwrap();
        assert_eq!(t.get(&p("/a")).unwrap(), &dir);
        assert!(t.get(&p("/a/b/c")).is_some());
        let names: Vec<String> = t.iter().map(|(k, _)| k.to_string()).collect();
        assert_eq!(names, ["/a", "/a/b", "/a/b/c"]);
    }

    #[test]
    fn later_files_replace_earlier_ones_but_not_full_directories() {
        let mut t = Tree::default();
        t.insert(p("/x"), file("1", add("first"))).unwrap();
        t.insert(p("/x"), file("2", add("second"))).unwrap();
        assert_eq!(t.get(&p("/x")).unwrap().origin, add("second"));
        t.insert(p("/d/f"), file("1", add("a"))).unwrap();
        let err = t.insert(p("/d"), file("2", add("b"))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--add b: cannot replace the directory /d (from a parent directory) with a file"
        );
        // Under a file: refused, naming both.
        let err = t.insert(p("/x/y"), file("3", add("c"))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--add c: cannot put /x/y in the guest: /x is a file (from --add second), not a directory"
        );
        let err = t
            .insert(p("/.isounik/argv"), file("", add("d")))
            .unwrap_err();
        assert!(err.to_string().contains("reserved"), "{err}");
        assert!(t.insert(p("/"), file("", add("e"))).is_err());
        let err = t.insert(p("/dev/shm/x"), file("", add("g"))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--add g: /dev/shm/x is under /dev, where the kernel mounts its own file system; \
             choose another guest path"
        );
        assert!(t.insert(p("/proc/x"), file("", add("g"))).is_err());
        t.insert(p("/"), Node::dir(0o700, add("f"))).unwrap();
    }

    #[test]
    fn defaults_never_override() {
        let mut t = Tree::default();
        t.insert(p("/etc/passwd"), file("mine", add("u"))).unwrap();
        t.insert(
            p("/lnk"),
            Node {
                kind: Kind::Symlink(b"/elsewhere".to_vec()),
                perm: 0o777,
                mtime: 0,
                origin: add("v"),
            },
        )
        .unwrap();
        t.insert_default(p("/etc/passwd"), file("default", Origin::Default))
            .unwrap();
        t.insert_default(p("/etc/group"), file("default", Origin::Default))
            .unwrap();
        t.insert_default(p("/lnk/hosts"), file("default", Origin::Default))
            .unwrap();
        assert_eq!(t.get(&p("/etc/passwd")).unwrap().origin, add("u"));
        assert_eq!(t.get(&p("/etc/group")).unwrap().origin, Origin::Default);
        assert!(t.get(&p("/lnk/hosts")).is_none());
        // A parent-only /tmp takes the default's mode; the user's own does not.
        t.insert(p("/tmp/prog"), file("x", add("w"))).unwrap();
        t.insert_default(p("/tmp"), Node::dir(0o1777, Origin::Default))
            .unwrap();
        assert_eq!(t.get(&p("/tmp")).unwrap().perm, 0o1777);
        t.insert(p("/home"), Node::dir(0o700, add("h"))).unwrap();
        t.insert_default(p("/home"), Node::dir(0o755, Origin::Default))
            .unwrap();
        assert_eq!(t.get(&p("/home")).unwrap().perm, 0o700);
    }

    #[test]
    fn programs_and_required_directories() {
        let host = |id| Node {
            kind: Kind::File(Content::Host {
                path: "/bin/busybox".into(),
                id,
            }),
            perm: 0o755,
            mtime: 1,
            origin: add("/bin"),
        };
        let mut t = Tree::default();
        t.insert(p("/bin/busybox"), host((1, 2))).unwrap();
        let mut program = host((1, 2));
        program.origin = Origin::Program;
        t.insert_program(p("/bin/busybox"), program.clone())
            .unwrap();
        let mut other = program;
        other.kind = Kind::File(Content::Host {
            path: "/x".into(),
            id: (1, 3),
        });
        let err = t.insert_program(p("/bin/busybox"), other).unwrap_err();
        assert_eq!(
            err.to_string(),
            "PROGRAM is placed at /bin/busybox in the guest, but --add /bin put a different file there"
        );

        t.ensure_dir(p("/srv/app"), Origin::Workdir, "").unwrap();
        assert_eq!(t.get(&p("/srv/app")).unwrap().origin, Origin::Workdir);
        t.insert(p("/dev"), file("x", add("d"))).unwrap();
        let err = t
            .ensure_dir(
                p("/dev"),
                Origin::Default,
                " (the kernel mounts its own there)",
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "isounik's defaults: /dev must be a directory (the kernel mounts its own there), but --add d put a file there"
        );
    }

    #[test]
    fn counts_subdirectories() {
        let mut t = Tree::default();
        t.insert(p("/a/b/c"), Node::dir(0o755, add("x"))).unwrap();
        t.insert(p("/a/d"), Node::dir(0o755, add("x"))).unwrap();
        t.insert(p("/a/f"), file("", add("x"))).unwrap();
        let counts = t.subdir_counts();
        assert_eq!(counts.get(&p("/a")), Some(&2));
        assert_eq!(counts.get(&p("/a/b")), Some(&1));
        assert_eq!(counts.get(&p("/a/d")), None);
    }
}
