/*
 * A small bounded thread pool (see jobs.h): one mutex, one condition for workers, a
 * FIFO of queued jobs and a list of finished ones.
 */
#include "admin-ui/jobs.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 8

struct st_jobs {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    st_job *head, *tail; /* queued */
    st_job *finished;    /* LIFO; order does not matter to done() */
    size_t queued, max_queued;
    bool stopping;
    void (*wake)(void *);
    void *wake_ctx;
    pthread_t threads[MAX_THREADS];
    int nthreads;
};

static void *worker(void *arg)
{
    st_jobs *j = arg;
    pthread_mutex_lock(&j->lock);
    for (;;) {
        while (!j->head && !j->stopping)
            pthread_cond_wait(&j->cond, &j->lock);
        if (!j->head)
            break; /* stopping and nothing left */
        st_job *job = j->head;
        j->head = job->next;
        if (!j->head)
            j->tail = NULL;
        j->queued--;
        pthread_mutex_unlock(&j->lock);
        job->run(job);
        pthread_mutex_lock(&j->lock);
        job->next = j->finished;
        j->finished = job;
        pthread_mutex_unlock(&j->lock);
        j->wake(j->wake_ctx);
        pthread_mutex_lock(&j->lock);
    }
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

st_jobs *st_jobs_new(int nthreads, size_t max_queued, void (*wake)(void *), void *wake_ctx,
                     char *err, size_t errlen)
{
    st_jobs *j = calloc(1, sizeof *j);
    if (!j) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->cond, NULL);
    j->max_queued = max_queued;
    j->wake = wake;
    j->wake_ctx = wake_ctx;
    if (nthreads > MAX_THREADS)
        nthreads = MAX_THREADS;
    for (; j->nthreads < nthreads; j->nthreads++) {
        int rc = pthread_create(&j->threads[j->nthreads], NULL, worker, j);
        if (rc) {
            snprintf(err, errlen, "cannot start a worker thread: %s", strerror(rc));
            st_jobs_free(j, NULL);
            return NULL;
        }
    }
    return j;
}

int st_jobs_submit(st_jobs *j, st_job *job)
{
    int rc = -1;
    pthread_mutex_lock(&j->lock);
    if (!j->stopping && j->queued < j->max_queued) {
        job->next = NULL;
        if (j->tail)
            j->tail->next = job;
        else
            j->head = job;
        j->tail = job;
        j->queued++;
        pthread_cond_signal(&j->cond);
        rc = 0;
    }
    pthread_mutex_unlock(&j->lock);
    return rc;
}

void st_jobs_drain(st_jobs *j, void *ctx)
{
    pthread_mutex_lock(&j->lock);
    st_job *list = j->finished;
    j->finished = NULL;
    pthread_mutex_unlock(&j->lock);
    while (list) {
        st_job *next = list->next;
        list->done(list, ctx);
        list = next;
    }
}

void st_jobs_free(st_jobs *j, void *ctx)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->lock);
    j->stopping = true;
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
    for (int i = 0; i < j->nthreads; i++)
        pthread_join(j->threads[i], NULL);
    st_jobs_drain(j, ctx);
    pthread_cond_destroy(&j->cond);
    pthread_mutex_destroy(&j->lock);
    free(j);
}
