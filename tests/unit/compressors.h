/*
 * Compressing test data with the codecs' own libraries, for unit tests that check our
 * decompression (tests/unit/common/test_compress.c, tests/unit/log/test_records.c): gzip,
 * raw snappy, LZ4 frame and zstd, each into out (cap bytes), returning the length.
 * Failures are cmocka assertions. Header-only; include after <cmocka.h>.
 */
#ifndef ST_TEST_COMPRESSORS_H
#define ST_TEST_COMPRESSORS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

static size_t comp_gzip(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t len = z.total_out;
    deflateEnd(&z);
    return len;
}

static size_t comp_snappy(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    size_t len = cap;
    assert_int_equal(snappy_compress((const char *)in, n, (char *)out, &len), SNAPPY_OK);
    return len;
}

static size_t comp_lz4(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    size_t len = LZ4F_compressFrame(out, cap, in, n, NULL);
    assert_false(LZ4F_isError(len));
    return len;
}

/* An LZ4 frame that declares its content size (python-lz4's default, kafka-python's). */
__attribute__((unused)) static size_t comp_lz4_sized(const uint8_t *in, size_t n, uint8_t *out,
                                                     size_t cap)
{
    LZ4F_preferences_t prefs = {.frameInfo = {.contentSize = n}};
    size_t len = LZ4F_compressFrame(out, cap, in, n, &prefs);
    assert_false(LZ4F_isError(len));
    return len;
}

static size_t comp_zstd(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    size_t len = ZSTD_compress(out, cap, in, n, 3);
    assert_false(ZSTD_isError(len));
    return len;
}

#endif
