//! The kernel's `struct termios`/`termios2` (asm-generic/termbits.h) and `struct winsize`.

use super::le::*;
use crate::termios::*;

/// The kernel's `struct termios` (`TCGETS`/`TCSETS*`): four u32 flag words, `c_line`,
/// `c_cc[19]`; 36 bytes. (glibc's user-space `struct termios` is larger and translated
/// by the library; this is what crosses the system call boundary.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Termios {
    pub c_iflag: u32,
    pub c_oflag: u32,
    pub c_cflag: u32,
    pub c_lflag: u32,
    pub c_line: u8,
    pub c_cc: [u8; NCCS],
}

impl Termios {
    pub const SIZE: usize = 36;

    /// A Linux console after `stty sane` (the kernel's `tty_std_termios`):
    /// `ICRNL|IXON`, `OPOST|ONLCR`, `B38400|CS8|CREAD|HUPCL`,
    /// `ISIG|ICANON|ECHO|ECHOE|ECHOK|ECHOCTL|ECHOKE|IEXTEN`, line discipline N_TTY and
    /// [`INIT_C_CC`].
    pub const fn sane() -> Self {
        Termios {
            c_iflag: ICRNL | IXON,
            c_oflag: OPOST | ONLCR,
            c_cflag: B38400 | CS8 | CREAD | HUPCL,
            c_lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
            c_line: N_TTY,
            c_cc: INIT_C_CC,
        }
    }

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        self.write(&mut b);
        b
    }

    fn write(&self, b: &mut [u8]) {
        put_u32(b, 0, self.c_iflag);
        put_u32(b, 4, self.c_oflag);
        put_u32(b, 8, self.c_cflag);
        put_u32(b, 12, self.c_lflag);
        put_u8(b, 16, self.c_line);
        b[17..17 + NCCS].copy_from_slice(&self.c_cc);
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() < Self::SIZE {
            return None;
        }
        let mut c_cc = [0u8; NCCS];
        c_cc.copy_from_slice(&b[17..17 + NCCS]);
        Some(Termios {
            c_iflag: get_u32(b, 0),
            c_oflag: get_u32(b, 4),
            c_cflag: get_u32(b, 8),
            c_lflag: get_u32(b, 12),
            c_line: b[16],
            c_cc,
        })
    }

    /// The baud rate code (`c_cflag & CBAUD`, e.g. [`B38400`]).
    pub const fn baud(&self) -> u32 {
        self.c_cflag & CBAUD
    }
}

/// `struct termios2` (`TCGETS2`/`TCSETS2`): [`Termios`] plus explicit input/output
/// speeds at 36 and 40; 44 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Termios2 {
    pub termios: Termios,
    pub c_ispeed: u32,
    pub c_ospeed: u32,
}

impl Termios2 {
    pub const SIZE: usize = 44;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        self.termios.write(&mut b);
        put_u32(&mut b, 36, self.c_ispeed);
        put_u32(&mut b, 40, self.c_ospeed);
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() < Self::SIZE {
            return None;
        }
        Some(Termios2 {
            termios: Termios::from_bytes(b)?,
            c_ispeed: get_u32(b, 36),
            c_ospeed: get_u32(b, 40),
        })
    }
}

/// `struct winsize` (`TIOCGWINSZ`): rows, columns, x and y pixels; 8 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Winsize {
    pub ws_row: u16,
    pub ws_col: u16,
    pub ws_xpixel: u16,
    pub ws_ypixel: u16,
}

impl Winsize {
    pub const SIZE: usize = 8;

    pub fn to_bytes(&self) -> [u8; Self::SIZE] {
        let mut b = [0u8; Self::SIZE];
        put_u16(&mut b, 0, self.ws_row);
        put_u16(&mut b, 2, self.ws_col);
        put_u16(&mut b, 4, self.ws_xpixel);
        put_u16(&mut b, 6, self.ws_ypixel);
        b
    }

    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        (b.len() >= Self::SIZE).then(|| Winsize {
            ws_row: get_u16(b, 0),
            ws_col: get_u16(b, 2),
            ws_xpixel: get_u16(b, 4),
            ws_ypixel: get_u16(b, 6),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structs::testutil::rd;

    #[test]
    fn termios_layout() {
        let t = Termios::sane();
        let b = t.to_bytes();
        assert_eq!(b.len(), 36);
        assert_eq!(rd(&b, 0, 4), 0o2400); // ICRNL|IXON
        assert_eq!(rd(&b, 4, 4), 0o5); // OPOST|ONLCR
        assert_eq!(rd(&b, 8, 4), 0o2277); // B38400|CS8|CREAD|HUPCL
        assert_eq!(rd(&b, 12, 4), 0o105073); // ISIG..IEXTEN
        assert_eq!(b[16], 0);
        assert_eq!(
            &b[17..36],
            &[
                3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0, 0,
                0
            ]
        );
        assert_eq!(t.c_cc[VINTR], 3);
        assert_eq!(t.c_cc[VEOF], 4);
        assert_eq!(t.c_cc[VMIN], 1);
        assert_eq!(t.c_cc[VSUSP], 0x1a);
        assert_eq!(t.c_cc[VWERASE], 0x17);
        assert_eq!(Termios::from_bytes(&b), Some(t));
        assert_eq!(t.baud(), B38400);

        let t2 = Termios2 {
            termios: t,
            c_ispeed: 38400,
            c_ospeed: 9600,
        };
        let b2 = t2.to_bytes();
        assert_eq!(&b2[..36], &b[..]);
        assert_eq!((rd(&b2, 36, 4), rd(&b2, 40, 4)), (38400, 9600));
        assert_eq!(Termios2::from_bytes(&b2), Some(t2));
    }

    #[test]
    fn winsize_layout() {
        let w = Winsize {
            ws_row: 24,
            ws_col: 80,
            ws_xpixel: 640,
            ws_ypixel: 480,
        };
        let b = w.to_bytes();
        assert_eq!(
            [rd(&b, 0, 2), rd(&b, 2, 2), rd(&b, 4, 2), rd(&b, 6, 2)],
            [24, 80, 640, 480]
        );
        assert_eq!(Winsize::from_bytes(&b), Some(w));
    }
}
