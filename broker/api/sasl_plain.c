/*
 * PLAIN's SaslAuthenticate: the password check (PBKDF2, milliseconds of CPU) runs on the
 * worker pool, never on the event loop, and only after the login guard (auth/guard.h)
 * agreed to pay for it.
 *
 *   parse (auth/plain.h: user's credential, or a dummy of the same cost)
 *     → remembered verdict?               yes: answer now
 *     → st_auth_guard_check_begin:
 *         JOINED    the same (credential, user, password) is being checked: wait for it
 *         refused   over the address's rate or checks in flight, or the broker-wide cap:
 *                   answer SASL_AUTHENTICATION_FAILED after the failed-login delay
 *         ADMITTED  submit to the pool (the pool full: refused as above); the request is
 *                   deferred and its connection reads nothing more until the verdict
 *     → worker: st_plain_hash (touches only the check's own copy of the attempt)
 *     → loop:   plain_done: st_auth_guard_check_end (verdict remembered), then every
 *               login waiting for this check is answered.
 *
 * A connection that closes while its check is in flight: dispatch detaches the request
 * (req->conn = NULL, the session is freed); the check carries on with its own copies, and
 * plain_done finds no session, counts the failure against the address, frees the request
 * and moves on. Nothing of the session is reached through a pointer kept in the check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/guard.h"
#include "auth/plain.h"
#include "broker/api/sasl_int.h"
#include "broker/broker_int.h"
#include "broker/shard.h"
#include "broker/security/security.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/logging.h"

/* A login waiting for a check's verdict (the one that started it comes first). */
typedef struct waiter {
    st_req *req; /* owned until answered */
    char host[64];
    struct waiter *next;
} waiter;

/* A check in flight: owned by the pool from submit to plain_done. */
typedef struct plain_check {
    st_workq_job job;
    st_broker *broker;
    st_plain_attempt attempt; /* the worker reads and writes only this */
    uint8_t key[ST_AUTH_KEY_LEN];
    waiter *waiters; /* loop thread only */
    waiter **tail;
} plain_check;

static void check_free(plain_check *c)
{
    st_plain_attempt_clear(&c->attempt);
    free(c);
}

static void add_waiter(plain_check *c, st_req *req, const st_session *s)
{
    waiter *w = calloc(1, sizeof *w);
    if (!w)
        abort(); /* out of memory: as st_buf */
    w->req = req;
    snprintf(w->host, sizeof w->host, "%s", s->host);
    if (!c->tail)
        c->tail = &c->waiters;
    *c->tail = w;
    c->tail = &w->next;
}

/* The answer to one login once its verdict is known. Returns what a handler returns. */
static st_req_result answer(st_req *req, st_session *s, const st_plain_attempt *a)
{
    char why[512];
    if (st_plain_result(a, why, sizeof why))
        return st_sasl_fail(req, s, why);
    st_req_result rc;
    if (!st_sasl_authenticated(req, s, a->user, &rc))
        return rc;
    st_sasl_write_authenticate(req, ST_ERR_NONE, NULL, NULL, 0);
    return ST_REQ_DONE;
}

static void plain_work(void *arg)
{
    plain_check *c = arg;
    st_plain_hash(&c->attempt);
}

static void plain_done(void *arg)
{
    plain_check *c = arg;
    st_broker *b = c->broker;
    int64_t now = st_mono_ms();
    st_auth_guard_check_end(st_security_guard(b->security), c->key, c->attempt.match, now);
    char why[512];
    bool failed = st_plain_result(&c->attempt, why, sizeof why) != 0;
    for (waiter *w = c->waiters, *next; w; w = next) {
        next = w->next;
        st_req *req = w->req;
        st_session *s = st_req_session(req);
        if (!s) {
            /* The client left while its password was checked: nobody to answer, but a
             * failure still counts towards the address's failed-login delay. */
            req->shard->stats.auth_abandoned++;
            if (failed)
                st_security_auth_failure_delay(b->security, w->host, now);
            st_req_finish_silent(req); /* no connection: frees it */
        } else if (answer(req, s, &c->attempt) == ST_REQ_DONE) {
            st_req_finish(req);
        } /* else the failed-login delay holds it */
        free(w);
    }
    check_free(c);
}

/* A refusal by the budget, logged with the limit that refused. */
static st_req_result refuse(st_req *req, st_session *s, st_auth_verdict v)
{
    const st_auth_guard_config *gc =
        st_auth_guard_config_of(st_security_guard(req->broker->security));
    char why[300];
    switch (v) {
    case ST_AUTH_OVER_RATE:
        snprintf(why, sizeof why,
                 "more than %d password checks a second for %s "
                 "(security.auth_attempts_per_second)",
                 gc->rate_per_address, s->host);
        break;
    case ST_AUTH_OVER_INFLIGHT:
        snprintf(why, sizeof why,
                 "%d password checks for %s are running already (security.auth_checks_per_address)",
                 gc->inflight_per_address, s->host);
        break;
    default:
        snprintf(why, sizeof why,
                 "%d password checks are running or queued already, broker-wide "
                 "(security.auth_checks_max)",
                 gc->inflight_total);
        break;
    }
    return st_sasl_refuse_busy(req, s, why);
}

st_req_result st_sasl_plain(st_req *req, st_session *s, const uint8_t *bytes, size_t len)
{
    st_broker *b = req->broker;
    st_auth_guard *g = st_security_guard(b->security);
    int64_t now = st_mono_ms();
    char why[512];
    plain_check *c = calloc(1, sizeof *c);
    if (!c)
        abort(); /* out of memory: as st_buf */
    if (st_plain_parse(st_security_credstore(b->security), bytes, len, &c->attempt, why,
                       sizeof why)) {
        check_free(c);
        return st_sasl_fail(req, s, why);
    }
    st_auth_guard_key(g, &c->attempt.cred, c->attempt.user, c->attempt.password,
                      c->attempt.password_len, c->key);
    int cached = st_auth_guard_cached(g, c->key, now);
    if (cached >= 0) {
        c->attempt.match = cached;
        st_req_result rc = answer(req, s, &c->attempt);
        check_free(c);
        return rc;
    }
    void *running = NULL;
    st_auth_verdict v = st_auth_guard_check_begin(g, s->host, c->key, c, &running, now);
    if (v == ST_AUTH_JOINED) {
        add_waiter(running, req, s);
        check_free(c);
        st_req_release_frame(req); /* bytes points into it: not used past this point */
        return ST_REQ_DEFERRED;
    }
    if (v != ST_AUTH_ADMITTED) {
        check_free(c);
        return refuse(req, s, v);
    }
    c->broker = b;
    c->job = (st_workq_job){.work = plain_work, .done = plain_done, .arg = c};
    add_waiter(c, req, s);
    if (st_workq_submit(b->workq, &c->job) != 0) {
        st_auth_guard_check_end(g, c->key, -1, now);
        free(c->waiters);
        check_free(c);
        return refuse(req, s, ST_AUTH_BUSY);
    }
    st_req_release_frame(req); /* the check has its own copy of what it needs */
    return ST_REQ_DEFERRED;
}
