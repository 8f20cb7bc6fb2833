/*
 * strait-console's configuration (format in config.h, every setting documented in
 * deploy/config/strait-console.cfg). libconfig in straitd's style: every error is
 * "file:line: reason", and unknown settings and wrong types are errors, so a typo never
 * silently falls back to a default.
 */
#include "admin-ui/config.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "common/mgmt.h"

typedef struct loader {
    st_con_config *cfg;
    const char *file;
    char *err;
    size_t errlen;
} loader;

static int fail(loader *ld, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(loader *ld, const config_setting_t *s, const char *fmt, ...)
{
    char why[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(ld->err, ld->errlen, "%s:%d: %s", ld->file, s ? config_setting_source_line(s) : 0,
             why);
    return -1;
}

const char *st_role_name(st_role r)
{
    switch (r) {
    case ST_ROLE_ADMIN:
        return "admin";
    case ST_ROLE_OPERATOR:
        return "operator";
    default:
        return "tenant";
    }
}

void st_con_config_defaults(st_con_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->listen_host, sizeof cfg->listen_host, "127.0.0.1");
    cfg->port = 8080;
    snprintf(cfg->state_dir, sizeof cfg->state_dir, "./console-state");
    cfg->session_hours = 12;
    cfg->login_failure_delay_ms = 1000;
    cfg->survey_deadline_ms = 600;
    snprintf(cfg->log_level, sizeof cfg->log_level, "info");
}

static int get_string(loader *ld, const config_setting_t *s, const char *what, char *out,
                      size_t cap)
{
    const char *v = config_setting_get_string(s);
    if (!v)
        return fail(ld, s, "%s must be a string", what);
    if (strlen(v) >= cap)
        return fail(ld, s, "%s is too long (at most %zu bytes)", what, cap - 1);
    snprintf(out, cap, "%s", v);
    return 0;
}

static int get_int(loader *ld, const config_setting_t *s, const char *what, int min, int max,
                   int *out)
{
    if (config_setting_type(s) != CONFIG_TYPE_INT)
        return fail(ld, s, "%s must be an integer (%d..%d)", what, min, max);
    int v = config_setting_get_int(s);
    if (v < min || v > max)
        return fail(ld, s, "%s must be %d..%d, got %d", what, min, max, v);
    *out = v;
    return 0;
}

/* A name for clusters, daemons and users: 1..63 bytes of [A-Za-z0-9._-]. */
static int get_name(loader *ld, const config_setting_t *s, const char *what, char *out)
{
    if (get_string(ld, s, what, out, ST_CON_NAME_MAX))
        return -1;
    if (!out[0])
        return fail(ld, s, "%s must not be empty", what);
    for (const char *p = out; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return fail(ld, s, "%s \"%s\": use letters, digits, '.', '_' and '-' only", what, out);
    return 0;
}

static int parse_console(loader *ld, const config_setting_t *g)
{
    st_con_config *c = ld->cfg;
    if (config_setting_type(g) != CONFIG_TYPE_GROUP)
        return fail(ld, g, "console must be a group: console = { port = 8080; ... };");
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *n = config_setting_name(s);
        int rc;
        if (strcmp(n, "listen") == 0)
            rc = get_string(ld, s, "console.listen", c->listen_host, sizeof c->listen_host);
        else if (strcmp(n, "port") == 0)
            rc = get_int(ld, s, "console.port", 0, 65535, &c->port);
        else if (strcmp(n, "state_dir") == 0)
            rc = get_string(ld, s, "console.state_dir", c->state_dir, sizeof c->state_dir);
        else if (strcmp(n, "web_root") == 0)
            rc = get_string(ld, s, "console.web_root", c->web_root, sizeof c->web_root);
        else if (strcmp(n, "users_file") == 0)
            rc = get_string(ld, s, "console.users_file", c->users_file, sizeof c->users_file);
        else if (strcmp(n, "audit_log") == 0)
            rc = get_string(ld, s, "console.audit_log", c->audit_log, sizeof c->audit_log);
        else if (strcmp(n, "tls_certificate") == 0)
            rc = get_string(ld, s, "console.tls_certificate", c->tls_certificate,
                            sizeof c->tls_certificate);
        else if (strcmp(n, "tls_key") == 0)
            rc = get_string(ld, s, "console.tls_key", c->tls_key, sizeof c->tls_key);
        else if (strcmp(n, "session_hours") == 0)
            rc = get_int(ld, s, "console.session_hours", 1, 24 * 30, &c->session_hours);
        else if (strcmp(n, "login_failure_delay_ms") == 0)
            rc = get_int(ld, s, "console.login_failure_delay_ms", 0, 60000,
                         &c->login_failure_delay_ms);
        else if (strcmp(n, "survey_deadline_ms") == 0)
            rc = get_int(ld, s, "console.survey_deadline_ms", 50, 900, &c->survey_deadline_ms);
        else if (strcmp(n, "metrics_token") == 0)
            rc = get_string(ld, s, "console.metrics_token", c->metrics_token,
                            sizeof c->metrics_token);
        else if (strcmp(n, "log_level") == 0)
            rc = get_string(ld, s, "console.log_level", c->log_level, sizeof c->log_level);
        else if (strcmp(n, "origins") == 0) {
            rc = 0;
            if (!config_setting_is_array(s) && !config_setting_is_list(s))
                rc = fail(ld, s,
                          "console.origins must be a list of strings, e.g. "
                          "[\"https://console.example.com\"]");
            c->norigins = 0;
            for (int k = 0; rc == 0 && k < config_setting_length(s); k++) {
                if (c->norigins == ST_CON_MAX_ORIGINS) {
                    rc = fail(ld, s, "console.origins: at most %d", ST_CON_MAX_ORIGINS);
                    break;
                }
                rc = get_string(ld, config_setting_get_elem(s, (unsigned)k), "console.origins[]",
                                c->origins[c->norigins], sizeof c->origins[0]);
                if (rc == 0)
                    c->norigins++;
            }
        } else
            rc = fail(ld, s,
                      "console: unknown setting \"%s\" (listen, port, state_dir, web_root, "
                      "users_file, audit_log, origins, tls_certificate, tls_key, session_hours, "
                      "login_failure_delay_ms, survey_deadline_ms, metrics_token, log_level)",
                      n);
        if (rc)
            return -1;
    }
    if ((c->tls_certificate[0] != 0) != (c->tls_key[0] != 0))
        return fail(ld, g, "console: TLS needs both tls_certificate and tls_key");
    return 0;
}

static int parse_daemon(loader *ld, const config_setting_t *e, st_daemon_kind kind,
                        const char *cluster)
{
    st_con_config *c = ld->cfg;
    const char *what = kind == ST_DAEMON_BROKER ? "broker" : "mirror";
    if (config_setting_type(e) != CONFIG_TYPE_GROUP)
        return fail(ld, e, "each %s must be a group: { name = \"...\"; mgmt = \"...\"; }", what);
    if (c->ndaemons == ST_CON_MAX_DAEMONS)
        return fail(ld, e, "at most %d brokers and mirrors in all", ST_CON_MAX_DAEMONS);
    st_con_daemon *d = &c->daemons[c->ndaemons];
    memset(d, 0, sizeof *d);
    d->kind = kind;
    snprintf(d->cluster, sizeof d->cluster, "%s", cluster);
    for (int i = 0; i < config_setting_length(e); i++) {
        const config_setting_t *s = config_setting_get_elem(e, (unsigned)i);
        const char *n = config_setting_name(s);
        int rc;
        if (strcmp(n, "name") == 0)
            rc = get_name(ld, s, "name", d->name);
        else if (strcmp(n, "mgmt") == 0)
            rc = get_string(ld, s, "mgmt", d->mgmt_url, sizeof d->mgmt_url);
        else if (strcmp(n, "survey") == 0)
            rc = get_string(ld, s, "survey", d->survey_url, sizeof d->survey_url);
        else if (strcmp(n, "token") == 0)
            rc = get_string(ld, s, "token", d->token, sizeof d->token);
        else if (strcmp(n, "token_file") == 0)
            rc = get_string(ld, s, "token_file", d->token_file, sizeof d->token_file);
        else
            rc = fail(ld, s, "%s: unknown setting \"%s\" (name, mgmt, survey, token, token_file)",
                      what, n);
        if (rc)
            return -1;
    }
    if (!d->name[0] || !d->mgmt_url[0])
        return fail(ld, e,
                    "a %s needs name and mgmt, e.g. { name = \"b0\"; mgmt = "
                    "\"tcp://127.0.0.1:9192\"; token_file = \"...\"; }",
                    what);
    if (!d->token[0] && !d->token_file[0])
        return fail(ld, e, "%s \"%s\": give token or token_file (the daemon's mgmt.token)", what,
                    d->name);
    char why[512];
    if (!d->survey_url[0] && st_mgmt_survey_url_default(d->mgmt_url, d->survey_url,
                                                        sizeof d->survey_url, why, sizeof why))
        return fail(ld, e, "%s \"%s\": %s (here: survey = \"...\")", what, d->name, why);
    snprintf(d->id, sizeof d->id, "%s/%s", cluster, d->name);
    for (size_t k = 0; k < c->ndaemons; k++)
        if (strcmp(c->daemons[k].id, d->id) == 0)
            return fail(ld, e, "%s \"%s\" is named twice in cluster \"%s\"", what, d->name,
                        cluster);
    c->ndaemons++;
    return 0;
}

static int parse_cluster(loader *ld, const config_setting_t *g)
{
    st_con_config *c = ld->cfg;
    if (config_setting_type(g) != CONFIG_TYPE_GROUP)
        return fail(ld, g, "each cluster must be a group: { name = \"dc1\"; brokers = (...); }");
    if (c->nclusters == ST_CON_MAX_CLUSTERS)
        return fail(ld, g, "at most %d clusters", ST_CON_MAX_CLUSTERS);
    char *name = c->clusters[c->nclusters];
    const config_setting_t *ns = config_setting_get_member(g, "name");
    if (!ns)
        return fail(ld, g, "a cluster needs a name (the datacenter, e.g. \"dc1\")");
    if (get_name(ld, ns, "cluster name", name))
        return -1;
    for (size_t k = 0; k < c->nclusters; k++)
        if (strcmp(c->clusters[k], name) == 0)
            return fail(ld, ns, "cluster \"%s\" is named twice", name);
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *n = config_setting_name(s);
        bool brokers = strcmp(n, "brokers") == 0;
        if (strcmp(n, "name") == 0)
            continue;
        if (!brokers && strcmp(n, "mirrors") != 0)
            return fail(ld, s, "cluster: unknown setting \"%s\" (name, brokers, mirrors)", n);
        if (!config_setting_is_list(s))
            return fail(ld, s, "%s must be a list: %s = ( { name = ...; mgmt = ...; } );", n, n);
        /* a copy: parse_daemon writes into the config that holds `name` */
        char cluster[ST_CON_NAME_MAX];
        memcpy(cluster, name, sizeof cluster);
        for (int k = 0; k < config_setting_length(s); k++)
            if (parse_daemon(ld, config_setting_get_elem(s, (unsigned)k),
                             brokers ? ST_DAEMON_BROKER : ST_DAEMON_MIRROR, cluster))
                return -1;
    }
    c->nclusters++;
    return 0;
}

static int parse_users(loader *ld, const config_setting_t *l)
{
    st_con_config *c = ld->cfg;
    if (!config_setting_is_list(l))
        return fail(ld, l,
                    "users must be a list: users = ( { name = ...; role = ...; "
                    "password_hash = ...; } );");
    for (int i = 0; i < config_setting_length(l); i++) {
        const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_GROUP)
            return fail(ld, e, "each user must be a group");
        if (c->nusers == ST_CON_MAX_USERS)
            return fail(ld, e, "at most %d users", ST_CON_MAX_USERS);
        st_con_user *u = &c->users[c->nusers];
        char role[16] = "";
        memset(u, 0, sizeof *u);
        for (int k = 0; k < config_setting_length(e); k++) {
            const config_setting_t *s = config_setting_get_elem(e, (unsigned)k);
            const char *n = config_setting_name(s);
            int rc;
            if (strcmp(n, "name") == 0)
                rc = get_name(ld, s, "user name", u->name);
            else if (strcmp(n, "role") == 0)
                rc = get_string(ld, s, "role", role, sizeof role);
            else if (strcmp(n, "tenant") == 0)
                rc = get_string(ld, s, "tenant", u->tenant, sizeof u->tenant);
            else if (strcmp(n, "password_hash") == 0)
                rc = get_string(ld, s, "password_hash", u->password_hash, sizeof u->password_hash);
            else
                rc = fail(ld, s, "user: unknown setting \"%s\" (name, role, tenant, password_hash)",
                          n);
            if (rc)
                return -1;
        }
        if (!u->name[0] || !u->password_hash[0])
            return fail(ld, e,
                        "a user needs name and password_hash (make one with "
                        "`strait-console --hash-password`)");
        if (strcmp(role, "admin") == 0)
            u->role = ST_ROLE_ADMIN;
        else if (strcmp(role, "operator") == 0)
            u->role = ST_ROLE_OPERATOR;
        else if (strcmp(role, "tenant") == 0)
            u->role = ST_ROLE_TENANT;
        else
            return fail(ld, e, "user \"%s\": role must be admin, operator or tenant, not \"%s\"",
                        u->name, role);
        if ((u->role == ST_ROLE_TENANT) != (u->tenant[0] != 0))
            return fail(ld, e,
                        u->role == ST_ROLE_TENANT
                            ? "user \"%s\": a tenant user needs tenant = \"<tenant name>\""
                            : "user \"%s\": only a tenant user names a tenant",
                        u->name);
        if (st_con_config_user(c, u->name))
            return fail(ld, e, "user \"%s\" is defined twice", u->name);
        c->nusers++;
    }
    return 0;
}

/* Reads path into lc; -1 with err on a missing or malformed file (1 when missing and
 * missing_ok). */
static int read_file(config_t *lc, const char *path, bool missing_ok, char *err, size_t errlen)
{
    if (config_read_file(lc, path))
        return 0;
    if (config_error_type(lc) == CONFIG_ERR_FILE_IO) {
        if (missing_ok && errno == ENOENT)
            return 1;
        snprintf(err, errlen, "%s: cannot read the config file: %s", path, strerror(errno));
    } else
        snprintf(err, errlen, "%s:%d: %s", path, config_error_line(lc), config_error_text(lc));
    return -1;
}

int st_con_config_load(st_con_config *cfg, const char *path, char *err, size_t errlen)
{
    config_t lc;
    loader ld = {cfg, path, err, errlen};
    int rc = -1;
    config_init(&lc);
    if (read_file(&lc, path, false, err, errlen))
        goto out;
    const config_setting_t *root = config_root_setting(&lc);
    for (int i = 0; i < config_setting_length(root); i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *n = config_setting_name(s);
        int bad;
        if (strcmp(n, "console") == 0)
            bad = parse_console(&ld, s);
        else if (strcmp(n, "users") == 0)
            bad = parse_users(&ld, s);
        else if (strcmp(n, "clusters") == 0) {
            bad = config_setting_is_list(s) ? 0
                                            : fail(&ld, s,
                                                   "clusters must be a list: clusters = "
                                                   "( { name = \"dc1\"; ... } );");
            for (int k = 0; !bad && k < config_setting_length(s); k++)
                bad = parse_cluster(&ld, config_setting_get_elem(s, (unsigned)k));
        } else
            bad = fail(&ld, s, "unknown setting \"%s\" (console, clusters, users)", n);
        if (bad)
            goto out;
    }
    rc = 0;
out:
    config_destroy(&lc);
    return rc;
}

int st_con_config_load_users(st_con_config *cfg, const char *path, char *err, size_t errlen)
{
    config_t lc;
    loader ld = {cfg, path, err, errlen};
    config_init(&lc);
    int rc = read_file(&lc, path, true, err, errlen);
    if (rc == 0) {
        const config_setting_t *root = config_root_setting(&lc);
        for (int i = 0; rc == 0 && i < config_setting_length(root); i++) {
            const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
            if (strcmp(config_setting_name(s), "users") == 0)
                rc = parse_users(&ld, s);
            else
                rc = fail(&ld, s, "a users file holds only users = ( ... );");
        }
    }
    config_destroy(&lc);
    return rc;
}

const st_con_user *st_con_config_user(const st_con_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nusers; i++)
        if (strcmp(cfg->users[i].name, name) == 0)
            return &cfg->users[i];
    return NULL;
}

const st_con_daemon *st_con_config_daemon(const st_con_config *cfg, const char *id)
{
    for (size_t i = 0; i < cfg->ndaemons; i++)
        if (strcmp(cfg->daemons[i].id, id) == 0)
            return &cfg->daemons[i];
    return NULL;
}

int st_con_daemon_token(const st_con_daemon *d, char *out, size_t cap, char *err, size_t errlen)
{
    size_t len;
    if (d->token[0]) {
        snprintf(out, cap, "%s", d->token);
        return 0;
    }
    int rc = st_file_read_small(d->token_file, out, cap, &len, err, errlen);
    if (rc == 1)
        snprintf(err, errlen,
                 "%s: token file %s does not exist yet (the daemon writes it at its first "
                 "start)",
                 d->id, d->token_file);
    if (rc != 0)
        return -1;
    out[strcspn(out, " \t\r\n")] = '\0';
    if (!out[0]) {
        snprintf(err, errlen, "%s: token file %s is empty", d->id, d->token_file);
        return -1;
    }
    return 0;
}
