/*
 * st_quotas: Kafka's client quotas plus Strait's tenant quotas and limits — the
 * configuration, the windowed rate sensors, the throttle arithmetic, and per-tenant
 * per-second metrics. Pure computation and JSON: the broker feeds it what happened and
 * applies what it answers (broker/quota/), so everything here is unit-testable with a
 * fake clock.
 *
 * Entities and keys (Kafka's names where Kafka has them):
 *
 *   user / client-id / (user, client-id), each component a name or ST_QUOTA_DEFAULT:
 *       producer_byte_rate, consumer_byte_rate   bytes per second
 *       request_percentage                       percent of one loop thread's time
 *   tenant (a name or ST_QUOTA_DEFAULT), Strait only:
 *       producer_byte_rate, consumer_byte_rate, request_percentage   caps on the SUM of
 *           everything the tenant's users do (hierarchical: tenant, then user/client)
 *       retained_bytes, partitions, topics, connections, connection_creation_rate
 *           limits, enforced by the broker with POLICY_VIOLATION (st_quotas_limit tells
 *           the broker the limit; the broker knows the use)
 *
 * Which client quota applies (Kafka's precedence, first entity that sets the key wins):
 *   (user, client) · (user, <default> client) · user · (<default> user, client) ·
 *   (<default> user, <default> client) · <default> user · client · <default> client.
 * All connections that resolve to the same entity share one sensor (as in Kafka: a quota
 * on user alice is shared by all of alice's clients).
 *
 * Rates (Kafka's arithmetic): a sensor keeps `window_num` samples of `window_ms` each; the
 * rate is the sum of the samples in the window divided by the elapsed span, padded to at
 * least (window_num - 1) × window_ms. The value is recorded first, then checked, so the
 * request that crosses the line passes and the client is throttled afterwards:
 *     throttle_ms = (O - T) / T × W      (O observed rate, T quota, W window span)
 * request_percentage throttles are capped at one sample window (window_ms), as Kafka's
 * ClientRequestQuotaManager does.
 *
 * Times are wall-clock ms (st_wall_ms), so per-second metrics line up with real seconds.
 * Not thread-safe: the broker's loop thread owns it.
 */
#ifndef ST_QUOTAS_H
#define ST_QUOTAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define ST_QUOTA_DEFAULT "<default>"

/* Config keys. */
#define ST_QK_PRODUCER_BYTE_RATE       "producer_byte_rate"
#define ST_QK_CONSUMER_BYTE_RATE       "consumer_byte_rate"
#define ST_QK_REQUEST_PERCENTAGE       "request_percentage"
#define ST_QK_RETAINED_BYTES           "retained_bytes"
#define ST_QK_PARTITIONS               "partitions"
#define ST_QK_TOPICS                   "topics"
#define ST_QK_CONNECTIONS              "connections"
#define ST_QK_CONNECTION_CREATION_RATE "connection_creation_rate"

/* An entity: user/client-id components (either or both), or a tenant alone. NULL means
 * the component is absent; ST_QUOTA_DEFAULT the default entity of that type. */
typedef struct st_quota_entity {
    const char *user;
    const char *client_id;
    const char *tenant;
} st_quota_entity;

/* Who is doing something: the authenticated user (NULL or "" for ANONYMOUS — Kafka then
 * uses the user name "ANONYMOUS"), the request's client id, and the user's tenant (NULL:
 * none). Borrowed. */
typedef struct st_quota_client {
    const char *user;
    const char *client_id;
    const char *tenant;
} st_quota_client;

typedef enum st_quota_kind {
    ST_QUOTA_PRODUCE = 0, /* bytes produced */
    ST_QUOTA_FETCH = 1,   /* bytes fetched */
    ST_QUOTA_REQUEST = 2, /* request handling time, in ms of one thread */
} st_quota_kind;
#define ST_QUOTA_KINDS 3

/* Per-tenant metrics kept per second (st_quotas_metrics). */
typedef enum st_quota_metric {
    ST_QM_BYTES_IN = 0,
    ST_QM_BYTES_OUT,
    ST_QM_REQUESTS,
    ST_QM_THROTTLE_MS,
    ST_QM_DENIALS, /* ACL denials and limit refusals */
} st_quota_metric;
#define ST_QM_COUNT       5
#define ST_QM_HISTORY_SEC 300 /* seconds of per-second history kept per tenant */

typedef struct st_quotas st_quotas;

/* window_num >= 2 (quota.window.num, Kafka 11), window_ms >= 100
 * (quota.window.size.seconds × 1000, Kafka 1 s). NULL when out of memory. */
st_quotas *st_quotas_new(int window_num, int64_t window_ms);
void st_quotas_free(st_quotas *q);

/* Changes on every configuration change. */
uint64_t st_quotas_version(const st_quotas *q);

/*
 * Sets (remove false) or removes (remove true) `key` on entity `e`. Checks: the entity
 * shape (user and/or client_id, or tenant alone; names non-empty, at most 255 bytes, no
 * NUL), the key (limits are tenant-only), and the value (> 0; request_percentage also;
 * counts are whole numbers). Removing a key that is not set succeeds. Returns 0 or
 * ST_ERR_INVALID_REQUEST with the reason in err (ST_ERR__NOMEM).
 */
int st_quotas_alter(st_quotas *q, const st_quota_entity *e, const char *key, double value,
                    bool remove, char *err, size_t errlen);

/* The value of `key` set on exactly entity `e` (no precedence): true and *value, or false. */
bool st_quotas_get(const st_quotas *q, const st_quota_entity *e, const char *key, double *value);

/* Every (entity, key, value) set, in a stable order (tenants, then users, then clients,
 * names sorted, defaults after names). Pointers are borrowed for the call only. */
typedef void (*st_quotas_each_fn)(void *arg, const st_quota_entity *e, const char *key,
                                  double value);
void st_quotas_each(const st_quotas *q, st_quotas_each_fn fn, void *arg);

/* A tenant's limit `key` (retained_bytes, ...): from the tenant, else the default tenant.
 * True and *value when one is set. */
bool st_quotas_limit(const st_quotas *q, const char *tenant, const char *key, double *value);

/*
 * Persistence: {"version":1,"quotas":[{"entity":{"user":"alice","client-id":"<default>"},
 * "key":"producer_byte_rate","value":1048576}, ...]}. to_json: a new reference (NULL: out
 * of memory). load_json replaces everything, all or nothing: 0, ST_ERR__MALFORMED with what
 * was wrong in err, or ST_ERR__NOMEM.
 */
json_t *st_quotas_to_json(const st_quotas *q);
int st_quotas_load_json(st_quotas *q, const json_t *doc, char *err, size_t errlen);

/* ---- runtime ---- */

/*
 * Records `value` (bytes, or ms of handling time) for client `c` at `now_ms`, against the
 * client quota that applies (precedence above) and, when c->tenant is set, the tenant's
 * quota; also adds it to the tenant's metrics (bytes in/out). Returns the throttle time in
 * ms the client now owes: the larger of the client's and the tenant's, 0 when within both
 * (or no quota applies). Kafka's rule: the value is recorded even when it crosses the line.
 */
int64_t st_quotas_record(st_quotas *q, const st_quota_client *c, st_quota_kind kind, double value,
                         int64_t now_ms);

/*
 * The throttle time client `c` owes now for `kind` without recording anything: > 0 when a
 * quota (client's or tenant's) is already exceeded. A fetch checks this first and, when
 * > 0, answers empty instead of sending data — so a fetch bigger than a whole window still
 * goes through once the client is back under its quota, and never starves.
 */
int64_t st_quotas_owed(st_quotas *q, const st_quota_client *c, st_quota_kind kind, int64_t now_ms);

/* Drops idle sensors and metrics now (the broker calls it from its periodic tick, so an
 * idle broker frees what a burst of clients left behind). */
void st_quotas_sweep(st_quotas *q, int64_t now_ms);

/* The most `kind` the quota applying to c (client or tenant, the smaller) allows in one
 * measurement span ((window_num - 1) windows): true and *bytes, or false without a quota.
 * A fetch is capped to it (Kafka's getMaxValueInQuotaWindow), so one answer never runs
 * up a throttle of minutes. */
bool st_quotas_window_budget(const st_quotas *q, const st_quota_client *c, st_quota_kind kind,
                             double *bytes);

/* Notes a throttle the broker applied (ms) and a request (for metrics and usage), and a
 * denial (ACL or limit) for the tenant's metrics. */
void st_quotas_note_throttle(st_quotas *q, const st_quota_client *c, int64_t throttle_ms,
                             int64_t now_ms);
void st_quotas_note(st_quotas *q, const char *tenant, st_quota_metric m, double value,
                    int64_t now_ms);

/*
 * For `strait quotas usage`: every active sensor (seen within the last window) as
 * [{"entity":{...},"kind":"producer_byte_rate","rate":123.4,"quota":1048576 or null,
 *   "throttle_ms_window":N}], filtered to one tenant's sensors (its own and its users'/
 * clients') when tenant is not NULL. A new reference (NULL: out of memory).
 */
json_t *st_quotas_usage(st_quotas *q, const char *tenant, int64_t now_ms);

/*
 * For `strait explain`: which entity's quota of `kind` applies to `c` (client level and
 * tenant level), its value, the current rate and the budget left (quota - rate, may be
 * negative) and the throttle owed now: {"client":{"entity":{...} or null,"quota":...,
 * "rate":...,"budget":...},"tenant":{...} or null,"owed_ms":N}. A new reference.
 */
json_t *st_quotas_explain(st_quotas *q, const st_quota_client *c, st_quota_kind kind,
                          int64_t now_ms);

/*
 * Per-second history of `tenant`'s metrics for the last `seconds` (<= ST_QM_HISTORY_SEC):
 * {"tenant":"acme","end":<unix second>,"bytes_in":[...],"bytes_out":[...],"requests":[...],
 *  "throttle_ms":[...],"denials":[...]} oldest first. A new reference; a tenant with no
 * history gives arrays of zeros.
 */
json_t *st_quotas_metrics(st_quotas *q, const char *tenant, int seconds, int64_t now_ms);

/* A per-tenant rate of events (connection creations) against connection_creation_rate:
 * records one event and returns true when the tenant is now above its limit (the caller
 * refuses the connection), with the rate in *rate. False when no limit is set. */
bool st_quotas_connection_created(st_quotas *q, const char *tenant, int64_t now_ms, double *rate);

#endif
