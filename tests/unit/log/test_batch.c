/* Unit tests for broker/log/batch.c: validation of produced batches and append edits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "broker/log/batch.h"
#include "common/errors.h"
#include "tests/unit/log/build_batch.h"

#define MAX_MSG 1048588

static int validate(uint8_t *b, size_t size, char *why, size_t whylen)
{
    st_batch_info info;
    return st_batch_validate(b, size, MAX_MSG, &info, why, whylen);
}

static void test_valid_batches(void **state)
{
    uint8_t b[8192];
    char why[200] = "";
    st_batch_info info;
    size_t size = build_batch(b, sizeof b, 5, 1700000000000, 20);
    assert_int_equal(st_batch_validate(b, size, MAX_MSG, &info, why, sizeof why), ST_ERR_NONE);
    assert_int_equal(info.records_count, 5);
    assert_int_equal(info.last_offset_delta, 4);
    assert_int_equal(info.size, (int32_t)size);
    assert_int_equal(info.base_timestamp, 1700000000000);
    assert_int_equal(info.max_timestamp, 1700000000004);
    assert_int_equal(info.producer_id, -1);
    assert_true(st_batch_intact(b, size));

    size = build_batch(b, sizeof b, 1, 0, 0);
    assert_int_equal(validate(b, size, why, sizeof why), ST_ERR_NONE);

    /* three batches back to back */
    uint8_t set[8192];
    size_t len = 0;
    for (int i = 1; i <= 3; i++)
        len += build_batch(set + len, sizeof set - len, i, 1000, 10);
    int nbatches = 0;
    int64_t nrecords = 0;
    assert_int_equal(st_batches_validate(set, len, MAX_MSG, &nbatches, &nrecords, why, sizeof why),
                     ST_ERR_NONE);
    assert_int_equal(nbatches, 3);
    assert_int_equal(nrecords, 6);
}

static void test_bad_crc(void **state)
{
    uint8_t b[8192];
    char why[200] = "";
    size_t size = build_batch(b, sizeof b, 3, 1000, 10);
    b[size - 3] ^= 0x01; /* a value byte */
    assert_int_equal(validate(b, size, why, sizeof why), ST_ERR_CORRUPT_MESSAGE);
    assert_non_null(strstr(why, "CRC"));
    assert_false(st_batch_intact(b, size));
}

static void test_invalid_records(void **state)
{
    uint8_t b[8192];
    char why[200];
    size_t size;

    /* recordsCount disagrees with lastOffsetDelta */
    size = build_batch(b, sizeof b, 3, 1000, 10);
    put_be(b + 57, 4, 4);
    fix_crc(b, size);
    assert_int_equal(validate(b, size, why, sizeof why), ST_ERR_INVALID_RECORD);
    assert_non_null(strstr(why, "lastOffsetDelta"));

    /* both say 2 but three records are present: bytes left over */
    size = build_batch(b, sizeof b, 3, 1000, 10);
    put_be(b + 57, 2, 4);
    put_be(b + 23, 1, 4);
    fix_crc(b, size);
    assert_int_equal(validate(b, size, why, sizeof why), ST_ERR_INVALID_RECORD);

    /* baseOffset is outside the CRC but a producer must send 0 */
    size = build_batch(b, sizeof b, 3, 1000, 10);
    put_be(b, 7, 8);
    assert_int_equal(validate(b, size, why, sizeof why), ST_ERR_INVALID_RECORD);
    assert_non_null(strstr(why, "baseOffset"));

    /* control batch */
    size = build_batch(b, sizeof b, 1, 1000, 10);
    put_be(b + 21, 0x20, 2);
    fix_crc(b, size);
    assert_int_equal(validate(b, size, why, sizeof why), ST_ERR_INVALID_RECORD);
    assert_non_null(strstr(why, "control"));

    /* idempotent producer with a negative sequence */
    size = build_batch(b, sizeof b, 1, 1000, 10);
    put_be(b + 43, 42, 8);
    fix_crc(b, size);
    assert_int_equal(validate(b, size, why, sizeof why), ST_ERR_INVALID_RECORD);

    /* a record whose offsetDelta is not its index: swap in a batch of 1 record with
     * offsetDelta 0 claimed as the second record (record 0's delta byte patched to 1) */
    size = build_batch(b, sizeof b, 1, 1000, 10);
    /* record: len varint (1 byte), attributes, tsDelta (1 byte), offsetDelta */
    assert_int_equal(b[61 + 3], 0);
    b[61 + 3] = 2; /* zigzag 1 */
    fix_crc(b, size);
    assert_int_equal(validate(b, size, why, sizeof why), ST_ERR_INVALID_RECORD);
    assert_non_null(strstr(why, "offsetDelta"));

    /* a record length running past the batch */
    size = build_batch(b, sizeof b, 1, 1000, 10);
    b[61] = 0x7e; /* length 63, more than is left */
    fix_crc(b, size);
    assert_int_equal(validate(b, size, why, sizeof why), ST_ERR_INVALID_RECORD);
}

static void test_too_large(void **state)
{
    uint8_t b[8192];
    char why[200];
    st_batch_info info;
    size_t size = build_batch(b, sizeof b, 4, 1000, 500);
    assert_int_equal(st_batch_validate(b, size, (int32_t)size - 1, &info, why, sizeof why),
                     ST_ERR_MESSAGE_TOO_LARGE);
    assert_non_null(strstr(why, "max.message.bytes"));
    assert_int_equal(st_batch_validate(b, size, (int32_t)size, &info, why, sizeof why),
                     ST_ERR_NONE);
    int n;
    int64_t r;
    assert_int_equal(st_batches_validate(b, size, 100, &n, &r, why, sizeof why),
                     ST_ERR_MESSAGE_TOO_LARGE);
}

static void test_truncated(void **state)
{
    uint8_t b[8192];
    char why[200];
    st_batch_info info;
    int n;
    int64_t r;
    size_t size = build_batch(b, sizeof b, 3, 1000, 10);
    assert_int_equal(st_batches_validate(b, size - 5, MAX_MSG, &n, &r, why, sizeof why),
                     ST_ERR_CORRUPT_MESSAGE);
    assert_non_null(strstr(why, "truncated"));
    assert_int_equal(st_batches_validate(b, 30, MAX_MSG, &n, &r, why, sizeof why),
                     ST_ERR_CORRUPT_MESSAGE);
    assert_int_equal(st_batches_validate(b, 7, MAX_MSG, &n, &r, why, sizeof why),
                     ST_ERR_CORRUPT_MESSAGE);
    assert_int_equal(st_batches_validate(b, 0, MAX_MSG, &n, &r, why, sizeof why),
                     ST_ERR_INVALID_RECORD);
    assert_int_equal(st_batch_validate(b, 40, MAX_MSG, &info, why, sizeof why),
                     ST_ERR_CORRUPT_MESSAGE);
    assert_int_equal(st_batch_header(b, 60, &info), ST_ERR_CORRUPT_MESSAGE);
    assert_int_equal(st_batch_header(b, size - 1, &info), ST_ERR_CORRUPT_MESSAGE);
    assert_int_equal(st_batch_header(b, size, &info), ST_ERR_NONE);
    assert_false(st_batch_intact(b, size - 1));
    /* one good batch followed by stray bytes */
    memset(b + size, 0, 8);
    assert_int_equal(st_batches_validate(b, size + 8, MAX_MSG, &n, &r, why, sizeof why),
                     ST_ERR_CORRUPT_MESSAGE);
    /* batchLength far too large for the buffer, and negative */
    put_be(b + 8, 0x7fffffff, 4);
    assert_int_equal(st_batches_validate(b, size, MAX_MSG, &n, &r, why, sizeof why),
                     ST_ERR_CORRUPT_MESSAGE);
    put_be(b + 8, 0xfffffff0, 4);
    assert_int_equal(st_batches_validate(b, size, MAX_MSG, &n, &r, why, sizeof why),
                     ST_ERR_CORRUPT_MESSAGE);
}

static void test_bad_magic(void **state)
{
    uint8_t b[8192];
    char why[200];
    size_t size = build_batch(b, sizeof b, 1, 1000, 10);
    b[16] = 1;
    assert_int_equal(validate(b, size, why, sizeof why), ST_ERR_CORRUPT_MESSAGE);
    assert_non_null(strstr(why, "magic"));
}

static void test_append_edits(void **state)
{
    uint8_t b[8192];
    char why[200];
    st_batch_info info;
    size_t size = build_batch(b, sizeof b, 3, 1000, 10);

    st_batch_set_base_offset(b, 123456789012);
    st_batch_set_leader_epoch(b, 7);
    assert_true(st_batch_intact(b, size)); /* outside the CRC */
    assert_int_equal(st_batch_header(b, size, &info), ST_ERR_NONE);
    assert_int_equal(info.base_offset, 123456789012);
    assert_int_equal(info.partition_leader_epoch, 7);

    st_batch_set_log_append_time(b, size, 1700000012345);
    assert_true(st_batch_intact(b, size));
    assert_int_equal(st_batch_header(b, size, &info), ST_ERR_NONE);
    assert_int_equal(info.max_timestamp, 1700000012345);
    assert_true(info.attributes & ST_BATCH_ATTR_LOG_APPEND_TIME);
    /* what the broker writes, a producer may not send (Kafka: INVALID_TIMESTAMP) */
    st_batch_set_base_offset(b, 0);
    assert_int_equal(validate(b, size, why, sizeof why), ST_ERR_INVALID_TIMESTAMP);
    assert_non_null(strstr(why, "LogAppendTime"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_batches),   cmocka_unit_test(test_bad_crc),
        cmocka_unit_test(test_invalid_records), cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_truncated),       cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_append_edits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
