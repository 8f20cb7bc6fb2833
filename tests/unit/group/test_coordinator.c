/*
 * The group coordinator through its internal API (group_int.h) on a detached broker:
 * the rebalance state machine with real timers on the broker's loop, session and
 * rebalance timeouts, the initial delay, committed offsets and their persistence in
 * __consumer_offsets across a close and reopen of the same data directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/group/fixture.h"

/* ---- tests ---- */

static void test_state_machine(void **state)
{
    st_broker *b = open_broker(0);
    char m1[128], m2[128];
    join_seen j1 = {0};
    join_new(b, "client-a", 10000, 10000, &j1, m1, sizeof m1);
    assert_int_equal(group(b, "g1")->state, ST_GROUP_PREPARING_REBALANCE);
    assert_true(run_until(b, &j1.called, 2000)); /* the (zero) initial delay passes */
    assert_int_equal(j1.error, 0);
    assert_int_equal(j1.generation, 1);
    assert_string_equal(j1.leader, m1);
    assert_string_equal(j1.protocol, "range");
    assert_int_equal(j1.nmembers, 1);
    assert_string_equal(j1.first_metadata, "md-client-a");
    assert_int_equal(group(b, "g1")->state, ST_GROUP_COMPLETING_REBALANCE);

    grp_sync_result sres;
    assert_int_equal(sync_leader(b, m1, 1, m1, "assign-a", NULL, NULL, &sres), 0);
    assert_int_equal(sres.error, 0);
    assert_int_equal(sres.assignment_len, 8);
    assert_memory_equal(sres.assignment, "assign-a", 8);
    assert_int_equal(group(b, "g1")->state, ST_GROUP_STABLE);

    assert_int_equal(grp_heartbeat(b->groups, S("g1"), S(m1), NULL_STR, 1), 0);
    assert_int_equal(grp_heartbeat(b->groups, S("g1"), S(m1), NULL_STR, 0),
                     ST_ERR_ILLEGAL_GENERATION);
    assert_int_equal(grp_heartbeat(b->groups, S("g1"), S("nobody"), NULL_STR, 1),
                     ST_ERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(grp_heartbeat(b->groups, S("nogroup"), S(m1), NULL_STR, 1),
                     ST_ERR_UNKNOWN_MEMBER_ID);

    /* A second member (JoinGroup v3: no MEMBER_ID_REQUIRED round) starts a rebalance. */
    joiner j;
    join_seen j2 = {0}, j1b = {0};
    grp_join_result jres;
    make_join(&j, "client-b", "", 10000, 10000, false);
    assert_int_equal(grp_join(b->groups, &j.a, on_join, &j2, &jres), ST_ERR__DEFERRED);
    assert_int_equal(group(b, "g1")->state, ST_GROUP_PREPARING_REBALANCE);
    assert_int_equal(grp_heartbeat(b->groups, S("g1"), S(m1), NULL_STR, 1),
                     ST_ERR_REBALANCE_IN_PROGRESS);
    assert_int_equal(sync_leader(b, m1, 1, m1, "x", NULL, NULL, &sres), 0);
    assert_int_equal(sres.error, ST_ERR_REBALANCE_IN_PROGRESS);
    assert_false(j2.called);
    /* The first member rejoins: everyone known has joined, the phase ends at once. */
    make_join(&j, "client-a", m1, 10000, 10000, true);
    assert_int_equal(grp_join(b->groups, &j.a, on_join, &j1b, &jres), ST_ERR__DEFERRED);
    assert_true(j1b.called && j2.called);
    assert_int_equal(j1b.generation, 2);
    assert_int_equal(j2.generation, 2);
    assert_string_equal(j1b.leader, m1); /* the existing leader stays */
    assert_string_equal(j2.leader, m1);
    assert_int_equal(j1b.nmembers, 2); /* only the leader sees the members */
    assert_int_equal(j2.nmembers, 0);
    snprintf(m2, sizeof m2, "%s", j2.member_id);

    /* The follower's SyncGroup waits for the leader's. */
    sync_seen s2 = {0};
    grp_sync_args fa = {S("g1"), S(m2), NULL_STR, 2, NULL, 0};
    assert_int_equal(grp_sync(b->groups, &fa, on_sync, &s2, &sres), ST_ERR__DEFERRED);
    assert_false(s2.called);
    assert_int_equal(sync_leader(b, m1, 2, m1, "p0", m2, "p1", &sres), 0);
    assert_memory_equal(sres.assignment, "p0", 2);
    assert_true(s2.called);
    assert_int_equal(s2.error, 0);
    assert_string_equal(s2.assignment, "p1");
    assert_int_equal(group(b, "g1")->state, ST_GROUP_STABLE);
    /* Stable: SyncGroup returns the stored assignment. */
    assert_int_equal(grp_sync(b->groups, &fa, on_sync, NULL, &sres), 0);
    assert_memory_equal(sres.assignment, "p1", 2);

    /* A follower rejoining unchanged gets the current generation at once. */
    make_join(&j, "client-b", m2, 10000, 10000, true);
    assert_int_equal(grp_join(b->groups, &j.a, on_join, NULL, &jres), 0);
    assert_int_equal(jres.generation, 2);
    assert_int_equal(jres.nmembers, 0);

    /* The follower leaves: rebalance; the leader alone forms generation 3. */
    int16_t errs[2];
    st_str ids[2] = {S(m2), S("ghost")};
    assert_int_equal(grp_leave(b->groups, S("g1"), ids, NULL, 2, errs), 0);
    assert_int_equal(errs[0], 0);
    assert_int_equal(errs[1], ST_ERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(group(b, "g1")->state, ST_GROUP_PREPARING_REBALANCE);
    join_seen j1c = {0};
    make_join(&j, "client-a", m1, 10000, 10000, true);
    assert_int_equal(grp_join(b->groups, &j.a, on_join, &j1c, &jres), ST_ERR__DEFERRED);
    assert_true(j1c.called);
    assert_int_equal(j1c.generation, 3);
    assert_int_equal(j1c.nmembers, 1);

    /* The last member leaves: Empty, next generation. */
    st_str last = S(m1);
    assert_int_equal(grp_leave(b->groups, S("g1"), &last, NULL, 1, errs), 0);
    assert_int_equal(group(b, "g1")->state, ST_GROUP_EMPTY);
    assert_int_equal(group(b, "g1")->generation, 4);
    st_broker_free(b);
}

static void test_bad_joins(void **state)
{
    st_broker *b = open_broker(0);
    joiner j;
    grp_join_result res;
    make_join(&j, "c", "", 5, 1000, true); /* under group_min_session_timeout_ms (10) */
    assert_int_equal(grp_join(b->groups, &j.a, on_join, NULL, &res), 0);
    assert_int_equal(res.error, ST_ERR_INVALID_SESSION_TIMEOUT);
    make_join(&j, "c", "", 1800001, 1000, true);
    assert_int_equal(grp_join(b->groups, &j.a, on_join, NULL, &res), 0);
    assert_int_equal(res.error, ST_ERR_INVALID_SESSION_TIMEOUT);
    make_join(&j, "c", "unknown-id", 10000, 1000, true);
    assert_int_equal(grp_join(b->groups, &j.a, on_join, NULL, &res), 0);
    assert_int_equal(res.error, ST_ERR_UNKNOWN_MEMBER_ID);
    make_join(&j, "c", "", 10000, 1000, true);
    j.a.group_id = S("");
    assert_int_equal(grp_join(b->groups, &j.a, on_join, NULL, &res), 0);
    assert_int_equal(res.error, ST_ERR_INVALID_GROUP_ID);
    /* A NUL inside the id (the fuzzer's find: such a group could not be found again by
     * its id, and closing the coordinator freed it twice). */
    make_join(&j, "c", "", 10000, 1000, true);
    j.a.group_id = (st_str){"g\0x", 3};
    assert_int_equal(grp_join(b->groups, &j.a, on_join, NULL, &res), 0);
    assert_int_equal(res.error, ST_ERR_INVALID_GROUP_ID);

    /* A member, then one with another protocol type and one with no common protocol. */
    char m1[128];
    join_seen j1 = {0};
    join_new(b, "a", 10000, 10000, &j1, m1, sizeof m1);
    assert_true(run_until(b, &j1.called, 2000));
    make_join(&j, "c", "", 10000, 1000, false);
    j.a.protocol_type = S("connect");
    assert_int_equal(grp_join(b->groups, &j.a, on_join, NULL, &res), 0);
    assert_int_equal(res.error, ST_ERR_INCONSISTENT_GROUP_PROTOCOL);
    make_join(&j, "c", "", 10000, 1000, false);
    j.protos[0].name = S("sticky");
    j.a.nprotocols = 1;
    assert_int_equal(grp_join(b->groups, &j.a, on_join, NULL, &res), 0);
    assert_int_equal(res.error, ST_ERR_INCONSISTENT_GROUP_PROTOCOL);
    assert_int_equal(group(b, "g1")->nmembers, 1);

    /* SyncGroup checks. */
    grp_sync_result sres;
    grp_sync_args sa = {S("g1"), S("nobody"), NULL_STR, 1, NULL, 0};
    assert_int_equal(grp_sync(b->groups, &sa, on_sync, NULL, &sres), 0);
    assert_int_equal(sres.error, ST_ERR_UNKNOWN_MEMBER_ID);
    sa.member_id = S(m1);
    sa.generation = 7;
    assert_int_equal(grp_sync(b->groups, &sa, on_sync, NULL, &sres), 0);
    assert_int_equal(sres.error, ST_ERR_ILLEGAL_GENERATION);
    st_broker_free(b);
}

static void test_protocol_choice(void **state)
{
    st_broker *b = open_broker(50);
    /* a prefers range, b prefers roundrobin, c supports only roundrobin: roundrobin
     * is the only common one. */
    joiner ja, jb;
    join_seen sa = {0}, sb = {0};
    grp_join_result res;
    make_join(&ja, "a", "", 10000, 10000, false);
    make_join(&jb, "b", "", 10000, 10000, false);
    jb.protos[0].name = S("roundrobin");
    jb.a.nprotocols = 1;
    assert_int_equal(grp_join(b->groups, &ja.a, on_join, &sa, &res), ST_ERR__DEFERRED);
    assert_int_equal(grp_join(b->groups, &jb.a, on_join, &sb, &res), ST_ERR__DEFERRED);
    assert_true(run_until(b, &sb.called, 2000));
    assert_true(sa.called);
    assert_string_equal(sa.protocol, "roundrobin");
    assert_int_equal(sa.nmembers, 2); /* a joined first: the leader */
    assert_string_equal(sa.first_metadata, "md-a");
    st_broker_free(b);
}

static void test_initial_delay_extends(void **state)
{
    st_broker *b = open_broker(150);
    joiner ja, jb;
    join_seen sa = {0}, sb = {0};
    grp_join_result res;
    /* Timers count from the loop's clock, read once per iteration: refresh it first. */
    run_for(b, 1);
    int64_t t0 = st_mono_ms();
    make_join(&ja, "a", "", 10000, 5000, false);
    assert_int_equal(grp_join(b->groups, &ja.a, on_join, &sa, &res), ST_ERR__DEFERRED);
    run_for(b, 50);
    assert_false(sa.called);
    make_join(&jb, "b", "", 10000, 5000, false);
    assert_int_equal(grp_join(b->groups, &jb.a, on_join, &sb, &res), ST_ERR__DEFERRED);
    assert_true(run_until(b, &sa.called, 3000));
    int64_t waited = st_mono_ms() - t0;
    /* A member joined during the first delay, so the delay ran twice. */
    assert_true(waited >= 290);
    assert_true(sb.called);
    assert_int_equal(sa.generation, 1);
    assert_int_equal(sa.nmembers, 2);
    st_broker_free(b);
}

static void test_timeouts(void **state)
{
    st_broker *b = open_broker(0);
    /* Two stable members; then a third joins with a short rebalance timeout and only
     * the first rejoins: the second is dropped when the timeout passes. */
    joiner j;
    join_seen s1 = {0}, s2 = {0};
    grp_join_result res;
    make_join(&j, "a", "", 10000, 200, false);
    assert_int_equal(grp_join(b->groups, &j.a, on_join, &s1, &res), ST_ERR__DEFERRED);
    make_join(&j, "b", "", 10000, 200, false);
    assert_int_equal(grp_join(b->groups, &j.a, on_join, &s2, &res), ST_ERR__DEFERRED);
    assert_true(run_until(b, &s2.called, 2000));
    char m1[128], m2[128];
    snprintf(m1, sizeof m1, "%s", s1.member_id);
    snprintf(m2, sizeof m2, "%s", s2.member_id);
    grp_sync_result sres;
    assert_int_equal(sync_leader(b, m1, 1, m1, "x", m2, "y", &sres), 0);

    join_seen s3 = {0}, s1b = {0};
    make_join(&j, "c", "", 10000, 200, false);
    assert_int_equal(grp_join(b->groups, &j.a, on_join, &s3, &res), ST_ERR__DEFERRED);
    make_join(&j, "a", m1, 10000, 200, false);
    assert_int_equal(grp_join(b->groups, &j.a, on_join, &s1b, &res), ST_ERR__DEFERRED);
    assert_false(s3.called);
    assert_true(run_until(b, &s3.called, 2000));
    assert_int_equal(s3.generation, 2);
    assert_int_equal(s1b.nmembers, 2);
    assert_int_equal(group(b, "g1")->nmembers, 2);
    assert_int_equal(grp_heartbeat(b->groups, S("g1"), S(m2), NULL_STR, 2),
                     ST_ERR_UNKNOWN_MEMBER_ID);

    /* Nobody heartbeats now: sessions of 60 ms expire, the group empties. */
    char m3[128];
    snprintf(m3, sizeof m3, "%s", s3.member_id);
    assert_int_equal(sync_leader(b, m1, 2, m1, "x", m3, "y", &sres), 0);
    grp_member *first = group(b, "g1")->members[0];
    first->session_timeout_ms = 60;
    grp_touch_session(first);
    group(b, "g1")->members[1]->session_timeout_ms = 60;
    grp_touch_session(group(b, "g1")->members[1]);
    int64_t end = st_mono_ms() + 2000;
    while (group(b, "g1")->state != ST_GROUP_EMPTY && st_mono_ms() < end)
        run_for(b, 10);
    assert_int_equal(group(b, "g1")->state, ST_GROUP_EMPTY);
    assert_int_equal(group(b, "g1")->nmembers, 0);

    /* A member id handed out with MEMBER_ID_REQUIRED and never used is forgotten. */
    make_join(&j, "d", "", 50, 200, true);
    assert_int_equal(grp_join(b->groups, &j.a, on_join, NULL, &res), 0);
    assert_int_equal(group(b, "g1")->npending, 1);
    end = st_mono_ms() + 2000;
    while (group(b, "g1")->npending && st_mono_ms() < end)
        run_for(b, 10);
    assert_int_equal(group(b, "g1")->npending, 0);
    st_broker_free(b);
}

static void test_close_answers_parked(void **state)
{
    st_broker *b = open_broker(60000);
    joiner j;
    join_seen s = {0};
    grp_join_result res;
    make_join(&j, "a", "", 10000, 10000, false);
    assert_int_equal(grp_join(b->groups, &j.a, on_join, &s, &res), ST_ERR__DEFERRED);
    st_broker_free(b);
    assert_true(s.called);
    assert_int_equal(s.error, ST_ERR_COORDINATOR_NOT_AVAILABLE);
}

static void test_offsets_persist(void **state)
{
    st_broker *b = open_broker(0);
    char err[256];
    assert_int_equal(st_topics_create(b->topics, "orders", 2, 1, NULL, 0, false, err, sizeof err),
                     0);
    st_topic *ot = st_topics_find(b->topics, "__consumer_offsets", 18);
    assert_non_null(ot);
    assert_int_equal(st_topic_partition_count(ot), 3);
    assert_true(st_topic_config(ot)->cleanup_compact);

    grp_commit c[3] = {{S("orders"), 0, 42, 5, S("m0"), -1, 0},
                       {S("orders"), 1, 7, -1, NULL_STR, -1, 0},
                       {S("nosuch"), 0, 1, -1, NULL_STR, -1, 0}};
    commit(b, "simple", -1, "", c, 3, 0);
    assert_int_equal(c[0].error, 0);
    assert_int_equal(c[1].error, 0);
    assert_int_equal(c[2].error, ST_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    /* A later commit overwrites. */
    grp_commit again = {S("orders"), 0, 50, 6, S("m1"), -1, 0};
    commit(b, "simple", -1, "", &again, 1, 0);
    const grp_offset *o = grp_offsets_find(group(b, "simple"), S("orders"), 0);
    assert_non_null(o);
    assert_int_equal(o->offset, 50);
    assert_int_equal(o->leader_epoch, 6);
    /* Not a member of a generation we know. */
    grp_commit bad = {S("orders"), 0, 1, -1, NULL_STR, -1, 0};
    commit(b, "unknown", 3, "someone", &bad, 1, ST_ERR_ILLEGAL_GENERATION);
    assert_null(group(b, "unknown"));

    /* A group that rebalanced (its metadata record is written) with a commit. */
    char m1[128];
    join_seen j1 = {0};
    join_new(b, "client-a", 10000, 10000, &j1, m1, sizeof m1);
    assert_true(run_until(b, &j1.called, 2000));
    grp_sync_result sres;
    assert_int_equal(sync_leader(b, m1, 1, m1, "a", NULL, NULL, &sres), 0);
    grp_commit gc = {S("orders"), 1, 99, 2, S(""), -1, 0};
    commit(b, "g1", -1, "", &gc, 1, ST_ERR_UNKNOWN_MEMBER_ID); /* an outsider, group active */
    commit(b, "g1", 0, m1, &gc, 1, ST_ERR_ILLEGAL_GENERATION);
    commit(b, "g1", 1, m1, &gc, 1, 0);
    assert_int_equal(gc.error, 0);
    assert_int_equal(st_groups_set_offsets(b->groups, "g1", &(st_offset_set){"orders", 0, 1}, 1,
                                           err, sizeof err),
                     ST_ERR_NON_EMPTY_GROUP);
    assert_non_null(strstr(err, m1));
    assert_int_equal(st_groups_delete(b->groups, "g1", err, sizeof err), ST_ERR_NON_EMPTY_GROUP);

    /* Admin offsets into a new group, then delete another one. */
    st_offset_set set[2] = {{"orders", 0, 11}, {"orders", 1, 12}};
    assert_int_equal(st_groups_set_offsets(b->groups, "admin", set, 2, err, sizeof err), 0);
    st_offset_set badset = {"orders", 9, 1};
    assert_int_equal(st_groups_set_offsets(b->groups, "admin", &badset, 1, err, sizeof err),
                     ST_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_non_null(strstr(err, "orders-9"));
    grp_commit dc = {S("orders"), 0, 3, -1, NULL_STR, -1, 0};
    commit(b, "doomed", -1, "", &dc, 1, 0);
    assert_int_equal(st_groups_delete(b->groups, "doomed", err, sizeof err), 0);
    assert_null(group(b, "doomed"));
    assert_int_equal(st_groups_delete(b->groups, "doomed", err, sizeof err),
                     ST_ERR_GROUP_ID_NOT_FOUND);
    assert_int_equal(st_groups_delete(b->groups, "", err, sizeof err), ST_ERR_INVALID_GROUP_ID);
    st_broker_free(b);

    /* Reopen the same data directory: everything is read back from the log. */
    b = open_broker(0);
    offsets_seen seen = {0};
    assert_int_equal(st_groups_offsets(b->groups, "simple", on_offset, &seen), 0);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.lines[0], "orders-0=50/m1");
    assert_string_equal(seen.lines[1], "orders-1=7/");
    assert_int_equal(grp_offsets_find(group(b, "simple"), S("orders"), 0)->leader_epoch, 6);
    memset(&seen, 0, sizeof seen);
    assert_int_equal(st_groups_offsets(b->groups, "admin", on_offset, &seen), 0);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.lines[1], "orders-1=12/");
    memset(&seen, 0, sizeof seen);
    assert_int_equal(st_groups_offsets(b->groups, "g1", on_offset, &seen), 0);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.lines[0], "orders-1=99/");
    /* The rebalanced group comes back Empty, keeping its type and generation. */
    assert_int_equal(group(b, "g1")->state, ST_GROUP_EMPTY);
    assert_string_equal(group(b, "g1")->protocol_type, "consumer");
    assert_int_equal(group(b, "g1")->generation, 1);
    assert_null(group(b, "doomed"));
    assert_int_equal(st_groups_offsets(b->groups, "doomed", on_offset, &seen),
                     ST_ERR_GROUP_ID_NOT_FOUND);
    st_broker_free(b);
}

static void on_flushed(void *arg, int err)
{
    int *seen = arg;
    *seen = err + 1; /* 1: flushed without error */
}

static void test_commit_waits_for_flush(void **state)
{
    char err[256];
    for (int flush = 0; flush <= 1; flush++) {
        st_broker *b = open_broker_flushing(0, flush ? 1 : 0);
        if (!st_topics_find(b->topics, "t", 1))
            assert_int_equal(
                st_topics_create(b->topics, "t", 1, 1, NULL, 0, false, err, sizeof err), 0);
        grp_group *grp;
        assert_int_equal(grp_commit_check(b->groups, S("f"), -1, S(""), NULL_STR, &grp), 0);
        grp_commit c = {S("t"), 0, 5, -1, NULL_STR, -1, 0};
        st_log *flush_log = NULL;
        grp_offsets_validate(b->groups, &c, 1);
        grp_offsets_store(b->groups, grp, &c, 1, &flush_log);
        assert_int_equal(c.error, 0);
        if (!flush) { /* no flush policy: the commit is answered at once */
            assert_null(flush_log);
            st_broker_free(b);
            continue;
        }
        /* flush.messages=1: the handler answers from this flush's callback. */
        assert_non_null(flush_log);
        int seen = 0;
        st_log_flush_async(flush_log, on_flushed, &seen);
        int64_t end = st_mono_ms() + 5000;
        while (!seen && st_mono_ms() < end)
            run_for(b, 5);
        assert_int_equal(seen, 1);
        st_broker_free(b);
    }
}

typedef struct ids_seen {
    char ids[8][32];
    size_t n;
} ids_seen;

static void on_group(void *arg, const st_group_view *v)
{
    ids_seen *s = arg;
    if (s->n < 8)
        snprintf(s->ids[s->n], sizeof s->ids[0], "%s:%s", v->group_id,
                 st_group_state_name(v->state));
    s->n++;
}

static void test_views(void **state)
{
    st_broker *b = open_broker(0);
    char err[256];
    assert_int_equal(st_topics_create(b->topics, "t", 1, 1, NULL, 0, false, err, sizeof err), 0);
    st_offset_set set = {"t", 0, 1};
    assert_int_equal(st_groups_set_offsets(b->groups, "zeta", &set, 1, err, sizeof err), 0);
    assert_int_equal(st_groups_set_offsets(b->groups, "alpha", &set, 1, err, sizeof err), 0);
    char m1[128];
    join_seen j1 = {0};
    join_new(b, "client-a", 10000, 10000, &j1, m1, sizeof m1);
    assert_true(run_until(b, &j1.called, 2000));
    ids_seen s = {0};
    st_groups_foreach(b->groups, on_group, &s);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.ids[0], "alpha:Empty");
    assert_string_equal(s.ids[1], "g1:CompletingRebalance");
    assert_string_equal(s.ids[2], "zeta:Empty");
    memset(&s, 0, sizeof s);
    assert_int_equal(st_groups_describe(b->groups, "nope", on_group, &s),
                     ST_ERR_GROUP_ID_NOT_FOUND);
    assert_int_equal(s.n, 0);
    st_broker_free(b);
}

static void test_partition_of_group(void **state)
{
    /* Kafka: Utils.abs(groupId.hashCode) % partitions. */
    assert_int_equal(grp_offsets_partition(S("testgroup"), 50), 27);
    assert_int_equal(grp_offsets_partition(S("a"), 50), 97 % 50);
    /* "polygenelubricants".hashCode() == Integer.MIN_VALUE, which abs maps to 0. */
    assert_int_equal(grp_offsets_partition(S("polygenelubricants"), 50), 0);
    /* Java hashes UTF-16: "é" is one char, 0xE9. */
    assert_int_equal(grp_offsets_partition(S("\xc3\xa9"), 50), 0xE9 % 50);
    /* U+1F600 is a surrogate pair: 31 * 0xD83D + 0xDE00. */
    assert_int_equal(grp_offsets_partition(S("\xf0\x9f\x98\x80"), 1000000),
                     (31 * 0xD83D + 0xDE00) % 1000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_state_machine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_joins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_choice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_initial_delay_extends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_answers_parked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offsets_persist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_waits_for_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_views, setup, teardown),
        cmocka_unit_test(test_partition_of_group),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
