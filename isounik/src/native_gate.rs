//! `isounik bench --mode native`: the MPK gate's own code timed on this host's CPU.
//!
//! The gate's assembly (`kernel/src/arch/x86_64/gate.s`, the file the kernel assembles) is
//! filled in with the same constants and linked into the benchmark program with a data page
//! standing for the libOS's memory. On Linux with PKU, the program gives that page
//! protection key `K_LIBOS`, runs with the application PKRU, and times with `rdtsc`, in one
//! run: one WRPKRU, the gate's round trip for `getppid` (two checked WRPKRUs, the dispatch
//! table, the answer from libOS data) and the host kernel's raw `getppid` system call.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use isounik_abi::pkey::{APP_PKRU, K_LIBOS, LIBOS_PKRU};

use crate::bench::{parse_line, Line, Measure};

/// The kernel's gate, as it assembles it.
const GATE_TEMPLATE: &str = include_str!("../../kernel/src/arch/x86_64/gate.s");

/// The gate's assembly for a GNU assembler, with the data it names in one page of its own
/// (`gate_data_start`), which the program protects with `K_LIBOS`.
pub fn gate_assembly() -> String {
    let filled = GATE_TEMPLATE
        .replace("{libos}", &format!("{LIBOS_PKRU:#x}"))
        .replace("{app}", &format!("{APP_PKRU:#x}"))
        .replace("{table_len}", &isounik_abi::gate::TABLE_LEN.to_string())
        .replace("{slow}", &format!("{:#x}", isounik_abi::gate::SLOW as u64))
        .replace(
            "{priv_forward}",
            &format!("{:#x}", isounik_abi::gate::PRIV_FORWARD),
        )
        .replace(
            "{priv_finish}",
            &format!("{:#x}", isounik_abi::gate::PRIV_FINISH),
        );
    let words = isounik_abi::gate::TABLE_LEN;
    let mut out = String::from(".intel_syntax noprefix\n");
    out.push_str(&filled);
    let _ = write!(
        out,
        "\n.section .data.gate_libos, \"aw\"\n.balign 4096\n.global gate_data_start\n\
         gate_data_start:\n.global GATE_TABLE\nGATE_TABLE: .zero {table}\n",
        table = words * 8
    );
    for name in ["GATE_PID", "GATE_TID", "GATE_PPID", "GATE_STACK"] {
        let _ = writeln!(out, ".global {name}\n{name}: .quad 0");
    }
    out.push_str(".balign 4096\n.text\n");
    // The kernel's system call table is not part of the benchmark: every call it would
    // run goes the privilege gate's way.
    let _ = write!(
        out,
        "gate_dispatch:\n    movabs rax, {:#x}\n    ret\n",
        isounik_abi::gate::SLOW as u64
    );
    out
}

/// The C compiler flags that build the benchmark program with the gate.
pub fn c_flags() -> Vec<String> {
    vec![
        "-DNATIVE_GATE".into(),
        format!("-DGATE_TABLE_LEN={}", isounik_abi::gate::TABLE_LEN),
        format!("-DAPP_PKRU={APP_PKRU:#x}u"),
        format!("-DK_LIBOS={K_LIBOS}"),
        // The gate addresses its table with 32-bit absolute displacements.
        "-no-pie".into(),
    ]
}

/// Whether this machine's CPU lets Linux programs use protection keys.
fn host_has_pku() -> Result<bool, String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").map_err(|e| e.to_string())?;
    let flags = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, f)| f.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .unwrap_or_default();
    Ok(flags.iter().any(|f| f == "pku") && flags.iter().any(|f| f == "ospke"))
}

const NAMES: [&str; 6] = [
    "gate_isolated",
    "wrpkru",
    "gate_native",
    "loop_native",
    "null_raw",
    "loop_raw",
];

/// Runs the native measurement: built into `bin` (the benchmark program), on this host.
pub fn run(bin: &Path, quick: bool, cpu: &str) -> Result<u8> {
    match host_has_pku() {
        Ok(true) => {}
        Ok(false) => bail!(
            "--mode native needs a CPU with protection keys (PKU) enabled: this machine's \
             {cpu} shows no 'pku'/'ospke' in /proc/cpuinfo (a VM whose hypervisor hides PKU, \
             or a CPU without it), so the gate cannot run natively here. Run it on an Intel \
             Xeon (Skylake-SP or later) or AMD Zen 3 (or later) host, or use --mode icount"
        ),
        Err(e) => bail!("--mode native: cannot read /proc/cpuinfo: {e}"),
    }
    let mut command = Command::new(bin.join("bench_native"));
    if quick {
        command.arg("-q");
    }
    command.args(NAMES).stdin(Stdio::null());
    let output = command
        .output()
        .context("cannot run the benchmark program")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut measures = Vec::new();
    for line in text.lines().filter_map(parse_line) {
        match line {
            Line::Result(m) => measures.push(m),
            Line::Error { name, what } => bail!("native benchmark {name} failed: {what}"),
            _ => {}
        }
    }
    print!("{}", render(cpu, &measures));
    Ok(0)
}

/// The report: the raw rows, then the derived costs and the two checks of the issue.
pub fn render(cpu: &str, measures: &[Measure]) -> String {
    let get = |name: &str| measures.iter().find(|m| m.name == name).map(|m| m.min);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "isounik bench: mode native (the MPK gate's code on this CPU, rdtsc ticks, minimum \
         over the batches)\nmachine: {cpu}\n"
    );
    let _ = writeln!(out, "| loop | ticks per iteration (min) | median |");
    let _ = writeln!(out, "|---|---:|---:|");
    for m in measures {
        let _ = writeln!(out, "| `{}` | {:.1} | {:.1} |", m.name, m.min, m.median);
    }
    let (Some(wrpkru), Some(gate), Some(gate_loop), Some(raw), Some(raw_loop)) = (
        get("wrpkru"),
        get("gate_native"),
        get("loop_native"),
        get("null_raw"),
        get("loop_raw"),
    ) else {
        out.push_str("\n(not every loop ran: no derived numbers)\n");
        return out;
    };
    let gate_trip = gate - gate_loop;
    let raw_trip = raw - raw_loop;
    let bound = 2.0 * wrpkru + 15.0;
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    let _ = writeln!(
        out,
        "\ngate round trip (gate_native - loop_native): {gate_trip:.1} ticks\n\
         WRPKRU (the wrpkru loop, loop included): {wrpkru:.1} ticks\n\
         host getppid system call (null_raw - loop_raw): {raw_trip:.1} ticks\n\n\
         - gate round trip <= 2 x WRPKRU + 15 = {bound:.1}: {} ({gate_trip:.1})\n\
         - gate round trip at least 3x cheaper than the host's getppid: {} ({:.1}x)",
        verdict(gate_trip <= bound),
        verdict(gate_trip * 3.0 <= raw_trip),
        raw_trip / gate_trip.max(0.1),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_assembly_is_filled_in_completely() {
        let asm = gate_assembly();
        assert!(!asm.contains('{') && !asm.contains('}'), "{asm}");
        assert!(asm.starts_with(".intel_syntax noprefix\n"));
        assert!(asm.contains(&format!("mov eax, {LIBOS_PKRU:#x}")));
        assert!(asm.contains("gate_direct:"));
        let table_bytes = isounik_abi::gate::TABLE_LEN * 8;
        assert!(asm.contains(&format!("GATE_TABLE: .zero {table_bytes}")));
        // The table and the four words after it share one page, which the benchmark
        // protects with K_LIBOS.
        assert!(table_bytes + 4 * 8 <= 4096);
    }

    fn measure(name: &str, min: f64) -> Measure {
        Measure {
            name: name.into(),
            iterations: 10,
            reps: 5,
            min,
            median: min,
            ns_min: 0.0,
            ns_median: 0.0,
        }
    }

    #[test]
    fn derives_the_round_trips_and_checks_them() {
        let rows = [
            measure("wrpkru", 20.0),
            measure("gate_native", 60.0),
            measure("loop_native", 8.0),
            measure("null_raw", 260.0),
            measure("loop_raw", 2.0),
        ];
        let text = render("Test CPU", &rows);
        assert!(text.contains("gate round trip (gate_native - loop_native): 52.0 ticks"));
        assert!(text.contains("- gate round trip <= 2 x WRPKRU + 15 = 55.0: met (52.0)"));
        assert!(text.contains("at least 3x cheaper than the host's getppid: met (5.0x)"));
        let text = render("Test CPU", &rows[..2]);
        assert!(text.contains("not every loop ran"));
    }
}
