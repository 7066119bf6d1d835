/* mprotect: a page made read-only, PROT_NONE and writable again keeps its contents.
 * `mprotect segv` then writes to the read-only page, which must kill the process with
 * SIGSEGV (exit status 139). */
#include "check.h"
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define PAGE 4096

int main(int argc, char **argv) {
    int segv = argc > 1 && !strcmp(argv[1], "segv");
    volatile unsigned char *page =
        mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(page != MAP_FAILED, "mmap");
    page[0] = 1;
    page[PAGE] = 2;
    CHECK(mprotect((void *)page, PAGE, PROT_READ) == 0, "mprotect(PROT_READ)");
    CHECK(page[0] == 1, "read of the read-only page");
    page[PAGE] = 3;
    CHECK(page[PAGE] == 3, "the next page stays writable");
    OK("mprotect(PROT_READ) on one page of two");
    if (segv) {
        printf("mprotect: writing to the read-only page; SIGSEGV must kill me\n");
        fflush(stdout);
        page[0] = 2;
        printf("FAIL: the write to a read-only page succeeded\n");
        return 1;
    }
    CHECK(mprotect((void *)page, PAGE, PROT_NONE) == 0, "mprotect(PROT_NONE)");
    CHECK(mprotect((void *)page, PAGE, PROT_READ | PROT_WRITE) == 0, "mprotect(RW)");
    CHECK(page[0] == 1, "contents kept through PROT_NONE");
    page[0] = 4;
    CHECK(page[0] == 4, "writable again");
    OK("PROT_NONE and back keeps the contents");
    /* Raw: musl's mprotect wrapper rounds the start down to a page. */
    EXPECT_ERRNO(syscall(SYS_mprotect, page + 1, PAGE, PROT_READ), EINVAL);
    EXPECT_ERRNO(mprotect((void *)page, PAGE, 0x1000), EINVAL);
    CHECK(munmap((void *)page, 2 * PAGE) == 0, "munmap");
    EXPECT_ERRNO(mprotect((void *)page, PAGE, PROT_READ), ENOMEM);
    printf("mprotect: all checks passed\n");
    return 0;
}
