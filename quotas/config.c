/*
 * The quota configuration: which (entity, key) pairs are set, their validation, the
 * stable listing and the JSON document the broker persists.
 *
 * Entities are stored in a hash map under an unambiguous encoding of their components
 * ("u5:alice" + "c3:app", or "t4:acme") so the runtime's precedence walk is up to eight
 * map lookups per record. Each entity holds the values of all eight keys and a mask of
 * which are set; an entity with nothing set is removed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "quotas/quotas_int.h"

#define NAME_MAX_BYTES 255

static const char *const key_names[QKEY_COUNT] = {
    ST_QK_PRODUCER_BYTE_RATE, ST_QK_CONSUMER_BYTE_RATE,
    ST_QK_REQUEST_PERCENTAGE, ST_QK_RETAINED_BYTES,
    ST_QK_PARTITIONS,         ST_QK_TOPICS,
    ST_QK_CONNECTIONS,        ST_QK_CONNECTION_CREATION_RATE,
};
/* Keys 0..2 are the client quotas (indexed like st_quota_kind); the rest tenant limits. */
#define FIRST_LIMIT 3

typedef struct qentry {
    char *user; /* owned, NULL when absent */
    char *client_id;
    char *tenant;
    double values[QKEY_COUNT];
    unsigned mask; /* bit k: values[k] is set */
} qentry;

int qconfig_key_index(const char *key)
{
    for (int i = 0; key && i < QKEY_COUNT; i++)
        if (strcmp(key, key_names[i]) == 0)
            return i;
    return -1;
}

static bool is_count_key(int k)
{
    return k == 3 || k == 4 || k == 5 || k == 6; /* retained_bytes .. connections */
}

bool qconfig_entity_key(const st_quota_entity *e, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    if (e->tenant)
        return qkey_add(buf, cap, &len, 't', e->tenant);
    if (e->user && !qkey_add(buf, cap, &len, 'u', e->user))
        return false;
    if (e->client_id && !qkey_add(buf, cap, &len, 'c', e->client_id))
        return false;
    return true;
}

bool qconfig_lookup(const qconfig *c, const char *ekey, int k, double *value)
{
    const qentry *en = qmap_get(&c->map, ekey);
    if (!en || !(en->mask & (1u << k)))
        return false;
    *value = en->values[k];
    return true;
}

static void entry_free(void *p)
{
    qentry *en = p;
    if (!en)
        return;
    free(en->user);
    free(en->client_id);
    free(en->tenant);
    free(en);
}

void qconfig_clear(qconfig *c)
{
    qmap_clear(&c->map, entry_free);
}

/* "user \"alice\", client-id \"app\"" for messages. */
static void describe(const st_quota_entity *e, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    const char *names[3] = {e->tenant, e->user, e->client_id};
    const char *types[3] = {"tenant", "user", "client-id"};
    for (int i = 0; i < 3; i++) {
        if (!names[i])
            continue;
        int n =
            snprintf(buf + len, cap - len, "%s%s \"%.64s\"", len ? ", " : "", types[i], names[i]);
        if (n < 0 || (size_t)n >= cap - len)
            return;
        len += (size_t)n;
    }
    if (!len)
        snprintf(buf, cap, "(no entity)");
}

static int check_name(const char *type, const char *name, char *err, size_t errlen)
{
    if (!name)
        return 0;
    if (!*name) {
        snprintf(err, errlen, "%s name is empty (give a name or %s)", type, ST_QUOTA_DEFAULT);
        return ST_ERR_INVALID_REQUEST;
    }
    if (strlen(name) > NAME_MAX_BYTES) {
        snprintf(err, errlen, "%s name is %zu bytes long; at most %d are allowed", type,
                 strlen(name), NAME_MAX_BYTES);
        return ST_ERR_INVALID_REQUEST;
    }
    /* Names are saved as JSON strings, which must be UTF-8: refuse here rather than fail
     * the save after the change was accepted. */
    json_t *probe = json_string(name);
    if (!probe) {
        snprintf(err, errlen, "%s name is not valid UTF-8", type);
        return ST_ERR_INVALID_REQUEST;
    }
    json_decref(probe);
    return 0;
}

/* Checks entity shape, key and (unless removing) value. Returns the key index or a negative
 * value with err set. */
static int validate(const st_quota_entity *e, const char *key, double value, bool remove, char *err,
                    size_t errlen)
{
    if (!e) {
        snprintf(err, errlen, "no entity given (user, client-id, or tenant)");
        return -1;
    }
    if (e->tenant && (e->user || e->client_id)) {
        snprintf(err, errlen,
                 "a tenant quota stands alone: give tenant, or user and/or client-id, not both");
        return -1;
    }
    if (!e->tenant && !e->user && !e->client_id) {
        snprintf(err, errlen, "no entity given (user, client-id, or tenant)");
        return -1;
    }
    if (check_name("tenant", e->tenant, err, errlen) || check_name("user", e->user, err, errlen) ||
        check_name("client-id", e->client_id, err, errlen))
        return -1;
    char who[256];
    describe(e, who, sizeof who);
    int k = qconfig_key_index(key);
    if (k < 0) {
        snprintf(err, errlen,
                 "%s: unknown quota key \"%.64s\" (known: producer_byte_rate, "
                 "consumer_byte_rate, request_percentage; tenants also retained_bytes, "
                 "partitions, topics, connections, connection_creation_rate)",
                 who, key ? key : "(none)");
        return -1;
    }
    if (k >= FIRST_LIMIT && !e->tenant) {
        snprintf(err, errlen,
                 "%s: %s is a tenant limit; set it on a tenant, not on a user or "
                 "client-id",
                 who, key);
        return -1;
    }
    if (remove)
        return k;
    if (!isfinite(value) || value <= 0) {
        snprintf(err, errlen, "%s: %s must be a number greater than 0 (got %g)", who, key, value);
        return -1;
    }
    if (is_count_key(k) && !qwhole(value)) {
        snprintf(err, errlen, "%s: %s must be a whole number (got %g)", who, key, value);
        return -1;
    }
    return k;
}

static int set_value(qconfig *c, const st_quota_entity *e, int k, double value, bool remove)
{
    char ekey[1024];
    if (!qconfig_entity_key(e, ekey, sizeof ekey))
        return ST_ERR_INVALID_REQUEST; /* validated names make this unreachable */
    qentry *en = qmap_get(&c->map, ekey);
    if (remove) {
        if (en) {
            en->mask &= ~(1u << k);
            if (!en->mask)
                entry_free(qmap_del(&c->map, ekey));
        }
        return 0;
    }
    if (!en) {
        en = calloc(1, sizeof *en);
        if (!en)
            return ST_ERR__NOMEM;
        if ((e->user && !(en->user = strdup(e->user))) ||
            (e->client_id && !(en->client_id = strdup(e->client_id))) ||
            (e->tenant && !(en->tenant = strdup(e->tenant))) || qmap_put(&c->map, ekey, en)) {
            entry_free(en);
            return ST_ERR__NOMEM;
        }
    }
    en->values[k] = value;
    en->mask |= 1u << k;
    return 0;
}

int st_quotas_alter(st_quotas *q, const st_quota_entity *e, const char *key, double value,
                    bool remove, char *err, size_t errlen)
{
    int k = validate(e, key, value, remove, err, errlen);
    if (k < 0)
        return ST_ERR_INVALID_REQUEST;
    int rc = set_value(&q->config, e, k, value, remove);
    if (rc == ST_ERR__NOMEM)
        snprintf(err, errlen, "out of memory");
    if (!rc)
        q->version++;
    return rc;
}

bool st_quotas_get(const st_quotas *q, const st_quota_entity *e, const char *key, double *value)
{
    char ekey[1024];
    int k = qconfig_key_index(key);
    if (!e || k < 0 || !qconfig_entity_key(e, ekey, sizeof ekey))
        return false;
    return qconfig_lookup(&q->config, ekey, k, value);
}

bool st_quotas_limit(const st_quotas *q, const char *tenant, const char *key, double *value)
{
    if (!tenant || !*tenant)
        return false;
    st_quota_entity named = {NULL, NULL, tenant};
    st_quota_entity fallback = {NULL, NULL, ST_QUOTA_DEFAULT};
    return st_quotas_get(q, &named, key, value) || st_quotas_get(q, &fallback, key, value);
}

/* ---- listing ---- */

typedef struct item {
    const qentry *en;
    int k;
} item;

static int group_of(const qentry *en)
{
    return en->tenant ? 0 : en->user ? 1 : 2;
}

/* Names sorted, the default after every name. */
static int cmp_name(const char *a, const char *b)
{
    bool da = strcmp(a, ST_QUOTA_DEFAULT) == 0, db = strcmp(b, ST_QUOTA_DEFAULT) == 0;
    if (da || db)
        return (int)da - (int)db;
    return strcmp(a, b);
}

static int cmp_item(const void *pa, const void *pb)
{
    const item *a = pa, *b = pb;
    const qentry *x = a->en, *y = b->en;
    int c = group_of(x) - group_of(y);
    if (c)
        return c;
    if (x->tenant && (c = cmp_name(x->tenant, y->tenant)))
        return c;
    if (x->user && (c = cmp_name(x->user, y->user)))
        return c;
    if (!x->client_id != !y->client_id)
        return x->client_id ? 1 : -1; /* the user alone before its (user, client) pairs */
    if (x->client_id && (c = cmp_name(x->client_id, y->client_id)))
        return c;
    return a->k - b->k;
}

/* How many (entity, key) pairs are set. */
static size_t count_set(const qconfig *c)
{
    size_t n = 0, slot;
    for (qmap_node *nd = qmap_first(&c->map, &slot); nd; nd = qmap_next(&c->map, nd, &slot)) {
        const qentry *en = nd->val;
        for (int k = 0; k < QKEY_COUNT; k++)
            n += (en->mask >> k) & 1u;
    }
    return n;
}

void st_quotas_each(const st_quotas *q, st_quotas_each_fn fn, void *arg)
{
    size_t n = count_set(&q->config), slot;
    if (!n)
        return;
    item *items = malloc(n * sizeof *items);
    if (!items)
        return; /* out of memory: nothing listed; the header allows no error here */
    size_t i = 0;
    for (qmap_node *nd = qmap_first(&q->config.map, &slot); nd;
         nd = qmap_next(&q->config.map, nd, &slot)) {
        const qentry *en = nd->val;
        for (int k = 0; k < QKEY_COUNT; k++)
            if (en->mask & (1u << k))
                items[i++] = (item){en, k};
    }
    qsort(items, n, sizeof *items, cmp_item);
    for (i = 0; i < n; i++) {
        st_quota_entity e = {items[i].en->user, items[i].en->client_id, items[i].en->tenant};
        fn(arg, &e, key_names[items[i].k], items[i].en->values[items[i].k]);
    }
    free(items);
}

/* ---- JSON ---- */

json_t *qjson_number(double v)
{
    if (qwhole(v))
        return json_integer((json_int_t)v);
    return json_real(isfinite(v) ? v : 0);
}

typedef struct to_json_ctx {
    json_t *list;
    bool failed;
} to_json_ctx;

static void add_item(void *arg, const st_quota_entity *e, const char *key, double value)
{
    to_json_ctx *ctx = arg;
    json_t *ent = json_object();
    json_t *it = json_object();
    if (!ent || !it)
        goto fail;
    if ((e->user && json_object_set_new(ent, "user", json_string(e->user))) ||
        (e->client_id && json_object_set_new(ent, "client-id", json_string(e->client_id))) ||
        (e->tenant && json_object_set_new(ent, "tenant", json_string(e->tenant))))
        goto fail;
    if (json_object_set_new(it, "entity", ent)) {
        ent = NULL;
        goto fail;
    }
    ent = NULL;
    if (json_object_set_new(it, "key", json_string(key)) ||
        json_object_set_new(it, "value", qjson_number(value)) ||
        json_array_append_new(ctx->list, it)) {
        it = NULL;
        goto fail;
    }
    return;
fail:
    json_decref(ent);
    json_decref(it);
    ctx->failed = true;
}

json_t *st_quotas_to_json(const st_quotas *q)
{
    to_json_ctx ctx = {json_array(), false};
    json_t *doc = json_object();
    if (!doc || !ctx.list)
        goto fail;
    st_quotas_each(q, add_item, &ctx);
    /* each lists nothing when it cannot sort; a short list must not be saved as the truth */
    if (ctx.failed || json_array_size(ctx.list) != count_set(&q->config) ||
        json_object_set_new(doc, "version", json_integer(1)))
        goto fail;
    if (json_object_set_new(doc, "quotas", ctx.list)) {
        ctx.list = NULL;
        goto fail;
    }
    return doc;
fail:
    json_decref(ctx.list);
    json_decref(doc);
    return NULL;
}

/* A string member of an entity object: absent → NULL; not a string or holding a NUL → an
 * error. */
static int entity_member(const json_t *ent, const char *name, const char **out, size_t idx,
                         char *err, size_t errlen)
{
    const json_t *v = json_object_get(ent, name);
    *out = NULL;
    if (!v)
        return 0;
    if (!json_is_string(v)) {
        snprintf(err, errlen, "quotas[%zu].entity.%s: must be a string", idx, name);
        return ST_ERR__MALFORMED;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(err, errlen, "quotas[%zu].entity.%s: contains a NUL byte", idx, name);
        return ST_ERR__MALFORMED;
    }
    *out = json_string_value(v);
    return 0;
}

static int load_item(qconfig *c, const json_t *it, size_t idx, char *err, size_t errlen)
{
    if (!json_is_object(it)) {
        snprintf(err, errlen, "quotas[%zu]: must be an object {entity, key, value}", idx);
        return ST_ERR__MALFORMED;
    }
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)it, name, v)
    {
        if (strcmp(name, "entity") && strcmp(name, "key") && strcmp(name, "value")) {
            snprintf(err, errlen, "quotas[%zu]: unknown member \"%.64s\"", idx, name);
            return ST_ERR__MALFORMED;
        }
    }
    const json_t *ent = json_object_get(it, "entity");
    const json_t *key = json_object_get(it, "key");
    const json_t *val = json_object_get(it, "value");
    if (!json_is_object(ent) || !json_is_string(key) || !json_is_number(val)) {
        snprintf(err, errlen,
                 "quotas[%zu]: needs \"entity\" (object), \"key\" (string) and \"value\" "
                 "(number)",
                 idx);
        return ST_ERR__MALFORMED;
    }
    json_object_foreach((json_t *)ent, name, v)
    {
        if (strcmp(name, "user") && strcmp(name, "client-id") && strcmp(name, "tenant")) {
            snprintf(err, errlen,
                     "quotas[%zu].entity: unknown member \"%.64s\" (user, client-id, tenant)", idx,
                     name);
            return ST_ERR__MALFORMED;
        }
    }
    st_quota_entity e;
    if (entity_member(ent, "user", &e.user, idx, err, errlen) ||
        entity_member(ent, "client-id", &e.client_id, idx, err, errlen) ||
        entity_member(ent, "tenant", &e.tenant, idx, err, errlen))
        return ST_ERR__MALFORMED;
    char why[384];
    int k = validate(&e, json_string_value(key), json_number_value(val), false, why, sizeof why);
    if (k < 0) {
        snprintf(err, errlen, "quotas[%zu]: %s", idx, why);
        return ST_ERR__MALFORMED;
    }
    double dup;
    char ekey[1024];
    if (qconfig_entity_key(&e, ekey, sizeof ekey) && qconfig_lookup(c, ekey, k, &dup)) {
        snprintf(err, errlen, "quotas[%zu]: %s is set twice on the same entity", idx,
                 json_string_value(key));
        return ST_ERR__MALFORMED;
    }
    int rc = set_value(c, &e, k, json_number_value(val), false);
    if (rc == ST_ERR__NOMEM)
        snprintf(err, errlen, "out of memory");
    return rc;
}

int st_quotas_load_json(st_quotas *q, const json_t *doc, char *err, size_t errlen)
{
    qconfig fresh = {{0}};
    int rc = ST_ERR__MALFORMED;
    if (!json_is_object(doc)) {
        snprintf(err, errlen,
                 "quota document: must be a JSON object {\"version\":1,\"quotas\":[...]}");
        goto out;
    }
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)doc, name, v)
    {
        if (strcmp(name, "version") && strcmp(name, "quotas")) {
            snprintf(err, errlen, "quota document: unknown member \"%.64s\"", name);
            goto out;
        }
    }
    const json_t *version = json_object_get(doc, "version");
    if (!json_is_integer(version) || json_integer_value(version) != 1) {
        snprintf(err, errlen, "quota document: \"version\" must be 1");
        goto out;
    }
    const json_t *list = json_object_get(doc, "quotas");
    if (!json_is_array(list)) {
        snprintf(err, errlen, "quota document: \"quotas\" must be an array");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(list); i++) {
        rc = load_item(&fresh, json_array_get(list, i), i, err, errlen);
        if (rc)
            goto out;
    }
    /* Everything parsed: swap it in. */
    qconfig_clear(&q->config);
    q->config = fresh;
    fresh = (qconfig){{0}};
    q->version++;
    rc = 0;
out:
    qconfig_clear(&fresh);
    return rc;
}
