/*
 * What a flow keeps in step with the clusters, besides records:
 *   - the offsets map: loaded from ST_MIRROR_OFFSETS_TOPIC on the target at start,
 *     completed by scanning the target for this source's "strait.src" headers (records
 *     delivered after the last persisted run), persisted again every second;
 *   - topics: discovered on the source every sync_interval, created on the target with
 *     the source's partition count and non-default configs, grown when the source grows;
 *   - heartbeats: one record a heartbeat_interval to ST_MIRROR_HEARTBEATS_TOPIC on the
 *     source, mirrored like any topic; its delivery on the target gives the latency.
 *
 * It also creates and destroys the flow's clients (mf_clients_start/stop).
 *
 * Loading and scanning wait for the clusters (bounded); they run at start and when new
 * partitions appear. Topic creation and configs are asynchronous admin requests whose
 * results come back through st_mflow_step.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
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
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__TRANSPORT) {
        /* a cut link: librdkafka reconnects and retries by itself; worth a status line */
        mf_error(f, "%s: %s (retrying)", rd_kafka_name(rk), reason);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_fatal_error(rk, why, sizeof(why));
        mf_error(f, "%s: fatal error: %s", rd_kafka_name(rk), why);
        return;
    }
    mf_error(f, "%s: %s", rd_kafka_name(rk), reason);
}

/* Topic discovery asks both clusters for metadata from the daemon's only thread: a cut
 * link must not leave the management endpoint unanswered for long, so each call gets at
 * most this much (the next sync_interval tries again). */
#define MF_SYNC_METADATA_MS 1000

rd_kafka_t *mf_client_new(st_mflow *f, const st_mcluster_config *cl, rd_kafka_type_t type,
                          const char *const *extra, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char client_id[256], why[512];
    snprintf(client_id, sizeof(client_id), "strait-mirror-%s-%s", cl->alias,
             type == RD_KAFKA_PRODUCER ? "producer" : "consumer");
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
    /* Idempotent with unlimited delivery time: a cut link stalls and then resumes in
     * order without duplicates; no compression so the bytes on the target are the
     * source's bytes. */
    const char *producer_conf[] = {"enable.idempotence",
                                   "true",
                                   "acks",
                                   "all",
                                   "linger.ms",
                                   "10",
                                   "batch.num.messages",
                                   "100000",
                                   "batch.size",
                                   "1000000",
                                   "compression.type",
                                   "none",
                                   "message.timeout.ms",
                                   "0",
                                   "queue.buffering.max.kbytes",
                                   "1048576",
                                   "queue.buffering.max.messages",
                                   "1000000",
                                   "max.in.flight.requests.per.connection",
                                   "5",
                                   "socket.send.buffer.bytes",
                                   "4194304",
                                   NULL};
    const char *src_producer_conf[] = {"acks", "all", "linger.ms", "0", NULL};
    f->consumer = mf_client_new(f, f->src, RD_KAFKA_CONSUMER, consumer_conf, err, errlen);
    if (!f->consumer)
        goto fail;
    f->producer = mf_client_new(f, f->tgt, RD_KAFKA_PRODUCER, producer_conf, err, errlen);
    if (!f->producer)
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

/* rd_kafka_destroy of the consumer, given at most `ms` (see mf_clients_stop). */
typedef struct destroyer {
    rd_kafka_t *rk;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done, abandoned;
} destroyer;

static void *destroy_thread(void *arg)
{
    destroyer *d = arg;
    rd_kafka_destroy_flags(d->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    pthread_mutex_lock(&d->mu);
    d->done = true;
    bool abandoned = d->abandoned;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    if (abandoned) { /* the waiter gave up and left d to us */
        pthread_mutex_destroy(&d->mu);
        pthread_cond_destroy(&d->cv);
        free(d);
    }
    return NULL;
}

/* librdkafka 2.0.2 can wait forever destroying a consumer that had partitions of a topic
 * deleted under it (its main thread keeps waiting for those partitions). The flow is
 * stopping and its positions are safe on the target, so after `ms` the destruction is
 * left to finish (or not) on its own thread rather than hang the daemon's shutdown. */
static void destroy_consumer(st_mflow *f, rd_kafka_t *rk, int64_t ms)
{
    destroyer *d = calloc(1, sizeof *d);
    pthread_t th;
    if (!d || pthread_mutex_init(&d->mu, NULL) || pthread_cond_init(&d->cv, NULL)) {
        free(d);
        rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
        return;
    }
    d->rk = rk;
    if (pthread_create(&th, NULL, destroy_thread, d)) {
        rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
        pthread_mutex_destroy(&d->mu);
        pthread_cond_destroy(&d->cv);
        free(d);
        return;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&d->mu);
    while (!d->done && pthread_cond_timedwait(&d->cv, &d->mu, &until) == 0)
        ;
    bool done = d->done;
    if (!done)
        d->abandoned = true;
    pthread_mutex_unlock(&d->mu);
    if (done) {
        pthread_join(th, NULL);
        pthread_mutex_destroy(&d->mu);
        pthread_cond_destroy(&d->cv);
        free(d);
    } else {
        pthread_detach(th);
        st_warn("%s: librdkafka did not release the source consumer within %lld ms (a source "
                "topic was deleted under it); leaving it behind",
                f->fc->name, (long long)ms);
    }
}

void mf_clients_stop(st_mflow *f)
{
    mf_pending_drop(f);
    for (size_t i = 0; i < f->ntopics; i++) {
        mf_topic *t = f->topics[i];
        if (t->rkt)
            rd_kafka_topic_destroy(t->rkt);
        t->rkt = NULL;
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
    if (f->consumer) {
        /* Drop the assignment first: partitions of a source topic deleted under us are
         * otherwise still held by librdkafka's fetcher, and rd_kafka_destroy waits for
         * them forever. */
        /* The consumer never joins its group (positions are the flow's own): no group to
         * leave, so no consumer close. */
        rd_kafka_assign(f->consumer, NULL);
        destroy_consumer(f, f->consumer, 5000);
    }
    if (f->producer) {
        /* whatever is still queued will never be reported: forget it */
        rd_kafka_purge(f->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(f->producer, 0);
        rd_kafka_destroy(f->producer);
    }
    if (f->src_producer)
        rd_kafka_destroy(f->src_producer);
    f->consumer = f->producer = f->src_producer = NULL;
}

/* ---- internal topics ---- */

/* Creates `name` (1 partition, `config` key/value pairs) through rk and waits for the
 * answer: 0 when it exists afterwards, -1 with the error recorded. */
static int create_internal_topic(st_mflow *f, rd_kafka_t *rk, const char *cluster, const char *name,
                                 const char *const *config)
{
    char why[512];
    int rc = -1;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, 1, -1, why, sizeof(why));
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_event_t *ev = NULL;
    if (!nt) {
        mf_error(f, "cannot create %s on %s: %s", name, cluster, why);
        goto out;
    }
    for (size_t i = 0; config && config[i]; i += 2)
        rd_kafka_NewTopic_set_config(nt, config[i], config[i + 1]);
    rd_kafka_AdminOptions_set_request_timeout(opts, 10000, why, sizeof(why));
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    ev = rd_kafka_queue_poll(q, 12000);
    if (!ev) {
        mf_error(f, "creating %s on %s: no answer within 12 s", name, cluster);
        goto out;
    }
    if (rd_kafka_event_error(ev)) {
        mf_error(f, "creating %s on %s: %s", name, cluster, rd_kafka_event_error_string(ev));
        goto out;
    }
    size_t n = 0;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            mf_error(f, "creating %s on %s: %s", name, cluster,
                     rd_kafka_topic_result_error_string(res[i])
                         ? rd_kafka_topic_result_error_string(res[i])
                         : rd_kafka_err2str(e));
            goto out;
        }
        if (!e)
            st_info("%s: created %s on %s", f->fc->name, name, cluster);
    }
    rc = 0;
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (nt)
        rd_kafka_NewTopic_destroy(nt);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    return rc;
}

/* A consumer on the target that reads assigned partitions to their end. */
static rd_kafka_t *scanner_new(st_mflow *f)
{
    char err[512], group[256];
    snprintf(group, sizeof(group), "strait-mirror.%s.scan", f->fc->name);
    const char *conf[] = {"group.id",
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
                          "read_uncommitted",
                          NULL};
    rd_kafka_t *rk = mf_client_new(f, f->tgt, RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk)
        mf_error(f, "%s", err);
    return rk;
}

static void scanner_free(rd_kafka_t *rk)
{
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

int mf_offsets_load(st_mflow *f)
{
    const char *compact[] = {"cleanup.policy", "compact", NULL};
    if (create_internal_topic(f, f->producer, f->tgt->alias, ST_MIRROR_OFFSETS_TOPIC, compact))
        return -1;
    rd_kafka_t *rk = scanner_new(f);
    if (!rk)
        return -1;
    int rc = -1;
    size_t loaded = 0, malformed = 0;
    int64_t first_bad = -1;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, ST_MIRROR_OFFSETS_TOPIC, 0)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, list);
    int64_t deadline = st_mono_ms() + MF_SCAN_TIMEOUT_MS;
    for (;;) {
        if (st_mono_ms() > deadline) {
            mf_error(f, "reading %s on %s: not finished within %d s", ST_MIRROR_OFFSETS_TOPIC,
                     f->tgt->alias, MF_SCAN_TIMEOUT_MS / 1000);
            goto out;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            break;
        }
        if (m->err) {
            rd_kafka_resp_err_t err = m->err;
            mf_error(f, "reading %s on %s: %s", ST_MIRROR_OFFSETS_TOPIC, f->tgt->alias,
                     rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
                goto out;
            continue;
        }
        int r =
            st_moffsets_load_record(f->map, f->src->alias, m->key, m->key_len, m->payload, m->len);
        if (r == 0)
            loaded++;
        else if (r < 0 && malformed++ == 0)
            first_bad = m->offset;
        rd_kafka_message_destroy(m);
    }
    if (malformed)
        mf_error(f,
                 "%s on %s: %zu malformed record(s) ignored (the first at offset %" PRId64
                 "); the target is scanned for what they described",
                 ST_MIRROR_OFFSETS_TOPIC, f->tgt->alias, malformed, first_bad);
    st_info("%s: loaded %zu offset run record(s) from %s on %s", f->fc->name, loaded,
            ST_MIRROR_OFFSETS_TOPIC, f->tgt->alias);
    f->offsets_ready = true;
    rc = 0;
out:
    rd_kafka_topic_partition_list_destroy(list);
    scanner_free(rk);
    return rc;
}

bool mf_parse_src_header(const void *value, size_t len, const char *alias, int64_t *offset)
{
    size_t alen = strlen(alias);
    const char *v = value;
    if (!v || len <= alen + 1 || len > alen + 20 || memcmp(v, alias, alen) != 0 || v[alen] != '/')
        return false;
    int64_t n = 0;
    for (size_t i = alen + 1; i < len; i++) {
        if (v[i] < '0' || v[i] > '9' || n > (INT64_MAX - (v[i] - '0')) / 10)
            return false;
        n = n * 10 + (v[i] - '0');
    }
    *offset = n;
    return true;
}

static mf_part *scan_part(mf_part **parts, size_t n, const rd_kafka_message_t *m)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    for (size_t i = 0; i < n; i++)
        if (parts[i]->partition == m->partition && strcmp(parts[i]->topic->target, topic) == 0)
            return parts[i];
    return NULL;
}

void mf_resume_parts(st_mflow *f, mf_part **parts, size_t n)
{
    if (n == 0)
        return;
    rd_kafka_t *rk = scanner_new(f);
    if (!rk)
        return;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)n);
    bool *done = calloc(n, sizeof(bool));
    size_t ndone = 0, found = 0;
    for (size_t i = 0; i < n; i++) {
        mf_part *p = parts[i];
        int64_t next_src, next_tgt;
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_add(list, p->topic->target, p->partition);
        if (st_moffsets_position(f->map, p->topic->name, p->partition, &next_src, &next_tgt)) {
            tp->offset = next_tgt;
            p->last_src_added = next_src - 1;
        } else {
            /* nothing persisted: the whole target partition may hold earlier copies */
            tp->offset = RD_KAFKA_OFFSET_BEGINNING;
        }
    }
    rd_kafka_assign(rk, list);
    int64_t deadline = st_mono_ms() + MF_SCAN_TIMEOUT_MS;
    while (done && ndone < n) {
        if (st_mono_ms() > deadline) {
            mf_error(f,
                     "resume: scanning the target for already copied records did not finish "
                     "within %d s; records after the last saved offsets may be copied twice",
                     MF_SCAN_TIMEOUT_MS / 1000);
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        mf_part *p = m->rkt ? scan_part(parts, n, m) : NULL;
        if (m->err) {
            if (p && (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF ||
                      m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)) {
                size_t i = 0;
                while (i < n && parts[i] != p)
                    i++;
                if (i < n && !done[i]) {
                    done[i] = true;
                    ndone++;
                }
            } else {
                mf_error(f, "resume: scanning the target: %s", rd_kafka_message_errstr(m));
            }
            rd_kafka_message_destroy(m);
            continue;
        }
        rd_kafka_headers_t *h = NULL;
        const void *v;
        size_t vlen;
        int64_t src;
        if (p && rd_kafka_message_headers(m, &h) == 0 &&
            rd_kafka_header_get_last(h, ST_MIRROR_HDR_SRC, &v, &vlen) == 0 &&
            mf_parse_src_header(v, vlen, f->src->alias, &src) && src > p->last_src_added) {
            st_moffsets_add(f->map, p->topic->name, p->partition, src, m->offset);
            p->last_src_added = src;
            found++;
        }
        rd_kafka_message_destroy(m);
    }
    if (found)
        st_info("%s: resume: %zu record(s) found on %s past the saved offsets", f->fc->name, found,
                f->tgt->alias);
    for (size_t i = 0; i < n; i++) {
        mf_part *p = parts[i];
        int64_t next_src, next_tgt;
        if (st_moffsets_position(f->map, p->topic->name, p->partition, &next_src, &next_tgt)) {
            p->position = p->delivered = next_src;
            p->last_src_added = next_src - 1;
        } else {
            p->position = p->delivered = -1; /* from the source's beginning */
        }
        p->resumed = true;
        st_debug("%s: %s[%d] resumes at %" PRId64, f->fc->name, p->topic->name, p->partition,
                 p->position);
    }
    free(done);
    rd_kafka_topic_partition_list_destroy(list);
    scanner_free(rk);
}

static void persist_run(void *arg, const char *topic, int32_t partition, const st_mrun *run)
{
    st_mflow *f = arg;
    char key[2 * MF_TOPIC_NAME_MAX];
    uint8_t value[ST_MIRROR_VALUE_LEN];
    size_t klen =
        st_moffsets_encode_key(f->src->alias, topic, partition, run->src_start, key, sizeof(key));
    if (klen == 0)
        return;
    st_moffsets_encode_value(run, value);
    rd_kafka_resp_err_t err =
        rd_kafka_producev(f->producer, RD_KAFKA_V_TOPIC(ST_MIRROR_OFFSETS_TOPIC),
                          RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE(value, sizeof(value)),
                          RD_KAFKA_V_OPAQUE(&f->offsets_marker), RD_KAFKA_V_END);
    if (err)
        mf_error(f, "offsets topic %s: cannot queue a run of %s[%d]: %s", ST_MIRROR_OFFSETS_TOPIC,
                 topic, partition, rd_kafka_err2str(err));
}

void mf_offsets_persist(st_mflow *f)
{
    if (f->offsets_ready && f->producer)
        st_moffsets_take_dirty(f->map, persist_run, f);
}

/* ---- topic discovery ---- */

static void admin_opts(st_mflow *f, rd_kafka_AdminOptions_t *opts, void *opaque)
{
    char why[256];
    rd_kafka_AdminOptions_set_request_timeout(opts, MF_ADMIN_TIMEOUT, why, sizeof(why));
    rd_kafka_AdminOptions_set_opaque(opts, opaque);
}

static void create_topic(st_mflow *f, mf_topic *t, const rd_kafka_ConfigEntry_t **configs,
                         size_t nconfigs)
{
    char why[512];
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(t->target, t->src_partitions, -1, why, sizeof(why));
    if (!nt) {
        mf_error(f, "cannot create %s on %s: %s", t->target, f->tgt->alias, why);
        t->state = MF_T_FAILED;
        t->retry_ms = st_mono_ms() + f->fc->sync_interval_ms;
        return;
    }
    for (size_t i = 0; i < nconfigs; i++)
        rd_kafka_NewTopic_set_config(nt, rd_kafka_ConfigEntry_name(configs[i]),
                                     rd_kafka_ConfigEntry_value(configs[i]));
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(f->producer, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    admin_opts(f, opts, t);
    rd_kafka_CreateTopics(f->producer, &nt, 1, opts, f->tgt_q);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    t->state = MF_T_CREATING;
}

static void describe_configs(st_mflow *f, mf_topic *t)
{
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, t->name);
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(f->src_producer, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    admin_opts(f, opts, t);
    rd_kafka_DescribeConfigs(f->src_producer, &res, 1, opts, f->src_q);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_ConfigResource_destroy(res);
    t->state = MF_T_DESCRIBING;
}

static void grow_topic(st_mflow *f, mf_topic *t)
{
    char why[512];
    rd_kafka_NewPartitions_t *np =
        rd_kafka_NewPartitions_new(t->target, (size_t)t->src_partitions, why, sizeof(why));
    if (!np) {
        mf_error(f, "cannot grow %s on %s: %s", t->target, f->tgt->alias, why);
        return;
    }
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(f->producer, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS);
    admin_opts(f, opts, t);
    rd_kafka_CreatePartitions(f->producer, &np, 1, opts, f->tgt_q);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewPartitions_destroy(np);
    t->growing = true;
}

/* Resumes the partitions of t that exist on both sides and were never resumed. */
static void resume_new_parts(st_mflow *f, mf_topic *t)
{
    int32_t n = t->src_partitions < t->tgt_partitions ? t->src_partitions : t->tgt_partitions;
    if (mf_topic_grow(t, n) != 0) {
        mf_error(f, "out of memory adding partitions of %s", t->name);
        return;
    }
    mf_part **todo = calloc((size_t)(t->nparts ? t->nparts : 1), sizeof(*todo));
    size_t ntodo = 0;
    for (int32_t p = 0; todo && p < t->nparts; p++)
        if (!t->parts[p]->resumed && !t->parts[p]->stopped)
            todo[ntodo++] = t->parts[p];
    mf_resume_parts(f, todo, ntodo);
    free(todo);
}

static void topic_gone(st_mflow *f, mf_topic *t)
{
    t->deleted = true;
    for (int32_t p = 0; p < t->nparts; p++) {
        mf_part *part = t->parts[p];
        mf_unassign(f, part);
        int64_t from = part->delivered >= 0 ? part->delivered : 0;
        if (part->source_end > from && !t->heartbeat) {
            json_array_append_new(f->gaps, json_pack("{s:s,s:i,s:I,s:I}", "topic", t->name,
                                                     "partition", (int)p, "from", (json_int_t)from,
                                                     "to", (json_int_t)part->source_end));
            mf_error(f,
                     "%s[%d]: topic deleted on %s before records [%" PRId64 ", %" PRId64
                     ") were copied",
                     t->name, (int)p, f->src->alias, from, part->source_end);
        }
    }
    mf_error(f,
             "source topic %s was deleted on %s; no longer copied (its copy %s on %s is "
             "kept)",
             t->name, f->src->alias, t->target, f->tgt->alias);
}

void mf_sync(st_mflow *f, int64_t now_ms)
{
    static const char *const hb_conf[] = {"retention.ms", "86400000", NULL};
    const struct rd_kafka_metadata *src_md = NULL, *tgt_md = NULL;
    rd_kafka_resp_err_t err =
        rd_kafka_metadata(f->src_producer, 1, NULL, &src_md, MF_SYNC_METADATA_MS);
    if (err) {
        mf_error(f, "listing topics on %s: %s", f->src->alias, rd_kafka_err2str(err));
        goto out;
    }
    err = rd_kafka_metadata(f->producer, 1, NULL, &tgt_md, MF_SYNC_METADATA_MS);
    if (err) {
        mf_error(f, "listing topics on %s: %s", f->tgt->alias, rd_kafka_err2str(err));
        goto out;
    }
    bool have_hb = false;
    for (int i = 0; i < src_md->topic_cnt; i++)
        if (strcmp(src_md->topics[i].topic, ST_MIRROR_HEARTBEATS_TOPIC) == 0)
            have_hb = true;
    if (!have_hb)
        create_internal_topic(f, f->src_producer, f->src->alias, ST_MIRROR_HEARTBEATS_TOPIC,
                              hb_conf);
    for (size_t i = 0; i < f->ntopics; i++)
        f->topics[i]->src_partitions = -1; /* marks "not seen" */
    for (int i = 0; i < src_md->topic_cnt; i++) {
        const struct rd_kafka_metadata_topic *mt = &src_md->topics[i];
        if (mt->err)
            continue;
        if (strcmp(mt->topic, ST_MIRROR_HEARTBEATS_TOPIC) != 0 &&
            !st_mflow_topic_selected(f->fc, mt->topic))
            continue;
        mf_topic *t = mf_topic_find(f, mt->topic);
        if (!t) {
            char target[MF_TOPIC_NAME_MAX];
            if (st_mflow_target_topic(f->fc, mt->topic, target, sizeof(target)) != 0) {
                mf_error(f, "topic %s: the target name is too long", mt->topic);
                continue;
            }
            t = mf_topic_add(f, mt->topic, target);
            if (!t)
                continue;
            st_info("%s: mirroring %s → %s:%s", f->fc->name, mt->topic, f->tgt->alias, target);
        }
        t->src_partitions = mt->partition_cnt;
        t->tgt_partitions = 0;
        for (int j = 0; j < tgt_md->topic_cnt; j++)
            if (!tgt_md->topics[j].err && strcmp(tgt_md->topics[j].topic, t->target) == 0)
                t->tgt_partitions = tgt_md->topics[j].partition_cnt;
    }
    for (size_t i = 0; i < f->ntopics; i++) {
        mf_topic *t = f->topics[i];
        if (t->src_partitions < 0) {
            if (!t->deleted && t->state == MF_T_READY)
                topic_gone(f, t);
            continue;
        }
        if (t->deleted) {
            /* recreated: offsets start again at 0 and would mix with the old copy */
            continue;
        }
        switch (t->state) {
        case MF_T_FAILED:
            if (st_mono_ms() < t->retry_ms)
                break;
            /* fall through */
        case MF_T_NEW:
            if (t->tgt_partitions > 0)
                t->state = MF_T_READY;
            else if (f->fc->sync_configs && !t->heartbeat)
                describe_configs(f, t);
            else
                create_topic(f, t, NULL, 0);
            break;
        default:
            break;
        }
        if (t->state != MF_T_READY)
            continue;
        if (t->tgt_partitions < t->src_partitions && !t->growing) {
            if (f->fc->sync_partitions)
                grow_topic(f, t);
            else
                mf_error(f,
                         "%s has %d partitions on %s but %s only %d on %s (sync_partitions "
                         "is off): the extra partitions are not copied",
                         t->name, t->src_partitions, f->src->alias, t->target, t->tgt_partitions,
                         f->tgt->alias);
        }
        resume_new_parts(f, t);
    }
out:
    if (src_md)
        rd_kafka_metadata_destroy(src_md);
    if (tgt_md)
        rd_kafka_metadata_destroy(tgt_md);
    (void)now_ms;
}

void mf_heartbeat(st_mflow *f, int64_t now_ms)
{
    const char *name = f->fc->name;
    rd_kafka_resp_err_t err = rd_kafka_producev(
        f->src_producer, RD_KAFKA_V_TOPIC(ST_MIRROR_HEARTBEATS_TOPIC), RD_KAFKA_V_PARTITION(0),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE((void *)name, strlen(name)),
        RD_KAFKA_V_TIMESTAMP(now_ms), RD_KAFKA_V_END);
    if (err && err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
        mf_error(f, "heartbeat to %s: %s", f->src->alias, rd_kafka_err2str(err));
}

/* ---- admin results ---- */

static bool topic_known(st_mflow *f, mf_topic *t)
{
    for (size_t i = 0; i < f->ntopics; i++)
        if (f->topics[i] == t)
            return true;
    return false;
}

static void on_describe_configs(st_mflow *f, rd_kafka_event_t *ev, mf_topic *t)
{
    size_t nres = 0, nconf = 0, keep = 0;
    const rd_kafka_ConfigResource_t **res = NULL;
    const rd_kafka_ConfigEntry_t **entries = NULL, **chosen = NULL;
    if (rd_kafka_event_error(ev)) {
        mf_error(f, "reading the configs of %s on %s: %s (creating it with defaults)", t->name,
                 f->src->alias, rd_kafka_event_error_string(ev));
    } else {
        res = rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev),
                                                        &nres);
        if (nres > 0 && !rd_kafka_ConfigResource_error(res[0]))
            entries = rd_kafka_ConfigResource_configs(res[0], &nconf);
    }
    chosen = calloc(nconf ? nconf : 1, sizeof(*chosen));
    for (size_t i = 0; chosen && i < nconf; i++) {
        const rd_kafka_ConfigEntry_t *e = entries[i];
        rd_kafka_ConfigSource_t src = rd_kafka_ConfigEntry_source(e);
        /* only what was set on this topic; broker defaults belong to the target's broker */
        if (rd_kafka_ConfigEntry_is_read_only(e) || rd_kafka_ConfigEntry_is_sensitive(e) ||
            !rd_kafka_ConfigEntry_value(e))
            continue;
        if (src == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG ||
            (src == RD_KAFKA_CONFIG_SOURCE_UNKNOWN_CONFIG && !rd_kafka_ConfigEntry_is_default(e)))
            chosen[keep++] = e;
    }
    create_topic(f, t, chosen, keep);
    free(chosen);
}

static void on_create_topics(st_mflow *f, rd_kafka_event_t *ev, mf_topic *t)
{
    size_t n = 0;
    const rd_kafka_topic_result_t **res = NULL;
    const char *why = rd_kafka_event_error(ev) ? rd_kafka_event_error_string(ev) : NULL;
    rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
    if (!e) {
        res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        if (n > 0) {
            e = rd_kafka_topic_result_error(res[0]);
            why = rd_kafka_topic_result_error_string(res[0]);
        }
    }
    if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        mf_error(f, "creating %s on %s: %s; retrying in %" PRId64 " ms", t->target, f->tgt->alias,
                 why ? why : rd_kafka_err2str(e), f->fc->sync_interval_ms);
        t->state = MF_T_FAILED;
        t->retry_ms = st_mono_ms() + f->fc->sync_interval_ms;
        return;
    }
    if (!e)
        st_info("%s: created %s on %s with %d partition(s)", f->fc->name, t->target, f->tgt->alias,
                t->src_partitions);
    t->state = MF_T_READY;
    if (t->tgt_partitions < t->src_partitions)
        t->tgt_partitions = t->src_partitions;
    resume_new_parts(f, t);
    mf_assign_ready(f);
}

static void on_create_partitions(st_mflow *f, rd_kafka_event_t *ev, mf_topic *t)
{
    size_t n = 0;
    rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
    const char *why = e ? rd_kafka_event_error_string(ev) : NULL;
    t->growing = false;
    if (!e) {
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &n);
        if (n > 0) {
            e = rd_kafka_topic_result_error(res[0]);
            why = rd_kafka_topic_result_error_string(res[0]);
        }
    }
    if (e) {
        mf_error(f, "growing %s on %s to %d partitions: %s", t->target, f->tgt->alias,
                 t->src_partitions, why ? why : rd_kafka_err2str(e));
        return;
    }
    st_info("%s: %s on %s now has %d partitions", f->fc->name, t->target, f->tgt->alias,
            t->src_partitions);
    t->tgt_partitions = t->src_partitions;
    resume_new_parts(f, t);
    mf_assign_ready(f);
}

bool mf_sync_event(st_mflow *f, rd_kafka_event_t *ev)
{
    rd_kafka_event_type_t type = rd_kafka_event_type(ev);
    if (type != RD_KAFKA_EVENT_CREATETOPICS_RESULT &&
        type != RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT &&
        type != RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT)
        return false;
    mf_topic *t = rd_kafka_event_opaque(ev);
    if (!t || !topic_known(f, t))
        return true; /* answer for a topic set replaced by failback */
    if (type == RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT)
        on_describe_configs(f, ev, t);
    else if (type == RD_KAFKA_EVENT_CREATETOPICS_RESULT)
        on_create_topics(f, ev, t);
    else
        on_create_partitions(f, ev, t);
    return true;
}
