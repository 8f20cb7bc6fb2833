/*
 * A source topic deleted and recreated under the same name is a new incarnation: its
 * offsets start again at 0. Its copy must neither interleave the two nor mistake one for
 * the other, so:
 *   - detection (no topic ids: straitd carries them in Metadata v10+, but librdkafka
 *     2.0.2 does not show them — rd_kafka_DescribeTopics came in 2.3.0): the topic
 *     disappears from the source's metadata and comes back; or a partition's start or end
 *     offset goes below one seen before (within one incarnation both only grow); or its
 *     partition count goes down; or the copy's position is past the source's end (out of
 *     range). A consumer error saying the topic is unknown makes the flow look again at
 *     once instead of at the next sync interval;
 *   - handling: copying the old incarnation stops; what it had not copied is reported as a
 *     gap (it is gone); once the partition's records in flight are reported, the offset
 *     map starts a new epoch for it (offsets.h), whose floor is where the target partition
 *     ends, and the new incarnation is copied from its start, after the old copy, with
 *     "strait.src" headers "<alias>/<offset>@<epoch>" so that a resume scan never takes
 *     the old incarnation's copies for the new one's.
 * The old copy is kept. Group offsets translate in the new epoch only.
 *
 * Not detected: a topic deleted and recreated between two looks (sync interval, a fetch)
 * whose new incarnation already holds more records than the copy had reached, and whose
 * start is not below the old one's — without topic ids it looks like the old one.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/logging.h"
#include "mirror/flow_int.h"

void mf_recreated(st_mflow *f, mf_topic *t, const char *why)
{
    if (t->heartbeat)
        return; /* our own heartbeats: nothing to keep apart */
    snprintf(t->recreated_why, sizeof t->recreated_why, "%s", why);
    t->recreated_said = false;
    for (int32_t p = 0; p < t->nparts; p++) {
        mf_part *part = t->parts[p];
        if (part->recreated)
            continue;
        part->recreated = true;
        mf_unassign(f, part); /* records of the old incarnation still pending are dropped */
    }
    f->next_sync_ms = 0; /* learn the new incarnation's partitions now */
}

void mf_source_offsets(st_mflow *f, mf_part *p, int64_t lo, int64_t hi)
{
    p->source_start = lo;
    p->source_end = hi;
    if (p->recreated)
        return;
    char why[160] = "";
    if (p->max_end >= 0 && hi < p->max_end)
        snprintf(why, sizeof why, "partition %d's end went back from %" PRId64 " to %" PRId64,
                 p->partition, p->max_end, hi);
    else if (p->max_start >= 0 && lo < p->max_start)
        snprintf(why, sizeof why, "partition %d's start went back from %" PRId64 " to %" PRId64,
                 p->partition, p->max_start, lo);
    if (why[0]) {
        mf_recreated(f, p->topic, why);
        return;
    }
    if (hi > p->max_end)
        p->max_end = hi;
    if (lo > p->max_start)
        p->max_start = lo;
}

/* Moves one drained partition to its new epoch. */
static void switch_epoch(st_mflow *f, mf_part *p)
{
    mf_topic *t = p->topic;
    int64_t next_src, next_tgt, floor = 0;
    int64_t from = p->delivered >= 0 ? p->delivered : 0;
    if (!t->deleted && p->max_end > from) {
        /* the old incarnation's records not copied are gone with it (a deleted topic's
         * were reported when it went) */
        json_array_append_new(f->gaps, json_pack("{s:s,s:i,s:I,s:I}", "topic", t->name, "partition",
                                                 (int)p->partition, "from", (json_int_t)from, "to",
                                                 (json_int_t)p->max_end));
        mf_error(f,
                 "%s[%d]: source records %" PRId64 "..%" PRId64 " of the old incarnation "
                 "were not copied before it went (lost range [%" PRId64 ", %" PRId64 "))",
                 t->name, (int)p->partition, from, p->max_end - 1, from, p->max_end);
    }
    if (st_moffsets_position(f->map, t->name, p->partition, &next_src, &next_tgt))
        floor = next_tgt;
    else
        st_moffsets_epoch(f->map, t->name, p->partition, &floor);
    if (floor < 0)
        floor = 0;
    int64_t epoch = st_moffsets_new_epoch(f->map, t->name, p->partition, floor);
    if (epoch < 0) {
        mf_error(f, "out of memory starting a new epoch of %s[%d]", t->name, (int)p->partition);
        return;
    }
    p->epoch = epoch;
    p->position = p->delivered = -1; /* the new incarnation from its start */
    p->last_src_added = -1;
    p->source_start = p->source_end = -1;
    p->max_start = p->max_end = -1;
    p->stopped = false;
    p->resync = false;
    p->failed_from = p->recheck_until = -1; /* the old incarnation's offsets */
    p->recreated = false;
    p->resumed = true;
    if (!t->recreated_said) {
        t->recreated_said = true;
        mf_error(f,
                 "source topic %s on %s was deleted and recreated (%s): its earlier copy stays "
                 "in %s on %s; the new one is copied after it from its start (offset map "
                 "epoch %" PRId64 ")",
                 t->name, f->src->alias, t->recreated_why, t->target, f->tgt->alias, epoch);
    }
    st_info("%s: %s[%d]: epoch %" PRId64 " starts at %s offset %" PRId64, f->fc->name, t->name,
            (int)p->partition, epoch, t->target, floor);
}

void mf_recreate_step(st_mflow *f)
{
    for (size_t i = 0; i < f->ntopics; i++) {
        mf_topic *t = f->topics[i];
        if (t->deleted)
            continue; /* gone: waits until it is back */
        for (int32_t p = 0; p < t->nparts; p++) {
            mf_part *part = t->parts[p];
            if (part->recreated && part->ring_len == 0 && !part->scanning && !part->checking)
                switch_epoch(f, part);
        }
    }
}
