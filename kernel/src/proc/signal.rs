//! Signals: sending (to a thread, a process, a process group), default actions, delivery
//! to handlers with Linux's x86-64 frame, and `rt_sigreturn`. PKRU, CS and SS are never
//! taken from user memory (ARCHITECTURE.md §4.3): a forged frame changes registers only.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use isounik_linux::errno::Errno;
use isounik_linux::signal::{self as sig, DefaultAction};
use isounik_linux::structs::sigframe::{
    fpstate, rt_sigframe_offsets, SigContext, UContext, FIX_EFLAGS, UC_FP_XSTATE, UC_SIGCONTEXT_SS,
};
use isounik_linux::structs::{Sigaction, Siginfo, Sigset, Stack};

use super::{ExitStatus, Pid, Process, Thread, ThreadShared};
use crate::arch::x86_64::{cpu, gdt};
use crate::sched;

pub use isounik_linux::signal::{
    BUS_ADRALN, BUS_ADRERR, FPE_FLTINV, FPE_INTDIV, ILL_ILLOPN, SEGV_ACCERR, SEGV_MAPERR,
    SEGV_PKUERR, SI_KERNEL, TRAP_BRKPT,
};

pub const SIGKILL: u8 = 9;
pub const SIGSEGV: u8 = 11;
pub const SIGPIPE: u8 = 13;
pub const SIGALRM: u8 = 14;
pub const SIGCHLD: u8 = 17;
pub const SIGCONT: u8 = 18;
pub const SIGSTOP: u8 = 19;
pub const SIGTSTP: u8 = 20;

pub const UNBLOCKABLE: u64 = bit(SIGKILL) | bit(SIGSTOP);
/// `stack_t` with SS_DISABLE.
pub const DISABLED_ALT_STACK: [u8; 24] = [
    0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

pub const fn bit(sig: u8) -> u64 {
    1 << (sig - 1)
}

fn action(t: &Thread, sig: u8) -> Sigaction {
    Sigaction::from_bytes(&t.sighand.lock().actions[sig as usize]).unwrap_or_default()
}

/// Whether `sig` would be discarded right away for process `p` (ignored, not blocked).
fn ignored_by(p: &Process, sig: u8) -> bool {
    let handlers = p.inner.lock().sighand.clone();
    let a = Sigaction::from_bytes(&handlers.lock().actions[sig as usize]).unwrap_or_default();
    match a.sa_handler {
        sig::SIG_IGN => sig != SIGKILL && sig != SIGSTOP,
        sig::SIG_DFL => matches!(sig::default_action(sig as u32), DefaultAction::Ignore),
        _ => false,
    }
}

/// Sends `sig` to process `p` from the kernel (SI_KERNEL).
pub fn send_to_process(p: &Arc<Process>, sig: u8) {
    send_to_process_with(p, sig, Siginfo::kernel(sig as u32));
}

/// Sends `sig` with `info` to process `p`. SIGCONT resumes it; SIGKILL ends every thread.
pub fn send_to_process_with(p: &Arc<Process>, sig: u8, info: Siginfo) {
    if sig == 0 {
        return;
    }
    if sig == SIGCONT || sig == SIGKILL {
        continue_process(p);
    }
    if matches!(sig, SIGSTOP | SIGTSTP | 21 | 22) {
        // A stop cancels a pending continue (and vice versa).
        p.inner.lock().pending &= !bit(SIGCONT);
    }
    if ignored_by(p, sig) && sig != SIGCONT {
        return;
    }
    let threads = {
        let mut inner = p.inner.lock();
        if inner.zombie.is_some() {
            return;
        }
        if inner.pending & bit(sig) == 0 {
            inner.siginfo.retain(|(s, _)| *s != sig);
            inner.siginfo.push((sig, info));
        }
        inner.pending |= bit(sig);
        inner.threads.clone()
    };
    note_event();
    // Wake a thread that can take it (or all, for SIGKILL), so blocked calls notice.
    for tid in threads {
        if let Some(ts) = super::thread_shared(tid) {
            if sig == SIGKILL || ts.blocked.load(Ordering::Relaxed) & bit(sig) == 0 {
                sched::wake(tid);
                if sig != SIGKILL {
                    break;
                }
            }
        }
    }
}

/// Sends `sig` to one thread (tkill/tgkill, and faults).
pub fn send_to_thread(tid: u32, sig: u8) -> Result<(), Errno> {
    let ts = super::thread_shared(tid).ok_or(Errno::ESRCH)?;
    if sig == 0 {
        return Ok(());
    }
    let p = super::process(ts.pid).ok_or(Errno::ESRCH)?;
    if sig == SIGCONT || sig == SIGKILL {
        continue_process(&p);
    }
    if ignored_by(&p, sig) && sig != SIGCONT {
        return Ok(());
    }
    ts.pending.fetch_or(bit(sig), Ordering::Relaxed);
    note_event();
    sched::wake(tid);
    Ok(())
}

/// Sends `sig` to every process of group `pgid`; ESRCH if there is none.
pub fn send_to_group(pgid: Pid, sig: u8) -> Result<(), Errno> {
    let mut found = false;
    for p in super::all_processes() {
        let matches = {
            let inner = p.inner.lock();
            inner.pgid == pgid && inner.zombie.is_none()
        };
        if matches {
            found = true;
            send_to_process(&p, sig);
        }
    }
    if found {
        Ok(())
    } else {
        Err(Errno::ESRCH)
    }
}

fn continue_process(p: &Arc<Process>) {
    let was_stopped = {
        let mut inner = p.inner.lock();
        inner.pending &= !(bit(SIGSTOP) | bit(SIGTSTP) | bit(21) | bit(22));
        let was = inner.stopped.take().is_some();
        if was {
            inner.stop_report = Some(super::wait::StopReport::Continued);
        }
        was
    };
    if was_stopped {
        for tid in super::threads_of(p) {
            sched::wake(tid);
        }
        super::wait::notify_parent(p, super::wait::ChildEvent::Continued);
    }
}

/// Signals pending for `t` that it does not block.
fn deliverable(t: &Thread) -> u64 {
    let mine = t.shared.pending.load(Ordering::Relaxed);
    let group = t.inner().pending;
    (mine | group) & !t.blocked()
}

pub fn has_deliverable(t: &Thread) -> bool {
    check_real_timer(t);
    deliverable(t) != 0 || t.inner().group_exit.is_some()
}

/// Takes the lowest deliverable signal (synchronous faults first, as Linux), with its
/// siginfo when the sender left one.
fn dequeue(t: &Thread) -> Option<(u8, Option<Siginfo>)> {
    let set = deliverable(t);
    if set == 0 {
        return None;
    }
    let sync = set & (bit(4) | bit(5) | bit(7) | bit(8) | bit(11) | bit(31));
    let pick = if sync != 0 { sync } else { set };
    let sig = pick.trailing_zeros() as u8 + 1;
    if t.shared.pending.load(Ordering::Relaxed) & bit(sig) != 0 {
        t.shared.pending.fetch_and(!bit(sig), Ordering::Relaxed);
        return Some((sig, None));
    }
    let mut inner = t.inner();
    inner.pending &= !bit(sig);
    let info = inner
        .siginfo
        .iter()
        .position(|(s, _)| *s == sig)
        .map(|i| inner.siginfo.remove(i).1);
    Some((sig, info))
}

/// Ends every thread of the process with `status` (exit_group, fatal signals).
pub fn group_exit(t: &mut Thread, status: ExitStatus) {
    let others = {
        let mut inner = t.inner();
        if inner.group_exit.is_none() {
            inner.group_exit = Some(status);
        }
        inner.threads.clone()
    };
    note_event();
    let status = t.inner().group_exit.unwrap_or(status);
    t.exit = Some(status);
    for tid in others.into_iter().filter(|x| *x != t.tid) {
        sched::wake(tid);
    }
}

/// execve: the other threads of the process end (without ending the process).
pub fn kill_other_threads(t: &mut Thread) {
    let others: alloc::vec::Vec<u32> = t
        .inner()
        .threads
        .iter()
        .copied()
        .filter(|x| *x != t.tid)
        .collect();
    for tid in others {
        let _ = send_to_thread(tid, SIGKILL);
    }
}

/// A fault in user code: deliver `sig` now if a handler can take it, else end the process
/// with a report.
pub fn force_fault_signal(t: &mut Thread, sig: u8, code: i32, addr: u64, reason: &str) {
    // A fault inside the call gate (e.g. an unusable stack) must not leave the libOS rights
    // to a signal handler: the thread continues with its application PKRU only.
    t.ctx.pkru = t.ctx.app_pkru;
    let a = action(t, sig);
    let blocked = t.blocked() & bit(sig) != 0;
    if a.sa_handler > sig::SIG_IGN && !blocked {
        let info = Siginfo::fault(sig as u32, code, addr);
        if setup_frame(t, sig, &a, info).is_ok() {
            return;
        }
    }
    super::kill_by_signal(t.pid, sig, reason);
    group_exit(t, ExitStatus::Signaled(sig));
}

/// Before returning to user mode: restart an interrupted system call or turn it into
/// EINTR, run default actions, or set up a handler's frame.
/// Counts signals sent, group exits and stops: with the timer's ticks (alarms expire with
/// time), what can make `work_pending` true for a thread while it runs. The MPK gate reads
/// it before and after a call it runs in ring 3 and takes the locked check only when it
/// moved (or the call unblocked a signal).
static EVENTS: AtomicU64 = AtomicU64::new(0);

/// Increases whenever `work_pending` may have become true for some thread.
pub fn events() -> u64 {
    EVENTS
        .load(Ordering::Relaxed)
        .wrapping_add(crate::time::ticks())
}

fn note_event() {
    EVENTS.fetch_add(1, Ordering::Relaxed);
}

/// Whether a thread has anything for `deliver` to do besides a restart or a temporary
/// mask: a group exit, a stop, an expired alarm, a signal it does not block. Takes the
/// process lock once (before every return to ring 3, and at the end of gate calls in ring 3).
pub fn work_pending(process: &Process, shared: &ThreadShared) -> bool {
    let inner = process.inner.lock();
    inner.group_exit.is_some()
        || inner.stopped.is_some()
        || inner
            .real_timer
            .is_some_and(|(expiry, _)| expiry <= crate::time::uptime_ns())
        || (shared.pending.load(Ordering::Relaxed) | inner.pending)
            & !shared.blocked.load(Ordering::Relaxed)
            != 0
}

pub fn deliver(t: &mut Thread) {
    // The common case, nothing to do (before every return to ring 3): one look under the
    // process lock instead of one per condition.
    if !t.restart && t.saved_mask.is_none() && !work_pending(&t.process, &t.shared) {
        return;
    }
    let group = t.inner().group_exit;
    if let Some(status) = group {
        t.exit = Some(status);
        return;
    }
    // Inside the call gate with libOS rights: deliver when it has left them (a few
    // instructions later), never on a frame built from the gate's state.
    if t.ctx.pkru != t.ctx.app_pkru {
        return;
    }
    let mut restart = core::mem::take(&mut t.restart);
    check_real_timer(t);
    loop {
        // A stopped process waits here until SIGCONT or SIGKILL.
        if t.inner().stopped.is_some() {
            if t.inner().group_exit.is_some()
                || t.shared.pending.load(Ordering::Relaxed) & bit(SIGKILL) != 0
            {
                break;
            }
            sched::block(None);
            continue;
        }
        let Some((sig, info)) = dequeue(t) else { break };
        if sig == SIGKILL {
            group_exit(t, ExitStatus::Signaled(SIGKILL));
            return;
        }
        let a = action(t, sig);
        match a.sa_handler {
            sig::SIG_IGN => continue,
            sig::SIG_DFL => match sig::default_action(sig as u32) {
                DefaultAction::Ignore | DefaultAction::Continue => continue,
                DefaultAction::Stop => {
                    stop_process(t, sig);
                    continue;
                }
                DefaultAction::Terminate | DefaultAction::CoreDump => {
                    // The host shows how the first program ended; a shell reports its children.
                    if t.pid == 1 {
                        super::kill_by_signal(t.pid, sig, "sent by a process");
                    }
                    group_exit(t, ExitStatus::Signaled(sig));
                    return;
                }
            },
            _ => {
                if restart {
                    restart = false;
                    if a.sa_flags & sig::SA_RESTART != 0 {
                        rewind_syscall(t);
                    } else {
                        t.ctx.regs.rax = (-(Errno::EINTR as i64)) as u64;
                    }
                }
                let info = info.unwrap_or_else(|| Siginfo::kernel(sig as u32));
                if setup_frame(t, sig, &a, info).is_err() {
                    super::kill_by_signal(
                        t.pid,
                        SIGSEGV,
                        "cannot write the signal frame (bad stack)",
                    );
                    group_exit(t, ExitStatus::Signaled(SIGSEGV));
                    return;
                }
                break;
            }
        }
    }
    if restart {
        // Interrupted by a signal that did not run a handler: restart transparently.
        rewind_syscall(t);
    }
    if let Some(mask) = t.saved_mask.take() {
        t.set_blocked(mask);
    }
}

/// rt_sigtimedwait: takes a pending signal of `set` (blocked or not) without delivering it.
pub fn take_from(t: &Thread, set: u64) -> Option<u8> {
    check_real_timer(t);
    let mine = t.shared.pending.load(Ordering::Relaxed) & set;
    if mine != 0 {
        let sig = mine.trailing_zeros() as u8 + 1;
        t.shared.pending.fetch_and(!bit(sig), Ordering::Relaxed);
        return Some(sig);
    }
    let mut inner = t.inner();
    let group = inner.pending & set;
    if group != 0 {
        let sig = group.trailing_zeros() as u8 + 1;
        inner.pending &= !bit(sig);
        return Some(sig);
    }
    None
}

/// ITIMER_REAL: posts SIGALRM when the process's timer has expired (and re-arms it).
pub fn check_real_timer(t: &Thread) {
    let now = crate::time::uptime_ns();
    let fire = {
        let mut inner = t.inner();
        match inner.real_timer {
            Some((expiry, interval)) if expiry <= now => {
                inner.real_timer = (interval != 0).then(|| (now + interval, interval));
                if let Some((next, _)) = inner.real_timer {
                    crate::time::arm_process_timer(t.pid, Some(next));
                }
                true
            }
            _ => false,
        }
    };
    if fire {
        send_to_process(&t.process, SIGALRM);
    }
}

/// Makes the thread execute its interrupted `syscall` instruction again.
fn rewind_syscall(t: &mut Thread) {
    t.ctx.regs.rip -= 2;
    t.ctx.regs.rax = t.syscall_nr;
}

fn stop_process(t: &mut Thread, sig: u8) {
    {
        let mut inner = t.inner();
        inner.stopped = Some(sig);
        inner.stop_report = Some(super::wait::StopReport::Stopped(sig));
    }
    note_event();
    super::wait::notify_parent(&t.process, super::wait::ChildEvent::Stopped);
}

/// Bytes of FPU state in a signal frame: the XSAVE area for the enabled features, or the
/// 512-byte FXSAVE area.
fn fpu_size() -> usize {
    if cpu::cpu().xsave {
        (core::arch::x86_64::__cpuid_count(0xd, 0).ebx as usize).clamp(576, 4096)
    } else {
        fpstate::FXSAVE_SIZE
    }
}

fn alt_stack(t: &Thread) -> Stack {
    Stack::from_bytes(&t.alt_stack).unwrap_or_default()
}

/// Builds Linux's `rt_sigframe` on the user stack and points the thread at the handler.
fn setup_frame(t: &mut Thread, sig: u8, a: &Sigaction, info: Siginfo) -> Result<(), Errno> {
    if a.sa_flags & sig::SA_RESTORER == 0 || a.sa_restorer == 0 {
        return Err(Errno::EFAULT);
    }
    let regs = t.ctx.regs;
    let alt = alt_stack(t);
    let on_alt = alt.ss_size != 0 && regs.rsp > alt.ss_sp && regs.rsp <= alt.ss_sp + alt.ss_size;
    let mut sp = regs.rsp.wrapping_sub(128); // the red zone
    if a.sa_flags & sig::SA_ONSTACK != 0 && alt.ss_flags & 2 == 0 && alt.ss_size != 0 && !on_alt {
        sp = alt.ss_sp + alt.ss_size;
    }
    let size = fpu_size();
    let fp_addr = (sp - size as u64 - 4) & !(fpstate::ALIGN - 1);
    let frame_addr = ((fp_addr - rt_sigframe_offsets::SIZE as u64) & !15) - 8;
    let xsave = cpu::cpu().xsave;
    // After rt_sigsuspend the handler returns to the mask from before the call.
    let old_mask = t.saved_mask.take().unwrap_or(t.blocked());
    let mc = SigContext {
        r8: regs.r8,
        r9: regs.r9,
        r10: regs.r10,
        r11: regs.r11,
        r12: regs.r12,
        r13: regs.r13,
        r14: regs.r14,
        r15: regs.r15,
        rdi: regs.rdi,
        rsi: regs.rsi,
        rbp: regs.rbp,
        rbx: regs.rbx,
        rdx: regs.rdx,
        rax: regs.rax,
        rcx: regs.rcx,
        rsp: regs.rsp,
        rip: regs.rip,
        eflags: regs.rflags,
        cs: gdt::USER_CS,
        gs: 0,
        fs: 0,
        ss: gdt::USER_SS,
        err: 0,
        trapno: 0,
        oldmask: old_mask,
        cr2: 0,
        fpstate: fp_addr,
    };
    let uc = UContext {
        uc_flags: UC_SIGCONTEXT_SS | if xsave { UC_FP_XSTATE } else { 0 },
        uc_link: 0,
        uc_stack: alt,
        uc_mcontext: mc,
        uc_sigmask: Sigset(old_mask),
    };
    let frame = isounik_linux::structs::sigframe::RtSigframe {
        pretcode: a.sa_restorer,
        uc,
        info,
    };
    {
        // The saved FPU image straight to the frame (one copy of its 1-4 KiB).
        let mut mm = t.mm();
        mm.write(fp_addr, &t.ctx.fpu_bytes()[..size])?;
        if xsave {
            // struct _fpx_sw_bytes in the legacy area's software-reserved bytes, and the
            // trailing magic, so user code can tell an extended frame.
            let mut sw = [0u8; 20];
            sw[0..4].copy_from_slice(&fpstate::FP_XSTATE_MAGIC1.to_le_bytes());
            sw[4..8].copy_from_slice(&((size + 4) as u32).to_le_bytes());
            sw[8..16].copy_from_slice(&cpu::read_xcr0().to_le_bytes());
            sw[16..20].copy_from_slice(&(size as u32).to_le_bytes());
            mm.write(fp_addr + 464, &sw)?;
            mm.write(
                fp_addr + size as u64,
                &fpstate::FP_XSTATE_MAGIC2.to_le_bytes(),
            )?;
        }
        mm.write(frame_addr, &frame.to_bytes())?;
    }
    let mut new_mask = old_mask | a.sa_mask.0;
    if a.sa_flags & sig::SA_NODEFER == 0 {
        new_mask |= bit(sig);
    }
    t.set_blocked(new_mask);
    if a.sa_flags & sig::SA_RESETHAND != 0 {
        t.sighand.lock().actions[sig as usize] = [0; 32];
    }
    let r = &mut t.ctx.regs;
    r.rsp = frame_addr;
    r.rip = a.sa_handler;
    r.rdi = sig as u64;
    r.rsi = frame_addr + rt_sigframe_offsets::INFO as u64;
    r.rdx = frame_addr + rt_sigframe_offsets::UC as u64;
    r.rax = 0;
    r.rflags &= !(0x100 | 0x400); // TF, DF
    Ok(())
}

/// `rt_sigreturn`: restores what `setup_frame` saved. A frame that cannot be read or whose
/// FPU image is invalid kills the thread with SIGSEGV (as Linux).
pub fn sigreturn(t: &mut Thread) -> Result<u64, Errno> {
    let frame_addr = t.ctx.regs.rsp.wrapping_sub(8);
    let mut bytes = [0u8; rt_sigframe_offsets::SIZE];
    t.mm().read(frame_addr, &mut bytes)?;
    let frame =
        isounik_linux::structs::sigframe::RtSigframe::from_bytes(&bytes).ok_or(Errno::EFAULT)?;
    let mc = frame.uc.uc_mcontext;
    if mc.fpstate != 0 {
        // Read straight into the saved image (one copy); one that cannot be read or would
        // fault in XRSTOR is replaced by the initial state before the thread dies of it.
        let size = fpu_size();
        let mm = alloc::sync::Arc::clone(&t.mm);
        let read = mm
            .lock()
            .read(mc.fpstate, &mut t.ctx.fpu_bytes_mut()[..size]);
        if read.is_err() || !fpu_image_valid(&t.ctx.fpu_bytes()[..size]) {
            t.ctx.reset_fpu();
            return Err(Errno::EFAULT);
        }
    }
    let r = &mut t.ctx.regs;
    r.r8 = mc.r8;
    r.r9 = mc.r9;
    r.r10 = mc.r10;
    r.r11 = mc.r11;
    r.r12 = mc.r12;
    r.r13 = mc.r13;
    r.r14 = mc.r14;
    r.r15 = mc.r15;
    r.rdi = mc.rdi;
    r.rsi = mc.rsi;
    r.rbp = mc.rbp;
    r.rbx = mc.rbx;
    r.rdx = mc.rdx;
    r.rcx = mc.rcx;
    r.rsp = mc.rsp;
    r.rip = mc.rip;
    // Only the flags user code may change (CS, SS and PKRU are never taken from the frame).
    r.rflags = (r.rflags & !FIX_EFLAGS) | (mc.eflags & FIX_EFLAGS);
    t.set_blocked(frame.uc.uc_sigmask.0);
    t.alt_stack = frame.uc.uc_stack.to_bytes();
    Ok(mc.rax)
}

/// Whether an FPU image from user memory is safe to load with XRSTOR/FXRSTOR in ring 0:
/// a bad one would fault inside the kernel's return path.
fn fpu_image_valid(fpu: &[u8]) -> bool {
    let mxcsr = u32::from_le_bytes(fpu[24..28].try_into().expect("4"));
    if mxcsr & 0xffff_0000 != 0 {
        return false;
    }
    if !cpu::cpu().xsave {
        return true;
    }
    if fpu.len() < 576 {
        return false;
    }
    let xstate_bv = u64::from_le_bytes(fpu[512..520].try_into().expect("8"));
    let xcomp_bv = u64::from_le_bytes(fpu[520..528].try_into().expect("8"));
    let reserved_zero = fpu[528..576].iter().all(|b| *b == 0);
    xstate_bv & !cpu::read_xcr0() == 0 && xcomp_bv == 0 && reserved_zero
}
