//! One boot of the guest: QEMU started with its console, its kernel log and the program's
//! stdout and stderr on Unix sockets that isounik listens on (and the initramfs, if any),
//! the relays between them and the terminal, and how the boot ended.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use isounik_abi::exit;
use isounik_abi::log::{self as abi_log, Record};
use nix::sys::signal::{SigSet, Signal};

use crate::console::{self, Input, Target};
use crate::kernel::KernelImage;
use crate::log::{self, KernelLog};
use crate::qemu::{self, Accel, Invocation, Machine, MemSize};

/// Exit status of isounik when the kernel crashed or the guest reset.
pub const EXIT_CRASH: u8 = 70;
/// Exit status when the guest ran out of time (as `timeout(1)`).
pub const EXIT_TIMEOUT: u8 = 124;
/// Exit status when isounik or QEMU failed (as `timeout(1)`, `docker run`).
pub const EXIT_TOOL: u8 = 125;

/// How long QEMU may take to connect to the sockets.
const STARTUP_LIMIT: Duration = Duration::from_secs(30);
/// How often the child is checked for exit while waiting.
const POLL: Duration = Duration::from_millis(20);
/// How long the relays may take to drain after QEMU ended.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// What to boot and how.
pub struct Guest<'a> {
    pub qemu: &'a Path,
    pub machine: Machine,
    pub accel: Accel,
    pub mem: MemSize,
    pub kernel: &'a KernelImage,
    pub cmdline: String,
    /// The initramfs to give the guest (`-initrd`), if any.
    pub initrd: Option<&'a [u8]>,
    pub timeout: Option<Duration>,
    /// Print the QEMU command line, QEMU's stderr and the kernel log live on stderr.
    pub verbose: bool,
    pub input: Input,
    /// A network device on QEMU's user network, with the ports published to the host.
    pub network: Option<&'a [qemu::PortForward]>,
}

/// How QEMU ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QemuStatus {
    Code(i32),
    Signal(i32),
}

impl From<ExitStatus> for QemuStatus {
    fn from(status: ExitStatus) -> Self {
        match (status.code(), status.signal()) {
            (Some(code), _) => QemuStatus::Code(code),
            (None, Some(signal)) => QemuStatus::Signal(signal),
            (None, None) => QemuStatus::Code(-1),
        }
    }
}

/// Why the session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Qemu(QemuStatus),
    /// The time limit passed; QEMU was killed.
    TimedOut(Duration),
    /// isounik got this signal (Ctrl-C...); QEMU was killed.
    Interrupted(Signal),
}

/// A finished boot.
pub struct Session {
    pub ending: Ending,
    pub log: KernelLog,
    /// QEMU's stdout and stderr.
    pub qemu_output: String,
}

/// What the boot means for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The guest exited normally with this status.
    Exited(u8),
    Crashed(String),
    /// The guest reset (a triple fault under `-no-reboot`).
    Reset,
    /// QEMU ended in a way the protocol does not explain.
    QemuFailed(String),
    TimedOut(Duration),
    Interrupted(Signal),
}

/// Maps how QEMU ended and what the kernel logged to the outcome (`abi::exit`).
pub fn classify(ending: Ending, exit_record: Option<u8>, crash_record: Option<&str>) -> Outcome {
    const NORMAL: i32 = exit::qemu_status(exit::NORMAL);
    const KERNEL_FAILURE: i32 = exit::qemu_status(exit::KERNEL_FAILURE);
    let status = match ending {
        Ending::TimedOut(limit) => return Outcome::TimedOut(limit),
        Ending::Interrupted(signal) => return Outcome::Interrupted(signal),
        Ending::Qemu(status) => status,
    };
    if let Some(reason) = crash_record {
        return Outcome::Crashed(reason.to_owned());
    }
    match status {
        QemuStatus::Code(KERNEL_FAILURE) => {
            Outcome::Crashed("no reason given (the kernel signalled a failure without a @crash record)".into())
        }
        QemuStatus::Code(NORMAL) => match exit_record {
            Some(status) => Outcome::Exited(status),
            None => Outcome::QemuFailed(format!(
                "qemu exited with status {NORMAL} but the guest reported no exit status (no @exit record)"
            )),
        },
        QemuStatus::Code(0) => Outcome::Reset,
        QemuStatus::Code(code) => Outcome::QemuFailed(format!("qemu exited with status {code}")),
        QemuStatus::Signal(signal) => Outcome::QemuFailed(format!(
            "qemu was killed by signal {}",
            Signal::try_from(signal).map_or_else(|_| signal.to_string(), |s| s.as_str().to_owned())
        )),
    }
}

impl Outcome {
    /// isounik's exit status.
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Exited(status) => *status,
            Outcome::Crashed(_) | Outcome::Reset => EXIT_CRASH,
            Outcome::QemuFailed(_) => EXIT_TOOL,
            Outcome::TimedOut(_) => EXIT_TIMEOUT,
            Outcome::Interrupted(signal) => 128 + *signal as u8,
        }
    }

    /// The error to print (after `isounik: error: `), if the outcome is one.
    pub fn error(&self) -> Option<String> {
        match self {
            Outcome::Exited(_) | Outcome::Interrupted(_) => None,
            Outcome::Crashed(reason) => Some(format!("kernel crashed: {reason}")),
            Outcome::Reset => Some("the guest reset (triple fault?)".into()),
            Outcome::QemuFailed(what) => Some(what.clone()),
            Outcome::TimedOut(limit) => {
                Some(format!("guest did not finish within {} s", limit.as_secs()))
            }
        }
    }

    /// Whether the report shows the end of the kernel log.
    fn shows_log(&self) -> bool {
        matches!(
            self,
            Outcome::Crashed(_) | Outcome::Reset | Outcome::TimedOut(_) | Outcome::QemuFailed(_)
        )
    }

    /// Whether the report shows QEMU's output.
    fn shows_qemu_output(&self) -> bool {
        matches!(self, Outcome::Reset | Outcome::QemuFailed(_))
    }
}

impl Session {
    pub fn outcome(&self) -> Outcome {
        classify(self.ending, self.log.exit_status(), self.log.crash())
    }

    /// Prints the outcome's error to stderr, with the end of the kernel log (backtraces
    /// symbolized) and QEMU's output where they help, unless `--verbose` already showed them.
    pub fn report(&self, outcome: &Outcome, kernel: &KernelImage, verbose: bool) {
        let Some(error) = outcome.error() else { return };
        let mut report = format!("isounik: error: {error}\n");
        if !verbose {
            let qemu_output = self.qemu_output.trim_end();
            if outcome.shows_qemu_output() && !qemu_output.is_empty() {
                report.push_str(&format!("qemu output:\n{qemu_output}\n"));
            }
            if outcome.shows_log() {
                report.push_str(&self.log.tail_report(log::REPORT_LINES, kernel.symbols()));
            }
        }
        let _ = io::stderr().lock().write_all(report.as_bytes());
    }
}

/// The sockets QEMU connects to: the console (COM1), the kernel log, and the program's
/// stdout and stderr (`abi::io`).
const CHANNELS: [&str; 4] = ["con", "log", "out", "err"];

/// The session loop's view of the relays.
struct Relay {
    log: KernelLog,
    /// Opened when the guest says its console can take input.
    console_ready: console::Gate,
    /// How many channels have not reached their end yet.
    open: usize,
}

impl Relay {
    /// Takes in one event; returns the signal if it is one.
    fn handle(
        &mut self,
        event: Event,
        guest: &Guest<'_>,
        on_record: &mut dyn FnMut(&Record<'_>) -> bool,
    ) -> Option<Signal> {
        match event {
            Event::Log(line) => {
                let record = abi_log::parse(&line);
                if record == Some(Record::ConsoleReady) {
                    self.console_ready.open();
                    return None;
                }
                let shown = record.is_some_and(|record| on_record(&record));
                if guest.verbose && !shown {
                    eprintln!("{}", log::render(&line, guest.kernel.symbols()));
                }
                self.log.push(line);
            }
            Event::Closed => self.open = self.open.saturating_sub(1),
            Event::Signal(signal) => return Some(signal),
        }
        None
    }
}

/// What the relay threads tell the session loop.
enum Event {
    Log(String),
    /// A channel reached its end.
    Closed,
    Signal(Signal),
}

/// Kills QEMU if the session is left early (errors), so it never outlives isounik.
struct QemuProcess {
    child: Child,
    status: Option<ExitStatus>,
}

impl QemuProcess {
    fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self.child.try_wait()?;
        }
        Ok(self.status)
    }

    fn kill(&mut self) -> io::Result<ExitStatus> {
        if let Some(status) = self.try_wait()? {
            return Ok(status);
        }
        // Ignore the error: the process may have exited in between; wait() tells.
        let _ = self.child.kill();
        let status = self.child.wait()?;
        self.status = Some(status);
        Ok(status)
    }
}

impl Drop for QemuProcess {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// QEMU's stdout and stderr, collected (and echoed live with `--verbose`).
struct QemuOutput {
    text: Arc<Mutex<Vec<u8>>>,
    thread: JoinHandle<()>,
}

impl QemuOutput {
    fn spawn(mut pipe: File, echo: bool) -> Self {
        let text = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&text);
        let thread = thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                if echo {
                    let _ = io::stderr().write_all(&buf[..n]);
                }
                sink.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(&buf[..n]);
            }
        });
        QemuOutput { text, thread }
    }

    /// Waits (boundedly) for QEMU's output to end and returns it.
    fn finish(self) -> String {
        let deadline = Instant::now() + DRAIN_LIMIT;
        while !self.thread.is_finished() && Instant::now() < deadline {
            thread::sleep(POLL);
        }
        let text = self.text.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&text).into_owned()
    }
}

/// The signals that end a session early.
fn termination_signals() -> SigSet {
    let mut signals = SigSet::empty();
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        signals.add(signal);
    }
    signals
}

/// Blocks the termination signals in this thread (and the threads it starts) and forwards
/// them to the session loop, which kills QEMU and ends. QEMU runs in its own process group,
/// so a terminal's Ctrl-C reaches isounik only.
fn watch_signals(events: Sender<Event>) -> Result<()> {
    let signals = termination_signals();
    signals.thread_block().context("cannot block signals")?;
    thread::spawn(move || {
        while let Ok(signal) = signals.wait() {
            if events.send(Event::Signal(signal)).is_err() {
                break;
            }
        }
    });
    Ok(())
}

/// Boots the guest and relays until it ends. `on_record` sees each log record as it arrives
/// and returns whether it showed it to the user (then `--verbose` does not echo it again).
pub fn boot(guest: &Guest<'_>, on_record: &mut dyn FnMut(&Record<'_>) -> bool) -> Result<Session> {
    let dir = tempfile::Builder::new()
        .prefix("isounik.")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let kernel_path = guest.kernel.path_in(dir.path())?;
    let initrd_path = match guest.initrd {
        Some(archive) => {
            let path = dir.path().join("initrd.cpio");
            std::fs::write(&path, archive)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Some(path)
        }
        None => None,
    };
    // One socket per channel, in the order of `CHANNELS`.
    let paths: Vec<_> = CHANNELS.iter().map(|name| dir.path().join(name)).collect();
    let listeners = paths
        .iter()
        .map(|path| {
            let listener = UnixListener::bind(path)
                .with_context(|| format!("cannot listen on {}", path.display()))?;
            listener.set_nonblocking(true)?;
            anyhow::Ok(listener)
        })
        .collect::<Result<Vec<_>>>()?;

    let args = qemu::argv(&Invocation {
        machine: guest.machine,
        accel: guest.accel,
        mem: guest.mem,
        kernel: &kernel_path,
        cmdline: &guest.cmdline,
        initrd: initrd_path.as_deref(),
        console_socket: &paths[0],
        log_socket: &paths[1],
        stdout_socket: &paths[2],
        stderr_socket: &paths[3],
        network: guest.network,
    });
    if guest.verbose {
        eprintln!("isounik: {}", qemu::display_command(guest.qemu, &args));
    }

    let (events, inbox) = mpsc::channel();
    watch_signals(events.clone())?;

    let (mut qemu, qemu_output) = spawn_qemu(guest, &args)?;
    let deadline = guest.timeout.map(|limit| (Instant::now() + limit, limit));

    let log = KernelLog::default();
    let streams = match accept(&listeners, &mut qemu, deadline, &inbox)? {
        Startup::Connected(streams) => streams,
        Startup::Ended(ending) => {
            qemu.kill()?;
            let qemu_output = qemu_output.finish();
            return Ok(Session {
                ending,
                log,
                qemu_output,
            });
        }
        Startup::Exited(status) => {
            let output = qemu_output.finish();
            bail!(
                "qemu failed to start ({status}){}",
                indented_output(&output)
            );
        }
    };
    drop(listeners);
    let [console, log_socket, stdout, stderr]: [UnixStream; 4] = streams
        .try_into()
        .map_err(|_| anyhow::anyhow!("expected {} connections", CHANNELS.len()))?;

    let console_ready = console::Gate::new();
    console::spawn_input(guest.input, console.try_clone()?, console_ready.clone());
    for (socket, target) in [
        (console, Target::Stdout),
        (stdout, Target::Stdout),
        (stderr, Target::Stderr),
    ] {
        let closed = events.clone();
        console::spawn_output(socket, target, move || {
            let _ = closed.send(Event::Closed);
        });
    }
    spawn_log_reader(log_socket, events);

    let mut relay = Relay {
        log,
        console_ready,
        open: CHANNELS.len(),
    };
    let ending = relay.until_qemu_ends(&mut qemu, deadline, &inbox, guest, on_record)?;
    relay.drain(&inbox, guest, on_record);
    Ok(Session {
        ending,
        log: relay.log,
        qemu_output: qemu_output.finish(),
    })
}

/// Starts QEMU in its own process group, its stdout and stderr going to one pipe.
fn spawn_qemu(guest: &Guest<'_>, args: &[std::ffi::OsString]) -> Result<(QemuProcess, QemuOutput)> {
    let (output_read, output_write) = nix::unistd::pipe().context("cannot create a pipe")?;
    let child = {
        // The Command holds the pipe's write end until dropped: keep it in this block, or
        // the reader would never see the end of QEMU's output.
        let mut command = Command::new(guest.qemu);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(output_write.try_clone()?))
            .stderr(Stdio::from(output_write))
            .process_group(0);
        let blocked = termination_signals();
        // SAFETY: the closure runs in the forked child before exec and only makes the
        // prctl(2) and sigprocmask(2) system calls, which are async-signal-safe and touch
        // only the stack. The first has the kernel kill QEMU when isounik dies, even by
        // SIGKILL; the second gives QEMU back the signals isounik blocks for itself.
        unsafe {
            command.pre_exec(move || {
                nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
                blocked.thread_unblock()?;
                Ok(())
            });
        }
        command
            .spawn()
            .with_context(|| format!("cannot start {}", guest.qemu.display()))?
    };
    let qemu = QemuProcess {
        child,
        status: None,
    };
    Ok((
        qemu,
        QemuOutput::spawn(File::from(output_read), guest.verbose),
    ))
}

impl Relay {
    /// Relays until QEMU exits, the time limit passes or a signal arrives (then QEMU is
    /// killed).
    fn until_qemu_ends(
        &mut self,
        qemu: &mut QemuProcess,
        deadline: Option<(Instant, Duration)>,
        inbox: &Receiver<Event>,
        guest: &Guest<'_>,
        on_record: &mut dyn FnMut(&Record<'_>) -> bool,
    ) -> Result<Ending> {
        loop {
            if let Some(status) = qemu.try_wait()? {
                return Ok(Ending::Qemu(status.into()));
            }
            let now = Instant::now();
            if let Some((at, limit)) = deadline {
                if now >= at {
                    qemu.kill()?;
                    return Ok(Ending::TimedOut(limit));
                }
            }
            let wait = deadline.map_or(POLL, |(at, _)| POLL.min(at - now));
            match inbox.recv_timeout(wait) {
                Ok(event) => {
                    if let Some(signal) = self.handle(event, guest, on_record) {
                        qemu.kill()?;
                        return Ok(Ending::Interrupted(signal));
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => thread::sleep(wait),
            }
        }
    }

    /// QEMU is gone: takes in what the relays still hold, until they reach the end of their
    /// sockets (boundedly).
    fn drain(
        &mut self,
        inbox: &Receiver<Event>,
        guest: &Guest<'_>,
        on_record: &mut dyn FnMut(&Record<'_>) -> bool,
    ) {
        let until = Instant::now() + DRAIN_LIMIT;
        while self.open > 0 {
            let Some(left) = until.checked_duration_since(Instant::now()) else {
                break;
            };
            match inbox.recv_timeout(left) {
                // A signal now changes nothing: QEMU has ended already.
                Ok(event) => _ = self.handle(event, guest, on_record),
                Err(_) => break,
            }
        }
    }
}

fn indented_output(output: &str) -> String {
    let output = output.trim_end();
    if output.is_empty() {
        String::new()
    } else {
        format!(":\n{output}")
    }
}

enum Startup {
    /// One stream per listener, in the same order.
    Connected(Vec<UnixStream>),
    /// Timed out or interrupted before QEMU connected.
    Ended(Ending),
    /// QEMU exited before connecting (bad option, missing device...).
    Exited(ExitStatus),
}

/// Waits for QEMU to connect to every socket, watching for its exit, the time limit and
/// signals, so a QEMU that fails at start-up never leaves isounik hanging.
fn accept(
    listeners: &[UnixListener],
    qemu: &mut QemuProcess,
    deadline: Option<(Instant, Duration)>,
    inbox: &Receiver<Event>,
) -> Result<Startup> {
    let startup_limit = Instant::now() + STARTUP_LIMIT;
    let mut streams: Vec<Option<UnixStream>> = listeners.iter().map(|_| None).collect();
    loop {
        for (listener, slot) in listeners.iter().zip(streams.iter_mut()) {
            if slot.is_none() {
                match listener.accept() {
                    Ok((stream, _)) => {
                        stream.set_nonblocking(false)?;
                        *slot = Some(stream);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e).context("accepting QEMU's connection failed"),
                }
            }
        }
        if streams.iter().all(Option::is_some) {
            return Ok(Startup::Connected(streams.into_iter().flatten().collect()));
        }
        if let Some(status) = qemu.try_wait()? {
            return Ok(Startup::Exited(status));
        }
        // Only the signal watcher sends anything yet.
        if let Ok(Event::Signal(signal)) = inbox.try_recv() {
            return Ok(Startup::Ended(Ending::Interrupted(signal)));
        }
        let now = Instant::now();
        if let Some((at, limit)) = deadline {
            if now >= at {
                return Ok(Startup::Ended(Ending::TimedOut(limit)));
            }
        }
        if now >= startup_limit {
            bail!(
                "qemu did not connect to isounik's sockets within {} s",
                STARTUP_LIMIT.as_secs()
            );
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Reads the kernel log socket line by line into the session loop.
fn spawn_log_reader(mut socket: UnixStream, events: Sender<Event>) {
    thread::spawn(move || {
        let mut pending = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = match socket.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            for line in log::split_lines(&mut pending, &buf[..n]) {
                if events.send(Event::Log(line)).is_err() {
                    return;
                }
            }
        }
        if !pending.is_empty() {
            let _ = events.send(Event::Log(log::line_text(&pending)));
        }
        let _ = events.send(Event::Closed);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const NORMAL: i32 = exit::qemu_status(exit::NORMAL);
    const FAILURE: i32 = exit::qemu_status(exit::KERNEL_FAILURE);

    fn qemu(code: i32) -> Ending {
        Ending::Qemu(QemuStatus::Code(code))
    }

    #[test]
    fn normal_exit_takes_the_guest_status() {
        assert_eq!(classify(qemu(NORMAL), Some(0), None), Outcome::Exited(0));
        assert_eq!(classify(qemu(NORMAL), Some(3), None), Outcome::Exited(3));
        assert_eq!(Outcome::Exited(3).exit_code(), 3);
        assert_eq!(Outcome::Exited(3).error(), None);
    }

    #[test]
    fn normal_exit_without_status_is_a_qemu_failure() {
        // QEMU itself also exits with 1 on errors.
        let outcome = classify(qemu(NORMAL), None, None);
        assert!(matches!(outcome, Outcome::QemuFailed(ref m) if m.contains("no @exit record")));
        assert_eq!(outcome.exit_code(), EXIT_TOOL);
    }

    #[test]
    fn crashes() {
        let outcome = classify(qemu(FAILURE), None, Some("page fault at 0x0"));
        assert_eq!(outcome, Outcome::Crashed("page fault at 0x0".into()));
        assert_eq!(outcome.exit_code(), 70);
        assert_eq!(
            outcome.error().unwrap(),
            "kernel crashed: page fault at 0x0"
        );
        // The failure status alone, or a crash record with any status, is a crash too.
        assert!(matches!(
            classify(qemu(FAILURE), None, None),
            Outcome::Crashed(_)
        ));
        assert!(matches!(
            classify(qemu(NORMAL), Some(0), Some("x")),
            Outcome::Crashed(_)
        ));
        assert!(matches!(
            classify(qemu(0), None, Some("x")),
            Outcome::Crashed(_)
        ));
    }

    #[test]
    fn reset() {
        let outcome = classify(qemu(0), Some(0), None);
        assert_eq!(outcome, Outcome::Reset);
        assert_eq!(outcome.exit_code(), 70);
        assert_eq!(outcome.error().unwrap(), "the guest reset (triple fault?)");
    }

    #[test]
    fn other_statuses_and_signals_are_qemu_failures() {
        let outcome = classify(qemu(2), None, None);
        assert_eq!(
            outcome,
            Outcome::QemuFailed("qemu exited with status 2".into())
        );
        assert_eq!(outcome.exit_code(), 125);
        let outcome = classify(Ending::Qemu(QemuStatus::Signal(9)), Some(0), None);
        assert_eq!(
            outcome,
            Outcome::QemuFailed("qemu was killed by signal SIGKILL".into())
        );
        assert_eq!(outcome.exit_code(), 125);
    }

    #[test]
    fn timeouts_and_interrupts_win() {
        let outcome = classify(Ending::TimedOut(Duration::from_secs(7)), Some(0), Some("x"));
        assert_eq!(outcome.exit_code(), 124);
        assert_eq!(outcome.error().unwrap(), "guest did not finish within 7 s");
        let outcome = classify(Ending::Interrupted(Signal::SIGINT), None, None);
        assert_eq!(outcome.exit_code(), 130);
        assert_eq!(outcome.error(), None);
        assert_eq!(Outcome::Interrupted(Signal::SIGTERM).exit_code(), 143);
    }
}
