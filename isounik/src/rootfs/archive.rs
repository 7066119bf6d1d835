//! The tree as a cpio newc archive (the initramfs), and back into a directory
//! (`isounik build --rootfs`).
//!
//! Layout: the boot directory (`abi::initramfs::BOOT_DIR`) first, then the tree in byte
//! order of path, so every directory precedes its contents. Inode numbers count up from 1 in
//! that order. A host file added at several guest paths is one inode with several names:
//! every name carries the same inode number and `nlink`, and the data travels with the
//! first name only (the others have size 0), which the Linux unpacker, GNU cpio and
//! busybox cpio all accept. Directories have `nlink` 2 + their subdirectories.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use isounik_abi::initramfs;
use isounik_cpio::{mode, Meta, Reader, Writer};
use nix::sys::stat::{utimensat, UtimensatFlags};
use nix::sys::time::TimeSpec;

use super::tree::{Content, FileId, Kind, Tree, DIR_MODE, GENERATED_MTIME};
use crate::launch::os_error_text;

/// The `.isounik` files (`abi::initramfs`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BootFiles {
    pub argv: Vec<u8>,
    pub env: Vec<u8>,
    pub cwd: Option<Vec<u8>>,
}

/// Largest file a newc header can describe.
const MAX_FILE: u64 = u32::MAX as u64;

struct Links {
    ino: u32,
    count: u32,
    written: bool,
}

/// Writes the archive. Host files are read now.
pub fn write(tree: &Tree, boot: &BootFiles) -> Result<Vec<u8>> {
    let mut writer = Writer::new();
    let mut next_ino = 0u32;
    let mut fresh_ino = || {
        next_ino += 1;
        next_ino
    };
    let meta = |mode: u32, ino: u32| Meta {
        mtime: GENERATED_MTIME,
        ino,
        ..Meta::new(mode)
    };

    writer.add(
        initramfs::BOOT_DIR.as_bytes(),
        Meta {
            nlink: 2,
            ..meta(mode::DIRECTORY | 0o755, fresh_ino())
        },
        b"",
    );
    let mut boot_files = vec![
        (initramfs::ARGV, boot.argv.as_slice()),
        (initramfs::ENV, boot.env.as_slice()),
    ];
    if let Some(cwd) = &boot.cwd {
        boot_files.push((initramfs::CWD, cwd.as_slice()));
    }
    boot_files.sort();
    for (name, data) in boot_files {
        writer.add(
            name.as_bytes(),
            meta(mode::REGULAR | 0o644, fresh_ino()),
            data,
        );
    }

    // Hard-link groups: host files by device and inode.
    let mut links: HashMap<FileId, Links> = HashMap::new();
    for (_, node) in tree.iter() {
        if let Kind::File(Content::Host { id, .. }) = &node.kind {
            links
                .entry(*id)
                .or_insert_with(|| Links {
                    ino: 0,
                    count: 0,
                    written: false,
                })
                .count += 1;
        }
    }
    let subdirs = tree.subdir_counts();

    for (path, node) in tree.iter() {
        let name = path.archive_name();
        let mut meta = Meta {
            mtime: node.mtime,
            ..Meta::new(node.perm)
        };
        match &node.kind {
            Kind::Dir => {
                meta.mode |= mode::DIRECTORY;
                meta.nlink = 2 + subdirs.get(path).copied().unwrap_or(0);
                meta.ino = fresh_ino();
                writer.add(name, meta, b"");
            }
            Kind::File(Content::Bytes(data)) => {
                meta.mode |= mode::REGULAR;
                meta.ino = fresh_ino();
                writer.add(name, meta, data);
            }
            Kind::File(Content::Host { path: host, id }) => {
                meta.mode |= mode::REGULAR;
                let group = links.get_mut(id).expect("counted above");
                if group.ino == 0 {
                    group.ino = fresh_ino();
                }
                meta.ino = group.ino;
                meta.nlink = group.count;
                if group.written {
                    writer.add(name, meta, b"");
                } else {
                    group.written = true;
                    let data = read_host_file(host)?;
                    writer.add(name, meta, &data);
                }
            }
            Kind::Symlink(target) => {
                meta.mode |= mode::SYMLINK;
                meta.ino = fresh_ino();
                writer.add(name, meta, target);
            }
            Kind::Fifo => {
                meta.mode |= mode::FIFO;
                meta.ino = fresh_ino();
                writer.add(name, meta, b"");
            }
            Kind::CharDevice { major, minor } | Kind::BlockDevice { major, minor } => {
                meta.mode |= if matches!(node.kind, Kind::CharDevice { .. }) {
                    mode::CHAR_DEVICE
                } else {
                    mode::BLOCK_DEVICE
                };
                meta.rdev_major = *major;
                meta.rdev_minor = *minor;
                meta.ino = fresh_ino();
                writer.add(name, meta, b"");
            }
        }
    }
    Ok(writer.finish())
}

fn read_host_file(path: &Path) -> Result<Vec<u8>> {
    let size = fs::metadata(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {}", path.display(), os_error_text(&e)))?
        .len();
    if size > MAX_FILE {
        bail!(
            "{} is {size} bytes; a cpio newc archive holds files up to 4 GiB",
            path.display()
        );
    }
    let data = fs::read(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {}", path.display(), os_error_text(&e)))?;
    if data.len() as u64 > MAX_FILE {
        bail!("{} grew beyond 4 GiB while being read", path.display());
    }
    Ok(data)
}

/// Whether an archive name is in the boot directory (which the kernel removes at boot).
pub fn is_boot_entry(name: &[u8]) -> bool {
    name == initramfs::BOOT_DIR.as_bytes()
        || name.starts_with(format!("{}/", initramfs::BOOT_DIR).as_bytes())
}

/// A safe relative path for an archive name: no empty, `.` or `..` components.
fn relative_path(name: &[u8]) -> Option<PathBuf> {
    let valid = !name.is_empty()
        && !name.starts_with(b"/")
        && name
            .split(|&b| b == b'/')
            .all(|c| !c.is_empty() && c != b"." && c != b"..");
    valid.then(|| PathBuf::from(OsStr::from_bytes(name)))
}

fn set_mtime(path: &Path, mtime: u32) -> nix::Result<()> {
    let time = TimeSpec::new(mtime as i64, 0);
    utimensat(
        nix::fcntl::AT_FDCWD,
        path,
        &time,
        &time,
        UtimensatFlags::NoFollowSymlink,
    )
}

/// Unpacks `archive` into `dir` (which must be empty or absent) without the boot
/// directory, as the guest sees its root: modes, mtimes, symlinks, hard links, FIFOs and
/// device nodes; owners too when running as root. The root directory gets mode 0755 and the
/// generated mtime.
pub fn extract(archive: &[u8], dir: &Path) -> Result<()> {
    match fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!("--rootfs {}: the directory is not empty", dir.display());
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => fs::create_dir_all(dir)
            .with_context(|| format!("--rootfs {}: cannot create it", dir.display()))?,
        Err(e) => bail!("--rootfs {}: {}", dir.display(), os_error_text(&e)),
    }
    let as_root = nix::unistd::geteuid().is_root();
    let mut first_names: HashMap<u32, PathBuf> = HashMap::new();
    let mut dirs: Vec<(PathBuf, u32, u32)> = Vec::new();

    for entry in Reader::new(archive) {
        let entry = entry.map_err(|e| anyhow::anyhow!("malformed archive: {e}"))?;
        if is_boot_entry(entry.name) {
            continue;
        }
        let Some(relative) = relative_path(entry.name) else {
            bail!(
                "archive entry {:?} is not a safe relative path",
                String::from_utf8_lossy(entry.name)
            );
        };
        let path = dir.join(&relative);
        let perm = entry.mode & 0o7777;
        let failed = |what: &str, e: std::io::Error| {
            anyhow::anyhow!("cannot {what} {}: {}", path.display(), os_error_text(&e))
        };
        match entry.mode & mode::TYPE_MASK {
            mode::DIRECTORY => {
                match fs::create_dir(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && path.is_dir() => {}
                    Err(e) => return Err(failed("create the directory", e)),
                }
                dirs.push((path.clone(), perm, entry.mtime));
            }
            mode::REGULAR => {
                let linked = entry.nlink > 1 && first_names.contains_key(&entry.ino);
                if linked {
                    fs::hard_link(&first_names[&entry.ino], &path)
                        .map_err(|e| failed("link", e))?;
                } else {
                    first_names.insert(entry.ino, path.clone());
                }
                let mut file = fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(!linked)
                    .mode(0o600)
                    .open(&path)
                    .map_err(|e| failed("create", e))?;
                file.write_all(entry.data).map_err(|e| failed("write", e))?;
                fs::set_permissions(&path, fs::Permissions::from_mode(perm))
                    .map_err(|e| failed("chmod", e))?;
            }
            mode::SYMLINK => {
                std::os::unix::fs::symlink(OsStr::from_bytes(entry.data), &path)
                    .map_err(|e| failed("create the symlink", e))?;
            }
            kind @ (mode::FIFO | mode::CHAR_DEVICE | mode::BLOCK_DEVICE) => {
                use nix::sys::stat::{makedev, mknod, Mode, SFlag};
                let flag = match kind {
                    mode::FIFO => SFlag::S_IFIFO,
                    mode::CHAR_DEVICE => SFlag::S_IFCHR,
                    _ => SFlag::S_IFBLK,
                };
                let dev = makedev(entry.rdev_major as u64, entry.rdev_minor as u64);
                mknod(&path, flag, Mode::from_bits_truncate(perm), dev)
                    .map_err(|e| failed("create", std::io::Error::from(e)))?;
                fs::set_permissions(&path, fs::Permissions::from_mode(perm))
                    .map_err(|e| failed("chmod", e))?;
            }
            other => bail!(
                "archive entry {} has an unsupported file type {other:#o}",
                relative.display()
            ),
        }
        if as_root {
            std::os::unix::fs::lchown(&path, Some(entry.uid), Some(entry.gid))
                .map_err(|e| failed("chown", e))?;
        }
        if entry.mode & mode::TYPE_MASK != mode::DIRECTORY {
            set_mtime(&path, entry.mtime)
                .map_err(|e| failed("set the mtime of", std::io::Error::from(e)))?;
        }
    }

    // Directories last, innermost first: creating their contents changed their mtimes, and
    // a read-only directory must be filled before it becomes read-only.
    dirs.insert(0, (dir.to_path_buf(), DIR_MODE, GENERATED_MTIME));
    for (path, perm, mtime) in dirs.iter().rev() {
        fs::set_permissions(path, fs::Permissions::from_mode(*perm))
            .with_context(|| format!("cannot chmod {}", path.display()))?;
        if as_root && path == dir {
            std::os::unix::fs::lchown(path, Some(0), Some(0))
                .with_context(|| format!("cannot chown {}", path.display()))?;
        }
        set_mtime(path, *mtime)
            .with_context(|| format!("cannot set the mtime of {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_entries_and_safe_names() {
        assert!(is_boot_entry(b".isounik"));
        assert!(is_boot_entry(b".isounik/argv"));
        assert!(!is_boot_entry(b".isounikx"));
        assert!(relative_path(b"a/b").is_some());
        for bad in [&b""[..], b"/a", b"a/../b", b"./a", b"a//b", b".."] {
            assert!(
                relative_path(bad).is_none(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
