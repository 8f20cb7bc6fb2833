/*
 * The consumer group coordinator: Kafka's classic group protocol (JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup) and committed offsets (OffsetCommit, OffsetFetch), kept as
 * records in the internal compacted topic __consumer_offsets so they survive restarts.
 *
 * The request handlers (declared in broker/api/handlers.h) and the management
 * endpoint both go through this module; the functions below are what the management
 * endpoint and `strait groups` use. Loop thread only.
 */
#ifndef ST_GROUP_H
#define ST_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct st_broker st_broker;
typedef struct st_groups st_groups;
typedef struct st_loop st_loop;

/* Kafka's group states (and their names in DescribeGroups / ListGroups). */
typedef enum st_group_state {
    ST_GROUP_EMPTY,                /* "Empty" */
    ST_GROUP_PREPARING_REBALANCE,  /* "PreparingRebalance" */
    ST_GROUP_COMPLETING_REBALANCE, /* "CompletingRebalance" */
    ST_GROUP_STABLE,               /* "Stable" */
    ST_GROUP_DEAD,                 /* "Dead" */
} st_group_state;

const char *st_group_state_name(st_group_state s);

/* Opens the coordinator: creates __consumer_offsets if missing (compacted, with the
 * broker's groups.offsets_topic_partitions partitions) and loads every committed
 * offset from it. Borrows b (the shared state) and loop (the one the coordinator lives
 * on: its timers and parked requests). NULL with err on failure. */
st_groups *st_groups_open(st_broker *b, st_loop *loop, char *err, size_t errlen);
/* Answers every parked JoinGroup/SyncGroup (the broker is stopping), stops timers,
 * frees. NULL is ignored. */
void st_groups_close(st_groups *g);

/* Periodic work, from the broker's tick: every groups.offsets_retention_check_interval_ms
 * it expires committed offsets (see broker/group/expiry.c). */
void st_groups_tick(st_groups *g, int64_t now_ms);

/* Read-only views, valid only during the callback. */
typedef struct st_group_member_view {
    const char *member_id;
    const char *group_instance_id; /* NULL when not static */
    const char *client_id;
    const char *client_host;
    const uint8_t *metadata; /* the member's protocol metadata for the chosen protocol */
    size_t metadata_len;
    const uint8_t *assignment; /* what the leader assigned it (consumer protocol bytes) */
    size_t assignment_len;
} st_group_member_view;

typedef struct st_group_view {
    const char *group_id;
    st_group_state state;
    const char *protocol_type; /* "consumer" or "" */
    const char *protocol;      /* chosen assignor, "" before the first rebalance */
    int32_t generation;
    const char *leader_id; /* "" when none */
    size_t nmembers;
    const st_group_member_view *members;
} st_group_view;

typedef struct st_committed_view {
    const char *topic;
    int32_t partition;
    int64_t offset;
    const char *metadata; /* "" when none */
    int64_t commit_timestamp_ms;
} st_committed_view;

/* Every known group (members or committed offsets), in group-id order. */
void st_groups_foreach(st_groups *g, void (*fn)(void *arg, const st_group_view *v), void *arg);
/* One group, or ST_ERR_GROUP_ID_NOT_FOUND. */
int st_groups_describe(st_groups *g, const char *group_id,
                       void (*fn)(void *arg, const st_group_view *v), void *arg);
/* A group's committed offsets in (topic, partition) order, or ST_ERR_GROUP_ID_NOT_FOUND. */
int st_groups_offsets(st_groups *g, const char *group_id,
                      void (*fn)(void *arg, const st_committed_view *c), void *arg);

/* An offset to set with st_groups_set_offsets. Borrowed. */
typedef struct st_offset_set {
    const char *topic;
    int32_t partition;
    int64_t offset;
} st_offset_set;

/* Writes committed offsets as an admin (reset-offsets): refused with
 * ST_ERR_NON_EMPTY_GROUP and a message naming the members while the group has active
 * members; unknown topic/partition → UNKNOWN_TOPIC_OR_PARTITION. Durable like an
 * OffsetCommit. */
int st_groups_set_offsets(st_groups *g, const char *group_id, const st_offset_set *offsets,
                          size_t n, char *err, size_t errlen);
/* An offset a transaction committed (borrowed strings; metadata may be NULL). */
typedef struct st_txn_offset {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    const char *metadata;
} st_txn_offset;

/* Writes the offsets of a committed transaction to the group (created when missing),
 * whatever its members (txn_offsets.c). 0, or the first partition's error
 * (UNKNOWN_TOPIC_OR_PARTITION, a failed append); the others are still written. */
int st_groups_commit_txn_offsets(st_groups *g, const char *group_id, const st_txn_offset *o,
                                 size_t n);
/* DeleteGroups: only an Empty (or Dead) group; NON_EMPTY_GROUP while it has members,
 * GROUP_ID_NOT_FOUND if unknown. Writes tombstones for its offsets. */
int st_groups_delete(st_groups *g, const char *group_id, char *err, size_t errlen);

#endif
