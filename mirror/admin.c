/*
 * strait-mirror's management commands (see admin.h): a table of {name, args, synopsis,
 * help, handler}, the same shape as straitd's broker/admin.c. Argument names are
 * checked against the table before a handler runs; handlers then check types and
 * find the flow, so every handler below works on a known, running flow.
 */
#include "mirror/admin.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/mgmt.h"

typedef int admin_fn(st_mirror_admin *a, json_t *args, json_t **result, char *err, size_t errlen);

typedef struct admin_cmd {
    const char *name;
    const char *const *args; /* accepted argument names, NULL-terminated */
    const char *synopsis;    /* the args, for help */
    const char *help;
    admin_fn *fn;
} admin_cmd;

/* "dc1->dc2, dc2->dc1" (or "none") into out, for errors naming the flows. */
static void flow_list(const st_mirror_admin *a, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    if (a->nflows == 0) {
        snprintf(out, cap, "none");
        return;
    }
    for (size_t i = 0; i < a->nflows && used < cap; i++) {
        int n = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", a->configs[i].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/*
 * The flow named by the "flow" argument. With required false an absent argument is
 * fine: returns -1 with *index unchanged and err empty. Otherwise 0 with *index, or -1
 * with err saying what was wrong.
 */
static int arg_flow(const st_mirror_admin *a, json_t *args, bool required, size_t *index, char *err,
                    size_t errlen)
{
    char names[1024];
    json_t *v = json_object_get(args, "flow");
    err[0] = '\0';
    if (!v || json_is_null(v)) {
        if (!required)
            return -1;
        flow_list(a, names, sizeof names);
        snprintf(err, errlen, "\"flow\" is required: one of %s", names);
        return -1;
    }
    if (!json_is_string(v) || json_string_length(v) == 0) {
        snprintf(err, errlen, "\"flow\" must be a non-empty string such as \"dc1->dc2\", got %s",
                 st_json_kind(v));
        return -1;
    }
    const char *name = json_string_value(v);
    for (size_t i = 0; i < a->nflows; i++)
        if (strcmp(a->configs[i].name, name) == 0) {
            *index = i;
            return 0;
        }
    flow_list(a, names, sizeof names);
    snprintf(err, errlen, "no flow \"%s\": this daemon runs %s", name, names);
    return -1;
}

static int out_of_memory(char *err, size_t errlen)
{
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* ---- loop turns ---- */

void st_mirror_turns_add(st_mirror_turns *t, int64_t us)
{
    t->us[t->head] = us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    t->head = (t->head + 1) % ST_MIRROR_TURNS;
    if (t->n < ST_MIRROR_TURNS)
        t->n++;
    t->count++;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* {"turns", "max_ms", "p99_ms"}, or NULL. */
static json_t *turns_json(const st_mirror_turns *t)
{
    if (!t)
        return NULL;
    uint32_t *sorted = malloc((t->n ? t->n : 1) * sizeof *sorted);
    if (!sorted)
        return NULL;
    memcpy(sorted, t->us, t->n * sizeof *sorted);
    qsort(sorted, t->n, sizeof *sorted, cmp_u32);
    double max = t->n ? sorted[t->n - 1] / 1000.0 : 0;
    double p99 = t->n ? sorted[(size_t)((double)(t->n - 1) * 0.99)] / 1000.0 : 0;
    free(sorted);
    return json_pack("{s:I,s:f,s:f}", "turns", (json_int_t)t->count, "max_ms", max, "p99_ms", p99);
}

/* ---- commands ---- */

static int cmd_help(st_mirror_admin *a, json_t *args, json_t **result, char *err, size_t errlen);

static int cmd_status(st_mirror_admin *a, json_t *args, json_t **result, char *err, size_t errlen)
{
    int64_t now = st_wall_ms();
    size_t idx;
    if (arg_flow(a, args, false, &idx, err, errlen) == 0) {
        *result = st_mflow_status(a->flows[idx], now);
        return *result ? 0 : out_of_memory(err, errlen);
    }
    if (err[0])
        return -1;
    json_t *flows = json_array();
    for (size_t i = 0; flows && i < a->nflows; i++)
        if (json_array_append_new(flows, st_mflow_status(a->flows[i], now)) != 0) {
            json_decref(flows);
            flows = NULL;
        }
    if (!flows)
        return out_of_memory(err, errlen);
    *result =
        json_pack("{s:o, s:I}", "flows", flows, "uptime_ms", (json_int_t)(now - a->started_ms));
    json_t *loop = turns_json(a->turns);
    if (*result && loop)
        json_object_set_new(*result, "loop", loop);
    else
        json_decref(loop);
    return *result ? 0 : out_of_memory(err, errlen);
}

/* {"flow", "state"} with the flow's state as its status reports it now. */
static int flow_state(st_mirror_admin *a, size_t idx, json_t **result, char *err, size_t errlen)
{
    json_t *status = st_mflow_status(a->flows[idx], st_wall_ms());
    const char *state = json_string_value(json_object_get(status, "state"));
    *result = json_pack("{s:s, s:s}", "flow", a->configs[idx].name, "state", state ? state : "?");
    json_decref(status);
    return *result ? 0 : out_of_memory(err, errlen);
}

static int cmd_pause(st_mirror_admin *a, json_t *args, json_t **result, char *err, size_t errlen)
{
    size_t idx;
    char why[512];
    if (arg_flow(a, args, true, &idx, err, errlen) != 0)
        return -1;
    if (st_mflow_pause(a->flows[idx], why, sizeof why) != 0) {
        snprintf(err, errlen, "cannot pause %s: %s", a->configs[idx].name, why);
        return -1;
    }
    return flow_state(a, idx, result, err, errlen);
}

static int cmd_resume(st_mirror_admin *a, json_t *args, json_t **result, char *err, size_t errlen)
{
    size_t idx;
    char why[512];
    if (arg_flow(a, args, true, &idx, err, errlen) != 0)
        return -1;
    if (st_mflow_resume(a->flows[idx], why, sizeof why) != 0) {
        snprintf(err, errlen, "cannot resume %s: %s", a->configs[idx].name, why);
        return -1;
    }
    return flow_state(a, idx, result, err, errlen);
}

static int cmd_failover(st_mirror_admin *a, json_t *args, json_t **result, char *err, size_t errlen)
{
    size_t idx;
    char why[512];
    if (arg_flow(a, args, true, &idx, err, errlen) != 0)
        return -1;
    if (st_mflow_failover(a->flows[idx], why, sizeof why) != 0) {
        snprintf(err, errlen, "cannot fail over %s: %s", a->configs[idx].name, why);
        return -1;
    }
    return flow_state(a, idx, result, err, errlen);
}

static int cmd_failback(st_mirror_admin *a, json_t *args, json_t **result, char *err, size_t errlen)
{
    size_t idx;
    char why[512];
    if (arg_flow(a, args, true, &idx, err, errlen) != 0)
        return -1;
    if (st_mflow_failback(a->flows[idx], result, why, sizeof why) != 0) {
        snprintf(err, errlen, "cannot fail back %s: %s", a->configs[idx].name, why);
        return -1;
    }
    return 0;
}

static int cmd_reset(st_mirror_admin *a, json_t *args, json_t **result, char *err, size_t errlen)
{
    size_t idx;
    char why[512];
    if (arg_flow(a, args, true, &idx, err, errlen) != 0)
        return -1;
    if (st_mflow_reset(a->flows[idx], why, sizeof why) != 0) {
        snprintf(err, errlen, "cannot reset %s: %s", a->configs[idx].name, why);
        return -1;
    }
    return flow_state(a, idx, result, err, errlen);
}

static const char *const no_args[] = {NULL};
static const char *const flow_arg[] = {"flow", NULL};

static const admin_cmd commands[] = {
    {"help", no_args, "", "list the commands", cmd_help},
    {"status", flow_arg, "{flow?}",
     "per flow: state, rates, lag, replication latency, checkpoint age, errors, partitions "
     "(all flows, or the one named)",
     cmd_status},
    {"pause", flow_arg, "{flow}", "stop consuming the source (records in flight complete)",
     cmd_pause},
    {"resume", flow_arg, "{flow}", "consume the source again after pause", cmd_resume},
    {"failover", flow_arg, "{flow}",
     "start failing the flow over: stop it, write final translated group offsets to the "
     "target, work out the source offset ranges not replicated (the report appears in the "
     "flow's status as \"failover\" once its state is failed-over, within ~8 s: once the "
     "state file holds it; on a failed-over flow whose state file could not be written, "
     "write it again)",
     cmd_failover},
    {"failback", flow_arg, "{flow}",
     "after failover: reverse the flow (target -> source) from the divergence point (the "
     "flow's status says \"failing-back\" until its state file holds it)",
     cmd_failback},
    {"reset", flow_arg, "{flow}",
     "after failback: back to the configured direction (source -> target), resuming from the "
     "flow's offset map (the flow's status says \"resetting\" until its state file holds it)",
     cmd_reset},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

const char *const st_mirror_admin_readonly[] = {"help", "status", NULL};

static int cmd_help(st_mirror_admin *a, json_t *args, json_t **result, char *err, size_t errlen)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < NCOMMANDS; i++)
        if (json_array_append_new(list,
                                  json_pack("{s:s, s:s, s:s}", "name", commands[i].name, "args",
                                            commands[i].synopsis, "help", commands[i].help)) != 0) {
            json_decref(list);
            list = NULL;
        }
    *result = list ? json_pack("{s:o}", "commands", list) : NULL;
    return *result ? 0 : out_of_memory(err, errlen);
}

int st_mirror_admin_handle(void *ctx, const char *cmd, json_t *args, json_t **result, char *err,
                           size_t errlen)
{
    st_mirror_admin *a = ctx;
    *result = NULL;
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const admin_cmd *c = &commands[i];
        if (strcmp(c->name, cmd) != 0)
            continue;
        if (st_mgmt_check_args(c->name, c->args, c->synopsis, args, err, errlen) != 0)
            return -1;
        return c->fn(a, args, result, err, errlen);
    }
    snprintf(err, errlen,
             "unknown command \"%s\": strait-mirror takes help, status, pause, resume, failover, "
             "failback and reset",
             cmd);
    return -1;
}
