/*
 * The quota engine's runtime: which quota applies to a client (Kafka's precedence), the
 * sensors it records into, the throttle arithmetic, and the usage / explain views.
 *
 * Sensor identity follows Kafka's metric tags: the entity that matched, with every
 * <default> component replaced by the client's own name. So a quota on user alice is one
 * sensor shared by all of alice's client ids, while a <default> user quota gives every
 * user a sensor of their own with the default's value. Clients no quota applies to still
 * get a (user, client-id) sensor so `usage` can show them; idle sensors are swept.
 * A client with a tenant also records into the tenant's sensor, which enforces the tenant
 * quota on the sum of everything the tenant's users do.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "quotas/quotas_int.h"

#define ANONYMOUS "ANONYMOUS"

static const char *const kind_names[QK_COUNT] = {
    ST_QK_PRODUCER_BYTE_RATE,
    ST_QK_CONSUMER_BYTE_RATE,
    ST_QK_REQUEST_PERCENTAGE,
    ST_QK_CONNECTION_CREATION_RATE,
};

st_quotas *st_quotas_new(int window_num, int64_t window_ms)
{
    /* Outside these bounds the arithmetic is meaningless (or a sensor's rings huge). */
    if (window_num < 2 || window_num > 1000 || window_ms < 100 || window_ms > 3600 * 1000)
        return NULL;
    st_quotas *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->w.num = window_num;
    q->w.ms = window_ms;
    q->sensors.w = q->w;
    return q;
}

void st_quotas_free(st_quotas *q)
{
    if (!q)
        return;
    qconfig_clear(&q->config);
    qsensors_clear(&q->sensors);
    qmetrics_clear(&q->metrics);
    free(q);
}

uint64_t st_quotas_version(const st_quotas *q)
{
    return q->version;
}

/* ---- which quota applies ---- */

enum { NONE, NAME, DEF };

/* Kafka's precedence: (user, client) · (user, <default>) · user · (<default>, client) ·
 * (<default>, <default>) · <default> user · client · <default> client. */
static const struct {
    int user, client;
} precedence[8] = {
    {NAME, NAME}, {NAME, DEF}, {NAME, NONE}, {DEF, NAME},
    {DEF, DEF},   {DEF, NONE}, {NONE, NAME}, {NONE, DEF},
};

typedef struct resolved {
    bool has_quota;
    double quota;
    st_quota_entity matched; /* the config entity that decided (borrowed names) */
    const char *user;        /* the sensor's identity: NULL components absent */
    const char *client_id;
} resolved;

static const char *user_of(const st_quota_client *c)
{
    return c->user && *c->user ? c->user : ANONYMOUS;
}

static const char *client_of(const st_quota_client *c)
{
    return c->client_id ? c->client_id : "";
}

static bool has_tenant(const st_quota_client *c)
{
    return c->tenant && *c->tenant;
}

static void resolve_client(const st_quotas *q, const st_quota_client *c, int kind, resolved *r)
{
    const char *user = user_of(c), *client = client_of(c);
    char ekey[1024];
    memset(r, 0, sizeof *r);
    /* Every request and every produced or fetched batch comes here: with no quota
     * configured at all (the common case) skip the eight entity lookups. */
    for (int i = 0; q->config.map.count > 0 && i < 8; i++) {
        int pu = precedence[i].user, pc = precedence[i].client;
        st_quota_entity e = {
            pu == NAME  ? user
            : pu == DEF ? ST_QUOTA_DEFAULT
                        : NULL,
            pc == NAME  ? client
            : pc == DEF ? ST_QUOTA_DEFAULT
                        : NULL,
            NULL,
        };
        /* A name longer than any config name cannot match: the key does not fit. */
        if (!qconfig_entity_key(&e, ekey, sizeof ekey) ||
            !qconfig_lookup(&q->config, ekey, kind, &r->quota))
            continue;
        r->has_quota = true;
        r->matched = e;
        r->user = pu != NONE ? user : NULL;
        r->client_id = pc != NONE ? client : NULL;
        return;
    }
    r->user = user; /* no quota: a (user, client-id) sensor, for usage only */
    r->client_id = client;
}

static void resolve_tenant(const st_quotas *q, const char *tenant, int key_index, resolved *r)
{
    char ekey[1024];
    memset(r, 0, sizeof *r);
    const char *names[2] = {tenant, ST_QUOTA_DEFAULT};
    for (int i = 0; q->config.map.count > 0 && i < 2; i++) {
        st_quota_entity e = {NULL, NULL, names[i]};
        if (qconfig_entity_key(&e, ekey, sizeof ekey) &&
            qconfig_lookup(&q->config, ekey, key_index, &r->quota)) {
            r->has_quota = true;
            r->matched = e;
            return;
        }
    }
}

/* ---- sensor keys ---- */

/* A sensor's key: "k<kind>" then its identity. Client ids may be long, so the key goes in
 * `stack` when it fits and on the heap otherwise; free with key_done. */
static char *sensor_key(char *stack, size_t cap, int kind, const char *user, const char *client_id,
                        const char *tenant)
{
    size_t need = 128 + (user ? strlen(user) : 0) + (client_id ? strlen(client_id) : 0) +
                  (tenant ? strlen(tenant) : 0);
    char *buf = need <= cap ? stack : malloc(need);
    size_t len = 0;
    if (!buf)
        return NULL;
    buf[0] = '\0';
    qkey_add(buf, need, &len, 'k', kind_names[kind]);
    if (tenant)
        qkey_add(buf, need, &len, 't', tenant);
    if (user)
        qkey_add(buf, need, &len, 'u', user);
    if (client_id)
        qkey_add(buf, need, &len, 'c', client_id);
    return buf;
}

static void key_done(char *key, const char *stack)
{
    if (key != stack)
        free(key);
}

/* ---- throttle arithmetic ---- */

/* Recorded units to the quota's units per second: bytes stay bytes; ms of thread time per
 * second become percent of a thread (1000 ms/s = 100 %). */
static double unit_factor(int kind)
{
    return kind == ST_QUOTA_REQUEST ? 0.1 : 1.0;
}

static double sensor_rate(st_quotas *q, qsensor *s, int kind, int64_t now_ms, int64_t *span)
{
    int64_t w = qrate_span(&s->rate, &q->w, now_ms);
    if (span)
        *span = w;
    return qrate_sum(&s->rate, &q->w, now_ms) / ((double)w / 1000.0) * unit_factor(kind);
}

/* Kafka's throttle: X = (O - T) / T × W, W the span the rate was measured over; request
 * time throttles are capped at one sample window (ClientRequestQuotaManager). */
static int64_t throttle_of(st_quotas *q, qsensor *s, int kind, double quota, int64_t now_ms)
{
    int64_t span;
    double rate = sensor_rate(q, s, kind, now_ms, &span);
    if (!(rate > quota))
        return 0;
    double x = (rate - quota) / quota * (double)span;
    int64_t ms = qround(x);
    if (kind == ST_QUOTA_REQUEST && ms > q->w.ms)
        ms = q->w.ms;
    return ms;
}

/* ---- runtime ---- */

#define USAGE_SENSORS_MAX 10000 /* sensors kept for clients without any quota */

static qsensor *client_sensor(st_quotas *q, const st_quota_client *c, int kind, const resolved *r,
                              bool create)
{
    char stack[512];
    char *key = sensor_key(stack, sizeof stack, kind, r->user, r->client_id, NULL);
    if (!key)
        return NULL;
    qsensor *s = create ? qsensors_get(&q->sensors, key, kind, r->user, r->client_id, NULL)
                        : qsensors_find(&q->sensors, key);
    key_done(key, stack);
    return s;
}

static qsensor *tenant_sensor(st_quotas *q, const char *tenant, int kind, bool create)
{
    char stack[512];
    char *key = sensor_key(stack, sizeof stack, kind, NULL, NULL, tenant);
    if (!key)
        return NULL;
    qsensor *s = create ? qsensors_get(&q->sensors, key, kind, NULL, NULL, tenant)
                        : qsensors_find(&q->sensors, key);
    key_done(key, stack);
    return s;
}

/* Records into s and answers the throttle it now owes (0 without a quota). */
static int64_t record_into(st_quotas *q, qsensor *s, int kind, const resolved *r, double value,
                           int64_t now_ms)
{
    s->has_quota = r->has_quota;
    s->quota = r->quota;
    s->last_ms = now_ms;
    qrate_record(&s->rate, &q->w, value, now_ms);
    if (!r->has_quota)
        return 0;
    int64_t throttle = throttle_of(q, s, kind, r->quota, now_ms);
    if (throttle > 0)
        qrate_record(&s->throttle, &q->w, (double)throttle, now_ms);
    return throttle;
}

static void tick(st_quotas *q, int64_t now_ms)
{
    if (qsensors_tick(&q->sensors, now_ms))
        qmetrics_sweep(&q->metrics, now_ms);
}

int64_t st_quotas_record(st_quotas *q, const st_quota_client *c, st_quota_kind kind, double value,
                         int64_t now_ms)
{
    if (!q || !c || (int)kind < 0 || kind >= ST_QUOTA_KINDS)
        return 0;
    if (!isfinite(value) || value < 0)
        value = 0; /* a nonsense measurement must not credit the client */
    int64_t throttle = 0;
    resolved r;
    resolve_client(q, c, kind, &r);
    /* A client no quota applies to gets a sensor only for `usage`, and only while the
     * table is small: a client inventing a new client id per request must not grow the
     * broker's memory (sensors under a quota are always kept: they enforce it). */
    bool create = r.has_quota || q->sensors.map.count < USAGE_SENSORS_MAX;
    qsensor *s = client_sensor(q, c, kind, &r, create);
    if (s && qsensor_set_tenant(s, has_tenant(c) ? c->tenant : NULL) == 0)
        throttle = record_into(q, s, kind, &r, value, now_ms);
    if (has_tenant(c)) {
        resolve_tenant(q, c->tenant, kind, &r);
        qsensor *t = tenant_sensor(q, c->tenant, kind, true);
        if (t && qsensor_set_tenant(t, c->tenant) == 0) {
            int64_t tt = record_into(q, t, kind, &r, value, now_ms);
            if (tt > throttle)
                throttle = tt;
        }
        if (kind == ST_QUOTA_PRODUCE)
            qmetrics_add(&q->metrics, c->tenant, ST_QM_BYTES_IN, value, now_ms);
        else if (kind == ST_QUOTA_FETCH)
            qmetrics_add(&q->metrics, c->tenant, ST_QM_BYTES_OUT, value, now_ms);
        else
            qmetrics_add(&q->metrics, c->tenant, ST_QM_REQUESTS, 1, now_ms);
    }
    tick(q, now_ms);
    return throttle;
}

void st_quotas_sweep(st_quotas *q, int64_t now_ms)
{
    qsensors_sweep(&q->sensors, now_ms);
    qmetrics_sweep(&q->metrics, now_ms);
}

bool st_quotas_window_budget(const st_quotas *q, const st_quota_client *c, st_quota_kind kind,
                             double *bytes)
{
    if (!q || !c || (int)kind < 0 || kind >= ST_QUOTA_KINDS)
        return false;
    /* Kafka's getMaxValueInQuotaWindow: what the quota allows over (num - 1) windows. */
    double span_s = (double)(q->w.num - 1) * (double)q->w.ms / 1000.0;
    bool any = false;
    resolved r;
    resolve_client(q, c, kind, &r);
    if (r.has_quota) {
        *bytes = r.quota * span_s;
        any = true;
    }
    if (has_tenant(c)) {
        resolve_tenant(q, c->tenant, kind, &r);
        if (r.has_quota && (!any || r.quota * span_s < *bytes)) {
            *bytes = r.quota * span_s;
            any = true;
        }
    }
    return any;
}

int64_t st_quotas_owed(st_quotas *q, const st_quota_client *c, st_quota_kind kind, int64_t now_ms)
{
    if (!q || !c || (int)kind < 0 || kind >= ST_QUOTA_KINDS)
        return 0;
    int64_t owed = 0;
    resolved r;
    resolve_client(q, c, kind, &r);
    qsensor *s = r.has_quota ? client_sensor(q, c, kind, &r, false) : NULL;
    if (s)
        owed = throttle_of(q, s, kind, r.quota, now_ms);
    if (has_tenant(c)) {
        resolve_tenant(q, c->tenant, kind, &r);
        qsensor *t = r.has_quota ? tenant_sensor(q, c->tenant, kind, false) : NULL;
        int64_t tt = t ? throttle_of(q, t, kind, r.quota, now_ms) : 0;
        if (tt > owed)
            owed = tt;
    }
    return owed;
}

void st_quotas_note_throttle(st_quotas *q, const st_quota_client *c, int64_t throttle_ms,
                             int64_t now_ms)
{
    if (q && c && has_tenant(c) && throttle_ms > 0)
        qmetrics_add(&q->metrics, c->tenant, ST_QM_THROTTLE_MS, (double)throttle_ms, now_ms);
}

void st_quotas_note(st_quotas *q, const char *tenant, st_quota_metric m, double value,
                    int64_t now_ms)
{
    if (q && isfinite(value))
        qmetrics_add(&q->metrics, tenant, m, value, now_ms);
}

json_t *st_quotas_metrics(st_quotas *q, const char *tenant, int seconds, int64_t now_ms)
{
    return qmetrics_json(&q->metrics, tenant, seconds, now_ms);
}

bool st_quotas_connection_created(st_quotas *q, const char *tenant, int64_t now_ms, double *rate)
{
    double limit;
    *rate = 0;
    if (!q || !tenant || !*tenant)
        return false;
    qsensor *s = tenant_sensor(q, tenant, QK_CONNECTIONS, true);
    if (!s || qsensor_set_tenant(s, tenant))
        return false;
    bool limited = st_quotas_limit(q, tenant, ST_QK_CONNECTION_CREATION_RATE, &limit);
    s->has_quota = limited;
    s->quota = limited ? limit : 0;
    s->last_ms = now_ms;
    qrate_record(&s->rate, &q->w, 1, now_ms);
    *rate = qrate_measure(&s->rate, &q->w, now_ms);
    tick(q, now_ms);
    if (!limited || !(*rate > limit))
        return false;
    /* Refused: take the event back, so clients retrying in a tight loop do not keep the
     * tenant locked out — only accepted connections count towards the rate. */
    qrate_record(&s->rate, &q->w, -1, now_ms);
    return true;
}

/* ---- usage and explain ---- */

/* A JSON string of s; a client id from the wire need not be UTF-8, so bytes outside ASCII
 * are shown as '?' when it is not (usage must not fail for one odd client). */
static json_t *name_json(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char buf[300];
    size_t n = 0;
    for (; s[n] && n + 1 < sizeof buf; n++)
        buf[n] = (unsigned char)s[n] < 0x80 ? s[n] : '?';
    buf[n] = '\0';
    return json_string(buf);
}

static json_t *entity_json(const char *user, const char *client_id, const char *tenant)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if ((user && json_object_set_new(o, "user", name_json(user))) ||
        (client_id && json_object_set_new(o, "client-id", name_json(client_id))) ||
        (tenant && json_object_set_new(o, "tenant", name_json(tenant)))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int cmp_opt(const char *a, const char *b)
{
    if (!a || !b)
        return (int)!a - (int)!b; /* absent first */
    return strcmp(a, b);
}

/* Tenant sensors first, then by user, client id and kind. */
static int cmp_sensor(const void *pa, const void *pb)
{
    const qsensor *a = *(qsensor *const *)pa, *b = *(qsensor *const *)pb;
    int c;
    if ((c = (int)!a->tenant_id - (int)!b->tenant_id) || (c = cmp_opt(a->tenant_id, b->tenant_id)))
        return c;
    if ((c = cmp_opt(a->user, b->user)) || (c = cmp_opt(a->client_id, b->client_id)))
        return c;
    return a->kind - b->kind;
}

static json_t *usage_item(st_quotas *q, qsensor *s, int64_t now_ms)
{
    json_t *it = json_object();
    json_t *ent = entity_json(s->user, s->client_id, s->tenant_id);
    double rate = s->kind == QK_CONNECTIONS ? qrate_measure(&s->rate, &q->w, now_ms)
                                            : sensor_rate(q, s, s->kind, now_ms, NULL);
    double throttled = qrate_sum(&s->throttle, &q->w, now_ms);
    if (!it || !ent || json_object_set_new(it, "entity", ent)) {
        json_decref(ent);
        json_decref(it);
        return NULL;
    }
    if (json_object_set_new(it, "kind", json_string(kind_names[s->kind])) ||
        json_object_set_new(it, "rate", json_real(rate)) ||
        json_object_set_new(it, "quota", s->has_quota ? qjson_number(s->quota) : json_null()) ||
        json_object_set_new(it, "throttle_ms_window",
                            json_integer((json_int_t)qround(throttled)))) {
        json_decref(it);
        return NULL;
    }
    return it;
}

json_t *st_quotas_usage(st_quotas *q, const char *tenant, int64_t now_ms)
{
    json_t *list = json_array();
    qsensor **all = NULL;
    size_t n = 0, slot;
    int64_t window = (int64_t)q->w.num * q->w.ms;
    if (!list)
        return NULL;
    if (q->sensors.map.count) {
        all = malloc(q->sensors.map.count * sizeof *all);
        if (!all)
            goto fail;
    }
    for (qmap_node *nd = qmap_first(&q->sensors.map, &slot); nd;
         nd = qmap_next(&q->sensors.map, nd, &slot)) {
        qsensor *s = nd->val;
        if (now_ms - s->last_ms > window)
            continue;
        if (tenant && (!s->tenant || strcmp(s->tenant, tenant) != 0))
            continue;
        all[n++] = s;
    }
    if (n)
        qsort(all, n, sizeof *all, cmp_sensor);
    for (size_t i = 0; i < n; i++)
        if (json_array_append_new(list, usage_item(q, all[i], now_ms)))
            goto fail;
    free(all);
    return list;
fail:
    free(all);
    json_decref(list);
    return NULL;
}

/* {"entity":…|null,"quota":…|null,"rate":r,"budget":quota-rate|null} */
static json_t *explain_level(const resolved *r, double rate)
{
    json_t *o = json_object();
    json_t *ent = r->has_quota
                      ? entity_json(r->matched.user, r->matched.client_id, r->matched.tenant)
                      : json_null();
    if (!o || !ent || json_object_set_new(o, "entity", ent)) {
        json_decref(ent);
        json_decref(o);
        return NULL;
    }
    if (json_object_set_new(o, "quota", r->has_quota ? qjson_number(r->quota) : json_null()) ||
        json_object_set_new(o, "rate", json_real(rate)) ||
        json_object_set_new(o, "budget", r->has_quota ? json_real(r->quota - rate) : json_null())) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *st_quotas_explain(st_quotas *q, const st_quota_client *c, st_quota_kind kind,
                          int64_t now_ms)
{
    if (!q || !c || (int)kind < 0 || kind >= ST_QUOTA_KINDS)
        return NULL;
    json_t *doc = json_object();
    if (!doc)
        return NULL;
    resolved r;
    resolve_client(q, c, kind, &r);
    qsensor *s = client_sensor(q, c, kind, &r, false);
    double rate = s ? sensor_rate(q, s, kind, now_ms, NULL) : 0;
    if (json_object_set_new(doc, "client", explain_level(&r, rate)))
        goto fail;
    json_t *tenant = json_null();
    if (has_tenant(c)) {
        resolve_tenant(q, c->tenant, kind, &r);
        qsensor *t = tenant_sensor(q, c->tenant, kind, false);
        json_decref(tenant);
        tenant = explain_level(&r, t ? sensor_rate(q, t, kind, now_ms, NULL) : 0);
    }
    if (json_object_set_new(doc, "tenant", tenant) ||
        json_object_set_new(doc, "owed_ms", json_integer(st_quotas_owed(q, c, kind, now_ms))))
        goto fail;
    return doc;
fail:
    json_decref(doc);
    return NULL;
}

/* ---- test hooks ---- */

size_t st_quotas__sensor_count(const st_quotas *q)
{
    return q->sensors.map.count;
}

size_t st_quotas__metrics_tenants(const st_quotas *q)
{
    return q->metrics.map.count;
}
