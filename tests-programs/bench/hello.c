/* `isounik bench`'s small program: exits 0 at once (the exec benchmarks run it), or, with
 * an argument, first prints `boot tsc=T` where T is the time stamp counter at its start
 * (guest instructions since reset under QEMU -icount shift=0): the boot-time probe. */
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	(void)argv;
	if (argc > 1) {
		printf("boot tsc=%llu\n", ((unsigned long long)hi << 32) | lo);
		fflush(stdout);
	}
	return 0;
}
