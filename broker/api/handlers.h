/*
 * Request handlers, one file per API family, named st_handle_<api>. Each follows the
 * contract in broker/request/request.h. The API table (table.c) points at them.
 */
#ifndef ST_HANDLERS_H
#define ST_HANDLERS_H

#include <stddef.h>

#include "broker/request/request.h"

typedef struct st_log st_log;

/* The API table, sorted by key (table.c); static. */
const st_api *st_api_rows(size_t *n);

st_handler_fn st_handle_api_versions;            /* api_versions.c */
st_handler_fn st_handle_metadata;                /* metadata.c */
st_handler_fn st_handle_produce;                 /* produce.c */
st_handler_fn st_handle_fetch;                   /* fetch.c */
st_handler_fn st_handle_list_offsets;            /* list_offsets.c */
st_handler_fn st_handle_offset_for_leader_epoch; /* offset_for_leader_epoch.c */
st_handler_fn st_handle_delete_records;          /* delete_records.c */
st_handler_fn st_handle_create_topics;           /* topics.c */
st_handler_fn st_handle_delete_topics;           /* topics.c */
st_handler_fn st_handle_create_partitions;       /* topics.c */
st_handler_fn st_handle_describe_configs;        /* configs.c */
st_handler_fn st_handle_alter_configs;           /* configs.c */
st_handler_fn st_handle_init_producer_id;        /* init_producer_id.c */

/* Transactions (issue 19): txn_handlers.c */
st_handler_fn st_handle_add_partitions_to_txn;
st_handler_fn st_handle_add_offsets_to_txn;
st_handler_fn st_handle_end_txn;
st_handler_fn st_handle_txn_offset_commit;
/* txn_admin.c */
st_handler_fn st_handle_describe_transactions;
st_handler_fn st_handle_list_transactions;
st_handler_fn st_handle_describe_log_dirs; /* log_dirs.c */
st_handler_fn st_handle_describe_cluster;  /* describe_cluster.c */

st_handler_fn st_handle_incremental_alter_configs; /* configs.c */

/* Authentication and authorization (issue 4). SaslAuthenticate's row hook frees a held
 * failure answer whose client left. */
extern const st_api_hooks st_sasl_authenticate_hooks;
st_handler_fn st_handle_sasl_handshake;                  /* sasl.c */
st_handler_fn st_handle_sasl_authenticate;               /* sasl.c */
st_handler_fn st_handle_describe_acls;                   /* acls.c */
st_handler_fn st_handle_create_acls;                     /* acls.c */
st_handler_fn st_handle_delete_acls;                     /* acls.c */
st_handler_fn st_handle_describe_user_scram_credentials; /* scram_users.c */
st_handler_fn st_handle_alter_user_scram_credentials;    /* scram_users.c */

/* Quotas (issue 5) */
st_handler_fn st_handle_describe_client_quotas; /* client_quotas.c */
st_handler_fn st_handle_alter_client_quotas;    /* client_quotas.c */

/* Consumer groups (broker/group/, handlers in broker/group/handlers.c) */
st_handler_fn st_handle_find_coordinator;
st_handler_fn st_handle_join_group;
st_handler_fn st_handle_sync_group;
st_handler_fn st_handle_heartbeat;
st_handler_fn st_handle_leave_group;
st_handler_fn st_handle_offset_commit; /* broker/group/offset_handlers.c */
st_handler_fn st_handle_offset_fetch;  /* broker/group/offset_handlers.c */
st_handler_fn st_handle_list_groups;
st_handler_fn st_handle_describe_groups;
st_handler_fn st_handle_delete_groups;
st_handler_fn st_handle_offset_delete; /* broker/group/offset_delete.c */

/* Fetch long-polls (fetch.c). A fetch parks in the waiters of the shard it runs on
 * (req->shard). A produce that appended to a partition calls st_fetch_wake on the shard
 * that owns it (st_shard_owner) so parked fetches re-check min_bytes. st_fetch_shutdown
 * answers every fetch parked on a shard (broker stop). */
typedef struct st_fetch_waiters st_fetch_waiters;
st_fetch_waiters *st_fetch_waiters_new(void);
void st_fetch_waiters_free(st_fetch_waiters *w);
/* log (borrowed) was appended to: the fetches parked on it re-check min_bytes. */
void st_fetch_wake(st_shard *owner, st_log *log);
void st_fetch_shutdown(st_shard *sh);
/* Fetch's row hooks: a parked fetch whose client left is freed at once (cancel). */
extern const st_api_hooks st_fetch_hooks;
/* ApiVersions' row hooks: an unsupported version is answered, in the v0 layout. */
extern const st_api_hooks st_api_versions_hooks;
/* Fetches parked now, waiting for min_bytes or max_wait_ms (for status). */
size_t st_fetch_parked(const st_shard *sh);

#endif
