/* Clocks: CLOCK_MONOTONIC never goes backwards over 10000 reads; nanosleep(50 ms) advances
 * it by at least 50 ms; CLOCK_REALTIME, gettimeofday and time agree, and are within 5 s of
 * argv[1] (the host's time in seconds since the epoch, when given). */
#include "check.h"
#include <sys/time.h>
#include <time.h>

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

int main(int argc, char **argv) {
    struct timespec prev, now;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &prev) == 0, "clock_gettime(CLOCK_MONOTONIC)");
    for (int i = 0; i < 10000; i++) {
        CHECK(clock_gettime(CLOCK_MONOTONIC, &now) == 0, "clock_gettime");
        CHECK(now.tv_nsec >= 0 && now.tv_nsec < 1000000000, "tv_nsec %ld", now.tv_nsec);
        CHECK(ns(now) >= ns(prev), "went back from %lld to %lld ns at read %d", ns(prev), ns(now), i);
        prev = now;
    }
    OK("CLOCK_MONOTONIC never went backwards in 10000 reads");

    struct timespec before, after, nap = {0, 50 * 1000000};
    CHECK(clock_gettime(CLOCK_MONOTONIC, &before) == 0, "before");
    CHECK(nanosleep(&nap, NULL) == 0, "nanosleep");
    CHECK(clock_gettime(CLOCK_MONOTONIC, &after) == 0, "after");
    long long slept = ns(after) - ns(before);
    CHECK(slept >= 50000000LL, "nanosleep(50 ms) advanced CLOCK_MONOTONIC by %lld ns", slept);
    CHECK(slept < 5000000000LL, "nanosleep(50 ms) took %lld ns", slept);
    OK("nanosleep(50 ms) advanced CLOCK_MONOTONIC by %lld ms", slept / 1000000);
    struct timespec bad = {0, 1000000000};
    EXPECT_ERRNO(nanosleep(&bad, NULL), EINVAL);

    struct timespec rt, res;
    CHECK(clock_gettime(CLOCK_REALTIME, &rt) == 0, "clock_gettime(CLOCK_REALTIME)");
    struct timeval tv;
    CHECK(gettimeofday(&tv, NULL) == 0, "gettimeofday");
    time_t t = time(NULL);
    CHECK(tv.tv_sec - rt.tv_sec <= 1 && tv.tv_sec >= rt.tv_sec, "gettimeofday %ld vs %ld",
          (long)tv.tv_sec, (long)rt.tv_sec);
    CHECK(t - rt.tv_sec <= 1 && t >= rt.tv_sec, "time() %ld vs %ld", (long)t, (long)rt.tv_sec);
    OK("CLOCK_REALTIME, gettimeofday and time agree");
    if (argc > 1) {
        double host = atof(argv[1]);
        double diff = (double)rt.tv_sec + rt.tv_nsec / 1e9 - host;
        CHECK(diff > -5 && diff < 5, "CLOCK_REALTIME is %.3f s away from the host's %.3f", diff, host);
        OK("CLOCK_REALTIME is within 5 s of the host (%.3f s)", diff);
    }

    struct timespec boot, coarse;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &now) == 0, "monotonic");
    CHECK(clock_gettime(CLOCK_BOOTTIME, &boot) == 0, "clock_gettime(CLOCK_BOOTTIME)");
    CHECK(ns(boot) >= ns(now), "CLOCK_BOOTTIME %lld < CLOCK_MONOTONIC %lld", ns(boot), ns(now));
    CHECK(clock_gettime(CLOCK_MONOTONIC_COARSE, &coarse) == 0, "CLOCK_MONOTONIC_COARSE");
    CHECK(clock_gettime(CLOCK_REALTIME_COARSE, &coarse) == 0, "CLOCK_REALTIME_COARSE");
    CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0, "clock_getres");
    CHECK(res.tv_sec == 0 && res.tv_nsec > 0, "resolution %ld.%09ld", (long)res.tv_sec, res.tv_nsec);
    EXPECT_ERRNO(clock_gettime((clockid_t)12345, &now), EINVAL);
    OK("CLOCK_BOOTTIME, coarse clocks, clock_getres");
    printf("clock: all checks passed\n");
    return 0;
}
