/*
 * Group offset checkpoints, failover and failback of a flow.
 *
 * A checkpoint cycle is a chain of asynchronous admin requests whose results come back
 * through st_mflow_step (mf_ckpt_event):
 *
 *     LIST   ListConsumerGroups on the source → the selected groups
 *     FETCH  ListConsumerGroupOffsets on the source, one per group, kept untranslated in
 *            the group cache (f->gcache); DescribeConsumerGroups on the target (who is
 *            active there)
 *     (HELD) a failover's cycle waits here until the producer has drained, so what it
 *            translates is final
 *     ALTER  the cached offsets translated through the offsets map, written with
 *            AlterConsumerGroupOffsets on the target, only for groups with no active
 *            members there (a live consumer's own commits are never overwritten)
 *     done   last checkpoint time and group count for status
 *
 * Translating at ALTER rather than at FETCH means a failover writes offsets translated
 * through the final map. When the source no longer answers (the reason for most
 * failovers), a cycle can start at FETCH from the cache: only the target is asked, and
 * the offsets written are those last read from the source (mf_ckpt_start_cached).
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

/* The cycle a result belongs to travels as the admin opaque: results of an abandoned
 * cycle are recognised and dropped. */
static void *cycle_tag(st_mflow *f)
{
    return (void *)(uintptr_t)((uintptr_t)f->ckpt.started_ms << 2 | 1);
}

void mf_ckpt_reset(st_mflow *f)
{
    mf_ckpt *c = &f->ckpt;
    for (size_t i = 0; i < c->ngroups; i++)
        free(c->groups[i]);
    free(c->groups);
    free(c->writable);
    json_decref(c->report);
    memset(c, 0, sizeof(*c));
}

/* ---- the group cache ---- */

static mf_gcache *gcache_find(st_mflow *f, const char *group)
{
    for (size_t i = 0; i < f->ngcache; i++)
        if (strcmp(f->gcache[i].group, group) == 0)
            return &f->gcache[i];
    return NULL;
}

/* Takes ownership of offsets. */
static void gcache_put(st_mflow *f, const char *group, rd_kafka_topic_partition_list_t *offsets)
{
    mf_gcache *g = gcache_find(f, group);
    if (!g) {
        mf_gcache *n = realloc(f->gcache, (f->ngcache + 1) * sizeof(*n));
        char *name = strdup(group);
        if (!n || !name) {
            free(name);
            if (n)
                f->gcache = n;
            rd_kafka_topic_partition_list_destroy(offsets);
            return;
        }
        f->gcache = n;
        g = &f->gcache[f->ngcache++];
        g->group = name;
        g->offsets = NULL;
    }
    if (g->offsets)
        rd_kafka_topic_partition_list_destroy(g->offsets);
    g->offsets = offsets;
    g->read_ms = st_wall_ms();
}

/* Forgets groups the source no longer lists (deleted there). */
static void gcache_keep_only(st_mflow *f, char **groups, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < f->ngcache; i++) {
        bool keep = false;
        for (size_t k = 0; k < n && !keep; k++)
            keep = strcmp(groups[k], f->gcache[i].group) == 0;
        if (keep) {
            f->gcache[w++] = f->gcache[i];
        } else {
            free(f->gcache[i].group);
            rd_kafka_topic_partition_list_destroy(f->gcache[i].offsets);
        }
    }
    f->ngcache = w;
}

void mf_gcache_free(st_mflow *f)
{
    gcache_keep_only(f, NULL, 0);
    free(f->gcache);
    f->gcache = NULL;
}

/* ---- the cycle ---- */

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
    st_debug("%s: checkpoint: %zu group(s) written%s", f->fc->name, c->written,
             c->from_cache ? " (from the cached source offsets)" : "");
    c->running = false;
    c->phase = CK_IDLE;
}

static bool cycle_begin(st_mflow *f, int64_t now_ms)
{
    mf_ckpt *c = &f->ckpt;
    if (c->running) {
        if (now_ms - c->started_ms < 60000)
            return false; /* the previous cycle is still waiting for a slow cluster */
        mf_error(f, "checkpoint: a cycle got no answer within 60 s; starting over");
    }
    mf_ckpt_reset(f);
    if (!f->src_producer || !f->producer)
        return false;
    c->running = true;
    c->started_ms = now_ms;
    c->report = json_array(); /* what this cycle writes: the failover report's "groups" */
    return true;
}

static void describe_groups(st_mflow *f)
{
    mf_ckpt *c = &f->ckpt;
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(f->producer, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    admin_options(f, opts, MF_ADMIN_TIMEOUT);
    rd_kafka_DescribeConsumerGroups(f->producer, (const char **)c->groups, c->ngroups, opts,
                                    f->tgt_q);
    rd_kafka_AdminOptions_destroy(opts);
    c->pending++;
}

void mf_ckpt_start(st_mflow *f, int64_t now_ms)
{
    mf_ckpt *c = &f->ckpt;
    if (!cycle_begin(f, now_ms))
        return;
    c->pending = 1;
    c->phase = CK_LIST_PHASE;
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(f->src_producer, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
    admin_options(f, opts, MF_ADMIN_TIMEOUT);
    rd_kafka_ListConsumerGroups(f->src_producer, opts, f->src_q);
    rd_kafka_AdminOptions_destroy(opts);
}

void mf_ckpt_start_cached(st_mflow *f, int64_t now_ms)
{
    mf_ckpt *c = &f->ckpt;
    bool hold = c->hold_alter;
    c->running = false; /* whatever the source part was doing is abandoned */
    if (!cycle_begin(f, now_ms))
        return;
    c->hold_alter = hold;
    c->from_cache = true;
    c->groups = calloc(f->ngcache ? f->ngcache : 1, sizeof(char *));
    c->writable = calloc(f->ngcache ? f->ngcache : 1, sizeof(bool));
    if (!c->groups || !c->writable) {
        mf_ckpt_reset(f);
        return;
    }
    for (size_t i = 0; i < f->ngcache; i++)
        if (st_mflow_group_selected(f->fc, f->gcache[i].group))
            c->groups[c->ngroups++] = strdup(f->gcache[i].group);
    c->phase = CK_FETCH_PHASE;
    if (c->ngroups == 0) {
        ckpt_finish(f);
        return;
    }
    describe_groups(f);
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
        c->failed = true;
        c->running = false;
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
    c->writable = calloc(n ? n : 1, sizeof(bool));
    if (!c->groups || !c->writable) {
        c->failed = true;
        c->running = false;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *g = rd_kafka_ConsumerGroupListing_group_id(list[i]);
        if (!g || own_group(g) || !st_mflow_group_selected(f->fc, g))
            continue;
        c->groups[c->ngroups++] = strdup(g);
    }
    if (nerr == 0)
        gcache_keep_only(f, c->groups, c->ngroups);
    c->phase = CK_FETCH_PHASE;
    if (c->ngroups == 0) {
        ckpt_finish(f);
        return;
    }
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
    describe_groups(f);
}

static size_t group_index(const mf_ckpt *c, const char *g)
{
    for (size_t i = 0; g && i < c->ngroups; i++)
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
        c->failed = true;
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
        rd_kafka_topic_partition_list_t *keep = rd_kafka_topic_partition_list_new(8);
        for (int j = 0; parts && j < parts->cnt; j++) {
            const rd_kafka_topic_partition_t *tp = &parts->elems[j];
            if (tp->err || tp->offset < 0)
                continue;
            rd_kafka_topic_partition_list_add(keep, tp->topic, tp->partition)->offset = tp->offset;
        }
        gcache_put(f, c->groups[gi], keep);
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

/*
 * The cached source offsets of one group translated through the map into a list of
 * target names and offsets (the source offset rides along as the opaque, ours, never
 * sent), and its report rows. Offsets the map cannot translate (before every mirrored
 * record) are left out: the target is left alone there.
 */
static rd_kafka_topic_partition_list_t *translate_group(st_mflow *f, const mf_gcache *g,
                                                        json_t *rows)
{
    rd_kafka_topic_partition_list_t *out = rd_kafka_topic_partition_list_new(8);
    for (int j = 0; g && g->offsets && j < g->offsets->cnt; j++) {
        const rd_kafka_topic_partition_t *tp = &g->offsets->elems[j];
        mf_topic *t = mf_topic_find(f, tp->topic);
        int64_t target;
        bool beyond = false;
        if (!t || t->heartbeat || tp->partition >= t->nparts)
            continue;
        if (st_moffsets_translate(f->map, t->name, tp->partition, tp->offset, &target, &beyond) !=
            0)
            continue;
        rd_kafka_topic_partition_t *e =
            rd_kafka_topic_partition_list_add(out, t->target, tp->partition);
        e->offset = target;
        json_t *row = json_pack("{s:s,s:s,s:i,s:I,s:I}", "topic", t->name, "target_topic",
                                t->target, "partition", (int)tp->partition, "source_offset",
                                (json_int_t)tp->offset, "target_offset", (json_int_t)target);
        if (beyond)
            json_object_set_new(row, "beyond", json_true());
        json_array_append_new(rows, row);
    }
    return out;
}

static void start_alters(st_mflow *f)
{
    mf_ckpt *c = &f->ckpt;
    c->phase = CK_ALTER;
    for (size_t i = 0; i < c->ngroups; i++) {
        const mf_gcache *g = gcache_find(f, c->groups[i]);
        if (!c->writable[i] || !g)
            continue;
        json_t *rows = json_array();
        rd_kafka_topic_partition_list_t *offsets = translate_group(f, g, rows);
        if (offsets->cnt == 0) {
            rd_kafka_topic_partition_list_destroy(offsets);
            json_decref(rows);
            continue;
        }
        rd_kafka_AlterConsumerGroupOffsets_t *req =
            rd_kafka_AlterConsumerGroupOffsets_new(c->groups[i], offsets);
        rd_kafka_AdminOptions_t *opts =
            rd_kafka_AdminOptions_new(f->producer, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS);
        admin_options(f, opts, MF_ADMIN_TIMEOUT);
        rd_kafka_AlterConsumerGroupOffsets(f->producer, &req, 1, opts, f->tgt_q);
        rd_kafka_AdminOptions_destroy(opts);
        rd_kafka_AlterConsumerGroupOffsets_destroy(req);
        rd_kafka_topic_partition_list_destroy(offsets);
        c->pending++;
        /* written only once the target says so (on_alter): until then, and if it never
         * does, the report says why not */
        char why[160];
        snprintf(why, sizeof why, "not written: %s did not acknowledge it", f->tgt->alias);
        json_t *entry =
            json_pack("{s:s,s:o,s:s}", "group", c->groups[i], "offsets", rows, "error", why);
        if (c->from_cache)
            json_object_set_new(entry, "read_ms", json_integer(g->read_ms));
        json_array_append_new(c->report, entry);
    }
    if (c->pending == 0)
        ckpt_finish(f);
}

void mf_ckpt_release(st_mflow *f)
{
    mf_ckpt *c = &f->ckpt;
    c->hold_alter = false;
    if (c->running && c->phase == CK_HELD)
        start_alters(f);
}

/* The report's entry of group `name` (this cycle's), or NULL. */
static json_t *report_entry(mf_ckpt *c, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(c->report, i, e)
    {
        const char *g = json_string_value(json_object_get(e, "group"));
        if (g && name && strcmp(g, name) == 0)
            return e;
    }
    return NULL;
}

size_t mf_ckpt_unwritten(const st_mflow *f)
{
    size_t i, n = 0;
    json_t *e;
    json_array_foreach(f->ckpt.report, i, e)
    {
        if (json_object_get(e, "error"))
            n++;
    }
    return n;
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
            const char *name = rd_kafka_group_result_name(res[i]);
            char why[512] = "";
            for (int j = 0; !gerr && !why[0] && parts && j < parts->cnt; j++)
                if (parts->elems[j].err) {
                    snprintf(why, sizeof why, "%s[%d]: %s", parts->elems[j].topic,
                             parts->elems[j].partition, rd_kafka_err2str(parts->elems[j].err));
                    mf_error(f, "checkpoint: group %s on %s, %s", name, f->tgt->alias, why);
                }
            if (gerr) {
                snprintf(why, sizeof why, "%s", rd_kafka_error_string(gerr));
                mf_error(f, "checkpoint: group %s on %s: %s", name, f->tgt->alias, why);
            }
            json_t *entry = report_entry(c, name);
            if (!why[0]) {
                c->written++;
                if (entry)
                    json_object_del(entry, "error"); /* acknowledged: written */
            } else if (entry) {
                char error[640];
                snprintf(error, sizeof error, "not written: %s refused it (%s)", f->tgt->alias,
                         why);
                json_object_set_new(entry, "error", json_string(error));
            }
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
    if (c->running && c->phase == CK_FETCH_PHASE && c->pending == 0) {
        if (c->hold_alter)
            c->phase = CK_HELD;
        else
            start_alters(f);
    }
    return true;
}
