/* Attack: ask ring 0 for what only the MPK gate's own code may ask (ARCHITECTURE.md §3,
 * the privilege gate). The gate forwards a call to ring 0 with a `syscall` whose rax is
 * the request 0x49534f554e494b01, or hands it a result to return with 0x49534f554e494b02,
 * made with the libOS rights held; ring 0 accepts each only from its own instruction with
 * the libOS PKRU.
 * `hostile_privilege_gate REQUEST SLOW DATA FINISH` (REQUEST: the gate's forwarding
 * `syscall`, SLOW: the code that loads the request, DATA: the kernel's .data, FINISH: the
 * gate's result-returning `syscall`):
 * 1. both requests from the program's own code (`syscall` with the application's rights),
 *    asking for getpid and for exit_group(77), or to return 42: refused with EPERM,
 *    nothing done;
 * 2. a jump to each request instruction, and to the code before the first, with the
 *    request in rax and a forged stack whose "return address" is a landing function that
 *    reads the kernel's .data: refused, the gate's next instruction (ud2) kills the child
 *    with SIGILL, the landing is never reached. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define PRIV_FORWARD 0x49534f554e494b01UL
#define PRIV_FINISH 0x49534f554e494b02UL

static uint64_t data_addr;

static void __attribute__((noreturn, used)) landing(void) {
    volatile uint64_t v = *(volatile uint64_t *)data_addr;
    (void)v;
    _exit(42); /* reached with the kernel's data readable: a breach */
}

static long request(unsigned long what, unsigned long number, unsigned long arg) {
    long r;
    register unsigned long rdx __asm__("rdx") = number;
    __asm__ volatile("syscall" : "=a"(r), "+r"(rdx) : "a"(what), "D"(arg) : "rcx", "r11", "memory");
    return r;
}

static uint64_t forged[64] __attribute__((aligned(16)));

static int jump_with_request(uint64_t target, uint64_t what) {
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
                         : "r"(sp), "r"(what), "r"(target)
                         : "memory");
        __builtin_unreachable();
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    return status;
}

int main(int argc, char **argv) {
    CHECK(argc == 5, "usage: %s REQUEST SLOW DATA FINISH", argv[0]);
    uint64_t req = hexarg(argv[1]), slow = hexarg(argv[2]), finish = hexarg(argv[4]);
    data_addr = hexarg(argv[3]);
    unsigned pkru = rdpkru();

    long r = request(PRIV_FORWARD, SYS_getpid, 0);
    CHECK(r == -EPERM, "request(getpid) from application code returned %ld", r);
    r = request(PRIV_FORWARD, SYS_exit_group, 77);
    CHECK(r == -EPERM, "request(exit_group) from application code returned %ld", r);
    r = request(PRIV_FINISH, 42, 0);
    CHECK(r == -EPERM, "request(return 42) from application code returned %ld", r);
    OK("requests made with the application's rights are refused with EPERM (and not run)");

    const char *names[] = {"request", "slow path", "result request"};
    for (int i = 0; i < 3; i++) {
        uint64_t target = i == 0 ? req : i == 1 ? slow : finish;
        int status = jump_with_request(target, i == 2 ? PRIV_FINISH : PRIV_FORWARD);
        CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 42),
              "jump to %#lx: the landing ran with the kernel's data readable", (unsigned long)target);
        CHECK(WIFSIGNALED(status) && (WTERMSIG(status) == SIGILL || WTERMSIG(status) == SIGSEGV),
              "jump to %#lx: status %#x", (unsigned long)target, status);
        OK("jump to the gate's %s: refused, killed by %s", names[i], signal_name(WTERMSIG(status)));
    }
    CHECK(rdpkru() == pkru, "PKRU changed");
    printf("hostile_privilege_gate ok\n");
    return 0;
}
