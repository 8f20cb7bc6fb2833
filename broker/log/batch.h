/*
 * RecordBatch v2: the unit stored in segment files, exactly as a producer sent it
 * (after the broker writes baseOffset and partitionLeaderEpoch, which lie outside the
 * CRC). This header owns the format.
 *
 * | off | size | field                | CRC-covered |
 * |   0 |    8 | baseOffset           | no  |
 * |   8 |    4 | batchLength (after this field) | no |
 * |  12 |    4 | partitionLeaderEpoch | no  |
 * |  16 |    1 | magic (2)            | no  |
 * |  17 |    4 | crc (CRC-32C of bytes 21..end) | — |
 * |  21 |    2 | attributes: 0-2 codec, 3 LogAppendTime, 4 transactional, 5 control | yes |
 * |  23 |    4 | lastOffsetDelta      | yes |
 * |  27 |    8 | baseTimestamp        | yes |
 * |  35 |    8 | maxTimestamp         | yes |
 * |  43 |    8 | producerId (-1 none) | yes |
 * |  51 |    2 | producerEpoch        | yes |
 * |  53 |    4 | baseSequence         | yes |
 * |  57 |    4 | recordsCount         | yes |
 * |  61 |    … | records (one compressed block if codec != 0) | yes |
 *
 * A record: length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
 * key (varint length, -1 null), value (same), header count varint, then per header a
 * key (varint length + bytes) and a value (varint length, -1 null).
 */
#ifndef ST_BATCH_H
#define ST_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_BATCH_HEADER_SIZE          61
#define ST_BATCH_LOG_OVERHEAD         12 /* baseOffset + batchLength */
#define ST_BATCH_ATTR_CODEC_MASK      0x07
#define ST_BATCH_ATTR_LOG_APPEND_TIME 0x08
#define ST_BATCH_ATTR_TRANSACTIONAL   0x10
#define ST_BATCH_ATTR_CONTROL         0x20

typedef struct st_batch_info {
    int64_t base_offset;
    int32_t size; /* whole batch in bytes: batchLength + 12 */
    int32_t partition_leader_epoch;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t records_count;
} st_batch_info;

/* Reads the fixed header of the batch at p (avail bytes readable). Checks the magic
 * byte and that batchLength is at least the header and fits in `avail`. Does not check
 * the CRC. Returns 0 (ST_ERR_NONE) or ST_ERR_CORRUPT_MESSAGE. */
int st_batch_header(const uint8_t *p, size_t avail, st_batch_info *out);

/* What a topic asks of the batches produced to it, beyond the format itself. */
typedef struct st_batch_policy {
    int32_t max_message_bytes; /* a batch larger (as produced, and again as recompressed)
                                * → MESSAGE_TOO_LARGE; negative: no limit */
    int64_t timestamp_min;     /* CreateTime topics: every record timestamp other than -1
                                * must lie in [min, max], else INVALID_TIMESTAMP */
    int64_t timestamp_max;     /* (INT64_MIN / INT64_MAX: no check) */
    bool log_append_time;      /* the topic stamps batches itself: record times unchecked */
    bool keys_required;        /* compacted topic: a record without a key → INVALID_RECORD */
    int target_codec;          /* compression.type: ST_BATCH_CODEC_PRODUCER keeps each
                                * batch's codec; 0..4 recompresses batches into it */
} st_batch_policy;

#define ST_BATCH_CODEC_PRODUCER (-1)

/* A policy that checks only the format and max_message_bytes (no timestamps, keys or
 * recompression). */
void st_batch_policy_init(st_batch_policy *p, int32_t max_message_bytes);

/*
 * How much decompression one produce request may cause, in bytes: 256 times its record
 * bytes plus 32 MiB, and never more than 256 MiB. A compressed batch that inflates past
 * what is left of it is refused (INVALID_RECORD), so a decompression bomb costs the
 * loop thread a bounded amount of work (memory is bounded regardless: decompression
 * streams through a fixed buffer). 256 is above lz4's largest possible ratio (255), so
 * lz4 data is refused only past the 256 MiB ceiling. The ceiling is what keeps one
 * request's stall bounded: without it a 100 MiB request of gzip bombs would hold the
 * loop for tens of seconds (25 GiB to inflate). It is what a 1 MiB request (the
 * clients' default max.request.size) gets anyway, and the cleaner's bound
 * (records.c), so every batch the append accepts can be compacted. Kafka sets no
 * limit; docs/security.md.
 */
#define ST_BATCH_INFLATE_RATIO 256
#define ST_BATCH_INFLATE_FLOOR ((size_t)32 << 20)
#define ST_BATCH_INFLATE_MAX   ((size_t)256 << 20)
size_t st_batch_inflate_budget(size_t record_bytes);

/* Codec contexts, a scratch buffer and the recompression output for checking batches,
 * reused from one request to the next; one per thread that appends. */
typedef struct st_batch_ws st_batch_ws;
st_batch_ws *st_batch_ws_new(void); /* NULL when out of memory */
void st_batch_ws_free(st_batch_ws *ws);
/* Starts a request: sets its decompression budget (st_batch_inflate_budget) and drops
 * the previous request's output if it grew large. */
void st_batch_ws_begin(st_batch_ws *ws, size_t budget);

/* Full validation of one batch that a client produced (len = its exact size):
 * header, CRC-32C, baseOffset 0, lastOffsetDelta + 1 == recordsCount > 0, a record count
 * the bytes can hold, not a control batch, a producer id's sequence not negative, and
 * every record — decompressed first when the batch is compressed, in a bounded stream —
 * parses, has offsetDelta equal to its index, and the records fill the batch (or its
 * decompressed form) exactly. Size over max_message_bytes → MESSAGE_TOO_LARGE. Returns
 * a wire error code and, on failure, a human reason in `why`. Never reads outside
 * [p, p+len). */
int st_batch_validate(const uint8_t *p, size_t len, int32_t max_message_bytes, st_batch_info *out,
                      char *why, size_t whylen);

/* Validates a whole record set (one or more batches back to back, as in a Produce
 * request's records field). On success *nbatches and *nrecords count what it holds. */
int st_batches_validate(const uint8_t *p, size_t len, int32_t max_message_bytes, int *nbatches,
                        int64_t *nrecords, char *why, size_t whylen);

/* What st_batches_prepare made of a record set. */
typedef struct st_batches_out {
    uint8_t *data; /* the record set to append: the input (edited in place) or, when
                    * batches were recompressed, the workspace's buffer (valid until the
                    * next use of the workspace) */
    size_t len;
    int nbatches;
    int64_t nrecords;
    int64_t inflated; /* bytes decompressed while checking (charged to the budget) */
} st_batches_out;

/*
 * The append path's check of a produced record set: st_batches_validate's checks under
 * `policy` (timestamps, keys), then the edits Kafka makes: a CreateTime batch whose
 * maxTimestamp is not its records' largest gets the right one (and a new CRC), and when
 * the topic's codec differs from a batch's, the batch is recompressed into it (same
 * records byte for byte, same producer fields). ws may be NULL (a temporary one is
 * used, with the budget of this record set alone). On error nothing is changed but
 * possibly maxTimestamp fields of batches already checked; the caller appends nothing.
 */
int st_batches_prepare(uint8_t *p, size_t len, const st_batch_policy *policy, st_batch_ws *ws,
                       st_batches_out *out, char *why, size_t whylen);

/* True if any batch of the record set at p (len bytes; stops at the first bad header)
 * uses `codec`. Produce uses it to refuse zstd below version 7, as Kafka does. */
bool st_batches_use_codec(const uint8_t *p, size_t len, int codec);

/* True if the stored batch at p (size bytes, as found in a segment) has a valid header
 * and CRC: what recovery checks. */
bool st_batch_intact(const uint8_t *p, size_t size);

/* In-place edits done on append. Offsets and epoch lie outside the CRC; the
 * LogAppendTime edit changes covered fields and so recomputes the CRC. */
void st_batch_set_base_offset(uint8_t *p, int64_t base_offset);
void st_batch_set_leader_epoch(uint8_t *p, int32_t epoch);
void st_batch_set_log_append_time(uint8_t *p, size_t size, int64_t now_ms);

#endif
