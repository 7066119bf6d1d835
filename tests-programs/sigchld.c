/* SIGCHLD with SA_SIGINFO runs when a child exits (si_pid, si_status, si_code CLD_EXITED);
 * with SIGCHLD ignored children are reaped automatically (waitpid fails with ECHILD). */
#include "check.h"
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static volatile sig_atomic_t got, got_pid, got_status, got_code, got_signo;

static void on_chld(int sig, siginfo_t *si, void *ctx) {
    (void)ctx;
    got_signo = sig;
    got_pid = si->si_pid;
    got_status = si->si_status;
    got_code = si->si_code;
    got++;
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGCHLD, &sa, NULL) == 0, "sigaction");
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &old);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) _exit(42);
    while (!got) sigsuspend(&old);
    sigprocmask(SIG_SETMASK, &old, NULL);
    CHECK(got == 1, "handler ran %d times", (int)got);
    CHECK(got_signo == SIGCHLD, "signo %d", (int)got_signo);
    CHECK(got_pid == pid && got_code == CLD_EXITED && got_status == 42,
          "siginfo: si_pid %d (child %d), si_code %d (CLD_EXITED is %d), si_status %d (expected 42)",
          (int)got_pid, pid, (int)got_code, CLD_EXITED, (int)got_status);
    OK("SA_SIGINFO SIGCHLD handler: si_pid, si_code CLD_EXITED, si_status 42");
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42, "status %#x", status);
    OK("the child is still reaped by waitpid after the handler");

    /* A child killed by a signal: CLD_KILLED with the signal number. */
    got = 0;
    sigprocmask(SIG_BLOCK, &block, &old);
    pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        for (;;) pause();
    }
    CHECK(kill(pid, SIGKILL) == 0, "kill");
    while (!got) sigsuspend(&old);
    sigprocmask(SIG_SETMASK, &old, NULL);
    CHECK(got_code == CLD_KILLED && got_status == SIGKILL, "si_code %d si_status %d", (int)got_code,
          (int)got_status);
    CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
          "status %#x", status);
    OK("killed child: CLD_KILLED, si_status SIGKILL");

    /* SIG_IGN: automatic reaping. */
    signal(SIGCHLD, SIG_IGN);
    pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) _exit(1);
    /* Linux: wait blocks until the child is gone, then fails with ECHILD. */
    EXPECT_ERRNO(waitpid(pid, &status, 0), ECHILD);
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    EXPECT_ERRNO(kill(pid, 0), ESRCH);
    OK("with SIGCHLD ignored the child is reaped automatically");
    printf("sigchld ok\n");
    return 0;
}
