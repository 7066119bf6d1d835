/* /proc/self/exe: readlink gives argv[0] (the program's absolute path); opening it gives
 * the program's own ELF file. */
#include "check.h"
#include <fcntl.h>
#include <sys/stat.h>

int main(int argc, char **argv) {
    CHECK(argc >= 1, "argc %d", argc);
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    CHECK(n > 0, "readlink(/proc/self/exe)");
    buf[n] = 0;
    CHECK(!strcmp(buf, argv[0]), "readlink(/proc/self/exe) is %s, argv[0] is %s", buf, argv[0]);
    OK("readlink(/proc/self/exe) = %s", buf);
    int fd = open("/proc/self/exe", O_RDONLY);
    CHECK(fd >= 0, "open(/proc/self/exe)");
    char magic[4];
    CHECK(read(fd, magic, 4) == 4 && !memcmp(magic, "\177ELF", 4), "ELF magic");
    struct stat a, b;
    CHECK(fstat(fd, &a) == 0 && stat(argv[0], &b) == 0, "stat");
    CHECK(a.st_size == b.st_size && a.st_ino == b.st_ino, "/proc/self/exe is another file");
    close(fd);
    OK("open(/proc/self/exe) is the program's ELF file (%ld bytes)", (long)a.st_size);
    printf("proc_self_exe: all checks passed\n");
    return 0;
}
