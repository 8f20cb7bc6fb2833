/* Unit tests for broker/log/records.c: the batch builder and the record iterator over
 * uncompressed and compressed (every codec) batches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "broker/log/records.h"
#include "common/errors.h"
#include "tests/unit/log/build_batch.h"
#include "tests/unit/compressors.h"

#define MAX_MSG 1048588

static st_bytes str(const char *s)
{
    return s ? (st_bytes){(const uint8_t *)s, (int32_t)strlen(s)} : (st_bytes){NULL, -1};
}

static bool bytes_eq(st_bytes b, const char *s)
{
    if (!s)
        return b.len == -1;
    return b.len == (int32_t)strlen(s) && memcmp(b.ptr, s, (size_t)b.len) == 0;
}

/* One header "h" = "v", raw-encoded as a record carries it. */
static const uint8_t one_header[] = {2, 'h', 2, 'v'};

/* Builds n records: offsets base+i*step, key "key<i>", value "value<i>" (record 1 is a
 * tombstone), timestamp 1000+i, record 0 with one header. */
static size_t build(st_buf *out, int64_t base, int n, int step)
{
    st_batch_builder b;
    st_batch_builder_init(&b, out, base, 1000, 77, 3, 5, 0);
    for (int i = 0; i < n; i++) {
        char key[32], value[32];
        snprintf(key, sizeof key, "key%d", i);
        snprintf(value, sizeof value, "value%d", i);
        st_bytes hdr = i == 0 ? (st_bytes){one_header, sizeof one_header} : (st_bytes){NULL, 0};
        st_batch_builder_add(&b, base + (int64_t)i * step, 1000 + i, str(key),
                             str(i == 1 ? NULL : value), i == 0 ? 1 : 0, hdr);
    }
    return st_batch_builder_finish(&b);
}

/* Iterates the batch and checks it holds what build() put in. */
static void check_records(const uint8_t *batch, size_t size, int64_t base, int n, int step)
{
    st_record_iter it;
    st_record r;
    char err[200] = "";
    assert_int_equal(st_records_open(&it, batch, size, err, sizeof err), ST_ERR_NONE);
    assert_int_equal(it.info.producer_id, 77);
    assert_int_equal(it.info.producer_epoch, 3);
    int i = 0, rc;
    while ((rc = st_records_next(&it, &r)) == 1) {
        char key[32], value[32];
        snprintf(key, sizeof key, "key%d", i);
        snprintf(value, sizeof value, "value%d", i);
        assert_int_equal(r.offset, base + (int64_t)i * step);
        assert_int_equal(r.timestamp, 1000 + i);
        assert_true(bytes_eq(r.key, key));
        assert_true(bytes_eq(r.value, i == 1 ? NULL : value));
        assert_int_equal(r.header_count, i == 0 ? 1 : 0);
        if (i == 0) {
            assert_int_equal(r.headers.len, sizeof one_header);
            assert_memory_equal(r.headers.ptr, one_header, sizeof one_header);
        }
        i++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(i, n);
    st_records_close(&it);
}

static void test_build_and_iterate(void **state)
{
    st_buf out = ST_BUF_INIT;
    st_buf_append(&out, "xyz", 3); /* the builder appends after what is there */
    size_t size = build(&out, 0, 10, 1);
    assert_int_equal(out.len, size + 3);
    char why[200] = "";
    st_batch_info info;
    assert_int_equal(st_batch_validate(out.data + 3, size, MAX_MSG, &info, why, sizeof why),
                     ST_ERR_NONE);
    assert_int_equal(info.records_count, 10);
    assert_int_equal(info.last_offset_delta, 9);
    assert_int_equal(info.base_timestamp, 1000);
    assert_int_equal(info.max_timestamp, 1009);
    check_records(out.data + 3, size, 0, 10, 1);
    st_buf_free(&out);
}

static void test_gaps(void **state)
{
    st_buf out = ST_BUF_INIT;
    size_t size = build(&out, 100, 4, 5); /* offsets 100, 105, 110, 115 */
    assert_true(st_batch_intact(out.data, size));
    st_batch_info info;
    assert_int_equal(st_batch_header(out.data, size, &info), ST_ERR_NONE);
    assert_int_equal(info.base_offset, 100);
    assert_int_equal(info.last_offset_delta, 15);
    assert_int_equal(info.records_count, 4);
    check_records(out.data, size, 100, 4, 5);
    st_buf_free(&out);
}

static void test_empty_builder(void **state)
{
    st_buf out = ST_BUF_INIT;
    st_buf_append(&out, "ab", 2);
    st_batch_builder b;
    st_batch_builder_init(&b, &out, 5, 0, -1, -1, -1, 0);
    assert_int_equal(st_batch_builder_finish(&b), 0);
    assert_int_equal(out.len, 2);
    st_buf_free(&out);
}

static void test_iterates_test_helper_batch(void **state)
{
    uint8_t buf[4096];
    size_t size = build_batch(buf, sizeof buf, 3, 500, 4);
    st_record_iter it;
    st_record r;
    assert_int_equal(st_records_open(&it, buf, size, NULL, 0), ST_ERR_NONE);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(st_records_next(&it, &r), 1);
        assert_int_equal(r.offset, i);
        assert_int_equal(r.timestamp, 500 + i);
        assert_int_equal(r.value.len, 4);
    }
    assert_int_equal(st_records_next(&it, &r), 0);
    st_records_close(&it);
}

static void test_corrupt(void **state)
{
    st_buf out = ST_BUF_INIT;
    size_t size = build(&out, 0, 3, 1);
    st_record_iter it;
    st_record r;
    char err[200] = "";
    /* a record whose length runs past the batch */
    out.data[ST_BATCH_HEADER_SIZE] = 0x7e;
    assert_int_equal(st_records_open(&it, out.data, size, err, sizeof err), ST_ERR_NONE);
    assert_int_equal(st_records_next(&it, &r), ST_ERR_CORRUPT_MESSAGE);
    assert_int_equal(st_records_next(&it, &r), ST_ERR_CORRUPT_MESSAGE); /* sticky */
    st_records_close(&it);
    /* a header that is not v2 */
    out.data[16] = 1;
    assert_int_equal(st_records_open(&it, out.data, size, err, sizeof err), ST_ERR_CORRUPT_MESSAGE);
    st_records_close(&it);
    /* too short */
    assert_int_equal(st_records_open(&it, out.data, 20, err, sizeof err), ST_ERR_CORRUPT_MESSAGE);
    st_records_close(&it);
    st_buf_free(&out);
}

/* ---- compressed batches: the test compresses with the libraries themselves ---- */

/* xerial framing as the Java client writes it, with the input in two blocks */
static size_t comp_xerial(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    static const uint8_t head[16] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
    memcpy(out, head, sizeof head);
    size_t pos = sizeof head, half = n / 2;
    for (int i = 0; i < 2; i++) {
        const uint8_t *p = i == 0 ? in : in + half;
        size_t len = i == 0 ? half : n - half;
        size_t clen = comp_snappy(p, len, out + pos + 4, cap - pos - 4);
        put_be(out + pos, clen, 4);
        pos += 4 + clen;
    }
    return pos;
}

typedef size_t compress_fn(const uint8_t *in, size_t n, uint8_t *out, size_t cap);

/* Builds a batch, compresses its records section with `fn`, sets the codec and CRC,
 * and iterates it back. */
static void round_trip(int codec, compress_fn *fn)
{
    st_buf out = ST_BUF_INIT;
    size_t size = build(&out, 40, 50, 2);
    size_t cap = size * 2 + 1024;
    uint8_t *batch = malloc(cap);
    assert_non_null(batch);
    memcpy(batch, out.data, ST_BATCH_HEADER_SIZE);
    size_t clen = fn(out.data + ST_BATCH_HEADER_SIZE, size - ST_BATCH_HEADER_SIZE,
                     batch + ST_BATCH_HEADER_SIZE, cap - ST_BATCH_HEADER_SIZE);
    size_t csize = ST_BATCH_HEADER_SIZE + clen;
    put_be(batch + 8, csize - 12, 4);
    put_be(batch + 21, (uint64_t)codec, 2);
    fix_crc(batch, csize);
    assert_true(st_batch_intact(batch, csize));
    check_records(batch, csize, 40, 50, 2);
    free(batch);
    st_buf_free(&out);
}

static void test_gzip(void **state)
{
    round_trip(1, comp_gzip);
}

static void test_snappy(void **state)
{
    round_trip(2, comp_snappy);
    round_trip(2, comp_xerial);
}

static void test_lz4(void **state)
{
    round_trip(3, comp_lz4);
}

static void test_zstd(void **state)
{
    round_trip(4, comp_zstd);
}

static void test_bad_codec(void **state)
{
    st_buf out = ST_BUF_INIT;
    size_t size = build(&out, 0, 2, 1);
    st_record_iter it;
    char err[200] = "";
    put_be(out.data + 21, 6, 2); /* no such codec */
    assert_int_equal(st_records_open(&it, out.data, size, err, sizeof err),
                     ST_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
    assert_non_null(strstr(err, "codec"));
    st_records_close(&it);
    put_be(out.data + 21, 1, 2); /* says gzip, holds plain records */
    assert_int_equal(st_records_open(&it, out.data, size, err, sizeof err),
                     ST_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
    assert_non_null(strstr(err, "gzip"));
    st_records_close(&it);
    st_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_and_iterate),
        cmocka_unit_test(test_gaps),
        cmocka_unit_test(test_empty_builder),
        cmocka_unit_test(test_iterates_test_helper_batch),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_snappy),
        cmocka_unit_test(test_lz4),
        cmocka_unit_test(test_zstd),
        cmocka_unit_test(test_bad_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
