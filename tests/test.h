/* test.h — a tiny assertion header: prints the expression and both values on failure.
 *
 * Each test program counts failures in dt_test_failures and returns
 * TEST_EXIT() from main: 0 when everything held, 1 otherwise. A test that cannot
 * run here (no GPU) returns TEST_SKIP (77), which CTest reports as skipped. */
#ifndef DT_TEST_H
#define DT_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int dt_test_failures = 0;
static int dt_test_checks = 0;

#define TEST_SKIP 77

#define CHECK(expr)                                                                     \
    do {                                                                                \
        dt_test_checks++;                                                               \
        if (!(expr)) {                                                                  \
            dt_test_failures++;                                                         \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #expr);    \
        }                                                                               \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                              \
    do {                                                                                \
        long long va_ = (long long)(a), vb_ = (long long)(b);                           \
        dt_test_checks++;                                                               \
        if (va_ != vb_) {                                                               \
            dt_test_failures++;                                                         \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, \
                    #a, #b, va_, vb_);                                                  \
        }                                                                               \
    } while (0)

#define CHECK_EQ_U32(a, b)                                                              \
    do {                                                                                \
        uint32_t va_ = (uint32_t)(a), vb_ = (uint32_t)(b);                              \
        dt_test_checks++;                                                               \
        if (va_ != vb_) {                                                               \
            dt_test_failures++;                                                         \
            fprintf(stderr, "%s:%d: %s == %s failed: 0x%08" PRIx32 " != 0x%08" PRIx32 "\n", \
                    __FILE__, __LINE__, #a, #b, va_, vb_);                              \
        }                                                                               \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                           \
    do {                                                                                \
        double va_ = (double)(a), vb_ = (double)(b), t_ = (double)(tol);                \
        dt_test_checks++;                                                               \
        if (!(va_ - vb_ <= t_ && vb_ - va_ <= t_)) {                                    \
            dt_test_failures++;                                                         \
            fprintf(stderr, "%s:%d: |%s - %s| <= %s failed: %.9g vs %.9g\n", __FILE__,  \
                    __LINE__, #a, #b, #tol, va_, vb_);                                  \
        }                                                                               \
    } while (0)

#define CHECK_STR_CONTAINS(haystack, needle)                                            \
    do {                                                                                \
        const char *h_ = (haystack), *n_ = (needle);                                    \
        dt_test_checks++;                                                               \
        if (!h_ || !strstr(h_, n_)) {                                                   \
            dt_test_failures++;                                                         \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, \
                    h_ ? h_ : "(null)", n_);                                            \
        }                                                                               \
    } while (0)

#define TEST_EXIT()                                                                     \
    (fprintf(stderr, "%d checks, %d failed\n", dt_test_checks, dt_test_failures),      \
     dt_test_failures ? 1 : (dt_test_checks ? 0 : 1))

#endif
