/*
 * Metadata (key 3), versions 0..12: the broker list (just us), the cluster id, the
 * controller (us: librdkafka and kafkajs send admin requests to it) and the topics
 * asked for, auto-creating unknown ones when the client and the broker allow it.
 *
 * What the versions add: v7 each partition's leader epoch (the log's current one,
 * st_log_leader_epoch: 0 on a single broker, where leadership never moves), v8 the
 * authorized-operations fields (answered "not provided", INT32_MIN, as Kafka does when they were
 * not asked for), v9 the flexible encoding, v10 topic ids (in the answer), v11 drops the cluster's
 * authorized operations, v12 nullable names (a topic may be asked for by id alone: UNKNOWN_TOPIC_ID
 * if none has it; below v12 a null name is malformed, since the answer could not carry one).
 *
 * Every partition is led by this broker with itself as the only replica and ISR.
 *
 * Authorization (Kafka's): a listing of every topic silently leaves out those the caller
 * may not DESCRIBE; a named topic it may not DESCRIBE is answered TOPIC_AUTHORIZATION_FAILED
 * whether it exists or not, so the answer never reveals existence. Auto-creating a named
 * unknown topic also needs CREATE on the cluster or on the topic; without it the answer is
 * TOPIC_AUTHORIZATION_FAILED, as in Kafka — the client learns it may not create the
 * topic, rather than retrying a topic that will never appear.
 *
 * The broker's port is the one of the listener the client came in on, so a client on the
 * SASL listener is not sent to the PLAINTEXT one.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"
#include "broker/request/session.h"
#include "broker/security/security.h"
#include "common/errors.h"
#include "common/logging.h"

#define AUTHORIZED_OPERATIONS_UNKNOWN INT32_MIN

static const uint8_t zero_uuid[16];

/* A requested topic: by name, or from v10 by id (a null name). */
typedef struct asked_topic {
    st_str name;
    const uint8_t *id; /* 16 bytes in the request, or zero_uuid */
} asked_topic;

static void write_topic(st_buf *w, bool flex, int16_t version, int32_t node_id,
                        const st_topic *topic)
{
    st_buf_put_i16(w, ST_ERR_NONE);
    st_wr_str(w, flex, st_topic_name(topic), -1);
    if (version >= 10)
        st_buf_append(w, st_topic_id(topic), ST_TOPIC_ID_LEN);
    if (version >= 1)
        st_wr_bool(w, st_topic_internal(topic));
    st_wr_array(w, flex, st_topic_partition_count(topic));
    for (int32_t p = 0; p < st_topic_partition_count(topic); p++) {
        st_buf_put_i16(w, ST_ERR_NONE);
        st_buf_put_i32(w, p);
        st_buf_put_i32(w, node_id); /* leader */
        if (version >= 7)
            st_buf_put_i32(w, st_log_leader_epoch(st_topic_log(topic, p)));
        st_wr_array(w, flex, 1); /* replicas */
        st_buf_put_i32(w, node_id);
        st_wr_array(w, flex, 1); /* isr */
        st_buf_put_i32(w, node_id);
        if (version >= 5)
            st_wr_array(w, flex, 0); /* offline replicas */
        st_wr_tags(w, flex);
    }
    if (version >= 8)
        st_buf_put_i32(w, AUTHORIZED_OPERATIONS_UNKNOWN);
    st_wr_tags(w, flex);
}

static void write_topic_error(st_buf *w, bool flex, int16_t version, int err, st_str name,
                              const uint8_t *id)
{
    st_buf_put_i16(w, (int16_t)err);
    st_wr_str(w, flex, name.ptr, name.len);
    if (version >= 10)
        st_buf_append(w, id, 16);
    if (version >= 1)
        st_wr_bool(w, false);
    st_wr_array(w, flex, 0);
    if (version >= 8)
        st_buf_put_i32(w, AUTHORIZED_OPERATIONS_UNKNOWN);
    st_wr_tags(w, flex);
}

/* The broker's topics sorted by id, built by the first by-id lookup of a request: a
 * request may name millions of ids, and scanning every topic for each held the loop
 * (100,000 ids against 2,000 topics: 6 s). Owns `sorted`; the topics are borrowed for
 * the request's handling (loop thread). */
typedef struct id_index {
    st_topic **sorted;
    size_t n;
    bool built;
} id_index;

static int cmp_topic_id(const void *x, const void *y)
{
    const st_topic *a = *(st_topic *const *)x, *b = *(st_topic *const *)y;
    return memcmp(st_topic_id(a), st_topic_id(b), ST_TOPIC_ID_LEN);
}

/* The topic whose id is `id`, or NULL: O(log n) once the index is built. */
static st_topic *topic_by_id(const st_broker *b, id_index *ix, const uint8_t *id)
{
    if (!ix->built) {
        ix->built = true;
        ix->n = st_topics_count(b->topics);
        ix->sorted = calloc(ix->n ? ix->n : 1, sizeof *ix->sorted);
        if (ix->sorted == NULL)
            abort(); /* as st_buf */
        for (size_t i = 0; i < ix->n; i++)
            ix->sorted[i] = st_topics_at(b->topics, i);
        qsort(ix->sorted, ix->n, sizeof *ix->sorted, cmp_topic_id);
    }
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(st_topic_id(ix->sorted[mid]), id, ST_TOPIC_ID_LEN);
        if (c == 0)
            return ix->sorted[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* A requested topic and its place in the request, for finding repeats. */
typedef struct asked_at {
    asked_topic t;
    int32_t at;
} asked_at;

/* By what names the topic (a name; for a null name, its id), then by position: equal
 * neighbours are repeats, the first mention first. */
static int cmp_asked(const void *x, const void *y)
{
    const asked_at *a = x, *b = y;
    int c = (a->t.name.len < 0) - (b->t.name.len < 0);
    if (!c && a->t.name.len < 0)
        c = memcmp(a->t.id, b->t.id, 16);
    else if (!c && a->t.name.len != b->t.name.len)
        c = a->t.name.len < b->t.name.len ? -1 : 1;
    else if (!c && a->t.name.len > 0)
        c = memcmp(a->t.name.ptr, b->t.name.ptr, (size_t)a->t.name.len);
    return c ? c : (a->at > b->at) - (a->at < b->at);
}

/* Marks repeat[i] for each topic named (or, by id, identified) earlier in the request,
 * and returns how many are not repeats. Kafka answers each topic once; answering every
 * repeat in full let an 88 KB request naming a 1,000-partition topic 4,000 times draw a
 * 104 MB answer. n log n in the request's size. */
static int32_t mark_repeats(const asked_topic *names, int32_t n, bool *repeat)
{
    asked_at *s = calloc(n > 0 ? (size_t)n : 1, sizeof *s);
    if (s == NULL)
        abort(); /* as st_buf */
    for (int32_t i = 0; i < n; i++)
        s[i] = (asked_at){names[i], i};
    qsort(s, (size_t)n, sizeof *s, cmp_asked);
    int32_t unique = 0;
    for (int32_t k = 0; k < n; k++) {
        /* the same topic as the one before it, position aside */
        asked_at prev = k > 0 ? s[k - 1] : s[k];
        prev.at = s[k].at;
        repeat[s[k].at] = k > 0 && cmp_asked(&prev, &s[k]) == 0;
        unique += !repeat[s[k].at];
    }
    free(s);
    return unique;
}

/* One requested topic: found, auto-created, or an error entry. */
static void answer_topic(st_req *req, st_buf *w, asked_topic asked, bool allow_auto, id_index *ids)
{
    st_broker *b = req->broker;
    bool flex = req->flex;
    int16_t v = req->api_version;
    st_str name = asked.name;
    char why[256];
    if (name.len < 0) {
        /* v10+: by id only. Unknown and not describable look alike, so that the answer
         * does not reveal which ids exist. */
        st_topic *topic = topic_by_id(b, ids, asked.id);
        if (topic && st_req_allowed(req, st_topic_name(topic), strlen(st_topic_name(topic))))
            write_topic(w, flex, v, b->cfg.node_id, topic);
        else
            write_topic_error(w, flex, v, ST_ERR_UNKNOWN_TOPIC_ID, name, asked.id);
        return;
    }
    /* First, before even the name check: a denied caller learns nothing about the name. */
    if (!st_req_allowed(req, name.ptr ? name.ptr : "", name.len > 0 ? (size_t)name.len : 0)) {
        write_topic_error(w, flex, v, ST_ERR_TOPIC_AUTHORIZATION_FAILED, name, asked.id);
        return;
    }
    if (st_topic_name_check(name.ptr, (size_t)name.len, why, sizeof(why)) != 0) {
        st_debug("metadata: %s", why);
        write_topic_error(w, flex, v, ST_ERR_INVALID_TOPIC_EXCEPTION, name, asked.id);
        return;
    }
    st_topic *topic = st_topics_find(b->topics, name.ptr, (size_t)name.len);
    if (topic == NULL && allow_auto && b->cfg.auto_create_topics) {
        if (!st_req_allowed_cluster_to(req, ST_ACL_OP_CREATE) &&
            !st_req_allowed_to(req, ST_ACL_OP_CREATE, ST_ACL_RESOURCE_TOPIC, name.ptr,
                               (size_t)name.len)) {
            write_topic_error(w, flex, v, ST_ERR_TOPIC_AUTHORIZATION_FAILED, name, asked.id);
            return;
        }
        int refused;
        topic = st_broker_auto_create(b, name.ptr, (size_t)name.len, &refused);
        if (!topic && refused) {
            /* Over the tenant's limit: a permanent error, not a topic to wait for. */
            write_topic_error(w, flex, v, refused, name, asked.id);
            return;
        }
    }
    if (topic == NULL) {
        write_topic_error(w, flex, v, ST_ERR_UNKNOWN_TOPIC_OR_PARTITION, name, asked.id);
        return;
    }
    write_topic(w, flex, v, b->cfg.node_id, topic);
}

/* The port to advertise: the configured one, else the listener this client came in on,
 * else the first listener's. */
static int advertised_port(const st_req *req)
{
    const st_broker *b = req->broker;
    if (b->cfg.advertised_port)
        return b->cfg.advertised_port;
    const st_session *s = st_req_session(req);
    return s && s->listener_port ? s->listener_port : st_broker_port(b);
}

st_req_result st_handle_metadata(st_req *req)
{
    st_broker *b = req->broker;
    st_rd *rd = &req->rd;
    bool flex = req->flex;
    int16_t v = req->api_version;
    asked_topic *names = NULL;
    bool *shown = NULL; /* all topics: which ones the caller may describe */
    st_req_result rc = ST_REQ_DONE;

    /* each entry is at least a string length (and from v10 an id) */
    int32_t n = st_rd_array(rd, flex, (v >= 10 ? 16 : 0) + 2);
    if (n > 0) {
        names = calloc((size_t)n, sizeof(*names));
        if (names == NULL) {
            rc = ST_REQ_MALFORMED;
            goto out;
        }
    }
    for (int32_t i = 0; i < n; i++) {
        names[i].id = v >= 10 ? st_rd_raw(rd, 16) : NULL;
        if (!names[i].id)
            names[i].id = zero_uuid;
        names[i].name = st_rd_str(rd, flex);
        /* A null name means "by id": the request allows it from v10, but the answer's
         * names are nullable only from v12 (an unknown id is answered with a null name),
         * so below v12 it is refused, as Kafka refuses it (InvalidRequest). */
        if (names[i].name.len < 0 && (v < 12 || memcmp(names[i].id, zero_uuid, 16) == 0))
            rd->err = 1;
        st_rd_tags(rd, flex);
    }
    bool allow_auto = true;
    if (v >= 4)
        allow_auto = st_rd_bool(rd);
    if (v >= 8 && v <= 10)
        st_rd_bool(rd); /* include_cluster_authorized_operations: not computed */
    if (v >= 8)
        st_rd_bool(rd); /* include_topic_authorized_operations: not computed */
    st_rd_tags(rd, flex);
    if (rd->err) {
        rc = ST_REQ_MALFORMED;
        goto out;
    }
    /* v0: an empty list means every topic; v1+: null means every topic, empty none. */
    bool all = n < 0 || (v == 0 && n == 0);

    st_buf *w = st_resp_buf(req->resp);
    if (v >= 3)
        st_buf_put_i32(w, 0); /* throttle_time_ms */
    st_wr_array(w, flex, 1);
    st_buf_put_i32(w, b->cfg.node_id);
    const char *host = b->cfg.advertised_host[0] ? b->cfg.advertised_host : b->cfg.listen_host;
    st_wr_str(w, flex, host, -1);
    st_buf_put_i32(w, advertised_port(req));
    if (v >= 1)
        st_wr_str(w, flex, NULL, -1); /* rack */
    st_wr_tags(w, flex);
    if (v >= 2)
        st_wr_str(w, flex, b->cfg.cluster_id[0] ? b->cfg.cluster_id : NULL, -1);
    if (v >= 1)
        st_buf_put_i32(w, b->cfg.node_id); /* controller: this broker */

    if (all) {
        /* The array's length comes first, so decide once per topic, then write. */
        size_t count = st_topics_count(b->topics), nshown = 0;
        shown = calloc(count ? count : 1, sizeof(*shown));
        if (shown == NULL)
            abort(); /* as st_buf: a broker that cannot allocate is done */
        for (size_t i = 0; i < count; i++) {
            const st_topic *topic = st_topics_at(b->topics, i);
            shown[i] = st_req_allowed(req, st_topic_name(topic), strlen(st_topic_name(topic)));
            nshown += shown[i];
        }
        st_wr_array(w, flex, (int32_t)nshown);
        for (size_t i = 0; i < count; i++)
            if (shown[i])
                write_topic(w, flex, v, b->cfg.node_id, st_topics_at(b->topics, i));
    } else {
        id_index ids = {0};
        bool *repeat = calloc(n > 0 ? (size_t)n : 1, sizeof *repeat);
        if (repeat == NULL)
            abort(); /* as st_buf */
        st_wr_array(w, flex, mark_repeats(names, n, repeat));
        for (int32_t i = 0; i < n; i++)
            if (!repeat[i])
                answer_topic(req, w, names[i], allow_auto, &ids);
        free(repeat);
        free(ids.sorted);
    }
    if (v >= 8 && v <= 10)
        st_buf_put_i32(w, AUTHORIZED_OPERATIONS_UNKNOWN); /* cluster authorized operations */
    st_wr_tags(w, flex);
out:
    free(shown);
    free(names);
    return rc;
}
