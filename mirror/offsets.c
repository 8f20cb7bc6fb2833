/*
 * The offset map of one flow (mirror/offsets.h). Per (topic, partition): a growable array
 * of runs sorted by src_start, non-overlapping, found by binary search. Partitions sit in
 * an array sorted by (topic, partition), also binary-searched; add() remembers the last
 * partition it touched, because delivery reports come in long bursts for one partition.
 *
 * Dirty tracking keeps, per partition, the lowest run index changed since the last
 * take_dirty, and take_dirty reports every run from there to the end — normally just the
 * last run, but when a run grows and a new one starts between two calls both must be
 * written, or a restart would lose the growth (translation of those offsets would fall
 * "between runs").
 *
 * trim keeps the last run even when it ends before the floor: it is the partition's resume
 * position and what the next add() continues.
 */
#include "mirror/offsets.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "common/logging.h"

typedef struct part {
    char *topic; /* owned */
    int32_t partition;
    st_mrun *runs; /* owned; sorted by src_start, non-overlapping */
    size_t nruns, cap;
    bool dirty;
    size_t dirty_from; /* with dirty: the lowest run index changed since take_dirty */
    int64_t epoch;     /* 0 until the source topic is recreated (see offsets.h) */
    int64_t floor;     /* the target offset where the epoch starts, -1 unknown */
    bool epoch_dirty;  /* a new epoch's marker is to be persisted */
} part;

struct st_moffsets {
    part **parts; /* owned, each owned; sorted by (topic, partition) */
    size_t nparts, cap;
    part *last_added; /* borrowed from parts: add()'s one-entry cache */
};

static int64_t run_end(const st_mrun *r)
{
    return r->src_start + r->count;
}

st_moffsets *st_moffsets_new(void)
{
    return calloc(1, sizeof(st_moffsets));
}

void st_moffsets_free(st_moffsets *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nparts; i++) {
        free(m->parts[i]->topic);
        free(m->parts[i]->runs);
        free(m->parts[i]);
    }
    free(m->parts);
    free(m);
}

static int part_cmp(const char *topic, int32_t partition, const part *p)
{
    int c = strcmp(topic, p->topic);
    if (c)
        return c;
    return partition < p->partition ? -1 : partition > p->partition ? 1 : 0;
}

/* Index of (topic, partition), or where it would be inserted with *found false. */
static size_t part_search(const st_moffsets *m, const char *topic, int32_t partition, bool *found)
{
    size_t lo = 0, hi = m->nparts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = part_cmp(topic, partition, m->parts[mid]);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

static part *part_find(const st_moffsets *m, const char *topic, int32_t partition)
{
    bool found;
    size_t i = part_search(m, topic, partition, &found);
    return found ? m->parts[i] : NULL;
}

/* Finds or creates; NULL only when out of memory. */
static part *part_get(st_moffsets *m, const char *topic, int32_t partition)
{
    bool found;
    size_t i = part_search(m, topic, partition, &found);
    if (found)
        return m->parts[i];
    if (m->nparts == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        part **grown = realloc(m->parts, cap * sizeof *grown);
        if (!grown)
            return NULL;
        m->parts = grown;
        m->cap = cap;
    }
    part *p = calloc(1, sizeof *p);
    if (!p || !(p->topic = strdup(topic))) {
        free(p);
        return NULL;
    }
    p->partition = partition;
    p->floor = -1;
    memmove(&m->parts[i + 1], &m->parts[i], (m->nparts - i) * sizeof *m->parts);
    m->parts[i] = p;
    m->nparts++;
    return p;
}

static int runs_reserve(part *p, size_t extra)
{
    if (p->nruns + extra <= p->cap)
        return 0;
    size_t cap = p->cap ? p->cap * 2 : 4;
    while (cap < p->nruns + extra)
        cap *= 2;
    st_mrun *grown = realloc(p->runs, cap * sizeof *grown);
    if (!grown)
        return -1;
    p->runs = grown;
    p->cap = cap;
    return 0;
}

static void mark_dirty(part *p, size_t idx)
{
    if (!p->dirty || idx < p->dirty_from)
        p->dirty_from = idx;
    p->dirty = true;
}

void st_moffsets_add(st_moffsets *m, const char *topic, int32_t partition, int64_t src, int64_t tgt)
{
    if (src < 0 || tgt < 0 || src == INT64_MAX || tgt == INT64_MAX) {
        st_debug("%s-%" PRId32 ": ignoring mapping %" PRId64 " -> %" PRId64 " (not an offset)",
                 topic, partition, src, tgt);
        return;
    }
    part *p = m->last_added;
    if (!p || p->partition != partition || strcmp(p->topic, topic) != 0)
        p = part_get(m, topic, partition);
    if (!p) {
        st_error("%s-%" PRId32 ": out of memory: source offset %" PRId64
                 " is not in the offset map",
                 topic, partition, src);
        return;
    }
    m->last_added = p;
    if (p->nruns > 0) {
        st_mrun *last = &p->runs[p->nruns - 1];
        if (src < run_end(last)) {
            /* A redelivered or out-of-order report: the map already covers it. */
            st_debug("%s-%" PRId32 ": ignoring source offset %" PRId64 ", mapped up to %" PRId64,
                     topic, partition, src, run_end(last));
            return;
        }
        if (src == run_end(last) && tgt == last->tgt_start + last->count) {
            last->count++;
            mark_dirty(p, p->nruns - 1);
            return;
        }
    }
    if (runs_reserve(p, 1)) {
        st_error("%s-%" PRId32 ": out of memory: source offset %" PRId64
                 " is not in the offset map",
                 topic, partition, src);
        return;
    }
    p->runs[p->nruns] = (st_mrun){src, tgt, 1};
    mark_dirty(p, p->nruns);
    p->nruns++;
}

/* Index of the last run with src_start <= s, or -1 when s precedes every run. */
static ptrdiff_t run_floor(const part *p, int64_t s)
{
    size_t lo = 0, hi = p->nruns;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->runs[mid].src_start <= s)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (ptrdiff_t)lo - 1;
}

int st_moffsets_translate(const st_moffsets *m, const char *topic, int32_t partition, int64_t s,
                          int64_t *out, bool *beyond)
{
    const part *p = part_find(m, topic, partition);
    *beyond = false;
    if (!p || p->nruns == 0)
        return ST_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    ptrdiff_t i = run_floor(p, s);
    if (i < 0)
        return ST_ERR_OFFSET_OUT_OF_RANGE;
    const st_mrun *r = &p->runs[i];
    if (s < run_end(r)) {
        *out = r->tgt_start + (s - r->src_start);
    } else if ((size_t)i + 1 < p->nruns) {
        *out = p->runs[i + 1].tgt_start; /* in a source gap */
    } else {
        *out = r->tgt_start + r->count;
        *beyond = s > run_end(r);
    }
    return ST_ERR_NONE;
}

bool st_moffsets_contains(const st_moffsets *m, const char *topic, int32_t partition, int64_t s)
{
    const part *p = part_find(m, topic, partition);
    if (!p || p->nruns == 0)
        return false;
    ptrdiff_t i = run_floor(p, s);
    return i >= 0 && s < run_end(&p->runs[i]);
}

bool st_moffsets_position(const st_moffsets *m, const char *topic, int32_t partition,
                          int64_t *next_src, int64_t *next_tgt)
{
    const part *p = part_find(m, topic, partition);
    if (!p || p->nruns == 0)
        return false;
    const st_mrun *last = &p->runs[p->nruns - 1];
    *next_src = run_end(last);
    *next_tgt = last->tgt_start + last->count;
    return true;
}

void st_moffsets_take_dirty(st_moffsets *m, st_moffsets_run_fn fn, void *arg)
{
    for (size_t i = 0; i < m->nparts; i++) {
        part *p = m->parts[i];
        if (!p->dirty)
            continue;
        for (size_t r = p->dirty_from; r < p->nruns; r++)
            fn(arg, p->topic, p->partition, &p->runs[r]);
        p->dirty = false;
        p->dirty_from = 0;
    }
}

void st_moffsets_each(const st_moffsets *m, st_moffsets_part_fn fn, void *arg)
{
    for (size_t i = 0; i < m->nparts; i++)
        fn(arg, m->parts[i]->topic, m->parts[i]->partition, m->parts[i]->runs, m->parts[i]->nruns);
}

size_t st_moffsets_encode_key(const char *source_alias, const char *topic, int32_t partition,
                              int64_t src_start, char *out, size_t cap)
{
    /* "<partition>\0<src_start>": one key per run, so compaction keeps every run's
     * latest length rather than only a partition's last run. */
    char num[48];
    int numlen = snprintf(num, sizeof num, "%" PRId32 "%c%" PRId64, partition, '\0', src_start);
    size_t alen = strlen(source_alias), tlen = strlen(topic);
    size_t len = alen + 1 + tlen + 1 + (size_t)numlen;
    if (len > cap)
        return 0;
    memcpy(out, source_alias, alen + 1); /* with its NUL: the separator */
    memcpy(out + alen + 1, topic, tlen + 1);
    memcpy(out + alen + 1 + tlen + 1, num, (size_t)numlen);
    return len;
}

static void put_be64(uint8_t *out, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)u;
        u >>= 8;
    }
}

static int64_t get_be64(const uint8_t *in)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | in[i];
    return (int64_t)u;
}

void st_moffsets_encode_value(const st_mrun *run, uint8_t out[ST_MIRROR_VALUE_LEN])
{
    put_be64(out, run->src_start);
    put_be64(out + 8, run->tgt_start);
    put_be64(out + 16, run->count);
}

/*
 * Puts `r` in p->runs. A run with the same src_start is replaced; any other overlap is
 * resolved for the newer record (the older neighbour keeps only what `r` does not cover),
 * so the runs stay sorted and disjoint whatever the topic replays.
 */
static int insert_run(part *p, st_mrun r)
{
    int64_t end = run_end(&r);
    /* lo: first run ending after r starts; hi: first run starting at or after r's end */
    size_t lo = 0, hi = p->nruns;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (run_end(&p->runs[mid]) <= r.src_start)
            lo = mid + 1;
        else
            hi = mid;
    }
    hi = lo;
    while (hi < p->nruns && p->runs[hi].src_start < end)
        hi++;
    st_mrun pieces[3];
    size_t n = 0;
    if (lo < hi && p->runs[lo].src_start < r.src_start) {
        pieces[n] = p->runs[lo];
        pieces[n++].count = r.src_start - p->runs[lo].src_start;
    }
    pieces[n++] = r;
    if (lo < hi && p->runs[hi - 1].src_start != r.src_start && run_end(&p->runs[hi - 1]) > end) {
        const st_mrun *old = &p->runs[hi - 1];
        pieces[n++] = (st_mrun){end, old->tgt_start + (end - old->src_start), run_end(old) - end};
    }
    size_t replaced = hi - lo;
    if (n > replaced && runs_reserve(p, n - replaced))
        return ST_ERR__NOMEM;
    memmove(&p->runs[lo + n], &p->runs[hi], (p->nruns - hi) * sizeof *p->runs);
    memcpy(&p->runs[lo], pieces, n * sizeof *pieces);
    p->nruns = p->nruns - replaced + n;
    if (p->dirty)
        mark_dirty(p, lo);
    return 0;
}

/* Moves p to `epoch` if it is newer: its runs belong to an older incarnation. false when
 * the record's epoch is older than p's (the record is to be ignored). */
static bool epoch_reached(part *p, int64_t epoch)
{
    if (epoch < p->epoch)
        return false;
    if (epoch > p->epoch) {
        p->epoch = epoch;
        p->nruns = 0;
        p->floor = -1;
        p->dirty = false;
        p->dirty_from = 0;
    }
    return true;
}

int st_moffsets_load_record(st_moffsets *m, const char *source_alias, const void *key,
                            size_t keylen, const void *value, size_t valuelen)
{
    if (!key)
        return ST_ERR__MALFORMED;
    const char *k = key, *end = k + keylen;
    const char *sep1 = memchr(k, '\0', keylen);
    const char *sep2 = sep1 ? memchr(sep1 + 1, '\0', (size_t)(end - sep1 - 1)) : NULL;
    const char *sep3 = sep2 ? memchr(sep2 + 1, '\0', (size_t)(end - sep2 - 1)) : NULL;
    if (!sep3 || sep1 == k || sep2 == sep1 + 1 || sep3 == sep2 + 1 || sep3 - sep2 - 1 > 10 ||
        sep3 + 1 == end || end - sep3 - 1 > 20)
        return ST_ERR__MALFORMED;
    int64_t partition = 0, key_src = 0;
    for (const char *c = sep2 + 1; c < sep3; c++) {
        if (*c < '0' || *c > '9')
            return ST_ERR__MALFORMED;
        partition = partition * 10 + (*c - '0');
    }
    bool marker = sep3[1] == 'e'; /* "e<epoch>": an epoch's start */
    for (const char *c = sep3 + 1 + marker; c < end; c++) {
        if (*c < '0' || *c > '9' || key_src > (INT64_MAX - 9) / 10)
            return ST_ERR__MALFORMED;
        key_src = key_src * 10 + (*c - '0');
    }
    if (partition > INT32_MAX || (marker && sep3 + 2 == end))
        return ST_ERR__MALFORMED;
    if (strcmp(k, source_alias) != 0)
        return 1;
    const uint8_t *v = value;
    if (marker) {
        if (!value || valuelen != 8 || key_src < 1 || get_be64(v) < 0)
            return ST_ERR__MALFORMED;
        part *p = part_get(m, sep1 + 1, (int32_t)partition);
        if (!p)
            return ST_ERR__NOMEM;
        if (epoch_reached(p, key_src))
            p->floor = get_be64(v);
        return 0;
    }
    if (!value || (valuelen != ST_MIRROR_VALUE_LEN && valuelen != ST_MIRROR_VALUE_LEN_EPOCH))
        return ST_ERR__MALFORMED;
    st_mrun r = {get_be64(v), get_be64(v + 8), get_be64(v + 16)};
    int64_t epoch = valuelen == ST_MIRROR_VALUE_LEN_EPOCH ? get_be64(v + 24) : 0;
    if (r.src_start != key_src || r.src_start < 0 || r.tgt_start < 0 || r.count < 1 ||
        r.src_start > INT64_MAX - r.count || r.tgt_start > INT64_MAX - r.count || epoch < 0)
        return ST_ERR__MALFORMED;
    part *p = part_get(m, sep1 + 1, (int32_t)partition);
    if (!p)
        return ST_ERR__NOMEM;
    if (!epoch_reached(p, epoch))
        return 0; /* an older incarnation's run */
    return insert_run(p, r);
}

int st_moffsets_put_run(st_moffsets *m, const char *topic, int32_t partition, const st_mrun *run)
{
    if (run->src_start < 0 || run->tgt_start < 0 || run->count < 1)
        return ST_ERR__MALFORMED;
    part *p = part_get(m, topic, partition);
    if (!p)
        return ST_ERR__NOMEM;
    mark_dirty(p, 0);
    int rc = insert_run(p, *run);
    mark_dirty(p, 0); /* every run of the partition: the new one may sit anywhere */
    return rc;
}

int64_t st_moffsets_epoch(const st_moffsets *m, const char *topic, int32_t partition,
                          int64_t *floor)
{
    const part *p = part_find(m, topic, partition);
    if (floor)
        *floor = p ? p->floor : -1;
    return p ? p->epoch : 0;
}

int64_t st_moffsets_new_epoch(st_moffsets *m, const char *topic, int32_t partition, int64_t floor)
{
    part *p = part_get(m, topic, partition);
    if (!p)
        return -1;
    epoch_reached(p, p->epoch + 1);
    p->floor = floor;
    p->epoch_dirty = true;
    if (m->last_added == p)
        m->last_added = NULL;
    return p->epoch;
}

void st_moffsets_take_epochs(st_moffsets *m, st_moffsets_epoch_fn fn, void *arg)
{
    for (size_t i = 0; i < m->nparts; i++) {
        part *p = m->parts[i];
        if (p->epoch_dirty)
            fn(arg, p->topic, p->partition, p->epoch, p->floor);
        p->epoch_dirty = false;
    }
}

void st_moffsets_encode_value_epoch(const st_mrun *run, int64_t epoch,
                                    uint8_t out[ST_MIRROR_VALUE_LEN_EPOCH])
{
    st_moffsets_encode_value(run, out);
    put_be64(out + 24, epoch);
}

size_t st_moffsets_encode_epoch_key(const char *source_alias, const char *topic, int32_t partition,
                                    int64_t epoch, char *out, size_t cap)
{
    char num[48];
    int numlen = snprintf(num, sizeof num, "%" PRId32 "%ce%" PRId64, partition, '\0', epoch);
    size_t alen = strlen(source_alias), tlen = strlen(topic);
    size_t len = alen + 1 + tlen + 1 + (size_t)numlen;
    if (len > cap)
        return 0;
    memcpy(out, source_alias, alen + 1);
    memcpy(out + alen + 1, topic, tlen + 1);
    memcpy(out + alen + 1 + tlen + 1, num, (size_t)numlen);
    return len;
}

void st_moffsets_encode_floor(int64_t floor, uint8_t out[8])
{
    put_be64(out, floor);
}

void st_moffsets_trim(st_moffsets *m, const char *topic, int32_t partition, int64_t src_floor)
{
    part *p = part_find(m, topic, partition);
    if (!p || p->nruns < 2)
        return;
    size_t drop = 0;
    while (drop + 1 < p->nruns && run_end(&p->runs[drop]) <= src_floor)
        drop++;
    if (!drop)
        return;
    memmove(p->runs, &p->runs[drop], (p->nruns - drop) * sizeof *p->runs);
    p->nruns -= drop;
    p->dirty_from = p->dirty_from > drop ? p->dirty_from - drop : 0;
}
