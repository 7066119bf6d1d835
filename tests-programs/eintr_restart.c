/* A blocking read on a pipe interrupted by SIGALRM: without SA_RESTART it fails with EINTR;
 * with SA_RESTART it continues and gets data that a child writes later. */
#include "check.h"
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static volatile sig_atomic_t alarms;
static void on_alarm(int sig) {
    (void)sig;
    alarms++;
}

static void set_handler(int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction");
}

int main(void) {
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    char c;
    set_handler(0);
    alarm(1);
    EXPECT_ERRNO(read(p[0], &c, 1), EINTR);
    CHECK(alarms == 1, "handler ran %d times", (int)alarms);
    OK("without SA_RESTART: read fails with EINTR after the handler");

    set_handler(SA_RESTART);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        struct timespec ts = {1, 500 * 1000 * 1000}; /* after the alarm */
        nanosleep(&ts, NULL);
        _exit(write(p[1], "R", 1) == 1 ? 0 : 1);
    }
    alarm(1);
    ssize_t n = read(p[0], &c, 1);
    CHECK(n == 1 && c == 'R', "read returned %zd", n);
    CHECK(alarms == 2, "handler ran %d times in all", (int)alarms);
    OK("with SA_RESTART: the handler ran and read continued to the child's data");
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "child status %#x", status);
    printf("eintr_restart ok\n");
    return 0;
}
