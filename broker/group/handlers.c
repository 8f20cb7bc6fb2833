/*
 * The consumer group APIs on the wire, but for the offsets (OffsetCommit and OffsetFetch
 * are in offset_handlers.c, OffsetDelete in offset_delete.c): FindCoordinator (10)
 * v0-4, JoinGroup (11) v0-9, Heartbeat (12) v0-4, LeaveGroup (13) v0-5, SyncGroup (14)
 * v0-4, DescribeGroups (15) v0-5, ListGroups (16) v0-4 and DeleteGroups (42) v0-2. The
 * flexible versions (KIP-482: compact strings and arrays, a tagged-field block after
 * every struct) start at FindCoordinator 3, JoinGroup 6, Heartbeat/LeaveGroup/SyncGroup
 * 4, DescribeGroups 5, ListGroups 3 and DeleteGroups 2 (the API table in broker/api/table.c);
 * each handler reads and writes every version from one body, keyed on req->flex. The
 * group.instance.id of JoinGroup v5+, SyncGroup and Heartbeat v3+ and LeaveGroup v3+
 * goes to the coordinator, which keeps static members (KIP-345, join.c) and answers
 * FENCED_INSTANCE_ID to a replaced instance.
 *
 * Each handler decodes its request, calls the coordinator (coordinator.c, offsets.c,
 * admin.c) and writes the answer. JoinGroup and SyncGroup may be parked by the
 * coordinator (ST_ERR__DEFERRED); their callback writes the answer and finishes the
 * request, also when the client has gone (st_req_finish then only frees it).
 *
 * Authorization (Kafka's), checked before the coordinator sees the request so a denied
 * caller neither changes nor learns anything:
 *   FindCoordinator    DESCRIBE on the group (TRANSACTIONAL_ID for key type 1)
 *   Join/Sync/Heartbeat/Leave   READ on the group
 *   ListGroups         DESCRIBE on the cluster, else only the groups it may DESCRIBE
 *   DescribeGroups     DESCRIBE, DeleteGroups DELETE, on each group
 * DescribeGroups describes a group once per request: a repeat gets INVALID_REQUEST.
 * A denied group answers GROUP_AUTHORIZATION_FAILED, a denied transactional id
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
 *
 * Loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"
#include "broker/group/group_int.h"
#include "broker/group/wire.h"
#include "broker/request/session.h"
#include "broker/security/security.h"
#include "common/errors.h"
#include "common/logging.h"

/* DescribeGroups v3+: "not provided" (the operations allowed are not computed). */
#define AUTHORIZED_OPERATIONS_UNKNOWN INT32_MIN

/* The peer's address without the port ("127.0.0.1:5555" -> "127.0.0.1",
 * "[::1]:5555" -> "::1"); "" without a connection. */
static void client_host(const st_req *req, char *out, size_t cap)
{
    out[0] = '\0';
    if (!req->conn)
        return;
    const char *peer = st_conn_peer(req->conn);
    const char *start = peer, *end = strrchr(peer, ':');
    if (peer[0] == '[') {
        start = peer + 1;
        end = strchr(start, ']');
    }
    size_t len = end ? (size_t)(end - start) : strlen(start);
    snprintf(out, cap, "%.*s", (int)len, start);
}

/* ---- FindCoordinator ---- */

/* Why the caller may not learn the coordinator of `key`, or 0 (and *message NULL). */
static int coordinator_refusal(const st_req *req, int8_t key_type, st_str key, const char **message)
{
    *message = NULL;
    if (key_type != 0 && key_type != 1) {
        *message = "unknown coordinator key type (0 is group, 1 is transaction)";
        return ST_ERR_INVALID_REQUEST;
    }
    if (key_type == 0 && !grp_group_allowed(req, key)) {
        *message = "not authorized: DESCRIBE on the group is needed";
        return ST_ERR_GROUP_AUTHORIZATION_FAILED;
    }
    if (key_type == 1 &&
        !st_req_allowed_to(req, ST_ACL_OP_DESCRIBE, ST_ACL_RESOURCE_TRANSACTIONAL_ID,
                           key.ptr ? key.ptr : "", key.len > 0 ? (size_t)key.len : 0)) {
        *message = "not authorized: DESCRIBE on the transactional id is needed";
        return ST_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    }
    return 0;
}

/* node_id, host, port of the coordinator (us), or of nobody when error is set. */
static void write_coordinator(const st_req *req, st_buf *out, int error)
{
    bool flex = req->flex;
    if (error) {
        st_buf_put_i32(out, -1);
        st_wr_str(out, flex, "", 0);
        st_buf_put_i32(out, -1);
        return;
    }
    /* The address Metadata gives for this broker (metadata.c): the port of the listener
     * the client came in on, so a SASL client is not sent to the PLAINTEXT port. */
    const st_broker *b = req->broker;
    const char *host = b->cfg.advertised_host[0] ? b->cfg.advertised_host : b->cfg.listen_host;
    const st_session *session = st_req_session(req);
    int port = b->cfg.advertised_port;
    if (!port)
        port = session && session->listener_port ? session->listener_port : st_broker_port(b);
    st_buf_put_i32(out, b->cfg.node_id);
    st_wr_str(out, flex, host, -1);
    st_buf_put_i32(out, port);
}

st_req_result st_handle_find_coordinator(st_req *req)
{
    st_rd *rd = &req->rd;
    int16_t v = req->api_version;
    bool flex = req->flex;
    st_buf *out = st_resp_buf(req->resp);
    const char *message;
    if (v >= 4) {
        /* v4 (KIP-699): several keys of one type, one answer each. */
        int8_t key_type = st_rd_i8(rd);
        int32_t n = st_rd_array(rd, flex, GRP_STR_MIN(flex));
        st_str *keys = grp_xcalloc(n > 0 ? (size_t)n : 1, sizeof *keys);
        for (int32_t i = 0; i < n; i++)
            keys[i] = st_rd_str(rd, flex);
        st_rd_tags(rd, flex);
        if (rd->err) {
            free(keys);
            return ST_REQ_MALFORMED;
        }
        grp_put_throttle(out, req, 1);
        st_wr_array(out, flex, n > 0 ? n : 0);
        for (int32_t i = 0; i < n; i++) {
            int error = coordinator_refusal(req, key_type, keys[i], &message);
            st_wr_str(out, flex, keys[i].ptr ? keys[i].ptr : "", keys[i].len > 0 ? keys[i].len : 0);
            write_coordinator(req, out, error);
            st_buf_put_i16(out, (int16_t)error);
            st_wr_str(out, flex, message, -1);
            st_wr_tags(out, flex);
        }
        st_wr_tags(out, flex);
        free(keys);
        return ST_REQ_DONE;
    }
    st_str key = st_rd_str(rd, flex); /* every group and transactional id lives here */
    int8_t key_type = v >= 1 ? st_rd_i8(rd) : 0;
    st_rd_tags(rd, flex);
    if (rd->err)
        return ST_REQ_MALFORMED;
    grp_put_throttle(out, req, 1);
    int error = coordinator_refusal(req, key_type, key, &message);
    st_buf_put_i16(out, (int16_t)error);
    if (v >= 1)
        st_wr_str(out, flex, message, -1);
    write_coordinator(req, out, error);
    st_wr_tags(out, flex);
    return ST_REQ_DONE;
}

/* ---- JoinGroup ---- */

/* A JoinGroup in flight: v7+ answers carry the protocol type, which lives in the
 * request frame (valid until the request is finished). */
typedef struct join_ctx {
    st_req *req;
    st_str protocol_type;
} join_ctx;

static void write_join(const join_ctx *j, const grp_join_result *r)
{
    st_req *req = j->req;
    int16_t v = req->api_version;
    bool flex = req->flex;
    st_buf *out = st_resp_buf(req->resp);
    grp_put_throttle(out, req, 2);
    st_buf_put_i16(out, r->error);
    st_buf_put_i32(out, r->generation);
    if (v >= 7) {
        /* Nullable from v7: an error names no protocol, as Kafka. */
        if (r->error)
            st_wr_str(out, flex, NULL, -1);
        else
            st_wr_str(out, flex, j->protocol_type.ptr, j->protocol_type.len);
        st_wr_str(out, flex, r->error ? NULL : r->protocol, -1);
    } else {
        st_wr_str(out, flex, r->protocol, -1);
    }
    st_wr_str(out, flex, r->leader_id, -1);
    if (v >= 9)
        st_wr_bool(out, false); /* skip_assignment: the leader always assigns */
    st_wr_str(out, flex, r->member_id, -1);
    st_wr_array(out, flex, (int32_t)r->nmembers);
    for (size_t i = 0; i < r->nmembers; i++) {
        const grp_join_member *m = &r->members[i];
        st_wr_str(out, flex, m->member_id, -1);
        if (v >= 5)
            st_wr_str(out, flex, m->group_instance_id, -1);
        st_wr_bytes(out, flex, m->metadata ? m->metadata : (const uint8_t *)"",
                    (int32_t)m->metadata_len);
        st_wr_tags(out, flex);
    }
    st_wr_tags(out, flex);
}

static void join_answered(void *arg, const grp_join_result *r)
{
    join_ctx *j = arg;
    st_req *req = j->req;
    write_join(j, r);
    free(j);
    st_req_finish(req);
}

st_req_result st_handle_join_group(st_req *req)
{
    st_rd *rd = &req->rd;
    int16_t v = req->api_version;
    bool flex = req->flex;
    grp_join_args a = {0};
    a.group_id = st_rd_str(rd, flex);
    a.session_timeout_ms = st_rd_i32(rd);
    /* v0 has no rebalance timeout: the session timeout serves as both. */
    a.rebalance_timeout_ms = v >= 1 ? st_rd_i32(rd) : a.session_timeout_ms;
    a.member_id = st_rd_str(rd, flex);
    a.group_instance_id = v >= 5 ? st_rd_str(rd, flex) : (st_str){NULL, -1};
    a.protocol_type = st_rd_str(rd, flex);
    int32_t n = st_rd_array(rd, flex, flex ? 3 : 2 + 4);
    grp_join_proto *protocols = grp_xcalloc(n > 0 ? (size_t)n : 1, sizeof *protocols);
    for (int32_t i = 0; i < n; i++) {
        protocols[i].name = st_rd_str(rd, flex);
        protocols[i].metadata = st_rd_bytes(rd, flex);
        st_rd_tags(rd, flex);
    }
    if (v >= 8)
        st_rd_str(rd, flex); /* reason: why the member (re)joins, for the broker's log */
    st_rd_tags(rd, flex);
    if (rd->err) {
        free(protocols);
        return ST_REQ_MALFORMED;
    }
    join_ctx now = {req, a.protocol_type};
    if (!grp_group_allowed(req, a.group_id)) {
        free(protocols);
        grp_join_result denied = {ST_ERR_GROUP_AUTHORIZATION_FAILED, -1, "", "", "", 0, NULL};
        write_join(&now, &denied);
        return ST_REQ_DONE;
    }
    char host[128];
    client_host(req, host, sizeof host);
    a.client_id = req->client_id;
    a.client_host = host;
    a.require_known_member_id = v >= 4;
    a.protocols = protocols;
    a.nprotocols = n > 0 ? (size_t)n : 0;
    join_ctx *later = grp_xcalloc(1, sizeof *later);
    *later = now;
    grp_join_result res;
    int rc = grp_join(req->broker->groups, &a, join_answered, later, &res);
    free(protocols);
    if (rc == ST_ERR__DEFERRED)
        return ST_REQ_DEFERRED;
    free(later);
    write_join(&now, &res);
    return ST_REQ_DONE;
}

/* ---- SyncGroup ---- */

static void write_sync(st_req *req, const grp_sync_result *r)
{
    st_buf *out = st_resp_buf(req->resp);
    grp_put_throttle(out, req, 1);
    st_buf_put_i16(out, r->error);
    st_wr_bytes(out, req->flex, r->assignment ? r->assignment : (const uint8_t *)"",
                (int32_t)r->assignment_len);
    st_wr_tags(out, req->flex);
}

static void sync_answered(void *arg, const grp_sync_result *r)
{
    st_req *req = arg;
    write_sync(req, r);
    st_req_finish(req);
}

st_req_result st_handle_sync_group(st_req *req)
{
    st_rd *rd = &req->rd;
    bool flex = req->flex;
    grp_sync_args a = {0};
    a.group_id = st_rd_str(rd, flex);
    a.generation = st_rd_i32(rd);
    a.member_id = st_rd_str(rd, flex);
    a.group_instance_id = req->api_version >= 3 ? st_rd_str(rd, flex) : (st_str){NULL, -1};
    int32_t n = st_rd_array(rd, flex, flex ? 3 : 2 + 4);
    grp_sync_assignment *as = grp_xcalloc(n > 0 ? (size_t)n : 1, sizeof *as);
    for (int32_t i = 0; i < n; i++) {
        as[i].member_id = st_rd_str(rd, flex);
        as[i].assignment = st_rd_bytes(rd, flex);
        st_rd_tags(rd, flex);
    }
    st_rd_tags(rd, flex);
    if (rd->err) {
        free(as);
        return ST_REQ_MALFORMED;
    }
    if (!grp_group_allowed(req, a.group_id)) {
        free(as);
        grp_sync_result denied = {ST_ERR_GROUP_AUTHORIZATION_FAILED, NULL, 0};
        write_sync(req, &denied);
        return ST_REQ_DONE;
    }
    a.assignments = as;
    a.nassignments = n > 0 ? (size_t)n : 0;
    grp_sync_result res;
    int rc = grp_sync(req->broker->groups, &a, sync_answered, req, &res);
    free(as);
    if (rc == ST_ERR__DEFERRED)
        return ST_REQ_DEFERRED;
    write_sync(req, &res);
    return ST_REQ_DONE;
}

/* ---- Heartbeat ---- */

st_req_result st_handle_heartbeat(st_req *req)
{
    st_rd *rd = &req->rd;
    bool flex = req->flex;
    st_str group_id = st_rd_str(rd, flex);
    int32_t generation = st_rd_i32(rd);
    st_str member_id = st_rd_str(rd, flex);
    st_str instance_id = req->api_version >= 3 ? st_rd_str(rd, flex) : (st_str){NULL, -1};
    st_rd_tags(rd, flex);
    if (rd->err)
        return ST_REQ_MALFORMED;
    int rc = grp_group_allowed(req, group_id)
                 ? grp_heartbeat(req->broker->groups, group_id, member_id, instance_id, generation)
                 : ST_ERR_GROUP_AUTHORIZATION_FAILED;
    st_buf *out = st_resp_buf(req->resp);
    grp_put_throttle(out, req, 1);
    st_buf_put_i16(out, (int16_t)rc);
    st_wr_tags(out, flex);
    return ST_REQ_DONE;
}

/* ---- LeaveGroup ---- */

st_req_result st_handle_leave_group(st_req *req)
{
    st_rd *rd = &req->rd;
    bool flex = req->flex;
    bool batch = req->api_version >= 3; /* v3: several members, each with its error */
    st_str group_id = st_rd_str(rd, flex);
    int32_t n = 1;
    st_str single = {NULL, -1};
    st_str *ids = &single, *instances = NULL;
    if (batch) {
        n = st_rd_array(rd, flex, flex ? 3 : 2 + 2);
        size_t count = n > 0 ? (size_t)n : 1;
        ids = grp_xcalloc(count, sizeof *ids);
        instances = grp_xcalloc(count, sizeof *instances);
        for (int32_t i = 0; i < n; i++) {
            ids[i] = st_rd_str(rd, flex);
            instances[i] = st_rd_str(rd, flex);
            if (req->api_version >= 5)
                st_rd_str(rd, flex); /* reason: why it leaves, for the broker's log */
            st_rd_tags(rd, flex);
        }
    } else {
        single = st_rd_str(rd, flex);
    }
    st_rd_tags(rd, flex);
    st_req_result rc = ST_REQ_MALFORMED;
    size_t count = n > 0 ? (size_t)n : 0;
    int16_t *errors = grp_xcalloc(count, sizeof *errors);
    if (!rd->err) {
        int top;
        if (grp_group_allowed(req, group_id)) {
            top = grp_leave(req->broker->groups, group_id, ids, instances, count, errors);
        } else {
            top = ST_ERR_GROUP_AUTHORIZATION_FAILED;
            count = 0; /* as Kafka: no member list with a request-level error */
        }
        st_buf *out = st_resp_buf(req->resp);
        grp_put_throttle(out, req, 1);
        if (!batch && !top && count)
            top = errors[0]; /* v0-2 carry the one member's error at the top */
        st_buf_put_i16(out, (int16_t)top);
        if (batch) {
            st_wr_array(out, flex, (int32_t)count);
            for (size_t i = 0; i < count; i++) {
                st_wr_str(out, flex, ids[i].ptr, ids[i].len);
                st_wr_str(out, flex, instances[i].ptr, instances[i].len);
                st_buf_put_i16(out, errors[i]);
                st_wr_tags(out, flex);
            }
        }
        st_wr_tags(out, flex);
        rc = ST_REQ_DONE;
    }
    free(errors);
    if (batch) {
        free(ids);
        free(instances);
    }
    return rc;
}

/* ---- ListGroups, DescribeGroups, DeleteGroups ---- */

typedef struct list_ctx {
    const st_req *req;
    st_buf *out;
    unsigned states; /* v4 states filter: a bit per st_group_state; ~0u: every group */
    bool count_only; /* first pass: count what the filter keeps */
    size_t count;
} list_ctx;

/* The v4 states filter as a bit per state, read once: a name that is no state keeps
 * nothing. Each group is then checked in O(1), not against every name (a 3 MB filter of
 * 500,000 names against 2,000 groups held the loop 76 s). */
static unsigned read_states(st_rd *rd, bool flex)
{
    int32_t n = st_rd_array(rd, flex, GRP_STR_MIN(flex));
    if (n <= 0)
        return ~0u; /* an empty (or null) filter: every group */
    unsigned bits = 0;
    for (int32_t i = 0; i < n && !rd->err; i++) {
        st_str name = st_rd_str(rd, flex);
        for (unsigned s = ST_GROUP_EMPTY; s <= ST_GROUP_DEAD; s++)
            if (st_str_eq(name, st_group_state_name((st_group_state)s)))
                bits |= 1u << s;
    }
    return bits;
}

static void list_one(void *arg, const st_group_view *v)
{
    list_ctx *l = arg;
    if (!(l->states & (1u << v->state)))
        return;
    if (l->count_only) {
        l->count++;
        return;
    }
    bool flex = l->req->flex;
    st_wr_str(l->out, flex, v->group_id, -1);
    st_wr_str(l->out, flex, v->protocol_type, -1);
    if (l->req->api_version >= 4)
        st_wr_str(l->out, flex, st_group_state_name(v->state), -1);
    st_wr_tags(l->out, flex);
}

st_req_result st_handle_list_groups(st_req *req)
{
    st_rd *rd = &req->rd;
    bool flex = req->flex;
    st_groups *g = req->broker->groups;
    unsigned states = req->api_version >= 4 ? read_states(rd, flex) : ~0u;
    st_rd_tags(rd, flex);
    if (rd->err)
        return ST_REQ_MALFORMED;
    st_buf *out = st_resp_buf(req->resp);
    grp_put_throttle(out, req, 1);
    st_buf_put_i16(out, 0);
    list_ctx l = {req, out, states, true, 0};
    /* Only the groups the caller may DESCRIBE, silently (Kafka's filter), unless it may
     * DESCRIBE the cluster: decided once per group, as the count goes first. */
    bool all = st_req_allowed_cluster(req); /* DESCRIBE on the cluster: every group */
    bool *shown = grp_xcalloc(g->ngroups ? g->ngroups : 1, sizeof *shown);
    for (size_t i = 0; i < g->ngroups; i++) {
        const char *id = g->groups[i]->id;
        shown[i] = all || st_req_allowed(req, id, strlen(id));
        if (shown[i])
            grp_view(g, g->groups[i], list_one, &l);
    }
    st_wr_array(out, flex, (int32_t)l.count);
    l.count_only = false;
    for (size_t i = 0; i < g->ngroups; i++)
        if (shown[i])
            grp_view(g, g->groups[i], list_one, &l);
    st_wr_tags(out, flex);
    free(shown);
    return ST_REQ_DONE;
}

typedef struct describe_ctx {
    st_buf *out;
    int16_t version;
    bool flex;
} describe_ctx;

static void describe_tail(describe_ctx *d)
{
    if (d->version >= 3)
        st_buf_put_i32(d->out, AUTHORIZED_OPERATIONS_UNKNOWN);
    st_wr_tags(d->out, d->flex);
}

/* A group with no members and no protocol: an unknown group is reported "Dead" with
 * no error, an invalid id with state "" (Kafka's DeadGroup and EmptyGroup). */
static void describe_none(describe_ctx *d, int error, st_str id, const char *state)
{
    bool flex = d->flex;
    st_buf_put_i16(d->out, (int16_t)error);
    st_wr_str(d->out, flex, id.ptr ? id.ptr : "", id.len > 0 ? id.len : 0);
    st_wr_str(d->out, flex, state, -1);
    st_wr_str(d->out, flex, "", 0);
    st_wr_str(d->out, flex, "", 0);
    st_wr_array(d->out, flex, 0);
    describe_tail(d);
}

static void describe_one(void *arg, const st_group_view *v)
{
    describe_ctx *d = arg;
    st_buf *out = d->out;
    bool flex = d->flex;
    /* As Kafka: the protocol, metadata and assignments only once the group is Stable. */
    bool stable = v->state == ST_GROUP_STABLE;
    st_buf_put_i16(out, 0);
    st_wr_str(out, flex, v->group_id, -1);
    st_wr_str(out, flex, st_group_state_name(v->state), -1);
    st_wr_str(out, flex, v->protocol_type, -1);
    st_wr_str(out, flex, stable ? v->protocol : "", -1);
    st_wr_array(out, flex, (int32_t)v->nmembers);
    for (size_t i = 0; i < v->nmembers; i++) {
        const st_group_member_view *m = &v->members[i];
        st_wr_str(out, flex, m->member_id, -1);
        if (d->version >= 4)
            st_wr_str(out, flex, m->group_instance_id, -1);
        st_wr_str(out, flex, m->client_id, -1);
        st_wr_str(out, flex, m->client_host, -1);
        bool md = stable && m->metadata, as = stable && m->assignment;
        st_wr_bytes(out, flex, md ? m->metadata : (const uint8_t *)"",
                    md ? (int32_t)m->metadata_len : 0);
        st_wr_bytes(out, flex, as ? m->assignment : (const uint8_t *)"",
                    as ? (int32_t)m->assignment_len : 0);
        st_wr_tags(out, flex);
    }
    describe_tail(d);
}

st_req_result st_handle_describe_groups(st_req *req)
{
    st_rd *rd = &req->rd;
    bool flex = req->flex;
    st_buf *out = st_resp_buf(req->resp);
    describe_ctx d = {out, req->api_version, flex};
    st_groups *g = req->broker->groups;
    uint64_t serial = grp_request_serial(g); /* a group is described once (wire.h) */
    grp_put_throttle(out, req, 1);
    int32_t n = st_rd_array(rd, flex, GRP_STR_MIN(flex));
    st_wr_array(out, flex, n > 0 ? n : 0);
    for (int32_t i = 0; i < n && !rd->err; i++) {
        st_str id = st_rd_str(rd, flex);
        char *cid = grp_dup_str(id);
        grp_group *grp = NULL;
        if (!grp_group_allowed(req, id))
            describe_none(&d, ST_ERR_GROUP_AUTHORIZATION_FAILED, id, "");
        else if (id.len <= 0)
            describe_none(&d, ST_ERR_INVALID_GROUP_ID, id, "");
        else if ((grp = grp_find(g, id)) && !grp_first_answer(&grp->answered_in, serial))
            describe_none(&d, ST_ERR_INVALID_REQUEST, id, "");
        else if (st_groups_describe(g, cid, describe_one, &d))
            describe_none(&d, 0, id, st_group_state_name(ST_GROUP_DEAD));
        free(cid);
    }
    if (req->api_version >= 3)
        st_rd_bool(rd); /* include_authorized_operations: we have none to report */
    st_rd_tags(rd, flex);
    st_wr_tags(out, flex);
    return rd->err ? ST_REQ_MALFORMED : ST_REQ_DONE;
}

st_req_result st_handle_delete_groups(st_req *req)
{
    st_rd *rd = &req->rd;
    bool flex = req->flex;
    st_buf *out = st_resp_buf(req->resp);
    grp_put_throttle(out, req, 0);
    int32_t n = st_rd_array(rd, flex, GRP_STR_MIN(flex));
    st_wr_array(out, flex, n > 0 ? n : 0);
    for (int32_t i = 0; i < n && !rd->err; i++) {
        st_str id = st_rd_str(rd, flex);
        char *cid = grp_dup_str(id);
        char why[300] = "";
        int rc;
        if (grp_group_allowed(req, id)) {
            rc = st_groups_delete(req->broker->groups, cid, why, sizeof why);
        } else {
            rc = ST_ERR_GROUP_AUTHORIZATION_FAILED;
            snprintf(why, sizeof why, "group \"%s\": %s is not authorized: it needs DELETE on it",
                     cid, st_req_principal(req));
        }
        if (rc)
            st_info("DeleteGroups from %s: %s", req->conn ? st_conn_peer(req->conn) : "(none)",
                    why);
        st_wr_str(out, flex, id.ptr ? id.ptr : "", id.len > 0 ? id.len : 0);
        st_buf_put_i16(out, (int16_t)rc);
        st_wr_tags(out, flex);
        free(cid);
    }
    st_rd_tags(rd, flex);
    st_wr_tags(out, flex);
    return rd->err ? ST_REQ_MALFORMED : ST_REQ_DONE;
}
