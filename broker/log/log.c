/*
 * st_log: one partition's log — a sorted array of segments, the last one active.
 *
 * Start-up reads a directory listing, a stat() per segment and the checkpoint; on a
 * clean start whose checkpoint still matches the active segment's size, that is all.
 * Segment files and indexes are opened and read on first use (segment.h), so idle
 * partitions stay cheap. After a crash the segments holding data past the recovery
 * point are re-verified batch by batch and cut at the first damage.
 *
 * The append path does one validation pass, edits offsets in place and issues one
 * pwrite of the whole record set; index entries are added in memory only and written
 * by a roll, a flush or the close, and fsync is left to the flusher (flusher.c). A
 * written partition holds one descriptor, its active .log; a new one holds none.
 */
#include "broker/log/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/cleaner.h"
#include "broker/log/leader_epoch.h"
#include "broker/log/log_int.h"
#include "broker/txn/txn_partition.h"
#include "broker/log/producer_state.h"
#include "broker/log/segment.h"
#include "common/clock.h"
#include "common/fileio.h"
#include "common/errors.h"
#include "common/logging.h"

void st_log_config_defaults(st_log_config *c)
{
    *c = (st_log_config){
        .segment_bytes = 1073741824,
        .segment_ms = 604800000,
        .segment_jitter_ms = 0,
        .retention_bytes = -1,
        .retention_ms = 604800000,
        .flush_messages = INT64_MAX,
        .flush_ms = INT64_MAX,
        .max_message_bytes = 1048588,
        .index_interval_bytes = 4096,
        .log_append_time = false,
        .timestamp_difference_max_ms = INT64_MAX,
        .cleanup_delete = true,
        .cleanup_compact = false,
        .delete_retention_ms = 86400000,
        .min_compaction_lag_ms = 0,
        .min_cleanable_dirty_ratio = 0.5,
        .file_delete_delay_ms = 60000,
        .min_insync_replicas = 1,
        .compression_type = ST_BATCH_CODEC_PRODUCER,
    };
}

static int push_segment(st_log *log, st_segment *s)
{
    if (log->nsegs == log->segs_cap) {
        int cap = log->segs_cap ? log->segs_cap * 2 : 2;
        st_segment **p = realloc(log->segs, (size_t)cap * sizeof *p);
        if (!p)
            return -1;
        log->segs = p;
        log->segs_cap = cap;
    }
    log->segs[log->nsegs++] = s;
    log->total_size += s->size;
    return 0;
}

/* Index of the segment holding `offset`: the last whose base is at or below it. */
static int find_segment(const st_log *log, int64_t offset)
{
    int lo = 0, hi = log->nsegs;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (log->segs[mid]->base <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 ? lo - 1 : 0;
}

/* Loads s's indexes if needed and opens its .log (st_segment_load). */
static int ensure_loaded(st_log *log, st_segment *s);
int st_log_ensure_loaded(st_log *log, st_segment *s)
{
    return ensure_loaded(log, s);
}

static int ensure_loaded(st_log *log, st_segment *s)
{
    int64_t size = s->size;
    int rc = st_segment_load(log->dir, s, st_log_interval(log));
    log->total_size += s->size - size;
    if (s->rebuild_failed) {
        /* the segment is usable (memory is authoritative); the next sync rewrites them */
        s->rebuild_failed = false;
        st_log_storage_failed(log, false, s->write_errno,
                              "rebuilding the index files of segment %020" PRId64, s->base);
    }
    return rc;
}

/* True when the log holds nothing a checkpoint or an fsync could keep: one empty
 * segment at the start offset, never written. st_log_open makes the same state from an
 * empty directory, so such a partition needs neither: closing 100,000 new partitions
 * would otherwise cost three fsyncs each (the directory, and the checkpoint's file and
 * rename) — minutes of shutdown. */
bool st_log_holds_nothing(const st_log *log)
{
    const st_segment *act = st_log_active(log);
    return log->nsegs == 1 && act->size == 0 && log->start_offset == act->base &&
           log->end_offset == act->base && !log->producers && log->ndeleted == 0;
}

/* "00000000000000000042.<ext>" → 42 and the extension; false for other names. */
static bool parse_name(const char *name, int64_t *base, const char **ext)
{
    for (int i = 0; i < 20; i++)
        if (name[i] < '0' || name[i] > '9')
            return false;
    if (name[20] != '.')
        return false;
    *base = strtoll(name, NULL, 10);
    *ext = name + 21;
    return *base >= 0;
}

static int cmp_segment(const void *a, const void *b)
{
    int64_t x = (*(st_segment *const *)a)->base, y = (*(st_segment *const *)b)->base;
    return x < y ? -1 : x > y;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcmp(s + n - k, suffix) == 0;
}

/* Handles a name of the directory other than a .log, once the segments are sorted:
 * notes producer snapshots and drops leftovers — index files without a .log,
 * unfinished snapshot writes, deleted segments' files still waiting at a crash. */
static int note_other(st_log *log, int dir_fd, const char *name, char *err, size_t errlen)
{
    int64_t base;
    const char *ext;
    if (!parse_name(name, &base, &ext))
        return 0;
    if (strcmp(ext, ST_SNAPSHOT_EXT) == 0) {
        if (st_producers_note_snapshot(log, base) < 0) {
            snprintf(err, errlen, "%s: out of memory", log->dir);
            return -1;
        }
        return 0;
    }
    if (strcmp(ext, ST_SNAPSHOT_EXT ".tmp") == 0 || ends_with(ext, ST_DELETED_SUFFIX)) {
        unlinkat(dir_fd, name, 0);
        return 0;
    }
    int i = find_segment(log, base);
    if (log->nsegs == 0 || log->segs[i]->base != base) {
        st_warn("%s: deleting %s, which has no .log", log->dir, name);
        unlinkat(dir_fd, name, 0);
    }
    return 0;
}

/*
 * Lists the segments (a stat per .log) in one pass over the directory, keeping the
 * other names for note_other once the segments are sorted; notes whether a checkpoint
 * is there (*have_checkpoint), so a partition without one is not asked for it. Sets
 * *leftovers and stops early when a compaction that did not finish left .swap or
 * .cleaned files: st_cleaner_recover must settle them before anything is listed. 100,000
 * partitions start in one readdir each this way (it was a mkdir, two listings and a
 * failed open each).
 */
static int list_segments(st_log *log, DIR *d, bool *have_checkpoint, bool *have_epochs,
                         bool *leftovers, char *err, size_t errlen)
{
    int rc = 0;
    char **others = NULL;
    size_t nothers = 0, cap = 0;
    struct dirent *e;
    *have_checkpoint = *have_epochs = *leftovers = false;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        int64_t base;
        const char *ext, *name = e->d_name;
        struct stat st;
        if (strcmp(name, ST_CHECKPOINT_NAME) == 0) {
            *have_checkpoint = true;
            continue;
        }
        if (strcmp(name, ST_LEADER_EPOCH_FILE) == 0)
            *have_epochs = true;
        if (strcmp(name, ST_CHECKPOINT_NAME ".tmp") == 0)
            unlinkat(dirfd(d), name, 0);
        if (!parse_name(name, &base, &ext))
            continue;
        if (ends_with(ext, ".swap") || ends_with(ext, ".cleaned")) {
            *leftovers = true;
            break;
        }
        if (strcmp(ext, "log") != 0) {
            if (nothers == cap) {
                cap = cap ? cap * 2 : 8;
                char **p = realloc(others, cap * sizeof *p);
                if (!p) {
                    rc = -1;
                    break;
                }
                others = p;
            }
            if (!(others[nothers] = strdup(name)))
                rc = -1;
            else
                nothers++;
            continue;
        }
        if (fstatat(dirfd(d), name, &st, 0) < 0) {
            snprintf(err, errlen, "%s/%s: %s", log->dir, name, strerror(errno));
            rc = -2;
            break;
        }
        st_segment *s = st_segment_new(base, st.st_size);
        if (!s || push_segment(log, s) < 0) {
            st_segment_free(s);
            rc = -1;
        }
    }
    if (rc == -1)
        snprintf(err, errlen, "%s: out of memory", log->dir);
    if (rc == 0 && log->nsegs > 1)
        qsort(log->segs, (size_t)log->nsegs, sizeof *log->segs, cmp_segment);
    for (size_t i = 0; i < nothers; i++) {
        if (rc == 0 && !*leftovers)
            rc = note_other(log, dirfd(d), others[i], err, errlen);
        free(others[i]);
    }
    free(others);
    return rc < 0 ? -1 : 0;
}

/* Opens the partition directory for listing, creating it (and its parents) if missing. */
static DIR *open_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d && errno == ENOENT && st_mkdir_p(dir, 0755, NULL, 0) == 0)
        d = opendir(dir);
    return d;
}

void st_log_drop_segments_from(st_log *log, int from, const char *why)
{
    while (log->nsegs > from) {
        st_segment *s = log->segs[--log->nsegs];
        st_warn("%s: deleted segment %020" PRId64 " (%" PRId64 " bytes): %s", log->dir, s->base,
                s->size, why);
        log->total_size -= s->size;
        st_segment_unlink(log->dir, s->base);
        st_segment_free(s);
    }
}

/* Unclean start: re-verify every segment holding data at or past recovery_point. */
static int recover(st_log *log, int64_t recovery_point, char *err, size_t errlen)
{
    for (int i = 0; i < log->nsegs; i++) {
        st_segment *s = log->segs[i];
        bool last = i == log->nsegs - 1;
        if (!last && log->segs[i + 1]->base <= recovery_point)
            continue; /* on disk before the crash: trusted */
        int64_t size = s->size, cut_bytes, cut_pos;
        char reason[160];
        int64_t from = recovery_point > s->base ? recovery_point : s->base;
        if (st_segment_recover(log->dir, s, st_log_interval(log), from, &cut_bytes, &cut_pos,
                               reason, sizeof reason) != ST_ERR_NONE) {
            snprintf(err, errlen, "%s: recovering segment %" PRId64 " failed (I/O error)", log->dir,
                     s->base);
            return -1;
        }
        log->total_size += s->size - size;
        if (cut_bytes > 0)
            st_warn("%s: truncated %" PRId64 " bytes at position %" PRId64 " of segment %020" PRId64
                    " (%s); log end offset now %" PRId64,
                    log->dir, cut_bytes, cut_pos, s->base, reason, s->end_offset);
        if (!last && (cut_bytes > 0 || s->end_offset > log->segs[i + 1]->base)) {
            st_log_drop_segments_from(log, i + 1, "it followed a truncated segment");
            break;
        }
    }
    log->end_offset = st_log_active(log)->end_offset;
    return 0;
}

static void free_log(st_log *log)
{
    free(log->deleted);
    log->flush_state->log = NULL;
    st_log_state_unref(log->flush_state);
    for (int i = 0; i < log->nsegs; i++)
        st_segment_free(log->segs[i]);
    st_producers_free(log->producers);
    st_txn_partition_free(log->txns);
    st_log_epochs_free(log);
    free(log->segs);
    free(log->dir);
    free(log);
}

st_log *st_log_open(const char *dir, const st_log_config *cfg, bool clean, st_flusher *flusher,
                    char *err, size_t errlen)
{
    st_log *log = calloc(1, sizeof *log);
    struct st_log_flush_state *fs = calloc(1, sizeof *fs);
    if (!log || !fs || !(log->dir = strdup(dir))) {
        snprintf(err, errlen, "%s: out of memory", dir);
        free(fs);
        if (log)
            free(log->dir);
        free(log);
        return NULL;
    }
    *fs = (struct st_log_flush_state){.refs = 1, .log = log};
    pthread_mutex_init(&fs->checkpoint_lock, NULL);
    log->flush_state = fs;
    log->cfg = *cfg;
    log->flusher = flusher;
    log->dirty_since_ms = -1;
    st_log_storage_init(log);
    DIR *d = open_dir(dir);
    bool have_ck_file, have_epochs, leftovers;
    if (!d) {
        snprintf(err, errlen, "%s: cannot create or list the partition directory: %s", dir,
                 strerror(errno));
        goto fail;
    }
    int list_rc = list_segments(log, d, &have_ck_file, &have_epochs, &leftovers, err, errlen);
    closedir(d);
    if (list_rc == 0 && leftovers) {
        /* A crash in the middle of a compaction swap left .swap/.cleaned files: settle
         * them before the segments are listed (cleaner.c explains the order). */
        for (int i = 0; i < log->nsegs; i++)
            st_segment_free(log->segs[i]);
        log->nsegs = 0;
        log->total_size = 0;
        if (st_cleaner_recover(dir, err, errlen) < 0)
            goto fail;
        if (!(d = opendir(dir))) {
            snprintf(err, errlen, "%s: cannot list: %s", dir, strerror(errno));
            goto fail;
        }
        list_rc = list_segments(log, d, &have_ck_file, &have_epochs, &leftovers, err, errlen);
        closedir(d);
        if (list_rc == 0 && leftovers) {
            snprintf(err, errlen,
                     "%s: files of an unfinished compaction are still there after "
                     "recovery (see the lines above): remove them by hand",
                     dir);
            goto fail;
        }
    }
    if (list_rc < 0)
        goto fail;
    st_checkpoint ck;
    char why[300];
    int ck_rc = have_ck_file ? st_checkpoint_read(dir, &ck, why, sizeof why) : 1;
    if (ck_rc < 0)
        st_warn("%s: %s; ignoring the checkpoint", dir, why);
    bool have_ck = ck_rc == 0;

    if (log->nsegs == 0) {
        int64_t base = have_ck ? ck.end_offset : 0;
        st_segment *s = st_segment_create(dir, base);
        if (!s || push_segment(log, s) < 0) {
            snprintf(err, errlen, "%s: cannot create segment %" PRId64 ": %s", dir, base,
                     strerror(errno));
            st_segment_free(s);
            goto fail;
        }
        log->end_offset = base;
        log->dir_dirty = true;
    } else if (clean) {
        st_segment *act = st_log_active(log);
        if (have_ck && ck.active_base == act->base && ck.active_size == act->size &&
            ck.end_offset >= act->base) {
            log->end_offset = ck.end_offset; /* trusted: nothing to read */
        } else if (!have_ck && act->size == 0) {
            /* an empty active segment ends where it begins: no need to open it (a
             * partition never written has no checkpoint; see st_log_holds_nothing) */
            log->end_offset = act->base;
        } else {
            if (ensure_loaded(log, act) != ST_ERR_NONE) {
                snprintf(err, errlen, "%s: cannot read the active segment: %s", dir,
                         strerror(errno));
                goto fail;
            }
            log->end_offset = act->end_offset;
        }
    } else {
        int64_t rp = have_ck ? ck.recovery_point : log->segs[0]->base;
        if (recover(log, rp, err, errlen) < 0)
            goto fail;
    }

    int64_t first = log->segs[0]->base;
    log->start_offset = have_ck && ck.start_offset > first ? ck.start_offset : first;
    if (log->start_offset > log->end_offset)
        log->start_offset = log->end_offset;
    log->recovery_point = have_ck ? ck.recovery_point : log->start_offset;
    if (log->recovery_point > log->end_offset)
        log->recovery_point = log->end_offset;
    log->saved = ck;
    log->saved_valid = have_ck;
    if (st_producers_load(log) < 0) {
        snprintf(err, errlen, "%s: cannot restore the producer state (out of memory or disk)", dir);
        goto fail;
    }
    if (st_log_txn_load(log, err, errlen) < 0)
        goto fail;
    if (st_log_epochs_open(log, clean, have_epochs, err, errlen) < 0)
        goto fail;
    return log;
fail:
    free_log(log);
    return NULL;
}

/* fsyncs, on this thread, everything past the recovery point: the segments above it
 * (.log and the index entries written for it now or unsynced before) and the
 * directory. */
static int flush_now(st_log *log)
{
    int rc = ST_ERR_NONE;
    for (int i = 0; i < log->nsegs; i++) {
        st_segment *s = log->segs[i];
        if (i < log->nsegs - 1 && log->segs[i + 1]->base <= log->recovery_point)
            continue;
        if (s->size > 0 && st_segment_open_log(log->dir, s) < 0) {
            st_log_storage_failed(log, false, errno, "opening segment %020" PRId64 " to sync it",
                                  s->base);
            rc = ST_ERR_KAFKA_STORAGE_ERROR;
            continue;
        }
        st_fileref *files[3] = {s->file, NULL, NULL};
        if (st_segment_write_indexes(log->dir, s, files + 1) != ST_ERR_NONE) {
            st_log_storage_failed(log, false, s->write_errno,
                                  "writing the index files of segment %020" PRId64, s->base);
            rc = ST_ERR_KAFKA_STORAGE_ERROR;
        }
        if (st_fsync_all(files, 3, NULL) != ST_ERR_NONE)
            rc = ST_ERR_KAFKA_STORAGE_ERROR;
        st_fileref_unref(files[1]);
        st_fileref_unref(files[2]);
    }
    if (st_fsync_all(NULL, 0, log->dir) != ST_ERR_NONE)
        rc = ST_ERR_KAFKA_STORAGE_ERROR;
    if (rc == ST_ERR_NONE) {
        log->recovery_point = log->end_offset;
        log->dir_dirty = false;
    }
    return rc;
}

void st_log_close(st_log *log, bool flush)
{
    if (!log)
        return;
    st_cleaner_detach(log);
    st_segment *act = st_log_active(log);
    if (act->loaded)
        st_segment_seal(act);
    st_producers_snapshot(log, flush); /* before flush_now, whose directory fsync covers it */
    if (flush && !st_log_holds_nothing(log))
        flush_now(log); /* writes the active segment's index entries too */
    else if (act->loaded && st_segment_sync_indexes(log->dir, act) != ST_ERR_NONE)
        st_log_storage_failed(log, false, act->write_errno,
                              "writing the index files of segment %020" PRId64, act->base);
    st_log_epochs_write_final(log);
    st_log_write_checkpoint(log, true);
    st_log_purge_deleted(log, INT64_MAX); /* no reader is left to wait for */
    st_log_storage_close(log);
    free_log(log);
}

char *st_log_close_for_removal(st_log *log)
{
    if (!log)
        return NULL;
    st_cleaner_detach(log);
    st_log_checkpoint_stop(log); /* waits out a write in flight into the directory */
    char *dir = log->dir;
    log->dir = NULL;
    free_log(log);
    return dir;
}

void st_log_remove_dir(char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
                unlinkat(dirfd(d), e->d_name, 0) < 0)
                st_warn("%s/%s: cannot delete: %s", dir, e->d_name, strerror(errno));
        closedir(d);
    }
    if (rmdir(dir) < 0)
        st_warn("%s: cannot remove the partition directory: %s", dir, strerror(errno));
    else
        st_info("%s: deleted", dir);
    free(dir);
}

void st_log_remove(st_log *log)
{
    char *dir = st_log_close_for_removal(log);
    if (dir)
        st_log_remove_dir(dir);
}

void st_log_set_config(st_log *log, const st_log_config *cfg)
{
    log->cfg = *cfg;
}

int64_t st_log_start_offset(const st_log *log)
{
    return log->start_offset;
}

int64_t st_log_end_offset(const st_log *log)
{
    return log->end_offset;
}

int64_t st_log_size_bytes(const st_log *log)
{
    return log->total_size;
}

int st_log_segment_count(const st_log *log)
{
    return log->nsegs;
}

/* ---- flushing ---- */

static void mark_offline_on_error(st_log *log, int err)
{
    if (!err || log->offline)
        return;
    log->offline = true;
    st_error("%s: fsync failed; the partition refuses writes until straitd restarts and "
             "re-verifies everything after offset %" PRId64,
             log->dir, log->recovery_point);
}

static void flush_done(void *arg)
{
    st_flush_req *req = arg;
    struct st_log_flush_state *fs = req->state;
    int err = req->err;
    st_log *log = fs->log;
    if (log) {
        mark_offline_on_error(log, err);
        if (!err && !log->offline && req->end_offset > log->recovery_point)
            log->recovery_point = req->end_offset;
        if (!req->cb && err) {
            log->flush_error = err; /* a background flush: tell the next waiter */
        } else if (req->cb) {
            if (!err)
                err = log->flush_error;
            log->flush_error = 0;
        }
    }
    if (req->cb)
        req->cb(req->cb_arg, err);
    st_log_state_unref(fs);
    free(req);
}

/* Writes seg's pending index entries (opening the index files just for this) and
 * queues an fsync of its .log and of those files (and of the directory when dir is
 * true) that completes with cb; the recovery point moves to end_offset when it
 * succeeds. The flusher closes the index files when it is done with them. */
static void submit_flush(st_log *log, st_segment *seg, bool dir, int64_t end_offset,
                         st_log_flushed_cb *cb, void *arg)
{
    st_fileref *files[3] = {seg->file, NULL, NULL};
    bool first_write = seg->index_synced == 0 && seg->times_synced == 0;
    /* Index files only speed up the next start: a failed write of one is logged and
     * retried by the next flush; only a failed fsync puts data in doubt. */
    if (st_segment_write_indexes(log->dir, seg, files + 1) != ST_ERR_NONE)
        st_log_storage_failed(log, false, seg->write_errno,
                              "writing the index files of segment %020" PRId64, seg->base);
    if (first_write && (files[1] || files[2]))
        dir = true; /* the index files may be new: make their names durable too */
    if (!log->flusher) {
        int err = st_fsync_all(files, 3, dir ? log->dir : NULL);
        st_fileref_unref(files[1]);
        st_fileref_unref(files[2]);
        mark_offline_on_error(log, err);
        if (!err && !log->offline && end_offset > log->recovery_point)
            log->recovery_point = end_offset;
        if (cb)
            cb(arg, err);
        return;
    }
    st_flush_req *req = calloc(1, sizeof *req);
    if (req)
        req->files = calloc(3, sizeof *req->files);
    if (!req || !req->files || (dir && !(req->dir_path = strdup(log->dir)))) {
        if (req)
            free(req->files);
        free(req);
        st_fileref_unref(files[1]);
        st_fileref_unref(files[2]);
        st_error("%s: out of memory queueing an fsync", log->dir);
        if (cb)
            cb(arg, ST_ERR_KAFKA_STORAGE_ERROR);
        return;
    }
    if (files[0])
        req->files[req->nfiles++] = st_fileref_ref(files[0]);
    for (int i = 1; i < 3; i++) /* the index files' references go to the request */
        if (files[i])
            req->files[req->nfiles++] = files[i];
    req->done = flush_done;
    req->end_offset = end_offset;
    req->state = log->flush_state;
    log->flush_state->refs++;
    req->cb = cb;
    req->cb_arg = arg;
    st_flusher_submit(log->flusher, req);
}

void st_log_flush_async(st_log *log, st_log_flushed_cb *cb, void *arg)
{
    log->unflushed_messages = 0;
    log->dirty_since_ms = -1;
    submit_flush(log, st_log_active(log), log->dir_dirty, log->end_offset, cb, arg);
    log->dir_dirty = false;
}

/* ---- appending ---- */

/* Closes the active segment and starts a new one at the end offset. The old one is
 * queued for fsync at once (Kafka does the same), with the directory for the new
 * files, so rolled data never waits for the next explicit flush. */
int st_log_roll(st_log *log)
{
    st_segment *old = st_log_active(log);
    if (old->loaded)
        st_segment_seal(old); /* submit_flush writes the index entries */
    st_segment *s = st_segment_create(log->dir, log->end_offset);
    if (!s || push_segment(log, s) < 0) {
        st_log_storage_failed(log, true, s ? ENOMEM : errno, "creating segment %020" PRId64,
                              log->end_offset);
        if (s)
            st_segment_unlink(log->dir, s->base);
        st_segment_free(s);
        return ST_ERR_KAFKA_STORAGE_ERROR;
    }
    st_producers_snapshot(log, false); /* before the flush: its directory fsync covers it */
    submit_flush(log, old, true, s->base, NULL, NULL);
    /* Writes to the old segment are over: its descriptor goes (the flush holds its
     * own reference), so rolled segments hold none until something reads them. */
    st_fileref_unref(old->file);
    old->file = NULL;
    st_debug("%s: rolled to segment %020" PRId64, log->dir, s->base);
    return ST_ERR_NONE;
}

static int write_full(int fd, const uint8_t *p, size_t n, int64_t pos)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, pos);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
        pos += w;
    }
    return 0;
}

/* After an append of len bytes to seg: counts them as dirty, hands every filled chunk of
 * whole pages to the writeback thread, and says whether the producer should wait. */
static bool writeback_after_append(st_log *log, st_segment *seg, size_t len)
{
    if (!log->flusher)
        return false;
    st_writeback *wb = st_flusher_writeback(log->flusher);
    st_writeback_note_append(wb, (int64_t)len);
    if (seg->writeback_pos > seg->size)
        seg->writeback_pos = seg->size; /* truncated since */
    if (seg->size - seg->writeback_pos >= ST_WRITEBACK_CHUNK + 65536) {
        /* whole pages (of any size up to 64 KiB): the one still being filled is never
         * under writeback, so appending to it never waits for the disk */
        int64_t to = seg->size & ~(int64_t)65535;
        st_writeback_submit(wb, seg->file, seg->writeback_pos, to);
        seg->writeback_pos = to;
    }
    return st_writeback_behind(wb);
}

void st_log_await_writeback(st_log *log, st_log_flushed_cb *cb, void *arg)
{
    if (!log->flusher) {
        cb(arg, 0);
        return;
    }
    st_writeback_await(st_flusher_writeback(log->flusher), cb, arg);
}

/* What the topic's settings ask of a produced record set at now_ms. */
static void append_policy(const st_log *log, int64_t now_ms, st_batch_policy *pol)
{
    st_batch_policy_init(pol, log->cfg.max_message_bytes);
    pol->log_append_time = log->cfg.log_append_time;
    pol->keys_required = log->cfg.cleanup_compact;
    pol->target_codec = log->cfg.compression_type;
    int64_t max_diff = log->cfg.timestamp_difference_max_ms;
    if (!log->cfg.log_append_time && max_diff >= 0 && max_diff != INT64_MAX) {
        if (__builtin_sub_overflow(now_ms, max_diff, &pol->timestamp_min))
            pol->timestamp_min = INT64_MIN;
        if (__builtin_add_overflow(now_ms, max_diff, &pol->timestamp_max))
            pol->timestamp_max = INT64_MAX;
    }
}

/* The records' largest timestamp (LogAppendTime: the broker's clock): what segment.ms
 * measures against the active segment's first timestamp, as Kafka's roll check does.
 * Headers were validated by the caller. */
static int64_t records_max_ts(const st_log *log, const uint8_t *p, size_t len, int64_t now_ms)
{
    if (log->cfg.log_append_time)
        return now_ms;
    int64_t max_ts = -1;
    for (size_t pos = 0; pos < len;) {
        st_batch_info b;
        st_batch_parse_header(p + pos, &b);
        if (b.max_timestamp > max_ts)
            max_ts = b.max_timestamp;
        pos += (size_t)b.size;
    }
    return max_ts;
}

/* The first batch's maxTimestamp of a segment, read once from its file when nothing is
 * in memory yet (after a restart). -1 when the segment has no timestamps. */
static int64_t first_timestamp(st_log *log, st_segment *s)
{
    uint8_t head[ST_BATCH_HEADER_SIZE];
    st_batch_info b;
    if (s->roll_ts < 0 && s->size >= ST_BATCH_HEADER_SIZE &&
        st_segment_open_log(log->dir, s) == 0 &&
        pread(s->file->fd, head, sizeof head, 0) == (ssize_t)sizeof head &&
        st_batch_parse_header(head, &b) == ST_ERR_NONE)
        s->roll_ts = b.max_timestamp;
    return s->roll_ts;
}

/* segment.jitter.ms, drawn once per segment as Kafka does at segment creation: uniform
 * in [0, min(segment.jitter.ms, segment.ms)), so partitions created together do not
 * all roll in the same instant. */
static int64_t roll_jitter(const st_log *log, st_segment *s)
{
    if (s->roll_jitter_ms >= 0)
        return s->roll_jitter_ms;
    int64_t span = log->cfg.segment_jitter_ms < log->cfg.segment_ms ? log->cfg.segment_jitter_ms
                                                                    : log->cfg.segment_ms;
    s->roll_jitter_ms = 0;
    if (span > 0) {
        uint64_t x = (uint64_t)st_mono_us() ^ ((uint64_t)s->base * 0x9e3779b97f4a7c15ULL);
        x ^= x >> 33; /* a 64-bit finalizer: spreads the low-entropy input */
        x *= 0xff51afd7ed558ccdULL;
        x ^= x >> 33;
        s->roll_jitter_ms = (int64_t)(x % (uint64_t)span);
    }
    return s->roll_jitter_ms;
}

/* Kafka's time-based roll, decided at append: the segment has "waited" from its first
 * timestamp to the new records' largest one (records older than the first never roll
 * it); without timestamps it has waited since it was created or opened. */
static bool roll_by_time(st_log *log, st_segment *act, const uint8_t *records, size_t len,
                         int64_t now_ms)
{
    int64_t first = first_timestamp(log, act);
    int64_t waited;
    if (first >= 0) {
        int64_t max_ts = records_max_ts(log, records, len, now_ms);
        if (max_ts <= first)
            return false;
        waited = max_ts - first; /* both >= 0: no overflow */
    } else {
        waited = now_ms - act->created_ms;
    }
    return waited > log->cfg.segment_ms - roll_jitter(log, act);
}

int st_log_append(st_log *log, uint8_t *records, size_t len, int64_t now_ms, st_append_result *res)
{
    return st_log_append_with(log, NULL, records, len, now_ms, res);
}

/* Who wrote the records being appended. */
enum append_mode {
    APPEND_CLIENT,   /* a producer's: checked, offsets and our epoch assigned */
    APPEND_CONTROL,  /* one control batch the broker built (a transaction marker,
                      * log_txn.c): no client checks, no sequence (a marker has none) */
    APPEND_FOLLOWER, /* a leader's, fetched as a follower: offsets and epochs kept */
};

/* The append itself. */
static int append(st_log *log, st_batch_ws *ws, uint8_t *records, size_t len, int64_t now_ms,
                  enum append_mode mode, st_append_result *res)
{
    *res = (st_append_result){.base_offset = -1, .last_offset = -1, .log_append_time = -1};
    res->log_start_offset = log->start_offset;
    if (log->offline) {
        snprintf(res->why, sizeof res->why,
                 "an earlier fsync of %s failed: the partition is offline until restart", log->dir);
        return ST_ERR_KAFKA_STORAGE_ERROR;
    }
    if (st_log_storage_refuses(log, res->why, sizeof res->why))
        return ST_ERR_KAFKA_STORAGE_ERROR; /* a write failed and the next try is not due */
    st_batch_policy policy;
    append_policy(log, now_ms, &policy);
    st_batches_out set = {records, len, 1, 1, 0};
    int64_t next = -1; /* a follower's: the end offset after these batches */
    int rc = ST_ERR_NONE;
    if (mode == APPEND_CLIENT)
        rc = st_batches_prepare(records, len, &policy, ws, &set, res->why, sizeof res->why);
    else if (mode == APPEND_FOLLOWER)
        rc = st_log_follower_check(log, records, len, &set.nbatches, &set.nrecords, &next, res->why,
                                   sizeof res->why);
    int nbatches = set.nbatches;
    int64_t nrecords = set.nrecords;
    /* From here on the record set is what prepare made of it (perhaps recompressed). */
    records = set.data;
    len = set.len;
    bool has_producer = false;
    if (rc == ST_ERR_NONE && mode == APPEND_CLIENT)
        rc = st_producers_check(log, records, len, &has_producer, res);
    else if (rc == ST_ERR_NONE && mode == APPEND_FOLLOWER)
        rc = st_producers_follow(log, records, len, &has_producer, res);
    if (rc == ST_ERR_NONE)
        rc = st_log_txn_before_write(log, records, len, res);
    if (rc != ST_ERR_NONE || res->duplicate)
        return rc;
    if (len > INT32_MAX / 2) {
        snprintf(res->why, sizeof res->why, "record set of %zu bytes is too large", len);
        return ST_ERR_RECORD_LIST_TOO_LARGE;
    }

    int64_t span_end = next >= 0 ? next : log->end_offset + nrecords; /* end after these */
    st_segment *act = st_log_active(log);
    if (act->size > 0 &&
        (act->size + (int64_t)len > log->cfg.segment_bytes ||
         act->size + (int64_t)len > INT32_MAX || span_end - act->base > INT32_MAX ||
         roll_by_time(log, act, records, len, now_ms))) {
        rc = st_log_roll(log);
        act = st_log_active(log);
    }
    if (rc == ST_ERR_NONE && ensure_loaded(log, act) != ST_ERR_NONE)
        rc = ST_ERR_KAFKA_STORAGE_ERROR;
    if (rc == ST_ERR_NONE && act->end_offset != log->end_offset) {
        st_warn("%s: active segment ends at offset %" PRId64 ", not %" PRId64
                " as checkpointed; continuing from the segment",
                log->dir, act->end_offset, log->end_offset);
        log->end_offset = act->end_offset;
    }
    /* Index entries hold offsets relative to the segment base as int32. Every record
     * was counted, so this needs a request of billions of records; still refused rather
     * than wrap the index. */
    if (rc == ST_ERR_NONE && mode != APPEND_FOLLOWER)
        span_end = log->end_offset + nrecords; /* the segment's end may have corrected it */
    if (rc == ST_ERR_NONE && span_end - act->base > INT32_MAX) {
        snprintf(res->why, sizeof res->why,
                 "record set claims %" PRId64 " records, more than one segment can index",
                 nrecords);
        return ST_ERR_RECORD_LIST_TOO_LARGE;
    }
    int32_t entries = (int32_t)(len / (size_t)st_log_interval(log)) + 2;
    if (rc == ST_ERR_NONE && st_segment_reserve(act, entries < nbatches ? entries : nbatches))
        rc = ST_ERR_KAFKA_STORAGE_ERROR;
    if (rc == ST_ERR_NONE && has_producer)
        rc = st_producers_before_write(log);
    if (rc != ST_ERR_NONE) {
        snprintf(res->why, sizeof res->why, "storage error: cannot write to %s", log->dir);
        return rc;
    }

    /* Offsets, epoch and LogAppendTime, edited in place: no copy of the records. A
     * follower keeps the leader's (its batches already say them). */
    int64_t offset = log->end_offset;
    for (size_t pos = 0; mode != APPEND_FOLLOWER && pos < len;) {
        uint8_t *p = records + pos;
        int32_t size = (int32_t)st_be32(p + 8) + ST_BATCH_LOG_OVERHEAD;
        st_batch_set_base_offset(p, offset);
        st_batch_set_leader_epoch(p, log->leader_epoch); /* outside the CRC */
        if (log->cfg.log_append_time)
            st_batch_set_log_append_time(p, (size_t)size, now_ms);
        offset += (int32_t)st_be32(p + 23) + 1;
        pos += (size_t)size;
    }
    if (mode == APPEND_FOLLOWER)
        offset = next;
    if (write_full(act->file->fd, records, len, act->size) < 0) {
        int saved = errno;
        /* A partial write is cut so the file ends with whole batches; if even that
         * fails, the next append overwrites it and recovery would cut it (bad CRC). */
        bool cut = ftruncate(act->file->fd, act->size) == 0;
        st_log_storage_failed(log, true, saved, "write of %zu bytes to segment %020" PRId64 "%s",
                              len, act->base, cut ? "" : " (and cutting the partial write)");
        snprintf(res->why, sizeof res->why, "storage error: %s", strerror(saved));
        return ST_ERR_KAFKA_STORAGE_ERROR;
    }
    st_log_storage_ok(log);

    for (size_t pos = 0; pos < len;) {
        st_batch_info b;
        st_batch_parse_header(records + pos, &b);
        if (act->nindex + 1 > act->index_cap || act->ntimes + 1 > act->times_cap)
            st_segment_reserve(act, 1); /* entries bound above; this is a safety net */
        st_segment_note_batch(act, act->size + (int64_t)pos, &b, st_log_interval(log));
        pos += (size_t)b.size;
    }
    /* index entries stay in memory: a roll, a flush or the close writes them */
    if (has_producer)
        st_producers_append(log, records, len, now_ms);
    st_log_txn_note(log, records, len);
    act->size += (int64_t)len;
    log->total_size += (int64_t)len;
    res->disk_behind = writeback_after_append(log, act, len);
    res->base_offset = mode == APPEND_FOLLOWER ? (int64_t)st_be64(records) : log->end_offset;
    log->end_offset = offset;
    st_log_epochs_note(log, records, len); /* after the sizes: the log holds something */
    res->last_offset = offset - 1;
    res->records = nrecords;
    res->log_append_time = log->cfg.log_append_time ? now_ms : -1;
    log->unflushed_messages += nrecords;
    res->flush_needed = log->unflushed_messages >= log->cfg.flush_messages;
    if (log->dirty_since_ms < 0)
        log->dirty_since_ms = now_ms;
    return ST_ERR_NONE;
}

int st_log_append_with(st_log *log, st_batch_ws *ws, uint8_t *records, size_t len, int64_t now_ms,
                       st_append_result *res)
{
    return append(log, ws, records, len, now_ms, APPEND_CLIENT, res);
}

int st_log_append_control(st_log *log, uint8_t *batch, size_t len, int64_t now_ms,
                          st_append_result *res)
{
    return append(log, NULL, batch, len, now_ms, APPEND_CONTROL, res);
}

int st_log_append_follower(st_log *log, uint8_t *records, size_t len, int64_t now_ms,
                           st_append_result *res)
{
    return append(log, NULL, records, len, now_ms, APPEND_FOLLOWER, res);
}

/* ---- reading ---- */

int st_log_read(st_log *log, int64_t offset, size_t max_bytes, st_log_slice *out)
{
    return st_log_read_upto(log, offset, log->end_offset, max_bytes, out);
}

int st_log_read_upto(st_log *log, int64_t offset, int64_t limit, size_t max_bytes,
                     st_log_slice *out)
{
    *out = (st_log_slice){NULL, 0, 0};
    if (offset < log->start_offset || offset > log->end_offset)
        return ST_ERR_OFFSET_OUT_OF_RANGE;
    if (offset >= limit)
        return ST_ERR_NONE;
    for (int i = find_segment(log, offset); i < log->nsegs; i++) {
        st_segment *s = log->segs[i];
        if (ensure_loaded(log, s) != ST_ERR_NONE)
            return ST_ERR_KAFKA_STORAGE_ERROR;
        st_scan sc;
        st_batch_info b;
        int64_t at, first = -1;
        int rc;
        st_scan_init(&sc, s->file->fd, st_segment_lookup(s, offset), s->size);
        while ((rc = st_scan_next(&sc, &b, &at)) == ST_SCAN_BATCH)
            if (b.base_offset + b.last_offset_delta >= offset)
                break;
        if (rc == ST_SCAN_BATCH && b.base_offset >= limit)
            return ST_ERR_NONE; /* the batch holding offset begins at or past the limit */
        if (rc == ST_SCAN_BATCH) {
            first = at;
            size_t len = (size_t)b.size;
            while (len < max_bytes && st_scan_next(&sc, &b, &at) == ST_SCAN_BATCH &&
                   b.base_offset < limit && len + (size_t)b.size <= max_bytes)
                len += (size_t)b.size;
            *out = (st_log_slice){st_fileref_ref(s->file), first, len};
            return ST_ERR_NONE;
        }
        if (rc < 0) {
            st_error("%s: segment %020" PRId64 " unreadable at position %" PRId64 ": %s", log->dir,
                     s->base, sc.pos, rc == ST_SCAN_IO ? strerror(errno) : "bad batch header");
            return ST_ERR_KAFKA_STORAGE_ERROR;
        }
    }
    return ST_ERR_NONE; /* a gap up to the end: nothing to send yet */
}

void st_log_offset_for_time(st_log *log, int64_t ts, int64_t *offset, int64_t *timestamp)
{
    *offset = -1;
    *timestamp = -1;
    for (int i = find_segment(log, log->start_offset); i < log->nsegs; i++) {
        st_segment *s = log->segs[i];
        if (s->size == 0 || ensure_loaded(log, s) != ST_ERR_NONE || s->max_ts < ts)
            continue;
        int32_t lo = 0, hi = s->ntimes; /* first time entry with ts >= wanted */
        while (lo < hi) {
            int32_t mid = lo + (hi - lo) / 2;
            if (s->times[mid].ts < ts)
                lo = mid + 1;
            else
                hi = mid;
        }
        int64_t pos = lo > 0 ? st_segment_lookup(s, s->base + s->times[lo - 1].rel) : 0;
        st_scan sc;
        st_batch_info b;
        int64_t at;
        st_scan_init(&sc, s->file->fd, pos, s->size);
        while (st_scan_next(&sc, &b, &at) == ST_SCAN_BATCH) {
            if (b.max_timestamp < ts || b.base_offset + b.last_offset_delta < log->start_offset)
                continue;
            uint8_t *buf = malloc((size_t)b.size);
            int32_t delta = 0;
            *timestamp = b.max_timestamp;
            if (buf && pread(s->file->fd, buf, (size_t)b.size, at) == b.size)
                st_batch_find_time(buf, (size_t)b.size, ts, &delta, timestamp);
            free(buf);
            *offset = b.base_offset + delta;
            if (*offset < log->start_offset)
                *offset = log->start_offset;
            return;
        }
    }
}
