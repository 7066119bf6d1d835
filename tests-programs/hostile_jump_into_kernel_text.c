/* Attack: execute libOS code from ring 3. Protection keys do not check instruction fetches,
 * so the kernel's code (K_LIBOS user pages) is executable from an application; the kernel's
 * own WRPKRU instructions are the prize. `hostile_jump_into_kernel_text DATA T0 T1 W...`:
 * 1. call T0 and T1 (kernel text) in a child: a fatal signal, no rights gained;
 * 2. for every WRPKRU address W (from the kernel's ELF): jump there with eax = ecx = edx = 0
 *    (PKRU "allow all"), rsp on a forged stack holding N junk words and an iretq frame that
 *    returns to `landing` in ring 3 (N = 0..24, covering any number of pops before iretq),
 *    and `landing` reads the kernel's .data at DATA. The attack must never reach `landing`
 *    with PKRU changed or with the kernel's memory readable. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <sys/mman.h>
#include <sys/wait.h>

static uint64_t data_addr;
static int report_fd;

static volatile int landed_flag;
static volatile unsigned landed_pkru;

/* Reached only if an iretq in libOS code returned here. Reads PKRU and the kernel's .data
 * before anything else (any entry into the kernel would reset PKRU), then reports. */
static void __attribute__((noreturn, used)) landing(void) {
    unsigned eax, edx;
    __asm__ volatile(".byte 0x0f,0x01,0xee" : "=a"(eax), "=d"(edx) : "c"(0) : "memory");
    landed_pkru = eax;
    landed_flag = 1;
    uint64_t v = *(volatile uint64_t *)data_addr;
    char msg[160];
    int n = snprintf(msg, sizeof msg, "BREACH: landed with pkru=%#x and read %#lx from kernel .data\n",
                     landed_pkru, (unsigned long)v);
    write(report_fd, msg, n);
    _exit(42);
}

/* In the child: a fault after landing is reported too. */
static void landed_fault(int sig) {
    if (landed_flag) {
        char msg[160];
        int n = snprintf(msg, sizeof msg, "landed in ring 3 with pkru=%#x; reading kernel .data raised signal %d\n",
                         landed_pkru, sig);
        write(report_fd, msg, n);
    }
    signal(sig, SIG_DFL); /* the faulting instruction runs again and kills */
}

static uint64_t user_stack[4096] __attribute__((aligned(16)));
static uint64_t landing_stack[4096] __attribute__((aligned(16)));

static void __attribute__((noreturn)) jump(uint64_t target, uint64_t *stack) {
    __asm__ volatile("mov %0, %%rsp\n"
                     "xor %%eax, %%eax\n"
                     "xor %%ecx, %%ecx\n"
                     "xor %%edx, %%edx\n"
                     "jmp *%1\n"
                     :
                     : "r"(stack), "r"(target)
                     : "memory");
    __builtin_unreachable();
}

/* Runs one attempt in a child; returns how it ended and whether it landed. */
static int attempt(uint64_t target, int junk, int *landed, char *report, size_t len) {
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        close(p[0]);
        report_fd = p[1];
        alarm(2);
        signal(SIGSEGV, landed_fault);
        unsigned short cs, ss;
        __asm__ volatile("mov %%cs, %0; mov %%ss, %1" : "=r"(cs), "=r"(ss));
        uint64_t *sp = &user_stack[1024];
        for (int i = 0; i < junk; i++) sp[i] = 0;
        sp[junk + 0] = (uint64_t)landing;
        sp[junk + 1] = cs;
        sp[junk + 2] = 0x202;
        sp[junk + 3] = (uint64_t)&landing_stack[4001]; /* as after a call */
        sp[junk + 4] = ss;
        if (target == 0) _exit(0);
        jump(target, sp);
    }
    close(p[1]);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    size_t got = 0;
    ssize_t n;
    while (got < len - 1 && (n = read(p[0], report + got, len - 1 - got)) > 0) got += n;
    report[got] = 0;
    close(p[0]);
    *landed = got > 0;
    return status;
}

int main(int argc, char **argv) {
    CHECK(argc >= 5, "usage: %s DATA TEXT0 TEXT1 WRPKRU...", argv[0]);
    data_addr = hexarg(argv[1]);
    unsigned pkru = rdpkru();
    printf("PKRU %#x\n", pkru);
    char report[512];
    int landed, status;
    for (int i = 2; i <= 3; i++) {
        uint64_t t = hexarg(argv[i]);
        status = attempt(t, 0, &landed, report, sizeof report);
        CHECK(!landed, "jump to %#lx: %s", (unsigned long)t, report);
        CHECK(WIFSIGNALED(status), "jump to kernel text %#lx: status %#x", (unsigned long)t, status);
        OK("jump to kernel text %#lx: killed by %s", (unsigned long)t, signal_name(WTERMSIG(status)));
    }
    int sites = 0, breaches = 0;
    for (int i = 4; i < argc; i++) {
        uint64_t w = hexarg(argv[i]);
        int sigs[65] = {0};
        for (int junk = 0; junk <= 24; junk++) {
            status = attempt(w, junk, &landed, report, sizeof report);
            if (landed && !strstr(report, "BREACH")) {
                printf("WARNING: WRPKRU at %#lx with %d words before the iretq frame: %s",
                       (unsigned long)w, junk, report);
            } else if (landed) {
                printf("FAIL-BREACH: WRPKRU at %#lx with %d words before the iretq frame: %s",
                       (unsigned long)w, junk, report);
                breaches++;
            }
            if (WIFSIGNALED(status)) sigs[WTERMSIG(status) & 63]++;
        }
        printf("WRPKRU at %#lx: 25 attempts ended by", (unsigned long)w);
        for (int s = 0; s < 64; s++)
            if (sigs[s]) printf(" %s x%d", signal_name(s), sigs[s]);
        printf("\n");
        sites++;
    }
    fflush(stdout);
    CHECK(breaches == 0, "%d attempts returned to ring 3 after a libOS WRPKRU", breaches);
    CHECK(rdpkru() == pkru, "PKRU changed");
    OK("%d WRPKRU sites in libOS code: no jump gained rights", sites);
    printf("hostile_jump_into_kernel_text ok\n");
    return 0;
}
