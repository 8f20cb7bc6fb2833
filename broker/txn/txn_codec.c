/*
 * The transaction API codecs (see txn_codec.h for versions and ownership). Field order
 * follows Kafka's message definitions (clients/src/main/resources/common/message/);
 * in flexible versions every structure ends with a tagged-field block (we write none
 * and skip any we read).
 */
#include "broker/txn/txn_codec.h"

#include <assert.h>
#include <string.h>

#include "common/errors.h"

const st_txn_api_range st_txn_api_ranges[ST_TXN_API_COUNT] = {
    {ST_API_INIT_PRODUCER_ID, 0, 4, 2, "InitProducerId"},
    {ST_API_ADD_PARTITIONS_TO_TXN, 0, 3, 3, "AddPartitionsToTxn"},
    {ST_API_ADD_OFFSETS_TO_TXN, 0, 3, 3, "AddOffsetsToTxn"},
    {ST_API_END_TXN, 0, 3, 3, "EndTxn"},
    {ST_API_WRITE_TXN_MARKERS, 0, 1, 1, "WriteTxnMarkers"},
    {ST_API_TXN_OFFSET_COMMIT, 0, 3, 3, "TxnOffsetCommit"},
    {ST_API_DESCRIBE_TRANSACTIONS, 0, 0, 0, "DescribeTransactions"},
    {ST_API_LIST_TRANSACTIONS, 0, 0, 0, "ListTransactions"},
};

const st_txn_api_range *st_txn_api_range_of(int16_t key)
{
    for (int i = 0; i < ST_TXN_API_COUNT; i++)
        if (st_txn_api_ranges[i].key == key)
            return &st_txn_api_ranges[i];
    return NULL;
}

int16_t st_txn_fenced_error(int16_t api_key, int16_t version, int16_t error_code)
{
    if (error_code != ST_ERR_PRODUCER_FENCED)
        return error_code;
    int16_t first = api_key == ST_API_INIT_PRODUCER_ID ? 4 : 2;
    return version < first ? ST_ERR_INVALID_PRODUCER_EPOCH : error_code;
}

/* ---- helpers ---- */

/* Whether `version` of `key` is flexible; asserts the version is served (encoders are
 * only ever called with one). */
static bool flex_of(int16_t key, int16_t version)
{
    const st_txn_api_range *r = st_txn_api_range_of(key);
    assert(r && version >= r->min_version && version <= r->max_version);
    return version >= r->first_flexible;
}

/* The decoders' version check: 0 and *flex, or UNSUPPORTED_VERSION. */
static int check_version(int16_t key, int16_t version, bool *flex)
{
    const st_txn_api_range *r = st_txn_api_range_of(key);
    if (!r || version < r->min_version || version > r->max_version)
        return ST_ERR_UNSUPPORTED_VERSION;
    *flex = version >= r->first_flexible;
    return 0;
}

/* len -1 is null; a zeroed st_str ({NULL, 0}) is the empty string, not null, so a
 * caller that leaves a non-nullable field zeroed still writes a valid message. */
static void wr_str(st_buf *b, bool flex, st_str s)
{
    if (s.len < 0)
        st_wr_str(b, flex, NULL, 0);
    else
        st_wr_str(b, flex, s.ptr ? s.ptr : "", s.len);
}

/* A string the message does not allow to be null: a null one fails the cursor. */
static st_str rd_str_nn(st_rd *rd, bool flex)
{
    st_str s = st_rd_str(rd, flex);
    if (s.len < 0 && !rd->err)
        rd->err = ST_ERR__MALFORMED;
    return s;
}

/* An array count; null reads as empty (see the header). */
static int32_t rd_count(st_rd *rd, bool flex, size_t min_elem)
{
    int32_t n = st_rd_array(rd, flex, min_elem);
    return n < 0 ? 0 : n;
}

static void *rd_alloc(st_arena *a, int32_t n, size_t size)
{
    return n > 0 ? st_arena_alloc(a, (size_t)n * size) : NULL;
}

/* The smallest a string and an array can be on the wire. */
static size_t min_str(bool flex)
{
    return flex ? 1 : 2;
}
static size_t min_arr(bool flex)
{
    return flex ? 1 : 4;
}
static size_t min_tags(bool flex)
{
    return flex ? 1 : 0;
}

/* The end of a message: no error, nothing left over. */
static int finish(st_rd *rd, bool flex)
{
    st_rd_tags(rd, flex);
    return rd->err || st_rd_left(rd) != 0 ? ST_ERR__MALFORMED : 0;
}

static void wr_i32s(st_buf *b, bool flex, const int32_t *v, int32_t n)
{
    st_wr_array(b, flex, n);
    for (int32_t i = 0; i < n; i++)
        st_buf_put_i32(b, v[i]);
}

static int32_t *rd_i32s(st_rd *rd, bool flex, st_arena *a, int32_t *n)
{
    *n = rd_count(rd, flex, 4);
    int32_t *v = rd_alloc(a, *n, sizeof *v);
    for (int32_t i = 0; i < *n; i++)
        v[i] = st_rd_i32(rd);
    return v;
}

static void wr_strs(st_buf *b, bool flex, const st_str *v, int32_t n)
{
    st_wr_array(b, flex, n);
    for (int32_t i = 0; i < n; i++)
        wr_str(b, flex, v[i]);
}

static st_str *rd_strs(st_rd *rd, bool flex, st_arena *a, int32_t *n)
{
    *n = rd_count(rd, flex, min_str(flex));
    st_str *v = rd_alloc(a, *n, sizeof *v);
    for (int32_t i = 0; i < *n && !rd->err; i++)
        v[i] = rd_str_nn(rd, flex);
    return v;
}

/* Topics with partition lists, the shape of AddPartitionsToTxn, WriteTxnMarkers and
 * DescribeTransactions. */
static void wr_topic_parts(st_buf *b, bool flex, const st_txn_topic_parts *t, int32_t n)
{
    st_wr_array(b, flex, n);
    for (int32_t i = 0; i < n; i++) {
        wr_str(b, flex, t[i].name);
        wr_i32s(b, flex, t[i].partitions, t[i].npartitions);
        st_wr_tags(b, flex);
    }
}

static st_txn_topic_parts *rd_topic_parts(st_rd *rd, bool flex, st_arena *a, int32_t *n)
{
    *n = rd_count(rd, flex, min_str(flex) + min_arr(flex) + min_tags(flex));
    st_txn_topic_parts *t = rd_alloc(a, *n, sizeof *t);
    for (int32_t i = 0; i < *n && !rd->err; i++) {
        t[i].name = rd_str_nn(rd, flex);
        t[i].partitions = rd_i32s(rd, flex, a, &t[i].npartitions);
        st_rd_tags(rd, flex);
    }
    return t;
}

/* Topics with per-partition errors, the shape of three answers. */
static void wr_topic_errors(st_buf *b, bool flex, const st_txn_topic_errors *t, int32_t n)
{
    st_wr_array(b, flex, n);
    for (int32_t i = 0; i < n; i++) {
        wr_str(b, flex, t[i].name);
        st_wr_array(b, flex, t[i].npartitions);
        for (int32_t j = 0; j < t[i].npartitions; j++) {
            st_buf_put_i32(b, t[i].partitions[j].partition);
            st_buf_put_i16(b, t[i].partitions[j].error_code);
            st_wr_tags(b, flex);
        }
        st_wr_tags(b, flex);
    }
}

static st_txn_topic_errors *rd_topic_errors(st_rd *rd, bool flex, st_arena *a, int32_t *n)
{
    *n = rd_count(rd, flex, min_str(flex) + min_arr(flex) + min_tags(flex));
    st_txn_topic_errors *t = rd_alloc(a, *n, sizeof *t);
    for (int32_t i = 0; i < *n && !rd->err; i++) {
        t[i].name = rd_str_nn(rd, flex);
        t[i].npartitions = rd_count(rd, flex, 6 + min_tags(flex));
        t[i].partitions = rd_alloc(a, t[i].npartitions, sizeof *t[i].partitions);
        for (int32_t j = 0; j < t[i].npartitions && !rd->err; j++) {
            t[i].partitions[j].partition = st_rd_i32(rd);
            t[i].partitions[j].error_code = st_rd_i16(rd);
            st_rd_tags(rd, flex);
        }
        st_rd_tags(rd, flex);
    }
    return t;
}

/* throttle_time_ms + error_code, then the end. */
static void simple_resp_encode(st_buf *b, bool flex, const st_txn_simple_resp *m)
{
    st_buf_put_i32(b, m->throttle_time_ms);
    st_buf_put_i16(b, m->error_code);
    st_wr_tags(b, flex);
}

static int simple_resp_decode(st_rd *rd, bool flex, st_txn_simple_resp *m)
{
    m->throttle_time_ms = st_rd_i32(rd);
    m->error_code = st_rd_i16(rd);
    return finish(rd, flex);
}

/* ---- InitProducerId ---- */

void st_init_pid_req_encode(st_buf *b, int16_t version, const st_init_pid_req *m)
{
    bool flex = flex_of(ST_API_INIT_PRODUCER_ID, version);
    wr_str(b, flex, m->transactional_id);
    st_buf_put_i32(b, m->transaction_timeout_ms);
    if (version >= 3) {
        st_buf_put_i64(b, m->producer_id);
        st_buf_put_i16(b, m->producer_epoch);
    }
    st_wr_tags(b, flex);
}

int st_init_pid_req_decode(st_rd *rd, int16_t version, st_init_pid_req *m)
{
    bool flex;
    int rc = check_version(ST_API_INIT_PRODUCER_ID, version, &flex);
    if (rc)
        return rc;
    memset(m, 0, sizeof *m);
    m->transactional_id = st_rd_str(rd, flex);
    m->transaction_timeout_ms = st_rd_i32(rd);
    m->producer_id = -1;
    m->producer_epoch = -1;
    if (version >= 3) {
        m->producer_id = st_rd_i64(rd);
        m->producer_epoch = st_rd_i16(rd);
    }
    return finish(rd, flex);
}

void st_init_pid_resp_encode(st_buf *b, int16_t version, const st_init_pid_resp *m)
{
    bool flex = flex_of(ST_API_INIT_PRODUCER_ID, version);
    st_buf_put_i32(b, m->throttle_time_ms);
    st_buf_put_i16(b, m->error_code);
    st_buf_put_i64(b, m->producer_id);
    st_buf_put_i16(b, m->producer_epoch);
    st_wr_tags(b, flex);
}

int st_init_pid_resp_decode(st_rd *rd, int16_t version, st_init_pid_resp *m)
{
    bool flex;
    int rc = check_version(ST_API_INIT_PRODUCER_ID, version, &flex);
    if (rc)
        return rc;
    memset(m, 0, sizeof *m);
    m->throttle_time_ms = st_rd_i32(rd);
    m->error_code = st_rd_i16(rd);
    m->producer_id = st_rd_i64(rd);
    m->producer_epoch = st_rd_i16(rd);
    return finish(rd, flex);
}

/* ---- AddPartitionsToTxn ---- */

void st_add_partitions_req_encode(st_buf *b, int16_t version, const st_add_partitions_req *m)
{
    bool flex = flex_of(ST_API_ADD_PARTITIONS_TO_TXN, version);
    wr_str(b, flex, m->transactional_id);
    st_buf_put_i64(b, m->producer_id);
    st_buf_put_i16(b, m->producer_epoch);
    wr_topic_parts(b, flex, m->topics, m->ntopics);
    st_wr_tags(b, flex);
}

int st_add_partitions_req_decode(st_rd *rd, int16_t version, st_arena *a, st_add_partitions_req *m)
{
    bool flex;
    int rc = check_version(ST_API_ADD_PARTITIONS_TO_TXN, version, &flex);
    if (rc)
        return rc;
    memset(m, 0, sizeof *m);
    m->transactional_id = rd_str_nn(rd, flex);
    m->producer_id = st_rd_i64(rd);
    m->producer_epoch = st_rd_i16(rd);
    m->topics = rd_topic_parts(rd, flex, a, &m->ntopics);
    return finish(rd, flex);
}

void st_add_partitions_resp_encode(st_buf *b, int16_t version, const st_add_partitions_resp *m)
{
    bool flex = flex_of(ST_API_ADD_PARTITIONS_TO_TXN, version);
    st_buf_put_i32(b, m->throttle_time_ms);
    wr_topic_errors(b, flex, m->topics, m->ntopics);
    st_wr_tags(b, flex);
}

int st_add_partitions_resp_decode(st_rd *rd, int16_t version, st_arena *a,
                                  st_add_partitions_resp *m)
{
    bool flex;
    int rc = check_version(ST_API_ADD_PARTITIONS_TO_TXN, version, &flex);
    if (rc)
        return rc;
    memset(m, 0, sizeof *m);
    m->throttle_time_ms = st_rd_i32(rd);
    m->topics = rd_topic_errors(rd, flex, a, &m->ntopics);
    return finish(rd, flex);
}

/* ---- AddOffsetsToTxn ---- */

void st_add_offsets_req_encode(st_buf *b, int16_t version, const st_add_offsets_req *m)
{
    bool flex = flex_of(ST_API_ADD_OFFSETS_TO_TXN, version);
    wr_str(b, flex, m->transactional_id);
    st_buf_put_i64(b, m->producer_id);
    st_buf_put_i16(b, m->producer_epoch);
    wr_str(b, flex, m->group_id);
    st_wr_tags(b, flex);
}

int st_add_offsets_req_decode(st_rd *rd, int16_t version, st_add_offsets_req *m)
{
    bool flex;
    int rc = check_version(ST_API_ADD_OFFSETS_TO_TXN, version, &flex);
    if (rc)
        return rc;
    memset(m, 0, sizeof *m);
    m->transactional_id = rd_str_nn(rd, flex);
    m->producer_id = st_rd_i64(rd);
    m->producer_epoch = st_rd_i16(rd);
    m->group_id = rd_str_nn(rd, flex);
    return finish(rd, flex);
}

void st_add_offsets_resp_encode(st_buf *b, int16_t version, const st_txn_simple_resp *m)
{
    simple_resp_encode(b, flex_of(ST_API_ADD_OFFSETS_TO_TXN, version), m);
}

int st_add_offsets_resp_decode(st_rd *rd, int16_t version, st_txn_simple_resp *m)
{
    bool flex;
    int rc = check_version(ST_API_ADD_OFFSETS_TO_TXN, version, &flex);
    return rc ? rc : simple_resp_decode(rd, flex, m);
}

/* ---- EndTxn ---- */

void st_end_txn_req_encode(st_buf *b, int16_t version, const st_end_txn_req *m)
{
    bool flex = flex_of(ST_API_END_TXN, version);
    wr_str(b, flex, m->transactional_id);
    st_buf_put_i64(b, m->producer_id);
    st_buf_put_i16(b, m->producer_epoch);
    st_wr_bool(b, m->committed);
    st_wr_tags(b, flex);
}

int st_end_txn_req_decode(st_rd *rd, int16_t version, st_end_txn_req *m)
{
    bool flex;
    int rc = check_version(ST_API_END_TXN, version, &flex);
    if (rc)
        return rc;
    memset(m, 0, sizeof *m);
    m->transactional_id = rd_str_nn(rd, flex);
    m->producer_id = st_rd_i64(rd);
    m->producer_epoch = st_rd_i16(rd);
    m->committed = st_rd_bool(rd);
    return finish(rd, flex);
}

void st_end_txn_resp_encode(st_buf *b, int16_t version, const st_txn_simple_resp *m)
{
    simple_resp_encode(b, flex_of(ST_API_END_TXN, version), m);
}

int st_end_txn_resp_decode(st_rd *rd, int16_t version, st_txn_simple_resp *m)
{
    bool flex;
    int rc = check_version(ST_API_END_TXN, version, &flex);
    return rc ? rc : simple_resp_decode(rd, flex, m);
}

/* ---- WriteTxnMarkers ---- */

void st_write_txn_markers_req_encode(st_buf *b, int16_t version, const st_write_txn_markers_req *m)
{
    bool flex = flex_of(ST_API_WRITE_TXN_MARKERS, version);
    st_wr_array(b, flex, m->nmarkers);
    for (int32_t i = 0; i < m->nmarkers; i++) {
        const st_wtm_marker *k = &m->markers[i];
        st_buf_put_i64(b, k->producer_id);
        st_buf_put_i16(b, k->producer_epoch);
        st_wr_bool(b, k->committed);
        wr_topic_parts(b, flex, k->topics, k->ntopics);
        st_buf_put_i32(b, k->coordinator_epoch);
        st_wr_tags(b, flex);
    }
    st_wr_tags(b, flex);
}

int st_write_txn_markers_req_decode(st_rd *rd, int16_t version, st_arena *a,
                                    st_write_txn_markers_req *m)
{
    bool flex;
    int rc = check_version(ST_API_WRITE_TXN_MARKERS, version, &flex);
    if (rc)
        return rc;
    memset(m, 0, sizeof *m);
    m->nmarkers = rd_count(rd, flex, 8 + 2 + 1 + min_arr(flex) + 4 + min_tags(flex));
    m->markers = rd_alloc(a, m->nmarkers, sizeof *m->markers);
    for (int32_t i = 0; i < m->nmarkers && !rd->err; i++) {
        st_wtm_marker *k = &m->markers[i];
        k->producer_id = st_rd_i64(rd);
        k->producer_epoch = st_rd_i16(rd);
        k->committed = st_rd_bool(rd);
        k->topics = rd_topic_parts(rd, flex, a, &k->ntopics);
        k->coordinator_epoch = st_rd_i32(rd);
        st_rd_tags(rd, flex);
    }
    return finish(rd, flex);
}

void st_write_txn_markers_resp_encode(st_buf *b, int16_t version,
                                      const st_write_txn_markers_resp *m)
{
    bool flex = flex_of(ST_API_WRITE_TXN_MARKERS, version);
    st_wr_array(b, flex, m->nmarkers);
    for (int32_t i = 0; i < m->nmarkers; i++) {
        st_buf_put_i64(b, m->markers[i].producer_id);
        wr_topic_errors(b, flex, m->markers[i].topics, m->markers[i].ntopics);
        st_wr_tags(b, flex);
    }
    st_wr_tags(b, flex);
}

int st_write_txn_markers_resp_decode(st_rd *rd, int16_t version, st_arena *a,
                                     st_write_txn_markers_resp *m)
{
    bool flex;
    int rc = check_version(ST_API_WRITE_TXN_MARKERS, version, &flex);
    if (rc)
        return rc;
    memset(m, 0, sizeof *m);
    m->nmarkers = rd_count(rd, flex, 8 + min_arr(flex) + min_tags(flex));
    m->markers = rd_alloc(a, m->nmarkers, sizeof *m->markers);
    for (int32_t i = 0; i < m->nmarkers && !rd->err; i++) {
        m->markers[i].producer_id = st_rd_i64(rd);
        m->markers[i].topics = rd_topic_errors(rd, flex, a, &m->markers[i].ntopics);
        st_rd_tags(rd, flex);
    }
    return finish(rd, flex);
}

/* ---- TxnOffsetCommit ---- */

void st_txn_offset_commit_req_encode(st_buf *b, int16_t version, const st_txn_offset_commit_req *m)
{
    bool flex = flex_of(ST_API_TXN_OFFSET_COMMIT, version);
    wr_str(b, flex, m->transactional_id);
    wr_str(b, flex, m->group_id);
    st_buf_put_i64(b, m->producer_id);
    st_buf_put_i16(b, m->producer_epoch);
    if (version >= 3) {
        st_buf_put_i32(b, m->generation_id);
        wr_str(b, flex, m->member_id);
        wr_str(b, flex, m->group_instance_id);
    }
    st_wr_array(b, flex, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const st_toc_topic *t = &m->topics[i];
        wr_str(b, flex, t->name);
        st_wr_array(b, flex, t->npartitions);
        for (int32_t j = 0; j < t->npartitions; j++) {
            const st_toc_partition *p = &t->partitions[j];
            st_buf_put_i32(b, p->partition);
            st_buf_put_i64(b, p->committed_offset);
            if (version >= 2)
                st_buf_put_i32(b, p->committed_leader_epoch);
            wr_str(b, flex, p->committed_metadata);
            st_wr_tags(b, flex);
        }
        st_wr_tags(b, flex);
    }
    st_wr_tags(b, flex);
}

int st_txn_offset_commit_req_decode(st_rd *rd, int16_t version, st_arena *a,
                                    st_txn_offset_commit_req *m)
{
    bool flex;
    int rc = check_version(ST_API_TXN_OFFSET_COMMIT, version, &flex);
    if (rc)
        return rc;
    memset(m, 0, sizeof *m);
    m->transactional_id = rd_str_nn(rd, flex);
    m->group_id = rd_str_nn(rd, flex);
    m->producer_id = st_rd_i64(rd);
    m->producer_epoch = st_rd_i16(rd);
    m->generation_id = -1;
    m->member_id = (st_str){"", 0};
    m->group_instance_id = (st_str){NULL, -1};
    if (version >= 3) {
        m->generation_id = st_rd_i32(rd);
        m->member_id = rd_str_nn(rd, flex);
        m->group_instance_id = st_rd_str(rd, flex);
    }
    size_t min_part = 4 + 8 + (version >= 2 ? 4 : 0) + min_str(flex) + min_tags(flex);
    m->ntopics = rd_count(rd, flex, min_str(flex) + min_arr(flex) + min_tags(flex));
    m->topics = rd_alloc(a, m->ntopics, sizeof *m->topics);
    for (int32_t i = 0; i < m->ntopics && !rd->err; i++) {
        st_toc_topic *t = &m->topics[i];
        t->name = rd_str_nn(rd, flex);
        t->npartitions = rd_count(rd, flex, min_part);
        t->partitions = rd_alloc(a, t->npartitions, sizeof *t->partitions);
        for (int32_t j = 0; j < t->npartitions && !rd->err; j++) {
            st_toc_partition *p = &t->partitions[j];
            p->partition = st_rd_i32(rd);
            p->committed_offset = st_rd_i64(rd);
            p->committed_leader_epoch = version >= 2 ? st_rd_i32(rd) : -1;
            p->committed_metadata = st_rd_str(rd, flex);
            st_rd_tags(rd, flex);
        }
        st_rd_tags(rd, flex);
    }
    return finish(rd, flex);
}

void st_txn_offset_commit_resp_encode(st_buf *b, int16_t version,
                                      const st_txn_offset_commit_resp *m)
{
    bool flex = flex_of(ST_API_TXN_OFFSET_COMMIT, version);
    st_buf_put_i32(b, m->throttle_time_ms);
    wr_topic_errors(b, flex, m->topics, m->ntopics);
    st_wr_tags(b, flex);
}

int st_txn_offset_commit_resp_decode(st_rd *rd, int16_t version, st_arena *a,
                                     st_txn_offset_commit_resp *m)
{
    bool flex;
    int rc = check_version(ST_API_TXN_OFFSET_COMMIT, version, &flex);
    if (rc)
        return rc;
    memset(m, 0, sizeof *m);
    m->throttle_time_ms = st_rd_i32(rd);
    m->topics = rd_topic_errors(rd, flex, a, &m->ntopics);
    return finish(rd, flex);
}

/* ---- DescribeTransactions ---- */

void st_describe_txns_req_encode(st_buf *b, int16_t version, const st_describe_txns_req *m)
{
    bool flex = flex_of(ST_API_DESCRIBE_TRANSACTIONS, version);
    wr_strs(b, flex, m->transactional_ids, m->nids);
    st_wr_tags(b, flex);
}

int st_describe_txns_req_decode(st_rd *rd, int16_t version, st_arena *a, st_describe_txns_req *m)
{
    bool flex;
    int rc = check_version(ST_API_DESCRIBE_TRANSACTIONS, version, &flex);
    if (rc)
        return rc;
    memset(m, 0, sizeof *m);
    m->transactional_ids = rd_strs(rd, flex, a, &m->nids);
    return finish(rd, flex);
}

void st_describe_txns_resp_encode(st_buf *b, int16_t version, const st_describe_txns_resp *m)
{
    bool flex = flex_of(ST_API_DESCRIBE_TRANSACTIONS, version);
    st_buf_put_i32(b, m->throttle_time_ms);
    st_wr_array(b, flex, m->nstates);
    for (int32_t i = 0; i < m->nstates; i++) {
        const st_describe_txn_state *s = &m->states[i];
        st_buf_put_i16(b, s->error_code);
        wr_str(b, flex, s->transactional_id);
        wr_str(b, flex, s->state);
        st_buf_put_i32(b, s->transaction_timeout_ms);
        st_buf_put_i64(b, s->transaction_start_time_ms);
        st_buf_put_i64(b, s->producer_id);
        st_buf_put_i16(b, s->producer_epoch);
        wr_topic_parts(b, flex, s->topics, s->ntopics);
        st_wr_tags(b, flex);
    }
    st_wr_tags(b, flex);
}

int st_describe_txns_resp_decode(st_rd *rd, int16_t version, st_arena *a, st_describe_txns_resp *m)
{
    bool flex;
    int rc = check_version(ST_API_DESCRIBE_TRANSACTIONS, version, &flex);
    if (rc)
        return rc;
    memset(m, 0, sizeof *m);
    m->throttle_time_ms = st_rd_i32(rd);
    m->nstates = rd_count(rd, flex, 2 + 2 * min_str(flex) + 4 + 8 + 8 + 2 + min_arr(flex) + 1);
    m->states = rd_alloc(a, m->nstates, sizeof *m->states);
    for (int32_t i = 0; i < m->nstates && !rd->err; i++) {
        st_describe_txn_state *s = &m->states[i];
        s->error_code = st_rd_i16(rd);
        s->transactional_id = rd_str_nn(rd, flex);
        s->state = rd_str_nn(rd, flex);
        s->transaction_timeout_ms = st_rd_i32(rd);
        s->transaction_start_time_ms = st_rd_i64(rd);
        s->producer_id = st_rd_i64(rd);
        s->producer_epoch = st_rd_i16(rd);
        s->topics = rd_topic_parts(rd, flex, a, &s->ntopics);
        st_rd_tags(rd, flex);
    }
    return finish(rd, flex);
}

/* ---- ListTransactions ---- */

void st_list_txns_req_encode(st_buf *b, int16_t version, const st_list_txns_req *m)
{
    bool flex = flex_of(ST_API_LIST_TRANSACTIONS, version);
    wr_strs(b, flex, m->state_filters, m->nstate_filters);
    st_wr_array(b, flex, m->nproducer_id_filters);
    for (int32_t i = 0; i < m->nproducer_id_filters; i++)
        st_buf_put_i64(b, m->producer_id_filters[i]);
    st_wr_tags(b, flex);
}

int st_list_txns_req_decode(st_rd *rd, int16_t version, st_arena *a, st_list_txns_req *m)
{
    bool flex;
    int rc = check_version(ST_API_LIST_TRANSACTIONS, version, &flex);
    if (rc)
        return rc;
    memset(m, 0, sizeof *m);
    m->state_filters = rd_strs(rd, flex, a, &m->nstate_filters);
    m->nproducer_id_filters = rd_count(rd, flex, 8);
    m->producer_id_filters = rd_alloc(a, m->nproducer_id_filters, sizeof *m->producer_id_filters);
    for (int32_t i = 0; i < m->nproducer_id_filters; i++)
        m->producer_id_filters[i] = st_rd_i64(rd);
    return finish(rd, flex);
}

void st_list_txns_resp_encode(st_buf *b, int16_t version, const st_list_txns_resp *m)
{
    bool flex = flex_of(ST_API_LIST_TRANSACTIONS, version);
    st_buf_put_i32(b, m->throttle_time_ms);
    st_buf_put_i16(b, m->error_code);
    wr_strs(b, flex, m->unknown_state_filters, m->nunknown_state_filters);
    st_wr_array(b, flex, m->nstates);
    for (int32_t i = 0; i < m->nstates; i++) {
        wr_str(b, flex, m->states[i].transactional_id);
        st_buf_put_i64(b, m->states[i].producer_id);
        wr_str(b, flex, m->states[i].state);
        st_wr_tags(b, flex);
    }
    st_wr_tags(b, flex);
}

int st_list_txns_resp_decode(st_rd *rd, int16_t version, st_arena *a, st_list_txns_resp *m)
{
    bool flex;
    int rc = check_version(ST_API_LIST_TRANSACTIONS, version, &flex);
    if (rc)
        return rc;
    memset(m, 0, sizeof *m);
    m->throttle_time_ms = st_rd_i32(rd);
    m->error_code = st_rd_i16(rd);
    m->unknown_state_filters = rd_strs(rd, flex, a, &m->nunknown_state_filters);
    m->nstates = rd_count(rd, flex, 2 * min_str(flex) + 8 + 1);
    m->states = rd_alloc(a, m->nstates, sizeof *m->states);
    for (int32_t i = 0; i < m->nstates && !rd->err; i++) {
        m->states[i].transactional_id = rd_str_nn(rd, flex);
        m->states[i].producer_id = st_rd_i64(rd);
        m->states[i].state = rd_str_nn(rd, flex);
        st_rd_tags(rd, flex);
    }
    return finish(rd, flex);
}
