/*
 * DeleteRecords (API key 21), versions 0..1: moves partitions' log start offsets up
 * (kafka-delete-records.sh, AdminClient.deleteRecords). An offset of -1 means the high
 * watermark, i.e. everything written so far.
 *
 * timeout_ms comes after the topics, so the request is first walked without acting on
 * it: a malformed body deletes nothing. Deleting is synchronous on a single node (no
 * replicas to wait for), so the timeout is never needed.
 *
 * Authorization: DELETE on each topic, else TOPIC_AUTHORIZATION_FAILED for its
 * partitions, checked before the lookup so a denied caller cannot tell whether it exists.
 */
#include "broker/api/handlers.h"
#include "broker/broker_int.h"
#include "broker/proto/codec.h"
#include "broker/security/security.h"
#include "common/errors.h"
#include "common/logging.h"

#define HIGH_WATERMARK (-1)

/* First walk: does the body parse? Takes a copy of the cursor. */
static int delete_records_scan(st_rd rd)
{
    int32_t ntopics = st_rd_array(&rd, false, 6);
    for (int32_t t = 0; t < ntopics && !rd.err; t++) {
        st_rd_str(&rd, false);
        int32_t n = st_rd_array(&rd, false, 12);
        st_rd_skip(&rd, (size_t)(n > 0 ? n : 0) * 12);
    }
    st_rd_i32(&rd); /* timeout_ms */
    return rd.err ? ST_ERR__MALFORMED : 0;
}

st_req_result st_handle_delete_records(st_req *req)
{
    st_broker *b = req->broker;
    st_rd *rd = &req->rd;
    if (delete_records_scan(*rd))
        return ST_REQ_MALFORMED;
    const char *peer = req->conn ? st_conn_peer(req->conn) : "(no connection)";

    st_buf *out = st_resp_buf(req->resp);
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
        int32_t n = st_rd_array(rd, false, 12);
        st_wr_array(out, false, n < 0 ? 0 : n);
        for (int32_t p = 0; p < n && !rd->err; p++) {
            int32_t index = st_rd_i32(rd);
            int64_t offset = st_rd_i64(rd);
            int64_t low_watermark = -1;
            int rc;
            if (!allowed) {
                rc = ST_ERR_TOPIC_AUTHORIZATION_FAILED;
            } else if (!topic || index < 0 || index >= st_topic_partition_count(topic)) {
                rc = ST_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            } else if (offset < 0 && offset != HIGH_WATERMARK) {
                rc = ST_ERR_OFFSET_OUT_OF_RANGE; /* as Kafka: only -1 may be negative */
            } else {
                rc = st_log_delete_records(st_topic_log(topic, index), offset, &low_watermark);
                if (rc < ST_ERR_UNKNOWN_SERVER_ERROR) /* internal (I/O): not a wire code */
                    rc = ST_ERR_KAFKA_STORAGE_ERROR;
                if (rc)
                    low_watermark = -1;
                else
                    st_info("%s: deleted records of %s-%d below offset %lld", peer,
                            st_topic_name(topic), index, (long long)low_watermark);
            }
            st_buf_put_i32(out, index);
            st_buf_put_i64(out, low_watermark);
            st_buf_put_i16(out, (int16_t)rc);
        }
    }
    st_rd_i32(rd); /* timeout_ms */
    return rd->err ? ST_REQ_MALFORMED : ST_REQ_DONE;
}
