/*
 * Small helpers shared by the librdkafka test programs (rk_*.c): fail loudly, build a
 * client configuration, wait for a condition with a bound. Header-only so each program
 * stays a single source file; every program is its own executable.
 */
#ifndef ST_RK_UTIL_H
#define ST_RK_UTIL_H

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Prints "<prog>: FAIL: <message>" on stderr and exits 1: a test program's verdict. */
static inline void __attribute__((noreturn, format(printf, 1, 2))) rk_fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: FAIL: ", program_invocation_short_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static inline int64_t rk_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sets one property or fails the test naming it. Borrows conf. */
static inline void rk_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char err[512];
    if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) != RD_KAFKA_CONF_OK)
        rk_fail("config %s=%s: %s", name, value, err);
}

/* A new configuration for `bootstrap`; the caller passes it to rk_new. The broker only
 * listens on loopback and runs one node, so metadata refreshes can be quick. */
static inline rd_kafka_conf_t *rk_conf(const char *bootstrap)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rk_set(conf, "bootstrap.servers", bootstrap);
    rk_set(conf, "client.id", program_invocation_short_name);
    rk_set(conf, "topic.metadata.refresh.interval.ms", "1000");
    const char *debug = getenv("RK_DEBUG"); /* e.g. RK_DEBUG=protocol,broker */
    if (debug && *debug)
        rk_set(conf, "debug", debug);
    return conf;
}

/* Creates a client; takes ownership of conf. Returns a new handle. */
static inline rd_kafka_t *rk_new(rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));
    if (!rk)
        rk_fail("rd_kafka_new: %s", err);
    return rk;
}

/* True if the topic is in the broker's metadata (with `partitions` partitions when
 * partitions > 0). */
static inline int rk_topic_in_metadata(rd_kafka_t *rk, const char *topic, int partitions)
{
    const struct rd_kafka_metadata *md = NULL;
    int found = 0;
    if (rd_kafka_metadata(rk, 1, NULL, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    for (int i = 0; i < md->topic_cnt; i++) {
        const struct rd_kafka_metadata_topic *t = &md->topics[i];
        if (strcmp(t->topic, topic) == 0 && t->err == RD_KAFKA_RESP_ERR_NO_ERROR)
            found = partitions <= 0 || t->partition_cnt == partitions;
    }
    rd_kafka_metadata_destroy(md);
    return found;
}

/*
 * Reading without consumer groups: the partition consumer (rd_kafka_consume_start at an
 * explicit offset), the path `kcat -C` without -G takes. These programs check the data
 * path without involving the group coordinator (librdkafka's assign() would need a
 * group.id); group consumption is tested by test_group_rebalance.sh and
 * test_kafkajs_group.sh.
 *
 * Starts reading topic/partition at `offset` (a real offset or RD_KAFKA_OFFSET_BEGINNING).
 * Returns the topic handle, owned by the caller (rk_consume_stop releases it).
 */
static inline rd_kafka_topic_t *rk_consume_start(rd_kafka_t *rk, const char *topic,
                                                 int32_t partition, int64_t offset,
                                                 rd_kafka_topic_conf_t *tconf)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, tconf);
    if (!rkt)
        rk_fail("topic %s: %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
    if (rd_kafka_consume_start(rkt, partition, offset) == -1)
        rk_fail("consume_start %s [%d] at %lld: %s", topic, (int)partition, (long long)offset,
                rd_kafka_err2str(rd_kafka_last_error()));
    return rkt;
}

/* Stops reading and releases the topic handle (takes ownership of rkt). */
static inline void rk_consume_stop(rd_kafka_topic_t *rkt, int32_t partition)
{
    rd_kafka_consume_stop(rkt, partition);
    rd_kafka_topic_destroy(rkt);
}

#endif
