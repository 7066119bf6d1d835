/* Prints argc, every argv string, every environment string (in order), the working
 * directory and the page size from the auxiliary vector. */
#include "check.h"
#include <sys/auxv.h>

extern char **environ;

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    for (char **e = environ; *e; e++)
        printf("env=%s\n", *e);
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    printf("cwd=%s\n", cwd);
    printf("pagesz=%lu\n", getauxval(AT_PAGESZ));
    return 0;
}
