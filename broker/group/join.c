/*
 * JoinGroup: new dynamic members (KIP-394's MEMBER_ID_REQUIRED round trip), known
 * members rejoining, and static members (group.instance.id, KIP-345), as Kafka 3's
 * GroupCoordinator does them. The state machine it drives is in coordinator.c.
 *
 * A static member is one JoinGroup v5+ carries a group.instance.id for. It gets a member
 * id at once ("<instance id>-<uuid>", no MEMBER_ID_REQUIRED round trip). When an instance
 * id the group already holds comes back with no member id (the consumer restarted within
 * its session timeout), the member keeps its place under a new member id:
 *
 *   Stable                 its assignment and the generation stay; no rebalance, unless
 *                          its new protocols change the protocol the group would select.
 *                          The answer names the previous leader, so a restarted leader
 *                          does not run the assignor for a group that is not rebalancing.
 *   CompletingRebalance    a rebalance (the leader may be assigning to the old member id)
 *   PreparingRebalance     it joins the rebalance under its new id
 *
 * The instance it replaced is fenced: a parked JoinGroup or SyncGroup of it is answered
 * FENCED_INSTANCE_ID (82), and so is every later request naming the old member id with
 * the instance id (grp_validate_member), which tells a zombie duplicate to shut down.
 *
 * Loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"
#include "broker/group/group_int.h"
#include "common/errors.h"
#include "common/logging.h"

/* Instance ids are kept as C strings and printed: non-empty, no NUL byte. */
static bool instance_id_valid(st_str id)
{
    return id.len > 0 && memchr(id.ptr, 0, (size_t)id.len) == NULL;
}

/* groups.max_size (Kafka's group.max.size): may one more member join grp? Members count,
 * pending ids do not (GROUP_MAX_PENDING bounds those); a known member rejoining or a static
 * instance taking its own place never grows the group and is never asked. Without it a
 * client could grow a group without end: JoinGroup v0-3 adds a member per request, and so
 * does every new group.instance.id. */
static bool group_has_room(const grp_group *grp)
{
    return !grp || grp->nmembers < (size_t)grp->owner->b->cfg.group_max_size;
}

/* Refuses a JoinGroup that would add a member to a full group. The refusal is logged once
 * until the group has room again: a client retrying in a loop must not flood the log. */
static int group_full(grp_group *grp, grp_join_result *res)
{
    if (!grp->full_logged)
        st_info("group \"%s\": JoinGroup of a new member refused: the group has %zu member(s), "
                "groups.max_size (group.max.size) is %d (logged once until it has room)",
                grp->id, grp->nmembers, (int)grp->owner->b->cfg.group_max_size);
    grp->full_logged = true;
    return res->error = ST_ERR_GROUP_MAX_SIZE_REACHED, 0;
}

/* A known static member came back with no member id: it takes a new one and keeps its
 * place (see the file comment). */
static int replace_static(grp_group *grp, grp_member *m, const grp_join_args *a, grp_join_cb *cb,
                          void *arg, grp_join_result *res)
{
    st_groups *g = grp->owner;
    /* The old instance is fenced: whatever it has parked learns so. */
    grp_answer_join_error(m, ST_ERR_FENCED_INSTANCE_ID);
    grp_answer_sync(m, ST_ERR_FENCED_INSTANCE_ID);
    /* The answer names the leader as it was (possibly m's old id): kept in the echo slot,
     * valid until the next call, like every answer. */
    const char *old_leader =
        grp->leader
            ? grp_echo(g, (st_str){grp->leader->member_id, (int32_t)strlen(grp->leader->member_id)})
            : "";
    char *old_id = m->member_id;
    m->member_id = grp_new_member_id(a->group_instance_id);
    res->member_id = m->member_id; /* the echo of the request's "" was just replaced */
    st_info("group \"%s\": static member of instance %s rejoined (%s): member id %s replaces %s",
            grp->id, m->group_instance_id, st_group_state_name(grp->state), m->member_id, old_id);
    free(old_id);

    switch (grp->state) {
    case ST_GROUP_STABLE: {
        char *protocol_before = grp->protocol;
        grp_member_update(m, a);
        grp_touch_session(m);
        if (strcmp(grp_select_protocol(grp), protocol_before) != 0) {
            st_info("group \"%s\": instance %s changes the group's protocol: rebalancing", grp->id,
                    m->group_instance_id);
            grp_update_member_and_rebalance(grp, m, a, cb, arg);
            return ST_ERR__DEFERRED;
        }
        /* Persist the new member id (Kafka's storeGroup); the assignment stays. */
        grp_offsets_write_group(g, grp);
        grp_fill_join_result(grp, m, false, res);
        res->leader_id = old_leader;
        return 0;
    }
    case ST_GROUP_COMPLETING_REBALANCE:
    case ST_GROUP_PREPARING_REBALANCE:
        grp_update_member_and_rebalance(grp, m, a, cb, arg);
        return ST_ERR__DEFERRED;
    default:
        /* A group with a static member has members: never Empty or Dead. */
        return res->error = ST_ERR_UNKNOWN_MEMBER_ID, 0;
    }
}

/* A JoinGroup without a member id. */
static int join_new(st_groups *g, grp_group *grp, const grp_join_args *a, grp_join_cb *cb,
                    void *arg, grp_join_result *res)
{
    bool is_static = a->group_instance_id.len >= 0;
    if (!grp_supports_protocols(grp, a))
        return res->error = ST_ERR_INCONSISTENT_GROUP_PROTOCOL, 0;
    if (!grp)
        grp = grp_get_or_create(g, a->group_id);
    if (is_static) {
        grp_member *known = grp_find_static(grp, a->group_instance_id);
        if (known)
            return replace_static(grp, known, a, cb, arg, res);
    } else if (a->require_known_member_id && grp->npending >= GROUP_MAX_PENDING) {
        return res->error = ST_ERR_GROUP_MAX_SIZE_REACHED, 0;
    }
    if (!group_has_room(grp))
        return group_full(grp, res);
    grp_member *m = grp_member_new(grp, a, grp_on_session_timeout);
    if (!is_static && a->require_known_member_id) {
        /* KIP-394: the client must come back with this id, so a client that times out
         * and retries never leaves a ghost member behind. A static member needs no such
         * round trip: its instance id already says who it is. */
        m->pending = true;
        grp_member_forget_protocols(m);
        grp_list_add(&grp->pending, &grp->npending, &grp->pending_cap, m);
        grp_touch_session(m);
        res->error = ST_ERR_MEMBER_ID_REQUIRED;
        res->member_id = m->member_id;
        return 0;
    }
    if (is_static)
        st_info("group \"%s\": static member of instance %s joins as %s", grp->id,
                m->group_instance_id, m->member_id);
    grp_add_member_and_rebalance(grp, m, a->protocol_type, cb, arg);
    return ST_ERR__DEFERRED;
}

int grp_join(st_groups *g, const grp_join_args *a, grp_join_cb *cb, void *arg, grp_join_result *res)
{
    *res = (grp_join_result){0, -1, "", "", grp_echo(g, a->member_id), 0, NULL};
    st_broker_config *cfg = &g->b->cfg;
    if (g->closing)
        return res->error = ST_ERR_COORDINATOR_NOT_AVAILABLE, 0;
    if (!grp_id_valid(a->group_id))
        return res->error = ST_ERR_INVALID_GROUP_ID, 0;
    if (a->group_instance_id.len >= 0 && !instance_id_valid(a->group_instance_id))
        return res->error = ST_ERR_INVALID_REQUEST, 0;
    if (a->session_timeout_ms < cfg->group_min_session_timeout_ms ||
        a->session_timeout_ms > cfg->group_max_session_timeout_ms)
        return res->error = ST_ERR_INVALID_SESSION_TIMEOUT, 0;
    grp_group *grp = grp_find(g, a->group_id);
    if (grp && group_has_room(grp))
        grp->full_logged = false;
    if (a->member_id.len <= 0)
        return join_new(g, grp, a, cb, arg, res);

    if (!grp)
        return res->error = ST_ERR_UNKNOWN_MEMBER_ID, 0;
    grp_member *p = a->group_instance_id.len < 0
                        ? grp_find_in(grp->pending, grp->npending, a->member_id)
                        : NULL;
    if (p) {
        if (!grp_supports_protocols(grp, a))
            return res->error = ST_ERR_INCONSISTENT_GROUP_PROTOCOL, 0;
        if (!group_has_room(grp)) {
            /* The group filled up since the id was handed out: the id is forgotten, as
             * Kafka does, so the client starts over rather than retrying with it. */
            grp_remove_pending(grp, p);
            return group_full(grp, res);
        }
        grp_list_remove(grp->pending, &grp->npending, p);
        p->pending = false;
        grp_member_update(p, a);
        grp_add_member_and_rebalance(grp, p, a->protocol_type, cb, arg);
        return ST_ERR__DEFERRED;
    }
    grp_member *m;
    int err = grp_validate_member(grp, a->member_id, a->group_instance_id, &m);
    if (err) {
        if (err == ST_ERR_FENCED_INSTANCE_ID)
            st_info("group \"%s\": JoinGroup from member %s of instance %.*s refused "
                    "(FENCED_INSTANCE_ID): a newer instance holds that id",
                    grp->id, res->member_id, (int)a->group_instance_id.len,
                    a->group_instance_id.ptr);
        return res->error = (int16_t)err, 0;
    }
    if (!grp_supports_protocols(grp, a))
        return res->error = ST_ERR_INCONSISTENT_GROUP_PROTOCOL, 0;
    switch (grp->state) {
    case ST_GROUP_PREPARING_REBALANCE:
        grp_update_member_and_rebalance(grp, m, a, cb, arg);
        return ST_ERR__DEFERRED;
    case ST_GROUP_COMPLETING_REBALANCE:
        /* The member missed our answer (a retry): the same answer again, unless its
         * protocols changed. */
        if (grp_protocols_match(m, a)) {
            grp_fill_join_result(grp, m, m == grp->leader, res);
            return 0;
        }
        grp_update_member_and_rebalance(grp, m, a, cb, arg);
        return ST_ERR__DEFERRED;
    case ST_GROUP_STABLE:
        /* The leader rejoining asks for a new assignment (topics changed); a follower
         * rejoining with the same protocols just gets the current generation. */
        if (m == grp->leader || !grp_protocols_match(m, a)) {
            grp_update_member_and_rebalance(grp, m, a, cb, arg);
            return ST_ERR__DEFERRED;
        }
        grp_touch_session(m);
        grp_fill_join_result(grp, m, false, res);
        return 0;
    default:
        return res->error = ST_ERR_UNKNOWN_MEMBER_ID, 0;
    }
}
