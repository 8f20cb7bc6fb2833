/*
 * rk_durability BOOTSTRAP TOPIC COUNT [--until FILE] [--max-seconds S] [--expect-all]
 *
 * An acks=all producer that prints one line "<partition> <offset> <key>" on stdout for
 * every record the broker acknowledged, as the delivery reports arrive (flushed at once,
 * so the lines survive whatever happens to the broker next). Tests kill the broker under
 * it and then check that every printed record is still readable.
 *
 * Records are "key-<i>" / "value-<i>-..." for i = 0..COUNT-1, one produce call at a time
 * with a poll between, so acknowledgements stream out while producing. It stops after
 * COUNT records, when FILE exists, or after S seconds (default 120), then waits up to
 * message.timeout.ms (5 s) for outstanding reports. With --expect-all any failed
 * delivery makes it exit 1; without it failures are counted on stderr (the broker may
 * have been killed on purpose).
 */
#include "rk_util.h"

#include <inttypes.h>
#include <signal.h>
#include <unistd.h>

typedef struct ack_state {
    long acked;
    long failed;
    char first_error[256];
} ack_state;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    stop_requested = 1;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    ack_state *st = opaque;
    if (m->err) {
        if (st->failed++ == 0)
            snprintf(st->first_error, sizeof(st->first_error), "%s", rd_kafka_err2str(m->err));
        return;
    }
    st->acked++;
    printf("%" PRId32 " %" PRId64 " %.*s\n", m->partition, m->offset, (int)m->key_len,
           (const char *)m->key);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: rk_durability BOOTSTRAP TOPIC COUNT [--until FILE] "
                        "[--max-seconds S] [--expect-all]\n");
        return 2;
    }
    const char *bootstrap = argv[1], *topic = argv[2];
    long count = atol(argv[3]);
    const char *until_file = NULL;
    long max_seconds = 120;
    int expect_all = 0;
    for (int a = 4; a < argc; a++) {
        if (strcmp(argv[a], "--until") == 0 && a + 1 < argc)
            until_file = argv[++a];
        else if (strcmp(argv[a], "--max-seconds") == 0 && a + 1 < argc)
            max_seconds = atol(argv[++a]);
        else if (strcmp(argv[a], "--expect-all") == 0)
            expect_all = 1;
        else
            rk_fail("unknown argument \"%s\"", argv[a]);
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    ack_state st = {0};
    rd_kafka_conf_t *conf = rk_conf(bootstrap);
    rk_set(conf, "acks", "all");
    rk_set(conf, "linger.ms", "2");
    rk_set(conf, "message.timeout.ms", "5000");
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &st);
    rd_kafka_t *rk = rk_new(RD_KAFKA_PRODUCER, conf);

    int64_t deadline = rk_now_ms() + max_seconds * 1000;
    long produced = 0;
    char key[64], value[256];
    while (produced < count && !stop_requested && rk_now_ms() < deadline) {
        if (until_file && access(until_file, F_OK) == 0)
            break;
        snprintf(key, sizeof(key), "key-%ld", produced);
        int vlen =
            snprintf(value, sizeof(value), "value-%ld-%0*d", produced, (int)(produced % 150), 0);
        rd_kafka_resp_err_t err =
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                              RD_KAFKA_V_VALUE(value, (size_t)vlen),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 10);
            continue;
        }
        if (err)
            rk_fail("produce of %s failed: %s", key, rd_kafka_err2str(err));
        produced++;
        rd_kafka_poll(rk, 1);
    }
    rd_kafka_flush(rk, 10000);
    long unreported = rd_kafka_outq_len(rk);
    rd_kafka_destroy(rk);

    fprintf(stderr, "rk_durability: produced %ld, acknowledged %ld, failed %ld%s%s\n", produced,
            st.acked, st.failed, st.failed ? ", first error: " : "", st.first_error);
    if (expect_all && (st.failed || unreported || st.acked != produced))
        rk_fail("%ld of %ld records were not acknowledged (first error: %s)", produced - st.acked,
                produced, st.first_error[0] ? st.first_error : "none");
    return 0;
}
