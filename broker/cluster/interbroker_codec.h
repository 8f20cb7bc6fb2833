/*
 * The inter-broker messages of cluster mode as codecs: structs in, bytes out, and back.
 * Bodies only (the request/response header is the request pipeline's), one version per
 * API, all of them flexible (compact strings and arrays, tagged-field blocks) — the
 * versions a Kafka 2.7-era ZooKeeper-mode broker (inter.broker.protocol.version 2.7)
 * sends, before topic ids entered these messages:
 *
 *   API                      key  version  first flexible
 *   LeaderAndIsr               4     4          4
 *   StopReplica                5     3          2
 *   UpdateMetadata             6     6          6
 *   ControlledShutdown         7     3          3
 *   OffsetForLeaderEpoch      23     4          4
 *   AlterPartition (AlterIsr) 56     0          0
 *
 * Decoding borrows: strings point into the frame (st_str) and arrays live in an arena
 * the caller frees when done with the struct; the frame must outlive the struct too.
 * Every count is checked against the bytes left before anything is allocated, so a
 * hostile count costs nothing. A decoder returns 0, or ST_ERR__MALFORMED for bytes that
 * are not the message (truncated, overlong, trailing bytes).
 */
#ifndef ST_INTERBROKER_CODEC_H
#define ST_INTERBROKER_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/proto/codec.h"
#include "common/arena.h"
#include "common/buf.h"

enum {
    ST_IB_LEADER_AND_ISR_KEY = 4,
    ST_IB_LEADER_AND_ISR_VERSION = 4,
    ST_IB_STOP_REPLICA_KEY = 5,
    ST_IB_STOP_REPLICA_VERSION = 3,
    ST_IB_UPDATE_METADATA_KEY = 6,
    ST_IB_UPDATE_METADATA_VERSION = 6,
    ST_IB_CONTROLLED_SHUTDOWN_KEY = 7,
    ST_IB_CONTROLLED_SHUTDOWN_VERSION = 3,
    ST_IB_OFFSET_FOR_LEADER_EPOCH_KEY = 23,
    ST_IB_OFFSET_FOR_LEADER_EPOCH_VERSION = 4,
    ST_IB_ALTER_PARTITION_KEY = 56,
    ST_IB_ALTER_PARTITION_VERSION = 0,
};

/* Decoded arrays live in an arena (common/arena.h): everything goes at st_ib_arena_free. */
typedef st_arena st_ib_arena;
static inline void *st_ib_alloc(st_ib_arena *a, size_t size) /* zeroed; aborts on OOM */
{
    return st_arena_alloc(a, size);
}
static inline void st_ib_arena_free(st_ib_arena *a)
{
    st_arena_free(a);
}

typedef struct st_ib_ids {
    int32_t *ids; /* arena (decode) or caller's (encode) */
    int32_t n;
} st_ib_ids;

/* ---- LeaderAndIsr (4) v4 ---- */
typedef struct st_lai_partition {
    int32_t partition_index;
    int32_t controller_epoch;
    int32_t leader;
    int32_t leader_epoch;
    st_ib_ids isr;
    int32_t zk_version;
    st_ib_ids replicas, adding_replicas, removing_replicas;
    bool is_new;
} st_lai_partition;
typedef struct st_lai_topic {
    st_str name;
    st_lai_partition *partitions;
    int32_t npartitions;
} st_lai_topic;
typedef struct st_lai_leader {
    int32_t broker_id;
    st_str host;
    int32_t port;
} st_lai_leader;
typedef struct st_leader_and_isr_req {
    int32_t controller_id;
    int32_t controller_epoch;
    int64_t broker_epoch;
    st_lai_topic *topics;
    int32_t ntopics;
    st_lai_leader *live_leaders;
    int32_t nlive_leaders;
} st_leader_and_isr_req;

/* A partition's error, the shape LeaderAndIsr and StopReplica answer with. */
typedef struct st_ib_partition_error {
    st_str topic;
    int32_t partition_index;
    int16_t error_code;
} st_ib_partition_error;
typedef struct st_ib_partition_errors_resp {
    int16_t error_code;
    st_ib_partition_error *partitions;
    int32_t npartitions;
} st_ib_partition_errors_resp;

void st_leader_and_isr_req_encode(st_buf *b, const st_leader_and_isr_req *m);
int st_leader_and_isr_req_decode(st_rd *rd, st_ib_arena *a, st_leader_and_isr_req *m);
void st_leader_and_isr_resp_encode(st_buf *b, const st_ib_partition_errors_resp *m);
int st_leader_and_isr_resp_decode(st_rd *rd, st_ib_arena *a, st_ib_partition_errors_resp *m);

/* ---- StopReplica (5) v3 ---- */
typedef struct st_sr_partition {
    int32_t partition_index;
    int32_t leader_epoch; /* -1: do not check (deletion) */
    bool delete_partition;
} st_sr_partition;
typedef struct st_sr_topic {
    st_str name;
    st_sr_partition *partitions;
    int32_t npartitions;
} st_sr_topic;
typedef struct st_stop_replica_req {
    int32_t controller_id;
    int32_t controller_epoch;
    int64_t broker_epoch;
    st_sr_topic *topics;
    int32_t ntopics;
} st_stop_replica_req;

void st_stop_replica_req_encode(st_buf *b, const st_stop_replica_req *m);
int st_stop_replica_req_decode(st_rd *rd, st_ib_arena *a, st_stop_replica_req *m);
void st_stop_replica_resp_encode(st_buf *b, const st_ib_partition_errors_resp *m);
int st_stop_replica_resp_decode(st_rd *rd, st_ib_arena *a, st_ib_partition_errors_resp *m);

/* ---- UpdateMetadata (6) v6 ---- */
typedef struct st_um_partition {
    int32_t partition_index;
    int32_t controller_epoch;
    int32_t leader;
    int32_t leader_epoch;
    st_ib_ids isr;
    int32_t zk_version;
    st_ib_ids replicas, offline_replicas;
} st_um_partition;
typedef struct st_um_topic {
    st_str name;
    st_um_partition *partitions;
    int32_t npartitions;
} st_um_topic;
typedef struct st_um_endpoint {
    int32_t port;
    st_str host;
    st_str listener;
    int16_t security_protocol; /* 0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL */
} st_um_endpoint;
typedef struct st_um_broker {
    int32_t id;
    st_um_endpoint *endpoints;
    int32_t nendpoints;
    st_str rack; /* len -1: none */
} st_um_broker;
typedef struct st_update_metadata_req {
    int32_t controller_id;
    int32_t controller_epoch;
    int64_t broker_epoch;
    st_um_topic *topics;
    int32_t ntopics;
    st_um_broker *live_brokers;
    int32_t nlive_brokers;
} st_update_metadata_req;

void st_update_metadata_req_encode(st_buf *b, const st_update_metadata_req *m);
int st_update_metadata_req_decode(st_rd *rd, st_ib_arena *a, st_update_metadata_req *m);
void st_update_metadata_resp_encode(st_buf *b, int16_t error_code);
int st_update_metadata_resp_decode(st_rd *rd, int16_t *error_code);

/* ---- ControlledShutdown (7) v3 ---- */
typedef struct st_controlled_shutdown_req {
    int32_t broker_id;
    int64_t broker_epoch;
} st_controlled_shutdown_req;
typedef struct st_cs_remaining {
    st_str topic;
    int32_t partition_index;
} st_cs_remaining;
typedef struct st_controlled_shutdown_resp {
    int16_t error_code;
    st_cs_remaining *remaining; /* partitions it still leads */
    int32_t nremaining;
} st_controlled_shutdown_resp;

void st_controlled_shutdown_req_encode(st_buf *b, const st_controlled_shutdown_req *m);
int st_controlled_shutdown_req_decode(st_rd *rd, st_controlled_shutdown_req *m);
void st_controlled_shutdown_resp_encode(st_buf *b, const st_controlled_shutdown_resp *m);
int st_controlled_shutdown_resp_decode(st_rd *rd, st_ib_arena *a, st_controlled_shutdown_resp *m);

/* ---- OffsetForLeaderEpoch (23) v4 ---- */
typedef struct st_ofle_partition {
    int32_t partition;
    int32_t current_leader_epoch; /* -1: not checked */
    int32_t leader_epoch;         /* whose end offset is asked */
} st_ofle_partition;
typedef struct st_ofle_topic {
    st_str topic;
    st_ofle_partition *partitions;
    int32_t npartitions;
} st_ofle_topic;
typedef struct st_offset_for_leader_epoch_req {
    int32_t replica_id; /* -1 consumer, -2 debug, >= 0 a follower */
    st_ofle_topic *topics;
    int32_t ntopics;
} st_offset_for_leader_epoch_req;
typedef struct st_ofle_partition_result {
    int16_t error_code;
    int32_t partition;
    int32_t leader_epoch;
    int64_t end_offset;
} st_ofle_partition_result;
typedef struct st_ofle_topic_result {
    st_str topic;
    st_ofle_partition_result *partitions;
    int32_t npartitions;
} st_ofle_topic_result;
typedef struct st_offset_for_leader_epoch_resp {
    int32_t throttle_time_ms;
    st_ofle_topic_result *topics;
    int32_t ntopics;
} st_offset_for_leader_epoch_resp;

void st_offset_for_leader_epoch_req_encode(st_buf *b, const st_offset_for_leader_epoch_req *m);
int st_offset_for_leader_epoch_req_decode(st_rd *rd, st_ib_arena *a,
                                          st_offset_for_leader_epoch_req *m);
void st_offset_for_leader_epoch_resp_encode(st_buf *b, const st_offset_for_leader_epoch_resp *m);
int st_offset_for_leader_epoch_resp_decode(st_rd *rd, st_ib_arena *a,
                                           st_offset_for_leader_epoch_resp *m);

/* ---- AlterPartition (56) v0, which Kafka 2.7-3.1 called AlterIsr ---- */
typedef struct st_ap_partition {
    int32_t partition_index;
    int32_t leader_epoch;
    st_ib_ids new_isr;
    int32_t partition_epoch; /* the state znode's version (CurrentIsrVersion) */
} st_ap_partition;
typedef struct st_ap_topic {
    st_str name;
    st_ap_partition *partitions;
    int32_t npartitions;
} st_ap_topic;
typedef struct st_alter_partition_req {
    int32_t broker_id;
    int64_t broker_epoch;
    st_ap_topic *topics;
    int32_t ntopics;
} st_alter_partition_req;
typedef struct st_ap_partition_result {
    int32_t partition_index;
    int16_t error_code;
    int32_t leader_id;
    int32_t leader_epoch;
    st_ib_ids isr;
    int32_t partition_epoch;
} st_ap_partition_result;
typedef struct st_ap_topic_result {
    st_str name;
    st_ap_partition_result *partitions;
    int32_t npartitions;
} st_ap_topic_result;
typedef struct st_alter_partition_resp {
    int32_t throttle_time_ms;
    int16_t error_code;
    st_ap_topic_result *topics;
    int32_t ntopics;
} st_alter_partition_resp;

void st_alter_partition_req_encode(st_buf *b, const st_alter_partition_req *m);
int st_alter_partition_req_decode(st_rd *rd, st_ib_arena *a, st_alter_partition_req *m);
void st_alter_partition_resp_encode(st_buf *b, const st_alter_partition_resp *m);
int st_alter_partition_resp_decode(st_rd *rd, st_ib_arena *a, st_alter_partition_resp *m);

#endif
