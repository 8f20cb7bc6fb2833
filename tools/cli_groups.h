/*
 * What the strait groups subcommands share (cli_groups.c, cli_groups_reset.c): a
 * group's description and committed offsets through the Kafka admin API.
 */
#ifndef ST_CLI_GROUPS_H
#define ST_CLI_GROUPS_H

#include <regex.h>

#include "tools/cli.h"

typedef struct cli_group_member {
    char *id, *client_id, *host; /* owned */
    char *instance_id;           /* owned; group.instance.id of a static member, NULL if dynamic */
    rd_kafka_topic_partition_list_t *assignment; /* owned */
} cli_group_member;

typedef struct cli_group_info {
    char state[32];    /* "Stable", "Empty", ... ("Dead" for an unknown group) */
    char assignor[64]; /* "" before the first rebalance */
    cli_group_member *members;
    size_t nmembers;
} cli_group_info;

/* DescribeConsumerGroups of one group into info (free with cli_group_info_free).
 * CLI_OK, or CLI_FAIL (reported). */
int cli_group_describe(cli_kadmin *a, const char *group, cli_group_info *info);
void cli_group_info_free(cli_group_info *info);
/* Every committed offset of the group, sorted; NULL after reporting. Caller destroys. */
rd_kafka_topic_partition_list_t *cli_group_committed(cli_kadmin *a, const char *group);
/* The ids of the groups whose whole id matches re (all with re NULL): *out is a new array
 * of new strings. CLI_OK or CLI_FAIL (reported). */
int cli_groups_matching(cli_kadmin *a, const regex_t *re, char ***out, size_t *n);
/* Compiles --regex RE (extended syntax); CLI_OK or CLI_USAGE (reported). */
int cli_regex_arg(const cli_ctx *c, const char *text, regex_t *re);

int cli_groups_reset_offsets(cli_ctx *c, int argc, char **argv);

#endif
