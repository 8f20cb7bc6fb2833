/*
 * The records transactions leave in logs: __transaction_state keys and values byte for
 * byte in Kafka's layout (TransactionLogKey v0, TransactionLogValue v0, and v1 read),
 * a state written and loaded back, control markers and the batch that carries one, and
 * hostile values refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "broker/log/batch.h"
#include "broker/txn/txn_log.h"
#include "common/crc32c.h"
#include "common/errors.h"

#define S(s)   ((st_str){(s), (int32_t)(sizeof(s) - 1)})
#define B(arr) ((st_bytes){(arr), (int32_t)sizeof(arr)})
#define I64(v) 0, 0, 0, 0, 0, 0, 0, (v)
#define I32(v) 0, 0, 0, (v)

static void test_key(void **state)
{
    st_buf b = ST_BUF_INIT;
    st_txn_log_key_encode(&b, "app");
    const uint8_t want[] = {0, 0, 0, 3, 'a', 'p', 'p'};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    st_str id;
    assert_int_equal(st_txn_log_key_decode((st_bytes){b.data, (int32_t)b.len}, &id), 0);
    assert_true(st_str_eq(id, "app"));
    /* another version (a group offset key shares no layout with us), truncated, long */
    const uint8_t v1[] = {0, 1, 0, 3, 'a', 'p', 'p'}, cut[] = {0, 0, 0, 3, 'a', 'p'},
                  extra[] = {0, 0, 0, 1, 'a', 0}, null_id[] = {0, 0, 0xff, 0xff};
    assert_int_equal(st_txn_log_key_decode(B(v1), &id), ST_ERR__MALFORMED);
    assert_int_equal(st_txn_log_key_decode(B(cut), &id), ST_ERR__MALFORMED);
    assert_int_equal(st_txn_log_key_decode(B(extra), &id), ST_ERR__MALFORMED);
    assert_int_equal(st_txn_log_key_decode(B(null_id), &id), ST_ERR__MALFORMED);
    assert_int_equal(st_txn_log_key_decode((st_bytes){NULL, -1}, &id), ST_ERR__MALFORMED);
    st_buf_free(&b);
}

static void test_value_roundtrip(void **state)
{
    static const st_txn_limits lim = {900000, 1000000, 100};
    st_txn_meta *m = st_txn_meta_new("app", 3, 9, 1);
    int16_t err;
    st_txn_init_pid(m, &lim, 60000, -1, -1, 1, &err);
    /* partitions of two topics, interleaved: written grouped by topic */
    st_str topics[3] = {S("a"), S("bb"), S("a")};
    int32_t parts[3] = {2, 0, 5};
    int32_t added;
    assert_int_equal(st_txn_add_partitions(m, &lim, 9, 0, topics, parts, 3, 100, &added), 0);
    st_buf b = ST_BUF_INIT;
    st_txn_log_value_encode(&b, m);
    const uint8_t want[] = {0, 0,      I64(9), 0,      0,      0,        0,       0xea,   0x60,
                            1, I32(2), 0,      1,      'a',    I32(2),   I32(2),  I32(5), 0,
                            2, 'b',    'b',    I32(1), I32(0), I64(100), I64(100)};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);

    st_arena a = ST_ARENA_INIT;
    st_txn_log_value v;
    assert_int_equal(st_txn_log_value_decode((st_bytes){b.data, (int32_t)b.len}, &a, &v), 0);
    st_txn_meta *back = st_txn_meta_from_log(S("app"), &v);
    assert_non_null(back);
    assert_string_equal(back->transactional_id, "app");
    assert_int_equal(back->producer_id, 9);
    assert_int_equal(back->producer_epoch, 0);
    assert_int_equal(back->timeout_ms, 60000);
    assert_int_equal(back->status, ST_TXN_ONGOING);
    assert_int_equal(back->start_ms, 100);
    assert_int_equal(back->last_update_ms, 100);
    assert_int_equal(back->npartitions, 3);
    assert_true(st_txn_has_partition(back, S("a"), 5));
    assert_true(st_txn_has_partition(back, S("bb"), 0));
    /* the loaded state behaves: the same producer can end its transaction */
    bool markers;
    assert_int_equal(st_txn_end(back, 9, 0, true, 200, &markers), 0);
    assert_true(markers);
    st_txn_meta_free(back);
    st_txn_meta_free(m);
    st_buf_free(&b);
    st_arena_free(&a);
}

static void test_value_v1_and_hostile(void **state)
{
    st_arena a = ST_ARENA_INIT;
    st_txn_log_value v;
    /* v1 (flexible): compact array and string, tagged fields (one, tag 0, 8 bytes) */
    const uint8_t v1[] = {0, 1,   I64(9), 0,      3, 0,       0,       0x75, 0x30, 4, 2,
                          2, 't', 2,      I32(7), 0, I64(50), I64(40), 1,    0,    8, I64(8)};
    assert_int_equal(st_txn_log_value_decode(B(v1), &a, &v), 0);
    assert_int_equal(v.producer_epoch, 3);
    assert_int_equal(v.timeout_ms, 30000);
    assert_int_equal(v.status, ST_TXN_COMPLETE_COMMIT);
    assert_int_equal(v.ntopics, 1);
    assert_true(st_str_eq(v.topics[0].name, "t"));
    assert_int_equal(v.topics[0].partitions[0], 7);
    assert_int_equal(v.start_ms, 40);
    /* a null partition array (v0) reads as none */
    const uint8_t nullarr[] = {0,    0,    I64(9), 0,    0,      I32(1), 0,
                               0xff, 0xff, 0xff,   0xff, I64(1), I64(1)};
    assert_int_equal(st_txn_log_value_decode(B(nullarr), &a, &v), 0);
    assert_int_equal(v.ntopics, 0);
    /* an unknown status, an unknown version, a hostile count, a byte too many */
    const uint8_t bad_status[] = {0, 0, I64(9), 0, 0, I32(1), 8, I32(0), I64(1), I64(1)};
    const uint8_t bad_version[] = {0, 2, I64(9), 0, 0, I32(1), 0, I32(0), I64(1), I64(1)};
    const uint8_t huge[] = {0, 0, I64(9), 0, 0, I32(1), 1, 0x7f, 0xff, 0xff, 0xff, I64(1), I64(1)};
    const uint8_t extra[] = {0, 0, I64(9), 0, 0, I32(1), 0, I32(0), I64(1), I64(1), 0};
    assert_int_equal(st_txn_log_value_decode(B(bad_status), &a, &v), ST_ERR__MALFORMED);
    assert_int_equal(st_txn_log_value_decode(B(bad_version), &a, &v), ST_ERR__MALFORMED);
    st_arena_free(&a);
    assert_int_equal(st_txn_log_value_decode(B(huge), &a, &v), ST_ERR__MALFORMED);
    assert_null(a.head); /* nothing allocated for the claimed count */
    assert_int_equal(st_txn_log_value_decode(B(extra), &a, &v), ST_ERR__MALFORMED);
    for (size_t cut = 0; cut < sizeof v1; cut++)
        assert_int_equal(st_txn_log_value_decode((st_bytes){v1, (int32_t)cut}, &a, &v),
                         ST_ERR__MALFORMED);
    assert_int_equal(st_txn_log_value_decode((st_bytes){NULL, -1}, &a, &v), ST_ERR__MALFORMED);
    st_arena_free(&a);
}

static void test_markers(void **state)
{
    bool commit;
    int32_t epoch;
    const uint8_t k_commit[] = {0, 0, 0, 1}, k_abort[] = {0, 0, 0, 0}, k_bad[] = {0, 0, 0, 2},
                  k_v1[] = {0, 1, 0, 1}, val[] = {0, 0, 0, 0, 0, 7},
                  val_newer[] = {0, 1, 0, 0, 0, 7, 9}, val_short[] = {0, 0, 0, 0, 7};
    assert_int_equal(st_txn_marker_key_decode(B(k_commit), &commit), 0);
    assert_true(commit);
    assert_int_equal(st_txn_marker_key_decode(B(k_abort), &commit), 0);
    assert_false(commit);
    assert_int_equal(st_txn_marker_key_decode(B(k_bad), &commit), ST_ERR__MALFORMED);
    assert_int_equal(st_txn_marker_key_decode(B(k_v1), &commit), ST_ERR__MALFORMED);
    assert_int_equal(st_txn_marker_value_decode(B(val), &epoch), 0);
    assert_int_equal(epoch, 7);
    assert_int_equal(st_txn_marker_value_decode(B(val_newer), &epoch), 0);
    assert_int_equal(st_txn_marker_value_decode(B(val_short), &epoch), ST_ERR__MALFORMED);

    /* the batch: transactional and control, the producer's id and epoch, one record */
    st_buf b = ST_BUF_INIT;
    size_t n = st_txn_marker_batch(&b, 42, 1700000000000, 9, 3, true, 5);
    assert_int_equal(n, b.len);
    st_batch_info info;
    assert_int_equal(st_batch_header(b.data, b.len, &info), 0);
    assert_int_equal(info.attributes, ST_BATCH_ATTR_TRANSACTIONAL | ST_BATCH_ATTR_CONTROL);
    assert_int_equal(info.base_offset, 42);
    assert_int_equal(info.producer_id, 9);
    assert_int_equal(info.producer_epoch, 3);
    assert_int_equal(info.base_sequence, -1);
    assert_int_equal(info.records_count, 1);
    assert_int_equal(info.last_offset_delta, 0);
    assert_int_equal(st_be32(b.data + 17), st_crc32c(0, b.data + 21, b.len - 21));
    st_record_iter it;
    char why[200];
    assert_int_equal(st_records_open(&it, b.data, b.len, why, sizeof why), 0);
    st_record r;
    assert_int_equal(st_records_next(&it, &r), 1);
    assert_int_equal(r.offset, 42);
    assert_int_equal(r.timestamp, 1700000000000);
    assert_int_equal(st_txn_marker_key_decode(r.key, &commit), 0);
    assert_true(commit);
    assert_int_equal(st_txn_marker_value_decode(r.value, &epoch), 0);
    assert_int_equal(epoch, 5);
    assert_int_equal(st_records_next(&it, &r), 0);
    st_records_close(&it);
    st_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_value_roundtrip),
        cmocka_unit_test(test_value_v1_and_hostile),
        cmocka_unit_test(test_markers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
