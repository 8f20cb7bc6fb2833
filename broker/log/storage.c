/*
 * A partition's write failures: what happens when its disk is full (or failing).
 *
 *   writable ──a data write fails──▶ refusing ──a data write succeeds──▶ writable
 *                                    │   ▲
 *                                    └───┘ appends refused at once (KAFKA_STORAGE_ERROR),
 *                                          but one every RETRY_MS goes to the disk
 *
 * A data write is an append's write to the segment or the creation of a new segment:
 * while one fails, nothing is acknowledged, and trying again for every produce request
 * only costs a syscall and a log line each (a full disk once gave 4,402 lines in a
 * minute). So the partition refuses appends without touching the disk, except for one
 * probe per RETRY_MS whose success brings it back: it recovers by itself when space
 * returns. Failed writes of metadata (index files, the checkpoint, producer snapshots)
 * are counted and logged the same way but do not refuse appends: memory stays
 * authoritative for those, and the next flush, roll or close writes them again.
 *
 * Lines about data writes go through one st_ratelog per partition: at most one line per
 * LINE_INTERVAL_MS, each saying how many were held back. Metadata failures hit every
 * partition at once on a full disk (each closing partition writes its checkpoint), so
 * theirs share one st_ratelog per data directory (the flusher's). A "writes work again" line is
 * written only for an episode whose failure was announced, so a partition that flaps
 * still costs at most two lines per interval, and the last line always tells its state.
 * An fsync failure is different and stays so (log.c, offline): data may be lost, and
 * only a restart's re-verification brings the partition back.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "broker/log/log_int.h"
#include "common/clock.h"
#include "common/logging.h"

#define RETRY_MS 1000

void st_log_storage_init(st_log *log)
{
    log->storage = (struct st_log_storage){.lines = ST_RATELOG_INIT(ST_STORAGE_LINE_INTERVAL_MS)};
}

void st_log_storage_failed(st_log *log, bool data, int err_no, const char *fmt, ...)
{
    struct st_log_storage *st = &log->storage;
    int64_t now = st_mono_ms();
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    st->errors++;
    bool first = false;
    if (data) {
        if (!st->refusing) {
            *st = (struct st_log_storage){.refusing = true,
                                          .since_ms = now,
                                          .since_wall_ms = st_wall_ms(),
                                          .errors = st->errors,
                                          .lines = st->lines};
            first = true;
        }
        st->episode_failures++;
        st->retry_at_ms = now + RETRY_MS;
    }
    /* data failures: one line per partition per interval; metadata ones share the
     * data directory's (a full disk fails them on every partition at once) */
    st_ratelog *lines = data || !log->flusher ? &st->lines : st_flusher_meta_lines(log->flusher);
    uint64_t held;
    if (!st_ratelog_allow(lines, now, &held))
        return;
    char also[96] = "";
    if (held)
        snprintf(also, sizeof also, "; %" PRIu64 " more storage errors since the last line", held);
    if (data)
        st->announced = true;
    if (first)
        st_error("%s: %s failed: %s; the partition refuses writes (KAFKA_STORAGE_ERROR) until "
                 "one succeeds again, tried every %d ms; one line per %d s while it lasts%s",
                 log->dir, what, strerror(err_no), RETRY_MS, ST_STORAGE_LINE_INTERVAL_MS / 1000,
                 also);
    else if (st->refusing)
        st_error("%s: %s failed: %s; writes refused for %" PRId64 " s (%" PRIu64
                 " failed writes, %" PRIu64 " produce requests refused)%s",
                 log->dir, what, strerror(err_no), (now - st->since_ms) / 1000,
                 st->episode_failures, st->refused, also);
    else
        st_error("%s: %s failed: %s (tried again later; no acknowledged record depends on it)%s",
                 log->dir, what, strerror(err_no), also);
}

bool st_log_storage_refuses(st_log *log, char *why, size_t whylen)
{
    struct st_log_storage *st = &log->storage;
    if (!st->refusing)
        return false;
    int64_t now = st_mono_ms();
    if (now >= st->retry_at_ms) {
        st->retry_at_ms = now + RETRY_MS; /* this append is the probe */
        return false;
    }
    st->refused++;
    snprintf(why, whylen,
             "%s: a write failed %" PRId64 " ms ago (disk full?); writes are refused until one "
             "succeeds, next try in %" PRId64 " ms",
             log->dir, now - st->since_ms, st->retry_at_ms - now);
    return true;
}

void st_log_storage_ok(st_log *log)
{
    struct st_log_storage *st = &log->storage;
    if (!st->refusing)
        return;
    st->refusing = false;
    if (st->announced)
        st_warn("%s: writes work again after %.1f s (%" PRIu64 " failed writes, %" PRIu64
                " produce requests refused meanwhile); the partition takes writes",
                log->dir, (double)(st_mono_ms() - st->since_ms) / 1000, st->episode_failures,
                st->refused);
}

void st_log_storage_close(st_log *log)
{
    struct st_log_storage *st = &log->storage;
    uint64_t held = st_ratelog_take(&st->lines);
    if (!held && !st->refusing)
        return;
    st_ratelog *shared = log->flusher ? st_flusher_meta_lines(log->flusher) : NULL;
    uint64_t earlier = 0;
    if (shared && !st_ratelog_allow(shared, st_mono_ms(), &earlier)) {
        shared->held_back += held; /* said in a later line, or when the flusher goes */
        return;
    }
    st_warn("%s: closed %s; %" PRIu64 " of its storage errors were not logged one by one%s",
            log->dir, st->refusing ? "while refusing writes (disk full?)" : "", held,
            earlier ? " (and more on other partitions)" : "");
}

void st_log_health_get(const st_log *log, st_log_health *out)
{
    *out = (st_log_health){
        .refusing_writes = log->storage.refusing,
        .offline = log->offline,
        .storage_errors = log->storage.errors,
        .refusing_since_ms = log->storage.refusing ? log->storage.since_wall_ms : -1,
    };
}
