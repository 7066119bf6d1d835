/* vdso: the kernel gives the program a vDSO (AT_SYSINFO_EHDR, an ELF image, shown as [vdso]
 * in /proc/self/maps), and the C library's clock_gettime, gettimeofday and time, which use
 * it, agree with the system calls: each reading lies between two system-call readings of
 * the same clock, the monotonic clock never goes back over 10000 readings, and clocks the
 * vDSO does not compute itself (CPU time, an unknown clock) still work or fail as the
 * system call does. */
#include "check.h"
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

static void between(clockid_t clock, const char *name) {
    struct timespec a, v, b;
    for (int i = 0; i < 100; i++) {
        CHECK(syscall(SYS_clock_gettime, clock, &a) == 0, "%s: system call", name);
        CHECK(clock_gettime(clock, &v) == 0, "%s: clock_gettime", name);
        CHECK(syscall(SYS_clock_gettime, clock, &b) == 0, "%s: system call", name);
        CHECK(ns(a) <= ns(v) && ns(v) <= ns(b) && v.tv_nsec < 1000000000,
              "%s: %lld not between %lld and %lld", name, ns(v), ns(a), ns(b));
    }
}

int main(void) {
    const unsigned char *ehdr = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
    CHECK(ehdr != NULL && memcmp(ehdr, "\x7f" "ELF", 4) == 0, "AT_SYSINFO_EHDR: an ELF image");
    FILE *maps = fopen("/proc/self/maps", "r");
    CHECK(maps != NULL, "open /proc/self/maps");
    char line[512];
    int shown = 0;
    while (fgets(line, sizeof line, maps))
        if (strstr(line, "[vdso]") && strtoull(line, NULL, 16) == (unsigned long long)ehdr)
            shown = 1;
    fclose(maps);
    CHECK(shown, "[vdso] in /proc/self/maps at the auxv's address");
    OK("the vDSO is mapped and announced");

    between(CLOCK_MONOTONIC, "CLOCK_MONOTONIC");
    between(CLOCK_REALTIME, "CLOCK_REALTIME");
    between(CLOCK_BOOTTIME, "CLOCK_BOOTTIME");
    OK("clock_gettime agrees with the system call (monotonic, realtime, boottime)");

    struct timespec prev, now;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &prev) == 0, "clock_gettime");
    for (int i = 0; i < 10000; i++) {
        CHECK(clock_gettime(CLOCK_MONOTONIC, &now) == 0, "clock_gettime");
        CHECK(ns(now) >= ns(prev), "went back: %lld after %lld", ns(now), ns(prev));
        prev = now;
    }
    OK("10000 monotonic readings never go back");

    struct timespec rt;
    struct timeval tv;
    CHECK(syscall(SYS_clock_gettime, CLOCK_REALTIME, &rt) == 0, "realtime");
    CHECK(gettimeofday(&tv, NULL) == 0, "gettimeofday");
    time_t t1 = time(NULL), t2;
    CHECK(time(&t2) == t2 && t2 >= t1, "time");
    CHECK(tv.tv_sec >= rt.tv_sec && tv.tv_sec - rt.tv_sec <= 1 && tv.tv_usec < 1000000,
          "gettimeofday %ld vs %ld", (long)tv.tv_sec, (long)rt.tv_sec);
    CHECK(t1 >= rt.tv_sec && t1 - rt.tv_sec <= 1, "time %ld vs %ld", (long)t1, (long)rt.tv_sec);
    OK("gettimeofday and time agree with the realtime clock");

    struct timespec cpu, res;
    CHECK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu) == 0, "CPU-time clock");
    CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0,
          "clock_getres");
    errno = 0;
    CHECK(clock_gettime((clockid_t)12345, &cpu) == -1 && errno == EINVAL, "unknown clock");
    OK("other clocks go to the system call");
    printf("vdso ok\n");
    return 0;
}
