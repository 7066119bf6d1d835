/* mmap: a file mapped MAP_PRIVATE read-only and read-write (private writes never reach
 * the file), at an offset, with the tail of the last page zero; anonymous memory;
 * munmap (whole and partial); mremap growing and shrinking. */
#include "check.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>

#define PAGE 4096
#define SIZE (3 * PAGE + 100)

static unsigned char pattern(size_t i) { return (unsigned char)(i * 7 + 3); }

int main(void) {
    char path[] = "/tmp/mmap_file.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    static unsigned char data[SIZE];
    for (size_t i = 0; i < SIZE; i++)
        data[i] = pattern(i);
    CHECK(write(fd, data, SIZE) == SIZE, "write");
    OK("a %d-byte file", SIZE);

    unsigned char *p = mmap(NULL, SIZE, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED, "mmap(PROT_READ, MAP_PRIVATE)");
    CHECK(((uintptr_t)p & (PAGE - 1)) == 0, "mapping at %p is not page-aligned", (void *)p);
    for (size_t i = 0; i < SIZE; i++)
        CHECK(p[i] == pattern(i), "byte %zu is %d", i, p[i]);
    for (size_t i = SIZE; i < 4 * PAGE; i++)
        CHECK(p[i] == 0, "byte %zu past EOF is %d", i, p[i]);
    CHECK(munmap(p, SIZE) == 0, "munmap");
    OK("read-only private mapping has the file's bytes, zeros past EOF");

    unsigned char *q = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(q != MAP_FAILED, "mmap(PROT_READ|PROT_WRITE, MAP_PRIVATE)");
    q[0] = 0xaa;
    q[PAGE + 5] = 0xbb;
    q[SIZE - 1] = 0xcc;
    CHECK(q[0] == 0xaa && q[PAGE + 5] == 0xbb && q[SIZE - 1] == 0xcc, "private writes");
    CHECK(q[1] == pattern(1) && q[PAGE + 6] == pattern(PAGE + 6), "untouched bytes");
    unsigned char back[SIZE];
    CHECK(pread(fd, back, SIZE, 0) == SIZE, "pread");
    CHECK(!memcmp(back, data, SIZE), "the file changed through a private mapping");
    unsigned char *q2 = mmap(NULL, SIZE, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(q2 != MAP_FAILED && q2[0] == pattern(0), "a second mapping sees the file, not the copy");
    munmap(q2, SIZE);
    CHECK(munmap(q, SIZE) == 0, "munmap");
    OK("private writes stay private; the file is unchanged");

    unsigned char *r = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 2 * PAGE);
    CHECK(r != MAP_FAILED, "mmap at offset %d", 2 * PAGE);
    CHECK(r[0] == pattern(2 * PAGE) && r[PAGE - 1] == pattern(3 * PAGE - 1), "offset mapping");
    munmap(r, PAGE);
    EXPECT_ERRNO(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 100), EINVAL);
    EXPECT_ERRNO(mmap(NULL, 0, PROT_READ, MAP_PRIVATE, fd, 0), EINVAL);
    EXPECT_ERRNO(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, 12345, 0), EBADF);
    OK("mmap at a page offset");
    close(fd);
    CHECK(unlink(path) == 0, "unlink");

    size_t len = 1 << 20;
    unsigned char *a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(a != MAP_FAILED, "anonymous mmap");
    for (size_t i = 0; i < len; i += 512)
        CHECK(a[i] == 0, "anonymous byte %zu is %d", i, a[i]);
    for (size_t i = 0; i < len; i++)
        a[i] = pattern(i);
    for (size_t i = 0; i < len; i++)
        CHECK(a[i] == pattern(i), "anonymous byte %zu", i);
    CHECK(munmap(a + 10 * PAGE, PAGE) == 0, "partial munmap");
    CHECK(a[11 * PAGE] == pattern(11 * PAGE), "the rest survives a partial munmap");
    CHECK(munmap(a, len) == 0, "munmap over a hole");
    EXPECT_ERRNO(munmap(a + 1, PAGE), EINVAL);
    OK("anonymous mapping: zero-filled, writable, munmap");

    unsigned char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED, "mmap for mremap");
    for (size_t i = 0; i < 2 * PAGE; i++)
        m[i] = pattern(i);
    unsigned char *g = mremap(m, 2 * PAGE, 64 * PAGE, MREMAP_MAYMOVE);
    CHECK(g != MAP_FAILED, "mremap grow");
    for (size_t i = 0; i < 2 * PAGE; i++)
        CHECK(g[i] == pattern(i), "byte %zu after mremap", i);
    for (size_t i = 2 * PAGE; i < 64 * PAGE; i += 256)
        CHECK(g[i] == 0, "grown byte %zu is %d", i, g[i]);
    g[64 * PAGE - 1] = 1;
    unsigned char *s = mremap(g, 64 * PAGE, PAGE, 0);
    CHECK(s == g, "mremap shrink in place");
    CHECK(s[PAGE - 1] == pattern(PAGE - 1), "kept after shrinking");
    CHECK(munmap(s, PAGE) == 0, "munmap");
    OK("mremap grows (contents kept, new part zero) and shrinks");

    printf("mmap_file: all checks passed\n");
    return 0;
}
