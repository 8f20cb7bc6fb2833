/*
 * strait quotas | explain: wrappers over the broker's quotas.* and explain management
 * commands (broker/admin_quotas.c). The broker checks entities, keys and values and says
 * what is wrong; here we shape the command line into the command's arguments and print
 * tables that answer "how much" and "why" in one screen.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

#define DEFAULT_NAME "<default>"

/* ---- usage texts ---- */

static const char entity_help[] =
    "Entity (one of the Kafka forms, or a tenant):\n"
    "  --user U | --default-user            a user (SASL name; ANONYMOUS for plaintext)\n"
    "  --client-id C | --default-client-id  a client id, alone or with a user\n"
    "  --tenant T | --default-tenant        a tenant (Strait only: caps the sum of its\n"
    "                                       users, and holds its limits)\n"
    "  (the literal name \"" DEFAULT_NAME "\" also means the default entity)\n";

static const char keys_help[] =
    "Keys:\n"
    "  producer_byte_rate, consumer_byte_rate   bytes per second (K, M, G suffixes: x1024)\n"
    "  request_percentage                       percent of one broker thread's time\n"
    "  tenant limits (tenants only):\n"
    "  retained_bytes, partitions, topics, connections, connection_creation_rate (per s)\n";

static void usage_quotas(FILE *out)
{
    fputs("Usage: strait quotas SUBCOMMAND [options]\n"
          "\n"
          "Client quotas (Kafka's: per user, client id, or user and client id, with\n"
          "defaults) and Strait's tenant quotas and limits. Changes apply to open\n"
          "connections at once and are kept across restarts.\n"
          "\n"
          "Subcommands:\n"
          "  set ENTITY KEY=VALUE...    set keys on the entity (all or nothing)\n"
          "  remove ENTITY KEY...       remove keys from the entity\n"
          "  describe [ENTITY]          every quota set, or those of exactly one entity\n"
          "  usage [--tenant T]         per tenant: limits against use, rate quotas and the\n"
          "                             last seconds; every active sensor: rate, quota and\n"
          "                             throttle time in the window\n"
          "  metrics --tenant T [--seconds N]\n"
          "                             the tenant's per-second history (default 60 s)\n"
          "\n",
          out);
    fputs(entity_help, out);
    putc('\n', out);
    fputs(keys_help, out);
    putc('\n', out);
    cli_print_global_options(out);
    fputs("\nExamples:\n"
          "  strait quotas set --user alice producer_byte_rate=1M consumer_byte_rate=2M\n"
          "  strait quotas set --default-user --client-id batch request_percentage=50\n"
          "  strait quotas set --tenant acme retained_bytes=10G partitions=100\n"
          "  strait quotas remove --user alice producer_byte_rate\n"
          "  strait quotas describe --user alice\n"
          "  strait quotas usage --tenant acme\n",
          out);
}

static void usage_explain(FILE *out)
{
    fputs("Usage: strait explain --principal User:NAME [options]\n"
          "\n"
          "Why a request is allowed, denied or throttled: the ACL binding that decided (or\n"
          "super user / no ACL found), the quota entity that applies at the client and\n"
          "tenant level with its value, the current rate and the budget left, and the\n"
          "tenant's limits with their use.\n"
          "\n"
          "Options:\n"
          "  --principal P      who (User:alice); required\n"
          "  --host H           the client's address (default \"*\": only host-wildcard\n"
          "                     bindings apply)\n"
          "  --topic N | --group N | --transactional-id N | --cluster\n"
          "                     explain the ACL decision on this resource\n"
          "  --operation OP     for this operation (default: every operation that\n"
          "                     matters for the resource type)\n"
          "  --client-id C      explain the quotas of this client id (default \"\")\n"
          "  --kind K           produce, fetch or request (default: all three)\n"
          "\n"
          "Without a resource, quotas are explained; with one, the ACL decision (and the\n"
          "quotas too when --client-id or --kind is given).\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExamples:\n"
          "  strait explain --principal User:alice --topic orders --operation WRITE\n"
          "  strait explain --principal User:alice --client-id app1 --kind produce\n",
          out);
}

/* ---- formatting ---- */

static const char *str_or_dash(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : "-";
}

static bool is_byte_key(const char *key)
{
    return key && (strstr(key, "byte") != NULL);
}

/* A quota value for a key: "1048576 (1.0 MiB/s)", "50%", "100"; "-" for null. */
static const char *value_text(const json_t *v, const char *key, char *buf, size_t len)
{
    char human[32];
    if (!json_is_number(v))
        return "-";
    double x = json_number_value(v);
    bool whole = x == floor(x) && fabs(x) < 1e18;
    if (whole)
        snprintf(buf, len, "%.0f", x);
    else
        snprintf(buf, len, "%.2f", x);
    if (key && strcmp(key, "request_percentage") == 0) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, "%%");
    } else if (is_byte_key(key) && x >= 1024) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, " (%s%s)", cli_human_bytes((int64_t)x, human, sizeof human),
                 strstr(key, "rate") ? "/s" : "");
    } else if (key && strcmp(key, "connection_creation_rate") == 0) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, "/s");
    }
    return buf;
}

/* A rate for a quota key: "900.0 KiB/s", "12.50%", "0.20/s"; "-" for null. */
static const char *rate_text(const json_t *v, const char *key, char *buf, size_t len)
{
    char human[32];
    if (!json_is_number(v))
        return "-";
    double x = json_number_value(v);
    if (key && strcmp(key, "request_percentage") == 0)
        snprintf(buf, len, "%.2f%%", x);
    else if (is_byte_key(key)) /* a budget may be negative: over the quota */
        snprintf(buf, len, "%s%s%s", x < 0 ? "-" : "",
                 cli_human_bytes((int64_t)llround(fabs(x)), human, sizeof human),
                 strstr(key, "rate") ? "/s" : "");
    else if (key && strcmp(key, "connection_creation_rate") == 0)
        snprintf(buf, len, "%.2f/s", x);
    else
        snprintf(buf, len, "%.0f", x);
    return buf;
}

/* "user=alice client-id=<default>", "tenant=acme"; "-" for null or empty. */
static const char *entity_text(const json_t *e, char *buf, size_t len)
{
    static const char *const parts[] = {"user", "client-id", "tenant"};
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < 3 && n < len; i++) {
        const char *s = json_string_value(json_object_get(e, parts[i]));
        if (s)
            n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", n ? " " : "", parts[i], s);
    }
    return n ? buf : "-";
}

/* ---- shared command-line handling ---- */

enum {
    OPT_USER = 1,
    OPT_DEFAULT_USER,
    OPT_CLIENT_ID,
    OPT_DEFAULT_CLIENT_ID,
    OPT_TENANT,
    OPT_DEFAULT_TENANT,
    OPT_SECONDS,
};

static const struct option entity_longopts[] = {
    {"user", required_argument, NULL, OPT_USER},
    {"default-user", no_argument, NULL, OPT_DEFAULT_USER},
    {"client-id", required_argument, NULL, OPT_CLIENT_ID},
    {"default-client-id", no_argument, NULL, OPT_DEFAULT_CLIENT_ID},
    {"tenant", required_argument, NULL, OPT_TENANT},
    {"default-tenant", no_argument, NULL, OPT_DEFAULT_TENANT},
    CLI_GLOBAL_LONGOPTS,
    {0},
};

/*
 * The entity options into *entity (a new object, or NULL when none was given); the
 * positional arguments are then argv[optind..]. Returns -1 when parsed, else the exit
 * code (help shown or a usage error).
 */
static int parse_entity(cli_ctx *c, int argc, char **argv, json_t **entity)
{
    static const char *const type_of[] = {
        [OPT_USER] = "user",           [OPT_DEFAULT_USER] = "user",
        [OPT_CLIENT_ID] = "client-id", [OPT_DEFAULT_CLIENT_ID] = "client-id",
        [OPT_TENANT] = "tenant",       [OPT_DEFAULT_TENANT] = "tenant"};
    int opt;
    *entity = NULL;
    json_t *e = json_object();
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "", entity_longopts)) != CLI_GETOPT_END) {
        if (opt == CLI_GETOPT_HELP || opt == CLI_GETOPT_ERROR) {
            json_decref(e);
            return opt == CLI_GETOPT_HELP ? CLI_OK : CLI_USAGE;
        }
        const char *type = type_of[opt];
        if (json_object_get(e, type)) {
            json_decref(e);
            return cli_usage_error(c, "the %s is given twice (--%s or --default-%s, once)", type,
                                   type, type);
        }
        bool dflt =
            opt == OPT_DEFAULT_USER || opt == OPT_DEFAULT_CLIENT_ID || opt == OPT_DEFAULT_TENANT;
        if (!dflt && !*optarg) {
            json_decref(e);
            return cli_usage_error(c, "--%s needs a name (or use --default-%s)", type, type);
        }
        json_object_set_new(e, type, json_string(dflt ? DEFAULT_NAME : optarg));
    }
    if (json_object_get(e, "tenant") && json_object_size(e) > 1) {
        json_decref(e);
        return cli_usage_error(c, "a tenant entity stands alone: give --tenant without --user "
                                  "or --client-id");
    }
    if (json_object_size(e) == 0)
        json_decref(e);
    else
        *entity = e;
    return -1;
}

/* Parses "1048576", "1.5M", "10G" (K, M, G, T: powers of 1024). false if malformed. */
static bool parse_value(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || !isfinite(v))
        return false;
    static const char suffixes[] = "KMGT";
    const char *p = *end ? strchr(suffixes, *end) : NULL;
    if (p) {
        for (const char *q = suffixes; q <= p; q++)
            v *= 1024;
        end++;
    }
    if (*end)
        return false;
    *out = v;
    return true;
}

/* Runs cmd with args (taken) and prints --json or calls print(result). */
/* ---- set / remove / describe ---- */

static void print_set(const json_t *res, const char *unused)
{
    char ent[600], v[96], old[96];
    const char *key;
    json_t *val;
    const json_t *prev = json_object_get(res, "previous");
    entity_text(json_object_get(res, "entity"), ent, sizeof ent);
    json_object_foreach((json_t *)json_object_get(res, "set"), key, val)
    {
        const json_t *p = json_object_get(prev, key);
        printf("%s: %s = %s%s%s%s\n", ent, key, value_text(val, key, v, sizeof v),
               json_is_number(p) ? " (was " : " (new)",
               json_is_number(p) ? value_text(p, key, old, sizeof old) : "",
               json_is_number(p) ? ")" : "");
    }
}

static int quotas_set(cli_ctx *c, int argc, char **argv)
{
    json_t *entity, *values = NULL;
    c->prog = "strait quotas set";
    int rc = parse_entity(c, argc, argv, &entity);
    if (rc >= 0)
        return rc;
    if (!entity) {
        rc = cli_usage_error(c, "missing the entity (--user, --client-id, --tenant or a "
                                "--default-... form)");
        goto out;
    }
    if (optind >= argc) {
        rc = cli_usage_error(c, "missing KEY=VALUE (e.g. producer_byte_rate=1M)");
        goto out;
    }
    values = json_object();
    for (int i = optind; i < argc; i++) {
        char *name;
        const char *text;
        double v;
        if (cli_split_kv(argv[i], &name, &text) != 0) {
            rc = cli_usage_error(c, "\"%s\" is not KEY=VALUE", argv[i]);
            goto out;
        }
        if (!parse_value(text, &v)) {
            rc = cli_usage_error(c, "%s: \"%s\" is not a number (suffixes K, M, G, T: x1024)", name,
                                 text);
            free(name);
            goto out;
        }
        json_object_set_new(values, name, json_real(v));
        free(name);
    }
    json_t *args = json_pack("{s:o, s:o}", "entity", entity, "values", values);
    return cli_run(c, "quotas.set", args, print_set, NULL);
out:
    json_decref(entity);
    json_decref(values);
    return rc;
}

static void print_removed(const json_t *res, const char *unused)
{
    char ent[600];
    size_t i;
    json_t *k;
    entity_text(json_object_get(res, "entity"), ent, sizeof ent);
    json_array_foreach(json_object_get(res, "removed"), i, k)
        printf("%s: removed %s\n", ent, json_string_value(k));
    json_array_foreach(json_object_get(res, "not_set"), i, k)
        printf("%s: %s was not set\n", ent, json_string_value(k));
}

static int quotas_remove(cli_ctx *c, int argc, char **argv)
{
    json_t *entity;
    c->prog = "strait quotas remove";
    int rc = parse_entity(c, argc, argv, &entity);
    if (rc >= 0)
        return rc;
    if (!entity)
        return cli_usage_error(c, "missing the entity (--user, --client-id, --tenant or a "
                                  "--default-... form)");
    if (optind >= argc) {
        json_decref(entity);
        return cli_usage_error(c, "missing the KEY(s) to remove");
    }
    json_t *keys = json_array();
    for (int i = optind; i < argc; i++)
        json_array_append_new(keys, json_string(argv[i]));
    return cli_run(c, "quotas.remove", json_pack("{s:o, s:o}", "entity", entity, "keys", keys),
                   print_removed, NULL);
}

static void print_describe(const json_t *res, const char *unused)
{
    static const char *const head[] = {"ENTITY", "KEY", "VALUE"};
    const json_t *quotas = json_object_get(res, "quotas");
    size_t i;
    json_t *q;
    if (json_array_size(quotas) == 0) {
        puts("no quotas set");
        return;
    }
    cli_table t;
    cli_table_init(&t, 3, head);
    json_array_foreach(quotas, i, q)
    {
        char ent[600], v[96];
        const char *key = str_or_dash(q, "key");
        const char *row[] = {entity_text(json_object_get(q, "entity"), ent, sizeof ent), key,
                             value_text(json_object_get(q, "value"), key, v, sizeof v)};
        cli_table_row(&t, row);
    }
    cli_table_print(&t, stdout);
    cli_table_free(&t);
}

static int quotas_describe(cli_ctx *c, int argc, char **argv)
{
    json_t *entity;
    c->prog = "strait quotas describe";
    int rc = parse_entity(c, argc, argv, &entity);
    if (rc >= 0)
        return rc;
    if (optind < argc) {
        json_decref(entity);
        return cli_usage_error(c,
                               "unexpected argument \"%s\" (the entity is given with "
                               "--user, --client-id or --tenant)",
                               argv[optind]);
    }
    json_t *args = entity ? json_pack("{s:o}", "entity", entity) : NULL;
    return cli_run(c, "quotas.describe", args, print_describe, NULL);
}

/* ---- usage / metrics ---- */

/* The tenant's limits against their use. */
static void print_limits(const json_t *limits)
{
    static const char *const head[] = {"LIMIT", "VALUE", "USE", "LEFT", "USED"};
    static const char *const keys[] = {"retained_bytes", "partitions", "topics", "connections",
                                       "connection_creation_rate"};
    cli_table t;
    cli_table_init(&t, 5, head);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const json_t *l = json_object_get(limits, keys[i]);
        const json_t *limit = json_object_get(l, "limit");
        bool is_rate = i == 4;
        const json_t *use = json_object_get(l, is_rate ? "rate" : "use");
        char v[96], u[64], left[64], pct[16] = "-";
        if (json_is_number(limit) && json_is_number(use) && json_number_value(limit) > 0)
            snprintf(pct, sizeof pct, "%.0f%%",
                     100.0 * json_number_value(use) / json_number_value(limit));
        const char *row[] = {
            keys[i], value_text(limit, keys[i], v, sizeof v), rate_text(use, keys[i], u, sizeof u),
            is_rate ? "-" : rate_text(json_object_get(l, "left"), keys[i], left, sizeof left), pct};
        cli_table_row(&t, row);
    }
    cli_table_print(&t, stdout);
    cli_table_free(&t);
}

/* The sum of a metrics array. */
static double metric_sum(const json_t *m, const char *key)
{
    size_t i;
    json_t *v;
    double s = 0;
    json_array_foreach(json_object_get(m, key), i, v) s += json_number_value(v);
    return s;
}

static void print_metrics_summary(const json_t *m)
{
    char in[32], out[32];
    size_t secs = json_array_size(json_object_get(m, "bytes_in"));
    if (!m || !secs)
        return;
    printf("last %zu s: %s in, %s out, %.0f requests, %.0f ms throttled, %.0f denials\n", secs,
           cli_human_bytes((int64_t)metric_sum(m, "bytes_in"), in, sizeof in),
           cli_human_bytes((int64_t)metric_sum(m, "bytes_out"), out, sizeof out),
           metric_sum(m, "requests"), metric_sum(m, "throttle_ms"), metric_sum(m, "denials"));
}

static void print_sensors(const json_t *sensors)
{
    static const char *const head[] = {"ENTITY", "KIND", "RATE",
                                       "QUOTA",  "USED", "THROTTLE-MS (window)"};
    size_t i;
    json_t *s;
    if (json_array_size(sensors) == 0) {
        puts("no active quota sensors (no traffic in the last window)");
        return;
    }
    cli_table t;
    cli_table_init(&t, 6, head);
    json_array_foreach(sensors, i, s)
    {
        char ent[600], rate[64], quota[96], pct[16] = "-", thr[24];
        const char *kind = str_or_dash(s, "kind");
        const json_t *q = json_object_get(s, "quota"), *r = json_object_get(s, "rate");
        if (json_is_number(q) && json_number_value(q) > 0)
            snprintf(pct, sizeof pct, "%.0f%%",
                     100.0 * json_number_value(r) / json_number_value(q));
        snprintf(thr, sizeof thr, "%.0f",
                 json_number_value(json_object_get(s, "throttle_ms_window")));
        const char *row[] = {entity_text(json_object_get(s, "entity"), ent, sizeof ent),
                             kind,
                             rate_text(r, kind, rate, sizeof rate),
                             value_text(q, kind, quota, sizeof quota),
                             pct,
                             thr};
        cli_table_row(&t, row);
    }
    cli_table_print(&t, stdout);
    cli_table_free(&t);
}

static void print_usage(const json_t *res, const char *unused)
{
    size_t i;
    json_t *t;
    const json_t *tenants = json_object_get(res, "tenants");
    json_array_foreach(tenants, i, t)
    {
        char users[512] = "", v[96];
        size_t k, n = 0;
        json_t *u;
        json_array_foreach(json_object_get(t, "users"), k, u) if (n < sizeof users) n +=
            (size_t)snprintf(users + n, sizeof users - n, "%s%s", n ? ", " : "",
                             json_string_value(u));
        printf("Tenant %s (prefix %s; users: %s)\n", str_or_dash(t, "tenant"),
               str_or_dash(t, "prefix"), n ? users : "-");
        print_limits(json_object_get(t, "limits"));
        const char *key;
        json_t *q;
        n = 0;
        json_object_foreach(json_object_get(t, "quotas"), key, q)
        {
            if (!json_is_number(q))
                continue;
            printf("%s%s %s", n++ ? ", " : "tenant quotas: ", key, value_text(q, key, v, sizeof v));
        }
        printf("%s", n ? "\n" : "tenant quotas: none\n");
        print_metrics_summary(json_object_get(t, "metrics"));
        putchar('\n');
    }
    if (json_array_size(tenants) == 0)
        puts("no tenants\n");
    puts("Sensors:");
    print_sensors(json_object_get(res, "sensors"));
}

static int quotas_usage(cli_ctx *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"tenant", required_argument, NULL, OPT_TENANT}, CLI_GLOBAL_LONGOPTS, {0}};
    json_t *args = json_object();
    int opt;
    c->prog = "strait quotas usage";
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "", longopts)) != CLI_GETOPT_END) {
        if (opt == CLI_GETOPT_HELP || opt == CLI_GETOPT_ERROR) {
            json_decref(args);
            return opt == CLI_GETOPT_HELP ? CLI_OK : CLI_USAGE;
        }
        json_object_set_new(args, "tenant", json_string(optarg));
    }
    if (optind < argc) {
        json_decref(args);
        return cli_usage_error(c, "unexpected argument \"%s\"", argv[optind]);
    }
    return cli_run(c, "quotas.usage", args, print_usage, NULL);
}

static void print_metrics(const json_t *m, const char *unused)
{
    static const char *const head[] = {"SECOND",   "BYTES-IN",    "BYTES-OUT",
                                       "REQUESTS", "THROTTLE-MS", "DENIALS"};
    static const char *const keys[] = {"bytes_in", "bytes_out", "requests", "throttle_ms",
                                       "denials"};
    size_t n = json_array_size(json_object_get(m, "bytes_in"));
    json_int_t end = json_integer_value(json_object_get(m, "end"));
    cli_table t;
    printf("Tenant %s, per second (unix time)\n", str_or_dash(m, "tenant"));
    cli_table_init(&t, 6, head);
    for (size_t i = 0; i < n; i++) {
        char cells[6][32];
        const char *row[6];
        snprintf(cells[0], sizeof cells[0], "%" JSON_INTEGER_FORMAT, end - (json_int_t)(n - 1 - i));
        for (size_t k = 0; k < 5; k++)
            snprintf(cells[k + 1], sizeof cells[k + 1], "%.0f",
                     json_number_value(json_array_get(json_object_get(m, keys[k]), i)));
        for (size_t k = 0; k < 6; k++)
            row[k] = cells[k];
        cli_table_row(&t, row);
    }
    cli_table_print(&t, stdout);
    cli_table_free(&t);
}

static int quotas_metrics(cli_ctx *c, int argc, char **argv)
{
    static const struct option longopts[] = {{"tenant", required_argument, NULL, OPT_TENANT},
                                             {"seconds", required_argument, NULL, OPT_SECONDS},
                                             CLI_GLOBAL_LONGOPTS,
                                             {0}};
    json_t *args = json_object();
    int opt;
    int64_t seconds;
    c->prog = "strait quotas metrics";
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "", longopts)) != CLI_GETOPT_END) {
        if (opt == CLI_GETOPT_HELP || opt == CLI_GETOPT_ERROR) {
            json_decref(args);
            return opt == CLI_GETOPT_HELP ? CLI_OK : CLI_USAGE;
        }
        if (opt == OPT_TENANT)
            json_object_set_new(args, "tenant", json_string(optarg));
        else if (cli_parse_int(c, "--seconds", optarg, 1, 300, &seconds) != 0) {
            json_decref(args);
            return CLI_USAGE;
        } else
            json_object_set_new(args, "seconds", json_integer(seconds));
    }
    if (optind < argc || !json_object_get(args, "tenant")) {
        json_decref(args);
        return optind < argc ? cli_usage_error(c, "unexpected argument \"%s\"", argv[optind])
                             : cli_usage_error(c, "missing --tenant T");
    }
    return cli_run(c, "quotas.metrics", args, print_metrics, NULL);
}

static const cli_subcommand quota_cmds[] = {
    {"set", quotas_set},     {"remove", quotas_remove},   {"describe", quotas_describe},
    {"usage", quotas_usage}, {"metrics", quotas_metrics},
};

int cli_quotas_main(cli_ctx *c, int argc, char **argv)
{
    c->prog = "strait quotas";
    c->usage = usage_quotas;
    return cli_dispatch(c, argc, argv, quota_cmds, sizeof quota_cmds / sizeof quota_cmds[0],
                        "set, remove, describe, usage or metrics");
}

/* ---- explain ---- */

static void print_acl_decisions(const json_t *res)
{
    static const char *const head[] = {"OPERATION", "RESULT", "REASON", "WHY"};
    const json_t *acls = json_object_get(res, "acls");
    const json_t *first = json_array_get(acls, 0);
    size_t i;
    json_t *a;
    printf("ACL decisions on %s \"%s\":\n", str_or_dash(first, "resource_type"),
           str_or_dash(first, "resource_name"));
    cli_table t;
    cli_table_init(&t, 4, head);
    json_array_foreach(acls, i, a)
    {
        const char *row[] = {str_or_dash(a, "operation"), str_or_dash(a, "result"),
                             str_or_dash(a, "reason"), str_or_dash(a, "explanation")};
        cli_table_row(&t, row);
    }
    cli_table_print(&t, stdout);
    cli_table_free(&t);
}

/* One level (client or tenant) of a quota explanation as a table row. */
static void quota_row(cli_table *t, const char *kind, const char *level, const json_t *x,
                      const char *key)
{
    char ent[600], quota[96], rate[64], budget[64];
    const json_t *e = json_object_get(x, "entity");
    const char *row[] = {kind,
                         level,
                         json_is_object(e) ? entity_text(e, ent, sizeof ent) : "(no quota)",
                         value_text(json_object_get(x, "quota"), key, quota, sizeof quota),
                         rate_text(json_object_get(x, "rate"), key, rate, sizeof rate),
                         rate_text(json_object_get(x, "budget"), key, budget, sizeof budget)};
    cli_table_row(t, row);
}

static void print_quota_explanations(const json_t *res)
{
    static const char *const head[] = {"KIND", "LEVEL", "ENTITY", "QUOTA", "RATE", "BUDGET-LEFT"};
    const json_t *quotas = json_object_get(res, "quotas");
    size_t i, n = 0;
    json_t *q;
    char owed[256] = "";
    printf("Quotas of user %s, client-id \"%s\":\n", str_or_dash(res, "user"),
           json_string_value(json_object_get(res, "client_id")));
    cli_table t;
    cli_table_init(&t, 6, head);
    json_array_foreach(quotas, i, q)
    {
        const char *kind = str_or_dash(q, "kind"), *key = str_or_dash(q, "key");
        quota_row(&t, kind, "client", json_object_get(q, "client"), key);
        const json_t *tq = json_object_get(q, "tenant");
        if (json_is_object(tq))
            quota_row(&t, kind, "tenant", tq, key);
        if (n < sizeof owed)
            n += (size_t)snprintf(owed + n, sizeof owed - n, "%s%s %.0f ms", n ? ", " : "", kind,
                                  json_number_value(json_object_get(q, "owed_ms")));
    }
    cli_table_print(&t, stdout);
    cli_table_free(&t);
    printf("throttle owed now: %s\n", n ? owed : "-");
}

static void print_explain(const json_t *res, const char *unused)
{
    const char *tenant = json_string_value(json_object_get(res, "tenant"));
    printf("principal %s (%s%s), host %s\n\n", str_or_dash(res, "principal"),
           tenant ? "tenant " : "no tenant", tenant ? tenant : "", str_or_dash(res, "host"));
    if (json_object_get(res, "acls")) {
        print_acl_decisions(res);
        putchar('\n');
    }
    if (json_object_get(res, "quotas")) {
        print_quota_explanations(res);
        putchar('\n');
    }
    if (tenant && json_object_get(res, "tenant_limits")) {
        printf("Limits of tenant %s:\n", tenant);
        print_limits(json_object_get(res, "tenant_limits"));
    }
}

int cli_explain_main(cli_ctx *c, int argc, char **argv)
{
    enum {
        OPT_PRINCIPAL = 1,
        OPT_HOST,
        OPT_OPERATION,
        OPT_CLIENT,
        OPT_KIND,
    };
    static const struct option longopts[] = {
        {"principal", required_argument, NULL, OPT_PRINCIPAL},
        {"host", required_argument, NULL, OPT_HOST},
        {"operation", required_argument, NULL, OPT_OPERATION},
        {"client-id", required_argument, NULL, OPT_CLIENT},
        {"kind", required_argument, NULL, OPT_KIND},
        CLI_RESOURCE_LONGOPTS,
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    static const char *const arg_of[] = {[OPT_PRINCIPAL] = "principal",
                                         [OPT_HOST] = "host",
                                         [OPT_OPERATION] = "operation",
                                         [OPT_CLIENT] = "client_id",
                                         [OPT_KIND] = "kind"};
    json_t *args = json_object();
    const char *resource = NULL;
    int opt, rc = CLI_USAGE;
    c->prog = "strait explain";
    c->usage = usage_explain;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "", longopts)) != CLI_GETOPT_END) {
        switch (opt) {
        case CLI_GETOPT_HELP:
            rc = CLI_OK;
            goto out;
        case CLI_GETOPT_ERROR:
            goto out;
        case CLI_OPT_RES_TOPIC:
        case CLI_OPT_RES_GROUP:
        case CLI_OPT_RES_TXN:
        case CLI_OPT_RES_CLUSTER:
            if (cli_resource_opt(c, opt, optarg, args, &resource) != CLI_OK)
                goto out; /* rc is CLI_USAGE */
            break;
        default:
            json_object_set_new(args, arg_of[opt], json_string(optarg));
        }
    }
    if (optind < argc) {
        rc = cli_usage_error(c, "unexpected argument \"%s\" (everything is an option)",
                             argv[optind]);
        goto out;
    }
    if (!json_object_get(args, "principal")) {
        rc = cli_usage_error(c, "missing --principal (e.g. User:alice)");
        goto out;
    }
    if (json_object_get(args, "operation") && !resource) {
        rc = cli_usage_error(c, "--operation needs a resource: --topic, --group, "
                                "--transactional-id or --cluster");
        goto out;
    }
    return cli_run(c, "explain", args, print_explain, NULL);
out:
    json_decref(args);
    return rc;
}
