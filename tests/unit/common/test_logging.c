/* Rate-limited log lines (st_log_limit): one line per interval, the count of held-back
 * lines carried by the next line written, and the suffix that shows it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/logging.h"

static void test_one_line_per_interval(void **state)
{
    st_log_limit l = ST_LOG_LIMIT_INIT(1000);
    uint64_t sup = 99;
    assert_true(st_log_limit_take(&l, 5000, &sup)); /* the first line always goes out */
    assert_int_equal(sup, 0);
    for (int i = 0; i < 250; i++)
        assert_false(st_log_limit_take(&l, 5000 + i, &sup));
    assert_false(st_log_limit_take(&l, 5999, &sup));
    assert_true(st_log_limit_take(&l, 6000, &sup)); /* the interval has passed */
    assert_int_equal(sup, 251);
    assert_false(st_log_limit_take(&l, 6500, &sup));
    /* Quiet for a long time: the next line goes out at once and reports the one. */
    assert_true(st_log_limit_take(&l, 60000, &sup));
    assert_int_equal(sup, 1);
    assert_true(st_log_limit_take(&l, 61000, &sup));
    assert_int_equal(sup, 0);
}

/* Reads the whole of f (rewound) into buf. */
static void slurp(FILE *f, char *buf, size_t cap)
{
    fflush(f);
    rewind(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
}

static void test_suffix(void **state)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    st_logging_setup(ST_LOG_INFO, f);
    st_logging_write_suppressed(ST_LOG_WARN, "net/listen.c", 7, 0, "first %d", 1);
    st_logging_write_suppressed(ST_LOG_WARN, "net/listen.c", 8, 1, "second");
    st_logging_write_suppressed(ST_LOG_WARN, "net/listen.c", 9, 1234, "third");
    st_logging_write_suppressed(ST_LOG_DEBUG, "net/listen.c", 10, 5, "below the level");
    char buf[4096];
    slurp(f, buf, sizeof buf);
    st_logging_setup(ST_LOG_INFO, NULL);
    fclose(f);
    assert_non_null(strstr(buf, "net/listen.c:7 first 1\n"));
    assert_non_null(strstr(buf, "net/listen.c:8 second [1 similar line suppressed]\n"));
    assert_non_null(strstr(buf, "net/listen.c:9 third [1234 similar lines suppressed]\n"));
    assert_null(strstr(buf, "below the level"));
}

static void test_macro(void **state)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    st_logging_setup(ST_LOG_INFO, f);
    st_log_limit l = ST_LOG_LIMIT_INIT(60000);
    for (int i = 0; i < 100; i++)
        st_log_every(&l, ST_LOG_WARN, "storm %d", i);
    char buf[4096];
    slurp(f, buf, sizeof buf);
    st_logging_setup(ST_LOG_INFO, NULL);
    fclose(f);
    assert_non_null(strstr(buf, "storm 0\n"));
    assert_null(strstr(buf, "storm 1"));
    assert_int_equal(l.suppressed, 99);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_line_per_interval),
        cmocka_unit_test(test_suffix),
        cmocka_unit_test(test_macro),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
