//! The kernel log: lines on the debugcon port (isounik_abi::log). Never on the console, so a
//! program's stdout carries only what the program wrote.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::x86_64::cpu;
use crate::drivers::debugcon;

static LOCK: spin::Mutex<()> = spin::Mutex::new(());
static VERBOSE: AtomicBool = AtomicBool::new(false);

pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

pub fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

struct Debugcon;

impl Write for Debugcon {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        debugcon::write(s.as_bytes());
        Ok(())
    }
}

/// Writes one formatted line. Interrupts are off while the lock is held so an interrupt
/// handler that logs cannot deadlock against the code it interrupted.
pub fn write_line(args: fmt::Arguments) {
    cpu::without_interrupts(|| {
        let _guard = LOCK.lock();
        let _ = Debugcon.write_fmt(args);
        let _ = Debugcon.write_str("\n");
    });
}

/// Writes a line while the kernel is dying: ignores the lock (the holder may be the code
/// that crashed).
pub fn write_line_unlocked(args: fmt::Arguments) {
    let _ = Debugcon.write_fmt(args);
    let _ = Debugcon.write_str("\n");
}

/// A kernel log line.
#[macro_export]
macro_rules! kprintln {
    ($($arg:tt)*) => { $crate::log::write_line(format_args!($($arg)*)) };
}

/// A kernel log line shown only with the `verbose` command-line word.
#[macro_export]
macro_rules! kdebug {
    ($($arg:tt)*) => {
        if $crate::log::verbose() { $crate::log::write_line(format_args!($($arg)*)) }
    };
}
