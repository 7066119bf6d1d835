/* Attack: executable file mappings. `hostile_mmap_exec_file DATA`
 * 1. a file containing WRPKRU mapped PROT_READ|PROT_EXEC: mmap fails with EPERM (also
 *    with the bytes at an offset that is not the mapping's start, and when only a later
 *    page of the mapping holds them); a clean file maps and runs;
 * 2. the file is changed after it was mapped executable: write(2) puts WRPKRU into the
 *    file; the executable private mapping must never show those bytes (on Linux an
 *    unmodified MAP_PRIVATE page follows the file, so the kernel must refuse the write,
 *    unmap, or copy the page first); likewise ftruncate + rewrite;
 * 3. a MAP_SHARED executable mapping of a file written through a second, writable
 *    MAP_SHARED mapping (the RW/RX alias) must never hold WRPKRU while executable. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static const unsigned char gadget[] = {0x31, 0xc0, 0x31, 0xc9, 0x31, 0xd2, 0x0f, 0x01, 0xef, 0xc3};
static long page;
static int failures;
/* Like CHECK, but goes on to the next attempt (each is independent). */
#define SOFT(cond, ...)                                                                    \
    if (!(cond)) {                                                                         \
        printf("FAIL %s:%d: ", __FILE__, __LINE__);                                        \
        printf(__VA_ARGS__);                                                               \
        printf(" (errno %s)\n", strerror(errno));                                          \
        failures++;                                                                        \
    } else

static int make(const char *path, size_t len, size_t at, int dirty) {
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0755);
    CHECK(fd >= 0, "open %s", path);
    unsigned char *buf = malloc(len);
    memset(buf, 0xc3, len);
    if (dirty) memcpy(buf + at, gadget, sizeof gadget);
    CHECK(write(fd, buf, len) == (ssize_t)len, "write");
    free(buf);
    return fd;
}

static void *map(int fd, size_t len, int prot, int flags) {
    return (void *)syscall(SYS_mmap, NULL, len, prot, flags, fd, 0);
}

/* When an executable mapping holding WRPKRU was allowed: touch it (fault it in by a read),
 * then call the gadget in a child and read the kernel's .data. */
static void try_gadget(const unsigned char *code, uint64_t data) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(5);
        volatile unsigned char c = code[0];
        (void)c;
        ((void (*)(void))code)();
        unsigned pk = rdpkru();
        uint64_t v = *(volatile uint64_t *)data;
        printf("BREACH: executed WRPKRU from a file mapping: pkru %#x, read %#lx from the kernel\n", pk,
               (unsigned long)v);
        fflush(stdout);
        _exit(42);
    }
    int status;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 42) failures++;
    else printf("note: calling the mapped WRPKRU: %s\n", WIFSIGNALED(status) ? signal_name(WTERMSIG(status)) : "exited");
}

static int contains_wrpkru(const unsigned char *p, size_t len) {
    for (size_t i = 0; i + 2 < len; i++)
        if (p[i] == 0x0f && p[i + 1] == 0x01 && p[i + 2] == 0xef) return 1;
    return 0;
}

int main(int argc, char **argv) {
    CHECK(argc == 2, "usage: %s DATA", argv[0]);
    uint64_t data = hexarg(argv[1]);
    page = sysconf(_SC_PAGESIZE);
    unsigned pkru = rdpkru();

    int fd = make("/tmp/hx_dirty", page, 100, 1);
    errno = 0;
    void *m = map(fd, page, PROT_READ | PROT_EXEC, MAP_PRIVATE);
    SOFT(m == MAP_FAILED && errno == EPERM, "mmap RX of a file with WRPKRU: %p", m)
    OK("mmap(PROT_READ|PROT_EXEC) of a file holding WRPKRU fails with EPERM");
    if (m != MAP_FAILED) try_gadget((unsigned char *)m + 100, data);
    m = map(fd, page, PROT_EXEC, MAP_SHARED);
    SOFT(m == MAP_FAILED, "mmap X MAP_SHARED of a file with WRPKRU: %p", m)
    OK("mmap(PROT_EXEC, MAP_SHARED) of it fails too");
    close(fd);
    fd = make("/tmp/hx_dirty2", 3 * page, 2 * page + 7, 1);
    errno = 0;
    m = map(fd, 3 * page, PROT_READ | PROT_EXEC, MAP_PRIVATE);
    SOFT(m == MAP_FAILED && errno == EPERM, "WRPKRU in the third page: %p", m)
    OK("WRPKRU in a later page of the mapping: EPERM");
    close(fd);
    fd = make("/tmp/hx_dirty3", 2 * page, page - 7, 1); /* 0f in the first page, 01 ef in the second */
    errno = 0;
    m = map(fd, 2 * page, PROT_READ | PROT_EXEC, MAP_PRIVATE);
    SOFT(m == MAP_FAILED && errno == EPERM, "WRPKRU across a page boundary: %p", m)
    OK("WRPKRU across a page boundary of the file: EPERM");
    close(fd);

    fd = make("/tmp/hx_clean", page, 0, 0);
    unsigned char *x = map(fd, page, PROT_READ | PROT_EXEC, MAP_PRIVATE);
    CHECK(x != MAP_FAILED, "mmap RX of a clean file");
    ((void (*)(void))x)();
    OK("a clean file maps executable and runs");

    /* 2: change the file under the executable mapping. */
    ssize_t w = pwrite(fd, gadget, sizeof gadget, 100);
    SOFT(!contains_wrpkru(x, page),
          "after pwrite (returned %zd) the executable mapping holds WRPKRU", w)
    OK("writing the file under an executable private mapping does not reach the mapping (pwrite %s)",
       w < 0 ? strerror(errno) : "succeeded");
    if (ftruncate(fd, 0) != 0) OK("ftruncate failed");
    w = pwrite(fd, gadget, sizeof gadget, 200);
    probe_install();
    int sig = probe(probe_read_fn, x + 200);
    SOFT(sig != 0 || !contains_wrpkru(x + 192, 64),
          "after truncate + rewrite the executable mapping holds WRPKRU")
    OK("truncate + rewrite under the mapping: no WRPKRU in it");
    close(fd);

    /* 3: a shared RW/RX alias of one file. */
    fd = make("/tmp/hx_alias", page, 0, 0);
    unsigned char *rw = map(fd, page, PROT_READ | PROT_WRITE, MAP_SHARED);
    unsigned char *rx = map(fd, page, PROT_READ | PROT_EXEC, MAP_SHARED);
    if (rw == MAP_FAILED || rx == MAP_FAILED) {
        OK("shared RW and RX mappings of one file: refused (rw %s, rx %s)",
           rw == MAP_FAILED ? "failed" : "ok", rx == MAP_FAILED ? "failed" : "ok");
    } else {
        memcpy(rw + 300, gadget, sizeof gadget);
        sig = probe(probe_read_fn, rx + 296);
        SOFT(sig != 0 || !contains_wrpkru(rx + 296, 32),
              "a shared RX mapping shows WRPKRU written through a shared RW alias")
        OK("a shared RW alias cannot put WRPKRU into a shared RX mapping");
    }
    /* The other order: RX faulted in first (clean), then WRPKRU stored through the RW
     * alias and written with pwrite: the RX mapping keeps clean code. */
    close(fd);
    fd = make("/tmp/hx_alias2", page, 0, 0);
    rw = map(fd, page, PROT_READ | PROT_WRITE, MAP_SHARED);
    rx = map(fd, page, PROT_READ | PROT_EXEC, MAP_SHARED);
    if (rw != MAP_FAILED && rx != MAP_FAILED) {
        ((void (*)(void))rx)(); /* faulted in and run while clean */
        memcpy(rw + 300, gadget, sizeof gadget);
        w = pwrite(fd, gadget, sizeof gadget, 400);
        sig = probe(probe_read_fn, rx + 296);
        SOFT(sig != 0 || !contains_wrpkru(rx, page),
              "an RX mapping faulted in first shows WRPKRU stored later through the RW alias")
        OK("an RX mapping faulted in first keeps clean code after stores through the alias");
        /* A mapping made now sees the WRPKRU in the file: refused, or faults. */
        unsigned char *late = map(fd, page, PROT_READ | PROT_EXEC, MAP_SHARED);
        int late_ok = late != MAP_FAILED && probe(probe_read_fn, late + 300) == 0 &&
                      contains_wrpkru(late + 296, 32);
        SOFT(!late_ok, "a new RX mapping of the changed file holds WRPKRU")
        OK("a new RX mapping of the changed file: refused");
        /* mprotect of the RW alias to RX: refused, or its pages come back as scanned copies. */
        int r = mprotect(rw, page, PROT_READ | PROT_EXEC);
        int alias_ok = r == 0 && probe(probe_read_fn, rw + 300) == 0 && contains_wrpkru(rw + 296, 32);
        SOFT(!alias_ok, "the RW alias made RX holds WRPKRU (mprotect %d)", r)
        OK("mprotect of the RW alias to RX: no WRPKRU executable (mprotect %s)",
           r == 0 ? "succeeded" : strerror(errno));
    }
    close(fd);

    CHECK(rdpkru() == pkru, "PKRU changed");
    sig = probe(probe_read_fn, (void *)data);
    CHECK(sig == SIGSEGV, "the kernel's memory became readable");
    OK("PKRU unchanged and the kernel's memory unreadable");
    CHECK(failures == 0, "%d attempts were not refused", failures);
    printf("hostile_mmap_exec_file ok\n");
    return 0;
}
