/*
 * strait tenants | users | acls: thin wrappers over the broker's tenants.*, users.* and
 * acls.* management commands (broker/admin_security.c). The broker checks names, prefixes
 * and ACL fields and says what is wrong; here we shape the command line into the command's
 * arguments and print tables. The acls options follow Kafka's kafka-acls.sh.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tools/cli.h"

#define PASSWORD_ENV "STRAIT_USER_PASSWORD"

/* ---- usage texts ---- */

static void usage_tenants(FILE *out)
{
    fputs("Usage: strait tenants SUBCOMMAND [options]\n"
          "\n"
          "Tenants: a tenant owns every topic, group and transactional id starting with its\n"
          "prefix, through ACLs on the principal Tenant:NAME that its users share.\n"
          "\n"
          "Subcommands:\n"
          "  create NAME [--prefix P]  create a tenant owning prefix P (default \"NAME.\"):\n"
          "                            ALLOW ALL on PREFIXED P for topics, groups and\n"
          "                            transactional ids, and IDEMPOTENT_WRITE on the cluster;\n"
          "                            prefixes of two tenants may not overlap\n"
          "  list                      every tenant: prefix, users, topic and ACL counts\n"
          "  describe NAME             prefix, users, topics, and the ACLs of the tenant and\n"
          "                            of its users\n"
          "  delete NAME [--force]     delete the tenant, its ACLs and its users; refused\n"
          "                            while topics with its prefix exist, unless --force,\n"
          "                            which deletes them too\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExamples:\n"
          "  strait tenants create acme\n"
          "  strait tenants create bank --prefix bank_\n"
          "  strait tenants describe acme --json\n"
          "  strait tenants delete acme --force\n",
          out);
}

static void usage_users(FILE *out)
{
    fputs("Usage: strait users SUBCOMMAND [options]\n"
          "\n"
          "SASL users. The broker keeps only SCRAM credentials (salt, iterations and\n"
          "derived keys), never a password; PLAIN logins are checked against them.\n"
          "\n"
          "Subcommands:\n"
          "  add USER [--password P] [--tenant T] [--mechanism M] [--iterations N]\n"
          "        add the user or replace its password, for both SCRAM-SHA-256 and\n"
          "        SCRAM-SHA-512 unless --mechanism names one; --iterations 4096..16384\n"
          "        (default 4096); --tenant makes it a member of tenant T (a user belongs\n"
          "        to at most one tenant). Without --password the password is read from\n"
          "        $" PASSWORD_ENV " (which, unlike an argument, ps does not show).\n"
          "  remove USER [--mechanism M]\n"
          "        remove the user's credentials (only mechanism M's with --mechanism);\n"
          "        a user left without credentials also leaves its tenant\n"
          "  list  every user: mechanisms with iterations, and tenant\n\n",
          out);
    cli_print_global_options(out);
    fputs("\nExamples:\n"
          "  " PASSWORD_ENV "=s3cret strait users add alice --tenant acme\n"
          "  strait users remove alice --mechanism SCRAM-SHA-512\n"
          "  strait users list\n",
          out);
}

static void usage_acls(FILE *out)
{
    fputs("Usage: strait acls (add | remove | list) [options]\n"
          "\n"
          "Kafka ACLs: PRINCIPAL is ALLOWed (or DENIed) OPERATION on resources matching a\n"
          "pattern, from HOST. DENY wins over ALLOW. Managed through the Kafka admin API\n"
          "(CreateAcls, DescribeAcls, DeleteAcls) of any Kafka cluster, or with\n"
          "--via-mgmt through straitd's management endpoint.\n"
          "\n"
          "Options:\n"
          "  --principal P           User:alice, Tenant:acme, or User:* for everyone;\n"
          "                          add takes several (one ACL each)\n"
          "  --operation OP          ALL, READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE,\n"
          "                          CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS,\n"
          "                          IDEMPOTENT_WRITE; add takes several\n"
          "  --topic N | --group N | --transactional-id N | --cluster\n"
          "                          the resource (N \"*\": every one of the type)\n"
          "  --prefixed              N is a prefix (PREFIXED pattern) rather than a name\n"
          "  --deny                  a DENY rule (default ALLOW)\n"
          "  --allow                 (remove, list) only ALLOW rules\n"
          "  --host H                the client address (default \"*\": any host)\n"
          "  --via-mgmt              through straitd's management endpoint (needs only\n"
          "                          its token) instead of the Kafka admin API (needs a\n"
          "                          principal allowed to manage ACLs); also for\n"
          "                          --transactional-id, which librdkafka 2.0.2 cannot name\n"
          "\n"
          "add needs --principal, --operation and a resource, and adds one ACL for\n"
          "every principal and operation given. remove and list take the\n"
          "same options as a filter: what is not given matches anything (remove needs at\n"
          "least one); a resource name without --prefixed matches LITERAL rules for\n"
          "remove, and rules of any pattern with exactly that name for list.\n\n",
          out);
    cli_print_global_options(out);
    fputs(
        "\nExamples:\n"
        "  strait acls add --principal User:alice --operation READ --topic orders\n"
        "  strait acls add --principal User:alice --principal User:carol \\\n"
        "      --operation READ --operation DESCRIBE --group audit\n"
        "  strait acls add --principal User:bob --operation WRITE --topic acme. --prefixed --deny\n"
        "  strait acls list --principal Tenant:acme\n"
        "  strait acls remove --principal User:alice --topic orders\n",
        out);
}

/* ---- helpers ---- */

static const char *str_or_dash(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : "-";
}

/* Joins an array of strings (or of objects' `key` member) with ", " into buf; "-" when
 * empty. */
static const char *join(const json_t *arr, const char *key, char *buf, size_t len)
{
    size_t i, n = 0;
    json_t *v;
    buf[0] = '\0';
    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(key ? json_object_get(v, key) : v);
        if (s && n < len)
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", s);
    }
    return n ? buf : "-";
}

/* "SCRAM-SHA-256 (4096), SCRAM-SHA-512 (4096)" into buf; "-" when none. */
static const char *mechanisms_text(const json_t *user, char *buf, size_t len)
{
    size_t i, n = 0;
    json_t *m;
    buf[0] = '\0';
    json_array_foreach(json_object_get(user, "mechanisms"), i, m)
    {
        if (n < len)
            n += (size_t)snprintf(buf + n, len - n, "%s%s (%" JSON_INTEGER_FORMAT ")",
                                  n ? ", " : "", str_or_dash(m, "mechanism"),
                                  json_integer_value(json_object_get(m, "iterations")));
    }
    return n ? buf : "-";
}

static void print_acls(const json_t *acls, const char *none)
{
    static const char *const head[] = {"PRINCIPAL", "PERMISSION", "OPERATION", "RESOURCE-TYPE",
                                       "PATTERN",   "RESOURCE",   "HOST"};
    static const char *const keys[] = {"principal",     "permission",   "operation",
                                       "resource_type", "pattern_type", "resource_name",
                                       "host"};
    cli_table t;
    size_t i;
    json_t *v;
    if (json_array_size(acls) == 0) {
        puts(none);
        return;
    }
    cli_table_init(&t, 7, head);
    json_array_foreach(acls, i, v)
    {
        const char *row[7];
        for (size_t k = 0; k < 7; k++)
            row[k] = str_or_dash(v, keys[k]);
        cli_table_row(&t, row);
    }
    cli_table_print(&t, stdout);
    cli_table_free(&t);
}

static void print_users(const json_t *users, bool with_tenant)
{
    static const char *const head[] = {"USER", "MECHANISMS", "TENANT"};
    cli_table t;
    size_t i;
    json_t *v;
    char mechs[256];
    cli_table_init(&t, with_tenant ? 3 : 2, head);
    json_array_foreach(users, i, v)
    {
        const char *row[] = {str_or_dash(v, "user"), mechanisms_text(v, mechs, sizeof mechs),
                             str_or_dash(v, "tenant")};
        cli_table_row(&t, row);
    }
    cli_table_print(&t, stdout);
    cli_table_free(&t);
}

/*
 * The options of a subcommand taking one positional argument (`what`, e.g. "NAME") and
 * the long options in `longopts` (each with a value in 1..99, set into `args` under the
 * JSON key `keys[value]`; a no-argument option sets true). Returns -1 when the command line
 * is complete (*arg set), else the exit code (help shown or a usage error).
 */
static int parse_one(cli_ctx *c, int argc, char **argv, const struct option *longopts,
                     const char *const *keys, const char *what, const char **arg, json_t *args)
{
    int opt;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "", longopts)) != CLI_GETOPT_END) {
        if (opt == CLI_GETOPT_HELP)
            return CLI_OK;
        if (opt == CLI_GETOPT_ERROR)
            return CLI_USAGE;
        bool has_value = false;
        for (const struct option *o = longopts; o->name; o++)
            if (o->val == opt)
                has_value = o->has_arg != no_argument;
        json_object_set_new(args, keys[opt], has_value ? json_string(optarg) : json_true());
    }
    if (optind >= argc)
        return cli_usage_error(c, "missing the %s", what);
    if (optind + 1 < argc)
        return cli_usage_error(c, "unexpected argument \"%s\" (one %s at a time)", argv[optind + 1],
                               what);
    *arg = argv[optind];
    return -1;
}

/* Runs cmd with args (taken) and prints --json or calls print(result, name). */
/* ---- tenants ---- */

static void print_tenant(const json_t *d, const char *name)
{
    size_t i;
    json_t *v;
    printf("Tenant %s\n  prefix:    %s\n  principal: %s\n\n", str_or_dash(d, "name"),
           str_or_dash(d, "prefix"), str_or_dash(d, "principal"));
    const json_t *users = json_object_get(d, "users");
    if (json_array_size(users) == 0)
        puts("no users");
    else
        print_users(users, false);
    putchar('\n');
    const json_t *topics = json_object_get(d, "topics");
    if (json_array_size(topics) == 0) {
        puts("no topics");
    } else {
        static const char *const head[] = {"TOPIC", "PARTITIONS"};
        cli_table t;
        char n[24];
        cli_table_init(&t, 2, head);
        json_array_foreach(topics, i, v)
        {
            snprintf(n, sizeof n, "%" JSON_INTEGER_FORMAT,
                     json_integer_value(json_object_get(v, "partitions")));
            const char *row[] = {str_or_dash(v, "name"), n};
            cli_table_row(&t, row);
        }
        cli_table_print(&t, stdout);
        cli_table_free(&t);
    }
    putchar('\n');
    print_acls(json_object_get(d, "acls"), "no ACLs");
}

static void print_created(const json_t *d, const char *name)
{
    printf("created tenant %s with prefix \"%s\"\n\n", name, str_or_dash(d, "prefix"));
    print_acls(json_object_get(d, "acls"), "no ACLs");
}

static int tenants_create(cli_ctx *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"prefix", required_argument, NULL, 1}, CLI_GLOBAL_LONGOPTS, {0}};
    static const char *const keys[] = {NULL, "prefix"};
    const char *name = NULL;
    json_t *args = json_object();
    c->prog = "strait tenants create";
    int rc = parse_one(c, argc, argv, longopts, keys, "NAME", &name, args);
    if (rc >= 0) {
        json_decref(args);
        return rc;
    }
    json_object_set_new(args, "name", json_string(name));
    return cli_run(c, "tenants.create", args, print_created, name);
}

static void print_tenant_list(const json_t *res, const char *unused)
{
    static const char *const head[] = {"NAME", "PREFIX", "USERS", "TOPICS", "ACLS"};
    const json_t *tenants = json_object_get(res, "tenants");
    cli_table t;
    size_t i;
    json_t *v;
    char users[512], topics[24], acls[24];
    if (json_array_size(tenants) == 0) {
        puts("no tenants");
        return;
    }
    cli_table_init(&t, 5, head);
    json_array_foreach(tenants, i, v)
    {
        snprintf(topics, sizeof topics, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(v, "topics")));
        snprintf(acls, sizeof acls, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(v, "acls")));
        const char *row[] = {str_or_dash(v, "name"), str_or_dash(v, "prefix"),
                             join(json_object_get(v, "users"), NULL, users, sizeof users), topics,
                             acls};
        cli_table_row(&t, row);
    }
    cli_table_print(&t, stdout);
    cli_table_free(&t);
}

static int tenants_list(cli_ctx *c, int argc, char **argv)
{
    int rc;
    c->prog = "strait tenants list";
    if (cli_parse_simple(c, argc, argv, NULL, NULL, &rc))
        return rc;
    return cli_run(c, "tenants.list", NULL, print_tenant_list, NULL);
}

static int tenants_describe(cli_ctx *c, int argc, char **argv)
{
    const char *name = NULL;
    int rc;
    c->prog = "strait tenants describe";
    if (cli_parse_simple(c, argc, argv, "NAME", &name, &rc))
        return rc;
    return cli_run(c, "tenants.describe", json_pack("{s:s}", "name", name), print_tenant, name);
}

static void print_deleted(const json_t *res, const char *name)
{
    char topics[1024], users[1024];
    printf("deleted tenant %s: %" JSON_INTEGER_FORMAT " ACLs; topics: %s; users: %s\n", name,
           json_integer_value(json_object_get(res, "acls_removed")),
           join(json_object_get(res, "topics_deleted"), NULL, topics, sizeof topics),
           join(json_object_get(res, "users_removed"), NULL, users, sizeof users));
}

static int tenants_delete(cli_ctx *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"force", no_argument, NULL, 1}, CLI_GLOBAL_LONGOPTS, {0}};
    static const char *const keys[] = {NULL, "force"};
    const char *name = NULL;
    json_t *args = json_object();
    c->prog = "strait tenants delete";
    int rc = parse_one(c, argc, argv, longopts, keys, "NAME", &name, args);
    if (rc >= 0) {
        json_decref(args);
        return rc;
    }
    json_object_set_new(args, "name", json_string(name));
    return cli_run(c, "tenants.delete", args, print_deleted, name);
}

static const cli_subcommand tenant_cmds[] = {
    {"create", tenants_create},
    {"list", tenants_list},
    {"describe", tenants_describe},
    {"delete", tenants_delete},
};

int cli_tenants_main(cli_ctx *c, int argc, char **argv)
{
    c->prog = "strait tenants";
    c->usage = usage_tenants;
    return cli_dispatch(c, argc, argv, tenant_cmds, sizeof tenant_cmds / sizeof tenant_cmds[0],
                        "create, list, describe or delete");
}

/* ---- users ---- */

static void print_user_added(const json_t *u, const char *name)
{
    char mechs[256];
    const char *tenant = json_string_value(json_object_get(u, "tenant"));
    printf("user %s: %s%s%s\n", name, mechanisms_text(u, mechs, sizeof mechs),
           tenant ? "; tenant " : "", tenant ? tenant : "");
}

static int users_add(cli_ctx *c, int argc, char **argv)
{
    enum { OPT_PASSWORD = 1, OPT_TENANT, OPT_MECHANISM, OPT_ITERATIONS };
    static const struct option longopts[] = {
        {"password", required_argument, NULL, OPT_PASSWORD},
        {"tenant", required_argument, NULL, OPT_TENANT},
        {"mechanism", required_argument, NULL, OPT_MECHANISM},
        {"iterations", required_argument, NULL, OPT_ITERATIONS},
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    static const char *const keys[] = {NULL, "password", "tenant", "mechanism", "iterations"};
    const char *user = NULL;
    int64_t iterations;
    json_t *args = json_object();
    c->prog = "strait users add";
    int rc = parse_one(c, argc, argv, longopts, keys, "USER", &user, args);
    if (rc >= 0)
        goto out;
    rc = CLI_USAGE;
    const char *mech = json_string_value(json_object_get(args, "mechanism"));
    if (mech && strcmp(mech, "SCRAM-SHA-256") && strcmp(mech, "SCRAM-SHA-512")) {
        rc = cli_usage_error(c, "--mechanism \"%s\" must be SCRAM-SHA-256 or SCRAM-SHA-512", mech);
        goto out;
    }
    json_t *it = json_object_get(args, "iterations");
    if (it) {
        if (cli_parse_int(c, "--iterations", json_string_value(it), 4096, 16384, &iterations))
            goto out;
        json_object_set_new(args, "iterations", json_integer(iterations));
    }
    if (!json_object_get(args, "password")) {
        const char *env = getenv(PASSWORD_ENV);
        if (!env || !*env) {
            rc = cli_usage_error(c, "no password: set $%s (not shown by ps) or pass --password P",
                                 PASSWORD_ENV);
            goto out;
        }
        json_object_set_new(args, "password", json_string(env));
    }
    json_object_set_new(args, "user", json_string(user));
    rc = cli_run(c, "users.add", args, print_user_added, user);
    args = NULL;
out:
    json_decref(args);
    return rc;
}

static void print_user_removed(const json_t *res, const char *name)
{
    char mechs[256];
    const char *tenant = json_string_value(json_object_get(res, "left_tenant"));
    printf("user %s: removed %s%s%s\n", name,
           join(json_object_get(res, "removed_mechanisms"), NULL, mechs, sizeof mechs),
           tenant ? "; left tenant " : "", tenant ? tenant : "");
}

static int users_remove(cli_ctx *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"mechanism", required_argument, NULL, 1}, CLI_GLOBAL_LONGOPTS, {0}};
    static const char *const keys[] = {NULL, "mechanism"};
    const char *user = NULL;
    json_t *args = json_object();
    c->prog = "strait users remove";
    int rc = parse_one(c, argc, argv, longopts, keys, "USER", &user, args);
    if (rc >= 0) {
        json_decref(args);
        return rc;
    }
    const char *mech = json_string_value(json_object_get(args, "mechanism"));
    if (mech && strcmp(mech, "SCRAM-SHA-256") && strcmp(mech, "SCRAM-SHA-512")) {
        json_decref(args);
        return cli_usage_error(c, "--mechanism \"%s\" must be SCRAM-SHA-256 or SCRAM-SHA-512",
                               mech);
    }
    json_object_set_new(args, "user", json_string(user));
    return cli_run(c, "users.remove", args, print_user_removed, user);
}

static void print_user_list(const json_t *res, const char *unused)
{
    const json_t *users = json_object_get(res, "users");
    if (json_array_size(users) == 0)
        puts("no users");
    else
        print_users(users, true);
}

static int users_list(cli_ctx *c, int argc, char **argv)
{
    int rc;
    c->prog = "strait users list";
    if (cli_parse_simple(c, argc, argv, NULL, NULL, &rc))
        return rc;
    return cli_run(c, "users.list", NULL, print_user_list, NULL);
}

static const cli_subcommand user_cmds[] = {
    {"add", users_add},
    {"remove", users_remove},
    {"list", users_list},
};

int cli_users_main(cli_ctx *c, int argc, char **argv)
{
    c->prog = "strait users";
    c->usage = usage_users;
    return cli_dispatch(c, argc, argv, user_cmds, sizeof user_cmds / sizeof user_cmds[0],
                        "add, remove or list");
}

/* ---- acls ---- */

enum acl_mode { ACL_ADD, ACL_REMOVE, ACL_LIST };

static const char *const acl_operations[] = {
    "ALL",
    "READ",
    "WRITE",
    "CREATE",
    "DELETE",
    "ALTER",
    "DESCRIBE",
    "CLUSTER_ACTION",
    "DESCRIBE_CONFIGS",
    "ALTER_CONFIGS",
    "IDEMPOTENT_WRITE",
};

/* Checked here, so the message names the option rather than a field of the request. */
static int check_operation(const cli_ctx *c, const char *op)
{
    for (size_t i = 0; i < sizeof acl_operations / sizeof acl_operations[0]; i++)
        if (strcasecmp(op, acl_operations[i]) == 0)
            return CLI_OK;
    return cli_usage_error(c,
                           "--operation \"%s\" must be one of ALL, READ, WRITE, CREATE, DELETE, "
                           "ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, "
                           "IDEMPOTENT_WRITE",
                           op);
}

static int check_principal(const cli_ctx *c, const char *p)
{
    const char *colon = strchr(p, ':');
    if (!colon || colon == p || !colon[1])
        return cli_usage_error(c,
                               "--principal \"%s\": expected TYPE:NAME such as User:alice, "
                               "Tenant:acme or User:*",
                               p);
    return CLI_OK;
}

/* The acls options into args (a binding for add, a filter otherwise); for add, every
 * --principal and --operation into the lists. Returns -1 when complete, else the exit
 * code. */
static int parse_acl(cli_ctx *c, int argc, char **argv, enum acl_mode mode, json_t *args,
                     cli_list *principals, cli_list *operations, bool *via_mgmt)
{
    enum {
        OPT_PRINCIPAL = 1,
        OPT_OPERATION,
        OPT_PREFIXED,
        OPT_DENY,
        OPT_ALLOW,
        OPT_HOST,
        OPT_VIA_MGMT,
    };
    static const struct option longopts[] = {
        {"principal", required_argument, NULL, OPT_PRINCIPAL},
        {"operation", required_argument, NULL, OPT_OPERATION},
        {"prefixed", no_argument, NULL, OPT_PREFIXED},
        {"deny", no_argument, NULL, OPT_DENY},
        {"allow", no_argument, NULL, OPT_ALLOW},
        {"host", required_argument, NULL, OPT_HOST},
        {"via-mgmt", no_argument, NULL, OPT_VIA_MGMT},
        CLI_RESOURCE_LONGOPTS,
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    static const int lists[] = {OPT_PRINCIPAL, OPT_OPERATION, 0};
    const char *resource = NULL, *permission = NULL;
    bool prefixed = false;
    int opt;

    c->lists = mode == ACL_ADD ? lists : NULL; /* a filter names one of each */
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "", longopts)) != CLI_GETOPT_END) {
        switch (opt) {
        case CLI_GETOPT_HELP:
            return CLI_OK;
        case CLI_GETOPT_ERROR:
            return CLI_USAGE;
        case OPT_PRINCIPAL:
            if (check_principal(c, optarg))
                return CLI_USAGE;
            json_object_set_new(args, "principal", json_string(optarg));
            cli_list_add(principals, optarg);
            break;
        case OPT_OPERATION:
            if (check_operation(c, optarg))
                return CLI_USAGE;
            json_object_set_new(args, "operation", json_string(optarg));
            cli_list_add(operations, optarg);
            break;
        case OPT_HOST:
            json_object_set_new(args, "host", json_string(optarg));
            break;
        case OPT_PREFIXED:
            prefixed = true;
            break;
        case OPT_VIA_MGMT:
            *via_mgmt = true;
            break;
        case OPT_DENY:
        case OPT_ALLOW:
            if (opt == OPT_ALLOW && mode == ACL_ADD)
                return cli_usage_error(c, "--allow is the default of add; it filters only for "
                                          "remove and list");
            if (permission)
                return cli_usage_error(c, "give one of --allow or --deny");
            permission = opt == OPT_DENY ? "DENY" : "ALLOW";
            json_object_set_new(args, "permission", json_string(permission));
            break;
        default: /* a resource */
            if (cli_resource_opt(c, opt, optarg, args, &resource) != CLI_OK)
                return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error(c, "unexpected argument \"%s\" (everything is an option)",
                               argv[optind]);
    if (prefixed && (!resource || strcmp(resource, "CLUSTER") == 0))
        return cli_usage_error(c, "--prefixed needs --topic, --group or --transactional-id");
    if (prefixed)
        json_object_set_new(args, "pattern_type", json_string("PREFIXED"));
    else if (resource && mode == ACL_REMOVE)
        json_object_set_new(args, "pattern_type", json_string("LITERAL"));
    if (mode == ACL_ADD &&
        (!json_object_get(args, "principal") || !json_object_get(args, "operation") || !resource))
        return cli_usage_error(c, "add needs --principal, --operation and a resource (--topic, "
                                  "--group, --transactional-id or --cluster)");
    if (mode == ACL_REMOVE && json_object_size(args) == 0)
        return cli_usage_error(c, "remove needs at least one of --principal, --operation, a "
                                  "resource, --host, --allow or --deny");
    return -1;
}

static void describe_acl(const json_t *a, char *buf, size_t len)
{
    snprintf(buf, len, "%s %s %s on %s %s \"%s\" from host %s", str_or_dash(a, "permission"),
             str_or_dash(a, "principal"), str_or_dash(a, "operation"),
             str_or_dash(a, "resource_type"), str_or_dash(a, "pattern_type"),
             str_or_dash(a, "resource_name"), str_or_dash(a, "host"));
}

static void print_acl_added(const json_t *res, const char *unused)
{
    char text[1024];
    describe_acl(json_object_get(res, "acl"), text, sizeof text);
    printf("%s: %s\n", json_is_true(json_object_get(res, "created")) ? "added" : "already present",
           text);
}

static void print_acl_removed(const json_t *res, const char *unused)
{
    json_int_t n = json_integer_value(json_object_get(res, "count"));
    printf("removed %" JSON_INTEGER_FORMAT " ACL%s\n", n, n == 1 ? "" : "s");
    if (n > 0) {
        putchar('\n');
        print_acls(json_object_get(res, "removed"), "");
    }
}

static void print_acl_list(const json_t *res, const char *unused)
{
    print_acls(json_object_get(res, "acls"), "no ACLs match");
}

/* acls add: one ACL for every (principal, operation) pair, each answered on its own
 * line (or, with --json, an array of the answers). */
static int acls_add_all(cli_ctx *c, json_t *args, const cli_list *principals,
                        const cli_list *operations)
{
    int rc = CLI_OK;
    json_t *all = json_array();
    for (size_t p = 0; p < principals->n; p++)
        for (size_t o = 0; o < operations->n; o++) {
            json_t *one = json_deep_copy(args);
            json_object_set_new(one, "principal", json_string(principals->v[p]));
            json_object_set_new(one, "operation", json_string(operations->v[o]));
            json_t *res = cli_admin(c, "acls.add", one);
            if (!res) {
                rc = CLI_FAIL;
                continue;
            }
            if (c->json)
                json_array_append(all, res);
            else
                print_acl_added(res, NULL);
            json_decref(res);
        }
    if (c->json)
        cli_print_json(principals->n * operations->n == 1 ? json_array_get(all, 0) : all);
    json_decref(all);
    json_decref(args);
    return rc;
}

static int acls_run(cli_ctx *c, int argc, char **argv, enum acl_mode mode)
{
    static const char *const progs[] = {"strait acls add", "strait acls remove",
                                        "strait acls list"};
    static const char *const cmds[] = {"acls.add", "acls.remove", "acls.list"};
    static cli_print_fn *const printers[] = {print_acl_added, print_acl_removed, print_acl_list};
    json_t *args = json_object();
    cli_list principals = {0}, operations = {0};
    bool via_mgmt = false;
    c->prog = progs[mode];
    int rc = parse_acl(c, argc, argv, mode, args, &principals, &operations, &via_mgmt);
    if (rc >= 0)
        json_decref(args);
    else if (!via_mgmt)
        rc = cli_acls_kafka(c, mode, args, &principals, &operations);
    else if (mode == ACL_ADD)
        rc = acls_add_all(c, args, &principals, &operations);
    else
        rc = cli_run(c, cmds[mode], args, printers[mode], NULL);
    cli_list_free(&principals);
    cli_list_free(&operations);
    return rc;
}

static int acls_add(cli_ctx *c, int argc, char **argv)
{
    return acls_run(c, argc, argv, ACL_ADD);
}

static int acls_remove(cli_ctx *c, int argc, char **argv)
{
    return acls_run(c, argc, argv, ACL_REMOVE);
}

static int acls_list(cli_ctx *c, int argc, char **argv)
{
    return acls_run(c, argc, argv, ACL_LIST);
}

static const cli_subcommand acl_cmds[] = {
    {"add", acls_add},
    {"remove", acls_remove},
    {"list", acls_list},
};

int cli_acls_main(cli_ctx *c, int argc, char **argv)
{
    c->prog = "strait acls";
    c->usage = usage_acls;
    return cli_dispatch(c, argc, argv, acl_cmds, sizeof acl_cmds / sizeof acl_cmds[0],
                        "add, remove or list");
}
