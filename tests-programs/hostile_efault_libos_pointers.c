/* Attack: make the kernel read or write its own memory on the program's behalf (confused
 * deputy). `hostile_efault_libos_pointers DATA RODATA`: read/write/pread/readv/stat/fstat/
 * getcwd/clock_gettime/uname/gettimeofday/pipe/getrandom/sigaction/epoll/eventfd/... with kernel
 * addresses (image .data/.rodata, libOS heap and stack, direct map) as buffers: every call
 * returns -1 EFAULT; afterwards the kernel still works. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>

static long sc(long n, long a, long b, long c, long d) { return syscall(n, a, b, c, d); }

int main(int argc, char **argv) {
    CHECK(argc == 3, "usage: %s DATA RODATA", argv[0]);
    long addrs[] = {(long)hexarg(argv[1]), (long)hexarg(argv[2]), (long)0xffffc00000000000UL,
                    (long)0xffffc00000001000UL, (long)0xffff800000100000UL, (long)0xffffffff80000000UL};
    const char *names[] = {"kernel .data", "kernel .rodata", "libOS heap", "libOS heap+4K", "direct map",
                           "kernel image start"};
    int fd = open("/tmp/efault_src", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0, "open");
    char buf[256];
    memset(buf, 'x', sizeof buf);
    CHECK(write(fd, buf, sizeof buf) == sizeof buf, "write");
    int pfd[2];
    CHECK(pipe(pfd) == 0, "pipe");
    /* An epoll instance with a ready interest (the eventfd has a count). */
    int efd = eventfd(1, 0);
    int ep = epoll_create1(0);
    struct epoll_event ready = {.events = EPOLLIN};
    CHECK(efd >= 0 && ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ready) == 0, "epoll");
    int checks = 0;
    for (unsigned i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        long k = addrs[i];
#define EF(call)                                                                                    \
    do {                                                                                            \
        errno = 0;                                                                                  \
        long r_ = (call);                                                                           \
        CHECK(r_ == -1 && errno == EFAULT, "%s with %s (%#lx) returned %ld", #call, names[i],     \
              (unsigned long)k, r_);                                                               \
        checks++;                                                                                   \
    } while (0)
        lseek(fd, 0, SEEK_SET);
        EF(sc(SYS_read, fd, k, 16, 0));
        EF(sc(SYS_pread64, fd, k, 16, 0));
        EF(sc(SYS_write, 1, k, 16, 0));
        EF(sc(SYS_write, pfd[1], k, 16, 0));
        EF(sc(SYS_pwrite64, fd, k, 16, 0));
        struct iovec iov = {(void *)k, 16};
        EF(sc(SYS_readv, fd, (long)&iov, 1, 0));
        EF(sc(SYS_writev, 1, (long)&iov, 1, 0));
        EF(sc(SYS_readv, fd, k, 1, 0)); /* the iovec array itself */
        EF(sc(SYS_stat, k, (long)buf, 0, 0));
        EF(sc(SYS_stat, (long)"/", k, 0, 0));
        EF(sc(SYS_fstat, fd, k, 0, 0));
        EF(sc(SYS_newfstatat, AT_FDCWD, (long)"/tmp", k, 0));
        EF(sc(SYS_open, k, O_RDONLY, 0, 0));
        EF(sc(SYS_openat, AT_FDCWD, k, O_RDONLY, 0));
        EF(sc(SYS_getcwd, k, 256, 0, 0));
        EF(sc(SYS_clock_gettime, CLOCK_MONOTONIC, k, 0, 0));
        EF(sc(SYS_clock_gettime, CLOCK_REALTIME, k, 0, 0));
        EF(sc(SYS_gettimeofday, k, 0, 0, 0));
        EF(sc(SYS_uname, k, 0, 0, 0));
        EF(sc(SYS_pipe, k, 0, 0, 0));
        EF(sc(SYS_getrandom, k, 16, 0, 0));
        EF(sc(SYS_rt_sigaction, SIGUSR1, k, 0, 8));
        EF(sc(SYS_rt_sigaction, SIGUSR1, 0, k, 8));
        EF(sc(SYS_rt_sigprocmask, SIG_BLOCK, k, 0, 8));
        EF(sc(SYS_rt_sigprocmask, SIG_BLOCK, 0, k, 8));
        EF(sc(SYS_readlink, (long)"/proc/self/exe", k, 64, 0));
        EF(sc(SYS_getdents64, open("/", O_RDONLY | O_DIRECTORY), k, 256, 0));
        EF(sc(SYS_sysinfo, k, 0, 0, 0));
        EF(sc(SYS_getrlimit, RLIMIT_NOFILE, k, 0, 0));
        EF(sc(SYS_times, k, 0, 0, 0));
        EF(sc(SYS_nanosleep, k, 0, 0, 0));
        EF(sc(SYS_chdir, k, 0, 0, 0));
        EF(sc(SYS_mkdir, k, 0755, 0, 0));
        EF(sc(SYS_unlink, k, 0, 0, 0));
        EF(sc(SYS_execve, k, 0, 0, 0));
        char *argv2[] = {(char *)k, 0};
        EF(sc(SYS_execve, (long)"/bin/busybox", (long)argv2, 0, 0));
        EF(sc(SYS_execve, (long)"/bin/busybox", k, 0, 0));
        EF(sc(SYS_sigaltstack, k, 0, 0, 0));
        EF(sc(SYS_poll, k, 1, 0, 0));
        EF(sc(SYS_select, 1, k, 0, 0));
        EF(sc(SYS_futex, k, 0 /* FUTEX_WAIT */, 0, 0));
        EF(sc(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, pfd[0], k));
        EF(sc(SYS_epoll_wait, ep, k, 1, 0)); /* an interest is ready */
        EF(sc(SYS_read, efd, k, 8, 0));
        EF(sc(SYS_write, efd, k, 8, 0));
        EF(sc(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, k));
        OK("every call with %s (%#lx) as a buffer fails with EFAULT", names[i], (unsigned long)k);
    }
    /* Kernel still healthy: file contents unchanged, a pipe works. */
    char back[256];
    CHECK(pread(fd, back, sizeof back, 0) == sizeof back && memcmp(back, buf, sizeof back) == 0,
          "the file changed");
    CHECK(write(pfd[1], "hi", 2) == 2 && read(pfd[0], back, 2) == 2 && memcmp(back, "hi", 2) == 0, "pipe");
    OK("%d calls failed with EFAULT; the file and a pipe still work", checks);
    printf("hostile_efault_libos_pointers ok\n");
    return 0;
}
