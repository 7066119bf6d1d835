/* For the `panic-in-gate` test kernel only: there, getrandom with flags 0x49534f55 panics
 * inside the kernel. The first calls of the site trap (the panic would be ring 0's; gate
 * mode rewrites a site whose page must be copied at its fourth trap); later ones go
 * through the MPK gate, where the panic happens in ring 3 and must still be reported and
 * stop the machine. */
#include "check.h"
#include <sys/syscall.h>

int main(int argc, char **argv) {
    char buf[16];
    for (int i = 0; i < 8; i++)
        CHECK(syscall(SYS_getrandom, buf, sizeof buf, 0) == sizeof buf, "getrandom");
    printf("site used 8 times\n");
    fflush(stdout);
    long flags = argc > 1 ? 0x49534f55L : 0;
    syscall(SYS_getrandom, buf, sizeof buf, flags);
    printf("no panic\n");
    return 0;
}
