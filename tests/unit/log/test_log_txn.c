/*
 * Transactions in a partition log (broker/log/log_txn.c): transactional batches and the
 * markers the coordinator appends give the last stable offset and the aborted list; a
 * read bounded by the LSO stops before the open transaction; a log reopened (clean, and
 * after a crash) rebuilds the same state from its segments; a log that never held a
 * transactional batch has no "transactions" file and LSO == end offset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/batch.h"
#include "broker/log/log.h"
#include "broker/log/records.h"
#include "broker/txn/txn_partition.h"
#include "common/errors.h"
#include "common/logging.h"
#include "tests/unit/log/fixture.h"

#define NOW 1700000000000LL

static st_log *open_log(fixture *f, bool clean)
{
    st_log_config c;
    st_log_config_defaults(&c);
    c.segment_bytes = 700; /* offsets 0-10 in one segment, 11-12 in the next */
    char err[256] = "";
    st_log *log = st_log_open(f->dir, &c, clean, NULL, err, sizeof err);
    if (!log)
        fail_msg("st_log_open: %s", err);
    return log;
}

/* Appends one batch of 2 records from producer pid (-1: none) with sequence seq; returns
 * its base offset. */
static int64_t data(st_log *log, int64_t pid, int32_t seq, bool transactional)
{
    st_buf b = ST_BUF_INIT;
    st_batch_builder bb;
    st_batch_builder_init(&bb, &b, 0, NOW, pid, pid < 0 ? -1 : 0, pid < 0 ? -1 : seq,
                          transactional ? ST_BATCH_ATTR_TRANSACTIONAL : 0);
    for (int i = 0; i < 2; i++)
        st_batch_builder_add(&bb, i, NOW, (st_bytes){(const uint8_t *)"k", 1},
                             (st_bytes){(const uint8_t *)"value-value-value", 17}, 0,
                             (st_bytes){NULL, 0});
    size_t size = st_batch_builder_finish(&bb);
    st_append_result res;
    int rc = st_log_append(log, b.data, size, NOW, &res);
    if (rc)
        fail_msg("append: %s: %s", st_err_name(rc), res.why);
    st_buf_free(&b);
    return res.base_offset;
}

static int64_t marker(st_log *log, int64_t pid, bool commit)
{
    st_append_result res;
    int rc = st_log_append_marker(log, pid, 0, commit, 0, NOW, &res);
    if (rc)
        fail_msg("marker: %s: %s", st_err_name(rc), res.why);
    assert_int_equal(res.base_offset, res.last_offset);
    return res.base_offset;
}

/* What the state should be after build(): see there. */
static void check_state(st_log *log)
{
    assert_int_equal(st_log_end_offset(log), 13);
    assert_int_equal(st_log_last_stable_offset(log), 9); /* pid 3's transaction is open */
    st_txn_aborted a[4];
    assert_int_equal(st_log_aborted_txns(log, 0, 13, a, 4), 1);
    assert_int_equal(a[0].producer_id, 2);
    assert_int_equal(a[0].first_offset, 2);
    assert_int_equal(a[0].last_offset, 7);
    assert_int_equal(st_log_aborted_txns(log, 8, 13, a, 4), 0);
}

/* 0-1 plain, 2-3 pid 2, 4-5 pid 1, 6 COMMIT pid 1, 7 ABORT pid 2, 8 COMMIT for pid 9
 * (no transaction here), 9-10 pid 3 (open), 11-12 plain. */
static void build(st_log *log)
{
    assert_int_equal(data(log, -1, 0, false), 0);
    assert_int_equal(st_log_last_stable_offset(log), 2);
    assert_int_equal(data(log, 2, 0, true), 2);
    assert_int_equal(data(log, 1, 0, true), 4);
    assert_int_equal(st_log_last_stable_offset(log), 2);
    assert_int_equal(marker(log, 1, true), 6);
    assert_int_equal(st_log_last_stable_offset(log), 2);
    assert_int_equal(marker(log, 2, false), 7);
    assert_int_equal(st_log_last_stable_offset(log), 8);
    assert_int_equal(marker(log, 9, true), 8);
    assert_int_equal(data(log, 3, 0, true), 9);
    assert_int_equal(data(log, -1, 0, false), 11);
}

static void test_lso_and_rebuild(void **state)
{
    fixture *f = *state;
    st_log *log = open_log(f, false);
    build(log);
    check_state(log);
    assert_int_equal(st_log_segment_count(log), 2); /* the rebuild below crosses segments */

    /* a read up to the LSO stops before the open transaction's batch */
    st_log_slice s;
    assert_int_equal(st_log_read_upto(log, 0, st_log_last_stable_offset(log), 1 << 20, &s), 0);
    size_t upto_len = s.len;
    st_fileref_unref(s.file);
    assert_int_equal(st_log_read_upto(log, 9, 9, 1 << 20, &s), 0);
    assert_int_equal(s.len, 0); /* at the LSO: nothing */
    assert_int_equal(st_log_read_upto(log, 8, 9, 1 << 20, &s), 0);
    /* exactly the marker at 8, not the open transaction's batch behind it */
    uint8_t got[512];
    assert_true(s.len > 0 && s.len <= sizeof got);
    assert_int_equal(pread(s.file->fd, got, s.len, s.pos), (ssize_t)s.len);
    st_batch_info info;
    assert_int_equal(st_batch_header(got, s.len, &info), 0);
    assert_int_equal(info.base_offset, 8);
    assert_int_equal(info.size, (int32_t)s.len);
    assert_true(info.attributes & ST_BATCH_ATTR_CONTROL);
    size_t marker_len = s.len;
    st_fileref_unref(s.file);
    assert_int_equal(st_log_read(log, 8, 1 << 20, &s), 0);
    assert_true(s.len > marker_len); /* unbounded, the same segment gives more */
    st_fileref_unref(s.file);
    assert_true(upto_len > 0);

    /* closed and reopened cleanly, then "crashed" (no clean marker): the same state */
    st_log_close(log, true);
    log = open_log(f, true);
    check_state(log);
    st_log_close(log, false);
    log = open_log(f, false);
    check_state(log);
    /* the open transaction ends: the LSO reaches the end */
    marker(log, 3, false);
    assert_int_equal(st_log_last_stable_offset(log), 14);
    st_txn_aborted a[4];
    assert_int_equal(st_log_aborted_txns(log, 8, 14, a, 4), 1);
    assert_int_equal(a[0].producer_id, 3);
    assert_int_equal(a[0].first_offset, 9);
    st_log_close(log, true);
}

static void test_no_transactions_no_file(void **state)
{
    fixture *f = *state;
    st_log *log = open_log(f, false);
    data(log, -1, 0, false);
    data(log, 5, 0, false); /* idempotent, not transactional */
    assert_int_equal(st_log_last_stable_offset(log), 4);
    st_txn_aborted a[1];
    assert_int_equal(st_log_aborted_txns(log, 0, 4, a, 1), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/transactions", f->dir);
    assert_int_not_equal(access(path, F_OK), 0);
    st_log_close(log, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lso_and_rebuild, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_transactions_no_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
