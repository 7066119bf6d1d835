/* Attack: exhaust inodes and descriptors. (1) open without closing until EMFILE (or
 * ENFILE/ENOMEM); (2) empty files and directories in /tmp until creation fails, bounded to
 * ATTEMPTS (default 200000) and 30 s; then everything is removed and the system works. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

int main(int argc, char **argv) {
    int attempts = argc > 1 ? atoi(argv[1]) : 200000;
    int fds = 0, err = 0;
    for (; fds < 1000000; fds++) {
        if (open("/", O_RDONLY) < 0) { err = errno; break; }
    }
    CHECK(err == EMFILE || err == ENFILE || err == ENOMEM, "descriptors: %d opened, then %s", fds, strerror(err));
    OK("opening descriptors stops with %s", err == EMFILE ? "EMFILE" : strerror(err));
    for (int fd = 3; fd < 3 + fds; fd++) close(fd);

    CHECK(mkdir("/tmp/inodes", 0755) == 0, "mkdir");
    char path[64];
    int n = 0;
    err = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (; n < attempts; n++) {
        snprintf(path, sizeof path, "/tmp/inodes/%c%d", n & 1 ? 'd' : 'f', n);
        int r = n & 1 ? mkdir(path, 0755) : mknod(path, S_IFREG | 0644, 0);
        if (r != 0) { err = errno; break; }
        if ((n & 1023) == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (t.tv_sec - t0.tv_sec >= 30) break;
        }
    }
    printf("created %d inodes before: %s\n", n, err ? strerror(err) : "the bound");
    OK("inode creation ended (%s)", err ? strerror(err) : "bound reached");
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "/tmp/inodes/%c%d", i & 1 ? 'd' : 'f', i);
        CHECK((i & 1 ? rmdir(path) : unlink(path)) == 0, "remove %s", path);
    }
    CHECK(rmdir("/tmp/inodes") == 0, "rmdir");
    OK("everything removed");
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        execl("/bin/busybox", "busybox", "true", (char *)NULL);
        _exit(127);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "busybox true");
    OK("a new process runs");
    printf("hostile_inode_exhaustion ok\n");
    return 0;
}
