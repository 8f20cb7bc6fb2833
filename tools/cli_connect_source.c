/*
 * The source half of the worker: records from a source task go to an idempotent
 * producer; the stored position (offset.storage.file.filename) only ever names a record
 * the broker acknowledged, with every record before it — acknowledge, then store.
 *
 * Exact restart. A run can stop between the broker's acknowledgement and the next store
 * (a crash, a kill, the flush interval). So every record carries two headers:
 *
 *   strait.connect.source    "<connector name>\0<source partition>"
 *   strait.connect.position  the record's position, in decimal
 *
 * and the offsets file keeps, next to the position P, a mark per topic partition: an
 * offset below which no record of this connector with a position after P can be. At
 * start the worker reads each partition from its mark to its end, collects the
 * positions after P found there (records that made it), and the task re-reads from P
 * but hands those back marked delivered: they are counted, not sent again. Lines whose
 * records never made it are sent. Marks only move past records whose position is
 * stored, in per-partition order (the idempotent producer keeps it), so the scan is
 * short: what the last run sent after its last store.
 *
 * The offsets file is JSON, replaced atomically (common/fileio.c):
 *   {"format": 1, "sources": {"<name>": {"<source partition>":
 *       {"topic": "...", "position": P, "marks": {"0": 17, "1": 5}}}}}
 * It is strait's own format, not Kafka Connect's (a Java serialized map).
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/clock.h"
#include "common/fileio.h"
#include "tools/cli_connect.h"

#define RING_CAP          20000 /* records in flight at most */
#define POLL_BATCH        500
#define RECOVERY_TIMEOUT  60000
#define META_TIMEOUT_MS   10000
#define MAX_PARTITIONS    10000
#define HDR_SOURCE        "strait.connect.source"
#define HDR_POSITION      "strait.connect.position"
#define OFFSETS_MAX_BYTES (16 << 20)

enum { E_SENT, E_ACKED, E_FAILED };

typedef struct inflight {
    int64_t position;
    int32_t partition; /* -1: not sent (found delivered by recovery) */
    int64_t offset;
    uint8_t state;
} inflight;

struct cc_source {
    const cc_worker *w;
    const cc_connector_type *type;
    void *task;
    char *name;
    cc_converter value_conv;
    rd_kafka_t *rk;
    char *tag; /* the strait.connect.source header value */
    size_t tag_len;
    inflight *ring;
    uint64_t head_seq; /* sequence number of ring[head] */
    size_t head, count;
    int64_t position;      /* stored: acknowledged with everything before it */
    int64_t recovered_max; /* highest position recovery found delivered (-1 none) */
    int64_t *marks;        /* per partition; -1: none */
    size_t nmarks;
    bool dirty, resumable, stopping;
    int64_t last_store_ms;
    int64_t sent, skipped, acked;
    char failure[512];
};

/* ---- the offsets file ---- */

static json_t *offsets_load(const char *path, char *err, size_t errlen)
{
    char *buf = malloc(OFFSETS_MAX_BYTES);
    size_t len;
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int rc = st_file_read_small(path, buf, OFFSETS_MAX_BYTES, &len, err, errlen);
    json_t *doc = NULL;
    if (rc == 1) {
        doc = json_pack("{s:i, s:{}}", "format", 1, "sources");
    } else if (rc == 0) {
        json_error_t jerr;
        doc = json_loadb(buf, len, 0, &jerr);
        if (!doc || !json_is_object(json_object_get(doc, "sources")))
            snprintf(err, errlen,
                     "%s: not a strait connect offsets file (%s); move it away to start over", path,
                     doc ? "no \"sources\" object" : jerr.text);
        if (doc && !json_is_object(json_object_get(doc, "sources"))) {
            json_decref(doc);
            doc = NULL;
        }
    }
    free(buf);
    return doc;
}

static int offsets_store(cc_source *s, char *err, size_t errlen)
{
    const char *path = s->w->offsets_path;
    json_t *doc = offsets_load(path, err, errlen);
    if (!doc)
        return -1;
    json_t *sources = json_object_get(doc, "sources");
    json_t *mine = json_object_get(sources, s->name);
    if (!json_is_object(mine)) {
        mine = json_object();
        json_object_set_new(sources, s->name, mine);
    }
    json_t *marks = json_object();
    for (size_t p = 0; p < s->nmarks; p++) {
        if (s->marks[p] < 0)
            continue;
        char key[24];
        snprintf(key, sizeof key, "%zu", p);
        json_object_set_new(marks, key, json_integer(s->marks[p]));
    }
    json_object_set_new(mine, s->type->source->partition(s->task),
                        json_pack("{s:s, s:I, s:o}", "topic", s->type->source->topic(s->task),
                                  "position", (json_int_t)s->position, "marks", marks));
    char *text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
    json_decref(doc);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char copy[PATH_MAX], copy2[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    snprintf(copy2, sizeof copy2, "%s", path);
    size_t len = strlen(text);
    text[len++] = '\n'; /* json_dumps leaves room: it ends with the NUL we overwrite */
    int rc = st_file_write_atomic(dirname(copy), basename(copy2), text, len, true, err, errlen);
    free(text);
    if (rc)
        return -1;
    s->dirty = false;
    return 0;
}

/* ---- delivery ---- */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    cc_source *s = opaque;
    uint64_t seq = (uint64_t)(uintptr_t)m->_private;
    if (seq < s->head_seq || seq - s->head_seq >= s->count)
        return; /* cannot happen: entries leave the ring only once acknowledged */
    inflight *e = &s->ring[(s->head + (size_t)(seq - s->head_seq)) % RING_CAP];
    if (m->err) {
        e->state = E_FAILED;
        if (!s->failure[0])
            snprintf(s->failure, sizeof s->failure,
                     "the record at position %" PRId64 " was not delivered to %s: %s", e->position,
                     rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
        return;
    }
    e->state = E_ACKED;
    e->partition = m->partition;
    e->offset = m->offset;
}

/* Makes room for partition p's mark (new ones -1). 0, or -1 (too many, out of memory:
 * the mark then stays absent, which only makes the next recovery read more). */
static int grow_marks(cc_source *s, size_t p)
{
    if (p < s->nmarks)
        return 0;
    if (p >= MAX_PARTITIONS)
        return -1;
    int64_t *grown = realloc(s->marks, (p + 1) * sizeof *grown);
    if (!grown)
        return -1;
    for (size_t i = s->nmarks; i <= p; i++)
        grown[i] = -1;
    s->marks = grown;
    s->nmarks = p + 1;
    return 0;
}

/* Moves the stored position over the acknowledged head of the ring. */
static void advance(cc_source *s)
{
    while (s->count && s->ring[s->head].state == E_ACKED) {
        inflight *e = &s->ring[s->head];
        s->position = e->position;
        /* Past every recovered position, a mark may move: nothing of ours in this
         * partition after the stored position is below it (see the file comment). */
        if (e->partition >= 0 && e->position > s->recovered_max &&
            grow_marks(s, (size_t)e->partition) == 0 && e->offset + 1 > s->marks[e->partition])
            s->marks[e->partition] = e->offset + 1;
        s->head = (s->head + 1) % RING_CAP;
        s->head_seq++;
        s->count--;
        s->acked++;
        s->dirty = true;
    }
}

/* ---- recovery ---- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int push_position(cc_positions *d, size_t *cap, int64_t v)
{
    if (d->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        int64_t *p = realloc(d->v, ncap * sizeof *p);
        if (!p)
            return -1;
        d->v = p;
        *cap = ncap;
    }
    d->v[d->n++] = v;
    return 0;
}

/* The partition count of topic (0 when it does not exist). -1 with err. */
static int topic_partitions(rd_kafka_t *rk, const char *topic, char *err, size_t errlen)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, META_TIMEOUT_MS);
    rd_kafka_topic_destroy(rkt);
    if (e) {
        snprintf(err, errlen, "metadata of topic %s: %s", topic, rd_kafka_err2str(e));
        return -1;
    }
    int n = 0;
    if (md->topic_cnt == 1 && !md->topics[0].err)
        n = md->topics[0].partition_cnt;
    else if (md->topic_cnt == 1 && md->topics[0].err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        snprintf(err, errlen, "metadata of topic %s: %s", topic,
                 rd_kafka_err2str(md->topics[0].err));
        n = -1;
    }
    rd_kafka_metadata_destroy(md);
    if (n > MAX_PARTITIONS) {
        snprintf(err, errlen, "topic %s has %d partitions, more than %d", topic, n, MAX_PARTITIONS);
        return -1;
    }
    return n;
}

/*
 * Reads every partition of the topic from its mark to its current end and collects the
 * positions after s->position of this connector's records into *found. Sets the marks
 * of partitions that had none (fresh state) to their ends. 0, or -1 with err.
 */
static int recover(cc_source *s, rd_kafka_conf_t *conf, bool fresh, cc_positions *found, char *err,
                   size_t errlen)
{
    char why[512];
    const char *topic = s->type->source->topic(s->task);
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", why, sizeof why);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", why, sizeof why);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    if (!rk) {
        snprintf(err, errlen, "cannot create the recovery consumer: %s", why);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    int rc = -1;
    size_t cap = 0;
    int64_t *hi = NULL;
    rd_kafka_topic_partition_list_t *list = NULL;
    int n = topic_partitions(rk, topic, err, errlen);
    if (n < 0)
        goto out;
    hi = calloc((size_t)n + 1, sizeof *hi);
    if (!hi || (n > 0 && grow_marks(s, (size_t)n - 1))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    list = rd_kafka_topic_partition_list_new(n ? n : 1);
    int pending = 0;
    for (int p = 0; p < n; p++) {
        int64_t lo;
        rd_kafka_resp_err_t e =
            rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi[p], META_TIMEOUT_MS);
        if (e) {
            snprintf(err, errlen, "end offsets of %s [%d]: %s", topic, p, rd_kafka_err2str(e));
            goto out;
        }
        if (fresh) { /* nothing of ours can be there: start marking at the end */
            s->marks[p] = hi[p];
            continue;
        }
        int64_t from = s->marks[p] > lo ? s->marks[p] : lo;
        if (from < hi[p]) {
            rd_kafka_topic_partition_list_add(list, topic, p)->offset = from;
            pending++;
        }
    }
    rd_kafka_resp_err_t ae = pending ? rd_kafka_assign(rk, list) : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (ae) {
        snprintf(err, errlen, "cannot read %s back for recovery: %s", topic, rd_kafka_err2str(ae));
        goto out;
    }
    int64_t deadline = st_mono_ms() + RECOVERY_TIMEOUT, scanned = 0;
    while (pending > 0) {
        if (st_mono_ms() > deadline) {
            snprintf(err, errlen,
                     "recovery: %s not read back within %d s (%d partitions left, %" PRId64
                     " records read); is the broker up?",
                     topic, RECOVERY_TIMEOUT / 1000, pending, scanned);
            goto out;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        int p = m->partition;
        bool done = false;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            done = true;
        } else if (m->err) {
            snprintf(err, errlen, "recovery: reading %s [%d]: %s", topic, p,
                     rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            goto out;
        } else {
            scanned++;
            rd_kafka_headers_t *h = NULL;
            const void *src, *pos;
            size_t src_len, pos_len;
            if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR &&
                rd_kafka_header_get_last(h, HDR_SOURCE, &src, &src_len) == 0 &&
                src_len == s->tag_len && memcmp(src, s->tag, src_len) == 0 &&
                rd_kafka_header_get_last(h, HDR_POSITION, &pos, &pos_len) == 0 && pos_len < 24) {
                char num[24];
                memcpy(num, pos, pos_len);
                num[pos_len] = '\0';
                int64_t v = strtoll(num, NULL, 10);
                if (v > s->position && push_position(found, &cap, v)) {
                    snprintf(err, errlen, "out of memory");
                    rd_kafka_message_destroy(m);
                    goto out;
                }
            }
            done = m->offset + 1 >= hi[p];
        }
        rd_kafka_message_destroy(m);
        if (done && p >= 0 && p < n && hi[p] >= 0) {
            hi[p] = -1; /* counted once */
            pending--;
        }
    }
    qsort(found->v, found->n, sizeof *found->v, cmp_i64);
    size_t u = 0;
    for (size_t i = 0; i < found->n; i++)
        if (!u || found->v[u - 1] != found->v[i])
            found->v[u++] = found->v[i];
    found->n = u;
    if (!fresh)
        fprintf(stderr,
                "strait connect: %s: resuming after position %" PRId64 "; %" PRId64
                " records read back, %zu sent after it by the last run are not sent again\n",
                s->name, s->position, scanned, found->n);
    rc = 0;
out:
    if (list)
        rd_kafka_topic_partition_list_destroy(list);
    free(hi);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

/* ---- the source ---- */

cc_source *cc_source_new(const cc_worker *w, cc_props *conn, const cc_connector_type *type,
                         void *task, char *err, size_t errlen)
{
    cc_source *s = calloc(1, sizeof *s);
    if (!s) {
        type->destroy(task);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->w = w;
    s->type = type;
    s->task = task;
    s->position = -1;
    s->recovered_max = -1;
    s->name = strdup(cc_props_get(conn, "name", ""));
    s->ring = calloc(RING_CAP, sizeof *s->ring);
    const char *part = type->source->partition(task);
    s->tag_len = strlen(s->name ? s->name : "") + 1 + strlen(part);
    s->tag = malloc(s->tag_len + 1);
    if (!s->name || !s->ring || !s->tag) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    memcpy(s->tag, s->name, strlen(s->name) + 1);
    memcpy(s->tag + strlen(s->name) + 1, part, strlen(part) + 1);
    s->resumable = type->source->resumable(task);
    cc_converter key_conv;
    if (cc_converter_config(w->props, conn, "key.converter", &key_conv, err, errlen) ||
        cc_converter_config(w->props, conn, "value.converter", &s->value_conv, err, errlen))
        goto fail;
    return s;
fail:
    cc_source_free(s);
    return NULL;
}

/* A client config from the worker file plus the given settings. NULL with err. */
static rd_kafka_conf_t *client_conf(cc_source *s, const char *client, const char *const *kv,
                                    char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char why[512];
    for (size_t i = 0; kv[i]; i += 2) {
        if (rd_kafka_conf_set(conf, kv[i], kv[i + 1], why, sizeof why) != RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "%s: %s", kv[i], why);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    if (cc_client_config(s->w->props, client, conf, err, errlen)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

/* Reads this connector's entry for its source partition from the offsets file: 1 found,
 * 0 none, -1 with err. */
static int load_state(cc_source *s, char *err, size_t errlen)
{
    json_t *doc = offsets_load(s->w->offsets_path, err, errlen);
    if (!doc)
        return -1;
    json_t *e = json_object_get(json_object_get(json_object_get(doc, "sources"), s->name),
                                s->type->source->partition(s->task));
    int found = 0;
    if (json_is_object(e) && json_is_integer(json_object_get(e, "position"))) {
        const char *topic = json_string_value(json_object_get(e, "topic"));
        if (topic && strcmp(topic, s->type->source->topic(s->task)) != 0) {
            /* Another topic than last time: its records there say nothing about this one. */
            fprintf(stderr,
                    "strait connect: %s: the topic changed from %s to %s; resuming at the "
                    "stored position without reading %s back\n",
                    s->name, topic, s->type->source->topic(s->task), topic);
        }
        s->position = json_integer_value(json_object_get(e, "position"));
        json_t *marks = json_object_get(e, "marks"), *v;
        const char *key;
        json_object_foreach(marks, key, v)
        {
            long p = strtol(key, NULL, 10);
            if (p < 0 || p >= MAX_PARTITIONS || !json_is_integer(v))
                continue;
            if (grow_marks(s, (size_t)p)) {
                json_decref(doc);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            s->marks[p] = json_integer_value(v);
        }
        found = 1;
    }
    json_decref(doc);
    return found;
}

int cc_source_start(cc_source *s, char *err, size_t errlen)
{
    cc_positions found = {0};
    int rc = -1;
    int have = s->resumable ? load_state(s, err, errlen) : 0;
    if (have < 0)
        goto out;
    if (s->resumable) {
        /* librdkafka assigns partitions only with a group.id; this one never joins nor
         * commits (assign, no subscribe; auto-commit off). */
        char group[300];
        snprintf(group, sizeof group, "strait-connect-recovery-%s", s->name);
        const char *base[] = {"client.id", "strait-connect-recovery", "group.id", group, NULL};
        rd_kafka_conf_t *conf = client_conf(s, "consumer", base, err, errlen);
        if (!conf || recover(s, conf, have == 0, &found, err, errlen))
            goto out;
        if (found.n)
            s->recovered_max = found.v[found.n - 1];
    }
    char client_id[300];
    snprintf(client_id, sizeof client_id, "connector-producer-%s-0", s->name);
    /* Idempotent (acks=all, ordered retries), never giving up on a record: Kafka
     * Connect's own producer settings for sources. */
    const char *base[] = {"client.id",
                          client_id,
                          "enable.idempotence",
                          "true",
                          "message.timeout.ms",
                          "0",
                          "linger.ms",
                          "5",
                          NULL};
    rd_kafka_conf_t *conf = client_conf(s, "producer", base, err, errlen);
    if (!conf)
        goto out;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, s);
    char why[512];
    s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!s->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "cannot create the producer: %s", why);
        goto out;
    }
    if (s->type->source->start(s->task, s->position, &found, err, errlen))
        goto out;
    /* Stored before anything is sent: a crash from here on finds the marks. */
    if (s->resumable && offsets_store(s, err, errlen))
        goto out;
    s->last_store_ms = st_mono_ms();
    rc = 0;
out:
    free(found.v);
    return rc;
}

/* Sends one record; 0, 1 when the producer's queue is full (try again), -1 fatal. */
static int send_record(cc_source *s, const cc_source_record *r, cc_bytes *val, char *err,
                       size_t errlen)
{
    bool is_null;
    if (cc_convert_from_string(&s->value_conv, r->value, r->value_len, r->value == NULL, val,
                               &is_null)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char pos[24];
    int pos_len = snprintf(pos, sizeof pos, "%" PRId64, r->position);
    uint64_t seq = s->head_seq + s->count;
    rd_kafka_resp_err_t e =
        rd_kafka_producev(s->rk, RD_KAFKA_V_TOPIC(s->type->source->topic(s->task)),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_VALUE(is_null ? NULL : val->p, is_null ? 0 : val->len),
                          RD_KAFKA_V_HEADER(HDR_SOURCE, s->tag, (ssize_t)s->tag_len),
                          RD_KAFKA_V_HEADER(HDR_POSITION, pos, (ssize_t)pos_len),
                          RD_KAFKA_V_OPAQUE((void *)(uintptr_t)seq), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        return 1;
    if (e) {
        snprintf(err, errlen, "%s: cannot send to %s: %s", s->name, s->type->source->topic(s->task),
                 rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

int cc_source_step(cc_source *s, int64_t now_ms, char *err, size_t errlen)
{
    int moved = 0;
    rd_kafka_poll(s->rk, 0);
    advance(s);
    if (s->failure[0]) {
        snprintf(err, errlen, "%s: %s", s->name, s->failure);
        return -1;
    }
    char fatal[256];
    if (rd_kafka_fatal_error(s->rk, fatal, sizeof fatal)) {
        snprintf(err, errlen, "%s: the producer failed: %s", s->name, fatal);
        return -1;
    }
    if (!s->stopping && RING_CAP - s->count >= POLL_BATCH) {
        cc_source_record recs[POLL_BATCH];
        int n = s->type->source->poll(s->task, recs, POLL_BATCH, err, errlen);
        if (n < 0) {
            char inner[400];
            snprintf(inner, sizeof inner, "%s", err);
            snprintf(err, errlen, "%s: %s", s->name, inner);
            return -1;
        }
        cc_bytes val = {0};
        for (int i = 0; i < n; i++) {
            inflight *e = &s->ring[(s->head + s->count) % RING_CAP];
            e->position = recs[i].position;
            e->partition = -1;
            e->offset = -1;
            if (recs[i].delivered) {
                e->state = E_ACKED;
                s->count++;
                s->skipped++;
                continue;
            }
            int rc;
            while ((rc = send_record(s, &recs[i], &val, err, errlen)) == 1 && !*s->w->stop)
                rd_kafka_poll(s->rk, 50); /* deliveries make room */
            if (rc < 0) {
                cc_bytes_free(&val);
                return -1;
            }
            if (rc == 1) {
                /* Stopping with the producer's queue full: the rest of this batch is not
                 * sent, and its positions are not stored; the next start reads it again. */
                s->stopping = true;
                break;
            }
            e->state = E_SENT;
            s->count++;
            s->sent++;
        }
        cc_bytes_free(&val);
        moved = n;
        advance(s);
    }
    if (s->resumable && s->dirty && now_ms - s->last_store_ms >= s->w->flush_interval_ms) {
        if (offsets_store(s, err, errlen))
            return -1;
        s->last_store_ms = now_ms;
    }
    return moved;
}

int cc_source_stop(cc_source *s, int64_t timeout_ms, char *err, size_t errlen)
{
    s->stopping = true;
    if (!s->rk)
        return 0;
    rd_kafka_resp_err_t e = rd_kafka_flush(s->rk, (int)timeout_ms);
    rd_kafka_poll(s->rk, 0);
    advance(s);
    int rc = 0;
    if (s->resumable && offsets_store(s, err, errlen))
        rc = -1;
    fprintf(stderr,
            "strait connect: %s: %" PRId64 " records sent, %" PRId64 " acknowledged, %" PRId64
            " already in the topic; position %" PRId64 " stored%s\n",
            s->name, s->sent, s->acked - s->skipped, s->skipped, s->position,
            e ? " (records still in flight are sent again at the next start)" : "");
    return rc;
}

void cc_source_free(cc_source *s)
{
    if (!s)
        return;
    if (s->rk)
        rd_kafka_destroy(s->rk);
    if (s->task)
        s->type->destroy(s->task);
    free(s->ring);
    free(s->marks);
    free(s->tag);
    free(s->name);
    free(s);
}
