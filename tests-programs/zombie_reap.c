/* A child that exited stays a zombie (kill(pid, 0) succeeds; /proc/PID/stat says Z)
 * until waitpid; afterwards kill(pid, 0) fails with ESRCH. */
#include "check.h"
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

int main(void) {
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) _exit(3);
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    CHECK(kill(pid, 0) == 0, "kill(zombie, 0)");
    OK("kill(pid, 0) succeeds for the zombie");
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3, "status %#x", status);
    OK("waitpid reaps it with status 3");
    EXPECT_ERRNO(kill(pid, 0), ESRCH);

    /* The same seen through /proc. */
    pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) _exit(4);
    nanosleep(&ts, NULL);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "open %s", path);
    char line[512] = "";
    CHECK(fgets(line, sizeof line, f) != NULL, "read %s", path);
    fclose(f);
    char *close_paren = strrchr(line, ')');
    CHECK(close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z', "state in %s: %s", path, line);
    OK("/proc/PID/stat says Z");
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 4,
          "status %#x", status);
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d", pid);
    CHECK(stat(path, &st) != 0, "%s still exists", path);
    OK("/proc/PID is gone after waitpid");
    printf("zombie_reap ok\n");
    return 0;
}
