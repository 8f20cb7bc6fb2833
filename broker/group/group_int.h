/*
 * The group coordinator's private types, shared by coordinator.c (groups, members,
 * the state machine, timers), offsets.c (committed offsets and the
 * __consumer_offsets records) and the wire (handlers.c, offset_handlers.c,
 * offset_delete.c). Tests include it to drive the coordinator without a connection.
 *
 * The internal calls take decoded requests whose strings (st_str) are borrowed for
 * the duration of the call: the coordinator copies whatever it keeps. JoinGroup and
 * SyncGroup may have to wait for other members; they either fill *res and return 0
 * (answer now) or return ST_ERR__DEFERRED and call cb(arg, result) later, exactly
 * once (at the latest from st_groups_close). Results passed to callbacks or left in
 * *res are valid only until the next call into the coordinator.
 *
 * Loop thread only.
 */
#ifndef ST_GROUP_INT_H
#define ST_GROUP_INT_H

#include <stdbool.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/group/group.h"
#include "broker/log/log.h"
#include "broker/net/loop.h"
#include "broker/proto/codec.h"

#define GROUP_OFFSETS_TOPIC "__consumer_offsets"

/* Kafka's offset.metadata.max.bytes default. */
#define GROUP_OFFSET_METADATA_MAX 4096

typedef struct grp_group grp_group;

/* One protocol a member supports: name and its metadata bytes (owned). */
typedef struct grp_protocol {
    char *name;
    uint8_t *metadata;
    size_t metadata_len;
} grp_protocol;

typedef struct grp_join_result grp_join_result;
typedef struct grp_sync_result grp_sync_result;
typedef void grp_join_cb(void *arg, const grp_join_result *r);
typedef void grp_sync_cb(void *arg, const grp_sync_result *r);

typedef struct grp_member {
    grp_group *group; /* owner */
    char *member_id;
    char *group_instance_id; /* NULL when not static */
    char *client_id;
    char *client_host;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    grp_protocol *protocols; /* in the member's order of preference */
    size_t nprotocols;
    uint8_t *assignment; /* what the leader gave it (NULL: none yet) */
    size_t assignment_len;
    bool pending; /* JoinGroup v4+: id handed out with MEMBER_ID_REQUIRED, not joined */
    /* In the generation the last join phase formed, but no SyncGroup from it yet: still
     * set when the group's sync timer fires, the member is removed (it heartbeats, so its
     * session timer never would), and the group rebalances. */
    bool pending_sync;
    /* A parked JoinGroup (PreparingRebalance) or SyncGroup (CompletingRebalance). */
    grp_join_cb *join_cb;
    void *join_arg;
    grp_sync_cb *sync_cb;
    void *sync_arg;
    st_timer session_timer; /* the member is dropped when it fires */
} grp_member;

/* A committed offset. */
typedef struct grp_offset {
    char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch; /* -1 unknown */
    char *metadata;       /* "" when none */
    int64_t commit_timestamp_ms;
    int64_t expire_timestamp_ms; /* OffsetCommit v2-4 retention_time_ms: an explicit expiry
                                  * (Kafka's value v1); -1 for the broker's retention */
    uint64_t answered_in;        /* the last OffsetFetch that answered it (grp_first_answer) */
} grp_offset;

struct grp_group {
    st_groups *owner;
    char *id;
    st_group_state state;
    char *protocol_type; /* "" until the first member joins */
    char *protocol;      /* chosen protocol, "" when none */
    int32_t generation;
    grp_member *leader;   /* NULL when none */
    grp_member **members; /* in join order */
    size_t nmembers, members_cap;
    grp_member **pending; /* member ids handed out, awaiting their JoinGroup */
    size_t npending, pending_cap;
    st_timer join_timer;        /* ends the join phase (initial delay or rebalance timeout) */
    st_timer sync_timer;        /* ends the sync phase: members still pending_sync are removed */
    bool initial_delay;         /* join_timer is the initial rebalance delay */
    bool new_member_added;      /* a member joined during the initial delay */
    bool full_logged;           /* a JoinGroup refusal for groups.max_size was logged */
    bool awaiting_static;       /* a join phase ended with only static members away: the
                                 * join timer waits for them again (complete_join) */
    int64_t delay_remaining;    /* how far the initial delay may still be extended */
    bool has_metadata_record;   /* a group metadata record for it is in the log */
    int64_t state_timestamp_ms; /* when the group entered its state (-1: unknown, a group
                                 * loaded from a record without it); an Empty group's
                                 * offsets expire counting from here */
    grp_offset *offsets;        /* sorted by (topic, partition) */
    size_t noffsets, offsets_cap;
    uint64_t answered_in; /* the last OffsetFetch / DescribeGroups that answered it */
};

struct st_groups {
    st_broker *b;
    st_loop *loop;
    grp_group **groups; /* sorted by id */
    size_t ngroups, groups_cap;
    bool closing;
    int64_t next_expiry_ms; /* when st_groups_tick next looks for expired offsets */
    /* Scratch memory behind results returned to callers (valid until the next call). */
    void *scratch;
    size_t scratch_cap;
    char *echo_member_id;
    uint64_t request_serial; /* grp_request_serial: the last one handed out */
};

typedef struct grp_join_proto {
    st_str name;
    st_str metadata;
} grp_join_proto;

typedef struct grp_join_args {
    st_str group_id;
    st_str member_id; /* "" for a new member */
    st_str group_instance_id;
    st_str client_id;
    st_str protocol_type;
    const char *client_host; /* "" when unknown */
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    bool require_known_member_id; /* JoinGroup v4+ */
    const grp_join_proto *protocols;
    size_t nprotocols;
} grp_join_args;

typedef struct grp_join_member {
    const char *member_id;
    const char *group_instance_id; /* NULL when not static */
    const uint8_t *metadata;
    size_t metadata_len;
} grp_join_member;

struct grp_join_result {
    int16_t error;
    int32_t generation;
    const char *protocol;  /* "" on error */
    const char *leader_id; /* "" on error */
    const char *member_id;
    size_t nmembers; /* the leader only */
    const grp_join_member *members;
};

/* ---- members.c ---- */

/* Allocation failure aborts, as st_buf does: a broker that cannot allocate is done. */
void *grp_xcalloc(size_t n, size_t size);
void *grp_xrealloc(void *p, size_t n);
/* New NUL-terminated copies ("" for a null string). */
char *grp_dup_str(st_str s);
char *grp_dup_cstr(const char *s);
bool grp_str_is(st_str s, const char *c);
int grp_str_cmp(st_str s, const char *c); /* strcmp order */

/* A new member of grp with a fresh id ("<client id>-<uuid>", or "<group instance
 * id>-<uuid>" for a static member, as Kafka) and the JoinGroup's fields; on_timeout is
 * its session timer's callback. */
grp_member *grp_member_new(grp_group *grp, const grp_join_args *a, st_timer_cb *on_timeout);
/* Frees a member's protocol metadata (a pending member keeps only its id and timer;
 * its JoinGroup with the id brings the protocols again). */
void grp_member_forget_protocols(grp_member *m);
/* Pending members (ids handed out with MEMBER_ID_REQUIRED) one group may hold; more
 * JoinGroups get GROUP_MAX_SIZE_REACHED, so a client looping on JoinGroup cannot pin
 * unbounded memory. */
#define GROUP_MAX_PENDING 1000
/* The shortest wait, in ms, for static members none of whom rejoined within the rebalance
 * timeout (which a client may set to 0). */
#define GROUP_REJOIN_WAIT_MIN_MS 1000

/* A usable group id: non-empty and without NUL bytes (ids are kept as C strings; a NUL
 * inside would make one group look like another). */
static inline bool grp_id_valid(st_str id)
{
    return id.len > 0 && memchr(id.ptr, 0, (size_t)id.len) == NULL;
}
/* Replaces the member's JoinGroup fields (protocols, timeouts, client); never its member
 * id or group.instance.id. */
void grp_member_update(grp_member *m, const grp_join_args *a);
/* Stops its timer and frees it; it must have no parked request. */
void grp_member_free(st_groups *g, grp_member *m);
void grp_list_add(grp_member ***list, size_t *n, size_t *cap, grp_member *m);
void grp_list_remove(grp_member **list, size_t *n, grp_member *m);
grp_member *grp_find_in(grp_member **list, size_t n, st_str member_id);
grp_member *grp_find_member(grp_group *grp, st_str member_id);
/* The static member with this group.instance.id, or NULL. */
grp_member *grp_find_static(grp_group *grp, st_str group_instance_id);
/* A new member id for a static member that rejoins (KIP-345). Returns a new string. */
char *grp_new_member_id(st_str prefix);
/* (Re)starts the member's session timer. */
void grp_touch_session(grp_member *m);
const grp_protocol *grp_member_protocol(const grp_member *m, const char *name);
bool grp_protocols_match(const grp_member *m, const grp_join_args *a);
bool grp_supports_protocols(const grp_group *grp, const grp_join_args *a);
/* The protocol of the next generation (the group has members). */
const char *grp_select_protocol(const grp_group *grp);

/* ---- coordinator.c ---- */

/* Moves grp to `to`, asserting the transition is one the state machine allows. */
void grp_transition(grp_group *grp, st_group_state to);

grp_group *grp_find(st_groups *g, st_str id);
/* The session timer callback of every member. */
void grp_on_session_timeout(st_loop *loop, st_timer *t);
/* Answers a parked JoinGroup / SyncGroup of m with `error` (no-op when none). */
void grp_answer_join_error(grp_member *m, int error);
void grp_answer_sync(grp_member *m, int error);
/* The JoinGroup answer of the current generation; the member list when with_members.
 * Valid until the next call into the coordinator. */
void grp_fill_join_result(grp_group *grp, grp_member *m, bool with_members, grp_join_result *r);
/* Parks m's JoinGroup (answering an earlier one), adds it to the group and rebalances. */
void grp_add_member_and_rebalance(grp_group *grp, grp_member *m, st_str protocol_type,
                                  grp_join_cb *cb, void *arg);
/* Takes the JoinGroup's fields, parks it and rebalances (unless already rebalancing). */
void grp_update_member_and_rebalance(grp_group *grp, grp_member *m, const grp_join_args *a,
                                     grp_join_cb *cb, void *arg);
/* A copy of s for an answer (valid until the next call into the coordinator). */
const char *grp_echo(st_groups *g, st_str s);
/* Kafka's validateCurrentMember: with a group.instance.id the static member holding it
 * must be member_id (else FENCED_INSTANCE_ID: a newer instance replaced it); without,
 * member_id must be a member. 0 and *out, or UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID. */
int grp_validate_member(grp_group *grp, st_str member_id, st_str group_instance_id,
                        grp_member **out);
/* Forgets a pending member (a handed-out id) and frees it; the join phase may end. */
void grp_remove_pending(grp_group *grp, grp_member *m);
/* Returns the group, creating it (Empty) when missing. */
grp_group *grp_get_or_create(st_groups *g, st_str id);
/* Removes and frees a group (it must have no members or pending members). */
void grp_remove(st_groups *g, grp_group *grp);

/* ---- join.c ---- */

/* JoinGroup, dynamic and static members (KIP-345). */
int grp_join(st_groups *g, const grp_join_args *a, grp_join_cb *cb, void *arg,
             grp_join_result *res);

/* ---- coordinator.c (the other requests) ---- */

typedef struct grp_sync_assignment {
    st_str member_id;
    st_str assignment;
} grp_sync_assignment;

typedef struct grp_sync_args {
    st_str group_id;
    st_str member_id;
    st_str group_instance_id;
    int32_t generation;
    const grp_sync_assignment *assignments; /* the leader's */
    size_t nassignments;
} grp_sync_args;

struct grp_sync_result {
    int16_t error;
    const uint8_t *assignment;
    size_t assignment_len;
};

int grp_sync(st_groups *g, const grp_sync_args *a, grp_sync_cb *cb, void *arg,
             grp_sync_result *res);
/* Returns the Heartbeat error code. group_instance_id len -1: none (before v3). */
int grp_heartbeat(st_groups *g, st_str group_id, st_str member_id, st_str group_instance_id,
                  int32_t generation);
/* Removes each member (or pending member) named; errors[i] gets its code. A member id ""
 * with a group.instance.id removes that static member (LeaveGroup v3, KIP-345's admin
 * removal). instance_ids may be NULL (v0-2). Returns the top-level error. */
int grp_leave(st_groups *g, st_str group_id, const st_str *member_ids, const st_str *instance_ids,
              size_t n, int16_t *errors);

/* OffsetCommit's group-level check (Kafka's validateOffsetCommit). On success *out is
 * the group (created for a generation -1 commit to an unknown group). */
int grp_commit_check(st_groups *g, st_str group_id, int32_t generation, st_str member_id,
                     st_str group_instance_id, grp_group **out);

/* ---- admin.c ---- */

/* Builds the public view of a group and calls fn with it. */
void grp_view(st_groups *g, grp_group *grp, void (*fn)(void *arg, const st_group_view *v),
              void *arg);

/* ---- offsets.c ---- */

/* Kafka's partitionFor: Utils.abs(groupId.hashCode) % partitions. */
int32_t grp_offsets_partition(st_str group_id, int32_t partitions);
/* Creates __consumer_offsets when missing and loads every record in it. */
int grp_offsets_open(st_groups *g, char *err, size_t errlen);

typedef struct grp_commit {
    st_str topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    st_str metadata;             /* len -1: null */
    int64_t expire_timestamp_ms; /* -1, or OffsetCommit v2-4's commit time + retention_time */
    int16_t error;               /* out */
} grp_commit;

/* Sets c[i].error for partitions that cannot be committed (unknown topic/partition,
 * metadata too large); others keep their error (normally 0). */
void grp_offsets_validate(st_groups *g, grp_commit *c, size_t n);
/* Appends and applies the commits whose error is 0 (an append failure sets their
 * error). *flush_log is set when the offsets log must be flushed before answering. */
void grp_offsets_store(st_groups *g, grp_group *grp, grp_commit *c, size_t n, st_log **flush_log);
/* The committed offset, or NULL. */
const grp_offset *grp_offsets_find(const grp_group *grp, st_str topic, int32_t partition);
/* Writes the group's metadata record (its members, or none when Empty). */
void grp_offsets_write_group(st_groups *g, grp_group *grp);
/* Writes tombstones for every offset of the group and its metadata; frees the
 * offsets. Returns 0 or a wire error code (with err set). */
int grp_offsets_delete_group(st_groups *g, grp_group *grp, char *err, size_t errlen);
/* OffsetDelete: writes tombstones for the committed offsets of the partitions whose
 * error is 0 (those with none committed need nothing) and forgets them; an append
 * failure sets their error. */
void grp_offsets_delete(st_groups *g, grp_group *grp, grp_commit *c, size_t n);
void grp_offsets_free(grp_group *grp);
/* Writes tombstones, in one batch, for the offsets with expired[i] set (i indexes
 * grp->offsets) and, with group_tombstone, for the group's metadata record; then forgets
 * them. 0, or the wire code of a failed write (then nothing is forgotten). */
int grp_offsets_remove(st_groups *g, grp_group *grp, const bool *expired, bool group_tombstone);

/* ---- expiry.c ---- */

/* Kafka's offset expiry (offsets.retention.minutes, KIP-211) over every group at now_ms;
 * a group left Empty with no offset is forgotten. */
void grp_offsets_expire(st_groups *g, int64_t now_ms);

#endif
