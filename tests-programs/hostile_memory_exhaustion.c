/* Attack: exhaust memory. A child maps and touches 1 MiB after 1 MiB until mmap fails
 * (ENOMEM) or it is killed (SIGSEGV, SIGBUS or SIGKILL); then the parent, and a sibling
 * child that was running all along, still work, and the parent can allocate and use 4 MiB.
 * Bounded to 4 GiB. A second child does the same with brk. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <sys/mman.h>
#include <sys/select.h>
#include <time.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void hog(int use_brk, int report) {
    size_t total = 0;
    for (int i = 0; i < 4096; i++) {
        char *p;
        if (use_brk) {
            char *cur = (char *)syscall(SYS_brk, 0);
            char *next = (char *)syscall(SYS_brk, cur + (1 << 20));
            if (next != cur + (1 << 20)) { dprintf(report, "brk stopped at %zu MiB\n", total >> 20); _exit(3); }
            p = cur;
        } else {
            p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) { dprintf(report, "mmap failed (%s) at %zu MiB\n", strerror(errno), total >> 20); _exit(3); }
        }
        memset(p, 0x5a, 1 << 20);
        total += 1 << 20;
    }
    dprintf(report, "allocated 4 GiB?\n");
    _exit(4);
}

int main(void) {
    int sp[2];
    CHECK(pipe(sp) == 0, "pipe");
    pid_t sibling = fork();
    CHECK(sibling >= 0, "fork");
    if (sibling == 0) {
        /* Checksums a buffer until told to stop, then reports. */
        close(sp[1]);
        static unsigned char buf[65536];
        unsigned long sum = 0, rounds = 0;
        for (;;) {
            for (unsigned i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(i * 7 + rounds);
            for (unsigned i = 0; i < sizeof buf; i++) sum += buf[i];
            rounds++;
            struct timespec ts = {0, 20000000};
            nanosleep(&ts, NULL);
            char c;
            fd_set r;
            FD_ZERO(&r);
            FD_SET(sp[0], &r);
            struct timeval tv = {0, 0};
            if (select(sp[0] + 1, &r, NULL, NULL, &tv) == 1 && read(sp[0], &c, 1) >= 0) _exit(rounds > 0 && sum > 0 ? 0 : 1);
        }
    }
    close(sp[0]);
    for (int use_brk = 0; use_brk <= 1; use_brk++) {
        int p[2];
        CHECK(pipe(p) == 0, "pipe");
        fflush(stdout);
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
            close(p[0]);
            hog(use_brk, p[1]);
        }
        close(p[1]);
        int status;
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
        char msg[128] = "";
        ssize_t n = read(p[0], msg, sizeof msg - 1);
        msg[n > 0 ? n : 0] = 0;
        close(p[0]);
        if (WIFEXITED(status)) {
            CHECK(WEXITSTATUS(status) == 3, "hog exited %d: %s", WEXITSTATUS(status), msg);
            OK("%s hog: %s", use_brk ? "brk" : "mmap", strtok(msg, "\n"));
        } else {
            int s = WTERMSIG(status);
            CHECK(s == SIGSEGV || s == SIGBUS || s == SIGKILL, "hog killed by %d", s);
            OK("%s hog: killed by %s", use_brk ? "brk" : "mmap", signal_name(s));
        }
        char *m = malloc(4 << 20);
        CHECK(m != NULL, "malloc 4 MiB after the hog");
        memset(m, 1, 4 << 20);
        unsigned long sum = 0;
        for (int i = 0; i < (4 << 20); i += 4096) sum += m[i];
        CHECK(sum == 1024, "sum");
        free(m);
        OK("the parent allocates and uses 4 MiB afterwards");
    }
    CHECK(write(sp[1], "x", 1) == 1, "tell the sibling");
    int status;
    CHECK(waitpid(sibling, &status, 0) == sibling && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "sibling status %#x", status);
    OK("the sibling kept working and exited 0");
    printf("hostile_memory_exhaustion ok\n");
    return 0;
}
