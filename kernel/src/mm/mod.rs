//! Physical and virtual memory of the libOS: the frame allocator, the kernel page table with
//! the layout of ARCHITECTURE.md (isounik_abi::layout), the heap and kernel stacks.

pub mod frame;
mod heap;
mod phys;
pub mod scan;
pub mod vm;

use core::ops::Range;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use isounik_abi::layout::{
    KERNEL_BASE, LIBOS_FRAME_COUNTS_BASE, LIBOS_HEAP_BASE, LIBOS_HEAP_MAX, LIBOS_STACKS_BASE,
    MMIO_BASE, PAGE_SIZE, PHYSMAP_BASE,
};
use isounik_abi::pkey::K_LIBOS;
use isounik_paging::{
    flags, Attrs, BitmapFrameAllocator, FrameAllocator, MapError, Mapping, PageSize, PageTable,
};

use crate::arch::x86_64::cpu;
use crate::boot_info::{BootInfo, RAM};
pub use phys::{phys_to_virt, Physmap};

/// Size of a kernel (libOS) thread stack, excluding its guard page.
pub const KERNEL_STACK_SIZE: u64 = 64 * 1024;

/// Initial heap; it grows on demand up to what physical memory allows.
const HEAP_INITIAL: u64 = 2 << 20;

pub struct Memory {
    pub frames: BitmapFrameAllocator<'static>,
    pub kernel: PageTable,
    heap_end: u64,
    stacks_next: u64,
    mmio_next: u64,
    /// Kernel stacks of ended tasks, still mapped, kept for the next tasks: creating a task
    /// (every fork) then maps, zeroes and later unmaps nothing. Bottoms; a fixed array, as
    /// the heap cannot grow under this state's lock.
    spare_stacks: [u64; SPARE_STACKS],
    spare_count: usize,
}

/// Kernel stacks kept mapped for reuse (64 KiB each).
const SPARE_STACKS: usize = 32;

static MEMORY: spin::Mutex<Option<Memory>> = spin::Mutex::new(None);

/// Runs `f` on the memory state (interrupts off: an interrupt handler must never find the
/// lock held by the code it interrupted).
pub fn with<R>(f: impl FnOnce(&mut Memory) -> R) -> R {
    cpu::without_interrupts(|| {
        let mut memory = MEMORY.lock();
        let m = memory.as_mut().expect("mm::init has run");
        let result = f(m);
        FREE_FRAMES.store(m.frames.free_frames(), Ordering::Relaxed);
        result
    })
}

/// The counts `stats` reports, published as they change (the free count at the end of
/// every `with`), so that ring 3, behind the MPK gate, where the lock's `cli` is not
/// allowed, can read them.
static TOTAL_FRAMES: AtomicUsize = AtomicUsize::new(0);
static RESERVED_FRAMES: AtomicUsize = AtomicUsize::new(0);
static FREE_FRAMES: AtomicUsize = AtomicUsize::new(0);
static HEAP_BYTES: AtomicU64 = AtomicU64::new(0);

/// Kernel image section bounds, from the linker script.
mod image {
    extern "C" {
        pub static __text_start: u8;
        pub static __text_end: u8;
        pub static __stext_start: u8;
        pub static __stext_end: u8;
        pub static __rodata_start: u8;
        pub static __rodata_end: u8;
        pub static __data_start: u8;
        pub static __data_end: u8;
        pub static __supervisor_start: u8;
        pub static __supervisor_end: u8;
        pub static __kernel_end: u8;
    }
}

macro_rules! sym_addr {
    ($s:ident) => {
        (&raw const image::$s) as u64
    };
}

#[derive(Debug)]
pub struct MemoryStats {
    pub total_frames: usize,
    pub free_frames: usize,
    /// Free frames programs can still get: the free ones beyond the libOS's reserve.
    pub available_frames: usize,
    pub heap_bytes: u64,
}

/// The memory counts as of the last change (any ring).
pub fn stats() -> MemoryStats {
    MemoryStats {
        total_frames: TOTAL_FRAMES.load(Ordering::Relaxed),
        free_frames: FREE_FRAMES.load(Ordering::Relaxed),
        available_frames: FREE_FRAMES
            .load(Ordering::Relaxed)
            .saturating_sub(RESERVED_FRAMES.load(Ordering::Relaxed)),
        heap_bytes: HEAP_BYTES.load(Ordering::Relaxed),
    }
}

fn align_up(x: u64, a: u64) -> u64 {
    x.div_ceil(a) * a
}

/// Builds the frame allocator and the kernel page table, switches to it, and starts the heap.
pub fn init(boot: &BootInfo) {
    let ram_end = boot
        .regions()
        .iter()
        .filter(|r| r.kind == RAM)
        .map(|r| r.addr + r.size)
        .max()
        .unwrap_or(0);
    let kernel_phys_end = sym_addr!(__kernel_end) - KERNEL_BASE;

    // The bitmap and the frame reference counts go right after the kernel image (the boot
    // map covers the first 1 GiB).
    let words = BitmapFrameAllocator::words_for(0, ram_end);
    let bitmap_phys = align_up(kernel_phys_end, PAGE_SIZE);
    let refcounts_phys = align_up(bitmap_phys + words as u64 * 8, PAGE_SIZE);
    let frame_count = ram_end.div_ceil(PAGE_SIZE) as usize;
    let bitmap_end = align_up(refcounts_phys + frame_count as u64 * 4, PAGE_SIZE);
    if bitmap_end > 1 << 30
        || !boot
            .regions()
            .iter()
            .any(|r| r.kind == RAM && r.addr <= bitmap_phys && bitmap_end <= r.addr + r.size)
    {
        crate::crash::fatal(format_args!(
            "no room for the frame bitmap after the kernel image"
        ));
    }
    // SAFETY: [bitmap_phys, bitmap_end) is RAM (checked above) below 1 GiB, so the boot
    // direct map covers it; it is reserved from the allocator below and used only here.
    let bitmap =
        unsafe { core::slice::from_raw_parts_mut(phys_to_virt(bitmap_phys) as *mut u64, words) };
    // SAFETY: as for the bitmap: RAM below 1 GiB, reserved below.
    unsafe { core::ptr::write_bytes(phys_to_virt(refcounts_phys) as *mut u8, 0, frame_count * 4) };
    let mut frames = BitmapFrameAllocator::new(bitmap, 0);
    for r in boot.regions().iter().filter(|r| r.kind == RAM) {
        frames.add_free_range(r.addr, r.addr + r.size);
    }
    frames.reserve_range(0, 1 << 20); // firmware and boot structures
    frames.reserve_range(1 << 20, bitmap_end); // the kernel image, bitmap and refcounts
    frames.reserve_range(boot.start_info_phys, boot.start_info_phys + PAGE_SIZE);
    for m in boot.modules() {
        frames.reserve_range(m.paddr, m.paddr + m.size);
    }

    let mut mem = Physmap;
    let mut kernel = PageTable::new(&mut mem, &mut frames).unwrap_or_else(|e| oom(e));
    // Every upper-half PML4 entry exists now, so process page tables can share them.
    kernel
        .populate_pml4(&mut mem, &mut frames, 256, 511)
        .unwrap_or_else(|e| oom(e));

    // Direct map of all RAM: supervisor, not executable, 2 MiB pages.
    let mut pa = 0;
    while pa < ram_end {
        kernel
            .map(
                &mut mem,
                &mut frames,
                PHYSMAP_BASE + pa,
                pa,
                PageSize::Size2M,
                Attrs::SUPERVISOR_DATA,
            )
            .unwrap_or_else(|e| oom(e));
        pa += PageSize::Size2M.bytes();
    }

    // The kernel image: libOS code and data in user pages tagged K_LIBOS, except the
    // supervisor section (GDT, IDT, TSS, entry and IST stacks, PKU flag).
    let libos = Attrs::user(K_LIBOS);
    let sections = [
        (
            sym_addr!(__text_start),
            sym_addr!(__text_end),
            Attrs {
                executable: true,
                ..libos
            },
        ),
        (
            sym_addr!(__stext_start),
            sym_addr!(__stext_end),
            Attrs {
                writable: false,
                executable: true,
                ..Attrs::SUPERVISOR_DATA
            },
        ),
        (sym_addr!(__rodata_start), sym_addr!(__rodata_end), libos),
        (
            sym_addr!(__data_start),
            sym_addr!(__data_end),
            Attrs {
                writable: true,
                ..libos
            },
        ),
        (
            sym_addr!(__supervisor_start),
            sym_addr!(__supervisor_end),
            Attrs::SUPERVISOR_DATA,
        ),
    ];
    for (start, end, attrs) in sections {
        let mut va = start;
        while va < end {
            kernel
                .map(
                    &mut mem,
                    &mut frames,
                    va,
                    va - KERNEL_BASE,
                    PageSize::Size4K,
                    attrs,
                )
                .unwrap_or_else(|e| oom(e));
            va += PAGE_SIZE;
        }
    }

    // The reference counters in libOS memory (they are used from ring 3 too).
    let mut pa = refcounts_phys;
    while pa < bitmap_end {
        kernel
            .map(
                &mut mem,
                &mut frames,
                LIBOS_FRAME_COUNTS_BASE + (pa - refcounts_phys),
                pa,
                PageSize::Size4K,
                Attrs {
                    writable: true,
                    ..libos
                },
            )
            .unwrap_or_else(|e| oom(e));
        pa += PAGE_SIZE;
    }

    let memory = Memory {
        frames,
        kernel,
        heap_end: LIBOS_HEAP_BASE,
        stacks_next: LIBOS_STACKS_BASE,
        spare_stacks: [0; SPARE_STACKS],
        spare_count: 0,
        mmio_next: MMIO_BASE,
    };
    memory.publish_stats();
    *MEMORY.lock() = Some(memory);
    // SAFETY: the new table maps the kernel image at the addresses it runs at (with the
    // libOS PKRU, which cpu::init set, allowing K_LIBOS), the boot stack (.bss), the
    // supervisor section and the direct map; nothing refers to the boot identity map.
    unsafe {
        core::arch::asm!("mov cr3, {}", in(reg) kernel.root(), options(nostack));
    }
    // SAFETY: `frame_count` zeroed counters, mapped just above in the table now running and
    // reserved from the allocator; nothing else refers to them.
    let refcounts = unsafe {
        core::slice::from_raw_parts(
            LIBOS_FRAME_COUNTS_BASE as *const core::sync::atomic::AtomicU32,
            frame_count,
        )
    };
    frame::init_refcounts(refcounts);
    heap::init(HEAP_INITIAL);
}

fn oom(e: MapError) -> ! {
    crate::crash::fatal(format_args!("building the kernel page table failed: {e:?}"))
}

impl Memory {
    /// The counts that do not change with every frame (`with` publishes the free count).
    fn publish_stats(&self) {
        TOTAL_FRAMES.store(self.frames.total_frames(), Ordering::Relaxed);
        RESERVED_FRAMES.store(frame::reserve(self), Ordering::Relaxed);
        FREE_FRAMES.store(self.frames.free_frames(), Ordering::Relaxed);
        HEAP_BYTES.store(self.heap_end - LIBOS_HEAP_BASE, Ordering::Relaxed);
    }

    /// Maps `pages` fresh zeroed frames at `va` with `attrs`.
    fn map_fresh(&mut self, va: u64, pages: u64, attrs: Attrs) -> Result<(), MapError> {
        for i in 0..pages {
            let frame = self.frames.allocate().ok_or(MapError::OutOfFrames)?;
            // SAFETY: a freshly allocated frame, reached through the direct map.
            unsafe {
                core::ptr::write_bytes(phys_to_virt(frame) as *mut u8, 0, PAGE_SIZE as usize)
            };
            if let Err(e) = self.kernel.map(
                &mut Physmap,
                &mut self.frames,
                va + i * PAGE_SIZE,
                frame,
                PageSize::Size4K,
                attrs,
            ) {
                self.frames.deallocate(frame);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Maps the frame at `phys` (file data) in the file-data window: ring-3 libOS code
    /// reaches it there. The window's page tables stay once made (at most 1/512 of memory).
    fn map_file_data(&mut self, phys: u64) -> Result<(), MapError> {
        self.kernel.map(
            &mut Physmap,
            &mut self.frames,
            frame::file_data_address(phys),
            phys,
            PageSize::Size4K,
            Attrs {
                writable: true,
                ..Attrs::user(K_LIBOS)
            },
        )
    }

    /// Takes the frame at `phys` out of the file-data window (its last reference went).
    fn unmap_file_data(&mut self, phys: u64) {
        let va = frame::file_data_address(phys);
        if self.kernel.unmap(&mut Physmap, va).is_some() {
            x86_64::instructions::tlb::flush(x86_64::VirtAddr::new(va));
        }
    }

    /// Grows the heap by at least `bytes`; returns the new range.
    fn grow_heap(&mut self, bytes: u64) -> Option<Range<u64>> {
        let bytes = align_up(bytes.min(LIBOS_HEAP_MAX), PAGE_SIZE);
        let start = self.heap_end;
        if start + bytes > LIBOS_HEAP_BASE + LIBOS_HEAP_MAX {
            return None;
        }
        self.map_fresh(
            start,
            bytes / PAGE_SIZE,
            Attrs {
                writable: true,
                ..Attrs::user(K_LIBOS)
            },
        )
        .ok()?;
        self.heap_end = start + bytes;
        self.publish_stats();
        Some(start..start + bytes)
    }

    /// Maps physical MMIO registers uncached in the supervisor MMIO window.
    pub fn map_mmio(&mut self, phys: u64, size: u64) -> Result<u64, MapError> {
        let va = self.mmio_next;
        let pages = align_up(size, PAGE_SIZE) / PAGE_SIZE;
        for i in 0..pages {
            let attrs = Attrs {
                uncached: true,
                ..Attrs::SUPERVISOR_DATA
            };
            self.kernel.map(
                &mut Physmap,
                &mut self.frames,
                va + i * PAGE_SIZE,
                phys + i * PAGE_SIZE,
                PageSize::Size4K,
                attrs,
            )?;
        }
        self.mmio_next += (pages + 1) * PAGE_SIZE;
        Ok(va)
    }

    /// A new libOS stack with an unmapped guard page below it; returns its range. Stacks of
    /// new tasks come from the memory programs may use: a fork bomb cannot eat the kernel's
    /// reserve.
    pub fn new_kernel_stack(&mut self) -> Result<Range<u64>, MapError> {
        if self.spare_count > 0 {
            // Its old contents are libOS data of an ended task; the new task's first frame
            // is written by the scheduler, nothing reads below it.
            self.spare_count -= 1;
            let bottom = self.spare_stacks[self.spare_count];
            return Ok(bottom..bottom + KERNEL_STACK_SIZE);
        }
        if self.frames.free_frames()
            < frame::reserve(self) + (KERNEL_STACK_SIZE / PAGE_SIZE) as usize + 8
        {
            return Err(MapError::OutOfFrames);
        }
        let guard = self.stacks_next;
        let bottom = guard + PAGE_SIZE;
        self.map_fresh(
            bottom,
            KERNEL_STACK_SIZE / PAGE_SIZE,
            Attrs {
                writable: true,
                ..Attrs::user(K_LIBOS)
            },
        )?;
        self.stacks_next = bottom + KERNEL_STACK_SIZE;
        Ok(bottom..bottom + KERNEL_STACK_SIZE)
    }

    /// Maps one fresh zeroed page at `va` in the kernel page table; returns its frame.
    pub fn map_page(&mut self, va: u64, attrs: Attrs) -> Result<u64, MapError> {
        self.map_fresh(va, 1, attrs)?;
        Ok(self.translate(va).map(|m| m.phys).unwrap_or(0))
    }

    /// Unmaps the page at `va`, flushes it from the TLB and frees its frame.
    pub fn unmap_page(&mut self, va: u64) {
        if let Some(frame) = self.kernel.unmap(&mut Physmap, va) {
            x86_64::instructions::tlb::flush(x86_64::VirtAddr::new(va));
            self.frames.deallocate(frame);
        }
    }

    /// Changes the rights of the page at `va` and flushes it from the TLB.
    pub fn protect_page(&mut self, va: u64, attrs: Attrs) -> Result<(), MapError> {
        self.kernel.protect(&mut Physmap, va, attrs)?;
        x86_64::instructions::tlb::flush(x86_64::VirtAddr::new(va));
        Ok(())
    }

    /// Unmaps a stack made by `new_kernel_stack` and frees its frames (its virtual range is
    /// not reused).
    /// Gives the frames of the spare kernel stacks back (memory is short); how many stacks.
    pub fn release_spare_stacks(&mut self) -> usize {
        let released = self.spare_count;
        while self.spare_count > 0 {
            self.spare_count -= 1;
            let bottom = self.spare_stacks[self.spare_count];
            self.unmap_stack(bottom..bottom + KERNEL_STACK_SIZE);
        }
        released
    }

    pub fn free_kernel_stack(&mut self, stack: Range<u64>) {
        if self.spare_count < SPARE_STACKS {
            self.spare_stacks[self.spare_count] = stack.start;
            self.spare_count += 1;
            return;
        }
        self.unmap_stack(stack);
    }

    fn unmap_stack(&mut self, stack: Range<u64>) {
        let mut va = stack.start;
        while va < stack.end {
            self.unmap_page(va);
            va += PAGE_SIZE;
        }
    }

    pub fn translate(&self, va: u64) -> Option<Mapping> {
        self.kernel.translate(&mut Physmap, va)
    }
}

/// Translates `va` in the current page table without taking any lock (for the crash
/// reporter, which may run while the memory lock is held).
pub fn translate_unlocked(va: u64) -> Option<Mapping> {
    PageTable::from_root(cpu::read_cr3()).translate(&mut Physmap, va)
}

fn in_stack_region(addr: u64) -> bool {
    (LIBOS_STACKS_BASE..LIBOS_STACKS_BASE + (1 << 39)).contains(&addr)
}

/// Whether `addr` is a kernel stack's guard page (a fault there is a stack overflow).
pub fn is_guard_page(addr: u64) -> bool {
    in_stack_region(addr) && translate_unlocked(addr).is_none()
}

/// Mapped kernel stack memory around `addr` that a backtrace may read.
pub fn kernel_stack_ranges() -> impl Iterator<Item = Range<u64>> {
    extern "C" {
        static boot_stack_bottom: u8;
        static boot_stack_top: u8;
    }
    let boot = (&raw const boot_stack_bottom) as u64..(&raw const boot_stack_top) as u64;
    core::iter::once(boot)
}

/// Whether `[addr, addr+16)` is mapped libOS stack memory.
pub fn is_mapped_stack(addr: u64) -> bool {
    in_stack_region(addr)
        && translate_unlocked(addr).is_some_and(|m| m.flags & flags::PRESENT != 0)
        && translate_unlocked(addr + 15).is_some()
}

/// Whether memory for programs and file data is exhausted (down to the kernel's reserve).
pub fn memory_exhausted() -> bool {
    with(|m| frame::exhausted(m))
}

/// The most frames file data may hold (tmpfs's `size`): what programs and files can have
/// but a headroom (1/16 of memory, at least 2 MiB), so that a full file system (ENOSPC)
/// does not starve the running programs into the out-of-memory killer.
pub fn file_data_limit() -> usize {
    with(|m| {
        let total = m.frames.total_frames();
        total.saturating_sub(frame::reserve(m) + (total / 16).max(512))
    })
}

pub fn grow_heap(bytes: u64) -> Option<Range<u64>> {
    with(|m| m.grow_heap(bytes))
}

/// Switches the CPU to the kernel's own page table (no application half).
/// The kernel page table's root (for kernel tasks).
pub fn kernel_root() -> u64 {
    with(|m| m.kernel.root())
}

pub fn activate_kernel_table() {
    let root = with(|m| m.kernel.root());
    // SAFETY: the kernel table maps everything the kernel uses.
    unsafe { core::arch::asm!("mov cr3, {}", in(reg) root, options(nostack)) };
}

/// Physical memory `[phys, phys + len)` as bytes (a boot module: the initramfs).
pub fn phys_slice(phys: u64, len: u64) -> &'static [u8] {
    // SAFETY: boot modules are RAM reserved from the allocator (see `init`) and covered by
    // the direct map; nothing writes them until `release_range` gives them back, after
    // which the slice is no longer used.
    unsafe { core::slice::from_raw_parts(phys_to_virt(phys) as *const u8, len as usize) }
}

/// Returns the whole frames of `[start, end)` to the allocator (a boot module that has been
/// copied out).
pub fn release_range(start: u64, end: u64) {
    let first = align_up(start, PAGE_SIZE);
    with(|m| {
        let mut f = first;
        while f + PAGE_SIZE <= end {
            let _ = m.frames.try_deallocate(f);
            f += PAGE_SIZE;
        }
    });
}
