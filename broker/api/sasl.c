/*
 * SaslHandshake (17) v0–1 and SaslAuthenticate (36) v0–1: the SASL exchange on
 * SASL_PLAINTEXT and SASL_SSL listeners, driving the session's state (broker/request/session.h).
 *
 * PLAIN is one SaslAuthenticate, whose password check (PBKDF2) runs on the worker pool
 * behind the login guard (sasl_plain.c); SCRAM two (client-first → server-first,
 * client-final → server-final), here, on the loop: the server side of SCRAM is a few
 * HMACs (the client does the PBKDF2), so it needs neither. Any failure answers with its
 * error, marks the session FAILED and closes the connection after the answer. A wrong user
 * or password is logged with the peer address (at most ST_AUTH_GUARD_LOG_BURST lines per
 * address per ST_AUTH_GUARD_LOG_MS, then a count), and its answer is held back for a delay
 * that doubles with each recent failure from the same address (security.h), so guessing
 * passwords is slow while one honest typo costs a tenth of a second. The delay runs from
 * the moment the request arrived, so how long a check took never shows in when its
 * failure is answered.
 *
 * What the client is told never says whether the user exists: the broker log has the
 * precise reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/plain.h"
#include "auth/scram.h"
#include "broker/api/handlers.h"
#include "broker/api/sasl_int.h"
#include "broker/broker_int.h"
#include "broker/shard.h"
#include "broker/request/session.h"
#include "broker/quota/quota.h"
#include "broker/security/security.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/logging.h"

static const struct {
    unsigned bit;
    const char *name;
} mechs[] = {
    {ST_SASL_MECH_PLAIN, "PLAIN"},
    {ST_SASL_MECH_SCRAM_SHA_256, "SCRAM-SHA-256"},
    {ST_SASL_MECH_SCRAM_SHA_512, "SCRAM-SHA-512"},
};
#define NMECHS (sizeof mechs / sizeof mechs[0])

const char *st_sasl_mech_name(unsigned bit)
{
    for (size_t i = 0; i < NMECHS; i++)
        if (mechs[i].bit == bit)
            return mechs[i].name;
    return "?";
}

/* SaslHandshake response: error code and the enabled mechanisms. */
static void write_handshake(st_req *req, int16_t error)
{
    st_buf *out = st_resp_buf(req->resp);
    unsigned enabled = req->broker->cfg.sasl_mechanisms;
    int32_t n = 0;
    for (size_t i = 0; i < NMECHS; i++)
        n += (enabled & mechs[i].bit) != 0;
    st_buf_put_i16(out, error);
    st_wr_array(out, false, n);
    for (size_t i = 0; i < NMECHS; i++)
        if (enabled & mechs[i].bit)
            st_wr_str(out, false, mechs[i].name, (int32_t)strlen(mechs[i].name));
}

st_req_result st_handle_sasl_handshake(st_req *req)
{
    st_str mech = st_rd_str(&req->rd, false);
    if (req->rd.err || !mech.ptr)
        return ST_REQ_MALFORMED;
    st_session *s = st_req_session(req);
    const char *peer = req->conn ? st_conn_peer(req->conn) : "(detached)";
    if (!s || s->protocol == ST_SEC_PLAINTEXT || s->sasl != ST_SASL_START) {
        st_warn("%s: SaslHandshake %s (ILLEGAL_SASL_STATE): closing", peer,
                !s || s->protocol == ST_SEC_PLAINTEXT ? "on a PLAINTEXT listener"
                                                      : "after the handshake");
        write_handshake(req, ST_ERR_ILLEGAL_SASL_STATE);
        req->close_after = "SASL handshake out of order";
        if (s)
            s->sasl = ST_SASL_FAILED;
        return ST_REQ_DONE;
    }
    if (req->api_version == 0) {
        /* v0 is followed by raw SASL tokens outside Kafka framing (pre-KIP-152 clients);
         * every client in use sends v1 and SaslAuthenticate. */
        st_warn("%s: SaslHandshake v0 (unframed SASL tokens) is not supported; clients "
                "since Kafka 1.0 use v1: closing",
                peer);
        write_handshake(req, ST_ERR_UNSUPPORTED_VERSION);
        req->close_after = "SaslHandshake v0";
        s->sasl = ST_SASL_FAILED;
        return ST_REQ_DONE;
    }
    unsigned chosen = 0;
    for (size_t i = 0; i < NMECHS; i++)
        if (st_str_eq(mech, mechs[i].name))
            chosen = mechs[i].bit;
    if (!(chosen & req->broker->cfg.sasl_mechanisms)) {
        st_warn("%s: SASL mechanism \"%.*s\" is not enabled (UNSUPPORTED_SASL_MECHANISM): "
                "closing",
                peer, (int)(mech.len > 64 ? 64 : mech.len), mech.ptr);
        write_handshake(req, ST_ERR_UNSUPPORTED_SASL_MECHANISM);
        req->close_after = "unsupported SASL mechanism";
        s->sasl = ST_SASL_FAILED;
        return ST_REQ_DONE;
    }
    s->sasl = ST_SASL_HANDSHAKE;
    s->sasl_mech = chosen;
    s->handshake_version = req->api_version;
    write_handshake(req, ST_ERR_NONE);
    return ST_REQ_DONE;
}

void st_sasl_write_authenticate(st_req *req, int16_t error, const char *message, const void *bytes,
                                size_t len)
{
    st_buf *out = st_resp_buf(req->resp);
    st_buf_put_i16(out, error);
    st_wr_str(out, false, message, message ? (int32_t)strlen(message) : -1);
    st_wr_bytes(out, false, bytes ? bytes : "", (int32_t)len);
    if (req->api_version >= 1)
        st_buf_put_i64(out, 0); /* session_lifetime_ms: no re-authentication required */
}

/* What the SASL exchange keeps per connection, hung on the session (session.h): the
 * SCRAM conversation, and the tenant whose connection count this one holds. */
typedef struct sasl_state {
    st_broker *broker;
    st_scram_server *scram;              /* during a SCRAM exchange */
    char tenant[ST_TENANT_NAME_MAX + 1]; /* counted in its connections until close */
} sasl_state;

/* The connection closed: its SCRAM exchange and its place in its tenant's count go. */
static void sasl_release(st_session *s, void *attached)
{
    sasl_state *st = attached;
    if (st->tenant[0])
        st_bquota_connection_closed(st->broker->bquota, st->tenant);
    st_scram_server_free(st->scram);
    free(st);
}

static sasl_state *state_of(st_req *req, st_session *s)
{
    if (!s->attached) {
        sasl_state *st = calloc(1, sizeof *st);
        if (!st)
            abort(); /* as st_buf */
        st->broker = req->broker;
        st_session_attach(s, st, sasl_release);
    }
    return s->attached;
}

/* A failed login's answer held back for the slowdown: the request's state while it is
 * deferred (req->state). */
typedef struct held_answer {
    st_req *req;
    st_loop *loop;
    st_timer timer;
} held_answer;

static void delay_fired(st_loop *loop, st_timer *t)
{
    held_answer *h = t->arg;
    st_req *req = h->req;
    req->state = NULL;
    free(h);
    st_req_finish(req); /* sends the failure and closes (req->close_after) */
}

/* The row's cancel hook: the client left while its failure answer was held. (A PLAIN
 * login whose check is running has no state here: the check's completion finds the
 * request detached and frees it, sasl_plain.c.) */
static void sasl_cancel(st_req *req)
{
    held_answer *h = req->state;
    if (!h)
        return;
    st_timer_stop(h->loop, &h->timer);
    req->state = NULL;
    free(h);
    st_req_finish_silent(req); /* no connection: frees it */
}

const st_api_hooks st_sasl_authenticate_hooks = {.cancel = sasl_cancel};

/* A log line about the peer's logins, unless the address has had its share lately
 * (auth/guard.h): user names come from the wire, so control characters are replaced (a
 * newline must not forge a log line). */
static void log_login(st_req *req, st_session *s, const char *what, const char *why)
{
    uint64_t suppressed = 0;
    bool last = false;
    st_auth_guard *g = st_security_guard(req->broker->security);
    if (!st_auth_guard_log_due(g, s->host, st_mono_ms(), &suppressed, &last))
        return;
    char clean[600], note[200] = "";
    snprintf(clean, sizeof clean, "%s", why);
    for (char *p = clean; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    if (suppressed)
        snprintf(note, sizeof note, " (%llu such lines about %s left out before this one)",
                 (unsigned long long)suppressed, s->host);
    else if (last)
        snprintf(note, sizeof note,
                 " (the last such line about %s for %d s: the next one counts those left out)",
                 s->host, ST_AUTH_GUARD_LOG_MS / 1000);
    st_warn("SASL %s %s from %s: %s%s", st_sasl_mech_name(s->sasl_mech), what,
            req->conn ? st_conn_peer(req->conn) : s->host, clean, note);
}

st_req_result st_sasl_fail(st_req *req, st_session *s, const char *why)
{
    log_login(req, s, "authentication failed", why);
    char msg[256];
    snprintf(msg, sizeof msg,
             "Authentication failed during authentication due to invalid credentials with SASL "
             "mechanism %s",
             st_sasl_mech_name(s->sasl_mech));
    return st_sasl_refuse(req, s, msg, true);
}

st_req_result st_sasl_refuse_busy(st_req *req, st_session *s, const char *why)
{
    log_login(req, s, "login refused before any password check", why);
    return st_sasl_refuse(req, s,
                          "Authentication failed: too many logins are being checked for this "
                          "address or this broker; retry later",
                          true);
}

st_req_result st_sasl_refuse(st_req *req, st_session *s, const char *msg, bool slow)
{
    st_broker *b = req->broker;
    st_sasl_write_authenticate(req, ST_ERR_SASL_AUTHENTICATION_FAILED, msg, NULL, 0);
    s->sasl = ST_SASL_FAILED;
    req->close_after = "SASL authentication failed";
    int64_t now = st_mono_ms();
    int64_t delay = slow ? st_security_auth_failure_delay(b->security, s->host, now) : 0;
    /* From the request's arrival: a failure is answered at the same moment whether its
     * check ran, waited, was remembered or was refused (see the top of this file). */
    delay -= now - req->received_us / 1000;
    if (delay <= 0)
        return ST_REQ_DONE;
    st_req_release_frame(req); /* the wait holds the answer, not the request */
    held_answer *h = calloc(1, sizeof *h);
    if (!h)
        abort(); /* as st_buf */
    h->req = req;
    h->loop = req->shard->loop;
    h->timer.cb = delay_fired;
    h->timer.arg = h;
    req->state = h;
    st_timer_start(h->loop, &h->timer, delay);
    return ST_REQ_DEFERRED;
}

bool st_sasl_authenticated(st_req *req, st_session *s, const char *user, st_req_result *rc)
{
    st_broker *b = req->broker;
    const st_tenant *t = st_tenants_of_user(st_security_tenants(b->security), user);
    if (t) {
        char msg[300];
        if (st_bquota_connection_open(b->bquota, t->name, msg, sizeof msg)) {
            st_warn("%s: refusing %s: %s", req->conn ? st_conn_peer(req->conn) : "?", user, msg);
            *rc = st_sasl_refuse(req, s, msg, false);
            return false;
        }
        sasl_state *st = state_of(req, s);
        snprintf(st->tenant, sizeof st->tenant, "%s", t->name); /* counted until close */
    }
    snprintf(s->user, sizeof s->user, "%s", user);
    snprintf(s->principal, sizeof s->principal, "User:%s", user);
    s->sasl = ST_SASL_AUTHENTICATED;
    st_info("%s authenticated as %s with %s on %s", req->conn ? st_conn_peer(req->conn) : "?",
            s->principal, st_sasl_mech_name(s->sasl_mech), st_sec_protocol_name(s->protocol));
    return true;
}

st_req_result st_handle_sasl_authenticate(st_req *req)
{
    st_str bytes = st_rd_bytes(&req->rd, false);
    if (req->rd.err || !bytes.ptr)
        return ST_REQ_MALFORMED;
    st_session *s = st_req_session(req);
    if (!s || s->sasl != ST_SASL_HANDSHAKE) {
        const char *peer = req->conn ? st_conn_peer(req->conn) : "(detached)";
        st_warn("%s: SaslAuthenticate without a SaslHandshake first (ILLEGAL_SASL_STATE): "
                "closing",
                peer);
        st_sasl_write_authenticate(req, ST_ERR_ILLEGAL_SASL_STATE,
                                   "SaslAuthenticate must follow a successful SaslHandshake", NULL,
                                   0);
        req->close_after = "SASL exchange out of order";
        if (s)
            s->sasl = ST_SASL_FAILED;
        return ST_REQ_DONE;
    }
    if (s->sasl_mech == ST_SASL_MECH_PLAIN)
        return st_sasl_plain(req, s, (const uint8_t *)bytes.ptr, (size_t)bytes.len);

    st_credstore *creds = st_security_credstore(req->broker->security);
    char why[512];
    sasl_state *st = state_of(req, s);
    if (!st->scram) {
        st_scram_mech m =
            s->sasl_mech == ST_SASL_MECH_SCRAM_SHA_512 ? ST_SCRAM_SHA_512 : ST_SCRAM_SHA_256;
        st->scram = st_scram_server_new(creds, m);
        if (!st->scram)
            abort(); /* out of memory: as st_buf */
    }
    char *answer = NULL;
    size_t answer_len = 0;
    int rc = st_scram_server_step(st->scram, (const uint8_t *)bytes.ptr, (size_t)bytes.len, &answer,
                                  &answer_len, why, sizeof why);
    if (rc != 0) {
        /* The SCRAM layer names the user in its reason once it knows it. */
        const char *user = st_scram_server_user(st->scram);
        char full[600];
        if (user && !strstr(why, user))
            snprintf(full, sizeof full, "user \"%s\": %s", user, why);
        else
            snprintf(full, sizeof full, "%s", why);
        return st_sasl_fail(req, s, full);
    }
    if (st_scram_server_done(st->scram)) {
        st_req_result refused;
        bool ok = st_sasl_authenticated(req, s, st_scram_server_user(st->scram), &refused);
        st_scram_server_free(st->scram);
        st->scram = NULL;
        if (!ok) {
            free(answer);
            return refused;
        }
    }
    st_sasl_write_authenticate(req, ST_ERR_NONE, NULL, answer, answer_len);
    free(answer);
    return ST_REQ_DONE;
}
