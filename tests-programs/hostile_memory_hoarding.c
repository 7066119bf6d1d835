/* Attack: hoard memory. A child takes all the memory programs can have but 2 MiB
 * (MemAvailable in /proc/meminfo), touches it and sleeps holding it, never asking for more.
 * Another child, started before and innocent, then needs 16 MiB. The out-of-memory killer
 * must pick the hoarder (it holds the most): it dies by SIGKILL and the innocent child gets
 * its memory and exits 0. Without that policy the innocent child, the one that happened to
 * fault, would die instead. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

int main(void) {
    int go[2], ready[2];
    CHECK(pipe(go) == 0 && pipe(ready) == 0, "pipe");
    fflush(stdout);
    pid_t innocent = fork();
    CHECK(innocent >= 0, "fork");
    if (innocent == 0) {
        close(go[1]);
        close(ready[1]); /* a hoarder that dies before reporting must give EOF */
        char c;
        if (read(go[0], &c, 1) != 1) _exit(2);
        size_t n = 16 << 20;
        unsigned char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) _exit(3);
        memset(p, 0x11, n);
        unsigned long sum = 0;
        for (size_t i = 0; i < n; i += 4096) sum += p[i];
        _exit(sum == (n / 4096) * 0x11 ? 0 : 4);
    }
    pid_t hoarder = fork();
    CHECK(hoarder >= 0, "fork");
    if (hoarder == 0) {
        long kib = mem_available_kib();
        if (kib < 8192) _exit(5);
        size_t n = (size_t)(kib - 2048) << 10;
        volatile unsigned char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) _exit(6);
        for (size_t i = 0; i < n; i += 4096) p[i] = 1;
        dprintf(ready[1], "%zu\n", n >> 20);
        for (;;) pause();
    }
    close(ready[1]);
    close(go[0]);
    char msg[32] = "";
    ssize_t got = read(ready[0], msg, sizeof msg - 1);
    CHECK(got > 0, "the hoarder did not report (it died first?)");
    msg[got] = 0;
    OK("a child hoards all but 2 MiB of the memory programs can have");
    CHECK(write(go[1], "g", 1) == 1, "tell the innocent child to allocate");
    int status;
    CHECK(waitpid(innocent, &status, 0) == innocent, "waitpid innocent");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "innocent child status %#x", status);
    OK("the innocent child got 16 MiB, used it and exited 0");
    CHECK(waitpid(hoarder, &status, 0) == hoarder, "waitpid hoarder");
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "hoarder status %#x", status);
    OK("the hoarder was killed by SIGKILL");
    printf("hostile_memory_hoarding ok\n");
    return 0;
}
