/*
 * The transaction requests a producer sends its coordinator (this broker):
 * AddPartitionsToTxn (24), AddOffsetsToTxn (25), EndTxn (26) and TxnOffsetCommit (28),
 * versions 0..3 (flexible from 3; broker/txn/txn_codec.h). Each decodes its body,
 * checks ACLs as Kafka does, and hands the rest to broker/txn/coordinator.c.
 *
 * Authorization: WRITE on the transactional id for all four (else
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED for everything); AddPartitionsToTxn also WRITE
 * on each topic (TOPIC_AUTHORIZATION_FAILED, the others OPERATION_NOT_ATTEMPTED);
 * AddOffsetsToTxn and TxnOffsetCommit READ on the group (GROUP_AUTHORIZATION_FAILED),
 * TxnOffsetCommit READ on each topic. A tenant's default ACLs cover the ids, groups and
 * topics of its prefix.
 *
 * Loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/api/handlers.h"
#include "broker/broker_int.h"
#include "broker/security/security.h"
#include "broker/txn/coordinator.h"
#include "broker/txn/txn_codec.h"
#include "common/arena.h"
#include "common/errors.h"
#include "common/logging.h"

static bool id_allowed(st_req *req, st_str id)
{
    return st_req_allowed_to(req, ST_ACL_OP_WRITE, ST_ACL_RESOURCE_TRANSACTIONAL_ID,
                             id.ptr ? id.ptr : "", id.len > 0 ? (size_t)id.len : 0);
}

static bool allowed(st_req *req, st_acl_operation op, st_acl_resource_type type, st_str name)
{
    return st_req_allowed_to(req, op, type, name.ptr ? name.ptr : "",
                             name.len > 0 ? (size_t)name.len : 0);
}

st_req_result st_handle_add_partitions_to_txn(st_req *req)
{
    int16_t v = req->api_version;
    st_arena a = ST_ARENA_INIT;
    st_add_partitions_req m;
    if (st_add_partitions_req_decode(&req->rd, v, &a, &m)) {
        st_arena_free(&a);
        return ST_REQ_MALFORMED;
    }
    int32_t total = 0;
    for (int32_t t = 0; t < m.ntopics; t++)
        total += m.topics[t].npartitions;
    st_add_partitions_resp resp = {
        0, st_arena_alloc(&a, (size_t)(m.ntopics + 1) * sizeof(*resp.topics)), m.ntopics};
    st_str *names = st_arena_alloc(&a, (size_t)(total + 1) * sizeof *names);
    int32_t *parts = st_arena_alloc(&a, (size_t)(total + 1) * sizeof *parts);
    /* first the checks of each partition: any failure means none is added */
    int16_t all =
        id_allowed(req, m.transactional_id) ? 0 : ST_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    bool any_failed = false;
    int32_t n = 0;
    for (int32_t t = 0; t < m.ntopics; t++) {
        const st_txn_topic_parts *tp = &m.topics[t];
        st_txn_topic_errors *te = &resp.topics[t];
        te->name = tp->name;
        te->npartitions = tp->npartitions;
        te->partitions = st_arena_alloc(&a, (size_t)(tp->npartitions + 1) * sizeof *te->partitions);
        int16_t topic_error = all;
        st_topic *topic = NULL;
        if (!topic_error && !allowed(req, ST_ACL_OP_WRITE, ST_ACL_RESOURCE_TOPIC, tp->name))
            topic_error = ST_ERR_TOPIC_AUTHORIZATION_FAILED;
        if (!topic_error)
            topic = st_topics_find(req->broker->topics, tp->name.ptr, (size_t)tp->name.len);
        for (int32_t i = 0; i < tp->npartitions; i++) {
            int16_t e = topic_error;
            if (!e && (!topic || tp->partitions[i] < 0 ||
                       tp->partitions[i] >= st_topic_partition_count(topic)))
                e = ST_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            te->partitions[i] = (st_txn_partition_error){tp->partitions[i], e};
            any_failed |= e != 0;
            names[n] = tp->name;
            parts[n++] = tp->partitions[i];
        }
    }
    int16_t rc = 0;
    if (!any_failed)
        rc = st_txn_fenced_error(ST_API_ADD_PARTITIONS_TO_TXN, v,
                                 st_txn_coord_add_partitions(req->broker->txn, m.transactional_id,
                                                             m.producer_id, m.producer_epoch, names,
                                                             parts, n));
    for (int32_t t = 0; t < m.ntopics; t++)
        for (int32_t i = 0; i < resp.topics[t].npartitions; i++) {
            st_txn_partition_error *pe = &resp.topics[t].partitions[i];
            if (!any_failed)
                pe->error_code = rc;
            else if (!pe->error_code)
                pe->error_code = ST_ERR_OPERATION_NOT_ATTEMPTED;
        }
    st_add_partitions_resp_encode(st_resp_buf(req->resp), v, &resp);
    st_arena_free(&a);
    return ST_REQ_DONE;
}

st_req_result st_handle_add_offsets_to_txn(st_req *req)
{
    int16_t v = req->api_version;
    st_add_offsets_req m;
    if (st_add_offsets_req_decode(&req->rd, v, &m))
        return ST_REQ_MALFORMED;
    int16_t rc;
    if (!id_allowed(req, m.transactional_id))
        rc = ST_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    else if (!allowed(req, ST_ACL_OP_READ, ST_ACL_RESOURCE_GROUP, m.group_id))
        rc = ST_ERR_GROUP_AUTHORIZATION_FAILED;
    else
        rc = st_txn_fenced_error(ST_API_ADD_OFFSETS_TO_TXN, v,
                                 st_txn_coord_add_offsets(req->broker->txn, m.transactional_id,
                                                          m.producer_id, m.producer_epoch,
                                                          m.group_id));
    st_txn_simple_resp resp = {0, rc};
    st_add_offsets_resp_encode(st_resp_buf(req->resp), v, &resp);
    return ST_REQ_DONE;
}

st_req_result st_handle_end_txn(st_req *req)
{
    int16_t v = req->api_version;
    st_end_txn_req m;
    if (st_end_txn_req_decode(&req->rd, v, &m))
        return ST_REQ_MALFORMED;
    int16_t rc;
    if (!id_allowed(req, m.transactional_id))
        rc = ST_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    else
        rc = st_txn_fenced_error(ST_API_END_TXN, v,
                                 st_txn_coord_end(req->broker->txn, m.transactional_id,
                                                  m.producer_id, m.producer_epoch, m.committed));
    st_txn_simple_resp resp = {0, rc};
    st_end_txn_resp_encode(st_resp_buf(req->resp), v, &resp);
    return ST_REQ_DONE;
}

st_req_result st_handle_txn_offset_commit(st_req *req)
{
    int16_t v = req->api_version;
    st_arena a = ST_ARENA_INIT;
    st_txn_offset_commit_req m;
    if (st_txn_offset_commit_req_decode(&req->rd, v, &a, &m)) {
        st_arena_free(&a);
        return ST_REQ_MALFORMED;
    }
    int16_t all = 0;
    if (!id_allowed(req, m.transactional_id))
        all = ST_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    else if (!allowed(req, ST_ACL_OP_READ, ST_ACL_RESOURCE_GROUP, m.group_id))
        all = ST_ERR_GROUP_AUTHORIZATION_FAILED;
    st_txn_offset_commit_resp resp = {
        0, st_arena_alloc(&a, (size_t)(m.ntopics + 1) * sizeof(*resp.topics)), m.ntopics};
    bool any_failed = all != 0;
    for (int32_t t = 0; t < m.ntopics; t++) {
        const st_toc_topic *tt = &m.topics[t];
        st_txn_topic_errors *te = &resp.topics[t];
        te->name = tt->name;
        te->npartitions = tt->npartitions;
        te->partitions = st_arena_alloc(&a, (size_t)(tt->npartitions + 1) * sizeof *te->partitions);
        int16_t e = all;
        if (!e && !allowed(req, ST_ACL_OP_READ, ST_ACL_RESOURCE_TOPIC, tt->name))
            e = ST_ERR_TOPIC_AUTHORIZATION_FAILED;
        st_topic *topic =
            e ? NULL : st_topics_find(req->broker->topics, tt->name.ptr, (size_t)tt->name.len);
        for (int32_t i = 0; i < tt->npartitions; i++) {
            int16_t pe = e;
            if (!pe && (!topic || tt->partitions[i].partition < 0 ||
                        tt->partitions[i].partition >= st_topic_partition_count(topic)))
                pe = ST_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            te->partitions[i] = (st_txn_partition_error){tt->partitions[i].partition, pe};
            any_failed |= pe != 0;
        }
    }
    int16_t rc = any_failed ? 0 : st_txn_coord_offset_commit(req->broker->txn, &m);
    if (rc == ST_ERR_PRODUCER_FENCED)
        rc = ST_ERR_INVALID_PRODUCER_EPOCH; /* TxnOffsetCommit has no PRODUCER_FENCED */
    for (int32_t t = 0; t < m.ntopics; t++)
        for (int32_t i = 0; i < resp.topics[t].npartitions; i++) {
            st_txn_partition_error *pe = &resp.topics[t].partitions[i];
            if (!any_failed)
                pe->error_code = rc;
        }
    st_txn_offset_commit_resp_encode(st_resp_buf(req->resp), v, &resp);
    st_arena_free(&a);
    return ST_REQ_DONE;
}
