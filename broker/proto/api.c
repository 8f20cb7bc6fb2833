/*
 * The API table and request dispatch; see api.h for the request lifecycle.
 *
 * Per-connection state is one small session struct hung on the connection
 * (st_conn_set_data). It remembers the request a handler deferred, so that when the
 * connection dies first st_dispatch_conn_closed can cut the request loose
 * (req->conn = NULL) and the handler's later st_req_finish only frees it.
 *
 * A connection has at most one deferred request: it stops reading frames while one is
 * outstanding (ST_CONN_WAIT), so a single pointer is enough.
 *
 * Everything here runs on the loop thread.
 */
#include "broker/proto/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/api/handlers.h"
#include "broker/broker_int.h"
#include "broker/proto/session.h"
#include "broker/quota/quota.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/logging.h"

#define API_VERSIONS_KEY 18
#define FETCH_KEY        1
/* No flexible version inside the range we serve. Kafka's first flexible versions lie
 * just above some of our maxima (Produce 9, Fetch 12, ...): raising a max past one means
 * setting the real number here and teaching the handler the compact forms. */
#define NO_FLEX INT16_MAX

/* Sorted by key. min_version is what we serve; ApiVersions advertises 0 regardless
 * (KAFKA-NOTES "advertise MinVersion 0"). */
static const st_api api_table[] = {
    {0, "Produce", 3, 7, NO_FLEX, st_handle_produce},
    {1, "Fetch", 4, 11, NO_FLEX, st_handle_fetch},
    {2, "ListOffsets", 1, 3, NO_FLEX, st_handle_list_offsets},
    {3, "Metadata", 0, 12, 9, st_handle_metadata},
    {8, "OffsetCommit", 2, 8, 8, st_handle_offset_commit},
    {9, "OffsetFetch", 1, 8, 6, st_handle_offset_fetch},
    {10, "FindCoordinator", 0, 4, 3, st_handle_find_coordinator},
    {11, "JoinGroup", 0, 9, 6, st_handle_join_group},
    {12, "Heartbeat", 0, 4, 4, st_handle_heartbeat},
    {13, "LeaveGroup", 0, 5, 4, st_handle_leave_group},
    {14, "SyncGroup", 0, 4, 4, st_handle_sync_group},
    {15, "DescribeGroups", 0, 5, 5, st_handle_describe_groups},
    {16, "ListGroups", 0, 4, 3, st_handle_list_groups},
    {17, "SaslHandshake", 0, 1, NO_FLEX, st_handle_sasl_handshake},
    {18, "ApiVersions", 0, 3, 3, st_handle_api_versions},
    {19, "CreateTopics", 0, 7, 5, st_handle_create_topics},
    {20, "DeleteTopics", 0, 1, NO_FLEX, st_handle_delete_topics},
    {21, "DeleteRecords", 0, 1, NO_FLEX, st_handle_delete_records},
    {22, "InitProducerId", 0, 1, NO_FLEX, st_handle_init_producer_id},
    {29, "DescribeAcls", 0, 1, NO_FLEX, st_handle_describe_acls},
    {30, "CreateAcls", 0, 1, NO_FLEX, st_handle_create_acls},
    {31, "DeleteAcls", 0, 1, NO_FLEX, st_handle_delete_acls},
    {32, "DescribeConfigs", 0, 2, NO_FLEX, st_handle_describe_configs},
    {33, "AlterConfigs", 0, 1, NO_FLEX, st_handle_alter_configs},
    {35, "DescribeLogDirs", 0, 4, 2, st_handle_describe_log_dirs},
    {36, "SaslAuthenticate", 0, 1, NO_FLEX, st_handle_sasl_authenticate},
    {37, "CreatePartitions", 0, 1, NO_FLEX, st_handle_create_partitions},
    {42, "DeleteGroups", 0, 2, 2, st_handle_delete_groups},
    {44, "IncrementalAlterConfigs", 0, 1, 1, st_handle_incremental_alter_configs},
    {47, "OffsetDelete", 0, 0, NO_FLEX, st_handle_offset_delete},
    {48, "DescribeClientQuotas", 0, 0, NO_FLEX, st_handle_describe_client_quotas},
    {49, "AlterClientQuotas", 0, 0, NO_FLEX, st_handle_alter_client_quotas},
    {50, "DescribeUserScramCredentials", 0, 0, 0, st_handle_describe_user_scram_credentials},
    {51, "AlterUserScramCredentials", 0, 0, 0, st_handle_alter_user_scram_credentials},
    {60, "DescribeCluster", 0, 0, 0, st_handle_describe_cluster},
};
#define API_COUNT (sizeof api_table / sizeof api_table[0])

#define SASL_HANDSHAKE_KEY    17
#define SASL_AUTHENTICATE_KEY 36

typedef st_session session;

const st_api *st_api_lookup(int16_t key)
{
    for (size_t i = 0; i < API_COUNT; i++)
        if (api_table[i].key == key)
            return &api_table[i];
    return NULL;
}

const st_api *st_api_table(size_t *n)
{
    *n = API_COUNT;
    return api_table;
}

static const char *peer_of(const st_conn *conn)
{
    return conn ? st_conn_peer(conn) : "(detached)";
}

/* "10.0.0.1:5000" → "10.0.0.1", "[::1]:5000" → "::1": ACL hosts are addresses. */
static void host_of(const char *peer, char *out, size_t cap)
{
    const char *colon = strrchr(peer, ':');
    size_t n = colon ? (size_t)(colon - peer) : strlen(peer);
    if (n >= 2 && peer[0] == '[' && peer[n - 1] == ']') {
        peer++;
        n -= 2;
    }
    snprintf(out, cap, "%.*s", (int)n, peer);
}

/* Returns the connection's session, creating it on first use. */
static session *session_of(st_broker *b, st_conn *conn)
{
    session *s = st_conn_get_data(conn);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            abort(); /* as st_buf: a broker that cannot allocate this is done */
        s->protocol = (st_sec_protocol)st_conn_listener_tag(conn);
        s->listener_port = st_conn_listener_port(conn);
        host_of(st_conn_peer(conn), s->host, sizeof s->host);
        if (s->protocol == ST_SEC_PLAINTEXT) {
            s->sasl = ST_SASL_AUTHENTICATED;
            snprintf(s->principal, sizeof s->principal, "User:ANONYMOUS");
        }
        st_conn_set_data(conn, s);
        b->stats.connections_total++; /* connections that sent at least one request */
    }
    return s;
}

st_session *st_req_session(const st_req *req)
{
    return req->conn ? st_conn_get_data(req->conn) : NULL;
}

static void req_free(st_req *req)
{
    if (req->resp)
        st_resp_free(req->resp);
    free(req->frame);
    free(req);
}

/* Forgets req as the connection's pending request, if it is. */
static void detach_pending(st_req *req)
{
    if (!req->conn)
        return;
    session *s = st_conn_get_data(req->conn);
    if (s && s->pending == req)
        s->pending = NULL;
}

/* Sends r on conn, or drops it when there is no connection (fuzzing). Takes r. With
 * close_after, the connection closes once r is out. */
static void send_or_drop(st_conn *conn, st_resp *r, const char *close_after)
{
    /* A successful SASL exchange ends with an answer (sent from the handler or, when
     * deferred, from st_req_finish): from then on the connection layer allows full-size
     * frames and stops the authentication deadline. */
    session *s = conn ? st_conn_get_data(conn) : NULL;
    if (s && s->sasl == ST_SASL_AUTHENTICATED && !st_conn_authenticated(conn))
        st_conn_set_authenticated(conn);
    if (conn && close_after)
        st_conn_send_and_close(conn, r, close_after);
    else if (conn)
        st_conn_send(conn, r);
    else
        st_resp_free(r);
}

/* ApiVersions at a version we do not know: answer in the v0 layout, which every
 * client can parse, with UNSUPPORTED_VERSION and our ranges, so it retries lower. */
static void answer_unsupported_api_versions(st_conn *conn, int32_t correlation_id)
{
    st_resp *r = st_resp_new(correlation_id, false);
    st_buf *out = st_resp_buf(r);
    st_buf_put_i16(out, ST_ERR_UNSUPPORTED_VERSION);
    st_wr_array(out, false, (int32_t)API_COUNT);
    for (size_t i = 0; i < API_COUNT; i++) {
        st_buf_put_i16(out, api_table[i].key);
        st_buf_put_i16(out, 0);
        st_buf_put_i16(out, api_table[i].max_version);
    }
    send_or_drop(conn, r, NULL);
}

/* Records a request's handling time; over request_percentage the connection is muted
 * (Kafka also puts the throttle in the answer's throttle_time_ms; ours carries the byte
 * rate throttle of Produce and Fetch, and the mute enforces this one). */
static void charge_request_time(st_broker *b, st_conn *conn, const st_quota_client *qc,
                                int64_t elapsed_us)
{
    int64_t now = st_wall_ms();
    int64_t throttle =
        st_quotas_record(b->quotas, qc, ST_QUOTA_REQUEST, (double)elapsed_us / 1000.0, now);
    if (throttle > 0) {
        st_quotas_note_throttle(b->quotas, qc, throttle, now);
        st_conn_mute(conn, throttle);
    }
}

static void count_request(st_broker *b, int16_t key)
{
    b->stats.requests++;
    if (key >= 0 && (size_t)key < sizeof b->stats.requests_by_key / sizeof(uint64_t))
        b->stats.requests_by_key[key]++;
}

/* Counts a rejected frame (the caller logged why) and closes. Takes frame. */
static int reject(st_broker *b, uint8_t *frame)
{
    b->stats.bad_frames++;
    free(frame);
    return ST_CONN_CLOSE;
}

int st_dispatch(st_broker *b, st_conn *conn, uint8_t *frame, size_t len)
{
    st_rd rd;
    st_rd_init(&rd, frame, len);
    /* Request header v1: api_key, api_version, correlation_id, client_id. */
    int16_t key = st_rd_i16(&rd);
    int16_t version = st_rd_i16(&rd);
    int32_t correlation_id = st_rd_i32(&rd);
    if (rd.err) {
        st_warn("%s: request header truncated (%zu bytes): closing", peer_of(conn), len);
        return reject(b, frame);
    }

    const st_api *api = st_api_lookup(key);
    if (!api) {
        st_warn("%s: unsupported API key %d (v%d): closing", peer_of(conn), key, version);
        return reject(b, frame);
    }
    if (version < api->min_version || version > api->max_version) {
        if (key == API_VERSIONS_KEY) {
            count_request(b, key);
            answer_unsupported_api_versions(conn, correlation_id);
            free(frame);
            return ST_CONN_NEXT;
        }
        st_warn("%s: %s v%d is not supported (we serve v%d..v%d): closing", peer_of(conn),
                api->name, version, api->min_version, api->max_version);
        return reject(b, frame);
    }

    /* SASL listeners: until authenticated, only ApiVersions and the SASL exchange. Kafka
     * closes the connection here (IllegalSaslStateException) without an answer: most
     * responses have no common place for an error code, and a client this confused is
     * better told by a close. SASL requests out of order get ILLEGAL_SASL_STATE in their
     * own answer (sasl.c). */
    session *s = conn ? session_of(b, conn) : NULL;
    if (s && s->sasl != ST_SASL_AUTHENTICATED && key != API_VERSIONS_KEY &&
        key != SASL_HANDSHAKE_KEY && key != SASL_AUTHENTICATE_KEY) {
        st_warn("%s: %s v%d before SASL authentication on a %s listener (ILLEGAL_SASL_STATE): "
                "closing",
                peer_of(conn), api->name, version, st_sec_protocol_name(s->protocol));
        return reject(b, frame);
    }

    bool flex = version >= api->first_flexible;
    st_str client_id = st_rd_str(&rd, false); /* NULLABLE_STRING even in header v2 */
    st_rd_tags(&rd, flex);                    /* header v2 adds a tagged-field block */
    if (rd.err) {
        st_warn("%s: %s v%d request header truncated after correlation id %d: closing",
                peer_of(conn), api->name, version, correlation_id);
        return reject(b, frame);
    }

    st_req *req = calloc(1, sizeof *req);
    if (!req)
        abort();
    req->broker = b;
    req->conn = conn;
    req->api = api;
    req->api_key = key;
    req->api_version = version;
    req->correlation_id = correlation_id;
    req->client_id = client_id;
    req->flex = flex;
    req->rd = rd;
    req->frame = frame;
    req->frame_len = len;
    /* ApiVersions answers with response header v0 at every version (KIP-511), so a
     * client that does not yet know our versions can always parse it. */
    req->resp = st_resp_new(correlation_id, flex && key != API_VERSIONS_KEY);
    req->received_us = st_mono_us();
    count_request(b, key);

    if (s)
        s->pending = req; /* so a finish from inside the handler is recognised */

    /* request_percentage: the handler's time on the loop thread is charged to its
     * client (and tenant). The identity is taken first: the handler may free req. */
    /* Not before authentication: a client that has not logged in has no identity to
     * charge, and must not create sensors by inventing client ids. */
    st_bquota_id qid;
    bool metered = conn && b->quotas && s && s->sasl == ST_SASL_AUTHENTICATED;
    if (metered)
        st_bquota_client(req, &qid);
    int64_t t0 = metered ? st_mono_us() : 0;
    st_req_result rc = api->handler(req);
    if (metered)
        charge_request_time(b, conn, &qid.c, st_mono_us() - t0);
    switch (rc) {
    case ST_REQ_DONE:
    case ST_REQ_SILENT:
        if (s)
            s->pending = NULL;
        /* A handler that forgot to check rd.err must not send a half-parsed answer. */
        if (req->rd.err)
            break;
        if (rc == ST_REQ_DONE) {
            send_or_drop(conn, req->resp, req->close_after);
            req->resp = NULL;
        }
        req_free(req);
        return ST_CONN_NEXT;
    case ST_REQ_DEFERRED:
        /* The handler may already have finished it (then pending is NULL again and
         * req is gone); otherwise hold further frames until it does. */
        if (s && !s->pending)
            return ST_CONN_NEXT;
        return ST_CONN_WAIT;
    case ST_REQ_CLOSE:
        if (s)
            s->pending = NULL;
        req_free(req);
        return ST_CONN_CLOSE;
    case ST_REQ_MALFORMED:
        if (s)
            s->pending = NULL;
        break;
    default:
        if (s)
            s->pending = NULL;
        st_error("%s: %s v%d handler returned %d, which is no st_req_result (an error code "
                 "returned by mistake?): closing",
                 peer_of(conn), api->name, version, (int)rc);
        b->stats.bad_frames++;
        req_free(req);
        return ST_CONN_CLOSE;
    }

    st_warn("malformed %s v%d from %s (correlation id %d): closing", api->name, version,
            peer_of(conn), correlation_id);
    b->stats.bad_frames++;
    req_free(req);
    return ST_CONN_CLOSE;
}

void st_dispatch_conn_closed(st_broker *b, st_conn *conn)
{
    session *s = st_conn_get_data(conn);
    if (!s)
        return;
    st_req *pending = s->pending;
    st_conn_set_data(conn, NULL);
    if (pending == s->delayed)
        pending = NULL; /* a held authentication failure: st_session_release frees it */
    else if (pending)
        pending->conn = NULL;
    st_session_release(b, s); /* SASL state, and an authentication answer held back */
    free(s);
    /* A parked fetch may wait up to max_wait_ms; its client is gone, so free it now
     * (a produce waiting for fsync finishes by itself shortly). */
    if (pending && pending->api_key == FETCH_KEY)
        st_fetch_cancel(b, pending);
}

void st_req_finish(st_req *req)
{
    detach_pending(req);
    send_or_drop(req->conn, req->resp, req->close_after);
    req->resp = NULL;
    req_free(req);
}

void st_req_release_frame(st_req *req)
{
    if (!req->frame)
        return;
    explicit_bzero(req->frame, req->frame_len); /* a SaslAuthenticate carries a password */
    free(req->frame);
    req->frame = NULL;
    req->frame_len = 0;
    req->rd.p = req->rd.end = NULL;
    req->client_id = (st_str){NULL, 0};
}

void st_req_finish_silent(st_req *req)
{
    detach_pending(req);
    if (req->conn)
        st_conn_resume(req->conn);
    req_free(req);
}
