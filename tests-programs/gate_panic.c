/* For the `panic-in-gate` test kernel only: there, getrandom with flags 0x49534f55 panics
 * inside the kernel. The first call of the site traps (the panic would be ring 0's); the
 * second goes through the MPK gate, where the panic happens in ring 3 and must still be
 * reported and stop the machine. */
#include "check.h"
#include <sys/syscall.h>

int main(int argc, char **argv) {
    char buf[16];
    CHECK(syscall(SYS_getrandom, buf, sizeof buf, 0) == sizeof buf, "getrandom");
    printf("site used once\n");
    fflush(stdout);
    long flags = argc > 1 ? 0x49534f55L : 0;
    syscall(SYS_getrandom, buf, sizeof buf, flags);
    printf("no panic\n");
    return 0;
}
