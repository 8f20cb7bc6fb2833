/*
 * The jobs a flow hands to its workers (worker.h): the cluster calls that may block.
 * Each job carries its own inputs and outputs and never touches the flow from the
 * worker thread; its done() runs on the loop thread and gives the result to the flow,
 * unless the flow has moved on since (failback or a recovery bumps f->gen).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/logging.h"
#include "mirror/flow_int.h"

/* ---- offsets: the start and end offsets of a list of partitions ---- */

static void offsets_run(st_mjob *job, rd_kafka_t *probe, const st_mcluster_config *cluster)
{
    mf_offsets_job *j = (mf_offsets_job *)job;
    /* ListOffsets with timestamp -2 (earliest) and -1 (latest): one request per leader
     * for the whole list. Unlike rd_kafka_query_watermark_offsets, this call keeps its
     * timeout when the broker is gone. */
    j->err = rd_kafka_offsets_for_times(probe, j->lo, j->timeout_ms);
    if (j->err && j->err != RD_KAFKA_RESP_ERR__TIMED_OUT)
        return;
    if (atomic_load(&job->cancelled))
        return;
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(probe, j->hi, j->timeout_ms);
    if (!j->err)
        j->err = e;
}

static void offsets_drop(st_mjob *job)
{
    mf_offsets_job *j = (mf_offsets_job *)job;
    rd_kafka_topic_partition_list_destroy(j->lo);
    rd_kafka_topic_partition_list_destroy(j->hi);
    free(j);
}

static void offsets_done(st_mjob *job, void *ctx)
{
    mf_offsets_job *j = (mf_offsets_job *)job;
    st_mflow *f = ctx;
    if (j->gen == f->gen)
        mf_on_offsets(f, j);
    offsets_drop(job);
}

mf_offsets_job *mf_offsets_job_new(st_mflow *f, mf_offsets_purpose purpose, int timeout_ms)
{
    mf_offsets_job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->job.run = offsets_run;
    j->job.done = offsets_done;
    j->job.drop = offsets_drop;
    j->gen = f->gen;
    j->purpose = purpose;
    j->timeout_ms = timeout_ms;
    j->lo = rd_kafka_topic_partition_list_new(16);
    j->hi = rd_kafka_topic_partition_list_new(16);
    return j;
}

void mf_offsets_job_add(mf_offsets_job *j, const char *topic, int32_t partition)
{
    rd_kafka_topic_partition_list_add(j->lo, topic, partition)->offset = -2;
    rd_kafka_topic_partition_list_add(j->hi, topic, partition)->offset = -1;
}

bool mf_offsets_job_get(const mf_offsets_job *j, int i, int64_t *lo, int64_t *hi)
{
    if (i < 0 || i >= j->hi->cnt)
        return false;
    const rd_kafka_topic_partition_t *l = &j->lo->elems[i], *h = &j->hi->elems[i];
    if (h->err || l->err || h->offset < 0 || l->offset < 0)
        return false;
    *lo = l->offset;
    *hi = h->offset;
    return true;
}
