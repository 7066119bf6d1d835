//! Signal sets, `struct sigaction` (kernel layout), `stack_t` and `siginfo_t`.

use super::le::*;
use crate::signal::*;

/// A signal set: bit `sig - 1` for signal `sig` (1..=64), 8 bytes on x86-64.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Sigset(pub u64);

impl Sigset {
    pub const SIZE: usize = 8;
    pub const EMPTY: Sigset = Sigset(0);
    pub const FULL: Sigset = Sigset(u64::MAX);
    /// `SIGKILL` and `SIGSTOP`, which can never be blocked.
    pub const UNBLOCKABLE: Sigset = Sigset((1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1)));

    /// The bit of `sig`, 0 for numbers outside 1..=64.
    pub const fn bit(sig: u32) -> u64 {
        if sig >= 1 && sig <= NSIG {
            1 << (sig - 1)
        } else {
            0
        }
    }

    pub const fn of(sig: u32) -> Sigset {
        Sigset(Self::bit(sig))
    }

    pub const fn contains(self, sig: u32) -> bool {
        Self::bit(sig) != 0 && self.0 & Self::bit(sig) != 0
    }

    pub fn add(&mut self, sig: u32) {
        self.0 |= Self::bit(sig);
    }

    pub fn remove(&mut self, sig: u32) {
        self.0 &= !Self::bit(sig);
    }

    pub const fn with(self, sig: u32) -> Sigset {
        Sigset(self.0 | Self::bit(sig))
    }

    pub const fn without(self, sig: u32) -> Sigset {
        Sigset(self.0 & !Self::bit(sig))
    }

    pub const fn union(self, o: Sigset) -> Sigset {
        Sigset(self.0 | o.0)
    }

    pub const fn intersection(self, o: Sigset) -> Sigset {
        Sigset(self.0 & o.0)
    }

    pub const fn difference(self, o: Sigset) -> Sigset {
        Sigset(self.0 & !o.0)
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The set with `SIGKILL` and `SIGSTOP` removed: what any blocked mask becomes
    /// (`sigprocmask`, `sigaction`'s `sa_mask`, `sigsuspend`, signal delivery).
    pub const fn blockable(self) -> Sigset {
        self.difference(Self::UNBLOCKABLE)
    }

    /// `rt_sigprocmask(how, set)` applied to the current mask `self`; `None` for an
    /// invalid `how` (`EINVAL`). The unblockable signals are dropped from the result.
    pub const fn apply(self, how: u32, set: Sigset) -> Option<Sigset> {
        let m = match how {
            SIG_BLOCK => self.union(set),
            SIG_UNBLOCK => self.difference(set),
            SIG_SETMASK => set,
            _ => return None,
        };
        Some(m.blockable())
    }

    /// The lowest signal in the set (Linux delivers the lowest pending unblocked signal,
    /// synchronous signals first).
    pub const fn lowest(self) -> Option<u32> {
        if self.0 == 0 {
            None
        } else {
            Some(self.0.trailing_zeros() + 1)
        }
    }

    /// The signals in the set, ascending.
    pub fn iter(self) -> impl Iterator<Item = u32> {
        (1..=NSIG).filter(move |&s| self.contains(s))
    }

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        self.0.to_le_bytes()
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        (b.len() >= Self::SIZE).then(|| Sigset(get_u64(b, 0)))
    }
}

/// The kernel's `struct sigaction` for `rt_sigaction` on x86-64: handler, flags,
/// restorer, mask; 32 bytes. (Not glibc's user-space layout.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sigaction {
    /// Handler address, or [`SIG_DFL`] / [`SIG_IGN`].
    pub sa_handler: u64,
    pub sa_flags: u64,
    /// Where the handler returns (required: `SA_RESTORER`).
    pub sa_restorer: u64,
    pub sa_mask: Sigset,
}

impl Sigaction {
    pub const SIZE: usize = 32;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u64(&mut b, 0, self.sa_handler);
        put_u64(&mut b, 8, self.sa_flags);
        put_u64(&mut b, 16, self.sa_restorer);
        put_u64(&mut b, 24, self.sa_mask.0);
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        (b.len() >= Self::SIZE).then(|| Sigaction {
            sa_handler: get_u64(b, 0),
            sa_flags: get_u64(b, 8),
            sa_restorer: get_u64(b, 16),
            sa_mask: Sigset(get_u64(b, 24)),
        })
    }
}

/// `stack_t` (`sigaltstack`, `uc_stack`): sp u64 at 0, flags i32 at 8, size u64 at 16;
/// 24 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stack {
    pub ss_sp: u64,
    pub ss_flags: i32,
    pub ss_size: u64,
}

impl Stack {
    pub const SIZE: usize = 24;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        self.write(&mut b, 0);
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        (b.len() >= Self::SIZE).then(|| Self::read(b, 0))
    }

    pub(crate) fn write(&self, b: &mut [u8], off: usize) {
        put_u64(b, off, self.ss_sp);
        put_i32(b, off + 8, self.ss_flags);
        put_u64(b, off + 16, self.ss_size);
    }

    pub(crate) fn read(b: &[u8], off: usize) -> Self {
        Stack {
            ss_sp: get_u64(b, off),
            ss_flags: get_i32(b, off + 8),
            ss_size: get_u64(b, off + 16),
        }
    }
}

/// `siginfo_t` on x86-64: 128 bytes. `si_signo` at 0, `si_errno` at 4, `si_code` at 8,
/// and the union at 16 (aligned to 8). Built by the constructors below, which cover the
/// kernel's uses; the raw bytes are what user space sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Siginfo {
    raw: [u8; Siginfo::SIZE],
}

impl Default for Siginfo {
    fn default() -> Self {
        Siginfo {
            raw: [0; Siginfo::SIZE],
        }
    }
}

/// Field offsets inside `siginfo_t` (x86-64).
pub mod siginfo_offsets {
    pub const SIGNO: usize = 0;
    pub const ERRNO: usize = 4;
    pub const CODE: usize = 8;
    /// Start of the union.
    pub const FIELDS: usize = 16;
    /// kill/rt/sigchld: `si_pid` (i32), `si_uid` (u32).
    pub const PID: usize = 16;
    pub const UID: usize = 20;
    /// sigchld: `si_status` (i32), `si_utime`, `si_stime` (clock_t = i64, in USER_HZ ticks).
    pub const STATUS: usize = 24;
    pub const UTIME: usize = 32;
    pub const STIME: usize = 40;
    /// rt (sigqueue) and timer: `si_value` (union sigval, 8 bytes).
    pub const VALUE: usize = 24;
    /// timer: `si_tid` (the timer id, i32), `si_overrun` (i32), value at 24.
    pub const TIMERID: usize = 16;
    pub const OVERRUN: usize = 20;
    /// sigfault: `si_addr`, `si_addr_lsb` (i16), `si_lower`/`si_upper`, `si_pkey` (u32).
    pub const ADDR: usize = 16;
    pub const ADDR_LSB: usize = 24;
    pub const LOWER: usize = 32;
    pub const UPPER: usize = 40;
    pub const PKEY: usize = 32;
    /// sigpoll: `si_band` (long), `si_fd` (i32).
    pub const BAND: usize = 16;
    pub const FD: usize = 24;
    /// sigsys: `si_call_addr`, `si_syscall` (i32), `si_arch` (u32).
    pub const CALL_ADDR: usize = 16;
    pub const SYSCALL: usize = 24;
    pub const ARCH: usize = 28;
}

use siginfo_offsets as so;

/// `AUDIT_ARCH_X86_64` (the `si_arch` of `SIGSYS`).
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

impl Siginfo {
    pub const SIZE: usize = 128;

    /// Header only: signal, errno, code; the union zeroed.
    pub fn new(signo: u32, errno: i32, code: i32) -> Self {
        let mut s = Siginfo::default();
        put_i32(&mut s.raw, so::SIGNO, signo as i32);
        put_i32(&mut s.raw, so::ERRNO, errno);
        put_i32(&mut s.raw, so::CODE, code);
        s
    }

    /// Sent by `kill` (code `SI_USER`) from process `pid` with real uid `uid`.
    pub fn kill(signo: u32, pid: i32, uid: u32) -> Self {
        Self::sender(signo, SI_USER, pid, uid)
    }

    /// Sent by `tkill`/`tgkill` (code `SI_TKILL`).
    pub fn tkill(signo: u32, pid: i32, uid: u32) -> Self {
        Self::sender(signo, SI_TKILL, pid, uid)
    }

    /// A kill-style siginfo with an explicit code (`SI_USER`, `SI_TKILL`, `SI_KERNEL`...).
    pub fn sender(signo: u32, code: i32, pid: i32, uid: u32) -> Self {
        let mut s = Self::new(signo, 0, code);
        put_i32(&mut s.raw, so::PID, pid);
        put_u32(&mut s.raw, so::UID, uid);
        s
    }

    /// Raised by the kernel itself (code `SI_KERNEL`, pid and uid 0), e.g. SIGKILL on OOM,
    /// SIGPIPE from a write, SIGSEGV for a bad signal frame.
    pub fn kernel(signo: u32) -> Self {
        Self::sender(signo, SI_KERNEL, 0, 0)
    }

    /// Queued by `rt_sigqueueinfo`/`sigqueue` (code `SI_QUEUE`) with a value.
    pub fn queue(signo: u32, pid: i32, uid: u32, value: u64) -> Self {
        let mut s = Self::sender(signo, SI_QUEUE, pid, uid);
        put_u64(&mut s.raw, so::VALUE, value);
        s
    }

    /// A fault (`SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE`, `SIGTRAP`) at `addr` with a
    /// `SEGV_*`/`BUS_*`/`ILL_*`/`FPE_*`/`TRAP_*` code.
    pub fn fault(signo: u32, code: i32, addr: u64) -> Self {
        let mut s = Self::new(signo, 0, code);
        put_u64(&mut s.raw, so::ADDR, addr);
        s
    }

    /// A protection-key violation: `SIGSEGV`, `SEGV_PKUERR`, `si_addr`, and `si_pkey` at
    /// offset 32.
    pub fn pkey_fault(addr: u64, pkey: u32) -> Self {
        let mut s = Self::fault(SIGSEGV, SEGV_PKUERR, addr);
        put_u32(&mut s.raw, so::PKEY, pkey);
        s
    }

    /// `SIGCHLD` for a child state change: `code` is `CLD_*`, `status` the exit code
    /// (`CLD_EXITED`) or the signal (other codes), times in clock ticks.
    pub fn child(code: i32, pid: i32, uid: u32, status: i32, utime: i64, stime: i64) -> Self {
        let mut s = Self::sender(SIGCHLD, code, pid, uid);
        put_i32(&mut s.raw, so::STATUS, status);
        put_i64(&mut s.raw, so::UTIME, utime);
        put_i64(&mut s.raw, so::STIME, stime);
        s
    }

    /// A POSIX timer expiry (code `SI_TIMER`): timer id, overrun count, the `sigev_value`.
    pub fn timer(signo: u32, timer_id: i32, overrun: i32, value: u64) -> Self {
        let mut s = Self::new(signo, 0, SI_TIMER);
        put_i32(&mut s.raw, so::TIMERID, timer_id);
        put_i32(&mut s.raw, so::OVERRUN, overrun);
        put_u64(&mut s.raw, so::VALUE, value);
        s
    }

    /// A seccomp/syscall-dispatch `SIGSYS` (code `SYS_SECCOMP` or `SYS_USER_DISPATCH`).
    pub fn sigsys(code: i32, call_addr: u64, syscall: i32, errno: i32) -> Self {
        let mut s = Self::new(SIGSYS, errno, code);
        put_u64(&mut s.raw, so::CALL_ADDR, call_addr);
        put_i32(&mut s.raw, so::SYSCALL, syscall);
        put_u32(&mut s.raw, so::ARCH, AUDIT_ARCH_X86_64);
        s
    }

    pub fn signo(&self) -> u32 {
        get_i32(&self.raw, so::SIGNO) as u32
    }
    pub fn errno(&self) -> i32 {
        get_i32(&self.raw, so::ERRNO)
    }
    pub fn code(&self) -> i32 {
        get_i32(&self.raw, so::CODE)
    }
    pub fn pid(&self) -> i32 {
        get_i32(&self.raw, so::PID)
    }
    pub fn uid(&self) -> u32 {
        get_u32(&self.raw, so::UID)
    }
    pub fn status(&self) -> i32 {
        get_i32(&self.raw, so::STATUS)
    }
    pub fn utime(&self) -> i64 {
        get_i64(&self.raw, so::UTIME)
    }
    pub fn stime(&self) -> i64 {
        get_i64(&self.raw, so::STIME)
    }
    pub fn value(&self) -> u64 {
        get_u64(&self.raw, so::VALUE)
    }
    pub fn addr(&self) -> u64 {
        get_u64(&self.raw, so::ADDR)
    }
    pub fn pkey(&self) -> u32 {
        get_u32(&self.raw, so::PKEY)
    }
    pub fn timer_id(&self) -> i32 {
        get_i32(&self.raw, so::TIMERID)
    }
    pub fn overrun(&self) -> i32 {
        get_i32(&self.raw, so::OVERRUN)
    }

    /// Overrides `si_code` (e.g. to force `SI_QUEUE`-style checks).
    pub fn set_code(&mut self, code: i32) {
        put_i32(&mut self.raw, so::CODE, code);
    }

    pub fn as_bytes(&self) -> &[u8; Self::SIZE] {
        &self.raw
    }

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        self.raw
    }

    /// The siginfo a program passed to `rt_sigqueueinfo`/`pidfd_send_signal` (the kernel
    /// then checks that a user may not forge `si_code >= 0` or `SI_TKILL` for another
    /// process).
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() < Self::SIZE {
            return None;
        }
        let mut raw = [0u8; Self::SIZE];
        raw.copy_from_slice(&b[..Self::SIZE]);
        Some(Siginfo { raw })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structs::testutil::rd;

    #[test]
    fn sigset_rules() {
        let mut s = Sigset::EMPTY;
        s.add(SIGINT);
        s.add(SIGTERM);
        assert_eq!(s.0, (1 << 1) | (1 << 14));
        assert!(s.contains(SIGINT) && !s.contains(SIGHUP));
        assert!(!s.contains(0) && !s.contains(65));
        s.remove(SIGINT);
        assert_eq!(s.iter().collect::<alloc::vec::Vec<_>>(), [SIGTERM]);
        assert_eq!(Sigset::of(64).0, 1 << 63);
        assert_eq!(Sigset::of(0).0, 0);
        assert_eq!(Sigset::FULL.blockable().0, !((1 << 8) | (1 << 18)));
        assert!(!Sigset::FULL.blockable().contains(SIGKILL));
        assert!(!Sigset::FULL.blockable().contains(SIGSTOP));
        let cur = Sigset::of(SIGUSR1);
        assert_eq!(
            cur.apply(SIG_BLOCK, Sigset::of(SIGKILL).with(SIGINT)),
            Some(cur.with(SIGINT))
        );
        assert_eq!(cur.apply(SIG_UNBLOCK, cur), Some(Sigset::EMPTY));
        assert_eq!(
            cur.apply(SIG_SETMASK, Sigset::FULL),
            Some(Sigset::FULL.blockable())
        );
        assert_eq!(cur.apply(3, cur), None);
        assert_eq!(Sigset::of(SIGCHLD).with(SIGHUP).lowest(), Some(SIGHUP));
        assert_eq!(Sigset::EMPTY.lowest(), None);
        assert_eq!(Sigset::from_bytes(&s.to_bytes()), Some(s));
    }

    #[test]
    fn sigaction_and_stack() {
        let a = Sigaction {
            sa_handler: 0x401000,
            sa_flags: SA_RESTORER | SA_SIGINFO,
            sa_restorer: 0x402000,
            sa_mask: Sigset::of(SIGINT),
        };
        let b = a.to_bytes();
        assert_eq!(b.len(), 32);
        assert_eq!(rd(&b, 0, 8), 0x401000);
        assert_eq!(rd(&b, 8, 8), 0x0400_0004);
        assert_eq!(rd(&b, 16, 8), 0x402000);
        assert_eq!(rd(&b, 24, 8), 2);
        assert_eq!(Sigaction::from_bytes(&b), Some(a));

        let st = Stack {
            ss_sp: 0x7000_0000,
            ss_flags: SS_DISABLE,
            ss_size: 8192,
        };
        let b = st.to_bytes();
        assert_eq!(b.len(), 24);
        assert_eq!(
            (rd(&b, 0, 8), rd(&b, 8, 4), rd(&b, 12, 4), rd(&b, 16, 8)),
            (0x7000_0000, 2, 0, 8192)
        );
        assert_eq!(Stack::from_bytes(&b), Some(st));
    }

    #[test]
    fn siginfo_layouts() {
        let k = Siginfo::kill(SIGTERM, 42, 1000).to_bytes();
        assert_eq!(k.len(), 128);
        assert_eq!((rd(&k, 0, 4), rd(&k, 4, 4), rd(&k, 8, 4)), (15, 0, 0));
        assert_eq!((rd(&k, 12, 4), rd(&k, 16, 4), rd(&k, 20, 4)), (0, 42, 1000));
        assert!(k[24..].iter().all(|&x| x == 0));

        let t = Siginfo::tkill(SIGUSR1, 7, 0);
        assert_eq!(t.code(), -6);
        assert_eq!(rd(t.as_bytes(), 8, 4), 0xffff_fffa);

        let f = Siginfo::fault(SIGSEGV, SEGV_MAPERR, 0xdead_beef_0000).to_bytes();
        assert_eq!(
            (rd(&f, 0, 4), rd(&f, 8, 4), rd(&f, 16, 8)),
            (11, 1, 0xdead_beef_0000)
        );

        let p = Siginfo::pkey_fault(0x1000, 5);
        let pb = p.to_bytes();
        assert_eq!((rd(&pb, 0, 4), rd(&pb, 8, 4)), (11, 4));
        assert_eq!(rd(&pb, 16, 8), 0x1000);
        assert_eq!(rd(&pb, 32, 4), 5);
        assert_eq!(p.pkey(), 5);

        let c = Siginfo::child(CLD_EXITED, 99, 0, 3, 10, 20);
        let cb = c.to_bytes();
        assert_eq!((rd(&cb, 0, 4), rd(&cb, 8, 4)), (17, 1));
        assert_eq!((rd(&cb, 16, 4), rd(&cb, 20, 4), rd(&cb, 24, 4)), (99, 0, 3));
        assert_eq!((rd(&cb, 32, 8), rd(&cb, 40, 8)), (10, 20));
        assert_eq!((c.pid(), c.status(), c.utime(), c.stime()), (99, 3, 10, 20));

        let tm = Siginfo::timer(SIGALRM, 1, 2, 0xabc).to_bytes();
        assert_eq!(rd(&tm, 8, 4), 0xffff_fffe);
        assert_eq!(
            (rd(&tm, 16, 4), rd(&tm, 20, 4), rd(&tm, 24, 8)),
            (1, 2, 0xabc)
        );

        let q = Siginfo::queue(40, 5, 6, 77);
        assert_eq!(
            (q.signo(), q.code(), q.pid(), q.uid(), q.value()),
            (40, -1, 5, 6, 77)
        );

        let sy = Siginfo::sigsys(SYS_SECCOMP, 0x401234, 39, 0).to_bytes();
        assert_eq!(
            (rd(&sy, 16, 8), rd(&sy, 24, 4), rd(&sy, 28, 4)),
            (0x401234, 39, 0xc000_003e)
        );

        let kern = Siginfo::kernel(SIGPIPE);
        assert_eq!((kern.signo(), kern.code()), (13, 0x80));
        assert_eq!(Siginfo::from_bytes(kern.as_bytes()), Some(kern));
        assert_eq!(Siginfo::from_bytes(&[0; 127]), None);
    }
}
