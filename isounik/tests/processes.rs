//! Multi-process programs in Iso-UniK: fork and copy-on-write, vfork, many children,
//! zombies and orphans, signals (SIGCHLD, SIGPIPE, handler register state, EINTR and
//! SA_RESTART, alternate stacks, siglongjmp), threads and futexes, memory given back after
//! many forks, and a crashing child. Each program (`tests-programs/NAME.c`, see its
//! comment) prints an `ok: ...` line per check and exits 0 when all pass; the first failing
//! check prints `FAIL ...` and exits 1.
//!
//! Every program first runs natively with the same arguments: if it fails there, the test
//! program is wrong, and the test says so instead of blaming the kernel. In the guest, the
//! program runs as PID 1 (`orphan` relies on that, and makes itself a child subreaper when
//! it is not PID 1, so that it also passes natively).

mod common;

use std::ffi::OsString;
use std::path::Path;

use common::programs::{c_program, Libc};
use common::{guest, native, Ran};

fn args(program: &Path, rest: &[&str]) -> Vec<OsString> {
    std::iter::once(program.as_os_str().to_owned())
        .chain(rest.iter().map(OsString::from))
        .collect()
}

/// Runs `tests-programs/NAME.c` (built against `libc`) natively, then in the guest; both
/// must exit 0, every line of `expected` must be in the guest's stdout, and the guest's
/// stdout must end with `NAME ok`.
fn passes(name: &str, libc: Libc, rest: &[&str], expected: &[&str]) -> Ran {
    let program = c_program(name, libc);
    let host = native(&program, rest);
    assert_eq!(
        host.code(),
        Some(0),
        "BROKEN TEST PROGRAM: {name} ({libc:?}) fails on the host itself; fix it in \
         tests-programs/\n{}",
        host.describe()
    );
    let ran = guest(&args(&program, rest));
    assert_eq!(
        ran.code(),
        Some(0),
        "{name} ({libc:?}) failed in Iso-UniK; its stdout says which check (the line starting \
         with FAIL)\n{}",
        ran.describe()
    );
    let stdout = ran.stdout();
    for line in expected {
        assert!(
            stdout.lines().any(|l| l == *line),
            "{name} ({libc:?}): stdout lacks the line {line:?}\n{}",
            ran.describe()
        );
    }
    assert!(
        stdout.ends_with(&format!("{name} ok\n")),
        "{name} ({libc:?}): stdout does not end with `{name} ok`\n{}",
        ran.describe()
    );
    ran
}

const COW: &[&str] = &[
    "ok: child's writes are invisible to the parent (stack, heap, data, bss, anonymous, file)",
    "ok: parent's writes are invisible to the child (stack, heap, data, bss, anonymous, file)",
    "ok: the file is unchanged",
];

#[test]
fn cow_fork_musl() {
    passes("cow_fork", Libc::Musl, &[], COW);
}

#[test]
fn cow_fork_glibc() {
    passes("cow_fork", Libc::Glibc, &[], COW);
}

#[test]
fn vfork_then_exec_and_exit() {
    passes(
        "vfork_exec",
        Libc::Musl,
        &[],
        &[
            "child: exec'd with argument hello, ppid set",
            "ok: vfork + execve(/proc/self/exe) ran the child, status 5",
            "ok: vfork + _exit(7) gives status 7",
            "ok: vfork child shares the parent's memory",
        ],
    );
}

#[test]
fn two_hundred_children_alive_at_once() {
    passes(
        "many_procs",
        Libc::Musl,
        &[],
        &[
            "ok: 200 children forked",
            "ok: all 200 alive at once",
            "ok: all 200 reaped with their exit codes",
        ],
    );
}

#[test]
fn zombie_until_reaped() {
    passes(
        "zombie_reap",
        Libc::Musl,
        &[],
        &[
            "ok: kill(pid, 0) succeeds for the zombie",
            "ok: waitpid reaps it with status 3",
            "ok: kill(pid, 0) fails with ESRCH",
            "ok: /proc/PID/stat says Z",
            "ok: /proc/PID is gone after waitpid",
        ],
    );
}

#[test]
fn orphan_is_reparented_to_pid_1() {
    let ran = passes(
        "orphan",
        Libc::Musl,
        &[],
        &[
            "ok: A exited",
            "ok: the orphan B was reaped by its new parent",
        ],
    );
    assert!(
        ran.stdout().contains("ok: B saw its parent become PID 1\n"),
        "the program is not PID 1 in the guest\n{}",
        ran.describe()
    );
}

const SIGCHLD: &[&str] = &[
    "ok: SA_SIGINFO SIGCHLD handler: si_pid, si_code CLD_EXITED, si_status 42",
    "ok: killed child: CLD_KILLED, si_status SIGKILL",
    "ok: with SIGCHLD ignored the child is reaped automatically",
];

#[test]
fn sigchld_handler_and_auto_reap_musl() {
    passes("sigchld", Libc::Musl, &[], SIGCHLD);
}

#[test]
fn sigchld_handler_and_auto_reap_glibc() {
    passes("sigchld", Libc::Glibc, &[], SIGCHLD);
}

#[test]
fn sigpipe_kills_or_gives_epipe() {
    passes(
        "sigpipe",
        Libc::Musl,
        &[],
        &[
            "ok: default SIGPIPE kills the writer",
            "ok: write(p[1], \"x\", 1) fails with EPIPE",
            "ok: a writer blocked on a full pipe dies of SIGPIPE when the reader closes",
        ],
    );
}

#[test]
fn pipes_keep_order_capacity_and_data() {
    passes(
        "pipe_ring",
        Libc::Musl,
        &[],
        &[
            "ok: order kept through growth, partial reads and wrap-around",
            "ok: a full pipe holds 65536 bytes, then EAGAIN",
            "ok: a bad buffer is EFAULT and loses nothing",
            "ok: 4 MiB in changing chunk sizes arrive byte for byte",
        ],
    );
}

#[test]
fn blocking_pipe_calls_under_signals_stops_and_kills() {
    passes(
        "pipe_signals",
        Libc::Musl,
        &[],
        &[
            "ok: 2000 blocking round trips between two processes",
            "ok: 20 blocked reads interrupted: EINTR without SA_RESTART",
            "ok: 20 blocked reads interrupted with SA_RESTART: the read went on to the data",
            "ok: readers and writers killed while blocked: 20 SIGKILLs, a SIGTERM, the pipe intact",
            "ok: a reader stopped and continued while blocked gets the rest",
            "ok: 50 readv calls return the bytes that came without waiting for more",
            "ok: 1 MiB in 100000-byte writes that block partway arrives byte for byte",
            "ok: poll and select on pipes: woken by a write, timed out, POLLHUP",
        ],
    );
}

const SIG_REGS: &[&str] = &[
    "ok: 20 synchronous signals (kill with syscall): rbx rdx rbp r8-r10 r12-r15 xmm0-15 kept",
    "ok: 20 asynchronous SIGALRMs: all general registers but rcx/rsp and xmm0-15 kept",
];

#[test]
fn signal_handlers_preserve_registers_musl() {
    passes("sig_regs", Libc::Musl, &[], SIG_REGS);
}

#[test]
fn signal_handlers_preserve_registers_glibc() {
    passes("sig_regs", Libc::Glibc, &[], SIG_REGS);
}

#[test]
fn eintr_without_and_restart_with_sa_restart() {
    passes(
        "eintr_restart",
        Libc::Musl,
        &[],
        &[
            "ok: without SA_RESTART: read fails with EINTR after the handler",
            "ok: with SA_RESTART: the handler ran and read continued to the child's data",
        ],
    );
}

#[test]
fn alternate_signal_stack() {
    passes(
        "altstack",
        Libc::Musl,
        &[],
        &[
            "ok: SA_ONSTACK handler runs on the alternate stack",
            "ok: without SA_ONSTACK the handler runs on the normal stack",
            "ok: SIGSEGV of the stack overflow handled on the alternate stack",
            "ok: sigaltstack reports SS_ONSTACK inside the handler",
        ],
    );
}

#[test]
fn siglongjmp_out_of_a_sigsegv_handler() {
    passes(
        "longjmp_handler",
        Libc::Musl,
        &[],
        &[
            "ok: round 1: back in main from the SIGSEGV handler, SIGSEGV unblocked",
            "ok: round 2: back in main from the SIGSEGV handler, SIGSEGV unblocked",
            "ok: a failed rt_sigreturn raised SIGSEGV and the handler caught it",
        ],
    );
}

const PTHREADS: &[&str] = &[
    "ok: all 8 threads reported ready through the condition variable",
    "ok: all threads joined with their return values",
    "ok: counter is 160000",
];

#[test]
fn pthreads_mutex_condvar_join_musl() {
    passes("pthreads", Libc::Musl, &[], PTHREADS);
}

#[test]
fn pthreads_mutex_condvar_join_glibc() {
    passes("pthreads", Libc::Glibc, &[], PTHREADS);
}

#[test]
fn futex_wait_times_out_and_wake_wakes() {
    passes(
        "futex_timeout",
        Libc::Musl,
        &[],
        &[
            "ok: FUTEX_WAIT timed out after at least 100 ms",
            "ok: FUTEX_WAKE woke the waiting thread",
        ],
    );
}

#[test]
fn ten_thousand_forks_give_memory_back() {
    let ran = passes(
        "fork_memory",
        Libc::Musl,
        &[],
        &["ok: 10000 fork/exit/wait iterations; MemFree within 1% of MemTotal of where it started"],
    );
    // Both numbers, for the record (cargo test --nocapture).
    if let Some(line) = ran.stdout().lines().find(|l| l.starts_with("MemTotal")) {
        eprintln!("fork_memory in the guest: {line}");
    }
}

#[test]
fn crashing_child_leaves_parent_and_sibling_alone() {
    passes(
        "crash_child",
        Libc::Musl,
        &[],
        &[
            "ok: the parent sees the child killed by SIGSEGV",
            "ok: the sibling completed its work and exited 0",
        ],
    );
}

#[test]
fn shared_anonymous_memory_is_shared_across_fork() {
    passes(
        "shared_anon",
        Libc::Musl,
        &[],
        &["ok: MAP_SHARED anonymous memory is shared across fork; MAP_PRIVATE is not"],
    );
}

const SOCKETS: &[&str] = &[
    "ok: socketpair: shutdown(SHUT_WR) is EOF for the peer, close is POLLHUP",
    "ok: socketpair: a write to a closed peer is EPIPE, or death by SIGPIPE",
    "ok: AF_UNIX path: a server forking a process per connection served 6 clients, 100000 bytes each way",
    "ok: AF_UNIX abstract names: bind, connect, accept4(SOCK_NONBLOCK), autobind",
    "ok: TCP IPv4: ports, addresses, sendmsg/recvmsg, SO_RCVTIMEO, poll on a listener",
    "ok: TCP IPv4: a server forking a process per connection served 6 clients, 100000 bytes each way",
    "ok: TCP IPv6: a server forking a process per connection served 6 clients, 100000 bytes each way",
    "ok: dual stack: an IPv6 listener on :: takes IPv4 clients as ::ffff:127.0.0.1",
    "ok: SCM_RIGHTS: descriptors pass with their message, MSG_CMSG_CLOEXEC, MSG_CTRUNC",
    "ok: SCM_RIGHTS to a forked child; read() drops what it passes over",
    "ok: SO_PASSCRED gives the peer's credentials; a bad descriptor is EBADF",
    "ok: AF_UNIX datagram pairs: boundaries, MSG_TRUNC, MSG_PEEK, another process, SCM_RIGHTS",
    "ok: AF_UNIX datagrams: sendto a path, sender addresses, connect, replies, ECONNREFUSED",
    "ok: UDP over loopback: ports, sender addresses, replies, connect, boundaries, EMSGSIZE",
    "ok: misuse: ENOTSOCK, EAFNOSUPPORT, ENOTCONN, EPIPE, EINVAL, EFAULT, ENOPROTOOPT",
    "ok: accept with a bad length pointer: EFAULT, the listener goes on",
    "ok: a blocked accept is interrupted by a signal",
];

#[test]
fn sockets_unix_and_loopback_tcp_musl() {
    passes("sockets", Libc::Musl, &[], SOCKETS);
}

#[test]
fn sockets_unix_and_loopback_tcp_glibc() {
    passes("sockets", Libc::Glibc, &[], SOCKETS);
}

const EPOLL: &[&str] = &[
    "ok: eventfd: counts, semaphore mode, EAGAIN at 0 and at the top, EINVAL",
    "ok: level-triggered: reported while readable, not after the read",
    "ok: edge-triggered: one report per change",
    "ok: one-shot: one report until EPOLL_CTL_MOD",
    "ok: epoll_ctl and epoll_wait errors: EEXIST, ENOENT, EINVAL, EPERM",
    "ok: closing the only descriptor of a file ends its interest",
    "ok: EPOLLERR, EPOLLRDHUP, EPOLLHUP, and a listener's connections",
    "ok: woken by an eventfd written in another process; nesting and ELOOP; turns",
    "ok: a timeout of 100 ms",
    "ok: timerfd: one-shot and periodic timers wake epoll, poll and read; absolute times",
    "ok: epoll_wait is interrupted even with SA_RESTART; epoll_pwait swaps the mask",
];

#[test]
fn epoll_and_eventfd_musl() {
    passes("epoll", Libc::Musl, &[], EPOLL);
}

#[test]
fn epoll_and_eventfd_glibc() {
    passes("epoll", Libc::Glibc, &[], EPOLL);
}

/// busybox syslogd listens on the AF_UNIX datagram socket /dev/log; logger (glibc's
/// syslog(3) in Debian's busybox) sends to it. Guest only: on the host, /dev/log is the
/// host's own logger.
#[test]
fn syslogd_collects_what_logger_sends_over_a_datagram_socket() {
    let script = "syslogd -n -O /tmp/messages & s=$!; \
                  n=0; until [ -S /dev/log ] || [ $n -ge 100 ]; do sleep 0.1; n=$((n+1)); done; \
                  logger -t demo 'hello syslog'; logger -p user.err -t demo 'second line'; \
                  n=0; until grep -q second /tmp/messages 2>/dev/null || [ $n -ge 100 ]; do sleep 0.1; n=$((n+1)); done; \
                  kill $s; cut -d' ' -f4- /tmp/messages";
    let args: Vec<OsString> = ["/bin/busybox", "sh", "-c", script]
        .iter()
        .map(OsString::from)
        .collect();
    let ran = guest(&args);
    assert_eq!(ran.code(), Some(0), "{}", ran.describe());
    for line in [
        "isounik user.notice demo: hello syslog",
        "isounik user.err demo: second line",
    ] {
        assert!(
            ran.stdout().lines().any(|l| l == line),
            "syslogd's file lacks {line:?}\n{}",
            ran.describe()
        );
    }
}
