/*
 * Checking the records of produced batches (batch.h: st_batch_validate,
 * st_batches_validate, st_batches_prepare), and recompressing batches for topics whose
 * compression.type names a codec.
 *
 * Records are read through a small source: either the batch's own bytes (uncompressed:
 * nothing is copied) or a decompression stream refilled into one fixed 64 KiB scratch
 * buffer (compressed), so memory stays the same whatever a batch inflates to. Fields are
 * read a byte at a time with a refill when the window runs dry, so a record may straddle
 * any number of windows, and keys, values and header bytes are skipped unread (as
 * Kafka's skip-key-value iterator does). Decompression is charged to the workspace's
 * budget before it happens: a stream may never produce more than what is left of it.
 *
 * Recompression: a record's bytes do not depend on the codec (offsets and timestamps are
 * relative to the batch header, which keeps its base offset and timestamp), so a
 * recompressed batch is the same header (codec bits, length, maxTimestamp and CRC
 * updated) followed by the same records section fed through the topic's codec. For a
 * compressed source the decompressed bytes go to the compressor as they are checked:
 * one pass, one scratch buffer, and the only copy is the compressed output.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/log/batch.h"
#include "broker/log/log_int.h"
#include "common/compress.h"
#include "common/errors.h"

#define SCRATCH_SIZE     (64 * 1024)
#define MIN_RECORD_SIZE  7 /* length, attributes, timestamp, offset, key, value, headers */
#define MIN_BATCH_LENGTH (ST_BATCH_HEADER_SIZE - ST_BATCH_LOG_OVERHEAD)
/* The recompression output is kept between requests unless it grew past this. */
#define OUT_KEEP_BYTES ((size_t)8 << 20)

struct st_batch_ws {
    st_dstream *ds; /* created on first use */
    st_cstream *cs;
    uint8_t *scratch; /* SCRATCH_SIZE bytes */
    st_buf out;       /* the rewritten record set when batches are recompressed */
    size_t budget_left;
};

void st_batch_policy_init(st_batch_policy *p, int32_t max_message_bytes)
{
    *p = (st_batch_policy){
        .max_message_bytes = max_message_bytes,
        .timestamp_min = INT64_MIN,
        .timestamp_max = INT64_MAX,
        .log_append_time = false,
        .keys_required = false,
        .target_codec = ST_BATCH_CODEC_PRODUCER,
    };
}

size_t st_batch_inflate_budget(size_t record_bytes)
{
    if (record_bytes >= (ST_BATCH_INFLATE_MAX - ST_BATCH_INFLATE_FLOOR) / ST_BATCH_INFLATE_RATIO)
        return ST_BATCH_INFLATE_MAX;
    return record_bytes * ST_BATCH_INFLATE_RATIO + ST_BATCH_INFLATE_FLOOR;
}

st_batch_ws *st_batch_ws_new(void)
{
    st_batch_ws *ws = calloc(1, sizeof *ws);
    if (ws && !(ws->scratch = malloc(SCRATCH_SIZE))) {
        free(ws);
        return NULL;
    }
    if (ws)
        ws->budget_left = ST_BATCH_INFLATE_FLOOR;
    return ws;
}

void st_batch_ws_free(st_batch_ws *ws)
{
    if (!ws)
        return;
    st_dstream_free(ws->ds);
    st_cstream_free(ws->cs);
    st_buf_free(&ws->out);
    free(ws->scratch);
    free(ws);
}

void st_batch_ws_begin(st_batch_ws *ws, size_t budget)
{
    ws->budget_left = budget;
    ws->out.len = 0;
    if (ws->out.cap > OUT_KEEP_BYTES)
        st_buf_free(&ws->out);
}

/* ---- reading records from a batch or a decompression stream ---- */

typedef struct source {
    const uint8_t *p, *end; /* the window being read */
    uint64_t end_pos;       /* stream position of `end` */
    st_dstream *ds;         /* NULL: the window is everything */
    uint8_t *scratch;
    st_cstream *tee; /* NULL, or the compressor that gets every decompressed byte */
    int err;         /* sticky: why reading stopped (decompression, tee), 0 at the end */
    char reason[160];
} source;

static uint64_t pos_of(const source *s)
{
    return s->end_pos - (uint64_t)(s->end - s->p);
}

/* Next window from the stream; false at its end or on error (s->err then set). */
static bool refill(source *s)
{
    if (!s->ds || s->err)
        return false;
    char msg[128];
    ssize_t got = st_dstream_read(s->ds, s->scratch, SCRATCH_SIZE, msg, sizeof msg);
    if (got < 0) {
        s->err = ST_ERR_INVALID_RECORD;
        snprintf(s->reason, sizeof s->reason, "compressed records do not decompress: %s", msg);
        return false;
    }
    if (got == 0)
        return false;
    if (s->tee) {
        int rc = st_cstream_write(s->tee, s->scratch, (size_t)got, msg, sizeof msg);
        if (rc) {
            s->err =
                rc == ST_CSTREAM_TOO_LARGE ? ST_ERR_MESSAGE_TOO_LARGE : ST_ERR_UNKNOWN_SERVER_ERROR;
            snprintf(s->reason, sizeof s->reason, "recompressing: %s", msg);
            return false;
        }
    }
    s->p = s->scratch;
    s->end = s->scratch + got;
    s->end_pos += (uint64_t)got;
    return true;
}

static bool get_byte(source *s, uint8_t *b)
{
    if (s->p == s->end && !refill(s))
        return false;
    *b = *s->p++;
    return true;
}

/* An unsigned base-128 varint of at most max_bytes groups. */
static bool get_uvarint(source *s, int max_bytes, uint64_t *out)
{
    uint64_t v = 0;
    for (int n = 0, shift = 0; n < max_bytes; n++, shift += 7) {
        uint8_t b;
        if (!get_byte(s, &b))
            return false;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false; /* too many groups */
}

static bool get_varint(source *s, int32_t *out)
{
    uint64_t u;
    if (!get_uvarint(s, 5, &u) || u > UINT32_MAX)
        return false;
    *out = (int32_t)((int64_t)(u >> 1) ^ -(int64_t)(u & 1));
    return true;
}

static bool get_varlong(source *s, int64_t *out)
{
    uint64_t u;
    if (!get_uvarint(s, 10, &u))
        return false;
    *out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return true;
}

static bool skip(source *s, uint64_t n)
{
    while (n > 0) {
        if (s->p == s->end && !refill(s))
            return false;
        size_t avail = (size_t)(s->end - s->p);
        size_t take = n < avail ? (size_t)n : avail;
        s->p += take;
        n -= take;
    }
    return true;
}

/* A length-prefixed field that must end within the record (at body_end): a length of -1
 * is null (allowed when nullable), and the bytes are skipped. *len gets the length. */
static bool get_field(source *s, uint64_t body_end, bool nullable, int32_t *len)
{
    if (!get_varint(s, len) || pos_of(s) > body_end)
        return false;
    if (*len == -1 && nullable)
        return true;
    if (*len < 0 || (uint64_t)*len > body_end - pos_of(s))
        return false;
    return skip(s, (uint64_t)*len);
}

/* What the record walk needs to know and reports. */
typedef struct walk {
    const st_batch_info *info;
    const st_batch_policy *policy;
    int64_t max_timestamp; /* out: the records' largest timestamp, -1 if none larger */
} walk;

/* A record that does not parse: the stream's own failure when it has one (it failed
 * under the record), else the record's fault as fmt says. Returns the code. */
static int __attribute__((format(printf, 5, 6)))
bad(source *s, char *why, size_t whylen, int code, const char *fmt, ...)
{
    if (s->err) {
        snprintf(why, whylen, "%s", s->reason);
        return s->err;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return code;
}

/* Walks the batch's records: each parses, its offsetDelta is its index, its fields fill
 * its length exactly, it has a key when the topic needs one, and its timestamp is in the
 * policy's window. */
static int walk_records(source *s, walk *w, char *why, size_t whylen)
{
    const st_batch_info *info = w->info;
    const st_batch_policy *pol = w->policy;
    bool check_time = !pol->log_append_time &&
                      (pol->timestamp_min != INT64_MIN || pol->timestamp_max != INT64_MAX);
    int64_t max_timestamp = -1;
    for (int32_t i = 0; i < info->records_count; i++) {
        int32_t len, offset_delta, key_len, value_len, headers;
        int64_t timestamp_delta;
        uint8_t attributes;
        if (!get_varint(s, &len))
            return bad(s, why, whylen, ST_ERR_INVALID_RECORD,
                       "record %d of %d: its length is missing or cut off", i, info->records_count);
        if (len < MIN_RECORD_SIZE - 1)
            return bad(s, why, whylen, ST_ERR_INVALID_RECORD, "record %d has length %d", i, len);
        uint64_t body_end = pos_of(s) + (uint64_t)len;
        if (!get_byte(s, &attributes) || !get_varlong(s, &timestamp_delta) ||
            !get_varint(s, &offset_delta) || pos_of(s) > body_end)
            return bad(s, why, whylen, ST_ERR_INVALID_RECORD,
                       "record %d of %d does not parse (timestamp or offset delta)", i,
                       info->records_count);
        if (offset_delta != i)
            return bad(s, why, whylen, ST_ERR_INVALID_RECORD, "record %d has offsetDelta %d", i,
                       offset_delta);
        if (!get_field(s, body_end, true, &key_len))
            return bad(s, why, whylen, ST_ERR_INVALID_RECORD,
                       "record %d of %d does not parse (key)", i, info->records_count);
        if (key_len < 0 && pol->keys_required)
            return bad(s, why, whylen, ST_ERR_INVALID_RECORD,
                       "record %d has no key; a compacted topic accepts only keyed records", i);
        if (!get_field(s, body_end, true, &value_len) || !get_varint(s, &headers) ||
            pos_of(s) > body_end || headers < 0)
            return bad(s, why, whylen, ST_ERR_INVALID_RECORD,
                       "record %d of %d does not parse (value or header count)", i,
                       info->records_count);
        for (int32_t h = 0; h < headers; h++) {
            int32_t hk, hv;
            if (!get_field(s, body_end, false, &hk) || !get_field(s, body_end, true, &hv))
                return bad(s, why, whylen, ST_ERR_INVALID_RECORD,
                           "record %d: header %d does not parse", i, h);
        }
        if (pos_of(s) != body_end)
            return bad(s, why, whylen, ST_ERR_INVALID_RECORD,
                       "record %d: its fields end %llu bytes before its length says", i,
                       (unsigned long long)(body_end - pos_of(s)));
        int64_t timestamp = (int64_t)((uint64_t)info->base_timestamp + (uint64_t)timestamp_delta);
        if (timestamp > max_timestamp)
            max_timestamp = timestamp;
        if (check_time && timestamp != -1 &&
            (timestamp < pol->timestamp_min || timestamp > pol->timestamp_max)) {
            snprintf(why, whylen,
                     "record %d: timestamp %lld is outside [%lld, %lld] "
                     "(message.timestamp.difference.max.ms)",
                     i, (long long)timestamp, (long long)pol->timestamp_min,
                     (long long)pol->timestamp_max);
            return ST_ERR_INVALID_TIMESTAMP;
        }
    }
    w->max_timestamp = max_timestamp;
    return ST_ERR_NONE;
}

/* Makes sure ws has its decompression and compression contexts. */
static int ws_ready(st_batch_ws *ws, char *why, size_t whylen)
{
    if (!ws->ds && !(ws->ds = st_dstream_new())) {
        snprintf(why, whylen, "out of memory for a decompression stream");
        return ST_ERR_UNKNOWN_SERVER_ERROR;
    }
    if (!ws->cs && !(ws->cs = st_cstream_new())) {
        snprintf(why, whylen, "out of memory for a compression stream");
        return ST_ERR_UNKNOWN_SERVER_ERROR;
    }
    return ST_ERR_NONE;
}

/*
 * Checks one batch of exactly `size` bytes, header and records. ws is needed only for a
 * compressed batch (its budget is charged with what the batch inflates to). With tee,
 * every byte of the records section (decompressed or not) is also fed to it, in order.
 * Sets *info and *max_timestamp (the records' largest timestamp).
 */
static int check_batch(const uint8_t *p, size_t size, const st_batch_policy *pol, st_batch_ws *ws,
                       st_cstream *tee, st_batch_info *info, int64_t *max_timestamp, char *why,
                       size_t whylen)
{
    int rc = st_batch_check_header(p, size, pol->max_message_bytes, info, why, whylen);
    if (rc)
        return rc;
    if (info->attributes & ST_BATCH_ATTR_LOG_APPEND_TIME) {
        snprintf(why, whylen, "the batch says LogAppendTime: only a broker may set it");
        return ST_ERR_INVALID_TIMESTAMP;
    }
    int codec = info->attributes & ST_BATCH_ATTR_CODEC_MASK;
    size_t body = size - ST_BATCH_HEADER_SIZE;
    source s = {0};
    if (codec == ST_CODEC_NONE) {
        if ((size_t)info->records_count > body / MIN_RECORD_SIZE) {
            snprintf(why, whylen,
                     "batch says %d records but its %zu bytes of records hold at most %zu",
                     info->records_count, body, body / MIN_RECORD_SIZE);
            return ST_ERR_INVALID_RECORD;
        }
        s.p = p + ST_BATCH_HEADER_SIZE;
        s.end = p + size;
        s.end_pos = body;
    } else {
        if (codec > ST_CODEC_ZSTD) {
            snprintf(why, whylen,
                     "unknown compression codec %d (known: 1 gzip, 2 snappy, 3 lz4, 4 zstd)",
                     codec);
            return ST_ERR_INVALID_RECORD;
        }
        if ((size_t)info->records_count > ws->budget_left / MIN_RECORD_SIZE) {
            snprintf(why, whylen,
                     "batch says %d records, more than the %zu bytes it may decompress to can hold",
                     info->records_count, ws->budget_left);
            return ST_ERR_INVALID_RECORD;
        }
        char msg[128];
        if (st_dstream_start(ws->ds, codec, p + ST_BATCH_HEADER_SIZE, body, ws->budget_left, msg,
                             sizeof msg) != 0) {
            snprintf(why, whylen, "%s", msg);
            return ST_ERR_INVALID_RECORD;
        }
        s.ds = ws->ds;
        s.scratch = ws->scratch;
        s.tee = tee;
    }
    walk w = {info, pol, -1};
    rc = walk_records(&s, &w, why, whylen);
    if (rc == ST_ERR_NONE && (s.p != s.end || refill(&s)))
        rc = bad(&s, why, whylen, ST_ERR_INVALID_RECORD,
                 "%d records parsed but more bytes follow the last (batch of %zu bytes)",
                 info->records_count, size);
    if (rc == ST_ERR_NONE && s.err) /* the stream did not end cleanly after the records */
        rc = bad(&s, why, whylen, s.err, "the compressed stream did not end cleanly");
    if (codec != ST_CODEC_NONE) {
        size_t used = st_dstream_produced(ws->ds);
        ws->budget_left -= used < ws->budget_left ? used : ws->budget_left;
    }
    if (rc == ST_ERR_NONE && codec == ST_CODEC_NONE && tee) {
        char msg[128];
        int trc = st_cstream_write(tee, p + ST_BATCH_HEADER_SIZE, body, msg, sizeof msg);
        if (trc) {
            snprintf(why, whylen, "recompressing: %s", msg);
            rc = trc == ST_CSTREAM_TOO_LARGE ? ST_ERR_MESSAGE_TOO_LARGE
                                             : ST_ERR_UNKNOWN_SERVER_ERROR;
        }
    }
    *max_timestamp = w.max_timestamp;
    return rc;
}

/* Framing of a record set: the batch at pos fits in what is left. Sets *size. */
static int frame_at(const uint8_t *p, size_t len, size_t pos, int n, size_t *size, char *why,
                    size_t whylen)
{
    size_t left = len - pos;
    if (left < ST_BATCH_LOG_OVERHEAD) {
        snprintf(why, whylen, "record set ends with %zu stray bytes after batch %d", left, n);
        return ST_ERR_CORRUPT_MESSAGE;
    }
    int32_t batch_length = (int32_t)st_be32(p + pos + 8);
    if (batch_length < MIN_BATCH_LENGTH || (size_t)batch_length + ST_BATCH_LOG_OVERHEAD > left) {
        snprintf(why, whylen,
                 "batch %d at byte %zu declares batchLength %d but %zu bytes remain "
                 "(truncated or corrupt record set)",
                 n, pos, batch_length, left - ST_BATCH_LOG_OVERHEAD);
        return ST_ERR_CORRUPT_MESSAGE;
    }
    *size = (size_t)batch_length + ST_BATCH_LOG_OVERHEAD;
    return ST_ERR_NONE;
}

bool st_batches_use_codec(const uint8_t *p, size_t len, int codec)
{
    char why[8];
    size_t size;
    for (size_t pos = 0; pos < len; pos += size) {
        if (frame_at(p, len, pos, 0, &size, why, sizeof why) != ST_ERR_NONE)
            return false;
        if ((p[pos + 22] & ST_BATCH_ATTR_CODEC_MASK) == codec)
            return true;
    }
    return false;
}

int st_batch_validate(const uint8_t *p, size_t len, int32_t max_message_bytes, st_batch_info *out,
                      char *why, size_t whylen)
{
    st_batch_policy pol;
    st_batch_policy_init(&pol, max_message_bytes);
    st_batch_ws *ws = NULL;
    if (len >= ST_BATCH_HEADER_SIZE && (p[22] & ST_BATCH_ATTR_CODEC_MASK) != 0) {
        if (!(ws = st_batch_ws_new()) || ws_ready(ws, why, whylen) != ST_ERR_NONE) {
            st_batch_ws_free(ws);
            snprintf(why, whylen, "out of memory checking a compressed batch");
            return ST_ERR_UNKNOWN_SERVER_ERROR;
        }
        st_batch_ws_begin(ws, st_batch_inflate_budget(len));
    }
    st_batch_info info;
    int64_t max_timestamp;
    int rc = check_batch(p, len, &pol, ws, NULL, &info, &max_timestamp, why, whylen);
    st_batch_ws_free(ws);
    if (rc == ST_ERR_NONE && out)
        *out = info;
    return rc;
}

int st_batches_validate(const uint8_t *p, size_t len, int32_t max_message_bytes, int *nbatches,
                        int64_t *nrecords, char *why, size_t whylen)
{
    st_batch_policy pol;
    st_batch_policy_init(&pol, max_message_bytes);
    /* Const input: prepare edits only when a maxTimestamp is wrong or a batch is
     * recompressed, and this policy never recompresses; so check a private copy. */
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) {
        snprintf(why, whylen, "out of memory checking a record set of %zu bytes", len);
        return ST_ERR_UNKNOWN_SERVER_ERROR;
    }
    memcpy(copy, p, len);
    st_batches_out res;
    int rc = st_batches_prepare(copy, len, &pol, NULL, &res, why, whylen);
    free(copy);
    if (rc == ST_ERR_NONE) {
        if (nbatches)
            *nbatches = res.nbatches;
        if (nrecords)
            *nrecords = res.nrecords;
    }
    return rc;
}

/* The header edits of a batch that was checked: codec bits (when recompressed), the
 * length, the records' real maxTimestamp (CreateTime), then the CRC if anything changed. */
static void finish_header(uint8_t *h, size_t size, int codec, int64_t max_timestamp,
                          const st_batch_policy *pol)
{
    bool changed = false;
    if (codec >= 0) {
        uint16_t attributes = (uint16_t)((st_be16(h + 21) & ~ST_BATCH_ATTR_CODEC_MASK) | codec);
        st_put_be16(h + 21, attributes);
        st_put_be32(h + 8, (uint32_t)(size - ST_BATCH_LOG_OVERHEAD));
        changed = true;
    }
    /* Kafka writes the records' largest timestamp into maxTimestamp rather than trusting
     * the producer's: ListOffsets by time and retention read it. */
    if (!pol->log_append_time && (int64_t)st_be64(h + 35) != max_timestamp) {
        st_put_be64(h + 35, (uint64_t)max_timestamp);
        changed = true;
    }
    if (changed)
        st_batch_fix_crc(h, size);
}

int st_batches_prepare(uint8_t *p, size_t len, const st_batch_policy *pol, st_batch_ws *ws,
                       st_batches_out *out, char *why, size_t whylen)
{
    *out = (st_batches_out){p, len, 0, 0, 0};
    if (len == 0) {
        snprintf(why, whylen, "the record set is empty");
        return ST_ERR_INVALID_RECORD;
    }
    /* Framing first, and what the set needs: decompression, recompression. */
    bool compressed = false, rewrite = false;
    int n = 0, rc = ST_ERR_NONE;
    size_t size;
    for (size_t pos = 0; pos < len; pos += size, n++) {
        if ((rc = frame_at(p, len, pos, n, &size, why, whylen)) != ST_ERR_NONE)
            return rc;
        int codec = p[pos + 22] & ST_BATCH_ATTR_CODEC_MASK;
        compressed |= codec != ST_CODEC_NONE;
        rewrite |= pol->target_codec >= 0 && codec != pol->target_codec;
    }
    /* Kafka takes exactly one batch per partition in a v2 produce; we take more where it
     * costs nothing, but not when recompressing: one batch keeps the rewritten copy
     * within max.message.bytes. */
    if (rewrite && n > 1) {
        snprintf(why, whylen,
                 "%d batches in one record set: a topic with compression.type=%s takes one "
                 "(as Kafka takes for every produce)",
                 n,
                 pol->target_codec == ST_CODEC_NONE ? "uncompressed"
                                                    : st_codec_name(pol->target_codec));
        return ST_ERR_INVALID_RECORD;
    }
    st_batch_ws *temp = NULL;
    if (!ws && (compressed || rewrite)) {
        if (!(temp = ws = st_batch_ws_new())) {
            snprintf(why, whylen, "out of memory checking a record set");
            return ST_ERR_UNKNOWN_SERVER_ERROR;
        }
        st_batch_ws_begin(ws, st_batch_inflate_budget(len));
    }
    if (ws && (compressed || rewrite) && (rc = ws_ready(ws, why, whylen)) != ST_ERR_NONE)
        goto out;
    if (rewrite)
        ws->out.len = 0;
    size_t inflate_before = ws ? ws->budget_left : 0;
    n = 0;
    for (size_t pos = 0; pos < len; pos += size, n++) {
        frame_at(p, len, pos, n, &size, why, whylen); /* proven above */
        int codec = p[pos + 22] & ST_BATCH_ATTR_CODEC_MASK;
        bool recompress = rewrite && codec != pol->target_codec;
        size_t at = rewrite ? ws->out.len : 0;
        st_cstream *tee = NULL;
        char reason[160], msg[128];
        if (recompress) {
            /* the header first: the compressor appends the records after it */
            st_buf_append(&ws->out, p + pos, ST_BATCH_HEADER_SIZE);
            size_t limit =
                pol->max_message_bytes >= 0 ? at + (size_t)pol->max_message_bytes : SIZE_MAX;
            if (st_cstream_start(ws->cs, pol->target_codec, &ws->out, limit,
                                 codec == ST_CODEC_NONE ? size - ST_BATCH_HEADER_SIZE : 0, msg,
                                 sizeof msg) != 0) {
                snprintf(why, whylen, "batch %d: %s", n, msg);
                rc = ST_ERR_UNKNOWN_SERVER_ERROR;
                goto out;
            }
            tee = ws->cs;
        }
        st_batch_info info;
        int64_t max_timestamp;
        rc = check_batch(p + pos, size, pol, ws, tee, &info, &max_timestamp, reason, sizeof reason);
        if (rc == ST_ERR_NONE && recompress) {
            int crc = st_cstream_end(ws->cs, msg, sizeof msg);
            if (crc) {
                snprintf(reason, sizeof reason, "recompressing: %s", msg);
                rc = crc == ST_CSTREAM_TOO_LARGE ? ST_ERR_MESSAGE_TOO_LARGE
                                                 : ST_ERR_UNKNOWN_SERVER_ERROR;
            }
        }
        if (rc == ST_ERR_MESSAGE_TOO_LARGE && recompress && strstr(reason, "recompressing"))
            snprintf(reason, sizeof reason,
                     "recompressed to %s (compression.type) the batch is larger than "
                     "max.message.bytes %d",
                     st_codec_name(pol->target_codec), pol->max_message_bytes);
        if (rc != ST_ERR_NONE) {
            snprintf(why, whylen, "batch %d: %s", n, reason);
            goto out;
        }
        if (rewrite && !recompress)
            st_buf_append(&ws->out, p + pos, size);
        uint8_t *h = rewrite ? ws->out.data + at : p + pos;
        size_t new_size = rewrite ? ws->out.len - at : size;
        finish_header(h, new_size, recompress ? pol->target_codec : -1, max_timestamp, pol);
        out->nbatches++;
        out->nrecords += info.records_count;
    }
    if (rewrite) {
        out->data = ws->out.data;
        out->len = ws->out.len;
    }
    if (ws)
        out->inflated = (int64_t)(inflate_before - ws->budget_left);
out:
    st_batch_ws_free(temp);
    if (rc != ST_ERR_NONE && rewrite && ws != temp)
        ws->out.len = 0;
    return rc;
}
