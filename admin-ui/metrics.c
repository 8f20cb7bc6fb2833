/*
 * GET /metrics: the whole estate in Prometheus text format 0.0.4, rendered at most once
 * per survey round (however often it is scraped) from the model. Names are snake_case
 * with the unit as suffix; counters end in _total. Labels: cluster, broker, mirror,
 * topic, partition, group, tenant, flow, and for quotas the entity the operator set —
 * never a client-chosen string the broker has not vetted (topic names pass the broker's
 * rules; client-ids appear only where an operator configured a quota for them). Topic,
 * partition and group series are capped (MAX_SERIES each); strait_console_series_dropped
 * says when the cap cut something.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin-ui/console.h"

#define MAX_SERIES 20000

typedef struct out {
    char *buf;
    size_t len, cap;
    bool oom;
    bool skip_header; /* family(): a second pass over the same family */
    size_t dropped;
} out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(out *o, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        /* Before the first growth buf is NULL: NULL + 0 is undefined, so say NULL. */
        char *at = o->buf ? o->buf + o->len : NULL;
        int n = o->oom ? 0 : vsnprintf(at, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (o->oom || n < 0)
            return;
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = (o->cap + (size_t)n) * 2;
        char *b = realloc(o->buf, cap);
        if (!b) {
            o->oom = true;
            return;
        }
        o->buf = b;
        o->cap = cap;
    }
}

/* A label value escaped per the text format (\\, \", \n), into a static-size buffer. */
static const char *esc(const char *s, char *buf, size_t cap)
{
    size_t o = 0;
    for (; s && *s && o + 3 < cap; s++) {
        if (*s == '\\' || *s == '"') {
            buf[o++] = '\\';
            buf[o++] = *s;
        } else if (*s == '\n') {
            buf[o++] = '\\';
            buf[o++] = 'n';
        } else
            buf[o++] = *s;
    }
    buf[o] = '\0';
    return buf;
}

static void family(out *o, const char *name, const char *type, const char *help)
{
    if (o->skip_header)
        return;
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static double num(json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : 0;
}

/* The labels {cluster="..",<kind>=".."} of daemon d into buf. */
static const char *dlabels(const st_dstate *d, char *buf, size_t cap)
{
    char a[160], b[160];
    snprintf(buf, cap, "cluster=\"%s\",%s=\"%s\"", esc(d->d->cluster, a, sizeof a),
             d->d->kind == ST_DAEMON_BROKER ? "broker" : "mirror", esc(d->d->name, b, sizeof b));
    return buf;
}

static void brokers(st_console *c, out *o)
{
    static const struct {
        const char *name, *type, *help, *stat;
    } counters[] = {
        {"strait_broker_received_bytes_total", "counter", "Record bytes produced to the broker.",
         "bytes_in"},
        {"strait_broker_sent_bytes_total", "counter", "Record bytes fetched from the broker.",
         "bytes_out"},
        {"strait_broker_received_records_total", "counter", "Records produced to the broker.",
         "records_in"},
        {"strait_broker_requests_total", "counter", "Kafka requests handled.", "requests"},
        {"strait_broker_bad_frames_total", "counter",
         "Connections closed for malformed or unsupported input.", "bad_frames"},
    };
    char l[400];
    family(o, "strait_up", "gauge", "1 when the daemon answered the console's last survey.");
    for (size_t i = 0; i < c->model->n; i++) {
        const st_dstate *d = &c->model->d[i];
        put(o, "strait_up{%s,kind=\"%s\"} %d\n", dlabels(d, l, sizeof l),
            d->d->kind == ST_DAEMON_BROKER ? "broker" : "mirror", d->up ? 1 : 0);
    }
    family(o, "strait_broker_uptime_seconds", "gauge", "Seconds since the broker started.");
    for (size_t i = 0; i < c->model->n; i++) {
        const st_dstate *d = &c->model->d[i];
        if (d->d->kind == ST_DAEMON_BROKER && d->up)
            put(o, "strait_broker_uptime_seconds{%s} %.0f\n", dlabels(d, l, sizeof l),
                num(json_object_get(d->status, "uptime_s")));
    }
    family(o, "strait_broker_connections", "gauge", "Open client connections.");
    for (size_t i = 0; i < c->model->n; i++) {
        const st_dstate *d = &c->model->d[i];
        if (d->d->kind == ST_DAEMON_BROKER && d->up)
            put(o, "strait_broker_connections{%s} %.0f\n", dlabels(d, l, sizeof l),
                num(json_object_get(d->status, "connections")));
    }
    for (size_t k = 0; k < sizeof counters / sizeof counters[0]; k++) {
        family(o, counters[k].name, counters[k].type, counters[k].help);
        for (size_t i = 0; i < c->model->n; i++) {
            const st_dstate *d = &c->model->d[i];
            if (d->d->kind == ST_DAEMON_BROKER && d->up)
                put(o, "%s{%s} %.0f\n", counters[k].name, dlabels(d, l, sizeof l),
                    num(json_object_get(json_object_get(d->status, "stats"), counters[k].stat)));
        }
    }
}

/* How many of broker i's first topics fit under the series cap (the rest are counted in
 * o->dropped). Every family below then walks the same topics: a family's lines must
 * come as one group, so each is written in its own pass. */
static void topic_budget(st_console *c, out *o, size_t *ntopics)
{
    size_t series = 0;
    for (size_t i = 0; i < c->model->n; i++) {
        const st_dstate *d = &c->model->d[i];
        ntopics[i] = 0;
        if (d->d->kind != ST_DAEMON_BROKER || !d->up)
            continue;
        size_t k;
        json_t *topic;
        json_array_foreach(d->topics, k, topic)
        {
            size_t nparts = json_array_size(json_object_get(topic, "partitions"));
            if (series + 2 + 3 * nparts > MAX_SERIES) {
                o->dropped += json_array_size(d->topics) - k;
                break;
            }
            series += 2 + 3 * nparts;
            ntopics[i] = k + 1;
        }
    }
}

static void topic_family(st_console *c, out *o, const size_t *ntopics, const char *name,
                         const char *type, const char *help, const char *key)
{
    char l[400], t[600];
    family(o, name, type, help);
    for (size_t i = 0; i < c->model->n; i++) {
        const st_dstate *d = &c->model->d[i];
        if (!ntopics[i])
            continue;
        dlabels(d, l, sizeof l);
        for (size_t k = 0; k < ntopics[i]; k++) {
            json_t *topic = json_array_get(d->topics, k), *part;
            esc(json_string_value(json_object_get(topic, "name")), t, sizeof t);
            if (strcmp(type, "counter") == 0) { /* a per-topic counter */
                put(o, "%s{%s,topic=\"%s\"} %.0f\n", name, l, t, num(json_object_get(topic, key)));
                continue;
            }
            size_t p;
            json_array_foreach(json_object_get(topic, "partitions"), p, part)
                put(o, "%s{%s,topic=\"%s\",partition=\"%d\"} %.0f\n", name, l, t,
                    (int)num(json_object_get(part, "partition")), num(json_object_get(part, key)));
        }
    }
}

static void topics(st_console *c, out *o)
{
    size_t *ntopics = calloc(c->model->n + 1, sizeof *ntopics);
    if (!ntopics) {
        o->oom = true;
        return;
    }
    topic_budget(c, o, ntopics);
    topic_family(c, o, ntopics, "strait_topic_received_bytes_total", "counter",
                 "Record bytes produced to the topic since the broker started.", "bytes_in");
    topic_family(c, o, ntopics, "strait_topic_sent_bytes_total", "counter",
                 "Record bytes fetched from the topic since the broker started.", "bytes_out");
    topic_family(c, o, ntopics, "strait_partition_start_offset", "gauge",
                 "The partition's log start offset.", "start_offset");
    topic_family(c, o, ntopics, "strait_partition_end_offset", "gauge",
                 "The partition's log end offset.", "end_offset");
    topic_family(c, o, ntopics, "strait_partition_size_bytes", "gauge",
                 "Bytes the partition's log takes on disk.", "size_bytes");
    free(ntopics);
}

static void groups(st_console *c, out *o)
{
    static const struct {
        const char *name, *help, *key;
    } fams[] = {
        {"strait_group_lag_records",
         "Records between the group's committed offsets and the log ends.", "lag"},
        {"strait_group_members", "Members of the consumer group.", "members"},
    };
    char l[400], g[600];
    for (size_t f = 0; f < 2; f++) {
        size_t series = 0;
        family(o, fams[f].name, "gauge", fams[f].help);
        for (size_t i = 0; i < c->model->n; i++) {
            const st_dstate *d = &c->model->d[i];
            if (d->d->kind != ST_DAEMON_BROKER || !d->up)
                continue;
            dlabels(d, l, sizeof l);
            size_t k;
            json_t *grp;
            json_array_foreach(d->groups, k, grp)
            {
                if (++series > MAX_SERIES) {
                    if (f == 0)
                        o->dropped++;
                    continue;
                }
                json_t *v = json_object_get(grp, fams[f].key);
                if (json_is_integer(v))
                    put(o, "%s{%s,group=\"%s\"} %.0f\n", fams[f].name, l,
                        esc(json_string_value(json_object_get(grp, "group")), g, sizeof g), num(v));
            }
        }
    }
}

static void tenants(st_console *c, out *o)
{
    static const struct {
        const char *key, *name, *help;
        double scale;
    } totals[] = {
        {"bytes_in", "strait_tenant_received_bytes_total", "Bytes the tenant produced.", 1},
        {"bytes_out", "strait_tenant_sent_bytes_total", "Bytes the tenant fetched.", 1},
        {"requests", "strait_tenant_requests_total", "Requests of the tenant's clients.", 1},
        {"throttle_ms", "strait_tenant_throttle_seconds_total",
         "Time the tenant's clients were throttled for quotas.", 0.001},
        {"denials", "strait_tenant_denials_total", "Requests refused by an ACL or a tenant limit.",
         1},
    };
    char l[400], t[600], k[300];
    for (size_t m = 0; m < sizeof totals / sizeof totals[0]; m++) {
        family(o, totals[m].name, "counter", totals[m].help);
        for (size_t i = 0; i < c->model->n; i++) {
            const st_dstate *d = &c->model->d[i];
            if (d->d->kind != ST_DAEMON_BROKER)
                continue;
            dlabels(d, l, sizeof l);
            const char *name;
            json_t *tot;
            json_object_foreach(d->tenant_totals, name, tot)
                put(o, "%s{%s,tenant=\"%s\"} %.3f\n", totals[m].name, l, esc(name, t, sizeof t),
                    num(json_object_get(tot, totals[m].key)) * totals[m].scale);
        }
    }
    for (int use = 0; use < 2; use++) {
        const char *fam = use ? "strait_tenant_usage" : "strait_tenant_limit";
        family(o, fam, "gauge",
               use ? "The tenant's use of each limit."
                   : "A tenant limit (retained_bytes, partitions, topics, connections, "
                     "connection_creation_rate).");
        for (size_t i = 0; i < c->model->n; i++) {
            const st_dstate *d = &c->model->d[i];
            if (d->d->kind != ST_DAEMON_BROKER || !d->up)
                continue;
            dlabels(d, l, sizeof l);
            size_t j;
            json_t *tn;
            json_array_foreach(json_object_get(d->usage, "tenants"), j, tn)
            {
                esc(json_string_value(json_object_get(tn, "tenant")), t, sizeof t);
                const char *key;
                json_t *lim;
                json_object_foreach(json_object_get(tn, "limits"), key, lim)
                {
                    json_t *v = json_object_get(lim, "limit");
                    if (use)
                        v = json_object_get(lim, "use") ?: json_object_get(lim, "rate");
                    if (json_is_number(v))
                        put(o, "%s{%s,tenant=\"%s\",limit=\"%s\"} %.15g\n", fam, l, t,
                            esc(key, k, sizeof k), num(v));
                }
            }
        }
    }
}

static void quotas(st_console *c, out *o)
{
    char l[400], e[900], v1[300], v2[300], v3[300], k[100];
    family(o, "strait_quota", "gauge",
           "A configured quota: byte rates in bytes per second, request_percentage in percent.");
    for (size_t i = 0; i < c->model->n; i++) {
        const st_dstate *d = &c->model->d[i];
        if (d->d->kind != ST_DAEMON_BROKER || !d->up)
            continue;
        dlabels(d, l, sizeof l);
        size_t j;
        json_t *q;
        json_array_foreach(d->quotas, j, q)
        {
            json_t *ent = json_object_get(q, "entity");
            snprintf(e, sizeof e, "user=\"%s\",client_id=\"%s\",tenant=\"%s\"",
                     esc(json_string_value(json_object_get(ent, "user")), v1, sizeof v1),
                     esc(json_string_value(json_object_get(ent, "client-id")), v2, sizeof v2),
                     esc(json_string_value(json_object_get(ent, "tenant")), v3, sizeof v3));
            put(o, "strait_quota{%s,%s,key=\"%s\"} %.15g\n", l, e,
                esc(json_string_value(json_object_get(q, "key")), k, sizeof k),
                num(json_object_get(q, "value")));
        }
    }
}

/* One flow family: value(flow) for every flow of every mirror that is up; NaN skips. */
static void flow_family(st_console *c, out *o, const char *name, const char *help,
                        const char *extra, double (*value)(json_t *flow))
{
    char l[400], f[300];
    family(o, name, "gauge", help);
    for (size_t i = 0; i < c->model->n; i++) {
        const st_dstate *d = &c->model->d[i];
        if (d->d->kind != ST_DAEMON_MIRROR || !d->up)
            continue;
        dlabels(d, l, sizeof l);
        size_t j;
        json_t *fl;
        json_array_foreach(json_object_get(d->status, "flows"), j, fl)
        {
            double v = value(fl);
            if (v == v) /* not NaN */
                put(o, "%s{%s,flow=\"%s\"%s} %.15g\n", name, l,
                    esc(json_string_value(json_object_get(fl, "flow")), f, sizeof f), extra, v);
        }
    }
}

static double flow_running(json_t *f)
{
    const char *state = json_string_value(json_object_get(f, "state"));
    return state && strcmp(state, "running") == 0;
}
static double flow_lag_records(json_t *f)
{
    return num(json_object_get(f, "lag_records"));
}
static double flow_lag_seconds(json_t *f)
{
    return num(json_object_get(f, "lag_seconds"));
}
static double flow_rate(json_t *f)
{
    return num(json_object_get(f, "records_per_sec"));
}
static double latency(json_t *f, const char *q)
{
    json_t *v = json_object_get(json_object_get(f, "latency_ms"), q);
    return json_is_number(v) ? json_number_value(v) / 1000 : (double)NAN;
}
static double flow_p50(json_t *f)
{
    return latency(f, "p50");
}
static double flow_p99(json_t *f)
{
    return latency(f, "p99");
}

static void mirrors(st_console *c, out *o)
{
    char l[400], f[300], t[600];
    flow_family(c, o, "strait_mirror_flow_running",
                "1 when the flow's state is running, 0 when paused, failed over or starting.", "",
                flow_running);
    flow_family(c, o, "strait_mirror_flow_lag_records", "Source records not yet mirrored.", "",
                flow_lag_records);
    flow_family(c, o, "strait_mirror_flow_lag_seconds",
                "Age of the oldest source record not yet mirrored.", "", flow_lag_seconds);
    flow_family(c, o, "strait_mirror_flow_records_per_second",
                "Records mirrored per second (the daemon's own one-second rate).", "", flow_rate);
    /* one family, two quantiles: both passes under one HELP/TYPE */
    flow_family(c, o, "strait_mirror_flow_latency_seconds",
                "End-to-end replication latency measured by heartbeats.", ",quantile=\"0.5\"",
                flow_p50);
    o->skip_header = true;
    flow_family(c, o, "strait_mirror_flow_latency_seconds", "", ",quantile=\"0.99\"", flow_p99);
    o->skip_header = false;
    family(o, "strait_mirror_partition_lag_records", "gauge",
           "Source records of the partition not yet mirrored.");
    for (size_t i = 0; i < c->model->n; i++) {
        const st_dstate *d = &c->model->d[i];
        if (d->d->kind != ST_DAEMON_MIRROR || !d->up)
            continue;
        dlabels(d, l, sizeof l);
        size_t j, p;
        json_t *fl, *part;
        json_array_foreach(json_object_get(d->status, "flows"), j, fl)
        {
            esc(json_string_value(json_object_get(fl, "flow")), f, sizeof f);
            json_array_foreach(json_object_get(fl, "partitions"), p, part)
                put(o,
                    "strait_mirror_partition_lag_records{%s,flow=\"%s\",topic=\"%s\","
                    "partition=\"%d\"} %.0f\n",
                    l, f, esc(json_string_value(json_object_get(part, "topic")), t, sizeof t),
                    (int)num(json_object_get(part, "partition")),
                    num(json_object_get(part, "lag_records")));
        }
    }
}

const char *st_metrics_text(st_console *c, size_t *len)
{
    if (c->metrics_text && c->metrics_round == c->model->rounds) {
        *len = c->metrics_len;
        return c->metrics_text;
    }
    out o = {0};
    brokers(c, &o);
    topics(c, &o);
    groups(c, &o);
    tenants(c, &o);
    quotas(c, &o);
    mirrors(c, &o);
    family(&o, "strait_console_series_dropped", "gauge",
           "Topics or groups left out of this page by the series cap.");
    put(&o, "strait_console_series_dropped %zu\n", o.dropped);
    family(&o, "strait_console_survey_rounds_total", "counter",
           "Survey rounds the console has completed.");
    put(&o, "strait_console_survey_rounds_total %llu\n", (unsigned long long)c->model->rounds);
    if (o.oom) {
        free(o.buf);
        static const char oom[] = "# out of memory rendering the metrics\n";
        *len = sizeof oom - 1;
        return oom;
    }
    free(c->metrics_text);
    c->metrics_text = o.buf;
    c->metrics_len = o.len;
    c->metrics_round = c->model->rounds;
    *len = o.len;
    return o.buf ? o.buf : "";
}
