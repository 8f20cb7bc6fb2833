/*
 * rk_offset_reset MODE BOOTSTRAP TOPIC PARTITION
 *
 *   watermarks  prints "<low> <high>" (ListOffsets through query_watermark_offsets),
 *               read_uncommitted: high is the end of the log
 *   watermarks-committed  the same read_committed (librdkafka's default): high is the
 *               last stable offset
 *   earliest    reads from offset 0 with auto.offset.reset=earliest; offset 0 must be
 *               gone (low watermark > 0): the consumer must land on the new log start
 *               and read every record from there to the high watermark, contiguously.
 *               Prints "first <offset> last <offset> count <n>".
 *   error       reads from offset 0 with auto.offset.reset=error: the consumer must be
 *               told the offset is out of range (and receive no record). Prints the error.
 *
 * Used by the retention test after old segments were deleted.
 */
#include "rk_util.h"

#include <inttypes.h>
#include <stdbool.h>

static void watermarks(rd_kafka_t *rk, const char *topic, int32_t partition, int64_t *low,
                       int64_t *high)
{
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(rk, topic, partition, low, high, 10000);
    if (err)
        rk_fail("watermarks of %s [%d]: %s", topic, (int)partition, rd_kafka_err2str(err));
}

/* A consumer whose topic handle uses auto.offset.reset=`reset`. */
static rd_kafka_topic_t *start_at_zero(rd_kafka_t *rk, const char *topic, int32_t partition,
                                       const char *reset)
{
    char err[256];
    rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
    if (rd_kafka_topic_conf_set(tconf, "auto.offset.reset", reset, err, sizeof(err)) !=
        RD_KAFKA_CONF_OK)
        rk_fail("auto.offset.reset=%s: %s", reset, err);
    return rk_consume_start(rk, topic, partition, 0, tconf);
}

static int read_earliest(rd_kafka_t *rk, const char *topic, int32_t partition)
{
    int64_t low, high;
    watermarks(rk, topic, partition, &low, &high);
    if (low <= 0)
        rk_fail("precondition: low watermark of %s [%d] is %" PRId64 ", expected > 0 "
                "(retention should have deleted the first segment)",
                topic, (int)partition, low);

    rd_kafka_topic_t *rkt = start_at_zero(rk, topic, partition, "earliest");
    int64_t first = -1, last = -1, count = 0;
    int64_t deadline = rk_now_ms() + 30000;
    while (last < high - 1) {
        if (rk_now_ms() > deadline)
            rk_fail("read %" PRId64 " records (last offset %" PRId64 ") in 30 s; high "
                    "watermark is %" PRId64,
                    count, last, high);
        rd_kafka_message_t *m = rd_kafka_consume(rkt, partition, 500);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            continue;
        }
        if (m->err)
            rk_fail("consume error with auto.offset.reset=earliest: %s",
                    rd_kafka_message_errstr(m));
        if (first < 0) {
            first = m->offset;
            if (first < low)
                rk_fail("first record at offset %" PRId64 ", below the low watermark %" PRId64,
                        first, low);
        } else if (m->offset != last + 1) {
            rk_fail("offset %" PRId64 " follows %" PRId64 ": records missing", m->offset, last);
        }
        last = m->offset;
        count++;
        rd_kafka_message_destroy(m);
    }
    rk_consume_stop(rkt, partition);
    printf("first %" PRId64 " last %" PRId64 " count %" PRId64 "\n", first, last, count);
    return 0;
}

static int read_error(rd_kafka_t *rk, const char *topic, int32_t partition)
{
    rd_kafka_topic_t *rkt = start_at_zero(rk, topic, partition, "error");
    int64_t deadline = rk_now_ms() + 30000;
    for (;;) {
        if (rk_now_ms() > deadline)
            rk_fail("no out-of-range error within 30 s with auto.offset.reset=error");
        rd_kafka_message_t *m = rd_kafka_consume(rkt, partition, 500);
        if (!m)
            continue;
        rd_kafka_resp_err_t err = m->err;
        if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            continue;
        }
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            rk_fail("got a record at offset %" PRId64 " although offset 0 is out of range and "
                    "auto.offset.reset=error",
                    m->offset);
        /* librdkafka reports the broker's OFFSET_OUT_OF_RANGE as _AUTO_OFFSET_RESET
         * ("... Broker: Offset out of range") when the reset policy is "error". */
        if (err != RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET &&
            err != RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE)
            rk_fail("expected an offset-out-of-range error, got %s: %s", rd_kafka_err2name(err),
                    rd_kafka_message_errstr(m));
        printf("%s: %s\n", rd_kafka_err2name(err), rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        break;
    }
    rk_consume_stop(rkt, partition);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: rk_offset_reset watermarks|watermarks-committed|earliest|error "
                        "BOOTSTRAP TOPIC PARTITION\n");
        return 2;
    }
    const char *mode = argv[1], *topic = argv[3];
    int32_t partition = atoi(argv[4]);
    rd_kafka_conf_t *conf = rk_conf(argv[2]);
    bool committed = strcmp(mode, "watermarks-committed") == 0;
    rk_set(conf, "isolation.level", committed ? "read_committed" : "read_uncommitted");
    rd_kafka_t *rk = rk_new(RD_KAFKA_CONSUMER, conf);
    int rc = 2;
    if (committed || strcmp(mode, "watermarks") == 0) {
        int64_t low, high;
        watermarks(rk, topic, partition, &low, &high);
        printf("%" PRId64 " %" PRId64 "\n", low, high);
        rc = 0;
    } else if (strcmp(mode, "earliest") == 0) {
        rc = read_earliest(rk, topic, partition);
    } else if (strcmp(mode, "error") == 0) {
        rc = read_error(rk, topic, partition);
    } else {
        fprintf(stderr, "rk_offset_reset: unknown mode \"%s\"\n", mode);
    }
    rd_kafka_destroy(rk);
    return rc;
}
