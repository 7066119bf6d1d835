//! busybox `sh` scripts in Iso-UniK against the same scripts on the host: pipelines,
//! subshells, background jobs and `wait`, traps and signals, redirections, `exec`, many
//! short-lived processes. Each script runs once in the guest and once natively, and their
//! exit statuses, stdout and stderr must be the same byte for byte (stderr is deterministic
//! in all of these scripts: the same binary prints the same messages, and no script prints
//! a PID).
//!
//! * Guest: `isounik run --machine microvm --timeout 60 --add FIXTURE:/data --workdir /data
//!   /bin/busybox sh -c SCRIPT` (or `/bin/busybox sh ./script.sh ARGS` for a script file in
//!   the fixture). Host: `/bin/busybox sh -c SCRIPT` in the fixture directory, with the
//!   guest's environment (PATH, HOME, TERM and nothing else, `common::guest_env`).
//! * The fixture is a fresh directory per test named `.../data` on a tmpfs, so `basename
//!   "$PWD"` is `data` on both sides. The guest runs first (isounik packs the directory
//!   before anything changes it), then the host runs in the same directory, so scripts may
//!   create files.
//! * How commands are found: the guest has only `/bin/busybox`. Debian's busybox-static is
//!   built with FEATURE_SH_STANDALONE and FEATURE_PREFER_APPLETS, so `sh` runs its own
//!   applets (`ls`, `cat`, `sleep`, ...) before looking at PATH, on the host as in the guest
//!   (by re-executing `/proc/self/exe`, or by forking without exec for NOEXEC applets); so do
//!   `xargs` and `find -exec`. The host's PATH is never consulted for an applet name, so
//!   both sides run the same code (`applets_are_found_in_busybox_itself` checks this).
//!   Applets that start a command through plain `execvp` (`timeout`, `env`, `nice`,
//!   `nohup`) would find coreutils on the host and nothing in the guest: scripts name
//!   `/bin/busybox APPLET` for their commands. Scripts never print PIDs or absolute host
//!   paths.
//! * Scripts leave no background job running when they end (the host run would wait for it
//!   to close stdout).

mod common;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use common::fixtures::{fix_mtimes, new_dir, write};
use common::{assert_same, guest, native_in, Ran};

const BUSYBOX: &str = "/bin/busybox";

/// How the script is run.
#[derive(Clone, Copy)]
enum Mode<'a> {
    /// `sh -c SCRIPT`
    Inline,
    /// The script is `./script.sh` in the fixture, run as `sh ./script.sh ARGS`.
    File(&'a [&'a str]),
}

/// A fresh fixture directory `.../data`: `text.txt`, `lines.txt`, `sub/a.txt`,
/// `sub/deeper/b.txt`, `sub/c.log`.
fn fixture() -> PathBuf {
    let data = new_dir("shell").join("data");
    std::fs::create_dir_all(data.join("sub/deeper")).unwrap();
    write(
        &data.join("text.txt"),
        "foo bar\nbaz foo\nqux\nthe quick brown fox\njumps over the lazy dog\n",
    );
    write(&data.join("lines.txt"), "pear\napple\nfig\nbanana\napple\n");
    write(&data.join("sub/a.txt"), "file a\n");
    write(&data.join("sub/deeper/b.txt"), "file b\nsecond line\n");
    write(&data.join("sub/c.log"), "a log\n");
    fix_mtimes(&data);
    data
}

/// Runs `script` in the guest and on the host; returns both runs.
fn run_both(script: &str, mode: Mode, data: &Path) -> (Ran, Ran) {
    let shell_args: Vec<OsString> = match mode {
        Mode::Inline => vec!["sh".into(), "-c".into(), script.into()],
        Mode::File(args) => {
            write(&data.join("script.sh"), script);
            std::iter::once("sh".into())
                .chain(std::iter::once("./script.sh".into()))
                .chain(args.iter().map(OsString::from))
                .collect()
        }
    };
    let mut cli: Vec<OsString> = vec![
        "--add".into(),
        format!("{}:/data", data.display()).into(),
        "--workdir".into(),
        "/data".into(),
        BUSYBOX.into(),
    ];
    cli.extend(shell_args.iter().cloned());
    let guest = guest(&cli);
    let host = native_in(data, BUSYBOX, &shell_args);
    (guest, host)
}

/// Compares the guest's run of `script` with the host's; `expected` is the host's stdout
/// (checked first, so that a script that does not do what it claims fails as a test bug).
fn check_with(script: &str, expected: &str, mode: Mode) -> (Ran, Ran) {
    let data = fixture();
    let (guest, host) = run_both(script, mode, &data);
    assert_eq!(
        host.stdout(),
        expected,
        "BROKEN TEST: the script does not print what the test expects on the host itself\n{}",
        host.describe()
    );
    assert_same("busybox sh script", &guest, &host);
    assert_eq!(
        guest.stderr(),
        host.stderr(),
        "stderr differs\n\n=== guest:\n{}\n\n=== host:\n{}",
        guest.describe(),
        host.describe()
    );
    (guest, host)
}

fn check(script: &str, expected: &str) -> (Ran, Ran) {
    check_with(script, expected, Mode::Inline)
}

fn status(ran: &Ran) -> Option<i32> {
    ran.code()
}

// ---------------------------------------------------------------------------------------
// How commands are found

#[test]
fn applets_are_found_in_busybox_itself() {
    // `ls --version` is an error for busybox ls (coreutils ls would print its version).
    check(
        "for c in ls cat sort find xargs sleep; do type $c; done; ls --version >/dev/null 2>&1; echo $?",
        "ls is ls\ncat is cat\nsort is sort\nfind is find\nxargs is xargs\nsleep is sleep\n1\n",
    );
}

// ---------------------------------------------------------------------------------------
// Pipelines

#[test]
fn pipeline_of_two_stages() {
    check("echo hello world | tr a-z A-Z", "HELLO WORLD\n");
}

#[test]
fn pipeline_of_three_stages_counts_bytes() {
    check("echo hello | tr a-z A-Z | wc -c", "6\n");
}

#[test]
fn pipeline_of_five_stages() {
    check(
        "seq 1 100 | grep 7 | sort -rn | head -n 5 | tr '\\n' ' '; echo",
        "97 87 79 78 77 \n",
    );
}

#[test]
fn pipeline_carries_a_megabyte() {
    check(
        "head -c 1000000 /dev/zero | tr '\\0' a | cat | wc -c; seq 1 20000 | cat | tail -n 1",
        "1000000\n20000\n",
    );
}

#[test]
fn pipeline_status_is_the_last_commands() {
    check(
        "false | true; echo $?; true | false; echo $?; (exit 5) | (exit 7); echo $?; \
         ! false | false; echo $?; ! true; echo $?",
        "0\n1\n7\n0\n1\n",
    );
}

#[test]
fn writer_into_a_closed_pipe_dies_of_sigpipe() {
    // `yes` never ends by itself: SIGPIPE must end it once head has exited.
    check(
        "yes | head -n 3; echo $?; seq 1 100000 | head -n 1; yes abc | cat | head -c 8; echo",
        "y\ny\ny\n0\n1\nabc\nabc\n\n",
    );
}

#[test]
fn hundred_pipelines_in_a_loop() {
    check(
        "i=0; while [ $i -lt 100 ]; do echo $i | cat | cat >/dev/null; i=$((i+1)); done; echo $i",
        "100\n",
    );
}

// ---------------------------------------------------------------------------------------
// Subshells, command substitution, functions

#[test]
fn subshells_do_not_change_the_parent() {
    check(
        "x=1; (x=2; echo in $x); echo out $x; (exit 4); echo $?; \
         (cd sub && basename \"$PWD\"); basename \"$PWD\"; (umask 077); umask",
        "in 2\nout 1\n4\nsub\ndata\n0022\n",
    );
}

#[test]
fn nested_command_substitution() {
    check(
        "echo \"a$(echo b$(echo c$(echo d)))e\"; x=$(echo $(echo 1 2) | wc -w); echo $x; \
         echo `echo back`tick; y=$(exit 3); echo $?; z=$(printf 'a\\n\\n\\n'); echo \"[$z]\"",
        "abcde\n2\nbacktick\n3\n[a]\n",
    );
}

#[test]
fn command_substitution_of_large_output() {
    check(
        "x=$(seq 1 5000); echo ${#x}; echo \"$x\" | tail -n 1",
        "23892\n5000\n",
    );
}

#[test]
fn functions_recursion_locals_and_status() {
    check(
        "f() { local x=$1; if [ $x -le 1 ]; then echo 1; return; fi; \
         echo $(( x * $(f $((x-1))) )); }; f 6; g() { return 7; }; g; echo $?; \
         h() { echo \"$#:$*\"; }; h a 'b c' d; x=global; k() { local x=local; echo $x; }; k; echo $x",
        "720\n7\n3:a b c d\nlocal\nglobal\n",
    );
}

#[test]
fn nested_shells_pass_exit_statuses() {
    check(
        "sh -c 'sh -c \"exit 7\"; echo inner $?; exit 3'; echo outer $?; \
         export A=1; sh -c 'echo A=$A'; B=2 sh -c 'echo B=$B'; echo \"[$B]\"",
        "inner 7\nouter 3\nA=1\nB=2\n[]\n",
    );
}

// ---------------------------------------------------------------------------------------
// Background jobs and wait

#[test]
fn wait_for_a_pid_returns_its_status() {
    check(
        "(exit 3) & p1=$!; (exit 5) & p2=$!; wait $p2; echo $?; wait $p1; echo $?; wait; echo $?",
        "5\n3\n0\n",
    );
}

#[test]
fn wait_for_all_background_jobs() {
    check(
        "for i in 1 2 3 4 5; do (echo job $i > out.$i) & done; wait; cat out.1 out.2 out.3 out.4 out.5",
        "job 1\njob 2\njob 3\njob 4\njob 5\n",
    );
}

#[test]
fn wait_without_children() {
    check_with(
        "wait; echo $?; wait 99999; echo $?",
        "0\n127\n",
        Mode::Inline,
    );
}

#[test]
fn background_job_output_read_through_a_pipe() {
    check(
        "{ (echo a; echo b) & (echo c) & wait; } | sort; { /bin/busybox sleep 0.1; echo late; } & wait",
        "a\nb\nc\nlate\n",
    );
}

#[test]
fn background_sleep_does_not_stall_foreground_commands() {
    // The foreground commands must finish long before the background sleep: the
    // script measures with /proc/uptime (in centiseconds, through awk) in both runs.
    check(
        "t0=$(awk '{print int($1 * 100)}' /proc/uptime); sleep 2 & p=$!; /bin/busybox true; \
         cat /dev/null; t1=$(awk '{print int($1 * 100)}' /proc/uptime); kill $p; wait $p; echo $?; \
         if [ $((t1 - t0)) -lt 100 ]; then echo fast; else echo slow $((t1 - t0)); fi",
        "143\nfast\n",
    );
}

#[test]
fn kill_of_background_jobs_gives_128_plus_signal() {
    // ash prints "Terminated" only if it reaps the job inside `wait`, not if the job died
    // and was reaped earlier: a race on any kernel, so the statuses are compared, not the
    // job messages on stderr.
    check_with(
        "exec 2>/dev/null; sleep 10 & p=$!; kill $p; wait $p; echo $?; sleep 10 & kill -9 $!; wait $!; echo $?; \
         sleep 10 & kill -HUP $!; wait $!; echo $?; sleep 10 & kill -USR1 $!; wait $!; echo $?",
        "143\n137\n129\n138\n",
        Mode::Inline,
    );
}

#[test]
fn kill_of_a_job_by_percent() {
    // As above: the job message on stderr depends on when ash reaps the job.
    check(
        "exec 2>/dev/null; sleep 0.2 & kill %1; wait %1; echo $?",
        "143\n",
    );
}

#[test]
fn exit_status_of_children_killed_by_signals() {
    check_with(
        "sh -c 'kill -9 $$'; echo $?; sh -c 'kill $$'; echo $?; sh -c 'kill -INT $$'; echo $?; \
         sh -c 'kill -USR1 $$'; echo $?; sh -c 'kill -SEGV $$'; echo $?",
        "137\n143\n130\n138\n139\n",
        Mode::Inline,
    );
}

#[test]
fn timeout_kills_a_long_command() {
    check(
        "/bin/busybox timeout 1 /bin/busybox sleep 10; echo $?; \
         /bin/busybox timeout 5 /bin/busybox true; echo $?",
        "143\n0\n",
    );
}

// ---------------------------------------------------------------------------------------
// Traps and signals

#[test]
fn trap_on_int_sent_to_the_shell() {
    check(
        "trap 'echo caught INT' INT; kill -INT $$; echo after; trap - INT; echo done",
        "caught INT\nafter\ndone\n",
    );
}

#[test]
fn trap_on_term_and_usr1() {
    check(
        "trap 'echo TERM' TERM; trap 'echo USR1' USR1; kill -TERM $$; kill $$; kill -USR1 $$; \
         kill -s USR1 $$; echo end",
        "TERM\nTERM\nUSR1\nUSR1\nend\n",
    );
}

#[test]
fn trap_on_exit() {
    let (guest, _) = check(
        "trap 'echo bye $?' EXIT; echo start; exit 3",
        "start\nbye 3\n",
    );
    assert_eq!(status(&guest), Some(3));
}

#[test]
fn trap_in_a_child_shell_signalled_with_usr1() {
    check(
        "sh -c 'trap \"echo child got USR1; exit 9\" USR1; echo ready > ready; \
         while :; do /bin/busybox sleep 0.05; done' & p=$!; \
         while [ ! -f ready ]; do /bin/busybox sleep 0.05; done; kill -USR1 $p; wait $p; echo status $?",
        "child got USR1\nstatus 9\n",
    );
}

#[test]
fn trap_and_exit_trap_in_a_child_killed_with_term() {
    check(
        "sh -c 'trap \"echo cleanup\" EXIT TERM; kill $$; echo continued'; echo $?",
        "cleanup\ncontinued\ncleanup\n0\n",
    );
}

#[test]
fn ignored_signal_is_inherited_by_children() {
    check(
        "trap '' INT; sh -c 'kill -INT $$; echo survived'; trap - INT; \
         sh -c 'kill -INT $$; echo not printed'; echo $?",
        "survived\n130\n",
    );
}

// ---------------------------------------------------------------------------------------
// Redirections and here-documents

#[test]
fn redirect_output_and_append() {
    check(
        "echo one > f; echo two >> f; cat f; echo three > f; cat f; : > f; wc -c < f",
        "one\ntwo\nthree\n0\n",
    );
}

#[test]
fn redirect_input() {
    check(
        "printf 'x\\ny\\n' > f; wc -l < f; read a < f; echo $a; while read l; do echo \"<$l>\"; done < f",
        "2\nx\n<x>\n<y>\n",
    );
}

#[test]
fn redirect_stderr() {
    check(
        "ls nonexistent 2>&1 | sed 's/^/got: /'; ls nonexistent 2>/dev/null; echo $?; \
         { echo out; echo err >&2; } 2>&1 >/dev/null | tr a-z A-Z",
        "got: ls: nonexistent: No such file or directory\n1\nERR\n",
    );
}

#[test]
fn redirect_closed_descriptors() {
    check_with(
        "echo hi >&-; echo $?; { echo closed >&3; } 3>&- 2>/dev/null; echo $?; \
         cat <&- 2>/dev/null; echo $?",
        "1\n1\n1\n",
        Mode::Inline,
    );
}

#[test]
fn redirect_read_write() {
    check(
        "echo hello > f; exec 3<>f; read w <&3; echo \"read $w\"; echo appended >&3; \
         exec 3>&-; cat f; 4<>new echo; ls new",
        "read hello\nhello\nappended\n\nnew\n",
    );
}

#[test]
fn here_documents_with_and_without_expansion() {
    check(
        "x=world\ncat <<EOF\nhello $x\n$(echo sub) `echo bt` $((1+2))\nEOF\n\
         cat <<'EOF'\nliteral $x $(no)\nEOF\ncat <<-EOF\n\tindented $x\n\tEOF\n",
        "hello world\nsub bt 3\nliteral $x $(no)\nindented world\n",
    );
}

#[test]
fn large_here_document() {
    // Larger than a pipe buffer: ash writes it from a child process.
    let mut script = String::from("cat <<EOF | wc -c\n");
    for i in 0..2000 {
        script += &format!("line {i:05} of a large here-document, more than 64 KiB\n");
    }
    script += "EOF\ncat <<EOF | tail -n 1\n";
    for i in 0..2000 {
        script += &format!("line {i:05} of a large here-document, more than 64 KiB\n");
    }
    script += "EOF\n";
    check_with(
        &script,
        "108000\nline 01999 of a large here-document, more than 64 KiB\n",
        Mode::File(&[]),
    );
}

#[test]
fn read_from_a_here_document() {
    check(
        "while read a b; do echo \"[$a|$b]\"; done <<EOF\none two three\nfour\nEOF\n\
         read x y <<EOF\n1 2\nEOF\necho $x$y\nIFS=: read p q <<EOF\nleft:right\nEOF\necho $q $p",
        "[one|two three]\n[four|]\n12\nright left\n",
    );
}

// ---------------------------------------------------------------------------------------
// exec

#[test]
fn exec_redirections_of_the_shell() {
    check(
        "exec 3>&1; exec > out; echo hidden; ls sub; exec 1>&3 3>&-; echo back; cat out; \
         exec 4<text.txt; read l <&4; echo $l; exec 4<&-",
        "back\nhidden\na.txt\nc.log\ndeeper\nfoo bar\n",
    );
}

#[test]
fn exec_replaces_the_shell() {
    let (guest, _) = check(
        "echo before; exec /bin/busybox sh -c 'echo replaced; exit 6'; echo never",
        "before\nreplaced\n",
    );
    assert_eq!(status(&guest), Some(6));
}

#[test]
fn exec_of_an_applet() {
    check("echo x; exec echo y; echo never", "x\ny\n");
}

// ---------------------------------------------------------------------------------------
// Many processes

#[test]
fn five_hundred_short_lived_processes() {
    check(
        "i=0; while [ $i -lt 500 ]; do /bin/busybox true; i=$((i+1)); done; echo $i",
        "500\n",
    );
}

#[test]
fn xargs_runs_commands() {
    check(
        "seq 1 10 | xargs echo; seq 1 7 | xargs -n 3 echo; printf 'a b\\nc\\n' | xargs -n1 echo item; \
         echo | xargs -r echo none; seq 1 5 | xargs sh -c 'echo $# args' sh; \
         seq 1 3 | xargs -I{} sh -c 'exit {}'; echo $?",
        "1 2 3 4 5 6 7 8 9 10\n1 2 3\n4 5 6\n7\nitem a\nitem b\nitem c\n5 args\n123\n",
    );
}

#[test]
fn find_exec() {
    check(
        "find . -name '*.txt' -exec cat {} \\; | sort; find sub -type f -exec wc -c {} + | sort; \
         find sub -name '*.log' -exec sh -c 'echo found $1' sh {} \\;",
        concat!(
            "apple\napple\nbanana\nbaz foo\nfig\nfile a\nfile b\nfoo bar\n",
            "jumps over the lazy dog\npear\nqux\nsecond line\nthe quick brown fox\n",
            "        6 sub/c.log\n",
            "        7 sub/a.txt\n",
            "       19 sub/deeper/b.txt\n",
            "       32 total\n",
            "found sub/c.log\n",
        ),
    );
}

// ---------------------------------------------------------------------------------------
// set -e and $?

#[test]
fn set_e_in_pipelines_conditionals_and_subshells() {
    let (guest, _) = check(
        "set -e; false | true; echo pipeline; if false; then :; fi; echo if; false || echo or; \
         ! true; echo bang; f() { false; echo f-continues; }; f || echo f-failed; \
         x=$(false; echo sub); echo \"x=$x\"; (set -e; false; echo no); echo unreachable",
        "pipeline\nif\nor\nbang\nf-continues\nx=sub\n",
    );
    assert_eq!(status(&guest), Some(1));
}

#[test]
fn set_e_exits_with_the_failing_status() {
    let (guest, _) = check("set -e; echo a; sh -c 'exit 4'; echo b", "a\n");
    assert_eq!(status(&guest), Some(4));
}

// ---------------------------------------------------------------------------------------
// Shell language

#[test]
fn loops_with_break_and_continue() {
    check(
        "for i in 1 2 3 4 5; do [ $i = 2 ] && continue; [ $i = 4 ] && break; echo for $i; done; \
         n=0; while :; do n=$((n+1)); [ $n -ge 3 ] && break; done; echo while $n; \
         until [ $n -eq 0 ]; do n=$((n-1)); done; echo until $n",
        "for 1\nfor 3\nwhile 3\nuntil 0\n",
    );
}

#[test]
fn while_read_from_a_pipe() {
    check(
        "seq 1 3 | while read n; do echo \"n=$n\"; done; printf 'a:b\\nc:d\\n' | \
         while IFS=: read x y; do echo \"$y$x\"; done; c=0; seq 3 | while read n; do c=$n; done; \
         echo $c; cat lines.txt | sort | uniq -c | while read n w; do echo \"$w=$n\"; done",
        "n=1\nn=2\nn=3\nba\ndc\n0\napple=2\nbanana=1\nfig=1\npear=1\n",
    );
}

#[test]
fn case_patterns() {
    check(
        "for w in apple Banana x42 x.txt ''; do case \"$w\" in a*) echo \"$w: a-word\";; \
         [A-Z]*) echo \"$w: capital\";; *[0-9]) echo \"$w: digit\";; *.txt|*.md) echo \"$w: doc\";; \
         '') echo empty;; esac; done",
        "apple: a-word\nBanana: capital\nx42: digit\nx.txt: doc\nempty\n",
    );
}

#[test]
fn arithmetic() {
    check(
        "echo $((3+4*2)) $((7/2)) $((7%3)) $((-7/2)) $((1<<10)) $((0x1f)) $((2**10)); \
         i=5; : $((i+=3)); echo $i $((i>5 ? 1 : 0)) $((i&3)) $((i|1)) $((!i))",
        "11 3 1 -3 1024 31 1024\n8 1 0 9 0\n",
    );
}

#[test]
fn test_and_brackets() {
    check(
        "[ 1 -lt 2 ] && echo lt; [ abc = abc ]; echo $?; [ -n '' ]; echo $?; [ -z '' ] && echo z; \
         test -d sub && echo dir; [ -f text.txt -a -r text.txt ] && echo file; \
         [ ! -e nope ] && echo noexist; [ 10 -ge 9 -o 1 -eq 2 ] && echo or; \
         [ text.txt -nt nope ]; echo $?; [ 1 -eq ]; echo $?",
        "lt\n0\n1\nz\ndir\nfile\nnoexist\nor\n1\n2\n",
    );
}

#[test]
fn string_operations() {
    check(
        "s=hello.world.txt; echo ${#s} ${s%.txt} ${s%%.*} ${s#*.} ${s##*.} ${s:0:5} ${s:6}; \
         echo ${s/o/0} ${s//o/0} ${u:-def} ${u:=set} $u ${s:+alt} \"${e-unset}\"",
        "15 hello.world hello world.txt txt hello world.txt\nhell0.world.txt hell0.w0rld.txt def set set alt unset\n",
    );
}

#[test]
fn eval_set_and_shift() {
    check(
        "set -- a 'b c' d; echo $#; eval 'echo \"$2\"'; shift; echo \"$@\"; shift 2; echo $#; \
         v=x; eval \"$v=42\"; echo $x",
        "3\nb c\nb c d\n0\n42\n",
    );
}

#[test]
fn script_file_with_arguments_and_sourcing() {
    check_with(
        "echo \"$0 $# $1|$2\"\necho 'greet() { echo \"hi $1\"; }' > lib.sh\n. ./lib.sh\n\
         greet there\nfor a in \"$@\"; do echo \"arg <$a>\"; done\nexit 2\n",
        "./script.sh 2 a|b c\nhi there\narg <a>\narg <b c>\n",
        Mode::File(&["a", "b c"]),
    );
}

// ---------------------------------------------------------------------------------------
// Process environment: limits, umask, directories, descriptors

#[test]
fn ulimit_n_is_set_and_inherited() {
    check(
        "ulimit -n 64; ulimit -n; sh -c 'ulimit -n'; ulimit -S -n 32; ulimit -n; ulimit -H -n",
        "64\n64\n32\n64\n",
    );
}

#[test]
fn umask_applies_to_new_files() {
    check(
        "umask 027; umask; touch f; mkdir d; stat -c '%a %n' f d; umask 0; umask; touch g; \
         stat -c '%a %n' g; sh -c umask",
        "0027\n640 f\n750 d\n0000\n666 g\n0000\n",
    );
}

#[test]
fn cd_and_pwd_including_proc() {
    check_with(
        "basename \"$(pwd)\"; cd sub; basename \"$PWD\"; cd deeper; basename \"$(pwd -P)\"; cd ../..; \
         cd /proc; pwd; cd self; pwd; [ -r status ] && echo status-readable; \
         [ -d fd ] && echo fd-dir; \
         ls status fd >/dev/null && echo a-child-sees-the-same-directory; cd /; pwd; cd /nonexistent; echo $?; cd -",
        "data\nsub\ndeeper\n/proc\n/proc/self\nstatus-readable\nfd-dir\na-child-sees-the-same-directory\n/\n2\n/proc/self\n",
        Mode::Inline,
    );
}

#[test]
fn proc_self_fd_shows_open_descriptors() {
    check(
        "a=$(ls /proc/self/fd | wc -l); b=$(ls /proc/self/fd 7</dev/null 8>/dev/null | wc -l); \
         echo $((b - a)); ls /proc/self/fd 7</dev/null | grep -x 7; readlink /proc/self/fd/7 7</dev/null; \
         ls /proc/self/fd | grep -x 7; echo $?",
        "2\n7\n/dev/null\n1\n",
    );
}

#[test]
fn proc_shows_other_processes() {
    check(
        // (comm is left out: after busybox re-executes itself through /proc/self/exe,
        // hosts differ on whether it reads "sleep" or "busybox".)
        // (The loop waits until the child has exec'd, i.e. its cmdline is no longer the
        // shell's, which mentions sleep too, before reading it; stderr
        // is dropped because ash's "Terminated" message for the killed job is racy.)
        "exec 2>/dev/null; sleep 5 & p=$!; n=0; \
         while [ $n -lt 100 ] && [ \"$(tr '\\0' ' ' </proc/$p/cmdline)\" != 'sleep 5 ' ]; do sleep 0.05; n=$((n+1)); done; \
         [ -d /proc/$p ] && echo in-proc; \
         tr '\\0' ' ' </proc/$p/cmdline; echo; ls /proc | grep -qx $$ && echo shell-listed; \
         kill $p; wait $p; echo $?; [ -d /proc/$p ] || echo gone",
        "in-proc\nsleep 5 \nshell-listed\n143\ngone\n",
    );
}

// ---------------------------------------------------------------------------------------
// Servers and clients over loopback sockets

/// Retries `$1` (a command) every 0.1 s, at most 100 times, until it succeeds: for a
/// client started before its server listens.
const RETRY: &str = "retry() { n=0; until \"$@\"; do n=$((n+1)); [ $n -ge 100 ] && return 1; \
                     sleep 0.1; done; }; ";

#[test]
fn httpd_forks_a_process_per_connection_for_concurrent_wgets() {
    check(
        &format!(
            "{RETRY}mkdir www; echo 'hello over loopback' > www/index.html; \
             /bin/busybox httpd -f -p 127.0.0.1:18080 -h www & server=$!; \
             retry wget -q -O /dev/null http://127.0.0.1:18080/ 2>/dev/null; \
             pids=; for n in 1 2 3 4 5 6 7 8; do wget -q -O page.$n http://127.0.0.1:18080/index.html & pids=\"$pids $!\"; done; \
             wait $pids; cat page.*; \
             wget -q -O - http://127.0.0.1:18080/missing.html; echo \"wget of a missing page: $?\"; \
             kill $server; wait $server 2>/dev/null; echo \"httpd: $?\""
        ),
        &format!(
            "{}wget of a missing page: 1\nhttpd: 143\n",
            "hello over loopback\n".repeat(8)
        ),
    );
}

#[test]
fn nc_carries_a_file_between_two_processes() {
    check(
        &format!(
            "{RETRY}nc -l -p 18081 > received & server=$!; \
             retry nc 127.0.0.1 18081 < lines.txt 2>/dev/null; wait $server; echo \"server: $?\"; \
             cmp lines.txt received && echo same"
        ),
        "server: 0\nsame\n",
    );
}
