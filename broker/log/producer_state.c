/*
 * Per-partition producer state for idempotent producers; see producer_state.h for the
 * model and the snapshot format.
 *
 * The map is open addressing over a dense entry array (an entry holds its five batches
 * inline), so the append path does one hash probe per batch and allocates only when a
 * producer id is new to the partition. Appends are checked in full before anything is
 * written (st_producers_check) and recorded after (st_producers_append); the check
 * reserves room for the new ids so the record step cannot fail half-way.
 *
 * Sequences follow Kafka: a batch's last sequence is base + lastOffsetDelta, wrapping
 * from INT32_MAX to 0; the next batch must start right after it. Within one epoch a
 * batch matching one of the five cached (first, last) pairs is a retry. A new epoch
 * forgets the cached batches and must start at sequence 0; an unknown id may start
 * anywhere (KIP-360, see producer_state.h).
 */
#include "broker/log/producer_state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/log_int.h"
#include "broker/log/segment.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/crc32c.h"
#include "common/errors.h"
#include "common/fileio.h"
#include "common/logging.h"

#define SNAP_MAGIC       "STPS"
#define SNAP_VERSION     2
#define SNAP_V1          1 /* no last append time */
#define SNAP_HEADER      22
#define SNAP_BATCH_BYTES 32
#define SNAPS_KEPT       2
/* Distinct producer ids one record set may carry. Kafka allows one batch per
 * partition in a Produce request; a bound keeps the check's bookkeeping on the stack
 * and linear in the number of batches. */
#define MAX_PIDS_PER_APPEND 8

typedef struct pid_batch {
    int32_t first_seq, last_seq;
    int64_t first_offset, last_offset;
    int64_t timestamp; /* the batch's maxTimestamp */
} pid_batch;

typedef struct pid_entry {
    int64_t producer_id;
    int64_t last_append_ms; /* wall clock; expiry counts from here */
    int16_t epoch;
    uint8_t nbatches;
    pid_batch batches[ST_PRODUCER_BATCHES]; /* oldest first */
} pid_entry;

struct st_producer_state {
    pid_entry *entries; /* dense, in insertion order */
    uint32_t count, cap;
    int32_t *slots;  /* index into entries, -1 empty */
    uint32_t nslots; /* power of two, at least twice count */
    int64_t *snaps;  /* offsets of the snapshot files on disk, ascending */
    int nsnaps, snaps_cap;
    bool dirty; /* producers expired since the newest snapshot: the next one must be written */
};

/* ---- the map ---- */

static uint32_t slot_of(int64_t producer_id, uint32_t nslots)
{
    return (uint32_t)(((uint64_t)producer_id * 0x9E3779B97F4A7C15ull) >> 32) & (nslots - 1);
}

static pid_entry *find(const struct st_producer_state *ps, int64_t producer_id)
{
    if (!ps || ps->nslots == 0)
        return NULL;
    for (uint32_t i = slot_of(producer_id, ps->nslots);; i = (i + 1) & (ps->nslots - 1)) {
        int32_t k = ps->slots[i];
        if (k < 0)
            return NULL;
        if (ps->entries[k].producer_id == producer_id)
            return &ps->entries[k];
    }
}

static void place(struct st_producer_state *ps, uint32_t k)
{
    uint32_t i = slot_of(ps->entries[k].producer_id, ps->nslots);
    while (ps->slots[i] >= 0)
        i = (i + 1) & (ps->nslots - 1);
    ps->slots[i] = (int32_t)k;
}

/* Room for `more` new producers, so insert() cannot fail. 0 or -1 (out of memory). */
static int reserve(struct st_producer_state *ps, uint32_t more)
{
    uint64_t want = (uint64_t)ps->count + more;
    if (want > INT32_MAX / 4)
        return -1;
    if (want > ps->cap) {
        uint32_t cap = ps->cap ? ps->cap * 2 : 4;
        while (cap < want)
            cap *= 2;
        pid_entry *e = realloc(ps->entries, (size_t)cap * sizeof *e);
        if (!e)
            return -1;
        ps->entries = e;
        ps->cap = cap;
    }
    if (want * 2 > ps->nslots) {
        uint32_t n = ps->nslots ? ps->nslots : 16;
        while (n < want * 2)
            n *= 2;
        int32_t *slots = malloc((size_t)n * sizeof *slots);
        if (!slots)
            return -1;
        memset(slots, 0xff, (size_t)n * sizeof *slots); /* all -1 */
        free(ps->slots);
        ps->slots = slots;
        ps->nslots = n;
        for (uint32_t k = 0; k < ps->count; k++)
            place(ps, k);
    }
    return 0;
}

/* Adds a producer with no batches; room must be reserved. */
static pid_entry *insert(struct st_producer_state *ps, int64_t producer_id, int16_t epoch)
{
    pid_entry *e = &ps->entries[ps->count];
    memset(e, 0, sizeof *e);
    e->producer_id = producer_id;
    e->epoch = epoch;
    place(ps, ps->count++);
    return e;
}

static void clear(struct st_producer_state *ps)
{
    ps->count = 0;
    if (ps->slots)
        memset(ps->slots, 0xff, (size_t)ps->nslots * sizeof *ps->slots);
}

/* ---- sequences ---- */

/* Kafka's DefaultRecordBatch.incrementSequence: INT32_MAX is followed by 0. A negative
 * delta only comes from a damaged stored header; it must not overflow. */
static int32_t seq_add(int32_t seq, int32_t delta)
{
    if (delta < 0)
        delta = 0;
    if (seq > INT32_MAX - delta)
        return delta - (INT32_MAX - seq) - 1;
    return seq + delta;
}

static int32_t seq_next(int32_t last)
{
    return last == INT32_MAX ? 0 : last + 1;
}

static pid_batch batch_of(const st_batch_info *b)
{
    return (pid_batch){b->base_sequence, seq_add(b->base_sequence, b->last_offset_delta),
                       b->base_offset, b->base_offset + b->last_offset_delta, b->max_timestamp};
}

/* Records a batch as written: what the log says is the truth (no checks). */
static void record(pid_entry *e, int16_t epoch, const pid_batch *pb)
{
    if (epoch != e->epoch) {
        e->epoch = epoch;
        e->nbatches = 0;
    }
    if (e->nbatches == ST_PRODUCER_BATCHES) {
        memmove(e->batches, e->batches + 1, (ST_PRODUCER_BATCHES - 1) * sizeof *e->batches);
        e->nbatches--;
    }
    e->batches[e->nbatches++] = *pb;
}

/* Records a stored batch (rebuild, append) appended at now_ms. 0 or -1 (out of memory). */
static int apply(struct st_producer_state *ps, const st_batch_info *b, int64_t now_ms)
{
    pid_entry *e = find(ps, b->producer_id);
    if (!e) {
        if (reserve(ps, 1) < 0)
            return -1;
        e = insert(ps, b->producer_id, b->producer_epoch);
    }
    pid_batch pb = batch_of(b);
    record(e, b->producer_epoch, &pb);
    e->last_append_ms = now_ms;
    return 0;
}

static struct st_producer_state *state_of(st_log *log)
{
    if (!log->producers)
        log->producers = calloc(1, sizeof *log->producers);
    return log->producers;
}

void st_producers_free(struct st_producer_state *ps)
{
    if (!ps)
        return;
    free(ps->entries);
    free(ps->slots);
    free(ps->snaps);
    free(ps);
}

/* ---- checking an append ---- */

/* A producer as the record set being checked has left it so far. */
typedef struct pending {
    int64_t producer_id;
    const pid_entry *stored; /* its entry in the map, NULL if new to the partition */
    int16_t epoch;
    int32_t last_seq; /* -1: no batch yet */
    bool known;       /* epoch and last_seq are meaningful */
    bool moved;       /* an earlier batch of this record set advanced it */
} pending;

static const pid_batch *find_retry(const pid_entry *e, int32_t first, int32_t last)
{
    for (int i = e->nbatches - 1; i >= 0; i--)
        if (e->batches[i].first_seq == first && e->batches[i].last_seq == last)
            return &e->batches[i];
    return NULL;
}

int st_producers_check(st_log *log, const uint8_t *records, size_t len, bool *has_producer,
                       st_append_result *res)
{
    pending pend[MAX_PIDS_PER_APPEND];
    int npend = 0, nbatches = 0, nretries = 0;
    const pid_batch *first_retry = NULL, *last_retry = NULL;
    *has_producer = false;
    for (size_t pos = 0; pos < len; nbatches++) {
        st_batch_info b;
        st_batch_parse_header(records + pos, &b);
        pos += (size_t)b.size;
        if (b.producer_id < 0)
            continue;
        *has_producer = true;
        if (b.producer_epoch < 0) {
            snprintf(res->why, sizeof res->why,
                     "batch %d: producer id %" PRId64 " comes with a negative epoch %d", nbatches,
                     b.producer_id, b.producer_epoch);
            return ST_ERR_INVALID_RECORD;
        }
        pending *p = NULL;
        for (int i = 0; i < npend && !p; i++)
            if (pend[i].producer_id == b.producer_id)
                p = &pend[i];
        if (!p) {
            if (npend == MAX_PIDS_PER_APPEND) {
                snprintf(res->why, sizeof res->why,
                         "record set carries more than %d producer ids; send one producer's "
                         "batches per request",
                         MAX_PIDS_PER_APPEND);
                return ST_ERR_INVALID_RECORD;
            }
            const pid_entry *e = find(log->producers, b.producer_id);
            p = &pend[npend++];
            *p = (pending){b.producer_id, e, e ? e->epoch : 0, -1, e != NULL, false};
            if (e && e->nbatches > 0)
                p->last_seq = e->batches[e->nbatches - 1].last_seq;
        }
        int32_t first = b.base_sequence, last = seq_add(first, b.last_offset_delta);
        if (p->known && b.producer_epoch < p->epoch) {
            snprintf(res->why, sizeof res->why,
                     "batch %d: producer %" PRId64 " epoch %d is older than its current epoch %d "
                     "(a newer instance of the producer took over)",
                     nbatches, b.producer_id, b.producer_epoch, p->epoch);
            return ST_ERR_INVALID_PRODUCER_EPOCH;
        }
        if (p->known && b.producer_epoch == p->epoch && p->stored && !p->moved) {
            const pid_batch *r = find_retry(p->stored, first, last);
            if (r) {
                if (!first_retry)
                    first_retry = r;
                last_retry = r;
                nretries++;
                continue;
            }
        }
        if (!p->known) {
            /* Unknown here (new, or its state expired): any first sequence is taken, as
             * Kafka does since KIP-360 (before 2.5 it answered UNKNOWN_PRODUCER_ID). */
            if (first != 0)
                st_debug("%s: producer %" PRId64 " is unknown to this partition and starts at "
                         "sequence %d: accepted",
                         log->dir, b.producer_id, first);
        } else if (b.producer_epoch > p->epoch) {
            if (first != 0) {
                snprintf(res->why, sizeof res->why,
                         "batch %d: producer %" PRId64 " moved from epoch %d to %d, so its "
                         "sequence must restart at 0 (expected 0, got %d)",
                         nbatches, b.producer_id, p->epoch, b.producer_epoch, first);
                return ST_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
            }
        } else if (first != seq_next(p->last_seq)) {
            snprintf(res->why, sizeof res->why,
                     "batch %d: producer %" PRId64 " epoch %d: sequence out of order (expected "
                     "%d, got %d)",
                     nbatches, b.producer_id, b.producer_epoch, seq_next(p->last_seq), first);
            return ST_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
        }
        *p = (pending){p->producer_id, p->stored, b.producer_epoch, last, true, true};
    }
    if (nretries > 0 && nretries < nbatches) {
        snprintf(res->why, sizeof res->why,
                 "record set mixes %d retried batch(es) with %d new one(s); retry them separately",
                 nretries, nbatches - nretries);
        return ST_ERR_DUPLICATE_SEQUENCE_NUMBER;
    }
    if (nretries > 0) {
        /* Kafka answers a retry of a cached batch with NONE and the original offsets. */
        res->duplicate = true;
        res->base_offset = first_retry->first_offset;
        res->last_offset = last_retry->last_offset;
        /* The original's answer may still be waiting for its fsync (flush.messages):
         * this one must not be acknowledged before it. */
        res->flush_needed =
            log->cfg.flush_messages != INT64_MAX && log->recovery_point <= res->last_offset;
        st_debug("%s: retried batch(es) at offsets %" PRId64 "..%" PRId64 " not written again",
                 log->dir, res->base_offset, res->last_offset);
        return ST_ERR_NONE;
    }
    uint32_t fresh = 0;
    for (int i = 0; i < npend; i++)
        fresh += pend[i].stored == NULL;
    if (*has_producer && (!state_of(log) || reserve(log->producers, fresh) < 0)) {
        snprintf(res->why, sizeof res->why, "out of memory tracking %u new producer(s)", fresh);
        return ST_ERR_KAFKA_STORAGE_ERROR;
    }
    return ST_ERR_NONE;
}

void st_producers_append(st_log *log, const uint8_t *records, size_t len, int64_t now_ms)
{
    for (size_t pos = 0; pos < len;) {
        st_batch_info b;
        st_batch_parse_header(records + pos, &b);
        pos += (size_t)b.size;
        if (b.producer_id >= 0 && apply(log->producers, &b, now_ms) < 0)
            st_error("%s: out of memory recording producer %" PRId64, log->dir, b.producer_id);
    }
}

size_t st_log_expire_producers(st_log *log, int64_t now_ms, int64_t expiration_ms)
{
    size_t n = st_producers_expire(log, now_ms, expiration_ms);
    if (n)
        st_info("%s: %zu idle producer(s) expired (no append for %" PRId64
                " ms: producer.id.expiration.ms), %u left",
                log->dir, n, expiration_ms, log->producers->count);
    return n;
}

size_t st_producers_expire(st_log *log, int64_t now_ms, int64_t expiration_ms)
{
    struct st_producer_state *ps = log->producers;
    if (!ps || ps->count == 0)
        return 0;
    uint32_t kept = 0;
    for (uint32_t k = 0; k < ps->count; k++) {
        const pid_entry *e = &ps->entries[k];
        if (now_ms - e->last_append_ms >= expiration_ms)
            continue;
        if (kept != k)
            ps->entries[kept] = *e;
        kept++;
    }
    size_t expired = ps->count - kept;
    if (expired) {
        ps->count = kept;
        memset(ps->slots, 0xff, (size_t)ps->nslots * sizeof *ps->slots); /* all -1 */
        for (uint32_t k = 0; k < ps->count; k++)
            place(ps, k);
        ps->dirty = true;
    }
    return expired;
}

/* ---- snapshots ---- */

static void snapshot_path(char *buf, size_t cap, const st_log *log, int64_t offset)
{
    st_segment_path(buf, cap, log->dir, offset, ST_SNAPSHOT_EXT);
}

static int note_offset(struct st_producer_state *ps, int64_t offset)
{
    int i = ps->nsnaps;
    while (i > 0 && ps->snaps[i - 1] > offset)
        i--;
    if (i > 0 && ps->snaps[i - 1] == offset)
        return 0;
    if (ps->nsnaps == ps->snaps_cap) {
        int cap = ps->snaps_cap ? ps->snaps_cap * 2 : 4;
        int64_t *p = realloc(ps->snaps, (size_t)cap * sizeof *p);
        if (!p)
            return -1;
        ps->snaps = p;
        ps->snaps_cap = cap;
    }
    memmove(ps->snaps + i + 1, ps->snaps + i, (size_t)(ps->nsnaps - i) * sizeof *ps->snaps);
    ps->snaps[i] = offset;
    ps->nsnaps++;
    return 0;
}

/* Deletes snapshot i (file and entry). */
static void drop_snapshot(st_log *log, int i)
{
    struct st_producer_state *ps = log->producers;
    char path[4096];
    snapshot_path(path, sizeof path, log, ps->snaps[i]);
    if (unlink(path) < 0 && errno != ENOENT)
        st_warn("%s: cannot delete: %s", path, strerror(errno));
    memmove(ps->snaps + i, ps->snaps + i + 1, (size_t)(ps->nsnaps - i - 1) * sizeof *ps->snaps);
    ps->nsnaps--;
}

int st_producers_note_snapshot(st_log *log, int64_t offset)
{
    return state_of(log) ? note_offset(log->producers, offset) : -1;
}

/* Writes the state as of the end offset (tmp file, rename). 0 or -1 (logged). */
static int write_snapshot(st_log *log, bool sync)
{
    struct st_producer_state *ps = log->producers;
    int64_t offset = log->end_offset;
    st_buf out = ST_BUF_INIT;
    st_buf_append(&out, SNAP_MAGIC, 4);
    st_buf_put_i16(&out, SNAP_VERSION);
    st_buf_put_i32(&out, 0); /* CRC, patched below */
    st_buf_put_i64(&out, offset);
    st_buf_put_i32(&out, (int32_t)ps->count);
    for (uint32_t k = 0; k < ps->count; k++) {
        const pid_entry *e = &ps->entries[k];
        st_buf_put_i64(&out, e->producer_id);
        st_buf_put_i16(&out, e->epoch);
        st_buf_put_i64(&out, e->last_append_ms);
        st_buf_put_i8(&out, (int8_t)e->nbatches);
        for (int i = 0; i < e->nbatches; i++) {
            const pid_batch *pb = &e->batches[i];
            st_buf_put_i32(&out, pb->first_seq);
            st_buf_put_i32(&out, pb->last_seq);
            st_buf_put_i64(&out, pb->first_offset);
            st_buf_put_i64(&out, pb->last_offset);
            st_buf_put_i64(&out, pb->timestamp);
        }
    }
    st_put_be32(out.data + 6, st_crc32c(0, out.data + 10, out.len - 10));

    char name[64], err[512];
    snprintf(name, sizeof name, "%020" PRId64 "." ST_SNAPSHOT_EXT, offset);
    int rc = st_file_write_atomic(log->dir, name, out.data, out.len, sync, err, sizeof err);
    if (rc < 0)
        st_log_storage_failed(log, false, errno, "writing the producer snapshot %s", name);
    st_buf_free(&out);
    if (rc < 0)
        return -1;
    if (!sync)
        log->dir_dirty = true; /* the next flush fsyncs the directory: the name is kept */
    if (note_offset(ps, offset) < 0)
        return -1;
    ps->dirty = false;
    while (ps->nsnaps > SNAPS_KEPT)
        drop_snapshot(log, 0);
    return 0;
}

void st_producers_snapshot(st_log *log, bool sync)
{
    struct st_producer_state *ps = log->producers;
    if (!ps || (ps->count == 0 && !ps->dirty))
        return;
    /* A snapshot at the end offset is current, unless producers expired since it was
     * written: then it is replaced (atomically, under the same name). */
    if (ps->nsnaps > 0 && ps->snaps[ps->nsnaps - 1] == log->end_offset && !ps->dirty)
        return;
    write_snapshot(log, sync);
}

int st_producers_before_write(st_log *log)
{
    if (log->producers->nsnaps > 0)
        return ST_ERR_NONE;
    return write_snapshot(log, false) == 0 ? ST_ERR_NONE : ST_ERR_KAFKA_STORAGE_ERROR;
}

/* Reads the snapshot at `offset` into the (empty) state. 0, or -1 with why set. */
static int read_snapshot(st_log *log, int64_t offset, char *why, size_t whylen)
{
    struct st_producer_state *ps = log->producers;
    char path[4096];
    snapshot_path(path, sizeof path, log, offset);
    uint8_t *data = NULL;
    int rc = -1;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(why, whylen, "cannot open: %s", strerror(errno));
        goto out;
    }
    size_t size = (size_t)st.st_size;
    if (st.st_size < SNAP_HEADER || st.st_size > (1 << 30) || !(data = malloc(size)) ||
        pread(fd, data, size, 0) != (ssize_t)size) {
        snprintf(why, whylen, "%jd bytes, not a readable snapshot", (intmax_t)st.st_size);
        goto out;
    }
    int version = st_be16(data + 4);
    size_t fixed = version == SNAP_V1 ? 11 : 19; /* per producer, before its batches */
    if (memcmp(data, SNAP_MAGIC, 4) != 0 || (version != SNAP_VERSION && version != SNAP_V1) ||
        st_be32(data + 6) != st_crc32c(0, data + 10, size - 10) ||
        (int64_t)st_be64(data + 10) != offset) {
        snprintf(why, whylen, "bad magic, version, CRC or offset");
        goto out;
    }
    uint32_t count = st_be32(data + 18);
    if (count > (size - SNAP_HEADER) / fixed || reserve(ps, count) < 0) {
        snprintf(why, whylen, "producer count %u does not fit", count);
        goto out;
    }
    size_t pos = SNAP_HEADER;
    int64_t loaded_ms = st_wall_ms();
    for (uint32_t k = 0; k < count; k++) {
        if (pos + fixed > size)
            break;
        int64_t producer_id = (int64_t)st_be64(data + pos);
        int16_t epoch = (int16_t)st_be16(data + pos + 8);
        int64_t last_append = version == SNAP_V1 ? loaded_ms : (int64_t)st_be64(data + pos + 10);
        uint8_t nbatches = data[pos + fixed - 1];
        pos += fixed;
        if (producer_id < 0 || nbatches > ST_PRODUCER_BATCHES || find(ps, producer_id) ||
            pos + (size_t)nbatches * SNAP_BATCH_BYTES > size)
            break;
        pid_entry *e = insert(ps, producer_id, epoch);
        e->last_append_ms = last_append;
        for (int i = 0; i < nbatches; i++, pos += SNAP_BATCH_BYTES) {
            const uint8_t *p = data + pos;
            e->batches[i] =
                (pid_batch){(int32_t)st_be32(p), (int32_t)st_be32(p + 4), (int64_t)st_be64(p + 8),
                            (int64_t)st_be64(p + 16), (int64_t)st_be64(p + 24)};
        }
        e->nbatches = nbatches;
    }
    if (ps->count != count || pos != size) {
        snprintf(why, whylen, "producer %u of %u is malformed", ps->count, count);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(data);
    if (rc)
        clear(ps);
    return rc;
}

/* Rebuilds from the batch headers at and after `from`. Logs what it cannot read. */
static void rebuild(st_log *log, int64_t from)
{
    int64_t now = st_wall_ms(); /* rebuilt producers count as active from now */
    int i = 0;
    while (i + 1 < log->nsegs && log->segs[i + 1]->base <= from)
        i++;
    int64_t batches = 0;
    for (; i < log->nsegs; i++) {
        st_segment *s = log->segs[i];
        int64_t pos = 0;
        if (s->base < from) { /* the snapshot lies inside: find it with the index */
            int64_t size = s->size;
            if (st_segment_load(log->dir, s, st_log_interval(log)) != ST_ERR_NONE)
                goto unreadable;
            log->total_size += s->size - size;
            pos = st_segment_lookup(s, from);
        } else if (st_segment_open_log(log->dir, s) < 0) {
            goto unreadable;
        }
        st_scan sc;
        st_batch_info b;
        int64_t at;
        int rc;
        st_scan_init(&sc, s->file->fd, pos, s->size);
        while ((rc = st_scan_next(&sc, &b, &at)) == ST_SCAN_BATCH) {
            if (b.base_offset < from || b.producer_id < 0)
                continue;
            if (apply(log->producers, &b, now) < 0) {
                st_error("%s: out of memory rebuilding producer state", log->dir);
                return;
            }
            batches++;
        }
        if (rc < 0)
            goto unreadable;
    }
    st_info("%s: rebuilt producer state from offset %" PRId64 " (%" PRId64
            " batches with a producer id, %u producers)",
            log->dir, from, batches, log->producers->count);
    return;
unreadable:
    st_warn("%s: segment %020" PRId64 " unreadable while rebuilding producer state (%s): "
            "retries of batches after it may be written twice",
            log->dir, log->segs[i]->base, strerror(errno));
}

int st_producers_load(st_log *log)
{
    struct st_producer_state *ps = log->producers;
    if (!ps)
        return 0; /* no snapshot: the log never saw a producer id */
    while (ps->nsnaps > 0 && ps->snaps[ps->nsnaps - 1] > log->end_offset) {
        st_warn("%s: producer snapshot at offset %" PRId64 " is beyond the log end offset %" PRId64
                " (the log was truncated): deleting it",
                log->dir, ps->snaps[ps->nsnaps - 1], log->end_offset);
        drop_snapshot(log, ps->nsnaps - 1);
    }
    int64_t loaded = -1;
    while (ps->nsnaps > 0 && loaded < 0) {
        char why[160];
        int64_t offset = ps->snaps[ps->nsnaps - 1];
        if (read_snapshot(log, offset, why, sizeof why) == 0) {
            loaded = offset;
        } else {
            st_warn("%s: producer snapshot at offset %" PRId64 " unusable (%s): deleting it",
                    log->dir, offset, why);
            drop_snapshot(log, ps->nsnaps - 1);
        }
    }
    int64_t from = loaded >= 0 ? loaded : log->segs[0]->base;
    if (from < log->end_offset)
        rebuild(log, from);
    while (ps->nsnaps > SNAPS_KEPT)
        drop_snapshot(log, 0);
    if (ps->nsnaps == 0) {
        if (ps->count == 0) {
            st_producers_free(ps); /* no producer batch left in the log */
            log->producers = NULL;
        } else if (write_snapshot(log, false) < 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- a follower's appends and truncation ---- */

int st_producers_follow(st_log *log, const uint8_t *records, size_t len, bool *has_producer,
                        st_append_result *res)
{
    *has_producer = false;
    for (size_t pos = 0; pos < len;) {
        st_batch_info b;
        st_batch_parse_header(records + pos, &b);
        pos += (size_t)b.size;
        *has_producer = *has_producer || b.producer_id >= 0;
    }
    if (*has_producer && !state_of(log)) {
        snprintf(res->why, sizeof res->why, "out of memory tracking producers");
        return ST_ERR_KAFKA_STORAGE_ERROR;
    }
    return ST_ERR_NONE;
}

int st_producers_truncated(st_log *log)
{
    struct st_producer_state *ps = log->producers;
    if (!ps)
        return 0;
    ps->count = 0;
    if (ps->slots)
        memset(ps->slots, 0xff, (size_t)ps->nslots * sizeof *ps->slots); /* all -1 */
    ps->dirty = false;
    return st_producers_load(log);
}
