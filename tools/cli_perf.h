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

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tools/cli.h"

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

/* ---- the run (cli_perf.c, cli_perf_consume.c); threads and ownership: each
 * perf_worker is touched only by its producer thread, except its atomics (read by the
 * main thread for progress); the e2e histogram only by the consumer thread. ---- */

#define PERF_MAGIC      0x5354504552460001ull /* "STPERF" v1: marks e2e payloads */
#define PERF_E2E_HEADER 16                    /* send time (8) + run id (8) */
/* e2e: how long to wait for stragglers after the last acknowledgement */
#define PERF_DRAIN_GRACE_NS (10ull * 1000000000u)
#define PERF_BATCH          1024 /* messages per consume_batch call */

typedef struct perf_opts {
    const char *mode;
    const char *topic;
    int64_t records;     /* -1: the default of the mode */
    int64_t record_size; /* payload bytes */
    int64_t partitions;  /* 0: not given (create with 1) */
    const char *acks;
    const char *compression;
    int64_t linger_ms;  /* -1: librdkafka's default */
    int64_t batch_size; /* -1: librdkafka's default */
    int64_t throughput; /* records/s over all producers; -1 unlimited */
    int64_t duration_s; /* 0: no limit */
    int64_t producers;
    bool quiet;
    cli_list props;
    cli_list topic_configs;
} perf_opts;

typedef struct perf_run perf_run;

typedef struct perf_worker {
    perf_run *run;
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    int64_t quota;
    double rate;   /* records/s of this worker, <= 0 unlimited */
    char *scratch; /* e2e: this worker's payload copy (send time written per record) */
    _Atomic int64_t sent;
    _Atomic int64_t delivered;
    _Atomic int64_t delivered_bytes;
    _Atomic int64_t failed;
    uint64_t last_ack_ns;
    int errors_shown;
    perf_hist hist;
    pthread_t thread;
    bool started;
    int rc; /* nonzero: set-up failed (message printed) */
} perf_worker;

struct perf_run {
    cli_ctx *c;
    perf_opts *o;
    int partitions;
    bool e2e;
    const char *payload; /* record_size bytes, shared read-only */
    uint64_t run_id;
    uint64_t start_ns;
    pthread_barrier_t ready, go;
    _Atomic bool stop;          /* duration elapsed: producers stop sending */
    _Atomic int producers_left; /* producer threads not yet finished */
    perf_worker *workers;
    /* e2e consumer */
    rd_kafka_t *consumer;
    perf_hist e2e_hist;
    _Atomic int64_t consumed;
    _Atomic int64_t consumed_bytes;
    _Atomic bool consumer_done;
    uint64_t last_consumed_ns;
};

/* A consumer of run->o's cluster (librdkafka wants a group id; it is never joined).
 * Returns a new handle or NULL (message printed). */
rd_kafka_t *perf_new_consumer(perf_run *run);
/* Assigns every partition, at the beginning or (at_end) at the current end. 0 or -1. */
int perf_assign_all(perf_run *run, rd_kafka_t *rk, bool at_end);
/* The e2e consumer thread (arg: the perf_run): runs until the producers are done and
 * every acknowledged record arrived, or a grace period passed. */
void *perf_e2e_consumer_main(void *arg);
/* perf consume. Fills res; returns a CLI_* code. */
int perf_run_consume(perf_run *run, perf_result *res);

/* user + system CPU seconds of this process */
double perf_cpu_seconds(void);

/* The once-a-second progress line (unless --quiet). */
typedef struct perf_progress {
    uint64_t last_ns;
    int64_t last_records, last_bytes;
} perf_progress;
void perf_progress_tick(perf_run *run, perf_progress *pg, uint64_t now, const char *what,
                        int64_t records, int64_t bytes);

#endif
