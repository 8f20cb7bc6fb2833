/*
 * InitProducerId (API key 22), versions 0..1: hands an idempotent producer a fresh
 * producer id with epoch 0. The partition logs then use (id, epoch, sequence) to drop
 * retried batches and refuse gaps (broker/log/producer_state.c).
 *
 * Ids are never reused, even across restarts and kill -9: they are handed out from
 * blocks of ID_BLOCK, and the end of the current block is written durably to
 * <data_dir>/meta/producer_ids (tmp, fsync, rename, fsync of meta/) before any id of
 * the block is given out. A restart skips whatever was left of the block, as Kafka's
 * ProducerIdManager does. The file is read on the first request, so a broker that
 * never sees an idempotent producer never touches it.
 *
 * Versions 0..4 (flexible from 2). A transactional id goes to the transaction
 * coordinator (broker/txn/coordinator.c): its producer id and a bumped epoch, fencing
 * older instances; an empty id is INVALID_REQUEST, as Kafka answers it. librdkafka's
 * and Java's idempotent producers send a null id.
 *
 * Authorization, before anything else: a transactional id needs WRITE on it (else
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED, so a denied caller never learns whether
 * transactions would work), no id IDEMPOTENT_WRITE on the cluster (else
 * CLUSTER_AUTHORIZATION_FAILED). Kafka 3 also accepts WRITE on any topic instead of
 * IDEMPOTENT_WRITE; the authorizer has no "on any resource of a type" question, and a
 * tenant's ACLs include IDEMPOTENT_WRITE.
 *
 * Loop thread only (it uses and updates b->next_producer_id / producer_id_limit;
 * st_broker_next_producer_id serves the transaction coordinator too).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/api/handlers.h"
#include "broker/broker_int.h"
#include "broker/proto/codec.h"
#include "broker/security/security.h"
#include "broker/txn/coordinator.h"
#include "broker/txn/txn_codec.h"
#include "common/errors.h"
#include "common/fileio.h"
#include "common/logging.h"

#define ID_BLOCK 1000
#define ID_FILE  "producer_ids"

/* Reads the reserved limit from meta/producer_ids: 0 and *limit (0 when the file does
 * not exist yet), or -1 with why set. */
static int read_limit(const char *meta, int64_t *limit, char *why, size_t whylen)
{
    char path[PATH_MAX + 32], text[64];
    snprintf(path, sizeof path, "%s/%s", meta, ID_FILE);
    size_t n;
    int rc = st_file_read_small(path, text, sizeof text, &n, why, whylen);
    if (rc == 1) { /* no file yet: nothing was ever handed out */
        *limit = 0;
        return 0;
    }
    if (rc < 0)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end == text || (*end && *end != '\n') || errno || v < 0 || v > INT64_MAX - ID_BLOCK) {
        snprintf(why, whylen,
                 "%s holds \"%.20s\", not a producer id count; restore it (ids below the value "
                 "it had must never be handed out again)",
                 path, text);
        return -1;
    }
    *limit = v;
    return 0;
}

/* Writes `limit` durably. 0, or -1 with why set. */
static int write_limit(const char *meta, int64_t limit, char *why, size_t whylen)
{
    char text[32];
    int len = snprintf(text, sizeof text, "%" PRId64 "\n", limit);
    /* durable before any id of the new block is handed out */
    return st_file_write_atomic(meta, ID_FILE, text, (size_t)len, true, why, whylen);
}

/* Next producer id, reserving a new block when the current one is used up (and
 * loading the file on first use). 0 and *id, or -1 with why set. */
int st_broker_next_producer_id(st_broker *b, int64_t *id, char *why, size_t whylen)
{
    char meta[PATH_MAX + 8];
    snprintf(meta, sizeof meta, "%s/meta", b->cfg.data_dir);
    if (b->producer_id_limit == 0) { /* first call since start: nothing reserved yet */
        int64_t limit;
        if (read_limit(meta, &limit, why, whylen) < 0)
            return -1;
        b->next_producer_id = limit;
        b->producer_id_limit = limit; /* the block in the file may have been in use */
    }
    if (b->next_producer_id >= b->producer_id_limit) {
        int64_t limit = b->next_producer_id + ID_BLOCK;
        if (write_limit(meta, limit, why, whylen) < 0)
            return -1;
        b->producer_id_limit = limit;
        st_info("reserved producer ids %" PRId64 "..%" PRId64 " in %s/%s", b->next_producer_id,
                limit - 1, meta, ID_FILE);
    }
    *id = b->next_producer_id++;
    return 0;
}

st_req_result st_handle_init_producer_id(st_req *req)
{
    st_init_pid_req m;
    int16_t version = req->api_version;
    if (st_init_pid_req_decode(&req->rd, version, &m))
        return ST_REQ_MALFORMED;
    st_str transactional_id = m.transactional_id;
    const char *peer = req->conn ? st_conn_peer(req->conn) : "(no connection)";

    int rc = ST_ERR_NONE;
    int64_t id = -1;
    int16_t epoch = -1;
    char why[PATH_MAX + 200];
    if (transactional_id.len >= 0 &&
        !st_req_allowed(req, transactional_id.ptr ? transactional_id.ptr : "",
                        (size_t)transactional_id.len)) {
        st_info("%s: InitProducerId for transactional id \"%.*s\" refused: %s needs WRITE on "
                "it",
                peer, (int)(transactional_id.len > 200 ? 200 : transactional_id.len),
                transactional_id.ptr, st_req_principal(req));
        rc = ST_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    } else if (transactional_id.len < 0 &&
               !st_req_allowed_cluster_to(req, ST_ACL_OP_IDEMPOTENT_WRITE)) {
        st_info("%s: InitProducerId refused: %s needs IDEMPOTENT_WRITE on the cluster for an "
                "idempotent producer",
                peer, st_req_principal(req));
        rc = ST_ERR_CLUSTER_AUTHORIZATION_FAILED;
    } else if (transactional_id.len >= 0) {
        rc = st_txn_coord_init_pid(req->broker->txn, transactional_id, m.transaction_timeout_ms,
                                   m.producer_id, m.producer_epoch, &id, &epoch);
        rc = st_txn_fenced_error(ST_API_INIT_PRODUCER_ID, version, (int16_t)rc);
        if (rc == ST_ERR_INVALID_REQUEST)
            st_info("%s: InitProducerId refused: a transactional id must not be empty or hold a "
                    "NUL byte",
                    peer);
    } else if (st_broker_next_producer_id(req->broker, &id, why, sizeof why) < 0) {
        /* Retriable for clients: they come back, and the operator sees why. */
        st_error("%s: InitProducerId failed: %s", peer, why);
        rc = ST_ERR_COORDINATOR_NOT_AVAILABLE;
        id = -1;
    } else {
        epoch = 0;
        st_debug("%s: producer id %" PRId64 " epoch 0", peer, id);
    }
    st_init_pid_resp resp = {0, (int16_t)rc, rc ? -1 : id, rc ? (int16_t)-1 : epoch};
    st_init_pid_resp_encode(st_resp_buf(req->resp), version, &resp);
    return ST_REQ_DONE;
}
