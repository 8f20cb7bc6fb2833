/*
 * Fetch (API key 1), versions 4..11, and the long-poll waiters.
 *
 * A fetch is decoded once into a `fetch`: its topics (names copied, so they outlive
 * nothing but the fetch itself) and a flat array of partitions. Evaluating it
 * (collect) looks each topic up once and asks the log for each partition's bytes as a
 * file slice; answering writes the response and splices every slice in with
 * st_resp_add_file, so record bytes go from the segment file to the socket with
 * sendfile and are never copied here.
 *
 * Long poll: when the bytes found are fewer than min_bytes and max_wait_ms > 0 (and
 * nothing went wrong), the fetch is parked: the slices are released, the request is
 * kept (ST_REQ_DEFERRED) and a timer is armed for max_wait_ms.
 *
 *     handler ──collect──> enough / error / no wait ──> answer now (ST_REQ_DONE)
 *        │
 *        └──> PARKED ──st_fetch_wake reaches min_bytes──┐
 *               │  ──timer fires────────────────────────┼──> collect, answer, free
 *               │  ──client gone (req->conn NULL)───────┤
 *               └──st_fetch_shutdown────────────────────┘
 *
 * st_fetch_wake runs after every successful append, so it must be cheap: a parked fetch
 * registers on each partition it waits for (one link per partition in a wait set keyed
 * by the partition's log, broker/request/waitset.h), so an append walks only the fetches
 * waiting on its partition, and only that partition is re-measured. A fetch that is
 * ready is woken (st_req_wake) and answered on a turn of its own, charged to its own
 * client; the response is only ever built once, then.
 *
 * Fetch sessions (KIP-227, v7+) are not kept: every fetch is answered as a full,
 * sessionless one (session_id 0), which clients accept; an incremental fetch naming a
 * session gets FETCH_SESSION_ID_NOT_FOUND and falls back to full fetches.
 *
 * Authorization: READ on each topic, decided once when the fetch is decoded (a parked
 * fetch keeps that answer). A denied topic's partitions get TOPIC_AUTHORIZATION_FAILED
 * whether the topic exists or not, and do not stop the others from long-polling; as in
 * Kafka, a fetch whose every partition is denied is answered at once.
 *
 * Loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/api/handlers.h"
#include "broker/txn/txn_partition.h"
#include "broker/broker_int.h"
#include "broker/shard.h"
#include "broker/proto/codec.h"
#include "broker/request/waitset.h"
#include "broker/security/security.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/logging.h"

typedef struct fetch_topic {
    const char *name; /* NUL-terminated, in the fetch's allocation */
    size_t len;
    int32_t first, nparts; /* its partitions: parts[first .. first+nparts) */
    bool denied;           /* no READ on it: its partitions answer TOPIC_AUTHORIZATION_FAILED */
} fetch_topic;

typedef struct fetch_part {
    int32_t topic; /* index into topics */
    int32_t partition;
    int64_t fetch_offset;
    int32_t max_bytes;
    size_t avail;                 /* while parked: bytes last seen for this partition */
    const st_log *log;            /* set by collect: the key it waits on (never dereferenced) */
    int32_t current_leader_epoch; /* v9+: -1 unknown (no check) */
    /* Set by collect, consumed by write_response. */
    int16_t error;
    int64_t high_watermark;
    int64_t last_stable_offset;
    int64_t log_start_offset;
    st_log_slice slice; /* slice.file is a reference we own until it is added */
} fetch_part;

typedef struct fetch {
    st_req *req;
    st_broker *b;
    st_shard *shard; /* the loop it runs on: its waiters and timer */
    st_timer timer;
    struct fetch *prev, *next; /* in the waiters list while parked */
    bool parked;               /* in the waiters list */
    bool waking;               /* st_fetch_wake found it ready (wake_next chains them) */
    struct fetch *wake_next;
    int32_t max_wait_ms;
    int32_t min_bytes;
    int32_t max_bytes;
    bool read_committed; /* isolation_level 1: up to the last stable offset */
    int16_t error;       /* top-level (v7+) */
    size_t avail;        /* sum of parts[].avail while parked */
    int32_t ntopics, nparts;
    int32_t nallowed; /* partitions of topics the caller may READ */
    int64_t owed_ms;  /* > 0: over consumer_byte_rate already; answered empty, throttled */
    fetch_topic *topics;
    fetch_part *parts;
    st_wait_link *links; /* one per part: chained in the wait set while parked */
} fetch;

struct st_fetch_waiters {
    fetch *head; /* every parked fetch (shutdown answers them) */
    size_t count;
    st_waitset *by_partition;
};

/* What the first walk over a request learns: enough to size one allocation. */
typedef struct fetch_shape {
    int32_t ntopics, nparts;
    size_t name_bytes;
} fetch_shape;

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* The request's partition fields, by version. */
static size_t part_min_size(int16_t v)
{
    return 4 + (v >= 9 ? 4 : 0) + 8 + (v >= 5 ? 8 : 0) + 4;
}

/* First walk: checks the body parses and measures it. Takes a copy of the cursor. */
static int fetch_scan(st_rd rd, int16_t v, fetch_shape *shape)
{
    fetch_shape s = {0, 0, 0};
    st_rd_skip(&rd, 4 + 4 + 4 + 4 + 1); /* replica, max_wait, min_bytes, max_bytes, iso */
    if (v >= 7)
        st_rd_skip(&rd, 4 + 4); /* session_id, session_epoch */
    int32_t ntopics = st_rd_array(&rd, false, 6);
    for (int32_t t = 0; t < ntopics && !rd.err; t++) {
        st_str name = st_rd_str(&rd, false);
        int32_t n = st_rd_array(&rd, false, part_min_size(v));
        st_rd_skip(&rd, (size_t)(n > 0 ? n : 0) * part_min_size(v));
        if (name.len > 0)
            s.name_bytes += (size_t)name.len;
        s.name_bytes++;
        if (n > 0)
            s.nparts += n;
    }
    s.ntopics = ntopics > 0 ? ntopics : 0;
    if (v >= 7) {
        int32_t nforgotten = st_rd_array(&rd, false, 6);
        for (int32_t t = 0; t < nforgotten && !rd.err; t++) {
            st_rd_str(&rd, false);
            int32_t n = st_rd_array(&rd, false, 4);
            st_rd_skip(&rd, (size_t)(n > 0 ? n : 0) * 4);
        }
    }
    if (v >= 11)
        st_rd_str(&rd, false); /* rack_id */
    *shape = s;
    return rd.err ? ST_ERR__MALFORMED : 0;
}

/* Allocates a fetch sized for `shape` in one block, so freeing it is one free().
 * *names is where the topic names go. */
static fetch *fetch_alloc(const fetch_shape *shape, char **names)
{
    size_t parts_at = align8(sizeof(fetch));
    size_t topics_at = parts_at + align8((size_t)shape->nparts * sizeof(fetch_part));
    size_t links_at = topics_at + align8((size_t)shape->ntopics * sizeof(fetch_topic));
    size_t names_at = links_at + (size_t)shape->nparts * sizeof(st_wait_link);
    char *block = calloc(1, names_at + shape->name_bytes);
    if (!block)
        abort(); /* as st_buf: a broker that cannot allocate is done */
    fetch *f = (fetch *)(void *)block;
    f->parts = (fetch_part *)(void *)(block + parts_at);
    f->topics = (fetch_topic *)(void *)(block + topics_at);
    f->links = (st_wait_link *)(void *)(block + links_at);
    *names = block + names_at;
    return f;
}

/* Second walk: fills f from req->rd (fetch_scan already proved it parses and sized f
 * for it). */
static void fetch_decode(fetch *f, st_rd *rd, int16_t v, char *names)
{
    st_rd_i32(rd); /* replica_id: a single node has no followers */
    f->max_wait_ms = st_rd_i32(rd);
    f->min_bytes = st_rd_i32(rd);
    f->max_bytes = st_rd_i32(rd);
    f->read_committed = st_rd_i8(rd) == 1; /* isolation_level */
    if (v >= 7) {
        st_rd_i32(rd); /* session_id: any; we never keep one (see the top) */
        int32_t epoch = st_rd_i32(rd);
        /* Epoch 0 (open a session) and -1 (sessionless) are full fetches; anything
         * else is an incremental fetch on a session we cannot have. */
        if (epoch != 0 && epoch != -1)
            f->error = ST_ERR_FETCH_SESSION_ID_NOT_FOUND;
    }
    int32_t ntopics = st_rd_array(rd, false, 6);
    for (int32_t t = 0; t < ntopics && !rd->err; t++) {
        fetch_topic *ft = &f->topics[f->ntopics++];
        st_str name = st_rd_str(rd, false);
        size_t len = name.len > 0 ? (size_t)name.len : 0;
        if (len)
            memcpy(names, name.ptr, len);
        names[len] = '\0';
        ft->name = names;
        ft->len = len;
        ft->denied = !st_req_allowed(f->req, names, len);
        names += len + 1;
        ft->first = f->nparts;
        int32_t n = st_rd_array(rd, false, part_min_size(v));
        for (int32_t p = 0; p < n; p++) {
            fetch_part *fp = &f->parts[f->nparts++];
            fp->topic = t;
            fp->partition = st_rd_i32(rd);
            fp->current_leader_epoch = v >= 9 ? st_rd_i32(rd) : -1; /* KIP-320 */
            fp->fetch_offset = st_rd_i64(rd);
            if (v >= 5)
                st_rd_i64(rd); /* log_start_offset: followers only */
            fp->max_bytes = st_rd_i32(rd);
        }
        ft->nparts = f->nparts - ft->first;
        if (!ft->denied)
            f->nallowed += ft->nparts;
    }
    if (v >= 7) {
        /* forgotten_topics_data only edits a session, which we never keep. */
        int32_t nforgotten = st_rd_array(rd, false, 6);
        for (int32_t t = 0; t < nforgotten && !rd->err; t++) {
            st_rd_str(rd, false);
            int32_t n = st_rd_array(rd, false, 4);
            st_rd_skip(rd, (size_t)(n > 0 ? n : 0) * 4);
        }
    }
    if (v >= 11)
        st_rd_str(rd, false); /* rack_id: one broker, one rack */
}

static void release_slices(fetch *f)
{
    for (int32_t i = 0; i < f->nparts; i++) {
        st_fileref_unref(f->parts[i].slice.file);
        f->parts[i].slice = (st_log_slice){NULL, 0, 0};
    }
}

/* Reads every partition into parts[].slice, within partition_max_bytes and the
 * response-wide max_bytes, except that the first partition with data gets at least one
 * whole batch (KIP-74). Returns the bytes found; *any_error says a partition failed. */
static size_t collect(fetch *f, bool *any_error)
{
    st_broker *b = f->b;
    size_t total = 0;
    int64_t remaining = f->max_bytes;
    *any_error = false;
    for (int32_t t = 0; t < f->ntopics; t++) {
        fetch_topic *ft = &f->topics[t];
        st_topic *topic = ft->denied ? NULL : st_topics_find(b->topics, ft->name, ft->len);
        for (int32_t i = ft->first; i < ft->first + ft->nparts; i++) {
            fetch_part *p = &f->parts[i];
            p->slice = (st_log_slice){NULL, 0, 0};
            p->log = NULL;
            if (ft->denied) {
                /* Not an error that ends the long poll: the allowed partitions may still
                 * wait for data (Kafka answers the denied ones alongside them). */
                p->error = ST_ERR_TOPIC_AUTHORIZATION_FAILED;
                p->high_watermark = p->last_stable_offset = p->log_start_offset = -1;
                continue;
            }
            if (!topic || p->partition < 0 || p->partition >= st_topic_partition_count(topic)) {
                p->error = ST_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                p->high_watermark = p->last_stable_offset = p->log_start_offset = -1;
                *any_error = true;
                continue;
            }
            st_log *log = st_topic_log(topic, p->partition);
            p->log = log;
            p->error = (int16_t)st_log_check_leader_epoch(log, p->current_leader_epoch);
            if (p->error) { /* fenced or ahead of us: the client refreshes its metadata */
                p->log = NULL;
                p->high_watermark = p->last_stable_offset = p->log_start_offset = -1;
                *any_error = true;
                continue;
            }
            p->high_watermark = st_log_end_offset(log);
            p->last_stable_offset = st_log_last_stable_offset(log);
            p->log_start_offset = st_log_start_offset(log);
            /* read_committed stops at the first offset of the earliest open transaction */
            int64_t upper = f->read_committed ? p->last_stable_offset : p->high_watermark;
            if (f->owed_ms > 0)
                continue; /* throttled: offsets only, no records */
            int64_t limit = p->max_bytes > 0 ? p->max_bytes : 0;
            if (limit > remaining)
                limit = remaining > 0 ? remaining : 0;
            if (total > 0 && limit == 0)
                continue; /* the response is full */
            if (p->fetch_offset == p->high_watermark || p->fetch_offset == upper)
                continue; /* nothing new: skip the index lookup */
            int rc = st_log_read_upto(log, p->fetch_offset, upper, (size_t)limit, &p->slice);
            if (rc) {
                /* An internal code (I/O) never goes on the wire. */
                p->error =
                    (int16_t)(rc < ST_ERR_UNKNOWN_SERVER_ERROR ? ST_ERR_KAFKA_STORAGE_ERROR : rc);
                p->slice = (st_log_slice){NULL, 0, 0};
                *any_error = true;
                continue;
            }
            /* st_log_read returns at least one batch; only the first partition with
             * data may go over the limits with it. */
            if (total > 0 && p->slice.len > (size_t)limit) {
                st_fileref_unref(p->slice.file);
                p->slice = (st_log_slice){NULL, 0, 0};
                continue;
            }
            total += p->slice.len;
            remaining -= (int64_t)p->slice.len;
        }
    }
    return total;
}

/* A read_committed answer's aborted_transactions: those overlapping the records sent
 * (from the fetch offset to the last stable offset), so the consumer drops their
 * records; empty for read_uncommitted. */
static void write_aborted(fetch *f, const fetch_topic *ft, const fetch_part *p, st_buf *out)
{
    st_topic *topic = f->read_committed && p->slice.len && !p->error
                          ? st_topics_find(f->b->topics, ft->name, ft->len)
                          : NULL;
    st_log *log = topic && p->partition < st_topic_partition_count(topic)
                      ? st_topic_log(topic, p->partition)
                      : NULL;
    size_t n = log ? st_log_aborted_txns(log, p->fetch_offset, p->last_stable_offset, NULL, 0) : 0;
    if (n == 0) {
        st_wr_array(out, false, 0);
        return;
    }
    st_txn_aborted *list = malloc(n * sizeof *list);
    if (!list)
        abort(); /* as st_buf */
    n = st_log_aborted_txns(log, p->fetch_offset, p->last_stable_offset, list, n);
    st_wr_array(out, false, (int32_t)n);
    for (size_t i = 0; i < n; i++) {
        st_buf_put_i64(out, list[i].producer_id);
        st_buf_put_i64(out, list[i].first_offset);
    }
    free(list);
}

/* Writes the response body into req's response from what collect found; hands every
 * slice to the response (the fetch's references are dropped). */
static void write_response(fetch *f, st_req *req)
{
    st_resp *resp = req->resp;
    int16_t v = req->api_version;
    st_buf *out = st_resp_buf(resp);
    st_req_throttle_field(req); /* the pipeline puts the throttle owed in */
    if (v >= 7) {
        st_buf_put_i16(out, f->error);
        st_buf_put_i32(out, 0); /* session_id: no session */
    }
    if (f->error) {
        st_wr_array(out, false, 0);
        st_req_owes(req, f->owed_ms);
        return;
    }
    uint64_t bytes = 0;
    st_wr_array(out, false, f->ntopics);
    for (int32_t t = 0; t < f->ntopics; t++) {
        fetch_topic *ft = &f->topics[t];
        st_wr_str(out, false, ft->name, (int32_t)ft->len);
        st_wr_array(out, false, ft->nparts);
        uint64_t topic_bytes = 0;
        for (int32_t i = ft->first; i < ft->first + ft->nparts; i++) {
            fetch_part *p = &f->parts[i];
            st_buf_put_i32(out, p->partition);
            st_buf_put_i16(out, p->error);
            st_buf_put_i64(out, p->high_watermark);
            if (v >= 4)
                st_buf_put_i64(out, p->last_stable_offset);
            if (v >= 5)
                st_buf_put_i64(out, p->log_start_offset);
            if (v >= 4)
                write_aborted(f, ft, p, out);
            if (v >= 11)
                st_buf_put_i32(out, -1); /* preferred_read_replica: this one */
            /* records: a length, then the file bytes spliced in (never null: some
             * clients reject a negative record set size). */
            st_buf_put_i32(out, (int32_t)p->slice.len);
            if (p->slice.len) {
                st_resp_add_file(resp, p->slice.file, p->slice.pos, p->slice.len);
                topic_bytes += p->slice.len;
            }
            st_fileref_unref(p->slice.file);
            p->slice = (st_log_slice){NULL, 0, 0};
        }
        st_topic *topic = topic_bytes ? st_topics_find(f->b->topics, ft->name, ft->len) : NULL;
        if (topic) /* per-topic fetch rate (topics.stats) */
            st_topic_count_out(topic, topic_bytes);
        bytes += topic_bytes;
    }
    f->shard->stats.bytes_out += bytes;
    /* consumer_byte_rate: the bytes sent are charged (recorded first, then checked, as
     * Kafka); a fetch that found the client already over answered empty (owed_ms). */
    if (f->owed_ms > 0)
        st_req_owes(req, f->owed_ms);
    else
        st_req_charge(req, (int64_t)bytes);
}

static void waiters_remove(st_fetch_waiters *w, fetch *f)
{
    if (!f->parked)
        return;
    for (int32_t i = 0; i < f->nparts; i++)
        st_waitset_remove(w->by_partition, &f->links[i]);
    if (f->prev)
        f->prev->next = f->next;
    else
        w->head = f->next;
    if (f->next)
        f->next->prev = f->prev;
    f->prev = f->next = NULL;
    f->parked = false;
    w->count--;
}

/* The wait is over (min_bytes reached, the timer, the partition went away): out of the
 * waiters, and the pipeline resumes the request on a turn of its own (fetch_resume),
 * where it is answered and charged to its own client — never inside the producer's
 * request that woke it. */
static void ready(fetch *f)
{
    waiters_remove(f->shard->fetch_waiters, f);
    st_timer_stop(f->shard->loop, &f->timer);
    st_req_wake(f->req);
}

/* Answers a fetch out of the waiters list, and frees it. */
static void answer(fetch *f)
{
    st_req *req = f->req;
    req->state = NULL;
    if (req->conn) { /* with no connection the response would be dropped unread */
        bool any_error;
        collect(f, &any_error);
        write_response(f, req);
    }
    free(f);
}

/* The row's resume hook: a woken fetch answers now. */
static st_req_result fetch_resume(st_req *req)
{
    answer(req->state);
    return ST_REQ_DONE;
}

static void on_timer(st_loop *loop, st_timer *timer)
{
    ready(timer->arg);
}

static void park(fetch *f, st_fetch_waiters *w)
{
    f->avail = 0; /* remeasure keeps it as the sum of the parts */
    for (int32_t i = 0; i < f->nparts; i++) {
        fetch_part *p = &f->parts[i];
        p->avail = p->slice.len;
        f->avail += p->avail;
        /* Denied and missing partitions wait for nothing (collect set no log). */
        if (p->log && !f->topics[p->topic].denied)
            st_waitset_add(w->by_partition, &f->links[i], p->log, f, i);
    }
    release_slices(f);
    f->next = w->head;
    if (w->head)
        w->head->prev = f;
    w->head = f;
    w->count++;
    f->parked = true;
    f->req->state = f;      /* for the cancel hook */
    f->timer.cb = on_timer; /* the rest of the timer is zero (calloc) */
    f->timer.arg = f;
    st_timer_start(f->shard->loop, &f->timer, f->max_wait_ms);
}

st_req_result st_handle_fetch(st_req *req)
{
    st_broker *b = req->broker;
    int16_t v = req->api_version;
    fetch_shape shape;
    if (fetch_scan(req->rd, v, &shape))
        return ST_REQ_MALFORMED;
    char *names;
    fetch *f = fetch_alloc(&shape, &names);
    f->req = req;
    f->b = b;
    f->shard = req->shard;
    fetch_decode(f, &req->rd, v, names);
    if (req->rd.err) { /* fetch_scan said it parses; never answer half a request */
        free(f);
        return ST_REQ_MALFORMED;
    }

    /* Over consumer_byte_rate already: answer at once with no records and the time owed
     * (KIP-219). Checked before reading, never after, and the answer is capped to what
     * the quota allows in one measurement span (Kafka's getMaxValueInQuotaWindow) —
     * though always at least one batch (KIP-74) — so a fetch never runs up a throttle of
     * minutes and never starves. */
    f->owed_ms = st_req_quota_owed(req);
    double budget;
    if (st_req_quota_window(req, &budget) && budget < (double)f->max_bytes)
        f->max_bytes = budget < 1 ? 1 : (int32_t)budget;
    bool any_error = false;
    size_t total = f->error ? 0 : collect(f, &any_error);
    /* A fetch with no connection (fuzz harness, unit tests) is never parked: nobody
     * would ever read its answer. */
    size_t min_bytes = f->min_bytes > 0 ? (size_t)f->min_bytes : 0;
    bool all_denied = f->nparts > 0 && f->nallowed == 0; /* nothing to wait for */
    if (!f->error && !any_error && !all_denied && f->owed_ms == 0 && f->max_wait_ms > 0 &&
        total < min_bytes && req->conn && f->shard->fetch_waiters) {
        park(f, f->shard->fetch_waiters);
        return ST_REQ_DEFERRED;
    }
    write_response(f, req);
    free(f);
    return ST_REQ_DONE;
}

st_fetch_waiters *st_fetch_waiters_new(void)
{
    st_fetch_waiters *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    w->by_partition = st_waitset_new();
    return w;
}

void st_fetch_waiters_free(st_fetch_waiters *w)
{
    if (!w)
        return;
    /* st_fetch_shutdown should have answered everything while the loop was alive;
     * whatever is left is freed without touching the (maybe gone) loop. */
    fetch *left = w->head;
    st_waitset_free(w->by_partition);
    free(w);
    while (left) {
        fetch *f = left;
        left = f->next;
        st_warn("fetch waiters freed with a parked fetch (correlation id %d): dropping it",
                f->req->correlation_id);
        st_req *req = f->req;
        free(f);
        st_req_finish_silent(req);
    }
}

/* Re-measures one parked partition, whose log was just appended to. Returns true if
 * the fetch should be answered now: it reached min_bytes, or the log cannot serve the
 * offset any more (collect will say why). */
static bool remeasure(fetch *f, fetch_part *p, st_log *log)
{
    if (f->topics[p->topic].denied)
        return false; /* its data is not the caller's to wait for */
    /* read_committed waits for the last stable offset to move, not the end */
    int64_t end = f->read_committed ? st_log_last_stable_offset(log) : st_log_end_offset(log);
    size_t now = 0;
    if (f->min_bytes <= 1) {
        /* The usual consumer (fetch.min.bytes=1): any new offset is enough, no need
         * to ask the index how many bytes. */
        if (end != p->fetch_offset)
            return true;
    } else if (end != p->fetch_offset) {
        st_log_slice s;
        size_t limit = p->max_bytes > 0 ? (size_t)p->max_bytes : 0;
        if (st_log_read_upto(log, p->fetch_offset, end, limit, &s))
            return true;
        now = s.len;
        st_fileref_unref(s.file);
    }
    f->avail = f->avail - p->avail + now;
    p->avail = now;
    return f->avail >= (size_t)f->min_bytes;
}

void st_fetch_wake(st_shard *owner, st_log *log)
{
    st_fetch_waiters *w = owner->fetch_waiters;
    if (!w || !w->head)
        return;
    /* Collect first, wake after: waking takes a fetch's links out of the chain being
     * walked (a fetch may name the partition twice). */
    fetch *woken = NULL;
    for (st_wait_link *l = st_waitset_first(w->by_partition, log); l; l = st_waitset_next(l)) {
        fetch *f = l->owner;
        if (f->waking || !remeasure(f, &f->parts[l->index], log))
            continue;
        f->waking = true;
        f->wake_next = woken;
        woken = f;
    }
    while (woken) {
        fetch *f = woken;
        woken = f->wake_next;
        f->waking = false;
        ready(f);
    }
}

size_t st_fetch_parked(const st_shard *sh)
{
    return sh->fetch_waiters ? sh->fetch_waiters->count : 0;
}

/* The row's cancel hook: the client left, so the parked fetch goes now rather than at
 * max_wait_ms. */
static void fetch_cancel(st_req *req)
{
    fetch *f = req->state;
    if (!f)
        return;
    waiters_remove(f->shard->fetch_waiters, f);
    st_timer_stop(f->shard->loop, &f->timer);
    req->state = NULL;
    free(f);
    st_req_finish_silent(req);
}

const st_api_hooks st_fetch_hooks = {.cancel = fetch_cancel, .resume = fetch_resume};

void st_fetch_shutdown(st_shard *sh)
{
    st_fetch_waiters *w = sh->fetch_waiters;
    if (!w)
        return;
    /* Take the whole list first: answering may resume connections whose next
     * requests park new fetches, which are not ours to answer. */
    fetch *left = w->head;
    w->head = NULL;
    w->count = 0;
    while (left) {
        fetch *f = left;
        left = f->next;
        f->parked = false;
        st_timer_stop(sh->loop, &f->timer);
        st_req *req = f->req;
        answer(f);
        st_req_finish(req);
    }
}
