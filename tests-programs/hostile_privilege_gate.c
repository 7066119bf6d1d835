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
 *    with SIGILL, the landing is never reached.
 * `... SERVICE_REQUEST SERVICE` (the `syscall` of the services the privilege gate gives
 * the libOS code behind the gate, and the function around it):
 * 3. each service (run the deferred wake-ups, block, grow the libOS heap, report a crash,
 *    yield, make a file page from a physical page) asked from the
 *    program's own code: EPERM, nothing done (a blocked sibling stays blocked, the call
 *    returns at once);
 * 4. a call of the service function and a jump to its `syscall` with each request: EPERM,
 *    and its `ret` goes back with the application's rights: the landing's read of the
 *    kernel's data faults (SIGSEGV), and a plain caller just gets EPERM. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#define PRIV_FORWARD 0x49534f554e494b01UL
#define PRIV_FINISH 0x49534f554e494b02UL
#define PRIV_FLUSH 0x49534f554e494b03UL
#define PRIV_BLOCK 0x49534f554e494b04UL
#define PRIV_GROW_HEAP 0x49534f554e494b05UL
#define PRIV_CRASH 0x49534f554e494b06UL
#define PRIV_YIELD 0x49534f554e494b07UL
#define PRIV_FILE_PAGE 0x49534f554e494b08UL

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

/* Jumps to `target` with `what` in rax on a forged stack: [rsp] = "saved rdx", then the
 * "return address" (the landing); with `ret_first`, [rsp] = the landing (for code that
 * only returns). */
static int jump_with_request(uint64_t target, uint64_t what, int ret_first) {
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        alarm(2);
        forged[32] = 0;                  /* "saved rdx" */
        forged[33] = (uint64_t)landing;  /* "return address" */
        uint64_t *sp = &forged[ret_first ? 33 : 32];
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

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
    CHECK(argc == 7, "usage: %s REQUEST SLOW DATA FINISH SERVICE_REQUEST SERVICE", argv[0]);
    uint64_t req = hexarg(argv[1]), slow = hexarg(argv[2]), finish = hexarg(argv[4]);
    uint64_t service_req = hexarg(argv[5]), service = hexarg(argv[6]);
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
        int status = jump_with_request(target, i == 2 ? PRIV_FINISH : PRIV_FORWARD, 0);
        CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 42),
              "jump to %#lx: the landing ran with the kernel's data readable", (unsigned long)target);
        CHECK(WIFSIGNALED(status) && (WTERMSIG(status) == SIGILL || WTERMSIG(status) == SIGSEGV),
              "jump to %#lx: status %#x", (unsigned long)target, status);
        OK("jump to the gate's %s: refused, killed by %s", names[i], signal_name(WTERMSIG(status)));
    }

    /* 3. The services, asked by the program itself. A child blocked on a pipe must stay
     * blocked when the program asks ring 0 to wake it. */
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    fflush(stdout);
    pid_t sleeper = fork();
    CHECK(sleeper >= 0, "fork");
    if (sleeper == 0) {
        char c;
        ssize_t n = read(p[0], &c, 1);
        _exit(n == 1 && c == 'x' ? 0 : 1);
    }
    struct timespec pause_ts = {0, 100 * 1000 * 1000};
    nanosleep(&pause_ts, NULL);
    r = request(PRIV_FLUSH, (unsigned long)sleeper, 0);
    CHECK(r == -EPERM, "request(flush) from application code returned %ld", r);
    long long t0 = now_ms();
    r = request(PRIV_BLOCK, ~0UL, 0);
    CHECK(r == -EPERM, "request(block) from application code returned %ld", r);
    r = request(PRIV_GROW_HEAP, 1UL << 30, 0);
    CHECK(r == -EPERM, "request(grow heap) from application code returned %ld", r);
    r = request(PRIV_CRASH, 0, 0);
    CHECK(r == -EPERM, "request(crash) from application code returned %ld", r);
    r = request(PRIV_YIELD, 0, 0);
    CHECK(r == -EPERM, "request(yield) from application code returned %ld", r);
    /* A copy of physical page 0x100000 (the kernel image) as a "file page": refused. */
    r = request(PRIV_FILE_PAGE, 0x100000UL, 0);
    CHECK(r == -EPERM, "request(file page, copy) from application code returned %ld", r);
    r = request(PRIV_FILE_PAGE, ~0UL, 0);
    CHECK(r == -EPERM, "request(file page) from application code returned %ld", r);
    CHECK(now_ms() - t0 < 1000, "request(block) blocked the program");
    int status;
    CHECK(waitpid(sleeper, &status, WNOHANG) == 0, "the blocked child woke up");
    CHECK(write(p[1], "x", 1) == 1, "write");
    CHECK(waitpid(sleeper, &status, 0) == sleeper && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "sleeper status %#x", status);
    OK("services asked with the application's rights (flush, block, grow heap, crash, yield, "
       "file page): EPERM, nothing done");

    /* 4. Through the service code itself. */
    long (*service_fn)(unsigned long, unsigned long) = (long (*)(unsigned long, unsigned long))service;
    const unsigned long services[] = {PRIV_FLUSH, PRIV_BLOCK,      PRIV_GROW_HEAP,
                                      PRIV_CRASH, PRIV_YIELD,      PRIV_FILE_PAGE};
    const unsigned long arguments[] = {(unsigned long)getpid(), (unsigned long)getpid(), 1UL << 30,
                                       0, 0, 0x100000UL};
    for (int i = 0; i < 6; i++) {
        r = service_fn(services[i], arguments[i]);
        CHECK(r == -EPERM, "service function (request %d) returned %ld", i, r);
    }
    OK("calling the service function: EPERM for every request, with the program's rights");
    for (int i = 0; i < 6; i++) {
        int status = jump_with_request(service_req, services[i], 1);
        CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 42),
              "jump to the service request: the landing ran with the kernel's data readable");
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
              "jump to the service request %d: status %#x", i, status);
    }
    OK("jump to the service request with each request: refused, back with the program's rights (SIGSEGV at the landing)");
    CHECK(rdpkru() == pkru, "PKRU changed");
    printf("hostile_privilege_gate ok\n");
    return 0;
}
