/* A partition's open and aborted transactions; see txn_partition.h. */
#include "broker/txn/txn_partition.h"

#include <stdlib.h>
#include <string.h>

#include "broker/log/batch.h"
#include "broker/log/records.h"
#include "broker/txn/txn_log.h"
#include "common/errors.h"

typedef struct open_txn {
    int64_t producer_id;
    int64_t first_offset;
} open_txn;

struct st_txn_partition {
    open_txn *open; /* unordered; few: one per producer with a transaction open */
    size_t nopen, open_cap;
    st_txn_aborted *aborted; /* in marker (= log) order */
    size_t naborted, aborted_cap;
};

st_txn_partition *st_txn_partition_new(void)
{
    return calloc(1, sizeof(st_txn_partition));
}

void st_txn_partition_free(st_txn_partition *p)
{
    if (!p)
        return;
    free(p->open);
    free(p->aborted);
    free(p);
}

/* Makes room for one more element in *arr (n used of *cap, each size bytes). */
static int grow(void **arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 8;
    void *g = realloc(*arr, c * size);
    if (!g)
        return -1;
    *arr = g;
    *cap = c;
    return 0;
}

static open_txn *find_open(const st_txn_partition *p, int64_t producer_id)
{
    for (size_t i = 0; i < p->nopen; i++)
        if (p->open[i].producer_id == producer_id)
            return &p->open[i];
    return NULL;
}

/* The marker of a control batch: 0 and *commit, or ST_ERR_CORRUPT_MESSAGE. */
static int read_marker(const uint8_t *batch, size_t size, bool *commit)
{
    st_record_iter it;
    char why[160];
    st_record r;
    int rc = st_records_open(&it, batch, size, why, sizeof why);
    if (rc == 0 && st_records_next(&it, &r) == 1 && st_txn_marker_key_decode(r.key, commit) == 0)
        rc = 0;
    else
        rc = ST_ERR_CORRUPT_MESSAGE;
    st_records_close(&it);
    return rc;
}

int st_txn_partition_on_batch(st_txn_partition *p, const uint8_t *batch, size_t size)
{
    st_batch_info info;
    if (st_batch_header(batch, size, &info) != 0)
        return ST_ERR_CORRUPT_MESSAGE;
    if (!(info.attributes & ST_BATCH_ATTR_TRANSACTIONAL) || info.producer_id < 0)
        return 0;
    open_txn *o = find_open(p, info.producer_id);
    if (!(info.attributes & ST_BATCH_ATTR_CONTROL)) {
        if (o)
            return 0; /* the transaction goes on */
        if (grow((void **)&p->open, p->nopen, &p->open_cap, sizeof *p->open))
            return -1;
        p->open[p->nopen++] = (open_txn){info.producer_id, info.base_offset};
        return 0;
    }
    bool commit;
    if (read_marker(batch, size, &commit))
        return ST_ERR_CORRUPT_MESSAGE;
    if (!o)
        return 0; /* a marker for a partition the transaction never wrote to: no data */
    if (!commit) {
        if (grow((void **)&p->aborted, p->naborted, &p->aborted_cap, sizeof *p->aborted))
            return -1;
        p->aborted[p->naborted++] =
            (st_txn_aborted){info.producer_id, o->first_offset, info.base_offset};
    }
    *o = p->open[--p->nopen];
    return 0;
}

int64_t st_txn_partition_lso(const st_txn_partition *p, int64_t high_watermark)
{
    int64_t lso = high_watermark;
    for (size_t i = 0; i < p->nopen; i++)
        if (p->open[i].first_offset < lso)
            lso = p->open[i].first_offset;
    return lso;
}

bool st_txn_partition_is_open(const st_txn_partition *p, int64_t producer_id, int64_t *first)
{
    const open_txn *o = find_open(p, producer_id);
    if (o && first)
        *first = o->first_offset;
    return o != NULL;
}

/* The first aborted entry whose marker is at or after offset. */
static size_t first_marker_at(const st_txn_partition *p, int64_t offset)
{
    size_t lo = 0, hi = p->naborted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->aborted[mid].last_offset < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t st_txn_partition_aborted(const st_txn_partition *p, int64_t from, int64_t upto,
                                st_txn_aborted *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = first_marker_at(p, from); i < p->naborted; i++) {
        if (p->aborted[i].first_offset >= upto)
            continue; /* began after the range (markers are ordered, first offsets not) */
        if (n < cap)
            out[n] = p->aborted[i];
        n++;
    }
    return n;
}

void st_txn_partition_trim(st_txn_partition *p, int64_t log_start)
{
    size_t drop = first_marker_at(p, log_start);
    if (!drop)
        return;
    memmove(p->aborted, p->aborted + drop, (p->naborted - drop) * sizeof *p->aborted);
    p->naborted -= drop;
}

void st_txn_partition_counts(const st_txn_partition *p, size_t *open, size_t *aborted)
{
    *open = p->nopen;
    *aborted = p->naborted;
}
