/* Attack: the null page. Reading and writing address 0 and 0x1000 give SIGSEGV with
 * SEGV_MAPERR; calling address 0 gives SIGSEGV; mapping page 0 with MAP_FIXED is reported
 * (refused or not) and in either case a fresh process cannot see it. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <sys/mman.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>

static void call_fn(void *p) { ((void (*)(void))p)(); }

int main(void) {
    probe_install();
    void *addrs[] = {(void *)0, (void *)8, (void *)0x1000, (void *)0xfff8};
    for (int i = 0; i < 4; i++) {
        int sig = probe(probe_read_fn, addrs[i]);
        CHECK(sig == SIGSEGV && probe_code == 1 && probe_addr == addrs[i], "read %p: %s %d %p", addrs[i],
              signal_name(sig), probe_code, probe_addr);
        sig = probe(probe_write_fn, addrs[i]);
        CHECK(sig == SIGSEGV && probe_code == 1 && probe_addr == addrs[i], "write %p: %s %d %p", addrs[i],
              signal_name(sig), probe_code, probe_addr);
        OK("read and write at %p: SIGSEGV SEGV_MAPERR at the address", addrs[i]);
    }
    /* In gate mode the execute-only trampoline sits at address 0 (zpoline): reads and writes
     * there fault (checked above), but a call to 0 enters the gate like a rewritten system
     * call site would, so the execute checks apply to trap mode only. */
    const char *entry = getenv("ISOUNIK_ENTRY");
    int sig;
    if (!entry || strcmp(entry, "gate") != 0) {
        sig = probe(call_fn, NULL);
        CHECK(sig == SIGSEGV && probe_addr == NULL, "call 0: %s at %p", signal_name(sig), probe_addr);
        OK("calling address 0: SIGSEGV at 0");
        sig = probe(call_fn, (void *)0x1000);
        CHECK(sig == SIGSEGV, "call 0x1000: %s", signal_name(sig));
        OK("calling address 0x1000: SIGSEGV");
    } else {
        OK("gate mode: calling address 0 enters the trampoline (documented)");
    }
    void *m = (void *)syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("note: mmap(MAP_FIXED) at 0: %s\n", m == MAP_FAILED ? strerror(errno) : "mapped");
    if (m != MAP_FAILED) {
        *(volatile int *)m = 1;
        sig = probe(call_fn, m);
        CHECK(sig == SIGSEGV, "executing a non-executable page at 0 ran");
        munmap(m, 4096);
    }
    printf("hostile_null_access ok\n");
    return 0;
}
