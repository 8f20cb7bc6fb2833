/*
 * The API table: one row per key we serve (broker/request/request.h has the row's
 * fields). The pipeline is given it (broker.c); ApiVersions is generated from it. Adding
 * an API means adding a row and a handler, nothing else: the pipeline has no case for
 * any API.
 *
 * A row's ACL column is Kafka's documented operation on the API's main resource, which
 * the handler checks with st_req_allowed (per topic, group, ...) or
 * st_req_allowed_cluster; APIs with more than one check name the others where they make
 * them. UNKNOWN: the API checks nothing (ApiVersions, the SASL exchange).
 */
#include "broker/api/handlers.h"

#include <stdint.h>

/* No flexible version inside the range we serve. Kafka's first flexible versions lie
 * just above some of our maxima (Produce 9, Fetch 12, ...): raising a max past one means
 * setting the real number here and teaching the handler the compact forms. */
#define NO_FLEX INT16_MAX

#define OP(op)   ST_ACL_OP_##op
#define RES(res) ST_ACL_RESOURCE_##res
#define NONE     ST_ACL_OP_UNKNOWN, ST_ACL_RESOURCE_UNKNOWN

/* Sorted by key. min_version is what we serve; ApiVersions advertises 0 regardless
 * (KAFKA-NOTES "advertise MinVersion 0"). */
static const st_api rows[] = {
    {0, "Produce", 3, 7, NO_FLEX, st_handle_produce, OP(WRITE), RES(TOPIC), ST_API_QUOTA_PRODUCE, 0,
     NULL},
    {1, "Fetch", 4, 11, NO_FLEX, st_handle_fetch, OP(READ), RES(TOPIC), ST_API_QUOTA_FETCH, 0,
     &st_fetch_hooks},
    {2, "ListOffsets", 1, 5, NO_FLEX, st_handle_list_offsets, OP(DESCRIBE), RES(TOPIC), 0, 0, NULL},
    {3, "Metadata", 0, 12, 9, st_handle_metadata, OP(DESCRIBE), RES(TOPIC), 0, 0, NULL},
    {8, "OffsetCommit", 2, 8, 8, st_handle_offset_commit, OP(READ), RES(GROUP), 0, 0, NULL},
    {9, "OffsetFetch", 1, 8, 6, st_handle_offset_fetch, OP(DESCRIBE), RES(GROUP), 0, 0, NULL},
    {10, "FindCoordinator", 0, 4, 3, st_handle_find_coordinator, OP(DESCRIBE), RES(GROUP), 0, 0,
     NULL},
    {11, "JoinGroup", 0, 9, 6, st_handle_join_group, OP(READ), RES(GROUP), 0, 0, NULL},
    {12, "Heartbeat", 0, 4, 4, st_handle_heartbeat, OP(READ), RES(GROUP), 0, 0, NULL},
    {13, "LeaveGroup", 0, 5, 4, st_handle_leave_group, OP(READ), RES(GROUP), 0, 0, NULL},
    {14, "SyncGroup", 0, 4, 4, st_handle_sync_group, OP(READ), RES(GROUP), 0, 0, NULL},
    {15, "DescribeGroups", 0, 5, 5, st_handle_describe_groups, OP(DESCRIBE), RES(GROUP), 0, 0,
     NULL},
    {16, "ListGroups", 0, 4, 3, st_handle_list_groups, OP(DESCRIBE), RES(GROUP), 0, 0, NULL},
    {17, "SaslHandshake", 0, 1, NO_FLEX, st_handle_sasl_handshake, NONE, 0, ST_API_BEFORE_AUTH,
     NULL},
    {18, "ApiVersions", 0, 3, 3, st_handle_api_versions, NONE, 0,
     ST_API_BEFORE_AUTH | ST_API_HEADER_V0, &st_api_versions_hooks},
    {19, "CreateTopics", 0, 7, 5, st_handle_create_topics, OP(CREATE), RES(TOPIC), 0, 0, NULL},
    {20, "DeleteTopics", 0, 1, NO_FLEX, st_handle_delete_topics, OP(DELETE), RES(TOPIC), 0, 0,
     NULL},
    {21, "DeleteRecords", 0, 1, NO_FLEX, st_handle_delete_records, OP(DELETE), RES(TOPIC), 0, 0,
     NULL},
    {22, "InitProducerId", 0, 4, 2, st_handle_init_producer_id, OP(WRITE), RES(TRANSACTIONAL_ID), 0,
     0, NULL},
    /* DESCRIBE on each topic for a consumer; CLUSTER_ACTION when replica_id >= 0 */
    {23, "OffsetForLeaderEpoch", 0, 4, 4, st_handle_offset_for_leader_epoch, OP(DESCRIBE),
     RES(TOPIC), 0, 0, NULL},
    {24, "AddPartitionsToTxn", 0, 3, 3, st_handle_add_partitions_to_txn, OP(WRITE),
     RES(TRANSACTIONAL_ID), 0, 0, NULL},
    {25, "AddOffsetsToTxn", 0, 3, 3, st_handle_add_offsets_to_txn, OP(WRITE), RES(TRANSACTIONAL_ID),
     0, 0, NULL},
    {26, "EndTxn", 0, 3, 3, st_handle_end_txn, OP(WRITE), RES(TRANSACTIONAL_ID), 0, 0, NULL},
    {28, "TxnOffsetCommit", 0, 3, 3, st_handle_txn_offset_commit, OP(READ), RES(GROUP), 0, 0, NULL},
    {29, "DescribeAcls", 0, 1, NO_FLEX, st_handle_describe_acls, OP(DESCRIBE), RES(CLUSTER), 0, 0,
     NULL},
    {30, "CreateAcls", 0, 1, NO_FLEX, st_handle_create_acls, OP(ALTER), RES(CLUSTER), 0, 0, NULL},
    {31, "DeleteAcls", 0, 1, NO_FLEX, st_handle_delete_acls, OP(ALTER), RES(CLUSTER), 0, 0, NULL},
    {32, "DescribeConfigs", 0, 2, NO_FLEX, st_handle_describe_configs, OP(DESCRIBE_CONFIGS),
     RES(TOPIC), 0, 0, NULL},
    {33, "AlterConfigs", 0, 1, NO_FLEX, st_handle_alter_configs, OP(ALTER_CONFIGS), RES(TOPIC), 0,
     0, NULL},
    {35, "DescribeLogDirs", 0, 4, 2, st_handle_describe_log_dirs, OP(DESCRIBE), RES(CLUSTER), 0, 0,
     NULL},
    {36, "SaslAuthenticate", 0, 1, NO_FLEX, st_handle_sasl_authenticate, NONE, 0,
     ST_API_BEFORE_AUTH, &st_sasl_authenticate_hooks},
    {37, "CreatePartitions", 0, 1, NO_FLEX, st_handle_create_partitions, OP(ALTER), RES(TOPIC), 0,
     0, NULL},
    {42, "DeleteGroups", 0, 2, 2, st_handle_delete_groups, OP(DELETE), RES(GROUP), 0, 0, NULL},
    {44, "IncrementalAlterConfigs", 0, 1, 1, st_handle_incremental_alter_configs, OP(ALTER_CONFIGS),
     RES(TOPIC), 0, 0, NULL},
    {47, "OffsetDelete", 0, 0, NO_FLEX, st_handle_offset_delete, OP(DELETE), RES(GROUP), 0, 0,
     NULL},
    {48, "DescribeClientQuotas", 0, 0, NO_FLEX, st_handle_describe_client_quotas,
     OP(DESCRIBE_CONFIGS), RES(CLUSTER), 0, 0, NULL},
    {49, "AlterClientQuotas", 0, 0, NO_FLEX, st_handle_alter_client_quotas, OP(ALTER_CONFIGS),
     RES(CLUSTER), 0, 0, NULL},
    {50, "DescribeUserScramCredentials", 0, 0, 0, st_handle_describe_user_scram_credentials,
     OP(DESCRIBE), RES(CLUSTER), 0, 0, NULL},
    {51, "AlterUserScramCredentials", 0, 0, 0, st_handle_alter_user_scram_credentials, OP(ALTER),
     RES(CLUSTER), 0, 0, NULL},
    {60, "DescribeCluster", 0, 0, 0, st_handle_describe_cluster, OP(DESCRIBE), RES(CLUSTER), 0, 0,
     NULL},
    {65, "DescribeTransactions", 0, 0, 0, st_handle_describe_transactions, OP(DESCRIBE),
     RES(TRANSACTIONAL_ID), 0, 0, NULL},
    {66, "ListTransactions", 0, 0, 0, st_handle_list_transactions, OP(DESCRIBE),
     RES(TRANSACTIONAL_ID), 0, 0, NULL},
};

const st_api *st_api_rows(size_t *n)
{
    *n = sizeof rows / sizeof rows[0];
    return rows;
}
