/*
 * Worker threads for what must not run on the event loop: PBKDF2 for logins,
 * synchronous management commands (REQ → REP, up to the failover's 20 s), audit log
 * appends (write + fdatasync).
 *
 * A job is a struct that begins with st_job. run() executes on a worker; then the job
 * is handed back and done() executes on the loop thread when it calls st_jobs_drain
 * (after the wake callback told it to). The queue is bounded: a full queue refuses
 * the job, and the caller answers "busy" instead of piling up work.
 */
#ifndef ST_CONSOLE_JOBS_H
#define ST_CONSOLE_JOBS_H

#include <stddef.h>

typedef struct st_job st_job;
struct st_job {
    void (*run)(st_job *job);             /* on a worker */
    void (*done)(st_job *job, void *ctx); /* on the loop thread; frees the job */
    st_job *next;                         /* the queue's */
};

typedef struct st_jobs st_jobs;

/* wake(wake_ctx) is called from a worker after each job runs (thread-safe, e.g.
 * lws_cancel_service). NULL with err when threads cannot start. */
st_jobs *st_jobs_new(int nthreads, size_t max_queued, void (*wake)(void *), void *wake_ctx,
                     char *err, size_t errlen);

/* Queues job (the pool owns it until done() is called). 0, or -1 when the queue is full
 * (the caller still owns it). Any thread. */
int st_jobs_submit(st_jobs *jobs, st_job *job);

/* Calls done(job, ctx) for every finished job. Loop thread. */
void st_jobs_drain(st_jobs *jobs, void *ctx);

/* Lets queued jobs run, joins the workers, then calls done() of every job with ctx.
 * NULL is ignored. */
void st_jobs_free(st_jobs *jobs, void *ctx);

#endif
