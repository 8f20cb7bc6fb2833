/*
 * DescribeClientQuotas (48) and AlterClientQuotas (49), v0, not flexible.
 *
 * The quota engine (quotas/quotas.h, owned by broker/quota: st_bquota_engine) holds the
 * configuration; this file speaks the wire format. Entity types are Kafka's "user" and
 * "client-id", plus Strait's "tenant" (a cap on the sum of a tenant's users, and the
 * tenant limits). A null entity name on the wire is the default entity of its type,
 * which the engine spells ST_QUOTA_DEFAULT; a literal name "<default>" is refused so the
 * two can never be confused. Values are float64 on the wire, doubles in the engine.
 *
 * Authorization, as Kafka: DESCRIBE_CONFIGS on the cluster to describe, ALTER_CONFIGS to
 * alter (CLUSTER_AUTHORIZATION_FAILED with a message otherwise).
 *
 * Alter: every op of every entry is first tried on a scratch engine, which checks the
 * entity shape, the key and the value exactly as the live one would; only entries whose
 * ops all pass touch the live engine (so an entity's ops are all-or-nothing, and
 * validate_only changes nothing), and the request's changes reach quotas.json in one
 * st_bquota_save. If that write fails, the snapshot is put back and every applied entry
 * answers KAFKA_STORAGE_ERROR: a client never sees a quota reported set that a restart
 * would lose.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"
#include "broker/quota/quota.h"
#include "broker/security/security.h"
#include "common/errors.h"
#include "common/logging.h"
#include "quotas/quotas.h"

#define MAX_ALTERATIONS 10000
#define MSG_LEN         320

/* The entity types, in the order entities are written back. */
enum { ET_USER, ET_CLIENT_ID, ET_TENANT, ET_COUNT };
static const char *const entity_type_names[ET_COUNT] = {"user", "client-id", "tenant"};

/* Kafka's DescribeClientQuotas match types. */
enum { MATCH_EXACT = 0, MATCH_DEFAULT = 1, MATCH_ANY = 2 };

/* The index of an entity type, or -1. */
static int entity_type_of(const char *s)
{
    for (int i = 0; i < ET_COUNT; i++)
        if (strcmp(s, entity_type_names[i]) == 0)
            return i;
    return -1;
}

/* A request string as a C string (a new malloc'd copy, NULL for a null string); *bad set
 * when the wire bytes hold a NUL, which would silently shorten the name. */
static char *dup_checked(st_str s, bool *bad)
{
    if (s.len > 0 && memchr(s.ptr, 0, (size_t)s.len))
        *bad = true;
    return st_str_dup(s);
}

static double rd_f64(st_rd *rd)
{
    uint64_t bits = (uint64_t)st_rd_i64(rd);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static void wr_f64(st_buf *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    st_buf_put_i64(w, (int64_t)bits);
}

/* The components of an engine entity by type (NULL: absent). */
static const char *entity_part(const st_quota_entity *e, int type)
{
    return type == ET_USER ? e->user : type == ET_CLIENT_ID ? e->client_id : e->tenant;
}

/* Writes an entity as [type, name] pairs, null for the default. */
static void write_entity(st_buf *w, const st_quota_entity *e)
{
    int32_t n = 0;
    for (int t = 0; t < ET_COUNT; t++)
        n += entity_part(e, t) != NULL;
    st_wr_array(w, false, n);
    for (int t = 0; t < ET_COUNT; t++) {
        const char *name = entity_part(e, t);
        if (!name)
            continue;
        st_wr_str(w, false, entity_type_names[t], -1);
        st_wr_str(w, false, strcmp(name, ST_QUOTA_DEFAULT) == 0 ? NULL : name, -1);
    }
}

/* ---- DescribeClientQuotas ---- */

typedef struct filter_component {
    bool present;
    int8_t match_type;
    char *match; /* owned; exact matches only */
} filter_component;

typedef struct quota_filter {
    filter_component c[ET_COUNT];
    bool strict;
} quota_filter;

/* One entity of the answer and its values (strings owned). */
typedef struct described {
    char *part[ET_COUNT];
    char **keys;
    double *values;
    size_t n;
} described;

typedef struct describe_ctx {
    const quota_filter *filter;
    described *items;
    size_t n, cap;
} describe_ctx;

static bool filter_matches(const quota_filter *f, const st_quota_entity *e)
{
    for (int t = 0; t < ET_COUNT; t++) {
        const char *name = entity_part(e, t);
        const filter_component *c = &f->c[t];
        if (!c->present) {
            if (name && f->strict)
                return false; /* strict: no component the filter does not name */
            continue;
        }
        if (!name)
            return false;
        bool is_default = strcmp(name, ST_QUOTA_DEFAULT) == 0;
        if (c->match_type == MATCH_EXACT && (is_default || strcmp(name, c->match) != 0))
            return false;
        if (c->match_type == MATCH_DEFAULT && !is_default)
            return false;
    }
    return true;
}

static bool same_entity(const described *d, const st_quota_entity *e)
{
    for (int t = 0; t < ET_COUNT; t++) {
        const char *a = d->part[t], *b = entity_part(e, t);
        if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
            return false;
    }
    return true;
}

static char *xstrdup(const char *s)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        abort(); /* as st_buf: the loop cannot answer without memory */
    return d;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        abort();
    return q;
}

/* st_quotas_each callback: adds (e, key, value) to the answer when the filter matches. */
static void collect(void *arg, const st_quota_entity *e, const char *key, double value)
{
    describe_ctx *ctx = arg;
    if (!filter_matches(ctx->filter, e))
        return;
    described *d = NULL;
    for (size_t i = ctx->n; i > 0 && !d; i--)
        if (same_entity(&ctx->items[i - 1], e))
            d = &ctx->items[i - 1];
    if (!d) {
        if (ctx->n == ctx->cap) {
            ctx->cap = ctx->cap ? 2 * ctx->cap : 8;
            ctx->items = xrealloc(ctx->items, ctx->cap * sizeof(*ctx->items));
        }
        d = &ctx->items[ctx->n++];
        memset(d, 0, sizeof(*d));
        for (int t = 0; t < ET_COUNT; t++)
            d->part[t] = xstrdup(entity_part(e, t));
    }
    d->keys = xrealloc(d->keys, (d->n + 1) * sizeof(*d->keys));
    d->values = xrealloc(d->values, (d->n + 1) * sizeof(*d->values));
    d->keys[d->n] = xstrdup(key);
    d->values[d->n] = value;
    d->n++;
}

static void describe_free(describe_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n; i++) {
        described *d = &ctx->items[i];
        for (int t = 0; t < ET_COUNT; t++)
            free(d->part[t]);
        for (size_t k = 0; k < d->n; k++)
            free(d->keys[k]);
        free(d->keys);
        free(d->values);
    }
    free(ctx->items);
}

/* Reads and checks the filter. Returns 0, or an error code with msg set; rd->err is the
 * caller's to check. */
static int read_filter(st_rd *rd, quota_filter *f, char *msg, size_t msglen)
{
    static const char *const match_names[] = {"exact", "default", "any"};
    int err = 0;
    /* entity type (2+), match type (1), match (2+) */
    int32_t n = st_rd_array(rd, false, 5);
    for (int32_t i = 0; i < n && !rd->err; i++) {
        bool bad = false;
        char *type = dup_checked(st_rd_str(rd, false), &bad);
        int8_t match_type = st_rd_i8(rd);
        char *match = dup_checked(st_rd_str(rd, false), &bad);
        int t = type && !bad ? entity_type_of(type) : -1;
        if (err || rd->err) {
            /* the first problem is the one reported; read the rest */
        } else if (t < 0) {
            err = ST_ERR_INVALID_REQUEST;
            snprintf(msg, msglen,
                     "unknown quota entity type \"%.64s\": Strait has user, client-id and "
                     "tenant",
                     type ? type : "(null)");
        } else if (f->c[t].present) {
            err = ST_ERR_INVALID_REQUEST;
            snprintf(msg, msglen, "entity type %s appears twice in the filter", type);
        } else if (match_type < MATCH_EXACT || match_type > MATCH_ANY) {
            err = ST_ERR_INVALID_REQUEST;
            snprintf(msg, msglen, "filter on %s: unknown match type %d (0 exact, 1 default, 2 any)",
                     type, match_type);
        } else if ((match_type == MATCH_EXACT) != (match != NULL)) {
            err = ST_ERR_INVALID_REQUEST;
            snprintf(msg, msglen, "filter on %s: match type %d (%s) %s", type, match_type,
                     match_names[match_type],
                     match_type == MATCH_EXACT ? "needs a name to match"
                                               : "takes no match string (it must be null)");
        } else {
            f->c[t] = (filter_component){true, match_type, match};
            match = NULL;
        }
        free(type);
        free(match);
    }
    f->strict = st_rd_bool(rd);
    if (!err && !rd->err && f->c[ET_TENANT].present &&
        (f->c[ET_USER].present || f->c[ET_CLIENT_ID].present)) {
        err = ST_ERR_INVALID_REQUEST;
        snprintf(msg, msglen,
                 "the tenant entity type cannot be combined with user or client-id: tenant "
                 "quotas are set on a tenant alone");
    }
    return err;
}

st_req_result st_handle_describe_client_quotas(st_req *req)
{
    st_rd *rd = &req->rd;
    st_broker *b = req->broker;
    quota_filter f = {0};
    describe_ctx ctx = {.filter = &f};
    char msg[MSG_LEN] = "";
    st_req_result rc = ST_REQ_DONE;

    int err = read_filter(rd, &f, msg, sizeof(msg));
    if (rd->err) {
        rc = ST_REQ_MALFORMED;
        goto out;
    }
    if (!b->bquota) {
        err = ST_ERR_UNKNOWN_SERVER_ERROR;
        snprintf(msg, sizeof(msg), "this broker has no quota engine: quotas are unavailable");
    } else if (!st_req_allowed_cluster(req)) {
        err = ST_ERR_CLUSTER_AUTHORIZATION_FAILED;
        snprintf(msg, sizeof(msg),
                 "%s may not describe client quotas: that needs DESCRIBE_CONFIGS on the cluster",
                 st_req_principal(req));
    }
    if (err == 0)
        st_quotas_each(st_bquota_engine(b->bquota), collect, &ctx);
    else
        st_info("DescribeClientQuotas: %s: %s", st_err_name(err), msg);

    st_buf *w = st_resp_buf(req->resp);
    st_buf_put_i32(w, 0); /* throttle_time_ms */
    st_buf_put_i16(w, (int16_t)err);
    st_wr_str(w, false, err ? msg : NULL, -1);
    st_wr_array(w, false, err ? -1 : (int32_t)ctx.n);
    for (size_t i = 0; i < ctx.n; i++) {
        const described *d = &ctx.items[i];
        st_quota_entity e = {d->part[ET_USER], d->part[ET_CLIENT_ID], d->part[ET_TENANT]};
        write_entity(w, &e);
        st_wr_array(w, false, (int32_t)d->n);
        for (size_t k = 0; k < d->n; k++) {
            st_wr_str(w, false, d->keys[k], -1);
            wr_f64(w, d->values[k]);
        }
    }
out:
    describe_free(&ctx);
    for (int t = 0; t < ET_COUNT; t++)
        free(f.c[t].match);
    return rc;
}

/* ---- AlterClientQuotas ---- */

typedef struct alter_op {
    char *key;
    double value;
    bool remove;
} alter_op;

/* One entry of the request: the entity as sent (echoed back), its ops, the outcome. */
typedef struct alteration {
    int32_t nparts;
    char **types, **names; /* owned; names[i] NULL for the default */
    alter_op *ops;
    int32_t nops;
    bool bad_string; /* a NUL inside a string */
    st_quota_entity e;
    int err;
    char msg[MSG_LEN];
} alteration;

static void alterations_free(alteration *a, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        for (int32_t k = 0; k < a[i].nparts; k++) {
            free(a[i].types[k]);
            free(a[i].names[k]);
        }
        for (int32_t k = 0; k < a[i].nops; k++)
            free(a[i].ops[k].key);
        free(a[i].types);
        free(a[i].names);
        free(a[i].ops);
    }
    free(a);
}

static void read_alteration(st_rd *rd, alteration *a)
{
    /* entity: type (2+) and name (2+) */
    int32_t n = st_rd_array(rd, false, 4);
    a->types = calloc(n > 0 ? (size_t)n : 1, sizeof(char *));
    a->names = calloc(n > 0 ? (size_t)n : 1, sizeof(char *));
    if (!a->types || !a->names)
        abort(); /* as st_buf */
    for (int32_t k = 0; k < n && !rd->err; k++, a->nparts++) {
        st_str type = st_rd_str(rd, false);
        a->types[k] = dup_checked(type, &a->bad_string);
        a->names[k] = dup_checked(st_rd_str(rd, false), &a->bad_string);
        if (!type.ptr)
            rd->err = 1; /* entity_type is not nullable */
    }
    /* op: key (2+), value (8), remove (1) */
    n = st_rd_array(rd, false, 11);
    a->ops = calloc(n > 0 ? (size_t)n : 1, sizeof(*a->ops));
    if (!a->ops)
        abort();
    for (int32_t k = 0; k < n && !rd->err; k++, a->nops++) {
        st_str key = st_rd_str(rd, false);
        if (!key.ptr)
            rd->err = 1; /* key is not nullable: a null one once crashed the duplicate check */
        a->ops[k].key = dup_checked(key, &a->bad_string);
        a->ops[k].value = rd_f64(rd);
        a->ops[k].remove = st_rd_bool(rd);
    }
}

/* Fills a->e from the entity as sent (borrowing its strings). 0 or an error with msg. */
static int parse_entity(alteration *a)
{
    const char *parts[ET_COUNT] = {NULL};
    if (a->bad_string) {
        snprintf(a->msg, sizeof(a->msg), "entity names and keys may not contain NUL bytes");
        return ST_ERR_INVALID_REQUEST;
    }
    if (a->nparts == 0) {
        snprintf(a->msg, sizeof(a->msg),
                 "the entity is empty: give user and/or client-id, or tenant");
        return ST_ERR_INVALID_REQUEST;
    }
    for (int32_t k = 0; k < a->nparts; k++) {
        const char *type = a->types[k] ? a->types[k] : "(null)";
        int t = a->types[k] ? entity_type_of(a->types[k]) : -1;
        if (t < 0) {
            snprintf(a->msg, sizeof(a->msg),
                     "unknown quota entity type \"%.64s\": Strait has user, client-id and tenant",
                     type);
            return ST_ERR_INVALID_REQUEST;
        }
        if (parts[t]) {
            snprintf(a->msg, sizeof(a->msg), "entity type %s appears twice in the entity", type);
            return ST_ERR_INVALID_REQUEST;
        }
        if (a->names[k] && strcmp(a->names[k], ST_QUOTA_DEFAULT) == 0) {
            snprintf(a->msg, sizeof(a->msg),
                     "%s name \"%s\" is reserved: send a null name for the default %s", type,
                     ST_QUOTA_DEFAULT, type);
            return ST_ERR_INVALID_REQUEST;
        }
        parts[t] = a->names[k] ? a->names[k] : ST_QUOTA_DEFAULT;
    }
    a->e = (st_quota_entity){parts[ET_USER], parts[ET_CLIENT_ID], parts[ET_TENANT]};
    return 0;
}

/* Checks every op of `a` on the scratch engine. 0 or an error with a->msg set. */
static int validate_alteration(st_quotas *scratch, alteration *a)
{
    int err = parse_entity(a);
    if (err)
        return err;
    for (int32_t k = 0; k < a->nops; k++) {
        alter_op *op = &a->ops[k];
        for (int32_t j = 0; j < k; j++)
            if (strcmp(a->ops[j].key, op->key) == 0) {
                snprintf(a->msg, sizeof(a->msg), "key %.64s appears twice for one entity", op->key);
                return ST_ERR_INVALID_REQUEST;
            }
        if (!op->remove && !isfinite(op->value)) {
            snprintf(a->msg, sizeof(a->msg), "%.64s: the value must be a finite number", op->key);
            return ST_ERR_INVALID_REQUEST;
        }
        err =
            st_quotas_alter(scratch, &a->e, op->key, op->value, op->remove, a->msg, sizeof(a->msg));
        if (err == ST_ERR__NOMEM) {
            snprintf(a->msg, sizeof(a->msg), "out of memory checking the quota");
            return ST_ERR_UNKNOWN_SERVER_ERROR;
        }
        if (err) {
            if (!a->msg[0])
                snprintf(a->msg, sizeof(a->msg), "%.64s: refused (%s)", op->key, st_err_name(err));
            return err;
        }
    }
    return 0;
}

static void fail_all(alteration *a, int32_t n, int err, const char *msg)
{
    for (int32_t i = 0; i < n; i++)
        if (a[i].err == 0) {
            a[i].err = err;
            snprintf(a[i].msg, sizeof(a[i].msg), "%s", msg);
        }
}

/* Validates every entry, then (unless validate_only) applies the valid ones and saves. */
static void alter_all(st_req *req, alteration *a, int32_t n, bool validate_only)
{
    st_broker *b = req->broker;
    char msg[MSG_LEN] = "";
    if (!b->bquota) {
        fail_all(a, n, ST_ERR_UNKNOWN_SERVER_ERROR,
                 "this broker has no quota engine: quotas are unavailable");
        return;
    }
    if (!st_req_allowed_cluster(req)) {
        snprintf(msg, sizeof(msg),
                 "%s may not alter client quotas: that needs ALTER_CONFIGS on the cluster",
                 st_req_principal(req));
        fail_all(a, n, ST_ERR_CLUSTER_AUTHORIZATION_FAILED, msg);
        return;
    }
    st_quotas *scratch = st_quotas_new(2, 1000);
    if (!scratch) {
        fail_all(a, n, ST_ERR_UNKNOWN_SERVER_ERROR, "out of memory altering quotas");
        return;
    }
    int32_t valid = 0;
    for (int32_t i = 0; i < n; i++) {
        a[i].err = validate_alteration(scratch, &a[i]);
        valid += a[i].err == 0;
    }
    st_quotas_free(scratch);
    if (validate_only || valid == 0)
        return;

    json_t *snapshot = st_quotas_to_json(st_bquota_engine(b->bquota));
    if (!snapshot) {
        fail_all(a, n, ST_ERR_UNKNOWN_SERVER_ERROR, "out of memory altering quotas");
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        for (int32_t k = 0; a[i].err == 0 && k < a[i].nops; k++) {
            const alter_op *op = &a[i].ops[k];
            if (st_quotas_alter(st_bquota_engine(b->bquota), &a[i].e, op->key, op->value,
                                op->remove, msg, sizeof(msg)) == 0)
                continue;
            /* passed on the scratch engine, so only memory can fail here: undo all */
            st_error("AlterClientQuotas: %.64s failed after validation (%s); undone", op->key, msg);
            char lerr[MSG_LEN];
            st_quotas_load_json(st_bquota_engine(b->bquota), snapshot, lerr, sizeof(lerr));
            json_decref(snapshot);
            fail_all(a, n, ST_ERR_UNKNOWN_SERVER_ERROR, "out of memory altering quotas");
            return;
        }
    }
    if (st_bquota_save(b->bquota, snapshot, msg, sizeof(msg)) != 0) {
        /* save put the snapshot back: none of the request's changes exist now */
        st_error("AlterClientQuotas: could not persist %d entr%s, undone: %s", valid,
                 valid == 1 ? "y" : "ies", msg);
        fail_all(a, n, ST_ERR_KAFKA_STORAGE_ERROR, msg);
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        if (a[i].err != 0)
            continue;
        for (int32_t k = 0; k < a[i].nops; k++)
            st_info("AlterClientQuotas: %s%s%s%s%s%s %s %s = %g (by %s)",
                    a[i].e.user ? "user=" : "", a[i].e.user ? a[i].e.user : "",
                    a[i].e.client_id ? " client-id=" : "", a[i].e.client_id ? a[i].e.client_id : "",
                    a[i].e.tenant ? "tenant=" : "", a[i].e.tenant ? a[i].e.tenant : "",
                    a[i].ops[k].remove ? "removed" : "set", a[i].ops[k].key,
                    a[i].ops[k].remove ? 0.0 : a[i].ops[k].value, st_req_principal(req));
    }
}

st_req_result st_handle_alter_client_quotas(st_req *req)
{
    st_rd *rd = &req->rd;
    st_req_result rc = ST_REQ_DONE;

    /* entity array (4) and ops array (4): at least 8 bytes. Each entry costs far more in
     * memory than on the wire, so the count is capped: a request of millions of empty
     * entries must not allocate gigabytes. */
    int32_t n = st_rd_array(rd, false, 8);
    if (n < 0 || n > MAX_ALTERATIONS)
        return ST_REQ_MALFORMED;
    alteration *a = calloc(n > 0 ? (size_t)n : 1, sizeof(*a));
    if (!a)
        abort(); /* as st_buf */
    int32_t nread = 0;
    for (int32_t i = 0; i < n && !rd->err; i++, nread++)
        read_alteration(rd, &a[i]);
    bool validate_only = st_rd_bool(rd);
    if (rd->err) {
        rc = ST_REQ_MALFORMED;
        goto out;
    }

    alter_all(req, a, n, validate_only);
    st_buf *w = st_resp_buf(req->resp);
    st_buf_put_i32(w, 0); /* throttle_time_ms */
    st_wr_array(w, false, n);
    for (int32_t i = 0; i < n; i++) {
        if (a[i].err != 0)
            st_info("AlterClientQuotas: entry %d: %s: %s", i, st_err_name(a[i].err), a[i].msg);
        st_buf_put_i16(w, (int16_t)a[i].err);
        st_wr_str(w, false, a[i].err ? a[i].msg : NULL, -1);
        st_wr_array(w, false, a[i].nparts);
        for (int32_t k = 0; k < a[i].nparts; k++) {
            st_wr_str(w, false, a[i].types[k], -1);
            st_wr_str(w, false, a[i].names[k], -1);
        }
    }
out:
    alterations_free(a, nread);
    return rc;
}
