/* A grandchild outlives its parent and is reparented: the program forks A, A forks B and
 * exits; B polls getppid() until it is the reaper's pid (1 in Iso-UniK, where the
 * program is PID 1; natively the program makes itself a child subreaper so the same
 * holds), then writes to a pipe. The program reaps A and B. */
#include "check.h"
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

int main(void) {
    pid_t self = getpid();
    if (self != 1) CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "PR_SET_CHILD_SUBREAPER");
    int p[2], started[2];
    CHECK(pipe(p) == 0 && pipe(started) == 0, "pipe");
    pid_t a = fork();
    CHECK(a >= 0, "fork A");
    if (a == 0) {
        pid_t a_pid = getpid();
        pid_t b = fork();
        if (b < 0) _exit(2);
        if (b == 0) {
            pid_t first = getppid();
            if (write(started[1], "s", 1) != 1) _exit(4);
            for (int i = 0; i < 2000 && getppid() != self; i++) {
                struct timespec ts = {0, 5 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
            char msg[64];
            int n = snprintf(msg, sizeof msg, "%d %d", first == a_pid, getppid() == self);
            if (write(p[1], msg, n) != n) _exit(3);
            _exit(0);
        }
        char c;
        /* A exits only once B has seen A as its parent. */
        _exit(read(started[0], &c, 1) == 1 ? 0 : 5);
    }
    close(p[1]);
    int status;
    CHECK(waitpid(a, &status, 0) == a, "waitpid A");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "A status %#x", status);
    OK("A exited");
    char buf[64] = "";
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    CHECK(n > 0, "read from B");
    buf[n] = 0;
    CHECK(strcmp(buf, "1 1") == 0, "B says '%s' (first parent was A, then reparented)", buf);
    OK("B saw its parent become %s", self == 1 ? "PID 1" : "the subreaper");
    pid_t w = waitpid(-1, &status, 0);
    CHECK(w > 0 && w != a, "waitpid B returned %d", w);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "B status %#x", status);
    OK("the orphan B was reaped by its new parent");
    EXPECT_ERRNO(waitpid(-1, NULL, 0), ECHILD);
    printf("orphan ok\n");
    return 0;
}
