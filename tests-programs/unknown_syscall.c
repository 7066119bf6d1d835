/* A system call number Linux does not have returns -1 with ENOSYS. Under the MPK gate the
 * first call rewrites musl's syscall() site; 500 then lands on the trampoline's int3
 * padding and 100000 past the trampoline page, and both must still return ENOSYS. */
#include "check.h"
#include <sys/syscall.h>

int main(void) {
    EXPECT_ERRNO(syscall(999), ENOSYS);
    EXPECT_ERRNO(syscall(500), ENOSYS);
    EXPECT_ERRNO(syscall(100000), ENOSYS);
    printf("ENOSYS ok\n");
    return 0;
}
