/* Attack: get WRPKRU past the exec-time scan by changing a program file between two execs.
 * The kernel remembers each scan's verdict for the file's contents (so that a program
 * exec'd again is not scanned again); the verdict must die with the contents. The program
 * copies itself to /tmp, execs the copy (it runs: "child" mode exits 0), writes WRPKRU into
 * the copy's code (at its function `victim`), execs it again (must fail: EPERM), restores
 * the bytes and execs it a third time (must run again), then does the same with truncate
 * and a rewrite of the whole file. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const unsigned char wrpkru[] = {0x0f, 0x01, 0xef};

__attribute__((noinline, used)) int victim(int x) {
    __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop");
    return x * 3 + 1;
}

/* Runs `path child`; returns the exec's errno in the child, or 0 if it ran and exited 0. */
static int run_copy(const char *path) {
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        close(p[0]);
        execl(path, path, "child", (char *)NULL);
        int e = errno;
        write(p[1], &e, sizeof e);
        _exit(127);
    }
    close(p[1]);
    int e = 0, status;
    ssize_t n = read(p[0], &e, sizeof e);
    close(p[0]);
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    if (n == sizeof e) return e;
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the copy ended with status %#x", status);
    return 0;
}

static void copy_file(const char *from, const char *to) {
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    CHECK(in >= 0 && out >= 0, "open for copying");
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0) CHECK(write(out, buf, n) == n, "write copy");
    CHECK(n == 0, "read");
    close(in);
    close(out);
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "child") == 0) return victim(2) == 7 ? 0 : 1;
    const char *copy = "/tmp/hostile_rewrite_copy";
    copy_file("/proc/self/exe", copy);
    CHECK(run_copy(copy) == 0, "first exec of the copy");
    CHECK(run_copy(copy) == 0, "second exec of the copy");
    OK("the copy runs, twice");

    int fd = open(copy, O_RDWR);
    CHECK(fd >= 0, "open the copy for writing");
    uint64_t off = elf_file_offset(fd, (uint64_t)victim);
    CHECK(off != 0, "victim's file offset");
    unsigned char saved[sizeof wrpkru];
    CHECK(pread(fd, saved, sizeof saved, off) == sizeof saved, "save");
    CHECK(pwrite(fd, wrpkru, sizeof wrpkru, off) == sizeof wrpkru, "patch");
    CHECK(run_copy(copy) == EPERM, "exec after writing WRPKRU into the code was not refused");
    OK("after WRPKRU is written into its code, exec fails with EPERM");
    CHECK(pwrite(fd, saved, sizeof saved, off) == sizeof saved, "restore");
    CHECK(run_copy(copy) == 0, "exec after restoring the code");
    OK("with the code restored it runs again");

    /* Truncate then write back WRPKRU through a whole new content. */
    struct stat st;
    CHECK(fstat(fd, &st) == 0, "fstat");
    char *all = malloc(st.st_size);
    CHECK(all && pread(fd, all, st.st_size, 0) == st.st_size, "read all");
    CHECK(ftruncate(fd, 0) == 0, "truncate");
    memcpy(all + off, wrpkru, sizeof wrpkru);
    CHECK(pwrite(fd, all, st.st_size, 0) == st.st_size, "rewrite");
    CHECK(run_copy(copy) == EPERM, "exec after truncate and rewrite with WRPKRU was not refused");
    OK("after truncate and a rewrite with WRPKRU, exec fails with EPERM");
    close(fd);
    CHECK(unlink(copy) == 0, "unlink");
    printf("hostile_rewrite_program_file ok\n");
    return 0;
}
