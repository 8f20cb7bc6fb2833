/*
 * The consumer group APIs on the wire: FindCoordinator (10) v0-2, JoinGroup (11)
 * v0-5, Heartbeat (12) v0-3, LeaveGroup (13) v0-3, SyncGroup (14) v0-3,
 * DescribeGroups (15) v0-4, ListGroups (16) v0-2, OffsetCommit (8) v2-7, OffsetFetch
 * (9) v1-5 and DeleteGroups (42) v0-1. None is flexible in these ranges.
 *
 * Each handler decodes its request, calls the coordinator (coordinator.c, offsets.c,
 * admin.c) and writes the answer. JoinGroup and SyncGroup may be parked by the
 * coordinator (ST_ERR__DEFERRED); their callback writes the answer and finishes the
 * request, also when the client has gone (st_req_finish then only frees it). An
 * OffsetCommit whose append needs a flush (flush.messages) is answered from the
 * flush callback.
 *
 * Authorization (Kafka's), checked before the coordinator sees the request so a denied
 * caller neither changes nor learns anything:
 *   FindCoordinator    DESCRIBE on the group (TRANSACTIONAL_ID for key type 1)
 *   Join/Sync/Heartbeat/Leave   READ on the group
 *   OffsetCommit       READ on the group, then READ on each topic
 *   OffsetFetch        DESCRIBE on the group, then DESCRIBE on each topic
 *   ListGroups         DESCRIBE on the cluster, else only the groups it may DESCRIBE
 *   DescribeGroups     DESCRIBE, DeleteGroups DELETE, on each group
 * A denied group answers GROUP_AUTHORIZATION_FAILED, a denied topic
 * TOPIC_AUTHORIZATION_FAILED, a denied transactional id
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
 *
 * Loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"
#include "broker/group/group_int.h"
#include "broker/proto/session.h"
#include "broker/security/security.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/logging.h"

/* DescribeGroups v3+: "not provided" (the operations allowed are not computed). */
#define AUTHORIZED_OPERATIONS_UNKNOWN INT32_MIN

/* May the caller do `op` on the group / topic named by a wire string (borrowed)? */
static bool group_allowed(const st_req *req, st_acl_operation op, st_str id)
{
    return st_authorize(req, op, ST_ACL_RESOURCE_GROUP, id.ptr ? id.ptr : "",
                        id.len > 0 ? (size_t)id.len : 0);
}

static bool topic_allowed(const st_req *req, st_acl_operation op, st_str name)
{
    return st_authorize(req, op, ST_ACL_RESOURCE_TOPIC, name.ptr ? name.ptr : "",
                        name.len > 0 ? (size_t)name.len : 0);
}

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

static void put_throttle(st_buf *out, const st_req *req, int16_t from_version)
{
    if (req->api_version >= from_version)
        st_buf_put_i32(out, 0);
}

/* ---- FindCoordinator ---- */

int st_handle_find_coordinator(st_req *req)
{
    st_broker *b = req->broker;
    st_rd *rd = &req->rd;
    int16_t v = req->api_version;
    st_str key = st_rd_str(rd, false); /* every group and transactional id lives here */
    int8_t key_type = v >= 1 ? st_rd_i8(rd) : 0;
    if (rd->err)
        return ST_ERR__MALFORMED;
    st_buf *out = st_resp_buf(req->resp);
    put_throttle(out, req, 1);
    int error = 0;
    const char *message = NULL;
    if (key_type != 0 && key_type != 1) {
        error = ST_ERR_INVALID_REQUEST;
        message = "unknown coordinator key type (0 is group, 1 is transaction)";
    } else if (key_type == 0 && !group_allowed(req, ST_ACL_OP_DESCRIBE, key)) {
        error = ST_ERR_GROUP_AUTHORIZATION_FAILED;
        message = "not authorized: DESCRIBE on the group is needed";
    } else if (key_type == 1 &&
               !st_authorize(req, ST_ACL_OP_DESCRIBE, ST_ACL_RESOURCE_TRANSACTIONAL_ID,
                             key.ptr ? key.ptr : "", key.len > 0 ? (size_t)key.len : 0)) {
        error = ST_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        message = "not authorized: DESCRIBE on the transactional id is needed";
    }
    if (error) {
        st_buf_put_i16(out, (int16_t)error);
        if (v >= 1)
            st_wr_str(out, false, message, -1);
        st_buf_put_i32(out, -1);
        st_wr_str(out, false, "", 0);
        st_buf_put_i32(out, -1);
        return ST_REQ_DONE;
    }
    st_buf_put_i16(out, 0);
    if (v >= 1)
        st_wr_str(out, false, NULL, -1); /* error_message */
    /* The address Metadata gives for this broker (metadata.c): the port of the listener
     * the client came in on, so a SASL client is not sent to the PLAINTEXT port. */
    const char *host = b->cfg.advertised_host[0] ? b->cfg.advertised_host : b->cfg.listen_host;
    const st_session *session = st_req_session(req);
    int port = b->cfg.advertised_port;
    if (!port)
        port = session && session->listener_port ? session->listener_port : st_broker_port(b);
    st_buf_put_i32(out, b->cfg.node_id);
    st_wr_str(out, false, host, -1);
    st_buf_put_i32(out, port);
    return ST_REQ_DONE;
}

/* ---- JoinGroup ---- */

static void write_join(st_req *req, const grp_join_result *r)
{
    st_buf *out = st_resp_buf(req->resp);
    put_throttle(out, req, 2);
    st_buf_put_i16(out, r->error);
    st_buf_put_i32(out, r->generation);
    st_wr_str(out, false, r->protocol, -1);
    st_wr_str(out, false, r->leader_id, -1);
    st_wr_str(out, false, r->member_id, -1);
    st_wr_array(out, false, (int32_t)r->nmembers);
    for (size_t i = 0; i < r->nmembers; i++) {
        const grp_join_member *m = &r->members[i];
        st_wr_str(out, false, m->member_id, -1);
        if (req->api_version >= 5)
            st_wr_str(out, false, m->group_instance_id, -1);
        st_wr_bytes(out, false, m->metadata ? m->metadata : (const uint8_t *)"",
                    (int32_t)m->metadata_len);
    }
}

static void join_answered(void *arg, const grp_join_result *r)
{
    st_req *req = arg;
    write_join(req, r);
    st_req_finish(req);
}

int st_handle_join_group(st_req *req)
{
    st_rd *rd = &req->rd;
    int16_t v = req->api_version;
    grp_join_args a = {0};
    a.group_id = st_rd_str(rd, false);
    a.session_timeout_ms = st_rd_i32(rd);
    /* v0 has no rebalance timeout: the session timeout serves as both. */
    a.rebalance_timeout_ms = v >= 1 ? st_rd_i32(rd) : a.session_timeout_ms;
    a.member_id = st_rd_str(rd, false);
    a.group_instance_id = v >= 5 ? st_rd_str(rd, false) : (st_str){NULL, -1};
    a.protocol_type = st_rd_str(rd, false);
    int32_t n = st_rd_array(rd, false, 2 + 4);
    grp_join_proto *protocols = grp_xcalloc(n > 0 ? (size_t)n : 1, sizeof *protocols);
    for (int32_t i = 0; i < n; i++) {
        protocols[i].name = st_rd_str(rd, false);
        protocols[i].metadata = st_rd_bytes(rd, false);
    }
    if (rd->err) {
        free(protocols);
        return ST_ERR__MALFORMED;
    }
    if (!group_allowed(req, ST_ACL_OP_READ, a.group_id)) {
        free(protocols);
        grp_join_result denied = {ST_ERR_GROUP_AUTHORIZATION_FAILED, -1, "", "", "", 0, NULL};
        write_join(req, &denied);
        return ST_REQ_DONE;
    }
    char host[128];
    client_host(req, host, sizeof host);
    a.client_id = req->client_id;
    a.client_host = host;
    a.require_known_member_id = v >= 4;
    a.protocols = protocols;
    a.nprotocols = n > 0 ? (size_t)n : 0;
    grp_join_result res;
    int rc = grp_join(req->broker->groups, &a, join_answered, req, &res);
    free(protocols);
    if (rc == ST_ERR__DEFERRED)
        return rc;
    write_join(req, &res);
    return ST_REQ_DONE;
}

/* ---- SyncGroup ---- */

static void write_sync(st_req *req, const grp_sync_result *r)
{
    st_buf *out = st_resp_buf(req->resp);
    put_throttle(out, req, 1);
    st_buf_put_i16(out, r->error);
    st_wr_bytes(out, false, r->assignment ? r->assignment : (const uint8_t *)"",
                (int32_t)r->assignment_len);
}

static void sync_answered(void *arg, const grp_sync_result *r)
{
    st_req *req = arg;
    write_sync(req, r);
    st_req_finish(req);
}

int st_handle_sync_group(st_req *req)
{
    st_rd *rd = &req->rd;
    grp_sync_args a = {0};
    a.group_id = st_rd_str(rd, false);
    a.generation = st_rd_i32(rd);
    a.member_id = st_rd_str(rd, false);
    a.group_instance_id = req->api_version >= 3 ? st_rd_str(rd, false) : (st_str){NULL, -1};
    int32_t n = st_rd_array(rd, false, 2 + 4);
    grp_sync_assignment *as = grp_xcalloc(n > 0 ? (size_t)n : 1, sizeof *as);
    for (int32_t i = 0; i < n; i++) {
        as[i].member_id = st_rd_str(rd, false);
        as[i].assignment = st_rd_bytes(rd, false);
    }
    if (rd->err) {
        free(as);
        return ST_ERR__MALFORMED;
    }
    if (!group_allowed(req, ST_ACL_OP_READ, a.group_id)) {
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
        return rc;
    write_sync(req, &res);
    return ST_REQ_DONE;
}

/* ---- Heartbeat ---- */

int st_handle_heartbeat(st_req *req)
{
    st_rd *rd = &req->rd;
    st_str group_id = st_rd_str(rd, false);
    int32_t generation = st_rd_i32(rd);
    st_str member_id = st_rd_str(rd, false);
    st_str instance_id = req->api_version >= 3 ? st_rd_str(rd, false) : (st_str){NULL, -1};
    if (rd->err)
        return ST_ERR__MALFORMED;
    int rc = group_allowed(req, ST_ACL_OP_READ, group_id)
                 ? grp_heartbeat(req->broker->groups, group_id, member_id, instance_id, generation)
                 : ST_ERR_GROUP_AUTHORIZATION_FAILED;
    st_buf *out = st_resp_buf(req->resp);
    put_throttle(out, req, 1);
    st_buf_put_i16(out, (int16_t)rc);
    return ST_REQ_DONE;
}

/* ---- LeaveGroup ---- */

int st_handle_leave_group(st_req *req)
{
    st_rd *rd = &req->rd;
    bool batch = req->api_version >= 3; /* v3: several members, each with its error */
    st_str group_id = st_rd_str(rd, false);
    int32_t n = 1;
    st_str single = {NULL, -1};
    st_str *ids = &single, *instances = NULL;
    if (batch) {
        n = st_rd_array(rd, false, 2 + 2);
        size_t count = n > 0 ? (size_t)n : 1;
        ids = grp_xcalloc(count, sizeof *ids);
        instances = grp_xcalloc(count, sizeof *instances);
        for (int32_t i = 0; i < n; i++) {
            ids[i] = st_rd_str(rd, false);
            instances[i] = st_rd_str(rd, false);
        }
    } else {
        single = st_rd_str(rd, false);
    }
    int rc = ST_ERR__MALFORMED;
    size_t count = n > 0 ? (size_t)n : 0;
    int16_t *errors = grp_xcalloc(count, sizeof *errors);
    if (!rd->err) {
        int top;
        if (group_allowed(req, ST_ACL_OP_READ, group_id)) {
            top = grp_leave(req->broker->groups, group_id, ids, instances, count, errors);
        } else {
            top = ST_ERR_GROUP_AUTHORIZATION_FAILED;
            count = 0; /* as Kafka: no member list with a request-level error */
        }
        st_buf *out = st_resp_buf(req->resp);
        put_throttle(out, req, 1);
        if (!batch && !top && count)
            top = errors[0]; /* v0-2 carry the one member's error at the top */
        st_buf_put_i16(out, (int16_t)top);
        if (batch) {
            st_wr_array(out, false, (int32_t)count);
            for (size_t i = 0; i < count; i++) {
                st_wr_str(out, false, ids[i].ptr, ids[i].len);
                st_wr_str(out, false, instances[i].ptr, instances[i].len);
                st_buf_put_i16(out, errors[i]);
            }
        }
        rc = ST_REQ_DONE;
    }
    free(errors);
    if (batch) {
        free(ids);
        free(instances);
    }
    return rc;
}

/* ---- OffsetCommit ---- */

typedef struct commit_topic {
    st_str name;
    size_t first, n; /* its partitions in commits[] */
} commit_topic;

/* A decoded OffsetCommit (strings point into the request frame). */
typedef struct commit_req {
    st_req *req;
    size_t ntopics, ncommits;
    commit_topic *topics;
    grp_commit *commits;
} commit_req;

static size_t commit_part_size(int16_t v)
{
    return 4 + 8 + (v >= 6 ? 4 : 0) + 2;
}

/* First walk over the topics (a copy of the cursor): counts them and their partitions. */
static void commit_scan(st_rd rd, int16_t v, size_t *ntopics, size_t *nparts)
{
    int32_t nt = st_rd_array(&rd, false, 2 + 4);
    *ntopics = nt > 0 ? (size_t)nt : 0;
    *nparts = 0;
    for (int32_t t = 0; t < nt && !rd.err; t++) {
        st_rd_str(&rd, false);
        int32_t np = st_rd_array(&rd, false, commit_part_size(v));
        for (int32_t p = 0; p < np && !rd.err; p++) {
            st_rd_skip(&rd, commit_part_size(v) - 2);
            st_rd_str(&rd, false);
        }
        *nparts += np > 0 ? (size_t)np : 0;
    }
}

static void commit_req_free(commit_req *c)
{
    free(c->topics);
    free(c->commits);
    free(c);
}

static void write_commit(commit_req *c)
{
    st_buf *out = st_resp_buf(c->req->resp);
    put_throttle(out, c->req, 3);
    st_wr_array(out, false, (int32_t)c->ntopics);
    for (size_t t = 0; t < c->ntopics; t++) {
        const commit_topic *ct = &c->topics[t];
        st_wr_str(out, false, ct->name.ptr, ct->name.len);
        st_wr_array(out, false, (int32_t)ct->n);
        for (size_t i = ct->first; i < ct->first + ct->n; i++) {
            st_buf_put_i32(out, c->commits[i].partition);
            st_buf_put_i16(out, c->commits[i].error);
        }
    }
}

static void commit_flushed(void *arg, int err)
{
    commit_req *c = arg;
    if (err) {
        st_error("OffsetCommit: flushing %s failed (%s): answering COORDINATOR_NOT_AVAILABLE",
                 GROUP_OFFSETS_TOPIC, st_err_name(err));
        for (size_t i = 0; i < c->ncommits; i++)
            if (!c->commits[i].error)
                c->commits[i].error = ST_ERR_COORDINATOR_NOT_AVAILABLE;
    }
    st_req *req = c->req;
    write_commit(c);
    commit_req_free(c);
    st_req_finish(req);
}

int st_handle_offset_commit(st_req *req)
{
    st_rd *rd = &req->rd;
    int16_t v = req->api_version;
    st_str group_id = st_rd_str(rd, false);
    int32_t generation = st_rd_i32(rd);
    st_str member_id = st_rd_str(rd, false);
    st_str instance_id = v >= 7 ? st_rd_str(rd, false) : (st_str){NULL, -1};
    /* v2-4: an explicit retention for these offsets; -1 (every client's default) leaves
     * them to offsets.retention.minutes (KIP-211). */
    int64_t retention_ms = v >= 2 && v <= 4 ? st_rd_i64(rd) : -1;
    if (rd->err)
        return ST_ERR__MALFORMED;
    int64_t expire_ms = -1;
    if (retention_ms >= 0) {
        int64_t now = st_wall_ms();
        expire_ms = retention_ms > INT64_MAX - now ? INT64_MAX : now + retention_ms;
    }
    commit_req *c = grp_xcalloc(1, sizeof *c);
    c->req = req;
    size_t nparts;
    commit_scan(*rd, v, &c->ntopics, &nparts);
    c->topics = grp_xcalloc(c->ntopics, sizeof *c->topics);
    c->commits = grp_xcalloc(nparts, sizeof *c->commits);
    int32_t nt = st_rd_array(rd, false, 2 + 4);
    for (int32_t t = 0; t < nt && !rd->err && (size_t)t < c->ntopics; t++) {
        commit_topic *ct = &c->topics[t];
        ct->name = st_rd_str(rd, false);
        ct->first = c->ncommits;
        int32_t np = st_rd_array(rd, false, commit_part_size(v));
        for (int32_t p = 0; p < np && !rd->err && c->ncommits < nparts; p++) {
            grp_commit *pc = &c->commits[c->ncommits++];
            pc->topic = ct->name;
            pc->partition = st_rd_i32(rd);
            pc->offset = st_rd_i64(rd);
            pc->leader_epoch = v >= 6 ? st_rd_i32(rd) : -1;
            pc->metadata = st_rd_str(rd, false);
            pc->expire_timestamp_ms = expire_ms;
            ct->n++;
        }
    }
    if (rd->err) {
        commit_req_free(c);
        return ST_ERR__MALFORMED;
    }

    st_groups *g = req->broker->groups;
    grp_group *grp = NULL;
    st_log *flush_log = NULL;
    /* A denied group is never looked at (a commit may create it). Denied topics keep
     * their error; the coordinator handles the rest, skipping commits with an error. */
    int rc = ST_ERR_GROUP_AUTHORIZATION_FAILED;
    if (group_allowed(req, ST_ACL_OP_READ, group_id)) {
        for (size_t t = 0; t < c->ntopics; t++) {
            const commit_topic *ct = &c->topics[t];
            if (topic_allowed(req, ST_ACL_OP_READ, ct->name))
                continue;
            for (size_t i = ct->first; i < ct->first + ct->n; i++)
                c->commits[i].error = ST_ERR_TOPIC_AUTHORIZATION_FAILED;
        }
        rc = grp_commit_check(g, group_id, generation, member_id, instance_id, &grp);
    }
    if (rc) {
        for (size_t i = 0; i < c->ncommits; i++)
            if (!c->commits[i].error)
                c->commits[i].error = (int16_t)rc;
    } else {
        grp_offsets_validate(g, c->commits, c->ncommits);
        grp_offsets_store(g, grp, c->commits, c->ncommits, &flush_log);
    }
    if (flush_log) {
        /* The commit is acknowledged once it is on disk (the topic's flush policy). */
        st_log_flush_async(flush_log, commit_flushed, c);
        return ST_ERR__DEFERRED;
    }
    write_commit(c);
    commit_req_free(c);
    return ST_REQ_DONE;
}

/* ---- OffsetFetch ---- */

/* One partition's answer: its committed offset, or none (o NULL) with `error`. */
static void write_fetched(st_buf *out, int16_t v, int32_t partition, const grp_offset *o, int error)
{
    st_buf_put_i32(out, partition);
    st_buf_put_i64(out, o ? o->offset : -1);
    if (v >= 5)
        st_buf_put_i32(out, o ? o->leader_epoch : -1);
    st_wr_str(out, false, o ? o->metadata : "", -1);
    st_buf_put_i16(out, (int16_t)error);
}

/* Reads the rest of a request whose group the caller may not DESCRIBE and answers
 * GROUP_AUTHORIZATION_FAILED: at the top for v2+ (no topics), per partition for v1,
 * which has no top-level error. */
static int offset_fetch_denied(st_req *req, st_buf *out)
{
    st_rd *rd = &req->rd;
    int16_t v = req->api_version;
    int32_t nt = st_rd_array(rd, false, 2 + 4);
    if (v >= 2) {
        for (int32_t t = 0; t < nt && !rd->err; t++) {
            st_rd_str(rd, false);
            int32_t np = st_rd_array(rd, false, 4);
            st_rd_skip(rd, (size_t)(np > 0 ? np : 0) * 4);
        }
        st_wr_array(out, false, 0);
        st_buf_put_i16(out, ST_ERR_GROUP_AUTHORIZATION_FAILED);
        return rd->err ? ST_ERR__MALFORMED : ST_REQ_DONE;
    }
    st_wr_array(out, false, nt > 0 ? nt : 0);
    for (int32_t t = 0; t < nt && !rd->err; t++) {
        st_str topic = st_rd_str(rd, false);
        st_wr_str(out, false, topic.ptr, topic.len);
        int32_t np = st_rd_array(rd, false, 4);
        st_wr_array(out, false, np > 0 ? np : 0);
        for (int32_t p = 0; p < np && !rd->err; p++)
            write_fetched(out, v, st_rd_i32(rd), NULL, ST_ERR_GROUP_AUTHORIZATION_FAILED);
    }
    return rd->err ? ST_ERR__MALFORMED : ST_REQ_DONE;
}

int st_handle_offset_fetch(st_req *req)
{
    st_rd *rd = &req->rd;
    int16_t v = req->api_version;
    st_str group_id = st_rd_str(rd, false);
    st_buf *out = st_resp_buf(req->resp);
    put_throttle(out, req, 3);
    if (!group_allowed(req, ST_ACL_OP_DESCRIBE, group_id))
        return rd->err ? ST_ERR__MALFORMED : offset_fetch_denied(req, out);
    grp_group *grp = grp_find(req->broker->groups, group_id);
    int32_t nt = st_rd_array(rd, false, 2 + 4);
    if (nt < 0) {
        /* v2+: null topics = everything the group committed, by topic, leaving out the
         * topics the caller may not DESCRIBE (decided once per topic, as the count is
         * written first). */
        size_t n = grp ? grp->noffsets : 0, ntopics = 0;
        bool *shown = grp_xcalloc(n ? n : 1, sizeof *shown);
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && strcmp(grp->offsets[i].topic, grp->offsets[i - 1].topic) == 0) {
                shown[i] = shown[i - 1];
                continue;
            }
            const char *topic = grp->offsets[i].topic;
            shown[i] =
                st_authorize(req, ST_ACL_OP_DESCRIBE, ST_ACL_RESOURCE_TOPIC, topic, strlen(topic));
            ntopics += shown[i];
        }
        st_wr_array(out, false, (int32_t)ntopics);
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j < n && strcmp(grp->offsets[j].topic, grp->offsets[i].topic) == 0)
                j++;
            if (!shown[i]) {
                i = j;
                continue;
            }
            st_wr_str(out, false, grp->offsets[i].topic, -1);
            st_wr_array(out, false, (int32_t)(j - i));
            for (size_t k = i; k < j; k++)
                write_fetched(out, v, grp->offsets[k].partition, &grp->offsets[k], 0);
            i = j;
        }
        free(shown);
    } else {
        /* The response mirrors the request, so it is written while reading. */
        st_wr_array(out, false, nt);
        for (int32_t t = 0; t < nt && !rd->err; t++) {
            st_str topic = st_rd_str(rd, false);
            bool allowed = topic_allowed(req, ST_ACL_OP_DESCRIBE, topic);
            st_wr_str(out, false, topic.ptr, topic.len);
            int32_t np = st_rd_array(rd, false, 4);
            st_wr_array(out, false, np > 0 ? np : 0);
            for (int32_t p = 0; p < np && !rd->err; p++) {
                int32_t partition = st_rd_i32(rd);
                if (!allowed)
                    write_fetched(out, v, partition, NULL, ST_ERR_TOPIC_AUTHORIZATION_FAILED);
                else
                    write_fetched(out, v, partition,
                                  grp ? grp_offsets_find(grp, topic, partition) : NULL, 0);
            }
        }
    }
    if (v >= 2)
        st_buf_put_i16(out, 0);
    return rd->err ? ST_ERR__MALFORMED : ST_REQ_DONE;
}

/* ---- ListGroups, DescribeGroups, DeleteGroups ---- */

static void list_one(void *arg, const st_group_view *v)
{
    st_buf *out = arg;
    st_wr_str(out, false, v->group_id, -1);
    st_wr_str(out, false, v->protocol_type, -1);
}

int st_handle_list_groups(st_req *req)
{
    st_groups *g = req->broker->groups;
    st_buf *out = st_resp_buf(req->resp);
    put_throttle(out, req, 1);
    st_buf_put_i16(out, 0);
    if (st_authorize_cluster(req, ST_ACL_OP_DESCRIBE)) {
        st_wr_array(out, false, (int32_t)g->ngroups);
        st_groups_foreach(g, list_one, out);
        return ST_REQ_DONE;
    }
    /* Otherwise only the groups it may DESCRIBE, silently (Kafka's filter): decided once
     * per group, as the count goes first. */
    size_t nshown = 0;
    bool *shown = grp_xcalloc(g->ngroups ? g->ngroups : 1, sizeof *shown);
    for (size_t i = 0; i < g->ngroups; i++) {
        const char *id = g->groups[i]->id;
        shown[i] = st_authorize(req, ST_ACL_OP_DESCRIBE, ST_ACL_RESOURCE_GROUP, id, strlen(id));
        nshown += shown[i];
    }
    st_wr_array(out, false, (int32_t)nshown);
    for (size_t i = 0; i < g->ngroups; i++)
        if (shown[i])
            grp_view(g, g->groups[i], list_one, out);
    free(shown);
    return ST_REQ_DONE;
}

typedef struct describe_ctx {
    st_buf *out;
    int16_t version;
} describe_ctx;

static void describe_tail(describe_ctx *d)
{
    if (d->version >= 3)
        st_buf_put_i32(d->out, AUTHORIZED_OPERATIONS_UNKNOWN);
}

/* A group with no members and no protocol: an unknown group is reported "Dead" with
 * no error, an invalid id with state "" (Kafka's DeadGroup and EmptyGroup). */
static void describe_none(describe_ctx *d, int error, st_str id, const char *state)
{
    st_buf_put_i16(d->out, (int16_t)error);
    st_wr_str(d->out, false, id.ptr ? id.ptr : "", id.len > 0 ? id.len : 0);
    st_wr_str(d->out, false, state, -1);
    st_wr_str(d->out, false, "", 0);
    st_wr_str(d->out, false, "", 0);
    st_wr_array(d->out, false, 0);
    describe_tail(d);
}

static void describe_one(void *arg, const st_group_view *v)
{
    describe_ctx *d = arg;
    st_buf *out = d->out;
    /* As Kafka: the protocol, metadata and assignments only once the group is Stable. */
    bool stable = v->state == ST_GROUP_STABLE;
    st_buf_put_i16(out, 0);
    st_wr_str(out, false, v->group_id, -1);
    st_wr_str(out, false, st_group_state_name(v->state), -1);
    st_wr_str(out, false, v->protocol_type, -1);
    st_wr_str(out, false, stable ? v->protocol : "", -1);
    st_wr_array(out, false, (int32_t)v->nmembers);
    for (size_t i = 0; i < v->nmembers; i++) {
        const st_group_member_view *m = &v->members[i];
        st_wr_str(out, false, m->member_id, -1);
        if (d->version >= 4)
            st_wr_str(out, false, m->group_instance_id, -1);
        st_wr_str(out, false, m->client_id, -1);
        st_wr_str(out, false, m->client_host, -1);
        bool md = stable && m->metadata, as = stable && m->assignment;
        st_wr_bytes(out, false, md ? m->metadata : (const uint8_t *)"",
                    md ? (int32_t)m->metadata_len : 0);
        st_wr_bytes(out, false, as ? m->assignment : (const uint8_t *)"",
                    as ? (int32_t)m->assignment_len : 0);
    }
    describe_tail(d);
}

int st_handle_describe_groups(st_req *req)
{
    st_rd *rd = &req->rd;
    st_buf *out = st_resp_buf(req->resp);
    describe_ctx d = {out, req->api_version};
    put_throttle(out, req, 1);
    int32_t n = st_rd_array(rd, false, 2);
    st_wr_array(out, false, n > 0 ? n : 0);
    for (int32_t i = 0; i < n && !rd->err; i++) {
        st_str id = st_rd_str(rd, false);
        char *cid = grp_dup_str(id);
        if (!group_allowed(req, ST_ACL_OP_DESCRIBE, id))
            describe_none(&d, ST_ERR_GROUP_AUTHORIZATION_FAILED, id, "");
        else if (id.len <= 0)
            describe_none(&d, ST_ERR_INVALID_GROUP_ID, id, "");
        else if (st_groups_describe(req->broker->groups, cid, describe_one, &d))
            describe_none(&d, 0, id, st_group_state_name(ST_GROUP_DEAD));
        free(cid);
    }
    if (req->api_version >= 3)
        st_rd_bool(rd); /* include_authorized_operations: we have none to report */
    return rd->err ? ST_ERR__MALFORMED : ST_REQ_DONE;
}

int st_handle_delete_groups(st_req *req)
{
    st_rd *rd = &req->rd;
    st_buf *out = st_resp_buf(req->resp);
    put_throttle(out, req, 0);
    int32_t n = st_rd_array(rd, false, 2);
    st_wr_array(out, false, n > 0 ? n : 0);
    for (int32_t i = 0; i < n && !rd->err; i++) {
        st_str id = st_rd_str(rd, false);
        char *cid = grp_dup_str(id);
        char why[300] = "";
        int rc;
        if (group_allowed(req, ST_ACL_OP_DELETE, id)) {
            rc = st_groups_delete(req->broker->groups, cid, why, sizeof why);
        } else {
            rc = ST_ERR_GROUP_AUTHORIZATION_FAILED;
            snprintf(why, sizeof why, "group \"%s\": %s is not authorized: it needs DELETE on it",
                     cid, st_req_principal(req));
        }
        if (rc)
            st_info("DeleteGroups from %s: %s", req->conn ? st_conn_peer(req->conn) : "(none)",
                    why);
        st_wr_str(out, false, id.ptr ? id.ptr : "", id.len > 0 ? id.len : 0);
        st_buf_put_i16(out, (int16_t)rc);
        free(cid);
    }
    return rd->err ? ST_ERR__MALFORMED : ST_REQ_DONE;
}
