//! The program's standard streams towards the host. Without a terminal (the default, like
//! `docker run` without `-t`), stdout and stderr leave through two write-only debugcon
//! ports, byte-exact and separate; with `console=tty` everything goes through the UART
//! with the terminal's output processing.

use core::sync::atomic::{AtomicBool, Ordering};

use isounik_abi::io::{STDERR, STDOUT};

use super::uart;
use crate::arch::x86_64::port;

static TTY: AtomicBool = AtomicBool::new(false);
/// Terminal output processing: translate "\n" to "\r\n" (termios OPOST|ONLCR).
static ONLCR: AtomicBool = AtomicBool::new(true);

pub fn set_tty(on: bool) {
    TTY.store(on, Ordering::Relaxed);
}

pub fn is_tty() -> bool {
    TTY.load(Ordering::Relaxed)
}

pub fn set_onlcr(on: bool) {
    ONLCR.store(on, Ordering::Relaxed);
}

pub fn write_stdout(data: &[u8]) {
    if is_tty() {
        write_tty(data);
    } else {
        port::outsb(STDOUT, data);
    }
}

pub fn write_stderr(data: &[u8]) {
    if is_tty() {
        write_tty(data);
    } else {
        port::outsb(STDERR, data);
    }
}

pub fn write_tty(data: &[u8]) {
    if !ONLCR.load(Ordering::Relaxed) {
        uart::write(data);
        return;
    }
    for line in data.split_inclusive(|b| *b == b'\n') {
        match line.split_last() {
            Some((b'\n', body)) => {
                uart::write(body);
                uart::write(b"\r\n");
            }
            _ => uart::write(line),
        }
    }
}

/// The terminal's `struct termios` (kernel layout, 36 bytes), initially `stty sane`.
static TERMIOS: spin::Mutex<[u8; 36]> = spin::Mutex::new(sane_termios());
static WINSIZE: spin::Mutex<[u8; 8]> = spin::Mutex::new([24, 0, 80, 0, 0, 0, 0, 0]);

const fn sane_termios() -> [u8; 36] {
    let iflag: u32 = 0o400 | 0o2000; // ICRNL | IXON
    let oflag: u32 = 0o1 | 0o4; // OPOST | ONLCR
    let cflag: u32 = 0o17 | 0o60 | 0o200 | 0o2000; // B38400 | CS8 | CREAD | HUPCL
    let lflag: u32 = 0o1 | 0o2 | 0o10 | 0o20 | 0o40 | 0o1000 | 0o4000 | 0o100000; // ISIG ICANON ECHO ECHOE ECHOK ECHOCTL ECHOKE IEXTEN
    let mut t = [0u8; 36];
    let words = [iflag, oflag, cflag, lflag];
    let mut i = 0;
    while i < 4 {
        let b = words[i].to_le_bytes();
        t[i * 4] = b[0];
        t[i * 4 + 1] = b[1];
        t[i * 4 + 2] = b[2];
        t[i * 4 + 3] = b[3];
        i += 1;
    }
    // c_line at 16, c_cc[19] from 17: VINTR ^C, VQUIT ^\, VERASE ^?, VKILL ^U, VEOF ^D,
    // VTIME 0, VMIN 1, VSWTC 0, VSTART ^Q, VSTOP ^S, VSUSP ^Z, VEOL 0, VREPRINT ^R,
    // VDISCARD ^O, VWERASE ^W, VLNEXT ^V, VEOL2 0.
    let cc = [
        3u8, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0,
    ];
    let mut j = 0;
    while j < cc.len() {
        t[17 + j] = cc[j];
        j += 1;
    }
    t
}

pub fn termios() -> [u8; 36] {
    *TERMIOS.lock()
}

pub fn set_termios(t: [u8; 36]) {
    let oflag = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
    set_onlcr(oflag & 0o1 != 0 && oflag & 0o4 != 0);
    super::tty::apply_termios(&t);
    *TERMIOS.lock() = t;
}

pub fn winsize() -> [u8; 8] {
    *WINSIZE.lock()
}

pub fn set_winsize(w: [u8; 8]) {
    *WINSIZE.lock() = w;
}
