/* sigaltstack + SA_ONSTACK: the handler runs on the alternate stack, also for the SIGSEGV
 * of a stack overflow (infinite recursion, in a child), whose handler then _exits(0);
 * sigaltstack reports SS_ONSTACK inside such a handler. */
#include "check.h"
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

static char *alt;
static size_t alt_size;
static volatile int on_alt, flag_onstack;

static int on_alt_stack(void) {
    char local;
    return (uintptr_t)&local >= (uintptr_t)alt && (uintptr_t)&local < (uintptr_t)alt + alt_size;
}

static void on_usr1(int sig) {
    (void)sig;
    on_alt = on_alt_stack();
    stack_t now;
    flag_onstack = sigaltstack(NULL, &now) == 0 && (now.ss_flags & SS_ONSTACK);
}

static void on_segv(int sig) {
    (void)sig;
    static const char ok[] = "ok: SIGSEGV of the stack overflow handled on the alternate stack\n";
    static const char bad[] = "FAIL the SIGSEGV handler is not on the alternate stack\n";
    if (on_alt_stack()) {
        write(1, ok, sizeof ok - 1);
        _exit(0);
    }
    write(1, bad, sizeof bad - 1);
    _exit(1);
}

static volatile int depth;
static int recurse(int n) {
    volatile char pad[1024];
    pad[0] = (char)n;
    if (depth++ < 0) return 0;
    return recurse(n + 1) + pad[0];
}

int main(void) {
    alt_size = 64 * 1024;
    alt = malloc(alt_size);
    CHECK(alt != NULL, "malloc");
    stack_t ss = {.ss_sp = alt, .ss_size = alt_size, .ss_flags = 0};
    CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack");
    stack_t got;
    CHECK(sigaltstack(NULL, &got) == 0 && got.ss_sp == alt && got.ss_size == alt_size &&
              got.ss_flags == 0,
          "sigaltstack reads back sp %p size %zu flags %d", got.ss_sp, got.ss_size, got.ss_flags);
    OK("sigaltstack set and read back");
    CHECK(!on_alt_stack(), "main runs on the alternate stack?");

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
    raise(SIGUSR1);
    CHECK(on_alt == 1, "the SA_ONSTACK handler does not run on the alternate stack");
    OK("SA_ONSTACK handler runs on the alternate stack");
    int flag_in_handler = flag_onstack;

    sa.sa_flags = 0;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
    raise(SIGUSR1);
    CHECK(on_alt == 0, "handler without SA_ONSTACK ran on the alternate stack");
    CHECK(!flag_onstack, "sigaltstack says SS_ONSTACK in a handler on the normal stack");
    OK("without SA_ONSTACK the handler runs on the normal stack");

    /* Stack overflow in a child (the handler ends it with _exit(0)). */
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        sa.sa_handler = on_segv;
        sa.sa_flags = SA_ONSTACK;
        if (sigaction(SIGSEGV, &sa, NULL) != 0) _exit(2);
        recurse(0);
        printf("FAIL the recursion returned\n");
        fflush(stdout);
        _exit(1);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the overflowing child ended with status %#x, expected exit 0 from its handler", status);

    CHECK(flag_in_handler, "sigaltstack(NULL, &old) in the handler on the alternate stack "
                           "does not report SS_ONSTACK");
    OK("sigaltstack reports SS_ONSTACK inside the handler");
    printf("altstack ok\n");
    return 0;
}
