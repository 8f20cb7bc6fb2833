/*
 * The per-partition checkpoint file, "partition.checkpoint" in the partition's
 * directory. Text, one "key value" per line, so an operator can read it:
 *
 *   strait-partition-checkpoint 1
 *   start_offset 1200
 *   recovery_point 5000
 *   high_watermark 5000
 *   end_offset 5000
 *   active_base 4096
 *   active_size 81234
 *
 * Written atomically (tmp, fsync, rename, fsync of the directory) so a crash leaves
 * either the old or the new file, never half of one. While the broker runs that happens
 * on the flusher's background thread (st_log_checkpoint_soon); only the last one, at
 * close, is written on the calling thread.
 *
 *   loop: values copied ──job──▶ background: lock, write unless closed, unlock
 *   loop: saved = values, or a storage failure ◀──post──┘   (again? next job)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/cleaner_int.h" /* st_flusher_run_background */
#include "broker/log/log_int.h"
#include "common/fileio.h"

#define HEADER "strait-partition-checkpoint 1"

static const char *const keys[] = {"start_offset", "end_offset",  "recovery_point",
                                   "active_base",  "active_size", "high_watermark"};

static int64_t *field(st_checkpoint *c, int i)
{
    int64_t *fields[] = {&c->start_offset, &c->end_offset,  &c->recovery_point,
                         &c->active_base,  &c->active_size, &c->high_watermark};
    return fields[i];
}

int st_checkpoint_read(const char *dir, st_checkpoint *out, char *why, size_t whylen)
{
    char path[4096], text[1024];
    snprintf(path, sizeof path, "%s/%s", dir, ST_CHECKPOINT_NAME);
    size_t n;
    int rc = st_file_read_small(path, text, sizeof text, &n, why, whylen);
    if (rc != 0)
        return rc; /* 1: no checkpoint yet */
    if (strncmp(text, HEADER "\n", sizeof HEADER) != 0) {
        snprintf(why, whylen, "%s does not start with \"%s\"", path, HEADER);
        return -1;
    }
    st_checkpoint c;
    unsigned seen = 0;
    char *save = NULL;
    for (char *line = strtok_r(text + sizeof HEADER, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char key[32];
        int64_t value;
        if (sscanf(line, "%31s %" SCNd64, key, &value) != 2)
            continue;
        for (int i = 0; i < 6; i++) {
            if (strcmp(key, keys[i]) == 0) {
                *field(&c, i) = value;
                seen |= 1u << i;
            }
        }
    }
    if (seen != 0x3f || c.start_offset < 0 || c.end_offset < c.start_offset) {
        snprintf(why, whylen, "%s is incomplete or inconsistent", path);
        return -1;
    }
    *out = c;
    return 0;
}

int st_checkpoint_write(const char *dir, const st_checkpoint *c)
{
    char text[1024], err[300];
    st_checkpoint copy = *c;
    int len = snprintf(text, sizeof text, HEADER "\n");
    for (int i = 0; i < 6; i++)
        len += snprintf(text + len, sizeof text - (size_t)len, "%s %" PRId64 "\n", keys[i],
                        *field(&copy, i));
    return st_file_write_atomic(dir, ST_CHECKPOINT_NAME, text, (size_t)len, true, err, sizeof err);
}

static st_checkpoint current(const st_log *log)
{
    return (st_checkpoint){
        .start_offset = log->start_offset,
        .recovery_point = log->recovery_point,
        .high_watermark = log->end_offset,
        .end_offset = log->end_offset,
        .active_base = st_log_active(log)->base,
        .active_size = st_log_active(log)->size,
    };
}

/* An idle partition's checkpoint must not cost an fsync: 10,000 of them would, and
 * 100,000 partitions never written would cost three each at close. */
static bool unchanged(const st_log *log, const st_checkpoint *c)
{
    if (!log->saved_valid)
        return st_log_holds_nothing(log); /* the empty directory says as much */
    return memcmp(c, &log->saved, sizeof *c) == 0;
}

static void saved(st_log *log, const st_checkpoint *c, int err)
{
    if (err) {
        st_log_storage_failed(log, false, err, "writing %s", ST_CHECKPOINT_NAME);
        return;
    }
    log->saved = *c;
    log->saved_valid = true;
}

void st_log_write_checkpoint(st_log *log, bool final)
{
    st_checkpoint c = current(log);
    struct st_log_flush_state *fs = log->flush_state;
    pthread_mutex_lock(&fs->checkpoint_lock);
    if (final)
        fs->closed = true;
    int err = 0;
    if (!unchanged(log, &c) && st_checkpoint_write(log->dir, &c) < 0)
        err = errno ? errno : EIO;
    pthread_mutex_unlock(&fs->checkpoint_lock);
    saved(log, &c, err);
}

void st_log_checkpoint_stop(st_log *log)
{
    struct st_log_flush_state *fs = log->flush_state;
    pthread_mutex_lock(&fs->checkpoint_lock);
    fs->closed = true;
    pthread_mutex_unlock(&fs->checkpoint_lock);
}

typedef struct checkpoint_job {
    st_bg_job bg;
    struct st_log_flush_state *state; /* a reference: the log may close before done */
    st_checkpoint c;
    int err;
    char dir[]; /* a copy: the log's may be freed meanwhile */
} checkpoint_job;

static void checkpoint_work(void *arg)
{
    checkpoint_job *job = arg;
    pthread_mutex_lock(&job->state->checkpoint_lock);
    if (!job->state->closed && st_checkpoint_write(job->dir, &job->c) < 0)
        job->err = errno ? errno : EIO;
    pthread_mutex_unlock(&job->state->checkpoint_lock);
}

static void checkpoint_done(void *arg)
{
    checkpoint_job *job = arg;
    st_log *log = job->state->log;
    if (log) {
        log->checkpoint_running = false;
        saved(log, &job->c, job->err);
        if (log->checkpoint_again) {
            log->checkpoint_again = false;
            st_log_checkpoint_soon(log);
        }
    }
    st_log_state_unref(job->state);
    free(job);
}

void st_log_checkpoint_soon(st_log *log)
{
    if (!log->flusher) { /* tests and tools: no background thread */
        st_log_write_checkpoint(log, false);
        return;
    }
    if (log->checkpoint_running) {
        log->checkpoint_again = true;
        return;
    }
    st_checkpoint c = current(log);
    if (unchanged(log, &c))
        return;
    size_t dirlen = strlen(log->dir);
    checkpoint_job *job = calloc(1, sizeof *job + dirlen + 1);
    if (!job) { /* out of memory: write it here rather than not at all */
        st_log_write_checkpoint(log, false);
        return;
    }
    memcpy(job->dir, log->dir, dirlen + 1);
    job->c = c;
    job->state = log->flush_state;
    job->state->refs++;
    job->bg = (st_bg_job){.work = checkpoint_work, .done = checkpoint_done, .arg = job};
    log->checkpoint_running = true;
    st_flusher_run_background(log->flusher, &job->bg);
}

void st_log_state_unref(struct st_log_flush_state *fs)
{
    if (--fs->refs > 0)
        return;
    pthread_mutex_destroy(&fs->checkpoint_lock);
    free(fs);
}
