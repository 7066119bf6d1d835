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

/// `--mode native` times the gate's own code on the host CPU: where the CPU exposes PKU it
/// reports the two checks; elsewhere (this project's CI machines: a VM that hides PKU) it
/// refuses with the reason. Either way the benchmark program with the gate's assembly was
/// built (a build failure is a different error).
#[test]
fn native_mode_measures_the_gate_or_says_why_not() {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let has_pku = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .is_some_and(|l| l.split_whitespace().any(|f| f == "pku"))
        && cpuinfo.contains(" ospke");
    let ran = bench(&["--mode", "native", "--quick"], Duration::from_secs(120));
    if has_pku {
        assert_eq!(ran.code(), Some(0), "{}", ran.describe());
        for part in [
            "gate round trip (gate_native - loop_native):",
            "- gate round trip <= 2 x WRPKRU + 15",
            "at least 3x cheaper than the host's getppid",
        ] {
            assert!(ran.stdout().contains(part), "{}", ran.describe());
        }
    } else {
        assert_eq!(ran.code(), Some(125), "{}", ran.describe());
        assert!(
            ran.stderr()
                .contains("--mode native needs a CPU with protection keys (PKU) enabled"),
            "{}",
            ran.describe()
        );
    }
}

/// The gate's code runs in a Linux process with protection keys (Debian's kernel under
/// the same QEMU, TCG emulating PKU): its data page faults without the gate, and the round
/// trip answers getppid correctly (a wrong answer fails the loop).
#[test]
#[ignore = "needs Debian's kernel (apt-get install linux-image-amd64) and about a minute"]
fn the_gate_code_runs_in_a_linux_process() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("native.json");
    let ran = bench(
        &[
            "--mode",
            "icount",
            "--quick",
            "--vs-linux",
            "--skip-boot",
            "--syscall-entry",
            "trap",
            "--only",
            "gate_isolated,wrpkru,gate_native,loop_native",
            "--json",
            json.to_str().unwrap(),
        ],
        Duration::from_secs(600),
    );
    assert!(!ran.stdout().contains("FAILED"), "{}", ran.describe());
    let r = results(&json);
    for name in ["gate_isolated", "wrpkru", "gate_native", "loop_native"] {
        assert!(
            r.contains_key(&("linux".to_owned(), name.to_owned())),
            "{name}: {r:?}"
        );
    }
    let (gate, _) = r[&("linux".to_owned(), "gate_native".to_owned())];
    let (base, _) = r[&("linux".to_owned(), "loop_native".to_owned())];
    assert!(gate - base <= 30.0, "{gate} - {base}");
}
