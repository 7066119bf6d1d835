/* 8 threads increment a shared counter under a mutex; a condition-variable handshake;
 * pthread_join of all; the final counter is exact. */
#include "check.h"
#include <pthread.h>

#define THREADS 8
#define ROUNDS 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int ready, go;

static void *worker(void *arg) {
    long id = (long)arg;
    pthread_mutex_lock(&lock);
    ready++;
    pthread_cond_broadcast(&cond);
    while (!go) pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return (void *)(id * 10);
}

int main(void) {
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0, "pthread_create %ld", i);
    pthread_mutex_lock(&lock);
    while (ready < THREADS) pthread_cond_wait(&cond, &lock);
    OK("all %d threads reported ready through the condition variable", THREADS);
    go = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    for (long i = 0; i < THREADS; i++) {
        void *ret;
        CHECK(pthread_join(t[i], &ret) == 0, "pthread_join %ld", i);
        CHECK((long)ret == i * 10, "thread %ld returned %ld", i, (long)ret);
    }
    OK("all threads joined with their return values");
    CHECK(counter == (long)THREADS * ROUNDS, "counter %ld, expected %ld", counter,
          (long)THREADS * ROUNDS);
    OK("counter is %ld", counter);
    printf("pthreads ok\n");
    return 0;
}
