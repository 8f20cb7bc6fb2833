/* Unit tests for early writeback and the disk back-pressure (broker/log/writeback.c):
 * filled ranges of the active segment are handed to the writeback thread in whole
 * chunks, an append past the limit says disk_behind, and st_log_await_writeback holds
 * its callback until the disk caught up or the longest wait passed — never inline, always
 * on the loop (the test's) thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker/log/batch.h"
#include "broker/log/log.h"
#include "broker/log/log_int.h"
#include "common/clock.h"
#include "common/errors.h"
#include "tests/unit/log/build_batch.h"
#include "tests/unit/log/fixture.h"

#define NOW 1700000000000LL

typedef struct awaited {
    int calls;
    int err;
    int64_t at_ms;
    pthread_t thread;
} awaited;

static void on_awaited(void *arg, int err)
{
    awaited *a = arg;
    a->calls++;
    a->err = err;
    a->at_ms = st_mono_ms();
    a->thread = pthread_self();
}

typedef struct env {
    post_queue q;
    st_flusher *flusher;
    st_log *log;
} env;

static void env_open(fixture *f, env *e)
{
    char err[200] = "";
    e->q = (post_queue){.lock = PTHREAD_MUTEX_INITIALIZER};
    e->flusher = st_flusher_new(test_post, &e->q, err, sizeof err);
    if (!e->flusher)
        fail_msg("st_flusher_new: %s", err);
    st_log_config c;
    st_log_config_defaults(&c);
    e->log = st_log_open(f->dir, &c, true, e->flusher, err, sizeof err);
    if (!e->log)
        fail_msg("st_log_open: %s", err);
}

static void env_close(env *e)
{
    st_log_close(e->log, false);
    st_flusher_free(e->flusher);
    run_posted(&e->q);
}

/* Appends `batches` batches of 16 records of 1000 bytes (about 16 KiB each). */
static st_append_result append_some(st_log *log, int batches)
{
    static uint8_t b[32768];
    st_append_result res = {0};
    for (int i = 0; i < batches; i++) {
        size_t size = build_batch(b, sizeof b, 16, NOW, 1000);
        int rc = st_log_append(log, b, size, NOW, &res);
        if (rc != ST_ERR_NONE)
            fail_msg("append: %s: %s", st_err_name(rc), res.why);
    }
    return res;
}

/* Runs posted completions until a->calls is 1, for at most ms. */
static void wait_awaited(post_queue *q, awaited *a, int64_t ms)
{
    int64_t until = st_mono_ms() + ms;
    while (a->calls == 0 && st_mono_ms() < until) {
        if (run_posted(q) == 0)
            usleep(1000);
    }
    assert_int_equal(a->calls, 1);
}

static void test_filled_chunks_start_writeback(void **state)
{
    env e;
    env_open(*state, &e);
    st_flusher_set_writeback(e.flusher, -1, -1, 0); /* never behind: only the ranges */
    /* under a chunk (and the 64 KiB being filled): nothing is handed over */
    append_some(e.log, 32);
    usleep(20000);
    st_writeback_stats st;
    st_flusher_writeback_stats(e.flusher, &st);
    assert_int_equal(st.started_bytes, 0);
    /* past 1 MiB + 64 KiB: whole 64 KiB units up to the last one, none beyond */
    append_some(e.log, 64); /* about 1.5 MiB in all */
    int64_t size = st_log_size_bytes(e.log);
    for (int i = 0; i < 5000 && st.started_bytes == 0; i++) {
        usleep(1000);
        st_flusher_writeback_stats(e.flusher, &st);
    }
    assert_true(st.started_bytes >= (uint64_t)ST_WRITEBACK_CHUNK);
    assert_int_equal(st.started_bytes % 65536, 0);
    assert_true((int64_t)st.started_bytes <= size);
    assert_true((int64_t)st.started_bytes > size - ST_WRITEBACK_CHUNK - 2 * 65536);
    assert_int_equal(st.waits, 0);
    env_close(&e);
}

static void test_behind_holds_until_the_longest_wait(void **state)
{
    env e;
    env_open(*state, &e);
    /* a limit of one byte, and no new sample for a minute: every append is behind */
    st_flusher_set_writeback(e.flusher, 1, 150, 60000);
    st_append_result res = append_some(e.log, 1);
    assert_true(res.disk_behind);
    awaited a = {0};
    int64_t t0 = st_mono_ms();
    st_log_await_writeback(e.log, on_awaited, &a);
    assert_int_equal(a.calls, 0); /* never inline */
    usleep(50000);
    run_posted(&e.q);
    assert_int_equal(a.calls, 0); /* still held at 50 ms */
    wait_awaited(&e.q, &a, 5000);
    assert_int_equal(a.err, 0);
    assert_true(pthread_equal(a.thread, pthread_self()));
    assert_true(a.at_ms - t0 >= 150);
    st_writeback_stats st;
    st_flusher_writeback_stats(e.flusher, &st);
    assert_int_equal(st.waits, 1);
    assert_int_equal(st.waits_expired, 1);
    assert_true(st.behind);
    env_close(&e);
}

static void test_released_when_the_disk_catches_up(void **state)
{
    env e;
    env_open(*state, &e);
    st_flusher_set_writeback(e.flusher, 1, 10000, 60000);
    assert_true(append_some(e.log, 1).disk_behind);
    awaited a = {0};
    int64_t t0 = st_mono_ms();
    st_log_await_writeback(e.log, on_awaited, &a);
    usleep(30000);
    run_posted(&e.q);
    assert_int_equal(a.calls, 0);
    /* the limit rises far above anything dirty: the waiter goes long before its 10 s */
    st_flusher_set_writeback(e.flusher, (int64_t)1 << 60, -1, 60000);
    wait_awaited(&e.q, &a, 5000);
    assert_true(a.at_ms - t0 < 5000);
    st_writeback_stats st;
    st_flusher_writeback_stats(e.flusher, &st);
    assert_int_equal(st.waits_expired, 0);
    assert_false(st.behind);
    assert_false(append_some(e.log, 1).disk_behind);
    env_close(&e);
}

static void test_free_answers_waiters(void **state)
{
    env e;
    env_open(*state, &e);
    st_flusher_set_writeback(e.flusher, 1, 60000, 60000);
    assert_true(append_some(e.log, 1).disk_behind);
    awaited a = {0};
    st_log_await_writeback(e.log, on_awaited, &a);
    int64_t t0 = st_mono_ms();
    st_log_close(e.log, false);
    st_flusher_free(e.flusher); /* shutting down answers what waits, at once */
    assert_true(st_mono_ms() - t0 < 5000);
    run_posted(&e.q);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.err, 0);
}

static void test_without_flusher(void **state)
{
    fixture *f = *state;
    char err[200] = "";
    st_log_config c;
    st_log_config_defaults(&c);
    st_log *log = st_log_open(f->dir, &c, true, NULL, err, sizeof err);
    assert_non_null(log);
    assert_false(append_some(log, 80).disk_behind);
    awaited a = {0};
    st_log_await_writeback(log, on_awaited, &a);
    assert_int_equal(a.calls, 1); /* nothing to wait for */
    st_log_close(log, false);
}

static void test_freerun_point(void **state)
{
    (void)state;
    /* The kernel's point from /proc: positive, and below all of memory. */
    int64_t freerun = st_writeback_freerun_bytes();
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    assert_true(freerun > 0);
    assert_true(freerun < (int64_t)pages * page);
    /* The default limit is 7/8 of it (give or take what moved in between). */
    post_queue q = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char err[200];
    st_flusher *fl = st_flusher_new(test_post, &q, err, sizeof err);
    assert_non_null(fl);
    st_writeback_stats st;
    st_flusher_writeback_stats(fl, &st);
    assert_true(st.limit_bytes > freerun / 2);
    assert_true(st.limit_bytes < freerun + freerun / 2);
    st_flusher_free(fl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_filled_chunks_start_writeback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_behind_holds_until_the_longest_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_released_when_the_disk_catches_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_answers_waiters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_without_flusher, setup, teardown),
        cmocka_unit_test(test_freerun_point),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
