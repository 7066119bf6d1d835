/* Attack: change the vDSO's pages, which every process shares, so that other processes
 * compute wrong times or run other code. Writing [vvar] or [vdso] faults (SIGSEGV); after
 * mprotect to PROT_READ|PROT_WRITE, the writes land in this process's own copy of the
 * page: a process started afterwards (a fork made before, and a fresh exec) still reads a
 * correct clock and runs the original code. PROT_WRITE|PROT_EXEC is refused (W^X). */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

/* The C library's clock against the system call: 0 when it agrees within a second. */
static int clock_agrees(void) {
    struct timespec v, s;
    if (clock_gettime(CLOCK_REALTIME, &v) != 0) return 1;
    if (syscall(SYS_clock_gettime, CLOCK_REALTIME, &s) != 0) return 2;
    long long d = ns(s) - ns(v);
    return d >= 0 && d < 1000000000LL ? 0 : 3;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "fresh") == 0) return clock_agrees();
    unsigned char *vdso = (unsigned char *)getauxval(AT_SYSINFO_EHDR);
    CHECK(vdso != NULL, "AT_SYSINFO_EHDR");
    unsigned char *vvar = vdso - 4096;
    CHECK(clock_agrees() == 0, "the clock before the attack");
    probe_install();
    int sig = probe(probe_write_fn, vvar);
    CHECK(sig == SIGSEGV, "writing [vvar]: %s", signal_name(sig));
    sig = probe(probe_write_fn, vdso + 0x400);
    CHECK(sig == SIGSEGV, "writing [vdso]: %s", signal_name(sig));
    OK("writes to [vvar] and [vdso] fault");
    EXPECT_ERRNO(mprotect(vdso, 4096, PROT_READ | PROT_WRITE | PROT_EXEC), EPERM);
    int held[2];
    pid_t child = fork_held(held, clock_agrees);
    CHECK(mprotect(vvar, 4096, PROT_READ | PROT_WRITE) == 0, "mprotect [vvar] writable");
    memset(vvar, 0x41, 64);
    CHECK(mprotect(vdso, 4096, PROT_READ | PROT_WRITE) == 0, "mprotect [vdso] writable");
    memset(vdso + 0x400, 0xcc, 256); /* int3 over the code */
    OK("made both pages writable and overwrote them (this process's own copies)");
    release_held(held);
    int status;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the forked child's clock is wrong (status %#x)", status);
    status = run_self_again(argv[0], "fresh");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "a fresh program's clock is wrong (status %#x)", status);
    OK("a child forked before and a fresh program read a correct clock");
    printf("hostile_vdso ok\n");
    return 0;
}
