//! Host files into the tree: `--add` (recursively for directories) and the program.
//!
//! Rules: a HOST that is a symlink is followed (the user named it); inside an added
//! directory, symlinks stay symlinks. Mode bits and mtimes are kept; owners are not (every
//! entry is owned by root, see `rootfs`). FIFOs and device nodes are kept as such; sockets
//! are refused. The same host file (device and inode) at several guest paths becomes one
//! file with hard links.

use std::fs::{self, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use anyhow::{bail, Context, Result};

use super::tree::{Content, Kind, Node, Origin, Tree};
use crate::guest_path::GuestPath;
use crate::launch::{os_error_text, AddSpec, Program};

/// A cpio mtime: seconds, clamped to the 32-bit unsigned field.
fn mtime(metadata: &Metadata) -> u32 {
    metadata.mtime().clamp(0, u32::MAX as i64) as u32
}

fn dev_major(dev: u64) -> u32 {
    (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)) as u32
}

fn dev_minor(dev: u64) -> u32 {
    (((dev >> 12) & 0xffff_ff00) | (dev & 0xff)) as u32
}

/// The node for a host file described by `metadata` (from `lstat`, or `stat` for the
/// top-level path); `None` for a socket.
fn node(path: &Path, metadata: &Metadata, origin: &Origin) -> Result<Option<Node>> {
    let file_type = metadata.file_type();
    let kind = if file_type.is_dir() {
        Kind::Dir
    } else if file_type.is_file() {
        Kind::File(Content::Host {
            path: path.to_owned(),
            id: (metadata.dev(), metadata.ino()),
        })
    } else if file_type.is_symlink() {
        let target = fs::read_link(path)
            .with_context(|| format!("{origin}: cannot read the symlink {}", path.display()))?;
        Kind::Symlink(target.as_os_str().as_bytes().to_vec())
    } else if file_type.is_fifo() {
        Kind::Fifo
    } else if file_type.is_char_device() {
        Kind::CharDevice {
            major: dev_major(metadata.rdev()),
            minor: dev_minor(metadata.rdev()),
        }
    } else if file_type.is_block_device() {
        Kind::BlockDevice {
            major: dev_major(metadata.rdev()),
            minor: dev_minor(metadata.rdev()),
        }
    } else {
        return Ok(None);
    };
    Ok(Some(Node {
        kind,
        perm: metadata.mode() & 0o7777,
        mtime: mtime(metadata),
        origin: origin.clone(),
    }))
}

/// Adds one `--add` to the tree. A relative HOST is taken from `cwd` (the current
/// directory), also for its default guest path.
pub fn add(tree: &mut Tree, spec: &AddSpec, cwd: &Path) -> Result<()> {
    let origin = Origin::Add(spec.spec.to_string_lossy().into_owned());
    let host = spec.host_display();
    let path = cwd.join(&spec.host);
    let metadata = match fs::metadata(&path) {
        Ok(metadata) => metadata,
        Err(e) => bail!("--add {host}: {}", os_error_text(&e)),
    };
    let absolute = GuestPath::from_host(&spec.host, cwd);
    let mut guest = spec.guest.clone().unwrap_or_else(|| absolute.clone());
    if spec.into_directory && !metadata.is_dir() {
        if let Some(name) = absolute.file_name() {
            guest = guest.join(name);
        }
    }
    add_tree(tree, &path, &metadata, guest, &origin)
}

fn add_tree(
    tree: &mut Tree,
    path: &Path,
    metadata: &Metadata,
    guest: GuestPath,
    origin: &Origin,
) -> Result<()> {
    let Some(node) = node(path, metadata, origin)? else {
        bail!(
            "{origin}: {} is a socket, which an initramfs cannot hold",
            path.display()
        );
    };
    let is_dir = node.is_dir();
    tree.insert(guest.clone(), node)?;
    if !is_dir {
        return Ok(());
    }
    let unreadable = |e: io::Error| {
        anyhow::anyhow!(
            "{origin}: cannot read the directory {}: {}",
            path.display(),
            os_error_text(&e)
        )
    };
    let mut entries: Vec<_> = fs::read_dir(path)
        .map_err(unreadable)?
        .collect::<Result<_, _>>()
        .map_err(unreadable)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let child = entry.path();
        let metadata = fs::symlink_metadata(&child)
            .map_err(|e| anyhow::anyhow!("{origin}: {}: {}", child.display(), os_error_text(&e)))?;
        add_tree(
            tree,
            &child,
            &metadata,
            guest.join(entry.file_name().as_bytes()),
            origin,
        )?;
    }
    Ok(())
}

/// Adds the program at its guest path (its contents: what the host path points to).
pub fn add_program(tree: &mut Tree, program: &Program) -> Result<()> {
    let metadata = fs::metadata(&program.host)
        .with_context(|| format!("PROGRAM {}", program.name.to_string_lossy()))?;
    let node = node(&program.host, &metadata, &Origin::Program)?
        .filter(|n| matches!(n.kind, Kind::File(_)));
    match node {
        Some(node) => tree.insert_program(program.guest.clone(), node),
        None => bail!("{}: not a regular file", program.name.to_string_lossy()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_device_numbers_like_glibc() {
        for (major, minor) in [(1, 3), (259, 65536), (4095, 1 << 20)] {
            let dev = nix::sys::stat::makedev(major, minor);
            assert_eq!(
                (dev_major(dev), dev_minor(dev)),
                (major as u32, minor as u32)
            );
        }
    }
}
