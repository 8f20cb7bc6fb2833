/*
 * Connection profiles: how strait reaches a cluster (bootstrap servers, SASL, TLS) kept
 * in a file instead of repeated -X options, with several named profiles and one
 * selected.
 *
 *     # ~/.config/strait/config  (or --command-config FILE, or $STRAIT_CONFIG)
 *     profile = local                  # the one used when --profile is not given
 *
 *     [local]
 *     bootstrap.servers = 127.0.0.1:9092
 *
 *     [prod]
 *     bootstrap.servers = kafka-1.example.com:9093,kafka-2.example.com:9093
 *     security.protocol = SASL_SSL
 *     sasl.mechanism = SCRAM-SHA-512
 *     sasl.username = ops
 *     sasl.password = ...
 *     ssl.ca.location = /etc/strait/ca.pem
 *     strait.mgmt = tcp://10.0.0.5:9192    # straitd's management endpoint
 *
 * Every key is a Kafka client property as librdkafka names them (its CONFIGURATION.md)
 * and goes to every client strait makes (produce, consume, perf, the admin commands);
 * strait.mgmt, strait.token and strait.data-dir set the management endpoint for the
 * Strait-only commands. A file without [sections] is one profile. The command line and
 * the environment ($STRAIT_BOOTSTRAP, $STRAIT_MGMT, $STRAIT_TOKEN) win over the profile;
 * -X properties win over it too. A file holding a secret (a *.password, *.secret,
 * ssl.key.pem or strait.token) that group or others may read is used with a warning.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tools/cli.h"

#define LINE_MAX_LEN 4096

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && strchr(" \t\r\n", s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* The default place, when it exists: $XDG_CONFIG_HOME/strait/config or
 * ~/.config/strait/config. */
static bool default_path(char *out, size_t cap)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(out, cap, "%s/strait/config", xdg);
    else if (home && *home)
        snprintf(out, cap, "%s/.config/strait/config", home);
    else
        return false;
    struct stat st;
    return stat(out, &st) == 0;
}

/* Keeps a copy of s alive as long as c (strings the context points at). */
static const char *keep(cli_ctx *c, const char *s)
{
    if (cli_list_add(&c->profile_keep, s) != 0)
        return NULL;
    return c->profile_keep.v[c->profile_keep.n - 1];
}

/* Applies one "name = value" of the selected profile. */
static int apply(cli_ctx *c, const char *path, int line, const char *name, const char *value)
{
    char err[512];
    if (strcmp(name, "bootstrap.servers") == 0) {
        if (!c->bootstrap_given)
            c->bootstrap = keep(c, value);
        return CLI_OK;
    }
    if (strcmp(name, "strait.mgmt") == 0) {
        if (!c->mgmt_given)
            c->mgmt_url = keep(c, value);
        return CLI_OK;
    }
    if (strcmp(name, "strait.token") == 0) {
        if (!c->token)
            c->token = keep(c, value);
        return CLI_OK;
    }
    if (strcmp(name, "strait.data-dir") == 0) {
        c->data_dir = keep(c, value);
        return CLI_OK;
    }
    if (strncmp(name, "strait.", 7) == 0)
        return cli_fail("%s:%d: unknown setting \"%s\" (strait.mgmt, strait.token and "
                        "strait.data-dir are known)",
                        path, line, name);
    /* Checked now, so a typo is reported with its line rather than by the first client. */
    rd_kafka_conf_t *scratch = rd_kafka_conf_new();
    rd_kafka_conf_res_t r = rd_kafka_conf_set(scratch, name, value, err, sizeof err);
    rd_kafka_conf_destroy(scratch);
    if (r != RD_KAFKA_CONF_OK)
        return cli_fail("%s:%d: %s", path, line, err);
    char kv[LINE_MAX_LEN + 2];
    snprintf(kv, sizeof kv, "%s=%s", name, value);
    cli_list_add(&c->kafka_props, kv);
    return CLI_OK;
}

/* Does setting `name` hold a secret (a password, a private key, the management token)? */
static bool secret_setting(const char *name)
{
    size_t n = strlen(name);
    return strcmp(name, "strait.token") == 0 || strcmp(name, "ssl.key.pem") == 0 ||
           (n > 9 && strcmp(name + n - 9, ".password") == 0) ||
           (n > 7 && strcmp(name + n - 7, ".secret") == 0);
}

/* A file holding a secret that others may read gets a warning (as ssh warns about a key
 * file): the first such setting and the file's mode, and what to do. */
static void warn_if_readable(FILE *f, const char *path, const char *setting, int line)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || (st.st_mode & 077) == 0)
        return;
    fprintf(stderr,
            "strait: warning: %s holds a secret (%s, line %d) and others may read it (mode "
            "%04o): chmod 600 %s\n",
            path, setting, line, (unsigned)(st.st_mode & 07777), path);
}

/* Reads the file twice over its lines: first for the selected profile's name and the
 * sections present, then for that section's settings. */
static int load_file(cli_ctx *c, const char *path, bool named)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (named)
            return cli_fail("cannot read the profile file %s: %s", path, strerror(errno));
        return CLI_OK;
    }
    char buf[LINE_MAX_LEN], selected[256] = "", sections[1024] = "", secret[128] = "";
    bool has_sections = false;
    int rc = CLI_OK, secret_line = 0;
    const char *env = getenv("STRAIT_PROFILE");
    if (c->profile)
        snprintf(selected, sizeof selected, "%s", c->profile);
    else if (env && *env)
        snprintf(selected, sizeof selected, "%s", env);
    int line = 0;
    while (fgets(buf, sizeof buf, f)) {
        line++;
        size_t len = strlen(buf);
        if (len == sizeof buf - 1 && buf[len - 1] != '\n' && !feof(f)) {
            /* Split, its rest would be read as a line of its own. */
            rc = cli_fail("%s:%d: the line is longer than %d bytes", path, line, LINE_MAX_LEN - 2);
            goto out;
        }
        char *s = trim(buf);
        if (*s == '#' || *s == ';' || *s == '\0')
            continue;
        if (*s == '[') {
            char *end = strchr(s, ']');
            if (!end || end[1]) {
                rc = cli_fail("%s:%d: a section is written [NAME]", path, line);
                goto out;
            }
            *end = '\0';
            has_sections = true;
            size_t at = strlen(sections);
            snprintf(sections + at, sizeof sections - at, "%s%s", at ? ", " : "", s + 1);
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = cli_fail("%s:%d: expected NAME = VALUE, a [section] or a # comment", path, line);
            goto out;
        }
        *eq = '\0';
        if (!has_sections && strcmp(trim(s), "profile") == 0 && !selected[0])
            snprintf(selected, sizeof selected, "%s", trim(eq + 1));
        if (!secret_line && secret_setting(trim(s))) {
            snprintf(secret, sizeof secret, "%s", trim(s));
            secret_line = line;
        }
    }
    if (secret_line)
        warn_if_readable(f, path, secret, secret_line);
    if (!selected[0])
        snprintf(selected, sizeof selected, "default");
    if (has_sections) {
        /* Does the selected section exist? */
        bool found = false;
        char copy[1024];
        snprintf(copy, sizeof copy, "%s", sections);
        for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save))
            found |= strcmp(trim(tok), selected) == 0;
        if (!found) {
            fprintf(stderr,
                    "%s: profile \"%s\" is not in %s (it has: %s)\nRun '%s --help' for usage.\n",
                    c->prog, selected, path, sections, c->prog);
            rc = CLI_USAGE;
            goto out;
        }
    } else if (c->profile && strcmp(c->profile, "default") != 0) {
        fprintf(stderr,
                "%s: profile \"%s\" is not in %s (it has no [sections]: its settings are the "
                "profile \"default\")\nRun '%s --help' for usage.\n",
                c->prog, c->profile, path, c->prog);
        rc = CLI_USAGE;
        goto out;
    }
    rewind(f);
    line = 0;
    bool in_selected = !has_sections;
    while (fgets(buf, sizeof buf, f) && rc == CLI_OK) {
        line++;
        char *s = trim(buf);
        if (*s == '#' || *s == ';' || *s == '\0')
            continue;
        if (*s == '[') {
            *strchr(s, ']') = '\0';
            in_selected = strcmp(s + 1, selected) == 0;
            continue;
        }
        char *eq = strchr(s, '=');
        *eq = '\0';
        char *name = trim(s), *value = trim(eq + 1);
        if (!has_sections && strcmp(name, "profile") == 0)
            continue;
        if (!in_selected)
            continue;
        if (has_sections && strcmp(name, "profile") == 0) {
            rc = cli_fail("%s:%d: \"profile = NAME\" goes before the first [section]", path, line);
            break;
        }
        rc = apply(c, path, line, name, value);
    }
out:
    fclose(f);
    return rc;
}

int cli_profile_load(cli_ctx *c)
{
    if (c->profile_loaded)
        return c->profile_status;
    c->profile_loaded = true;
    char path[4096];
    const char *env = getenv("STRAIT_CONFIG");
    bool named = true;
    if (c->command_config)
        snprintf(path, sizeof path, "%s", c->command_config);
    else if (env && *env)
        snprintf(path, sizeof path, "%s", env);
    else
        named = default_path(path, sizeof path);
    if (!named && c->profile) {
        fprintf(stderr,
                "%s: --profile %s: there is no profile file (give --command-config FILE, set "
                "STRAIT_CONFIG, or create ~/.config/strait/config)\nRun '%s --help' for usage.\n",
                c->prog, c->profile, c->prog);
        exit(CLI_USAGE); /* as below */
    }
    c->profile_status = named ? load_file(c, path, true) : CLI_OK;
    /* A profile or file named but missing is a usage error wherever it is found (often
     * deep inside a command, whose callers only tell success from failure): exit 2 now,
     * as for any other bad option. Nothing is half done at this point. */
    if (c->profile_status == CLI_USAGE)
        exit(CLI_USAGE);
    return c->profile_status;
}

void cli_profile_free(cli_ctx *c)
{
    cli_list_free(&c->kafka_props);
    cli_list_free(&c->profile_keep);
}
