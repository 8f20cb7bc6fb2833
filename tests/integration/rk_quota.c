/*
 * rk_quota: quotas and tenant limits as librdkafka clients see them. Driven by
 * test_quota_rates.sh, test_noisy_neighbour.sh and test_tenant_limits.sh.
 *
 * AUTH is "-" (PLAINTEXT) or "USER:PASSWORD" (SASL_PLAINTEXT, SCRAM-SHA-256). Options are
 * NAME=VALUE words after the positional arguments.
 *
 * rk_quota produce-rate BOOTSTRAP AUTH TOPIC [size=1000] [warmup=2] [measure=11]
 *          [max_bytes=31457280] [then=CMD] [warmup2=3] [measure2=11] [client_id=ID]
 *   Produces to TOPIC [0] flat out (no compression, at most max_bytes in all) and measures
 *   the delivered rate (delivery reports) over `measure` seconds after `warmup`. With
 *   then=CMD it runs CMD (/bin/sh) after the first phase and measures a second phase the
 *   same way, on the same client. Prints a line per phase:
 *     RESULT phase=N bytes=B seconds=S rate_bps=R rate_mbps=R throttle_cnt=C
 *            throttle_max_ms=M throttle_avg_ms=A throttle_events=E connects=K
 *            disconnects=D errors=N
 *   throttle_* come from librdkafka's statistics (brokers.*.throttle, a window of ms,
 *   summed over the phase), throttle_events from throttle_cb; connects is the learned
 *   broker's brokers.*.connects and disconnects every connection's, at the end of the
 *   phase. Then a "series" line: delivered MB in each second since the start, and
 *   "FINAL connects=K disconnects=D" from fresh statistics at the very end.
 *
 * rk_quota consume-rate BOOTSTRAP AUTH TOPIC [warmup=2] [measure=11]
 *   The same for a partition consumer reading TOPIC [0] from the beginning; fails if it
 *   reaches the end of the partition before the measurement ends (fill more first).
 *
 * rk_quota latency-probe BOOTSTRAP AUTH TOPIC [rate=200] [size=1024] [duration=10]
 *   Produces `rate` records a second (acks=all, linger.ms=0) for `duration` seconds and
 *   measures each record's delivery latency (producev to delivery report):
 *     RESULT sent=N delivered=N failed=N rate_mps=R p50_ms= p90_ms= p99_ms= max_ms=
 *
 * rk_quota limits BOOTSTRAP AUTH STEP...   one client (producer + Admin API), steps in order:
 *   run:CMD                       run CMD with /bin/sh; must exit 0
 *   create:TOPIC:PARTITIONS:CODE  CreateTopics must answer Kafka error CODE (0: ok)
 *   createmany:T1,T2,..:PARTITIONS:C1,C2,..  one CreateTopics of every topic (up to 8),
 *                                 each to be answered its code, in order
 *   partitions:TOPIC:TOTAL:CODE   CreatePartitions to TOTAL must answer CODE
 *   fill:TOPIC:SIZE:MAX_BYTES     produce SIZE-byte records one at a time until one is
 *                                 refused with POLICY_VIOLATION (44); fails if another
 *                                 error or MAX_BYTES/60 s come first. Prints the count and
 *                                 checksum of the records stored.
 *   verify:TOPIC                  read TOPIC [0] from the beginning (another client):
 *                                 count and checksum must equal the last fill's
 *   delete:TOPIC                  DeleteRecords of TOPIC [0] up to the high watermark
 *   produce:TOPIC:CODE:WITHIN_MS  produce one record until its report says CODE (bounded)
 *   At the end the client must still be on its first connection (connects and
 *   disconnects unchanged since the first step): changes apply without reconnecting.
 *
 * rk_quota connections BOOTSTRAP AUTH [then=CMD] [max_clients=12] [at_once=N]
 *   Opens clients one at a time until a connection is refused at authentication; prints
 *     RESULT up=K refused="<librdkafka's error string>"
 *   (K: connections up when the refusal came; one a client, as librdkafka gives the
 *   bootstrap broker the node id Metadata returns for its address). With then=CMD it
 *   runs CMD, then waits until every client is connected (the refused one retries).
 *   With at_once=N it opens N clients at once instead and, after 5 s or once each is
 *   connected or refused, prints RESULT clients=N up=N refused=N first="<error string>".
 */
#include "rk_util.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>

#define MAX_SEC     256
#define PENDING     ((rd_kafka_resp_err_t)-12345)
#define MAX_CLIENTS 64

/* ---- options and configuration ---- */

static const char *opt(int argc, char **argv, int first, const char *name, const char *def)
{
    size_t n = strlen(name);
    for (int i = first; i < argc; i++)
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
            return argv[i] + n + 1;
    return def;
}

static double optd(int argc, char **argv, int first, const char *name, double def)
{
    const char *v = opt(argc, argv, first, name, NULL);
    return v ? atof(v) : def;
}

/* Statistics kept from librdkafka's JSON (statistics.interval.ms). */
typedef struct stats {
    int updates;
    int64_t connects;    /* of the learned brokers (node id >= 0) */
    int64_t disconnects; /* of every connection */
    int brokers, up;     /* broker entries, and those in state UP */
    bool learned;        /* a broker learned from Metadata is known */
    bool accumulate;     /* add the throttle windows below */
    int64_t thr_cnt, thr_sum, thr_max;
} stats;

static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque);

/* A configuration for AUTH ("-" or "user:password"); `st` gets the statistics. */
static rd_kafka_conf_t *new_conf(const char *bootstrap, const char *auth, stats *st, int stats_ms)
{
    rd_kafka_conf_t *conf = rk_conf(bootstrap);
    if (strcmp(auth, "-") != 0) {
        char user[256];
        const char *colon = strchr(auth, ':');
        if (!colon || (size_t)(colon - auth) >= sizeof(user))
            rk_fail("AUTH \"%s\": expected - or USER:PASSWORD", auth);
        snprintf(user, sizeof(user), "%.*s", (int)(colon - auth), auth);
        rk_set(conf, "security.protocol", "SASL_PLAINTEXT");
        rk_set(conf, "sasl.mechanisms", "SCRAM-SHA-256");
        rk_set(conf, "sasl.username", user);
        rk_set(conf, "sasl.password", colon + 1);
    }
    if (st) {
        char ms[32];
        snprintf(ms, sizeof(ms), "%d", stats_ms);
        rk_set(conf, "statistics.interval.ms", ms);
        rd_kafka_conf_set_stats_cb(conf, on_stats);
    }
    return conf;
}

static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    stats *st = *(stats **)opaque; /* the opaque of every handle here starts with a stats* */
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    const char *name;
    json_t *b;
    st->connects = st->disconnects = 0;
    st->brokers = st->up = 0;
    st->learned = false;
    json_object_foreach(root ? json_object_get(root, "brokers") : NULL, name, b)
    {
        st->disconnects += json_integer_value(json_object_get(b, "disconnects"));
        const char *state = json_string_value(json_object_get(b, "state"));
        st->brokers++;
        st->up += state && strcmp(state, "UP") == 0;
        json_t *thr = json_object_get(b, "throttle");
        if (st->accumulate && thr) {
            st->thr_cnt += json_integer_value(json_object_get(thr, "cnt"));
            st->thr_sum += json_integer_value(json_object_get(thr, "sum"));
            int64_t max = json_integer_value(json_object_get(thr, "max"));
            st->thr_max = max > st->thr_max ? max : st->thr_max;
        }
        if (json_integer_value(json_object_get(b, "nodeid")) < 0)
            continue; /* a bootstrap entry */
        st->learned = true;
        st->connects += json_integer_value(json_object_get(b, "connects"));
    }
    st->updates++;
    json_decref(root);
    return 0; /* librdkafka frees json */
}

/* Polls until a statistics update newer than the current one arrived (bounded). */
static void fresh_stats(rd_kafka_t *rk, stats *st)
{
    int seen = st->updates;
    int64_t deadline = rk_now_ms() + 5000;
    while (st->updates == seen) {
        if (rk_now_ms() > deadline)
            rk_fail("no librdkafka statistics within 5 s");
        rd_kafka_poll(rk, 50);
    }
}

static int run_cmd(const char *cmd)
{
    printf("run: %s\n", cmd);
    fflush(stdout);
    int rc = system(cmd);
    if (rc != 0)
        rk_fail("command failed (status %d): %s", rc, cmd);
    return 0;
}

/* ---- rate flows: produce-rate, consume-rate ---- */

typedef struct flow {
    stats *stp; /* first: the opaque on_stats reads */
    stats st;
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt; /* consumer */
    const char *topic;
    char *payload;
    size_t size;
    int64_t t0, produced, max_bytes, delivered, failed, throttle_events;
    rd_kafka_resp_err_t first_err;
    bool eof;
    int64_t series[MAX_SEC];
} flow;

static void account(flow *f, size_t bytes)
{
    int64_t sec = (rk_now_ms() - f->t0) / 1000;
    f->delivered += (int64_t)bytes;
    if (sec >= 0 && sec < MAX_SEC)
        f->series[sec] += (int64_t)bytes;
}

static void flow_dr(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    flow *f = opaque;
    if (msg->err) {
        if (!f->failed++)
            f->first_err = msg->err;
        return;
    }
    account(f, msg->len);
}

static void flow_throttle(rd_kafka_t *rk, const char *broker, int32_t id, int ms, void *opaque)
{
    if (ms > 0)
        ((flow *)opaque)->throttle_events++;
}

static void pump_produce(flow *f)
{
    bool full = false;
    for (int i = 0; i < 256 && f->produced < f->max_bytes; i++) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            f->rk, RD_KAFKA_V_TOPIC(f->topic), RD_KAFKA_V_PARTITION(0),
            RD_KAFKA_V_VALUE(f->payload, f->size), RD_KAFKA_V_MSGFLAGS(0), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            full = true;
            break;
        }
        if (err)
            rk_fail("producev: %s", rd_kafka_err2str(err));
        f->produced += (int64_t)f->size;
    }
    rd_kafka_poll(f->rk, full || f->produced >= f->max_bytes ? 5 : 0);
}

static void pump_consume(flow *f)
{
    rd_kafka_message_t *msgs[256];
    ssize_t n = rd_kafka_consume_batch(f->rkt, 0, 100, msgs, 256);
    for (ssize_t i = 0; i < n; i++) {
        if (msgs[i]->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            f->eof = true;
        else if (msgs[i]->err && !f->failed++)
            f->first_err = msgs[i]->err;
        else if (!msgs[i]->err)
            account(f, msgs[i]->len);
        rd_kafka_message_destroy(msgs[i]);
    }
    rd_kafka_poll(f->rk, 0);
}

/* Runs `pump` for warmup seconds, then measures for `measure` seconds. */
static void phase(flow *f, int no, double warmup, double measure, void (*pump)(flow *))
{
    int64_t start = rk_now_ms() + (int64_t)(warmup * 1000), end = start + (int64_t)(measure * 1000);
    while (rk_now_ms() < start)
        pump(f);
    int64_t b0 = f->delivered, e0 = f->throttle_events, t_start = rk_now_ms();
    f->st.thr_cnt = f->st.thr_sum = f->st.thr_max = 0;
    f->st.accumulate = true;
    printf("phase %d: measuring for %.1f s (from +%.1f s)\n", no, measure,
           (t_start - f->t0) / 1000.0);
    fflush(stdout);
    while (rk_now_ms() < end) {
        pump(f);
        if (f->eof)
            rk_fail("phase %d: reached the end of %s [0] while measuring: fill more first", no,
                    f->topic);
    }
    double secs = (rk_now_ms() - t_start) / 1000.0;
    int64_t bytes = f->delivered - b0;
    f->st.accumulate = false;
    printf("RESULT phase=%d bytes=%" PRId64 " seconds=%.3f rate_bps=%.0f rate_mbps=%.3f "
           "throttle_cnt=%" PRId64 " throttle_max_ms=%" PRId64
           " throttle_avg_ms=%.1f throttle_events=%" PRId64 " connects=%" PRId64
           " disconnects=%" PRId64 " errors=%" PRId64 "\n",
           no, bytes, secs, bytes / secs, bytes / secs / 1048576.0, f->st.thr_cnt, f->st.thr_max,
           f->st.thr_cnt ? (double)f->st.thr_sum / (double)f->st.thr_cnt : 0.0,
           f->throttle_events - e0, f->st.connects, f->st.disconnects, f->failed);
    fflush(stdout);
}

static void print_series(const flow *f)
{
    int64_t secs = (rk_now_ms() - f->t0) / 1000 + 1;
    printf("series (delivered MB in each second since the start):");
    for (int64_t i = 0; i < secs && i < MAX_SEC; i++)
        printf(" %.2f", f->series[i] / 1048576.0);
    printf("\n");
}

static int run_rate(int argc, char **argv, bool produce)
{
    if (argc < 5)
        rk_fail("usage: rk_quota %s BOOTSTRAP AUTH TOPIC [NAME=VALUE...]", argv[1]);
    static flow f; /* large (series); one per process */
    f.stp = &f.st;
    f.topic = argv[4];
    f.size = (size_t)optd(argc, argv, 5, "size", 1000);
    f.max_bytes = (int64_t)optd(argc, argv, 5, "max_bytes", 31457280);
    const char *then = opt(argc, argv, 5, "then", NULL);
    rd_kafka_conf_t *conf = new_conf(argv[2], argv[3], &f.st, 1000);
    rk_set(conf, "client.id", opt(argc, argv, 5, "client_id", "rk_quota"));
    rd_kafka_conf_set_opaque(conf, &f);
    rd_kafka_conf_set_throttle_cb(conf, flow_throttle);
    if (produce) {
        rk_set(conf, "compression.codec", "none");
        rk_set(conf, "linger.ms", "5");
        rk_set(conf, "batch.size", "65536");
        rk_set(conf, "queue.buffering.max.kbytes", "4096");
        rk_set(conf, "message.timeout.ms", "120000");
        rd_kafka_conf_set_dr_msg_cb(conf, flow_dr);
        f.payload = malloc(f.size);
        if (!f.payload)
            rk_fail("out of memory");
        for (size_t i = 0; i < f.size; i++)
            f.payload[i] = (char)('a' + (i * 7 + i / 26) % 26);
    } else {
        rk_set(conf, "enable.partition.eof", "true");
        rk_set(conf, "queued.max.messages.kbytes", "1024");
        rk_set(conf, "fetch.max.bytes", "1048576");
        rk_set(conf, "max.partition.fetch.bytes", "262144");
    }
    f.rk = rk_new(produce ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER, conf);
    if (!produce)
        f.rkt = rk_consume_start(f.rk, f.topic, 0, RD_KAFKA_OFFSET_BEGINNING, NULL);
    void (*pump)(flow *) = produce ? pump_produce : pump_consume;
    f.t0 = rk_now_ms();
    phase(&f, 1, optd(argc, argv, 5, "warmup", 2), optd(argc, argv, 5, "measure", 11), pump);
    if (then) {
        run_cmd(then);
        phase(&f, 2, optd(argc, argv, 5, "warmup2", 3), optd(argc, argv, 5, "measure2", 11), pump);
    }
    print_series(&f);
    fresh_stats(f.rk, &f.st);
    printf("FINAL connects=%" PRId64 " disconnects=%" PRId64 "\n", f.st.connects, f.st.disconnects);
    fflush(stdout);
    if (produce) {
        rd_kafka_purge(f.rk, RD_KAFKA_PURGE_F_QUEUE);
        rd_kafka_flush(f.rk, 10000);
    } else {
        rk_consume_stop(f.rkt, 0);
    }
    rd_kafka_destroy(f.rk);
    free(f.payload);
    return 0;
}

/* ---- latency probe ---- */

typedef struct probe {
    int64_t *sent_us, *lat_us; /* per record */
    int64_t t0_us, window_end_us, delivered, in_window, failed;
    rd_kafka_resp_err_t first_err;
} probe;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void probe_dr(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    probe *p = opaque;
    intptr_t i = (intptr_t)msg->_private;
    int64_t now = now_us();
    if (msg->err) {
        if (!p->failed++)
            p->first_err = msg->err;
        return;
    }
    p->lat_us[p->delivered++] = now - p->sent_us[i];
    p->in_window += now <= p->window_end_us;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(const int64_t *sorted, int64_t n, double pct)
{
    if (n == 0)
        return 0;
    int64_t i = (int64_t)(pct / 100.0 * (double)n + 0.999999) - 1;
    return sorted[i < 0 ? 0 : i >= n ? n - 1 : i] / 1000.0;
}

static int run_probe(int argc, char **argv)
{
    if (argc < 5)
        rk_fail("usage: rk_quota latency-probe BOOTSTRAP AUTH TOPIC [rate=] [size=] [duration=]");
    double rate = optd(argc, argv, 5, "rate", 200), duration = optd(argc, argv, 5, "duration", 10);
    size_t size = (size_t)optd(argc, argv, 5, "size", 1024);
    int64_t total = (int64_t)(rate * duration);
    probe p = {.sent_us = calloc((size_t)total + 1, 8), .lat_us = calloc((size_t)total + 1, 8)};
    char *payload = malloc(size);
    if (!p.sent_us || !p.lat_us || !payload)
        rk_fail("out of memory");
    memset(payload, 'b', size);
    rd_kafka_conf_t *conf = new_conf(argv[2], argv[3], NULL, 0);
    rk_set(conf, "acks", "all");
    rk_set(conf, "linger.ms", "0");
    rk_set(conf, "message.timeout.ms", "30000");
    rd_kafka_conf_set_opaque(conf, &p);
    rd_kafka_conf_set_dr_msg_cb(conf, probe_dr);
    rd_kafka_t *rk = rk_new(RD_KAFKA_PRODUCER, conf);
    /* Connected and the leader known before the clock starts. */
    int64_t deadline = rk_now_ms() + 15000;
    while (!rk_topic_in_metadata(rk, argv[4], 0))
        if (rk_now_ms() > deadline)
            rk_fail("topic %s not in metadata within 15 s", argv[4]);
    p.t0_us = now_us();
    p.window_end_us = p.t0_us + (int64_t)(duration * 1e6);
    for (int64_t i = 0; i < total;) {
        int64_t due = p.t0_us + (int64_t)((double)i * 1e6 / rate), now = now_us();
        if (now < due) {
            rd_kafka_poll(rk, (int)((due - now) / 1000));
            continue;
        }
        p.sent_us[i] = now;
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(argv[4]), RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_VALUE(payload, size),
            RD_KAFKA_V_MSGFLAGS(0), RD_KAFKA_V_OPAQUE((void *)(intptr_t)i), RD_KAFKA_V_END);
        if (err)
            rk_fail("producev: %s", rd_kafka_err2str(err));
        i++;
        rd_kafka_poll(rk, 0);
    }
    while (now_us() < p.window_end_us)
        rd_kafka_poll(rk, 10);
    if (rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        rk_fail("records still unacknowledged 30 s after the last one");
    qsort(p.lat_us, (size_t)p.delivered, sizeof(int64_t), cmp_i64);
    printf("RESULT sent=%" PRId64 " delivered=%" PRId64 " failed=%" PRId64 " rate_mps=%.1f "
           "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
           total, p.delivered, p.failed, (double)p.in_window / duration,
           pct_ms(p.lat_us, p.delivered, 50), pct_ms(p.lat_us, p.delivered, 90),
           pct_ms(p.lat_us, p.delivered, 99), pct_ms(p.lat_us, p.delivered, 100));
    if (p.failed)
        printf("first error: %s\n", rd_kafka_err2name(p.first_err));
    rd_kafka_destroy(rk);
    free(p.sent_us);
    free(p.lat_us);
    free(payload);
    return 0;
}

/* ---- limits ---- */

typedef struct limits {
    stats *stp; /* first: the opaque on_stats reads */
    stats st;
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
    rd_kafka_AdminOptions_t *options;
    const char *bootstrap, *auth;
    char fill_topic[256];
    int64_t fill_count;
    uint64_t fill_sum;
} limits;

static void limits_dr(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    rd_kafka_message_t *out = msg->_private; /* the caller's copy of the report */
    out->err = msg->err;
    out->offset = msg->offset;
}

/* FNV-1a over (offset, value) of each record, in offset order. */
static uint64_t fnv(uint64_t h, int64_t offset, const void *value, size_t len)
{
    const unsigned char *p = value;
    for (int i = 0; i < 8; i++)
        h = (h ^ (uint64_t)((offset >> (8 * i)) & 0xff)) * 1099511628211ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* Record `seq`'s value: its number, then letters that depend on it. */
static void record_value(char *buf, size_t size, int64_t seq)
{
    int n = snprintf(buf, size, "rec-%08" PRId64 "-", seq);
    for (size_t i = (size_t)n; i < size; i++)
        buf[i] = (char)('a' + (uint64_t)(seq * 31 + (int64_t)i * 17) % 26);
}

/* One record; waits for its report. Returns the error, *offset the stored offset. */
static rd_kafka_resp_err_t produce_sync(limits *l, const char *topic, const char *value, size_t len,
                                        int64_t *offset)
{
    rd_kafka_message_t report = {.err = PENDING};
    rd_kafka_resp_err_t err = rd_kafka_producev(
        l->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
        RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_OPAQUE(&report), RD_KAFKA_V_END);
    if (err)
        return err;
    int64_t deadline = rk_now_ms() + 60000; /* message.timeout.ms (10 s) bounds it */
    while (report.err == PENDING) {
        if (rk_now_ms() > deadline)
            rk_fail("no delivery report for %s within 60 s", topic);
        rd_kafka_poll(l->rk, 20);
    }
    if (offset)
        *offset = report.offset;
    return report.err;
}

static rd_kafka_event_t *admin_wait(limits *l, rd_kafka_event_type_t type, const char *what)
{
    int64_t deadline = rk_now_ms() + 30000;
    while (rk_now_ms() < deadline) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(l->queue, 200);
        if (ev && rd_kafka_event_type(ev) == type)
            return ev;
        if (ev)
            rd_kafka_event_destroy(ev);
    }
    rk_fail("%s: no result within 30 s", what);
}

/* Prints "<what> -> NAME (code): message" and checks the code. */
static void expect_code(const char *what, int want, rd_kafka_resp_err_t got, const char *msg)
{
    printf("%s -> %s (%d): %s\n", what, got ? rd_kafka_err2name(got) : "ok", (int)got,
           msg && *msg ? msg : "(no message)");
    fflush(stdout);
    if ((int)got != want)
        rk_fail("%s: expected error %d (%s), got %d (%s): %s", what, want,
                want ? rd_kafka_err2name((rd_kafka_resp_err_t)want) : "ok", (int)got,
                rd_kafka_err2name(got), msg && *msg ? msg : "(no message)");
}

static void topic_step(limits *l, bool create, const char *topic, int count, int want)
{
    char errstr[512], what[512];
    const rd_kafka_topic_result_t **res;
    size_t n = 0;
    rd_kafka_event_t *ev;
    snprintf(what, sizeof(what), "%s %s %d", create ? "CreateTopics" : "CreatePartitions to", topic,
             count);
    if (create) {
        rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, count, 1, errstr, sizeof(errstr));
        if (!nt)
            rk_fail("NewTopic: %s", errstr);
        rd_kafka_CreateTopics(l->rk, &nt, 1, l->options, l->queue);
        rd_kafka_NewTopic_destroy(nt);
        ev = admin_wait(l, RD_KAFKA_EVENT_CREATETOPICS_RESULT, what);
        res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    } else {
        rd_kafka_NewPartitions_t *np =
            rd_kafka_NewPartitions_new(topic, (size_t)count, errstr, sizeof(errstr));
        if (!np)
            rk_fail("NewPartitions: %s", errstr);
        rd_kafka_CreatePartitions(l->rk, &np, 1, l->options, l->queue);
        rd_kafka_NewPartitions_destroy(np);
        ev = admin_wait(l, RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT, what);
        res =
            rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &n);
    }
    rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
    const char *msg = err ? rd_kafka_event_error_string(ev) : NULL;
    if (!err && n == 1) {
        err = rd_kafka_topic_result_error(res[0]);
        msg = rd_kafka_topic_result_error_string(res[0]);
    } else if (!err) {
        rk_fail("%s: %zu topic results, expected 1", what, n);
    }
    expect_code(what, want, err, msg);
    rd_kafka_event_destroy(ev);
}

/* One CreateTopics request for every topic of the comma-separated list. */
static void create_many_step(limits *l, const char *topics, int count, const char *codes)
{
    char list[512], wants[128], errstr[512], what[700];
    rd_kafka_NewTopic_t *nt[8];
    int want[8];
    size_t n = 0, nwant = 0;
    snprintf(list, sizeof(list), "%s", topics);
    snprintf(wants, sizeof(wants), "%s", codes);
    char *save = NULL;
    for (char *t = strtok_r(list, ",", &save); t && n < 8; t = strtok_r(NULL, ",", &save))
        if (!(nt[n++] = rd_kafka_NewTopic_new(t, count, 1, errstr, sizeof(errstr))))
            rk_fail("NewTopic %s: %s", t, errstr);
    save = NULL;
    for (char *c = strtok_r(wants, ",", &save); c && nwant < 8; c = strtok_r(NULL, ",", &save))
        want[nwant++] = atoi(c);
    if (nwant != n)
        rk_fail("createmany: %zu topics but %zu codes", n, nwant);
    rd_kafka_CreateTopics(l->rk, nt, n, l->options, l->queue);
    rd_kafka_NewTopic_destroy_array(nt, n);
    snprintf(what, sizeof(what), "CreateTopics of %s", topics);
    rd_kafka_event_t *ev = admin_wait(l, RD_KAFKA_EVENT_CREATETOPICS_RESULT, what);
    rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
    if (err)
        rk_fail("%s: %s", what, rd_kafka_event_error_string(ev));
    size_t nres = 0;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &nres);
    if (nres != n)
        rk_fail("%s: %zu topic results, expected %zu", what, nres, n);
    /* librdkafka may answer in any order: match by name */
    snprintf(list, sizeof(list), "%s", topics);
    save = NULL;
    size_t i = 0;
    for (char *t = strtok_r(list, ",", &save); t && i < n; t = strtok_r(NULL, ",", &save), i++) {
        for (size_t k = 0; k < nres; k++) {
            if (strcmp(rd_kafka_topic_result_name(res[k]), t) != 0)
                continue;
            snprintf(what, sizeof(what), "CreateTopics %s %d (in one request with %s)", t, count,
                     topics);
            expect_code(what, want[i], rd_kafka_topic_result_error(res[k]),
                        rd_kafka_topic_result_error_string(res[k]));
        }
    }
    rd_kafka_event_destroy(ev);
}

static void fill_step(limits *l, const char *topic, size_t size, int64_t max_bytes)
{
    char *value = malloc(size + 1);
    if (!value)
        rk_fail("out of memory");
    uint64_t sum = 1469598103934665603ULL;
    int64_t count = 0, bytes = 0, offset = -1, t0 = rk_now_ms();
    rd_kafka_resp_err_t err = 0;
    while (!err) {
        if (bytes >= max_bytes || rk_now_ms() - t0 > 60000)
            rk_fail("fill %s: %" PRId64 " records (%" PRId64 " bytes) stored in %.1f s and "
                    "nothing refused yet",
                    topic, count, bytes, (rk_now_ms() - t0) / 1000.0);
        record_value(value, size, count);
        err = produce_sync(l, topic, value, size, &offset);
        if (!err) {
            sum = fnv(sum, offset, value, size);
            count++;
            bytes += (int64_t)size;
        }
    }
    free(value);
    printf("fill %s: stored %" PRId64 " records (%" PRId64 " value bytes) checksum %016" PRIx64
           " in %.1f s\n",
           topic, count, bytes, sum, (rk_now_ms() - t0) / 1000.0);
    expect_code("fill: the refused Produce", RD_KAFKA_RESP_ERR_POLICY_VIOLATION, err,
                rd_kafka_err2str(err));
    snprintf(l->fill_topic, sizeof(l->fill_topic), "%s", topic);
    l->fill_count = count;
    l->fill_sum = sum;
}

static void verify_step(limits *l, const char *topic)
{
    if (strcmp(topic, l->fill_topic) != 0)
        rk_fail("verify %s: no fill of that topic before", topic);
    rd_kafka_conf_t *conf = new_conf(l->bootstrap, l->auth, NULL, 0);
    rk_set(conf, "enable.partition.eof", "true");
    rd_kafka_t *rk = rk_new(RD_KAFKA_CONSUMER, conf);
    rd_kafka_topic_t *rkt = rk_consume_start(rk, topic, 0, RD_KAFKA_OFFSET_BEGINNING, NULL);
    uint64_t sum = 1469598103934665603ULL;
    int64_t count = 0, deadline = rk_now_ms() + 30000;
    for (bool eof = false; !eof;) {
        if (rk_now_ms() > deadline)
            rk_fail("verify %s: %" PRId64 " records read, no end within 30 s", topic, count);
        rd_kafka_message_t *m = rd_kafka_consume(rkt, 0, 200);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            eof = true;
        else if (m->err)
            rk_fail("verify %s: %s", topic, rd_kafka_message_errstr(m));
        else {
            sum = fnv(sum, m->offset, m->payload, m->len);
            count++;
        }
        rd_kafka_message_destroy(m);
    }
    rk_consume_stop(rkt, 0);
    rd_kafka_destroy(rk);
    printf("verify %s: read %" PRId64 " records checksum %016" PRIx64 " (stored: %" PRId64
           " records checksum %016" PRIx64 ")\n",
           topic, count, sum, l->fill_count, l->fill_sum);
    if (count != l->fill_count || sum != l->fill_sum)
        rk_fail("verify %s: the records read back differ from those stored", topic);
}

static void delete_step(limits *l, const char *topic)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = RD_KAFKA_OFFSET_END;
    rd_kafka_DeleteRecords_t *dr = rd_kafka_DeleteRecords_new(parts);
    rd_kafka_DeleteRecords(l->rk, &dr, 1, l->options, l->queue);
    rd_kafka_DeleteRecords_destroy(dr);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_event_t *ev = admin_wait(l, RD_KAFKA_EVENT_DELETERECORDS_RESULT, "DeleteRecords");
    rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
    int64_t low = -1;
    if (!err) {
        const rd_kafka_topic_partition_list_t *res =
            rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
        err = res->cnt == 1 ? res->elems[0].err : RD_KAFKA_RESP_ERR__FAIL;
        low = res->cnt == 1 ? res->elems[0].offset : -1;
    }
    char what[300];
    snprintf(what, sizeof(what),
             "DeleteRecords %s [0] to the high watermark (low watermark now "
             "%" PRId64 ")",
             topic, low);
    expect_code(what, 0, err, err ? rd_kafka_event_error_string(ev) : NULL);
    rd_kafka_event_destroy(ev);
}

static void produce_step(limits *l, const char *topic, int want, int64_t within_ms)
{
    char what[300], value[64];
    int64_t t0 = rk_now_ms(), attempts = 0;
    rd_kafka_resp_err_t err;
    do {
        if (attempts)
            rd_kafka_poll(l->rk, 100);
        snprintf(value, sizeof(value), "after-%" PRId64, attempts++);
        err = produce_sync(l, topic, value, strlen(value), NULL);
    } while ((int)err != want && rk_now_ms() - t0 < within_ms);
    snprintf(what, sizeof(what), "Produce %s (%" PRId64 " attempts, %.2f s)", topic, attempts,
             (rk_now_ms() - t0) / 1000.0);
    expect_code(what, want, err, rd_kafka_err2str(err));
}

static int run_limits(int argc, char **argv)
{
    static limits l;
    char errstr[256];
    l.stp = &l.st;
    l.bootstrap = argv[2];
    l.auth = argv[3];
    rd_kafka_conf_t *conf = new_conf(argv[2], argv[3], &l.st, 500);
    rk_set(conf, "linger.ms", "0");
    rk_set(conf, "message.timeout.ms", "10000");
    rk_set(conf, "enable.sparse.connections", "false");
    rd_kafka_conf_set_opaque(conf, &l);
    rd_kafka_conf_set_dr_msg_cb(conf, limits_dr);
    l.rk = rk_new(RD_KAFKA_PRODUCER, conf);
    l.queue = rd_kafka_queue_new(l.rk);
    l.options = rd_kafka_AdminOptions_new(l.rk, RD_KAFKA_ADMIN_OP_ANY);
    if (rd_kafka_AdminOptions_set_request_timeout(l.options, 20000, errstr, sizeof(errstr)))
        rk_fail("admin options: %s", errstr);
    /* Connected to the learned broker before the first step: the baseline. */
    int64_t deadline = rk_now_ms() + 15000;
    do {
        if (rk_now_ms() > deadline)
            rk_fail("not connected to the learned broker within 15 s");
        fresh_stats(l.rk, &l.st);
    } while (!l.st.learned || l.st.up != l.st.brokers);
    stats mark = l.st;
    for (int i = 4; i < argc; i++) {
        char step[1024], *save = NULL;
        snprintf(step, sizeof(step), "%s", argv[i]);
        if (strncmp(step, "run:", 4) == 0) {
            run_cmd(argv[i] + 4);
            continue;
        }
        const char *verb = strtok_r(step, ":", &save), *a = strtok_r(NULL, ":", &save),
                   *b = strtok_r(NULL, ":", &save), *c = strtok_r(NULL, ":", &save);
        if (!verb || !a)
            rk_fail("step \"%s\": expected VERB:ARGS", argv[i]);
        if ((strcmp(verb, "create") == 0 || strcmp(verb, "partitions") == 0) && b && c)
            topic_step(&l, verb[0] == 'c', a, atoi(b), atoi(c));
        else if (strcmp(verb, "createmany") == 0 && b && c)
            create_many_step(&l, a, atoi(b), c);
        else if (strcmp(verb, "fill") == 0 && b && c)
            fill_step(&l, a, (size_t)atol(b), atoll(c));
        else if (strcmp(verb, "verify") == 0)
            verify_step(&l, a);
        else if (strcmp(verb, "delete") == 0)
            delete_step(&l, a);
        else if (strcmp(verb, "produce") == 0 && b && c)
            produce_step(&l, a, atoi(b), atoll(c));
        else
            rk_fail("step \"%s\": unknown or incomplete", argv[i]);
    }
    fresh_stats(l.rk, &l.st);
    printf("connections: learned broker connects %" PRId64 " -> %" PRId64 ", disconnects %" PRId64
           " -> %" PRId64 "\n",
           mark.connects, l.st.connects, mark.disconnects, l.st.disconnects);
    if (l.st.connects != mark.connects || l.st.disconnects != mark.disconnects)
        rk_fail("the client reconnected during the steps: changes must apply on open connections");
    rd_kafka_AdminOptions_destroy(l.options);
    rd_kafka_queue_destroy(l.queue);
    rd_kafka_destroy(l.rk);
    return 0;
}

/* ---- connections ---- */

typedef struct cclient {
    stats *stp; /* first: the opaque on_stats reads */
    stats st;
    rd_kafka_t *rk;
    int autherrs;
    char autherr[512];
} cclient;

static void cclient_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    cclient *c = opaque;
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION && !c->autherrs++)
        snprintf(c->autherr, sizeof(c->autherr), "%s", reason);
}

static void cclient_open(cclient *c, const char *bootstrap, const char *auth)
{
    c->stp = &c->st;
    rd_kafka_conf_t *conf = new_conf(bootstrap, auth, &c->st, 100);
    rk_set(conf, "enable.sparse.connections", "false");
    rk_set(conf, "reconnect.backoff.ms", "1000");
    rk_set(conf, "reconnect.backoff.max.ms", "1000");
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_error_cb(conf, cclient_error);
    c->rk = rk_new(RD_KAFKA_PRODUCER, conf);
}

static bool cclient_up(const cclient *c)
{
    return c->st.learned && c->st.up == c->st.brokers;
}

/* Polls every client for `ms`; returns the connections up. */
static int poll_all(cclient *cs, int n, int64_t ms)
{
    int64_t end = rk_now_ms() + ms;
    do {
        for (int i = 0; i < n; i++)
            rd_kafka_poll(cs[i].rk, 10);
    } while (rk_now_ms() < end);
    int up = 0;
    for (int i = 0; i < n; i++)
        up += cs[i].st.up;
    return up;
}

/* Opens n clients at once: how many get in, how many are refused. */
static int connections_at_once(char **argv, int n)
{
    static cclient cs[MAX_CLIENTS];
    int refused = 0, first = -1, up = 0;
    for (int i = 0; i < n; i++)
        cclient_open(&cs[i], argv[2], argv[3]);
    int64_t deadline = rk_now_ms() + 5000;
    for (bool settled = false; !settled && rk_now_ms() < deadline;) {
        up = poll_all(cs, n, 100);
        settled = true;
        for (int i = 0; i < n; i++)
            settled = settled && (cclient_up(&cs[i]) || cs[i].autherrs);
    }
    for (int i = 0; i < n; i++) {
        refused += cs[i].autherrs > 0;
        if (cs[i].autherrs && first < 0)
            first = i;
    }
    printf("RESULT clients=%d up=%d refused=%d first=\"%s\"\n", n, up, refused,
           first >= 0 ? cs[first].autherr : "");
    for (int i = 0; i < n; i++)
        rd_kafka_destroy(cs[i].rk);
    return 0;
}

static int run_connections(int argc, char **argv)
{
    static cclient cs[MAX_CLIENTS];
    int max = (int)optd(argc, argv, 4, "max_clients", 12), n = 0, refused = -1;
    const char *then = opt(argc, argv, 4, "then", NULL);
    if (max > MAX_CLIENTS)
        max = MAX_CLIENTS;
    int at_once = (int)optd(argc, argv, 4, "at_once", 0);
    if (at_once > 0)
        return connections_at_once(argv, at_once < MAX_CLIENTS ? at_once : MAX_CLIENTS);
    while (refused < 0 && n < max) {
        cclient_open(&cs[n], argv[2], argv[3]);
        int64_t deadline = rk_now_ms() + 10000;
        while (!cclient_up(&cs[n]) && !cs[n].autherrs) {
            if (rk_now_ms() > deadline)
                rk_fail("client %d: neither connected nor refused within 10 s", n + 1);
            poll_all(cs, n + 1, 50);
        }
        if (cs[n].autherrs)
            refused = n;
        n++;
    }
    if (refused < 0)
        rk_fail("%d clients connected (%d connections) and none was refused", n,
                poll_all(cs, n, 300));
    int up = poll_all(cs, n, 1000); /* settled: no other connection slipped in */
    printf("client %d of %d refused at authentication with %d connections of the tenant up: %s\n",
           refused + 1, n, up, cs[refused].autherr);
    printf("RESULT up=%d refused=\"%s\"\n", up, cs[refused].autherr);
    fflush(stdout);
    if (then) {
        run_cmd(then);
        int64_t deadline = rk_now_ms() + 15000;
        for (bool all = false; !all;) {
            if (rk_now_ms() > deadline)
                rk_fail("after \"%s\": not every client connected within 15 s", then);
            up = poll_all(cs, n, 100);
            all = true;
            for (int i = 0; i < n; i++)
                all = all && cclient_up(&cs[i]);
        }
        printf("after raising the limit: all %d clients connected (%d connections)\n", n, up);
    }
    for (int i = 0; i < n; i++)
        rd_kafka_destroy(cs[i].rk);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *mode = argc > 3 ? argv[1] : "";
    if (strcmp(mode, "produce-rate") == 0 || strcmp(mode, "consume-rate") == 0)
        return run_rate(argc, argv, mode[0] == 'p');
    if (strcmp(mode, "latency-probe") == 0)
        return run_probe(argc, argv);
    if (strcmp(mode, "limits") == 0)
        return run_limits(argc, argv);
    if (strcmp(mode, "connections") == 0)
        return run_connections(argc, argv);
    fprintf(stderr, "usage: rk_quota produce-rate|consume-rate|latency-probe|limits|connections"
                    " BOOTSTRAP AUTH ... (see the source's header)\n");
    return 2;
}
