/* A child that dereferences NULL does not disturb its parent or a sibling: the parent sees
 * WIFSIGNALED with SIGSEGV, the sibling completes its work. */
#include "check.h"
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

int main(void) {
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    pid_t sibling = fork();
    CHECK(sibling >= 0, "fork");
    if (sibling == 0) {
        close(p[0]);
        unsigned long sum = 0;
        for (unsigned long i = 0; i < 20000000; i++) sum += i ^ (sum >> 3);
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        char msg[32];
        int len = snprintf(msg, sizeof msg, "%d", sum != 0);
        _exit(write(p[1], msg, len) == len ? 0 : 1);
    }
    close(p[1]);
    pid_t crasher = fork();
    CHECK(crasher >= 0, "fork");
    if (crasher == 0) {
        volatile int *null = NULL;
        *null = 1;
        _exit(99);
    }
    int status;
    CHECK(waitpid(crasher, &status, 0) == crasher, "waitpid crasher");
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "crasher status %#x", status);
    OK("the parent sees the child killed by SIGSEGV");
    char buf[32] = "";
    CHECK(read(p[0], buf, sizeof buf - 1) > 0, "read from the sibling");
    CHECK(strcmp(buf, "1") == 0, "sibling says %s", buf);
    CHECK(waitpid(sibling, &status, 0) == sibling, "waitpid sibling");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sibling status %#x", status);
    OK("the sibling completed its work and exited 0");
    printf("crash_child ok\n");
    return 0;
}
