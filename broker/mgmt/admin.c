/*
 * Management commands of straitd (see admin.h): a table of {name, args, help,
 * handler}, and help and status. The dispatcher checks argument names against the table
 * so a typo such as "partition" is an error rather than a silently ignored default; the
 * commands themselves live one family per file beside this one (topics.c, groups.c,
 * security.c, acls.c, quotas.c, stats.c).
 */
#include "broker/mgmt/admin.h"
#include "broker/mgmt/mgmt_int.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"
#include "broker/shard.h"
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
static json_t *auth_status(st_broker *b, const st_shard_stats *shards)
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
                     "abandoned", (json_int_t)shards->auth_abandoned, "workers", "queued",
                     (json_int_t)w.queued, "running", (json_int_t)w.running, "completed",
                     (json_int_t)w.completed);
}

/* The shards' pipelines, connections and parked fetches, summed. */
typedef struct shards_sum {
    st_pipeline_stats pipeline;
    st_server_stats net;
    bool listening; /* some shard has a server (none in the fuzz harness) */
    size_t connections;
    size_t parked_fetches;
} shards_sum;

static void sum_shards(st_broker *b, shards_sum *sum)
{
    *sum = (shards_sum){0};
    for (uint32_t i = 0; i < b->nshards; i++) {
        const st_shard *sh = &b->shards[i];
        const st_pipeline_stats *ps = st_pipeline_stats_get(sh->pipeline);
        sum->pipeline.requests += ps->requests;
        sum->pipeline.bad_frames += ps->bad_frames;
        sum->pipeline.connections_total += ps->connections_total;
        for (size_t k = 0; k < sizeof ps->requests_by_key / sizeof ps->requests_by_key[0]; k++)
            sum->pipeline.requests_by_key[k] += ps->requests_by_key[k];
        sum->parked_fetches += st_fetch_parked(sh);
        if (!sh->server)
            continue;
        st_server_stats ns;
        st_server_get_stats(sh->server, &ns);
        sum->listening = true;
        sum->connections += st_server_conn_count(sh->server);
        sum->net.accepted += ns.accepted;
        sum->net.refused_max_connections += ns.refused_max_connections;
        sum->net.refused_per_ip += ns.refused_per_ip;
        sum->net.shed_no_fds += ns.shed_no_fds;
        sum->net.closed_idle += ns.closed_idle;
        sum->net.closed_auth_timeout += ns.closed_auth_timeout;
        sum->net.closed_unauth_frame += ns.closed_unauth_frame;
        sum->net.budget_waits += ns.budget_waits;
        sum->net.queued_bytes += ns.queued_bytes;
        sum->net.queued_unauth_bytes += ns.queued_unauth_bytes;
        sum->net.budget_waiting += ns.budget_waiting;
        sum->net.read_buffers += ns.read_buffers;
    }
}

static int cmd_status(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    size_t ntopics = st_topics_count(b->topics);
    int64_t npartitions = 0;
    for (size_t i = 0; i < ntopics; i++)
        npartitions += st_topic_partition_count(st_topics_at(b->topics, i));
    const st_server *server = st_shard_main(b)->server; /* listeners on the main loop */
    int port = server ? st_server_port(server) : b->cfg.port;
    char listener[300];
    snprintf(listener, sizeof(listener), "%s:%d", b->cfg.listen_host, port);
    int64_t uptime_s = (st_wall_ms() - b->started_ms) / 1000;
    st_shard_stats shard_stats;
    st_shard_stats_sum(b, &shard_stats);
    const st_shard_stats *st = &shard_stats;
    shards_sum sum;
    sum_shards(b, &sum);
    const st_pipeline_stats *ps = &sum.pipeline;

    *result = json_pack(
        "{s:i, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I}}", "node_id",
        (int)b->cfg.node_id, "cluster_id", b->cfg.cluster_id, "listener", listener, "data_dir",
        b->cfg.data_dir, "uptime_s", (json_int_t)(uptime_s < 0 ? 0 : uptime_s), "topics",
        (json_int_t)ntopics, "partitions", (json_int_t)npartitions, "connections",
        sum.listening ? json_integer((json_int_t)sum.connections) : json_null(), "stats",
        "requests", (json_int_t)ps->requests, "bad_frames", (json_int_t)ps->bad_frames, "bytes_in",
        (json_int_t)st->bytes_in, "bytes_out", (json_int_t)st->bytes_out, "records_in",
        (json_int_t)st->records_in, "connections_total", (json_int_t)ps->connections_total);
    if (!*result) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* Requests per API by name, from the API table: only APIs that were called. */
    json_t *by_api = json_object();
    size_t napis;
    const st_api *apis = st_pipeline_table(st_shard_main(b)->pipeline, &napis);
    for (size_t i = 0; by_api && i < napis; i++) {
        int16_t key = apis[i].key;
        if (key >= 0 && (size_t)key < sizeof ps->requests_by_key / sizeof ps->requests_by_key[0] &&
            ps->requests_by_key[key])
            json_object_set_new(by_api, apis[i].name,
                                json_integer((json_int_t)ps->requests_by_key[key]));
    }
    json_t *stats = json_object_get(*result, "stats");
    json_object_set_new(stats, "requests_by_api", by_api ? by_api : json_null());
    json_object_set_new(stats, "parked_fetches", json_integer((json_int_t)sum.parked_fetches));
    json_object_set_new(*result, "loop", st_admin_loop_turns(b));
    json_object_set_new(*result, "storage", storage_status(b));
    json_object_set_new(*result, "auth", auth_status(b, st));
    if (sum.listening) { /* the connection layer's limits at work (docs/security.md) */
        const st_server_stats ns = sum.net;
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
    {"topics.list", no_args, "", "every topic with its partition count", st_admin_topics_list},
    {"topics.describe", name_arg, "{name}",
     "partitions (start/end offset, size) and every config, marking defaults",
     st_admin_topics_describe},
    {"topics.create", create_args,
     "{name, partitions?, replication_factor?, configs?{k:v}, override_limits? (reason)}",
     "create a topic (broker defaults for what is not given); refused past its tenant's "
     "topics or partitions limit unless override_limits gives a reason (logged)",
     st_admin_topics_create},
    {"topics.alter", alter_args,
     "{name, set?{k:v}, delete?[k], add_partitions? (new total), override_limits? (reason)}",
     "change config overrides incrementally and/or grow the partition count (within the "
     "tenant's partitions limit unless override_limits gives a reason)",
     st_admin_topics_alter},
    {"topics.delete", name_arg, "{name}", "delete a topic and its data", st_admin_topics_delete},
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
