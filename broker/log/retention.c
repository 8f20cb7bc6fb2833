/*
 * Housekeeping of a partition log, driven by st_log_tick and DeleteRecords: rolling by
 * age, retention by time and size (cleanup.policy=delete only), compaction passes
 * (cleanup.policy=compact, cleaner.c), flushing by flush.ms and the periodic checkpoint
 * of the recovery point. Only whole segments are deleted, never the active one; fetches
 * that hold a deleted segment's fd keep reading it (st_fileref).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/cleaner.h"
#include "broker/log/log_int.h"
#include "common/errors.h"
#include "common/logging.h"

/* Deletes the oldest segment (never the active one) and moves the start offset. */
static void delete_oldest(st_log *log, const char *reason)
{
    st_segment *s = log->segs[0];
    memmove(log->segs, log->segs + 1, (size_t)(log->nsegs - 1) * sizeof *log->segs);
    log->nsegs--;
    log->total_size -= s->size;
    st_segment_unlink(log->dir, s->base);
    if (log->segs[0]->base > log->start_offset)
        log->start_offset = log->segs[0]->base;
    st_info("%s: deleted segment %020" PRId64 " (%" PRId64 " bytes, %s); log start offset now "
            "%" PRId64,
            log->dir, s->base, s->size, reason, log->start_offset);
    st_segment_free(s); /* fetches holding its fd keep it open */
}

int st_log_delete_records(st_log *log, int64_t offset, int64_t *low_watermark)
{
    if (offset == -1)
        offset = log->end_offset;
    if (offset < 0 || offset > log->end_offset) {
        *low_watermark = log->start_offset;
        return ST_ERR_OFFSET_OUT_OF_RANGE;
    }
    if (offset > log->start_offset) {
        log->start_offset = offset;
        while (log->nsegs > 1 && log->segs[1]->base <= log->start_offset)
            delete_oldest(log, "below the log start offset");
        st_log_write_checkpoint(log);
    }
    *low_watermark = log->start_offset;
    return ST_ERR_NONE;
}

/* Newest timestamp in a closed segment; its file's mtime when it holds none. */
static int64_t segment_time(st_log *log, st_segment *s)
{
    int64_t ts = st_segment_max_ts(log->dir, s, st_log_interval(log));
    if (ts >= 0)
        return ts;
    char path[4096];
    struct stat st;
    st_segment_path(path, sizeof path, log->dir, s->base, "log");
    if (stat(path, &st) < 0)
        return -1;
    return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

/* First batch's maxTimestamp of a segment: what segment.ms counts from. */
static int64_t roll_time(st_log *log, st_segment *s)
{
    uint8_t head[ST_BATCH_HEADER_SIZE];
    st_batch_info b;
    if (s->roll_ts < 0 && s->size >= ST_BATCH_HEADER_SIZE &&
        st_segment_open_log(log->dir, s) == 0 &&
        pread(s->file->fd, head, sizeof head, 0) == (ssize_t)sizeof head &&
        st_batch_parse_header(head, &b) == ST_ERR_NONE)
        s->roll_ts = b.max_timestamp;
    return s->roll_ts;
}

void st_log_tick(st_log *log, int64_t now_ms)
{
    const st_log_config *c = &log->cfg;
    st_segment *act = st_log_active(log);
    if (act->size > 0 && c->segment_ms >= 0 && c->segment_ms != INT64_MAX) {
        int64_t since = roll_time(log, act);
        if (since >= 0 && now_ms - since > c->segment_ms)
            st_log_roll(log);
    }
    if (c->cleanup_delete) {
        int64_t start = log->start_offset;
        if (c->retention_ms >= 0) {
            while (log->nsegs > 1) {
                int64_t ts = segment_time(log, log->segs[0]);
                if (ts < 0 || now_ms - ts <= c->retention_ms)
                    break;
                delete_oldest(log, "retention.ms");
            }
        }
        if (c->retention_bytes >= 0) {
            while (log->nsegs > 1 && log->total_size - log->segs[0]->size >= c->retention_bytes)
                delete_oldest(log, "retention.bytes");
        }
        if (log->start_offset != start)
            st_log_write_checkpoint(log);
    }
    if (log->dirty_since_ms >= 0 && c->flush_ms != INT64_MAX &&
        now_ms - log->dirty_since_ms >= c->flush_ms)
        st_log_flush_async(log, NULL, NULL);
    int64_t saved_rp = log->saved_valid ? log->saved.recovery_point : log->start_offset;
    if (log->recovery_point != saved_rp &&
        now_ms - log->checkpoint_ms >= ST_LOG_CHECKPOINT_INTERVAL_MS) {
        log->checkpoint_ms = now_ms;
        st_log_write_checkpoint(log);
    }
    /* last: a pass snapshots the segments retention left */
    st_cleaner_tick(log, now_ms);
}
