/*
 * rk_admin BOOTSTRAP
 * rk_admin BOOTSTRAP create TOPIC PARTITIONS [NAME=VALUE...]
 *
 * The second form just creates a topic with config overrides (kcat cannot), for tests
 * that need e.g. flush.messages=1 on one topic; it waits until Metadata shows it.
 *
 * The first form walks a topic through its life with librdkafka's Admin API and checks every step
 * against the broker's Metadata (or DescribeConfigs / watermarks):
 *   CreateTopics (2 partitions, retention.ms override) → Metadata shows it; creating
 *     it again → TOPIC_ALREADY_EXISTS
 *   DescribeConfigs → retention.ms is the override, cleanup.policy the default
 *   AlterConfigs → new values visible; a bad value → INVALID_CONFIG
 *   CreatePartitions to 4 → Metadata shows 4; back to 3 → INVALID_PARTITIONS
 *   DeleteRecords below offset 60 of 100 → low watermark 60 (query_watermark_offsets),
 *     and a consumer reading from the beginning starts at 60
 *   DeleteTopics → gone from Metadata
 * Exits 1 naming the first step whose result was wrong.
 */
#include "rk_util.h"

#include <inttypes.h>

#define TOPIC "admin-lifecycle"

typedef struct admin {
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
    rd_kafka_AdminOptions_t *options;
} admin;

/* Waits for the result of the operation just started; fails on a request-level error
 * (per-topic errors are checked by the caller). Returns the event, owned by the caller. */
static rd_kafka_event_t *wait_result(admin *a, rd_kafka_event_type_t type, const char *what)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(a->queue, 30000);
    if (!ev)
        rk_fail("%s: no result within 30 s", what);
    if (rd_kafka_event_type(ev) != type)
        rk_fail("%s: unexpected event %s", what, rd_kafka_event_name(ev));
    if (rd_kafka_event_error(ev))
        rk_fail("%s: %s", what, rd_kafka_event_error_string(ev));
    return ev;
}

/* Checks the single topic result of a Create/Delete/CreatePartitions call. */
static void expect_topic_result(const rd_kafka_topic_result_t **res, size_t n, const char *what,
                                rd_kafka_resp_err_t want)
{
    if (n != 1)
        rk_fail("%s: %zu topic results, expected 1", what, n);
    rd_kafka_resp_err_t got = rd_kafka_topic_result_error(res[0]);
    if (got != want)
        rk_fail("%s: got %s (%s), expected %s", what, rd_kafka_err2name(got),
                rd_kafka_topic_result_error_string(res[0])
                    ? rd_kafka_topic_result_error_string(res[0])
                    : "",
                rd_kafka_err2name(want));
}

static void wait_metadata(admin *a, int partitions, int present, const char *what)
{
    int64_t deadline = rk_now_ms() + 15000;
    while (rk_topic_in_metadata(a->rk, TOPIC, present ? partitions : 0) != present) {
        if (rk_now_ms() > deadline)
            rk_fail("%s: Metadata does not show the topic %s within 15 s", what,
                    present ? "with the expected partitions" : "gone");
        rd_kafka_poll(a->rk, 100);
    }
}

static void create_topic(admin *a, rd_kafka_resp_err_t want, const char *what)
{
    char err[256];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(TOPIC, 2, 1, err, sizeof(err));
    if (!nt)
        rk_fail("NewTopic: %s", err);
    rd_kafka_NewTopic_set_config(nt, "retention.ms", "3600000");
    rd_kafka_CreateTopics(a->rk, &nt, 1, a->options, a->queue);
    rd_kafka_event_t *ev = wait_result(a, RD_KAFKA_EVENT_CREATETOPICS_RESULT, what);
    size_t n;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    expect_topic_result(res, n, what, want);
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
}

/* Returns the value of config `name` of the topic (a new string the caller frees) and
 * whether it is a default. */
static char *describe_config(admin *a, const char *name, int *is_default)
{
    rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, TOPIC);
    rd_kafka_DescribeConfigs(a->rk, &cr, 1, a->options, a->queue);
    rd_kafka_event_t *ev = wait_result(a, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, "DescribeConfigs");
    size_t nres, nconf;
    const rd_kafka_ConfigResource_t **res =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &nres);
    if (nres != 1 || rd_kafka_ConfigResource_error(res[0]))
        rk_fail("DescribeConfigs: %zu resources, error %s", nres,
                nres ? rd_kafka_err2name(rd_kafka_ConfigResource_error(res[0])) : "-");
    const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(res[0], &nconf);
    char *value = NULL;
    for (size_t i = 0; i < nconf; i++) {
        if (strcmp(rd_kafka_ConfigEntry_name(entries[i]), name) != 0)
            continue;
        const char *v = rd_kafka_ConfigEntry_value(entries[i]);
        value = strdup(v ? v : "(null)");
        *is_default = rd_kafka_ConfigEntry_is_default(entries[i]);
    }
    if (!value)
        rk_fail("DescribeConfigs: %s is not among the %zu configs returned", name, nconf);
    rd_kafka_event_destroy(ev);
    rd_kafka_ConfigResource_destroy(cr);
    return value;
}

static void expect_config(admin *a, const char *name, const char *want, int want_default)
{
    int is_default = -1;
    char *got = describe_config(a, name, &is_default);
    if (strcmp(got, want) != 0 || is_default != want_default)
        rk_fail("DescribeConfigs: %s = \"%s\" (default %d), expected \"%s\" (default %d)", name,
                got, is_default, want, want_default);
    free(got);
}

static void alter_configs(admin *a, const char *name, const char *value, rd_kafka_resp_err_t want)
{
    rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, TOPIC);
    /* AlterConfigs replaces every override: keep retention.ms unless it is the one set. */
    if (strcmp(name, "retention.ms") != 0)
        rd_kafka_ConfigResource_set_config(cr, "retention.ms", "7200000");
    rd_kafka_ConfigResource_set_config(cr, name, value);
    rd_kafka_AlterConfigs(a->rk, &cr, 1, a->options, a->queue);
    rd_kafka_event_t *ev = wait_result(a, RD_KAFKA_EVENT_ALTERCONFIGS_RESULT, "AlterConfigs");
    size_t n;
    const rd_kafka_ConfigResource_t **res =
        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &n);
    rd_kafka_resp_err_t got =
        n == 1 ? rd_kafka_ConfigResource_error(res[0]) : RD_KAFKA_RESP_ERR__FAIL;
    if (got != want)
        rk_fail("AlterConfigs %s=%s: got %s (%s), expected %s", name, value, rd_kafka_err2name(got),
                n == 1 && rd_kafka_ConfigResource_error_string(res[0])
                    ? rd_kafka_ConfigResource_error_string(res[0])
                    : "",
                rd_kafka_err2name(want));
    rd_kafka_event_destroy(ev);
    rd_kafka_ConfigResource_destroy(cr);
}

static void create_partitions(admin *a, int total, rd_kafka_resp_err_t want)
{
    char err[256], what[64];
    snprintf(what, sizeof(what), "CreatePartitions to %d", total);
    rd_kafka_NewPartitions_t *np =
        rd_kafka_NewPartitions_new(TOPIC, (size_t)total, err, sizeof(err));
    if (!np)
        rk_fail("NewPartitions: %s", err);
    rd_kafka_CreatePartitions(a->rk, &np, 1, a->options, a->queue);
    rd_kafka_event_t *ev = wait_result(a, RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT, what);
    size_t n;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &n);
    expect_topic_result(res, n, what, want);
    rd_kafka_event_destroy(ev);
    rd_kafka_NewPartitions_destroy(np);
}

static void produce_records(const char *bootstrap, int count)
{
    rd_kafka_conf_t *conf = rk_conf(bootstrap);
    rk_set(conf, "acks", "all");
    rd_kafka_t *rk = rk_new(RD_KAFKA_PRODUCER, conf);
    for (int i = 0; i < count; i++) {
        char value[32];
        snprintf(value, sizeof(value), "record-%d", i);
        rd_kafka_resp_err_t err =
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_PARTITION(0),
                              RD_KAFKA_V_VALUE(value, strlen(value)),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err)
            rk_fail("produce: %s", rd_kafka_err2str(err));
    }
    if (rd_kafka_flush(rk, 30000))
        rk_fail("produce: %d records undelivered after 30 s", rd_kafka_outq_len(rk));
    rd_kafka_destroy(rk);
}

static void delete_records(admin *a, const char *bootstrap)
{
    int64_t low, high;
    rd_kafka_topic_partition_list_t *before = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(before, TOPIC, 0)->offset = 60;
    rd_kafka_DeleteRecords_t *dr = rd_kafka_DeleteRecords_new(before);
    rd_kafka_DeleteRecords(a->rk, &dr, 1, a->options, a->queue);
    rd_kafka_event_t *ev = wait_result(a, RD_KAFKA_EVENT_DELETERECORDS_RESULT, "DeleteRecords");
    const rd_kafka_topic_partition_list_t *res =
        rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
    if (res->cnt != 1 || res->elems[0].err || res->elems[0].offset != 60)
        rk_fail("DeleteRecords: %d results, error %s, low watermark %" PRId64 ", expected 60",
                res->cnt, res->cnt ? rd_kafka_err2name(res->elems[0].err) : "-",
                res->cnt ? res->elems[0].offset : -1);
    rd_kafka_event_destroy(ev);
    rd_kafka_DeleteRecords_destroy(dr);
    rd_kafka_topic_partition_list_destroy(before);

    /* A separate consumer sees the new start, through ListOffsets and through Fetch. */
    rd_kafka_t *consumer = rk_new(RD_KAFKA_CONSUMER, rk_conf(bootstrap));
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(consumer, TOPIC, 0, &low, &high, 10000);
    if (err || low != 60 || high != 100)
        rk_fail("after DeleteRecords: watermarks %" PRId64 "..%" PRId64 " (%s), expected 60..100",
                low, high, rd_kafka_err2name(err));
    rd_kafka_topic_t *rkt = rk_consume_start(consumer, TOPIC, 0, RD_KAFKA_OFFSET_BEGINNING, NULL);
    int64_t deadline = rk_now_ms() + 15000;
    for (;;) {
        if (rk_now_ms() > deadline)
            rk_fail("after DeleteRecords: no record from the beginning within 15 s");
        rd_kafka_message_t *m = rd_kafka_consume(rkt, 0, 500);
        if (!m)
            continue;
        if (m->err || m->offset != 60 || m->len != 9 || memcmp(m->payload, "record-60", 9))
            rk_fail("after DeleteRecords: first record %" PRId64 " \"%.*s\" (%s), expected 60 "
                    "\"record-60\"",
                    m->offset, (int)m->len, (const char *)m->payload, rd_kafka_err2name(m->err));
        rd_kafka_message_destroy(m);
        break;
    }
    rk_consume_stop(rkt, 0);
    rd_kafka_destroy(consumer);
}

static void delete_topic(admin *a)
{
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(TOPIC);
    rd_kafka_DeleteTopics(a->rk, &dt, 1, a->options, a->queue);
    rd_kafka_event_t *ev = wait_result(a, RD_KAFKA_EVENT_DELETETOPICS_RESULT, "DeleteTopics");
    size_t n;
    const rd_kafka_topic_result_t **res =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    expect_topic_result(res, n, "DeleteTopics", RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_event_destroy(ev);
    rd_kafka_DeleteTopic_destroy(dt);
}

/* The "create" form: argv = TOPIC PARTITIONS [NAME=VALUE...]. */
static int create_with_configs(admin *a, int argc, char **argv)
{
    char err[256];
    const char *topic = argv[0];
    int partitions = atoi(argv[1]);
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof(err));
    if (!nt)
        rk_fail("NewTopic %s: %s", topic, err);
    for (int i = 2; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq)
            rk_fail("config \"%s\": expected NAME=VALUE", argv[i]);
        *eq = '\0';
        if (rd_kafka_NewTopic_set_config(nt, argv[i], eq + 1))
            rk_fail("config %s: rejected by librdkafka", argv[i]);
    }
    rd_kafka_CreateTopics(a->rk, &nt, 1, a->options, a->queue);
    rd_kafka_event_t *ev = wait_result(a, RD_KAFKA_EVENT_CREATETOPICS_RESULT, "CreateTopics");
    size_t n;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    expect_topic_result(res, n, "CreateTopics", RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    int64_t deadline = rk_now_ms() + 15000;
    while (!rk_topic_in_metadata(a->rk, topic, partitions)) {
        if (rk_now_ms() > deadline)
            rk_fail("topic %s not in Metadata 15 s after CreateTopics", topic);
        rd_kafka_poll(a->rk, 100);
    }
    printf("created %s with %d partitions\n", topic, partitions);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 && !(argc >= 5 && strcmp(argv[2], "create") == 0)) {
        fprintf(stderr, "usage: rk_admin BOOTSTRAP\n"
                        "       rk_admin BOOTSTRAP create TOPIC PARTITIONS [NAME=VALUE...]\n");
        return 2;
    }
    const char *bootstrap = argv[1];
    char err[256];
    admin a;
    a.rk = rk_new(RD_KAFKA_PRODUCER, rk_conf(bootstrap));
    a.queue = rd_kafka_queue_new(a.rk);
    a.options = rd_kafka_AdminOptions_new(a.rk, RD_KAFKA_ADMIN_OP_ANY);
    if (rd_kafka_AdminOptions_set_request_timeout(a.options, 20000, err, sizeof(err)))
        rk_fail("admin options: %s", err);
    if (argc > 2) {
        int rc = create_with_configs(&a, argc - 3, argv + 3);
        rd_kafka_AdminOptions_destroy(a.options);
        rd_kafka_queue_destroy(a.queue);
        rd_kafka_destroy(a.rk);
        return rc;
    }

    create_topic(&a, RD_KAFKA_RESP_ERR_NO_ERROR, "CreateTopics");
    wait_metadata(&a, 2, 1, "CreateTopics");
    create_topic(&a, RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, "CreateTopics again");
    printf("CreateTopics: ok\n");

    expect_config(&a, "retention.ms", "3600000", 0);
    expect_config(&a, "cleanup.policy", "delete", 1);
    printf("DescribeConfigs: ok\n");

    alter_configs(&a, "max.message.bytes", "2000000", RD_KAFKA_RESP_ERR_NO_ERROR);
    expect_config(&a, "retention.ms", "7200000", 0);
    expect_config(&a, "max.message.bytes", "2000000", 0);
    alter_configs(&a, "retention.ms", "not-a-number", RD_KAFKA_RESP_ERR_INVALID_CONFIG);
    expect_config(&a, "retention.ms", "7200000", 0);
    printf("AlterConfigs: ok\n");

    create_partitions(&a, 4, RD_KAFKA_RESP_ERR_NO_ERROR);
    wait_metadata(&a, 4, 1, "CreatePartitions");
    create_partitions(&a, 3, RD_KAFKA_RESP_ERR_INVALID_PARTITIONS);
    printf("CreatePartitions: ok\n");

    produce_records(bootstrap, 100);
    delete_records(&a, bootstrap);
    printf("DeleteRecords: ok\n");

    delete_topic(&a);
    wait_metadata(&a, 0, 0, "DeleteTopics");
    printf("DeleteTopics: ok\n");

    rd_kafka_AdminOptions_destroy(a.options);
    rd_kafka_queue_destroy(a.queue);
    rd_kafka_destroy(a.rk);
    return 0;
}
