/*
 * The log cleaner's loop-thread side (cleaner.h): deciding when a pass runs, taking the
 * snapshot it works on, and swapping its output in. The pass itself is in
 * cleaner_pass.c and runs on the flusher's background thread.
 *
 * Dirty tracking: `clean_upto` is an offset; non-active segments whose base is below
 * it were written by a pass and hold no duplicate keys among themselves. A pass runs
 * when dirty bytes / non-active bytes >= min.cleanable.dirty.ratio (and, with
 * min.compaction.lag.ms, only over segments older than the lag). Not persisted: after
 * a restart the first pass treats everything as dirty, which costs one extra pass.
 *
 * Transactions: a pass never rewrites a segment that reaches the last stable offset (a
 * transaction open there may still abort), and takes a copy of the aborted transactions
 * that began below it, whose data it drops (cleaner_pass.c). After the swap the
 * partition forgets the aborted transactions whose ABORT marker lies in the rewritten
 * range: their data is gone, which is also what a rebuild at the next open finds.
 *
 * Swapping in, crash-safe (on the loop thread, once the pass's files are fsynced):
 *
 *   a. rename each output's <base>.range.cleaned (8 bytes: the end of the offsets it
 *      replaces), .index.cleaned and .timeindex.cleaned to *.swap, then its
 *      <base>.log.cleaned to <base>.log.swap; fsync the directory. A .log.swap on disk
 *      is the commit point of its output.
 *   b. delete the replaced segments' .log, .index and .timeindex.
 *   c. rename each output's *.swap files to their final names; delete .range.swap.
 *
 * st_cleaner_recover, at the next open, turns whatever a crash left into one of the
 * two consistent states: every <base>.log.swap is finished (b and c, for the old
 * segments whose base lies in [base, its range's end)), every *.cleaned and every
 * other *.swap is deleted (the old segments it would have replaced are all still
 * there, since b starts only after a's fsync). Outputs are contiguous, disjoint
 * offset ranges of the old segments, so finishing some outputs and not others is
 * consistent too.
 */
#include "broker/log/cleaner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/cleaner_int.h"
#include "broker/log/log_int.h"
#include "broker/txn/txn_partition.h"
#include "common/errors.h"
#include "common/logging.h"

/* After a failed pass, wait this long before trying again. */
#define RETRY_MS 30000

struct st_cleaner_state {
    st_log *log;       /* NULL once detached */
    st_clean_job *job; /* the pass in flight, or NULL */
    int64_t clean_upto;
    int64_t retry_after_ms;
    size_t map_max_bytes;
};

static struct st_cleaner_state *get_state(st_log *log)
{
    if (!log->cleaner) {
        log->cleaner = calloc(1, sizeof *log->cleaner);
        if (!log->cleaner)
            return NULL;
        log->cleaner->log = log;
        log->cleaner->clean_upto = INT64_MIN;
        log->cleaner->map_max_bytes = ST_CLEANER_MAP_BYTES;
    }
    return log->cleaner;
}

void st_cleaner_set_map_limit(st_log *log, size_t max_bytes)
{
    struct st_cleaner_state *st = get_state(log);
    if (st)
        st->map_max_bytes = max_bytes;
}

bool st_cleaner_busy(const st_log *log)
{
    return log->cleaner && log->cleaner->job;
}

static void free_job(st_clean_job *job)
{
    for (int i = 0; i < job->ninputs; i++)
        st_fileref_unref(job->inputs[i].file);
    for (int i = 0; i < job->nouts; i++)
        st_segment_free(job->outs[i]);
    free(job->inputs);
    free(job->outs);
    free(job->aborted);
    free(job->dir);
    free(job);
}

static void discard_outputs(st_clean_job *job)
{
    for (int i = 0; i < job->nouts; i++)
        st_cleaner_unlink_cleaned(job->dir, job->outs[i]->base);
}

/* The pass's inputs are still the log's first segments, unchanged. */
static bool still_there(const st_log *log, const st_clean_job *job)
{
    if (log->nsegs <= job->ncleaned)
        return false;
    for (int i = 0; i < job->ncleaned; i++) {
        const st_segment *s = log->segs[i];
        if (s != job->inputs[i].owner || s->base != job->inputs[i].base ||
            s->size != job->inputs[i].size)
            return false;
    }
    return true;
}

/* rename dir/<base>.<from> to dir/<base>.<to>; 0, 1 if from is missing, -1. */
static int rename_ext(const char *dir, int64_t base, const char *from, const char *to)
{
    char a[4096], b[4096];
    st_segment_path(a, sizeof a, dir, base, from);
    st_segment_path(b, sizeof b, dir, base, to);
    if (rename(a, b) == 0)
        return 0;
    if (errno == ENOENT)
        return 1;
    st_error("%s: cannot rename %s to %s: %s", dir, a, b, strerror(errno));
    return -1;
}

static void unlink_ext(const char *dir, int64_t base, const char *ext)
{
    char path[4096];
    st_segment_path(path, sizeof path, dir, base, ext);
    unlink(path);
}

/* The files of an output, in the order step a renames them: .log last, as it commits;
 * .range (what the output replaces, cleaner_pass.c) first, so recovery always has it. */
static const char *const exts[4] = {"range", "index", "timeindex", "log"};

/* Steps a to c of the swap (see the top of the file). 0, or -1 with nothing changed. */
static int swap_files(st_log *log, st_clean_job *job)
{
    char from[32], to[32];
    int rc = 0;
    for (int i = 0; i < job->nouts && rc == 0; i++)
        for (int e = 0; e < 4 && rc == 0; e++) {
            snprintf(from, sizeof from, "%s.cleaned", exts[e]);
            snprintf(to, sizeof to, "%s.swap", exts[e]);
            rc = rename_ext(log->dir, job->outs[i]->base, from, to) != 0 ? -1 : 0;
        }
    if (rc == 0 && st_fsync_all(NULL, 0, log->dir) != ST_ERR_NONE)
        rc = -1;
    if (rc != 0) {
        for (int i = 0; i < job->nouts; i++)
            for (int e = 0; e < 4; e++) {
                snprintf(to, sizeof to, "%s.swap", exts[e]);
                unlink_ext(log->dir, job->outs[i]->base, to);
            }
        return -1;
    }
    for (int i = 0; i < job->ncleaned; i++)
        st_segment_unlink(log->dir, job->inputs[i].base);
    for (int i = 0; i < job->nouts; i++) {
        for (int e = 1; e < 4; e++) {
            snprintf(from, sizeof from, "%s.swap", exts[e]);
            if (rename_ext(log->dir, job->outs[i]->base, from, exts[e]) != 0)
                st_error("%s: segment %020" PRId64 " stays as .swap files until the next "
                         "start completes the swap",
                         log->dir, job->outs[i]->base);
        }
        unlink_ext(log->dir, job->outs[i]->base, "range.swap");
    }
    log->dir_dirty = true; /* the next flush makes step c durable; recovery covers it */
    return 0;
}

/* Replaces the first ncleaned segments by the outputs. */
static void swap_in(st_log *log, st_clean_job *job)
{
    int n = job->ncleaned, m = job->nouts;
    int64_t old_bytes = 0, new_bytes = 0;
    for (int i = 0; i < n; i++) {
        old_bytes += log->segs[i]->size;
        st_segment_free(log->segs[i]); /* readers holding its fd keep reading */
    }
    memmove(log->segs + m, log->segs + n, (size_t)(log->nsegs - n) * sizeof *log->segs);
    for (int i = 0; i < m; i++) {
        log->segs[i] = job->outs[i];
        new_bytes += job->outs[i]->size;
        job->outs[i] = NULL;
    }
    job->nouts = 0;
    log->nsegs += m - n;
    log->total_size += new_bytes - old_bytes;
    /* the aborted transactions ending in the rewritten range have no data left */
    if (log->txns)
        st_txn_partition_trim(log->txns, job->clean_upto);
    st_info("%s: compacted %d segments (%" PRId64 " bytes) into %d (%" PRId64 " bytes), dropped "
            "%" PRId64 " records and %" PRId64 " transaction markers",
            log->dir, n, old_bytes, m, new_bytes, job->dropped, job->dropped_markers);
}

static void pass_done(void *arg)
{
    st_clean_job *job = arg;
    struct st_cleaner_state *st = job->state;
    st_log *log = st->log;
    st->job = NULL;
    if (!log) {
        /* detached: the log is closed or removed; leave nothing behind */
        discard_outputs(job);
        rmdir(job->dir); /* succeeds only if the partition was removed meanwhile */
        free_job(job);
        free(st);
        return;
    }
    if (job->truncated) {
        /* its key map saw records that are gone: a value it drops may be the latest now */
        st_info("%s: compaction pass discarded: the log was truncated while it ran", log->dir);
        discard_outputs(job);
    } else if (job->err) {
        st_error("%s: compaction pass failed: %s; retrying in %d s", log->dir, job->why,
                 RETRY_MS / 1000);
        st->retry_after_ms = job->now_ms + RETRY_MS;
        discard_outputs(job);
    } else if (job->ncleaned == 0) {
        if (job->map_full)
            st_warn("%s: compaction skipped: the keys of the oldest dirty segment do not fit "
                    "the cleaner's %zu-byte key map",
                    log->dir, job->map_max_bytes);
        st->retry_after_ms = job->now_ms + RETRY_MS;
    } else if (!still_there(log, job)) {
        st_info("%s: compaction pass discarded: retention or DeleteRecords removed segments "
                "while it ran",
                log->dir);
        discard_outputs(job);
    } else if (swap_files(log, job) != 0) {
        st_error("%s: compaction pass discarded: its files could not be renamed into place",
                 log->dir);
        discard_outputs(job);
        st->retry_after_ms = job->now_ms + RETRY_MS;
    } else {
        swap_in(log, job);
        st->clean_upto = job->clean_upto;
    }
    free_job(job);
}

/* Segments a pass may rewrite: with min.compaction.lag.ms, the non-active ones from
 * the first dirty one on that are entirely older than the lag; else all non-active. */
static int cleanable_end(st_log *log, int first_dirty, int64_t now_ms)
{
    int n = log->nsegs - 1, end = first_dirty;
    int64_t lag = log->cfg.min_compaction_lag_ms;
    if (lag <= 0)
        return n;
    while (end < n) {
        int64_t ts = st_segment_max_ts(log->dir, log->segs[end], st_log_interval(log));
        if (ts >= 0 && now_ms - ts < lag)
            break;
        end++;
    }
    return end;
}

static int by_producer(const void *a, const void *b)
{
    const st_txn_aborted *x = a, *y = b;
    if (x->producer_id != y->producer_id)
        return x->producer_id < y->producer_id ? -1 : 1;
    return x->first_offset < y->first_offset ? -1 : x->first_offset > y->first_offset;
}

/* The aborted transactions that began below the pass's stable bound, sorted for the
 * pass's lookups. 0, or -1 when out of memory. */
static int copy_aborted(st_log *log, st_clean_job *job)
{
    size_t n = st_log_aborted_txns(log, 0, job->stable_upto, NULL, 0);
    if (n == 0)
        return 0;
    if (!(job->aborted = malloc(n * sizeof *job->aborted)))
        return -1;
    job->naborted = st_log_aborted_txns(log, 0, job->stable_upto, job->aborted, n);
    qsort(job->aborted, job->naborted, sizeof *job->aborted, by_producer);
    return 0;
}

static st_clean_job *snapshot(st_log *log, struct st_cleaner_state *st, int first_dirty,
                              int ncleanable, int64_t now_ms)
{
    /* Without a lag the active segment is read too (never written): its newer records
     * make older ones redundant. With one, later records must not count yet. */
    int ninputs = log->cfg.min_compaction_lag_ms > 0 ? ncleanable : log->nsegs;
    st_clean_job *job = calloc(1, sizeof *job);
    if (!job || !(job->inputs = calloc((size_t)ninputs, sizeof *job->inputs)) ||
        !(job->dir = strdup(log->dir))) {
        if (job)
            free(job->inputs);
        free(job);
        return NULL;
    }
    for (int i = 0; i < ninputs; i++) {
        st_segment *s = log->segs[i];
        if (st_segment_open_log(log->dir, s) < 0) {
            st_error("%s: compaction cannot open segment %020" PRId64 ": %s", log->dir, s->base,
                     strerror(errno));
            free_job(job);
            return NULL;
        }
        job->inputs[i] = (st_clean_input){s->base, s->size, st_fileref_ref(s->file), s};
        job->ninputs++;
    }
    job->state = st;
    job->now_ms = now_ms;
    job->delete_retention_ms = log->cfg.delete_retention_ms;
    job->segment_bytes = log->cfg.segment_bytes;
    job->index_interval = st_log_interval(log);
    job->map_max_bytes = st->map_max_bytes;
    job->ncleanable = ncleanable;
    job->first_map = first_dirty;
    job->after_base = log->segs[ncleanable]->base;
    job->stable_upto = st_log_last_stable_offset(log);
    if (copy_aborted(log, job) < 0) {
        free_job(job);
        return NULL;
    }
    job->bg = (st_bg_job){NULL, st_cleaner_work, pass_done, job};
    return job;
}

void st_cleaner_tick(st_log *log, int64_t now_ms)
{
    if (!log->cfg.cleanup_compact || log->nsegs < 2 || log->offline)
        return;
    struct st_cleaner_state *st = get_state(log);
    if (!st || st->job || now_ms < st->retry_after_ms)
        return;
    int n = log->nsegs - 1, first_dirty = n;
    int64_t total = 0, dirty = 0;
    for (int i = 0; i < n; i++) {
        total += log->segs[i]->size;
        if (log->segs[i]->base >= st->clean_upto) {
            dirty += log->segs[i]->size;
            if (first_dirty == n)
                first_dirty = i;
        }
    }
    if (dirty == 0 || (double)dirty / (double)total < log->cfg.min_cleanable_dirty_ratio)
        return;
    int ncleanable = cleanable_end(log, first_dirty, now_ms);
    /* nor a segment that reaches the last stable offset: its open transaction may abort */
    int64_t stable = st_log_last_stable_offset(log);
    while (ncleanable > first_dirty && log->segs[ncleanable]->base > stable)
        ncleanable--;
    if (ncleanable <= first_dirty)
        return; /* the dirty data is younger than min.compaction.lag.ms, or not stable */
    st_clean_job *job = snapshot(log, st, first_dirty, ncleanable, now_ms);
    if (!job) {
        st->retry_after_ms = now_ms + RETRY_MS;
        return;
    }
    st->job = job;
    if (log->flusher) {
        st_flusher_run_background(log->flusher, &job->bg);
    } else {
        st_cleaner_work(job); /* no helper threads (tests): run it here */
        pass_done(job);
    }
}

void st_cleaner_detach(st_log *log)
{
    struct st_cleaner_state *st = log->cleaner;
    if (!st)
        return;
    log->cleaner = NULL;
    st->log = NULL;
    if (st->job)
        __atomic_store_n(&st->job->cancelled, 1, __ATOMIC_RELEASE); /* pass_done frees st */
    else
        free(st);
}

void st_cleaner_truncated(st_log *log)
{
    struct st_cleaner_state *st = log->cleaner;
    if (!st)
        return;
    if (st->clean_upto > log->end_offset)
        st->clean_upto = log->end_offset; /* what is appended next is dirty */
    if (st->job)
        st->job->truncated = true;
}

/* ---- crash leftovers ---- */

typedef struct base_list {
    int64_t *v;
    int n, cap;
} base_list;

static int push_base(base_list *l, int64_t base)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        int64_t *p = realloc(l->v, (size_t)cap * sizeof *p);
        if (!p)
            return -1;
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = base;
    return 0;
}

/* "<20 digits>.<ext>" → base and ext. */
static bool parse_name(const char *name, int64_t *base, const char **ext)
{
    for (int i = 0; i < 20; i++)
        if (name[i] < '0' || name[i] > '9')
            return false;
    if (name[20] != '.')
        return false;
    *base = strtoll(name, NULL, 10);
    *ext = name + 21;
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* End of the offsets that dir/<base>.log.swap replaces: what its .range.swap says, and
 * at least the end of its last batch. */
static int swap_end(const char *dir, int64_t base, int64_t *end)
{
    char path[4096];
    uint8_t range[8];
    *end = base;
    st_segment_path(path, sizeof path, dir, base, "range.swap");
    int rfd = open(path, O_RDONLY | O_CLOEXEC);
    if (rfd >= 0) {
        if (pread(rfd, range, 8, 0) == 8)
            *end = (int64_t)st_be64(range);
        close(rfd);
    }
    st_segment_path(path, sizeof path, dir, base, "log.swap");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat stt;
    if (fd < 0 || fstat(fd, &stt) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    st_scan sc;
    st_batch_info b;
    int64_t at;
    st_scan_init(&sc, fd, 0, stt.st_size);
    while (st_scan_next(&sc, &b, &at) == ST_SCAN_BATCH)
        if (b.base_offset + b.last_offset_delta + 1 > *end)
            *end = b.base_offset + b.last_offset_delta + 1;
    close(fd);
    return 0;
}

int st_cleaner_recover(const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: cannot list: %s", dir, strerror(errno));
        return -1;
    }
    base_list swaps = {0}, olds = {0};
    bool changed = false;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        int64_t base;
        const char *ext;
        if (!parse_name(e->d_name, &base, &ext))
            continue;
        if (ends_with(ext, ".cleaned")) {
            st_warn("%s: deleting %s, left by a compaction pass that did not finish", dir,
                    e->d_name);
            unlinkat(dirfd(d), e->d_name, 0);
            changed = true;
        } else if (strcmp(ext, "log.swap") == 0) {
            rc = push_base(&swaps, base);
        } else if (strcmp(ext, "log") == 0) {
            rc = push_base(&olds, base);
        }
    }
    closedir(d);
    for (int i = 0; i < swaps.n && rc == 0; i++) {
        int64_t base = swaps.v[i], end;
        if (swap_end(dir, base, &end) < 0) {
            snprintf(err, errlen, "%s: cannot read the compacted segment %020" PRId64 ": %s", dir,
                     base, strerror(errno));
            rc = -1;
            break;
        }
        for (int k = 0; k < olds.n; k++) {
            if (olds.v[k] == base || (olds.v[k] > base && olds.v[k] < end)) {
                st_warn("%s: finishing an interrupted compaction: deleting segment %020" PRId64
                        ", replaced by the compacted %020" PRId64,
                        dir, olds.v[k], base);
                st_segment_unlink(dir, olds.v[k]);
            }
        }
        for (int x = 1; x < 4; x++) {
            char from[32];
            snprintf(from, sizeof from, "%s.swap", exts[x]);
            if (rename_ext(dir, base, from, exts[x]) < 0) {
                snprintf(err, errlen, "%s: cannot finish the compaction of segment %020" PRId64,
                         dir, base);
                rc = -1;
                break;
            }
        }
        unlink_ext(dir, base, "range.swap");
        changed = true;
    }
    /* index .swap files whose .log never got there belong to an uncommitted output */
    if (rc == 0 && (d = opendir(dir)) != NULL) {
        while ((e = readdir(d)) != NULL) {
            int64_t base;
            const char *ext;
            if (parse_name(e->d_name, &base, &ext) && ends_with(ext, ".swap")) {
                st_warn("%s: deleting %s, left by a compaction pass that did not finish", dir,
                        e->d_name);
                unlinkat(dirfd(d), e->d_name, 0);
                changed = true;
            }
        }
        closedir(d);
    }
    if (rc == 0 && changed && st_fsync_all(NULL, 0, dir) != ST_ERR_NONE) {
        snprintf(err, errlen, "%s: fsync of the directory failed: %s", dir, strerror(errno));
        rc = -1;
    }
    free(swaps.v);
    free(olds.v);
    return rc;
}
