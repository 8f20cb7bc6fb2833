/*
 * The Kafka admin client behind strait's Kafka-native commands (topics, groups,
 * configs, acls, delete-records): librdkafka's Admin API over the connection profile,
 * so the same commands manage straitd, Apache Kafka or Redpanda.
 *
 * Every call waits for its result on one queue with a bound (CLI_KADMIN_TIMEOUT_MS);
 * errors are worded for people: librdkafka's text for the code, never a field name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

/* Errors not tied to a request. Every broker unreachable ends the command at once
 * (cli_kadmin_wait checks): an admin call would only wait out its timeout. */
static void kadmin_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    cli_kadmin *a = opaque;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        a->unreachable = true;
    else if (err != RD_KAFKA_RESP_ERR__TRANSPORT)
        cli_fail("%s", reason);
}

int cli_kadmin_open(cli_ctx *c, cli_kadmin *a)
{
    char err[512];
    memset(a, 0, sizeof *a);
    a->c = c;
    /* A consumer handle (it joins nothing) because only consumers honour
     * allow.auto.create.topics: describing a topic that does not exist must not create it
     * on a broker that auto-creates. */
    static const char *const defaults[] = {"allow.auto.create.topics", "false", NULL};
    rd_kafka_conf_t *conf = cli_kafka_conf(c, defaults, NULL);
    if (!conf)
        return CLI_FAIL;
    rd_kafka_conf_set_error_cb(conf, kadmin_error_cb);
    rd_kafka_conf_set_opaque(conf, a);
    /* Connection failures are summed up once (unreachable), not logged per attempt. */
    rd_kafka_conf_set(conf, "log.connection.close", "false", err, sizeof err);
    a->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!a->rk) {
        rd_kafka_conf_destroy(conf);
        return cli_fail("cannot create a Kafka client for %s: %s", c->bootstrap, err);
    }
    a->queue = rd_kafka_queue_new(a->rk);
    return CLI_OK;
}

void cli_kadmin_close(cli_kadmin *a)
{
    if (a->queue)
        rd_kafka_queue_destroy(a->queue);
    if (a->rk)
        rd_kafka_destroy(a->rk);
    memset(a, 0, sizeof *a);
}

/* Reports (once) that no broker answers. */
static bool unreachable(cli_kadmin *a)
{
    if (!a->unreachable)
        return false;
    if (!a->reported)
        cli_fail("cannot reach any broker at %s: is a broker running there (see --bootstrap and "
                 "the profile)?",
                 a->c->bootstrap);
    a->reported = true;
    return true;
}

rd_kafka_AdminOptions_t *cli_kadmin_options(cli_kadmin *a, rd_kafka_admin_op_t op)
{
    char err[256];
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(a->rk, op);
    rd_kafka_AdminOptions_set_request_timeout(o, CLI_KADMIN_TIMEOUT_MS, err, sizeof err);
    return o;
}

rd_kafka_event_t *cli_kadmin_wait(cli_kadmin *a, rd_kafka_event_type_t type, const char *what)
{
    /* A little longer than the request timeout, so librdkafka reports its own timeout. */
    rd_kafka_event_t *ev = NULL;
    for (int64_t waited = 0; !ev && waited < CLI_KADMIN_TIMEOUT_MS + 5000; waited += 200) {
        ev = rd_kafka_queue_poll(a->queue, 200);
        rd_kafka_poll(a->rk, 0); /* serves the error callback */
        if (!ev && unreachable(a))
            return NULL;
    }
    if (!ev) {
        cli_fail("%s: no answer from %s within %d s (is a broker running there?)", what,
                 a->c->bootstrap, CLI_KADMIN_TIMEOUT_MS / 1000 + 5);
        return NULL;
    }
    if (rd_kafka_event_type(ev) != type) {
        cli_fail("%s: unexpected %s", what, rd_kafka_event_name(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    if (rd_kafka_event_error(ev)) {
        /* A broker's error code by its description: librdkafka's string wraps it in its
         * own names ("DELETECONSUMERGROUPOFFSETS worker failed to parse response: ..."). */
        rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
        cli_fail("%s: %s", what, e > 0 ? rd_kafka_err2str(e) : rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

const struct rd_kafka_metadata *cli_kadmin_metadata(cli_kadmin *a, const char *topic)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = topic ? rd_kafka_topic_new(a->rk, topic, NULL) : NULL;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
    /* In slices, so that no broker answering ends the wait at once (unreachable). */
    for (int waited = 0; waited < CLI_KADMIN_TIMEOUT_MS; waited += 1000) {
        e = rd_kafka_metadata(a->rk, rkt == NULL, rkt, &md, 1000);
        rd_kafka_poll(a->rk, 0);
        if (e != RD_KAFKA_RESP_ERR__TIMED_OUT && e != RD_KAFKA_RESP_ERR__TRANSPORT)
            break;
        if (unreachable(a)) {
            if (rkt)
                rd_kafka_topic_destroy(rkt);
            return NULL;
        }
    }
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    if (e) {
        cli_fail("cannot get metadata from %s: %s", a->c->bootstrap, rd_kafka_err2str(e));
        return NULL;
    }
    return md;
}

int cli_kadmin_watermarks(cli_kadmin *a, const char *topic, int32_t partition, int64_t *low,
                          int64_t *high)
{
    rd_kafka_resp_err_t e =
        rd_kafka_query_watermark_offsets(a->rk, topic, partition, low, high, CLI_KADMIN_TIMEOUT_MS);
    if (e)
        return cli_fail("%s [%d]: cannot read its offsets: %s", topic, (int)partition,
                        rd_kafka_err2str(e));
    return CLI_OK;
}

int cli_topic_partitions_arg(const cli_ctx *c, const char *text, char **topic, int32_t **parts,
                             size_t *nparts)
{
    const char *colon = strchr(text, ':');
    size_t tlen = colon ? (size_t)(colon - text) : strlen(text);
    *topic = NULL;
    *parts = NULL;
    *nparts = 0;
    if (tlen == 0)
        return cli_usage_error(c, "--topic \"%s\": the topic name is empty", text);
    if (!colon) {
        *topic = strndup(text, tlen);
        return CLI_OK;
    }
    size_t cap = 1;
    for (const char *p = colon + 1; *p; p++)
        cap += *p == ',';
    *parts = calloc(cap, sizeof **parts);
    const char *p = colon + 1;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char num[24];
        int64_t v;
        if (len == 0 || len >= sizeof(num)) {
            free(*parts);
            *parts = NULL;
            return cli_usage_error(c,
                                   "--topic \"%s\": expected TOPIC:P,P,... with partition "
                                   "numbers, e.g. orders:0,2",
                                   text);
        }
        memcpy(num, p, len);
        num[len] = '\0';
        if (cli_parse_int(c, "--topic partition", num, 0, INT32_MAX, &v) != 0) {
            free(*parts);
            *parts = NULL;
            return CLI_USAGE;
        }
        (*parts)[(*nparts)++] = (int32_t)v;
        if (!comma)
            break;
        p = comma + 1;
    }
    *topic = strndup(text, tlen);
    return CLI_OK;
}

int cli_kadmin_check_broker(const struct rd_kafka_metadata *md, const char *id, bool quiet)
{
    for (int i = 0; i < md->broker_cnt; i++)
        if (atoi(id) == md->brokers[i].id)
            return CLI_OK;
    if (quiet)
        return CLI_FAIL;
    char ids[256] = "";
    for (int i = 0, at = 0; i < md->broker_cnt && at < (int)sizeof ids - 16; i++)
        at += snprintf(ids + at, sizeof ids - (size_t)at, "%s%d", i ? ", " : "", md->brokers[i].id);
    return cli_fail("there is no broker %s in the cluster (its brokers: %s)", id,
                    md->broker_cnt ? ids : "none");
}

int cli_kadmin_topic_error(const char *topic, rd_kafka_resp_err_t err)
{
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        return cli_fail("topic \"%s\" does not exist (strait topics list shows the topics)", topic);
    return cli_fail("topic \"%s\": %s", topic, rd_kafka_err2str(err));
}
