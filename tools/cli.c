/* Helpers every strait command shares: options, errors, the management call, tables. */
#include "tools/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/mgmt.h"

void cli_getopt_reset(void)
{
    optind = 0; /* 0, not 1: makes glibc re-initialise its permutation state */
    opterr = 0; /* we word the messages ourselves */
}

/* Writes the formatted message to stderr with what a terminal would act on escaped: a
 * message may quote a name from the cluster or the command line (cli_write_safe). */
static void write_message(const char *fmt, va_list ap)
{
    char *text = NULL;
    if (vasprintf(&text, fmt, ap) < 0)
        abort(); /* out of memory */
    cli_write_safe(stderr, text);
    free(text);
}

int cli_usage_error(const cli_ctx *c, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", c->prog);
    va_start(ap, fmt);
    write_message(fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun '%s --help' for usage.\n", c->prog);
    return CLI_USAGE;
}

int cli_run(cli_ctx *c, const char *cmd, json_t *args, cli_print_fn *print, const char *arg)
{
    json_t *res = cli_admin(c, cmd, args);
    if (!res)
        return CLI_FAIL;
    if (c->json)
        cli_print_json(res);
    else
        print(res, arg);
    json_decref(res);
    return CLI_OK;
}

int cli_resource_opt(const cli_ctx *c, int opt, const char *arg, json_t *args,
                     const char **resource)
{
    static const char *const types[] = {"TOPIC", "GROUP", "TRANSACTIONAL_ID", "CLUSTER"};
    const char *type = types[opt - CLI_OPT_RES_TOPIC];
    if (*resource)
        return cli_usage_error(c,
                               "give one resource: --topic, --group, --transactional-id or "
                               "--cluster (got %s and %s)",
                               *resource, type);
    *resource = type;
    json_object_set_new(args, "resource_type", json_string(type));
    json_object_set_new(args, "resource_name",
                        json_string(opt == CLI_OPT_RES_CLUSTER ? "kafka-cluster" : arg));
    return CLI_OK;
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("strait: ", stderr);
    va_start(ap, fmt);
    write_message(fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_FAIL;
}

/* "--topic" (or "-t" for a short-only option) for option value opt. */
static void option_name(int opt, const struct option *longopts, char *out, size_t cap)
{
    for (const struct option *o = longopts; o->name; o++)
        if (o->val == opt && !o->flag) {
            snprintf(out, cap, "--%s", o->name);
            return;
        }
    snprintf(out, cap, "-%c", opt);
}

/* Does option value opt take a value (so that giving it twice means something)? */
static bool takes_value(int opt, const char *shortopts, const struct option *longopts)
{
    for (const struct option *o = longopts; o->name; o++)
        if (o->val == opt && !o->flag)
            return o->has_arg == required_argument;
    const char *at = opt > 0 && opt < 256 ? strchr(shortopts, opt) : NULL;
    return at && at[1] == ':';
}

/* Flag discipline: a value-taking option given a second time is a usage error unless
 * the command lists it in c->lists (it accumulates). Booleans may repeat. */
static bool repeated(cli_ctx *c, int opt, const char *shortopts, const struct option *longopts)
{
    if (opt < 0 || (size_t)opt >= sizeof c->seen * 8 || !takes_value(opt, shortopts, longopts))
        return false;
    for (const int *l = c->lists; l && *l; l++)
        if (*l == opt)
            return false;
    uint8_t bit = (uint8_t)(1u << (opt % 8));
    if (c->seen[opt / 8] & bit) {
        char name[64];
        option_name(opt, longopts, name, sizeof name);
        cli_usage_error(c, "%s is given twice: give it once", name);
        return true;
    }
    c->seen[opt / 8] |= bit;
    return false;
}

void cli_print_version(void)
{
    printf("strait %s (librdkafka %s)\n", ST_VERSION, rd_kafka_version_str());
}

int cli_getopt(cli_ctx *c, int argc, char **argv, const char *shortopts,
               const struct option *longopts)
{
    char spec[64];
    /* ':' first (after a '+' that stops at the first word): a missing value comes
     * back as ':' rather than '?' */
    bool stop_at_word = shortopts[0] == '+';
    snprintf(spec, sizeof(spec), "%s:%sh", stop_at_word ? "+" : "", shortopts + stop_at_word);
    for (;;) {
        int opt = getopt_long(argc, argv, spec, longopts, NULL);
        const char *bad = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
        if (opt >= 0 && repeated(c, opt, spec, longopts))
            return CLI_GETOPT_ERROR;
        switch (opt) {
        case -1:
            return CLI_GETOPT_END;
        case 'h':
            c->usage(stdout);
            return CLI_GETOPT_HELP;
        case CLI_OPT_VERSION:
            cli_print_version();
            return CLI_GETOPT_HELP;
        case CLI_OPT_MGMT:
            c->mgmt_url = optarg;
            c->mgmt_given = true;
            continue;
        case CLI_OPT_TOKEN:
            c->token = optarg;
            continue;
        case CLI_OPT_DATA_DIR:
            c->data_dir = optarg;
            continue;
        case CLI_OPT_BOOTSTRAP:
            c->bootstrap = optarg;
            c->bootstrap_given = true;
            continue;
        case CLI_OPT_COMMAND_CONFIG:
            c->command_config = optarg;
            continue;
        case CLI_OPT_PROFILE:
            c->profile = optarg;
            continue;
        case CLI_OPT_JSON:
            c->json = true;
            continue;
        case ':':
            cli_usage_error(c, "option %s needs a value", bad);
            return CLI_GETOPT_ERROR;
        case '?':
            if (optopt && optopt < 256)
                cli_usage_error(c, "unknown option -%c", optopt);
            else if (optopt)
                cli_usage_error(c, "option %s takes no value", bad);
            else
                cli_usage_error(c, "unknown option %s", bad);
            return CLI_GETOPT_ERROR;
        default:
            return opt;
        }
    }
}

int cli_parse_int(const cli_ctx *c, const char *opt, const char *text, int64_t min, int64_t max,
                  int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || errno == ERANGE) {
        cli_usage_error(c, "%s: \"%s\" is not a whole number", opt, text);
        return -1;
    }
    if (v < min || v > max) {
        cli_usage_error(c, "%s: %lld is out of range (%lld..%lld)", opt, v, (long long)min,
                        (long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

void cli_print_global_options(FILE *out)
{
    fputs("Global options (before or after the command):\n"
          "  --bootstrap H:P    Kafka listener(s), comma-separated [$STRAIT_BOOTSTRAP,\n"
          "                     else the profile's bootstrap.servers, else\n"
          "                     " CLI_DEFAULT_BOOTSTRAP "]\n"
          "  --command-config F a connection profile file: Kafka client properties\n"
          "                     (SASL, TLS, ...) in named [sections] [$STRAIT_CONFIG,\n"
          "                     else ~/.config/strait/config if it exists]\n"
          "  --profile NAME     the profile to use from that file [$STRAIT_PROFILE, else\n"
          "                     the file's \"profile = NAME\" line, else \"default\"]\n"
          "  --mgmt URL         straitd's management endpoint, for Strait-only commands\n"
          "                     [$STRAIT_MGMT, else the profile's strait.mgmt, else\n"
          "                     " CLI_DEFAULT_MGMT "]\n"
          "  --token T          management token [$STRAIT_TOKEN, else the profile's\n"
          "                     strait.token, else read from <data-dir>/meta/mgmt.token]\n"
          "  --data-dir D       the broker's data directory, to find the token "
          "[" CLI_DEFAULT_DATA_DIR "]\n"
          "  --json             machine-readable output\n"
          "  --version          the version, then exit\n"
          "  -h, --help         this help\n",
          out);
}

/* The token from --token / STRAIT_TOKEN, else the broker's token file. Prints why not
 * and returns NULL when there is none. */
static const char *find_token(const cli_ctx *c, char *buf, size_t len)
{
    if (c->token && *c->token)
        return c->token;
    char path[4096];
    snprintf(path, sizeof(path), "%s/meta/mgmt.token", c->data_dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_fail("no management token: pass --token, set STRAIT_TOKEN, or point --data-dir at "
                 "the broker's data directory (cannot read %s: %s)",
                 path, strerror(errno));
        return NULL;
    }
    size_t n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && strchr(" \t\r\n", buf[n - 1])) /* the file ends with a newline */
        buf[--n] = '\0';
    if (n == 0) {
        cli_fail("the token file %s is empty: pass --token or set STRAIT_TOKEN", path);
        return NULL;
    }
    return buf;
}

json_t *cli_admin(cli_ctx *c, const char *cmd, json_t *args)
{
    char tokbuf[512], err[1024];
    json_t *result = NULL;
    if (cli_profile_load(c) != CLI_OK) {
        json_decref(args);
        return NULL;
    }
    const char *token = find_token(c, tokbuf, sizeof(tokbuf));
    if (token) {
        result = st_mgmt_call(c->mgmt_url, token, cmd, args, CLI_MGMT_TIMEOUT_MS, err, sizeof(err));
        if (!result)
            cli_fail("%s", err);
    }
    json_decref(args);
    return result;
}

void cli_print_json(const json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (s) {
        puts(s);
        free(s);
    }
}

int cli_list_add(cli_list *l, const char *s)
{
    char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
    if (!v)
        return -1;
    l->v = v;
    if (!(l->v[l->n] = strdup(s)))
        return -1;
    l->n++;
    return 0;
}

void cli_list_free(cli_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

int cli_split_kv(const char *s, char **name, const char **value)
{
    const char *eq = strchr(s, '=');
    if (!eq || eq == s)
        return -1;
    char *copy = strdup(s);
    if (!copy)
        return -1;
    copy[eq - s] = '\0';
    *name = copy;
    *value = copy + (eq - s) + 1;
    return 0;
}

void cli_table_init(cli_table *t, size_t ncols, const char *const *headers)
{
    t->ncols = ncols < CLI_TABLE_MAX_COLS ? ncols : CLI_TABLE_MAX_COLS;
    t->cells = NULL;
    t->nrows = 0;
    cli_table_row(t, headers);
}

void cli_table_row(cli_table *t, const char *const *cells)
{
    char **grown = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*grown));
    if (!grown)
        return; /* out of memory: the row is dropped, the CLI exits soon anyway */
    t->cells = grown;
    for (size_t i = 0; i < t->ncols; i++) /* names from the cluster: terminal-safe */
        grown[t->nrows * t->ncols + i] = cli_safe(cells[i]);
    t->nrows++;
}

void cli_table_print(const cli_table *t, FILE *out)
{
    size_t width[CLI_TABLE_MAX_COLS] = {0};
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t i = 0; i < t->ncols; i++) {
            const char *s = t->cells[r * t->ncols + i];
            size_t w = s ? strlen(s) : 0;
            if (w > width[i])
                width[i] = w;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t i = 0; i < t->ncols; i++) {
            const char *s = t->cells[r * t->ncols + i];
            if (i + 1 == t->ncols)
                fprintf(out, "%s", s ? s : "");
            else
                fprintf(out, "%-*s  ", (int)width[i], s ? s : "");
        }
        fputc('\n', out);
    }
}

void cli_table_free(cli_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = 0;
}

const char *cli_human_bytes(int64_t bytes, char *buf, size_t len)
{
    static const char *units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) {
        snprintf(buf, len, "%lld B", (long long)bytes);
        return buf;
    }
    double v = (double)bytes;
    size_t u = 0;
    for (v /= 1024; v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0]); v /= 1024)
        u++;
    snprintf(buf, len, "%.1f %s", v, units[u]);
    return buf;
}

bool cli_parse_simple(cli_ctx *c, int argc, char **argv, const char *what, const char **arg,
                      int *exit_code)
{
    static const struct option longopts[] = {CLI_GLOBAL_LONGOPTS, {0}};
    int opt;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "", longopts)) != CLI_GETOPT_END) {
        *exit_code = opt == CLI_GETOPT_HELP ? CLI_OK : CLI_USAGE;
        return true;
    }
    int npos = argc - optind, want = what ? 1 : 0;
    *exit_code = CLI_USAGE;
    if (want && npos == 0) {
        cli_usage_error(c, "missing the %s", what);
        return true;
    }
    if (npos > want) {
        cli_usage_error(c, "unexpected argument \"%s\"", argv[optind + want]);
        return true;
    }
    if (want)
        *arg = argv[optind];
    return false;
}

int cli_dispatch(cli_ctx *c, int argc, char **argv, const cli_subcommand *table, size_t n,
                 const char *names)
{
    static const struct option longopts[] = {CLI_GLOBAL_LONGOPTS, {0}};
    int opt;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "+", longopts)) != CLI_GETOPT_END)
        return opt == CLI_GETOPT_HELP ? CLI_OK : CLI_USAGE;
    if (optind >= argc)
        return cli_usage_error(c, "missing the subcommand (%s)", names);
    const char *word = argv[optind];
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].name, word) == 0)
            return table[i].fn(c, argc - optind, argv + optind);
    return cli_usage_error(c, "unknown subcommand \"%s\" (%s)", word, names);
}

int cli_parse_regex_opt(cli_ctx *c, int argc, char **argv, const char **regex)
{
    enum { OPT_REGEX = 1 };
    static const struct option longopts[] = {
        {"regex", required_argument, NULL, OPT_REGEX},
        CLI_GLOBAL_LONGOPTS,
        {0},
    };
    int opt;
    cli_getopt_reset();
    while ((opt = cli_getopt(c, argc, argv, "", longopts)) != CLI_GETOPT_END) {
        if (opt == CLI_GETOPT_HELP)
            return CLI_GETOPT_HELP;
        if (opt == CLI_GETOPT_ERROR)
            return CLI_USAGE;
        *regex = optarg;
    }
    return CLI_OK;
}
