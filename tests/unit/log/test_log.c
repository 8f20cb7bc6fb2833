/* Unit tests for the partition log (broker/log/): append, read, recovery, retention,
 * delete_records, offset_for_time and the flusher. Each test uses a fresh directory
 * under /tmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/batch.h"
#include "broker/log/log.h"
#include "broker/log/log_int.h" /* epochs_running */
#include "common/errors.h"
#include "common/logging.h"
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

static st_log *open_log(fixture *f, const st_log_config *c, bool clean, st_flusher *flusher)
{
    char err[256] = "";
    st_log *log = st_log_open(f->dir, c, clean, flusher, err, sizeof err);
    if (!log)
        fail_msg("st_log_open: %s", err);
    return log;
}

/* Appends one batch of n records; returns its base offset. */
static int64_t append(st_log *log, int n, int64_t ts, size_t value_len)
{
    uint8_t b[16384];
    size_t size = build_batch(b, sizeof b, n, ts, value_len);
    st_append_result res;
    int rc = st_log_append(log, b, size, NOW, &res);
    if (rc != ST_ERR_NONE)
        fail_msg("append: %s: %s", st_err_name(rc), res.why);
    assert_int_equal(res.records, n);
    assert_int_equal(res.last_offset, res.base_offset + n - 1);
    return res.base_offset;
}

/* Reads at offset and checks the slice: whole, intact batches, contiguous, the first
 * holding offset. Returns the number of batches (0 for an empty slice). */
static int check_read(st_log *log, int64_t offset, size_t max_bytes)
{
    st_log_slice s;
    assert_int_equal(st_log_read(log, offset, max_bytes, &s), ST_ERR_NONE);
    if (s.len == 0) {
        assert_null(s.file);
        return 0;
    }
    uint8_t *buf = malloc(s.len);
    assert_int_equal(pread(s.file->fd, buf, s.len, s.pos), (ssize_t)s.len);
    int batches = 0;
    int64_t expect = -1;
    for (size_t pos = 0; pos < s.len; batches++) {
        st_batch_info info;
        assert_int_equal(st_batch_header(buf + pos, s.len - pos, &info), ST_ERR_NONE);
        assert_true(st_batch_intact(buf + pos, (size_t)info.size));
        if (batches == 0) {
            assert_true(info.base_offset <= offset);
            assert_true(offset <= info.base_offset + info.last_offset_delta);
        } else {
            assert_int_equal(info.base_offset, expect);
        }
        expect = info.base_offset + info.last_offset_delta + 1;
        pos += (size_t)info.size;
    }
    assert_true(batches == 1 || s.len <= max_bytes);
    free(buf);
    st_fileref_unref(s.file);
    return batches;
}

static void test_round_trip(void **state)
{
    fixture *f = *state;
    st_log_config c = small_config();
    st_log *log = open_log(f, &c, true, NULL);
    assert_int_equal(st_log_end_offset(log), 0);
    assert_int_equal(check_read(log, 0, 1000), 0); /* empty log: end offset */

    uint8_t stored[40][1024];
    size_t sizes[40];
    for (int i = 0; i < 40; i++) {
        sizes[i] = build_batch(stored[i], sizeof stored[i], 3, NOW + i, 80);
        uint8_t copy[1024];
        memcpy(copy, stored[i], sizes[i]);
        st_append_result res;
        assert_int_equal(st_log_append(log, copy, sizes[i], NOW, &res), ST_ERR_NONE);
        assert_int_equal(res.base_offset, i * 3);
        assert_int_equal(res.log_append_time, -1);
        assert_false(res.flush_needed);
        memcpy(stored[i], copy, sizes[i]); /* as edited: offsets set */
        assert_int_equal(get_be(stored[i], 8), i * 3);
    }
    assert_int_equal(st_log_end_offset(log), 120);
    assert_true(st_log_segment_count(log) >= 5);
    int64_t total = 0;
    for (int i = 0; i < 40; i++)
        total += (int64_t)sizes[i];
    assert_int_equal(st_log_size_bytes(log), total);

    /* every offset, one batch at a time: bytes are what was appended */
    for (int64_t off = 0; off < 120; off++) {
        st_log_slice s;
        assert_int_equal(st_log_read(log, off, 1, &s), ST_ERR_NONE);
        int i = (int)(off / 3);
        assert_int_equal(s.len, sizes[i]);
        uint8_t buf[1024];
        assert_int_equal(pread(s.file->fd, buf, s.len, s.pos), (ssize_t)s.len);
        assert_memory_equal(buf, stored[i], sizes[i]);
        st_fileref_unref(s.file);
    }
    /* larger reads: several whole batches, never past the segment */
    for (int64_t off = 0; off < 120; off += 7)
        assert_true(check_read(log, off, 1500) >= 1);
    assert_true(check_read(log, 4, 100000) > 1);
    /* a tiny max_bytes still gets one whole batch */
    assert_int_equal(check_read(log, 61, 10), 1);
    st_log_close(log, true);
}

static void test_out_of_range(void **state)
{
    fixture *f = *state;
    st_log_config c = small_config();
    st_log *log = open_log(f, &c, true, NULL);
    for (int i = 0; i < 10; i++)
        append(log, 2, NOW, 50);
    st_log_slice s;
    assert_int_equal(st_log_read(log, 21, 1000, &s), ST_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(st_log_read(log, -1, 1000, &s), ST_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(st_log_read(log, 20, 1000, &s), ST_ERR_NONE);
    assert_int_equal(s.len, 0);
    int64_t low;
    assert_int_equal(st_log_delete_records(log, 5, &low), ST_ERR_NONE);
    assert_int_equal(low, 5);
    assert_int_equal(st_log_read(log, 4, 1000, &s), ST_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(check_read(log, 5, 1), 1); /* batch 4..5 starts below: client skips */
    st_log_close(log, false);
}

static void test_reopen(void **state)
{
    fixture *f = *state;
    st_log_config c = small_config();
    st_log *log = open_log(f, &c, true, NULL);
    for (int i = 0; i < 30; i++)
        append(log, 2, NOW + i, 60);
    int segments = st_log_segment_count(log);
    int64_t size = st_log_size_bytes(log);
    st_log_close(log, true);

    /* clean: checkpoint matches, nothing read */
    log = open_log(f, &c, true, NULL);
    assert_int_equal(st_log_end_offset(log), 60);
    assert_int_equal(st_log_start_offset(log), 0);
    assert_int_equal(st_log_segment_count(log), segments);
    assert_int_equal(st_log_size_bytes(log), size);
    for (int64_t off = 0; off < 60; off += 5)
        check_read(log, off, 300);
    assert_int_equal(append(log, 1, NOW, 10), 60);
    st_log_close(log, false);

    /* unclean, nothing damaged: same log */
    log = open_log(f, &c, false, NULL);
    assert_int_equal(st_log_end_offset(log), 61);
    assert_int_equal(check_read(log, 60, 1000), 1);
    st_log_close(log, true);

    /* clean without a checkpoint: the active segment is scanned instead */
    char path[256];
    snprintf(path, sizeof path, "%s/partition.checkpoint", f->dir);
    assert_int_equal(unlink(path), 0);
    log = open_log(f, &c, true, NULL);
    assert_int_equal(st_log_end_offset(log), 61);
    assert_int_equal(append(log, 2, NOW, 10), 61);
    st_log_close(log, true);
}

/* Path of the active (last) segment's .log. */
static void last_segment(fixture *f, st_log *log, char *path, size_t len)
{
    st_log_slice s;
    int64_t end = st_log_end_offset(log);
    assert_int_equal(st_log_read(log, end - 1, 1, &s), ST_ERR_NONE);
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", s.file->fd);
    ssize_t n = readlink(link, path, len - 1);
    assert_true(n > 0);
    path[n] = '\0';
    st_fileref_unref(s.file);
}

static void test_torn_tail(void **state)
{
    fixture *f = *state;
    st_log_config c = small_config();
    c.segment_bytes = 1 << 20;
    st_log *log = open_log(f, &c, true, NULL);
    for (int i = 0; i < 20; i++)
        append(log, 4, NOW, 100);
    char path[512];
    last_segment(f, log, path, sizeof path);
    st_log_close(log, false);

    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size - 30), 0); /* cut mid last batch */

    log = open_log(f, &c, false, NULL);
    assert_int_equal(st_log_end_offset(log), 76);
    assert_true(logged(f, "truncated"));
    assert_true(logged(f, "log end offset now 76"));
    assert_int_equal(check_read(log, 75, 1), 1);
    st_log_slice s;
    assert_int_equal(st_log_read(log, 77, 1, &s), ST_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(append(log, 1, NOW, 10), 76); /* continues where the data ends */
    assert_int_equal(check_read(log, 76, 10000), 1);
    st_log_close(log, true);
}

static void test_flipped_byte(void **state)
{
    fixture *f = *state;
    st_log_config c = small_config();
    c.segment_bytes = 1 << 20;
    st_log *log = open_log(f, &c, true, NULL);
    for (int i = 0; i < 20; i++)
        append(log, 4, NOW, 100);
    char path[512];
    last_segment(f, log, path, sizeof path);
    st_log_close(log, false);

    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    int fd = open(path, O_RDWR);
    uint8_t byte;
    assert_int_equal(pread(fd, &byte, 1, st.st_size - 5), 1);
    byte ^= 0x40;
    assert_int_equal(pwrite(fd, &byte, 1, st.st_size - 5), 1);
    close(fd);

    log = open_log(f, &c, false, NULL);
    assert_int_equal(st_log_end_offset(log), 76);
    assert_true(logged(f, "CRC mismatch"));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, st_log_size_bytes(log));
    st_log_close(log, true);
}

static void test_damaged_index(void **state)
{
    fixture *f = *state;
    st_log_config c = small_config();
    st_log *log = open_log(f, &c, true, NULL);
    for (int i = 0; i < 30; i++)
        append(log, 2, NOW + i, 60);
    st_log_close(log, true);

    /* garbage in the first segment's index, the second's index gone */
    char path[256];
    snprintf(path, sizeof path, "%s/%020d.index", f->dir, 0);
    int fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "\x00\x00\x00\x05\x7f\x00\x00\x00\x01", 9), 9);
    close(fd);
    st_log_slice s;
    log = open_log(f, &c, true, NULL);
    assert_int_equal(st_log_read(log, 0, 1, &s), ST_ERR_NONE);
    st_fileref_unref(s.file);
    int64_t second = -1, last_pos = 0;
    for (int64_t off = 0; off < 60; off++) {
        assert_int_equal(check_read(log, off, 1), 1);
        assert_int_equal(st_log_read(log, off, 1, &s), ST_ERR_NONE);
        if (second < 0 && s.pos < last_pos)
            second = off; /* first offset of the second segment */
        last_pos = s.pos;
        st_fileref_unref(s.file);
    }
    st_log_close(log, true);
    assert_true(second > 0);
    snprintf(path, sizeof path, "%s/%020lld.index", f->dir, (long long)second);
    assert_int_equal(unlink(path), 0);
    log = open_log(f, &c, false, NULL);
    for (int64_t off = 0; off < 60; off++)
        check_read(log, off, 1);
    struct stat st;
    assert_int_equal(stat(path, &st), 0); /* rebuilt from the .log */
    assert_true(st.st_size >= 8);
    snprintf(path, sizeof path, "%s/%020d.index", f->dir, 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size % 8, 0); /* rewritten */
    st_log_close(log, true);
}

static void test_retention_bytes(void **state)
{
    fixture *f = *state;
    st_log_config c = small_config();
    st_log *log = open_log(f, &c, true, NULL);
    for (int i = 0; i < 40; i++)
        append(log, 2, NOW, 100);
    int before = st_log_segment_count(log);
    assert_int_equal(st_log_apply_retention(log, NOW), 0); /* retention.bytes -1: nothing */
    assert_int_equal(st_log_segment_count(log), before);

    c.retention_bytes = 4096;
    c.cleanup_delete = false; /* compact-only topics are never cut by size */
    st_log_set_config(log, &c);
    assert_int_equal(st_log_apply_retention(log, NOW), 0);
    st_log_tick(log, NOW); /* the housekeeping tick never deletes */
    assert_int_equal(st_log_segment_count(log), before);
    c.cleanup_delete = true;
    st_log_set_config(log, &c);
    st_log_tick(log, NOW);
    assert_int_equal(st_log_segment_count(log), before);
    int deleted = st_log_apply_retention(log, NOW);
    assert_int_equal(st_log_segment_count(log), before - deleted);
    /* Kafka's rule: delete while what is left still holds at least retention.bytes */
    assert_true(st_log_size_bytes(log) >= 4096);
    assert_true(st_log_size_bytes(log) < 4096 + 2048);
    int64_t start = st_log_start_offset(log);
    assert_true(start > 0);
    assert_true(logged(f, "retention.bytes"));
    st_log_slice s;
    assert_int_equal(st_log_read(log, start - 1, 1, &s), ST_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(check_read(log, start, 1), 1);
    char path[256];
    snprintf(path, sizeof path, "%s/%020d.log", f->dir, 0);
    assert_int_equal(access(path, F_OK), -1); /* files gone */
    st_log_close(log, true);

    log = open_log(f, &c, true, NULL);
    assert_int_equal(st_log_start_offset(log), start);
    /* retention.bytes 0: everything goes, the active segment too (rolled first) */
    int64_t end = st_log_end_offset(log);
    c.retention_bytes = 0;
    st_log_set_config(log, &c);
    assert_true(st_log_apply_retention(log, NOW) > 0);
    assert_int_equal(st_log_segment_count(log), 1);
    assert_int_equal(st_log_size_bytes(log), 0);
    assert_int_equal(st_log_start_offset(log), end);
    assert_int_equal(st_log_apply_retention(log, NOW), 0); /* the empty active one stays */
    assert_int_equal(append(log, 1, NOW, 10), end);
    st_log_close(log, true);
}

static void test_retention_time(void **state)
{
    fixture *f = *state;
    st_log_config c = small_config();
    c.retention_ms = 86400000; /* one day */
    st_log *log = open_log(f, &c, true, NULL);
    int64_t old = NOW - 10 * 86400000LL;
    for (int i = 0; i < 20; i++)
        append(log, 2, old + i, 100);
    int64_t first_new = append(log, 2, NOW, 1500); /* forces a new segment */
    for (int i = 0; i < 20; i++)
        append(log, 2, NOW + i, 100);
    int before = st_log_segment_count(log);
    st_log_tick(log, NOW + 1000); /* the housekeeping tick never deletes */
    assert_int_equal(st_log_segment_count(log), before);
    assert_true(st_log_apply_retention(log, NOW + 1000) > 0);
    assert_true(st_log_segment_count(log) < before);
    assert_int_equal(st_log_start_offset(log), first_new);
    assert_true(logged(f, "retention.ms"));
    /* much later every segment with data has expired, the active one included: it is
     * rolled and deleted; only a new, empty active segment is left */
    int64_t end = st_log_end_offset(log);
    st_log_apply_retention(log, NOW + 30 * 86400000LL);
    assert_int_equal(st_log_segment_count(log), 1);
    assert_int_equal(st_log_start_offset(log), end);
    assert_int_equal(st_log_size_bytes(log), 0);
    assert_int_equal(check_read(log, end, 1), 0);
    assert_int_equal(append(log, 1, NOW + 30 * 86400000LL, 10), end);
    st_log_close(log, true);
}

static void test_delete_records(void **state)
{
    fixture *f = *state;
    st_log_config c = small_config();
    st_log *log = open_log(f, &c, true, NULL);
    for (int i = 0; i < 40; i++)
        append(log, 2, NOW, 100);
    int before = st_log_segment_count(log);
    int64_t low;
    assert_int_equal(st_log_delete_records(log, 81, &low), ST_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(st_log_delete_records(log, 41, &low), ST_ERR_NONE);
    assert_int_equal(low, 41);
    assert_true(st_log_segment_count(log) < before);
    assert_int_equal(st_log_start_offset(log), 41);
    assert_int_equal(st_log_delete_records(log, 10, &low), ST_ERR_NONE); /* never back */
    assert_int_equal(low, 41);
    st_log_close(log, false);

    log = open_log(f, &c, true, NULL);
    assert_int_equal(st_log_start_offset(log), 41);
    assert_int_equal(st_log_delete_records(log, -1, &low), ST_ERR_NONE);
    assert_int_equal(low, 80);
    assert_int_equal(st_log_segment_count(log), 1);
    st_log_slice s;
    assert_int_equal(st_log_read(log, 79, 1, &s), ST_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(append(log, 1, NOW, 10), 80);
    st_log_close(log, true);
}

static void test_offset_for_time(void **state)
{
    fixture *f = *state;
    st_log_config c = small_config();
    st_log *log = open_log(f, &c, true, NULL);
    /* batch i holds 4 records stamped 10000*i + 0..3 */
    for (int i = 1; i <= 30; i++)
        append(log, 4, 10000 * i, 80);
    int64_t off, ts;
    st_log_offset_for_time(log, 0, &off, &ts);
    assert_int_equal(off, 0);
    assert_int_equal(ts, 10000);
    st_log_offset_for_time(log, 50002, &off, &ts);
    assert_int_equal(off, 4 * 4 + 2); /* batch 5, third record */
    assert_int_equal(ts, 50002);
    st_log_offset_for_time(log, 50004, &off, &ts); /* between batches */
    assert_int_equal(off, 20);
    assert_int_equal(ts, 60000);
    st_log_offset_for_time(log, 300003, &off, &ts);
    assert_int_equal(off, 119);
    st_log_offset_for_time(log, 300004, &off, &ts);
    assert_int_equal(off, -1);
    /* the same from indexes read back from disk */
    st_log_close(log, true);
    log = open_log(f, &c, true, NULL);
    st_log_offset_for_time(log, 250001, &off, &ts);
    assert_int_equal(off, 24 * 4 + 1);
    assert_int_equal(ts, 250001);
    st_log_close(log, true);
}

static void test_timestamps(void **state)
{
    fixture *f = *state;
    st_log_config c = small_config();
    c.timestamp_difference_max_ms = 3600000;
    st_log *log = open_log(f, &c, true, NULL);
    uint8_t b[4096];
    size_t size = build_batch(b, sizeof b, 2, NOW - 7200000, 10);
    st_append_result res;
    assert_int_equal(st_log_append(log, b, size, NOW, &res), ST_ERR_INVALID_TIMESTAMP);
    assert_non_null(strstr(res.why, "timestamp"));
    assert_int_equal(st_log_end_offset(log), 0);
    assert_int_equal(st_log_size_bytes(log), 0);

    /* LogAppendTime: the broker's clock replaces maxTimestamp, CRC stays valid */
    c.log_append_time = true;
    st_log_set_config(log, &c);
    size = build_batch(b, sizeof b, 2, NOW - 7200000, 10);
    assert_int_equal(st_log_append(log, b, size, NOW, &res), ST_ERR_NONE);
    assert_int_equal(res.log_append_time, NOW);
    st_log_slice s;
    assert_int_equal(st_log_read(log, 0, 1000, &s), ST_ERR_NONE);
    uint8_t back[4096];
    assert_int_equal(pread(s.file->fd, back, s.len, s.pos), (ssize_t)s.len);
    st_fileref_unref(s.file);
    st_batch_info info;
    assert_int_equal(st_batch_header(back, s.len, &info), ST_ERR_NONE);
    assert_int_equal(info.max_timestamp, NOW);
    assert_true(info.attributes & ST_BATCH_ATTR_LOG_APPEND_TIME);
    assert_true(st_batch_intact(back, s.len));

    /* a bad batch is rejected and nothing is written */
    size = build_batch(b, sizeof b, 2, NOW, 10);
    b[size - 1] ^= 1;
    assert_int_equal(st_log_append(log, b, size, NOW, &res), ST_ERR_CORRUPT_MESSAGE);
    assert_int_equal(st_log_end_offset(log), 2);
    st_log_close(log, true);
}

static void test_roll_by_time(void **state)
{
    fixture *f = *state;
    st_log_config c = small_config();
    c.segment_ms = 1000;
    st_log *log = open_log(f, &c, true, NULL);
    st_log_tick(log, NOW + 5000); /* nothing rolls on the clock alone */
    assert_int_equal(st_log_segment_count(log), 1);
    append(log, 1, NOW, 10);
    st_log_tick(log, NOW + 5000);
    assert_int_equal(st_log_segment_count(log), 1);
    /* record time decides, not the broker's clock: 1000 ms after the first timestamp
     * is not yet more than segment.ms */
    append(log, 1, NOW + 1000, 10);
    assert_int_equal(st_log_segment_count(log), 1);
    append(log, 1, NOW - 50000, 10); /* older than the first: never rolls */
    assert_int_equal(st_log_segment_count(log), 1);
    assert_int_equal(append(log, 1, NOW + 1001, 10), 3); /* Kafka: waited > segment.ms */
    assert_int_equal(st_log_segment_count(log), 2);
    char path[256];
    snprintf(path, sizeof path, "%s/%020d.log", f->dir, 3);
    assert_int_equal(access(path, F_OK), 0);
    /* the new segment counts from its own first timestamp, NOW + 1001 */
    append(log, 1, NOW + 2001, 10);
    assert_int_equal(st_log_segment_count(log), 2);
    st_log_close(log, true);
    /* the close writes the new segment's time index (entries live in memory until) */
    snprintf(path, sizeof path, "%s/%020d.timeindex", f->dir, 3);
    assert_int_equal(access(path, F_OK), 0);

    /* after a restart the first timestamp is read back from the segment */
    log = open_log(f, &c, true, NULL);
    append(log, 1, NOW + 2000, 10);
    assert_int_equal(st_log_segment_count(log), 2);
    append(log, 1, NOW + 2002, 10);
    assert_int_equal(st_log_segment_count(log), 3);
    /* LogAppendTime: the broker's clock is the records' time (first: NOW + 2002) */
    c.log_append_time = true;
    st_log_set_config(log, &c);
    uint8_t b[4096];
    st_append_result res;
    size_t size = build_batch(b, sizeof b, 1, 0, 10);
    assert_int_equal(st_log_append(log, b, size, NOW + 3002, &res), ST_ERR_NONE);
    assert_int_equal(st_log_segment_count(log), 3);
    size = build_batch(b, sizeof b, 1, 0, 10);
    assert_int_equal(st_log_append(log, b, size, NOW + 3003, &res), ST_ERR_NONE);
    assert_int_equal(st_log_segment_count(log), 4);
    st_log_close(log, true);
}

/* Historical data (1970-era CreateTime, as a replay has) stays readable until a
 * retention check: appending never deletes, the housekeeping tick never deletes, and
 * the retention check then deletes what Kafka's would, the active segment included. */
static void test_old_timestamps(void **state)
{
    fixture *f = *state;
    st_log_config c = small_config();
    c.segment_bytes = 1 << 20;
    st_log *log = open_log(f, &c, true, NULL);
    for (int i = 0; i < 100; i++)
        append(log, 10, 1000 + 10 * i, 20);         /* timestamps 1000..1999: January 1st, 1970 */
    assert_int_equal(st_log_segment_count(log), 1); /* record time spans 1 s: no roll */
    for (int i = 0; i < 10; i++)
        st_log_tick(log, NOW + i * 1000);
    assert_int_equal(st_log_start_offset(log), 0);
    assert_int_equal(st_log_end_offset(log), 1000);
    assert_int_equal(check_read(log, 500, 1), 1);
    int64_t off, ts;
    st_log_offset_for_time(log, 1500, &off, &ts);
    assert_int_equal(off, 500);
    assert_int_equal(ts, 1500);

    /* retention.ms -1 keeps it at any check */
    c.retention_ms = -1;
    st_log_set_config(log, &c);
    assert_int_equal(st_log_apply_retention(log, NOW), 0);
    assert_int_equal(check_read(log, 0, 1), 1);
    /* the default 7 days: the records are 53 years old, so all of it goes */
    c.retention_ms = 604800000;
    st_log_set_config(log, &c);
    assert_int_equal(st_log_apply_retention(log, NOW), 1);
    assert_int_equal(st_log_segment_count(log), 1);
    assert_int_equal(st_log_start_offset(log), 1000);
    assert_int_equal(st_log_end_offset(log), 1000);
    st_log_slice s;
    assert_int_equal(st_log_read(log, 500, 1, &s), ST_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(append(log, 1, NOW, 10), 1000);
    st_log_close(log, true);
    log = open_log(f, &c, true, NULL);
    assert_int_equal(st_log_start_offset(log), 1000);
    st_log_close(log, true);
}

/* segment.jitter.ms: each segment rolls somewhere in (segment.ms - jitter, segment.ms]
 * of record time, drawn per segment. */
static void test_roll_jitter(void **state)
{
    fixture *f = *state;
    st_log_config c = small_config();
    c.segment_bytes = 1 << 20;
    c.segment_ms = 10000;
    c.segment_jitter_ms = 9000;
    st_log *log = open_log(f, &c, true, NULL);
    int64_t ts = NOW;
    int rolls = 0, early = 0;
    for (int seg = 0; seg < 20; seg++) {
        int64_t first = ts;
        append(log, 1, first, 10);
        int before = st_log_segment_count(log);
        /* step through record time 500 ms at a time until the segment rolls */
        int64_t waited = 0;
        while (st_log_segment_count(log) == before) {
            waited += 500;
            append(log, 1, first + waited, 10);
        }
        assert_true(waited > 10000 - 9000);
        assert_true(waited <= 10000 + 500); /* never later than segment.ms */
        rolls++;
        early += waited <= 9000;
        ts = first + waited;
    }
    assert_int_equal(rolls, 20);
    /* uniform draws in [0, 9000): at least one of 20 rolls well before segment.ms */
    assert_true(early > 0);
    st_log_close(log, true);
}

/* ---- the flusher, with a post function that queues for this thread ---- */

typedef struct flushed {
    int calls;
    int err;
    pthread_t thread;
} flushed;

static void on_flushed(void *arg, int err)
{
    flushed *fl = arg;
    fl->calls++;
    fl->err = err;
    fl->thread = pthread_self();
}

/* Runs posted completions until *calls reaches want, for at most 5 s. */
static void wait_calls(post_queue *q, int *calls, int want)
{
    for (int i = 0; i < 5000 && *calls < want; i++) {
        if (run_posted(q) == 0)
            usleep(1000);
    }
    assert_int_equal(*calls, want);
}

static void test_flush_async(void **state)
{
    fixture *f = *state;
    post_queue q = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char err[200];
    st_flusher *flusher = st_flusher_new(test_post, &q, err, sizeof err);
    assert_non_null(flusher);
    st_log_config c = small_config();
    c.flush_messages = 5;
    st_log *log = open_log(f, &c, true, flusher);

    uint8_t b[4096];
    st_append_result res;
    size_t size = build_batch(b, sizeof b, 3, NOW, 10);
    assert_int_equal(st_log_append(log, b, size, NOW, &res), ST_ERR_NONE);
    assert_false(res.flush_needed);
    size = build_batch(b, sizeof b, 3, NOW, 10);
    assert_int_equal(st_log_append(log, b, size, NOW, &res), ST_ERR_NONE);
    assert_true(res.flush_needed); /* 6 >= flush.messages */

    flushed a = {0}, b2 = {0};
    st_log_flush_async(log, on_flushed, &a);
    st_log_flush_async(log, on_flushed, &b2);
    assert_int_equal(a.calls, 0); /* never inline */
    wait_calls(&q, &b2.calls, 1);
    wait_calls(&q, &a.calls, 1);
    assert_int_equal(a.err, 0);
    assert_int_equal(b2.err, 0);
    assert_true(pthread_equal(a.thread, pthread_self()));

    /* the partition's first leader-epoch-checkpoint write (background) lands, so the
     * counts of posted completions below are the flushes' alone */
    for (int i = 0; i < 5000 && log->epochs_running; i++) {
        run_posted(&q);
        usleep(1000);
    }
    assert_false(log->epochs_running);

    /* counting restarts after a flush request */
    size = build_batch(b, sizeof b, 3, NOW, 10);
    assert_int_equal(st_log_append(log, b, size, NOW, &res), ST_ERR_NONE);
    assert_false(res.flush_needed);

    /* flush.ms: the tick queues a flush once the oldest unflushed append is that old */
    c.flush_ms = 100;
    st_log_set_config(log, &c);
    st_log_tick(log, NOW + 50);
    usleep(20000);
    assert_int_equal(run_posted(&q), 0);
    st_log_tick(log, NOW + 150);
    int ran = 0;
    for (int i = 0; i < 5000 && ran == 0; i++) {
        ran = run_posted(&q);
        if (ran == 0)
            usleep(1000);
    }
    assert_int_equal(ran, 1);
    st_log_tick(log, NOW + 300); /* nothing new appended: no flush */
    usleep(20000);
    assert_int_equal(run_posted(&q), 0);

    /* rolls queue background flushes; the log can close with them in flight */
    for (int i = 0; i < 30; i++)
        append(log, 2, NOW, 100);
    flushed late = {0};
    st_log_flush_async(log, on_flushed, &late);
    st_log_close(log, true);
    wait_calls(&q, &late.calls, 1); /* completion after close is still delivered */
    assert_int_equal(late.err, 0);
    st_flusher_free(flusher);
    run_posted(&q);

    log = open_log(f, &c, false, NULL);
    assert_int_equal(st_log_end_offset(log), 69);
    st_log_close(log, false);
}

static int open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        n += fcntl(fd, F_GETFD) != -1;
    return n;
}

/* A partition never written costs no fsync at close and no descriptor at the next
 * start: 100,000 new partitions once took minutes to close (three fsyncs each). */
static void test_close_never_written(void **state)
{
    fixture *f = *state;
    st_log_config c = small_config();
    st_log *log = open_log(f, &c, true, NULL);
    st_log_close(log, true);
    char path[256];
    snprintf(path, sizeof path, "%s/partition.checkpoint", f->dir);
    assert_int_equal(access(path, F_OK), -1); /* nothing to say: no checkpoint */
    int before = open_fds();
    log = open_log(f, &c, true, NULL);
    assert_int_equal(open_fds(), before); /* the empty segment is not opened */
    assert_int_equal(st_log_end_offset(log), 0);
    assert_int_equal(append(log, 3, NOW, 10), 0);
    st_log_close(log, true);
    assert_int_equal(access(path, F_OK), 0); /* it holds records now */
    log = open_log(f, &c, true, NULL);
    assert_int_equal(st_log_end_offset(log), 3);
    assert_int_equal(append(log, 2, NOW, 10), 3);
    st_log_close(log, false);
}

static void test_remove(void **state)
{
    fixture *f = *state;
    st_log_config c = small_config();
    st_log *log = open_log(f, &c, true, NULL);
    for (int i = 0; i < 10; i++)
        append(log, 2, NOW, 100);
    st_log_slice s;
    assert_int_equal(st_log_read(log, 0, 1, &s), ST_ERR_NONE);
    st_log_remove(log);
    assert_int_equal(access(f->dir, F_OK), -1);
    uint8_t buf[64];
    assert_int_equal(pread(s.file->fd, buf, sizeof buf, s.pos), 64); /* still readable */
    st_fileref_unref(s.file);
}

/* A compressed batch's record count must fit what its bytes can decompress to: a
 * client once claimed 2^31-1 records in 70 bytes, and two such batches in one request
 * would have overflowed the int32 relative offsets of an empty segment's index. Refused
 * before any decompression, and the log stays usable. */
static void test_offset_span(void **state)
{
    fixture *f = *state;
    st_log_config c = small_config();
    st_log *log = open_log(f, &c, true, NULL);
    uint8_t one[512], two[1024];
    size_t n = build_batch(one, sizeof one, 1, NOW, 10);
    put_be(one + 21, 1, 2);          /* attributes: gzip */
    put_be(one + 23, 0x7ffffffe, 4); /* lastOffsetDelta */
    put_be(one + 57, 0x7fffffff, 4); /* recordsCount */
    fix_crc(one, n);
    memcpy(two, one, n);
    memcpy(two + n, one, n);
    st_append_result res;
    assert_int_equal(st_log_append(log, two, 2 * n, NOW, &res), ST_ERR_INVALID_RECORD);
    assert_non_null(strstr(res.why, "2147483647 records, more than"));
    /* the same claim uncompressed: bounded by the bytes */
    memcpy(two, one, n);
    put_be(two + 21, 0, 2);
    fix_crc(two, n);
    assert_int_equal(st_log_append(log, two, n, NOW, &res), ST_ERR_INVALID_RECORD);
    assert_non_null(strstr(res.why, "hold at most"));
    assert_int_equal(st_log_end_offset(log), 0);
    append(log, 3, NOW, 100);
    assert_int_equal(st_log_end_offset(log), 3);
    assert_int_equal(check_read(log, 0, 1 << 20), 1);
    st_log_close(log, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flipped_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offset_for_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timestamps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roll_by_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_timestamps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roll_jitter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_async, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_never_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offset_span, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
