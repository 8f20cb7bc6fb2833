/*
 * st_topics: the topic registry and local metadata store. It knows every topic, its
 * partitions (each an st_log) and its config overrides, and keeps them in
 * <data_dir>/meta/topics.json (written to a temp file, fsynced, renamed). The file is
 * written once per change, or once per batch of changes (st_topics_defer, e.g. a
 * CreateTopics request naming 500 topics).
 *
 * The Kafka admin APIs (CreateTopics, DeleteTopics, CreatePartitions, Describe/Alter
 * Configs) and the management endpoint both call these functions: no logic twice.
 *
 * A clean shutdown leaves <data_dir>/.clean_shutdown; st_topics_open consumes it and
 * tells every log it may skip recovery.
 *
 * Loop thread only.
 */
#ifndef ST_TOPICS_H
#define ST_TOPICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/log/log.h"
#include "common/workq.h"

typedef struct st_topics st_topics;

/*
 * A topic and its partitions. Opaque outside broker/cluster/ (the registry owns them and
 * may move, grow or free them as topics change): the handlers ask through the functions
 * below, so that partition ownership can later be sharded across event loops and change
 * at run time (docs/architecture.md). Pointers returned are borrowed and valid until the
 * registry next changes (create, delete, create_partitions) — never across a turn of
 * the loop.
 */
#define ST_TOPIC_ID_LEN 16

typedef struct st_topic st_topic;
typedef struct st_partition st_partition;

const char *st_topic_name(const st_topic *t);
const uint8_t *st_topic_id(const st_topic *t); /* ST_TOPIC_ID_LEN bytes: made at creation */
bool st_topic_internal(const st_topic *t);     /* the name starts with "__" */
int32_t st_topic_partition_count(const st_topic *t);
/* Partition index's log, or NULL when there is no such partition. */
st_log *st_topic_log(const st_topic *t, int32_t index);
/* The settings in effect: the broker's defaults and the topic's overrides. */
const st_log_config *st_topic_config(const st_topic *t);
/* The value of the topic's override of config (e.g. "retention.ms"), or NULL. */
const char *st_topic_override(const st_topic *t, const char *config);
/* Record bytes produced to and fetched from the topic since start, for the console's
 * per-topic rates (topics.stats). */
void st_topic_count_in(st_topic *t, uint64_t bytes);
void st_topic_count_out(st_topic *t, uint64_t bytes);
uint64_t st_topic_bytes_in(const st_topic *t);
uint64_t st_topic_bytes_out(const st_topic *t);

st_log *st_partition_log(const st_partition *p);

/* What DescribeConfigs and `strait topics describe` show for one config. */
typedef struct st_config_desc {
    const char *name; /* static */
    char value[64];
    bool is_default; /* no override on this topic */
    bool read_only;
    bool sensitive;
} st_config_desc;

/* A config set in a request: value NULL means delete the override. Borrowed. */
typedef struct st_config_set {
    const char *name;
    const char *value;
} st_config_set;

/* A name given more than once among configs[0..n), or NULL. O(n log n): a request may
 * carry hundreds of thousands of names (a pairwise check once held the event loop for
 * minutes). Returns one of the configs' names (borrowed). */
const char *st_config_sets_duplicate(const st_config_set *configs, size_t n);

/* Opens the registry and every partition log under data_dir (creating the directory
 * tree if missing). Borrows defaults (copied) and flusher. NULL + err on failure. */
st_topics *st_topics_open(const char *data_dir, const st_log_config *defaults, st_flusher *flusher,
                          char *err, size_t errlen);
/* Persists pending changes, closes every log (flushing), writes the clean-shutdown
 * marker, frees. */
void st_topics_close(st_topics *t);

size_t st_topics_count(const st_topics *t);
/* Topics in name order; i < count. Valid until the registry changes. */
st_topic *st_topics_at(const st_topics *t, size_t i);
/* Looks a topic up by name (len bytes, not NUL-terminated). NULL if none. */
st_topic *st_topics_find(const st_topics *t, const char *name, size_t len);
/* A partition, or NULL if the topic or partition does not exist. */
st_partition *st_topics_partition(const st_topics *t, const char *name, size_t len,
                                  int32_t partition);

/* Kafka's rules: 1..249 chars of [a-zA-Z0-9._-], not "." or "..". 0, or
 * ST_ERR_INVALID_TOPIC_EXCEPTION with err saying why. */
int st_topic_name_check(const char *name, size_t len, char *err, size_t errlen);

/*
 * Batches the changes that follow: until st_topics_persist, create, delete,
 * create_partitions and alter_configs change memory only (a deleted topic's data stays
 * until topics.json no longer names it) and return 0 where they would have persisted.
 * Without a batch, each of them persists at once.
 */
void st_topics_defer(st_topics *t);
/*
 * Writes topics.json if anything changed since it was last written, and ends a batch.
 * Returns 0, or ST_ERR_KAFKA_STORAGE_ERROR with err saying why (also logged): then
 * every change since the last successful write is undone (created topics and
 * partitions removed with their directories, deleted topics back with their data,
 * overrides restored), so what the broker serves is what topics.json holds, and the
 * caller answers that error for each topic it changed.
 */
int st_topics_persist(st_topics *t, char *err, size_t errlen);

/* Each returns a wire error code, with err holding a message for the client on
 * failure, e.g. "topic \"orders\" already exists". partitions -1 / replication -1 mean
 * the broker defaults. Replication above 1 is INVALID_REPLICATION_FACTOR on one node.
 * Outside a batch a failed write of topics.json undoes the change and returns
 * KAFKA_STORAGE_ERROR (see st_topics_persist). */
int st_topics_create(st_topics *t, const char *name, int32_t partitions, int16_t replication_factor,
                     const st_config_set *configs, size_t nconfigs, bool validate_only, char *err,
                     size_t errlen);
int st_topics_delete(st_topics *t, const char *name, char *err, size_t errlen);
/* Grows the topic to new_total partitions (fewer or equal → INVALID_PARTITIONS). */
int st_topics_create_partitions(st_topics *t, const char *name, int32_t new_total,
                                bool validate_only, char *err, size_t errlen);
/* incremental=false: the given set replaces all overrides (AlterConfigs).
 * incremental=true: only the named configs change (value NULL removes). Unknown names
 * or bad values → INVALID_CONFIG naming the config and the reason. Applied to the
 * partition logs at once. */
int st_topics_alter_configs(st_topics *t, const char *name, const st_config_set *configs,
                            size_t nconfigs, bool incremental, bool validate_only, char *err,
                            size_t errlen);
/* Every topic config with its current value. *out is a new array the caller frees. */
int st_topics_describe_configs(const st_topics *t, const char *name, st_config_desc **out,
                               size_t *n);
/* New broker-wide defaults (dynamic broker configs): every topic's settings are
 * recomputed (defaults + its overrides) and applied to its logs at once. Borrows
 * defaults (copied). */
void st_topics_set_defaults(st_topics *t, const st_log_config *defaults);

/* Timed flush, checkpoints and compaction on every partition (st_log_tick). */
void st_topics_tick(st_topics *t, int64_t now_ms);
/* Retention on every partition (st_log_apply_retention); the number of segments
 * deleted. */
int st_topics_apply_retention(st_topics *t, int64_t now_ms);
/* Forgets, on every partition, the idempotent producers idle for expiration_ms. */
void st_topics_expire_producers(st_topics *t, int64_t now_ms, int64_t expiration_ms);

/* ---- creation off the loop thread (topics_create.c) ----
 *
 * A CreateTopics of 1,000 partitions makes 1,000 directories and their segment files:
 * half a second of file-system calls that must not hold the event loop. A creation job
 * checks everything on the loop, makes the partitions on the registry's worker thread,
 * then, back on the loop, registers the topics and writes topics.json; only then does
 * it call done, so an answer built in done promises only what is on disk. Until then
 * the topics are invisible (Metadata, Produce do not see them) and their names
 * reserved: creating one again is TOPIC_ALREADY_EXISTS.
 *
 *   loop: st_topics_job_add (checks) ─▶ st_topics_job_start ──queue──▶ worker:
 *         mkdir, segment files ─▶ loop: register, topics.json ─▶ done(arg)
 */

/* Starts the registry's worker thread (one: deletions and creations stay in order),
 * completing on the loop through post (common/workq.h's contract). 0, or -1 with err.
 * Without it (tests, tools), jobs run at once on the calling thread. Loop thread. */
int st_topics_start_worker(st_topics *t, st_workq_post_fn *post, void *post_ctx, char *err,
                           size_t errlen);
/* Lets queued jobs finish and joins the worker; their completions are posted, and the
 * caller runs them (st_loop_run_posted) before st_topics_close. */
void st_topics_stop_worker(st_topics *t);

/* Creation jobs waiting for the registry's worker, at most. */
#define ST_TOPICS_QUEUE_MAX 64

typedef struct st_topics_job st_topics_job;
typedef void st_topics_job_done_fn(void *arg);

/* A new, empty job (aborts when out of memory, as st_buf). */
st_topics_job *st_topics_job_new(st_topics *t);
/* Checks one topic as st_topics_create does and adds it to the job: 0 (its slot is the
 * number of topics added before), or the error code with err saying why (not added). */
int st_topics_job_add(st_topics_job *j, const char *name, int32_t partitions,
                      int16_t replication_factor, const st_config_set *configs, size_t nconfigs,
                      char *err, size_t errlen);
/* Queues the job on the worker: 0, and done(arg) runs on the loop thread later; 1 when
 * it ran at once (no worker, or nothing to make): done is not called; or -1 when the
 * worker's queue is full (nothing was done: the caller answers that it should retry). */
int st_topics_job_start(st_topics_job *j, st_topics_job_done_fn *done, void *arg);
/* Slot i's result once the job is done: 0 (the topic exists, topics.json names it), or
 * ST_ERR_KAFKA_STORAGE_ERROR with err saying why. */
int st_topics_job_result(const st_topics_job *j, size_t i, char *err, size_t errlen);
/* Calls fn(arg, name, partitions) for every topic a started job is still making (not yet
 * registered): what limits that count topics must count too. Loop thread. */
void st_topics_jobs_foreach(st_topics *t,
                            void (*fn)(void *arg, const char *name, int32_t partitions), void *arg);
/* Frees a job that is done or was never started. */
void st_topics_job_free(st_topics_job *j);

#endif
