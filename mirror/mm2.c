/*
 * Moving off MirrorMaker 2 (mm2_import): a partition with nothing in the offset map starts
 * where MM2's replication of it stopped, so a team switches without copying again and
 * without losing group positions. Done by the target's worker (a job per resume), from
 * MM2's own records:
 *
 *   mm2-offset-syncs.<target alias>.internal, on the source (MM2's default location),
 *   partition 0; one record per sync (MirrorSourceTask emits one for a partition's first
 *   record, after a source gap, when the target drifted by offset.lag.max, default 100, or
 *   went back — and may skip some under load):
 *       key    int16 length + topic (the source's name) | int32 partition
 *       value  int64 upstream offset | int64 downstream offset
 *   <source alias>.checkpoints.internal, on the target, partition 0; the translated
 *   committed offsets of each group, per partition:
 *       key    int16 length + group | int16 length + topic (the target's name) | int32
 *              partition
 *       value  int16 version (0) | int64 upstream offset | int64 downstream offset |
 *              int16 length + metadata
 *   (Kafka's Struct encoding: big-endian, strings as int16 length and UTF-8 bytes.)
 *
 * Per partition:
 *   1. the last offset sync (U → D) anchors it; the syncs before it become runs of the
 *      offset map (consecutive syncs: U_i..U_i+1 copied 1:1 — MM2 syncs at every source
 *      gap), so group offsets committed before the switch translate as MM2 would have;
 *   2. the target from D to its end and the source from U are read and matched record by
 *      record (key, value, timestamp): MM2's duplicates (a re-copy after one of its
 *      restarts) are recognised and skipped, and the matched pairs are exact runs;
 *   3. copying starts at the source offset after the last matched record.
 * A partition MM2 never synced is copied from its start if its copy is empty, and not at
 * all (an error says so) when it is not: nothing tells which of its records are there.
 * Then the groups of MM2's checkpoints that have nothing committed on the target for a
 * partition get MM2's translated offset there (groups active on the target refuse it).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/crc32c.h"
#include "common/logging.h"
#include "mirror/flow_int.h"

#define MM2_SYNCS_KEPT 10000  /* per partition: the history that can be translated */
#define MM2_TAIL_MAX   200000 /* records after the last sync, at most */
#define MM2_AHEAD      10000  /* how far ahead on the source a target record is looked for */
#define MM2_BEHIND     100000 /* how far back for a re-copy by MM2 */
#define MM2_WAIT_MS    60000

typedef struct mm2_part {
    char *src_topic, *tgt_topic;
    int32_t partition;
    int64_t *syncs; /* U0, D0, U1, D1, ... in order */
    size_t nsyncs, cap;
    /* out */
    int64_t *pairs; /* exact source, target pairs after the last sync */
    size_t npairs;
    int64_t resume;     /* where copying starts; -1: from the beginning */
    int64_t duplicates; /* MM2 copies found twice */
    bool ok;
    char error[256];
} mm2_part;

typedef struct mm2_job {
    st_mjob job;
    uint64_t gen;
    st_mcluster_config source; /* the job reads both clusters */
    char syncs_topic[256], ckpt_topic[256], group[256];
    mm2_part *parts;
    size_t nparts;
    json_t *groups; /* from the checkpoints: {group: {topic: {partition: offset}}} */
    size_t groups_written;
    char error[512];
} mm2_job;

/* ---- Kafka Struct decoding ---- */

typedef struct rd {
    const uint8_t *p, *end;
    bool bad;
} rd;

static int64_t rd_int(rd *r, int bytes)
{
    if (r->bad || r->end - r->p < bytes) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | *r->p++;
    if (bytes == 2)
        return (int16_t)v;
    if (bytes == 4)
        return (int32_t)v;
    return (int64_t)v;
}

/* A Struct STRING into out (NUL-terminated). */
static void rd_str(rd *r, char *out, size_t cap)
{
    int64_t n = rd_int(r, 2);
    if (r->bad || n < 0 || r->end - r->p < n || (size_t)n >= cap) {
        r->bad = true;
        out[0] = '\0';
        return;
    }
    memcpy(out, r->p, (size_t)n);
    out[n] = '\0';
    r->p += n;
}

/* ---- reading topics, on the worker ---- */

typedef bool (*record_fn)(void *arg, const rd_kafka_message_t *m); /* false: stop */

/* Reads topic/partition from `from` to its end (or until fn says stop). 0, 1 when the
 * topic does not exist, -1 with err. */
static int read_partition(rd_kafka_t *rk, const char *topic, int32_t partition, int64_t from,
                          const atomic_bool *cancelled, record_fn fn, void *arg, char *err,
                          size_t cap)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition)->offset = from;
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    int rc = 0;
    int64_t deadline = st_mono_ms() + MM2_WAIT_MS;
    for (;;) {
        if (atomic_load(cancelled) || st_mono_ms() > deadline) {
            snprintf(err, cap, "reading %s[%d]: %s", topic, partition,
                     atomic_load(cancelled) ? "cancelled" : "not finished within 60 s");
            rc = -1;
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        bool stop = false;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            stop = true;
        } else if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            rc = 1;
            stop = true;
        } else if (!m->err) {
            stop = !fn(arg, m);
        }
        rd_kafka_message_destroy(m);
        if (stop)
            break;
    }
    rd_kafka_assign(rk, NULL);
    return rc;
}

static mm2_part *part_of(mm2_job *j, const char *src_topic, int32_t partition)
{
    for (size_t i = 0; i < j->nparts; i++)
        if (j->parts[i].partition == partition && strcmp(j->parts[i].src_topic, src_topic) == 0)
            return &j->parts[i];
    return NULL;
}

static bool on_sync(void *arg, const rd_kafka_message_t *m)
{
    mm2_job *j = arg;
    char topic[256];
    rd k = {m->key, (const uint8_t *)m->key + m->key_len, false};
    rd v = {m->payload, (const uint8_t *)m->payload + m->len, false};
    rd_str(&k, topic, sizeof topic);
    int32_t partition = (int32_t)rd_int(&k, 4);
    int64_t up = rd_int(&v, 8), down = rd_int(&v, 8);
    mm2_part *p = k.bad || v.bad || !m->key || !m->payload ? NULL : part_of(j, topic, partition);
    if (!p || up < 0 || down < 0)
        return true;
    if (p->nsyncs == MM2_SYNCS_KEPT) { /* keep the newest: drop the oldest half */
        memmove(p->syncs, p->syncs + MM2_SYNCS_KEPT, MM2_SYNCS_KEPT * sizeof(int64_t));
        p->nsyncs = MM2_SYNCS_KEPT / 2;
    }
    if (2 * (p->nsyncs + 1) > p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        int64_t *n = realloc(p->syncs, cap * sizeof *n);
        if (!n)
            return true;
        p->syncs = n;
        p->cap = cap;
    }
    p->syncs[2 * p->nsyncs] = up;
    p->syncs[2 * p->nsyncs + 1] = down;
    p->nsyncs++;
    return true;
}

/* A record's identity for matching the two sides: key, value, timestamp. */
static uint64_t fingerprint(const rd_kafka_message_t *m)
{
    uint32_t k = m->key ? st_crc32c(0, m->key, m->key_len) : 0xffffffffu;
    uint32_t v = m->payload ? st_crc32c(0, m->payload, m->len) : 0xffffffffu;
    uint64_t ts = (uint64_t)rd_kafka_message_timestamp(m, NULL);
    return ((uint64_t)k << 32 | v) ^ (ts * 0x9E3779B97F4A7C15ull);
}

typedef struct side {
    int64_t *off;
    uint64_t *fp;
    size_t n, cap, max;
} side;

static bool on_record(void *arg, const rd_kafka_message_t *m)
{
    side *s = arg;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        int64_t *o = realloc(s->off, cap * sizeof *o);
        uint64_t *f = o ? realloc(s->fp, cap * sizeof *f) : NULL;
        if (o)
            s->off = o;
        if (!f)
            return false;
        s->fp = f;
        s->cap = cap;
    }
    s->off[s->n] = m->offset;
    s->fp[s->n++] = fingerprint(m);
    return s->n < s->max;
}

/* Matches the target's records after the last sync with the source's (see the top). */
static void align(mm2_part *p, const side *src, const side *tgt)
{
    size_t j = 0;
    p->pairs = malloc((tgt->n ? tgt->n : 1) * 2 * sizeof(int64_t));
    if (!p->pairs) {
        snprintf(p->error, sizeof p->error, "out of memory");
        return;
    }
    if (tgt->n == 0 || src->n == 0 || tgt->fp[0] != src->fp[0]) {
        snprintf(p->error, sizeof p->error,
                 "the record at MM2's last offset sync (%" PRId64 " -> %" PRId64
                 ") is not the same on both sides",
                 p->syncs[2 * (p->nsyncs - 1)], p->syncs[2 * (p->nsyncs - 1) + 1]);
        return;
    }
    for (size_t i = 0; i < tgt->n; i++) {
        size_t k = j, stop = j + MM2_AHEAD < src->n ? j + MM2_AHEAD : src->n;
        while (k < stop && src->fp[k] != tgt->fp[i])
            k++;
        if (k == stop) {
            bool earlier = false; /* a re-copy by MM2 of a record already matched */
            for (size_t e = j; e > 0 && j - e < MM2_BEHIND && !earlier; e--)
                earlier = src->fp[e - 1] == tgt->fp[i];
            p->duplicates += earlier; /* else a record not from the source: skipped */
            continue;
        }
        p->pairs[2 * p->npairs] = src->off[k];
        p->pairs[2 * p->npairs + 1] = tgt->off[i];
        p->npairs++;
        j = k + 1;
    }
    p->resume = p->pairs[2 * (p->npairs - 1)] + 1;
    p->ok = true;
}

static void import_part(mm2_job *j, mm2_part *p, rd_kafka_t *src_rk, rd_kafka_t *tgt_rk,
                        const atomic_bool *cancelled)
{
    side src = {.max = MM2_TAIL_MAX + 10000}, tgt = {.max = MM2_TAIL_MAX + 1};
    char err[256];
    if (p->nsyncs == 0) {
        /* MM2 never synced it: fine only if its copy is empty */
        tgt.max = 1;
        int rc = read_partition(tgt_rk, p->tgt_topic, p->partition, RD_KAFKA_OFFSET_BEGINNING,
                                cancelled, on_record, &tgt, err, sizeof err);
        if (rc < 0)
            snprintf(p->error, sizeof p->error, "%s", err);
        else if (tgt.n > 0)
            snprintf(p->error, sizeof p->error,
                     "MM2 left no offset sync for it in %s, but %s[%d] holds records: where MM2 "
                     "stopped is unknown",
                     j->syncs_topic, p->tgt_topic, p->partition);
        else
            p->ok = true, p->resume = -1;
        goto out;
    }
    int64_t u = p->syncs[2 * (p->nsyncs - 1)], d = p->syncs[2 * (p->nsyncs - 1) + 1];
    if (read_partition(tgt_rk, p->tgt_topic, p->partition, d, cancelled, on_record, &tgt, err,
                       sizeof err) != 0 ||
        read_partition(src_rk, p->src_topic, p->partition, u, cancelled, on_record, &src, err,
                       sizeof err) != 0) {
        snprintf(p->error, sizeof p->error, "%s", err);
        goto out;
    }
    if (tgt.n > MM2_TAIL_MAX) {
        snprintf(p->error, sizeof p->error,
                 "more than %d records after MM2's last offset sync: too far to match",
                 MM2_TAIL_MAX);
        goto out;
    }
    align(p, &src, &tgt);
out:
    free(src.off);
    free(src.fp);
    free(tgt.off);
    free(tgt.fp);
}

static bool on_checkpoint(void *arg, const rd_kafka_message_t *m)
{
    mm2_job *j = arg;
    char group[256], topic[256], key[24];
    rd k = {m->key, (const uint8_t *)m->key + m->key_len, false};
    rd v = {m->payload, (const uint8_t *)m->payload + m->len, false};
    rd_str(&k, group, sizeof group);
    rd_str(&k, topic, sizeof topic);
    int32_t partition = (int32_t)rd_int(&k, 4);
    int16_t version = (int16_t)rd_int(&v, 2);
    rd_int(&v, 8); /* the upstream offset */
    int64_t down = rd_int(&v, 8);
    if (!m->key || !m->payload || k.bad || v.bad || version != 0 || down < 0)
        return true;
    bool ours = false;
    for (size_t i = 0; i < j->nparts && !ours; i++)
        ours = strcmp(j->parts[i].tgt_topic, topic) == 0 && j->parts[i].partition == partition;
    if (!ours)
        return true;
    json_t *g = json_object_get(j->groups, group);
    if (!g)
        json_object_set_new(j->groups, group, g = json_object());
    json_t *t = json_object_get(g, topic);
    if (!t)
        json_object_set_new(g, topic, t = json_object());
    snprintf(key, sizeof key, "%d", partition);
    json_object_set_new(t, key, json_integer(down)); /* the latest wins */
    return true;
}

/* For each group of MM2's checkpoints: its translated offset, where the target has none. */
static void import_groups(mm2_job *j, rd_kafka_t *probe)
{
    const char *group;
    json_t *topics;
    rd_kafka_queue_t *q = rd_kafka_queue_new(probe);
    json_object_foreach(j->groups, group, topics)
    {
        rd_kafka_topic_partition_list_t *want = rd_kafka_topic_partition_list_new(8);
        const char *topic;
        json_t *parts;
        json_object_foreach(topics, topic, parts)
        {
            const char *pk;
            json_t *off;
            json_object_foreach(parts, pk, off)
            {
                rd_kafka_topic_partition_list_add(want, topic, atoi(pk))->offset =
                    json_integer_value(off);
            }
        }
        rd_kafka_ListConsumerGroupOffsets_t *req =
            rd_kafka_ListConsumerGroupOffsets_new(group, want);
        rd_kafka_ListConsumerGroupOffsets(probe, &req, 1, NULL, q);
        rd_kafka_ListConsumerGroupOffsets_destroy(req);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
        rd_kafka_topic_partition_list_t *missing = rd_kafka_topic_partition_list_new(8);
        size_t n = 0;
        const rd_kafka_group_result_t **res =
            ev && !rd_kafka_event_error(ev)
                ? rd_kafka_ListConsumerGroupOffsets_result_groups(
                      rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n)
                : NULL;
        const rd_kafka_topic_partition_list_t *have =
            n > 0 ? rd_kafka_group_result_partitions(res[0]) : NULL;
        for (int i = 0; have && i < want->cnt; i++) {
            const rd_kafka_topic_partition_t *h = rd_kafka_topic_partition_list_find(
                have, want->elems[i].topic, want->elems[i].partition);
            if (!h || h->offset < 0)
                rd_kafka_topic_partition_list_add(missing, want->elems[i].topic,
                                                  want->elems[i].partition)
                    ->offset = want->elems[i].offset;
        }
        if (ev)
            rd_kafka_event_destroy(ev);
        if (missing->cnt > 0) {
            rd_kafka_AlterConsumerGroupOffsets_t *alter =
                rd_kafka_AlterConsumerGroupOffsets_new(group, missing);
            rd_kafka_AlterConsumerGroupOffsets(probe, &alter, 1, NULL, q);
            rd_kafka_AlterConsumerGroupOffsets_destroy(alter);
            ev = rd_kafka_queue_poll(q, 15000);
            if (ev && !rd_kafka_event_error(ev))
                j->groups_written++;
            if (ev)
                rd_kafka_event_destroy(ev);
        }
        rd_kafka_topic_partition_list_destroy(missing);
        rd_kafka_topic_partition_list_destroy(want);
    }
    rd_kafka_queue_destroy(q);
}

static void mm2_run(st_mjob *job, rd_kafka_t *probe, const st_mcluster_config *cluster)
{
    mm2_job *j = (mm2_job *)job;
    char err[256];
    rd_kafka_t *src_rk =
        mf_reader_new(&j->source, j->group, "mm2", "read_committed", err, sizeof err);
    rd_kafka_t *tgt_rk =
        src_rk ? mf_reader_new(cluster, j->group, "mm2", "read_committed", err, sizeof err) : NULL;
    if (!src_rk || !tgt_rk) {
        snprintf(j->error, sizeof j->error, "%s", err);
        goto out;
    }
    int rc = read_partition(src_rk, j->syncs_topic, 0, RD_KAFKA_OFFSET_BEGINNING, &job->cancelled,
                            on_sync, j, err, sizeof err);
    if (rc < 0) {
        snprintf(j->error, sizeof j->error, "%s on %s", err, j->source.alias);
        goto out;
    }
    for (size_t i = 0; i < j->nparts && !atomic_load(&job->cancelled); i++)
        import_part(j, &j->parts[i], src_rk, tgt_rk, &job->cancelled);
    if (read_partition(tgt_rk, j->ckpt_topic, 0, RD_KAFKA_OFFSET_BEGINNING, &job->cancelled,
                       on_checkpoint, j, err, sizeof err) == 0)
        import_groups(j, probe);
out:
    mf_reader_free(src_rk);
    mf_reader_free(tgt_rk);
}

static void mm2_drop(st_mjob *job)
{
    mm2_job *j = (mm2_job *)job;
    for (size_t i = 0; i < j->nparts; i++) {
        free(j->parts[i].src_topic);
        free(j->parts[i].tgt_topic);
        free(j->parts[i].syncs);
        free(j->parts[i].pairs);
    }
    free(j->parts);
    json_decref(j->groups);
    free(j);
}

/* The flow's side: the map gets MM2's history and the matched pairs; copying starts after. */
static void mm2_done(st_mjob *job, void *ctx)
{
    mm2_job *j = (mm2_job *)job;
    st_mflow *f = ctx;
    if (j->gen != f->gen) {
        mm2_drop(job);
        return;
    }
    if (j->error[0])
        mf_error(f, "importing MirrorMaker 2's positions: %s", j->error);
    for (size_t i = 0; i < j->nparts; i++) {
        mm2_part *mp = &j->parts[i];
        mf_topic *t = mf_topic_find(f, mp->src_topic);
        if (!t || mp->partition >= t->nparts || !t->parts[mp->partition]->scanning)
            continue;
        mf_part *p = t->parts[mp->partition];
        p->scanning = false;
        if (!mp->ok) {
            mf_error(f, "%s[%d]: not copied: %s", t->name, p->partition,
                     mp->error[0] ? mp->error : "MirrorMaker 2's positions could not be read");
            p->stopped = true;
            continue;
        }
        for (size_t k = 0; k + 1 < mp->nsyncs; k++) {
            int64_t u0 = mp->syncs[2 * k], d0 = mp->syncs[2 * k + 1];
            int64_t u1 = mp->syncs[2 * k + 2], d1 = mp->syncs[2 * k + 3];
            int64_t n = u1 - u0 < d1 - d0 ? u1 - u0 : d1 - d0;
            st_mrun run = {u0, d0, n};
            if (n > 0)
                st_moffsets_put_run(f->map, t->name, p->partition, &run);
        }
        for (size_t k = 0; k < mp->npairs; k++)
            st_moffsets_add(f->map, t->name, p->partition, mp->pairs[2 * k], mp->pairs[2 * k + 1]);
        p->position = p->delivered = mp->resume;
        p->last_src_added = mp->resume - 1;
        mf_resume_after_failure(f, p);
        p->resumed = true;
        if (mp->resume >= 0)
            st_info("%s: %s[%d] starts where MirrorMaker 2 stopped: source offset %" PRId64
                    " (%zu offset syncs; %zu records from the last one on matched on both "
                    "sides; %" PRId64 " MM2 copies found twice)",
                    f->fc->name, t->name, p->partition, mp->resume, mp->nsyncs, mp->npairs,
                    mp->duplicates);
        else
            st_info("%s: %s[%d]: MirrorMaker 2 never copied it; copying it from the start",
                    f->fc->name, t->name, p->partition);
    }
    if (j->groups_written)
        st_info("%s: %zu group(s) got MirrorMaker 2's translated offsets on %s (%s)", f->fc->name,
                j->groups_written, f->tgt->alias, j->ckpt_topic);
    mm2_drop(job);
    mf_assign_ready(f);
}

void mf_mm2_import(st_mflow *f, mf_part **parts, size_t n)
{
    mm2_job *j = calloc(1, sizeof *j);
    if (j) {
        j->parts = calloc(n ? n : 1, sizeof *j->parts);
        j->groups = json_object();
    }
    if (!j || !j->parts || !j->groups) {
        if (j)
            mm2_drop(&j->job);
        mf_error(f, "out of memory importing MirrorMaker 2's positions");
        return;
    }
    j->job.run = mm2_run;
    j->job.done = mm2_done;
    j->job.drop = mm2_drop;
    j->gen = f->gen;
    j->source = *f->src;
    const char *src_alias = f->fc->mm2_source_alias[0] ? f->fc->mm2_source_alias : f->src->alias;
    const char *tgt_alias = f->fc->mm2_target_alias[0] ? f->fc->mm2_target_alias : f->tgt->alias;
    snprintf(j->syncs_topic, sizeof j->syncs_topic, "mm2-offset-syncs.%s.internal", tgt_alias);
    snprintf(j->ckpt_topic, sizeof j->ckpt_topic, "%s.checkpoints.internal", src_alias);
    snprintf(j->group, sizeof j->group, "strait-mirror.%s.mm2", f->fc->name);
    for (size_t i = 0; i < n; i++) {
        mm2_part *mp = &j->parts[j->nparts];
        mp->src_topic = strdup(parts[i]->topic->name);
        mp->tgt_topic = strdup(parts[i]->topic->target);
        mp->partition = parts[i]->partition;
        mp->resume = -1;
        if (!mp->src_topic || !mp->tgt_topic) {
            free(mp->src_topic);
            free(mp->tgt_topic);
            continue;
        }
        parts[i]->scanning = true;
        j->nparts++;
    }
    st_mworker_submit(f->tgt_worker, &j->job);
}
