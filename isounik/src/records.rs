//! What `isounik run` shows on stderr for the program's records (`abi::log`): system call
//! traces (`--strace`), deaths by signal, and errors the kernel wants the user to see.

use std::collections::BTreeSet;

use isounik_abi::log::Record;

/// `SIGSEGV` for 11; `signal 40` for numbers without a classic name.
pub fn signal_name(signo: u8) -> String {
    match signo {
        // The names come from the one table of the ABI crate.
        1..=31 => isounik_linux::signal::name(signo as u32)
            .map_or_else(|| format!("signal {signo}"), str::to_owned),
        _ => format!("signal {signo}"),
    }
}

/// Turns records into stderr lines; remembers which processes have traced.
pub struct Reporter {
    /// How the program is named in messages (its guest path).
    program: String,
    pids: BTreeSet<u32>,
}

impl Reporter {
    pub fn new(program: String) -> Self {
        Reporter {
            program,
            pids: BTreeSet::new(),
        }
    }

    /// The line to print on stderr for `record`, if it is one that `run` shows.
    /// `@strace` lines are `LINE` while one process has traced and `[pid N] LINE` once a
    /// second one has (as strace -f does).
    pub fn line(&mut self, record: &Record<'_>) -> Option<String> {
        match *record {
            Record::Strace { pid, line } => {
                self.pids.insert(pid);
                Some(if self.pids.len() > 1 {
                    format!("[pid {pid}] {line}")
                } else {
                    line.to_owned()
                })
            }
            Record::Signal { pid, signo, reason } => {
                let name = signal_name(signo);
                Some(if reason.is_empty() {
                    format!("isounik: {}[{pid}]: killed by {name}", self.program)
                } else {
                    format!(
                        "isounik: {}[{pid}]: killed by {name}: {reason}",
                        self.program
                    )
                })
            }
            Record::Error(message) => Some(format!("isounik: {message}")),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use isounik_abi::log::parse;

    fn line(reporter: &mut Reporter, text: &str) -> Option<String> {
        reporter.line(&parse(text).expect("a record"))
    }

    #[test]
    fn names_signals() {
        assert_eq!(signal_name(1), "SIGHUP");
        assert_eq!(signal_name(9), "SIGKILL");
        assert_eq!(signal_name(11), "SIGSEGV");
        assert_eq!(signal_name(16), "SIGSTKFLT");
        assert_eq!(signal_name(31), "SIGSYS");
        assert_eq!(signal_name(0), "signal 0");
        assert_eq!(signal_name(34), "signal 34");
    }

    #[test]
    fn strace_lines_get_pids_once_a_second_process_traces() {
        let mut r = Reporter::new("/bin/busybox".into());
        assert_eq!(
            line(&mut r, "@strace 1 openat(AT_FDCWD, \"/\", O_RDONLY) = 3").as_deref(),
            Some("openat(AT_FDCWD, \"/\", O_RDONLY) = 3")
        );
        assert_eq!(
            line(&mut r, "@strace 1 getpid() = 1").as_deref(),
            Some("getpid() = 1")
        );
        assert_eq!(
            line(&mut r, "@strace 2 getpid() = 2").as_deref(),
            Some("[pid 2] getpid() = 2")
        );
        assert_eq!(
            line(&mut r, "@strace 1 wait4(-1) = 2").as_deref(),
            Some("[pid 1] wait4(-1) = 2")
        );
    }

    #[test]
    fn signals_and_errors() {
        let mut r = Reporter::new("/bin/crash".into());
        assert_eq!(
            line(
                &mut r,
                "@signal 1 11 segmentation fault at 0x0 (read, page not present), rip 0x401136"
            )
            .as_deref(),
            Some(
                "isounik: /bin/crash[1]: killed by SIGSEGV: segmentation fault at 0x0 (read, page not present), rip 0x401136"
            )
        );
        assert_eq!(
            line(&mut r, "@signal 3 9").as_deref(),
            Some("isounik: /bin/crash[3]: killed by SIGKILL")
        );
        assert_eq!(
            line(
                &mut r,
                "@error /bin/true: dynamically linked programs are not supported"
            )
            .as_deref(),
            Some("isounik: /bin/true: dynamically linked programs are not supported")
        );
        assert_eq!(line(&mut r, "@exit 0"), None);
        assert_eq!(line(&mut r, "@selftest x ok"), None);
    }
}
