/*
 * The transaction APIs (KIP-98, KIP-664) as codecs: structs in, bytes out, and back.
 * Bodies only (the request/response header is the request pipeline's). Every decoder
 * takes the version the header named and serves the whole range below; an encoder
 * writes exactly the fields of that version (fields a version lacks are not written and
 * read back as their defaults).
 *
 *   API                     key  versions  first flexible  what clients send
 *   InitProducerId           22    0-4          2          librdkafka 2.0.2: 0-4 (3+ with
 *                                                          its current id and epoch when
 *                                                          recovering); kafkajs 2.2.4: 0-1
 *   AddPartitionsToTxn       24    0-3          3          librdkafka: 0; kafkajs: 0-1
 *   AddOffsetsToTxn          25    0-3          3          librdkafka: 0; kafkajs: 0-1
 *   EndTxn                   26    0-3          3          librdkafka: 0-1; kafkajs: 0-1
 *   WriteTxnMarkers          27    0-1          1          brokers (cluster mode)
 *   TxnOffsetCommit          28    0-3          3          librdkafka: 0-3; kafkajs: 0-1
 *   DescribeTransactions     65    0            0          admin clients (Kafka 3.0+)
 *   ListTransactions         66    0            0          admin clients (Kafka 3.0+)
 *
 * Version differences: InitProducerId v3 adds the producer's current id and epoch
 * (KIP-360), v4 only allows PRODUCER_FENCED; AddPartitionsToTxn, AddOffsetsToTxn and
 * EndTxn v2 only allow PRODUCER_FENCED (an older client gets INVALID_PRODUCER_EPOCH
 * instead: st_txn_fenced_error); TxnOffsetCommit v2 adds each partition's leader epoch,
 * v3 the member's generation, member id and group instance id (KIP-447).
 *
 * Decoding borrows: strings point into the frame (st_str) and arrays live in an arena
 * the caller frees when done with the struct; the frame must outlive the struct too.
 * Every count is checked against the bytes left before anything is allocated, so a
 * hostile count costs nothing. A non-nullable string sent as null, bytes left over, or
 * anything truncated is ST_ERR__MALFORMED; a version outside the range above is
 * ST_ERR_UNSUPPORTED_VERSION. A null array where Kafka allows none reads as empty.
 */
#ifndef ST_TXN_CODEC_H
#define ST_TXN_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/proto/codec.h"
#include "common/arena.h"
#include "common/buf.h"

enum {
    ST_API_INIT_PRODUCER_ID = 22,
    ST_API_ADD_PARTITIONS_TO_TXN = 24,
    ST_API_ADD_OFFSETS_TO_TXN = 25,
    ST_API_END_TXN = 26,
    ST_API_WRITE_TXN_MARKERS = 27,
    ST_API_TXN_OFFSET_COMMIT = 28,
    ST_API_DESCRIBE_TRANSACTIONS = 65,
    ST_API_LIST_TRANSACTIONS = 66,
};

/* One row per API: the versions this codec serves (the API table in broker/proto/api.c
 * advertises the ones with a handler). */
typedef struct st_txn_api_range {
    int16_t key;
    int16_t min_version, max_version, first_flexible;
    const char *name;
} st_txn_api_range;
#define ST_TXN_API_COUNT 8
extern const st_txn_api_range st_txn_api_ranges[ST_TXN_API_COUNT];
/* The row for key, or NULL. */
const st_txn_api_range *st_txn_api_range_of(int16_t key);

/* PRODUCER_FENCED as the client of this API version understands it: versions before
 * the one that introduced it (InitProducerId 4, AddPartitionsToTxn/AddOffsetsToTxn/
 * EndTxn 2) get INVALID_PRODUCER_EPOCH, as Kafka answers them. Other codes pass. */
int16_t st_txn_fenced_error(int16_t api_key, int16_t version, int16_t error_code);

/* A topic and some of its partitions (AddPartitionsToTxn, WriteTxnMarkers,
 * DescribeTransactions). */
typedef struct st_txn_topic_parts {
    st_str name;
    int32_t *partitions; /* arena (decode) or caller's (encode) */
    int32_t npartitions;
} st_txn_topic_parts;

/* A partition's error and a topic's partition errors (AddPartitionsToTxn,
 * WriteTxnMarkers, TxnOffsetCommit answers). */
typedef struct st_txn_partition_error {
    int32_t partition;
    int16_t error_code;
} st_txn_partition_error;
typedef struct st_txn_topic_errors {
    st_str name;
    st_txn_partition_error *partitions;
    int32_t npartitions;
} st_txn_topic_errors;

/* Throttle time and one error: AddOffsetsToTxn and EndTxn answers. */
typedef struct st_txn_simple_resp {
    int32_t throttle_time_ms;
    int16_t error_code;
} st_txn_simple_resp;

/* ---- InitProducerId (22) ---- */
typedef struct st_init_pid_req {
    st_str transactional_id; /* nullable: null for an idempotent producer */
    int32_t transaction_timeout_ms;
    int64_t producer_id;    /* v3+; -1 otherwise */
    int16_t producer_epoch; /* v3+; -1 otherwise */
} st_init_pid_req;
typedef struct st_init_pid_resp {
    int32_t throttle_time_ms;
    int16_t error_code;
    int64_t producer_id;
    int16_t producer_epoch;
} st_init_pid_resp;
void st_init_pid_req_encode(st_buf *b, int16_t version, const st_init_pid_req *m);
int st_init_pid_req_decode(st_rd *rd, int16_t version, st_init_pid_req *m);
void st_init_pid_resp_encode(st_buf *b, int16_t version, const st_init_pid_resp *m);
int st_init_pid_resp_decode(st_rd *rd, int16_t version, st_init_pid_resp *m);

/* ---- AddPartitionsToTxn (24) ---- */
typedef struct st_add_partitions_req {
    st_str transactional_id;
    int64_t producer_id;
    int16_t producer_epoch;
    st_txn_topic_parts *topics;
    int32_t ntopics;
} st_add_partitions_req;
typedef struct st_add_partitions_resp {
    int32_t throttle_time_ms;
    st_txn_topic_errors *topics;
    int32_t ntopics;
} st_add_partitions_resp;
void st_add_partitions_req_encode(st_buf *b, int16_t version, const st_add_partitions_req *m);
int st_add_partitions_req_decode(st_rd *rd, int16_t version, st_arena *a, st_add_partitions_req *m);
void st_add_partitions_resp_encode(st_buf *b, int16_t version, const st_add_partitions_resp *m);
int st_add_partitions_resp_decode(st_rd *rd, int16_t version, st_arena *a,
                                  st_add_partitions_resp *m);

/* ---- AddOffsetsToTxn (25) ---- */
typedef struct st_add_offsets_req {
    st_str transactional_id;
    int64_t producer_id;
    int16_t producer_epoch;
    st_str group_id;
} st_add_offsets_req;
void st_add_offsets_req_encode(st_buf *b, int16_t version, const st_add_offsets_req *m);
int st_add_offsets_req_decode(st_rd *rd, int16_t version, st_add_offsets_req *m);
void st_add_offsets_resp_encode(st_buf *b, int16_t version, const st_txn_simple_resp *m);
int st_add_offsets_resp_decode(st_rd *rd, int16_t version, st_txn_simple_resp *m);

/* ---- EndTxn (26) ---- */
typedef struct st_end_txn_req {
    st_str transactional_id;
    int64_t producer_id;
    int16_t producer_epoch;
    bool committed; /* false: abort */
} st_end_txn_req;
void st_end_txn_req_encode(st_buf *b, int16_t version, const st_end_txn_req *m);
int st_end_txn_req_decode(st_rd *rd, int16_t version, st_end_txn_req *m);
void st_end_txn_resp_encode(st_buf *b, int16_t version, const st_txn_simple_resp *m);
int st_end_txn_resp_decode(st_rd *rd, int16_t version, st_txn_simple_resp *m);

/* ---- WriteTxnMarkers (27) ---- */
typedef struct st_wtm_marker {
    int64_t producer_id;
    int16_t producer_epoch;
    bool committed; /* the transaction's result: true COMMIT, false ABORT */
    st_txn_topic_parts *topics;
    int32_t ntopics;
    int32_t coordinator_epoch;
} st_wtm_marker;
typedef struct st_write_txn_markers_req {
    st_wtm_marker *markers;
    int32_t nmarkers;
} st_write_txn_markers_req;
typedef struct st_wtm_marker_result {
    int64_t producer_id;
    st_txn_topic_errors *topics;
    int32_t ntopics;
} st_wtm_marker_result;
typedef struct st_write_txn_markers_resp {
    st_wtm_marker_result *markers;
    int32_t nmarkers;
} st_write_txn_markers_resp;
void st_write_txn_markers_req_encode(st_buf *b, int16_t version, const st_write_txn_markers_req *m);
int st_write_txn_markers_req_decode(st_rd *rd, int16_t version, st_arena *a,
                                    st_write_txn_markers_req *m);
void st_write_txn_markers_resp_encode(st_buf *b, int16_t version,
                                      const st_write_txn_markers_resp *m);
int st_write_txn_markers_resp_decode(st_rd *rd, int16_t version, st_arena *a,
                                     st_write_txn_markers_resp *m);

/* ---- TxnOffsetCommit (28) ---- */
typedef struct st_toc_partition {
    int32_t partition;
    int64_t committed_offset;
    int32_t committed_leader_epoch; /* v2+; -1 otherwise */
    st_str committed_metadata;      /* nullable */
} st_toc_partition;
typedef struct st_toc_topic {
    st_str name;
    st_toc_partition *partitions;
    int32_t npartitions;
} st_toc_topic;
typedef struct st_txn_offset_commit_req {
    st_str transactional_id;
    st_str group_id;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t generation_id;    /* v3+; -1 otherwise */
    st_str member_id;         /* v3+; "" otherwise */
    st_str group_instance_id; /* v3+, nullable; null otherwise */
    st_toc_topic *topics;
    int32_t ntopics;
} st_txn_offset_commit_req;
typedef struct st_txn_offset_commit_resp {
    int32_t throttle_time_ms;
    st_txn_topic_errors *topics;
    int32_t ntopics;
} st_txn_offset_commit_resp;
void st_txn_offset_commit_req_encode(st_buf *b, int16_t version, const st_txn_offset_commit_req *m);
int st_txn_offset_commit_req_decode(st_rd *rd, int16_t version, st_arena *a,
                                    st_txn_offset_commit_req *m);
void st_txn_offset_commit_resp_encode(st_buf *b, int16_t version,
                                      const st_txn_offset_commit_resp *m);
int st_txn_offset_commit_resp_decode(st_rd *rd, int16_t version, st_arena *a,
                                     st_txn_offset_commit_resp *m);

/* ---- DescribeTransactions (65) v0 ---- */
typedef struct st_describe_txns_req {
    st_str *transactional_ids;
    int32_t nids;
} st_describe_txns_req;
typedef struct st_describe_txn_state {
    int16_t error_code;
    st_str transactional_id;
    st_str state; /* "Ongoing", "PrepareCommit", ... (st_txn_state_name) */
    int32_t transaction_timeout_ms;
    int64_t transaction_start_time_ms;
    int64_t producer_id;
    int16_t producer_epoch;
    st_txn_topic_parts *topics;
    int32_t ntopics;
} st_describe_txn_state;
typedef struct st_describe_txns_resp {
    int32_t throttle_time_ms;
    st_describe_txn_state *states;
    int32_t nstates;
} st_describe_txns_resp;
void st_describe_txns_req_encode(st_buf *b, int16_t version, const st_describe_txns_req *m);
int st_describe_txns_req_decode(st_rd *rd, int16_t version, st_arena *a, st_describe_txns_req *m);
void st_describe_txns_resp_encode(st_buf *b, int16_t version, const st_describe_txns_resp *m);
int st_describe_txns_resp_decode(st_rd *rd, int16_t version, st_arena *a, st_describe_txns_resp *m);

/* ---- ListTransactions (66) v0 ---- */
typedef struct st_list_txns_req {
    st_str *state_filters;
    int32_t nstate_filters;
    int64_t *producer_id_filters;
    int32_t nproducer_id_filters;
} st_list_txns_req;
typedef struct st_list_txn_state {
    st_str transactional_id;
    int64_t producer_id;
    st_str state;
} st_list_txn_state;
typedef struct st_list_txns_resp {
    int32_t throttle_time_ms;
    int16_t error_code;
    st_str *unknown_state_filters;
    int32_t nunknown_state_filters;
    st_list_txn_state *states;
    int32_t nstates;
} st_list_txns_resp;
void st_list_txns_req_encode(st_buf *b, int16_t version, const st_list_txns_req *m);
int st_list_txns_req_decode(st_rd *rd, int16_t version, st_arena *a, st_list_txns_req *m);
void st_list_txns_resp_encode(st_buf *b, int16_t version, const st_list_txns_resp *m);
int st_list_txns_resp_decode(st_rd *rd, int16_t version, st_arena *a, st_list_txns_resp *m);

#endif
