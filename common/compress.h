/*
 * Decompression of Kafka record-batch payloads: gzip (1), snappy (2, raw or
 * xerial-framed as the Java client writes it), lz4 (3, the LZ4 frame format) and
 * zstd (4). The broker stores batches as produced; only compaction needs to look inside
 * a compressed batch.
 */
#ifndef ST_COMPRESS_H
#define ST_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

/* Decompresses n bytes of codec `codec` into a new malloc'd buffer (*out, *outlen; the
 * caller frees). At most max_out bytes are produced: a batch that inflates beyond it is
 * refused (a decompression bomb). Returns 0, or -1 with err saying why. */
int st_decompress(int codec, const uint8_t *in, size_t n, size_t max_out, uint8_t **out,
                  size_t *outlen, char *err, size_t errlen);

#endif
