/*
 * libFuzzer harness for the record batch checks: the bytes a producer controls
 * completely, checked before anything is written to disk. Each input is a record set
 * as it appears in a Produce request; the seeds (make_seeds batches) include batches
 * compressed with every codec, so the decompressors and the streamed record walk are
 * reached from the start.
 *
 * Besides "never crash, never read outside the input, never use unbounded memory"
 * (-rss_limit_mb), it checks invariants of what is accepted:
 *  - st_batches_validate accepts → every batch passes st_batch_intact (what recovery
 *    checks), since whatever we append must survive a restart;
 *  - recompressing an accepted set into each codec (what compression.type does) gives a
 *    set that validates again, with the same batches and records, and whose records
 *    section decompresses to exactly the original's (a set of several batches may be
 *    refused instead: one batch per set when recompressing, as Kafka);
 *  - the other policies (keys required, a timestamp window) never crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/log/batch.h"
#include "common/buf.h"
#include "common/compress.h"
#include "common/crc32c.h"
#include "common/errors.h"

#define MAX_MSG 1048588

/* The records section of the batch at p (size bytes), decompressed: a new buffer.
 * set_len is the size of the whole record set (its decompression budget). */
static uint8_t *records_of(const uint8_t *p, size_t size, size_t set_len, size_t *len)
{
    int codec = p[22] & ST_BATCH_ATTR_CODEC_MASK;
    uint8_t *out = NULL;
    char err[200];
    if (codec == 0) {
        *len = size - ST_BATCH_HEADER_SIZE;
        out = malloc(*len ? *len : 1);
        if (out)
            memcpy(out, p + ST_BATCH_HEADER_SIZE, *len);
        return out;
    }
    if (st_decompress(codec, p + ST_BATCH_HEADER_SIZE, size - ST_BATCH_HEADER_SIZE,
                      st_batch_inflate_budget(set_len), &out, len, err, sizeof err) != 0)
        abort(); /* it validated, so it decompresses */
    return out;
}

static void check_recompressed(const uint8_t *orig, size_t len, int nbatches, int64_t nrecords,
                               st_batch_ws *ws)
{
    uint8_t *copy = malloc(len);
    if (!copy)
        return;
    for (int codec = 0; codec <= ST_CODEC_ZSTD; codec++) {
        memcpy(copy, orig, len);
        st_batch_policy pol;
        st_batch_policy_init(&pol, -1); /* no size limit: recompression may grow a batch */
        pol.target_codec = codec;
        st_batches_out out;
        char why[256];
        st_batch_ws_begin(ws, st_batch_inflate_budget(len));
        int rc = st_batches_prepare(copy, len, &pol, ws, &out, why, sizeof why);
        if (nbatches > 1) {
            /* one batch per record set when recompressing (as Kafka); unless none of
             * them needs it */
            if (rc != 0 && rc != ST_ERR_INVALID_RECORD)
                abort();
            if (rc != 0)
                continue;
        } else if (rc != 0) {
            abort(); /* validated once, so recompressing cannot fail */
        }
        int n2 = 0;
        int64_t r2 = 0;
        if (out.nbatches != nbatches || out.nrecords != nrecords ||
            st_batches_validate(out.data, out.len, -1, &n2, &r2, why, sizeof why) != 0 ||
            n2 != nbatches || r2 != nrecords)
            abort();
        /* batch by batch: the target codec, the same records */
        for (size_t a = 0, b = 0; a < len && b < out.len;) {
            st_batch_info ia, ib;
            if (st_batch_header(orig + a, len - a, &ia) != 0 ||
                st_batch_header(out.data + b, out.len - b, &ib) != 0 ||
                (ib.attributes & ST_BATCH_ATTR_CODEC_MASK) != codec ||
                ia.records_count != ib.records_count || ia.producer_id != ib.producer_id)
                abort();
            size_t la, lb;
            uint8_t *ra = records_of(orig + a, (size_t)ia.size, len, &la);
            uint8_t *rb = records_of(out.data + b, (size_t)ib.size, len, &lb);
            if (ra && rb && (la != lb || memcmp(ra, rb, la) != 0))
                abort();
            free(ra);
            free(rb);
            a += (size_t)ia.size;
            b += (size_t)ib.size;
        }
    }
    free(copy);
}

/* Every check on one record set of exactly `size` bytes (a private heap copy, so ASan
 * flags a read even one byte past its end). */
static void check_set(const uint8_t *data, size_t size, st_batch_ws *ws)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return;
    if (size) /* data may be NULL then */
        memcpy(copy, data, size);

    int nbatches = 0;
    int64_t nrecords = 0;
    char why[256];
    int rc = st_batches_validate(copy, size, MAX_MSG, &nbatches, &nrecords, why, sizeof why);
    st_batch_intact(copy, size);

    if (rc == 0) {
        /* Not assert(): release builds define NDEBUG, and this is what we fuzz for. */
        if (nbatches < 1 || nrecords < nbatches)
            abort();
        for (size_t pos = 0; pos < size;) {
            st_batch_info info;
            if (st_batch_header(copy + pos, size - pos, &info) != 0 ||
                !st_batch_intact(copy + pos, (size_t)info.size))
                abort();
            pos += (size_t)info.size;
        }
        check_recompressed(copy, size, nbatches, nrecords, ws);
    }

    /* The stricter policies: they may refuse, never crash. */
    st_batch_policy pol;
    st_batch_policy_init(&pol, MAX_MSG);
    pol.keys_required = true;
    pol.timestamp_min = 1600000000000;
    pol.timestamp_max = 1800000000000;
    st_batches_out out;
    if (size)
        memcpy(copy, data, size);
    st_batch_ws_begin(ws, st_batch_inflate_budget(size));
    st_batches_prepare(copy, size, &pol, ws, &out, why, sizeof why);
    free(copy);
}

/* Recomputes the CRC-32C of every batch of the set that frames (in place). */
static void fix_crcs(uint8_t *p, size_t size)
{
    for (size_t pos = 0; size - pos >= ST_BATCH_HEADER_SIZE;) {
        size_t len = (size_t)st_be32(p + pos + 8) + ST_BATCH_LOG_OVERHEAD;
        if (len < ST_BATCH_HEADER_SIZE || len > size - pos)
            return;
        st_put_be32(p + pos + 17, st_crc32c(0, p + pos + 21, len - 21));
        pos += len;
    }
}

/*
 * A mutated batch almost never keeps a valid CRC-32C, and the CRC is checked first: on
 * the input alone, the record walk and the decompressors would only ever see the seeds
 * unchanged. So each input is checked three ways: as it is (framing, header and CRC
 * paths), with its batches' CRCs recomputed (the record walk over mutated records and
 * mutated compressed bytes), and, when it is one uncompressed batch, with its records
 * section compressed by the codec its partitionLeaderEpoch's low byte picks (the
 * streamed walk over mutated records behind every decompressor).
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static st_batch_ws *ws;
    static st_cstream *cs;
    if (!ws && !(ws = st_batch_ws_new()))
        return 0;
    if (!cs && !(cs = st_cstream_new()))
        return 0;
    check_set(data, size, ws);

    if (size < ST_BATCH_HEADER_SIZE)
        return 0;
    st_buf fixed = ST_BUF_INIT;
    st_buf_append(&fixed, data, size);
    fix_crcs(fixed.data, fixed.len);
    if (memcmp(fixed.data, data, size) != 0)
        check_set(fixed.data, fixed.len, ws);

    size_t len = (size_t)st_be32(data + 8) + ST_BATCH_LOG_OVERHEAD;
    if (len == size && (data[22] & ST_BATCH_ATTR_CODEC_MASK) == 0) {
        int codec = 1 + data[15] % 4;
        st_buf comp = ST_BUF_INIT;
        char err[200];
        st_buf_append(&comp, data, ST_BATCH_HEADER_SIZE);
        if (st_cstream_start(cs, codec, &comp, SIZE_MAX, 0, err, sizeof err) == 0 &&
            st_cstream_write(cs, data + ST_BATCH_HEADER_SIZE, size - ST_BATCH_HEADER_SIZE, err,
                             sizeof err) == 0 &&
            st_cstream_end(cs, err, sizeof err) == 0) {
            st_put_be32(comp.data + 8, (uint32_t)(comp.len - ST_BATCH_LOG_OVERHEAD));
            comp.data[22] = (uint8_t)((comp.data[22] & ~ST_BATCH_ATTR_CODEC_MASK) | codec);
            fix_crcs(comp.data, comp.len);
            check_set(comp.data, comp.len, ws);
        }
        st_buf_free(&comp);
    }
    st_buf_free(&fixed);
    return 0;
}
