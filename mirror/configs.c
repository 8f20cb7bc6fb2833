/*
 * Topic configs follow the source (sync_configs): every sync_interval, one
 * DescribeConfigs on each cluster for every mirrored topic; when both answers are in, a
 * copy whose overrides differ from its source's gets them with one AlterConfigs. A
 * retention, compaction or max.message.bytes change on the source reaches the copy
 * within one sync interval (and a round trip).
 *
 * Copied: the topic's own overrides (config source DYNAMIC_TOPIC_CONFIG), so each
 * cluster keeps its own broker defaults. Never copied (mf_config_copyable): the settings
 * that must differ on a copy, below, and the flow's configs_exclude patterns. The
 * target's own values of those are kept when the others are replaced: AlterConfigs (the
 * non-incremental API, which every Kafka-protocol broker serves) sets the whole override
 * set, so they are sent back with it.
 *
 * Loop thread; the admin answers come through st_mflow_step (mf_configs_event).
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/logging.h"
#include "mirror/flow_int.h"

/* Settings whose value on a copy must be the target's, not the source's. */
static const struct {
    const char *name, *why;
} never_copied[] = {
    {"message.timestamp.type", "the copy keeps each record's original timestamp: "
                               "LogAppendTime on the target would replace it"},
    {"message.timestamp.difference.max.ms", "a backlog copied late would be refused"},
    {"min.insync.replicas", "depends on the target cluster's replication"},
    {"unclean.leader.election.enable", "a durability choice of the target cluster"},
    {"leader.replication.throttled.replicas", "names the source cluster's brokers"},
    {"follower.replication.throttled.replicas", "names the source cluster's brokers"},
    {"remote.storage.enable", "tiered storage is set up per cluster"},
    {"local.retention.ms", "tiered storage is set up per cluster"},
    {"local.retention.bytes", "tiered storage is set up per cluster"},
};

bool mf_config_copyable(const st_mflow *f, const char *name)
{
    for (size_t i = 0; i < sizeof never_copied / sizeof never_copied[0]; i++)
        if (strcmp(name, never_copied[i].name) == 0)
            return false;
    const st_mpatterns *ex = &f->fc->configs_exclude;
    for (size_t i = 0; i < ex->n; i++)
        if (regexec(&ex->re[i], name, 0, NULL, 0) == 0)
            return false;
    return true;
}

/* The tags the round's admin requests carry as their opaque. */
static void *src_tag(st_mflow *f)
{
    return &f->cfgsync.src_tag;
}
static void *tgt_tag(st_mflow *f)
{
    return &f->cfgsync.tgt_tag;
}
static void *alter_tag(st_mflow *f)
{
    return &f->cfgsync.alter_tag;
}

void mf_configs_free(st_mflow *f)
{
    json_decref(f->cfgsync.src);
    json_decref(f->cfgsync.tgt);
    f->cfgsync.src = f->cfgsync.tgt = NULL;
    f->cfgsync.busy = false;
}

static void describe(st_mflow *f, rd_kafka_t *rk, rd_kafka_queue_t *q, bool source)
{
    char why[256];
    size_t n = 0;
    rd_kafka_ConfigResource_t **res = calloc(f->ntopics ? f->ntopics : 1, sizeof(*res));
    if (!res)
        return;
    for (size_t i = 0; i < f->ntopics; i++) {
        mf_topic *t = f->topics[i];
        if (t->heartbeat || t->deleted || t->state != MF_T_READY)
            continue;
        res[n++] =
            rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, source ? t->name : t->target);
    }
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_AdminOptions_set_request_timeout(opts, MF_ADMIN_TIMEOUT, why, sizeof why);
    rd_kafka_AdminOptions_set_opaque(opts, source ? src_tag(f) : tgt_tag(f));
    rd_kafka_DescribeConfigs(rk, res, n, opts, q);
    rd_kafka_AdminOptions_destroy(opts);
    for (size_t i = 0; i < n; i++)
        rd_kafka_ConfigResource_destroy(res[i]);
    free(res);
}

void mf_configs_round(st_mflow *f, int64_t now_ms)
{
    if (!f->fc->sync_configs || !f->producer || !f->src_producer)
        return;
    if (f->cfgsync.busy && now_ms - f->cfgsync.started_ms < 60000)
        return; /* the last round is still waiting for a slow cluster */
    mf_configs_free(f);
    size_t ready = 0;
    for (size_t i = 0; i < f->ntopics; i++)
        ready +=
            !f->topics[i]->heartbeat && !f->topics[i]->deleted && f->topics[i]->state == MF_T_READY;
    if (ready == 0)
        return;
    f->cfgsync.busy = true;
    f->cfgsync.started_ms = now_ms;
    describe(f, f->src_producer, f->src_q, true);
    describe(f, f->producer, f->tgt_q, false);
}

/* {"<topic>": {"<name>": "<value>", ...}} of the topics' own overrides (all of them;
 * the copyable ones are chosen later). Topics the answer has an error for are absent. */
static json_t *overrides_of(rd_kafka_event_t *ev)
{
    json_t *all = json_object();
    size_t nres = 0;
    const rd_kafka_ConfigResource_t **res =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &nres);
    for (size_t i = 0; all && i < nres; i++) {
        if (rd_kafka_ConfigResource_error(res[i]))
            continue;
        size_t n = 0;
        const rd_kafka_ConfigEntry_t **e = rd_kafka_ConfigResource_configs(res[i], &n);
        json_t *set = json_object();
        for (size_t k = 0; set && k < n; k++) {
            rd_kafka_ConfigSource_t src = rd_kafka_ConfigEntry_source(e[k]);
            const char *value = rd_kafka_ConfigEntry_value(e[k]);
            if (rd_kafka_ConfigEntry_is_read_only(e[k]) ||
                rd_kafka_ConfigEntry_is_sensitive(e[k]) || !value)
                continue;
            if (src == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG ||
                (src == RD_KAFKA_CONFIG_SOURCE_UNKNOWN_CONFIG &&
                 !rd_kafka_ConfigEntry_is_default(e[k])))
                json_object_set_new(set, rd_kafka_ConfigEntry_name(e[k]), json_string(value));
        }
        json_object_set_new(all, rd_kafka_ConfigResource_name(res[i]), set);
    }
    return all;
}

/* Only the copyable (want true) or only the kept (want false) names of set. */
static json_t *filtered(const st_mflow *f, const json_t *set, bool want)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)set, k, v)
    {
        if (mf_config_copyable(f, k) == want)
            json_object_set(out, k, v);
    }
    return out;
}

/* "retention.ms 3600000 -> 7200000, cleanup.policy -> compact, segment.ms 10 -> (removed)" */
static void describe_change(const json_t *from, const json_t *to, char *out, size_t cap)
{
    size_t used = 0;
    const char *k;
    json_t *v;
    out[0] = '\0';
    json_object_foreach((json_t *)to, k, v)
    {
        const json_t *old = json_object_get(from, k);
        if (old && json_equal(old, v))
            continue;
        int n = snprintf(out + used, cap - used, "%s%s %s%s-> %s", used ? ", " : "", k,
                         old ? json_string_value(old) : "", old ? " " : "", json_string_value(v));
        if (n < 0 || (size_t)n >= cap - used)
            return;
        used += (size_t)n;
    }
    json_object_foreach((json_t *)from, k, v)
    {
        if (json_object_get(to, k))
            continue;
        int n = snprintf(out + used, cap - used, "%s%s %s -> (removed)", used ? ", " : "", k,
                         json_string_value(v));
        if (n < 0 || (size_t)n >= cap - used)
            return;
        used += (size_t)n;
    }
}

static void apply(st_mflow *f)
{
    char why[256], change[400];
    rd_kafka_ConfigResource_t **res = calloc(f->ntopics ? f->ntopics : 1, sizeof(*res));
    size_t n = 0;
    for (size_t i = 0; res && i < f->ntopics; i++) {
        mf_topic *t = f->topics[i];
        const json_t *s = json_object_get(f->cfgsync.src, t->name);
        const json_t *g = json_object_get(f->cfgsync.tgt, t->target);
        if (t->heartbeat || t->deleted || !s || !g)
            continue;
        json_t *want = filtered(f, s, true), *have = filtered(f, g, true);
        if (!json_equal(want, have)) {
            json_t *kept = filtered(f, g, false);
            rd_kafka_ConfigResource_t *r =
                rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, t->target);
            const char *k;
            json_t *v;
            json_object_foreach(want, k, v)
            {
                rd_kafka_ConfigResource_set_config(r, k, json_string_value(v));
            }
            json_object_foreach(kept, k, v)
            {
                rd_kafka_ConfigResource_set_config(r, k, json_string_value(v));
            }
            res[n++] = r;
            describe_change(have, want, change, sizeof change);
            st_info("%s: configs of %s on %s follow %s on %s: %s", f->fc->name, t->target,
                    f->tgt->alias, t->name, f->src->alias, change);
            json_decref(kept);
        }
        json_decref(want);
        json_decref(have);
    }
    if (n > 0) {
        rd_kafka_AdminOptions_t *opts =
            rd_kafka_AdminOptions_new(f->producer, RD_KAFKA_ADMIN_OP_ALTERCONFIGS);
        rd_kafka_AdminOptions_set_request_timeout(opts, MF_ADMIN_TIMEOUT, why, sizeof why);
        rd_kafka_AdminOptions_set_opaque(opts, alter_tag(f));
        rd_kafka_AlterConfigs(f->producer, res, n, opts, f->tgt_q);
        rd_kafka_AdminOptions_destroy(opts);
    }
    for (size_t i = 0; i < n; i++)
        rd_kafka_ConfigResource_destroy(res[i]);
    free(res);
}

static void on_altered(st_mflow *f, rd_kafka_event_t *ev)
{
    if (rd_kafka_event_error(ev)) {
        mf_error(f, "changing topic configs on %s: %s", f->tgt->alias,
                 rd_kafka_event_error_string(ev));
        return;
    }
    size_t n = 0;
    const rd_kafka_ConfigResource_t **res =
        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &n);
    for (size_t i = 0; i < n; i++)
        if (rd_kafka_ConfigResource_error(res[i]))
            mf_error(f, "changing the configs of %s on %s: %s",
                     rd_kafka_ConfigResource_name(res[i]), f->tgt->alias,
                     rd_kafka_ConfigResource_error_string(res[i]));
}

bool mf_configs_event(st_mflow *f, rd_kafka_event_t *ev)
{
    void *tag = rd_kafka_event_opaque(ev);
    if (tag != src_tag(f) && tag != tgt_tag(f) && tag != alter_tag(f))
        return false;
    if (tag == alter_tag(f)) {
        on_altered(f, ev);
        return true;
    }
    if (!f->cfgsync.busy)
        return true; /* a round given up on */
    bool source = tag == src_tag(f);
    if (rd_kafka_event_error(ev)) {
        mf_error(f, "reading topic configs on %s: %s", source ? f->src->alias : f->tgt->alias,
                 rd_kafka_event_error_string(ev));
        mf_configs_free(f);
        return true;
    }
    json_t **slot = source ? &f->cfgsync.src : &f->cfgsync.tgt;
    json_decref(*slot);
    *slot = overrides_of(ev);
    if (f->cfgsync.src && f->cfgsync.tgt) {
        apply(f);
        mf_configs_free(f);
    }
    return true;
}
