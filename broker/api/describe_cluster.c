/*
 * DescribeCluster (60, v0; flexible): the cluster id, the controller and the brokers —
 * what Kafka's admin clients (Java 2.8+, librdkafka 2.3+) ask instead of Metadata for
 * `describeCluster`. Here the cluster is this broker, which is also the controller; its
 * address is the one Metadata gives (the listener the client came in on).
 *
 * cluster_authorized_operations is computed only when asked for, as Kafka does: a bit
 * per ACL operation code (Kafka's AclOperation numbering, which st_acl_operation
 * follows) that the caller may perform on the cluster, or 0 for a caller that may not
 * DESCRIBE the cluster (Kafka's rule: a tenant user learns nothing of its cluster
 * rights here). Otherwise INT32_MIN, "not provided". No authorization is needed to
 * describe the cluster, as for Metadata.
 */
#include <stdint.h>

#include "broker/broker_int.h"
#include "broker/request/session.h"
#include "broker/security/security.h"
#include "common/errors.h"

#define AUTHORIZED_OPERATIONS_UNKNOWN INT32_MIN

/* The operations Kafka defines on the cluster resource. */
static const st_acl_operation cluster_ops[] = {
    ST_ACL_OP_CREATE,           ST_ACL_OP_ALTER,
    ST_ACL_OP_DESCRIBE,         ST_ACL_OP_CLUSTER_ACTION,
    ST_ACL_OP_DESCRIBE_CONFIGS, ST_ACL_OP_ALTER_CONFIGS,
    ST_ACL_OP_IDEMPOTENT_WRITE,
};

st_req_result st_handle_describe_cluster(st_req *req)
{
    const st_broker *b = req->broker;
    st_rd *rd = &req->rd;
    bool include_ops = st_rd_bool(rd);
    st_rd_tags(rd, true);
    if (rd->err)
        return ST_REQ_MALFORMED;

    int32_t ops = AUTHORIZED_OPERATIONS_UNKNOWN;
    if (include_ops) {
        ops = 0;
        bool may_describe = st_req_allowed_cluster_to(req, ST_ACL_OP_DESCRIBE);
        for (size_t i = 0; may_describe && i < sizeof cluster_ops / sizeof cluster_ops[0]; i++)
            if (st_req_allowed_cluster_to(req, cluster_ops[i]))
                ops |= (int32_t)(1u << cluster_ops[i]);
    }
    const char *host = b->cfg.advertised_host[0] ? b->cfg.advertised_host : b->cfg.listen_host;
    const st_session *s = st_req_session(req);
    int port = b->cfg.advertised_port;
    if (!port)
        port = s && s->listener_port ? s->listener_port : st_broker_port(b);

    st_buf *w = st_resp_buf(req->resp);
    st_buf_put_i32(w, 0);           /* throttle_time_ms */
    st_buf_put_i16(w, ST_ERR_NONE); /* error_code */
    st_wr_str(w, true, NULL, -1);   /* error_message */
    st_wr_str(w, true, b->cfg.cluster_id, -1);
    st_buf_put_i32(w, b->cfg.node_id); /* controller: this broker */
    st_wr_array(w, true, 1);
    st_buf_put_i32(w, b->cfg.node_id);
    st_wr_str(w, true, host, -1);
    st_buf_put_i32(w, port);
    st_wr_str(w, true, NULL, -1); /* rack */
    st_wr_tags(w, true);
    st_buf_put_i32(w, ops);
    st_wr_tags(w, true);
    return ST_REQ_DONE;
}
