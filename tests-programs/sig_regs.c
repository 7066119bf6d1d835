/* A signal handler that clobbers every register a C function may clobber (all caller-saved
 * general registers and XMM0-15, in assembly) returns through rt_sigreturn and leaves the
 * interrupted code's registers intact:
 *  - asynchronously: an assembly loop holds patterns in all general registers (but rsp and
 *    its loop counter rcx) and XMM0-15 while ITIMER_REAL delivers SIGALRM 20 times;
 *  - synchronously: an assembly block holds patterns, calls kill(getpid(), SIGUSR1) with
 *    `syscall` (which itself may change only rax, rcx and r11; rdi and rsi carry its
 *    arguments) and checks the rest. */
#include "check.h"
#include <signal.h>
#include <sys/time.h>

volatile int signals;
int target;
int self_pid;
unsigned long gpr_out[16];
unsigned char xmm_out[16][16];

/* Patterns: gpr i holds 0x1111111111111111 * (i + 1) (xor'ed for rbp),
 * xmm i holds bytes 0xA0 + i. */
__asm__(
    ".text\n"
    ".globl clobber_all\n"
    "clobber_all:\n"
    "  movabs $0xdeadbeefdeadbeef, %rax\n"
    "  mov %rax, %rcx\n  mov %rax, %rdx\n  mov %rax, %rsi\n  mov %rax, %rdi\n"
    "  mov %rax, %r8\n  mov %rax, %r9\n  mov %rax, %r10\n  mov %rax, %r11\n"
    "  movq %rax, %xmm0\n  pshufd $0, %xmm0, %xmm0\n"
    "  movdqa %xmm0, %xmm1\n  movdqa %xmm0, %xmm2\n  movdqa %xmm0, %xmm3\n"
    "  movdqa %xmm0, %xmm4\n  movdqa %xmm0, %xmm5\n  movdqa %xmm0, %xmm6\n"
    "  movdqa %xmm0, %xmm7\n  movdqa %xmm0, %xmm8\n  movdqa %xmm0, %xmm9\n"
    "  movdqa %xmm0, %xmm10\n  movdqa %xmm0, %xmm11\n  movdqa %xmm0, %xmm12\n"
    "  movdqa %xmm0, %xmm13\n  movdqa %xmm0, %xmm14\n  movdqa %xmm0, %xmm15\n"
    "  ret\n"

    /* Loads the patterns (rcx excluded). */
    ".macro LOAD_PATTERNS\n"
    "  movabs $0x1111111111111111, %rax\n"
    "  movabs $0x3333333333333333, %rdx\n"
    "  movabs $0x4444444444444444, %rbx\n"
    "  movabs $0x5555555555555555, %rsi\n"
    "  movabs $0x6666666666666666, %rdi\n"
    "  movabs $0x7777777777777777, %rbp\n"
    "  movabs $0x8888888888888888, %r8\n"
    "  movabs $0x9999999999999999, %r9\n"
    "  movabs $0xaaaaaaaaaaaaaaaa, %r10\n"
    "  movabs $0xbbbbbbbbbbbbbbbb, %r11\n"
    "  movabs $0xcccccccccccccccc, %r12\n"
    "  movabs $0xdddddddddddddddd, %r13\n"
    "  movabs $0xeeeeeeeeeeeeeeee, %r14\n"
    "  movabs $0x0f0f0f0f0f0f0f0f, %r15\n"
    "  .irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "    movabs $(0x0101010101010101 * (0xa0 + \\n)), %rcx\n"
    "    movq %rcx, %xmm\\n\n"
    "    pshufd $0x44, %xmm\\n, %xmm\\n\n"
    "  .endr\n"
    ".endm\n"

    ".macro STORE_ALL\n"
    "  mov %rax, gpr_out+0(%rip)\n  mov %rcx, gpr_out+8(%rip)\n"
    "  mov %rdx, gpr_out+16(%rip)\n  mov %rbx, gpr_out+24(%rip)\n"
    "  mov %rsi, gpr_out+32(%rip)\n  mov %rdi, gpr_out+40(%rip)\n"
    "  mov %rbp, gpr_out+48(%rip)\n  mov %r8, gpr_out+56(%rip)\n"
    "  mov %r9, gpr_out+64(%rip)\n  mov %r10, gpr_out+72(%rip)\n"
    "  mov %r11, gpr_out+80(%rip)\n  mov %r12, gpr_out+88(%rip)\n"
    "  mov %r13, gpr_out+96(%rip)\n  mov %r14, gpr_out+104(%rip)\n"
    "  mov %r15, gpr_out+112(%rip)\n"
    "  .irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "    movdqu %xmm\\n, xmm_out+16*\\n(%rip)\n"
    "  .endr\n"
    ".endm\n"

    ".macro SAVE_CALLEE\n"
    "  push %rbx\n  push %rbp\n  push %r12\n  push %r13\n  push %r14\n  push %r15\n"
    ".endm\n"
    ".macro RESTORE_CALLEE\n"
    "  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbp\n  pop %rbx\n"
    ".endm\n"

    /* long async_loop(void): spins until `signals` reaches `target`; returns the
     * remaining loop budget (0: timed out). */
    ".globl async_loop\n"
    "async_loop:\n"
    "  SAVE_CALLEE\n"
    "  LOAD_PATTERNS\n"
    "  movabs $0x100000000, %rcx\n"
    "1:\n"
    "  mov target(%rip), %eax\n" /* rax is reloaded below */
    "  cmp %eax, signals(%rip)\n"
    "  movabs $0x1111111111111111, %rax\n"
    "  jge 2f\n"
    "  dec %rcx\n"
    "  jnz 1b\n"
    "2:\n"
    "  STORE_ALL\n"
    "  RESTORE_CALLEE\n"
    "  mov gpr_out+8(%rip), %rax\n"
    "  ret\n"

    /* void sync_kill(void): kill(self_pid, SIGUSR1) with the patterns loaded. */
    ".globl sync_kill\n"
    "sync_kill:\n"
    "  SAVE_CALLEE\n"
    "  LOAD_PATTERNS\n"
    "  mov $62, %eax\n"
    "  movslq self_pid(%rip), %rdi\n"
    "  mov $10, %esi\n"
    "  syscall\n"
    "  STORE_ALL\n"
    "  RESTORE_CALLEE\n"
    "  ret\n");

void clobber_all(void);
long async_loop(void);
void sync_kill(void);

static void handler(int sig) {
    (void)sig;
    clobber_all();
    signals++;
}

static const char *gpr_names[15] = {"rax", "rcx", "rdx", "rbx", "rsi", "rdi", "rbp", "r8",
                                    "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
static const unsigned long gpr_want[15] = {
    0x1111111111111111, 0, 0x3333333333333333, 0x4444444444444444, 0x5555555555555555,
    0x6666666666666666, 0x7777777777777777, 0x8888888888888888, 0x9999999999999999,
    0xaaaaaaaaaaaaaaaa, 0xbbbbbbbbbbbbbbbb, 0xcccccccccccccccc, 0xdddddddddddddddd,
    0xeeeeeeeeeeeeeeee, 0x0f0f0f0f0f0f0f0f};

/* Checks the stored registers, skipping those in `skip` (bit i: gpr i). */
static void check_registers(const char *what, unsigned skip) {
    for (int i = 0; i < 15; i++) {
        if (skip & (1u << i)) continue;
        CHECK(gpr_out[i] == gpr_want[i], "%s: %s is %#lx, expected %#lx", what, gpr_names[i],
              gpr_out[i], gpr_want[i]);
    }
    for (int n = 0; n < 16; n++)
        for (int b = 0; b < 16; b++)
            CHECK(xmm_out[n][b] == 0xa0 + n, "%s: xmm%d byte %d is %#x, expected %#x", what, n, b,
                  xmm_out[n][b], 0xa0 + n);
}

int main(void) {
    self_pid = getpid();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction");
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");

    for (int round = 1; round <= 20; round++) {
        target = signals + 1;
        sync_kill();
        CHECK(signals == target, "the handler did not run for kill()");
        check_registers("kill from assembly", 1u << 0 | 1u << 1 | 1u << 4 | 1u << 5 | 1u << 10);
    }
    OK("20 synchronous signals (kill with syscall): rbx rdx rbp r8-r10 r12-r15 xmm0-15 kept");

    struct itimerval it = {{0, 2000}, {0, 2000}};
    target = signals + 20;
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer");
    long left = async_loop();
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    CHECK(left > 0, "the loop ended before 20 SIGALRMs (%d)", signals);
    gpr_out[1] = 0;
    check_registers("SIGALRM during a register loop", 1u << 1);
    OK("20 asynchronous SIGALRMs: all general registers but rcx/rsp and xmm0-15 kept");
    printf("sig_regs ok\n");
    return 0;
}
