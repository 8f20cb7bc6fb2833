/*
 * rk_acl_live BOOTSTRAP USER PASSWORD TOPIC STEP...
 *
 * ACL changes reach connections that are already open. One librdkafka producer connects
 * as USER (SASL_PLAINTEXT, SCRAM-SHA-256) and stays connected while the steps, in order,
 * change the ACLs under it:
 *
 *   run:CMD        runs CMD with /bin/sh (e.g. `strait acls add ...`); must exit 0
 *   expect:ok      produces one record to TOPIC [0] at a time until one is delivered,
 *                  then two more must be delivered too
 *   expect:CODE    the same until a produce fails with Kafka error CODE (e.g. 29,
 *                  TOPIC_AUTHORIZATION_FAILED), then two more must fail with it
 *
 * "Until" is bounded (15 s a step): the broker applies an ACL change at once, but the
 * client may act on metadata it fetched before the change for up to its refresh interval
 * (1 s). The first step's target must hold from the first attempt on (nothing changed
 * yet).
 *
 * No reconnect: the producer connects to every broker up front
 * (enable.sparse.connections=false) and waits until the broker it learned from Metadata
 * is UP; from then to the end, librdkafka's statistics must show that broker's connect
 * count unchanged and no disconnect of any connection — the same handle, the same TCP
 * connection, different answers. Prints one line a step; exits 1 on the first step whose
 * result was wrong.
 */
#include "rk_util.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>

#define PENDING        ((rd_kafka_resp_err_t)-12345) /* delivery report not yet received */
#define STEP_BOUND_MS  15000
#define STABLE_REPEATS 2

typedef struct conn_stats {
    int updates;         /* statistics callbacks seen */
    int64_t connects;    /* of the learned broker (node id >= 0) */
    int64_t disconnects; /* of every connection */
    bool learned_up;     /* the learned broker's state is UP */
    char learned[128];   /* its name */
} conn_stats;

/* Statistics arrive as JSON through rd_kafka_poll; keeps the counters above. */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    conn_stats *cs = opaque;
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    json_t *brokers = root ? json_object_get(root, "brokers") : NULL;
    const char *name;
    json_t *b;
    int64_t connects = 0, disconnects = 0;
    bool up = false;
    json_object_foreach(brokers, name, b)
    {
        disconnects += json_integer_value(json_object_get(b, "disconnects"));
        if (json_integer_value(json_object_get(b, "nodeid")) < 0)
            continue; /* a bootstrap entry */
        connects += json_integer_value(json_object_get(b, "connects"));
        const char *state = json_string_value(json_object_get(b, "state"));
        up = state && strcmp(state, "UP") == 0;
        snprintf(cs->learned, sizeof(cs->learned), "%s", name);
    }
    cs->connects = connects;
    cs->disconnects = disconnects;
    cs->learned_up = up;
    cs->updates++;
    json_decref(root);
    return 0; /* librdkafka frees json */
}

/* Polls until a statistics update newer than the current one arrived (bounded). */
static void fresh_stats(rd_kafka_t *rk, conn_stats *cs)
{
    int seen = cs->updates;
    int64_t deadline = rk_now_ms() + 5000;
    while (cs->updates == seen) {
        if (rk_now_ms() > deadline)
            rk_fail("no librdkafka statistics within 5 s");
        rd_kafka_poll(rk, 50);
    }
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    *(rd_kafka_resp_err_t *)msg->_private = msg->err;
}

/* One record to topic [0]: the delivery report's error (or producev's own). */
static rd_kafka_resp_err_t produce_one(rd_kafka_t *rk, const char *topic, int seq)
{
    char value[64];
    snprintf(value, sizeof(value), "live-%d", seq);
    rd_kafka_resp_err_t result = PENDING;
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
        RD_KAFKA_V_VALUE(value, strlen(value)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_OPAQUE(&result), RD_KAFKA_V_END);
    if (err)
        return err;
    /* message.timeout.ms (10 s) bounds the report; `result` must outlive it. */
    int64_t deadline = rk_now_ms() + 60000;
    while (result == PENDING) {
        if (rk_now_ms() > deadline)
            rk_fail("no delivery report within 60 s");
        rd_kafka_poll(rk, 50);
    }
    return result;
}

static const char *name_of(rd_kafka_resp_err_t err, char *buf, size_t len)
{
    snprintf(buf, len, "%s (%d)", err ? rd_kafka_err2name(err) : "ok", (int)err);
    return buf;
}

/* Produces until the result is `want` (bounded; the first step must match at once), then
 * STABLE_REPEATS more times, each of which must match too. */
static void expect(rd_kafka_t *rk, const char *topic, int step, rd_kafka_resp_err_t want,
                   bool first, int *seq)
{
    char w[96], g[96];
    int64_t start = rk_now_ms(), deadline = start + STEP_BOUND_MS;
    int attempts = 0;
    rd_kafka_resp_err_t got;
    for (;;) {
        got = produce_one(rk, topic, (*seq)++);
        attempts++;
        if (got == want)
            break;
        if (first || rk_now_ms() > deadline)
            rk_fail("step %d: produce to %s: got %s after %d attempts in %" PRId64 " ms, "
                    "expected %s",
                    step, topic, name_of(got, g, sizeof(g)), attempts, rk_now_ms() - start,
                    name_of(want, w, sizeof(w)));
        rd_kafka_poll(rk, 200); /* the client's metadata catching up, not the assertion */
    }
    for (int i = 0; i < STABLE_REPEATS; i++) {
        got = produce_one(rk, topic, (*seq)++);
        if (got != want)
            rk_fail("step %d: produce to %s: %s once, then %s: the answer is not stable", step,
                    topic, name_of(want, w, sizeof(w)), name_of(got, g, sizeof(g)));
    }
    printf("step %d: produce to %s: %s (reached after %d attempt%s, %" PRId64 " ms; %d more "
           "alike)\n",
           step, topic, name_of(want, w, sizeof(w)), attempts, attempts == 1 ? "" : "s",
           rk_now_ms() - start, STABLE_REPEATS);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: rk_acl_live BOOTSTRAP USER PASSWORD TOPIC STEP...\n"
                        "  STEP: run:CMD | expect:ok | expect:CODE\n");
        return 2;
    }
    const char *topic = argv[4];
    conn_stats cs = {0};
    rd_kafka_conf_t *conf = rk_conf(argv[1]);
    rk_set(conf, "security.protocol", "SASL_PLAINTEXT");
    rk_set(conf, "sasl.mechanisms", "SCRAM-SHA-256");
    rk_set(conf, "sasl.username", argv[2]);
    rk_set(conf, "sasl.password", argv[3]);
    rk_set(conf, "message.timeout.ms", "10000");
    rk_set(conf, "enable.sparse.connections", "false");
    rk_set(conf, "statistics.interval.ms", "100");
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_stats_cb(conf, on_stats);
    rd_kafka_conf_set_opaque(conf, &cs);
    rd_kafka_t *rk = rk_new(RD_KAFKA_PRODUCER, conf);

    /* Settle the connections first: Metadata from the bootstrap connection, then the
     * learned broker's own connection UP. */
    int64_t deadline = rk_now_ms() + 15000;
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 0, NULL, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        rd_kafka_metadata_destroy(md);
    do {
        if (rk_now_ms() > deadline)
            rk_fail("the learned broker's connection is not UP within 15 s (%s)",
                    *cs.learned ? cs.learned : "no broker learned");
        fresh_stats(rk, &cs);
    } while (!cs.learned_up);
    conn_stats mark = cs;
    printf("connected as User:%s to %s (connects %" PRId64 ", disconnects %" PRId64 ")\n", argv[2],
           mark.learned, mark.connects, mark.disconnects);

    int seq = 0;
    for (int i = 5; i < argc; i++) {
        int step = i - 4;
        const char *s = argv[i];
        if (strncmp(s, "run:", 4) == 0) {
            int rc = system(s + 4);
            if (rc != 0)
                rk_fail("step %d: `%s` failed (status %d)", step, s + 4, rc);
            printf("step %d: ran %s\n", step, s + 4);
        } else if (strcmp(s, "expect:ok") == 0) {
            expect(rk, topic, step, RD_KAFKA_RESP_ERR_NO_ERROR, i == 5, &seq);
        } else if (strncmp(s, "expect:", 7) == 0) {
            char *end;
            long code = strtol(s + 7, &end, 10);
            if (*end || end == s + 7)
                rk_fail("step %d: \"%s\": expected expect:ok or expect:<error code>", step, s);
            expect(rk, topic, step, (rd_kafka_resp_err_t)code, i == 5, &seq);
        } else {
            rk_fail("step %d: \"%s\": expected run:CMD, expect:ok or expect:CODE", step, s);
        }
        fflush(stdout);
    }

    fresh_stats(rk, &cs);
    if (cs.connects != mark.connects || cs.disconnects != mark.disconnects || !cs.learned_up)
        rk_fail("the connection did not survive: %s connects %" PRId64 " -> %" PRId64
                ", disconnects %" PRId64 " -> %" PRId64 ", %s",
                cs.learned, mark.connects, cs.connects, mark.disconnects, cs.disconnects,
                cs.learned_up ? "UP" : "not UP");
    printf("same connection throughout: %s connects %" PRId64 ", disconnects %" PRId64 "\n",
           cs.learned, cs.connects, cs.disconnects);
    rd_kafka_destroy(rk);
    return 0;
}
