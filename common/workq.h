/*
 * st_workq: a small pool of worker threads for work that must not run on an event loop
 * thread (it burns CPU or blocks), whose result the loop picks up afterwards.
 *
 *   loop thread                       worker thread (one of N)
 *   st_workq_submit(job) ──queue──▶   job->work(job->arg)
 *                                       └─ post(post_ctx, job->done, job->arg)
 *   job->done(job->arg) ◀──post──────────┘   (runs on the loop thread)
 *
 * The queue is bounded: st_workq_submit refuses (ST_WORKQ_BUSY) once max_queued jobs are
 * waiting for a thread, so a flood of requests cannot pile up unbounded work; the caller
 * answers "busy" cheaply instead. Jobs start in submission order; with more than one
 * thread they may finish in any order.
 *
 * The pool knows nothing of what a job is for: the job struct is embedded in (or points
 * at) the caller's own state, which the caller keeps alive until done runs. A job whose
 * requester went away meanwhile (a connection closed) still runs work and done: done is
 * where the caller notices and frees, which is why the caller must not hand work a pointer
 * to anything that can be freed while the job is queued.
 *
 * Completions go back through a post function with the signature of st_loop_post_fn
 * (broker/net/loop.h), so common/ does not depend on the loop.
 */
#ifndef ST_WORKQ_H
#define ST_WORKQ_H

#include <stddef.h>
#include <stdint.h>

typedef struct st_workq st_workq;

/* Runs fn(arg) on the owner's (loop) thread soon; any thread may call it. */
typedef void st_workq_post_fn(void *post_ctx, void (*fn)(void *arg), void *arg);

/* One unit of work, owned by the submitter until done has run. */
typedef struct st_workq_job {
    void (*work)(void *arg); /* on a worker thread: touches only what arg owns */
    void (*done)(void *arg); /* then on the loop thread, through the post function */
    void *arg;
    struct st_workq_job *next; /* private to the pool */
} st_workq_job;

#define ST_WORKQ_MAX_THREADS 64

typedef struct st_workq_config {
    int threads;       /* 1..ST_WORKQ_MAX_THREADS */
    size_t max_queued; /* jobs waiting for a thread, at least 1 */
    const char *name;  /* thread name (15 bytes shown by top -H), e.g. "straitd-work" */
    int nice;          /* added to the threads' nice value (0..19): CPU-heavy work then
                        * yields to the loop thread when they compete for a core */
} st_workq_config;

typedef struct st_workq_stats {
    uint64_t submitted; /* accepted by st_workq_submit */
    uint64_t refused;   /* ST_WORKQ_BUSY answers */
    uint64_t completed; /* work finished (done posted) */
    size_t queued;      /* waiting for a thread now */
    size_t running;     /* in work now */
} st_workq_stats;

enum { ST_WORKQ_BUSY = -1 };

/* Starts cfg->threads threads. `post` and post_ctx are borrowed and must outlive the
 * pool. Returns a new pool (free with st_workq_free), or NULL with err set. */
st_workq *st_workq_new(const st_workq_config *cfg, st_workq_post_fn *post, void *post_ctx,
                       char *err, size_t errlen);

/* Queues job (borrowed until its done runs). 0, or ST_WORKQ_BUSY when max_queued jobs are
 * already waiting or the pool is stopping: nothing was queued, the caller still owns job.
 * Any thread. */
int st_workq_submit(st_workq *q, st_workq_job *job);

/* A snapshot of the counters. Any thread. */
void st_workq_get_stats(st_workq *q, st_workq_stats *out);

/* Refuses new jobs, lets the threads finish every queued job (each done is posted), joins
 * them and frees the pool. The caller then runs what was posted (st_loop_run_posted):
 * the done callbacks free their requesters' state. Owner's thread. NULL is a no-op. */
void st_workq_free(st_workq *q);

#endif
