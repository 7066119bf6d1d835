/* Blocking pipe calls under signals, stops and kills, each repeated so that in gate mode
 * every site runs through the MPK gate (a site's first call traps), where a pipe's read,
 * write, readv and writev run in ring 3 and block and wake through the privilege gate:
 * a ping-pong between two processes, reads interrupted with and without SA_RESTART,
 * readers and writers killed or stopped while blocked, readv not waiting once bytes have
 * come, and 1 MiB through a pipe whose writer blocks in the middle of its writes. */
#include "check.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

static volatile sig_atomic_t usr1_seen;
static void on_usr1(int sig) {
    (void)sig;
    usr1_seen++;
}

static void set_usr1(int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void reap(pid_t pid, int want_signal, const char *what) {
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid %s", what);
    if (want_signal)
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == want_signal, "%s: status %#x", what,
              status);
    else
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: status %#x", what, status);
}

static unsigned char pattern(long i) { return (unsigned char)((i * 13 + i / 509) % 251); }

int main(void) {
    int to_child[2], to_parent[2];
    CHECK(pipe(to_child) == 0 && pipe(to_parent) == 0, "pipe");

    /* 1. Ping-pong: every read blocks until the other side writes. */
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        for (int i = 0; i < 2000; i++) {
            int v;
            if (read(to_child[0], &v, sizeof v) != sizeof v || v != i) _exit(1);
            v = -i;
            if (write(to_parent[1], &v, sizeof v) != sizeof v) _exit(2);
        }
        _exit(0);
    }
    for (int i = 0; i < 2000; i++) {
        int v = i;
        CHECK(write(to_child[1], &v, sizeof v) == sizeof v, "write %d", i);
        CHECK(read(to_parent[0], &v, sizeof v) == sizeof v && v == -i, "answer %d: %d", i, v);
    }
    reap(pid, 0, "ping-pong child");
    OK("2000 blocking round trips between two processes");

    /* 2. A blocked read interrupted by a signal: EINTR without SA_RESTART; with it, the
     * read goes on and gets the bytes written after the handler. */
    for (int restart = 0; restart < 2; restart++) {
        set_usr1(restart ? SA_RESTART : 0);
        for (int i = 0; i < 20; i++) {
            usr1_seen = 0;
            pid_t me = getpid();
            fflush(stdout);
            pid = fork();
            CHECK(pid >= 0, "fork");
            if (pid == 0) {
                sleep_ms(5);
                kill(me, SIGUSR1);
                sleep_ms(5);
                _exit(write(to_parent[1], "R", 1) == 1 ? 0 : 1);
            }
            char c = 0;
            ssize_t n = read(to_parent[0], &c, 1);
            if (restart) {
                CHECK(n == 1 && c == 'R' && usr1_seen == 1, "restarted read: %zd, %d handlers", n,
                      (int)usr1_seen);
            } else {
                CHECK(n == -1 && errno == EINTR && usr1_seen == 1, "read: %zd, %d handlers", n,
                      (int)usr1_seen);
                CHECK(read(to_parent[0], &c, 1) == 1 && c == 'R', "the child's byte");
            }
            reap(pid, 0, "signalling child");
        }
    }
    OK("20 blocked reads interrupted: EINTR without SA_RESTART");
    OK("20 blocked reads interrupted with SA_RESTART: the read went on to the data");

    /* 3. Killed while blocked: a reader (empty pipe) and a writer (full pipe). The pipe
     * stays whole for the survivors. */
    for (int i = 0; i < 20; i++) {
        fflush(stdout);
        pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
            char c;
            for (;;) read(to_child[0], &c, 1);
        }
        sleep_ms(2);
        CHECK(kill(pid, SIGKILL) == 0, "kill");
        reap(pid, SIGKILL, "blocked reader");
    }
    static unsigned char big[70000], back[70000];
    for (long i = 0; i < 70000; i++) big[i] = pattern(i);
    fflush(stdout);
    pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        for (;;) write(to_child[1], big, 4096); /* fills the pipe, then blocks */
    }
    sleep_ms(20);
    CHECK(kill(pid, SIGTERM) == 0, "kill");
    reap(pid, SIGTERM, "blocked writer");
    long drained = 0;
    int flags = fcntl(to_child[0], F_GETFL);
    CHECK(fcntl(to_child[0], F_SETFL, flags | O_NONBLOCK) == 0, "O_NONBLOCK");
    for (;;) {
        ssize_t n = read(to_child[0], back, 4096);
        if (n < 0) {
            CHECK(errno == EAGAIN, "drain: %s", strerror(errno));
            break;
        }
        CHECK(n == 4096 && memcmp(back, big, 4096) == 0, "whole 4096-byte writes");
        drained += n;
    }
    CHECK(fcntl(to_child[0], F_SETFL, flags) == 0, "blocking again");
    CHECK(drained == 65536, "a killed writer left %ld bytes", drained);
    OK("readers and writers killed while blocked: 20 SIGKILLs, a SIGTERM, the pipe intact");

    /* 4. Stopped while blocked, continued, then fed. */
    fflush(stdout);
    pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        char c = 0;
        for (int i = 0; i < 3; i++) read(to_child[0], &c, 1);
        _exit(c == 'z' ? 0 : 1);
    }
    CHECK(write(to_child[1], "x", 1) == 1, "feed");
    sleep_ms(5);
    CHECK(kill(pid, SIGSTOP) == 0, "SIGSTOP");
    int status;
    CHECK(waitpid(pid, &status, WUNTRACED) == pid && WIFSTOPPED(status), "stopped: %#x", status);
    CHECK(kill(pid, SIGCONT) == 0, "SIGCONT");
    CHECK(write(to_child[1], "yz", 2) == 2, "feed");
    reap(pid, 0, "stopped reader");
    OK("a reader stopped and continued while blocked gets the rest");

    /* 5. readv returns what has come instead of waiting to fill every buffer (musl's stdio
     * reads with two); an alarm ends the program if it waits. */
    alarm(5);
    for (int i = 0; i < 50; i++) {
        char a[8], b[64];
        struct iovec iov[2] = {{a, sizeof a}, {b, sizeof b}};
        CHECK(write(to_child[1], "12345678", 8) == 8, "write 8");
        CHECK(readv(to_child[0], iov, 2) == 8 && memcmp(a, "12345678", 8) == 0, "readv");
        struct iovec out[2] = {{"ab", 2}, {"cdef", 4}};
        CHECK(writev(to_child[1], out, 2) == 6, "writev");
        CHECK(readv(to_child[0], iov, 2) == 6 && memcmp(a, "abcdef", 6) == 0, "readv 6");
    }
    alarm(0);
    OK("50 readv calls return the bytes that came without waiting for more");

    /* 6. 1 MiB in 100000-byte writes: each fills the pipe and blocks partway; the reader
     * takes odd-sized pieces. */
    static unsigned char mib[1 << 20];
    for (long i = 0; i < (1 << 20); i++) mib[i] = pattern(i);
    fflush(stdout);
    pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        static unsigned char got[1 << 20];
        long have = 0;
        while (have < (1 << 20)) {
            long want = (1 << 20) - have < 3001 ? (1 << 20) - have : 3001;
            ssize_t n = read(to_child[0], got + have, want);
            if (n <= 0) _exit(1);
            have += n;
        }
        _exit(memcmp(got, mib, sizeof got) == 0 ? 0 : 2);
    }
    for (long done = 0; done < (1 << 20);) {
        long len = (1 << 20) - done < 100000 ? (1 << 20) - done : 100000;
        ssize_t n = write(to_child[1], mib + done, len);
        CHECK(n == len, "write of %ld at %ld: %zd", len, done, n);
        done += n;
    }
    reap(pid, 0, "1 MiB reader");
    OK("1 MiB in 100000-byte writes that block partway arrives byte for byte");
    /* 7. poll and select on pipes: a write wakes a waiting poll at once (not at a tick or
     * the timeout), a timeout expires, a closed writer is POLLHUP. Three rounds each, so
     * that the sites run through the gate. */
    for (int round = 0; round < 3; round++) {
        int pp[2];
        CHECK(pipe(pp) == 0, "pipe");
        struct pollfd pfd = {pp[0], POLLIN, 0};
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK(poll(&pfd, 1, 30) == 0 && pfd.revents == 0, "poll timeout");
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long long waited = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
        CHECK(waited >= 30000000LL, "poll timed out after %lld ns", waited);
        fflush(stdout);
        pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
            sleep_ms(20);
            _exit(write(pp[1], "w", 1) == 1 ? 0 : 1);
        }
        close(pp[1]);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK(poll(&pfd, 1, 5000) == 1 && (pfd.revents & POLLIN), "poll woken: %#x", pfd.revents);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        waited = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
        CHECK(waited < 2000000000LL, "poll woke after %lld ns", waited);
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(pp[0], &rd);
        struct timeval tv = {1, 0};
        CHECK(select(pp[0] + 1, &rd, NULL, NULL, &tv) == 1 && FD_ISSET(pp[0], &rd), "select");
        char c;
        CHECK(read(pp[0], &c, 1) == 1 && c == 'w', "read the byte");
        reap(pid, 0, "poll writer");
        pfd.revents = 0;
        CHECK(poll(&pfd, 1, 1000) == 1 && (pfd.revents & POLLHUP), "POLLHUP: %#x", pfd.revents);
        EXPECT_ERRNO(poll((struct pollfd *)16, 1, 0), EFAULT);
        close(pp[0]);
    }
    OK("poll and select on pipes: woken by a write, timed out, POLLHUP");
    printf("pipe_signals ok\n");
    return 0;
}
