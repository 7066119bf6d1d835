//! The x86-64 signal frame: `struct sigcontext` (asm/sigcontext.h), `struct ucontext`
//! (asm/ucontext.h), `struct rt_sigframe` (arch/x86/include/asm/sigframe.h) and the
//! placement of the FPU state, so the kernel's signal code needs no magic numbers.
//!
//! Delivery (`setup_rt_frame`): starting from the user `rsp` minus the 128-byte red zone
//! (or the top of the alternate stack), the FPU/xsave area is placed 64-byte aligned
//! below it, then the 440-byte frame below that, aligned so that `(rsp + 8) % 16 == 0`
//! as after a `call` ([`sigframe_layout`]). The frame holds `pretcode` (the handler's
//! return address, `sa_restorer`), the `ucontext` and the `siginfo`. The handler runs
//! with `rsp = frame`, `rdi = signo`, `rsi = frame + INFO`, `rdx = frame + UC`,
//! `rax = 0`, `rip = sa_handler`.
//!
//! Return (`rt_sigreturn`): the restorer executes `syscall` after the handler's `ret`
//! popped `pretcode`, so the frame starts at `user rsp - 8`. The kernel restores the
//! registers from `uc_mcontext` (only the [`FIX_EFLAGS`] bits of `eflags`), the blocked
//! mask from `uc_sigmask`, the FPU state from `fpstate`, and `uc_stack` through the
//! `sigaltstack` rules.

use super::le::*;
use super::signal::{Siginfo, Sigset, Stack};

/// Saved registers of the interrupted context (`struct sigcontext`, 64-bit): 256 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigContext {
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub rdx: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rsp: u64,
    pub rip: u64,
    pub eflags: u64,
    pub cs: u16,
    /// Always 0 on delivery (Linux does not save the selector).
    pub gs: u16,
    /// Always 0 on delivery.
    pub fs: u16,
    pub ss: u16,
    /// The page fault error code (or 0).
    pub err: u64,
    /// The exception vector that caused the signal (14 for #PF), or 0.
    pub trapno: u64,
    /// The low 64 bits of the blocked mask before delivery (also in `uc_sigmask`).
    pub oldmask: u64,
    /// The faulting address of a page fault.
    pub cr2: u64,
    /// User address of the FPU state (`struct _fpstate_64`), 0 if none.
    pub fpstate: u64,
}

/// Byte offsets inside `struct sigcontext`.
pub mod sigcontext_offsets {
    pub const R8: usize = 0;
    pub const R9: usize = 8;
    pub const R10: usize = 16;
    pub const R11: usize = 24;
    pub const R12: usize = 32;
    pub const R13: usize = 40;
    pub const R14: usize = 48;
    pub const R15: usize = 56;
    pub const RDI: usize = 64;
    pub const RSI: usize = 72;
    pub const RBP: usize = 80;
    pub const RBX: usize = 88;
    pub const RDX: usize = 96;
    pub const RAX: usize = 104;
    pub const RCX: usize = 112;
    pub const RSP: usize = 120;
    pub const RIP: usize = 128;
    pub const EFLAGS: usize = 136;
    pub const CS: usize = 144;
    pub const GS: usize = 146;
    pub const FS: usize = 148;
    pub const SS: usize = 150;
    pub const ERR: usize = 152;
    pub const TRAPNO: usize = 160;
    pub const OLDMASK: usize = 168;
    pub const CR2: usize = 176;
    pub const FPSTATE: usize = 184;
    /// `reserved1[8]`, zero.
    pub const RESERVED1: usize = 192;
    pub const SIZE: usize = 256;
}

use sigcontext_offsets as sc;

/// The `eflags` bits `rt_sigreturn` takes from the saved context (AC, OF, DF, TF, SF,
/// ZF, AF, PF, CF, RF); the others (IF, IOPL, VM...) keep their kernel-controlled values.
pub const FIX_EFLAGS: u64 =
    0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000;

impl SigContext {
    pub const SIZE: usize = sc::SIZE;

    fn gprs(&self) -> [(usize, u64); 18] {
        [
            (sc::R8, self.r8),
            (sc::R9, self.r9),
            (sc::R10, self.r10),
            (sc::R11, self.r11),
            (sc::R12, self.r12),
            (sc::R13, self.r13),
            (sc::R14, self.r14),
            (sc::R15, self.r15),
            (sc::RDI, self.rdi),
            (sc::RSI, self.rsi),
            (sc::RBP, self.rbp),
            (sc::RBX, self.rbx),
            (sc::RDX, self.rdx),
            (sc::RAX, self.rax),
            (sc::RCX, self.rcx),
            (sc::RSP, self.rsp),
            (sc::RIP, self.rip),
            (sc::EFLAGS, self.eflags),
        ]
    }

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        self.write(&mut b, 0);
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        (b.len() >= Self::SIZE).then(|| Self::read(b, 0))
    }

    pub(crate) fn write(&self, b: &mut [u8], off: usize) {
        for (o, v) in self.gprs() {
            put_u64(b, off + o, v);
        }
        put_u16(b, off + sc::CS, self.cs);
        put_u16(b, off + sc::GS, self.gs);
        put_u16(b, off + sc::FS, self.fs);
        put_u16(b, off + sc::SS, self.ss);
        put_u64(b, off + sc::ERR, self.err);
        put_u64(b, off + sc::TRAPNO, self.trapno);
        put_u64(b, off + sc::OLDMASK, self.oldmask);
        put_u64(b, off + sc::CR2, self.cr2);
        put_u64(b, off + sc::FPSTATE, self.fpstate);
    }

    pub(crate) fn read(b: &[u8], off: usize) -> Self {
        let g = |o: usize| get_u64(b, off + o);
        SigContext {
            r8: g(sc::R8),
            r9: g(sc::R9),
            r10: g(sc::R10),
            r11: g(sc::R11),
            r12: g(sc::R12),
            r13: g(sc::R13),
            r14: g(sc::R14),
            r15: g(sc::R15),
            rdi: g(sc::RDI),
            rsi: g(sc::RSI),
            rbp: g(sc::RBP),
            rbx: g(sc::RBX),
            rdx: g(sc::RDX),
            rax: g(sc::RAX),
            rcx: g(sc::RCX),
            rsp: g(sc::RSP),
            rip: g(sc::RIP),
            eflags: g(sc::EFLAGS),
            cs: get_u16(b, off + sc::CS),
            gs: get_u16(b, off + sc::GS),
            fs: get_u16(b, off + sc::FS),
            ss: get_u16(b, off + sc::SS),
            err: g(sc::ERR),
            trapno: g(sc::TRAPNO),
            oldmask: g(sc::OLDMASK),
            cr2: g(sc::CR2),
            fpstate: g(sc::FPSTATE),
        }
    }
}

/// `uc_flags`: the FPU state is in xsave format (magic words present).
pub const UC_FP_XSTATE: u64 = 0x1;
/// `uc_flags`: `sigcontext.ss` is valid (always set by 64-bit Linux).
pub const UC_SIGCONTEXT_SS: u64 = 0x2;
/// `uc_flags`: restore `ss` strictly on sigreturn (always set by 64-bit Linux).
pub const UC_STRICT_RESTORE_SS: u64 = 0x4;

/// `struct ucontext` (x86-64): flags, link, stack, mcontext, sigmask; 304 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UContext {
    pub uc_flags: u64,
    pub uc_link: u64,
    pub uc_stack: Stack,
    pub uc_mcontext: SigContext,
    pub uc_sigmask: Sigset,
}

/// Byte offsets inside `struct ucontext`.
pub mod ucontext_offsets {
    pub const FLAGS: usize = 0;
    pub const LINK: usize = 8;
    pub const STACK: usize = 16;
    pub const MCONTEXT: usize = 40;
    pub const SIGMASK: usize = 296;
    pub const SIZE: usize = 304;
}

use ucontext_offsets as uc;

impl UContext {
    pub const SIZE: usize = uc::SIZE;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        self.write(&mut b, 0);
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        (b.len() >= Self::SIZE).then(|| Self::read(b, 0))
    }

    pub(crate) fn write(&self, b: &mut [u8], off: usize) {
        put_u64(b, off + uc::FLAGS, self.uc_flags);
        put_u64(b, off + uc::LINK, self.uc_link);
        self.uc_stack.write(b, off + uc::STACK);
        self.uc_mcontext.write(b, off + uc::MCONTEXT);
        put_u64(b, off + uc::SIGMASK, self.uc_sigmask.0);
    }

    pub(crate) fn read(b: &[u8], off: usize) -> Self {
        UContext {
            uc_flags: get_u64(b, off + uc::FLAGS),
            uc_link: get_u64(b, off + uc::LINK),
            uc_stack: Stack::read(b, off + uc::STACK),
            uc_mcontext: SigContext::read(b, off + uc::MCONTEXT),
            uc_sigmask: Sigset(get_u64(b, off + uc::SIGMASK)),
        }
    }
}

/// Byte offsets inside `struct rt_sigframe` (x86-64).
pub mod rt_sigframe_offsets {
    /// The handler's return address (`sa_restorer`).
    pub const PRETCODE: usize = 0;
    /// `struct ucontext uc`.
    pub const UC: usize = 8;
    /// `struct siginfo info`.
    pub const INFO: usize = 8 + super::ucontext_offsets::SIZE;
    /// `sizeof(struct rt_sigframe)`; the FPU state is not part of it.
    pub const SIZE: usize = INFO + 128;
}

/// `struct rt_sigframe`: 440 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RtSigframe {
    pub pretcode: u64,
    pub uc: UContext,
    pub info: Siginfo,
}

impl RtSigframe {
    pub const SIZE: usize = rt_sigframe_offsets::SIZE;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u64(&mut b, rt_sigframe_offsets::PRETCODE, self.pretcode);
        self.uc.write(&mut b, rt_sigframe_offsets::UC);
        b[rt_sigframe_offsets::INFO..].copy_from_slice(self.info.as_bytes());
        b
    }

    /// Parses a frame; `rt_sigreturn` reads it at `user rsp - 8`.
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() < Self::SIZE {
            return None;
        }
        Some(RtSigframe {
            pretcode: get_u64(b, rt_sigframe_offsets::PRETCODE),
            uc: UContext::read(b, rt_sigframe_offsets::UC),
            info: Siginfo::from_bytes(&b[rt_sigframe_offsets::INFO..])?,
        })
    }
}

/// The FPU state area (`struct _fpstate_64` = the 512-byte `fxsave` image, followed by
/// the xsave header and extended state when `UC_FP_XSTATE`).
pub mod fpstate {
    /// Size of the legacy `fxsave` area.
    pub const FXSAVE_SIZE: usize = 512;
    /// Alignment Linux gives the area on the signal stack (xsave needs 64).
    pub const ALIGN: u64 = 64;
    pub const CWD: usize = 0;
    pub const SWD: usize = 2;
    pub const TWD: usize = 4;
    pub const FOP: usize = 6;
    pub const RIP: usize = 8;
    pub const RDP: usize = 16;
    pub const MXCSR: usize = 24;
    pub const MXCSR_MASK: usize = 28;
    /// `st_space[32]`: 8 x87 registers, 16 bytes each.
    pub const ST_SPACE: usize = 32;
    /// `xmm_space[64]`: 16 XMM registers, 16 bytes each.
    pub const XMM_SPACE: usize = 160;
    /// `sw_reserved`: the software bytes ([`super::FpxSwBytes`]), 48 bytes.
    pub const SW_RESERVED: usize = 464;
    /// The xsave header follows the legacy area.
    pub const XSAVE_HEADER: usize = 512;
    pub const XSAVE_HEADER_SIZE: usize = 64;
    /// `FP_XSTATE_MAGIC1` ("XSFP"), in `sw_reserved.magic1`.
    pub const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
    /// `FP_XSTATE_MAGIC2` ("EXPF"), stored right after the xsave image.
    pub const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;
    pub const FP_XSTATE_MAGIC2_SIZE: usize = 4;
    /// Reset values: x87 control word and MXCSR.
    pub const FCW_DEFAULT: u16 = 0x037f;
    pub const MXCSR_DEFAULT: u32 = 0x1f80;

    /// Bytes the FPU state takes on the signal stack: the xsave image plus
    /// `FP_XSTATE_MAGIC2` when xsave is used, else the 512-byte fxsave image.
    pub const fn sigframe_size(xstate_size: usize, xsave: bool) -> usize {
        if xsave {
            xstate_size + FP_XSTATE_MAGIC2_SIZE
        } else {
            FXSAVE_SIZE
        }
    }
}

/// `struct _fpx_sw_bytes` at `fpstate + 464`: tells user space the state is xsave format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FpxSwBytes {
    /// [`fpstate::FP_XSTATE_MAGIC1`].
    pub magic1: u32,
    /// xstate_size + `FP_XSTATE_MAGIC2_SIZE`.
    pub extended_size: u32,
    /// The xsave feature bits present (XCR0 subset).
    pub xfeatures: u64,
    /// Size of the xsave image (legacy area + header + extended state).
    pub xstate_size: u32,
}

impl FpxSwBytes {
    pub const SIZE: usize = 48;

    /// The software bytes Linux writes for an xsave image of `xstate_size` bytes.
    pub const fn for_xsave(xstate_size: u32, xfeatures: u64) -> Self {
        FpxSwBytes {
            magic1: fpstate::FP_XSTATE_MAGIC1,
            extended_size: xstate_size + fpstate::FP_XSTATE_MAGIC2_SIZE as u32,
            xfeatures,
            xstate_size,
        }
    }

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u32(&mut b, 0, self.magic1);
        put_u32(&mut b, 4, self.extended_size);
        put_u64(&mut b, 8, self.xfeatures);
        put_u32(&mut b, 16, self.xstate_size);
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        (b.len() >= Self::SIZE).then(|| FpxSwBytes {
            magic1: get_u32(b, 0),
            extended_size: get_u32(b, 4),
            xfeatures: get_u64(b, 8),
            xstate_size: get_u32(b, 16),
        })
    }
}

/// The x86-64 ABI red zone below `rsp` that signal delivery must skip.
pub const REDZONE: u64 = 128;

/// Where a signal frame goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameLayout {
    /// Address of the `rt_sigframe` (the handler's initial `rsp`).
    pub frame: u64,
    /// Address of the FPU state (`sigcontext.fpstate`), 64-byte aligned.
    pub fpstate: u64,
}

impl FrameLayout {
    pub const fn info(&self) -> u64 {
        self.frame + rt_sigframe_offsets::INFO as u64
    }
    pub const fn ucontext(&self) -> u64 {
        self.frame + rt_sigframe_offsets::UC as u64
    }
}

/// Linux's `get_sigframe` for x86-64: `start` is the user `rsp - REDZONE`, or the top of
/// the alternate signal stack (`ss_sp + ss_size`) when switching to it; `fpu_size` is
/// [`fpstate::sigframe_size`]. The FPU area is placed at `round_down(start - fpu_size,
/// 64)` and the frame at `round_down(fpstate - 440, 16) - 8`.
pub const fn sigframe_layout(start: u64, fpu_size: u64) -> FrameLayout {
    let fp = start.wrapping_sub(fpu_size) & !(fpstate::ALIGN - 1);
    let frame = (fp.wrapping_sub(RtSigframe::SIZE as u64) & !15).wrapping_sub(8);
    FrameLayout { frame, fpstate: fp }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structs::testutil::rd;

    fn sample_ctx() -> SigContext {
        SigContext {
            r8: 8,
            r9: 9,
            r10: 10,
            r11: 11,
            r12: 12,
            r13: 13,
            r14: 14,
            r15: 15,
            rdi: 0x1d,
            rsi: 0x51,
            rbp: 0xb0,
            rbx: 0xb1,
            rdx: 0xd1,
            rax: 0xa0,
            rcx: 0xc1,
            rsp: 0x7ffc_0000,
            rip: 0x40_1000,
            eflags: 0x246,
            cs: 0x33,
            gs: 0,
            fs: 0,
            ss: 0x2b,
            err: 6,
            trapno: 14,
            oldmask: 0x4000,
            cr2: 0xdead_0000,
            fpstate: 0x7ffb_f000,
        }
    }

    #[test]
    fn sigcontext_layout() {
        let c = sample_ctx();
        let b = c.to_bytes();
        assert_eq!(b.len(), 256);
        let expect: &[(usize, usize, u64)] = &[
            (0, 8, 8),
            (8, 8, 9),
            (16, 8, 10),
            (24, 8, 11),
            (32, 8, 12),
            (40, 8, 13),
            (48, 8, 14),
            (56, 8, 15),
            (64, 8, 0x1d),
            (72, 8, 0x51),
            (80, 8, 0xb0),
            (88, 8, 0xb1),
            (96, 8, 0xd1),
            (104, 8, 0xa0),
            (112, 8, 0xc1),
            (120, 8, 0x7ffc_0000),
            (128, 8, 0x40_1000),
            (136, 8, 0x246),
            (144, 2, 0x33),
            (146, 2, 0),
            (148, 2, 0),
            (150, 2, 0x2b),
            (152, 8, 6),
            (160, 8, 14),
            (168, 8, 0x4000),
            (176, 8, 0xdead_0000),
            (184, 8, 0x7ffb_f000),
        ];
        for &(off, n, v) in expect {
            assert_eq!(rd(&b, off, n), v, "offset {off}");
        }
        assert!(b[192..].iter().all(|&x| x == 0));
        assert_eq!(SigContext::from_bytes(&b), Some(c));
    }

    #[test]
    fn ucontext_and_frame_layout() {
        let u = UContext {
            uc_flags: UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS,
            uc_link: 0,
            uc_stack: Stack {
                ss_sp: 0x5000,
                ss_flags: 2,
                ss_size: 0x2000,
            },
            uc_mcontext: sample_ctx(),
            uc_sigmask: Sigset(0x1234),
        };
        let b = u.to_bytes();
        assert_eq!(b.len(), 304);
        assert_eq!(rd(&b, 0, 8), 7);
        assert_eq!(rd(&b, 8, 8), 0);
        assert_eq!(
            (rd(&b, 16, 8), rd(&b, 24, 4), rd(&b, 32, 8)),
            (0x5000, 2, 0x2000)
        );
        assert_eq!(rd(&b, 40 + 128, 8), 0x40_1000); // uc_mcontext.rip
        assert_eq!(rd(&b, 40 + 184, 8), 0x7ffb_f000); // uc_mcontext.fpstate
        assert_eq!(rd(&b, 296, 8), 0x1234);
        assert_eq!(UContext::from_bytes(&b), Some(u));

        let info = Siginfo::fault(11, 1, 0xdead_0000);
        let f = RtSigframe {
            pretcode: 0x40_2000,
            uc: u,
            info,
        };
        let fb = f.to_bytes();
        assert_eq!(fb.len(), 440);
        assert_eq!(rd(&fb, 0, 8), 0x40_2000);
        assert_eq!(&fb[8..312], &b[..]);
        assert_eq!(rd(&fb, 312, 4), 11);
        assert_eq!(rd(&fb, 312 + 16, 8), 0xdead_0000);
        assert_eq!(RtSigframe::from_bytes(&fb), Some(f));
        assert_eq!(rt_sigframe_offsets::INFO, 312);
    }

    #[test]
    fn placement() {
        // fxsave-only: 512 bytes.
        let l = sigframe_layout(
            0x7fff_ffff_e000 - REDZONE,
            fpstate::sigframe_size(0, false) as u64,
        );
        assert_eq!(l.fpstate % 64, 0);
        assert!(l.fpstate + 512 <= 0x7fff_ffff_e000 - REDZONE);
        assert_eq!((l.frame + 8) % 16, 0);
        assert!(l.frame + RtSigframe::SIZE as u64 <= l.fpstate);
        assert_eq!(l.fpstate, 0x7fff_ffff_dd80);
        assert_eq!(l.frame, 0x7fff_ffff_dbb8);
        assert_eq!(l.info(), l.frame + 312);
        assert_eq!(l.ucontext(), l.frame + 8);
        // xsave with AVX: 832 + 4 bytes.
        let l = sigframe_layout(0x1_0000, fpstate::sigframe_size(832, true) as u64);
        assert_eq!(l.fpstate, (0x1_0000 - 836) & !63);
        assert_eq!((l.frame + 8) % 16, 0);

        let sw = FpxSwBytes::for_xsave(832, 0x7);
        let b = sw.to_bytes();
        assert_eq!(
            (rd(&b, 0, 4), rd(&b, 4, 4), rd(&b, 8, 8), rd(&b, 16, 4)),
            (0x4650_5853, 836, 7, 832)
        );
        assert!(b[20..].iter().all(|&x| x == 0));
        assert_eq!(FpxSwBytes::from_bytes(&b), Some(sw));
        assert_eq!(FIX_EFLAGS, 0x50dd5);
    }
}
