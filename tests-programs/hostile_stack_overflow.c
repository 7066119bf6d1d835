/* Attack: unbounded recursion, and a stack clash (moving rsp far below the stack in one
 * step). Each in a child: killed by SIGSEGV; with a handler on an alternate stack the
 * handler runs; the parent survives. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <sys/wait.h>

static volatile int depth;
static int __attribute__((noinline)) recurse(int n) {
    volatile char pad[512];
    if (depth < 0) return 0;
    pad[0] = (char)n;
    depth++;
    return recurse(n + 1) + pad[0];
}

static void clash(void) {
    __asm__ volatile("sub $0x40000000, %%rsp; movq $1, (%%rsp); add $0x40000000, %%rsp" ::: "memory");
}

static void on_segv(int sig) {
    (void)sig;
    _exit(77);
}

int main(void) {
    for (int c = 0; c < 3; c++) {
        fflush(stdout);
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
            alarm(20);
            if (c == 2) {
                static char alt[65536];
                stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
                sigaltstack(&ss, NULL);
                struct sigaction sa;
                memset(&sa, 0, sizeof sa);
                sa.sa_handler = on_segv;
                sa.sa_flags = SA_ONSTACK;
                sigaction(SIGSEGV, &sa, NULL);
            }
            if (c == 1) clash(); else recurse(0);
            _exit(0);
        }
        int status;
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
        if (c == 2) {
            CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 77, "recursion with an altstack handler: %#x", status);
            OK("infinite recursion with a SIGSEGV handler on an alternate stack: the handler ran");
        } else {
            CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "status %#x", status);
            OK("%s: killed by SIGSEGV", c ? "rsp moved 1 GiB below the stack" : "infinite recursion");
        }
    }
    printf("hostile_stack_overflow ok\n");
    return 0;
}
