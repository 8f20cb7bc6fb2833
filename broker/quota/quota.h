/*
 * The broker's side of quotas and tenant limits: owns the st_quotas engine
 * (quotas/quotas.h), persists its configuration in <data_dir>/meta/quotas.json, measures
 * tenant use (retained bytes, partitions, topics, connections) and applies throttles to
 * connections (KIP-219: the answer goes out at once carrying throttle_time_ms, then the
 * connection reads nothing more until the throttle has passed).
 *
 * Handlers call it; the management commands (admin_quotas.c) and the client quota APIs
 * (api/client_quotas.c) change the configuration through st_quotas_alter and then
 * st_bquota_save. Loop thread only.
 */
#ifndef ST_BQUOTA_H
#define ST_BQUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quotas/quotas.h"

typedef struct st_broker st_broker;
typedef struct st_req st_req;

/* Opens b->quotas from <data_dir>/meta/quotas.json (absent: empty) with the configured
 * window. A malformed file fails the start with the file name and reason. */
int st_bquota_open(st_broker *b, char *err, size_t errlen);
void st_bquota_close(st_broker *b);

/*
 * Changes: snapshot with st_quotas_to_json before, st_quotas_alter, then st_bquota_save.
 * st_bquota_save writes quotas.json atomically; on failure it puts `snapshot` back
 * (memory never claims what the disk lacks) and returns ST_ERR__IO with err set. It takes
 * the snapshot (frees it) either way. Changes apply to open connections at once: the
 * engine is consulted on every request.
 */
int st_bquota_save(st_broker *b, json_t *snapshot, char *err, size_t errlen);

/* What a tenant uses now. */
typedef struct st_tenant_use {
    int64_t retained_bytes; /* bytes on disk in the tenant's topics (prefix) */
    int64_t partitions;     /* partitions of those topics */
    int64_t topics;
    int64_t connections; /* authenticated connections of the tenant's users */
} st_tenant_use;
void st_bquota_tenant_use(st_broker *b, const char *tenant, st_tenant_use *out);

/* The quota identity of a request: its user ("ANONYMOUS" when not authenticated), client
 * id and tenant (none: NULL), copied, so it stays valid after the request, its
 * connection or its tenant are gone. id->c points into id. A client id of 256 bytes or
 * more counts as "". */
typedef struct st_bquota_id {
    st_quota_client c;
    char user[256];
    char client_id[256];
    char tenant[65];
} st_bquota_id;
void st_bquota_client(const st_req *req, st_bquota_id *id);

/*
 * Produce: may `bytes` more be written to `topic`? 0, or ST_ERR_POLICY_VIOLATION with a
 * message naming the tenant, the limit and the use ("tenant acme: retained_bytes limit
 * 10485760 reached (10486231 bytes stored); delete records or raise the limit").
 */
int st_bquota_check_produce(st_req *req, const char *topic, size_t len, int64_t bytes, char *msg,
                            size_t cap);
/* CreateTopics / CreatePartitions: may the tenant owning `topic` add `topics` topics and
 * `partitions` partitions? 0 or ST_ERR_POLICY_VIOLATION with a message as above. */
int st_bquota_check_create(st_broker *b, const char *topic, size_t len, int topics,
                           int64_t partitions, char *msg, size_t cap);
/* A user of `tenant` has authenticated: refuse (ST_ERR_POLICY_VIOLATION, message) when the
 * tenant is at its connections or connection_creation_rate limit; else count it. */
int st_bquota_connection_open(st_broker *b, const char *tenant, char *msg, size_t cap);
/* The counted connection of `tenant` closed. */
void st_bquota_connection_closed(st_broker *b, const char *tenant);

/* The request is answered with throttle_time_ms = ms: notes it and mutes the connection
 * for ms once the answer is sent. No-op for ms <= 0 or without a connection. */
void st_bquota_throttle(st_req *req, int64_t ms);

#endif
