/* epoll, eventfd and timerfd: level- and edge-triggered and one-shot interests on pipes,
 * sockets, eventfds and timerfds, wake-ups from another process, nesting, interests ending with their files,
 * fairness with a small maxevents, timeouts, signals, and the errors of misuse. */
#include "check.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <poll.h>
#include <sys/wait.h>
#include <time.h>

static int ep_add(int ep, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* One wait: how many events, the first one's events and data in *ev. */
static int wait1(int ep, struct epoll_event *ev, int timeout) {
    return epoll_wait(ep, ev, 1, timeout);
}

static long ms_since(struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void eventfds(void) {
    int e = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    CHECK(e >= 0, "eventfd");
    uint64_t v = 3;
    CHECK(write(e, &v, 8) == 8, "write 3");
    v = 4;
    CHECK(write(e, &v, 8) == 8, "write 4");
    CHECK(read(e, &v, 8) == 8 && v == 7, "read %lu", (unsigned long)v);
    EXPECT_ERRNO(read(e, &v, 8), EAGAIN);
    EXPECT_ERRNO(read(e, &v, 4), EINVAL);
    v = UINT64_MAX;
    EXPECT_ERRNO(write(e, &v, 8), EINVAL);
    v = UINT64_MAX - 1;
    CHECK(write(e, &v, 8) == 8, "the largest count");
    v = 1;
    EXPECT_ERRNO(write(e, &v, 8), EAGAIN);
    close(e);

    int s = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
    CHECK(read(s, &v, 8) == 8 && v == 1 && read(s, &v, 8) == 8 && v == 1, "semaphore");
    EXPECT_ERRNO(read(s, &v, 8), EAGAIN);
    close(s);
    EXPECT_ERRNO(eventfd(0, 0x4), EINVAL);
    OK("eventfd: counts, semaphore mode, EAGAIN at 0 and at the top, EINVAL");
}

static void level_edge_oneshot(void) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0 && fcntl(ep, F_GETFD) == FD_CLOEXEC, "epoll_create1");
    int lt[2], et[2], os[2];
    CHECK(pipe(lt) == 0 && pipe(et) == 0 && pipe(os) == 0, "pipes");
    CHECK(ep_add(ep, lt[0], EPOLLIN, 1) == 0, "add lt");
    CHECK(ep_add(ep, et[0], EPOLLIN | EPOLLET, 2) == 0, "add et");
    CHECK(ep_add(ep, os[0], EPOLLIN | EPOLLONESHOT, 3) == 0, "add oneshot");
    struct epoll_event ev[8];
    CHECK(epoll_wait(ep, ev, 8, 0) == 0, "nothing ready");

    CHECK(write(lt[1], "a", 1) == 1, "write");
    for (int i = 0; i < 3; i++)
        CHECK(epoll_wait(ep, ev, 8, 0) == 1 && ev[0].data.u64 == 1 && ev[0].events == EPOLLIN,
              "level-triggered reports while readable (%d)", i);
    char c;
    CHECK(read(lt[0], &c, 1) == 1, "read");
    CHECK(epoll_wait(ep, ev, 8, 0) == 0, "drained");
    OK("level-triggered: reported while readable, not after the read");

    CHECK(write(et[1], "b", 1) == 1, "write");
    CHECK(epoll_wait(ep, ev, 8, 0) == 1 && ev[0].data.u64 == 2, "edge reported");
    CHECK(epoll_wait(ep, ev, 8, 0) == 0, "edge reported once");
    CHECK(write(et[1], "c", 1) == 1, "write again");
    CHECK(epoll_wait(ep, ev, 8, 0) == 1 && ev[0].data.u64 == 2, "a new edge");
    OK("edge-triggered: one report per change");

    CHECK(write(os[1], "d", 1) == 1, "write");
    CHECK(epoll_wait(ep, ev, 8, 0) == 1 && ev[0].data.u64 == 3, "one-shot reported");
    CHECK(epoll_wait(ep, ev, 8, 0) == 0, "oneshot spent");
    struct epoll_event mod = {.events = EPOLLIN | EPOLLONESHOT, .data.u64 = 33};
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, os[0], &mod) == 0, "rearm");
    CHECK(epoll_wait(ep, ev, 8, 0) == 1 && ev[0].data.u64 == 33, "rearmed");
    OK("one-shot: one report until EPOLL_CTL_MOD");

    /* Errors. */
    EXPECT_ERRNO(ep_add(ep, lt[0], EPOLLIN, 1), EEXIST);
    EXPECT_ERRNO(epoll_ctl(ep, EPOLL_CTL_MOD, lt[1], &mod), ENOENT);
    EXPECT_ERRNO(epoll_ctl(ep, EPOLL_CTL_DEL, lt[1], NULL), ENOENT);
    EXPECT_ERRNO(ep_add(ep, ep, EPOLLIN, 0), EINVAL);
    int file = open("/proc/self/exe", O_RDONLY);
    EXPECT_ERRNO(ep_add(ep, file, EPOLLIN, 0), EPERM);
    EXPECT_ERRNO(epoll_wait(file, ev, 1, 0), EINVAL);
    close(file);
    EXPECT_ERRNO(epoll_wait(ep, ev, 0, 0), EINVAL);
    EXPECT_ERRNO(syscall(SYS_epoll_create, 0), EINVAL);
    EXPECT_ERRNO(epoll_ctl(ep, 99, lt[0], &mod), EINVAL);
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, lt[0], NULL) == 0, "del");
    CHECK(write(lt[1], "e", 1) == 1, "write");
    CHECK(epoll_wait(ep, ev, 8, 0) == 0, "deleted interests report nothing");
    OK("epoll_ctl and epoll_wait errors: EEXIST, ENOENT, EINVAL, EPERM");

    /* An interest ends with its file. */
    close(lt[0]);
    close(lt[1]);
    int gone[2];
    CHECK(pipe(gone) == 0, "pipe");
    CHECK(ep_add(ep, gone[0], EPOLLIN, 7) == 0 && write(gone[1], "x", 1) == 1, "add");
    close(gone[0]);
    CHECK(epoll_wait(ep, ev, 8, 0) == 0, "a closed file reports nothing");
    close(gone[1]);
    OK("closing the only descriptor of a file ends its interest");
    close(et[0]);
    close(et[1]);
    close(os[0]);
    close(os[1]);
    close(ep);
}

static void hangups_and_sockets(void) {
    int ep = epoll_create1(0);
    struct epoll_event ev[4];
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    CHECK(ep_add(ep, p[1], EPOLLOUT, 1) == 0, "add write end");
    CHECK(wait1(ep, ev, 0) == 1 && ev[0].events == EPOLLOUT, "writable");
    close(p[0]);
    CHECK(wait1(ep, ev, 0) == 1 && ev[0].events == (EPOLLOUT | EPOLLERR),
          "EPOLLERR without readers: %#x", ev[0].events);
    close(p[1]);

    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    CHECK(ep_add(ep, sv[0], EPOLLIN | EPOLLRDHUP, 2) == 0, "add socket");
    CHECK(wait1(ep, ev, 0) == 0, "quiet socket");
    CHECK(shutdown(sv[1], SHUT_WR) == 0, "shutdown");
    CHECK(wait1(ep, ev, 0) == 1 && ev[0].events == (EPOLLIN | EPOLLRDHUP),
          "EPOLLRDHUP: %#x", ev[0].events);
    close(sv[1]);
    CHECK(wait1(ep, ev, 0) == 1 && (ev[0].events & EPOLLHUP), "EPOLLHUP: %#x", ev[0].events);
    close(sv[0]);

    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(bind(l, (struct sockaddr *)&(struct sockaddr){.sa_family = AF_UNIX}, 2) == 0 &&
              listen(l, 4) == 0,
          "listener");
    struct sockaddr_storage name;
    socklen_t len = sizeof name;
    CHECK(getsockname(l, (struct sockaddr *)&name, &len) == 0, "name");
    CHECK(ep_add(ep, l, EPOLLIN | EPOLLET, 3) == 0, "add listener");
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(connect(c, (struct sockaddr *)&name, len) == 0, "connect");
    CHECK(wait1(ep, ev, 0) == 1 && ev[0].data.u64 == 3, "a connection to accept");
    int a = accept(l, NULL, NULL);
    CHECK(a >= 0, "accept");
    close(a);
    close(c);
    close(l);
    close(ep);
    OK("EPOLLERR, EPOLLRDHUP, EPOLLHUP, and a listener's connections");
}

static void wakeups(void) {
    int ep = epoll_create1(0);
    int e = eventfd(0, 0);
    CHECK(ep_add(ep, e, EPOLLIN, 42) == 0, "add eventfd");
    pid_t child = fork();
    if (child == 0) {
        usleep(100000);
        uint64_t one = 1;
        _exit(write(e, &one, 8) == 8 ? 0 : 1);
    }
    struct epoll_event ev;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(wait1(ep, &ev, 5000) == 1 && ev.data.u64 == 42, "woken by another process");
    CHECK(ms_since(&t0) >= 50, "it waited (%ld ms)", ms_since(&t0));
    int status;
    CHECK(waitpid(child, &status, 0) == child && status == 0, "child");

    /* Nesting: an epoll instance in another. */
    int outer = epoll_create1(0);
    CHECK(ep_add(outer, ep, EPOLLIN, 77) == 0, "nest");
    EXPECT_ERRNO(ep_add(ep, outer, EPOLLIN, 0), ELOOP);
    CHECK(wait1(outer, &ev, 0) == 1 && ev.data.u64 == 77, "the inner instance is ready");
    uint64_t v;
    CHECK(read(e, &v, 8) == 8, "drain");
    CHECK(wait1(outer, &ev, 0) == 0, "not any more");
    close(outer);

    /* Fairness: two ready interests and maxevents 1 take turns. */
    int a[2], b[2];
    CHECK(pipe(a) == 0 && pipe(b) == 0, "pipes");
    CHECK(ep_add(ep, a[0], EPOLLIN, 0x100) == 0 && ep_add(ep, b[0], EPOLLIN, 0x200) == 0, "add");
    CHECK(write(a[1], "x", 1) == 1 && write(b[1], "y", 1) == 1, "write");
    uint64_t seen = 0;
    for (int i = 0; i < 4; i++) {
        CHECK(wait1(ep, &ev, 0) == 1, "ready");
        seen |= ev.data.u64;
    }
    CHECK(seen == 0x300, "both were served (%#lx)", (unsigned long)seen);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
    OK("woken by an eventfd written in another process; nesting and ELOOP; turns");

    /* Timeouts and signals. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(wait1(ep, &ev, 100) == 0, "timeout");
    CHECK(ms_since(&t0) >= 90, "waited %ld ms", ms_since(&t0));
    close(ep);
    close(e);
    OK("a timeout of 100 ms");
}

static void timerfds(void) {
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    CHECK(t >= 0, "timerfd_create");
    uint64_t n;
    EXPECT_ERRNO(read(t, &n, 8), EAGAIN);
    /* One-shot, 50 ms, waited for with epoll. */
    int ep = epoll_create1(0);
    CHECK(ep_add(ep, t, EPOLLIN, 5) == 0, "add timerfd");
    struct itimerspec its = {.it_value = {0, 50000000}};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(timerfd_settime(t, 0, &its, NULL) == 0, "settime");
    struct itimerspec cur;
    CHECK(timerfd_gettime(t, &cur) == 0 && cur.it_value.tv_sec == 0 &&
              cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 50000000,
          "gettime %ld", cur.it_value.tv_nsec);
    struct epoll_event ev;
    CHECK(wait1(ep, &ev, 10000) == 1 && ev.data.u64 == 5, "the timer woke epoll_wait");
    long waited = ms_since(&t0);
    CHECK(waited >= 45 && waited < 8000, "after %ld ms", waited);
    CHECK(read(t, &n, 8) == 8 && n == 1, "one expiration (%lu)", (unsigned long)n);
    CHECK(timerfd_gettime(t, &cur) == 0 && cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0,
          "disarmed after a one-shot");
    /* Periodic, 10 ms, with poll. */
    its = (struct itimerspec){.it_value = {0, 10000000}, .it_interval = {0, 10000000}};
    CHECK(timerfd_settime(t, 0, &its, NULL) == 0, "periodic");
    usleep(60000);
    struct pollfd pfd = {.fd = t, .events = POLLIN};
    CHECK(poll(&pfd, 1, 0) == 1, "readable");
    CHECK(read(t, &n, 8) == 8 && n >= 3, "several expirations (%lu)", (unsigned long)n);
    CHECK(poll(&pfd, 1, 1000) == 1, "poll woken by the next expiry");
    its = (struct itimerspec){0};
    struct itimerspec old;
    CHECK(timerfd_settime(t, 0, &its, &old) == 0 && old.it_interval.tv_nsec == 10000000,
          "disarm returns the old setting");
    close(t);
    close(ep);
    /* Absolute wall-clock time in the past: expired at once; a blocking read. */
    int r = timerfd_create(CLOCK_REALTIME, 0);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    its = (struct itimerspec){.it_value = {now.tv_sec - 10, 0}};
    CHECK(timerfd_settime(r, TFD_TIMER_ABSTIME, &its, NULL) == 0, "absolute");
    CHECK(read(r, &n, 8) == 8 && n == 1, "expired at once");
    its = (struct itimerspec){.it_value = {0, 30000000}};
    CHECK(timerfd_settime(r, 0, &its, NULL) == 0, "30 ms");
    CHECK(read(r, &n, 8) == 8 && n == 1, "a blocking read waits for it");
    EXPECT_ERRNO(read(r, &n, 4), EINVAL);
    its.it_value.tv_nsec = 1000000000;
    EXPECT_ERRNO(timerfd_settime(r, 0, &its, NULL), EINVAL);
    close(r);
    EXPECT_ERRNO(timerfd_create(12345, 0), EINVAL);
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    its.it_value.tv_nsec = 1;
    EXPECT_ERRNO(timerfd_settime(p[0], 0, &its, NULL), EINVAL);
    close(p[0]);
    close(p[1]);
    OK("timerfd: one-shot and periodic timers wake epoll, poll and read; absolute times");
}

static volatile sig_atomic_t got;
static void on_signal(int sig) { got = sig; }

static void signals(void) {
    int ep = epoll_create1(0);
    struct epoll_event ev;
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
    sigaction(SIGALRM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    alarm(1);
    EXPECT_ERRNO(wait1(ep, &ev, -1), EINTR);
    CHECK(got == SIGALRM, "handler ran");

    /* epoll_pwait: a signal blocked outside the wait is delivered during it. */
    sigset_t block, none;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &block, NULL);
    got = 0;
    raise(SIGUSR1);
    CHECK(got == 0, "blocked");
    EXPECT_ERRNO(epoll_pwait(ep, &ev, 1, -1, &none), EINTR);
    CHECK(got == SIGUSR1, "delivered during epoll_pwait");
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    CHECK(sigismember(&now, SIGUSR1), "the mask is back");
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    close(ep);
    OK("epoll_wait is interrupted even with SA_RESTART; epoll_pwait swaps the mask");
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    eventfds();
    level_edge_oneshot();
    hangups_and_sockets();
    wakeups();
    timerfds();
    signals();
    printf("epoll ok\n");
    return 0;
}
