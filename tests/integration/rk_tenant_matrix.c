/*
 * rk_tenant_matrix: tenant isolation as a real Kafka client sees it (librdkafka over
 * SASL_PLAINTEXT with SCRAM-SHA-256). Driven by test_tenant_isolation.sh.
 *
 * rk_tenant_matrix matrix BOOTSTRAP USER PASSWORD OWN FOREIGN
 *   Connects as USER, whose tenant owns the topic prefix OWN, and runs every operation
 *   against its own resources and against the tenant owning FOREIGN. Expects, before it
 *   starts: topics OWN"y" and FOREIGN"y" (one partition, at least one record) and live
 *   consumer groups OWN"live" and FOREIGN"live" (a member each, with committed offsets).
 *   Own resources are allowed; foreign ones are denied with the exact Kafka error
 *   (TOPIC_/GROUP_/CLUSTER_AUTHORIZATION_FAILED), whether they exist or not; listings
 *   (Metadata, ListGroups) show own names only. Every row runs even when an earlier one
 *   failed, so one run shows the whole picture; prints one line a row
 *   ("ok|FAIL  <row>  expected <E>  got <G>") and exits 1 if any row differed.
 *   Leaves FOREIGN"y" and both live groups as they were; creates and deletes OWN"x".
 *
 * rk_tenant_matrix behind BOOTSTRAP USER PASSWORD OWN FOREIGN
 *   The checks inside the handlers that Metadata and FindCoordinator hide in the matrix
 *   (librdkafka sends nothing more for a topic without a leader or a group without a
 *   coordinator): run after USER was granted DESCRIBE, and only that, on topic
 *   FOREIGN"y" and group FOREIGN"live". Produce, Fetch, OffsetCommit, DeleteRecords,
 *   JoinGroup, DeleteGroups... must be refused for the operation each needs; what
 *   DESCRIBE covers (ListOffsets, DescribeGroups, OffsetFetch) is allowed.
 *
 * rk_tenant_matrix member BOOTSTRAP USER PASSWORD GROUP TOPIC
 *   A consumer group member (subscribe) that commits every record it reads and prints
 *   "committed <topic> <partition> <offset>" for each; runs until SIGTERM.
 */
#include "rk_util.h"

#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>

#define PENDING     ((rd_kafka_resp_err_t)-12345) /* a delivery report not yet received */
#define NAME_MAX_   128
#define WAIT_MS     30000
#define OWN_RECORDS 3

typedef struct matrix {
    const char *bootstrap, *user, *password, *own, *foreign;
    char own_x[NAME_MAX_], own_s[NAME_MAX_], own_g[NAME_MAX_], own_live[NAME_MAX_];
    char foreign_x[NAME_MAX_], foreign_y[NAME_MAX_], foreign_nope[NAME_MAX_],
        foreign_live[NAME_MAX_];
    rd_kafka_t *rk; /* producer; also the Admin API and Metadata client */
    rd_kafka_queue_t *queue;
    rd_kafka_AdminOptions_t *options;
    int rows, mismatches;
    int64_t last_row_ms; /* when the previous row was printed: each row shows its time */
} matrix;

/* ---- rows ---- */

static void row(matrix *m, const char *what, const char *want, const char *got)
{
    bool ok = strcmp(want, got) == 0;
    m->rows++;
    if (!ok)
        m->mismatches++;
    int64_t now = rk_now_ms();
    printf("%-4s  %-58s  expected %-34s  got %-34s %6" PRId64 " ms\n", ok ? "ok" : "FAIL", what,
           want, got, m->last_row_ms ? now - m->last_row_ms : 0);
    m->last_row_ms = now;
    fflush(stdout);
}

/* "TOPIC_AUTHORIZATION_FAILED (29)" into buf; returns buf. */
static const char *err_text(rd_kafka_resp_err_t err, char *buf, size_t len)
{
    snprintf(buf, len, "%s (%d)", rd_kafka_err2name(err), (int)err);
    return buf;
}

/* A row whose result is an error code; the row's name is printf-formatted. */
static void __attribute__((format(printf, 4, 5)))
rowf(matrix *m, rd_kafka_resp_err_t want, rd_kafka_resp_err_t got, const char *fmt, ...)
{
    char what[512], w[96], g[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    row(m, what, err_text(want, w, sizeof(w)), err_text(got, g, sizeof(g)));
}

/* ---- client set-up ---- */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    *(rd_kafka_resp_err_t *)msg->_private = msg->err;
}

/* A configuration for USER over SASL_PLAINTEXT/SCRAM-SHA-256; the caller passes it to
 * rk_new. */
static rd_kafka_conf_t *sasl_conf(const char *bootstrap, const char *user, const char *password)
{
    rd_kafka_conf_t *conf = rk_conf(bootstrap);
    rk_set(conf, "security.protocol", "SASL_PLAINTEXT");
    rk_set(conf, "sasl.mechanisms", "SCRAM-SHA-256");
    rk_set(conf, "sasl.username", user);
    rk_set(conf, "sasl.password", password);
    return conf;
}

static rd_kafka_t *new_consumer(matrix *m, const char *group)
{
    rd_kafka_conf_t *conf = sasl_conf(m->bootstrap, m->user, m->password);
    rk_set(conf, "group.id", group);
    rk_set(conf, "enable.auto.commit", "false");
    rk_set(conf, "enable.partition.eof", "false");
    rk_set(conf, "auto.offset.reset", "earliest"); /* a leaked record shows as a record */
    rd_kafka_t *rk = rk_new(RD_KAFKA_CONSUMER, conf);
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

/* Waits for the admin result of `type`; *err gets the request-level error. Returns the
 * event (owned by the caller) or NULL on timeout (*err __TIMED_OUT). */
static rd_kafka_event_t *admin_wait(matrix *m, rd_kafka_event_type_t type, rd_kafka_resp_err_t *err)
{
    int64_t deadline = rk_now_ms() + WAIT_MS;
    while (rk_now_ms() < deadline) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(m->queue, 500);
        if (!ev)
            continue;
        if (rd_kafka_event_type(ev) == type) {
            *err = rd_kafka_event_error(ev);
            return ev;
        }
        rd_kafka_event_destroy(ev);
    }
    *err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    return NULL;
}

/* The error of a single-topic result list (request error first). Destroys ev. */
static rd_kafka_resp_err_t topic_result(rd_kafka_event_t *ev, rd_kafka_resp_err_t err,
                                        const rd_kafka_topic_result_t **res, size_t n)
{
    if (!err)
        err = n == 1 ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR__FAIL;
    if (ev)
        rd_kafka_event_destroy(ev);
    return err;
}

/* ---- topic operations ---- */

static rd_kafka_resp_err_t create_topic(matrix *m, const char *topic)
{
    char errstr[256];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, 1, 1, errstr, sizeof(errstr));
    if (!nt)
        rk_fail("NewTopic %s: %s", topic, errstr);
    rd_kafka_CreateTopics(m->rk, &nt, 1, m->options, m->queue);
    rd_kafka_resp_err_t err;
    rd_kafka_event_t *ev = admin_wait(m, RD_KAFKA_EVENT_CREATETOPICS_RESULT, &err);
    size_t n = 0;
    const rd_kafka_topic_result_t **res =
        ev ? rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n) : NULL;
    rd_kafka_NewTopic_destroy(nt);
    return topic_result(ev, err, res, n);
}

static rd_kafka_resp_err_t delete_topic(matrix *m, const char *topic)
{
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(topic);
    rd_kafka_DeleteTopics(m->rk, &dt, 1, m->options, m->queue);
    rd_kafka_resp_err_t err;
    rd_kafka_event_t *ev = admin_wait(m, RD_KAFKA_EVENT_DELETETOPICS_RESULT, &err);
    size_t n = 0;
    const rd_kafka_topic_result_t **res =
        ev ? rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n) : NULL;
    rd_kafka_DeleteTopic_destroy(dt);
    return topic_result(ev, err, res, n);
}

static rd_kafka_resp_err_t create_partitions(matrix *m, const char *topic, int total)
{
    char errstr[256];
    rd_kafka_NewPartitions_t *np =
        rd_kafka_NewPartitions_new(topic, (size_t)total, errstr, sizeof(errstr));
    if (!np)
        rk_fail("NewPartitions %s: %s", topic, errstr);
    rd_kafka_CreatePartitions(m->rk, &np, 1, m->options, m->queue);
    rd_kafka_resp_err_t err;
    rd_kafka_event_t *ev = admin_wait(m, RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT, &err);
    size_t n = 0;
    const rd_kafka_topic_result_t **res =
        ev ? rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &n)
           : NULL;
    rd_kafka_NewPartitions_destroy(np);
    return topic_result(ev, err, res, n);
}

/* DescribeConfigs (alter == false) or AlterConfigs retention.ms (alter == true). */
static rd_kafka_resp_err_t topic_configs(matrix *m, const char *topic, bool alter)
{
    rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_resp_err_t err;
    rd_kafka_event_t *ev;
    const rd_kafka_ConfigResource_t **res = NULL;
    size_t n = 0;
    if (alter) {
        rd_kafka_ConfigResource_set_config(cr, "retention.ms", "3600000");
        rd_kafka_AlterConfigs(m->rk, &cr, 1, m->options, m->queue);
        ev = admin_wait(m, RD_KAFKA_EVENT_ALTERCONFIGS_RESULT, &err);
        if (ev)
            res =
                rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &n);
    } else {
        rd_kafka_DescribeConfigs(m->rk, &cr, 1, m->options, m->queue);
        ev = admin_wait(m, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, &err);
        if (ev)
            res = rd_kafka_DescribeConfigs_result_resources(
                rd_kafka_event_DescribeConfigs_result(ev), &n);
    }
    if (!err)
        err = n == 1 ? rd_kafka_ConfigResource_error(res[0]) : RD_KAFKA_RESP_ERR__FAIL;
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_ConfigResource_destroy(cr);
    return err;
}

/* DeleteRecords below `before` of partition 0; *low gets the new low watermark. */
static rd_kafka_resp_err_t delete_records(matrix *m, const char *topic, int64_t before,
                                          int64_t *low)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = before;
    rd_kafka_DeleteRecords_t *dr = rd_kafka_DeleteRecords_new(parts);
    rd_kafka_DeleteRecords(m->rk, &dr, 1, m->options, m->queue);
    rd_kafka_resp_err_t err;
    rd_kafka_event_t *ev = admin_wait(m, RD_KAFKA_EVENT_DELETERECORDS_RESULT, &err);
    if (ev && !err) {
        const rd_kafka_topic_partition_list_t *res =
            rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
        err = res->cnt == 1 ? res->elems[0].err : RD_KAFKA_RESP_ERR__FAIL;
        *low = res->cnt == 1 ? res->elems[0].offset : -1;
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_DeleteRecords_destroy(dr);
    rd_kafka_topic_partition_list_destroy(parts);
    return err;
}

/* Produces one record to partition 0 and waits for its delivery report. */
static rd_kafka_resp_err_t produce_one(matrix *m, const char *topic, const char *value)
{
    rd_kafka_resp_err_t result = PENDING;
    rd_kafka_resp_err_t err = rd_kafka_producev(
        m->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
        RD_KAFKA_V_VALUE((void *)value, strlen(value)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_OPAQUE(&result), RD_KAFKA_V_END);
    if (err)
        return err;
    /* message.timeout.ms (15 s) bounds the report; `result` must outlive it. */
    int64_t deadline = rk_now_ms() + 60000;
    while (result == PENDING) {
        if (rk_now_ms() > deadline)
            rk_fail("no delivery report for %s within 60 s", topic);
        rd_kafka_poll(m->rk, 100);
    }
    return result;
}

/* Reads partition 0 of `topic` from the beginning (assign + fetch, no subscribe) until
 * `want` records arrived or an error came back; *next gets the offset after the last. */
static rd_kafka_resp_err_t consume(rd_kafka_t *consumer, const char *topic, int want, int64_t *next)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_resp_err_t err = rd_kafka_assign(consumer, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (err)
        return err;
    int got = 0;
    err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    int64_t deadline = rk_now_ms() + 15000;
    while (rk_now_ms() < deadline) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(consumer, 200);
        if (!msg)
            continue;
        rd_kafka_resp_err_t merr = msg->err;
        if (!merr)
            *next = msg->offset + 1;
        rd_kafka_message_destroy(msg);
        if (merr) {
            err = merr;
            break;
        }
        if (++got >= want) {
            err = RD_KAFKA_RESP_ERR_NO_ERROR;
            break;
        }
    }
    rd_kafka_assign(consumer, NULL);
    return err;
}

/* Subscribes to `topic` in `group` and returns the first error the consumer reports, or
 * NO_ERROR if a record arrives (__TIMED_OUT: neither within 15 s). */
static rd_kafka_resp_err_t consume_subscribed(matrix *m, const char *group, const char *topic)
{
    rd_kafka_t *consumer = new_consumer(m, group);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    int64_t deadline = rk_now_ms() + 15000;
    for (bool done = err != 0; !done;) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(consumer, 200);
        if (msg) {
            err = msg->err;
            done = true;
            rd_kafka_message_destroy(msg);
        } else if (rk_now_ms() > deadline) {
            err = RD_KAFKA_RESP_ERR__TIMED_OUT;
            done = true;
        }
    }
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    return err;
}

/* ---- group operations ---- */

/* Commits `offset` of topic [0] through the consumer's own commit path (OffsetCommit to
 * its group's coordinator), bounded by a queue poll. */
static rd_kafka_resp_err_t consumer_commit(rd_kafka_t *consumer, const char *topic, int64_t offset)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = offset;
    rd_kafka_queue_t *q = rd_kafka_queue_new(consumer);
    rd_kafka_resp_err_t err = rd_kafka_commit_queue(consumer, parts, q, NULL, NULL);
    rd_kafka_topic_partition_list_destroy(parts);
    int64_t deadline = rk_now_ms() + 15000;
    while (!err) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 200);
        if (ev && rd_kafka_event_type(ev) == RD_KAFKA_EVENT_OFFSET_COMMIT) {
            err = rd_kafka_event_error(ev);
            const rd_kafka_topic_partition_list_t *res = rd_kafka_event_topic_partition_list(ev);
            for (int i = 0; !err && res && i < res->cnt; i++)
                err = res->elems[i].err;
            rd_kafka_event_destroy(ev);
            break;
        }
        if (ev)
            rd_kafka_event_destroy(ev);
        /* A coordinator lookup the broker refuses is reported on the consumer queue. */
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(consumer, 0);
        if (msg) {
            err = msg->err;
            rd_kafka_message_destroy(msg);
        }
        if (!err && rk_now_ms() > deadline)
            err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    }
    rd_kafka_queue_destroy(q);
    return err;
}

/* The group-level error of a group result, else the first partition error. */
static rd_kafka_resp_err_t group_result_error(const rd_kafka_group_result_t *g)
{
    const rd_kafka_error_t *e = rd_kafka_group_result_error(g);
    if (e)
        return rd_kafka_error_code(e);
    const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(g);
    for (int i = 0; parts && i < parts->cnt; i++)
        if (parts->elems[i].err)
            return parts->elems[i].err;
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* AlterConsumerGroupOffsets: the admin's way to commit `offset` of topic [0] for group. */
static rd_kafka_resp_err_t admin_commit(matrix *m, const char *group, const char *topic,
                                        int64_t offset)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = offset;
    rd_kafka_AlterConsumerGroupOffsets_t *a = rd_kafka_AlterConsumerGroupOffsets_new(group, parts);
    rd_kafka_AlterConsumerGroupOffsets(m->rk, &a, 1, m->options, m->queue);
    rd_kafka_resp_err_t err;
    rd_kafka_event_t *ev = admin_wait(m, RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT, &err);
    if (ev && !err) {
        size_t n;
        const rd_kafka_group_result_t **res = rd_kafka_AlterConsumerGroupOffsets_result_groups(
            rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &n);
        err = n == 1 ? group_result_error(res[0]) : RD_KAFKA_RESP_ERR__FAIL;
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AlterConsumerGroupOffsets_destroy(a);
    rd_kafka_topic_partition_list_destroy(parts);
    return err;
}

/* OffsetFetch of topic [0] for `group`; *offset gets the committed offset (-1: none).
 * The partition is named: librdkafka 2.0.2 asks for "all topics" with an empty array
 * rather than null below OffsetFetch v7, which a v5 broker rightly answers with nothing. */
static rd_kafka_resp_err_t fetch_offsets(matrix *m, const char *group, const char *topic,
                                         int64_t *offset)
{
    rd_kafka_topic_partition_list_t *want = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(want, topic, 0);
    rd_kafka_ListConsumerGroupOffsets_t *l = rd_kafka_ListConsumerGroupOffsets_new(group, want);
    rd_kafka_topic_partition_list_destroy(want);
    rd_kafka_ListConsumerGroupOffsets(m->rk, &l, 1, m->options, m->queue);
    rd_kafka_resp_err_t err;
    rd_kafka_event_t *ev = admin_wait(m, RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT, &err);
    *offset = -1;
    if (ev && !err) {
        size_t n;
        const rd_kafka_group_result_t **res = rd_kafka_ListConsumerGroupOffsets_result_groups(
            rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n);
        err = n == 1 ? group_result_error(res[0]) : RD_KAFKA_RESP_ERR__FAIL;
        const rd_kafka_topic_partition_list_t *parts =
            n == 1 ? rd_kafka_group_result_partitions(res[0]) : NULL;
        for (int i = 0; parts && i < parts->cnt; i++)
            if (strcmp(parts->elems[i].topic, topic) == 0 && parts->elems[i].partition == 0)
                *offset = parts->elems[i].offset;
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_ListConsumerGroupOffsets_destroy(l);
    return err;
}

/* DescribeGroups of one group; *state gets its state and *members its member count. */
static rd_kafka_resp_err_t describe_group(matrix *m, const char *group,
                                          rd_kafka_consumer_group_state_t *state, size_t *members)
{
    const char *groups[1] = {group};
    rd_kafka_DescribeConsumerGroups(m->rk, groups, 1, m->options, m->queue);
    rd_kafka_resp_err_t err;
    rd_kafka_event_t *ev = admin_wait(m, RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT, &err);
    *state = RD_KAFKA_CONSUMER_GROUP_STATE_UNKNOWN;
    *members = 0;
    if (ev && !err) {
        size_t n;
        const rd_kafka_ConsumerGroupDescription_t **res =
            rd_kafka_DescribeConsumerGroups_result_groups(
                rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
        const rd_kafka_error_t *e = n == 1 ? rd_kafka_ConsumerGroupDescription_error(res[0]) : NULL;
        err = n != 1 ? RD_KAFKA_RESP_ERR__FAIL : e ? rd_kafka_error_code(e) : 0;
        if (n == 1) {
            *state = rd_kafka_ConsumerGroupDescription_state(res[0]);
            *members = rd_kafka_ConsumerGroupDescription_member_count(res[0]);
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    return err;
}

static rd_kafka_resp_err_t delete_group(matrix *m, const char *group)
{
    rd_kafka_DeleteGroup_t *dg = rd_kafka_DeleteGroup_new(group);
    rd_kafka_DeleteGroups(m->rk, &dg, 1, m->options, m->queue);
    rd_kafka_resp_err_t err;
    rd_kafka_event_t *ev = admin_wait(m, RD_KAFKA_EVENT_DELETEGROUPS_RESULT, &err);
    if (ev && !err) {
        size_t n;
        const rd_kafka_group_result_t **res =
            rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev), &n);
        err = n == 1 ? group_result_error(res[0]) : RD_KAFKA_RESP_ERR__FAIL;
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_DeleteGroup_destroy(dg);
    return err;
}

/* ---- listings: right when only own names appear, the expected one among them ---- */

static bool owned(const matrix *m, const char *name)
{
    return strncmp(name, m->own, strlen(m->own)) == 0;
}

/* Appends "name" to a short report of what was wrong. */
static void note(char *buf, size_t len, const char *fmt, const char *name)
{
    size_t used = strlen(buf);
    if (used < len)
        snprintf(buf + used, len - used, fmt, name);
}

static void metadata_listing(matrix *m)
{
    const struct rd_kafka_metadata *md = NULL;
    char got[512] = "";
    rd_kafka_resp_err_t err = rd_kafka_metadata(m->rk, 1, NULL, &md, 10000);
    if (err) {
        rowf(m, RD_KAFKA_RESP_ERR_NO_ERROR, err, "Metadata (all topics)");
        return;
    }
    bool own_seen = false;
    for (int i = 0; i < md->topic_cnt; i++) {
        const char *t = md->topics[i].topic;
        if (strcmp(t, m->own_x) == 0)
            own_seen = true;
        if (!owned(m, t))
            note(got, sizeof(got), "lists %s; ", t);
    }
    if (!own_seen)
        note(got, sizeof(got), "%s missing; ", m->own_x);
    char what[512];
    snprintf(what, sizeof(what), "Metadata (all topics): only %s* (%d listed)", m->own,
             md->topic_cnt);
    row(m, what, "own names only", *got ? got : "own names only");
    rd_kafka_metadata_destroy(md);
}

/* Metadata naming one topic: that topic's error. */
static rd_kafka_resp_err_t metadata_topic(matrix *m, const char *topic)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(m->rk, topic, NULL);
    rd_kafka_resp_err_t err = rd_kafka_metadata(m->rk, 0, rkt, &md, 10000);
    if (!err)
        err = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__FAIL;
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return err;
}

static void groups_listing(matrix *m)
{
    char got[512] = "";
    rd_kafka_ListConsumerGroups(m->rk, m->options, m->queue);
    rd_kafka_resp_err_t err;
    rd_kafka_event_t *ev = admin_wait(m, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT, &err);
    size_t nvalid = 0, nerrors = 0;
    if (ev && !err) {
        const rd_kafka_ListConsumerGroups_result_t *r =
            rd_kafka_event_ListConsumerGroups_result(ev);
        const rd_kafka_ConsumerGroupListing_t **valid =
            rd_kafka_ListConsumerGroups_result_valid(r, &nvalid);
        const rd_kafka_error_t **errors = rd_kafka_ListConsumerGroups_result_errors(r, &nerrors);
        bool own_seen = false;
        for (size_t i = 0; i < nvalid; i++) {
            const char *g = rd_kafka_ConsumerGroupListing_group_id(valid[i]);
            if (strcmp(g, m->own_live) == 0)
                own_seen = true;
            if (!owned(m, g))
                note(got, sizeof(got), "lists %s; ", g);
        }
        if (!own_seen)
            note(got, sizeof(got), "%s missing; ", m->own_live);
        if (nerrors)
            note(got, sizeof(got), "error %s; ", rd_kafka_error_name(errors[0]));
    } else {
        note(got, sizeof(got), "request failed: %s", rd_kafka_err2name(err));
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    char what[512];
    snprintf(what, sizeof(what), "ListGroups: only %s* (%zu listed)", m->own, nvalid);
    row(m, what, "own names only", *got ? got : "own names only");
}

/* ---- ACL administration (cluster ALTER / DESCRIBE) ---- */

/* DescribeAcls with an all-ANY filter; *count gets the number of bindings returned. */
static rd_kafka_resp_err_t describe_acls(matrix *m, size_t *count)
{
    char errstr[256];
    rd_kafka_AclBindingFilter_t *f = rd_kafka_AclBindingFilter_new(
        RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, NULL, NULL,
        RD_KAFKA_ACL_OPERATION_ANY, RD_KAFKA_ACL_PERMISSION_TYPE_ANY, errstr, sizeof(errstr));
    if (!f)
        rk_fail("AclBindingFilter: %s", errstr);
    rd_kafka_DescribeAcls(m->rk, f, m->options, m->queue);
    rd_kafka_resp_err_t err;
    rd_kafka_event_t *ev = admin_wait(m, RD_KAFKA_EVENT_DESCRIBEACLS_RESULT, &err);
    *count = 0;
    if (ev && !err)
        rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev), count);
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AclBinding_destroy(f);
    return err;
}

/* Tries to grant the user ALL on the foreign topic. */
static rd_kafka_resp_err_t create_acl(matrix *m)
{
    char errstr[256], principal[NAME_MAX_ + 8];
    snprintf(principal, sizeof(principal), "User:%s", m->user);
    rd_kafka_AclBinding_t *b = rd_kafka_AclBinding_new(
        RD_KAFKA_RESOURCE_TOPIC, m->foreign_y, RD_KAFKA_RESOURCE_PATTERN_LITERAL, principal, "*",
        RD_KAFKA_ACL_OPERATION_ALL, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, errstr, sizeof(errstr));
    if (!b)
        rk_fail("AclBinding: %s", errstr);
    rd_kafka_CreateAcls(m->rk, &b, 1, m->options, m->queue);
    rd_kafka_resp_err_t err;
    rd_kafka_event_t *ev = admin_wait(m, RD_KAFKA_EVENT_CREATEACLS_RESULT, &err);
    if (ev && !err) {
        size_t n;
        const rd_kafka_acl_result_t **res =
            rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &n);
        const rd_kafka_error_t *e = n == 1 ? rd_kafka_acl_result_error(res[0]) : NULL;
        err = n != 1 ? RD_KAFKA_RESP_ERR__FAIL : e ? rd_kafka_error_code(e) : 0;
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AclBinding_destroy(b);
    return err;
}

/* ---- the matrix ---- */

static void names(matrix *m)
{
    snprintf(m->own_x, NAME_MAX_, "%sx", m->own);
    snprintf(m->own_g, NAME_MAX_, "%sg", m->own);
    snprintf(m->own_s, NAME_MAX_, "%ss", m->own);
    snprintf(m->own_live, NAME_MAX_, "%slive", m->own);
    snprintf(m->foreign_x, NAME_MAX_, "%sx", m->foreign);
    snprintf(m->foreign_y, NAME_MAX_, "%sy", m->foreign);
    snprintf(m->foreign_nope, NAME_MAX_, "%snope", m->foreign);
    snprintf(m->foreign_live, NAME_MAX_, "%slive", m->foreign);
}

static const rd_kafka_resp_err_t OK = RD_KAFKA_RESP_ERR_NO_ERROR;
static const rd_kafka_resp_err_t TOPIC_DENIED = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
static const rd_kafka_resp_err_t GROUP_DENIED = RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED;
static const rd_kafka_resp_err_t CLUSTER_DENIED = RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED;

/* A row whose result is a count or an offset. */
static void row_num(matrix *m, const char *what, int64_t want, int64_t got)
{
    char w[32], g[32];
    snprintf(w, sizeof(w), "%" PRId64, want);
    snprintf(g, sizeof(g), "%" PRId64, got);
    row(m, what, w, g);
}

/* Two rows: OffsetFetch of group for topic [0] allowed, and the offset is `want`. */
static void offset_rows(matrix *m, const char *group, const char *topic, int64_t want)
{
    char what[512];
    int64_t committed = -1;
    rowf(m, OK, fetch_offsets(m, group, topic, &committed), "OffsetFetch group %s", group);
    snprintf(what, sizeof(what), "OffsetFetch group %s: committed offset of %s [0]", group, topic);
    row_num(m, what, want, committed);
}

/* Two rows: DescribeGroups of a live group allowed, and it is Stable with its member. */
static void describe_rows(matrix *m, const char *group)
{
    char what[512], got[64];
    rd_kafka_consumer_group_state_t state;
    size_t members;
    rowf(m, OK, describe_group(m, group, &state, &members), "DescribeGroups %s", group);
    snprintf(what, sizeof(what), "DescribeGroups %s: state, members", group);
    snprintf(got, sizeof(got), "%s, %zu", rd_kafka_consumer_group_state_name(state), members);
    row(m, what, "Stable, 1", got);
}

/* Topics: create, produce, consume, configs, partitions, metadata. */
static void topic_rows(matrix *m, rd_kafka_t *consumer, int64_t *next)
{
    rowf(m, OK, create_topic(m, m->own_x), "CreateTopics %s", m->own_x);
    rowf(m, TOPIC_DENIED, create_topic(m, m->foreign_x), "CreateTopics %s", m->foreign_x);
    rowf(m, TOPIC_DENIED, create_topic(m, m->foreign_y), "CreateTopics %s (exists)", m->foreign_y);

    rd_kafka_resp_err_t err = OK;
    for (int i = 0; i < OWN_RECORDS && !err; i++)
        err = produce_one(m, m->own_x, "own record");
    rowf(m, OK, err, "Produce %s (%d records)", m->own_x, OWN_RECORDS);
    rowf(m, TOPIC_DENIED, produce_one(m, m->foreign_y, "intruder"), "Produce %s", m->foreign_y);
    rowf(m, OK, consume(consumer, m->own_x, OWN_RECORDS, next), "Fetch %s (assign, %d records)",
         m->own_x, OWN_RECORDS);
    /* librdkafka reports a topic it may not describe only to subscribers (an assigned
     * partition just never gets a leader): the Fetch handler's own check is a row of
     * "behind" (the topic describable, not readable). */
    rowf(m, TOPIC_DENIED, consume_subscribed(m, m->own_s, m->foreign_y),
         "Consume %s (subscribe, group %s)", m->foreign_y, m->own_s);

    rowf(m, OK, topic_configs(m, m->own_x, false), "DescribeConfigs %s", m->own_x);
    rowf(m, TOPIC_DENIED, topic_configs(m, m->foreign_y, false), "DescribeConfigs %s",
         m->foreign_y);
    rowf(m, OK, topic_configs(m, m->own_x, true), "AlterConfigs %s", m->own_x);
    rowf(m, TOPIC_DENIED, topic_configs(m, m->foreign_y, true), "AlterConfigs %s", m->foreign_y);
    rowf(m, OK, create_partitions(m, m->own_x, 2), "CreatePartitions %s to 2", m->own_x);
    rowf(m, TOPIC_DENIED, create_partitions(m, m->foreign_y, 2), "CreatePartitions %s to 2",
         m->foreign_y);

    metadata_listing(m);
    rowf(m, TOPIC_DENIED, metadata_topic(m, m->foreign_y), "Metadata %s", m->foreign_y);
    rowf(m, TOPIC_DENIED, metadata_topic(m, m->foreign_nope), "Metadata %s (does not exist)",
         m->foreign_nope);
}

/* Groups: commit, offset fetch, list, describe, delete. */
static void group_rows(matrix *m, rd_kafka_t *consumer, int64_t next)
{
    rowf(m, OK, consumer_commit(consumer, m->own_x, next), "OffsetCommit group %s (consumer)",
         m->own_g);
    rowf(m, GROUP_DENIED, admin_commit(m, m->foreign_live, m->foreign_y, 0),
         "OffsetCommit group %s (admin)", m->foreign_live);

    offset_rows(m, m->own_g, m->own_x, next);
    int64_t committed;
    rowf(m, GROUP_DENIED, fetch_offsets(m, m->foreign_live, m->foreign_y, &committed),
         "OffsetFetch group %s", m->foreign_live);

    groups_listing(m);
    describe_rows(m, m->own_live);
    rd_kafka_consumer_group_state_t state;
    size_t members;
    rowf(m, GROUP_DENIED, describe_group(m, m->foreign_live, &state, &members), "DescribeGroups %s",
         m->foreign_live);
    rowf(m, GROUP_DENIED, delete_group(m, m->foreign_live), "DeleteGroups %s", m->foreign_live);
    rowf(m, OK, delete_group(m, m->own_g), "DeleteGroups %s (empty)", m->own_g);
}

static void open_client(matrix *m)
{
    char errstr[256];
    names(m);
    rd_kafka_conf_t *conf = sasl_conf(m->bootstrap, m->user, m->password);
    rk_set(conf, "message.timeout.ms", "15000");
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    m->rk = rk_new(RD_KAFKA_PRODUCER, conf);
    m->queue = rd_kafka_queue_new(m->rk);
    m->options = rd_kafka_AdminOptions_new(m->rk, RD_KAFKA_ADMIN_OP_ANY);
    if (rd_kafka_AdminOptions_set_request_timeout(m->options, 20000, errstr, sizeof(errstr)))
        rk_fail("admin options: %s", errstr);
    m->last_row_ms = rk_now_ms();
}

/* Prints the summary, closes the client; the exit status. */
static int close_client(matrix *m)
{
    printf("---- %d rows, %d mismatches ----\n", m->rows, m->mismatches);
    rd_kafka_AdminOptions_destroy(m->options);
    rd_kafka_queue_destroy(m->queue);
    rd_kafka_flush(m->rk, 5000);
    rd_kafka_destroy(m->rk);
    return m->mismatches ? 1 : 0;
}

static int run_matrix(matrix *m)
{
    open_client(m);
    printf("---- tenant matrix as User:%s (own %s*, foreign %s*) ----\n", m->user, m->own,
           m->foreign);
    rd_kafka_t *consumer = new_consumer(m, m->own_g);
    int64_t next = -1, low = -1;
    topic_rows(m, consumer, &next);
    group_rows(m, consumer, next);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);

    rd_kafka_resp_err_t err = delete_records(m, m->own_x, 1, &low);
    rowf(m, OK, err, "DeleteRecords %s below 1 (low watermark %" PRId64 ")", m->own_x, low);
    /* librdkafka 2.0.2 drops DescribeAcls' response-level error (the broker's
     * CLUSTER_AUTHORIZATION_FAILED; test_tenant_isolation.sh finds it in the broker log):
     * what the client can check is that no binding came back, not even its tenant's. */
    size_t bindings = 0;
    rowf(m, OK, describe_acls(m, &bindings), "DescribeAcls (any): request");
    row_num(m, "DescribeAcls (any): bindings shown", 0, (int64_t)bindings);
    rowf(m, CLUSTER_DENIED, create_acl(m), "CreateAcls ALLOW User:%s ALL on %s", m->user,
         m->foreign_y);
    rowf(m, TOPIC_DENIED, delete_topic(m, m->foreign_y), "DeleteTopics %s", m->foreign_y);
    rowf(m, OK, delete_topic(m, m->own_x), "DeleteTopics %s", m->own_x);
    return close_client(m);
}

/* The handlers' own checks ("behind" in the usage above). */
static int run_behind(matrix *m)
{
    open_client(m);
    printf("---- as User:%s with DESCRIBE (only) on topic %s and group %s ----\n", m->user,
           m->foreign_y, m->foreign_live);
    rowf(m, OK, metadata_topic(m, m->foreign_y), "Metadata %s", m->foreign_y);
    rowf(m, TOPIC_DENIED, produce_one(m, m->foreign_y, "intruder"), "Produce %s (WRITE)",
         m->foreign_y);
    rd_kafka_t *reader = new_consumer(m, m->own_g);
    int64_t low = -1, high = -1, ignored;
    rowf(m, TOPIC_DENIED, consume(reader, m->foreign_y, 1, &ignored), "Fetch %s (assign; READ)",
         m->foreign_y);
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(reader, m->foreign_y, 0, &low, &high, 10000);
    rowf(m, OK, err, "ListOffsets %s (DESCRIBE)", m->foreign_y);
    row_num(m, "ListOffsets: high watermark (the seed record)", 1, high);
    rowf(m, TOPIC_DENIED, consumer_commit(reader, m->foreign_y, 1),
         "OffsetCommit group %s on %s (READ topic)", m->own_g, m->foreign_y);
    rd_kafka_consumer_close(reader);
    rd_kafka_destroy(reader);
    /* The group: DESCRIBE lets FindCoordinator, DescribeGroups and OffsetFetch through;
     * what needs READ or DELETE is refused by the handler. */
    describe_rows(m, m->foreign_live);
    offset_rows(m, m->foreign_live, m->foreign_y, 1);
    rowf(m, GROUP_DENIED, admin_commit(m, m->foreign_live, m->foreign_y, 0),
         "OffsetCommit group %s (admin; READ group)", m->foreign_live);
    rowf(m, GROUP_DENIED, consume_subscribed(m, m->foreign_live, m->foreign_y),
         "JoinGroup %s (subscribe; READ group)", m->foreign_live);
    rowf(m, GROUP_DENIED, delete_group(m, m->foreign_live), "DeleteGroups %s (DELETE)",
         m->foreign_live);
    rowf(m, TOPIC_DENIED, topic_configs(m, m->foreign_y, false),
         "DescribeConfigs %s (DESCRIBE_CONFIGS)", m->foreign_y);
    rowf(m, TOPIC_DENIED, delete_records(m, m->foreign_y, 1, &low),
         "DeleteRecords %s below 1 (DELETE)", m->foreign_y);
    rowf(m, TOPIC_DENIED, create_partitions(m, m->foreign_y, 2), "CreatePartitions %s to 2 (ALTER)",
         m->foreign_y);
    rowf(m, TOPIC_DENIED, delete_topic(m, m->foreign_y), "DeleteTopics %s (DELETE)", m->foreign_y);
    return close_client(m);
}

/* ---- member ---- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    stop = 1;
}

static int run_member(const char *bootstrap, const char *user, const char *password,
                      const char *group, const char *topic)
{
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    rd_kafka_conf_t *conf = sasl_conf(bootstrap, user, password);
    rk_set(conf, "group.id", group);
    rk_set(conf, "enable.auto.commit", "false");
    rk_set(conf, "auto.offset.reset", "earliest");
    rk_set(conf, "session.timeout.ms", "6000");
    rd_kafka_t *rk = rk_new(RD_KAFKA_CONSUMER, conf);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err)
        rk_fail("subscribe %s: %s", topic, rd_kafka_err2str(err));
    while (!stop) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(rk, 200);
        if (!msg)
            continue;
        if (msg->err) {
            fprintf(stderr, "consumer error: %s\n", rd_kafka_message_errstr(msg));
        } else if ((err = rd_kafka_commit_message(rk, msg, 0))) {
            fprintf(stderr, "commit: %s\n", rd_kafka_err2str(err));
        } else {
            printf("committed %s %d %" PRId64 "\n", rd_kafka_topic_name(msg->rkt),
                   (int)msg->partition, msg->offset + 1);
            fflush(stdout);
        }
        rd_kafka_message_destroy(msg);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return 0;
}

int main(int argc, char **argv)
{
    bool behind = argc == 7 && strcmp(argv[1], "behind") == 0;
    if (behind || (argc == 7 && strcmp(argv[1], "matrix") == 0)) {
        matrix m = {.bootstrap = argv[2],
                    .user = argv[3],
                    .password = argv[4],
                    .own = argv[5],
                    .foreign = argv[6]};
        return behind ? run_behind(&m) : run_matrix(&m);
    }
    if (argc == 7 && strcmp(argv[1], "member") == 0)
        return run_member(argv[2], argv[3], argv[4], argv[5], argv[6]);
    fprintf(stderr, "usage: rk_tenant_matrix matrix|behind BOOTSTRAP USER PASSWORD OWN FOREIGN\n"
                    "       rk_tenant_matrix member BOOTSTRAP USER PASSWORD GROUP TOPIC\n");
    return 2;
}
