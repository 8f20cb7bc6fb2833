/*
 * The broker's side of quotas and tenant limits, and the request path's one door to the
 * quota engine (quotas/quotas.h): st_bquota owns the engine, persists its configuration
 * in <data_dir>/meta/quotas.json, measures tenant use (retained bytes, partitions,
 * topics, connections) and answers the pipeline's questions — who is this request for
 * quotas (st_bquota_identity), what does it owe, record what it did — so that nothing on
 * the request path calls the engine itself. Throttles are applied by the pipeline
 * (KIP-219: the answer goes out at once carrying throttle_time_ms, then the connection
 * reads nothing more until the throttle has passed).
 *
 * Configuration: the management commands (mgmt) and the client quota APIs
 * (api/client_quotas.c) read and change the engine's configuration through
 * st_bquota_engine, then st_bquota_save. Loop thread only.
 */
#ifndef ST_BQUOTA_H
#define ST_BQUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/config/config.h"
#include "quotas/quotas.h"

typedef struct st_bquota st_bquota;
typedef struct st_security st_security;
typedef struct st_topics st_topics;

/* Opens the engine from <data_dir>/meta/quotas.json (absent: empty) with cfg's window.
 * Borrows cfg (read now), sec and topics (both must outlive it; sec may be NULL). A
 * malformed file fails the start with the file name and reason. 0 and *out, or an error
 * code with err set. */
int st_bquota_open(const st_broker_config *cfg, st_security *sec, st_topics *topics,
                   st_bquota **out, char *err, size_t errlen);
void st_bquota_close(st_bquota *bq); /* NULL is a no-op */

/* The engine, for configuration: describe, alter (then st_bquota_save), explain, usage.
 * Borrowed; valid while bq lives. The request path uses the functions below instead. */
st_quotas *st_bquota_engine(st_bquota *bq);

/*
 * Changes: snapshot with st_quotas_to_json before, st_quotas_alter, then st_bquota_save.
 * st_bquota_save writes quotas.json atomically; on failure it puts `snapshot` back
 * (memory never claims what the disk lacks) and returns ST_ERR__IO with err set. It takes
 * the snapshot (frees it) either way. Changes apply to open connections at once: the
 * engine is consulted on every request.
 */
int st_bquota_save(st_bquota *bq, json_t *snapshot, char *err, size_t errlen);

/* What a tenant uses now. */
typedef struct st_tenant_use {
    int64_t retained_bytes; /* bytes on disk in the tenant's topics (prefix) */
    int64_t partitions;     /* partitions of those topics */
    int64_t topics;
    int64_t connections; /* authenticated connections of the tenant's users */
} st_tenant_use;
void st_bquota_tenant_use(st_bquota *bq, const char *tenant, st_tenant_use *out);

/* ---- the request path ---- */

/* The quota identity of a request: its user ("ANONYMOUS" when not authenticated), client
 * id and tenant (none: NULL), copied, so it stays valid after the request, its
 * connection or its tenant are gone. id->c points into id. A client id of 256 bytes or
 * more counts as "". */
#define ST_BQUOTA_CLIENT_ID_MAX 256
typedef struct st_bquota_id {
    st_quota_client c;
    char user[256];
    char client_id[ST_BQUOTA_CLIENT_ID_MAX];
    char tenant[65];
} st_bquota_id;

/* Builds the identity of `user` ("" or NULL: ANONYMOUS) sending client_id[0..len)
 * (len < 0: null): the tenant is the user's as the security context has it now. */
void st_bquota_identity(st_bquota *bq, const char *user, const char *client_id, int32_t len,
                        st_bquota_id *id);
/* Changes whenever an identity built before may be wrong now (the quota configuration
 * or the tenants changed): sessions cache their identity and rebuild it when this moved.
 * Never 0. */
uint64_t st_bquota_version(const st_bquota *bq);

/* Records `amount` of kind (bytes, or ms of handling time) for id now; returns the
 * throttle owed in ms (0: within its quotas). Kafka's rule: recorded even when it crosses
 * the line. */
int64_t st_bquota_charge(st_bquota *bq, const st_bquota_id *id, st_quota_kind kind, double amount);
/* The throttle id owes for kind now without recording anything (> 0: already over). */
int64_t st_bquota_owed(st_bquota *bq, const st_bquota_id *id, st_quota_kind kind);
/* The most of kind one answer may carry (Kafka's getMaxValueInQuotaWindow): true and
 * *amount, or false without a quota. */
bool st_bquota_window(st_bquota *bq, const st_bquota_id *id, st_quota_kind kind, double *amount);
/* A throttle of ms was applied to id (metrics, usage). */
void st_bquota_note_throttle(st_bquota *bq, const st_bquota_id *id, int64_t ms);
/* A request of `user` was denied by an ACL: counted for the user's tenant. */
void st_bquota_note_denial(st_bquota *bq, const char *user);
/* Drops idle sensors and metrics (the broker's periodic tick). */
void st_bquota_sweep(st_bquota *bq);

/*
 * Produce: may `bytes` more be written to `topic`? 0, or ST_ERR_POLICY_VIOLATION with a
 * message naming the tenant, the limit and the use ("tenant acme: retained_bytes limit
 * 10485760 reached (10486231 bytes stored); delete records or raise the limit").
 */
int st_bquota_check_produce(st_bquota *bq, const char *topic, size_t len, int64_t bytes, char *msg,
                            size_t cap);
/* CreateTopics / CreatePartitions: may the tenant owning `topic` add `topics` topics and
 * `partitions` partitions? 0 or ST_ERR_POLICY_VIOLATION with a message as above. */
int st_bquota_check_create(st_bquota *bq, const char *topic, size_t len, int topics,
                           int64_t partitions, char *msg, size_t cap);
/* The name of the tenant owning `topic`, or NULL (none, or no security context).
 * Borrowed: valid until the security configuration next changes (this turn of the loop). */
const char *st_bquota_tenant_of(st_bquota *bq, const char *topic, size_t len);
/* A user of `tenant` has authenticated: refuse (ST_ERR_POLICY_VIOLATION, message) when the
 * tenant is at its connections or connection_creation_rate limit; else count it. */
int st_bquota_connection_open(st_bquota *bq, const char *tenant, char *msg, size_t cap);
/* The counted connection of `tenant` closed. */
void st_bquota_connection_closed(st_bquota *bq, const char *tenant);

#endif
