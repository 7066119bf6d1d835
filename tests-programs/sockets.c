/* Sockets: AF_UNIX pairs, paths and abstract names, TCP over loopback (IPv4 and IPv6),
 * servers that fork a process per connection, blocking, non-blocking, poll, timeouts,
 * shutdown, peeking, scatter/gather, and the errors of misuse. */
#include "check.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#define CLIENTS 6
#define BULK 100000

static void write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        CHECK(n > 0, "write of %zu bytes", len);
        p += n;
        len -= (size_t)n;
    }
}

static size_t read_all(int fd, void *buf, size_t len) {
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        CHECK(n >= 0, "read");
        if (n == 0) break;
        got += (size_t)n;
    }
    return got;
}

static void wait_all_ok(int count) {
    for (int i = 0; i < count; i++) {
        int status;
        pid_t pid = wait(&status);
        CHECK(pid > 0, "wait");
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d ended with %#x", pid,
              status);
    }
}

static long ms_since(struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void pairs(void) {
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    struct stat st;
    CHECK(fstat(sv[0], &st) == 0 && S_ISSOCK(st.st_mode), "fstat mode %o", st.st_mode);
    write_all(sv[0], "ping", 4);
    write_all(sv[1], "pong!", 5);
    char buf[16] = {0};
    int avail = -1;
    CHECK(ioctl(sv[1], FIONREAD, &avail) == 0 && avail == 4, "FIONREAD %d", avail);
    CHECK(recv(sv[1], buf, sizeof buf, MSG_PEEK) == 4 && memcmp(buf, "ping", 4) == 0, "peek");
    memset(buf, 0, sizeof buf);
    CHECK(read(sv[1], buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0, "read after peek");
    CHECK(read(sv[0], buf, sizeof buf) == 5 && memcmp(buf, "pong!", 5) == 0, "other way");
    EXPECT_ERRNO(recv(sv[0], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    OK("socketpair: both ways, FIONREAD, MSG_PEEK, MSG_DONTWAIT");

    CHECK(shutdown(sv[0], SHUT_WR) == 0, "shutdown");
    CHECK(read(sv[1], buf, sizeof buf) == 0, "EOF after the peer's SHUT_WR");
    EXPECT_ERRNO(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
    write_all(sv[1], "still", 5); /* the other direction stays open */
    CHECK(read(sv[0], buf, sizeof buf) == 5, "half-open read");
    close(sv[1]);
    CHECK(read(sv[0], buf, sizeof buf) == 0, "EOF after close");
    struct pollfd pfd = {.fd = sv[0], .events = POLLIN | POLLOUT};
    CHECK(poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP), "POLLHUP, revents %#x",
          pfd.revents);
    close(sv[0]);
    OK("socketpair: shutdown(SHUT_WR) is EOF for the peer, close is POLLHUP");

    /* SIGPIPE without MSG_NOSIGNAL. */
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
    CHECK(fcntl(sv[0], F_GETFD) == FD_CLOEXEC, "SOCK_CLOEXEC");
    close(sv[1]);
    signal(SIGPIPE, SIG_IGN);
    EXPECT_ERRNO(write(sv[0], "x", 1), EPIPE);
    signal(SIGPIPE, SIG_DFL);
    pid_t pid = fork();
    if (pid == 0) {
        write(sv[0], "x", 1);
        _exit(0);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE,
          "status %#x", status);
    close(sv[0]);
    OK("socketpair: a write to a closed peer is EPIPE, or death by SIGPIPE");

    EXPECT_ERRNO(socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP);
}

/* A server process that forks a handler per connection: each handler reads what its
 * client sends until EOF and sends it back upper-cased, then exits. Returns its pid. */
static pid_t forking_server(int listener, int connections) {
    pid_t server = fork();
    CHECK(server >= 0, "fork");
    if (server > 0) return server;
    for (int i = 0; i < connections; i++) {
        int conn = accept(listener, NULL, NULL);
        CHECK(conn >= 0, "accept");
        pid_t handler = fork();
        CHECK(handler >= 0, "fork");
        if (handler == 0) {
            close(listener);
            static char data[BULK];
            size_t n = read_all(conn, data, sizeof data);
            for (size_t j = 0; j < n; j++)
                if (data[j] >= 'a' && data[j] <= 'z') data[j] -= 32;
            write_all(conn, data, n);
            _exit(0);
        }
        close(conn);
    }
    wait_all_ok(connections);
    _exit(0);
}

/* A client: connects with `connect_to`, sends `len` bytes, shuts its side, checks the
 * upper-cased echo. */
static void echo_client(int fd, size_t len, int id) {
    static char out[BULK], back[BULK];
    for (size_t j = 0; j < len; j++) out[j] = (char)('a' + (j + (size_t)id) % 26);
    write_all(fd, out, len);
    CHECK(shutdown(fd, SHUT_WR) == 0, "shutdown");
    CHECK(read_all(fd, back, len) == len, "echo length");
    for (size_t j = 0; j < len; j++) CHECK(back[j] == out[j] - 32, "byte %zu", j);
    char extra;
    CHECK(read(fd, &extra, 1) == 0, "EOF after the echo");
    close(fd);
}

static void unix_paths(void) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/isounik-sock-%d", getpid());
    unlink(path);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strcpy(addr.sun_path, path);
    pid_t me = getpid();
    socklen_t len = offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;

    int probe = socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_ERRNO(connect(probe, (struct sockaddr *)&addr, len), ENOENT);

    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(listener >= 0, "socket");
    CHECK(bind(listener, (struct sockaddr *)&addr, len) == 0, "bind %s", path);
    struct stat st;
    CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode), "the path is a socket");
    EXPECT_ERRNO(connect(probe, (struct sockaddr *)&addr, len), ECONNREFUSED);
    int other = socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_ERRNO(bind(other, (struct sockaddr *)&addr, len), EADDRINUSE);
    close(other);
    CHECK(listen(listener, 8) == 0, "listen");

    struct sockaddr_un got;
    socklen_t got_len = sizeof got;
    CHECK(getsockname(listener, (struct sockaddr *)&got, &got_len) == 0 && got_len == len &&
              strcmp(got.sun_path, path) == 0,
          "getsockname %u", got_len);
    OK("AF_UNIX path: bind makes a socket file, a second bind is EADDRINUSE");

    forking_server(listener, CLIENTS);
    for (int i = 0; i < CLIENTS; i++) {
        if (fork() == 0) {
            int fd = socket(AF_UNIX, SOCK_STREAM, 0);
            CHECK(connect(fd, (struct sockaddr *)&addr, len) == 0, "connect");
            struct ucred cred;
            socklen_t cred_len = sizeof cred;
            CHECK(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) == 0 &&
                      cred.pid == me,
                  "SO_PEERCRED pid %d, the listener's %d", cred.pid, me);
            echo_client(fd, BULK, i);
            _exit(0);
        }
    }
    wait_all_ok(CLIENTS + 1);
    close(listener);
    OK("AF_UNIX path: a server forking a process per connection served %d clients, %d bytes "
       "each way",
       CLIENTS, BULK);

    /* A regular file is not a socket. */
    close(probe);
    probe = socket(AF_UNIX, SOCK_STREAM, 0);
    unlink(path);
    int f = open(path, O_CREAT | O_WRONLY, 0600);
    close(f);
    EXPECT_ERRNO(connect(probe, (struct sockaddr *)&addr, len), ECONNREFUSED);
    unlink(path);
    close(probe);
}

static void unix_abstract(void) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int n = snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "isounik-%d", getpid());
    socklen_t len = offsetof(struct sockaddr_un, sun_path) + 1 + n;
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(bind(listener, (struct sockaddr *)&addr, len) == 0, "bind abstract");
    CHECK(listen(listener, 1) == 0, "listen");
    int client = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(connect(client, (struct sockaddr *)&addr, len) == 0, "connect abstract");
    int server = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
    CHECK(server >= 0, "accept4");
    CHECK(fcntl(server, F_GETFL) & O_NONBLOCK, "SOCK_NONBLOCK on accept4");
    char buf[8];
    EXPECT_ERRNO(read(server, buf, sizeof buf), EAGAIN);
    close(client);
    close(server);
    close(listener);

    /* Autobind: five hex digits in the abstract namespace. */
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un bare = {.sun_family = AF_UNIX};
    CHECK(bind(s, (struct sockaddr *)&bare, sizeof(sa_family_t)) == 0, "autobind");
    struct sockaddr_un got;
    socklen_t got_len = sizeof got;
    CHECK(getsockname(s, (struct sockaddr *)&got, &got_len) == 0, "getsockname");
    CHECK(got_len == offsetof(struct sockaddr_un, sun_path) + 6 && got.sun_path[0] == 0,
          "autobind name of length %u", got_len);
    close(s);
    OK("AF_UNIX abstract names: bind, connect, accept4(SOCK_NONBLOCK), autobind");
}

static void tcp(int family) {
    const char *name = family == AF_INET ? "IPv4" : "IPv6";
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_loopback;
        len = sizeof *in6;
    }
    int listener = socket(family, SOCK_STREAM, IPPROTO_TCP);
    CHECK(listener >= 0, "socket");
    int one = 1;
    CHECK(setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0, "reuseaddr");
    if (bind(listener, (struct sockaddr *)&ss, len) != 0 && errno == EADDRNOTAVAIL &&
        family == AF_INET6) {
        OK("IPv6: no ::1 on this machine, skipped");
        close(listener);
        return;
    }
    socklen_t got_len = sizeof ss;
    CHECK(getsockname(listener, (struct sockaddr *)&ss, &got_len) == 0 && got_len == len,
          "getsockname");
    in_port_t port = family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                       : ((struct sockaddr_in6 *)&ss)->sin6_port;
    CHECK(port != 0, "an ephemeral port");
    int opt = 0;
    socklen_t opt_len = sizeof opt;
    CHECK(getsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &opt, &opt_len) == 0 && opt == 1,
          "SO_REUSEADDR reads back");

    /* Before listen, nobody answers; a second socket cannot take the port. */
    int probe = socket(family, SOCK_STREAM, 0);
    EXPECT_ERRNO(connect(probe, (struct sockaddr *)&ss, len), ECONNREFUSED);
    close(probe);
    int rival = socket(family, SOCK_STREAM, 0);
    EXPECT_ERRNO(bind(rival, (struct sockaddr *)&ss, len), EADDRINUSE);
    close(rival);
    CHECK(listen(listener, CLIENTS) == 0, "listen");
    opt_len = sizeof opt;
    CHECK(getsockopt(listener, SOL_SOCKET, SO_ACCEPTCONN, &opt, &opt_len) == 0 && opt == 1,
          "SO_ACCEPTCONN");

    /* One connection by hand: addresses on both sides agree. */
    int client = socket(family, SOCK_STREAM, 0);
    CHECK(connect(client, (struct sockaddr *)&ss, len) == 0, "connect");
    struct sockaddr_storage client_addr, peer_addr;
    socklen_t client_len = sizeof client_addr, peer_len = sizeof peer_addr;
    CHECK(getsockname(client, (struct sockaddr *)&client_addr, &client_len) == 0, "name");
    int server = accept(listener, (struct sockaddr *)&peer_addr, &peer_len);
    CHECK(server >= 0, "accept");
    CHECK(peer_len == client_len && memcmp(&peer_addr, &client_addr, client_len) == 0,
          "accept's peer address is the client's own");
    struct sockaddr_storage server_peer;
    socklen_t server_peer_len = sizeof server_peer;
    CHECK(getpeername(client, (struct sockaddr *)&server_peer, &server_peer_len) == 0 &&
              memcmp(&server_peer, &ss, len) == 0,
          "getpeername is the listener's address");
    CHECK(setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0, "nodelay");

    /* Scatter/gather. */
    struct iovec out[3] = {{"abc", 3}, {"", 0}, {"defgh", 5}};
    struct msghdr msg = {.msg_iov = out, .msg_iovlen = 3};
    CHECK(sendmsg(client, &msg, 0) == 8, "sendmsg");
    char a[2], b[6];
    struct iovec in[2] = {{a, sizeof a}, {b, sizeof b}};
    struct msghdr rmsg = {.msg_iov = in, .msg_iovlen = 2};
    CHECK(recvmsg(server, &rmsg, MSG_WAITALL) == 8 && memcmp(a, "ab", 2) == 0 &&
              memcmp(b, "cdefgh", 6) == 0,
          "recvmsg");

    /* A receive timeout. */
    struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
    CHECK(setsockopt(server, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0, "SO_RCVTIMEO");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    EXPECT_ERRNO(recv(server, b, sizeof b, 0), EAGAIN);
    CHECK(ms_since(&t0) >= 90, "waited %ld ms", ms_since(&t0));

    /* poll: a listener is readable when a connection waits. */
    struct pollfd pfd = {.fd = listener, .events = POLLIN};
    CHECK(poll(&pfd, 1, 0) == 0, "nothing waiting");
    int second = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int r = connect(second, (struct sockaddr *)&ss, len);
    CHECK(r == 0 || errno == EINPROGRESS, "non-blocking connect");
    CHECK(poll(&pfd, 1, 1000) == 1 && pfd.revents == POLLIN, "listener readable");
    struct pollfd wfd = {.fd = second, .events = POLLOUT};
    CHECK(poll(&wfd, 1, 1000) == 1 && (wfd.revents & POLLOUT), "connected: writable");
    int err = -1;
    opt_len = sizeof err;
    CHECK(getsockopt(second, SOL_SOCKET, SO_ERROR, &err, &opt_len) == 0 && err == 0, "SO_ERROR");
    close(accept(listener, NULL, NULL));
    close(second);
    close(client);
    close(server);
    OK("TCP %s: ports, addresses, sendmsg/recvmsg, SO_RCVTIMEO, poll on a listener", name);

    pid_t server_pid = forking_server(listener, CLIENTS);
    for (int i = 0; i < CLIENTS; i++) {
        if (fork() == 0) {
            int fd = socket(family, SOCK_STREAM, 0);
            CHECK(connect(fd, (struct sockaddr *)&ss, len) == 0, "connect");
            echo_client(fd, BULK, i);
            _exit(0);
        }
    }
    wait_all_ok(CLIENTS + 1);
    (void)server_pid;
    close(listener);
    OK("TCP %s: a server forking a process per connection served %d clients, %d bytes each way",
       name, CLIENTS, BULK);
}

static void dual_stack(void) {
    int listener = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_addr = in6addr_any};
    if (bind(listener, (struct sockaddr *)&any, sizeof any) != 0 || listen(listener, 1) != 0) {
        OK("dual stack: no IPv6 here, skipped");
        close(listener);
        return;
    }
    socklen_t len = sizeof any;
    CHECK(getsockname(listener, (struct sockaddr *)&any, &len) == 0, "getsockname");
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = any.sin6_port};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int client = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(connect(client, (struct sockaddr *)&to, sizeof to) == 0, "IPv4 to an IPv6 listener");
    struct sockaddr_in6 peer;
    socklen_t peer_len = sizeof peer;
    int server = accept(listener, (struct sockaddr *)&peer, &peer_len);
    CHECK(server >= 0 && peer_len == sizeof peer && IN6_IS_ADDR_V4MAPPED(&peer.sin6_addr),
          "the peer is ::ffff:127.0.0.1");
    close(server);
    close(client);
    close(listener);
    OK("dual stack: an IPv6 listener on :: takes IPv4 clients as ::ffff:127.0.0.1");
}

/* sendmsg with "data" and SCM_RIGHTS for `fds`. */
static ssize_t send_fds(int sock, const char *data, const int *fds, int n) {
    char control[CMSG_SPACE(8 * sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec iov = {(void *)data, strlen(data)};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (n > 0) {
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(n * sizeof(int));
        memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
    }
    return sendmsg(sock, &msg, 0);
}

/* recvmsg into `buf` with room for `room` descriptors; the descriptors received go to
 * `fds` (their count to *n), the message flags to *flags. */
static ssize_t recv_fds(int sock, char *buf, size_t len, int room, int *fds, int *n, int *flags,
                        int recv_flags) {
    char control[CMSG_SPACE(8 * sizeof(int))];
    struct iovec iov = {buf, len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                         .msg_controllen = CMSG_SPACE(room * sizeof(int))};
    ssize_t r = recvmsg(sock, &msg, recv_flags);
    *n = 0;
    *flags = msg.msg_flags;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); r >= 0 && cm; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
            int count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            memcpy(fds + *n, CMSG_DATA(cm), count * sizeof(int));
            *n += count;
        }
    }
    return r;
}

static void fd_passing(void) {
    int sv[2], p[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && pipe(p) == 0, "setup");
    char path[64];
    snprintf(path, sizeof path, "/tmp/isounik-fdpass-%d", getpid());
    int f = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    CHECK(f >= 0 && write(f, "file contents", 13) == 13, "file");
    unlink(path);
    int pass[2] = {p[1], f};
    CHECK(send_fds(sv[0], "ab", pass, 2) == 2, "sendmsg with two descriptors");
    CHECK(send_fds(sv[0], "cd", &p[1], 1) == 2, "a second message with one");
    close(p[1]);
    close(f);
    char buf[16];
    int got[8], n, flags;
    CHECK(recv_fds(sv[1], buf, sizeof buf, 8, got, &n, &flags, MSG_CMSG_CLOEXEC) == 2 &&
              memcmp(buf, "ab", 2) == 0 && n == 2 && !(flags & MSG_CTRUNC),
          "the first message alone, with its two descriptors (n %d, flags %#x)", n, flags);
    CHECK(fcntl(got[0], F_GETFD) == FD_CLOEXEC, "MSG_CMSG_CLOEXEC");
    CHECK(write(got[0], "via a passed pipe", 17) == 17, "write through the passed pipe end");
    char back[32];
    CHECK(read(p[0], back, sizeof back) == 17 && memcmp(back, "via a passed pipe", 17) == 0,
          "the pipe got it");
    CHECK(pread(got[1], back, 13, 0) == 13 && memcmp(back, "file contents", 13) == 0,
          "the passed file reads the unlinked file");
    close(got[0]);
    close(got[1]);
    /* Room for none: the descriptor is dropped and MSG_CTRUNC says so. */
    CHECK(recv_fds(sv[1], buf, sizeof buf, 0, got, &n, &flags, 0) == 2 && n == 0 &&
              (flags & MSG_CTRUNC),
          "MSG_CTRUNC (n %d, flags %#x)", n, flags);
    /* Every write end is closed now (the dropped one too): EOF. */
    CHECK(read(p[0], back, sizeof back) == 0, "the truncated descriptor was closed");
    close(p[0]);
    OK("SCM_RIGHTS: descriptors pass with their message, MSG_CMSG_CLOEXEC, MSG_CTRUNC");

    /* To another process, and a plain read drops what it passes over. */
    pid_t child = fork();
    if (child == 0) {
        int fds[8], k, fl;
        char b[8];
        CHECK(recv_fds(sv[1], b, sizeof b, 8, fds, &k, &fl, 0) == 1 && k == 1, "child recvmsg");
        CHECK(write(fds[0], "child", 5) == 5, "child writes");
        _exit(0);
    }
    int q[2];
    CHECK(pipe(q) == 0, "pipe");
    CHECK(send_fds(sv[0], "x", &q[1], 1) == 1, "send to the child");
    int status;
    CHECK(waitpid(child, &status, 0) == child && status == 0, "child status %#x", status);
    CHECK(read(q[0], back, 5) == 5 && memcmp(back, "child", 5) == 0, "the child used it");
    CHECK(send_fds(sv[0], "y", &q[1], 1) == 1, "send again");
    close(q[1]);
    CHECK(read(sv[1], buf, 1) == 1, "read() instead of recvmsg");
    CHECK(read(q[0], back, 5) == 0, "read() dropped the descriptor");
    close(q[0]);
    OK("SCM_RIGHTS to a forked child; read() drops what it passes over");

    /* SO_PASSCRED. */
    int one = 1;
    CHECK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one) == 0, "SO_PASSCRED");
    CHECK(write(sv[0], "z", 1) == 1, "write");
    char control[CMSG_SPACE(sizeof(struct ucred))];
    struct iovec iov = {buf, 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                         .msg_controllen = sizeof control};
    CHECK(recvmsg(sv[1], &msg, 0) == 1, "recvmsg");
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    CHECK(cm && cm->cmsg_type == SCM_CREDENTIALS, "credentials");
    struct ucred cred;
    memcpy(&cred, CMSG_DATA(cm), sizeof cred);
    CHECK(cred.pid == getpid(), "pid %d", cred.pid);

    EXPECT_ERRNO(send_fds(sv[0], "e", (int[]){999}, 1), EBADF);
    close(sv[0]);
    close(sv[1]);
    OK("SO_PASSCRED gives the peer's credentials; a bad descriptor is EBADF");
}

static void datagrams(void) {
    /* A pair: boundaries, truncation, peeking, another process. */
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0, "socketpair(SOCK_DGRAM)");
    int type = 0;
    socklen_t tlen = sizeof type;
    CHECK(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 && type == SOCK_DGRAM, "SO_TYPE");
    CHECK(send(sv[0], "one", 3, 0) == 3 && send(sv[0], "two!", 4, 0) == 4, "send");
    char buf[64];
    CHECK(recv(sv[1], buf, sizeof buf, MSG_PEEK) == 3, "peek the first");
    CHECK(recv(sv[1], buf, sizeof buf, 0) == 3 && memcmp(buf, "one", 3) == 0, "first whole");
    CHECK(recv(sv[1], buf, sizeof buf, 0) == 4 && memcmp(buf, "two!", 4) == 0, "second whole");
    CHECK(send(sv[0], "abcdef", 6, 0) == 6, "send");
    struct iovec iov = {buf, 3};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    CHECK(recvmsg(sv[1], &msg, 0) == 3 && (msg.msg_flags & MSG_TRUNC), "cut short: MSG_TRUNC");
    CHECK(send(sv[0], "abcdef", 6, 0) == 6, "send");
    CHECK(recv(sv[1], buf, 2, MSG_TRUNC) == 6, "MSG_TRUNC gives the whole length");
    EXPECT_ERRNO(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    EXPECT_ERRNO(listen(sv[0], 1), EOPNOTSUPP);
    pid_t child = fork();
    if (child == 0) {
        char b[16];
        ssize_t n = recv(sv[1], b, sizeof b, 0);
        _exit(n == 5 && send(sv[1], "back", 4, 0) == 4 ? 0 : 1);
    }
    CHECK(send(sv[0], "hello", 5, 0) == 5, "to the child");
    CHECK(recv(sv[0], buf, sizeof buf, 0) == 4 && memcmp(buf, "back", 4) == 0, "from the child");
    int status;
    CHECK(waitpid(child, &status, 0) == child && status == 0, "child");
    /* Files in a datagram. */
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    CHECK(send_fds(sv[0], "f", &p[1], 1) == 1, "send a descriptor");
    close(p[1]);
    int got[8], n, flags;
    CHECK(recv_fds(sv[1], buf, sizeof buf, 8, got, &n, &flags, 0) == 1 && n == 1, "got it");
    CHECK(write(got[0], "!", 1) == 1 && read(p[0], buf, 1) == 1, "it works");
    close(got[0]);
    close(p[0]);
    close(sv[0]);
    close(sv[1]);
    OK("AF_UNIX datagram pairs: boundaries, MSG_TRUNC, MSG_PEEK, another process, SCM_RIGHTS");

    /* A bound server, unnamed and named clients, replies to the sender's address. */
    char path[64];
    snprintf(path, sizeof path, "/tmp/isounik-dgram-%d", getpid());
    unlink(path);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strcpy(addr.sun_path, path);
    socklen_t len = offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
    int server = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(bind(server, (struct sockaddr *)&addr, len) == 0, "bind");
    int anon = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(sendto(anon, "hi", 2, 0, (struct sockaddr *)&addr, len) == 2, "sendto a path");
    struct sockaddr_un from;
    socklen_t from_len = sizeof from;
    CHECK(recvfrom(server, buf, sizeof buf, 0, (struct sockaddr *)&from, &from_len) == 2 &&
              from_len == 0,
          "an unnamed sender has no address (%u)", from_len);
    int named = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(bind(named, (struct sockaddr *)&(struct sockaddr_un){.sun_family = AF_UNIX},
               sizeof(sa_family_t)) == 0,
          "autobind");
    CHECK(connect(named, (struct sockaddr *)&addr, len) == 0, "connect a datagram socket");
    struct sockaddr_un peer;
    socklen_t peer_len = sizeof peer;
    CHECK(getpeername(named, (struct sockaddr *)&peer, &peer_len) == 0 && peer_len == len,
          "getpeername");
    CHECK(send(named, "ping", 4, 0) == 4, "send to the connected address");
    from_len = sizeof from;
    CHECK(recvfrom(server, buf, sizeof buf, 0, (struct sockaddr *)&from, &from_len) == 4 &&
              from_len == offsetof(struct sockaddr_un, sun_path) + 6,
          "the sender's abstract name (%u)", from_len);
    CHECK(sendto(server, "pong", 4, 0, (struct sockaddr *)&from, from_len) == 4, "reply");
    CHECK(recv(named, buf, sizeof buf, 0) == 4 && memcmp(buf, "pong", 4) == 0, "the reply");
    int stream = socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_ERRNO(connect(stream, (struct sockaddr *)&addr, len), EPROTOTYPE);
    close(stream);
    close(server);
    EXPECT_ERRNO(send(named, "x", 1, 0), ECONNREFUSED);
    EXPECT_ERRNO(send(anon, "x", 1, 0), ENOTCONN);
    close(named);
    close(anon);
    unlink(path);
    OK("AF_UNIX datagrams: sendto a path, sender addresses, connect, replies, ECONNREFUSED");

    /* UDP on loopback. */
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in at = {.sin_family = AF_INET};
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(u, (struct sockaddr *)&at, sizeof at) == 0, "bind udp");
    socklen_t at_len = sizeof at;
    CHECK(getsockname(u, (struct sockaddr *)&at, &at_len) == 0 && at.sin_port != 0, "port");
    int client = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    CHECK(sendto(client, "udp!", 4, 0, (struct sockaddr *)&at, sizeof at) == 4, "sendto");
    struct sockaddr_in cl, src;
    socklen_t cl_len = sizeof cl, src_len = sizeof src;
    CHECK(getsockname(client, (struct sockaddr *)&cl, &cl_len) == 0 && cl.sin_port != 0,
          "the sender got a port");
    struct pollfd pfd = {.fd = u, .events = POLLIN};
    CHECK(poll(&pfd, 1, 1000) == 1, "readable");
    CHECK(recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *)&src, &src_len) == 4 &&
              src.sin_port == cl.sin_port && src.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
          "the sender's address");
    CHECK(sendto(u, "back", 4, 0, (struct sockaddr *)&src, src_len) == 4, "reply");
    CHECK(recv(client, buf, sizeof buf, 0) == 4, "the reply");
    CHECK(connect(client, (struct sockaddr *)&at, sizeof at) == 0, "connect udp");
    CHECK(send(client, "a", 1, 0) == 1 && send(client, "bc", 2, 0) == 2, "send");
    CHECK(recv(u, buf, sizeof buf, 0) == 1 && recv(u, buf, sizeof buf, 0) == 2, "boundaries");
    static char big[70000];
    EXPECT_ERRNO(send(client, big, sizeof big, 0), EMSGSIZE);
    close(u);
    close(client);
    OK("UDP over loopback: ports, sender addresses, replies, connect, boundaries, EMSGSIZE");
}

static void misuse(void) {
    int pipefd[2];
    CHECK(pipe(pipefd) == 0, "pipe");
    EXPECT_ERRNO(listen(pipefd[0], 1), ENOTSOCK);
    EXPECT_ERRNO(accept(pipefd[0], NULL, NULL), ENOTSOCK);
    close(pipefd[0]);
    close(pipefd[1]);
    EXPECT_ERRNO(socket(12345, SOCK_STREAM, 0), EAFNOSUPPORT);
    EXPECT_ERRNO(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
    EXPECT_ERRNO(socket(AF_INET, 0x7ff, 0), EINVAL);

    int s = socket(AF_INET, SOCK_STREAM, 0);
    char buf[4];
    EXPECT_ERRNO(recv(s, buf, sizeof buf, 0), ENOTCONN);
    EXPECT_ERRNO(send(s, "x", 1, MSG_NOSIGNAL), EPIPE);
    EXPECT_ERRNO(accept(s, NULL, NULL), EINVAL);
    EXPECT_ERRNO(getpeername(s, (struct sockaddr *)buf, &(socklen_t){4}), ENOTCONN);
    EXPECT_ERRNO(shutdown(s, SHUT_RDWR), ENOTCONN);
    EXPECT_ERRNO(bind(s, (struct sockaddr *)8, sizeof(struct sockaddr_in)), EFAULT);
    EXPECT_ERRNO(connect(s, (struct sockaddr *)8, sizeof(struct sockaddr_in)), EFAULT);
    struct sockaddr_in short_addr = {.sin_family = AF_INET};
    EXPECT_ERRNO(bind(s, (struct sockaddr *)&short_addr, 4), EINVAL);
    EXPECT_ERRNO(setsockopt(s, SOL_SOCKET, 9999, buf, 4), ENOPROTOOPT);
    close(s);

    int u = socket(AF_UNIX, SOCK_STREAM, 0);
    EXPECT_ERRNO(recv(u, buf, sizeof buf, 0), EINVAL);
    EXPECT_ERRNO(send(u, "x", 1, MSG_NOSIGNAL), ENOTCONN);
    EXPECT_ERRNO(setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &(int){1}, 4), EOPNOTSUPP);
    CHECK(shutdown(u, SHUT_RDWR) == 0, "AF_UNIX shutdown unconnected");
    close(u);
    OK("misuse: ENOTSOCK, EAFNOSUPPORT, ENOTCONN, EPIPE, EINVAL, EFAULT, ENOPROTOOPT");

    /* accept with a bad length pointer: EFAULT, and the listener goes on. */
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(bind(l, (struct sockaddr *)&(struct sockaddr_un){.sun_family = AF_UNIX},
               sizeof(sa_family_t)) == 0,
          "autobind");
    CHECK(listen(l, 1) == 0, "listen");
    struct sockaddr_un name;
    socklen_t name_len = sizeof name;
    CHECK(getsockname(l, (struct sockaddr *)&name, &name_len) == 0, "name");
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(connect(c, (struct sockaddr *)&name, name_len) == 0, "connect");
    EXPECT_ERRNO(accept(l, (struct sockaddr *)buf, (socklen_t *)8), EFAULT);
    int c2 = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(connect(c2, (struct sockaddr *)&name, name_len) == 0, "connect again");
    int a = accept(l, NULL, NULL);
    CHECK(a >= 0, "accept after the EFAULT");
    close(a);
    close(c);
    close(c2);
    close(l);
    OK("accept with a bad length pointer: EFAULT, the listener goes on");
}

static void on_alarm(int sig) { (void)sig; }

static void interrupted_accept(void) {
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(bind(l, (struct sockaddr *)&(struct sockaddr_un){.sun_family = AF_UNIX},
               sizeof(sa_family_t)) == 0 && listen(l, 1) == 0,
          "listen");
    struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
    sigaction(SIGALRM, &sa, NULL);
    alarm(1);
    EXPECT_ERRNO(accept(l, NULL, NULL), EINTR);
    close(l);
    OK("a blocked accept is interrupted by a signal");
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    pairs();
    unix_paths();
    unix_abstract();
    tcp(AF_INET);
    tcp(AF_INET6);
    dual_stack();
    fd_passing();
    datagrams();
    misuse();
    interrupted_accept();
    printf("sockets ok\n");
    return 0;
}
