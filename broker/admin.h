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

#endif
