/*
 * strait groups {list,describe,delete,reset-offsets}: thin wrappers over the broker's
 * groups.* management commands (broker/admin_groups.c), shaped like Kafka's
 * kafka-consumer-groups.sh. The broker computes lag and the offsets of a reset; here
 * we check the command line's shape and print tables.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

int cli_groups_main(cli_ctx *c, int argc, char **argv);

/* ---- usage texts ---- */

static void usage_groups(FILE *out)
{
    fputs("Usage: strait groups SUBCOMMAND [options]\n"
          "\n"
          "Consumer groups: their members, committed offsets and lag.\n"
          "\n"
          "Subcommands:\n"
          "  list                  list consumer groups\n"
          "  describe GROUP        per partition: committed offset, log end, lag, owner\n"
          "  delete GROUP          delete a group without members and its offsets\n"
          "  reset-offsets GROUP   move a group's committed offsets (dry run by default)\n"
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
          "Lists every consumer group the broker knows (with members or committed\n"
          "offsets): its state, protocol type and member count.\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExample:\n  strait groups list --json\n", out);
}

static void usage_describe(FILE *out)
{
    fputs("Usage: strait groups describe GROUP [options]\n"
          "\n"
          "One row per partition the group has committed or is assigned:\n"
          "  TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID\n"
          "CURRENT-OFFSET is the committed offset (\"-\" if none), LAG is LOG-END-OFFSET\n"
          "minus it; CONSUMER-ID, HOST and CLIENT-ID name the member that owns the\n"
          "partition now (\"-\" if none). Members without partitions follow, then the\n"
          "group's state and member count. --json adds each member's assignment.\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExample:\n  strait groups describe audit\n", out);
}

static void usage_delete(FILE *out)
{
    fputs("Usage: strait groups delete GROUP [options]\n"
          "\n"
          "Deletes the group and its committed offsets. Refused while the group has\n"
          "members: stop its consumers first. There is no undo.\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExample:\n  strait groups delete audit\n", out);
}

static void usage_reset(FILE *out)
{
    fputs("Usage: strait groups reset-offsets GROUP (--topic T[:P,P...] | --all-topics)\n"
          "           (--to-earliest | --to-latest | --to-offset N | --to-datetime T |\n"
          "            --shift-by N) [--dry-run | --execute] [options]\n"
          "\n"
          "Moves GROUP's committed offsets. Without --execute this is a dry run: it\n"
          "prints the plan (current and new offset per partition) and changes nothing.\n"
          "With --execute the new offsets are written; the broker refuses while the\n"
          "group has active members, so stop its consumers first.\n"
          "\n"
          "Which partitions (one of):\n"
          "  --topic T           every partition of topic T\n"
          "  --topic T:P,P...    only partitions P of topic T, e.g. orders:0,2\n"
          "  --all-topics        every partition the group has committed offsets for\n"
          "\n"
          "Where to (one of; results are kept inside the log, between its start and\n"
          "end offsets):\n"
          "  --to-earliest       the log start offset\n"
          "  --to-latest         the log end offset (skip everything there now)\n"
          "  --to-offset N       offset N\n"
          "  --to-datetime T     the first record at or after T: ISO 8601 such as\n"
          "                      2026-11-21T10:00:00Z, 2026-11-21T10:00:00.000+01:00\n"
          "                      (no zone means UTC), or epoch milliseconds; the log end\n"
          "                      if no record is that late\n"
          "  --shift-by N        the committed offset plus N (N may be negative); needs\n"
          "                      a committed offset\n"
          "\n"
          "  --dry-run           print the plan only (the default)\n"
          "  --execute           write the new offsets\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExamples:\n"
          "  strait groups reset-offsets audit --topic events --to-earliest\n"
          "  strait groups reset-offsets audit --topic events:0,1 --shift-by -100 --execute\n"
          "  strait groups reset-offsets audit --all-topics \\\n"
          "      --to-datetime 2026-11-21T10:00:00Z --execute\n",
          out);
}

/* ---- helpers ---- */

/* An integer member as text, or "-" when it is null or absent. */
static const char *int_or_dash(const json_t *obj, const char *key, char *buf, size_t len)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return "-";
    snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return buf;
}

static const char *str_or_dash(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : "-";
}

/* ---- subcommands ---- */

static int groups_list(cli_ctx *c, int argc, char **argv)
{
    c->prog = "strait groups list";
    c->usage = usage_list;
    int rc;
    if (cli_parse_simple(c, argc, argv, NULL, NULL, &rc))
        return rc;
    json_t *res = cli_admin(c, "groups.list", NULL);
    if (!res)
        return CLI_FAIL;
    const json_t *groups = json_object_get(res, "groups");
    if (c->json) {
        cli_print_json(res);
    } else if (json_array_size(groups) == 0) {
        puts("no consumer groups");
    } else {
        static const char *const head[] = {"GROUP", "STATE", "PROTOCOL-TYPE", "MEMBERS"};
        cli_table t;
        size_t i;
        json_t *v;
        char n[24];
        cli_table_init(&t, 4, head);
        json_array_foreach(groups, i, v)
        {
            const char *row[] = {str_or_dash(v, "group"), str_or_dash(v, "state"),
                                 str_or_dash(v, "protocol_type"),
                                 int_or_dash(v, "members", n, sizeof(n))};
            cli_table_row(&t, row);
        }
        cli_table_print(&t, stdout);
        cli_table_free(&t);
    }
    json_decref(res);
    return CLI_OK;
}

static const json_t *find_member(const json_t *members, const char *member_id)
{
    size_t i;
    json_t *m;
    json_array_foreach(members, i, m)
    {
        const char *id = json_string_value(json_object_get(m, "member_id"));
        if (id && member_id && strcmp(id, member_id) == 0)
            return m;
    }
    return NULL;
}

static void print_describe(const json_t *d, const char *unused)
{
    const json_t *members = json_object_get(d, "members");
    const json_t *offsets = json_object_get(d, "offsets");
    static const char *const head[] = {"TOPIC", "PARTITION",   "CURRENT-OFFSET", "LOG-END-OFFSET",
                                       "LAG",   "CONSUMER-ID", "HOST",           "CLIENT-ID"};
    cli_table t;
    size_t i;
    json_t *v;
    char part[16], cur[24], end[24], lag[24];

    cli_table_init(&t, 8, head);
    json_array_foreach(offsets, i, v)
    {
        const char *owner = json_string_value(json_object_get(v, "member_id"));
        const json_t *m = find_member(members, owner);
        const char *row[] = {str_or_dash(v, "topic"),
                             int_or_dash(v, "partition", part, sizeof(part)),
                             int_or_dash(v, "committed", cur, sizeof(cur)),
                             int_or_dash(v, "log_end", end, sizeof(end)),
                             int_or_dash(v, "lag", lag, sizeof(lag)),
                             owner ? owner : "-",
                             m ? str_or_dash(m, "client_host") : "-",
                             m ? str_or_dash(m, "client_id") : "-"};
        cli_table_row(&t, row);
    }
    /* Members that own nothing still show, as kafka-consumer-groups.sh does. */
    json_array_foreach(members, i, v)
    {
        const json_t *a = json_object_get(v, "assignment");
        size_t k;
        json_t *e;
        size_t nparts = 0;
        json_array_foreach(a, k, e) nparts += json_array_size(json_object_get(e, "partitions"));
        if (nparts > 0)
            continue;
        const char *row[] = {"-",
                             "-",
                             "-",
                             "-",
                             "-",
                             str_or_dash(v, "member_id"),
                             str_or_dash(v, "client_host"),
                             str_or_dash(v, "client_id")};
        cli_table_row(&t, row);
    }
    if (t.nrows > 1)
        cli_table_print(&t, stdout);
    else
        puts("no committed offsets and no members with partitions");
    cli_table_free(&t);

    size_t nmembers = json_array_size(members);
    const char *group = str_or_dash(d, "group");
    printf("\nGroup \"%s\": %s, %zu member%s", group, str_or_dash(d, "state"), nmembers,
           nmembers == 1 ? "" : "s");
    const char *protocol = json_string_value(json_object_get(d, "protocol"));
    if (protocol && *protocol)
        printf(" (assignor %s, generation %" JSON_INTEGER_FORMAT ")", protocol,
               json_integer_value(json_object_get(d, "generation")));
    putchar('\n');
    json_array_foreach(members, i, v)
    {
        const char *why = json_string_value(json_object_get(v, "assignment_error"));
        if (why)
            printf("member %s: cannot read its assignment: %s\n", str_or_dash(v, "member_id"), why);
    }
}

static int groups_describe(cli_ctx *c, int argc, char **argv)
{
    const char *group = NULL;
    c->prog = "strait groups describe";
    c->usage = usage_describe;
    int rc;
    if (cli_parse_simple(c, argc, argv, "GROUP", &group, &rc))
        return rc;
    return cli_run(c, "groups.describe", json_pack("{s:s}", "group", group), print_describe, NULL);
}

static void print_deleted(const json_t *res, const char *group)
{
    printf("deleted group \"%s\"\n", group);
}

static int groups_delete(cli_ctx *c, int argc, char **argv)
{
    const char *group = NULL;
    c->prog = "strait groups delete";
    c->usage = usage_delete;
    int rc;
    if (cli_parse_simple(c, argc, argv, "GROUP", &group, &rc))
        return rc;
    return cli_run(c, "groups.delete", json_pack("{s:s}", "group", group), print_deleted, group);
}

/* --topic T or T:P,P... into args' "topic" and "partitions". */
static int topic_arg(cli_ctx *c, const char *text, json_t *args)
{
    const char *colon = strchr(text, ':');
    size_t tlen = colon ? (size_t)(colon - text) : strlen(text);
    if (tlen == 0)
        return cli_usage_error(c, "--topic \"%s\": the topic name is empty", text);
    json_object_set_new(args, "topic", json_stringn(text, tlen));
    if (!colon)
        return CLI_OK;
    json_t *parts = json_array();
    json_object_set_new(args, "partitions", parts);
    const char *p = colon + 1;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char num[24];
        int64_t v;
        if (len == 0 || len >= sizeof(num))
            return cli_usage_error(c,
                                   "--topic \"%s\": expected TOPIC:P,P,... with partition "
                                   "numbers, e.g. orders:0,2",
                                   text);
        memcpy(num, p, len);
        num[len] = '\0';
        if (cli_parse_int(c, "--topic partition", num, 0, INT32_MAX, &v) != 0)
            return CLI_USAGE;
        json_array_append_new(parts, json_integer(v));
        if (!comma)
            return CLI_OK;
        p = comma + 1;
    }
}

static void print_reset(const char *group, const json_t *res)
{
    const json_t *offsets = json_object_get(res, "offsets");
    static const char *const head[] = {"TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"};
    cli_table t;
    size_t i;
    json_t *v;
    char part[16], cur[24], nw[24];

    cli_table_init(&t, 4, head);
    json_array_foreach(offsets, i, v)
    {
        const char *row[] = {
            str_or_dash(v, "topic"), int_or_dash(v, "partition", part, sizeof(part)),
            int_or_dash(v, "current", cur, sizeof(cur)), int_or_dash(v, "new", nw, sizeof(nw))};
        cli_table_row(&t, row);
    }
    cli_table_print(&t, stdout);
    cli_table_free(&t);
    size_t n = json_array_size(offsets);
    json_int_t active = json_integer_value(json_object_get(res, "active_members"));
    if (json_is_true(json_object_get(res, "applied"))) {
        printf("\nreset %zu offset%s of group \"%s\"\n", n, n == 1 ? "" : "s", group);
        return;
    }
    if (n == 1)
        printf("\ndry run: nothing changed; add --execute to write this offset\n");
    else
        printf("\ndry run: nothing changed; add --execute to write these %zu offsets\n", n);
    if (active > 0)
        printf("note: group \"%s\" is active (%" JSON_INTEGER_FORMAT
               " member%s): --execute is refused until its consumers stop\n",
               group, active, active == 1 ? "" : "s");
}

static int groups_reset_offsets(cli_ctx *c, int argc, char **argv)
{
    enum {
        OPT_TOPIC = 1,
        OPT_ALL,
        OPT_EARLIEST,
        OPT_LATEST,
        OPT_OFFSET,
        OPT_DATETIME,
        OPT_SHIFT,
        OPT_DRY_RUN,
        OPT_EXECUTE,
    };
    static const struct option longopts[] = {
        {"topic", required_argument, NULL, OPT_TOPIC},
        {"all-topics", no_argument, NULL, OPT_ALL},
        {"to-earliest", no_argument, NULL, OPT_EARLIEST},
        {"to-latest", no_argument, NULL, OPT_LATEST},
        {"to-offset", required_argument, NULL, OPT_OFFSET},
        {"to-datetime", required_argument, NULL, OPT_DATETIME},
        {"shift-by", required_argument, NULL, OPT_SHIFT},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"execute", no_argument, NULL, OPT_EXECUTE},
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    const char *method = NULL, *scope = NULL;
    bool dry_run = false, execute = false;
    int rc = CLI_USAGE, opt;
    int64_t n;
    json_t *args = json_object();

    c->prog = "strait groups reset-offsets";
    c->usage = usage_reset;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "", longopts)) != CLI_GETOPT_END) {
        const char *name = NULL;
        if (opt == CLI_GETOPT_HELP) {
            rc = CLI_OK;
            goto out;
        }
        if (opt == CLI_GETOPT_ERROR)
            goto out;
        if (opt == OPT_TOPIC || opt == OPT_ALL) {
            name = opt == OPT_TOPIC ? "--topic" : "--all-topics";
            if (scope) {
                rc = cli_usage_error(c, "give one of --topic or --all-topics, once (got %s and %s)",
                                     scope, name);
                goto out;
            }
            scope = name;
            if (opt == OPT_ALL)
                json_object_set_new(args, "topic", json_string("all"));
            else if (topic_arg(c, optarg, args) != CLI_OK)
                goto out;
            continue;
        }
        if (opt == OPT_DRY_RUN || opt == OPT_EXECUTE) {
            *(opt == OPT_DRY_RUN ? &dry_run : &execute) = true;
            continue;
        }
        switch (opt) {
        case OPT_EARLIEST:
            name = "--to-earliest";
            json_object_set_new(args, "to_earliest", json_true());
            break;
        case OPT_LATEST:
            name = "--to-latest";
            json_object_set_new(args, "to_latest", json_true());
            break;
        case OPT_OFFSET:
            name = "--to-offset";
            if (cli_parse_int(c, name, optarg, 0, INT64_MAX, &n) != 0)
                goto out;
            json_object_set_new(args, "to_offset", json_integer(n));
            break;
        case OPT_DATETIME:
            name = "--to-datetime";
            /* All digits: epoch milliseconds; anything else goes to the broker as
             * ISO 8601, which says precisely what is wrong with it. */
            if (optarg[strspn(optarg, "0123456789")] == '\0' && *optarg) {
                if (cli_parse_int(c, name, optarg, 0, INT64_MAX, &n) != 0)
                    goto out;
                json_object_set_new(args, "to_datetime", json_integer(n));
            } else {
                json_object_set_new(args, "to_datetime", json_string(optarg));
            }
            break;
        case OPT_SHIFT:
            name = "--shift-by";
            if (cli_parse_int(c, name, optarg, INT64_MIN + 1, INT64_MAX, &n) != 0)
                goto out;
            json_object_set_new(args, "shift_by", json_integer(n));
            break;
        }
        if (method) {
            rc = cli_usage_error(c,
                                 "give only one of --to-earliest, --to-latest, --to-offset, "
                                 "--to-datetime, --shift-by (got %s and %s)",
                                 method, name);
            goto out;
        }
        method = name;
    }
    if (optind >= argc) {
        rc = cli_usage_error(c, "missing the GROUP");
        goto out;
    }
    if (optind + 1 < argc) {
        rc = cli_usage_error(c, "unexpected argument \"%s\" (one group at a time)",
                             argv[optind + 1]);
        goto out;
    }
    if (!scope) {
        rc = cli_usage_error(c, "say which partitions: --topic T[:P,P...] or --all-topics");
        goto out;
    }
    if (!method) {
        rc = cli_usage_error(c, "say where to: --to-earliest, --to-latest, --to-offset N, "
                                "--to-datetime T or --shift-by N");
        goto out;
    }
    if (dry_run && execute) {
        rc = cli_usage_error(c, "--dry-run and --execute contradict each other: give one");
        goto out;
    }
    const char *group = argv[optind];
    json_object_set_new(args, "group", json_string(group));
    json_object_set_new(args, "dry_run", json_boolean(!execute));
    json_t *res = cli_admin(c, "groups.reset-offsets", args);
    args = NULL;
    rc = res ? CLI_OK : CLI_FAIL;
    if (res && c->json)
        cli_print_json(res);
    else if (res)
        print_reset(group, res);
    json_decref(res);
out:
    json_decref(args);
    return rc;
}

static const cli_subcommand subcommands[] = {
    {"list", groups_list},
    {"describe", groups_describe},
    {"delete", groups_delete},
    {"reset-offsets", groups_reset_offsets},
};

int cli_groups_main(cli_ctx *c, int argc, char **argv)
{
    c->prog = "strait groups";
    c->usage = usage_groups;
    /* Global options may come between "groups" and the subcommand. */
    return cli_dispatch(c, argc, argv, subcommands, sizeof subcommands / sizeof subcommands[0],
                        "list, describe, delete or reset-offsets");
}
