/* Attack: exhaust the network stack's memory (run with `isounik run --net`). Listen on 300
 * ports at once (the kernel gives each up to 16 sockets in its TCP stack, each with
 * buffers on the libOS heap) and open 300 connections out: the stack stops at its bound
 * (fewer listeners, then ENOBUFS for connections out) instead of exhausting the libOS's
 * memory, and recovers once the listeners close. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define PORTS 300

static int connect_out(void) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK(s >= 0, "socket");
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
    to.sin_addr.s_addr = htonl(0x0a000202); /* 10.0.2.2, the host */
    int r = connect(s, (struct sockaddr *)&to, sizeof to);
    int e = errno;
    close(s);
    return r == 0 ? 0 : e;
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    struct rlimit lim = {4096, 4096};
    CHECK(setrlimit(RLIMIT_NOFILE, &lim) == 0, "setrlimit");
    static int listeners[PORTS];
    for (int i = 0; i < PORTS; i++) {
        listeners[i] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons(20000 + i)};
        CHECK(listeners[i] >= 0 &&
                  bind(listeners[i], (struct sockaddr *)&at, sizeof at) == 0 &&
                  listen(listeners[i], 64) == 0,
              "listener %d", i);
    }
    /* The network task sets up its listeners when it next runs: wait until the stack is
     * full (at most 10 s). */
    for (int tries = 0; tries < 100 && connect_out() != ENOBUFS; tries++) usleep(100000);
    int refused = 0, started = 0;
    for (int i = 0; i < 300; i++) {
        int e = connect_out();
        if (e == ENOBUFS)
            refused++;
        else if (e == EINPROGRESS || e == 0)
            started++;
        else
            CHECK(0, "connect out: %s", strerror(e));
    }
    CHECK(refused > 0, "300 connections out while 300 ports listen: none refused");
    OK("300 ports listening and 300 connections out: the stack stopped at its bound "
       "(%d connections out refused with ENOBUFS, %d started)",
       refused, started);
    for (int i = 0; i < PORTS; i++) close(listeners[i]);
    /* The network task drops the listeners of closed ports; connecting out works again. */
    int e = ENOBUFS;
    for (int tries = 0; tries < 100 && e == ENOBUFS; tries++) {
        usleep(100000);
        e = connect_out();
    }
    CHECK(e == EINPROGRESS || e == 0, "after the listeners closed: %s", strerror(e));
    OK("after the listeners closed, connections out start again");
    printf("hostile_network ok\n");
    return 0;
}
