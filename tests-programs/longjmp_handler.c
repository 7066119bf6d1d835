/* siglongjmp out of a SIGSEGV handler (a NULL dereference) back to main, twice; the signal
 * mask is restored each time. */
#include "check.h"
#include <setjmp.h>
#include <signal.h>

static sigjmp_buf env;
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
    printf("longjmp_handler ok\n");
    return 0;
}
