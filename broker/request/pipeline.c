/*
 * The request pipeline's stages; see pipeline.h for the path and request.h for the
 * handler contract.
 *
 * A connection has at most one deferred request: it stops reading frames while one is
 * outstanding (ST_CONN_WAIT), so the session's one `pending` pointer is enough. When the
 * connection dies first, st_pipeline_on_close cuts the request loose (req->conn = NULL)
 * and the handler's later st_req_finish only frees it — or the row's cancel hook frees it
 * at once.
 *
 * Everything here runs on the loop thread.
 */
#include "broker/request/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/request/request_int.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/logging.h"

const st_api *st_api_find(const st_api *table, size_t n, int16_t key)
{
    size_t lo = 0, hi = n; /* rows are sorted by key */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (table[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && table[lo].key == key ? &table[lo] : NULL;
}

st_pipeline *st_pipeline_new(const st_pipeline_config *cfg)
{
    st_pipeline *p = calloc(1, sizeof *p);
    if (!p)
        abort(); /* as st_buf */
    p->cfg = *cfg;
    return p;
}

void st_pipeline_free(st_pipeline *p)
{
    free(p);
}

const st_pipeline_stats *st_pipeline_stats_get(const st_pipeline *p)
{
    return &p->stats;
}

const st_api *st_pipeline_table(const st_pipeline *p, size_t *n)
{
    *n = p->cfg.nrows;
    return p->cfg.table;
}

static const char *peer_of(const st_conn *conn)
{
    return conn ? st_conn_peer(conn) : "(detached)";
}

const char *st_req_peer(const st_req *req)
{
    return req->conn ? st_conn_peer(req->conn) : "(no connection)";
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
    st_session *s = st_conn_get_data(req->conn);
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
    st_session *s = conn ? st_conn_get_data(conn) : NULL;
    if (s && s->sasl == ST_SASL_AUTHENTICATED && !st_conn_authenticated(conn))
        st_conn_set_authenticated(conn);
    if (conn && close_after)
        st_conn_send_and_close(conn, r, close_after);
    else if (conn)
        st_conn_send(conn, r);
    else
        st_resp_free(r);
}

static void count_request(st_pipeline *p, int16_t key)
{
    p->stats.requests++;
    if (key >= 0 && (size_t)key < sizeof p->stats.requests_by_key / sizeof(uint64_t))
        p->stats.requests_by_key[key]++;
}

/* Counts a rejected frame (the caller logged why) and closes. Takes frame. */
static int reject(st_pipeline *p, uint8_t *frame)
{
    p->stats.bad_frames++;
    free(frame);
    return ST_CONN_CLOSE;
}

/* What the connection does after a handler (or a resume hook) returned rc for req.
 * Frees req unless it stays deferred. A deferred req may be gone already (its handler
 * finished it): then it is not touched. */
static int settle(st_pipeline *p, st_req *req, st_session *s, st_req_result rc)
{
    if (rc == ST_REQ_DEFERRED) {
        /* The handler may already have finished it (then pending is NULL again and req
         * is gone); otherwise hold further frames until it does. */
        if (s && !s->pending)
            return ST_CONN_NEXT;
        return ST_CONN_WAIT;
    }
    st_conn *conn = req->conn;
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
                 peer_of(conn), req->api->name, req->api_version, (int)rc);
        p->stats.bad_frames++;
        req_free(req);
        return ST_CONN_CLOSE;
    }
    st_warn("malformed %s v%d from %s (correlation id %d): closing", req->api->name,
            req->api_version, peer_of(conn), req->correlation_id);
    p->stats.bad_frames++;
    req_free(req);
    return ST_CONN_CLOSE;
}

int st_pipeline_on_request(st_pipeline *p, st_conn *conn, uint8_t *frame, size_t len)
{
    st_rd rd;
    st_rd_init(&rd, frame, len);
    /* Request header v1: api_key, api_version, correlation_id, client_id. */
    int16_t key = st_rd_i16(&rd);
    int16_t version = st_rd_i16(&rd);
    int32_t correlation_id = st_rd_i32(&rd);
    if (rd.err) {
        st_warn("%s: request header truncated (%zu bytes): closing", peer_of(conn), len);
        return reject(p, frame);
    }

    const st_api *api = st_api_find(p->cfg.table, p->cfg.nrows, key);
    if (!api) {
        st_warn("%s: unsupported API key %d (v%d): closing", peer_of(conn), key, version);
        return reject(p, frame);
    }
    if (version < api->min_version || version > api->max_version) {
        if (api->hooks && api->hooks->unsupported_version) {
            count_request(p, key);
            st_resp *r = st_resp_new(correlation_id, false);
            api->hooks->unsupported_version(r);
            send_or_drop(conn, r, NULL);
            free(frame);
            return ST_CONN_NEXT;
        }
        st_warn("%s: %s v%d is not supported (we serve v%d..v%d): closing", peer_of(conn),
                api->name, version, api->min_version, api->max_version);
        return reject(p, frame);
    }

    /* SASL listeners: until authenticated, only the rows marked ST_API_BEFORE_AUTH. Kafka
     * closes the connection here (IllegalSaslStateException) without an answer: most
     * responses have no common place for an error code, and a client this confused is
     * better told by a close. SASL requests out of order get ILLEGAL_SASL_STATE in their
     * own answer (sasl.c). */
    st_session *s = conn ? st_session_of(p, conn) : NULL;
    if (s && s->sasl != ST_SASL_AUTHENTICATED && !(api->flags & ST_API_BEFORE_AUTH)) {
        st_warn("%s: %s v%d before SASL authentication on a %s listener (ILLEGAL_SASL_STATE): "
                "closing",
                peer_of(conn), api->name, version, st_sec_protocol_name(s->protocol));
        return reject(p, frame);
    }

    bool flex = version >= api->first_flexible;
    st_str client_id = st_rd_str(&rd, false); /* NULLABLE_STRING even in header v2 */
    st_rd_tags(&rd, flex);                    /* header v2 adds a tagged-field block */
    if (rd.err) {
        st_warn("%s: %s v%d request header truncated after correlation id %d: closing",
                peer_of(conn), api->name, version, correlation_id);
        return reject(p, frame);
    }

    st_req *req = calloc(1, sizeof *req);
    if (!req)
        abort();
    req->broker = p->cfg.broker;
    req->shard = p->cfg.shard;
    req->pipeline = p;
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
    req->resp = st_resp_new(correlation_id, flex && !(api->flags & ST_API_HEADER_V0));
    req->received_us = st_mono_us();
    count_request(p, key);

    if (s)
        s->pending = req; /* so a finish from inside the handler is recognised */
    st_req_result rc = st_pipeline_run_metered(p, req, s, api->handler);
    return settle(p, req, s, rc);
}

/* ---- deferred requests ---- */

static void unlink_woken(st_pipeline *p, st_req *req)
{
    st_req **at = &p->woken_head, *prev = NULL;
    while (*at && *at != req) {
        prev = *at;
        at = &(*at)->next_woken;
    }
    if (!*at)
        return;
    *at = req->next_woken;
    if (p->woken_tail == req)
        p->woken_tail = prev;
    req->next_woken = NULL;
    req->woken = false;
}

void st_pipeline_on_close(st_pipeline *p, st_conn *conn)
{
    st_session *s = st_conn_get_data(conn);
    if (!s)
        return;
    st_req *pending = s->pending;
    st_conn_set_data(conn, NULL);
    if (pending) {
        pending->conn = NULL;
        if (pending->woken)
            unlink_woken(p, pending);
    }
    st_session_free(s); /* what the SASL exchange attached, first */
    /* A parked fetch may wait up to max_wait_ms; its client is gone, so its row frees it
     * now (a produce waiting for fsync finishes by itself shortly). */
    if (pending && pending->api->hooks && pending->api->hooks->cancel)
        pending->api->hooks->cancel(pending);
}

/* Resumes one woken request on its own turn: metered like a handler, then sent. */
static void resume(st_pipeline *p, st_req *req)
{
    st_conn *conn = req->conn;
    st_session *s = conn ? st_conn_get_data(conn) : NULL;
    st_req_result rc = st_pipeline_run_metered(p, req, s, req->api->hooks->resume);
    int next = settle(p, req, s, rc); /* req is freed unless it stays deferred */
    if (!conn)
        return;
    if (next == ST_CONN_CLOSE)
        st_conn_close(conn, "request failed after waiting");
    else if (next == ST_CONN_NEXT && rc == ST_REQ_SILENT)
        st_conn_resume(conn);
}

static void run_woken(void *arg)
{
    st_pipeline *p = arg;
    p->wake_posted = false;
    /* Only what is queued now: a resumed request's connection may send a request that
     * parks and is woken again before this returns; that one waits for the next run. */
    st_req *batch = p->woken_head;
    p->woken_head = p->woken_tail = NULL;
    while (batch) {
        st_req *req = batch;
        batch = req->next_woken;
        req->next_woken = NULL;
        req->woken = false;
        resume(p, req);
    }
}

void st_req_wake(st_req *req)
{
    st_pipeline *p = req->pipeline;
    if (req->woken)
        return;
    req->woken = true;
    if (p->woken_tail)
        p->woken_tail->next_woken = req;
    else
        p->woken_head = req;
    p->woken_tail = req;
    if (!p->wake_posted) {
        p->wake_posted = true;
        st_loop_post(p->cfg.loop, run_woken, p);
    }
}

void st_req_finish(st_req *req)
{
    detach_pending(req);
    if (req->woken)
        unlink_woken(req->pipeline, req);
    send_or_drop(req->conn, req->resp, req->close_after);
    req->resp = NULL;
    req_free(req);
}

void st_req_finish_silent(st_req *req)
{
    detach_pending(req);
    if (req->woken)
        unlink_woken(req->pipeline, req);
    if (req->conn)
        st_conn_resume(req->conn);
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
