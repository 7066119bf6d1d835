/* A system call number Linux does not have returns -1 with ENOSYS. Under the MPK gate the
 * first call rewrites musl's syscall() site; then 479 enters the trampoline on the last
 * hop's prefix byte, 500 on the sled before the first jump, 3000 on the sled before the
 * second, and 100000 past the trampoline page: all must still return ENOSYS. */
#include "check.h"
#include <sys/syscall.h>

int main(void) {
    EXPECT_ERRNO(syscall(999), ENOSYS);
    EXPECT_ERRNO(syscall(479), ENOSYS);
    EXPECT_ERRNO(syscall(500), ENOSYS);
    EXPECT_ERRNO(syscall(3000), ENOSYS);
    EXPECT_ERRNO(syscall(100000), ENOSYS);
    printf("ENOSYS ok\n");
    return 0;
}
