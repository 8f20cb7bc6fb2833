/*
 * batch_bench [ROUNDS]: what checking and recompressing one produced batch costs the
 * loop thread (broker/log/batch_check.c), per codec, on a 1 MiB batch of 1,024 records
 * of 1 KiB (letters drawn at random for each record, so it compresses about as text
 * does: 1.6x to 2x).
 *
 * For each producer codec it times st_batches_prepare with the topic keeping the
 * producer's codec (the check alone), and for an uncompressed batch the recompression
 * into each codec (compression.type). Prints the median of ROUNDS (default 21) in
 * milliseconds per batch and the equivalent MB/s of uncompressed records. Build it in
 * Release (compare.sh's build-bench); the figures are docs/performance.md's.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/log/batch.h"
#include "broker/log/records.h"
#include "common/buf.h"
#include "common/compress.h"
#include "common/crc32c.h"

#define RECORDS     1024
#define RECORD_SIZE 1024

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The uncompressed batch, built as a producer would. */
static void build(st_buf *out)
{
    uint8_t value[RECORD_SIZE];
    uint32_t x = 2463534242u;
    st_batch_builder b;
    int64_t ts = (int64_t)time(NULL) * 1000;
    st_batch_builder_init(&b, out, 0, ts, -1, -1, -1, 0);
    for (int i = 0; i < RECORDS; i++) {
        for (size_t j = 0; j < sizeof value; j++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            value[j] = (uint8_t)('a' + x % 26);
        }
        char key[16];
        int klen = snprintf(key, sizeof key, "key-%d", i);
        st_batch_builder_add(&b, i, ts, (st_bytes){(const uint8_t *)key, klen},
                             (st_bytes){value, sizeof value}, 0, (st_bytes){NULL, 0});
    }
    st_batch_builder_finish(&b);
}

/* The same batch with its records compressed by codec. */
static void compress_into(const st_buf *plain, int codec, st_buf *out)
{
    st_cstream *cs = st_cstream_new();
    char err[200];
    out->len = 0;
    st_buf_append(out, plain->data, ST_BATCH_HEADER_SIZE);
    if (st_cstream_start(cs, codec, out, SIZE_MAX, 0, err, sizeof err) ||
        st_cstream_write(cs, plain->data + ST_BATCH_HEADER_SIZE, plain->len - ST_BATCH_HEADER_SIZE,
                         err, sizeof err) ||
        st_cstream_end(cs, err, sizeof err)) {
        fprintf(stderr, "batch_bench: compressing: %s\n", err);
        exit(1);
    }
    st_cstream_free(cs);
    st_put_be32(out->data + 8, (uint32_t)(out->len - ST_BATCH_LOG_OVERHEAD));
    out->data[22] = (uint8_t)codec;
    st_put_be32(out->data + 17, st_crc32c(0, out->data + 21, out->len - 21));
}

/* Median ms of st_batches_prepare on `batch` under `target` (refused: *refused set),
 * with the decompression budget of a request of that size, or `budget` when not 0. */
static double time_prepare(const st_buf *batch, int target, int rounds, st_batch_ws *ws,
                           bool *refused, size_t budget)
{
    double *t = calloc((size_t)rounds, sizeof *t);
    uint8_t *copy = malloc(batch->len);
    st_batch_policy pol;
    st_batch_policy_init(&pol, 16 << 20);
    pol.target_codec = target;
    for (int r = 0; r < rounds; r++) {
        memcpy(copy, batch->data, batch->len);
        st_batches_out out;
        char why[256];
        st_batch_ws_begin(ws, budget ? budget : st_batch_inflate_budget(batch->len));
        double t0 = now_ms();
        int rc = st_batches_prepare(copy, batch->len, &pol, ws, &out, why, sizeof why);
        t[r] = now_ms() - t0;
        if (rc != 0 && !refused) {
            fprintf(stderr, "batch_bench: refused: %s\n", why);
            exit(1);
        }
        if (refused)
            *refused = rc != 0;
    }
    qsort(t, (size_t)rounds, sizeof *t, cmp_double);
    double median = t[rounds / 2];
    free(t);
    free(copy);
    return median;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 21;
    if (rounds < 1)
        rounds = 1;
    st_buf plain = ST_BUF_INIT, comp = ST_BUF_INIT;
    build(&plain);
    st_batch_ws *ws = st_batch_ws_new();
    double mb = (double)(plain.len - ST_BATCH_HEADER_SIZE) / (1 << 20);
    printf("batch: %d records of %d bytes, %.2f MiB uncompressed; median of %d rounds\n", RECORDS,
           RECORD_SIZE, mb, rounds);
    printf("%-36s %10s %10s %10s\n", "what", "bytes", "ms/batch", "MB/s");
    for (int codec = 0; codec <= ST_CODEC_ZSTD; codec++) {
        const st_buf *b = &plain;
        if (codec) {
            compress_into(&plain, codec, &comp);
            b = &comp;
        }
        double ms = time_prepare(b, ST_BATCH_CODEC_PRODUCER, rounds, ws, NULL, 0);
        char what[64];
        snprintf(what, sizeof what, "check %s", st_codec_name(codec));
        printf("%-36s %10zu %10.3f %10.0f\n", what, b->len, ms, mb / (ms / 1e3));
    }
    for (int codec = 1; codec <= ST_CODEC_ZSTD; codec++) {
        double ms = time_prepare(&plain, codec, rounds, ws, NULL, 0);
        char what[64];
        snprintf(what, sizeof what, "recompress none -> %s", st_codec_name(codec));
        printf("%-36s %10zu %10.3f %10.0f\n", what, plain.len, ms, mb / (ms / 1e3));
    }
    compress_into(&plain, ST_CODEC_LZ4, &comp);
    double ms = time_prepare(&comp, ST_CODEC_ZSTD, rounds, ws, NULL, 0);
    printf("%-36s %10zu %10.3f %10.0f\n", "recompress lz4 -> zstd", comp.len, ms, mb / (ms / 1e3));

    /* A decompression bomb: one record of 300 MiB of zeros in a few hundred KB; it is
     * refused once it passes the request's budget: 256 x its size + 32 MiB for a
     * request of just this batch, and the most any request gets (ST_BATCH_INFLATE_MAX,
     * 256 MiB), the worst one request can cost the loop. */
    st_buf bomb = ST_BUF_INIT;
    size_t big = (size_t)300 << 20;
    uint8_t *zeros = calloc(1, big);
    st_batch_builder bb;
    st_batch_builder_init(&bb, &bomb, 0, (int64_t)time(NULL) * 1000, -1, -1, -1, 0);
    st_batch_builder_add(&bb, 0, (int64_t)time(NULL) * 1000, (st_bytes){(const uint8_t *)"k", 1},
                         (st_bytes){zeros, (int32_t)big}, 0, (st_bytes){NULL, 0});
    st_batch_builder_finish(&bb);
    free(zeros);
    int codecs[] = {ST_CODEC_GZIP, ST_CODEC_ZSTD};
    for (int ceiling = 0; ceiling <= 1; ceiling++) {
        for (size_t i = 0; i < 2; i++) {
            compress_into(&bomb, codecs[i], &comp);
            bool refused = false;
            ms = time_prepare(&comp, ST_BATCH_CODEC_PRODUCER, rounds < 5 ? rounds : 5, ws, &refused,
                              ceiling ? ST_BATCH_INFLATE_MAX : 0);
            char what[64];
            snprintf(what, sizeof what, "bomb %s%s (refused: %s)", st_codec_name(codecs[i]),
                     ceiling ? " at 256 MiB" : "", refused ? "yes" : "NO");
            printf("%-36s %10zu %10.3f %10s\n", what, comp.len, ms, "(budget)");
        }
    }
    st_buf_free(&bomb);
    st_batch_ws_free(ws);
    st_buf_free(&plain);
    st_buf_free(&comp);
    return 0;
}
