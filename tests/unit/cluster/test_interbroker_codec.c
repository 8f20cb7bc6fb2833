/*
 * The inter-broker codecs: each message kind encodes, decodes to the same fields and
 * re-encodes to the same bytes; the first bytes of a few are checked against the
 * layout of Kafka's definitions (compact arrays, tagged fields); truncated, padded and
 * hostile inputs are refused without allocating what their counts claim.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/cluster/interbroker_codec.h"
#include "common/errors.h"
#include "tests/fuzz/ib_samples.h"

static void test_leader_and_isr(void **state)
{
    st_buf b = ST_BUF_INIT;
    ib_sample(0, &b);
    /* controller_id, controller_epoch, broker_epoch, then a compact array of 1 topic
     * (uvarint 2) named by a compact string of 6 (uvarint 7) */
    const uint8_t head[] = {0, 0, 0,   1, 0, 0,   0,   3,   0,   0,   0,   0, 0,
                            0, 0, 100, 2, 7, 'o', 'r', 'd', 'e', 'r', 's', 3};
    assert_memory_equal(b.data, head, sizeof head);
    st_rd rd;
    st_rd_init(&rd, b.data, b.len);
    st_ib_arena a = {0};
    st_leader_and_isr_req m;
    assert_int_equal(st_leader_and_isr_req_decode(&rd, &a, &m), 0);
    assert_int_equal(m.controller_id, 1);
    assert_int_equal(m.broker_epoch, 100);
    assert_int_equal(m.ntopics, 1);
    assert_true(st_str_eq(m.topics[0].name, "orders"));
    assert_int_equal(m.topics[0].npartitions, 2);
    st_lai_partition *p = &m.topics[0].partitions[1];
    assert_int_equal(p->leader, 2);
    assert_int_equal(p->leader_epoch, 4);
    assert_int_equal(p->isr.n, 1);
    assert_int_equal(p->replicas.ids[1], 3);
    assert_int_equal(p->adding_replicas.ids[0], 4);
    assert_int_equal(p->removing_replicas.ids[0], 1);
    assert_false(p->is_new);
    assert_true(m.topics[0].partitions[0].is_new);
    assert_int_equal(m.nlive_leaders, 2);
    assert_true(st_str_eq(m.live_leaders[1].host, "b2"));
    assert_int_equal(m.live_leaders[1].port, 9093);
    st_buf again = ST_BUF_INIT;
    st_leader_and_isr_req_encode(&again, &m);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    st_ib_arena_free(&a);
    st_buf_free(&again);
    st_buf_free(&b);
}

static void test_update_metadata_and_ofle(void **state)
{
    st_buf b = ST_BUF_INIT;
    ib_sample(4, &b);
    st_rd rd;
    st_rd_init(&rd, b.data, b.len);
    st_ib_arena a = {0};
    st_update_metadata_req m;
    assert_int_equal(st_update_metadata_req_decode(&rd, &a, &m), 0);
    assert_int_equal(m.nlive_brokers, 2);
    assert_int_equal(m.live_brokers[0].nendpoints, 2);
    assert_true(st_str_eq(m.live_brokers[0].endpoints[1].listener, "INTERNAL"));
    assert_int_equal(m.live_brokers[0].endpoints[1].security_protocol, 2);
    assert_true(st_str_eq(m.live_brokers[0].rack, "rack-a"));
    assert_int_equal(m.live_brokers[1].rack.len, -1); /* null rack stays null */
    assert_int_equal(m.topics[0].partitions[0].offline_replicas.ids[0], 3);
    st_ib_arena_free(&a);
    st_buf_free(&b);

    ib_sample(9, &b);
    st_rd_init(&rd, b.data, b.len);
    st_offset_for_leader_epoch_resp r;
    assert_int_equal(st_offset_for_leader_epoch_resp_decode(&rd, &a, &r), 0);
    assert_int_equal(r.topics[0].partitions[0].end_offset, 1200);
    assert_int_equal(r.topics[0].partitions[1].error_code, 74);
    assert_int_equal(r.topics[0].partitions[1].end_offset, -1);
    st_ib_arena_free(&a);
    st_buf_free(&b);

    /* ControlledShutdown v3: broker id, epoch, an empty tag block: 13 bytes */
    ib_sample(6, &b);
    assert_int_equal(b.len, 13);
    st_controlled_shutdown_req cs;
    st_rd_init(&rd, b.data, b.len);
    assert_int_equal(st_controlled_shutdown_req_decode(&rd, &cs), 0);
    assert_int_equal(cs.broker_id, 2);
    assert_int_equal(cs.broker_epoch, 77);
    st_buf_free(&b);
}

/* Every kind: decode → encode gives the same bytes; every truncation and a trailing
 * byte are refused. Uses the fuzzer's own round trip through the public functions. */
static int decode_kind(int kind, const uint8_t *p, size_t n, st_buf *out)
{
    st_rd rd;
    st_rd_init(&rd, p, n);
    st_ib_arena a = {0};
    int rc = -1;
    union {
        st_leader_and_isr_req lai;
        st_ib_partition_errors_resp errs;
        st_stop_replica_req sr;
        st_update_metadata_req um;
        int16_t code;
        st_controlled_shutdown_req csq;
        st_controlled_shutdown_resp csr;
        st_offset_for_leader_epoch_req oq;
        st_offset_for_leader_epoch_resp or ;
        st_alter_partition_req aq;
        st_alter_partition_resp ar;
    } m;
    switch (kind) {
    case 0:
        if (!(rc = st_leader_and_isr_req_decode(&rd, &a, &m.lai)))
            st_leader_and_isr_req_encode(out, &m.lai);
        break;
    case 1:
        if (!(rc = st_leader_and_isr_resp_decode(&rd, &a, &m.errs)))
            st_leader_and_isr_resp_encode(out, &m.errs);
        break;
    case 2:
        if (!(rc = st_stop_replica_req_decode(&rd, &a, &m.sr)))
            st_stop_replica_req_encode(out, &m.sr);
        break;
    case 3:
        if (!(rc = st_stop_replica_resp_decode(&rd, &a, &m.errs)))
            st_stop_replica_resp_encode(out, &m.errs);
        break;
    case 4:
        if (!(rc = st_update_metadata_req_decode(&rd, &a, &m.um)))
            st_update_metadata_req_encode(out, &m.um);
        break;
    case 5:
        if (!(rc = st_update_metadata_resp_decode(&rd, &m.code)))
            st_update_metadata_resp_encode(out, m.code);
        break;
    case 6:
        if (!(rc = st_controlled_shutdown_req_decode(&rd, &m.csq)))
            st_controlled_shutdown_req_encode(out, &m.csq);
        break;
    case 7:
        if (!(rc = st_controlled_shutdown_resp_decode(&rd, &a, &m.csr)))
            st_controlled_shutdown_resp_encode(out, &m.csr);
        break;
    case 8:
        if (!(rc = st_offset_for_leader_epoch_req_decode(&rd, &a, &m.oq)))
            st_offset_for_leader_epoch_req_encode(out, &m.oq);
        break;
    case 9:
        if (!(rc = st_offset_for_leader_epoch_resp_decode(&rd, &a, &m.or)))
            st_offset_for_leader_epoch_resp_encode(out, &m.or);
        break;
    case 10:
        if (!(rc = st_alter_partition_req_decode(&rd, &a, &m.aq)))
            st_alter_partition_req_encode(out, &m.aq);
        break;
    default:
        if (!(rc = st_alter_partition_resp_decode(&rd, &a, &m.ar)))
            st_alter_partition_resp_encode(out, &m.ar);
        break;
    }
    st_ib_arena_free(&a);
    return rc;
}

static void test_every_kind(void **state)
{
    for (int kind = 0; kind < IB_SAMPLE_KINDS; kind++) {
        st_buf b = ST_BUF_INIT, again = ST_BUF_INIT;
        ib_sample(kind, &b);
        assert_int_equal(decode_kind(kind, b.data, b.len, &again), 0);
        if (again.len != b.len || memcmp(again.data, b.data, b.len) != 0)
            fail_msg("kind %d: re-encoding differs", kind);
        for (size_t cut = 0; cut < b.len; cut++) {
            st_buf junk = ST_BUF_INIT;
            if (decode_kind(kind, b.data, cut, &junk) != ST_ERR__MALFORMED)
                fail_msg("kind %d: accepted %zu of %zu bytes", kind, cut, b.len);
            st_buf_free(&junk);
        }
        st_buf_put_i8(&b, 0);
        st_buf junk = ST_BUF_INIT;
        assert_int_equal(decode_kind(kind, b.data, b.len, &junk), ST_ERR__MALFORMED);
        st_buf_free(&junk);
        st_buf_free(&b);
        st_buf_free(&again);
    }
}

static void test_hostile_counts(void **state)
{
    /* StopReplica claiming 2^31 topics in 17 bytes: refused before any allocation */
    uint8_t msg[32] = {0, 0, 0, 1, 0, 0,    0,    1,    0,    0,   0,
                       0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x07};
    st_rd rd;
    st_rd_init(&rd, msg, 21);
    st_ib_arena a = {0};
    st_stop_replica_req m;
    assert_int_equal(st_stop_replica_req_decode(&rd, &a, &m), ST_ERR__MALFORMED);
    assert_null(a.head);
    /* a topic whose partition count exceeds what is left */
    uint8_t lai[] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 2, 'x', 100, 0};
    st_rd_init(&rd, lai, sizeof lai);
    st_leader_and_isr_req l;
    assert_int_equal(st_leader_and_isr_req_decode(&rd, &a, &l), ST_ERR__MALFORMED);
    st_ib_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leader_and_isr),
        cmocka_unit_test(test_update_metadata_and_ofle),
        cmocka_unit_test(test_every_kind),
        cmocka_unit_test(test_hostile_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
