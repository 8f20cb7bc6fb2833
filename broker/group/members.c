/*
 * Members of a group and what they support: allocation, the JoinGroup fields kept
 * per member, member ids, and Kafka's protocol rules (which protocols a group can
 * accept, which one a generation uses). Also the small allocation and string helpers
 * the coordinator files share. coordinator.c drives these.
 *
 * Loop thread only.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "broker/group/group_int.h"
#include "common/clock.h"

void *grp_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort(); /* as st_buf: a broker that cannot allocate is done */
    return p;
}

void *grp_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        abort();
    return p;
}

/* A NUL-terminated copy of s ("" for null). */
char *grp_dup_str(st_str s)
{
    size_t len = s.len > 0 ? (size_t)s.len : 0;
    char *c = grp_xcalloc(1, len + 1);
    if (len)
        memcpy(c, s.ptr, len);
    return c;
}

char *grp_dup_cstr(const char *s)
{
    return grp_dup_str((st_str){s, (int32_t)strlen(s)});
}

bool grp_str_is(st_str s, const char *c)
{
    /* A null wire string (ptr NULL) is "": memcmp may not be given NULL even for 0 bytes */
    size_t len = s.len > 0 ? (size_t)s.len : 0;
    return strlen(c) == len && (len == 0 || memcmp(c, s.ptr, len) == 0);
}

/* strcmp order between a request string and a stored id. */
int grp_str_cmp(st_str s, const char *c)
{
    size_t len = s.len > 0 ? (size_t)s.len : 0, clen = strlen(c);
    int r = memcmp(s.ptr ? s.ptr : "", c, len < clen ? len : clen);
    if (r)
        return r;
    return len < clen ? -1 : len > clen ? 1 : 0;
}

/* ---- states ---- */

/* ---- members ---- */

static void protocols_free(grp_member *m)
{
    for (size_t i = 0; i < m->nprotocols; i++) {
        free(m->protocols[i].name);
        free(m->protocols[i].metadata);
    }
    free(m->protocols);
    m->protocols = NULL;
    m->nprotocols = 0;
}

void grp_member_forget_protocols(grp_member *m)
{
    protocols_free(m);
}

/* Copies what a JoinGroup says about its member into m. */
void grp_member_update(grp_member *m, const grp_join_args *a)
{
    protocols_free(m);
    m->protocols = grp_xcalloc(a->nprotocols, sizeof *m->protocols);
    for (size_t i = 0; i < a->nprotocols; i++) {
        grp_protocol *p = &m->protocols[i];
        p->name = grp_dup_str(a->protocols[i].name);
        p->metadata_len =
            a->protocols[i].metadata.len > 0 ? (size_t)a->protocols[i].metadata.len : 0;
        p->metadata = grp_xcalloc(1, p->metadata_len);
        if (p->metadata_len)
            memcpy(p->metadata, a->protocols[i].metadata.ptr, p->metadata_len);
    }
    m->nprotocols = a->nprotocols;
    free(m->client_id);
    m->client_id = grp_dup_str(a->client_id);
    free(m->client_host);
    m->client_host = grp_dup_cstr(a->client_host ? a->client_host : "");
    m->session_timeout_ms = a->session_timeout_ms;
    m->rebalance_timeout_ms = a->rebalance_timeout_ms;
}

/* Kafka's member id: "<client id or group instance id>-<random UUID>". Returns a new
 * string. */
char *grp_new_member_id(st_str client_id)
{
    uint8_t u[16];
    if (getrandom(u, sizeof u, 0) != (ssize_t)sizeof u) {
        /* Uniqueness, not secrecy, is what matters here. */
        uint64_t x = (uint64_t)st_mono_us() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)st_wall_ms();
        for (size_t i = 0; i < sizeof u; i++, x = x * 6364136223846793005ULL + 1)
            u[i] = (uint8_t)(x >> 56);
    }
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* IETF variant */
    size_t len = client_id.len > 0 ? (size_t)client_id.len : 0;
    char *id = grp_xcalloc(1, len + 38);
    if (len)
        memcpy(id, client_id.ptr, len);
    snprintf(id + len, 38, "-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
             u[14], u[15]);
    return id;
}

grp_member *grp_member_new(grp_group *grp, const grp_join_args *a, st_timer_cb *on_timeout)
{
    grp_member *m = grp_xcalloc(1, sizeof *m);
    m->group = grp;
    m->member_id =
        grp_new_member_id(a->group_instance_id.len >= 0 ? a->group_instance_id : a->client_id);
    m->session_timer.cb = on_timeout;
    m->session_timer.arg = m;
    /* Static or not is decided here, once (Kafka's member keeps its instance id): a
     * static member rejoining with its member id but without the instance id stays the
     * holder of that id. */
    m->group_instance_id = a->group_instance_id.len >= 0 ? grp_dup_str(a->group_instance_id) : NULL;
    grp_member_update(m, a);
    return m;
}

void grp_member_free(st_groups *g, grp_member *m)
{
    st_timer_stop(g->loop, &m->session_timer);
    assert(!m->join_cb && !m->sync_cb); /* every parked request was answered */
    protocols_free(m);
    free(m->member_id);
    free(m->group_instance_id);
    free(m->client_id);
    free(m->client_host);
    free(m->assignment);
    free(m);
}

void grp_list_add(grp_member ***list, size_t *n, size_t *cap, grp_member *m)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 4;
        *list = grp_xrealloc(*list, *cap * sizeof **list);
    }
    (*list)[(*n)++] = m;
}

void grp_list_remove(grp_member **list, size_t *n, grp_member *m)
{
    for (size_t i = 0; i < *n; i++) {
        if (list[i] != m)
            continue;
        memmove(&list[i], &list[i + 1], (*n - i - 1) * sizeof *list);
        (*n)--;
        return;
    }
}

grp_member *grp_find_in(grp_member **list, size_t n, st_str member_id)
{
    if (member_id.len <= 0)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (grp_str_is(member_id, list[i]->member_id))
            return list[i];
    return NULL;
}

grp_member *grp_find_member(grp_group *grp, st_str member_id)
{
    return grp_find_in(grp->members, grp->nmembers, member_id);
}

grp_member *grp_find_static(grp_group *grp, st_str group_instance_id)
{
    if (group_instance_id.len < 0)
        return NULL;
    for (size_t i = 0; i < grp->nmembers; i++) {
        const char *id = grp->members[i]->group_instance_id;
        if (id && grp_str_is(group_instance_id, id))
            return grp->members[i];
    }
    return NULL;
}

void grp_touch_session(grp_member *m)
{
    st_timer_start(m->group->owner->loop, &m->session_timer, m->session_timeout_ms);
}

const grp_protocol *grp_member_protocol(const grp_member *m, const char *name)
{
    for (size_t i = 0; i < m->nprotocols; i++)
        if (strcmp(m->protocols[i].name, name) == 0)
            return &m->protocols[i];
    return NULL;
}

static bool member_supports(const grp_member *m, st_str name)
{
    for (size_t i = 0; i < m->nprotocols; i++)
        if (grp_str_is(name, m->protocols[i].name))
            return true;
    return false;
}

/* Kafka's member.matches: the same protocols with the same metadata, in order. */
bool grp_protocols_match(const grp_member *m, const grp_join_args *a)
{
    if (m->nprotocols != a->nprotocols)
        return false;
    for (size_t i = 0; i < a->nprotocols; i++) {
        const grp_protocol *p = &m->protocols[i];
        st_str md = a->protocols[i].metadata;
        size_t len = md.len > 0 ? (size_t)md.len : 0;
        if (!grp_str_is(a->protocols[i].name, p->name) || len != p->metadata_len ||
            (len && memcmp(md.ptr, p->metadata, len) != 0))
            return false;
    }
    return true;
}

/* Kafka's supportsProtocols: a group without members takes any non-empty protocol
 * type and list; otherwise the type must match and one protocol must be supported by
 * every member. */
bool grp_supports_protocols(const grp_group *grp, const grp_join_args *a)
{
    if (a->protocol_type.len <= 0 || a->nprotocols == 0)
        return false;
    if (!grp || grp->nmembers == 0)
        return true;
    if (!grp_str_is(a->protocol_type, grp->protocol_type))
        return false;
    for (size_t p = 0; p < a->nprotocols; p++) {
        bool all = true;
        for (size_t i = 0; i < grp->nmembers && all; i++)
            all = member_supports(grp->members[i], a->protocols[p].name);
        if (all)
            return true;
    }
    return false;
}

/* Kafka's selectProtocol: among the protocols every member supports, each member
 * votes for its most preferred; most votes wins (ties go to the leader's order). */
const char *grp_select_protocol(const grp_group *grp)
{
    const grp_member *first = grp->leader ? grp->leader : grp->members[0];
    const char *best = NULL;
    size_t best_votes = 0;
    for (size_t c = 0; c < first->nprotocols; c++) {
        const char *cand = first->protocols[c].name;
        bool all = true;
        for (size_t i = 0; i < grp->nmembers && all; i++)
            all = grp_member_protocol(grp->members[i], cand) != NULL;
        if (!all)
            continue;
        size_t votes = 0;
        for (size_t i = 0; i < grp->nmembers; i++) {
            const grp_member *m = grp->members[i];
            for (size_t k = 0; k < m->nprotocols; k++) {
                bool common = true;
                for (size_t j = 0; j < grp->nmembers && common; j++)
                    common = grp_member_protocol(grp->members[j], m->protocols[k].name) != NULL;
                if (!common)
                    continue;
                if (strcmp(m->protocols[k].name, cand) == 0)
                    votes++;
                break; /* the member's first common protocol is its vote */
            }
        }
        if (!best || votes > best_votes) {
            best = cand;
            best_votes = votes;
        }
    }
    /* Every JoinGroup was checked with grp_supports_protocols, so a common one exists. */
    assert(best);
    return best;
}
