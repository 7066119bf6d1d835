//! `struct clone_args` (`clone3`, linux/sched.h).

use super::le::*;
use crate::errno::{Errno, Result};
use crate::sched::{CLONE_ARGS_SIZE_VER0, CLONE_ARGS_SIZE_VER2};

/// `struct clone_args`: eleven u64 fields, 88 bytes (64 in the first version, 80 with
/// `set_tid`, 88 with `cgroup`). Missing trailing fields of an older, shorter structure
/// read as zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CloneArgs {
    pub flags: u64,
    /// Where to store the pidfd (`CLONE_PIDFD`).
    pub pidfd: u64,
    /// `CLONE_CHILD_SETTID`/`CLONE_CHILD_CLEARTID` address.
    pub child_tid: u64,
    /// `CLONE_PARENT_SETTID` address.
    pub parent_tid: u64,
    /// Signal to the parent on exit (not in `flags` as with `clone`).
    pub exit_signal: u64,
    /// Lowest address of the child's stack (not its top, unlike `clone`).
    pub stack: u64,
    pub stack_size: u64,
    /// `CLONE_SETTLS`: the new FS base.
    pub tls: u64,
    pub set_tid: u64,
    pub set_tid_size: u64,
    pub cgroup: u64,
}

impl CloneArgs {
    pub const SIZE: usize = CLONE_ARGS_SIZE_VER2;
    /// The most `clone3` accepts (a page); beyond 88 bytes the tail must be zero.
    pub const MAX_SIZE: usize = 4096;

    /// The top of the child's stack (`stack + stack_size`), 0 when no stack was given.
    pub const fn stack_top(&self) -> u64 {
        if self.stack == 0 {
            0
        } else {
            self.stack.wrapping_add(self.stack_size)
        }
    }

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        for (i, v) in self.fields().into_iter().enumerate() {
            put_u64(&mut b, i * 8, v);
        }
        b
    }

    fn fields(&self) -> [u64; 11] {
        [
            self.flags,
            self.pidfd,
            self.child_tid,
            self.parent_tid,
            self.exit_signal,
            self.stack,
            self.stack_size,
            self.tls,
            self.set_tid,
            self.set_tid_size,
            self.cgroup,
        ]
    }

    /// [`CloneArgs::parse`] without the error kind.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        Self::parse(b).ok()
    }

    /// Parses the structure `clone3` was given (`b` is the `size` bytes the program
    /// passed), as `copy_clone_args_from_user` does: `EINVAL` if shorter than 64 bytes,
    /// `E2BIG` if longer than a page or if bytes past 88 are not zero.
    pub fn parse(b: &[u8]) -> Result<Self> {
        if b.len() < CLONE_ARGS_SIZE_VER0 {
            return Err(Errno::EINVAL);
        }
        if b.len() > Self::MAX_SIZE {
            return Err(Errno::E2BIG);
        }
        if b.len() > Self::SIZE && b[Self::SIZE..].iter().any(|&x| x != 0) {
            return Err(Errno::E2BIG);
        }
        let mut full = [0u8; Self::SIZE];
        let n = b.len().min(Self::SIZE);
        full[..n].copy_from_slice(&b[..n]);
        let f = |i: usize| get_u64(&full, i * 8);
        Ok(CloneArgs {
            flags: f(0),
            pidfd: f(1),
            child_tid: f(2),
            parent_tid: f(3),
            exit_signal: f(4),
            stack: f(5),
            stack_size: f(6),
            tls: f(7),
            set_tid: f(8),
            set_tid_size: f(9),
            cgroup: f(10),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structs::testutil::rd;

    #[test]
    fn layout_and_versions() {
        let a = CloneArgs {
            flags: 0x1,
            pidfd: 0x2,
            child_tid: 0x3,
            parent_tid: 0x4,
            exit_signal: 17,
            stack: 0x6,
            stack_size: 0x7,
            tls: 0x8,
            set_tid: 0x9,
            set_tid_size: 0xa,
            cgroup: 0xb,
        };
        let b = a.to_bytes();
        assert_eq!(b.len(), 88);
        for (i, v) in [1, 2, 3, 4, 17, 6, 7, 8, 9, 10, 11].into_iter().enumerate() {
            assert_eq!(rd(&b, i * 8, 8), v);
        }
        assert_eq!(CloneArgs::parse(&b), Ok(a));
        // Version 0: 64 bytes, set_tid/set_tid_size/cgroup read as zero.
        let v0 = CloneArgs::parse(&b[..64]).unwrap();
        assert_eq!(
            (v0.tls, v0.set_tid, v0.set_tid_size, v0.cgroup),
            (8, 0, 0, 0)
        );
        assert_eq!(CloneArgs::parse(&b[..63]), Err(Errno::EINVAL));
        let mut big = b.to_vec();
        big.extend_from_slice(&[0; 16]);
        assert_eq!(CloneArgs::parse(&big), Ok(a));
        big[100] = 1;
        assert_eq!(CloneArgs::parse(&big), Err(Errno::E2BIG));
        assert_eq!(CloneArgs::from_bytes(&big), None);
        assert_eq!(CloneArgs::parse(&[0; 4097]), Err(Errno::E2BIG));
        assert_eq!(
            CloneArgs {
                stack: 0x1000,
                stack_size: 0x2000,
                ..a
            }
            .stack_top(),
            0x3000
        );
    }
}
