//! `isounik selftest`: boots the kernel in self-test mode and reports like `cargo test`.

use std::io::Write;

use anyhow::Result;
use isounik_abi::log::{Record, Verdict};

use crate::session::{self, Guest, Outcome};

/// Counts of self-test verdicts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Tally {
    /// Counts one result and returns its report line, e.g. `test heap ... FAILED: lost 3 blocks`.
    pub fn add(&mut self, name: &str, verdict: Verdict, detail: &str) -> String {
        let word = match verdict {
            Verdict::Ok => {
                self.passed += 1;
                "ok"
            }
            Verdict::Fail => {
                self.failed += 1;
                "FAILED"
            }
            Verdict::Skip => {
                self.skipped += 1;
                "skipped"
            }
        };
        if detail.is_empty() {
            format!("test {name} ... {word}")
        } else {
            format!("test {name} ... {word}: {detail}")
        }
    }

    /// `selftest: N passed, M failed` (`, K skipped` only when some were).
    pub fn closing_line(&self) -> String {
        let mut line = format!("selftest: {} passed, {} failed", self.passed, self.failed);
        if self.skipped > 0 {
            line.push_str(&format!(", {} skipped", self.skipped));
        }
        line
    }
}

/// The exit status of `isounik selftest` and the error to print besides the session's own
/// report (crashes, timeouts... are reported by the session).
pub fn verdict(outcome: &Outcome, tally: &Tally, filter: Option<&str>) -> (u8, Option<String>) {
    let ran = tally.passed + tally.failed + tally.skipped;
    match outcome {
        Outcome::Exited(_) if tally.failed > 0 => {
            let s = if tally.failed == 1 { "" } else { "s" };
            (1, Some(format!("{} self test{s} failed", tally.failed)))
        }
        Outcome::Exited(0) if tally.passed == 0 => match filter {
            Some(names) if ran == 0 => (1, Some(format!("no self test matched --filter {names}"))),
            _ => (1, Some("no self test passed".into())),
        },
        Outcome::Exited(0) => (0, None),
        Outcome::Exited(status) => (1, Some(format!("the guest exited with status {status}"))),
        other => (other.exit_code(), None),
    }
}

/// Runs the self tests (`filter`: the `--filter` names, for messages); returns isounik's
/// exit status.
pub fn run(guest: &Guest<'_>, filter: Option<&str>) -> Result<u8> {
    let mut tally = Tally::default();
    let session = session::boot(guest, &mut |record| {
        if let Record::SelfTest {
            name,
            verdict,
            detail,
        } = *record
        {
            let line = tally.add(name, verdict, detail);
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
        }
        false
    })?;
    let outcome = session.outcome();
    session.report(&outcome, guest.kernel, guest.verbose);
    let (code, error) = verdict(&outcome, &tally, filter);
    if let Some(error) = error {
        eprintln!("isounik: error: {error}");
    }
    println!("{}", tally.closing_line());
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn result_lines_and_closing_line() {
        let mut tally = Tally::default();
        assert_eq!(
            tally.add("pku_ring0", Verdict::Ok, ""),
            "test pku_ring0 ... ok"
        );
        assert_eq!(
            tally.add("heap", Verdict::Fail, "lost 3 blocks"),
            "test heap ... FAILED: lost 3 blocks"
        );
        assert_eq!(tally.add("gate", Verdict::Fail, ""), "test gate ... FAILED");
        assert_eq!(
            tally.add("x", Verdict::Skip, "no PCID"),
            "test x ... skipped: no PCID"
        );
        assert_eq!(
            tally,
            Tally {
                passed: 1,
                failed: 2,
                skipped: 1
            }
        );
        assert_eq!(
            tally.closing_line(),
            "selftest: 1 passed, 2 failed, 1 skipped"
        );
        let tally = Tally {
            passed: 9,
            failed: 0,
            skipped: 0,
        };
        assert_eq!(tally.closing_line(), "selftest: 9 passed, 0 failed");
    }

    #[test]
    fn passes_only_when_all_ran_clean() {
        let clean = Tally {
            passed: 9,
            failed: 0,
            skipped: 1,
        };
        assert_eq!(verdict(&Outcome::Exited(0), &clean, None), (0, None));
        let failed = Tally {
            passed: 8,
            failed: 1,
            skipped: 0,
        };
        assert_eq!(
            verdict(&Outcome::Exited(0), &failed, None),
            (1, Some("1 self test failed".into()))
        );
        let none = Tally {
            passed: 0,
            failed: 0,
            skipped: 2,
        };
        assert_eq!(verdict(&Outcome::Exited(0), &none, None).0, 1);
        let nothing = Tally::default();
        assert_eq!(
            verdict(&Outcome::Exited(0), &nothing, Some("nosuch")),
            (1, Some("no self test matched --filter nosuch".into()))
        );
        assert_eq!(
            verdict(&Outcome::Exited(1), &failed, None),
            (1, Some("1 self test failed".into()))
        );
        assert_eq!(
            verdict(&Outcome::Exited(2), &clean, None),
            (1, Some("the guest exited with status 2".into()))
        );
        assert_eq!(
            verdict(&Outcome::Crashed("x".into()), &clean, None),
            (70, None)
        );
        assert_eq!(
            verdict(&Outcome::TimedOut(Duration::from_secs(60)), &clean, None),
            (124, None)
        );
    }
}
