/* The __transaction_state records and control records; see txn_log.h. */
#include "broker/txn/txn_log.h"

#include <stdlib.h>
#include <string.h>

#include "broker/log/batch.h"
#include "common/errors.h"

#define KEY_VERSION        0
#define VALUE_VERSION      0
#define VALUE_VERSION_FLEX 1
#define MARKER_VERSION     0
#define MARKER_TYPE_ABORT  0
#define MARKER_TYPE_COMMIT 1

void st_txn_log_key_encode(st_buf *b, const char *transactional_id)
{
    st_buf_put_i16(b, KEY_VERSION);
    st_wr_str(b, false, transactional_id, -1);
}

int st_txn_log_key_decode(st_bytes key, st_str *id)
{
    if (!key.ptr || key.len < 0)
        return ST_ERR__MALFORMED;
    st_rd rd;
    st_rd_init(&rd, key.ptr, (size_t)key.len);
    int16_t version = st_rd_i16(&rd);
    *id = st_rd_str(&rd, false);
    if (rd.err || version != KEY_VERSION || id->len < 0 || st_rd_left(&rd))
        return ST_ERR__MALFORMED;
    return 0;
}

void st_txn_log_value_encode(st_buf *b, const st_txn_meta *m)
{
    st_buf_put_i16(b, VALUE_VERSION);
    st_buf_put_i64(b, m->producer_id);
    st_buf_put_i16(b, m->producer_epoch);
    st_buf_put_i32(b, m->timeout_ms);
    st_buf_put_i8(b, (int8_t)m->status);
    /* group the partitions by topic: count the distinct topics first */
    int32_t ntopics = 0;
    for (int32_t i = 0; i < m->npartitions; i++) {
        bool seen = false;
        for (int32_t j = 0; j < i && !seen; j++)
            seen = strcmp(m->partitions[j].topic, m->partitions[i].topic) == 0;
        ntopics += !seen;
    }
    st_buf_put_i32(b, ntopics);
    for (int32_t i = 0; i < m->npartitions; i++) {
        bool seen = false;
        for (int32_t j = 0; j < i && !seen; j++)
            seen = strcmp(m->partitions[j].topic, m->partitions[i].topic) == 0;
        if (seen)
            continue;
        st_wr_str(b, false, m->partitions[i].topic, -1);
        int32_t n = 0;
        for (int32_t j = i; j < m->npartitions; j++)
            n += strcmp(m->partitions[j].topic, m->partitions[i].topic) == 0;
        st_buf_put_i32(b, n);
        for (int32_t j = i; j < m->npartitions; j++)
            if (strcmp(m->partitions[j].topic, m->partitions[i].topic) == 0)
                st_buf_put_i32(b, m->partitions[j].partition);
    }
    st_buf_put_i64(b, m->last_update_ms);
    st_buf_put_i64(b, m->start_ms);
}

int st_txn_log_value_decode(st_bytes value, st_arena *a, st_txn_log_value *out)
{
    memset(out, 0, sizeof *out);
    if (!value.ptr || value.len < 0)
        return ST_ERR__MALFORMED;
    st_rd rd;
    st_rd_init(&rd, value.ptr, (size_t)value.len);
    int16_t version = st_rd_i16(&rd);
    if (rd.err || (version != VALUE_VERSION && version != VALUE_VERSION_FLEX))
        return ST_ERR__MALFORMED;
    bool flex = version == VALUE_VERSION_FLEX;
    out->producer_id = st_rd_i64(&rd);
    out->producer_epoch = st_rd_i16(&rd);
    out->timeout_ms = st_rd_i32(&rd);
    int8_t status = st_rd_i8(&rd);
    int32_t ntopics = st_rd_array(&rd, flex, flex ? 2 : 6);
    if (ntopics > 0 && !rd.err) {
        out->topics = st_arena_alloc(a, (size_t)ntopics * sizeof *out->topics);
        out->ntopics = ntopics;
    }
    for (int32_t i = 0; i < out->ntopics && !rd.err; i++) {
        st_txn_topic_parts *t = &out->topics[i];
        t->name = st_rd_str(&rd, flex);
        if (t->name.len < 0 && !rd.err)
            rd.err = ST_ERR__MALFORMED;
        int32_t n = st_rd_array(&rd, flex, 4);
        if (n > 0 && !rd.err) {
            t->partitions = st_arena_alloc(a, (size_t)n * sizeof *t->partitions);
            t->npartitions = n;
        }
        for (int32_t j = 0; j < t->npartitions && !rd.err; j++)
            t->partitions[j] = st_rd_i32(&rd);
        st_rd_tags(&rd, flex);
    }
    out->last_update_ms = st_rd_i64(&rd);
    out->start_ms = st_rd_i64(&rd);
    st_rd_tags(&rd, flex);
    if (rd.err || st_rd_left(&rd) || status < 0 || status >= ST_TXN_STATUS_COUNT)
        return ST_ERR__MALFORMED;
    out->status = (st_txn_status)status;
    return 0;
}

st_txn_meta *st_txn_meta_from_log(st_str id, const st_txn_log_value *v)
{
    st_txn_meta *m = st_txn_meta_new(id.ptr, (size_t)id.len, v->producer_id, v->last_update_ms);
    if (!m)
        return NULL;
    m->producer_epoch = v->producer_epoch;
    m->timeout_ms = v->timeout_ms;
    m->status = v->status;
    m->start_ms = v->start_ms;
    int32_t total = 0;
    for (int32_t i = 0; i < v->ntopics; i++)
        total += v->topics[i].npartitions;
    if (total > 0) {
        m->partitions = calloc((size_t)total, sizeof *m->partitions);
        if (!m->partitions) {
            st_txn_meta_free(m);
            return NULL;
        }
        m->cap = total;
    }
    for (int32_t i = 0; i < v->ntopics; i++)
        for (int32_t j = 0; j < v->topics[i].npartitions; j++) {
            if (st_txn_has_partition(m, v->topics[i].name, v->topics[i].partitions[j]))
                continue;
            char *name = st_str_dup(v->topics[i].name);
            if (!name) {
                st_txn_meta_free(m);
                return NULL;
            }
            m->partitions[m->npartitions++] = (st_txn_tp){name, v->topics[i].partitions[j]};
        }
    return m;
}

void st_txn_marker_key_encode(st_buf *b, bool commit)
{
    st_buf_put_i16(b, MARKER_VERSION);
    st_buf_put_i16(b, commit ? MARKER_TYPE_COMMIT : MARKER_TYPE_ABORT);
}

void st_txn_marker_value_encode(st_buf *b, int32_t coordinator_epoch)
{
    st_buf_put_i16(b, MARKER_VERSION);
    st_buf_put_i32(b, coordinator_epoch);
}

int st_txn_marker_key_decode(st_bytes key, bool *commit)
{
    if (!key.ptr || key.len != 4)
        return ST_ERR__MALFORMED;
    int16_t version = (int16_t)st_be16(key.ptr), type = (int16_t)st_be16(key.ptr + 2);
    if (version != MARKER_VERSION || (type != MARKER_TYPE_ABORT && type != MARKER_TYPE_COMMIT))
        return ST_ERR__MALFORMED;
    *commit = type == MARKER_TYPE_COMMIT;
    return 0;
}

int st_txn_marker_value_decode(st_bytes value, int32_t *coordinator_epoch)
{
    /* a newer marker version may add fields after these: read what we know */
    if (!value.ptr || value.len < 6 || (int16_t)st_be16(value.ptr) < MARKER_VERSION)
        return ST_ERR__MALFORMED;
    *coordinator_epoch = (int32_t)st_be32(value.ptr + 2);
    return 0;
}

size_t st_txn_marker_batch(st_buf *out, int64_t base_offset, int64_t now_ms, int64_t producer_id,
                           int16_t producer_epoch, bool commit, int32_t coordinator_epoch)
{
    uint8_t key[4], value[6];
    st_buf kb = ST_BUF_INIT, vb = ST_BUF_INIT;
    st_txn_marker_key_encode(&kb, commit);
    st_txn_marker_value_encode(&vb, coordinator_epoch);
    memcpy(key, kb.data, sizeof key);
    memcpy(value, vb.data, sizeof value);
    st_buf_free(&kb);
    st_buf_free(&vb);
    st_batch_builder bb;
    st_batch_builder_init(&bb, out, base_offset, now_ms, producer_id, producer_epoch, -1,
                          ST_BATCH_ATTR_TRANSACTIONAL | ST_BATCH_ATTR_CONTROL);
    st_batch_builder_add(&bb, base_offset, now_ms, (st_bytes){key, sizeof key},
                         (st_bytes){value, sizeof value}, 0, (st_bytes){NULL, 0});
    return st_batch_builder_finish(&bb);
}
