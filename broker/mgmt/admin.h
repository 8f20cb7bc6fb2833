/*
 * The broker's management commands: what `strait` and the console send over the
 * management bus (common/mgmt.h). A table maps each command name to its handler and a
 * one-line help; "help" lists it.
 *
 * Every command that changes topics calls the same st_topics_* functions the Kafka
 * admin APIs call, and passes their error messages back verbatim.
 *
 * Commands and their args (results are JSON objects):
 *   status                                   node, listener, data dir, uptime, counts, stats
 *   help                                     the command list
 *   topics.list                              [{name, partitions, internal}]
 *   topics.describe {name}                   partitions with offsets and sizes, configs
 *   topics.create   {name, partitions?, replication_factor?, configs?{k:v}}
 *   topics.alter    {name, set?{k:v}, delete?[k], add_partitions? (new total)}
 *   topics.delete   {name}
 *   topics.stats; groups.lag                 every topic's offsets, every group's lag
 *                                            (stats.c, for the console's survey)
 *   groups.list
 *   groups.describe {group}
 *   groups.delete   {group}
 *   groups.reset-offsets {group, topic ("all": every topic with commits), partitions?,
 *                   to_earliest | to_latest | to_offset | to_datetime | shift_by, dry_run}
 *   tenants.create {name, prefix?}; tenants.list; tenants.describe {name};
 *   tenants.delete {name, force?}
 *   users.add {user, password, tenant?, mechanism?, iterations?}; users.remove {user,
 *                   mechanism?}; users.list
 *   acls.add {resource_type, resource_name, pattern_type?, principal, host?, operation,
 *                   permission?}; acls.remove {filter}; acls.list {filter?}
 *                   (filter: the same fields, each optional, absent = ANY)
 *   quotas.set {entity{user?, client-id?, tenant?}, key, value} (or values{k:v});
 *                   quotas.remove {entity, key} (or keys[k]); quotas.describe {entity?};
 *                   quotas.usage {tenant?}; quotas.metrics {tenant, seconds?}
 *   explain {principal, client_id?, host?, operation?, resource_type?, resource_name?,
 *                   kind?}   (quotas.c)
 */
#ifndef ST_ADMIN_H
#define ST_ADMIN_H

#include <stddef.h>

#include <jansson.h>

/*
 * An st_mgmt_handler: broker is the st_broker*. Borrows cmd and args; on success
 * returns 0 with *result a new reference, else -1 with err set.
 * Loop thread only (it reads and changes the topic registry).
 */
int st_admin_handle(void *broker, const char *cmd, json_t *args, json_t **result, char *err,
                    size_t errlen);

/* The commands that change nothing (NULL-terminated): served in the console's surveys
 * and left out of the management command log (common/mgmt.h). */
extern const char *const st_admin_readonly[];

/* The topics.* commands (topics.c), entries of admin.c's command table with the same
 * contract as st_admin_handle. Loop thread only. */
struct st_broker;
int st_admin_topics_list(struct st_broker *b, json_t *args, json_t **result, char *err,
                         size_t errlen);
int st_admin_topics_describe(struct st_broker *b, json_t *args, json_t **result, char *err,
                             size_t errlen);
int st_admin_topics_create(struct st_broker *b, json_t *args, json_t **result, char *err,
                           size_t errlen);
int st_admin_topics_alter(struct st_broker *b, json_t *args, json_t **result, char *err,
                          size_t errlen);
int st_admin_topics_delete(struct st_broker *b, json_t *args, json_t **result, char *err,
                           size_t errlen);

/* The groups.* commands (groups.c), entries of admin.c's command table with the
 * same contract as st_admin_handle. Loop thread only. */
struct st_broker;
int st_admin_groups_list(struct st_broker *b, json_t *args, json_t **result, char *err,
                         size_t errlen);
int st_admin_groups_describe(struct st_broker *b, json_t *args, json_t **result, char *err,
                             size_t errlen);
int st_admin_groups_delete(struct st_broker *b, json_t *args, json_t **result, char *err,
                           size_t errlen);
int st_admin_groups_reset_offsets(struct st_broker *b, json_t *args, json_t **result, char *err,
                                  size_t errlen);

/* The event loops' turn lengths for status (stats.c): {"since_start":{turns,
 * longest_us, p50_us, p99_us, p999_us}, "last_minute":{...}} — turns summed over the
 * shards, the rest the slowest shard's; a new reference. */
json_t *st_admin_loop_turns(struct st_broker *b);

/* The console's whole-broker reads (stats.c): topics.stats, groups.lag. */
int st_admin_topics_stats(struct st_broker *b, json_t *args, json_t **result, char *err,
                          size_t errlen);
int st_admin_groups_lag(struct st_broker *b, json_t *args, json_t **result, char *err,
                        size_t errlen);

/* The tenants.*, users.* and acls.* commands (security.c), same contract. Each
 * answers an error when the broker has no security context (b->security NULL). */
int st_admin_tenants_create(struct st_broker *b, json_t *args, json_t **result, char *err,
                            size_t errlen);
int st_admin_tenants_list(struct st_broker *b, json_t *args, json_t **result, char *err,
                          size_t errlen);
int st_admin_tenants_describe(struct st_broker *b, json_t *args, json_t **result, char *err,
                              size_t errlen);
int st_admin_tenants_delete(struct st_broker *b, json_t *args, json_t **result, char *err,
                            size_t errlen);
int st_admin_users_add(struct st_broker *b, json_t *args, json_t **result, char *err,
                       size_t errlen);
int st_admin_users_remove(struct st_broker *b, json_t *args, json_t **result, char *err,
                          size_t errlen);
int st_admin_users_list(struct st_broker *b, json_t *args, json_t **result, char *err,
                        size_t errlen);
int st_admin_acls_add(struct st_broker *b, json_t *args, json_t **result, char *err, size_t errlen);
int st_admin_acls_remove(struct st_broker *b, json_t *args, json_t **result, char *err,
                         size_t errlen);
int st_admin_acls_list(struct st_broker *b, json_t *args, json_t **result, char *err,
                       size_t errlen);

/* The quotas.* and explain commands (quotas.c), same contract. Each answers an
 * error when the broker has no quota engine (b->bquota NULL). */
int st_admin_quotas_set(struct st_broker *b, json_t *args, json_t **result, char *err,
                        size_t errlen);
int st_admin_quotas_remove(struct st_broker *b, json_t *args, json_t **result, char *err,
                           size_t errlen);
int st_admin_quotas_describe(struct st_broker *b, json_t *args, json_t **result, char *err,
                             size_t errlen);
int st_admin_quotas_usage(struct st_broker *b, json_t *args, json_t **result, char *err,
                          size_t errlen);
int st_admin_quotas_metrics(struct st_broker *b, json_t *args, json_t **result, char *err,
                            size_t errlen);
int st_admin_explain(struct st_broker *b, json_t *args, json_t **result, char *err, size_t errlen);

#endif
