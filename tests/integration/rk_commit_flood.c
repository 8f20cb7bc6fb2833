/*
 * rk_commit_flood BOOTSTRAP GROUP TOPIC COUNT [FIRST]
 *
 * Commits offsets FIRST+1 .. FIRST+COUNT [FIRST 0] for TOPIC partition 0 in group GROUP,
 * one OffsetCommit request each (librdkafka async commits, at most 256 in flight), as
 * fast as the broker answers: the load that makes __consumer_offsets grow without bound
 * unless it is compacted. The partition is assigned (manual assign, no subscription).
 * Then reads the committed offset back with rd_kafka_committed() and requires it to be
 * FIRST+COUNT. Prints "commits C failed F committed O seconds S" on stdout.
 *
 *   rk_commit_flood BOOTSTRAP GROUP TOPIC committed  → prints the committed offset only
 */
#include "rk_util.h"

#include <stdbool.h>

#define MAX_IN_FLIGHT 256

typedef struct progress {
    long done;
    long failed;
    rd_kafka_resp_err_t first_error;
} progress;

static void commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    progress *pr = opaque;
    pr->done++;
    if (!err && offsets && offsets->cnt > 0)
        err = offsets->elems[0].err;
    if (err) {
        if (!pr->failed)
            pr->first_error = err;
        pr->failed++;
    }
}

static int64_t committed(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0);
    rd_kafka_resp_err_t err = rd_kafka_committed(rk, parts, 30000);
    if (err || parts->elems[0].err)
        rk_fail("committed() for %s [0]: %s", topic,
                rd_kafka_err2str(err ? err : parts->elems[0].err));
    int64_t off = parts->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(parts);
    return off;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: rk_commit_flood BOOTSTRAP GROUP TOPIC COUNT [FIRST]\n"
                        "       rk_commit_flood BOOTSTRAP GROUP TOPIC committed\n");
        return 2;
    }
    const char *topic = argv[3];
    bool only_read = strcmp(argv[4], "committed") == 0;
    long count = only_read ? 0 : atol(argv[4]);
    long first = argc == 6 ? atol(argv[5]) : 0;
    if (!only_read && count <= 0)
        rk_fail("COUNT must be positive, not \"%s\"", argv[4]);

    progress pr = {0};
    rd_kafka_conf_t *conf = rk_conf(argv[1]);
    rk_set(conf, "group.id", argv[2]);
    rk_set(conf, "enable.auto.commit", "false");
    rk_set(conf, "enable.auto.offset.store", "false");
    rd_kafka_conf_set_offset_commit_cb(conf, commit_cb);
    rd_kafka_conf_set_opaque(conf, &pr);
    rd_kafka_t *rk = rk_new(RD_KAFKA_CONSUMER, conf);
    rd_kafka_poll_set_consumer(rk);

    if (only_read) {
        printf("%lld\n", (long long)committed(rk, topic));
        rd_kafka_destroy(rk);
        return 0;
    }

    rd_kafka_topic_partition_list_t *assignment = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(assignment, topic, 0)->offset = RD_KAFKA_OFFSET_END;
    rd_kafka_resp_err_t err = rd_kafka_assign(rk, assignment);
    rd_kafka_topic_partition_list_destroy(assignment);
    if (err)
        rk_fail("assign %s [0]: %s", topic, rd_kafka_err2str(err));

    int64_t start = rk_now_ms();
    rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(offsets, topic, 0);
    for (long i = 1; i <= count; i++) {
        while (i - 1 - pr.done >= MAX_IN_FLIGHT) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 10);
            if (m)
                rd_kafka_message_destroy(m);
        }
        tp->offset = first + i;
        err = rd_kafka_commit(rk, offsets, 1);
        if (err)
            rk_fail("commit of offset %ld: %s", first + i, rd_kafka_err2str(err));
        if (pr.failed)
            rk_fail("commit failed after %ld commits: %s", pr.done,
                    rd_kafka_err2str(pr.first_error));
    }
    int64_t deadline = rk_now_ms() + 120000;
    while (pr.done < count && rk_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 10);
        if (m)
            rd_kafka_message_destroy(m);
    }
    rd_kafka_topic_partition_list_destroy(offsets);
    double seconds = (double)(rk_now_ms() - start) / 1000.0;
    if (pr.done < count)
        rk_fail("only %ld of %ld commits answered within 120 s", pr.done, count);
    if (pr.failed)
        rk_fail("%ld of %ld commits failed, the first with %s", pr.failed, count,
                rd_kafka_err2str(pr.first_error));
    int64_t got = committed(rk, topic);
    printf("commits %ld failed %ld committed %lld seconds %.1f\n", pr.done, pr.failed,
           (long long)got, seconds);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (got != first + count)
        rk_fail("committed offset of %s [0] is %lld, expected %ld", topic, (long long)got,
                first + count);
    return 0;
}
