/*
 * Where a flow resumes, worked out on its target's worker (worker.h), never on the loop:
 *   - load: makes sure ST_MIRROR_OFFSETS_TOPIC exists on the target and reads it into a
 *     fresh offsets map (the flow's runs, one record per run, compacted), at start and
 *     after a failback;
 *   - scan: reads the target partitions from the last persisted run on, for records with
 *     this source's "strait.src" header — what was delivered after the map was last
 *     persisted — so a restarted flow copies nothing twice and skips nothing.
 * Both are bounded (MF_SCAN_TIMEOUT_MS) and stop early when cancelled. Persisting the map
 * (producing changed runs) is non-blocking and stays on the loop.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/logging.h"
#include "mirror/flow_int.h"

/* ---- helpers on the worker thread ---- */

int mf_ensure_topic(rd_kafka_t *rk, const char *name, const char *const *config,
                    const atomic_bool *cancelled, bool *created, char *err, size_t errlen)
{
    char why[512];
    int rc = -1;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, 1, -1, why, sizeof(why));
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_event_t *ev = NULL;
    *created = false;
    if (!nt) {
        snprintf(err, errlen, "cannot create %s: %s", name, why);
        goto out;
    }
    for (size_t i = 0; config && config[i]; i += 2)
        rd_kafka_NewTopic_set_config(nt, config[i], config[i + 1]);
    rd_kafka_AdminOptions_set_request_timeout(opts, 10000, why, sizeof(why));
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    int64_t deadline = st_mono_ms() + 12000;
    while (!ev && st_mono_ms() < deadline && !atomic_load(cancelled))
        ev = rd_kafka_queue_poll(q, 200);
    if (!ev) {
        snprintf(err, errlen, "creating %s: no answer within 12 s", name);
        goto out;
    }
    if (rd_kafka_event_error(ev)) {
        snprintf(err, errlen, "creating %s: %s", name, rd_kafka_event_error_string(ev));
        goto out;
    }
    size_t n = 0;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            const char *s = rd_kafka_topic_result_error_string(res[i]);
            snprintf(err, errlen, "creating %s: %s", name, s ? s : rd_kafka_err2str(e));
            goto out;
        }
        if (!e)
            *created = true;
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

/* ---- load ---- */

/* The kind of a flow record key "<alias>\0#<kind>" of this alias, or NULL. The kind is
 * copied into a static buffer of the worker's: only used before the next call. */
static const char *flow_record_kind(const char *alias, const void *key, size_t len)
{
    static __thread char kind[64];
    size_t alen = strlen(alias);
    const char *k = key;
    if (!k || len < alen + 3 || len - alen - 2 >= sizeof kind || memcmp(k, alias, alen) != 0 ||
        k[alen] != '\0' || k[alen + 1] != '#')
        return NULL;
    memcpy(kind, k + alen + 2, len - alen - 2);
    kind[len - alen - 2] = '\0';
    return kind;
}

typedef struct mf_load_job {
    st_mjob job;
    uint64_t gen;
    char alias[64];  /* the source whose runs are loaded */
    char group[256]; /* the scanner's group id */
    st_moffsets *map;
    json_t *records; /* the flow records ("<alias>\0#<kind>"): {kind: value} */
    size_t loaded, malformed;
    int64_t first_bad;
    bool created;
    char error[512]; /* set: failed */
} mf_load_job;

static void load_run(st_mjob *job, rd_kafka_t *probe, const st_mcluster_config *cluster)
{
    mf_load_job *j = (mf_load_job *)job;
    static const char *const compact[] = {"cleanup.policy", "compact", NULL};
    char err[512];
    if (mf_ensure_topic(probe, ST_MIRROR_OFFSETS_TOPIC, compact, &job->cancelled, &j->created, err,
                        sizeof err) != 0) {
        snprintf(j->error, sizeof j->error, "%s on %s", err, cluster->alias);
        return;
    }
    rd_kafka_t *rk =
        mf_reader_new(cluster, j->group, "scanner", "read_uncommitted", err, sizeof err);
    if (!rk) {
        snprintf(j->error, sizeof j->error, "%s", err);
        return;
    }
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, ST_MIRROR_OFFSETS_TOPIC, 0)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    int64_t deadline = st_mono_ms() + MF_SCAN_TIMEOUT_MS;
    for (;;) {
        if (atomic_load(&job->cancelled)) {
            snprintf(j->error, sizeof j->error, "reading %s on %s: cancelled",
                     ST_MIRROR_OFFSETS_TOPIC, cluster->alias);
            break;
        }
        if (st_mono_ms() > deadline) {
            snprintf(j->error, sizeof j->error, "reading %s on %s: not finished within %d s",
                     ST_MIRROR_OFFSETS_TOPIC, cluster->alias, MF_SCAN_TIMEOUT_MS / 1000);
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            break;
        }
        if (m->err) {
            bool fatal = m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
            if (fatal)
                snprintf(j->error, sizeof j->error, "reading %s on %s: %s", ST_MIRROR_OFFSETS_TOPIC,
                         cluster->alias, rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            if (fatal)
                break;
            continue;
        }
        const char *kind = flow_record_kind(j->alias, m->key, m->key_len);
        if (kind) {
            json_t *v = m->payload ? json_loadb(m->payload, m->len, 0, NULL) : NULL;
            if (v)
                json_object_set_new(j->records, kind, v);
            else
                json_object_del(j->records, kind); /* a tombstone or garbage: forget it */
            rd_kafka_message_destroy(m);
            continue;
        }
        int r = st_moffsets_load_record(j->map, j->alias, m->key, m->key_len, m->payload, m->len);
        if (r == 0)
            j->loaded++;
        else if (r < 0 && j->malformed++ == 0)
            j->first_bad = m->offset;
        rd_kafka_message_destroy(m);
    }
    mf_reader_free(rk);
}

static void load_drop(st_mjob *job)
{
    mf_load_job *j = (mf_load_job *)job;
    st_moffsets_free(j->map);
    json_decref(j->records);
    free(j);
}

static void load_done(st_mjob *job, void *ctx)
{
    mf_load_job *j = (mf_load_job *)job;
    st_mflow *f = ctx;
    if (j->gen != f->gen) {
        load_drop(job);
        return;
    }
    f->loading = false;
    if (j->error[0]) {
        mf_error(f, "%s; retrying", j->error);
        f->next_sync_ms = st_wall_ms() + 2000;
        load_drop(job);
        return;
    }
    if (j->created)
        st_info("%s: created %s on %s", f->fc->name, ST_MIRROR_OFFSETS_TOPIC, f->tgt->alias);
    if (j->malformed)
        mf_error(f,
                 "%s on %s: %zu malformed record(s) ignored (the first at offset %" PRId64
                 "); the target is scanned for what they described",
                 ST_MIRROR_OFFSETS_TOPIC, f->tgt->alias, j->malformed, j->first_bad);
    st_info("%s: loaded %zu offset run record(s) from %s on %s", f->fc->name, j->loaded,
            ST_MIRROR_OFFSETS_TOPIC, f->tgt->alias);
    st_moffsets_free(f->map);
    f->map = j->map;
    j->map = NULL;
    f->offsets_ready = true;
    mf_acls_loaded(f, json_object_get(j->records, "acls"));
    mf_on_loaded(f, j->records);
    load_drop(job);
}

void mf_offsets_load_start(st_mflow *f)
{
    if (f->loading)
        return;
    mf_load_job *j = calloc(1, sizeof *j);
    if (j) {
        j->map = st_moffsets_new();
        j->records = json_object();
    }
    if (!j || !j->map || !j->records) {
        if (j)
            load_drop(&j->job);
        mf_error(f, "out of memory loading the offsets map");
        return;
    }
    j->job.run = load_run;
    j->job.done = load_done;
    j->job.drop = load_drop;
    j->gen = f->gen;
    snprintf(j->alias, sizeof j->alias, "%s", f->src->alias);
    snprintf(j->group, sizeof j->group, "strait-mirror.%s.scan", f->fc->name);
    f->loading = true;
    st_mworker_submit(f->tgt_worker, &j->job);
}

/* ---- scan ---- */

typedef struct mf_scan_part {
    char *src_topic, *tgt_topic;
    int32_t partition;
    int64_t from;     /* target offset to scan from (RD_KAFKA_OFFSET_BEGINNING: all) */
    int64_t last_src; /* highest source offset already in the map, -1 none */
    int64_t epoch;    /* only records of this epoch of the source are ours */
    int64_t *pairs;   /* out: source, target offset pairs, source offsets increasing */
    size_t npairs, cap;
    bool done;
} mf_scan_part;

typedef struct mf_scan_job {
    st_mjob job;
    uint64_t gen;
    char alias[64], group[256];
    mf_scan_part *parts;
    size_t nparts, found;
    char error[512];
} mf_scan_job;

bool mf_parse_src_header(const void *value, size_t len, const char *alias, int64_t *offset,
                         int64_t *epoch)
{
    size_t alen = strlen(alias);
    const char *v = value;
    if (!v || len <= alen + 1 || len > alen + 41 || memcmp(v, alias, alen) != 0 || v[alen] != '/')
        return false;
    int64_t n = 0, e = 0, *cur = &n;
    size_t digits = 0;
    for (size_t i = alen + 1; i < len; i++) {
        if (v[i] == '@' && cur == &n && digits > 0) { /* "<offset>@<epoch>" */
            cur = &e;
            digits = 0;
            continue;
        }
        if (v[i] < '0' || v[i] > '9' || *cur > (INT64_MAX - (v[i] - '0')) / 10)
            return false;
        *cur = *cur * 10 + (v[i] - '0');
        digits++;
    }
    if (digits == 0)
        return false;
    *offset = n;
    *epoch = e;
    return true;
}

static mf_scan_part *scan_part_of(mf_scan_job *j, const rd_kafka_message_t *m)
{
    const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : NULL;
    for (size_t i = 0; topic && i < j->nparts; i++)
        if (j->parts[i].partition == m->partition && strcmp(j->parts[i].tgt_topic, topic) == 0)
            return &j->parts[i];
    return NULL;
}

static void scan_note(mf_scan_job *j, mf_scan_part *p, const rd_kafka_message_t *m)
{
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t vlen;
    int64_t src, epoch;
    if (rd_kafka_message_headers(m, &h) != 0 ||
        rd_kafka_header_get_last(h, ST_MIRROR_HDR_SRC, &v, &vlen) != 0 ||
        !mf_parse_src_header(v, vlen, j->alias, &src, &epoch) || epoch != p->epoch ||
        src <= p->last_src)
        return;
    if (p->npairs + 2 > p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        int64_t *n = realloc(p->pairs, cap * sizeof(*n));
        if (!n)
            return;
        p->pairs = n;
        p->cap = cap;
    }
    p->pairs[p->npairs++] = src;
    p->pairs[p->npairs++] = m->offset;
    p->last_src = src;
    j->found++;
}

static void scan_run(st_mjob *job, rd_kafka_t *probe, const st_mcluster_config *cluster)
{
    mf_scan_job *j = (mf_scan_job *)job;
    char err[512];
    rd_kafka_t *rk =
        mf_reader_new(cluster, j->group, "scanner", "read_uncommitted", err, sizeof err);
    if (!rk) {
        snprintf(j->error, sizeof j->error, "%s", err);
        return;
    }
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)j->nparts);
    for (size_t i = 0; i < j->nparts; i++)
        rd_kafka_topic_partition_list_add(list, j->parts[i].tgt_topic, j->parts[i].partition)
            ->offset = j->parts[i].from;
    rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    size_t ndone = 0;
    int64_t deadline = st_mono_ms() + MF_SCAN_TIMEOUT_MS;
    while (ndone < j->nparts) {
        if (atomic_load(&job->cancelled)) {
            snprintf(j->error, sizeof j->error, "resume: scanning %s was cancelled",
                     cluster->alias);
            break;
        }
        if (st_mono_ms() > deadline) {
            snprintf(j->error, sizeof j->error,
                     "resume: scanning %s for already copied records did not finish within %d "
                     "s; records after the last saved offsets may be copied twice",
                     cluster->alias, MF_SCAN_TIMEOUT_MS / 1000);
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        mf_scan_part *p = scan_part_of(j, m);
        if (!m->err && p)
            scan_note(j, p, m);
        else if (p && !p->done &&
                 (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF ||
                  m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)) {
            p->done = true;
            ndone++;
        }
        rd_kafka_message_destroy(m);
    }
    mf_reader_free(rk);
}

static void scan_drop(st_mjob *job)
{
    mf_scan_job *j = (mf_scan_job *)job;
    for (size_t i = 0; i < j->nparts; i++) {
        free(j->parts[i].src_topic);
        free(j->parts[i].tgt_topic);
        free(j->parts[i].pairs);
    }
    free(j->parts);
    free(j);
}

/* A failed delivery does not say whether the target stored the record, and the records
 * after it may be stored either way (the idempotent producer goes on after a refused
 * batch): resuming after the last record found would skip a refused one for good. Copy
 * again from the first that failed, unless the target has it, and skip what the map (now
 * with the resume's finds) says it has. */
void mf_resume_after_failure(st_mflow *f, mf_part *p)
{
    p->recheck_until = -1;
    if (p->failed_from >= 0 && p->failed_from < p->position &&
        !st_moffsets_contains(f->map, p->topic->name, p->partition, p->failed_from)) {
        p->recheck_until = p->position;
        p->position = p->delivered = p->failed_from;
        if (p->refused_said != p->failed_from) /* else the delivery's error repeats alone */
            mf_error(f,
                     "%s[%d]: source offset %" PRId64 " is not on %s: copying again from "
                     "there (records up to %" PRId64 " that it has are skipped)",
                     p->topic->name, p->partition, p->failed_from, f->tgt->alias,
                     p->recheck_until - 1);
        p->refused_said = p->failed_from;
    }
    p->failed_from = -1;
}

static void scan_done(st_mjob *job, void *ctx)
{
    mf_scan_job *j = (mf_scan_job *)job;
    st_mflow *f = ctx;
    if (j->gen != f->gen) {
        scan_drop(job);
        return;
    }
    if (j->error[0])
        mf_error(f, "%s", j->error);
    if (j->found)
        st_info("%s: resume: %zu record(s) found on %s past the saved offsets", f->fc->name,
                j->found, f->tgt->alias);
    for (size_t i = 0; i < j->nparts; i++) {
        mf_scan_part *sp = &j->parts[i];
        mf_topic *t = mf_topic_find(f, sp->src_topic);
        if (!t || sp->partition >= t->nparts || !t->parts[sp->partition]->scanning)
            continue;
        mf_part *p = t->parts[sp->partition];
        p->scanning = false;
        for (size_t k = 0; k + 1 < sp->npairs; k += 2)
            if (sp->pairs[k] > p->last_src_added) {
                st_moffsets_add(f->map, t->name, p->partition, sp->pairs[k], sp->pairs[k + 1]);
                p->last_src_added = sp->pairs[k];
            }
        int64_t next_src, next_tgt;
        if (st_moffsets_position(f->map, t->name, p->partition, &next_src, &next_tgt)) {
            p->position = p->delivered = next_src;
            p->last_src_added = next_src - 1;
        } else {
            p->position = p->delivered = -1; /* from the source's beginning */
        }
        mf_resume_after_failure(f, p);
        if (p->floor >= 0 && p->position < p->floor) /* a reverse flow: never before it */
            p->position = p->delivered = p->floor;
        p->resumed = true;
        st_debug("%s: %s[%d] resumes at %" PRId64, f->fc->name, t->name, p->partition, p->position);
    }
    scan_drop(job);
    mf_assign_ready(f);
}

void mf_resume_parts(st_mflow *f, mf_part **parts, size_t n)
{
    if (n == 0)
        return;
    if (f->fc->mm2_import && f->tgt == f->fc->target) {
        /* partitions this flow never copied start where MirrorMaker 2 stopped (mm2.c) */
        mf_part **fresh = calloc(n, sizeof *fresh);
        size_t nfresh = 0, kept = 0;
        int64_t ns, nt;
        for (size_t i = 0; fresh && i < n; i++) {
            mf_part *p = parts[i];
            if (!st_moffsets_position(f->map, p->topic->name, p->partition, &ns, &nt) &&
                st_moffsets_epoch(f->map, p->topic->name, p->partition, NULL) == 0 &&
                !p->topic->heartbeat)
                fresh[nfresh++] = p;
            else
                parts[kept++] = p;
        }
        if (nfresh)
            mf_mm2_import(f, fresh, nfresh);
        free(fresh);
        if (fresh)
            n = kept;
        if (n == 0)
            return;
    }
    mf_scan_job *j = calloc(1, sizeof *j);
    if (j)
        j->parts = calloc(n, sizeof *j->parts);
    if (!j || !j->parts) {
        free(j);
        mf_error(f, "out of memory resuming %zu partition(s)", n);
        return;
    }
    j->job.run = scan_run;
    j->job.done = scan_done;
    j->job.drop = scan_drop;
    j->gen = f->gen;
    snprintf(j->alias, sizeof j->alias, "%s", f->src->alias);
    snprintf(j->group, sizeof j->group, "strait-mirror.%s.scan", f->fc->name);
    for (size_t i = 0; i < n; i++) {
        mf_part *p = parts[i];
        mf_scan_part *sp = &j->parts[j->nparts];
        int64_t next_src, next_tgt;
        sp->src_topic = strdup(p->topic->name);
        sp->tgt_topic = strdup(p->topic->target);
        if (!sp->src_topic || !sp->tgt_topic) {
            free(sp->src_topic);
            free(sp->tgt_topic);
            continue;
        }
        sp->partition = p->partition;
        int64_t floor;
        sp->epoch = p->epoch = st_moffsets_epoch(f->map, p->topic->name, p->partition, &floor);
        if (st_moffsets_position(f->map, p->topic->name, p->partition, &next_src, &next_tgt)) {
            sp->from = next_tgt;
            sp->last_src = p->last_src_added = next_src - 1;
        } else if (floor >= 0) {
            /* a new epoch with nothing copied yet: the target from where it starts */
            sp->from = floor;
            sp->last_src = -1;
        } else {
            /* nothing persisted: the whole target partition may hold earlier copies */
            sp->from = RD_KAFKA_OFFSET_BEGINNING;
            sp->last_src = -1;
        }
        p->scanning = true;
        j->nparts++;
    }
    st_mworker_submit(f->tgt_worker, &j->job);
}

/* ---- persist ---- */

static void persist_record(st_mflow *f, const char *key, size_t klen, const void *value,
                           size_t vlen, const char *topic, int32_t partition)
{
    rd_kafka_resp_err_t err =
        rd_kafka_producev(f->producer, RD_KAFKA_V_TOPIC(ST_MIRROR_OFFSETS_TOPIC),
                          RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE((void *)value, vlen),
                          RD_KAFKA_V_OPAQUE(&f->offsets_marker), RD_KAFKA_V_END);
    if (err)
        mf_error(f, "offsets topic %s: cannot queue a record of %s[%d]: %s",
                 ST_MIRROR_OFFSETS_TOPIC, topic, partition, rd_kafka_err2str(err));
}

static void persist_run(void *arg, const char *topic, int32_t partition, const st_mrun *run)
{
    st_mflow *f = arg;
    char key[2 * MF_TOPIC_NAME_MAX];
    uint8_t value[ST_MIRROR_VALUE_LEN_EPOCH];
    size_t klen =
        st_moffsets_encode_key(f->src->alias, topic, partition, run->src_start, key, sizeof(key));
    if (klen == 0)
        return;
    int64_t epoch = st_moffsets_epoch(f->map, topic, partition, NULL);
    if (epoch > 0)
        st_moffsets_encode_value_epoch(run, epoch, value);
    else
        st_moffsets_encode_value(run, value);
    persist_record(f, key, klen, value, epoch > 0 ? ST_MIRROR_VALUE_LEN_EPOCH : ST_MIRROR_VALUE_LEN,
                   topic, partition);
}

static void persist_epoch(void *arg, const char *topic, int32_t partition, int64_t epoch,
                          int64_t floor)
{
    st_mflow *f = arg;
    char key[2 * MF_TOPIC_NAME_MAX];
    uint8_t value[8];
    size_t klen =
        st_moffsets_encode_epoch_key(f->src->alias, topic, partition, epoch, key, sizeof(key));
    if (klen == 0)
        return;
    st_moffsets_encode_floor(floor < 0 ? 0 : floor, value);
    persist_record(f, key, klen, value, sizeof value, topic, partition);
}

void mf_offsets_persist(st_mflow *f)
{
    if (!f->offsets_ready || !f->producer)
        return;
    /* an epoch's marker before its runs: the loader then drops the older runs first */
    st_moffsets_take_epochs(f->map, persist_epoch, f);
    st_moffsets_take_dirty(f->map, persist_run, f);
}

void mf_state_record_put(st_mflow *f, const char *kind, const json_t *value)
{
    char key[128];
    int klen = snprintf(key, sizeof key, "%s%c#%s", f->src->alias, '\0', kind);
    char *text = json_dumps(value, JSON_COMPACT);
    if (!text || klen <= 0 || (size_t)klen >= sizeof key || !f->producer) {
        free(text);
        mf_error(f, "cannot save the %s record of the flow", kind);
        return;
    }
    rd_kafka_resp_err_t err =
        rd_kafka_producev(f->producer, RD_KAFKA_V_TOPIC(ST_MIRROR_OFFSETS_TOPIC),
                          RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_KEY(key, (size_t)klen), RD_KAFKA_V_VALUE(text, strlen(text)),
                          RD_KAFKA_V_OPAQUE(&f->offsets_marker), RD_KAFKA_V_END);
    if (err)
        mf_error(f, "offsets topic %s: cannot queue the flow's %s record: %s",
                 ST_MIRROR_OFFSETS_TOPIC, kind, rd_kafka_err2str(err));
    free(text);
}
