/*
 * Produce (API key 0), versions 3..7: appends each partition's record batches to its
 * log and answers with the offsets they got.
 *
 * The request is walked twice. The first walk only checks that it parses, so a body
 * that is malformed half-way never leaves some partitions appended and the connection
 * closed; the second walk appends and writes the response in the same order, one
 * partition at a time. The response mirrors the request's arrays, so their counts are
 * known before the first element is written and nothing has to be patched, except the
 * error code of a partition whose fsync fails later.
 *
 * Durability: when an append reaches the topic's flush.messages the log says so
 * (flush_needed) and the answer waits for st_log_flush_async on every such partition;
 * the handler then returns ST_REQ_DEFERRED and the last flush callback sends it.
 * Kafka flushes inside the append for acks=0 too, so an acks=0 request also waits
 * (holding the connection, which is the back-pressure a flush policy implies) and is
 * finished silently. An append that finds the disk behind (disk_behind) holds the
 * answer the same way, once per request, until st_log_await_writeback's callback.
 *
 * acks=0 has no response, so a producer can only learn of an error by losing its
 * connection: as Kafka does, any failed partition closes it (ST_REQ_CLOSE, after a
 * log line saying what really happened).
 *
 * Single node: acks=-1 (all in-sync replicas) is the same as acks=1, except that a
 * topic with min.insync.replicas above 1 refuses it (NOT_ENOUGH_REPLICAS), as Kafka
 * does when the ISR is that small.
 *
 * Authorization (Kafka's): WRITE on each topic, else TOPIC_AUTHORIZATION_FAILED for every
 * partition of it. An idempotent batch needs nothing more: as in Kafka 3, WRITE on the
 * topic implies IDEMPOTENT_WRITE. A transactional id needs WRITE on it, else every
 * partition gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/api/handlers.h"
#include "broker/quota/quota.h"
#include "broker/broker_int.h"
#include "broker/shard.h"
#include "broker/proto/codec.h"
#include "broker/security/security.h"
#include "broker/txn/coordinator.h"
#include "common/clock.h"
#include "common/compress.h"
#include "common/errors.h"
#include "common/logging.h"

/* One partition waiting for its fsync. */
typedef struct flush_wait {
    struct produce_flush *owner;
    st_log *log;
    size_t error_pos; /* where its error code sits in the response buffer */
    st_str topic;     /* points into the request frame, alive as long as the request */
    int32_t partition;
    bool writeback; /* waits for the disk to catch up (st_log_await_writeback), no fsync */
} flush_wait;

/* A deferred produce: answered when `pending` drops to zero. */
typedef struct produce_flush {
    st_req *req;
    int16_t acks;
    size_t pending;
    size_t nwaits;
    flush_wait waits[]; /* room for every partition of the request */
} produce_flush;

static const char *peer_of(const st_req *req)
{
    return req->conn ? st_conn_peer(req->conn) : "(no connection)";
}

/* First walk: does the body parse? Takes a copy of the cursor so req->rd is untouched.
 * Sets *nparts to the number of partitions across all topics and *record_bytes to the
 * size of all their record sets. */
static int produce_scan(st_rd rd, size_t *nparts, size_t *record_bytes)
{
    size_t total = 0, bytes = 0;
    st_rd_str(&rd, false); /* transactional_id */
    st_rd_i16(&rd);        /* acks */
    st_rd_i32(&rd);        /* timeout_ms */
    int32_t ntopics = st_rd_array(&rd, false, 6);
    for (int32_t t = 0; t < ntopics && !rd.err; t++) {
        st_rd_str(&rd, false);
        int32_t n = st_rd_array(&rd, false, 8);
        for (int32_t p = 0; p < n && !rd.err; p++) {
            st_rd_i32(&rd);
            st_str records = st_rd_bytes(&rd, false);
            if (records.len > 0)
                bytes += (size_t)records.len;
        }
        if (n > 0)
            total += (size_t)n;
    }
    *nparts = total;
    *record_bytes = bytes;
    return rd.err ? ST_ERR__MALFORMED : 0;
}

static void flush_done(produce_flush *pf)
{
    st_req *req = pf->req;
    int16_t acks = pf->acks;
    free(pf);
    if (acks == 0)
        st_req_finish_silent(req);
    else
        st_req_finish(req);
}

/* st_log_flushed_cb: on the loop thread once the partition's appends are on disk. */
static void on_flushed(void *arg, int err)
{
    flush_wait *w = arg;
    produce_flush *pf = w->owner;
    if (err) {
        /* The append is in the page cache but not durable, which the topic's flush
         * policy forbids acknowledging. */
        st_buf *out = st_resp_buf(pf->req->resp);
        st_put_be16(out->data + w->error_pos, (uint16_t)ST_ERR_KAFKA_STORAGE_ERROR);
        st_warn("%s: produce to %.*s-%d: flushing the log failed (%s)", peer_of(pf->req),
                (int)w->topic.len, w->topic.ptr, w->partition, st_err_name(err));
    }
    if (--pf->pending == 0)
        flush_done(pf);
}

/* Appends one partition's records. Returns the wire error code; fills *res on success.
 * Borrows everything; `records` points into the request frame and is edited in place. */
static int append_partition(st_req *req, st_topic *topic, st_str name, int32_t index, int16_t acks,
                            st_str transactional_id, st_str records, int64_t now_ms,
                            st_append_result *res)
{
    st_broker *b = req->broker;
    if (!topic || index < 0 || index >= st_topic_partition_count(topic))
        return ST_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (st_topic_internal(topic)) {
        /* __consumer_offsets is the coordinator's: a forged record there would move
         * another group's offsets at the next load. Kafka refuses the same way. */
        st_warn("%s: produce to internal topic %.*s-%d refused", peer_of(req), (int)name.len,
                name.ptr, index);
        return ST_ERR_INVALID_TOPIC_EXCEPTION;
    }
    if (records.len <= 0) {
        /* Kafka (ProduceRequest.validateRecords): v3+ needs at least one batch. */
        st_warn("%s: produce to %.*s-%d rejected: no record batch (records %s)", peer_of(req),
                (int)name.len, name.ptr, index, records.len < 0 ? "null" : "empty");
        return ST_ERR_INVALID_RECORD;
    }
    if (acks == -1 && st_topic_config(topic)->min_insync_replicas > 1) {
        /* Kafka checks the ISR before appending: here it is always this one broker. */
        st_warn("%s: produce to %.*s-%d with acks=all refused: 1 in-sync replica, "
                "min.insync.replicas is %d",
                peer_of(req), (int)name.len, name.ptr, index,
                st_topic_config(topic)->min_insync_replicas);
        return ST_ERR_NOT_ENOUGH_REPLICAS;
    }
    char why[320];
    if (st_bquota_check_produce(b->bquota, name.ptr, (size_t)name.len, records.len, why,
                                sizeof why))
        return ST_ERR_POLICY_VIOLATION; /* logged (rate-limited) by the quota layer */
    /* Kafka (ProduceRequest.validateRecords): zstd needs Produce v7, the version that
     * came with it, so an older client cannot be sent what it cannot read. */
    if (req->api_version < 7 &&
        st_batches_use_codec((const uint8_t *)records.ptr, (size_t)records.len, ST_CODEC_ZSTD)) {
        st_warn("%s: produce to %.*s-%d rejected: zstd batches need Produce v7 (got v%d)",
                peer_of(req), (int)name.len, name.ptr, index, req->api_version);
        return ST_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    }
    /* A transactional batch belongs to an open transaction that holds this partition. */
    int txn_rc = st_txn_coord_check_produce(b->txn, transactional_id, (const uint8_t *)records.ptr,
                                            (size_t)records.len, name, index);
    if (txn_rc) {
        st_info("%s: transactional produce to %.*s-%d refused (%s): its producer is not in an "
                "open transaction holding the partition",
                peer_of(req), (int)name.len, name.ptr, index, st_err_name(txn_rc));
        return txn_rc;
    }
    st_log *log = st_topic_log(topic, index);
    /* An append runs on the loop that owns the partition. With one loop it owns them all;
     * a request for another loop's partition will be posted there first
     * (docs/architecture.md), which is not built yet. */
    assert(st_shard_owner(b, log) == req->shard);
    /* The frame is ours (req->frame is mutable); st_str only borrows it as const. */
    uint8_t *bytes = (uint8_t *)(uintptr_t)records.ptr;
    int rc = st_log_append_with(log, req->shard->batch_ws, bytes, (size_t)records.len, now_ms, res);
    if (rc < ST_ERR_UNKNOWN_SERVER_ERROR) /* internal (I/O): never on the wire */
        rc = ST_ERR_KAFKA_STORAGE_ERROR;
    if (rc == ST_ERR_KAFKA_STORAGE_ERROR)
        return rc; /* the log reports its write failures itself, a line per interval */
    if (rc) {
        st_warn("%s: produce to %.*s-%d rejected (%s): %s", peer_of(req), (int)name.len, name.ptr,
                index, st_err_name(rc), res->why);
        return rc;
    }
    req->shard->stats.bytes_in += (uint64_t)records.len;
    st_topic_count_in(topic, (uint64_t)records.len);
    st_req_charge(req, records.len);
    req->shard->stats.records_in += (uint64_t)res->records;
    st_fetch_wake(st_shard_owner(b, log), log);
    return 0;
}

/* Finds the topic, auto-creating it when the broker allows and the caller may create
 * it (CREATE on the cluster or the topic, as Metadata's auto-create). NULL if neither.
 * The caller has WRITE on it, hence DESCRIBE: saying it does not exist reveals nothing. */
static st_topic *find_topic(st_req *req, st_str name)
{
    st_broker *b = req->broker;
    if (name.len <= 0)
        return NULL;
    st_topic *t = st_topics_find(b->topics, name.ptr, (size_t)name.len);
    if (!t && b->cfg.auto_create_topics &&
        (st_req_allowed_cluster_to(req, ST_ACL_OP_CREATE) ||
         st_req_allowed_to(req, ST_ACL_OP_CREATE, ST_ACL_RESOURCE_TOPIC, name.ptr,
                           (size_t)name.len)))
        t = st_broker_auto_create(b, name.ptr, (size_t)name.len, NULL);
    return t;
}

st_req_result st_handle_produce(st_req *req)
{
    st_rd *rd = &req->rd;
    size_t nparts = 0, record_bytes = 0;
    if (produce_scan(*rd, &nparts, &record_bytes))
        return ST_REQ_MALFORMED;
    /* Decompression while checking batches is charged to one budget per request. */
    st_batch_ws_begin(req->shard->batch_ws, st_batch_inflate_budget(record_bytes));

    st_str transactional_id = st_rd_str(rd, false);
    int16_t acks = st_rd_i16(rd);
    st_rd_i32(rd); /* timeout_ms: a single node never waits for replicas */
    bool acks_ok = acks == -1 || acks == 0 || acks == 1;
    if (!acks_ok)
        st_warn("%s: produce with acks=%d rejected: acks must be -1, 0 or 1", peer_of(req), acks);
    /* Kafka refuses a transactional produce the caller may not
     * write as that id before looking at any topic. */
    int request_error = acks_ok ? 0 : ST_ERR_INVALID_REQUIRED_ACKS;
    if (!request_error && transactional_id.len >= 0 &&
        !st_req_allowed_to(req, ST_ACL_OP_WRITE, ST_ACL_RESOURCE_TRANSACTIONAL_ID,
                           transactional_id.ptr ? transactional_id.ptr : "",
                           (size_t)transactional_id.len))
        request_error = ST_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;

    st_buf *out = st_resp_buf(req->resp);
    bool v5 = req->api_version >= 5;
    int64_t now_ms = st_wall_ms();
    produce_flush *pf = NULL;
    int disk_waits = 0;     /* appends that found the disk behind: one wait covers all */
    int failed = 0;         /* partitions with an error, for acks=0 */
    int failed_storage = 0; /* of which KAFKA_STORAGE_ERROR (the log has said why) */
    char first_failure[320] = "";

    int32_t ntopics = st_rd_array(rd, false, 6);
    st_wr_array(out, false, ntopics < 0 ? 0 : ntopics);
    for (int32_t t = 0; t < ntopics; t++) {
        st_str name = st_rd_str(rd, false);
        /* Checked before the lookup: a denied topic is never auto-created, and its answer
         * is the same whether it exists or not. */
        int topic_error = request_error;
        if (!topic_error &&
            !st_req_allowed(req, name.ptr ? name.ptr : "", name.len > 0 ? (size_t)name.len : 0))
            topic_error = ST_ERR_TOPIC_AUTHORIZATION_FAILED;
        st_topic *topic = topic_error ? NULL : find_topic(req, name);
        st_wr_str(out, false, name.len < 0 ? NULL : name.ptr, name.len);
        int32_t n = st_rd_array(rd, false, 8);
        st_wr_array(out, false, n < 0 ? 0 : n);
        for (int32_t p = 0; p < n; p++) {
            int32_t index = st_rd_i32(rd);
            st_str records = st_rd_bytes(rd, false);
            st_append_result res;
            int rc = topic_error;
            if (!rc)
                rc = append_partition(req, topic, name, index, acks, transactional_id, records,
                                      now_ms, &res);

            st_buf_put_i32(out, index);
            size_t error_pos = out->len;
            st_buf_put_i16(out, (int16_t)rc);
            st_buf_put_i64(out, rc ? -1 : res.base_offset);
            st_buf_put_i64(out, rc ? -1 : res.log_append_time);
            if (v5)
                st_buf_put_i64(out, rc ? -1 : res.log_start_offset);

            if (rc) {
                failed_storage += rc == ST_ERR_KAFKA_STORAGE_ERROR;
                if (failed++ == 0)
                    snprintf(first_failure, sizeof first_failure, "%.*s-%d: %s",
                             (int)(name.len < 0 ? 0 : name.len), name.ptr ? name.ptr : "", index,
                             st_err_name(rc));
                continue;
            }
            bool disk_wait = res.disk_behind && !res.flush_needed && !disk_waits++;
            if (res.flush_needed || disk_wait) {
                if (!pf) {
                    pf = malloc(sizeof *pf + nparts * sizeof(flush_wait));
                    if (!pf)
                        abort(); /* as st_buf: a broker that cannot allocate is done */
                    pf->req = req;
                    pf->acks = acks;
                    pf->nwaits = 0;
                }
                pf->waits[pf->nwaits++] =
                    (flush_wait){pf, st_topic_log(topic, index), error_pos, name, index, disk_wait};
            }
        }
    }
    /* producer_byte_rate: what was written is charged by the pipeline when this returns
     * (Kafka records first, then checks); the answer says how long to back off and the
     * connection is muted that long. */
    st_req_throttle_field(req);
    /* produce_scan proved the body parses, so this cannot fail; checked anyway so a
     * codec change can never make us answer half a request. */
    if (rd->err) {
        free(pf);
        return ST_REQ_MALFORMED;
    }

    if (acks == 0 && failed) {
        if (failed > failed_storage) /* a full disk would log this for every request */
            st_warn("%s: acks=0 produce failed on %d partition(s) (first %s): closing the "
                    "connection, the only way to tell an acks=0 producer",
                    peer_of(req), failed, first_failure);
        free(pf);
        return ST_REQ_CLOSE;
    }
    if (!pf)
        return acks == 0 ? ST_REQ_SILENT : ST_REQ_DONE;

    /* One extra count held while issuing, so a callback that runs synchronously cannot
     * finish the request under us. */
    pf->pending = pf->nwaits + 1;
    for (size_t i = 0; i < pf->nwaits; i++) {
        if (pf->waits[i].writeback)
            st_log_await_writeback(pf->waits[i].log, on_flushed, &pf->waits[i]);
        else
            st_log_flush_async(pf->waits[i].log, on_flushed, &pf->waits[i]);
    }
    if (--pf->pending == 0) {
        free(pf);
        return acks == 0 ? ST_REQ_SILENT : ST_REQ_DONE;
    }
    return ST_REQ_DEFERRED;
}
