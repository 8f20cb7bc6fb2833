/*
 * strait groups {list,describe,delete,delete-offsets,reset-offsets}: consumer groups,
 * shaped like Kafka's kafka-consumer-groups.sh, over the Kafka admin API
 * (ListConsumerGroups, DescribeConsumerGroups, ListConsumerGroupOffsets, DeleteGroups,
 * DeleteConsumerGroupOffsets, AlterConsumerGroupOffsets), so they work against any
 * Kafka cluster. Lag is computed here from the committed offsets and each partition's
 * log end. reset-offsets lives in cli_groups_reset.c.
 */
#include <inttypes.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"
#include "tools/cli_groups.h"

/* ---- usage texts ---- */

static void usage_groups(FILE *out)
{
    fputs("Usage: strait groups SUBCOMMAND [options]\n"
          "\n"
          "Consumer groups: their members, committed offsets and lag (Kafka admin API).\n"
          "\n"
          "Subcommands:\n"
          "  list                   list consumer groups\n"
          "  describe GROUP...      per partition: committed offset, log end, lag, owner\n"
          "  delete GROUP...        delete groups without members, and their offsets\n"
          "  delete-offsets GROUP   delete a group's committed offsets for some topics\n"
          "  reset-offsets GROUP    move a group's committed offsets (dry run by default)\n"
          "\n"
          "Run 'strait groups SUBCOMMAND --help' for its options.\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExamples:\n"
          "  strait groups list\n"
          "  strait groups describe audit\n"
          "  strait groups reset-offsets audit --topic events --to-earliest --execute\n",
          out);
}

static void usage_list(FILE *out)
{
    fputs("Usage: strait groups list [options]\n"
          "\n"
          "Lists consumer groups with their state and member count.\n"
          "\n"
          "Options:\n"
          "  --regex RE      only groups whose whole id matches the extended regular\n"
          "                  expression RE [all]\n"
          "  --state S       only groups in state S (Empty, Stable, PreparingRebalance,\n"
          "                  CompletingRebalance, Dead); repeat for several [all]\n\n",
          out);
    cli_print_global_options(out);
    fputs(
        "\nExamples:\n  strait groups list --state Stable\n  strait groups list --regex 'audit-.*' "
        "--json\n",
        out);
}

static void usage_describe(FILE *out)
{
    fputs("Usage: strait groups describe (GROUP... | --regex RE) [options]\n"
          "\n"
          "One row per partition the group has committed or is assigned:\n"
          "  TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID\n"
          "CURRENT-OFFSET is the committed offset (\"-\" if none), LAG is LOG-END-OFFSET\n"
          "minus it; CONSUMER-ID, HOST and CLIENT-ID name the member that owns the\n"
          "partition now (\"-\" if none). Members without partitions follow, then the\n"
          "group's state and member count. --json adds each member's assignment and\n"
          "the group.instance.id of a static member (null for a dynamic one).\n"
          "\n"
          "Options:\n"
          "  --regex RE      every group whose whole id matches RE\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExample:\n  strait groups describe audit billing\n", out);
}

static void usage_delete(FILE *out)
{
    fputs("Usage: strait groups delete (GROUP... | --regex RE) [options]\n"
          "\n"
          "Deletes each group and its committed offsets. Refused for a group that has\n"
          "members: stop its consumers first. There is no undo.\n"
          "\n"
          "Options:\n"
          "  --regex RE      every group whose whole id matches RE\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExample:\n  strait groups delete audit\n", out);
}

static void usage_delete_offsets(FILE *out)
{
    fputs("Usage: strait groups delete-offsets GROUP --topic T[:P,P...]... [options]\n"
          "\n"
          "Deletes GROUP's committed offsets for the partitions named (a consumer of the\n"
          "group then starts there from its auto.offset.reset). Refused for a topic an\n"
          "active member of the group subscribes to.\n"
          "\n"
          "Options:\n"
          "  --topic T          every partition of topic T; repeat for several\n"
          "  --topic T:P,P...   only partitions P of T, e.g. orders:0,2\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExample:\n  strait groups delete-offsets audit --topic old-events\n", out);
}

/* ---- list ---- */

typedef struct group_row {
    char *id;
    char state[32];
    bool simple;
    int members;
} group_row;

static int cmp_rows(const void *a, const void *b)
{
    return strcmp(((const group_row *)a)->id, ((const group_row *)b)->id);
}

int cli_groups_matching(cli_kadmin *a, const regex_t *re, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    rd_kafka_AdminOptions_t *opt = cli_kadmin_options(a, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
    rd_kafka_ListConsumerGroups(a->rk, opt, a->queue);
    rd_kafka_AdminOptions_destroy(opt);
    rd_kafka_event_t *ev =
        cli_kadmin_wait(a, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT, "listing consumer groups");
    if (!ev)
        return CLI_FAIL;
    size_t count;
    const rd_kafka_ConsumerGroupListing_t **list = rd_kafka_ListConsumerGroups_result_valid(
        rd_kafka_event_ListConsumerGroups_result(ev), &count);
    *out = calloc(count ? count : 1, sizeof **out);
    for (size_t i = 0; i < count; i++) {
        const char *id = rd_kafka_ConsumerGroupListing_group_id(list[i]);
        regmatch_t m;
        if (!re || (regexec(re, id, 1, &m, 0) == 0 && m.rm_so == 0 && id[m.rm_eo] == '\0'))
            (*out)[(*n)++] = strdup(id);
    }
    rd_kafka_event_destroy(ev);
    return CLI_OK;
}

int cli_regex_arg(const cli_ctx *c, const char *text, regex_t *re)
{
    int e = regcomp(re, text, REG_EXTENDED);
    if (e) {
        char why[256];
        regerror(e, re, why, sizeof why);
        return cli_usage_error(c, "--regex \"%s\": %s", text, why);
    }
    return CLI_OK;
}

static int groups_list(cli_ctx *c, int argc, char **argv)
{
    enum { OPT_REGEX = 1, OPT_STATE };
    static const struct option longopts[] = {
        {"regex", required_argument, NULL, OPT_REGEX},
        {"state", required_argument, NULL, OPT_STATE},
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    static const int lists[] = {OPT_STATE, 0};
    const char *regex = NULL;
    cli_list states = {0};
    regex_t re;
    bool have_re = false;
    cli_kadmin a = {0};
    group_row *rows = NULL;
    size_t nrows = 0;
    int rc = CLI_USAGE, opt;

    c->prog = "strait groups list";
    c->usage = usage_list;
    c->lists = lists;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "", longopts)) != CLI_GETOPT_END) {
        if (opt == CLI_GETOPT_HELP) {
            rc = CLI_OK;
            goto out;
        }
        if (opt == CLI_GETOPT_ERROR)
            goto out;
        if (opt == OPT_REGEX)
            regex = optarg;
        else
            cli_list_add(&states, optarg);
    }
    if (optind < argc) {
        cli_usage_error(c, "unexpected argument \"%s\" (filter with --regex)", argv[optind]);
        goto out;
    }
    rd_kafka_consumer_group_state_t codes[8];
    for (size_t i = 0; i < states.n; i++) {
        rd_kafka_consumer_group_state_t code = rd_kafka_consumer_group_state_code(states.v[i]);
        if (code == RD_KAFKA_CONSUMER_GROUP_STATE_UNKNOWN || i >= 8) {
            cli_usage_error(c,
                            "--state \"%s\": not a group state (Empty, Stable, "
                            "PreparingRebalance, CompletingRebalance, Dead)",
                            states.v[i]);
            goto out;
        }
        codes[i] = code;
    }
    if (regex) {
        if (cli_regex_arg(c, regex, &re) != CLI_OK)
            goto out;
        have_re = true;
    }
    rc = CLI_FAIL;
    if (cli_kadmin_open(c, &a) != CLI_OK)
        goto out;
    rd_kafka_AdminOptions_t *o = cli_kadmin_options(&a, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
    if (states.n) {
        rd_kafka_error_t *e =
            rd_kafka_AdminOptions_set_match_consumer_group_states(o, codes, states.n);
        if (e) {
            cli_fail("--state: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            rd_kafka_AdminOptions_destroy(o);
            goto out;
        }
    }
    rd_kafka_ListConsumerGroups(a.rk, o, a.queue);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_event_t *ev =
        cli_kadmin_wait(&a, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT, "listing consumer groups");
    if (!ev)
        goto out;
    size_t count;
    const rd_kafka_ListConsumerGroups_result_t *res = rd_kafka_event_ListConsumerGroups_result(ev);
    const rd_kafka_ConsumerGroupListing_t **list =
        rd_kafka_ListConsumerGroups_result_valid(res, &count);
    size_t nerr;
    const rd_kafka_error_t **errs = rd_kafka_ListConsumerGroups_result_errors(res, &nerr);
    for (size_t i = 0; i < nerr; i++)
        cli_fail("a broker could not list its groups: %s", rd_kafka_error_string(errs[i]));
    rows = calloc(count ? count : 1, sizeof *rows);
    for (size_t i = 0; i < count; i++) {
        const char *id = rd_kafka_ConsumerGroupListing_group_id(list[i]);
        regmatch_t m;
        if (have_re && !(regexec(&re, id, 1, &m, 0) == 0 && m.rm_so == 0 && id[m.rm_eo] == '\0'))
            continue;
        group_row *r = &rows[nrows++];
        r->id = strdup(id);
        snprintf(r->state, sizeof r->state, "%s",
                 rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(list[i])));
        r->simple = rd_kafka_ConsumerGroupListing_is_simple_consumer_group(list[i]);
        r->members = -1;
    }
    rd_kafka_event_destroy(ev);
    qsort(rows, nrows, sizeof *rows, cmp_rows);
    /* Member counts: one DescribeConsumerGroups for the consumer groups listed. */
    const char **ids = calloc(nrows ? nrows : 1, sizeof *ids);
    size_t nids = 0;
    for (size_t i = 0; i < nrows; i++)
        if (!rows[i].simple)
            ids[nids++] = rows[i].id;
    if (nids) {
        o = cli_kadmin_options(&a, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
        rd_kafka_DescribeConsumerGroups(a.rk, ids, nids, o, a.queue);
        rd_kafka_AdminOptions_destroy(o);
        ev = cli_kadmin_wait(&a, RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT,
                             "describing consumer groups");
        if (ev) {
            size_t nd;
            const rd_kafka_ConsumerGroupDescription_t **d =
                rd_kafka_DescribeConsumerGroups_result_groups(
                    rd_kafka_event_DescribeConsumerGroups_result(ev), &nd);
            for (size_t i = 0; i < nd; i++)
                for (size_t k = 0; k < nrows; k++)
                    if (strcmp(rows[k].id, rd_kafka_ConsumerGroupDescription_group_id(d[i])) == 0 &&
                        !rd_kafka_ConsumerGroupDescription_error(d[i]))
                        rows[k].members = (int)rd_kafka_ConsumerGroupDescription_member_count(d[i]);
            rd_kafka_event_destroy(ev);
        }
    }
    free(ids);
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < nrows; i++)
            json_array_append_new(
                arr, json_pack("{s:s,s:s,s:s,s:o}", "group", rows[i].id, "state", rows[i].state,
                               "protocol_type", rows[i].simple ? "" : "consumer", "members",
                               rows[i].members < 0 ? json_null() : json_integer(rows[i].members)));
        json_t *res_json = json_pack("{s:o}", "groups", arr);
        cli_print_json(res_json);
        json_decref(res_json);
    } else if (nrows == 0) {
        puts("no consumer groups");
    } else {
        static const char *const head[] = {"GROUP", "STATE", "PROTOCOL-TYPE", "MEMBERS"};
        cli_table t;
        cli_table_init(&t, 4, head);
        for (size_t i = 0; i < nrows; i++) {
            char n[24];
            snprintf(n, sizeof n, "%d", rows[i].members);
            const char *row[] = {rows[i].id, rows[i].state, rows[i].simple ? "-" : "consumer",
                                 rows[i].members < 0 ? "-" : n};
            cli_table_row(&t, row);
        }
        cli_table_print(&t, stdout);
        cli_table_free(&t);
    }
    rc = nerr ? CLI_FAIL : CLI_OK;
out:
    for (size_t i = 0; i < nrows; i++)
        free(rows[i].id);
    free(rows);
    if (have_re)
        regfree(&re);
    cli_list_free(&states);
    cli_kadmin_close(&a);
    return rc;
}

/* ---- describe ---- */

int cli_group_describe(cli_kadmin *a, const char *group, cli_group_info *info)
{
    memset(info, 0, sizeof *info);
    rd_kafka_AdminOptions_t *o = cli_kadmin_options(a, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    rd_kafka_DescribeConsumerGroups(a->rk, &group, 1, o, a->queue);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_event_t *ev =
        cli_kadmin_wait(a, RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT, "describing the group");
    if (!ev)
        return CLI_FAIL;
    size_t n;
    const rd_kafka_ConsumerGroupDescription_t **d = rd_kafka_DescribeConsumerGroups_result_groups(
        rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
    int rc = CLI_OK;
    if (n != 1) {
        rc = cli_fail("group \"%s\": no description came back", group);
    } else if (rd_kafka_ConsumerGroupDescription_error(d[0])) {
        rc = cli_fail("group \"%s\": %s", group,
                      rd_kafka_error_string(rd_kafka_ConsumerGroupDescription_error(d[0])));
    } else {
        snprintf(info->state, sizeof info->state, "%s",
                 rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(d[0])));
        snprintf(info->assignor, sizeof info->assignor, "%s",
                 rd_kafka_ConsumerGroupDescription_partition_assignor(d[0]));
        info->nmembers = rd_kafka_ConsumerGroupDescription_member_count(d[0]);
        info->members = calloc(info->nmembers ? info->nmembers : 1, sizeof *info->members);
        for (size_t i = 0; i < info->nmembers; i++) {
            const rd_kafka_MemberDescription_t *m =
                rd_kafka_ConsumerGroupDescription_member(d[0], i);
            cli_group_member *gm = &info->members[i];
            gm->id = strdup(rd_kafka_MemberDescription_consumer_id(m));
            gm->client_id = strdup(rd_kafka_MemberDescription_client_id(m));
            gm->host = strdup(rd_kafka_MemberDescription_host(m));
            const char *instance = rd_kafka_MemberDescription_group_instance_id(m);
            gm->instance_id = instance ? strdup(instance) : NULL;
            const rd_kafka_topic_partition_list_t *p =
                rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(m));
            gm->assignment =
                p ? rd_kafka_topic_partition_list_copy(p) : rd_kafka_topic_partition_list_new(0);
        }
    }
    rd_kafka_event_destroy(ev);
    return rc;
}

void cli_group_info_free(cli_group_info *info)
{
    for (size_t i = 0; i < info->nmembers; i++) {
        free(info->members[i].id);
        free(info->members[i].client_id);
        free(info->members[i].host);
        free(info->members[i].instance_id);
        rd_kafka_topic_partition_list_destroy(info->members[i].assignment);
    }
    free(info->members);
    memset(info, 0, sizeof *info);
}

rd_kafka_topic_partition_list_t *cli_group_committed(cli_kadmin *a, const char *group)
{
    rd_kafka_ListConsumerGroupOffsets_t *req = rd_kafka_ListConsumerGroupOffsets_new(group, NULL);
    rd_kafka_AdminOptions_t *o = cli_kadmin_options(a, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
    rd_kafka_ListConsumerGroupOffsets(a->rk, &req, 1, o, a->queue);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    rd_kafka_event_t *ev = cli_kadmin_wait(a, RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT,
                                           "reading the group's committed offsets");
    if (!ev)
        return NULL;
    size_t n;
    const rd_kafka_group_result_t **g = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n);
    rd_kafka_topic_partition_list_t *out = NULL;
    if (n == 1 && rd_kafka_group_result_error(g[0]))
        cli_fail("group \"%s\": %s", group,
                 rd_kafka_error_string(rd_kafka_group_result_error(g[0])));
    else if (n == 1 && rd_kafka_group_result_partitions(g[0]))
        out = rd_kafka_topic_partition_list_copy(rd_kafka_group_result_partitions(g[0]));
    else
        out = rd_kafka_topic_partition_list_new(0);
    rd_kafka_event_destroy(ev);
    if (out)
        rd_kafka_topic_partition_list_sort(out, NULL, NULL);
    return out;
}

/* Which member owns topic[partition] now, or NULL. */
static const cli_group_member *owner_of(const cli_group_info *info, const char *topic,
                                        int32_t partition)
{
    for (size_t i = 0; i < info->nmembers; i++)
        if (rd_kafka_topic_partition_list_find(info->members[i].assignment, topic, partition))
            return &info->members[i];
    return NULL;
}

static int describe_one(cli_kadmin *a, const char *group, json_t *all)
{
    cli_group_info info;
    if (cli_group_describe(a, group, &info) != CLI_OK)
        return CLI_FAIL;
    rd_kafka_topic_partition_list_t *rows = cli_group_committed(a, group);
    if (!rows) {
        cli_group_info_free(&info);
        return CLI_FAIL;
    }
    /* A group nobody has joined or committed for is answered as Dead with nothing in it:
     * say so, as kafka-consumer-groups.sh does, instead of printing an empty table. */
    if (strcmp(info.state, "Dead") == 0 && info.nmembers == 0 && rows->cnt == 0) {
        rd_kafka_topic_partition_list_destroy(rows);
        cli_group_info_free(&info);
        return cli_fail("group \"%s\" does not exist (strait groups list shows the groups there "
                        "are)",
                        group);
    }
    /* Rows: every committed partition, then assigned ones with nothing committed. */
    for (size_t i = 0; i < info.nmembers; i++) {
        const rd_kafka_topic_partition_list_t *as = info.members[i].assignment;
        for (int k = 0; k < as->cnt; k++)
            if (!rd_kafka_topic_partition_list_find(rows, as->elems[k].topic,
                                                    as->elems[k].partition))
                rd_kafka_topic_partition_list_add(rows, as->elems[k].topic, as->elems[k].partition)
                    ->offset = RD_KAFKA_OFFSET_INVALID;
    }
    rd_kafka_topic_partition_list_sort(rows, NULL, NULL);
    json_t *offsets = json_array();
    static const char *const head[] = {"TOPIC", "PARTITION",   "CURRENT-OFFSET", "LOG-END-OFFSET",
                                       "LAG",   "CONSUMER-ID", "HOST",           "CLIENT-ID"};
    cli_table t;
    cli_table_init(&t, 8, head);
    int rc = CLI_OK;
    for (int i = 0; i < rows->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &rows->elems[i];
        int64_t low = -1, high = -1;
        bool known = cli_kadmin_watermarks(a, p->topic, p->partition, &low, &high) == CLI_OK;
        if (!known)
            rc = CLI_FAIL;
        const cli_group_member *m = owner_of(&info, p->topic, p->partition);
        bool committed = p->offset >= 0;
        char part[16], cur[24], end[24], lag[24];
        snprintf(part, sizeof part, "%d", (int)p->partition);
        snprintf(cur, sizeof cur, "%" PRId64, p->offset);
        snprintf(end, sizeof end, "%" PRId64, high);
        snprintf(lag, sizeof lag, "%" PRId64, high - p->offset);
        const char *row[] = {p->topic,
                             part,
                             committed ? cur : "-",
                             known ? end : "-",
                             committed && known ? lag : "-",
                             m ? m->id : "-",
                             m ? m->host : "-",
                             m ? m->client_id : "-"};
        cli_table_row(&t, row);
        json_array_append_new(
            offsets, json_pack("{s:s,s:i,s:o,s:o,s:o,s:o}", "topic", p->topic, "partition",
                               (int)p->partition, "committed",
                               committed ? json_integer(p->offset) : json_null(), "log_end",
                               known ? json_integer(high) : json_null(), "lag",
                               committed && known ? json_integer(high - p->offset) : json_null(),
                               "member_id", m ? json_string(m->id) : json_null()));
    }
    /* Members that own nothing still show, as kafka-consumer-groups.sh does. */
    json_t *members = json_array();
    for (size_t i = 0; i < info.nmembers; i++) {
        const cli_group_member *m = &info.members[i];
        json_t *assignment = json_array();
        for (int k = 0; k < m->assignment->cnt; k++)
            json_array_append_new(assignment,
                                  json_pack("{s:s,s:i}", "topic", m->assignment->elems[k].topic,
                                            "partition", (int)m->assignment->elems[k].partition));
        json_array_append_new(members, json_pack("{s:s,s:s?,s:s,s:s,s:o}", "member_id", m->id,
                                                 "group_instance_id", m->instance_id, "client_id",
                                                 m->client_id, "client_host", m->host, "assignment",
                                                 assignment));
        if (m->assignment->cnt > 0)
            continue;
        const char *row[] = {"-", "-", "-", "-", "-", m->id, m->host, m->client_id};
        cli_table_row(&t, row);
    }
    if (all) {
        json_array_append_new(all, json_pack("{s:s,s:s,s:s,s:o,s:o}", "group", group, "state",
                                             info.state, "assignor", info.assignor, "members",
                                             members, "offsets", offsets));
    } else {
        json_decref(members);
        json_decref(offsets);
        if (t.nrows > 1)
            cli_table_print(&t, stdout);
        else
            puts("no committed offsets and no members with partitions");
        char *safe_group = cli_safe(group), *safe_assignor = cli_safe(info.assignor);
        printf("\nGroup \"%s\": %s, %zu member%s", safe_group, info.state, info.nmembers,
               info.nmembers == 1 ? "" : "s");
        if (info.assignor[0])
            printf(" (assignor %s)", safe_assignor);
        putchar('\n');
        free(safe_group);
        free(safe_assignor);
    }
    cli_table_free(&t);
    rd_kafka_topic_partition_list_destroy(rows);
    cli_group_info_free(&info);
    return rc;
}

/* GROUP... or --regex RE into a list of ids (*ids owned). CLI_OK, CLI_USAGE, CLI_FAIL. */
static int named_groups(cli_ctx *c, cli_kadmin *a, int argc, char **argv, const char *regex,
                        char ***ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    if (regex && optind < argc)
        return cli_usage_error(c, "give GROUP names or --regex, not both");
    if (!regex && optind >= argc)
        return cli_usage_error(c, "missing the GROUP (or --regex RE)");
    if (!regex) {
        *ids = calloc((size_t)(argc - optind), sizeof **ids);
        for (int i = optind; i < argc; i++)
            (*ids)[(*n)++] = strdup(argv[i]);
        return CLI_OK;
    }
    regex_t re;
    if (cli_regex_arg(c, regex, &re) != CLI_OK)
        return CLI_USAGE;
    int rc = cli_kadmin_open(c, a) == CLI_OK ? cli_groups_matching(a, &re, ids, n) : CLI_FAIL;
    regfree(&re);
    if (rc == CLI_OK && *n == 0)
        rc = cli_fail("no consumer group matches --regex \"%s\"", regex);
    return rc;
}

static void free_ids(char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

static int groups_describe(cli_ctx *c, int argc, char **argv)
{
    const char *regex = NULL;
    char **ids = NULL;
    size_t n = 0;
    cli_kadmin a = {0};
    c->prog = "strait groups describe";
    c->usage = usage_describe;
    int rc = cli_parse_regex_opt(c, argc, argv, &regex);
    if (rc != CLI_OK)
        return rc == CLI_GETOPT_HELP ? CLI_OK : rc;
    rc = named_groups(c, &a, argc, argv, regex, &ids, &n);
    if (rc == CLI_OK && !a.rk)
        rc = cli_kadmin_open(c, &a);
    json_t *all = c->json ? json_array() : NULL;
    for (size_t i = 0; rc != CLI_USAGE && i < n; i++) {
        if (i && !c->json)
            putchar('\n');
        if (describe_one(&a, ids[i], all) != CLI_OK)
            rc = CLI_FAIL;
    }
    if (all) {
        /* One group: its object, as before; several: an array. */
        if (rc == CLI_OK || json_array_size(all))
            cli_print_json(n == 1 && json_array_size(all) == 1 ? json_array_get(all, 0) : all);
        json_decref(all);
    }
    free_ids(ids, n);
    cli_kadmin_close(&a);
    return rc;
}

static int groups_delete(cli_ctx *c, int argc, char **argv)
{
    const char *regex = NULL;
    char **ids = NULL;
    size_t n = 0;
    cli_kadmin a = {0};
    c->prog = "strait groups delete";
    c->usage = usage_delete;
    int rc = cli_parse_regex_opt(c, argc, argv, &regex);
    if (rc != CLI_OK)
        return rc == CLI_GETOPT_HELP ? CLI_OK : rc;
    rc = named_groups(c, &a, argc, argv, regex, &ids, &n);
    if (rc == CLI_OK && !a.rk)
        rc = cli_kadmin_open(c, &a);
    if (rc != CLI_OK)
        goto out;
    rd_kafka_DeleteGroup_t **del = calloc(n, sizeof *del);
    for (size_t i = 0; i < n; i++)
        del[i] = rd_kafka_DeleteGroup_new(ids[i]);
    rd_kafka_AdminOptions_t *o = cli_kadmin_options(&a, RD_KAFKA_ADMIN_OP_DELETEGROUPS);
    rd_kafka_DeleteGroups(a.rk, del, n, o, a.queue);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_DeleteGroup_destroy_array(del, n);
    free(del);
    rd_kafka_event_t *ev =
        cli_kadmin_wait(&a, RD_KAFKA_EVENT_DELETEGROUPS_RESULT, "deleting groups");
    if (!ev) {
        rc = CLI_FAIL;
        goto out;
    }
    size_t nres;
    const rd_kafka_group_result_t **res =
        rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev), &nres);
    json_t *out = json_array();
    for (size_t i = 0; i < nres; i++) {
        const char *g = rd_kafka_group_result_name(res[i]);
        const rd_kafka_error_t *e = rd_kafka_group_result_error(res[i]);
        if (e && rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP)
            cli_fail("group \"%s\" was not deleted: it has active members; stop its consumers "
                     "first",
                     g);
        else if (e)
            cli_fail("group \"%s\" was not deleted: %s", g, rd_kafka_error_string(e));
        else if (!c->json) {
            fputs("deleted group \"", stdout);
            cli_write_safe(stdout, g);
            fputs("\"\n", stdout);
        }
        if (e)
            rc = CLI_FAIL;
        json_array_append_new(out,
                              json_pack("{s:s,s:b,s:o}", "group", g, "deleted", e == NULL, "error",
                                        e ? json_string(rd_kafka_error_string(e)) : json_null()));
    }
    if (c->json)
        cli_print_json(out);
    json_decref(out);
    rd_kafka_event_destroy(ev);
out:
    free_ids(ids, n);
    cli_kadmin_close(&a);
    return rc;
}

/* ---- delete-offsets ---- */

static int groups_delete_offsets(cli_ctx *c, int argc, char **argv)
{
    enum { OPT_TOPIC = 1 };
    static const struct option longopts[] = {
        {"topic", required_argument, NULL, OPT_TOPIC},
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    static const int lists[] = {OPT_TOPIC, 0};
    cli_kadmin a = {0};
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(8);
    cli_list topics = {0};
    int rc = CLI_USAGE, opt;
    c->prog = "strait groups delete-offsets";
    c->usage = usage_delete_offsets;
    c->lists = lists;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "", longopts)) != CLI_GETOPT_END) {
        if (opt == CLI_GETOPT_HELP) {
            rc = CLI_OK;
            goto out;
        }
        if (opt == CLI_GETOPT_ERROR)
            goto out;
        cli_list_add(&topics, optarg);
    }
    if (optind >= argc) {
        cli_usage_error(c, "missing the GROUP");
        goto out;
    }
    if (optind + 1 < argc) {
        cli_usage_error(c, "unexpected argument \"%s\" (one group at a time)", argv[optind + 1]);
        goto out;
    }
    if (!topics.n) {
        cli_usage_error(c, "say which offsets: --topic T or --topic T:P,P...");
        goto out;
    }
    const char *group = argv[optind];
    if (cli_kadmin_open(c, &a) != CLI_OK) {
        rc = CLI_FAIL;
        goto out;
    }
    for (size_t i = 0; i < topics.n; i++) {
        char *topic;
        int32_t *ps;
        size_t np;
        if (cli_topic_partitions_arg(c, topics.v[i], &topic, &ps, &np) != CLI_OK)
            goto out;
        if (!ps) { /* every partition of the topic */
            const struct rd_kafka_metadata *md = cli_kadmin_metadata(&a, topic);
            if (!md || md->topic_cnt != 1 || md->topics[0].err) {
                if (md)
                    cli_kadmin_topic_error(topic, md->topic_cnt
                                                      ? md->topics[0].err
                                                      : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
                if (md)
                    rd_kafka_metadata_destroy(md);
                free(topic);
                rc = CLI_FAIL;
                goto out;
            }
            for (int p = 0; p < md->topics[0].partition_cnt; p++)
                rd_kafka_topic_partition_list_add(parts, topic, md->topics[0].partitions[p].id);
            rd_kafka_metadata_destroy(md);
        }
        for (size_t k = 0; k < np; k++)
            rd_kafka_topic_partition_list_add(parts, topic, ps[k]);
        free(ps);
        free(topic);
    }
    rd_kafka_DeleteConsumerGroupOffsets_t *d =
        rd_kafka_DeleteConsumerGroupOffsets_new(group, parts);
    rd_kafka_AdminOptions_t *o =
        cli_kadmin_options(&a, RD_KAFKA_ADMIN_OP_DELETECONSUMERGROUPOFFSETS);
    rd_kafka_DeleteConsumerGroupOffsets(a.rk, &d, 1, o, a.queue);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_DeleteConsumerGroupOffsets_destroy(d);
    rd_kafka_event_t *ev = cli_kadmin_wait(&a, RD_KAFKA_EVENT_DELETECONSUMERGROUPOFFSETS_RESULT,
                                           "deleting committed offsets");
    rc = CLI_FAIL;
    if (!ev)
        goto out;
    size_t n;
    const rd_kafka_group_result_t **res = rd_kafka_DeleteConsumerGroupOffsets_result_groups(
        rd_kafka_event_DeleteConsumerGroupOffsets_result(ev), &n);
    const rd_kafka_error_t *ge = n == 1 ? rd_kafka_group_result_error(res[0]) : NULL;
    if (ge) {
        cli_fail("group \"%s\": %s", group, rd_kafka_error_string(ge));
    } else if (n == 1) {
        const rd_kafka_topic_partition_list_t *r = rd_kafka_group_result_partitions(res[0]);
        json_t *arr = json_array();
        rc = CLI_OK;
        for (int i = 0; r && i < r->cnt; i++) {
            const rd_kafka_topic_partition_t *p = &r->elems[i];
            if (p->err == RD_KAFKA_RESP_ERR_GROUP_SUBSCRIBED_TO_TOPIC)
                cli_fail("%s [%d]: not deleted: an active member of group \"%s\" subscribes to "
                         "%s; stop its consumers first",
                         p->topic, (int)p->partition, group, p->topic);
            else if (p->err)
                cli_fail("%s [%d]: not deleted: %s", p->topic, (int)p->partition,
                         rd_kafka_err2str(p->err));
            else if (!c->json) {
                char *safe_group = cli_safe(group), *safe_topic = cli_safe(p->topic);
                printf("deleted the offset of group \"%s\" for %s [%d]\n", safe_group, safe_topic,
                       (int)p->partition);
                free(safe_group);
                free(safe_topic);
            }
            if (p->err)
                rc = CLI_FAIL;
            json_array_append_new(
                arr, json_pack("{s:s,s:i,s:b,s:o}", "topic", p->topic, "partition",
                               (int)p->partition, "deleted", !p->err, "error",
                               p->err ? json_string(rd_kafka_err2str(p->err)) : json_null()));
        }
        if (c->json)
            cli_print_json(arr);
        json_decref(arr);
    }
    rd_kafka_event_destroy(ev);
out:
    rd_kafka_topic_partition_list_destroy(parts);
    cli_list_free(&topics);
    cli_kadmin_close(&a);
    return rc;
}

static const cli_subcommand subcommands[] = {
    {"list", groups_list},
    {"describe", groups_describe},
    {"delete", groups_delete},
    {"delete-offsets", groups_delete_offsets},
    {"reset-offsets", cli_groups_reset_offsets},
};

int cli_groups_main(cli_ctx *c, int argc, char **argv)
{
    c->prog = "strait groups";
    c->usage = usage_groups;
    /* Global options may come between "groups" and the subcommand. */
    return cli_dispatch(c, argc, argv, subcommands, sizeof subcommands / sizeof subcommands[0],
                        "list, describe, delete, delete-offsets or reset-offsets");
}
