/*
 * The transaction coordinator of a single broker (KIP-98): every transactional id is
 * ours. The rules are txn_state.c's; this file does the I/O they call for:
 *
 *  - each change of an id's state is appended to __transaction_state (partition
 *    st_kafka_partition_for(id), created on first use with as many partitions as
 *    __consumer_offsets) before the request is answered; at start the topic is read
 *    back (txn_registry.c), so a restart, kill -9 included, keeps every id, its
 *    producer id and epoch, and its open transaction;
 *  - ending a transaction writes its COMMIT or ABORT marker to each of its partitions
 *    (st_log_append_marker), then applies the offsets it committed (TxnOffsetCommit,
 *    kept here until then) to their groups, then records the completion. A Prepare
 *    state found at start or left by a failed marker write is finished by the tick;
 *  - the tick (once a second) aborts transactions open longer than their timeout,
 *    bumping the epoch so the late producer is fenced, and forgets ids idle for
 *    transactional.id.expiration.ms (7 days, Kafka's default).
 *
 * Offsets committed inside a transaction live in memory until it commits: an Ongoing
 * transaction that had offsets is aborted at start (its offsets are gone), so a
 * consume-transform-produce loop re-reads its input instead of skipping it.
 *
 * Loop thread only.
 */
#ifndef ST_TXN_COORDINATOR_H
#define ST_TXN_COORDINATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/proto/codec.h"
#include "broker/txn/txn_codec.h"
#include "broker/txn/txn_state.h"

typedef struct st_broker st_broker;
typedef struct st_txn_coord st_txn_coord;

/* Loads __transaction_state if it exists and finishes what was in progress. NULL with
 * err set on failure (out of memory, an unreadable log). */
st_txn_coord *st_txn_coord_open(st_broker *b, char *err, size_t errlen);
void st_txn_coord_close(st_txn_coord *c); /* NULL is ignored */
void st_txn_coord_tick(st_txn_coord *c, int64_t now_ms);

/* A new producer id (init_producer_id.c): 0, or -1 with why set. */
int st_broker_next_producer_id(st_broker *b, int64_t *id, char *why, size_t whylen);

/* The requests, after the handler's authorization. Each returns a Kafka error code
 * (PRODUCER_FENCED as is: the handler maps it for old versions). */
int16_t st_txn_coord_init_pid(st_txn_coord *c, st_str id, int32_t timeout_ms, int64_t pid,
                              int16_t epoch, int64_t *out_pid, int16_t *out_epoch);
/* topics[i]/partitions[i], n of them, all existing (the handler checked). */
int16_t st_txn_coord_add_partitions(st_txn_coord *c, st_str id, int64_t pid, int16_t epoch,
                                    const st_str *topics, const int32_t *partitions, int32_t n);
int16_t st_txn_coord_add_offsets(st_txn_coord *c, st_str id, int64_t pid, int16_t epoch,
                                 st_str group);
/* Keeps the offsets until the transaction ends; every partition gets the one answer. */
int16_t st_txn_coord_offset_commit(st_txn_coord *c, const st_txn_offset_commit_req *m);
int16_t st_txn_coord_end(st_txn_coord *c, st_str id, int64_t pid, int16_t epoch, bool commit);

/* For DescribeTransactions and ListTransactions: the state of id (NULL if unknown), and
 * every id's state in turn (*cursor = 0 first; NULL at the end). Borrowed: valid until
 * the coordinator next changes (no iteration may span a change). */
const st_txn_meta *st_txn_coord_find(const st_txn_coord *c, st_str id);
const st_txn_meta *st_txn_coord_next(const st_txn_coord *c, size_t *cursor);

/* OffsetFetch's require_stable (KIP-447): whether an open transaction holds an offset for
 * group's topic/partition not yet committed (the answer is then UNSTABLE_OFFSET_COMMIT
 * and the consumer asks again). Walks the pending offsets: few, and none between
 * transactions. */
bool st_txn_coord_offset_pending(const st_txn_coord *c, st_str group, st_str topic,
                                 int32_t partition);

/* Produce's check of a client's record set (len bytes, not yet validated: only batch
 * headers within bounds are read) for topic/partition under transactional id txn_id
 * (len -1: none). 0 when no batch is transactional. A transactional batch must come
 * with an id whose current producer id and epoch it carries and whose open
 * transaction holds the partition (AddPartitionsToTxn first), so a late or forged
 * batch cannot open a transaction in the partition that nobody will ever end (holding
 * read_committed readers at its first offset for ever): else INVALID_TXN_STATE (no id,
 * none open, partition not added), INVALID_PRODUCER_ID_MAPPING (another producer id)
 * or INVALID_PRODUCER_EPOCH (a fenced or aborted-by-timeout epoch). */
int16_t st_txn_coord_check_produce(st_txn_coord *c, st_str txn_id, const uint8_t *records,
                                   size_t len, st_str topic, int32_t partition);

#endif
