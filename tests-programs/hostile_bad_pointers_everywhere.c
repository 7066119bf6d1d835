/* Attack: bad pointers in every pointer argument of ~40 system calls: NULL, a kernel
 * address (DATA, the image's .data), the libOS heap, a non-canonical address, an unmapped
 * user address, and a pointer to the last bytes of a mapping followed by a hole. Each call
 * returns an error or succeeds harmlessly; a kernel or non-canonical address as a buffer the
 * call must use never gives success; the kernel never crashes. `hostile_bad_pointers_everywhere DATA` */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

#define P -1000 /* this argument is the pointer under test */
struct call { const char *name; long nr; long a[6]; int must_fail; };

int main(int argc, char **argv) {
    CHECK(argc == 2, "usage: %s DATA", argv[0]);
    char *edge = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(edge != MAP_FAILED && munmap(edge + 4096, 4096) == 0, "edge mapping");
    memset(edge, 'a', 4096);
    long bad[] = {0, (long)hexarg(argv[1]), (long)0xffffc00000000000UL, (long)0x8000000000000000UL,
                  (long)0x0000100000000000UL, (long)(edge + 4090)};
    const char *bad_names[] = {"NULL", "kernel .data", "libOS heap", "non-canonical", "unmapped", "mapping edge"};
    int fd = open("/tmp/bp", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, "0123456789abcdef0123456789abcdef", 32) == 32, "file");
    int pfd[2];
    CHECK(pipe(pfd) == 0, "pipe");
    struct call calls[] = {
        {"read", SYS_read, {fd, P, 32}, 1}, {"write", SYS_write, {pfd[1], P, 32}, 1},
        {"pread64", SYS_pread64, {fd, P, 32, 0}, 1}, {"pwrite64", SYS_pwrite64, {fd, P, 32, 0}, 1},
        {"readv", SYS_readv, {fd, P, 2}, 1}, {"writev", SYS_writev, {pfd[1], P, 2}, 1},
        {"open", SYS_open, {P, O_RDONLY}, 1}, {"openat", SYS_openat, {AT_FDCWD, P, O_RDONLY}, 1},
        {"stat path", SYS_stat, {P, (long)edge}, 1}, {"stat buf", SYS_stat, {(long)"/", P}, 1},
        {"lstat", SYS_lstat, {(long)"/", P}, 1}, {"fstat", SYS_fstat, {fd, P}, 1},
        {"newfstatat", SYS_newfstatat, {AT_FDCWD, (long)"/", P, 0}, 1},
        {"statx", SYS_statx, {AT_FDCWD, (long)"/", 0, 0xfff, P}, 1},
        {"access", SYS_access, {P, 0}, 1}, {"faccessat", SYS_faccessat, {AT_FDCWD, P, 0}, 1},
        {"readlink path", SYS_readlink, {P, (long)edge, 64}, 1},
        {"readlink buf", SYS_readlink, {(long)"/proc/self/exe", P, 64}, 1},
        {"getcwd", SYS_getcwd, {P, 4096}, 1}, {"chdir", SYS_chdir, {P}, 1},
        {"mkdir", SYS_mkdir, {P, 0755}, 1}, {"rmdir", SYS_rmdir, {P}, 1}, {"unlink", SYS_unlink, {P}, 1},
        {"rename", SYS_rename, {P, (long)"/tmp/x"}, 1}, {"symlink", SYS_symlink, {P, (long)"/tmp/l"}, 1},
        {"link", SYS_link, {(long)"/tmp/bp", P}, 1}, {"chmod", SYS_chmod, {P, 0644}, 1},
        {"truncate", SYS_truncate, {P, 0}, 1}, {"utimensat", SYS_utimensat, {AT_FDCWD, (long)"/tmp/bp", P, 0}, 0},
        {"getdents64", SYS_getdents64, {-2, P, 4096}, 0}, {"pipe", SYS_pipe, {P}, 1},
        {"pipe2", SYS_pipe2, {P, 0}, 1}, {"uname", SYS_uname, {P}, 1},
        {"clock_gettime", SYS_clock_gettime, {CLOCK_REALTIME, P}, 1},
        {"clock_getres", SYS_clock_getres, {CLOCK_REALTIME, P}, 0},
        {"gettimeofday", SYS_gettimeofday, {P, 0}, 0}, {"time", SYS_time, {P}, 0},
        {"nanosleep", SYS_nanosleep, {P, 0}, 1}, {"getrandom", SYS_getrandom, {P, 16, 0}, 1},
        {"rt_sigaction new", SYS_rt_sigaction, {SIGUSR1, P, 0, 8}, 0},
        {"rt_sigaction old", SYS_rt_sigaction, {SIGUSR1, 0, P, 8}, 0},
        {"rt_sigprocmask", SYS_rt_sigprocmask, {SIG_BLOCK, P, 0, 8}, 0},
        {"rt_sigpending", SYS_rt_sigpending, {P, 8}, 1}, {"sigaltstack", SYS_sigaltstack, {P, 0}, 0},
        {"sysinfo", SYS_sysinfo, {P}, 1}, {"getrlimit", SYS_getrlimit, {7, P}, 1},
        {"prlimit64", SYS_prlimit64, {0, 7, P, 0}, 0}, {"getrusage", SYS_getrusage, {0, P}, 1},
        {"times", SYS_times, {P}, 0}, {"wait4", SYS_wait4, {-1, P, 1 /* WNOHANG */, 0}, 0},
        {"poll", SYS_poll, {P, 1, 0}, 1}, {"select", SYS_select, {1, P, 0, 0, (long)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"}, 0},
        {"ppoll", SYS_ppoll, {P, 1, (long)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 0, 8}, 1},
        {"futex wake", SYS_futex, {P, 1, 1}, 0}, {"set_robust_list", SYS_set_robust_list, {P, 24}, 0},
        {"set_tid_address", SYS_set_tid_address, {P}, 0}, 
        {"arch_prctl GET_FS", SYS_arch_prctl, {0x1003, P}, 1},
        {"execve path", SYS_execve, {P, 0, 0}, 1}, {"execve argv", SYS_execve, {(long)"/bin/busybox", P, 0}, 0},
        {"sched_getaffinity", SYS_sched_getaffinity, {0, 128, P}, 1},
        {"getgroups", SYS_getgroups, {64, P}, 0}, {"ioctl TCGETS", SYS_ioctl, {1, 0x5401, P}, 0},
        {"ioctl TIOCGWINSZ", SYS_ioctl, {0, 0x5413, P}, 0},
        {"socketpair", SYS_socketpair, {1, 1, 0, P}, 0}, {"mincore", SYS_mincore, {(long)edge, 4096, P}, 0},
        {"sendfile offset", SYS_sendfile, {pfd[1], fd, P, 8}, 0},
        {"copy_file_range", SYS_copy_file_range, {fd, P, fd, 0, 8, 0}, 0},
    };
    int n = sizeof calls / sizeof calls[0], bad_count = 0, errors = 0, oks = 0;
    for (unsigned b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        for (int i = 0; i < n; i++) {
            long a[6];
            for (int j = 0; j < 6; j++) a[j] = calls[i].a[j] == P ? bad[b] : calls[i].a[j];
            if (calls[i].nr == SYS_set_tid_address && b == 0) continue;
            /* execve(path, NULL, ...) is valid (argc 0): it would replace this program. */
            if (calls[i].nr == SYS_execve && calls[i].a[1] == P && b == 0) continue;
            lseek(fd, 0, SEEK_SET); /* so that reads have data to copy */
            errno = 0;
            long r = syscall(calls[i].nr, a[0], a[1], a[2], a[3], a[4], a[5]);
            int e = errno;
            if (r < 0) errors++; else oks++;
            int kernelish = b == 1 || b == 2 || b == 3;
            if (calls[i].must_fail && kernelish && r >= 0) {
                printf("FAIL-CASE %s with %s (%#lx) returned %ld\n", calls[i].name, bad_names[b],
                       (unsigned long)bad[b], r);
                bad_count++;
            } else if (kernelish && r < 0 && e != EFAULT) {
                printf("note: %s with %s: %s\n", calls[i].name, bad_names[b], strerror(e));
            }
        }
        OK("%d calls with %s pointers: no crash", n, bad_names[b]);
    }
    CHECK(bad_count == 0, "%d calls accepted a kernel or non-canonical buffer", bad_count);
    printf("%d calls failed, %d succeeded harmlessly\n", errors, oks);
    printf("hostile_bad_pointers_everywhere ok\n");
    return 0;
}
