/*
 * The broker's private context, shared by the files of broker/ (handlers read it).
 * Nothing outside broker/ includes this.
 */
#ifndef ST_BROKER_INT_H
#define ST_BROKER_INT_H

#include "broker/api/handlers.h"
#include "broker/broker.h"
#include "broker/cluster/topics.h"
#include "broker/log/log.h"
#include "broker/net/conn.h"
#include "broker/net/loop.h"
#include "common/workq.h"

typedef struct st_mgmt_server st_mgmt_server;
typedef struct st_dirlock st_dirlock;
typedef struct st_groups st_groups;
typedef struct st_shard st_shard; /* one loop's state: broker/shard.h */

/* The state every loop shares, read-mostly: config, topic directory, security, quotas,
 * the coordinators (each lives on one shard's loop: today shard 0). What belongs to one
 * loop — its connections, parked requests, owned partitions, counters — is in its
 * st_shard (shard.h); handlers take that from req->shard, never from here. */
struct st_broker {
    st_broker_config cfg;
    st_shard *shards; /* owned: one per event loop (today one) */
    uint32_t nshards;
    st_workq *workq; /* the worker pool: CPU-heavy work off the loop (password checks) */
    st_topics *topics;
    struct st_dynconfig *dynconfig;  /* broker configs, dynamic ones (cluster/dynconfig.h) */
    st_groups *groups;               /* the group coordinator (broker/group/) */
    struct st_txn_coord *txn;        /* the transaction coordinator (broker/txn/) */
    struct st_security *security;    /* SASL, ACLs, tenants (broker/security/) */
    st_tls_ctx *tls;                 /* SASL_SSL listeners' certificate; NULL without one */
    struct st_bquota *bquota;        /* quotas: the engine's one door (broker/quota/quota.h) */
    int64_t next_producer_id;        /* InitProducerId hands these out (init_producer_id.c) */
    int64_t producer_id_limit;       /* end of the id block reserved in meta/producer_ids */
    int64_t next_producer_expiry_ms; /* when the tick next expires idle producers */
    st_mgmt_server *mgmt;            /* NULL in the fuzz harness; served on shard 0's loop */
    struct st_cluster *cluster;      /* cluster mode's ZooKeeper side; NULL without it */
    st_dirlock *data_lock;           /* <data_dir>/.lock, held from the first step of opening */
    int64_t started_ms;              /* wall clock at start */
};

/* Auto-creates `name` if auto.create.topics.enable is on (Metadata, Produce).
 * Returns the topic or NULL; *refused (may be NULL) says why not: 0 (auto-creation off,
 * or a bad name: the topic is simply unknown) or ST_ERR_POLICY_VIOLATION (the owning
 * tenant is at its topics or partitions limit; logged). */
st_topic *st_broker_auto_create(st_broker *b, const char *name, size_t len, int *refused);

/* A broker with its data directory, loop and flusher but no listener and no
 * management endpoint: for the fuzz harness and unit tests, which feed its pipeline
 * (st_pipeline_on_request on its main shard's pipeline) directly. Free with st_broker_free. */
st_broker *st_broker_new_detached(const st_broker_config *cfg, char *err, size_t errlen);

/* Cluster mode (broker/cluster/broker_cluster.c): joins ZooKeeper when
 * cluster.zookeeper is set and waits for the registration (0, or -1 with err saying
 * why not); does nothing otherwise. Loop thread, before the loop runs. */
int st_broker_cluster_open(st_broker *b, char *err, size_t errlen);
void st_broker_cluster_close(st_broker *b);

#endif
