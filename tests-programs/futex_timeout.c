/* FUTEX_WAIT with a 100 ms timeout on an unchanged word fails with ETIMEDOUT after at least
 * 100 ms (three times); FUTEX_WAKE wakes a thread waiting on the word. */
#include "check.h"
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

/* <linux/futex.h> is not in musl-gcc's include path. */
#define FUTEX_WAIT_PRIVATE (0 | 128)
#define FUTEX_WAKE_PRIVATE (1 | 128)

static uint32_t word;
static volatile int woken;

static long futex(uint32_t *addr, int op, uint32_t val, const struct timespec *timeout) {
    return syscall(SYS_futex, addr, op, val, timeout, NULL, 0);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void *waiter(void *arg) {
    (void)arg;
    while (__atomic_load_n(&word, __ATOMIC_SEQ_CST) == 0)
        futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL);
    woken = 1;
    return NULL;
}

int main(void) {
    struct timespec timeout = {0, 100 * 1000 * 1000};
    /* Three times: in gate mode the site traps once, then goes through the gate. */
    for (int i = 0; i < 3; i++) {
        double start = now();
        EXPECT_ERRNO(futex(&word, FUTEX_WAIT_PRIVATE, 0, &timeout), ETIMEDOUT);
        double took = now() - start;
        CHECK(took >= 0.100, "FUTEX_WAIT returned after %.3f s", took);
        CHECK(took < 2.0, "FUTEX_WAIT took %.3f s", took);
    }
    OK("FUTEX_WAIT timed out after at least 100 ms");
    EXPECT_ERRNO(futex(&word, FUTEX_WAIT_PRIVATE, 1, &timeout), EAGAIN);

    pthread_t t;
    CHECK(pthread_create(&t, NULL, waiter, NULL) == 0, "pthread_create");
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
    CHECK(!woken, "the waiter did not wait");
    __atomic_store_n(&word, 1, __ATOMIC_SEQ_CST);
    long n = futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL);
    CHECK(n == 1, "FUTEX_WAKE woke %ld waiters, expected 1", n);
    CHECK(pthread_join(t, NULL) == 0 && woken, "join");
    OK("FUTEX_WAKE woke the waiting thread");
    printf("futex_timeout ok\n");
    return 0;
}
