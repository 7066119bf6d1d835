//! `isounik run -it /bin/busybox sh` on a pseudo-terminal, as a person would use it: the
//! shell's prompt and line editing, a pipeline, ^C interrupting the foreground command (not
//! the VM), and `exit` ending the VM with the shell's status.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const ISOUNIK: &str = env!("CARGO_BIN_EXE_isounik");

/// Everything the terminal shows, collected by a reader thread.
struct Screen {
    rx: mpsc::Receiver<Vec<u8>>,
    seen: Vec<u8>,
}

impl Screen {
    /// Waits until the output since `from` contains `needle`; returns where it ends.
    fn expect(&mut self, from: usize, needle: &str, limit: Duration) -> usize {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(pos) = find(&self.seen[from..], needle.as_bytes()) {
                return from + pos + needle.len();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(chunk) => self.seen.extend(chunk),
                Err(_) => panic!(
                    "did not see {needle:?} within {limit:?}; the terminal showed:\n{}",
                    String::from_utf8_lossy(&self.seen)
                ),
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn interactive_shell_on_a_terminal() {
    let pty = nix::pty::openpty(None, None).expect("openpty");
    let slave: OwnedFd = pty.slave;
    let master: OwnedFd = pty.master;
    // `ISOUNIK_TEST_SYSCALL_ENTRY=gate`: the same session with the MPK gate (job control
    // signals then arrive while calls run in ring 3 too).
    let entry = std::env::var("ISOUNIK_TEST_SYSCALL_ENTRY")
        .map(|mode| format!("--syscall-entry={mode}"))
        .unwrap_or_else(|_| "--syscall-entry=trap".into());
    let mut child = Command::new(ISOUNIK)
        .args([
            "run",
            "-it",
            "--machine",
            "microvm",
            "--timeout",
            "60",
            &entry,
            "/bin/busybox",
            "sh",
        ])
        .stdin(Stdio::from(slave.as_fd().try_clone_to_owned().unwrap()))
        .stdout(Stdio::from(slave.as_fd().try_clone_to_owned().unwrap()))
        .stderr(Stdio::from(slave))
        .spawn()
        .expect("isounik starts");
    let mut writer = File::from(master.try_clone().unwrap());
    let mut reader = File::from(master);
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut screen = Screen {
        rx,
        seen: Vec::new(),
    };
    let limit = Duration::from_secs(20);

    let mut at = screen.expect(0, "/ # ", limit);
    writer.write_all(b"echo hi | tr a-z A-Z\r").unwrap();
    at = screen.expect(at, "HI", limit);
    at = screen.expect(at, "/ # ", limit);

    // ^C ends the foreground command, not the shell or the VM.
    writer.write_all(b"sleep 30\r").unwrap();
    at = screen.expect(at, "sleep 30", limit);
    thread::sleep(Duration::from_millis(500));
    writer.write_all(b"\x03").unwrap();
    at = screen.expect(at, "/ # ", limit);
    writer.write_all(b"echo status $?\r").unwrap();
    at = screen.expect(at, "status 130", limit);

    // Line editing: a typo erased with backspace before Enter.
    writer.write_all(b"echo abX\x7fc\r").unwrap();
    at = screen.expect(at, "abc\r\n", limit);

    // ^D ends a reader's input; ^Z stops a job, `fg` resumes it, ^C ends it.
    writer.write_all(b"cat\r").unwrap();
    at = screen.expect(at, "cat\r\n", limit);
    writer.write_all(b"xyz\r").unwrap();
    at = screen.expect(at, "xyz\r\nxyz", limit);
    writer.write_all(b"\x04").unwrap();
    at = screen.expect(at, "/ # ", limit);
    writer.write_all(b"sleep 30\r").unwrap();
    at = screen.expect(at, "sleep 30", limit);
    thread::sleep(Duration::from_millis(300));
    writer.write_all(b"\x1a").unwrap();
    at = screen.expect(at, "Stopped", limit);
    at = screen.expect(at, "/ # ", limit);
    writer.write_all(b"fg\r").unwrap();
    at = screen.expect(at, "sleep 30", limit);
    thread::sleep(Duration::from_millis(300));
    writer.write_all(b"\x03").unwrap();
    at = screen.expect(at, "/ # ", limit);

    writer.write_all(b"exit 3\r").unwrap();
    let _ = at;
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the VM did not end after `exit 3`"
        );
        thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        status.code(),
        Some(3),
        "terminal:\n{}",
        String::from_utf8_lossy(&screen.seen)
    );
}
