/* Writes into its own code (main's first byte): the text is not writable, so SIGSEGV must
 * kill the process (exit status 139). */
#include "check.h"
#include <stdint.h>

int main(void) {
    unsigned char *volatile code = (unsigned char *)(uintptr_t)&main;
    printf("write_text: writing to main at %p; SIGSEGV must kill me\n", (void *)code);
    fflush(stdout);
    code[0] = 0xc3;
    printf("FAIL: the write to the program's code succeeded\n");
    return 1;
}
