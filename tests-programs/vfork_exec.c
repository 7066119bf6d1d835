/* vfork then execve of /proc/self/exe with an argument (the child prints), parent waits;
 * vfork then _exit(7) gives status 7. */
#include "check.h"
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        printf("child: exec'd with argument %s, ppid %s\n", argv[2], getppid() > 0 ? "set" : "unset");
        return 5;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    char *args[] = {argv[0], "child", "hello", NULL};
    pid_t pid = vfork();
    CHECK(pid >= 0, "vfork");
    if (pid == 0) {
        execve("/proc/self/exe", args, environ);
        _exit(127);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 5, "status %#x, expected exit 5", status);
    OK("vfork + execve(/proc/self/exe) ran the child, status 5");

    volatile int shared = 0;
    pid = vfork();
    CHECK(pid >= 0, "vfork");
    if (pid == 0) {
        shared = 42; /* vfork shares memory until _exit: the parent sees this */
        _exit(7);
    }
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7, "status %#x, expected exit 7", status);
    OK("vfork + _exit(7) gives status 7");
    CHECK(shared == 42, "the vfork child's write is not seen by the parent (%d)", shared);
    OK("vfork child shares the parent's memory");
    printf("vfork_exec ok\n");
    return 0;
}
