/*
 * Kafka record-batch payload codecs: gzip (1), snappy (2, raw or xerial-framed as the
 * Java client writes it), lz4 (3, the LZ4 frame format) and zstd (4); 0 is "none".
 *
 * Three ways in:
 *  - st_dstream: streaming decompression into a caller's buffer, a chunk at a time, so a
 *    batch can be checked record by record without ever holding its decompressed form
 *    (the produce path validates this way). Memory stays bounded whatever the input
 *    claims: the codec's own state (zstd's window is capped by its default
 *    windowLogMax, 128 MiB at most, and sized to the frame) plus, for snappy only, one
 *    block, which is never larger than the caller's max_out.
 *  - st_cstream: streaming compression appended to an st_buf, refused once the output
 *    passes a limit (recompression on append, where the limit is max.message.bytes).
 *  - st_decompress: the whole payload into one new buffer (the cleaner and the group
 *    coordinator, which need records in memory).
 *
 * Contexts are reusable: one st_dstream and one st_cstream per thread serve any number
 * of payloads, keeping the codec contexts (and zstd's window) allocated between them.
 * They are not thread-safe; use each from one thread at a time.
 */
#ifndef ST_COMPRESS_H
#define ST_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"

enum {
    ST_CODEC_NONE = 0,
    ST_CODEC_GZIP = 1,
    ST_CODEC_SNAPPY = 2,
    ST_CODEC_LZ4 = 3,
    ST_CODEC_ZSTD = 4,
};

/* "none", "gzip", "snappy", "lz4", "zstd"; "unknown" otherwise. Static. */
const char *st_codec_name(int codec);

/* ---- streaming decompression ---- */

typedef struct st_dstream st_dstream;

/* Returns a new, idle decompressor, or NULL when out of memory. */
st_dstream *st_dstream_new(void);
void st_dstream_free(st_dstream *d); /* NULL is ignored */

/* Starts decompressing n bytes at `in` (borrowed until the stream ends or restarts) of
 * codec `codec` (1..4). At most max_out bytes may come out: reading past that fails as
 * a decompression bomb. Returns 0, or -1 with err saying why (unknown codec). */
int st_dstream_start(st_dstream *d, int codec, const uint8_t *in, size_t n, size_t max_out,
                     char *err, size_t errlen);

/* Decompresses up to cap bytes into out. Returns how many (> 0), 0 once the payload
 * has ended cleanly (every frame or member complete, nothing left over), or -1 with err
 * saying what was wrong: corrupt or truncated data, or more than max_out bytes. After
 * 0 or -1 the stream is idle until the next start. */
ssize_t st_dstream_read(st_dstream *d, uint8_t *out, size_t cap, char *err, size_t errlen);

/* Bytes produced since the start. */
size_t st_dstream_produced(const st_dstream *d);

/* ---- streaming compression ---- */

typedef struct st_cstream st_cstream;

st_cstream *st_cstream_new(void); /* NULL when out of memory */
void st_cstream_free(st_cstream *c);

/* Starts compressing with `codec` (0..4; 0 copies the bytes unchanged), appending to
 * `out` (borrowed until st_cstream_end). size_hint is the input's total size when known
 * (0 if not): zstd then records it and picks a smaller window. Once out->len would pass
 * max_out bytes, writes fail with ST_CSTREAM_TOO_LARGE. Compression levels are the
 * codecs' defaults, the same as Kafka's: gzip 6, lz4 fast (level 0; blocks of 64 KiB,
 * independent, as Kafka's Java reader requires), zstd 3; snappy is xerial-framed in 32
 * KiB blocks, as the Java client writes it. Returns 0 or -1 (err). */
int st_cstream_start(st_cstream *c, int codec, st_buf *out, size_t max_out, size_t size_hint,
                     char *err, size_t errlen);
enum { ST_CSTREAM_ERROR = -1, ST_CSTREAM_TOO_LARGE = -2 };
/* Compresses n bytes. 0, ST_CSTREAM_TOO_LARGE, or ST_CSTREAM_ERROR with err set. */
int st_cstream_write(st_cstream *c, const uint8_t *in, size_t n, char *err, size_t errlen);
/* Finishes the payload (trailers, the last block). Same returns as write. */
int st_cstream_end(st_cstream *c, char *err, size_t errlen);

/* ---- one shot ---- */

/* Decompresses n bytes of codec `codec` into a new malloc'd buffer (*out, *outlen; the
 * caller frees). At most max_out bytes are produced: a batch that inflates beyond it is
 * refused (a decompression bomb). Returns 0, or -1 with err saying why. */
int st_decompress(int codec, const uint8_t *in, size_t n, size_t max_out, uint8_t **out,
                  size_t *outlen, char *err, size_t errlen);

#endif
