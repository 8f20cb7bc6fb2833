/* Kafka's sampled rate (padding, window roll, purge), the string map and the sensor table's
 * expiry. Times are a fake clock in ms; numbers are worked out in the comments from
 * Kafka's Rate.windowSize and SampledStat. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/errors.h"
#include "quotas/quotas_int.h"

#define NUM 11
#define MS  1000

static const qwindow W = {NUM, MS};

typedef struct rate_fixture {
    qsample samples[NUM];
    qrate r;
} rate_fixture;

static void rate_init(rate_fixture *f)
{
    memset(f, 0, sizeof *f);
    f->r.s = f->samples;
}

/* One burst at t=0: the span is padded from 0 to (11 - 1) × 1 s, so 15000 B reads as
 * 1500 B/s, not infinity. At t=3500 the span is 3500 + 7 × 1000 (3 full windows, 10
 * required) = 10500 ms. */
static void test_rate_padding(void **state)
{
    rate_fixture f;
    rate_init(&f);
    qrate_record(&f.r, &W, 15000, 0);
    assert_int_equal(qrate_span(&f.r, &W, 0), 10000);
    assert_float_equal(qrate_measure(&f.r, &W, 0), 1500.0, 1e-9);
    assert_int_equal(qrate_span(&f.r, &W, 3500), 10500);
    assert_float_equal(qrate_measure(&f.r, &W, 3500), 15000 / 10.5, 1e-9);
    /* 10999 ms: 10 full windows, no padding. 11000: the sample is 11 windows old, purged. */
    assert_int_equal(qrate_span(&f.r, &W, 10999), 10999);
    assert_float_equal(qrate_measure(&f.r, &W, 10999), 15000 / 10.999, 1e-9);
    assert_float_equal(qrate_measure(&f.r, &W, 11000), 0.0, 1e-12);
    assert_int_equal(qrate_span(&f.r, &W, 11000), 10000);
}

/* 1000 B every second from t=0: after 11 records the ring is full (sum 11000, oldest at 0,
 * span 10000: 1100 B/s). The 12th record (t=11000) recycles the t=0 sample, so the sum
 * stays 11000 over the span from t=1000: still 1100. Without records the t=1000 sample
 * ages out at t=12000 (11 windows): sum 10000 over 2000..12000 = 1000 B/s; in between at
 * t=11500 the span is 10500: 11000 / 10.5. */
static void test_rate_window_roll(void **state)
{
    rate_fixture f;
    rate_init(&f);
    for (int i = 0; i <= 10; i++)
        qrate_record(&f.r, &W, 1000, (int64_t)i * 1000);
    assert_int_equal(f.r.used, NUM);
    assert_float_equal(qrate_sum(&f.r, &W, 10000), 11000, 1e-9);
    assert_float_equal(qrate_measure(&f.r, &W, 10000), 1100.0, 1e-9);
    qrate_record(&f.r, &W, 1000, 11000);
    assert_int_equal(f.r.current, 0); /* wrapped onto the oldest sample */
    assert_float_equal(qrate_measure(&f.r, &W, 11000), 1100.0, 1e-9);
    assert_float_equal(qrate_measure(&f.r, &W, 11500), 11000 / 10.5, 1e-9);
    assert_float_equal(qrate_measure(&f.r, &W, 12000), 1000.0, 1e-9);
}

/* Records within one window accumulate in one sample; a record a window later starts a new
 * one at the record's own time (Kafka does not align samples to a grid). */
static void test_rate_sample_boundaries(void **state)
{
    rate_fixture f;
    rate_init(&f);
    qrate_record(&f.r, &W, 100, 500);
    qrate_record(&f.r, &W, 100, 1499);
    assert_int_equal(f.r.used, 1);
    qrate_record(&f.r, &W, 100, 1500);
    assert_int_equal(f.r.used, 2);
    assert_int_equal(f.r.s[1].start_ms, 1500);
    assert_float_equal(f.r.s[0].value, 200, 1e-12);
    /* A negative record (a refused event taken back) lowers the current sample. */
    qrate_record(&f.r, &W, -100, 1500);
    assert_float_equal(qrate_sum(&f.r, &W, 1500), 200, 1e-12);
}

/* A small window (2 × 100 ms) pads to one window. */
static void test_rate_small_window(void **state)
{
    qsample s[2];
    qrate r = {0, 0, s};
    qwindow w = {2, 100};
    qrate_record(&r, &w, 50, 0);
    assert_int_equal(qrate_span(&r, &w, 0), 100);
    assert_float_equal(qrate_measure(&r, &w, 0), 500, 1e-9);
    assert_float_equal(qrate_measure(&r, &w, 150), 50 / 0.15, 1e-9);
    assert_float_equal(qrate_measure(&r, &w, 200), 0, 1e-12);
}

static void test_qmap(void **state)
{
    qmap m = {0};
    static int vals[1000];
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        vals[i] = i;
        assert_int_equal(qmap_put(&m, key, &vals[i]), 0);
    }
    assert_int_equal(m.count, 1000);
    for (int i = 0; i < 1000; i += 7) {
        snprintf(key, sizeof key, "k%d", i);
        assert_ptr_equal(qmap_get(&m, key), &vals[i]);
    }
    assert_ptr_equal(qmap_del(&m, "k5"), &vals[5]);
    assert_null(qmap_get(&m, "k5"));
    assert_null(qmap_del(&m, "k5"));
    size_t n = 0, slot;
    for (qmap_node *nd = qmap_first(&m, &slot); nd; nd = qmap_next(&m, nd, &slot))
        n++;
    assert_int_equal(n, 999);
    qmap_clear(&m, NULL);
    assert_int_equal(m.count, 0);
    assert_null(qmap_get(&m, "k1"));
}

/* Components are length-prefixed, so ("a", "bc") and ("ab", "c") differ, and a name holding
 * the separator characters cannot forge another key. */
static void test_qkey_unambiguous(void **state)
{
    char a[64], b[64];
    size_t la = 0, lb = 0;
    assert_true(qkey_add(a, sizeof a, &la, 'u', "a"));
    assert_true(qkey_add(a, sizeof a, &la, 'c', "bc"));
    assert_true(qkey_add(b, sizeof b, &lb, 'u', "ab"));
    assert_true(qkey_add(b, sizeof b, &lb, 'c', "c"));
    assert_string_not_equal(a, b);
    assert_string_equal(a, "u1:ac2:bc");
    size_t lc = 0;
    char small[4];
    assert_false(qkey_add(small, sizeof small, &lc, 'u', "alice"));
}

/* Sensors idle for (num + 1) windows are dropped by the sweep; busy ones stay. */
static void test_sensor_sweep(void **state)
{
    qsensors t = {.w = W};
    qsensor *busy = qsensors_get(&t, "busy", ST_QUOTA_PRODUCE, "alice", NULL, NULL);
    assert_non_null(busy);
    assert_ptr_equal(qsensors_get(&t, "busy", ST_QUOTA_PRODUCE, "alice", NULL, NULL), busy);
    assert_string_equal(busy->user, "alice");
    assert_null(busy->client_id);
    qsensor *idle = qsensors_get(&t, "idle", ST_QUOTA_FETCH, NULL, "app", NULL);
    assert_non_null(idle);
    assert_int_equal(qsensor_set_tenant(idle, "acme"), 0);
    assert_string_equal(idle->tenant, "acme");
    idle->last_ms = 0;
    busy->last_ms = 12000;
    int64_t limit = qsensors_idle_ms(&t);
    assert_int_equal(limit, 12000);
    qsensors_sweep(&t, limit); /* idle for exactly the limit: kept */
    assert_int_equal(t.map.count, 2);
    qsensors_sweep(&t, limit + 1);
    assert_int_equal(t.map.count, 1);
    assert_null(qsensors_find(&t, "idle"));
    assert_ptr_equal(qsensors_find(&t, "busy"), busy);
    /* tick sweeps only every 256 calls */
    busy->last_ms = 0;
    for (int i = 0; i < 255; i++)
        assert_false(qsensors_tick(&t, 100000));
    assert_int_equal(t.map.count, 1);
    assert_true(qsensors_tick(&t, 100000));
    assert_int_equal(t.map.count, 0);
    qsensors_clear(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_padding),
        cmocka_unit_test(test_rate_window_roll),
        cmocka_unit_test(test_rate_sample_boundaries),
        cmocka_unit_test(test_rate_small_window),
        cmocka_unit_test(test_qmap),
        cmocka_unit_test(test_qkey_unambiguous),
        cmocka_unit_test(test_sensor_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
