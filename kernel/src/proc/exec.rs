//! Loading a static ELF executable into a fresh address space and building the initial
//! stack of the x86-64 psABI (argc, argv, envp, auxv).

use alloc::string::String;
use alloc::vec::Vec;

use isounik_abi::layout::PAGE_SIZE;
use isounik_linux::errno::Errno;

use crate::fs::FileRef;
use crate::mm::vm::{AddressSpace, Backing, Prot, Vma, VmaName, STACK_MAX, STACK_TOP, VDSO_BASE};

/// Where a position-independent executable (static-PIE) is loaded, as Linux's
/// ELF_ET_DYN_BASE (no address randomization yet).
const PIE_BASE: u64 = 0x5555_5555_4000;
/// Limits on what `execve` accepts, as Linux's (MAX_ARG_STRLEN, ARG_MAX-like total).
const MAX_ARG_LEN: usize = 128 * 1024;
const MAX_ARGS_TOTAL: usize = 2 * 1024 * 1024;
const MAX_PHDRS: usize = 128;

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_PHDR: u32 = 6;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

/// Why a program could not be executed, with a message for the user.
#[derive(Debug)]
pub struct ExecError {
    pub errno: Errno,
    pub message: String,
}

fn fail(errno: Errno, message: impl Into<String>) -> ExecError {
    ExecError {
        errno,
        message: message.into(),
    }
}

/// What the kernel needs to start the program.
pub struct Loaded {
    pub mm: AddressSpace,
    pub entry: u64,
    pub stack_pointer: u64,
}

#[derive(Clone, Copy)]
struct Segment {
    kind: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Parses and validates the ELF header and program headers.
fn parse(file: &FileRef, path: &str) -> Result<(u16, u64, u64, Vec<Segment>), ExecError> {
    let size = file.size();
    let mut ehdr = [0u8; 64];
    let n = file
        .read_at(0, &mut ehdr)
        .map_err(|e| fail(e, "read error"))?;
    if n < 4 || ehdr[..4] != *b"\x7fELF" {
        return Err(fail(
            Errno::ENOEXEC,
            alloc::format!("{path}: not an ELF executable (exec format error)"),
        ));
    }
    let bad = |what: &str| {
        fail(
            Errno::ENOEXEC,
            alloc::format!("{path}: malformed ELF file: {what}"),
        )
    };
    if n < 64 {
        return Err(bad("truncated ELF header"));
    }
    if ehdr[4] != 2 || ehdr[5] != 1 {
        return Err(fail(
            Errno::ENOEXEC,
            alloc::format!("{path}: not a 64-bit little-endian ELF file"),
        ));
    }
    let kind = u16_at(&ehdr, 16);
    if u16_at(&ehdr, 18) != 62 {
        return Err(fail(
            Errno::ENOEXEC,
            alloc::format!("{path}: ELF file is not for x86-64"),
        ));
    }
    if kind != 2 && kind != 3 {
        return Err(fail(
            Errno::ENOEXEC,
            alloc::format!("{path}: ELF file is not an executable (type {kind})"),
        ));
    }
    let entry = u64_at(&ehdr, 24);
    let phoff = u64_at(&ehdr, 32);
    let phentsize = u16_at(&ehdr, 54) as usize;
    let phnum = u16_at(&ehdr, 56) as usize;
    if phentsize != 56 {
        return Err(bad("unexpected program header size"));
    }
    if phnum == 0 || phnum > MAX_PHDRS {
        return Err(bad("bad program header count"));
    }
    let table_len = (phnum * phentsize) as u64;
    if phoff.checked_add(table_len).is_none_or(|end| end > size) {
        return Err(bad("program headers lie outside the file"));
    }
    let mut table = alloc::vec![0u8; table_len as usize];
    if file
        .read_at(phoff, &mut table)
        .map_err(|e| fail(e, "read error"))?
        != table.len()
    {
        return Err(bad("truncated program headers"));
    }
    let mut segments = Vec::with_capacity(phnum);
    for ph in table.chunks_exact(56) {
        let seg = Segment {
            kind: u32_at(ph, 0),
            flags: u32_at(ph, 4),
            offset: u64_at(ph, 8),
            vaddr: u64_at(ph, 16),
            filesz: u64_at(ph, 32),
            memsz: u64_at(ph, 40),
        };
        if seg.kind == PT_INTERP {
            let mut interp = alloc::vec![0u8; seg.filesz.min(256) as usize];
            let _ = file.read_at(seg.offset, &mut interp);
            let interp = String::from_utf8_lossy(interp.split(|b| *b == 0).next().unwrap_or(&[]))
                .into_owned();
            return Err(fail(
                Errno::ENOEXEC,
                alloc::format!("{path}: dynamically linked programs are not supported yet (interpreter {interp}); link it statically (-static)"),
            ));
        }
        if seg.kind == PT_LOAD {
            if seg.flags & PF_W != 0 && seg.flags & PF_X != 0 {
                return Err(fail(
                    Errno::EPERM,
                    alloc::format!(
                        "{path}: refused: a segment is both writable and executable (W^X)"
                    ),
                ));
            }
            if seg.filesz > seg.memsz {
                return Err(bad("a segment's file size exceeds its memory size"));
            }
            if seg
                .offset
                .checked_add(seg.filesz)
                .is_none_or(|end| end > size)
            {
                return Err(bad(
                    "a segment extends past the end of the file (truncated?)",
                ));
            }
            if seg.offset % PAGE_SIZE != seg.vaddr % PAGE_SIZE {
                return Err(bad(
                    "a segment's offset and address are not congruent modulo the page size",
                ));
            }
            if seg.vaddr.checked_add(seg.memsz).is_none() {
                return Err(bad("a segment wraps around the address space"));
            }
        }
        segments.push(seg);
    }
    if !segments.iter().any(|s| s.kind == PT_LOAD) {
        return Err(bad("no loadable segment"));
    }
    for s in segments
        .iter()
        .filter(|s| s.kind == PT_LOAD && s.flags & PF_X != 0)
    {
        if let Some(at) = crate::mm::scan::find_wrpkru_in_file(file, s.offset, s.filesz)
            .map_err(|e| fail(e, "read error"))?
        {
            return Err(fail(
                Errno::EPERM,
                alloc::format!("{path}: refused: executable code contains the WRPKRU instruction (0f 01 ef) at file offset {at:#x}, which could change protection keys"),
            ));
        }
    }
    Ok((kind, entry, phoff, segments))
}

/// Loads `file` (at guest path `path`) with `argv` and `envp` into a new address space,
/// which is left active.
pub fn load(
    file: &FileRef,
    path: &str,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    random: [u8; 16],
) -> Result<Loaded, ExecError> {
    let (kind, entry, phoff, segments) = parse(file, path)?;
    let bias = if kind == 3 { PIE_BASE } else { 0 };
    let mut mm = AddressSpace::new().map_err(|e| fail(e, "out of memory"))?;
    let mut brk = 0;
    for s in segments.iter().filter(|s| s.kind == PT_LOAD && s.memsz > 0) {
        let vaddr = s.vaddr + bias;
        let start = vaddr & !(PAGE_SIZE - 1);
        let end = (vaddr + s.memsz).div_ceil(PAGE_SIZE) * PAGE_SIZE;
        let prot = Prot {
            read: s.flags & PF_R != 0,
            write: s.flags & PF_W != 0,
            exec: s.flags & PF_X != 0,
        };
        let vma = Vma {
            start,
            end,
            prot,
            backing: Backing::File {
                file: file.clone(),
                offset: s.offset & !(PAGE_SIZE - 1),
                file_bytes: s.filesz + (vaddr - start),
            },
            name: VmaName::Path(String::from(path)),
            shared: false,
        };
        mm.insert(vma).map_err(|_| {
            fail(
                Errno::ENOEXEC,
                alloc::format!(
                    "{path}: malformed ELF file: segments overlap or lie outside user memory"
                ),
            )
        })?;
        brk = brk.max(end);
    }
    mm.brk_start = brk;
    mm.brk = brk;
    let phdr_addr = segments
        .iter()
        .find(|s| s.kind == PT_PHDR)
        .map(|s| s.vaddr + bias)
        .or_else(|| {
            segments
                .iter()
                .find(|s| s.kind == PT_LOAD && s.offset <= phoff && phoff < s.offset + s.filesz)
                .map(|s| s.vaddr + bias + (phoff - s.offset))
        })
        .unwrap_or(0);
    mm.insert(Vma {
        start: STACK_TOP - STACK_MAX,
        end: STACK_TOP,
        prot: Prot::RW,
        backing: Backing::Anonymous,
        name: VmaName::Stack,
        shared: false,
    })
    .map_err(|_| {
        fail(
            Errno::ENOEXEC,
            alloc::format!("{path}: malformed ELF file: a segment overlaps the stack"),
        )
    })?;
    if crate::arch::x86_64::gate::enabled() {
        mm.map_trampoline().map_err(|e| fail(e, "out of memory"))?;
    }
    // The vDSO's two pages ([vvar], [vdso]) right above the stack.
    let vdso_base = VDSO_BASE;
    let vdso = match super::vdso::get() {
        Some(v) => {
            mm.map_shared_page(vdso_base, v.vvar.clone(), Prot::R, VmaName::Vvar)
                .and_then(|()| {
                    mm.map_shared_page(
                        vdso_base + PAGE_SIZE,
                        v.code.clone(),
                        Prot::RX,
                        VmaName::Vdso,
                    )
                })
                .map_err(|_| {
                    fail(
                        Errno::ENOEXEC,
                        alloc::format!("{path}: a segment overlaps the vDSO"),
                    )
                })?;
            vdso_base + PAGE_SIZE
        }
        None => 0,
    };
    mm.activate();
    let aux = Auxv {
        phdr: phdr_addr,
        phnum: segments.len() as u64,
        entry: entry + bias,
        vdso,
    };
    let sp = build_stack(&mut mm, path, argv, envp, random, &aux)
        .map_err(|e| fail(e, "argument list too long"))?;
    Ok(Loaded {
        mm,
        entry: entry + bias,
        stack_pointer: sp,
    })
}

struct Auxv {
    phdr: u64,
    phnum: u64,
    entry: u64,
    /// The vDSO's ELF header (0: none).
    vdso: u64,
}

mod at {
    pub const NULL: u64 = 0;
    pub const SYSINFO_EHDR: u64 = 33;
    pub const PHDR: u64 = 3;
    pub const PHENT: u64 = 4;
    pub const PHNUM: u64 = 5;
    pub const PAGESZ: u64 = 6;
    pub const BASE: u64 = 7;
    pub const FLAGS: u64 = 8;
    pub const ENTRY: u64 = 9;
    pub const UID: u64 = 11;
    pub const EUID: u64 = 12;
    pub const GID: u64 = 13;
    pub const EGID: u64 = 14;
    pub const PLATFORM: u64 = 15;
    pub const HWCAP: u64 = 16;
    pub const CLKTCK: u64 = 17;
    pub const SECURE: u64 = 23;
    pub const RANDOM: u64 = 25;
    pub const HWCAP2: u64 = 26;
    pub const EXECFN: u64 = 31;
    pub const MINSIGSTKSZ: u64 = 51;
}

/// Writes strings, then pointers and auxv, below STACK_TOP; returns the initial rsp
/// (16-byte aligned, pointing at argc).
fn build_stack(
    mm: &mut AddressSpace,
    path: &str,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    random: [u8; 16],
    aux: &Auxv,
) -> Result<u64, Errno> {
    let total: usize = argv.iter().chain(envp).map(|s| s.len() + 1).sum();
    if total > MAX_ARGS_TOTAL || argv.iter().chain(envp).any(|s| s.len() > MAX_ARG_LEN) {
        return Err(Errno::E2BIG);
    }
    let mut sp = STACK_TOP;
    let mut push_bytes = |mm: &mut AddressSpace, bytes: &[u8], nul: bool| -> Result<u64, Errno> {
        sp -= bytes.len() as u64 + nul as u64;
        mm.write(sp, bytes)?;
        if nul {
            mm.write(sp + bytes.len() as u64, &[0])?;
        }
        Ok(sp)
    };
    let random_addr = push_bytes(mm, &random, false)?;
    let platform = push_bytes(mm, b"x86_64", true)?;
    let execfn = push_bytes(mm, path.as_bytes(), true)?;
    let mut env_ptrs = Vec::with_capacity(envp.len());
    for e in envp.iter().rev() {
        env_ptrs.push(push_bytes(mm, e, true)?);
    }
    env_ptrs.reverse();
    let mut arg_ptrs = Vec::with_capacity(argv.len());
    for a in argv.iter().rev() {
        arg_ptrs.push(push_bytes(mm, a, true)?);
    }
    arg_ptrs.reverse();

    let hwcap = core::arch::x86_64::__cpuid(1).edx as u64;
    let hwcap2 = if crate::arch::x86_64::cpu::cpu().fsgsbase {
        2
    } else {
        0
    }; // HWCAP2_FSGSBASE
    let auxv: [(u64, u64); 20] = [
        (at::SYSINFO_EHDR, aux.vdso),
        (at::PHDR, aux.phdr),
        (at::PHENT, 56),
        (at::PHNUM, aux.phnum),
        (at::PAGESZ, PAGE_SIZE),
        (at::BASE, 0),
        (at::FLAGS, 0),
        (at::ENTRY, aux.entry),
        (at::UID, 0),
        (at::EUID, 0),
        (at::GID, 0),
        (at::EGID, 0),
        (at::SECURE, 0),
        (at::RANDOM, random_addr),
        (at::HWCAP, hwcap),
        (at::HWCAP2, hwcap2),
        (at::CLKTCK, 100),
        (at::PLATFORM, platform),
        (at::EXECFN, execfn),
        (at::MINSIGSTKSZ, 2048),
    ];
    let mut words: Vec<u64> =
        Vec::with_capacity(3 + arg_ptrs.len() + env_ptrs.len() + 2 * auxv.len() + 2);
    words.push(argv.len() as u64);
    words.extend(&arg_ptrs);
    words.push(0);
    words.extend(&env_ptrs);
    words.push(0);
    for (k, v) in auxv {
        words.push(k);
        words.push(v);
    }
    words.push(at::NULL);
    words.push(0);
    // rsp points at argc and is 16-byte aligned at entry.
    let rsp = (sp - words.len() as u64 * 8) & !15;
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    mm.write(rsp, &bytes)?;
    Ok(rsp)
}

/// Linux's limit on the `#!` line (BINPRM_BUF_SIZE).
const SHEBANG_MAX: usize = 256;
/// How many `#!` interpreters may chain (Linux allows 4 levels).
pub const MAX_INTERPRETER_DEPTH: usize = 4;

/// A `#!` line: the interpreter path and its optional single argument.
pub type Shebang = (Vec<u8>, Option<Vec<u8>>);

/// For a `#!` script: the interpreter path and its optional single argument (everything
/// after the first blank, trimmed, as Linux passes it). `None` for other files.
pub fn shebang(file: &FileRef) -> Result<Option<Shebang>, Errno> {
    let mut head = [0u8; SHEBANG_MAX];
    let n = file.read_at(0, &mut head)?;
    let head = &head[..n];
    if !head.starts_with(b"#!") {
        return Ok(None);
    }
    let line_end = head
        .iter()
        .position(|b| *b == b'\n')
        .ok_or(Errno::ENOEXEC)?;
    let line = head[2..line_end].trim_ascii();
    if line.is_empty() {
        return Err(Errno::ENOEXEC);
    }
    let split = line.iter().position(|b| *b == b' ' || *b == b'\t');
    Ok(Some(match split {
        None => (line.to_vec(), None),
        Some(i) => {
            let arg = line[i..].trim_ascii();
            (line[..i].to_vec(), (!arg.is_empty()).then(|| arg.to_vec()))
        }
    }))
}

/// Rewrites (path, argv) for a script: argv becomes [interpreter, (arg), script path,
/// argv[1..]] and the interpreter is executed instead.
pub fn apply_shebang(
    path: &[u8],
    argv: &[Vec<u8>],
    interp: Vec<u8>,
    arg: Option<Vec<u8>>,
) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut new_argv = Vec::with_capacity(argv.len() + 2);
    new_argv.push(interp.clone());
    if let Some(a) = arg {
        new_argv.push(a);
    }
    new_argv.push(path.to_vec());
    new_argv.extend(argv.iter().skip(1).cloned());
    (interp, new_argv)
}
