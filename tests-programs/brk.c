/* brk: grows the heap to 64 MiB in 1 MiB steps with the raw system call (musl's sbrk
 * refuses to move the break), touches every page, checks it, shrinks it back, and checks
 * that memory given back and taken again reads as zeros. */
#include "check.h"
#include <stdint.h>
#include <sys/syscall.h>

#define PAGE 4096
#define TOTAL (64UL << 20)
#define STEP (1UL << 20)

static uintptr_t brk_to(uintptr_t addr) { return (uintptr_t)syscall(SYS_brk, addr); }

int main(void) {
    printf("brk: growing the heap to %lu MiB\n", TOTAL >> 20);
    uintptr_t start = brk_to(0);
    CHECK(start != 0, "brk(0)");
    CHECK(brk_to(0) == start, "brk(0) is stable");
    for (uintptr_t off = STEP; off <= TOTAL; off += STEP)
        CHECK(brk_to(start + off) == start + off, "brk(+%lu MiB)", (unsigned long)(off >> 20));
    OK("break moved from %#lx to %#lx", (unsigned long)start, (unsigned long)(start + TOTAL));
    volatile unsigned char *heap = (volatile unsigned char *)start;
    for (uintptr_t i = 0; i < TOTAL; i += PAGE)
        CHECK(heap[i] == 0, "fresh heap byte %#lx is %d", (unsigned long)i, heap[i]);
    for (uintptr_t i = 0; i < TOTAL; i += PAGE)
        heap[i] = (unsigned char)(i / PAGE);
    for (uintptr_t i = 0; i < TOTAL; i += PAGE)
        CHECK(heap[i] == (unsigned char)(i / PAGE), "heap page %lu", (unsigned long)(i / PAGE));
    OK("touched and checked %lu pages", TOTAL / PAGE);
    CHECK(brk_to(start + PAGE) == start + PAGE, "shrink to one page");
    CHECK(heap[0] == 0, "the first page survives the shrink");
    CHECK(brk_to(start + 2 * PAGE) == start + 2 * PAGE, "grow again");
    CHECK(heap[PAGE] == 0, "a page given back and taken again reads %d, not 0", heap[PAGE]);
    CHECK(brk_to(start) == start, "shrink to the start");
    CHECK(brk_to(PAGE) == start, "the break cannot go below the heap's start");
    OK("shrinking gives memory back; regrown pages are zero");
    printf("brk: all checks passed\n");
    return 0;
}
