/* Attack: random system calls. `hostile_syscall_fuzz DATA`: 2000 calls with numbers in
 * 0..600 and random arguments (xorshift, fixed seed), each argument either random bits or an
 * interesting value (0, -1, small, a kernel address, a non-canonical one, a buffer of random
 * bytes). Calls that would end or block the program legitimately are skipped. They run in
 * children, 100 per child, with stdin/stdout/stderr on /dev/null and alarm(5) (a child
 * that breaks itself just ends its batch). The kernel must survive; the counts are printed. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static uint64_t state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545f4914f6cdd1dULL;
}

static unsigned char buffer[65536];
static uint64_t kernel_data;

static long arg(void) {
    switch (rnd() % 10) {
    case 0: return 0;
    case 1: return -1;
    case 2: return rnd() % 16;
    case 3: return (long)kernel_data;
    case 4: return (long)0x8000000000000000ULL;
    case 5: return (long)(buffer + rnd() % 4096);
    case 6: return (long)0xffffc00000000000ULL;
    case 7: return rnd() % 4096;
    default: return (long)rnd();
    }
}

static int skipped(long nr) {
    switch (nr) {
    case SYS_exit: case SYS_exit_group: case SYS_pause: case SYS_rt_sigsuspend:
    case SYS_kill: case SYS_tkill: case SYS_tgkill: case SYS_rt_sigqueueinfo:
    case SYS_rt_tgsigqueueinfo: case SYS_vfork: case SYS_clone: case SYS_fork:
    case SYS_execve: case SYS_execveat: case SYS_reboot: case SYS_nanosleep:
    case SYS_clock_nanosleep: case SYS_wait4: case SYS_waitid: case SYS_futex:
    case SYS_select: case SYS_pselect6: case SYS_poll: case SYS_ppoll:
    case SYS_epoll_wait: case SYS_epoll_pwait: case SYS_rt_sigreturn: case SYS_rt_sigtimedwait:
    case SYS_ptrace: case SYS_vhangup: case SYS_accept: case SYS_accept4: case SYS_recvfrom:
    case SYS_recvmsg: case SYS_msgrcv: case SYS_semop: case SYS_semtimedop: case SYS_flock:
    case 424 /* pidfd_send_signal */: case 435 /* clone3 */: case 441 /* epoll_pwait2 */:
    case SYS_setsid: case SYS_setpgid: case SYS_ioctl: /* could take the terminal */
        return 1;
    }
    return 0;
}

static long batch(int first, int count) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    alarm(5);
    long errors = 0;
    for (int i = first; i < first + count; i++) {
        long nr = rnd() % 601;
        long a[6];
        for (int j = 0; j < 6; j++) a[j] = arg();
        for (unsigned j = 0; j < 64; j++) buffer[rnd() % sizeof buffer] = (unsigned char)rnd();
        if (skipped(nr)) continue;
        /* Reads and writes only on descriptors other than 0-2 (all /dev/null anyway). */
        long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        if (r < 0) errors++;
    }
    return errors;
}

int main(int argc, char **argv) {
    CHECK(argc == 2, "usage: %s DATA", argv[0]);
    kernel_data = hexarg(argv[1]);
    int made = 0, died = 0;
    long errors = 0;
    int sigs[65] = {0};
    for (int first = 0; first < 2000; first += 100) {
        int p[2];
        CHECK(pipe(p) == 0, "pipe");
        fflush(stdout);
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
            close(p[0]);
            /* Skip the random stream to this batch's position. */
            for (int i = 0; i < first; i++) {
                rnd();
                for (int j = 0; j < 6; j++) arg();
                for (int j = 0; j < 64; j++) { rnd(); rnd(); }
            }
            int out = p[1];
            long e = batch(first, 100);
            dprintf(out, "%ld\n", e);
            _exit(0);
        }
        close(p[1]);
        int status;
        while (waitpid(pid, &status, 0) != pid) {
            CHECK(errno == EINTR, "waitpid");
        }
        char msg[32] = "";
        ssize_t n = read(p[0], msg, sizeof msg - 1);
        close(p[0]);
        made += 100;
        if (n > 0) errors += atol(msg);
        else {
            died++;
            if (WIFSIGNALED(status)) sigs[WTERMSIG(status) & 63]++;
        }
    }
    printf("%d batches of 100 ended early (the fuzzed program hurt itself):", died);
    for (int s = 0; s < 64; s++)
        if (sigs[s]) printf(" signal %d x%d", s, sigs[s]);
    printf("\n");
    OK("%d random system calls made; %ld returned errors in the batches that completed", made, errors);
    CHECK(getpid() > 0, "getpid");
    printf("hostile_syscall_fuzz ok\n");
    return 0;
}
