/*
 * Transactions in a partition's log: the markers the coordinator writes, and the open
 * and aborted transactions (broker/txn/txn_partition.h) that give the last stable
 * offset and a read_committed fetch's aborted-transactions list.
 *
 * The state lives in memory and is rebuilt at open from the segments, but only for a
 * log that has ever held a transactional batch: the first one creates the empty file
 * "transactions" in the log's directory (its name made durable by the same directory
 * fsync as the batch's data), so logs without transactions are never scanned. The
 * rebuild reads every batch header from the log start and the body of each control
 * batch (one small record).
 *
 * Loop thread, under the log's calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/log_int.h"
#include "broker/txn/txn_log.h"
#include "broker/txn/txn_partition.h"
#include "common/errors.h"
#include "common/logging.h"

static bool any_transactional(const uint8_t *records, size_t len)
{
    for (size_t pos = 0; pos + ST_BATCH_HEADER_SIZE <= len;) {
        st_batch_info b;
        if (st_batch_parse_header(records + pos, &b) != 0)
            return false;
        if (b.attributes & ST_BATCH_ATTR_TRANSACTIONAL)
            return true;
        pos += (size_t)b.size;
    }
    return false;
}

int st_log_txn_before_write(st_log *log, const uint8_t *records, size_t len, st_append_result *res)
{
    if (log->txns || !any_transactional(records, len))
        return ST_ERR_NONE;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", log->dir, ST_LOG_TXN_FILE);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || close(fd) < 0 || !(log->txns = st_txn_partition_new())) {
        snprintf(res->why, sizeof res->why, "storage error: cannot create %s: %s", path,
                 strerror(errno));
        return ST_ERR_KAFKA_STORAGE_ERROR;
    }
    log->dir_dirty = true; /* the next flush fsyncs the directory with the batch */
    return ST_ERR_NONE;
}

void st_log_txn_note(st_log *log, const uint8_t *records, size_t len)
{
    if (!log->txns)
        return;
    for (size_t pos = 0; pos + ST_BATCH_HEADER_SIZE <= len;) {
        st_batch_info b;
        if (st_batch_parse_header(records + pos, &b) != 0)
            return;
        if (st_txn_partition_on_batch(log->txns, records + pos, (size_t)b.size) < 0)
            st_error("%s: out of memory recording a transaction at offset %" PRId64
                     ": read_committed consumers may see it before it ends",
                     log->dir, b.base_offset);
        pos += (size_t)b.size;
    }
}

int st_log_txn_load(st_log *log, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", log->dir, ST_LOG_TXN_FILE);
    if (access(path, F_OK) != 0)
        return 0;
    if (!(log->txns = st_txn_partition_new())) {
        snprintf(err, errlen, "%s: out of memory", log->dir);
        return -1;
    }
    uint8_t header[ST_BATCH_HEADER_SIZE], *body = NULL;
    int rc = 0;
    for (int i = 0; i < log->nsegs && !rc; i++) {
        st_segment *s = log->segs[i];
        if (st_log_ensure_loaded(log, s) != ST_ERR_NONE) {
            snprintf(err, errlen, "%s: cannot open segment %020" PRId64 " to find its transactions",
                     log->dir, s->base);
            rc = -1;
            break;
        }
        st_scan sc;
        st_batch_info b;
        int64_t at;
        st_scan_init(&sc, s->file->fd, 0, s->size);
        while (!rc && st_scan_next(&sc, &b, &at) == ST_SCAN_BATCH) {
            if (!(b.attributes & ST_BATCH_ATTR_TRANSACTIONAL) ||
                b.base_offset + b.last_offset_delta < log->start_offset)
                continue;
            const uint8_t *batch = header;
            size_t size = sizeof header;
            if (b.attributes & ST_BATCH_ATTR_CONTROL) {
                /* the marker's type is in its record */
                uint8_t *grown = realloc(body, (size_t)b.size);
                if (!grown) {
                    rc = -1;
                    break;
                }
                body = grown;
                size = (size_t)b.size;
                batch = body;
            }
            if (pread(s->file->fd, (void *)batch, size, at) != (ssize_t)size) {
                snprintf(err, errlen, "%s: cannot read the batch at offset %" PRId64 ": %s",
                         log->dir, b.base_offset, strerror(errno));
                rc = -1;
                break;
            }
            /* a header alone is enough for a data batch: only its fields are used */
            if (!(b.attributes & ST_BATCH_ATTR_CONTROL))
                st_put_be32(header + 8, ST_BATCH_HEADER_SIZE - ST_BATCH_LOG_OVERHEAD);
            int r = st_txn_partition_on_batch(log->txns, batch, size);
            if (r < 0) {
                snprintf(err, errlen, "%s: out of memory", log->dir);
                rc = -1;
            } else if (r > 0) {
                st_warn("%s: the control batch at offset %" PRId64 " holds no marker: ignored",
                        log->dir, b.base_offset);
            }
        }
    }
    free(body);
    if (!rc) {
        size_t open_txns, aborted;
        st_txn_partition_counts(log->txns, &open_txns, &aborted);
        st_debug("%s: %zu open and %zu aborted transaction(s) in the log", log->dir, open_txns,
                 aborted);
    }
    return rc;
}

int st_log_append_marker(st_log *log, int64_t producer_id, int16_t producer_epoch, bool commit,
                         int32_t coordinator_epoch, int64_t now_ms, st_append_result *res)
{
    st_buf b = ST_BUF_INIT;
    size_t size =
        st_txn_marker_batch(&b, 0, now_ms, producer_id, producer_epoch, commit, coordinator_epoch);
    int rc = st_log_append_control(log, b.data, size, now_ms, res);
    st_buf_free(&b);
    return rc;
}

int64_t st_log_last_stable_offset(const st_log *log)
{
    return log->txns ? st_txn_partition_lso(log->txns, log->end_offset) : log->end_offset;
}

size_t st_log_aborted_txns(st_log *log, int64_t from, int64_t upto, struct st_txn_aborted *out,
                           size_t cap)
{
    if (!log->txns)
        return 0;
    st_txn_partition_trim(log->txns, log->start_offset);
    return st_txn_partition_aborted(log->txns, from, upto, out, cap);
}
