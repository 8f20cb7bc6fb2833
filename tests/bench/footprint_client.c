/*
 * footprint_client: the load side of tests/bench/footprint.sh.
 *
 *   footprint_client topics BOOTSTRAP COUNT PREFIX [PARTITIONS]
 *       creates PREFIX0 .. PREFIX<COUNT-1>, PARTITIONS partitions each (default 1), with
 *       Kafka CreateTopics in requests of 500 topics; prints "created N" (topics before
 *       the first failure) and exits 1 naming the first topic that failed.
 *   footprint_client conns HOST PORT COUNT
 *       opens COUNT connections, completes an ApiVersions exchange on each (so the
 *       broker has set each one up as a client would), prints "ready COUNT", and holds
 *       them idle until SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#define TOPICS_PER_REQUEST 500
#define IO_TIMEOUT_MS      10000

static int create_topics(const char *bootstrap, long count, const char *prefix, int partitions)
{
    char err[512];
    int rc = 1;
    long created = 0;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err)) != 0) {
        fprintf(stderr, "footprint_client: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return 2;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "footprint_client: %s\n", err);
        return 1;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_NewTopic_t *batch[TOPICS_PER_REQUEST];
    for (long first = 0; first < count; first += TOPICS_PER_REQUEST) {
        size_t n = 0;
        for (long i = first; i < count && n < TOPICS_PER_REQUEST; i++) {
            char name[256];
            snprintf(name, sizeof(name), "%s%ld", prefix, i);
            batch[n++] = rd_kafka_NewTopic_new(name, partitions, 1, err, sizeof(err));
        }
        rd_kafka_AdminOptions_t *opts =
            rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        rd_kafka_AdminOptions_set_request_timeout(opts, 60000, err, sizeof(err));
        rd_kafka_CreateTopics(rk, batch, n, opts, q);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 90000);
        rd_kafka_AdminOptions_destroy(opts);
        rd_kafka_NewTopic_destroy_array(batch, n);
        if (!ev || rd_kafka_event_error(ev)) {
            fprintf(stderr, "footprint_client: CreateTopics of %s%ld.. failed: %s\n", prefix, first,
                    ev ? rd_kafka_event_error_string(ev) : "no answer within 90 s");
            if (ev)
                rd_kafka_event_destroy(ev);
            goto out;
        }
        size_t cnt = 0;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
        for (size_t i = 0; i < cnt; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
            if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                fprintf(stderr, "footprint_client: topic %s: %s\n",
                        rd_kafka_topic_result_name(res[i]),
                        rd_kafka_topic_result_error_string(res[i]));
                rd_kafka_event_destroy(ev);
                goto out;
            }
            created++;
        }
        rd_kafka_event_destroy(ev);
    }
    rc = 0;
out:
    printf("created %ld\n", created); /* footprint.sh measures what exists, even on failure */
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}

/* Reads exactly len bytes within IO_TIMEOUT_MS. */
static int read_full(int fd, unsigned char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, IO_TIMEOUT_MS) != 1)
            return -1;
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

/* One connection with an ApiVersions v0 round trip. Returns the socket or -1. */
static int open_conn(const struct sockaddr_in *addr)
{
    static const unsigned char req[] = {0, 0, 0, 16, 0,   18,  0,   0,   0,   0,
                                        0, 1, 0, 6,  'i', 'd', 'l', 'e', 'r', 's'};
    unsigned char head[4], body[4096];
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) != 0 ||
        write(fd, req, sizeof(req)) != (ssize_t)sizeof(req) || read_full(fd, head, 4) != 0)
        goto fail;
    unsigned size = (unsigned)head[0] << 24 | head[1] << 16 | head[2] << 8 | head[3];
    if (size > sizeof(body) || read_full(fd, body, size) != 0)
        goto fail;
    return fd;
fail:
    if (fd >= 0)
        close(fd);
    return -1;
}

static int hold_conns(const char *host, int port, long count)
{
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "footprint_client: \"%s\" is not an IPv4 address\n", host);
        return 2;
    }
    int *fds = calloc((size_t)count, sizeof(int));
    if (!fds)
        return 1;
    for (long i = 0; i < count; i++) {
        fds[i] = open_conn(&addr);
        if (fds[i] < 0) {
            fprintf(stderr, "footprint_client: connection %ld of %ld to %s:%d failed: %s\n", i + 1,
                    count, host, port, strerror(errno));
            return 1;
        }
    }
    printf("ready %ld\n", count);
    fflush(stdout);
    int sig;
    sigwait(&sigs, &sig);
    for (long i = 0; i < count; i++)
        close(fds[i]);
    free(fds);
    return 0;
}

int main(int argc, char **argv)
{
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "topics") == 0) {
        int partitions = argc == 6 ? atoi(argv[5]) : 1;
        if (partitions < 1 || partitions > 10000) {
            fprintf(stderr, "footprint_client: PARTITIONS must be 1..10000\n");
            return 2;
        }
        return create_topics(argv[2], atol(argv[3]), argv[4], partitions);
    }
    if (argc == 5 && strcmp(argv[1], "conns") == 0)
        return hold_conns(argv[2], atoi(argv[3]), atol(argv[4]));
    fprintf(stderr, "Usage: footprint_client topics BOOTSTRAP COUNT PREFIX [PARTITIONS]\n"
                    "       footprint_client conns HOST PORT COUNT\n");
    return 2;
}
