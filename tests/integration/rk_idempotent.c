/*
 * rk_idempotent BOOTSTRAP TOPIC COUNT [RATE_PER_SEC [plain]]
 *
 * An idempotent librdkafka producer (enable.idempotence=true, acks=all, five requests in
 * flight, retries forever within message.timeout.ms=120000) producing COUNT records
 * with key "k<i>" and value "seq-<i>" (i = 0..COUNT-1), paced at RATE_PER_SEC
 * [4000] so a test has time to break its connections mid-stream. Every delivery report
 * is printed to stdout as "<partition> <offset> <i>" (flushed, so the test can follow
 * progress); at the end stderr gets "delivered D of COUNT, failed F, retries R,
 * transmitted T" where R is librdkafka's count of re-sent requests and T the records it
 * sent, re-sends included (from its statistics): T > COUNT is the evidence that
 * connection drops hit records in flight.
 *
 * With "plain" the producer is not idempotent (a paced keyed producer for tests that
 * are about something else, e.g. consumer groups).
 *
 * Exits 0 only when every record was delivered and none failed.
 */
#include "rk_util.h"

#include <stdbool.h>
#include <unistd.h>

typedef struct progress {
    long delivered;
    long failed;
    long long retries;     /* the latest sum of "txretries" over the brokers */
    long long transmitted; /* the latest top-level "txmsgs": records sent, re-sends too */
} progress;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    progress *pr = opaque;
    if (m->err) {
        pr->failed++;
        fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(m->err));
        return;
    }
    pr->delivered++;
    printf("%d %lld %.*s\n", (int)m->partition, (long long)m->offset, (int)m->len - 4,
           (const char *)m->payload + 4);
}

/* librdkafka's statistics are JSON; the numbers wanted are the sum of every broker's
 * "txretries" (re-sent requests) and the top-level "txmsgs" (records sent, counting a
 * re-sent record again), which librdkafka writes after the per-partition "txmsgs" of
 * the same name: so the last occurrence. A plain scan suffices (no JSON parser in the
 * test programs). */
static int stats_cb(rd_kafka_t *rk, char *json, size_t json_len, void *opaque)
{
    progress *pr = opaque;
    long long sum = 0, txmsgs = 0;
    for (const char *p = json; (p = strstr(p, "\"txretries\":")) != NULL;) {
        p += strlen("\"txretries\":");
        sum += strtoll(p, NULL, 10);
    }
    for (const char *p = json; (p = strstr(p, "\"txmsgs\":")) != NULL;) {
        p += strlen("\"txmsgs\":");
        txmsgs = strtoll(p, NULL, 10);
    }
    if (sum > pr->retries)
        pr->retries = sum;
    if (txmsgs > pr->transmitted)
        pr->transmitted = txmsgs;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 6 || (argc == 6 && strcmp(argv[5], "plain") != 0)) {
        fprintf(stderr, "usage: rk_idempotent BOOTSTRAP TOPIC COUNT [RATE_PER_SEC [plain]]\n");
        return 2;
    }
    const char *topic = argv[2];
    long count = atol(argv[3]);
    long rate = argc >= 5 ? atol(argv[4]) : 4000;
    bool idempotent = argc < 6;
    if (count <= 0 || rate <= 0)
        rk_fail("COUNT and RATE_PER_SEC must be positive");
    setvbuf(stdout, NULL, _IOLBF, 0);

    progress pr = {0};
    rd_kafka_conf_t *conf = rk_conf(argv[1]);
    rk_set(conf, "enable.idempotence", idempotent ? "true" : "false");
    rk_set(conf, "acks", "all");
    rk_set(conf, "max.in.flight.requests.per.connection", "5");
    rk_set(conf, "message.timeout.ms", "120000");
    rk_set(conf, "linger.ms", "5");
    rk_set(conf, "batch.num.messages", "50");
    rk_set(conf, "reconnect.backoff.ms", "50");
    rk_set(conf, "statistics.interval.ms", "200");
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_stats_cb(conf, stats_cb);
    rd_kafka_conf_set_opaque(conf, &pr);
    rd_kafka_t *rk = rk_new(RD_KAFKA_PRODUCER, conf);

    int64_t start = rk_now_ms();
    for (long i = 0; i < count; i++) {
        char key[32], value[32];
        int klen = snprintf(key, sizeof(key), "k%ld", i);
        int vlen = snprintf(value, sizeof(value), "seq-%ld", i);
        /* pace: record i may go at start + i/rate seconds */
        while (rk_now_ms() < start + i * 1000 / rate)
            rd_kafka_poll(rk, 1);
        for (;;) {
            rd_kafka_resp_err_t err =
                rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, (size_t)klen),
                                  RD_KAFKA_V_VALUE(value, (size_t)vlen),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(rk, 10);
                continue;
            }
            if (err)
                rk_fail("produce record %ld: %s", i, rd_kafka_err2str(err));
            break;
        }
        rd_kafka_poll(rk, 0);
    }
    rd_kafka_resp_err_t ferr = rd_kafka_flush(rk, 150000);
    /* one more statistics round after the last delivery */
    int64_t until = rk_now_ms() + 400;
    while (rk_now_ms() < until)
        rd_kafka_poll(rk, 50);
    char fatal[256] = "";
    rd_kafka_resp_err_t fatal_err = rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
    rd_kafka_destroy(rk);
    fprintf(stderr, "delivered %ld of %ld, failed %ld, retries %lld, transmitted %lld\n",
            pr.delivered, count, pr.failed, pr.retries, pr.transmitted);
    if (ferr)
        rk_fail("flush: %s", rd_kafka_err2str(ferr));
    if (fatal_err)
        rk_fail("the producer hit a fatal error: %s", fatal);
    if (pr.delivered != count || pr.failed)
        rk_fail("%ld of %ld records delivered, %ld failed", pr.delivered, count, pr.failed);
    return 0;
}
