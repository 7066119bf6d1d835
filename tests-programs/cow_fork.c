/* Copy-on-write after fork: a write on one side is invisible to the other, both ways, for
 * a stack variable, a malloc block, .data, .bss, an anonymous mmap and a MAP_PRIVATE file
 * mapping. */
#include "check.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>

int in_data = 1;
int in_bss;

struct places {
    volatile int *p[6];
};
static const char *names[6] = {"stack", "heap", "data", "bss", "anonymous mmap", "file mmap"};

/* Child writes `child_value`, parent writes `parent_value` (after the child's check), each
 * side checks it still sees its own values. */
static void round_trip(struct places *pl, int child_writes) {
    int to_child[2], to_parent[2];
    CHECK(pipe(to_child) == 0 && pipe(to_parent) == 0, "pipe");
    for (int i = 0; i < 6; i++) *pl->p[i] = 100 + i;
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    char c = 0;
    if (pid == 0) {
        if (child_writes)
            for (int i = 0; i < 6; i++) *pl->p[i] = 200 + i;
        if (write(to_parent[1], "w", 1) != 1) _exit(10);
        if (read(to_child[0], &c, 1) != 1) _exit(11);
        for (int i = 0; i < 6; i++) {
            int want = child_writes ? 200 + i : 100 + i;
            if (*pl->p[i] != want) {
                printf("FAIL child sees %d in %s, expected %d\n", *pl->p[i], names[i], want);
                fflush(stdout);
                _exit(20 + i);
            }
        }
        _exit(0);
    }
    CHECK(read(to_parent[0], &c, 1) == 1, "child signalled");
    if (!child_writes)
        for (int i = 0; i < 6; i++) *pl->p[i] = 300 + i;
    for (int i = 0; i < 6; i++) {
        int want = child_writes ? 100 + i : 300 + i;
        CHECK(*pl->p[i] == want, "parent sees %d in %s, expected %d", *pl->p[i], names[i], want);
    }
    CHECK(write(to_child[1], "g", 1) == 1, "write");
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
    close(to_child[0]); close(to_child[1]); close(to_parent[0]); close(to_parent[1]);
}

int main(void) {
    volatile int on_stack = 0;
    int *heap = malloc(64 * sizeof(int));
    CHECK(heap != NULL, "malloc");
    int *anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(anon != MAP_FAILED, "mmap anonymous");
    const char *path = "/tmp/cow_fork.dat";
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0, "open %s", path);
    char page[4096];
    memset(page, 'f', sizeof page);
    CHECK(write(fd, page, sizeof page) == (ssize_t)sizeof page, "write");
    int *file = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(file != MAP_FAILED, "mmap file");
    struct places pl = {{&on_stack, &heap[10], &in_data, &in_bss, &anon[5], &file[7]}};
    round_trip(&pl, 1);
    OK("child's writes are invisible to the parent (stack, heap, data, bss, anonymous, file)");
    round_trip(&pl, 0);
    OK("parent's writes are invisible to the child (stack, heap, data, bss, anonymous, file)");
    /* The file itself is unchanged by private writes on either side. */
    char back[4096];
    CHECK(pread(fd, back, sizeof back, 0) == (ssize_t)sizeof back, "pread");
    CHECK(memcmp(back, page, sizeof page) == 0, "the file changed through a MAP_PRIVATE mapping");
    OK("the file is unchanged");
    unlink(path);
    printf("cow_fork ok\n");
    return 0;
}
