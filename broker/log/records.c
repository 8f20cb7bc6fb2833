/*
 * Records inside a batch (see records.h): a bounded reader that walks the records of
 * one batch, decompressing it first when needed, and a builder that writes new
 * uncompressed batches. The cleaner uses both to rewrite batches that lost records;
 * the group coordinator uses them for its __consumer_offsets records.
 *
 * Reading never trusts the batch: every length is checked against the bytes left, and
 * a record that does not parse makes the iterator stop with CORRUPT_MESSAGE.
 */
#include "broker/log/records.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/compress.h"
#include "common/crc32c.h"
#include "common/errors.h"

/* A compressed batch may inflate as much as the append path let it: the decompression
 * budget of a request of its size (batch.h), at most ST_BATCH_INFLATE_MAX. */

static void set_err(char *err, size_t errlen, const char *fmt, const char *what, long long n)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, what, n);
}

/* ---- zigzag varints ---- */

/* Reads an unsigned base-128 varint of at most max_bytes groups; false on overrun. */
static bool get_uvarint(const uint8_t **p, const uint8_t *end, int max_bytes, uint64_t *out)
{
    uint64_t v = 0;
    const uint8_t *q = *p;
    for (int n = 0, shift = 0; n < max_bytes && q < end; n++, shift += 7) {
        uint8_t b = *q++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *p = q;
            *out = v;
            return true;
        }
    }
    return false;
}

static bool get_varlong(const uint8_t **p, const uint8_t *end, int64_t *out)
{
    uint64_t u;
    if (!get_uvarint(p, end, 10, &u))
        return false;
    *out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return true;
}

static bool get_varint(const uint8_t **p, const uint8_t *end, int32_t *out)
{
    uint64_t u;
    if (!get_uvarint(p, end, 5, &u) || u > UINT32_MAX)
        return false;
    *out = (int32_t)((int64_t)(u >> 1) ^ -(int64_t)(u & 1));
    return true;
}

/* A length-prefixed byte field; -1 is null when nullable. */
static bool get_bytes(const uint8_t **p, const uint8_t *end, bool nullable, st_bytes *out)
{
    int32_t n;
    if (!get_varint(p, end, &n))
        return false;
    if (n == -1 && nullable) {
        *out = (st_bytes){NULL, -1};
        return true;
    }
    if (n < 0 || (size_t)(end - *p) < (size_t)n)
        return false;
    *out = (st_bytes){*p, n};
    *p += n;
    return true;
}

static size_t varlong_size(int64_t v)
{
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 1;
    while (u >= 0x80) {
        u >>= 7;
        n++;
    }
    return n;
}

static void put_varlong(st_buf *b, int64_t v)
{
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    uint8_t *p = st_buf_extend(b, varlong_size(v));
    while (u >= 0x80) {
        *p++ = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    *p = (uint8_t)u;
}

/* ---- iterating ---- */

int st_records_open(st_record_iter *it, const uint8_t *batch, size_t size, char *err, size_t errlen)
{
    memset(it, 0, sizeof *it);
    if (st_batch_header(batch, size, &it->info) != ST_ERR_NONE) {
        set_err(err, errlen, "%s (%lld bytes)", "not a valid v2 record batch header",
                (long long)size);
        it->err = ST_ERR_CORRUPT_MESSAGE;
        return it->err;
    }
    if (it->info.records_count < 0) {
        set_err(err, errlen, "%s %lld", "batch has a negative record count",
                (long long)it->info.records_count);
        it->err = ST_ERR_CORRUPT_MESSAGE;
        return it->err;
    }
    const uint8_t *body = batch + ST_BATCH_HEADER_SIZE;
    size_t body_len = (size_t)it->info.size - ST_BATCH_HEADER_SIZE;
    int codec = it->info.attributes & ST_BATCH_ATTR_CODEC_MASK;
    if (codec == 0) {
        it->p = body;
        it->end = body + body_len;
    } else {
        size_t bound = st_batch_inflate_budget((size_t)it->info.size);
        size_t out_len = 0;
        char why[160];
        if (st_decompress(codec, body, body_len, bound, &it->owned, &out_len, why, sizeof why) !=
            0) {
            if (err && errlen)
                snprintf(err, errlen, "batch at offset %lld: %s", (long long)it->info.base_offset,
                         why);
            it->err = ST_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
            return it->err;
        }
        it->p = it->owned;
        it->end = it->owned + out_len;
    }
    it->left = it->info.records_count;
    it->prev_delta = -1;
    return ST_ERR_NONE;
}

/* Each record's offsetDelta must rise and stay within lastOffsetDelta. The append path
 * checks this too, but batches stored before it decompressed to check were not, and a
 * crafted one could claim a key at an offset beyond the log end and make the cleaner
 * drop that key's real latest value. */
int st_records_next(st_record_iter *it, st_record *out)
{
    if (it->err)
        return it->err;
    if (it->left <= 0 || !it->p)
        return 0;
    const uint8_t *p = it->p;
    int32_t len, offset_delta;
    int64_t timestamp_delta;
    if (!get_varint(&p, it->end, &len) || len <= 0 || (size_t)(it->end - p) < (size_t)len)
        goto bad;
    const uint8_t *end = p + len;
    p++; /* attributes: unused in v2 */
    if (!get_varlong(&p, end, &timestamp_delta) || !get_varint(&p, end, &offset_delta) ||
        offset_delta <= it->prev_delta || offset_delta > it->info.last_offset_delta ||
        !get_bytes(&p, end, true, &out->key) || !get_bytes(&p, end, true, &out->value) ||
        !get_varint(&p, end, &out->header_count) || out->header_count < 0)
        goto bad;
    const uint8_t *headers = p;
    for (int32_t i = 0; i < out->header_count; i++) {
        st_bytes hk, hv;
        if (!get_bytes(&p, end, false, &hk) || !get_bytes(&p, end, true, &hv))
            goto bad;
    }
    if (p != end)
        goto bad;
    out->headers = (st_bytes){headers, (int32_t)(end - headers)};
    out->offset = it->info.base_offset + offset_delta;
    out->timestamp = (it->info.attributes & ST_BATCH_ATTR_LOG_APPEND_TIME)
                         ? it->info.max_timestamp
                         : (int64_t)((uint64_t)it->info.base_timestamp + (uint64_t)timestamp_delta);
    it->p = end;
    it->prev_delta = offset_delta;
    it->left--;
    return 1;
bad:
    it->err = ST_ERR_CORRUPT_MESSAGE;
    return it->err;
}

void st_records_close(st_record_iter *it)
{
    free(it->owned);
    it->owned = NULL;
    it->p = it->end = NULL;
    it->left = 0;
}

/* ---- building ---- */

void st_batch_builder_init(st_batch_builder *b, st_buf *out, int64_t base_offset,
                           int64_t base_timestamp, int64_t producer_id, int16_t producer_epoch,
                           int32_t base_sequence, int16_t attributes)
{
    *b = (st_batch_builder){
        .out = out,
        .start = out->len,
        .base_offset = base_offset,
        .base_timestamp = base_timestamp,
        .max_timestamp = -1,
        .last_offset = base_offset - 1,
        .count = 0,
    };
    uint8_t *h = st_buf_extend(out, ST_BATCH_HEADER_SIZE);
    memset(h, 0, ST_BATCH_HEADER_SIZE);
    st_put_be64(h, (uint64_t)base_offset);
    st_put_be32(h + 12, (uint32_t)-1); /* partitionLeaderEpoch: the log sets it */
    h[16] = 2;                         /* magic */
    st_put_be16(h + 21, (uint16_t)(attributes & ~ST_BATCH_ATTR_CODEC_MASK));
    st_put_be64(h + 27, (uint64_t)base_timestamp);
    st_put_be64(h + 43, (uint64_t)producer_id);
    st_put_be16(h + 51, (uint16_t)producer_epoch);
    st_put_be32(h + 53, (uint32_t)base_sequence);
}

static size_t field_size(st_bytes f)
{
    return f.len < 0 ? varlong_size(-1) : varlong_size(f.len) + (size_t)f.len;
}

static void put_field(st_buf *out, st_bytes f)
{
    if (f.len < 0) {
        put_varlong(out, -1);
        return;
    }
    put_varlong(out, f.len);
    st_buf_append(out, f.ptr, (size_t)f.len);
}

void st_batch_builder_add(st_batch_builder *b, int64_t offset, int64_t timestamp, st_bytes key,
                          st_bytes value, int32_t header_count, st_bytes headers)
{
    int64_t timestamp_delta = (int64_t)((uint64_t)timestamp - (uint64_t)b->base_timestamp);
    int64_t offset_delta = offset - b->base_offset;
    size_t headers_len = headers.len > 0 ? (size_t)headers.len : 0;
    size_t body = 1 + varlong_size(timestamp_delta) + varlong_size(offset_delta) + field_size(key) +
                  field_size(value) + varlong_size(header_count) + headers_len;
    put_varlong(b->out, (int64_t)body);
    st_buf_put_i8(b->out, 0); /* record attributes */
    put_varlong(b->out, timestamp_delta);
    put_varlong(b->out, offset_delta);
    put_field(b->out, key);
    put_field(b->out, value);
    put_varlong(b->out, header_count);
    st_buf_append(b->out, headers.ptr, headers_len);
    if (timestamp > b->max_timestamp)
        b->max_timestamp = timestamp;
    b->last_offset = offset;
    b->count++;
}

size_t st_batch_builder_finish(st_batch_builder *b)
{
    if (b->count == 0) {
        b->out->len = b->start;
        return 0;
    }
    uint8_t *h = b->out->data + b->start;
    size_t size = b->out->len - b->start;
    st_put_be32(h + 8, (uint32_t)(size - ST_BATCH_LOG_OVERHEAD));
    st_put_be32(h + 23, (uint32_t)(b->last_offset - b->base_offset));
    st_put_be64(h + 35, (uint64_t)b->max_timestamp);
    st_put_be32(h + 57, (uint32_t)b->count);
    st_put_be32(h + 17, st_crc32c(0, h + 21, size - 21));
    return size;
}
