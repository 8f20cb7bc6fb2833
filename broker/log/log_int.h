/*
 * Private pieces shared by the files of broker/log/: the parts of
 * batch.c that only the log uses, the checkpoint file and the flusher's request queue.
 * Nothing outside broker/log/ includes this.
 */
#ifndef ST_LOG_INT_H
#define ST_LOG_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/log/batch.h"
#include "broker/log/log.h"
#include "broker/log/segment.h"
#include "common/buf.h" /* st_be32 and friends */
#include "common/fileref.h"
#include "common/ratelog.h"

/* --- batch.c --- */

/* Parses the 61-byte fixed header at p (all 61 readable) without looking at the body:
 * magic 2 and a batchLength that at least covers the header. 0 or CORRUPT_MESSAGE. */
int st_batch_parse_header(const uint8_t *p, st_batch_info *out);

/* The header-level checks of st_batch_validate (everything but the records), on a
 * batch of exactly len bytes. Fills *out on success. */
int st_batch_check_header(const uint8_t *p, size_t len, int32_t max_message_bytes,
                          st_batch_info *out, char *why, size_t whylen);

/* Recomputes the CRC of the batch at p (size bytes) after an edit of covered bytes. */
void st_batch_fix_crc(uint8_t *p, size_t size);

/* ListOffsets by time inside one stored batch (size bytes at p, header already known
 * to have maxTimestamp >= ts): the first record whose timestamp >= ts. Uncompressed
 * batches are walked record by record; compressed or LogAppendTime batches answer the
 * batch's first offset and maxTimestamp. Sets *offset_delta and *timestamp. */
void st_batch_find_time(const uint8_t *p, size_t size, int64_t ts, int32_t *offset_delta,
                        int64_t *timestamp);

/* --- checkpoint.c --- */

/* One partition's checkpoint. end_offset/active_base/active_size describe the log as
 * it was written, so a clean start whose active segment still has that size can trust
 * the end offset without reading the segment. */
typedef struct st_checkpoint {
    int64_t start_offset;
    int64_t recovery_point; /* everything below is known to be on disk */
    int64_t high_watermark;
    int64_t end_offset;
    int64_t active_base;
    int64_t active_size;
} st_checkpoint;

/* Reads dir's checkpoint. Returns 0, 1 when there is none, -1 when it is unreadable
 * (why says what was wrong). */
int st_checkpoint_read(const char *dir, st_checkpoint *out, char *why, size_t whylen);
/* Writes it atomically (tmp file, fsync, rename, fsync of dir). 0 or -1 with errno. */
int st_checkpoint_write(const char *dir, const st_checkpoint *c);
/* The checkpoint's file name, to skip it when listing segments. */
#define ST_CHECKPOINT_NAME "partition.checkpoint"

/* --- flusher.c --- */

/*
 * One fsync request. The submitter fills files (references it gives away), dir_path
 * (a directory to fsync too, malloc'd, or NULL), done and whatever its done needs.
 * The flusher fsyncs, drops the file references, sets err, and posts done(req) to the
 * loop thread; done owns req from then on.
 */
typedef struct st_flush_req {
    struct st_flush_req *next;
    st_fileref **files; /* owned array of owned references */
    int nfiles;
    char *dir_path;
    int err; /* 0 or ST_ERR_KAFKA_STORAGE_ERROR, set by the flusher */
    void (*done)(void *req);
    /* the log's part */
    int64_t end_offset;
    struct st_log_flush_state *state;
    st_log_flushed_cb *cb;
    void *cb_arg;
} st_flush_req;

/* Queues req; takes ownership. Any thread may call it, but the log calls it on the
 * loop thread. */
void st_flusher_submit(st_flusher *f, st_flush_req *req);

/* The lines about failed metadata writes (index files, checkpoints, snapshots) of all
 * the partitions sharing this flusher — a broker's data directory — go through one
 * st_ratelog, so a full disk at shutdown costs a few lines, not one per partition.
 * Loop thread only. st_flusher_free writes what it still holds back. */
st_ratelog *st_flusher_meta_lines(st_flusher *f);

/* fsyncs n files and, if dir_path is not NULL, that directory. Logs failures with the
 * errno text. Returns 0 or ST_ERR_KAFKA_STORAGE_ERROR. Borrows everything. */
int st_fsync_all(st_fileref **files, int n, const char *dir_path);

/* --- writeback.c: early writeback and back-pressure (see the file) --- */

typedef struct st_writeback st_writeback;
/* A partition hands its active segment to writeback every this many bytes. */
#define ST_WRITEBACK_CHUNK ((int64_t)1 << 20)

/* Starts the thread; NULL with err filled if it cannot. */
st_writeback *st_writeback_new(st_post_fn *post, void *post_ctx, char *err, size_t errlen);
/* Starts what is queued, answers every waiter, joins the thread, frees. NULL ignored. */
void st_writeback_free(st_writeback *wb);
/* The flusher's writeback (flusher.c owns it). */
st_writeback *st_flusher_writeback(st_flusher *f);
/* Loop thread: bytes just appended (they count as dirty until the next sample). */
void st_writeback_note_append(st_writeback *wb, int64_t bytes);
/* Loop thread: starts the kernel's writeback of [from, to) of file (borrowed; the
 * thread takes its own reference). Does not wait. */
void st_writeback_submit(st_writeback *wb, st_fileref *file, int64_t from, int64_t to);
/* Any thread: are the machine's dirty + writeback pages past the limit? Atomics only. */
bool st_writeback_behind(st_writeback *wb);
/* Loop thread: cb(arg, 0) is posted once not behind, or after the longest wait. */
void st_writeback_await(st_writeback *wb, st_log_flushed_cb *cb, void *arg);
/* See st_flusher_set_writeback. */
void st_writeback_configure(st_writeback *wb, int64_t limit_bytes, int64_t max_wait_ms,
                            int64_t sample_ms);
void st_writeback_get_stats(st_writeback *wb, st_writeback_stats *out);
/* The kernel's freerun point in bytes — (dirty threshold + background threshold) / 2
 * from /proc/sys/vm/dirty_* and /proc/meminfo — above which writers are throttled; -1
 * if /proc does not say. */
int64_t st_writeback_freerun_bytes(void);

/* --- storage.c: write failures (disk full) --- */

/* At most one log line per partition per this interval about its write failures. */
#define ST_STORAGE_LINE_INTERVAL_MS 10000

struct st_log_storage {
    bool refusing;         /* a data write failed: appends refused until one succeeds */
    bool announced;        /* a line about this episode was written */
    int64_t since_ms;      /* monotonic: when the episode began */
    int64_t since_wall_ms; /* the same, wall clock, for the status */
    int64_t retry_at_ms;   /* monotonic: from then the next append goes to the disk */
    uint64_t episode_failures;
    uint64_t refused; /* appends refused without a write this episode */
    uint64_t errors;  /* every failed write since the log was opened */
    st_ratelog lines;
};

void st_log_storage_init(st_log *log);
/* A write to the partition's directory failed with err_no; fmt names it ("write of 42
 * bytes to segment 0000…"). data: an append's write or a new segment, which makes the
 * partition refuse appends until one succeeds; else metadata (index, checkpoint,
 * snapshot), counted and logged only. Logs at most one line per interval. */
void st_log_storage_failed(st_log *log, bool data, int err_no, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Before an append: true (with why) while the partition refuses writes and its next
 * try of the disk is not due; false lets the append go to the disk. */
bool st_log_storage_refuses(st_log *log, char *why, size_t whylen);
/* After a data write succeeded: back to taking writes (logged if the failure was). */
void st_log_storage_ok(st_log *log);
/* At close: how many lines were held back since the last one. */
void st_log_storage_close(st_log *log);

/* --- log.c / retention.c: the log itself --- */

/* How often the recovery point is checkpointed while running (Kafka's
 * log.flush.offset.checkpoint.interval.ms); also written at close. */
#define ST_LOG_CHECKPOINT_INTERVAL_MS 60000

/* Shared between a log and its in-flight flush requests, so a completion that arrives
 * after st_log_close finds log == NULL instead of freed memory. Loop thread only. */
struct st_log_flush_state {
    int refs;
    st_log *log;
    /* The checkpoint file is written by the background thread (periodic checkpoints) and
     * by the loop (close): the lock keeps two writers from sharing its tmp file, and
     * `closed` (set under it when the log closes or is removed) stops a queued write that
     * would replace the final checkpoint with an older one, or write into a directory
     * being removed. */
    pthread_mutex_t checkpoint_lock;
    bool closed;
};
/* Drops a reference; the last one frees fs. Loop thread. */
void st_log_state_unref(struct st_log_flush_state *fs);

struct st_log {
    char *dir;
    st_log_config cfg;
    st_flusher *flusher; /* borrowed; may be NULL (fsync inline) */
    st_segment **segs;   /* sorted by base; segs[nsegs - 1] is active */
    int nsegs, segs_cap;
    int64_t start_offset, end_offset;
    int64_t recovery_point; /* everything below is on disk */
    int64_t total_size;
    int64_t unflushed_messages; /* appended since the last flush request */
    int64_t dirty_since_ms;     /* first append since the last flush request, -1 none */
    int flush_error;            /* a background fsync failed: reported to the next cb */
    bool offline;               /* an fsync failed: Linux may have dropped the dirty pages,
                                 * so nothing written since the recovery point can be
                                 * trusted. Appends fail and the recovery point stays put
                                 * until a restart re-verifies the tail (Kafka takes the
                                 * log dir offline the same way). */
    bool dir_dirty;             /* files created that no directory fsync covers yet */
    st_checkpoint saved;        /* what the checkpoint file holds, if saved_valid */
    bool saved_valid;
    int64_t checkpoint_ms;   /* the tick's last checkpoint slot (st_log_tick); 0: none yet */
    bool checkpoint_running; /* a background checkpoint write is in flight */
    bool checkpoint_again;   /* asked for while one was: write once it is done */
    struct st_log_flush_state *flush_state;
    struct st_cleaner_state *cleaner;    /* owned by cleaner.c; NULL when no pass ran */
    struct st_producer_state *producers; /* owned by producer_state.c (idempotence) */
    struct st_txn_partition *txns;       /* open and aborted transactions (log_txn.c); NULL
                                          * until the log holds a transactional batch */
    struct st_deleted_segment *deleted;  /* renamed *.deleted, unlinked when due */
    int ndeleted, deleted_cap;
    struct st_log_storage storage; /* write failures (storage.c) */
    /* leader epochs (log_epoch.c) */
    struct st_leader_epoch_cache *epochs; /* owned; where each epoch began */
    int32_t leader_epoch;                 /* stamped on every batch a leader appends */
    bool epochs_dirty;                    /* the file is behind the cache */
    bool epochs_running, epochs_again;    /* a background write in flight; another due */
};

/* A deleted segment whose files wait file.delete.delay.ms (renamed <name>.deleted, as
 * Kafka does) before they are unlinked. */
struct st_deleted_segment {
    int64_t base;
    int64_t due_ms; /* wall clock */
};

/* The suffix of a deleted segment's files while they wait. */
#define ST_DELETED_SUFFIX ".deleted"
/* Unlinks the files of deleted segments that are due: on the flusher's background
 * thread (behind any compaction pass queued there), or here at close (now_ms INT64_MAX,
 * every one) and without a flusher. Loop thread. retention.c. */
void st_log_purge_deleted(st_log *log, int64_t now_ms);

/* Opens segment s of log if it is not yet (segments of a clean start open lazily).
 * ST_ERR_NONE or KAFKA_STORAGE_ERROR. log.c. */
int st_log_ensure_loaded(st_log *log, st_segment *s);

/* --- log_epoch.c: leader epochs --- */

/* st_log_open, once offsets are known: loads leader-epoch-checkpoint (file_seen: the
 * listing saw it), re-derives what a crash may have lost, or rebuilds it from the batch
 * headers when missing or damaged. 0, or -1 with err (unreadable segment). */
int st_log_epochs_open(st_log *log, bool clean, bool file_seen, char *err, size_t errlen);
void st_log_epochs_free(st_log *log);
/* After an append (offsets and epochs final): assigns new epochs; writes if changed. */
void st_log_epochs_note(st_log *log, const uint8_t *records, size_t len);
/* The start offset moved up (retention, DeleteRecords) / the end moved down (truncate). */
void st_log_epochs_start_moved(st_log *log);
void st_log_epochs_end_moved(st_log *log);
/* Writes the file on the background thread if it is behind (one write at a time). */
void st_log_epochs_soon(st_log *log);
/* Close: writes it on the calling thread if it is behind. */
void st_log_epochs_write_final(st_log *log);

/* --- log_txn.c: transactions in the log --- */

/* Name of the file whose presence says the log has held transactional batches (so open
 * rebuilds its transactions from the segments; other logs cost nothing). */
#define ST_LOG_TXN_FILE "transactions"
/* st_log_open: rebuilds the open and aborted transactions when the file exists. 0, or
 * -1 with err set (out of memory, unreadable segment). */
int st_log_txn_load(st_log *log, char *err, size_t errlen);
/* append, before the write: the first transactional batch creates the file (and the
 * state). 0 or KAFKA_STORAGE_ERROR with res->why set. */
int st_log_txn_before_write(st_log *log, const uint8_t *records, size_t len, st_append_result *res);
/* append, after the write (offsets assigned): feeds the batches to the state. */
void st_log_txn_note(st_log *log, const uint8_t *records, size_t len);

static inline struct st_segment *st_log_active(const st_log *log)
{
    return log->segs[log->nsegs - 1];
}

static inline int32_t st_log_interval(const st_log *log)
{
    return log->cfg.index_interval_bytes > 0 ? log->cfg.index_interval_bytes : 1;
}

/* Drops (deletes) the segments from index `from` on, logging why. log.c. */
void st_log_drop_segments_from(st_log *log, int from, const char *why);

/* --- log_follower.c --- */

/* st_log_append_follower's check of a leader's record set: every batch's header and
 * CRC, the first at the end offset, each next at or past where the previous ended (a
 * gap only on a compacted topic). Counts batches and records, *next = the end offset
 * after them. 0, or OFFSET_OUT_OF_RANGE / CORRUPT_MESSAGE with why set. */
int st_log_follower_check(st_log *log, const uint8_t *records, size_t len, int *nbatches,
                          int64_t *nrecords, int64_t *next, char *why, size_t whylen);

/* Closes the active segment and starts a new one at the end offset; queues the old one
 * for fsync. 0 or ST_ERR_KAFKA_STORAGE_ERROR. */
int st_log_roll(st_log *log);
/* One empty segment at the start offset, never written: what st_log_open makes of an
 * empty directory, so neither a checkpoint nor an fsync has anything to keep. */
bool st_log_holds_nothing(const st_log *log);
/* Writes the checkpoint now, on the calling thread, unless it would be identical to the
 * last one written; with final, it is the log's last (close): no background write
 * replaces it. (checkpoint.c) */
void st_log_write_checkpoint(st_log *log, bool final);
/* The same on the flusher's background thread (periodic, retention, delete_records):
 * the fsync, rename and directory fsync stay off the loop; the result lands on the loop
 * (the saved checkpoint, or a storage failure). One write at a time per log: a request
 * while one runs is written after it. Without a flusher it is written here. */
void st_log_checkpoint_soon(st_log *log);
/* No checkpoint write may start any more (the log is being removed). */
void st_log_checkpoint_stop(st_log *log);

#endif
