/*
 * What the consumer group APIs' wire handlers share (handlers.c: FindCoordinator, the
 * membership and admin APIs; offset_handlers.c: OffsetCommit, OffsetFetch): the
 * authorization checks on wire names and the size bounds of flexible encodings.
 *
 * Private to broker/group/. Loop thread only.
 */
#ifndef ST_BROKER_GROUP_WIRE_H
#define ST_BROKER_GROUP_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/broker_int.h"
#include "broker/security/security.h"

/* The fewest bytes a string (int16 length, or a compact uvarint), an array count and a
 * tagged-field block take, for st_rd_array's bound on a hostile count. */
#define GRP_STR_MIN(flex)  ((flex) ? 1u : 2u)
#define GRP_TAGS_MIN(flex) ((flex) ? 1u : 0u)
#define GRP_ARR_MIN(flex)  ((flex) ? 1u : 4u)

/* May the caller do `op` on the group / topic named by a wire string (borrowed)? */
static inline bool grp_group_allowed(const st_req *req, st_acl_operation op, st_str id)
{
    return st_authorize(req, op, ST_ACL_RESOURCE_GROUP, id.ptr ? id.ptr : "",
                        id.len > 0 ? (size_t)id.len : 0);
}

static inline bool grp_topic_allowed(const st_req *req, st_acl_operation op, st_str name)
{
    return st_authorize(req, op, ST_ACL_RESOURCE_TOPIC, name.ptr ? name.ptr : "",
                        name.len > 0 ? (size_t)name.len : 0);
}

/* throttle_time_ms (always 0 here) in the versions from from_version on. */
static inline void grp_put_throttle(st_buf *out, const st_req *req, int16_t from_version)
{
    if (req->api_version >= from_version)
        st_buf_put_i32(out, 0);
}

#endif
