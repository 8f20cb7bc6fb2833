/*
 * The console's whole-broker read commands (registered in admin.c's table): everything
 * a view needs in one answer, so the console's once-a-second survey is one message per
 * daemon rather than a describe per topic or group.
 *
 *   topics.stats → {"topics":[{"name", "internal", "bytes_in", "bytes_out",
 *                   "partitions":[{"partition","start_offset","end_offset","size_bytes"}]}]}
 *                  bytes_in/out: record bytes produced/fetched since the broker started
 *                  (the console turns them into rates)
 *   groups.lag   → {"groups":[{"group", "state", "protocol_type", "members", "lag",
 *                   "offsets":[{"topic","partition","committed","log_end","lag"}]}]}
 *                  lag: the sum over partitions with a commit and a log end (null if none)
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "broker/mgmt/admin.h"
#include "broker/mgmt/mgmt_int.h"
#include "broker/broker_int.h"
#include "broker/shard.h"

static json_t *turns_json(const st_loop_turns *t)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I}", "turns", (json_int_t)t->turns, "longest_us",
                     (json_int_t)t->longest_us, "p50_us", (json_int_t)t->p50_us, "p99_us",
                     (json_int_t)t->p99_us, "p999_us", (json_int_t)t->p999_us);
}

/* Several loops: turns add up; for the rest the slowest loop speaks for all. */
static void turns_merge(st_loop_turns *into, const st_loop_turns *t)
{
    into->turns += t->turns;
#define ST_MAX_INTO(f) into->f = into->f > t->f ? into->f : t->f
    ST_MAX_INTO(longest_us);
    ST_MAX_INTO(p50_us);
    ST_MAX_INTO(p99_us);
    ST_MAX_INTO(p999_us);
#undef ST_MAX_INTO
}

json_t *st_admin_loop_turns(st_broker *b)
{
    st_loop_turns all = {0}, minute = {0};
    for (uint32_t i = 0; i < b->nshards; i++) {
        st_loop_turns shard_all, shard_minute;
        st_loop_turn_stats(b->shards[i].loop, &shard_all, &shard_minute);
        turns_merge(&all, &shard_all);
        turns_merge(&minute, &shard_minute);
    }
    return json_pack("{s:o, s:o}", "since_start", turns_json(&all), "last_minute",
                     turns_json(&minute));
}

int st_admin_topics_stats(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    json_t *topics = json_array();
    size_t n = st_topics_count(b->topics);
    for (size_t i = 0; topics && i < n; i++) {
        const st_topic *t = st_topics_at(b->topics, i);
        json_t *parts = json_array();
        for (int32_t p = 0; parts && p < st_topic_partition_count(t); p++) {
            st_log *log = st_topic_log(t, p);
            if (json_array_append_new(
                    parts, json_pack("{s:i, s:I, s:I, s:I}", "partition", (int)p, "start_offset",
                                     (json_int_t)st_log_start_offset(log), "end_offset",
                                     (json_int_t)st_log_end_offset(log), "size_bytes",
                                     (json_int_t)st_log_size_bytes(log))) != 0) {
                json_decref(parts);
                parts = NULL;
            }
        }
        if (!parts ||
            json_array_append_new(
                topics, json_pack("{s:s, s:b, s:I, s:I, s:o}", "name", st_topic_name(t), "internal",
                                  (int)st_topic_internal(t), "bytes_in",
                                  (json_int_t)st_topic_bytes_in(t), "bytes_out",
                                  (json_int_t)st_topic_bytes_out(t), "partitions", parts)) != 0) {
            json_decref(topics);
            topics = NULL;
        }
    }
    *result = topics ? json_pack("{s:o}", "topics", topics) : NULL;
    return *result ? 0 : st_admin_oom(err, errlen);
}

/* One group's lag entry from its groups.describe answer (borrowed). New reference. */
static json_t *group_lag(json_t *desc)
{
    json_t *offsets = json_array();
    json_int_t total = 0;
    bool any = false;
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(desc, "offsets"), i, o)
    {
        json_t *lag = json_object_get(o, "lag");
        if (json_is_integer(lag)) {
            total += json_integer_value(lag);
            any = true;
        }
        json_array_append_new(offsets, json_pack("{s:O, s:O, s:O, s:O, s:O}", "topic",
                                                 json_object_get(o, "topic"), "partition",
                                                 json_object_get(o, "partition"), "committed",
                                                 json_object_get(o, "committed"), "log_end",
                                                 json_object_get(o, "log_end"), "lag", lag));
    }
    return json_pack("{s:O, s:O, s:O, s:I, s:o, s:o}", "group", json_object_get(desc, "group"),
                     "state", json_object_get(desc, "state"), "protocol_type",
                     json_object_get(desc, "protocol_type"), "members",
                     (json_int_t)json_array_size(json_object_get(desc, "members")), "lag",
                     any ? json_integer(total) : json_null(), "offsets", offsets);
}

int st_admin_groups_lag(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    json_t *list = NULL, *groups = json_array();
    if (!groups || st_admin_groups_list(b, args, &list, err, errlen) != 0) {
        json_decref(groups);
        return groups ? -1 : st_admin_oom(err, errlen);
    }
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(list, "groups"), i, g)
    {
        json_t *dargs = json_pack("{s:O}", "group", json_object_get(g, "group"));
        json_t *desc = NULL;
        char why[256];
        /* A group deleted between list and describe is simply left out. */
        if (dargs && st_admin_groups_describe(b, dargs, &desc, why, sizeof why) == 0)
            json_array_append_new(groups, group_lag(desc));
        json_decref(desc);
        json_decref(dargs);
    }
    json_decref(list);
    *result = json_pack("{s:o}", "groups", groups);
    return *result ? 0 : st_admin_oom(err, errlen);
}
