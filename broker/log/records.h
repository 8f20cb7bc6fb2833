/*
 * Records inside a batch: iterating them (decompressing when the batch is compressed)
 * and building new uncompressed batches. The cleaner (compaction) and the group
 * coordinator (its __consumer_offsets records) use these; the produce path checks
 * batches with batch_check.c's streaming walk instead, and fetch never looks inside.
 *
 * The byte layout of batches and records is in batch.h.
 */
#ifndef ST_RECORDS_H
#define ST_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/log/batch.h"
#include "common/buf.h"

/* Bytes borrowed from the batch (or from the iterator's decompression buffer); len -1
 * means null. Valid until the next st_records_next or st_records_close. */
typedef struct st_bytes {
    const uint8_t *ptr;
    int32_t len;
} st_bytes;

typedef struct st_record {
    int64_t offset;    /* absolute: baseOffset + offsetDelta */
    int64_t timestamp; /* absolute: baseTimestamp + timestampDelta (or the batch's
                        * maxTimestamp when the batch has LogAppendTime) */
    st_bytes key;
    st_bytes value;
    int32_t header_count;
    st_bytes headers; /* the raw encoded headers (header_count of them), to copy as-is */
} st_record;

typedef struct st_record_iter {
    st_batch_info info; /* the batch's header */
    const uint8_t *p;   /* next record */
    const uint8_t *end; /* end of the records */
    int32_t left;       /* records not yet returned */
    int32_t prev_delta; /* offsetDelta of the record last returned, -1 before the first */
    uint8_t *owned;     /* decompressed records, freed by close */
    int err;            /* sticky: CORRUPT_MESSAGE once a record did not parse */
} st_record_iter;

/* Starts iterating the batch at `batch` (`size` bytes, a whole stored batch),
 * decompressing gzip, snappy (raw or xerial-framed), lz4 (frame) or zstd when needed.
 * Returns 0, ST_ERR_CORRUPT_MESSAGE (bad header, CRC not checked here) or
 * ST_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT (unknown codec, or the data does not
 * decompress), with a reason in err. Close the iterator in every case. */
int st_records_open(st_record_iter *it, const uint8_t *batch, size_t size, char *err,
                    size_t errlen);
/* 1 with *out filled, 0 at the end, or a negative/wire error code when a record does
 * not parse (it->err is then set). */
int st_records_next(st_record_iter *it, st_record *out);
void st_records_close(st_record_iter *it);

/* Builds one uncompressed v2 batch. Usage: init, add records in offset order, finish. */
typedef struct st_batch_builder {
    st_buf *out;  /* borrowed: the batch is appended here */
    size_t start; /* where the batch begins in out */
    int64_t base_offset;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t last_offset;
    int32_t count;
} st_batch_builder;

/* Begins a batch at out->len. producer_id -1 / epoch -1 / sequence -1 when the batch
 * has no producer; attributes may carry LogAppendTime or transactional bits but never a
 * codec (the builder writes uncompressed records). */
void st_batch_builder_init(st_batch_builder *b, st_buf *out, int64_t base_offset,
                           int64_t base_timestamp, int64_t producer_id, int16_t producer_epoch,
                           int32_t base_sequence, int16_t attributes);
/* Adds a record; offset must be >= base_offset and above the previous one (gaps are
 * fine: compaction leaves them). headers are raw encoded headers, as in st_record. */
void st_batch_builder_add(st_batch_builder *b, int64_t offset, int64_t timestamp, st_bytes key,
                          st_bytes value, int32_t header_count, st_bytes headers);
/* Writes lastOffsetDelta, maxTimestamp, count, length and the CRC. Returns the batch's
 * size in bytes (0 if no record was added: then nothing is left in out). */
size_t st_batch_builder_finish(st_batch_builder *b);

#endif
