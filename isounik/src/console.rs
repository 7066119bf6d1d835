//! The guest console (COM1 over a Unix socket): guest output to our stdout, our stdin to the
//! guest, escaped so the guest can tell end-of-file from data (`abi::console`).

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::thread::{self, JoinHandle};

use isounik_abi::console::{escape_into, EOF, ESCAPE};

/// What the guest gets as console input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// Nothing: end-of-file at once (like `docker run` without `-i`).
    Closed,
    /// isounik's stdin, read as it comes (a terminal stays in its normal line mode).
    Stdin,
    // A later `-t` adds `RawTerminal`: stdin forwarded with the terminal in raw mode (set
    // with nix::sys::termios for the session and restored afterwards).
}

impl Input {
    /// Piped stdin is always forwarded; a terminal only with `--interactive`.
    pub fn choose(interactive: bool, stdin_is_terminal: bool) -> Input {
        if interactive || !stdin_is_terminal {
            Input::Stdin
        } else {
            Input::Closed
        }
    }
}

/// The end-of-input mark.
pub const EOF_MARK: [u8; 2] = [ESCAPE, EOF];

/// Copies `input` to the guest, escaped, then the end-of-input mark (also when reading
/// `input` fails: the guest must not wait forever). Errors are the guest side's.
pub fn forward(mut input: impl Read, mut guest: impl Write) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    let mut escaped = Vec::with_capacity(2 * buf.len());
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        escaped.clear();
        escape_into(&buf[..n], &mut escaped);
        guest.write_all(&escaped)?;
    }
    guest.write_all(&EOF_MARK)?;
    guest.flush()
}

/// A one-way latch: input waits until the guest has set up its console (`@console-ready`).
#[derive(Clone, Default)]
pub struct Gate(std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>);

impl Gate {
    pub fn new() -> Gate {
        Gate::default()
    }

    pub fn open(&self) {
        let (open, cv) = &*self.0;
        *open.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_all();
    }

    fn wait(&self) {
        let (open, cv) = &*self.0;
        let mut guard = open.lock().unwrap_or_else(|e| e.into_inner());
        while !*guard {
            guard = cv.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Starts feeding `input` to the guest console once `ready` opens. The socket's write side
/// is never shut down: QEMU would take that for a disconnect and drop the guest's output.
pub fn spawn_input(input: Input, socket: UnixStream, ready: Gate) -> JoinHandle<()> {
    thread::spawn(move || {
        ready.wait();
        let _ = match input {
            Input::Closed => (&socket).write_all(&EOF_MARK),
            Input::Stdin => forward(io::stdin().lock(), &socket),
        };
    })
}

/// Where guest output goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Stdout,
    Stderr,
}

/// Copies guest output (the console, or the program's stdout or stderr) to our stdout or
/// stderr as it comes, byte for byte; calls `done` at EOF.
pub fn spawn_output(
    mut socket: UnixStream,
    target: Target,
    done: impl FnOnce() + Send + 'static,
) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut buf = [0u8; 16384];
        let mut open = true;
        loop {
            let n = match socket.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            if open {
                // A closed stdout (`| head`) must not stall the guest: keep draining.
                open = match target {
                    Target::Stdout => write_flush(&mut io::stdout().lock(), &buf[..n]),
                    Target::Stderr => write_flush(&mut io::stderr().lock(), &buf[..n]),
                };
            }
        }
        done();
    })
}

fn write_flush(out: &mut impl Write, data: &[u8]) -> bool {
    out.write_all(data).and_then(|()| out.flush()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_escaped_then_marks_eof_once() {
        let mut guest = Vec::new();
        forward(&b"a\xffb\xff\xff\x00\n"[..], &mut guest).unwrap();
        assert_eq!(guest, b"a\xff\xffb\xff\xff\xff\xff\x00\n\xff\x00");

        let mut guest = Vec::new();
        forward(io::empty(), &mut guest).unwrap();
        assert_eq!(guest, EOF_MARK);

        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("gone"))
            }
        }
        let mut guest = Vec::new();
        forward(Broken, &mut guest).unwrap();
        assert_eq!(guest, EOF_MARK);
    }

    #[test]
    fn guest_decoder_gets_back_the_input() {
        let data: Vec<u8> = (0..10_000u32)
            .map(|i| if i % 7 == 0 { ESCAPE } else { i as u8 })
            .collect();
        let mut wire = Vec::new();
        forward(&data[..], &mut wire).unwrap();
        let mut decoder = isounik_abi::console::Decoder::new();
        let (mut got, mut eofs) = (Vec::new(), 0);
        for b in wire {
            match decoder.feed(b) {
                isounik_abi::console::Input::Byte(b) => got.push(b),
                isounik_abi::console::Input::Eof => eofs += 1,
                isounik_abi::console::Input::Pending => {}
            }
        }
        assert_eq!(got, data);
        assert_eq!(eofs, 1);
    }

    #[test]
    fn chooses_input() {
        assert_eq!(Input::choose(false, false), Input::Stdin);
        assert_eq!(Input::choose(false, true), Input::Closed);
        assert_eq!(Input::choose(true, true), Input::Stdin);
        assert_eq!(Input::choose(true, false), Input::Stdin);
    }
}
