//! `rename` / `renameat2` with Linux semantics.

use crate::dir::{classify, Name};
use crate::inode::Kind;
use crate::{FsError, InodeId, Platform, Vfs, RENAME_EXCHANGE, RENAME_NOREPLACE};

impl<P: Platform> Vfs<P> {
    /// Moves `old_dir/old_name` to `new_dir/new_name`, replacing a target as Linux does,
    /// checking in this order:
    /// * unknown flags, or NOREPLACE with EXCHANGE -> Invalid;
    /// * "." or ".." on either side -> Busy (Exists for a new name with NOREPLACE);
    /// * either directory not a directory -> NotDirectory, removed -> NotFound;
    /// * no source -> NotFound; NOREPLACE and a target -> Exists; EXCHANGE without a
    ///   target -> NotFound;
    /// * source and target the same inode (the same entry, or two hard links) -> success,
    ///   nothing changes;
    /// * a directory moved into itself or its own subtree -> Invalid (either one, for
    ///   EXCHANGE); a target directory that contains the source -> NotEmpty;
    /// * a mount point on either side -> Busy;
    /// * without EXCHANGE: directory over non-directory -> NotDirectory, non-directory over
    ///   directory -> IsDirectory, over a non-empty directory -> NotEmpty;
    /// * a directory gaining a subdirectory beyond `u32::MAX` links -> TooManyLinks.
    ///
    /// A replaced inode loses a link (and is freed when unused). Moved directories get their
    /// new parent, and the parents' link counts follow.
    pub fn rename(
        &mut self,
        old_dir: InodeId,
        old_name: &[u8],
        new_dir: InodeId,
        new_name: &[u8],
        flags: u32,
    ) -> Result<(), FsError> {
        if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE) != 0
            || flags == RENAME_NOREPLACE | RENAME_EXCHANGE
        {
            return Err(FsError::Invalid);
        }
        let exchange = flags & RENAME_EXCHANGE != 0;
        if classify(old_name)? != Name::Normal {
            return Err(FsError::Busy);
        }
        if classify(new_name)? != Name::Normal {
            return Err(if flags & RENAME_NOREPLACE != 0 {
                FsError::Exists
            } else {
                FsError::Busy
            });
        }
        let old_d = self.live_dir(old_dir)?.dir()?;
        let new_d = self.live_dir(new_dir)?.dir()?;
        let src = old_d.get(old_name).ok_or(FsError::NotFound)?;
        let dst = new_d.get(new_name);
        if flags & RENAME_NOREPLACE != 0 && dst.is_some() {
            return Err(FsError::Exists);
        }
        if exchange && dst.is_none() {
            return Err(FsError::NotFound);
        }
        if dst == Some(src) {
            return Ok(());
        }
        let src_kind = &self.inode(src)?.kind;
        let dst_kind = match dst {
            Some(dst) => Some(&self.inode(dst)?.kind),
            None => None,
        };
        let src_is_dir = matches!(src_kind, Kind::Directory(_));
        let dst_is_dir = matches!(dst_kind, Some(Kind::Directory(_)));
        if src_is_dir && self.is_ancestor_or_self(src, new_dir) {
            return Err(FsError::Invalid);
        }
        if let (Some(dst), true) = (dst, dst_is_dir) {
            if self.is_ancestor_or_self(dst, old_dir) {
                return Err(if exchange {
                    FsError::Invalid
                } else {
                    FsError::NotEmpty
                });
            }
        }
        if matches!(src_kind, Kind::Mount { .. }) || matches!(dst_kind, Some(Kind::Mount { .. })) {
            return Err(FsError::Busy);
        }
        if !exchange {
            match dst_kind {
                Some(Kind::Directory(_)) if !src_is_dir => return Err(FsError::IsDirectory),
                Some(Kind::Directory(d)) if !d.is_empty() => return Err(FsError::NotEmpty),
                Some(_) if src_is_dir && !dst_is_dir => return Err(FsError::NotDirectory),
                _ => {}
            }
        }
        if dst.is_none() {
            new_d.can_insert()?;
        }
        // Subdirectory count changes of the two parents.
        let mut old_delta: i64 = 0;
        let mut new_delta: i64 = 0;
        if src_is_dir {
            old_delta -= 1;
            new_delta += 1;
        }
        if dst_is_dir {
            new_delta -= 1;
            if exchange {
                old_delta += 1;
            }
        }
        if old_dir == new_dir {
            old_delta += new_delta;
            new_delta = 0;
        }
        for (dir, delta) in [(old_dir, old_delta), (new_dir, new_delta)] {
            let nlink = i64::from(self.inode(dir)?.nlink) + delta;
            if nlink > i64::from(u32::MAX) {
                return Err(FsError::TooManyLinks);
            }
        }

        // Checks are done: change the tree.
        let now = self.now();
        if exchange {
            let Some(dst) = dst else {
                return Err(FsError::NotFound);
            };
            self.inode_mut(old_dir)?.dir_mut()?.replace(old_name, dst);
            self.inode_mut(new_dir)?.dir_mut()?.replace(new_name, src);
            self.set_up(dst, old_dir, old_name, now)?;
        } else {
            self.inode_mut(old_dir)?.dir_mut()?.remove(old_name);
            let target = self.inode_mut(new_dir)?.dir_mut()?;
            match dst {
                Some(dst) => {
                    target.replace(new_name, src);
                    let replaced = self.inode_mut(dst)?;
                    replaced.nlink = if dst_is_dir {
                        0
                    } else {
                        replaced.nlink.saturating_sub(1)
                    };
                    replaced.ctime = now;
                    self.release_if_unused(dst);
                }
                None => target.insert(new_name.to_vec(), src)?,
            }
        }
        self.set_up(src, new_dir, new_name, now)?;
        for (dir, delta) in [(old_dir, old_delta), (new_dir, new_delta)] {
            let inode = self.inode_mut(dir)?;
            // Within [0, u32::MAX]: checked above, and a parent counts its subdirectories.
            inode.nlink = (i64::from(inode.nlink) + delta).clamp(0, i64::from(u32::MAX)) as u32;
            inode.touch_modified(now);
        }
        Ok(())
    }

    /// Records a moved inode's new place (directories) and its change time.
    fn set_up(
        &mut self,
        id: InodeId,
        dir: InodeId,
        name: &[u8],
        now: crate::Timespec,
    ) -> Result<(), FsError> {
        let inode = self.inode_mut(id)?;
        inode.ctime = now;
        if let Some(up) = inode.kind.up_mut() {
            up.parent = dir;
            up.name = name.to_vec();
        }
        Ok(())
    }
}
