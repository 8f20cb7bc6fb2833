/*
 * Management commands of straitd (see admin.h): a table of {name, args, help,
 * handler}. The dispatcher checks argument names against the table so a typo such as
 * "partition" is an error rather than a silently ignored default; each handler checks
 * types and calls into the topic registry, the one place topic logic lives.
 *
 * Tenant limits (topics, partitions) hold here as on the Kafka API paths: topics.create
 * and topics.alter's add_partitions are refused past them, with the limit's message,
 * unless the command carries "override_limits": a reason, which is logged (WARN, with
 * the limit it overrode) and echoed in the result as "limit_overridden".
 */
#include "broker/mgmt/admin.h"
#include "broker/mgmt/mgmt_int.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"
#include "broker/request/pipeline.h"
#include "broker/quota/quota.h"
#include "broker/security/security.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/logging.h"
#include "common/mgmt.h"

typedef int admin_fn(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen);

typedef struct admin_cmd {
    const char *name;
    const char *const *args; /* accepted argument names, NULL-terminated */
    const char *synopsis;    /* the args, for help */
    const char *help;
    admin_fn *fn;
} admin_cmd;

/* ---- argument helpers ---- */

/* The required "name" argument as a C string (borrowed from args). */
static const char *arg_name(json_t *args, char *err, size_t errlen)
{
    json_t *v = json_object_get(args, "name");
    if (!v) {
        snprintf(err, errlen, "\"name\" is required: the topic name");
        return NULL;
    }
    if (!json_is_string(v) || json_string_length(v) == 0) {
        snprintf(err, errlen, "\"name\" must be a non-empty string, got %s", st_json_kind(v));
        return NULL;
    }
    return json_string_value(v);
}

/* An optional integer argument within [min, max]; *out keeps its value when absent. */
static int arg_int(json_t *args, const char *key, int64_t min, int64_t max, int64_t *out, char *err,
                   size_t errlen)
{
    json_t *v = json_object_get(args, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v)) {
        snprintf(err, errlen, "\"%s\" must be an integer, got %s", key, st_json_kind(v));
        return -1;
    }
    int64_t x = json_integer_value(v);
    if (x < min || x > max) {
        snprintf(err, errlen, "\"%s\" must be between %" PRId64 " and %" PRId64 ", got %" PRId64,
                 key, min, max, x);
        return -1;
    }
    *out = x;
    return 0;
}

/* Config changes built from JSON: names borrow from the JSON, values may be owned. */
typedef struct config_list {
    st_config_set *sets;
    char **owned; /* per entry: a value we formatted (numbers, booleans), else NULL */
    size_t n;
} config_list;

static void config_list_free(config_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->owned[i]);
    free(l->sets);
    free(l->owned);
    memset(l, 0, sizeof(*l));
}

static int config_list_push(config_list *l, const char *name, const char *value, char *owned)
{
    st_config_set *sets = realloc(l->sets, (l->n + 1) * sizeof(*sets));
    if (sets)
        l->sets = sets;
    char **own = realloc(l->owned, (l->n + 1) * sizeof(*own));
    if (own)
        l->owned = own;
    if (!sets || !own) {
        free(owned);
        return -1;
    }
    l->sets[l->n] = (st_config_set){name, value};
    l->owned[l->n] = owned;
    l->n++;
    return 0;
}

/* Adds {k: v} from an object; values may be strings, integers or booleans. */
static int configs_from_object(json_t *obj, const char *key, config_list *l, char *err,
                               size_t errlen)
{
    const char *name;
    json_t *v;
    if (!obj || json_is_null(obj))
        return 0;
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "\"%s\" must be an object of config names to values, got %s", key,
                 st_json_kind(obj));
        return -1;
    }
    json_object_foreach(obj, name, v)
    {
        char *owned = NULL;
        const char *value;
        if (json_is_string(v))
            value = json_string_value(v);
        else if (json_is_integer(v) &&
                 asprintf(&owned, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) >= 0)
            value = owned;
        else if (json_is_boolean(v) && (owned = strdup(json_is_true(v) ? "true" : "false")))
            value = owned;
        else {
            snprintf(err, errlen, "config \"%s\": the value must be a string, got %s", name,
                     st_json_kind(v));
            return -1;
        }
        if (config_list_push(l, name, value, owned) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* Adds a delete (value NULL) for each name in an array. */
static int deletes_from_array(json_t *arr, config_list *l, char *err, size_t errlen)
{
    size_t i;
    json_t *v;
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr)) {
        snprintf(err, errlen, "\"delete\" must be an array of config names, got %s",
                 st_json_kind(arr));
        return -1;
    }
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v)) {
            snprintf(err, errlen, "\"delete\"[%zu] must be a config name (a string), got %s", i,
                     st_json_kind(v));
            return -1;
        }
        if (config_list_push(l, json_string_value(v), NULL, NULL) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* The message for a registry error that came back without one. */
/* The optional "override_limits" argument: why the operator goes past a tenant limit.
 * *out NULL when absent; a non-empty single line of at most 200 characters otherwise
 * (it is logged). 0, or -1 with err. */
static int arg_override(json_t *args, const char **out, char *err, size_t errlen)
{
    json_t *v = json_object_get(args, "override_limits");
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    const char *reason = json_is_string(v) ? json_string_value(v) : NULL;
    size_t len = reason ? json_string_length(v) : 0;
    bool printable = len > 0 && len <= 200;
    for (size_t i = 0; printable && i < len; i++)
        printable = (unsigned char)reason[i] >= 0x20 && reason[i] != 0x7f;
    if (!printable) {
        snprintf(err, errlen,
                 "\"override_limits\" must be the reason for going past the tenant's limits: "
                 "one line of 1 to 200 printable characters, got %s",
                 st_json_kind(v));
        return -1;
    }
    *out = reason;
    return 0;
}

/* Would `topics` new topics and `partitions` new partitions under `name` pass the
 * owning tenant's limits? 0 with overridden "" when they would; 0 with overridden
 * holding the limit's message when they would not but `override` gives a reason; else
 * -1 with err saying which limit and how to go past it. */
static int check_limits(st_broker *b, const char *name, int topics, int64_t partitions,
                        const char *override, char *overridden, size_t cap, char *err,
                        size_t errlen)
{
    char msg[512];
    overridden[0] = '\0';
    if (st_bquota_check_create(b->bquota, name, strlen(name), topics, partitions, msg,
                               sizeof msg) == 0)
        return 0;
    if (!override) {
        snprintf(err, errlen,
                 "%s (POLICY_VIOLATION); to go past it for this command, give the reason with "
                 "--override-limits REASON",
                 msg);
        return -1;
    }
    snprintf(overridden, cap, "%s", msg);
    return 0;
}

/* After the change succeeded: a logged line and {limit, reason} in the result. */
static void note_override(const char *cmd, const char *name, const char *overridden,
                          const char *override, json_t *result)
{
    if (!overridden[0])
        return;
    st_warn("%s \"%s\": tenant limit overridden by operator request (%s): %s", cmd, name, override,
            overridden);
    json_object_set_new(result, "limit_overridden",
                        json_pack("{s:s, s:s}", "limit", overridden, "reason", override));
}

static st_topic *find_topic(st_broker *b, const char *name, char *err, size_t errlen)
{
    st_topic *t = st_topics_find(b->topics, name, strlen(name));
    if (!t)
        snprintf(err, errlen, "topic \"%s\" does not exist", name);
    return t;
}

/* Kafka prints topic ids as unpadded URL-safe base64 of the 16 bytes. */
static void topic_id_string(const uint8_t id[16], char out[23])
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < 16; i += 3) {
        uint32_t v = (uint32_t)id[i] << 16;
        size_t have = 16 - i < 3 ? 16 - i : 3;
        if (have > 1)
            v |= (uint32_t)id[i + 1] << 8;
        if (have > 2)
            v |= id[i + 2];
        for (size_t k = 0; k < have + 1; k++)
            out[o++] = alphabet[(v >> (18 - 6 * k)) & 63];
    }
    out[o] = '\0';
}

/* ---- commands ---- */

static int cmd_help(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen);

/* Partitions whose writes fail (disk full, an fsync error) and how many writes failed:
 * {"partitions_refusing_writes", "partitions_offline", "storage_errors", "refusing":
 * ["topic-p", ... the first 20]}. */
static json_t *storage_status(st_broker *b)
{
    json_int_t refusing = 0, offline = 0, errors = 0;
    json_t *names = json_array();
    size_t ntopics = st_topics_count(b->topics);
    for (size_t i = 0; i < ntopics; i++) {
        const st_topic *t = st_topics_at(b->topics, i);
        for (int32_t p = 0; p < st_topic_partition_count(t); p++) {
            st_log_health h;
            if (!st_topic_log(t, p))
                continue;
            st_log_health_get(st_topic_log(t, p), &h);
            errors += (json_int_t)h.storage_errors;
            offline += h.offline;
            refusing += h.refusing_writes && !h.offline;
            if ((h.refusing_writes || h.offline) && names && json_array_size(names) < 20) {
                char name[300];
                snprintf(name, sizeof name, "%s-%d", st_topic_name(t), (int)p);
                json_array_append_new(names, json_string(name));
            }
        }
    }
    return json_pack("{s:I, s:I, s:I, s:o}", "partitions_refusing_writes", refusing,
                     "partitions_offline", offline, "storage_errors", errors, "refusing",
                     names ? names : json_array());
}

/* The login guard's and the worker pool's counters (docs/security.md, "Hostile clients"). */
static json_t *auth_status(st_broker *b)
{
    st_auth_guard_stats g;
    st_workq_stats w = {0};
    st_auth_guard_get_stats(st_security_guard(b->security), &g);
    if (b->workq)
        st_workq_get_stats(b->workq, &w);
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:I, s:{s:I, s:I, s:I}}",
                     "plain_logins", (json_int_t)g.lookups, "cache_hits", (json_int_t)g.cache_hits,
                     "joined", (json_int_t)g.joined, "checks", (json_int_t)g.checks, "refused_rate",
                     (json_int_t)g.over_rate, "refused_in_flight", (json_int_t)g.over_inflight,
                     "refused_busy", (json_int_t)g.busy, "checks_in_flight", g.inflight,
                     "abandoned", (json_int_t)b->stats.auth_abandoned, "workers", "queued",
                     (json_int_t)w.queued, "running", (json_int_t)w.running, "completed",
                     (json_int_t)w.completed);
}

static int cmd_status(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    size_t ntopics = st_topics_count(b->topics);
    int64_t npartitions = 0;
    for (size_t i = 0; i < ntopics; i++)
        npartitions += st_topic_partition_count(st_topics_at(b->topics, i));
    int port = b->server ? st_server_port(b->server) : b->cfg.port;
    char listener[300];
    snprintf(listener, sizeof(listener), "%s:%d", b->cfg.listen_host, port);
    int64_t uptime_s = (st_wall_ms() - b->started_ms) / 1000;
    const st_broker_stats *st = &b->stats;
    const st_pipeline_stats *ps = st_pipeline_stats_get(b->pipeline);

    *result = json_pack(
        "{s:i, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I}}", "node_id",
        (int)b->cfg.node_id, "cluster_id", b->cfg.cluster_id, "listener", listener, "data_dir",
        b->cfg.data_dir, "uptime_s", (json_int_t)(uptime_s < 0 ? 0 : uptime_s), "topics",
        (json_int_t)ntopics, "partitions", (json_int_t)npartitions, "connections",
        b->server ? json_integer((json_int_t)st_server_conn_count(b->server)) : json_null(),
        "stats", "requests", (json_int_t)ps->requests, "bad_frames", (json_int_t)ps->bad_frames,
        "bytes_in", (json_int_t)st->bytes_in, "bytes_out", (json_int_t)st->bytes_out, "records_in",
        (json_int_t)st->records_in, "connections_total", (json_int_t)ps->connections_total);
    if (!*result) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Requests per API by name, from the API table: only APIs that were called. */
    json_t *by_api = json_object();
    size_t napis;
    const st_api *apis = st_pipeline_table(b->pipeline, &napis);
    for (size_t i = 0; by_api && i < napis; i++) {
        int16_t key = apis[i].key;
        if (key >= 0 && (size_t)key < sizeof ps->requests_by_key / sizeof ps->requests_by_key[0] &&
            ps->requests_by_key[key])
            json_object_set_new(by_api, apis[i].name,
                                json_integer((json_int_t)ps->requests_by_key[key]));
    }
    json_t *stats = json_object_get(*result, "stats");
    json_object_set_new(stats, "requests_by_api", by_api ? by_api : json_null());
    json_object_set_new(stats, "parked_fetches", json_integer((json_int_t)st_fetch_parked(b)));
    json_object_set_new(*result, "loop", st_admin_loop_turns(b));
    json_object_set_new(*result, "storage", storage_status(b));
    json_object_set_new(*result, "auth", auth_status(b));
    if (b->server) { /* the connection layer's limits at work (docs/security.md) */
        st_server_stats ns;
        st_server_get_stats(b->server, &ns);
        json_object_set_new(
            stats, "net",
            json_pack(
                "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "accepted",
                (json_int_t)ns.accepted, "refused_max_connections",
                (json_int_t)ns.refused_max_connections, "refused_per_ip",
                (json_int_t)ns.refused_per_ip, "shed_no_fds", (json_int_t)ns.shed_no_fds,
                "closed_idle", (json_int_t)ns.closed_idle, "closed_auth_timeout",
                (json_int_t)ns.closed_auth_timeout, "closed_unauth_frame",
                (json_int_t)ns.closed_unauth_frame, "budget_waits", (json_int_t)ns.budget_waits,
                "queued_request_bytes", (json_int_t)ns.queued_bytes, "queued_unauth_request_bytes",
                (json_int_t)ns.queued_unauth_bytes, "read_buffers", (json_int_t)ns.read_buffers,
                "budget_waiting", (json_int_t)ns.budget_waiting));
    }
    return 0;
}

static int cmd_topics_list(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    json_t *list = json_array();
    size_t n = st_topics_count(b->topics);
    for (size_t i = 0; list && i < n; i++) {
        const st_topic *t = st_topics_at(b->topics, i);
        if (json_array_append_new(list, json_pack("{s:s, s:i, s:b}", "name", st_topic_name(t),
                                                  "partitions", (int)st_topic_partition_count(t),
                                                  "internal", (int)st_topic_internal(t))) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    *result = list ? json_pack("{s:o}", "topics", list) : NULL;
    if (!*result) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* The describe object for a topic (also the answer of create and alter). */
static json_t *describe_topic(st_broker *b, const st_topic *t, char *err, size_t errlen)
{
    st_config_desc *descs = NULL;
    size_t ndescs = 0;
    json_t *parts = json_array(), *configs = json_array(), *desc = NULL;
    char id[23];

    *err = '\0';
    if (!parts || !configs)
        goto out;
    for (int32_t p = 0; p < st_topic_partition_count(t); p++) {
        st_log *log = st_topic_log(t, p);
        if (json_array_append_new(parts,
                                  json_pack("{s:i, s:I, s:I, s:I, s:i}", "partition", (int)p,
                                            "start_offset", (json_int_t)st_log_start_offset(log),
                                            "end_offset", (json_int_t)st_log_end_offset(log),
                                            "size_bytes", (json_int_t)st_log_size_bytes(log),
                                            "segments", st_log_segment_count(log))) != 0)
            goto out;
    }
    int rc = st_topics_describe_configs(b->topics, st_topic_name(t), &descs, &ndescs);
    if (rc != ST_ERR_NONE) {
        snprintf(err, errlen, "topic \"%s\": cannot describe configs: %s", st_topic_name(t),
                 st_err_name(rc));
        goto out;
    }
    for (size_t i = 0; i < ndescs; i++) {
        const st_config_desc *d = &descs[i];
        if (json_array_append_new(
                configs, json_pack("{s:s, s:o, s:b, s:b, s:b}", "name", d->name, "value",
                                   d->sensitive ? json_null() : json_string(d->value), "default",
                                   (int)d->is_default, "read_only", (int)d->read_only, "sensitive",
                                   (int)d->sensitive)) != 0)
            goto out;
    }
    topic_id_string(st_topic_id(t), id);
    desc = json_pack("{s:s, s:s, s:b, s:O, s:O}", "name", st_topic_name(t), "id", id, "internal",
                     (int)st_topic_internal(t), "partitions", parts, "configs", configs);
out:
    if (!desc && !*err)
        snprintf(err, errlen, "out of memory");
    free(descs);
    json_decref(parts);
    json_decref(configs);
    return desc;
}

static int cmd_topics_describe(st_broker *b, json_t *args, json_t **result, char *err,
                               size_t errlen)
{
    const char *name = arg_name(args, err, errlen);
    const st_topic *t = name ? find_topic(b, name, err, errlen) : NULL;
    if (!t)
        return -1;
    *result = describe_topic(b, t, err, errlen);
    return *result ? 0 : -1;
}

static int cmd_topics_create(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    config_list configs = {0};
    int64_t partitions = -1, replication = -1;
    int rc = -1;
    const char *override = NULL;
    char overridden[512] = "";
    const char *name = arg_name(args, err, errlen);

    if (!name || arg_int(args, "partitions", -1, INT32_MAX, &partitions, err, errlen) ||
        arg_int(args, "replication_factor", -1, INT16_MAX, &replication, err, errlen) ||
        arg_override(args, &override, err, errlen) ||
        configs_from_object(json_object_get(args, "configs"), "configs", &configs, err, errlen))
        goto out;
    /* An existing topic is TOPIC_ALREADY_EXISTS below, whatever the limits. */
    if (!st_topics_find(b->topics, name, strlen(name)) &&
        check_limits(b, name, 1, partitions > 0 ? partitions : b->cfg.num_partitions, override,
                     overridden, sizeof overridden, err, errlen))
        goto out;
    int code = st_topics_create(b->topics, name, (int32_t)partitions, (int16_t)replication,
                                configs.sets, configs.n, false, err, errlen);
    if (code != ST_ERR_NONE) {
        st_admin_fill_err(code, err, errlen);
        goto out;
    }
    const st_topic *t = find_topic(b, name, err, errlen);
    *result = t ? describe_topic(b, t, err, errlen) : NULL;
    rc = *result ? 0 : -1;
    if (*result)
        note_override("topics.create", name, overridden, override, *result);
out:
    config_list_free(&configs);
    return rc;
}

/* Validates every change first, then applies: a bad config does not leave the
 * partition count changed, and the reverse. */
static int cmd_topics_alter(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    config_list changes = {0};
    int64_t total = -1;
    int rc = -1, code = ST_ERR_NONE;
    const char *override = NULL;
    char overridden[512] = "";
    const char *name = arg_name(args, err, errlen);
    const st_topic *topic = name ? find_topic(b, name, err, errlen) : NULL;

    if (!topic || arg_int(args, "add_partitions", 1, INT32_MAX, &total, err, errlen) ||
        arg_override(args, &override, err, errlen) ||
        configs_from_object(json_object_get(args, "set"), "set", &changes, err, errlen) ||
        deletes_from_array(json_object_get(args, "delete"), &changes, err, errlen))
        goto out;
    if (changes.n == 0 && total < 0) {
        snprintf(err, errlen,
                 "topic \"%s\": nothing to alter: give \"set\", \"delete\" or "
                 "\"add_partitions\"",
                 name);
        goto out;
    }
    /* Growing (not shrinking: that is INVALID_PARTITIONS below) counts against the limit. */
    if (total > st_topic_partition_count(topic) &&
        check_limits(b, name, 0, total - st_topic_partition_count(topic), override, overridden,
                     sizeof overridden, err, errlen))
        goto out;
    for (int pass = 0; pass < 2; pass++) {
        bool validate_only = pass == 0;
        if (changes.n > 0)
            code = st_topics_alter_configs(b->topics, name, changes.sets, changes.n, true,
                                           validate_only, err, errlen);
        if (code == ST_ERR_NONE && total >= 0)
            code = st_topics_create_partitions(b->topics, name, (int32_t)total, validate_only, err,
                                               errlen);
        if (code != ST_ERR_NONE) {
            st_admin_fill_err(code, err, errlen);
            goto out;
        }
    }
    const st_topic *t = find_topic(b, name, err, errlen);
    *result = t ? describe_topic(b, t, err, errlen) : NULL;
    rc = *result ? 0 : -1;
    if (*result)
        note_override("topics.alter", name, overridden, override, *result);
out:
    config_list_free(&changes);
    return rc;
}

static int cmd_topics_delete(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    const char *name = arg_name(args, err, errlen);
    if (!name)
        return -1;
    int code = st_topics_delete(b->topics, name, err, errlen);
    if (code != ST_ERR_NONE) {
        st_admin_fill_err(code, err, errlen);
        return -1;
    }
    *result = json_pack("{s:s, s:b}", "name", name, "deleted", 1);
    return 0;
}

static const char *const no_args[] = {NULL};
static const char *const name_arg[] = {"name", NULL};
static const char *const create_args[] = {"name",    "partitions",      "replication_factor",
                                          "configs", "override_limits", NULL};
static const char *const alter_args[] = {
    "name", "set", "delete", "add_partitions", "override_limits", NULL};

static const char *const group_arg[] = {"group", NULL};
static const char *const reset_args[] = {"group",     "topic",     "partitions",  "to_earliest",
                                         "to_latest", "to_offset", "to_datetime", "shift_by",
                                         "dry_run",   NULL};

static const char *const tenant_create_args[] = {"name", "prefix", NULL};
static const char *const tenant_delete_args[] = {"name", "force", NULL};
static const char *const user_add_args[] = {"user",      "password",   "tenant",
                                            "mechanism", "iterations", NULL};
static const char *const user_remove_args[] = {"user", "mechanism", NULL};
static const char *const acl_args[] = {
    "resource_type", "resource_name", "pattern_type", "principal",
    "host",          "operation",     "permission",   NULL};
static const char *const quota_set_args[] = {"entity", "key", "value", "values", NULL};
static const char *const quota_remove_args[] = {"entity", "key", "keys", NULL};
static const char *const quota_describe_args[] = {"entity", NULL};
static const char *const quota_usage_args[] = {"tenant", NULL};
static const char *const quota_metrics_args[] = {"tenant", "seconds", NULL};
static const char *const explain_args[] = {"principal",     "client_id",     "host", "operation",
                                           "resource_type", "resource_name", "kind", NULL};

static const admin_cmd commands[] = {
    {"help", no_args, "", "list the commands", cmd_help},
    {"status", no_args, "", "node id, listener, data dir, uptime, counts and request stats",
     cmd_status},
    {"topics.list", no_args, "", "every topic with its partition count", cmd_topics_list},
    {"topics.describe", name_arg, "{name}",
     "partitions (start/end offset, size) and every config, marking defaults", cmd_topics_describe},
    {"topics.create", create_args,
     "{name, partitions?, replication_factor?, configs?{k:v}, override_limits? (reason)}",
     "create a topic (broker defaults for what is not given); refused past its tenant's "
     "topics or partitions limit unless override_limits gives a reason (logged)",
     cmd_topics_create},
    {"topics.alter", alter_args,
     "{name, set?{k:v}, delete?[k], add_partitions? (new total), override_limits? (reason)}",
     "change config overrides incrementally and/or grow the partition count (within the "
     "tenant's partitions limit unless override_limits gives a reason)",
     cmd_topics_alter},
    {"topics.delete", name_arg, "{name}", "delete a topic and its data", cmd_topics_delete},
    {"topics.stats", no_args, "",
     "every topic's partitions (start/end offset, size) and bytes produced/fetched",
     st_admin_topics_stats},
    {"groups.lag", no_args, "", "every group's state, member count and per-partition lag",
     st_admin_groups_lag},
    {"groups.list", no_args, "", "every consumer group with its state and member count",
     st_admin_groups_list},
    {"groups.describe", group_arg, "{group}",
     "members with their assignments; per partition the commit, log end, lag and owner",
     st_admin_groups_describe},
    {"groups.delete", group_arg, "{group}",
     "delete a group without members and its committed offsets", st_admin_groups_delete},
    {"groups.reset-offsets", reset_args,
     "{group, topic (or \"all\"), partitions?[..], to_earliest | to_latest | to_offset N | "
     "to_datetime T | shift_by N, dry_run?}",
     "compute new committed offsets and, unless dry_run, write them (group must have no members)",
     st_admin_groups_reset_offsets},
    {"tenants.create", tenant_create_args, "{name, prefix? (default \"<name>.\")}",
     "create a tenant owning a topic prefix, with its ACLs on principal Tenant:<name>",
     st_admin_tenants_create},
    {"tenants.list", no_args, "", "every tenant with its prefix, users and counts",
     st_admin_tenants_list},
    {"tenants.describe", name_arg, "{name}", "a tenant's prefix, users, topics and ACLs",
     st_admin_tenants_describe},
    {"tenants.delete", tenant_delete_args, "{name, force?}",
     "delete a tenant, its ACLs and users (refused while it has topics unless force, which "
     "deletes them)",
     st_admin_tenants_delete},
    {"users.add", user_add_args,
     "{user, password, tenant?, mechanism? (SCRAM-SHA-256|SCRAM-SHA-512; default both), "
     "iterations? (4096)}",
     "add or replace a user's SCRAM credentials, optionally joining a tenant", st_admin_users_add},
    {"users.remove", user_remove_args, "{user, mechanism?}",
     "remove a user's credentials (one mechanism, or all and its tenant membership)",
     st_admin_users_remove},
    {"users.list", no_args, "", "every user: mechanisms with iterations, tenant",
     st_admin_users_list},
    {"acls.add", acl_args,
     "{resource_type, resource_name, pattern_type? (LITERAL), principal, host? (*), operation, "
     "permission? (ALLOW)}",
     "add an ACL", st_admin_acls_add},
    {"acls.remove", acl_args, "{the acls.add fields, each optional: absent = ANY}",
     "remove the ACLs a filter selects (at least one field)", st_admin_acls_remove},
    {"acls.list", acl_args, "{the acls.add fields, each optional: absent = ANY}",
     "the ACLs a filter selects", st_admin_acls_list},
    {"quotas.set", quota_set_args,
     "{entity{user?, client-id?, tenant?} (names or \"<default>\"), key, value | values{k:v}}",
     "set client quotas (producer_byte_rate, consumer_byte_rate, request_percentage) or "
     "tenant limits (retained_bytes, partitions, topics, connections, "
     "connection_creation_rate); all or nothing",
     st_admin_quotas_set},
    {"quotas.remove", quota_remove_args, "{entity, key | keys[k]}",
     "remove quota keys from an entity", st_admin_quotas_remove},
    {"quotas.describe", quota_describe_args, "{entity?}",
     "every quota set, or those set on exactly one entity", st_admin_quotas_describe},
    {"quotas.usage", quota_usage_args, "{tenant?}",
     "per tenant: limits with their use, rate quotas, the last seconds of metrics; every "
     "active quota sensor with its rate and throttle time",
     st_admin_quotas_usage},
    {"quotas.metrics", quota_metrics_args, "{tenant, seconds? (60)}",
     "a tenant's per-second bytes in/out, requests, throttle time and denials",
     st_admin_quotas_metrics},
    {"explain", explain_args,
     "{principal, client_id?, host?, operation?, resource_type?, resource_name?, kind? "
     "(produce|fetch|request)}",
     "why a request is allowed, denied or throttled: the deciding ACL binding, the quota "
     "entities that apply with rate and budget left, the tenant's limits",
     st_admin_explain},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

const char *const st_admin_readonly[] = {"help",
                                         "status",
                                         "topics.list",
                                         "topics.describe",
                                         "topics.stats",
                                         "groups.list",
                                         "groups.describe",
                                         "groups.lag",
                                         "tenants.list",
                                         "tenants.describe",
                                         "users.list",
                                         "acls.list",
                                         "quotas.describe",
                                         "quotas.usage",
                                         "quotas.metrics",
                                         "explain",
                                         NULL};

static int cmd_help(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
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
    if (!*result) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int st_admin_handle(void *broker, const char *cmd, json_t *args, json_t **result, char *err,
                    size_t errlen)
{
    st_broker *b = broker;
    *result = NULL;
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const admin_cmd *c = &commands[i];
        if (strcmp(c->name, cmd) != 0)
            continue;
        if (st_mgmt_check_args(c->name, c->args, c->synopsis, args, err, errlen) != 0)
            return -1;
        if (!b->topics && c->fn != cmd_help) {
            snprintf(err, errlen, "%s: the broker has no topic registry open", cmd);
            return -1;
        }
        return c->fn(b, args, result, err, errlen);
    }
    snprintf(err, errlen, "unknown command \"%s\": send \"help\" for the list", cmd);
    return -1;
}
