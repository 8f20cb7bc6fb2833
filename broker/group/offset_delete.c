/*
 * OffsetDelete (47, v0): removes a group's committed offsets for some partitions
 * (KIP-496; `kafka-consumer-groups.sh --delete-offsets`, librdkafka's
 * DeleteConsumerGroupOffsets, `strait groups delete-offsets`).
 *
 * Kafka's rules, in its order:
 *   - DELETE on the group, else GROUP_AUTHORIZATION_FAILED for the whole request;
 *   - an unknown (or Dead) group: GROUP_ID_NOT_FOUND;
 *   - a group with members that does not use the consumer protocol: NON_EMPTY_GROUP
 *     (its subscriptions cannot be read, so nothing is known to be safe to delete);
 *   - per partition: READ on the topic, else TOPIC_AUTHORIZATION_FAILED; an unknown
 *     topic or partition, UNKNOWN_TOPIC_OR_PARTITION; a topic some member of an active
 *     consumer group subscribes to, GROUP_SUBSCRIBED_TO_TOPIC (its consumers would
 *     otherwise restart from auto.offset.reset under the members' feet).
 * What remains is deleted with tombstones in __consumer_offsets (offsets.c), so the
 * deletion survives a restart. A partition with nothing committed is answered 0.
 *
 * Loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"
#include "broker/group/group_int.h"
#include "broker/security/security.h"
#include "common/errors.h"

typedef struct del_topic {
    st_str name;
    size_t first, n; /* its partitions in parts[] */
} del_topic;

/* Does the consumer-protocol subscription (ConsumerProtocolSubscription: version int16,
 * topics [string], ...) in md name topic? Unparsable metadata subscribes to nothing. */
static bool subscription_names(const uint8_t *md, size_t len, st_str topic)
{
    st_rd rd;
    st_rd_init(&rd, md, len);
    st_rd_i16(&rd); /* version: the topic list is first in every version */
    int32_t n = st_rd_array(&rd, false, 2);
    for (int32_t i = 0; i < n && !rd.err; i++) {
        st_str t = st_rd_str(&rd, false);
        if (!rd.err && t.len == topic.len &&
            (t.len == 0 || memcmp(t.ptr, topic.ptr, (size_t)t.len) == 0))
            return true;
    }
    return false;
}

/* Does any member of the (non-empty, consumer) group subscribe to topic? */
static bool group_subscribes(const grp_group *grp, st_str topic)
{
    for (size_t i = 0; i < grp->nmembers; i++) {
        const grp_member *m = grp->members[i];
        const grp_protocol *p = grp_member_protocol(m, grp->protocol);
        if (!p && m->nprotocols > 0)
            p = &m->protocols[0]; /* mid-rebalance: the first it offered */
        if (p && subscription_names(p->metadata, p->metadata_len, topic))
            return true;
    }
    return false;
}

static void write_answer(st_buf *out, int16_t error, const del_topic *topics, size_t ntopics,
                         const grp_commit *parts)
{
    st_buf_put_i16(out, error);
    st_buf_put_i32(out, 0); /* throttle_time_ms */
    st_wr_array(out, false, (int32_t)ntopics);
    for (size_t t = 0; t < ntopics; t++) {
        st_wr_str(out, false, topics[t].name.ptr, topics[t].name.len);
        st_wr_array(out, false, (int32_t)topics[t].n);
        for (size_t i = topics[t].first; i < topics[t].first + topics[t].n; i++) {
            st_buf_put_i32(out, parts[i].partition);
            st_buf_put_i16(out, parts[i].error);
        }
    }
}

int st_handle_offset_delete(st_req *req)
{
    st_rd *rd = &req->rd;
    st_str group_id = st_rd_str(rd, false);
    /* Each topic: a name and a count (6 bytes at least); each partition 4 bytes, so
     * the request's size bounds both arrays. */
    int32_t nt = st_rd_array(rd, false, 2 + 4);
    size_t ntopics = nt > 0 ? (size_t)nt : 0;
    del_topic *topics = grp_xcalloc(ntopics ? ntopics : 1, sizeof *topics);
    size_t cap = st_rd_left(rd) / 4 + 1, nparts = 0;
    grp_commit *parts = grp_xcalloc(cap, sizeof *parts);
    for (size_t t = 0; t < ntopics && !rd->err; t++) {
        topics[t].name = st_rd_str(rd, false);
        topics[t].first = nparts;
        int32_t np = st_rd_array(rd, false, 4);
        for (int32_t p = 0; p < np && !rd->err && nparts < cap; p++) {
            parts[nparts] = (grp_commit){.topic = topics[t].name, .partition = st_rd_i32(rd)};
            nparts++;
            topics[t].n++;
        }
    }
    if (rd->err) {
        free(topics);
        free(parts);
        return ST_ERR__MALFORMED;
    }

    st_buf *out = st_resp_buf(req->resp);
    st_groups *g = req->broker->groups;
    int16_t error = 0;
    grp_group *grp = NULL;
    if (!st_authorize(req, ST_ACL_OP_DELETE, ST_ACL_RESOURCE_GROUP,
                      group_id.ptr ? group_id.ptr : "",
                      group_id.len > 0 ? (size_t)group_id.len : 0))
        error = ST_ERR_GROUP_AUTHORIZATION_FAILED;
    else if (!grp_id_valid(group_id))
        error = ST_ERR_INVALID_GROUP_ID;
    else if (!(grp = grp_find(g, group_id)) || grp->state == ST_GROUP_DEAD)
        error = ST_ERR_GROUP_ID_NOT_FOUND;
    else if (grp->nmembers > 0 && strcmp(grp->protocol_type, "consumer") != 0)
        error = ST_ERR_NON_EMPTY_GROUP;
    if (error) {
        write_answer(out, error, NULL, 0, parts);
        goto out;
    }
    for (size_t t = 0; t < ntopics; t++) {
        const del_topic *dt = &topics[t];
        int16_t e = 0;
        if (!st_authorize(req, ST_ACL_OP_READ, ST_ACL_RESOURCE_TOPIC,
                          dt->name.ptr ? dt->name.ptr : "",
                          dt->name.len > 0 ? (size_t)dt->name.len : 0))
            e = ST_ERR_TOPIC_AUTHORIZATION_FAILED;
        else if (grp->nmembers > 0 && group_subscribes(grp, dt->name))
            e = ST_ERR_GROUP_SUBSCRIBED_TO_TOPIC;
        for (size_t i = dt->first; i < dt->first + dt->n; i++) {
            parts[i].error = e;
            if (!e && (dt->name.len <= 0 ||
                       !st_topics_partition(req->broker->topics, dt->name.ptr, (size_t)dt->name.len,
                                            parts[i].partition)))
                parts[i].error = ST_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
    }
    grp_offsets_delete(g, grp, parts, nparts); /* may free grp */
    write_answer(out, 0, topics, ntopics, parts);
out:
    free(topics);
    free(parts);
    return ST_REQ_DONE;
}
