/* The single-broker transaction coordinator; see coordinator.h. */
#include "broker/txn/coordinator.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/api/handlers.h"
#include "broker/broker_int.h"
#include "broker/shard.h"
#include "broker/group/group.h"
#include "broker/log/log.h"
#include "broker/log/records.h"
#include "broker/txn/txn_log.h"
#include "broker/txn/txn_registry.h"
#include "broker/txn/txn_state.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/javahash.h"
#include "common/logging.h"

#define OFFSETS_TOPIC       "__consumer_offsets"
#define MAX_TXN_PARTITIONS  10000 /* partitions of one transaction */
#define MAX_PENDING_OFFSETS 10000 /* offsets one transaction holds */
#define LOAD_READ_BYTES     (1 << 20)

/* An offset committed inside a transaction, kept until it ends. All strings owned. */
typedef struct pending_offset {
    char *txn_id, *group, *topic, *metadata;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
} pending_offset;

struct st_txn_coord {
    st_broker *b;
    st_txn_registry *reg;
    st_txn_limits lim;
    pending_offset *pending;
    size_t npending, pending_cap;
};

/* ---- __transaction_state ---- */

static st_topic *state_topic(st_txn_coord *c, bool create)
{
    st_broker *b = c->b;
    size_t len = strlen(ST_TXN_STATE_TOPIC);
    st_topic *t = st_topics_find(b->topics, ST_TXN_STATE_TOPIC, len);
    if (t || !create)
        return t;
    char segment[32], why[256];
    snprintf(segment, sizeof segment, "%lld", (long long)b->cfg.offsets_segment_bytes);
    st_config_set configs[] = {{"cleanup.policy", "compact"}, {"segment.bytes", segment}};
    if (st_topics_create(b->topics, ST_TXN_STATE_TOPIC, b->cfg.offsets_topic_partitions, 1, configs,
                         2, false, why, sizeof why)) {
        st_error("cannot create %s (%d partitions): %s; transactions wait for it",
                 ST_TXN_STATE_TOPIC, b->cfg.offsets_topic_partitions, why);
        return NULL;
    }
    t = st_topics_find(b->topics, ST_TXN_STATE_TOPIC, len);
    st_info("created %s with %d partitions", ST_TXN_STATE_TOPIC,
            t ? st_topic_partition_count(t) : 0);
    return t;
}

static void flushed_quietly(void *arg, int err)
{
    if (err)
        st_error("flushing %s failed (%s): recent transaction changes may not survive a crash",
                 ST_TXN_STATE_TOPIC, st_err_name(err));
}

/* Appends m's state (or, with tombstone, its removal). 0 or COORDINATOR_NOT_AVAILABLE. */
static int16_t persist(st_txn_coord *c, const st_txn_meta *m, bool tombstone)
{
    st_topic *t = state_topic(c, true);
    if (!t || st_topic_partition_count(t) <= 0)
        return ST_ERR_COORDINATOR_NOT_AVAILABLE;
    const char *id = m->transactional_id;
    int32_t p = st_kafka_partition_for(id, strlen(id), st_topic_partition_count(t));
    st_buf key = ST_BUF_INIT, value = ST_BUF_INIT, batch = ST_BUF_INIT;
    st_txn_log_key_encode(&key, id);
    if (!tombstone)
        st_txn_log_value_encode(&value, m);
    int64_t now = st_wall_ms();
    st_batch_builder bb;
    st_batch_builder_init(&bb, &batch, 0, now, -1, -1, -1, 0);
    st_batch_builder_add(&bb, 0, now, (st_bytes){key.data, (int32_t)key.len},
                         tombstone ? (st_bytes){NULL, -1}
                                   : (st_bytes){value.data, (int32_t)value.len},
                         0, (st_bytes){NULL, 0});
    size_t size = st_batch_builder_finish(&bb);
    st_append_result res;
    st_log *log = st_topic_log(t, p);
    int rc = st_log_append(log, batch.data, size, now, &res);
    st_buf_free(&key);
    st_buf_free(&value);
    st_buf_free(&batch);
    if (rc) {
        st_error("transactional id \"%s\": writing its state to %s-%d failed (%s): %s", id,
                 ST_TXN_STATE_TOPIC, p, st_err_name(rc), res.why);
        return ST_ERR_COORDINATOR_NOT_AVAILABLE;
    }
    if (res.flush_needed)
        st_log_flush_async(log, flushed_quietly, NULL);
    return 0;
}

/* Applies every record of the batches in buf (len bytes read at `from`). Returns the
 * offset after the last whole batch. */
static int64_t load_batches(st_txn_coord *c, const uint8_t *buf, size_t len, int64_t from,
                            int32_t partition, size_t *records, size_t *skipped)
{
    int64_t next = from;
    for (size_t pos = 0; pos < len;) {
        st_batch_info info;
        if (st_batch_header(buf + pos, len - pos, &info))
            break;
        st_record_iter it;
        char why[200];
        if (!(info.attributes & ST_BATCH_ATTR_CONTROL) &&
            st_records_open(&it, buf + pos, (size_t)info.size, why, sizeof why) == 0) {
            st_record r;
            while (st_records_next(&it, &r) == 1) {
                if (r.offset < from)
                    continue;
                int rc = st_txn_registry_load(c->reg, r.key, r.value, why, sizeof why);
                (*records)++;
                if (rc == ST_ERR__MALFORMED && (*skipped)++ < 10)
                    st_warn("%s-%d offset %" PRId64 ": %s: skipped", ST_TXN_STATE_TOPIC, partition,
                            r.offset, why);
                else if (rc < 0 && rc != ST_ERR__MALFORMED)
                    abort(); /* out of memory, as st_buf */
            }
            st_records_close(&it);
        } else if (!(info.attributes & ST_BATCH_ATTR_CONTROL)) {
            st_records_close(&it);
            st_warn("%s-%d offset %" PRId64 ": %s: batch skipped", ST_TXN_STATE_TOPIC, partition,
                    info.base_offset, why);
        }
        next = info.base_offset + info.last_offset_delta + 1;
        pos += (size_t)info.size;
    }
    return next;
}

static int load_partition(st_txn_coord *c, st_log *log, int32_t partition, size_t *records,
                          size_t *skipped, char *err, size_t errlen)
{
    int64_t offset = st_log_start_offset(log), end = st_log_end_offset(log);
    uint8_t *buf = NULL;
    size_t cap = 0;
    int rc = 0;
    while (offset < end && !rc) {
        st_log_slice s;
        if ((rc = st_log_read(log, offset, LOAD_READ_BYTES, &s)) != 0) {
            snprintf(err, errlen, "reading %s-%d at offset %" PRId64 " failed: %s",
                     ST_TXN_STATE_TOPIC, partition, offset, st_err_name(rc));
            rc = -1;
            break;
        }
        if (s.len == 0)
            break;
        if (s.len > cap) {
            uint8_t *grown = realloc(buf, s.len);
            if (!grown)
                abort();
            buf = grown;
            cap = s.len;
        }
        for (size_t got = 0; got < s.len && !rc;) {
            ssize_t n = pread(s.file->fd, buf + got, s.len - got, s.pos + (int64_t)got);
            if (n <= 0) {
                snprintf(err, errlen, "reading %s-%d at offset %" PRId64 " failed: %s",
                         ST_TXN_STATE_TOPIC, partition, offset,
                         n < 0 ? strerror(errno) : "unexpected end of file");
                rc = -1;
            }
            got += n > 0 ? (size_t)n : 0;
        }
        st_fileref_unref(s.file);
        if (rc)
            break;
        int64_t next = load_batches(c, buf, s.len, offset, partition, records, skipped);
        if (next <= offset) {
            st_warn("%s-%d: no readable batch at offset %" PRId64 ": the rest is not loaded",
                    ST_TXN_STATE_TOPIC, partition, offset);
            break;
        }
        offset = next;
    }
    free(buf);
    return rc;
}

/* ---- pending offsets ---- */

static void pending_free_at(st_txn_coord *c, size_t i)
{
    pending_offset *o = &c->pending[i];
    free(o->txn_id);
    free(o->group);
    free(o->topic);
    free(o->metadata);
    c->pending[i] = c->pending[--c->npending];
}

static void pending_drop(st_txn_coord *c, const char *txn_id)
{
    for (size_t i = 0; i < c->npending;)
        if (strcmp(c->pending[i].txn_id, txn_id) == 0)
            pending_free_at(c, i);
        else
            i++;
}

static bool has_offsets(const st_txn_meta *m)
{
    for (int32_t i = 0; i < m->npartitions; i++)
        if (strcmp(m->partitions[i].topic, OFFSETS_TOPIC) == 0)
            return true;
    return false;
}

/* Writes the committed transaction's offsets to their groups, one group at a time. */
static void pending_apply(st_txn_coord *c, const char *txn_id)
{
    while (true) {
        const char *group = NULL;
        for (size_t i = 0; i < c->npending && !group; i++)
            if (strcmp(c->pending[i].txn_id, txn_id) == 0)
                group = c->pending[i].group;
        if (!group)
            return;
        size_t n = 0;
        st_txn_offset *o = calloc(c->npending, sizeof *o);
        if (!o)
            abort();
        for (size_t i = 0; i < c->npending; i++) {
            pending_offset *p = &c->pending[i];
            if (strcmp(p->txn_id, txn_id) == 0 && strcmp(p->group, group) == 0)
                o[n++] = (st_txn_offset){p->topic, p->partition, p->offset, p->leader_epoch,
                                         p->metadata};
        }
        int rc = st_groups_commit_txn_offsets(c->b->groups, group, o, n);
        if (rc)
            st_error("transactional id \"%s\": writing its %zu offset(s) of group \"%s\" failed "
                     "(%s)",
                     txn_id, n, group, st_err_name(rc));
        free(o);
        char *done = strdup(group);
        if (!done)
            abort();
        for (size_t i = 0; i < c->npending;)
            if (strcmp(c->pending[i].txn_id, txn_id) == 0 && strcmp(c->pending[i].group, done) == 0)
                pending_free_at(c, i);
            else
                i++;
        free(done);
    }
}

/* ---- ending transactions ---- */

/* Writes m's markers and completes it. Returns false (m stays in its Prepare state,
 * the tick retries) when a marker could not be written. */
static bool finish(st_txn_coord *c, st_txn_meta *m)
{
    bool commit = m->status == ST_TXN_PREPARE_COMMIT;
    int64_t now = st_wall_ms();
    int failed = 0;
    for (int32_t i = 0; i < m->npartitions; i++) {
        const st_txn_tp *tp = &m->partitions[i];
        if (strcmp(tp->topic, OFFSETS_TOPIC) == 0)
            continue; /* offsets are kept here, not in the log */
        st_partition *part =
            st_topics_partition(c->b->topics, tp->topic, strlen(tp->topic), tp->partition);
        if (!part)
            continue; /* deleted since: nothing to mark */
        st_append_result res;
        int rc = st_log_append_marker(st_partition_log(part), m->producer_id, m->producer_epoch,
                                      commit, 0, now, &res);
        if (rc) {
            if (failed++ == 0)
                st_error("transactional id \"%s\": writing the %s marker to %s-%d failed (%s): "
                         "%s; retrying every second",
                         m->transactional_id, commit ? "COMMIT" : "ABORT", tp->topic, tp->partition,
                         st_err_name(rc), res.why);
            continue;
        }
        st_fetch_wake(st_shard_owner(c->b, st_partition_log(part)), st_partition_log(part));
    }
    if (failed)
        return false;
    if (commit)
        pending_apply(c, m->transactional_id);
    else
        pending_drop(c, m->transactional_id);
    st_txn_complete(m, now);
    persist(c, m, false); /* a lost completion is redone from the Prepare state */
    st_debug("transactional id \"%s\": producer %" PRId64 " epoch %d: %s", m->transactional_id,
             m->producer_id, m->producer_epoch, commit ? "committed" : "aborted");
    return true;
}

/* Aborts m's open transaction on the coordinator's authority, fencing its producer. */
static void fence_and_abort(st_txn_coord *c, st_txn_meta *m, const char *why)
{
    bool needs_new_pid;
    st_txn_fence(m, st_wall_ms(), &needs_new_pid);
    st_info("transactional id \"%s\": aborting the transaction of producer %" PRId64
            " (%s); epoch now %d",
            m->transactional_id, m->producer_id, why, m->producer_epoch);
    if (persist(c, m, false) == 0)
        finish(c, m);
}

/* ---- lifecycle ---- */

st_txn_coord *st_txn_coord_open(st_broker *b, char *err, size_t errlen)
{
    st_txn_coord *c = calloc(1, sizeof *c);
    if (!c || !(c->reg = st_txn_registry_new())) {
        snprintf(err, errlen, "out of memory");
        free(c);
        return NULL;
    }
    c->b = b;
    c->lim = (st_txn_limits){(int32_t)b->cfg.txn_max_timeout_ms, b->cfg.txn_id_expiration_ms,
                             MAX_TXN_PARTITIONS};
    st_topic *t = state_topic(c, false);
    if (!t)
        return c;
    size_t records = 0, skipped = 0;
    for (int32_t p = 0; p < st_topic_partition_count(t); p++)
        if (load_partition(c, st_topic_log(t, p), p, &records, &skipped, err, errlen)) {
            st_txn_coord_close(c);
            return NULL;
        }
    /* finish what a stop interrupted */
    size_t cursor = 0, finished = 0, aborted = 0;
    st_txn_meta *m;
    while ((m = st_txn_registry_next(c->reg, &cursor))) {
        if (m->status == ST_TXN_PREPARE_EPOCH_FENCE) {
            m->status = ST_TXN_PREPARE_ABORT; /* the bump was recorded with it */
        }
        if (m->status == ST_TXN_PREPARE_COMMIT || m->status == ST_TXN_PREPARE_ABORT) {
            finished += finish(c, m);
        } else if (m->status == ST_TXN_ONGOING && has_offsets(m)) {
            fence_and_abort(c, m, "its offsets were lost with the restart");
            aborted++;
        }
    }
    st_info("loaded %zu transactional id(s) from %zu record(s) of %s%s; %zu interrupted "
            "transaction(s) finished, %zu with offsets aborted",
            st_txn_registry_count(c->reg), records, ST_TXN_STATE_TOPIC,
            skipped ? " (some records were not understood and skipped)" : "", finished, aborted);
    return c;
}

void st_txn_coord_close(st_txn_coord *c)
{
    if (!c)
        return;
    while (c->npending)
        pending_free_at(c, c->npending - 1);
    free(c->pending);
    st_txn_registry_free(c->reg);
    free(c);
}

void st_txn_coord_tick(st_txn_coord *c, int64_t now_ms)
{
    if (!c || st_txn_registry_count(c->reg) == 0)
        return;
    size_t cursor = 0;
    st_txn_meta *m, *expired = NULL;
    while ((m = st_txn_registry_next(c->reg, &cursor))) {
        if (m->status == ST_TXN_PREPARE_COMMIT || m->status == ST_TXN_PREPARE_ABORT)
            finish(c, m); /* a marker write failed before */
        else if (st_txn_timed_out(m, now_ms))
            fence_and_abort(c, m, "its transaction.timeout.ms passed");
        else if (!expired && st_txn_expired(m, &c->lim, now_ms))
            expired = m; /* one per tick: the table must not change while walking it */
    }
    if (expired && persist(c, expired, true) == 0) {
        st_info("transactional id \"%s\": idle for over %lld ms, forgotten",
                expired->transactional_id, (long long)c->lim.id_expiration_ms);
        st_txn_registry_remove(c->reg, (st_str){expired->transactional_id,
                                                (int32_t)strlen(expired->transactional_id)});
    }
}

/* ---- requests ---- */

int16_t st_txn_coord_init_pid(st_txn_coord *c, st_str id, int32_t timeout_ms, int64_t pid,
                              int16_t epoch, int64_t *out_pid, int16_t *out_epoch)
{
    *out_pid = -1;
    *out_epoch = -1;
    if (id.len <= 0 || memchr(id.ptr, 0, (size_t)id.len))
        return ST_ERR_INVALID_REQUEST;
    if (!state_topic(c, true))
        return ST_ERR_COORDINATOR_NOT_AVAILABLE;
    char why[300];
    int64_t now = st_wall_ms();
    st_txn_meta *m = st_txn_registry_get(c->reg, id);
    if (!m) {
        int64_t fresh;
        if (timeout_ms <= 0 || timeout_ms > c->lim.max_timeout_ms)
            return ST_ERR_INVALID_TRANSACTION_TIMEOUT;
        if (st_broker_next_producer_id(c->b, &fresh, why, sizeof why) < 0) {
            st_error("InitProducerId for \"%.*s\": %s", (int)id.len, id.ptr, why);
            return ST_ERR_COORDINATOR_NOT_AVAILABLE;
        }
        m = st_txn_meta_new(id.ptr, (size_t)id.len, fresh, now);
        if (!m || st_txn_registry_put(c->reg, m))
            abort(); /* out of memory, as st_buf */
    }
    int16_t error;
    st_txn_init_action act = st_txn_init_pid(m, &c->lim, timeout_ms, pid, epoch, now, &error);
    if (act == ST_TXN_INIT_ABORT_FIRST) {
        /* the open transaction is aborted now (markers are local writes), then the new
         * producer gets its epoch at once rather than a CONCURRENT_TRANSACTIONS retry */
        if (persist(c, m, false) || !finish(c, m))
            return ST_ERR_CONCURRENT_TRANSACTIONS; /* the tick finishes; the client retries */
        act = st_txn_init_pid(m, &c->lim, timeout_ms, -1, -1, now, &error);
    }
    if (act == ST_TXN_INIT_NEW_PID) {
        int64_t fresh;
        if (st_broker_next_producer_id(c->b, &fresh, why, sizeof why) < 0) {
            st_error("InitProducerId for \"%s\": %s", m->transactional_id, why);
            return ST_ERR_COORDINATOR_NOT_AVAILABLE;
        }
        st_txn_meta_new_pid(m, fresh, now);
    }
    if (error)
        return error;
    int16_t rc = persist(c, m, false);
    if (rc)
        return rc;
    *out_pid = m->producer_id;
    *out_epoch = m->producer_epoch;
    return 0;
}

int16_t st_txn_coord_add_partitions(st_txn_coord *c, st_str id, int64_t pid, int16_t epoch,
                                    const st_str *topics, const int32_t *partitions, int32_t n)
{
    st_txn_meta *m = st_txn_registry_get(c->reg, id);
    if (!m)
        return ST_ERR_INVALID_PRODUCER_ID_MAPPING;
    int32_t added;
    int16_t rc =
        st_txn_add_partitions(m, &c->lim, pid, epoch, topics, partitions, n, st_wall_ms(), &added);
    if (!rc && added)
        rc = persist(c, m, false);
    return rc;
}

int16_t st_txn_coord_add_offsets(st_txn_coord *c, st_str id, int64_t pid, int16_t epoch,
                                 st_str group)
{
    st_topic *t = st_topics_find(c->b->topics, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC));
    if (!t || st_topic_partition_count(t) <= 0)
        return ST_ERR_COORDINATOR_NOT_AVAILABLE;
    st_str topic = {OFFSETS_TOPIC, (int32_t)strlen(OFFSETS_TOPIC)};
    int32_t p = st_kafka_partition_for(group.ptr, group.len > 0 ? (size_t)group.len : 0,
                                       st_topic_partition_count(t));
    return st_txn_coord_add_partitions(c, id, pid, epoch, &topic, &p, 1);
}

int16_t st_txn_coord_offset_commit(st_txn_coord *c, const st_txn_offset_commit_req *req)
{
    st_txn_meta *m = st_txn_registry_get(c->reg, req->transactional_id);
    if (!m)
        return ST_ERR_INVALID_PRODUCER_ID_MAPPING;
    int16_t rc = st_txn_check_producer(m, req->producer_id, req->producer_epoch);
    if (rc)
        return rc;
    if (m->status != ST_TXN_ONGOING || !has_offsets(m))
        return ST_ERR_INVALID_TXN_STATE; /* AddOffsetsToTxn first */
    if (req->group_id.len <= 0)
        return ST_ERR_INVALID_GROUP_ID;
    size_t n = 0;
    for (int32_t t = 0; t < req->ntopics; t++)
        n += (size_t)req->topics[t].npartitions;
    if (c->npending + n > (size_t)MAX_PENDING_OFFSETS * 16 || n > MAX_PENDING_OFFSETS)
        return ST_ERR_INVALID_TXN_STATE;
    for (int32_t t = 0; t < req->ntopics; t++) {
        const st_toc_topic *tt = &req->topics[t];
        for (int32_t i = 0; i < tt->npartitions; i++) {
            const st_toc_partition *p = &tt->partitions[i];
            /* a later commit of the same partition replaces the earlier one */
            for (size_t k = 0; k < c->npending; k++) {
                pending_offset *o = &c->pending[k];
                if (o->partition == p->partition && st_str_eq(tt->name, o->topic) &&
                    st_str_eq(req->group_id, o->group) &&
                    strcmp(o->txn_id, m->transactional_id) == 0) {
                    pending_free_at(c, k);
                    break;
                }
            }
            if (c->npending == c->pending_cap) {
                size_t cap = c->pending_cap ? c->pending_cap * 2 : 16;
                pending_offset *g = realloc(c->pending, cap * sizeof *g);
                if (!g)
                    abort();
                c->pending = g;
                c->pending_cap = cap;
            }
            pending_offset o = {strdup(m->transactional_id),
                                st_str_dup(req->group_id),
                                st_str_dup(tt->name),
                                st_str_dup(p->committed_metadata),
                                p->partition,
                                p->committed_offset,
                                p->committed_leader_epoch};
            if (!o.txn_id || !o.group || !o.topic)
                abort();
            c->pending[c->npending++] = o;
        }
    }
    return 0;
}

int16_t st_txn_coord_end(st_txn_coord *c, st_str id, int64_t pid, int16_t epoch, bool commit)
{
    st_txn_meta *m = st_txn_registry_get(c->reg, id);
    if (!m)
        return ST_ERR_INVALID_PRODUCER_ID_MAPPING;
    bool write_markers;
    int16_t rc = st_txn_end(m, pid, epoch, commit, st_wall_ms(), &write_markers);
    if (rc || !write_markers)
        return rc;
    rc = persist(c, m, false);
    if (rc)
        return rc;
    finish(c, m); /* a failed marker write is retried by the tick; the answer stands */
    return 0;
}

int16_t st_txn_coord_check_produce(st_txn_coord *c, st_str txn_id, const uint8_t *records,
                                   size_t len, st_str topic, int32_t partition)
{
    for (size_t pos = 0; pos + ST_BATCH_HEADER_SIZE <= len;) {
        st_batch_info b;
        if (st_batch_header(records + pos, len - pos, &b) != 0)
            return 0; /* the append's validation says what is wrong */
        pos += (size_t)b.size;
        if (!(b.attributes & ST_BATCH_ATTR_TRANSACTIONAL))
            continue;
        st_txn_meta *m = txn_id.len > 0 ? st_txn_registry_get(c->reg, txn_id) : NULL;
        if (!m)
            return ST_ERR_INVALID_TXN_STATE;
        if (b.producer_id != m->producer_id)
            return ST_ERR_INVALID_PRODUCER_ID_MAPPING;
        if (b.producer_epoch != m->producer_epoch)
            return ST_ERR_INVALID_PRODUCER_EPOCH;
        if (m->status != ST_TXN_ONGOING || !st_txn_has_partition(m, topic, partition))
            return ST_ERR_INVALID_TXN_STATE;
    }
    return 0;
}

const st_txn_meta *st_txn_coord_find(const st_txn_coord *c, st_str id)
{
    return st_txn_registry_get(c->reg, id);
}

const st_txn_meta *st_txn_coord_next(const st_txn_coord *c, size_t *cursor)
{
    return st_txn_registry_next(c->reg, cursor);
}

static bool str_is(st_str s, const char *z)
{
    return s.len >= 0 && strlen(z) == (size_t)s.len && memcmp(z, s.ptr, (size_t)s.len) == 0;
}

bool st_txn_coord_offset_pending(const st_txn_coord *c, st_str group, st_str topic,
                                 int32_t partition)
{
    for (size_t i = 0; c && i < c->npending; i++) {
        const pending_offset *o = &c->pending[i];
        if (o->partition == partition && str_is(group, o->group) && str_is(topic, o->topic))
            return true;
    }
    return false;
}
