/*
 * strait perf: shared between the load generator (cli_perf.c) and its statistics
 * (cli_perf_stats.c). Private to these two files.
 *
 * Latencies go into a log-linear histogram in the manner of HdrHistogram: values below
 * 128 ns are exact, above that every power of two is cut into 64 equal buckets, so a
 * reported percentile is within 1/64 (1.6%) of the true value. Recording is an index
 * computation and an increment: no allocation, no lock (each thread owns its histogram
 * and they are merged at the end).
 */
#ifndef ST_CLI_PERF_H
#define ST_CLI_PERF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PERF_HIST_EXACT   128 /* values below this have a bucket each */
#define PERF_HIST_SUB     64  /* buckets per power of two above that */
#define PERF_HIST_BUCKETS (PERF_HIST_EXACT + 57 * PERF_HIST_SUB)

typedef struct perf_hist {
    uint64_t counts[PERF_HIST_BUCKETS];
    uint64_t total;
    uint64_t max;
    double sum; /* for the mean */
} perf_hist;

/* Clears h. */
void perf_hist_reset(perf_hist *h);
/* Records one value (nanoseconds). */
void perf_hist_record(perf_hist *h, uint64_t value);
/* Adds every value of from into into. */
void perf_hist_merge(perf_hist *into, const perf_hist *from);
/* The smallest recorded bucket's upper bound below which pct percent of the values lie
 * (capped at the maximum); 0 when empty. */
uint64_t perf_hist_percentile(const perf_hist *h, double pct);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t perf_now_ns(void);

/* What a run measured, for the summary line and --json. */
typedef struct perf_result {
    const char *mode;  /* "produce", "consume", "e2e" */
    const char *topic; /* borrowed */
    int partitions;
    int producers;
    int record_size;
    int64_t records;           /* delivered (produce), consumed (consume, e2e) */
    int64_t failed;            /* delivery failures */
    int64_t missing;           /* e2e: delivered but never consumed */
    int64_t bytes;             /* payload bytes of those records */
    double seconds;            /* first send (or assignment) to last delivery (or record) */
    double cpu_seconds;        /* user + system time of this process */
    const perf_hist *latency;  /* produce: delivery report; e2e: end to end; NULL: none */
    const perf_hist *delivery; /* e2e only: the delivery-report latency; else NULL */
} perf_result;

/* Prints the human summary (one line per latency kind) to out. */
void perf_print_summary(const perf_result *r, FILE *out);
/* Prints r as one flat JSON object (a line) to out. */
void perf_print_json(const perf_result *r, FILE *out);
/* The progress line on stderr: totals so far and the rate since the previous line. */
void perf_print_progress(const char *what, double elapsed_s, int64_t records, int64_t bytes,
                         int64_t window_records, int64_t window_bytes, double window_s);

#endif
