/*
 * The flusher: one helper thread that fsyncs segment files so the event loop never
 * blocks on the disk.
 *
 * Group commit: the thread takes every queued request at once, fsyncs each distinct
 * file of the lot once, then completes them all. Requests that arrive while an fsync
 * runs wait for the next round and share it, so N producers waiting on the same
 * partition cost one fsync per round, not N. Completions go back to the loop thread
 * through the st_post_fn given at creation.
 *
 *   loop thread                     flusher thread
 *   st_flusher_submit ──queue──▶    take all ─▶ fsync distinct files ─▶ post(done, req)
 *   done(req) ◀──────────post─────────────────────────────────────────────┘
 *
 * A second thread, started on first use, runs long background jobs (compaction passes,
 * cleaner_int.h) one at a time, so a pass never delays an fsync a producer waits for.
 * A third starts the kernel's writeback of filled segment ranges early and holds
 * producers back when the disk falls behind (writeback.c): it never waits behind an
 * fsync, nor an fsync behind it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/cleaner_int.h"
#include "broker/log/log_int.h"
#include "common/errors.h"
#include "common/logging.h"

struct st_flusher {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    st_flush_req *head, *tail; /* guarded by lock */
    bool stopping;             /* guarded by lock */
    st_post_fn *post;
    void *post_ctx;
    /* the background thread, guarded by lock too */
    pthread_t bg_thread;
    bool bg_started;
    pthread_cond_t bg_wake;
    st_bg_job *bg_head, *bg_tail;
    st_ratelog meta_lines; /* loop thread only: see st_flusher_meta_lines */
    st_writeback *writeback;
};

static int fsync_dir(const char *dir_path)
{
    int fd = open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1; /* a removed partition has nothing to keep */
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int st_fsync_all(st_fileref **files, int n, const char *dir_path)
{
    int rc = ST_ERR_NONE;
    for (int i = 0; i < n; i++) {
        if (files[i] && fsync(files[i]->fd) < 0) {
            st_error("fsync of a segment file (fd %d) failed: %s", files[i]->fd, strerror(errno));
            rc = ST_ERR_KAFKA_STORAGE_ERROR;
        }
    }
    if (dir_path && fsync_dir(dir_path) < 0) {
        st_error("%s: fsync of the directory failed: %s", dir_path, strerror(errno));
        rc = ST_ERR_KAFKA_STORAGE_ERROR;
    }
    return rc;
}

/* One round: fsync every distinct file and directory of the batch of requests once,
 * and give each request the errors of its own files. */
static void flush_round(st_flush_req *batch)
{
    /* distinct files of the round and their results; a round holds a handful */
    st_fileref *done_files[64];
    int done_err[64], ndone = 0;
    for (st_flush_req *r = batch; r; r = r->next) {
        for (int i = 0; i < r->nfiles; i++) {
            int k = 0;
            while (k < ndone && done_files[k] != r->files[i])
                k++;
            int err = k < ndone ? done_err[k] : st_fsync_all(&r->files[i], 1, NULL);
            if (k == ndone && ndone < 64) {
                done_files[ndone] = r->files[i];
                done_err[ndone++] = err;
            }
            if (err)
                r->err = err;
        }
        if (r->dir_path) {
            bool seen = false;
            for (st_flush_req *q = batch; q != r && !seen; q = q->next)
                seen = q->dir_path && strcmp(q->dir_path, r->dir_path) == 0;
            if (!seen && st_fsync_all(NULL, 0, r->dir_path) != 0)
                r->err = ST_ERR_KAFKA_STORAGE_ERROR;
        }
    }
}

static void *flusher_main(void *arg)
{
    st_flusher *f = arg;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        while (!f->head && !f->stopping)
            pthread_cond_wait(&f->wake, &f->lock);
        if (!f->head)
            break; /* stopping and drained */
        st_flush_req *batch = f->head;
        f->head = f->tail = NULL;
        pthread_mutex_unlock(&f->lock);

        flush_round(batch);
        while (batch) {
            st_flush_req *r = batch;
            batch = r->next;
            for (int i = 0; i < r->nfiles; i++)
                st_fileref_unref(r->files[i]);
            free(r->files);
            r->files = NULL;
            r->nfiles = 0;
            free(r->dir_path);
            r->dir_path = NULL;
            r->next = NULL;
            f->post(f->post_ctx, r->done, r);
        }
        pthread_mutex_lock(&f->lock);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

static void *background_main(void *arg)
{
    st_flusher *f = arg;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        while (!f->bg_head && !f->stopping)
            pthread_cond_wait(&f->bg_wake, &f->lock);
        st_bg_job *job = f->bg_head;
        if (!job)
            break; /* stopping and drained */
        f->bg_head = job->next;
        if (!f->bg_head)
            f->bg_tail = NULL;
        pthread_mutex_unlock(&f->lock);
        job->next = NULL;
        job->work(job->arg);
        f->post(f->post_ctx, job->done, job->arg);
        pthread_mutex_lock(&f->lock);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

void st_flusher_run_background(st_flusher *f, st_bg_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&f->lock);
    if (!f->bg_started) {
        int rc = pthread_create(&f->bg_thread, NULL, background_main, f);
        if (rc != 0) {
            /* no thread: run it here rather than never (slower, still correct) */
            pthread_mutex_unlock(&f->lock);
            st_error("cannot start the background thread: %s; running the job inline",
                     strerror(rc));
            job->work(job->arg);
            job->done(job->arg);
            return;
        }
        f->bg_started = true;
    }
    if (f->bg_tail)
        f->bg_tail->next = job;
    else
        f->bg_head = job;
    f->bg_tail = job;
    pthread_cond_signal(&f->bg_wake);
    pthread_mutex_unlock(&f->lock);
}

st_flusher *st_flusher_new(st_post_fn *post, void *post_ctx, char *err, size_t errlen)
{
    st_flusher *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "flusher: out of memory");
        return NULL;
    }
    if (!(f->writeback = st_writeback_new(post, post_ctx, err, errlen))) {
        free(f);
        return NULL;
    }
    f->post = post;
    f->post_ctx = post_ctx;
    f->meta_lines = (st_ratelog)ST_RATELOG_INIT(ST_STORAGE_LINE_INTERVAL_MS);
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->wake, NULL);
    pthread_cond_init(&f->bg_wake, NULL);
    int rc = pthread_create(&f->thread, NULL, flusher_main, f);
    if (rc != 0) {
        snprintf(err, errlen, "flusher: cannot start its thread: %s", strerror(rc));
        st_writeback_free(f->writeback);
        pthread_cond_destroy(&f->wake);
        pthread_cond_destroy(&f->bg_wake);
        pthread_mutex_destroy(&f->lock);
        free(f);
        return NULL;
    }
    return f;
}

void st_flusher_submit(st_flusher *f, st_flush_req *req)
{
    req->next = NULL;
    req->err = 0;
    pthread_mutex_lock(&f->lock);
    if (f->tail)
        f->tail->next = req;
    else
        f->head = req;
    f->tail = req;
    pthread_cond_signal(&f->wake);
    pthread_mutex_unlock(&f->lock);
}

st_writeback *st_flusher_writeback(st_flusher *f)
{
    return f->writeback;
}

void st_flusher_writeback_stats(st_flusher *f, st_writeback_stats *out)
{
    st_writeback_get_stats(f->writeback, out);
}

void st_flusher_set_writeback(st_flusher *f, int64_t limit_bytes, int64_t max_wait_ms,
                              int64_t sample_ms)
{
    st_writeback_configure(f->writeback, limit_bytes, max_wait_ms, sample_ms);
}

st_ratelog *st_flusher_meta_lines(st_flusher *f)
{
    return &f->meta_lines;
}

void st_flusher_free(st_flusher *f)
{
    if (!f)
        return;
    uint64_t held = st_ratelog_take(&f->meta_lines);
    if (held)
        st_warn("%" PRIu64 " more storage errors (index, checkpoint or snapshot writes, or "
                "partitions closed while refusing writes) were not logged one by one",
                held);
    pthread_mutex_lock(&f->lock);
    f->stopping = true;
    pthread_cond_signal(&f->wake);
    pthread_cond_signal(&f->bg_wake);
    bool bg = f->bg_started;
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->thread, NULL);
    st_writeback_free(f->writeback); /* after the fsyncs: it answers its waiters */
    if (bg)
        pthread_join(f->bg_thread, NULL); /* after the logs detached, jobs end quickly */
    pthread_cond_destroy(&f->wake);
    pthread_cond_destroy(&f->bg_wake);
    pthread_mutex_destroy(&f->lock);
    free(f);
}
