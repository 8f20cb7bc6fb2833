/*
 * rk_replay: replaying historical data, as librdkafka users do it.
 *
 *   rk_replay produce BOOTSTRAP TOPIC COUNT FIRST_TS
 *       produces COUNT records to partition 0 (acks=all), record i with key "k<i>",
 *       value "v<i>" and CreateTime FIRST_TS + i. Prints "produced <n>".
 *   rk_replay seek BOOTSTRAP TOPIC FIRST_TS TS
 *       the seek-by-timestamp pattern: query the watermarks, ask offsets_for_times for
 *       TS, assign the partition (at the low watermark), seek to the offset found and consume to
 * the high watermark with auto.offset.reset=error (so a silent reset cannot hide lost data). Every
 * record must be the one produced at its offset (value and timestamp FIRST_TS + offset). Prints
 *       "low <l> high <h> offset <o> first <f> last <x> count <n>".
 *       An empty partition (low == high) prints "low <l> high <h> empty" and what
 *       offsets_for_times answered.
 */
#include "rk_util.h"

#include <inttypes.h>

static int produce(const char *bootstrap, const char *topic, int count, int64_t first_ts)
{
    rd_kafka_conf_t *conf = rk_conf(bootstrap);
    rk_set(conf, "acks", "all");
    rk_set(conf, "linger.ms", "5");
    rd_kafka_t *rk = rk_new(RD_KAFKA_PRODUCER, conf);
    for (int i = 0; i < count; i++) {
        char key[32], value[32];
        int klen = snprintf(key, sizeof key, "k%d", i);
        int vlen = snprintf(value, sizeof value, "v%d", i);
        rd_kafka_resp_err_t err;
        while ((err = rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                    RD_KAFKA_V_KEY(key, (size_t)klen), RD_KAFKA_V_VALUE(value, (size_t)vlen),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(first_ts + i),
                    RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 100);
        if (err)
            rk_fail("producev record %d: %s", i, rd_kafka_err2str(err));
        rd_kafka_poll(rk, 0);
    }
    if (rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR || rd_kafka_outq_len(rk) > 0)
        rk_fail("%d records still unacknowledged after 30 s", rd_kafka_outq_len(rk));
    rd_kafka_destroy(rk);
    printf("produced %d\n", count);
    return 0;
}

static int seek_by_time(const char *bootstrap, const char *topic, int64_t first_ts, int64_t ts)
{
    rd_kafka_conf_t *conf = rk_conf(bootstrap);
    rk_set(conf, "group.id", "rk_replay");
    rk_set(conf, "enable.auto.commit", "false");
    rk_set(conf, "auto.offset.reset", "error");
    rk_set(conf, "enable.partition.eof", "true");
    rd_kafka_t *rk = rk_new(RD_KAFKA_CONSUMER, conf);
    rd_kafka_poll_set_consumer(rk);

    int64_t low, high;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic, 0, &low, &high, 10000);
    if (err)
        rk_fail("watermarks of %s [0]: %s", topic, rd_kafka_err2str(err));

    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = ts;
    err = rd_kafka_offsets_for_times(rk, parts, 10000);
    if (err || parts->elems[0].err)
        rk_fail("offsets_for_times(%" PRId64 "): %s", ts,
                rd_kafka_err2str(err ? err : parts->elems[0].err));
    int64_t offset = parts->elems[0].offset;
    if (low == high) {
        printf("low %" PRId64 " high %" PRId64 " empty offsets_for_times %" PRId64 "\n", low, high,
               offset);
        rd_kafka_topic_partition_list_destroy(parts);
        rd_kafka_destroy(rk);
        return 0;
    }
    if (offset < low || offset >= high)
        rk_fail("offsets_for_times(%" PRId64 ") answered %" PRId64 ", outside [%" PRId64
                ", %" PRId64 ")",
                ts, offset, low, high);

    /* assign, then seek: the pattern of an application that positions a running
     * consumer by time. Assigned at an explicit offset (the low watermark), not a
     * logical one, so no offset lookup of librdkafka's own can race the seek. */
    parts->elems[0].offset = low;
    if ((err = rd_kafka_assign(rk, parts)))
        rk_fail("assign: %s", rd_kafka_err2str(err));
    parts->elems[0].offset = offset;
    rd_kafka_error_t *error = rd_kafka_seek_partitions(rk, parts, 10000);
    if (error)
        rk_fail("seek to %" PRId64 ": %s", offset, rd_kafka_error_string(error));
    if (parts->elems[0].err)
        rk_fail("seek to %" PRId64 ": %s", offset, rd_kafka_err2str(parts->elems[0].err));

    int64_t first = -1, last = -1, count = 0, deadline = rk_now_ms() + 30000;
    while (last < high - 1) {
        if (rk_now_ms() > deadline)
            rk_fail("read %" PRId64 " records (last offset %" PRId64 ") in 30 s; high "
                    "watermark %" PRId64,
                    count, last, high);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            continue;
        }
        if (m->err)
            rk_fail("consume after seeking to %" PRId64 ": %s: %s", offset,
                    rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
        rd_kafka_timestamp_type_t type;
        int64_t mts = rd_kafka_message_timestamp(m, &type);
        char want[32];
        int wlen = snprintf(want, sizeof want, "v%" PRId64, m->offset);
        if (first < 0 && m->offset != offset)
            rk_fail("first record at offset %" PRId64 ", sought %" PRId64, m->offset, offset);
        if (first >= 0 && m->offset != last + 1)
            rk_fail("offset %" PRId64 " follows %" PRId64 ": records missing", m->offset, last);
        if (type != RD_KAFKA_TIMESTAMP_CREATE_TIME || mts != first_ts + m->offset)
            rk_fail("offset %" PRId64 ": timestamp %" PRId64 " (type %d), produced %" PRId64,
                    m->offset, mts, (int)type, first_ts + m->offset);
        if (m->len != (size_t)wlen || memcmp(m->payload, want, (size_t)wlen) != 0)
            rk_fail("offset %" PRId64 ": value \"%.*s\", produced \"%s\"", m->offset, (int)m->len,
                    (const char *)m->payload, want);
        if (first < 0)
            first = m->offset;
        last = m->offset;
        count++;
        rd_kafka_message_destroy(m);
    }
    printf("low %" PRId64 " high %" PRId64 " offset %" PRId64 " first %" PRId64 " last %" PRId64
           " count %" PRId64 "\n",
           low, high, offset, first, last, count);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "produce") == 0)
        return produce(argv[2], argv[3], atoi(argv[4]), strtoll(argv[5], NULL, 10));
    if (argc == 6 && strcmp(argv[1], "seek") == 0)
        return seek_by_time(argv[2], argv[3], strtoll(argv[4], NULL, 10),
                            strtoll(argv[5], NULL, 10));
    fprintf(stderr, "usage: rk_replay produce BOOTSTRAP TOPIC COUNT FIRST_TS\n"
                    "       rk_replay seek BOOTSTRAP TOPIC FIRST_TS TS\n");
    return 2;
}
