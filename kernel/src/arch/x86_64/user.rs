//! Running ring-3 code: one call, `UserContext::execute`, that returns why user code stopped
//! (a system call, an exception, or an interrupt). The PKRU switch happens inside it, in
//! entry.s; everything around it is safe Rust.

use alloc::boxed::Box;
use core::mem::offset_of;
use core::sync::atomic::{AtomicU64, Ordering};

use super::cpu;
use super::gdt::{self, USER_CS, USER_SS};
use super::trap::{TrapFrame, PAGE_FAULT, SYSCALL_VECTOR};

/// MXCSR for the kernel after leaving user mode, and for a new user FPU state: all
/// exceptions masked, round to nearest.
#[no_mangle]
pub static DEFAULT_MXCSR: u32 = 0x1f80;

const XSAVE_AREA_SIZE: usize = 4096;

#[repr(C, align(64))]
pub struct XsaveArea(pub [u8; XSAVE_AREA_SIZE]);

/// General registers of a user thread, in the order Linux's `user_regs_struct` uses them.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GeneralRegs {
    pub rax: u64,
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rbp: u64,
    pub rsp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rip: u64,
    pub rflags: u64,
}

/// Why user code stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserExit {
    /// The `syscall` instruction: number in `rax`, arguments in rdi, rsi, rdx, r10, r8, r9.
    Syscall,
    /// A CPU exception raised by user code.
    Exception { vector: u8, error: u64, cr2: u64 },
    /// A device interrupt arrived while user code ran; it has not been handled yet.
    Interrupt(u8),
}

/// The state of one user thread while it is not running.
#[repr(C)]
pub struct UserContext {
    pub regs: GeneralRegs,
    pub fs_base: u64,
    /// The PKRU the thread resumes with: its application domain, or the libOS rights when it
    /// was interrupted inside the call gate (see `gate::resume_pkru`); never taken from user
    /// memory.
    pub pkru: u32,
    /// The thread's application domain.
    pub app_pkru: u32,
    fpu: XsaveArea,
}

pub const CTX_FPU_OFFSET: usize = offset_of!(UserContext, fpu);

/// Exception details recorded by `user_exit_collect` for `execute` (interrupts are off
/// between the two, and there is one CPU).
static LAST_PKRU: AtomicU64 = AtomicU64::new(0);
static LAST_ERROR: AtomicU64 = AtomicU64::new(0);
static LAST_CR2: AtomicU64 = AtomicU64::new(0);

/// The initial FPU image in a zeroed XSAVE/FXSAVE area: x87 control word and MXCSR.
fn initial_fpu_state(area: &mut [u8]) {
    area[0..2].copy_from_slice(&0x037fu16.to_le_bytes());
    area[24..28].copy_from_slice(&DEFAULT_MXCSR.to_le_bytes());
}

impl UserContext {
    /// A fresh context: all registers zero, interrupts enabled, initial FPU state.
    pub fn new(rip: u64, rsp: u64, pkru: u32) -> Self {
        let mut fpu = XsaveArea([0; XSAVE_AREA_SIZE]);
        initial_fpu_state(&mut fpu.0);
        UserContext {
            regs: GeneralRegs {
                rip,
                rsp,
                rflags: 0x202,
                ..Default::default()
            },
            fs_base: 0,
            pkru,
            app_pkru: pkru,
            fpu,
        }
    }

    /// A copy on the heap for a new thread (fork, clone), built in place: the 4 KiB FPU
    /// area is copied once, not into a temporary and again into the box.
    pub fn boxed_copy(&self) -> Box<Self> {
        let mut copy = Box::<Self>::new_uninit();
        // SAFETY: `UserContext` is plain data (registers, integers, a byte array: no
        // pointers, no Drop), so a bitwise copy of `self` initialises every field.
        unsafe {
            core::ptr::copy_nonoverlapping(self, copy.as_mut_ptr(), 1);
            copy.assume_init()
        }
    }

    /// The saved FPU image (XSAVE standard form, or FXSAVE without XSAVE).
    pub fn fpu_bytes(&self) -> &[u8] {
        &self.fpu.0
    }

    pub fn fpu_bytes_mut(&mut self) -> &mut [u8] {
        &mut self.fpu.0
    }

    /// Puts the FPU state back to its initial values (after a bad image was read in).
    pub fn reset_fpu(&mut self) {
        self.fpu.0.fill(0);
        initial_fpu_state(&mut self.fpu.0);
    }

    /// Runs the thread in ring 3 until it makes a system call, raises an exception, or an
    /// interrupt arrives. The caller handles the reason and calls again to continue.
    pub fn execute(&mut self) -> UserExit {
        // A non-canonical rip would make iretq fault in ring 0 with the user's GS loaded.
        // (An upper-half rip is harmless: ring 3 may fetch libOS code, never read its data;
        // the self-test probes run that way.)
        if !isounik_paging::is_canonical(self.regs.rip) {
            return UserExit::Exception {
                vector: 13,
                error: 0,
                cr2: 0,
            };
        }
        // CF PF AF ZF SF TF DF OF AC ID: what Linux lets user code set. Never IOPL, NT, VM.
        const USER_RFLAGS_MASK: u64 = 0xcd5 | (1 << 18) | (1 << 21);
        let rflags = (self.regs.rflags & USER_RFLAGS_MASK) | 0x202; // IF and the fixed bit
        let r = &self.regs;
        let frame = TrapFrame {
            pkru: if cfg!(feature = "break-pkru") {
                isounik_abi::pkey::LIBOS_PKRU as u64
            } else {
                self.pkru as u64
            },
            rax: r.rax,
            rbx: r.rbx,
            rcx: r.rcx,
            rdx: r.rdx,
            rsi: r.rsi,
            rdi: r.rdi,
            rbp: r.rbp,
            r8: r.r8,
            r9: r.r9,
            r10: r.r10,
            r11: r.r11,
            r12: r.r12,
            r13: r.r13,
            r14: r.r14,
            r15: r.r15,
            vector: 0,
            error: 0,
            rip: r.rip,
            cs: USER_CS as u64,
            rflags,
            rsp: r.rsp,
            ss: USER_SS as u64,
        };
        let reason = cpu::without_interrupts(|| {
            set_fs_base(self.fs_base);
            // SAFETY: the slot is the top of this CPU's entry stack, which is unused while
            // we are in ring 0 with interrupts off.
            unsafe { gdt::entry_frame_slot().write(frame) };
            // SAFETY: `self` is a valid, exclusively borrowed context whose FPU area is a
            // valid XSAVE image (built by `new` or saved by the entry code); the frame holds
            // user selectors, a lower-half rip and sanitized rflags. `user_enter` returns
            // here (through user_exit_common) with the kernel's callee-saved registers intact.
            unsafe { user_enter(self, gdt::entry_frame_slot()) }
        });
        match reason {
            SYSCALL_VECTOR => UserExit::Syscall,
            v if v < 32 => {
                let error = LAST_ERROR.load(Ordering::Relaxed);
                let cr2 = LAST_CR2.load(Ordering::Relaxed);
                UserExit::Exception {
                    vector: v as u8,
                    error,
                    cr2: if v == PAGE_FAULT { cr2 } else { 0 },
                }
            }
            v => UserExit::Interrupt(v as u8),
        }
    }
}

/// The FS base last written, to skip the (slow) WRMSR when it does not change.
static CURRENT_FS_BASE: AtomicU64 = AtomicU64::new(0);

fn set_fs_base(value: u64) {
    if CURRENT_FS_BASE.swap(value, Ordering::Relaxed) != value {
        // FS base only affects %fs accesses, which only user code makes.
        x86_64::registers::model_specific::FsBase::write(x86_64::VirtAddr::new_truncate(value))
    }
}

extern "C" {
    fn user_enter(ctx: *mut UserContext, frame: *mut TrapFrame) -> u64;
}

/// Called by entry.s on the thread's kernel stack after ring 3 stopped: copies the frame
/// into the context and returns the vector (or SYSCALL_VECTOR).
pub extern "C" fn user_exit_collect(ctx: &mut UserContext, frame: &TrapFrame) -> u64 {
    ctx.regs = GeneralRegs {
        rax: frame.rax,
        rbx: frame.rbx,
        rcx: frame.rcx,
        rdx: frame.rdx,
        rsi: frame.rsi,
        rdi: frame.rdi,
        rbp: frame.rbp,
        rsp: frame.rsp,
        r8: frame.r8,
        r9: frame.r9,
        r10: frame.r10,
        r11: frame.r11,
        r12: frame.r12,
        r13: frame.r13,
        r14: frame.r14,
        r15: frame.r15,
        rip: frame.rip,
        rflags: frame.rflags,
    };
    // The PKRU of the interrupted user code is not taken back: the thread's PKRU is kernel
    // state (ARCHITECTURE.md §4.3), except inside the call gate, which legitimately holds the
    // libOS rights it set itself. The interrupted value is recorded for the self tests.
    ctx.pkru = super::gate::resume_pkru(frame.rip, frame.pkru as u32, ctx.app_pkru);
    LAST_PKRU.store(frame.pkru, Ordering::Relaxed);
    LAST_ERROR.store(frame.error, Ordering::Relaxed);
    LAST_CR2.store(cpu::read_cr2(), Ordering::Relaxed);
    frame.vector
}

/// The PKRU that user code had when it last stopped (for self tests).
pub fn last_user_pkru() -> u32 {
    LAST_PKRU.load(Ordering::Relaxed) as u32
}
