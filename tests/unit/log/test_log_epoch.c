/*
 * Leader epochs in the partition log (log_epoch.c) and the follower primitives
 * (log_follower.c): appends stamped with the current epoch (CRC still valid), the
 * leader-epoch-checkpoint written and restored, rebuilt from the batches when missing or
 * damaged or behind after a crash, cut by DeleteRecords; a follower's append keeps the
 * leader's offsets and epochs and refuses gaps and overlaps; truncation cuts segments,
 * epochs and the producer state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/batch.h"
#include "broker/log/leader_epoch.h"
#include "broker/log/log.h"
#include "broker/log/log_int.h"
#include "common/errors.h"
#include "tests/unit/log/build_batch.h"
#include "tests/unit/log/fixture.h"

#define NOW 1700000000000LL

static st_log_config small_config(void)
{
    st_log_config c;
    st_log_config_defaults(&c);
    c.segment_bytes = 2048;
    c.index_interval_bytes = 256;
    return c;
}

static st_log *open_log(fixture *f, bool clean)
{
    st_log_config c = small_config();
    char err[256] = "";
    st_log *log = st_log_open(f->dir, &c, clean, NULL, err, sizeof err);
    if (!log)
        fail_msg("open: %s", err);
    return log;
}

/* Appends one batch of n records as a client; returns its base offset. */
static int64_t append_n(st_log *log, int n)
{
    uint8_t buf[2048];
    size_t len = build_batch(buf, sizeof buf, n, NOW, 40);
    st_append_result res;
    assert_int_equal(st_log_append(log, buf, len, NOW, &res), ST_ERR_NONE);
    return res.base_offset;
}

/* The same from an idempotent producer. */
static int64_t append_pid(st_log *log, int n, int64_t pid, int32_t seq)
{
    uint8_t buf[2048];
    size_t len = build_batch(buf, sizeof buf, n, NOW, 40);
    put_be(buf + 43, (uint64_t)pid, 8);
    put_be(buf + 51, 0, 2);
    put_be(buf + 53, (uint64_t)seq, 4);
    fix_crc(buf, len);
    st_append_result res;
    int rc = st_log_append(log, buf, len, NOW, &res);
    return rc == ST_ERR_NONE ? res.base_offset : -rc;
}

static void expect_entries(st_log *log, const st_epoch_entry *want, int n)
{
    assert_int_equal(st_leader_epoch_count(log->epochs), n);
    const st_epoch_entry *got = st_leader_epoch_entries(log->epochs);
    for (int i = 0; i < n; i++)
        if (got[i].epoch != want[i].epoch || got[i].start_offset != want[i].start_offset)
            fail_msg("entry %d: (%d, %lld), expected (%d, %lld)", i, got[i].epoch,
                     (long long)got[i].start_offset, want[i].epoch,
                     (long long)want[i].start_offset);
}
#define ENTRIES(...) ((const st_epoch_entry[]){__VA_ARGS__})

/* The stored batch holding `offset`, read back from the log's files. */
static size_t read_batch(st_log *log, int64_t offset, uint8_t *buf, size_t cap)
{
    st_log_slice s;
    assert_int_equal(st_log_read(log, offset, 1, &s), ST_ERR_NONE);
    assert_true(s.len > 0 && s.len <= cap);
    assert_int_equal(pread(s.file->fd, buf, s.len, s.pos), (ssize_t)s.len);
    st_fileref_unref(s.file);
    return s.len;
}

static void read_file(fixture *f, const char *name, char *out, size_t cap)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = read(fd, out, cap - 1);
    close(fd);
    assert_true(n >= 0);
    out[n] = '\0';
}

static void write_file(fixture *f, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_stamp_and_persist(void **state)
{
    fixture *f = *state;
    st_log *log = open_log(f, true);
    assert_int_equal(st_log_leader_epoch(log), 0);
    assert_int_equal(append_n(log, 3), 0);
    uint8_t b[2048];
    size_t len = read_batch(log, 0, b, sizeof b);
    assert_int_equal((int32_t)get_be(b + 12, 4), 0); /* was -1 from the producer */
    assert_true(st_batch_intact(b, len));            /* the epoch is outside the CRC */

    assert_int_equal(st_log_set_leader_epoch(log, 4), ST_ERR_NONE);
    assert_int_equal(st_log_set_leader_epoch(log, 2), ST_ERR_FENCED_LEADER_EPOCH);
    assert_int_equal(append_n(log, 2), 3);
    len = read_batch(log, 3, b, sizeof b);
    assert_int_equal((int32_t)get_be(b + 12, 4), 4);
    assert_true(st_batch_intact(b, len));
    expect_entries(log, ENTRIES({0, 0}, {4, 3}), 2);

    int32_t epoch;
    int64_t end;
    st_log_end_offset_for_epoch(log, 0, &epoch, &end);
    assert_int_equal(epoch, 0);
    assert_int_equal(end, 3);
    st_log_end_offset_for_epoch(log, 3, &epoch, &end); /* unknown: the one below */
    assert_int_equal(epoch, 0);
    assert_int_equal(end, 3);
    st_log_end_offset_for_epoch(log, 4, &epoch, &end);
    assert_int_equal(epoch, 4);
    assert_int_equal(end, 5);
    st_log_end_offset_for_epoch(log, 5, &epoch, &end);
    assert_int_equal(epoch, -1);
    assert_int_equal(end, -1);
    assert_int_equal(st_log_check_leader_epoch(log, -1), 0);
    assert_int_equal(st_log_check_leader_epoch(log, 4), 0);
    assert_int_equal(st_log_check_leader_epoch(log, 3), ST_ERR_FENCED_LEADER_EPOCH);
    assert_int_equal(st_log_check_leader_epoch(log, 5), ST_ERR_UNKNOWN_LEADER_EPOCH);
    st_log_close(log, true);

    char text[256];
    read_file(f, ST_LEADER_EPOCH_FILE, text, sizeof text);
    assert_string_equal(text, "0\n2\n0 0\n4 3\n");
    log = open_log(f, true);
    assert_int_equal(st_log_leader_epoch(log), 4);
    expect_entries(log, ENTRIES({0, 0}, {4, 3}), 2);
    st_log_close(log, true);
}

static void test_never_written_keeps_no_file(void **state)
{
    fixture *f = *state;
    st_log *log = open_log(f, true);
    st_log_close(log, true);
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, ST_LEADER_EPOCH_FILE);
    assert_int_equal(access(path, F_OK), -1);
}

static void test_rebuilt_when_missing_or_damaged(void **state)
{
    fixture *f = *state;
    st_log *log = open_log(f, true);
    for (int i = 0; i < 10; i++)
        append_n(log, 3); /* several segments */
    st_log_set_leader_epoch(log, 2);
    for (int i = 0; i < 10; i++)
        append_n(log, 3);
    assert_true(st_log_segment_count(log) > 2);
    st_log_close(log, true);

    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, ST_LEADER_EPOCH_FILE);
    assert_int_equal(unlink(path), 0);
    log = open_log(f, true);
    expect_entries(log, ENTRIES({0, 0}, {2, 30}), 2);
    assert_int_equal(st_log_leader_epoch(log), 2);
    st_log_close(log, true);
    char text[256];
    read_file(f, ST_LEADER_EPOCH_FILE, text, sizeof text);
    assert_string_equal(text, "0\n2\n0 0\n2 30\n"); /* written again */

    write_file(f, ST_LEADER_EPOCH_FILE, "0\n2\n0 0\nbanana\n");
    log = open_log(f, true);
    expect_entries(log, ENTRIES({0, 0}, {2, 30}), 2);
    assert_true(logged(f, "rebuilding the leader epochs from the batches"));
    st_log_close(log, true);
}

/* One epoch from the first batch to the last (a single broker's log): the rebuild reads
 * the two ends only, and starts the epoch at the log start. */
static void test_rebuilt_one_epoch(void **state)
{
    fixture *f = *state;
    st_log *log = open_log(f, true);
    st_log_set_leader_epoch(log, 3);
    for (int i = 0; i < 20; i++)
        append_n(log, 3);
    assert_true(st_log_segment_count(log) > 2);
    int64_t low; /* the start moves into the middle of a segment */
    assert_int_equal(st_log_delete_records(log, 31, &low), ST_ERR_NONE);
    assert_true(st_log_segment_count(log) >= 2);
    st_log_close(log, true);
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, ST_LEADER_EPOCH_FILE);
    assert_int_equal(unlink(path), 0);
    log = open_log(f, true);
    expect_entries(log, ENTRIES({3, 31}), 1);
    assert_int_equal(st_log_leader_epoch(log), 3);
    st_log_close(log, true);
}

static void test_behind_after_crash(void **state)
{
    fixture *f = *state;
    st_log *log = open_log(f, true);
    append_n(log, 3);
    st_log_close(log, true);
    log = open_log(f, true);
    st_log_set_leader_epoch(log, 7);
    append_n(log, 3);
    st_log_close(log, false); /* the recovery point stays at 3 */
    /* as if the write of the new epoch was lost in a crash */
    write_file(f, ST_LEADER_EPOCH_FILE, "0\n1\n0 0\n");
    log = open_log(f, false);
    expect_entries(log, ENTRIES({0, 0}, {7, 3}), 2);
    assert_int_equal(st_log_leader_epoch(log), 7);
    st_log_close(log, true);
}

static void test_delete_records_moves_start(void **state)
{
    fixture *f = *state;
    st_log *log = open_log(f, true);
    append_n(log, 3);
    st_log_set_leader_epoch(log, 1);
    append_n(log, 3);
    st_log_set_leader_epoch(log, 2);
    append_n(log, 3);
    int64_t low;
    assert_int_equal(st_log_delete_records(log, 4, &low), ST_ERR_NONE);
    expect_entries(log, ENTRIES({1, 4}, {2, 6}), 2);
    st_log_close(log, true);
    log = open_log(f, true);
    expect_entries(log, ENTRIES({1, 4}, {2, 6}), 2);
    st_log_close(log, true);
}

/* A leader's batch as it arrives at a follower: its offsets and epoch set. */
static size_t leader_batch(uint8_t *buf, size_t cap, int n, int64_t base, int32_t epoch)
{
    size_t len = build_batch(buf, cap, n, NOW, 40);
    put_be(buf, (uint64_t)base, 8);
    put_be(buf + 12, (uint64_t)epoch, 4);
    return len;
}

static void test_follower_append(void **state)
{
    fixture *f = *state;
    st_log *log = open_log(f, true);
    uint8_t set[4096];
    size_t a = leader_batch(set, sizeof set, 3, 0, 5);
    size_t b = leader_batch(set + a, sizeof set - a, 2, 3, 6);
    st_append_result res;
    assert_int_equal(st_log_append_follower(log, set, a + b, NOW, &res), ST_ERR_NONE);
    assert_int_equal(res.base_offset, 0);
    assert_int_equal(res.last_offset, 4);
    assert_int_equal(st_log_end_offset(log), 5);
    expect_entries(log, ENTRIES({5, 0}, {6, 3}), 2); /* (0, 0) of the empty log replaced */
    uint8_t got[2048];
    read_batch(log, 3, got, sizeof got);
    assert_int_equal((int32_t)get_be(got + 12, 4), 6); /* the leader's epoch, kept */

    /* a gap, an overlap, a torn batch: refused, nothing written */
    size_t c = leader_batch(set, sizeof set, 1, 7, 6);
    assert_int_equal(st_log_append_follower(log, set, c, NOW, &res), ST_ERR_OFFSET_OUT_OF_RANGE);
    assert_non_null(strstr(res.why, "where 5 was expected"));
    c = leader_batch(set, sizeof set, 1, 4, 6);
    assert_int_equal(st_log_append_follower(log, set, c, NOW, &res), ST_ERR_OFFSET_OUT_OF_RANGE);
    c = leader_batch(set, sizeof set, 1, 5, 6);
    set[c - 1] ^= 1; /* CRC no longer matches */
    assert_int_equal(st_log_append_follower(log, set, c, NOW, &res), ST_ERR_CORRUPT_MESSAGE);
    assert_int_equal(st_log_end_offset(log), 5);
    st_log_close(log, true);
}

static void test_truncate(void **state)
{
    fixture *f = *state;
    st_log *log = open_log(f, true);
    for (int i = 0; i < 10; i++)
        assert_int_equal(append_pid(log, 3, 77, i * 3), i * 3);
    st_log_set_leader_epoch(log, 3);
    for (int i = 10; i < 20; i++)
        assert_int_equal(append_pid(log, 3, 77, i * 3), i * 3);
    int segs = st_log_segment_count(log);
    assert_true(segs > 2);
    char why[256];
    assert_int_equal(st_log_truncate_to(log, -1, why, sizeof why), ST_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(st_log_truncate_to(log, 100, why, sizeof why), ST_ERR_NONE); /* past end */
    assert_int_equal(st_log_end_offset(log), 60);

    /* offset 25 lies in the batch 24..26: that batch goes too */
    assert_int_equal(st_log_truncate_to(log, 25, why, sizeof why), ST_ERR_NONE);
    assert_int_equal(st_log_end_offset(log), 24);
    assert_true(st_log_segment_count(log) < segs);
    expect_entries(log, ENTRIES({0, 0}), 1);
    st_log_slice s;
    assert_int_equal(st_log_read(log, 24, 100000, &s), ST_ERR_NONE);
    assert_int_equal(s.len, 0);
    assert_int_equal(st_log_read(log, 25, 100000, &s), ST_ERR_OFFSET_OUT_OF_RANGE);
    /* the producer state went back too: sequence 24 is next, not 60 */
    assert_int_equal(append_pid(log, 3, 77, 60), -ST_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(append_pid(log, 3, 77, 24), 24);
    /* a follower continues from the cut with the leader's next epoch */
    uint8_t set[2048];
    size_t a = leader_batch(set, sizeof set, 2, 27, 4);
    st_append_result res;
    assert_int_equal(st_log_append_follower(log, set, a, NOW, &res), ST_ERR_NONE);
    expect_entries(log, ENTRIES({0, 0}, {3, 24}, {4, 27}), 3);
    st_log_close(log, true);

    /* everything holds after a restart, clean and unclean */
    log = open_log(f, false);
    assert_int_equal(st_log_end_offset(log), 29);
    expect_entries(log, ENTRIES({0, 0}, {3, 24}, {4, 27}), 3);
    assert_int_equal(st_log_leader_epoch(log), 4);
    assert_int_equal(st_log_truncate_to(log, 0, why, sizeof why), ST_ERR_NONE);
    assert_int_equal(st_log_end_offset(log), 0);
    assert_int_equal(st_log_segment_count(log), 1);
    st_log_close(log, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stamp_and_persist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_written_keeps_no_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebuilt_when_missing_or_damaged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebuilt_one_epoch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_behind_after_crash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_records_moves_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follower_append, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
