/*
 * A partition log as a follower keeps it (replication, tracker issue 13): the leader's
 * batches appended as they are (st_log_append_follower in log.c, checked here), and the
 * log cut back to where it and the new leader agree (st_log_truncate_to), as Kafka's
 * replica fetcher does after OffsetForLeaderEpoch (KIP-101/279):
 *
 *   truncate_to(o): segment holding o ── later segments deleted
 *                   └─ cut at the batch holding o (ftruncate), indexes rebuilt past the
 *                      last index entry before it
 *                   end = that batch's base ── epochs cut, producer state and
 *                   transactions rebuilt, checkpoint queued
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/cleaner.h"
#include "broker/log/leader_epoch.h"
#include "broker/log/log_int.h"
#include "broker/log/producer_state.h"
#include "broker/log/segment.h"
#include "broker/txn/txn_partition.h"
#include "common/errors.h"
#include "common/logging.h"

int st_log_follower_check(st_log *log, const uint8_t *records, size_t len, int *nbatches,
                          int64_t *nrecords, int64_t *next, char *why, size_t whylen)
{
    *nbatches = 0;
    *nrecords = 0;
    int64_t expect = log->end_offset;
    if (len == 0) {
        snprintf(why, whylen, "empty record set");
        return ST_ERR_CORRUPT_MESSAGE;
    }
    for (size_t pos = 0; pos < len;) {
        st_batch_info b;
        if (len - pos < ST_BATCH_HEADER_SIZE ||
            st_batch_parse_header(records + pos, &b) != ST_ERR_NONE || (size_t)b.size > len - pos ||
            !st_batch_intact(records + pos, (size_t)b.size) || b.last_offset_delta < 0) {
            snprintf(why, whylen, "batch %d at byte %zu is torn, corrupt or not a v2 batch",
                     *nbatches, pos);
            return ST_ERR_CORRUPT_MESSAGE;
        }
        if (b.base_offset < expect || (b.base_offset > expect && !log->cfg.cleanup_compact)) {
            snprintf(why, whylen,
                     "batch %d starts at offset %" PRId64 " where %" PRId64
                     " was expected: a follower keeps the leader's offsets with no gap "
                     "or overlap (truncate first, or fetch from the end offset)",
                     *nbatches, b.base_offset, expect);
            return ST_ERR_OFFSET_OUT_OF_RANGE;
        }
        if (b.base_offset > INT64_MAX - b.last_offset_delta - 1) {
            snprintf(why, whylen, "batch %d ends past the largest offset", *nbatches);
            return ST_ERR_CORRUPT_MESSAGE;
        }
        expect = b.base_offset + b.last_offset_delta + 1;
        *nrecords += b.records_count > 0 ? b.records_count : 0;
        (*nbatches)++;
        pos += (size_t)b.size;
    }
    *next = expect;
    return ST_ERR_NONE;
}

/* Where in segment s the batch holding `offset` begins (s->size when none does). -1 on
 * a read error. */
static int64_t cut_position(st_segment *s, int64_t offset)
{
    st_scan sc;
    st_batch_info b;
    int64_t at;
    int rc;
    st_scan_init(&sc, s->file->fd, st_segment_lookup(s, offset), s->size);
    while ((rc = st_scan_next(&sc, &b, &at)) == ST_SCAN_BATCH)
        if (b.base_offset + b.last_offset_delta >= offset)
            return at;
    return rc < 0 ? -1 : s->size;
}

int st_log_truncate_to(st_log *log, int64_t offset, char *why, size_t whylen)
{
    if (offset >= log->end_offset)
        return ST_ERR_NONE;
    if (offset < log->start_offset) {
        snprintf(why, whylen,
                 "cannot truncate %s to offset %" PRId64 ": below its start offset %" PRId64,
                 log->dir, offset, log->start_offset);
        return ST_ERR_OFFSET_OUT_OF_RANGE;
    }
    int i = log->nsegs - 1;
    while (i > 0 && log->segs[i]->base > offset)
        i--;
    st_segment *s = log->segs[i];
    int64_t cut;
    if (st_log_ensure_loaded(log, s) != ST_ERR_NONE || (cut = cut_position(s, offset)) < 0) {
        snprintf(why, whylen, "cannot read segment %020" PRId64 " of %s to truncate it: %s",
                 s->base, log->dir, strerror(errno));
        return ST_ERR_KAFKA_STORAGE_ERROR;
    }
    int64_t old_end = log->end_offset;
    if (i + 1 < log->nsegs)
        st_log_drop_segments_from(log, i + 1, "the log was truncated");
    if (cut < s->size) {
        int64_t size = s->size, cut_bytes, cut_pos;
        char reason[160];
        if (ftruncate(s->file->fd, cut) < 0 ||
            st_segment_recover(log->dir, s, st_log_interval(log), offset, &cut_bytes, &cut_pos,
                               reason, sizeof reason) != ST_ERR_NONE) {
            snprintf(why, whylen, "cannot truncate segment %020" PRId64 " of %s: %s", s->base,
                     log->dir, strerror(errno));
            st_log_storage_failed(log, true, errno, "truncating segment %020" PRId64, s->base);
            return ST_ERR_KAFKA_STORAGE_ERROR;
        }
        log->total_size -= size - s->size;
    }
    if (s->writeback_pos > s->size)
        s->writeback_pos = s->size;
    log->end_offset = s->end_offset;
    if (log->recovery_point > log->end_offset)
        log->recovery_point = log->end_offset;
    if (log->start_offset > log->end_offset)
        log->start_offset = log->end_offset;
    st_info("%s: truncated to offset %" PRId64 " (asked %" PRId64 ", was %" PRId64 ")", log->dir,
            log->end_offset, offset, old_end);
    st_log_epochs_end_moved(log);
    st_cleaner_truncated(log);
    if (st_producers_truncated(log) < 0) {
        snprintf(why, whylen, "%s: out of memory rebuilding the producer state", log->dir);
        return ST_ERR_KAFKA_STORAGE_ERROR;
    }
    if (log->txns) {
        st_txn_partition_free(log->txns);
        log->txns = NULL;
        if (st_log_txn_load(log, why, whylen) < 0)
            return ST_ERR_KAFKA_STORAGE_ERROR;
    }
    st_log_checkpoint_soon(log);
    return ST_ERR_NONE;
}
