/*
 * Unit tests for broker/proto/codec.c: every writer is read back by its reader, the
 * varint edge values round-trip, and hostile input (overlong varints, truncation,
 * lengths and counts larger than the frame) sets the sticky error instead of reading
 * past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker/proto/codec.h"

static void rd_over(st_rd *rd, const st_buf *b)
{
    st_rd_init(rd, b->data, b->len);
}

static void test_fixed_width_round_trip(void **state)
{
    st_buf b = ST_BUF_INIT;
    st_buf_put_i8(&b, -5);
    st_buf_put_i16(&b, INT16_MIN);
    st_buf_put_i32(&b, INT32_MIN);
    st_buf_put_i64(&b, INT64_MIN);
    st_buf_put_i32(&b, (int32_t)0xdeadbeef);
    st_wr_bool(&b, true);
    st_wr_bool(&b, false);
    st_buf_put_i64(&b, INT64_MAX);

    st_rd rd;
    rd_over(&rd, &b);
    assert_int_equal(st_rd_i8(&rd), -5);
    assert_int_equal(st_rd_i16(&rd), INT16_MIN);
    assert_int_equal(st_rd_i32(&rd), INT32_MIN);
    assert_true(st_rd_i64(&rd) == INT64_MIN);
    assert_true(st_rd_u32(&rd) == 0xdeadbeefu);
    assert_true(st_rd_bool(&rd));
    assert_false(st_rd_bool(&rd));
    assert_true(st_rd_i64(&rd) == INT64_MAX);
    assert_int_equal(rd.err, 0);
    assert_int_equal(st_rd_left(&rd), 0);
    st_buf_free(&b);
}

static void test_big_endian_layout(void **state)
{
    static const uint8_t bytes[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06};
    st_rd rd;
    st_rd_init(&rd, bytes, sizeof bytes);
    assert_int_equal(st_rd_i16(&rd), 0x0102);
    assert_int_equal(st_rd_i32(&rd), 0x03040506);
    assert_int_equal(rd.err, 0);
}

static void test_varint_edges(void **state)
{
    static const int32_t v32[] = {0, 1, -1, 63, -64, 64, -65, INT32_MAX, INT32_MIN, 300};
    static const int64_t v64[] = {0,
                                  1,
                                  -1,
                                  INT32_MAX,
                                  INT32_MIN,
                                  INT64_MAX,
                                  INT64_MIN,
                                  (int64_t)1 << 40,
                                  -((int64_t)1 << 40)};
    static const uint32_t u32[] = {0, 1, 127, 128, 16383, 16384, UINT32_MAX};
    st_buf b = ST_BUF_INIT;
    for (size_t i = 0; i < sizeof v32 / sizeof v32[0]; i++)
        st_wr_varint(&b, v32[i]);
    for (size_t i = 0; i < sizeof v64 / sizeof v64[0]; i++)
        st_wr_varlong(&b, v64[i]);
    for (size_t i = 0; i < sizeof u32 / sizeof u32[0]; i++)
        st_wr_uvarint(&b, u32[i]);

    st_rd rd;
    rd_over(&rd, &b);
    for (size_t i = 0; i < sizeof v32 / sizeof v32[0]; i++)
        assert_int_equal(st_rd_varint(&rd), v32[i]);
    for (size_t i = 0; i < sizeof v64 / sizeof v64[0]; i++)
        assert_true(st_rd_varlong(&rd) == v64[i]);
    for (size_t i = 0; i < sizeof u32 / sizeof u32[0]; i++)
        assert_true(st_rd_uvarint(&rd) == u32[i]);
    assert_int_equal(rd.err, 0);
    assert_int_equal(st_rd_left(&rd), 0);
    st_buf_free(&b);
}

/* The exact bytes of well-known zigzag encodings (the protobuf/Kafka table). */
static void test_varint_known_bytes(void **state)
{
    st_buf b = ST_BUF_INIT;
    st_wr_varint(&b, -1);        /* zigzag 1 */
    st_wr_varint(&b, 1);         /* zigzag 2 */
    st_wr_varint(&b, -64);       /* zigzag 127 */
    st_wr_varint(&b, 64);        /* zigzag 128: two bytes */
    st_wr_varint(&b, INT32_MIN); /* zigzag 0xffffffff: five bytes */
    static const uint8_t want[] = {0x01, 0x02, 0x7f, 0x80, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    st_buf_free(&b);

    st_wr_varlong(&b, INT64_MIN);
    assert_int_equal(b.len, 10);
    assert_int_equal(b.data[9], 0x01);
    st_buf_free(&b);
}

static void test_varint_size(void **state)
{
    assert_int_equal(st_varint_size(0), 1);
    assert_int_equal(st_varint_size(127), 1);
    assert_int_equal(st_varint_size(128), 2);
    assert_int_equal(st_varint_size(16383), 2);
    assert_int_equal(st_varint_size(16384), 3);
    assert_int_equal(st_varint_size(UINT32_MAX), 5);
    assert_int_equal(st_varint_size(-1), 10); /* as uint64: all bits set */
    /* It agrees with the writer for the encoded value. */
    st_buf b = ST_BUF_INIT;
    st_wr_uvarint(&b, 300000);
    assert_int_equal(st_varint_size(300000), (int)b.len);
    st_buf_free(&b);
}

static void test_overlong_varints_rejected(void **state)
{
    /* Six bytes for a 32-bit varint. */
    static const uint8_t six[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    /* Five bytes whose last one carries bits beyond 32. */
    static const uint8_t wide[] = {0xff, 0xff, 0xff, 0xff, 0x1f};
    /* Eleven bytes for a varlong. */
    static const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                     0x80, 0x80, 0x80, 0x80, 0x00};
    /* Ten bytes whose last one carries bits beyond 64. */
    static const uint8_t wide64[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    st_rd rd;

    st_rd_init(&rd, six, sizeof six);
    assert_int_equal(st_rd_varint(&rd), 0);
    assert_int_not_equal(rd.err, 0);

    st_rd_init(&rd, six, sizeof six);
    assert_int_equal(st_rd_uvarint(&rd), 0);
    assert_int_not_equal(rd.err, 0);

    st_rd_init(&rd, wide, sizeof wide);
    assert_int_equal(st_rd_uvarint(&rd), 0);
    assert_int_not_equal(rd.err, 0);

    st_rd_init(&rd, eleven, sizeof eleven);
    assert_true(st_rd_varlong(&rd) == 0);
    assert_int_not_equal(rd.err, 0);

    st_rd_init(&rd, wide64, sizeof wide64);
    assert_true(st_rd_varlong(&rd) == 0);
    assert_int_not_equal(rd.err, 0);

    /* A varint cut off mid-way (continuation bit on the last byte there is). */
    static const uint8_t cut[] = {0x80, 0x80};
    st_rd_init(&rd, cut, sizeof cut);
    assert_int_equal(st_rd_varint(&rd), 0);
    assert_int_not_equal(rd.err, 0);
}

static void test_truncation_is_sticky(void **state)
{
    static const uint8_t bytes[] = {0x00, 0x07, 0xaa};
    st_rd rd;
    st_rd_init(&rd, bytes, sizeof bytes);
    assert_int_equal(st_rd_i16(&rd), 7);
    assert_int_equal(st_rd_i32(&rd), 0); /* only one byte left */
    assert_int_not_equal(rd.err, 0);
    int err = rd.err;
    /* The cursor did not move, and every later read is a zero value, even ones that
     * would fit in what is left. */
    assert_int_equal(st_rd_left(&rd), 1);
    assert_int_equal(st_rd_i8(&rd), 0);
    assert_false(st_rd_bool(&rd));
    assert_int_equal(st_rd_varint(&rd), 0);
    assert_null(st_rd_raw(&rd, 1));
    st_str s = st_rd_str(&rd, false);
    assert_null(s.ptr);
    assert_int_equal(st_rd_array(&rd, false, 1), 0);
    assert_int_equal(rd.err, err);
    assert_int_equal(st_rd_left(&rd), 1);
}

static void test_skip_and_raw(void **state)
{
    static const uint8_t bytes[] = {1, 2, 3, 4, 5};
    st_rd rd;
    st_rd_init(&rd, bytes, sizeof bytes);
    st_rd_skip(&rd, 2);
    const uint8_t *p = st_rd_raw(&rd, 2);
    assert_ptr_equal(p, bytes + 2);
    assert_int_equal(st_rd_left(&rd), 1);
    st_rd_skip(&rd, 2); /* one too many */
    assert_int_not_equal(rd.err, 0);

    st_rd_init(&rd, bytes, sizeof bytes);
    assert_null(st_rd_raw(&rd, 6));
    assert_int_not_equal(rd.err, 0);

    /* Reading nothing from nothing is fine. */
    st_rd_init(&rd, NULL, 0);
    st_rd_skip(&rd, 0);
    assert_int_equal(rd.err, 0);
    st_rd_i8(&rd);
    assert_int_not_equal(rd.err, 0);
}

static void check_string_forms(bool flex)
{
    st_buf b = ST_BUF_INIT;
    st_wr_str(&b, flex, "orders", -1);
    st_wr_str(&b, flex, "order-lines", 5); /* explicit length: a prefix */
    st_wr_str(&b, flex, "", -1);
    st_wr_str(&b, flex, NULL, 0);
    st_wr_bytes(&b, flex, "\x00\x01\x02", 3);
    st_wr_bytes(&b, flex, "", 0);
    st_wr_bytes(&b, flex, NULL, 0);

    st_rd rd;
    rd_over(&rd, &b);
    st_str s = st_rd_str(&rd, flex);
    assert_true(st_str_eq(s, "orders"));
    s = st_rd_str(&rd, flex);
    assert_true(st_str_eq(s, "order"));
    s = st_rd_str(&rd, flex);
    assert_int_equal(s.len, 0);
    assert_true(st_str_eq(s, ""));
    s = st_rd_str(&rd, flex);
    assert_int_equal(s.len, -1);
    assert_null(s.ptr);
    st_str by = st_rd_bytes(&rd, flex);
    assert_int_equal(by.len, 3);
    assert_memory_equal(by.ptr, "\x00\x01\x02", 3);
    by = st_rd_bytes(&rd, flex);
    assert_int_equal(by.len, 0);
    by = st_rd_bytes(&rd, flex);
    assert_int_equal(by.len, -1);
    assert_int_equal(rd.err, 0);
    assert_int_equal(st_rd_left(&rd), 0);
    st_buf_free(&b);
}

static void test_strings_and_bytes(void **state)
{
    check_string_forms(false);
    check_string_forms(true);
}

static void test_wire_forms(void **state)
{
    st_buf b = ST_BUF_INIT;
    /* Classic: int16 length; compact: uvarint length + 1; null compact is 0. */
    st_wr_str(&b, false, "ab", -1);
    st_wr_str(&b, true, "ab", -1);
    st_wr_str(&b, true, NULL, 0);
    st_wr_bytes(&b, true, NULL, 0);
    st_wr_bytes(&b, false, NULL, 0);
    st_wr_str(&b, false, NULL, 0);
    static const uint8_t want[] = {0x00, 0x02, 'a',  'b',  0x03, 'a',  'b', 0x00,
                                   0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    st_buf_free(&b);
}

static void test_compact_null_on_wire(void **state)
{
    static const uint8_t zero[] = {0x00, 0x00};
    st_rd rd;
    st_rd_init(&rd, zero, sizeof zero);
    st_str s = st_rd_str(&rd, true);
    assert_int_equal(s.len, -1);
    assert_null(s.ptr);
    st_str by = st_rd_bytes(&rd, true);
    assert_int_equal(by.len, -1);
    assert_int_equal(rd.err, 0);
    assert_null(st_str_dup(s));
}

static void test_bad_lengths(void **state)
{
    st_rd rd;
    /* int16 length of -2 is not a thing. */
    static const uint8_t neg[] = {0xff, 0xfe};
    st_rd_init(&rd, neg, sizeof neg);
    st_rd_str(&rd, false);
    assert_int_not_equal(rd.err, 0);

    /* Longer than the frame. */
    static const uint8_t long_str[] = {0x00, 0x05, 'a', 'b'};
    st_rd_init(&rd, long_str, sizeof long_str);
    st_str s = st_rd_str(&rd, false);
    assert_int_equal(s.len, -1);
    assert_int_not_equal(rd.err, 0);

    static const uint8_t long_bytes[] = {0x7f, 0xff, 0xff, 0xff, 'a'};
    st_rd_init(&rd, long_bytes, sizeof long_bytes);
    st_rd_bytes(&rd, false);
    assert_int_not_equal(rd.err, 0);

    /* Compact length of UINT32_MAX → 4 GiB - 2: does not fit int32, rejected. */
    static const uint8_t huge_compact[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    st_rd_init(&rd, huge_compact, sizeof huge_compact);
    st_rd_bytes(&rd, true);
    assert_int_not_equal(rd.err, 0);
}

static void test_arrays(void **state)
{
    st_buf b = ST_BUF_INIT;
    st_wr_array(&b, false, 2);
    st_buf_put_i32(&b, 10);
    st_buf_put_i32(&b, 20);
    st_wr_array(&b, true, 2);
    st_buf_put_i32(&b, 30);
    st_buf_put_i32(&b, 40);
    st_wr_array(&b, false, -1);
    st_wr_array(&b, true, -1);
    st_wr_array(&b, true, 0);
    st_wr_array(&b, false, 0);

    st_rd rd;
    rd_over(&rd, &b);
    assert_int_equal(st_rd_array(&rd, false, 4), 2);
    assert_int_equal(st_rd_i32(&rd), 10);
    assert_int_equal(st_rd_i32(&rd), 20);
    assert_int_equal(st_rd_array(&rd, true, 4), 2);
    assert_int_equal(st_rd_i32(&rd), 30);
    assert_int_equal(st_rd_i32(&rd), 40);
    assert_int_equal(st_rd_array(&rd, false, 4), -1);
    assert_int_equal(st_rd_array(&rd, true, 4), -1);
    assert_int_equal(st_rd_array(&rd, true, 4), 0);
    assert_int_equal(st_rd_array(&rd, false, 4), 0);
    assert_int_equal(rd.err, 0);
    st_buf_free(&b);
}

static void test_hostile_array_counts(void **state)
{
    st_rd rd;
    /* Two million elements of at least 4 bytes in a 12-byte frame. */
    static const uint8_t big[] = {0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
    st_rd_init(&rd, big, sizeof big);
    assert_int_equal(st_rd_array(&rd, false, 4), 0);
    assert_int_not_equal(rd.err, 0);

    /* Exactly what fits is accepted; one more is not. */
    static const uint8_t two[] = {0x00, 0x00, 0x00, 0x02, 1, 2, 3, 4, 5, 6, 7, 8};
    st_rd_init(&rd, two, sizeof two);
    assert_int_equal(st_rd_array(&rd, false, 4), 2);
    assert_int_equal(rd.err, 0);
    static const uint8_t three[] = {0x00, 0x00, 0x00, 0x03, 1, 2, 3, 4, 5, 6, 7, 8};
    st_rd_init(&rd, three, sizeof three);
    assert_int_equal(st_rd_array(&rd, false, 4), 0);
    assert_int_not_equal(rd.err, 0);

    /* Negative counts other than -1. */
    static const uint8_t neg[] = {0x80, 0x00, 0x00, 0x00};
    st_rd_init(&rd, neg, sizeof neg);
    assert_int_equal(st_rd_array(&rd, false, 1), 0);
    assert_int_not_equal(rd.err, 0);

    /* Compact count of UINT32_MAX, and a zero element size that still costs a byte. */
    static const uint8_t compact[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2};
    st_rd_init(&rd, compact, sizeof compact);
    assert_int_equal(st_rd_array(&rd, true, 0), 0);
    assert_int_not_equal(rd.err, 0);
}

static void test_tags(void **state)
{
    /* Two tagged fields (tag 0 with 3 bytes, tag 5 with 0 bytes), then an int16. */
    static const uint8_t tagged[] = {0x02, 0x00, 0x03, 'x', 'y', 'z', 0x05, 0x00, 0x12, 0x34};
    st_rd rd;
    st_rd_init(&rd, tagged, sizeof tagged);
    st_rd_tags(&rd, true);
    assert_int_equal(st_rd_i16(&rd), 0x1234);
    assert_int_equal(rd.err, 0);

    /* Not flexible: nothing is read. */
    st_rd_init(&rd, tagged, sizeof tagged);
    st_rd_tags(&rd, false);
    assert_int_equal(st_rd_left(&rd), sizeof tagged);

    /* A field whose size runs past the end. */
    static const uint8_t overrun[] = {0x01, 0x00, 0x10, 'x'};
    st_rd_init(&rd, overrun, sizeof overrun);
    st_rd_tags(&rd, true);
    assert_int_not_equal(rd.err, 0);

    /* A huge field count fails at the end of input instead of looping. */
    static const uint8_t many[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x00};
    st_rd_init(&rd, many, sizeof many);
    st_rd_tags(&rd, true);
    assert_int_not_equal(rd.err, 0);

    /* The writer's empty block reads back. */
    st_buf b = ST_BUF_INIT;
    st_wr_tags(&b, false);
    assert_int_equal(b.len, 0);
    st_wr_tags(&b, true);
    assert_int_equal(b.len, 1);
    assert_int_equal(b.data[0], 0);
    st_rd_init(&rd, b.data, b.len);
    st_rd_tags(&rd, true);
    assert_int_equal(rd.err, 0);
    assert_int_equal(st_rd_left(&rd), 0);
    st_buf_free(&b);
}

static void test_str_helpers(void **state)
{
    st_str s = {"topic-a", 7};
    char small[4], big[16];
    assert_false(st_str_copy(small, sizeof small, s));
    assert_string_equal(small, "");
    assert_true(st_str_copy(big, sizeof big, s));
    assert_string_equal(big, "topic-a");
    char exact[8];
    assert_true(st_str_copy(exact, sizeof exact, s)); /* 7 bytes + NUL */
    st_str null = {NULL, -1};
    assert_false(st_str_copy(big, sizeof big, null));
    assert_string_equal(big, "");

    assert_true(st_str_eq(s, "topic-a"));
    assert_false(st_str_eq(s, "topic-ab"));
    assert_false(st_str_eq(s, "topic"));
    assert_false(st_str_eq(null, ""));

    char *d = st_str_dup(s);
    assert_string_equal(d, "topic-a");
    free(d);
    st_str empty = {"", 0};
    d = st_str_dup(empty);
    assert_string_equal(d, "");
    free(d);
    assert_null(st_str_dup(null));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_width_round_trip),
        cmocka_unit_test(test_big_endian_layout),
        cmocka_unit_test(test_varint_edges),
        cmocka_unit_test(test_varint_known_bytes),
        cmocka_unit_test(test_varint_size),
        cmocka_unit_test(test_overlong_varints_rejected),
        cmocka_unit_test(test_truncation_is_sticky),
        cmocka_unit_test(test_skip_and_raw),
        cmocka_unit_test(test_strings_and_bytes),
        cmocka_unit_test(test_wire_forms),
        cmocka_unit_test(test_compact_null_on_wire),
        cmocka_unit_test(test_bad_lengths),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_hostile_array_counts),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_str_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
