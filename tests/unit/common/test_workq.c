/* Unit tests for common/workq.c: work runs on the pool's (nicer) threads and done on the
 * thread that runs the posts, the queue bound refuses (and counts) what does not fit, and
 * freeing the pool finishes every queued job and hands back every completion. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/workq.h"

/* A post function that queues completions for the test's thread, which runs them. */
#define MAX_POSTS 256
typedef struct posts {
    pthread_mutex_t lock;
    pthread_cond_t posted;
    void (*fn[MAX_POSTS])(void *);
    void *arg[MAX_POSTS];
    int n;
} posts;

static void post(void *ctx, void (*fn)(void *), void *arg)
{
    posts *p = ctx;
    pthread_mutex_lock(&p->lock);
    assert_true(p->n < MAX_POSTS);
    p->fn[p->n] = fn;
    p->arg[p->n++] = arg;
    pthread_cond_broadcast(&p->posted);
    pthread_mutex_unlock(&p->lock);
}

/* Runs what was posted; waits (up to 10 s) until at least `want` completions ran. */
static int run_posts(posts *p, int want)
{
    int ran = 0;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (p->n == 0 && ran < want)
            if (pthread_cond_timedwait(&p->posted, &p->lock, &deadline) != 0)
                break;
        int n = p->n;
        void (*fn[MAX_POSTS])(void *);
        void *arg[MAX_POSTS];
        memcpy(fn, p->fn, sizeof fn);
        memcpy(arg, p->arg, sizeof arg);
        p->n = 0;
        pthread_mutex_unlock(&p->lock);
        for (int i = 0; i < n; i++)
            fn[i](arg[i]);
        ran += n;
        if (ran >= want || n == 0)
            return ran;
    }
}

typedef struct job {
    st_workq_job j;
    pthread_t worker_thread, done_thread;
    bool worked, done;
    int nice_seen; /* the worker thread's nice value */
    /* a job that blocks its worker until released */
    pthread_mutex_t *gate_lock;
    pthread_cond_t *gate;
    bool *gate_open;
} job;

static void work(void *arg)
{
    job *jb = arg;
    jb->worker_thread = pthread_self();
    jb->nice_seen = getpriority(PRIO_PROCESS, (id_t)gettid());
    if (jb->gate_lock) {
        pthread_mutex_lock(jb->gate_lock);
        while (!*jb->gate_open)
            pthread_cond_wait(jb->gate, jb->gate_lock);
        pthread_mutex_unlock(jb->gate_lock);
    }
    jb->worked = true;
}

static void done(void *arg)
{
    job *jb = arg;
    jb->done_thread = pthread_self();
    jb->done = true;
}

static void init_job(job *jb)
{
    memset(jb, 0, sizeof *jb);
    jb->j = (st_workq_job){.work = work, .done = done, .arg = jb};
}

static posts *new_posts(void)
{
    posts *p = calloc(1, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->posted, NULL);
    return p;
}

static void test_work_off_thread_done_on_owner(void **state)
{
    posts *p = new_posts();
    char err[256];
    st_workq_config cfg = {.threads = 3, .max_queued = 64, .name = "test-work", .nice = 5};
    st_workq *q = st_workq_new(&cfg, post, p, err, sizeof err);
    assert_non_null(q);
    int own_nice = getpriority(PRIO_PROCESS, (id_t)gettid());
    job jobs[40];
    for (int i = 0; i < 40; i++) {
        init_job(&jobs[i]);
        assert_int_equal(st_workq_submit(q, &jobs[i].j), 0);
    }
    assert_int_equal(run_posts(p, 40), 40);
    for (int i = 0; i < 40; i++) {
        assert_true(jobs[i].worked);
        assert_true(jobs[i].done);
        assert_false(pthread_equal(jobs[i].worker_thread, pthread_self()));
        assert_true(pthread_equal(jobs[i].done_thread, pthread_self()));
        /* the workers are nicer than their creator; the creator is left alone */
        assert_int_equal(jobs[i].nice_seen, own_nice + 5 > 19 ? 19 : own_nice + 5);
    }
    assert_int_equal(getpriority(PRIO_PROCESS, (id_t)gettid()), own_nice);
    st_workq_stats st;
    st_workq_get_stats(q, &st);
    assert_int_equal(st.submitted, 40);
    assert_int_equal(st.completed, 40);
    assert_int_equal(st.refused, 0);
    assert_int_equal(st.queued, 0);
    st_workq_free(q);
    free(p);
}

static void test_bounded_queue_refuses(void **state)
{
    posts *p = new_posts();
    char err[256];
    pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t gate = PTHREAD_COND_INITIALIZER;
    bool gate_open = false;
    st_workq_config cfg = {.threads = 1, .max_queued = 4, .name = "test-work"};
    st_workq *q = st_workq_new(&cfg, post, p, err, sizeof err);
    assert_non_null(q);
    /* the one thread is held by the first job; wait until it has taken it */
    job blocker, queued[4], extra;
    init_job(&blocker);
    blocker.gate_lock = &gate_lock;
    blocker.gate = &gate;
    blocker.gate_open = &gate_open;
    assert_int_equal(st_workq_submit(q, &blocker.j), 0);
    st_workq_stats st;
    for (int spins = 0; spins < 10000; spins++) {
        st_workq_get_stats(q, &st);
        if (st.running == 1)
            break;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    assert_int_equal(st.running, 1);
    for (int i = 0; i < 4; i++) {
        init_job(&queued[i]);
        assert_int_equal(st_workq_submit(q, &queued[i].j), 0);
    }
    init_job(&extra);
    assert_int_equal(st_workq_submit(q, &extra.j), ST_WORKQ_BUSY);
    st_workq_get_stats(q, &st);
    assert_int_equal(st.queued, 4);
    assert_int_equal(st.refused, 1);

    pthread_mutex_lock(&gate_lock);
    gate_open = true;
    pthread_cond_broadcast(&gate);
    pthread_mutex_unlock(&gate_lock);
    assert_int_equal(run_posts(p, 5), 5);
    assert_false(extra.worked);
    /* room again */
    assert_int_equal(st_workq_submit(q, &extra.j), 0);
    assert_int_equal(run_posts(p, 1), 1);
    assert_true(extra.done);
    st_workq_free(q);
    free(p);
}

/* Freeing the pool runs what was queued and posts every completion: the owner frees its
 * requesters' state in done, so none may be lost. */
static void test_free_drains(void **state)
{
    posts *p = new_posts();
    char err[256];
    st_workq_config cfg = {.threads = 2, .max_queued = 100, .name = "test-work"};
    st_workq *q = st_workq_new(&cfg, post, p, err, sizeof err);
    assert_non_null(q);
    job jobs[100];
    for (int i = 0; i < 100; i++) {
        init_job(&jobs[i]);
        assert_int_equal(st_workq_submit(q, &jobs[i].j), 0);
    }
    st_workq_free(q);
    for (int i = 0; i < 100; i++)
        assert_true(jobs[i].worked);
    assert_int_equal(run_posts(p, 100), 100);
    for (int i = 0; i < 100; i++)
        assert_true(jobs[i].done);
    free(p);
}

static void test_bad_config(void **state)
{
    char err[256];
    st_workq_config cfg = {.threads = 0, .max_queued = 4};
    assert_null(st_workq_new(&cfg, post, NULL, err, sizeof err));
    assert_non_null(strstr(err, "threads"));
    cfg = (st_workq_config){.threads = 2, .max_queued = 0};
    assert_null(st_workq_new(&cfg, post, NULL, err, sizeof err));
    st_workq_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_work_off_thread_done_on_owner),
        cmocka_unit_test(test_bounded_queue_refuses),
        cmocka_unit_test(test_free_drains),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
