/*
 * strait-mirror's configuration file (format in mirror/config.h, every setting documented
 * in deploy/config/strait-mirror.cfg). Parsed with libconfig in straitd's style: every
 * error is "file:line: reason", unknown settings and wrong types are errors, so a typo
 * never silently falls back to a default.
 *
 * Defaults: security_protocol "plaintext"; topics [".*"], topics_exclude [], groups
 * [".*"], groups_exclude []; naming "prefix"; sync_configs and sync_partitions true,
 * sync_acls false; configs_exclude []; mm2_import false; checkpoint 1000 ms, sync 5000 ms,
 * heartbeat 1000 ms; mgmt url tcp://127.0.0.1:9193, token ""; state_dir "./mirror-state"; log_level
 * "info".
 *
 * Patterns are POSIX extended regexes matched against the whole name: each is compiled
 * alone first (so its own syntax errors are reported as written), then as "^(...)$".
 *
 * Which source topics a flow mirrors (st_mflow_topic_selected), in order:
 *   1. "__*" (Kafka-internal) and ST_MIRROR_OFFSETS_TOPIC: never (the offsets map belongs
 *      to the target it is written on);
 *   2. with prefix naming, "<target alias>.*": never — it came from the target, copying it
 *      back would loop; and "<x>.strait-mirror.heartbeats": never — a heartbeat topic that
 *      was itself mirrored (latency is measured per hop, on the flow's own heartbeats);
 *   3. ST_MIRROR_HEARTBEATS_TOPIC: always, whatever the patterns say — the flow mirrors its
 *      own heartbeats to measure replication latency;
 *   4. otherwise: matches an include pattern and no exclude pattern.
 * Consumer groups (st_mflow_group_selected) follow rule 4 only.
 */
#include "mirror/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/logging.h"
#include "mirror/offsets.h"

/* Intervals: at least 100 ms (a tighter loop only burns the clusters), at most a day. */
#define INTERVAL_MIN 100
#define INTERVAL_MAX 86400000

typedef struct loader {
    st_mirror_config *cfg;
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
    int line = s ? config_setting_source_line(s) : 0;
    if (line > 0)
        snprintf(ld->err, ld->errlen, "%s:%d: %s", ld->file, line, why);
    else
        snprintf(ld->err, ld->errlen, "%s: %s", ld->file, why);
    return -1;
}

/* Copies a string setting into dst[cap]; `what` names it in errors. */
static int get_string(loader *ld, const config_setting_t *s, const char *what, char *dst,
                      size_t cap)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return fail(ld, s, "%s must be a string", what);
    const char *v = config_setting_get_string(s);
    if (strlen(v) >= cap)
        return fail(ld, s, "%s is longer than %zu characters", what, cap - 1);
    snprintf(dst, cap, "%s", v);
    return 0;
}

static int get_bool(loader *ld, const config_setting_t *s, const char *what, bool *dst)
{
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return fail(ld, s, "%s must be true or false", what);
    *dst = config_setting_get_bool(s) != 0;
    return 0;
}

static int get_interval(loader *ld, const config_setting_t *s, const char *what, int64_t *dst)
{
    int type = config_setting_type(s);
    if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
        return fail(ld, s, "%s must be an integer (milliseconds)", what);
    long long v = config_setting_get_int64(s);
    if (v < INTERVAL_MIN || v > INTERVAL_MAX)
        return fail(ld, s, "%s = %lld is out of range [%d, %d]", what, v, INTERVAL_MIN,
                    INTERVAL_MAX);
    *dst = (int64_t)v;
    return 0;
}

static int get_count(loader *ld, const config_setting_t *s, const char *what, int lo, int hi,
                     int *dst)
{
    int type = config_setting_type(s);
    if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
        return fail(ld, s, "%s must be an integer", what);
    long long v = config_setting_get_int64(s);
    if (v < lo || v > hi)
        return fail(ld, s, "%s = %lld is out of range [%d, %d]", what, v, lo, hi);
    *dst = (int)v;
    return 0;
}

/* Compiles one pattern into p (which owns it from then on). */
static int add_pattern(loader *ld, const config_setting_t *s, const char *what, st_mpatterns *p,
                       const char *text)
{
    if (p->n == ST_MIRROR_MAX_PATTERNS)
        return fail(ld, s, "%s: at most %d patterns", what, ST_MIRROR_MAX_PATTERNS);
    if (!*text)
        return fail(ld, s, "%s: empty pattern (\".*\" matches every name)", what);
    char msg[256];
    regex_t probe;
    /* Alone first: wrapped, "a)|(b" would compile and mean something else. */
    int rc = regcomp(&probe, text, REG_EXTENDED | REG_NOSUB);
    if (rc) {
        regerror(rc, &probe, msg, sizeof msg);
        return fail(ld, s, "%s: bad regular expression \"%s\": %s", what, text, msg);
    }
    regfree(&probe);
    size_t len = strlen(text);
    char *wrapped = malloc(len + 5);
    char *copy = strdup(text);
    if (!wrapped || !copy) {
        free(wrapped);
        free(copy);
        return fail(ld, s, "%s: out of memory", what);
    }
    snprintf(wrapped, len + 5, "^(%s)$", text);
    rc = regcomp(&p->re[p->n], wrapped, REG_EXTENDED | REG_NOSUB);
    free(wrapped);
    if (rc) {
        regerror(rc, &p->re[p->n], msg, sizeof msg);
        free(copy);
        return fail(ld, s, "%s: bad regular expression \"%s\": %s", what, text, msg);
    }
    p->src[p->n++] = copy;
    return 0;
}

/* A list or array of strings → patterns. */
static int get_patterns(loader *ld, const config_setting_t *s, const char *what, st_mpatterns *p)
{
    int type = config_setting_type(s);
    if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
        return fail(ld, s, "%s must be a list of strings, e.g. [ \"orders.*\" ]", what);
    for (int i = 0; i < config_setting_length(s); i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return fail(ld, e, "%s[%d] must be a string", what, i);
        if (add_pattern(ld, e, what, p, config_setting_get_string(e)))
            return -1;
    }
    return 0;
}

static bool patterns_match(const st_mpatterns *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (regexec(&p->re[i], name, 0, NULL, 0) == 0)
            return true;
    return false;
}

static void patterns_free(st_mpatterns *p)
{
    for (size_t i = 0; i < p->n; i++) {
        regfree(&p->re[i]);
        free(p->src[i]);
        p->src[i] = NULL;
    }
    p->n = 0;
}

/* ---- clusters ---- */

enum {
    C_ALIAS = 1 << 0,
    C_BOOTSTRAP = 1 << 1,
    C_PROTOCOL = 1 << 2,
    C_MECHANISM = 1 << 3,
    C_USERNAME = 1 << 4,
    C_PASSWORD = 1 << 5,
    C_SSL_CA = 1 << 6,
};

typedef struct string_field {
    const char *name;
    unsigned bit;
    size_t offset, size;
} string_field;

#define CF(field) offsetof(st_mcluster_config, field), sizeof(((st_mcluster_config *)0)->field)

static const string_field cluster_fields[] = {
    {"alias", C_ALIAS, CF(alias)},
    {"bootstrap", C_BOOTSTRAP, CF(bootstrap)},
    {"security_protocol", C_PROTOCOL, CF(security_protocol)},
    {"sasl_mechanism", C_MECHANISM, CF(sasl_mechanism)},
    {"sasl_username", C_USERNAME, CF(sasl_username)},
    {"sasl_password", C_PASSWORD, CF(sasl_password)},
    {"ssl_ca", C_SSL_CA, CF(ssl_ca)},
};

static bool alias_valid(const char *a)
{
    if (!*a)
        return false;
    for (; *a; a++)
        if (!isalnum((unsigned char)*a) && *a != '_' && *a != '-')
            return false;
    return true;
}

/* Normalises to `cased` (lower or upper) when `v` is one of `names`, case-insensitively. */
static bool one_of(char *v, const char *const *names, bool upper)
{
    for (size_t i = 0; names[i]; i++) {
        if (strcasecmp(v, names[i]) == 0) {
            for (char *c = v; *c; c++)
                *c = (char)(upper ? toupper((unsigned char)*c) : tolower((unsigned char)*c));
            return true;
        }
    }
    return false;
}

static int parse_cluster(loader *ld, const config_setting_t *g, int idx)
{
    st_mirror_config *cfg = ld->cfg;
    if (config_setting_type(g) != CONFIG_TYPE_GROUP)
        return fail(ld, g, "clusters[%d] must be a group: { alias = \"dc1\"; bootstrap = ...; }",
                    idx);
    if (cfg->nclusters == ST_MIRROR_MAX_CLUSTERS)
        return fail(ld, g, "at most %d clusters", ST_MIRROR_MAX_CLUSTERS);
    st_mcluster_config *c = &cfg->clusters[cfg->nclusters];
    snprintf(c->security_protocol, sizeof c->security_protocol, "plaintext");
    unsigned seen = 0;
    const config_setting_t *at[8] = {0};
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        const string_field *def = NULL;
        for (size_t k = 0; k < sizeof cluster_fields / sizeof cluster_fields[0]; k++)
            if (strcmp(cluster_fields[k].name, name) == 0)
                def = &cluster_fields[k];
        if (!def)
            return fail(ld, s,
                        "clusters[%d]: unknown setting \"%s\" (alias, bootstrap, "
                        "security_protocol, sasl_mechanism, sasl_username, sasl_password, "
                        "ssl_ca)",
                        idx, name);
        char what[96];
        snprintf(what, sizeof what, "clusters[%d].%s", idx, name);
        if (get_string(ld, s, what, (char *)c + def->offset, def->size))
            return -1;
        seen |= def->bit;
        at[__builtin_ctz(def->bit)] = s;
    }
    if (!(seen & C_ALIAS))
        return fail(ld, g, "clusters[%d] needs an alias (e.g. alias = \"dc1\";)", idx);
    if (!alias_valid(c->alias))
        return fail(ld, at[0], "clusters[%d].alias \"%s\" must be letters, digits, '_' or '-'", idx,
                    c->alias);
    for (size_t k = 0; k < cfg->nclusters; k++)
        if (strcmp(cfg->clusters[k].alias, c->alias) == 0)
            return fail(ld, at[0], "cluster alias \"%s\" is declared twice", c->alias);
    if (!(seen & C_BOOTSTRAP) || !c->bootstrap[0])
        return fail(ld, (seen & C_BOOTSTRAP) ? at[1] : g,
                    "cluster \"%s\" needs a bootstrap (e.g. bootstrap = \"10.0.1.5:9092\";)",
                    c->alias);
    static const char *const protocols[] = {"plaintext", "ssl", "sasl_plaintext", "sasl_ssl", NULL};
    if (!one_of(c->security_protocol, protocols, false))
        return fail(ld, at[2],
                    "cluster \"%s\": security_protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT "
                    "or SASL_SSL, not \"%s\"",
                    c->alias, c->security_protocol);
    char proto[32]; /* as users write it, for messages */
    for (size_t k = 0; k < sizeof proto; k++)
        proto[k] = (char)toupper((unsigned char)c->security_protocol[k]);
    bool sasl = strncmp(c->security_protocol, "sasl_", 5) == 0;
    bool ssl = strstr(c->security_protocol, "ssl") != NULL;
    static const char *const mechanisms[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", NULL};
    if (sasl) {
        if (!(seen & C_MECHANISM) || !(seen & C_USERNAME))
            return fail(ld, g,
                        "cluster \"%s\": security_protocol %s needs sasl_mechanism and "
                        "sasl_username (and sasl_password)",
                        c->alias, proto);
        if (!one_of(c->sasl_mechanism, mechanisms, true))
            return fail(ld, at[3],
                        "cluster \"%s\": sasl_mechanism must be PLAIN, SCRAM-SHA-256 or "
                        "SCRAM-SHA-512, not \"%s\"",
                        c->alias, c->sasl_mechanism);
    } else {
        /* Credentials with a protocol that never sends them are a mistake, not a default. */
        for (unsigned bit = C_MECHANISM; bit <= C_PASSWORD; bit <<= 1)
            if (seen & bit)
                return fail(ld, at[__builtin_ctz(bit)],
                            "cluster \"%s\": %s is set but security_protocol is %s (SASL needs "
                            "SASL_PLAINTEXT or SASL_SSL)",
                            c->alias, config_setting_name(at[__builtin_ctz(bit)]), proto);
    }
    if ((seen & C_SSL_CA) && !ssl)
        return fail(ld, at[6],
                    "cluster \"%s\": ssl_ca is set but security_protocol is %s (TLS needs SSL "
                    "or SASL_SSL)",
                    c->alias, proto);
    cfg->nclusters++;
    return 0;
}

/* ---- flows ---- */

static const st_mcluster_config *find_cluster(const st_mirror_config *cfg, const char *alias)
{
    for (size_t i = 0; i < cfg->nclusters; i++)
        if (strcmp(cfg->clusters[i].alias, alias) == 0)
            return &cfg->clusters[i];
    return NULL;
}

static int resolve_cluster(loader *ld, const config_setting_t *s, const config_setting_t *g,
                           int idx, const char *which, const char *alias,
                           const st_mcluster_config **out)
{
    if (!s)
        return fail(ld, g, "flows[%d] needs a %s (a cluster alias)", idx, which);
    *out = find_cluster(ld->cfg, alias);
    if (*out)
        return 0;
    char declared[ST_MIRROR_MAX_CLUSTERS * 66] = "";
    size_t used = 0;
    for (size_t i = 0; i < ld->cfg->nclusters && used < sizeof declared; i++)
        used += (size_t)snprintf(declared + used, sizeof declared - used, "%s%s", i ? ", " : "",
                                 ld->cfg->clusters[i].alias);
    return fail(ld, s, "flows[%d]: %s \"%s\" is not a declared cluster (declared: %s)", idx, which,
                alias, ld->cfg->nclusters ? declared : "none");
}

static int parse_flow(loader *ld, const config_setting_t *g, int idx)
{
    st_mirror_config *cfg = ld->cfg;
    if (config_setting_type(g) != CONFIG_TYPE_GROUP)
        return fail(ld, g, "flows[%d] must be a group: { source = \"dc1\"; target = ...; }", idx);
    if (cfg->nflows == ST_MIRROR_MAX_FLOWS)
        return fail(ld, g, "at most %d flows", ST_MIRROR_MAX_FLOWS);
    /* Counted now so st_mirror_config_free releases whatever compiles before an error. */
    st_mflow_config *f = &cfg->flows[cfg->nflows++];
    f->naming = ST_MNAMING_PREFIX;
    f->sync_configs = true;
    f->sync_partitions = true;
    f->sync_acls = false;
    f->checkpoint_interval_ms = 1000;
    f->sync_interval_ms = 5000;
    f->heartbeat_interval_ms = 1000;
    f->producers = 4;

    char source[64] = "", target[64] = "";
    const config_setting_t *source_s = NULL, *target_s = NULL, *topics_s = NULL, *groups_s = NULL;
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        char what[96];
        snprintf(what, sizeof what, "flows[%d].%s", idx, name);
        int rc;
        if (strcmp(name, "source") == 0) {
            rc = get_string(ld, s, what, source, sizeof source);
            source_s = s;
        } else if (strcmp(name, "target") == 0) {
            rc = get_string(ld, s, what, target, sizeof target);
            target_s = s;
        } else if (strcmp(name, "topics") == 0) {
            rc = get_patterns(ld, s, what, &f->topics);
            topics_s = s;
        } else if (strcmp(name, "topics_exclude") == 0) {
            rc = get_patterns(ld, s, what, &f->topics_exclude);
        } else if (strcmp(name, "groups") == 0) {
            rc = get_patterns(ld, s, what, &f->groups);
            groups_s = s;
        } else if (strcmp(name, "groups_exclude") == 0) {
            rc = get_patterns(ld, s, what, &f->groups_exclude);
        } else if (strcmp(name, "naming") == 0) {
            char v[32];
            rc = get_string(ld, s, what, v, sizeof v);
            if (rc == 0 && strcmp(v, "prefix") == 0)
                f->naming = ST_MNAMING_PREFIX;
            else if (rc == 0 && strcmp(v, "identity") == 0)
                f->naming = ST_MNAMING_IDENTITY;
            else if (rc == 0)
                rc = fail(ld, s, "%s must be \"prefix\" or \"identity\", not \"%s\"", what, v);
        } else if (strcmp(name, "sync_configs") == 0) {
            rc = get_bool(ld, s, what, &f->sync_configs);
        } else if (strcmp(name, "sync_partitions") == 0) {
            rc = get_bool(ld, s, what, &f->sync_partitions);
        } else if (strcmp(name, "sync_acls") == 0) {
            rc = get_bool(ld, s, what, &f->sync_acls);
        } else if (strcmp(name, "configs_exclude") == 0) {
            rc = get_patterns(ld, s, what, &f->configs_exclude);
        } else if (strcmp(name, "mm2_import") == 0) {
            rc = get_bool(ld, s, what, &f->mm2_import);
        } else if (strcmp(name, "mm2_source_alias") == 0) {
            rc = get_string(ld, s, what, f->mm2_source_alias, sizeof f->mm2_source_alias);
        } else if (strcmp(name, "mm2_target_alias") == 0) {
            rc = get_string(ld, s, what, f->mm2_target_alias, sizeof f->mm2_target_alias);

        } else if (strcmp(name, "checkpoint_interval_ms") == 0) {
            rc = get_interval(ld, s, what, &f->checkpoint_interval_ms);
        } else if (strcmp(name, "sync_interval_ms") == 0) {
            rc = get_interval(ld, s, what, &f->sync_interval_ms);
        } else if (strcmp(name, "heartbeat_interval_ms") == 0) {
            rc = get_interval(ld, s, what, &f->heartbeat_interval_ms);
        } else if (strcmp(name, "producers") == 0) {
            rc = get_count(ld, s, what, 1, ST_MIRROR_MAX_PRODUCERS, &f->producers);
        } else {
            rc = fail(ld, s,
                      "flows[%d]: unknown setting \"%s\" (source, target, topics, "
                      "topics_exclude, naming, sync_configs, sync_partitions, sync_acls, "
                      "configs_exclude, groups, groups_exclude, checkpoint_interval_ms, "
                      "sync_interval_ms, heartbeat_interval_ms, producers, mm2_import, "
                      "mm2_source_alias, mm2_target_alias)",
                      idx, name);
        }
        if (rc)
            return -1;
    }
    if (resolve_cluster(ld, source_s, g, idx, "source", source, &f->source) ||
        resolve_cluster(ld, target_s, g, idx, "target", target, &f->target))
        return -1;
    if (f->source == f->target)
        return fail(ld, target_s, "flows[%d]: source and target are both \"%s\"", idx, source);
    snprintf(f->name, sizeof f->name, "%s->%s", f->source->alias, f->target->alias);
    for (size_t k = 0; k + 1 < cfg->nflows; k++)
        if (cfg->flows[k].source == f->source && cfg->flows[k].target == f->target)
            return fail(ld, g, "flows[%d]: flow %s is declared twice (flows[%zu])", idx, f->name,
                        k);
    if (topics_s && f->topics.n == 0)
        return fail(ld, topics_s,
                    "flows[%d].topics is empty: the flow would mirror nothing (\".*\" mirrors "
                    "every topic)",
                    idx);
    if (!topics_s && add_pattern(ld, g, "topics", &f->topics, ".*"))
        return -1;
    if (!groups_s && add_pattern(ld, g, "groups", &f->groups, ".*"))
        return -1;
    return 0;
}

/* ---- top level ---- */

static int parse_list(loader *ld, const config_setting_t *s, const char *name,
                      int (*each)(loader *, const config_setting_t *, int))
{
    if (config_setting_type(s) != CONFIG_TYPE_LIST)
        return fail(ld, s, "%s must be a list of groups: %s = ( { ... }, { ... } );", name, name);
    for (int i = 0; i < config_setting_length(s); i++)
        if (each(ld, config_setting_get_elem(s, (unsigned)i), i))
            return -1;
    return 0;
}

static int parse_mgmt(loader *ld, const config_setting_t *g)
{
    if (config_setting_type(g) != CONFIG_TYPE_GROUP)
        return fail(ld, g, "mgmt must be a group: mgmt = { url = \"...\"; token = \"\"; };");
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        int rc;
        if (strcmp(name, "url") == 0)
            rc = get_string(ld, s, "mgmt.url", ld->cfg->mgmt_url, sizeof ld->cfg->mgmt_url);
        else if (strcmp(name, "token") == 0)
            rc = get_string(ld, s, "mgmt.token", ld->cfg->mgmt_token, sizeof ld->cfg->mgmt_token);
        else if (strcmp(name, "survey_url") == 0)
            rc = get_string(ld, s, "mgmt.survey_url", ld->cfg->mgmt_survey_url,
                            sizeof ld->cfg->mgmt_survey_url);
        else
            rc = fail(ld, s, "mgmt: unknown setting \"%s\" (url, survey_url, token)", name);
        if (rc)
            return -1;
    }
    if (!ld->cfg->mgmt_url[0])
        return fail(ld, g, "mgmt.url must not be empty");
    return 0;
}

int st_mirror_config_load(st_mirror_config *cfg, const char *path, char *err, size_t errlen)
{
    config_t lc;
    int rc = -1;
    loader ld = {cfg, path, err, errlen};
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->mgmt_url, sizeof cfg->mgmt_url, "tcp://127.0.0.1:9193");
    snprintf(cfg->state_dir, sizeof cfg->state_dir, "./mirror-state");
    snprintf(cfg->log_level, sizeof cfg->log_level, "info");
    snprintf(cfg->log_format, sizeof cfg->log_format, "text");
    config_init(&lc);
    if (!config_read_file(&lc, path)) {
        if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
            snprintf(err, errlen, "%s: cannot read the config file: %s", path, strerror(errno));
        else
            snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&lc),
                     config_error_text(&lc));
        goto out;
    }
    const config_setting_t *root = config_root_setting(&lc);
    const config_setting_t *clusters = NULL, *flows = NULL;
    /* Scalars and names first; clusters before flows, which name them. */
    for (int i = 0; i < config_setting_length(root); i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(s);
        int bad = 0;
        if (strcmp(name, "clusters") == 0)
            clusters = s;
        else if (strcmp(name, "flows") == 0)
            flows = s;
        else if (strcmp(name, "mgmt") == 0)
            bad = parse_mgmt(&ld, s);
        else if (strcmp(name, "state_dir") == 0)
            bad = get_string(&ld, s, "state_dir", cfg->state_dir, sizeof cfg->state_dir) ||
                  (!cfg->state_dir[0] && fail(&ld, s, "state_dir must not be empty"));
        else if (strcmp(name, "log_level") == 0)
            bad = get_string(&ld, s, "log_level", cfg->log_level, sizeof cfg->log_level) ||
                  (st_logging_parse_level(cfg->log_level) < 0 &&
                   fail(&ld, s, "log_level must be debug, info, warn or error, not \"%s\"",
                        cfg->log_level));
        else if (strcmp(name, "log_format") == 0)
            bad = get_string(&ld, s, "log_format", cfg->log_format, sizeof cfg->log_format) ||
                  (st_logging_parse_format(cfg->log_format) < 0 &&
                   fail(&ld, s, "log_format must be \"text\" or \"json\", not \"%s\"",
                        cfg->log_format));
        else
            bad = fail(&ld, s,
                       "unknown setting \"%s\" (clusters, flows, mgmt, state_dir, log_level, "
                       "log_format; "
                       "deploy/config/strait-mirror.cfg lists them all)",
                       name);
        if (bad)
            goto out;
    }
    if (!clusters) {
        fail(&ld, NULL,
             "no clusters: declare them with clusters = ( { alias = \"dc1\"; "
             "bootstrap = \"host:9092\"; }, ... );");
        goto out;
    }
    if (parse_list(&ld, clusters, "clusters", parse_cluster))
        goto out;
    if (!flows) {
        fail(&ld, NULL,
             "no flows: declare them with flows = ( { source = \"dc1\"; target = "
             "\"dc2\"; }, ... );");
        goto out;
    }
    if (parse_list(&ld, flows, "flows", parse_flow))
        goto out;
    if (cfg->nflows == 0) {
        fail(&ld, flows, "flows is empty: strait-mirror needs at least one flow");
        goto out;
    }
    rc = 0;
out:
    config_destroy(&lc);
    if (rc)
        st_mirror_config_free(cfg);
    return rc;
}

void st_mirror_config_free(st_mirror_config *cfg)
{
    for (size_t i = 0; i < cfg->nflows; i++) {
        st_mflow_config *f = &cfg->flows[i];
        patterns_free(&f->topics);
        patterns_free(&f->topics_exclude);
        patterns_free(&f->groups);
        patterns_free(&f->groups_exclude);
        patterns_free(&f->configs_exclude);
    }
    cfg->nflows = 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool st_mflow_topic_selected(const st_mflow_config *f, const char *topic)
{
    if (has_prefix(topic, "__") || strcmp(topic, ST_MIRROR_OFFSETS_TOPIC) == 0)
        return false;
    if (f->naming == ST_MNAMING_PREFIX) {
        size_t alias_len = strlen(f->target->alias);
        if (strncmp(topic, f->target->alias, alias_len) == 0 && topic[alias_len] == '.')
            return false;
        static const char hb[] = "." ST_MIRROR_HEARTBEATS_TOPIC;
        size_t len = strlen(topic);
        if (len > sizeof hb - 1 && strcmp(topic + len - (sizeof hb - 1), hb) == 0)
            return false;
    }
    if (strcmp(topic, ST_MIRROR_HEARTBEATS_TOPIC) == 0)
        return true;
    return patterns_match(&f->topics, topic) && !patterns_match(&f->topics_exclude, topic);
}

bool st_mflow_group_selected(const st_mflow_config *f, const char *group)
{
    return patterns_match(&f->groups, group) && !patterns_match(&f->groups_exclude, group);
}

int st_mflow_target_topic(const st_mflow_config *f, const char *topic, char *out, size_t cap)
{
    int n = f->naming == ST_MNAMING_PREFIX ? snprintf(out, cap, "%s.%s", f->source->alias, topic)
                                           : snprintf(out, cap, "%s", topic);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}
