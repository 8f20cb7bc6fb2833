/*
 * st_mflow, the replication core: topics and partitions, their assignment, the delivery
 * reports that close the copy loop (consume → produce → delivery report → offsets map;
 * the first half is copy.c), the flow's turn (st_mflow_step), stopping, pause/resume.
 *
 * Why the copy is exact: the source consumer is assigned explicit offsets (no group, no
 * commits), the target producers are idempotent with unlimited retries and a partition
 * always goes through the same one (mf_part_producer), so each partition's records reach
 * the target once and in order, and its delivery reports come back in order. Each partition keeps a
 * FIFO of the records in flight (mf_inflight); a delivery report pops the head, which names the
 * source offset, and the report gives the target offset: that pair goes into the offsets map.
 * `delivered` only ever moves past records the target acknowledged (or that were skipped because
 * they came from the target).
 *
 * Backpressure: we stop taking records from the consumer while the producers' queues
 * are long (together); librdkafka then stops fetching once its own prefetch budget
 * (queued.max.messages.kbytes) is full, so memory stays bounded without buffering here.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/logging.h"
#include "mirror/flow_int.h"

/* ---- errors ---- */

void mf_error(st_mflow *f, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int64_t now = st_wall_ms();
    /* the same message again (a stalled link repeats itself) refreshes its time only */
    if (f->nerrors > 0) {
        mf_errent *last = &f->errors[(f->error_head + MF_MAX_ERRORS - 1) % MF_MAX_ERRORS];
        if (strcmp(last->message, msg) == 0) {
            if (now - last->time_ms > 10000)
                st_warn("%s: %s (repeated)", f->fc->name, msg);
            last->time_ms = now;
            return;
        }
    }
    st_warn("%s: %s", f->fc->name, msg);
    mf_errent *e = &f->errors[f->error_head];
    e->time_ms = now;
    snprintf(e->message, sizeof(e->message), "%s", msg);
    f->error_head = (f->error_head + 1) % MF_MAX_ERRORS;
    if (f->nerrors < MF_MAX_ERRORS)
        f->nerrors++;
}

/* ---- topics and partitions ---- */

mf_topic *mf_topic_find(st_mflow *f, const char *name)
{
    for (size_t i = 0; i < f->ntopics; i++)
        if (strcmp(f->topics[i]->name, name) == 0)
            return f->topics[i];
    return NULL;
}

mf_topic *mf_topic_add(st_mflow *f, const char *name, const char *target)
{
    if (f->ntopics == f->cap_topics) {
        size_t cap = f->cap_topics ? f->cap_topics * 2 : 16;
        mf_topic **n = realloc(f->topics, cap * sizeof(*n));
        if (!n)
            return NULL;
        f->topics = n;
        f->cap_topics = cap;
    }
    mf_topic *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    snprintf(t->name, sizeof(t->name), "%s", name);
    snprintf(t->target, sizeof(t->target), "%s", target);
    /* FNV-1a: topics with few partitions start on different producers */
    uint32_t h = 2166136261u;
    for (const char *c = t->target; *c; c++)
        h = (h ^ (uint8_t)*c) * 16777619u;
    t->prod_base = h;
    t->heartbeat = strcmp(name, ST_MIRROR_HEARTBEATS_TOPIC) == 0;
    f->topics[f->ntopics++] = t;
    return t;
}

int mf_topic_grow(mf_topic *t, int32_t n)
{
    if (n <= t->nparts)
        return 0;
    if (n > MF_MAX_PARTITIONS)
        return -1;
    mf_part **parts = realloc(t->parts, (size_t)n * sizeof(*parts));
    if (!parts)
        return -1;
    t->parts = parts;
    for (int32_t p = t->nparts; p < n; p++) {
        mf_part *part = calloc(1, sizeof(*part));
        if (!part)
            return -1;
        part->topic = t;
        part->partition = p;
        part->position = part->delivered = -1;
        part->source_start = part->source_end = part->target_end = -1;
        part->last_src_added = -1;
        part->failed_from = part->recheck_until = part->refused_said = -1;
        part->floor = -1;
        part->max_start = part->max_end = -1;
        t->parts[p] = part;
        t->nparts = p + 1;
    }
    return 0;
}

static void part_free(mf_part *p)
{
    free(p->ring);
    free(p);
}

static void topic_free(mf_topic *t)
{
    for (int32_t p = 0; p < t->nparts; p++)
        part_free(t->parts[p]);
    free(t->parts);
    for (int k = 0; k < ST_MIRROR_MAX_PRODUCERS; k++)
        if (t->rkt[k])
            rd_kafka_topic_destroy(t->rkt[k]);
    free(t);
}

int mf_ring_push(mf_part *p, const mf_inflight *e)
{
    if (p->ring_len == p->ring_cap) {
        size_t cap = p->ring_cap ? p->ring_cap * 2 : 1024;
        mf_inflight *n = malloc(cap * sizeof(*n));
        if (!n)
            return -1;
        for (size_t i = 0; i < p->ring_len; i++)
            n[i] = p->ring[(p->ring_head + i) % p->ring_cap];
        free(p->ring);
        p->ring = n;
        p->ring_cap = cap;
        p->ring_head = 0;
    }
    p->ring[(p->ring_head + p->ring_len) % p->ring_cap] = *e;
    p->ring_len++;
    return 0;
}

static mf_inflight *ring_head(mf_part *p)
{
    return p->ring_len ? &p->ring[p->ring_head] : NULL;
}

static void ring_pop(mf_part *p)
{
    p->ring_head = (p->ring_head + 1) % p->ring_cap;
    p->ring_len--;
}

/* Skipped records at the head need no report: they count as delivered once everything
 * before them is. */
void mf_ring_release_skipped(mf_part *p)
{
    mf_inflight *e;
    while ((e = ring_head(p)) && e->skipped) {
        p->delivered = e->src + 1;
        ring_pop(p);
    }
}

/* After a failed delivery: skipped records at the head are dropped without counting as
 * delivered (the failed record before them is not), so the next report pops its own
 * record; they are read and skipped again when the partition is copied again. */
static void ring_drop_skipped(mf_part *p)
{
    mf_inflight *e;
    while ((e = ring_head(p)) && e->skipped)
        ring_pop(p);
}

/* ---- assignment ---- */

/* Every producer's handle of t's target topic: false until they all exist. */
static bool producer_topics(st_mflow *f, mf_topic *t)
{
    if (!f->producer)
        return false;
    for (int k = 0; k < ST_MIRROR_MAX_PRODUCERS; k++) {
        if (!f->producers[k])
            continue;
        if (!t->rkt[k])
            t->rkt[k] = rd_kafka_topic_new(f->producers[k], t->target, NULL);
        if (!t->rkt[k])
            return false;
    }
    return true;
}

void mf_assign_ready(st_mflow *f)
{
    /* not before the map is loaded: what is delivered goes into it; not before a
     * failback's or reset's new direction is in the state file */
    if (!f->consumer || !f->offsets_ready || f->state == MF_FAILED_OVER ||
        f->state == MF_FAILING_OVER || mf_cmd_unsaved(f))
        return;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(8);
    for (size_t i = 0; i < f->ntopics; i++) {
        mf_topic *t = f->topics[i];
        if (t->state != MF_T_READY || t->deleted || !producer_topics(f, t))
            continue;
        for (int32_t p = 0; p < t->nparts; p++) {
            mf_part *part = t->parts[p];
            if (part->assigned || !part->resumed || part->stopped || part->resync ||
                part->checking || part->recreated || p >= t->tgt_partitions ||
                p >= t->src_partitions)
                continue;
            rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(list, t->name, p);
            tp->offset = part->position >= 0 ? part->position : RD_KAFKA_OFFSET_BEGINNING;
            part->assigned = true;
        }
    }
    if (list->cnt > 0) {
        rd_kafka_error_t *e = rd_kafka_incremental_assign(f->consumer, list);
        if (e) {
            mf_error(f, "cannot assign %d source partitions: %s", list->cnt,
                     rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            for (int i = 0; i < list->cnt; i++) {
                mf_topic *t = mf_topic_find(f, list->elems[i].topic);
                t->parts[list->elems[i].partition]->assigned = false;
            }
        } else if (f->state == MF_PAUSED) {
            rd_kafka_pause_partitions(f->consumer, list);
        }
        st_info("%s: copying %d more partition(s)", f->fc->name, list->cnt);
    }
    rd_kafka_topic_partition_list_destroy(list);
}

void mf_unassign(st_mflow *f, mf_part *p)
{
    if (!p->assigned || !f->consumer)
        return;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, p->topic->name, p->partition);
    rd_kafka_error_t *e = rd_kafka_incremental_unassign(f->consumer, list);
    if (e) {
        mf_error(f, "cannot unassign %s[%d]: %s", p->topic->name, p->partition,
                 rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(list);
    p->assigned = false;
}

/* ---- delivery reports ---- */

static void latency_add(st_mflow *f, double ms)
{
    f->latencies[f->lat_head] = ms;
    f->lat_at_ms[f->lat_head] = st_wall_ms();
    f->lat_head = (f->lat_head + 1) % MF_LAT_SAMPLES;
    if (f->nlat < MF_LAT_SAMPLES)
        f->nlat++;
}

void mf_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    st_mflow *f = opaque;
    if (m->_private == &f->offsets_marker) {
        if (m->err)
            mf_error(f, "offsets topic %s: write failed: %s", ST_MIRROR_OFFSETS_TOPIC,
                     rd_kafka_err2str(m->err));
        return;
    }
    mf_part *p = m->_private;
    if (!p)
        return;
    mf_inflight *e = ring_head(p);
    if (!e) /* cannot happen: every produced record was pushed first */
        return;
    mf_inflight done = *e;
    ring_pop(p);
    if (m->err) {
        if (!p->resync && m->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE &&
            m->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
            mf_error(f,
                     "%s[%d]: source offset %" PRId64 " not written to %s: %s; copying again "
                     "from there",
                     p->topic->name, p->partition, done.src, p->topic->target,
                     rd_kafka_err2str(m->err));
        p->resync = true;
        if (p->failed_from < 0) /* reports come in order: the first is the lowest */
            p->failed_from = done.src;
        ring_drop_skipped(p);
        return;
    }
    if (p->resync) { /* after a failure: resumed from the map and a scan of the target */
        ring_drop_skipped(p);
        return;
    }
    if (done.src > p->last_src_added) {
        st_moffsets_add(f->map, p->topic->name, p->partition, done.src, m->offset);
        p->last_src_added = done.src;
    }
    p->delivered = done.src + 1;
    p->records++;
    p->bytes += done.bytes;
    f->records++;
    f->bytes += done.bytes;
    if (done.heartbeat) {
        int64_t lat = st_wall_ms() - done.ts_ms;
        latency_add(f, lat < 0 ? 0 : (double)lat);
    }
    mf_ring_release_skipped(p);
}

/* The source's start and end offsets, asked every sync interval by a worker job: lag
 * stays right while the fetcher is idle (paused), and a failover without a source has
 * recent end offsets to report. */
static void source_ends_request(st_mflow *f)
{
    if (f->src_ends_busy || !f->src_worker)
        return;
    mf_offsets_job *j = mf_offsets_job_new(f, MF_OFS_SOURCE_ENDS, 3000);
    if (!j)
        return;
    for (size_t i = 0; i < f->ntopics; i++) {
        mf_topic *t = f->topics[i];
        if (t->deleted)
            continue;
        for (int32_t p = 0; p < t->nparts; p++)
            mf_offsets_job_add(j, t->name, p);
    }
    if (j->hi->cnt == 0) {
        j->job.drop(&j->job);
        return;
    }
    f->src_ends_busy = true;
    st_mworker_submit(f->src_worker, &j->job);
}

void mf_on_offsets(st_mflow *f, mf_offsets_job *j)
{
    if (j->purpose == MF_OFS_OUT_OF_RANGE) {
        mf_out_of_range_answer(f, j);
        return;
    }
    if (j->purpose != MF_OFS_SOURCE_ENDS) {
        mf_failover_on_offsets(f, j);
        return;
    }
    f->src_ends_busy = false;
    for (int i = 0; i < j->hi->cnt; i++) {
        int64_t lo, hi;
        mf_topic *t = mf_topic_find(f, j->hi->elems[i].topic);
        int32_t p = j->hi->elems[i].partition;
        if (!t || p >= t->nparts || !mf_offsets_job_get(j, i, &lo, &hi))
            continue;
        mf_source_offsets(f, t->parts[p], lo, hi);
    }
}

void mf_on_loaded(st_mflow *f, const json_t *records)
{
    int64_t now = st_wall_ms();
    if (f->state == MF_STARTING) {
        if (!mf_flowstate_start(f, records))
            return; /* failed over (not copying), or now reversed and loading again */
        f->state = MF_RUNNING;
        f->next_sync_ms = now;
        f->next_persist_ms = now + 1000;
        f->next_ckpt_ms = now + f->fc->checkpoint_interval_ms;
    } else if (f->state == MF_FAILED_BACK) {
        /* a restarted reverse flow: each partition from its map, not before its floor */
        for (size_t i = 0; i < f->ntopics; i++) {
            mf_topic *t = f->topics[i];
            mf_part **todo = calloc((size_t)(t->nparts ? t->nparts : 1), sizeof(*todo));
            size_t n = 0;
            for (int32_t p = 0; todo && p < t->nparts; p++)
                if (!t->parts[p]->resumed && !t->parts[p]->stopped && !t->parts[p]->scanning)
                    todo[n++] = t->parts[p];
            mf_resume_parts(f, todo, n);
            free(todo);
        }
        f->next_persist_ms = now + 1000;
        f->next_ckpt_ms = now + f->fc->checkpoint_interval_ms;
    }
    mf_assign_ready(f);
}

void mf_poll_events(st_mflow *f)
{
    rd_kafka_event_t *ev;
    rd_kafka_queue_t *queues[2] = {f->src_q, f->tgt_q};
    for (int i = 0; i < 2; i++)
        while (queues[i] && (ev = rd_kafka_queue_poll(queues[i], 0)) != NULL) {
            /* configs first: its DescribeConfigs answers are not about topic creation */
            if (!mf_configs_event(f, ev) && !mf_acls_event(f, ev) && !mf_sync_event(f, ev))
                mf_ckpt_event(f, ev);
            rd_kafka_event_destroy(ev);
        }
    if (f->src_worker)
        st_mworker_collect(f->src_worker, f);
    if (f->tgt_worker)
        st_mworker_collect(f->tgt_worker, f);
    if (f->disk_worker) /* a state file that could not be written is reported */
        st_mworker_collect(f->disk_worker, f);
}

/* ---- the public API ---- */

st_mflow *st_mflow_new(const st_mflow_config *fc, const char *state_dir, char *err, size_t errlen)
{
    st_mflow *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->fc = fc;
    f->src = fc->source;
    f->tgt = fc->target;
    f->state = MF_STARTING;
    f->discovery = true;
    f->cmd_save_gen = -1;
    f->map = st_moffsets_new();
    f->gaps = json_array();
    if (!f->map || !f->gaps) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    char name[200];
    snprintf(name, sizeof name, "%s source %s", fc->name, fc->source->alias);
    f->src_worker = st_mworker_start(fc->source, name, err, errlen);
    if (!f->src_worker)
        goto fail;
    snprintf(name, sizeof name, "%s target %s", fc->name, fc->target->alias);
    f->tgt_worker = st_mworker_start(fc->target, name, err, errlen);
    if (!f->tgt_worker)
        goto fail;
    snprintf(name, sizeof name, "%s state", fc->name);
    f->disk_worker = st_mworker_start(NULL, name, err, errlen);
    if (!f->disk_worker)
        goto fail;
    mf_flowstate_open(f, state_dir);
    if (mf_clients_start(f, err, errlen) != 0)
        goto fail;
    return f;
fail:
    st_mflow_free(f, st_mono_ms() + 1000);
    return NULL;
}

/* ---- stopping ---- */

void st_mflow_stop_begin(st_mflow *f)
{
    if (f->state == MF_STOPPING)
        return;
    f->state = MF_STOPPING;
    if (f->consumer)
        rd_kafka_assign(f->consumer, NULL);
    for (size_t i = 0; i < f->ntopics; i++)
        for (int32_t p = 0; p < f->topics[i]->nparts; p++)
            f->topics[i]->parts[p]->assigned = false;
    mf_pending_drop(f);
    mf_ckpt_reset(f);
    mf_fo_free(f);
    f->stop.phase = MF_STOP_DRAIN;
    f->stop.started_ms = f->stop.progress_ms = st_mono_ms();
    f->stop.last_outq = -1;
}

/* One turn of stopping: wait for the records in flight while the target acknowledges
 * them, then persist the map and wait (briefly) for that too. */
static void stop_step(st_mflow *f)
{
    mf_stop *st = &f->stop;
    int64_t now = st_mono_ms();
    mf_poll_events(f);
    mf_producers_poll(f);
    int outq = mf_producers_outq(f);
    if (outq != st->last_outq) {
        st->last_outq = outq;
        st->progress_ms = now;
    }
    if (st->phase == MF_STOP_DRAIN) {
        bool stalled =
            now - st->progress_ms >= (st->target_down ? MF_STOP_DOWN_MS : MF_STOP_NO_PROGRESS_MS);
        if (outq > 0 && !stalled && now - st->started_ms < MF_STOP_MAX_MS)
            return;
        if (outq > 0)
            mf_error(f,
                     "stopping: %d record(s) still unacknowledged by %s after %" PRId64
                     " ms%s; a restart copies them again",
                     outq, f->tgt->alias, now - st->started_ms,
                     stalled ? " (it stopped answering)" : "");
        else
            st_info("%s: stopping: every record in flight acknowledged after %" PRId64 " ms",
                    f->fc->name, now - st->started_ms);
        mf_offsets_persist(f);
        st->phase = MF_STOP_PERSIST;
        st->persist_deadline = now + (outq > 0 ? 0 : MF_STOP_PERSIST_MS);
        st->persist_outq = mf_producers_outq(f);
        return;
    }
    if (st->phase == MF_STOP_PERSIST && (outq == 0 || now >= st->persist_deadline)) {
        if (outq > 0 && st->persist_outq > 0)
            mf_error(f,
                     "stopping: the offset map's last runs were not acknowledged by %s; a "
                     "restart finds those records by scanning the target",
                     f->tgt->alias);
        st->phase = MF_STOP_DONE;
    }
}

bool st_mflow_stopped(const st_mflow *f)
{
    return f->state == MF_STOPPING && f->stop.phase == MF_STOP_DONE;
}

void st_mflow_shutdown(st_mflow *f)
{
    if (!f)
        return;
    mf_clients_stop(f);
    st_mworker_shutdown(f->src_worker);
    st_mworker_shutdown(f->tgt_worker);
    st_mworker_shutdown(f->disk_worker);
}

bool st_mflow_free(st_mflow *f, int64_t deadline_ms)
{
    if (!f)
        return true;
    if (f->consumer || f->producer || f->src_producer)
        st_mflow_shutdown(f);
    bool all = st_mworker_stop(f->src_worker, deadline_ms);
    all = st_mworker_stop(f->tgt_worker, deadline_ms) && all;
    all = st_mworker_stop(f->disk_worker, deadline_ms) && all;
    mf_ckpt_reset(f);
    mf_gcache_free(f);
    mf_fo_free(f);
    mf_sync_free(f);
    mf_configs_free(f);
    mf_acls_free(f);
    json_decref(f->aclsync.owned);
    for (size_t i = 0; i < f->ntopics; i++)
        topic_free(f->topics[i]);
    free(f->topics);
    free(f->pending);
    st_moffsets_free(f->map);
    json_decref(f->gaps);
    json_decref(f->failover_report);
    json_decref(f->saved);
    json_decref(f->divergence);
    free(f);
    return all;
}

bool st_mflow_step(st_mflow *f, int64_t now_ms)
{
    if (f->state == MF_STOPPING) {
        stop_step(f);
        return false;
    }
    if (f->state == MF_STARTING) {
        mf_poll_events(f);
        /* a reset starts once the state file holds it (mf_cmd_unsaved) */
        if (f->state == MF_STARTING && !f->loading && now_ms >= f->next_sync_ms &&
            !mf_cmd_unsaved(f))
            mf_offsets_load_start(f);
        if (f->state == MF_STARTING)
            return false;
        now_ms = st_wall_ms();
    }
    if (f->state == MF_FAILED_OVER) {
        mf_poll_events(f);
        return false;
    }
    if (f->state == MF_FAILING_OVER) {
        mf_failover_step(f, now_ms);
        return false;
    }
    mf_poll_events(f);
    if (f->producer_fatal)
        mf_producer_recover(f);
    if (f->discovery && now_ms >= f->next_sync_ms) {
        mf_sync(f, now_ms);
        mf_configs_round(f, now_ms);
        mf_acls_round(f, now_ms);
        source_ends_request(f);
        f->next_sync_ms = now_ms + f->fc->sync_interval_ms;
    }
    mf_producers_poll(f); /* delivery reports */
    rd_kafka_poll(f->src_producer, 0);
    mf_resync_step(f);
    mf_recreate_step(f);
    mf_assign_ready(f);
    mf_copy_step(f);
    mf_producers_poll(f);
    if (f->discovery && now_ms >= f->next_hb_ms) {
        mf_heartbeat(f, now_ms);
        f->next_hb_ms = now_ms + f->fc->heartbeat_interval_ms;
    }
    if (now_ms >= f->next_persist_ms) {
        mf_offsets_persist(f);
        f->next_persist_ms = now_ms + 1000;
    }
    if (now_ms >= f->next_ckpt_ms && !mf_cmd_unsaved(f)) {
        mf_ckpt_start(f, now_ms);
        f->next_ckpt_ms = now_ms + f->fc->checkpoint_interval_ms;
    }
    if (now_ms >= f->next_sample_ms) {
        mf_sample(f, now_ms);
        f->next_sample_ms = now_ms + 1000;
    }
    /* records left over from this turn's budget: come back without waiting */
    return f->pending_pos < f->npending;
}

static int set_paused(st_mflow *f, bool pause, char *err, size_t errlen)
{
    if (f->state == MF_STOPPING) {
        snprintf(err, errlen, "the daemon is stopping");
        return -1;
    }
    if (f->state == MF_FAILING_OVER) {
        snprintf(err, errlen, "flow %s is failing over", f->fc->name);
        return -1;
    }
    if (f->state == MF_FAILED_OVER) {
        snprintf(err, errlen, "flow %s was failed over; use failback", f->fc->name);
        return -1;
    }
    if (f->state == MF_STARTING) {
        snprintf(err, errlen, "flow %s is still starting; try again in a moment", f->fc->name);
        return -1;
    }
    if (!pause && f->state != MF_PAUSED)
        return 0;
    if (pause && f->state == MF_PAUSED)
        return 0;
    rd_kafka_topic_partition_list_t *list = NULL;
    if (rd_kafka_assignment(f->consumer, &list) == 0 && list) {
        if (pause)
            rd_kafka_pause_partitions(f->consumer, list);
        else
            rd_kafka_resume_partitions(f->consumer, list);
        rd_kafka_topic_partition_list_destroy(list);
    }
    /* failed-back flows come back to failed-back, not running */
    f->state = pause ? MF_PAUSED : (f->discovery ? MF_RUNNING : MF_FAILED_BACK);
    st_info("%s: %s", f->fc->name, pause ? "paused" : "resumed");
    return 0;
}

int st_mflow_pause(st_mflow *f, char *err, size_t errlen)
{
    return set_paused(f, true, err, errlen);
}

int st_mflow_resume(st_mflow *f, char *err, size_t errlen)
{
    return set_paused(f, false, err, errlen);
}
