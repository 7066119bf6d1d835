/* Attack: read libOS and supervisor memory from an application.
 * `hostile_read_libos probe DATA RODATA TEXT`: with a SIGSEGV handler, reads the kernel's
 * .data, .rodata and .text (K_LIBOS user pages), the libOS heap (K_LIBOS), and supervisor
 * pages (the direct map, MMIO); every read must fault, K_LIBOS pages with SEGV_PKUERR and
 * si_addr the address (the MPK isolation claim), supervisor pages with SEGV_MAPERR/ACCERR.
 * `hostile_read_libos kill DATA`: reads the kernel's .data without a handler; SIGSEGV must
 * kill the process. `hostile_read_libos write ...`: the same with writes. */
#define ISOUNIK_HOSTILE
#include "check.h"

static int writes;

static void attempt(const char *what, uint64_t addr, int libos_page) {
    void *p = (void *)addr;
    unsigned before = rdpkru();
    int sig = probe(writes ? probe_write_fn : probe_read_fn, p);
    const char *verb = writes ? "write" : "read";
    CHECK(sig != 0, "%s of %s at %#lx succeeded", verb, what, (unsigned long)addr);
    CHECK(sig == SIGSEGV, "%s of %s at %#lx: %s, expected SIGSEGV", verb, what,
          (unsigned long)addr, signal_name(sig));
    CHECK(rdpkru() == before && probe_pkru == before, "PKRU changed: %#x -> %#x (handler %#x)",
          before, rdpkru(), probe_pkru);
    if (libos_page == 1) {
        CHECK(probe_code == 4, "%s of %s at %#lx: si_code %d (%s), expected SEGV_PKUERR", verb,
              what, (unsigned long)addr, probe_code, segv_code_name(probe_code));
        CHECK(probe_addr == p, "%s of %s: si_addr %p, expected %p", verb, what, probe_addr, p);
        OK("%s of %s faults with SEGV_PKUERR at its address", verb, what);
    } else if (libos_page == 2) {
        OK("%s of %s faults (si_code %d)", verb, what, probe_code);
    } else {
        CHECK(probe_code == 1 || probe_code == 2, "%s of %s at %#lx: si_code %d (%s)", verb,
              what, (unsigned long)addr, probe_code, segv_code_name(probe_code));
        OK("%s of %s faults (%s)", verb, what, segv_code_name(probe_code));
    }
}

int main(int argc, char **argv) {
    CHECK(argc >= 3, "usage: %s probe|write|kill DATA [RODATA TEXT]", argv[0]);
    uint64_t data = hexarg(argv[2]);
    if (strcmp(argv[1], "kill") == 0 || strcmp(argv[1], "killwrite") == 0) {
        printf("reading/writing %#lx without a handler; SIGSEGV must kill me\n", (unsigned long)data);
        fflush(stdout);
        if (argv[1][4] == 'w')
            *(volatile uint64_t *)data = 0;
        else
            printf("FAIL: read %#lx from the kernel\n", (unsigned long)*(volatile uint64_t *)data);
        printf("FAIL: survived\n");
        return 1;
    }
    CHECK(argc >= 5, "usage");
    writes = strcmp(argv[1], "write") == 0;
    probe_install();
    printf("PKRU %#x\n", rdpkru());
    attempt("kernel .data", data, 1);
    attempt("kernel .rodata", hexarg(argv[3]), 1);
    attempt("kernel .text", hexarg(argv[4]), 1);
    attempt("libOS heap", 0xffffc00000000000UL, 1);
    attempt("libOS heap +1 MiB", 0xffffc00000100000UL, 1);
    attempt("direct map", 0xffff800000001000UL, 0);
    attempt("direct map of the kernel image", 0xffff800000000000UL + 0x1d2000, 0);
    attempt("MMIO (local APIC)", 0xfffffe8000000000UL, 0);
    attempt("non-canonical", 0x8000000000000000UL, 2); /* #GP: no address */
    /* Not asserted as PKUERR: a libOS stack may start with its guard page. */
    int sig = probe(writes ? probe_write_fn : probe_read_fn, (void *)0xffffc10000001000UL);
    CHECK(sig == SIGSEGV, "libOS stack: %s", signal_name(sig));
    OK("libOS stack faults (%s)", segv_code_name(probe_code));
    /* The process still works: a system call and its own memory. */
    char *m = malloc(1 << 20);
    CHECK(m && memset(m, 7, 1 << 20) && getpid() > 0, "still works");
    printf("hostile_read_libos ok\n");
    return 0;
}
