/*
 * st_mworker: a thread that makes the blocking librdkafka calls of one side of a flow
 * (metadata, offset queries, scans of a topic), so the daemon's loop never waits for a
 * cluster.
 *
 * Why a thread and not a timeout: librdkafka's synchronous calls do not keep their
 * timeouts when the broker is gone. rd_kafka_query_watermark_offsets with 2000 ms on a
 * killed source waited 60 s (socket.timeout.ms), and it ran on the loop thread, so
 * failover answered nothing for a minute. Now a flow hands such a call to the worker of
 * that cluster as a job and goes on; the result comes back through st_mworker_collect on
 * the loop thread; a deadline the flow keeps decides when it stops waiting for it.
 *
 * Each flow has one worker per side (source, target): a dead source stalls only the
 * source-side jobs of its own flow; the target's jobs (e.g. the divergence point at
 * failover) go on.
 *
 * A worker owns a "probe" client on its cluster (a producer handle used only for
 * metadata and offset queries) and creates whatever short-lived consumers a job needs.
 * Nothing a job does touches the flow: a job carries its inputs and outputs, so a job
 * still running when its flow is freed finishes harmlessly and is dropped.
 *
 *     loop thread                          worker thread
 *     st_mworker_submit(job) ──queue──▶    job->run(job, probe)  (may block)
 *     st_mworker_collect()   ◀──done───    (result in the job)
 *       job->done(job, ctx)
 */
#ifndef ST_MIRROR_WORKER_H
#define ST_MIRROR_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "mirror/config.h"

typedef struct st_mworker st_mworker;
typedef struct st_mjob st_mjob;

struct st_mjob {
    /* Worker thread. May block, bounded by its own timeouts; long waits check
     * `cancelled` between steps. Reads only the job and the worker's cluster copy. */
    void (*run)(st_mjob *job, rd_kafka_t *probe, const st_mcluster_config *cluster);
    /* Loop thread, from st_mworker_collect: consume the result and free the job. */
    void (*done)(st_mjob *job, void *ctx);
    /* Any thread: free a job whose result is not wanted (its worker is stopping). */
    void (*drop)(st_mjob *job);
    atomic_bool cancelled;
    bool must_run; /* runs even when the worker is stopping (destroying clients) */
    st_mjob *next; /* the worker's queues */
};

/*
 * Starts a worker for `cluster` (copied: the worker may outlive the configuration), or
 * with cluster NULL one without a probe (for local disk work: its jobs get NULL probe and
 * cluster). `name` names its probe client and log lines ("dc1->dc2 source"). NULL with
 * err. Loop thread.
 */
st_mworker *st_mworker_start(const st_mcluster_config *cluster, const char *name, char *err,
                             size_t errlen);

/* Queues a job (takes ownership). Jobs run one at a time, in order. Loop thread. */
void st_mworker_submit(st_mworker *w, st_mjob *job);

/* Runs done(job, ctx) for every job finished since the last call. Never blocks (the
 * worker holds its lock only to move a pointer). Loop thread. */
void st_mworker_collect(st_mworker *w, void *ctx);

/* Jobs queued, running or finished and not yet collected. */
int st_mworker_pending(st_mworker *w);

/* Marks every queued and running job cancelled: a scan stops at its next poll, a
 * single call still returns only when librdkafka does. */
void st_mworker_cancel_all(st_mworker *w);

/* Tells the worker to stop without waiting: jobs are cancelled, queued ones dropped
 * except must_run ones, which it still runs. NULL is fine. Loop thread. */
void st_mworker_shutdown(st_mworker *w);

/*
 * Stops the worker (st_mworker_shutdown if not done yet) and waits until deadline_ms
 * (st_mono_ms) for its thread to end. true when it ended and everything is freed; false
 * when it is still inside a librdkafka call — it is then left behind, and frees itself
 * (its remaining jobs are dropped, never done) when the call returns. NULL is fine
 * (true). Loop thread; w is invalid afterwards either way.
 */
bool st_mworker_stop(st_mworker *w, int64_t deadline_ms);

/* ---- client settings shared with the flow's own clients (clients.c) ---- */

/*
 * A librdkafka configuration for `cl`: bootstrap, security, client.id, keepalive and a
 * short reconnect back-off, then the `extra` key/value pairs (NULL-terminated; a NULL
 * value skips its key). NULL with err naming the cluster and the setting.
 */
rd_kafka_conf_t *st_mclient_conf(const st_mcluster_config *cl, const char *client_id,
                                 const char *const *extra, char *err, size_t errlen);

#endif
