/*
 * strait topics {create,list,describe,alter,delete} over the Kafka admin API
 * (CreateTopics, Metadata, DescribeConfigs/AlterConfigs, CreatePartitions,
 * DeleteTopics), so they manage any Kafka cluster. Validation that needs the broker
 * (names, config values, partition counts) is the broker's; here we only check the
 * command line's shape. Sizes on disk come from DescribeLogDirs (cli_logdirs.c).
 *
 * The one exception: --override-limits REASON (create, alter) goes past a straitd
 * tenant's topics or partitions limit, which Kafka's CreateTopics and CreatePartitions
 * cannot carry, so those commands go to straitd's management endpoint instead
 * (topics.create / topics.alter with override_limits; the broker logs the reason).
 */
#include <inttypes.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"
#include "tools/cli_groups.h" /* cli_regex_arg */

/* ---- usage texts ---- */

static void usage_topics(FILE *out)
{
    fputs("Usage: strait topics SUBCOMMAND [options]\n"
          "\n"
          "Subcommands:\n"
          "  create NAME...     create topics\n"
          "  list               list topics\n"
          "  describe NAME...   partitions (offsets, sizes) and configs of topics\n"
          "  alter NAME         change configs or grow the partition count\n"
          "  delete NAME...     delete topics and their data\n"
          "\n"
          "Run 'strait topics SUBCOMMAND --help' for its options.\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExample:\n  strait topics list\n", out);
}

static void usage_create(FILE *out)
{
    fputs("Usage: strait topics create NAME... [options]\n"
          "\n"
          "Creates each topic NAME (1-249 characters of a-z A-Z 0-9 . _ -) with the same\n"
          "options.\n"
          "\n"
          "Options:\n"
          "  -p, --partitions N           partition count [broker's num.partitions, 1]\n"
          "  -r, --replication-factor N   replicas per partition; 1 on a single broker\n"
          "                               [broker's default.replication.factor, 1]\n"
          "  -c, --config NAME=VALUE      a topic config override, e.g.\n"
          "                               retention.ms=86400000; repeat for several [none]\n"
          "      --override-limits REASON create them even past their tenant's topics or\n"
          "                               partitions limit (straitd only: sent to its\n"
          "                               management endpoint); REASON is logged by the\n"
          "                               broker and printed [refused past a limit]\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExample:\n"
          "  strait topics create orders --partitions 3 --config retention.ms=86400000 \\\n"
          "      --config cleanup.policy=delete\n",
          out);
}

static void usage_list(FILE *out)
{
    fputs("Usage: strait topics list [options]\n"
          "\n"
          "Lists every topic with its partition count.\n"
          "\n"
          "Options:\n"
          "  --regex RE     only topics whose whole name matches the extended regular\n"
          "                 expression RE [all]\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExamples:\n  strait topics list --json\n  strait topics list --regex 'orders\\..*'\n",
          out);
}

static void usage_describe(FILE *out)
{
    fputs("Usage: strait topics describe (NAME... | --regex RE) [options]\n"
          "\n"
          "Shows each partition (leader, replicas, in-sync replicas, start offset, end\n"
          "offset, size on disk) and every topic config, marking the ones overridden on\n"
          "the topic. SIZE is \"-\" where DescribeLogDirs cannot be asked (a secured\n"
          "listener).\n"
          "\n"
          "Options:\n"
          "  --regex RE     every topic whose whole name matches RE\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExamples:\n  strait topics describe orders payments\n"
          "  strait topics describe --regex 'orders.*'\n",
          out);
}

static void usage_alter(FILE *out)
{
    fputs("Usage: strait topics alter NAME [options]\n"
          "\n"
          "Changes only what is named: other overrides stay as they are. Every change is\n"
          "checked before any is applied.\n"
          "\n"
          "Options:\n"
          "  -c, --config NAME=VALUE    set an override; repeat for several [none]\n"
          "  -d, --delete-config NAME   remove an override (back to the broker default);\n"
          "                             repeat for several [none]\n"
          "  -p, --partitions N         grow the topic to N partitions in total (never\n"
          "                             shrinks) [unchanged]\n"
          "      --override-limits REASON\n"
          "                             grow it even past its tenant's partitions limit\n"
          "                             (straitd only: sent to its management endpoint);\n"
          "                             REASON is logged by the broker and printed\n"
          "                             [refused past the limit]\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExample:\n"
          "  strait topics alter orders --config retention.ms=3600000 \\\n"
          "      --delete-config segment.ms --partitions 6\n",
          out);
}

static void usage_delete(FILE *out)
{
    fputs("Usage: strait topics delete (NAME... | --regex RE) [options]\n"
          "\n"
          "Deletes each topic and all its data. There is no undo.\n"
          "\n"
          "Options:\n"
          "  --regex RE     every topic whose whole name matches RE (internal topics,\n"
          "                 whose names start with __, are never matched)\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExamples:\n  strait topics delete orders\n  strait topics delete --regex 'tmp-.*'\n",
          out);
}

/* ---- helpers ---- */

static bool internal_topic(const char *name)
{
    return strncmp(name, "__", 2) == 0; /* Kafka's internal topics all start with __ */
}

static bool whole_match(const regex_t *re, const char *s)
{
    regmatch_t m;
    return regexec(re, s, 1, &m, 0) == 0 && m.rm_so == 0 && s[m.rm_eo] == '\0';
}

/* NAME... or --regex RE (matched against the metadata) into *names (new strings).
 * CLI_OK, CLI_USAGE or CLI_FAIL (reported). */
static int named_topics(cli_ctx *c, cli_kadmin *a, int argc, char **argv, const char *regex,
                        bool skip_internal, cli_list *names)
{
    if (regex && optind < argc)
        return cli_usage_error(c, "give topic NAMEs or --regex, not both");
    if (!regex && optind >= argc)
        return cli_usage_error(c, "missing the topic NAME (or --regex RE)");
    if (!regex) {
        for (int i = optind; i < argc; i++)
            cli_list_add(names, argv[i]);
        return CLI_OK;
    }
    regex_t re;
    if (cli_regex_arg(c, regex, &re) != CLI_OK)
        return CLI_USAGE;
    const struct rd_kafka_metadata *md = cli_kadmin_metadata(a, NULL);
    int rc = md ? CLI_OK : CLI_FAIL;
    for (int i = 0; md && i < md->topic_cnt; i++)
        if (!(skip_internal && internal_topic(md->topics[i].topic)) &&
            whole_match(&re, md->topics[i].topic))
            cli_list_add(names, md->topics[i].topic);
    if (md)
        rd_kafka_metadata_destroy(md);
    regfree(&re);
    if (rc == CLI_OK && names->n == 0)
        rc = cli_fail("no topic matches --regex \"%s\"", regex);
    return rc;
}

static int check_configs(cli_ctx *c, const cli_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strchr(l->v[i], '=') || l->v[i][0] == '=')
            return cli_usage_error(c,
                                   "--config \"%s\": expected NAME=VALUE, e.g. "
                                   "--config retention.ms=86400000",
                                   l->v[i]);
    return CLI_OK;
}

/* --override-limits REASON: the broker logs the reason, so it must be one line of 1 to
 * 200 printable characters (the broker checks the same). CLI_OK or CLI_USAGE (reported). */
static int check_reason(const cli_ctx *c, const char *reason)
{
    size_t len = strlen(reason);
    bool printable = len > 0 && len <= 200;
    for (size_t i = 0; printable && i < len; i++)
        printable = (unsigned char)reason[i] >= 0x20 && reason[i] != 0x7f;
    if (!printable)
        return cli_usage_error(c, "--override-limits: give the reason for going past the "
                                  "tenant's limits, one line of 1 to 200 printable characters");
    return CLI_OK;
}

/* The broker's note that a tenant limit was overridden, if any (management path). */
static void print_override(const json_t *res)
{
    const json_t *o = json_object_get(res, "limit_overridden");
    if (o)
        printf("note: over a tenant limit, overridden (reason: %s): %s\n",
               json_string_value(json_object_get(o, "reason")),
               json_string_value(json_object_get(o, "limit")));
}

/* What to do about a refusal: a tenant limit (POLICY_VIOLATION) can be passed on
 * straitd with --override-limits. */
static const char *refusal_hint(rd_kafka_resp_err_t e)
{
    return e == RD_KAFKA_RESP_ERR_POLICY_VIOLATION
               ? "; to go past a straitd tenant limit for this command, give the reason with "
                 "--override-limits REASON"
               : "";
}

/* {"k":"v",...} from NAME=VALUE arguments (checked by check_configs). */
static json_t *configs_object(const cli_list *l)
{
    json_t *obj = json_object();
    for (size_t i = 0; i < l->n; i++) {
        char *name;
        const char *value;
        cli_split_kv(l->v[i], &name, &value);
        json_object_set_new(obj, name, json_string(value));
        free(name);
    }
    return obj;
}

/* topics create --override-limits: one topics.create per name over the management
 * endpoint, answered as the Kafka path answers. */
static int create_via_mgmt(cli_ctx *c, char **names, size_t n, int64_t partitions,
                           int64_t replication, const cli_list *configs, const char *override)
{
    int rc = CLI_OK;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *args = json_pack("{s:s,s:s}", "name", names[i], "override_limits", override);
        if (partitions > 0)
            json_object_set_new(args, "partitions", json_integer(partitions));
        if (replication > 0)
            json_object_set_new(args, "replication_factor", json_integer(replication));
        if (configs->n)
            json_object_set_new(args, "configs", configs_object(configs));
        json_t *res = cli_admin(c, "topics.create", args); /* takes args; reports errors */
        size_t count = res ? json_array_size(json_object_get(res, "partitions")) : 0;
        if (!res)
            rc = CLI_FAIL;
        else if (!c->json) {
            printf("created topic \"%s\" with %zu partition%s\n", names[i], count,
                   count == 1 ? "" : "s");
            print_override(res);
        }
        json_t *o = res ? json_object_get(res, "limit_overridden") : NULL;
        json_array_append_new(arr, json_pack("{s:s,s:b,s:o,s:O}", "name", names[i], "created",
                                             res != NULL, "partitions",
                                             res ? json_integer((json_int_t)count) : json_null(),
                                             "limit_overridden", o ? o : json_null()));
        json_decref(res);
    }
    if (c->json)
        cli_print_json(arr);
    json_decref(arr);
    return rc;
}

/* ---- subcommands ---- */

static int topics_create(cli_ctx *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"partitions", required_argument, NULL, 'p'},
        {"replication-factor", required_argument, NULL, 'r'},
        {"config", required_argument, NULL, 'c'},
        {"override-limits", required_argument, NULL, 'O'},
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    static const int lists[] = {'c', 0};
    cli_list configs = {0};
    const char *override = NULL;
    int64_t partitions = -1, replication = -1;
    int rc = CLI_USAGE, opt;
    cli_kadmin a = {0};

    c->prog = "strait topics create";
    c->usage = usage_create;
    c->lists = lists;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "p:r:c:", longopts)) != CLI_GETOPT_END) {
        if (opt == CLI_GETOPT_HELP) {
            rc = CLI_OK;
            goto out;
        }
        if (opt == CLI_GETOPT_ERROR)
            goto out;
        if (opt == 'p' && cli_parse_int(c, "--partitions", optarg, 1, INT32_MAX, &partitions))
            goto out;
        if (opt == 'r' &&
            cli_parse_int(c, "--replication-factor", optarg, 1, INT16_MAX, &replication))
            goto out;
        if (opt == 'c')
            cli_list_add(&configs, optarg);
        if (opt == 'O' && check_reason(c, override = optarg) != CLI_OK)
            goto out;
    }
    if (optind >= argc) {
        cli_usage_error(c, "missing the topic NAME");
        goto out;
    }
    if (check_configs(c, &configs) != CLI_OK)
        goto out;
    if (override) {
        rc = create_via_mgmt(c, argv + optind, (size_t)(argc - optind), partitions, replication,
                             &configs, override);
        goto out;
    }
    rc = CLI_FAIL;
    if (cli_kadmin_open(c, &a) != CLI_OK)
        goto out;
    size_t n = (size_t)(argc - optind);
    rd_kafka_NewTopic_t **nt = calloc(n, sizeof *nt);
    char err[512];
    for (size_t i = 0; i < n; i++) {
        nt[i] = rd_kafka_NewTopic_new(argv[optind + (int)i], (int)partitions, (int)replication, err,
                                      sizeof err);
        if (!nt[i]) {
            cli_fail("topic \"%s\": %s", argv[optind + (int)i], err);
            rd_kafka_NewTopic_destroy_array(nt, i);
            free(nt);
            goto out;
        }
        for (size_t k = 0; k < configs.n; k++) {
            char *name;
            const char *value;
            cli_split_kv(configs.v[k], &name, &value);
            rd_kafka_NewTopic_set_config(nt[i], name, value);
            free(name);
        }
    }
    rd_kafka_AdminOptions_t *o = cli_kadmin_options(&a, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_CreateTopics(a.rk, nt, n, o, a.queue);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_NewTopic_destroy_array(nt, n);
    free(nt);
    rd_kafka_event_t *ev =
        cli_kadmin_wait(&a, RD_KAFKA_EVENT_CREATETOPICS_RESULT, "creating topics");
    if (!ev)
        goto out;
    size_t nres;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &nres);
    json_t *arr = json_array();
    rc = CLI_OK;
    for (size_t i = 0; i < nres; i++) {
        const char *name = rd_kafka_topic_result_name(res[i]);
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
        const char *why = rd_kafka_topic_result_error_string(res[i]);
        int count = -1;
        if (!e) {
            const struct rd_kafka_metadata *md = cli_kadmin_metadata(&a, name);
            if (md && md->topic_cnt == 1)
                count = md->topics[0].partition_cnt;
            if (md)
                rd_kafka_metadata_destroy(md);
        }
        if (e) {
            rc = CLI_FAIL;
            cli_fail("topic \"%s\" was not created: %s%s", name, why ? why : rd_kafka_err2str(e),
                     refusal_hint(e));
        } else if (!c->json) {
            printf("created topic \"%s\" with %d partition%s\n", name, count,
                   count == 1 ? "" : "s");
        }
        json_array_append_new(
            arr, json_pack("{s:s,s:b,s:o,s:o}", "name", name, "created", !e, "partitions",
                           count >= 0 ? json_integer(count) : json_null(), "error",
                           e ? json_string(why ? why : rd_kafka_err2str(e)) : json_null()));
    }
    if (c->json)
        cli_print_json(arr);
    json_decref(arr);
    rd_kafka_event_destroy(ev);
out:
    cli_list_free(&configs);
    cli_kadmin_close(&a);
    return rc;
}

static int cmp_topic_names(const void *x, const void *y)
{
    return strcmp(((const struct rd_kafka_metadata_topic *)x)->topic,
                  ((const struct rd_kafka_metadata_topic *)y)->topic);
}

static int topics_list(cli_ctx *c, int argc, char **argv)
{
    const char *regex = NULL;
    regex_t re;
    cli_kadmin a = {0};
    c->prog = "strait topics list";
    c->usage = usage_list;
    int rc = cli_parse_regex_opt(c, argc, argv, &regex);
    if (rc != CLI_OK)
        return rc == CLI_GETOPT_HELP ? CLI_OK : rc;
    if (optind < argc)
        return cli_usage_error(c, "unexpected argument \"%s\" (filter with --regex)", argv[optind]);
    if (regex && cli_regex_arg(c, regex, &re) != CLI_OK)
        return CLI_USAGE;
    rc = CLI_FAIL;
    const struct rd_kafka_metadata *md = NULL;
    if (cli_kadmin_open(c, &a) != CLI_OK || !(md = cli_kadmin_metadata(&a, NULL)))
        goto out;
    struct rd_kafka_metadata_topic *topics = calloc((size_t)md->topic_cnt + 1, sizeof *topics);
    int n = 0;
    for (int i = 0; i < md->topic_cnt; i++)
        if (!regex || whole_match(&re, md->topics[i].topic))
            topics[n++] = md->topics[i];
    qsort(topics, (size_t)n, sizeof *topics, cmp_topic_names);
    json_t *arr = json_array();
    static const char *const head[] = {"TOPIC", "PARTITIONS", "INTERNAL"};
    cli_table t;
    cli_table_init(&t, 3, head);
    for (int i = 0; i < n; i++) {
        char count[16];
        snprintf(count, sizeof count, "%d", topics[i].partition_cnt);
        const char *row[] = {topics[i].topic, count,
                             internal_topic(topics[i].topic) ? "yes" : "no"};
        cli_table_row(&t, row);
        json_array_append_new(arr, json_pack("{s:s,s:i,s:b}", "name", topics[i].topic, "partitions",
                                             topics[i].partition_cnt, "internal",
                                             internal_topic(topics[i].topic)));
    }
    if (c->json) {
        json_t *res = json_pack("{s:o}", "topics", arr);
        cli_print_json(res);
        json_decref(res);
    } else {
        json_decref(arr);
        if (n == 0)
            puts("no topics");
        else
            cli_table_print(&t, stdout);
    }
    cli_table_free(&t);
    free(topics);
    rc = CLI_OK;
out:
    if (md)
        rd_kafka_metadata_destroy(md);
    if (regex)
        regfree(&re);
    cli_kadmin_close(&a);
    return rc;
}

/* "1,2,3" for a broker id list. */
static void ids_text(const int32_t *ids, int n, char *out, size_t cap)
{
    size_t at = 0;
    out[0] = '\0';
    for (int i = 0; i < n && at < cap; i++)
        at += (size_t)snprintf(out + at, cap - at, "%s%d", i ? "," : "", (int)ids[i]);
}

/* The size of topic[partition] from the DescribeLogDirs answer (-1 unknown). */
static int64_t size_of(const json_t *dirs, const char *topic, int32_t partition)
{
    size_t i, k;
    json_t *d, *p;
    json_array_foreach(dirs, i, d) json_array_foreach(
        json_object_get(d, "partitions"), k,
        p) if (json_integer_value(json_object_get(p, "partition")) == partition &&
               strcmp(json_string_value(json_object_get(p, "topic")), topic) ==
                   0) return json_integer_value(json_object_get(p, "size_bytes"));
    return -1;
}

static int describe_one(cli_kadmin *a, const char *name, json_t *all)
{
    const struct rd_kafka_metadata *md = cli_kadmin_metadata(a, name);
    if (!md)
        return CLI_FAIL;
    int rc = CLI_FAIL;
    json_t *configs = NULL, *dirs = json_array(), *parts = json_array();
    const struct rd_kafka_metadata_topic *t = md->topic_cnt == 1 ? &md->topics[0] : NULL;
    if (!t || t->err) {
        cli_kadmin_topic_error(name, t ? t->err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
        goto out;
    }
    if (cli_configs_topic(a, name, &configs) != CLI_OK)
        goto out;
    cli_list one = {0};
    cli_list_add(&one, name);
    bool sized = cli_logdirs_collect(a, md, &one, NULL, true, dirs) == CLI_OK;
    cli_list_free(&one);
    static const char *const phead[] = {"PARTITION", "LEADER", "REPLICAS", "ISR",
                                        "START",     "END",    "SIZE"};
    cli_table pt;
    cli_table_init(&pt, 7, phead);
    rc = CLI_OK;
    for (int i = 0; i < t->partition_cnt; i++) {
        const struct rd_kafka_metadata_partition *p = &t->partitions[i];
        int64_t low = -1, high = -1, size = sized ? size_of(dirs, name, p->id) : -1;
        if (cli_kadmin_watermarks(a, name, p->id, &low, &high) != CLI_OK)
            rc = CLI_FAIL;
        char id[16], leader[16], replicas[256], isr[256], start[24], end[24], sz[32];
        snprintf(id, sizeof id, "%d", (int)p->id);
        snprintf(leader, sizeof leader, "%d", (int)p->leader);
        ids_text(p->replicas, p->replica_cnt, replicas, sizeof replicas);
        ids_text(p->isrs, p->isr_cnt, isr, sizeof isr);
        snprintf(start, sizeof start, "%" PRId64, low);
        snprintf(end, sizeof end, "%" PRId64, high);
        cli_human_bytes(size, sz, sizeof sz);
        const char *row[] = {id, leader, replicas, isr, start, end, size >= 0 ? sz : "-"};
        cli_table_row(&pt, row);
        json_array_append_new(
            parts, json_pack("{s:i,s:i,s:s,s:s,s:I,s:I,s:o}", "partition", (int)p->id, "leader",
                             (int)p->leader, "replicas", replicas, "isr", isr, "start_offset",
                             (json_int_t)low, "end_offset", (json_int_t)high, "size_bytes",
                             size >= 0 ? json_integer(size) : json_null()));
    }
    if (all) {
        json_array_append_new(all, json_pack("{s:s,s:b,s:O,s:O}", "name", name, "internal",
                                             internal_topic(name), "partitions", parts, "configs",
                                             configs));
    } else {
        printf("Topic: %s  Partitions: %d%s\n\n", name, t->partition_cnt,
               internal_topic(name) ? "  (internal)" : "");
        cli_table_print(&pt, stdout);
        static const char *const chead[] = {"CONFIG", "VALUE", "SOURCE"};
        cli_table ct;
        cli_table_init(&ct, 3, chead);
        size_t i;
        json_t *v;
        json_array_foreach(configs, i, v)
        {
            const char *value = json_string_value(json_object_get(v, "value"));
            const char *row[] = {
                json_string_value(json_object_get(v, "name")), value ? value : "(sensitive)",
                json_is_true(json_object_get(v, "override")) ? "override" : "default"};
            cli_table_row(&ct, row);
        }
        putchar('\n');
        cli_table_print(&ct, stdout);
        cli_table_free(&ct);
    }
    cli_table_free(&pt);
out:
    json_decref(configs);
    json_decref(dirs);
    json_decref(parts);
    rd_kafka_metadata_destroy(md);
    return rc;
}

static int topics_describe(cli_ctx *c, int argc, char **argv)
{
    const char *regex = NULL;
    cli_list names = {0};
    cli_kadmin a = {0};
    c->prog = "strait topics describe";
    c->usage = usage_describe;
    int rc = cli_parse_regex_opt(c, argc, argv, &regex);
    if (rc != CLI_OK)
        return rc == CLI_GETOPT_HELP ? CLI_OK : rc;
    if (regex && optind < argc)
        return cli_usage_error(c, "give topic NAMEs or --regex, not both");
    if (!regex && optind >= argc)
        return cli_usage_error(c, "missing the topic NAME (or --regex RE)");
    if (cli_kadmin_open(c, &a) != CLI_OK)
        return CLI_FAIL;
    rc = named_topics(c, &a, argc, argv, regex, false, &names);
    json_t *all = c->json ? json_array() : NULL;
    for (size_t i = 0; rc != CLI_USAGE && i < names.n; i++) {
        if (i && !c->json)
            puts("");
        if (describe_one(&a, names.v[i], all) != CLI_OK)
            rc = CLI_FAIL;
    }
    if (all) {
        if (json_array_size(all))
            cli_print_json(names.n == 1 ? json_array_get(all, 0) : all);
        json_decref(all);
    }
    cli_list_free(&names);
    cli_kadmin_close(&a);
    return rc;
}

static int topics_alter(cli_ctx *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"delete-config", required_argument, NULL, 'd'},
        {"partitions", required_argument, NULL, 'p'},
        {"override-limits", required_argument, NULL, 'O'},
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    static const int lists[] = {'c', 'd', 0};
    cli_list sets = {0}, dels = {0};
    const char *override = NULL;
    json_t *mres = NULL; /* the management endpoint's answer (--override-limits) */
    int64_t partitions = -1;
    int rc = CLI_USAGE, opt;
    cli_kadmin a = {0};

    c->prog = "strait topics alter";
    c->usage = usage_alter;
    c->lists = lists;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "c:d:p:", longopts)) != CLI_GETOPT_END) {
        if (opt == CLI_GETOPT_HELP) {
            rc = CLI_OK;
            goto out;
        }
        if (opt == CLI_GETOPT_ERROR)
            goto out;
        if (opt == 'p' && cli_parse_int(c, "--partitions", optarg, 1, INT32_MAX, &partitions))
            goto out;
        if (opt == 'c')
            cli_list_add(&sets, optarg);
        if (opt == 'd')
            cli_list_add(&dels, optarg);
        if (opt == 'O' && check_reason(c, override = optarg) != CLI_OK)
            goto out;
    }
    if (optind >= argc) {
        cli_usage_error(c, "missing the topic NAME");
        goto out;
    }
    if (optind + 1 < argc) {
        cli_usage_error(c, "unexpected argument \"%s\" (one topic at a time)", argv[optind + 1]);
        goto out;
    }
    if (check_configs(c, &sets) != CLI_OK)
        goto out;
    if (!sets.n && !dels.n && partitions < 0) {
        cli_usage_error(c, "nothing to change: give --config, --delete-config or --partitions");
        goto out;
    }
    const char *name = argv[optind];
    rc = CLI_FAIL;
    if (override) {
        /* topics.alter checks every change before applying any, as the Kafka path. */
        json_t *args = json_pack("{s:s,s:s}", "name", name, "override_limits", override);
        if (sets.n)
            json_object_set_new(args, "set", configs_object(&sets));
        if (dels.n) {
            json_t *del = json_array();
            for (size_t i = 0; i < dels.n; i++)
                json_array_append_new(del, json_string(dels.v[i]));
            json_object_set_new(args, "delete", del);
        }
        if (partitions > 0)
            json_object_set_new(args, "add_partitions", json_integer(partitions));
        if (!(mres = cli_admin(c, "topics.alter", args)))
            goto out;
    } else if (cli_kadmin_open(c, &a) != CLI_OK) {
        goto out;
    }
    if (!override && (sets.n || dels.n) &&
        cli_configs_change_topic(&a, name, &sets, &dels) != CLI_OK)
        goto out;
    if (!override && partitions > 0) {
        char err[512];
        rd_kafka_NewPartitions_t *np =
            rd_kafka_NewPartitions_new(name, (size_t)partitions, err, sizeof err);
        if (!np) {
            cli_fail("--partitions %lld: %s", (long long)partitions, err);
            goto out;
        }
        rd_kafka_AdminOptions_t *o = cli_kadmin_options(&a, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS);
        rd_kafka_CreatePartitions(a.rk, &np, 1, o, a.queue);
        rd_kafka_AdminOptions_destroy(o);
        rd_kafka_NewPartitions_destroy(np);
        rd_kafka_event_t *ev =
            cli_kadmin_wait(&a, RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT, "adding partitions");
        if (!ev)
            goto out;
        size_t n;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &n);
        rd_kafka_resp_err_t e =
            n == 1 ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR__FAIL;
        if (e) {
            const char *why = n == 1 ? rd_kafka_topic_result_error_string(res[0]) : NULL;
            cli_fail("topic \"%s\": the partition count was not changed: %s%s", name,
                     why ? why : rd_kafka_err2str(e), refusal_hint(e));
        }
        rd_kafka_event_destroy(ev);
        if (e)
            goto out;
    }
    rc = CLI_OK;
    if (c->json) {
        json_t *o = mres ? json_object_get(mres, "limit_overridden") : NULL;
        json_t *r = json_pack("{s:s,s:I,s:I,s:o,s:O}", "name", name, "set", (json_int_t)sets.n,
                              "deleted", (json_int_t)dels.n, "partitions",
                              partitions > 0 ? json_integer(partitions) : json_null(),
                              "limit_overridden", o ? o : json_null());
        cli_print_json(r);
        json_decref(r);
        goto out;
    }
    const char *sep = ": ";
    printf("altered topic \"%s\"", name);
    for (size_t i = 0; i < sets.n; i++, sep = ", ")
        printf("%sset %s", sep, sets.v[i]);
    for (size_t i = 0; i < dels.n; i++, sep = ", ")
        printf("%sremoved %s", sep, dels.v[i]);
    if (partitions > 0)
        printf("%spartitions now %lld", sep, (long long)partitions);
    putchar('\n');
    if (mres)
        print_override(mres);
out:
    json_decref(mres);
    cli_list_free(&sets);
    cli_list_free(&dels);
    cli_kadmin_close(&a);
    return rc;
}

static int topics_delete(cli_ctx *c, int argc, char **argv)
{
    const char *regex = NULL;
    cli_list names = {0};
    cli_kadmin a = {0};
    c->prog = "strait topics delete";
    c->usage = usage_delete;
    int rc = cli_parse_regex_opt(c, argc, argv, &regex);
    if (rc != CLI_OK)
        return rc == CLI_GETOPT_HELP ? CLI_OK : rc;
    if (regex && optind < argc)
        return cli_usage_error(c, "give topic NAMEs or --regex, not both");
    if (!regex && optind >= argc)
        return cli_usage_error(c, "missing the topic NAME (or --regex RE)");
    if (cli_kadmin_open(c, &a) != CLI_OK)
        return CLI_FAIL;
    if ((rc = named_topics(c, &a, argc, argv, regex, true, &names)) != CLI_OK)
        goto out;
    rd_kafka_DeleteTopic_t **del = calloc(names.n, sizeof *del);
    for (size_t i = 0; i < names.n; i++)
        del[i] = rd_kafka_DeleteTopic_new(names.v[i]);
    rd_kafka_AdminOptions_t *o = cli_kadmin_options(&a, RD_KAFKA_ADMIN_OP_DELETETOPICS);
    rd_kafka_DeleteTopics(a.rk, del, names.n, o, a.queue);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_DeleteTopic_destroy_array(del, names.n);
    free(del);
    rd_kafka_event_t *ev =
        cli_kadmin_wait(&a, RD_KAFKA_EVENT_DELETETOPICS_RESULT, "deleting topics");
    rc = CLI_FAIL;
    if (!ev)
        goto out;
    size_t n;
    const rd_kafka_topic_result_t **res =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    json_t *arr = json_array();
    rc = CLI_OK;
    for (size_t i = 0; i < n; i++) {
        const char *name = rd_kafka_topic_result_name(res[i]);
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
        const char *why = rd_kafka_topic_result_error_string(res[i]);
        if (e) {
            rc = CLI_FAIL;
            cli_fail("topic \"%s\" was not deleted: %s", name, why ? why : rd_kafka_err2str(e));
        } else if (!c->json) {
            printf("deleted topic \"%s\"\n", name);
        }
        json_array_append_new(arr, json_pack("{s:s,s:b}", "name", name, "deleted", !e));
    }
    if (c->json)
        cli_print_json(arr);
    json_decref(arr);
    rd_kafka_event_destroy(ev);
out:
    cli_list_free(&names);
    cli_kadmin_close(&a);
    return rc;
}

static const cli_subcommand subcommands[] = {
    {"create", topics_create}, {"list", topics_list},     {"describe", topics_describe},
    {"alter", topics_alter},   {"delete", topics_delete},
};

int cli_topics_main(cli_ctx *c, int argc, char **argv)
{
    c->prog = "strait topics";
    c->usage = usage_topics;
    /* Global options may come between "topics" and the subcommand. */
    return cli_dispatch(c, argc, argv, subcommands, sizeof subcommands / sizeof subcommands[0],
                        "create, list, describe, alter or delete");
}
