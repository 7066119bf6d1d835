/* Attack: forged signal frames. `hostile_sigreturn_forged DATA`
 * 1. a SIGUSR1 handler edits its ucontext: CS = 0x08 (kernel code), SS = 0x10, IOPL 3, NT,
 *    AC; after the return CS is still a ring-3 selector, IOPL is 0 (or the process is killed
 *    by SIGSEGV, as Linux does for a bad selector) - never ring 0;
 * 2. the handler zeroes the PKRU component of the frame's XSAVE area (with and without
 *    XSTATE_BV bit 9): after the return PKRU is unchanged and the kernel's .data faults
 *    (a SIGSEGV for the bad image is acceptable);
 * 3. rt_sigreturn (15) called directly on a stack of garbage, and with rsp at a kernel
 *    address: the process is killed by SIGSEGV;
 * 4. the handler sets MXCSR's reserved bits in the frame's FPU image (XRSTOR would fault on
 *    it), with a SIGSEGV handler installed: the process is killed by SIGSEGV (Iso-UniK), or
 *    the handler runs with the initial MXCSR (Linux); the kernel never loads the image.
 * Each case runs in a child; the parent reports how it ended. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <signal.h>
#include <sys/wait.h>
#include <ucontext.h>

static uint64_t data;
static int variant;
static unsigned pkru_before;

static void handler(int sig, siginfo_t *si, void *ucv) {
    (void)sig; (void)si;
    ucontext_t *uc = ucv;
    greg_t *g = uc->uc_mcontext.gregs;
    if (variant == 1) {
        /* REG_CSGSFS: cs (bits 0-15), gs, fs, ss (bits 48-63). */
        g[REG_CSGSFS] = (g[REG_CSGSFS] & ~0xffffULL & ~(0xffffULL << 48)) | 0x08 | (0x10ULL << 48);
        g[REG_EFL] |= 0x3000 | 0x4000 | 0x40000;
    } else if (variant == 2 || variant == 3) {
        unsigned char *fp = (unsigned char *)uc->uc_mcontext.fpregs;
        unsigned a, b, c, d;
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0xd), "c"(9));
        unsigned off = b ? b : 2688;
        memset(fp + off, 0, 8);
        if (variant == 3) fp[513] |= 2; /* XSTATE_BV bit 9 */
    } else if (variant == 4) {
        g[REG_EFL] |= 0x3000;
        g[REG_RIP] = 0xffffffff80106000ULL; /* return into kernel text */
    } else if (variant == 7) {
        unsigned char *fp = (unsigned char *)uc->uc_mcontext.fpregs;
        fp[27] = 0xff; /* MXCSR bits 24-31: reserved */
    }
}

static void segv_after_bad_image(int sig) {
    (void)sig;
    unsigned mxcsr;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    _exit(mxcsr == 0x1f80 ? 0 : 14);
}

static int child(int v) {
    variant = v;
    alarm(5);
    pkru_before = rdpkru();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    if (v == 7) signal(SIGSEGV, segv_after_bad_image);
    if (v == 5 || v == 6) {
        static uint64_t garbage[2048];
        for (int i = 0; i < 2048; i++) garbage[i] = 0x4141414141414141ULL * (i & 7);
        uint64_t sp = v == 5 ? (uint64_t)&garbage[1024] : data;
        __asm__ volatile("mov %0, %%rsp; mov $15, %%eax; syscall; ud2" : : "r"(sp) : "memory");
    }
    raise(SIGUSR1);
    unsigned short cs, ss;
    uint64_t fl;
    __asm__ volatile("mov %%cs, %0; mov %%ss, %1; pushfq; pop %2" : "=r"(cs), "=r"(ss), "=r"(fl));
    probe_install();
    int sig = probe(probe_read_fn, (void *)data);
    printf("variant %d returned: cs %#x ss %#x rflags %#lx pkru %#x (before %#x), kernel read %s\n", v,
           cs, ss, (unsigned long)fl, rdpkru(), pkru_before, signal_name(sig));
    fflush(stdout);
    if ((cs & 3) != 3 || (ss & 3) != 3) return 10;
    if (fl & 0x3000) return 11;
    if (rdpkru() != pkru_before) return 12;
    if (sig != SIGSEGV) return 13;
    return 0;
}

int main(int argc, char **argv) {
    CHECK(argc == 2, "usage: %s DATA", argv[0]);
    data = hexarg(argv[1]);
    const char *names[] = {"", "CS=0x08 SS=0x10 IOPL=3 NT AC in the frame", "PKRU 0 in the frame's XSAVE area",
                           "PKRU 0 and XSTATE_BV bit 9 in the frame", "IOPL=3 and rip in kernel text",
                           "rt_sigreturn on a garbage stack", "rt_sigreturn with rsp at kernel .data",
                           "MXCSR reserved bits in the frame, a SIGSEGV handler installed"};
    for (int v = 1; v <= 7; v++) {
        fflush(stdout);
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) _exit(child(v));
        int status;
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
        if (WIFEXITED(status)) {
            CHECK(WEXITSTATUS(status) == 0, "%s: the forged frame gained something (code %d)", names[v],
                  WEXITSTATUS(status));
            CHECK(v <= 3 || v == 7, "%s: returned normally", names[v]);
            if (v == 7)
                OK("%s: SIGSEGV, whose handler ran with the initial MXCSR", names[v]);
            else
                OK("%s: returned in ring 3 with IOPL 0, PKRU unchanged, kernel unreadable",
                   names[v]);
        } else {
            CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "%s: status %#x", names[v], status);
            OK("%s: killed by SIGSEGV", names[v]);
        }
    }
    printf("hostile_sigreturn_forged ok\n");
    return 0;
}
