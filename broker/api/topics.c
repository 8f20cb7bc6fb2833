/*
 * CreateTopics (19, v0..7), DeleteTopics (20, v0..1) and CreatePartitions (37, v0..1).
 * CreateTopics is flexible from v5, which also answers each created topic's partition
 * count, replication factor and configs (and v7 its id).
 *
 * Each handler reads the whole request first (per-topic problems found while reading,
 * such as a replica assignment naming another broker, are remembered, not acted on),
 * checks the cursor once, then asks the registry (broker/cluster/topics.h) topic by
 * topic, so the rules live in one place for these APIs and the management endpoint.
 * The registry batches a request's changes and writes topics.json once before the
 * answer (500 topics cost one write, not 500); if that write fails, every topic the
 * request changed is answered KAFKA_STORAGE_ERROR and the changes are undone.
 *
 * Authorization (Kafka's order: a duplicated name first, then the ACL, then the rest):
 * CreateTopics needs CREATE on the cluster or on the topic, DeleteTopics DELETE on the
 * topic, CreatePartitions ALTER on the topic; otherwise TOPIC_AUTHORIZATION_FAILED, the
 * same whether the topic exists or not.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"
#include "broker/cluster/dynconfig.h"
#include "broker/quota/quota.h"
#include "broker/security/security.h"
#include "common/errors.h"
#include "common/logging.h"

#define MSG_LEN 320

/* What one topic of a request asked for, and what went wrong before the registry saw
 * it. */
typedef struct topic_ask {
    st_str name;
    int32_t count;               /* partitions (create) or the new total (create partitions) */
    int16_t replication;         /* create only */
    int32_t created_partitions;  /* create, once decided: what the topic got (-1 unknown) */
    int16_t created_replication; /* likewise */
    int32_t nassign;             /* replica assignments given; -1 when null */
    int err;
    char msg[MSG_LEN];
    st_config_set *configs; /* names and values malloc'd */
    size_t nconfigs;
} topic_ask;

static void asks_free(topic_ask *asks, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        for (size_t k = 0; k < asks[i].nconfigs; k++) {
            free((char *)asks[i].configs[k].name);
            free((char *)asks[i].configs[k].value);
        }
        free(asks[i].configs);
    }
    free(asks);
}

/* The topic's name for messages ("%.*s"); a null name prints as empty. */
#define ASK_NAME(a)                                                                                \
    ((a)->name.len > 0 ? (int)(a)->name.len : 0), ((a)->name.ptr ? (a)->name.ptr : "")

/* Records the first problem found with a topic: that is the one reported. */
__attribute__((format(printf, 3, 4))) static void fail_ask(topic_ask *a, int err, const char *fmt,
                                                           ...)
{
    if (a->err != 0)
        return;
    a->err = err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->msg, sizeof(a->msg), fmt, ap);
    va_end(ap);
}

static int cmp_names(const void *x, const void *y, void *arg)
{
    const topic_ask *asks = arg;
    st_str a = asks[*(const int32_t *)x].name, b = asks[*(const int32_t *)y].name;
    int c = memcmp(a.ptr, b.ptr, (size_t)(a.len < b.len ? a.len : b.len));
    return c != 0 ? c : (a.len > b.len) - (a.len < b.len);
}

/* Marks every topic named more than once: which entry was meant is a guess. */
static void mark_duplicates(topic_ask *asks, int32_t n)
{
    if (n < 2)
        return;
    int32_t *order = malloc((size_t)n * sizeof(*order));
    if (order == NULL)
        abort(); /* as st_buf */
    for (int32_t i = 0; i < n; i++)
        order[i] = i;
    qsort_r(order, (size_t)n, sizeof(*order), cmp_names, asks);
    for (int32_t i = 1; i < n; i++)
        if (cmp_names(&order[i - 1], &order[i], asks) == 0) {
            asks[order[i - 1]].err = 0;
            fail_ask(&asks[order[i - 1]], ST_ERR_INVALID_REQUEST,
                     "topic \"%.*s\" appears more than once in the request",
                     ASK_NAME(&asks[order[i - 1]]));
            asks[order[i]].err = 0;
            fail_ask(&asks[order[i]], ST_ERR_INVALID_REQUEST,
                     "topic \"%.*s\" appears more than once in the request",
                     ASK_NAME(&asks[order[i]]));
        }
    free(order);
}

/* Marks every ask whose topic the caller may not do the row's operation on (CREATE,
 * DELETE, ALTER; nor, when cluster_op is set, that operation on the cluster). Replaces a
 * problem found while reading: the caller is not entitled to learn what else was wrong
 * with a topic it may not touch. mark_duplicates runs after and overrides this, as Kafka
 * checks duplicates first. */
static void authorize_asks(st_req *req, topic_ask *asks, int32_t n, bool cluster_op)
{
    st_acl_operation op = req->api->acl_op;
    if (cluster_op && st_req_allowed_cluster(req))
        return;
    for (int32_t i = 0; i < n; i++) {
        topic_ask *a = &asks[i];
        if (st_req_allowed(req, a->name.ptr ? a->name.ptr : "",
                           a->name.len > 0 ? (size_t)a->name.len : 0))
            continue;
        a->err = 0;
        fail_ask(a, ST_ERR_TOPIC_AUTHORIZATION_FAILED,
                 "topic \"%.*s\": %s is not authorized: it needs %s on the topic%s", ASK_NAME(a),
                 st_req_principal(req), st_acl_operation_name(op),
                 cluster_op ? " or on the cluster" : "");
    }
}

/* Ends a batch of registry changes: on failure every ask that had succeeded (err 0) and
 * changed something gets the storage error and why. */
static void persist_asks(st_broker *b, topic_ask *asks, int32_t n, bool validate_only)
{
    char why[MSG_LEN];
    if (st_topics_persist(b->topics, why, sizeof(why)) == 0 || validate_only)
        return;
    for (int32_t i = 0; i < n; i++)
        if (asks[i].err == 0)
            fail_ask(&asks[i], ST_ERR_KAFKA_STORAGE_ERROR, "%s", why);
}

/* Copies the name for the registry, or explains why it cannot be a topic name (the
 * wire length, not strlen, decides: a NUL inside must not shorten the name). */
static bool ask_name(topic_ask *a, char *out, size_t cap)
{
    if (a->err != 0)
        return false;
    if (st_topic_name_check(a->name.ptr, (size_t)a->name.len, a->msg, sizeof(a->msg)) != 0) {
        a->err = ST_ERR_INVALID_TOPIC_EXCEPTION;
        return false;
    }
    return st_str_copy(out, cap, a->name);
}

/* A broker_ids array: must be exactly this broker, once. */
static void read_broker_ids(st_rd *rd, bool flex, topic_ask *a, int32_t node_id, int32_t partition)
{
    int32_t nb = st_rd_array(rd, flex, 4);
    if (nb <= 0 && !rd->err)
        fail_ask(a, ST_ERR_INVALID_REPLICA_ASSIGNMENT,
                 "topic \"%.*s\": partition %d is assigned to no broker", ASK_NAME(a), partition);
    for (int32_t k = 0; k < nb; k++) {
        int32_t id = st_rd_i32(rd);
        if (id != node_id)
            fail_ask(a, ST_ERR_INVALID_REPLICA_ASSIGNMENT,
                     "topic \"%.*s\": partition %d is assigned to broker %d, which is not in this "
                     "cluster (only this broker is)",
                     ASK_NAME(a), partition, id);
        else if (k > 0)
            fail_ask(a, ST_ERR_INVALID_REPLICA_ASSIGNMENT,
                     "topic \"%.*s\": partition %d lists broker %d more than once", ASK_NAME(a),
                     partition, id);
    }
}

/* ---- CreateTopics ---- */

/* v5+: the configs the created topic has, as DescribeConfigs would show them (value,
 * and the source from the topic's override and the broker levels under it); null when
 * the topic is not there to describe (an error, or validate_only). */
static void write_created_configs(st_buf *w, st_broker *b, const topic_ask *a, bool exists)
{
    st_config_desc *descs = NULL;
    size_t n = 0;
    char name[256];
    if (!exists || !st_str_copy(name, sizeof(name), a->name) ||
        st_topics_describe_configs(b->topics, name, &descs, &n) != 0) {
        st_wr_array(w, true, -1);
        free(descs);
        return;
    }
    st_wr_array(w, true, (int32_t)n);
    for (size_t i = 0; i < n; i++) {
        const st_config_desc *d = &descs[i];
        st_config_entry e = {.name = d->name};
        st_dynconfig_topic_entry(b->dynconfig, d->name, d->is_default ? NULL : d->value, &e);
        st_wr_str(w, true, d->name, -1);
        st_wr_str(w, true, d->sensitive ? NULL : d->value, -1);
        st_wr_bool(w, d->read_only);
        st_buf_put_i8(w, e.source);
        st_wr_bool(w, d->sensitive);
        st_wr_tags(w, true);
        for (int k = 0; k < e.nsynonyms; k++)
            free(e.synonyms[k].value);
    }
    free(descs);
}

static void read_create_topic(st_rd *rd, bool flex, int32_t node_id, topic_ask *a)
{
    a->name = st_rd_str(rd, flex);
    if (a->name.len < 0)
        rd->err = 1; /* not nullable */
    a->count = st_rd_i32(rd);
    a->replication = st_rd_i16(rd);
    int32_t nassign = st_rd_array(rd, flex, 8);
    a->nassign = nassign;
    bool *seen = nassign > 0 ? calloc((size_t)nassign, 1) : NULL;
    if (nassign > 0 && seen == NULL)
        abort(); /* as st_buf */
    for (int32_t i = 0; i < nassign && !rd->err; i++) {
        int32_t partition = st_rd_i32(rd);
        read_broker_ids(rd, flex, a, node_id, partition);
        if (partition < 0 || partition >= nassign || seen[partition])
            fail_ask(a, ST_ERR_INVALID_REPLICA_ASSIGNMENT,
                     "topic \"%.*s\": assignments must name partitions 0..%d once each (got "
                     "partition %d)",
                     ASK_NAME(a), nassign - 1, partition);
        else
            seen[partition] = true;
        st_rd_tags(rd, flex);
    }
    free(seen);
    if (nassign > 0 && (a->count != -1 || a->replication != -1))
        fail_ask(a, ST_ERR_INVALID_REQUEST,
                 "topic \"%.*s\": give either replica assignments or num_partitions and "
                 "replication_factor, not both (got %d partitions, replication %d)",
                 ASK_NAME(a), a->count, a->replication);

    int32_t nconfigs = st_rd_array(rd, flex, 4);
    if (nconfigs > 0) {
        a->configs = calloc((size_t)nconfigs, sizeof(*a->configs));
        if (a->configs == NULL)
            abort(); /* as st_buf */
    }
    for (int32_t i = 0; i < nconfigs && !rd->err; i++) {
        st_str name = st_rd_str(rd, flex), value = st_rd_str(rd, flex);
        st_rd_tags(rd, flex);
        if (name.len < 0) {
            rd->err = 1;
            break;
        }
        if (memchr(name.ptr, 0, (size_t)name.len) ||
            (value.len > 0 && memchr(value.ptr, 0, (size_t)value.len)))
            fail_ask(a, ST_ERR_INVALID_CONFIG,
                     "topic \"%.*s\": config names and values may not contain NUL bytes",
                     ASK_NAME(a));
        a->configs[a->nconfigs].name = st_str_dup(name);
        a->configs[a->nconfigs].value = st_str_dup(value);
        a->nconfigs++;
    }
    st_rd_tags(rd, flex);
}

/* A CreateTopics whose topics are being made on the registry's worker (topics.h,
 * "creation off the loop thread"): answered once they are on disk. */
typedef struct create_state {
    st_req *req;
    topic_ask *asks;
    int32_t n, parsed;
    bool validate_only;
    int32_t *slot; /* per ask: its slot in the job, or -1 */
    st_topics_job *job;
    struct tenant_count *tenants; /* while the handler runs (check_tenant) */
    size_t ntenants;
} create_state;

static void create_state_free(create_state *cs)
{
    st_topics_job_free(cs->job);
    free(cs->tenants);
    asks_free(cs->asks, cs->parsed);
    free(cs->slot);
    free(cs);
}

static void write_create_answer(st_req *req, const topic_ask *asks, int32_t n, bool validate_only)
{
    st_broker *b = req->broker;
    bool flex = req->flex;
    int16_t v = req->api_version;
    st_buf *w = st_resp_buf(req->resp);
    if (v >= 2)
        st_buf_put_i32(w, 0); /* throttle_time_ms */
    st_wr_array(w, flex, n);
    for (int32_t i = 0; i < n; i++) {
        const topic_ask *a = &asks[i];
        if (a->err != 0)
            st_info("CreateTopics: %s: %s", st_err_name(a->err), a->msg);
        st_wr_str(w, flex, a->name.ptr, a->name.len);
        if (v >= 7) {
            const st_topic *t = a->err || validate_only
                                    ? NULL
                                    : st_topics_find(b->topics, a->name.ptr, (size_t)a->name.len);
            static const uint8_t no_id[16];
            st_buf_append(w, t ? st_topic_id(t) : no_id, ST_TOPIC_ID_LEN);
        }
        st_buf_put_i16(w, (int16_t)a->err);
        if (v >= 1)
            st_wr_str(w, flex, a->err ? a->msg : NULL, -1);
        if (v >= 5) {
            st_buf_put_i32(w, a->err ? -1 : a->created_partitions);
            st_buf_put_i16(w, a->err ? -1 : a->created_replication);
            write_created_configs(w, b, a, !a->err && !validate_only);
        }
        st_wr_tags(w, flex);
    }
    st_wr_tags(w, flex);
}

/* The job is done (on the loop): each topic's result into its ask. */
static void collect_results(create_state *cs)
{
    for (int32_t i = 0; i < cs->n; i++)
        if (cs->slot[i] >= 0) {
            topic_ask *a = &cs->asks[i];
            a->err = st_topics_job_result(cs->job, (size_t)cs->slot[i], a->msg, sizeof(a->msg));
        }
}

static void create_done(void *arg)
{
    create_state *cs = arg;
    collect_results(cs);
    write_create_answer(cs->req, cs->asks, cs->n, false);
    cs->req->state = NULL;
    st_req_finish(cs->req); /* without a connection (it closed meanwhile): only frees */
    create_state_free(cs);
}

/* One tenant's topics and partitions a CreateTopics adds (those asked before in the
 * request, and those other requests' jobs are still making: they are registered only
 * when made, so the registry's count misses them). */
typedef struct tenant_count {
    const char *tenant; /* borrowed from the security configuration: this turn only */
    int topics;
    int64_t partitions;
} tenant_count;

typedef struct tenant_pending {
    st_bquota *bquota;
    tenant_count *count;
} tenant_pending;

static void count_pending(void *arg, const char *name, int32_t partitions)
{
    tenant_pending *tp = arg;
    const char *owner = st_bquota_tenant_of(tp->bquota, name, strlen(name));
    if (owner && strcmp(owner, tp->count->tenant) == 0) {
        tp->count->topics++;
        tp->count->partitions += partitions;
    }
}

/* Tenant limits (topics, partitions) for one more topic: POLICY_VIOLATION naming the
 * limit. Not for a topic that exists: that answer is TOPIC_ALREADY_EXISTS, which clients
 * that "ensure a topic exists" rely on. *counted: the tenant's count, for the caller to
 * add the topic to once it is in the job (NULL: no tenant). */
static int check_tenant(st_broker *b, create_state *cs, const char *name, int32_t partitions,
                        tenant_count **counted, char *msg, size_t cap)
{
    *counted = NULL;
    if (st_topics_find(b->topics, name, strlen(name)))
        return 0;
    const char *tenant = st_bquota_tenant_of(b->bquota, name, strlen(name));
    int64_t parts = partitions > 0 ? partitions : 0;
    if (!tenant)
        return st_bquota_check_create(b->bquota, name, strlen(name), 1, parts, msg, cap);
    tenant_count *tc = NULL;
    for (size_t i = 0; i < cs->ntenants && !tc; i++)
        if (strcmp(cs->tenants[i].tenant, tenant) == 0)
            tc = &cs->tenants[i];
    if (!tc) { /* first topic of this tenant in the request: what others are making */
        tenant_count *grown = realloc(cs->tenants, (cs->ntenants + 1) * sizeof(*grown));
        if (grown == NULL)
            abort(); /* as st_buf */
        cs->tenants = grown;
        tc = &cs->tenants[cs->ntenants++];
        *tc = (tenant_count){.tenant = tenant};
        tenant_pending tp = {.bquota = b->bquota, .count = tc};
        st_topics_jobs_foreach(b->topics, count_pending, &tp);
    }
    *counted = tc;
    return st_bquota_check_create(b->bquota, name, strlen(name), tc->topics + 1,
                                  tc->partitions + parts, msg, cap);
}

st_req_result st_handle_create_topics(st_req *req)
{
    st_broker *b = req->broker;
    st_rd *rd = &req->rd;
    bool flex = req->flex;
    int16_t v = req->api_version;
    st_req_result rc = ST_REQ_DONE;

    /* name, partitions, replication, assignments, configs: at least 16 bytes */
    int32_t n = st_rd_array(rd, flex, 16);
    create_state *cs = calloc(1, sizeof(*cs));
    topic_ask *asks = calloc(n > 0 ? (size_t)n : 1, sizeof(*asks));
    int32_t *slot = calloc(n > 0 ? (size_t)n : 1, sizeof(*slot));
    if (cs == NULL || asks == NULL || slot == NULL)
        abort(); /* as st_buf */
    *cs = (create_state){.req = req, .asks = asks, .n = n, .slot = slot};
    for (; cs->parsed < n && !rd->err; cs->parsed++) {
        asks[cs->parsed].created_partitions = -1;
        asks[cs->parsed].created_replication = -1;
        read_create_topic(rd, flex, b->cfg.node_id, &asks[cs->parsed]);
    }
    st_rd_i32(rd); /* timeout_ms: we answer once the topics are made, however long */
    bool validate_only = v >= 1 ? st_rd_bool(rd) : false;
    cs->validate_only = validate_only;
    st_rd_tags(rd, flex);
    if (rd->err) {
        rc = ST_REQ_MALFORMED;
        goto out;
    }
    authorize_asks(req, asks, n, true);
    mark_duplicates(asks, n);

    if (!validate_only)
        cs->job = st_topics_job_new(b->topics);
    int32_t nslots = 0;
    for (int32_t i = 0; i < n; i++) {
        topic_ask *a = &asks[i];
        char name[256];
        slot[i] = -1;
        if (ask_name(a, name, sizeof(name))) {
            int32_t partitions = a->nassign > 0 ? a->nassign : a->count;
            int16_t replication = a->nassign > 0 ? 1 : a->replication;
            if (partitions == -1)
                partitions = b->cfg.num_partitions;
            if (replication == -1)
                replication = b->cfg.default_replication_factor;
            tenant_count *tc;
            a->err = check_tenant(b, cs, name, partitions, &tc, a->msg, sizeof(a->msg));
            if (!a->err && validate_only)
                a->err = st_topics_create(b->topics, name, partitions, replication, a->configs,
                                          a->nconfigs, true, a->msg, sizeof(a->msg));
            else if (!a->err) {
                a->err = st_topics_job_add(cs->job, name, partitions, replication, a->configs,
                                           a->nconfigs, a->msg, sizeof(a->msg));
                if (!a->err) {
                    slot[i] = nslots++;
                    if (tc) {
                        tc->topics++;
                        tc->partitions += partitions > 0 ? partitions : 0;
                    }
                }
            }
            if (!a->err) {
                a->created_partitions = partitions;
                a->created_replication = replication;
            }
        }
    }
    if (!validate_only) {
        int started = st_topics_job_start(cs->job, create_done, cs);
        if (started == 0) {
            req->state = cs;
            return ST_REQ_DEFERRED; /* create_done answers */
        }
        if (started == 1) {
            collect_results(cs);
        } else {
            for (int32_t i = 0; i < n; i++)
                if (slot[i] >= 0)
                    /* THROTTLING_QUOTA_EXCEEDED exists from CreateTopics v6; older
                     * clients know REQUEST_TIMED_OUT as "retry". */
                    fail_ask(&asks[i],
                             req->api_version >= 6 ? ST_ERR_THROTTLING_QUOTA_EXCEEDED
                                                   : ST_ERR_REQUEST_TIMED_OUT,
                             "topic \"%.*s\" not created: the broker is already making the "
                             "topics of %d requests; retry",
                             ASK_NAME(&asks[i]), ST_TOPICS_QUEUE_MAX);
        }
    }
    write_create_answer(req, asks, n, validate_only);
out:
    create_state_free(cs);
    return rc;
}

/* ---- DeleteTopics ---- */

st_req_result st_handle_delete_topics(st_req *req)
{
    st_broker *b = req->broker;
    st_rd *rd = &req->rd;
    bool flex = req->flex;
    st_req_result rc = ST_REQ_DONE;
    topic_ask *asks = NULL;

    int32_t n = st_rd_array(rd, flex, 2);
    st_str *names = calloc(n > 0 ? (size_t)n : 1, sizeof(*names));
    if (names == NULL)
        abort(); /* as st_buf */
    for (int32_t i = 0; i < n && !rd->err; i++)
        if ((names[i] = st_rd_str(rd, flex)).len < 0)
            rd->err = 1; /* not nullable */
    st_rd_i32(rd);       /* timeout_ms: deletion is synchronous */
    st_rd_tags(rd, flex);
    if (rd->err) {
        rc = ST_REQ_MALFORMED;
        goto out;
    }

    /* the same shape as the other two, for persist_asks */
    asks = calloc(n > 0 ? (size_t)n : 1, sizeof(*asks));
    if (asks == NULL)
        abort(); /* as st_buf */
    for (int32_t i = 0; i < n; i++)
        asks[i].name = names[i];
    authorize_asks(req, asks, n, false);
    st_topics_defer(b->topics);
    for (int32_t i = 0; i < n; i++) {
        topic_ask *a = &asks[i];
        char name[256];
        if (a->err != 0)
            continue; /* denied */
        /* A name that cannot be a topic names no topic. */
        if (st_topic_name_check(a->name.ptr, (size_t)a->name.len, a->msg, sizeof(a->msg)) != 0 ||
            !st_str_copy(name, sizeof(name), a->name))
            a->err = ST_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        else
            a->err = st_topics_delete(b->topics, name, a->msg, sizeof(a->msg));
    }
    persist_asks(b, asks, n, false);

    st_buf *w = st_resp_buf(req->resp);
    if (req->api_version >= 1)
        st_buf_put_i32(w, 0); /* throttle_time_ms */
    st_wr_array(w, flex, n);
    for (int32_t i = 0; i < n; i++) {
        topic_ask *a = &asks[i];
        if (a->err != 0) /* v0..1 responses carry no message: the log has it */
            st_info("DeleteTopics: %s: %s", st_err_name(a->err), a->msg);
        st_wr_str(w, flex, a->name.ptr, a->name.len);
        st_buf_put_i16(w, (int16_t)a->err);
        st_wr_tags(w, flex);
    }
    st_wr_tags(w, flex);
out:
    free(asks);
    free(names);
    return rc;
}

/* ---- CreatePartitions ---- */

static void read_partitions_topic(st_rd *rd, bool flex, int32_t node_id, topic_ask *a)
{
    a->name = st_rd_str(rd, flex);
    if (a->name.len < 0)
        rd->err = 1;
    a->count = st_rd_i32(rd);
    a->nassign = st_rd_array(rd, flex, 4);
    for (int32_t i = 0; i < a->nassign && !rd->err; i++) {
        /* Assignments list the new partitions in order; name them by their offset in
         * the list since the final index depends on the current count. */
        read_broker_ids(rd, flex, a, node_id, i);
        st_rd_tags(rd, flex);
    }
    st_rd_tags(rd, flex);
}

st_req_result st_handle_create_partitions(st_req *req)
{
    st_broker *b = req->broker;
    st_rd *rd = &req->rd;
    bool flex = req->flex;
    st_req_result rc = ST_REQ_DONE;

    /* name, count, assignments: at least 10 bytes */
    int32_t n = st_rd_array(rd, flex, 10);
    topic_ask *asks = calloc(n > 0 ? (size_t)n : 1, sizeof(*asks));
    if (asks == NULL)
        abort(); /* as st_buf */
    int32_t parsed = 0;
    for (; parsed < n && !rd->err; parsed++)
        read_partitions_topic(rd, flex, b->cfg.node_id, &asks[parsed]);
    st_rd_i32(rd); /* timeout_ms */
    bool validate_only = st_rd_bool(rd);
    st_rd_tags(rd, flex);
    if (rd->err) {
        rc = ST_REQ_MALFORMED;
        goto out;
    }
    authorize_asks(req, asks, n, false);
    mark_duplicates(asks, n);

    st_topics_defer(b->topics);
    for (int32_t i = 0; i < n; i++) {
        topic_ask *a = &asks[i];
        char name[256];
        if (ask_name(a, name, sizeof(name))) {
            st_topic *topic = st_topics_find(b->topics, name, strlen(name));
            if (topic != NULL && a->nassign >= 0 && a->count > st_topic_partition_count(topic) &&
                a->nassign != a->count - st_topic_partition_count(topic))
                fail_ask(a, ST_ERR_INVALID_REPLICA_ASSIGNMENT,
                         "topic \"%.*s\": %d replica assignments given for %d new partitions",
                         ASK_NAME(a), a->nassign, a->count - st_topic_partition_count(topic));
            else {
                /* The tenant's partitions limit first: POLICY_VIOLATION naming it. */
                if (topic != NULL && a->count > st_topic_partition_count(topic))
                    a->err = st_bquota_check_create(b->bquota, name, strlen(name), 0,
                                                    a->count - st_topic_partition_count(topic),
                                                    a->msg, sizeof(a->msg));
                if (!a->err)
                    a->err = st_topics_create_partitions(b->topics, name, a->count, validate_only,
                                                         a->msg, sizeof(a->msg));
                /* THROTTLING_QUOTA_EXCEEDED exists from CreatePartitions v3 (we serve 0-1):
                 * older clients know REQUEST_TIMED_OUT as "retry". */
                if (a->err == ST_ERR_THROTTLING_QUOTA_EXCEEDED)
                    a->err = ST_ERR_REQUEST_TIMED_OUT;
            }
        }
    }
    persist_asks(b, asks, n, validate_only);

    st_buf *w = st_resp_buf(req->resp);
    st_buf_put_i32(w, 0); /* throttle_time_ms */
    st_wr_array(w, flex, n);
    for (int32_t i = 0; i < n; i++) {
        topic_ask *a = &asks[i];
        if (a->err != 0)
            st_info("CreatePartitions: %s: %s", st_err_name(a->err), a->msg);
        st_wr_str(w, flex, a->name.ptr, a->name.len);
        st_buf_put_i16(w, (int16_t)a->err);
        st_wr_str(w, flex, a->err ? a->msg : NULL, -1);
        st_wr_tags(w, flex);
    }
    st_wr_tags(w, flex);
out:
    asks_free(asks, parsed);
    return rc;
}
