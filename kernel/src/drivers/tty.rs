//! The console as a terminal (`console=tty`): a line discipline over the UART. Canonical
//! mode edits a line (erase, kill, word erase, EOF) and echoes it; raw mode passes bytes
//! through. ^C, ^\ and ^Z become SIGINT, SIGQUIT and SIGTSTP for the foreground process
//! group. The receive interrupt only notes those signals (in atomics); they are sent from
//! task context, which may take process locks.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU8, Ordering};

use isounik_linux::errno::Errno;

use super::{stdio, uart};
use crate::proc::Thread;

const ISIG: u32 = 0o1;
const ICANON: u32 = 0o2;
const ECHO: u32 = 0o10;
const ECHOE: u32 = 0o20;
const ECHOK: u32 = 0o40;
const ECHOCTL: u32 = 0o1000;
const ICRNL: u32 = 0o400;
const IGNCR: u32 = 0o200;
const INLCR: u32 = 0o100;

const VINTR: usize = 0;
const VQUIT: usize = 1;
const VERASE: usize = 2;
const VKILL: usize = 3;
const VEOF: usize = 4;
const VSUSP: usize = 10;
const VWERASE: usize = 14;

/// Mirrors of the termios fields the interrupt handler needs.
static LFLAG: AtomicU32 =
    AtomicU32::new(ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | 0o4000 | 0o100000);
static IFLAG: AtomicU32 = AtomicU32::new(ICRNL | 0o2000);
static CC: [AtomicU8; 17] = [
    AtomicU8::new(3),
    AtomicU8::new(28),
    AtomicU8::new(127),
    AtomicU8::new(21),
    AtomicU8::new(4),
    AtomicU8::new(0),
    AtomicU8::new(1),
    AtomicU8::new(0),
    AtomicU8::new(17),
    AtomicU8::new(19),
    AtomicU8::new(26),
    AtomicU8::new(0),
    AtomicU8::new(18),
    AtomicU8::new(15),
    AtomicU8::new(23),
    AtomicU8::new(22),
    AtomicU8::new(0),
];

/// A signal typed on the keyboard, waiting to be sent to the foreground group (0: none).
static PENDING_SIGNAL: AtomicU8 = AtomicU8::new(0);
/// The terminal's foreground process group.
static FOREGROUND: AtomicU32 = AtomicU32::new(1);

fn cc(i: usize) -> u8 {
    CC[i].load(Ordering::Relaxed)
}

/// Called by `stdio::set_termios`: the new settings take effect.
pub fn apply_termios(t: &[u8; 36]) {
    IFLAG.store(
        u32::from_le_bytes([t[0], t[1], t[2], t[3]]),
        Ordering::Relaxed,
    );
    LFLAG.store(
        u32::from_le_bytes([t[12], t[13], t[14], t[15]]),
        Ordering::Relaxed,
    );
    for (i, c) in CC.iter().enumerate() {
        c.store(t[17 + i], Ordering::Relaxed);
    }
}

pub fn foreground() -> u32 {
    FOREGROUND.load(Ordering::Relaxed)
}

pub fn set_foreground(pgrp: u32) {
    FOREGROUND.store(pgrp, Ordering::Relaxed);
}

/// Interrupt context: whether `byte` is a signal key (then it is consumed).
pub fn intercept(byte: u8) -> bool {
    if !stdio::is_tty() || LFLAG.load(Ordering::Relaxed) & ISIG == 0 || byte == 0 {
        return false;
    }
    let sig = if byte == cc(VINTR) {
        2
    } else if byte == cc(VQUIT) {
        3
    } else if byte == cc(VSUSP) {
        20
    } else {
        return false;
    };
    PENDING_SIGNAL.store(sig, Ordering::Relaxed);
    if LFLAG.load(Ordering::Relaxed) & ECHO != 0 {
        uart::write(&[b'^', byte + 0x40]);
    }
    // Task 0 (the boot task) sends it, even when every program is blocked.
    crate::sched::wake(0);
    true
}

/// Task context: sends a signal typed on the keyboard to the foreground process group, and
/// throws away the unread line (as Linux's tty does on a signal key).
pub fn dispatch_signal() {
    let sig = PENDING_SIGNAL.swap(0, Ordering::Relaxed);
    if sig == 0 {
        return;
    }
    LINE.lock().clear();
    let _ = crate::proc::signal::send_to_group(foreground(), sig);
}

struct Line {
    /// The line being edited (canonical mode).
    editing: Vec<u8>,
    /// Finished input ready for read(); `None` entries mark an end-of-file (^D on an empty
    /// line).
    ready: VecDeque<Option<u8>>,
}

impl Line {
    fn clear(&mut self) {
        self.editing.clear();
        self.ready.clear();
    }
}

static LINE: spin::Mutex<Line> = spin::Mutex::new(Line {
    editing: Vec::new(),
    ready: VecDeque::new(),
});

fn echo(bytes: &[u8]) {
    if LFLAG.load(Ordering::Relaxed) & ECHO != 0 {
        stdio::write_tty(bytes);
    }
}

fn echo_char(b: u8) {
    let lflag = LFLAG.load(Ordering::Relaxed);
    if lflag & ECHO == 0 {
        return;
    }
    if b < 0x20 && b != b'\n' && b != b'\t' && lflag & ECHOCTL != 0 {
        stdio::write_tty(&[b'^', b + 0x40]);
    } else {
        stdio::write_tty(&[b]);
    }
}

fn erase_one(line: &mut Line) {
    if let Some(c) = line.editing.pop() {
        if LFLAG.load(Ordering::Relaxed) & ECHOE != 0 {
            let width = if c < 0x20 && LFLAG.load(Ordering::Relaxed) & ECHOCTL != 0 {
                2
            } else {
                1
            };
            for _ in 0..width {
                echo(b"\x08 \x08");
            }
        }
    }
}

/// Runs one input byte through the line discipline.
fn process(line: &mut Line, mut b: u8) {
    let iflag = IFLAG.load(Ordering::Relaxed);
    let lflag = LFLAG.load(Ordering::Relaxed);
    if b == b'\r' {
        if iflag & IGNCR != 0 {
            return;
        }
        if iflag & ICRNL != 0 {
            b = b'\n';
        }
    } else if b == b'\n' && iflag & INLCR != 0 {
        b = b'\r';
    }
    if lflag & ICANON == 0 {
        echo_char(b);
        line.ready.push_back(Some(b));
        return;
    }
    if b == cc(VERASE) || b == 0x08 {
        erase_one(line);
    } else if b == cc(VKILL) {
        while !line.editing.is_empty() {
            erase_one(line);
        }
    } else if b == cc(VWERASE) {
        while line.editing.last() == Some(&b' ') {
            erase_one(line);
        }
        while line.editing.last().is_some_and(|c| *c != b' ') {
            erase_one(line);
        }
    } else if b == cc(VEOF) {
        if line.editing.is_empty() {
            line.ready.push_back(None);
        } else {
            let text: Vec<u8> = line.editing.drain(..).collect();
            line.ready.extend(text.into_iter().map(Some));
        }
    } else if b == b'\n' {
        echo(b"\n");
        line.editing.push(b'\n');
        let text: Vec<u8> = line.editing.drain(..).collect();
        line.ready.extend(text.into_iter().map(Some));
    } else {
        echo_char(b);
        line.editing.push(b);
    }
}

/// Reads from the terminal: in canonical mode at most one line, else what is there.
pub fn read(t: &mut Thread, buf: &mut [u8], nonblock: bool) -> Result<usize, Errno> {
    if buf.is_empty() {
        return Ok(0);
    }
    loop {
        dispatch_signal();
        let mut host_eof = false;
        {
            let mut line = LINE.lock();
            let mut raw = [0u8; 64];
            loop {
                match uart::try_read(&mut raw) {
                    uart::ReadResult::Bytes(n) => {
                        raw[..n].iter().for_each(|b| process(&mut line, *b))
                    }
                    uart::ReadResult::Eof => {
                        host_eof = true;
                        break;
                    }
                    uart::ReadResult::Empty => break,
                }
            }
            let canonical = LFLAG.load(Ordering::Relaxed) & ICANON != 0;
            if let Some(first) = line.ready.front().copied() {
                if first.is_none() {
                    line.ready.pop_front();
                    return Ok(0);
                }
                let mut n = 0;
                while n < buf.len() {
                    match line.ready.front().copied() {
                        Some(Some(b)) => {
                            line.ready.pop_front();
                            buf[n] = b;
                            n += 1;
                            if canonical && b == b'\n' {
                                break;
                            }
                        }
                        _ => break,
                    }
                }
                return Ok(n);
            }
            if host_eof {
                return Ok(0);
            }
        }
        if nonblock {
            return Err(Errno::EAGAIN);
        }
        uart::add_waiter(t.tid);
        if uart::input_ready() {
            continue;
        }
        if t.signal_pending() {
            return Err(t.interrupted());
        }
        crate::sched::block(None);
    }
}

/// Bytes a read would return now (FIONREAD).
pub fn available() -> usize {
    LINE.lock().ready.iter().filter(|b| b.is_some()).count() + uart::available()
}

/// Whether a read would return at once: processed input is waiting (a whole line in
/// canonical mode), or raw input the next read will process.
pub fn readable() -> bool {
    let line = LINE.lock();
    let canonical = LFLAG.load(Ordering::Relaxed) & ICANON != 0;
    let ready = if canonical {
        line.ready.iter().any(|b| matches!(b, None | Some(b'\n')))
            || line.ready.iter().any(|b| b.is_none())
    } else {
        !line.ready.is_empty()
    };
    ready || uart::input_ready()
}
