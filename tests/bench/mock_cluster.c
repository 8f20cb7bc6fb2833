/*
 * mock_cluster: hosts librdkafka's built-in mock cluster (rd_kafka_mock_cluster_new) as
 * a process of its own, so tests/bench/compare.sh can run the same client against it
 * and against straitd. The mock keeps records in memory only; it is the "no disk, no
 * durability" reference the throughput goals compare against.
 *
 *   mock_cluster [--brokers N] [--topic NAME:PARTITIONS]... [--ready-file PATH]
 *
 * Prints the bootstrap servers (one line) on stdout, and to PATH when given, once the
 * listed topics exist, then serves until SIGTERM or SIGINT. The topics are made here
 * because the mock does not serve CreateTopics; a topic not listed is auto-created on
 * first use with the mock's default partition count (4).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static void usage(FILE *out)
{
    fputs("Usage: mock_cluster [--brokers N] [--topic NAME:PARTITIONS]... [--ready-file PATH]\n"
          "Starts librdkafka's mock cluster on 127.0.0.1, prints its bootstrap servers and\n"
          "serves until SIGTERM.\n",
          out);
}

/* Creates "NAME:PARTITIONS". Returns 0 or -1 (message printed). */
static int create_topic(rd_kafka_mock_cluster_t *mc, const char *spec)
{
    const char *colon = strrchr(spec, ':');
    char *end;
    long partitions = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || colon == spec || *end || partitions < 1 || partitions > 100000) {
        fprintf(stderr, "mock_cluster: --topic \"%s\": expected NAME:PARTITIONS, e.g. w3:16\n",
                spec);
        return -1;
    }
    char name[256];
    snprintf(name, sizeof(name), "%.*s", (int)(colon - spec), spec);
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, (int)partitions, 1);
    if (e) {
        fprintf(stderr, "mock_cluster: cannot create topic %s: %s\n", name, rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int brokers = 1, rc = 1;
    const char *ready_file = NULL;
    char err[512];
    rd_kafka_t *rk = NULL;
    rd_kafka_mock_cluster_t *mc = NULL;
    sigset_t sigs;

    /* Blocked before any thread exists, so every librdkafka thread inherits the mask
     * and sigwait below is the one that takes the signal. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc) {
            brokers = atoi(argv[++i]);
            if (brokers < 1 || brokers > 16) {
                fprintf(stderr, "mock_cluster: --brokers must be 1..16\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--ready-file") == 0 && i + 1 < argc) {
            ready_file = argv[++i];
        } else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc) {
            i++; /* created once the cluster exists */
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "mock_cluster: unknown argument \"%s\"\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }

    /* The mock cluster needs an rd_kafka_t for its bookkeeping; this one sends nothing. */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "4", err, sizeof(err));
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        fprintf(stderr, "mock_cluster: cannot create the librdkafka handle: %s\n", err);
        goto out;
    }
    mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "mock_cluster: rd_kafka_mock_cluster_new failed\n");
        goto out;
    }
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--topic") == 0 && create_topic(mc, argv[++i]) != 0)
            goto out;

    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
    printf("%s\n", bootstrap);
    fflush(stdout);
    if (ready_file) {
        /* written whole under a temporary name, so a reader never sees half a line */
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp", ready_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%s\n", bootstrap) < 0 || fclose(f) != 0 ||
            rename(tmp, ready_file) != 0) {
            fprintf(stderr, "mock_cluster: cannot write %s: %s\n", ready_file, strerror(errno));
            goto out;
        }
    }
    int sig = 0;
    sigwait(&sigs, &sig);
    rc = 0;
out:
    if (mc)
        rd_kafka_mock_cluster_destroy(mc);
    if (rk)
        rd_kafka_destroy(rk);
    return rc;
}
