/*
 * strait topics {create,list,describe,alter,delete}: thin wrappers over the broker's
 * topics.* management commands (broker/admin.c). Validation that needs the broker
 * (names, config values, partition counts) is the broker's; here we only check the
 * command line's shape.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

/* ---- usage texts ---- */

static void usage_topics(FILE *out)
{
    fputs("Usage: strait topics SUBCOMMAND [options]\n"
          "\n"
          "Subcommands:\n"
          "  create NAME    create a topic\n"
          "  list           list topics\n"
          "  describe NAME  partitions (offsets, sizes) and configs of a topic\n"
          "  alter NAME     change configs or grow the partition count\n"
          "  delete NAME    delete a topic and its data\n"
          "\n"
          "Run 'strait topics SUBCOMMAND --help' for its options.\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExample:\n  strait topics list\n", out);
}

static void usage_create(FILE *out)
{
    fputs("Usage: strait topics create NAME [options]\n"
          "\n"
          "Creates topic NAME (1-249 characters of a-z A-Z 0-9 . _ -).\n"
          "\n"
          "Options:\n"
          "  -p, --partitions N           partition count [broker's num.partitions, 1]\n"
          "  -r, --replication-factor N   replicas per partition; 1 on a single broker\n"
          "                               [broker's default.replication.factor, 1]\n"
          "  -c, --config NAME=VALUE      a topic config override, e.g.\n"
          "                               retention.ms=86400000; repeat for several [none]\n"
          "      --override-limits REASON create it even past its tenant's topics or\n"
          "                               partitions limit; REASON is logged by the broker\n"
          "                               and printed [refused past a limit]\n\n",
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
          "Lists every topic with its partition count.\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExample:\n  strait topics list --json\n", out);
}

static void usage_describe(FILE *out)
{
    fputs("Usage: strait topics describe NAME [options]\n"
          "\n"
          "Shows each partition (start offset, end offset, size on disk, segments) and\n"
          "every topic config, marking the ones overridden on this topic.\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExample:\n  strait topics describe orders\n", out);
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
          "      --override-limits REASON  grow it even past its tenant's partitions limit;\n"
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
    fputs("Usage: strait topics delete NAME [options]\n"
          "\n"
          "Deletes the topic and all its data. There is no undo.\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExample:\n  strait topics delete orders\n", out);
}

/* ---- output ---- */

static void print_describe(const json_t *d, const char *unused)
{
    const json_t *parts = json_object_get(d, "partitions");
    const json_t *configs = json_object_get(d, "configs");
    size_t i;
    json_t *v;
    char a[32], b[32], size[32], segs[32];

    printf("Topic: %s  Id: %s  Partitions: %zu%s\n\n",
           json_string_value(json_object_get(d, "name")),
           json_string_value(json_object_get(d, "id")), json_array_size(parts),
           json_is_true(json_object_get(d, "internal")) ? "  (internal)" : "");

    static const char *const phead[] = {"PARTITION", "START", "END", "SIZE", "SEGMENTS"};
    cli_table t;
    cli_table_init(&t, 5, phead);
    json_array_foreach(parts, i, v)
    {
        char p[16];
        snprintf(p, sizeof(p), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(v, "partition")));
        snprintf(a, sizeof(a), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(v, "start_offset")));
        snprintf(b, sizeof(b), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(v, "end_offset")));
        cli_human_bytes(json_integer_value(json_object_get(v, "size_bytes")), size, sizeof(size));
        snprintf(segs, sizeof(segs), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(v, "segments")));
        const char *row[] = {p, a, b, size, segs};
        cli_table_row(&t, row);
    }
    cli_table_print(&t, stdout);
    cli_table_free(&t);

    static const char *const chead[] = {"CONFIG", "VALUE", "SOURCE"};
    cli_table_init(&t, 3, chead);
    json_array_foreach(configs, i, v)
    {
        const char *value = json_string_value(json_object_get(v, "value"));
        bool is_default = json_is_true(json_object_get(v, "default"));
        const char *row[] = {json_string_value(json_object_get(v, "name")),
                             value ? value : "(sensitive)", is_default ? "default" : "override"};
        cli_table_row(&t, row);
    }
    putchar('\n');
    cli_table_print(&t, stdout);
    cli_table_free(&t);
}

/* The broker's note that a tenant limit was overridden (" (over ...)"), if any. */
static void print_override(const json_t *res)
{
    const json_t *o = json_object_get(res, "limit_overridden");
    if (o)
        printf("note: over a tenant limit, overridden (reason: %s): %s\n",
               json_string_value(json_object_get(o, "reason")),
               json_string_value(json_object_get(o, "limit")));
}

/* ---- subcommands ---- */

/* Builds {"k":"v",...} from --config arguments; usage error if one has no '='. */
static int configs_object(cli_ctx *c, const cli_list *l, json_t *obj)
{
    for (size_t i = 0; i < l->n; i++) {
        char *name;
        const char *value;
        if (cli_split_kv(l->v[i], &name, &value) != 0)
            return cli_usage_error(c,
                                   "--config \"%s\": expected NAME=VALUE, e.g. "
                                   "--config retention.ms=86400000",
                                   l->v[i]);
        json_object_set_new(obj, name, json_string(value));
        free(name);
    }
    return CLI_OK;
}

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
    cli_list configs = {0};
    const char *override = NULL;
    int64_t partitions = -1, replication = -1;
    int rc = CLI_USAGE, opt;
    json_t *args = json_object(), *cfg = json_object();

    c->prog = "strait topics create";
    c->usage = usage_create;
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
        if (opt == 'O')
            override = optarg;
    }
    if (optind >= argc) {
        rc = cli_usage_error(c, "missing the topic NAME");
        goto out;
    }
    if (optind + 1 < argc) {
        rc = cli_usage_error(c, "unexpected argument \"%s\" (one topic at a time)",
                             argv[optind + 1]);
        goto out;
    }
    const char *name = argv[optind];
    if ((rc = configs_object(c, &configs, cfg)) != CLI_OK)
        goto out;
    json_object_set_new(args, "name", json_string(name));
    if (partitions > 0)
        json_object_set_new(args, "partitions", json_integer(partitions));
    if (replication > 0)
        json_object_set_new(args, "replication_factor", json_integer(replication));
    if (json_object_size(cfg) > 0)
        json_object_set(args, "configs", cfg);
    if (override)
        json_object_set_new(args, "override_limits", json_string(override));
    json_t *res = cli_admin(c, "topics.create", args);
    args = NULL;
    rc = res ? CLI_OK : CLI_FAIL;
    if (res && c->json)
        cli_print_json(res);
    else if (res) {
        printf("created topic \"%s\" with %zu partition%s\n", name,
               json_array_size(json_object_get(res, "partitions")),
               json_array_size(json_object_get(res, "partitions")) == 1 ? "" : "s");
        print_override(res);
    }
    json_decref(res);
out:
    json_decref(args);
    json_decref(cfg);
    cli_list_free(&configs);
    return rc;
}

static int topics_list(cli_ctx *c, int argc, char **argv)
{
    c->prog = "strait topics list";
    c->usage = usage_list;
    int rc;
    if (cli_parse_simple(c, argc, argv, NULL, NULL, &rc))
        return rc;
    json_t *res = cli_admin(c, "topics.list", NULL);
    if (!res)
        return CLI_FAIL;
    if (c->json) {
        cli_print_json(res);
    } else {
        const json_t *topics = json_object_get(res, "topics");
        static const char *const head[] = {"TOPIC", "PARTITIONS", "INTERNAL"};
        cli_table t;
        size_t i;
        json_t *v;
        cli_table_init(&t, 3, head);
        json_array_foreach(topics, i, v)
        {
            char n[16];
            snprintf(n, sizeof(n), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(json_object_get(v, "partitions")));
            const char *row[] = {json_string_value(json_object_get(v, "name")), n,
                                 json_is_true(json_object_get(v, "internal")) ? "yes" : "no"};
            cli_table_row(&t, row);
        }
        if (json_array_size(topics) == 0)
            puts("no topics");
        else
            cli_table_print(&t, stdout);
        cli_table_free(&t);
    }
    json_decref(res);
    return CLI_OK;
}

static int topics_describe(cli_ctx *c, int argc, char **argv)
{
    const char *name = NULL;
    c->prog = "strait topics describe";
    c->usage = usage_describe;
    int rc;
    if (cli_parse_simple(c, argc, argv, "topic NAME", &name, &rc))
        return rc;
    return cli_run(c, "topics.describe", json_pack("{s:s}", "name", name), print_describe, NULL);
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
    cli_list sets = {0};
    const char *override = NULL;
    int64_t partitions = -1;
    int rc = CLI_USAGE, opt;
    json_t *args = json_object(), *set = json_object(), *del = json_array();

    c->prog = "strait topics alter";
    c->usage = usage_alter;
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
            json_array_append_new(del, json_string(optarg));
        if (opt == 'O')
            override = optarg;
    }
    if (optind >= argc) {
        rc = cli_usage_error(c, "missing the topic NAME");
        goto out;
    }
    if (optind + 1 < argc) {
        rc = cli_usage_error(c, "unexpected argument \"%s\"", argv[optind + 1]);
        goto out;
    }
    const char *name = argv[optind];
    if ((rc = configs_object(c, &sets, set)) != CLI_OK)
        goto out;
    if (json_object_size(set) == 0 && json_array_size(del) == 0 && partitions < 0) {
        rc = cli_usage_error(c, "nothing to change: give --config, --delete-config or "
                                "--partitions");
        goto out;
    }
    json_object_set_new(args, "name", json_string(name));
    if (json_object_size(set) > 0)
        json_object_set(args, "set", set);
    if (json_array_size(del) > 0)
        json_object_set(args, "delete", del);
    if (partitions > 0)
        json_object_set_new(args, "add_partitions", json_integer(partitions));
    if (override)
        json_object_set_new(args, "override_limits", json_string(override));
    json_t *res = cli_admin(c, "topics.alter", args);
    args = NULL;
    rc = res ? CLI_OK : CLI_FAIL;
    if (res && c->json) {
        cli_print_json(res);
    } else if (res) {
        const char *k, *sep = ": ";
        json_t *v;
        size_t i;
        printf("altered topic \"%s\"", name);
        json_object_foreach(set, k, v)
        {
            printf("%sset %s=%s", sep, k, json_string_value(v));
            sep = ", ";
        }
        json_array_foreach(del, i, v)
        {
            printf("%sremoved %s", sep, json_string_value(v));
            sep = ", ";
        }
        if (partitions > 0)
            printf("%spartitions now %zu", sep,
                   json_array_size(json_object_get(res, "partitions")));
        putchar('\n');
        print_override(res);
    }
    json_decref(res);
out:
    json_decref(args);
    json_decref(set);
    json_decref(del);
    cli_list_free(&sets);
    return rc;
}

static void print_deleted(const json_t *res, const char *name)
{
    printf("deleted topic \"%s\"\n", name);
}

static int topics_delete(cli_ctx *c, int argc, char **argv)
{
    const char *name = NULL;
    c->prog = "strait topics delete";
    c->usage = usage_delete;
    int rc;
    if (cli_parse_simple(c, argc, argv, "topic NAME", &name, &rc))
        return rc;
    return cli_run(c, "topics.delete", json_pack("{s:s}", "name", name), print_deleted, name);
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
