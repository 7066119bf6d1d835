/* Attack: load PKRU with XRSTOR. `hostile_xrstor_pkru DATA`
 * 1. XSAVE (all components) into an aligned image, put 0 ("allow all") at the PKRU
 *    component's offset (CPUID 0xd.9), XRSTOR with EDX:EAX = all ones: PKRU unchanged and
 *    the kernel's .data still faults;
 * 2. the same image with XSTATE_BV bit 9 set: XRSTOR raises #GP (SIGSEGV) since XCR0 lacks
 *    bit 9; PKRU unchanged in the handler and after;
 * 3. XRSTOR in compacted form with XCOMP_BV bit 9, XSETBV (privileged): SIGSEGV;
 * 4. XGETBV(0): bit 9 of XCR0 is clear. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <cpuid.h>

static unsigned char area[16384] __attribute__((aligned(64)));
static unsigned char fresh[16384] __attribute__((aligned(64)));

static void do_xrstor(void *p) {
    __asm__ volatile("xrstor64 (%0)" : : "r"(p), "a"(-1), "d"(-1) : "memory");
}
static void do_xsetbv(void *p) {
    (void)p;
    __asm__ volatile("xsetbv" : : "c"(0), "a"(0x2ff), "d"(0));
}
static void do_xrstors(void *p) {
    __asm__ volatile("xrstors64 (%0)" : : "r"(p), "a"(-1), "d"(-1) : "memory");
}

int main(int argc, char **argv) {
    CHECK(argc == 2, "usage: %s DATA", argv[0]);
    void *data = (void *)hexarg(argv[1]);
    probe_install();
    unsigned pkru = rdpkru();
    unsigned a, b, c, d;
    __cpuid_count(1, 0, a, b, c, d);
    CHECK(c & (1u << 26), "no XSAVE");
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    uint64_t xcr0 = ((uint64_t)hi << 32) | lo;
    CHECK(!(xcr0 & (1u << 9)), "XCR0 %#lx has the PKRU bit", (unsigned long)xcr0);
    OK("XCR0 lacks bit 9 (PKRU state)");
    __cpuid_count(0xd, 9, a, b, c, d);
    unsigned pkru_size = a, pkru_off = b;
    printf("PKRU %#x, XCR0 %#lx, PKRU component: size %u offset %u\n", pkru, (unsigned long)xcr0,
           pkru_size, pkru_off);
    if (pkru_size == 0 || pkru_off == 0) pkru_off = 2688;

    __asm__ volatile("xsave64 (%0)" : : "r"(area), "a"(-1), "d"(-1) : "memory");
    memcpy(fresh, area, sizeof area);
    memset(area + pkru_off, 0, 8);
    int sig = probe(do_xrstor, area);
    CHECK(sig == 0, "XRSTOR of a valid image: %s", signal_name(sig));
    CHECK(rdpkru() == pkru, "XRSTOR changed PKRU to %#x", rdpkru());
    CHECK(probe(probe_read_fn, data) == SIGSEGV && probe_code == 4, "kernel .data after XRSTOR");
    OK("XRSTOR (EDX:EAX all ones) of an image with PKRU 0: PKRU unchanged, kernel still PKUERR");

    memcpy(area, fresh, sizeof area);
    memset(area + pkru_off, 0, 8);
    area[513] |= 1u << 1;          /* XSTATE_BV bit 9 */
    sig = probe(do_xrstor, area);
    CHECK(sig == SIGSEGV, "XRSTOR with XSTATE_BV bit 9: %s", signal_name(sig));
    CHECK(probe_pkru == pkru && rdpkru() == pkru, "PKRU %#x in the handler, %#x after", probe_pkru, rdpkru());
    OK("XRSTOR with XSTATE_BV bit 9: SIGSEGV, PKRU unchanged in the handler and after");

    memcpy(area, fresh, sizeof area);
    memset(area + pkru_off, 0, 8);
    /* Compacted form: XCOMP_BV bit 63 and bit 9. */
    uint64_t comp = (1ULL << 63) | (1ULL << 9) | 3;
    memcpy(area + 520, &comp, 8);
    sig = probe(do_xrstor, area);
    CHECK(sig == SIGSEGV, "XRSTOR compacted with bit 9: %s", signal_name(sig));
    CHECK(rdpkru() == pkru, "PKRU changed");
    OK("XRSTOR of a compacted image with XCOMP_BV bit 9: SIGSEGV, PKRU unchanged");

    sig = probe(do_xrstors, area);
    CHECK(sig == SIGSEGV || sig == SIGILL, "XRSTORS: %s", signal_name(sig));
    CHECK(rdpkru() == pkru, "PKRU changed");
    OK("XRSTORS (privileged): %s", signal_name(sig));
    sig = probe(do_xsetbv, NULL);
    CHECK(sig == SIGSEGV, "XSETBV: %s", signal_name(sig));
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    CHECK(lo == (unsigned)xcr0, "XCR0 changed");
    OK("XSETBV (privileged): SIGSEGV, XCR0 unchanged");

    /* Restore our own state, then check once more. */
    __asm__ volatile("xrstor64 (%0)" : : "r"(fresh), "a"(-1), "d"(-1) : "memory");
    CHECK(rdpkru() == pkru, "PKRU changed");
    CHECK(probe(probe_read_fn, data) == SIGSEGV, "kernel readable");
    printf("hostile_xrstor_pkru ok\n");
    return 0;
}
