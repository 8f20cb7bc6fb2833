/*
 * The copy path of a flow (see flow.h for what a flow does): records taken from the
 * source consumer and handed to the target producer with the provenance headers, within
 * a time budget per turn; the source consumer's errors (a position out of range, a topic
 * gone); partitions resumed from the map and a scan of the target after a failed
 * delivery. The delivery reports that close the loop are in flow.c (mf_dr_cb).
 *
 * Loop thread only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/logging.h"
#include "mirror/flow_int.h"

/* ---- the copy loop ---- */

void mf_pending_drop(st_mflow *f)
{
    for (size_t i = f->pending_pos; i < f->npending; i++)
        rd_kafka_message_destroy(f->pending[i]);
    f->npending = f->pending_pos = 0;
}

static mf_part *msg_part(st_mflow *f, const rd_kafka_message_t *m)
{
    if (!m->rkt)
        return NULL;
    mf_topic *t = mf_topic_find(f, rd_kafka_topic_name(m->rkt));
    if (!t || m->partition < 0 || m->partition >= t->nparts)
        return NULL;
    return t->parts[m->partition];
}

/* The source start moved past what we had copied (retention, DeleteRecords, a recreated
 * topic): ask the source for its range (on the source's worker), then report the lost
 * range and carry on from the new start — never silently. */
static void on_out_of_range(st_mflow *f, mf_part *p)
{
    mf_unassign(f, p);
    if (p->checking)
        return;
    mf_offsets_job *j = mf_offsets_job_new(f, MF_OFS_OUT_OF_RANGE, 3000);
    if (!j) {
        p->resumed = true; /* reassigned at the same position on the next step */
        return;
    }
    mf_offsets_job_add(j, p->topic->name, p->partition);
    p->checking = true;
    st_mworker_submit(f->src_worker, &j->job);
}

void mf_out_of_range_answer(st_mflow *f, mf_offsets_job *j)
{
    int64_t lo = -1, hi = -1;
    mf_topic *t = j->hi->cnt ? mf_topic_find(f, j->hi->elems[0].topic) : NULL;
    int32_t partition = j->hi->cnt ? j->hi->elems[0].partition : -1;
    if (!t || partition >= t->nparts || !t->parts[partition]->checking)
        return;
    mf_part *p = t->parts[partition];
    p->checking = false;
    if (!mf_offsets_job_get(j, 0, &lo, &hi)) {
        mf_error(f,
                 "%s[%d]: offset %" PRId64 " is out of range and the source's range is "
                 "unknown (%s); retrying",
                 p->topic->name, p->partition, p->position,
                 rd_kafka_err2str(j->err ? j->err : j->hi->elems[0].err));
        p->resumed = true; /* reassigned at the same position on the next step */
        return;
    }
    int64_t from = p->position >= 0 ? p->position : 0;
    if (from > hi) {
        /* the source partition went back: a new incarnation of the topic */
        if (hi > p->max_end)
            p->max_end = hi;
        mf_source_offsets(f, p, lo, hi);
        if (!p->recreated) {
            char why[160];
            snprintf(why, sizeof why, "partition %d's end went back from %" PRId64 " to %" PRId64,
                     p->partition, from, hi);
            mf_recreated(f, p->topic, why);
        }
        return;
    }
    mf_source_offsets(f, p, lo, hi);
    if (lo > from) {
        json_t *gap = json_pack("{s:s,s:i,s:I,s:I}", "topic", p->topic->name, "partition",
                                (int)p->partition, "from", (json_int_t)from, "to", (json_int_t)lo);
        json_array_append_new(f->gaps, gap);
        mf_error(f,
                 "%s[%d]: source records %" PRId64 "..%" PRId64 " were deleted before they "
                 "were copied (lost range [%" PRId64 ", %" PRId64 ")); continuing at %" PRId64,
                 p->topic->name, p->partition, from, lo - 1, from, lo, lo);
        mf_inflight e = {.src = lo - 1, .skipped = true};
        mf_ring_push(p, &e);
        mf_ring_release_skipped(p);
    }
    p->position = lo;
    p->resumed = true;
}

static void on_consumer_error(st_mflow *f, rd_kafka_message_t *m)
{
    mf_part *p = msg_part(f, m);
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
        return;
    if (p && (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
              m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE)) {
        on_out_of_range(f, p);
        return;
    }
    if (p && m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        f->next_sync_ms = 0; /* deleted, maybe recreated: look again now */
    if (p)
        mf_error(f, "source %s[%d]: %s", p->topic->name, p->partition, rd_kafka_message_errstr(m));
    else
        mf_error(f, "source consumer: %s", rd_kafka_message_errstr(m));
}

/* 0 handed over (or skipped), 1 producer queue full (keep m), -1 dropped with an error. */
static int copy_one(st_mflow *f, mf_part *p, rd_kafka_message_t *m)
{
    if (p->stopped || p->resync || !p->assigned)
        return 0;
    if (p->position >= 0 && m->offset < p->position) {
        f->duplicates_skipped++; /* refetched: already handed over */
        return 0;
    }
    rd_kafka_headers_t *in = NULL;
    const void *origin = NULL;
    size_t origin_len = 0;
    if (rd_kafka_message_headers(m, &in) != RD_KAFKA_RESP_ERR_NO_ERROR)
        in = NULL;
    if (in)
        rd_kafka_header_get_last(in, ST_MIRROR_HDR_ORIGIN, &origin, &origin_len);
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype);
    mf_inflight e = {.src = m->offset,
                     .ts_ms = ts > 0 ? ts : st_wall_ms(),
                     .bytes = (int64_t)(m->len + m->key_len)};
    bool on_target = m->offset < p->recheck_until &&
                     st_moffsets_contains(f->map, p->topic->name, p->partition, m->offset);
    if (on_target || (origin && origin_len == strlen(f->tgt->alias) &&
                      memcmp(origin, f->tgt->alias, origin_len) == 0)) {
        /* came from the target in the first place: copying it back would loop; or copied
         * there already, found after a failed delivery (mf_resync_step) */
        e.skipped = true;
        if (mf_ring_push(p, &e) != 0)
            return 1;
        mf_ring_release_skipped(p);
        p->position = m->offset + 1;
        return 0;
    }
    mf_topic *t = p->topic;
    if (t->heartbeat && m->len == strlen(f->fc->name) &&
        memcmp(m->payload, f->fc->name, m->len) == 0)
        e.heartbeat = true;
    rd_kafka_headers_t *out = in ? rd_kafka_headers_copy(in) : rd_kafka_headers_new(2);
    rd_kafka_header_remove(out, ST_MIRROR_HDR_SRC);
    if (!origin)
        rd_kafka_header_add(out, ST_MIRROR_HDR_ORIGIN, -1, f->src->alias, -1);
    char src[160];
    if (p->epoch > 0) /* a recreated source topic: its offsets restarted */
        snprintf(src, sizeof(src), "%s/%" PRId64 "@%" PRId64, f->src->alias, m->offset, p->epoch);
    else
        snprintf(src, sizeof(src), "%s/%" PRId64, f->src->alias, m->offset);
    rd_kafka_header_add(out, ST_MIRROR_HDR_SRC, -1, src, -1);
    /* always the same producer for a partition: its records stay in order */
    int k = mf_part_producer(f, p);
    rd_kafka_t *rk = f->producers[k];
    if (!rk || !t->rkt[k]) { /* the producers are being replaced */
        rd_kafka_headers_destroy(out);
        return 1;
    }
    if (mf_ring_push(p, &e) != 0) {
        rd_kafka_headers_destroy(out);
        return 1;
    }
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_RKT(t->rkt[k]), RD_KAFKA_V_PARTITION(m->partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(m->key, m->key_len),
        RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_TIMESTAMP(ts > 0 ? ts : 0),
        RD_KAFKA_V_HEADERS(out), RD_KAFKA_V_OPAQUE(p), RD_KAFKA_V_END);
    if (err) {
        rd_kafka_headers_destroy(out);
        p->ring_len--; /* undo the push: it is the tail */
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return 1;
        if (err == RD_KAFKA_RESP_ERR__FATAL) {
            /* the producer failed for good (its error callback may not have run yet):
             * replaced on the next step, which resumes this partition too */
            if (!f->producer_fatal) {
                f->producer_fatal = true;
                rd_kafka_fatal_error(rk, f->fatal_reason, sizeof f->fatal_reason);
            }
            return 1;
        }
        mf_error(f,
                 "%s[%d]: source offset %" PRId64 " cannot be sent to %s: %s; partition "
                 "stopped",
                 t->name, p->partition, m->offset, t->target, rd_kafka_err2str(err));
        p->stopped = true;
        mf_unassign(f, p);
        return -1;
    }
    p->position = m->offset + 1;
    return 0;
}

/* Hands consumed records to the producer for at most MF_COPY_BUDGET_US of this turn: a
 * burst (10,000 records a batch) must not keep the loop, and so the management answers
 * and the other flows, waiting. What is left stays pending for the next turn. */
static void copy_pending(st_mflow *f)
{
    int64_t until = st_mono_us() + MF_COPY_BUDGET_US;
    while (f->pending_pos < f->npending) {
        if ((f->pending_pos & 127) == 127 && st_mono_us() > until)
            return;
        rd_kafka_message_t *m = f->pending[f->pending_pos];
        if (m->err) {
            on_consumer_error(f, m);
        } else {
            mf_part *p = msg_part(f, m);
            if (p && copy_one(f, p, m) == 1)
                return; /* producer full: keep the rest for the next step */
        }
        rd_kafka_message_destroy(m);
        f->pending_pos++;
    }
    f->npending = f->pending_pos = 0;
}

void mf_copy_step(st_mflow *f)
{
    copy_pending(f);
    if (f->npending > 0 || (f->state != MF_RUNNING && f->state != MF_FAILED_BACK))
        return;
    int outq = mf_producers_outq(f);
    if (outq >= MF_MAX_OUTQ)
        return;
    size_t want = (size_t)(MF_MAX_OUTQ - outq);
    if (want > MF_CONSUME_BATCH)
        want = MF_CONSUME_BATCH;
    if (f->cap_pending < want) {
        rd_kafka_message_t **n = realloc(f->pending, want * sizeof(*n));
        if (!n)
            return;
        f->pending = n;
        f->cap_pending = want;
    }
    ssize_t got = rd_kafka_consume_batch_queue(f->cq, 0, f->pending, want);
    if (got <= 0)
        return;
    f->npending = (size_t)got;
    f->pending_pos = 0;
    copy_pending(f);
}

/* Partitions whose delivery failed resume, once their in-flight records have all been
 * reported, like after a restart: from the offsets map, then a scan of the target for
 * this source's records (resume.c). A failed report does not say the target lacks the
 * record (a lost answer, a proxy's or a broker's error after storing it): copying again
 * from the failed offset without looking wrote such records twice. */
void mf_resync_step(st_mflow *f)
{
    for (size_t i = 0; i < f->ntopics; i++) {
        mf_topic *t = f->topics[i];
        mf_part **todo = NULL;
        size_t n = 0;
        for (int32_t p = 0; p < t->nparts; p++) {
            mf_part *part = t->parts[p];
            if (!part->resync || part->ring_len > 0 || part->scanning)
                continue;
            if (!todo && !(todo = calloc((size_t)t->nparts, sizeof *todo)))
                return; /* out of memory: the next step tries again */
            mf_unassign(f, part);
            part->resync = false;
            part->resumed = false;
            todo[n++] = part;
        }
        mf_resume_parts(f, todo, n);
        free(todo);
    }
}
