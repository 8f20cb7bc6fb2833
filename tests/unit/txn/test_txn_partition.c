/*
 * A partition's transactions from its batches: the LSO follows the earliest open
 * transaction, ABORT markers make aborted entries, COMMIT ones do not, a Fetch range
 * gets exactly the aborted transactions that overlap it, trimming follows the log
 * start, and a control batch that carries no marker changes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "broker/log/batch.h"
#include "broker/log/records.h"
#include "broker/txn/txn_log.h"
#include "broker/txn/txn_partition.h"
#include "common/errors.h"

/* Feeds p a data batch of n records at offset for producer pid (-1: none). */
static int data(st_txn_partition *p, int64_t offset, int n, int64_t pid, bool transactional)
{
    st_buf b = ST_BUF_INIT;
    st_batch_builder bb;
    st_batch_builder_init(&bb, &b, offset, 1000, pid, pid < 0 ? -1 : 0, pid < 0 ? -1 : 0,
                          transactional ? ST_BATCH_ATTR_TRANSACTIONAL : 0);
    for (int i = 0; i < n; i++)
        st_batch_builder_add(&bb, offset + i, 1000, (st_bytes){(const uint8_t *)"k", 1},
                             (st_bytes){(const uint8_t *)"v", 1}, 0, (st_bytes){NULL, 0});
    st_batch_builder_finish(&bb);
    int rc = st_txn_partition_on_batch(p, b.data, b.len);
    st_buf_free(&b);
    return rc;
}

static int marker(st_txn_partition *p, int64_t offset, int64_t pid, bool commit)
{
    st_buf b = ST_BUF_INIT;
    st_txn_marker_batch(&b, offset, 1000, pid, 0, commit, 0);
    int rc = st_txn_partition_on_batch(p, b.data, b.len);
    st_buf_free(&b);
    return rc;
}

static void test_lso_and_aborted(void **state)
{
    st_txn_partition *p = st_txn_partition_new();
    assert_non_null(p);
    size_t nopen, naborted;
    assert_int_equal(data(p, 0, 1, -1, false), 0); /* plain: ignored */
    assert_int_equal(data(p, 1, 1, 4, false), 0);  /* idempotent, not transactional */
    assert_int_equal(st_txn_partition_lso(p, 2), 2);
    assert_int_equal(data(p, 2, 2, 5, true), 0); /* pid 5 opens at 2 */
    assert_int_equal(data(p, 4, 1, 6, true), 0); /* pid 6 opens at 4 */
    assert_int_equal(data(p, 5, 1, 5, true), 0); /* pid 5 goes on: still from 2 */
    assert_int_equal(st_txn_partition_lso(p, 6), 2);
    int64_t first;
    assert_true(st_txn_partition_is_open(p, 5, &first));
    assert_int_equal(first, 2);
    assert_int_equal(marker(p, 6, 5, false), 0); /* pid 5 aborts: [2, 6] */
    assert_false(st_txn_partition_is_open(p, 5, NULL));
    assert_int_equal(st_txn_partition_lso(p, 7), 4);
    assert_int_equal(marker(p, 7, 6, true), 0); /* pid 6 commits: nothing kept */
    assert_int_equal(st_txn_partition_lso(p, 8), 8);
    assert_int_equal(data(p, 8, 1, 5, true), 0);
    assert_int_equal(data(p, 9, 1, 7, true), 0);
    assert_int_equal(marker(p, 10, 7, false), 0); /* pid 7 aborts: [9, 10] */
    assert_int_equal(marker(p, 11, 5, false), 0); /* pid 5 aborts: [8, 11] */
    assert_int_equal(marker(p, 12, 9, false), 0); /* a marker for no open txn: ignored */
    st_txn_partition_counts(p, &nopen, &naborted);
    assert_int_equal(nopen, 0);
    assert_int_equal(naborted, 3);
    assert_int_equal(st_txn_partition_lso(p, 13), 13);

    st_txn_aborted out[4];
    /* everything */
    assert_int_equal(st_txn_partition_aborted(p, 0, 13, out, 4), 3);
    assert_int_equal(out[0].producer_id, 5);
    assert_int_equal(out[0].first_offset, 2);
    assert_int_equal(out[0].last_offset, 6);
    assert_int_equal(out[1].producer_id, 7);
    assert_int_equal(out[2].first_offset, 8);
    /* a fetch from 7: the first abort ended before it */
    assert_int_equal(st_txn_partition_aborted(p, 7, 13, out, 4), 2);
    assert_int_equal(out[0].first_offset, 9);
    assert_int_equal(out[1].first_offset, 8);
    /* a fetch of [0, 2) sees none; of [0, 3) the first; of [6, 9) the first and third */
    assert_int_equal(st_txn_partition_aborted(p, 0, 2, out, 4), 0);
    assert_int_equal(st_txn_partition_aborted(p, 0, 3, out, 4), 1);
    assert_int_equal(st_txn_partition_aborted(p, 6, 9, out, 4), 2);
    assert_int_equal(out[0].first_offset, 2);
    assert_int_equal(out[1].first_offset, 8);
    /* a small cap still counts them all */
    assert_int_equal(st_txn_partition_aborted(p, 0, 13, out, 1), 3);
    assert_int_equal(out[0].first_offset, 2);

    /* retention moved the log start past the first marker */
    st_txn_partition_trim(p, 7);
    assert_int_equal(st_txn_partition_aborted(p, 0, 13, out, 4), 2);
    st_txn_partition_trim(p, 7);
    st_txn_partition_trim(p, 100);
    st_txn_partition_counts(p, &nopen, &naborted);
    assert_int_equal(naborted, 0);
    st_txn_partition_free(p);
}

static void test_bad_batches(void **state)
{
    st_txn_partition *p = st_txn_partition_new();
    assert_int_equal(data(p, 0, 1, 5, true), 0);
    /* a control batch whose record is not a marker */
    st_buf b = ST_BUF_INIT;
    st_batch_builder bb;
    st_batch_builder_init(&bb, &b, 1, 1000, 5, 0, -1,
                          ST_BATCH_ATTR_TRANSACTIONAL | ST_BATCH_ATTR_CONTROL);
    const uint8_t key[] = {0, 0, 0, 9};
    st_batch_builder_add(&bb, 1, 1000, (st_bytes){key, 4}, (st_bytes){NULL, -1}, 0,
                         (st_bytes){NULL, 0});
    st_batch_builder_finish(&bb);
    assert_int_equal(st_txn_partition_on_batch(p, b.data, b.len), ST_ERR_CORRUPT_MESSAGE);
    assert_true(st_txn_partition_is_open(p, 5, NULL));
    /* a truncated header */
    assert_int_equal(st_txn_partition_on_batch(p, b.data, 20), ST_ERR_CORRUPT_MESSAGE);
    st_buf_free(&b);
    assert_int_equal(st_txn_partition_lso(p, 5), 0);
    st_txn_partition_free(p);
    st_txn_partition_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lso_and_aborted),
        cmocka_unit_test(test_bad_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
