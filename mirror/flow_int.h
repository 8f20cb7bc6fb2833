/*
 * The inside of an st_mflow, shared by mirror/flow.c (replication, status), mirror/sync.c
 * (internal topics, resume, topic discovery and creation, heartbeats) and
 * mirror/checkpoint.c (group offset checkpoints, failover, failback).
 *
 * Clients of a flow (all librdkafka, all driven from the loop thread):
 *   consumer      on the source; a group.id only because librdkafka's assign() needs one
 *                 (it never joins nor commits): partitions are assigned with explicit
 *                 offsets, so the flow alone decides where copying resumes;
 *   producers     on the target, idempotent, flow config `producers` of them (4): each
 *                 has its own connection and so its own window of 5 requests in flight;
 *                 a partition always goes through the same one (mf_part_producer), so
 *                 its records stay in order and its delivery reports come in order;
 *   producer      producers[0]; also the target's admin handle and the writer of the
 *                 offsets topic;
 *   src_producer  on the source: heartbeats and the source's admin handle;
 *   scanner       a short-lived consumer on the target, created while resuming.
 * Admin results arrive on src_q / tgt_q and are dispatched by event type from
 * st_mflow_step. Calls that block in librdkafka (offset queries, metadata, scans) go to
 * the flow's two workers (worker.h, jobs.c), one per cluster, whose results come back
 * through st_mflow_step too: nothing on the loop thread waits for a cluster.
 *
 * Loop thread only, except the delivery-report callback, which librdkafka runs inside
 * rd_kafka_poll on the loop thread too, and the jobs' run() on the worker threads, which
 * touch only their job.
 */
#ifndef ST_MIRROR_FLOW_INT_H
#define ST_MIRROR_FLOW_INT_H

#include <limits.h>

#include <librdkafka/rdkafka.h>

#include "mirror/flow.h"
#include "mirror/offsets.h"
#include "mirror/worker.h"

#define MF_MAX_ERRORS      20
#define MF_LAT_SAMPLES     1000
#define MF_LAT_RECENT_MS   30000  /* status latency_ms.p99_recent: the last 30 s */
#define MF_RATE_SLOTS      6      /* one sample a second: rates over the last ~5 s */
#define MF_MAX_OUTQ        200000 /* producers' queue length (all) above which we stop consuming */
#define MF_CONSUME_BATCH   10000
#define MF_COPY_BUDGET_US  5000 /* per flow and loop turn, handing records to the producer */
#define MF_TOPIC_NAME_MAX  512
#define MF_ADMIN_TIMEOUT   15000
#define MF_SCAN_TIMEOUT_MS 60000
/* partitions a topic may have: more (broken or hostile metadata, a bad state record) is
 * refused */
#define MF_MAX_PARTITIONS 100000

/*
 *   STARTING ──offsets map loaded──▶ RUNNING ◀──resume── PAUSED
 *                                       │ failover (also from PAUSED)
 *                                       ▼
 *                                  FAILING_OVER ──drained, checkpointed, ends known,
 *                                       │          state file durable (fsynced)──▶
 *                                  FAILED_OVER ──failback──▶ FAILED_BACK (reversed)
 * A failed-over flow whose state file could not be written ("state_error" in its report)
 * goes back to FAILING_OVER on another failover command, to try the write again.
 */
typedef enum mf_state {
    MF_STARTING = 0,
    MF_RUNNING,
    MF_PAUSED,
    MF_FAILING_OVER,
    MF_FAILED_OVER,
    MF_FAILED_BACK,
    MF_STOPPING, /* the daemon stops: no more copying, in-flight records acknowledged */
} mf_state;

/* Stopping (flow.c): the records in flight, then the map's last runs. */
enum { MF_STOP_DRAIN = 0, MF_STOP_PERSIST, MF_STOP_DONE };
#define MF_STOP_NO_PROGRESS_MS                                                                     \
    5000                         /* no acknowledgement for this long: stop waiting (a request      \
                                    of 1 MB takes 4 s on a 256 KB/s link) */
#define MF_STOP_DOWN_MS    1000  /* the same, once the target is known to be down */
#define MF_STOP_MAX_MS     10000 /* at most, however slowly they come */
#define MF_STOP_PERSIST_MS 1000  /* for the map's last runs */
typedef struct mf_stop {
    int phase;
    int64_t started_ms, progress_ms, persist_deadline; /* monotonic */
    int last_outq, persist_outq;
    bool target_down; /* the producer reported its brokers down since stopping began */
} mf_stop;

/* One record handed to the producer (or skipped) and not yet acknowledged, in source
 * offset order: the idempotent producer reports deliveries of a partition in order. */
typedef struct mf_inflight {
    int64_t src;   /* source offset */
    int64_t ts_ms; /* record timestamp (lag_seconds) */
    int64_t bytes;
    bool skipped;   /* origin was the target: nothing produced, nothing to wait for */
    bool heartbeat; /* this flow's own heartbeat: its delivery measures latency */
} mf_inflight;

typedef struct mf_rate {
    int64_t t_ms[MF_RATE_SLOTS], recs[MF_RATE_SLOTS], bytes[MF_RATE_SLOTS];
    int n, head;
} mf_rate;

struct mf_topic;
struct mf_meta_job;

typedef struct mf_part {
    struct mf_topic *topic;
    int32_t partition;
    int64_t position;                 /* next source offset to take from the consumer */
    int64_t delivered;                /* every source offset below is on the target (or skipped) */
    int64_t source_start, source_end; /* last known watermarks, -1 unknown */
    int64_t target_end;               /* at failover: the divergence point, -1 unknown */
    int64_t last_src_added;           /* highest source offset in the map, -1 none */
    bool resumed;                     /* position known, ready to assign */
    bool assigned;                    /* in the consumer's assignment */
    bool resync;                /* a delivery failed: rescan the target once nothing is in flight */
    int64_t failed_from;        /* the first source offset whose delivery failed since the
                                 * partition last resumed, -1 none: the resume starts there
                                 * unless the target has it (resume.c) */
    int64_t recheck_until;      /* below this source offset, a record the map says is on the
                                 * target is skipped, not written twice (copy.c), -1 none */
    int64_t refused_said;       /* the failed_from last said to be copied again: said once, so
                                 * a record refused each time repeats one message, -1 none */
    bool scanning;              /* a resume scan of the target is out for it (resume.c) */
    bool checking;              /* out of range: the source's offsets are being asked */
    int64_t floor;              /* reversed flow: the divergence point, where copying may start */
    int64_t epoch;              /* the source incarnation copied (offsets.h epochs), 0 the first */
    int64_t max_start, max_end; /* the highest source start and end offsets seen */
    bool recreated;             /* the source topic is a new incarnation: switch once drained */
    bool stopped;               /* no longer copied (topic deleted, went backwards) */
    mf_inflight *ring;          /* FIFO of records in flight */
    size_t ring_cap, ring_head, ring_len;
    int64_t records, bytes; /* delivered totals */
    int64_t caught_up_ms;   /* last time delivered reached source_end */
    mf_rate rate;
} mf_part;

typedef enum mf_topic_state {
    MF_T_NEW = 0,    /* seen on the source, target not checked yet */
    MF_T_DESCRIBING, /* DescribeConfigs on the source in flight */
    MF_T_CREATING,   /* CreateTopics on the target in flight */
    MF_T_READY,      /* exists on the target with enough partitions */
    MF_T_FAILED,     /* creation failed: retried at retry_ms */
} mf_topic_state;

typedef struct mf_topic {
    char name[MF_TOPIC_NAME_MAX];   /* on the source */
    char target[MF_TOPIC_NAME_MAX]; /* on the target */
    mf_topic_state state;
    int32_t src_partitions; /* on the source, last metadata */
    int32_t tgt_partitions; /* on the target, last metadata (0 absent) */
    bool growing;           /* CreatePartitions in flight */
    bool heartbeat;         /* ST_MIRROR_HEARTBEATS_TOPIC */
    bool deleted;           /* gone from the source */
    bool recreated_said;    /* the new incarnation was reported */
    char recreated_why[160];
    int64_t retry_ms;
    mf_part **parts; /* index = partition */
    int32_t nparts;
    rd_kafka_topic_t *rkt[ST_MIRROR_MAX_PRODUCERS]; /* each producer's handle of `target` */
    uint32_t prod_base; /* hash of `target`: where its partitions start among the producers */
} mf_topic;

typedef struct mf_error {
    int64_t time_ms;
    char message[512];
} mf_errent;

/* Checkpoint phases (checkpoint.c). */
enum { CK_IDLE = 0, CK_LIST_PHASE, CK_FETCH_PHASE, CK_HELD, CK_ALTER };

/* One checkpoint cycle (checkpoint.c). */
typedef struct mf_ckpt {
    bool running;
    int phase; /* checkpoint.c's CK_* */
    int64_t started_ms;
    int pending; /* admin results still expected */
    size_t ngroups;
    char **groups;   /* selected source groups (owned) */
    bool *writable;  /* per group: no active members on the target */
    bool from_cache; /* the source offsets are the last ones read (source unreachable) */
    bool hold_alter; /* failover: write only once the producer has drained */
    bool failed;     /* the source part failed: a failover falls back to the cache */
    size_t written;  /* groups written this cycle */
    json_t *report;  /* [{"group","offsets"}] written by this cycle */
} mf_ckpt;

/* The committed offsets last read from the source, per group (source topic names and
 * offsets, untranslated): what a checkpoint translates, and what a failover writes when
 * the source can no longer be asked. */
typedef struct mf_gcache {
    char *group;
    rd_kafka_topic_partition_list_t *offsets;
    int64_t read_ms; /* wall clock */
} mf_gcache;

/* A failover in progress (failover.c). */
typedef struct mf_fo {
    int64_t started_ms;     /* monotonic */
    int64_t drain_deadline; /* stop waiting for in-flight records */
    int64_t src_deadline;   /* stop waiting for the source: use the cached group offsets */
    int64_t end_deadline;   /* stop waiting for the end offsets and the final writes */
    bool drained;
    bool src_ends, tgt_ends;           /* their answers arrived */
    int64_t *src_lo, *src_hi, *tgt_hi; /* per report partition (fo_parts order), -1 unknown */
    size_t nparts;
    int last_outq;       /* producer queue length, to see acknowledgements coming */
    int64_t progress_ms; /* when it last moved */
    int drain_left;      /* records still unacknowledged when the drain ended */
    bool cached;         /* the group offsets come from the cache */
    bool src_ok;         /* the source answered the end offset query */
    /* the report is made; the state file is being written (failed-over only once it is) */
    bool saving;
    bool save_warned;   /* said once that the write is slow */
    int64_t save_gen;   /* the generation being written */
    int64_t save_since; /* monotonic */
} mf_fo;

/* A round of topic config following (configs.c). */
typedef struct mf_cfgsync {
    bool busy;
    int64_t started_ms;
    json_t *src, *tgt;                /* {"topic": {"name": "value"}}: the overrides read */
    char src_tag, tgt_tag, alter_tag; /* their addresses tag the admin requests */
} mf_cfgsync;

/* A round of ACL following (acls.c). */
typedef struct mf_aclsync {
    bool busy;
    int64_t started_ms;
    json_t *src, *tgt; /* {key: binding}: the source's translated, the target's as they are */
    json_t *owned;     /* {key: binding}: what the mirror made on the target (persisted) */
    char tags[4];      /* their addresses tag the admin requests */
} mf_aclsync;

/* What a worker job is for (jobs.c). */
typedef enum mf_offsets_purpose {
    MF_OFS_SOURCE_ENDS = 0, /* every sync: the source's start and end offsets */
    MF_OFS_FAILOVER_SOURCE, /* failover: the source's ends, if it still answers */
    MF_OFS_FAILOVER_TARGET, /* failover: the target's ends (divergence points) */
    MF_OFS_OUT_OF_RANGE,    /* a partition's position is out of range: where is it now */
} mf_offsets_purpose;

typedef struct mf_offsets_job {
    st_mjob job;
    uint64_t gen; /* st_mflow.gen when submitted: a later generation ignores the result */
    mf_offsets_purpose purpose;
    int timeout_ms;
    rd_kafka_topic_partition_list_t *lo, *hi; /* in: partitions; out: offsets and errors */
    rd_kafka_resp_err_t err;
} mf_offsets_job;

struct st_mflow {
    const st_mflow_config *fc;
    const st_mcluster_config *src, *tgt; /* swapped by failback */
    mf_state state;
    uint64_t gen; /* bumped when the topic set is replaced (failback): old job results drop */
    st_mworker *src_worker, *tgt_worker;            /* swapped by failback with src/tgt */
    bool src_ends_busy;                             /* an MF_OFS_SOURCE_ENDS job is out */
    rd_kafka_t *consumer, *producer, *src_producer; /* producer == producers[0] */
    rd_kafka_t *producers[ST_MIRROR_MAX_PRODUCERS]; /* fc->producers of them, or none */
    rd_kafka_queue_t *cq, *src_q, *tgt_q;
    st_moffsets *map;
    mf_topic **topics;
    size_t ntopics, cap_topics;
    rd_kafka_message_t **pending; /* consumed, not yet accepted by the producer */
    size_t npending, pending_pos, cap_pending;
    bool offsets_ready; /* offsets topic exists on the target and was loaded */
    bool loading;       /* the load job is out (resume.c) */
    bool sync_busy;     /* a discovery round's metadata jobs are out (sync.c) */
    struct mf_meta_job *sync_src, *sync_tgt; /* their answers, until both are in */
    bool discovery; /* topic discovery on (off after failback: fixed partition set) */
    int64_t next_sync_ms, next_ckpt_ms, next_hb_ms, next_persist_ms, next_sample_ms;
    int64_t last_ckpt_ms; /* wall ms of the last completed checkpoint, 0 never */
    size_t ckpt_groups;   /* groups written by the last checkpoint */
    mf_ckpt ckpt;
    mf_gcache *gcache;
    size_t ngcache;
    mf_fo fo;
    mf_stop stop;
    mf_cfgsync cfgsync;
    mf_aclsync aclsync;
    mf_errent errors[MF_MAX_ERRORS];
    size_t nerrors, error_head;
    json_t *gaps; /* [{"topic","partition","from","to"}] */
    double latencies[MF_LAT_SAMPLES];
    int64_t lat_at_ms[MF_LAT_SAMPLES]; /* when each was taken (wall clock) */
    size_t nlat, lat_head;
    int64_t duplicates_skipped;
    bool producer_fatal;    /* a target producer raised a fatal error (clients.c) */
    char fatal_reason[512]; /* librdkafka's words for it */
    int64_t producer_restarts;
    int64_t records, bytes; /* delivered totals */
    mf_rate rate;
    int offsets_marker; /* its address is the delivery opaque of offsets-topic records */
    int heartbeat_marker;
    json_t *failover_report; /* the report of the last failover, once done */
    /* flowstate.c: which way the flow runs, remembered */
    char state_path[PATH_MAX]; /* <state_dir>/flows/...json, "" when none */
    json_t *saved;             /* the last state saved or loaded, NULL never failed over */
    json_t *divergence;        /* [{"topic","target_topic","partition","offset"}] at failover */
    st_mworker *disk_worker;   /* writes the state file */
    bool state_unreadable;     /* the file exists but could not be read: without a record
                                * on the target the flow is held (mf_flowstate_start) */
    bool state_rereading;      /* a read of the file is queued on the disk worker */
    /* failback and reset, like failover (mf_fo.saving): the new state is said (status,
     * the command's answer) only once the state file's write of cmd_save_gen is collected */
    int64_t cmd_save_gen;  /* the generation being written; -1 none */
    const char *cmd_save;  /* "failback" or "reset" (static): the command waiting */
    int64_t cmd_error_gen; /* the generation whose write failed (cmd_error) */
    char cmd_error[1536];  /* "": none; else the file, why, what to do */
};

/* ---- flow.c ---- */
/* The target producer's delivery-report callback (installed by mf_client_new). */
void mf_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
/* Records a user-visible error (status "errors", logged at warn). */
void mf_error(st_mflow *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A new client on `cl` with the common settings plus extra key/value pairs (NULL ended).
 * NULL with err. */
rd_kafka_t *mf_client_new(st_mflow *f, const st_mcluster_config *cl, rd_kafka_type_t type,
                          const char *const *extra, char *err, size_t errlen);
/* The topic named `name` on the source, or NULL. */
mf_topic *mf_topic_find(st_mflow *f, const char *name);
/* Adds a topic (source name, target name); NULL on allocation failure. */
mf_topic *mf_topic_add(st_mflow *f, const char *name, const char *target);
/* Makes sure partitions [0, n) exist in t (state only; nothing assigned). */
int mf_topic_grow(mf_topic *t, int32_t n);
/* Adds to the consumer every resumed, unassigned, running partition. */
void mf_assign_ready(st_mflow *f);
/* Removes one partition from the consumer's assignment. */
void mf_unassign(st_mflow *f, mf_part *p);
/* Creates the consumer and producers for f->src → f->tgt. 0 or -1 with err. */
int mf_clients_start(st_mflow *f, char *err, size_t errlen);
/* Destroys the clients (no flush). */
void mf_clients_stop(st_mflow *f);
/* Drops consumed-but-unproduced records. */
void mf_pending_drop(st_mflow *f);
/* The FIFO of records in flight: push (0, or -1 out of memory); records at its head that
 * were skipped count as delivered at once. */
int mf_ring_push(mf_part *p, const mf_inflight *e);
void mf_ring_release_skipped(mf_part *p);

/* ---- copy.c ---- */
/* Takes what the consumer has and hands it to the producer, within MF_COPY_BUDGET_US. */
void mf_copy_step(st_mflow *f);
/* Partitions whose delivery failed: resumed from the map and a scan of the target (what
 * it stored is not written twice) once nothing of theirs is in flight. */
void mf_resync_step(st_mflow *f);
/* The answer to a position out of range: a lost range, or a recreated topic. */
void mf_out_of_range_answer(st_mflow *f, mf_offsets_job *j);

/* ---- clients.c ---- */
/* (mf_client_new, mf_clients_start, mf_clients_stop are declared above.) */
/* Replaces the target producers after one failed for good and resumes every partition
 * from the map and a scan of the target (see clients.c). */
void mf_producer_recover(st_mflow *f);
/* The index into f->producers of the producer that carries partition p: stable for the
 * flow's life (the topic's target name hashed, plus the partition, modulo the count). */
int mf_part_producer(const st_mflow *f, const mf_part *p);
/* A consumer on `cl` that reads assigned partitions to their end (partition EOF on, no
 * commits, from the earliest offset when none is given), for the workers' jobs: `role`
 * ends its client id ("scanner", "mm2"), `isolation` is its isolation.level
 * ("read_uncommitted": a resume scan must see the mirror's records past a target
 * producer's open transaction; "read_committed": MM2's topics, as MM2 reads them). NULL
 * with err. Freed with mf_reader_free (NULL is fine). Worker threads. */
rd_kafka_t *mf_reader_new(const st_mcluster_config *cl, const char *group, const char *role,
                          const char *isolation, char *err, size_t errlen);
void mf_reader_free(rd_kafka_t *rk);
/* True when rk is one of f's current target producers. */
bool mf_is_target_producer(const st_mflow *f, const rd_kafka_t *rk);
/* Serves every target producer's delivery reports and callbacks. */
void mf_producers_poll(st_mflow *f);
/* Records queued or in flight in all the target producers together (0 without them). */
int mf_producers_outq(st_mflow *f);
/* Purges what every target producer holds (queued and in flight) and serves the reports
 * of the purged records, while the partitions they name exist. */
void mf_producers_purge(st_mflow *f);

/* ---- resume.c ---- */
/* Starts loading ST_MIRROR_OFFSETS_TOPIC from the target into a fresh map on the target's
 * worker (creating the topic if needed); mf_on_loaded follows on success, a retry in 2 s
 * on failure. */
void mf_offsets_load_start(st_mflow *f);
/* The flow's side of a completed load: f->map and offsets_ready are set; records holds
 * the flow records found ({kind: value}, borrowed) (flow.c). */
void mf_on_loaded(st_mflow *f, const json_t *records);
/* Finds where each listed partition resumes: the map's position, then the target scanned
 * (on its worker) from there for records with this source's "strait.src". Marks them
 * scanning; the answer sets resumed/position/delivered and assigns them. */
void mf_resume_parts(st_mflow *f, mf_part **parts, size_t n);
/* A resume's answer (position set) for a partition whose delivery failed: copies again
 * from the first record that failed unless the target has it (failed_from, recheck_until). */
void mf_resume_after_failure(st_mflow *f, mf_part *p);
/* Produces the map's changed runs to the offsets topic. */
void mf_offsets_persist(st_mflow *f);
/* Produces a flow record "<source alias>\0#<kind>" with a JSON value to the offsets topic
 * on the target (the latest one wins when loading; the load hands them to the flow). */
void mf_state_record_put(st_mflow *f, const char *kind, const json_t *value);
/* Parses "<alias>/<offset>" (epoch 0) or "<alias>/<offset>@<epoch>" of a strait.src
 * header: true with *offset and *epoch when alias matches. */
bool mf_parse_src_header(const void *value, size_t len, const char *alias, int64_t *offset,
                         int64_t *epoch);
/* Worker thread: creates topic `name` (1 partition, `config` pairs) through rk unless it
 * exists, waiting up to 12 s. 0 (and *created), or -1 with err. */
int mf_ensure_topic(rd_kafka_t *rk, const char *name, const char *const *config,
                    const atomic_bool *cancelled, bool *created, char *err, size_t errlen);

/* ---- sync.c ---- */
/* Topic discovery, creation, partition growth: starts a round of metadata jobs unless
 * one is out; the rest follows when both answers are in. */
void mf_sync(st_mflow *f, int64_t now_ms);
/* Frees a round's answers (flow freed, topic set replaced). */
void mf_sync_free(st_mflow *f);
/* One heartbeat record to the source. */
void mf_heartbeat(st_mflow *f, int64_t now_ms);
/* Handles a CreateTopics/CreatePartitions/DescribeConfigs result; true when it was one. */
bool mf_sync_event(st_mflow *f, rd_kafka_event_t *ev);

/* ---- configs.c ---- */
/* False for the topic configs a copy keeps its own value of (the built-in list and the
 * flow's configs_exclude). */
bool mf_config_copyable(const st_mflow *f, const char *name);
/* Starts a round (DescribeConfigs on both clusters) unless one is out. */
void mf_configs_round(st_mflow *f, int64_t now_ms);
/* Handles the round's admin answers; true when ev was one. */
bool mf_configs_event(st_mflow *f, rd_kafka_event_t *ev);
void mf_configs_free(st_mflow *f);

/* ---- acls.c ---- */
/* Starts a round (DescribeAcls on both clusters) unless one is out. */
void mf_acls_round(st_mflow *f, int64_t now_ms);
/* Handles the round's admin answers; true when ev was one. */
bool mf_acls_event(st_mflow *f, rd_kafka_event_t *ev);
/* The translation of one source binding into `out` ({key: binding}, see acls.c). */
void mf_acl_map(const st_mflow *f, int restype, int ptype, const char *name, const char *principal,
                const char *host, int op, int perm, json_t *out);
/* The record of what the mirror made, as loaded from the target (a JSON array). */
void mf_acls_loaded(st_mflow *f, const json_t *owned);
void mf_acls_free(st_mflow *f);

/* ---- mm2.c ---- */
/* Starts the partitions (never copied by this flow) where MirrorMaker 2 stopped: a job on
 * the target's worker reads MM2's offset syncs and checkpoints (see mm2.c). Marks them
 * scanning; the answer resumes and assigns them. */
void mf_mm2_import(st_mflow *f, mf_part **parts, size_t n);

/* ---- recreate.c ---- */
/* The source topic t is a new incarnation (deleted and recreated): stop copying the old
 * one; each partition moves to a new epoch once its records in flight are reported. */
void mf_recreated(st_mflow *f, mf_topic *t, const char *why);
/* Notes a partition's source start and end offsets as seen by a query; calls
 * mf_recreated when they went back (recreated or truncated). */
void mf_source_offsets(st_mflow *f, mf_part *p, int64_t lo, int64_t hi);
/* One turn: switches drained partitions to their new epoch. */
void mf_recreate_step(st_mflow *f);

/* ---- status.c ---- */
/* Samples rates and watermarks (once a second). */
void mf_sample(st_mflow *f, int64_t now_ms);

/* Polls the admin queues and collects the workers' results (both dispatch to the code
 * they belong to). */
void mf_poll_events(st_mflow *f);

/* ---- jobs.c ---- */
/* A new offsets job for f's current generation (add partitions, then submit it to the
 * worker of the cluster it asks). NULL on allocation failure. */
mf_offsets_job *mf_offsets_job_new(st_mflow *f, mf_offsets_purpose purpose, int timeout_ms);
void mf_offsets_job_add(mf_offsets_job *j, const char *topic, int32_t partition);
/* Entry i's start and end offsets: true when both are known. */
bool mf_offsets_job_get(const mf_offsets_job *j, int i, int64_t *lo, int64_t *hi);
/* The flow's side of a finished offsets job (sync.c for source ends, failover.c). */
void mf_on_offsets(st_mflow *f, mf_offsets_job *j);

/* ---- checkpoint.c ---- */
void mf_ckpt_start(st_mflow *f, int64_t now_ms);
/* A cycle from the cached source offsets (no source request): failover without a source. */
void mf_ckpt_start_cached(st_mflow *f, int64_t now_ms);
/* Lets a held cycle (hold_alter) write its offsets once the map is final. */
void mf_ckpt_release(st_mflow *f);
bool mf_ckpt_event(st_mflow *f, rd_kafka_event_t *ev);
/* Groups of this cycle's report whose offsets the target has not acknowledged (refused,
 * or no answer yet): each has an "error" saying which. */
size_t mf_ckpt_unwritten(const st_mflow *f);
void mf_ckpt_reset(st_mflow *f);
void mf_gcache_free(st_mflow *f);

/* ---- flowstate.c ---- */
/* Reads the saved state file at creation (start-up: blocking file I/O). */
void mf_flowstate_open(st_mflow *f, const char *state_dir);
/* At the first load: the newer of the target's record and the file decides how the flow
 * starts. true: normal (copy); false: the state was set (failed-over, or reversed). */
bool mf_flowstate_start(st_mflow *f, const json_t *records);
/* Saves `state` ("normal", "failed-over", "failed-back") with the divergence and the
 * failover report: the file (disk worker) and the target's record. Returns the saved
 * generation when the file's write was queued — mf_failover_saved then says how it went —
 * or -1 when it was not (no state dir, or out of memory: an error says which). */
int64_t mf_flowstate_save(st_mflow *f, const char *state);
/* Turns the flow around from the divergence list: live (failback now) starts each
 * partition at its divergence point; otherwise (a restarted failed-back flow) it resumes
 * from the reverse map, never before the divergence point. Appends the starting points to
 * `from` when given. 0, or -1 with err (the clients could not be made). */
int mf_reverse(st_mflow *f, const json_t *divergence, bool live, json_t *from, char *err,
               size_t errlen);

/* ---- failover.c ---- */
/* One turn of a failover in progress (state MF_FAILING_OVER). */
void mf_failover_step(st_mflow *f, int64_t now_ms);
void mf_failover_on_offsets(st_mflow *f, mf_offsets_job *j);
void mf_fo_free(st_mflow *f);
/* The disk worker wrote (error NULL) or failed to write (error says why) the state file of
 * generation gen. Loop thread. */
void mf_failover_saved(st_mflow *f, int64_t gen, const char *error);
/* Saves `state` for command cmd ("failback", "reset") the same way: its status says
 * "failing-back" / "resetting" until the file's write is collected, then the new state, or
 * "state_error" when the write failed (the command again writes it again). */
void mf_flowstate_save_cmd(st_mflow *f, const char *state, const char *cmd);
/* True while a failback's or reset's new state is not in the state file (its write not
 * collected yet, or failed): the flow then copies nothing and writes no group offsets —
 * a crash before the file holds the new direction would restart the flow in the old one,
 * from the old point. */
bool mf_cmd_unsaved(const st_mflow *f);

#endif
