/*
 * OffsetForLeaderEpoch (API key 23), versions 0..4 (KIP-101, KIP-279, KIP-320): for
 * each partition and leader epoch asked, the end offset of that epoch in this broker's
 * log — the start of the next higher epoch, or the log end offset for the latest —
 * with the largest epoch <= the one asked that the log knows (v1+). A consumer
 * validating its position after a reconnect (KIP-320) or a follower after a leader
 * change asks it, and truncates (or resets) where its own history and ours part.
 *
 * Versions: v1 adds leader_epoch to the answer, v2 current_leader_epoch to the request
 * (fencing: lower than ours → FENCED_LEADER_EPOCH, higher → UNKNOWN_LEADER_EPOCH) and
 * throttle_time_ms to the answer, v3 replica_id, v4 the flexible encoding.
 *
 * Authorization as Kafka's: replica_id >= 0 (a follower) needs CLUSTER_ACTION on the
 * cluster, else every partition gets CLUSTER_AUTHORIZATION_FAILED; a consumer
 * (replica_id -1, or below v3) needs DESCRIBE on each topic, else
 * TOPIC_AUTHORIZATION_FAILED, checked before the lookup so a denied caller cannot tell
 * whether it exists. Nothing here has side effects: the answer is written while the
 * request is read.
 */
#include "broker/api/handlers.h"
#include "broker/broker_int.h"
#include "broker/proto/codec.h"
#include "broker/security/security.h"
#include "common/errors.h"

st_req_result st_handle_offset_for_leader_epoch(st_req *req)
{
    st_broker *b = req->broker;
    st_rd *rd = &req->rd;
    int16_t v = req->api_version;
    bool flex = req->flex;
    st_buf *out = st_resp_buf(req->resp);

    int32_t replica_id = v >= 3 ? st_rd_i32(rd) : -1;
    bool cluster_denied =
        replica_id >= 0 && !st_req_allowed_cluster_to(req, ST_ACL_OP_CLUSTER_ACTION);
    if (v >= 2)
        st_buf_put_i32(out, 0); /* throttle_time_ms */

    size_t part_size = (v >= 2 ? 12 : 8) + (flex ? 1 : 0);
    int32_t ntopics = st_rd_array(rd, flex, flex ? 3 : 6);
    st_wr_array(out, flex, ntopics < 0 ? 0 : ntopics);
    for (int32_t t = 0; t < ntopics && !rd->err; t++) {
        st_str name = st_rd_str(rd, flex);
        const char *nm = name.ptr ? name.ptr : "";
        size_t len = name.len > 0 ? (size_t)name.len : 0;
        int16_t denied = 0;
        if (cluster_denied)
            denied = ST_ERR_CLUSTER_AUTHORIZATION_FAILED;
        else if (replica_id < 0 && !st_req_allowed(req, nm, len))
            denied = ST_ERR_TOPIC_AUTHORIZATION_FAILED;
        st_topic *topic = !denied && len > 0 ? st_topics_find(b->topics, nm, len) : NULL;
        st_wr_str(out, flex, name.len < 0 ? NULL : name.ptr, name.len);
        int32_t n = st_rd_array(rd, flex, part_size);
        st_wr_array(out, flex, n < 0 ? 0 : n);
        for (int32_t p = 0; p < n && !rd->err; p++) {
            int32_t index = st_rd_i32(rd);
            int32_t current = v >= 2 ? st_rd_i32(rd) : -1;
            int32_t asked = st_rd_i32(rd);
            st_rd_tags(rd, flex);
            int16_t error = denied;
            int32_t epoch = -1;
            int64_t end_offset = -1;
            if (!denied) {
                if (!topic || index < 0 || index >= st_topic_partition_count(topic)) {
                    error = ST_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                } else {
                    st_log *log = st_topic_log(topic, index);
                    error = (int16_t)st_log_check_leader_epoch(log, current);
                    if (!error)
                        st_log_end_offset_for_epoch(log, asked, &epoch, &end_offset);
                }
            }
            st_buf_put_i16(out, error);
            st_buf_put_i32(out, index);
            if (v >= 1)
                st_buf_put_i32(out, epoch);
            st_buf_put_i64(out, end_offset);
            st_wr_tags(out, flex);
        }
        st_rd_tags(rd, flex);
        st_wr_tags(out, flex);
    }
    st_rd_tags(rd, flex);
    st_wr_tags(out, flex);
    return rd->err ? ST_REQ_MALFORMED : ST_REQ_DONE;
}
