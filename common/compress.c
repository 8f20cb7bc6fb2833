/*
 * Decompression of record-batch payloads (see compress.h) over zlib, snappy, lz4 and
 * zstd. Every codec writes into one growing buffer whose capacity never exceeds
 * max_out + 1 bytes: producing that extra byte is how a bomb is recognised, so no codec
 * ever allocates more than the caller allowed, whatever the input claims.
 */
#include "common/compress.h"

#include <lz4frame.h>
#include <snappy-c.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

enum { CODEC_GZIP = 1, CODEC_SNAPPY = 2, CODEC_LZ4 = 3, CODEC_ZSTD = 4 };

/* The output under construction. */
typedef struct outbuf {
    uint8_t *data;
    size_t len, cap;
    size_t limit; /* max_out + 1: reaching it means the input inflates too far */
} outbuf;

/* Makes room for at least one more byte, doubling up to the limit. False when the
 * limit is reached or memory runs out (*nomem says which). */
static bool grow(outbuf *o, bool *nomem)
{
    *nomem = false;
    if (o->len < o->cap)
        return true;
    if (o->cap >= o->limit)
        return false;
    size_t cap = o->cap ? o->cap * 2 : 4096;
    if (cap > o->limit || cap < o->cap)
        cap = o->limit;
    uint8_t *p = realloc(o->data, cap);
    if (!p) {
        *nomem = true;
        return false;
    }
    o->data = p;
    o->cap = cap;
    return true;
}

/* Reports a full buffer: out of memory, or past max_out. */
static int full(const outbuf *o, bool nomem, const char *codec, char *err, size_t errlen)
{
    if (nomem)
        snprintf(err, errlen, "%s: out of memory decompressing", codec);
    else
        snprintf(err, errlen, "%s: data decompresses to more than %zu bytes; refused", codec,
                 o->limit - 1);
    return -1;
}

static int do_gzip(const uint8_t *in, size_t n, outbuf *o, char *err, size_t errlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 32: any window, and detect a gzip or zlib header automatically */
    if (inflateInit2(&z, 15 + 32) != Z_OK) {
        snprintf(err, errlen, "gzip: cannot initialise zlib");
        return -1;
    }
    int rc = -1;
    z.next_in = (Bytef *)in;
    for (;;) {
        bool nomem;
        if (!grow(o, &nomem)) {
            full(o, nomem, "gzip", err, errlen);
            break;
        }
        size_t in_left = n - (size_t)((const uint8_t *)z.next_in - in);
        z.avail_in = in_left > UINT32_MAX ? UINT32_MAX : (uInt)in_left;
        size_t room = o->cap - o->len;
        z.next_out = o->data + o->len;
        z.avail_out = room > UINT32_MAX ? UINT32_MAX : (uInt)room;
        int zr = inflate(&z, Z_NO_FLUSH);
        o->len = (size_t)(z.next_out - o->data);
        if (zr == Z_STREAM_END) {
            /* Java's GZIPInputStream reads concatenated members; so do we */
            if ((const uint8_t *)z.next_in < in + n && inflateReset(&z) == Z_OK)
                continue;
            rc = 0;
            break;
        }
        if (zr == Z_BUF_ERROR && z.avail_out != 0) {
            snprintf(err, errlen, "gzip: data is truncated");
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            snprintf(err, errlen, "gzip: %s", z.msg ? z.msg : "corrupt data");
            break;
        }
    }
    inflateEnd(&z);
    return rc;
}

/* One raw snappy block appended to o. */
static int snappy_block(const uint8_t *in, size_t n, outbuf *o, char *err, size_t errlen)
{
    size_t len;
    if (snappy_uncompressed_length((const char *)in, n, &len) != SNAPPY_OK) {
        snprintf(err, errlen, "snappy: corrupt block header");
        return -1;
    }
    if (len >= o->limit - o->len) {
        o->len = o->limit; /* make the message say what the limit was */
        return full(o, false, "snappy", err, errlen);
    }
    if (o->len + len > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + len)
            cap = cap * 2 > o->limit ? o->limit : cap * 2;
        uint8_t *p = realloc(o->data, cap);
        if (!p)
            return full(o, true, "snappy", err, errlen);
        o->data = p;
        o->cap = cap;
    }
    size_t got = len;
    if (snappy_uncompress((const char *)in, n, (char *)o->data + o->len, &got) != SNAPPY_OK ||
        got != len) {
        snprintf(err, errlen, "snappy: corrupt data");
        return -1;
    }
    o->len += got;
    return 0;
}

static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Raw snappy, or the xerial framing the Java client writes: the magic, version and
 * compatible-version int32s, then blocks of (int32 length, raw snappy block). */
static int do_snappy(const uint8_t *in, size_t n, outbuf *o, char *err, size_t errlen)
{
    if (n < 16 || memcmp(in, xerial_magic, sizeof xerial_magic) != 0)
        return snappy_block(in, n, o, err, errlen);
    size_t pos = 16;
    while (pos < n) {
        if (n - pos < 4) {
            snprintf(err, errlen, "snappy: xerial block length cut off at byte %zu", pos);
            return -1;
        }
        uint32_t len = be32(in + pos);
        pos += 4;
        if (len > n - pos) {
            snprintf(err, errlen, "snappy: xerial block of %u bytes but only %zu remain", len,
                     n - pos);
            return -1;
        }
        if (snappy_block(in + pos, len, o, err, errlen) != 0)
            return -1;
        pos += len;
    }
    return 0;
}

static int do_lz4(const uint8_t *in, size_t n, outbuf *o, char *err, size_t errlen)
{
    LZ4F_dctx *ctx;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) {
        snprintf(err, errlen, "lz4: cannot create a decompression context");
        return -1;
    }
    int rc = -1;
    size_t pos = 0;
    for (;;) {
        bool nomem;
        if (!grow(o, &nomem)) {
            full(o, nomem, "lz4", err, errlen);
            break;
        }
        size_t out_size = o->cap - o->len, in_size = n - pos;
        size_t hint = LZ4F_decompress(ctx, o->data + o->len, &out_size, in + pos, &in_size, NULL);
        if (LZ4F_isError(hint)) {
            snprintf(err, errlen, "lz4: %s", LZ4F_getErrorName(hint));
            break;
        }
        o->len += out_size;
        pos += in_size;
        if (hint == 0) { /* frame complete */
            if (pos < n) {
                LZ4F_resetDecompressionContext(ctx);
                continue; /* another frame follows */
            }
            rc = 0;
            break;
        }
        if (pos >= n && out_size == 0) {
            snprintf(err, errlen, "lz4: frame is truncated");
            break;
        }
    }
    LZ4F_freeDecompressionContext(ctx);
    return rc;
}

static int do_zstd(const uint8_t *in, size_t n, outbuf *o, char *err, size_t errlen)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    if (!ds) {
        snprintf(err, errlen, "zstd: cannot create a decompression stream");
        return -1;
    }
    int rc = -1;
    ZSTD_inBuffer ib = {in, n, 0};
    size_t last = 1;
    for (;;) {
        bool nomem;
        if (!grow(o, &nomem)) {
            full(o, nomem, "zstd", err, errlen);
            break;
        }
        ZSTD_outBuffer ob = {o->data, o->cap, o->len};
        last = ZSTD_decompressStream(ds, &ob, &ib);
        if (ZSTD_isError(last)) {
            snprintf(err, errlen, "zstd: %s", ZSTD_getErrorName(last));
            break;
        }
        bool progressed = ob.pos > o->len;
        o->len = ob.pos;
        if (last == 0 && ib.pos == ib.size) {
            rc = 0;
            break;
        }
        if (ib.pos == ib.size && !progressed && o->len < o->cap) {
            snprintf(err, errlen, "zstd: frame is truncated");
            break;
        }
    }
    ZSTD_freeDStream(ds);
    return rc;
}

int st_decompress(int codec, const uint8_t *in, size_t n, size_t max_out, uint8_t **out,
                  size_t *outlen, char *err, size_t errlen)
{
    *out = NULL;
    *outlen = 0;
    outbuf o = {NULL, 0, 0, max_out == SIZE_MAX ? SIZE_MAX : max_out + 1};
    int rc;
    switch (codec) {
    case CODEC_GZIP:
        rc = do_gzip(in, n, &o, err, errlen);
        break;
    case CODEC_SNAPPY:
        rc = do_snappy(in, n, &o, err, errlen);
        break;
    case CODEC_LZ4:
        rc = do_lz4(in, n, &o, err, errlen);
        break;
    case CODEC_ZSTD:
        rc = do_zstd(in, n, &o, err, errlen);
        break;
    default:
        snprintf(err, errlen,
                 "unknown compression codec %d (known: 1 gzip, 2 snappy, 3 lz4, "
                 "4 zstd)",
                 codec);
        rc = -1;
    }
    if (rc == 0 && o.len > max_out)
        rc = full(&o, false, "decompression", err, errlen);
    if (rc != 0) {
        free(o.data);
        return -1;
    }
    if (!o.data) /* empty output: still hand back a buffer the caller can free */
        o.data = malloc(1);
    if (!o.data) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *out = o.data;
    *outlen = o.len;
    return 0;
}
