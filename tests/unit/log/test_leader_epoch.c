/*
 * The leader epoch cache: Kafka's assign rules (monotonic, contradicted entries
 * dropped), OffsetForLeaderEpoch's answers (KIP-101/279), truncation from either end,
 * the checkpoint file's text, and a reload from disk after an atomic write; bad files are
 * refused with the line that is wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/leader_epoch.h"

static void expect_entries(const st_leader_epoch_cache *c, const st_epoch_entry *want, int n)
{
    assert_int_equal(st_leader_epoch_count(c), n);
    const st_epoch_entry *got = st_leader_epoch_entries(c);
    for (int i = 0; i < n; i++) {
        if (got[i].epoch != want[i].epoch || got[i].start_offset != want[i].start_offset)
            fail_msg("entry %d: (%d, %lld), expected (%d, %lld)", i, got[i].epoch,
                     (long long)got[i].start_offset, want[i].epoch,
                     (long long)want[i].start_offset);
    }
}

#define ENTRIES(...) ((const st_epoch_entry[]){__VA_ARGS__})

static void test_assign(void **state)
{
    st_leader_epoch_cache *c = st_leader_epoch_new();
    assert_int_equal(st_leader_epoch_latest(c), -1);
    assert_true(st_leader_epoch_assign(c, 2, 6));
    assert_false(st_leader_epoch_assign(c, 2, 10)); /* same epoch, later offset: nothing */
    assert_true(st_leader_epoch_assign(c, 3, 10));
    assert_true(st_leader_epoch_assign(c, 5, 15));
    expect_entries(c, ENTRIES({2, 6}, {3, 10}, {5, 15}), 3);
    /* the same epoch at an earlier offset replaces it */
    assert_true(st_leader_epoch_assign(c, 5, 12));
    expect_entries(c, ENTRIES({2, 6}, {3, 10}, {5, 12}), 3);
    /* a lower epoch than the latest drops every later one */
    assert_true(st_leader_epoch_assign(c, 4, 11));
    expect_entries(c, ENTRIES({2, 6}, {3, 10}, {4, 11}), 3);
    /* a higher epoch at an offset not past earlier starts drops those */
    assert_true(st_leader_epoch_assign(c, 6, 10));
    expect_entries(c, ENTRIES({2, 6}, {6, 10}), 2);
    /* no epoch, no offset: ignored */
    assert_false(st_leader_epoch_assign(c, -1, 20));
    assert_false(st_leader_epoch_assign(c, 7, -1));
    assert_int_equal(st_leader_epoch_latest(c), 6);
    st_leader_epoch_free(c);
}

static void test_end_offset_for(void **state)
{
    st_leader_epoch_cache *c = st_leader_epoch_new();
    int32_t e;
    int64_t o;
    st_leader_epoch_end_offset_for(c, 0, 100, &e, &o); /* empty */
    assert_int_equal(e, -1);
    assert_int_equal(o, -1);
    st_leader_epoch_assign(c, 2, 6);
    st_leader_epoch_assign(c, 4, 11);
    st_leader_epoch_assign(c, 6, 20);
    st_leader_epoch_end_offset_for(c, 6, 100, &e, &o); /* latest: the log end */
    assert_int_equal(e, 6);
    assert_int_equal(o, 100);
    st_leader_epoch_end_offset_for(c, 4, 100, &e, &o); /* ends where 6 starts */
    assert_int_equal(e, 4);
    assert_int_equal(o, 20);
    st_leader_epoch_end_offset_for(c, 5, 100, &e, &o); /* unknown, between: 4's end */
    assert_int_equal(e, 4);
    assert_int_equal(o, 20);
    st_leader_epoch_end_offset_for(c, 1, 100, &e, &o); /* older than all: itself, 2's start */
    assert_int_equal(e, 1);
    assert_int_equal(o, 6);
    st_leader_epoch_end_offset_for(c, 7, 100, &e, &o); /* newer than all: undefined */
    assert_int_equal(e, -1);
    assert_int_equal(o, -1);
    st_leader_epoch_end_offset_for(c, -1, 100, &e, &o);
    assert_int_equal(e, -1);
    assert_int_equal(o, -1);
    st_leader_epoch_free(c);
}

static void test_truncate(void **state)
{
    st_leader_epoch_cache *c = st_leader_epoch_new();
    st_leader_epoch_assign(c, 2, 6);
    st_leader_epoch_assign(c, 3, 8);
    st_leader_epoch_assign(c, 4, 11);
    assert_false(st_leader_epoch_truncate_from_end(c, 12)); /* nothing starts at 12+ */
    assert_true(st_leader_epoch_truncate_from_end(c, 8));
    expect_entries(c, ENTRIES({2, 6}), 1);
    st_leader_epoch_assign(c, 3, 8);
    st_leader_epoch_assign(c, 4, 11);
    assert_false(st_leader_epoch_truncate_from_start(c, 6)); /* the first already starts there */
    assert_true(st_leader_epoch_truncate_from_start(c, 9));
    expect_entries(c, ENTRIES({3, 9}, {4, 11}), 2);
    assert_true(st_leader_epoch_truncate_from_start(c, 11));
    expect_entries(c, ENTRIES({4, 11}), 1);
    assert_true(st_leader_epoch_truncate_from_start(c, 50));
    expect_entries(c, ENTRIES({4, 50}), 1);
    assert_true(st_leader_epoch_truncate_from_end(c, 0));
    assert_int_equal(st_leader_epoch_count(c), 0);
    assert_false(st_leader_epoch_truncate_from_start(c, 5));
    st_leader_epoch_free(c);
}

static void test_file(void **state)
{
    char dir[] = "/tmp/strait-epoch-XXXXXX", err[256];
    assert_non_null(mkdtemp(dir));
    st_leader_epoch_cache *c = st_leader_epoch_new();
    assert_int_equal(st_leader_epoch_load(c, dir, err, sizeof err), 0); /* no file: empty */
    assert_int_equal(st_leader_epoch_count(c), 0);
    st_leader_epoch_assign(c, 0, 0);
    st_leader_epoch_assign(c, 3, 1200);
    size_t len;
    char *text = st_leader_epoch_format(c, &len);
    assert_int_equal(len, strlen("0\n2\n0 0\n3 1200\n"));
    assert_memory_equal(text, "0\n2\n0 0\n3 1200\n", len);
    assert_int_equal(st_leader_epoch_write(dir, text, len, true, err, sizeof err), 0);
    free(text);
    st_leader_epoch_cache *back = st_leader_epoch_new();
    assert_int_equal(st_leader_epoch_load(back, dir, err, sizeof err), 0);
    expect_entries(back, ENTRIES({0, 0}, {3, 1200}), 2);
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, ST_LEADER_EPOCH_FILE);
    assert_int_not_equal(access(tmp, F_OK), 0); /* renamed away */

    const char *bad[] = {
        "",
        "1\n0\n",           /* version */
        "0\n2\n0 0\n",      /* fewer entries than announced */
        "0\n1\n0 0\n1 5\n", /* more */
        "0\n1\n0 x\n",
        "0\n1\n-1 0\n",
        "0\n1\n0 -5\n",
        "0\n1\n0  0\n",
        "0\n1\n0 0",          /* no final newline */
        "0\n99999999\n0 0\n", /* a count the file cannot hold */
        "0\n1\n2147483648 0\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        if (st_leader_epoch_parse(back, bad[i], strlen(bad[i]), err, sizeof err) == 0)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_true(err[0] != 0);
        assert_int_equal(st_leader_epoch_count(back), 0);
    }
    /* a file written by Kafka with a non-monotonic tail loads as Kafka loads it */
    const char *kafka = "0\n3\n1 0\n2 10\n2 5\n";
    assert_int_equal(st_leader_epoch_parse(back, kafka, strlen(kafka), err, sizeof err), 0);
    expect_entries(back, ENTRIES({1, 0}, {2, 5}), 2);
    /* a broken file on disk names the path */
    FILE *f = fopen(tmp, "w");
    fputs("garbage\n", f);
    fclose(f);
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, ST_LEADER_EPOCH_FILE);
    assert_int_equal(rename(tmp, path), 0);
    assert_int_equal(st_leader_epoch_load(back, dir, err, sizeof err), -1);
    assert_non_null(strstr(err, ST_LEADER_EPOCH_FILE));
    unlink(path);
    rmdir(dir);
    st_leader_epoch_free(back);
    st_leader_epoch_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assign),
        cmocka_unit_test(test_end_offset_for),
        cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
