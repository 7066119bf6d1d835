/* Attack: fill the in-memory file system. Files of 64 KiB in /tmp until write or create
 * fails (ENOSPC, ENOMEM, EFBIG...), bounded to 16 GiB; then they are deleted, and a new
 * process starts and a file can be written again. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <fcntl.h>
#include <sys/wait.h>

int main(void) {
    static char buf[65536];
    memset(buf, 0xa5, sizeof buf);
    int n = 0, err = 0;
    char path[64];
    for (; n < 262144; n++) {
        snprintf(path, sizeof path, "/tmp/fill%d", n);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) { err = errno; break; }
        ssize_t w = write(fd, buf, sizeof buf);
        int werr = errno;
        close(fd);
        if (w != (ssize_t)sizeof buf) { err = w < 0 ? werr : ENOSPC; n++; break; }
    }
    printf("created %d files (%d MiB) before: %s\n", n, n / 16, err ? strerror(err) : "the bound");
    CHECK(err != 0, "no failure after %d files", n);
    OK("filling /tmp stopped with an error");
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "/tmp/fill%d", i);
        CHECK(unlink(path) == 0, "unlink %s", path);
    }
    OK("all files deleted");
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        execl("/bin/busybox", "busybox", "true", (char *)NULL);
        _exit(127);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "busybox true: %#x", status);
    int fd = open("/tmp/after", O_RDWR | O_CREAT, 0644);
    CHECK(fd >= 0 && write(fd, buf, sizeof buf) == sizeof buf, "write after");
    close(fd);
    unlink("/tmp/after");
    OK("a new process runs and a 64 KiB file can be written again");
    printf("hostile_file_exhaustion ok\n");
    return 0;
}
