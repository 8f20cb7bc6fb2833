/*
 * What may be done through the console, by whom, on which daemon: one table. An action
 * is checked on the loop thread (known action, role allowed, the target daemon exists
 * and is of the right kind, arguments an object, and for a tenant that the topic or
 * group it names is its own), then run on a worker as the daemon's own management
 * command (REQ → REP with its token, who = "console:<user>"), and its result goes back
 * to the socket that asked and, for every action that changes something, to the audit
 * log (refusals included: ST_REFUSALS_PER_MINUTE per user one by one, then one line
 * saying the rest are counted, and their count when the minute is over, so a client
 * repeating forbidden actions cannot fill the disk).
 *
 * roles: admin everything; operator topics, groups, quotas, explain and mirror
 * operations (not tenants, users or ACLs); tenant only reads of its own topics and
 * groups, on daemons the last survey found up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin-ui/console.h"
#include "common/clock.h"
#include "common/mgmt.h"

#define A  ST_ROLE_BIT(ST_ROLE_ADMIN)
#define O  ST_ROLE_BIT(ST_ROLE_OPERATOR)
#define T  ST_ROLE_BIT(ST_ROLE_TENANT)
#define AO (A | O)

typedef struct action_def {
    const char *name; /* what the browser sends */
    st_daemon_kind kind;
    const char *cmd;       /* the daemon's command; NULL: answered by the console */
    unsigned roles;        /* ST_ROLE_BIT()s */
    const char *scope_arg; /* for a tenant: the argument that must name its own resource */
    bool changes;          /* audited */
    int timeout_ms;
} action_def;

static const action_def actions[] = {
    {"topics.describe", ST_DAEMON_BROKER, "topics.describe", AO | T, "name", false, 5000},
    {"topics.create", ST_DAEMON_BROKER, "topics.create", AO, NULL, true, 10000},
    {"topics.alter", ST_DAEMON_BROKER, "topics.alter", AO, NULL, true, 10000},
    {"topics.delete", ST_DAEMON_BROKER, "topics.delete", AO, NULL, true, 10000},
    {"groups.describe", ST_DAEMON_BROKER, "groups.describe", AO | T, "group", false, 5000},
    {"groups.reset-offsets", ST_DAEMON_BROKER, "groups.reset-offsets", AO, NULL, true, 10000},
    {"groups.delete", ST_DAEMON_BROKER, "groups.delete", AO, NULL, true, 10000},
    {"tenants.create", ST_DAEMON_BROKER, "tenants.create", A, NULL, true, 10000},
    {"tenants.delete", ST_DAEMON_BROKER, "tenants.delete", A, NULL, true, 10000},
    {"tenants.describe", ST_DAEMON_BROKER, "tenants.describe", AO, NULL, false, 5000},
    {"users.add", ST_DAEMON_BROKER, "users.add", A, NULL, true, 10000},
    {"users.remove", ST_DAEMON_BROKER, "users.remove", A, NULL, true, 10000},
    {"users.list", ST_DAEMON_BROKER, "users.list", AO, NULL, false, 5000},
    {"acls.add", ST_DAEMON_BROKER, "acls.add", A, NULL, true, 10000},
    {"acls.remove", ST_DAEMON_BROKER, "acls.remove", A, NULL, true, 10000},
    {"quotas.set", ST_DAEMON_BROKER, "quotas.set", AO, NULL, true, 10000},
    {"quotas.remove", ST_DAEMON_BROKER, "quotas.remove", AO, NULL, true, 10000},
    {"explain", ST_DAEMON_BROKER, "explain", AO, NULL, false, 5000},
    {"mirror.pause", ST_DAEMON_MIRROR, "pause", AO, NULL, true, 10000},
    {"mirror.resume", ST_DAEMON_MIRROR, "resume", AO, NULL, true, 10000},
    {"mirror.failover-preview", ST_DAEMON_MIRROR, NULL, AO, NULL, false, 0},
    {"mirror.failover", ST_DAEMON_MIRROR, "failover", AO, NULL, true, 20000},
    {"mirror.failback", ST_DAEMON_MIRROR, "failback", AO, NULL, true, 10000},
};
#define NACTIONS (sizeof actions / sizeof actions[0])

typedef struct action_job {
    st_job job;
    uint64_t client_id;
    json_t *id; /* the browser's request id (owned) */
    const action_def *def;
    const st_con_daemon *d; /* borrowed from the config, which outlives every job */
    json_t *args;           /* owned; touched by the worker only while it runs */
    char who[ST_MGMT_WHO_MAX + 1];
    char user[ST_CON_NAME_MAX];
    st_role role;
    json_t *result; /* made by the worker */
    char err[1024];
} action_job;

json_t *st_action_list(st_role role)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < NACTIONS; i++)
        if (actions[i].roles & ST_ROLE_BIT(role))
            json_array_append_new(list, json_string(actions[i].name));
    return list;
}

static json_t *result_msg(json_t *id, bool ok, json_t *result, const char *err)
{
    json_t *m = json_pack("{s:s, s:b}", "type", "result", "ok", (int)ok);
    if (id)
        json_object_set(m, "id", id);
    if (ok)
        json_object_set(m, "result", result ? result : json_null());
    else
        json_object_set_new(m, "error", json_string(err));
    return m;
}

static void reply(st_console *c, uint64_t client_id, json_t *m, bool done)
{
    char *text = m ? json_dumps(m, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
    json_decref(m);
    if (!text)
        return;
    if (done)
        st_ws_action_done(c, client_id, text, strlen(text));
    else
        st_ws_send_to(c, client_id, text, strlen(text));
    free(text);
}

/* The audit entry of an action (or its refusal). */
static void audit(st_console *c, const char *user, st_role role, const char *daemon,
                  const char *action, json_t *args, bool ok, json_t *result, const char *err)
{
    json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:b}", "who", user, "role",
                          st_role_name(role), "via", "console", "daemon", daemon ? daemon : "",
                          "action", action, "args", st_mgmt_redact(args), "ok", (int)ok);
    if (!e)
        return;
    if (!ok)
        json_object_set_new(e, "error", json_string(err));
    else if (result) {
        char *text = json_dumps(result, JSON_COMPACT);
        if (text && strlen(text) <= 4096)
            json_object_set(e, "result", result);
        else
            json_object_set_new(e, "result", json_string("(a large answer, not kept here)"));
        free(text);
    }
    st_audit_append(c->audit, e);
    json_decref(e);
}

static void action_run(st_job *job)
{
    action_job *j = (action_job *)job;
    char token[256];
    if (st_con_daemon_token(j->d, token, sizeof token, j->err, sizeof j->err) != 0)
        return;
    j->result = st_mgmt_call_as(j->d->mgmt_url, token, j->who, j->def->cmd, j->args,
                                j->def->timeout_ms, j->err, sizeof j->err);
}

static void action_done(st_job *job, void *ctx)
{
    st_console *c = ctx;
    action_job *j = (action_job *)job;
    bool ok = j->result != NULL;
    if (j->def->changes)
        audit(c, j->user, j->role, j->d->id, j->def->name, j->args, ok, j->result, j->err);
    reply(c, j->client_id, result_msg(j->id, ok, j->result, j->err), true);
    json_decref(j->result);
    json_decref(j->args);
    json_decref(j->id);
    free(j);
}

/* The highest end offset of topic[partition] among the up brokers of the console's
 * cluster named `cluster`, or -1. */
static json_int_t cluster_end_offset(st_console *c, const char *cluster, const char *topic,
                                     json_int_t partition)
{
    json_int_t best = -1;
    for (size_t i = 0; cluster && i < c->model->n; i++) {
        const st_dstate *b = &c->model->d[i];
        if (b->d->kind != ST_DAEMON_BROKER || !b->up || strcmp(b->d->cluster, cluster) != 0)
            continue;
        size_t k, p;
        json_t *t, *part;
        json_array_foreach(b->topics, k, t)
        {
            if (strcmp(json_string_value(json_object_get(t, "name")) ?: "", topic) != 0)
                continue;
            json_array_foreach(json_object_get(t, "partitions"), p, part)
            {
                json_int_t end = json_integer_value(json_object_get(part, "end_offset"));
                if (json_integer_value(json_object_get(part, "partition")) == partition &&
                    end > best)
                    best = end;
            }
        }
    }
    return best;
}

/* mirror.failover-preview {flow}: what a failover now would leave behind — per partition
 * the source offsets [delivered, source end) not yet on the target. "delivered" and the
 * source end come from the daemon's latest status; the source end also from the
 * console's own survey of the source cluster when it is in the config (a paused flow
 * fetches nothing, so the daemon's figure stops moving while new records arrive). */
static json_t *failover_preview(st_console *c, const st_con_daemon *d, json_t *args, char *err,
                                size_t errlen)
{
    const char *flow = json_string_value(json_object_get(args, "flow"));
    int i = st_model_find(c->model, d->id);
    if (!flow) {
        snprintf(err, errlen, "mirror.failover-preview: \"flow\" is required (e.g. \"dc1->dc2\")");
        return NULL;
    }
    const st_dstate *s = &c->model->d[i];
    if (!s->up) {
        snprintf(err, errlen, "mirror %s is down (%s): no current status to preview from", d->id,
                 s->why);
        return NULL;
    }
    size_t k, p;
    json_t *f, *part;
    json_array_foreach(json_object_get(s->status, "flows"), k, f)
    {
        if (strcmp(json_string_value(json_object_get(f, "flow")) ?: "", flow) != 0)
            continue;
        json_t *at_risk = json_array();
        json_array_foreach(json_object_get(f, "partitions"), p, part)
        {
            const char *topic = json_string_value(json_object_get(part, "topic"));
            json_int_t from = json_integer_value(json_object_get(part, "delivered"));
            json_int_t to = json_integer_value(json_object_get(part, "source_end"));
            if (!topic || strstr(topic, "strait-mirror.heartbeats"))
                continue;
            json_int_t seen =
                cluster_end_offset(c, json_string_value(json_object_get(f, "source")), topic,
                                   json_integer_value(json_object_get(part, "partition")));
            if (seen > to)
                to = seen;
            if (from < 0)
                from = 0;
            if (to > from)
                json_array_append_new(
                    at_risk, json_pack("{s:s, s:O, s:I, s:I}", "topic", topic, "partition",
                                       json_object_get(part, "partition"), "from", from, "to", to));
        }
        return json_pack("{s:s, s:O?, s:o, s:I}", "flow", flow, "state",
                         json_object_get(f, "state"), "at_risk", at_risk, "as_of_ms",
                         (json_int_t)c->model->round_ms);
    }
    snprintf(err, errlen, "mirror %s runs no flow \"%.100s\"", d->id, flow);
    return NULL;
}

/* Whether a refusal of s->user is written to the audit log one by one (see the top). */
static bool refusal_audited(st_console *c, const st_scope *s)
{
    const st_con_user *u = st_con_config_user(c->cfg, s->user);
    if (!u)
        return true;
    st_refusal_budget *b = &c->refusals[u - c->cfg->users];
    int64_t now = st_wall_ms();
    char note[256];
    if (now - b->window_ms >= 60000) {
        if (b->suppressed) {
            snprintf(note, sizeof note,
                     "%llu more refused actions in the minute before were counted, not logged "
                     "one by one",
                     (unsigned long long)b->suppressed);
            audit(c, s->user, s->role, NULL, "refusals", NULL, false, NULL, note);
        }
        *b = (st_refusal_budget){.window_ms = now};
    }
    if (b->logged < ST_REFUSALS_PER_MINUTE) {
        b->logged++;
        return true;
    }
    if (b->suppressed++ == 0) {
        snprintf(note, sizeof note,
                 "over %d refused actions in a minute: the rest of this minute's are counted, "
                 "not logged one by one",
                 ST_REFUSALS_PER_MINUTE);
        audit(c, s->user, s->role, NULL, "refusals", NULL, false, NULL, note);
    }
    return false;
}

/* Refuses at once: the error to the socket, and to the audit log for a change. */
static int refuse(st_console *c, uint64_t client_id, const st_scope *s, json_t *id,
                  const action_def *def, const char *target, json_t *args, const char *err)
{
    if (def && def->changes && refusal_audited(c, s))
        audit(c, s->user, s->role, target, def->name, args, false, NULL, err);
    reply(c, client_id, result_msg(id, false, NULL, err), false);
    return 0;
}

int st_action_start(st_console *c, uint64_t client_id, const st_scope *s, json_t *msg)
{
    char err[512];
    json_t *id = json_object_get(msg, "id");
    const char *name = json_string_value(json_object_get(msg, "action"));
    const char *target = json_string_value(json_object_get(msg, "target"));
    json_t *args = json_object_get(msg, "args");
    const action_def *def = NULL;
    for (size_t i = 0; name && i < NACTIONS; i++)
        if (strcmp(actions[i].name, name) == 0)
            def = &actions[i];
    if (!def) {
        snprintf(err, sizeof err, "unknown action \"%.64s\"", name ? name : "");
        return refuse(c, client_id, s, id, NULL, target, args, err);
    }
    if (!(def->roles & ST_ROLE_BIT(s->role))) {
        snprintf(err, sizeof err, "%s: not allowed for role %s (%s)", def->name,
                 st_role_name(s->role), def->roles == A ? "admin only" : "admin and operator only");
        return refuse(c, client_id, s, id, def, target, args, err);
    }
    if (args && !json_is_object(args)) {
        snprintf(err, sizeof err, "%s: \"args\" must be an object", def->name);
        return refuse(c, client_id, s, id, def, target, args, err);
    }
    const st_con_daemon *d = target ? st_con_config_daemon(c->cfg, target) : NULL;
    if (!d || d->kind != def->kind) {
        snprintf(err, sizeof err,
                 "%s: \"target\" must name a %s of the console's config, such as "
                 "\"dc1/b0\"; \"%.64s\" is none",
                 def->name, def->kind == ST_DAEMON_BROKER ? "broker" : "mirror",
                 target ? target : "");
        return refuse(c, client_id, s, id, def, target, args, err);
    }
    if (s->role == ST_ROLE_TENANT) {
        /* A read of a daemon the last survey found down would hold a worker for its whole
         * timeout: a tenant could fill every worker that way and hold up the operators'
         * actions (a failover, say) exactly when something is down. */
        const st_dstate *ds = &c->model->d[st_model_find(c->model, d->id)];
        if (!ds->up) {
            snprintf(err, sizeof err, "%s: %s is down (%s): try again when it is up", def->name,
                     d->id, ds->why);
            return refuse(c, client_id, s, id, def, target, args, err);
        }
        /* A tenant's request naming another tenant's resource is refused exactly like a
         * request for a resource that does not exist. */
        const char *res = json_string_value(json_object_get(args, def->scope_arg));
        const char *prefix =
            st_model_tenant_prefix(c->model, (size_t)(ds - c->model->d), s->tenant);
        if (!res || !prefix || !*prefix || strncmp(res, prefix, strlen(prefix)) != 0) {
            snprintf(err, sizeof err, "%s: no such %s", def->name,
                     strcmp(def->scope_arg, "group") == 0 ? "group" : "topic");
            return refuse(c, client_id, s, id, def, target, args, err);
        }
    }
    if (!def->cmd) {
        json_t *r = failover_preview(c, d, args, err, sizeof err);
        reply(c, client_id, result_msg(id, r != NULL, r, err), false);
        json_decref(r);
        return 0;
    }
    action_job *j = calloc(1, sizeof *j);
    if (!j) {
        snprintf(err, sizeof err, "out of memory");
        return refuse(c, client_id, s, id, NULL, target, args, err);
    }
    j->job.run = action_run;
    j->job.done = action_done;
    j->client_id = client_id;
    j->id = id ? json_deep_copy(id) : NULL;
    j->def = def;
    j->d = d;
    j->args = args ? json_deep_copy(args) : json_object();
    snprintf(j->who, sizeof j->who, "console:%s", s->user);
    snprintf(j->user, sizeof j->user, "%s", s->user);
    j->role = s->role;
    if (st_jobs_submit(c->jobs, &j->job) != 0) {
        json_decref(j->id);
        json_decref(j->args);
        free(j);
        snprintf(err, sizeof err, "the console is busy (64 actions queued): try again shortly");
        return refuse(c, client_id, s, id, def, target, args, err);
    }
    return 1;
}

void st_action_import_log(void *ctx, size_t daemon, const char *boot, json_t *entry)
{
    st_console *c = ctx;
    const char *who = json_string_value(json_object_get(entry, "who"));
    json_t *seq = json_object_get(entry, "seq");
    const char *id = c->model->d[daemon].d->id;
    if (!who || !json_is_integer(seq) ||
        !st_audit_first_sight(c->audit, id, boot, (uint64_t)json_integer_value(seq)))
        return;
    if (strncmp(who, "console:", 8) == 0)
        return; /* the console's own action: audited when it was taken */
    json_t *e =
        json_pack("{s:s, s:n, s:s, s:s, s:O?, s:O?, s:O?, s:s, s:O, s:O?}", "who", who, "role",
                  "via", "bus", "daemon", id, "action", json_object_get(entry, "cmd"), "args",
                  json_object_get(entry, "args"), "ok", json_object_get(entry, "ok"), "boot", boot,
                  "seq", seq, "time_ms", json_object_get(entry, "time_ms"));
    if (!e)
        return;
    json_t *error = json_object_get(entry, "error");
    if (error)
        json_object_set(e, "error", error);
    st_audit_append(c->audit, e);
    json_decref(e);
}
