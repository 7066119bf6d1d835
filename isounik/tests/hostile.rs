//! Hostile programs: each `tests-programs/hostile_*.c` performs one attack on the isolation
//! (reading or writing libOS memory, WRPKRU in code, W^X, XRSTOR, forged signal frames,
//! privileged instructions, jumps into libOS code, bad pointers, resource exhaustion, syscall
//! fuzzing) and reports on stdout how it failed; it prints `ok: ...` per check and ends with
//! `NAME ok` when every attempt failed in the named way (`FAIL ...` otherwise).
//!
//! Every attack runs inside a busybox shell next to a sibling process that ticks a counter in
//! `/tmp/tick` every 0.1 s. After the attack the script checks that the sibling still ticks,
//! can be signalled and reaped, and that a new process starts and works; isounik must end
//! with the script's status 0, never 70 (kernel crash) or 124 (timeout).
//!
//! Kernel addresses (the image's `.data`, `.rodata`, `.text`, and every WRPKRU in its code)
//! come from the kernel's ELF (`ISOUNIK_KERNEL_ELF`, the file isounik embeds), as an attacker
//! would take them from the published binary.
//!
//! System calls enter the kernel by trap (`syscall`); each attack runs once per entry mode in
//! [`MODES`], so the MPK call gate joins the suite by adding its mode there.

mod common;

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::OnceLock;

use common::programs::{c_program, Libc};
use common::{guest, Ran, EXIT_CRASH};

/// How system calls enter the libOS.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// The `syscall` instruction traps into ring 0.
    Trap,
    /// `syscall` sites are rewritten into calls through the MPK gate.
    Gate,
}

/// Every attack runs in each of these modes.
const MODES: &[Mode] = &[Mode::Trap, Mode::Gate];

impl Mode {
    /// isounik options that select the mode.
    fn options(self) -> Vec<OsString> {
        match self {
            Mode::Trap => Vec::new(),
            // The environment tells the programs which mode they run in (hostile_null_access
            // expects a call to address 0 to enter the trampoline in gate mode).
            Mode::Gate => ["--syscall-entry=gate", "-e", "ISOUNIK_ENTRY=gate"]
                .iter()
                .map(OsString::from)
                .collect(),
        }
    }
}

const EXIT_TIMEOUT: i32 = 124;

/// Addresses in the kernel image, from its ELF.
struct Kernel {
    text: u64,
    rodata: u64,
    data: u64,
    bss: u64,
    /// Every `0f 01 ef` (WRPKRU) in executable sections.
    wrpkru: Vec<u64>,
    /// The gate's privilege-gate request (`syscall`) and the code that prepares it.
    priv_request: u64,
    gate_slow: u64,
    finish_request: u64,
    /// The privilege gate's services for libOS code: the function and its `syscall`.
    service: u64,
    service_request: u64,
}

fn kernel() -> &'static Kernel {
    static KERNEL: OnceLock<Kernel> = OnceLock::new();
    KERNEL.get_or_init(|| {
        let path = env!("ISOUNIK_KERNEL_ELF");
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let file = elf::ElfBytes::<elf::endian::AnyEndian>::minimal_parse(&bytes)
            .expect("the kernel is an ELF file");
        let (headers, names) = file.section_headers_with_strtab().expect("sections");
        let (headers, names) = (headers.expect("sections"), names.expect("names"));
        let mut kernel = Kernel {
            text: 0,
            rodata: 0,
            data: 0,
            bss: 0,
            wrpkru: Vec::new(),
            priv_request: 0,
            gate_slow: 0,
            finish_request: 0,
            service: 0,
            service_request: 0,
        };
        let (symbols, strings) = file
            .symbol_table()
            .expect("symbol table")
            .expect("the kernel ELF has symbols");
        for symbol in symbols.iter() {
            match strings.get(symbol.st_name as usize).unwrap_or("") {
                "gate_priv_request" => kernel.priv_request = symbol.st_value,
                "gate_slow" => kernel.gate_slow = symbol.st_value,
                "gate_priv_finish_request" => kernel.finish_request = symbol.st_value,
                "gate_service" => kernel.service = symbol.st_value,
                "gate_service_request" => kernel.service_request = symbol.st_value,
                _ => {}
            }
        }
        assert!(
            kernel.priv_request != 0
                && kernel.gate_slow != 0
                && kernel.finish_request != 0
                && kernel.service != 0
                && kernel.service_request != 0,
            "the kernel ELF lacks gate_priv_request/gate_slow/gate_priv_finish_request/\
             gate_service/gate_service_request"
        );
        for header in headers.iter() {
            let name = names.get(header.sh_name as usize).unwrap_or("");
            match name {
                ".text" => kernel.text = header.sh_addr,
                ".rodata" => kernel.rodata = header.sh_addr,
                ".data" => kernel.data = header.sh_addr,
                ".bss" => kernel.bss = header.sh_addr,
                _ => {}
            }
            let executable = header.sh_flags & u64::from(elf::abi::SHF_EXECINSTR) != 0;
            if executable && header.sh_type == elf::abi::SHT_PROGBITS && header.sh_addr >> 63 == 1 {
                let (data, _) = file.section_data(&header).expect("section data");
                for (i, w) in data.windows(3).enumerate() {
                    if w == [0x0f, 0x01, 0xef] {
                        kernel.wrpkru.push(header.sh_addr + i as u64);
                    }
                }
            }
        }
        assert!(
            kernel.text != 0 && kernel.rodata != 0 && kernel.data != 0 && kernel.bss != 0,
            "the kernel ELF lacks .text/.rodata/.data/.bss"
        );
        kernel
    })
}

fn hex(v: u64) -> String {
    format!("{v:#x}")
}

/// The script around an attack: a ticking sibling before, survival checks after.
fn wrap(attack: &str) -> String {
    format!(
        r#"B=/bin/busybox
$B sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/tick; sleep 0.1; done' &
S=$!
n=0; while [ ! -s /tmp/tick ] && [ $n -lt 100 ]; do sleep 0.05; n=$((n+1)); done
echo "=== attack"
{attack}
echo "=== after"
a=$(cat /tmp/tick); sleep 0.35; b=$(cat /tmp/tick)
if [ "$b" -gt "$a" ]; then echo "sibling: ticking"; else echo "sibling: STOPPED ($a -> $b)"; fi
kill $S && echo "sibling: signalled"
wait $S; echo "sibling: reaped with status $?"
x=$(/bin/busybox expr 6 \* 7); [ "$x" = 42 ] && echo "new process: works"
echo "=== survived"
exit 0
"#
    )
}

/// The outcome of one attack in one mode.
struct Outcome {
    ran: Ran,
    mode: Mode,
}

impl Outcome {
    fn stdout(&self) -> String {
        self.ran.stdout()
    }

    /// What the attack printed (between the script's markers).
    fn attack_output(&self) -> String {
        let out = self.stdout();
        let start = out.find("=== attack\n").map_or(0, |i| i + 11);
        let end = out[start..]
            .find("=== after\n")
            .map_or(out.len(), |i| start + i);
        out[start..end].to_owned()
    }

    fn fail(&self, why: &str) -> ! {
        panic!("[{:?} mode] {why}\n{}", self.mode, self.ran.describe())
    }

    fn has_line(&self, line: &str) -> bool {
        self.attack_output().lines().any(|l| l == line)
    }

    /// The attack printed `line`.
    fn expect_line(&self, line: &str) -> &Self {
        if !self.has_line(line) {
            self.fail(&format!("the attack did not print {line:?}"));
        }
        self
    }

    /// The attack printed a line containing `part`.
    fn expect_contains(&self, part: &str) -> &Self {
        if !self.attack_output().contains(part) {
            self.fail(&format!("the attack's output lacks {part:?}"));
        }
        self
    }

    /// isounik reported `part` on stderr (the kernel's reports of killed processes).
    fn expect_stderr_contains(&self, part: &str) -> &Self {
        if !self.ran.stderr().contains(part) {
            self.fail(&format!("stderr lacks {part:?}"));
        }
        self
    }

    /// No line of the attack starts with `FAIL` and `NAME ok` is there.
    fn expect_program_ok(&self, name: &str) -> &Self {
        let out = self.attack_output();
        if let Some(line) = out.lines().find(|l| l.starts_with("FAIL")) {
            self.fail(&format!("{name}: {line}"));
        }
        self.expect_line(&format!("{name} ok"))
    }
}

/// Runs `attack` (shell commands; programs are at `/data/NAME`) in every mode with the
/// sibling, checks survival, and returns the outcomes.
fn attack_with(programs: &[&str], attack: &str, options: &[&str]) -> Vec<Outcome> {
    let paths: Vec<(String, PathBuf)> = programs
        .iter()
        .map(|p| (p.to_string(), c_program(p, Libc::Musl)))
        .collect();
    MODES
        .iter()
        .map(|&mode| {
            let mut args: Vec<OsString> = mode.options();
            args.extend(options.iter().map(OsString::from));
            for (name, path) in &paths {
                args.push("--add".into());
                args.push(format!("{}:/data/{name}", path.display()).into());
            }
            args.extend(["/bin/busybox", "sh", "-c"].map(OsString::from));
            args.push(wrap(attack).into());
            let outcome = Outcome {
                ran: guest(&args),
                mode,
            };
            survived(&outcome);
            outcome
        })
        .collect()
}

fn attack(programs: &[&str], attack: &str) -> Vec<Outcome> {
    attack_with(programs, attack, &[])
}

/// The kernel, the sibling and new processes survived.
fn survived(o: &Outcome) {
    match o.ran.code() {
        Some(EXIT_CRASH) => o.fail("THE KERNEL CRASHED (isounik exit status 70)"),
        Some(EXIT_TIMEOUT) => o.fail("THE GUEST HUNG (isounik exit status 124, --timeout)"),
        _ => {}
    }
    let out = o.stdout();
    for line in [
        "=== after",
        "sibling: ticking",
        "sibling: signalled",
        "sibling: reaped with status 143",
        "new process: works",
        "=== survived",
    ] {
        if !out.lines().any(|l| l == line) {
            o.fail(&format!("after the attack, stdout lacks {line:?}"));
        }
    }
    if o.ran.code() != Some(0) {
        o.fail("the script did not exit 0");
    }
}

/// One program run as `/data/NAME ARGS; echo "attack-status $?"`.
fn run_line(name: &str, args: &[String]) -> String {
    format!("/data/{name} {}; echo \"attack-status $?\"", args.join(" "))
}

/// An attack that is one program that must print `NAME ok` and exit 0.
fn program_ok(name: &str, args: &[String]) -> Vec<Outcome> {
    let outcomes = attack(&[name], &run_line(name, args));
    for o in &outcomes {
        o.expect_program_ok(name).expect_line("attack-status 0");
    }
    outcomes
}

fn addresses() -> Vec<String> {
    let k = kernel();
    vec![
        hex(k.bss + 0x100),
        hex(k.rodata + 0x100),
        hex(k.text + 0x1000),
    ]
}

#[test]
fn hostile_read_libos() {
    let mut args = vec!["probe".to_string()];
    args.extend(addresses());
    let data = hex(kernel().data + 0x10);
    let script = format!(
        "{}\n{}",
        run_line("hostile_read_libos", &args),
        run_line("hostile_read_libos", &["kill".into(), data])
    );
    for o in attack(&["hostile_read_libos"], &script) {
        // The MPK isolation claim itself.
        o.expect_line("ok: read of kernel .data faults with SEGV_PKUERR at its address")
            .expect_line("ok: read of libOS heap faults with SEGV_PKUERR at its address")
            .expect_program_ok("hostile_read_libos")
            .expect_line("attack-status 0")
            .expect_line("attack-status 139");
    }
}

#[test]
fn hostile_write_libos() {
    let mut args = vec!["write".to_string()];
    args.extend(addresses());
    let data = hex(kernel().bss + 0x10);
    let script = format!(
        "{}\n{}",
        run_line("hostile_read_libos", &args),
        run_line("hostile_read_libos", &["killwrite".into(), data])
    );
    for o in attack(&["hostile_read_libos"], &script) {
        o.expect_line("ok: write of kernel .data faults with SEGV_PKUERR at its address")
            .expect_program_ok("hostile_read_libos")
            .expect_line("attack-status 0")
            .expect_line("attack-status 139");
    }
}

#[test]
fn hostile_read_other_process() {
    program_ok("hostile_read_other_process", &[]);
}

#[test]
fn hostile_wrpkru_in_text() {
    let name = "hostile_wrpkru_in_text";
    let program = c_program(name, Libc::Musl);
    for &mode in MODES {
        // As the first program (PID 1): refused at exec, status 126, WRPKRU named.
        let mut args = mode.options();
        args.push(program.clone().into());
        let ran = guest(&args);
        let o = Outcome { ran, mode };
        if o.ran.code() != Some(126) || !o.ran.stderr().contains("WRPKRU") {
            o.fail("a program with WRPKRU in its code was not refused with 126 and a message naming WRPKRU");
        }
        if o.stdout().contains("FAIL") {
            o.fail("the program ran");
        }
    }
    // From a shell: execve fails, the shell goes on; a program with the bytes only in
    // read-only data runs.
    let script = format!(
        "/data/{name}; echo \"attack-status $?\"\n/data/hostile_wrpkru_in_rodata; echo \"rodata-status $?\""
    );
    for o in attack(&[name, "hostile_wrpkru_in_rodata"], &script) {
        o.expect_line("attack-status 126");
        if o.attack_output().contains("FAIL") {
            o.fail("the program with WRPKRU in its code ran");
        }
        o.expect_line("hostile_wrpkru_in_rodata ok")
            .expect_line("rodata-status 0");
    }
}

#[test]
fn hostile_rewrite_program_file() {
    program_ok("hostile_rewrite_program_file", &[]);
}

#[test]
fn hostile_wrpkru_mprotect() {
    program_ok("hostile_wrpkru_mprotect", &[hex(kernel().bss + 0x100)]);
}

#[test]
fn hostile_wx_mapping() {
    program_ok("hostile_wx_mapping", &[]);
}

#[test]
fn hostile_mmap_exec_file() {
    program_ok("hostile_mmap_exec_file", &[hex(kernel().bss + 0x100)]);
}

#[test]
fn hostile_modify_running_text() {
    program_ok("hostile_modify_running_text", &[hex(kernel().bss + 0x100)]);
}

#[test]
fn hostile_fake_syscall_site() {
    program_ok("hostile_fake_syscall_site", &[]);
}

#[test]
fn hostile_vdso() {
    program_ok("hostile_vdso", &[]);
}

#[test]
fn hostile_xrstor_pkru() {
    program_ok("hostile_xrstor_pkru", &[hex(kernel().bss + 0x100)]);
}

#[test]
fn hostile_sigreturn_forged() {
    program_ok("hostile_sigreturn_forged", &[hex(kernel().bss + 0x100)]);
}

#[test]
fn hostile_efault_libos_pointers() {
    let k = kernel();
    program_ok(
        "hostile_efault_libos_pointers",
        &[hex(k.bss + 0x100), hex(k.rodata + 0x100)],
    );
}

#[test]
fn hostile_privileged_instructions() {
    program_ok("hostile_privileged_instructions", &[]);
}

#[test]
fn hostile_jump_into_kernel_text() {
    let k = kernel();
    assert!(!k.wrpkru.is_empty(), "the kernel's code has no WRPKRU?");
    let mut args = vec![hex(k.bss + 0x100), hex(k.text), hex(k.text + 0x1000)];
    args.extend(k.wrpkru.iter().map(|&a| hex(a)));
    program_ok("hostile_jump_into_kernel_text", &args);
}

#[test]
fn hostile_gate_calls() {
    program_ok("hostile_gate_calls", &[hex(kernel().data + 0x10)]);
}

#[test]
fn hostile_privilege_gate() {
    let k = kernel();
    program_ok(
        "hostile_privilege_gate",
        &[
            hex(k.priv_request),
            hex(k.gate_slow),
            hex(k.data + 0x10),
            hex(k.finish_request),
            hex(k.service_request),
            hex(k.service),
        ],
    );
}

#[test]
fn hostile_null_access() {
    program_ok("hostile_null_access", &[]);
}

#[test]
fn hostile_fork_bomb() {
    for o in program_ok("hostile_fork_bomb", &[]) {
        o.expect_contains("ok: fork failed with EAGAIN after ");
    }
}

#[test]
fn hostile_fork_bomb_max_procs() {
    let name = "hostile_fork_bomb";
    for o in attack_with(
        &[name],
        &run_line(name, &["64".into()]),
        &["--append", "max_procs=64"],
    ) {
        o.expect_program_ok(name)
            .expect_line("attack-status 0")
            .expect_contains("ok: fork failed with EAGAIN after ")
            .expect_line("ok: at most 64 processes existed");
    }
}

#[test]
fn hostile_memory_exhaustion() {
    program_ok("hostile_memory_exhaustion", &[]);
}

#[test]
fn hostile_memory_hoarding() {
    for o in program_ok("hostile_memory_hoarding", &[]) {
        // The out-of-memory killer names its choice.
        o.expect_stderr_contains("killed by SIGKILL: out of memory: it held the most");
    }
}

#[test]
fn hostile_file_exhaustion() {
    program_ok("hostile_file_exhaustion", &[]);
}

#[test]
fn hostile_inode_exhaustion() {
    program_ok("hostile_inode_exhaustion", &[]);
}

#[test]
fn hostile_stack_overflow() {
    program_ok("hostile_stack_overflow", &[]);
}

#[test]
fn hostile_syscall_fuzz() {
    let k = kernel();
    for o in program_ok("hostile_syscall_fuzz", &[hex(k.bss + 0x100)]) {
        o.expect_contains("ok: 2000 random system calls made");
    }
}

#[test]
fn hostile_bad_pointers_everywhere() {
    let k = kernel();
    program_ok("hostile_bad_pointers_everywhere", &[hex(k.bss + 0x100)]);
}

#[test]
fn hostile_huge_arguments() {
    let k = kernel();
    program_ok("hostile_huge_arguments", &[hex(k.bss + 0x100)]);
}

#[test]
fn hostile_signal_storm() {
    program_ok("hostile_signal_storm", &[]);
}

#[test]
fn hostile_sockets() {
    program_ok("hostile_sockets", &[hex(kernel().bss + 0x100)]);
}

#[test]
fn hostile_network() {
    let name = "hostile_network";
    for o in attack_with(&[name], &run_line(name, &[]), &["--net"]) {
        o.expect_program_ok(name).expect_line("attack-status 0");
    }
}
