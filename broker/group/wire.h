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
#include "broker/group/group_int.h"
#include "broker/security/security.h"

/* The fewest bytes a string (int16 length, or a compact uvarint), an array count and a
 * tagged-field block take, for st_rd_array's bound on a hostile count. */
#define GRP_STR_MIN(flex)  ((flex) ? 1u : 2u)
#define GRP_TAGS_MIN(flex) ((flex) ? 1u : 0u)
#define GRP_ARR_MIN(flex)  ((flex) ? 1u : 4u)

/* May the caller do `op` on the group / topic named by a wire string (borrowed)? */
/* The row's operation (READ for JoinGroup, DESCRIBE for OffsetFetch, ...) on group id. */
static inline bool grp_group_allowed(const st_req *req, st_str id)
{
    return st_req_allowed(req, id.ptr ? id.ptr : "", id.len > 0 ? (size_t)id.len : 0);
}

static inline bool grp_topic_allowed(const st_req *req, st_acl_operation op, st_str name)
{
    return st_req_allowed_to(req, op, ST_ACL_RESOURCE_TOPIC, name.ptr ? name.ptr : "",
                             name.len > 0 ? (size_t)name.len : 0);
}

/* A group or a committed offset is answered in full once per request. A request can
 * name the same big group or offset many times in a few bytes each (OffsetFetch v8
 * groups, a partition listed again, DescribeGroups): answered in full every time, an
 * 80 KB OffsetFetch v8 made a 480 MB answer. A handler takes a serial for its request;
 * grp_first_answer marks the thing answered in it, and is false for a repeat, which the
 * handler refuses with INVALID_REQUEST (as DescribeConfigs refuses a repeated resource).
 * The serial never wraps (64 bits), so an old mark is never mistaken for this request's. */
static inline uint64_t grp_request_serial(st_groups *g)
{
    return ++g->request_serial;
}

static inline bool grp_first_answer(uint64_t *answered_in, uint64_t serial)
{
    if (*answered_in == serial)
        return false;
    *answered_in = serial;
    return true;
}

/* throttle_time_ms (always 0 here) in the versions from from_version on. */
static inline void grp_put_throttle(st_buf *out, const st_req *req, int16_t from_version)
{
    if (req->api_version >= from_version)
        st_buf_put_i32(out, 0);
}

#endif
