/*
 * One cleaning pass, on the cleaner thread (cleaner_int.h has the job). It touches only
 * the files it holds references to and the *.cleaned files it creates; the log itself
 * belongs to the loop thread, which decides afterwards whether the output is used.
 *
 * 1. Map: every record key of the dirty inputs (and of the active segment up to its
 *    size at the snapshot) → its latest offset. If the map reaches its bound, only the
 *    inputs read whole are cleaned, as Kafka does; entries of the input read in part
 *    are harmless (they point at records that stay).
 * 2. Copy: each cleanable input, in order, into output segments of up to segment.bytes.
 *    A record survives unless the map holds a later offset for its key; a tombstone
 *    (null value) also dies once older than delete.retention.ms. Batches that keep
 *    every record are copied byte for byte; the others are rebuilt uncompressed with
 *    the same offsets, timestamps and producer; empty ones vanish.
 * 3. Indexes for the outputs, then fsync of every file and of the directory: the loop
 *    thread renames the files into place without another fsync of their contents.
 *
 * Transactions (Kafka's rules): nothing at or after the last stable offset is mapped
 * (an open transaction may still abort), and the loop thread never hands over a segment
 * that reaches it. A data batch of an aborted transaction is dropped whole and never
 * mapped, so aborted values neither survive nor shadow the committed ones. Committed
 * transactional data compacts like any other. A transaction's marker (control batch)
 * is kept while any record of its transaction is still in the log — the rebuild of a
 * partition's transactions at open (log_txn.c) would otherwise take the survivors for
 * an open transaction — and, once they are gone, until it is older than
 * delete.retention.ms, like a tombstone.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/cleaner_int.h"
#include "broker/log/log_int.h"
#include "broker/log/records.h"
#include "broker/txn/txn_log.h"
#include "broker/txn/txn_partition.h"
#include "common/buf.h"
#include "common/errors.h"

#define READ_CHUNK  ((size_t)1 << 20)
#define WRITE_CHUNK ((size_t)1 << 20)

/* ---- reading whole batches of one input, a megabyte at a time ---- */

typedef struct batch_reader {
    int fd;
    int64_t pos, limit; /* next batch, end of the input */
    uint8_t *buf;
    size_t cap, len;
    int64_t buf_pos; /* file position of buf[0] */
} batch_reader;

enum { RD_IO = -2, RD_BAD = -1, RD_END = 0, RD_BATCH = 1 };

static int fill(batch_reader *r, size_t need)
{
    if (need > r->cap) {
        uint8_t *p = realloc(r->buf, need);
        if (!p) {
            errno = ENOMEM;
            return RD_IO;
        }
        r->buf = p;
        r->cap = need;
    }
    size_t want = r->cap;
    if ((int64_t)want > r->limit - r->pos)
        want = (size_t)(r->limit - r->pos);
    size_t got = 0;
    while (got < want) {
        ssize_t n = pread(r->fd, r->buf + got, want - got, r->pos + (int64_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return RD_IO;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    r->buf_pos = r->pos;
    r->len = got;
    return got >= need ? RD_BATCH : RD_BAD;
}

/* Next whole batch: *batch points into the reader's buffer until the next call. */
static int next_batch(batch_reader *r, const uint8_t **batch, st_batch_info *info)
{
    if (r->pos >= r->limit)
        return RD_END;
    if (r->limit - r->pos < ST_BATCH_HEADER_SIZE)
        return RD_BAD;
    int64_t off = r->pos - r->buf_pos;
    if (r->len == 0 || off < 0 || off + ST_BATCH_HEADER_SIZE > (int64_t)r->len) {
        int rc = fill(r, r->cap ? r->cap : READ_CHUNK);
        if (rc == RD_IO || r->len < ST_BATCH_HEADER_SIZE)
            return rc == RD_IO ? RD_IO : RD_BAD;
        off = 0;
    }
    if (st_batch_parse_header(r->buf + off, info) != ST_ERR_NONE || r->pos + info->size > r->limit)
        return RD_BAD;
    if (off + info->size > (int64_t)r->len) {
        /* Ask for the batch only: near the end of the input fewer than cap bytes
         * remain, and fill() reads at most up to the limit. */
        int rc = fill(r, (size_t)info->size);
        if (rc != RD_BATCH)
            return rc;
        off = 0;
    }
    *batch = r->buf + off;
    r->pos += info->size;
    return RD_BATCH;
}

static bool cancelled(const st_clean_job *job)
{
    return __atomic_load_n(&job->cancelled, __ATOMIC_ACQUIRE) != 0;
}

static void fail(st_clean_job *job, const char *fmt, int64_t base, const char *what)
{
    if (job->err)
        return;
    job->err = -1;
    snprintf(job->why, sizeof job->why, fmt, base, what);
}

/* ---- transactions ---- */

/* Whether the transactional data batch b belongs to an aborted transaction: an entry of
 * its producer that began at or before it and whose ABORT marker comes after it. */
static bool aborted_batch(const st_clean_job *job, const st_batch_info *b)
{
    if (!(b->attributes & ST_BATCH_ATTR_TRANSACTIONAL) || b->producer_id < 0)
        return false;
    size_t lo = 0, hi = job->naborted;
    while (lo < hi) { /* the first entry after (producer_id, base_offset) */
        size_t mid = lo + (hi - lo) / 2;
        const st_txn_aborted *a = &job->aborted[mid];
        if (a->producer_id < b->producer_id ||
            (a->producer_id == b->producer_id && a->first_offset <= b->base_offset))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    const st_txn_aborted *a = &job->aborted[lo - 1];
    return a->producer_id == b->producer_id && b->base_offset < a->last_offset;
}

/* The producers whose current transaction still has a record in the pass's output: an
 * open-addressing set of producer ids (>= 0; -1 marks a free slot), grown at 1/2 full. */
typedef struct pid_set {
    int64_t *slots;
    size_t cap, n;
} pid_set;

static size_t pid_slot(const pid_set *s, int64_t pid)
{
    uint64_t h = (uint64_t)pid * 0x9E3779B97F4A7C15ull;
    size_t i = (size_t)(h >> 17) & (s->cap - 1);
    while (s->slots[i] != -1 && s->slots[i] != pid)
        i = (i + 1) & (s->cap - 1);
    return i;
}

/* 0, or -1 when out of memory. */
static int pid_set_add(pid_set *s, int64_t pid)
{
    if ((s->n + 1) * 2 > s->cap) {
        pid_set g = {NULL, s->cap ? s->cap * 2 : 16, 0};
        if (!(g.slots = malloc(g.cap * sizeof *g.slots)))
            return -1;
        for (size_t i = 0; i < g.cap; i++)
            g.slots[i] = -1;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i] != -1) {
                g.slots[pid_slot(&g, s->slots[i])] = s->slots[i];
                g.n++;
            }
        free(s->slots);
        *s = g;
    }
    size_t i = pid_slot(s, pid);
    if (s->slots[i] == -1) {
        s->slots[i] = pid;
        s->n++;
    }
    return 0;
}

/* Removes pid; returns whether it was there. Backward-shift deletion keeps every probe
 * chain whole without tombstones. */
static bool pid_set_remove(pid_set *s, int64_t pid)
{
    if (!s->cap)
        return false;
    size_t i = pid_slot(s, pid);
    if (s->slots[i] == -1)
        return false;
    size_t mask = s->cap - 1;
    for (size_t j = (i + 1) & mask; s->slots[j] != -1; j = (j + 1) & mask) {
        uint64_t h = (uint64_t)s->slots[j] * 0x9E3779B97F4A7C15ull;
        size_t home = (size_t)(h >> 17) & mask;
        /* move slots[j] into the hole at i unless its home lies in (i, j] */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i] = -1;
    s->n--;
    return true;
}

/* ---- 1. the key map ---- */

/* Maps one input. Returns 1 when read whole, 0 when the map filled up, -1 on error. */
static int map_input(st_clean_job *job, st_key_map *map, const st_clean_input *in)
{
    batch_reader r = {in->file->fd, 0, in->size, NULL, 0, 0, 0};
    const uint8_t *p;
    st_batch_info b;
    int rc = RD_END, result = 1;
    while (result == 1 && (rc = next_batch(&r, &p, &b)) == RD_BATCH) {
        if (cancelled(job)) {
            fail(job, "pass at segment %020" PRId64 " %s", in->base, "abandoned");
            result = -1;
            break;
        }
        if (b.base_offset + b.last_offset_delta >= job->stable_upto)
            break; /* not yet stable: an open transaction may still abort */
        if (b.attributes & ST_BATCH_ATTR_CONTROL)
            continue; /* transaction markers: never keys */
        if (aborted_batch(job, &b))
            continue; /* aborted values shadow nothing */
        st_record_iter it;
        st_record rec;
        if (st_records_open(&it, p, (size_t)b.size, NULL, 0) == ST_ERR_NONE) {
            while (st_records_next(&it, &rec) == 1) {
                if (rec.key.len >= 0 &&
                    !st_key_map_put(map, rec.key.ptr, (size_t)rec.key.len, rec.offset)) {
                    result = 0;
                    break;
                }
            }
        }
        /* a batch that cannot be read adds no keys, so it makes no record older; the
         * copy step keeps it whole */
        st_records_close(&it);
    }
    if (result == 1 && rc != RD_END) {
        fail(job, "segment %020" PRId64 ": %s", in->base,
             rc == RD_IO ? strerror(errno) : "a batch header does not parse");
        result = -1;
    }
    free(r.buf);
    return result;
}

/* ---- 2. writing outputs ---- */

typedef struct output {
    st_segment *seg;
    int64_t covers_end; /* base of the first input after this output's inputs */
    st_buf pending;     /* batches not yet written */
    int64_t written;
} output;

static st_fileref *create_cleaned(const char *dir, int64_t base, const char *ext)
{
    char path[4096], full[32];
    snprintf(full, sizeof full, "%s.cleaned", ext);
    st_segment_path(path, sizeof path, dir, base, full);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    return fd < 0 ? NULL : st_fileref_new(fd);
}

void st_cleaner_unlink_cleaned(const char *dir, int64_t base)
{
    static const char *const exts[] = {"log.cleaned", "index.cleaned", "timeindex.cleaned",
                                       "range.cleaned"};
    for (int i = 0; i < 4; i++) {
        char path[4096];
        st_segment_path(path, sizeof path, dir, base, exts[i]);
        unlink(path);
    }
}

static int write_pending(st_clean_job *job, output *o)
{
    size_t done = 0;
    while (done < o->pending.len) {
        ssize_t n = pwrite(o->seg->file->fd, o->pending.data + done, o->pending.len - done,
                           o->written + (int64_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fail(job, "writing the cleaned copy of segment %020" PRId64 ": %s", o->seg->base,
                 strerror(errno));
            return -1;
        }
        done += (size_t)n;
    }
    o->written += (int64_t)done;
    o->pending.len = 0;
    return 0;
}

static int start_output(st_clean_job *job, output *o, int64_t base)
{
    o->seg = st_segment_new(base, 0);
    o->written = 0;
    o->pending.len = 0;
    if (!o->seg || !(o->seg->file = create_cleaned(job->dir, base, "log"))) {
        fail(job, "creating the cleaned copy of segment %020" PRId64 ": %s", base,
             strerror(errno ? errno : ENOMEM));
        st_segment_free(o->seg);
        o->seg = NULL;
        return -1;
    }
    o->seg->loaded = true;
    return 0;
}

static int append_batch(st_clean_job *job, output *o, const uint8_t *p, const st_batch_info *b)
{
    if (st_segment_reserve(o->seg, 1) < 0) {
        fail(job, "segment %020" PRId64 ": %s", o->seg->base, "out of memory");
        return -1;
    }
    st_segment_note_batch(o->seg, o->seg->size, b, job->index_interval);
    st_buf_append(&o->pending, p, (size_t)b->size);
    o->seg->size += b->size;
    return o->pending.len >= WRITE_CHUNK ? write_pending(job, o) : 0;
}

/* Finishes the current output: writes its rest and its indexes, fsyncs its files.
 * An empty output other than the first is dropped (the first keeps the log's first
 * base offset, so the start offset survives a restart). */
static int finish_output(st_clean_job *job, output *o)
{
    if (write_pending(job, o) < 0)
        return -1; /* the caller deletes o->seg's files */
    st_segment *s = o->seg;
    o->seg = NULL;
    if (s->size == 0 && job->nouts > 0) {
        st_cleaner_unlink_cleaned(job->dir, s->base);
        st_segment_free(s);
        return 0;
    }
    st_segment_seal(s);
    /* <base>.range: the offsets this output replaces, [base, covers_end), for the
     * crash recovery of the swap (its records may end well before covers_end) */
    uint8_t range[8];
    st_put_be64(range, (uint64_t)o->covers_end);
    st_fileref *range_file = create_cleaned(job->dir, s->base, "range");
    int rc = range_file && pwrite(range_file->fd, range, 8, 0) == 8 ? 0 : -1;
    if (rc == 0)
        rc = st_fsync_all(&range_file, 1, NULL);
    st_fileref_unref(range_file);
    s->index_file = rc == 0 ? create_cleaned(job->dir, s->base, "index") : NULL;
    s->time_file = s->index_file ? create_cleaned(job->dir, s->base, "timeindex") : NULL;
    rc = s->time_file ? st_segment_sync_indexes(job->dir, s) : -1;
    int index_errno = rc == ST_ERR_KAFKA_STORAGE_ERROR ? s->write_errno : 0;
    st_fileref *files[] = {s->file, s->index_file, s->time_file};
    if (rc == 0)
        rc = st_fsync_all(files, 3, NULL);
    /* a closed segment keeps no index descriptors (as after a roll) */
    st_fileref_unref(s->index_file);
    st_fileref_unref(s->time_file);
    s->index_file = s->time_file = NULL;
    job->outs[job->nouts++] = s;
    job->out_bytes += s->size;
    if (rc != 0)
        fail(job, "writing or syncing the cleaned copy of segment %020" PRId64 " failed (%s)",
             s->base, index_errno ? strerror(index_errno) : "see the errors above");
    return rc ? -1 : 0;
}

/* Whether a record survives. */
static bool keep(const st_clean_job *job, const st_key_map *map, const st_record *r)
{
    if (r->key.len < 0)
        return true; /* compacted topics should not have these; never lose data */
    int64_t latest = st_key_map_get(map, r->key.ptr, (size_t)r->key.len);
    if (latest > r->offset)
        return false;
    if (r->value.len >= 0)
        return true;
    /* the latest record for its key and a tombstone: kept for delete.retention.ms so
     * consumers that read the old value see the delete too */
    int64_t age = job->now_ms - r->timestamp;
    return job->delete_retention_ms == INT64_MAX || age <= job->delete_retention_ms;
}

/* Whether the control batch b (p) is a transaction marker that may go: its transaction
 * has no record left before it (live says) and it is older than delete.retention.ms. */
static bool marker_goes(const st_clean_job *job, pid_set *live, const uint8_t *p,
                        const st_batch_info *b)
{
    if (b->producer_id < 0)
        return false;
    /* the marker ends its producer's transaction either way */
    bool has_data = pid_set_remove(live, b->producer_id);
    if (has_data || job->delete_retention_ms == INT64_MAX ||
        job->now_ms - b->max_timestamp <= job->delete_retention_ms)
        return false;
    st_record_iter it;
    st_record r;
    bool commit, marker = st_records_open(&it, p, (size_t)b->size, NULL, 0) == ST_ERR_NONE &&
                          st_records_next(&it, &r) == 1 &&
                          st_txn_marker_key_decode(r.key, &commit) == 0;
    st_records_close(&it);
    return marker; /* anything else in a control batch is kept as it is */
}

/* Rewrites one batch into o: whole, rebuilt, or not at all. live: the producers whose
 * transaction has records in the output so far (updated). */
static int filter_batch(st_clean_job *job, const st_key_map *map, pid_set *live, output *o,
                        const uint8_t *p, const st_batch_info *b, st_buf *scratch)
{
    st_record_iter it;
    st_record r;
    if (b->base_offset + b->last_offset_delta >= job->stable_upto)
        return append_batch(job, o, p, b); /* not stable: the loop thread never hands
                                            * these over; kept whole if it did */
    if (b->attributes & ST_BATCH_ATTR_CONTROL) {
        if (!marker_goes(job, live, p, b))
            return append_batch(job, o, p, b);
        job->dropped_markers++;
        return 0;
    }
    if (aborted_batch(job, b)) {
        job->dropped += (int64_t)b->last_offset_delta + 1;
        return 0;
    }
    /* every batch that keeps a record below keeps its transaction's marker too */
    if ((b->attributes & ST_BATCH_ATTR_TRANSACTIONAL) && b->producer_id >= 0) {
        int32_t kept = 0;
        if (st_records_open(&it, p, (size_t)b->size, NULL, 0) == ST_ERR_NONE) {
            int rc = 0;
            while (kept == 0 && (rc = st_records_next(&it, &r)) == 1)
                kept += keep(job, map, &r);
            if (rc != 0 && rc != 1)
                kept = 1; /* unreadable records are kept (below) */
        } else {
            kept = 1;
        }
        st_records_close(&it);
        if (kept && pid_set_add(live, b->producer_id) < 0) {
            fail(job, "segment %020" PRId64 ": %s", o->seg->base, "out of memory");
            return -1;
        }
    }
    if (st_records_open(&it, p, (size_t)b->size, NULL, 0) != ST_ERR_NONE) {
        st_records_close(&it);
        return append_batch(job, o, p, b); /* cannot look inside: keep it whole */
    }
    int32_t total = 0, kept = 0;
    int rc;
    while ((rc = st_records_next(&it, &r)) == 1) {
        total++;
        kept += keep(job, map, &r);
    }
    st_records_close(&it);
    if (rc != 0 || kept == total)
        return append_batch(job, o, p, b); /* unreadable records are never dropped */
    job->dropped += total - kept;
    if (kept == 0)
        return 0;

    scratch->len = 0;
    st_batch_builder bb;
    bool started = false;
    st_records_open(&it, p, (size_t)b->size, NULL, 0);
    while (st_records_next(&it, &r) == 1) {
        if (!keep(job, map, &r))
            continue;
        if (!started) {
            /* the first survivor's sequence number, so a producer's numbering holds */
            int32_t seq = -1;
            if (b->base_sequence >= 0)
                seq = (int32_t)(((int64_t)b->base_sequence + (r.offset - b->base_offset)) %
                                ((int64_t)INT32_MAX + 1));
            st_batch_builder_init(&bb, scratch, r.offset, b->base_timestamp, b->producer_id,
                                  b->producer_epoch, seq,
                                  (int16_t)(b->attributes & ~ST_BATCH_ATTR_CODEC_MASK));
            started = true;
        }
        st_batch_builder_add(&bb, r.offset, r.timestamp, r.key, r.value, r.header_count, r.headers);
    }
    st_records_close(&it);
    size_t size = st_batch_builder_finish(&bb);
    if (size > (size_t)b->size) {
        /* Rebuilt batches are uncompressed: from a compressed original the survivors can
         * take more room than the whole batch did. Keep the original then, so an output
         * never outgrows its inputs and the merge bound (segment.bytes, and the int32
         * positions of the index) holds. The stale records it keeps are harmless: the
         * newer values come after them. */
        job->dropped -= total - kept;
        return append_batch(job, o, p, b);
    }
    st_batch_set_leader_epoch(scratch->data, b->partition_leader_epoch);
    st_batch_info nb;
    st_batch_header(scratch->data, size, &nb);
    return append_batch(job, o, scratch->data, &nb);
}

static int clean_input(st_clean_job *job, const st_key_map *map, pid_set *live, output *o,
                       const st_clean_input *in, st_buf *scratch)
{
    batch_reader r = {in->file->fd, 0, in->size, NULL, 0, 0, 0};
    const uint8_t *p;
    st_batch_info b;
    int rc;
    while ((rc = next_batch(&r, &p, &b)) == RD_BATCH) {
        if (cancelled(job) || filter_batch(job, map, live, o, p, &b, scratch) < 0) {
            free(r.buf);
            if (!job->err)
                fail(job, "pass on segment %020" PRId64 " %s", in->base, "abandoned");
            return -1;
        }
    }
    free(r.buf);
    if (rc != RD_END) {
        fail(job, "segment %020" PRId64 ": %s", in->base,
             rc == RD_IO ? strerror(errno) : "a batch header does not parse");
        return -1;
    }
    job->in_bytes += in->size;
    return 0;
}

static void copy_all(st_clean_job *job, const st_key_map *map)
{
    output o = {NULL, 0, ST_BUF_INIT, 0};
    st_buf scratch = ST_BUF_INIT;
    pid_set live = {NULL, 0, 0};
    job->outs = calloc((size_t)job->ncleaned, sizeof *job->outs);
    if (!job->outs) {
        fail(job, "segment %020" PRId64 ": %s", job->inputs[0].base, "out of memory");
        return;
    }
    for (int i = 0; i < job->ncleaned && !job->err; i++) {
        const st_clean_input *in = &job->inputs[i];
        int64_t end_bound = i + 1 < job->ninputs ? job->inputs[i + 1].base : job->after_base;
        /* merge while the output stays under segment.bytes (the input's size bounds
         * what it adds) and its offsets fit the int32 relative index entries */
        if (o.seg &&
            (o.seg->size + in->size > job->segment_bytes || end_bound - o.seg->base > INT32_MAX) &&
            finish_output(job, &o) < 0)
            break;
        if (!o.seg && start_output(job, &o, in->base) < 0)
            break;
        o.covers_end = end_bound;
        clean_input(job, map, &live, &o, in, &scratch);
    }
    if (o.seg && !job->err)
        finish_output(job, &o);
    if (o.seg) {
        st_cleaner_unlink_cleaned(job->dir, o.seg->base);
        st_segment_free(o.seg);
    }
    st_buf_free(&o.pending);
    st_buf_free(&scratch);
    free(live.slots);
}

void st_cleaner_work(void *arg)
{
    st_clean_job *job = arg;
    st_key_map *map = st_key_map_new(job->map_max_bytes);
    if (!map) {
        fail(job, "segment %020" PRId64 ": %s", job->inputs[0].base, "out of memory for the map");
        return;
    }
    int mapped = job->first_map;
    for (int i = job->first_map; i < job->ninputs; i++) {
        int rc = map_input(job, map, &job->inputs[i]);
        if (rc < 0)
            goto out;
        if (rc == 0) {
            job->map_full = true;
            break;
        }
        mapped = i + 1;
    }
    /* Clean only what the map covers whole; nothing if not even one dirty input fits. */
    job->ncleaned = mapped < job->ncleanable ? mapped : job->ncleanable;
    if (job->ncleaned <= job->first_map)
        job->ncleaned = 0;
    job->clean_upto =
        job->ncleaned < job->ninputs ? job->inputs[job->ncleaned].base : job->after_base;
    if (job->ncleaned > 0)
        copy_all(job, map);
    if (!job->err && job->nouts > 0 && st_fsync_all(NULL, 0, job->dir) != ST_ERR_NONE)
        fail(job, "segment %020" PRId64 ": %s", job->inputs[0].base,
             "fsync of the directory failed");
out:
    st_key_map_free(map);
}
