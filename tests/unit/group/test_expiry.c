/*
 * Committed offsets expire as Kafka's KIP-211 says (broker/group/expiry.c), driven here
 * with explicit clock values through grp_offsets_expire: a manual-assignment group by
 * commit time, an Empty group counting from when it became Empty, an active consumer
 * group only for topics it does not subscribe to, an explicit OffsetCommit v2-4
 * retention, a non-consumer group never while active; expired offsets and removed
 * groups stay gone after a reopen, and a group's Empty-since time survives it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/group/fixture.h"

#define RETENTION_MS 1000

static st_broker *open_expiring(void)
{
    st_broker *b = open_broker(0);
    b->cfg.offsets_retention_ms = RETENTION_MS;
    char err[256];
    for (const char *const *t = (const char *const[]){"orders", "audit", NULL}; *t; t++)
        if (!st_topics_find(b->topics, *t, strlen(*t)))
            assert_int_equal(st_topics_create(b->topics, *t, 1, 1, NULL, 0, false, err, sizeof err),
                             0);
    return b;
}

/* A ConsumerProtocolSubscription v0 naming one topic, no user data. */
static size_t subscription(uint8_t *out, const char *topic)
{
    size_t n = strlen(topic), at = 0;
    out[at++] = 0, out[at++] = 0;                /* version */
    out[at++] = 0, out[at++] = 0, out[at++] = 0; /* topic count */
    out[at++] = 1;                               /*   1 */
    out[at++] = (uint8_t)(n >> 8), out[at++] = (uint8_t)n;
    memcpy(out + at, topic, n);
    at += n;
    memset(out + at, 0xff, 4); /* user_data: null */
    return at + 4;
}

static bool has_offset(st_broker *b, const char *group_id, const char *topic)
{
    grp_group *grp = group(b, group_id);
    return grp && grp_offsets_find(grp, S(topic), 0) != NULL;
}

static void commit_one(st_broker *b, const char *group_id, int32_t gen, const char *member,
                       const char *topic, int64_t expire_ms)
{
    grp_commit c = {S(topic), 0, 42, -1, NULL_STR, expire_ms, 0};
    commit(b, group_id, gen, member, &c, 1, 0);
    assert_int_equal(c.error, 0);
}

static void test_manual_and_explicit(void **state)
{
    st_broker *b = open_expiring();
    int64_t t0 = st_wall_ms();
    commit_one(b, "manual", -1, "", "orders", -1);
    commit_one(b, "explicit", -1, "", "orders", t0 + 100); /* OffsetCommit v2-4 retention */
    commit_one(b, "explicit", -1, "", "audit", -1);
    grp_offsets_expire(b->groups, t0 + 150);
    assert_true(has_offset(b, "manual", "orders"));
    assert_false(has_offset(b, "explicit", "orders")); /* its own expiry, before retention */
    assert_true(has_offset(b, "explicit", "audit"));
    grp_offsets_expire(b->groups, t0 + RETENTION_MS + 50);
    /* Both empty groups lost their last offset: removed. */
    assert_null(group(b, "manual"));
    assert_null(group(b, "explicit"));
    st_broker_free(b);

    /* Tombstones: nothing comes back. */
    b = open_expiring();
    assert_null(group(b, "manual"));
    assert_null(group(b, "explicit"));
    st_broker_free(b);
}

static void test_consumer_group(void **state)
{
    st_broker *b = open_expiring();
    uint8_t sub[64];
    size_t sub_len = subscription(sub, "orders");
    joiner j;
    make_join(&j, "c", "", 10000, 10000, false);
    j.protos[0].metadata = (st_str){(const char *)sub, (int32_t)sub_len};
    j.a.nprotocols = 1;
    join_seen js = {0};
    grp_join_result res;
    assert_int_equal(grp_join(b->groups, &j.a, on_join, &js, &res), ST_ERR__DEFERRED);
    assert_true(run_until(b, &js.called, 2000));
    char m[128];
    snprintf(m, sizeof m, "%s", js.member_id);
    grp_sync_result sres;
    assert_int_equal(sync_leader(b, m, 1, m, "p", NULL, NULL, &sres), 0);
    commit_one(b, "g1", 1, m, "orders", -1);
    commit_one(b, "g1", 1, m, "audit", -1); /* a topic it does not subscribe to */

    /* Stable: only the unsubscribed topic's offset expires, however old the other. */
    int64_t t0 = st_wall_ms();
    grp_offsets_expire(b->groups, t0 + 10 * RETENTION_MS);
    assert_true(has_offset(b, "g1", "orders"));
    assert_false(has_offset(b, "g1", "audit"));

    /* The member leaves: Empty from now; its old commit counts from then, not from the
     * commit time. */
    int16_t errs[1];
    st_str ids[1] = {S(m)};
    assert_int_equal(grp_leave(b->groups, S("g1"), ids, NULL, 1, errs), 0);
    assert_int_equal(group(b, "g1")->state, ST_GROUP_EMPTY);
    int64_t empty_since = group(b, "g1")->state_timestamp_ms;
    group(b, "g1")->offsets[0].commit_timestamp_ms -= 10 * RETENTION_MS;
    grp_offsets_expire(b->groups, empty_since + RETENTION_MS / 2);
    assert_true(has_offset(b, "g1", "orders"));
    st_broker_free(b);

    /* Reopened: still Empty since the same moment (the group record carries it). */
    b = open_expiring();
    assert_non_null(group(b, "g1"));
    assert_int_equal(group(b, "g1")->state_timestamp_ms, empty_since);
    grp_offsets_expire(b->groups, empty_since + RETENTION_MS / 2);
    assert_true(has_offset(b, "g1", "orders"));
    grp_offsets_expire(b->groups, empty_since + RETENTION_MS);
    assert_null(group(b, "g1"));
    st_broker_free(b);
    b = open_expiring();
    assert_null(group(b, "g1"));
    st_broker_free(b);
}

static void test_active_groups_kept(void **state)
{
    st_broker *b = open_expiring();
    /* A group of another protocol type (its metadata is not a consumer subscription)
     * keeps everything while active. */
    joiner j;
    make_join(&j, "w", "", 10000, 10000, false);
    j.a.protocol_type = S("connect");
    join_seen js = {0};
    grp_join_result res;
    assert_int_equal(grp_join(b->groups, &j.a, on_join, &js, &res), ST_ERR__DEFERRED);
    assert_true(run_until(b, &js.called, 2000));
    char m[128];
    snprintf(m, sizeof m, "%s", js.member_id);
    grp_sync_result sres;
    assert_int_equal(sync_leader(b, m, 1, m, "p", NULL, NULL, &sres), 0);
    commit_one(b, "g1", 1, m, "audit", -1);
    grp_offsets_expire(b->groups, st_wall_ms() + 10 * RETENTION_MS);
    assert_true(has_offset(b, "g1", "audit"));
    /* Members are not restored at a reopen: the group is Empty from the load on. */
    st_broker_free(b);
    int64_t before_open = st_wall_ms();
    b = open_expiring();
    assert_int_equal(group(b, "g1")->state, ST_GROUP_EMPTY);
    assert_true(group(b, "g1")->state_timestamp_ms >= before_open);
    grp_offsets_expire(b->groups, before_open + RETENTION_MS / 2);
    assert_true(has_offset(b, "g1", "audit"));
    st_broker_free(b);
}

static void test_big_subscription(void **state)
{
    /* A member may list any number of topics in its subscription (up to the request size)
     * and its group may hold many offsets: looking each offset's topic up in the
     * subscriptions must not cost offsets x topics on the loop thread. 2,000 offsets of
     * topics no member subscribes to, one member subscribing to 200,000 other topic
     * names (some twice) and to one topic with offsets: the check takes milliseconds
     * (it was seconds: 4e8 string comparisons) and still tells them apart. */
    enum { NOFFSETS = 2000, NTOPICS = 200000 };
    st_broker *b = open_expiring();
    size_t cap = 6 + (size_t)(NTOPICS + 2) * 9 + 4, at = 0;
    uint8_t *sub = malloc(cap);
    assert_non_null(sub);
    sub[at++] = 0, sub[at++] = 0; /* version 0 */
    uint32_t count = NTOPICS + 2;
    for (int sh = 24; sh >= 0; sh -= 8)
        sub[at++] = (uint8_t)(count >> sh);
    char name[16];
    for (int i = 0; i < NTOPICS + 2; i++) {
        if (i == NTOPICS)
            snprintf(name, sizeof name, "t-0007"); /* a topic with an offset */
        else
            snprintf(name, sizeof name, "s%06d", i == NTOPICS + 1 ? 5 : i);
        size_t n = strlen(name);
        sub[at++] = (uint8_t)(n >> 8), sub[at++] = (uint8_t)n;
        memcpy(sub + at, name, n);
        at += n;
    }
    memset(sub + at, 0xff, 4); /* user_data: null */
    at += 4;
    joiner j;
    make_join(&j, "c", "", 10000, 10000, false);
    j.protos[0].metadata = (st_str){(const char *)sub, (int32_t)at};
    j.a.nprotocols = 1;
    join_seen js = {0};
    grp_join_result res;
    assert_int_equal(grp_join(b->groups, &j.a, on_join, &js, &res), ST_ERR__DEFERRED);
    free(sub);
    assert_true(run_until(b, &js.called, 2000));
    char m[128];
    snprintf(m, sizeof m, "%s", js.member_id);
    grp_sync_result sres;
    assert_int_equal(sync_leader(b, m, 1, m, "p", NULL, NULL, &sres), 0);

    /* Offsets straight into the store (no topic check: these topics need not exist). */
    static char topics[NOFFSETS][16];
    grp_commit *c = calloc(NOFFSETS, sizeof *c);
    assert_non_null(c);
    for (int i = 0; i < NOFFSETS; i++) {
        snprintf(topics[i], sizeof topics[i], "t-%04d", i);
        c[i] = (grp_commit){S(topics[i]), 0, 42, -1, NULL_STR, -1, 0};
    }
    st_log *flush_log = NULL;
    grp_offsets_store(b->groups, group(b, "g1"), c, NOFFSETS, &flush_log);
    for (int i = 0; i < NOFFSETS; i++)
        assert_int_equal(c[i].error, 0);
    free(c);
    assert_int_equal(group(b, "g1")->noffsets, NOFFSETS);

    int64_t t0 = st_mono_us();
    grp_offsets_expire(b->groups, st_wall_ms() + 10 * RETENTION_MS);
    int64_t took_us = st_mono_us() - t0;
    printf("expiry check: %d offsets, a subscription of %d topics: %lld us\n", NOFFSETS,
           NTOPICS + 2, (long long)took_us);
    assert_int_equal(group(b, "g1")->noffsets, 1); /* only the subscribed t-0007 stays */
    assert_true(has_offset(b, "g1", "t-0007"));
    assert_true(took_us < 1500 * 1000);
    st_broker_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_manual_and_explicit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consumer_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_active_groups_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_subscription, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
