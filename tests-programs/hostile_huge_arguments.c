/* Attack: absurd sizes. mmap/mremap/brk/munmap/mprotect/madvise with huge lengths and with
 * ranges in or across the kernel half; read/write with SIZE_MAX and with buffer+length
 * wrapping around; openat with a 1 MiB path; execve with 1 million arguments; poll, readv
 * and select with huge counts. Each gives a clean error (or a harmless partial result), the
 * kernel's memory stays unreadable and unchanged, and the program keeps working.
 * `hostile_huge_arguments DATA` */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#define S(...) syscall(__VA_ARGS__)
#define FAILS(what, expr)                                                                        \
    do {                                                                                         \
        errno = 0;                                                                               \
        long r_ = (long)(expr);                                                                  \
        CHECK(r_ == -1, "%s returned %#lx", what, (unsigned long)r_);                            \
        OK("%s fails with %s", what, strerror(errno));                                           \
    } while (0)

int main(int argc, char **argv) {
    CHECK(argc == 2, "usage: %s DATA", argv[0]);
    uint64_t data = hexarg(argv[1]);
    uint64_t kpage = data & ~0xfffULL;
    probe_install();
    long pg = 4096;
    int anon = MAP_PRIVATE | MAP_ANONYMOUS;

    FAILS("mmap 2^62 bytes", S(SYS_mmap, 0, 1UL << 62, PROT_READ, anon, -1, 0));
    FAILS("mmap SIZE_MAX bytes", S(SYS_mmap, 0, -1L, PROT_READ, anon, -1, 0));
    FAILS("mmap 0 bytes", S(SYS_mmap, 0, 0, PROT_READ, anon, -1, 0));
    FAILS("mmap MAP_FIXED at the kernel's .data", S(SYS_mmap, kpage, pg, PROT_READ | PROT_WRITE, anon | MAP_FIXED, -1, 0));
    FAILS("mmap MAP_FIXED at the libOS heap", S(SYS_mmap, 0xffffc00000000000UL, pg, PROT_READ | PROT_WRITE, anon | MAP_FIXED, -1, 0));
    FAILS("mmap MAP_FIXED across the top of user space", S(SYS_mmap, 0x7ffffffff000UL, 2 * pg, PROT_READ, anon | MAP_FIXED, -1, 0));
    FAILS("mmap MAP_FIXED at a non-canonical address", S(SYS_mmap, 0x800000000000UL, pg, PROT_READ, anon | MAP_FIXED, -1, 0));
    long hint = S(SYS_mmap, kpage, pg, PROT_READ | PROT_WRITE, anon, -1, 0);
    CHECK(hint != -1 && (uint64_t)hint < 0x800000000000UL, "mmap with a kernel hint gave %#lx", (unsigned long)hint);
    OK("mmap with a kernel address as a hint maps in the lower half");
    FAILS("munmap of the kernel's .data", S(SYS_munmap, kpage, pg));
    FAILS("munmap of the whole upper half", S(SYS_munmap, 0xffff800000000000UL, 0x800000000000UL));
    FAILS("mprotect of the kernel's .data RW", S(SYS_mprotect, kpage, pg, PROT_READ | PROT_WRITE));
    FAILS("mprotect of the libOS heap", S(SYS_mprotect, 0xffffc00000000000UL, pg, PROT_READ));
    long r = S(SYS_madvise, kpage, pg, MADV_DONTNEED);
    OK("madvise(DONTNEED) of the kernel's .data: %s", r ? strerror(errno) : "returned 0");
    long mr = S(SYS_mremap, hint, pg, 1UL << 62, 1 /* MAYMOVE */);
    CHECK(mr == -1, "mremap to 2^62 gave %#lx", (unsigned long)mr);
    OK("mremap to 2^62 bytes fails with %s", strerror(errno));
    FAILS("mremap onto the kernel's .data", S(SYS_mremap, hint, pg, pg, 3 /* MAYMOVE|FIXED */, kpage));
    FAILS("mremap of the kernel's .data", S(SYS_mremap, kpage, pg, 2 * pg, 1));
    uint64_t cur = S(SYS_brk, 0);
    uint64_t b1 = S(SYS_brk, 0x7fffffffffffUL), b2 = S(SYS_brk, kpage), b3 = S(SYS_brk, -1L);
    CHECK(b1 == cur && b2 == cur && b3 == cur, "brk moved to %#lx/%#lx/%#lx", (unsigned long)b1,
          (unsigned long)b2, (unsigned long)b3);
    OK("brk to the top of user space, the kernel or SIZE_MAX leaves the break unchanged");
    CHECK(probe(probe_read_fn, (void *)data) == SIGSEGV && probe_code == 4, "kernel .data after the memory calls");
    OK("the kernel's .data still faults with SEGV_PKUERR");

    char *buf = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, anon, -1, 0);
    CHECK(buf != MAP_FAILED && munmap(buf + pg, pg) == 0, "buffer");
    int fd = open("/tmp/huge", O_RDWR | O_CREAT | O_TRUNC, 0644);
    static char big[65536];
    CHECK(fd >= 0 && write(fd, big, sizeof big) == sizeof big && lseek(fd, 0, SEEK_SET) == 0, "file");
    r = S(SYS_read, fd, buf, -1L);
    CHECK(r == -1 || r <= pg, "read SIZE_MAX into one page gave %ld", r);
    OK("read(SIZE_MAX) into a one-page buffer: %s", r < 0 ? strerror(errno) : "partial");
    lseek(fd, 0, SEEK_SET);
    r = S(SYS_read, fd, buf, -(long)buf);
    CHECK(r == -1 || r <= pg, "read with buffer+length wrapping to 0 gave %ld", r);
    OK("read with buffer+length wrapping around: %s", r < 0 ? strerror(errno) : "partial");
    r = S(SYS_write, fd, buf, -1L);
    CHECK(r == -1 || r <= pg, "write SIZE_MAX gave %ld", r);
    OK("write(SIZE_MAX) from a one-page buffer: %s", r < 0 ? strerror(errno) : "partial");
    r = S(SYS_write, fd, kpage - 16, 64);
    FAILS("write of a buffer running into the kernel", r);
    lseek(fd, 0, SEEK_SET);
    struct iovec iov[2] = {{buf, 1UL << 62}, {buf, 1UL << 62}};
    FAILS("readv with lengths summing past SSIZE_MAX", S(SYS_readv, fd, iov, 2));
    FAILS("readv with 2^20 iovecs", S(SYS_readv, fd, iov, 1 << 20));
    FAILS("poll with 2^30 descriptors", S(SYS_poll, buf, 1L << 30, 0));
    FAILS("select with nfds 2^30", S(SYS_select, 1 << 30, buf, 0, 0, 0));
    FAILS("getgroups with a huge count and a small buffer", S(SYS_getgroups, 1 << 30, 0x10));
    FAILS("getcwd with a huge size into the last byte of a mapping", S(SYS_getcwd, buf + pg - 1, -1L));

    char *path = malloc((1 << 20) + 1);
    memset(path, 'a', 1 << 20);
    path[1 << 20] = 0;
    errno = 0;
    CHECK(S(SYS_openat, AT_FDCWD, path, O_RDONLY) == -1 && errno == ENAMETOOLONG, "openat 1 MiB path: %s", strerror(errno));
    OK("openat with a 1 MiB path fails with ENAMETOOLONG");
    for (int i = 0; i < (1 << 20); i += 2) path[i] = '/';
    errno = 0;
    CHECK(S(SYS_openat, AT_FDCWD, path, O_RDONLY) == -1, "openat a/a/a/...");
    OK("openat with 512K components fails with %s", strerror(errno));
    free(path);

    size_t n = 1000000;
    char **args = malloc((n + 1) * sizeof *args);
    for (size_t i = 0; i < n; i++) args[i] = "x";
    args[n] = NULL;
    errno = 0;
    CHECK(S(SYS_execve, "/bin/busybox", args, NULL) == -1 && errno == E2BIG, "execve 1e6 args: %s", strerror(errno));
    OK("execve with 1 million arguments fails with E2BIG");
    char *huge = malloc(64 << 20);
    memset(huge, 'y', 64 << 20);
    huge[(64 << 20) - 1] = 0;
    char *a2[] = {"busybox", huge, NULL};
    errno = 0;
    CHECK(S(SYS_execve, "/bin/busybox", a2, NULL) == -1 && errno == E2BIG, "execve 64 MiB arg: %s", strerror(errno));
    OK("execve with a 64 MiB argument fails with E2BIG");
    free(huge);

    CHECK(probe(probe_read_fn, (void *)data) == SIGSEGV && probe_code == 4, "kernel .data at the end");
    CHECK(getpid() > 0 && write(1, "", 0) == 0, "still working");
    printf("hostile_huge_arguments ok\n");
    return 0;
}
