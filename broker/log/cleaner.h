/*
 * The log cleaner (compaction) for cleanup.policy=compact topics. Private to
 * broker/log/.
 *
 * A pass reads the log's non-active segments on the background worker thread (never
 * the loop thread, so produce and fetch never wait on it), keeps the latest record per
 * key (and tombstones younger than delete.retention.ms), writes the survivors into new
 * segment files (merging small neighbours up to segment.bytes) and hands them back to
 * the loop thread, which swaps them in only if those segments are still the log's.
 * The active segment is never touched.
 */
#ifndef ST_CLEANER_H
#define ST_CLEANER_H

#include <stddef.h>
#include <stdint.h>

typedef struct st_log st_log;

/* From st_log_tick (loop thread): starts a pass when the topic is compacted, no pass
 * is running for this log, and the dirty ratio reaches min.cleanable.dirty.ratio. */
void st_cleaner_tick(st_log *log, int64_t now_ms);
/* From st_log_close / st_log_remove (loop thread), before the segments go away: a
 * pass in flight is abandoned and its output deleted when it comes back. */
void st_cleaner_detach(st_log *log);
/* From st_log_truncate_to (loop thread), after the cut: a pass in flight is discarded
 * when it comes back (its key map holds records that are gone, so it would drop values
 * that are the latest again), and the offsets past the new end count as dirty. */
void st_cleaner_truncated(st_log *log);

/*
 * Resolves what a crash during a swap left in dir; st_log_open must call it before it
 * lists the segments. Every <base>.log.swap is a committed output: the old segments it
 * replaces (base equal to it or inside its offsets) are deleted and the .swap files are
 * renamed into place. Every *.cleaned file is an uncommitted output and is deleted.
 * Returns 0, or -1 with err set (an I/O error).
 */
int st_cleaner_recover(const char *dir, char *err, size_t errlen);

#endif
