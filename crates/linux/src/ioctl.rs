//! `ioctl` request numbers: the encoding (asm-generic/ioctl.h) and the terminal and file
//! requests (asm-generic/ioctls.h, linux/sockios.h).

use crate::flags::Names;
use alloc::string::String;
use core::fmt::Write;

pub const IOC_NRBITS: u32 = 8;
pub const IOC_TYPEBITS: u32 = 8;
pub const IOC_SIZEBITS: u32 = 14;
pub const IOC_DIRBITS: u32 = 2;
pub const IOC_NRSHIFT: u32 = 0;
pub const IOC_TYPESHIFT: u32 = IOC_NRSHIFT + IOC_NRBITS;
pub const IOC_SIZESHIFT: u32 = IOC_TYPESHIFT + IOC_TYPEBITS;
pub const IOC_DIRSHIFT: u32 = IOC_SIZESHIFT + IOC_SIZEBITS;
/// `_IOC_NONE`, `_IOC_WRITE`, `_IOC_READ`.
pub const IOC_NONE: u32 = 0;
pub const IOC_WRITE: u32 = 1;
pub const IOC_READ: u32 = 2;

/// `_IOC(dir, type, nr, size)`.
pub const fn ioc(dir: u32, ty: u32, nr: u32, size: u32) -> u32 {
    (dir << IOC_DIRSHIFT) | (ty << IOC_TYPESHIFT) | (nr << IOC_NRSHIFT) | (size << IOC_SIZESHIFT)
}
/// `_IO(type, nr)`.
pub const fn io(ty: u32, nr: u32) -> u32 {
    ioc(IOC_NONE, ty, nr, 0)
}
/// `_IOR(type, nr, size)` (the size of the argument type in bytes).
pub const fn ior(ty: u32, nr: u32, size: u32) -> u32 {
    ioc(IOC_READ, ty, nr, size)
}
/// `_IOW(type, nr, size)`.
pub const fn iow(ty: u32, nr: u32, size: u32) -> u32 {
    ioc(IOC_WRITE, ty, nr, size)
}
/// `_IOWR(type, nr, size)`.
pub const fn iowr(ty: u32, nr: u32, size: u32) -> u32 {
    ioc(IOC_READ | IOC_WRITE, ty, nr, size)
}
pub const fn ioc_dir(cmd: u32) -> u32 {
    (cmd >> IOC_DIRSHIFT) & ((1 << IOC_DIRBITS) - 1)
}
pub const fn ioc_type(cmd: u32) -> u32 {
    (cmd >> IOC_TYPESHIFT) & ((1 << IOC_TYPEBITS) - 1)
}
pub const fn ioc_nr(cmd: u32) -> u32 {
    (cmd >> IOC_NRSHIFT) & ((1 << IOC_NRBITS) - 1)
}
pub const fn ioc_size(cmd: u32) -> u32 {
    (cmd >> IOC_SIZESHIFT) & ((1 << IOC_SIZEBITS) - 1)
}

pub const TCGETS: u32 = 0x5401;
pub const TCSETS: u32 = 0x5402;
pub const TCSETSW: u32 = 0x5403;
pub const TCSETSF: u32 = 0x5404;
pub const TCGETA: u32 = 0x5405;
pub const TCSETA: u32 = 0x5406;
pub const TCSETAW: u32 = 0x5407;
pub const TCSETAF: u32 = 0x5408;
pub const TCSBRK: u32 = 0x5409;
pub const TCXONC: u32 = 0x540A;
pub const TCFLSH: u32 = 0x540B;
pub const TIOCEXCL: u32 = 0x540C;
pub const TIOCNXCL: u32 = 0x540D;
pub const TIOCSCTTY: u32 = 0x540E;
pub const TIOCGPGRP: u32 = 0x540F;
pub const TIOCSPGRP: u32 = 0x5410;
pub const TIOCOUTQ: u32 = 0x5411;
pub const TIOCSTI: u32 = 0x5412;
pub const TIOCGWINSZ: u32 = 0x5413;
pub const TIOCSWINSZ: u32 = 0x5414;
pub const TIOCMGET: u32 = 0x5415;
pub const TIOCMBIS: u32 = 0x5416;
pub const TIOCMBIC: u32 = 0x5417;
pub const TIOCMSET: u32 = 0x5418;
pub const TIOCGSOFTCAR: u32 = 0x5419;
pub const TIOCSSOFTCAR: u32 = 0x541A;
pub const FIONREAD: u32 = 0x541B;
pub const TIOCINQ: u32 = FIONREAD;
pub const TIOCLINUX: u32 = 0x541C;
pub const TIOCCONS: u32 = 0x541D;
pub const TIOCGSERIAL: u32 = 0x541E;
pub const TIOCSSERIAL: u32 = 0x541F;
pub const TIOCPKT: u32 = 0x5420;
pub const FIONBIO: u32 = 0x5421;
pub const TIOCNOTTY: u32 = 0x5422;
pub const TIOCSETD: u32 = 0x5423;
pub const TIOCGETD: u32 = 0x5424;
pub const TCSBRKP: u32 = 0x5425;
pub const TIOCSBRK: u32 = 0x5427;
pub const TIOCCBRK: u32 = 0x5428;
pub const TIOCGSID: u32 = 0x5429;
/// `_IOR('T', 0x2A, struct termios2)` (44 bytes).
pub const TCGETS2: u32 = ior(b'T' as u32, 0x2A, 44);
pub const TCSETS2: u32 = iow(b'T' as u32, 0x2B, 44);
pub const TCSETSW2: u32 = iow(b'T' as u32, 0x2C, 44);
pub const TCSETSF2: u32 = iow(b'T' as u32, 0x2D, 44);
pub const TIOCGRS485: u32 = 0x542E;
pub const TIOCSRS485: u32 = 0x542F;
pub const TIOCGPTN: u32 = ior(b'T' as u32, 0x30, 4);
pub const TIOCSPTLCK: u32 = iow(b'T' as u32, 0x31, 4);
pub const TIOCGDEV: u32 = ior(b'T' as u32, 0x32, 4);
pub const TCGETX: u32 = 0x5432;
pub const TCSETX: u32 = 0x5433;
pub const TCSETXF: u32 = 0x5434;
pub const TCSETXW: u32 = 0x5435;
pub const TIOCSIG: u32 = iow(b'T' as u32, 0x36, 4);
pub const TIOCVHANGUP: u32 = 0x5437;
pub const TIOCGPKT: u32 = ior(b'T' as u32, 0x38, 4);
pub const TIOCGPTLCK: u32 = ior(b'T' as u32, 0x39, 4);
pub const TIOCGEXCL: u32 = ior(b'T' as u32, 0x40, 4);
pub const TIOCGPTPEER: u32 = io(b'T' as u32, 0x41);
pub const FIONCLEX: u32 = 0x5450;
pub const FIOCLEX: u32 = 0x5451;
pub const FIOASYNC: u32 = 0x5452;
pub const TIOCSERCONFIG: u32 = 0x5453;
pub const TIOCSERGWILD: u32 = 0x5454;
pub const TIOCSERSWILD: u32 = 0x5455;
pub const TIOCGLCKTRMIOS: u32 = 0x5456;
pub const TIOCSLCKTRMIOS: u32 = 0x5457;
pub const TIOCSERGSTRUCT: u32 = 0x5458;
pub const TIOCSERGETLSR: u32 = 0x5459;
pub const TIOCSERGETMULTI: u32 = 0x545A;
pub const TIOCSERSETMULTI: u32 = 0x545B;
pub const TIOCMIWAIT: u32 = 0x545C;
pub const TIOCGICOUNT: u32 = 0x545D;
pub const FIOQSIZE: u32 = 0x5460;
/// linux/sockios.h.
pub const FIOSETOWN: u32 = 0x8901;
pub const SIOCSPGRP: u32 = 0x8902;
pub const FIOGETOWN: u32 = 0x8903;
pub const SIOCGPGRP: u32 = 0x8904;
pub const SIOCATMARK: u32 = 0x8905;

pub const IOCTL_NAMES: Names = &[
    (0x5401, "TCGETS"),
    (0x5402, "TCSETS"),
    (0x5403, "TCSETSW"),
    (0x5404, "TCSETSF"),
    (0x5405, "TCGETA"),
    (0x5406, "TCSETA"),
    (0x5407, "TCSETAW"),
    (0x5408, "TCSETAF"),
    (0x5409, "TCSBRK"),
    (0x540A, "TCXONC"),
    (0x540B, "TCFLSH"),
    (0x540C, "TIOCEXCL"),
    (0x540D, "TIOCNXCL"),
    (0x540E, "TIOCSCTTY"),
    (0x540F, "TIOCGPGRP"),
    (0x5410, "TIOCSPGRP"),
    (0x5411, "TIOCOUTQ"),
    (0x5412, "TIOCSTI"),
    (0x5413, "TIOCGWINSZ"),
    (0x5414, "TIOCSWINSZ"),
    (0x5415, "TIOCMGET"),
    (0x5416, "TIOCMBIS"),
    (0x5417, "TIOCMBIC"),
    (0x5418, "TIOCMSET"),
    (0x5419, "TIOCGSOFTCAR"),
    (0x541A, "TIOCSSOFTCAR"),
    (0x541B, "FIONREAD"),
    (0x541C, "TIOCLINUX"),
    (0x541D, "TIOCCONS"),
    (0x541E, "TIOCGSERIAL"),
    (0x541F, "TIOCSSERIAL"),
    (0x5420, "TIOCPKT"),
    (0x5421, "FIONBIO"),
    (0x5422, "TIOCNOTTY"),
    (0x5423, "TIOCSETD"),
    (0x5424, "TIOCGETD"),
    (0x5425, "TCSBRKP"),
    (0x5427, "TIOCSBRK"),
    (0x5428, "TIOCCBRK"),
    (0x5429, "TIOCGSID"),
    (TCGETS2 as u64, "TCGETS2"),
    (TCSETS2 as u64, "TCSETS2"),
    (TCSETSW2 as u64, "TCSETSW2"),
    (TCSETSF2 as u64, "TCSETSF2"),
    (0x542E, "TIOCGRS485"),
    (0x542F, "TIOCSRS485"),
    (TIOCGPTN as u64, "TIOCGPTN"),
    (TIOCSPTLCK as u64, "TIOCSPTLCK"),
    (TIOCGDEV as u64, "TIOCGDEV"),
    (0x5432, "TCGETX"),
    (0x5433, "TCSETX"),
    (0x5434, "TCSETXF"),
    (0x5435, "TCSETXW"),
    (TIOCSIG as u64, "TIOCSIG"),
    (0x5437, "TIOCVHANGUP"),
    (TIOCGPKT as u64, "TIOCGPKT"),
    (TIOCGPTLCK as u64, "TIOCGPTLCK"),
    (TIOCGEXCL as u64, "TIOCGEXCL"),
    (TIOCGPTPEER as u64, "TIOCGPTPEER"),
    (0x5450, "FIONCLEX"),
    (0x5451, "FIOCLEX"),
    (0x5452, "FIOASYNC"),
    (0x5453, "TIOCSERCONFIG"),
    (0x5454, "TIOCSERGWILD"),
    (0x5455, "TIOCSERSWILD"),
    (0x5456, "TIOCGLCKTRMIOS"),
    (0x5457, "TIOCSLCKTRMIOS"),
    (0x5458, "TIOCSERGSTRUCT"),
    (0x5459, "TIOCSERGETLSR"),
    (0x545A, "TIOCSERGETMULTI"),
    (0x545B, "TIOCSERSETMULTI"),
    (0x545C, "TIOCMIWAIT"),
    (0x545D, "TIOCGICOUNT"),
    (0x5460, "FIOQSIZE"),
    (0x8901, "FIOSETOWN"),
    (0x8902, "SIOCSPGRP"),
    (0x8903, "FIOGETOWN"),
    (0x8904, "SIOCGPGRP"),
    (0x8905, "SIOCATMARK"),
];

/// A request as strace prints it: `TCGETS`, or `_IOC(_IOC_READ, 0x54, 0x99, 0x4)`.
pub fn format_cmd(cmd: u64) -> String {
    let c = cmd as u32;
    if let Some(n) = crate::flags::lookup(c as u64, IOCTL_NAMES) {
        return String::from(n);
    }
    let dir = match ioc_dir(c) {
        IOC_NONE => "_IOC_NONE",
        IOC_WRITE => "_IOC_WRITE",
        IOC_READ => "_IOC_READ",
        _ => "_IOC_READ|_IOC_WRITE",
    };
    let h = |v: u32| crate::flags::hex_string(v as u64);
    let mut s = String::new();
    let _ = write!(
        s,
        "_IOC({dir}, {}, {}, {})",
        h(ioc_type(c)),
        h(ioc_nr(c)),
        h(ioc_size(c))
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(TCGETS2, 0x802C_542A);
        assert_eq!(TCSETS2, 0x402C_542B);
        assert_eq!(TIOCGPTN, 0x8004_5430);
        assert_eq!(TIOCSPTLCK, 0x4004_5431);
        assert_eq!(TIOCSIG, 0x4004_5436);
        assert_eq!(TIOCGPTPEER, 0x5441);
        assert_eq!(ioc_dir(TCGETS2), IOC_READ);
        assert_eq!(ioc_size(TCGETS2), 44);
        assert_eq!(ioc_type(TCGETS2), b'T' as u32);
        assert_eq!(format_cmd(0x5401), "TCGETS");
        assert_eq!(format_cmd(0x5413), "TIOCGWINSZ");
        assert_eq!(format_cmd(0x8004_5499), "_IOC(_IOC_READ, 0x54, 0x99, 0x4)");
        assert_eq!(format_cmd(0x1234), "_IOC(_IOC_NONE, 0x12, 0x34, 0)");
    }
}
