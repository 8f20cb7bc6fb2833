/*
 * st_mflow: one replication flow, source cluster → target cluster, driven by the daemon's
 * main loop (mirror/main.c) through st_mflow_step. Built only on librdkafka and standard
 * Kafka APIs, so either side may be any Kafka-protocol cluster.
 *
 * What a flow does on every step (none of it blocks; librdkafka's threads do the I/O):
 *   - moves records: source partition p → target partition p of the mapped topic, keys,
 *     values, headers and timestamps kept, per-partition order kept, through an idempotent
 *     producer; adds the provenance headers below; skips records whose origin is the target
 *     (active/active with identity naming);
 *   - on each delivery report, notes source offset → target offset (mirror/offsets.h) and
 *     advances the partition's delivered position; persists changed runs to
 *     ST_MIRROR_OFFSETS_TOPIC on the target;
 *   - every sync_interval: discovers matching source topics, creates them on the target
 *     with the source's partition count (and configs), follows added partitions (sync.c);
 *   - every checkpoint_interval: translates the committed offsets of the selected source
 *     groups and writes them to the target for groups with no active members there
 *     (checkpoint.c);
 *   - every heartbeat_interval: produces a heartbeat record to ST_MIRROR_HEARTBEATS_TOPIC
 *     on the source, which the flow mirrors like any topic; its arrival on the target
 *     measures end-to-end replication latency.
 *
 * Provenance headers on every mirrored record:
 *   "strait.origin"  the alias of the cluster the record was first produced on (kept when
 *                    already present: a record mirrored twice keeps its first origin);
 *   "strait.src"     "<source alias>/<source offset>" of this hop.
 * A restarted flow resumes exactly: the offsets topic gives each partition's last
 * persisted run, and the target records after it are scanned for "strait.src" headers of
 * this source, so nothing acknowledged is copied twice and nothing is skipped.
 *
 * Loop thread only (the daemon's single thread).
 */
#ifndef ST_MIRROR_FLOW_H
#define ST_MIRROR_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mirror/config.h"

#define ST_MIRROR_HDR_ORIGIN "strait.origin"
#define ST_MIRROR_HDR_SRC    "strait.src"

typedef struct st_mflow st_mflow;

/* Creates the flow's clients (nothing is fetched yet) and reads its saved state from
 * state_dir (NULL: none; which way it runs is then the target's record alone). Borrows
 * fc (must outlive the flow). NULL with err set on a bad client configuration. */
st_mflow *st_mflow_new(const st_mflow_config *fc, const char *state_dir, char *err, size_t errlen);

/*
 * Stopping, in three calls so a daemon stops every flow at once:
 *   st_mflow_stop_begin  stops consuming (state "stopping"); st_mflow_step then waits for
 *                        the records in flight while the target keeps acknowledging
 *                        them (5 s without an acknowledgement — 1 s once the target is
 *                        known down — or 10 s in all end the wait: what is left is
 *                        copied again after a restart), then
 *                        persists the offsets map and waits up to 1 s for it;
 *   st_mflow_stopped     true once that is done;
 *   st_mflow_shutdown    hands the clients to the flow's workers to destroy and tells the
 *                        workers to stop (never waits);
 *   st_mflow_free        waits until deadline_ms (st_mono_ms) for the workers, frees.
 *                        false when a worker was still inside a librdkafka call and was
 *                        left behind (it ends on its own; the process may exit first).
 * NULL is fine for shutdown and free.
 */
void st_mflow_stop_begin(st_mflow *f);
bool st_mflow_stopped(const st_mflow *f);
void st_mflow_shutdown(st_mflow *f);
bool st_mflow_free(st_mflow *f, int64_t deadline_ms);

/* One turn of the work above; returns quickly (its copying is bounded in time). now_ms is
 * wall-clock ms. true when work is left for the next turn right away (records consumed
 * and not yet handed to the producer): the caller should not sleep. */
bool st_mflow_step(st_mflow *f, int64_t now_ms);

/* Pause/resume consuming (deliveries in flight complete). 0, or -1 with err (e.g. the
 * flow was failed over). */
int st_mflow_pause(st_mflow *f, char *err, size_t errlen);
int st_mflow_resume(st_mflow *f, char *err, size_t errlen);

/*
 * Status for `strait mirror status` and the console: {"flow", "source", "target", "state"
 * ("starting"|"running"|"paused"|"failing-over"|"failed-over"|"failed-back"|
 * "stopping"), "records_per_sec",
 * "bytes_per_sec", "lag_records", "lag_seconds", "latency_ms": {"p50","p99","samples"},
 * "last_checkpoint_age_ms", "checkpointed_groups", "duplicates_skipped", "gaps": [...],
 * "errors": [{"time","message"}...], "partitions": [{"topic","target_topic","partition",
 * "position","delivered","source_end","lag_records","lag_seconds","records_per_sec",
 * "bytes_per_sec", "epoch"?}], "in_flight_records", "producer_restarts", "failover"?: the
 * last failover's report}. A new reference.
 */
json_t *st_mflow_status(st_mflow *f, int64_t now_ms);

/*
 * Starts a failover (failover.c): the flow stops consuming and, over the next few
 * seconds of st_mflow_step, drains what is in flight, writes final translated offsets for
 * every selected group with no active members on the target, and works out per partition
 * what was not replicated. It never waits for the source, so it completes (state
 * "failed-over") within ~8 s even when the source is gone — once the state file holds it
 * (the disk worker's write collected). 0, or -1 with err (already failed over, still
 * starting); calling it again while it runs is not an error, nor on a failed-over flow
 * whose state file could not be written ("state_error"): that writes it again.
 *
 * The report then sits in the status as "failover": {"flow", "groups": [{"group",
 * "offsets": [{"topic","target_topic","partition","source_offset","target_offset",
 * "beyond"?}], "read_ms"?}], "groups_from" ("source": read at failover; "cache": the
 * source did not answer, these are the offsets last read from it at read_ms; "none"),
 * "final_checkpoint", "source_reachable", "at_risk": [{"topic","partition","from","to",
 * "source_reachable"?}] (source offsets [from, to) not on the target; without the source,
 * "to" is the last end offset known and "source_reachable" is false), "target_end":
 * [{"topic","partition","offset"}] (the divergence points), "unacknowledged", "took_ms",
 * "time_ms", "state_error"? (the state file could not be written: the file, why, what to
 * do)}.
 */
int st_mflow_failover(st_mflow *f, char *err, size_t errlen);

/*
 * Failback after a failover: the flow turns around — it now copies target → source, for
 * the same topics (identity) or from "<source alias>.<topic>" back to "<topic>" (prefix),
 * starting from the target end offsets recorded at failover (the divergence point), so
 * nothing the source already has is copied again. 0 and *report ({"flow", "from":
 * [{"topic","partition","offset"}]}), or -1 with err (not failed over). The status says
 * "failing-back" until the state file holds it ("state_error" if it could not be written;
 * failback again on that failed-back flow writes it again, with an empty "from").
 */
int st_mflow_failback(st_mflow *f, json_t **report, char *err, size_t errlen);

/*
 * After a failback: back to the configured direction (source → target), resuming from the
 * flow's offset map; records the failback brought to the source carry the target as
 * origin and are not copied again. The saved state becomes "normal" (the status says
 * "resetting" until the state file holds it, "state_error" if it could not be written:
 * reset again writes it again). 0, or -1 with err (not failed back). The state of a flow — failed-over, failed-back, normal — survives a
 * daemon restart (flowstate.c).
 */
int st_mflow_reset(st_mflow *f, char *err, size_t errlen);

#endif
