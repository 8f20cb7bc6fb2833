/*
 * The transaction coordinator's state of one transactional id, and the rules of the
 * protocol (KIP-98, with KIP-360's producer-id recovery and KIP-588's PRODUCER_FENCED)
 * as pure functions: no I/O, no clock, no broker. The coordinator (coordinator.c: it
 * persists each change to __transaction_state before it answers, and writes the
 * markers) asks these functions what a request does to the state, so every rule is
 * tested alone.
 *
 * States (the numbers are Kafka's TransactionStatus in __transaction_state):
 *
 *            InitProducerId                 AddPartitions / AddOffsets
 *   (new) ----------------> Empty(0) ------------------------------> Ongoing(1)
 *                             ^  ^                                    |  |  |
 *     InitProducerId (epoch+1)|  |                 EndTxn(commit)     |  |  | InitProducerId
 *        +--------------------+  |          +-------------------------+  |  | or timeout:
 *        |                       |          v                            |  | epoch+1
 *   CompleteCommit(4) <-- PrepareCommit(2)         EndTxn(abort)         |  v
 *   CompleteAbort(5)  <-- PrepareAbort(3) <------------------------------+  PrepareEpochFence(7)
 *        |   markers written          ^--------------------------------------+
 *        +--> Ongoing (AddPartitions: the next transaction)
 *   Empty / Complete* --(idle longer than transactional.id.expiration.ms)--> Dead(6)
 *
 * The Prepare states last while the markers are written to the transaction's
 * partitions; requests that would change the state meanwhile get CONCURRENT_TRANSACTIONS
 * (retriable), as Kafka answers them. A PrepareEpochFence is only ever an instant on the
 * way to PrepareAbort here (the bumped epoch is what fences the old producer), so
 * st_txn_fence goes straight to PrepareAbort with the epoch bumped.
 *
 * Errors are Kafka codes; ST_ERR_PRODUCER_FENCED goes through st_txn_fenced_error
 * (txn_codec.h) before it reaches an old client.
 */
#ifndef ST_TXN_STATE_H
#define ST_TXN_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/proto/codec.h"

typedef enum st_txn_status {
    ST_TXN_EMPTY = 0,
    ST_TXN_ONGOING = 1,
    ST_TXN_PREPARE_COMMIT = 2,
    ST_TXN_PREPARE_ABORT = 3,
    ST_TXN_COMPLETE_COMMIT = 4,
    ST_TXN_COMPLETE_ABORT = 5,
    ST_TXN_DEAD = 6,
    ST_TXN_PREPARE_EPOCH_FENCE = 7,
} st_txn_status;
#define ST_TXN_STATUS_COUNT 8

/* The coordinator's limits (broker settings). */
typedef struct st_txn_limits {
    int32_t max_timeout_ms;   /* transaction.max.timeout.ms (Kafka: 900000) */
    int64_t id_expiration_ms; /* transactional.id.expiration.ms (Kafka: 7 days) */
    int32_t max_partitions;   /* partitions one transaction may hold (hostile bound) */
} st_txn_limits;

typedef struct st_txn_tp {
    char *topic; /* owned */
    int32_t partition;
} st_txn_tp;

typedef struct st_txn_meta {
    char *transactional_id; /* owned, NUL-terminated */
    int64_t producer_id;
    int16_t producer_epoch;      /* -1 until the first InitProducerId */
    int16_t last_producer_epoch; /* the epoch before the last bump (KIP-360 retries), or -1 */
    int32_t timeout_ms;
    st_txn_status status;
    st_txn_tp *partitions; /* owned: the transaction's partitions, no duplicates */
    int32_t npartitions, cap;
    int64_t start_ms;       /* when the transaction began (first AddPartitions), or -1 */
    int64_t last_update_ms; /* when the state last changed */
} st_txn_meta;

/* "Empty", "Ongoing", "PrepareCommit", ... as DescribeTransactions and ListTransactions
 * name them; "Unknown" outside the enum. Static. */
const char *st_txn_status_name(int status);
/* The status a name stands for (exact, case-sensitive as Kafka's); false if none. */
bool st_txn_status_from_name(st_str name, st_txn_status *out);
/* Whether Kafka allows a transaction to go from `from` to `to`. */
bool st_txn_transition_valid(st_txn_status from, st_txn_status to);

/* A new id's state (Empty, epoch -1, no partitions) for producer id pid; copies id.
 * Returns NULL when out of memory. The caller frees it with st_txn_meta_free. */
st_txn_meta *st_txn_meta_new(const char *id, size_t idlen, int64_t producer_id, int64_t now_ms);
void st_txn_meta_free(st_txn_meta *m);
/* Whether the transaction holds topic/partition. */
bool st_txn_has_partition(const st_txn_meta *m, st_str topic, int32_t partition);

/* ---- the requests ---- */

/* What InitProducerId does to an existing id. */
typedef enum st_txn_init_action {
    ST_TXN_INIT_ANSWER,      /* answer with error (0: m's producer id and epoch) */
    ST_TXN_INIT_NEW_PID,     /* the epoch is exhausted: give m a new producer id via
                              * st_txn_meta_new_pid, then answer it with epoch 0 */
    ST_TXN_INIT_ABORT_FIRST, /* m was Ongoing: it is now PrepareAbort at a bumped epoch
                              * (fencing the old producer); write abort markers, complete,
                              * and answer CONCURRENT_TRANSACTIONS (the client retries) */
} st_txn_init_action;

/* InitProducerId for an id that has state m (a new id: st_txn_meta_new first). `pid`
 * and `epoch` are the request's v3+ fields (-1 before v3, or a new producer). On
 * ST_TXN_INIT_ANSWER with 0, m is Empty at its new epoch with the new timeout. Errors:
 * INVALID_TRANSACTION_TIMEOUT, CONCURRENT_TRANSACTIONS (a Prepare state),
 * PRODUCER_FENCED (a v3+ caller whose id and epoch are neither the current ones nor the
 * ones just before the last bump: a zombie). A v3+ caller that names the epoch before
 * the last bump is retrying an InitProducerId whose answer it lost: it gets the current
 * id and epoch again, with no second bump. Nothing changes on error. */
st_txn_init_action st_txn_init_pid(st_txn_meta *m, const st_txn_limits *lim, int32_t timeout_ms,
                                   int64_t pid, int16_t epoch, int64_t now_ms, int16_t *error);
/* Gives m a new producer id at epoch 0 (after ST_TXN_INIT_NEW_PID). */
void st_txn_meta_new_pid(st_txn_meta *m, int64_t producer_id, int64_t now_ms);

/* The checks AddPartitionsToTxn, AddOffsetsToTxn and EndTxn share: the caller's id and
 * epoch against m's. 0, INVALID_PRODUCER_ID_MAPPING, or PRODUCER_FENCED. */
int16_t st_txn_check_producer(const st_txn_meta *m, int64_t pid, int16_t epoch);

/* AddPartitionsToTxn / AddOffsetsToTxn: adds the partitions (n of them, topic names
 * borrowed) and makes m Ongoing (start_ms set when it begins). *added is how many were
 * new (0: nothing to persist). Errors: those of st_txn_check_producer,
 * CONCURRENT_TRANSACTIONS in a Prepare state, INVALID_TXN_STATE when Dead or too many
 * partitions (lim->max_partitions). Nothing changes on error. */
int16_t st_txn_add_partitions(st_txn_meta *m, const st_txn_limits *lim, int64_t pid, int16_t epoch,
                              const st_str *topics, const int32_t *partitions, int32_t n,
                              int64_t now_ms, int32_t *added);

/* EndTxn. On 0 with *write_markers, m is PrepareCommit or PrepareAbort: persist, write
 * the markers to m's partitions, then st_txn_complete. On 0 without, the request is a
 * retry of a transaction already completed the same way (nothing to do). Errors: those
 * of st_txn_check_producer, CONCURRENT_TRANSACTIONS (the same end in progress),
 * INVALID_TXN_STATE (nothing to end, or the other end done or in progress). */
int16_t st_txn_end(st_txn_meta *m, int64_t pid, int16_t epoch, bool commit, int64_t now_ms,
                   bool *write_markers);

/* The markers are written: PrepareCommit -> CompleteCommit, PrepareAbort ->
 * CompleteAbort; the partitions are cleared. Asserts m is in a Prepare state. */
void st_txn_complete(st_txn_meta *m, int64_t now_ms);

/* ---- the coordinator's timers ---- */

/* Whether m is Ongoing for longer than its timeout. */
bool st_txn_timed_out(const st_txn_meta *m, int64_t now_ms);
/* Aborts an Ongoing transaction on the coordinator's own authority (its timeout, or a
 * new InitProducerId): the epoch is bumped, so the old producer is fenced, and m is
 * PrepareAbort. *needs_new_pid when the epoch is exhausted (the abort then goes on at
 * the last epoch; the next InitProducerId gives a new id). Asserts m is Ongoing. */
void st_txn_fence(st_txn_meta *m, int64_t now_ms, bool *needs_new_pid);
/* Whether m may be forgotten: Empty or Complete*, idle for longer than the limit. */
bool st_txn_expired(const st_txn_meta *m, const st_txn_limits *lim, int64_t now_ms);

#endif
