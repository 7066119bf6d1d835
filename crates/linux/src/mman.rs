//! Memory mapping: `PROT_*`, `MAP_*`, `MREMAP_*`, `MS_*`, `MCL_*`, `MADV_*`, `MFD_*`
//! (asm-generic/mman-common.h, asm-generic/mman.h, asm/mman.h for x86).

use crate::flags::{self, Names};
use alloc::string::String;
use core::fmt::Write;

pub const PROT_NONE: u32 = 0x0;
pub const PROT_READ: u32 = 0x1;
pub const PROT_WRITE: u32 = 0x2;
pub const PROT_EXEC: u32 = 0x4;
pub const PROT_SEM: u32 = 0x8;
pub const PROT_GROWSDOWN: u32 = 0x0100_0000;
pub const PROT_GROWSUP: u32 = 0x0200_0000;

pub const PROT_NAMES: Names = &[
    (PROT_READ as u64, "PROT_READ"),
    (PROT_WRITE as u64, "PROT_WRITE"),
    (PROT_EXEC as u64, "PROT_EXEC"),
    (PROT_SEM as u64, "PROT_SEM"),
    (PROT_GROWSDOWN as u64, "PROT_GROWSDOWN"),
    (PROT_GROWSUP as u64, "PROT_GROWSUP"),
];

/// `PROT_NONE`, `PROT_READ|PROT_WRITE`.
pub fn format_prot(prot: u64) -> String {
    if prot == 0 {
        String::from("PROT_NONE")
    } else {
        flags::flags_string(prot, PROT_NAMES)
    }
}

// ---- mmap flags ----
pub const MAP_TYPE: u32 = 0x0f;
pub const MAP_SHARED: u32 = 0x01;
pub const MAP_PRIVATE: u32 = 0x02;
pub const MAP_SHARED_VALIDATE: u32 = 0x03;
pub const MAP_DROPPABLE: u32 = 0x08;
pub const MAP_FIXED: u32 = 0x10;
pub const MAP_ANONYMOUS: u32 = 0x20;
pub const MAP_ANON: u32 = MAP_ANONYMOUS;
/// x86: map in the low 2 GiB.
pub const MAP_32BIT: u32 = 0x40;
/// x86: only map above 4 GiB.
pub const MAP_ABOVE4G: u32 = 0x80;
pub const MAP_GROWSDOWN: u32 = 0x0100;
pub const MAP_DENYWRITE: u32 = 0x0800;
pub const MAP_EXECUTABLE: u32 = 0x1000;
pub const MAP_LOCKED: u32 = 0x2000;
pub const MAP_NORESERVE: u32 = 0x4000;
pub const MAP_POPULATE: u32 = 0x008000;
pub const MAP_NONBLOCK: u32 = 0x010000;
pub const MAP_STACK: u32 = 0x020000;
pub const MAP_HUGETLB: u32 = 0x040000;
pub const MAP_SYNC: u32 = 0x080000;
pub const MAP_FIXED_NOREPLACE: u32 = 0x100000;
pub const MAP_UNINITIALIZED: u32 = 0x4000000;
pub const MAP_HUGE_SHIFT: u32 = 26;
pub const MAP_HUGE_MASK: u32 = 0x3f;

/// The sharing types (low nibble).
pub const MAP_TYPE_NAMES: Names = &[
    (0, "MAP_FILE"),
    (MAP_SHARED as u64, "MAP_SHARED"),
    (MAP_PRIVATE as u64, "MAP_PRIVATE"),
    (MAP_SHARED_VALIDATE as u64, "MAP_SHARED_VALIDATE"),
    (MAP_DROPPABLE as u64, "MAP_DROPPABLE"),
];

/// The other mmap flags, in strace's order.
pub const MAP_FLAG_NAMES: Names = &[
    (MAP_FIXED as u64, "MAP_FIXED"),
    (MAP_ANONYMOUS as u64, "MAP_ANONYMOUS"),
    (MAP_32BIT as u64, "MAP_32BIT"),
    (MAP_ABOVE4G as u64, "MAP_ABOVE4G"),
    (MAP_NORESERVE as u64, "MAP_NORESERVE"),
    (MAP_POPULATE as u64, "MAP_POPULATE"),
    (MAP_NONBLOCK as u64, "MAP_NONBLOCK"),
    (MAP_GROWSDOWN as u64, "MAP_GROWSDOWN"),
    (MAP_DENYWRITE as u64, "MAP_DENYWRITE"),
    (MAP_EXECUTABLE as u64, "MAP_EXECUTABLE"),
    (MAP_LOCKED as u64, "MAP_LOCKED"),
    (MAP_STACK as u64, "MAP_STACK"),
    (MAP_HUGETLB as u64, "MAP_HUGETLB"),
    (MAP_SYNC as u64, "MAP_SYNC"),
    (MAP_UNINITIALIZED as u64, "MAP_UNINITIALIZED"),
    (MAP_FIXED_NOREPLACE as u64, "MAP_FIXED_NOREPLACE"),
];

/// `MAP_PRIVATE|MAP_ANONYMOUS`, `MAP_SHARED|MAP_FIXED|0x80000000`,
/// `MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|21<<MAP_HUGE_SHIFT`.
pub fn format_mmap_flags(flags: u64) -> String {
    let mut s = String::new();
    let ty = flags & MAP_TYPE as u64;
    flags::write_enum(&mut s, ty, MAP_TYPE_NAMES, "MAP_???");
    let mut rest = flags & !(MAP_TYPE as u64);
    // The page size bits only mean something with MAP_HUGETLB.
    let mut huge = 0;
    if rest & MAP_HUGETLB as u64 != 0 {
        huge = (rest >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK as u64;
        rest &= !((MAP_HUGE_MASK as u64) << MAP_HUGE_SHIFT);
    }
    if rest != 0 {
        s.push('|');
        flags::write_flags(&mut s, rest, MAP_FLAG_NAMES);
    }
    if huge != 0 {
        let _ = write!(s, "|{huge}<<MAP_HUGE_SHIFT");
    }
    s
}

// ---- mremap ----
pub const MREMAP_MAYMOVE: u32 = 1;
pub const MREMAP_FIXED: u32 = 2;
pub const MREMAP_DONTUNMAP: u32 = 4;
pub const MREMAP_NAMES: Names = &[
    (MREMAP_MAYMOVE as u64, "MREMAP_MAYMOVE"),
    (MREMAP_FIXED as u64, "MREMAP_FIXED"),
    (MREMAP_DONTUNMAP as u64, "MREMAP_DONTUNMAP"),
];

// ---- msync ----
pub const MS_ASYNC: u32 = 1;
pub const MS_INVALIDATE: u32 = 2;
pub const MS_SYNC: u32 = 4;
pub const MSYNC_NAMES: Names = &[
    (MS_ASYNC as u64, "MS_ASYNC"),
    (MS_INVALIDATE as u64, "MS_INVALIDATE"),
    (MS_SYNC as u64, "MS_SYNC"),
];

// ---- mlockall / mlock2 ----
pub const MCL_CURRENT: u32 = 1;
pub const MCL_FUTURE: u32 = 2;
pub const MCL_ONFAULT: u32 = 4;
pub const MLOCK_ONFAULT: u32 = 0x01;

// ---- madvise ----
pub const MADV_NORMAL: u32 = 0;
pub const MADV_RANDOM: u32 = 1;
pub const MADV_SEQUENTIAL: u32 = 2;
pub const MADV_WILLNEED: u32 = 3;
pub const MADV_DONTNEED: u32 = 4;
pub const MADV_FREE: u32 = 8;
pub const MADV_REMOVE: u32 = 9;
pub const MADV_DONTFORK: u32 = 10;
pub const MADV_DOFORK: u32 = 11;
pub const MADV_MERGEABLE: u32 = 12;
pub const MADV_UNMERGEABLE: u32 = 13;
pub const MADV_HUGEPAGE: u32 = 14;
pub const MADV_NOHUGEPAGE: u32 = 15;
pub const MADV_DONTDUMP: u32 = 16;
pub const MADV_DODUMP: u32 = 17;
pub const MADV_WIPEONFORK: u32 = 18;
pub const MADV_KEEPONFORK: u32 = 19;
pub const MADV_COLD: u32 = 20;
pub const MADV_PAGEOUT: u32 = 21;
pub const MADV_POPULATE_READ: u32 = 22;
pub const MADV_POPULATE_WRITE: u32 = 23;
pub const MADV_DONTNEED_LOCKED: u32 = 24;
pub const MADV_COLLAPSE: u32 = 25;
pub const MADV_HWPOISON: u32 = 100;
pub const MADV_SOFT_OFFLINE: u32 = 101;
pub const MADV_GUARD_INSTALL: u32 = 102;
pub const MADV_GUARD_REMOVE: u32 = 103;

pub const MADV_NAMES: Names = &[
    (0, "MADV_NORMAL"),
    (1, "MADV_RANDOM"),
    (2, "MADV_SEQUENTIAL"),
    (3, "MADV_WILLNEED"),
    (4, "MADV_DONTNEED"),
    (8, "MADV_FREE"),
    (9, "MADV_REMOVE"),
    (10, "MADV_DONTFORK"),
    (11, "MADV_DOFORK"),
    (12, "MADV_MERGEABLE"),
    (13, "MADV_UNMERGEABLE"),
    (14, "MADV_HUGEPAGE"),
    (15, "MADV_NOHUGEPAGE"),
    (16, "MADV_DONTDUMP"),
    (17, "MADV_DODUMP"),
    (18, "MADV_WIPEONFORK"),
    (19, "MADV_KEEPONFORK"),
    (20, "MADV_COLD"),
    (21, "MADV_PAGEOUT"),
    (22, "MADV_POPULATE_READ"),
    (23, "MADV_POPULATE_WRITE"),
    (24, "MADV_DONTNEED_LOCKED"),
    (25, "MADV_COLLAPSE"),
    (100, "MADV_HWPOISON"),
    (101, "MADV_SOFT_OFFLINE"),
    (102, "MADV_GUARD_INSTALL"),
    (103, "MADV_GUARD_REMOVE"),
];

// ---- memfd_create (linux/memfd.h) ----
pub const MFD_CLOEXEC: u32 = 0x0001;
pub const MFD_ALLOW_SEALING: u32 = 0x0002;
pub const MFD_HUGETLB: u32 = 0x0004;
pub const MFD_NOEXEC_SEAL: u32 = 0x0008;
pub const MFD_EXEC: u32 = 0x0010;
pub const MFD_NAMES: Names = &[
    (MFD_CLOEXEC as u64, "MFD_CLOEXEC"),
    (MFD_ALLOW_SEALING as u64, "MFD_ALLOW_SEALING"),
    (MFD_HUGETLB as u64, "MFD_HUGETLB"),
    (MFD_NOEXEC_SEAL as u64, "MFD_NOEXEC_SEAL"),
    (MFD_EXEC as u64, "MFD_EXEC"),
];

// ---- protection keys ----
pub const PKEY_DISABLE_ACCESS: u32 = 0x1;
pub const PKEY_DISABLE_WRITE: u32 = 0x2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding() {
        assert_eq!(format_prot(0), "PROT_NONE");
        assert_eq!(format_prot(3), "PROT_READ|PROT_WRITE");
        assert_eq!(format_prot(5), "PROT_READ|PROT_EXEC");
        assert_eq!(format_prot(0x11), "PROT_READ|0x10");
        assert_eq!(format_mmap_flags(0x22), "MAP_PRIVATE|MAP_ANONYMOUS");
        assert_eq!(
            format_mmap_flags(0x812),
            "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE"
        );
        assert_eq!(
            format_mmap_flags(0x20022),
            "MAP_PRIVATE|MAP_ANONYMOUS|MAP_STACK"
        );
        assert_eq!(
            format_mmap_flags(0x100022),
            "MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE"
        );
        assert_eq!(format_mmap_flags(3), "MAP_SHARED_VALIDATE");
        assert_eq!(format_mmap_flags(0x8000_0001), "MAP_SHARED|0x80000000");
        assert_eq!(
            format_mmap_flags(0x5404_0022),
            "MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|21<<MAP_HUGE_SHIFT"
        );
        assert_eq!(format_mmap_flags(0x5), "0x5 /* MAP_??? */");
    }
}
