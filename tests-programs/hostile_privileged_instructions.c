/* Attack: privileged instructions from ring 3. Each runs in a forked child; the parent
 * reports the child's signal: SIGSEGV (#GP) for cli, sti, hlt, in, out, rdmsr, wrmsr, mov
 * to/from cr0/cr3/cr4, mov to dr7, lgdt, lidt, lldt, ltr, invlpg, wbinvd, invd, clts, swapgs,
 * sysret, iretq to ring 0, int $0x80 (as Linux); int3 gives SIGTRAP. Then `int $N` for every
 * vector N other than 3 and 4 must give SIGSEGV (no IDT gate is reachable from ring 3, so no
 * handler runs with a frame it does not expect), and the process keeps working. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <sys/wait.h>

#define INSN(name, text) static void name(void) { __asm__ volatile(text ::: "memory"); }
INSN(i_cli, "cli")
INSN(i_sti, "sti")
INSN(i_hlt, "hlt")
INSN(i_in, "in $0x60, %%al")
INSN(i_out, "mov $0xe9, %%dx; out %%al, %%dx")
INSN(i_outdbg, "mov $0x501, %%dx; mov $0x31, %%al; out %%al, %%dx") /* isa-debug-exit */
INSN(i_rdmsr, "mov $0xc0000080, %%ecx; rdmsr")
INSN(i_wrmsr, "mov $0xc0000080, %%ecx; xor %%eax, %%eax; xor %%edx, %%edx; wrmsr")
INSN(i_rdcr3, "mov %%cr3, %%rax")
INSN(i_wrcr3, "xor %%eax, %%eax; mov %%rax, %%cr3")
INSN(i_wrcr4, "xor %%eax, %%eax; mov %%rax, %%cr4")
INSN(i_wrcr0, "xor %%eax, %%eax; mov %%rax, %%cr0")
INSN(i_wrdr7, "mov $0x1, %%eax; mov %%rax, %%dr7")
INSN(i_lgdt, "sub $16, %%rsp; lgdt (%%rsp); add $16, %%rsp")
INSN(i_lidt, "sub $16, %%rsp; lidt (%%rsp); add $16, %%rsp")
INSN(i_lldt, "xor %%eax, %%eax; lldt %%ax")
INSN(i_ltr, "mov $0x28, %%eax; ltr %%ax")
INSN(i_invlpg, "invlpg (%%rsp)")
INSN(i_wbinvd, "wbinvd")
INSN(i_invd, "invd")
INSN(i_clts, "clts")
INSN(i_swapgs, "swapgs")
INSN(i_sysret, "lea 1f(%%rip), %%rcx; mov $0x2, %%r11; sysretq; 1:")
INSN(i_iret0, "mov %%rsp, %%rax; pushq $0x10; pushq %%rax; pushfq; pushq $0x08; lea 1f(%%rip), %%rax; pushq %%rax; iretq; 1:")
INSN(i_int80, "mov $39, %%eax; int $0x80")
INSN(i_int3, "int3")
INSN(i_ud2, "ud2")

struct case_ { const char *name; void (*fn)(void); int expect; };

int main(void) {
    struct case_ cases[] = {
        {"cli", i_cli, SIGSEGV}, {"sti", i_sti, SIGSEGV}, {"hlt", i_hlt, SIGSEGV},
        {"in $0x60", i_in, SIGSEGV}, {"out to 0xe9 (debugcon)", i_out, SIGSEGV},
        {"out to 0x501 (isa-debug-exit)", i_outdbg, SIGSEGV}, {"rdmsr EFER", i_rdmsr, SIGSEGV},
        {"wrmsr EFER", i_wrmsr, SIGSEGV}, {"mov %cr3, %rax", i_rdcr3, SIGSEGV},
        {"mov %rax, %cr3", i_wrcr3, SIGSEGV}, {"mov %rax, %cr4", i_wrcr4, SIGSEGV},
        {"mov %rax, %cr0", i_wrcr0, SIGSEGV}, {"mov %rax, %dr7", i_wrdr7, SIGSEGV},
        {"lgdt", i_lgdt, SIGSEGV}, {"lidt", i_lidt, SIGSEGV}, {"lldt", i_lldt, SIGSEGV},
        {"ltr", i_ltr, SIGSEGV}, {"invlpg", i_invlpg, SIGSEGV}, {"wbinvd", i_wbinvd, SIGSEGV},
        {"invd", i_invd, SIGSEGV}, {"clts", i_clts, SIGSEGV}, {"swapgs", i_swapgs, SIGSEGV},
        {"sysretq", i_sysret, SIGSEGV}, {"iretq to CS 0x08", i_iret0, SIGSEGV},
        {"int $0x80", i_int80, SIGSEGV}, {"int3", i_int3, SIGTRAP}, {"ud2", i_ud2, SIGILL},
    };
    int bad = 0;
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fflush(stdout);
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
            alarm(5);
            cases[i].fn();
            _exit(0);
        }
        int status;
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
        int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        if (sig == cases[i].expect) {
            OK("%s: %s", cases[i].name, signal_name(sig));
        } else {
            printf("FAIL-CASE %s: %s (status %#x), expected %s\n", cases[i].name,
                   sig ? signal_name(sig) : "exited", status, signal_name(cases[i].expect));
            bad++;
        }
    }
    /* int $N for every vector, with a handler (one process). */
    probe_install();
    int vec_bad = 0;
    for (int v = 0; v < 256; v++) {
        extern char int_table[];
        void (*fn)(void *) = (void (*)(void *))(int_table + 4 * v);
        int sig = probe(fn, NULL);
        int ok = (v == 3 || v == 4) ? (sig == SIGTRAP || sig == SIGSEGV) : sig == SIGSEGV;
        if (!ok) {
            printf("FAIL-CASE int $%#x: %s\n", v, signal_name(sig));
            vec_bad++;
        }
    }
    if (!vec_bad) OK("int $N for all 256 vectors: SIGSEGV (int $3/$4: SIGTRAP or SIGSEGV)");
    CHECK(getpid() > 0, "getpid");
    CHECK(bad == 0 && vec_bad == 0, "%d instructions and %d vectors did not fault as expected", bad, vec_bad);
    printf("hostile_privileged_instructions ok\n");
    return 0;
}

/* int $N; ret; nop for N = 0..255, 4 bytes each. */
__asm__(".text\n.globl int_table\nint_table:\n"
        ".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
        ".irp m,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
        ".byte 0xcd, \\n*16+\\m, 0xc3, 0x90\n"
        ".endr\n.endr\n");
