/* Attack: abuse the socket layer. `hostile_sockets DATA`:
 *  - every socket call with libOS addresses (the kernel image's .data, the libOS heap) as
 *    its buffer, address, length or message: EFAULT, and nothing is sent or changed;
 *  - absurd sizes: a 4 GiB address length, 2^31 iovecs, a huge option length;
 *  - a connection flood against a small backlog: EAGAIN beyond it, nothing else;
 *  - a client blocked on a full backlog when the listener closes: ECONNREFUSED, not a hang;
 *  - sockets until the descriptor limit (EMFILE), then every one closed;
 *  - a writer blocked on a peer that never reads, killed by SIGKILL: reaped;
 *  - descriptors sent without end (SCM_RIGHTS) to a peer that never reads: ETOOMANYREFS
 *    once 1024 are in flight; a socket sent through itself, then closed;
 *  - datagram floods: an AF_UNIX receiver that never reads stops its senders after 512
 *    messages (EAGAIN); a UDP receiver keeps at most its buffer and drops the rest;
 * and the listener, a connection and the names still work afterwards. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <stddef.h>
#include <arpa/inet.h>

static long sc(long n, long a, long b, long c, long d, long e, long f) {
    return syscall(n, a, b, c, d, e, f);
}

#define EF(call)                                                                            \
    do {                                                                                    \
        errno = 0;                                                                          \
        long r_ = (call);                                                                   \
        CHECK(r_ == -1 && errno == EFAULT, "%s with %#lx returned %ld", #call,              \
              (unsigned long)k, r_);                                                        \
        checks++;                                                                           \
    } while (0)

static socklen_t abstract_name(struct sockaddr_un *a, const char *tag) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "hostile-%s-%d", tag, getpid());
    return offsetof(struct sockaddr_un, sun_path) + 1 + n;
}

static int listener_on(struct sockaddr_un *a, socklen_t len, int backlog) {
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(l >= 0 && bind(l, (struct sockaddr *)a, len) == 0 && listen(l, backlog) == 0,
          "listener");
    return l;
}

int main(int argc, char **argv) {
    CHECK(argc == 2, "usage: %s DATA", argv[0]);
    setvbuf(stdout, NULL, _IONBF, 0);
    long addrs[] = {(long)hexarg(argv[1]), (long)0xffffc00000000000UL,
                    (long)0xffffc20000000000UL, (long)0xffffc30000000000UL};
    int checks = 0;

    /* 1. libOS addresses everywhere. */
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    struct sockaddr_un name;
    socklen_t name_len = abstract_name(&name, "efault");
    int l = listener_on(&name, name_len, 4);
    int t = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(t >= 0, "tcp socket");
    for (unsigned i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        long k = addrs[i];
        EF(sc(SYS_sendto, sv[0], k, 64, 0, 0, 0));
        EF(sc(SYS_sendto, sv[0], k, 64, MSG_NOSIGNAL | MSG_DONTWAIT, 0, 0));
        EF(sc(SYS_write, sv[0], k, 64, 0, 0, 0));
        EF(sc(SYS_bind, t, k, sizeof(struct sockaddr_in), 0, 0, 0));
        EF(sc(SYS_connect, t, k, sizeof(struct sockaddr_in), 0, 0, 0));
        EF(sc(SYS_connect, socket(AF_UNIX, SOCK_STREAM, 0), k, sizeof name, 0, 0, 0));
        EF(sc(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, k, 0, 0));
        EF(sc(SYS_getsockname, l, k, (long)&name_len, 0, 0, 0));
        socklen_t room = sizeof name;
        EF(sc(SYS_getsockname, l, (long)&name, k, 0, 0, 0));
        EF(sc(SYS_getsockopt, sv[0], SOL_SOCKET, SO_TYPE, k, (long)&room, 0));
        EF(sc(SYS_setsockopt, sv[0], SOL_SOCKET, SO_RCVTIMEO, k, 16, 0));
        EF(sc(SYS_sendmsg, sv[0], k, 0, 0, 0, 0));
        EF(sc(SYS_recvmsg, sv[0], k, 0, 0, 0, 0));
        struct iovec iov = {(void *)k, 64};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        EF(sc(SYS_sendmsg, sv[0], (long)&msg, 0, 0, 0, 0));
        msg.msg_iov = (struct iovec *)k;
        EF(sc(SYS_sendmsg, sv[0], (long)&msg, 0, 0, 0, 0));
        /* Receiving into libOS memory: the bytes stay queued. */
        CHECK(write(sv[1], "secret", 6) == 6, "write");
        EF(sc(SYS_recvfrom, sv[0], k, 6, 0, 0, 0));
        EF(sc(SYS_read, sv[0], k, 6, 0, 0, 0));
        msg.msg_iov = &iov;
        EF(sc(SYS_recvmsg, sv[0], (long)&msg, 0, 0, 0, 0));
        char back[6];
        CHECK(read(sv[0], back, 6) == 6 && memcmp(back, "secret", 6) == 0,
              "the bytes were lost");
        int queued = -1;
        CHECK(ioctl(sv[1], FIONREAD, &queued) == 0 && queued == 0,
              "a failed send queued %d bytes", queued);
        /* accept's address out into libOS memory: EFAULT. */
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        CHECK(connect(c, (struct sockaddr *)&name, name_len) == 0, "connect");
        socklen_t alen = sizeof name;
        EF(sc(SYS_accept, l, k, (long)&alen, 0, 0, 0));
        EF(sc(SYS_accept4, l, (long)&name, k, 0, 0, 0));
        close(c);
        OK("every socket call with %#lx as a buffer or address fails with EFAULT", (unsigned long)k);
    }
    /* Drain what the EFAULT accepts left: a bad length pointer fails before a connection
     * is taken, so those stay queued (Linux drops them). */
    int flags = fcntl(l, F_GETFL);
    fcntl(l, F_SETFL, flags | O_NONBLOCK);
    int drained;
    while ((drained = accept(l, NULL, NULL)) >= 0) close(drained);
    CHECK(errno == EAGAIN, "drain");
    fcntl(l, F_SETFL, flags);

    /* 2. Absurd sizes. */
    EXPECT_ERRNO(bind(t, (struct sockaddr *)&name, 0xffffffffu), EINVAL);
    EXPECT_ERRNO(connect(t, (struct sockaddr *)&name, 0x10000), EINVAL);
    struct msghdr huge = {.msg_iovlen = 1UL << 31};
    EXPECT_ERRNO(sendmsg(sv[0], &huge, 0), EMSGSIZE);
    static char big[1 << 16];
    EXPECT_ERRNO(setsockopt(sv[0], SOL_SOCKET, 9999, big, sizeof big), ENOPROTOOPT);
    checks += 4;

    /* 3. Flood a backlog of 2: at most three wait, the rest get EAGAIN. */
    struct sockaddr_un flood_name;
    socklen_t flood_len = abstract_name(&flood_name, "flood");
    int fl = listener_on(&flood_name, flood_len, 2);
    int made = 0, refused = 0;
    int clients[16];
    for (int i = 0; i < 16; i++) {
        clients[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (connect(clients[i], (struct sockaddr *)&flood_name, flood_len) == 0)
            made++;
        else {
            CHECK(errno == EAGAIN, "connect beyond the backlog");
            refused++;
        }
    }
    CHECK(made == 3 && refused == 13, "made %d, refused %d", made, refused);
    for (int i = 0; i < 16; i++) close(clients[i]);
    /* (Connections whose clients closed still fill the queue until accepted.) */
    fcntl(fl, F_SETFL, O_NONBLOCK);
    int taken = 0;
    while ((drained = accept(fl, NULL, NULL)) >= 0) {
        close(drained);
        taken++;
    }
    CHECK(errno == EAGAIN && taken == 3, "drained %d", taken);
    fcntl(fl, F_SETFL, 0);
    OK("a flood of 16 connections against a backlog of 2: 3 queued, 13 EAGAIN");

    /* 4. A client blocked on the full queue when the listener closes. */
    int filler = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(connect(filler, (struct sockaddr *)&flood_name, flood_len) == 0, "fill 1");
    int filler2 = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(connect(filler2, (struct sockaddr *)&flood_name, flood_len) == 0, "fill 2");
    int filler3 = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(connect(filler3, (struct sockaddr *)&flood_name, flood_len) == 0, "fill 3");
    pid_t waiter = fork();
    if (waiter == 0) {
        close(fl);
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        errno = 0;
        int r = connect(c, (struct sockaddr *)&flood_name, flood_len);
        printf("blocked connect: %d %s\n", r, strerror(errno));
        _exit(r == -1 && errno == ECONNREFUSED ? 0 : 1);
    }
    usleep(200000);
    close(fl);
    int status;
    CHECK(waitpid(waiter, &status, 0) == waiter && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the blocked connect ended with %#x", status);
    char byte;
    CHECK(read(filler, &byte, 1) == 0, "a queued client sees the end");
    close(filler);
    close(filler2);
    close(filler3);
    OK("a connect blocked on a full queue fails with ECONNREFUSED when the listener closes");

    /* 5. Sockets up to the descriptor limit. */
    struct rlimit lim = {64, 64};
    CHECK(setrlimit(RLIMIT_NOFILE, &lim) == 0, "setrlimit");
    int fds[80], count = 0;
    for (;;) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0) {
            CHECK(errno == EMFILE, "socket until the limit");
            break;
        }
        CHECK(count < 80, "the limit holds");
        fds[count++] = s;
    }
    int pair[2];
    EXPECT_ERRNO(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), EMFILE);
    for (int i = 0; i < count; i++) close(fds[i]);
    OK("%d sockets, then EMFILE; all closed", count);

    /* 6. A writer blocked on a peer that never reads, then SIGKILLed. */
    int stuck[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, stuck) == 0, "socketpair");
    pid_t writer = fork();
    if (writer == 0) {
        static char chunk[65536];
        for (;;) write(stuck[0], chunk, sizeof chunk);
    }
    usleep(200000);
    kill(writer, SIGKILL);
    CHECK(waitpid(writer, &status, 0) == writer && WIFSIGNALED(status) &&
              WTERMSIG(status) == SIGKILL,
          "writer status %#x", status);
    close(stuck[0]);
    close(stuck[1]);
    OK("a writer blocked on a full socket is killed and reaped");

    /* 7. Descriptors in flight are bounded. */
    int fp[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fp) == 0, "socketpair");
    /* (250 per message: musl's sendmsg takes at most 1024 bytes of control data.) */
    int copies[250];
    for (int i = 0; i < 250; i++) copies[i] = fp[0];
    char control[CMSG_SPACE(sizeof copies)];
    int sent = 0;
    for (; sent < 100; sent++) {
        memset(control, 0, sizeof control);
        struct iovec one = {"x", 1};
        struct msghdr m = {.msg_iov = &one, .msg_iovlen = 1, .msg_control = control,
                           .msg_controllen = sizeof control};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof copies);
        memcpy(CMSG_DATA(cm), copies, sizeof copies);
        if (sendmsg(fp[0], &m, MSG_DONTWAIT) < 0) {
            CHECK(errno == ETOOMANYREFS, "sendmsg %d", sent);
            break;
        }
    }
    CHECK(sent == 4, "%d messages of 250 descriptors before ETOOMANYREFS", sent);
    close(fp[0]);
    close(fp[1]);
    OK("descriptors in flight stop at 1024 (ETOOMANYREFS); a socket sent through itself closed");

    /* 8. Datagram floods. */
    int dp[2];
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, dp) == 0, "socketpair dgram");
    int queued = 0;
    while (send(dp[0], "m", 1, 0) == 1) queued++;
    CHECK(errno == EAGAIN && queued == 512, "%d datagrams queued before EAGAIN", queued);
    close(dp[0]);
    close(dp[1]);
    int rx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in at = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t at_len = sizeof at;
    CHECK(bind(rx, (struct sockaddr *)&at, sizeof at) == 0 &&
              getsockname(rx, (struct sockaddr *)&at, &at_len) == 0,
          "udp receiver");
    int tx = socket(AF_INET, SOCK_DGRAM, 0);
    static char payload[1000];
    for (int i = 0; i < 5000; i++)
        CHECK(sendto(tx, payload, sizeof payload, 0, (struct sockaddr *)&at, sizeof at) == 1000,
              "udp send %d", i);
    long got_bytes = 0;
    int got_msgs = 0;
    ssize_t r;
    while ((r = recv(rx, big, sizeof big, 0)) > 0) {
        got_bytes += r;
        got_msgs++;
    }
    CHECK(got_msgs > 0 && got_bytes <= 212992, "%d datagrams, %ld bytes kept", got_msgs, got_bytes);
    close(rx);
    close(tx);
    OK("datagram floods: 512 queued then EAGAIN (AF_UNIX); UDP kept %d of 5000, dropped the rest",
       got_msgs);

    /* Everything still works: a fresh connection on the first listener, ports. */
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(connect(c, (struct sockaddr *)&name, name_len) == 0, "connect after the attacks");
    int a = accept(l, NULL, NULL);
    CHECK(a >= 0 && write(c, "fine", 4) == 4 && read(a, &byte, 1) == 1 && byte == 'f',
          "a connection after the attacks");
    struct sockaddr_in any = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(bind(t, (struct sockaddr *)&any, sizeof any) == 0 && listen(t, 1) == 0,
          "a TCP listener after the attacks");
    OK("%d bad calls failed as they should; sockets still work", checks);
    printf("hostile_sockets ok\n");
    return 0;
}
