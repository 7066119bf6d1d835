//! `isounik bench`: instruction counts under `-icount shift=0` repeat from run to run (with
//! trap and with gate entry), and the comparison with a Linux guest completes (that one
//! needs Debian's kernel and is ignored by default).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::{isounik_with, Ran};

/// `(system, name)` -> (ticks_min, ticks_median) from the JSON file (one result a line).
fn results(json: &Path) -> BTreeMap<(String, String), (f64, f64)> {
    let text = std::fs::read_to_string(json).unwrap_or_else(|e| panic!("{}: {e}", json.display()));
    let field = |line: &str, key: &str| -> String {
        let start = line
            .find(&format!("\"{key}\": "))
            .unwrap_or_else(|| panic!("no {key} in {line}"))
            + key.len()
            + 4;
        line[start..]
            .split([',', '}'])
            .next()
            .unwrap()
            .trim()
            .trim_matches('"')
            .to_owned()
    };
    text.lines()
        .filter(|l| l.contains("\"ticks_median\""))
        .map(|l| {
            (
                (field(l, "system"), field(l, "name")),
                (
                    field(l, "ticks_min").parse().unwrap(),
                    field(l, "ticks_median").parse().unwrap(),
                ),
            )
        })
        .collect()
}

fn bench(args: &[&str], limit: Duration) -> Ran {
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    isounik_with(&all, b"", limit)
}

const SUBSET: &str =
    "null,null_raw,loop_raw,clock,stat,fork,fork_exec,pipe_lat,sig_catch,page_fault,mmap_1m";

/// Both entry modes run by default (`--syscall-entry both`): the gate adds one more boot of
/// the subset, a few seconds.
#[test]
fn icount_instruction_counts_repeat_within_half_a_percent() {
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for i in 0..2 {
        let json = dir.path().join(format!("run{i}.json"));
        let ran = bench(
            &[
                "--mode",
                "icount",
                "--quick",
                "--only",
                SUBSET,
                "--skip-boot",
                "--timeout",
                "60",
                "--json",
                json.to_str().unwrap(),
            ],
            Duration::from_secs(90),
        );
        assert_eq!(ran.code(), Some(0), "{}", ran.describe());
        assert!(
            ran.stdout().contains("| null syscall (getppid) (`null`) |"),
            "{}",
            ran.describe()
        );
        // Without Linux the gate target (an absolute count) is still checked.
        assert!(
            ran.stdout().contains(
                "- null syscall (getppid) round trip through the MPK gate <= 30 instructions"
            ),
            "{}",
            ran.describe()
        );
        runs.push(results(&json));
    }
    for system in ["isounik-trap", "isounik-gate"] {
        for name in SUBSET.split(',') {
            assert!(
                runs[0].contains_key(&(system.to_owned(), name.to_owned())),
                "{system} {name} missing: {:?}",
                runs[0]
            );
        }
    }
    assert_eq!(
        runs[0].len(),
        2 * SUBSET.split(',').count(),
        "{:?}",
        runs[0]
    );
    assert_eq!(
        runs[0].keys().collect::<Vec<_>>(),
        runs[1].keys().collect::<Vec<_>>()
    );
    for (key, &(min0, median0)) in &runs[0] {
        let (min1, median1) = runs[1][key];
        for (what, a, b) in [("min", min0, min1), ("median", median0, median1)] {
            assert!(a > 0.0, "{key:?} {what} is {a}");
            let difference = (a - b).abs() / a.max(b);
            assert!(
                difference <= 0.005,
                "{key:?} {what}: {a} then {b} ({:.3}% apart)",
                difference * 100.0
            );
        }
    }
}

#[test]
fn unknown_benchmarks_and_modes_are_refused() {
    let ran = bench(&["--only", "null,nosuch"], Duration::from_secs(30));
    assert_eq!(ran.code(), Some(125), "{}", ran.describe());
    assert!(
        ran.stderr().contains("unknown benchmark `nosuch`"),
        "{}",
        ran.describe()
    );
    let ran = bench(&["--mode", "fast"], Duration::from_secs(30));
    assert_eq!(ran.code(), Some(2), "{}", ran.describe());
}

#[test]
#[ignore = "needs Debian's kernel (apt-get install linux-image-amd64) and a few minutes"]
fn quick_comparison_with_linux_completes() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("results.json");
    let ran = bench(
        &["--quick", "--vs-linux", "--json", json.to_str().unwrap()],
        Duration::from_secs(900),
    );
    assert_eq!(ran.code(), Some(0), "{}", ran.describe());
    let results = results(&json);
    for system in ["isounik-trap", "isounik-gate", "linux"] {
        for name in ["null", "fork", "fork_exec", "pipe_lat"] {
            assert!(
                results.contains_key(&(system.to_owned(), name.to_owned())),
                "{system} {name} missing:\n{}",
                ran.describe()
            );
        }
    }
    assert!(
        ran.stdout().contains("Targets (ratio Iso-UniK trap/Linux"),
        "{}",
        ran.describe()
    );
}
