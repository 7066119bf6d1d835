//! The kernel log (debugcon): every line is kept; records (`abi::log`) are interpreted.

use std::borrow::Cow;

use isounik_abi::log::{self, Record};

use crate::symbols::Symbolizer;

/// How many trailing log lines an error report shows.
pub const REPORT_LINES: usize = 40;

/// All lines the kernel logged, and what its records said.
#[derive(Debug, Default)]
pub struct KernelLog {
    lines: Vec<String>,
    exit: Option<u8>,
    crash: Option<String>,
}

impl KernelLog {
    /// Keeps `line` (without its newline) and notes its record, if any.
    pub fn push(&mut self, line: String) {
        match log::parse(&line) {
            Some(Record::Exit(status)) => self.exit = Some(status),
            // The first crash is the cause; a later one happened while reporting it.
            Some(Record::Crash(reason)) if self.crash.is_none() => {
                self.crash = Some(reason.to_owned())
            }
            _ => {}
        }
        self.lines.push(line);
    }

    /// The status of the last `@exit` record.
    pub fn exit_status(&self) -> Option<u8> {
        self.exit
    }

    /// The reason of the first `@crash` record.
    pub fn crash(&self) -> Option<&str> {
        self.crash.as_deref()
    }

    #[cfg(test)]
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// The last `n` lines, rendered for people (backtrace frames symbolized, runs of
    /// identical frames folded so deep recursion does not push the crash out), after a header.
    pub fn tail_report(&self, n: usize, symbols: Option<&Symbolizer>) -> String {
        if self.lines.is_empty() {
            return "(the kernel logged nothing)\n".to_owned();
        }
        let rendered = fold_repeated_frames(&self.lines, symbols);
        let start = rendered.len().saturating_sub(n);
        let mut report = if start == 0 {
            "kernel log:\n".to_owned()
        } else {
            format!("kernel log (last {n} of {} lines):\n", rendered.len())
        };
        for line in &rendered[start..] {
            report.push_str(line);
            report.push('\n');
        }
        report
    }
}

/// A log line for people: `@bt` records become `  #I 0xADDR symbol+0xoff`, the rest is shown
/// as it is.
pub fn render<'a>(line: &'a str, symbols: Option<&Symbolizer>) -> Cow<'a, str> {
    match log::parse(line) {
        Some(Record::Backtrace { index, address }) => Cow::Owned(match symbols {
            Some(symbols) => symbols.frame(index, address),
            None => format!("  #{index} {address:#018x} ??"),
        }),
        _ => Cow::Borrowed(line),
    }
}

/// Renders `lines`, replacing each run of backtrace frames that repeat the previous frame's
/// address with one `  ... N more frames like #I` line.
fn fold_repeated_frames<'a>(
    lines: &'a [String],
    symbols: Option<&Symbolizer>,
) -> Vec<Cow<'a, str>> {
    let mut out = Vec::with_capacity(lines.len());
    let mut previous: Option<(u32, u64)> = None;
    let mut repeats = 0usize;
    let flush = |out: &mut Vec<Cow<'a, str>>, repeats: &mut usize, previous: Option<(u32, u64)>| {
        if let (1.., Some((index, _))) = (*repeats, previous) {
            let s = if *repeats == 1 { "" } else { "s" };
            out.push(Cow::Owned(format!(
                "  ... {repeats} more frame{s} like #{index}"
            )));
        }
        *repeats = 0;
    };
    for line in lines {
        if let Some(Record::Backtrace { index, address }) = log::parse(line) {
            if previous.is_some_and(|(_, a)| a == address) {
                repeats += 1;
                continue;
            }
            flush(&mut out, &mut repeats, previous);
            previous = Some((index, address));
        } else {
            flush(&mut out, &mut repeats, previous);
            previous = None;
        }
        out.push(render(line, symbols));
    }
    flush(&mut out, &mut repeats, previous);
    out
}

/// Splits a chunk of the raw log stream into lines. Bytes after the last newline stay in
/// `pending` until more arrive; invalid UTF-8 is replaced, and a trailing `\r` dropped.
pub fn split_lines(pending: &mut Vec<u8>, chunk: &[u8]) -> Vec<String> {
    pending.extend_from_slice(chunk);
    let mut lines = Vec::new();
    let mut start = 0;
    while let Some(end) = pending[start..].iter().position(|&b| b == b'\n') {
        lines.push(line_text(&pending[start..start + end]));
        start += end + 1;
    }
    pending.drain(..start);
    lines
}

/// The text of one raw line (without its `\n`).
pub fn line_text(raw: &[u8]) -> String {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    String::from_utf8_lossy(raw).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_lines_and_records() {
        let mut log = KernelLog::default();
        for line in [
            "booting",
            "@selftest heap ok",
            "@crash page fault at 0x0",
            "@bt 0 0xffffffff80001234",
            "@crash panic while reporting",
            "@exit 3",
            "@exit 4",
            "@exit 999",
        ] {
            log.push(line.to_owned());
        }
        assert_eq!(log.lines().len(), 8);
        assert_eq!(log.exit_status(), Some(4));
        assert_eq!(log.crash(), Some("page fault at 0x0"));
    }

    #[test]
    fn renders_backtraces_and_tails() {
        assert_eq!(render("hello", None), "hello");
        assert_eq!(render("@bt 2 0x1234", None), "  #2 0x0000000000001234 ??");
        assert_eq!(render("@bt x 0x1234", None), "@bt x 0x1234");

        let mut log = KernelLog::default();
        assert_eq!(log.tail_report(3, None), "(the kernel logged nothing)\n");
        for i in 0..5 {
            log.push(format!("line {i}"));
        }
        log.push("@bt 0 0x10".to_owned());
        assert_eq!(
            log.tail_report(3, None),
            "kernel log (last 3 of 6 lines):\nline 3\nline 4\n  #0 0x0000000000000010 ??\n"
        );
        assert!(log
            .tail_report(40, None)
            .starts_with("kernel log:\nline 0\n"));
    }

    #[test]
    fn folds_recursion_in_backtraces() {
        let mut log = KernelLog::default();
        log.push("@crash stack overflow".to_owned());
        log.push("@bt 0 0x10".to_owned());
        for i in 1..=40 {
            log.push(format!("@bt {i} 0x20"));
        }
        log.push("@bt 41 0x30".to_owned());
        log.push("@bt 42 0x30".to_owned());
        log.push("done".to_owned());
        assert_eq!(
            log.tail_report(40, None),
            "kernel log:\n@crash stack overflow\n  #0 0x0000000000000010 ??\n  #1 0x0000000000000020 ??\n  \
             ... 39 more frames like #1\n  #41 0x0000000000000030 ??\n  ... 1 more frame like #41\ndone\n"
        );
    }

    #[test]
    fn splits_stream_into_lines() {
        let mut pending = Vec::new();
        assert_eq!(split_lines(&mut pending, b"one\r\ntw"), ["one"]);
        assert_eq!(split_lines(&mut pending, b"o\n\nthr\xffee"), ["two", ""]);
        assert_eq!(pending, b"thr\xffee");
        assert_eq!(line_text(&pending), "thr\u{fffd}ee");
    }
}
