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
#include "broker/cluster/topics.h"
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
    st_quotas *engine;
    st_security *security; /* borrowed; NULL: no tenants */
    st_topics *topics;     /* borrowed */
    char meta_dir[PATH_MAX + 8];
    tenant_state *tenants;
    size_t ntenants, cap;
};

static tenant_state *state_of(st_bquota *bq, const char *tenant)
{
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

int st_bquota_open(const st_broker_config *cfg, st_security *sec, st_topics *topics,
                   st_bquota **out, char *err, size_t errlen)
{
    *out = NULL;
    st_bquota *bq = calloc(1, sizeof *bq);
    if (bq)
        bq->engine =
            st_quotas_new(cfg->quota_window_num, (int64_t)cfg->quota_window_size_seconds * 1000);
    if (!bq || !bq->engine) {
        free(bq);
        snprintf(err, errlen, "out of memory opening the quota store");
        return ST_ERR__NOMEM;
    }
    bq->security = sec;
    bq->topics = topics;
    snprintf(bq->meta_dir, sizeof bq->meta_dir, "%s/meta", cfg->data_dir);
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", bq->meta_dir, QUOTAS_FILE);
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        if (errno == ENOENT || access(path, F_OK) != 0) {
            *out = bq;
            return 0;
        }
        snprintf(err, errlen,
                 "%s:%d: %s (fix or move the file: straitd will not start without "
                 "the quotas it stored)",
                 path, jerr.line, jerr.text);
        st_bquota_close(bq);
        return ST_ERR_INVALID_CONFIG;
    }
    char why[512];
    int rc = st_quotas_load_json(bq->engine, doc, why, sizeof why);
    json_decref(doc);
    if (rc) {
        snprintf(err, errlen, "%s: %s", path, why);
        st_bquota_close(bq);
        return rc == ST_ERR__MALFORMED ? ST_ERR_INVALID_CONFIG : rc;
    }
    *out = bq;
    return 0;
}

void st_bquota_close(st_bquota *bq)
{
    if (!bq)
        return;
    st_quotas_free(bq->engine);
    free(bq->tenants);
    free(bq);
}

st_quotas *st_bquota_engine(st_bquota *bq)
{
    return bq->engine;
}

int st_bquota_save(st_bquota *bq, json_t *snapshot, char *err, size_t errlen)
{
    json_t *doc = st_quotas_to_json(bq->engine);
    char *text = doc ? json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    char why[512];
    int rc = text ? st_file_write_atomic(bq->meta_dir, QUOTAS_FILE, text, strlen(text), true, why,
                                         sizeof why)
                  : -1;
    if (!text)
        snprintf(why, sizeof why, "out of memory");
    free(text);
    if (rc < 0) {
        if (snapshot && st_quotas_load_json(bq->engine, snapshot, err, errlen) != 0)
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
static void measure(st_bquota *bq, const char *prefix, st_tenant_use *use)
{
    size_t plen = strlen(prefix);
    use->retained_bytes = use->partitions = use->topics = 0;
    for (size_t i = 0; i < st_topics_count(bq->topics); i++) {
        const st_topic *t = st_topics_at(bq->topics, i);
        if (strncmp(st_topic_name(t), prefix, plen) != 0)
            continue;
        use->topics++;
        use->partitions += st_topic_partition_count(t);
        for (int32_t p = 0; p < st_topic_partition_count(t); p++)
            use->retained_bytes += st_log_size_bytes(st_topic_log(t, p));
    }
}

/* The tenant's use, re-measured when older than USE_MAX_AGE (or when `fresh`). */
static tenant_state *current_use(st_bquota *bq, const st_tenant *tenant, bool fresh)
{
    tenant_state *s = state_of(bq, tenant->name);
    int64_t now = st_mono_ms();
    if (fresh || s->measured_ms == 0 || now - s->measured_ms > USE_MAX_AGE) {
        measure(bq, tenant->prefix, &s->use);
        s->measured_ms = now;
        s->appended = 0;
    }
    return s;
}

static st_tenants *tenants_of(const st_bquota *bq)
{
    return bq->security ? st_security_tenants(bq->security) : NULL;
}

void st_bquota_tenant_use(st_bquota *bq, const char *tenant, st_tenant_use *out)
{
    memset(out, 0, sizeof *out);
    const st_tenant *t = bq->security ? st_tenants_find(tenants_of(bq), tenant) : NULL;
    if (!t)
        return;
    tenant_state *s = current_use(bq, t, true);
    *out = s->use;
    out->connections = s->connections;
}

/* ---- the request path ---- */

void st_bquota_identity(st_bquota *bq, const char *user, const char *client_id, int32_t len,
                        st_bquota_id *id)
{
    bool named = user && user[0];
    snprintf(id->user, sizeof id->user, "%s", named ? user : "ANONYMOUS");
    if (len < 0 || (size_t)len >= sizeof id->client_id)
        len = 0;
    memcpy(id->client_id, client_id ? client_id : "", (size_t)len);
    id->client_id[len] = '\0';
    id->tenant[0] = '\0';
    if (named && bq->security) {
        const st_tenant *t = st_tenants_of_user(tenants_of(bq), user);
        if (t)
            snprintf(id->tenant, sizeof id->tenant, "%s", t->name);
    }
    id->c = (st_quota_client){id->user, id->client_id, id->tenant[0] ? id->tenant : NULL};
}

uint64_t st_bquota_version(const st_bquota *bq)
{
    /* Both only grow, so their sum moves whenever either does; +1 keeps it off 0. */
    return st_quotas_version(bq->engine) + (bq->security ? st_security_version(bq->security) : 0) +
           1;
}

int64_t st_bquota_charge(st_bquota *bq, const st_bquota_id *id, st_quota_kind kind, double amount)
{
    return st_quotas_record(bq->engine, &id->c, kind, amount, st_wall_ms());
}

int64_t st_bquota_owed(st_bquota *bq, const st_bquota_id *id, st_quota_kind kind)
{
    return st_quotas_owed(bq->engine, &id->c, kind, st_wall_ms());
}

bool st_bquota_window(st_bquota *bq, const st_bquota_id *id, st_quota_kind kind, double *amount)
{
    return st_quotas_window_budget(bq->engine, &id->c, kind, amount);
}

void st_bquota_note_throttle(st_bquota *bq, const st_bquota_id *id, int64_t ms)
{
    st_quotas_note_throttle(bq->engine, &id->c, ms, st_wall_ms());
}

static void note_denial(st_bquota *bq, const char *tenant)
{
    st_quotas_note(bq->engine, tenant, ST_QM_DENIALS, 1, st_wall_ms());
}

void st_bquota_note_denial(st_bquota *bq, const char *user)
{
    const st_tenant *t =
        user && user[0] && bq->security ? st_tenants_of_user(tenants_of(bq), user) : NULL;
    if (t)
        note_denial(bq, t->name);
}

void st_bquota_sweep(st_bquota *bq)
{
    st_quotas_sweep(bq->engine, st_wall_ms());
}

/* Logs a refusal at most once per WARN_EVERY_MS per tenant (a producer refused flat out
 * would otherwise write a line per request). */
static void warn_limit(tenant_state *s, const char *msg)
{
    int64_t now = st_mono_ms();
    if (s->warned_ms && now - s->warned_ms < WARN_EVERY_MS)
        return;
    s->warned_ms = now;
    st_warn("%s", msg);
}

int st_bquota_check_produce(st_bquota *bq, const char *topic, size_t len, int64_t bytes, char *msg,
                            size_t cap)
{
    if (!bq->security)
        return 0;
    const st_tenant *t = st_tenants_of_topic(tenants_of(bq), topic, len);
    double limit;
    if (!t || !st_quotas_limit(bq->engine, t->name, ST_QK_RETAINED_BYTES, &limit))
        return 0;
    tenant_state *s = current_use(bq, t, false);
    int64_t used = s->use.retained_bytes + s->appended;
    if ((double)(used + bytes) <= limit) {
        s->appended += bytes;
        return 0;
    }
    snprintf(msg, cap,
             "tenant %s: retained_bytes limit %.0f reached (%lld bytes stored, this batch %lld); "
             "delete records or topics, or raise the limit",
             t->name, limit, (long long)used, (long long)bytes);
    warn_limit(s, msg);
    note_denial(bq, t->name);
    return ST_ERR_POLICY_VIOLATION;
}

const char *st_bquota_tenant_of(st_bquota *bq, const char *topic, size_t len)
{
    if (!bq->security)
        return NULL;
    const st_tenant *t = st_tenants_of_topic(tenants_of(bq), topic, len);
    return t ? t->name : NULL;
}

int st_bquota_check_create(st_bquota *bq, const char *topic, size_t len, int topics,
                           int64_t partitions, char *msg, size_t cap)
{
    if (!bq->security)
        return 0;
    const st_tenant *t = st_tenants_of_topic(tenants_of(bq), topic, len);
    if (!t)
        return 0;
    tenant_state *s = current_use(bq, t, true);
    double limit;
    if (topics > 0 && st_quotas_limit(bq->engine, t->name, ST_QK_TOPICS, &limit) &&
        (double)(s->use.topics + topics) > limit) {
        snprintf(msg, cap,
                 "tenant %s: topics limit %.0f reached (%lld topics exist); delete topics or raise "
                 "the limit",
                 t->name, limit, (long long)s->use.topics);
        note_denial(bq, t->name);
        return ST_ERR_POLICY_VIOLATION;
    }
    if (st_quotas_limit(bq->engine, t->name, ST_QK_PARTITIONS, &limit) &&
        (double)(s->use.partitions + partitions) > limit) {
        snprintf(msg, cap,
                 "tenant %s: partitions limit %.0f would be exceeded (%lld partitions exist, "
                 "%lld more requested); delete topics or raise the limit",
                 t->name, limit, (long long)s->use.partitions, (long long)partitions);
        note_denial(bq, t->name);
        return ST_ERR_POLICY_VIOLATION;
    }
    return 0;
}

int st_bquota_connection_open(st_bquota *bq, const char *tenant, char *msg, size_t cap)
{
    tenant_state *s = state_of(bq, tenant);
    double limit, rate;
    if (st_quotas_limit(bq->engine, tenant, ST_QK_CONNECTIONS, &limit) &&
        (double)(s->connections + 1) > limit) {
        snprintf(
            msg, cap,
            "tenant %s: connections limit %.0f reached (%lld open); close connections or raise "
            "the limit",
            tenant, limit, (long long)s->connections);
        note_denial(bq, tenant);
        return ST_ERR_POLICY_VIOLATION;
    }
    if (st_quotas_connection_created(bq->engine, tenant, st_wall_ms(), &rate) &&
        st_quotas_limit(bq->engine, tenant, ST_QK_CONNECTION_CREATION_RATE, &limit)) {
        snprintf(msg, cap,
                 "tenant %s: connection_creation_rate limit %.2f/s exceeded (%.2f/s); retry "
                 "later",
                 tenant, limit, rate);
        note_denial(bq, tenant);
        return ST_ERR_POLICY_VIOLATION;
    }
    s->connections++;
    return 0;
}

void st_bquota_connection_closed(st_bquota *bq, const char *tenant)
{
    tenant_state *s = state_of(bq, tenant);
    if (s->connections > 0)
        s->connections--;
}
