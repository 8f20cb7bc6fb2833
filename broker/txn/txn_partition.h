/*
 * What one partition knows of the transactions written to it: the open ones (a
 * producer id's first transactional offset not yet followed by its marker) and the
 * aborted ones (producer id, first offset, offset of the ABORT marker). From them come
 * the last stable offset (LSO: the first offset of the earliest open transaction, or
 * the high watermark) that bounds a read_committed Fetch, and the aborted-transactions
 * list a read_committed consumer uses to drop aborted records (Kafka's
 * ProducerStateManager ongoing transactions and the .txnindex files, in memory).
 *
 * Fed in log order with every batch (st_txn_partition_on_batch): on append, and from
 * the batch headers (and marker records) when a log is opened, so the state after a
 * crash is rebuilt from what the log holds (broker/log/log_txn.c). Pure: no I/O, no
 * clock.
 *
 * Memory: one entry per open transaction (at most one per producer id) and 24 bytes per
 * aborted transaction still in the log; st_txn_partition_trim drops the aborted ones
 * whose marker is below the log start (retention, DeleteRecords) or whose data
 * compaction removed.
 */
#ifndef ST_TXN_PARTITION_H
#define ST_TXN_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct st_txn_aborted {
    int64_t producer_id;
    int64_t first_offset;
    int64_t last_offset; /* the ABORT marker's offset */
} st_txn_aborted;

typedef struct st_txn_partition st_txn_partition;

/* NULL when out of memory. */
st_txn_partition *st_txn_partition_new(void);
void st_txn_partition_free(st_txn_partition *p); /* NULL is ignored */

/* One batch, in log order, as stored (header and records; borrowed). A transactional
 * data batch opens its producer's transaction if none is open; a control batch closes
 * it (an ABORT records it as aborted). Non-transactional batches are ignored. Returns 0,
 * ST_ERR_CORRUPT_MESSAGE (a control batch whose record is not a marker: nothing
 * changes), or -1 when out of memory. */
int st_txn_partition_on_batch(st_txn_partition *p, const uint8_t *batch, size_t size);

/* The last stable offset for a log whose high watermark is hw. */
int64_t st_txn_partition_lso(const st_txn_partition *p, int64_t high_watermark);
/* Whether producer_id has a transaction open here (and its first offset). */
bool st_txn_partition_is_open(const st_txn_partition *p, int64_t producer_id, int64_t *first);

/* The aborted transactions a read_committed Fetch of [from, upto) must name: those
 * whose marker is at or after `from` and whose first offset is before `upto`, in marker
 * order. Writes at most cap into out; returns how many there are in all. */
size_t st_txn_partition_aborted(const st_txn_partition *p, int64_t from, int64_t upto,
                                st_txn_aborted *out, size_t cap);

/* Drops the aborted transactions whose marker is before `offset`: the log start
 * (retention, DeleteRecords), or the end of the range a compaction pass rewrote, which
 * removed their data (broker/log/cleaner.c). */
void st_txn_partition_trim(st_txn_partition *p, int64_t offset);
/* How many transactions are open and how many aborted ones are kept. */
void st_txn_partition_counts(const st_txn_partition *p, size_t *open, size_t *aborted);

#endif
