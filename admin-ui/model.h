/*
 * The estate as the console knows it: per daemon the latest survey answers, whether it
 * is up, the rates worked out from its counters, and the per-second history of every
 * series the charts draw (hist.h). st_model_apply folds in one survey round; views.c
 * and metrics.c read from here.
 *
 * Event loop thread only.
 */
#ifndef ST_CONSOLE_MODEL_H
#define ST_CONSOLE_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "admin-ui/bus.h"
#include "admin-ui/config.h"
#include "admin-ui/hist.h"

typedef struct st_dstate {
    const st_con_daemon *d;
    bool up, ever_up;
    char why[256];    /* down: why */
    int64_t since_ms; /* wall clock of the last change between up and down */
    int64_t rtt_ms;
    char boot[17];
    /* The latest answers (owned; kept while down, marked stale by up == false). */
    json_t *status; /* status (brokers and mirrors) */
    json_t *topics; /* topics.stats "topics" array */
    json_t *groups; /* groups.lag "groups" array */
    json_t *usage;  /* quotas.usage */
    json_t *quotas; /* quotas.describe "quotas" array */
    json_t *acls;   /* acls.list "acls" array, while the ACL view is watched */
    json_t *errors; /* {"topics.stats": "why"} for sections that failed */
    /* Rates per second, from the last two answers. */
    double bytes_in_rate, bytes_out_rate, requests_rate, records_rate;
    json_t *topic_rates; /* {topic: {"bytes_in", "bytes_out", "records"}} */
    json_t *prev_topics; /* previous topics.stats, for topic_rates */
    json_t *prev_status;
    int64_t prev_ms;
    /* Running totals for /metrics counters, summed from the broker's per-second tenant
     * metrics: {tenant: {"bytes_in", "bytes_out", "requests", "throttle_ms", "denials",
     * "last_sec"}}. */
    json_t *tenant_totals;
} st_dstate;

typedef struct st_model {
    const st_con_config *cfg;
    st_dstate *d; /* cfg->ndaemons, in config order */
    size_t n;
    st_hist *hist;
    int64_t sec;      /* unix second of the latest round (0 before the first) */
    uint64_t rounds;  /* rounds applied */
    int64_t round_ms; /* wall clock of the latest round */
} st_model;

/* NULL when out of memory. Borrows cfg. */
st_model *st_model_new(const st_con_config *cfg);
void st_model_free(st_model *m);

/*
 * Folds in a round (borrowed; the caller frees it). For every daemon's new command log
 * entries calls on_log(ctx, daemon index, boot, entry) (entry borrowed).
 */
void st_model_apply(st_model *m, const st_bus_round *r,
                    void (*on_log)(void *ctx, size_t daemon, const char *boot, json_t *entry),
                    void *ctx);

/* A tenant's topic prefix on broker i (borrowed from its last quotas.usage), or NULL
 * when the broker does not know the tenant. */
const char *st_model_tenant_prefix(const st_model *m, size_t i, const char *tenant);

/* Index of the daemon with this id, or -1. */
int st_model_find(const st_model *m, const char *id);

#endif
