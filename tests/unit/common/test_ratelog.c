/* Unit tests for common/ratelog.c: one line per interval, with the count held back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/ratelog.h"

static void test_one_per_interval(void **state)
{
    st_ratelog r = ST_RATELOG_INIT(10000);
    uint64_t held = 99;
    assert_true(st_ratelog_allow(&r, 5000, &held)); /* the first line always goes */
    assert_int_equal(held, 0);
    for (int i = 0; i < 1000; i++) /* a thousand repeats within the interval */
        assert_false(st_ratelog_allow(&r, 5000 + i, &held));
    assert_false(st_ratelog_allow(&r, 14999, &held));
    assert_true(st_ratelog_allow(&r, 15000, &held));
    assert_int_equal(held, 1001);
    assert_false(st_ratelog_allow(&r, 15001, &held));
    assert_int_equal(st_ratelog_take(&r), 1); /* the closing summary */
    assert_int_equal(st_ratelog_take(&r), 0);
    assert_true(st_ratelog_allow(&r, 25000, &held));
    assert_int_equal(held, 0);
}

/* A monotonic clock may read 0 (a fresh boot's first millisecond): still counted. */
static void test_time_zero(void **state)
{
    st_ratelog r = ST_RATELOG_INIT(100);
    uint64_t held;
    assert_true(st_ratelog_allow(&r, 0, &held));
    assert_false(st_ratelog_allow(&r, 50, &held));
    assert_true(st_ratelog_allow(&r, 101, &held));
    assert_int_equal(held, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_per_interval),
        cmocka_unit_test(test_time_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
