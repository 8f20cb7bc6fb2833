/*
 * strait perf: the consuming side — `perf consume`, and the consumer thread of `perf
 * e2e`. Partitions are assigned directly rather than joined through a group, so no
 * rebalance falls inside the measured time; messages are taken up to PERF_BATCH at a
 * time from the consumer queue, which costs the tool less than a poll per message.
 * e2e never waits for a batch to fill (see take_available): a record is stamped as
 * received as soon as librdkafka hands it over.
 */
#include <stdlib.h>
#include <string.h>

#include "tools/cli_perf.h"

rd_kafka_t *perf_new_consumer(perf_run *run)
{
    char err[512], group[64];
    /* A group id only because librdkafka's consumer API wants one: partitions are
     * assigned, never joined, and nothing is committed. consume needs the end-of-
     * partition events to know when it has read everything; e2e does not, and with
     * them a consumer kept at the end of every partition got an extra event after
     * nearly every fetch. The fetch settings are librdkafka's own (fetch.min.bytes=1,
     * fetch.wait.max.ms=500: the broker answers a waiting fetch as soon as a record is
     * appended, so the wait only bounds an idle fetch); -X overrides any of them. */
    snprintf(group, sizeof(group), "strait-perf-%llx", (unsigned long long)run->run_id);
    const char *defaults[] = {"group.id",
                              group,
                              "enable.auto.commit",
                              "false",
                              "enable.auto.offset.store",
                              "false",
                              "enable.partition.eof",
                              run->e2e ? "false" : "true",
                              NULL};
    rd_kafka_conf_t *conf = cli_kafka_conf(run->c, defaults, &run->o->props);
    if (!conf)
        return NULL;
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        cli_fail("cannot create the consumer: %s", err);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

/* Assigns every partition, at the beginning (consume) or at the current end (e2e, so
 * only this run's records are seen). Returns 0 or -1. */
int perf_assign_all(perf_run *run, rd_kafka_t *rk, bool at_end)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(run->partitions);
    int rc = -1;
    for (int p = 0; p < run->partitions; p++) {
        int64_t offset = RD_KAFKA_OFFSET_BEGINNING, low, high;
        if (at_end) {
            rd_kafka_resp_err_t e =
                rd_kafka_query_watermark_offsets(rk, run->o->topic, p, &low, &high, 10000);
            if (e) {
                cli_fail("%s [%d]: cannot read the end offset: %s", run->o->topic, p,
                         rd_kafka_err2str(e));
                goto out;
            }
            offset = high;
        }
        rd_kafka_topic_partition_list_add(l, run->o->topic, p)->offset = offset;
    }
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, l);
    if (e)
        cli_fail("cannot assign %s: %s", run->o->topic, rd_kafka_err2str(e));
    else
        rc = 0;
out:
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* Fetch errors other than the end of a partition: reported, not counted. */
static void consume_error(perf_run *run, const rd_kafka_message_t *m)
{
    cli_fail("consuming %s [%d]: %s", run->o->topic, (int)m->partition, rd_kafka_message_errstr(m));
}

/* Waits (up to 100 ms) for one message, then takes whatever else is already queued,
 * without waiting. rd_kafka_consume_batch_queue returns only when the batch is full or
 * its timeout has passed: asked for PERF_BATCH messages at once, it held the first
 * record of a batch back until 1024 had arrived (20 ms at 50,000 records/s) or 100 ms
 * went by, and e2e, which stamps a record's receipt when the call returns, measured
 * that wait as end-to-end latency. Returns the messages taken (0 on timeout). */
static ssize_t take_available(rd_kafka_queue_t *q, rd_kafka_message_t **batch)
{
    ssize_t n = rd_kafka_consume_batch_queue(q, 100, batch, 1);
    if (n != 1)
        return n < 0 ? 0 : n;
    ssize_t more = rd_kafka_consume_batch_queue(q, 0, batch + 1, PERF_BATCH - 1);
    return more > 0 ? 1 + more : 1;
}

void *perf_e2e_consumer_main(void *arg)
{
    perf_run *run = arg;
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(run->consumer);
    rd_kafka_message_t *batch[PERF_BATCH];
    uint64_t drained_since = 0;
    for (;;) {
        ssize_t n = take_available(q, batch);
        uint64_t now = perf_now_ns();
        for (ssize_t i = 0; i < n; i++) {
            rd_kafka_message_t *m = batch[i];
            uint64_t head[2];
            if (m->err) {
                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                    consume_error(run, m);
            } else if (m->len >= PERF_E2E_HEADER) {
                memcpy(head, m->payload, sizeof(head));
                if (head[1] == run->run_id) {
                    perf_hist_record(&run->e2e_hist, now - head[0]);
                    run->last_consumed_ns = now;
                    atomic_fetch_add_explicit(&run->consumed, 1, memory_order_relaxed);
                    atomic_fetch_add_explicit(&run->consumed_bytes, (int64_t)m->len,
                                              memory_order_relaxed);
                }
            }
            rd_kafka_message_destroy(m);
        }
        if (atomic_load(&run->producers_left) > 0)
            continue;
        /* Producers are done: every acknowledged record must arrive (a bounded wait). */
        int64_t delivered = 0;
        for (int64_t k = 0; k < run->o->producers; k++)
            delivered += atomic_load(&run->workers[k].delivered);
        if (atomic_load(&run->consumed) >= delivered)
            break;
        if (!drained_since)
            drained_since = now;
        else if (now - drained_since > PERF_DRAIN_GRACE_NS)
            break;
    }
    rd_kafka_queue_destroy(q);
    atomic_store(&run->consumer_done, true);
    return NULL;
}

int perf_run_consume(perf_run *run, perf_result *res)
{
    rd_kafka_t *rk = perf_new_consumer(run);
    if (!rk)
        return CLI_FAIL;
    int rc = CLI_FAIL;
    bool *at_eof = calloc((size_t)run->partitions, sizeof(bool));
    int eof_count = 0;
    int64_t limit = run->o->records, records = 0, bytes = 0;
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t *batch[PERF_BATCH];
    uint64_t last_ns = 0, first_ns = 0;
    if (!at_eof || perf_assign_all(run, rk, false) != 0)
        goto out;
    double cpu0 = perf_cpu_seconds();
    run->start_ns = last_ns = perf_now_ns();
    perf_progress pg = {.last_ns = run->start_ns};
    uint64_t deadline = run->o->duration_s
                            ? run->start_ns + (uint64_t)run->o->duration_s * 1000000000u
                            : UINT64_MAX;
    while ((limit < 0 || records < limit) && (limit >= 0 || eof_count < run->partitions)) {
        ssize_t n = rd_kafka_consume_batch_queue(q, 100, batch, PERF_BATCH);
        uint64_t now = perf_now_ns();
        for (ssize_t i = 0; i < n; i++) {
            rd_kafka_message_t *m = batch[i];
            int p = m->partition;
            bool ours = p >= 0 && p < run->partitions;
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                if (ours && !at_eof[p]) {
                    at_eof[p] = true;
                    eof_count++;
                }
            } else if (m->err) {
                consume_error(run, m);
            } else if (limit < 0 || records < limit) {
                if (ours && at_eof[p]) { /* more arrived after the end was seen */
                    at_eof[p] = false;
                    eof_count--;
                }
                if (records == 0) {
                    /* The clock starts at the first record: the consumer's start-up
                     * (connections, offset lookups, the first fetch's wait) is not
                     * throughput. The duration limit counts from here too. */
                    first_ns = now;
                    if (run->o->duration_s)
                        deadline = now + (uint64_t)run->o->duration_s * 1000000000u;
                }
                records++;
                bytes += (int64_t)m->len;
                last_ns = now;
            }
            rd_kafka_message_destroy(m);
        }
        perf_progress_tick(run, &pg, now, "consumed", records, bytes);
        if (now >= deadline)
            break;
    }
    res->records = records;
    res->bytes = bytes;
    res->seconds = records ? (double)(last_ns - first_ns) / 1e9 : 0;
    res->cpu_seconds = perf_cpu_seconds() - cpu0;
    rc = CLI_OK;
out:
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    free(at_eof);
    return rc;
}
