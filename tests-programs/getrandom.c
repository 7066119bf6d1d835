/* getrandom: two 32-byte draws differ and are not all zero; GRND_NONBLOCK works; unknown
 * flags are EINVAL; /dev/urandom gives bytes too. */
#include "check.h"
#include <fcntl.h>
#include <sys/random.h>

static int all_zero(const unsigned char *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

int main(void) {
    unsigned char a[32], b[32], c[32], big[1000];
    CHECK(getrandom(a, sizeof a, 0) == 32, "getrandom #1");
    CHECK(getrandom(b, sizeof b, 0) == 32, "getrandom #2");
    CHECK(memcmp(a, b, 32) != 0, "two draws are equal");
    CHECK(!all_zero(a, 32) && !all_zero(b, 32), "a draw is all zeros");
    OK("two 32-byte draws differ and are not zero");
    CHECK(getrandom(c, sizeof c, GRND_NONBLOCK) == 32, "getrandom(GRND_NONBLOCK)");
    CHECK(memcmp(a, c, 32) != 0 && memcmp(b, c, 32) != 0, "GRND_NONBLOCK repeats");
    OK("GRND_NONBLOCK");
    CHECK(getrandom(big, sizeof big, 0) == sizeof big, "1000 bytes");
    CHECK(getrandom(big, 0, 0) == 0, "0 bytes");
    EXPECT_ERRNO(getrandom(a, sizeof a, 0x100), EINVAL);
    int fd = open("/dev/urandom", O_RDONLY);
    CHECK(fd >= 0, "open(/dev/urandom)");
    CHECK(read(fd, c, sizeof c) == 32 && !all_zero(c, 32), "read(/dev/urandom)");
    close(fd);
    OK("/dev/urandom");
    printf("getrandom: all checks passed\n");
    return 0;
}
