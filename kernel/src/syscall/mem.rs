//! brk, mmap, munmap, mprotect, mremap, madvise.

use isounik_abi::layout::{PAGE_SIZE, USER_END};
use isounik_linux::errno::Errno;

use super::{Args, SysResult};
use crate::mm::vm::{Backing, Prot, Vma, VmaName, MMAP_MIN_ADDR, MMAP_TOP};
use crate::proc::Thread;

const PROT_ALL: u64 = 0x7;
const MAP_SHARED: u64 = 0x01;
const MAP_PRIVATE: u64 = 0x02;
const MAP_SHARED_VALIDATE: u64 = 0x03;
const MAP_TYPE: u64 = 0x0f;
const MAP_FIXED: u64 = 0x10;
const MAP_ANONYMOUS: u64 = 0x20;
const MAP_FIXED_NOREPLACE: u64 = 0x100000;
const MREMAP_MAYMOVE: u64 = 1;
const MREMAP_FIXED: u64 = 2;

fn page_aligned(x: u64) -> bool {
    x.is_multiple_of(PAGE_SIZE)
}

/// Rounds a length up to pages; EINVAL for 0, ENOMEM when it cannot fit in user memory.
fn page_len(len: u64) -> Result<u64, Errno> {
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    len.checked_add(PAGE_SIZE - 1)
        .map(|l| l & !(PAGE_SIZE - 1))
        .filter(|l| *l <= USER_END)
        .ok_or(Errno::ENOMEM)
}

pub fn sys_brk(p: &mut Thread, a: Args) -> SysResult {
    Ok(p.mm().set_brk(a.ptr(0)))
}

pub fn sys_mmap(p: &mut Thread, a: Args) -> SysResult {
    let (addr, len, prot, flags, offset) = (a.ptr(0), a.raw(1), a.raw(2), a.raw(3), a.raw(5));
    if prot & !PROT_ALL & !0x0300_0000 != 0 {
        return Err(Errno::EINVAL); // unknown bits (PROT_GROWSDOWN/UP are accepted and ignored)
    }
    let len = page_len(len)?;
    // W^X: no mapping is ever writable and executable at once.
    if prot & 2 != 0 && prot & 4 != 0 {
        return Err(Errno::EPERM);
    }
    match flags & MAP_TYPE {
        MAP_PRIVATE => {}
        MAP_SHARED | MAP_SHARED_VALIDATE => {}
        _ => return Err(Errno::EINVAL),
    }
    // Like Linux's heuristic overcommit: a request larger than all free memory is refused
    // at once (ENOMEM) instead of failing page by page later.
    if len / PAGE_SIZE > crate::mm::stats().free_frames as u64 + (1 << 18) {
        return Err(Errno::ENOMEM);
    }
    let backing = if flags & MAP_ANONYMOUS != 0 {
        Backing::Anonymous
    } else {
        if !page_aligned(offset) {
            return Err(Errno::EINVAL);
        }
        let file = p
            .files()
            .get(a.fd(4)?)?
            .mappable_file(prot & 2 != 0 && flags & MAP_TYPE != MAP_PRIVATE)?;
        let file_bytes = file.size().saturating_sub(offset).min(len);
        // Code mapped from a file is scanned like code loaded by exec (W^X, no WRPKRU).
        if prot & 4 != 0
            && crate::mm::scan::find_wrpkru_in_file(&file, offset, file_bytes)?.is_some()
        {
            return Err(Errno::EPERM);
        }
        Backing::File {
            file,
            offset,
            file_bytes,
        }
    };
    let name = match &backing {
        Backing::File { file, .. } => VmaName::Path(file.path()),
        Backing::Anonymous => VmaName::None,
    };
    let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    let start = if fixed {
        if !page_aligned(addr) || addr < MMAP_MIN_ADDR {
            return Err(if addr < MMAP_MIN_ADDR {
                Errno::EPERM
            } else {
                Errno::EINVAL
            });
        }
        let end = addr
            .checked_add(len)
            .filter(|e| *e <= USER_END)
            .ok_or(Errno::ENOMEM)?;
        if flags & MAP_FIXED_NOREPLACE != 0 && p.mm().vmas().any(|v| v.start < end && addr < v.end)
        {
            return Err(Errno::EEXIST);
        }
        p.mm().unmap_range(addr, end);
        addr
    } else {
        // A hint is honoured when that range is free.
        let hint = addr & !(PAGE_SIZE - 1);
        let hint_free = hint >= MMAP_MIN_ADDR
            && hint.checked_add(len).is_some_and(|e| e <= MMAP_TOP)
            && !p.mm().vmas().any(|v| v.start < hint + len && hint < v.end);
        if hint != 0 && hint_free {
            hint
        } else {
            p.mm().find_free(len, MMAP_TOP).ok_or(Errno::ENOMEM)?
        }
    };
    let shared = flags & MAP_TYPE != MAP_PRIVATE;
    let mut mm = p.mm();
    mm.insert(Vma {
        start,
        end: start + len,
        prot: Prot::from_linux(prot),
        backing,
        name,
        shared,
    })?;
    if shared && flags & MAP_ANONYMOUS != 0 {
        // Shared anonymous memory exists from the start, so that a fork shares the very
        // same pages (not fresh zero pages faulted in on each side).
        let mut va = start;
        while va < start + len {
            if let Err(e) = mm.handle_fault(va, crate::mm::vm::Access::Write) {
                mm.unmap_range(start, start + len);
                return Err(if e == crate::mm::vm::FaultError::NoMemory {
                    Errno::ENOMEM
                } else {
                    Errno::EACCES
                });
            }
            va += PAGE_SIZE;
        }
    }
    Ok(start)
}

fn user_range(addr: u64, len: u64) -> Result<(u64, u64), Errno> {
    if !page_aligned(addr) {
        return Err(Errno::EINVAL);
    }
    let len = page_len(len)?;
    let end = addr
        .checked_add(len)
        .filter(|e| *e <= USER_END)
        .ok_or(Errno::EINVAL)?;
    Ok((addr, end))
}

pub fn sys_munmap(p: &mut Thread, a: Args) -> SysResult {
    let (start, end) = user_range(a.ptr(0), a.raw(1))?;
    p.mm().unmap_range(start, end);
    Ok(0)
}

pub fn sys_mprotect(p: &mut Thread, a: Args) -> SysResult {
    let prot = a.raw(2);
    if prot & !PROT_ALL & !0x0300_0000 != 0 {
        return Err(Errno::EINVAL);
    }
    if a.raw(1) == 0 {
        return if page_aligned(a.ptr(0)) {
            Ok(0)
        } else {
            Err(Errno::EINVAL)
        };
    }
    let (start, end) = user_range(a.ptr(0), a.raw(1))?;
    let new = Prot::from_linux(prot);
    if new.write && new.exec {
        return Err(Errno::EPERM); // W^X
    }
    let mut mm = p.mm();
    // Code that becomes executable is scanned as it is now (it may have been written).
    if new.exec && mm.find_wrpkru(start, end).is_some() {
        return Err(Errno::EPERM);
    }
    mm.protect_range(start, end, new)?;
    Ok(0)
}

pub fn sys_mremap(p: &mut Thread, a: Args) -> SysResult {
    let (old, old_len, new_len, flags, new_addr) =
        (a.ptr(0), a.raw(1), a.raw(2), a.raw(3), a.ptr(4));
    if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED | 4) != 0 || !page_aligned(old) {
        return Err(Errno::EINVAL);
    }
    if flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0 {
        return Err(Errno::EINVAL);
    }
    let old_len = page_len(old_len)?;
    let new_len = page_len(new_len)?;
    let vma = p.mm().find(old).cloned().ok_or(Errno::EFAULT)?;
    if old + old_len > vma.end {
        return Err(Errno::EFAULT);
    }
    if flags & MREMAP_FIXED != 0 {
        let (dst, dst_end) = user_range(new_addr, new_len)?;
        if dst < old + old_len && old < dst_end {
            return Err(Errno::EINVAL);
        }
        p.mm().unmap_range(dst, dst_end);
        if new_len < old_len {
            p.mm().unmap_range(old + new_len, old + old_len);
        }
        let keep = new_len.min(old_len);
        p.mm().move_range(old, keep, dst)?;
        if new_len > keep {
            let mut grown = vma.clone();
            grown.start = dst + keep;
            grown.end = dst + new_len;
            grown.backing = Backing::Anonymous;
            p.mm().insert(grown)?;
        }
        return Ok(dst);
    }
    if new_len <= old_len {
        p.mm().unmap_range(old + new_len, old + old_len);
        return Ok(old);
    }
    if old + old_len == vma.end && p.mm().grow_in_place(old, old + old_len, new_len - old_len) {
        return Ok(old);
    }
    if flags & MREMAP_MAYMOVE == 0 {
        return Err(Errno::ENOMEM);
    }
    let dst = p.mm().find_free(new_len, MMAP_TOP).ok_or(Errno::ENOMEM)?;
    p.mm().move_range(old, old_len, dst)?;
    let mut tail = vma;
    tail.start = dst + old_len;
    tail.end = dst + new_len;
    if let Backing::File { file_bytes, .. } = &mut tail.backing {
        *file_bytes = 0;
    }
    tail.backing = Backing::Anonymous;
    p.mm().insert(tail)?;
    Ok(dst)
}

pub fn sys_madvise(p: &mut Thread, a: Args) -> SysResult {
    const MADV_DONTNEED: u64 = 4;
    let (start, end) = user_range(a.ptr(0), a.raw(1).max(1))?;
    if a.raw(2) == MADV_DONTNEED {
        // Private anonymous pages read as zeros again: drop them (the mapping stays).
        let vmas: alloc::vec::Vec<Vma> = p
            .mm()
            .vmas()
            .filter(|v| v.start < end && start < v.end)
            .cloned()
            .collect();
        for v in vmas {
            if matches!(v.backing, Backing::Anonymous) {
                let (s, e) = (v.start.max(start), v.end.min(end));
                p.mm().unmap_range(s, e);
                let mut again = v.clone();
                again.start = s;
                again.end = e;
                p.mm().insert(again)?;
            }
        }
    }
    Ok(0)
}

pub fn sys_msync(_p: &mut Thread, a: Args) -> SysResult {
    if !page_aligned(a.ptr(0)) {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

pub fn sys_mlock(_p: &mut Thread, _a: Args) -> SysResult {
    // Nothing is ever paged out: every page is already locked in memory.
    Ok(0)
}
