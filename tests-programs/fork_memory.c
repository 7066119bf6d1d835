/* 10,000 fork + exit + wait iterations give back their memory: MemFree in /proc/meminfo
 * after the loop is within 1% of MemTotal of where it was after a warm-up of 100. */
#include "check.h"
#include <sys/wait.h>

static long meminfo(const char *key) {
    FILE *f = fopen("/proc/meminfo", "r");
    CHECK(f != NULL, "open /proc/meminfo");
    char line[256];
    long value = -1;
    size_t len = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, len) == 0 && line[len] == ':') value = atol(line + len + 1);
    fclose(f);
    CHECK(value >= 0, "no %s in /proc/meminfo", key);
    return value;
}

static void forks(int n) {
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        CHECK(pid >= 0, "fork %d", i);
        if (pid == 0) _exit(i & 0x7f);
        int status;
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid %d", i);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == (i & 0x7f), "status %#x", status);
    }
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    forks(100);
    long total = meminfo("MemTotal");
    long before = meminfo("MemFree");
    forks(n);
    long after = meminfo("MemFree");
    printf("MemTotal %ld kB, MemFree before %ld kB, after %ld kB\n", total, before, after);
    long diff = before > after ? before - after : after - before;
    CHECK(diff * 100 <= total, "MemFree changed by %ld kB, more than 1%% of MemTotal", diff);
    OK("%d fork/exit/wait iterations; MemFree within 1%% of MemTotal of where it started", n);
    printf("fork_memory ok\n");
    return 0;
}
