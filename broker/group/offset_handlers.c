/*
 * OffsetCommit (8) v2-8 and OffsetFetch (9) v1-8 on the wire (flexible from OffsetCommit
 * 8 and OffsetFetch 6; each handler reads and writes every version from one body, keyed
 * on req->flex). The group membership APIs are in handlers.c, the stored offsets in
 * offsets.c.
 *
 * OffsetCommit checks the group (generation, member, and from v7 the static member's
 * group.instance.id: a replaced instance gets FENCED_INSTANCE_ID) before any offset is
 * written; v2-4's retention_time_ms gives the offsets their own expiry (KIP-211), else
 * offsets.retention.minutes applies (expiry.c). A commit whose append needs a flush
 * (flush.messages) is answered from the flush callback.
 *
 * Authorization (Kafka's): OffsetCommit READ on the group, then READ on each topic;
 * OffsetFetch DESCRIBE on the group, then DESCRIBE on each topic.
 *
 * OffsetFetch answers a group (v8 names several) and a committed offset once per
 * request: a repeat gets INVALID_REQUEST (42) without the offsets or metadata.
 *
 * Loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"
#include "broker/group/group_int.h"
#include "broker/group/wire.h"
#include "broker/txn/coordinator.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/logging.h"

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

/* The fewest bytes one partition of an OffsetCommit takes. */
static size_t commit_part_size(int16_t v, bool flex)
{
    return 4 + 8 + (v >= 6 ? 4 : 0) + GRP_STR_MIN(flex) + GRP_TAGS_MIN(flex);
}

/* First walk over the topics (a copy of the cursor): counts them and their partitions. */
static void commit_scan(st_rd rd, int16_t v, bool flex, size_t *ntopics, size_t *nparts)
{
    int32_t nt = st_rd_array(&rd, flex, GRP_STR_MIN(flex) + GRP_ARR_MIN(flex) + GRP_TAGS_MIN(flex));
    *ntopics = nt > 0 ? (size_t)nt : 0;
    *nparts = 0;
    for (int32_t t = 0; t < nt && !rd.err; t++) {
        st_rd_str(&rd, flex);
        int32_t np = st_rd_array(&rd, flex, commit_part_size(v, flex));
        for (int32_t p = 0; p < np && !rd.err; p++) {
            st_rd_skip(&rd, 4 + 8 + (v >= 6 ? 4 : 0));
            st_rd_str(&rd, flex);
            st_rd_tags(&rd, flex);
        }
        st_rd_tags(&rd, flex);
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
    bool flex = c->req->flex;
    grp_put_throttle(out, c->req, 3);
    st_wr_array(out, flex, (int32_t)c->ntopics);
    for (size_t t = 0; t < c->ntopics; t++) {
        const commit_topic *ct = &c->topics[t];
        st_wr_str(out, flex, ct->name.ptr, ct->name.len);
        st_wr_array(out, flex, (int32_t)ct->n);
        for (size_t i = ct->first; i < ct->first + ct->n; i++) {
            st_buf_put_i32(out, c->commits[i].partition);
            st_buf_put_i16(out, c->commits[i].error);
            st_wr_tags(out, flex);
        }
        st_wr_tags(out, flex);
    }
    st_wr_tags(out, flex);
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

st_req_result st_handle_offset_commit(st_req *req)
{
    st_rd *rd = &req->rd;
    int16_t v = req->api_version;
    bool flex = req->flex;
    st_str group_id = st_rd_str(rd, flex);
    int32_t generation = st_rd_i32(rd);
    st_str member_id = st_rd_str(rd, flex);
    st_str instance_id = v >= 7 ? st_rd_str(rd, flex) : (st_str){NULL, -1};
    /* v2-4: an explicit retention for these offsets; -1 (every client's default) leaves
     * them to offsets.retention.minutes (KIP-211). */
    int64_t retention_ms = v >= 2 && v <= 4 ? st_rd_i64(rd) : -1;
    if (rd->err)
        return ST_REQ_MALFORMED;
    int64_t expire_ms = -1;
    if (retention_ms >= 0) {
        int64_t now = st_wall_ms();
        expire_ms = retention_ms > INT64_MAX - now ? INT64_MAX : now + retention_ms;
    }
    commit_req *c = grp_xcalloc(1, sizeof *c);
    c->req = req;
    size_t nparts;
    commit_scan(*rd, v, flex, &c->ntopics, &nparts);
    c->topics = grp_xcalloc(c->ntopics, sizeof *c->topics);
    c->commits = grp_xcalloc(nparts, sizeof *c->commits);
    int32_t nt = st_rd_array(rd, flex, GRP_STR_MIN(flex) + GRP_ARR_MIN(flex) + GRP_TAGS_MIN(flex));
    for (int32_t t = 0; t < nt && !rd->err && (size_t)t < c->ntopics; t++) {
        commit_topic *ct = &c->topics[t];
        ct->name = st_rd_str(rd, flex);
        ct->first = c->ncommits;
        int32_t np = st_rd_array(rd, flex, commit_part_size(v, flex));
        for (int32_t p = 0; p < np && !rd->err && c->ncommits < nparts; p++) {
            grp_commit *pc = &c->commits[c->ncommits++];
            pc->topic = ct->name;
            pc->partition = st_rd_i32(rd);
            pc->offset = st_rd_i64(rd);
            pc->leader_epoch = v >= 6 ? st_rd_i32(rd) : -1;
            pc->metadata = st_rd_str(rd, flex);
            pc->expire_timestamp_ms = expire_ms;
            st_rd_tags(rd, flex);
            ct->n++;
        }
        st_rd_tags(rd, flex);
    }
    st_rd_tags(rd, flex);
    if (rd->err) {
        commit_req_free(c);
        return ST_REQ_MALFORMED;
    }

    st_groups *g = req->broker->groups;
    grp_group *grp = NULL;
    st_log *flush_log = NULL;
    /* A denied group is never looked at (a commit may create it). Denied topics keep
     * their error; the coordinator handles the rest, skipping commits with an error. */
    int rc = ST_ERR_GROUP_AUTHORIZATION_FAILED;
    if (grp_group_allowed(req, group_id)) {
        for (size_t t = 0; t < c->ntopics; t++) {
            const commit_topic *ct = &c->topics[t];
            if (grp_topic_allowed(req, ST_ACL_OP_READ, ct->name))
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
        return ST_REQ_DEFERRED;
    }
    write_commit(c);
    commit_req_free(c);
    return ST_REQ_DONE;
}

/* ---- OffsetFetch ---- */

/* One partition's answer: its committed offset, or none (o NULL) with `error`. */
static void write_fetched(st_buf *out, const st_req *req, int32_t partition, const grp_offset *o,
                          int error)
{
    bool flex = req->flex;
    st_buf_put_i32(out, partition);
    st_buf_put_i64(out, o ? o->offset : -1);
    if (req->api_version >= 5)
        st_buf_put_i32(out, o ? o->leader_epoch : -1);
    st_wr_str(out, flex, o ? o->metadata : "", -1);
    st_buf_put_i16(out, (int16_t)error);
    st_wr_tags(out, flex);
}

/* Reads one group's topics and answers `error` for the group: at the group level for
 * v2+ (no topics), per partition for v1, which has no group-level error. */
static void offset_fetch_refused(const st_req *req, st_rd *rd, st_buf *out, int error)
{
    int16_t v = req->api_version;
    bool flex = req->flex;
    int32_t nt = st_rd_array(rd, flex, GRP_STR_MIN(flex) + GRP_ARR_MIN(flex) + GRP_TAGS_MIN(flex));
    if (v >= 2) {
        for (int32_t t = 0; t < nt && !rd->err; t++) {
            st_rd_str(rd, flex);
            int32_t np = st_rd_array(rd, flex, 4);
            st_rd_skip(rd, (size_t)(np > 0 ? np : 0) * 4);
            st_rd_tags(rd, flex);
        }
        st_wr_array(out, flex, 0);
        st_buf_put_i16(out, (int16_t)error);
        return;
    }
    st_wr_array(out, flex, nt > 0 ? nt : 0);
    for (int32_t t = 0; t < nt && !rd->err; t++) {
        st_str topic = st_rd_str(rd, flex);
        st_wr_str(out, flex, topic.ptr, topic.len);
        int32_t np = st_rd_array(rd, flex, 4);
        st_wr_array(out, flex, np > 0 ? np : 0);
        for (int32_t p = 0; p < np && !rd->err; p++)
            write_fetched(out, req, st_rd_i32(rd), NULL, error);
        st_rd_tags(rd, flex);
        st_wr_tags(out, flex);
    }
}

/* Every offset the group committed, by topic, leaving out the topics the caller may not
 * DESCRIBE (decided once per topic, as the count is written first). */
static void offset_fetch_all(const st_req *req, const grp_group *grp, st_buf *out)
{
    bool flex = req->flex;
    size_t n = grp ? grp->noffsets : 0, ntopics = 0;
    bool *shown = grp_xcalloc(n ? n : 1, sizeof *shown);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(grp->offsets[i].topic, grp->offsets[i - 1].topic) == 0) {
            shown[i] = shown[i - 1];
            continue;
        }
        const char *topic = grp->offsets[i].topic;
        shown[i] =
            st_req_allowed_to(req, ST_ACL_OP_DESCRIBE, ST_ACL_RESOURCE_TOPIC, topic, strlen(topic));
        ntopics += shown[i];
    }
    st_wr_array(out, flex, (int32_t)ntopics);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && strcmp(grp->offsets[j].topic, grp->offsets[i].topic) == 0)
            j++;
        if (!shown[i]) {
            i = j;
            continue;
        }
        st_wr_str(out, flex, grp->offsets[i].topic, -1);
        st_wr_array(out, flex, (int32_t)(j - i));
        for (size_t k = i; k < j; k++)
            write_fetched(out, req, grp->offsets[k].partition, &grp->offsets[k], 0);
        st_wr_tags(out, flex);
        i = j;
    }
    free(shown);
}

/* Reads one group's topics (null: all) and writes its topics and, from v2, its error
 * code: the body of v1-7 and one group's entry of v8. A group or committed offset
 * already answered in this request (serial) is refused, not answered again (wire.h). */
static void offset_fetch_group(const st_req *req, st_rd *rd, st_buf *out, st_str group_id,
                               uint64_t serial, bool require_stable)
{
    bool flex = req->flex;
    if (!grp_group_allowed(req, group_id)) {
        offset_fetch_refused(req, rd, out, ST_ERR_GROUP_AUTHORIZATION_FAILED);
        return;
    }
    grp_group *grp = grp_find(req->broker->groups, group_id);
    if (grp && !grp_first_answer(&grp->answered_in, serial)) {
        offset_fetch_refused(req, rd, out, ST_ERR_INVALID_REQUEST);
        return;
    }
    int32_t nt = st_rd_array(rd, flex, GRP_STR_MIN(flex) + GRP_ARR_MIN(flex) + GRP_TAGS_MIN(flex));
    if (nt < 0) {
        offset_fetch_all(req, grp, out); /* v2+: null topics */
    } else {
        /* The response mirrors the request, so it is written while reading. */
        st_wr_array(out, flex, nt);
        for (int32_t t = 0; t < nt && !rd->err; t++) {
            st_str topic = st_rd_str(rd, flex);
            bool allowed = grp_topic_allowed(req, ST_ACL_OP_DESCRIBE, topic);
            st_wr_str(out, flex, topic.ptr, topic.len);
            int32_t np = st_rd_array(rd, flex, 4);
            st_wr_array(out, flex, np > 0 ? np : 0);
            for (int32_t p = 0; p < np && !rd->err; p++) {
                int32_t partition = st_rd_i32(rd);
                const grp_offset *o =
                    allowed && grp ? grp_offsets_find(grp, topic, partition) : NULL;
                if (!allowed)
                    write_fetched(out, req, partition, NULL, ST_ERR_TOPIC_AUTHORIZATION_FAILED);
                else if (require_stable &&
                         st_txn_coord_offset_pending(req->broker->txn, group_id, topic, partition))
                    write_fetched(out, req, partition, NULL, ST_ERR_UNSTABLE_OFFSET_COMMIT);
                else if (o &&
                         !grp_first_answer(&grp->offsets[o - grp->offsets].answered_in, serial))
                    write_fetched(out, req, partition, NULL, ST_ERR_INVALID_REQUEST);
                else
                    write_fetched(out, req, partition, o, 0);
            }
            st_rd_tags(rd, flex);
            st_wr_tags(out, flex);
        }
    }
    if (req->api_version >= 2)
        st_buf_put_i16(out, 0);
}

/* v7+'s require_stable stands after the groups, but the answer is written while they
 * are read: read it ahead on a copy of the reader. A body that does not parse reads as
 * false (the real pass then finds the error). */
static bool peek_require_stable(const st_req *req)
{
    if (req->api_version < 7)
        return false;
    st_rd r = req->rd;
    bool flex = req->flex;
    int32_t ng = 1;
    if (req->api_version >= 8)
        ng = st_rd_array(&r, flex, GRP_STR_MIN(flex) + GRP_ARR_MIN(flex) + GRP_TAGS_MIN(flex));
    for (int32_t g = 0; g < ng && !r.err; g++) {
        st_rd_str(&r, flex);
        int32_t nt =
            st_rd_array(&r, flex, GRP_STR_MIN(flex) + GRP_ARR_MIN(flex) + GRP_TAGS_MIN(flex));
        for (int32_t t = 0; t < nt && !r.err; t++) {
            st_rd_str(&r, flex);
            int32_t np = st_rd_array(&r, flex, 4);
            for (int32_t p = 0; p < np && !r.err; p++)
                st_rd_i32(&r);
            st_rd_tags(&r, flex);
        }
        if (req->api_version >= 8)
            st_rd_tags(&r, flex);
    }
    bool stable = st_rd_bool(&r);
    return !r.err && stable;
}

st_req_result st_handle_offset_fetch(st_req *req)
{
    st_rd *rd = &req->rd;
    int16_t v = req->api_version;
    bool flex = req->flex;
    st_buf *out = st_resp_buf(req->resp);
    uint64_t serial = grp_request_serial(req->broker->groups);
    bool require_stable = peek_require_stable(req);
    grp_put_throttle(out, req, 3);
    if (v >= 8) {
        /* v8 (KIP-709): several groups, each answered as a v7 body would be. */
        int32_t ng =
            st_rd_array(rd, flex, GRP_STR_MIN(flex) + GRP_ARR_MIN(flex) + GRP_TAGS_MIN(flex));
        st_wr_array(out, flex, ng > 0 ? ng : 0);
        for (int32_t i = 0; i < ng && !rd->err; i++) {
            st_str group_id = st_rd_str(rd, flex);
            st_wr_str(out, flex, group_id.ptr ? group_id.ptr : "",
                      group_id.len > 0 ? group_id.len : 0);
            offset_fetch_group(req, rd, out, group_id, serial, require_stable);
            st_rd_tags(rd, flex);
            st_wr_tags(out, flex);
        }
    } else {
        st_str group_id = st_rd_str(rd, flex);
        offset_fetch_group(req, rd, out, group_id, serial, require_stable);
    }
    if (v >= 7)
        st_rd_bool(rd); /* require_stable: read ahead (peek_require_stable) */
    st_rd_tags(rd, flex);
    st_wr_tags(out, flex);
    return rd->err ? ST_REQ_MALFORMED : ST_REQ_DONE;
}
