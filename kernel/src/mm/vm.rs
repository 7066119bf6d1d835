//! A process's address space: its page table (sharing the libOS half), its mappings (VMAs)
//! and demand paging. Every present user leaf holds one reference to its frame (see
//! `frame::Frame::into_raw`); private pages are shared read-only and copied on the first
//! write; file pages come from the page cache of the in-memory file system.

use alloc::collections::BTreeMap;
use alloc::string::String;

use isounik_abi::layout::{PAGE_SIZE, USER_END};
use isounik_abi::pkey::K_APP;
use isounik_abi::trampoline::{red_zone_near, RED_ZONE_WINDOW};
use isounik_linux::errno::Errno;
use isounik_paging::{flags, Attrs, FrameAllocator, PageTable};

use super::frame::Frame;
use super::Physmap;
use crate::arch::x86_64::{cpu, uaccess};
use crate::fs::FileRef;

/// Key of PROT_NONE pages: every application PKRU denies it, so the pages keep their
/// contents but any data access faults (fetches are stopped by NX).
pub const K_NONE: u8 = 3;

/// Lowest address a mapping may use (NULL page and below stay unmapped, as Linux's default
/// vm.mmap_min_addr).
pub const MMAP_MIN_ADDR: u64 = 0x10000;
/// Top of the initial stack and the stack reservation below it.
pub const STACK_TOP: u64 = 0x7fff_ffff_d000;
/// The vDSO's two pages (`[vvar]`, `[vdso]`), right above the stack: in the page table
/// the stack's top already uses, so they cost exec and fork no table of their own.
pub const VDSO_BASE: u64 = STACK_TOP;
pub const STACK_MAX: u64 = 8 << 20;
/// Where top-down `mmap` placement starts (below the stack and a gap).
pub const MMAP_TOP: u64 = STACK_TOP - STACK_MAX - (1 << 30);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Prot {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

impl Prot {
    pub const fn from_linux(prot: u64) -> Prot {
        Prot {
            read: prot & 1 != 0,
            write: prot & 2 != 0,
            exec: prot & 4 != 0,
        }
    }
    pub const RW: Prot = Prot {
        read: true,
        write: true,
        exec: false,
    };
    pub const R: Prot = Prot {
        read: true,
        write: false,
        exec: false,
    };
    pub const RX: Prot = Prot {
        read: true,
        write: false,
        exec: true,
    };
}

/// What a mapping's pages come from.
#[derive(Clone, Debug)]
pub enum Backing {
    Anonymous,
    /// A private file mapping: page `p` of the mapping is the file's bytes at
    /// `offset + p * 4096`, but only the first `file_bytes` bytes of the mapping come from
    /// the file; the rest reads as zeros (an ELF segment's .bss).
    File {
        file: FileRef,
        offset: u64,
        file_bytes: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VmaName {
    None,
    Heap,
    Stack,
    Path(String),
    /// The vDSO's data page and code (`proc::vdso`).
    Vvar,
    Vdso,
}

#[derive(Clone, Debug)]
pub struct Vma {
    pub start: u64,
    pub end: u64,
    pub prot: Prot,
    pub backing: Backing,
    pub name: VmaName,
    /// MAP_SHARED: anonymous memory is populated at mmap and stays shared (writable on
    /// both sides) across fork instead of copy-on-write; a file's pages are the file's own
    /// page-cache pages, written in place (`Frame::mark_shared_mapped`).
    pub shared: bool,
}

/// Why a user access could not be satisfied (becomes SIGSEGV with this si_code, or EFAULT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultError {
    /// No mapping there (SEGV_MAPERR).
    NotMapped,
    /// The mapping forbids this access (SEGV_ACCERR).
    Denied,
    /// Out of memory while populating the page.
    NoMemory,
    /// A MAP_SHARED file mapping's page wholly past the end of the file (SIGBUS).
    BeyondFile,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    Execute,
}

impl Access {
    /// From a page-fault error code.
    pub fn from_error_code(error: u64) -> Access {
        if error & 0x10 != 0 {
            Access::Execute
        } else if error & 2 != 0 {
            Access::Write
        } else {
            Access::Read
        }
    }
}

pub struct AddressSpace {
    table: PageTable,
    vmas: BTreeMap<u64, Vma>,
    pub brk_start: u64,
    pub brk: u64,
    /// Gate mode: traps so far at sites whose rewrite needs a copy of their code page.
    site_traps: BTreeMap<u64, u32>,
}

/// Gate mode: a site whose page must be copied to be rewritten (the program file's page,
/// or a copy another process shares) is rewritten at its this-many-th trap. A copy costs
/// about 4,500 instructions, a trap about 400 more than a call through the gate: a site
/// reached once or twice (a forked child's side of `fork`, `_exit`, a short-lived
/// program's start-up) is cheaper left to trap.
const COPY_AFTER_TRAPS: u32 = 4;
/// Sites counted at most (a full count starts again).
const MAX_COUNTED_SITES: usize = 256;
/// The count of a site that is never rewritten (red-zone code near it).
const NEVER_REWRITE: u32 = u32::MAX;

/// Whether the file bytes a code page at `page` of `vma` comes from, with the two bytes on
/// either side that an instruction could share with its neighbours, were already scanned
/// clean in the file's current contents (exec scanned the segment). Pages at the edges of
/// the file-backed part are always scanned.
fn code_page_known_clean(vma: &Vma, page: u64) -> bool {
    let Backing::File {
        file,
        offset,
        file_bytes,
    } = &vma.backing
    else {
        return false;
    };
    let in_vma = page - vma.start;
    if in_vma < PAGE_SIZE || in_vma + PAGE_SIZE + 2 > *file_bytes {
        return false;
    }
    let start = offset + in_vma - 2;
    super::scan::file_range_known_clean(file, start, start + PAGE_SIZE + 4)
}

fn page_floor(a: u64) -> u64 {
    a & !(PAGE_SIZE - 1)
}

fn page_ceil(a: u64) -> Option<u64> {
    a.checked_add(PAGE_SIZE - 1).map(|x| x & !(PAGE_SIZE - 1))
}

impl AddressSpace {
    /// An empty address space sharing the libOS half of the kernel page table.
    pub fn new() -> Result<AddressSpace, Errno> {
        let table = super::with(|m| {
            PageTable::new_sharing_upper_half(&mut Physmap, &mut m.frames, &m.kernel).ok()
        })
        .ok_or(Errno::ENOMEM)?;
        Ok(AddressSpace {
            table,
            vmas: BTreeMap::new(),
            brk_start: 0,
            brk: 0,
            site_traps: BTreeMap::new(),
        })
    }

    /// A copy-on-write copy for `fork`: the same mappings; every present page becomes
    /// read-only in both and shared (its frame count raised), so the first write on either
    /// side copies it.
    pub fn fork(&mut self) -> Result<AddressSpace, Errno> {
        let mut child = AddressSpace::new()?;
        let result = super::with(|m| {
            self.table
                .copy_lower_half(&mut child.table, &mut Physmap, &mut m.frames, |_, entry| {
                    let shared = Frame::clone_raw(entry & flags::ADDR_MASK);
                    shared.into_raw();
                    let ro = entry & !flags::WRITABLE;
                    (ro, ro)
                })
        });
        if self.is_active() {
            // Write rights were removed from present pages: flush them everywhere.
            self.activate();
        }
        result.map_err(|_| Errno::ENOMEM)?;
        child.vmas = self.vmas.clone();
        child.brk_start = self.brk_start;
        child.brk = self.brk;
        Ok(child)
    }

    /// How many pages it maps (its resident set; shared pages count in every sharer).
    pub fn resident_pages(&self) -> usize {
        self.table.count_lower_half(&mut Physmap)
    }

    pub fn root(&self) -> u64 {
        self.table.root()
    }

    /// Maps the call gate's trampoline at virtual address 0: execute-only for applications
    /// (its key is denied to their data accesses), outside every VMA so that no system call
    /// can unmap, remap or change it.
    pub fn map_trampoline(&mut self) -> Result<(), Errno> {
        static TRAMPOLINE: spin::Once<Option<Frame>> = spin::Once::new();
        let frame = TRAMPOLINE
            .call_once(|| {
                let mut f = Frame::alloc_zeroed()?;
                f.bytes_mut()?
                    .copy_from_slice(&crate::arch::x86_64::gate::trampoline_page());
                Some(f)
            })
            .clone()
            .ok_or(Errno::ENOMEM)?;
        let attrs = Attrs {
            writable: false,
            executable: true,
            user: true,
            pkey: isounik_abi::pkey::K_TRAMPOLINE,
            uncached: false,
            global: false,
        };
        let entry = frame.phys() | attrs.leaf_flags(isounik_paging::PageSize::Size4K);
        let old = super::with(|m| self.table.set_entry(&mut Physmap, &mut m.frames, 0, entry))
            .map_err(|_| Errno::ENOMEM)?;
        frame.into_raw();
        if old & flags::PRESENT != 0 {
            // SAFETY: the replaced leaf held one frame reference.
            drop(unsafe { Frame::from_raw(old & flags::ADDR_MASK) });
        }
        Ok(())
    }

    /// Maps `frame`, shared with other processes, read-only at `va` as a mapping of its
    /// own named `name` (the vDSO's pages): a write after `mprotect` copies it.
    pub fn map_shared_page(
        &mut self,
        va: u64,
        frame: Frame,
        prot: Prot,
        name: VmaName,
    ) -> Result<(), Errno> {
        self.insert(Vma {
            start: va,
            end: va + PAGE_SIZE,
            prot,
            backing: Backing::Anonymous,
            name,
            shared: false,
        })?;
        self.install(va, frame, prot, false)
            .map_err(|_| Errno::ENOMEM)
    }

    /// Gate mode: turns the `syscall` instruction at `site` (just executed, so it is one)
    /// into `call *%rax` in this process's private copy of the code page, made at the
    /// site's `COPY_AFTER_TRAPS`-th trap if the page is not one already. Sites that cannot
    /// be rewritten (across a page boundary, not in code, near code that addresses the red
    /// zone, as far as the site's page shows) are left to trap.
    pub fn rewrite_syscall_site(&mut self, site: u64) {
        let page = page_floor(site);
        let offset = (site - page) as usize;
        if offset > PAGE_SIZE as usize - 2 || site >= USER_END {
            return;
        }
        let Some(vma) = self.find(site) else { return };
        if !vma.prot.exec || vma.prot.write {
            return;
        }
        let (prot, shared_mapping) = (vma.prot, vma.shared);
        let entry = self.entry(page);
        if entry & flags::PRESENT == 0 {
            return;
        }
        let phys = entry & flags::ADDR_MASK;
        let shared = Frame::clone_raw(phys);
        let code = shared.bytes();
        if code[offset..offset + 2] != [0x0f, 0x05] {
            return;
        }
        // This process's own copy already (an earlier site of the page) is patched in
        // place; anything else (the page cache's page, a copy a forked relative shares, a
        // shared mapping's page) is copied, at the site's `COPY_AFTER_TRAPS`-th trap.
        if self.site_traps.get(&site) == Some(&NEVER_REWRITE) {
            return;
        }
        let own_copy = !shared_mapping && shared.ref_count() == 2 && !shared.is_file_data();
        if !own_copy {
            let traps = self.site_traps.entry(site).or_insert(0);
            *traps += 1;
            if *traps < COPY_AFTER_TRAPS {
                if self.site_traps.len() > MAX_COUNTED_SITES {
                    self.site_traps.clear(); // (never-rewrite marks are only a shortcut)
                }
                return;
            }
            self.site_traps.remove(&site);
        }
        // A function that keeps data below the stack pointer would lose 16 bytes of it to
        // the call (docs/gate.md, "The red zone"): its site keeps trapping.
        let around = offset.saturating_sub(RED_ZONE_WINDOW)
            ..(offset + 2 + RED_ZONE_WINDOW).min(PAGE_SIZE as usize);
        if red_zone_near(&code[around]) {
            self.site_traps.insert(site, NEVER_REWRITE);
            return;
        }
        drop(shared);
        if own_copy && Frame::patch_if_sole_reference(phys, offset, &[0xff, 0xd0]) {
            return;
        }
        let shared = Frame::clone_raw(phys);
        let Some(mut copy) = shared.duplicate() else {
            return;
        };
        if let Some(bytes) = copy.bytes_mut() {
            bytes[offset..offset + 2].copy_from_slice(&[0xff, 0xd0]);
        }
        let _ = self.install(page, copy, prot, false);
    }

    /// Makes this the CPU's address space.
    pub fn activate(&self) {
        // SAFETY: the table maps the libOS half exactly like the kernel table (shared upper
        // PML4 entries), so the kernel keeps running; the lower half is this process's.
        unsafe { core::arch::asm!("mov cr3, {}", in(reg) self.table.root(), options(nostack)) };
    }

    pub fn is_active(&self) -> bool {
        cpu::read_cr3() == self.table.root()
    }

    fn flush(&self, va: u64) {
        if self.is_active() {
            x86_64::instructions::tlb::flush(x86_64::VirtAddr::new(va));
        }
    }

    pub fn vmas(&self) -> impl Iterator<Item = &Vma> {
        self.vmas.values()
    }

    /// The mapping containing `addr`.
    pub fn find(&self, addr: u64) -> Option<&Vma> {
        self.vmas
            .range(..=addr)
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| addr < v.end)
    }

    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.vmas
            .range(..end)
            .next_back()
            .is_some_and(|(_, v)| v.end > start)
    }

    /// Adds a mapping over `[start, end)`, which must be free.
    pub fn insert(&mut self, vma: Vma) -> Result<(), Errno> {
        if vma.start >= vma.end
            || vma.end > USER_END
            || vma.start < MMAP_MIN_ADDR
            || self.overlaps(vma.start, vma.end)
        {
            return Err(Errno::EINVAL);
        }
        self.vmas.insert(vma.start, vma);
        Ok(())
    }

    /// A free range of `len` bytes, highest first below `below`.
    pub fn find_free(&self, len: u64, below: u64) -> Option<u64> {
        let mut top = below;
        for (_, v) in self.vmas.range(..below).rev() {
            if v.end <= top && top - v.end >= len {
                return Some(top - len);
            }
            top = top.min(v.start);
        }
        (top >= MMAP_MIN_ADDR + len).then(|| top - len)
    }

    /// Splits the mapping that contains `at` (strictly inside it) into two.
    fn split_at(&mut self, at: u64) {
        let Some(v) = self.find(at).cloned() else {
            return;
        };
        if v.start == at {
            return;
        }
        let mut upper = v.clone();
        upper.start = at;
        if let Backing::File {
            offset, file_bytes, ..
        } = &mut upper.backing
        {
            let delta = at - v.start;
            *offset += delta;
            *file_bytes = file_bytes.saturating_sub(delta);
        }
        self.vmas.get_mut(&v.start).expect("found above").end = at;
        self.vmas.insert(at, upper);
    }

    /// Removes every mapping and page in `[start, end)` (page aligned).
    pub fn unmap_range(&mut self, start: u64, end: u64) {
        self.split_at(start);
        self.split_at(end);
        let keys: alloc::vec::Vec<u64> = self.vmas.range(start..end).map(|(k, _)| *k).collect();
        let active = self.is_active();
        for k in keys {
            let v = self.vmas.remove(&k).expect("listed");
            // Only the page tables that exist are walked (no walk per untouched page).
            self.table
                .take_range(&mut Physmap, v.start, v.end, |va, old| {
                    if active {
                        x86_64::instructions::tlb::flush(x86_64::VirtAddr::new(va));
                    }
                    // SAFETY: a present user leaf holds one frame reference (`install`).
                    drop(unsafe { Frame::from_raw(old & flags::ADDR_MASK) });
                });
        }
    }

    /// Unmaps one page and releases its frame.
    fn drop_page(&mut self, va: u64) {
        // No page table is made to clear a page that was never touched.
        let old = self.table.take_entry(&mut Physmap, va);
        if old & flags::PRESENT != 0 {
            self.flush(va);
            // SAFETY: a present user leaf holds one frame reference (installed by `install`).
            drop(unsafe { Frame::from_raw(old & flags::ADDR_MASK) });
        }
    }

    /// Changes the protection of `[start, end)`; every page there must be mapped.
    pub fn protect_range(&mut self, start: u64, end: u64, prot: Prot) -> Result<(), Errno> {
        // Linux: ENOMEM if any part of the range is unmapped.
        let mut cursor = start;
        while cursor < end {
            let v = self.find(cursor).ok_or(Errno::ENOMEM)?;
            cursor = v.end;
        }
        self.split_at(start);
        self.split_at(end);
        let keys: alloc::vec::Vec<u64> = self.vmas.range(start..end).map(|(k, _)| *k).collect();
        for k in keys {
            let v = self.vmas.get_mut(&k).expect("listed");
            v.prot = prot;
            let (vs, ve) = (v.start, v.end);
            // Present pages take the new rights, but stay read-only: a later write fault
            // decides between copy-on-write and simply allowing it.
            let mut va = vs;
            while va < ve {
                let entry = self.entry(va);
                if entry & flags::PRESENT != 0 && prot.exec {
                    let frame = Frame::clone_raw(entry & flags::ADDR_MASK);
                    if frame.is_shared_mapped() {
                        // A page a shared mapping may change never becomes code here: it
                        // comes back at the next fault as a scanned private copy.
                        drop(frame);
                        self.drop_page(va);
                        va += PAGE_SIZE;
                        continue;
                    }
                    if frame.is_file_data() {
                        frame.mark_exec_mapped();
                    }
                }
                if entry & flags::PRESENT != 0 {
                    let new = (entry & flags::ADDR_MASK) | leaf_flags(prot, false);
                    super::with(|m| self.table.set_entry(&mut Physmap, &mut m.frames, va, new))
                        .map_err(|_| Errno::ENOMEM)?;
                    self.flush(va);
                }
                va += PAGE_SIZE;
            }
        }
        Ok(())
    }

    fn entry(&self, va: u64) -> u64 {
        self.table.entry(&mut Physmap, va).unwrap_or(0)
    }

    /// Installs `frame` at `va` (replacing nothing).
    fn install(
        &mut self,
        va: u64,
        frame: Frame,
        prot: Prot,
        writable: bool,
    ) -> Result<(), FaultError> {
        let entry = frame.phys() | leaf_flags(prot, writable);
        let old = super::with(|m| self.table.set_entry(&mut Physmap, &mut m.frames, va, entry))
            .map_err(|_| FaultError::NoMemory)?;
        frame.into_raw();
        if old & flags::PRESENT != 0 {
            self.flush(va);
            // SAFETY: the replaced leaf held one frame reference.
            drop(unsafe { Frame::from_raw(old & flags::ADDR_MASK) });
        }
        Ok(())
    }

    /// Resolves a fault (or a kernel access on behalf of the program) at `addr`.
    pub fn handle_fault(&mut self, addr: u64, access: Access) -> Result<(), FaultError> {
        let vma = self.find(addr).ok_or(FaultError::NotMapped)?.clone();
        let allowed = match access {
            Access::Read => vma.prot.read || vma.prot.write || vma.prot.exec,
            Access::Write => vma.prot.write,
            Access::Execute => vma.prot.exec,
        };
        if !allowed {
            return Err(FaultError::Denied);
        }
        let page = page_floor(addr);
        let entry = self.entry(page);
        if entry & flags::PRESENT == 0 {
            let frame = self.fill(&vma, page)?;
            let shared_file = vma.shared && matches!(vma.backing, Backing::File { .. });
            // A new anonymous page is ours alone: writable at once. A shared mapping's file
            // page is written in place. Other file pages start shared.
            let writable =
                vma.prot.write && (access == Access::Write || frame.is_unique() || shared_file);
            let mut scan_anyway = false;
            let frame = if vma.prot.exec && frame.is_shared_mapped() {
                // Code never runs from a page a shared mapping may change: a private copy,
                // always scanned (the file's scan verdict cannot vouch for it).
                scan_anyway = true;
                frame.duplicate().ok_or(FaultError::NoMemory)?
            } else if access == Access::Write && !frame.is_unique() && !shared_file {
                frame.duplicate().ok_or(FaultError::NoMemory)?
            } else {
                frame
            };
            if vma.prot.exec && frame.is_file_data() {
                frame.mark_exec_mapped();
            }
            self.install(page, frame, vma.prot, writable)?;
            // Code pages are checked as they come in too: the file may have changed since it
            // was mapped (W^X and the WRPKRU scan, ARCHITECTURE.md §4.1).
            if vma.prot.exec
                && (scan_anyway || !code_page_known_clean(&vma, page))
                && self.find_wrpkru(page, page + PAGE_SIZE).is_some()
            {
                self.drop_page(page);
                return Err(FaultError::Denied);
            }
            return Ok(());
        }
        if access == Access::Write && entry & flags::WRITABLE == 0 {
            if vma.shared && matches!(vma.backing, Backing::File { .. }) {
                // A shared file mapping writes the file's current page (after fork or
                // mprotect, the entry may hold a private copy made for an exec mapping).
                let frame = self.fill(&vma, page)?;
                return self.install(page, frame, vma.prot, true);
            }
            // Copy-on-write (or a page made writable by mprotect).
            let shared = Frame::clone_raw(entry & flags::ADDR_MASK);
            // A former file page stays in the libOS's file-data window until its last
            // reference goes: a private write gets a copy, never that frame.
            let frame = if vma.shared || (shared.ref_count() == 2 && !shared.is_file_data()) {
                shared // only the page table and us: no one else sees it
            } else {
                shared.duplicate().ok_or(FaultError::NoMemory)?
            };
            return self.install(page, frame, vma.prot, true);
        }
        // Present with the right rights: a protection-key or spurious fault.
        Err(FaultError::Denied)
    }

    /// The contents of a page that is not present yet.
    fn fill(&self, vma: &Vma, page: u64) -> Result<Frame, FaultError> {
        let Backing::File {
            file,
            offset,
            file_bytes,
        } = &vma.backing
        else {
            return Frame::alloc_zeroed().ok_or(FaultError::NoMemory);
        };
        let in_vma = page - vma.start;
        if vma.shared {
            // The file's own page (the last one too, partial as it is), in place.
            if in_vma >= *file_bytes {
                return Err(FaultError::BeyondFile);
            }
            return file
                .shared_page((offset + in_vma) / PAGE_SIZE)
                .map_err(|_| FaultError::NoMemory);
        }
        if in_vma >= *file_bytes {
            return Frame::alloc_zeroed().ok_or(FaultError::NoMemory);
        }
        let file_off = offset + in_vma;
        let valid = (*file_bytes - in_vma).min(PAGE_SIZE) as usize;
        if file_off.is_multiple_of(PAGE_SIZE) && valid == PAGE_SIZE as usize {
            // Whole, aligned page: share the page-cache page.
            return file
                .page(file_off / PAGE_SIZE)
                .map_err(|_| FaultError::NoMemory);
        }
        // Unaligned or partial: a private copy, zero past the file bytes.
        let mut frame = Frame::alloc_zeroed().ok_or(FaultError::NoMemory)?;
        let bytes = frame.bytes_mut().expect("fresh frame is unique");
        let n = file
            .read_at(file_off, &mut bytes[..valid])
            .map_err(|_| FaultError::NoMemory)?;
        bytes[n..valid].fill(0);
        Ok(frame)
    }

    /// The current contents of the page at `va` (not faulted in: a page that is not present
    /// shows what its backing would give).
    fn page_contents(&self, va: u64) -> [u8; PAGE_SIZE as usize] {
        let entry = self.entry(va);
        if entry & flags::PRESENT != 0 {
            return *Frame::clone_raw(entry & flags::ADDR_MASK).bytes();
        }
        let mut out = [0u8; PAGE_SIZE as usize];
        if let Some(vma) = self.find(va) {
            if let Ok(frame) = self.fill(vma, va) {
                out = *frame.bytes();
            }
        }
        out
    }

    /// The address of the first WRPKRU instruction (`0f 01 ef`) in `[start, end)`, looking
    /// also at the two bytes on either side that could complete one across the edges
    /// (ARCHITECTURE.md §4.1: no application code page may ever contain it).
    pub fn find_wrpkru(&self, start: u64, end: u64) -> Option<u64> {
        let from = start.saturating_sub(2) & !(PAGE_SIZE - 1);
        let to = (end + 2).min(USER_END).div_ceil(PAGE_SIZE) * PAGE_SIZE;
        let mut tail: [u8; 2] = [0; 2];
        let mut va = from;
        while va < to {
            let page = if self.find(va).is_some() {
                self.page_contents(va)
            } else {
                [0u8; PAGE_SIZE as usize]
            };
            let mut window = [0u8; PAGE_SIZE as usize + 2];
            window[..2].copy_from_slice(&tail);
            window[2..].copy_from_slice(&page);
            if let Some(i) = super::scan::find_wrpkru(&window) {
                let at = va + i as u64 - 2;
                // Only matches that touch the range count.
                if at + 3 > start && at < end {
                    return Some(at);
                }
            }
            tail.copy_from_slice(&page[PAGE_SIZE as usize - 2..]);
            va += PAGE_SIZE;
        }
        None
    }

    /// Makes `[addr, addr + len)` accessible for `access` from the kernel, faulting pages in.
    fn prepare(&mut self, addr: u64, len: usize, access: Access) -> Result<(), Errno> {
        if len == 0 {
            return Ok(());
        }
        if !uaccess::is_user_range(addr, len) {
            return Err(Errno::EFAULT);
        }
        let end = addr + len as u64;
        let mut page = page_floor(addr);
        while page < end {
            let entry = self.entry(page);
            let ok = entry & flags::PRESENT != 0
                && flags::pkey(entry) == K_APP
                && (access != Access::Write || entry & flags::WRITABLE != 0);
            if !ok {
                self.handle_fault(page.max(addr), access)
                    .map_err(|e| match e {
                        FaultError::NoMemory => Errno::ENOMEM,
                        _ => Errno::EFAULT,
                    })?;
            }
            page += PAGE_SIZE;
        }
        Ok(())
    }

    /// Copies user memory at `addr` into `buf` (EFAULT for anything not readable).
    pub fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        debug_assert!(self.is_active());
        self.prepare(addr, buf.len(), Access::Read)?;
        uaccess::copy_from_user(buf, addr).map_err(|_| Errno::EFAULT)
    }

    /// Copies `data` to user memory at `addr` (EFAULT for anything not writable).
    pub fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        debug_assert!(self.is_active());
        self.prepare(addr, data.len(), Access::Write)?;
        uaccess::copy_to_user(addr, data).map_err(|_| Errno::EFAULT)
    }

    /// Grows or shrinks the heap (`brk`); returns the new break.
    pub fn set_brk(&mut self, new: u64) -> u64 {
        if new < self.brk_start || new >= MMAP_TOP {
            return self.brk;
        }
        let (Some(old_end), Some(new_end)) = (page_ceil(self.brk), page_ceil(new)) else {
            return self.brk;
        };
        if new_end > old_end {
            if self.overlaps(old_end, new_end) {
                return self.brk;
            }
            // Extend the heap mapping (or create it).
            match self
                .vmas
                .range(..old_end)
                .next_back()
                .map(|(k, v)| (*k, v.end, v.name.clone()))
            {
                Some((k, end, VmaName::Heap)) if end == old_end => {
                    self.vmas.get_mut(&k).expect("found").end = new_end
                }
                _ => {
                    let vma = Vma {
                        start: old_end,
                        end: new_end,
                        prot: Prot::RW,
                        backing: Backing::Anonymous,
                        name: VmaName::Heap,
                        shared: false,
                    };
                    if self.insert(vma).is_err() {
                        return self.brk;
                    }
                }
            }
        } else if new_end < old_end {
            self.unmap_range(new_end, old_end);
        }
        self.brk = new;
        new
    }

    /// Moves the pages of `[old, old + len)` to `new` (both page aligned, target free).
    pub fn move_range(&mut self, old: u64, len: u64, new: u64) -> Result<(), Errno> {
        self.split_at(old);
        self.split_at(old + len);
        let keys: alloc::vec::Vec<u64> = self.vmas.range(old..old + len).map(|(k, _)| *k).collect();
        for k in keys {
            let mut v = self.vmas.remove(&k).expect("listed");
            let mut va = v.start;
            while va < v.end {
                let entry = self.entry(va);
                if entry & flags::PRESENT != 0 {
                    super::with(|m| -> Result<(), Errno> {
                        self.table
                            .set_entry(&mut Physmap, &mut m.frames, va, 0)
                            .map_err(|_| Errno::ENOMEM)?;
                        self.table
                            .set_entry(&mut Physmap, &mut m.frames, va - old + new, entry)
                            .map_err(|_| Errno::ENOMEM)?;
                        Ok(())
                    })?;
                    self.flush(va);
                }
                va += PAGE_SIZE;
            }
            v.start = v.start - old + new;
            v.end = v.end - old + new;
            self.vmas.insert(v.start, v);
        }
        Ok(())
    }

    /// Grows the mapping ending at `end` by `extra` bytes in place, if the space is free.
    pub fn grow_in_place(&mut self, start: u64, end: u64, extra: u64) -> bool {
        let Some(new_end) = end.checked_add(extra) else {
            return false;
        };
        if new_end > MMAP_TOP.max(USER_END) || self.overlaps(end, new_end) {
            return false;
        }
        match self.find(end - 1) {
            Some(v) if v.end == end && v.start <= start => {
                let k = v.start;
                // Past a file mapping's coverage the new pages read as zeros.
                self.vmas.get_mut(&k).expect("found").end = new_end;
                true
            }
            _ => false,
        }
    }
}

/// Leaf attributes of a user page with `prot`.
fn leaf_flags(prot: Prot, writable: bool) -> u64 {
    let none = !prot.read && !prot.write && !prot.exec;
    Attrs {
        writable: writable && prot.write,
        executable: prot.exec,
        user: true,
        pkey: if none { K_NONE } else { K_APP },
        uncached: false,
        global: false,
    }
    .leaf_flags(isounik_paging::PageSize::Size4K)
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        if self.is_active() {
            // Never leave the CPU on a page table that is being freed.
            super::activate_kernel_table();
        }
        // Walk without the memory lock (the callbacks allocate on the heap, whose growth
        // takes that lock), collecting what to free; then free it.
        let mut leaves = alloc::vec::Vec::new();
        let mut tables = DeferredFree(alloc::vec::Vec::new());
        self.table
            .clear_lower_half(&mut Physmap, &mut tables, |_, entry| {
                leaves.push(entry & flags::ADDR_MASK)
            });
        tables.0.push(self.table.root());
        super::with(|m| tables.0.iter().for_each(|f| m.frames.deallocate(*f)));
        for phys in leaves {
            // SAFETY: each present leaf held one frame reference.
            drop(unsafe { Frame::from_raw(phys) });
        }
    }
}

/// Collects page-table frames to free later (never allocates frames).
struct DeferredFree(alloc::vec::Vec<u64>);

impl isounik_paging::FrameAllocator for DeferredFree {
    fn allocate(&mut self) -> Option<u64> {
        None
    }
    fn deallocate(&mut self, frame: u64) {
        self.0.push(frame);
    }
}
