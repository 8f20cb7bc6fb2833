/*
 * The pipeline's quota stage: the request's identity (cached in its session), request
 * time and the row's byte rate charged through the broker's quota door
 * (broker/quota/quota.h), and the throttle applied — written into the answer's
 * throttle_time_ms where the handler marked it, and the connection muted (KIP-219).
 *
 * Not before authentication: a client that has not logged in has no identity to charge,
 * and must not create sensors by inventing client ids.
 */
#include <string.h>

#include "broker/request/request_int.h"
#include "common/clock.h"

/* Does the cached client id say the same as `id` (as st_bquota_identity would copy it:
 * null or 256 bytes and more read as "")? */
static bool same_client_id(const char *cached, st_str id)
{
    size_t len = id.len < 0 || id.len >= ST_BQUOTA_CLIENT_ID_MAX ? 0 : (size_t)id.len;
    return strlen(cached) == len && memcmp(cached, id.ptr ? id.ptr : "", len) == 0;
}

/* The session's identity for req, rebuilt when stale; NULL when req is not metered.
 * Borrowed from the session. */
static const st_bquota_id *identity_of(st_pipeline *p, st_session *s, const st_req *req)
{
    st_bquota *bq = p->cfg.quota;
    if (!bq || !req->conn || !s || s->sasl != ST_SASL_AUTHENTICATED)
        return NULL;
    uint64_t v = st_bquota_version(bq);
    if (s->quota_id_version != v || !same_client_id(s->quota_id.client_id, req->client_id)) {
        st_bquota_identity(bq, s->user, req->client_id.ptr, req->client_id.len, &s->quota_id);
        s->quota_id_version = v;
    }
    return &s->quota_id;
}

static st_quota_kind byte_kind(const st_req *req)
{
    return req->api->quota == ST_API_QUOTA_PRODUCE ? ST_QUOTA_PRODUCE : ST_QUOTA_FETCH;
}

/* The throttle for the row's bytes: what was owed already, else what recording them
 * costs. Written into the answer's field; noted when > 0. */
static int64_t settle_bytes(st_bquota *bq, st_req *req, const st_bquota_id *id)
{
    int64_t throttle = req->owed_ms;
    if (throttle == 0 && req->charged_bytes > 0 && req->api->quota != ST_API_QUOTA_NONE)
        throttle = st_bquota_charge(bq, id, byte_kind(req), (double)req->charged_bytes);
    req->charged_bytes = 0;
    req->owed_ms = 0;
    if (throttle > 0 && req->throttle_pos && req->resp) {
        st_buf *out = st_resp_buf(req->resp);
        st_buf_patch_i32(out, req->throttle_pos,
                         (int32_t)(throttle > INT32_MAX ? INT32_MAX : throttle));
    }
    if (throttle > 0)
        st_bquota_note_throttle(bq, id, throttle);
    return throttle;
}

st_req_result st_pipeline_run_metered(st_pipeline *p, st_req *req, st_session *s, st_handler_fn *fn)
{
    const st_bquota_id *cached = identity_of(p, s, req);
    if (!cached)
        return fn(req);
    /* A copy: the handler may end the session (and it is a few hundred bytes). */
    st_bquota_id id = *cached;
    id.c = (st_quota_client){id.user, id.client_id, id.tenant[0] ? id.tenant : NULL};
    st_conn *conn = req->conn;
    st_bquota *bq = p->cfg.quota;
    req->quota_id = &id;
    int64_t t0 = st_mono_us();
    st_req_result rc = fn(req);
    int64_t elapsed_us = st_mono_us() - t0;
    /* A deferred req may be gone already (its handler finished it); one still held is
     * the session's pending request. */
    bool alive = rc != ST_REQ_DEFERRED || (s->pending == req);
    int64_t mute = 0;
    if (alive) {
        mute = settle_bytes(bq, req, &id);
        req->quota_id = NULL;
    }
    /* request_percentage: over it, the connection is muted (Kafka also puts this throttle
     * in throttle_time_ms; ours carries the byte-rate one, and the mute enforces both). */
    int64_t time_throttle =
        st_bquota_charge(bq, &id, ST_QUOTA_REQUEST, (double)elapsed_us / 1000.0);
    if (time_throttle > 0)
        st_bquota_note_throttle(bq, &id, time_throttle);
    if (time_throttle > mute)
        mute = time_throttle;
    if (mute > 0)
        st_conn_mute(conn, mute);
    return rc;
}

void st_req_throttle_field(st_req *req)
{
    st_buf *out = st_resp_buf(req->resp);
    req->throttle_pos = out->len;
    st_buf_put_i32(out, 0);
}

void st_req_charge(st_req *req, int64_t bytes)
{
    if (bytes > 0)
        req->charged_bytes += bytes;
}

void st_req_owes(st_req *req, int64_t ms)
{
    if (ms > 0)
        req->owed_ms = ms;
}

int64_t st_req_quota_owed(const st_req *req)
{
    if (!req->quota_id || req->api->quota == ST_API_QUOTA_NONE)
        return 0;
    return st_bquota_owed(req->pipeline->cfg.quota, req->quota_id, byte_kind(req));
}

bool st_req_quota_window(const st_req *req, double *amount)
{
    if (!req->quota_id || req->api->quota == ST_API_QUOTA_NONE)
        return false;
    return st_bquota_window(req->pipeline->cfg.quota, req->quota_id, byte_kind(req), amount);
}
