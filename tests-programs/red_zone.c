/* red_zone: a leaf function keeps data in the 128 bytes below its stack pointer (the red
 * zone, which the x86-64 ABI gives it) across an inline `syscall`, as glibc's
 * __longjmp_chk does with sigaltstack's answer. The data must survive 1000 calls. In gate
 * mode a rewritten site's `call *%rax` would overwrite 16 bytes of it (the return address
 * and the gate's saved rdx): the kernel sees the `[rsp - n]` operands near the site and
 * leaves it to trap. */
#include "check.h"
#include <sys/syscall.h>

static long __attribute__((noinline)) kept_across_syscall(long a, long b, long *ppid) {
    long sum, r;
    __asm__ volatile("mov %[a], -0x8(%%rsp)\n\t"
                     "mov %[b], -0x10(%%rsp)\n\t"
                     "mov %[nr], %%eax\n\t"
                     "syscall\n\t"
                     "mov %%rax, %[r]\n\t"
                     "mov -0x8(%%rsp), %[sum]\n\t"
                     "add -0x10(%%rsp), %[sum]\n\t"
                     : [sum] "=&r"(sum), [r] "=&r"(r)
                     : [a] "r"(a), [b] "r"(b), [nr] "i"(SYS_getppid)
                     : "rax", "rcx", "r11", "memory");
    *ppid = r;
    return sum;
}

int main(void) {
    long parent = getppid();
    for (long i = 0; i < 1000; i++) {
        long ppid = -1;
        long sum = kept_across_syscall(i, 1000000 + 2 * i, &ppid);
        CHECK(sum == 1000000 + 3 * i, "call %ld: the red zone changed (sum %ld)", i, sum);
        CHECK(ppid == parent, "call %ld: getppid gave %ld", i, ppid);
    }
    OK("data below the stack pointer survived 1000 inline system calls");
    printf("red_zone ok\n");
    return 0;
}
