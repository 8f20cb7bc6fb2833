/*
 * The worker pool: one mutex, one condition variable, a FIFO of intrusive jobs and N
 * threads that take one job at a time. See workq.h for the contract.
 */
#include "common/workq.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

struct st_workq {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    st_workq_job *head, *tail; /* guarded by lock */
    bool stopping;             /* guarded by lock */
    st_workq_stats stats;      /* guarded by lock */
    size_t max_queued;
    int nice;
    st_workq_post_fn *post;
    void *post_ctx;
    int nthreads; /* started */
    pthread_t threads[ST_WORKQ_MAX_THREADS];
};

static void *worker_main(void *arg)
{
    st_workq *q = arg;
    /* Linux keeps a nice value per thread: this lowers only the worker's own. Raising
     * nice needs no privilege; if it fails anyway the pool still works, only less
     * politely. */
    if (q->nice > 0)
        setpriority(PRIO_PROCESS, (id_t)gettid(),
                    getpriority(PRIO_PROCESS, (id_t)gettid()) + q->nice);
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (!q->head && !q->stopping)
            pthread_cond_wait(&q->wake, &q->lock);
        st_workq_job *job = q->head;
        if (!job)
            break; /* stopping and drained */
        q->head = job->next;
        if (!q->head)
            q->tail = NULL;
        q->stats.queued--;
        q->stats.running++;
        pthread_mutex_unlock(&q->lock);

        job->next = NULL;
        job->work(job->arg);
        /* After this post the job belongs to the loop again: do not touch it. */
        void (*done)(void *) = job->done;
        void *done_arg = job->arg;

        pthread_mutex_lock(&q->lock);
        q->stats.running--;
        q->stats.completed++;
        pthread_mutex_unlock(&q->lock);
        q->post(q->post_ctx, done, done_arg);
        pthread_mutex_lock(&q->lock);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

st_workq *st_workq_new(const st_workq_config *cfg, st_workq_post_fn *post, void *post_ctx,
                       char *err, size_t errlen)
{
    if (cfg->threads < 1 || cfg->threads > ST_WORKQ_MAX_THREADS || cfg->max_queued < 1 ||
        cfg->nice < 0 || cfg->nice > 19) {
        snprintf(err, errlen,
                 "worker pool: %d threads, a queue of %zu, nice %d: need 1..%d threads, a queue "
                 "of at least 1 and nice 0..19",
                 cfg->threads, cfg->max_queued, cfg->nice, ST_WORKQ_MAX_THREADS);
        return NULL;
    }
    st_workq *q = calloc(1, sizeof *q);
    if (!q) {
        snprintf(err, errlen, "worker pool: out of memory");
        return NULL;
    }
    q->max_queued = cfg->max_queued;
    q->nice = cfg->nice;
    q->post = post;
    q->post_ctx = post_ctx;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->wake, NULL);
    for (int i = 0; i < cfg->threads; i++) {
        int rc = pthread_create(&q->threads[i], NULL, worker_main, q);
        if (rc != 0) {
            snprintf(err, errlen, "worker pool: cannot start thread %d of %d: %s", i + 1,
                     cfg->threads, strerror(rc));
            st_workq_free(q);
            return NULL;
        }
        q->nthreads++;
        if (cfg->name)
            pthread_setname_np(q->threads[i], cfg->name); /* cosmetic: failure is harmless */
    }
    return q;
}

int st_workq_submit(st_workq *q, st_workq_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&q->lock);
    if (q->stopping || q->stats.queued >= q->max_queued) {
        q->stats.refused++;
        pthread_mutex_unlock(&q->lock);
        return ST_WORKQ_BUSY;
    }
    if (q->tail)
        q->tail->next = job;
    else
        q->head = job;
    q->tail = job;
    q->stats.queued++;
    q->stats.submitted++;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

void st_workq_get_stats(st_workq *q, st_workq_stats *out)
{
    pthread_mutex_lock(&q->lock);
    *out = q->stats;
    pthread_mutex_unlock(&q->lock);
}

void st_workq_free(st_workq *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    q->stopping = true;
    pthread_cond_broadcast(&q->wake);
    pthread_mutex_unlock(&q->lock);
    for (int i = 0; i < q->nthreads; i++)
        pthread_join(q->threads[i], NULL);
    pthread_cond_destroy(&q->wake);
    pthread_mutex_destroy(&q->lock);
    free(q);
}
