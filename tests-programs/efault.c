/* System calls given bad pointers must fail with EFAULT, never crash the kernel or use the
 * kernel's own memory on the program's behalf: a kernel address (0xffffffff80000000, where
 * the kernel image is) and an unmapped user address (1). */
#include "check.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>

/* Volatile, so the compiler neither warns about nor folds the bad pointers. */
static void *volatile kernel_address = (void *)0xffffffff80000000UL;
static void *volatile unmapped_address = (void *)1;
#define KERNEL kernel_address
#define UNMAPPED unmapped_address

int main(void) {
    EXPECT_ERRNO(write(1, KERNEL, 10), EFAULT);
    EXPECT_ERRNO(write(1, UNMAPPED, 10), EFAULT);
    char path[] = "/tmp/efault.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    CHECK(write(fd, "0123456789abcdef", 16) == 16 && lseek(fd, 0, SEEK_SET) == 0, "file");
    EXPECT_ERRNO(read(fd, UNMAPPED, 10), EFAULT);
    EXPECT_ERRNO(read(fd, KERNEL, 10), EFAULT);
    EXPECT_ERRNO(pread(fd, KERNEL, 10, 0), EFAULT);
    close(fd);
    unlink(path);
    EXPECT_ERRNO(open((const char *)UNMAPPED, O_RDONLY), EFAULT);
    EXPECT_ERRNO(open((const char *)KERNEL, O_RDONLY), EFAULT);
    /* Raw system calls where libc would touch the pointer itself (musl's stat converts
     * from a kernel struct in user space). */
    EXPECT_ERRNO(syscall(SYS_newfstatat, AT_FDCWD, "/", UNMAPPED, 0), EFAULT);
    EXPECT_ERRNO(syscall(SYS_newfstatat, AT_FDCWD, UNMAPPED, KERNEL, 0), EFAULT);
    EXPECT_ERRNO(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, KERNEL), EFAULT);
    EXPECT_ERRNO(getrandom(KERNEL, 16, 0), EFAULT);
    printf("EFAULT ok\n");
    return 0;
}
