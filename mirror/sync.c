/*
 * Topics a flow keeps in step with the source:
 *   - discovered every sync_interval from both clusters' metadata, asked by the flow's
 *     workers (worker.h) so a slow or gone cluster never holds the loop; the source's
 *     worker also makes sure ST_MIRROR_HEARTBEATS_TOPIC exists there;
 *   - created on the target with the source's partition count and non-default configs
 *     (DescribeConfigs, CreateTopics), grown when the source grows (CreatePartitions):
 *     asynchronous admin requests whose results come back through st_mflow_step;
 *   - heartbeats: one record a heartbeat_interval to ST_MIRROR_HEARTBEATS_TOPIC on the
 *     source, mirrored like any topic; its delivery on the target gives the latency.
 * New partitions are resumed by a scan of the target (resume.c) before they are copied.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/logging.h"
#include "mirror/flow_int.h"

/* ---- topic discovery ---- */

static void admin_opts(st_mflow *f, rd_kafka_AdminOptions_t *opts, void *opaque)
{
    char why[256];
    rd_kafka_AdminOptions_set_request_timeout(opts, MF_ADMIN_TIMEOUT, why, sizeof(why));
    rd_kafka_AdminOptions_set_opaque(opts, opaque);
}

static void create_topic(st_mflow *f, mf_topic *t, const rd_kafka_ConfigEntry_t **configs,
                         size_t nconfigs)
{
    char why[512];
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(t->target, t->src_partitions, -1, why, sizeof(why));
    if (!nt) {
        mf_error(f, "cannot create %s on %s: %s", t->target, f->tgt->alias, why);
        t->state = MF_T_FAILED;
        t->retry_ms = st_mono_ms() + f->fc->sync_interval_ms;
        return;
    }
    for (size_t i = 0; i < nconfigs; i++)
        rd_kafka_NewTopic_set_config(nt, rd_kafka_ConfigEntry_name(configs[i]),
                                     rd_kafka_ConfigEntry_value(configs[i]));
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(f->producer, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    admin_opts(f, opts, t);
    rd_kafka_CreateTopics(f->producer, &nt, 1, opts, f->tgt_q);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    t->state = MF_T_CREATING;
}

static void describe_configs(st_mflow *f, mf_topic *t)
{
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, t->name);
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(f->src_producer, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    admin_opts(f, opts, t);
    rd_kafka_DescribeConfigs(f->src_producer, &res, 1, opts, f->src_q);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_ConfigResource_destroy(res);
    t->state = MF_T_DESCRIBING;
}

static void grow_topic(st_mflow *f, mf_topic *t)
{
    char why[512];
    rd_kafka_NewPartitions_t *np =
        rd_kafka_NewPartitions_new(t->target, (size_t)t->src_partitions, why, sizeof(why));
    if (!np) {
        mf_error(f, "cannot grow %s on %s: %s", t->target, f->tgt->alias, why);
        return;
    }
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(f->producer, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS);
    admin_opts(f, opts, t);
    rd_kafka_CreatePartitions(f->producer, &np, 1, opts, f->tgt_q);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewPartitions_destroy(np);
    t->growing = true;
}

/* Resumes the partitions of t that exist on both sides and were never resumed. */
/* Resumes the partitions of t that exist on both sides and were never resumed. */
static void resume_new_parts(st_mflow *f, mf_topic *t)
{
    int32_t n = t->src_partitions < t->tgt_partitions ? t->src_partitions : t->tgt_partitions;
    if (mf_topic_grow(t, n) != 0) {
        mf_error(f, "out of memory adding partitions of %s", t->name);
        return;
    }
    mf_part **todo = calloc((size_t)(t->nparts ? t->nparts : 1), sizeof(*todo));
    size_t ntodo = 0;
    for (int32_t p = 0; todo && p < t->nparts; p++)
        if (!t->parts[p]->resumed && !t->parts[p]->stopped && !t->parts[p]->scanning)
            todo[ntodo++] = t->parts[p];
    mf_resume_parts(f, todo, ntodo);
    free(todo);
}

static void topic_gone(st_mflow *f, mf_topic *t)
{
    t->deleted = true;
    for (int32_t p = 0; p < t->nparts; p++) {
        mf_part *part = t->parts[p];
        mf_unassign(f, part);
        int64_t from = part->delivered >= 0 ? part->delivered : 0;
        if (part->source_end > from && !t->heartbeat) {
            json_array_append_new(f->gaps, json_pack("{s:s,s:i,s:I,s:I}", "topic", t->name,
                                                     "partition", (int)p, "from", (json_int_t)from,
                                                     "to", (json_int_t)part->source_end));
            mf_error(f,
                     "%s[%d]: topic deleted on %s before records [%" PRId64 ", %" PRId64
                     ") were copied",
                     t->name, (int)p, f->src->alias, from, part->source_end);
        }
    }
    mf_error(f,
             "source topic %s was deleted on %s; no longer copied (its copy %s on %s is "
             "kept)",
             t->name, f->src->alias, t->target, f->tgt->alias);
}

/* ---- metadata, from the workers ---- */

typedef struct mf_meta_topic {
    char *name;
    int32_t partitions;
} mf_meta_topic;

typedef struct mf_meta_job {
    st_mjob job;
    uint64_t gen;
    bool source;
    rd_kafka_resp_err_t err;
    mf_meta_topic *topics;
    size_t ntopics;
    bool hb_created;  /* the source's heartbeats topic was created */
    char hb_err[512]; /* it could not be */
} mf_meta_job;

#define MF_META_TIMEOUT_MS 5000

static void meta_run(st_mjob *job, rd_kafka_t *probe, const st_mcluster_config *cluster)
{
    mf_meta_job *j = (mf_meta_job *)job;
    static const char *const hb_conf[] = {"retention.ms", "86400000", NULL};
    const struct rd_kafka_metadata *md = NULL;
    j->err = rd_kafka_metadata(probe, 1, NULL, &md, MF_META_TIMEOUT_MS);
    if (j->err)
        return;
    j->topics = calloc((size_t)md->topic_cnt + 1, sizeof *j->topics);
    bool have_hb = false;
    for (int i = 0; j->topics && i < md->topic_cnt; i++) {
        const struct rd_kafka_metadata_topic *mt = &md->topics[i];
        if (mt->err)
            continue;
        if (strcmp(mt->topic, ST_MIRROR_HEARTBEATS_TOPIC) == 0)
            have_hb = true;
        mf_meta_topic *t = &j->topics[j->ntopics];
        t->name = strdup(mt->topic);
        t->partitions = mt->partition_cnt;
        if (t->name)
            j->ntopics++;
    }
    rd_kafka_metadata_destroy(md);
    if (j->source && !have_hb && !atomic_load(&job->cancelled))
        mf_ensure_topic(probe, ST_MIRROR_HEARTBEATS_TOPIC, hb_conf, &job->cancelled, &j->hb_created,
                        j->hb_err, sizeof j->hb_err);
}

static void meta_drop(st_mjob *job)
{
    mf_meta_job *j = (mf_meta_job *)job;
    for (size_t i = 0; i < j->ntopics; i++)
        free(j->topics[i].name);
    free(j->topics);
    free(j);
}

static void sync_apply(st_mflow *f, mf_meta_job *src, mf_meta_job *tgt);

static void meta_done(st_mjob *job, void *ctx)
{
    mf_meta_job *j = (mf_meta_job *)job;
    st_mflow *f = ctx;
    if (j->gen != f->gen) {
        meta_drop(job);
        return;
    }
    if (j->err)
        mf_error(f, "listing topics on %s: %s", j->source ? f->src->alias : f->tgt->alias,
                 rd_kafka_err2str(j->err));
    if (j->hb_err[0])
        mf_error(f, "%s on %s", j->hb_err, f->src->alias);
    if (j->hb_created)
        st_info("%s: created %s on %s", f->fc->name, ST_MIRROR_HEARTBEATS_TOPIC, f->src->alias);
    if (j->source)
        f->sync_src = j;
    else
        f->sync_tgt = j;
    if (!f->sync_src || !f->sync_tgt)
        return; /* the other side's answer is still to come */
    mf_meta_job *s = f->sync_src, *t = f->sync_tgt;
    f->sync_src = f->sync_tgt = NULL;
    f->sync_busy = false;
    if (!s->err && !t->err && s->topics && t->topics)
        sync_apply(f, s, t);
    meta_drop(&s->job);
    meta_drop(&t->job);
}

void mf_sync_free(st_mflow *f)
{
    if (f->sync_src)
        meta_drop(&f->sync_src->job);
    if (f->sync_tgt)
        meta_drop(&f->sync_tgt->job);
    f->sync_src = f->sync_tgt = NULL;
    f->sync_busy = false;
}

void mf_sync(st_mflow *f, int64_t now_ms)
{
    if (f->sync_busy)
        return; /* the last round's answers are not all in (a slow cluster) */
    mf_meta_job *j[2];
    for (int i = 0; i < 2; i++) {
        j[i] = calloc(1, sizeof *j[i]);
        if (!j[i]) {
            free(j[0]);
            return;
        }
        j[i]->job.run = meta_run;
        j[i]->job.done = meta_done;
        j[i]->job.drop = meta_drop;
        j[i]->gen = f->gen;
        j[i]->source = i == 0;
    }
    f->sync_busy = true;
    st_mworker_submit(f->src_worker, &j[0]->job);
    st_mworker_submit(f->tgt_worker, &j[1]->job);
    (void)now_ms;
}

static void sync_apply(st_mflow *f, mf_meta_job *src, mf_meta_job *tgt)
{
    for (size_t i = 0; i < f->ntopics; i++)
        f->topics[i]->src_partitions = -1; /* marks "not seen" */
    for (size_t i = 0; i < src->ntopics; i++) {
        const mf_meta_topic *mt = &src->topics[i];
        if (strcmp(mt->name, ST_MIRROR_HEARTBEATS_TOPIC) != 0 &&
            !st_mflow_topic_selected(f->fc, mt->name))
            continue;
        if (mt->partitions > MF_MAX_PARTITIONS) {
            mf_error(f,
                     "topic %s: the source says it has %d partitions, more than the %d "
                     "strait-mirror copies; not mirrored",
                     mt->name, mt->partitions, MF_MAX_PARTITIONS);
            continue;
        }
        mf_topic *t = mf_topic_find(f, mt->name);
        if (!t) {
            char target[MF_TOPIC_NAME_MAX];
            if (st_mflow_target_topic(f->fc, mt->name, target, sizeof(target)) != 0) {
                mf_error(f, "topic %s: the target name is too long", mt->name);
                continue;
            }
            t = mf_topic_add(f, mt->name, target);
            if (!t)
                continue;
            st_info("%s: mirroring %s → %s:%s", f->fc->name, mt->name, f->tgt->alias, target);
        }
        t->src_partitions = mt->partitions;
        t->tgt_partitions = 0;
        for (size_t k = 0; k < tgt->ntopics; k++)
            if (strcmp(tgt->topics[k].name, t->target) == 0)
                t->tgt_partitions = tgt->topics[k].partitions;
    }
    for (size_t i = 0; i < f->ntopics; i++) {
        mf_topic *t = f->topics[i];
        if (t->src_partitions < 0) {
            if (!t->deleted && t->state == MF_T_READY)
                topic_gone(f, t);
            continue;
        }
        if (t->deleted) {
            /* back: a new incarnation (recreate.c); its old records' gaps were reported */
            t->deleted = false;
            for (int32_t p = 0; p < t->nparts; p++)
                t->parts[p]->max_end = -1;
            mf_recreated(f, t, "it was deleted and is back");
        } else if (t->state == MF_T_READY && t->src_partitions < t->nparts &&
                   t->src_partitions < t->tgt_partitions) {
            char why[96];
            snprintf(why, sizeof why, "its partition count went down to %d", t->src_partitions);
            mf_recreated(f, t, why);
        }
        switch (t->state) {
        case MF_T_FAILED:
            if (st_mono_ms() < t->retry_ms)
                break;
            /* fall through */
        case MF_T_NEW:
            if (t->tgt_partitions > 0)
                t->state = MF_T_READY;
            else if (f->fc->sync_configs && !t->heartbeat)
                describe_configs(f, t);
            else
                create_topic(f, t, NULL, 0);
            break;
        default:
            break;
        }
        if (t->state != MF_T_READY)
            continue;
        if (t->tgt_partitions < t->src_partitions && !t->growing) {
            if (f->fc->sync_partitions)
                grow_topic(f, t);
            else
                mf_error(f,
                         "%s has %d partitions on %s but %s only %d on %s (sync_partitions "
                         "is off): the extra partitions are not copied",
                         t->name, t->src_partitions, f->src->alias, t->target, t->tgt_partitions,
                         f->tgt->alias);
        }
        resume_new_parts(f, t);
    }
}

void mf_heartbeat(st_mflow *f, int64_t now_ms)
{
    const char *name = f->fc->name;
    rd_kafka_resp_err_t err = rd_kafka_producev(
        f->src_producer, RD_KAFKA_V_TOPIC(ST_MIRROR_HEARTBEATS_TOPIC), RD_KAFKA_V_PARTITION(0),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE((void *)name, strlen(name)),
        RD_KAFKA_V_TIMESTAMP(now_ms), RD_KAFKA_V_END);
    if (err && err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
        mf_error(f, "heartbeat to %s: %s", f->src->alias, rd_kafka_err2str(err));
}

/* ---- admin results ---- */

static bool topic_known(st_mflow *f, mf_topic *t)
{
    for (size_t i = 0; i < f->ntopics; i++)
        if (f->topics[i] == t)
            return true;
    return false;
}

static void on_describe_configs(st_mflow *f, rd_kafka_event_t *ev, mf_topic *t)
{
    size_t nres = 0, nconf = 0, keep = 0;
    const rd_kafka_ConfigResource_t **res = NULL;
    const rd_kafka_ConfigEntry_t **entries = NULL, **chosen = NULL;
    if (rd_kafka_event_error(ev)) {
        mf_error(f, "reading the configs of %s on %s: %s (creating it with defaults)", t->name,
                 f->src->alias, rd_kafka_event_error_string(ev));
    } else {
        res = rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev),
                                                        &nres);
        if (nres > 0 && !rd_kafka_ConfigResource_error(res[0]))
            entries = rd_kafka_ConfigResource_configs(res[0], &nconf);
    }
    chosen = calloc(nconf ? nconf : 1, sizeof(*chosen));
    for (size_t i = 0; chosen && i < nconf; i++) {
        const rd_kafka_ConfigEntry_t *e = entries[i];
        rd_kafka_ConfigSource_t src = rd_kafka_ConfigEntry_source(e);
        /* only what was set on this topic; broker defaults belong to the target's broker */
        if (rd_kafka_ConfigEntry_is_read_only(e) || rd_kafka_ConfigEntry_is_sensitive(e) ||
            !rd_kafka_ConfigEntry_value(e))
            continue;
        if (!mf_config_copyable(f, rd_kafka_ConfigEntry_name(e)))
            continue; /* configs.c: the copy keeps the target's own */
        if (src == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG ||
            (src == RD_KAFKA_CONFIG_SOURCE_UNKNOWN_CONFIG && !rd_kafka_ConfigEntry_is_default(e)))
            chosen[keep++] = e;
    }
    create_topic(f, t, chosen, keep);
    free(chosen);
}

static void on_create_topics(st_mflow *f, rd_kafka_event_t *ev, mf_topic *t)
{
    size_t n = 0;
    const rd_kafka_topic_result_t **res = NULL;
    const char *why = rd_kafka_event_error(ev) ? rd_kafka_event_error_string(ev) : NULL;
    rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
    if (!e) {
        res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        if (n > 0) {
            e = rd_kafka_topic_result_error(res[0]);
            why = rd_kafka_topic_result_error_string(res[0]);
        }
    }
    if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        mf_error(f, "creating %s on %s: %s; retrying in %" PRId64 " ms", t->target, f->tgt->alias,
                 why ? why : rd_kafka_err2str(e), f->fc->sync_interval_ms);
        t->state = MF_T_FAILED;
        t->retry_ms = st_mono_ms() + f->fc->sync_interval_ms;
        return;
    }
    if (!e)
        st_info("%s: created %s on %s with %d partition(s)", f->fc->name, t->target, f->tgt->alias,
                t->src_partitions);
    t->state = MF_T_READY;
    if (t->tgt_partitions < t->src_partitions)
        t->tgt_partitions = t->src_partitions;
    resume_new_parts(f, t);
    mf_assign_ready(f);
}

static void on_create_partitions(st_mflow *f, rd_kafka_event_t *ev, mf_topic *t)
{
    size_t n = 0;
    rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
    const char *why = e ? rd_kafka_event_error_string(ev) : NULL;
    t->growing = false;
    if (!e) {
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &n);
        if (n > 0) {
            e = rd_kafka_topic_result_error(res[0]);
            why = rd_kafka_topic_result_error_string(res[0]);
        }
    }
    if (e) {
        mf_error(f, "growing %s on %s to %d partitions: %s", t->target, f->tgt->alias,
                 t->src_partitions, why ? why : rd_kafka_err2str(e));
        return;
    }
    st_info("%s: %s on %s now has %d partitions", f->fc->name, t->target, f->tgt->alias,
            t->src_partitions);
    t->tgt_partitions = t->src_partitions;
    resume_new_parts(f, t);
    mf_assign_ready(f);
}

bool mf_sync_event(st_mflow *f, rd_kafka_event_t *ev)
{
    rd_kafka_event_type_t type = rd_kafka_event_type(ev);
    if (type != RD_KAFKA_EVENT_CREATETOPICS_RESULT &&
        type != RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT &&
        type != RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT)
        return false;
    mf_topic *t = rd_kafka_event_opaque(ev);
    if (!t || !topic_known(f, t))
        return true; /* answer for a topic set replaced by failback */
    if (type == RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT)
        on_describe_configs(f, ev, t);
    else if (type == RD_KAFKA_EVENT_CREATETOPICS_RESULT)
        on_create_topics(f, ev, t);
    else
        on_create_partitions(f, ev, t);
    return true;
}
