/* Not an attack: the WRPKRU bytes only in read-only data (a non-executable segment). The
 * program must run: only executable mappings are scanned. */
#include "check.h"

static const volatile unsigned char bytes[] = {0x0f, 0x01, 0xef, 0xc3};

int main(void) {
    CHECK(bytes[0] == 0x0f && bytes[2] == 0xef, "bytes");
    OK("a program with the WRPKRU bytes in read-only data runs");
    printf("hostile_wrpkru_in_rodata ok\n");
    return 0;
}
