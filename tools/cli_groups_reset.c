/*
 * strait groups reset-offsets: moves a consumer group's committed offsets, as
 * kafka-consumer-groups.sh --reset-offsets does, over the Kafka admin API.
 *
 * The plan is computed here: the group's committed offsets (ListConsumerGroupOffsets),
 * each partition's log start and end (ListOffsets), and for times the first offset at
 * or after them (offsetsForTimes). A target outside the log is moved to its nearest end
 * and said so on stderr. --execute writes the plan (AlterConsumerGroupOffsets) only when
 * the group has no active member: checked once, up front, and refused with one message.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "tools/cli.h"
#include "tools/cli_groups.h"

static void usage_reset(FILE *out)
{
    fputs("Usage: strait groups reset-offsets GROUP\n"
          "           (--topic T[:P,P...]... | --all-topics | --from-file F)\n"
          "           (--to-earliest | --to-latest | --to-current | --to-offset N |\n"
          "            --to-datetime T | --by-duration D | --shift-by N)\n"
          "           [--dry-run | --execute] [--export] [options]\n"
          "\n"
          "Moves GROUP's committed offsets. Without --execute this is a dry run: it\n"
          "prints the plan (current and new offset per partition) and changes nothing.\n"
          "With --execute the new offsets are written; refused while the group has\n"
          "active members, so stop its consumers first.\n"
          "\n"
          "Which partitions (one kind):\n"
          "  --topic T           every partition of topic T; repeat for several topics\n"
          "  --topic T:P,P...    only partitions P of topic T, e.g. orders:0,2\n"
          "  --all-topics        every partition the group has committed offsets for\n"
          "  --from-file F       the partitions and new offsets in F, one\n"
          "                      TOPIC,PARTITION,OFFSET line each (what --export prints);\n"
          "                      no --to-... option then\n"
          "\n"
          "Where to (one of). A target before the log start or past the log end is\n"
          "moved to that end, with a note on stderr:\n"
          "  --to-earliest       the log start offset\n"
          "  --to-latest         the log end offset (skip everything there now)\n"
          "  --to-current        the committed offset (e.g. to pin it for --export);\n"
          "                      needs one\n"
          "  --to-offset N       offset N\n"
          "  --to-datetime T     the first record at or after T: ISO 8601 such as\n"
          "                      2026-11-21T10:00:00Z or 2026-11-21T10:00:00.000+01:00\n"
          "                      (no zone means UTC), or epoch milliseconds; the log end\n"
          "                      if no record is that late\n"
          "  --by-duration D     the first record at or after now minus D: 30m, 1h30m,\n"
          "                      2d, or Kafka's PT30M / P1DT2H\n"
          "  --shift-by N        the committed offset plus N (N may be negative); needs\n"
          "                      a committed offset\n"
          "\n"
          "  --dry-run           print the plan only (the default)\n"
          "  --execute           write the new offsets\n"
          "  --export            print the plan as TOPIC,PARTITION,OFFSET lines (for\n"
          "                      --from-file) instead of a table\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExamples:\n"
          "  strait groups reset-offsets audit --topic events --to-earliest\n"
          "  strait groups reset-offsets audit --topic events:0,1 --shift-by -100 --execute\n"
          "  strait groups reset-offsets audit --all-topics --by-duration 1h --execute\n"
          "  strait groups reset-offsets audit --all-topics --to-current --export > saved.csv\n"
          "  strait groups reset-offsets audit --from-file saved.csv --execute\n",
          out);
}

enum method { M_NONE, M_EARLIEST, M_LATEST, M_CURRENT, M_OFFSET, M_TIME, M_SHIFT, M_FILE };

typedef struct reset_opts {
    enum method method;
    const char *method_opt; /* the option that chose it, for messages */
    int64_t value;          /* offset, time (ms) or shift */
    const char *file;
    bool all_topics, execute, dry_run, export;
    cli_list topics;
} reset_opts;

/* One line of the plan. */
typedef struct plan_row {
    char *topic;
    int32_t partition;
    int64_t current; /* -1: none committed */
    int64_t target;  /* before clamping */
    int64_t next;    /* the offset to write */
} plan_row;

typedef struct plan {
    plan_row *rows;
    size_t n, cap;
} plan;

static void plan_add(plan *p, const char *topic, int32_t partition, int64_t target)
{
    for (size_t i = 0; i < p->n; i++) /* named twice: the later target wins */
        if (p->rows[i].partition == partition && strcmp(p->rows[i].topic, topic) == 0) {
            p->rows[i].target = target;
            return;
        }
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 16;
        p->rows = realloc(p->rows, p->cap * sizeof *p->rows);
        if (!p->rows)
            abort(); /* a CLI that cannot allocate this has nothing sensible left to do */
    }
    p->rows[p->n++] = (plan_row){strdup(topic), partition, -1, target, -1};
}

static void plan_free(plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->rows[i].topic);
    free(p->rows);
}

static int set_method(cli_ctx *c, reset_opts *o, enum method m, const char *opt)
{
    if (o->method != M_NONE)
        return cli_usage_error(c,
                               "give only one of --to-earliest, --to-latest, --to-current, "
                               "--to-offset, --to-datetime, --by-duration, --shift-by "
                               "(got %s and %s)",
                               o->method_opt, opt);
    o->method = m;
    o->method_opt = opt;
    return CLI_OK;
}

static int parse(cli_ctx *c, int argc, char **argv, reset_opts *o)
{
    enum {
        OPT_TOPIC = 1,
        OPT_ALL,
        OPT_FILE,
        OPT_EARLIEST,
        OPT_LATEST,
        OPT_CURRENT,
        OPT_OFFSET,
        OPT_DATETIME,
        OPT_DURATION,
        OPT_SHIFT,
        OPT_DRY_RUN,
        OPT_EXECUTE,
        OPT_EXPORT,
    };
    static const struct option longopts[] = {
        {"topic", required_argument, NULL, OPT_TOPIC},
        {"all-topics", no_argument, NULL, OPT_ALL},
        {"from-file", required_argument, NULL, OPT_FILE},
        {"to-earliest", no_argument, NULL, OPT_EARLIEST},
        {"to-latest", no_argument, NULL, OPT_LATEST},
        {"to-current", no_argument, NULL, OPT_CURRENT},
        {"to-offset", required_argument, NULL, OPT_OFFSET},
        {"to-datetime", required_argument, NULL, OPT_DATETIME},
        {"by-duration", required_argument, NULL, OPT_DURATION},
        {"shift-by", required_argument, NULL, OPT_SHIFT},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"execute", no_argument, NULL, OPT_EXECUTE},
        {"export", no_argument, NULL, OPT_EXPORT},
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    static const int lists[] = {OPT_TOPIC, 0};
    int opt;
    c->lists = lists;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "", longopts)) != CLI_GETOPT_END) {
        int64_t ms;
        switch (opt) {
        case CLI_GETOPT_HELP:
            return CLI_GETOPT_HELP;
        case OPT_TOPIC:
            cli_list_add(&o->topics, optarg);
            break;
        case OPT_ALL:
            o->all_topics = true;
            break;
        case OPT_FILE:
            o->file = optarg;
            break;
        case OPT_EARLIEST:
            if (set_method(c, o, M_EARLIEST, "--to-earliest"))
                return CLI_USAGE;
            break;
        case OPT_LATEST:
            if (set_method(c, o, M_LATEST, "--to-latest"))
                return CLI_USAGE;
            break;
        case OPT_CURRENT:
            if (set_method(c, o, M_CURRENT, "--to-current"))
                return CLI_USAGE;
            break;
        case OPT_OFFSET:
            if (set_method(c, o, M_OFFSET, "--to-offset") ||
                cli_parse_int(c, "--to-offset", optarg, 0, INT64_MAX, &o->value))
                return CLI_USAGE;
            break;
        case OPT_DATETIME:
            if (set_method(c, o, M_TIME, "--to-datetime"))
                return CLI_USAGE;
            if (cli_parse_time(optarg, st_wall_ms(), &o->value) != 0)
                return cli_usage_error(c,
                                       "--to-datetime \"%s\": expected ISO 8601 such as "
                                       "2026-11-21T10:00:00Z, or epoch milliseconds",
                                       optarg);
            break;
        case OPT_DURATION:
            if (set_method(c, o, M_TIME, "--by-duration"))
                return CLI_USAGE;
            if (cli_parse_duration(optarg, &ms) != 0)
                return cli_usage_error(c,
                                       "--by-duration \"%s\": expected a duration such as 30m, "
                                       "1h30m, 2d or PT30M",
                                       optarg);
            o->value = st_wall_ms() - ms;
            break;
        case OPT_SHIFT:
            if (set_method(c, o, M_SHIFT, "--shift-by") ||
                cli_parse_int(c, "--shift-by", optarg, INT64_MIN + 1, INT64_MAX, &o->value))
                return CLI_USAGE;
            break;
        case OPT_DRY_RUN:
            o->dry_run = true;
            break;
        case OPT_EXECUTE:
            o->execute = true;
            break;
        case OPT_EXPORT:
            o->export = true;
            break;
        default:
            return CLI_USAGE;
        }
    }
    if (optind >= argc)
        return cli_usage_error(c, "missing the GROUP");
    if (optind + 1 < argc)
        return cli_usage_error(c, "unexpected argument \"%s\" (one group at a time)",
                               argv[optind + 1]);
    int kinds = (o->topics.n > 0) + o->all_topics + (o->file != NULL);
    if (kinds == 0)
        return cli_usage_error(c, "say which partitions: --topic T[:P,P...], --all-topics or "
                                  "--from-file F");
    if (kinds > 1)
        return cli_usage_error(c, "give one of --topic, --all-topics and --from-file");
    if (o->file && o->method != M_NONE)
        return cli_usage_error(c, "--from-file gives the new offsets itself: drop %s",
                               o->method_opt);
    if (o->file)
        o->method = M_FILE;
    if (o->method == M_NONE)
        return cli_usage_error(c, "say where to: --to-earliest, --to-latest, --to-current, "
                                  "--to-offset N, --to-datetime T, --by-duration D or "
                                  "--shift-by N");
    if (o->dry_run && o->execute)
        return cli_usage_error(c, "--dry-run and --execute contradict each other: give one");
    if (o->export && c->json)
        return cli_usage_error(c, "--export prints CSV: it cannot be combined with --json");
    return CLI_OK;
}

/* Reads TOPIC,PARTITION,OFFSET lines into the plan. */
static int read_file(cli_ctx *c, const char *path, plan *p)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return cli_fail("cannot read --from-file %s: %s", path, strerror(errno));
    char line[1024];
    int n = 0, rc = CLI_OK;
    while (rc == CLI_OK && fgets(line, sizeof line, f)) {
        n++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL, *end1, *end2;
        if (!c2) {
            rc = cli_fail("%s:%d: expected TOPIC,PARTITION,OFFSET", path, n);
            break;
        }
        *c1 = *c2 = '\0';
        errno = 0;
        long partition = strtol(c1 + 1, &end1, 10);
        long long offset = strtoll(c2 + 1, &end2, 10);
        if (!line[0] || *end1 || *end2 || end1 == c1 + 1 || end2 == c2 + 1 || partition < 0 ||
            partition > INT32_MAX || offset < 0 || errno)
            rc = cli_fail("%s:%d: expected TOPIC,PARTITION,OFFSET with a partition and an offset "
                          "that are whole numbers >= 0",
                          path, n);
        else
            plan_add(p, line, (int32_t)partition, offset);
    }
    fclose(f);
    if (rc == CLI_OK && p->n == 0)
        rc = cli_fail("--from-file %s names no partition", path);
    return rc;
}

/* Adds the partitions of --topic T[:P,...] (the target is filled in later). */
static int add_topics(cli_ctx *c, cli_kadmin *a, const reset_opts *o, plan *p)
{
    for (size_t i = 0; i < o->topics.n; i++) {
        char *topic;
        int32_t *parts;
        size_t np;
        if (cli_topic_partitions_arg(c, o->topics.v[i], &topic, &parts, &np) != CLI_OK)
            return CLI_USAGE;
        const struct rd_kafka_metadata *md = cli_kadmin_metadata(a, topic);
        int rc = CLI_OK;
        if (!md) {
            rc = CLI_FAIL;
        } else if (md->topic_cnt != 1 || md->topics[0].err) {
            rc = cli_kadmin_topic_error(
                topic, md->topic_cnt ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
        } else {
            int count = md->topics[0].partition_cnt;
            for (size_t k = 0; k < np && rc == CLI_OK; k++)
                if (parts[k] >= count)
                    rc = cli_fail("topic \"%s\" has %d partition%s: there is no partition %d",
                                  topic, count, count == 1 ? "" : "s", (int)parts[k]);
            for (int k = 0; rc == CLI_OK && !parts && k < count; k++)
                plan_add(p, topic, md->topics[0].partitions[k].id, -1);
            for (size_t k = 0; rc == CLI_OK && k < np; k++)
                plan_add(p, topic, parts[k], -1);
        }
        if (md)
            rd_kafka_metadata_destroy(md);
        free(parts);
        free(topic);
        if (rc != CLI_OK)
            return rc;
    }
    return CLI_OK;
}

/* Fills in current, target and next for every row; notes clamped targets on stderr. */
static int compute(cli_kadmin *a, const reset_opts *o,
                   const rd_kafka_topic_partition_list_t *committed, plan *p)
{
    rd_kafka_topic_partition_list_t *times = NULL;
    if (o->method == M_TIME) {
        times = rd_kafka_topic_partition_list_new((int)p->n);
        for (size_t i = 0; i < p->n; i++)
            rd_kafka_topic_partition_list_add(times, p->rows[i].topic, p->rows[i].partition)
                ->offset = o->value;
        rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(a->rk, times, CLI_KADMIN_TIMEOUT_MS);
        if (e) {
            rd_kafka_topic_partition_list_destroy(times);
            return cli_fail("cannot look up offsets by time: %s", rd_kafka_err2str(e));
        }
    }
    int rc = CLI_OK;
    for (size_t i = 0; i < p->n && rc == CLI_OK; i++) {
        plan_row *r = &p->rows[i];
        const rd_kafka_topic_partition_t *cp =
            rd_kafka_topic_partition_list_find(committed, r->topic, r->partition);
        r->current = cp && cp->offset >= 0 ? cp->offset : -1;
        int64_t low, high;
        if (cli_kadmin_watermarks(a, r->topic, r->partition, &low, &high) != CLI_OK) {
            rc = CLI_FAIL;
            break;
        }
        switch (o->method) {
        case M_EARLIEST:
            r->target = low;
            break;
        case M_LATEST:
            r->target = high;
            break;
        case M_OFFSET:
            r->target = o->value;
            break;
        case M_CURRENT:
        case M_SHIFT:
            if (r->current < 0) {
                rc = cli_fail("%s [%d]: the group has no committed offset there, so %s has "
                              "nothing to start from (use --to-earliest, --to-latest or "
                              "--to-offset)",
                              r->topic, (int)r->partition, o->method_opt);
                break;
            }
            r->target = o->method == M_CURRENT ? r->current : r->current + o->value;
            break;
        case M_TIME: {
            const rd_kafka_topic_partition_t *t =
                rd_kafka_topic_partition_list_find(times, r->topic, r->partition);
            if (t && t->err) {
                rc = cli_fail("%s [%d]: cannot look up the offset for that time: %s", r->topic,
                              (int)r->partition, rd_kafka_err2str(t->err));
                break;
            }
            r->target = t && t->offset >= 0 ? t->offset : high; /* none that late: the end */
            break;
        }
        default: /* M_FILE: given */
            break;
        }
        r->next = r->target < low ? low : r->target > high ? high : r->target;
        if (rc == CLI_OK && r->next != r->target)
            fprintf(stderr,
                    "note: %s [%d]: offset %" PRId64 " is %s %" PRId64 ": using %" PRId64 "\n",
                    r->topic, (int)r->partition, r->target,
                    r->target < low ? "before the log start" : "past the log end",
                    r->target < low ? low : high, r->next);
    }
    if (times)
        rd_kafka_topic_partition_list_destroy(times);
    return rc;
}

static void print_plan(cli_ctx *c, const reset_opts *o, const char *group, const plan *p,
                       bool applied, size_t active)
{
    if (o->export) {
        for (size_t i = 0; i < p->n; i++)
            printf("%s,%d,%" PRId64 "\n", p->rows[i].topic, (int)p->rows[i].partition,
                   p->rows[i].next);
        return;
    }
    if (c->json) {
        json_t *rows = json_array();
        for (size_t i = 0; i < p->n; i++) {
            const plan_row *r = &p->rows[i];
            json_array_append_new(
                rows, json_pack("{s:s,s:i,s:o,s:I,s:b}", "topic", r->topic, "partition",
                                (int)r->partition, "current",
                                r->current >= 0 ? json_integer(r->current) : json_null(), "new",
                                (json_int_t)r->next, "clamped", r->next != r->target));
        }
        json_t *res =
            json_pack("{s:s,s:b,s:b,s:I,s:o}", "group", group, "dry_run", !o->execute, "applied",
                      applied, "active_members", (json_int_t)active, "offsets", rows);
        cli_print_json(res);
        json_decref(res);
        return;
    }
    static const char *const head[] = {"TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"};
    cli_table t;
    cli_table_init(&t, 4, head);
    for (size_t i = 0; i < p->n; i++) {
        char part[16], cur[24], nw[24];
        snprintf(part, sizeof part, "%d", (int)p->rows[i].partition);
        snprintf(cur, sizeof cur, "%" PRId64, p->rows[i].current);
        snprintf(nw, sizeof nw, "%" PRId64, p->rows[i].next);
        const char *row[] = {p->rows[i].topic, part, p->rows[i].current >= 0 ? cur : "-", nw};
        cli_table_row(&t, row);
    }
    cli_table_print(&t, stdout);
    cli_table_free(&t);
    char *safe_group = cli_safe(group);
    if (applied) {
        printf("\nreset %zu offset%s of group \"%s\"\n", p->n, p->n == 1 ? "" : "s", safe_group);
        free(safe_group);
        return;
    }
    if (p->n == 1)
        printf("\ndry run: nothing changed; add --execute to write this offset\n");
    else
        printf("\ndry run: nothing changed; add --execute to write these %zu offsets\n", p->n);
    if (active > 0)
        printf("note: group \"%s\" is active (%zu member%s): --execute is refused until its "
               "consumers stop\n",
               safe_group, active, active == 1 ? "" : "s");
    free(safe_group);
}

/* Writes the plan; CLI_OK, or CLI_FAIL naming each partition refused. */
static int apply_plan(cli_kadmin *a, const char *group, const plan *p)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)p->n);
    for (size_t i = 0; i < p->n; i++)
        rd_kafka_topic_partition_list_add(l, p->rows[i].topic, p->rows[i].partition)->offset =
            p->rows[i].next;
    rd_kafka_AlterConsumerGroupOffsets_t *alter = rd_kafka_AlterConsumerGroupOffsets_new(group, l);
    rd_kafka_AdminOptions_t *o = cli_kadmin_options(a, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS);
    rd_kafka_AlterConsumerGroupOffsets(a->rk, &alter, 1, o, a->queue);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_AlterConsumerGroupOffsets_destroy(alter);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_event_t *ev = cli_kadmin_wait(a, RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT,
                                           "writing the new offsets");
    if (!ev)
        return CLI_FAIL;
    size_t n;
    const rd_kafka_group_result_t **res = rd_kafka_AlterConsumerGroupOffsets_result_groups(
        rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &n);
    int rc = CLI_OK;
    const rd_kafka_error_t *ge = n == 1 ? rd_kafka_group_result_error(res[0]) : NULL;
    if (ge)
        rc = cli_fail("group \"%s\": %s", group, rd_kafka_error_string(ge));
    const rd_kafka_topic_partition_list_t *r =
        n == 1 ? rd_kafka_group_result_partitions(res[0]) : NULL;
    for (int i = 0; r && i < r->cnt; i++)
        if (r->elems[i].err)
            rc = cli_fail("%s [%d]: not written: %s", r->elems[i].topic, (int)r->elems[i].partition,
                          rd_kafka_err2str(r->elems[i].err));
    rd_kafka_event_destroy(ev);
    return rc;
}

int cli_groups_reset_offsets(cli_ctx *c, int argc, char **argv)
{
    reset_opts o = {0};
    plan p = {0};
    cli_kadmin a = {0};
    cli_group_info info = {0};
    rd_kafka_topic_partition_list_t *committed = NULL;
    c->prog = "strait groups reset-offsets";
    c->usage = usage_reset;
    int rc = parse(c, argc, argv, &o);
    if (rc != CLI_OK) {
        rc = rc == CLI_GETOPT_HELP ? CLI_OK : rc;
        goto out;
    }
    const char *group = argv[optind];
    if ((rc = cli_kadmin_open(c, &a)) != CLI_OK)
        goto out;
    if ((rc = cli_group_describe(&a, group, &info)) != CLI_OK)
        goto out;
    /* Checked first, and said once: nothing else is worth computing for --execute. */
    if (o.execute && info.nmembers > 0) {
        fprintf(stderr,
                "strait: group \"%s\" is active (%zu member%s, e.g. %s on %s): stop its "
                "consumers, then run this again\n",
                group, info.nmembers, info.nmembers == 1 ? "" : "s", info.members[0].client_id,
                info.members[0].host);
        rc = CLI_FAIL;
        goto out;
    }
    if (!(committed = cli_group_committed(&a, group))) {
        rc = CLI_FAIL;
        goto out;
    }
    if (o.file)
        rc = read_file(c, o.file, &p);
    else if (o.all_topics)
        for (int i = 0; i < committed->cnt; i++)
            plan_add(&p, committed->elems[i].topic, committed->elems[i].partition, -1);
    else
        rc = add_topics(c, &a, &o, &p);
    if (rc != CLI_OK)
        goto out;
    if (p.n == 0) {
        rc = cli_fail("group \"%s\" has no committed offsets: --all-topics found nothing to "
                      "reset (name the partitions with --topic)",
                      group);
        goto out;
    }
    if ((rc = compute(&a, &o, committed, &p)) != CLI_OK)
        goto out;
    bool applied = false;
    if (o.execute) {
        if ((rc = apply_plan(&a, group, &p)) != CLI_OK)
            goto out;
        applied = true;
    }
    print_plan(c, &o, group, &p, applied, info.nmembers);
out:
    if (committed)
        rd_kafka_topic_partition_list_destroy(committed);
    cli_group_info_free(&info);
    plan_free(&p);
    cli_list_free(&o.topics);
    cli_kadmin_close(&a);
    return rc;
}
