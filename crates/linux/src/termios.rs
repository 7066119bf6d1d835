//! Terminal attributes: `struct termios` flag bits, `c_cc` indices and `tcsetattr`/
//! `tcflush`/`tcflow` arguments (asm-generic/termbits.h, asm-generic/termbits-common.h).
//! The structure itself is [`crate::structs::Termios`].

/// `c_cc` length of the kernel's `struct termios` (glibc's user-space struct has 32).
pub const NCCS: usize = 19;

// c_cc indices
pub const VINTR: usize = 0;
pub const VQUIT: usize = 1;
pub const VERASE: usize = 2;
pub const VKILL: usize = 3;
pub const VEOF: usize = 4;
pub const VTIME: usize = 5;
pub const VMIN: usize = 6;
pub const VSWTC: usize = 7;
pub const VSTART: usize = 8;
pub const VSTOP: usize = 9;
pub const VSUSP: usize = 10;
pub const VEOL: usize = 11;
pub const VREPRINT: usize = 12;
pub const VDISCARD: usize = 13;
pub const VWERASE: usize = 14;
pub const VLNEXT: usize = 15;
pub const VEOL2: usize = 16;

// c_iflag
pub const IGNBRK: u32 = 0o000001;
pub const BRKINT: u32 = 0o000002;
pub const IGNPAR: u32 = 0o000004;
pub const PARMRK: u32 = 0o000010;
pub const INPCK: u32 = 0o000020;
pub const ISTRIP: u32 = 0o000040;
pub const INLCR: u32 = 0o000100;
pub const IGNCR: u32 = 0o000200;
pub const ICRNL: u32 = 0o000400;
pub const IUCLC: u32 = 0o001000;
pub const IXON: u32 = 0o002000;
pub const IXANY: u32 = 0o004000;
pub const IXOFF: u32 = 0o010000;
pub const IMAXBEL: u32 = 0o020000;
pub const IUTF8: u32 = 0o040000;

// c_oflag
pub const OPOST: u32 = 0o000001;
pub const OLCUC: u32 = 0o000002;
pub const ONLCR: u32 = 0o000004;
pub const OCRNL: u32 = 0o000010;
pub const ONOCR: u32 = 0o000020;
pub const ONLRET: u32 = 0o000040;
pub const OFILL: u32 = 0o000100;
pub const OFDEL: u32 = 0o000200;
pub const NLDLY: u32 = 0o000400;
pub const NL0: u32 = 0o000000;
pub const NL1: u32 = 0o000400;
pub const CRDLY: u32 = 0o003000;
pub const CR0: u32 = 0o000000;
pub const CR1: u32 = 0o001000;
pub const CR2: u32 = 0o002000;
pub const CR3: u32 = 0o003000;
pub const TABDLY: u32 = 0o014000;
pub const TAB0: u32 = 0o000000;
pub const TAB1: u32 = 0o004000;
pub const TAB2: u32 = 0o010000;
pub const TAB3: u32 = 0o014000;
pub const XTABS: u32 = 0o014000;
pub const BSDLY: u32 = 0o020000;
pub const BS0: u32 = 0o000000;
pub const BS1: u32 = 0o020000;
pub const VTDLY: u32 = 0o040000;
pub const VT0: u32 = 0o000000;
pub const VT1: u32 = 0o040000;
pub const FFDLY: u32 = 0o100000;
pub const FF0: u32 = 0o000000;
pub const FF1: u32 = 0o100000;

// c_cflag
pub const CBAUD: u32 = 0o010017;
pub const B0: u32 = 0o000000;
pub const B50: u32 = 0o000001;
pub const B75: u32 = 0o000002;
pub const B110: u32 = 0o000003;
pub const B134: u32 = 0o000004;
pub const B150: u32 = 0o000005;
pub const B200: u32 = 0o000006;
pub const B300: u32 = 0o000007;
pub const B600: u32 = 0o000010;
pub const B1200: u32 = 0o000011;
pub const B1800: u32 = 0o000012;
pub const B2400: u32 = 0o000013;
pub const B4800: u32 = 0o000014;
pub const B9600: u32 = 0o000015;
pub const B19200: u32 = 0o000016;
pub const B38400: u32 = 0o000017;
pub const EXTA: u32 = B19200;
pub const EXTB: u32 = B38400;
pub const CSIZE: u32 = 0o000060;
pub const CS5: u32 = 0o000000;
pub const CS6: u32 = 0o000020;
pub const CS7: u32 = 0o000040;
pub const CS8: u32 = 0o000060;
pub const CSTOPB: u32 = 0o000100;
pub const CREAD: u32 = 0o000200;
pub const PARENB: u32 = 0o000400;
pub const PARODD: u32 = 0o001000;
pub const HUPCL: u32 = 0o002000;
pub const CLOCAL: u32 = 0o004000;
pub const CBAUDEX: u32 = 0o010000;
pub const BOTHER: u32 = 0o010000;
pub const B57600: u32 = 0o010001;
pub const B115200: u32 = 0o010002;
pub const B230400: u32 = 0o010003;
pub const B460800: u32 = 0o010004;
pub const B500000: u32 = 0o010005;
pub const B576000: u32 = 0o010006;
pub const B921600: u32 = 0o010007;
pub const B1000000: u32 = 0o010010;
pub const B1152000: u32 = 0o010011;
pub const B1500000: u32 = 0o010012;
pub const B2000000: u32 = 0o010013;
pub const B2500000: u32 = 0o010014;
pub const B3000000: u32 = 0o010015;
pub const B3500000: u32 = 0o010016;
pub const B4000000: u32 = 0o010017;
pub const CIBAUD: u32 = 0o02003600000;
pub const CMSPAR: u32 = 0o10000000000;
pub const CRTSCTS: u32 = 0o20000000000;
pub const IBSHIFT: u32 = 16;

// c_lflag
pub const ISIG: u32 = 0o000001;
pub const ICANON: u32 = 0o000002;
pub const XCASE: u32 = 0o000004;
pub const ECHO: u32 = 0o000010;
pub const ECHOE: u32 = 0o000020;
pub const ECHOK: u32 = 0o000040;
pub const ECHONL: u32 = 0o000100;
pub const NOFLSH: u32 = 0o000200;
pub const TOSTOP: u32 = 0o000400;
pub const ECHOCTL: u32 = 0o001000;
pub const ECHOPRT: u32 = 0o002000;
pub const ECHOKE: u32 = 0o004000;
pub const FLUSHO: u32 = 0o010000;
pub const PENDIN: u32 = 0o040000;
pub const IEXTEN: u32 = 0o100000;
pub const EXTPROC: u32 = 0o200000;

/// `tcflow` (`TCXONC`) actions.
pub const TCOOFF: u32 = 0;
pub const TCOON: u32 = 1;
pub const TCIOFF: u32 = 2;
pub const TCION: u32 = 3;
/// `tcflush` (`TCFLSH`) queues.
pub const TCIFLUSH: u32 = 0;
pub const TCOFLUSH: u32 = 1;
pub const TCIOFLUSH: u32 = 2;
/// `tcsetattr` actions (libc maps them to `TCSETS`, `TCSETSW`, `TCSETSF`).
pub const TCSANOW: u32 = 0;
pub const TCSADRAIN: u32 = 1;
pub const TCSAFLUSH: u32 = 2;

/// The default line discipline.
pub const N_TTY: u8 = 0;

/// `c_cc` of a freshly opened Linux tty (`INIT_C_CC`):
/// `^C ^\ ^? ^U ^D 0 1 0 ^Q ^S ^Z 0 ^R ^O ^W ^V 0`, then zeros.
pub const INIT_C_CC: [u8; NCCS] = [
    0x03, 0x1c, 0x7f, 0x15, 0x04, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0, 0, 0,
];
