/*
 * Compaction of a partition that holds transactions (broker/log/cleaner*.c with
 * log_txn.c), Kafka's rules: aborted records are removed and never shadow committed
 * ones; committed records compact like any others; a marker stays while any record of
 * its transaction does and then until it is older than delete.retention.ms; nothing at
 * or after the last stable offset is touched; the LSO and the aborted list are the same
 * after the pass and after a reopen (clean and unclean) of the compacted log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <unistd.h>

#include "broker/log/batch.h"
#include "broker/log/cleaner.h"
#include "broker/log/log.h"
#include "broker/log/records.h"
#include "broker/txn/txn_partition.h"
#include "common/errors.h"
#include "common/logging.h"
#include "tests/unit/log/fixture.h"

#define NOW       1700000000000LL
#define RETENTION 60000

static int32_t next_seq[16]; /* per producer id (< 16) */

static st_log *open_log(fixture *f, bool clean)
{
    st_log_config c;
    st_log_config_defaults(&c);
    c.segment_bytes = 1024;
    c.index_interval_bytes = 256;
    c.cleanup_compact = true;
    c.cleanup_delete = false;
    c.delete_retention_ms = RETENTION;
    c.min_cleanable_dirty_ratio = 0.01;
    char err[256] = "";
    assert_int_equal(st_cleaner_recover(f->dir, err, sizeof err), 0);
    st_log *log = st_log_open(f->dir, &c, clean, NULL, err, sizeof err);
    if (!log)
        fail_msg("st_log_open: %s", err);
    return log;
}

/* One record key=value in a batch of producer pid (-1: a plain batch), transactional
 * when pid >= 0. Returns its offset. */
static int64_t put(st_log *log, int64_t pid, const char *key, const char *value)
{
    st_buf b = ST_BUF_INIT;
    st_batch_builder bb;
    st_batch_builder_init(&bb, &b, 0, NOW, pid, pid < 0 ? -1 : 0, pid < 0 ? -1 : next_seq[pid]++,
                          pid < 0 ? 0 : ST_BATCH_ATTR_TRANSACTIONAL);
    st_batch_builder_add(&bb, 0, NOW, (st_bytes){(const uint8_t *)key, (int32_t)strlen(key)},
                         (st_bytes){(const uint8_t *)value, (int32_t)strlen(value)}, 0,
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
    return res.base_offset;
}

/* Plain records of one key that fill segments, so what came before is not active. */
static void filler(st_log *log, int n)
{
    for (int i = 0; i < n; i++)
        put(log, -1, "filler", "ffffffffffffffffffffffffffffffffffffffffffffffffff");
}

typedef struct seen {
    char text[4096]; /* "<offset>:<key>=<value>" of each data record, space-separated */
    int markers;
    int64_t marker_offsets[16];
} seen;

/* Every batch of the log from its start, as read_uncommitted sees it. */
static void scan(st_log *log, seen *s)
{
    memset(s, 0, sizeof *s);
    int64_t offset = st_log_start_offset(log);
    while (offset < st_log_end_offset(log)) {
        st_log_slice sl;
        assert_int_equal(st_log_read(log, offset, 1 << 20, &sl), ST_ERR_NONE);
        if (sl.len == 0)
            break;
        uint8_t *buf = malloc(sl.len);
        assert_int_equal(pread(sl.file->fd, buf, sl.len, sl.pos), (ssize_t)sl.len);
        st_fileref_unref(sl.file);
        for (size_t pos = 0; pos + 61 <= sl.len;) {
            st_batch_info b;
            assert_int_equal(st_batch_header(buf + pos, sl.len - pos, &b), 0);
            offset = b.base_offset + b.last_offset_delta + 1;
            if (b.attributes & ST_BATCH_ATTR_CONTROL) {
                if (s->markers < 16)
                    s->marker_offsets[s->markers] = b.base_offset;
                s->markers++;
            } else {
                st_record_iter it;
                st_record r;
                assert_int_equal(st_records_open(&it, buf + pos, (size_t)b.size, NULL, 0), 0);
                while (st_records_next(&it, &r) == 1) {
                    if (r.key.len == 6 && memcmp(r.key.ptr, "filler", 6) == 0)
                        continue;
                    size_t n = strlen(s->text);
                    snprintf(s->text + n, sizeof s->text - n, "%s%lld:%.*s=%.*s", n ? " " : "",
                             (long long)r.offset, r.key.len, (const char *)r.key.ptr, r.value.len,
                             (const char *)r.value.ptr);
                }
                st_records_close(&it);
            }
            pos += (size_t)b.size;
        }
        free(buf);
    }
}

/*
 * 0 c0 (pid 1)  1 c1 (pid 1)  2 COMMIT pid 1
 * 3 k0=a (pid 2)  4 k1=a (pid 2)  5 k2=a (pid 2)  6 plain k3=p  7 ABORT pid 2
 * 8 k1=c2 (pid 1)  9 COMMIT pid 1
 * then filler, so all of it lies in closed segments.
 */
static void build(st_log *log)
{
    assert_int_equal(put(log, 1, "k0", "c0"), 0);
    assert_int_equal(put(log, 1, "k1", "c1"), 1);
    assert_int_equal(marker(log, 1, true), 2);
    assert_int_equal(put(log, 2, "k0", "a"), 3);
    assert_int_equal(put(log, 2, "k1", "a"), 4);
    assert_int_equal(put(log, 2, "k2", "a"), 5);
    assert_int_equal(put(log, -1, "k3", "p"), 6);
    assert_int_equal(marker(log, 2, false), 7);
    assert_int_equal(put(log, 1, "k1", "c2"), 8);
    assert_int_equal(marker(log, 1, true), 9);
    filler(log, 40);
    assert_true(st_log_segment_count(log) > 3);
}

static void test_aborted_removed_committed_kept(void **state)
{
    fixture *f = *state;
    memset(next_seq, 0, sizeof next_seq);
    st_log *log = open_log(f, true);
    build(log);
    int64_t end = st_log_end_offset(log);
    st_txn_aborted a[4];
    assert_int_equal(st_log_aborted_txns(log, 0, end, a, 4), 1);

    st_log_tick(log, NOW + 1000); /* markers are young */
    assert_true(logged(f, "compacted"));
    seen s;
    scan(log, &s);
    /* the aborted k0 and k1 did not shadow the committed ones, and are gone */
    assert_string_equal(s.text, "0:k0=c0 6:k3=p 8:k1=c2");
    assert_int_equal(s.markers, 3);
    assert_int_equal(st_log_last_stable_offset(log), end);
    assert_int_equal(st_log_end_offset(log), end);
    /* no aborted data left: the partition forgot the transaction, as a rebuild does */
    assert_int_equal(st_log_aborted_txns(log, 0, end, a, 4), 0);

    /* past delete.retention.ms (a new pass needs new dirty data): the ABORT marker
     * and the first COMMIT marker... */
    filler(log, 30);
    st_log_tick(log, NOW + RETENTION + 1000);
    scan(log, &s);
    assert_string_equal(s.text, "0:k0=c0 6:k3=p 8:k1=c2");
    /* the ABORT marker (7) goes: nothing of its transaction is left; both COMMIT markers
     * stay: each transaction still has a record (k0=c0, k1=c2) */
    assert_int_equal(s.markers, 2);
    assert_int_equal(s.marker_offsets[0], 2);
    assert_int_equal(s.marker_offsets[1], 9);
    assert_true(logged(f, "and 1 transaction markers"));

    /* reopened, cleanly and not: no transaction is taken for open (the survivors of
     * committed transactions still have their markers), nothing aborted is listed */
    for (int clean = 1; clean >= 0; clean--) {
        st_log_close(log, clean);
        log = open_log(f, clean);
        assert_int_equal(st_log_last_stable_offset(log), st_log_end_offset(log));
        assert_int_equal(st_log_aborted_txns(log, 0, st_log_end_offset(log), a, 4), 0);
    }

    /* k0 and k1 overwritten outside transactions: the COMMIT markers lose their last
     * records and, old enough, go too */
    put(log, -1, "k0", "p0");
    put(log, -1, "k1", "p1");
    filler(log, 30);
    st_log_tick(log, NOW + RETENTION + 2000);
    scan(log, &s);
    assert_int_equal(s.markers, 0);
    assert_non_null(strstr(s.text, "6:k3=p"));
    assert_null(strstr(s.text, "=c"));
    st_log_close(log, true);
    log = open_log(f, false);
    assert_int_equal(st_log_last_stable_offset(log), st_log_end_offset(log));
    st_log_close(log, true);
}

static void test_open_transaction_untouched(void **state)
{
    fixture *f = *state;
    memset(next_seq, 0, sizeof next_seq);
    st_log *log = open_log(f, true);
    put(log, -1, "k0", "p0");
    int64_t first = put(log, 3, "k0", "open"); /* pid 3: open */
    put(log, -1, "k1", "p1");
    filler(log, 40);
    put(log, -1, "k1", "p1b"); /* makes k1=p1 redundant, but it is past the LSO */
    filler(log, 40);
    assert_int_equal(st_log_last_stable_offset(log), first);
    st_log_tick(log, NOW + RETENTION + 1000);
    seen s;
    scan(log, &s);
    /* the segment holding the open transaction reaches the LSO: no pass rewrites it,
     * so k1=p1, made redundant past the LSO, is still there */
    assert_non_null(strstr(s.text, "0:k0=p0"));
    assert_non_null(strstr(s.text, "1:k0=open"));
    assert_non_null(strstr(s.text, "2:k1=p1 "));
    assert_int_equal(st_log_last_stable_offset(log), first);

    /* it aborts: its record goes at the next pass, k0=p0 is still the value */
    int64_t abort_at = marker(log, 3, false);
    filler(log, 40);
    assert_int_equal(st_log_last_stable_offset(log), st_log_end_offset(log));
    st_log_tick(log, NOW + 2000);
    scan(log, &s);
    assert_non_null(strstr(s.text, "0:k0=p0"));
    assert_null(strstr(s.text, "k0=open"));
    assert_null(strstr(s.text, "2:k1=p1 "));
    assert_int_equal(s.markers, 1);
    assert_int_equal(s.marker_offsets[0], abort_at);
    st_log_close(log, false);
    log = open_log(f, false);
    assert_int_equal(st_log_last_stable_offset(log), st_log_end_offset(log));
    st_log_close(log, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_aborted_removed_committed_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_transaction_untouched, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
