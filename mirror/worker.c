/*
 * st_mworker (see worker.h): one thread, a queue of jobs in, a queue of finished jobs
 * out, a probe client. The mutex is only ever held to move list pointers, so the loop
 * thread's st_mworker_collect never waits behind a job.
 */
#include "mirror/worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/logging.h"

struct st_mworker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* the worker waits for jobs; stop waits for the worker */
    st_mjob *queue, *queue_tail;
    st_mjob *running;
    st_mjob *done, *done_tail;
    int pending; /* queued + running + done-not-collected */
    bool stopping, abandoned, exited;
    st_mcluster_config cluster;
    char name[160];
    rd_kafka_t *probe;
};

rd_kafka_conf_t *st_mclient_conf(const st_mcluster_config *cl, const char *client_id,
                                 const char *const *extra, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char why[512];
    const char *common[] = {
        "bootstrap.servers",
        cl->bootstrap,
        "client.id",
        client_id,
        "security.protocol",
        cl->security_protocol[0] ? cl->security_protocol : "plaintext",
        "sasl.mechanism",
        cl->sasl_mechanism[0] ? cl->sasl_mechanism : NULL,
        "sasl.username",
        cl->sasl_username[0] ? cl->sasl_username : NULL,
        "sasl.password",
        cl->sasl_password[0] ? cl->sasl_password : NULL,
        "ssl.ca.location",
        cl->ssl_ca[0] ? cl->ssl_ca : NULL,
        "socket.keepalive.enable",
        "true",
        /* After a cut link, reconnect within a second of its return (the default backs off
         * up to 10 s; a mirror should resume at once). */
        "reconnect.backoff.max.ms",
        "1000",
        NULL,
    };
    const char *const *lists[2] = {common, extra};
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; lists[l] && lists[l][i]; i += 2) {
            if (!lists[l][i + 1])
                continue;
            if (rd_kafka_conf_set(conf, lists[l][i], lists[l][i + 1], why, sizeof(why)) !=
                RD_KAFKA_CONF_OK) {
                snprintf(err, errlen, "cluster \"%s\": client setting %s: %s", cl->alias,
                         lists[l][i], why);
                rd_kafka_conf_destroy(conf);
                return NULL;
            }
        }
    }
    return conf;
}

/* The probe's messages are debug only: the flow's own clients log the same connection
 * trouble, and the job results say what failed. */
static void probe_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    if (st_logging_enabled(ST_LOG_DEBUG))
        st_logging_write(ST_LOG_DEBUG, __FILE__, __LINE__, "%s: %s", rd_kafka_name(rk), buf);
}

static void free_list(st_mjob *j)
{
    while (j) {
        st_mjob *next = j->next;
        j->drop(j);
        j = next;
    }
}

/* Everything but the thread itself. Called by st_mworker_stop, or by the thread when it
 * was left behind. */
static void worker_free(st_mworker *w)
{
    free_list(w->queue);
    free_list(w->done);
    if (w->probe)
        rd_kafka_destroy(w->probe);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

static void *worker_main(void *arg)
{
    st_mworker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->queue && !w->stopping)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stopping) {
            /* only the must_run jobs are left to do */
            st_mjob **pp = &w->queue, *keep = NULL, **kt = &keep;
            while (*pp) {
                st_mjob *j = *pp;
                *pp = j->next;
                j->next = NULL;
                if (j->must_run) {
                    *kt = j;
                    kt = &j->next;
                } else {
                    j->drop(j);
                }
            }
            w->queue = keep;
            w->queue_tail = NULL;
            for (st_mjob *j = keep; j; j = j->next)
                w->queue_tail = j;
            if (!w->queue)
                break;
        }
        st_mjob *job = w->queue;
        w->queue = job->next;
        if (!w->queue)
            w->queue_tail = NULL;
        job->next = NULL;
        w->running = job;
        pthread_mutex_unlock(&w->mu);
        job->run(job, w->probe, &w->cluster);
        pthread_mutex_lock(&w->mu);
        w->running = NULL;
        if (w->done_tail)
            w->done_tail->next = job;
        else
            w->done = job;
        w->done_tail = job;
    }
    w->exited = true;
    bool abandoned = w->abandoned;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (abandoned) {
        st_debug("%s: worker left behind has now finished", w->name);
        worker_free(w);
    }
    return NULL;
}

st_mworker *st_mworker_start(const st_mcluster_config *cluster, const char *name, char *err,
                             size_t errlen)
{
    char client_id[256], why[512];
    st_mworker *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (cluster)
        w->cluster = *cluster;
    snprintf(w->name, sizeof w->name, "%s", name);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (cluster) {
        /* The probe answers metadata and offset queries only; it never produces. */
        static const char *const extra[] = {"topic.metadata.refresh.interval.ms", "60000", NULL};
        snprintf(client_id, sizeof client_id, "strait-mirror-%s-probe", cluster->alias);
        rd_kafka_conf_t *conf = st_mclient_conf(cluster, client_id, extra, err, errlen);
        if (!conf)
            goto fail;
        rd_kafka_conf_set_log_cb(conf, probe_log_cb);
        w->probe = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
        if (!w->probe) {
            snprintf(err, errlen, "cluster \"%s\": cannot create a client: %s", cluster->alias,
                     why);
            rd_kafka_conf_destroy(conf);
            goto fail;
        }
    }
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    if (rc) {
        snprintf(err, errlen, "cannot start a worker thread for %s: %s", name, strerror(rc));
        goto fail;
    }
    return w;
fail:
    worker_free(w);
    return NULL;
}

void st_mworker_submit(st_mworker *w, st_mjob *job)
{
    atomic_store(&job->cancelled, false);
    job->next = NULL;
    pthread_mutex_lock(&w->mu);
    if (w->queue_tail)
        w->queue_tail->next = job;
    else
        w->queue = job;
    w->queue_tail = job;
    w->pending++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void st_mworker_collect(st_mworker *w, void *ctx)
{
    pthread_mutex_lock(&w->mu);
    st_mjob *list = w->done;
    w->done = w->done_tail = NULL;
    pthread_mutex_unlock(&w->mu);
    while (list) {
        st_mjob *next = list->next;
        list->next = NULL;
        pthread_mutex_lock(&w->mu);
        w->pending--;
        pthread_mutex_unlock(&w->mu);
        list->done(list, ctx);
        list = next;
    }
}

int st_mworker_pending(st_mworker *w)
{
    pthread_mutex_lock(&w->mu);
    int n = w->pending;
    pthread_mutex_unlock(&w->mu);
    return n;
}

void st_mworker_cancel_all(st_mworker *w)
{
    pthread_mutex_lock(&w->mu);
    for (st_mjob *j = w->queue; j; j = j->next)
        atomic_store(&j->cancelled, true);
    if (w->running)
        atomic_store(&w->running->cancelled, true);
    pthread_mutex_unlock(&w->mu);
}

void st_mworker_shutdown(st_mworker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    for (st_mjob *j = w->queue; j; j = j->next)
        atomic_store(&j->cancelled, true);
    if (w->running)
        atomic_store(&w->running->cancelled, true);
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

bool st_mworker_stop(st_mworker *w, int64_t deadline_ms)
{
    if (!w)
        return true;
    st_mworker_shutdown(w);
    int64_t wait_ms = deadline_ms - st_mono_ms();
    if (wait_ms < 0)
        wait_ms = 0;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (wait_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&w->mu);
    while (!w->exited && pthread_cond_timedwait(&w->cv, &w->mu, &until) != ETIMEDOUT)
        ;
    bool exited = w->exited;
    if (!exited)
        w->abandoned = true; /* the thread frees w when its call returns */
    pthread_mutex_unlock(&w->mu);
    if (!exited) {
        st_warn("%s: a call to the cluster did not return in time; leaving it behind", w->name);
        pthread_detach(w->thread);
        return false;
    }
    pthread_join(w->thread, NULL);
    worker_free(w);
    return true;
}
