/*
 * Which way a flow runs, remembered across restarts: "normal" (source → target, as
 * configured), "failed-over" (not copying: the target has taken over) or "failed-back"
 * (reversed, target → source, from the divergence points). A restarted daemon must never
 * resume copying into a cluster that has taken over.
 *
 * The state is kept twice, with a generation number that grows with every change:
 *   - in the state dir, <state_dir>/flows/<source>.to.<target>.json (state.h), written
 *     durably by the flow's disk worker;
 *   - on the configured target, as the flow record "<source alias>\0#state" in
 *     ST_MIRROR_OFFSETS_TOPIC, next to the offset map: a daemon started on another
 *     machine (no state dir) learns it too.
 * At start the flow loads its offset map from the target (STARTING) and with it the
 * record; the newer of the record and the file decides (mf_flowstate_start), and the
 * older copy is brought up to date. Nothing is copied before that. A file that exists but
 * cannot be read leaves the target's record to decide; without one, whether the target
 * has taken over is unknown and the flow is held (not copying) until either appears: the
 * target is read again every HOLD_MS, the file on the disk worker.
 *
 * {"flow", "state", "generation", "time_ms", "divergence": [{"topic", "target_topic",
 *  "partition", "offset"}] (the target's end offsets at failover, -1 unknown),
 *  "failover": the failover report}
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/logging.h"
#include "mirror/flow_int.h"
#include "mirror/state.h"

#define HOLD_MS 5000 /* a held flow reads the target and its file again this often */

/* ---- the file, on the disk worker ---- */

typedef struct mf_file_job {
    st_mjob job;
    char path[PATH_MAX];
    json_t *state;
    int64_t generation;
    char error[512];
} mf_file_job;

static void file_run(st_mjob *job, rd_kafka_t *probe, const st_mcluster_config *cluster)
{
    mf_file_job *j = (mf_file_job *)job;
    if (st_flow_state_write(j->path, j->state, j->error, sizeof j->error) != 0 && !j->error[0])
        snprintf(j->error, sizeof j->error, "cannot write %s", j->path);
}

static void file_drop(st_mjob *job)
{
    mf_file_job *j = (mf_file_job *)job;
    json_decref(j->state);
    free(j);
}

/* The write of generation gen for a failback or reset (mf_flowstate_save_cmd) is
 * collected: the command's new state is said now, or why the file does not hold it. */
static void cmd_saved(st_mflow *f, int64_t gen, const char *error)
{
    if (!error && gen >= f->cmd_error_gen)
        f->cmd_error[0] = '\0'; /* the file holds the flow's current state again */
    if (gen != f->cmd_save_gen)
        return; /* another save (failover, start-up) or an older one */
    f->cmd_save_gen = -1;
    if (!error)
        return;
    f->cmd_error_gen = gen;
    snprintf(f->cmd_error, sizeof f->cmd_error,
             "the %s is done in this daemon, but %s does not say so (%s): the flow copies "
             "nothing until it does, as a restart of strait-mirror would run the flow as before "
             "it. Do not restart it; fix the cause, then run `strait mirror %s '%s'` again to "
             "write it",
             f->cmd_save, f->state_path, error, f->cmd_save, f->fc->name);
    mf_error(f, "%s: %s", f->cmd_save, f->cmd_error);
}

static void file_done(st_mjob *job, void *ctx)
{
    mf_file_job *j = (mf_file_job *)job;
    if (j->error[0])
        mf_error((st_mflow *)ctx, "saving the flow's state: %s", j->error);
    /* a failover is failed-over only once its state is on disk; failback and reset too */
    mf_failover_saved((st_mflow *)ctx, j->generation, j->error[0] ? j->error : NULL);
    cmd_saved((st_mflow *)ctx, j->generation, j->error[0] ? j->error : NULL);
    file_drop(job);
}

static json_int_t generation(const json_t *s);

/* Queues the write of the state file: the generation written, or -1 when it was not. */
static int64_t write_file(st_mflow *f, const json_t *state)
{
    mf_file_job *j = calloc(1, sizeof *j);
    if (!j || !f->disk_worker || !f->state_path[0]) {
        if (!j && f->state_path[0])
            mf_error(f, "saving the flow's state: out of memory; %s not written", f->state_path);
        free(j);
        return -1;
    }
    j->job.run = file_run;
    j->job.done = file_done;
    j->job.drop = file_drop;
    j->job.must_run = true; /* a state change is saved even when the daemon stops now */
    snprintf(j->path, sizeof j->path, "%s", f->state_path);
    j->state = json_deep_copy(state);
    j->generation = generation(state);
    st_mworker_submit(f->disk_worker, &j->job);
    return j->generation;
}

/* Reads the file again for a held flow (state_unreadable): readable now (or moved away
 * by the operator), the next load of the target decides as at start. */
typedef struct mf_reread_job {
    st_mjob job;
    char path[PATH_MAX];
    json_t *state;
    int rc;
    char error[512];
} mf_reread_job;

static void reread_run(st_mjob *job, rd_kafka_t *probe, const st_mcluster_config *cluster)
{
    mf_reread_job *j = (mf_reread_job *)job;
    j->rc = st_flow_state_read(j->path, &j->state, j->error, sizeof j->error);
}

static void reread_drop(st_mjob *job)
{
    mf_reread_job *j = (mf_reread_job *)job;
    json_decref(j->state);
    free(j);
}

static void reread_done(st_mjob *job, void *ctx)
{
    mf_reread_job *j = (mf_reread_job *)job;
    st_mflow *f = ctx;
    f->state_rereading = false;
    if (j->rc >= 0 && f->state_unreadable) {
        f->state_unreadable = false;
        json_decref(f->saved);
        f->saved = j->state; /* NULL: the file was moved away (never failed over) */
        j->state = NULL;
        f->next_sync_ms = 0; /* the target is read again now, and decides with it */
        st_info("%s: %s %s; the flow starts from it and the target's record", f->fc->name,
                f->state_path, j->rc == 0 ? "is readable again" : "was moved away");
    }
    reread_drop(job);
}

static void reread_file(st_mflow *f)
{
    if (f->state_rereading || !f->disk_worker)
        return;
    mf_reread_job *j = calloc(1, sizeof *j);
    if (!j)
        return;
    j->job.run = reread_run;
    j->job.done = reread_done;
    j->job.drop = reread_drop;
    snprintf(j->path, sizeof j->path, "%s", f->state_path);
    f->state_rereading = true;
    st_mworker_submit(f->disk_worker, &j->job);
}

/* ---- the record on the configured target ---- */

static void write_record(st_mflow *f, const json_t *state)
{
    /* the client on the configured target: the producer, or after a failback the
     * source-side producer */
    rd_kafka_t *rk = f->tgt == f->fc->target ? f->producer : f->src_producer;
    char key[128];
    int klen = snprintf(key, sizeof key, "%s%c#state", f->fc->source->alias, '\0');
    char *text = json_dumps(state, JSON_COMPACT | JSON_SORT_KEYS);
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__INVALID_ARG;
    if (rk && text && klen > 0 && (size_t)klen < sizeof key)
        err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(ST_MIRROR_OFFSETS_TOPIC),
                                RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY(key, (size_t)klen),
                                RD_KAFKA_V_VALUE(text, strlen(text)),
                                RD_KAFKA_V_OPAQUE(&f->offsets_marker), RD_KAFKA_V_END);
    if (err)
        mf_error(f, "cannot save the flow's state on %s: %s", f->fc->target->alias,
                 rd_kafka_err2str(err));
    free(text);
}

/* ---- saving and choosing ---- */

static const char *saved_state(const json_t *s)
{
    const char *v = json_string_value(json_object_get(s, "state"));
    return v ? v : "normal";
}

static json_int_t generation(const json_t *s)
{
    return s ? json_integer_value(json_object_get(s, "generation")) : -1;
}

int64_t mf_flowstate_save(st_mflow *f, const char *state)
{
    json_t *s =
        json_pack("{s:s,s:s,s:I,s:I,s:O,s:O}", "flow", f->fc->name, "state", state, "generation",
                  (json_int_t)(generation(f->saved) + 1), "time_ms", (json_int_t)st_wall_ms(),
                  "divergence", f->divergence ? f->divergence : json_null(), "failover",
                  f->failover_report ? f->failover_report : json_null());
    if (!s) {
        mf_error(f, "out of memory saving the flow's state");
        return -1;
    }
    json_decref(f->saved);
    f->saved = s;
    int64_t queued = write_file(f, s);
    write_record(f, s);
    st_info("%s: %s (state generation %" JSON_INTEGER_FORMAT ", being saved in %s and on %s)",
            f->fc->name, state, generation(s), f->state_path, f->fc->target->alias);
    return queued;
}

bool mf_cmd_unsaved(const st_mflow *f)
{
    return f->cmd_save && (f->cmd_save_gen >= 0 || f->cmd_error[0]);
}

void mf_flowstate_save_cmd(st_mflow *f, const char *state, const char *cmd)
{
    int64_t gen = mf_flowstate_save(f, state);
    f->cmd_save = cmd;
    f->cmd_save_gen = gen;
    if (gen < 0 && f->state_path[0]) {
        f->cmd_save_gen = generation(f->saved);
        cmd_saved(f, f->cmd_save_gen, "the write could not be queued (out of memory)");
    }
}

void mf_flowstate_open(st_mflow *f, const char *state_dir)
{
    char err[512];
    json_t *s = NULL;
    if (!state_dir || st_flow_state_path(state_dir, f->fc->source->alias, f->fc->target->alias,
                                         f->state_path, sizeof f->state_path) != 0) {
        f->state_path[0] = '\0';
        return;
    }
    int rc = st_flow_state_read(f->state_path, &s, err, sizeof err);
    if (rc < 0) {
        f->state_unreadable = true;
        mf_error(f,
                 "the flow's saved state is unreadable (%s); the target's copy decides, and "
                 "without one the flow waits",
                 err);
    }
    if (rc == 0)
        f->saved = s;
}

bool mf_flowstate_start(st_mflow *f, const json_t *records)
{
    const json_t *rec = json_object_get(records, "state");
    if (rec && !json_is_object(rec))
        rec = NULL;
    if (f->state_unreadable && !rec) {
        /* The file says this flow changed direction at least once (it is only written
         * then), and the target, which may have taken over, says nothing: hold. */
        mf_error(f,
                 "not copying: the saved state %s is unreadable and %s holds no state record "
                 "of this flow, so whether %s has taken over is unknown; if it has not, move "
                 "the file away (the flow then starts within %d s); if it has, take the flow "
                 "out of the config",
                 f->state_path, f->tgt->alias, f->tgt->alias, HOLD_MS / 1000);
        f->next_sync_ms = st_wall_ms() + HOLD_MS;
        reread_file(f);
        return false;
    }
    f->state_unreadable = false; /* the target's record decides */
    bool from_target = rec && generation(rec) >= generation(f->saved);
    const json_t *pick = from_target ? rec : f->saved;
    if (!pick)
        return true; /* never failed over */
    if (from_target && generation(rec) > generation(f->saved)) {
        json_decref(f->saved);
        f->saved = json_deep_copy(rec);
        write_file(f, f->saved); /* this machine learns it */
    } else if (!from_target) {
        write_record(f, f->saved); /* the target learns it */
    }
    pick = f->saved;
    const char *state = saved_state(pick);
    json_decref(f->divergence);
    f->divergence = json_incref(json_object_get(pick, "divergence"));
    if (f->divergence && !json_is_array(f->divergence)) {
        json_decref(f->divergence);
        f->divergence = NULL;
    }
    json_t *report = json_object_get(pick, "failover");
    json_decref(f->failover_report);
    f->failover_report = json_is_object(report) ? json_incref(report) : NULL;
    if (strcmp(state, "failed-over") == 0) {
        f->state = MF_FAILED_OVER;
        st_info("%s: was failed over (state generation %" JSON_INTEGER_FORMAT
                "): not copying; `strait mirror failback` turns it around",
                f->fc->name, generation(pick));
        return false;
    }
    if (strcmp(state, "failed-back") == 0) {
        char err[512];
        st_info("%s: was failed back (state generation %" JSON_INTEGER_FORMAT
                "): copying %s -> %s again from where it stopped",
                f->fc->name, generation(pick), f->fc->target->alias, f->fc->source->alias);
        if (mf_reverse(f, f->divergence, false, NULL, err, sizeof err) != 0)
            mf_error(f, "restarting the failed-back flow: %s", err);
        return false;
    }
    return true;
}

/* ---- turning around ---- */

static void free_topics(st_mflow *f)
{
    for (size_t i = 0; i < f->ntopics; i++) {
        mf_topic *o = f->topics[i];
        for (int32_t p = 0; p < o->nparts; p++) {
            free(o->parts[p]->ring);
            free(o->parts[p]);
        }
        free(o->parts);
        for (int k = 0; k < ST_MIRROR_MAX_PRODUCERS; k++)
            if (o->rkt[k])
                rd_kafka_topic_destroy(o->rkt[k]);
        free(o);
    }
    free(f->topics);
    f->topics = NULL;
    f->ntopics = f->cap_topics = 0;
}

/* Stops the clients, forgets the topics and whatever is out, and (swap) exchanges source
 * and target: what failback and reset have in common. */
static void turn(st_mflow *f, bool swap)
{
    mf_ckpt_reset(f);
    mf_clients_stop(f);
    mf_sync_free(f);
    mf_configs_free(f);
    mf_acls_free(f);
    mf_gcache_free(f);
    f->loading = false;
    f->src_ends_busy = false;
    f->gen++; /* results of jobs about the old topic set are dropped */
    free_topics(f);
    if (swap) {
        const st_mcluster_config *c = f->src;
        f->src = f->tgt;
        f->tgt = c;
        st_mworker *w = f->src_worker;
        f->src_worker = f->tgt_worker;
        f->tgt_worker = w;
    }
    st_moffsets_free(f->map);
    f->map = st_moffsets_new();
    f->offsets_ready = false;
    f->nlat = f->lat_head = 0;
}

int mf_reverse(st_mflow *f, const json_t *divergence, bool live, json_t *from, char *err,
               size_t errlen)
{
    /* The reverse flow copies each old target partition back from the divergence point:
     * everything before it came from the old source, which still has it. */
    turn(f, f->tgt == f->fc->target);
    size_t i;
    json_t *d;
    json_array_foreach(divergence, i, d)
    {
        const char *src = json_string_value(json_object_get(d, "topic"));
        const char *tgt = json_string_value(json_object_get(d, "target_topic"));
        json_int_t p = json_integer_value(json_object_get(d, "partition"));
        json_int_t offset = json_integer_value(json_object_get(d, "offset"));
        if (!src || !tgt)
            continue;
        if (p < 0 || p >= MF_MAX_PARTITIONS) {
            /* a broken or forged state record must not make the loop build billions of
             * partitions */
            mf_error(f,
                     "failback: the saved divergence point of %s[%" JSON_INTEGER_FORMAT
                     "] is not a partition strait-mirror copies (0..%d); ignored",
                     src, p, MF_MAX_PARTITIONS - 1);
            continue;
        }
        mf_topic *t = mf_topic_find(f, tgt);
        if (!t)
            t = mf_topic_add(f, tgt, src);
        if (!t || mf_topic_grow(t, (int32_t)p + 1) != 0)
            continue;
        t->state = MF_T_READY;
        t->src_partitions = t->tgt_partitions = t->nparts;
        mf_part *part = t->parts[p];
        if (offset < 0) {
            part->stopped = true;
            mf_error(f, "failback: %s[%d]: the divergence point is unknown; not copied back",
                     t->name, (int)p);
            continue;
        }
        part->floor = offset;
        if (live) { /* a new reverse flow starts at the divergence point itself */
            part->position = part->delivered = offset;
            part->resumed = true;
        }
        if (from)
            json_array_append_new(from, json_pack("{s:s,s:i,s:I}", "topic", t->name, "partition",
                                                  (int)p, "offset", (json_int_t)offset));
    }
    f->discovery = false;
    f->state = MF_FAILED_BACK;
    if (mf_clients_start(f, err, errlen) != 0) {
        mf_error(f, "failback: %s", err);
        return -1;
    }
    /* copying starts once the reverse flow's map is loaded from the new target */
    mf_offsets_load_start(f);
    st_info("%s: failed back: now copying %s -> %s", f->fc->name, f->src->alias, f->tgt->alias);
    return 0;
}

int st_mflow_reset(st_mflow *f, char *err, size_t errlen)
{
    if (f->state != MF_FAILED_BACK && f->state != MF_FAILING_OVER && f->state != MF_FAILED_OVER &&
        f->cmd_error[0] && strcmp(f->cmd_save, "reset") == 0) {
        /* reset, but its state could not be written: write it again */
        st_info("%s: writing the reset (normal) state again", f->fc->name);
        mf_flowstate_save_cmd(f, "normal", "reset");
        return 0;
    }
    if (f->state != MF_FAILED_BACK) {
        snprintf(err, errlen,
                 "flow %s is %s: reset returns a failed-back flow to its configured direction "
                 "(fail it back first)",
                 f->fc->name, f->state == MF_FAILED_OVER ? "failed over" : "not failed back");
        return -1;
    }
    turn(f, f->tgt != f->fc->target);
    json_decref(f->divergence);
    f->divergence = NULL;
    json_decref(f->failover_report);
    f->failover_report = NULL;
    f->discovery = true;
    if (mf_clients_start(f, err, errlen) != 0) {
        mf_error(f, "reset: %s", err);
        return -1;
    }
    mf_flowstate_save_cmd(f, "normal", "reset"); /* "resetting" until the file holds it */
    f->state = MF_STARTING;
    f->next_sync_ms = 0;
    st_info("%s: reset: copying %s -> %s again from its offset map", f->fc->name, f->src->alias,
            f->tgt->alias);
    return 0;
}
