/*
 * The transaction API codecs: the bytes of several messages checked against the layout
 * of Kafka's message definitions (field order, which versions carry which fields, when
 * strings and arrays turn compact and tagged-field blocks appear); every kind at every
 * version decodes and re-encodes to the same bytes; truncated, padded, null-where-not-
 * allowed, unsupported-version and hostile-count inputs are refused without allocating
 * what their counts claim.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "broker/txn/txn_codec.h"
#include "common/errors.h"
#include "tests/fuzz/txn_samples.h"

#define PID      0, 0, 0, 0, 0, 0, 0x10, 0x92 /* 4242 */
#define TXN1     't', 'x', 'n', '-', '1'
#define ORDERS   'o', 'r', 'd', 'e', 'r', 's'
#define PAYMENTS 'p', 'a', 'y', 'm', 'e', 'n', 't', 's'
#define I32(v)   0, 0, 0, (v)

static void expect_sample(int kind, int16_t version, const uint8_t *want, size_t len)
{
    st_buf b = ST_BUF_INIT;
    txn_sample(kind, version, &b);
    if (b.len != len || memcmp(b.data, want, len) != 0) {
        for (size_t i = 0; i < b.len; i++)
            print_message("%02x%s", b.data[i], i + 1 == b.len ? "\n" : " ");
        fail_msg("kind %d v%d: %zu bytes, want %zu (or different bytes)", kind, version, b.len,
                 len);
    }
    st_buf_free(&b);
}
#define EXPECT(kind, version, ...)                                                                 \
    do {                                                                                           \
        const uint8_t want_[] = {__VA_ARGS__};                                                     \
        expect_sample(kind, version, want_, sizeof want_);                                         \
    } while (0)

static void test_wire_layout(void **state)
{
    /* InitProducerId: STRING (int16 length) before v2, COMPACT_NULLABLE_STRING from v2;
     * producer id and epoch only from v3 */
    EXPECT(0, 0, 0, 5, TXN1, 0, 0, 0xea, 0x60);
    EXPECT(0, 2, 6, TXN1, 0, 0, 0xea, 0x60, 0);
    EXPECT(0, 3, 6, TXN1, 0, 0, 0xea, 0x60, PID, 0, 3, 0);
    EXPECT(1, 1, 0, 0, 0, 0, 0, 0, PID, 0, 4);
    EXPECT(1, 4, 0, 0, 0, 0, 0, 0, PID, 0, 4, 0);
    /* AddPartitionsToTxn: int32 array counts before v3, count+1 uvarints from v3 */
    EXPECT(2, 0, 0, 5, TXN1, PID, 0, 4, I32(2), 0, 6, ORDERS, I32(3), I32(0), I32(1), I32(2), 0, 8,
           PAYMENTS, I32(1), I32(7));
    EXPECT(2, 3, 6, TXN1, PID, 0, 4, 3, 7, ORDERS, 4, I32(0), I32(1), I32(2), 0, 9, PAYMENTS, 2,
           I32(7), 0, 0);
    EXPECT(3, 0, I32(5), I32(2), 0, 6, ORDERS, I32(2), I32(0), 0, 0, I32(1), 0, 51, 0, 8, PAYMENTS,
           I32(1), I32(7), 0, 3);
    /* AddOffsetsToTxn and EndTxn */
    EXPECT(4, 1, 0, 5, TXN1, PID, 0, 4, 0, 7, 'g', 'r', 'o', 'u', 'p', '-', 'a');
    EXPECT(5, 3, I32(0), 0, 51, 0);
    EXPECT(6, 0, 0, 5, TXN1, PID, 0, 4, 1);
    EXPECT(6, 3, 6, TXN1, PID, 0, 4, 1, 0);
    EXPECT(7, 2, I32(10), 0, 47);
    /* WriteTxnMarkers: no throttle time in the answer */
    EXPECT(9, 0, I32(1), PID, I32(2), 0, 6, ORDERS, I32(2), I32(0), 0, 0, I32(1), 0, 51, 0, 8,
           PAYMENTS, I32(1), I32(7), 0, 3);
    /* TxnOffsetCommit: leader epoch from v2; generation, member and instance from v3 */
    EXPECT(10, 1, 0, 5, TXN1, 0, 7, 'g', 'r', 'o', 'u', 'p', '-', 'a', PID, 0, 4, I32(1), 0, 6,
           ORDERS, I32(2), I32(0), 0, 0, 0, 0, 0, 0, 0, 100, 0, 4, 'm', 'e', 't', 'a', I32(1), 0, 0,
           0, 0, 0, 0, 0, 200, 0xff, 0xff);
    EXPECT(10, 3, 6, TXN1, 8, 'g', 'r', 'o', 'u', 'p', '-', 'a', PID, 0, 4, I32(12), 9, 'm', 'e',
           'm', 'b', 'e', 'r', '-', '1', 11, 'i', 'n', 's', 't', 'a', 'n', 'c', 'e', '-', '1', 2, 7,
           ORDERS, 3, I32(0), 0, 0, 0, 0, 0, 0, 0, 100, I32(5), 5, 'm', 'e', 't', 'a', 0, I32(1), 0,
           0, 0, 0, 0, 0, 0, 200, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0);
    /* ListTransactions v0 (flexible from v0) */
    EXPECT(14, 0, 2, 8, 'O', 'n', 'g', 'o', 'i', 'n', 'g', 3, PID, 0, 0, 0, 0, 0, 0, 0, 77, 0);
}

/* Every kind at every version it serves: decode, check a few fields, re-encode to the
 * same bytes; every shorter prefix and one extra byte are refused. */
static void test_roundtrip_all(void **state)
{
    for (int kind = 0; kind < TXN_SAMPLE_KINDS; kind++) {
        const st_txn_api_range *r = st_txn_api_range_of(txn_kind_key(kind));
        assert_non_null(r);
        for (int16_t v = r->min_version; v <= r->max_version; v++) {
            st_buf b = ST_BUF_INIT, again = ST_BUF_INIT;
            txn_sample(kind, v, &b);
            int rc = txn_roundtrip(kind, v, b.data, b.len, &again);
            if (rc)
                fail_msg("%s kind %d v%d: decode of our own encoding: %s", r->name, kind, v,
                         st_err_name(rc));
            assert_int_equal(again.len, b.len);
            assert_memory_equal(again.data, b.data, b.len);
            for (size_t cut = 0; cut < b.len; cut++) {
                uint8_t *copy = malloc(cut ? cut : 1); /* exact size: ASan sees overreads */
                memcpy(copy, b.data, cut);
                st_buf_free(&again);
                if (txn_roundtrip(kind, v, copy, cut, &again) != ST_ERR__MALFORMED)
                    fail_msg("%s kind %d v%d: %zu of %zu bytes decoded", r->name, kind, v, cut,
                             b.len);
                free(copy);
            }
            st_buf_put_i8(&b, 0);
            assert_int_equal(txn_roundtrip(kind, v, b.data, b.len, &again), ST_ERR__MALFORMED);
            assert_int_equal(
                txn_roundtrip(kind, (int16_t)(r->max_version + 1), b.data, b.len - 1, &again),
                ST_ERR_UNSUPPORTED_VERSION);
            assert_int_equal(txn_roundtrip(kind, -1, b.data, b.len - 1, &again),
                             ST_ERR_UNSUPPORTED_VERSION);
            st_buf_free(&b);
            st_buf_free(&again);
        }
    }
}

static void test_decoded_fields(void **state)
{
    st_buf b = ST_BUF_INIT;
    st_arena a = ST_ARENA_INIT;
    st_rd rd;

    /* a v3 TxnOffsetCommit carries everything */
    txn_sample(10, 3, &b);
    st_rd_init(&rd, b.data, b.len);
    st_txn_offset_commit_req toc;
    assert_int_equal(st_txn_offset_commit_req_decode(&rd, 3, &a, &toc), 0);
    assert_true(st_str_eq(toc.transactional_id, "txn-1"));
    assert_true(st_str_eq(toc.group_id, "group-a"));
    assert_int_equal(toc.producer_id, 4242);
    assert_int_equal(toc.producer_epoch, 4);
    assert_int_equal(toc.generation_id, 12);
    assert_true(st_str_eq(toc.member_id, "member-1"));
    assert_true(st_str_eq(toc.group_instance_id, "instance-1"));
    assert_int_equal(toc.ntopics, 1);
    assert_int_equal(toc.topics[0].npartitions, 2);
    assert_int_equal(toc.topics[0].partitions[0].committed_offset, 100);
    assert_int_equal(toc.topics[0].partitions[0].committed_leader_epoch, 5);
    assert_true(st_str_eq(toc.topics[0].partitions[0].committed_metadata, "meta"));
    assert_int_equal(toc.topics[0].partitions[1].committed_metadata.len, -1);
    st_buf_free(&b);

    /* a v0 one gets the defaults of the fields it lacks */
    txn_sample(10, 0, &b);
    st_rd_init(&rd, b.data, b.len);
    assert_int_equal(st_txn_offset_commit_req_decode(&rd, 0, &a, &toc), 0);
    assert_int_equal(toc.generation_id, -1);
    assert_int_equal(toc.member_id.len, 0);
    assert_int_equal(toc.group_instance_id.len, -1);
    assert_int_equal(toc.topics[0].partitions[0].committed_leader_epoch, -1);
    st_buf_free(&b);

    /* InitProducerId before v3: no current id and epoch */
    txn_sample(0, 1, &b);
    st_rd_init(&rd, b.data, b.len);
    st_init_pid_req ip;
    assert_int_equal(st_init_pid_req_decode(&rd, 1, &ip), 0);
    assert_true(st_str_eq(ip.transactional_id, "txn-1"));
    assert_int_equal(ip.transaction_timeout_ms, 60000);
    assert_int_equal(ip.producer_id, -1);
    assert_int_equal(ip.producer_epoch, -1);
    st_buf_free(&b);

    /* WriteTxnMarkers: both markers, the second an abort of one topic */
    txn_sample(8, 1, &b);
    st_rd_init(&rd, b.data, b.len);
    st_write_txn_markers_req w;
    assert_int_equal(st_write_txn_markers_req_decode(&rd, 1, &a, &w), 0);
    assert_int_equal(w.nmarkers, 2);
    assert_true(w.markers[0].committed);
    assert_false(w.markers[1].committed);
    assert_int_equal(w.markers[1].producer_id, 77);
    assert_int_equal(w.markers[1].ntopics, 1);
    assert_true(st_str_eq(w.markers[1].topics[0].name, "payments"));
    assert_int_equal(w.markers[1].topics[0].partitions[0], 7);
    assert_int_equal(w.markers[0].coordinator_epoch, 9);
    st_buf_free(&b);
    st_arena_free(&a);
}

/* Null where Kafka allows none, hostile counts, a null array. */
static void test_hostile(void **state)
{
    st_arena a = ST_ARENA_INIT;
    st_rd rd;

    /* InitProducerId allows a null transactional id (idempotent producers) */
    const uint8_t ip_null[] = {0xff, 0xff, 0, 0, 0xea, 0x60};
    st_init_pid_req ip;
    st_rd_init(&rd, ip_null, sizeof ip_null);
    assert_int_equal(st_init_pid_req_decode(&rd, 0, &ip), 0);
    assert_int_equal(ip.transactional_id.len, -1);

    /* EndTxn does not */
    const uint8_t end_null[] = {0xff, 0xff, PID, 0, 4, 1};
    st_end_txn_req et;
    st_rd_init(&rd, end_null, sizeof end_null);
    assert_int_equal(st_end_txn_req_decode(&rd, 0, &et), ST_ERR__MALFORMED);
    /* nor AddPartitionsToTxn in the compact form (length 0 is null) */
    const uint8_t ap_null[] = {0, PID, 0, 4, 1, 0};
    st_add_partitions_req ap;
    st_rd_init(&rd, ap_null, sizeof ap_null);
    assert_int_equal(st_add_partitions_req_decode(&rd, 3, &a, &ap), ST_ERR__MALFORMED);

    /* a count of 2^31-1 topics in a few bytes: refused before anything is allocated */
    const uint8_t ap_huge[] = {0, 1, 'x', PID, 0, 4, 0x7f, 0xff, 0xff, 0xff, 0, 1, 'a'};
    st_rd_init(&rd, ap_huge, sizeof ap_huge);
    assert_int_equal(st_add_partitions_req_decode(&rd, 0, &a, &ap), ST_ERR__MALFORMED);
    assert_null(a.head);
    /* the same as a compact count (uvarint 0xfffffff0) */
    const uint8_t ap_huge_c[] = {2, 'x', PID, 0, 4, 0xf0, 0xff, 0xff, 0xff, 0x0f, 0};
    st_rd_init(&rd, ap_huge_c, sizeof ap_huge_c);
    assert_int_equal(st_add_partitions_req_decode(&rd, 3, &a, &ap), ST_ERR__MALFORMED);
    assert_null(a.head);
    /* a plausible topic count, then a hostile partition count inside it */
    const uint8_t ap_inner[] = {0, 1, 'x', PID, 0, 4, I32(1), 0, 1, 'a', 0x10, 0, 0, 0, I32(0)};
    st_rd_init(&rd, ap_inner, sizeof ap_inner);
    assert_int_equal(st_add_partitions_req_decode(&rd, 0, &a, &ap), ST_ERR__MALFORMED);
    st_arena_free(&a);

    /* a null topic array reads as empty */
    const uint8_t ap_nullarr[] = {0, 1, 'x', PID, 0, 4, 0xff, 0xff, 0xff, 0xff};
    st_rd_init(&rd, ap_nullarr, sizeof ap_nullarr);
    assert_int_equal(st_add_partitions_req_decode(&rd, 0, &a, &ap), 0);
    assert_int_equal(ap.ntopics, 0);

    /* ListTransactions: a hostile producer id filter count */
    const uint8_t lt_huge[] = {1, 0xff, 0xff, 0xff, 0x7f, 0};
    st_list_txns_req lt;
    st_rd_init(&rd, lt_huge, sizeof lt_huge);
    assert_int_equal(st_list_txns_req_decode(&rd, 0, &a, &lt), ST_ERR__MALFORMED);
    st_arena_free(&a);
}

static void test_fenced_error_and_names(void **state)
{
    /* PRODUCER_FENCED only for versions that know it */
    assert_int_equal(st_txn_fenced_error(ST_API_INIT_PRODUCER_ID, 3, ST_ERR_PRODUCER_FENCED),
                     ST_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(st_txn_fenced_error(ST_API_INIT_PRODUCER_ID, 4, ST_ERR_PRODUCER_FENCED),
                     ST_ERR_PRODUCER_FENCED);
    assert_int_equal(st_txn_fenced_error(ST_API_END_TXN, 1, ST_ERR_PRODUCER_FENCED),
                     ST_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(st_txn_fenced_error(ST_API_END_TXN, 2, ST_ERR_PRODUCER_FENCED),
                     ST_ERR_PRODUCER_FENCED);
    assert_int_equal(
        st_txn_fenced_error(ST_API_ADD_PARTITIONS_TO_TXN, 0, ST_ERR_CONCURRENT_TRANSACTIONS),
        ST_ERR_CONCURRENT_TRANSACTIONS);
    /* the new codes have their Kafka names and numbers */
    assert_string_equal(st_err_name(48), "INVALID_TXN_STATE");
    assert_string_equal(st_err_name(49), "INVALID_PRODUCER_ID_MAPPING");
    assert_string_equal(st_err_name(50), "INVALID_TRANSACTION_TIMEOUT");
    assert_string_equal(st_err_name(51), "CONCURRENT_TRANSACTIONS");
    assert_string_equal(st_err_name(52), "TRANSACTION_COORDINATOR_FENCED");
    assert_string_equal(st_err_name(55), "OPERATION_NOT_ATTEMPTED");
    assert_string_equal(st_err_name(90), "PRODUCER_FENCED");
    assert_string_equal(st_err_name(105), "TRANSACTIONAL_ID_NOT_FOUND");
    assert_null(st_txn_api_range_of(0));
    assert_string_equal(st_txn_api_range_of(26)->name, "EndTxn");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_layout),
        cmocka_unit_test(test_roundtrip_all),
        cmocka_unit_test(test_decoded_fields),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_fenced_error_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
