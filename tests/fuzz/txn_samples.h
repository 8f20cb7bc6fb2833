/*
 * The transaction API codecs for tests: one representative message of each kind at any
 * version (even kind = request, odd = its response, in the order of TXN_KIND_KEYS), and
 * a decode-then-encode of one kind. Shared by make_seeds (the fuzzer's seed corpus),
 * fuzz_txn.c and tests/unit/txn/test_txn_codec.c.
 */
#ifndef ST_TXN_SAMPLES_H
#define ST_TXN_SAMPLES_H

#include "broker/txn/txn_codec.h"
#include "common/errors.h"

#define TXN_SAMPLE_KINDS 16
#define TXN_STR(s)       ((st_str){(s), (int32_t)(sizeof(s) - 1)})
#define TXN_NULL_STR     ((st_str){NULL, -1})

/* The API key of a kind. */
static inline int16_t txn_kind_key(int kind)
{
    static const int16_t keys[TXN_SAMPLE_KINDS / 2] = {
        ST_API_INIT_PRODUCER_ID,      ST_API_ADD_PARTITIONS_TO_TXN,
        ST_API_ADD_OFFSETS_TO_TXN,    ST_API_END_TXN,
        ST_API_WRITE_TXN_MARKERS,     ST_API_TXN_OFFSET_COMMIT,
        ST_API_DESCRIBE_TRANSACTIONS, ST_API_LIST_TRANSACTIONS,
    };
    return keys[(kind / 2) % (TXN_SAMPLE_KINDS / 2)];
}

/* Appends the sample of `kind` at `version` (a version the kind serves) to b. */
static inline void txn_sample(int kind, int16_t version, st_buf *b)
{
    static int32_t parts_a[] = {0, 1, 2}, parts_b[] = {7};
    static st_txn_topic_parts tparts[] = {{TXN_STR("orders"), parts_a, 3},
                                          {TXN_STR("payments"), parts_b, 1}};
    static st_txn_partition_error perr_a[] = {{0, 0}, {1, 51}}, perr_b[] = {{7, 3}};
    static st_txn_topic_errors terr[] = {{TXN_STR("orders"), perr_a, 2},
                                         {TXN_STR("payments"), perr_b, 1}};
    switch (kind) {
    case 0: {
        st_init_pid_req m = {TXN_STR("txn-1"), 60000, 4242, 3};
        st_init_pid_req_encode(b, version, &m);
        break;
    }
    case 1: {
        st_init_pid_resp m = {0, 0, 4242, 4};
        st_init_pid_resp_encode(b, version, &m);
        break;
    }
    case 2: {
        st_add_partitions_req m = {TXN_STR("txn-1"), 4242, 4, tparts, 2};
        st_add_partitions_req_encode(b, version, &m);
        break;
    }
    case 3: {
        st_add_partitions_resp m = {5, terr, 2};
        st_add_partitions_resp_encode(b, version, &m);
        break;
    }
    case 4: {
        st_add_offsets_req m = {TXN_STR("txn-1"), 4242, 4, TXN_STR("group-a")};
        st_add_offsets_req_encode(b, version, &m);
        break;
    }
    case 5: {
        st_txn_simple_resp m = {0, 51};
        st_add_offsets_resp_encode(b, version, &m);
        break;
    }
    case 6: {
        st_end_txn_req m = {TXN_STR("txn-1"), 4242, 4, true};
        st_end_txn_req_encode(b, version, &m);
        break;
    }
    case 7: {
        st_txn_simple_resp m = {10, 47};
        st_end_txn_resp_encode(b, version, &m);
        break;
    }
    case 8: {
        st_wtm_marker markers[2] = {{4242, 4, true, tparts, 2, 9},
                                    {77, 0, false, tparts + 1, 1, 9}};
        st_write_txn_markers_req m = {markers, 2};
        st_write_txn_markers_req_encode(b, version, &m);
        break;
    }
    case 9: {
        st_wtm_marker_result res[1] = {{4242, terr, 2}};
        st_write_txn_markers_resp m = {res, 1};
        st_write_txn_markers_resp_encode(b, version, &m);
        break;
    }
    case 10: {
        st_toc_partition pa[2] = {{0, 100, 5, TXN_STR("meta")}, {1, 200, -1, TXN_NULL_STR}};
        st_toc_topic topics[1] = {{TXN_STR("orders"), pa, 2}};
        st_txn_offset_commit_req m = {TXN_STR("txn-1"),
                                      TXN_STR("group-a"),
                                      4242,
                                      4,
                                      version >= 3 ? 12 : -1,
                                      version >= 3 ? TXN_STR("member-1") : TXN_STR(""),
                                      version >= 3 ? TXN_STR("instance-1") : TXN_NULL_STR,
                                      topics,
                                      1};
        if (version < 2)
            pa[0].committed_leader_epoch = -1;
        st_txn_offset_commit_req_encode(b, version, &m);
        break;
    }
    case 11: {
        st_txn_offset_commit_resp m = {0, terr, 2};
        st_txn_offset_commit_resp_encode(b, version, &m);
        break;
    }
    case 12: {
        st_str ids[2] = {TXN_STR("txn-1"), TXN_STR("txn-2")};
        st_describe_txns_req m = {ids, 2};
        st_describe_txns_req_encode(b, version, &m);
        break;
    }
    case 13: {
        st_describe_txn_state states[2] = {
            {0, TXN_STR("txn-1"), TXN_STR("Ongoing"), 60000, 1700000000000, 4242, 4, tparts, 2},
            {105, TXN_STR("txn-2"), TXN_STR(""), 0, -1, -1, -1, NULL, 0},
        };
        st_describe_txns_resp m = {0, states, 2};
        st_describe_txns_resp_encode(b, version, &m);
        break;
    }
    case 14: {
        st_str filters[1] = {TXN_STR("Ongoing")};
        int64_t pids[2] = {4242, 77};
        st_list_txns_req m = {filters, 1, pids, 2};
        st_list_txns_req_encode(b, version, &m);
        break;
    }
    default: {
        st_str unknown[1] = {TXN_STR("Sleeping")};
        st_list_txn_state states[2] = {{TXN_STR("txn-1"), 4242, TXN_STR("Ongoing")},
                                       {TXN_STR("txn-3"), 9, TXN_STR("CompleteAbort")}};
        st_list_txns_resp m = {0, 0, unknown, 1, states, 2};
        st_list_txns_resp_encode(b, version, &m);
        break;
    }
    }
}

/* Decodes len bytes at body as `kind` at `version` and, when that succeeds, encodes the
 * result onto out. Returns the decoder's result (0, ST_ERR__MALFORMED or
 * ST_ERR_UNSUPPORTED_VERSION). */
static inline int txn_roundtrip(int kind, int16_t version, const uint8_t *body, size_t len,
                                st_buf *out)
{
    st_rd rd;
    st_rd_init(&rd, body, len);
    st_arena a = ST_ARENA_INIT;
    int rc;
    switch (kind) {
#define TXN_RT(n, type, decode, encode)                                                            \
    case n: {                                                                                      \
        type m;                                                                                    \
        if (!(rc = decode))                                                                        \
            encode(out, version, &m);                                                              \
        break;                                                                                     \
    }
        TXN_RT(0, st_init_pid_req, st_init_pid_req_decode(&rd, version, &m), st_init_pid_req_encode)
        TXN_RT(1, st_init_pid_resp, st_init_pid_resp_decode(&rd, version, &m),
               st_init_pid_resp_encode)
        TXN_RT(2, st_add_partitions_req, st_add_partitions_req_decode(&rd, version, &a, &m),
               st_add_partitions_req_encode)
        TXN_RT(3, st_add_partitions_resp, st_add_partitions_resp_decode(&rd, version, &a, &m),
               st_add_partitions_resp_encode)
        TXN_RT(4, st_add_offsets_req, st_add_offsets_req_decode(&rd, version, &m),
               st_add_offsets_req_encode)
        TXN_RT(5, st_txn_simple_resp, st_add_offsets_resp_decode(&rd, version, &m),
               st_add_offsets_resp_encode)
        TXN_RT(6, st_end_txn_req, st_end_txn_req_decode(&rd, version, &m), st_end_txn_req_encode)
        TXN_RT(7, st_txn_simple_resp, st_end_txn_resp_decode(&rd, version, &m),
               st_end_txn_resp_encode)
        TXN_RT(8, st_write_txn_markers_req, st_write_txn_markers_req_decode(&rd, version, &a, &m),
               st_write_txn_markers_req_encode)
        TXN_RT(9, st_write_txn_markers_resp, st_write_txn_markers_resp_decode(&rd, version, &a, &m),
               st_write_txn_markers_resp_encode)
        TXN_RT(10, st_txn_offset_commit_req, st_txn_offset_commit_req_decode(&rd, version, &a, &m),
               st_txn_offset_commit_req_encode)
        TXN_RT(11, st_txn_offset_commit_resp,
               st_txn_offset_commit_resp_decode(&rd, version, &a, &m),
               st_txn_offset_commit_resp_encode)
        TXN_RT(12, st_describe_txns_req, st_describe_txns_req_decode(&rd, version, &a, &m),
               st_describe_txns_req_encode)
        TXN_RT(13, st_describe_txns_resp, st_describe_txns_resp_decode(&rd, version, &a, &m),
               st_describe_txns_resp_encode)
        TXN_RT(14, st_list_txns_req, st_list_txns_req_decode(&rd, version, &a, &m),
               st_list_txns_req_encode)
        TXN_RT(15, st_list_txns_resp, st_list_txns_resp_decode(&rd, version, &a, &m),
               st_list_txns_resp_encode)
#undef TXN_RT
    default:
        rc = ST_ERR_UNSUPPORTED_VERSION;
        break;
    }
    st_arena_free(&a);
    return rc;
}

#endif
