/* Attack: writable and executable memory (W^X). mmap(RWX) anonymous fails (EPERM or
 * EACCES); mprotect of an RW page to RWX fails with EPERM; an RX page cannot be made RWX;
 * mmap(PROT_WRITE|PROT_EXEC) fails; brk memory cannot become executable and writable. */
#include "check.h"
#include <sys/mman.h>
#include <stdint.h>
#include <sys/syscall.h>

int main(void) {
    long page = sysconf(_SC_PAGESIZE);
    errno = 0;
    void *m = (void *)syscall(SYS_mmap, NULL, page, PROT_READ | PROT_WRITE | PROT_EXEC,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m == MAP_FAILED && (errno == EPERM || errno == EACCES), "mmap RWX returned %p", m);
    OK("mmap(PROT_READ|PROT_WRITE|PROT_EXEC) fails (%s)", errno == EPERM ? "EPERM" : "EACCES");
    errno = 0;
    m = (void *)syscall(SYS_mmap, NULL, page, PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m == MAP_FAILED && (errno == EPERM || errno == EACCES), "mmap WX returned %p", m);
    OK("mmap(PROT_WRITE|PROT_EXEC) fails");
    errno = 0;
    m = (void *)syscall(SYS_mmap, NULL, page, PROT_READ | PROT_WRITE | PROT_EXEC,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(m == MAP_FAILED, "mmap RWX MAP_FIXED at 0 returned %p", m);
    OK("mmap(RWX, MAP_FIXED) fails");

    unsigned char *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap RW");
    p[0] = 0xc3;
    EXPECT_ERRNO(syscall(SYS_mprotect, p, page, PROT_READ | PROT_WRITE | PROT_EXEC), EPERM);
    EXPECT_ERRNO(syscall(SYS_mprotect, p, page, PROT_WRITE | PROT_EXEC), EPERM);
    CHECK(syscall(SYS_mprotect, p, page, PROT_READ | PROT_EXEC) == 0, "RW -> RX (clean)");
    EXPECT_ERRNO(syscall(SYS_mprotect, p, page, PROT_READ | PROT_WRITE | PROT_EXEC), EPERM);
    CHECK(((int (*)(void))p)() || 1, "call");
    OK("the RX page still runs");

    /* The program's own text cannot become writable and executable. */
    uintptr_t text = (uintptr_t)main & ~(uintptr_t)(page - 1);
    EXPECT_ERRNO(syscall(SYS_mprotect, text, page, PROT_READ | PROT_WRITE | PROT_EXEC), EPERM);
    /* The heap (brk). */
    uintptr_t brk = (uintptr_t)syscall(SYS_brk, 0);
    uintptr_t nbrk = (uintptr_t)syscall(SYS_brk, brk + 2 * page);
    CHECK(nbrk >= brk + 2 * page, "brk grows");
    uintptr_t heap = (brk + page - 1) & ~(uintptr_t)(page - 1);
    EXPECT_ERRNO(syscall(SYS_mprotect, heap, page, PROT_READ | PROT_WRITE | PROT_EXEC), EPERM);
    /* The stack. */
    char local[64];
    uintptr_t stack = (uintptr_t)local & ~(uintptr_t)(page - 1);
    EXPECT_ERRNO(syscall(SYS_mprotect, stack, page, PROT_READ | PROT_WRITE | PROT_EXEC), EPERM);
    local[0] = 1;
    printf("hostile_wx_mapping ok\n");
    return local[0] - 1;
}
