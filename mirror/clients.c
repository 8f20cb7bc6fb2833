/*
 * A flow's clients (see flow_int.h for who does what): their settings, their callbacks,
 * and their end — handed to the flow's workers to destroy, since rd_kafka_destroy waits
 * for librdkafka's threads and must not hold the loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/logging.h"
#include "mirror/flow_int.h"

/* ---- clients ---- */

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    /* librdkafka's own threads: st_logging_write is thread-safe */
    if (level <= 3)
        st_logging_write(ST_LOG_WARN, __FILE__, __LINE__, "%s: %s", rd_kafka_name(rk), buf);
    else if (level <= 5)
        st_logging_write(ST_LOG_INFO, __FILE__, __LINE__, "%s: %s", rd_kafka_name(rk), buf);
    else if (st_logging_enabled(ST_LOG_DEBUG))
        st_logging_write(ST_LOG_DEBUG, __FILE__, __LINE__, "%s: %s", rd_kafka_name(rk), buf);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    st_mflow *f = opaque;
    if (mf_is_target_producer(f, rk) && f->state == MF_STOPPING &&
        (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__TRANSPORT))
        f->stop.target_down = true; /* what is in flight will not be acknowledged soon */
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__TRANSPORT) {
        /* a cut link: librdkafka reconnects and retries by itself; worth a status line */
        mf_error(f, "%s: %s (retrying)", rd_kafka_name(rk), reason);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_fatal_error(rk, why, sizeof(why));
        mf_error(f, "%s: fatal error: %s", rd_kafka_name(rk), why);
        if (mf_is_target_producer(f, rk) && !f->producer_fatal) {
            f->producer_fatal = true; /* replaced on the next step (mf_producer_recover) */
            snprintf(f->fatal_reason, sizeof f->fatal_reason, "%s", why);
        }
        return;
    }
    mf_error(f, "%s: %s", rd_kafka_name(rk), reason);
}

rd_kafka_t *mf_client_new(st_mflow *f, const st_mcluster_config *cl, rd_kafka_type_t type,
                          const char *const *extra, char *err, size_t errlen)
{
    char client_id[256], why[512];
    snprintf(client_id, sizeof(client_id), "strait-mirror-%s-%s", cl->alias,
             type == RD_KAFKA_PRODUCER ? "producer" : "consumer");
    rd_kafka_conf_t *conf = st_mclient_conf(cl, client_id, extra, err, errlen);
    if (!conf)
        return NULL;
    rd_kafka_conf_set_opaque(conf, f);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    if (type == RD_KAFKA_PRODUCER)
        rd_kafka_conf_set_dr_msg_cb(conf, mf_dr_cb);
    rd_kafka_t *rk = rd_kafka_new(type, conf, why, sizeof(why));
    if (!rk) {
        snprintf(err, errlen, "cluster \"%s\": cannot create client: %s", cl->alias, why);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return rk;
}

/* ---- readers, on the workers ---- */

/* librdkafka's words from a reader: its errors are warnings, the rest debug output. */
static void reader_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    if (level <= 3 || st_logging_enabled(ST_LOG_DEBUG))
        st_logging_write(level <= 3 ? ST_LOG_WARN : ST_LOG_DEBUG, __FILE__, __LINE__, "%s: %s",
                         rd_kafka_name(rk), buf);
}

rd_kafka_t *mf_reader_new(const st_mcluster_config *cl, const char *group, const char *role,
                          const char *isolation, char *err, size_t errlen)
{
    char client_id[256], why[512];
    snprintf(client_id, sizeof client_id, "strait-mirror-%s-%s", cl->alias, role);
    const char *extra[] = {"group.id",
                           group,
                           "enable.auto.commit",
                           "false",
                           "enable.partition.eof",
                           "true",
                           "auto.offset.reset",
                           "earliest",
                           "fetch.wait.max.ms",
                           "50",
                           "isolation.level",
                           isolation,
                           NULL};
    rd_kafka_conf_t *conf = st_mclient_conf(cl, client_id, extra, err, errlen);
    if (!conf)
        return NULL;
    rd_kafka_conf_set_log_cb(conf, reader_log_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    if (!rk) {
        snprintf(err, errlen, "cannot create a consumer on %s: %s", cl->alias, why);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

void mf_reader_free(rd_kafka_t *rk)
{
    if (rk) /* it never joined its group: nothing to leave */
        rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

/* ---- the target producers ---- */

static int nproducers(const st_mflow *f)
{
    int n = f->fc->producers;
    return n < 1 ? 1 : n > ST_MIRROR_MAX_PRODUCERS ? ST_MIRROR_MAX_PRODUCERS : n;
}

int mf_part_producer(const st_mflow *f, const mf_part *p)
{
    return (int)((p->topic->prod_base + (uint32_t)p->partition) % (uint32_t)nproducers(f));
}

bool mf_is_target_producer(const st_mflow *f, const rd_kafka_t *rk)
{
    for (int i = 0; rk && i < ST_MIRROR_MAX_PRODUCERS; i++)
        if (f->producers[i] == rk)
            return true;
    return false;
}

void mf_producers_poll(st_mflow *f)
{
    for (int i = 0; i < ST_MIRROR_MAX_PRODUCERS; i++)
        if (f->producers[i])
            rd_kafka_poll(f->producers[i], 0);
}

int mf_producers_outq(st_mflow *f)
{
    int n = 0;
    for (int i = 0; i < ST_MIRROR_MAX_PRODUCERS; i++)
        if (f->producers[i])
            n += rd_kafka_outq_len(f->producers[i]);
    return n;
}

void mf_producers_purge(st_mflow *f)
{
    for (int i = 0; i < ST_MIRROR_MAX_PRODUCERS; i++)
        if (f->producers[i])
            rd_kafka_purge(f->producers[i], RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    mf_producers_poll(f);
}

/* One idempotent producer on the target. */
static rd_kafka_t *target_producer_new(st_mflow *f, char *err, size_t errlen)
{
    /* Idempotent with unlimited delivery time: a cut link stalls and then resumes in
     * order without duplicates; no compression so the bytes on the target are the
     * source's bytes. */
    static const char *const producer_conf[] = {
        "enable.idempotence", "true", "acks", "all", "linger.ms", "10", "batch.num.messages",
        "100000", "batch.size", "1000000", "compression.type", "none", "message.timeout.ms", "0",
        "queue.buffering.max.kbytes", "1048576", "queue.buffering.max.messages", "1000000",
        "max.in.flight.requests.per.connection", "5",
        /* An idempotent producer keeps at most 5
         * requests in flight per connection, and
         * librdkafka 2.0 puts one partition's batch
         * (batch.size, 1 MB) in a request: at most
         * 5 MB per round trip, 62 MB/s at 80 ms,
         * whatever message.max.bytes says — hence
         * several producers per flow
         * (docs/mirroring.md, "Tests and
         * benchmark"). */
        "message.max.bytes", "16777216", "socket.send.buffer.bytes", "4194304", NULL};
    return mf_client_new(f, f->tgt, RD_KAFKA_PRODUCER, producer_conf, err, errlen);
}

/* f->producers (and f->producer, the first): 0, or -1 with err and those made left in
 * f->producers for the caller to stop. */
static int target_producers_new(st_mflow *f, char *err, size_t errlen)
{
    for (int i = 0; i < nproducers(f); i++) {
        f->producers[i] = target_producer_new(f, err, errlen);
        if (!f->producers[i])
            return -1;
        f->producer = f->producers[0];
    }
    return 0;
}

int mf_clients_start(st_mflow *f, char *err, size_t errlen)
{
    char group[256];
    snprintf(group, sizeof(group), "strait-mirror.%s", f->fc->name);
    /* Sized for a WAN: large fetches keep the pipe full across the round trip, the
     * prefetch budget bounds memory, and auto.offset.reset=error turns a truncated
     * source into a reported gap instead of a silent jump. */
    const char *consumer_conf[] = {"group.id",
                                   group,
                                   "enable.auto.commit",
                                   "false",
                                   "enable.auto.offset.store",
                                   "false",
                                   "auto.offset.reset",
                                   "error",
                                   "enable.partition.eof",
                                   "false",
                                   "fetch.max.bytes",
                                   "52428800",
                                   "max.partition.fetch.bytes",
                                   "8388608",
                                   "fetch.wait.max.ms",
                                   "100",
                                   "queued.max.messages.kbytes",
                                   "131072",
                                   "queued.min.messages",
                                   "200000",
                                   "receive.message.max.bytes",
                                   "100000000",
                                   "isolation.level",
                                   "read_committed",
                                   "socket.receive.buffer.bytes",
                                   "4194304",
                                   NULL};
    const char *src_producer_conf[] = {"acks", "all", "linger.ms", "0", NULL};
    f->consumer = mf_client_new(f, f->src, RD_KAFKA_CONSUMER, consumer_conf, err, errlen);
    if (!f->consumer)
        goto fail;
    if (target_producers_new(f, err, errlen) != 0)
        goto fail;
    f->src_producer = mf_client_new(f, f->src, RD_KAFKA_PRODUCER, src_producer_conf, err, errlen);
    if (!f->src_producer)
        goto fail;
    f->cq = rd_kafka_queue_get_consumer(f->consumer);
    f->src_q = rd_kafka_queue_new(f->src_producer);
    f->tgt_q = rd_kafka_queue_new(f->producer);
    if (!f->cq || !f->src_q || !f->tgt_q) {
        snprintf(err, errlen, "cannot create the client queues");
        goto fail;
    }
    return 0;
fail:
    mf_clients_stop(f);
    return -1;
}

static void drain_admin(st_mflow *f, rd_kafka_queue_t *q)
{
    rd_kafka_event_t *ev;
    while (q && (ev = rd_kafka_queue_poll(q, 0)) != NULL)
        rd_kafka_event_destroy(ev);
}

/* Destroys a flow's old clients on a worker (rd_kafka_destroy waits for librdkafka's
 * threads; librdkafka 2.0.2 can even wait forever for a consumer that had partitions of a
 * deleted topic). A dropped job (its worker stopping) leaves the handles to the process
 * exit rather than wait for them on the loop. */
typedef struct mf_destroy_job {
    st_mjob job;
    rd_kafka_t *rk[2];
} mf_destroy_job;

static void destroy_run(st_mjob *job, rd_kafka_t *probe, const st_mcluster_config *cluster)
{
    mf_destroy_job *j = (mf_destroy_job *)job;
    for (int i = 0; i < 2; i++)
        if (j->rk[i]) {
            /* The consumer never joins its group (positions are the flow's own): no group
             * to leave, so no consumer close. */
            rd_kafka_destroy_flags(j->rk[i], rd_kafka_type(j->rk[i]) == RD_KAFKA_CONSUMER
                                                 ? RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE
                                                 : 0);
            j->rk[i] = NULL;
        }
}

static void destroy_done(st_mjob *job, void *ctx)
{
    free(job);
}

/* The worker stopped before destroying them: the process is exiting, leave them be. */
static void destroy_drop(st_mjob *job)
{
    free(job);
}

static void destroy_later(st_mworker *w, rd_kafka_t *a, rd_kafka_t *b)
{
    mf_destroy_job *j = calloc(1, sizeof *j);
    if (!j || !w) {
        /* no worker to give them to (out of memory): destroy here */
        free(j);
        if (a)
            rd_kafka_destroy(a);
        if (b)
            rd_kafka_destroy(b);
        return;
    }
    j->job.run = destroy_run;
    j->job.done = destroy_done;
    j->job.drop = destroy_drop;
    j->job.must_run = true;
    j->rk[0] = a;
    j->rk[1] = b;
    st_mworker_submit(w, &j->job);
}

/* Each topic's producer handles (before their producers go). */
static void topics_release(st_mflow *f)
{
    for (size_t i = 0; i < f->ntopics; i++) {
        mf_topic *t = f->topics[i];
        for (int k = 0; k < ST_MIRROR_MAX_PRODUCERS; k++) {
            if (t->rkt[k])
                rd_kafka_topic_destroy(t->rkt[k]);
            t->rkt[k] = NULL;
        }
    }
}

/* Hands the target producers to the target's worker to destroy; f->producers empty. */
static void target_producers_destroy(st_mflow *f)
{
    for (int i = 0; i < ST_MIRROR_MAX_PRODUCERS; i += 2) {
        rd_kafka_t *b = i + 1 < ST_MIRROR_MAX_PRODUCERS ? f->producers[i + 1] : NULL;
        if (f->producers[i] || b)
            destroy_later(f->tgt_worker, f->producers[i], b);
        f->producers[i] = NULL;
        if (i + 1 < ST_MIRROR_MAX_PRODUCERS)
            f->producers[i + 1] = NULL;
    }
    f->producer = NULL;
}

void mf_clients_stop(st_mflow *f)
{
    mf_pending_drop(f);
    topics_release(f);
    for (size_t i = 0; i < f->ntopics; i++) {
        mf_topic *t = f->topics[i];
        for (int32_t p = 0; p < t->nparts; p++)
            t->parts[p]->assigned = false;
    }
    drain_admin(f, f->src_q);
    drain_admin(f, f->tgt_q);
    if (f->cq)
        rd_kafka_queue_destroy(f->cq);
    if (f->src_q)
        rd_kafka_queue_destroy(f->src_q);
    if (f->tgt_q)
        rd_kafka_queue_destroy(f->tgt_q);
    f->cq = f->src_q = f->tgt_q = NULL;
    /* Drop the assignment first: partitions of a source topic deleted under us are
     * otherwise still held by librdkafka's fetcher, and rd_kafka_destroy waits for them
     * forever. */
    if (f->consumer)
        rd_kafka_assign(f->consumer, NULL);
    /* whatever is still queued will never be reported: forget it, and run the reports of
     * what was purged here, while the partitions they name exist */
    mf_producers_purge(f);
    destroy_later(f->src_worker, f->consumer, f->src_producer);
    target_producers_destroy(f);
    f->consumer = f->src_producer = NULL;
}

/*
 * A fatal error of an idempotent producer (OUT_OF_ORDER_SEQUENCE_NUMBER on the batch at
 * the head of a partition, e.g. after the target lost state): librdkafka can no longer
 * say which of the records in flight were stored, and the producer is unusable. The
 * offset map and the target can: the producers are replaced — all of them, the failed
 * one's partitions and the admin handle (producers[0]) with them, so this is the same
 * path whichever failed — and every partition resumes like after a restart — from the
 * map, then a scan of the target for this source's "strait.src" headers (resume.c) — so
 * a record the target stored is not copied again and one it did not store is. No
 * restart of the daemon, no duplicate, no gap.
 */
void mf_producer_recover(st_mflow *f)
{
    char err[512];
    mf_error(f,
             "the target producer failed for good (%s): replacing it; every partition resumes "
             "from the offset map and a scan of %s",
             f->fatal_reason, f->tgt->alias);
    if (f->consumer)
        rd_kafka_assign(f->consumer, NULL);
    mf_pending_drop(f);
    /* what was in flight is reported now (failed), while the partitions exist */
    mf_producers_purge(f);
    /* the admin answers due on the old queue go with it */
    mf_ckpt_reset(f);
    mf_configs_free(f);
    mf_acls_free(f);
    drain_admin(f, f->tgt_q);
    if (f->tgt_q) /* NULL after a replacement that failed */
        rd_kafka_queue_destroy(f->tgt_q);
    f->tgt_q = NULL;
    topics_release(f);
    for (size_t i = 0; i < f->ntopics; i++) {
        mf_topic *t = f->topics[i];
        for (int32_t p = 0; p < t->nparts; p++) {
            mf_part *part = t->parts[p];
            part->assigned = part->resync = false;
            part->ring_len = part->ring_head = 0;
            if (!part->scanning)
                part->resumed = false;
        }
    }
    target_producers_destroy(f);
    /* only now: the old producer's fatal error, served by the poll above, must not mark
     * this flow failed again (a second replacement for one fault) */
    f->producer_fatal = false;
    snprintf(err, sizeof err, "cannot create the admin queue");
    if (target_producers_new(f, err, sizeof err) == 0)
        f->tgt_q = rd_kafka_queue_new(f->producer);
    if (!f->producer || !f->tgt_q) {
        mf_error(f, "cannot replace the target producers: %s; retrying", err);
        if (f->tgt_q)
            rd_kafka_queue_destroy(f->tgt_q);
        f->tgt_q = NULL;
        target_producers_destroy(f);
        f->producer_fatal = true;
        return;
    }
    f->producer_restarts++;
    for (size_t i = 0; i < f->ntopics; i++) {
        mf_topic *t = f->topics[i];
        mf_part **todo = calloc((size_t)(t->nparts ? t->nparts : 1), sizeof(*todo));
        size_t n = 0;
        for (int32_t p = 0; todo && p < t->nparts; p++)
            if (!t->parts[p]->resumed && !t->parts[p]->stopped && !t->parts[p]->scanning &&
                p < t->tgt_partitions)
                todo[n++] = t->parts[p];
        mf_resume_parts(f, todo, n);
        free(todo);
    }
}
