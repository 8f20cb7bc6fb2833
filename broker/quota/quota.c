/*
 * Quotas and tenant limits on the broker side; see quota.h.
 *
 * Tenant use is measured, not tracked: retained bytes, partitions and topics are summed
 * over the topics with the tenant's prefix, at most once a second per tenant (a produce
 * checks its tenant on every request; summing 10,000 partitions each time would cost more
 * than the produce). Bytes appended since the last sum are added to it, so a tenant
 * writing fast cannot overshoot its limit by a second's worth of traffic; deletions and
 * retention show up at the next sum, within a second.
 */
#include "broker/quota/quota.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/tenants.h"
#include "broker/broker_int.h"
#include "broker/request/request.h"
#include "broker/request/session.h"
#include "broker/security/security.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/fileio.h"
#include "common/logging.h"

#define QUOTAS_FILE   "quotas.json"
#define USE_MAX_AGE   1000  /* ms a tenant's measured use is trusted */
#define WARN_EVERY_MS 10000 /* one log line per tenant and limit this often */

typedef struct tenant_state {
    char name[ST_TENANT_NAME_MAX + 1];
    st_tenant_use use;   /* retained_bytes/partitions/topics as of measured_ms */
    int64_t measured_ms; /* 0: never */
    int64_t appended;    /* bytes appended since measured_ms */
    int64_t connections;
    int64_t warned_ms;
} tenant_state;

struct st_bquota {
    tenant_state *tenants;
    size_t ntenants, cap;
};

static tenant_state *state_of(st_broker *b, const char *tenant)
{
    struct st_bquota *bq = b->bquota;
    for (size_t i = 0; i < bq->ntenants; i++)
        if (strcmp(bq->tenants[i].name, tenant) == 0)
            return &bq->tenants[i];
    if (bq->ntenants == bq->cap) {
        size_t cap = bq->cap ? bq->cap * 2 : 8;
        tenant_state *t = realloc(bq->tenants, cap * sizeof *t);
        if (!t)
            abort(); /* as st_buf */
        bq->tenants = t;
        bq->cap = cap;
    }
    tenant_state *s = &bq->tenants[bq->ntenants++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", tenant);
    return s;
}

int st_bquota_open(st_broker *b, char *err, size_t errlen)
{
    b->bquota = calloc(1, sizeof *b->bquota);
    b->quotas =
        st_quotas_new(b->cfg.quota_window_num, (int64_t)b->cfg.quota_window_size_seconds * 1000);
    if (!b->bquota || !b->quotas) {
        snprintf(err, errlen, "out of memory opening the quota store");
        return ST_ERR__NOMEM;
    }
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/meta/%s", b->cfg.data_dir, QUOTAS_FILE);
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        if (errno == ENOENT || access(path, F_OK) != 0)
            return 0;
        snprintf(err, errlen,
                 "%s:%d: %s (fix or move the file: straitd will not start without "
                 "the quotas it stored)",
                 path, jerr.line, jerr.text);
        return ST_ERR_INVALID_CONFIG;
    }
    char why[512];
    int rc = st_quotas_load_json(b->quotas, doc, why, sizeof why);
    json_decref(doc);
    if (rc) {
        snprintf(err, errlen, "%s: %s", path, why);
        return rc == ST_ERR__MALFORMED ? ST_ERR_INVALID_CONFIG : rc;
    }
    return 0;
}

void st_bquota_close(st_broker *b)
{
    st_quotas_free(b->quotas);
    b->quotas = NULL;
    if (b->bquota)
        free(b->bquota->tenants);
    free(b->bquota);
    b->bquota = NULL;
}

int st_bquota_save(st_broker *b, json_t *snapshot, char *err, size_t errlen)
{
    json_t *doc = st_quotas_to_json(b->quotas);
    char *text = doc ? json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    char dir[PATH_MAX + 8], why[512];
    snprintf(dir, sizeof dir, "%s/meta", b->cfg.data_dir);
    int rc = text
                 ? st_file_write_atomic(dir, QUOTAS_FILE, text, strlen(text), true, why, sizeof why)
                 : -1;
    if (!text)
        snprintf(why, sizeof why, "out of memory");
    free(text);
    if (rc < 0) {
        if (snapshot && st_quotas_load_json(b->quotas, snapshot, err, errlen) != 0)
            st_error("quotas: cannot restore the state before a failed change: %s", err);
        json_decref(snapshot);
        snprintf(err, errlen, "cannot save the quota change (undone): %s", why);
        st_error("quotas: %s", err);
        return ST_ERR__IO;
    }
    json_decref(snapshot);
    return 0;
}

/* Sums the tenant's topics now. */
static void measure(st_broker *b, const char *prefix, st_tenant_use *use)
{
    size_t plen = strlen(prefix);
    use->retained_bytes = use->partitions = use->topics = 0;
    for (size_t i = 0; i < st_topics_count(b->topics); i++) {
        const st_topic *t = st_topics_at(b->topics, i);
        if (strncmp(t->name, prefix, plen) != 0)
            continue;
        use->topics++;
        use->partitions += t->npartitions;
        for (int32_t p = 0; p < t->npartitions; p++)
            use->retained_bytes += st_log_size_bytes(t->partitions[p].log);
    }
}

/* The tenant's use, re-measured when older than USE_MAX_AGE (or when `fresh`). */
static tenant_state *current_use(st_broker *b, const st_tenant *tenant, bool fresh)
{
    tenant_state *s = state_of(b, tenant->name);
    int64_t now = st_mono_ms();
    if (fresh || s->measured_ms == 0 || now - s->measured_ms > USE_MAX_AGE) {
        measure(b, tenant->prefix, &s->use);
        s->measured_ms = now;
        s->appended = 0;
    }
    return s;
}

void st_bquota_tenant_use(st_broker *b, const char *tenant, st_tenant_use *out)
{
    memset(out, 0, sizeof *out);
    const st_tenant *t =
        b->security ? st_tenants_find(st_security_tenants(b->security), tenant) : NULL;
    if (!t)
        return;
    tenant_state *s = current_use(b, t, true);
    *out = s->use;
    out->connections = s->connections;
}

void st_bquota_client(const st_req *req, st_bquota_id *id)
{
    const st_session *s = st_req_session(req);
    snprintf(id->user, sizeof id->user, "%s", s && s->user[0] ? s->user : "ANONYMOUS");
    if (!st_str_copy(id->client_id, sizeof id->client_id, req->client_id))
        id->client_id[0] = '\0';
    id->tenant[0] = '\0';
    if (s && s->user[0] && req->broker->security) {
        const st_tenant *t =
            st_tenants_of_user(st_security_tenants(req->broker->security), s->user);
        if (t)
            snprintf(id->tenant, sizeof id->tenant, "%s", t->name);
    }
    id->c = (st_quota_client){id->user, id->client_id, id->tenant[0] ? id->tenant : NULL};
}

/* Logs a refusal at most once per WARN_EVERY_MS per tenant (a producer refused flat out
 * would otherwise write a line per request). */
static void warn_limit(st_broker *b, tenant_state *s, const char *msg)
{
    int64_t now = st_mono_ms();
    if (s->warned_ms && now - s->warned_ms < WARN_EVERY_MS)
        return;
    s->warned_ms = now;
    st_warn("%s", msg);
}

static void note_denial(st_broker *b, const char *tenant)
{
    st_quotas_note(b->quotas, tenant, ST_QM_DENIALS, 1, st_wall_ms());
}

int st_bquota_check_produce(st_req *req, const char *topic, size_t len, int64_t bytes, char *msg,
                            size_t cap)
{
    st_broker *b = req->broker;
    if (!b->security || !b->quotas)
        return 0;
    const st_tenant *t = st_tenants_of_topic(st_security_tenants(b->security), topic, len);
    double limit;
    if (!t || !st_quotas_limit(b->quotas, t->name, ST_QK_RETAINED_BYTES, &limit))
        return 0;
    tenant_state *s = current_use(b, t, false);
    int64_t used = s->use.retained_bytes + s->appended;
    if ((double)(used + bytes) <= limit) {
        s->appended += bytes;
        return 0;
    }
    snprintf(msg, cap,
             "tenant %s: retained_bytes limit %.0f reached (%lld bytes stored, this batch %lld); "
             "delete records or topics, or raise the limit",
             t->name, limit, (long long)used, (long long)bytes);
    warn_limit(b, s, msg);
    note_denial(b, t->name);
    return ST_ERR_POLICY_VIOLATION;
}

int st_bquota_check_create(st_broker *b, const char *topic, size_t len, int topics,
                           int64_t partitions, char *msg, size_t cap)
{
    if (!b->security || !b->quotas)
        return 0;
    const st_tenant *t = st_tenants_of_topic(st_security_tenants(b->security), topic, len);
    if (!t)
        return 0;
    tenant_state *s = current_use(b, t, true);
    double limit;
    if (topics > 0 && st_quotas_limit(b->quotas, t->name, ST_QK_TOPICS, &limit) &&
        (double)(s->use.topics + topics) > limit) {
        snprintf(msg, cap,
                 "tenant %s: topics limit %.0f reached (%lld topics exist); delete topics or raise "
                 "the limit",
                 t->name, limit, (long long)s->use.topics);
        note_denial(b, t->name);
        return ST_ERR_POLICY_VIOLATION;
    }
    if (st_quotas_limit(b->quotas, t->name, ST_QK_PARTITIONS, &limit) &&
        (double)(s->use.partitions + partitions) > limit) {
        snprintf(msg, cap,
                 "tenant %s: partitions limit %.0f would be exceeded (%lld partitions exist, "
                 "%lld more requested); delete topics or raise the limit",
                 t->name, limit, (long long)s->use.partitions, (long long)partitions);
        note_denial(b, t->name);
        return ST_ERR_POLICY_VIOLATION;
    }
    return 0;
}

int st_bquota_connection_open(st_broker *b, const char *tenant, char *msg, size_t cap)
{
    if (!b->quotas)
        return 0;
    tenant_state *s = state_of(b, tenant);
    double limit, rate;
    if (st_quotas_limit(b->quotas, tenant, ST_QK_CONNECTIONS, &limit) &&
        (double)(s->connections + 1) > limit) {
        snprintf(
            msg, cap,
            "tenant %s: connections limit %.0f reached (%lld open); close connections or raise "
            "the limit",
            tenant, limit, (long long)s->connections);
        note_denial(b, tenant);
        return ST_ERR_POLICY_VIOLATION;
    }
    if (st_quotas_connection_created(b->quotas, tenant, st_wall_ms(), &rate) &&
        st_quotas_limit(b->quotas, tenant, ST_QK_CONNECTION_CREATION_RATE, &limit)) {
        snprintf(msg, cap,
                 "tenant %s: connection_creation_rate limit %.2f/s exceeded (%.2f/s); retry "
                 "later",
                 tenant, limit, rate);
        note_denial(b, tenant);
        return ST_ERR_POLICY_VIOLATION;
    }
    s->connections++;
    return 0;
}

void st_bquota_connection_closed(st_broker *b, const char *tenant)
{
    if (!b->bquota)
        return;
    tenant_state *s = state_of(b, tenant);
    if (s->connections > 0)
        s->connections--;
}

void st_bquota_throttle(st_req *req, int64_t ms)
{
    if (ms <= 0 || !req->conn || !req->broker->quotas)
        return;
    st_bquota_id id;
    st_bquota_client(req, &id);
    st_quotas_note_throttle(req->broker->quotas, &id.c, ms, st_wall_ms());
    st_conn_mute(req->conn, ms);
}
