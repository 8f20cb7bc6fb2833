/*
 * Per-second history: named series of the last ST_HIST_SECONDS seconds, so a chart is
 * full the moment a view opens. A series is named "<kind>|<daemon id>|<entity>|<metric>",
 * e.g. "topic|dc1/b0|acme.orders|bytes_in" (views.c decides who may read which).
 * A series not written for ST_HIST_SECONDS is dropped (a deleted topic's, say).
 *
 * Event loop thread only.
 */
#ifndef ST_CONSOLE_HIST_H
#define ST_CONSOLE_HIST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define ST_HIST_SECONDS 300

typedef struct st_hist st_hist;

st_hist *st_hist_new(void);
void st_hist_free(st_hist *h);

/* Records value for the unix second `sec` (later seconds only; the seconds skipped
 * read as missing). Borrows key. -1 when out of memory. */
int st_hist_put(st_hist *h, const char *key, int64_t sec, double value);

/* The series as a JSON array of ST_HIST_SECONDS numbers (null where missing), oldest
 * first, ending at `end_sec`; NULL when there is no such series. New reference. */
json_t *st_hist_get(const st_hist *h, const char *key, int64_t end_sec);

/* Drops series not written since before now_sec - ST_HIST_SECONDS. */
void st_hist_sweep(st_hist *h, int64_t now_sec);

/* Number of series (for the benchmark and tests). */
size_t st_hist_count(const st_hist *h);

#endif
