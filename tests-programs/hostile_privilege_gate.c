/* Attack: ask ring 0 for what only the MPK gate's own code may ask (ARCHITECTURE.md §3,
 * the privilege gate). The gate forwards a call to ring 0 with a `syscall` whose rax is
 * the request 0x49534f554e494b01, made with the libOS rights held; ring 0 accepts it only
 * from that instruction with the libOS PKRU.
 * `hostile_privilege_gate REQUEST SLOW DATA` (REQUEST: the gate's `syscall`, SLOW: the
 * code that loads the request, DATA: the kernel's .data):
 * 1. the request from the program's own code (`syscall` with the application's rights),
 *    asking for getpid and for exit_group(77): refused with EPERM, nothing done;
 * 2. a jump to the gate's request instruction, and to the code before it, with the
 *    request in rax and a forged stack whose "return address" is a landing function that
 *    reads the kernel's .data: refused, the gate's next instruction (ud2) kills the child
 *    with SIGILL, the landing is never reached. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define PRIV_FORWARD 0x49534f554e494b01UL

static uint64_t data_addr;

static void __attribute__((noreturn, used)) landing(void) {
    volatile uint64_t v = *(volatile uint64_t *)data_addr;
    (void)v;
    _exit(42); /* reached with the kernel's data readable: a breach */
}

static long request(unsigned long number, unsigned long arg) {
    long r;
    register unsigned long rdx __asm__("rdx") = number;
    __asm__ volatile("syscall" : "=a"(r), "+r"(rdx) : "a"(PRIV_FORWARD), "D"(arg) : "rcx", "r11", "memory");
    return r;
}

static uint64_t forged[64] __attribute__((aligned(16)));

static int jump_with_request(uint64_t target) {
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        alarm(2);
        uint64_t *sp = &forged[32];
        sp[0] = 0;                  /* "saved rdx" */
        sp[1] = (uint64_t)landing;  /* "return address" */
        __asm__ volatile("mov %0, %%rsp\n"
                         "mov %1, %%rax\n"
                         "mov $39, %%edx\n"
                         "mov $39, %%r11d\n"
                         "jmp *%2\n"
                         :
                         : "r"(sp), "r"(PRIV_FORWARD), "r"(target)
                         : "memory");
        __builtin_unreachable();
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    return status;
}

int main(int argc, char **argv) {
    CHECK(argc == 4, "usage: %s REQUEST SLOW DATA", argv[0]);
    uint64_t req = hexarg(argv[1]), slow = hexarg(argv[2]);
    data_addr = hexarg(argv[3]);
    unsigned pkru = rdpkru();

    long r = request(SYS_getpid, 0);
    CHECK(r == -EPERM, "request(getpid) from application code returned %ld", r);
    r = request(SYS_exit_group, 77);
    CHECK(r == -EPERM, "request(exit_group) from application code returned %ld", r);
    OK("requests made with the application's rights are refused with EPERM (and not run)");

    for (int i = 0; i < 2; i++) {
        uint64_t target = i == 0 ? req : slow;
        int status = jump_with_request(target);
        CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 42),
              "jump to %#lx: the landing ran with the kernel's data readable", (unsigned long)target);
        CHECK(WIFSIGNALED(status) && (WTERMSIG(status) == SIGILL || WTERMSIG(status) == SIGSEGV),
              "jump to %#lx: status %#x", (unsigned long)target, status);
        OK("jump to the gate's %s with the request: refused, killed by %s", i == 0 ? "request" : "slow path",
           signal_name(WTERMSIG(status)));
    }
    CHECK(rdpkru() == pkru, "PKRU changed");
    printf("hostile_privilege_gate ok\n");
    return 0;
}
