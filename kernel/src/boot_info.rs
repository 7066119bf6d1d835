//! The PVH boot information (`struct hvm_start_info`, Xen's public `arch-x86/hvm/start_info.h`),
//! copied into kernel memory before anything can overwrite it.

use isounik_abi::layout::PHYSMAP_BASE;

const MAGIC: u32 = 0x336e_c578;
const MAX_REGIONS: usize = 128;
const MAX_CMDLINE: usize = 4096;
const MAX_MODULES: usize = 4;

/// E820 type of usable RAM.
pub const RAM: u32 = 1;

#[repr(C)]
#[derive(Clone, Copy)]
struct StartInfo {
    magic: u32,
    version: u32,
    flags: u32,
    nr_modules: u32,
    modlist_paddr: u64,
    cmdline_paddr: u64,
    rsdp_paddr: u64,
    memmap_paddr: u64,
    memmap_entries: u32,
    reserved: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoryRegion {
    pub addr: u64,
    pub size: u64,
    pub kind: u32,
    reserved: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Module {
    pub paddr: u64,
    pub size: u64,
    cmdline_paddr: u64,
    reserved: u64,
}

pub struct BootInfo {
    regions: [MemoryRegion; MAX_REGIONS],
    region_count: usize,
    cmdline: [u8; MAX_CMDLINE],
    cmdline_len: usize,
    modules: [Module; MAX_MODULES],
    module_count: usize,
    pub start_info_phys: u64,
}

/// Reads physical memory through the boot page tables' direct map of the first 1 GiB (the
/// boot loader puts its structures there).
fn read_phys<T: Copy>(phys: u64) -> T {
    assert!(
        phys + core::mem::size_of::<T>() as u64 <= 1 << 30,
        "boot structure above 1 GiB"
    );
    // SAFETY: the boot page tables map physical 0..1 GiB at PHYSMAP_BASE; read_unaligned
    // accepts any alignment; T is plain data (Copy, repr(C), every bit pattern valid).
    unsafe { core::ptr::read_unaligned((PHYSMAP_BASE + phys) as *const T) }
}

impl BootInfo {
    pub fn parse(start_info_phys: u64) -> Result<BootInfo, &'static str> {
        let si: StartInfo = read_phys(start_info_phys);
        if si.magic != MAGIC {
            return Err("not booted through PVH: hvm_start_info magic mismatch");
        }
        if si.version < 1 || si.memmap_paddr == 0 {
            return Err("the PVH start info has no memory map (version 0); use a newer QEMU");
        }
        let mut info = BootInfo {
            regions: [MemoryRegion::default(); MAX_REGIONS],
            region_count: (si.memmap_entries as usize).min(MAX_REGIONS),
            cmdline: [0; MAX_CMDLINE],
            cmdline_len: 0,
            modules: [Module::default(); MAX_MODULES],
            module_count: (si.nr_modules as usize).min(MAX_MODULES),
            start_info_phys,
        };
        for i in 0..info.region_count {
            info.regions[i] =
                read_phys(si.memmap_paddr + (i * core::mem::size_of::<MemoryRegion>()) as u64);
        }
        if si.cmdline_paddr != 0 {
            while info.cmdline_len < MAX_CMDLINE - 1 {
                let b: u8 = read_phys(si.cmdline_paddr + info.cmdline_len as u64);
                if b == 0 {
                    break;
                }
                info.cmdline[info.cmdline_len] = b;
                info.cmdline_len += 1;
            }
        }
        for i in 0..info.module_count {
            info.modules[i] =
                read_phys(si.modlist_paddr + (i * core::mem::size_of::<Module>()) as u64);
        }
        Ok(info)
    }

    pub fn regions(&self) -> &[MemoryRegion] {
        &self.regions[..self.region_count]
    }

    pub fn modules(&self) -> &[Module] {
        &self.modules[..self.module_count]
    }

    /// The kernel command line (non-UTF-8 bytes make it empty).
    pub fn cmdline(&self) -> &str {
        core::str::from_utf8(&self.cmdline[..self.cmdline_len]).unwrap_or("")
    }
}
