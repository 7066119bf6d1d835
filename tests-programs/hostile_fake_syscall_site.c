/* Attack: make a system call site out of the middle of an instruction, so that gate mode's
 * rewrite of the site (`0f 05` -> `ff d0`) changes code that other processes run. The
 * function `immediate` is `mov $0x1234050f, %eax; ret`: its immediate holds the bytes of a
 * `syscall`. The program calls `immediate + 1` with a system call number in eax 100
 * times, so the CPU executes those bytes as `syscall` (in gate mode the kernel rewrites
 * them at the first trap). Expected: its forked child (which shared the code page
 * copy-on-write when the site was rewritten) and a fresh run of the same program
 * (`execve` of /proc/self/exe) still get 0x1234050f from `immediate`: a rewrite stays in
 * the process that made it. The attacker's own copy may change (its own code). */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <sys/syscall.h>
#include <sys/wait.h>

extern unsigned immediate(void);
__asm__(".text\n"
        ".globl immediate\n"
        ".type immediate, @function\n"
        "immediate:\n"
        "  mov $0x1234050f, %eax\n" /* b8 0f 05 34 12 */
        "  ret\n");

/* Enters `immediate` at its second byte: `syscall` (number `nr`), `xor $0x12, %al`, `ret`. */
static long through_the_immediate(long nr) {
    long ret;
    __asm__ volatile("call *%[site]"
                     : "=a"(ret)
                     : "a"(nr), [site] "r"((char *)immediate + 1)
                     : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
    return ret;
}

static int immediate_intact(void) { return immediate() == 0x1234050f ? 0 : 3; }

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "fresh") == 0) {
        CHECK(immediate() == 0x1234050f, "a fresh run sees %#x", immediate());
        return 0;
    }
    CHECK(immediate() == 0x1234050f, "immediate() is %#x before the attack", immediate());
    int held[2];
    pid_t child = fork_held(held, immediate_intact);
    pid_t me = getpid();
    for (int i = 0; i < 100; i++) {
        long got = through_the_immediate(SYS_getpid);
        CHECK(got == (me ^ 0x12), "the fake site's getpid gave %ld", got);
    }
    OK("100 system calls made from the middle of `mov $0x1234050f, %%eax`");
    release_held(held);
    int status;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status), "waitpid");
    CHECK(WEXITSTATUS(status) == 0, "the forked child's code changed (status %d)",
          WEXITSTATUS(status));
    OK("the forked child still runs the instruction as it was");
    status = run_self_again(argv[0], "fresh");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "a fresh run of the program saw changed code (status %#x)", status);
    OK("a fresh run of the program sees its code as in the file");
    printf("hostile_fake_syscall_site ok\n");
    return 0;
}
