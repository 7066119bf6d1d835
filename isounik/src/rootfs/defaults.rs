//! What every guest root has unless the user added their own: the mount points the kernel
//! uses, `/tmp`, root's home, and a few files under `/etc` that programs expect.

use anyhow::Result;

use super::tree::{Content, Kind, Node, Origin, Tree, DIR_MODE, GENERATED_MTIME, MOUNT_POINTS};
use crate::guest_path::GuestPath;

pub const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n";
pub const GROUP: &str = "root:x:0:\n";
pub const HOSTNAME: &str = "isounik\n";
pub const HOSTS: &str = "127.0.0.1 localhost\n::1 localhost\n";

/// The host's `/etc/localtime` if it is a readable TZif file.
pub fn host_localtime() -> Option<Vec<u8>> {
    std::fs::read("/etc/localtime")
        .ok()
        .filter(|data| data.starts_with(b"TZif"))
}

/// A minimal TZif (RFC 8536, version 2) file for UTC: one local time type, no transitions,
/// and the POSIX TZ footer `UTC0`.
pub fn utc_tzif() -> Vec<u8> {
    let mut header = Vec::with_capacity(44);
    header.extend_from_slice(b"TZif2");
    header.extend_from_slice(&[0; 15]);
    // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt.
    for count in [0u32, 0, 0, 0, 1, 4] {
        header.extend_from_slice(&count.to_be_bytes());
    }
    // One ttinfo (utoff 0, isdst 0, desigidx 0), then the designation "UTC".
    let body: &[u8] = &[0, 0, 0, 0, 0, 0, b'U', b'T', b'C', 0];
    let mut out = Vec::new();
    // Version 1 block, then the version 2 block (the same: no 64-bit transition times).
    for _ in 0..2 {
        out.extend_from_slice(&header);
        out.extend_from_slice(body);
    }
    out.extend_from_slice(b"\nUTC0\n");
    out
}

fn file(data: &[u8], perm: u32) -> Node {
    Node {
        kind: Kind::File(Content::Bytes(data.to_vec())),
        perm,
        mtime: GENERATED_MTIME,
        origin: Origin::Default,
    }
}

fn path(s: &str) -> GuestPath {
    GuestPath::new(s.as_bytes()).expect("absolute")
}

/// Adds the defaults to `tree` where the user put nothing. `/dev` and `/proc` must be
/// directories (the kernel mounts its own file systems there).
pub fn add(tree: &mut Tree, localtime: &[u8]) -> Result<()> {
    for mount_point in MOUNT_POINTS {
        tree.ensure_dir(
            path(mount_point),
            Origin::Default,
            " (the kernel mounts its own file system there)",
        )?;
    }
    tree.insert_default(path("/tmp"), Node::dir(0o1777, Origin::Default))?;
    tree.insert_default(path("/root"), Node::dir(0o700, Origin::Default))?;
    tree.insert_default(path("/etc"), Node::dir(DIR_MODE, Origin::Default))?;
    let files: [(&str, &[u8]); 5] = [
        ("/etc/passwd", PASSWD.as_bytes()),
        ("/etc/group", GROUP.as_bytes()),
        ("/etc/hostname", HOSTNAME.as_bytes()),
        ("/etc/hosts", HOSTS.as_bytes()),
        ("/etc/localtime", localtime),
    ];
    for (name, data) in files {
        tree.insert_default(path(name), file(data, 0o644))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_tzif_is_well_formed() {
        let tz = utc_tzif();
        assert_eq!(tz.len(), 2 * (44 + 6 + 4) + 6);
        assert!(tz.starts_with(b"TZif2"));
        assert_eq!(&tz[54..59], b"TZif2");
        // typecnt and charcnt of each header.
        for header in [0, 54] {
            assert_eq!(&tz[header + 36..header + 44], &[0, 0, 0, 1, 0, 0, 0, 4]);
        }
        assert!(tz.ends_with(b"\nUTC0\n"));
    }

    #[test]
    fn host_localtime_is_tzif_or_nothing() {
        if let Some(data) = host_localtime() {
            assert!(data.starts_with(b"TZif"));
        }
    }
}
