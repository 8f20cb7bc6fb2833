/*
 * The eight views as JSON, built from the model and cut to a scope on the server, so a
 * tenant's browser never receives another tenant's names (not even hidden in the DOM):
 *
 *   estate     {"clusters":[{"name","brokers":[...],"mirrors":[{...,"flows":[...]}]}]}
 *   topics     {"brokers":[{"id","cluster","up","why","topics":[{"name","partitions":[...],
 *               "size_bytes","bytes_in_rate","bytes_out_rate","records_rate"}]}]}
 *   groups     {"brokers":[{...,"groups":[{"group","state","members","lag","offsets"}]}]}
 *   tenants    {"brokers":[{...,"tenants":[{"tenant","prefix","users","limits","quotas",
 *               "now":{"bytes_in",...}}]}]}
 *   quotas     {"brokers":[{...,"quotas":[{entity,key,value}],"sensors":[...]}]}
 *   acls       {"brokers":[{...,"acls":[...] or null while loading}]}
 *   mirroring  {"mirrors":[{"id","cluster","name","up","why","flows":[st_mflow_status]}]}
 *   audit      {"entries":[...]} oldest first
 *
 * Who sees what: admin and operator every view; tenant only topics, groups and tenants,
 * each filtered to its tenant (topics and groups by the tenant's prefix on that broker).
 */
#include <stdio.h>
#include <string.h>

#include "admin-ui/console.h"

static const char *const view_names[ST_VIEW_COUNT] = {"estate", "topics", "groups",    "tenants",
                                                      "quotas", "acls",   "mirroring", "audit"};

int st_view_parse(const char *name)
{
    for (int v = 0; v < ST_VIEW_COUNT; v++)
        if (strcmp(view_names[v], name) == 0)
            return v;
    return -1;
}

const char *st_view_name(st_view v)
{
    return (unsigned)v < ST_VIEW_COUNT ? view_names[v] : "?";
}

bool st_view_allowed(st_view v, st_role role)
{
    if (role != ST_ROLE_TENANT)
        return true;
    return v == ST_VIEW_TOPICS || v == ST_VIEW_GROUPS || v == ST_VIEW_TENANTS;
}

/* A rate as a whole number (stable text: the view is resent only when it changes). */
static json_t *rate(double v)
{
    return json_integer((json_int_t)(v + 0.5));
}

/* Whether `name` belongs to the scope's tenant on broker i. */
static bool owns(st_console *c, size_t i, const st_scope *s, const char *name)
{
    if (s->role != ST_ROLE_TENANT)
        return true;
    const char *prefix = st_model_tenant_prefix(c->model, i, s->tenant);
    return name && prefix && *prefix && strncmp(name, prefix, strlen(prefix)) == 0;
}

/* {"id","cluster","name","up","why","since_ms"} of daemon i. */
static json_t *daemon_head(const st_dstate *d)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:s, s:I}", "id", d->d->id, "cluster", d->d->cluster,
                     "name", d->d->name, "up", (int)d->up, "why", d->why, "since_ms",
                     (json_int_t)d->since_ms);
}

static json_t *estate(st_console *c)
{
    json_t *clusters = json_array();
    for (size_t k = 0; k < c->cfg->nclusters; k++) {
        json_t *brokers = json_array(), *mirrors = json_array();
        for (size_t i = 0; i < c->model->n; i++) {
            const st_dstate *d = &c->model->d[i];
            if (strcmp(d->d->cluster, c->cfg->clusters[k]) != 0)
                continue;
            json_t *o = daemon_head(d);
            if (d->d->kind == ST_DAEMON_BROKER) {
                json_t *st = d->status;
                json_object_set(o, "uptime_s", json_object_get(st, "uptime_s") ?: json_null());
                json_object_set(o, "connections",
                                json_object_get(st, "connections") ?: json_null());
                json_object_set(o, "topics", json_object_get(st, "topics") ?: json_null());
                json_object_set(o, "partitions", json_object_get(st, "partitions") ?: json_null());
                json_object_set(o, "listener", json_object_get(st, "listener") ?: json_null());
                json_object_set_new(o, "bytes_in_rate", rate(d->up ? d->bytes_in_rate : 0));
                json_object_set_new(o, "bytes_out_rate", rate(d->up ? d->bytes_out_rate : 0));
                json_object_set_new(o, "requests_rate", rate(d->up ? d->requests_rate : 0));
                json_array_append_new(brokers, o);
                continue;
            }
            json_t *flows = json_array();
            size_t j;
            json_t *f;
            json_array_foreach(json_object_get(d->status, "flows"), j, f)
            {
                json_t *lat = json_object_get(f, "latency_ms");
                json_array_append_new(
                    flows,
                    json_pack("{s:O?, s:O?, s:O?, s:O?, s:o, s:o, s:O?, s:O?, s:O?}", "flow",
                              json_object_get(f, "flow"), "source", json_object_get(f, "source"),
                              "target", json_object_get(f, "target"), "state",
                              json_object_get(f, "state"), "records_per_sec",
                              rate(json_number_value(json_object_get(f, "records_per_sec"))),
                              "bytes_per_sec",
                              rate(json_number_value(json_object_get(f, "bytes_per_sec"))),
                              "lag_records", json_object_get(f, "lag_records"), "lag_seconds",
                              json_object_get(f, "lag_seconds"), "latency_p99",
                              json_object_get(lat, "p99")));
            }
            json_object_set_new(o, "flows", flows);
            json_object_set(o, "uptime_ms", json_object_get(d->status, "uptime_ms") ?: json_null());
            json_array_append_new(mirrors, o);
        }
        json_array_append_new(clusters, json_pack("{s:s, s:o, s:o}", "name", c->cfg->clusters[k],
                                                  "brokers", brokers, "mirrors", mirrors));
    }
    return json_pack("{s:o}", "clusters", clusters);
}

/* Every broker's head with `section` filled by fill() (returns a new reference). */
static json_t *per_broker(st_console *c, const st_scope *s, const char *section,
                          json_t *(*fill)(st_console *, size_t, const st_scope *))
{
    json_t *brokers = json_array();
    for (size_t i = 0; i < c->model->n; i++) {
        const st_dstate *d = &c->model->d[i];
        if (d->d->kind != ST_DAEMON_BROKER)
            continue;
        json_t *o = daemon_head(d);
        json_object_set_new(o, section, fill(c, i, s));
        json_t *err = json_object_get(d->errors, section);
        if (err && s->role != ST_ROLE_TENANT)
            json_object_set(o, "error", err);
        json_array_append_new(brokers, o);
    }
    return json_pack("{s:o}", "brokers", brokers);
}

static json_t *fill_topics(st_console *c, size_t i, const st_scope *s)
{
    const st_dstate *d = &c->model->d[i];
    json_t *out = json_array();
    size_t k;
    json_t *t;
    json_array_foreach(d->topics, k, t)
    {
        const char *name = json_string_value(json_object_get(t, "name"));
        if (!name || !owns(c, i, s, name) ||
            (s->role == ST_ROLE_TENANT && json_is_true(json_object_get(t, "internal"))))
            continue;
        double size = 0;
        size_t p;
        json_t *part;
        json_array_foreach(json_object_get(t, "partitions"), p, part) size +=
            json_number_value(json_object_get(part, "size_bytes"));
        json_t *r = json_object_get(d->topic_rates, name);
        json_array_append_new(
            out, json_pack("{s:s, s:O, s:O, s:I, s:o, s:o, s:o}", "name", name, "internal",
                           json_object_get(t, "internal"), "partitions",
                           json_object_get(t, "partitions"), "size_bytes", (json_int_t)size,
                           "bytes_in_rate",
                           rate(d->up ? json_number_value(json_object_get(r, "bytes_in")) : 0),
                           "bytes_out_rate",
                           rate(d->up ? json_number_value(json_object_get(r, "bytes_out")) : 0),
                           "records_rate",
                           rate(d->up ? json_number_value(json_object_get(r, "records")) : 0)));
    }
    return out;
}

static json_t *fill_groups(st_console *c, size_t i, const st_scope *s)
{
    json_t *out = json_array();
    size_t k;
    json_t *g;
    json_array_foreach(c->model->d[i].groups, k, g)
    {
        if (owns(c, i, s, json_string_value(json_object_get(g, "group"))))
            json_array_append(out, g);
    }
    return out;
}

static json_t *fill_tenants(st_console *c, size_t i, const st_scope *s)
{
    static const char *const metrics[] = {"bytes_in", "bytes_out", "requests", "throttle_ms",
                                          "denials"};
    json_t *out = json_array();
    size_t k;
    json_t *t;
    json_array_foreach(json_object_get(c->model->d[i].usage, "tenants"), k, t)
    {
        const char *name = json_string_value(json_object_get(t, "tenant"));
        if (!name || (s->role == ST_ROLE_TENANT && strcmp(name, s->tenant) != 0))
            continue;
        json_t *now = json_object(), *m = json_object_get(t, "metrics");
        for (size_t j = 0; j < sizeof metrics / sizeof metrics[0]; j++) {
            json_t *arr = json_object_get(m, metrics[j]);
            size_t n = json_array_size(arr);
            json_object_set_new(now, metrics[j],
                                n >= 2 ? rate(json_number_value(json_array_get(arr, n - 2)))
                                       : json_integer(0));
        }
        json_array_append_new(out, json_pack("{s:s, s:O?, s:O?, s:O?, s:O?, s:o}", "tenant", name,
                                             "prefix", json_object_get(t, "prefix"), "users",
                                             json_object_get(t, "users"), "limits",
                                             json_object_get(t, "limits"), "quotas",
                                             json_object_get(t, "quotas"), "now", now));
    }
    return out;
}

static json_t *fill_quotas(st_console *c, size_t i, const st_scope *s)
{
    const st_dstate *d = &c->model->d[i];
    return json_pack("{s:O?, s:O?}", "set", d->quotas, "sensors",
                     json_object_get(d->usage, "sensors"));
}

static json_t *fill_acls(st_console *c, size_t i, const st_scope *s)
{
    json_t *a = c->model->d[i].acls;
    return a ? json_incref(a) : json_null();
}

static json_t *mirroring(st_console *c)
{
    json_t *mirrors = json_array();
    for (size_t i = 0; i < c->model->n; i++) {
        const st_dstate *d = &c->model->d[i];
        if (d->d->kind != ST_DAEMON_MIRROR)
            continue;
        json_t *o = daemon_head(d);
        json_t *flows = json_object_get(d->status, "flows");
        json_object_set_new(o, "flows", flows ? json_deep_copy(flows) : json_array());
        /* Rates as whole numbers, as everywhere, so an idle flow's view stays still. */
        size_t j, k;
        json_t *f, *p;
        json_array_foreach(json_object_get(o, "flows"), j, f)
        {
            json_object_set_new(f, "records_per_sec",
                                rate(json_number_value(json_object_get(f, "records_per_sec"))));
            json_object_set_new(f, "bytes_per_sec",
                                rate(json_number_value(json_object_get(f, "bytes_per_sec"))));
            json_object_del(f, "last_checkpoint_age_ms");
            json_array_foreach(json_object_get(f, "partitions"), k, p)
            {
                json_object_set_new(p, "records_per_sec",
                                    rate(json_number_value(json_object_get(p, "records_per_sec"))));
                json_object_set_new(p, "bytes_per_sec",
                                    rate(json_number_value(json_object_get(p, "bytes_per_sec"))));
            }
        }
        json_array_append_new(mirrors, o);
    }
    return json_pack("{s:o}", "mirrors", mirrors);
}

json_t *st_view_build(st_console *c, st_view v, const st_scope *s)
{
    if (!st_view_allowed(v, s->role))
        return json_object();
    switch (v) {
    case ST_VIEW_ESTATE:
        return estate(c);
    case ST_VIEW_TOPICS:
        return per_broker(c, s, "topics", fill_topics);
    case ST_VIEW_GROUPS:
        return per_broker(c, s, "groups", fill_groups);
    case ST_VIEW_TENANTS:
        return per_broker(c, s, "tenants", fill_tenants);
    case ST_VIEW_QUOTAS:
        return per_broker(c, s, "quotas", fill_quotas);
    case ST_VIEW_ACLS:
        return per_broker(c, s, "acls", fill_acls);
    case ST_VIEW_MIRRORING:
        return mirroring(c);
    case ST_VIEW_AUDIT:
        return json_pack("{s:o}", "entries", st_audit_recent(c->audit));
    default:
        return json_object();
    }
}

bool st_view_series_allowed(st_console *c, const char *key, const st_scope *s)
{
    if (s->role != ST_ROLE_TENANT)
        return true;
    /* kind|daemon id|entity|metric */
    char kind[16], id[160], entity[512];
    const char *p1 = strchr(key, '|'), *p2 = p1 ? strchr(p1 + 1, '|') : NULL,
               *p3 = p2 ? strrchr(key, '|') : NULL;
    if (!p1 || !p2 || !p3 || p3 <= p2 || (size_t)(p1 - key) >= sizeof kind ||
        (size_t)(p2 - p1 - 1) >= sizeof id || (size_t)(p3 - p2 - 1) >= sizeof entity)
        return false;
    snprintf(kind, sizeof kind, "%.*s", (int)(p1 - key), key);
    snprintf(id, sizeof id, "%.*s", (int)(p2 - p1 - 1), p1 + 1);
    snprintf(entity, sizeof entity, "%.*s", (int)(p3 - p2 - 1), p2 + 1);
    int i = st_model_find(c->model, id);
    if (i < 0 || c->model->d[i].d->kind != ST_DAEMON_BROKER)
        return false;
    if (strcmp(kind, "tenant") == 0)
        return strcmp(entity, s->tenant) == 0;
    if (strcmp(kind, "topic") == 0 || strcmp(kind, "group") == 0)
        return owns(c, (size_t)i, s, entity);
    return false;
}

unsigned st_view_bus_wants(st_console *c)
{
    return (st_ws_watched_views(c) & (1u << ST_VIEW_ACLS)) ? ST_BUS_WANT_ACLS : 0;
}
