/*
 * Leader epochs in a partition log (KIP-101, KIP-279): the log's current leader epoch
 * stamps every batch a leader appends (partitionLeaderEpoch, bytes 12..15 of the batch:
 * outside the CRC, which starts at the attributes), and the leader epoch cache
 * (leader_epoch.c) records where each epoch began. OffsetForLeaderEpoch answers from
 * it; a follower truncates by it.
 *
 * The cache lives in <partition>/leader-epoch-checkpoint:
 *
 *   open:    file read ──▶ cut to [start, end) ──▶ unclean start? epochs of the batches
 *            past the recovery point re-assigned ──▶ current epoch = max(0, latest)
 *            missing (with data) or damaged: rebuilt from the batch headers (the
 *            first and last batch only when they share an epoch)
 *   append:  new epoch in a batch ──▶ assign ──▶ file written on the background thread
 *   trim:    retention / DeleteRecords ──▶ truncate_from_start; truncation ──▶ from_end
 *   close:   written on the calling thread (the log's last checkpoint)
 *
 * A partition never written writes no file (10,000 idle partitions cost nothing).
 * Writes go through the flusher's background thread with fsync (st_leader_epoch_write),
 * under the log's checkpoint lock, so a removed or closed log is never written into.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "broker/log/cleaner_int.h" /* st_flusher_run_background */
#include "broker/log/leader_epoch.h"
#include "broker/log/log_int.h"
#include "broker/log/segment.h"
#include "common/errors.h"
#include "common/logging.h"

/* Assigns the epoch of every batch of segment s from offset `from` on. 0 or -1 (I/O). */
static int assign_from_segment(st_log *log, st_segment *s, int64_t from)
{
    if (s->size == 0)
        return 0;
    if (st_log_ensure_loaded(log, s) != ST_ERR_NONE)
        return -1;
    st_scan sc;
    st_batch_info b;
    int64_t at;
    int rc;
    st_scan_init(&sc, s->file->fd, from > s->base ? st_segment_lookup(s, from) : 0, s->size);
    while ((rc = st_scan_next(&sc, &b, &at)) == ST_SCAN_BATCH) {
        if (b.base_offset + b.last_offset_delta < from || b.partition_leader_epoch < 0)
            continue; /* before the range; or written without an epoch */
        st_leader_epoch_assign(log->epochs, b.partition_leader_epoch, b.base_offset);
    }
    return rc < 0 ? -1 : 0;
}

/* Re-assigns the epochs of every batch at or past `from`. 0 or -1 (I/O). */
static int assign_from(st_log *log, int64_t from)
{
    for (int i = 0; i < log->nsegs; i++) {
        st_segment *s = log->segs[i];
        if (i + 1 < log->nsegs && log->segs[i + 1]->base <= from)
            continue;
        if (assign_from_segment(log, s, from) < 0)
            return -1;
    }
    return 0;
}

/* The epoch of the first batch of s holding an offset >= from (last: of its last
 * batch) and that batch's base offset. 0, 1 when s has no such batch, -1 (I/O). */
static int edge_batch(st_log *log, st_segment *s, int64_t from, bool last, int32_t *epoch,
                      int64_t *base)
{
    if (s->size == 0)
        return 1;
    if (st_log_ensure_loaded(log, s) != ST_ERR_NONE)
        return -1;
    st_scan sc;
    st_batch_info b;
    int64_t at, pos = last ? (s->nindex ? s->index[s->nindex - 1].pos : 0)
                           : (from > s->base ? st_segment_lookup(s, from) : 0);
    int rc, found = 1;
    st_scan_init(&sc, s->file->fd, pos, s->size);
    while ((rc = st_scan_next(&sc, &b, &at)) == ST_SCAN_BATCH) {
        if (b.base_offset + b.last_offset_delta < from)
            continue;
        *epoch = b.partition_leader_epoch;
        *base = b.base_offset;
        found = 0;
        if (!last)
            break;
    }
    return rc < 0 ? -1 : found;
}

/* A rebuild from the log start. Epochs only grow along a log, so when its first and last
 * batches carry the same one (always, on a single broker) that is the whole answer and
 * two segment tails are read instead of every batch header. 0 or -1 (I/O). */
static int rebuild_all(st_log *log)
{
    int32_t first_epoch = -1, last_epoch = -2;
    int64_t first_base = -1, last_base;
    int rc = 1;
    for (int i = 0; i < log->nsegs && rc == 1; i++) {
        if (i + 1 < log->nsegs && log->segs[i + 1]->base <= log->start_offset)
            continue; /* wholly below the log start */
        rc = edge_batch(log, log->segs[i], log->start_offset, false, &first_epoch, &first_base);
    }
    if (rc < 0)
        return -1;
    if (rc == 1)
        return 0; /* no batch at all */
    rc = 1;
    for (int i = log->nsegs - 1; i >= 0 && rc == 1; i--)
        rc = edge_batch(log, log->segs[i], log->start_offset, true, &last_epoch, &last_base);
    if (rc < 0)
        return -1;
    if (first_epoch == last_epoch) {
        if (first_epoch >= 0)
            st_leader_epoch_assign(log->epochs, first_epoch, first_base);
        return 0;
    }
    return assign_from(log, log->start_offset);
}

int st_log_epochs_open(st_log *log, bool clean, bool file_seen, char *err, size_t errlen)
{
    log->epochs = st_leader_epoch_new();
    char why[512];
    bool rebuild = false;
    if (file_seen && st_leader_epoch_load(log->epochs, log->dir, why, sizeof why) != 0) {
        st_warn("%s: %s; rebuilding the leader epochs from the batches", log->dir, why);
        rebuild = true;
    } else if (!file_seen && !st_log_holds_nothing(log)) {
        rebuild = true; /* written by a version without epochs, or the file was removed */
    }
    size_t before_len;
    char *before = st_leader_epoch_format(log->epochs, &before_len);
    int64_t from = clean ? log->end_offset : log->recovery_point;
    /* An epoch begun at the end offset with nothing appended yet is cut below, yet it is
     * still the partition's current epoch. */
    int32_t file_latest = rebuild ? -1 : st_leader_epoch_latest(log->epochs);
    if (rebuild)
        st_leader_epoch_truncate_from_end(log->epochs, 0); /* empties it */
    st_leader_epoch_truncate_from_end(log->epochs, log->end_offset);
    if ((rebuild ? rebuild_all(log) : from < log->end_offset ? assign_from(log, from) : 0) < 0) {
        snprintf(err, errlen, "%s: cannot read the segments to rebuild the leader epochs: %s",
                 log->dir, strerror(errno));
        free(before);
        return -1;
    }
    st_leader_epoch_truncate_from_start(log->epochs, log->start_offset);
    int32_t latest = st_leader_epoch_latest(log->epochs);
    if (file_latest > latest)
        latest = file_latest;
    log->leader_epoch = latest > 0 ? latest : 0;
    /* Becoming leader records the epoch at the end offset (Kafka's makeLeader). */
    st_leader_epoch_assign(log->epochs, log->leader_epoch, log->end_offset);
    /* The file is written again (in the background) unless it already says all this. */
    size_t after_len;
    char *after = st_leader_epoch_format(log->epochs, &after_len);
    log->epochs_dirty =
        rebuild || !file_seen || after_len != before_len || memcmp(after, before, after_len) != 0;
    free(before);
    free(after);
    if (rebuild)
        st_info("%s: leader epochs rebuilt from the batches: %d epoch(s), latest %d", log->dir,
                st_leader_epoch_count(log->epochs), st_leader_epoch_latest(log->epochs));
    st_log_epochs_soon(log); /* a partition never written keeps no file */
    return 0;
}

void st_log_epochs_free(st_log *log)
{
    st_leader_epoch_free(log->epochs);
    log->epochs = NULL;
}

/* Whether the file needs writing at all: a partition never written keeps none. */
static bool worth_writing(const st_log *log)
{
    return log->epochs_dirty && !st_log_holds_nothing(log);
}

void st_log_epochs_write_final(st_log *log)
{
    if (!worth_writing(log))
        return;
    size_t len;
    char *text = st_leader_epoch_format(log->epochs, &len);
    char err[512];
    struct st_log_flush_state *fs = log->flush_state;
    pthread_mutex_lock(&fs->checkpoint_lock);
    int rc = fs->closed ? 0 : st_leader_epoch_write(log->dir, text, len, true, err, sizeof err);
    int saved = errno ? errno : EIO;
    pthread_mutex_unlock(&fs->checkpoint_lock);
    free(text);
    if (rc < 0)
        st_log_storage_failed(log, false, saved, "writing %s", ST_LEADER_EPOCH_FILE);
    else
        log->epochs_dirty = false;
}

typedef struct epoch_job {
    st_bg_job bg;
    struct st_log_flush_state *state; /* a reference: the log may close before done */
    char *text;
    size_t len;
    int err;
    char dir[]; /* a copy: the log's may be freed meanwhile */
} epoch_job;

static void epoch_work(void *arg)
{
    epoch_job *job = arg;
    char err[512];
    pthread_mutex_lock(&job->state->checkpoint_lock);
    if (!job->state->closed &&
        st_leader_epoch_write(job->dir, job->text, job->len, true, err, sizeof err) < 0)
        job->err = errno ? errno : EIO;
    pthread_mutex_unlock(&job->state->checkpoint_lock);
}

static void epoch_done(void *arg)
{
    epoch_job *job = arg;
    st_log *log = job->state->log;
    if (log) {
        log->epochs_running = false;
        if (job->err) {
            log->epochs_dirty = true; /* tried again by the next change or the close */
            st_log_storage_failed(log, false, job->err, "writing %s", ST_LEADER_EPOCH_FILE);
        }
        if (log->epochs_again) {
            log->epochs_again = false;
            st_log_epochs_soon(log);
        }
    }
    st_log_state_unref(job->state);
    free(job->text);
    free(job);
}

void st_log_epochs_soon(st_log *log)
{
    if (!worth_writing(log))
        return;
    if (!log->flusher) { /* tests and tools: no background thread */
        st_log_epochs_write_final(log);
        return;
    }
    if (log->epochs_running) {
        log->epochs_again = true;
        return;
    }
    size_t dirlen = strlen(log->dir);
    epoch_job *job = calloc(1, sizeof *job + dirlen + 1);
    if (!job)
        return; /* out of memory: still dirty, written at close */
    memcpy(job->dir, log->dir, dirlen + 1);
    job->text = st_leader_epoch_format(log->epochs, &job->len);
    job->state = log->flush_state;
    job->state->refs++;
    job->bg = (st_bg_job){.work = epoch_work, .done = epoch_done, .arg = job};
    log->epochs_running = true;
    log->epochs_dirty = false; /* this write covers everything so far */
    st_flusher_run_background(log->flusher, &job->bg);
}

void st_log_epochs_note(st_log *log, const uint8_t *records, size_t len)
{
    bool changed = false;
    for (size_t pos = 0; pos + ST_BATCH_HEADER_SIZE <= len;) {
        st_batch_info b;
        if (st_batch_parse_header(records + pos, &b) != ST_ERR_NONE)
            break;
        if (b.partition_leader_epoch >= 0)
            changed |= st_leader_epoch_assign(log->epochs, b.partition_leader_epoch, b.base_offset);
        pos += (size_t)b.size;
    }
    if (changed)
        log->epochs_dirty = true;
    if (log->epochs_dirty) /* also the first append to a partition opened without a file */
        st_log_epochs_soon(log);
}

void st_log_epochs_start_moved(st_log *log)
{
    if (st_leader_epoch_truncate_from_start(log->epochs, log->start_offset)) {
        log->epochs_dirty = true;
        st_log_epochs_soon(log);
    }
}

void st_log_epochs_end_moved(st_log *log)
{
    if (st_leader_epoch_truncate_from_end(log->epochs, log->end_offset)) {
        log->epochs_dirty = true;
        st_log_epochs_soon(log);
    }
}

/* ---- the public calls (log.h) ---- */

int32_t st_log_leader_epoch(const st_log *log)
{
    return log->leader_epoch;
}

int st_log_set_leader_epoch(st_log *log, int32_t epoch)
{
    if (epoch < log->leader_epoch)
        return ST_ERR_FENCED_LEADER_EPOCH;
    log->leader_epoch = epoch;
    if (st_leader_epoch_assign(log->epochs, epoch, log->end_offset)) {
        log->epochs_dirty = true;
        st_log_epochs_soon(log);
    }
    return ST_ERR_NONE;
}

int st_log_check_leader_epoch(const st_log *log, int32_t current)
{
    if (current < 0)
        return ST_ERR_NONE; /* the client does not know it: no check (KIP-320) */
    if (current < log->leader_epoch)
        return ST_ERR_FENCED_LEADER_EPOCH;
    if (current > log->leader_epoch)
        return ST_ERR_UNKNOWN_LEADER_EPOCH;
    return ST_ERR_NONE;
}

void st_log_end_offset_for_epoch(const st_log *log, int32_t requested, int32_t *epoch,
                                 int64_t *end_offset)
{
    st_leader_epoch_end_offset_for(log->epochs, requested, log->end_offset, epoch, end_offset);
}

int32_t st_log_epoch_at(const st_log *log, int64_t offset)
{
    int n = st_leader_epoch_count(log->epochs);
    const st_epoch_entry *e = st_leader_epoch_entries(log->epochs);
    int32_t epoch = -1;
    for (int i = 0; i < n && e[i].start_offset <= offset; i++)
        epoch = e[i].epoch;
    return epoch;
}
