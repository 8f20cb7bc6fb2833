/*
 * The operators' transaction APIs (KIP-664): DescribeTransactions (65) and
 * ListTransactions (66), v0 (flexible; broker/txn/txn_codec.h). They read the
 * coordinator's state of each transactional id (broker/txn/coordinator.h) and change
 * nothing.
 *
 * Authorization, as Kafka: DescribeTransactions needs DESCRIBE on each transactional id
 * named (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED for that id) and lists only the
 * transaction's topics the caller may DESCRIBE; ListTransactions silently leaves out the
 * ids the caller may not DESCRIBE. A tenant's default ACLs (ALL on its prefix) cover its
 * own ids. An id the coordinator does not know (or has forgotten) →
 * TRANSACTIONAL_ID_NOT_FOUND.
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

/* Out of memory for an answer: the connection is closed (the client retries). */
static st_req_result oom(const char *api)
{
    st_error("out of memory for a %s answer: closing the connection", api);
    return ST_REQ_CLOSE;
}

static st_str cstr(const char *s)
{
    return (st_str){s, (int32_t)strlen(s)};
}

static bool may_describe(st_req *req, st_acl_resource_type type, const char *name, size_t len)
{
    return st_req_allowed_to(req, ST_ACL_OP_DESCRIBE, type, name, len);
}

static int by_topic(const void *a, const void *b)
{
    const st_txn_tp *x = *(const st_txn_tp *const *)a, *y = *(const st_txn_tp *const *)b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

/* The transaction's partitions grouped by topic (sorted by name), without the topics the
 * caller may not DESCRIBE. Allocates in a. 0, or -1 when out of memory. */
static int fill_topics(st_req *req, st_arena *a, const st_txn_meta *m, st_describe_txn_state *out)
{
    out->topics = NULL;
    out->ntopics = 0;
    if (m->npartitions <= 0)
        return 0;
    const st_txn_tp **sorted = malloc((size_t)m->npartitions * sizeof *sorted);
    out->topics = st_arena_alloc(a, (size_t)m->npartitions * sizeof *out->topics);
    int32_t *parts = st_arena_alloc(a, (size_t)m->npartitions * sizeof *parts);
    if (!sorted || !out->topics || !parts) {
        free(sorted);
        return -1;
    }
    for (int32_t i = 0; i < m->npartitions; i++)
        sorted[i] = &m->partitions[i];
    qsort(sorted, (size_t)m->npartitions, sizeof *sorted, by_topic);
    int32_t np = 0;
    for (int32_t i = 0; i < m->npartitions;) {
        const char *topic = sorted[i]->topic;
        int32_t j = i;
        while (j < m->npartitions && strcmp(sorted[j]->topic, topic) == 0)
            j++;
        if (may_describe(req, ST_ACL_RESOURCE_TOPIC, topic, strlen(topic))) {
            st_txn_topic_parts *tp = &out->topics[out->ntopics++];
            tp->name = cstr(topic);
            tp->partitions = parts + np;
            tp->npartitions = j - i;
            for (int32_t k = i; k < j; k++)
                parts[np++] = sorted[k]->partition;
        }
        i = j;
    }
    free(sorted);
    return 0;
}

/* Kafka sets no limit on these lists; a real tool names a few entries. An entry costs
 * 16 to ~100 bytes of memory (and a described id ~28 bytes of answer) for as little as
 * one request byte, and each ListTransactions producer-id filter is compared with every
 * transaction: a 100 MiB request could take gigabytes or hold the loop. Past the limit the
 * request is refused before anything is allocated and the connection closed, with a log
 * line saying why (peeked from a copy of the reader: every list is the first field or
 * bounded before it). */
#define TXN_ADMIN_MAX_ENTRIES 10000

static bool too_many(const char *api, const char *what, int32_t n)
{
    if (n <= TXN_ADMIN_MAX_ENTRIES)
        return false;
    st_warn("%s naming %d %s (at most %d): closing the connection", api, (int)n, what,
            TXN_ADMIN_MAX_ENTRIES);
    return true;
}

st_req_result st_handle_describe_transactions(st_req *req)
{
    int16_t v = req->api_version;
    st_arena a = ST_ARENA_INIT;
    st_describe_txns_req m;
    st_rd peek = req->rd; /* every version is flexible */
    if (too_many("DescribeTransactions", "transactional ids", st_rd_array(&peek, true, 1)))
        return ST_REQ_CLOSE;
    if (st_describe_txns_req_decode(&req->rd, v, &a, &m)) {
        st_arena_free(&a);
        return ST_REQ_MALFORMED;
    }
    st_describe_txns_resp resp = {0, st_arena_alloc(&a, (size_t)(m.nids + 1) * sizeof *resp.states),
                                  m.nids};
    if (!resp.states) {
        st_arena_free(&a);
        return oom("DescribeTransactions");
    }
    for (int32_t i = 0; i < m.nids; i++) {
        st_str id = m.transactional_ids[i];
        st_describe_txn_state *s = &resp.states[i];
        *s = (st_describe_txn_state){0, id, cstr(""), 0, -1, -1, -1, NULL, 0};
        const st_txn_meta *meta = NULL;
        if (!may_describe(req, ST_ACL_RESOURCE_TRANSACTIONAL_ID, id.ptr ? id.ptr : "",
                          id.len > 0 ? (size_t)id.len : 0))
            s->error_code = ST_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        else if (id.len <= 0 || !(meta = st_txn_coord_find(req->broker->txn, id)) ||
                 meta->status == ST_TXN_DEAD)
            s->error_code = ST_ERR_TRANSACTIONAL_ID_NOT_FOUND;
        if (s->error_code)
            continue;
        s->state = cstr(st_txn_status_name(meta->status));
        s->transaction_timeout_ms = meta->timeout_ms;
        s->transaction_start_time_ms = meta->start_ms;
        s->producer_id = meta->producer_id;
        s->producer_epoch = meta->producer_epoch;
        if (fill_topics(req, &a, meta, s) < 0) {
            st_arena_free(&a);
            return oom("DescribeTransactions");
        }
    }
    st_describe_txns_resp_encode(st_resp_buf(req->resp), v, &resp);
    st_arena_free(&a);
    return ST_REQ_DONE;
}

/* Whether meta passes the request's filters (known states: the statuses named). */
static bool listed(const st_list_txns_req *m, const bool *states, bool any_state,
                   const st_txn_meta *meta)
{
    if (meta->status == ST_TXN_DEAD)
        return false;
    if (any_state && !states[meta->status])
        return false;
    if (m->nproducer_id_filters == 0)
        return true;
    for (int32_t i = 0; i < m->nproducer_id_filters; i++)
        if (m->producer_id_filters[i] == meta->producer_id)
            return true;
    return false;
}

st_req_result st_handle_list_transactions(st_req *req)
{
    int16_t v = req->api_version;
    st_arena a = ST_ARENA_INIT;
    st_list_txns_req m;
    st_rd peek = req->rd; /* every version is flexible */
    if (too_many("ListTransactions", "state filters", st_rd_array(&peek, true, 1)))
        return ST_REQ_CLOSE;
    if (st_list_txns_req_decode(&req->rd, v, &a, &m)) {
        st_arena_free(&a);
        return ST_REQ_MALFORMED;
    }
    if (too_many("ListTransactions", "producer id filters", m.nproducer_id_filters)) {
        st_arena_free(&a);
        return ST_REQ_CLOSE;
    }
    st_list_txns_resp resp = {0};
    resp.unknown_state_filters =
        st_arena_alloc(&a, (size_t)(m.nstate_filters + 1) * sizeof *resp.unknown_state_filters);
    if (!resp.unknown_state_filters) {
        st_arena_free(&a);
        return oom("ListTransactions");
    }
    /* a filter naming no state is reported back, as Kafka does; the others select */
    bool states[ST_TXN_STATUS_COUNT] = {false};
    bool any_state = m.nstate_filters > 0;
    for (int32_t i = 0; i < m.nstate_filters; i++) {
        st_txn_status st;
        if (st_txn_status_from_name(m.state_filters[i], &st) && st < ST_TXN_STATUS_COUNT)
            states[st] = true;
        else
            resp.unknown_state_filters[resp.nunknown_state_filters++] = m.state_filters[i];
    }
    /* two walks: the count sizes the answer, the second fills it (nothing changes the
     * coordinator in between: loop thread) */
    size_t cursor = 0, n = 0;
    const st_txn_meta *meta;
    while ((meta = st_txn_coord_next(req->broker->txn, &cursor)) != NULL)
        n += listed(&m, states, any_state, meta);
    resp.states = st_arena_alloc(&a, (n + 1) * sizeof *resp.states);
    if (!resp.states) {
        st_arena_free(&a);
        return oom("ListTransactions");
    }
    cursor = 0;
    while ((meta = st_txn_coord_next(req->broker->txn, &cursor)) != NULL) {
        if (!listed(&m, states, any_state, meta) ||
            !may_describe(req, ST_ACL_RESOURCE_TRANSACTIONAL_ID, meta->transactional_id,
                          strlen(meta->transactional_id)))
            continue;
        resp.states[resp.nstates++] =
            (st_list_txn_state){cstr(meta->transactional_id), meta->producer_id,
                                cstr(st_txn_status_name(meta->status))};
    }
    st_list_txns_resp_encode(st_resp_buf(req->resp), v, &resp);
    st_arena_free(&a);
    return ST_REQ_DONE;
}
