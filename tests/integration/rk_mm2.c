/*
 * rk_mm2: what MirrorMaker 2 leaves behind on two clusters, for test_mirror_mm2.sh — the
 * copies, its offset syncs and its checkpoints, in MM2's exact record formats (read from
 * MM2's sources: connect/mirror's OffsetSync, Checkpoint and MirrorSourceTask):
 *
 *   mm2-offset-syncs.<target alias>.internal (on the source, partition 0)
 *       key    int16 length + source topic | int32 partition
 *       value  int64 upstream offset | int64 downstream offset
 *   <source alias>.checkpoints.internal (on the target, partition 0)
 *       key    int16 length + group | int16 length + target topic | int32 partition
 *       value  int16 version 0 | int64 upstream offset | int64 downstream offset |
 *              int16 length + metadata
 *   (Kafka's Struct encoding: big-endian; a string is an int16 length and UTF-8 bytes.)
 *
 * Modes:
 *   copy SRC TGT SRC_ALIAS TGT_ALIAS TOPIC PARTITIONS UPTO [--recopy P:FROM:TO]
 *       copies records [0, UPTO) of each partition of TOPIC on SRC to "<SRC_ALIAS>.TOPIC"
 *       on TGT (same partition; key, value, headers, timestamp kept, nothing added), as
 *       MirrorSourceTask does, and emits offset syncs by its rule (PartitionState.update,
 *       offset.lag.max 100): on a partition's first record, when the upstream offset is
 *       not the previous one + 1, when the target drifted by 100 or went back. With
 *       --recopy, partition P copies FROM..TO again after TO (MM2 restarting from an
 *       older committed position: duplicates on the target, and a sync).
 *   checkpoint SRC TGT SRC_ALIAS TGT_ALIAS TOPIC PARTITIONS GROUP
 *       reads GROUP's committed offsets on SRC and writes a checkpoint per partition,
 *       translated as MM2's OffsetSyncStore does (the last sync at or before the upstream
 *       offset: its downstream offset, + 1 past it).
 *   checkpoint-put TGT SRC_ALIAS GROUP TARGET_TOPIC PARTITION UPSTREAM DOWNSTREAM
 *       writes one checkpoint record as given.
 * Prints what it did; any error fails the program.
 */
#include "rk_util.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

#define MAX_PARTS 64
#define MAX_SYNCS 100000

/* ---- the Struct encoding ---- */

typedef struct wbuf {
    uint8_t b[1024];
    size_t n;
} wbuf;

static void w_int(wbuf *w, int64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        w->b[w->n++] = (uint8_t)((uint64_t)v >> (8 * i));
}

static void w_str(wbuf *w, const char *s)
{
    size_t n = strlen(s);
    if (n > 500)
        rk_fail("string too long: %s", s);
    w_int(w, (int64_t)n, 2);
    memcpy(w->b + w->n, s, n);
    w->n += n;
}

static int64_t r_int(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

static void create_topic(rd_kafka_t *rk, const char *topic, int partitions, bool compact)
{
    char err[256];
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, -1, err, sizeof err);
    if (compact)
        rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 20000);
    if (!ev)
        rk_fail("CreateTopics %s: no answer", topic);
    size_t n = 0;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    if (n && rd_kafka_topic_result_error(res[0]) &&
        rd_kafka_topic_result_error(res[0]) != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        rk_fail("CreateTopics %s: %s", topic, rd_kafka_topic_result_error_string(res[0]));
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
}

static int64_t delivered_offset;
static int64_t *down_of; /* copy: the target offset of each produced record, by opaque */
static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    if (m->err)
        rk_fail("delivery to %s: %s", rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
    delivered_offset = m->offset;
    if (down_of && m->_private)
        down_of[(intptr_t)m->_private - 1] = m->offset;
}

static void produce_sync(rd_kafka_t *rk, const char *topic, int32_t partition, const void *key,
                         size_t klen, const void *val, size_t vlen, int64_t ts,
                         rd_kafka_headers_t *hdrs, int64_t *offset)
{
    delivered_offset = -1;
    rd_kafka_resp_err_t e =
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, klen),
                          RD_KAFKA_V_VALUE((void *)val, vlen), RD_KAFKA_V_TIMESTAMP(ts),
                          RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
    if (e)
        rk_fail("produce to %s: %s", topic, rd_kafka_err2str(e));
    if (rd_kafka_flush(rk, 20000) != RD_KAFKA_RESP_ERR_NO_ERROR || delivered_offset < 0)
        rk_fail("produce to %s: not delivered within 20 s", topic);
    if (offset)
        *offset = delivered_offset;
}

/* ---- copy ---- */

typedef struct pstate { /* MirrorSourceTask.PartitionState */
    int64_t prev_up, prev_down, sync_up, sync_down;
} pstate;

static bool should_sync(pstate *s, int64_t up, int64_t down)
{
    bool sync = false;
    int64_t target = s->sync_down + (up - s->sync_up);
    if (s->sync_down == -1 || down - target >= 100 || up - s->prev_up != 1 || down < s->prev_down) {
        s->sync_up = up;
        s->sync_down = down;
        sync = true;
    }
    s->prev_up = up;
    s->prev_down = down;
    return sync;
}

static int cmd_copy(int argc, char **argv)
{
    if (argc < 9)
        rk_fail("usage: copy SRC TGT SRC_ALIAS TGT_ALIAS TOPIC PARTITIONS UPTO [--recopy P:F:T]");
    const char *src = argv[2], *tgt = argv[3], *src_alias = argv[4], *tgt_alias = argv[5];
    const char *topic = argv[6];
    int parts = atoi(argv[7]);
    int64_t upto = atoll(argv[8]);
    int rp = -1;
    int64_t rfrom = 0, rto = 0;
    if (argc >= 11 && strcmp(argv[9], "--recopy") == 0 &&
        sscanf(argv[10], "%d:%" SCNd64 ":%" SCNd64, &rp, &rfrom, &rto) != 3)
        rk_fail("--recopy wants P:FROM:TO");
    if (parts < 1 || parts > MAX_PARTS)
        rk_fail("PARTITIONS must be 1..%d", MAX_PARTS);
    char remote[512], syncs[512];
    snprintf(remote, sizeof remote, "%s.%s", src_alias, topic);
    snprintf(syncs, sizeof syncs, "mm2-offset-syncs.%s.internal", tgt_alias);
    rd_kafka_conf_t *tconf = rk_conf(tgt);
    rk_set(tconf, "enable.idempotence", "true");
    rd_kafka_conf_set_dr_msg_cb(tconf, on_dr);
    rd_kafka_t *to = rk_new(RD_KAFKA_PRODUCER, tconf);
    rd_kafka_conf_t *sconf = rk_conf(src);
    rd_kafka_conf_set_dr_msg_cb(sconf, on_dr);
    rd_kafka_t *sp = rk_new(RD_KAFKA_PRODUCER, sconf);
    create_topic(to, remote, parts, false);
    create_topic(sp, syncs, 1, true);
    rd_kafka_t *from = rk_new(RD_KAFKA_CONSUMER, rk_conf(src));
    int64_t copied = 0, nsyncs = 0;
    size_t cap = (size_t)(upto + (rto - rfrom) + 16);
    int64_t *ups = malloc(cap * sizeof *ups);
    down_of = malloc(cap * sizeof *down_of);
    if (!ups || !down_of)
        rk_fail("out of memory");
    for (int p = 0; p < parts; p++) {
        /* the offsets MM2 copies, in its order: 0..upto-1, with the re-copy after rto; the
         * target producer keeps that order (idempotent), so the reports give each record's
         * target offset */
        int64_t next = 0;
        size_t n = 0;
        bool recopied = p != rp;
        rd_kafka_topic_t *rkt = rk_consume_start(from, topic, p, 0, NULL);
        while (next < upto) {
            rd_kafka_message_t *m = rd_kafka_consume(rkt, p, 10000);
            if (!m)
                rk_fail("%s[%d]: no record at %" PRId64 " within 10 s", topic, p, next);
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                rd_kafka_message_destroy(m);
                continue;
            }
            if (m->err)
                rk_fail("%s[%d]: %s", topic, p, rd_kafka_message_errstr(m));
            rd_kafka_headers_t *h = NULL, *copy = NULL;
            if (rd_kafka_message_headers(m, &h) == 0 && h)
                copy = rd_kafka_headers_copy(h);
            ups[n] = m->offset;
            down_of[n] = -1;
            n++;
            rd_kafka_resp_err_t e = rd_kafka_producev(
                to, RD_KAFKA_V_TOPIC(remote), RD_KAFKA_V_PARTITION(p),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(m->key, m->key_len),
                RD_KAFKA_V_VALUE(m->payload, m->len),
                RD_KAFKA_V_TIMESTAMP(rd_kafka_message_timestamp(m, NULL)), RD_KAFKA_V_HEADERS(copy),
                RD_KAFKA_V_OPAQUE((void *)(intptr_t)n), RD_KAFKA_V_END);
            if (e)
                rk_fail("produce to %s: %s", remote, rd_kafka_err2str(e));
            next = m->offset + 1;
            rd_kafka_message_destroy(m);
            if (!recopied && next == rto + 1) {
                recopied = true; /* MM2 restarted from an older committed position */
                next = rfrom;
                rk_consume_stop(rkt, p);
                rkt = rk_consume_start(from, topic, p, next, NULL);
            }
        }
        rk_consume_stop(rkt, p);
        if (rd_kafka_flush(to, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR)
            rk_fail("copying %s[%d]: not delivered within 60 s", topic, p);
        copied += (int64_t)n;
        pstate st = {-1, -1, -1, -1};
        for (size_t i = 0; i < n; i++) {
            if (down_of[i] < 0)
                rk_fail("copying %s[%d]: record %zu has no target offset", topic, p, i);
            if (!should_sync(&st, ups[i], down_of[i]))
                continue;
            wbuf k = {0}, v = {0};
            w_str(&k, topic);
            w_int(&k, p, 4);
            w_int(&v, ups[i], 8);
            w_int(&v, down_of[i], 8);
            rd_kafka_resp_err_t e = rd_kafka_producev(
                sp, RD_KAFKA_V_TOPIC(syncs), RD_KAFKA_V_PARTITION(0),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(k.b, k.n),
                RD_KAFKA_V_VALUE(v.b, v.n), RD_KAFKA_V_END);
            if (e)
                rk_fail("produce to %s: %s", syncs, rd_kafka_err2str(e));
            nsyncs++;
        }
        if (rd_kafka_flush(sp, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR)
            rk_fail("offset syncs: not delivered within 30 s");
    }
    free(ups);
    free(down_of);
    down_of = NULL;
    printf("copied %" PRId64 " records to %s, %" PRId64 " offset syncs to %s\n", copied, remote,
           nsyncs, syncs);
    rd_kafka_destroy(from);
    rd_kafka_destroy(to);
    rd_kafka_destroy(sp);
    return 0;
}

/* ---- checkpoints ---- */

static void put_checkpoint(rd_kafka_t *rk, const char *topic, const char *group,
                           const char *target_topic, int32_t partition, int64_t up, int64_t down)
{
    wbuf k = {0}, v = {0};
    w_str(&k, group);
    w_str(&k, target_topic);
    w_int(&k, partition, 4);
    w_int(&v, 0, 2); /* version */
    w_int(&v, up, 8);
    w_int(&v, down, 8);
    w_str(&v, "");
    produce_sync(rk, topic, 0, k.b, k.n, v.b, v.n, 0, NULL, NULL);
}

static int cmd_checkpoint(int argc, char **argv)
{
    if (argc != 9)
        rk_fail("usage: checkpoint SRC TGT SRC_ALIAS TGT_ALIAS TOPIC PARTITIONS GROUP");
    const char *src = argv[2], *tgt = argv[3], *src_alias = argv[4], *tgt_alias = argv[5];
    const char *topic = argv[6], *group = argv[8];
    int parts = atoi(argv[7]);
    static int64_t syncs[MAX_PARTS][MAX_SYNCS][2];
    static size_t nsyncs[MAX_PARTS];
    char syncs_topic[512], ckpt_topic[512], remote[512];
    snprintf(syncs_topic, sizeof syncs_topic, "mm2-offset-syncs.%s.internal", tgt_alias);
    snprintf(ckpt_topic, sizeof ckpt_topic, "%s.checkpoints.internal", src_alias);
    snprintf(remote, sizeof remote, "%s.%s", src_alias, topic);
    /* MM2's offset sync store: every sync, in order */
    rd_kafka_conf_t *cconf = rk_conf(src);
    rk_set(cconf, "enable.partition.eof", "true");
    rd_kafka_t *c = rk_new(RD_KAFKA_CONSUMER, cconf);
    rd_kafka_topic_t *rkt = rk_consume_start(c, syncs_topic, 0, RD_KAFKA_OFFSET_BEGINNING, NULL);
    for (;;) {
        rd_kafka_message_t *m = rd_kafka_consume(rkt, 0, 10000);
        if (!m)
            rk_fail("%s: no answer within 10 s", syncs_topic);
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            break;
        }
        if (m->err)
            rk_fail("%s: %s", syncs_topic, rd_kafka_message_errstr(m));
        const uint8_t *k = m->key;
        size_t tl = (size_t)r_int(k, 2);
        int32_t p = (int32_t)r_int(k + 2 + tl, 4);
        if (tl == strlen(topic) && memcmp(k + 2, topic, tl) == 0 && p >= 0 && p < parts &&
            nsyncs[p] < MAX_SYNCS) {
            syncs[p][nsyncs[p]][0] = r_int(m->payload, 8);
            syncs[p][nsyncs[p]][1] = r_int((const uint8_t *)m->payload + 8, 8);
            nsyncs[p]++;
        }
        rd_kafka_message_destroy(m);
    }
    rk_consume_stop(rkt, 0);
    rd_kafka_destroy(c);
    /* the group's committed offsets on the source, translated */
    rd_kafka_conf_t *gconf = rk_conf(src);
    rk_set(gconf, "group.id", group);
    rd_kafka_t *g = rk_new(RD_KAFKA_CONSUMER, gconf);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts);
    for (int p = 0; p < parts; p++)
        rd_kafka_topic_partition_list_add(l, topic, p);
    if (rd_kafka_committed(g, l, 10000))
        rk_fail("committed offsets of %s on %s", group, src);
    rd_kafka_conf_t *tconf = rk_conf(tgt);
    rd_kafka_conf_set_dr_msg_cb(tconf, on_dr);
    rd_kafka_t *to = rk_new(RD_KAFKA_PRODUCER, tconf);
    create_topic(to, ckpt_topic, 1, true);
    for (int i = 0; i < l->cnt; i++) {
        int p = l->elems[i].partition;
        int64_t up = l->elems[i].offset, down = -1;
        for (size_t s = 0; s < nsyncs[p]; s++) /* the last sync at or before up */
            if (syncs[p][s][0] <= up)
                down = syncs[p][s][1] + (syncs[p][s][0] < up ? 1 : 0);
        if (up < 0 || down < 0)
            continue;
        put_checkpoint(to, ckpt_topic, group, remote, p, up, down);
        printf("checkpoint %s %s %d %" PRId64 " %" PRId64 "\n", group, remote, p, up, down);
    }
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(g);
    rd_kafka_destroy(to);
    return 0;
}

static int cmd_checkpoint_put(int argc, char **argv)
{
    if (argc != 9)
        rk_fail("usage: checkpoint-put TGT SRC_ALIAS GROUP TARGET_TOPIC PARTITION UPSTREAM "
                "DOWNSTREAM");
    char ckpt_topic[512];
    snprintf(ckpt_topic, sizeof ckpt_topic, "%s.checkpoints.internal", argv[3]);
    rd_kafka_conf_t *tconf = rk_conf(argv[2]);
    rd_kafka_conf_set_dr_msg_cb(tconf, on_dr);
    rd_kafka_t *to = rk_new(RD_KAFKA_PRODUCER, tconf);
    create_topic(to, ckpt_topic, 1, true);
    put_checkpoint(to, ckpt_topic, argv[4], argv[5], atoi(argv[6]), atoll(argv[7]), atoll(argv[8]));
    rd_kafka_destroy(to);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "copy") == 0)
        return cmd_copy(argc, argv);
    if (argc > 1 && strcmp(argv[1], "checkpoint") == 0)
        return cmd_checkpoint(argc, argv);
    if (argc > 1 && strcmp(argv[1], "checkpoint-put") == 0)
        return cmd_checkpoint_put(argc, argv);
    rk_fail("usage: rk_mm2 copy|checkpoint|checkpoint-put ... (see the file's comment)");
}
