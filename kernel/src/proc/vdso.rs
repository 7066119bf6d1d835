//! The vDSO: a small shared object the kernel maps into every program (`AT_SYSINFO_EHDR`),
//! as Linux does, so that C libraries read the clocks without a system call:
//! `__vdso_clock_gettime`, `__vdso_gettimeofday`, `__vdso_time`, `__vdso_getcpu` and
//! `__vdso_clock_getres`. The code (`vdso.s`) reads the TSC and the clock's constants from
//! the `[vvar]` page mapped right before it (read-only: the TSC at boot, the conversion to
//! nanoseconds, the wall-clock time at boot; they never change after boot); clocks it does
//! not know go to the system call. Both pages are one pair of frames shared by every
//! process, mapped read-only (a program that makes them writable gets its own copy).
//!
//! The image is built once at boot: an ELF header, a `PT_LOAD` and a `PT_DYNAMIC` program
//! header, a dynamic section (`DT_HASH`, `DT_SYMTAB`, `DT_STRTAB`, ...), the symbols and
//! the code, all in one page linked at address 0, which is what musl's `__vdsosym` and
//! glibc's `setup_vdso` read (no symbol versions: both then accept the names alone).

use isounik_abi::layout::PAGE_SIZE;

use crate::mm::frame::Frame;

core::arch::global_asm!(
    include_str!("vdso.s"),
    code_offset = const CODE_OFFSET,
    vvar_tsc_at_boot = const VVAR_TSC_AT_BOOT,
    vvar_ns_whole = const VVAR_NS_WHOLE,
    vvar_ns_fraction = const VVAR_NS_FRACTION,
    vvar_epoch = const VVAR_EPOCH,
);

extern "C" {
    static vdso_code_start: u8;
    static vdso_code_end: u8;
    static vdso_clock_gettime: u8;
    static vdso_gettimeofday: u8;
    static vdso_time: u8;
    static vdso_getcpu: u8;
    static vdso_clock_getres: u8;
}

/// Where the code starts in the vDSO page (after the headers, dynamic section, symbols).
const CODE_OFFSET: usize = 0x400;
/// The `[vvar]` page's fields.
const VVAR_TSC_AT_BOOT: usize = 0;
const VVAR_NS_WHOLE: usize = 8;
const VVAR_NS_FRACTION: usize = 16;
const VVAR_EPOCH: usize = 24;

/// The two frames: `[vvar]` then `[vdso]`.
pub struct Vdso {
    pub vvar: Frame,
    pub code: Frame,
}

static VDSO: spin::Once<Option<Vdso>> = spin::Once::new();

/// The vDSO's frames, built at the first call (after the clocks are set up).
pub fn get() -> Option<&'static Vdso> {
    VDSO.call_once(build).as_ref()
}

fn sym(s: &u8) -> usize {
    s as *const u8 as usize
}

fn build() -> Option<Vdso> {
    let mut vvar = Frame::alloc_zeroed()?;
    let mut code = Frame::alloc_zeroed()?;
    let constants = crate::time::vdso_constants();
    let data = vvar.bytes_mut()?;
    for (at, value) in [
        (VVAR_TSC_AT_BOOT, constants.tsc_at_boot),
        (VVAR_NS_WHOLE, constants.ns_per_tick_whole),
        (VVAR_NS_FRACTION, constants.ns_per_tick_fraction),
        (VVAR_EPOCH, constants.epoch_at_boot_ns),
    ] {
        data[at..at + 8].copy_from_slice(&value.to_le_bytes());
    }
    // SAFETY: linker symbols of the assembly above: addresses only.
    let (start, end, functions) = unsafe {
        (
            sym(&vdso_code_start),
            sym(&vdso_code_end),
            [
                ("__vdso_clock_gettime", sym(&vdso_clock_gettime)),
                ("__vdso_gettimeofday", sym(&vdso_gettimeofday)),
                ("__vdso_time", sym(&vdso_time)),
                ("__vdso_getcpu", sym(&vdso_getcpu)),
                ("__vdso_clock_getres", sym(&vdso_clock_getres)),
            ],
        )
    };
    // SAFETY: [start, end) is the assembled code, in the kernel image (read-only data).
    let machine_code = unsafe { core::slice::from_raw_parts(start as *const u8, end - start) };
    let image = code.bytes_mut()?;
    let symbols = functions.map(|(name, at)| (name, CODE_OFFSET + at - start));
    write_image(image, &symbols, machine_code).then_some(())?;
    // Application code: no WRPKRU in it, as in any program (ARCHITECTURE.md §4.1).
    if crate::mm::scan::find_wrpkru(image).is_some() {
        crate::crash::fatal(format_args!("the vDSO contains WRPKRU"));
    }
    Some(Vdso { vvar, code })
}

/// Lays out the vDSO's ELF image in `page`: false if it does not fit.
fn write_image(
    page: &mut [u8; PAGE_SIZE as usize],
    symbols: &[(&str, usize)],
    code: &[u8],
) -> bool {
    const DYN_OFFSET: usize = 0xc0;
    const HASH_OFFSET: usize = 0x140;
    let n = symbols.len() + 1; // with the null symbol
    let symtab = HASH_OFFSET + (2 + 1 + n) * 4;
    let symtab = symtab.next_multiple_of(8);
    let strtab = symtab + n * 24;
    let soname = b"linux-vdso.so.1";
    let mut strings = alloc::vec![0u8];
    let mut name_offsets = alloc::vec::Vec::new();
    for (name, _) in symbols {
        name_offsets.push(strings.len() as u32);
        strings.extend_from_slice(name.as_bytes());
        strings.push(0);
    }
    let soname_offset = strings.len() as u64;
    strings.extend_from_slice(soname);
    strings.push(0);
    if strtab + strings.len() > CODE_OFFSET || CODE_OFFSET + code.len() > page.len() {
        return false;
    }
    let mut put = |at: usize, bytes: &[u8]| page[at..at + bytes.len()].copy_from_slice(bytes);
    // ELF header: 64-bit, little-endian, a shared object for x86-64, two program headers.
    put(0, &[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    put(16, &3u16.to_le_bytes()); // ET_DYN
    put(18, &62u16.to_le_bytes()); // EM_X86_64
    put(20, &1u32.to_le_bytes());
    put(32, &64u64.to_le_bytes()); // e_phoff
    put(52, &64u16.to_le_bytes()); // e_ehsize
    put(54, &56u16.to_le_bytes()); // e_phentsize
    put(56, &2u16.to_le_bytes()); // e_phnum
    put(58, &64u16.to_le_bytes()); // e_shentsize (no section headers)
    let dynamic: [(u64, u64); 7] = [
        (4, HASH_OFFSET as u64),    // DT_HASH
        (5, strtab as u64),         // DT_STRTAB
        (6, symtab as u64),         // DT_SYMTAB
        (10, strings.len() as u64), // DT_STRSZ
        (11, 24),                   // DT_SYMENT
        (14, soname_offset),        // DT_SONAME
        (0, 0),                     // DT_NULL
    ];
    // PT_LOAD: the whole page, read and execute; PT_DYNAMIC: read-only.
    let program_headers: [(u32, u32, u64, u64); 2] = [
        (1, 5, 0, PAGE_SIZE),
        (2, 4, DYN_OFFSET as u64, (dynamic.len() * 16) as u64),
    ];
    for (i, (kind, flags, offset, size)) in program_headers.iter().enumerate() {
        let at = 64 + i * 56;
        put(at, &kind.to_le_bytes());
        put(at + 4, &flags.to_le_bytes());
        put(at + 8, &offset.to_le_bytes()); // p_offset
        put(at + 16, &offset.to_le_bytes()); // p_vaddr
        put(at + 24, &offset.to_le_bytes()); // p_paddr
        put(at + 32, &size.to_le_bytes()); // p_filesz
        put(at + 40, &size.to_le_bytes()); // p_memsz
        put(
            at + 48,
            &(if *kind == 1 { PAGE_SIZE } else { 8 }).to_le_bytes(),
        );
    }
    for (i, (tag, value)) in dynamic.iter().enumerate() {
        put(DYN_OFFSET + i * 16, &tag.to_le_bytes());
        put(DYN_OFFSET + i * 16 + 8, &value.to_le_bytes());
    }
    // SysV hash table with one bucket: bucket 0 -> symbol 1 -> 2 -> ... -> 0.
    put(HASH_OFFSET, &1u32.to_le_bytes()); // nbucket
    put(HASH_OFFSET + 4, &(n as u32).to_le_bytes()); // nchain
    put(HASH_OFFSET + 8, &1u32.to_le_bytes()); // bucket[0]
    for i in 0..n {
        let next = if i == 0 || i + 1 == n {
            0
        } else {
            i as u32 + 1
        };
        put(HASH_OFFSET + 12 + i * 4, &next.to_le_bytes());
    }
    // Symbols (index 0 stays null): global functions in "section 1".
    for (i, ((_, value), name)) in symbols.iter().zip(&name_offsets).enumerate() {
        let at = symtab + (i + 1) * 24;
        put(at, &name.to_le_bytes());
        put(at + 4, &[0x12, 0]); // STB_GLOBAL, STT_FUNC; st_other
        put(at + 6, &1u16.to_le_bytes()); // st_shndx
        put(at + 8, &(*value as u64).to_le_bytes());
        put(at + 16, &16u64.to_le_bytes()); // st_size
    }
    put(strtab, &strings);
    put(CODE_OFFSET, code);
    true
}
