/*
 * strait: the command-line tool. main.c parses the global options and picks a command;
 * each command family lives in its own file (cli_topics.c, cli_status.c,
 * cli_produce.c, cli_consume.c) and shares the helpers declared here: option parsing
 * that also accepts the global options after the command, the management call, table
 * printing (cli.c), and librdkafka set-up (cli_kafka.c).
 *
 * Exit codes: 0 success, 1 the broker or the network said no, 2 the command line was
 * wrong (the message says what and points at --help).
 */
#ifndef ST_CLI_H
#define ST_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

#define CLI_DEFAULT_MGMT      "tcp://127.0.0.1:9192"
#define CLI_DEFAULT_BOOTSTRAP "127.0.0.1:9092"
#define CLI_DEFAULT_DATA_DIR  "./data"
#define CLI_MGMT_TIMEOUT_MS   5000

/* A growable list of strings (repeated options: --config, -X). Owns its copies. */
typedef struct cli_list {
    char **v;
    size_t n;
} cli_list;

/* What every command sees. Strings borrow from argv, the environment or the profile. */
typedef struct cli_ctx {
    const char *prog;         /* "strait topics create": prefixes usage errors */
    const char *mgmt_url;     /* --mgmt, STRAIT_MGMT, the profile's strait.mgmt */
    const char *token;        /* --token, STRAIT_TOKEN; NULL → read from data_dir */
    const char *data_dir;     /* --data-dir */
    const char *bootstrap;    /* --bootstrap, STRAIT_BOOTSTRAP, the profile's */
    bool json;                /* --json */
    void (*usage)(FILE *out); /* the current command's --help text */
    /* Flag discipline: options (getopt values) a command lets repeat, 0-terminated; any
     * other option with a value given twice is a usage error (cli_getopt). */
    const int *lists;
    uint8_t seen[512]; /* bitmap of option values seen in the current parse */
    /* Connection profile (cli_profile.c): set by --command-config / --profile. */
    const char *command_config;       /* the file, or NULL for the default place */
    const char *profile;              /* the profile's name, or NULL for the selected one */
    bool mgmt_given, bootstrap_given; /* on the command line or in the environment */
    cli_list kafka_props;             /* the profile's Kafka client properties ("name=value") */
    cli_list profile_keep;            /* storage behind strings taken from the profile */
    bool profile_loaded;
    int profile_status; /* what cli_profile_load returned */
} cli_ctx;

/* Values getopt_long returns for the global options (above any short option char). */
enum {
    CLI_OPT_MGMT = 1000,
    CLI_OPT_TOKEN,
    CLI_OPT_DATA_DIR,
    CLI_OPT_BOOTSTRAP,
    CLI_OPT_JSON,
    CLI_OPT_COMMAND_CONFIG,
    CLI_OPT_PROFILE,
    CLI_OPT_VERSION,
};

/* The global options, to end each command's struct option array (before the zero row). */
#define CLI_GLOBAL_LONGOPTS                                                                        \
    {"mgmt", required_argument, NULL, CLI_OPT_MGMT},                                               \
        {"token", required_argument, NULL, CLI_OPT_TOKEN},                                         \
        {"data-dir", required_argument, NULL, CLI_OPT_DATA_DIR},                                   \
        {"bootstrap", required_argument, NULL, CLI_OPT_BOOTSTRAP},                                 \
        {"json", no_argument, NULL, CLI_OPT_JSON},                                                 \
        {"command-config", required_argument, NULL, CLI_OPT_COMMAND_CONFIG},                       \
        {"profile", required_argument, NULL, CLI_OPT_PROFILE},                                     \
        {"version", no_argument, NULL, CLI_OPT_VERSION},                                           \
    {                                                                                              \
        "help", no_argument, NULL, 'h'                                                             \
    }

/* An ACL resource named on the command line (strait acls, strait explain):
 * --topic NAME | --group NAME | --transactional-id NAME | --cluster. */
enum { CLI_OPT_RES_TOPIC = 1100, CLI_OPT_RES_GROUP, CLI_OPT_RES_TXN, CLI_OPT_RES_CLUSTER };
#define CLI_RESOURCE_LONGOPTS                                                                      \
    {"topic", required_argument, NULL, CLI_OPT_RES_TOPIC},                                         \
        {"group", required_argument, NULL, CLI_OPT_RES_GROUP},                                     \
        {"transactional-id", required_argument, NULL, CLI_OPT_RES_TXN},                            \
    {                                                                                              \
        "cluster", no_argument, NULL, CLI_OPT_RES_CLUSTER                                          \
    }
/* For a CLI_OPT_RES_* option (arg its optarg): sets resource_type and resource_name in
 * args and *resource (start NULL). A second resource is a usage error (CLI_USAGE, message
 * printed); else CLI_OK. */
int cli_resource_opt(const cli_ctx *c, int opt, const char *arg, json_t *args,
                     const char **resource);

/* What cli_getopt returns besides an option's value. HELP also stands for --version
 * (printed; exit 0). */
enum { CLI_GETOPT_END = -1, CLI_GETOPT_ERROR = -2, CLI_GETOPT_HELP = -3 };

/*
 * getopt_long over argv[1..] (argv[0] is the command word) that handles the global
 * options and -h/--help itself. Returns the next command option's value, or
 * CLI_GETOPT_END (positional arguments are then argv[optind..]), CLI_GETOPT_HELP
 * (usage printed to stdout: exit 0), or CLI_GETOPT_ERROR (message printed: exit 2).
 * shortopts may start with '+' (stop at the first word), not ':'; call cli_getopt_reset first.
 */
int cli_getopt(cli_ctx *c, int argc, char **argv, const char *shortopts,
               const struct option *longopts);
void cli_getopt_reset(void);

/* Prints "PROG: <message>\nRun 'PROG --help' for usage.\n" to stderr; returns CLI_USAGE. */
int cli_usage_error(const cli_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses the command line of a subcommand with no options of its own. With `what`
 * (e.g. "GROUP") it takes exactly one positional argument into *arg; with NULL, none.
 * Returns true if the command is done (help shown or a usage error: "missing the
 * GROUP"), with *exit_code set. */
bool cli_parse_simple(cli_ctx *c, int argc, char **argv, const char *what, const char **arg,
                      int *exit_code);
/* Parses the options of a command taking NAME... or --regex RE (topics and groups
 * describe/delete): *regex is set when given, the names are argv[optind..]. CLI_OK,
 * CLI_GETOPT_HELP (help shown) or CLI_USAGE (message printed). */
int cli_parse_regex_opt(cli_ctx *c, int argc, char **argv, const char **regex);
/* A command family's subcommands ("topics create", "groups list", ...). */
typedef struct cli_subcommand {
    const char *name;
    int (*fn)(cli_ctx *c, int argc, char **argv);
} cli_subcommand;
/* Takes the global options that may stand before the subcommand word, then runs the
 * named one from the table (n entries) with argv starting at its name. Missing or
 * unknown words are usage errors listing `names` ("create, list or delete"). */
int cli_dispatch(cli_ctx *c, int argc, char **argv, const cli_subcommand *table, size_t n,
                 const char *names);
/* Prints "strait: <message>" to stderr; returns CLI_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses text as an integer in [min, max] for option `opt`; on error prints a usage
 * error and returns -1. */
int cli_parse_int(const cli_ctx *c, const char *opt, const char *text, int64_t min, int64_t max,
                  int64_t *out);

/* ---- text (cli_text.c) ---- */

/* Resolves \n \t \r \0 \\ \xHH in an argument (--key-sep '\t'): out gets the bytes
 * (NUL-terminated; *len excludes the terminator, and may count NULs inside). 0, or -1 with
 * why. */
int cli_unescape(const char *in, char *out, size_t cap, size_t *len, char *why, size_t whylen);
/* Writes bytes with every unprintable one escaped (\n \t \r \0 \\ \xHH): C0 and C1
 * controls, DEL, bytes that are not UTF-8; other UTF-8 text is written as it is. */
void cli_write_escaped(FILE *out, const void *data, size_t len);
/* The same for a name or message shown to a person (a group id, a client id, an error):
 * what a terminal would act on is escaped, but a backslash stays one. cli_safe returns
 * the escaped copy (caller frees). Table cells (cli_table_row) and cli_fail /
 * cli_usage_error messages go through it; so must any other text from the cluster. */
void cli_write_safe(FILE *out, const char *text);
char *cli_safe(const char *text);
bool cli_is_utf8(const void *data, size_t len);
/* A point in time: epoch milliseconds, ISO 8601 (2026-11-21T10:00:00[.123][Z|+01:00];
 * no zone means UTC; a date alone is its midnight), or "-DURATION" (before now_ms).
 * 0, or -1 if text is none of these. */
int cli_parse_time(const char *text, int64_t now_ms, int64_t *ms);
/* A duration: "1h30m", "15m", "90s", "500ms", "2d", or Kafka's ISO form "PT1H30M",
 * "P1DT2H". 0, or -1. */
int cli_parse_duration(const char *text, int64_t *ms);

/* ---- printing records (cli_record.c) ---- */
typedef struct cli_format cli_format;
/* Parses a format string (directives in cli_record.c); NULL with why. raw: print keys,
 * values and headers unescaped. Free with cli_format_free. */
cli_format *cli_format_new(const char *spec, bool raw, char *why, size_t whylen);
void cli_format_free(cli_format *f);
void cli_format_print(const cli_format *f, FILE *out, const rd_kafka_message_t *m);
/* One compact JSON object and a newline: topic, partition, offset, timestamp,
 * timestamp_type, key / key_base64, key_length, value / value_base64, value_length,
 * headers [{key, value}]. */
void cli_record_json(FILE *out, const rd_kafka_message_t *m);

/* "strait 0.1.0 (librdkafka 2.0.2)" on stdout. */
void cli_print_version(void);

/* ---- connection profiles (cli_profile.c) ---- */

/* Loads the selected profile (--command-config/--profile, $STRAIT_CONFIG/$STRAIT_PROFILE,
 * else ~/.config/strait/config if it exists) into c: its Kafka properties, and bootstrap,
 * mgmt url, token where the command line and environment gave none. CLI_OK, CLI_USAGE
 * for a named profile or file that is missing, CLI_FAIL (reported) for a bad file. */
int cli_profile_load(cli_ctx *c);
void cli_profile_free(cli_ctx *c);

/* The global options' help lines, for every command's usage text. */
void cli_print_global_options(FILE *out);

/*
 * Runs a management command. Takes ownership of args (may be NULL). Returns the result
 * (new reference), or NULL after printing "strait: <why>" to stderr.
 */
json_t *cli_admin(cli_ctx *c, const char *cmd, json_t *args);

/* cli_admin, then shows the result: the raw JSON with --json, else print(res, arg) (arg
 * is the caller's, e.g. the name the command was about). CLI_OK, or CLI_FAIL with the
 * error printed by cli_admin. */
typedef void cli_print_fn(const json_t *res, const char *arg);
int cli_run(cli_ctx *c, const char *cmd, json_t *args, cli_print_fn *print, const char *arg);
/* Prints a JSON value indented, for --json. */
void cli_print_json(const json_t *v);

int cli_list_add(cli_list *l, const char *s);
void cli_list_free(cli_list *l);
/* Splits "name=value" at the first '='. Returns -1 (nothing set) if there is none or
 * the name is empty. *name is a new string; *value points into it. */
int cli_split_kv(const char *s, char **name, const char **value);

/* A text table: left-aligned columns sized to their widest cell. */
#define CLI_TABLE_MAX_COLS 8
typedef struct cli_table {
    size_t ncols;
    char **cells; /* rows × ncols, owned */
    size_t nrows;
} cli_table;
void cli_table_init(cli_table *t, size_t ncols, const char *const *headers);
/* Adds a row of ncols cells (copied). */
void cli_table_row(cli_table *t, const char *const *cells);
void cli_table_print(const cli_table *t, FILE *out);
void cli_table_free(cli_table *t);
/* "512 B", "10.0 KiB", "1.5 GiB" into buf. */
const char *cli_human_bytes(int64_t bytes, char *buf, size_t len);

/* ---- librdkafka (cli_kafka.c) ---- */

/* The -X help lines shared by produce and consume. */
void cli_print_kafka_options(FILE *out);
/* Checks one -X argument ("prop=val") and adds it; usage error (-1) if malformed. */
int cli_kafka_prop_add(const cli_ctx *c, cli_list *props, const char *arg);
/* A config with bootstrap.servers, client.id, quiet logging to stderr, the given
 * defaults ({name, value} pairs, NULL-terminated), the profile's properties, and then the
 * -X properties (which win).
 * Returns a new conf, or NULL after printing what was rejected. */
rd_kafka_conf_t *cli_kafka_conf(cli_ctx *c, const char *const *defaults, const cli_list *props);
/* True if the -X list (props, may be NULL), else the profile, sets a security.protocol
 * other than plaintext. */
bool cli_kafka_secured(cli_ctx *c, const cli_list *props);
/*
 * Asks the first reachable bootstrap broker for its ApiVersions. Returns 1 if it
 * serves every key in keys, 0 if not (*missing is the first absent key), -1 if no
 * broker answered (err says why). Plaintext only.
 */
int cli_broker_supports(const char *bootstrap, const int16_t *keys, size_t nkeys, int16_t *missing,
                        char *err, size_t errlen);

/* ---- the Kafka admin client (cli_kadmin.c) ---- */

#define CLI_KADMIN_TIMEOUT_MS 30000

typedef struct cli_kadmin {
    cli_ctx *c;
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
    bool unreachable; /* librdkafka said every broker is down */
    bool reported;    /* ... and that was said to the user */
} cli_kadmin;

/* A client over the profile and --bootstrap. CLI_OK, or CLI_FAIL (reported). */
int cli_kadmin_open(cli_ctx *c, cli_kadmin *a);
void cli_kadmin_close(cli_kadmin *a);
/* Options for one admin call with strait's request timeout; the caller destroys them. */
rd_kafka_AdminOptions_t *cli_kadmin_options(cli_kadmin *a, rd_kafka_admin_op_t op);
/* The result of the call just made (caller destroys it), or NULL after reporting a
 * timeout or a request-level error prefixed with `what`. */
rd_kafka_event_t *cli_kadmin_wait(cli_kadmin *a, rd_kafka_event_type_t type, const char *what);
/* Metadata of one topic, or of all (topic NULL); NULL after reporting. Caller frees it
 * with rd_kafka_metadata_destroy. */
const struct rd_kafka_metadata *cli_kadmin_metadata(cli_kadmin *a, const char *topic);
/* CLI_OK if the metadata lists broker `id` (its decimal text); else CLI_FAIL, reported
 * (unless quiet) as "there is no broker ID in the cluster (its brokers: ...)". */
int cli_kadmin_check_broker(const struct rd_kafka_metadata *md, const char *id, bool quiet);
/* Reports a topic's metadata error and returns CLI_FAIL: an unknown topic as "topic T
 * does not exist (strait topics list shows the topics)", another error by its
 * description. */
int cli_kadmin_topic_error(const char *topic, rd_kafka_resp_err_t err);
/* A partition's log start and end offsets. CLI_OK or CLI_FAIL (reported). */
int cli_kadmin_watermarks(cli_kadmin *a, const char *topic, int32_t partition, int64_t *low,
                          int64_t *high);
/* Parses "TOPIC" or "TOPIC:P,P,...": *topic (new string), *parts (new array, NULL for
 * "every partition") with *nparts. CLI_OK or CLI_USAGE (reported). */
int cli_topic_partitions_arg(const cli_ctx *c, const char *text, char **topic, int32_t **parts,
                             size_t *nparts);

/*
 * One request to one broker over a plain socket (request header v1, a non-flexible
 * version), for the admin calls librdkafka 2.0.2 does not have (DescribeLogDirs). The
 * answer's body (after the correlation id) is a new buffer in *resp. 0, or -1 with err.
 * Plaintext only; the caller refuses secured profiles.
 */
int cli_raw_call(const char *host, int port, int16_t key, int16_t version, const uint8_t *body,
                 size_t len, uint8_t **resp, size_t *resp_len, char *err, size_t errlen);
/* The same for a flexible version (request header v2; the answer's header tagged fields
 * are skipped): DescribeTransactions, ListTransactions (cli_txn.c). */
int cli_raw_call_flex(const char *host, int port, int16_t key, int16_t version, const uint8_t *body,
                      size_t len, uint8_t **resp, size_t *resp_len, char *err, size_t errlen);

/* A bounds-checked reader over a raw call's answer (cli_kafka.c): a read past the end
 * sets bad and yields 0, NULL or ""; check bad once after reading. */
typedef struct cli_rd {
    const uint8_t *p, *end;
    bool bad;
} cli_rd;
int64_t cli_rd_int(cli_rd *r, int bytes); /* a signed 1-, 2-, 4- or 8-byte integer */
uint64_t cli_rd_uvarint(cli_rd *r);
int64_t cli_rd_count(cli_rd *r); /* a compact array's length, -1 for null */
/* A (NULLABLE_)STRING as a new string, NULL for null, past the end or out of memory. */
char *cli_rd_str(cli_rd *r);
/* A COMPACT_(NULLABLE_)STRING as a new string, "" for null (NULL out of memory). */
char *cli_rd_cstr(cli_rd *r);
void cli_rd_skip_tags(cli_rd *r);

/* A topic's configs as a JSON array of {name, value, source, override} (cli_configs.c).
 * CLI_OK or CLI_FAIL (reported); *out is set either way (caller decrefs). */
int cli_configs_topic(cli_kadmin *a, const char *topic, json_t **out);
/* Sets (NAME=VALUE) and deletes (NAME) overrides of a topic, keeping the others. */
int cli_configs_change_topic(cli_kadmin *a, const char *topic, const cli_list *sets,
                             const cli_list *dels);
/* Every partition's size on disk from each broker's DescribeLogDirs (cli_logdirs.c):
 * appends {broker, dir, size_bytes, partitions: [{topic, partition, size_bytes, ...}]}
 * to dirs. topics/brokers NULL or empty: all. CLI_OK, or CLI_FAIL (reported unless
 * quiet). Plaintext only: with a secured profile it reports (unless quiet) and fails. */
int cli_logdirs_collect(cli_kadmin *a, const struct rd_kafka_metadata *md, const cli_list *topics,
                        const cli_list *brokers, bool quiet, json_t *dirs);

/* ---- commands ---- */
int cli_topics_main(cli_ctx *c, int argc, char **argv);
int cli_groups_main(cli_ctx *c, int argc, char **argv);
int cli_status_main(cli_ctx *c, int argc, char **argv);
int cli_produce_main(cli_ctx *c, int argc, char **argv);
int cli_consume_main(cli_ctx *c, int argc, char **argv);
int cli_perf_main(cli_ctx *c, int argc, char **argv);
int cli_tenants_main(cli_ctx *c, int argc, char **argv);
int cli_users_main(cli_ctx *c, int argc, char **argv);
int cli_acls_main(cli_ctx *c, int argc, char **argv);
int cli_quotas_main(cli_ctx *c, int argc, char **argv);
int cli_explain_main(cli_ctx *c, int argc, char **argv);
int cli_mirror_main(cli_ctx *c, int argc, char **argv);
int cli_completion_main(cli_ctx *c, int argc, char **argv);
int cli_configs_main(cli_ctx *c, int argc, char **argv);
int cli_delete_records_main(cli_ctx *c, int argc, char **argv);
int cli_logdirs_main(cli_ctx *c, int argc, char **argv);
int cli_transactions_main(cli_ctx *c, int argc, char **argv);
/* acls add (mode 0), remove (1) or list (2) over the Kafka admin API (cli_acls_kafka.c):
 * args as the management endpoint takes them (taken); for add, every principal with every
 * operation. */
int cli_acls_kafka(cli_ctx *c, int mode, json_t *args, const cli_list *principals,
                   const cli_list *operations);

#endif
