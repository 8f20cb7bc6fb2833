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

typedef struct st_broker_stats {
    uint64_t bytes_in;  /* produced record bytes */
    uint64_t bytes_out; /* fetched record bytes */
    uint64_t records_in;
    uint64_t auth_abandoned; /* PLAIN logins whose client left while the password was
                              * being checked (broker/api/sasl_plain.c) */
} st_broker_stats;

struct st_broker {
    st_broker_config cfg;
    st_loop *loop;
    st_server *server;            /* NULL in the fuzz harness */
    struct st_pipeline *pipeline; /* frames to answers (broker/request/) */
    st_flusher *flusher;
    st_batch_ws *batch_ws; /* codec contexts and scratch for checking produced batches */
    st_workq *workq;       /* the worker pool: CPU-heavy work off the loop (password checks) */
    st_topics *topics;
    struct st_dynconfig *dynconfig; /* broker configs, dynamic ones (cluster/dynconfig.h) */
    st_fetch_waiters *fetch_waiters;
    st_groups *groups;               /* the group coordinator (broker/group/) */
    struct st_txn_coord *txn;        /* the transaction coordinator (broker/txn/) */
    struct st_security *security;    /* SASL, ACLs, tenants (broker/security/) */
    st_tls_ctx *tls;                 /* SASL_SSL listeners' certificate; NULL without one */
    struct st_bquota *bquota;        /* quotas: the engine's one door (broker/quota/quota.h) */
    int64_t next_producer_id;        /* InitProducerId hands these out (init_producer_id.c) */
    int64_t producer_id_limit;       /* end of the id block reserved in meta/producer_ids */
    int64_t next_producer_expiry_ms; /* when the tick next expires idle producers */
    st_mgmt_server *mgmt;            /* NULL in the fuzz harness */
    struct st_cluster *cluster;      /* cluster mode's ZooKeeper side; NULL without it */
    st_dirlock *data_lock;           /* <data_dir>/.lock, held from the first step of opening */
    st_timer tick_timer;             /* housekeeping: flush.ms, checkpoints, compaction */
    st_timer retention_timer;        /* every log.retention.check.interval.ms */
    int64_t started_ms;              /* wall clock at start */
    st_broker_stats stats;
};

/* Auto-creates `name` if auto.create.topics.enable is on (Metadata, Produce).
 * Returns the topic or NULL; *refused (may be NULL) says why not: 0 (auto-creation off,
 * or a bad name: the topic is simply unknown) or ST_ERR_POLICY_VIOLATION (the owning
 * tenant is at its topics or partitions limit; logged). */
st_topic *st_broker_auto_create(st_broker *b, const char *name, size_t len, int *refused);

/* A broker with its data directory, loop and flusher but no listener and no
 * management endpoint: for the fuzz harness and unit tests, which feed its pipeline
 * (st_pipeline_on_request on b->pipeline) directly. Free with st_broker_free. */
/* Cluster mode (broker/cluster/broker_cluster.c): joins ZooKeeper when
 * cluster.zookeeper is set and waits for the registration (0, or -1 with err saying
 * why not); does nothing otherwise. Loop thread, before the loop runs. */
int st_broker_cluster_open(st_broker *b, char *err, size_t errlen);
void st_broker_cluster_close(st_broker *b);

st_broker *st_broker_new_detached(const st_broker_config *cfg, char *err, size_t errlen);

#endif
