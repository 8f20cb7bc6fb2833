/*
 * The loop-turn histogram: percentiles land within the 12.5% its buckets promise and
 * never above the longest turn; and a loop whose callback holds it for 30 ms reports a
 * turn at least that long.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "broker/net/loop.h"
#include "common/clock.h"

static void assert_near(int64_t got, int64_t want)
{
    /* a bucket's top is at most 1/8 above anything in it */
    assert_true(got >= want);
    assert_true(got <= want + want / 8 + 1);
}

static void test_percentiles(void **state)
{
    st_loop_turn_hist *h = calloc(1, sizeof *h);
    assert_non_null(h);
    st_loop_turns t;
    st_loop_turn_summary(h, &t);
    assert_int_equal(t.turns, 0);
    assert_int_equal(t.p99_us, 0);

    /* 9,900 turns of 100 µs, 90 of 3 ms, 10 of 40 ms */
    for (int i = 0; i < 9900; i++)
        st_loop_turn_record(h, 100);
    for (int i = 0; i < 90; i++)
        st_loop_turn_record(h, 3000);
    for (int i = 0; i < 10; i++)
        st_loop_turn_record(h, 40000);
    st_loop_turn_summary(h, &t);
    assert_int_equal(t.turns, 10000);
    assert_int_equal(t.longest_us, 40000);
    assert_near(t.p50_us, 100);
    assert_near(t.p99_us, 100);   /* rank 9,900 is the last 100 µs turn */
    assert_near(t.p999_us, 3000); /* rank 9,990 is the last 3 ms turn */

    /* one more long turn moves p99.9 to it; a percentile never passes the longest */
    for (int i = 0; i < 10; i++)
        st_loop_turn_record(h, 40001);
    st_loop_turn_summary(h, &t);
    assert_int_equal(t.longest_us, 40001);
    assert_true(t.p999_us >= 40000 && t.p999_us <= 40001);

    /* the extremes: 0, tiny values exact, a huge one in the last bucket */
    st_loop_turn_hist *g = calloc(1, sizeof *g);
    assert_non_null(g);
    st_loop_turn_record(g, 0);
    st_loop_turn_record(g, 5);
    st_loop_turn_record(g, INT64_MAX / 2);
    st_loop_turn_summary(g, &t);
    assert_int_equal(t.p50_us, 5);
    assert_int_equal(t.longest_us, INT64_MAX / 2);
    assert_true(t.p999_us > 0 && t.p999_us <= INT64_MAX / 2);
    free(g);
    free(h);
}

static void hold_30ms(st_loop *loop, st_timer *timer)
{
    /* Deliberately holds the loop, as a blocking fsync would: that is what is measured. */
    int64_t until = st_mono_us() + 30000;
    while (st_mono_us() < until)
        ;
    st_loop_stop(loop);
}

static void test_loop_reports_a_long_turn(void **state)
{
    char err[128];
    st_loop *loop = st_loop_new(err, sizeof err);
    assert_non_null(loop);
    st_timer t = {.cb = hold_30ms};
    st_timer_start(loop, &t, 5);
    st_loop_run(loop);
    st_loop_turns all, minute;
    st_loop_turn_stats(loop, &all, &minute);
    assert_true(all.turns >= 1);
    assert_true(all.longest_us >= 30000);
    assert_true(all.p999_us >= 30000);
    assert_int_equal(minute.turns, all.turns); /* no minute has passed yet */
    assert_int_equal(minute.longest_us, all.longest_us);
    st_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentiles),
        cmocka_unit_test(test_loop_reports_a_long_turn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
