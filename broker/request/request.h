/*
 * A request as the handlers see it, and the API table's row type.
 *
 * The pipeline (pipeline.h) takes a frame from the connection and walks it down once:
 *
 *   decode header ─▶ auth gate ─▶ row's ACL and quota identity ─▶ handler
 *        ─▶ quota charge and throttle ─▶ send
 *
 * A handler reads req->rd, appends its body to st_resp_buf(req->resp) and returns an
 * st_req_result:
 *   ST_REQ_DONE          send req->resp now (the pipeline frees req);
 *   ST_REQ_SILENT        no response is due (Produce acks=0);
 *   ST_REQ_CLOSE         close the connection; the handler logged why (a failed
 *                        acks=0 produce: closing is the only way to tell that client);
 *   ST_REQ_DEFERRED      the handler kept req: it answers later with st_req_finish, or
 *                        wakes it with st_req_wake so the row's resume hook answers;
 *   ST_REQ_MALFORMED     the body did not parse: log and close the connection.
 * These are not Kafka error codes and never share an int with them: their values lie far
 * from every wire code (0..~120) and every internal one (-104..-101), so a handler that
 * returns an error code by mistake (OFFSET_OUT_OF_RANGE is 1) is caught by the pipeline
 * (logged, the connection closed) instead of being read as an action. The handler
 * folders build with -Wassign-enum, which refuses such a constant outright.
 *
 * The API table (broker/api/table.c) is data the pipeline is given: one st_api row per
 * key. Besides versions and the handler, a row names the ACL operation and resource the
 * handler checks with st_req_allowed, the byte-rate quota its traffic counts against,
 * flags, and hooks for what happens to a deferred request (cancel, resume) — so the
 * pipeline has no case for any particular API.
 *
 * Everything here runs on the loop thread.
 */
#ifndef ST_REQUEST_H
#define ST_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/acl.h"
#include "broker/net/conn.h"
#include "broker/proto/codec.h"

typedef struct st_broker st_broker;
typedef struct st_shard st_shard;
typedef struct st_req st_req;
typedef struct st_session st_session;
typedef struct st_pipeline st_pipeline;

typedef enum st_req_result {
    ST_REQ_DONE = 1000,
    ST_REQ_SILENT,
    ST_REQ_CLOSE,
    ST_REQ_DEFERRED,
    ST_REQ_MALFORMED,
} st_req_result;

typedef st_req_result st_handler_fn(st_req *req);

/* Per-row hooks; any may be NULL. */
typedef struct st_api_hooks {
    /* The connection closed while req was deferred: free what the handler holds for it
     * now (a parked fetch would otherwise wait out max_wait_ms), then st_req_finish it
     * (which, without a connection, only frees). */
    void (*cancel)(st_req *req);
    /* A deferred req was woken (st_req_wake): write its answer now. Runs on a turn of
     * its own, metered and charged to req's client like a handler; returns what a
     * handler returns (ST_REQ_DEFERRED: still waiting). */
    st_req_result (*resume)(st_req *req);
    /* A version outside [min, max]: write an answer into r (its response header already
     * written) instead of closing the connection (ApiVersions, so a newer client learns
     * our ranges). */
    void (*unsupported_version)(st_resp *r);
} st_api_hooks;

/* Which byte-rate quota a row's records count against (besides request time). */
typedef enum st_api_quota {
    ST_API_QUOTA_NONE = 0,
    ST_API_QUOTA_PRODUCE, /* producer_byte_rate */
    ST_API_QUOTA_FETCH,   /* consumer_byte_rate */
} st_api_quota;

/* Row flags. */
#define ST_API_BEFORE_AUTH 1u /* served before SASL authentication completes */
#define ST_API_HEADER_V0   2u /* response header v0 at every version (ApiVersions, KIP-511) */

typedef struct st_api {
    int16_t key;
    const char *name;
    int16_t min_version; /* lowest we serve (we advertise 0: see KAFKA-NOTES) */
    int16_t max_version;
    int16_t first_flexible; /* first flexible version; INT16_MAX if none */
    st_handler_fn *handler;
    /* The check st_req_allowed makes: Kafka's documented operation for the API on its
     * main resource (UNKNOWN: the API checks nothing, or only named operations). */
    st_acl_operation acl_op;
    st_acl_resource_type acl_resource;
    st_api_quota quota;
    unsigned flags;
    const st_api_hooks *hooks; /* NULL: none */
} st_api;

/* The row for key in table[0..n), or NULL. */
const st_api *st_api_find(const st_api *table, size_t n, int16_t key);

struct st_req {
    /* What a handler works with: the state every loop shares (config, topic directory,
     * security, quotas, coordinators; broker/broker_int.h), and the shard — the loop the
     * request runs on, with its connections, parked requests, owned partitions and
     * counters (broker/shard.h). Per-loop things come from the shard, never the broker. */
    st_broker *broker;
    st_shard *shard;
    st_pipeline *pipeline;
    st_conn *conn; /* NULL once the connection is gone (or when fuzzing) */
    const st_api *api;
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    st_str client_id; /* points into frame */
    bool flex;        /* body uses the flexible encoding */
    st_rd rd;         /* the request body */
    uint8_t *frame;   /* owned: the request bytes */
    size_t frame_len;
    st_resp *resp;       /* owned until sent */
    int64_t received_us; /* monotonic, for request timing */
    /* Set by a handler: close the connection once this answer is sent (a failed
     * authentication); logged as the reason. Static or owned by the session. */
    const char *close_after;
    void *state; /* the handler's, while it holds req deferred (its hooks use it) */
    /* Private to the pipeline (pipeline.c, quota.c). */
    struct st_req *next_woken;           /* the wake queue */
    bool woken;                          /* queued by st_req_wake */
    const struct st_bquota_id *quota_id; /* while the handler runs metered, else NULL */
    int64_t charged_bytes;               /* st_req_charge, recorded when the handler returns */
    int64_t owed_ms;                     /* st_req_owes */
    size_t throttle_pos;                 /* st_req_throttle_field; 0: none */
};

/* The session of the request's connection, or NULL (no connection: fuzz harness, or the
 * connection closed while the request was deferred). */
st_session *st_req_session(const st_req *req);

/* Sends req->resp on its connection (if it still has one), resumes the connection,
 * frees req. For deferred handlers. */
void st_req_finish(st_req *req);
/* Wipes and frees req's frame once its handler has taken all it needs from it, so that an
 * answer held back (a failed login's delay, a password being checked) holds its answer,
 * not the request: a peer that has not logged in could otherwise park frames of up to
 * sasl.server.max.receive.size on every connection. req->rd and req->client_id, which
 * point into the frame, are emptied (rd keeps its error state). */
void st_req_release_frame(st_req *req);
/* Like st_req_finish but sends nothing (acks=0 after a deferred append). */
void st_req_finish_silent(st_req *req);
/* A deferred req's wait is over (data arrived, its timer fired): the pipeline calls the
 * row's resume hook on a later turn of the loop — never inside the caller's own request,
 * whose time it would otherwise be charged. Waking twice before the turn is once. */
void st_req_wake(st_req *req);

/* ---- quotas (quota.c): the row's byte-rate quota; request time is charged by the
 * pipeline around every handler and resume hook ---- */

/* Writes throttle_time_ms (0 for now) into the response at its current end: the pipeline
 * patches in the byte-rate throttle the request owes once the handler returns. */
void st_req_throttle_field(st_req *req);
/* `bytes` of the row's kind (produced, fetched) this request moved: recorded against
 * the client's (and tenant's) quota when the handler returns, Kafka's order (record,
 * then check), and the throttle owed goes in the field. */
void st_req_charge(st_req *req, int64_t bytes);
/* The throttle the client already owes for the row's kind (> 0: over its quota), and the
 * most one answer may carry (Kafka's getMaxValueInQuotaWindow; false: no quota). Both 0 /
 * false for a request that is not metered (no connection, not authenticated). */
int64_t st_req_quota_owed(const st_req *req);
bool st_req_quota_window(const st_req *req, double *amount);
/* The answer carries a throttle already owed (a fetch over its quota answers empty): it
 * goes in the field and the connection is muted for it, nothing more is recorded. */
void st_req_owes(st_req *req, int64_t ms);

/* ---- authorization (authorize.c) ---- */

/* May the request's principal do the row's operation on the row's resource type named
 * name[len]? True when the authorizer is off or the request has no connection (fuzz
 * harness). A denial is counted against the user's tenant and logged at debug. */
bool st_req_allowed(const st_req *req, const char *name, size_t len);
/* The row's operation on the cluster resource ("kafka-cluster"). */
bool st_req_allowed_cluster(const st_req *req);
/* Another operation than the row's (Produce's CREATE for auto-creation, ...). */
bool st_req_allowed_to(const st_req *req, st_acl_operation op, st_acl_resource_type type,
                       const char *name, size_t len);
bool st_req_allowed_cluster_to(const st_req *req, st_acl_operation op);
/* The request's principal ("User:alice", "User:ANONYMOUS"); "User:ANONYMOUS" without a
 * connection. Valid while req lives. */
const char *st_req_principal(const st_req *req);
/* The peer ("10.0.0.1:5000"), or "(no connection)". */
const char *st_req_peer(const st_req *req);

#endif
