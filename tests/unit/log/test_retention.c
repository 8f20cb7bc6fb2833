/* Unit tests for broker/log/retention.c: a deleted segment's files wait
 * file.delete.delay.ms as *.deleted, then are unlinked off the event loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glob.h>
#include <sys/stat.h>

#include "broker/log/cleaner_int.h"
#include "broker/log/log.h"
#include "broker/log/log_int.h"
#include "common/clock.h"
#include "common/errors.h"
#include "tests/unit/log/build_batch.h"
#include "tests/unit/log/fixture.h"

#define NOW 1700000000000LL

/* How many *.deleted files the partition directory holds. */
static size_t deleted_files(const fixture *f)
{
    char pattern[200];
    glob_t g;
    snprintf(pattern, sizeof pattern, "%s/*" ST_DELETED_SUFFIX, f->dir);
    if (glob(pattern, 0, NULL, &g) != 0)
        return 0;
    size_t n = g.gl_pathc;
    globfree(&g);
    return n;
}

/* A background job that holds the flusher's background thread until released. */
typedef struct gate {
    st_bg_job bg;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool entered, open;
} gate;

static void gate_work(void *arg)
{
    gate *g = arg;
    pthread_mutex_lock(&g->lock);
    g->entered = true;
    pthread_cond_broadcast(&g->cond);
    while (!g->open)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

static void gate_done(void *arg) {}

/* The purge hands the unlinks to the background thread: with that thread held by
 * another job, the files are all still there when the tick returns (they were unlinked
 * on the loop thread before), and go once it is free. */
static void test_purge_off_the_loop(void **state)
{
    fixture *f = *state;
    post_queue q = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char err[200];
    st_flusher *flusher = st_flusher_new(test_post, &q, err, sizeof err);
    assert_non_null(flusher);
    st_log_config c;
    st_log_config_defaults(&c);
    c.segment_bytes = 2048;
    c.retention_bytes = 2048;
    c.file_delete_delay_ms = 1000;
    st_log *log = st_log_open(f->dir, &c, true, flusher, err, sizeof err);
    assert_non_null(log);
    for (int i = 0; i < 20; i++) {
        uint8_t b[4096];
        st_append_result res;
        size_t size = build_batch(b, sizeof b, 2, NOW, 200);
        assert_int_equal(st_log_append(log, b, size, NOW, &res), ST_ERR_NONE);
    }
    int deleted = st_log_apply_retention(log, st_wall_ms());
    assert_true(deleted > 0);
    size_t waiting = deleted_files(f);
    assert_true(waiting >= (size_t)deleted); /* each .log at least */

    gate g = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    g.bg = (st_bg_job){.work = gate_work, .done = gate_done, .arg = &g};
    st_flusher_run_background(flusher, &g.bg);
    pthread_mutex_lock(&g.lock);
    while (!g.entered)
        pthread_cond_wait(&g.cond, &g.lock);
    pthread_mutex_unlock(&g.lock);

    st_log_tick(log, st_wall_ms()); /* not due yet */
    assert_int_equal(deleted_files(f), waiting);
    st_log_tick(log, st_wall_ms() + 2000); /* due: handed to the held thread */
    assert_int_equal(deleted_files(f), waiting);

    pthread_mutex_lock(&g.lock);
    g.open = true;
    pthread_cond_broadcast(&g.cond);
    pthread_mutex_unlock(&g.lock);
    for (int i = 0; i < 5000 && deleted_files(f) > 0; i++) {
        run_posted(&q);
        usleep(1000);
    }
    assert_int_equal(deleted_files(f), 0);
    st_log_close(log, true);
    st_flusher_free(flusher);
    run_posted(&q);
}

static void hold(gate *g, st_flusher *flusher)
{
    *g = (gate){.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    g->bg = (st_bg_job){.work = gate_work, .done = gate_done, .arg = g};
    st_flusher_run_background(flusher, &g->bg);
    pthread_mutex_lock(&g->lock);
    while (!g->entered)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

static void release(gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->open = true;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

/* The recovery point in the partition's checkpoint file, or -1 without one. */
static int64_t checkpointed(const fixture *f)
{
    st_checkpoint ck;
    char why[200];
    return st_checkpoint_read(f->dir, &ck, why, sizeof why) == 0 ? ck.recovery_point : -1;
}

static void append_some(st_log *log)
{
    uint8_t b[4096];
    st_append_result res;
    size_t size = build_batch(b, sizeof b, 2, NOW, 100);
    assert_int_equal(st_log_append(log, b, size, NOW, &res), ST_ERR_NONE);
    log->recovery_point = log->end_offset; /* as a finished flush leaves it */
}

/* The periodic checkpoint (fsync, rename, directory fsync) is written on the background
 * thread: with that thread held, the tick returns and the file is not there yet; once it
 * is free the write lands and its completion, on the loop, records it. A write still
 * queued when the log closes does not replace the final checkpoint with its older one. */
static void test_checkpoint_off_the_loop(void **state)
{
    fixture *f = *state;
    post_queue q = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char err[200];
    st_flusher *flusher = st_flusher_new(test_post, &q, err, sizeof err);
    assert_non_null(flusher);
    st_log_config c;
    st_log_config_defaults(&c);
    st_log *log = st_log_open(f->dir, &c, true, flusher, err, sizeof err);
    assert_non_null(log);
    append_some(log);
    int64_t first = log->end_offset;

    gate g;
    hold(&g, flusher);
    st_log_tick(log, NOW);
    st_log_tick(log, NOW + ST_LOG_CHECKPOINT_INTERVAL_MS); /* due: handed to the thread */
    assert_true(log->checkpoint_running);
    assert_int_equal(checkpointed(f), -1);
    release(&g);
    for (int i = 0; i < 5000 && log->checkpoint_running; i++) {
        run_posted(&q);
        usleep(1000);
    }
    assert_false(log->checkpoint_running);
    assert_int_equal(checkpointed(f), first);
    assert_true(log->saved_valid && log->saved.recovery_point == first);

    /* queued behind a held thread, then the log closes: the close's checkpoint stays */
    append_some(log);
    hold(&g, flusher);
    st_log_tick(log, NOW + 2 * ST_LOG_CHECKPOINT_INTERVAL_MS);
    assert_true(log->checkpoint_running);
    append_some(log);
    int64_t last = log->end_offset;
    st_log_close(log, true);
    assert_int_equal(checkpointed(f), last);
    release(&g);
    st_flusher_free(flusher); /* drains the queued write */
    run_posted(&q);
    assert_int_equal(checkpointed(f), last);
}

/* At close every waiting file goes at once, whatever its delay. */
static void test_purge_at_close(void **state)
{
    fixture *f = *state;
    char err[200];
    st_log_config c;
    st_log_config_defaults(&c);
    c.segment_bytes = 2048;
    c.retention_bytes = 2048;
    c.file_delete_delay_ms = 3600000;
    st_log *log = st_log_open(f->dir, &c, true, NULL, err, sizeof err);
    assert_non_null(log);
    for (int i = 0; i < 20; i++) {
        uint8_t b[4096];
        st_append_result res;
        size_t size = build_batch(b, sizeof b, 2, NOW, 200);
        assert_int_equal(st_log_append(log, b, size, NOW, &res), ST_ERR_NONE);
    }
    assert_true(st_log_apply_retention(log, st_wall_ms()) > 0);
    assert_true(deleted_files(f) > 0);
    st_log_tick(log, st_wall_ms());
    assert_true(deleted_files(f) > 0); /* an hour to go */
    st_log_close(log, true);
    assert_int_equal(deleted_files(f), 0);
}

/* Periodic checkpoints of partitions opened together are spread over the interval: of
 * 120 partitions with data to checkpoint, ticked once a second, every one is written
 * within one interval and no tick writes more than a handful (expected: 2). Before,
 * all 120 were written by the same tick, every interval. */
#define SPREAD_LOGS 120
static void test_checkpoints_spread(void **state)
{
    fixture *f = *state;
    char err[200];
    st_log_config c;
    st_log_config_defaults(&c);
    st_log **logs = calloc(SPREAD_LOGS, sizeof *logs);
    assert_non_null(logs);
    for (int i = 0; i < SPREAD_LOGS; i++) {
        char dir[200];
        snprintf(dir, sizeof dir, "%s/spread-%d", f->root, i);
        logs[i] = st_log_open(dir, &c, true, NULL, err, sizeof err);
        assert_non_null(logs[i]);
        uint8_t b[4096];
        st_append_result res;
        size_t size = build_batch(b, sizeof b, 2, NOW, 100);
        assert_int_equal(st_log_append(logs[i], b, size, NOW, &res), ST_ERR_NONE);
        logs[i]->recovery_point = logs[i]->end_offset; /* as a finished flush leaves it */
    }
    int written = 0, most_in_a_tick = 0;
    for (int64_t s = 0; s <= ST_LOG_CHECKPOINT_INTERVAL_MS / 1000; s++) {
        int before = written;
        for (int i = 0; i < SPREAD_LOGS; i++) {
            bool had = logs[i]->saved_valid && logs[i]->saved.recovery_point == 2;
            st_log_tick(logs[i], NOW + s * 1000);
            if (!had && logs[i]->saved_valid && logs[i]->saved.recovery_point == 2)
                written++;
        }
        if (written - before > most_in_a_tick)
            most_in_a_tick = written - before;
    }
    print_message("checkpoints: %d of %d written in one interval, at most %d in one tick\n",
                  written, SPREAD_LOGS, most_in_a_tick);
    assert_int_equal(written, SPREAD_LOGS);
    assert_true(most_in_a_tick <= 12);
    for (int i = 0; i < SPREAD_LOGS; i++)
        st_log_close(logs[i], true);
    free(logs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_purge_off_the_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge_at_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoints_spread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_off_the_loop, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
