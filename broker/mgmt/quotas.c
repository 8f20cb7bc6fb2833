/*
 * The quotas.* and explain management commands (registered in admin.c's table), for
 * `strait quotas`, `strait explain` and the console.
 *
 * An entity is {user?, client-id?, tenant?}, each a name or "<default>" (JSON null also
 * means the default). Changes follow quota.h: every change is first tried on a scratch
 * engine (which checks entity shape, key and value exactly as the live one does), then
 * applied to the live engine and saved with one st_bquota_save, so a command's changes
 * are all-or-nothing and never reported done before they are on disk.
 *
 * Results:
 *   quotas.set {entity, key, value} or {entity, values{k:v}}
 *                        → {entity, set{k:v}, previous{k: v or null}}
 *   quotas.remove {entity, key} or {entity, keys[k]}
 *                        → {entity, removed[k], not_set[k]}
 *   quotas.describe {entity?} → {quotas:[{entity, key, value}]}
 *   quotas.usage {tenant?}    → {tenants:[{tenant, prefix, users, limits, quotas, metrics}],
 *                                sensors: st_quotas_usage}
 *   quotas.metrics {tenant, seconds?} → st_quotas_metrics
 *   explain {principal, client_id?, host?, operation?, resource_type?, resource_name?,
 *            kind?} → {principal, user, tenant, host, client_id, acls?[...], quotas?[...],
 *                      tenant_limits?}
 */
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth/acl.h"
#include "auth/tenants.h"
#include "broker/mgmt/admin.h"
#include "broker/mgmt/mgmt_int.h"
#include "broker/broker_int.h"
#include "broker/quota/quota.h"
#include "broker/security/security.h"
#include "common/clock.h"
#include "common/errors.h"
#include "quotas/quotas.h"

#define METRICS_SECONDS_USAGE 10 /* per-second history shown by quotas.usage */
#define METRICS_SECONDS_DFLT  60

/* ---- helpers ---- */

/* The quota engine, or NULL with err set (the fuzz harness opens none). Clears err. */
static st_quotas *need_quotas(st_broker *b, char *err, size_t errlen)
{
    *err = '\0';
    if (!b->bquota) {
        snprintf(err, errlen, "the broker has no quota engine open (quotas are unavailable)");
        return NULL;
    }
    return st_bquota_engine(b->bquota);
}

/* A whole number as an integer (so 1048576 prints as such), anything else as a real. */
static json_t *num_json(double v)
{
    /* a range check and a cast rather than floor(): st_broker does not link libm */
    if (v > -9007199254740992.0 && v < 9007199254740992.0 && (double)(int64_t)v == v)
        return json_integer((json_int_t)v);
    return json_real(v);
}

static json_t *entity_json(const st_quota_entity *e)
{
    json_t *o = json_object();
    if (o && e->user)
        json_object_set_new(o, "user", json_string(e->user));
    if (o && e->client_id)
        json_object_set_new(o, "client-id", json_string(e->client_id));
    if (o && e->tenant)
        json_object_set_new(o, "tenant", json_string(e->tenant));
    return o;
}

/* The "entity" argument: *e borrows its strings from args. 0 or -1 with err set. */
static int arg_entity(json_t *args, bool required, st_quota_entity *e, bool *given, char *err,
                      size_t errlen)
{
    static const char *const keys[] = {"user", "client-id", "tenant"};
    const char *parts[3] = {NULL};
    const char *key;
    json_t *v, *obj = json_object_get(args, "entity");
    memset(e, 0, sizeof(*e));
    *given = obj && !json_is_null(obj);
    if (!*given) {
        if (required)
            snprintf(err, errlen,
                     "\"entity\" is required: {user?, client-id?} or {tenant}, each a name or "
                     "\"" ST_QUOTA_DEFAULT "\"");
        return required ? -1 : 0;
    }
    if (!json_is_object(obj) || json_object_size(obj) == 0) {
        snprintf(err, errlen,
                 "\"entity\" must be a non-empty object: {user?, client-id?} or {tenant}");
        return -1;
    }
    json_object_foreach(obj, key, v)
    {
        size_t i = 0;
        while (i < 3 && strcmp(key, keys[i]) != 0)
            i++;
        if (i == 3) {
            snprintf(err, errlen,
                     "entity: unknown entity type \"%.64s\" (user, client-id or tenant)", key);
            return -1;
        }
        if (json_is_null(v))
            parts[i] = ST_QUOTA_DEFAULT;
        else if (json_is_string(v) && json_string_length(v) > 0 &&
                 strlen(json_string_value(v)) == json_string_length(v))
            parts[i] = json_string_value(v);
        else {
            snprintf(err, errlen,
                     "entity: \"%s\" must be a non-empty name, or \"" ST_QUOTA_DEFAULT
                     "\" (or null) for the default %s",
                     key, key);
            return -1;
        }
    }
    *e = (st_quota_entity){parts[0], parts[1], parts[2]};
    return 0;
}

/* "user=alice client-id=<default>" into buf, for messages. */
static const char *entity_text(const st_quota_entity *e, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s%s%s%s%s", e->user ? "user=" : "", e->user ? e->user : "",
             e->user && e->client_id ? " " : "", e->client_id ? "client-id=" : "",
             e->client_id ? e->client_id : "", e->tenant ? "tenant=" : "",
             e->tenant ? e->tenant : "");
    return buf;
}

/* One change of a command. */
typedef struct change {
    const char *key; /* borrowed from args */
    double value;
    bool remove;
} change;

/*
 * Tries the changes on a scratch engine, then applies them to the live one and saves.
 * All or nothing: 0, or -1 with err set (the engine's reason, prefixed by the entity).
 */
static int apply_changes(st_broker *b, const st_quota_entity *e, const change *c, size_t n,
                         char *err, size_t errlen)
{
    char what[600], reason[800] = "";
    entity_text(e, what, sizeof what);
    st_quotas *scratch = st_quotas_new(2, 1000);
    if (!scratch)
        return st_admin_oom(err, errlen);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        for (size_t j = 0; j < i && rc == 0; j++)
            if (strcmp(c[j].key, c[i].key) == 0) {
                snprintf(reason, sizeof reason, "%s: key %s given twice", what, c[i].key);
                rc = ST_ERR_INVALID_REQUEST;
            }
        if (rc == 0)
            rc = st_quotas_alter(scratch, e, c[i].key, c[i].value, c[i].remove, reason,
                                 sizeof reason);
    }
    st_quotas_free(scratch);
    if (rc != 0) {
        /* the engine's reasons name the entity already */
        if (reason[0])
            snprintf(err, errlen, "%s", reason);
        else
            snprintf(err, errlen, "%s: %s", what, st_err_name(rc));
        return -1;
    }
    json_t *snapshot = st_quotas_to_json(st_bquota_engine(b->bquota));
    if (!snapshot)
        return st_admin_oom(err, errlen);
    for (size_t i = 0; i < n; i++)
        if (st_quotas_alter(st_bquota_engine(b->bquota), e, c[i].key, c[i].value, c[i].remove,
                            reason, sizeof reason) != 0) {
            /* it passed on the scratch engine: only memory fails here; undo everything */
            st_quotas_load_json(st_bquota_engine(b->bquota), snapshot, reason, sizeof reason);
            json_decref(snapshot);
            return st_admin_oom(err, errlen);
        }
    return st_bquota_save(b->bquota, snapshot, err, errlen) == 0 ? 0 : -1;
}

/* The changes of quotas.set: {key, value} or {values{k:v}}. Keys borrow from args. */
static int set_changes(json_t *args, change **out, size_t *n, char *err, size_t errlen)
{
    json_t *key = json_object_get(args, "key"), *value = json_object_get(args, "value");
    json_t *values = json_object_get(args, "values");
    *out = NULL;
    *n = 0;
    if ((key || value) && values) {
        snprintf(err, errlen, "give either \"key\" and \"value\", or \"values\", not both");
        return -1;
    }
    if (!values) {
        if (!json_is_string(key) || json_string_length(key) == 0 || !json_is_number(value)) {
            snprintf(err, errlen,
                     "\"key\" (a quota key such as producer_byte_rate) and \"value\" (a "
                     "number) are required");
            return -1;
        }
        if (!(*out = malloc(sizeof(**out))))
            return st_admin_oom(err, errlen);
        (*out)[0] = (change){json_string_value(key), json_number_value(value), false};
        *n = 1;
        return 0;
    }
    if (!json_is_object(values) || json_object_size(values) == 0) {
        snprintf(err, errlen, "\"values\" must be a non-empty object of quota keys to numbers");
        return -1;
    }
    if (!(*out = calloc(json_object_size(values), sizeof(**out))))
        return st_admin_oom(err, errlen);
    const char *k;
    json_t *v;
    json_object_foreach(values, k, v)
    {
        if (!json_is_number(v)) {
            snprintf(err, errlen, "\"values\".%s must be a number", k);
            free(*out);
            *out = NULL;
            return -1;
        }
        (*out)[(*n)++] = (change){k, json_number_value(v), false};
    }
    return 0;
}

/* ---- quotas.set / quotas.remove / quotas.describe ---- */

int st_admin_quotas_set(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    st_quota_entity e;
    bool given;
    change *c = NULL;
    size_t n = 0;
    int ret = -1;
    st_quotas *q = need_quotas(b, err, errlen);
    if (!q || arg_entity(args, true, &e, &given, err, errlen) ||
        set_changes(args, &c, &n, err, errlen))
        goto out;
    json_t *set = json_object(), *previous = json_object();
    for (size_t i = 0; set && previous && i < n; i++) {
        double old;
        json_object_set_new(set, c[i].key, num_json(c[i].value));
        json_object_set_new(previous, c[i].key,
                            st_quotas_get(q, &e, c[i].key, &old) ? num_json(old) : json_null());
    }
    if (apply_changes(b, &e, c, n, err, errlen) != 0) {
        json_decref(set);
        json_decref(previous);
        goto out;
    }
    *result =
        json_pack("{s:o, s:o, s:o}", "entity", entity_json(&e), "set", set, "previous", previous);
    ret = *result ? 0 : st_admin_oom(err, errlen);
out:
    free(c);
    return ret;
}

int st_admin_quotas_remove(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    st_quota_entity e;
    bool given;
    change *c = NULL;
    size_t n = 0;
    int ret = -1;
    st_quotas *q = need_quotas(b, err, errlen);
    if (!q || arg_entity(args, true, &e, &given, err, errlen))
        goto out;
    json_t *key = json_object_get(args, "key"), *keys = json_object_get(args, "keys");
    if ((key && keys) || (!key && !keys)) {
        snprintf(err, errlen, "give \"key\" (a quota key) or \"keys\" (an array of them)");
        goto out;
    }
    if (key && (!json_is_string(key) || json_string_length(key) == 0)) {
        snprintf(err, errlen, "\"key\" must be a quota key such as producer_byte_rate");
        goto out;
    }
    if (keys && (!json_is_array(keys) || json_array_size(keys) == 0)) {
        snprintf(err, errlen, "\"keys\" must be a non-empty array of quota keys");
        goto out;
    }
    size_t count = key ? 1 : json_array_size(keys);
    if (!(c = calloc(count, sizeof(*c)))) {
        st_admin_oom(err, errlen);
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        json_t *k = key ? key : json_array_get(keys, i);
        if (!json_is_string(k) || json_string_length(k) == 0) {
            snprintf(err, errlen, "\"keys\"[%zu] must be a quota key (a string)", i);
            goto out;
        }
        c[n++] = (change){json_string_value(k), 0, true};
    }
    json_t *removed = json_array(), *not_set = json_array();
    bool any = false;
    for (size_t i = 0; removed && not_set && i < n; i++) {
        double old;
        bool was = st_quotas_get(q, &e, c[i].key, &old);
        json_array_append_new(was ? removed : not_set, json_string(c[i].key));
        any |= was;
    }
    /* nothing set: still checked (an unknown key is an error), nothing to write */
    int rc = any ? apply_changes(b, &e, c, n, err, errlen) : 0;
    if (rc == 0 && !any) {
        st_quotas *scratch = st_quotas_new(2, 1000);
        char reason[400] = "", what[600];
        for (size_t i = 0; scratch && rc == 0 && i < n; i++)
            rc = st_quotas_alter(scratch, &e, c[i].key, 0, true, reason, sizeof reason);
        st_quotas_free(scratch);
        if (rc != 0 && reason[0])
            snprintf(err, errlen, "%s", reason);
        else if (rc != 0)
            snprintf(err, errlen, "%s: %s", entity_text(&e, what, sizeof what), st_err_name(rc));
    }
    if (rc != 0) {
        json_decref(removed);
        json_decref(not_set);
        goto out;
    }
    *result = json_pack("{s:o, s:o, s:o}", "entity", entity_json(&e), "removed", removed, "not_set",
                        not_set);
    ret = *result ? 0 : st_admin_oom(err, errlen);
out:
    free(c);
    return ret;
}

static bool same_part(const char *a, const char *b)
{
    return (a == NULL) == (b == NULL) && (!a || strcmp(a, b) == 0);
}

typedef struct describe_ctx {
    const st_quota_entity *only; /* NULL: every entity */
    json_t *list;
} describe_ctx;

static void describe_one(void *arg, const st_quota_entity *e, const char *key, double value)
{
    describe_ctx *ctx = arg;
    const st_quota_entity *f = ctx->only;
    if (f && !(same_part(f->user, e->user) && same_part(f->client_id, e->client_id) &&
               same_part(f->tenant, e->tenant)))
        return;
    json_array_append_new(ctx->list, json_pack("{s:o, s:s, s:o}", "entity", entity_json(e), "key",
                                               key, "value", num_json(value)));
}

int st_admin_quotas_describe(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    st_quota_entity e;
    bool given;
    st_quotas *q = need_quotas(b, err, errlen);
    if (!q || arg_entity(args, false, &e, &given, err, errlen))
        return -1;
    describe_ctx ctx = {given ? &e : NULL, json_array()};
    if (!ctx.list)
        return st_admin_oom(err, errlen);
    st_quotas_each(q, describe_one, &ctx);
    *result = json_pack("{s:o}", "quotas", ctx.list);
    return *result ? 0 : st_admin_oom(err, errlen);
}

/* ---- usage ---- */

/* The tenant's connection_creation_rate sensor rate from st_quotas_usage, or null. */
static json_t *creation_rate(json_t *sensors, const char *tenant)
{
    size_t i;
    json_t *s;
    json_array_foreach(sensors, i, s)
    {
        json_t *ent = json_object_get(s, "entity");
        const char *t = json_string_value(json_object_get(ent, "tenant"));
        const char *kind = json_string_value(json_object_get(s, "kind"));
        if (t && kind && strcmp(t, tenant) == 0 && json_object_size(ent) == 1 &&
            strcmp(kind, ST_QK_CONNECTION_CREATION_RATE) == 0)
            return json_copy(json_object_get(s, "rate"));
    }
    return json_null();
}

/* {limit, use, left} for one limit; limit and left null when none is set. */
static json_t *limit_json(const st_quotas *q, const char *tenant, const char *key, int64_t use)
{
    double limit;
    bool has = st_quotas_limit(q, tenant, key, &limit);
    return json_pack("{s:o, s:I, s:o}", "limit", has ? num_json(limit) : json_null(), "use",
                     (json_int_t)use, "left", has ? num_json(limit - (double)use) : json_null());
}

/* A tenant's limits with their use: {retained_bytes:{limit, use, left}, partitions,
 * topics, connections, connection_creation_rate:{limit, rate}}. `sensors` (borrowed, may
 * be NULL) is st_quotas_usage's answer, for the connection creation rate. */
static json_t *tenant_limits(st_broker *b, const char *tenant, json_t *sensors)
{
    st_tenant_use use = {0};
    double ccr;
    st_bquota_tenant_use(b->bquota, tenant, &use);
    bool has_ccr =
        st_quotas_limit(st_bquota_engine(b->bquota), tenant, ST_QK_CONNECTION_CREATION_RATE, &ccr);
    return json_pack(
        "{s:o, s:o, s:o, s:o, s:{s:o, s:o}}", ST_QK_RETAINED_BYTES,
        limit_json(st_bquota_engine(b->bquota), tenant, ST_QK_RETAINED_BYTES, use.retained_bytes),
        ST_QK_PARTITIONS,
        limit_json(st_bquota_engine(b->bquota), tenant, ST_QK_PARTITIONS, use.partitions),
        ST_QK_TOPICS, limit_json(st_bquota_engine(b->bquota), tenant, ST_QK_TOPICS, use.topics),
        ST_QK_CONNECTIONS,
        limit_json(st_bquota_engine(b->bquota), tenant, ST_QK_CONNECTIONS, use.connections),
        ST_QK_CONNECTION_CREATION_RATE, "limit", has_ccr ? num_json(ccr) : json_null(), "rate",
        sensors ? creation_rate(sensors, tenant) : json_null());
}

/* The tenant's rate quotas (its own, else the default tenant's): {key: value or null}. */
static json_t *tenant_rate_quotas(const st_quotas *q, const char *tenant)
{
    static const char *const keys[] = {ST_QK_PRODUCER_BYTE_RATE, ST_QK_CONSUMER_BYTE_RATE,
                                       ST_QK_REQUEST_PERCENTAGE};
    json_t *o = json_object();
    for (size_t i = 0; o && i < 3; i++) {
        st_quota_entity own = {.tenant = tenant}, dflt = {.tenant = ST_QUOTA_DEFAULT};
        double v;
        bool has = st_quotas_get(q, &own, keys[i], &v) || st_quotas_get(q, &dflt, keys[i], &v);
        json_object_set_new(o, keys[i], has ? num_json(v) : json_null());
    }
    return o;
}

static json_t *tenant_usage(st_broker *b, const st_tenant *t, json_t *sensors, int64_t now)
{
    json_t *users = json_array();
    for (size_t i = 0; users && i < t->nusers; i++)
        json_array_append_new(users, json_string(t->users[i]));
    return json_pack(
        "{s:s, s:s, s:o, s:o, s:o, s:o}", "tenant", t->name, "prefix", t->prefix, "users", users,
        "limits", tenant_limits(b, t->name, sensors), "quotas",
        tenant_rate_quotas(st_bquota_engine(b->bquota), t->name), "metrics",
        st_quotas_metrics(st_bquota_engine(b->bquota), t->name, METRICS_SECONDS_USAGE, now));
}

/* The tenant named by the "tenant" argument, or NULL with err set (or, when absent and
 * not required, NULL with err empty). */
static const st_tenant *arg_tenant(st_broker *b, json_t *args, bool required, char *err,
                                   size_t errlen)
{
    const char *name;
    if (st_admin_arg_str(args, "tenant", required, "a tenant name", &name, err, errlen) || !name)
        return NULL;
    if (!b->security) {
        snprintf(err, errlen, "the broker has no security context open (no tenants)");
        return NULL;
    }
    const st_tenant *t = st_tenants_find(st_security_tenants(b->security), name);
    if (!t)
        snprintf(err, errlen, "no tenant named %.64s", name);
    return t;
}

int st_admin_quotas_usage(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    int64_t now = st_wall_ms();
    st_quotas *q = need_quotas(b, err, errlen);
    if (!q)
        return -1;
    const st_tenant *only = arg_tenant(b, args, false, err, errlen);
    if (*err)
        return -1;
    json_t *sensors = st_quotas_usage(q, only ? only->name : NULL, now);
    json_t *tenants = json_array();
    if (!sensors || !tenants) {
        json_decref(sensors);
        json_decref(tenants);
        return st_admin_oom(err, errlen);
    }
    if (only)
        json_array_append_new(tenants, tenant_usage(b, only, sensors, now));
    else if (b->security) {
        st_tenants *ts = st_security_tenants(b->security);
        for (size_t i = 0; i < st_tenants_count(ts); i++)
            json_array_append_new(tenants, tenant_usage(b, st_tenants_at(ts, i), sensors, now));
    }
    *result = json_pack("{s:o, s:o}", "tenants", tenants, "sensors", sensors);
    return *result ? 0 : st_admin_oom(err, errlen);
}

int st_admin_quotas_metrics(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    st_quotas *q = need_quotas(b, err, errlen);
    if (!q)
        return -1;
    const st_tenant *t = arg_tenant(b, args, true, err, errlen);
    if (!t)
        return -1;
    int64_t seconds = METRICS_SECONDS_DFLT;
    json_t *v = json_object_get(args, "seconds");
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > ST_QM_HISTORY_SEC) {
            snprintf(err, errlen, "\"seconds\" must be an integer from 1 to %d", ST_QM_HISTORY_SEC);
            return -1;
        }
        seconds = json_integer_value(v);
    }
    *result = st_quotas_metrics(q, t->name, (int)seconds, st_wall_ms());
    return *result ? 0 : st_admin_oom(err, errlen);
}

/* ---- explain ---- */

static const char *reason_name(st_acl_reason r)
{
    static const char *const names[] = {
        [ST_ACL_REASON_SUPER_USER] = "SUPER_USER",
        [ST_ACL_REASON_NO_ACL_FOUND] = "NO_ACL_FOUND",
        [ST_ACL_REASON_DENY_BINDING] = "DENY_BINDING",
        [ST_ACL_REASON_ALLOW_BINDING] = "ALLOW_BINDING",
        [ST_ACL_REASON_NO_ALLOW] = "NO_ALLOW",
        [ST_ACL_REASON_INVALID] = "INVALID",
    };
    return (size_t)r < sizeof names / sizeof names[0] && names[r] ? names[r] : "UNKNOWN";
}

/* The operations worth explaining on a resource type when none is named. */
static size_t default_operations(st_acl_resource_type rt, st_acl_operation *ops)
{
    static const st_acl_operation topic[] = {
        ST_ACL_OP_READ,   ST_ACL_OP_WRITE, ST_ACL_OP_DESCRIBE,         ST_ACL_OP_CREATE,
        ST_ACL_OP_DELETE, ST_ACL_OP_ALTER, ST_ACL_OP_DESCRIBE_CONFIGS, ST_ACL_OP_ALTER_CONFIGS};
    static const st_acl_operation group[] = {ST_ACL_OP_READ, ST_ACL_OP_DESCRIBE, ST_ACL_OP_DELETE};
    static const st_acl_operation cluster[] = {ST_ACL_OP_CREATE,           ST_ACL_OP_ALTER,
                                               ST_ACL_OP_DESCRIBE,         ST_ACL_OP_CLUSTER_ACTION,
                                               ST_ACL_OP_DESCRIBE_CONFIGS, ST_ACL_OP_ALTER_CONFIGS,
                                               ST_ACL_OP_IDEMPOTENT_WRITE};
    static const st_acl_operation txn[] = {ST_ACL_OP_WRITE, ST_ACL_OP_DESCRIBE};
    static const st_acl_operation token[] = {ST_ACL_OP_DESCRIBE};
    const st_acl_operation *src = token;
    size_t n = 1;
#define PICK(a) (src = (a), n = sizeof(a) / sizeof((a)[0]))
    switch (rt) {
    case ST_ACL_RESOURCE_TOPIC:
        PICK(topic);
        break;
    case ST_ACL_RESOURCE_GROUP:
        PICK(group);
        break;
    case ST_ACL_RESOURCE_CLUSTER:
        PICK(cluster);
        break;
    case ST_ACL_RESOURCE_TRANSACTIONAL_ID:
        PICK(txn);
        break;
    default:
        break;
    }
#undef PICK
    memcpy(ops, src, n * sizeof(*ops));
    return n;
}

/* One ACL decision explained. */
static json_t *explain_acl(st_security *sec, const char *principal, const char *host,
                           st_acl_operation op, st_acl_resource_type rt, const char *name)
{
    st_acl_decision d;
    char text[1024];
    bool enabled = st_security_authorizer_enabled(sec);
    bool allowed = st_security_authorize(sec, principal, host, op, rt, name, strlen(name), &d);
    if (!enabled)
        snprintf(text, sizeof text,
                 "ALLOWED: the authorizer is off (security.authorizer = false), every request "
                 "is allowed");
    else
        st_acl_decision_format(&d, text, sizeof text);
    /* the binding's strings are borrowed from the store: copied into the JSON now */
    bool has_binding =
        d.reason == ST_ACL_REASON_DENY_BINDING || d.reason == ST_ACL_REASON_ALLOW_BINDING;
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:b, s:s, s:o, s:s}", "operation", st_acl_operation_name(op),
        "resource_type", st_acl_resource_type_name(rt), "resource_name", name, "result",
        allowed ? "ALLOWED" : "DENIED", "authorizer_enabled", (int)enabled, "reason",
        enabled ? reason_name(d.reason) : "AUTHORIZER_OFF", "binding",
        has_binding && enabled ? st_admin_acl_json(&d.binding) : json_null(), "explanation", text);
}

/* The ACL half of explain: appends to `acls`. 0 or -1 with err set. */
static int explain_acls(st_broker *b, json_t *args, const char *principal, const char *host,
                        json_t *acls, char *err, size_t errlen)
{
    const char *rts, *ops, *name;
    if (st_admin_arg_str(args, "resource_type", true,
                         "TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID or DELEGATION_TOKEN", &rts, err,
                         errlen) ||
        st_admin_arg_str(args, "operation", false, "an ACL operation", &ops, err, errlen) ||
        st_admin_arg_str(args, "resource_name", false, "the resource's name", &name, err, errlen))
        return -1;
    st_acl_resource_type rt = st_acl_resource_type_parse(rts);
    if (rt < ST_ACL_RESOURCE_TOPIC || rt > ST_ACL_RESOURCE_DELEGATION_TOKEN) {
        snprintf(err, errlen,
                 "\"resource_type\" must be one of TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID, "
                 "DELEGATION_TOKEN, got \"%.64s\"",
                 rts);
        return -1;
    }
    if (!name && rt != ST_ACL_RESOURCE_CLUSTER) {
        snprintf(err, errlen, "\"resource_name\" is required for a %s",
                 st_acl_resource_type_name(rt));
        return -1;
    }
    if (!name)
        name = ST_ACL_CLUSTER_NAME;
    st_acl_operation list[ST_ACL_OP_COUNT];
    size_t n;
    if (ops) {
        list[0] = st_acl_operation_parse(ops);
        n = 1;
        if (list[0] < ST_ACL_OP_ALL || list[0] > ST_ACL_OP_IDEMPOTENT_WRITE) {
            snprintf(err, errlen,
                     "\"operation\" must be one of ALL, READ, WRITE, CREATE, DELETE, ALTER, "
                     "DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, "
                     "IDEMPOTENT_WRITE, got \"%.64s\"",
                     ops);
            return -1;
        }
    } else
        n = default_operations(rt, list);
    for (size_t i = 0; i < n; i++)
        if (json_array_append_new(
                acls, explain_acl(b->security, principal, host, list[i], rt, name)) != 0)
            return st_admin_oom(err, errlen);
    return 0;
}

static const struct {
    const char *name;
    st_quota_kind kind;
    const char *key;
} kinds[] = {
    {"produce", ST_QUOTA_PRODUCE, ST_QK_PRODUCER_BYTE_RATE},
    {"fetch", ST_QUOTA_FETCH, ST_QK_CONSUMER_BYTE_RATE},
    {"request", ST_QUOTA_REQUEST, ST_QK_REQUEST_PERCENTAGE},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

int st_admin_explain(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    const char *principal, *client_id, *host, *kind;
    int64_t now = st_wall_ms();
    *err = '\0';
    if (st_admin_arg_str(args, "principal", true, "who, as User:name (e.g. User:alice)", &principal,
                         err, errlen) ||
        st_admin_arg_str(args, "client_id", false, "the client id", &client_id, err, errlen) ||
        st_admin_arg_str(args, "host", false, "the client's address", &host, err, errlen) ||
        st_admin_arg_str(args, "kind", false, "produce, fetch or request", &kind, err, errlen))
        return -1;
    const char *colon = strchr(principal, ':');
    if (!colon || colon == principal || !colon[1]) {
        snprintf(err, errlen, "\"principal\" must be Type:name, such as User:alice; got \"%.64s\"",
                 principal);
        return -1;
    }
    bool is_user = strncmp(principal, "User:", 5) == 0;
    const char *user = is_user ? principal + 5 : NULL;
    const st_tenant *tenant = NULL;
    if (user && b->security)
        tenant = st_tenants_of_user(st_security_tenants(b->security), user);
    if (!host)
        host = ST_ACL_WILDCARD_HOST;

    bool want_acl = json_object_get(args, "operation") || json_object_get(args, "resource_type") ||
                    json_object_get(args, "resource_name");
    bool want_quota = kind || client_id || !want_acl;
    size_t kind_from = 0, kind_to = NKINDS;
    if (kind) {
        while (kind_from < NKINDS && strcmp(kinds[kind_from].name, kind) != 0)
            kind_from++;
        if (kind_from == NKINDS) {
            snprintf(err, errlen, "\"kind\" must be produce, fetch or request, got \"%.64s\"",
                     kind);
            return -1;
        }
        kind_to = kind_from + 1;
    }
    if (want_quota && !user) {
        snprintf(err, errlen,
                 "quotas apply to User principals: give \"principal\" as User:name (got "
                 "\"%.64s\")",
                 principal);
        return -1;
    }
    if (want_quota && !need_quotas(b, err, errlen))
        return -1;
    if (want_acl && !st_admin_need_security(b, err, errlen))
        return -1;

    json_t *res = json_pack("{s:s, s:o, s:o, s:s, s:o}", "principal", principal, "user",
                            user ? json_string(user) : json_null(), "tenant",
                            tenant ? json_string(tenant->name) : json_null(), "host", host,
                            "client_id", json_string(client_id ? client_id : ""));
    if (!res)
        return st_admin_oom(err, errlen);
    if (want_acl) {
        json_t *acls = json_array();
        json_object_set_new(res, "acls", acls ? acls : json_null());
        if (!acls || explain_acls(b, args, principal, host, acls, err, errlen) != 0) {
            json_decref(res);
            return *err ? -1 : st_admin_oom(err, errlen);
        }
    }
    if (want_quota) {
        st_quota_client qc = {user, client_id ? client_id : "", tenant ? tenant->name : NULL};
        json_t *quotas = json_array();
        for (size_t i = kind_from; quotas && i < kind_to; i++) {
            json_t *x = st_quotas_explain(st_bquota_engine(b->bquota), &qc, kinds[i].kind, now);
            if (x) {
                json_object_set_new(x, "kind", json_string(kinds[i].name));
                json_object_set_new(x, "key", json_string(kinds[i].key));
            }
            json_array_append_new(quotas, x ? x : json_null());
        }
        json_object_set_new(res, "quotas", quotas ? quotas : json_null());
        if (tenant) {
            json_t *sensors = st_quotas_usage(st_bquota_engine(b->bquota), tenant->name, now);
            json_object_set_new(res, "tenant_limits", tenant_limits(b, tenant->name, sensors));
            json_decref(sensors);
        }
    }
    *result = res;
    return 0;
}
