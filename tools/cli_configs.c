/*
 * strait configs {describe,alter}: topic, broker and cluster-wide configs over the Kafka
 * admin API (DescribeConfigs, AlterConfigs), as kafka-configs.sh does.
 *
 * librdkafka 2.0.2 has no IncrementalAlterConfigs call, so alter is made incremental
 * here: it reads the resource's current dynamic overrides, applies --set and --delete to
 * them, and writes the whole set back with AlterConfigs. A sensitive override (its value
 * is never shown) cannot be carried over that way, so alter refuses unless it is set
 * again in the same command. Two alters of one resource at the same moment can lose one
 * of them, as with kafka-configs.sh before Kafka 2.3.
 */
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

static void usage_configs(FILE *out)
{
    fputs("Usage: strait configs SUBCOMMAND (--topic T | --broker ID | --cluster) [options]\n"
          "\n"
          "Configs of a topic, of one broker, or cluster-wide broker defaults (Kafka admin\n"
          "API).\n"
          "\n"
          "Subcommands:\n"
          "  describe   every config with its value and where it comes from\n"
          "  alter      set or remove dynamic overrides (where Kafka allows it at run time)\n"
          "\n"
          "Run 'strait configs SUBCOMMAND --help' for its options.\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExamples:\n"
          "  strait configs describe --topic orders\n"
          "  strait configs describe --broker 0 --overrides\n"
          "  strait configs alter --topic orders --set retention.ms=3600000\n",
          out);
}

static void usage_describe(FILE *out)
{
    fputs("Usage: strait configs describe (--topic T | --broker ID | --cluster) [options]\n"
          "\n"
          "Prints NAME VALUE SOURCE for every config of the resource. SOURCE is one of\n"
          "topic (an override on this topic), broker (a dynamic override on this broker),\n"
          "cluster (a dynamic cluster-wide default), static (the broker's config file) and\n"
          "default. Sensitive values print as (sensitive).\n"
          "\n"
          "Options:\n"
          "  --topic T       a topic's configs\n"
          "  --broker ID     one broker's configs\n"
          "  --cluster       the cluster-wide broker defaults\n"
          "  --overrides     only the configs set on the resource itself (not defaults)\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExample:\n  strait configs describe --topic orders --overrides\n", out);
}

static void usage_alter(FILE *out)
{
    fputs("Usage: strait configs alter (--topic T | --broker ID | --cluster)\n"
          "           [--set NAME=VALUE]... [--delete NAME]... [options]\n"
          "\n"
          "Changes only what is named: other overrides stay. The broker checks every\n"
          "change before applying any, and refuses configs that cannot change at run time.\n"
          "\n"
          "Options:\n"
          "  --set NAME=VALUE   set an override; repeat for several\n"
          "  --delete NAME      remove an override (back to the default); repeat for several\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExamples:\n"
          "  strait configs alter --topic orders --set retention.ms=3600000 --delete segment.ms\n"
          "  strait configs alter --cluster --set log.retention.ms=604800000\n",
          out);
}

enum { OPT_TOPIC = 1, OPT_BROKER, OPT_CLUSTER, OPT_OVERRIDES, OPT_SET, OPT_DELETE };

typedef struct target {
    rd_kafka_ResourceType_t type;
    const char *name;
    const char *opt; /* the option that chose it */
    char label[300]; /* "topic \"orders\"" */
} target;

static int set_target(cli_ctx *c, target *t, int opt, const char *arg)
{
    const char *name = opt == OPT_TOPIC ? "--topic" : opt == OPT_BROKER ? "--broker" : "--cluster";
    if (t->opt)
        return cli_usage_error(c, "give one of --topic, --broker and --cluster (got %s and %s)",
                               t->opt, name);
    t->opt = name;
    if (opt == OPT_TOPIC) {
        t->type = RD_KAFKA_RESOURCE_TOPIC;
        t->name = arg;
        snprintf(t->label, sizeof t->label, "topic \"%s\"", arg);
    } else if (opt == OPT_BROKER) {
        int64_t id;
        if (cli_parse_int(c, "--broker", arg, 0, INT32_MAX, &id))
            return CLI_USAGE;
        t->type = RD_KAFKA_RESOURCE_BROKER;
        t->name = arg;
        snprintf(t->label, sizeof t->label, "broker %s", arg);
    } else {
        t->type = RD_KAFKA_RESOURCE_BROKER;
        t->name = ""; /* Kafka's name for the cluster-wide defaults */
        snprintf(t->label, sizeof t->label, "the cluster-wide defaults");
    }
    return CLI_OK;
}

static const char *source_name(rd_kafka_ConfigSource_t s)
{
    switch (s) {
    case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG:
        return "topic";
    case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG:
        return "broker";
    case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG:
        return "cluster";
    case RD_KAFKA_CONFIG_SOURCE_STATIC_BROKER_CONFIG:
        return "static";
    case RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG:
        return "default";
    default:
        return "unknown";
    }
}

/* The source of an override set on the resource itself. */
static rd_kafka_ConfigSource_t own_source(const target *t)
{
    if (t->type == RD_KAFKA_RESOURCE_TOPIC)
        return RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG;
    return t->name[0] ? RD_KAFKA_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG
                      : RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG;
}

/* One config as describe found it (strings owned). */
typedef struct entry {
    char *name, *value; /* value NULL when sensitive or unset */
    rd_kafka_ConfigSource_t source;
    bool read_only, sensitive;
} entry;

typedef struct entries {
    entry *v;
    size_t n;
} entries;

static void entries_free(entries *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].name);
        free(e->v[i].value);
    }
    free(e->v);
    e->v = NULL;
    e->n = 0;
}

static void entries_add(entries *e, const char *name, const char *value,
                        rd_kafka_ConfigSource_t source, bool read_only, bool sensitive)
{
    e->v = realloc(e->v, (e->n + 1) * sizeof *e->v);
    if (!e->v)
        abort(); /* a CLI that cannot allocate this has nothing sensible left to do */
    e->v[e->n++] =
        (entry){strdup(name), value ? strdup(value) : NULL, source, read_only, sensitive};
}

/* ---- the cluster-wide resource, over strait's own requests ----
 *
 * Kafka names the cluster-wide broker defaults as the broker resource "", which
 * librdkafka 2.0.2 refuses to name; so --cluster sends DescribeConfigs v1 and
 * AlterConfigs v0 itself (plaintext listeners only, like strait logdirs). */

#define DESCRIBE_CONFIGS 32
#define ALTER_CONFIGS    33
#define RESOURCE_BROKER  4

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
} wbuf;

static void put(wbuf *w, const void *p, size_t n)
{
    if (w->len + n > w->cap) {
        w->cap = (w->len + n) * 2 + 64;
        w->p = realloc(w->p, w->cap);
        if (!w->p)
            abort();
    }
    memcpy(w->p + w->len, p, n);
    w->len += n;
}

static void put_int(wbuf *w, int64_t v, int bytes)
{
    uint8_t b[8];
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
    put(w, b, (size_t)bytes);
}

static void put_str(wbuf *w, const char *s)
{
    if (!s) {
        put_int(w, -1, 2);
        return;
    }
    put_int(w, (int64_t)strlen(s), 2);
    put(w, s, strlen(s));
}

/* One raw call to the first broker of the metadata. */
static int raw_call(cli_kadmin *a, int16_t key, int16_t version, const wbuf *req, uint8_t **resp,
                    size_t *len)
{
    char err[512];
    if (cli_kafka_secured(a->c, NULL))
        return cli_fail("--cluster speaks plaintext only (librdkafka 2.0.2 cannot name the "
                        "cluster-wide resource, and strait's own request does not do SASL or "
                        "TLS): point --bootstrap at a plaintext listener");
    const struct rd_kafka_metadata *md = cli_kadmin_metadata(a, NULL);
    if (!md)
        return CLI_FAIL;
    int rc = CLI_FAIL;
    if (md->broker_cnt == 0)
        cli_fail("the metadata lists no broker");
    else if (cli_raw_call(md->brokers[0].host, md->brokers[0].port, key, version, req->p, req->len,
                          resp, len, err, sizeof err) != 0)
        cli_fail("%s", err);
    else
        rc = CLI_OK;
    rd_kafka_metadata_destroy(md);
    return rc;
}

static int describe_cluster_raw(cli_kadmin *a, const target *t, entries *out)
{
    wbuf w = {0};
    put_int(&w, 1, 4); /* one resource */
    put_int(&w, RESOURCE_BROKER, 1);
    put_str(&w, "");
    put_int(&w, -1, 4); /* every config */
    put_int(&w, 0, 1);  /* include_synonyms */
    uint8_t *resp;
    size_t len;
    int rc = raw_call(a, DESCRIBE_CONFIGS, 1, &w, &resp, &len);
    free(w.p);
    if (rc != CLI_OK)
        return rc;
    cli_rd r = {resp, resp + len, false};
    cli_rd_int(&r, 4); /* throttle */
    int64_t nres = cli_rd_int(&r, 4);
    for (int64_t i = 0; i < nres && !r.bad; i++) {
        int16_t error = (int16_t)cli_rd_int(&r, 2);
        char *msg = cli_rd_str(&r);
        cli_rd_int(&r, 1);
        free(cli_rd_str(&r));
        int64_t n = cli_rd_int(&r, 4);
        for (int64_t k = 0; k < n && !r.bad; k++) {
            char *name = cli_rd_str(&r), *value = cli_rd_str(&r);
            bool read_only = cli_rd_int(&r, 1) != 0;
            int8_t source = (int8_t)cli_rd_int(&r, 1);
            bool sensitive = cli_rd_int(&r, 1) != 0;
            int64_t nsyn = cli_rd_int(&r, 4);
            for (int64_t y = 0; y < nsyn && !r.bad; y++) {
                free(cli_rd_str(&r));
                free(cli_rd_str(&r));
                cli_rd_int(&r, 1);
            }
            if (name)
                entries_add(out, name, value, (rd_kafka_ConfigSource_t)source, read_only,
                            sensitive);
            free(name);
            free(value);
        }
        if (error)
            rc = cli_fail("%s: %s", t->label, msg ? msg : rd_kafka_err2str(error));
        free(msg);
    }
    if (r.bad)
        rc = cli_fail("%s: the DescribeConfigs answer does not parse", t->label);
    free(resp);
    return rc;
}

static int alter_cluster_raw(cli_kadmin *a, const target *t, const entries *set)
{
    wbuf w = {0};
    put_int(&w, 1, 4);
    put_int(&w, RESOURCE_BROKER, 1);
    put_str(&w, "");
    put_int(&w, (int64_t)set->n, 4);
    for (size_t i = 0; i < set->n; i++) {
        put_str(&w, set->v[i].name);
        put_str(&w, set->v[i].value);
    }
    put_int(&w, 0, 1); /* validate_only */
    uint8_t *resp;
    size_t len;
    int rc = raw_call(a, ALTER_CONFIGS, 0, &w, &resp, &len);
    free(w.p);
    if (rc != CLI_OK)
        return rc;
    cli_rd r = {resp, resp + len, false};
    cli_rd_int(&r, 4);
    int64_t nres = cli_rd_int(&r, 4);
    for (int64_t i = 0; i < nres && !r.bad; i++) {
        int16_t error = (int16_t)cli_rd_int(&r, 2);
        char *msg = cli_rd_str(&r);
        cli_rd_int(&r, 1);
        free(cli_rd_str(&r));
        if (error)
            rc = cli_fail("%s: not changed: %s", t->label, msg ? msg : rd_kafka_err2str(error));
        free(msg);
    }
    if (r.bad || nres != 1)
        rc = cli_fail("%s: the AlterConfigs answer does not parse", t->label);
    free(resp);
    return rc;
}

/* A --broker ID the cluster lacks is an error naming its brokers (librdkafka waited its
 * whole timeout, 30 s, for a broker that never comes, then said "Local: Timed out"). */
static int check_broker(cli_kadmin *a, const target *t)
{
    if (t->type != RD_KAFKA_RESOURCE_BROKER || !t->name[0])
        return CLI_OK;
    const struct rd_kafka_metadata *md = cli_kadmin_metadata(a, NULL);
    if (!md)
        return CLI_FAIL;
    int rc = cli_kadmin_check_broker(md, t->name, false);
    rd_kafka_metadata_destroy(md);
    return rc;
}

/* The target's configs, through librdkafka or (--cluster) strait's own request. */
static int describe(cli_kadmin *a, const target *t, entries *out)
{
    if (t->type == RD_KAFKA_RESOURCE_BROKER && !t->name[0])
        return describe_cluster_raw(a, t, out);
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(t->type, t->name);
    rd_kafka_AdminOptions_t *o = cli_kadmin_options(a, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_DescribeConfigs(a->rk, &res, 1, o, a->queue);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_ConfigResource_destroy(res);
    rd_kafka_event_t *ev = cli_kadmin_wait(a, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, t->label);
    if (!ev)
        return CLI_FAIL;
    size_t nres, n;
    const rd_kafka_ConfigResource_t **rs =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &nres);
    int rc = CLI_OK;
    if (nres == 1 && t->type == RD_KAFKA_RESOURCE_TOPIC &&
        rd_kafka_ConfigResource_error(rs[0]) == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        rc = cli_kadmin_topic_error(t->name, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    } else if (nres != 1 || rd_kafka_ConfigResource_error(rs[0])) {
        rc = cli_fail("%s: %s", t->label,
                      nres == 1 ? rd_kafka_ConfigResource_error_string(rs[0]) : "no answer");
    } else {
        const rd_kafka_ConfigEntry_t **e = rd_kafka_ConfigResource_configs(rs[0], &n);
        for (size_t i = 0; i < n; i++)
            entries_add(out, rd_kafka_ConfigEntry_name(e[i]), rd_kafka_ConfigEntry_value(e[i]),
                        rd_kafka_ConfigEntry_source(e[i]), rd_kafka_ConfigEntry_is_read_only(e[i]),
                        rd_kafka_ConfigEntry_is_sensitive(e[i]));
    }
    rd_kafka_event_destroy(ev);
    return rc;
}

/* Replaces the target's overrides with `set` (AlterConfigs' semantics). */
static int alter(cli_kadmin *a, const target *t, const entries *set)
{
    if (t->type == RD_KAFKA_RESOURCE_BROKER && !t->name[0])
        return alter_cluster_raw(a, t, set);
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(t->type, t->name);
    for (size_t i = 0; i < set->n; i++)
        rd_kafka_ConfigResource_set_config(res, set->v[i].name, set->v[i].value);
    rd_kafka_AdminOptions_t *o = cli_kadmin_options(a, RD_KAFKA_ADMIN_OP_ALTERCONFIGS);
    rd_kafka_AlterConfigs(a->rk, &res, 1, o, a->queue);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_ConfigResource_destroy(res);
    rd_kafka_event_t *ev = cli_kadmin_wait(a, RD_KAFKA_EVENT_ALTERCONFIGS_RESULT, t->label);
    if (!ev)
        return CLI_FAIL;
    size_t nres;
    const rd_kafka_ConfigResource_t **rs =
        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &nres);
    int rc = CLI_OK;
    if (nres != 1 || rd_kafka_ConfigResource_error(rs[0]))
        rc = cli_fail("%s: not changed: %s", t->label,
                      nres == 1 ? rd_kafka_ConfigResource_error_string(rs[0]) : "no answer");
    rd_kafka_event_destroy(ev);
    return rc;
}

/* Parses the target and, for alter, --set / --delete. */
static int parse(cli_ctx *c, int argc, char **argv, bool alter, target *t, bool *overrides,
                 cli_list *sets, cli_list *dels)
{
    static const struct option describe_opts[] = {
        {"topic", required_argument, NULL, OPT_TOPIC},
        {"broker", required_argument, NULL, OPT_BROKER},
        {"cluster", no_argument, NULL, OPT_CLUSTER},
        {"overrides", no_argument, NULL, OPT_OVERRIDES},
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    static const struct option alter_opts[] = {
        {"topic", required_argument, NULL, OPT_TOPIC},
        {"broker", required_argument, NULL, OPT_BROKER},
        {"cluster", no_argument, NULL, OPT_CLUSTER},
        {"set", required_argument, NULL, OPT_SET},
        {"delete", required_argument, NULL, OPT_DELETE},
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    static const int lists[] = {OPT_SET, OPT_DELETE, 0};
    int opt;
    c->lists = lists;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "", alter ? alter_opts : describe_opts)) !=
           CLI_GETOPT_END) {
        switch (opt) {
        case CLI_GETOPT_HELP:
            return CLI_GETOPT_HELP;
        case OPT_TOPIC:
        case OPT_BROKER:
        case OPT_CLUSTER:
            if (set_target(c, t, opt, optarg))
                return CLI_USAGE;
            break;
        case OPT_OVERRIDES:
            *overrides = true;
            break;
        case OPT_SET:
            if (!strchr(optarg, '=') || optarg[0] == '=')
                return cli_usage_error(c, "--set \"%s\": expected NAME=VALUE", optarg);
            cli_list_add(sets, optarg);
            break;
        case OPT_DELETE:
            cli_list_add(dels, optarg);
            break;
        default:
            return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error(c, "unexpected argument \"%s\"", argv[optind]);
    if (!t->opt)
        return cli_usage_error(c, "say whose configs: --topic T, --broker ID or --cluster");
    if (alter && !sets->n && !dels->n)
        return cli_usage_error(c, "nothing to change: give --set NAME=VALUE or --delete NAME");
    return CLI_OK;
}

static int configs_describe(cli_ctx *c, int argc, char **argv)
{
    target t = {0};
    bool overrides = false;
    cli_list unused1 = {0}, unused2 = {0};
    cli_kadmin a = {0};
    entries e = {0};
    c->prog = "strait configs describe";
    c->usage = usage_describe;
    int rc = parse(c, argc, argv, false, &t, &overrides, &unused1, &unused2);
    if (rc != CLI_OK)
        return rc == CLI_GETOPT_HELP ? CLI_OK : rc;
    if (cli_kadmin_open(c, &a) != CLI_OK)
        return CLI_FAIL;
    rc = check_broker(&a, &t);
    if (rc == CLI_OK)
        rc = describe(&a, &t, &e);
    if (rc == CLI_OK) {
        json_t *arr = json_array();
        static const char *const head[] = {"NAME", "VALUE", "SOURCE"};
        cli_table tab;
        cli_table_init(&tab, 3, head);
        for (size_t i = 0; i < e.n; i++) {
            const entry *x = &e.v[i];
            if (overrides && x->source != own_source(&t))
                continue;
            const char *row[] = {x->name,
                                 x->sensitive ? "(sensitive)"
                                 : x->value   ? x->value
                                              : "(none)",
                                 source_name(x->source)};
            cli_table_row(&tab, row);
            json_array_append_new(
                arr, json_pack("{s:s,s:o,s:s,s:b,s:b}", "name", x->name, "value",
                               x->value && !x->sensitive ? json_string(x->value) : json_null(),
                               "source", source_name(x->source), "read_only", x->read_only,
                               "sensitive", x->sensitive));
        }
        if (c->json)
            cli_print_json(arr);
        else if (tab.nrows > 1)
            cli_table_print(&tab, stdout);
        else
            printf("%s: no %s\n", t.label, overrides ? "overrides" : "configs");
        cli_table_free(&tab);
        json_decref(arr);
    }
    entries_free(&e);
    cli_kadmin_close(&a);
    return rc;
}

static bool named_in(const cli_list *l, const char *name, bool with_value)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < l->n; i++)
        if (strncmp(l->v[i], name, len) == 0 && l->v[i][len] == (with_value ? '=' : '\0'))
            return true;
    return false;
}

int cli_configs_topic(cli_kadmin *a, const char *topic, json_t **out)
{
    target t = {RD_KAFKA_RESOURCE_TOPIC, topic, "--topic", ""};
    entries e = {0};
    snprintf(t.label, sizeof t.label, "topic \"%s\"", topic);
    int rc = describe(a, &t, &e);
    *out = json_array();
    for (size_t i = 0; rc == CLI_OK && i < e.n; i++) {
        const entry *x = &e.v[i];
        json_array_append_new(
            *out, json_pack("{s:s,s:o,s:s,s:b}", "name", x->name, "value",
                            x->value && !x->sensitive ? json_string(x->value) : json_null(),
                            "source", source_name(x->source), "override",
                            x->source == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG));
    }
    entries_free(&e);
    return rc;
}

/* Applies --set NAME=VALUE and --delete NAME to the target's overrides (see the file's
 * comment). CLI_OK or CLI_FAIL (reported). */
static int change(cli_kadmin *a, const target *t, const cli_list *sets, const cli_list *dels);

int cli_configs_change_topic(cli_kadmin *a, const char *topic, const cli_list *sets,
                             const cli_list *dels)
{
    target t = {RD_KAFKA_RESOURCE_TOPIC, topic, "--topic", ""};
    snprintf(t.label, sizeof t.label, "topic \"%s\"", topic);
    return change(a, &t, sets, dels);
}

static int change(cli_kadmin *a, const target *t, const cli_list *sets, const cli_list *dels)
{
    entries cur = {0}, next = {0};
    int rc = CLI_FAIL;
    if (describe(a, t, &cur) != CLI_OK)
        goto out;
    /* The overrides that stay: every current one not deleted or replaced. */
    for (size_t i = 0; i < cur.n; i++) {
        const entry *x = &cur.v[i];
        if (x->source != own_source(t) || named_in(dels, x->name, false) ||
            named_in(sets, x->name, true))
            continue;
        if (x->sensitive || !x->value) {
            cli_fail("%s: the override of %s is sensitive, so its value cannot be read back and "
                     "kept: give it again with --set %s=VALUE",
                     t->label, x->name, x->name);
            goto out;
        }
        entries_add(&next, x->name, x->value, x->source, false, false);
    }
    for (size_t i = 0; i < dels->n; i++) {
        bool present = false;
        for (size_t k = 0; k < cur.n && !present; k++)
            present = cur.v[k].source == own_source(t) && strcmp(cur.v[k].name, dels->v[i]) == 0;
        if (!present) {
            cli_fail("%s has no override of %s to delete", t->label, dels->v[i]);
            goto out;
        }
    }
    for (size_t i = 0; i < sets->n; i++) {
        char *name;
        const char *value;
        cli_split_kv(sets->v[i], &name, &value);
        entries_add(&next, name, value, own_source(t), false, false);
        free(name);
    }
    rc = alter(a, t, &next);
out:
    entries_free(&cur);
    entries_free(&next);
    return rc;
}

static int configs_alter(cli_ctx *c, int argc, char **argv)
{
    target t = {0};
    bool unused = false;
    cli_list sets = {0}, dels = {0};
    cli_kadmin a = {0};
    c->prog = "strait configs alter";
    c->usage = usage_alter;
    int rc = parse(c, argc, argv, true, &t, &unused, &sets, &dels);
    if (rc != CLI_OK) {
        rc = rc == CLI_GETOPT_HELP ? CLI_OK : rc;
        goto out;
    }
    for (size_t i = 0; i < dels.n; i++)
        if (named_in(&sets, dels.v[i], true)) {
            rc = cli_usage_error(c, "%s is both set and deleted: give one", dels.v[i]);
            goto out;
        }
    rc = CLI_FAIL;
    if (cli_kadmin_open(c, &a) != CLI_OK || check_broker(&a, &t) != CLI_OK ||
        change(&a, &t, &sets, &dels) != CLI_OK)
        goto out;
    if (c->json) {
        json_t *r = json_pack("{s:s,s:I,s:I}", "resource", t.label, "set", (json_int_t)sets.n,
                              "deleted", (json_int_t)dels.n);
        cli_print_json(r);
        json_decref(r);
    } else {
        printf("altered %s: %zu set, %zu deleted\n", t.label, sets.n, dels.n);
    }
    rc = CLI_OK;
out:
    cli_list_free(&sets);
    cli_list_free(&dels);
    cli_kadmin_close(&a);
    return rc;
}

static const cli_subcommand subcommands[] = {
    {"describe", configs_describe},
    {"alter", configs_alter},
};

int cli_configs_main(cli_ctx *c, int argc, char **argv)
{
    c->prog = "strait configs";
    c->usage = usage_configs;
    return cli_dispatch(c, argc, argv, subcommands, sizeof subcommands / sizeof subcommands[0],
                        "describe or alter");
}
