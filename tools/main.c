/*
 * strait: global options, then one command word picked from a table. Global options
 * may come before the command or anywhere after it (each command's parser accepts
 * them too), so `strait --json topics list` and `strait topics list --json` agree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"
#include "tools/cli_connect.h"

typedef struct cli_command {
    const char *name;
    int (*main)(cli_ctx *c, int argc, char **argv);
    const char *help;
} cli_command;

static const cli_command commands[] = {
    {"topics", cli_topics_main, "create, list, describe, alter and delete topics"},
    {"groups", cli_groups_main, "consumer groups: list, describe (lag), delete, reset offsets"},
    {"configs", cli_configs_main, "topic, broker and cluster-wide configs: describe, alter"},
    {"delete-records", cli_delete_records_main,
     "delete a topic's records before an offset or time"},
    {"logdirs", cli_logdirs_main, "log directories and the bytes each partition takes"},
    {"transactions", cli_transactions_main, "transactions: list, describe (coordinator state)"},
    {"status", cli_status_main, "the broker's node id, listener, uptime and counters"},
    {"produce", cli_produce_main, "send stdin to a topic, a line a record"},
    {"consume", cli_consume_main, "print a topic's records, a line a record"},
    {"perf", cli_perf_main, "measure a broker: produce, consume or end-to-end load"},
    {"tenants", cli_tenants_main, "tenants: create, list, describe, delete (prefix + ACLs)"},
    {"users", cli_users_main, "SASL users: add (SCRAM credentials), remove, list"},
    {"acls", cli_acls_main, "ACLs: add, remove, list"},
    {"quotas", cli_quotas_main, "quotas and tenant limits: set, remove, describe, usage"},
    {"explain", cli_explain_main, "why a request is denied or throttled (ACL, quota, limit)"},
    {"mirror", cli_mirror_main, "strait-mirror: flow status, pause, resume, failover, failback"},
    {"completion", cli_completion_main, "print a bash or zsh completion script"},
    {"connect", cli_connect_main, "Kafka Connect standalone: file source and sink connectors"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
    fputs("Usage: strait [global options] COMMAND [options]\n"
          "\n"
          "Administer a Strait broker (over its management endpoint) and produce or\n"
          "consume records (over the Kafka protocol).\n"
          "\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].help);
    fputs("  help CMD       the help of a command (same as CMD --help)\n\n", out);
    cli_print_global_options(out);
    fputs("\nExamples:\n"
          "  strait topics create orders --partitions 3 --config retention.ms=86400000\n"
          "  strait topics describe orders\n"
          "  strait status --json\n"
          "  printf 'k1:hello\\nk2:world\\n' | strait produce --topic orders --key-sep :\n"
          "  strait consume --topic orders --from-beginning --max-messages 2\n"
          "\n"
          "Run 'strait COMMAND --help' for a command's options.\n"
          "Exit status: 0 success, 1 the broker refused or could not be reached,\n"
          "2 bad usage.\n",
          out);
}

/* "topics, groups, ..." for messages, from the table. */
static const char *command_names(void)
{
    static char names[512];
    size_t at = 0;
    for (size_t i = 0; i < NCOMMANDS && at < sizeof names; i++)
        at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", i ? ", " : "",
                               commands[i].name);
    return names;
}

static const cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

/* Runs the command line in c (global options, then one command). */
static int run(cli_ctx *c, int argc, char **argv)
{
    static const struct option longopts[] = {CLI_GLOBAL_LONGOPTS, {0}};
    /* '+': stop at the command word; what follows belongs to the command. */
    cli_getopt_reset();
    for (;;) {
        int opt = cli_getopt(c, argc, argv, "+", longopts);
        if (opt == CLI_GETOPT_END)
            break;
        if (opt == CLI_GETOPT_HELP)
            return CLI_OK;
        if (opt == CLI_GETOPT_ERROR)
            return CLI_USAGE;
    }
    if (optind >= argc)
        return cli_usage_error(c, "no command given (one of: %s)", command_names());
    const char *word = argv[optind];
    char *help_argv[3];
    if (strcmp(word, "help") == 0) {
        if (optind + 1 >= argc) {
            usage(stdout);
            return CLI_OK;
        }
        /* "strait help topics create" → "strait topics create --help" */
        word = argv[optind + 1];
        int n = 0;
        help_argv[n++] = argv[optind + 1];
        if (optind + 2 < argc)
            help_argv[n++] = argv[optind + 2];
        help_argv[n++] = "--help";
        argc = n;
        argv = help_argv;
        optind = 0;
    }
    const cli_command *cmd = find_command(word);
    if (!cmd)
        return cli_usage_error(c, "unknown command \"%s\" (one of: %s)", word, command_names());
    return cmd->main(c, argc - optind, argv + optind);
}

int main(int argc, char **argv)
{
    cli_ctx c = {
        .prog = "strait",
        .mgmt_url = env_or("STRAIT_MGMT", CLI_DEFAULT_MGMT),
        .token = env_or("STRAIT_TOKEN", NULL),
        .data_dir = CLI_DEFAULT_DATA_DIR,
        .bootstrap = env_or("STRAIT_BOOTSTRAP", CLI_DEFAULT_BOOTSTRAP),
        .usage = usage,
        .mgmt_given = env_or("STRAIT_MGMT", NULL) != NULL,
        .bootstrap_given = env_or("STRAIT_BOOTSTRAP", NULL) != NULL,
    };
    int rc = run(&c, argc, argv);
    cli_profile_free(&c);
    return rc;
}
