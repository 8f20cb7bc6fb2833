/*
 * The bytes transactions leave in logs, in Kafka's formats so Kafka's tools and clients
 * read them: the records of the internal compacted topic __transaction_state (one key
 * per transactional id; the newest value is the id's state, a null value forgets it),
 * and the control records (COMMIT/ABORT markers) written to every partition of a
 * transaction when it ends. A transactional id's records go to partition
 * st_kafka_partition_for(id, partitions) (common/javahash.h), as in Kafka.
 *
 * __transaction_state (big-endian; strings int16 length + bytes; arrays int32 count,
 * -1 null; version 1 is flexible: compact strings and arrays, tagged fields):
 *
 *   key    | int16 version = 0 | string transactional_id |
 *   value  | int16 version (we write 0; 1 is read too) | int64 producer_id |
 *          | int16 producer_epoch | int32 transaction_timeout_ms | int8 status (txn_state.h) |
 *          | nullable array of: string topic, array of int32 partition |
 *          | int64 last_update_timestamp_ms | int64 start_timestamp_ms |
 *
 * Control record (the only record of a batch with the transactional and control
 * attributes, written with the producer's id and epoch and base sequence -1):
 *
 *   key    | int16 version = 0 | int16 type (0 ABORT, 1 COMMIT) |
 *   value  | int16 version = 0 | int32 coordinator_epoch |
 *
 * Decoders borrow their input and refuse (ST_ERR__MALFORMED) anything truncated, with
 * bytes left over, of an unknown version or an impossible status; counts are checked
 * against the bytes left before anything is allocated.
 */
#ifndef ST_TXN_LOG_H
#define ST_TXN_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/log/records.h"
#include "broker/proto/codec.h"
#include "broker/txn/txn_codec.h"
#include "broker/txn/txn_state.h"
#include "common/arena.h"
#include "common/buf.h"

#define ST_TXN_STATE_TOPIC "__transaction_state"

/* A decoded __transaction_state value. Topics live in the arena given to the decoder,
 * their names in the input. */
typedef struct st_txn_log_value {
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t timeout_ms;
    st_txn_status status;
    st_txn_topic_parts *topics;
    int32_t ntopics;
    int64_t last_update_ms;
    int64_t start_ms;
} st_txn_log_value;

void st_txn_log_key_encode(st_buf *b, const char *transactional_id);
/* 0 and *id (borrowed from key), or ST_ERR__MALFORMED. */
int st_txn_log_key_decode(st_bytes key, st_str *id);

/* m's state as a value: partitions grouped by topic, in the order first seen. */
void st_txn_log_value_encode(st_buf *b, const st_txn_meta *m);
int st_txn_log_value_decode(st_bytes value, st_arena *a, st_txn_log_value *out);

/* The state a loaded record stands for: a new st_txn_meta (the caller frees it), or NULL
 * when out of memory. last_producer_epoch is not kept in the record; it is -1. */
st_txn_meta *st_txn_meta_from_log(st_str id, const st_txn_log_value *v);

/* ---- control records ---- */

void st_txn_marker_key_encode(st_buf *b, bool commit);
void st_txn_marker_value_encode(st_buf *b, int32_t coordinator_epoch);
/* 0 and *commit, or ST_ERR__MALFORMED (not a COMMIT or ABORT marker of version 0). */
int st_txn_marker_key_decode(st_bytes key, bool *commit);
/* 0 and *coordinator_epoch, or ST_ERR__MALFORMED. */
int st_txn_marker_value_decode(st_bytes value, int32_t *coordinator_epoch);

/* Appends to out a control batch for the end of producer_id/epoch's transaction at
 * base_offset (the log rewrites it on append), stamped now_ms. Returns its size. */
size_t st_txn_marker_batch(st_buf *out, int64_t base_offset, int64_t now_ms, int64_t producer_id,
                           int16_t producer_epoch, bool commit, int32_t coordinator_epoch);

#endif
