/* MAP_SHARED file mappings: writes through a mapping reach the file and every other shared
 * mapping of it (in this process, a forked child, an unrelated mapping in another
 * process), write(2) reaches the mappings, the partial last page works, a page past the end
 * of the file is SIGBUS, read-only mappings of read-only descriptors, EACCES for a writable
 * one, msync, and MAP_PRIVATE staying private. */
#include "check.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define SIZE 10000 /* two whole pages and a partial third */

static sigjmp_buf env;
static void on_bus(int sig) { siglongjmp(env, sig); }

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    char path[64];
    snprintf(path, sizeof path, "/tmp/isounik-mshared-%d", getpid());
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    CHECK(fd >= 0, "open");
    static char data[SIZE];
    for (int i = 0; i < SIZE; i++) data[i] = (char)('a' + i % 26);
    CHECK(write(fd, data, SIZE) == SIZE, "write");

    char *m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED, "mmap MAP_SHARED");
    CHECK(memcmp(m, data, SIZE) == 0, "the mapping shows the file");
    m[0] = 'X';
    m[SIZE - 1] = 'Y'; /* the partial last page */
    char b[2];
    CHECK(pread(fd, b, 1, 0) == 1 && b[0] == 'X', "a store reaches the file");
    CHECK(pread(fd, b, 1, SIZE - 1) == 1 && b[0] == 'Y', "on the partial last page too");
    CHECK(pwrite(fd, "Z", 1, 5000) == 1 && m[5000] == 'Z', "pwrite reaches the mapping");
    char *m2 = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m2 != MAP_FAILED && m2[0] == 'X', "a second mapping sees it");
    m2[1] = 'W';
    CHECK(m[1] == 'W', "and writes into the first");
    OK("stores and pwrite meet in the file and in every shared mapping, partial page included");

    /* A forked child through the inherited mapping, and through a mapping of its own. */
    pid_t child = fork();
    if (child == 0) {
        m[2] = 'C';
        char *own = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (own == MAP_FAILED || own[1] != 'W') _exit(2);
        own[3] = 'D';
        _exit(0);
    }
    int status;
    CHECK(waitpid(child, &status, 0) == child && status == 0, "child status %#x", status);
    CHECK(m[2] == 'C' && m[3] == 'D' && m2[3] == 'D', "the child's stores arrived");
    char *priv = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(priv != MAP_FAILED && priv[2] == 'C', "a private mapping");
    priv[2] = 'P';
    CHECK(m[2] == 'C' && pread(fd, b, 1, 2) == 1 && b[0] == 'C', "private stores stay private");
    CHECK(msync(m, SIZE, MS_SYNC) == 0, "msync");
    OK("a forked child's stores (inherited and its own mapping) reach the parent; "
       "MAP_PRIVATE stays private");

    /* Past the end of the file: SIGBUS. */
    char *big = mmap(NULL, 4 * 4096, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(big != MAP_FAILED, "mmap past the end");
    struct sigaction sa = {.sa_handler = on_bus};
    sigaction(SIGBUS, &sa, NULL);
    volatile char c = big[4096 * 2 + 100]; /* inside the last page: fine */
    (void)c;
    int sig = sigsetjmp(env, 1);
    if (sig == 0) {
        c = big[4096 * 3];
        printf("FAIL a page past the end of the file did not fault\n");
        return 1;
    }
    CHECK(sig == SIGBUS, "signal %d", sig);
    OK("a page wholly past the end of the file is SIGBUS");

    /* A read-only descriptor: read-only shared mappings only. */
    int ro = open(path, O_RDONLY);
    char *r = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, ro, 0);
    CHECK(r != MAP_FAILED && r[0] == 'X', "read-only MAP_SHARED");
    EXPECT_ERRNO(mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), EACCES);
    m[4] = 'R';
    CHECK(r[4] == 'R', "a read-only shared mapping sees the stores");
    munmap(r, SIZE);
    close(ro);
    munmap(m, SIZE);
    munmap(m2, SIZE);
    CHECK(pread(fd, b, 1, 4) == 1 && b[0] == 'R', "the file keeps what was stored");
    close(fd);
    unlink(path);
    OK("read-only shared mappings; EACCES for a writable one; the data outlives the mappings");
    printf("mmap_shared ok\n");
    return 0;
}
