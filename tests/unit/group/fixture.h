/*
 * The shared fixture of the group coordinator's unit tests: a detached broker over a
 * fresh data directory per test, the loop run for a while or until a flag is set, and
 * JoinGroup / SyncGroup helpers that capture the (possibly parked) answers.
 * Everything is static inline so a test file that uses part of it gets no warning.
 */
#ifndef ST_TEST_GROUP_FIXTURE_H
#define ST_TEST_GROUP_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/broker_int.h"
#include "broker/shard.h"
#include "broker/group/group_int.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/logging.h"

#define S(c)     ((st_str){(c), (int32_t)strlen(c)})
#define NULL_STR ((st_str){NULL, -1})

static char data_dir[64];

/* flush_messages > 0 sets the broker-wide flush.messages (then __consumer_offsets
 * appends ask for a flush before commits are answered). */
static inline st_broker *open_broker_flushing(int64_t initial_delay_ms, int64_t flush_messages)
{
    st_broker_config cfg;
    st_broker_config_defaults(&cfg);
    if (flush_messages > 0)
        cfg.log_defaults.flush_messages = flush_messages;
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", data_dir);
    cfg.offsets_topic_partitions = 3;
    cfg.group_initial_rebalance_delay_ms = initial_delay_ms;
    cfg.group_min_session_timeout_ms = 10;
    char err[256] = "";
    st_broker *b = st_broker_new_detached(&cfg, err, sizeof err);
    if (!b)
        fail_msg("broker: %s", err);
    assert_non_null(b->groups);
    return b;
}

static inline st_broker *open_broker(int64_t initial_delay_ms)
{
    return open_broker_flushing(initial_delay_ms, 0);
}

static inline int setup(void **state)
{
    snprintf(data_dir, sizeof data_dir, "/tmp/groups-test-XXXXXX");
    assert_non_null(mkdtemp(data_dir));
    st_logging_setup(ST_LOG_WARN, stderr);
    return 0;
}

static inline int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", data_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- running the loop ---- */

static inline void stop_loop(st_loop *loop, st_timer *t)
{
    st_loop_stop(loop);
}

static inline void run_for(st_broker *b, int64_t ms)
{
    st_timer t = {0};
    t.cb = stop_loop;
    st_loop *loop = st_shard_main(b)->loop;
    st_timer_start(loop, &t, ms);
    st_loop_run(loop);
    st_timer_stop(loop, &t);
}

/* Runs the loop until *flag is set, at most max_ms. */
static inline bool run_until(st_broker *b, const bool *flag, int64_t max_ms)
{
    int64_t end = st_mono_ms() + max_ms;
    while (!*flag && st_mono_ms() < end)
        run_for(b, 5);
    return *flag;
}

/* ---- captured answers ---- */

typedef struct join_seen {
    bool called;
    int16_t error;
    int32_t generation;
    char member_id[128], leader[128], protocol[32];
    size_t nmembers;
    char first_metadata[32];
} join_seen;

static inline void on_join(void *arg, const grp_join_result *r)
{
    join_seen *j = arg;
    assert_false(j->called); /* answered exactly once */
    j->called = true;
    j->error = r->error;
    j->generation = r->generation;
    snprintf(j->member_id, sizeof j->member_id, "%s", r->member_id);
    snprintf(j->leader, sizeof j->leader, "%s", r->leader_id);
    snprintf(j->protocol, sizeof j->protocol, "%s", r->protocol);
    j->nmembers = r->nmembers;
    if (r->nmembers)
        snprintf(j->first_metadata, sizeof j->first_metadata, "%.*s",
                 (int)r->members[0].metadata_len, (const char *)r->members[0].metadata);
}

typedef struct sync_seen {
    bool called;
    int16_t error;
    char assignment[64];
} sync_seen;

static inline void on_sync(void *arg, const grp_sync_result *r)
{
    sync_seen *s = arg;
    assert_false(s->called);
    s->called = true;
    s->error = r->error;
    snprintf(s->assignment, sizeof s->assignment, "%.*s", (int)r->assignment_len,
             r->assignment ? (const char *)r->assignment : "");
}

/* A JoinGroup with protocols "range" then "roundrobin" (metadata = "md-<client>"). */
typedef struct joiner {
    grp_join_args a;
    grp_join_proto protos[2];
    char md[32];
} joiner;

static inline void make_join(joiner *j, const char *client, const char *member_id,
                             int32_t session_ms, int32_t rebalance_ms, bool v4)
{
    memset(j, 0, sizeof *j);
    snprintf(j->md, sizeof j->md, "md-%s", client);
    j->protos[0] = (grp_join_proto){S("range"), S(j->md)};
    j->protos[1] = (grp_join_proto){S("roundrobin"), S(j->md)};
    j->a.group_id = S("g1");
    j->a.member_id = S(member_id);
    j->a.group_instance_id = NULL_STR;
    j->a.client_id = S(client);
    j->a.protocol_type = S("consumer");
    j->a.client_host = "127.0.0.1";
    j->a.session_timeout_ms = session_ms;
    j->a.rebalance_timeout_ms = rebalance_ms;
    j->a.require_known_member_id = v4;
    j->a.protocols = j->protos;
    j->a.nprotocols = 2;
}

static inline grp_group *group(st_broker *b, const char *id)
{
    return grp_find(b->groups, S(id));
}

/* Joins a new member the v4 way (MEMBER_ID_REQUIRED, then again with the id) and
 * returns its parked answer. */
static inline void join_new(st_broker *b, const char *client, int32_t session_ms,
                            int32_t rebalance_ms, join_seen *seen, char *member_id, size_t cap)
{
    joiner j;
    make_join(&j, client, "", session_ms, rebalance_ms, true);
    grp_join_result res;
    assert_int_equal(grp_join(b->groups, &j.a, on_join, seen, &res), 0);
    assert_int_equal(res.error, ST_ERR_MEMBER_ID_REQUIRED);
    assert_int_equal(strncmp(res.member_id, client, strlen(client)), 0);
    assert_int_equal(res.member_id[strlen(client)], '-');
    snprintf(member_id, cap, "%s", res.member_id);
    make_join(&j, client, member_id, session_ms, rebalance_ms, true);
    assert_int_equal(grp_join(b->groups, &j.a, on_join, seen, &res), ST_ERR__DEFERRED);
}

static inline int sync_leader(st_broker *b, const char *member, int32_t gen, const char *m1,
                              const char *a1, const char *m2, const char *a2, grp_sync_result *res)
{
    grp_sync_assignment as[2] = {{S(m1), S(a1)}, {S(m2 ? m2 : ""), S(a2 ? a2 : "")}};
    grp_sync_args a = {S("g1"), S(member), NULL_STR, gen, as, m2 ? 2 : 1};
    return grp_sync(b->groups, &a, on_sync, NULL, res);
}

typedef struct offsets_seen {
    size_t n;
    char lines[8][96];
} offsets_seen;

static inline void on_offset(void *arg, const st_committed_view *c)
{
    offsets_seen *o = arg;
    if (o->n < 8)
        snprintf(o->lines[o->n], sizeof o->lines[0], "%s-%d=%lld/%s", c->topic, c->partition,
                 (long long)c->offset, c->metadata);
    o->n++;
}

static inline void commit(st_broker *b, const char *group_id, int32_t gen, const char *member,
                          grp_commit *c, size_t n, int expect_group_error)
{
    grp_group *grp;
    int rc = grp_commit_check(b->groups, S(group_id), gen, S(member), NULL_STR, &grp);
    assert_int_equal(rc, expect_group_error);
    if (rc)
        return;
    st_log *flush_log = NULL;
    grp_offsets_validate(b->groups, c, n);
    grp_offsets_store(b->groups, grp, c, n, &flush_log);
}

#endif
