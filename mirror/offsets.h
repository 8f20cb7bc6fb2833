/*
 * st_moffsets: the exact source offset → target offset mapping of one flow, kept as runs.
 *
 * Mirroring appends each source record to the same partition of the target topic, in
 * order, so consecutive source offsets usually land on consecutive target offsets: one
 * run (src_start, tgt_start, count) covers them. A new run starts when the difference
 * moves — a gap in the source (compaction, transaction markers, records skipped because
 * their origin is the target) or records on the target that did not come from this
 * source (active/active). Translation is exact for every mirrored offset, at any lag.
 *
 * Runs are persisted as records of the internal topic ST_MIRROR_OFFSETS_TOPIC on the
 * target: key "<source alias>\0<source topic>\0<partition>\0<src_start>" (decimal numbers,
 * binary-safe), value 24 bytes big-endian src_start, tgt_start, count — or 32 bytes with
 * the epoch after them, for epochs above 0. One key per run: a run that grows is written
 * again under the same key (the later record wins when loading), so the topic is
 * compacted down to one record per run.
 *
 * Epochs: a source topic deleted and recreated under the same name starts its offsets
 * at 0 again; its copy continues the same target partition after the old incarnation's
 * records. The partition's runs then start afresh in a new epoch (st_moffsets_new_epoch),
 * the old ones are dropped (they translate offsets that no longer exist), and a marker
 * record "<alias>\0<topic>\0<partition>\0e<epoch>" (value: 8 bytes, the target offset
 * where the epoch starts, its "floor") says so. Loading keeps only the highest epoch of
 * each partition.
 *
 * Translation of a consumer's committed source offset s (the next offset it would read):
 *   - s inside a run: tgt_start + (s - src_start);
 *   - s == the end of the last run (caught up to what was mirrored): the target offset
 *     right after the last mirrored record;
 *   - s between runs (a source gap): the target offset where the next run starts;
 *   - s beyond everything mirrored: the target end of the mapping, and *beyond set — the
 *     consumer read records that were never replicated (data at risk in a failover);
 *   - s before every run: not translatable (ST_ERR_OFFSET_OUT_OF_RANGE).
 *
 * Not thread-safe; the flow owns it.
 */
#ifndef ST_MIRROR_OFFSETS_H
#define ST_MIRROR_OFFSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_MIRROR_OFFSETS_TOPIC    "strait-mirror.offsets"
#define ST_MIRROR_HEARTBEATS_TOPIC "strait-mirror.heartbeats"
#define ST_MIRROR_VALUE_LEN        24
#define ST_MIRROR_VALUE_LEN_EPOCH  32

typedef struct st_moffsets st_moffsets;

typedef struct st_mrun {
    int64_t src_start, tgt_start, count;
} st_mrun;

st_moffsets *st_moffsets_new(void);
void st_moffsets_free(st_moffsets *m);

/*
 * Notes that source offset `src` of (topic, partition) was written at target offset `tgt`.
 * Calls must come in increasing src order per partition (delivery order). Extends the
 * current run or starts a new one. Marks the partition dirty for st_moffsets_take_dirty.
 */
void st_moffsets_add(st_moffsets *m, const char *topic, int32_t partition, int64_t src,
                     int64_t tgt);

/* Translates as described above. 0 with *out (and *beyond); ST_ERR_OFFSET_OUT_OF_RANGE when
 * s precedes every run; ST_ERR_UNKNOWN_TOPIC_OR_PARTITION when nothing is known. */
int st_moffsets_translate(const st_moffsets *m, const char *topic, int32_t partition, int64_t s,
                          int64_t *out, bool *beyond);

/* True when source offset s is in one of the partition's runs: the record is on the
 * target (the map holds only what the target acknowledged or a scan found there). */
bool st_moffsets_contains(const st_moffsets *m, const char *topic, int32_t partition, int64_t s);

/* The last mirrored source offset + 1 and its target offset + 1 for the partition (where a
 * restarted flow resumes): true, or false when nothing is known. */
bool st_moffsets_position(const st_moffsets *m, const char *topic, int32_t partition,
                          int64_t *next_src, int64_t *next_tgt);

/* Runs changed since the last call, for persisting: calls fn for every run of a dirty
 * partition from the first one that changed to the last (usually just the last), then
 * clears the dirty marks. */
typedef void (*st_moffsets_run_fn)(void *arg, const char *topic, int32_t partition,
                                   const st_mrun *run);
void st_moffsets_take_dirty(st_moffsets *m, st_moffsets_run_fn fn, void *arg);

/* Every partition known, with all its runs (for status and failover reports). */
typedef void (*st_moffsets_part_fn)(void *arg, const char *topic, int32_t partition,
                                    const st_mrun *runs, size_t nruns);
void st_moffsets_each(const st_moffsets *m, st_moffsets_part_fn fn, void *arg);

/* Persistence records: key and value encoding (source alias is part of the key so two
 * flows into one target never mix). encode_key returns the key length, or 0 if cap is short. */
size_t st_moffsets_encode_key(const char *source_alias, const char *topic, int32_t partition,
                              int64_t src_start, char *out, size_t cap);
void st_moffsets_encode_value(const st_mrun *run, uint8_t out[ST_MIRROR_VALUE_LEN]);
/* Loads one persisted record (a restart replays the topic): 0; 1 when the key belongs to
 * another source alias (ignored); ST_ERR__MALFORMED for a bad key or value. A record for
 * an existing run (same src_start) replaces it; runs are kept sorted. A run or marker of
 * a higher epoch than the partition's drops its runs; one of a lower epoch is ignored. */
int st_moffsets_load_record(st_moffsets *m, const char *source_alias, const void *key,
                            size_t keylen, const void *value, size_t valuelen);

/* The partition's epoch (0 until a new one starts) and its floor (the target offset where
 * it starts; -1 when unknown). */
int64_t st_moffsets_epoch(const st_moffsets *m, const char *topic, int32_t partition,
                          int64_t *floor);
/* Starts the next epoch for the partition: its runs are dropped, the floor set, and the
 * marker is reported by the next st_moffsets_take_epochs. Returns the new epoch (or -1
 * when out of memory). */
int64_t st_moffsets_new_epoch(st_moffsets *m, const char *topic, int32_t partition, int64_t floor);
/* Epochs started since the last call, for persisting their markers. */
typedef void (*st_moffsets_epoch_fn)(void *arg, const char *topic, int32_t partition, int64_t epoch,
                                     int64_t floor);
void st_moffsets_take_epochs(st_moffsets *m, st_moffsets_epoch_fn fn, void *arg);
/* Encodings for epochs above 0: a run's 32-byte value, and the marker's key and 8-byte
 * value. encode_epoch_key returns the key length, or 0 if cap is short. */
void st_moffsets_encode_value_epoch(const st_mrun *run, int64_t epoch,
                                    uint8_t out[ST_MIRROR_VALUE_LEN_EPOCH]);
size_t st_moffsets_encode_epoch_key(const char *source_alias, const char *topic, int32_t partition,
                                    int64_t epoch, char *out, size_t cap);
void st_moffsets_encode_floor(int64_t floor, uint8_t out[8]);

/* Puts a whole run in (taken from elsewhere: MirrorMaker 2's offset syncs), resolving any
 * overlap for it like a loaded record, and marks it for persisting. 0, or an error. */
int st_moffsets_put_run(st_moffsets *m, const char *topic, int32_t partition, const st_mrun *run);

/* Drops runs that end before `src_floor` for the partition (source retention moved on). */
void st_moffsets_trim(st_moffsets *m, const char *topic, int32_t partition, int64_t src_floor);

#endif
