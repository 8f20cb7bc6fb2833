/*
 * st_shard: what belongs to one event loop thread. The broker (broker_int.h) holds the
 * state every loop shares and reads — config, the topic directory, security, quotas,
 * the coordinators — and one st_shard per loop holds what only that loop touches: the
 * loop itself, its connections (server) and their pipeline, the parked requests (fetch
 * waiters), the partitions it owns (their flusher and the scratch their appends use),
 * its housekeeping timers and its traffic counters.
 *
 * A request carries both (req->shard: the loop it runs on; req->broker: the shared
 * state), so a handler never takes a loop, a waiter list or a counter from the broker:
 * with several loops it would be another loop's. Today straitd runs one loop, so one
 * shard; docs/architecture.md says how a request for a partition owned by another
 * shard will travel.
 *
 * Everything in a shard is touched on its loop's thread only.
 */
#ifndef ST_SHARD_H
#define ST_SHARD_H

#include <stdint.h>

#include "broker/net/conn.h"
#include "broker/net/loop.h"

typedef struct st_broker st_broker;
typedef struct st_pipeline st_pipeline;
typedef struct st_flusher st_flusher;
typedef struct st_batch_ws st_batch_ws;
typedef struct st_fetch_waiters st_fetch_waiters;
typedef struct st_log st_log;

typedef struct st_shard_stats {
    uint64_t bytes_in;  /* produced record bytes */
    uint64_t bytes_out; /* fetched record bytes */
    uint64_t records_in;
    uint64_t auth_abandoned; /* PLAIN logins whose client left while the password was
                              * being checked (broker/api/sasl_plain.c) */
} st_shard_stats;

typedef struct st_shard {
    uint32_t id;       /* index in the broker's shards */
    st_broker *broker; /* borrowed: the shared state (owns this shard) */
    st_loop *loop;
    st_server *server;     /* its connections; NULL in the fuzz harness */
    st_pipeline *pipeline; /* frames to answers (broker/request/) */
    /* The partitions it owns: their logs' fsync queue (completions are posted to this
     * loop), the codec scratch their produced batches are checked with, and the fetches
     * parked on them. */
    st_flusher *flusher;
    st_batch_ws *batch_ws;
    st_fetch_waiters *fetch_waiters;
    st_timer tick_timer;      /* housekeeping: flush.ms, checkpoints, compaction */
    st_timer retention_timer; /* every log.retention.check.interval.ms */
    st_shard_stats stats;
} st_shard;

/* The shard whose loop runs the management endpoint, the coordinators and the broker's
 * own housekeeping (shard 0). Borrowed; valid while b lives. */
st_shard *st_shard_main(st_broker *b);
/* The shards' traffic counters summed (for status). */
void st_shard_stats_sum(const st_broker *b, st_shard_stats *out);

/* The shard that owns log's partition: its fetch waiters are the ones an append wakes.
 * Borrows both; valid while the broker lives. Loop thread of the caller; today every
 * partition belongs to shard 0. */
st_shard *st_shard_owner(st_broker *b, const st_log *log);

#endif
