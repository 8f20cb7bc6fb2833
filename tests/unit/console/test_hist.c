/*
 * The console's per-second history (admin-ui/hist.c): gaps read as missing, the past is
 * not rewritten, a window of 300 seconds, series dropped after 300 idle seconds, and a
 * table that grows past its first size without losing a series.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "admin-ui/hist.h"

static void test_put_get_with_gaps(void **state)
{
    st_hist *h = st_hist_new();
    assert_int_equal(st_hist_put(h, "topic|dc1/b0|orders|bytes_in", 1000, 5), 0);
    assert_int_equal(st_hist_put(h, "topic|dc1/b0|orders|bytes_in", 1003, 7.5), 0);
    assert_int_equal(st_hist_put(h, "topic|dc1/b0|orders|bytes_in", 1001, 99), 0); /* past */
    json_t *a = st_hist_get(h, "topic|dc1/b0|orders|bytes_in", 1003);
    assert_non_null(a);
    assert_int_equal(json_array_size(a), ST_HIST_SECONDS);
    size_t last = ST_HIST_SECONDS - 1;
    assert_true(json_real_value(json_array_get(a, last)) == 7.5);
    assert_true(json_is_null(json_array_get(a, last - 1))); /* 1002: a gap */
    assert_true(json_is_null(json_array_get(a, last - 2))); /* 1001: never rewritten */
    assert_true(json_real_value(json_array_get(a, last - 3)) == 5);
    assert_true(json_is_null(json_array_get(a, 0)));
    json_decref(a);
    /* asked for a later end: everything shifts left, the newest seconds are missing */
    a = st_hist_get(h, "topic|dc1/b0|orders|bytes_in", 1010);
    assert_true(json_real_value(json_array_get(a, last - 7)) == 7.5);
    assert_true(json_is_null(json_array_get(a, last)));
    json_decref(a);
    assert_null(st_hist_get(h, "topic|dc1/b0|nothing|bytes_in", 1003));
    st_hist_free(h);
}

static void test_window_wraps(void **state)
{
    st_hist *h = st_hist_new();
    for (int64_t t = 0; t < 1000; t++)
        assert_int_equal(st_hist_put(h, "k", 5000 + t, (double)t), 0);
    json_t *a = st_hist_get(h, "k", 5999);
    for (size_t i = 0; i < ST_HIST_SECONDS; i++)
        assert_true(json_real_value(json_array_get(a, i)) == (double)(1000 - ST_HIST_SECONDS + i));
    json_decref(a);
    /* a jump of more than the window leaves only the new point */
    st_hist_put(h, "k", 7000, 1);
    a = st_hist_get(h, "k", 7000);
    for (size_t i = 0; i + 1 < ST_HIST_SECONDS; i++)
        assert_true(json_is_null(json_array_get(a, i)));
    json_decref(a);
    st_hist_free(h);
}

static void test_sweep_and_growth(void **state)
{
    st_hist *h = st_hist_new();
    char key[64];
    for (int i = 0; i < 5000; i++) { /* past the first table size of 1024 */
        snprintf(key, sizeof key, "topic|dc1/b0|t%d|bytes_in", i);
        assert_int_equal(st_hist_put(h, key, i < 2500 ? 100 : 1000, i), 0);
    }
    assert_int_equal(st_hist_count(h), 5000);
    st_hist_sweep(h, 1000); /* the first half was last written at 100: over 300 s ago */
    assert_int_equal(st_hist_count(h), 2500);
    assert_null(st_hist_get(h, "topic|dc1/b0|t0|bytes_in", 1000));
    json_t *a = st_hist_get(h, "topic|dc1/b0|t4999|bytes_in", 1000);
    assert_non_null(a);
    assert_true(json_real_value(json_array_get(a, ST_HIST_SECONDS - 1)) == 4999);
    json_decref(a);
    /* a swept name comes back as a fresh series */
    assert_int_equal(st_hist_put(h, "topic|dc1/b0|t0|bytes_in", 1001, 1), 0);
    assert_int_equal(st_hist_count(h), 2501);
    st_hist_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_with_gaps),
        cmocka_unit_test(test_window_wraps),
        cmocka_unit_test(test_sweep_and_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
