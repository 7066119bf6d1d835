/* Shared helpers of the Iso-UniK test programs. Each program prints one "ok: ..." line per
 * check to stdout and exits 0 when all pass; the first failing check prints "FAIL ..." with
 * the source line and errno, and exits 1. Output is flushed before anything that may kill
 * the process. */
#ifndef ISOUNIK_CHECK_H
#define ISOUNIK_CHECK_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(cond, ...)                                                               \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            int check_errno_ = errno;                                                  \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                     \
            printf(__VA_ARGS__);                                                       \
            printf(" (errno %d: %s)\n", check_errno_, strerror(check_errno_));         \
            fflush(stdout);                                                            \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

#define OK(...)                                                                        \
    do {                                                                               \
        printf("ok: ");                                                                \
        printf(__VA_ARGS__);                                                           \
        printf("\n");                                                                  \
    } while (0)

/* `expr` must fail: return -1 (or MAP_FAILED) with errno `err`. */
#define EXPECT_ERRNO(expr, err)                                                        \
    do {                                                                               \
        errno = 0;                                                                     \
        long expect_result_ = (long)(expr);                                            \
        int expect_errno_ = errno;                                                     \
        if (expect_result_ != -1 || expect_errno_ != (err)) {                          \
            printf("FAIL %s:%d: %s returned %ld with errno %d (%s), expected -1 with %s\n", \
                   __FILE__, __LINE__, #expr, expect_result_, expect_errno_,          \
                   strerror(expect_errno_), #err);                                     \
            fflush(stdout);                                                            \
            exit(1);                                                                   \
        }                                                                              \
        printf("ok: %s fails with %s\n", #expr, #err);                                 \
    } while (0)

/* Helpers of the hostile-program suite (hostile_*.c), only where ISOUNIK_HOSTILE is defined
 * before including this file. */
#ifdef ISOUNIK_HOSTILE
#include <elf.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

/* The offset in the ELF file open at `fd` of the loaded address `addr` (0 if no PT_LOAD
 * segment holds it): where to patch a program's own code in its file. */
static inline uint64_t elf_file_offset(int fd, uint64_t addr) {
    Elf64_Ehdr eh;
    CHECK(pread(fd, &eh, sizeof eh, 0) == sizeof eh, "ehdr");
    for (int i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        CHECK(pread(fd, &ph, sizeof ph, eh.e_phoff + i * sizeof ph) == sizeof ph, "phdr");
        if (ph.p_type == PT_LOAD && addr >= ph.p_vaddr && addr < ph.p_vaddr + ph.p_filesz)
            return addr - ph.p_vaddr + ph.p_offset;
    }
    return 0;
}

/* RDPKRU (0f 01 ee): the current PKRU (0 when the OS has not enabled PKU: CPUID.7.0:ECX.OSPKE,
 * so that the programs also run natively on machines without PKU). */
static inline unsigned rdpkru(void) {
    unsigned eax, ebx, ecx, edx;
    __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(7), "c"(0));
    if (!(ecx & (1u << 4))) return 0;
    __asm__ volatile(".byte 0x0f,0x01,0xee" : "=a"(eax), "=d"(edx) : "c"(0));
    return eax;
}

/* What the last probe saw: the signal (0 if none), si_code, si_addr, and PKRU in the handler. */
static sigjmp_buf probe_env;
static volatile int probe_sig, probe_code;
static void *volatile probe_addr;
static volatile unsigned probe_pkru;

static void probe_handler(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    probe_sig = sig;
    probe_code = si->si_code;
    probe_addr = si->si_addr;
    probe_pkru = rdpkru();
    siglongjmp(probe_env, 1);
}

/* Installs probe_handler for the synchronous fault signals. */
static inline void probe_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = probe_handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

/* Runs `fn(arg)` and returns the fault signal it raised, or 0. */
static inline int probe(void (*fn)(void *), void *arg) {
    probe_sig = 0;
    probe_code = 0;
    probe_addr = 0;
    if (sigsetjmp(probe_env, 1) == 0) fn(arg);
    return probe_sig;
}

static inline void probe_read_fn(void *p) {
    volatile uint64_t v = *(volatile uint64_t *)p;
    (void)v;
}
static inline void probe_write_fn(void *p) { *(volatile uint64_t *)p = 0x4141414141414141ULL; }

static inline const char *segv_code_name(int code) {
    switch (code) {
    case 1: return "SEGV_MAPERR";
    case 2: return "SEGV_ACCERR";
    case 4: return "SEGV_PKUERR";
    default: return "other";
    }
}

static inline const char *signal_name(int sig) {
    switch (sig) {
    case 0: return "none";
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGFPE: return "SIGFPE";
    case SIGKILL: return "SIGKILL";
    case SIGALRM: return "SIGALRM";
    default: return "another signal";
    }
}

/* A hex argument (kernel addresses passed by the test from the kernel's ELF). */
static inline uint64_t hexarg(const char *s) { return strtoull(s, NULL, 16); }

/* MemAvailable from /proc/meminfo in KiB (what programs can still get), or -1. */
static inline long mem_available_kib(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return -1;
    char line[128];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %ld kB", &kib) == 1) break;
    fclose(f);
    return kib;
}

/* A forked child held until `release_held`, then exiting with `check()`'s result: it sees
 * the memory it shared with the parent before whatever the parent does meanwhile. */
static inline pid_t fork_held(int held[2], int (*check)(void)) {
    CHECK(pipe(held) == 0, "pipe");
    fflush(stdout);
    pid_t child = fork();
    CHECK(child >= 0, "fork");
    if (child == 0) {
        char byte;
        _exit(read(held[0], &byte, 1) == 1 ? check() : 99);
    }
    return child;
}

static inline void release_held(int held[2]) {
    CHECK(write(held[1], "x", 1) == 1, "release the held child");
}

/* Runs this very program again (execve of /proc/self/exe) with the one argument `arg`;
 * returns its wait status. */
static inline int run_self_again(const char *argv0, const char *arg) {
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        execl("/proc/self/exe", argv0, arg, (char *)NULL);
        _exit(98);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    return status;
}
#endif

#endif
