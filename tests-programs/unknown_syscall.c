/* A system call number Linux does not have returns -1 with ENOSYS. */
#include "check.h"
#include <sys/syscall.h>

int main(void) {
    EXPECT_ERRNO(syscall(999), ENOSYS);
    EXPECT_ERRNO(syscall(100000), ENOSYS);
    printf("ENOSYS ok\n");
    return 0;
}
