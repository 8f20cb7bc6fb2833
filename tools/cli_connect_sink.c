/*
 * The sink half of the worker: a consumer in group "connect-<name>" (Kafka Connect's
 * name for a sink's group) subscribed to topics= or topics.regex=, each record's value
 * converted to text and handed to the task. Every offset.flush.interval.ms, at a
 * rebalance and at the stop, the task flushes (the file sink: fsync) and then the
 * offsets are committed — after the write is durable, never before.
 *
 * Each commit carries the task's flush state as the offsets' metadata
 * ("t=<ms>;<state>", the file sink's state being "size=<bytes>"). When partitions are
 * assigned, the task opens with the newest state committed for them and drops what it
 * wrote after it (the file sink truncates), because those records come again from the
 * committed offsets: a crash between a write and its commit duplicates nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "tools/cli_connect.h"

#define POLL_MAX          1000 /* records per step */
#define COMMIT_TIMEOUT_MS 10000
#define STATE_MAX         256

struct cc_sink {
    const cc_worker *w;
    const cc_connector_type *type;
    void *task;
    char *name;
    cc_converter value_conv;
    rd_kafka_t *rk;
    rd_kafka_topic_partition_list_t *positions; /* assigned; .offset = next to write */
    bool dirty;
    int64_t last_flush_ms;
    int64_t written;
    char failure[512];
};

/* The newest flush state among the committed offsets' metadata ("t=<ms>;<state>"). */
static void newest_state(const rd_kafka_topic_partition_list_t *committed, char *out, size_t cap,
                         bool *found)
{
    long long best = -1;
    *found = false;
    for (int i = 0; i < committed->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &committed->elems[i];
        if (!p->metadata || !p->metadata_size || p->metadata_size >= STATE_MAX)
            continue;
        char meta[STATE_MAX];
        memcpy(meta, p->metadata, p->metadata_size);
        meta[p->metadata_size] = '\0';
        long long t;
        int used = 0;
        if (sscanf(meta, "t=%lld;%n", &t, &used) != 1 || !used || t <= best)
            continue;
        best = t;
        snprintf(out, cap, "%s", meta + used);
        *found = true;
    }
}

/* Flushes the task, then commits every assigned partition with a known position. */
static int flush_commit(cc_sink *s, char *err, size_t errlen)
{
    char state[STATE_MAX - 32], meta[STATE_MAX];
    if (s->type->sink->flush(s->task, state, sizeof state, err, errlen))
        return -1;
    s->last_flush_ms = st_mono_ms();
    if (!s->positions || !s->dirty)
        return 0;
    snprintf(meta, sizeof meta, "t=%" PRId64 ";%s", st_wall_ms(), state);
    rd_kafka_topic_partition_list_t *commit = rd_kafka_topic_partition_list_new(s->positions->cnt);
    for (int i = 0; i < s->positions->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &s->positions->elems[i];
        if (p->offset < 0)
            continue; /* nothing read nor committed yet: the reset policy decides */
        rd_kafka_topic_partition_t *c =
            rd_kafka_topic_partition_list_add(commit, p->topic, p->partition);
        c->offset = p->offset;
        c->metadata = strdup(meta);
        c->metadata_size = c->metadata ? strlen(meta) : 0;
    }
    int rc = 0;
    if (commit->cnt) {
        rd_kafka_resp_err_t e = rd_kafka_commit(s->rk, commit, 0);
        if (e) {
            /* Not fatal: the data is durable, the next commit covers it. */
            fprintf(stderr,
                    "strait connect: %s: committing offsets failed (%s); retrying at "
                    "the next flush\n",
                    s->name, rd_kafka_err2str(e));
        } else {
            s->dirty = false;
        }
    }
    rd_kafka_topic_partition_list_destroy(commit);
    return rc;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    cc_sink *s = opaque;
    char err[512];
    if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_topic_partition_list_t *committed = rd_kafka_topic_partition_list_copy(parts);
        rd_kafka_resp_err_t ce = rd_kafka_committed(rk, committed, COMMIT_TIMEOUT_MS);
        if (ce) {
            snprintf(s->failure, sizeof s->failure,
                     "reading the committed offsets of group "
                     "connect-%s: %s",
                     s->name, rd_kafka_err2str(ce));
            rd_kafka_topic_partition_list_destroy(committed);
            rd_kafka_assign(rk, NULL);
            return;
        }
        char state[STATE_MAX];
        bool found;
        newest_state(committed, state, sizeof state, &found);
        if (s->type->sink->open(s->task, found ? state : NULL, err, sizeof err)) {
            snprintf(s->failure, sizeof s->failure, "%s", err);
            rd_kafka_topic_partition_list_destroy(committed);
            rd_kafka_assign(rk, NULL);
            return;
        }
        /* A partition nothing was committed for starts at its log start (Kafka
         * Connect's earliest), committed at once with the file's state: from now on a
         * restart finds a commit to go back to, even before the first flush. */
        bool fresh = false;
        for (int i = 0; i < committed->cnt; i++) {
            rd_kafka_topic_partition_t *p = &committed->elems[i];
            free(p->metadata);
            p->metadata = NULL;
            p->metadata_size = 0;
            if (p->offset >= 0)
                continue;
            int64_t lo, hi;
            rd_kafka_resp_err_t we = rd_kafka_query_watermark_offsets(rk, p->topic, p->partition,
                                                                      &lo, &hi, COMMIT_TIMEOUT_MS);
            if (we) {
                snprintf(s->failure, sizeof s->failure, "start offset of %s [%d]: %s", p->topic,
                         (int)p->partition, rd_kafka_err2str(we));
                rd_kafka_topic_partition_list_destroy(committed);
                rd_kafka_assign(rk, NULL);
                return;
            }
            p->offset = lo;
            fresh = true;
        }
        if (s->positions)
            rd_kafka_topic_partition_list_destroy(s->positions);
        s->positions = rd_kafka_topic_partition_list_copy(committed);
        if (fresh) {
            s->dirty = true;
            if (flush_commit(s, err, sizeof err)) {
                snprintf(s->failure, sizeof s->failure, "%s", err);
                rd_kafka_topic_partition_list_destroy(committed);
                rd_kafka_assign(rk, NULL);
                return;
            }
        }
        rd_kafka_assign(rk, committed);
        rd_kafka_topic_partition_list_destroy(committed);
        return;
    }
    /* Revoked (or an error): make what was written durable and committed first. */
    if (s->positions && flush_commit(s, err, sizeof err) && !s->failure[0])
        snprintf(s->failure, sizeof s->failure, "%s", err);
    if (s->positions) {
        rd_kafka_topic_partition_list_destroy(s->positions);
        s->positions = NULL;
    }
    rd_kafka_assign(rk, NULL);
}

static void on_error(rd_kafka_t *rk, int e, const char *reason, void *opaque)
{
    cc_sink *s = opaque;
    if (e == RD_KAFKA_RESP_ERR__TRANSPORT || e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        fprintf(stderr, "strait connect: %s: %s (retrying)\n", s->name, reason);
        return;
    }
    if (rd_kafka_fatal_error(rk, NULL, 0) && !s->failure[0])
        snprintf(s->failure, sizeof s->failure, "the consumer failed: %s", reason);
}

cc_sink *cc_sink_new(const cc_worker *w, cc_props *conn, const cc_connector_type *type, void *task,
                     char *err, size_t errlen)
{
    cc_sink *s = calloc(1, sizeof *s);
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_topic_partition_list_t *subs = NULL;
    char why[512];
    if (!s) {
        type->destroy(task);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->w = w;
    s->type = type;
    s->task = task;
    s->name = strdup(cc_props_get(conn, "name", ""));
    if (!s->name) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    cc_converter key_conv;
    if (cc_converter_config(w->props, conn, "key.converter", &key_conv, err, errlen) ||
        cc_converter_config(w->props, conn, "value.converter", &s->value_conv, err, errlen))
        goto fail;
    const char *topics = cc_props_get(conn, "topics", ""),
               *regex = cc_props_get(conn, "topics.regex", "");
    if (!topics[0] == !regex[0]) {
        cc_props_fail(conn, topics[0] ? "topics.regex" : "topics", err, errlen,
                      "a sink connector needs exactly one of topics= (a comma-separated list) "
                      "and topics.regex=");
        goto fail;
    }
    subs = rd_kafka_topic_partition_list_new(4);
    if (regex[0]) {
        char anchored[1024];
        snprintf(anchored, sizeof anchored, "%s%s", regex[0] == '^' ? "" : "^", regex);
        rd_kafka_topic_partition_list_add(subs, anchored, RD_KAFKA_PARTITION_UA);
    } else {
        char *copy = strdup(topics), *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            while (*t == ' ' || *t == '\t')
                t++;
            size_t n = strlen(t);
            while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
                t[--n] = '\0';
            if (n)
                rd_kafka_topic_partition_list_add(subs, t, RD_KAFKA_PARTITION_UA);
        }
        free(copy);
        if (!subs->cnt) {
            cc_props_fail(conn, "topics", err, errlen, "names no topic");
            goto fail;
        }
    }
    char group[300], client_id[320];
    snprintf(group, sizeof group, "connect-%s", s->name);
    snprintf(client_id, sizeof client_id, "connector-consumer-%s-0", s->name);
    /* Kafka Connect's sink consumer: no auto-commit, from the earliest offset when the
     * group has none. */
    const char *base[] = {
        "group.id",          group,      "client.id", client_id, "enable.auto.commit", "false",
        "auto.offset.reset", "earliest", NULL};
    conf = rd_kafka_conf_new();
    for (size_t i = 0; base[i]; i += 2) {
        if (rd_kafka_conf_set(conf, base[i], base[i + 1], why, sizeof why) != RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "%s: %s", base[i], why);
            goto fail;
        }
    }
    if (cc_client_config(w->props, "consumer", conf, err, errlen))
        goto fail;
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_opaque(conf, s);
    s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    if (!s->rk) {
        snprintf(err, errlen, "cannot create the consumer: %s", why);
        goto fail;
    }
    conf = NULL;
    rd_kafka_poll_set_consumer(s->rk);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(s->rk, subs);
    if (e) {
        snprintf(err, errlen, "cannot subscribe: %s", rd_kafka_err2str(e));
        goto fail;
    }
    rd_kafka_topic_partition_list_destroy(subs);
    s->last_flush_ms = st_mono_ms();
    return s;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    if (subs)
        rd_kafka_topic_partition_list_destroy(subs);
    cc_sink_free(s);
    return NULL;
}

/* The position of topic/partition in the assignment, NULL if not assigned. */
static rd_kafka_topic_partition_t *position_of(cc_sink *s, const rd_kafka_message_t *m)
{
    if (!s->positions)
        return NULL;
    return rd_kafka_topic_partition_list_find(s->positions, rd_kafka_topic_name(m->rkt),
                                              m->partition);
}

int cc_sink_step(cc_sink *s, int64_t now_ms, char *err, size_t errlen)
{
    int moved = 0;
    cc_bytes text = {0};
    for (; moved < POLL_MAX; moved++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, 0);
        if (s->failure[0]) {
            if (m)
                rd_kafka_message_destroy(m);
            snprintf(err, errlen, "%s: %s", s->name, s->failure);
            cc_bytes_free(&text);
            return -1;
        }
        if (!m)
            break;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "strait connect: %s: %s\n", s->name, rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        char why[400];
        int rc = cc_convert_to_text(&s->value_conv, m->payload, m->len, &text, why, sizeof why);
        if (!rc)
            rc = s->type->sink->put(s->task, text.p, text.len, why, sizeof why);
        if (rc) {
            /* Kafka's errors.tolerance=none: the task stops at a record it cannot take;
             * nothing after it is committed, so nothing is lost. */
            snprintf(err, errlen, "%s: %s [%d] offset %" PRId64 ": %s", s->name,
                     rd_kafka_topic_name(m->rkt), (int)m->partition, m->offset, why);
            rd_kafka_message_destroy(m);
            cc_bytes_free(&text);
            return -1;
        }
        rd_kafka_topic_partition_t *pos = position_of(s, m);
        if (pos)
            pos->offset = m->offset + 1;
        s->dirty = true;
        s->written++;
        rd_kafka_message_destroy(m);
    }
    cc_bytes_free(&text);
    if (s->dirty && now_ms - s->last_flush_ms >= s->w->flush_interval_ms &&
        flush_commit(s, err, errlen))
        return -1;
    return moved;
}

int cc_sink_stop(cc_sink *s, char *err, size_t errlen)
{
    int rc = 0;
    if (s->rk) {
        if (s->positions && flush_commit(s, err, errlen))
            rc = -1;
        rd_kafka_consumer_close(s->rk); /* leaves the group (revoke: nothing left to do) */
    }
    fprintf(stderr, "strait connect: %s: %" PRId64 " records written%s\n", s->name, s->written,
            rc ? "" : ", offsets committed");
    return rc;
}

void cc_sink_free(cc_sink *s)
{
    if (!s)
        return;
    if (s->rk)
        rd_kafka_destroy(s->rk);
    if (s->positions)
        rd_kafka_topic_partition_list_destroy(s->positions);
    if (s->task)
        s->type->destroy(s->task);
    free(s->name);
    free(s);
}
