//! Path resolution (Linux `path_walk` semantics) and the reverse, a directory's path.

use alloc::vec::Vec;

use crate::inode::Kind;
use crate::{FsError, InodeId, Parent, Platform, Resolved, Vfs, MAX_SYMLINKS, NAME_MAX, PATH_MAX};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Node { follow: bool },
    Parent,
}

impl<P: Platform> Vfs<P> {
    /// Resolves `path`: absolute paths from `root` (the process's root directory, which ".."
    /// never leaves), relative ones from `start` (its working directory or a dirfd).
    ///
    /// Repeated slashes and "." are skipped; symlinks are followed in the middle always and
    /// as the last component when `follow_final_symlink` or when the path ends in '/' (which
    /// also requires a directory: NotDirectory otherwise). Relative symlink targets continue
    /// from the symlink's directory, absolute ones from `root`; more than [`MAX_SYMLINKS`] ->
    /// Loop. Empty path -> NotFound; a component over 255 bytes or a path of 4096 bytes or
    /// more -> NameTooLong; NUL inside -> Invalid; a non-directory in the middle ->
    /// NotDirectory. Entering a mount point ends the walk with [`Resolved::Foreign`].
    pub fn resolve(
        &self,
        start: InodeId,
        root: InodeId,
        path: &[u8],
        follow_final_symlink: bool,
    ) -> Result<Resolved, FsError> {
        let follow = follow_final_symlink;
        match self.walk(start, root, path, Want::Node { follow })? {
            Walked::Node(id) => Ok(Resolved::Node(id)),
            Walked::Foreign(mount, mount_inode, rest) => Ok(Resolved::Foreign {
                mount,
                mount_inode,
                rest,
            }),
            // Parent is only produced for Want::Parent.
            Walked::Parent(..) => Err(FsError::Invalid),
        }
    }

    /// Resolves all but the last component of `path` (as [`Vfs::resolve`]), for operations
    /// that create, remove or rename that last component, which is not looked up. A path
    /// ending in "." or ".." gives that name (see [`Parent::Local`]); "/" gives "." in `root`.
    pub fn resolve_parent(
        &self,
        start: InodeId,
        root: InodeId,
        path: &[u8],
    ) -> Result<Parent, FsError> {
        match self.walk(start, root, path, Want::Parent)? {
            Walked::Parent(dir, name, trailing_slash) => Ok(Parent::Local {
                dir,
                name,
                trailing_slash,
            }),
            Walked::Foreign(mount, mount_inode, rest) => Ok(Parent::Foreign {
                mount,
                mount_inode,
                rest,
            }),
            Walked::Node(_) => Err(FsError::Invalid),
        }
    }

    fn walk(
        &self,
        start: InodeId,
        root: InodeId,
        path: &[u8],
        want: Want,
    ) -> Result<Walked, FsError> {
        if path.is_empty() {
            return Err(FsError::NotFound);
        }
        if path.len() >= PATH_MAX {
            return Err(FsError::NameTooLong);
        }
        if path.contains(&0) {
            return Err(FsError::Invalid);
        }
        self.inode(root)?.dir()?;
        // The path still to walk: `buf[pos..]`. Following a symlink replaces it by the
        // target followed by what remained, so trailing slashes keep their meaning.
        let mut buf = path.to_vec();
        let mut pos = 0;
        let mut cur = if path[0] == b'/' { root } else { start };
        let mut links = 0;
        loop {
            while buf.get(pos) == Some(&b'/') {
                pos += 1;
            }
            let cur_inode = self.inode(cur)?;
            if pos == buf.len() {
                // Only slashes were left: "/" itself, or a symlink to "/".
                return Ok(match (want, &cur_inode.kind) {
                    (Want::Parent, _) => Walked::Parent(cur, b".".to_vec(), false),
                    (_, Kind::Mount { tag, .. }) => Walked::Foreign(*tag, cur, Vec::new()),
                    _ => Walked::Node(cur),
                });
            }
            let end = buf[pos..]
                .iter()
                .position(|&b| b == b'/')
                .map_or(buf.len(), |i| pos + i);
            let comp = &buf[pos..end];
            if comp.len() > NAME_MAX {
                return Err(FsError::NameTooLong);
            }
            let is_last = buf[end..].iter().all(|&b| b == b'/');
            let trailing = is_last && end < buf.len();
            let parent_wanted = is_last && want == Want::Parent;
            let next = match &cur_inode.kind {
                Kind::Directory(d) => {
                    if parent_wanted {
                        return Ok(Walked::Parent(cur, comp.to_vec(), trailing));
                    }
                    match comp {
                        b"." => cur,
                        b".." if cur == root => cur,
                        b".." => d.up.parent,
                        _ => d.get(comp).ok_or(FsError::NotFound)?,
                    }
                }
                // Inside a mount point only "." and ".." (which leaves it) are ours.
                Kind::Mount { tag, up } => match comp {
                    b"." | b".." if parent_wanted => {
                        return Ok(Walked::Parent(cur, comp.to_vec(), trailing));
                    }
                    b"." if is_last => return Ok(Walked::Foreign(*tag, cur, Vec::new())),
                    b"." => cur,
                    b".." => up.parent,
                    _ => return Ok(Walked::Foreign(*tag, cur, buf[pos..].to_vec())),
                },
                _ => return Err(FsError::NotDirectory),
            };
            let follow = match want {
                Want::Node { follow } => follow,
                Want::Parent => false,
            };
            match &self.inode(next)?.kind {
                Kind::Symlink(target) if !is_last || trailing || follow => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(FsError::Loop);
                    }
                    let mut expanded = Vec::with_capacity(target.len() + buf.len() - end);
                    expanded.extend_from_slice(target);
                    expanded.extend_from_slice(&buf[end..]);
                    if target.first() == Some(&b'/') {
                        cur = root;
                    }
                    buf = expanded;
                    pos = 0;
                }
                Kind::Mount { tag, .. } if is_last => {
                    return Ok(Walked::Foreign(*tag, next, Vec::new()));
                }
                Kind::Directory(_) | Kind::Mount { .. } => {
                    if is_last {
                        return Ok(Walked::Node(next));
                    }
                    cur = next;
                    pos = end;
                }
                _ if is_last && !trailing => return Ok(Walked::Node(next)),
                _ => return Err(FsError::NotDirectory),
            }
        }
    }

    /// The absolute path of a directory or mount point from the file-system root (for
    /// `getcwd`). A removed directory -> NotFound (Linux's getcwd error); other inodes ->
    /// NotDirectory.
    pub fn path_of(&self, dir: InodeId) -> Result<Vec<u8>, FsError> {
        self.path_from(self.root(), dir)?.ok_or(FsError::NotFound)
    }

    /// The path of `dir` as seen from `root` (a process's root directory), or None when
    /// `dir` is not below `root` (Linux's getcwd then prefixes "(unreachable)").
    pub fn path_from(&self, root: InodeId, dir: InodeId) -> Result<Option<Vec<u8>>, FsError> {
        let mut names: Vec<&[u8]> = Vec::new();
        let mut cur = dir;
        while cur != root {
            let inode = self.inode(cur)?;
            let up = inode.kind.up().ok_or(FsError::NotDirectory)?;
            if inode.nlink == 0 {
                return Err(FsError::NotFound);
            }
            if up.parent == cur {
                return Ok(None); // reached the file-system root
            }
            // The tree has no cycles (rename refuses them); the bound only guards that.
            if names.len() > self.slots.len() {
                return Err(FsError::Loop);
            }
            names.push(&up.name);
            cur = up.parent;
        }
        let mut path = Vec::new();
        for name in names.iter().rev() {
            path.push(b'/');
            path.extend_from_slice(name);
        }
        if path.is_empty() {
            path.push(b'/');
        }
        Ok(Some(path))
    }

    /// Whether `ancestor` is `node` or one of its ancestors (directories only).
    pub(crate) fn is_ancestor_or_self(&self, ancestor: InodeId, node: InodeId) -> bool {
        let mut cur = node;
        for _ in 0..=self.slots.len() {
            if cur == ancestor {
                return true;
            }
            let Some(up) = self.inode(cur).ok().and_then(|i| i.kind.up()) else {
                return false;
            };
            if up.parent == cur {
                return false;
            }
            cur = up.parent;
        }
        false
    }
}

enum Walked {
    Node(InodeId),
    Foreign(u32, InodeId, Vec<u8>),
    Parent(InodeId, Vec<u8>, bool),
}
