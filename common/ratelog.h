/*
 * st_ratelog: at most one log line per interval for one source of repeated trouble (a
 * partition whose disk is full, a peer that keeps sending garbage), with a count of the
 * lines held back, so a failure that repeats thousands of times a minute costs a few
 * lines that still say how often it happened.
 *
 * The caller keeps one st_ratelog per source and asks before writing a line:
 *
 *     uint64_t held;
 *     if (st_ratelog_allow(&p->rl, st_mono_ms(), &held))
 *         st_error("%s: write failed: %s (%llu more since the last line)", ...);
 *
 * Not thread-safe: each st_ratelog belongs to one thread (the partition's loop).
 */
#ifndef ST_RATELOG_H
#define ST_RATELOG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct st_ratelog {
    int64_t interval_ms;
    int64_t last_ms;    /* when the last line was allowed; 0: never */
    uint64_t held_back; /* lines refused since then */
} st_ratelog;

#define ST_RATELOG_INIT(interval)                                                                  \
    {                                                                                              \
        (interval), 0, 0                                                                           \
    }

/* True when a line may be written at now_ms (a monotonic clock): the first time, or
 * once interval_ms has passed since the last allowed line. Then *held_back gets the
 * number of lines refused since that one (and the count restarts); otherwise the refusal
 * is counted. */
bool st_ratelog_allow(st_ratelog *r, int64_t now_ms, uint64_t *held_back);

/* Lines refused since the last allowed one; the count restarts. For a closing summary. */
uint64_t st_ratelog_take(st_ratelog *r);

#endif
