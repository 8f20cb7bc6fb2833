/*
 * strait perf produce|consume|e2e: a load generator in the manner of Kafka's
 * kafka-producer-perf-test and kafka-consumer-perf-test, over librdkafka.
 *
 * produce: K producer threads (each its own librdkafka instance) share --records and
 *   --throughput; the latency is the delivery report's (send call → acknowledged).
 * consume: one consumer reads the topic's partitions from the beginning (assigned,
 *   no group rebalance) until --records, --duration or the end of every partition.
 * e2e: producers as above plus a consumer on the same topic in the same process,
 *   positioned at the end before the first send; each record carries its send time, so
 *   the latency is send call → handed to the consuming application.
 *
 * The tool must cost little next to the broker it measures (both share the machine):
 * the payload is generated once and, for produce, handed to librdkafka without a copy;
 * latencies go into per-thread fixed-bucket histograms (cli_perf_stats.c); the clock
 * starts after every client has connected and learnt the partition leaders.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "tools/cli_perf.h"

static void usage_perf(FILE *out)
{
    fputs("Usage: strait perf produce|consume|e2e --topic T [options]\n"
          "\n"
          "Measures a broker with librdkafka, like kafka-producer-perf-test and\n"
          "kafka-consumer-perf-test. Prints records/s, MB/s (2^20 bytes) and latency\n"
          "percentiles (p50, p99, p99.9, max); a progress line a second goes to stderr.\n"
          "  produce  K producers send --records; latency = delivery report\n"
          "  consume  read the topic from the beginning (no group: every partition\n"
          "           assigned) until --records, --duration or the end of the log;\n"
          "           timed from the first record received\n"
          "  e2e      produce, and consume the same records in the same process;\n"
          "           latency = send call to receipt by the consumer\n"
          "The topic is created first (Kafka CreateTopics) with --partitions and\n"
          "--topic-config; an existing topic is used as it is.\n"
          "\n"
          "Options:\n"
          "  -t, --topic T            topic (required)\n"
          "  -n, --records N          records to send, or to read [produce, e2e: 1000000;\n"
          "                           with --duration: unlimited; consume: to the end]\n"
          "  -s, --record-size B      payload bytes a record [100; e2e: at least 16]\n"
          "  -P, --partitions P       partitions when creating the topic [1]\n"
          "  -c, --topic-config K=V   a config of the created topic (repeatable), e.g.\n"
          "                           --topic-config flush.messages=1\n"
          "  -a, --acks A             all (or -1), 1 or 0 [1]\n"
          "  -z, --compression C      none, gzip, snappy, lz4 or zstd [none]\n"
          "  -l, --linger-ms MS       linger.ms [librdkafka's: 5]\n"
          "  -b, --batch-size B       batch.size in bytes [librdkafka's: 1000000]\n"
          "  -r, --throughput R       records/s over all producers, -1 unlimited [-1]\n"
          "  -d, --duration S         stop sending (or reading) after S seconds [none]\n"
          "  -k, --producers K        producer instances (threads) sharing the work [1]\n"
          "  -q, --quiet              no progress lines\n"
          "      --json               the result as one JSON object (a line) on stdout\n",
          out);
    cli_print_kafka_options(out);
    fputs("                           strait sets message.timeout.ms=30000\n\n", out);
    cli_print_global_options(out);
    fputs("\nExamples:\n"
          "  strait perf produce --topic bench --records 2000000 --record-size 1024 \\\n"
          "      --partitions 16 --acks 1\n"
          "  strait perf e2e --topic lat --record-size 1024 --partitions 16 --acks all \\\n"
          "      --throughput 50000 --duration 10\n"
          "  strait perf consume --topic bench --json\n"
          "Exit status: 0, or 1 if a record failed (or, e2e, never arrived).\n",
          out);
}

/* ---- topic set-up ---- */

/* CreateTopics with --partitions and --topic-config, called when the topic is missing.
 * Returns 0 or -1 (message printed). */
static int create_topic(rd_kafka_t *rk, const perf_opts *o)
{
    char err[512];
    int rc = -1;
    int partitions = o->partitions > 0 ? (int)o->partitions : 1;
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(o->topic, partitions, 1, err, sizeof(err));
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_event_t *ev = NULL;
    if (!nt) {
        cli_fail("cannot create topic %s: %s", o->topic, err);
        goto out;
    }
    for (size_t i = 0; i < o->topic_configs.n; i++) {
        char *name;
        const char *value;
        if (cli_split_kv(o->topic_configs.v[i], &name, &value) != 0)
            continue; /* checked when parsed */
        rd_kafka_resp_err_t e = rd_kafka_NewTopic_set_config(nt, name, value);
        free(name);
        if (e) {
            cli_fail("--topic-config %s: %s", o->topic_configs.v[i], rd_kafka_err2str(e));
            goto out;
        }
    }
    rd_kafka_AdminOptions_set_request_timeout(opts, 15000, err, sizeof(err));
    rd_kafka_AdminOptions_set_operation_timeout(opts, 15000, err, sizeof(err));
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    ev = rd_kafka_queue_poll(q, 20000);
    rd_kafka_resp_err_t e = ev ? rd_kafka_event_error(ev) : RD_KAFKA_RESP_ERR__TIMED_OUT;
    const char *why = ev && e ? rd_kafka_event_error_string(ev) : rd_kafka_err2str(e);
    if (!e) {
        size_t n = 0;
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        const rd_kafka_topic_result_t **tr =
            res ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;
        if (n == 1) {
            e = rd_kafka_topic_result_error(tr[0]);
            why = rd_kafka_topic_result_error_string(tr[0]);
            if (!why)
                why = rd_kafka_err2str(e);
        }
    }
    if (!e || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        rc = 0;
    else /* librdkafka's mock cluster, for one, cannot: create the topic there first */
        cli_fail("cannot create topic %s with %d partitions (Kafka CreateTopics): %s; create "
                 "it another way and run again",
                 o->topic, partitions, why);
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (nt)
        rd_kafka_NewTopic_destroy(nt);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    return rc;
}

/* The topic's partition count from a metadata request for every topic (which, unlike
 * one naming the topic, never auto-creates it): 0 if the broker does not have it, -1
 * (message printed) if no broker answered. */
static int topic_partitions(rd_kafka_t *rk, const char *bootstrap, const char *topic)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, 15000);
    if (e)
        return cli_fail("cannot list the topics of the cluster at %s: %s", bootstrap,
                        rd_kafka_err2str(e)),
               -1;
    int n = 0;
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, topic) == 0 && !md->topics[i].err)
            n = md->topics[i].partition_cnt;
    rd_kafka_metadata_destroy(md);
    return n;
}

/* Waits (bounded) for a topic just created to show up with its partitions. */
static int await_topic(rd_kafka_t *rk, const char *bootstrap, const char *topic)
{
    uint64_t deadline = perf_now_ns() + 15ull * 1000000000u;
    for (;;) {
        int n = topic_partitions(rk, bootstrap, topic);
        if (n != 0)
            return n;
        if (perf_now_ns() > deadline)
            return cli_fail("topic %s was created but is not in the metadata after 15 s", topic),
                   -1;
        struct timespec ts = {0, 100 * 1000000};
        nanosleep(&ts, NULL);
    }
}

static int setup_topic(perf_run *run)
{
    char err[512];
    rd_kafka_conf_t *conf = cli_kafka_conf(run->c, NULL, &run->o->props);
    if (!conf)
        return -1;
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return cli_fail("cannot create the admin client: %s", err), -1;
    }
    int rc = 0;
    run->partitions = topic_partitions(rk, run->c->bootstrap, run->o->topic);
    if (run->partitions == 0 && strcmp(run->o->mode, "consume") == 0) {
        cli_fail("topic %s does not exist: nothing to consume", run->o->topic);
        rc = -1;
    } else if (run->partitions == 0) {
        rc = create_topic(rk, run->o);
        if (rc == 0)
            run->partitions = await_topic(rk, run->c->bootstrap, run->o->topic);
    } else if (run->partitions > 0 && run->o->topic_configs.n > 0) {
        fprintf(stderr, "strait: note: topic %s exists: --topic-config not applied\n",
                run->o->topic);
    }
    if (run->partitions < 0)
        rc = -1;
    if (rc == 0 && run->o->partitions > 0 && run->partitions != run->o->partitions)
        fprintf(stderr, "strait: note: topic %s has %d partitions, not the %lld asked for\n",
                run->o->topic, run->partitions, (long long)run->o->partitions);
    rd_kafka_destroy(rk);
    return rc;
}

/* ---- producers ---- */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    perf_worker *w = opaque;
    uint64_t now = perf_now_ns();
    if (m->err) {
        atomic_fetch_add_explicit(&w->failed, 1, memory_order_relaxed);
        if (w->errors_shown++ < 3)
            cli_fail("record not delivered to %s [%d]: %s", w->run->o->topic, (int)m->partition,
                     rd_kafka_err2str(m->err));
        return;
    }
    perf_hist_record(&w->hist, now - (uint64_t)(uintptr_t)m->_private);
    w->last_ack_ns = now;
    atomic_fetch_add_explicit(&w->delivered, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->delivered_bytes, (int64_t)m->len, memory_order_relaxed);
}

static rd_kafka_t *new_producer(perf_run *run, perf_worker *w)
{
    const perf_opts *o = run->o;
    char linger[32], batch[32], err[512];
    snprintf(linger, sizeof(linger), "%lld", (long long)o->linger_ms);
    snprintf(batch, sizeof(batch), "%lld", (long long)o->batch_size);
    const char *defaults[16] = {"acks",
                                strcmp(o->acks, "all") == 0 ? "-1" : o->acks,
                                "compression.codec",
                                o->compression,
                                "message.timeout.ms",
                                "30000"};
    int n = 6;
    if (o->linger_ms >= 0) {
        defaults[n++] = "linger.ms";
        defaults[n++] = linger;
    }
    if (o->batch_size >= 0) {
        defaults[n++] = "batch.size";
        defaults[n++] = batch;
    }
    defaults[n] = NULL;
    rd_kafka_conf_t *conf = cli_kafka_conf(run->c, defaults, &o->props);
    if (!conf)
        return NULL;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, w);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        cli_fail("cannot create a producer: %s", err);
    }
    return rk;
}

/* Connects and learns the leaders, so the clock measures the steady state. */
static int warm_up(rd_kafka_t *rk, rd_kafka_topic_t *rkt, const char *topic)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 15000);
    if (md)
        rd_kafka_metadata_destroy(md);
    if (e)
        return cli_fail("topic %s: metadata: %s", topic, rd_kafka_err2str(e)), -1;
    return 0;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    nanosleep(&ts, NULL);
}

static void *producer_main(void *arg)
{
    perf_worker *w = arg;
    perf_run *run = w->run;
    size_t len = (size_t)run->o->record_size;
    w->rc = warm_up(w->rk, w->rkt, run->o->topic);
    pthread_barrier_wait(&run->ready);
    pthread_barrier_wait(&run->go); /* run->start_ns is set */
    if (w->rc)
        goto done;
    int flags = 0; /* produce: the shared payload outlives every delivery, no copy */
    const char *value = run->payload;
    if (run->e2e) {
        flags = RD_KAFKA_MSG_F_COPY; /* each record carries its own send time */
        value = w->scratch;
    }
    for (int64_t i = 0; i < w->quota; i++) {
        if (atomic_load_explicit(&run->stop, memory_order_relaxed))
            break;
        if (w->rate > 0) {
            uint64_t due = run->start_ns + (uint64_t)((double)i * 1e9 / w->rate);
            uint64_t now = perf_now_ns();
            if (due > now) {
                rd_kafka_poll(w->rk, 0);
                sleep_ns(due - now);
            }
        }
        uint64_t now = perf_now_ns();
        if (run->e2e) {
            uint64_t head[2] = {now, run->run_id};
            memcpy(w->scratch, head, sizeof(head));
        }
        while (rd_kafka_produce(w->rkt, RD_KAFKA_PARTITION_UA, flags, (void *)value, len, NULL, 0,
                                (void *)(uintptr_t)now) != 0) {
            rd_kafka_resp_err_t e = rd_kafka_last_error();
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                atomic_fetch_add_explicit(&w->failed, 1, memory_order_relaxed);
                if (w->errors_shown++ < 3)
                    cli_fail("cannot send to %s: %s", run->o->topic, rd_kafka_err2str(e));
                break;
            }
            rd_kafka_poll(w->rk, 1); /* deliveries make room */
        }
        atomic_fetch_add_explicit(&w->sent, 1, memory_order_relaxed);
        if ((i & 63) == 0)
            rd_kafka_poll(w->rk, 0);
    }
    /* Every queued record ends in a delivery report within message.timeout.ms. */
    while (rd_kafka_outq_len(w->rk) > 0)
        rd_kafka_poll(w->rk, 50);
done:
    atomic_fetch_sub(&run->producers_left, 1);
    return NULL;
}

/* produce and e2e. */
static int run_produce(perf_run *run, perf_result *res, perf_hist *delivery)
{
    perf_opts *o = run->o;
    int rc = CLI_FAIL;
    int64_t k_count = o->producers;
    pthread_t consumer_thread;
    bool consumer_started = false;
    run->workers = calloc((size_t)k_count, sizeof(perf_worker));
    if (!run->workers)
        return cli_fail("out of memory for %lld producers", (long long)k_count);
    pthread_barrier_init(&run->ready, NULL, (unsigned)k_count + 1);
    pthread_barrier_init(&run->go, NULL, (unsigned)k_count + 1);
    for (int64_t k = 0; k < k_count; k++) {
        perf_worker *w = &run->workers[k];
        w->run = run;
        w->quota = o->records / k_count + (k < o->records % k_count ? 1 : 0);
        w->rate = o->throughput > 0 ? (double)o->throughput / (double)k_count : 0;
        if (run->e2e && !(w->scratch = malloc((size_t)o->record_size)))
            goto out;
        if (run->e2e)
            memcpy(w->scratch, run->payload, (size_t)o->record_size);
        if (!(w->rk = new_producer(run, w)))
            goto out;
        w->rkt = rd_kafka_topic_new(w->rk, o->topic, NULL);
    }
    if (run->e2e) {
        if (!(run->consumer = perf_new_consumer(run)) ||
            perf_assign_all(run, run->consumer, true) != 0)
            goto out;
    }
    atomic_store(&run->producers_left, (int)k_count);
    for (int64_t k = 0; k < k_count; k++) {
        if (pthread_create(&run->workers[k].thread, NULL, producer_main, &run->workers[k])) {
            cli_fail("cannot start producer thread %lld", (long long)k);
            exit(CLI_FAIL); /* the others wait at a barrier that can no longer fill */
        }
        run->workers[k].started = true;
    }
    pthread_barrier_wait(&run->ready);
    for (int64_t k = 0; k < k_count; k++)
        if (run->workers[k].rc)
            atomic_store(&run->stop, true);
    double cpu0 = perf_cpu_seconds();
    run->start_ns = perf_now_ns();
    if (run->e2e) {
        if (pthread_create(&consumer_thread, NULL, perf_e2e_consumer_main, run) == 0)
            consumer_started = true;
        else
            atomic_store(&run->stop, true);
    }
    pthread_barrier_wait(&run->go);

    perf_progress pg = {.last_ns = run->start_ns};
    uint64_t deadline =
        o->duration_s ? run->start_ns + (uint64_t)o->duration_s * 1000000000u : UINT64_MAX;
    for (;;) {
        bool producing = atomic_load(&run->producers_left) > 0;
        if (!producing && (!consumer_started || atomic_load(&run->consumer_done)))
            break;
        sleep_ns(20 * 1000000);
        uint64_t now = perf_now_ns();
        if (now >= deadline)
            atomic_store(&run->stop, true);
        int64_t records = 0, bytes = 0;
        if (run->e2e) {
            records = atomic_load(&run->consumed);
            bytes = atomic_load(&run->consumed_bytes);
        } else {
            for (int64_t k = 0; k < k_count; k++) {
                records += atomic_load(&run->workers[k].delivered);
                bytes += atomic_load(&run->workers[k].delivered_bytes);
            }
        }
        perf_progress_tick(run, &pg, now, run->e2e ? "consumed" : "acknowledged", records, bytes);
    }
    uint64_t end_ns = run->start_ns;
    for (int64_t k = 0; k < k_count; k++) {
        perf_worker *w = &run->workers[k];
        pthread_join(w->thread, NULL);
        w->started = false;
        if (w->rc)
            goto out;
        perf_hist_merge(delivery, &w->hist);
        res->failed += atomic_load(&w->failed);
        res->records += atomic_load(&w->delivered);
        res->bytes += atomic_load(&w->delivered_bytes);
        if (w->last_ack_ns > end_ns)
            end_ns = w->last_ack_ns;
    }
    if (consumer_started) {
        pthread_join(consumer_thread, NULL);
        consumer_started = false;
        res->missing = res->records - atomic_load(&run->consumed);
        if (res->missing < 0)
            res->missing = 0;
        res->records = atomic_load(&run->consumed);
        res->bytes = atomic_load(&run->consumed_bytes);
        if (run->last_consumed_ns > end_ns)
            end_ns = run->last_consumed_ns;
    }
    res->seconds = (double)(end_ns - run->start_ns) / 1e9;
    res->cpu_seconds = perf_cpu_seconds() - cpu0;
    rc = CLI_OK;
out:
    atomic_store(&run->stop, true);
    for (int64_t k = 0; k < k_count; k++) {
        perf_worker *w = &run->workers[k];
        if (w->started)
            pthread_join(w->thread, NULL);
        if (w->rkt)
            rd_kafka_topic_destroy(w->rkt);
        if (w->rk)
            rd_kafka_destroy(w->rk);
        free(w->scratch);
    }
    if (consumer_started)
        pthread_join(consumer_thread, NULL);
    if (run->consumer) {
        rd_kafka_consumer_close(run->consumer);
        rd_kafka_destroy(run->consumer);
    }
    free(run->workers);
    pthread_barrier_destroy(&run->ready);
    pthread_barrier_destroy(&run->go);
    return rc;
}

/* ---- command line ---- */

static int parse_choice(const cli_ctx *c, const char *opt, const char *value,
                        const char *const *choices, const char **out)
{
    for (const char *const *ch = choices; *ch; ch++)
        if (strcmp(value, *ch) == 0) {
            *out = strcmp(value, "-1") == 0 ? "all" : *ch;
            return 0;
        }
    char list[128] = "";
    for (const char *const *ch = choices; *ch; ch++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
                 ch == choices ? "" : ", ", *ch);
    cli_usage_error(c, "%s: \"%s\" is not one of %s", opt, value, list);
    return -1;
}

static int parse_opts(cli_ctx *c, int argc, char **argv, perf_opts *o)
{
    static const struct option longopts[] = {
        {"topic", required_argument, NULL, 't'},
        {"records", required_argument, NULL, 'n'},
        {"record-size", required_argument, NULL, 's'},
        {"partitions", required_argument, NULL, 'P'},
        {"topic-config", required_argument, NULL, 'c'},
        {"acks", required_argument, NULL, 'a'},
        {"compression", required_argument, NULL, 'z'},
        {"linger-ms", required_argument, NULL, 'l'},
        {"batch-size", required_argument, NULL, 'b'},
        {"throughput", required_argument, NULL, 'r'},
        {"duration", required_argument, NULL, 'd'},
        {"producers", required_argument, NULL, 'k'},
        {"quiet", no_argument, NULL, 'q'},
        {"property", required_argument, NULL, 'X'},
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    static const char *const acks[] = {"all", "-1", "0", "1", NULL};
    static const char *const codecs[] = {"none", "gzip", "snappy", "lz4", "zstd", NULL};
    int opt;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "t:n:s:P:c:a:z:l:b:r:d:k:qX:", longopts)) !=
           CLI_GETOPT_END) {
        int bad = 0;
        switch (opt) {
        case CLI_GETOPT_HELP:
            return 1;
        case 't':
            o->topic = optarg;
            break;
        case 'n':
            bad = cli_parse_int(c, "--records", optarg, 1, INT64_MAX, &o->records);
            break;
        case 's':
            bad = cli_parse_int(c, "--record-size", optarg, 0, 100 * 1024 * 1024, &o->record_size);
            break;
        case 'P':
            bad = cli_parse_int(c, "--partitions", optarg, 1, 100000, &o->partitions);
            break;
        case 'c': {
            char *name;
            const char *value;
            if (cli_split_kv(optarg, &name, &value) != 0)
                return cli_usage_error(c, "--topic-config \"%s\": expected NAME=VALUE", optarg), -1;
            free(name);
            bad = cli_list_add(&o->topic_configs, optarg);
            break;
        }
        case 'a':
            bad = parse_choice(c, "--acks", optarg, acks, &o->acks);
            break;
        case 'z':
            bad = parse_choice(c, "--compression", optarg, codecs, &o->compression);
            break;
        case 'l':
            bad = cli_parse_int(c, "--linger-ms", optarg, 0, 900000, &o->linger_ms);
            break;
        case 'b':
            bad = cli_parse_int(c, "--batch-size", optarg, 1, INT32_MAX, &o->batch_size);
            break;
        case 'r':
            bad = cli_parse_int(c, "--throughput", optarg, -1, INT64_MAX, &o->throughput);
            if (!bad && o->throughput == 0)
                return cli_usage_error(c, "--throughput: 0 would send nothing (-1 is unlimited)"),
                       -1;
            break;
        case 'd':
            bad = cli_parse_int(c, "--duration", optarg, 1, 86400, &o->duration_s);
            break;
        case 'k':
            bad = cli_parse_int(c, "--producers", optarg, 1, 1000, &o->producers);
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'X':
            bad = cli_kafka_prop_add(c, &o->props, optarg);
            break;
        default: /* CLI_GETOPT_ERROR: already reported */
            return -1;
        }
        if (bad)
            return -1;
    }
    if (optind < argc)
        return cli_usage_error(c, "unexpected argument \"%s\"", argv[optind]), -1;
    if (!o->topic)
        return cli_usage_error(c, "--topic is required"), -1;
    bool consume = strcmp(o->mode, "consume") == 0;
    if (strcmp(o->mode, "e2e") == 0 && o->record_size < PERF_E2E_HEADER)
        return cli_usage_error(c,
                               "--record-size %lld is too small for e2e: each record carries "
                               "its send time and run id in its first %d bytes",
                               (long long)o->record_size, PERF_E2E_HEADER),
               -1;
    if (o->records < 0 && !consume)
        o->records = o->duration_s ? INT64_MAX : 1000000;
    return 0;
}

int cli_perf_main(cli_ctx *c, int argc, char **argv)
{
    perf_opts o = {.records = -1,
                   .record_size = 100,
                   .acks = "1",
                   .compression = "none",
                   .linger_ms = -1,
                   .batch_size = -1,
                   .throughput = -1,
                   .producers = 1};
    perf_run run = {.c = c, .o = &o};
    perf_hist *latency = NULL, *delivery = NULL;
    char *payload = NULL;
    int rc = CLI_USAGE;

    c->prog = "strait perf";
    c->usage = usage_perf;
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
            usage_perf(stdout);
            return CLI_OK;
        }
        return cli_usage_error(c, "perf needs a mode: produce, consume or e2e");
    }
    o.mode = argv[1];
    if (strcmp(o.mode, "produce") && strcmp(o.mode, "consume") && strcmp(o.mode, "e2e"))
        return cli_usage_error(c, "unknown perf mode \"%s\" (one of: produce, consume, e2e)",
                               o.mode);
    int p = parse_opts(c, argc - 1, argv + 1, &o);
    if (p != 0) {
        rc = p > 0 ? CLI_OK : CLI_USAGE;
        goto out;
    }

    rc = CLI_FAIL;
    run.e2e = strcmp(o.mode, "e2e") == 0;
    struct timespec seed;
    clock_gettime(CLOCK_REALTIME, &seed);
    run.run_id = PERF_MAGIC ^ ((uint64_t)seed.tv_nsec << 20) ^ (uint64_t)seed.tv_sec;
    /* Random letters, as Kafka's tool sends: compressible like text, not like zeros. */
    payload = malloc((size_t)o.record_size + 1);
    latency = calloc(1, sizeof(perf_hist));
    delivery = calloc(1, sizeof(perf_hist));
    if (!payload || !latency || !delivery) {
        cli_fail("out of memory");
        goto out;
    }
    unsigned rnd = (unsigned)seed.tv_nsec | 1u;
    for (int64_t i = 0; i < o.record_size; i++) {
        rnd = rnd * 1103515245u + 12345u;
        payload[i] = (char)('A' + (rnd >> 16) % 26);
    }
    run.payload = payload;
    if (setup_topic(&run) != 0)
        goto out;

    perf_result res = {.mode = o.mode,
                       .topic = o.topic,
                       .partitions = run.partitions,
                       .producers = strcmp(o.mode, "consume") == 0 ? 0 : (int)o.producers,
                       .record_size = (int)o.record_size};
    if (strcmp(o.mode, "consume") == 0) {
        rc = perf_run_consume(&run, &res);
    } else {
        rc = run_produce(&run, &res, delivery);
        if (run.e2e) {
            perf_hist_merge(latency, &run.e2e_hist);
            res.latency = latency;
            res.delivery = delivery;
        } else {
            res.latency = delivery;
        }
    }
    if (rc != CLI_OK)
        goto out;
    if (c->json)
        perf_print_json(&res, stdout);
    else
        perf_print_summary(&res, stdout);
    if (res.failed || res.missing)
        rc = CLI_FAIL;
out:
    free(payload);
    free(latency);
    free(delivery);
    cli_list_free(&o.props);
    cli_list_free(&o.topic_configs);
    return rc;
}
