/* Attack: make WRPKRU executable at run time through mprotect. `hostile_wrpkru_mprotect DATA`
 * 1. WRPKRU + ret in an RW anonymous page, mprotect(PROT_READ|PROT_EXEC): EPERM;
 *    mprotect(PROT_EXEC) alone: EPERM;
 * 2. the bytes split across the boundary of a two-page region (0f | 01 ef): EPERM for the
 *    whole region and for the second page's neighbour change;
 * 3. a clean page (ret) becomes RX and runs; then it is made RW again, WRPKRU written, and
 *    mprotect(RX) again: EPERM (the page is scanned each time it becomes executable);
 * 4. had any of them been allowed, calling the gadget (eax=ecx=edx=0) would open PKRU: the
 *    program checks PKRU and the kernel's memory after each step. Uses syscall(2) so that
 *    libc adds nothing. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <sys/mman.h>
#include <sys/syscall.h>

static const unsigned char gadget[] = {0x31, 0xc0, 0x31, 0xc9, 0x31, 0xd2, 0x0f, 0x01, 0xef, 0xc3};
static uint64_t data_addr;

static long mprot(void *a, size_t len, int prot) { return syscall(SYS_mprotect, a, len, prot); }

static void still_isolated(const char *after) {
    probe_install();
    int sig = probe(probe_read_fn, (void *)data_addr);
    CHECK(sig == SIGSEGV, "after %s: the kernel's memory is readable", after);
}

int main(int argc, char **argv) {
    CHECK(argc == 2, "usage: %s DATA", argv[0]);
    data_addr = hexarg(argv[1]);
    unsigned pkru = rdpkru();
    long page = sysconf(_SC_PAGESIZE);

    unsigned char *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap");
    memcpy(p + 100, gadget, sizeof gadget);
    EXPECT_ERRNO(mprot(p, page, PROT_READ | PROT_EXEC), EPERM);
    EXPECT_ERRNO(mprot(p, page, PROT_EXEC), EPERM);
    /* Still writable, not executable. */
    p[0] = 0xc3;
    OK("the page stays writable after the refused mprotect");

    unsigned char *q = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(q != MAP_FAILED, "mmap");
    memset(q, 0xc3, 2 * page);
    q[page - 1] = 0x0f;
    q[page] = 0x01;
    q[page + 1] = 0xef;
    EXPECT_ERRNO(mprot(q, 2 * page, PROT_READ | PROT_EXEC), EPERM);
    /* One page at a time: the first page ends in 0f, the second starts 01 ef; once the first
     * is executable, making the second executable completes WRPKRU across the boundary. */
    long first = mprot(q, page, PROT_READ | PROT_EXEC);
    long second = mprot(q + page, page, PROT_READ | PROT_EXEC);
    CHECK(first != 0 || second != 0,
          "both halves of a split WRPKRU became executable one page at a time");
    OK("split across a page boundary: refused (whole region EPERM; page by page %ld/%ld)", first, second);
    still_isolated("split WRPKRU");

    unsigned char *r = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(r != MAP_FAILED, "mmap");
    memset(r, 0xcc, page);
    r[0] = 0x31; r[1] = 0xc0; r[2] = 0xc3; /* xor eax,eax; ret */
    CHECK(mprot(r, page, PROT_READ | PROT_EXEC) == 0, "mprotect a clean page RX");
    int (*fn)(void) = (int (*)(void))r;
    CHECK(fn() == 0, "call the clean page");
    OK("a clean page becomes executable and runs");
    CHECK(mprot(r, page, PROT_READ | PROT_WRITE) == 0, "back to RW");
    memcpy(r, gadget, sizeof gadget);
    EXPECT_ERRNO(mprot(r, page, PROT_READ | PROT_EXEC), EPERM);
    EXPECT_ERRNO(mprot(r, page, PROT_READ | PROT_WRITE | PROT_EXEC), EPERM);

    CHECK(rdpkru() == pkru, "PKRU changed");
    still_isolated("all");
    OK("PKRU unchanged and the kernel's memory unreadable");
    printf("hostile_wrpkru_mprotect ok\n");
    return 0;
}
