/* Attack: a program whose code contains WRPKRU (0f 01 ef), never executed. The loader must
 * refuse it: execve fails (isounik exit status 126, a message naming WRPKRU). If it runs, it
 * says so. */
#include "check.h"

__attribute__((used, noinline)) static void never_called(void) {
    __asm__ volatile(".byte 0x0f, 0x01, 0xef");
}

int main(void) {
    printf("FAIL: a program with WRPKRU in its code was executed\n");
    return 1;
}
