/*
 * Creation jobs (see topics.h, "creation off the loop thread"): the partitions of new
 * topics are made on the registry's worker thread, the registry changed and topics.json
 * written back on the loop.
 *
 * The worker is one thread of an st_workq (common/workq.h): its queue is bounded
 * (ST_TOPICS_QUEUE_MAX jobs waiting; past that st_topics_job_start refuses and the request is
 * answered "retry"), and one thread keeps the jobs in order. A job touches, on the
 * worker, only its own topics (not yet in the registry) and the file system.
 * st_topics_start_worker (topics.c) makes the worker.
 *
 * A job's state:
 *
 *   adding ──start──▶ queued/making (worker) ──post──▶ done (loop: registered and
 *                                                       written, or undone)
 *
 * From st_topics_job_add on, its names are reserved (st_topics_reserve): another
 * creation of one of them is refused as existing, so the registration cannot collide.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/cluster/topics_int.h"
#include "common/errors.h"
#include "common/logging.h"

#define MSG_LEN 320

typedef struct slot {
    st_topic *topic; /* owned until registered (then NULL) */
    int err;
    char msg[MSG_LEN];
} slot;

struct st_topics_job {
    st_workq_job wq;
    st_topics *t;
    slot *slots;
    size_t n, cap;
    bool started, done_;
    st_topics_job_done_fn *done;
    void *arg;
    struct st_topics_job *next; /* the registry's list of jobs in flight */
};

void st_topics_jobs_foreach(st_topics *t,
                            void (*fn)(void *arg, const char *name, int32_t partitions), void *arg)
{
    for (const st_topics_job *j = *st_topics_jobs(t); j; j = j->next)
        for (size_t i = 0; i < j->n; i++)
            if (j->slots[i].topic)
                fn(arg, st_topic_name(j->slots[i].topic),
                   st_topic_partition_count(j->slots[i].topic));
}

st_topics_job *st_topics_job_new(st_topics *t)
{
    st_topics_job *j = calloc(1, sizeof *j);
    if (!j)
        abort(); /* as st_buf */
    j->t = t;
    return j;
}

int st_topics_job_add(st_topics_job *j, const char *name, int32_t partitions,
                      int16_t replication_factor, const st_config_set *configs, size_t nconfigs,
                      char *err, size_t errlen)
{
    st_topic *topic;
    int rc = st_topics_prepare(j->t, name, partitions, replication_factor, configs, nconfigs, false,
                               &topic, err, errlen);
    if (rc != 0)
        return rc;
    if (j->n == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 8;
        slot *s = realloc(j->slots, cap * sizeof *s);
        if (!s)
            abort(); /* as st_buf */
        j->slots = s;
        j->cap = cap;
    }
    j->slots[j->n++] = (slot){.topic = topic};
    /* from now on the name is taken (a second add of it in this job too) */
    st_topics_reserve(j->t, st_topic_name(topic));
    return 0;
}

/* On the worker (or inline): the directories and segment files of every topic. */
static void job_work(void *arg)
{
    st_topics_job *j = arg;
    for (size_t i = 0; i < j->n; i++) {
        slot *s = &j->slots[i];
        /* the topic stays in its slot (the loop reads its name: reserved) */
        s->err = st_topics_make_partitions(j->t, s->topic, s->msg, sizeof s->msg);
    }
}

/* Back on the loop: register what was made, write topics.json once, or undo. */
static void job_finish(st_topics_job *j)
{
    st_topics *t = j->t;
    st_topics_job **pp = st_topics_jobs(t);
    while (*pp && *pp != j)
        pp = &(*pp)->next;
    if (*pp)
        *pp = j->next; /* names no longer reserved: the registry holds them now */
    bool any = false;
    for (size_t i = 0; i < j->n; i++)
        st_topics_unreserve(t, st_topic_name(j->slots[i].topic));
    for (size_t i = 0; i < j->n; i++) {
        if (j->slots[i].err) {
            st_topic_free(j->slots[i].topic); /* its logs were removed */
            j->slots[i].topic = NULL;
        }
        if (j->slots[i].topic) {
            st_topics_adopt(t, j->slots[i].topic);
            any = true;
        }
    }
    char why[MSG_LEN];
    if (any && st_topics_persist(t, why, sizeof why) != 0) {
        /* undone: the topics and their directories are gone (st_topics_persist) */
        for (size_t i = 0; i < j->n; i++)
            if (j->slots[i].topic) {
                j->slots[i].topic = NULL;
                j->slots[i].err = ST_ERR_KAFKA_STORAGE_ERROR;
                snprintf(j->slots[i].msg, sizeof j->slots[i].msg, "%s", why);
            }
    }
    for (size_t i = 0; i < j->n; i++)
        j->slots[i].topic = NULL; /* the registry's now */
    j->done_ = true;
}

static void job_done(void *arg)
{
    st_topics_job *j = arg;
    job_finish(j);
    j->done(j->arg);
}

int st_topics_job_start(st_topics_job *j, st_topics_job_done_fn *done, void *arg)
{
    st_workq *q = st_topics_workq(j->t);
    j->started = true;
    j->done = done;
    j->arg = arg;
    if (!q || j->n == 0) {
        job_work(j);
        job_finish(j);
        return 1;
    }
    j->wq = (st_workq_job){.work = job_work, .done = job_done, .arg = j};
    if (st_workq_submit(q, &j->wq) != 0) {
        j->started = false;
        return -1;
    }
    st_topics_job **head = st_topics_jobs(j->t);
    j->next = *head;
    *head = j;
    return 0;
}

int st_topics_job_result(const st_topics_job *j, size_t i, char *err, size_t errlen)
{
    if (i >= j->n || !j->done_) {
        snprintf(err, errlen, "the topic's creation did not finish");
        return ST_ERR_UNKNOWN_SERVER_ERROR;
    }
    if (j->slots[i].err)
        snprintf(err, errlen, "%s", j->slots[i].msg);
    return j->slots[i].err;
}

void st_topics_job_free(st_topics_job *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->n; i++) {
        if (j->slots[i].topic) { /* never started: nothing was made */
            st_topics_unreserve(j->t, st_topic_name(j->slots[i].topic));
            st_topic_free(j->slots[i].topic);
        }
    }
    free(j->slots);
    free(j);
}
