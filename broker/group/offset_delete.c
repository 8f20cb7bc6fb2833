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

/* A topic the request names, for finding it by name (request order is kept in at). */
typedef struct named {
    st_str name;
    size_t at;
    bool subscribed;
} named;

static int cmp_name(st_str a, st_str b)
{
    if (a.len != b.len)
        return a.len < b.len ? -1 : 1;
    return a.len > 0 ? memcmp(a.ptr, b.ptr, (size_t)a.len) : 0;
}

static int cmp_named(const void *x, const void *y)
{
    const named *a = x, *b = y;
    int c = cmp_name(a->name, b->name);
    return c ? c : (a->at > b->at) - (a->at < b->at);
}

/* The first of the sorted names equal to name, or NULL. */
static named *find_named(named *sorted, size_t n, st_str name)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_name(sorted[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && cmp_name(sorted[lo].name, name) == 0 ? &sorted[lo] : NULL;
}

/* Marks the sorted names that the consumer-protocol subscription (ConsumerProtocol-
 * Subscription: version int16, topics [string], ...) in md names. Unparsable metadata
 * subscribes to nothing. */
static void mark_subscription(const uint8_t *md, size_t len, named *sorted, size_t n)
{
    st_rd rd;
    st_rd_init(&rd, md, len);
    st_rd_i16(&rd); /* version: the topic list is first in every version */
    int32_t count = st_rd_array(&rd, false, 2);
    for (int32_t i = 0; i < count && !rd.err; i++) {
        st_str t = st_rd_str(&rd, false);
        named *hit = rd.err ? NULL : find_named(sorted, n, t);
        if (hit)
            hit->subscribed = true;
    }
}

/* subscribed[t]: does some member of the (non-empty, consumer) group subscribe to the
 * request's topic t? The request's names are sorted once and each member's subscription
 * is read once, each of its names looked up: the work is the request's size and the
 * members' metadata (each times a log), never their product — a request naming 40,000
 * topics to a member subscribing to 40,000 held the loop 97 s when every topic was
 * looked for in every subscription. */
static void find_subscribed(const grp_group *grp, const del_topic *topics, size_t ntopics,
                            bool *subscribed)
{
    named *sorted = grp_xcalloc(ntopics ? ntopics : 1, sizeof *sorted);
    for (size_t t = 0; t < ntopics; t++)
        sorted[t] = (named){topics[t].name, t, false};
    qsort(sorted, ntopics, sizeof *sorted, cmp_named);
    for (size_t i = 0; i < grp->nmembers; i++) {
        const grp_member *m = grp->members[i];
        const grp_protocol *p = grp_member_protocol(m, grp->protocol);
        if (!p && m->nprotocols > 0)
            p = &m->protocols[0]; /* mid-rebalance: the first it offered */
        if (p)
            mark_subscription(p->metadata, p->metadata_len, sorted, ntopics);
    }
    /* Only the first of equal names was marked: a topic named twice is subscribed both
     * times. */
    for (size_t k = 0; k < ntopics; k++) {
        if (k > 0 && cmp_name(sorted[k].name, sorted[k - 1].name) == 0)
            sorted[k].subscribed = sorted[k - 1].subscribed;
        subscribed[sorted[k].at] = sorted[k].subscribed;
    }
    free(sorted);
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

st_req_result st_handle_offset_delete(st_req *req)
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
        return ST_REQ_MALFORMED;
    }

    st_buf *out = st_resp_buf(req->resp);
    st_groups *g = req->broker->groups;
    int16_t error = 0;
    grp_group *grp = NULL;
    bool *subscribed = NULL;
    if (!st_req_allowed(req, group_id.ptr ? group_id.ptr : "",
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
    subscribed = grp_xcalloc(ntopics ? ntopics : 1, sizeof *subscribed);
    if (grp->nmembers > 0)
        find_subscribed(grp, topics, ntopics, subscribed);
    for (size_t t = 0; t < ntopics; t++) {
        const del_topic *dt = &topics[t];
        int16_t e = 0;
        if (!st_req_allowed_to(req, ST_ACL_OP_READ, ST_ACL_RESOURCE_TOPIC,
                               dt->name.ptr ? dt->name.ptr : "",
                               dt->name.len > 0 ? (size_t)dt->name.len : 0))
            e = ST_ERR_TOPIC_AUTHORIZATION_FAILED;
        else if (subscribed[t])
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
    free(subscribed);
    free(topics);
    free(parts);
    return ST_REQ_DONE;
}
