/*
 * What a flow reports (st_mflow_status): rates sampled once a second, lag in records and
 * in time per partition, the heartbeat latency percentiles, errors, gaps, and the last
 * failover's report. Watermarks come from the fetcher's cache while copying (never a
 * request) and from the periodic offsets job otherwise (flow.c).
 */
#include <stdlib.h>
#include <string.h>

#include "mirror/flow_int.h"

/* ---- rates and watermarks ---- */

static void rate_sample(mf_rate *r, int64_t now_ms, int64_t recs, int64_t bytes)
{
    r->t_ms[r->head] = now_ms;
    r->recs[r->head] = recs;
    r->bytes[r->head] = bytes;
    r->head = (r->head + 1) % MF_RATE_SLOTS;
    if (r->n < MF_RATE_SLOTS)
        r->n++;
}

static void rate_get(const mf_rate *r, double *rps, double *bps)
{
    *rps = *bps = 0;
    if (r->n < 2)
        return;
    int newest = (r->head + MF_RATE_SLOTS - 1) % MF_RATE_SLOTS;
    int oldest = (r->head + MF_RATE_SLOTS - r->n) % MF_RATE_SLOTS;
    double dt = (double)(r->t_ms[newest] - r->t_ms[oldest]) / 1000.0;
    if (dt <= 0)
        return;
    *rps = (double)(r->recs[newest] - r->recs[oldest]) / dt;
    *bps = (double)(r->bytes[newest] - r->bytes[oldest]) / dt;
}

static void refresh_watermarks(st_mflow *f, mf_part *part)
{
    int64_t lo, hi;
    /* cached by the fetcher: never blocks. While paused the fetcher is idle and its
     * values are stale: the periodic offsets job (mf_on_offsets) keeps them then. */
    if (part->assigned && f->consumer && (f->state == MF_RUNNING || f->state == MF_FAILED_BACK) &&
        rd_kafka_get_watermark_offsets(f->consumer, part->topic->name, part->partition, &lo, &hi) ==
            0) {
        if (lo >= 0)
            part->source_start = lo;
        if (hi >= 0)
            part->source_end = hi;
    }
}

void mf_sample(st_mflow *f, int64_t now_ms)
{
    rate_sample(&f->rate, now_ms, f->records, f->bytes);
    for (size_t i = 0; i < f->ntopics; i++) {
        mf_topic *t = f->topics[i];
        for (int32_t p = 0; p < t->nparts; p++) {
            mf_part *part = t->parts[p];
            refresh_watermarks(f, part);
            rate_sample(&part->rate, now_ms, part->records, part->bytes);
        }
    }
}

static int64_t part_lag_records(const mf_part *p)
{
    if (p->source_end < 0)
        return 0;
    int64_t done = p->delivered;
    if (done < p->source_start)
        done = p->source_start;
    if (done < 0)
        done = 0;
    return p->source_end > done ? p->source_end - done : 0;
}

static double part_lag_seconds(mf_part *p, int64_t now_ms)
{
    if (part_lag_records(p) == 0 && p->ring_len == 0) {
        p->caught_up_ms = now_ms;
        return 0;
    }
    int64_t oldest = p->caught_up_ms ? p->caught_up_ms : now_ms;
    for (size_t i = 0; i < p->ring_len; i++) {
        const mf_inflight *e = &p->ring[(p->ring_head + i) % p->ring_cap];
        if (!e->skipped) {
            if (e->ts_ms > oldest)
                oldest = e->ts_ms;
            break;
        }
    }
    return now_ms > oldest ? (double)(now_ms - oldest) / 1000.0 : 0;
}

/* The flow's state as said: a failback or reset whose state file's write is not collected
 * yet is "failing-back" / "resetting" (its new state is said once the file holds it); a
 * failover started meanwhile says its own state. */
static const char *state_name(const st_mflow *f)
{
    static const char *const names[] = {
        [MF_STARTING] = "starting",       [MF_RUNNING] = "running",
        [MF_PAUSED] = "paused",           [MF_FAILING_OVER] = "failing-over",
        [MF_FAILED_OVER] = "failed-over", [MF_FAILED_BACK] = "failed-back",
        [MF_STOPPING] = "stopping"};
    /* every state has a name: a status taken while the daemon stops read past the end */
    _Static_assert(sizeof names / sizeof names[0] == MF_STOPPING + 1, "a state without a name");
    if (f->cmd_save_gen >= 0 && f->state != MF_FAILING_OVER && f->state != MF_FAILED_OVER)
        return strcmp(f->cmd_save, "reset") == 0 ? "resetting" : "failing-back";
    return names[f->state];
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

json_t *st_mflow_status(st_mflow *f, int64_t now_ms)
{
    json_t *parts = json_array();
    int64_t lag_records = 0;
    double lag_seconds = 0;
    for (size_t i = 0; i < f->ntopics; i++) {
        mf_topic *t = f->topics[i];
        for (int32_t p = 0; p < t->nparts; p++) {
            mf_part *part = t->parts[p];
            double rps, bps;
            refresh_watermarks(f, part);
            rate_get(&part->rate, &rps, &bps);
            int64_t lr = part_lag_records(part);
            double ls = part_lag_seconds(part, now_ms);
            lag_records += lr;
            if (ls > lag_seconds)
                lag_seconds = ls;
            json_t *row =
                json_pack("{s:s,s:s,s:i,s:I,s:I,s:I,s:I,s:f,s:f,s:f}", "topic", t->name,
                          "target_topic", t->target, "partition", (int)p, "position",
                          (json_int_t)part->position, "delivered", (json_int_t)part->delivered,
                          "source_end", (json_int_t)part->source_end, "lag_records", (json_int_t)lr,
                          "lag_seconds", ls, "records_per_sec", rps, "bytes_per_sec", bps);
            if (row && part->epoch > 0) /* a recreated source topic's incarnation */
                json_object_set_new(row, "epoch", json_integer(part->epoch));
            json_array_append_new(parts, row);
        }
    }
    double sorted[MF_LAT_SAMPLES];
    memcpy(sorted, f->latencies, f->nlat * sizeof(double));
    qsort(sorted, f->nlat, sizeof(double), cmp_double);
    double p50 = f->nlat ? sorted[(f->nlat - 1) / 2] : 0;
    double p99 = f->nlat ? sorted[(size_t)((double)(f->nlat - 1) * 0.99)] : 0;
    /* the same over the last MF_LAT_RECENT_MS only: what a workload that started after
     * the flow sees (the long figure keeps start-up and outages) */
    size_t nrecent = 0;
    for (size_t i = 0; i < f->nlat; i++)
        if (now_ms - f->lat_at_ms[i] <= MF_LAT_RECENT_MS)
            sorted[nrecent++] = f->latencies[i];
    qsort(sorted, nrecent, sizeof(double), cmp_double);
    double p99_recent = nrecent ? sorted[(size_t)((double)(nrecent - 1) * 0.99)] : 0;
    json_t *errors = json_array();
    for (size_t i = 0; i < f->nerrors; i++) {
        const mf_errent *e =
            &f->errors[(f->error_head + MF_MAX_ERRORS - f->nerrors + i) % MF_MAX_ERRORS];
        json_array_append_new(
            errors, json_pack("{s:I,s:s}", "time", (json_int_t)e->time_ms, "message", e->message));
    }
    double rps, bps;
    rate_get(&f->rate, &rps, &bps);
    json_t *status = json_pack(
        "{s:s,s:s,s:s,s:s,s:f,s:f,s:I,s:f,s:{s:f,s:f,s:I},s:I,s:I,s:I,s:O,s:o,s:o}", "flow",
        f->fc->name, "source", f->src->alias, "target", f->tgt->alias, "state", state_name(f),
        "records_per_sec", rps, "bytes_per_sec", bps, "lag_records", (json_int_t)lag_records,
        "lag_seconds", lag_seconds, "latency_ms", "p50", p50, "p99", p99, "samples",
        (json_int_t)f->nlat, "last_checkpoint_age_ms",
        (json_int_t)(f->last_ckpt_ms ? now_ms - f->last_ckpt_ms : -1), "checkpointed_groups",
        (json_int_t)f->ckpt_groups, "duplicates_skipped", (json_int_t)f->duplicates_skipped, "gaps",
        f->gaps, "errors", errors, "partitions", parts);
    if (status) {
        json_int_t in_flight = 0;
        for (size_t i = 0; i < f->ntopics; i++)
            for (int32_t p = 0; p < f->topics[i]->nparts; p++)
                in_flight += (json_int_t)f->topics[i]->parts[p]->ring_len;
        json_object_set_new(status, "in_flight_records", json_integer(in_flight));
        json_object_set_new(status, "producer_restarts", json_integer(f->producer_restarts));
        json_t *lat = json_object_get(status, "latency_ms");
        json_object_set_new(lat, "p99_recent", json_real(p99_recent));
        json_object_set_new(lat, "samples_recent", json_integer((json_int_t)nrecent));
    }
    if (status && f->failover_report)
        json_object_set(status, "failover", f->failover_report);
    if (status && f->cmd_error[0]) /* a failback's or reset's state file was not written */
        json_object_set_new(status, "state_error", json_string(f->cmd_error));
    return status;
}
