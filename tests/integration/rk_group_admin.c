/*
 * rk_group_admin BOOTSTRAP: librdkafka 2.0.2's consumer-group admin API against straitd,
 * at the versions librdkafka prefers once the broker serves them:
 *   ListConsumerGroups         ListGroups v4 (flexible; the states filter)
 *   DescribeConsumerGroups     DescribeGroups v4
 *   AlterConsumerGroupOffsets  OffsetCommit v7
 *   ListConsumerGroupOffsets   OffsetFetch v7 (flexible; require_stable)
 *   DeleteConsumerGroupOffsets OffsetDelete v0
 *   DeleteGroups               DeleteGroups v1
 * (the versions were read off the wire with a proxy; RK_DEBUG=protocol shows them).
 *
 * Steps, each checked against what the broker must answer:
 *   1. a consumer joins group "ga-active" on topic ga-a and stays (Stable);
 *   2. ListConsumerGroups with no filter lists it Stable; filtered on Empty it is absent;
 *   3. AlterConsumerGroupOffsets on the Empty group "ga-idle": ga-a [0]=3, [1]=4, ga-b [0]=7;
 *      ListConsumerGroupOffsets returns exactly those (all partitions, and one named);
 *   4. DeleteConsumerGroupOffsets on ga-idle, ga-a [0]: gone, the others stay;
 *   5. DeleteConsumerGroupOffsets on the active group for ga-a (subscribed):
 *      GROUP_SUBSCRIBED_TO_TOPIC; for ga-b (not subscribed): deleted;
 *   6. DeleteGroups: ga-idle goes; ga-active answers NON_EMPTY_GROUP.
 * Exits 1 naming the first step whose result was wrong.
 */
#include "rk_util.h"

typedef struct admin {
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
} admin;

/* Waits for the result of the operation just started; fails on a request-level error. */
static rd_kafka_event_t *wait_result(admin *a, rd_kafka_event_type_t type, const char *what)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(a->queue, 30000);
    if (!ev)
        rk_fail("%s: no result within 30 s", what);
    if (rd_kafka_event_type(ev) != type)
        rk_fail("%s: unexpected event %s", what, rd_kafka_event_name(ev));
    if (rd_kafka_event_error(ev))
        rk_fail("%s: %s", what, rd_kafka_event_error_string(ev));
    return ev;
}

static void create_topic(admin *a, const char *name, int partitions)
{
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, partitions, 1, NULL, 0);
    rd_kafka_CreateTopics(a->rk, &nt, 1, NULL, a->queue);
    rd_kafka_event_t *ev = wait_result(a, RD_KAFKA_EVENT_CREATETOPICS_RESULT, "CreateTopics");
    size_t n;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    if (n != 1 || rd_kafka_topic_result_error(res[0]))
        rk_fail("CreateTopics %s: %s", name, n ? rd_kafka_topic_result_error_string(res[0]) : "?");
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
}

/* The state ListConsumerGroups gives for group (with the states filter, if any), or NULL
 * when it is not listed. */
static const char *listed_state(admin *a, const char *group,
                                const rd_kafka_consumer_group_state_t *states, size_t nstates,
                                char *out, size_t cap)
{
    rd_kafka_AdminOptions_t *opt =
        rd_kafka_AdminOptions_new(a->rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
    if (nstates) {
        rd_kafka_error_t *e =
            rd_kafka_AdminOptions_set_match_consumer_group_states(opt, states, nstates);
        if (e)
            rk_fail("set_match_consumer_group_states: %s", rd_kafka_error_string(e));
    }
    rd_kafka_ListConsumerGroups(a->rk, opt, a->queue);
    rd_kafka_event_t *ev =
        wait_result(a, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT, "ListConsumerGroups");
    const rd_kafka_ListConsumerGroups_result_t *res = rd_kafka_event_ListConsumerGroups_result(ev);
    size_t nerr, n;
    rd_kafka_ListConsumerGroups_result_errors(res, &nerr);
    if (nerr)
        rk_fail("ListConsumerGroups: %zu errors", nerr);
    const rd_kafka_ConsumerGroupListing_t **list =
        rd_kafka_ListConsumerGroups_result_valid(res, &n);
    const char *found = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(rd_kafka_ConsumerGroupListing_group_id(list[i]), group) == 0) {
            snprintf(
                out, cap, "%s",
                rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(list[i])));
            found = out;
        }
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opt);
    return found;
}

static rd_kafka_topic_partition_list_t *parts3(void)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(3);
    rd_kafka_topic_partition_list_add(l, "ga-a", 0)->offset = 3;
    rd_kafka_topic_partition_list_add(l, "ga-a", 1)->offset = 4;
    rd_kafka_topic_partition_list_add(l, "ga-b", 0)->offset = 7;
    return l;
}

/* "ga-a[0]=3 ga-a[1]=4 ..." for the partitions that have an offset (>= 0), in order. */
static void offsets_text(const rd_kafka_topic_partition_list_t *l, char *out, size_t cap)
{
    size_t at = 0;
    out[0] = '\0';
    for (int i = 0; i < l->cnt; i++) {
        if (l->elems[i].err)
            rk_fail("offset of %s[%d]: %s", l->elems[i].topic, (int)l->elems[i].partition,
                    rd_kafka_err2str(l->elems[i].err));
        if (l->elems[i].offset < 0)
            continue;
        at +=
            (size_t)snprintf(out + at, cap - at, "%s%s[%d]=%lld", at ? " " : "", l->elems[i].topic,
                             (int)l->elems[i].partition, (long long)l->elems[i].offset);
    }
}

static void list_offsets(admin *a, const char *group, rd_kafka_topic_partition_list_t *only,
                         const char *expect)
{
    rd_kafka_ListConsumerGroupOffsets_t *req = rd_kafka_ListConsumerGroupOffsets_new(group, only);
    rd_kafka_ListConsumerGroupOffsets(a->rk, &req, 1, NULL, a->queue);
    rd_kafka_event_t *ev =
        wait_result(a, RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT, "ListConsumerGroupOffsets");
    size_t n;
    const rd_kafka_group_result_t **res = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n);
    if (n != 1 || rd_kafka_group_result_error(res[0]))
        rk_fail("ListConsumerGroupOffsets %s: group error", group);
    char got[512];
    offsets_text(rd_kafka_group_result_partitions(res[0]), got, sizeof got);
    if (strcmp(got, expect) != 0)
        rk_fail("ListConsumerGroupOffsets %s: got \"%s\", expected \"%s\"", group, got, expect);
    rd_kafka_event_destroy(ev);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
}

/* Deletes the group's offset for topic[partition]; returns that partition's error. */
static rd_kafka_resp_err_t delete_offset(admin *a, const char *group, const char *topic,
                                         int32_t partition)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition);
    rd_kafka_DeleteConsumerGroupOffsets_t *d = rd_kafka_DeleteConsumerGroupOffsets_new(group, l);
    rd_kafka_DeleteConsumerGroupOffsets(a->rk, &d, 1, NULL, a->queue);
    rd_kafka_event_t *ev = wait_result(a, RD_KAFKA_EVENT_DELETECONSUMERGROUPOFFSETS_RESULT,
                                       "DeleteConsumerGroupOffsets");
    size_t n;
    const rd_kafka_group_result_t **res = rd_kafka_DeleteConsumerGroupOffsets_result_groups(
        rd_kafka_event_DeleteConsumerGroupOffsets_result(ev), &n);
    if (n != 1)
        rk_fail("DeleteConsumerGroupOffsets: %zu results", n);
    const rd_kafka_error_t *ge = rd_kafka_group_result_error(res[0]);
    if (ge)
        rk_fail("DeleteConsumerGroupOffsets %s: %s", group, rd_kafka_error_string(ge));
    const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(res[0]);
    rd_kafka_resp_err_t err =
        parts && parts->cnt == 1 ? parts->elems[0].err : RD_KAFKA_RESP_ERR__FAIL;
    rd_kafka_event_destroy(ev);
    rd_kafka_DeleteConsumerGroupOffsets_destroy(d);
    rd_kafka_topic_partition_list_destroy(l);
    return err;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        rk_fail("usage: rk_group_admin BOOTSTRAP");
    const char *bootstrap = argv[1];
    admin a = {rk_new(RD_KAFKA_PRODUCER, rk_conf(bootstrap)), NULL};
    a.queue = rd_kafka_queue_new(a.rk);
    create_topic(&a, "ga-a", 2);
    create_topic(&a, "ga-b", 1);

    /* 1. An active member of ga-active, subscribed to ga-a. */
    rd_kafka_conf_t *cc = rk_conf(bootstrap);
    rk_set(cc, "group.id", "ga-active");
    rk_set(cc, "auto.offset.reset", "earliest");
    rd_kafka_t *consumer = rk_new(RD_KAFKA_CONSUMER, cc);
    rd_kafka_poll_set_consumer(consumer);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, "ga-a", RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(consumer, sub))
        rk_fail("subscribe");
    rd_kafka_topic_partition_list_destroy(sub);
    char state[64];
    int64_t deadline = rk_now_ms() + 30000;
    for (;;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, 100);
        if (m)
            rd_kafka_message_destroy(m);
        rd_kafka_topic_partition_list_t *asg = NULL;
        int assigned = rd_kafka_assignment(consumer, &asg) == 0 && asg->cnt == 2;
        if (asg)
            rd_kafka_topic_partition_list_destroy(asg);
        if (assigned && listed_state(&a, "ga-active", NULL, 0, state, sizeof state) &&
            strcmp(state, "Stable") == 0)
            break;
        if (rk_now_ms() > deadline)
            rk_fail("ga-active not Stable with 2 partitions within 30 s");
    }
    printf("rk_group_admin: ga-active is Stable\n");

    /* 2. The states filter. */
    rd_kafka_consumer_group_state_t empty = RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY;
    rd_kafka_consumer_group_state_t stable = RD_KAFKA_CONSUMER_GROUP_STATE_STABLE;
    if (listed_state(&a, "ga-active", &empty, 1, state, sizeof state))
        rk_fail("ListConsumerGroups(Empty) lists ga-active (%s)", state);
    if (!listed_state(&a, "ga-active", &stable, 1, state, sizeof state))
        rk_fail("ListConsumerGroups(Stable) does not list ga-active");

    /* 3. Offsets of an idle group, set and read back. */
    rd_kafka_topic_partition_list_t *l = parts3();
    rd_kafka_AlterConsumerGroupOffsets_t *alt =
        rd_kafka_AlterConsumerGroupOffsets_new("ga-idle", l);
    rd_kafka_AlterConsumerGroupOffsets(a.rk, &alt, 1, NULL, a.queue);
    rd_kafka_event_t *ev = wait_result(&a, RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT,
                                       "AlterConsumerGroupOffsets");
    size_t n;
    const rd_kafka_group_result_t **gres = rd_kafka_AlterConsumerGroupOffsets_result_groups(
        rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &n);
    char got[512];
    offsets_text(rd_kafka_group_result_partitions(gres[0]), got, sizeof got);
    rd_kafka_event_destroy(ev);
    rd_kafka_AlterConsumerGroupOffsets_destroy(alt);
    list_offsets(&a, "ga-idle", NULL, "ga-a[0]=3 ga-a[1]=4 ga-b[0]=7");
    rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(one, "ga-a", 1);
    list_offsets(&a, "ga-idle", one, "ga-a[1]=4");
    rd_kafka_topic_partition_list_destroy(one);
    if (listed_state(&a, "ga-idle", &empty, 1, state, sizeof state) == NULL)
        rk_fail("ListConsumerGroups(Empty) does not list ga-idle");
    printf("rk_group_admin: offsets altered and listed\n");

    /* 4. Delete one offset of the idle group. */
    rd_kafka_resp_err_t e = delete_offset(&a, "ga-idle", "ga-a", 0);
    if (e)
        rk_fail("DeleteConsumerGroupOffsets ga-idle ga-a[0]: %s", rd_kafka_err2str(e));
    list_offsets(&a, "ga-idle", NULL, "ga-a[1]=4 ga-b[0]=7");

    /* 5. The active group: its subscribed topic is refused, another is not. */
    l->elems[0].offset = 1;
    rd_kafka_topic_partition_list_t *lb = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(lb, "ga-b", 0)->offset = 2;
    alt = rd_kafka_AlterConsumerGroupOffsets_new("ga-active", lb);
    rd_kafka_AlterConsumerGroupOffsets(a.rk, &alt, 1, NULL, a.queue);
    ev = wait_result(&a, RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT,
                     "AlterConsumerGroupOffsets");
    gres = rd_kafka_AlterConsumerGroupOffsets_result_groups(
        rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &n);
    const rd_kafka_topic_partition_list_t *ap = rd_kafka_group_result_partitions(gres[0]);
    /* Kafka refuses an admin commit into a group with members (UNKNOWN_MEMBER_ID). */
    if (!ap || ap->cnt != 1 || ap->elems[0].err != RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID)
        rk_fail("AlterConsumerGroupOffsets on an active group: %s, expected UNKNOWN_MEMBER_ID",
                ap && ap->cnt ? rd_kafka_err2str(ap->elems[0].err) : "no partitions");
    rd_kafka_event_destroy(ev);
    rd_kafka_AlterConsumerGroupOffsets_destroy(alt);
    rd_kafka_topic_partition_list_destroy(lb);
    /* The member commits ga-a itself, so the group has an offset there. */
    rd_kafka_topic_partition_list_t *mine = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(mine, "ga-a", 0)->offset = 0;
    if ((e = rd_kafka_commit(consumer, mine, 0)))
        rk_fail("member commit: %s", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(mine);
    e = delete_offset(&a, "ga-active", "ga-a", 0);
    if (e != RD_KAFKA_RESP_ERR_GROUP_SUBSCRIBED_TO_TOPIC)
        rk_fail("DeleteConsumerGroupOffsets on a subscribed topic: %s, expected "
                "GROUP_SUBSCRIBED_TO_TOPIC",
                rd_kafka_err2str(e));
    e = delete_offset(&a, "ga-active", "ga-b", 0);
    if (e)
        rk_fail("DeleteConsumerGroupOffsets on an unsubscribed topic: %s", rd_kafka_err2str(e));
    list_offsets(&a, "ga-active", NULL, "ga-a[0]=0");
    printf("rk_group_admin: offsets deleted (GROUP_SUBSCRIBED_TO_TOPIC for the active topic)\n");

    /* 6. DeleteGroups. */
    rd_kafka_DeleteGroup_t *dg[2] = {rd_kafka_DeleteGroup_new("ga-idle"),
                                     rd_kafka_DeleteGroup_new("ga-active")};
    rd_kafka_DeleteGroups(a.rk, dg, 2, NULL, a.queue);
    ev = wait_result(&a, RD_KAFKA_EVENT_DELETEGROUPS_RESULT, "DeleteGroups");
    gres = rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev), &n);
    for (size_t i = 0; i < n; i++) {
        const char *g = rd_kafka_group_result_name(gres[i]);
        const rd_kafka_error_t *ge = rd_kafka_group_result_error(gres[i]);
        rd_kafka_resp_err_t code = ge ? rd_kafka_error_code(ge) : 0;
        rd_kafka_resp_err_t want =
            strcmp(g, "ga-idle") == 0 ? 0 : RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP;
        if (code != want)
            rk_fail("DeleteGroups %s: %s, expected %s", g, rd_kafka_err2str(code),
                    rd_kafka_err2str(want));
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_DeleteGroup_destroy_array(dg, 2);
    if (listed_state(&a, "ga-idle", NULL, 0, state, sizeof state))
        rk_fail("ga-idle still listed after DeleteGroups");
    printf("rk_group_admin: DeleteGroups ok\n");

    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    rd_kafka_queue_destroy(a.queue);
    rd_kafka_destroy(a.rk);
    printf("rk_group_admin: all checks passed\n");
    return 0;
}
