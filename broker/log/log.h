/*
 * st_log: one partition's log — a directory of segments named by base offset
 * (00000000000000000000.log / .index / .timeindex) plus a checkpoint file.
 *
 * Threading: every function here runs on the broker's event loop thread, except what
 * the flusher does on its own thread (fsync of segment files it holds references to).
 *
 * Durability: appends go to the page cache. fsync happens when flush.messages or
 * flush.ms says so, on the flusher thread, group-committed: one fsync acknowledges
 * every batch written before it started. A produce whose topic demands a flush waits
 * for st_log_flush_async's callback before it is acknowledged.
 */
#ifndef ST_LOG_H
#define ST_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/log/batch.h"
#include "common/fileref.h"

typedef struct st_log st_log;
typedef struct st_flusher st_flusher;

/* Per-topic settings, named as Kafka's topic configs. Defaults in brackets. */
typedef struct st_log_config {
    int64_t segment_bytes;               /* segment.bytes [1073741824] */
    int64_t segment_ms;                  /* segment.ms [604800000] */
    int64_t segment_jitter_ms;           /* segment.jitter.ms [0] */
    int64_t retention_bytes;             /* retention.bytes [-1: unlimited] */
    int64_t retention_ms;                /* retention.ms [604800000; -1: forever] */
    int64_t flush_messages;              /* flush.messages [INT64_MAX: leave it to the OS] */
    int64_t flush_ms;                    /* flush.ms [INT64_MAX] */
    int32_t max_message_bytes;           /* max.message.bytes [1048588] */
    int32_t index_interval_bytes;        /* index.interval.bytes [4096] */
    bool log_append_time;                /* message.timestamp.type=LogAppendTime [CreateTime] */
    int64_t timestamp_difference_max_ms; /* message.timestamp.difference.max.ms [INT64_MAX] */
    bool cleanup_delete;                 /* cleanup.policy contains delete [yes] */
    bool cleanup_compact;                /* cleanup.policy contains compact [no] */
    int64_t delete_retention_ms;         /* delete.retention.ms: tombstones kept this long
                                          * after compaction reaches them [86400000] */
    int64_t min_compaction_lag_ms;       /* min.compaction.lag.ms [0] */
    double min_cleanable_dirty_ratio;    /* min.cleanable.dirty.ratio [0.5] */
    int64_t file_delete_delay_ms;        /* file.delete.delay.ms: a deleted segment's files
                                          * stay (renamed *.deleted) this long [60000] */
    int32_t min_insync_replicas;         /* min.insync.replicas: checked by Produce with
                                          * acks=all against the one replica [1] */
    int compression_type;                /* compression.type: -1 producer (keep each
                                          * batch's codec) [-1], else the codec batches
                                          * are recompressed into (0 uncompressed, 1 gzip,
                                          * 2 snappy, 3 lz4, 4 zstd; common/compress.h) */
} st_log_config;

/* Fills c with Kafka's defaults. */
void st_log_config_defaults(st_log_config *c);

/* Result of one append. */
typedef struct st_append_result {
    int64_t base_offset;     /* offset given to the first record */
    int64_t last_offset;     /* offset of the last record */
    int64_t log_append_time; /* -1 unless the topic uses LogAppendTime */
    int64_t log_start_offset;
    int64_t records;   /* records appended */
    bool flush_needed; /* flush.messages reached: acknowledge after a flush */
    bool disk_behind;  /* the machine's dirty pages are near the kernel's throttle point:
                        * hold the answer until st_log_await_writeback's callback */
    bool duplicate;    /* idempotent retry of cached batches: nothing was written;
                        * base/last_offset are the original ones (answer NONE with them) */
    char why[200];     /* on error: what was wrong with the batch */
} st_append_result;

/* Bytes for a fetch: `len` bytes at `pos` of `file`, whole batches. */
typedef struct st_log_slice {
    st_fileref *file; /* a new reference; the caller unrefs it (NULL when len is 0) */
    int64_t pos;
    size_t len;
} st_log_slice;

/*
 * Opens (creating if missing) the log in `dir`. `clean` says the previous shutdown was
 * clean (the data directory's marker was present): then segments are trusted.
 * Otherwise the active segment's tail is scanned from its last index entry and cut at
 * the first torn or corrupt batch; what was cut is logged. Borrows cfg (copied) and
 * flusher (must outlive the log). Returns a new log or NULL with err set.
 */
st_log *st_log_open(const char *dir, const st_log_config *cfg, bool clean, st_flusher *flusher,
                    char *err, size_t errlen);

/* Flushes if asked, writes the checkpoint, closes and frees. NULL is ignored. */
void st_log_close(st_log *log, bool flush);

/* Closes the log and deletes its directory (topic deletion). */
void st_log_remove(st_log *log);
/* st_log_remove in two steps, so the deleting can leave the loop thread: closes and
 * frees the log (loop thread) and returns its directory, a new string, whose files
 * st_log_remove_dir deletes and frees (any thread). NULL log: NULL. */
char *st_log_close_for_removal(st_log *log);
void st_log_remove_dir(char *dir);

/* Applies new settings at once (alter configs). */
void st_log_set_config(st_log *log, const st_log_config *cfg);

/*
 * Validates and appends a record set a client produced (st_batches_prepare under the
 * topic's policy: max.message.bytes, message.timestamp.difference.max.ms against now_ms
 * for CreateTime topics, keys for compacted topics, compression.type). Edits the batches
 * in place (offsets, epoch, maxTimestamp, LogAppendTime), or appends the recompressed
 * copy when the topic's codec differs. On error nothing is written and the wire error
 * code is returned with res->why set.
 *
 * ws: the calling thread's workspace (codec contexts, scratch, the request's
 * decompression budget: st_batch_ws_begin), borrowed; NULL makes a temporary one with
 * the budget of this record set alone.
 *
 * The active segment is rolled first when the records would take it past
 * segment.bytes, or by segment.ms as Kafka decides it: when the records' largest
 * timestamp is more than segment.ms (less this segment's segment.jitter.ms draw) after
 * the segment's first batch's maxTimestamp; a segment without timestamps counts
 * now_ms since it was created or opened. Record time, not the clock: replayed
 * historical data rolls as it was written, not every append.
 *
 * Idempotent producers (batches with producerId >= 0; others are not checked): a stale
 * epoch → INVALID_PRODUCER_EPOCH; a sequence gap, or a first sequence other than 0 for
 * a known producer's new epoch → OUT_OF_ORDER_SEQUENCE_NUMBER; a retry of one of the
 * producer's last five batches → 0 with res->duplicate (nothing written). A producer the
 * partition does not know may start at any sequence (KIP-360). now_ms is the wall clock.
 */
int st_log_append_with(st_log *log, st_batch_ws *ws, uint8_t *records, size_t len, int64_t now_ms,
                       st_append_result *res);
/* st_log_append_with without a workspace. */
int st_log_append(st_log *log, uint8_t *records, size_t len, int64_t now_ms, st_append_result *res);

/* Appends one control batch the broker built (a transaction marker: st_log_append_marker
 * in log_txn.c), skipping the checks of a client's batches. */
int st_log_append_control(st_log *log, uint8_t *batch, size_t len, int64_t now_ms,
                          st_append_result *res);

/* ---- leader epochs (log_epoch.c, KIP-101/279/320) ---- */

/* The partition's current leader epoch: stamped on every batch this broker appends as
 * leader; 0 on a single broker; persisted as the latest entry of leader-epoch-checkpoint. */
int32_t st_log_leader_epoch(const st_log *log);
/* Becoming leader at `epoch` (LeaderAndIsr): records it as starting at the end offset.
 * A lower epoch than the current one → FENCED_LEADER_EPOCH, nothing changed. */
int st_log_set_leader_epoch(st_log *log, int32_t epoch);
/* A request's current_leader_epoch against ours, as Kafka checks it: -1 no check, lower
 * → FENCED_LEADER_EPOCH, higher → UNKNOWN_LEADER_EPOCH, else 0. */
int st_log_check_leader_epoch(const st_log *log, int32_t current);
/* OffsetForLeaderEpoch: the end offset of `requested` (the start of the next higher
 * epoch, or the log end for the latest) and the largest epoch <= requested that the
 * log knows; -1/-1 when it knows none. */
void st_log_end_offset_for_epoch(const st_log *log, int32_t requested, int32_t *epoch,
                                 int64_t *end_offset);
/* The epoch the batch holding `offset` was written in (ListOffsets v4+); -1 unknown. */
int32_t st_log_epoch_at(const st_log *log, int64_t offset);

/* ---- follower primitives (log_follower.c) ---- */

/*
 * Cuts the log so that it ends before `offset`, as a follower does after
 * OffsetForLeaderEpoch: the batch holding `offset` goes too (the end offset becomes its
 * base), segments past it are deleted, the index and time index, the leader epoch cache,
 * the producer state and the transaction state follow. offset >= end: nothing to do.
 * offset below the log start → OFFSET_OUT_OF_RANGE. Blocking (ftruncate, unlink, index
 * rewrite): a replica fetcher calls it once per leader change. 0, or an error code
 * with why set.
 */
int st_log_truncate_to(st_log *log, int64_t offset, char *why, size_t whylen);

/*
 * Appends batches a leader sent (Fetch as a follower) keeping their offsets and
 * leader epochs: no offset is assigned, no producer sequence is checked (the leader
 * did), the producer and transaction state and the epoch cache are rebuilt from them.
 * Each batch's header and CRC are checked; the first must start at the end offset and
 * each next where the previous ended (a compacted topic may skip offsets forward) —
 * otherwise OFFSET_OUT_OF_RANGE with why set, nothing written.
 */
int st_log_append_follower(st_log *log, uint8_t *records, size_t len, int64_t now_ms,
                           st_append_result *res);

/* ---- transactions (log_txn.c) ---- */

/* Writes the COMMIT or ABORT marker of producer_id's transaction (a control batch at
 * its epoch). A partition where the producer has no transaction open gets the marker
 * too (Kafka writes it to every partition of the transaction). */
int st_log_append_marker(st_log *log, int64_t producer_id, int16_t producer_epoch, bool commit,
                         int32_t coordinator_epoch, int64_t now_ms, st_append_result *res);
/* The last stable offset: the first offset of the earliest open transaction, or the end
 * offset (a single node's high watermark). */
int64_t st_log_last_stable_offset(const st_log *log);
/* The aborted transactions a read_committed fetch of [from, upto) must name (see
 * broker/txn/txn_partition.h); at most cap written, the total returned. Drops first the
 * ones retention has removed. */
struct st_txn_aborted;
size_t st_log_aborted_txns(st_log *log, int64_t from, int64_t upto, struct st_txn_aborted *out,
                           size_t cap);

/*
 * Finds the bytes a fetch at `offset` returns: whole batches starting with the one that
 * holds `offset`, adding batches while the total stays within max_bytes, but at least
 * one batch whatever its size. offset == end offset → len 0. Offsets below the start
 * or above the end → ST_ERR_OFFSET_OUT_OF_RANGE. Reads only up to the end of the
 * segment that holds `offset` (the client comes back for the next).
 */
int st_log_read(st_log *log, int64_t offset, size_t max_bytes, st_log_slice *out);
/* st_log_read of the batches that begin before `limit` only (a read_committed fetch
 * stops at the last stable offset). */
int st_log_read_upto(st_log *log, int64_t offset, int64_t limit, size_t max_bytes,
                     st_log_slice *out);

/* Whether the partition takes writes, for the status and metrics. */
typedef struct st_log_health {
    bool refusing_writes;      /* a write failed (disk full?): appends get KAFKA_STORAGE_ERROR
                                * until one succeeds again (tried every second) */
    bool offline;              /* an fsync failed: refused until a restart re-verifies */
    uint64_t storage_errors;   /* failed writes (data and metadata) since the log opened */
    int64_t refusing_since_ms; /* wall clock when refusing began, -1 when not refusing */
} st_log_health;
void st_log_health_get(const st_log *log, st_log_health *out);

int64_t st_log_start_offset(const st_log *log);
int64_t st_log_end_offset(const st_log *log); /* next offset to be assigned */
int64_t st_log_size_bytes(const st_log *log); /* sum of segment sizes */
int st_log_segment_count(const st_log *log);

/* First offset whose batch maxTimestamp >= ts (ListOffsets by time). Sets *offset and
 * *timestamp, or *offset = -1 when no record is that late. */
void st_log_offset_for_time(st_log *log, int64_t ts, int64_t *offset, int64_t *timestamp);

/* DeleteRecords: moves the log start offset up to `offset` (-1 means the end offset),
 * deleting segments wholly below it. Offsets above the end → OFFSET_OUT_OF_RANGE.
 * Sets *low_watermark to the new start offset. */
int st_log_delete_records(st_log *log, int64_t offset, int64_t *low_watermark);

/* Periodic housekeeping, about once a second: flush by flush.ms, the checkpoint of
 * the recovery point, compaction passes. Cheap when there is nothing to do. Rolling by
 * segment.ms happens at append (st_log_append), retention in st_log_apply_retention. */
void st_log_tick(st_log *log, int64_t now_ms);

/*
 * Retention, as Kafka's log.retention.check.interval.ms task does it (cleanup.policy
 * with delete only): from the oldest segment on, deletes segments whose newest
 * timestamp (the file's mtime when it holds none) is more than retention.ms before
 * now_ms, then the oldest while the partition would still hold at least
 * retention.bytes without them. The active segment counts too when it holds data: it
 * is rolled first, so the partition keeps one, empty, segment at the end offset.
 * Deleting advances the log start offset and is logged. Returns the number of
 * segments deleted.
 */
int st_log_apply_retention(st_log *log, int64_t now_ms);

/* Forgets the idempotent producers that appended nothing for expiration_ms
 * (producer.id.expiration.ms); logs how many. Returns that count. */
size_t st_log_expire_producers(st_log *log, int64_t now_ms, int64_t expiration_ms);

/* Called on the loop thread once everything written before the request is on disk;
 * err is 0 or ST_ERR_KAFKA_STORAGE_ERROR. */
typedef void st_log_flushed_cb(void *arg, int err);
/* Asks for an fsync of everything appended so far; group-committed (see above). */
void st_log_flush_async(st_log *log, st_log_flushed_cb *cb, void *arg);

/* Calls cb(arg, 0) on the loop thread once the machine's dirty pages are back below the
 * writeback limit, or after the longest wait (500 ms by default) if they are not: what a
 * produce whose append said disk_behind waits for before it is answered, so producers
 * slow to the disk's pace instead of the loop sleeping in the kernel (writeback.c).
 * Without a flusher, cb runs at once. */
void st_log_await_writeback(st_log *log, st_log_flushed_cb *cb, void *arg);

/* The flusher thread. `post` must run fn(arg) on the loop thread soon (thread-safe,
 * e.g. st_loop_post); the flusher calls it for completions. It also owns the writeback
 * thread (writeback.c). */
typedef void st_post_fn(void *post_ctx, void (*fn)(void *arg), void *arg);
st_flusher *st_flusher_new(st_post_fn *post, void *post_ctx, char *err, size_t errlen);
/* Finishes queued fsyncs, joins the threads (fsync, writeback and compaction), frees. */
void st_flusher_free(st_flusher *f);

/* What the writeback thread did and sees (writeback.c); counters since the start. */
typedef struct st_writeback_stats {
    uint64_t started_bytes; /* segment bytes whose writeback was started early */
    uint64_t waits;         /* produce answers held because the disk was behind */
    uint64_t waits_expired; /* of which answered at the longest wait, still behind */
    uint64_t waited_ms;     /* time those answers were held, in total */
    int64_t dirty_bytes;    /* the machine's dirty + writeback bytes at the last sample */
    int64_t limit_bytes;    /* from there on answers wait (0: never) */
    bool behind;            /* past the limit now */
} st_writeback_stats;
void st_flusher_writeback_stats(st_flusher *f, st_writeback_stats *out);
/* Overrides the limit (bytes of the machine's dirty + writeback pages; 0: computed from
 * the kernel's vm.dirty_* settings, the default; -1: never hold answers), the longest
 * wait (ms; -1 keeps it, 500 by default) and how often the machine's dirty pages are
 * read while writes go on (ms; 0: 50). For tests and operators who know their disk. */
void st_flusher_set_writeback(st_flusher *f, int64_t limit_bytes, int64_t max_wait_ms,
                              int64_t sample_ms);

#endif
