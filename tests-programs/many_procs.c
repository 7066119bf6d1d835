/* 200 children alive at once, each blocked reading a pipe until the parent closes it, then
 * all reaped with their own exit codes. */
#include "check.h"
#include <sys/wait.h>

#define N 200

int main(void) {
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    pid_t pids[N];
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        CHECK(pids[i] >= 0, "fork number %d", i);
        if (pids[i] == 0) {
            close(p[1]);
            char c;
            ssize_t n = read(p[0], &c, 1);
            _exit(n == 0 ? i % 100 : 200);
        }
    }
    OK("%d children forked", N);
    /* All of them must still be alive: none may have seen EOF yet. */
    for (int i = 0; i < N; i++) {
        int status;
        CHECK(waitpid(pids[i], &status, WNOHANG) == 0, "child %d ended early (status %#x)", i, status);
    }
    OK("all %d alive at once", N);
    close(p[1]);
    int seen = 0;
    for (int i = 0; i < N; i++) {
        int status;
        pid_t w = waitpid(-1, &status, 0);
        CHECK(w > 0, "waitpid after %d", seen);
        int k = -1;
        for (int j = 0; j < N; j++)
            if (pids[j] == w) k = j;
        CHECK(k >= 0, "waitpid returned an unknown pid %d", w);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == k % 100, "child %d status %#x", k, status);
        pids[k] = -1;
        seen++;
    }
    OK("all %d reaped with their exit codes", seen);
    EXPECT_ERRNO(waitpid(-1, NULL, 0), ECHILD);
    printf("many_procs ok\n");
    return 0;
}
