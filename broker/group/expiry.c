/*
 * Committed offsets expire as in Kafka 2.1+ (KIP-211), checked every
 * groups.offsets_retention_check_interval_ms (offsets.retention.check.interval.ms):
 *
 *   group                                 an offset expires once now - base >= retention,
 *                                         where base is
 *   Empty, had members (protocol type)    the time the group became Empty (its state
 *                                         timestamp; the commit time if unknown)
 *   Empty, never had members (manual      the offset's commit time
 *     assignment, admin tools)
 *   active, protocol type "consumer"      the offset's commit time, but only for topics
 *                                         no member subscribes to; the offsets of
 *                                         subscribed topics never expire while it is
 *                                         active
 *   active, any other protocol type       nothing expires (Kafka cannot tell what such a
 *                                         group consumes)
 *
 * retention is groups.offsets_retention_minutes (offsets.retention.minutes, 7 days) or,
 * when set, groups.offsets_retention_ms. An offset committed with an explicit retention
 * (OffsetCommit v2-4's retention_time_ms, stored as value v1) expires at its own
 * expire_timestamp instead, as in Kafka, unless the group is active and subscribes to
 * its topic. Expired offsets get tombstones in __consumer_offsets (compaction drops
 * them), so a restart does not bring them back. An Empty group left with no offset
 * becomes Dead and is forgotten, its metadata record tombstoned too — Kafka's
 * cleanupGroupMetadata.
 *
 * Loop thread only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"
#include "broker/group/group_int.h"
#include "common/errors.h"
#include "common/logging.h"

/* Marks subscribed[i] for the offsets of `topic` (grp->offsets is sorted by topic, then
 * partition: a binary search finds them), counting them in *marked. A topic named again
 * is found marked and left. */
static void mark_topic(const grp_group *grp, st_str topic, bool *subscribed, size_t *marked)
{
    size_t lo = 0, hi = grp->noffsets;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (grp_str_cmp(topic, grp->offsets[mid].topic) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo;
         i < grp->noffsets && !subscribed[i] && grp_str_is(topic, grp->offsets[i].topic); i++)
        subscribed[i] = true, ++*marked;
}

/* Kafka's computeSubscribedTopics: every member's ConsumerProtocolSubscription for the
 * group's protocol (int16 version, then an array of topic strings; the rest is not
 * needed), marking in subscribed[] the offsets whose topic some member subscribes to.
 * The cost is the subscriptions' length times log(offsets): a member may name any number
 * of topics (up to the request size), and this runs on the loop thread. False when there
 * is no protocol yet or a member's bytes do not parse: then nothing of an active group
 * expires. */
static bool mark_subscribed(const grp_group *grp, bool *subscribed)
{
    if (!grp->protocol[0])
        return false;
    size_t marked = 0;
    for (size_t i = 0; i < grp->nmembers && marked < grp->noffsets; i++) {
        const grp_protocol *p = grp_member_protocol(grp->members[i], grp->protocol);
        if (!p)
            return false;
        st_rd rd;
        st_rd_init(&rd, p->metadata, p->metadata_len);
        int16_t version = st_rd_i16(&rd);
        int32_t n = st_rd_array(&rd, false, 2);
        for (int32_t k = 0; k < n && !rd.err && marked < grp->noffsets; k++) {
            st_str t = st_rd_str(&rd, false);
            if (t.len > 0 && !rd.err)
                mark_topic(grp, t, subscribed, &marked);
        }
        if (rd.err || version < 0)
            return false;
    }
    return true;
}

static int64_t retention_ms(const st_broker_config *cfg)
{
    if (cfg->offsets_retention_ms >= 0)
        return cfg->offsets_retention_ms;
    return cfg->offsets_retention_minutes * 60000;
}

/* Marks grp's expired offsets in expired[]; returns how many. */
static size_t find_expired(const grp_group *grp, int64_t now, int64_t retention, bool *expired)
{
    bool empty = grp->state == ST_GROUP_EMPTY;
    bool *subscribed = NULL;
    if (grp->noffsets == 0)
        return 0;
    if (!empty) {
        /* Only a consumer group tells which topics it uses; anything else keeps all. */
        subscribed = grp_xcalloc(grp->noffsets, sizeof *subscribed);
        if (strcmp(grp->protocol_type, "consumer") != 0 || !mark_subscribed(grp, subscribed)) {
            free(subscribed);
            return 0;
        }
    }
    /* An Empty group that had members counts from the moment it became Empty. */
    bool from_state = empty && grp->protocol_type[0] && grp->state_timestamp_ms >= 0;
    size_t n = 0;
    for (size_t i = 0; i < grp->noffsets; i++) {
        const grp_offset *o = &grp->offsets[i];
        expired[i] = false;
        if (subscribed && subscribed[i])
            continue;
        if (o->expire_timestamp_ms >= 0)
            expired[i] = now >= o->expire_timestamp_ms;
        else
            expired[i] =
                now - (from_state ? grp->state_timestamp_ms : o->commit_timestamp_ms) >= retention;
        n += expired[i];
    }
    free(subscribed);
    return n;
}

void grp_offsets_expire(st_groups *g, int64_t now)
{
    int64_t retention = retention_ms(&g->b->cfg);
    size_t total = 0, forgotten = 0;
    for (size_t i = 0; i < g->ngroups;) {
        grp_group *grp = g->groups[i];
        bool *expired = grp_xcalloc(grp->noffsets, sizeof *expired);
        size_t n = find_expired(grp, now, retention, expired);
        bool empty = grp->state == ST_GROUP_EMPTY && grp->nmembers == 0 && grp->npending == 0;
        bool forget = empty && n == grp->noffsets;
        if (n || (forget && grp->has_metadata_record)) {
            int rc = grp_offsets_remove(g, grp, expired, forget && grp->has_metadata_record);
            if (rc) {
                st_warn("group \"%s\": writing the tombstones of %zu expired offset(s) failed "
                        "(%s): tried again at the next check",
                        grp->id, n, st_err_name(rc));
                forget = false;
            } else if (n) {
                st_info("group \"%s\" (%s): %zu committed offset(s) expired (retention %" PRId64
                        " ms), %zu left",
                        grp->id, st_group_state_name(grp->state), n, retention, grp->noffsets);
                total += n;
            }
        }
        free(expired);
        if (forget) {
            st_info("group \"%s\": empty with no committed offset left: removed", grp->id);
            grp_transition(grp, ST_GROUP_DEAD);
            grp_remove(g, grp); /* the next group moves into slot i */
            forgotten++;
            continue;
        }
        i++;
    }
    if (total || forgotten)
        st_debug("offset expiry: %zu offset(s) expired, %zu group(s) removed", total, forgotten);
}

void st_groups_tick(st_groups *g, int64_t now_ms)
{
    if (!g || g->closing || now_ms < g->next_expiry_ms)
        return;
    g->next_expiry_ms = now_ms + g->b->cfg.offsets_retention_check_interval_ms;
    grp_offsets_expire(g, now_ms);
}
