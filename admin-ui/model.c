/*
 * The estate model (see model.h): survey answers in, rates and history out.
 *
 * Series written each round (hist.h names):
 *   broker|<id>|-|bytes_in, bytes_out, requests, connections     per second / count
 *   topic|<id>|<topic>|bytes_in, bytes_out, records               per second
 *   group|<id>|<group>|lag                                        records
 *   tenant|<id>|<tenant>|bytes_in, bytes_out, requests, throttle_ms, denials
 *                                     per second, from the broker's own per-second record
 *   flow|<id>|<flow>|records, lag, latency_p99                    per second / records / ms
 */
#include "admin-ui/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/logging.h"

static const char *const tenant_metrics[] = {"bytes_in", "bytes_out", "requests", "throttle_ms",
                                             "denials"};
#define NTENANT_METRICS (sizeof tenant_metrics / sizeof tenant_metrics[0])

st_model *st_model_new(const st_con_config *cfg)
{
    st_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cfg = cfg;
    m->n = cfg->ndaemons;
    m->d = calloc(m->n + 1, sizeof *m->d);
    m->hist = st_hist_new();
    if (!m->d || !m->hist) {
        st_model_free(m);
        return NULL;
    }
    for (size_t i = 0; i < m->n; i++) {
        m->d[i].d = &cfg->daemons[i];
        snprintf(m->d[i].why, sizeof m->d[i].why, "not surveyed yet");
        m->d[i].tenant_totals = json_object();
    }
    return m;
}

static void dstate_clear(st_dstate *s)
{
    json_t **all[] = {&s->status,      &s->topics,      &s->groups,       &s->usage,
                      &s->quotas,      &s->acls,        &s->errors,       &s->topic_rates,
                      &s->prev_topics, &s->prev_status, &s->tenant_totals};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        json_decref(*all[i]);
        *all[i] = NULL;
    }
}

void st_model_free(st_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; m->d && i < m->n; i++)
        dstate_clear(&m->d[i]);
    free(m->d);
    st_hist_free(m->hist);
    free(m);
}

int st_model_find(const st_model *m, const char *id)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->d[i].d->id, id) == 0)
            return (int)i;
    return -1;
}

const char *st_model_tenant_prefix(const st_model *m, size_t i, const char *tenant)
{
    size_t k;
    json_t *t;
    json_array_foreach(json_object_get(m->d[i].usage, "tenants"), k, t)
    {
        if (strcmp(json_string_value(json_object_get(t, "tenant")) ?: "", tenant) == 0)
            return json_string_value(json_object_get(t, "prefix"));
    }
    return NULL;
}

static void put(st_model *m, const char *kind, const char *id, const char *entity,
                const char *metric, int64_t sec, double v)
{
    char key[1024];
    if (snprintf(key, sizeof key, "%s|%s|%s|%s", kind, id, entity, metric) < (int)sizeof key)
        st_hist_put(m->hist, key, sec, v);
}

static double num(json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : 0;
}

/* A slot's result (borrowed), or NULL with the error noted in s->errors. */
static json_t *slot(st_dstate *s, json_t *results, size_t i, const char *name)
{
    json_t *r = json_array_get(results, i);
    if (json_is_true(json_object_get(r, "ok")))
        return json_object_get(r, "result");
    json_t *e = json_object_get(r, "error");
    json_object_set_new(s->errors, name,
                        e ? json_incref(e) : json_string("no answer for this section"));
    return NULL;
}

static void replace(json_t **dst, json_t *v)
{
    json_t *old = *dst;
    *dst = v ? json_incref(v) : NULL;
    json_decref(old);
}

/* Per-topic rates from this and the previous topics.stats (both sorted by name, as the
 * broker's registry is). */
static void topic_rates(st_model *m, st_dstate *s, double dt)
{
    json_t *rates = json_object(), *prev = json_object();
    size_t i;
    json_t *t;
    json_array_foreach(s->prev_topics, i, t)
        json_object_set(prev, json_string_value(json_object_get(t, "name")) ?: "", t);
    json_array_foreach(s->topics, i, t)
    {
        const char *name = json_string_value(json_object_get(t, "name"));
        json_t *p = name ? json_object_get(prev, name) : NULL;
        if (!p || dt <= 0)
            continue;
        double end = 0, pend = 0;
        size_t k;
        json_t *part;
        json_array_foreach(json_object_get(t, "partitions"), k, part) end +=
            num(json_object_get(part, "end_offset"));
        json_array_foreach(json_object_get(p, "partitions"), k, part) pend +=
            num(json_object_get(part, "end_offset"));
        double in =
            (num(json_object_get(t, "bytes_in")) - num(json_object_get(p, "bytes_in"))) / dt;
        double out =
            (num(json_object_get(t, "bytes_out")) - num(json_object_get(p, "bytes_out"))) / dt;
        double rec = (end - pend) / dt;
        if (in < 0 || out < 0 || rec < 0)
            continue; /* the broker restarted or the topic was recreated */
        json_object_set_new(
            rates, name,
            json_pack("{s:f, s:f, s:f}", "bytes_in", in, "bytes_out", out, "records", rec));
        put(m, "topic", s->d->id, name, "bytes_in", m->sec, in);
        put(m, "topic", s->d->id, name, "bytes_out", m->sec, out);
        put(m, "topic", s->d->id, name, "records", m->sec, rec);
    }
    json_decref(prev);
    replace(&s->topic_rates, rates);
    json_decref(rates);
}

/* Tenants: the broker's per-second metrics (the last complete second) into history and
 * the running totals. */
static void tenant_series(st_model *m, st_dstate *s)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(s->usage, "tenants"), i, t)
    {
        const char *name = json_string_value(json_object_get(t, "tenant"));
        json_t *metrics = json_object_get(t, "metrics");
        json_int_t end = json_integer_value(json_object_get(metrics, "end"));
        if (!name || !metrics || end <= 0)
            continue;
        json_t *tot = json_object_get(s->tenant_totals, name);
        if (!tot) {
            tot = json_pack("{s:I}", "last_sec", (json_int_t)(end - 1));
            json_object_set_new(s->tenant_totals, name, tot);
        }
        json_int_t last = json_integer_value(json_object_get(tot, "last_sec"));
        for (size_t k = 0; k < NTENANT_METRICS; k++) {
            json_t *arr = json_object_get(metrics, tenant_metrics[k]);
            size_t n = json_array_size(arr);
            if (n < 2)
                continue;
            /* arr[n-1] is second `end` (still filling); arr[n-2] is end-1, complete. */
            put(m, "tenant", s->d->id, name, tenant_metrics[k], end - 1,
                num(json_array_get(arr, n - 2)));
            double sum = num(json_object_get(tot, tenant_metrics[k]));
            for (json_int_t sec = last + 1; sec <= end - 1; sec++) {
                json_int_t idx = (json_int_t)n - 1 - (end - sec);
                if (idx >= 0)
                    sum += num(json_array_get(arr, (size_t)idx));
            }
            json_object_set_new(tot, tenant_metrics[k], json_real(sum));
        }
        if (end - 1 > last)
            json_object_set_new(tot, "last_sec", json_integer(end - 1));
    }
}

static void apply_broker(st_model *m, st_dstate *s, json_t *results, int64_t now_ms)
{
    json_t *status = slot(s, results, ST_BUS_B_STATUS, "status");
    json_t *topics = json_object_get(slot(s, results, ST_BUS_B_TOPICS, "topics.stats"), "topics");
    json_t *groups = json_object_get(slot(s, results, ST_BUS_B_GROUPS, "groups.lag"), "groups");
    json_t *usage = slot(s, results, ST_BUS_B_USAGE, "quotas.usage");
    json_t *quotas =
        json_object_get(slot(s, results, ST_BUS_B_QUOTAS, "quotas.describe"), "quotas");
    json_t *acls = json_array_size(results) > ST_BUS_B_ACLS
                       ? json_object_get(slot(s, results, ST_BUS_B_ACLS, "acls.list"), "acls")
                       : NULL;
    double dt = s->prev_ms ? (double)(now_ms - s->prev_ms) / 1000.0 : 0;
    json_t *stats = json_object_get(status, "stats");
    json_t *pstats = json_object_get(s->prev_status, "stats");
    if (stats && pstats && dt > 0) {
        double in =
            (num(json_object_get(stats, "bytes_in")) - num(json_object_get(pstats, "bytes_in"))) /
            dt;
        double out =
            (num(json_object_get(stats, "bytes_out")) - num(json_object_get(pstats, "bytes_out"))) /
            dt;
        double req =
            (num(json_object_get(stats, "requests")) - num(json_object_get(pstats, "requests"))) /
            dt;
        double rec = (num(json_object_get(stats, "records_in")) -
                      num(json_object_get(pstats, "records_in"))) /
                     dt;
        if (in >= 0 && out >= 0 && req >= 0 && rec >= 0) {
            s->bytes_in_rate = in;
            s->bytes_out_rate = out;
            s->requests_rate = req;
            s->records_rate = rec;
            put(m, "broker", s->d->id, "-", "bytes_in", m->sec, in);
            put(m, "broker", s->d->id, "-", "bytes_out", m->sec, out);
            put(m, "broker", s->d->id, "-", "requests", m->sec, req);
        }
    }
    if (status)
        put(m, "broker", s->d->id, "-", "connections", m->sec,
            num(json_object_get(status, "connections")));
    replace(&s->status, status);
    replace(&s->topics, topics);
    replace(&s->groups, groups);
    replace(&s->usage, usage);
    replace(&s->quotas, quotas);
    replace(&s->acls, acls);
    if (topics)
        topic_rates(m, s, dt);
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g)
    {
        json_t *lag = json_object_get(g, "lag");
        if (json_is_integer(lag))
            put(m, "group", s->d->id, json_string_value(json_object_get(g, "group")) ?: "?", "lag",
                m->sec, num(lag));
    }
    if (usage)
        tenant_series(m, s);
    replace(&s->prev_status, status);
    replace(&s->prev_topics, topics);
    s->prev_ms = now_ms;
}

static void apply_mirror(st_model *m, st_dstate *s, json_t *results)
{
    json_t *status = slot(s, results, ST_BUS_M_STATUS, "status");
    replace(&s->status, status);
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(status, "flows"), i, f)
    {
        const char *name = json_string_value(json_object_get(f, "flow"));
        if (!name)
            continue;
        put(m, "flow", s->d->id, name, "records", m->sec,
            num(json_object_get(f, "records_per_sec")));
        put(m, "flow", s->d->id, name, "lag", m->sec, num(json_object_get(f, "lag_records")));
        json_t *p99 = json_object_get(json_object_get(f, "latency_ms"), "p99");
        if (json_is_number(p99))
            put(m, "flow", s->d->id, name, "latency_p99", m->sec, num(p99));
    }
}

void st_model_apply(st_model *m, const st_bus_round *r,
                    void (*on_log)(void *ctx, size_t daemon, const char *boot, json_t *entry),
                    void *ctx)
{
    m->round_ms = r->sent_ms;
    m->sec = r->sent_ms / 1000;
    m->rounds++;
    for (size_t i = 0; i < m->n && i < r->n; i++) {
        st_dstate *s = &m->d[i];
        const st_bus_answer *a = &r->answers[i];
        if (a->up != s->up || !s->since_ms) {
            if (s->ever_up || a->up)
                st_info("%s %s is %s%s%s", s->d->kind == ST_DAEMON_BROKER ? "broker" : "mirror",
                        s->d->id, a->up ? "up" : "down", a->up ? "" : ": ", a->up ? "" : a->why);
            s->since_ms = r->sent_ms;
        }
        s->up = a->up;
        snprintf(s->why, sizeof s->why, "%s", a->up ? "" : a->why);
        if (!a->up)
            continue;
        s->ever_up = true;
        s->rtt_ms = a->rtt_ms;
        if (strcmp(s->boot, a->boot) != 0) { /* restarted: counters start again */
            snprintf(s->boot, sizeof s->boot, "%s", a->boot);
            replace(&s->prev_status, NULL);
            replace(&s->prev_topics, NULL);
            s->prev_ms = 0;
        }
        replace(&s->errors, NULL);
        s->errors = json_object();
        if (s->d->kind == ST_DAEMON_BROKER)
            apply_broker(m, s, a->results, r->sent_ms);
        else
            apply_mirror(m, s, a->results);
        size_t log_slot = s->d->kind == ST_DAEMON_BROKER ? ST_BUS_B_LOG : ST_BUS_M_LOG;
        json_t *log = json_object_get(json_array_get(a->results, log_slot), "result");
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(log, "entries"), k, e) on_log(ctx, i, a->boot, e);
    }
    if (m->rounds % 60 == 0)
        st_hist_sweep(m->hist, m->sec);
}
