/*
 * Per-tenant metrics, one value per second for the last ST_QM_HISTORY_SEC seconds.
 *
 * Each tenant has a ring indexed by (unix second mod history); every slot remembers which
 * second it holds, so a slot left over from a previous lap reads as zero and is cleared
 * when written. Nothing needs a timer: stale slots are recognised on use.
 */
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"
#include "quotas/quotas_int.h"

typedef struct qring {
    int64_t last_sec;               /* the newest second written */
    int64_t sec[ST_QM_HISTORY_SEC]; /* which second each slot holds */
    double v[ST_QM_HISTORY_SEC][ST_QM_COUNT];
} qring;

static const char *const metric_names[ST_QM_COUNT] = {
    "bytes_in", "bytes_out", "requests", "throttle_ms", "denials",
};

static int64_t second_of(int64_t ms)
{
    return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); /* floor, even before 1970 */
}

static size_t slot_of(int64_t sec)
{
    int64_t s = sec % ST_QM_HISTORY_SEC;
    return (size_t)(s < 0 ? s + ST_QM_HISTORY_SEC : s);
}

int qmetrics_add(qmetrics *m, const char *tenant, st_quota_metric metric, double value,
                 int64_t now_ms)
{
    if (!tenant || !*tenant || (int)metric < 0 || metric >= ST_QM_COUNT)
        return 0;
    qring *r = qmap_get(&m->map, tenant);
    if (!r) {
        r = malloc(sizeof *r);
        if (!r)
            return ST_ERR__NOMEM;
        r->last_sec = INT64_MIN;
        for (size_t i = 0; i < ST_QM_HISTORY_SEC; i++)
            r->sec[i] = INT64_MIN;
        if (qmap_put(&m->map, tenant, r)) {
            free(r);
            return ST_ERR__NOMEM;
        }
    }
    int64_t sec = second_of(now_ms);
    size_t slot = slot_of(sec);
    if (r->sec[slot] != sec) {
        if (r->sec[slot] > sec)
            return 0; /* older than the history the slot now holds: gone already */
        r->sec[slot] = sec;
        memset(r->v[slot], 0, sizeof r->v[slot]);
    }
    r->v[slot][metric] += value;
    if (sec > r->last_sec)
        r->last_sec = sec;
    return 0;
}

json_t *qmetrics_json(const qmetrics *m, const char *tenant, int seconds, int64_t now_ms)
{
    if (seconds <= 0 || seconds > ST_QM_HISTORY_SEC)
        seconds = ST_QM_HISTORY_SEC;
    const qring *r = tenant ? qmap_get(&m->map, tenant) : NULL;
    int64_t end = second_of(now_ms);
    json_t *doc = json_object();
    json_t *arrays[ST_QM_COUNT] = {NULL};
    if (!doc)
        return NULL;
    for (int k = 0; k < ST_QM_COUNT; k++)
        if (!(arrays[k] = json_array()))
            goto fail;
    for (int64_t sec = end - seconds + 1; sec <= end; sec++) {
        size_t slot = slot_of(sec);
        bool have = r && r->sec[slot] == sec;
        for (int k = 0; k < ST_QM_COUNT; k++)
            if (json_array_append_new(arrays[k], qjson_number(have ? r->v[slot][k] : 0)))
                goto fail;
    }
    if (json_object_set_new(doc, "tenant", tenant ? json_string(tenant) : json_null()) ||
        json_object_set_new(doc, "end", json_integer(end)))
        goto fail;
    for (int k = 0; k < ST_QM_COUNT; k++) {
        json_t *a = arrays[k];
        arrays[k] = NULL;
        if (json_object_set_new(doc, metric_names[k], a))
            goto fail;
    }
    return doc;
fail:
    for (int k = 0; k < ST_QM_COUNT; k++)
        json_decref(arrays[k]);
    json_decref(doc);
    return NULL;
}

void qmetrics_sweep(qmetrics *m, int64_t now_ms)
{
    int64_t now_sec = second_of(now_ms);
    for (size_t i = 0; i < m->map.nslots; i++) {
        qmap_node **p = &m->map.slots[i];
        while (*p) {
            qmap_node *n = *p;
            qring *r = n->val;
            if (now_sec - r->last_sec >= ST_QM_HISTORY_SEC) {
                *p = n->next;
                free(r);
                free(n->key);
                free(n);
                m->map.count--;
            } else {
                p = &n->next;
            }
        }
    }
}

void qmetrics_clear(qmetrics *m)
{
    qmap_clear(&m->map, free);
}
