/* Unit tests for common/compress.c: each codec decompresses what its library
 * compressed, refuses garbage and truncation, and refuses data that inflates past
 * max_out (a decompression bomb). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "common/compress.h"
#include "tests/unit/compressors.h"

enum { GZIP = 1, SNAPPY = 2, LZ4 = 3, ZSTD = 4 };

/* xerial framing (the Java client's SnappyOutputStream), blocks of at most 32 KiB */
static size_t comp_xerial(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    static const uint8_t head[16] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
    memcpy(out, head, sizeof head);
    size_t pos = sizeof head;
    for (size_t done = 0; done < n;) {
        size_t len = n - done > 32768 ? 32768 : n - done;
        size_t clen = comp_snappy(in + done, len, out + pos + 4, cap - pos - 4);
        out[pos] = (uint8_t)(clen >> 24);
        out[pos + 1] = (uint8_t)(clen >> 16);
        out[pos + 2] = (uint8_t)(clen >> 8);
        out[pos + 3] = (uint8_t)clen;
        pos += 4 + clen;
        done += len;
    }
    return pos;
}

typedef size_t compress_fn(const uint8_t *in, size_t n, uint8_t *out, size_t cap);

static const struct {
    int codec;
    const char *name;
    compress_fn *fn;
} codecs[] = {
    {GZIP, "gzip", comp_gzip}, {SNAPPY, "snappy", comp_snappy}, {SNAPPY, "snappy", comp_xerial},
    {LZ4, "lz4", comp_lz4},    {ZSTD, "zstd", comp_zstd},
};
#define NCODECS (sizeof codecs / sizeof codecs[0])

/* Text that compresses but is not trivially uniform. */
static uint8_t *sample(size_t n)
{
    uint8_t *p = malloc(n);
    assert_non_null(p);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245 + 12345;
        p[i] = (uint8_t)('a' + (x >> 16) % 8);
    }
    return p;
}

static void test_round_trips(void **state)
{
    size_t sizes[] = {1, 1000, 300000};
    for (size_t c = 0; c < NCODECS; c++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            size_t n = sizes[s], cap = n * 2 + 1024;
            uint8_t *in = sample(n), *comp = malloc(cap), *out = NULL;
            size_t clen = codecs[c].fn(in, n, comp, cap), outlen = 0;
            char err[200] = "";
            int rc = st_decompress(codecs[c].codec, comp, clen, n, &out, &outlen, err, sizeof err);
            if (rc != 0)
                fail_msg("%s of %zu bytes: %s", codecs[c].name, n, err);
            assert_int_equal(outlen, n);
            assert_memory_equal(out, in, n);
            free(out);
            /* one byte less than the data is a bomb */
            out = NULL;
            assert_int_equal(
                st_decompress(codecs[c].codec, comp, clen, n - 1, &out, &outlen, err, sizeof err),
                -1);
            assert_null(out);
            free(in);
            free(comp);
        }
    }
}

static void test_bomb(void **state)
{
    size_t n = 16 << 20; /* 16 MiB of zeros squeeze into a few KB */
    uint8_t *in = calloc(1, n);
    size_t cap = snappy_max_compressed_length(n); /* snappy wants the worst case */
    uint8_t *comp = malloc(cap);
    assert_non_null(in);
    assert_non_null(comp);
    for (size_t c = 0; c < NCODECS; c++) {
        size_t clen = codecs[c].fn(in, n, comp, cap);
        assert_true(clen < n / 16); /* snappy tops out near 21:1 */
        uint8_t *out = NULL;
        size_t outlen = 0;
        char err[200] = "";
        assert_int_equal(
            st_decompress(codecs[c].codec, comp, clen, 1 << 20, &out, &outlen, err, sizeof err),
            -1);
        assert_null(out);
        assert_non_null(strstr(err, "more than 1048576 bytes"));
        assert_non_null(strstr(err, codecs[c].name));
    }
    free(in);
    free(comp);
}

static void test_garbage_and_truncation(void **state)
{
    size_t n = 20000, cap = n * 2 + 1024;
    uint8_t *in = sample(n), *comp = malloc(cap);
    for (size_t c = 0; c < NCODECS; c++) {
        size_t clen = codecs[c].fn(in, n, comp, cap);
        uint8_t *out = NULL;
        size_t outlen = 0;
        char err[200] = "";
        /* cut in half */
        assert_int_equal(
            st_decompress(codecs[c].codec, comp, clen / 2, n, &out, &outlen, err, sizeof err), -1);
        assert_null(out);
        assert_non_null(strstr(err, codecs[c].name));
        /* not compressed at all */
        assert_int_equal(
            st_decompress(codecs[c].codec, in, 1000, n, &out, &outlen, err, sizeof err), -1);
        assert_null(out);
    }
    uint8_t *out = NULL;
    size_t outlen;
    char err[200] = "";
    /* raw snappy whose header claims 200,000,000 bytes from 10: refused at the header,
     * before a block buffer is sized from the claim */
    static const uint8_t liar[10] = {0x80, 0x84, 0xaf, 0x5f, 0, 'a', 0, 'b', 0, 'c'};
    assert_int_equal(st_decompress(ST_CODEC_SNAPPY, liar, sizeof liar, (size_t)256 << 20, &out,
                                   &outlen, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "claims 200000000 decompressed"));
    assert_int_equal(st_decompress(7, in, 10, n, &out, &outlen, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown compression codec 7"));
    free(in);
    free(comp);
}

/* The stream hands out exactly the data whatever the reader's buffer size: 1 byte at a
 * time, 1000, or 64 KiB; and one stream serves payloads of different codecs in turn. */
static void test_stream_chunks(void **state)
{
    size_t n = 200000, cap = n * 2 + 1024;
    uint8_t *in = sample(n), *comp = malloc(cap), *got = malloc(n + 1);
    st_dstream *d = st_dstream_new();
    size_t chunks[] = {1, 1000, 65536};
    for (size_t c = 0; c < NCODECS; c++) {
        size_t clen = codecs[c].fn(in, n, comp, cap);
        for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
            char err[200] = "";
            assert_int_equal(st_dstream_start(d, codecs[c].codec, comp, clen, n, err, sizeof err),
                             0);
            size_t len = 0;
            for (;;) {
                size_t want = chunks[k] < n + 1 - len ? chunks[k] : n + 1 - len;
                ssize_t r = st_dstream_read(d, got + len, want, err, sizeof err);
                if (r < 0)
                    fail_msg("%s, chunks of %zu: %s", codecs[c].name, chunks[k], err);
                if (r == 0)
                    break;
                len += (size_t)r;
            }
            assert_int_equal(len, n);
            assert_int_equal(st_dstream_produced(d), n);
            assert_memory_equal(got, in, n);
        }
    }
    st_dstream_free(d);
    free(in);
    free(comp);
    free(got);
}

/* A stream left in the middle of a payload (the batch check stops at the first bad
 * record) leaves nothing behind for the next payload of the same context. lz4 1.9.4's
 * reset kept what an unfinished frame still owed to its declared content size, and the
 * next frame declaring none failed with ERROR_frameSize_wrong: in the broker, one
 * producer's bad batch refused the next valid lz4 batch on that thread. */
static void test_stream_abandoned(void **state)
{
    size_t n = 200000, small = 47, cap = n * 2 + 1024;
    uint8_t *in = sample(n), *first = malloc(cap), *second = malloc(1024), got[1024];
    st_dstream *d = st_dstream_new();
    for (size_t c = 0; c < NCODECS + 1; c++) {
        /* the extra round: an lz4 frame with its content size, then one without */
        compress_fn *fn = c < NCODECS ? codecs[c].fn : comp_lz4_sized;
        compress_fn *next = c < NCODECS ? codecs[c].fn : comp_lz4;
        int codec = c < NCODECS ? codecs[c].codec : LZ4;
        size_t flen = fn(in, n, first, cap), slen = next(in, small, second, 1024);
        char err[200] = "";
        assert_int_equal(st_dstream_start(d, codec, first, flen, n, err, sizeof err), 0);
        assert_int_equal(st_dstream_read(d, got, 1000, err, sizeof err), 1000);
        /* abandoned there; the next payload must decode as on a new context */
        assert_int_equal(st_dstream_start(d, codec, second, slen, n, err, sizeof err), 0);
        size_t len = 0;
        for (ssize_t r; (r = st_dstream_read(d, got + len, sizeof got - len, err, sizeof err));) {
            if (r < 0)
                fail_msg("%s after an abandoned payload: %s", st_codec_name(codec), err);
            len += (size_t)r;
        }
        assert_int_equal(len, small);
        assert_memory_equal(got, in, small);
    }
    st_dstream_free(d);
    free(in);
    free(first);
    free(second);
}

/* st_cstream's output decompresses to its input, for every codec, written in pieces;
 * and it stops at its limit. */
static void test_cstream(void **state)
{
    size_t n = 300000;
    uint8_t *in = sample(n);
    st_cstream *c = st_cstream_new();
    st_buf out = ST_BUF_INIT;
    char err[200] = "";
    for (int codec = 0; codec <= ZSTD; codec++) {
        out.len = 0;
        assert_int_equal(st_cstream_start(c, codec, &out, n + 1024, 0, err, sizeof err), 0);
        for (size_t at = 0; at < n; at += 7777)
            assert_int_equal(
                st_cstream_write(c, in + at, n - at < 7777 ? n - at : 7777, err, sizeof err), 0);
        assert_int_equal(st_cstream_end(c, err, sizeof err), 0);
        if (codec == 0) {
            assert_int_equal(out.len, n);
            assert_memory_equal(out.data, in, n);
            continue;
        }
        assert_true(out.len < n); /* the sample compresses */
        uint8_t *back = NULL;
        size_t back_len = 0;
        assert_int_equal(
            st_decompress(codec, out.data, out.len, n, &back, &back_len, err, sizeof err), 0);
        assert_int_equal(back_len, n);
        assert_memory_equal(back, in, n);
        free(back);
        /* the same again with room for a tenth of it */
        out.len = 0;
        assert_int_equal(st_cstream_start(c, codec, &out, n / 10, n, err, sizeof err), 0);
        int rc = st_cstream_write(c, in, n, err, sizeof err);
        if (rc == 0)
            rc = st_cstream_end(c, err, sizeof err);
        assert_int_equal(rc, ST_CSTREAM_TOO_LARGE);
        assert_non_null(strstr(err, "passes"));
    }
    out.len = 0;
    assert_int_equal(st_cstream_start(c, ST_CODEC_NONE, &out, 10, 0, err, sizeof err), 0);
    assert_int_equal(st_cstream_write(c, in, 11, err, sizeof err), ST_CSTREAM_TOO_LARGE);
    st_buf_free(&out);
    st_cstream_free(c);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_bomb),
        cmocka_unit_test(test_garbage_and_truncation),
        cmocka_unit_test(test_stream_chunks),
        cmocka_unit_test(test_stream_abandoned),
        cmocka_unit_test(test_cstream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
