/* Reads address 0: SIGSEGV must kill the process (exit status 139). The pointer comes from
 * a volatile variable, so the compiler cannot turn the read into a trap instruction. */
#include "check.h"

static int *volatile target = 0;

int main(void) {
    printf("null_deref: reading address 0; SIGSEGV must kill me\n");
    fflush(stdout);
    int value = *target;
    printf("FAIL: read %d from address 0\n", value);
    return 1;
}
