/* Attack: a fork bomb. `hostile_fork_bomb [LIMIT]` forks children that pause() until fork
 * fails; fork must fail with EAGAIN (a process limit), not crash or hang the kernel. With
 * LIMIT (the kernel's max_procs), the number of processes in /proc at the peak must be at
 * most LIMIT. Then every child is killed and reaped, and fork works again. Bounded to 20000
 * children and 40 s. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <dirent.h>
#include <sys/wait.h>
#include <time.h>

static int count_processes(void) {
    DIR *d = opendir("/proc");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9') n++;
    closedir(d);
    return n;
}

int main(int argc, char **argv) {
    int limit = argc > 1 ? atoi(argv[1]) : 0;
    enum { MAX = 20000 };
    static pid_t kids[MAX];
    int n = 0, err = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (n < MAX) {
        pid_t pid = fork();
        if (pid == 0) {
            for (;;) pause();
        }
        if (pid < 0) {
            err = errno;
            break;
        }
        kids[n++] = pid;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 40) break;
    }
    int peak = count_processes();
    printf("forked %d children; fork then %s; %d processes in /proc\n", n,
           err ? strerror(err) : "never failed", peak);
    fflush(stdout);
    for (int i = 0; i < n; i++) kill(kids[i], SIGKILL);
    int reaped = 0, status;
    while (reaped < n && wait(&status) > 0) reaped++;
    CHECK(reaped == n, "reaped %d of %d", reaped, n);
    OK("all %d children killed and reaped", n);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork after the bomb");
    if (pid == 0) _exit(5);
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 5, "child");
    OK("fork works again");
    CHECK(err == EAGAIN, "fork did not fail with EAGAIN (forked %d, error %d)", n, err);
    OK("fork failed with EAGAIN after %d children", n);
    if (limit) {
        CHECK(peak > 0 && peak <= limit, "%d processes existed with max_procs=%d", peak, limit);
        CHECK(n >= limit / 2, "only %d children with max_procs=%d", n, limit);
        OK("at most %d processes existed", limit);
    }
    printf("hostile_fork_bomb ok\n");
    return 0;
}
