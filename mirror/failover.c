/*
 * Failover and failback of a flow.
 *
 * A failover is a short state machine run by st_mflow_step (state MF_FAILING_OVER), so
 * the daemon keeps answering and copying other flows while it runs, and nothing in it
 * waits for the source — which, in the failover that matters, is gone:
 *
 *   start   stop consuming; a checkpoint cycle starts on the source, held before its
 *           writes (mf_ckpt, hold_alter)
 *   drain   wait for the records in flight to be acknowledged by the target, as long as
 *           acknowledgements keep coming (at most FO_DRAIN_MS); what is left is purged and
 *           reported; the offsets map, now final, is persisted
 *   ends    ask both clusters for their end offsets through the flow's workers (the
 *           source's answer gives the exact at-risk ranges, the target's the divergence
 *           points); a source that does not answer within FO_ENDS_MS leaves the last end
 *           offsets the flow knew, marked "source_reachable": false
 *   groups  the held checkpoint translates the committed offsets through the final map
 *           and writes them; if the source did not give them within FO_SOURCE_MS, the
 *           offsets last read from it (the group cache) are written instead
 *   save    the report is kept for status ("failover") and the state "failed-over" is
 *           written to the state file (disk worker: temporary file, fsync, rename) and to
 *           the target's record
 *   done    the disk worker's result is collected: only now is the state FAILED_OVER, so
 *           whoever sees "failed-over" (`strait mirror failover` polls for it) can rely on
 *           a restart, even after SIGKILL, not copying into the target again. A write that
 *           failed is in the report ("state_error": the file, why, what to do); another
 *           failover command writes it again.
 *
 * Whatever the clusters do, the report is made within max(FO_DRAIN_MS, FO_SOURCE_MS) +
 * FO_ENDS_MS and a poll: 7.5 s; the file's write then takes an fsync or two.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/logging.h"
#include "mirror/flow_int.h"

#define FO_DRAIN_MS       5000 /* at most, waiting for records in flight */
#define FO_NO_PROGRESS_MS 2000 /* no acknowledgement for this long: the target is not answering */
#define FO_SOURCE_MS      3000 /* the source's committed offsets, before falling back to cache */
#define FO_ENDS_MS        2500 /* after the drain: end offsets and the final writes */
#define FO_QUERY_MS       2000 /* each cluster's offset query (under FO_ENDS_MS) */
#define FO_SAVE_WARN_MS   5000 /* the state file's write is said to be slow after this */

void mf_fo_free(st_mflow *f)
{
    free(f->fo.src_lo);
    free(f->fo.src_hi);
    free(f->fo.tgt_hi);
    memset(&f->fo, 0, sizeof f->fo);
}

/* The partitions a failover reports on, in a fixed order: every mirrored partition. */
#define FOR_REPORT_PARTS(f, t, p)                                                                  \
    for (size_t ti_ = 0; ti_ < (f)->ntopics; ti_++)                                                \
        for (mf_topic *t = (f)->topics[ti_]; t; t = NULL)                                          \
            if (!t->heartbeat)                                                                     \
                for (int32_t p = 0; p < t->nparts; p++)

/* The report is made: failed-over once the state file of generation gen is written. */
static void save_start(st_mflow *f, int64_t gen, int64_t now)
{
    mf_fo *fo = &f->fo;
    fo->saving = true;
    fo->save_warned = false;
    fo->save_gen = gen;
    fo->save_since = now;
}

static void failed_over(st_mflow *f)
{
    const json_t *r = f->failover_report;
    f->state = MF_FAILED_OVER;
    st_info("%s: failed over in %" PRId64 " ms; %zu partition range(s) not replicated%s; %zu "
            "group(s) written%s%s",
            f->fc->name, st_mono_ms() - f->fo.started_ms,
            json_array_size(json_object_get(r, "at_risk")),
            json_is_true(json_object_get(r, "source_reachable"))
                ? ""
                : " (source unreachable: ranges end at the last end offsets known)",
            json_array_size(json_object_get(r, "groups")),
            strcmp(json_string_value(json_object_get(r, "groups_from")) ?: "", "cache") == 0
                ? " from the offsets last read from the source"
                : "",
            json_object_get(r, "state_error") ? "; its state was NOT saved" : "");
    mf_fo_free(f);
}

/* The report with "state_error" set (error) or removed (NULL): a copy, since the saved
 * state holds the report it was made with. */
static void report_state_error(st_mflow *f, const char *error)
{
    json_t *r = json_copy(f->failover_report);
    if (!r)
        return;
    if (error)
        json_object_set_new(r, "state_error", json_string(error));
    else
        json_object_del(r, "state_error");
    json_decref(f->failover_report);
    f->failover_report = r;
}

void mf_failover_saved(st_mflow *f, int64_t gen, const char *error)
{
    if (f->state != MF_FAILING_OVER || !f->fo.saving || gen != f->fo.save_gen)
        return; /* another save (start-up, failback, reset) or an older one */
    if (error) {
        char why[1536];
        snprintf(why, sizeof why,
                 "the flow is failed over in this daemon, but %s does not say so (%s): a "
                 "restart of strait-mirror may copy into %s again. Do not restart it; fix "
                 "the cause, then run `strait mirror failover '%s'` again to write it",
                 f->state_path, error, f->tgt->alias, f->fc->name);
        mf_error(f, "failover: %s", why);
        report_state_error(f, why);
    } else if (json_object_get(f->failover_report, "state_error")) {
        report_state_error(f, NULL);
    }
    failed_over(f);
}

int st_mflow_failover(st_mflow *f, char *err, size_t errlen)
{
    if (f->state == MF_FAILING_OVER)
        return 0; /* already on its way: the caller waits for it like the first one */
    if (f->state == MF_FAILED_OVER && json_object_get(f->failover_report, "state_error")) {
        /* its state could not be written: try again, failing-over until it is (the report
         * saved is the one without the error) */
        report_state_error(f, NULL);
        int64_t gen = mf_flowstate_save(f, "failed-over");
        if (gen < 0) {
            snprintf(err, errlen, "flow %s: the write of %s could not be queued; see its errors",
                     f->fc->name, f->state_path);
            report_state_error(f, err);
            return -1;
        }
        st_info("%s: writing the failed-over state again", f->fc->name);
        mf_fo_free(f);
        f->fo.started_ms = st_mono_ms();
        save_start(f, gen, f->fo.started_ms);
        f->state = MF_FAILING_OVER;
        return 0;
    }
    if (f->state == MF_STOPPING) {
        snprintf(err, errlen, "the daemon is stopping");
        return -1;
    }
    if (f->state == MF_FAILED_OVER || f->state == MF_FAILED_BACK) {
        snprintf(err, errlen, "flow %s is already failed over%s", f->fc->name,
                 f->state == MF_FAILED_BACK ? " and back" : "");
        return -1;
    }
    if (f->state == MF_STARTING || !f->consumer) {
        snprintf(err, errlen, "flow %s is still starting; nothing to fail over yet", f->fc->name);
        return -1;
    }
    st_info("%s: failing over", f->fc->name);
    f->state = MF_FAILING_OVER;
    rd_kafka_assign(f->consumer, NULL);
    for (size_t i = 0; i < f->ntopics; i++)
        for (int32_t p = 0; p < f->topics[i]->nparts; p++)
            f->topics[i]->parts[p]->assigned = false;
    mf_pending_drop(f);
    mf_fo_free(f);
    json_decref(f->failover_report);
    f->failover_report = NULL;
    mf_fo *fo = &f->fo;
    int64_t now = st_mono_ms();
    fo->started_ms = now;
    fo->drain_deadline = now + FO_DRAIN_MS;
    fo->src_deadline = now + FO_SOURCE_MS;
    fo->last_outq = -1;
    FOR_REPORT_PARTS(f, t, p)
    {
        fo->nparts++;
    }
    size_t n = fo->nparts ? fo->nparts : 1;
    fo->src_lo = malloc(n * sizeof(int64_t));
    fo->src_hi = malloc(n * sizeof(int64_t));
    fo->tgt_hi = malloc(n * sizeof(int64_t));
    if (!fo->src_lo || !fo->src_hi || !fo->tgt_hi) {
        snprintf(err, errlen, "out of memory");
        mf_fo_free(f);
        f->state = MF_PAUSED;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        fo->src_lo[i] = fo->src_hi[i] = fo->tgt_hi[i] = -1;
    /* A fresh cycle, whatever a periodic one was doing; it writes once the map is final. */
    f->ckpt.running = false;
    mf_ckpt_start(f, st_wall_ms());
    f->ckpt.hold_alter = true;
    return 0;
}

static void drain_end(st_mflow *f, int64_t now, int outq)
{
    mf_fo *fo = &f->fo;
    if (outq > 0) {
        fo->drain_left = outq;
        mf_error(f,
                 "failover: %d record(s) still unacknowledged by %s after %" PRId64
                 " ms; they are reported at risk",
                 outq, f->tgt->alias, now - fo->started_ms);
        mf_producers_purge(f);
    }
    mf_offsets_persist(f);
    fo->drained = true;
    /* not before the source had its chance to give the groups' offsets */
    fo->end_deadline = now + FO_ENDS_MS;
    if (fo->end_deadline < fo->src_deadline)
        fo->end_deadline = fo->src_deadline;
    mf_offsets_job *src = mf_offsets_job_new(f, MF_OFS_FAILOVER_SOURCE, FO_QUERY_MS);
    mf_offsets_job *tgt = mf_offsets_job_new(f, MF_OFS_FAILOVER_TARGET, FO_QUERY_MS);
    if (src && tgt) {
        FOR_REPORT_PARTS(f, t, p)
        {
            mf_offsets_job_add(src, t->name, p);
            mf_offsets_job_add(tgt, t->target, p);
        }
        /* A dead source may still hold its worker in an earlier call: nothing after it
         * in that queue matters more than this. */
        st_mworker_cancel_all(f->src_worker);
        st_mworker_submit(f->src_worker, &src->job);
        st_mworker_submit(f->tgt_worker, &tgt->job);
    } else {
        if (src)
            src->job.drop(&src->job);
        if (tgt)
            tgt->job.drop(&tgt->job);
    }
    mf_ckpt_release(f);
}

void mf_failover_on_offsets(st_mflow *f, mf_offsets_job *j)
{
    mf_fo *fo = &f->fo;
    if (f->state != MF_FAILING_OVER)
        return; /* too late: the report was made without it */
    bool source = j->purpose == MF_OFS_FAILOVER_SOURCE;
    for (size_t i = 0; i < fo->nparts; i++) {
        int64_t lo, hi;
        if (!mf_offsets_job_get(j, (int)i, &lo, &hi))
            continue;
        if (source) {
            fo->src_lo[i] = lo;
            fo->src_hi[i] = hi;
        } else {
            fo->tgt_hi[i] = hi;
        }
    }
    if (source) {
        fo->src_ends = true;
        fo->src_ok = !j->err;
    } else {
        fo->tgt_ends = true;
    }
}

static json_t *build_report(st_mflow *f, int64_t now)
{
    mf_fo *fo = &f->fo;
    json_t *at_risk = json_array(), *target_end = json_array();
    json_decref(f->divergence);
    f->divergence = json_array(); /* where a failback starts, per partition */
    bool all_reachable = true;
    size_t i = 0;
    FOR_REPORT_PARTS(f, t, p)
    {
        mf_part *part = t->parts[p];
        bool reachable = fo->src_hi[i] >= 0;
        int64_t lo = fo->src_lo[i], hi = reachable ? fo->src_hi[i] : part->source_end;
        if (!reachable)
            all_reachable = false;
        if (reachable) {
            part->source_start = lo;
            part->source_end = hi;
        }
        int64_t from = part->delivered >= 0 ? part->delivered : (lo >= 0 ? lo : 0);
        if (part->stopped && !reachable)
            hi = -1; /* no longer copied: nothing known about it */
        if (hi > from) {
            json_t *r = json_pack("{s:s,s:i,s:I,s:I}", "topic", t->name, "partition", (int)p,
                                  "from", (json_int_t)from, "to", (json_int_t)hi);
            if (!reachable)
                json_object_set_new(r, "source_reachable", json_false());
            json_array_append_new(at_risk, r);
        }
        int64_t ns, nt;
        if (fo->tgt_hi[i] >= 0)
            part->target_end = fo->tgt_hi[i];
        else /* the end of what we mirrored there, when the target does not answer */
            part->target_end = st_moffsets_position(f->map, t->name, p, &ns, &nt) ? nt : -1;
        if (part->target_end >= 0)
            json_array_append_new(target_end,
                                  json_pack("{s:s,s:i,s:I}", "topic", t->target, "partition",
                                            (int)p, "offset", (json_int_t)part->target_end));
        json_array_append_new(f->divergence,
                              json_pack("{s:s,s:s,s:i,s:I}", "topic", t->name, "target_topic",
                                        t->target, "partition", (int)p, "offset",
                                        (json_int_t)part->target_end));
        i++;
    }
    mf_ckpt *c = &f->ckpt;
    /* final only when the target acknowledged every group's offsets */
    bool ckpt_done = !c->running && c->report && !c->failed && mf_ckpt_unwritten(f) == 0;
    const char *groups_from = c->report ? (c->from_cache ? "cache" : "source") : "none";
    json_t *report = json_pack(
        "{s:s,s:O,s:s,s:b,s:b,s:o,s:o,s:i,s:I,s:I}", "flow", f->fc->name, "groups",
        c->report ? c->report : json_array(), "groups_from", groups_from, "final_checkpoint",
        ckpt_done || (c->from_cache && !c->running && mf_ckpt_unwritten(f) == 0),
        "source_reachable", all_reachable && fo->src_ok, "at_risk", at_risk, "target_end",
        target_end, "unacknowledged", fo->drain_left, "took_ms", (json_int_t)(now - fo->started_ms),
        "time_ms", (json_int_t)st_wall_ms());
    return report;
}

static void finish(st_mflow *f, int64_t now)
{
    mf_fo *fo = &f->fo;
    json_decref(f->failover_report);
    f->failover_report = build_report(f, now);
    if (f->ckpt.running)
        mf_error(f,
                 "failover: the final group offsets were sent to %s but not confirmed within "
                 "%d ms",
                 f->tgt->alias, FO_ENDS_MS);
    int64_t gen = mf_flowstate_save(f, "failed-over");
    mf_ckpt_reset(f);
    int64_t started = fo->started_ms;
    mf_fo_free(f);
    fo->started_ms = started;
    if (gen >= 0) {
        save_start(f, gen, now); /* failed-over once the file is written (mf_failover_saved) */
    } else if (f->state_path[0]) {
        save_start(f, -1, now);
        mf_failover_saved(f, -1, "the write could not be queued (out of memory)");
    } else {
        failed_over(f); /* no state dir: nothing to wait for */
    }
}

void mf_failover_step(st_mflow *f, int64_t now_ms)
{
    mf_fo *fo = &f->fo;
    mf_ckpt *c = &f->ckpt;
    int64_t now = st_mono_ms();
    (void)now_ms;
    mf_poll_events(f); /* collects the state file's write, too */
    mf_producers_poll(f);
    if (f->state != MF_FAILING_OVER)
        return; /* the state file was written just now */
    if (fo->saving) {
        if (!fo->save_warned && now - fo->save_since >= FO_SAVE_WARN_MS) {
            fo->save_warned = true;
            mf_error(f,
                     "failover: %s is still being written after %d ms; the flow stays "
                     "failing-over (not copying) until it is; do not restart strait-mirror "
                     "before, and check that disk",
                     f->state_path, FO_SAVE_WARN_MS);
        }
        return;
    }
    int outq = mf_producers_outq(f);
    if (!fo->drained) {
        if (outq != fo->last_outq) {
            fo->last_outq = outq;
            fo->progress_ms = now;
        }
        if (outq == 0 || now >= fo->drain_deadline || now - fo->progress_ms >= FO_NO_PROGRESS_MS)
            drain_end(f, now, outq);
    }
    /* The source did not give the groups' offsets in time (or refused): the cache. */
    bool source_waiting = c->running && (c->phase == CK_LIST_PHASE || c->phase == CK_FETCH_PHASE);
    bool source_gone = fo->src_ends && !fo->src_ok;
    if (!fo->cached && !c->from_cache &&
        ((!c->running && c->failed) ||
         (source_waiting && (now >= fo->src_deadline || source_gone)))) {
        fo->cached = true;
        /* the target's writes get their own time, whenever this happens */
        if (fo->end_deadline < now + FO_ENDS_MS)
            fo->end_deadline = now + FO_ENDS_MS;
        mf_error(f,
                 "failover: the committed group offsets could not be read from %s; writing "
                 "those last read from it",
                 f->src->alias);
        mf_ckpt_start_cached(f, st_wall_ms());
        if (fo->drained)
            mf_ckpt_release(f);
    }
    if (!fo->drained)
        return;
    bool late = now >= fo->end_deadline;
    if (late || (fo->src_ends && fo->tgt_ends && !c->running && outq == 0))
        finish(f, now);
}

/* ---- failback (flowstate.c does the turning around) ---- */

int st_mflow_failback(st_mflow *f, json_t **report, char *err, size_t errlen)
{
    if (f->state == MF_STOPPING) {
        snprintf(err, errlen, "the daemon is stopping");
        return -1;
    }
    if (f->state == MF_FAILED_BACK && f->cmd_error[0] && strcmp(f->cmd_save, "failback") == 0) {
        /* failed back, but its state could not be written: write it again */
        st_info("%s: writing the failed-back state again", f->fc->name);
        mf_flowstate_save_cmd(f, "failed-back", "failback");
        *report = json_pack("{s:s,s:[]}", "flow", f->fc->name, "from");
        return 0;
    }
    if (f->state != MF_FAILED_OVER) {
        snprintf(err, errlen, "flow %s is not failed over (failback reverses a failover)",
                 f->fc->name);
        return -1;
    }
    json_t *from = json_array();
    char why[512];
    json_t *divergence = json_incref(f->divergence);
    int rc = mf_reverse(f, divergence, true, from, why, sizeof why);
    json_decref(divergence);
    if (rc != 0) {
        snprintf(err, errlen, "failback of %s: %s", f->fc->name, why);
        json_decref(from);
        return -1;
    }
    mf_flowstate_save_cmd(f, "failed-back", "failback"); /* "failing-back" until written */
    *report = json_pack("{s:s,s:o}", "flow", f->fc->name, "from", from);
    return 0;
}
