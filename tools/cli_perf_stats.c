/*
 * strait perf: the latency histogram and the report. See cli_perf.h for the histogram's
 * bucket layout; the summary line follows kafka-producer-perf-test's ("N records sent,
 * R records/sec (M MB/sec)"), with MB = 2^20 bytes as there.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "tools/cli_perf.h"

uint64_t perf_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void perf_hist_reset(perf_hist *h)
{
    memset(h, 0, sizeof(*h));
}

/* Bucket of a value: exact below PERF_HIST_EXACT, then PERF_HIST_SUB per power of two. */
static int bucket_of(uint64_t v)
{
    if (v < PERF_HIST_EXACT)
        return (int)v;
    int msb = 63 - __builtin_clzll(v); /* >= 7 */
    int shift = msb - 6;               /* >= 1: keeps the top 7 bits, 64..127 */
    int top = (int)(v >> shift);
    return PERF_HIST_EXACT + (shift - 1) * PERF_HIST_SUB + (top - PERF_HIST_SUB);
}

/* The largest value that falls in bucket b. */
static uint64_t bucket_upper(int b)
{
    if (b < PERF_HIST_EXACT)
        return (uint64_t)b;
    int shift = (b - PERF_HIST_EXACT) / PERF_HIST_SUB + 1;
    uint64_t top = (uint64_t)((b - PERF_HIST_EXACT) % PERF_HIST_SUB + PERF_HIST_SUB);
    if (shift >= 57 && top == 2 * PERF_HIST_SUB - 1)
        return UINT64_MAX;
    return ((top + 1) << shift) - 1;
}

void perf_hist_record(perf_hist *h, uint64_t value)
{
    h->counts[bucket_of(value)]++;
    h->total++;
    h->sum += (double)value;
    if (value > h->max)
        h->max = value;
}

void perf_hist_merge(perf_hist *into, const perf_hist *from)
{
    for (int i = 0; i < PERF_HIST_BUCKETS; i++)
        into->counts[i] += from->counts[i];
    into->total += from->total;
    into->sum += from->sum;
    if (from->max > into->max)
        into->max = from->max;
}

uint64_t perf_hist_percentile(const perf_hist *h, double pct)
{
    if (h->total == 0)
        return 0;
    /* the rank of the value at pct: ceil(pct% of total), at least the first */
    uint64_t rank = (uint64_t)((pct / 100.0) * (double)h->total + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > h->total)
        rank = h->total;
    uint64_t seen = 0;
    for (int b = 0; b < PERF_HIST_BUCKETS; b++) {
        seen += h->counts[b];
        if (seen >= rank) {
            uint64_t upper = bucket_upper(b);
            return upper < h->max ? upper : h->max;
        }
    }
    return h->max;
}

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static void print_latency(const char *label, const perf_hist *h, FILE *out)
{
    if (!h || h->total == 0) {
        fprintf(out, "%s: no samples\n", label);
        return;
    }
    fprintf(out, "%s: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms, mean %.2f ms\n", label,
            ms(perf_hist_percentile(h, 50)), ms(perf_hist_percentile(h, 99)),
            ms(perf_hist_percentile(h, 99.9)), ms(h->max), h->sum / (double)h->total / 1e6);
}

static double per_second(double v, double seconds)
{
    return seconds > 0 ? v / seconds : 0;
}

void perf_print_summary(const perf_result *r, FILE *out)
{
    const char *verb = strcmp(r->mode, "produce") == 0 ? "sent" : "consumed";
    fprintf(out, "%lld records %s, %.1f records/sec (%.2f MB/sec) in %.2f s", (long long)r->records,
            verb, per_second((double)r->records, r->seconds),
            per_second((double)r->bytes, r->seconds) / (1024.0 * 1024.0), r->seconds);
    if (r->failed)
        fprintf(out, ", %lld FAILED", (long long)r->failed);
    if (r->missing)
        fprintf(out, ", %lld delivered but NOT consumed", (long long)r->missing);
    fprintf(out, "; client CPU %.1f%% of one core\n",
            100.0 * per_second(r->cpu_seconds, r->seconds));
    if (r->latency)
        print_latency(strcmp(r->mode, "e2e") == 0 ? "end-to-end latency" : "delivery latency",
                      r->latency, out);
    if (r->delivery)
        print_latency("delivery latency", r->delivery, out);
}

/* Adds latency_* (or prefix_*) keys in milliseconds. */
static void json_latency(json_t *o, const char *prefix, const perf_hist *h)
{
    static const struct {
        const char *suffix;
        double pct;
    } points[] = {{"p50", 50}, {"p99", 99}, {"p999", 99.9}};
    char key[64];
    for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
        snprintf(key, sizeof(key), "%s_%s_ms", prefix, points[i].suffix);
        json_object_set_new(o, key, json_real(ms(perf_hist_percentile(h, points[i].pct))));
    }
    snprintf(key, sizeof(key), "%s_max_ms", prefix);
    json_object_set_new(o, key, json_real(ms(h->max)));
    snprintf(key, sizeof(key), "%s_mean_ms", prefix);
    json_object_set_new(o, key, json_real(h->total ? h->sum / (double)h->total / 1e6 : 0.0));
}

void perf_print_json(const perf_result *r, FILE *out)
{
    json_t *o = json_object();
    json_object_set_new(o, "mode", json_string(r->mode));
    json_object_set_new(o, "topic", json_string(r->topic));
    json_object_set_new(o, "partitions", json_integer(r->partitions));
    json_object_set_new(o, "producers", json_integer(r->producers));
    json_object_set_new(o, "record_size", json_integer(r->record_size));
    json_object_set_new(o, "records", json_integer(r->records));
    json_object_set_new(o, "failed", json_integer(r->failed));
    json_object_set_new(o, "missing", json_integer(r->missing));
    json_object_set_new(o, "bytes", json_integer(r->bytes));
    json_object_set_new(o, "seconds", json_real(r->seconds));
    json_object_set_new(o, "records_per_sec",
                        json_real(per_second((double)r->records, r->seconds)));
    json_object_set_new(o, "mb_per_sec",
                        json_real(per_second((double)r->bytes, r->seconds) / (1024.0 * 1024.0)));
    json_object_set_new(o, "client_cpu_pct",
                        json_real(100.0 * per_second(r->cpu_seconds, r->seconds)));
    if (r->latency)
        json_latency(o, "latency", r->latency);
    if (r->delivery)
        json_latency(o, "delivery", r->delivery);
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    if (text)
        fprintf(out, "%s\n", text);
    free(text);
    json_decref(o);
}

void perf_print_progress(const char *what, double elapsed_s, int64_t records, int64_t bytes,
                         int64_t window_records, int64_t window_bytes, double window_s)
{
    fprintf(stderr, "%6.1f s: %lld records %s, %.1f records/sec (%.2f MB/sec) in the last %.1f s\n",
            elapsed_s, (long long)records, what, per_second((double)window_records, window_s),
            per_second((double)window_bytes, window_s) / (1024.0 * 1024.0), window_s);
}

double perf_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

void perf_progress_tick(perf_run *run, perf_progress *pg, uint64_t now, const char *what,
                        int64_t records, int64_t bytes)
{
    if (run->o->quiet || now - pg->last_ns < 1000000000u)
        return;
    perf_print_progress(what, (double)(now - run->start_ns) / 1e9, records, bytes,
                        records - pg->last_records, bytes - pg->last_bytes,
                        (double)(now - pg->last_ns) / 1e9);
    pg->last_ns = now;
    pg->last_records = records;
    pg->last_bytes = bytes;
}
