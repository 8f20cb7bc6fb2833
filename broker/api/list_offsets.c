/*
 * ListOffsets (API key 2), versions 1..5: the offset for a timestamp in each partition.
 * Timestamp -1 asks for the latest offset (the next one to be written), -2 for the
 * earliest still in the log; any other value for the first offset whose batch holds a
 * record that late (st_log_offset_for_time).
 *
 * v4 adds current_leader_epoch to the request (checked as Kafka does: lower than the
 * partition's → FENCED_LEADER_EPOCH, higher → UNKNOWN_LEADER_EPOCH; -1 no check) and
 * the found offset's leader epoch to the answer (KIP-320); v5 only changes what a
 * lagging follower's high watermark answers, which one broker never has.
 *
 * v0 (a list of offsets per partition) is not served: every client we know of uses
 * v1+. Nothing here has side effects, so the response is written while the request is
 * read, one topic lookup per topic.
 *
 * Authorization: DESCRIBE on each topic, else TOPIC_AUTHORIZATION_FAILED for its
 * partitions, checked before the lookup so a denied caller cannot tell whether it exists.
 */
#include "broker/api/handlers.h"
#include "broker/broker_int.h"
#include "broker/proto/codec.h"
#include "broker/security/security.h"
#include "common/errors.h"

#define LATEST_TIMESTAMP   (-1)
#define EARLIEST_TIMESTAMP (-2)

/* The offset for `timestamp` in log, its record's timestamp (by time only) and the leader
 * epoch it was written in; -1 for each when no record is that late. read_committed
 * (isolation_level 1) sees the log only up to its last stable offset, as Kafka: latest
 * is the LSO, and a record found by time at or past it is not answered. */
static void lookup(st_log *log, int64_t timestamp, bool read_committed, int64_t *offset,
                   int64_t *found_timestamp, int32_t *epoch)
{
    int64_t end = read_committed ? st_log_last_stable_offset(log) : st_log_end_offset(log);
    if (timestamp == LATEST_TIMESTAMP)
        *offset = end;
    else if (timestamp == EARLIEST_TIMESTAMP)
        *offset = st_log_start_offset(log);
    else
        st_log_offset_for_time(log, timestamp, offset, found_timestamp);
    if (*offset < 0 || (timestamp >= 0 && *offset >= end)) { /* none: Kafka answers -1 / -1 */
        *offset = *found_timestamp = -1;
        return;
    }
    *epoch =
        timestamp == LATEST_TIMESTAMP ? st_log_leader_epoch(log) : st_log_epoch_at(log, *offset);
}

st_req_result st_handle_list_offsets(st_req *req)
{
    st_broker *b = req->broker;
    st_rd *rd = &req->rd;
    int16_t v = req->api_version;
    st_buf *out = st_resp_buf(req->resp);

    st_rd_i32(rd); /* replica_id: no followers on a single node */
    bool read_committed = v >= 2 && st_rd_i8(rd) == 1; /* isolation_level */
    if (v >= 2)
        st_buf_put_i32(out, 0); /* throttle_time_ms */

    int32_t ntopics = st_rd_array(rd, false, 6);
    st_wr_array(out, false, ntopics < 0 ? 0 : ntopics);
    for (int32_t t = 0; t < ntopics && !rd->err; t++) {
        st_str name = st_rd_str(rd, false);
        bool allowed =
            st_req_allowed(req, name.ptr ? name.ptr : "", name.len > 0 ? (size_t)name.len : 0);
        st_topic *topic =
            allowed && name.len > 0 ? st_topics_find(b->topics, name.ptr, (size_t)name.len) : NULL;
        st_wr_str(out, false, name.len < 0 ? NULL : name.ptr, name.len);
        int32_t n = st_rd_array(rd, false, v >= 4 ? 16 : 12);
        st_wr_array(out, false, n < 0 ? 0 : n);
        for (int32_t p = 0; p < n && !rd->err; p++) {
            int32_t index = st_rd_i32(rd);
            int32_t current_epoch = v >= 4 ? st_rd_i32(rd) : -1;
            int64_t timestamp = st_rd_i64(rd);
            int16_t error = 0;
            int64_t offset = -1, found_timestamp = -1;
            int32_t epoch = -1;
            if (!allowed) {
                error = ST_ERR_TOPIC_AUTHORIZATION_FAILED;
            } else if (!topic || index < 0 || index >= st_topic_partition_count(topic)) {
                error = ST_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            } else {
                st_log *log = st_topic_log(topic, index);
                error = (int16_t)st_log_check_leader_epoch(log, current_epoch);
                if (!error)
                    lookup(log, timestamp, read_committed, &offset, &found_timestamp, &epoch);
            }
            st_buf_put_i32(out, index);
            st_buf_put_i16(out, error);
            st_buf_put_i64(out, found_timestamp);
            st_buf_put_i64(out, offset);
            if (v >= 4)
                st_buf_put_i32(out, epoch);
        }
    }
    return rd->err ? ST_REQ_MALFORMED : ST_REQ_DONE;
}
