/* Shared helpers of the Iso-UniK test programs. Each program prints one "ok: ..." line per
 * check to stdout and exits 0 when all pass; the first failing check prints "FAIL ..." with
 * the source line and errno, and exits 1. Output is flushed before anything that may kill
 * the process. */
#ifndef ISOUNIK_CHECK_H
#define ISOUNIK_CHECK_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(cond, ...)                                                               \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            int check_errno_ = errno;                                                  \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                     \
            printf(__VA_ARGS__);                                                       \
            printf(" (errno %d: %s)\n", check_errno_, strerror(check_errno_));         \
            fflush(stdout);                                                            \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

#define OK(...)                                                                        \
    do {                                                                               \
        printf("ok: ");                                                                \
        printf(__VA_ARGS__);                                                           \
        printf("\n");                                                                  \
    } while (0)

/* `expr` must fail: return -1 (or MAP_FAILED) with errno `err`. */
#define EXPECT_ERRNO(expr, err)                                                        \
    do {                                                                               \
        errno = 0;                                                                     \
        long expect_result_ = (long)(expr);                                            \
        int expect_errno_ = errno;                                                     \
        if (expect_result_ != -1 || expect_errno_ != (err)) {                          \
            printf("FAIL %s:%d: %s returned %ld with errno %d (%s), expected -1 with %s\n", \
                   __FILE__, __LINE__, #expr, expect_result_, expect_errno_,          \
                   strerror(expect_errno_), #err);                                     \
            fflush(stdout);                                                            \
            exit(1);                                                                   \
        }                                                                              \
        printf("ok: %s fails with %s\n", #expr, #err);                                 \
    } while (0)

#endif
