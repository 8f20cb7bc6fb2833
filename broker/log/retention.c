/*
 * Housekeeping of a partition log. Retention by time and size (cleanup.policy=delete
 * only) runs every log.retention.check.interval.ms (st_log_apply_retention) and
 * DeleteRecords on request; st_log_tick, about once a second, flushes by flush.ms,
 * checkpoints the recovery point and starts compaction passes (cleanup.policy=compact,
 * cleaner.c). Rolling by segment.ms is decided at append (log.c), as in Kafka. Only
 * whole segments are deleted; fetches that hold a deleted segment's fd keep reading it
 * (st_fileref).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/cleaner.h"
#include "broker/log/cleaner_int.h"
#include "broker/log/log_int.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/logging.h"

static const char *const segment_exts[] = {"log", "index", "timeindex"};

/* Takes a deleted segment's files out of the log's name space at once (renamed
 * *.deleted) and unlinks them after file.delete.delay.ms; unlinks at once when the
 * delay is 0 or the rename fails. A restart unlinks leftovers (log.c). */
static void retire_files(st_log *log, int64_t base)
{
    int64_t delay = log->cfg.file_delete_delay_ms;
    if (delay > 0 && log->ndeleted == log->deleted_cap) {
        int cap = log->deleted_cap ? log->deleted_cap * 2 : 4;
        struct st_deleted_segment *p = realloc(log->deleted, (size_t)cap * sizeof *p);
        if (p) {
            log->deleted = p;
            log->deleted_cap = cap;
        }
    }
    if (delay <= 0 || log->ndeleted == log->deleted_cap) {
        st_segment_unlink(log->dir, base);
        return;
    }
    for (int i = 0; i < 3; i++) {
        char from[4096], to[4096 + sizeof ST_DELETED_SUFFIX];
        st_segment_path(from, sizeof from, log->dir, base, segment_exts[i]);
        snprintf(to, sizeof to, "%s%s", from, ST_DELETED_SUFFIX);
        if (rename(from, to) < 0 && errno != ENOENT) {
            st_warn("%s: cannot rename to %s: %s; deleting it now", from, to, strerror(errno));
            unlink(from);
        }
    }
    int64_t now = st_wall_ms();
    log->deleted[log->ndeleted++] =
        (struct st_deleted_segment){base, delay > INT64_MAX - now ? INT64_MAX : now + delay};
}

/* The unlinks of due *.deleted files, done off the event loop: freeing a large file's
 * blocks can take tens of milliseconds (Kafka deletes on its scheduler threads too). */
typedef struct unlink_job {
    st_bg_job bg;
    int n;
    char *paths[]; /* owned */
} unlink_job;

static void unlink_work(void *arg)
{
    unlink_job *job = arg;
    for (int i = 0; i < job->n; i++)
        if (unlink(job->paths[i]) < 0 && errno != ENOENT)
            st_warn("%s: cannot delete: %s", job->paths[i], strerror(errno));
}

static void unlink_done(void *arg)
{
    unlink_job *job = arg;
    for (int i = 0; i < job->n; i++)
        free(job->paths[i]);
    free(job);
}

void st_log_purge_deleted(st_log *log, int64_t now_ms)
{
    int kept = 0, due = 0;
    for (int d = 0; d < log->ndeleted; d++)
        due += log->deleted[d].due_ms <= now_ms;
    if (due == 0)
        return;
    unlink_job *job = calloc(1, sizeof *job + (size_t)due * 3 * sizeof job->paths[0]);
    for (int d = 0; d < log->ndeleted; d++) {
        struct st_deleted_segment *ds = &log->deleted[d];
        if (ds->due_ms > now_ms) {
            log->deleted[kept++] = *ds;
            continue;
        }
        for (int i = 0; i < 3; i++) {
            char path[4096 + sizeof ST_DELETED_SUFFIX];
            st_segment_path(path, sizeof path, log->dir, ds->base, segment_exts[i]);
            strcat(path, ST_DELETED_SUFFIX);
            char *copy = job ? strdup(path) : NULL;
            if (copy) {
                job->paths[job->n++] = copy;
            } else if (unlink(path) < 0 && errno != ENOENT) { /* out of memory: here */
                st_warn("%s: cannot delete: %s", path, strerror(errno));
            }
        }
    }
    log->ndeleted = kept;
    if (!job)
        return;
    /* at close (INT64_MAX) or without a flusher (tests, tools): here and now */
    if (!log->flusher || now_ms == INT64_MAX) {
        unlink_work(job);
        unlink_done(job);
        return;
    }
    job->bg = (st_bg_job){.work = unlink_work, .done = unlink_done, .arg = job};
    st_flusher_run_background(log->flusher, &job->bg);
}

/* Deletes the oldest segment (never the active one) and moves the start offset. */
static void delete_oldest(st_log *log, const char *reason)
{
    st_segment *s = log->segs[0];
    memmove(log->segs, log->segs + 1, (size_t)(log->nsegs - 1) * sizeof *log->segs);
    log->nsegs--;
    log->total_size -= s->size;
    retire_files(log, s->base);
    if (log->segs[0]->base > log->start_offset)
        log->start_offset = log->segs[0]->base;
    st_log_epochs_start_moved(log);
    st_info("%s: deleted segment %020" PRId64 " (%" PRId64 " bytes, %s); log start offset now "
            "%" PRId64,
            log->dir, s->base, s->size, reason, log->start_offset);
    st_segment_free(s); /* fetches holding its fd keep it open */
}

int st_log_delete_records(st_log *log, int64_t offset, int64_t *low_watermark)
{
    if (offset == -1)
        offset = log->end_offset;
    if (offset < 0 || offset > log->end_offset) {
        *low_watermark = log->start_offset;
        return ST_ERR_OFFSET_OUT_OF_RANGE;
    }
    if (offset > log->start_offset) {
        log->start_offset = offset;
        while (log->nsegs > 1 && log->segs[1]->base <= log->start_offset)
            delete_oldest(log, "below the log start offset");
        st_log_epochs_start_moved(log);
        st_log_checkpoint_soon(log);
    }
    *low_watermark = log->start_offset;
    return ST_ERR_NONE;
}

/* Kafka's largestTimestamp: the newest timestamp in a segment, or its file's mtime when
 * it holds none. */
static int64_t segment_time(st_log *log, st_segment *s)
{
    int64_t ts = st_segment_max_ts(log->dir, s, st_log_interval(log));
    if (ts >= 0)
        return ts;
    char path[4096];
    struct stat st;
    st_segment_path(path, sizeof path, log->dir, s->base, "log");
    if (stat(path, &st) < 0)
        return -1;
    return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

/* Deletes the oldest segment. The active one may go too when it holds data: like
 * Kafka, roll first, so the log keeps one (empty) segment at its end offset. False
 * when nothing was deleted (only an empty active segment left, or the roll failed). */
static bool delete_first(st_log *log, const char *reason)
{
    if (log->nsegs == 1 && (st_log_active(log)->size == 0 || st_log_roll(log) != ST_ERR_NONE))
        return false;
    delete_oldest(log, reason);
    return true;
}

/* retention.ms: the oldest segments whose newest record is older than that. */
static int retain_by_time(st_log *log, int64_t now_ms)
{
    int64_t retention_ms = log->cfg.retention_ms;
    int deleted = 0;
    if (retention_ms < 0)
        return 0;
    for (;;) {
        st_segment *s = log->segs[0];
        if (log->nsegs == 1 && s->size == 0)
            break;
        int64_t ts = segment_time(log, s); /* >= 0, or -1: unreadable, keep it */
        if (ts < 0 || now_ms - ts <= retention_ms || !delete_first(log, "retention.ms"))
            break;
        deleted++;
    }
    return deleted;
}

/* retention.bytes: the oldest segments, as long as what is left still holds at least
 * retention.bytes (Kafka's rule: never below the limit because of a deletion). */
static int retain_by_size(st_log *log)
{
    int64_t limit = log->cfg.retention_bytes;
    int deleted = 0;
    if (limit < 0 || log->total_size < limit)
        return 0;
    int64_t excess = log->total_size - limit;
    while (excess - log->segs[0]->size >= 0 && !(log->nsegs == 1 && log->segs[0]->size == 0)) {
        int64_t size = log->segs[0]->size;
        if (!delete_first(log, "retention.bytes"))
            break;
        excess -= size;
        deleted++;
    }
    return deleted;
}

int st_log_apply_retention(st_log *log, int64_t now_ms)
{
    if (!log->cfg.cleanup_delete || log->offline)
        return 0;
    int deleted = retain_by_time(log, now_ms);
    deleted += retain_by_size(log);
    if (deleted > 0)
        st_log_checkpoint_soon(log);
    return deleted;
}

/* Where in each checkpoint interval this partition's periodic checkpoint falls: a hash
 * of its directory. Partitions opened together (all of them, at start) would otherwise
 * all checkpoint in the same tick every interval — 1,000 fsync + rename + directory
 * fsync in one turn of the loop — instead of a few per tick. */
static int64_t checkpoint_phase(const st_log *log)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *p = log->dir; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    return (int64_t)(h % ST_LOG_CHECKPOINT_INTERVAL_MS);
}

void st_log_tick(st_log *log, int64_t now_ms)
{
    const st_log_config *c = &log->cfg;
    if (log->ndeleted > 0)
        st_log_purge_deleted(log, now_ms);
    if (log->dirty_since_ms >= 0 && c->flush_ms != INT64_MAX &&
        now_ms - log->dirty_since_ms >= c->flush_ms)
        st_log_flush_async(log, NULL, NULL);
    int64_t saved_rp = log->saved_valid ? log->saved.recovery_point : log->start_offset;
    if (log->checkpoint_ms == 0) /* first tick: the last slot is one phase back */
        log->checkpoint_ms = now_ms - checkpoint_phase(log) - 1;
    int64_t since = now_ms - log->checkpoint_ms;
    if (log->recovery_point != saved_rp && since >= ST_LOG_CHECKPOINT_INTERVAL_MS) {
        /* the slot moves by whole intervals, so the phase holds */
        log->checkpoint_ms += since / ST_LOG_CHECKPOINT_INTERVAL_MS * ST_LOG_CHECKPOINT_INTERVAL_MS;
        st_log_checkpoint_soon(log);
    }
    /* last: a pass snapshots the segments retention left */
    st_cleaner_tick(log, now_ms);
}
