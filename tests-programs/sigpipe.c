/* Writing to a pipe without a reader: the default SIGPIPE kills a child; with SIGPIPE
 * ignored, write fails with EPIPE. */
#include "check.h"
#include <signal.h>
#include <sys/wait.h>

int main(void) {
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    close(p[0]);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        ssize_t n = write(p[1], "x", 1);
        printf("FAIL the child survived its write to a pipe without a reader (%zd)\n", n);
        fflush(stdout);
        _exit(1);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE, "status %#x, expected SIGPIPE", status);
    OK("default SIGPIPE kills the writer");
    signal(SIGPIPE, SIG_IGN);
    EXPECT_ERRNO(write(p[1], "x", 1), EPIPE);
    /* The reader goes away while a writer is blocked on a full pipe. */
    int q[2];
    CHECK(pipe(q) == 0, "pipe");
    pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        close(q[0]);
        signal(SIGPIPE, SIG_DFL);
        char buf[4096];
        memset(buf, 'z', sizeof buf);
        for (;;)
            if (write(q[1], buf, sizeof buf) < 0) _exit(2);
    }
    close(q[1]);
    char buf[100];
    CHECK(read(q[0], buf, sizeof buf) == (ssize_t)sizeof buf, "read");
    close(q[0]);
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE, "status %#x, expected SIGPIPE", status);
    OK("a writer blocked on a full pipe dies of SIGPIPE when the reader closes");
    printf("sigpipe ok\n");
    return 0;
}
