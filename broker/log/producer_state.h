/*
 * Idempotent producers, per partition (private to broker/log/): for every producer id
 * that wrote to the log, its current epoch and its last ST_PRODUCER_BATCHES batches, so
 * a retried batch is recognised (answered with its original offsets, written once) and
 * a gap or a stale epoch is refused — Kafka's ProducerStateManager, without
 * transactions.
 *
 * Expiry (producer.id.expiration.ms, KIP-854). A producer that has appended nothing to
 * the partition for that long is forgotten (st_producers_expire, from the broker's tick),
 * and so is left out of the next snapshot. Idle time counts from the broker's clock at
 * the producer's last append; Kafka counts from the batch's maxTimestamp, which a
 * mirror preserving old timestamps would make expire at once. State rebuilt from the
 * log after a crash counts from the rebuild, so it never expires early.
 *
 * A producer the partition does not know (new, or expired) may start at any sequence:
 * since KIP-360 (Kafka 2.5) a broker accepts it rather than answering
 * UNKNOWN_PRODUCER_ID, and the batch becomes the producer's state. Only a known
 * producer moving to a new epoch must restart at 0.
 *
 * Restart. The state as of an offset is written to "<20-digit offset>.snapshot" beside
 * the segments at clean close and at segment roll (the newest two are kept). Open
 * loads the newest snapshot at or below the log end offset and rebuilds the rest from
 * the batch headers after it. A log that never saw a producer id has no snapshot and
 * costs nothing; the first append carrying a producer id writes an empty snapshot at
 * its offset, so "no snapshot file" reliably means "no producer state", even after
 * kill -9, and only a log whose snapshots are all unusable is scanned from its start.
 *
 * Snapshot file, big-endian:
 *
 * | off | size | field                                              |
 * |   0 |    4 | magic "STPS"                                       |
 * |   4 |    2 | version (2; 1 is read too)                         |
 * |   6 |    4 | CRC-32C of bytes 10..end                           |
 * |  10 |    8 | offset: the state is the one before this offset    |
 * |  18 |    4 | producer count                                     |
 * |  22 |    … | per producer: id int64, epoch int16, (v2) last append time int64
 * |     |      | (wall-clock ms), batch count int8, then per batch, oldest first: first
 * |     |      | seq int32, last seq int32, first offset int64, last offset int64, max
 * |     |      | timestamp int64 (32 bytes). A v1 snapshot's producers count as appended
 * |     |      | at load time. |
 *
 * Everything runs on the loop thread, under the log's calls.
 */
#ifndef ST_PRODUCER_STATE_H
#define ST_PRODUCER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/log/log.h"

struct st_producer_state;

#define ST_PRODUCER_BATCHES 5 /* Kafka's NumBatchesToRetain */
#define ST_SNAPSHOT_EXT     "snapshot"

/* st_log_open, while listing the directory: a snapshot file for `offset` exists.
 * Creates the log's producer state on the first one. 0 or -1 (out of memory). */
int st_producers_note_snapshot(st_log *log, int64_t offset);

/* st_log_open, once the segments and the end offset are known: drops snapshots beyond
 * the end (a truncated log), loads the newest usable one and rebuilds the rest from the
 * batch headers. Problems are logged, never fatal (the state is then rebuilt from the
 * log start). 0 or -1 (out of memory). */
int st_producers_load(st_log *log);

/*
 * st_log_append, after validation and before anything is written: checks every batch
 * with a producer id against the state as it would be after the batches before it.
 * Returns 0 with *has_producer telling whether any batch had a producer id; 0 with
 * res->duplicate set when every batch is a retry of one of the cached batches
 * (res->base_offset/last_offset are the originals: nothing must be written); or
 * INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER, DUPLICATE_SEQUENCE_NUMBER (a
 * mix of retried and new batches), INVALID_RECORD or KAFKA_STORAGE_ERROR (out of
 * memory) with res->why set. Makes room for new producers, so st_producers_append
 * cannot fail. Borrows records (len bytes, already validated).
 */
int st_producers_check(st_log *log, const uint8_t *records, size_t len, bool *has_producer,
                       st_append_result *res);

/* st_log_append, just before the write of a record set that has a producer id: the
 * first one ever writes the empty snapshot (see above). 0 or KAFKA_STORAGE_ERROR. */
int st_producers_before_write(st_log *log);

/* st_log_append, after the write: records the batches (offsets already assigned) as
 * appended at now_ms (wall clock). Borrows records. */
void st_producers_append(st_log *log, const uint8_t *records, size_t len, int64_t now_ms);

/* Forgets the producers whose last append is expiration_ms or more before now_ms.
 * Returns how many went. */
size_t st_producers_expire(st_log *log, int64_t now_ms, int64_t expiration_ms);

/* st_log_roll and st_log_close: writes a snapshot at the end offset if the log has
 * producers and the newest snapshot is older. `sync` fsyncs it (close with flush);
 * otherwise the next directory fsync covers the name and the CRC covers a torn file. */
void st_producers_snapshot(st_log *log, bool sync);

/* st_log_append_follower, before the write: the leader checked the sequences, so
 * nothing is refused; makes sure the state exists when a batch has a producer id.
 * 0, or KAFKA_STORAGE_ERROR (out of memory) with res->why set. */
int st_producers_follow(st_log *log, const uint8_t *records, size_t len, bool *has_producer,
                        st_append_result *res);

/* st_log_truncate_to, once the segments end at the new end offset: the state as of
 * there (snapshots beyond it deleted, the newest usable one loaded, the rest rebuilt
 * from the batches). 0 or -1 (out of memory). */
int st_producers_truncated(st_log *log);

/* Frees the state (st_log's free). NULL is ignored. */
void st_producers_free(struct st_producer_state *ps);

#endif
