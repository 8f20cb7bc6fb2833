/*
 * Rate sensors: Kafka's SampledStat/Rate arithmetic and the table of live sensors.
 *
 * A rate keeps `num` samples of `ms` each in a ring. Recording starts a new sample when
 * the current one is `ms` old (its start is the time of that record, not a grid line, as
 * in Kafka). Measuring first resets samples older than num × ms, then divides the sum by
 * the time since the oldest sample began, padded to at least (num - 1) × ms so that the
 * first burst of a new client is judged over a whole window rather than a few ms.
 *
 * Sensors are created on first use and dropped once idle long enough that every sample
 * would have been purged anyway, so dropping one loses nothing; the sweep runs during
 * records, amortised over the table size.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "common/errors.h"
#include "quotas/quotas_int.h"

/* ---- hash map ---- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static qmap_node *find_node(const qmap *m, const char *key, uint64_t h)
{
    if (!m->nslots)
        return NULL;
    for (qmap_node *n = m->slots[h & (m->nslots - 1)]; n; n = n->next)
        if (n->hash == h && strcmp(n->key, key) == 0)
            return n;
    return NULL;
}

void *qmap_get(const qmap *m, const char *key)
{
    qmap_node *n = find_node(m, key, hash_str(key));
    return n ? n->val : NULL;
}

static int grow(qmap *m)
{
    size_t nslots = m->nslots ? m->nslots * 2 : 16;
    qmap_node **slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return ST_ERR__NOMEM;
    for (size_t i = 0; i < m->nslots; i++) {
        qmap_node *n = m->slots[i];
        while (n) {
            qmap_node *next = n->next;
            size_t j = n->hash & (nslots - 1);
            n->next = slots[j];
            slots[j] = n;
            n = next;
        }
    }
    free(m->slots);
    m->slots = slots;
    m->nslots = nslots;
    return 0;
}

int qmap_put(qmap *m, const char *key, void *val)
{
    if ((m->count + 1) * 4 > m->nslots * 3 && grow(m))
        return ST_ERR__NOMEM;
    qmap_node *n = malloc(sizeof *n);
    char *k = strdup(key);
    if (!n || !k) {
        free(n);
        free(k);
        return ST_ERR__NOMEM;
    }
    n->hash = hash_str(key);
    n->key = k;
    n->val = val;
    size_t j = n->hash & (m->nslots - 1);
    n->next = m->slots[j];
    m->slots[j] = n;
    m->count++;
    return 0;
}

void *qmap_del(qmap *m, const char *key)
{
    if (!m->nslots)
        return NULL;
    uint64_t h = hash_str(key);
    for (qmap_node **p = &m->slots[h & (m->nslots - 1)]; *p; p = &(*p)->next) {
        qmap_node *n = *p;
        if (n->hash == h && strcmp(n->key, key) == 0) {
            void *val = n->val;
            *p = n->next;
            free(n->key);
            free(n);
            m->count--;
            return val;
        }
    }
    return NULL;
}

void qmap_clear(qmap *m, void (*fn)(void *val))
{
    for (size_t i = 0; i < m->nslots; i++) {
        qmap_node *n = m->slots[i];
        while (n) {
            qmap_node *next = n->next;
            if (fn)
                fn(n->val);
            free(n->key);
            free(n);
            n = next;
        }
    }
    free(m->slots);
    m->slots = NULL;
    m->nslots = 0;
    m->count = 0;
}

qmap_node *qmap_first(const qmap *m, size_t *slot)
{
    for (*slot = 0; *slot < m->nslots; (*slot)++)
        if (m->slots[*slot])
            return m->slots[*slot];
    return NULL;
}

qmap_node *qmap_next(const qmap *m, qmap_node *n, size_t *slot)
{
    if (n->next)
        return n->next;
    for ((*slot)++; *slot < m->nslots; (*slot)++)
        if (m->slots[*slot])
            return m->slots[*slot];
    return NULL;
}

bool qkey_add(char *buf, size_t cap, size_t *len, char tag, const char *s)
{
    int n = snprintf(buf + *len, cap - *len, "%c%zu:%s", tag, strlen(s), s);
    if (n < 0 || (size_t)n >= cap - *len)
        return false;
    *len += (size_t)n;
    return true;
}

/* ---- rate ---- */

void qrate_record(qrate *r, const qwindow *w, double value, int64_t now_ms)
{
    if (r->used == 0) {
        r->current = 0;
        r->used = 1;
        r->s[0].value = 0;
        r->s[0].start_ms = now_ms;
    }
    qsample *cur = &r->s[r->current];
    if (now_ms - cur->start_ms >= w->ms) {
        r->current = (r->current + 1) % w->num;
        if (r->current >= r->used)
            r->used = r->current + 1;
        cur = &r->s[r->current];
        cur->value = 0;
        cur->start_ms = now_ms;
    }
    cur->value += value;
}

/* Kafka's purgeObsoleteSamples: a sample whose window began num × ms ago or earlier is
 * reset to an empty sample starting now. */
static void purge(qrate *r, const qwindow *w, int64_t now_ms)
{
    int64_t expire = (int64_t)w->num * w->ms;
    for (int i = 0; i < r->used; i++) {
        if (now_ms - r->s[i].start_ms >= expire) {
            r->s[i].value = 0;
            r->s[i].start_ms = now_ms;
        }
    }
}

int64_t qrate_span(qrate *r, const qwindow *w, int64_t now_ms)
{
    purge(r, w, now_ms);
    int64_t oldest = now_ms;
    for (int i = 0; i < r->used; i++)
        if (r->s[i].start_ms < oldest)
            oldest = r->s[i].start_ms;
    int64_t elapsed = now_ms - oldest;
    int64_t full = elapsed / w->ms;
    int64_t min_full = w->num - 1;
    if (full < min_full)
        elapsed += (min_full - full) * w->ms;
    return elapsed;
}

double qrate_sum(qrate *r, const qwindow *w, int64_t now_ms)
{
    purge(r, w, now_ms);
    double sum = 0;
    for (int i = 0; i < r->used; i++)
        sum += r->s[i].value;
    return sum;
}

double qrate_measure(qrate *r, const qwindow *w, int64_t now_ms)
{
    int64_t span = qrate_span(r, w, now_ms);
    return qrate_sum(r, w, now_ms) / ((double)span / 1000.0);
}

/* ---- sensor table ---- */

static void sensor_free(void *p)
{
    qsensor *s = p;
    if (!s)
        return;
    free(s->user);
    free(s->client_id);
    free(s->tenant_id);
    free(s->tenant);
    free(s);
}

static char *dup_or_null(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = false;
    return d;
}

qsensor *qsensors_find(qsensors *t, const char *key)
{
    return qmap_get(&t->map, key);
}

qsensor *qsensors_get(qsensors *t, const char *key, int kind, const char *user,
                      const char *client_id, const char *tenant_id)
{
    qsensor *s = qmap_get(&t->map, key);
    if (s)
        return s;
    /* One allocation for the sensor and both sample rings. */
    size_t ring = (size_t)t->w.num * sizeof(qsample);
    s = calloc(1, sizeof *s + 2 * ring);
    if (!s)
        return NULL;
    bool ok = true;
    s->kind = kind;
    s->user = dup_or_null(user, &ok);
    s->client_id = dup_or_null(client_id, &ok);
    s->tenant_id = dup_or_null(tenant_id, &ok);
    s->rate.s = (qsample *)(s + 1);
    s->throttle.s = s->rate.s + t->w.num;
    if (!ok || qmap_put(&t->map, key, s)) {
        sensor_free(s);
        return NULL;
    }
    return s;
}

int qsensor_set_tenant(qsensor *s, const char *tenant)
{
    if (tenant && s->tenant && strcmp(tenant, s->tenant) == 0)
        return 0;
    char *copy = NULL;
    if (tenant && !(copy = strdup(tenant)))
        return ST_ERR__NOMEM;
    free(s->tenant);
    s->tenant = copy;
    return 0;
}

int64_t qsensors_idle_ms(const qsensors *t)
{
    /* After num × ms every sample is purged, so an idle sensor then measures exactly what a
     * new one would; one more window of grace keeps `usage` output steady. */
    return ((int64_t)t->w.num + 1) * t->w.ms;
}

void qsensors_sweep(qsensors *t, int64_t now_ms)
{
    int64_t idle = qsensors_idle_ms(t);
    for (size_t i = 0; i < t->map.nslots; i++) {
        qmap_node **p = &t->map.slots[i];
        while (*p) {
            qmap_node *n = *p;
            qsensor *s = n->val;
            if (now_ms - s->last_ms > idle) {
                *p = n->next;
                sensor_free(s);
                free(n->key);
                free(n);
                t->map.count--;
            } else {
                p = &n->next;
            }
        }
    }
    t->calls_since_sweep = 0;
}

bool qsensors_tick(qsensors *t, int64_t now_ms)
{
    /* Every 256 records, and never more often than once per half the table size, so a
     * sweep's cost is O(1) per record however many sensors there are. */
    t->calls_since_sweep++;
    if (t->calls_since_sweep < 256 || t->calls_since_sweep < t->map.count / 2)
        return false;
    qsensors_sweep(t, now_ms);
    return true;
}

void qsensors_clear(qsensors *t)
{
    qmap_clear(&t->map, sensor_free);
    t->calls_since_sweep = 0;
}
