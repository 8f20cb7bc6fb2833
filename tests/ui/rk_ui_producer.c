/*
 * rk_ui_producer: the running librdkafka producer of the console's quota test
 * (tests/ui/console.test.js). It produces 1,000-byte records to TOPIC [0] as
 * USER:PASSWORD (SASL_PLAINTEXT, SCRAM-SHA-256), never faster than CAP bytes a second
 * (so before any quota it runs at a known rate, and a quota below CAP shows as a drop),
 * and prints what was delivered, measured by its delivery reports, once a second:
 *
 *   SEC n=<second since start> bytes=<delivered in that second> throttle_events=<total>
 *
 * It stops after SECONDS, or as soon as the file STOPFILE exists, then prints
 * "DONE bytes=<total delivered> errors=<failed deliveries>".
 *
 *   rk_ui_producer BOOTSTRAP USER:PASSWORD TOPIC CAP_BYTES_PER_SEC SECONDS STOPFILE
 */
#include <stdint.h>
#include <unistd.h>

#include "../integration/rk_util.h"

#define RECORD_SIZE 1000

typedef struct counters {
    int64_t delivered; /* bytes */
    int64_t errors;
    int64_t throttle_events;
} counters;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    counters *c = opaque;
    if (m->err)
        c->errors++;
    else
        c->delivered += (int64_t)m->len;
}

static void on_throttle(rd_kafka_t *rk, const char *broker, int32_t id, int ms, void *opaque)
{
    counters *c = opaque;
    if (ms > 0)
        c->throttle_events++;
}

int main(int argc, char **argv)
{
    if (argc != 7)
        rk_fail("usage: rk_ui_producer BOOTSTRAP USER:PASSWORD TOPIC CAP_BPS SECONDS STOPFILE");
    const char *topic = argv[3], *stopfile = argv[6];
    char *colon = strchr(argv[2], ':');
    long cap = strtol(argv[4], NULL, 10), seconds = strtol(argv[5], NULL, 10);
    if (!colon || cap < RECORD_SIZE || seconds < 1 || seconds > 600)
        rk_fail("bad arguments: USER:PASSWORD, CAP >= %d, SECONDS 1..600", RECORD_SIZE);
    *colon = '\0';

    counters c = {0};
    rd_kafka_conf_t *conf = rk_conf(argv[1]);
    rk_set(conf, "security.protocol", "SASL_PLAINTEXT");
    rk_set(conf, "sasl.mechanisms", "SCRAM-SHA-256");
    rk_set(conf, "sasl.username", argv[2]);
    rk_set(conf, "sasl.password", colon + 1);
    rk_set(conf, "linger.ms", "5");
    rk_set(conf, "compression.codec", "none");
    rk_set(conf, "queue.buffering.max.messages", "100000");
    rd_kafka_conf_set_opaque(conf, &c);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_throttle_cb(conf, on_throttle);
    rd_kafka_t *rk = rk_new(RD_KAFKA_PRODUCER, conf);

    char payload[RECORD_SIZE];
    memset(payload, 'q', sizeof payload);
    int64_t start = rk_now_ms(), sent_bytes = 0, last_delivered = 0;
    int64_t next_report = start + 1000;
    int sec = 0;
    /* Never more than 2 s of CAP in flight: a throttled client queues, it does not
     * pile up unboundedly. */
    int64_t max_in_flight = 2 * cap;
    for (;;) {
        int64_t now = rk_now_ms();
        if (now - start >= seconds * 1000 || access(stopfile, F_OK) == 0)
            break;
        int64_t allowed = (now - start) * cap / 1000;
        while (sent_bytes + RECORD_SIZE <= allowed && sent_bytes - c.delivered < max_in_flight) {
            rd_kafka_resp_err_t err =
                rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                  RD_KAFKA_V_VALUE(payload, sizeof payload),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                break;
            if (err)
                rk_fail("produce to %s: %s", topic, rd_kafka_err2str(err));
            sent_bytes += RECORD_SIZE;
        }
        rd_kafka_poll(rk, 10);
        if (rk_now_ms() >= next_report) {
            sec++;
            printf("SEC n=%d bytes=%lld throttle_events=%lld\n", sec,
                   (long long)(c.delivered - last_delivered), (long long)c.throttle_events);
            fflush(stdout);
            last_delivered = c.delivered;
            next_report += 1000;
        }
    }
    rd_kafka_flush(rk, 10000);
    printf("DONE bytes=%lld errors=%lld\n", (long long)c.delivered, (long long)c.errors);
    rd_kafka_destroy(rk);
    return 0;
}
