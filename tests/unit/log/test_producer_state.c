/* Unit tests for idempotent producers in the partition log (broker/log/producer_state.c
 * through st_log_append / st_log_open): retries, gaps, epochs, the five-batch window,
 * snapshots across clean and unclean restarts, a snapshot beyond a truncated end, and
 * the expiry of idle producers (producer.id.expiration.ms) with what a snapshot keeps of
 * it. Each test uses a fresh directory under /tmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker/log/batch.h"
#include "broker/log/log.h"
#include "common/errors.h"
#include "common/logging.h"
#include "tests/unit/log/build_batch.h"
#include "tests/unit/log/fixture.h"

#define NOW 1700000000000LL
#define PID 1000

static st_log *open_log(fixture *f, int64_t segment_bytes, bool clean)
{
    st_log_config c;
    st_log_config_defaults(&c);
    c.segment_bytes = segment_bytes;
    c.index_interval_bytes = 256;
    char err[256] = "";
    st_log *log = st_log_open(f->dir, &c, clean, NULL, err, sizeof err);
    if (!log)
        fail_msg("st_log_open: %s", err);
    return log;
}

/* A batch of n records from producer pid/epoch starting at sequence seq. */
static size_t pbatch(uint8_t *buf, size_t cap, int n, int64_t pid, int16_t epoch, int32_t seq)
{
    size_t size = build_batch(buf, cap, n, NOW, 20);
    put_be(buf + 43, (uint64_t)pid, 8);
    put_be(buf + 51, (uint64_t)(uint16_t)epoch, 2);
    put_be(buf + 53, (uint64_t)(uint32_t)seq, 4);
    fix_crc(buf, size);
    return size;
}

/* Appends at wall-clock time `now`; returns the error code and fills *res. */
static int produce_at(st_log *log, int n, int64_t pid, int16_t epoch, int32_t seq, int64_t now,
                      st_append_result *res)
{
    uint8_t b[4096];
    size_t size = pbatch(b, sizeof b, n, pid, epoch, seq);
    return st_log_append(log, b, size, now, res);
}

static int produce(st_log *log, int n, int64_t pid, int16_t epoch, int32_t seq,
                   st_append_result *res)
{
    return produce_at(log, n, pid, epoch, seq, NOW, res);
}

/* Appends and expects success with a write; returns the base offset. */
static int64_t produce_ok(st_log *log, int n, int64_t pid, int16_t epoch, int32_t seq)
{
    st_append_result res;
    int rc = produce(log, n, pid, epoch, seq, &res);
    if (rc != ST_ERR_NONE)
        fail_msg("produce seq %d: %s: %s", seq, st_err_name(rc), res.why);
    assert_false(res.duplicate);
    assert_int_equal(res.records, n);
    return res.base_offset;
}

/* Appends a retry and expects it recognised: returns the original base offset. */
static int64_t produce_dup(st_log *log, int n, int64_t pid, int16_t epoch, int32_t seq)
{
    int64_t end = st_log_end_offset(log);
    st_append_result res;
    int rc = produce(log, n, pid, epoch, seq, &res);
    if (rc != ST_ERR_NONE)
        fail_msg("retry seq %d: %s: %s", seq, st_err_name(rc), res.why);
    assert_true(res.duplicate);
    assert_int_equal(res.records, 0);
    assert_int_equal(res.last_offset, res.base_offset + n - 1);
    assert_int_equal(st_log_end_offset(log), end); /* nothing written */
    return res.base_offset;
}

/* Expects the append to fail with `want`; checks nothing was written. */
static void produce_fails(st_log *log, int n, int64_t pid, int16_t epoch, int32_t seq, int want,
                          const char *why_part)
{
    int64_t end = st_log_end_offset(log);
    st_append_result res;
    int rc = produce(log, n, pid, epoch, seq, &res);
    if (rc != want)
        fail_msg("seq %d: got %s, want %s (%s)", seq, st_err_name(rc), st_err_name(want), res.why);
    if (why_part && !strstr(res.why, why_part))
        fail_msg("why \"%s\" lacks \"%s\"", res.why, why_part);
    assert_int_equal(st_log_end_offset(log), end);
}

/* Number of batches stored from offset 0 to the end (walks every segment). */
static int count_batches(st_log *log)
{
    int batches = 0;
    for (int64_t offset = 0; offset < st_log_end_offset(log);) {
        st_log_slice s;
        assert_int_equal(st_log_read(log, offset, 1 << 20, &s), ST_ERR_NONE);
        if (s.len == 0)
            break;
        uint8_t *buf = malloc(s.len);
        assert_int_equal(pread(s.file->fd, buf, s.len, s.pos), (ssize_t)s.len);
        for (size_t pos = 0; pos < s.len; batches++) {
            st_batch_info info;
            assert_int_equal(st_batch_header(buf + pos, s.len - pos, &info), ST_ERR_NONE);
            offset = info.base_offset + info.last_offset_delta + 1;
            pos += (size_t)info.size;
        }
        free(buf);
        st_fileref_unref(s.file);
    }
    return batches;
}

/* Snapshot files in the partition directory; their offsets go to out (ascending
 * order not guaranteed). */
static int snapshots(fixture *f, int64_t *out, int cap)
{
    DIR *d = opendir(f->dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *dot = strchr(e->d_name, '.');
        if (dot && strcmp(dot, ".snapshot") == 0) {
            if (n < cap)
                out[n] = strtoll(e->d_name, NULL, 10);
            n++;
        }
    }
    closedir(d);
    return n;
}

static bool has_snapshot(fixture *f, int64_t offset)
{
    int64_t offs[16];
    int n = snapshots(f, offs, 16);
    for (int i = 0; i < n && i < 16; i++)
        if (offs[i] == offset)
            return true;
    return false;
}

static void test_duplicate_retry(void **state)
{
    fixture *f = *state;
    st_log *log = open_log(f, 1 << 20, true);
    assert_int_equal(produce_ok(log, 3, PID, 0, 0), 0);
    assert_int_equal(produce_ok(log, 2, PID, 0, 3), 3);
    assert_int_equal(produce_dup(log, 3, PID, 0, 0), 0); /* original offset */
    assert_int_equal(produce_dup(log, 2, PID, 0, 3), 3);
    assert_int_equal(st_log_end_offset(log), 5);
    assert_int_equal(count_batches(log), 2); /* held once */
    assert_int_equal(produce_ok(log, 1, PID, 0, 5), 5);
    /* batches without a producer id are never checked */
    uint8_t b[4096];
    size_t size = build_batch(b, sizeof b, 2, NOW, 10);
    st_append_result res;
    assert_int_equal(st_log_append(log, b, size, NOW, &res), ST_ERR_NONE);
    size = build_batch(b, sizeof b, 2, NOW, 10);
    assert_int_equal(st_log_append(log, b, size, NOW, &res), ST_ERR_NONE);
    assert_false(res.duplicate);
    assert_int_equal(st_log_end_offset(log), 10);
    st_log_close(log, false);
}

static void test_gap(void **state)
{
    fixture *f = *state;
    st_log *log = open_log(f, 1 << 20, true);
    produce_ok(log, 3, PID, 0, 0);
    produce_fails(log, 1, PID, 0, 5, ST_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "expected 3, got 5");
    produce_fails(log, 1, PID, 0, 1, ST_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "producer 1000");
    /* A producer the partition does not know may start anywhere (KIP-360); from then on
     * its sequence is checked. */
    assert_int_equal(produce_ok(log, 1, PID + 1, 0, 7), 3);
    produce_fails(log, 1, PID + 1, 0, 9, ST_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "expected 8, got 9");
    assert_int_equal(produce_dup(log, 1, PID + 1, 0, 7), 3);
    assert_int_equal(produce_ok(log, 1, PID, 0, 3), 4);
    assert_int_equal(produce_ok(log, 1, PID + 1, 0, 8), 5);
    st_log_close(log, false);
}

static void test_epochs(void **state)
{
    fixture *f = *state;
    st_log *log = open_log(f, 1 << 20, true);
    produce_ok(log, 2, PID, 1, 0);
    produce_fails(log, 1, PID, 0, 2, ST_ERR_INVALID_PRODUCER_EPOCH, "older than its current");
    produce_fails(log, 1, PID, 0, 0, ST_ERR_INVALID_PRODUCER_EPOCH, NULL);
    /* a new epoch must restart at 0 */
    produce_fails(log, 1, PID, 2, 2, ST_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "restart at 0");
    assert_int_equal(produce_ok(log, 2, PID, 2, 0), 2);
    assert_int_equal(produce_ok(log, 1, PID, 2, 2), 4);
    /* the new epoch forgot the old epoch's batches, and the old epoch is fenced */
    produce_fails(log, 2, PID, 1, 0, ST_ERR_INVALID_PRODUCER_EPOCH, NULL);
    assert_int_equal(produce_dup(log, 2, PID, 2, 0), 2);
    st_log_close(log, false);
}

static void test_window_of_five(void **state)
{
    fixture *f = *state;
    st_log *log = open_log(f, 1 << 20, true);
    for (int i = 0; i < 7; i++)
        assert_int_equal(produce_ok(log, 1, PID, 0, i), i);
    for (int i = 2; i < 7; i++) /* the last five */
        assert_int_equal(produce_dup(log, 1, PID, 0, i), i);
    /* the sixth-last is forgotten: now just out of order */
    produce_fails(log, 1, PID, 0, 1, ST_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "expected 7, got 1");
    assert_int_equal(count_batches(log), 7);
    st_log_close(log, false);
}

static void test_multi_batch_record_set(void **state)
{
    fixture *f = *state;
    st_log *log = open_log(f, 1 << 20, true);
    uint8_t set[8192];
    size_t a = pbatch(set, 4096, 3, PID, 0, 0);
    size_t b = pbatch(set + a, 4096, 2, PID, 0, 3); /* follows the first in the same set */
    st_append_result res;
    assert_int_equal(st_log_append(log, set, a + b, NOW, &res), ST_ERR_NONE);
    assert_int_equal(res.last_offset, 4);
    /* second batch leaves a gap: nothing of the set is written */
    a = pbatch(set, 4096, 1, PID, 0, 5);
    b = pbatch(set + a, 4096, 1, PID, 0, 9);
    assert_int_equal(st_log_append(log, set, a + b, NOW, &res),
                     ST_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(st_log_end_offset(log), 5);
    /* a whole set of retries is a duplicate; retries mixed with new data are refused */
    a = pbatch(set, 4096, 3, PID, 0, 0);
    b = pbatch(set + a, 4096, 2, PID, 0, 3);
    assert_int_equal(st_log_append(log, set, a + b, NOW, &res), ST_ERR_NONE);
    assert_true(res.duplicate);
    assert_int_equal(res.base_offset, 0);
    assert_int_equal(res.last_offset, 4);
    b = pbatch(set + a, 4096, 1, PID, 0, 5);
    assert_int_equal(st_log_append(log, set, a + b, NOW, &res), ST_ERR_DUPLICATE_SEQUENCE_NUMBER);
    assert_int_equal(st_log_end_offset(log), 5);
    st_log_close(log, false);
}

static void test_no_producer_no_snapshot(void **state)
{
    fixture *f = *state;
    st_log *log = open_log(f, 1024, true);
    uint8_t b[4096];
    st_append_result res;
    for (int i = 0; i < 20; i++) { /* rolls several times */
        size_t size = build_batch(b, sizeof b, 2, NOW, 40);
        assert_int_equal(st_log_append(log, b, size, NOW, &res), ST_ERR_NONE);
    }
    assert_true(st_log_segment_count(log) > 2);
    st_log_close(log, true);
    int64_t offs[4];
    assert_int_equal(snapshots(f, offs, 4), 0);
    log = open_log(f, 1024, false);
    assert_int_equal(snapshots(f, offs, 4), 0);
    st_log_close(log, false);
}

static void test_clean_restart(void **state)
{
    fixture *f = *state;
    st_log *log = open_log(f, 1 << 20, true);
    produce_ok(log, 3, PID, 0, 0);
    produce_ok(log, 3, PID, 0, 3);
    produce_ok(log, 1, PID + 5, 3, 0);
    st_log_close(log, true);
    assert_true(has_snapshot(f, 7)); /* the state as of the end offset */

    log = open_log(f, 1 << 20, true);
    assert_false(logged(f, "rebuilt producer state")); /* nothing scanned */
    assert_int_equal(produce_dup(log, 3, PID, 0, 3), 3);
    assert_int_equal(produce_dup(log, 1, PID + 5, 3, 0), 6);
    produce_fails(log, 1, PID, 0, 7, ST_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "expected 6, got 7");
    produce_fails(log, 1, PID + 5, 2, 1, ST_ERR_INVALID_PRODUCER_EPOCH, NULL);
    assert_int_equal(produce_ok(log, 1, PID, 0, 6), 7);
    st_log_close(log, true);
    int64_t offs[8];
    assert_int_equal(snapshots(f, offs, 8), 2); /* the newest two */
    assert_true(has_snapshot(f, 8));
    assert_true(has_snapshot(f, 7));
}

/* The child appends and dies by SIGKILL: no close, no final snapshot. */
static void crash_after(fixture *f, int64_t segment_bytes, int batches)
{
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        st_log *log = open_log(f, segment_bytes, true);
        for (int i = 0; i < batches; i++)
            produce_ok(log, 2, PID, 0, 2 * i);
        kill(getpid(), SIGKILL);
        _exit(1);
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void test_unclean_restart(void **state)
{
    fixture *f = *state;
    crash_after(f, 1 << 20, 6);
    assert_true(has_snapshot(f, 0)); /* written before the first producer batch */
    assert_false(has_snapshot(f, 12));

    st_log *log = open_log(f, 1 << 20, false);
    assert_int_equal(st_log_end_offset(log), 12);
    assert_true(logged(f, "rebuilt producer state from offset 0 (6 batches"));
    assert_int_equal(produce_dup(log, 2, PID, 0, 10), 10);
    assert_int_equal(produce_dup(log, 2, PID, 0, 2), 2);
    produce_fails(log, 2, PID, 0, 0, ST_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "expected 12, got 0");
    assert_int_equal(produce_ok(log, 2, PID, 0, 12), 12);
    st_log_close(log, false);
}

static void test_unclean_restart_after_roll(void **state)
{
    fixture *f = *state;
    crash_after(f, 600, 30); /* small segments: rolls write snapshots */
    int64_t offs[8];
    int n = snapshots(f, offs, 8);
    assert_int_equal(n, 2);
    int64_t newest = offs[0] > offs[1] ? offs[0] : offs[1];
    assert_true(newest > 0 && newest < 60);

    st_log *log = open_log(f, 600, false);
    assert_int_equal(st_log_end_offset(log), 60);
    char expect[96];
    snprintf(expect, sizeof expect, "rebuilt producer state from offset %lld", (long long)newest);
    assert_true(logged(f, expect)); /* only the tail after the roll was scanned */
    assert_int_equal(produce_dup(log, 2, PID, 0, 58), 58);
    assert_int_equal(produce_ok(log, 2, PID, 0, 60), 60);
    st_log_close(log, false);
}

static void test_snapshot_beyond_truncated_end(void **state)
{
    fixture *f = *state;
    st_log *log = open_log(f, 1 << 20, true);
    for (int i = 0; i < 4; i++)
        produce_ok(log, 2, PID, 0, 2 * i);
    st_log_close(log, false);
    assert_true(has_snapshot(f, 8));

    /* lose the last batch, as a power cut after an unflushed write would */
    char path[512];
    snprintf(path, sizeof path, "%s/%020d.log", f->dir, 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size - 10), 0);

    log = open_log(f, 1 << 20, false);
    assert_int_equal(st_log_end_offset(log), 6);
    assert_true(logged(f, "beyond the log end offset 6"));
    assert_false(has_snapshot(f, 8));
    /* the lost batch is not a duplicate: it is written again */
    assert_int_equal(produce_ok(log, 2, PID, 0, 6), 6);
    assert_int_equal(produce_dup(log, 2, PID, 0, 4), 4);
    st_log_close(log, false);
}

/* A snapshot written by hand (format of producer_state.h) puts the producer just
 * before INT32_MAX: its sequence wraps to 0 as Kafka's does. */
static void test_sequence_wrap(void **state)
{
    fixture *f = *state;
    assert_int_equal(mkdir(f->dir, 0755), 0);
    uint8_t snap[22 + 11 + 32];
    memcpy(snap, "STPS", 4);
    put_be(snap + 4, 1, 2);
    put_be(snap + 10, 0, 8); /* offset */
    put_be(snap + 18, 1, 4); /* one producer */
    put_be(snap + 22, PID, 8);
    put_be(snap + 30, 0, 2); /* epoch */
    snap[32] = 1;            /* one batch */
    put_be(snap + 33, INT32_MAX - 4, 4);
    put_be(snap + 37, INT32_MAX - 2, 4);
    put_be(snap + 41, (uint64_t)-10, 8); /* offsets from before the log start */
    put_be(snap + 49, (uint64_t)-8, 8);
    put_be(snap + 57, NOW, 8);
    put_be(snap + 6, st_crc32c(0, snap + 10, sizeof snap - 10), 4);
    char path[512];
    snprintf(path, sizeof path, "%s/%020d.snapshot", f->dir, 0);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(snap, 1, sizeof snap, fp), sizeof snap);
    fclose(fp);

    st_log *log = open_log(f, 1 << 20, true);
    produce_fails(log, 3, PID, 0, 0, ST_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, NULL);
    assert_int_equal(produce_ok(log, 3, PID, 0, INT32_MAX - 1), 0); /* MAX-1, MAX, 0 */
    assert_int_equal(produce_ok(log, 1, PID, 0, 1), 3);
    assert_int_equal(produce_dup(log, 3, PID, 0, INT32_MAX - 1), 0);
    st_log_close(log, false);

    /* a corrupt snapshot is refused and the state rebuilt from the log */
    snprintf(path, sizeof path, "%s/%020d.snapshot", f->dir, 4);
    fp = fopen(path, "r+");
    assert_non_null(fp);
    fseek(fp, 30, SEEK_SET);
    fputc(0x5a, fp);
    fclose(fp);
    log = open_log(f, 1 << 20, true);
    assert_true(logged(f, "unusable (bad magic, version, CRC or offset)"));
    assert_int_equal(produce_dup(log, 1, PID, 0, 1), 3);
    assert_int_equal(produce_ok(log, 1, PID, 0, 2), 4);
    st_log_close(log, false);
}

static void test_expiry(void **state)
{
    fixture *f = *state;
    st_log *log = open_log(f, 1 << 20, true);
    st_append_result res;
    assert_int_equal(produce_at(log, 2, PID, 0, 0, NOW, &res), ST_ERR_NONE);
    assert_int_equal(produce_at(log, 2, PID + 1, 0, 0, NOW + 500, &res), ST_ERR_NONE);
    assert_int_equal(st_log_expire_producers(log, NOW + 999, 1000), 0);
    assert_int_equal(st_log_expire_producers(log, NOW + 1000, 1000), 1);
    assert_true(logged(f, "1 idle producer(s) expired"));
    /* PID is forgotten: its retry is new data; PID+1 still knows its batch. */
    assert_int_equal(produce_at(log, 2, PID, 0, 0, NOW + 1000, &res), ST_ERR_NONE);
    assert_false(res.duplicate);
    assert_int_equal(res.base_offset, 4);
    assert_int_equal(produce_dup(log, 2, PID + 1, 0, 0), 2);
    st_log_close(log, false);

    /* The clean close's snapshot keeps each producer's last append time. */
    log = open_log(f, 1 << 20, true);
    assert_int_equal(produce_dup(log, 2, PID, 0, 0), 4);
    assert_int_equal(st_log_expire_producers(log, NOW + 1499, 1000), 0);
    assert_int_equal(st_log_expire_producers(log, NOW + 1500, 1000), 1); /* PID+1 */
    assert_int_equal(st_log_expire_producers(log, NOW + 2000, 1000), 1); /* PID */
    st_log_close(log, false);

    /* Everyone expired: the close still writes a (now empty) snapshot, so the reopen does
     * not rebuild the expired producers from the log. */
    log = open_log(f, 1 << 20, true);
    assert_true(has_snapshot(f, 6));
    assert_int_equal(produce_ok(log, 2, PID, 0, 0), 6);
    assert_int_equal(produce_ok(log, 2, PID + 1, 0, 0), 8);
    st_log_close(log, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_duplicate_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epochs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_of_five, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_batch_record_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_producer_no_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clean_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unclean_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unclean_restart_after_roll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_beyond_truncated_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequence_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
