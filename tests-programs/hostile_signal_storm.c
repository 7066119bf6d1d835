/* Attack: a signal storm. A and B send each other thousands of signals with handlers
 * installed (B's handler answers each SIGUSR1 with a SIGUSR2 to A) while B blocks in read on
 * a pipe (without SA_RESTART, so read returns EINTR and B loops). A then writes "end"; B
 * reports how many signals it handled and exits 0; A checks both counts. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <sched.h>
#include <sys/wait.h>
#include <time.h>

static volatile sig_atomic_t got;
static pid_t peer;
static void on_usr1(int s) { (void)s; got++; kill(peer, SIGUSR2); }
static void on_usr2(int s) { (void)s; got++; }

int main(void) {
    int p[2], q[2];
    CHECK(pipe(p) == 0 && pipe(q) == 0, "pipe");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    pid_t a = getpid();
    pid_t b = fork();
    CHECK(b >= 0, "fork");
    if (b == 0) {
        peer = a;
        sa.sa_handler = on_usr1;
        sigaction(SIGUSR1, &sa, NULL);
        char buf[8];
        int eintr = 0;
        for (;;) {
            ssize_t n = read(p[0], buf, sizeof buf);
            if (n < 0 && errno == EINTR) { eintr++; continue; }
            if (n == 3 && memcmp(buf, "end", 3) == 0) break;
            _exit(2);
        }
        dprintf(q[1], "%d %d\n", (int)got, eintr);
        _exit(0);
    }
    peer = b;
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
    for (int i = 0; i < 5000; i++) {
        CHECK(kill(b, SIGUSR1) == 0, "kill %d", i);
        if (i % 64 == 0) sched_yield();
    }
    nanosleep(&ts, NULL);
    CHECK(write(p[1], "end", 3) == 3, "write end");
    int status;
    while (waitpid(b, &status, 0) != b) CHECK(errno == EINTR, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "B status %#x", status);
    char msg[64] = "";
    CHECK(read(q[0], msg, sizeof msg - 1) > 0, "B's report");
    int handled = 0, eintr = 0;
    sscanf(msg, "%d %d", &handled, &eintr);
    CHECK(handled > 0 && got > 0, "B handled %d, A handled %d", handled, (int)got);
    OK("5000 SIGUSR1 sent: B handled %s, its read was interrupted %s; A handled SIGUSR2 replies",
       handled > 100 ? "more than 100" : "some", eintr > 0 ? "and restarted by the loop" : "(never)");
    printf("signal counts: B %d (EINTR %d), A %d\n", handled, eintr, (int)got);
    printf("hostile_signal_storm ok\n");
    return 0;
}
