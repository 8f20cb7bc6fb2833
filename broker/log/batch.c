/*
 * RecordBatch v2 validation and the in-place edits done on append (format in batch.h).
 *
 * The header of a produced batch is checked here; its records are walked in
 * batch_check.c. Stored batches are read back here too (recovery's intact check, the
 * time lookup of ListOffsets), with a private zigzag varint reader (broker/proto has its
 * own; the log does not depend on it).
 */
#include "broker/log/batch.h"

#include <stdio.h>
#include <string.h>

#include "broker/log/log_int.h"
#include "common/crc32c.h"
#include "common/errors.h"

#define MAGIC_V2 2
/* batchLength counts from partitionLeaderEpoch (offset 12) to the end. */
#define MIN_BATCH_LENGTH (ST_BATCH_HEADER_SIZE - ST_BATCH_LOG_OVERHEAD)

/* A bounded reader over one batch's records. Any overrun sets `bad` and later reads
 * return 0, so callers check once per record rather than after every field. */
typedef struct reader {
    const uint8_t *p, *end;
    bool bad;
} reader;

static uint64_t read_uvarint(reader *r, int max_bytes)
{
    uint64_t v = 0;
    for (int shift = 0, n = 0; n < max_bytes; n++, shift += 7) {
        if (r->p >= r->end)
            break;
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = true; /* ran out of bytes or more than max_bytes groups */
    return 0;
}

static int64_t read_varlong(reader *r)
{
    uint64_t u = read_uvarint(r, 10);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static int32_t read_varint(reader *r)
{
    uint64_t u = read_uvarint(r, 5);
    if (u > UINT32_MAX) {
        r->bad = true;
        return 0;
    }
    return (int32_t)((int64_t)(u >> 1) ^ -(int64_t)(u & 1));
}

/* Skips a length-prefixed field; null (-1) allowed only when nullable. */
static void skip_bytes(reader *r, bool nullable)
{
    int32_t n = read_varint(r);
    if (r->bad)
        return;
    if (n == -1 && nullable)
        return;
    if (n < 0 || (size_t)(r->end - r->p) < (size_t)n) {
        r->bad = true;
        return;
    }
    r->p += n;
}

/* Walks one record; sets *timestamp_delta and *offset_delta. False when it does not
 * parse or does not fill its declared length exactly. */
static bool read_record(reader *r, int64_t *timestamp_delta, int32_t *offset_delta)
{
    int32_t len = read_varint(r);
    if (r->bad || len <= 0 || (size_t)(r->end - r->p) < (size_t)len)
        return false;
    reader body = {r->p, r->p + len, false};
    r->p += len;
    if (body.p >= body.end)
        return false;
    body.p++; /* attributes: unused in v2 */
    *timestamp_delta = read_varlong(&body);
    *offset_delta = read_varint(&body);
    skip_bytes(&body, true); /* key */
    skip_bytes(&body, true); /* value */
    int32_t headers = read_varint(&body);
    if (body.bad || headers < 0)
        return false;
    for (int32_t i = 0; i < headers && !body.bad; i++) {
        skip_bytes(&body, false); /* header key: never null */
        skip_bytes(&body, true);  /* header value */
    }
    return !body.bad && body.p == body.end;
}

int st_batch_parse_header(const uint8_t *p, st_batch_info *out)
{
    int32_t batch_length = (int32_t)st_be32(p + 8);
    if (p[16] != MAGIC_V2 || batch_length < MIN_BATCH_LENGTH ||
        batch_length > INT32_MAX - ST_BATCH_LOG_OVERHEAD)
        return ST_ERR_CORRUPT_MESSAGE;
    out->base_offset = (int64_t)st_be64(p);
    out->size = batch_length + ST_BATCH_LOG_OVERHEAD;
    out->partition_leader_epoch = (int32_t)st_be32(p + 12);
    out->attributes = (int16_t)(p[21] << 8 | p[22]);
    out->last_offset_delta = (int32_t)st_be32(p + 23);
    out->base_timestamp = (int64_t)st_be64(p + 27);
    out->max_timestamp = (int64_t)st_be64(p + 35);
    out->producer_id = (int64_t)st_be64(p + 43);
    out->producer_epoch = (int16_t)(p[51] << 8 | p[52]);
    out->base_sequence = (int32_t)st_be32(p + 53);
    out->records_count = (int32_t)st_be32(p + 57);
    return ST_ERR_NONE;
}

int st_batch_header(const uint8_t *p, size_t avail, st_batch_info *out)
{
    if (avail < ST_BATCH_HEADER_SIZE)
        return ST_ERR_CORRUPT_MESSAGE;
    if (st_batch_parse_header(p, out) != ST_ERR_NONE || (size_t)out->size > avail)
        return ST_ERR_CORRUPT_MESSAGE;
    return ST_ERR_NONE;
}

static uint32_t batch_crc(const uint8_t *p, size_t size)
{
    return st_crc32c(0, p + 21, size - 21);
}

int st_batch_check_header(const uint8_t *p, size_t len, int32_t max_message_bytes,
                          st_batch_info *out, char *why, size_t whylen)
{
    st_batch_info info;
    if (len < ST_BATCH_HEADER_SIZE) {
        snprintf(why, whylen, "batch of %zu bytes is shorter than the %d-byte header", len,
                 ST_BATCH_HEADER_SIZE);
        return ST_ERR_CORRUPT_MESSAGE;
    }
    if (p[16] != MAGIC_V2) {
        snprintf(why, whylen, "batch has magic %d; only record batch v2 (magic 2) is accepted",
                 p[16]);
        return ST_ERR_CORRUPT_MESSAGE;
    }
    if (st_batch_header(p, len, &info) != ST_ERR_NONE || (size_t)info.size != len) {
        snprintf(why, whylen, "batchLength %d does not match the %zu bytes of the batch",
                 (int32_t)st_be32(p + 8), len);
        return ST_ERR_CORRUPT_MESSAGE;
    }
    if (max_message_bytes >= 0 && info.size > max_message_bytes) {
        snprintf(why, whylen, "batch of %d bytes exceeds max.message.bytes %d", info.size,
                 max_message_bytes);
        return ST_ERR_MESSAGE_TOO_LARGE;
    }
    uint32_t stored = st_be32(p + 17), computed = batch_crc(p, len);
    if (stored != computed) {
        snprintf(why, whylen, "batch CRC is 0x%08x but its bytes give 0x%08x", stored, computed);
        return ST_ERR_CORRUPT_MESSAGE;
    }
    if (info.base_offset != 0) {
        snprintf(why, whylen, "batch baseOffset is %lld; a producer must send 0",
                 (long long)info.base_offset);
        return ST_ERR_INVALID_RECORD;
    }
    if (info.records_count <= 0 || info.last_offset_delta != info.records_count - 1) {
        snprintf(why, whylen, "batch says %d records but lastOffsetDelta is %d", info.records_count,
                 info.last_offset_delta);
        return ST_ERR_INVALID_RECORD;
    }
    if (info.attributes & ST_BATCH_ATTR_CONTROL) {
        snprintf(why, whylen, "control batches cannot be produced by clients");
        return ST_ERR_INVALID_RECORD;
    }
    if (info.producer_id >= 0 && info.base_sequence < 0) {
        snprintf(why, whylen, "producer id %lld sent a negative base sequence %d",
                 (long long)info.producer_id, info.base_sequence);
        return ST_ERR_INVALID_RECORD;
    }
    *out = info;
    return ST_ERR_NONE;
}

void st_batch_fix_crc(uint8_t *p, size_t size)
{
    st_put_be32(p + 17, batch_crc(p, size));
}

bool st_batch_intact(const uint8_t *p, size_t size)
{
    st_batch_info info;
    if (st_batch_header(p, size, &info) != ST_ERR_NONE || (size_t)info.size != size)
        return false;
    return st_be32(p + 17) == batch_crc(p, size);
}

void st_batch_set_base_offset(uint8_t *p, int64_t base_offset)
{
    st_put_be64(p, (uint64_t)base_offset);
}

void st_batch_set_leader_epoch(uint8_t *p, int32_t epoch)
{
    st_put_be32(p + 12, (uint32_t)epoch);
}

void st_batch_set_log_append_time(uint8_t *p, size_t size, int64_t now_ms)
{
    uint16_t attributes = (uint16_t)(p[21] << 8 | p[22]) | ST_BATCH_ATTR_LOG_APPEND_TIME;
    p[21] = (uint8_t)(attributes >> 8);
    p[22] = (uint8_t)attributes;
    st_put_be64(p + 35, (uint64_t)now_ms);
    st_put_be32(p + 17, batch_crc(p, size));
}

void st_batch_find_time(const uint8_t *p, size_t size, int64_t ts, int32_t *offset_delta,
                        int64_t *timestamp)
{
    st_batch_info info;
    *offset_delta = 0;
    *timestamp = -1;
    if (st_batch_header(p, size, &info) != ST_ERR_NONE)
        return;
    *timestamp = info.max_timestamp;
    if ((info.attributes & (ST_BATCH_ATTR_CODEC_MASK | ST_BATCH_ATTR_LOG_APPEND_TIME)) != 0)
        return;
    reader r = {p + ST_BATCH_HEADER_SIZE, p + info.size, false};
    for (int32_t i = 0; i < info.records_count; i++) {
        int64_t timestamp_delta;
        int32_t delta;
        if (!read_record(&r, &timestamp_delta, &delta))
            return; /* stored batches were validated; fall back to the batch answer */
        if (info.base_timestamp + timestamp_delta >= ts) {
            *offset_delta = delta;
            *timestamp = info.base_timestamp + timestamp_delta;
            return;
        }
    }
}
