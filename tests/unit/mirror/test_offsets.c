/*
 * Unit tests for mirror/offsets.c: runs built from delivery reports, translation in and
 * between runs and past the end, dirty tracking, the persisted key/value format, replay of
 * the offsets topic into a fresh map (a restart), and trimming.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/errors.h"
#include "mirror/offsets.h"

static int64_t xlate(const st_moffsets *m, const char *topic, int32_t partition, int64_t s,
                     bool *beyond)
{
    int64_t out = -12345;
    bool b = true;
    assert_int_equal(st_moffsets_translate(m, topic, partition, s, &out, &b), ST_ERR_NONE);
    if (beyond)
        *beyond = b;
    else
        assert_false(b);
    return out;
}

/* st_moffsets_each collector: the runs of one (topic, partition). */
typedef struct runs_of {
    const char *topic;
    int32_t partition;
    st_mrun runs[64];
    size_t n;
    int seen;
} runs_of;

static void collect_runs(void *arg, const char *topic, int32_t partition, const st_mrun *runs,
                         size_t nruns)
{
    runs_of *r = arg;
    if (strcmp(topic, r->topic) != 0 || partition != r->partition)
        return;
    r->seen++;
    r->n = nruns < 64 ? nruns : 64;
    memcpy(r->runs, runs, r->n * sizeof *runs);
}

static runs_of get_runs(const st_moffsets *m, const char *topic, int32_t partition)
{
    runs_of r = {.topic = topic, .partition = partition};
    st_moffsets_each(m, collect_runs, &r);
    return r;
}

static void assert_run(const st_mrun *r, int64_t src, int64_t tgt, int64_t count)
{
    assert_int_equal(r->src_start, src);
    assert_int_equal(r->tgt_start, tgt);
    assert_int_equal(r->count, count);
}

static void test_contiguous_is_one_run(void **state)
{
    st_moffsets *m = st_moffsets_new();
    assert_non_null(m);
    for (int64_t i = 0; i < 100; i++)
        st_moffsets_add(m, "orders", 3, i, 1000 + i);
    runs_of r = get_runs(m, "orders", 3);
    assert_int_equal(r.n, 1);
    assert_run(&r.runs[0], 0, 1000, 100);

    assert_int_equal(xlate(m, "orders", 3, 0, NULL), 1000);
    assert_int_equal(xlate(m, "orders", 3, 50, NULL), 1050);
    assert_int_equal(xlate(m, "orders", 3, 99, NULL), 1099);
    /* caught up: the next target offset, not beyond */
    assert_int_equal(xlate(m, "orders", 3, 100, NULL), 1100);
    bool beyond = false;
    assert_int_equal(xlate(m, "orders", 3, 150, &beyond), 1100);
    assert_true(beyond);

    int64_t next_src = 0, next_tgt = 0;
    assert_true(st_moffsets_position(m, "orders", 3, &next_src, &next_tgt));
    assert_int_equal(next_src, 100);
    assert_int_equal(next_tgt, 1100);

    /* nothing known elsewhere */
    int64_t out;
    assert_int_equal(st_moffsets_translate(m, "orders", 4, 0, &out, &beyond),
                     ST_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(st_moffsets_translate(m, "payments", 3, 0, &out, &beyond),
                     ST_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_false(st_moffsets_position(m, "orders", 4, &next_src, &next_tgt));
    st_moffsets_free(m);
    st_moffsets_free(NULL);
}

static void test_gaps_and_jumps(void **state)
{
    st_moffsets *m = st_moffsets_new();
    /* source 100..109 → 0..9 */
    for (int64_t i = 0; i < 10; i++)
        st_moffsets_add(m, "t", 0, 100 + i, i);
    /* source gap (compaction, markers): 120..129 → 10..19 */
    for (int64_t i = 0; i < 10; i++)
        st_moffsets_add(m, "t", 0, 120 + i, 10 + i);
    /* source continues, target jumps (5 local records on the target): 130..134 → 25..29 */
    for (int64_t i = 0; i < 5; i++)
        st_moffsets_add(m, "t", 0, 130 + i, 25 + i);
    runs_of r = get_runs(m, "t", 0);
    assert_int_equal(r.n, 3);
    assert_run(&r.runs[0], 100, 0, 10);
    assert_run(&r.runs[1], 120, 10, 10);
    assert_run(&r.runs[2], 130, 25, 5);

    int64_t out = -1;
    bool beyond = true;
    assert_int_equal(st_moffsets_translate(m, "t", 0, 99, &out, &beyond),
                     ST_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(st_moffsets_translate(m, "t", 0, 0, &out, &beyond),
                     ST_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(xlate(m, "t", 0, 100, NULL), 0);
    assert_int_equal(xlate(m, "t", 0, 109, NULL), 9);
    /* in the gap 110..119: where the next run starts */
    assert_int_equal(xlate(m, "t", 0, 110, NULL), 10);
    assert_int_equal(xlate(m, "t", 0, 115, NULL), 10);
    assert_int_equal(xlate(m, "t", 0, 119, NULL), 10);
    assert_int_equal(xlate(m, "t", 0, 120, NULL), 10);
    assert_int_equal(xlate(m, "t", 0, 129, NULL), 19);
    /* run boundary without a source gap: the next run, skipping the target's local records */
    assert_int_equal(xlate(m, "t", 0, 130, NULL), 25);
    assert_int_equal(xlate(m, "t", 0, 134, NULL), 29);
    assert_int_equal(xlate(m, "t", 0, 135, NULL), 30);
    assert_int_equal(xlate(m, "t", 0, 136, &beyond), 30);
    assert_true(beyond);
    assert_int_equal(xlate(m, "t", 0, INT64_MAX, &beyond), 30);
    assert_true(beyond);

    /* contains: exactly the source offsets in a run (what the target has) */
    assert_false(st_moffsets_contains(m, "t", 0, 99));
    assert_true(st_moffsets_contains(m, "t", 0, 100));
    assert_true(st_moffsets_contains(m, "t", 0, 109));
    assert_false(st_moffsets_contains(m, "t", 0, 110)); /* in the source gap */
    assert_false(st_moffsets_contains(m, "t", 0, 119));
    assert_true(st_moffsets_contains(m, "t", 0, 120));
    assert_true(st_moffsets_contains(m, "t", 0, 134));
    assert_false(st_moffsets_contains(m, "t", 0, 135)); /* beyond the last run */
    assert_false(st_moffsets_contains(m, "t", 1, 100)); /* a partition not in the map */
    assert_false(st_moffsets_contains(m, "u", 0, 100));

    /* target going backwards (recreated target) with src continuing: a new run too */
    st_moffsets_add(m, "t", 0, 135, 3);
    r = get_runs(m, "t", 0);
    assert_int_equal(r.n, 4);
    assert_run(&r.runs[3], 135, 3, 1);
    assert_int_equal(xlate(m, "t", 0, 136, NULL), 4);
    st_moffsets_free(m);
}

static void test_not_increasing_is_ignored(void **state)
{
    st_moffsets *m = st_moffsets_new();
    for (int64_t i = 0; i < 10; i++)
        st_moffsets_add(m, "t", 1, i, 50 + i);
    st_moffsets_add(m, "t", 1, 5, 500); /* redelivered report */
    st_moffsets_add(m, "t", 1, 9, 59);  /* the same again */
    st_moffsets_add(m, "t", 1, 0, 0);   /* far back */
    st_moffsets_add(m, "t", 1, -1, 10); /* not offsets at all */
    st_moffsets_add(m, "t", 1, 10, -1);
    runs_of r = get_runs(m, "t", 1);
    assert_int_equal(r.n, 1);
    assert_run(&r.runs[0], 0, 50, 10);
    assert_int_equal(xlate(m, "t", 1, 5, NULL), 55);
    /* and the run still extends afterwards */
    st_moffsets_add(m, "t", 1, 10, 60);
    r = get_runs(m, "t", 1);
    assert_int_equal(r.n, 1);
    assert_run(&r.runs[0], 0, 50, 11);
    st_moffsets_free(m);
}

/* take_dirty collector: records every reported run. */
typedef struct dirty_log {
    struct {
        char topic[32];
        int32_t partition;
        st_mrun run;
    } e[4096];
    size_t n;
} dirty_log;

static void collect_dirty(void *arg, const char *topic, int32_t partition, const st_mrun *run)
{
    dirty_log *d = arg;
    assert_true(d->n < sizeof d->e / sizeof d->e[0]);
    snprintf(d->e[d->n].topic, sizeof d->e[d->n].topic, "%s", topic);
    d->e[d->n].partition = partition;
    d->e[d->n].run = *run;
    d->n++;
}

static void test_dirty_tracking(void **state)
{
    st_moffsets *m = st_moffsets_new();
    dirty_log *d = calloc(1, sizeof *d);
    st_moffsets_take_dirty(m, collect_dirty, d);
    assert_int_equal(d->n, 0);

    for (int64_t i = 0; i < 5; i++)
        st_moffsets_add(m, "b", 0, i, i);
    st_moffsets_add(m, "a", 2, 7, 70);
    st_moffsets_take_dirty(m, collect_dirty, d);
    assert_int_equal(d->n, 2);
    /* sorted by (topic, partition) */
    assert_string_equal(d->e[0].topic, "a");
    assert_int_equal(d->e[0].partition, 2);
    assert_run(&d->e[0].run, 7, 70, 1);
    assert_string_equal(d->e[1].topic, "b");
    assert_run(&d->e[1].run, 0, 0, 5);

    d->n = 0;
    st_moffsets_take_dirty(m, collect_dirty, d);
    assert_int_equal(d->n, 0); /* cleared */

    /* growth is re-reported with the same src_start */
    st_moffsets_add(m, "b", 0, 5, 5);
    st_moffsets_take_dirty(m, collect_dirty, d);
    assert_int_equal(d->n, 1);
    assert_run(&d->e[0].run, 0, 0, 6);

    /* a run grows and a new one starts between two calls: both are reported */
    d->n = 0;
    st_moffsets_add(m, "b", 0, 6, 6);
    st_moffsets_add(m, "b", 0, 7, 7);
    st_moffsets_add(m, "b", 0, 9, 8);
    st_moffsets_add(m, "b", 0, 10, 9);
    st_moffsets_take_dirty(m, collect_dirty, d);
    assert_int_equal(d->n, 2);
    assert_run(&d->e[0].run, 0, 0, 8);
    assert_run(&d->e[1].run, 9, 8, 2);

    /* ignored adds do not dirty */
    d->n = 0;
    st_moffsets_add(m, "b", 0, 3, 3);
    st_moffsets_take_dirty(m, collect_dirty, d);
    assert_int_equal(d->n, 0);
    free(d);
    st_moffsets_free(m);
}

static void test_key_value_encoding(void **state)
{
    char key[64];
    size_t n = st_moffsets_encode_key("dc1", "orders", 12, 500, key, sizeof key);
    assert_int_equal(n, 17);
    assert_memory_equal(key,
                        "dc1\0orders\0"
                        "12\0"
                        "500",
                        17);
    /* exactly the length fits (binary key: no terminator), one less does not */
    assert_int_equal(st_moffsets_encode_key("dc1", "orders", 12, 500, key, 17), 17);
    assert_int_equal(st_moffsets_encode_key("dc1", "orders", 12, 500, key, 16), 0);
    assert_int_equal(st_moffsets_encode_key("a", "b", 2147483647, 0, key, sizeof key), 16);
    assert_memory_equal(key,
                        "a\0b\0"
                        "2147483647\0"
                        "0",
                        16);

    uint8_t v[ST_MIRROR_VALUE_LEN];
    st_mrun run = {1, 0x0102030405060708LL, 3};
    st_moffsets_encode_value(&run, v);
    static const uint8_t want[ST_MIRROR_VALUE_LEN] = {0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4,
                                                      5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 3};
    assert_memory_equal(v, want, sizeof want);
}

static int load(st_moffsets *m, const char *alias, const char *key_alias, const char *topic,
                int32_t partition, int64_t src, int64_t tgt, int64_t count)
{
    char key[256];
    uint8_t v[ST_MIRROR_VALUE_LEN];
    size_t n = st_moffsets_encode_key(key_alias, topic, partition, src, key, sizeof key);
    assert_true(n > 0);
    st_mrun run = {src, tgt, count};
    st_moffsets_encode_value(&run, v);
    return st_moffsets_load_record(m, alias, key, n, v, sizeof v);
}

static void test_load_record(void **state)
{
    st_moffsets *m = st_moffsets_new();
    /* out of order: the later run first */
    assert_int_equal(load(m, "dc1", "dc1", "t", 0, 50, 40, 10), 0);
    assert_int_equal(load(m, "dc1", "dc1", "t", 0, 0, 0, 5), 0);
    /* the first run grew: same src_start replaces */
    assert_int_equal(load(m, "dc1", "dc1", "t", 0, 0, 0, 20), 0);
    /* another flow's record into the same target: ignored */
    assert_int_equal(load(m, "dc1", "dc3", "t", 0, 20, 20, 30), 1);
    assert_int_equal(load(m, "dc1", "dc10", "t", 0, 20, 20, 30), 1);
    runs_of r = get_runs(m, "t", 0);
    assert_int_equal(r.n, 2);
    assert_run(&r.runs[0], 0, 0, 20);
    assert_run(&r.runs[1], 50, 40, 10);
    assert_int_equal(xlate(m, "t", 0, 19, NULL), 19);
    assert_int_equal(xlate(m, "t", 0, 30, NULL), 40);
    int64_t next_src, next_tgt;
    assert_true(st_moffsets_position(m, "t", 0, &next_src, &next_tgt));
    assert_int_equal(next_src, 60);
    assert_int_equal(next_tgt, 50);

    /* loaded runs are persisted already: not dirty */
    dirty_log *d = calloc(1, sizeof *d);
    st_moffsets_take_dirty(m, collect_dirty, d);
    assert_int_equal(d->n, 0);
    /* adds continue the last loaded run, which is then reported with its src_start */
    st_moffsets_add(m, "t", 0, 60, 50);
    st_moffsets_take_dirty(m, collect_dirty, d);
    assert_int_equal(d->n, 1);
    assert_run(&d->e[0].run, 50, 40, 11);
    free(d);

    /* a replacement that is shorter replaces; overlapping neighbours keep only the rest */
    assert_int_equal(load(m, "dc1", "dc1", "t", 0, 0, 0, 10), 0);
    assert_int_equal(load(m, "dc1", "dc1", "t", 0, 5, 100, 50), 0); /* covers 5..54 */
    r = get_runs(m, "t", 0);
    assert_int_equal(r.n, 3);
    assert_run(&r.runs[0], 0, 0, 5);
    assert_run(&r.runs[1], 5, 100, 50);
    assert_run(&r.runs[2], 55, 45, 6);
    assert_int_equal(xlate(m, "t", 0, 54, NULL), 149);
    assert_int_equal(xlate(m, "t", 0, 55, NULL), 45);
    /* a record inside one run splits it around itself */
    assert_int_equal(load(m, "dc1", "dc1", "t", 0, 20, 500, 2), 0);
    r = get_runs(m, "t", 0);
    assert_int_equal(r.n, 5);
    assert_run(&r.runs[1], 5, 100, 15);
    assert_run(&r.runs[2], 20, 500, 2);
    assert_run(&r.runs[3], 22, 117, 33);
    st_moffsets_free(m);
}

static int load_epoch(st_moffsets *m, const char *topic, int32_t partition, int64_t epoch,
                      int64_t src, int64_t tgt, int64_t count)
{
    char key[256];
    uint8_t v[ST_MIRROR_VALUE_LEN_EPOCH];
    size_t n = st_moffsets_encode_key("dc1", topic, partition, src, key, sizeof key);
    st_mrun run = {src, tgt, count};
    st_moffsets_encode_value_epoch(&run, epoch, v);
    return st_moffsets_load_record(m, "dc1", key, n, v, sizeof v);
}

static int load_marker(st_moffsets *m, const char *topic, int32_t partition, int64_t epoch,
                       int64_t floor)
{
    char key[256];
    uint8_t v[8];
    size_t n = st_moffsets_encode_epoch_key("dc1", topic, partition, epoch, key, sizeof key);
    assert_true(n > 0);
    st_moffsets_encode_floor(floor, v);
    return st_moffsets_load_record(m, "dc1", key, n, v, sizeof v);
}

static void collect_epoch(void *arg, const char *topic, int32_t partition, int64_t epoch,
                          int64_t floor)
{
    int64_t *got = arg;
    got[0]++;
    got[1] = epoch;
    got[2] = floor;
}

/* A recreated source topic: its copy continues after the old incarnation's records in a
 * new epoch, never mixing the two; a restart keeps only the newest epoch. */
static void test_epochs(void **state)
{
    st_moffsets *m = st_moffsets_new();
    int64_t floor, next_src, next_tgt, out;
    bool beyond;
    for (int64_t i = 0; i < 500; i++)
        st_moffsets_add(m, "orders", 0, i, i);
    assert_int_equal(st_moffsets_epoch(m, "orders", 0, &floor), 0);
    assert_int_equal(st_moffsets_new_epoch(m, "orders", 0, 500), 1);
    assert_int_equal(st_moffsets_epoch(m, "orders", 0, &floor), 1);
    assert_int_equal(floor, 500);
    /* the old runs are gone: nothing translates, no position */
    assert_false(st_moffsets_position(m, "orders", 0, &next_src, &next_tgt));
    assert_int_equal(st_moffsets_translate(m, "orders", 0, 100, &out, &beyond),
                     ST_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    /* the new incarnation from its offset 0, after the old copy */
    for (int64_t i = 0; i < 10; i++)
        st_moffsets_add(m, "orders", 0, i, 500 + i);
    assert_int_equal(st_moffsets_translate(m, "orders", 0, 3, &out, &beyond), 0);
    assert_int_equal(out, 503);
    int64_t got[3] = {0, 0, 0};
    st_moffsets_take_epochs(m, collect_epoch, got);
    assert_int_equal(got[0], 1);
    assert_int_equal(got[1], 1);
    assert_int_equal(got[2], 500);
    got[0] = 0;
    st_moffsets_take_epochs(m, collect_epoch, got);
    assert_int_equal(got[0], 0); /* reported once */
    st_moffsets_free(m);

    /* a restart replays: epoch-0 runs (24-byte values), the marker, epoch-1 runs; and a
     * stale epoch-0 record after them (compaction order) is ignored */
    m = st_moffsets_new();
    assert_int_equal(load(m, "dc1", "dc1", "orders", 0, 0, 0, 300), 0);
    assert_int_equal(load(m, "dc1", "dc1", "orders", 0, 300, 300, 200), 0);
    assert_int_equal(load_marker(m, "orders", 0, 1, 500), 0);
    assert_int_equal(load_epoch(m, "orders", 0, 1, 0, 500, 10), 0);
    assert_int_equal(load(m, "dc1", "dc1", "orders", 0, 300, 300, 200), 0);
    assert_int_equal(st_moffsets_epoch(m, "orders", 0, &floor), 1);
    assert_int_equal(floor, 500);
    assert_true(st_moffsets_position(m, "orders", 0, &next_src, &next_tgt));
    assert_int_equal(next_src, 10);
    assert_int_equal(next_tgt, 510);
    runs_of r = get_runs(m, "orders", 0);
    assert_int_equal(r.n, 1);
    assert_run(&r.runs[0], 0, 500, 10);
    /* a run of a later epoch without its marker still wins; a malformed marker does not */
    assert_int_equal(load_epoch(m, "orders", 0, 2, 0, 900, 1), 0);
    assert_int_equal(st_moffsets_epoch(m, "orders", 0, &floor), 2);
    assert_int_equal(floor, -1);
    char key[64];
    size_t n = st_moffsets_encode_epoch_key("dc1", "orders", 0, 3, key, sizeof key);
    assert_int_equal(st_moffsets_load_record(m, "dc1", key, n, "x", 1), ST_ERR__MALFORMED);
    assert_int_equal(st_moffsets_load_record(m, "dc1",
                                             "dc1\0orders\0"
                                             "0\0e",
                                             12, "12345678", 8),
                     ST_ERR__MALFORMED);
    assert_int_equal(st_moffsets_epoch(m, "orders", 0, NULL), 2);
    st_moffsets_free(m);
}

static void test_load_record_malformed(void **state)
{
    st_moffsets *m = st_moffsets_new();
    uint8_t v[ST_MIRROR_VALUE_LEN];
    st_mrun run = {0, 0, 1};
    st_moffsets_encode_value(&run, v);
    static const struct {
        const char *key;
        size_t len;
    } bad_keys[] = {
        {"dc1", 3},    /* no separators */
        {"dc1\0t", 5}, /* one separator */
        {"dc1\0t\0"
         "1",
         7}, /* no src_start */
        {"dc1\0t\0"
         "1\0",
         8}, /* empty src_start */
        {"\0t\0"
         "1\0"
         "0",
         6}, /* no alias */
        {"dc1\0\0"
         "1\0"
         "0",
         8}, /* no topic */
        {"dc1\0t\0\0"
         "0",
         8}, /* no partition */
        {"dc1\0t\0"
         "-1\0"
         "0",
         10}, /* negative partition */
        {"dc1\0t\0"
         "1x\0"
         "0",
         10}, /* not a number */
        {"dc1\0t\0"
         "2147483648\0"
         "0",
         18}, /* > INT32_MAX */
        {"dc1\0t\0"
         "99999999999\0"
         "0",
         19}, /* too long */
        {"dc1\0t\0"
         "1\0"
         "0x",
         10}, /* src_start not a number */
        {"dc1\0t\0"
         "1\0"
         "0\0",
         10}, /* a fourth separator */
        {"dc1\0t\0"
         "1\0"
         "5",
         9}, /* src_start differs from the value's (0) */
    };
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++)
        assert_int_equal(
            st_moffsets_load_record(m, "dc1", bad_keys[i].key, bad_keys[i].len, v, sizeof v),
            ST_ERR__MALFORMED);
    assert_int_equal(st_moffsets_load_record(m, "dc1", NULL, 0, v, sizeof v), ST_ERR__MALFORMED);
    /* values: wrong length, tombstone, count 0, negative offsets, overflow (each under a
     * key whose src_start matches, so the value is what is refused) */
    char key[64];
    size_t klen = st_moffsets_encode_key("dc1", "t", 7, 0, key, sizeof key);
    assert_int_equal(st_moffsets_load_record(m, "dc1", key, klen, v, 23), ST_ERR__MALFORMED);
    assert_int_equal(st_moffsets_load_record(m, "dc1", key, klen, v, 25), ST_ERR__MALFORMED);
    assert_int_equal(st_moffsets_load_record(m, "dc1", key, klen, NULL, 0), ST_ERR__MALFORMED);
    st_mrun bad_runs[] = {{0, 0, 0}, {0, -5, 1}, {INT64_MAX, 0, 1}, {0, INT64_MAX - 1, 5}};
    for (size_t i = 0; i < sizeof bad_runs / sizeof bad_runs[0]; i++) {
        st_moffsets_encode_value(&bad_runs[i], v);
        klen = st_moffsets_encode_key("dc1", "t", 7, bad_runs[i].src_start, key, sizeof key);
        assert_int_equal(st_moffsets_load_record(m, "dc1", key, klen, v, sizeof v),
                         ST_ERR__MALFORMED);
    }
    /* nothing was created by any of them */
    int64_t a, b;
    assert_false(st_moffsets_position(m, "t", 7, &a, &b));
    assert_false(st_moffsets_position(m, "t", 1, &a, &b));
    /* and a good one works: partition 0 and a topic with dots */
    run = (st_mrun){10, 20, 30};
    st_moffsets_encode_value(&run, v);
    klen = st_moffsets_encode_key("dc1", "a.b", 0, 10, key, sizeof key);
    assert_int_equal(st_moffsets_load_record(m, "dc1", key, klen, v, sizeof v), 0);
    assert_int_equal(xlate(m, "a.b", 0, 15, NULL), 25);
    st_moffsets_free(m);
}

static void test_trim(void **state)
{
    st_moffsets *m = st_moffsets_new();
    /* 0..9 → 0..9, 20..29 → 15..24, 40..49 → 30..39 */
    for (int64_t i = 0; i < 10; i++)
        st_moffsets_add(m, "t", 0, i, i);
    for (int64_t i = 0; i < 10; i++)
        st_moffsets_add(m, "t", 0, 20 + i, 15 + i);
    for (int64_t i = 0; i < 10; i++)
        st_moffsets_add(m, "t", 0, 40 + i, 30 + i);
    assert_int_equal(get_runs(m, "t", 0).n, 3);

    st_moffsets_trim(m, "t", 0, 9); /* run 0..9 still holds offset 9 */
    assert_int_equal(get_runs(m, "t", 0).n, 3);
    st_moffsets_trim(m, "t", 0, 25); /* drops 0..9; 20..29 ends after 25 */
    runs_of r = get_runs(m, "t", 0);
    assert_int_equal(r.n, 2);
    assert_run(&r.runs[0], 20, 15, 10);
    int64_t out;
    bool beyond;
    assert_int_equal(st_moffsets_translate(m, "t", 0, 5, &out, &beyond),
                     ST_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(xlate(m, "t", 0, 25, NULL), 20);

    /* past everything: the last run stays (the resume position) */
    st_moffsets_trim(m, "t", 0, 1000);
    r = get_runs(m, "t", 0);
    assert_int_equal(r.n, 1);
    assert_run(&r.runs[0], 40, 30, 10);
    int64_t next_src, next_tgt;
    assert_true(st_moffsets_position(m, "t", 0, &next_src, &next_tgt));
    assert_int_equal(next_src, 50);
    assert_int_equal(next_tgt, 40);
    st_moffsets_trim(m, "unknown", 0, 10); /* harmless */

    /* dirty marks survive a trim and still name existing runs */
    st_moffsets_add(m, "t", 0, 60, 41);
    st_moffsets_add(m, "t", 0, 70, 42);
    st_moffsets_trim(m, "t", 0, 65);
    dirty_log *d = calloc(1, sizeof *d);
    st_moffsets_take_dirty(m, collect_dirty, d);
    assert_int_equal(d->n, 1);
    assert_run(&d->e[0].run, 70, 42, 1);
    free(d);
    st_moffsets_free(m);
}

static void test_each_order(void **state)
{
    st_moffsets *m = st_moffsets_new();
    st_moffsets_add(m, "zeta", 0, 0, 0);
    st_moffsets_add(m, "alpha", 10, 0, 0);
    st_moffsets_add(m, "alpha", 2, 0, 0);
    st_moffsets_add(m, "alpha", 2, 1, 1);
    st_moffsets_add(m, "mid", 1, 5, 9);
    dirty_log *d = calloc(1, sizeof *d);
    st_moffsets_take_dirty(m, collect_dirty, d);
    assert_int_equal(d->n, 4);
    assert_string_equal(d->e[0].topic, "alpha");
    assert_int_equal(d->e[0].partition, 2);
    assert_run(&d->e[0].run, 0, 0, 2);
    assert_string_equal(d->e[1].topic, "alpha");
    assert_int_equal(d->e[1].partition, 10);
    assert_string_equal(d->e[2].topic, "mid");
    assert_string_equal(d->e[3].topic, "zeta");
    free(d);
    st_moffsets_free(m);
}

/*
 * Active/active over a long stream: the target partition holds the mirrored source
 * records interleaved with records produced locally on the target, and the source has gaps
 * (records that came from the target and are skipped). A naive per-offset table is the
 * reference for every translation; then the map is persisted as the flow would (take_dirty
 * at irregular moments, appended to a log), replayed into a fresh map, and must translate
 * every offset identically.
 */
#define N_SRC 20000

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 16;
}

typedef struct topic_log {
    struct {
        char key[64];
        size_t keylen;
        uint8_t value[ST_MIRROR_VALUE_LEN];
    } rec[N_SRC];
    size_t n;
} topic_log;

static void persist(void *arg, const char *topic, int32_t partition, const st_mrun *run)
{
    topic_log *log = arg;
    assert_true(log->n < N_SRC);
    log->rec[log->n].keylen =
        st_moffsets_encode_key("dc1", topic, partition, run->src_start, log->rec[log->n].key, 64);
    assert_true(log->rec[log->n].keylen > 0);
    st_moffsets_encode_value(run, log->rec[log->n].value);
    log->n++;
}

/* st_moffsets_each collector: a copy of every run of one (topic, partition). */
typedef struct all_runs {
    const char *topic;
    int32_t partition;
    st_mrun *runs; /* owned */
    size_t n;
} all_runs;

static void collect_all(void *arg, const char *topic, int32_t partition, const st_mrun *runs,
                        size_t nruns)
{
    all_runs *a = arg;
    if (strcmp(topic, a->topic) != 0 || partition != a->partition)
        return;
    a->runs = malloc(nruns * sizeof *runs);
    assert_non_null(a->runs);
    memcpy(a->runs, runs, nruns * sizeof *runs);
    a->n = nruns;
}

static void test_interleaving_and_restart(void **state)
{
    /* tgt_of[s]: target offset of source offset s, or -1 when s was not mirrored */
    int64_t *tgt_of = malloc(N_SRC * sizeof *tgt_of);
    st_moffsets *m = st_moffsets_new();
    topic_log *log = calloc(1, sizeof *log);
    uint32_t seed = 7;
    int64_t tgt = 0, first = -1, last = -1;
    size_t breaks = 0;
    for (int64_t s = 0; s < N_SRC; s++) {
        uint32_t roll = lcg(&seed) % 100;
        if (s < 30 || roll < 15) { /* origin is the target: skipped, a source gap */
            tgt_of[s] = -1;
            continue;
        }
        if (roll < 30)
            tgt += 1 + lcg(&seed) % 4; /* local records produced on the target meanwhile */
        if (last >= 0 && (s != last + 1 || tgt != tgt_of[last] + 1))
            breaks++;
        tgt_of[s] = tgt;
        st_moffsets_add(m, "orders", 5, s, tgt);
        st_moffsets_add(m, "other", 0, s, s); /* a second partition, interleaved */
        if (first < 0)
            first = s;
        last = s;
        tgt++;
        if (lcg(&seed) % 50 == 0)
            st_moffsets_take_dirty(m, persist, log);
    }
    st_moffsets_take_dirty(m, persist, log);
    assert_true(breaks > 1000); /* the stream really interleaves */

    all_runs before = {0}, after = {0};
    before.topic = "orders";
    before.partition = 5;
    st_moffsets_each(m, collect_all, &before);
    assert_int_equal(before.n, breaks + 1);

    /* every source offset against the naive reference */
    for (int64_t s = 0; s <= last + 5; s++) {
        int64_t out = -1;
        bool beyond = false;
        int rc = st_moffsets_translate(m, "orders", 5, s, &out, &beyond);
        if (s < first) {
            assert_int_equal(rc, ST_ERR_OFFSET_OUT_OF_RANGE);
            continue;
        }
        assert_int_equal(rc, ST_ERR_NONE);
        int64_t want;
        if (s <= last && tgt_of[s] >= 0) {
            want = tgt_of[s];
        } else if (s > last) {
            want = tgt_of[last] + 1;
        } else {
            int64_t next = s; /* in a source gap: where the next run starts */
            while (tgt_of[next] < 0)
                next++;
            want = tgt_of[next];
        }
        assert_int_equal(out, want);
        assert_int_equal(beyond, s > last + 1);
    }

    /* restart: replay the persisted log into a fresh map */
    st_moffsets *fresh = st_moffsets_new();
    for (size_t i = 0; i < log->n; i++)
        assert_int_equal(st_moffsets_load_record(fresh, "dc1", log->rec[i].key, log->rec[i].keylen,
                                                 log->rec[i].value, ST_MIRROR_VALUE_LEN),
                         0);
    const char *topics[] = {"orders", "other"};
    const int32_t parts[] = {5, 0};
    for (int t = 0; t < 2; t++) {
        for (int64_t s = 0; s <= last + 5; s++) {
            int64_t a = -1, b = -2;
            bool ba = false, bb = true;
            int ra = st_moffsets_translate(m, topics[t], parts[t], s, &a, &ba);
            int rb = st_moffsets_translate(fresh, topics[t], parts[t], s, &b, &bb);
            assert_int_equal(ra, rb);
            if (ra == ST_ERR_NONE) {
                assert_int_equal(a, b);
                assert_int_equal(ba, bb);
            }
        }
        int64_t sa, ta, sb, tb;
        assert_true(st_moffsets_position(m, topics[t], parts[t], &sa, &ta));
        assert_true(st_moffsets_position(fresh, topics[t], parts[t], &sb, &tb));
        assert_int_equal(sa, sb);
        assert_int_equal(ta, tb);
    }
    assert_int_equal(xlate(fresh, "orders", 5, last + 1, NULL), tgt_of[last] + 1);
    /* and the very same runs */
    after.topic = "orders";
    after.partition = 5;
    st_moffsets_each(fresh, collect_all, &after);
    assert_int_equal(before.n, after.n);
    assert_memory_equal(before.runs, after.runs, before.n * sizeof *before.runs);
    free(before.runs);
    free(after.runs);
    st_moffsets_free(fresh);
    free(log);
    free(tgt_of);
    st_moffsets_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contiguous_is_one_run),
        cmocka_unit_test(test_gaps_and_jumps),
        cmocka_unit_test(test_not_increasing_is_ignored),
        cmocka_unit_test(test_dirty_tracking),
        cmocka_unit_test(test_key_value_encoding),
        cmocka_unit_test(test_load_record),
        cmocka_unit_test(test_load_record_malformed),
        cmocka_unit_test(test_epochs),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_each_order),
        cmocka_unit_test(test_interleaving_and_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
