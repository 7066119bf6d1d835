//! `futex` operations and flags (linux/futex.h).

use crate::flags::Names;
use alloc::string::String;
use core::fmt::Write;

pub const FUTEX_WAIT: u32 = 0;
pub const FUTEX_WAKE: u32 = 1;
pub const FUTEX_FD: u32 = 2;
pub const FUTEX_REQUEUE: u32 = 3;
pub const FUTEX_CMP_REQUEUE: u32 = 4;
pub const FUTEX_WAKE_OP: u32 = 5;
pub const FUTEX_LOCK_PI: u32 = 6;
pub const FUTEX_UNLOCK_PI: u32 = 7;
pub const FUTEX_TRYLOCK_PI: u32 = 8;
pub const FUTEX_WAIT_BITSET: u32 = 9;
pub const FUTEX_WAKE_BITSET: u32 = 10;
pub const FUTEX_WAIT_REQUEUE_PI: u32 = 11;
pub const FUTEX_CMP_REQUEUE_PI: u32 = 12;
pub const FUTEX_LOCK_PI2: u32 = 13;

pub const FUTEX_PRIVATE_FLAG: u32 = 128;
pub const FUTEX_CLOCK_REALTIME: u32 = 256;
/// The command part of the op word.
pub const FUTEX_CMD_MASK: u32 = !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);

/// `FUTEX_WAIT_BITSET` with this bitset behaves like `FUTEX_WAIT`.
pub const FUTEX_BITSET_MATCH_ANY: u32 = 0xffff_ffff;

/// Robust-futex / PI word bits.
pub const FUTEX_WAITERS: u32 = 0x8000_0000;
pub const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
pub const FUTEX_TID_MASK: u32 = 0x3fff_ffff;

/// `FUTEX_WAKE_OP` encoding: `op` and `cmp` fields of `val3`.
pub const FUTEX_OP_SET: u32 = 0;
pub const FUTEX_OP_ADD: u32 = 1;
pub const FUTEX_OP_OR: u32 = 2;
pub const FUTEX_OP_ANDN: u32 = 3;
pub const FUTEX_OP_XOR: u32 = 4;
pub const FUTEX_OP_OPARG_SHIFT: u32 = 8;
pub const FUTEX_OP_CMP_EQ: u32 = 0;
pub const FUTEX_OP_CMP_NE: u32 = 1;
pub const FUTEX_OP_CMP_LT: u32 = 2;
pub const FUTEX_OP_CMP_LE: u32 = 3;
pub const FUTEX_OP_CMP_GT: u32 = 4;
pub const FUTEX_OP_CMP_GE: u32 = 5;

/// futex2 (`futex_waitv`, `futex_wait`, `futex_wake`) flags.
pub const FUTEX2_SIZE_U8: u32 = 0x00;
pub const FUTEX2_SIZE_U16: u32 = 0x01;
pub const FUTEX2_SIZE_U32: u32 = 0x02;
pub const FUTEX2_SIZE_U64: u32 = 0x03;
pub const FUTEX2_NUMA: u32 = 0x04;
pub const FUTEX2_MPOL: u32 = 0x08;
pub const FUTEX2_PRIVATE: u32 = FUTEX_PRIVATE_FLAG;
pub const FUTEX_WAITV_MAX: u32 = 128;

/// `struct robust_list_head` size (set_robust_list's `len`).
pub const ROBUST_LIST_HEAD_SIZE: usize = 24;

pub const FUTEX_CMD_NAMES: Names = &[
    (0, "FUTEX_WAIT"),
    (1, "FUTEX_WAKE"),
    (2, "FUTEX_FD"),
    (3, "FUTEX_REQUEUE"),
    (4, "FUTEX_CMP_REQUEUE"),
    (5, "FUTEX_WAKE_OP"),
    (6, "FUTEX_LOCK_PI"),
    (7, "FUTEX_UNLOCK_PI"),
    (8, "FUTEX_TRYLOCK_PI"),
    (9, "FUTEX_WAIT_BITSET"),
    (10, "FUTEX_WAKE_BITSET"),
    (11, "FUTEX_WAIT_REQUEUE_PI"),
    (12, "FUTEX_CMP_REQUEUE_PI"),
    (13, "FUTEX_LOCK_PI2"),
];

/// `FUTEX_WAIT_PRIVATE`, `FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME`.
pub fn format_op(op: u64) -> String {
    let op = op as u32;
    let cmd = op & 127;
    let mut s = String::new();
    match crate::flags::lookup(cmd as u64, FUTEX_CMD_NAMES) {
        Some(n) => {
            s.push_str(n);
            if op & FUTEX_PRIVATE_FLAG != 0 {
                s.push_str("_PRIVATE");
            }
            if op & FUTEX_CLOCK_REALTIME != 0 {
                s.push_str("|FUTEX_CLOCK_REALTIME");
            }
            let rest = op & !(127 | FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
            if rest != 0 {
                let _ = write!(s, "|{rest:#x}");
            }
        }
        None => {
            let _ = write!(s, "{op:#x} /* FUTEX_??? */");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops() {
        assert_eq!(format_op(0x80), "FUTEX_WAIT_PRIVATE");
        assert_eq!(format_op(0x81), "FUTEX_WAKE_PRIVATE");
        assert_eq!(format_op(1), "FUTEX_WAKE");
        assert_eq!(
            format_op(0x189),
            "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME"
        );
        assert_eq!(format_op(0x7f), "0x7f /* FUTEX_??? */");
        assert_eq!(FUTEX_CMD_MASK & 0x189, 9);
    }
}
