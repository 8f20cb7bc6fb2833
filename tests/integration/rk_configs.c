/*
 * rk_configs BOOTSTRAP BROKER_ID: librdkafka's view of straitd's configs, run by
 * test_configs.sh after py_configs.py left these dynamic broker configs set:
 * cluster-wide log.retention.ms=3600000, log.segment.bytes=2097152 and
 * log.cleanup.policy=delete, per broker log.retention.ms=7200000, with
 * log.retention_ms = 86400000 in the config file.
 *
 * Checks with rd_kafka_DescribeConfigs (v1, synonyms included) what Kafka answers:
 * values, rd_kafka_ConfigEntry_source / is_default / is_read_only / is_sensitive and
 * the synonyms of a topic config and of broker configs; then rd_kafka_AlterConfigs on
 * the broker (dynamic: accepted; read-only: refused) and on a topic (a bad value:
 * INVALID_CONFIG). Prints "ok: ..." per check, exits 1 at the first wrong answer.
 */
#include "rk_util.h"

#define TOPIC "configs-rk"

typedef struct admin {
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
} admin;

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

static void ok(const char *what)
{
    printf("ok: %s\n", what);
}

/* Describes one resource; returns the event (caller destroys) and its entries. */
static rd_kafka_event_t *describe(admin *a, rd_kafka_ResourceType_t type, const char *name,
                                  const rd_kafka_ConfigEntry_t ***entries, size_t *n)
{
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(type, name);
    rd_kafka_DescribeConfigs(a->rk, &res, 1, NULL, a->queue);
    rd_kafka_event_t *ev = wait_result(a, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, "DescribeConfigs");
    size_t nres;
    const rd_kafka_ConfigResource_t **out =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &nres);
    if (nres != 1 || rd_kafka_ConfigResource_error(out[0]))
        rk_fail("DescribeConfigs %s: %s", name,
                nres ? rd_kafka_ConfigResource_error_string(out[0]) : "no resource");
    *entries = rd_kafka_ConfigResource_configs(out[0], n);
    rd_kafka_ConfigResource_destroy(res);
    return ev;
}

static const rd_kafka_ConfigEntry_t *find(const rd_kafka_ConfigEntry_t **e, size_t n,
                                          const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rd_kafka_ConfigEntry_name(e[i]), name) == 0)
            return e[i];
    rk_fail("config %s not described", name);
}

static const char *str(const char *s)
{
    return s ? s : "(null)";
}

/* Checks value, source, is_default, read-only and sensitive flags of an entry. */
static void check(const rd_kafka_ConfigEntry_t *e, const char *value, rd_kafka_ConfigSource_t src,
                  int read_only, int sensitive)
{
    const char *v = rd_kafka_ConfigEntry_value(e);
    const char *name = rd_kafka_ConfigEntry_name(e);
    if ((value == NULL) != (v == NULL) || (value && strcmp(value, v) != 0))
        rk_fail("%s = %s, expected %s", name, str(v), str(value));
    if (rd_kafka_ConfigEntry_source(e) != src)
        rk_fail("%s: source %s, expected %s", name,
                rd_kafka_ConfigSource_name(rd_kafka_ConfigEntry_source(e)),
                rd_kafka_ConfigSource_name(src));
    if (rd_kafka_ConfigEntry_is_default(e) != (src == RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG))
        rk_fail("%s: is_default %d with source %s", name, rd_kafka_ConfigEntry_is_default(e),
                rd_kafka_ConfigSource_name(src));
    if (rd_kafka_ConfigEntry_is_read_only(e) != read_only ||
        rd_kafka_ConfigEntry_is_sensitive(e) != sensitive)
        rk_fail("%s: read_only %d sensitive %d, expected %d %d", name,
                rd_kafka_ConfigEntry_is_read_only(e), rd_kafka_ConfigEntry_is_sensitive(e),
                read_only, sensitive);
    printf("ok: %s = %s (%s%s%s)\n", name, str(v), rd_kafka_ConfigSource_name(src),
           read_only ? ", read-only" : "", sensitive ? ", sensitive" : "");
}

/* Alters one resource (non-incremental: the set replaces that resource's dynamic
 * configs) and returns the resource's error. */
static rd_kafka_resp_err_t alter(admin *a, rd_kafka_ResourceType_t type, const char *name,
                                 const char *config, const char *value)
{
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(type, name);
    rd_kafka_ConfigResource_set_config(res, config, value);
    rd_kafka_AlterConfigs(a->rk, &res, 1, NULL, a->queue);
    rd_kafka_event_t *ev = wait_result(a, RD_KAFKA_EVENT_ALTERCONFIGS_RESULT, "AlterConfigs");
    size_t nres;
    const rd_kafka_ConfigResource_t **out =
        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &nres);
    if (nres != 1)
        rk_fail("AlterConfigs %s: %zu results", name, nres);
    rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(out[0]);
    printf("AlterConfigs %s %s=%s: %s %s\n", name, config, value, rd_kafka_err2name(err),
           str(rd_kafka_ConfigResource_error_string(out[0])));
    rd_kafka_event_destroy(ev);
    rd_kafka_ConfigResource_destroy(res);
    return err;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: rk_configs BOOTSTRAP BROKER_ID\n");
        return 2;
    }
    const char *id = argv[2];
    admin a = {rk_new(RD_KAFKA_PRODUCER, rk_conf(argv[1])), NULL};
    a.queue = rd_kafka_queue_new(a.rk);

    char err[256];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(TOPIC, 1, 1, err, sizeof err);
    if (!nt)
        rk_fail("NewTopic: %s", err);
    rd_kafka_CreateTopics(a.rk, &nt, 1, NULL, a.queue);
    rd_kafka_event_destroy(wait_result(&a, RD_KAFKA_EVENT_CREATETOPICS_RESULT, "CreateTopics"));
    rd_kafka_NewTopic_destroy(nt);

    const rd_kafka_ConfigEntry_t **e;
    size_t n;
    rd_kafka_event_t *ev = describe(&a, RD_KAFKA_RESOURCE_TOPIC, TOPIC, &e, &n);
    check(find(e, n, "flush.messages"), "9223372036854775807",
          RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG, 0, 0);
    check(find(e, n, "cleanup.policy"), "delete",
          RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG, 0, 0);
    const rd_kafka_ConfigEntry_t *ret = find(e, n, "retention.ms");
    check(ret, "7200000", RD_KAFKA_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG, 0, 0);
    size_t ns;
    const rd_kafka_ConfigEntry_t **syn = rd_kafka_ConfigEntry_synonyms(ret, &ns);
    static const struct {
        const char *name, *value;
        rd_kafka_ConfigSource_t src;
    } want[] = {
        {"log.retention.ms", "7200000", RD_KAFKA_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG},
        {"log.retention.ms", "3600000", RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG},
        {"log.retention.ms", "86400000", RD_KAFKA_CONFIG_SOURCE_STATIC_BROKER_CONFIG},
        {"log.retention.hours", "168", RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG},
    };
    if (ns != 4)
        rk_fail("retention.ms has %zu synonyms, expected 4", ns);
    for (size_t i = 0; i < ns; i++) {
        if (!rd_kafka_ConfigEntry_is_synonym(syn[i]) ||
            strcmp(rd_kafka_ConfigEntry_name(syn[i]), want[i].name) != 0 ||
            strcmp(str(rd_kafka_ConfigEntry_value(syn[i])), want[i].value) != 0 ||
            rd_kafka_ConfigEntry_source(syn[i]) != want[i].src)
            rk_fail("retention.ms synonym %zu: %s=%s (%s), expected %s=%s (%s)", i,
                    rd_kafka_ConfigEntry_name(syn[i]), str(rd_kafka_ConfigEntry_value(syn[i])),
                    rd_kafka_ConfigSource_name(rd_kafka_ConfigEntry_source(syn[i])), want[i].name,
                    want[i].value, rd_kafka_ConfigSource_name(want[i].src));
    }
    ok("retention.ms synonyms: per broker, cluster-wide, config file, log.retention.hours");
    rd_kafka_event_destroy(ev);

    ev = describe(&a, RD_KAFKA_RESOURCE_BROKER, id, &e, &n);
    check(find(e, n, "broker.id"), id, RD_KAFKA_CONFIG_SOURCE_STATIC_BROKER_CONFIG, 1, 0);
    check(find(e, n, "log.retention.ms"), "7200000", RD_KAFKA_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG,
          0, 0);
    check(find(e, n, "log.segment.bytes"), "2097152",
          RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG, 0, 0);
    check(find(e, n, "log.flush.interval.messages"), "9223372036854775807",
          RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG, 0, 0);
    check(find(e, n, "num.partitions"), "2", RD_KAFKA_CONFIG_SOURCE_STATIC_BROKER_CONFIG, 1, 0);
    check(find(e, n, "mgmt.token"), NULL, RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG, 1, 1);
    rd_kafka_event_destroy(ev);

    /* per broker: the set replaces this broker's dynamic configs (the same value here) */
    if (alter(&a, RD_KAFKA_RESOURCE_BROKER, id, "log.retention.ms", "7200000"))
        rk_fail("AlterConfigs of a dynamic broker config failed");
    ok("AlterConfigs broker log.retention.ms accepted");
    if (alter(&a, RD_KAFKA_RESOURCE_BROKER, id, "num.partitions", "4") !=
        RD_KAFKA_RESP_ERR_INVALID_REQUEST)
        rk_fail("AlterConfigs of read-only num.partitions: expected INVALID_REQUEST");
    ok("AlterConfigs broker num.partitions refused: read-only");
    if (alter(&a, RD_KAFKA_RESOURCE_TOPIC, TOPIC, "segment.bytes", "tiny") !=
        RD_KAFKA_RESP_ERR_INVALID_CONFIG)
        rk_fail("AlterConfigs segment.bytes=tiny: expected INVALID_CONFIG");
    ok("AlterConfigs topic segment.bytes=tiny refused: INVALID_CONFIG");
    ev = describe(&a, RD_KAFKA_RESOURCE_TOPIC, TOPIC, &e, &n);
    check(find(e, n, "segment.bytes"), "2097152",
          RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG, 0, 0);
    rd_kafka_event_destroy(ev);

    rd_kafka_queue_destroy(a.queue);
    rd_kafka_destroy(a.rk);
    return 0;
}
