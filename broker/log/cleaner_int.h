/*
 * Private pieces of the log cleaner (cleaner.c, cleaner_pass.c, cleaner_map.c), and
 * the background-job hook it hangs off the flusher. Nothing outside broker/log/
 * includes this.
 *
 *   loop thread (cleaner.c)          cleaner thread (cleaner_pass.c)
 *   st_cleaner_tick: snapshot ──job──▶ map keys ─▶ write *.cleaned ─▶ fsync
 *   swap_in(job) ◀────────────post──────────────────────────────────────┘
 */
#ifndef ST_CLEANER_INT_H
#define ST_CLEANER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/log/log.h"
#include "broker/log/segment.h"
#include "common/fileref.h"

/* --- flusher.c: a second helper thread for long background work --- */

/* One job: work(arg) runs on the background thread, then done(arg) is posted to the
 * loop thread. The submitter owns the struct (usually embedded in its own job). */
typedef struct st_bg_job {
    struct st_bg_job *next;
    void (*work)(void *arg);
    void (*done)(void *arg);
    void *arg;
} st_bg_job;

/* Queues job (borrowed until done runs). The background thread starts on first use,
 * so a broker without compacted topics never has it. Any thread. */
void st_flusher_run_background(st_flusher *f, st_bg_job *job);

/* --- cleaner_map.c: key hash → latest offset --- */

/* An open-addressing table keyed by a 128-bit keyed hash of the record key (two
 * SipHash-2-4 values under independent random keys, so a producer cannot craft keys
 * that collide and delete each other's records). Never grows past max_bytes. */
typedef struct st_key_map st_key_map;

/* Returns a new map or NULL (out of memory). */
st_key_map *st_key_map_new(size_t max_bytes);
void st_key_map_free(st_key_map *m);
/* Records that key's latest offset is `offset` (offsets arrive in increasing order).
 * Returns false when the key is new and the map is full: nothing was stored. */
bool st_key_map_put(st_key_map *m, const uint8_t *key, size_t len, int64_t offset);
/* The latest offset stored for key, or -1. */
int64_t st_key_map_get(const st_key_map *m, const uint8_t *key, size_t len);
size_t st_key_map_count(const st_key_map *m);

/* --- cleaner_pass.c: the work of one pass, on the cleaner thread --- */

/* Default bound of one pass's key map (Kafka's log.cleaner.dedupe.buffer.size). */
#define ST_CLEANER_MAP_BYTES ((size_t)128 << 20)

typedef struct st_clean_input {
    int64_t base;
    int64_t size;      /* bytes to read: whole batches */
    st_fileref *file;  /* a reference, dropped when the job is freed */
    st_segment *owner; /* the log's segment, for the loop thread's check only */
} st_clean_input;

typedef struct st_clean_job {
    st_bg_job bg;
    struct st_cleaner_state *state; /* loop thread only */
    char *dir;                      /* owned copy */
    int64_t now_ms;
    int64_t delete_retention_ms;
    int64_t segment_bytes;
    int32_t index_interval;
    size_t map_max_bytes;
    int cancelled;          /* atomic: set by st_cleaner_detach */
    st_clean_input *inputs; /* the snapshot, in log order */
    int ninputs;
    int ncleanable;     /* inputs [0, ncleanable) may be rewritten (never the active one) */
    int first_map;      /* inputs [first_map, ninputs) are the dirty part, read into the map */
    int64_t after_base; /* base of the segment after the cleanable ones */
    /* Transactions (see cleaner.c): records at or after stable_upto (the last stable
     * offset at the snapshot) are neither mapped nor rewritten; aborted lists the
     * aborted transactions that began below it, sorted by (producer_id, first_offset),
     * whose data batches are dropped and never mapped. Owned. */
    int64_t stable_upto;
    struct st_txn_aborted *aborted;
    size_t naborted;

    /* results, written by the worker */
    int err; /* 0, or -1 with why set */
    char why[300];
    int ncleaned;       /* inputs [0, ncleaned) were rewritten into outs */
    int64_t clean_upto; /* offset below which the log is clean after the swap */
    st_segment **outs;  /* loaded segments whose files are <base>.*.cleaned */
    int nouts;
    int64_t in_bytes, out_bytes, dropped;
    int64_t dropped_markers; /* transaction markers removed */
    bool truncated;          /* loop thread only: the log was truncated meanwhile */
    bool map_full;
} st_clean_job;

/* Runs the pass (the st_bg_job work function; arg is the st_clean_job). */
void st_cleaner_work(void *arg);

/* Deletes an output's three *.cleaned files. */
void st_cleaner_unlink_cleaned(const char *dir, int64_t base);

/* --- cleaner.c --- */

/* True while a pass of this log is in flight. Loop thread. */
bool st_cleaner_busy(const st_log *log);

/* Test hook: bounds the key map of this log's future passes. Loop thread. */
void st_cleaner_set_map_limit(st_log *log, size_t max_bytes);

#endif
