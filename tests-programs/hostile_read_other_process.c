/* Attack: read another process's memory. A child writes a secret into a static buffer
 * (shared copy-on-write with the parent) and into a page it maps at a fixed address, reports
 * both addresses through a pipe and stays alive. The parent then reads the same addresses in
 * its own space: it sees its own content or faults, never the secret. process_vm_readv
 * fails (ENOSYS or EPERM), /proc/<child>/mem cannot be read, ptrace PEEKDATA fails. */
#define _GNU_SOURCE
#define ISOUNIK_HOSTILE
#include "check.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

static char shared_buf[64] = "parent's own content";
#define SECRET "the child's secret 0123456789"
#define FIXED ((void *)0x5a5a5a000000UL)

int main(void) {
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        strcpy(shared_buf, SECRET);
        char *m = mmap(FIXED, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (m == MAP_FAILED) _exit(2);
        strcpy(m, SECRET);
        void *addrs[2] = {shared_buf, m};
        if (write(p[1], addrs, sizeof addrs) != sizeof addrs) _exit(3);
        for (;;) pause();
    }
    void *addrs[2];
    CHECK(read(p[0], addrs, sizeof addrs) == sizeof addrs, "read addresses");
    CHECK(strcmp((char *)addrs[0], SECRET) != 0, "the parent sees the child's secret in its static buffer");
    CHECK(strcmp((char *)addrs[0], "parent's own content") == 0, "the parent's buffer changed");
    OK("the child's write to a copy-on-write page is invisible at the same address in the parent");
    probe_install();
    int sig = probe(probe_read_fn, addrs[1]);
    CHECK(sig == SIGSEGV, "the child's private mapping is readable in the parent");
    OK("the child's fixed mapping faults in the parent (%s)", segv_code_name(probe_code));

    char out[64] = "";
    struct iovec local = {out, sizeof out}, remote = {addrs[1], sizeof out};
    errno = 0;
    long r = syscall(SYS_process_vm_readv, pid, &local, 1, &remote, 1, 0);
    CHECK(r < 0 && (errno == ENOSYS || errno == EPERM), "process_vm_readv returned %ld: %.30s", r, out);
    OK("process_vm_readv fails (%s)", errno == ENOSYS ? "ENOSYS" : "EPERM");
    r = syscall(SYS_process_vm_writev, pid, &local, 1, &remote, 1, 0);
    CHECK(r < 0, "process_vm_writev returned %ld", r);
    OK("process_vm_writev fails");

    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        OK("/proc/<child>/mem does not open (%s)", strerror(errno));
    } else {
        r = pread(fd, out, sizeof out, (off_t)(uintptr_t)addrs[1]);
        CHECK(r <= 0 || memmem(out, r, "secret", 6) == NULL, "read the secret from /proc/<child>/mem");
        OK("/proc/<child>/mem opens but does not give the secret (%ld)", r);
        close(fd);
    }
    errno = 0;
    long word = syscall(SYS_ptrace, 2 /* PTRACE_PEEKDATA */, pid, addrs[1], &word);
    CHECK(memcmp(&word, SECRET, 8) != 0, "ptrace PEEKDATA read the secret");
    r = syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, pid, 0, 0);
    CHECK(r < 0, "PTRACE_ATTACH succeeded");
    OK("ptrace fails (%s)", strerror(errno));

    CHECK(kill(pid, 0) == 0, "the child is alive");
    kill(pid, SIGKILL);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status), "child");
    printf("hostile_read_other_process ok\n");
    return 0;
}
