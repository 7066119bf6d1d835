//! The console: a 16550 UART (COM1) with interrupt-driven input. Output is polled. Input
//! bytes are unescaped (isounik_abi::console) into a ring buffer by the interrupt handler.

use core::sync::atomic::{AtomicBool, Ordering};

use isounik_abi::console::{Decoder, Input};
use isounik_abi::io::CONSOLE_UART as BASE;

use crate::arch::x86_64::cpu;
use crate::arch::x86_64::port::{inb, outb};

const DATA: u16 = BASE;
const IER: u16 = BASE + 1;
const FCR: u16 = BASE + 2;
const LCR: u16 = BASE + 3;
const MCR: u16 = BASE + 4;
const LSR: u16 = BASE + 5;

const LSR_DATA_READY: u8 = 0x01;
const LSR_THR_EMPTY: u8 = 0x20;
const LSR_TX_IDLE: u8 = 0x40;
const MCR_NORMAL: u8 = 0x0b; // DTR, RTS, OUT2 (OUT2 gates the IRQ line)
const MCR_LOOPBACK: u8 = 0x10;

const INPUT_CAPACITY: usize = 4096;

struct InputRing {
    buf: [u8; INPUT_CAPACITY],
    head: usize,
    len: usize,
    decoder: Decoder,
    eof: bool,
    dropped: u64,
}

static INPUT: spin::Mutex<InputRing> = spin::Mutex::new(InputRing {
    buf: [0; INPUT_CAPACITY],
    head: 0,
    len: 0,
    decoder: Decoder::new(),
    eof: false,
    dropped: 0,
});

static PRESENT: AtomicBool = AtomicBool::new(false);

/// Tasks waiting for console input (fixed size: the interrupt handler must not allocate).
static WAITERS: spin::Mutex<[u32; 16]> = spin::Mutex::new([0; 16]);

/// Registers task `tid` to be woken by the next console input.
pub fn add_waiter(tid: u32) {
    cpu::without_interrupts(|| {
        let mut w = WAITERS.lock();
        if !w.contains(&tid) {
            if let Some(slot) = w.iter_mut().find(|s| **s == 0) {
                *slot = tid;
            }
        }
    })
}

fn wake_waiters() {
    let mut w = WAITERS.lock();
    for slot in w.iter_mut().filter(|s| **s != 0) {
        crate::sched::wake(*slot);
        *slot = 0;
    }
}

/// 115200 8N1, 16-byte FIFO with a 1-byte trigger, receive interrupts on. Enabling the
/// FIFO clears the receive buffer, so the host sends nothing before the kernel logs
/// `@console-ready` (after this). The FIFO matters: without it the host can hand over only
/// one byte per read of the data register, which splits escape sequences (terminal
/// replies, arrow keys) across tens of milliseconds.
pub fn init() {
    drain_into_ring();
    outb(IER, 0);
    outb(LCR, 0x80);
    outb(DATA, 1);
    outb(IER, 0);
    outb(LCR, 0x03);
    outb(FCR, 0x07);
    outb(MCR, MCR_NORMAL);
    // A missing UART reads as 0xff.
    PRESENT.store(inb(LSR) != 0xff, Ordering::Relaxed);
    outb(IER, 0x01);
}

pub fn write(bytes: &[u8]) {
    if !PRESENT.load(Ordering::Relaxed) {
        return;
    }
    for &b in bytes {
        while inb(LSR) & LSR_THR_EMPTY == 0 {
            core::hint::spin_loop();
        }
        outb(DATA, b);
    }
}

/// Waits until every written byte has left the transmitter (before the VM exits).
pub fn flush() {
    if PRESENT.load(Ordering::Relaxed) {
        while inb(LSR) & LSR_TX_IDLE == 0 {
            core::hint::spin_loop();
        }
    }
}

/// The receive interrupt: drains the UART into the ring and wakes readers.
pub fn on_interrupt() {
    drain_into_ring();
    wake_waiters();
}

fn drain_into_ring() {
    let mut ring = INPUT.lock();
    while inb(LSR) & LSR_DATA_READY != 0 {
        let raw = inb(DATA);
        match ring.decoder.feed(raw) {
            Input::Byte(b) if super::tty::intercept(b) => {}
            Input::Byte(b) => {
                if ring.len == INPUT_CAPACITY {
                    ring.dropped += 1;
                } else {
                    let tail = (ring.head + ring.len) % INPUT_CAPACITY;
                    ring.buf[tail] = b;
                    ring.len += 1;
                }
            }
            Input::Eof => ring.eof = true,
            Input::Pending => {}
        }
    }
}

/// What `read` found.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadResult {
    Bytes(usize),
    Eof,
    Empty,
}

/// Takes buffered input without waiting. Polls the UART too: an edge-triggered interrupt
/// that fired before its route was set up would otherwise leave bytes stranded.
pub fn try_read(out: &mut [u8]) -> ReadResult {
    cpu::without_interrupts(|| {
        drain_into_ring();
        let mut ring = INPUT.lock();
        if ring.len == 0 {
            return if ring.eof {
                ReadResult::Eof
            } else {
                ReadResult::Empty
            };
        }
        let n = out.len().min(ring.len);
        for slot in out.iter_mut().take(n) {
            *slot = ring.buf[ring.head];
            ring.head = (ring.head + 1) % INPUT_CAPACITY;
            ring.len -= 1;
        }
        ReadResult::Bytes(n)
    })
}

/// Whether a read would return at once (data or end of input).
pub fn input_ready() -> bool {
    cpu::without_interrupts(|| {
        drain_into_ring();
        let ring = INPUT.lock();
        ring.len > 0 || ring.eof
    })
}

/// Buffered input bytes.
pub fn available() -> usize {
    cpu::without_interrupts(|| INPUT.lock().len)
}

/// Blocks (halting between interrupts) until input or end of input.
pub fn read(out: &mut [u8]) -> ReadResult {
    loop {
        match try_read(out) {
            ReadResult::Empty => cpu::wait_for_interrupt(),
            other => return other,
        }
    }
}

/// Runs `f` with the UART in loopback mode (transmitted bytes come back as input and raise
/// the receive interrupt; nothing reaches the host). For the self test.
pub fn with_loopback<R>(f: impl FnOnce() -> R) -> R {
    outb(MCR, MCR_NORMAL | MCR_LOOPBACK);
    let r = f();
    outb(MCR, MCR_NORMAL);
    r
}

pub fn present() -> bool {
    PRESENT.load(Ordering::Relaxed)
}
