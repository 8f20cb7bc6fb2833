/*
 * Record-batch payload codecs (see compress.h) over zlib, snappy, lz4 and zstd.
 *
 * Decompression streams into the caller's buffer. gzip, lz4 and zstd do so natively;
 * snappy has no streaming form, so each block (the whole payload when it is raw
 * snappy, 32 KiB pieces when xerial-framed) is decoded into one internal buffer that is
 * never allowed past max_out and served from there. Every codec counts what it has
 * produced: one byte beyond max_out is how a bomb is recognised, before any memory is
 * spent on it.
 *
 * Compression appends to an st_buf, reserving each codec's worst case for the next
 * piece, and stops as soon as the output passes the caller's limit.
 */
#include "common/compress.h"

#include <lz4frame.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

const char *st_codec_name(int codec)
{
    static const char *names[] = {"none", "gzip", "snappy", "lz4", "zstd"};
    return codec >= 0 && codec <= ST_CODEC_ZSTD ? names[codec] : "unknown";
}

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
#define XERIAL_HEADER 16    /* magic, version int32, compatible-version int32 */
#define XERIAL_BLOCK  32768 /* what the Java client's SnappyOutputStream writes */

/* ---- streaming decompression ---- */

struct st_dstream {
    int codec; /* 0 when idle */
    const uint8_t *in;
    size_t n, pos;
    size_t produced, max_out;
    bool ended; /* the payload ended cleanly: reads return 0 */
    z_stream z;
    bool z_ready; /* inflateInit2 done */
    LZ4F_dctx *lz4;
    bool lz4_mid_frame; /* lz4 was left inside a frame (abandoned or failed) */
    ZSTD_DStream *zstd;
    /* snappy: the decoded block being served */
    uint8_t *block;
    size_t block_cap, block_len, block_pos;
    bool xerial;
};

st_dstream *st_dstream_new(void)
{
    return calloc(1, sizeof(st_dstream));
}

void st_dstream_free(st_dstream *d)
{
    if (!d)
        return;
    if (d->z_ready)
        inflateEnd(&d->z);
    if (d->lz4)
        LZ4F_freeDecompressionContext(d->lz4);
    ZSTD_freeDStream(d->zstd);
    free(d->block);
    free(d);
}

size_t st_dstream_produced(const st_dstream *d)
{
    return d->produced;
}

int st_dstream_start(st_dstream *d, int codec, const uint8_t *in, size_t n, size_t max_out,
                     char *err, size_t errlen)
{
    d->codec = 0;
    d->in = in;
    d->n = n;
    d->pos = 0;
    d->produced = 0;
    d->max_out = max_out;
    d->ended = false;
    d->block_len = d->block_pos = 0;
    switch (codec) {
    case ST_CODEC_GZIP:
        /* 15 + 16: gzip only. Kafka's clients (Java's GZIPInputStream, Python's gzip)
         * read nothing else, so a zlib or raw deflate stream would poison them. */
        if (!d->z_ready) {
            memset(&d->z, 0, sizeof d->z);
            if (inflateInit2(&d->z, 15 + 16) != Z_OK) {
                snprintf(err, errlen, "gzip: cannot initialise zlib (out of memory)");
                return -1;
            }
            d->z_ready = true;
        } else if (inflateReset(&d->z) != Z_OK) {
            snprintf(err, errlen, "gzip: cannot reset zlib");
            return -1;
        }
        break;
    case ST_CODEC_SNAPPY:
        d->xerial = n >= XERIAL_HEADER && memcmp(in, xerial_magic, sizeof xerial_magic) == 0;
        if (d->xerial)
            d->pos = XERIAL_HEADER;
        break;
    case ST_CODEC_LZ4:
        /* LZ4F_resetDecompressionContext does not forget everything of a frame left
         * unfinished: lz4 1.9.4 keeps the bytes still owed to a declared content size
         * and checks them at the end of the next frame that declares none, which then
         * fails (ERROR_frameSize_wrong). One producer's abandoned batch would make the
         * next lz4 batch on this thread, anyone's, INVALID_RECORD. So a context left
         * mid-frame is replaced; one whose frame ended (the usual case) is reused. */
        if (d->lz4 && d->lz4_mid_frame) {
            LZ4F_freeDecompressionContext(d->lz4);
            d->lz4 = NULL;
        }
        if (!d->lz4 && LZ4F_isError(LZ4F_createDecompressionContext(&d->lz4, LZ4F_VERSION))) {
            d->lz4 = NULL;
            snprintf(err, errlen, "lz4: cannot create a decompression context");
            return -1;
        }
        LZ4F_resetDecompressionContext(d->lz4);
        d->lz4_mid_frame = true;
        break;
    case ST_CODEC_ZSTD:
        if (!d->zstd && !(d->zstd = ZSTD_createDStream())) {
            snprintf(err, errlen, "zstd: cannot create a decompression stream");
            return -1;
        }
        ZSTD_DCtx_reset(d->zstd, ZSTD_reset_session_only);
        break;
    default:
        snprintf(err, errlen,
                 "unknown compression codec %d (known: 1 gzip, 2 snappy, 3 lz4, 4 zstd)", codec);
        return -1;
    }
    d->codec = codec;
    return 0;
}

static ssize_t bomb(st_dstream *d, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: data decompresses to more than %zu bytes; refused",
             st_codec_name(d->codec), d->max_out);
    d->codec = 0;
    return -1;
}

static ssize_t failed(st_dstream *d, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s: %s", st_codec_name(d->codec), what);
    d->codec = 0;
    return -1;
}

static ssize_t read_gzip(st_dstream *d, uint8_t *out, size_t cap, char *err, size_t errlen)
{
    z_stream *z = &d->z;
    z->next_out = out;
    z->avail_out = cap > UINT32_MAX ? UINT32_MAX : (uInt)cap;
    size_t room = z->avail_out;
    for (;;) {
        size_t in_left = d->n - d->pos;
        z->next_in = (Bytef *)(uintptr_t)(d->in + d->pos);
        z->avail_in = in_left > UINT32_MAX ? UINT32_MAX : (uInt)in_left;
        uInt avail_in = z->avail_in, avail_out = z->avail_out;
        int zr = inflate(z, Z_NO_FLUSH);
        d->pos += avail_in - z->avail_in;
        if (zr == Z_STREAM_END) {
            /* Concatenated members are one payload (Java's GZIPInputStream reads them). */
            if (d->pos < d->n) {
                if (inflateReset(z) != Z_OK)
                    return failed(d, err, errlen, "cannot reset zlib");
                if (z->avail_out > 0)
                    continue;
            } else {
                d->ended = true;
            }
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR)
            return failed(d, err, errlen, z->msg ? z->msg : "corrupt data");
        if (z->avail_out == 0)
            break;
        if (z->avail_in == avail_in && z->avail_out == avail_out)
            return failed(d, err, errlen, "data is truncated");
    }
    return (ssize_t)(room - z->avail_out);
}

static ssize_t read_lz4(st_dstream *d, uint8_t *out, size_t cap, char *err, size_t errlen)
{
    size_t got = 0;
    while (got < cap) {
        size_t out_size = cap - got, in_size = d->n - d->pos;
        size_t hint = LZ4F_decompress(d->lz4, out + got, &out_size, d->in + d->pos, &in_size, NULL);
        if (LZ4F_isError(hint))
            return failed(d, err, errlen, LZ4F_getErrorName(hint));
        d->pos += in_size;
        got += out_size;
        if (hint == 0) { /* a frame is complete */
            d->lz4_mid_frame = false;
            if (d->pos < d->n) {
                d->lz4_mid_frame = true;
                LZ4F_resetDecompressionContext(d->lz4);
                continue; /* another frame follows */
            }
            d->ended = true;
            break;
        }
        if (in_size == 0 && out_size == 0)
            return failed(d, err, errlen, "frame is truncated");
    }
    return (ssize_t)got;
}

static ssize_t read_zstd(st_dstream *d, uint8_t *out, size_t cap, char *err, size_t errlen)
{
    ZSTD_outBuffer ob = {out, cap, 0};
    ZSTD_inBuffer ib = {d->in, d->n, d->pos};
    while (ob.pos < ob.size) {
        size_t in_before = ib.pos, out_before = ob.pos;
        size_t r = ZSTD_decompressStream(d->zstd, &ob, &ib);
        d->pos = ib.pos;
        if (ZSTD_isError(r))
            return failed(d, err, errlen, ZSTD_getErrorName(r));
        if (r == 0 && ib.pos == ib.size) { /* the last frame is complete and flushed */
            d->ended = true;
            break;
        }
        if (ib.pos == in_before && ob.pos == out_before)
            return failed(d, err, errlen, "frame is truncated");
    }
    return (ssize_t)ob.pos;
}

/* Decodes the next snappy block into d->block. 1 when one was decoded, 0 at the end of
 * the payload, -1 on error. */
static int next_snappy_block(st_dstream *d, size_t served, char *err, size_t errlen)
{
    const uint8_t *block;
    size_t block_n;
    if (d->pos >= d->n && (d->xerial || d->n > 0))
        return 0;
    if (d->xerial) {
        if (d->n - d->pos < 4) {
            snprintf(err, errlen, "snappy: xerial block length cut off at byte %zu", d->pos);
            return -1;
        }
        uint32_t len = be32(d->in + d->pos);
        d->pos += 4;
        if (len > d->n - d->pos) {
            snprintf(err, errlen, "snappy: xerial block of %u bytes but only %zu remain", len,
                     d->n - d->pos);
            return -1;
        }
        block = d->in + d->pos;
        block_n = len;
        d->pos += len;
    } else {
        block = d->in;
        block_n = d->n;
        d->pos = d->n;
        if (block_n == 0) {
            snprintf(err, errlen, "snappy: empty payload");
            return -1;
        }
    }
    size_t len;
    if (snappy_uncompressed_length((const char *)block, block_n, &len) != SNAPPY_OK) {
        snprintf(err, errlen, "snappy: corrupt block header");
        return -1;
    }
    /* A snappy element yields at most 64 bytes from 3 (a copy with a two-byte offset), so
     * a block cannot hold 22 times its size: a header claiming more is corrupt, refused
     * before the block buffer is sized from it (a 10-byte block claiming 4 GiB would
     * otherwise reserve what is left of the budget, kept for the stream's life). */
    if (len / 22 > block_n) {
        snprintf(err, errlen, "snappy: a block of %zu bytes claims %zu decompressed; corrupt",
                 block_n, len);
        return -1;
    }
    size_t used = d->produced + served; /* what the caller has had, this call included */
    if (used > d->max_out || len > d->max_out - used) {
        snprintf(err, errlen, "snappy: data decompresses to more than %zu bytes; refused",
                 d->max_out);
        return -1;
    }
    if (len > d->block_cap) {
        uint8_t *p = realloc(d->block, len ? len : 1);
        if (!p) {
            snprintf(err, errlen, "snappy: out of memory for a block of %zu bytes", len);
            return -1;
        }
        d->block = p;
        d->block_cap = len;
    }
    size_t got = len;
    if (snappy_uncompress((const char *)block, block_n, (char *)d->block, &got) != SNAPPY_OK ||
        got != len) {
        snprintf(err, errlen, "snappy: corrupt data");
        return -1;
    }
    d->block_len = len;
    d->block_pos = 0;
    return 1;
}

static ssize_t read_snappy(st_dstream *d, uint8_t *out, size_t cap, char *err, size_t errlen)
{
    size_t got = 0;
    while (got < cap) {
        if (d->block_pos == d->block_len) {
            int rc = next_snappy_block(d, got, err, errlen);
            if (rc < 0) {
                d->codec = 0;
                return -1;
            }
            if (rc == 0) {
                d->ended = true;
                break;
            }
            continue; /* an empty block is legal */
        }
        size_t take = d->block_len - d->block_pos;
        if (take > cap - got)
            take = cap - got;
        memcpy(out + got, d->block + d->block_pos, take);
        d->block_pos += take;
        got += take;
    }
    return (ssize_t)got;
}

ssize_t st_dstream_read(st_dstream *d, uint8_t *out, size_t cap, char *err, size_t errlen)
{
    if (d->ended || d->codec == 0 || cap == 0)
        return 0;
    /* Never ask for more than would prove a bomb: max_out + 1 bytes in all. */
    size_t left = d->max_out - d->produced;
    if (cap > left)
        cap = left + 1;
    ssize_t got;
    switch (d->codec) {
    case ST_CODEC_GZIP:
        got = read_gzip(d, out, cap, err, errlen);
        break;
    case ST_CODEC_SNAPPY:
        got = read_snappy(d, out, cap, err, errlen);
        break;
    case ST_CODEC_LZ4:
        got = read_lz4(d, out, cap, err, errlen);
        break;
    default:
        got = read_zstd(d, out, cap, err, errlen);
        break;
    }
    if (got < 0)
        return -1;
    d->produced += (size_t)got;
    if (d->produced > d->max_out)
        return bomb(d, err, errlen);
    if (got == 0 && !d->ended)
        return failed(d, err, errlen, "no progress (corrupt data)");
    if (got == 0)
        d->codec = 0;
    return got;
}

/* ---- streaming compression ---- */

struct st_cstream {
    int codec;
    bool active;
    st_buf *out;
    size_t max_out;
    z_stream z;
    bool z_ready;
    LZ4F_cctx *lz4;
    ZSTD_CCtx *zstd;
    uint8_t *pending; /* snappy: input of the block being filled (XERIAL_BLOCK bytes) */
    size_t pending_len;
};

st_cstream *st_cstream_new(void)
{
    return calloc(1, sizeof(st_cstream));
}

void st_cstream_free(st_cstream *c)
{
    if (!c)
        return;
    if (c->z_ready)
        deflateEnd(&c->z);
    if (c->lz4)
        LZ4F_freeCompressionContext(c->lz4);
    ZSTD_freeCCtx(c->zstd);
    free(c->pending);
    free(c);
}

static const LZ4F_preferences_t lz4_prefs = {
    .frameInfo = {.blockSizeID = LZ4F_max64KB, .blockMode = LZ4F_blockIndependent},
    .compressionLevel = 0,
};

static int too_large(st_cstream *c, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: compressed output passes %zu bytes", st_codec_name(c->codec),
             c->max_out);
    c->active = false;
    return ST_CSTREAM_TOO_LARGE;
}

static int cfailed(st_cstream *c, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s: %s", st_codec_name(c->codec), what);
    c->active = false;
    return ST_CSTREAM_ERROR;
}

/* Room for `extra` more bytes of output, or TOO_LARGE when the limit is already past. */
static int room(st_cstream *c, size_t extra, char *err, size_t errlen)
{
    if (c->out->len > c->max_out)
        return too_large(c, err, errlen);
    st_buf_reserve(c->out, extra);
    return 0;
}

int st_cstream_start(st_cstream *c, int codec, st_buf *out, size_t max_out, size_t size_hint,
                     char *err, size_t errlen)
{
    c->codec = codec;
    c->out = out;
    c->max_out = max_out;
    c->pending_len = 0;
    c->active = false;
    switch (codec) {
    case ST_CODEC_NONE:
        break;
    case ST_CODEC_GZIP:
        if (!c->z_ready) {
            memset(&c->z, 0, sizeof c->z);
            if (deflateInit2(&c->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                return cfailed(c, err, errlen, "cannot initialise zlib (out of memory)");
            c->z_ready = true;
        } else if (deflateReset(&c->z) != Z_OK) {
            return cfailed(c, err, errlen, "cannot reset zlib");
        }
        break;
    case ST_CODEC_SNAPPY:
        if (!c->pending && !(c->pending = malloc(XERIAL_BLOCK)))
            return cfailed(c, err, errlen, "out of memory");
        if (room(c, XERIAL_HEADER, err, errlen))
            return ST_CSTREAM_ERROR;
        st_buf_append(out, xerial_magic, sizeof xerial_magic);
        st_buf_put_i32(out, 1); /* version */
        st_buf_put_i32(out, 1); /* compatible version */
        break;
    case ST_CODEC_LZ4: {
        if (!c->lz4 && LZ4F_isError(LZ4F_createCompressionContext(&c->lz4, LZ4F_VERSION))) {
            c->lz4 = NULL;
            return cfailed(c, err, errlen, "cannot create a compression context");
        }
        if (room(c, LZ4F_HEADER_SIZE_MAX, err, errlen))
            return ST_CSTREAM_ERROR;
        size_t w =
            LZ4F_compressBegin(c->lz4, out->data + out->len, out->cap - out->len, &lz4_prefs);
        if (LZ4F_isError(w))
            return cfailed(c, err, errlen, LZ4F_getErrorName(w));
        out->len += w;
        break;
    }
    case ST_CODEC_ZSTD:
        if (!c->zstd && !(c->zstd = ZSTD_createCCtx()))
            return cfailed(c, err, errlen, "cannot create a compression context");
        ZSTD_CCtx_reset(c->zstd, ZSTD_reset_session_only);
        ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_compressionLevel, 3);
        if (size_hint)
            ZSTD_CCtx_setPledgedSrcSize(c->zstd, size_hint);
        break;
    default:
        return cfailed(c, err, errlen, "unknown compression codec");
    }
    c->active = true;
    return 0;
}

static int snappy_flush_block(st_cstream *c, char *err, size_t errlen)
{
    if (c->pending_len == 0)
        return 0;
    size_t bound = snappy_max_compressed_length(c->pending_len);
    if (room(c, 4 + bound, err, errlen))
        return ST_CSTREAM_TOO_LARGE;
    size_t len = bound;
    if (snappy_compress((const char *)c->pending, c->pending_len,
                        (char *)c->out->data + c->out->len + 4, &len) != SNAPPY_OK)
        return cfailed(c, err, errlen, "compression failed");
    st_put_be32(c->out->data + c->out->len, (uint32_t)len);
    c->out->len += 4 + len;
    c->pending_len = 0;
    return 0;
}

/* zstd: runs one ZSTD_compressStream2 step loop until the input is taken (and, for
 * ZSTD_e_end, the frame is flushed). */
static int zstd_step(st_cstream *c, const uint8_t *in, size_t n, ZSTD_EndDirective op, char *err,
                     size_t errlen)
{
    ZSTD_inBuffer ib = {in, n, 0};
    for (;;) {
        if (room(c, ZSTD_CStreamOutSize(), err, errlen))
            return ST_CSTREAM_TOO_LARGE;
        ZSTD_outBuffer ob = {c->out->data + c->out->len, c->out->cap - c->out->len, 0};
        size_t left = ZSTD_compressStream2(c->zstd, &ob, &ib, op);
        if (ZSTD_isError(left))
            return cfailed(c, err, errlen, ZSTD_getErrorName(left));
        c->out->len += ob.pos;
        if (op == ZSTD_e_end ? left == 0 : ib.pos == ib.size)
            return 0;
    }
}

static int gzip_step(st_cstream *c, const uint8_t *in, size_t n, int flush, char *err,
                     size_t errlen)
{
    c->z.next_in = (Bytef *)(uintptr_t)in;
    c->z.avail_in = (uInt)n; /* callers pass at most 1 GiB at a time */
    for (;;) {
        size_t want = deflateBound(&c->z, c->z.avail_in) + 64;
        if (room(c, want, err, errlen))
            return ST_CSTREAM_TOO_LARGE;
        size_t space = c->out->cap - c->out->len;
        c->z.next_out = c->out->data + c->out->len;
        c->z.avail_out = space > UINT32_MAX ? UINT32_MAX : (uInt)space;
        uInt before = c->z.avail_out;
        int zr = deflate(&c->z, flush);
        c->out->len += before - c->z.avail_out;
        if (zr == Z_STREAM_END)
            return 0;
        if (zr != Z_OK && zr != Z_BUF_ERROR)
            return cfailed(c, err, errlen, c->z.msg ? c->z.msg : "compression failed");
        if (flush == Z_NO_FLUSH && c->z.avail_in == 0)
            return 0;
    }
}

int st_cstream_write(st_cstream *c, const uint8_t *in, size_t n, char *err, size_t errlen)
{
    if (!c->active)
        return cfailed(c, err, errlen, "write to a stream that is not started");
    while (n > 0) {
        size_t piece = n > ((size_t)1 << 30) ? (size_t)1 << 30 : n;
        int rc = 0;
        switch (c->codec) {
        case ST_CODEC_NONE:
            if (c->out->len + piece > c->max_out)
                return too_large(c, err, errlen);
            st_buf_append(c->out, in, piece);
            break;
        case ST_CODEC_GZIP:
            rc = gzip_step(c, in, piece, Z_NO_FLUSH, err, errlen);
            break;
        case ST_CODEC_SNAPPY: {
            size_t take = XERIAL_BLOCK - c->pending_len;
            if (take > piece)
                take = piece;
            memcpy(c->pending + c->pending_len, in, take);
            c->pending_len += take;
            piece = take;
            if (c->pending_len == XERIAL_BLOCK)
                rc = snappy_flush_block(c, err, errlen);
            break;
        }
        case ST_CODEC_LZ4: {
            size_t bound = LZ4F_compressBound(piece, &lz4_prefs);
            if (room(c, bound, err, errlen))
                return ST_CSTREAM_TOO_LARGE;
            size_t w = LZ4F_compressUpdate(c->lz4, c->out->data + c->out->len,
                                           c->out->cap - c->out->len, in, piece, NULL);
            if (LZ4F_isError(w))
                return cfailed(c, err, errlen, LZ4F_getErrorName(w));
            c->out->len += w;
            break;
        }
        default:
            rc = zstd_step(c, in, piece, ZSTD_e_continue, err, errlen);
            break;
        }
        if (rc)
            return rc;
        if (c->out->len > c->max_out)
            return too_large(c, err, errlen);
        in += piece;
        n -= piece;
    }
    return 0;
}

int st_cstream_end(st_cstream *c, char *err, size_t errlen)
{
    if (!c->active)
        return cfailed(c, err, errlen, "end of a stream that is not started");
    int rc = 0;
    switch (c->codec) {
    case ST_CODEC_NONE:
        break;
    case ST_CODEC_GZIP:
        rc = gzip_step(c, NULL, 0, Z_FINISH, err, errlen);
        break;
    case ST_CODEC_SNAPPY:
        rc = snappy_flush_block(c, err, errlen);
        break;
    case ST_CODEC_LZ4: {
        if (room(c, LZ4F_compressBound(0, &lz4_prefs), err, errlen))
            return ST_CSTREAM_TOO_LARGE;
        size_t w =
            LZ4F_compressEnd(c->lz4, c->out->data + c->out->len, c->out->cap - c->out->len, NULL);
        if (LZ4F_isError(w))
            return cfailed(c, err, errlen, LZ4F_getErrorName(w));
        c->out->len += w;
        break;
    }
    default:
        rc = zstd_step(c, NULL, 0, ZSTD_e_end, err, errlen);
        break;
    }
    if (rc)
        return rc;
    if (c->out->len > c->max_out)
        return too_large(c, err, errlen);
    c->active = false;
    return 0;
}

/* ---- one shot ---- */

int st_decompress(int codec, const uint8_t *in, size_t n, size_t max_out, uint8_t **out,
                  size_t *outlen, char *err, size_t errlen)
{
    *out = NULL;
    *outlen = 0;
    st_dstream *d = st_dstream_new();
    uint8_t *data = NULL;
    size_t len = 0, cap = 0;
    int rc = -1;
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (st_dstream_start(d, codec, in, n, max_out, err, errlen) != 0)
        goto out;
    for (;;) {
        if (len == cap) {
            /* doubling, but never asking for more than max_out + 1 bytes in all */
            size_t want = cap ? cap * 2 : 4096;
            size_t limit = max_out == SIZE_MAX ? SIZE_MAX : max_out + 1;
            if (want > limit || want < cap)
                want = limit;
            if (want <= cap)
                want = cap + 1;
            uint8_t *p = realloc(data, want);
            if (!p) {
                snprintf(err, errlen, "%s: out of memory decompressing", st_codec_name(codec));
                goto out;
            }
            data = p;
            cap = want;
        }
        ssize_t got = st_dstream_read(d, data + len, cap - len, err, errlen);
        if (got < 0)
            goto out;
        if (got == 0)
            break;
        len += (size_t)got;
    }
    if (!data && !(data = malloc(1))) { /* empty output: still a buffer the caller frees */
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    *out = data;
    *outlen = len;
    data = NULL;
    rc = 0;
out:
    free(data);
    st_dstream_free(d);
    return rc;
}
