/*
 * The read-only views and admin operations of group.h (foreach, describe, offsets,
 * set_offsets, delete). DescribeGroups, ListGroups and DeleteGroups in handlers.c go
 * through these same functions, and set_offsets goes through OffsetCommit's checks
 * and writer, so no rule exists twice.
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

/* ---- views ---- */

void grp_view(st_groups *g, grp_group *grp, void (*fn)(void *arg, const st_group_view *v),
              void *arg)
{
    st_group_member_view *mv = grp_xcalloc(grp->nmembers, sizeof *mv);
    for (size_t i = 0; i < grp->nmembers; i++) {
        const grp_member *m = grp->members[i];
        const grp_protocol *p = grp->protocol[0] ? grp_member_protocol(m, grp->protocol) : NULL;
        mv[i] =
            (st_group_member_view){m->member_id,           m->group_instance_id,
                                   m->client_id,           m->client_host,
                                   p ? p->metadata : NULL, p ? p->metadata_len : 0,
                                   m->assignment,          m->assignment ? m->assignment_len : 0};
    }
    st_group_view v = {grp->id,
                       grp->state,
                       grp->protocol_type,
                       grp->protocol,
                       grp->generation,
                       grp->leader ? grp->leader->member_id : "",
                       grp->nmembers,
                       mv};
    fn(arg, &v);
    free(mv);
}

void st_groups_foreach(st_groups *g, void (*fn)(void *arg, const st_group_view *v), void *arg)
{
    for (size_t i = 0; i < g->ngroups; i++)
        grp_view(g, g->groups[i], fn, arg);
}

int st_groups_describe(st_groups *g, const char *group_id,
                       void (*fn)(void *arg, const st_group_view *v), void *arg)
{
    grp_group *grp = grp_find(g, (st_str){group_id, (int32_t)strlen(group_id)});
    if (!grp)
        return ST_ERR_GROUP_ID_NOT_FOUND;
    grp_view(g, grp, fn, arg);
    return 0;
}

/* "a, b, c" (at most the first few) into buf. */
static void list_members(const grp_group *grp, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < grp->nmembers && used + 1 < cap; i++) {
        int n = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", grp->members[i]->member_id);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

int st_groups_delete(st_groups *g, const char *group_id, char *err, size_t errlen)
{
    if (!group_id || !group_id[0]) {
        snprintf(err, errlen, "the group id must not be empty");
        return ST_ERR_INVALID_GROUP_ID;
    }
    grp_group *grp = grp_find(g, (st_str){group_id, (int32_t)strlen(group_id)});
    if (!grp) {
        snprintf(err, errlen, "group \"%s\" does not exist", group_id);
        return ST_ERR_GROUP_ID_NOT_FOUND;
    }
    if (grp->state != ST_GROUP_EMPTY && grp->state != ST_GROUP_DEAD) {
        char names[200];
        list_members(grp, names, sizeof names);
        snprintf(err, errlen,
                 "group \"%s\" is %s with %zu member(s) (%s): stop its consumers first", group_id,
                 st_group_state_name(grp->state), grp->nmembers, names);
        return ST_ERR_NON_EMPTY_GROUP;
    }
    int rc = grp_offsets_delete_group(g, grp, err, errlen);
    if (rc)
        return rc;
    grp_transition(grp, ST_GROUP_DEAD);
    st_info("group \"%s\" deleted", group_id);
    grp_remove(g, grp);
    return 0;
}

static void admin_flushed(void *arg, int err)
{
    if (err)
        st_error("flushing %s after an admin offset change failed (%s)", GROUP_OFFSETS_TOPIC,
                 st_err_name(err));
}

int st_groups_set_offsets(st_groups *g, const char *group_id, const st_offset_set *offsets,
                          size_t n, char *err, size_t errlen)
{
    if (!group_id)
        group_id = "";
    st_str id = {group_id, (int32_t)strlen(group_id)};
    grp_group *grp = grp_find(g, id);
    if (grp && (grp->nmembers || grp->state != ST_GROUP_EMPTY)) {
        char names[200];
        list_members(grp, names, sizeof names);
        snprintf(err, errlen,
                 "group \"%s\" has %zu active member(s) (%s): offsets can only be set while "
                 "the group is empty",
                 group_id, grp->nmembers, names);
        return ST_ERR_NON_EMPTY_GROUP;
    }
    grp_commit *c = grp_xcalloc(n, sizeof *c);
    for (size_t i = 0; i < n; i++)
        c[i] = (grp_commit){{offsets[i].topic, (int32_t)strlen(offsets[i].topic)},
                            offsets[i].partition,
                            offsets[i].offset,
                            -1,
                            {"", 0},
                            -1,
                            0};
    int rc = 0;
    grp_offsets_validate(g, c, n);
    for (size_t i = 0; i < n && !rc; i++) {
        if (c[i].error) {
            rc = c[i].error;
            snprintf(err, errlen, "%s-%d: %s", offsets[i].topic, offsets[i].partition,
                     rc == ST_ERR_UNKNOWN_TOPIC_OR_PARTITION ? "no such topic or partition"
                                                             : st_err_name(rc));
        }
    }
    if (!rc) {
        /* The same check as an OffsetCommit from a tool: generation -1, no member. */
        rc = grp_commit_check(g, id, -1, (st_str){"", 0}, (st_str){NULL, -1}, &grp);
        if (rc == ST_ERR_INVALID_GROUP_ID)
            snprintf(err, errlen, "the group id must not be empty");
        else if (rc)
            snprintf(err, errlen, "group \"%s\": %s", group_id, st_err_name(rc));
    }
    if (!rc) {
        st_log *flush_log = NULL;
        grp_offsets_store(g, grp, c, n, &flush_log);
        for (size_t i = 0; i < n && !rc; i++)
            if ((rc = c[i].error))
                snprintf(err, errlen, "writing the offsets of group \"%s\" failed: %s", group_id,
                         st_err_name(rc));
        /* Nobody waits on an admin call: the fsync is asked for, not awaited. */
        if (!rc && flush_log)
            st_log_flush_async(flush_log, admin_flushed, NULL);
    }
    free(c);
    return rc;
}
