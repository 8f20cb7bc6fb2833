/*
 * Group offset checkpoints, failover and failback of a flow.
 *
 * A checkpoint cycle is a chain of asynchronous admin requests whose results come back
 * through st_mflow_step (mf_ckpt_event):
 *
 *     LIST   ListConsumerGroups on the source → the selected groups
 *     FETCH  ListConsumerGroupOffsets on the source, one per group, translated through
 *            the offsets map; DescribeConsumerGroups on the target (who is active there)
 *     ALTER  AlterConsumerGroupOffsets on the target, only for groups with no active
 *            members there (a live consumer's own commits are never overwritten)
 *     done   last checkpoint time and group count for status
 *
 * Failover runs one cycle synchronously after the producer has drained, so the offsets
 * written are final; failback turns the flow around from the divergence point.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/errors.h"
#include "common/logging.h"
#include "mirror/flow_int.h"

enum { CK_IDLE = 0, CK_LIST, CK_FETCH, CK_ALTER };

/* The cycle a result belongs to travels as the admin opaque: results of an abandoned
 * cycle are recognised and dropped. */
static void *cycle_tag(st_mflow *f)
{
    return (void *)(uintptr_t)((uintptr_t)f->ckpt.started_ms << 2 | 1);
}

void mf_ckpt_reset(st_mflow *f)
{
    mf_ckpt *c = &f->ckpt;
    for (size_t i = 0; i < c->ngroups; i++) {
        free(c->groups[i]);
        if (c->offsets && c->offsets[i])
            rd_kafka_topic_partition_list_destroy(c->offsets[i]);
    }
    free(c->groups);
    free(c->offsets);
    free(c->writable);
    json_decref(c->report);
    memset(c, 0, sizeof(*c));
}

static void admin_options(st_mflow *f, rd_kafka_AdminOptions_t *opts, int timeout_ms)
{
    char why[256];
    rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, why, sizeof(why));
    rd_kafka_AdminOptions_set_opaque(opts, cycle_tag(f));
}

static void ckpt_finish(st_mflow *f)
{
    mf_ckpt *c = &f->ckpt;
    f->last_ckpt_ms = st_wall_ms();
    f->ckpt_groups = c->written;
    /* the last offsets written, for a failover whose own final cycle cannot finish */
    if (c->report) {
        json_decref(f->failover_groups);
        f->failover_groups = json_incref(c->report);
    }
    st_debug("%s: checkpoint: %zu group(s) written", f->fc->name, c->written);
    json_t *keep = c->report ? json_incref(c->report) : NULL;
    mf_ckpt_reset(f);
    json_decref(keep);
}

void mf_ckpt_start(st_mflow *f, int64_t now_ms)
{
    mf_ckpt *c = &f->ckpt;
    if (c->running) {
        if (now_ms - c->started_ms < 60000)
            return; /* the previous cycle is still waiting for a slow cluster */
        mf_error(f, "checkpoint: a cycle got no answer within 60 s; starting over");
        mf_ckpt_reset(f);
    }
    if (!f->src_producer || !f->producer)
        return;
    c->running = true;
    c->started_ms = now_ms;
    c->pending = 1;
    c->phase = CK_LIST;
    c->report = json_array(); /* what this cycle writes: the failover report's "groups" */
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(f->src_producer, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
    admin_options(f, opts, MF_ADMIN_TIMEOUT);
    rd_kafka_ListConsumerGroups(f->src_producer, opts, f->src_q);
    rd_kafka_AdminOptions_destroy(opts);
}

static bool own_group(const char *g)
{
    return strncmp(g, "strait-mirror.", 14) == 0;
}

static void on_list_groups(st_mflow *f, rd_kafka_event_t *ev)
{
    mf_ckpt *c = &f->ckpt;
    c->pending--;
    if (rd_kafka_event_error(ev)) {
        mf_error(f, "checkpoint: listing groups on %s: %s", f->src->alias,
                 rd_kafka_event_error_string(ev));
        mf_ckpt_reset(f);
        return;
    }
    const rd_kafka_ListConsumerGroups_result_t *res = rd_kafka_event_ListConsumerGroups_result(ev);
    size_t n = 0, nerr = 0;
    const rd_kafka_ConsumerGroupListing_t **list =
        rd_kafka_ListConsumerGroups_result_valid(res, &n);
    const rd_kafka_error_t **errs = rd_kafka_ListConsumerGroups_result_errors(res, &nerr);
    for (size_t i = 0; i < nerr; i++)
        mf_error(f, "checkpoint: listing groups on %s: %s", f->src->alias,
                 rd_kafka_error_string(errs[i]));
    c->groups = calloc(n ? n : 1, sizeof(char *));
    c->offsets = calloc(n ? n : 1, sizeof(*c->offsets));
    c->writable = calloc(n ? n : 1, sizeof(bool));
    if (!c->groups || !c->offsets || !c->writable) {
        mf_ckpt_reset(f);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *g = rd_kafka_ConsumerGroupListing_group_id(list[i]);
        if (!g || own_group(g) || !st_mflow_group_selected(f->fc, g))
            continue;
        c->groups[c->ngroups] = strdup(g);
        c->offsets[c->ngroups] = rd_kafka_topic_partition_list_new(8);
        c->ngroups++;
    }
    if (c->ngroups == 0) {
        ckpt_finish(f);
        return;
    }
    c->phase = CK_FETCH;
    /* The mirrored partitions, named explicitly: only they can be translated, and not
     * every broker answers the "all topics" form of OffsetFetch. */
    rd_kafka_topic_partition_list_t *mirrored = rd_kafka_topic_partition_list_new(32);
    for (size_t i = 0; i < f->ntopics; i++) {
        mf_topic *t = f->topics[i];
        if (t->heartbeat || t->deleted)
            continue;
        for (int32_t p = 0; p < t->nparts; p++)
            rd_kafka_topic_partition_list_add(mirrored, t->name, p);
    }
    if (mirrored->cnt == 0) {
        rd_kafka_topic_partition_list_destroy(mirrored);
        ckpt_finish(f);
        return;
    }
    for (size_t i = 0; i < c->ngroups; i++) {
        rd_kafka_ListConsumerGroupOffsets_t *req =
            rd_kafka_ListConsumerGroupOffsets_new(c->groups[i], mirrored);
        rd_kafka_AdminOptions_t *opts =
            rd_kafka_AdminOptions_new(f->src_producer, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
        admin_options(f, opts, MF_ADMIN_TIMEOUT);
        rd_kafka_ListConsumerGroupOffsets(f->src_producer, &req, 1, opts, f->src_q);
        rd_kafka_AdminOptions_destroy(opts);
        rd_kafka_ListConsumerGroupOffsets_destroy(req);
        c->pending++;
    }
    rd_kafka_topic_partition_list_destroy(mirrored);
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(f->producer, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    admin_options(f, opts, MF_ADMIN_TIMEOUT);
    rd_kafka_DescribeConsumerGroups(f->producer, (const char **)c->groups, c->ngroups, opts,
                                    f->tgt_q);
    rd_kafka_AdminOptions_destroy(opts);
    c->pending++;
}

static size_t group_index(const mf_ckpt *c, const char *g)
{
    for (size_t i = 0; i < c->ngroups; i++)
        if (strcmp(c->groups[i], g) == 0)
            return i;
    return SIZE_MAX;
}

static void on_group_offsets(st_mflow *f, rd_kafka_event_t *ev)
{
    mf_ckpt *c = &f->ckpt;
    c->pending--;
    if (rd_kafka_event_error(ev)) {
        mf_error(f, "checkpoint: reading committed offsets on %s: %s", f->src->alias,
                 rd_kafka_event_error_string(ev));
        return;
    }
    size_t n = 0;
    const rd_kafka_group_result_t **res = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n);
    for (size_t i = 0; i < n; i++) {
        size_t gi = group_index(c, rd_kafka_group_result_name(res[i]));
        const rd_kafka_error_t *gerr = rd_kafka_group_result_error(res[i]);
        if (gi == SIZE_MAX)
            continue;
        if (gerr) {
            mf_error(f, "checkpoint: group %s on %s: %s", c->groups[gi], f->src->alias,
                     rd_kafka_error_string(gerr));
            continue;
        }
        const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(res[i]);
        for (int j = 0; parts && j < parts->cnt; j++) {
            const rd_kafka_topic_partition_t *tp = &parts->elems[j];
            mf_topic *t = mf_topic_find(f, tp->topic);
            int64_t out;
            bool beyond = false;
            if (!t || t->heartbeat || tp->err || tp->offset < 0 || tp->partition >= t->nparts)
                continue;
            /* not translatable (before every mirrored run): leave the target alone */
            if (st_moffsets_translate(f->map, t->name, tp->partition, tp->offset, &out, &beyond) !=
                0)
                continue;
            rd_kafka_topic_partition_t *e =
                rd_kafka_topic_partition_list_add(c->offsets[gi], t->target, tp->partition);
            e->offset = out;
            /* The source offset rides along for the failover report (opaque is ours: it
             * is never sent). */
            e->opaque = (void *)(intptr_t)tp->offset;
        }
    }
}

static void on_describe_groups(st_mflow *f, rd_kafka_event_t *ev)
{
    mf_ckpt *c = &f->ckpt;
    c->pending--;
    if (rd_kafka_event_error(ev)) {
        mf_error(f, "checkpoint: describing groups on %s: %s", f->tgt->alias,
                 rd_kafka_event_error_string(ev));
        return; /* nothing known to be idle: nothing written this cycle */
    }
    size_t n = 0;
    const rd_kafka_ConsumerGroupDescription_t **groups =
        rd_kafka_DescribeConsumerGroups_result_groups(
            rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
    for (size_t i = 0; i < n; i++) {
        size_t gi = group_index(c, rd_kafka_ConsumerGroupDescription_group_id(groups[i]));
        if (gi == SIZE_MAX)
            continue;
        const rd_kafka_error_t *gerr = rd_kafka_ConsumerGroupDescription_error(groups[i]);
        if (gerr) {
            c->writable[gi] = rd_kafka_error_code(gerr) == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND;
            continue;
        }
        rd_kafka_consumer_group_state_t st = rd_kafka_ConsumerGroupDescription_state(groups[i]);
        c->writable[gi] = (st == RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY ||
                           st == RD_KAFKA_CONSUMER_GROUP_STATE_DEAD ||
                           st == RD_KAFKA_CONSUMER_GROUP_STATE_UNKNOWN) &&
                          rd_kafka_ConsumerGroupDescription_member_count(groups[i]) == 0;
    }
}

/* [{topic (source), target_topic, partition, source_offset, target_offset}] */
static json_t *offsets_json(st_mflow *f, const rd_kafka_topic_partition_list_t *l)
{
    json_t *a = json_array();
    for (int i = 0; i < l->cnt; i++) {
        const rd_kafka_topic_partition_t *e = &l->elems[i];
        const char *source = e->topic;
        for (size_t k = 0; k < f->ntopics; k++)
            if (strcmp(f->topics[k]->target, e->topic) == 0)
                source = f->topics[k]->name;
        json_array_append_new(a, json_pack("{s:s,s:s,s:i,s:I,s:I}", "topic", source, "target_topic",
                                           e->topic, "partition", (int)e->partition,
                                           "source_offset", (json_int_t)(intptr_t)e->opaque,
                                           "target_offset", (json_int_t)e->offset));
    }
    return a;
}

static void start_alters(st_mflow *f)
{
    mf_ckpt *c = &f->ckpt;
    c->phase = CK_ALTER;
    for (size_t i = 0; i < c->ngroups; i++) {
        if (!c->writable[i] || c->offsets[i]->cnt == 0)
            continue;
        rd_kafka_AlterConsumerGroupOffsets_t *req =
            rd_kafka_AlterConsumerGroupOffsets_new(c->groups[i], c->offsets[i]);
        rd_kafka_AdminOptions_t *opts =
            rd_kafka_AdminOptions_new(f->producer, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS);
        admin_options(f, opts, MF_ADMIN_TIMEOUT);
        rd_kafka_AlterConsumerGroupOffsets(f->producer, &req, 1, opts, f->tgt_q);
        rd_kafka_AdminOptions_destroy(opts);
        rd_kafka_AlterConsumerGroupOffsets_destroy(req);
        c->pending++;
        if (c->report)
            json_array_append_new(c->report, json_pack("{s:s,s:o}", "group", c->groups[i],
                                                       "offsets", offsets_json(f, c->offsets[i])));
    }
    if (c->pending == 0)
        ckpt_finish(f);
}

static void on_alter(st_mflow *f, rd_kafka_event_t *ev)
{
    mf_ckpt *c = &f->ckpt;
    c->pending--;
    if (rd_kafka_event_error(ev)) {
        mf_error(f, "checkpoint: writing offsets on %s: %s", f->tgt->alias,
                 rd_kafka_event_error_string(ev));
    } else {
        size_t n = 0;
        const rd_kafka_group_result_t **res = rd_kafka_AlterConsumerGroupOffsets_result_groups(
            rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &n);
        for (size_t i = 0; i < n; i++) {
            const rd_kafka_error_t *gerr = rd_kafka_group_result_error(res[i]);
            const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(res[i]);
            bool ok = !gerr;
            for (int j = 0; ok && parts && j < parts->cnt; j++)
                if (parts->elems[j].err) {
                    mf_error(f, "checkpoint: group %s on %s, %s[%d]: %s",
                             rd_kafka_group_result_name(res[i]), f->tgt->alias,
                             parts->elems[j].topic, parts->elems[j].partition,
                             rd_kafka_err2str(parts->elems[j].err));
                    ok = false;
                }
            if (gerr)
                mf_error(f, "checkpoint: group %s on %s: %s", rd_kafka_group_result_name(res[i]),
                         f->tgt->alias, rd_kafka_error_string(gerr));
            if (ok)
                c->written++;
        }
    }
    if (c->pending == 0)
        ckpt_finish(f);
}

bool mf_ckpt_event(st_mflow *f, rd_kafka_event_t *ev)
{
    rd_kafka_event_type_t type = rd_kafka_event_type(ev);
    if (type != RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT &&
        type != RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT &&
        type != RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT &&
        type != RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT)
        return false;
    mf_ckpt *c = &f->ckpt;
    if (!c->running || rd_kafka_event_opaque(ev) != cycle_tag(f))
        return true; /* an abandoned cycle */
    switch (type) {
    case RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT:
        on_list_groups(f, ev);
        return true;
    case RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT:
        on_group_offsets(f, ev);
        break;
    case RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT:
        on_describe_groups(f, ev);
        break;
    default:
        on_alter(f, ev);
        return true;
    }
    if (c->running && c->phase == CK_FETCH && c->pending == 0)
        start_alters(f);
    return true;
}

static void poll_admin(st_mflow *f, rd_kafka_queue_t *q, int timeout_ms)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms);
    if (!ev)
        return;
    if (!mf_ckpt_event(f, ev))
        mf_sync_event(f, ev);
    rd_kafka_event_destroy(ev);
}

int mf_ckpt_run_sync(st_mflow *f, int64_t timeout_ms)
{
    mf_ckpt_reset(f);
    int64_t deadline = st_mono_ms() + timeout_ms;
    mf_ckpt_start(f, st_wall_ms());
    while (f->ckpt.running && st_mono_ms() < deadline) {
        poll_admin(f, f->src_q, 0);
        poll_admin(f, f->tgt_q, 50);
    }
    if (f->ckpt.running) {
        mf_error(f, "failover: the final checkpoint did not finish within %" PRId64 " ms",
                 timeout_ms);
        mf_ckpt_reset(f);
        return -1;
    }
    return 0;
}

/* ---- failover and failback ---- */

int st_mflow_failover(st_mflow *f, int64_t timeout_ms, json_t **report, char *err, size_t errlen)
{
    if (f->state == MF_FAILED_OVER) {
        snprintf(err, errlen, "flow %s is already failed over", f->fc->name);
        return -1;
    }
    if (f->state == MF_STARTING || !f->consumer) {
        snprintf(err, errlen, "flow %s is still starting; nothing to fail over yet", f->fc->name);
        return -1;
    }
    st_info("%s: failing over", f->fc->name);
    f->state = MF_FAILED_OVER;
    rd_kafka_assign(f->consumer, NULL);
    for (size_t i = 0; i < f->ntopics; i++)
        for (int32_t p = 0; p < f->topics[i]->nparts; p++)
            f->topics[i]->parts[p]->assigned = false;
    mf_pending_drop(f);
    /* The budget is split so the whole call stays near timeout_ms even with the source
     * down (the usual reason for a failover): draining, the final checkpoint, then one
     * watermark query per cluster that answers at all. */
    int64_t drain_ms = timeout_ms * 2 / 5, ckpt_ms = timeout_ms / 4;
    if (rd_kafka_flush(f->producer, (int)drain_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
        mf_error(f, "failover: %d record(s) still unacknowledged by %s after %" PRId64 " ms",
                 rd_kafka_outq_len(f->producer), f->tgt->alias, drain_ms);
    mf_offsets_persist(f);
    rd_kafka_flush(f->producer, 1000);
    bool final_ckpt = mf_ckpt_run_sync(f, ckpt_ms > 2000 ? ckpt_ms : 2000) == 0;
    bool src_up = true, tgt_up = true;

    json_t *at_risk = json_array(), *target_end = json_array();
    for (size_t i = 0; i < f->ntopics; i++) {
        mf_topic *t = f->topics[i];
        if (t->heartbeat)
            continue;
        for (int32_t p = 0; p < t->nparts; p++) {
            mf_part *part = t->parts[p];
            int64_t lo = -1, hi = -1;
            bool reachable = src_up && rd_kafka_query_watermark_offsets(f->consumer, t->name, p,
                                                                        &lo, &hi, 2000) == 0;
            if (!reachable) {
                src_up = false; /* one timeout is enough to know */
                hi = part->source_end;
            }
            int64_t from = part->delivered >= 0 ? part->delivered : (lo >= 0 ? lo : 0);
            if (hi > from) {
                json_t *r = json_pack("{s:s,s:i,s:I,s:I}", "topic", t->name, "partition", (int)p,
                                      "from", (json_int_t)from, "to", (json_int_t)hi);
                if (!reachable)
                    json_object_set_new(r, "source_reachable", json_false());
                json_array_append_new(at_risk, r);
            }
            int64_t tlo, thi, ns, nt;
            tgt_up = tgt_up && rd_kafka_query_watermark_offsets(f->producer, t->target, p, &tlo,
                                                                &thi, 2000) == 0;
            if (tgt_up)
                part->target_end = thi;
            else /* the end of what we mirrored there, when the target does not answer */
                part->target_end = st_moffsets_position(f->map, t->name, p, &ns, &nt) ? nt : -1;
            if (part->target_end >= 0)
                json_array_append_new(target_end,
                                      json_pack("{s:s,s:i,s:I}", "topic", t->target, "partition",
                                                (int)p, "offset", (json_int_t)part->target_end));
        }
    }
    *report =
        json_pack("{s:s,s:o,s:b,s:o,s:o}", "flow", f->fc->name, "groups",
                  f->failover_groups ? json_incref(f->failover_groups) : json_array(),
                  "final_checkpoint", final_ckpt, "at_risk", at_risk, "target_end", target_end);
    st_info("%s: failed over; %zu partition range(s) not replicated", f->fc->name,
            json_array_size(at_risk));
    return 0;
}

int st_mflow_failback(st_mflow *f, json_t **report, char *err, size_t errlen)
{
    if (f->state != MF_FAILED_OVER) {
        snprintf(err, errlen, "flow %s is not failed over (failback reverses a failover)",
                 f->fc->name);
        return -1;
    }
    /* The reverse flow copies each old target partition back from the divergence point:
     * everything before it came from the old source, which still has it. */
    mf_topic **old = f->topics;
    size_t nold = f->ntopics;
    mf_ckpt_reset(f);
    mf_clients_stop(f);
    f->topics = NULL;
    f->ntopics = f->cap_topics = 0;
    const st_mcluster_config *tmp = f->src;
    f->src = f->tgt;
    f->tgt = tmp;
    st_moffsets_free(f->map);
    f->map = st_moffsets_new();
    json_t *from = json_array();
    for (size_t i = 0; i < nold; i++) {
        mf_topic *o = old[i];
        if (o->heartbeat || o->nparts == 0)
            continue;
        mf_topic *t = mf_topic_add(f, o->target, o->name);
        if (!t || mf_topic_grow(t, o->nparts) != 0)
            continue;
        t->state = MF_T_READY;
        t->src_partitions = t->tgt_partitions = o->nparts;
        for (int32_t p = 0; p < o->nparts; p++) {
            mf_part *part = t->parts[p];
            if (o->parts[p]->target_end < 0) {
                part->stopped = true;
                mf_error(f, "failback: %s[%d]: the divergence point is unknown; not copied back",
                         t->name, p);
                continue;
            }
            part->position = part->delivered = o->parts[p]->target_end;
            part->resumed = true;
            json_array_append_new(from, json_pack("{s:s,s:i,s:I}", "topic", t->name, "partition",
                                                  (int)p, "offset", (json_int_t)part->position));
        }
    }
    for (size_t i = 0; i < nold; i++) {
        mf_topic *o = old[i];
        for (int32_t p = 0; p < o->nparts; p++) {
            free(o->parts[p]->ring);
            free(o->parts[p]);
        }
        free(o->parts);
        free(o);
    }
    free(old);
    f->discovery = false;
    f->offsets_ready = false;
    f->nlat = f->lat_head = 0;
    char why[512];
    if (mf_clients_start(f, why, sizeof(why)) != 0) {
        mf_error(f, "failback: %s", why);
        snprintf(err, errlen, "failback of %s: %s", f->fc->name, why);
        json_decref(from);
        f->state = MF_FAILED_BACK;
        return -1;
    }
    if (mf_offsets_load(f) != 0)
        mf_error(f, "failback: offsets of the reverse flow are not saved on %s", f->tgt->alias);
    f->state = MF_FAILED_BACK;
    mf_assign_ready(f);
    *report = json_pack("{s:s,s:o}", "flow", f->fc->name, "from", from);
    st_info("%s: failed back: now copying %s → %s", f->fc->name, f->src->alias, f->tgt->alias);
    return 0;
}
