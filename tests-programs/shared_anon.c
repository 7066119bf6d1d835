/* MAP_SHARED|MAP_ANONYMOUS memory stays shared across fork in both directions, while a
 * MAP_PRIVATE page next to it is copied on write. */
#include "check.h"
#include <sys/mman.h>
#include <sys/wait.h>

int main(void) {
    volatile long *shared = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    volatile long *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(shared != MAP_FAILED && priv != MAP_FAILED, "mmap");
    shared[0] = 1;
    priv[0] = 1;
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        alarm(20); /* never spin forever if the parent has failed */
        shared[1000] = 7; /* the second page, never touched before the fork */
        priv[0] = 99;
        shared[0] = 42; /* last: the parent reads the others once it sees this */
        while (shared[2] != 5) { /* the parent's write must reach us */
        }
        _exit(0);
    }
    while (shared[0] != 42) {
    }
    CHECK(shared[1000] == 7, "the child's write to the second shared page is not seen (%ld)", shared[1000]);
    shared[2] = 5;
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
    CHECK(priv[0] == 1, "the private page changed (%ld)", priv[0]);
    OK("MAP_SHARED anonymous memory is shared across fork; MAP_PRIVATE is not");
    printf("shared_anon ok\n");
    return 0;
}
