/* Pipes as a ring of bytes: data keeps its order through wrap-around and growth, partial
 * reads leave the rest, a full pipe refuses a non-blocking write at exactly its capacity,
 * a bad buffer is EFAULT without losing data, and 4 MiB pass between two processes in
 * chunks of changing sizes on both sides, byte for byte. */
#include "check.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>

static unsigned char pattern(long i) { return (unsigned char)((i * 7 + i / 251) % 253); }

int main(void) {
    int p[2];
    static unsigned char buf[70000], back[70000];
    CHECK(pipe(p) == 0, "pipe");

    /* Growth, then wrap-around: the second write crosses the end of the storage, the
     * reads take the data back in two pieces. (At most 40 KiB wait at any time: Linux
     * counts a pipe's capacity in pages.) */
    for (long i = 0; i < 70000; i++) buf[i] = pattern(i);
    CHECK(write(p[1], buf, 3000) == 3000, "write 3000");
    CHECK(read(p[0], back, 1000) == 1000 && memcmp(back, buf, 1000) == 0, "read 1000");
    CHECK(write(p[1], buf + 3000, 37000) == 37000, "write 37000");
    CHECK(read(p[0], back, 30000) == 30000 && memcmp(back, buf + 1000, 30000) == 0, "read 30000");
    CHECK(write(p[1], buf + 40000, 30000) == 30000, "write 30000 (wraps)");
    long got = 0;
    while (got < 39000) {
        long n = read(p[0], back + got, 39000 - got < 7777 ? 39000 - got : 7777);
        CHECK(n > 0, "read at %ld", got);
        got += n;
    }
    CHECK(memcmp(back, buf + 31000, 39000) == 0, "bytes out of order after wrap-around");
    OK("order kept through growth, partial reads and wrap-around");

    /* Capacity: non-blocking writes stop at exactly 64 KiB. */
    int flags = fcntl(p[1], F_GETFL);
    CHECK(fcntl(p[1], F_SETFL, flags | O_NONBLOCK) == 0, "O_NONBLOCK");
    long total = 0;
    for (;;) {
        long n = write(p[1], buf, 4096);
        if (n < 0) {
            CHECK(errno == EAGAIN, "full pipe: errno %d", errno);
            break;
        }
        total += n;
    }
    CHECK(total == 65536, "a full pipe holds %ld bytes", total);
    OK("a full pipe holds 65536 bytes, then EAGAIN");

    /* A bad buffer: EFAULT, and the data stays. */
    void *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(gone != MAP_FAILED && munmap(gone, 4096) == 0, "unmapped page");
    EXPECT_ERRNO(read(p[0], gone, 100), EFAULT);
    CHECK(read(p[0], back, 4096) == 4096 && memcmp(back, buf, 4096) == 0, "data lost by EFAULT");
    EXPECT_ERRNO(write(p[1], gone, 100), EFAULT);
    CHECK(close(p[0]) == 0 && close(p[1]) == 0, "close");
    OK("a bad buffer is EFAULT and loses nothing");

    /* 4 MiB between two processes, chunk sizes changing on both sides. */
    CHECK(pipe(p) == 0, "pipe");
    fflush(stdout);
    pid_t child = fork();
    CHECK(child >= 0, "fork");
    const long size = 4 << 20;
    if (child == 0) {
        close(p[1]);
        long at = 0, step = 1;
        while (at < size) {
            long want = (step * 389) % 9001 + 1;
            long n = read(p[0], back, want);
            if (n <= 0) _exit(2);
            for (long i = 0; i < n; i++)
                if (back[i] != pattern(at + i)) _exit(3);
            at += n;
            step++;
        }
        _exit(read(p[0], back, 1) == 0 ? 0 : 4);
    }
    close(p[0]);
    long at = 0, step = 1;
    static unsigned char out[20000];
    while (at < size) {
        long n = (step * 613) % 17000 + 1;
        if (n > size - at) n = size - at;
        for (long i = 0; i < n; i++) out[i] = pattern(at + i);
        CHECK(write(p[1], out, n) == n, "write of %ld at %ld", n, at);
        at += n;
        step++;
    }
    close(p[1]);
    int status;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "reader status %#x", status);
    OK("4 MiB in changing chunk sizes arrive byte for byte");
    printf("pipe_ring ok\n");
    return 0;
}
