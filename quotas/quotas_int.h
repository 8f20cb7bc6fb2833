/*
 * Internals shared by the quota engine's files: a string-keyed hash map, Kafka's sampled
 * rate (sensor.c), the sensor table, the configuration store (config.c) and per-tenant
 * per-second metrics (metrics.c). Nothing here is for use outside quotas/ except the test
 * hooks at the end.
 */
#ifndef ST_QUOTAS_INT_H
#define ST_QUOTAS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quotas/quotas.h"

/* ---- string-keyed hash map (sensor.c) ---- */

typedef struct qmap_node {
    struct qmap_node *next;
    uint64_t hash;
    char *key; /* owned */
    void *val; /* owned by the map's user; freed by qmap_clear's callback */
} qmap_node;

typedef struct qmap {
    qmap_node **slots;
    size_t nslots; /* a power of two, or 0 before the first insert */
    size_t count;
} qmap;

void *qmap_get(const qmap *m, const char *key);
/* Inserts key (copied) → val; the key must not be present. ST_ERR__NOMEM or 0. */
int qmap_put(qmap *m, const char *key, void *val);
/* Removes key and returns its value (NULL when absent). */
void *qmap_del(qmap *m, const char *key);
/* Calls fn on every value, then empties the map. */
void qmap_clear(qmap *m, void (*fn)(void *val));
/* Iteration: for (qmap_node *n = qmap_first(m, &i); n; n = qmap_next(m, n, &i)). Nodes may
 * not be removed while iterating (collect first). */
qmap_node *qmap_first(const qmap *m, size_t *slot);
qmap_node *qmap_next(const qmap *m, qmap_node *n, size_t *slot);

/* Appends `s` to buf as "<tag><len>:<bytes>" so concatenated components stay unambiguous
 * whatever bytes the names hold. Returns false when buf is too small. */
bool qkey_add(char *buf, size_t cap, size_t *len, char tag, const char *s);

/* ---- Kafka's sampled rate (SampledStat + Rate) ---- */

typedef struct qsample {
    double value;
    int64_t start_ms; /* Kafka's lastWindowMs: when this sample's window began */
} qsample;

typedef struct qrate {
    int current; /* index of the sample being filled */
    int used;    /* samples created so far (<= window_num) */
    qsample *s;  /* window_num samples, owned */
} qrate;

/* Window parameters (quota.window.num, quota.window.size.seconds × 1000). */
typedef struct qwindow {
    int num;
    int64_t ms;
} qwindow;

/* Adds value at now (a new sample starts when the current one is window.ms old). */
void qrate_record(qrate *r, const qwindow *w, double value, int64_t now_ms);
/* Kafka's Rate.windowSize: the span in ms the rate divides by, after purging samples
 * older than num × ms; padded to at least (num - 1) × ms. */
int64_t qrate_span(qrate *r, const qwindow *w, int64_t now_ms);
/* Sum of the samples still in the window (after the purge qrate_span does). */
double qrate_sum(qrate *r, const qwindow *w, int64_t now_ms);
/* Value per second over the span. */
double qrate_measure(qrate *r, const qwindow *w, int64_t now_ms);

/* ---- sensors ---- */

/* A sensor's kinds: the three quota kinds, and the tenant's connection creations. */
#define QK_CONNECTIONS ST_QUOTA_KINDS
#define QK_COUNT       (ST_QUOTA_KINDS + 1)

typedef struct qsensor {
    int kind;   /* st_quota_kind or QK_CONNECTIONS */
    char *user; /* identity: user, client id, or tenant alone (NULL: absent), owned */
    char *client_id;
    char *tenant_id; /* set for tenant-level sensors */
    char *tenant;    /* the tenant of the clients recording (usage filter), owned, or NULL */
    bool has_quota;  /* the quota that applied at the last record */
    double quota;
    int64_t last_ms; /* last record: expiry */
    qrate rate;      /* recorded values */
    qrate throttle;  /* throttle ms computed against this sensor */
} qsensor;

typedef struct qsensors {
    qmap map;
    qwindow w;
    uint64_t calls_since_sweep;
} qsensors;

/* The sensor keyed `key`, created with the given identity when absent (NULL: no memory).
 * Strings are copied. */
qsensor *qsensors_get(qsensors *t, const char *key, int kind, const char *user,
                      const char *client_id, const char *tenant_id);
qsensor *qsensors_find(qsensors *t, const char *key);
/* Sets the sensor's owning tenant (copied; NULL clears). ST_ERR__NOMEM or 0. */
int qsensor_set_tenant(qsensor *s, const char *tenant);
/* Counts a record and, every so often, drops sensors idle for longer than qsensors_idle_ms
 * — so memory follows the active clients, not every client id ever seen. */
bool qsensors_tick(qsensors *t, int64_t now_ms); /* true when it swept */
void qsensors_sweep(qsensors *t, int64_t now_ms);
int64_t qsensors_idle_ms(const qsensors *t);
void qsensors_clear(qsensors *t);

/* ---- configuration store (config.c) ---- */

#define QKEY_COUNT 8
typedef struct qconfig {
    qmap map; /* entity key → qentry */
} qconfig;

/* Index of a config key name in the fixed key table, or -1. */
int qconfig_key_index(const char *key);
/* The value of key index `k` on the entity encoded as `ekey` (see qconfig_entity_key). */
bool qconfig_lookup(const qconfig *c, const char *ekey, int k, double *value);
/* Encodes an entity as a map key; false when a component is too long for cap. */
bool qconfig_entity_key(const st_quota_entity *e, char *buf, size_t cap);
void qconfig_clear(qconfig *c);

/* ---- per-tenant metrics (metrics.c) ---- */

typedef struct qmetrics {
    qmap map; /* tenant → ring */
} qmetrics;

int qmetrics_add(qmetrics *m, const char *tenant, st_quota_metric metric, double value,
                 int64_t now_ms);
json_t *qmetrics_json(const qmetrics *m, const char *tenant, int seconds, int64_t now_ms);
/* Drops tenants with nothing in the last ST_QM_HISTORY_SEC seconds. */
void qmetrics_sweep(qmetrics *m, int64_t now_ms);
void qmetrics_clear(qmetrics *m);

/* ---- the engine ---- */

struct st_quotas {
    qwindow w;
    uint64_t version;
    qconfig config;
    qsensors sensors;
    qmetrics metrics;
};

/* Whole-number test and rounding without libm (the library links none): values beyond
 * ±2^53 are not whole for our purposes and round to the clamp. */
#define QNUM_MAX 9007199254740992.0
static inline bool qwhole(double v)
{
    return v >= -QNUM_MAX && v <= QNUM_MAX && v == (double)(int64_t)v;
}
static inline int64_t qround(double x)
{
    if (!(x > -QNUM_MAX))
        return -(int64_t)QNUM_MAX;
    if (!(x < QNUM_MAX))
        return (int64_t)QNUM_MAX;
    return x >= 0 ? (int64_t)(x + 0.5) : -(int64_t)(-x + 0.5);
}

/* JSON number: an integer when the value is whole (so 1048576 prints as 1048576). */
json_t *qjson_number(double v);

/* Test hooks: live sensors and tenants with metrics. */
size_t st_quotas__sensor_count(const st_quotas *q);
size_t st_quotas__metrics_tenants(const st_quotas *q);

#endif
