/*
 * The group coordinator's heart: groups, Kafka's classic rebalance state machine, its
 * timers, and the requests that drive it (JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup, OffsetCommit's membership check). Members and protocol rules are in
 * members.c, committed offsets and the __consumer_offsets records in offsets.c,
 * views and admin operations in admin.c, the wire in handlers.c and offset_handlers.c.
 *
 *   Empty --JoinGroup--> PreparingRebalance --join phase ends--> CompletingRebalance
 *     ^                    |   ^     ^                               |        |
 *     |   join phase ends  |   |     +--- a member leaves/expires ---+        | leader's
 *     +--- with nobody ----+   |          or rejoins with new metadata         | SyncGroup
 *                              |                                               v
 *                              +--- a member joins, leaves/expires, ------- Stable
 *                                   or the leader rejoins
 *
 *   Empty (only) --DeleteGroups--> Dead, and the group is forgotten.
 *
 * An Empty group's join phase starts with the initial rebalance delay; afterwards it
 * ends once every known member has rejoined (and no handed-out member id is still
 * unused), or when the largest rebalance timeout passes, dropping who did not rejoin.
 * Every state change goes through grp_transition(), which asserts it is one of these
 * (valid_from[] is the table).
 *
 * Timers, all st_timer embedded in their owner: each member's session timer (a
 * member whose JoinGroup or SyncGroup is parked is kept alive, as Kafka does: the
 * join and sync timers bound that wait), each pending member id's timer (a
 * MEMBER_ID_REQUIRED answer not followed by a JoinGroup within the session timeout is
 * forgotten), each group's join timer, which is first the initial rebalance delay of an
 * Empty group (extended while new members keep arriving, up to the rebalance timeout,
 * like Kafka's InitialDelayedJoin) and otherwise the largest rebalance timeout of the
 * members, and each group's sync timer.
 *
 * The sync phase is bounded too (Kafka 3's DelayedSync): when a join phase ends, every
 * member of the new generation is pending_sync until its SyncGroup arrives; if any still
 * is when the largest rebalance timeout has passed, those members are removed and the
 * group rebalances. Without it a leader that heartbeats (so its session never expires)
 * but never sends its SyncGroup would keep the followers parked in SyncGroup for ever.
 *
 * Static members (group.instance.id, KIP-345) are in join.c: a restarted one takes its
 * old place (assignment, generation) under a new member id without a rebalance, and the
 * instance it replaced is fenced (FENCED_INSTANCE_ID). A static member that has not
 * rejoined when a join phase ends is not dropped like a dynamic one: it is in the new
 * generation, pending_sync, so the sync timer removes it if it is not back and synced
 * within the rebalance timeout (its session timer may do so sooner).
 *
 * Loop thread only.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"
#include "broker/group/group_int.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/logging.h"

static const char *const state_names[] = {"Empty", "PreparingRebalance", "CompletingRebalance",
                                          "Stable", "Dead"};

const char *st_group_state_name(st_group_state s)
{
    return (unsigned)s < sizeof state_names / sizeof state_names[0] ? state_names[s] : "Unknown";
}

#define BIT(s) (1u << (s))
/* The states each state may be entered from (Kafka's GroupState.validPreviousStates). */
static const unsigned valid_from[] = {
    [ST_GROUP_EMPTY] = BIT(ST_GROUP_PREPARING_REBALANCE),
    [ST_GROUP_PREPARING_REBALANCE] =
        BIT(ST_GROUP_EMPTY) | BIT(ST_GROUP_COMPLETING_REBALANCE) | BIT(ST_GROUP_STABLE),
    [ST_GROUP_COMPLETING_REBALANCE] = BIT(ST_GROUP_PREPARING_REBALANCE),
    [ST_GROUP_STABLE] = BIT(ST_GROUP_COMPLETING_REBALANCE),
    [ST_GROUP_DEAD] = BIT(ST_GROUP_EMPTY) | BIT(ST_GROUP_PREPARING_REBALANCE) |
                      BIT(ST_GROUP_COMPLETING_REBALANCE) | BIT(ST_GROUP_STABLE) |
                      BIT(ST_GROUP_DEAD),
};

void grp_transition(grp_group *grp, st_group_state to)
{
    assert(valid_from[to] & BIT(grp->state));
    st_debug("group \"%s\": %s -> %s (generation %d)", grp->id, st_group_state_name(grp->state),
             st_group_state_name(to), grp->generation);
    grp->state = to;
    grp->state_timestamp_ms = st_wall_ms();
}

/* ---- groups ---- */

/* Index of the group with this id, or where it would go (*found false). */
static size_t group_slot(const st_groups *g, st_str id, bool *found)
{
    size_t lo = 0, hi = g->ngroups;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = grp_str_cmp(id, g->groups[mid]->id);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

grp_group *grp_find(st_groups *g, st_str id)
{
    bool found;
    size_t i = group_slot(g, id, &found);
    return found ? g->groups[i] : NULL;
}

static void on_join_timer(st_loop *loop, st_timer *t);
static void on_sync_timer(st_loop *loop, st_timer *t);

grp_group *grp_get_or_create(st_groups *g, st_str id)
{
    bool found;
    size_t i = group_slot(g, id, &found);
    if (found)
        return g->groups[i];
    grp_group *grp = grp_xcalloc(1, sizeof *grp);
    grp->owner = g;
    grp->id = grp_dup_str(id);
    grp->state = ST_GROUP_EMPTY;
    grp->protocol_type = grp_dup_cstr("");
    grp->protocol = grp_dup_cstr("");
    grp->state_timestamp_ms = st_wall_ms();
    grp->join_timer.cb = on_join_timer;
    grp->join_timer.arg = grp;
    grp->sync_timer.cb = on_sync_timer;
    grp->sync_timer.arg = grp;
    if (g->ngroups == g->groups_cap) {
        g->groups_cap = g->groups_cap ? 2 * g->groups_cap : 16;
        g->groups = grp_xrealloc(g->groups, g->groups_cap * sizeof *g->groups);
    }
    memmove(&g->groups[i + 1], &g->groups[i], (g->ngroups - i) * sizeof *g->groups);
    g->groups[i] = grp;
    g->ngroups++;
    return grp;
}

/* ---- answering parked requests ---- */

void grp_answer_join_error(grp_member *m, int error)
{
    grp_join_cb *cb = m->join_cb;
    if (!cb)
        return;
    m->join_cb = NULL;
    grp_join_result r = {(int16_t)error, -1, "", "", m->member_id, 0, NULL};
    cb(m->join_arg, &r);
}

void grp_answer_sync(grp_member *m, int error)
{
    grp_sync_cb *cb = m->sync_cb;
    if (!cb)
        return;
    m->sync_cb = NULL;
    grp_sync_result r = {(int16_t)error, NULL, 0};
    if (!error) {
        r.assignment = m->assignment;
        r.assignment_len = m->assignment_len;
    }
    cb(m->sync_arg, &r);
}

/* Room for n join members in the scratch area. */
static grp_join_member *scratch_members(st_groups *g, size_t n)
{
    size_t need = (n ? n : 1) * sizeof(grp_join_member);
    if (g->scratch_cap < need) {
        g->scratch = grp_xrealloc(g->scratch, need);
        g->scratch_cap = need;
    }
    return g->scratch;
}

void grp_fill_join_result(grp_group *grp, grp_member *m, bool with_members, grp_join_result *r)
{
    *r = (grp_join_result){0,
                           grp->generation,
                           grp->protocol,
                           grp->leader ? grp->leader->member_id : "",
                           m->member_id,
                           0,
                           NULL};
    if (!with_members)
        return;
    grp_join_member *list = scratch_members(grp->owner, grp->nmembers);
    for (size_t i = 0; i < grp->nmembers; i++) {
        const grp_member *o = grp->members[i];
        const grp_protocol *p = grp_member_protocol(o, grp->protocol);
        list[i] = (grp_join_member){o->member_id, o->group_instance_id, p ? p->metadata : NULL,
                                    p ? p->metadata_len : 0};
    }
    r->members = list;
    r->nmembers = grp->nmembers;
}

/* ---- the join phase ---- */

static int64_t max_rebalance_timeout(const grp_group *grp)
{
    int64_t t = 0;
    for (size_t i = 0; i < grp->nmembers; i++)
        if (grp->members[i]->rebalance_timeout_ms > t)
            t = grp->members[i]->rebalance_timeout_ms;
    for (size_t i = 0; i < grp->npending; i++)
        if (grp->pending[i]->rebalance_timeout_ms > t)
            t = grp->pending[i]->rebalance_timeout_ms;
    return t;
}

/* The sync phase is over (every member synced, or a rebalance began): no timer, and
 * nobody is waited for. */
static void end_sync_phase(grp_group *grp)
{
    st_timer_stop(grp->owner->loop, &grp->sync_timer);
    for (size_t i = 0; i < grp->nmembers; i++)
        grp->members[i]->pending_sync = false;
}

static void prepare_rebalance(grp_group *grp)
{
    st_groups *g = grp->owner;
    if (grp->state == ST_GROUP_COMPLETING_REBALANCE) {
        /* The leader's assignment will never come for this generation: everyone
         * waiting in SyncGroup learns to rejoin. */
        for (size_t i = 0; i < grp->nmembers; i++) {
            grp_member *m = grp->members[i];
            free(m->assignment);
            m->assignment = NULL;
            m->assignment_len = 0;
            grp_answer_sync(m, ST_ERR_REBALANCE_IN_PROGRESS);
        }
    }
    end_sync_phase(grp);
    grp->awaiting_static = false;
    bool was_empty = grp->state == ST_GROUP_EMPTY;
    grp_transition(grp, ST_GROUP_PREPARING_REBALANCE);
    int64_t timeout = max_rebalance_timeout(grp);
    if (was_empty) {
        int64_t delay = g->b->cfg.group_initial_rebalance_delay_ms;
        grp->initial_delay = true;
        grp->new_member_added = false;
        grp->delay_remaining = timeout > delay ? timeout - delay : 0;
        st_timer_start(g->loop, &grp->join_timer, delay);
    } else {
        grp->initial_delay = false;
        st_timer_start(g->loop, &grp->join_timer, timeout);
    }
    st_info("group \"%s\": preparing rebalance (generation %d, %zu member(s))", grp->id,
            grp->generation, grp->nmembers);
}

static void maybe_prepare_rebalance(grp_group *grp)
{
    if (grp->state == ST_GROUP_EMPTY || grp->state == ST_GROUP_STABLE ||
        grp->state == ST_GROUP_COMPLETING_REBALANCE)
        prepare_rebalance(grp);
}

/* Takes m out of the group's member list and frees it (no state change). */
static void drop_member(grp_group *grp, grp_member *m)
{
    grp_list_remove(grp->members, &grp->nmembers, m);
    if (grp->leader == m)
        grp->leader = grp->nmembers ? grp->members[0] : NULL;
    grp_member_free(grp->owner, m);
}

/* The leader of the next generation must be a member that rejoined (a static member may
 * still be away): keeps the leader if it did, else takes the first that did (Kafka's
 * maybeElectNewJoinedLeader). False when nobody rejoined. */
static bool elect_joined_leader(grp_group *grp)
{
    if (grp->leader && grp->leader->join_cb)
        return true;
    for (size_t i = 0; i < grp->nmembers; i++) {
        if (grp->members[i]->join_cb) {
            grp->leader = grp->members[i];
            return true;
        }
    }
    return false;
}

/* The join phase is over: the next generation starts with the members that rejoined,
 * and the static members that have not (yet). */
static void complete_join(grp_group *grp)
{
    st_groups *g = grp->owner;
    st_timer_stop(g->loop, &grp->join_timer);
    grp->initial_delay = false;
    for (size_t i = 0; i < grp->nmembers;) {
        grp_member *m = grp->members[i];
        if (m->join_cb || m->group_instance_id) {
            i++;
            continue;
        }
        st_info("group \"%s\": member %s did not rejoin within the rebalance timeout: removed",
                grp->id, m->member_id);
        grp_answer_sync(m, ST_ERR_REBALANCE_IN_PROGRESS);
        drop_member(grp, m);
    }
    if (grp->nmembers > 0 && !elect_joined_leader(grp)) {
        /* Only static members that have not rejoined: wait another rebalance timeout;
         * their session timeouts remove the ones that are gone. A client may send a
         * rebalance timeout of 0: re-armed at 0 for as long as its member stays away (and
         * it may keep heartbeating), this timer would spin the loop, so the wait has a
         * floor, and the warning is logged once per join phase. */
        if (!grp->awaiting_static)
            st_warn("group \"%s\": none of its %zu static member(s) rejoined within the "
                    "rebalance timeout: waiting again",
                    grp->id, grp->nmembers);
        grp->awaiting_static = true;
        int64_t wait = max_rebalance_timeout(grp);
        st_timer_start(g->loop, &grp->join_timer,
                       wait > GROUP_REJOIN_WAIT_MIN_MS ? wait : GROUP_REJOIN_WAIT_MIN_MS);
        return;
    }
    grp->awaiting_static = false;
    grp->generation++;
    free(grp->protocol);
    if (grp->nmembers == 0) {
        grp->protocol = grp_dup_cstr("");
        grp_transition(grp, ST_GROUP_EMPTY);
        grp_offsets_write_group(g, grp);
        return;
    }
    grp->protocol = grp_dup_cstr(grp_select_protocol(grp));
    grp_transition(grp, ST_GROUP_COMPLETING_REBALANCE);
    st_info("group \"%s\": generation %d with %zu member(s), protocol %s, leader %s", grp->id,
            grp->generation, grp->nmembers, grp->protocol, grp->leader->member_id);
    grp_join_result leader_res;
    grp_fill_join_result(grp, grp->leader, true, &leader_res);
    for (size_t i = 0; i < grp->nmembers; i++) {
        grp_member *m = grp->members[i];
        m->pending_sync = true;
        grp_touch_session(m);
        grp_join_cb *cb = m->join_cb;
        if (!cb)
            continue; /* a static member still away: it learns the generation when back */
        grp_join_result r;
        if (m == grp->leader)
            r = leader_res;
        else
            grp_fill_join_result(grp, m, false, &r);
        m->join_cb = NULL;
        cb(m->join_arg, &r);
    }
    st_timer_start(g->loop, &grp->sync_timer, max_rebalance_timeout(grp));
}

static bool all_joined(const grp_group *grp)
{
    if (grp->npending)
        return false;
    for (size_t i = 0; i < grp->nmembers; i++)
        if (!grp->members[i]->join_cb)
            return false;
    return true;
}

static void try_complete_join(grp_group *grp)
{
    if (grp->state == ST_GROUP_PREPARING_REBALANCE && !grp->initial_delay && all_joined(grp))
        complete_join(grp);
}

static void on_join_timer(st_loop *loop, st_timer *t)
{
    grp_group *grp = t->arg;
    if (grp->state != ST_GROUP_PREPARING_REBALANCE)
        return;
    if (grp->initial_delay && grp->new_member_added && grp->delay_remaining > 0) {
        /* More members arrived during the delay: wait a little longer for others,
         * never past the rebalance timeout (Kafka's InitialDelayedJoin). */
        int64_t delay = grp->owner->b->cfg.group_initial_rebalance_delay_ms;
        int64_t next = delay < grp->delay_remaining ? delay : grp->delay_remaining;
        grp->delay_remaining = grp->delay_remaining > delay ? grp->delay_remaining - delay : 0;
        grp->new_member_added = false;
        st_timer_start(loop, t, next);
        return;
    }
    complete_join(grp);
}

/* ---- the sync phase ---- */

/* m's SyncGroup arrived: once nobody is awaited the timer goes. */
static void synced(grp_group *grp, grp_member *m)
{
    m->pending_sync = false;
    for (size_t i = 0; i < grp->nmembers; i++)
        if (grp->members[i]->pending_sync)
            return;
    st_timer_stop(grp->owner->loop, &grp->sync_timer);
}

static void on_sync_timer(st_loop *loop, st_timer *t)
{
    grp_group *grp = t->arg;
    if (grp->state != ST_GROUP_COMPLETING_REBALANCE && grp->state != ST_GROUP_STABLE)
        return;
    size_t removed = 0;
    for (size_t i = 0; i < grp->nmembers;) {
        grp_member *m = grp->members[i];
        if (!m->pending_sync) {
            i++;
            continue;
        }
        st_info("group \"%s\": member %s%s sent no SyncGroup for generation %d within the "
                "rebalance timeout: removed",
                grp->id, m->member_id, m == grp->leader ? " (the leader)" : "", grp->generation);
        grp_answer_join_error(m, ST_ERR_UNKNOWN_MEMBER_ID);
        grp_answer_sync(m, ST_ERR_UNKNOWN_MEMBER_ID);
        drop_member(grp, m);
        removed++;
    }
    if (removed) {
        /* Those still parked in SyncGroup are answered REBALANCE_IN_PROGRESS and rejoin. */
        prepare_rebalance(grp);
        try_complete_join(grp);
    }
}

/* ---- members joining and leaving ---- */

static void park_join(grp_member *m, grp_join_cb *cb, void *arg)
{
    /* A second JoinGroup for the same member (its client reconnected): the first one
     * is answered so that it is not lost. */
    grp_answer_join_error(m, ST_ERR_REBALANCE_IN_PROGRESS);
    m->join_cb = cb;
    m->join_arg = arg;
}

void grp_add_member_and_rebalance(grp_group *grp, grp_member *m, st_str protocol_type,
                                  grp_join_cb *cb, void *arg)
{
    if (grp->nmembers == 0) { /* the first member sets the group's protocol type */
        free(grp->protocol_type);
        grp->protocol_type = grp_dup_str(protocol_type);
    }
    grp_list_add(&grp->members, &grp->nmembers, &grp->members_cap, m);
    if (!grp->leader)
        grp->leader = m;
    park_join(m, cb, arg);
    grp_touch_session(m);
    if (grp->state == ST_GROUP_PREPARING_REBALANCE && grp->initial_delay)
        grp->new_member_added = true;
    maybe_prepare_rebalance(grp);
    try_complete_join(grp);
}

void grp_update_member_and_rebalance(grp_group *grp, grp_member *m, const grp_join_args *a,
                                     grp_join_cb *cb, void *arg)
{
    grp_member_update(m, a);
    park_join(m, cb, arg);
    grp_touch_session(m);
    maybe_prepare_rebalance(grp);
    try_complete_join(grp);
}

/* Removes a member that left or expired, and rebalances the rest. */
static void remove_member(grp_group *grp, grp_member *m)
{
    grp_answer_join_error(m, ST_ERR_UNKNOWN_MEMBER_ID);
    grp_answer_sync(m, ST_ERR_UNKNOWN_MEMBER_ID);
    drop_member(grp, m);
    switch (grp->state) {
    case ST_GROUP_STABLE:
    case ST_GROUP_COMPLETING_REBALANCE:
        prepare_rebalance(grp);
        try_complete_join(grp);
        break;
    case ST_GROUP_PREPARING_REBALANCE:
        try_complete_join(grp);
        break;
    default:
        break;
    }
}

void grp_remove_pending(grp_group *grp, grp_member *m)
{
    grp_list_remove(grp->pending, &grp->npending, m);
    grp_member_free(grp->owner, m);
    try_complete_join(grp);
}

void grp_on_session_timeout(st_loop *loop, st_timer *t)
{
    grp_member *m = t->arg;
    grp_group *grp = m->group;
    if (m->pending) {
        st_info("group \"%s\": member id %s was handed out but never used within %d ms: "
                "forgotten",
                grp->id, m->member_id, m->session_timeout_ms);
        grp_remove_pending(grp, m);
        return;
    }
    if (m->join_cb || m->sync_cb) {
        /* Waiting on the group, not on the client: the join and sync timers bound this. */
        st_timer_start(loop, t, m->session_timeout_ms);
        return;
    }
    st_info("group \"%s\": member %s%s%s sent no heartbeat within its session timeout (%d ms): "
            "removed",
            grp->id, m->member_id, m->group_instance_id ? " (static, instance " : "",
            m->group_instance_id ? m->group_instance_id : "", m->session_timeout_ms);
    remove_member(grp, m);
}

/* ---- the requests (JoinGroup is in join.c) ---- */

const char *grp_echo(st_groups *g, st_str s)
{
    free(g->echo_member_id);
    g->echo_member_id = grp_dup_str(s);
    return g->echo_member_id;
}

int grp_validate_member(grp_group *grp, st_str member_id, st_str group_instance_id,
                        grp_member **out)
{
    *out = NULL;
    if (group_instance_id.len >= 0) {
        grp_member *s = grp_find_static(grp, group_instance_id);
        if (!s)
            return ST_ERR_UNKNOWN_MEMBER_ID;
        if (!grp_str_is(member_id, s->member_id)) {
            st_debug("group \"%s\": member %.*s of instance %s is fenced by member %s", grp->id,
                     member_id.len > 0 ? (int)member_id.len : 0, member_id.ptr ? member_id.ptr : "",
                     s->group_instance_id, s->member_id);
            return ST_ERR_FENCED_INSTANCE_ID;
        }
        *out = s;
        return 0;
    }
    *out = grp_find_member(grp, member_id);
    return *out ? 0 : ST_ERR_UNKNOWN_MEMBER_ID;
}

int grp_sync(st_groups *g, const grp_sync_args *a, grp_sync_cb *cb, void *arg, grp_sync_result *res)
{
    *res = (grp_sync_result){0, NULL, 0};
    if (g->closing)
        return res->error = ST_ERR_COORDINATOR_NOT_AVAILABLE, 0;
    grp_group *grp = grp_find(g, a->group_id);
    grp_member *m = NULL;
    int err = grp ? grp_validate_member(grp, a->member_id, a->group_instance_id, &m)
                  : ST_ERR_UNKNOWN_MEMBER_ID;
    if (err)
        return res->error = (int16_t)err, 0;
    if (a->generation != grp->generation)
        return res->error = ST_ERR_ILLEGAL_GENERATION, 0;
    switch (grp->state) {
    case ST_GROUP_PREPARING_REBALANCE:
        return res->error = ST_ERR_REBALANCE_IN_PROGRESS, 0;
    case ST_GROUP_COMPLETING_REBALANCE:
        grp_touch_session(m);
        synced(grp, m);
        if (m != grp->leader) {
            grp_answer_sync(m, ST_ERR_REBALANCE_IN_PROGRESS); /* a duplicate from a reconnect */
            m->sync_cb = cb;
            m->sync_arg = arg;
            return ST_ERR__DEFERRED;
        }
        /* The leader brings everyone's assignment; members it left out get an empty
         * one, unknown member ids are ignored (as Kafka). */
        for (size_t i = 0; i < grp->nmembers; i++) {
            grp_member *o = grp->members[i];
            free(o->assignment);
            o->assignment = grp_xcalloc(1, 1);
            o->assignment_len = 0;
            for (size_t k = 0; k < a->nassignments; k++) {
                st_str bytes = a->assignments[k].assignment;
                if (!grp_str_is(a->assignments[k].member_id, o->member_id) || bytes.len <= 0)
                    continue;
                free(o->assignment);
                o->assignment = grp_xcalloc(1, (size_t)bytes.len);
                memcpy(o->assignment, bytes.ptr, (size_t)bytes.len);
                o->assignment_len = (size_t)bytes.len;
            }
        }
        grp_transition(grp, ST_GROUP_STABLE);
        grp_offsets_write_group(g, grp);
        for (size_t i = 0; i < grp->nmembers; i++)
            grp_answer_sync(grp->members[i], 0);
        *res = (grp_sync_result){0, m->assignment, m->assignment_len};
        return 0;
    case ST_GROUP_STABLE:
        grp_touch_session(m);
        synced(grp, m);
        *res = (grp_sync_result){0, m->assignment, m->assignment_len};
        return 0;
    default:
        return res->error = ST_ERR_UNKNOWN_MEMBER_ID, 0;
    }
}

int grp_heartbeat(st_groups *g, st_str group_id, st_str member_id, st_str group_instance_id,
                  int32_t generation)
{
    if (g->closing)
        return ST_ERR_COORDINATOR_NOT_AVAILABLE;
    grp_group *grp = grp_find(g, group_id);
    grp_member *m = NULL;
    int err =
        grp ? grp_validate_member(grp, member_id, group_instance_id, &m) : ST_ERR_UNKNOWN_MEMBER_ID;
    if (err)
        return err;
    if (generation != grp->generation)
        return ST_ERR_ILLEGAL_GENERATION;
    grp_touch_session(m);
    /* This is how members learn that they must rejoin. */
    return grp->state == ST_GROUP_PREPARING_REBALANCE ? ST_ERR_REBALANCE_IN_PROGRESS : 0;
}

int grp_leave(st_groups *g, st_str group_id, const st_str *member_ids, const st_str *instance_ids,
              size_t n, int16_t *errors)
{
    if (g->closing)
        return ST_ERR_COORDINATOR_NOT_AVAILABLE;
    grp_group *grp = grp_find(g, group_id);
    for (size_t i = 0; i < n; i++) {
        st_str instance = instance_ids ? instance_ids[i] : (st_str){NULL, -1};
        errors[i] = ST_ERR_UNKNOWN_MEMBER_ID;
        if (!grp)
            continue;
        grp_member *m = NULL;
        if (member_ids[i].len <= 0) {
            /* An admin removing a static member by its instance id alone. */
            m = instance.len >= 0 ? grp_find_static(grp, instance) : NULL;
            if (!m)
                continue;
        } else {
            grp_member *p = grp_find_in(grp->pending, grp->npending, member_ids[i]);
            if (p) {
                grp_remove_pending(grp, p);
                errors[i] = 0;
                continue;
            }
            int err = grp_validate_member(grp, member_ids[i], instance, &m);
            if (err) {
                errors[i] = (int16_t)err;
                continue;
            }
        }
        st_info("group \"%s\": member %s%s%s left", grp->id, m->member_id,
                m->group_instance_id ? " of instance " : "",
                m->group_instance_id ? m->group_instance_id : "");
        remove_member(grp, m);
        errors[i] = 0;
    }
    return 0;
}

int grp_commit_check(st_groups *g, st_str group_id, int32_t generation, st_str member_id,
                     st_str group_instance_id, grp_group **out)
{
    *out = NULL;
    if (g->closing)
        return ST_ERR_COORDINATOR_NOT_AVAILABLE;
    if (!grp_id_valid(group_id))
        return ST_ERR_INVALID_GROUP_ID;
    grp_group *grp = grp_find(g, group_id);
    if (!grp) {
        /* A group that does not use the coordinator for membership (manual
         * assignment, admin tools) commits with generation -1; anything else is a
         * member of a generation we no longer know. */
        if (generation >= 0)
            return ST_ERR_ILLEGAL_GENERATION;
        grp = grp_get_or_create(g, group_id);
    }
    if (grp->state == ST_GROUP_DEAD)
        return ST_ERR_COORDINATOR_NOT_AVAILABLE;
    grp_member *m = NULL;
    if (generation < 0 && grp->state == ST_GROUP_EMPTY) {
        /* an admin tool or a consumer without group management: fine while empty */
    } else if (generation >= 0 || member_id.len > 0 || group_instance_id.len >= 0) {
        int err = grp_validate_member(grp, member_id, group_instance_id, &m);
        if (err)
            return err;
        if (generation != grp->generation)
            return ST_ERR_ILLEGAL_GENERATION;
    } else {
        /* Committing as an outsider into a group whose members own the partitions. */
        return ST_ERR_UNKNOWN_MEMBER_ID;
    }
    if (grp->state == ST_GROUP_COMPLETING_REBALANCE)
        return ST_ERR_REBALANCE_IN_PROGRESS;
    if (m)
        grp_touch_session(m);
    *out = grp;
    return 0;
}

/* ---- lifetime ---- */

/* Frees a group that is no longer in g->groups, answering its parked requests. */
static void group_destroy(st_groups *g, grp_group *grp)
{
    st_timer_stop(g->loop, &grp->join_timer);
    st_timer_stop(g->loop, &grp->sync_timer);
    for (size_t k = 0; k < grp->nmembers; k++) {
        grp_answer_join_error(grp->members[k], ST_ERR_COORDINATOR_NOT_AVAILABLE);
        grp_answer_sync(grp->members[k], ST_ERR_COORDINATOR_NOT_AVAILABLE);
        grp_member_free(g, grp->members[k]);
    }
    for (size_t k = 0; k < grp->npending; k++)
        grp_member_free(g, grp->pending[k]);
    free(grp->members);
    free(grp->pending);
    grp_offsets_free(grp);
    free(grp->id);
    free(grp->protocol_type);
    free(grp->protocol);
    free(grp);
}

void grp_remove(st_groups *g, grp_group *grp)
{
    bool found;
    size_t i = group_slot(g, (st_str){grp->id, (int32_t)strlen(grp->id)}, &found);
    /* grp_id_valid keeps ids NUL-free, so the group is always found under its id */
    assert(found && g->groups[i] == grp);
    memmove(&g->groups[i], &g->groups[i + 1], (g->ngroups - i - 1) * sizeof *g->groups);
    g->ngroups--;
    group_destroy(g, grp);
}

st_groups *st_groups_open(st_broker *b, st_loop *loop, char *err, size_t errlen)
{
    st_groups *g = grp_xcalloc(1, sizeof *g);
    g->b = b;
    g->loop = loop;
    if (grp_offsets_open(g, err, errlen)) {
        st_groups_close(g);
        return NULL;
    }
    return g;
}

void st_groups_close(st_groups *g)
{
    if (!g)
        return;
    g->closing = true;
    /* By index, from the last: no lookups while the array empties. Parked
     * JoinGroup/SyncGroup requests are answered COORDINATOR_NOT_AVAILABLE. */
    while (g->ngroups)
        group_destroy(g, g->groups[--g->ngroups]);
    free(g->groups);
    free(g->scratch);
    free(g->echo_member_id);
    free(g);
}
