/* Unit tests for the log cleaner (broker/log/cleaner*.c): a compacted log keeps the
 * latest value of every key, tombstones expire, the active segment is never touched, a
 * pass that races with retention is discarded, and what a crash leaves is resolved.
 * Each test uses a fresh directory under /tmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "broker/log/cleaner.h"
#include "broker/log/cleaner_int.h"
#include "broker/log/log.h"
#include "broker/log/log_int.h"
#include "broker/log/records.h"
#include "common/errors.h"
#include "common/logging.h"
#include "tests/unit/log/build_batch.h"
#include "tests/unit/log/fixture.h"

#define NOW   1700000000000LL
#define NKEYS 7

static st_log_config compact_config(void)
{
    st_log_config c;
    st_log_config_defaults(&c);
    c.segment_bytes = 2048;
    c.index_interval_bytes = 256;
    c.cleanup_compact = true;
    c.cleanup_delete = false;
    return c;
}

static st_log *open_log(fixture *f, const st_log_config *c, bool clean, st_flusher *flusher)
{
    char err[256] = "";
    /* what st_log_open must do first (see the report): resolve crash leftovers */
    assert_int_equal(st_cleaner_recover(f->dir, err, sizeof err), 0);
    st_log *log = st_log_open(f->dir, c, clean, flusher, err, sizeof err);
    if (!log)
        fail_msg("st_log_open: %s", err);
    return log;
}

/* Appends one record: key (NULL for none), value (NULL: tombstone), timestamp ts. */
static int64_t put(st_log *log, const char *key, const char *value, int64_t ts)
{
    st_buf b = ST_BUF_INIT;
    st_batch_builder bb;
    st_batch_builder_init(&bb, &b, 0, ts, -1, -1, -1, 0);
    st_bytes k = key ? (st_bytes){(const uint8_t *)key, (int32_t)strlen(key)} : (st_bytes){0, -1};
    st_bytes v =
        value ? (st_bytes){(const uint8_t *)value, (int32_t)strlen(value)} : (st_bytes){0, -1};
    st_batch_builder_add(&bb, 0, ts, k, v, 0, (st_bytes){NULL, 0});
    size_t size = st_batch_builder_finish(&bb);
    st_append_result res;
    int rc = st_log_append(log, b.data, size, NOW, &res);
    if (rc != ST_ERR_NONE)
        fail_msg("append: %s", res.why);
    st_buf_free(&b);
    return res.base_offset;
}

/* What a scan of the log from its start found. */
typedef struct scan_result {
    char latest[NKEYS + 3][32]; /* per key index: its last value ("" none, "-" tombstone) */
    int64_t records, batches, last_offset;
    bool ordered;
} scan_result;

/* "k0".."k6" → 0..6; every other key shares one slot. */
static int key_index(st_bytes key)
{
    if (key.len == 2 && key.ptr[0] == 'k' && key.ptr[1] >= '0' && key.ptr[1] < '0' + NKEYS)
        return key.ptr[1] - '0';
    return NKEYS + 2;
}

/* Reads the whole log with st_log_read and the record iterator. */
static void scan(st_log *log, scan_result *r)
{
    memset(r, 0, sizeof *r);
    r->ordered = true;
    r->last_offset = -1;
    int64_t offset = st_log_start_offset(log);
    while (offset < st_log_end_offset(log)) {
        st_log_slice s;
        assert_int_equal(st_log_read(log, offset, 1 << 20, &s), ST_ERR_NONE);
        if (s.len == 0)
            break;
        uint8_t *buf = malloc(s.len);
        assert_int_equal(pread(s.file->fd, buf, s.len, s.pos), (ssize_t)s.len);
        st_fileref_unref(s.file);
        for (size_t pos = 0; pos < s.len;) {
            st_record_iter it;
            st_record rec;
            char err[200];
            assert_true(st_batch_intact(buf + pos, st_be32(buf + pos + 8) + 12));
            assert_int_equal(st_records_open(&it, buf + pos, s.len - pos, err, sizeof err), 0);
            r->batches++;
            while (st_records_next(&it, &rec) == 1) {
                if (rec.offset <= r->last_offset)
                    r->ordered = false;
                r->last_offset = rec.offset;
                r->records++;
                if (rec.key.len < 0)
                    continue;
                char *slot = r->latest[key_index(rec.key)];
                if (rec.value.len < 0)
                    snprintf(slot, 32, "-");
                else
                    snprintf(slot, 32, "%.*s", rec.value.len, (const char *)rec.value.ptr);
            }
            offset = it.info.base_offset + it.info.last_offset_delta + 1;
            pos += (size_t)it.info.size;
            st_records_close(&it);
        }
        free(buf);
    }
}

/* Writes n updates cycling over the keys; expected[k] gets each key's last value. */
static void write_updates(st_log *log, int n, int first, char expected[][32])
{
    for (int i = first; i < first + n; i++) {
        char key[8], value[32];
        snprintf(key, sizeof key, "k%d", i % NKEYS);
        snprintf(value, sizeof value, "value-%06d", i);
        put(log, key, value, NOW + i);
        snprintf(expected[i % NKEYS], 32, "%s", value);
    }
}

static void check_latest(st_log *log, char expected[][32])
{
    scan_result r;
    scan(log, &r);
    assert_true(r.ordered);
    for (int k = 0; k < NKEYS; k++)
        assert_string_equal(r.latest[k], expected[k]);
}

static void test_compacts_to_latest(void **state)
{
    fixture *f = *state;
    st_log_config c = compact_config();
    st_log *log = open_log(f, &c, true, NULL);
    char expected[NKEYS + 3][32] = {{0}};
    write_updates(log, 600, 0, expected);
    int segs_before = st_log_segment_count(log);
    int64_t size_before = st_log_size_bytes(log);
    assert_true(segs_before > 10);

    /* the active segment, byte for byte, and a fetch holding the first segment */
    st_segment *act = st_log_active(log);
    int64_t act_base = act->base, act_size = act->size;
    uint8_t *act_bytes = malloc((size_t)act_size);
    assert_int_equal(pread(act->file->fd, act_bytes, (size_t)act_size, 0), act_size);
    st_log_slice held;
    assert_int_equal(st_log_read(log, 0, 1 << 20, &held), ST_ERR_NONE);

    st_log_tick(log, NOW + 1000); /* no flusher: the pass runs inline */
    assert_true(logged(f, "compacted"));
    assert_true(st_log_segment_count(log) < segs_before);
    assert_true(st_log_size_bytes(log) < size_before / 4);
    assert_int_equal(st_log_end_offset(log), 600);
    assert_int_equal(st_log_start_offset(log), 0);
    check_latest(log, expected);

    act = st_log_active(log);
    assert_int_equal(act->base, act_base);
    assert_int_equal(act->size, act_size);
    uint8_t *now_bytes = malloc((size_t)act_size);
    assert_int_equal(pread(act->file->fd, now_bytes, (size_t)act_size, 0), act_size);
    assert_memory_equal(now_bytes, act_bytes, (size_t)act_size);

    /* the held fetch still reads the replaced segment's bytes */
    uint8_t *old = malloc(held.len);
    assert_int_equal(pread(held.file->fd, old, held.len, held.pos), (ssize_t)held.len);
    assert_true(st_batch_intact(old, st_be32(old + 8) + 12));
    assert_int_equal(st_be64(old), 0);
    st_fileref_unref(held.file);

    /* a read inside a gap returns the next batch that holds a later offset */
    st_log_slice s;
    assert_int_equal(st_log_read(log, 1, 1, &s), ST_ERR_NONE);
    assert_true(s.len > 0);
    uint8_t head[61];
    assert_int_equal(pread(s.file->fd, head, sizeof head, s.pos), 61);
    assert_true((int64_t)st_be64(head) + (int32_t)st_be32(head + 23) >= 1);
    st_fileref_unref(s.file);

    /* nothing new is dirty: the next tick does not start another pass */
    int segs_after = st_log_segment_count(log);
    st_log_tick(log, NOW + 2000);
    assert_int_equal(st_log_segment_count(log), segs_after);

    /* more updates, more passes: still the latest, still small */
    write_updates(log, 600, 600, expected);
    st_log_tick(log, NOW + 3000);
    check_latest(log, expected);
    assert_true(st_log_size_bytes(log) < size_before / 2);
    free(act_bytes);
    free(now_bytes);
    free(old);

    /* reopen, clean and unclean: the same records */
    st_log_close(log, true);
    log = open_log(f, &c, true, NULL);
    check_latest(log, expected);
    st_log_close(log, false);
    log = open_log(f, &c, false, NULL);
    check_latest(log, expected);
    assert_int_equal(st_log_end_offset(log), 1200);
    st_log_close(log, true);
}

static void test_tombstones(void **state)
{
    fixture *f = *state;
    st_log_config c = compact_config();
    c.delete_retention_ms = 60000;
    c.min_cleanable_dirty_ratio = 0.01;
    st_log *log = open_log(f, &c, true, NULL);
    char expected[NKEYS + 3][32] = {{0}};
    write_updates(log, 200, 0, expected);
    put(log, "k1", NULL, NOW + 500); /* tombstones for k1 and k2 */
    put(log, "k2", NULL, NOW + 501);
    snprintf(expected[1], 32, "-");
    snprintf(expected[2], 32, "-");
    for (int i = 0; i < 60; i++) /* push them out of the active segment */
        put(log, "filler", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", NOW + 600);

    st_log_tick(log, NOW + 1000); /* young tombstones stay, older values go */
    check_latest(log, expected);
    scan_result r;
    scan(log, &r);
    int64_t with_tombstones = r.records;

    for (int i = 0; i < 60; i++) /* new dirty data for another pass */
        put(log, "filler", "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy", NOW + 700);
    st_log_tick(log, NOW + 500 + 60000 + 10); /* past delete.retention.ms */
    expected[1][0] = expected[2][0] = '\0';
    check_latest(log, expected);
    scan(log, &r);
    assert_true(r.records < with_tombstones + 60);
    st_log_close(log, true);
}

static void test_compressed_batch(void **state)
{
    fixture *f = *state;
    st_log_config c = compact_config();
    st_log *log = open_log(f, &c, true, NULL);
    /* one gzip batch holding k0..k4 */
    st_buf b = ST_BUF_INIT;
    st_batch_builder bb;
    st_batch_builder_init(&bb, &b, 0, NOW, -1, -1, -1, 0);
    for (int i = 0; i < 5; i++) {
        char key[8], value[16];
        snprintf(key, sizeof key, "k%d", i);
        snprintf(value, sizeof value, "gz-%d", i);
        st_batch_builder_add(&bb, i, NOW, (st_bytes){(uint8_t *)key, 2},
                             (st_bytes){(uint8_t *)value, (int32_t)strlen(value)}, 0,
                             (st_bytes){NULL, 0});
    }
    size_t size = st_batch_builder_finish(&bb);
    uint8_t comp[4096];
    memcpy(comp, b.data, 61);
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = b.data + 61;
    z.avail_in = (uInt)(size - 61);
    z.next_out = comp + 61;
    z.avail_out = sizeof comp - 61;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t csize = 61 + z.total_out;
    deflateEnd(&z);
    put_be(comp + 8, csize - 12, 4);
    put_be(comp + 21, 1, 2);
    fix_crc(comp, csize);
    st_append_result res;
    assert_int_equal(st_log_append(log, comp, csize, NOW, &res), ST_ERR_NONE);
    st_buf_free(&b);

    char expected[NKEYS + 3][32] = {{0}};
    for (int i = 0; i < 5; i++)
        snprintf(expected[i], 32, "gz-%d", i);
    write_updates(log, 3, 100, expected); /* supersede k2, k3, k4 (100 % 7 = 2) */
    for (int i = 0; i < 80; i++)
        put(log, "filler", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", NOW);
    st_log_tick(log, NOW);
    assert_true(logged(f, "compacted"));
    check_latest(log, expected);
    /* the gzip batch was rebuilt uncompressed with k0 and k1 only */
    st_log_slice s;
    assert_int_equal(st_log_read(log, 0, 1, &s), ST_ERR_NONE);
    uint8_t head[61];
    assert_int_equal(pread(s.file->fd, head, sizeof head, s.pos), 61);
    st_fileref_unref(s.file);
    assert_int_equal(st_be16(head + 21) & 7, 0);
    assert_int_equal(st_be32(head + 57), 2);
    assert_int_equal(st_be64(head), 0);
    st_log_close(log, true);
}

/* ---- a pass on the background thread ---- */

/* Runs posted completions until the log's pass is over, for at most 10 s. */
static void drain_until_idle(post_queue *q, st_log *log)
{
    for (int i = 0; i < 10000 && st_cleaner_busy(log); i++) {
        if (run_posted(q) == 0)
            usleep(1000);
    }
    run_posted(q); /* completions of the rolls' fsyncs too */
    assert_false(st_cleaner_busy(log));
}

static int count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name), m = strlen(suffix);
        n += len >= m && strcmp(e->d_name + len - m, suffix) == 0;
    }
    closedir(d);
    return n;
}

static void test_background_and_race(void **state)
{
    fixture *f = *state;
    post_queue q = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char err[200];
    st_flusher *fl = st_flusher_new(test_post, &q, err, sizeof err);
    assert_non_null(fl);
    st_log_config c = compact_config();
    st_log *log = open_log(f, &c, true, fl);
    char expected[NKEYS + 3][32] = {{0}};
    write_updates(log, 400, 0, expected);
    run_posted(&q);

    /* a pass, then retention-like deletion before its result is taken */
    st_log_tick(log, NOW);
    assert_true(st_cleaner_busy(log));
    int64_t low;
    int64_t second_base = log->segs[1]->base;
    assert_int_equal(st_log_delete_records(log, second_base, &low), ST_ERR_NONE);
    drain_until_idle(&q, log);
    assert_true(logged(f, "compaction pass discarded"));
    assert_int_equal(count_files(f->dir, ".cleaned"), 0);
    assert_int_equal(count_files(f->dir, ".swap"), 0);
    check_latest(log, expected);

    /* the next tick's pass goes through */
    st_log_tick(log, NOW);
    drain_until_idle(&q, log);
    assert_true(logged(f, "compacted"));
    check_latest(log, expected);
    assert_int_equal(st_log_start_offset(log), second_base);

    /* a pass abandoned by close: its output is deleted when it comes back */
    write_updates(log, 400, 400, expected);
    run_posted(&q);
    st_log_tick(log, NOW);
    st_log_close(log, true);
    st_flusher_free(fl); /* joins the threads; completions wait in the queue */
    run_posted(&q);
    assert_int_equal(count_files(f->dir, ".cleaned"), 0);
    log = open_log(f, &c, true, NULL);
    check_latest(log, expected);
    st_log_close(log, true);
}

/* A background job that only says it ran: queued behind a pass on the one background
 * thread, it tells the pass's work is over (its completion not yet taken). */
typedef struct barrier {
    st_bg_job bg;
    int ran;
} barrier;

static void barrier_work(void *arg)
{
    __atomic_store_n(&((barrier *)arg)->ran, 1, __ATOMIC_RELEASE);
}

static void barrier_done(void *arg)
{
    (void)arg;
}

/* A follower's truncation while a pass runs: the pass mapped the newest values (in the
 * active segment), which the truncation removes; swapped in, it would have dropped the
 * older values, the latest again — every key lost. */
static void test_truncated_during_pass(void **state)
{
    fixture *f = *state;
    post_queue q = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char err[200];
    st_flusher *fl = st_flusher_new(test_post, &q, err, sizeof err);
    assert_non_null(fl);
    st_log_config c = compact_config();
    st_log *log = open_log(f, &c, true, fl);
    char ignored[NKEYS + 3][32] = {{0}};
    write_updates(log, 400, 0, ignored);
    int64_t cut = log->segs[log->nsegs - 1]->base; /* the active segment's records go */
    write_updates(log, NKEYS, 400, ignored);
    assert_true(cut > NKEYS && cut < st_log_end_offset(log));
    assert_int_equal(log->segs[log->nsegs - 1]->base, cut);
    run_posted(&q);
    char expected[NKEYS + 3][32] = {{0}};
    for (int64_t i = cut - NKEYS; i < cut; i++) /* record i: key k(i % 7), value-<i> */
        snprintf(expected[i % NKEYS], 32, "value-%06d", (int)i);

    st_log_tick(log, NOW);
    assert_true(st_cleaner_busy(log));
    barrier b = {.bg = {NULL, barrier_work, barrier_done, &b}};
    st_flusher_run_background(fl, &b.bg);
    for (int i = 0; i < 10000 && !__atomic_load_n(&b.ran, __ATOMIC_ACQUIRE); i++)
        usleep(1000);
    assert_true(__atomic_load_n(&b.ran, __ATOMIC_ACQUIRE));
    char why[200];
    assert_int_equal(st_log_truncate_to(log, cut, why, sizeof why), ST_ERR_NONE);
    assert_int_equal(st_log_end_offset(log), cut);
    drain_until_idle(&q, log);
    assert_true(logged(f, "compaction pass discarded: the log was truncated"));
    assert_int_equal(count_files(f->dir, ".cleaned"), 0);
    check_latest(log, expected);

    /* the next pass, on what is left, keeps them */
    st_log_tick(log, NOW);
    drain_until_idle(&q, log);
    check_latest(log, expected);
    st_log_close(log, true);
    st_flusher_free(fl);
    run_posted(&q);
}

/* ---- crash leftovers ---- */

static void copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(in >= 0 && out >= 0);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        assert_int_equal(write(out, buf, (size_t)n), n);
    close(in);
    close(out);
}

static void copy_dir(const char *from, const char *to)
{
    mkdir(to, 0755);
    DIR *d = opendir(from);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char a[512], b[512];
        snprintf(a, sizeof a, "%s/%s", from, e->d_name);
        snprintf(b, sizeof b, "%s/%s", to, e->d_name);
        copy_file(a, b);
    }
    closedir(d);
}

static void test_crash_leftovers(void **state)
{
    fixture *f = *state;
    st_log_config c = compact_config();
    st_log *log = open_log(f, &c, true, NULL);
    char expected[NKEYS + 3][32] = {{0}};
    write_updates(log, 400, 0, expected);
    st_log_close(log, true);
    char before[100];
    snprintf(before, sizeof before, "%s/before", f->root);
    copy_dir(f->dir, before); /* the uncompacted log */

    log = open_log(f, &c, true, NULL);
    st_log_tick(log, NOW);
    assert_true(logged(f, "compacted"));
    int64_t active_base = st_log_active(log)->base;
    int nclean = log->nsegs - 1;
    int64_t bases[64];
    for (int i = 0; i < nclean; i++)
        bases[i] = log->segs[i]->base;
    st_log_close(log, true);

    /* Crash after step a: the uncompacted segments plus the outputs as .swap (the .log
     * of all, the index files of the first), and a stray .cleaned from nowhere. */
    char from[512], to[512];
    for (int i = 0; i < nclean; i++) {
        st_segment_path(from, sizeof from, f->dir, bases[i], "log");
        st_segment_path(to, sizeof to, before, bases[i], "log.swap");
        copy_file(from, to);
        uint8_t range[8];
        put_be(range, (uint64_t)(i + 1 < nclean ? bases[i + 1] : active_base), 8);
        st_segment_path(to, sizeof to, before, bases[i], "range.swap");
        int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        assert_int_equal(write(fd, range, 8), 8);
        close(fd);
    }
    st_segment_path(from, sizeof from, f->dir, bases[0], "index");
    st_segment_path(to, sizeof to, before, bases[0], "index.swap");
    copy_file(from, to);
    st_segment_path(to, sizeof to, before, active_base + 7, "log.cleaned");
    copy_file(from, to);
    st_segment_path(to, sizeof to, before, 123456, "timeindex.swap"); /* no .log.swap */
    copy_file(from, to);

    char err[200] = "";
    assert_int_equal(st_cleaner_recover(before, err, sizeof err), 0);
    assert_int_equal(count_files(before, ".cleaned"), 0);
    assert_int_equal(count_files(before, ".swap"), 0);
    assert_true(logged(f, "finishing an interrupted compaction"));
    snprintf(f->dir, sizeof f->dir, "%s", before);
    log = open_log(f, &c, false, NULL);
    assert_int_equal(log->nsegs, nclean + 1);
    check_latest(log, expected);
    assert_int_equal(st_log_end_offset(log), 400);
    st_log_close(log, true);

    /* Crash before step a: only .cleaned files; the old segments stay as they are. */
    char again[100];
    snprintf(again, sizeof again, "%s/again", f->root);
    mkdir(again, 0755);
    snprintf(f->dir, sizeof f->dir, "%s", again);
    log = open_log(f, &c, true, NULL);
    write_updates(log, 400, 0, expected);
    int segs = log->nsegs;
    st_log_close(log, true);
    st_segment_path(from, sizeof from, again, 0, "log");
    st_segment_path(to, sizeof to, again, 0, "log.cleaned");
    copy_file(from, to);
    assert_int_equal(st_cleaner_recover(again, err, sizeof err), 0);
    assert_int_equal(count_files(again, ".cleaned"), 0);
    log = open_log(f, &c, true, NULL);
    assert_int_equal(log->nsegs, segs);
    check_latest(log, expected);
    st_log_close(log, true);
}

static void test_small_map(void **state)
{
    fixture *f = *state;
    st_log_config c = compact_config();
    c.min_cleanable_dirty_ratio = 0.01;
    st_log *log = open_log(f, &c, true, NULL);
    /* 300 distinct keys first, then updates: a 64-slot map cannot hold them all */
    char expected[NKEYS + 3][32] = {{0}};
    for (int i = 0; i < 300; i++) {
        char key[16];
        snprintf(key, sizeof key, "unique-%d", i);
        put(log, key, "v", NOW);
    }
    write_updates(log, 300, 0, expected);
    st_cleaner_set_map_limit(log, 64 * 24);
    int segs = st_log_segment_count(log);
    /* each pass cleans the prefix whose keys fit: about one segment of unique keys;
     * once the passes reach the updates, those collapse */
    for (int i = 0; i < 40 && st_log_segment_count(log) >= segs; i++)
        st_log_tick(log, NOW);
    assert_true(logged(f, "compacted 1 segments"));
    assert_true(st_log_segment_count(log) < segs);
    check_latest(log, expected);
    scan_result r;
    scan(log, &r);
    assert_true(r.records >= 300 + NKEYS); /* nothing live was lost */
    st_log_close(log, true);
}

static void test_not_compacted_without_policy(void **state)
{
    fixture *f = *state;
    st_log_config c = compact_config();
    c.cleanup_compact = false;
    st_log *log = open_log(f, &c, true, NULL);
    char expected[NKEYS + 3][32] = {{0}};
    write_updates(log, 300, 0, expected);
    int segs = st_log_segment_count(log);
    st_log_tick(log, NOW);
    assert_int_equal(st_log_segment_count(log), segs);
    /* and min.compaction.lag.ms holds young segments back */
    c.cleanup_compact = true;
    c.min_compaction_lag_ms = 3600000;
    st_log_set_config(log, &c);
    st_log_tick(log, NOW + 1000);
    assert_int_equal(st_log_segment_count(log), segs);
    st_log_tick(log, NOW + 3600000 + 1000);
    assert_true(st_log_segment_count(log) < segs);
    check_latest(log, expected);
    st_log_close(log, true);
}

/* Segments larger than the cleaner's 1 MiB read buffer (the default segment.bytes is
 * 1 GiB and __consumer_offsets uses 100 MiB): batches straddle the buffer's end. */
static void test_big_segments(void **state)
{
    fixture *f = *state;
    st_log_config c = compact_config();
    c.segment_bytes = 3 << 20;
    c.index_interval_bytes = 4096;
    st_log *log = open_log(f, &c, true, NULL);
    static char value[1001];
    memset(value, 'x', 1000);
    char expected[NKEYS + 3][32] = {{0}};
    for (int i = 0; i < 8000; i++) { /* ~8.6 MB: two full 3 MiB segments and more */
        char key[8];
        snprintf(key, sizeof key, "k%d", i % NKEYS);
        value[0] = (char)('a' + i % 26);
        put(log, key, value, NOW + i);
        snprintf(expected[i % NKEYS], 32, "%.20s", value);
    }
    int64_t size_before = st_log_size_bytes(log);
    assert_true(st_log_segment_count(log) >= 3);
    st_log_tick(log, NOW + 10000);
    assert_true(logged(f, "compacted"));
    assert_false(logged(f, "pass failed"));
    assert_true(st_log_size_bytes(log) < size_before / 2);
    scan_result r;
    scan(log, &r);
    for (int k = 0; k < NKEYS; k++)
        assert_memory_equal(r.latest[k], expected[k], 20);
    st_log_close(log, true);
}

/* A compressed batch whose record claims an offset outside the batch is refused on
 * append; one already stored (written before appends decompressed to check, here put in
 * the segment file by hand) must not make the cleaner drop the real latest value of
 * that key. */
static void test_forged_offset_delta(void **state)
{
    fixture *f = *state;
    st_log_config c = compact_config();
    st_log *log = open_log(f, &c, true, NULL);
    put(log, "victim", "v1", NOW);
    /* one record at offsetDelta 100000 in a batch that says lastOffsetDelta 0 */
    st_buf b = ST_BUF_INIT;
    st_batch_builder bb;
    st_batch_builder_init(&bb, &b, 0, NOW, -1, -1, -1, 0);
    st_batch_builder_add(&bb, 100000, NOW, (st_bytes){(const uint8_t *)"victim", 6},
                         (st_bytes){(const uint8_t *)"evil", 4}, 0, (st_bytes){NULL, 0});
    size_t size = st_batch_builder_finish(&bb);
    uint8_t comp[1024];
    memcpy(comp, b.data, 61);
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = b.data + 61;
    z.avail_in = (uInt)(size - 61);
    z.next_out = comp + 61;
    z.avail_out = sizeof comp - 61;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t csize = 61 + z.total_out;
    deflateEnd(&z);
    put_be(comp + 8, csize - 12, 4);
    put_be(comp + 21, 1, 2); /* gzip */
    put_be(comp + 23, 0, 4); /* lastOffsetDelta */
    put_be(comp + 57, 1, 4); /* recordsCount */
    fix_crc(comp, csize);
    st_append_result res;
    assert_int_equal(st_log_append(log, comp, csize, NOW, &res), ST_ERR_INVALID_RECORD);
    assert_non_null(strstr(res.why, "offsetDelta 100000"));
    st_buf_free(&b);
    /* stored as an old broker would have: at offset 1, behind a clean close */
    st_log_close(log, true);
    put_be(comp, 1, 8);
    char path[600];
    snprintf(path, sizeof path, "%s/%020d.log", f->dir, 0);
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, comp, csize), (ssize_t)csize);
    close(fd);
    log = open_log(f, &c, false, NULL);
    assert_int_equal(st_log_end_offset(log), 2);
    put(log, "victim", "LATEST", NOW);
    for (int i = 0; i < 200; i++)
        put(log, "filler", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", NOW);
    st_log_tick(log, NOW + 1000);
    assert_true(logged(f, "compacted"));
    /* "LATEST" is still there: scan every record of the log for it */
    bool found = false;
    for (int64_t off = st_log_start_offset(log); off < st_log_end_offset(log);) {
        st_log_slice s;
        assert_int_equal(st_log_read(log, off, 1 << 20, &s), ST_ERR_NONE);
        if (!s.len)
            break;
        uint8_t *buf = malloc(s.len);
        assert_int_equal(pread(s.file->fd, buf, s.len, s.pos), (ssize_t)s.len);
        st_fileref_unref(s.file);
        for (size_t pos = 0; pos < s.len;) {
            st_record_iter it;
            st_record rec;
            st_records_open(&it, buf + pos, s.len - pos, NULL, 0);
            while (st_records_next(&it, &rec) == 1)
                if (rec.key.len == 6 && memcmp(rec.key.ptr, "victim", 6) == 0 &&
                    rec.value.len == 6 && memcmp(rec.value.ptr, "LATEST", 6) == 0)
                    found = true;
            off = it.info.base_offset + it.info.last_offset_delta + 1;
            pos += (size_t)it.info.size;
            st_records_close(&it);
        }
        free(buf);
    }
    assert_true(found);
    st_log_close(log, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_compacts_to_latest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tombstones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compressed_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_background_and_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_during_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_leftovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_compacted_without_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forged_offset_delta, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
