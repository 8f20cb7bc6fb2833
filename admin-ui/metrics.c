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
    size_t dropped;
} out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(out *o, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = o->oom ? 0 : vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
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

static void topics(st_console *c, out *o)
{
    char l[400], t[600];
    size_t series = 0;
    family(o, "strait_topic_received_bytes_total", "counter",
           "Record bytes produced to the topic since the broker started.");
    family(o, "strait_topic_sent_bytes_total", "counter",
           "Record bytes fetched from the topic since the broker started.");
    family(o, "strait_partition_start_offset", "gauge", "The partition's log start offset.");
    family(o, "strait_partition_end_offset", "gauge", "The partition's log end offset.");
    family(o, "strait_partition_size_bytes", "gauge", "Bytes the partition's log takes on disk.");
    for (size_t i = 0; i < c->model->n; i++) {
        const st_dstate *d = &c->model->d[i];
        if (d->d->kind != ST_DAEMON_BROKER || !d->up)
            continue;
        dlabels(d, l, sizeof l);
        size_t k, p;
        json_t *topic, *part;
        json_array_foreach(d->topics, k, topic)
        {
            const char *name = json_string_value(json_object_get(topic, "name"));
            size_t nparts = json_array_size(json_object_get(topic, "partitions"));
            if (series + 2 + 3 * nparts > MAX_SERIES) {
                o->dropped++;
                continue;
            }
            series += 2 + 3 * nparts;
            esc(name, t, sizeof t);
            put(o, "strait_topic_received_bytes_total{%s,topic=\"%s\"} %.0f\n", l, t,
                num(json_object_get(topic, "bytes_in")));
            put(o, "strait_topic_sent_bytes_total{%s,topic=\"%s\"} %.0f\n", l, t,
                num(json_object_get(topic, "bytes_out")));
            json_array_foreach(json_object_get(topic, "partitions"), p, part)
            {
                int id = (int)num(json_object_get(part, "partition"));
                put(o, "strait_partition_start_offset{%s,topic=\"%s\",partition=\"%d\"} %.0f\n", l,
                    t, id, num(json_object_get(part, "start_offset")));
                put(o, "strait_partition_end_offset{%s,topic=\"%s\",partition=\"%d\"} %.0f\n", l, t,
                    id, num(json_object_get(part, "end_offset")));
                put(o, "strait_partition_size_bytes{%s,topic=\"%s\",partition=\"%d\"} %.0f\n", l, t,
                    id, num(json_object_get(part, "size_bytes")));
            }
        }
    }
}

static void groups(st_console *c, out *o)
{
    char l[400], g[600];
    size_t series = 0;
    family(o, "strait_group_lag_records", "gauge",
           "Records between the group's committed offsets and the log ends.");
    family(o, "strait_group_members", "gauge", "Members of the consumer group.");
    for (size_t i = 0; i < c->model->n; i++) {
        const st_dstate *d = &c->model->d[i];
        if (d->d->kind != ST_DAEMON_BROKER || !d->up)
            continue;
        dlabels(d, l, sizeof l);
        size_t k;
        json_t *grp;
        json_array_foreach(d->groups, k, grp)
        {
            if (series + 2 > MAX_SERIES) {
                o->dropped++;
                continue;
            }
            series += 2;
            esc(json_string_value(json_object_get(grp, "group")), g, sizeof g);
            if (json_is_integer(json_object_get(grp, "lag")))
                put(o, "strait_group_lag_records{%s,group=\"%s\"} %.0f\n", l, g,
                    num(json_object_get(grp, "lag")));
            put(o, "strait_group_members{%s,group=\"%s\"} %.0f\n", l, g,
                num(json_object_get(grp, "members")));
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
    family(o, "strait_tenant_limit", "gauge",
           "A tenant limit (retained_bytes, partitions, topics, connections).");
    family(o, "strait_tenant_usage", "gauge", "The tenant's use of each limit.");
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
                esc(key, k, sizeof k);
                if (json_is_number(json_object_get(lim, "limit")))
                    put(o, "strait_tenant_limit{%s,tenant=\"%s\",limit=\"%s\"} %g\n", l, t, k,
                        num(json_object_get(lim, "limit")));
                json_t *use = json_object_get(lim, "use");
                if (!use)
                    use = json_object_get(lim, "rate");
                if (json_is_number(use))
                    put(o, "strait_tenant_usage{%s,tenant=\"%s\",limit=\"%s\"} %g\n", l, t, k,
                        num(use));
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
            put(o, "strait_quota{%s,%s,key=\"%s\"} %g\n", l, e,
                esc(json_string_value(json_object_get(q, "key")), k, sizeof k),
                num(json_object_get(q, "value")));
        }
    }
}

static void mirrors(st_console *c, out *o)
{
    char l[400], f[300], t[600];
    family(o, "strait_mirror_flow_running", "gauge",
           "1 when the flow's state is running, 0 when paused, failed over or starting.");
    family(o, "strait_mirror_flow_lag_records", "gauge", "Source records not yet mirrored.");
    family(o, "strait_mirror_flow_lag_seconds", "gauge",
           "Age of the oldest source record not yet mirrored.");
    family(o, "strait_mirror_flow_latency_seconds", "gauge",
           "End-to-end replication latency measured by heartbeats.");
    family(o, "strait_mirror_flow_records_per_second", "gauge",
           "Records mirrored per second (the daemon's own one-second rate).");
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
            const char *state = json_string_value(json_object_get(fl, "state"));
            put(o, "strait_mirror_flow_running{%s,flow=\"%s\"} %d\n", l, f,
                state && strcmp(state, "running") == 0);
            put(o, "strait_mirror_flow_lag_records{%s,flow=\"%s\"} %.0f\n", l, f,
                num(json_object_get(fl, "lag_records")));
            put(o, "strait_mirror_flow_lag_seconds{%s,flow=\"%s\"} %g\n", l, f,
                num(json_object_get(fl, "lag_seconds")));
            json_t *lat = json_object_get(fl, "latency_ms");
            if (json_is_number(json_object_get(lat, "p50")))
                put(o, "strait_mirror_flow_latency_seconds{%s,flow=\"%s\",quantile=\"0.5\"} %g\n",
                    l, f, num(json_object_get(lat, "p50")) / 1000);
            if (json_is_number(json_object_get(lat, "p99")))
                put(o, "strait_mirror_flow_latency_seconds{%s,flow=\"%s\",quantile=\"0.99\"} %g\n",
                    l, f, num(json_object_get(lat, "p99")) / 1000);
            put(o, "strait_mirror_flow_records_per_second{%s,flow=\"%s\"} %g\n", l, f,
                num(json_object_get(fl, "records_per_sec")));
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
