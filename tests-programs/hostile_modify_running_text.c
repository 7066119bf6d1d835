/* Attack: rewrite the running program's own code through its file. Program pages are shared
 * with the page cache until written, so writing the executable file could change code that
 * is already mapped executable. `hostile_modify_running_text DATA` opens /proc/self/exe
 * for writing (Linux: ETXTBSY), and if that works writes WRPKRU into the file where its
 * function `victim` is, then checks that `victim`'s code in memory is unchanged. */
#define ISOUNIK_HOSTILE
#include "check.h"
#include <fcntl.h>

static const unsigned char gadget[] = {0x31, 0xc0, 0x31, 0xc9, 0x31, 0xd2, 0x0f, 0x01, 0xef, 0xc3};

__attribute__((noinline, used)) int victim(int x) {
    __asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop; nop; nop; nop; nop");
    return x * 3 + 1;
}

int main(int argc, char **argv) {
    CHECK(argc == 2, "usage: %s DATA", argv[0]);
    uint64_t data = hexarg(argv[1]);
    unsigned pkru = rdpkru();
    int fd = open("/proc/self/exe", O_RDWR);
    if (fd < 0) {
        CHECK(errno == ETXTBSY || errno == EACCES || errno == EPERM || errno == EROFS,
              "open /proc/self/exe O_RDWR");
        OK("opening the running program for writing fails (%s)", strerror(errno));
        fd = open(argv[0], O_WRONLY);
        CHECK(fd < 0, "open argv[0] O_WRONLY succeeded");
        OK("opening it by path fails too (%s)", strerror(errno));
    } else {
        uint64_t off = elf_file_offset(fd, (uint64_t)victim);
        CHECK(off != 0, "victim's offset");
        ssize_t w = pwrite(fd, gadget, sizeof gadget, off);
        const unsigned char *code = (const unsigned char *)victim;
        int changed = memcmp(code, gadget, sizeof gadget) == 0;
        if (changed) {
            victim(0);
            probe_install();
            int sig = probe(probe_read_fn, (void *)data);
            printf("FAIL: writing the executable file (pwrite %zd) changed the running code; "
                   "after calling it PKRU is %#x (was %#x) and reading the kernel's .data %s\n",
                   w, rdpkru(), pkru, sig ? "still faults" : "SUCCEEDS");
            fflush(stdout);
            return 1;
        }
        OK("the running program's file is writable (pwrite %zd), but its mapped code did not change", w);
    }
    CHECK(victim(2) == 7, "victim");
    CHECK(rdpkru() == pkru, "PKRU changed");
    printf("hostile_modify_running_text ok\n");
    return 0;
}
