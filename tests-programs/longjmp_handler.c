/* siglongjmp out of a SIGSEGV handler (a NULL dereference) back to main, twice; the signal
 * mask is restored each time. Then an rt_sigreturn whose frame's FPU state cannot be read
 * raises a SIGSEGV that the same handler catches (Linux forces the signal; a handler runs
 * if there is one). */
#include "check.h"
#include <setjmp.h>
#include <signal.h>

static sigjmp_buf env;
static char area[65536] __attribute__((aligned(64)));

/* rt_sigreturn with a frame at the middle of `area` whose sigcontext has fpstate = 8 (an
 * unmapped address); rsp and rip in it lead to the rest of `area` (Linux restores them
 * before it looks at the FPU state, and builds the SIGSEGV frame there). */
static void bad_sigreturn(void) {
    char *frame = area + 32768;
    char *mcontext = frame + 8 /* pretcode */ + 8 + 8 + 24 /* uc_flags, uc_link, uc_stack */;
    unsigned long rsp = (unsigned long)(area + 60000) & ~15UL;
    unsigned long fpstate = 8;
    unsigned long rip = 8;
    memcpy(mcontext + 15 * 8, &rsp, 8);      /* sc.rsp */
    memcpy(mcontext + 16 * 8, &rip, 8);      /* sc.rip */
    memcpy(mcontext + 23 * 8, &fpstate, 8);  /* sc.fpstate */
    __asm__ volatile("mov %0, %%rsp\n\tmov $15, %%eax\n\tsyscall\n\tud2"
                     :
                     : "r"(frame + 8)
                     : "memory");
}
static volatile int faults;

static void on_segv(int sig) {
    (void)sig;
    faults++;
    siglongjmp(env, faults);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction");
    for (int round = 1; round <= 2; round++) {
        int r = sigsetjmp(env, 1);
        if (r == 0) {
            volatile int *null = NULL;
            *null = round;
            printf("FAIL the NULL store did not fault\n");
            return 1;
        }
        CHECK(r == round, "sigsetjmp returned %d in round %d", r, round);
        sigset_t now;
        sigprocmask(SIG_SETMASK, NULL, &now);
        CHECK(!sigismember(&now, SIGSEGV), "SIGSEGV still blocked after siglongjmp");
        OK("round %d: back in main from the SIGSEGV handler, SIGSEGV unblocked", round);
    }
    CHECK(faults == 2, "faults %d", faults);
    if (sigsetjmp(env, 1) == 0) {
        bad_sigreturn();
        printf("FAIL rt_sigreturn with a bad frame returned\n");
        return 1;
    }
    CHECK(faults == 3, "faults %d", faults);
    OK("a failed rt_sigreturn raised SIGSEGV and the handler caught it");
    printf("longjmp_handler ok\n");
    return 0;
}
