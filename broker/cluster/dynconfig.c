/*
 * Broker configs for DescribeConfigs and the dynamic ones for Alter/IncrementalAlter
 * Configs (see dynconfig.h). Two tables decide what is shown: the topic config table
 * (topic_config.c), whose broker-level names are the dynamic configs, and `statics`
 * below, the read-only settings of the config file under their Kafka names.
 *
 * broker_configs.json:
 *
 *   {"version": 1, "broker": {"log.retention.ms": "3600000"},
 *                  "cluster_default": {"log.cleanup.policy": "compact"}}
 */
#include "broker/cluster/dynconfig.h"

#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/cluster/topic_config.h"
#include "broker/cluster/topics_int.h"
#include "common/errors.h"
#include "common/fileio.h"
#include "common/logging.h"

#define DYN_FILE "broker_configs.json"

struct st_dynconfig {
    const st_broker_config *cfg; /* borrowed */
    char meta_dir[PATH_MAX];
    st_config_kv *kv[2]; /* by st_dyn_level: broker names → values */
    size_t nkv[2];
};

static const char *const level_keys[2] = {"broker", "cluster_default"};

/* ---- the read-only settings, under Kafka's names ---- */

enum static_kind { S_INT, S_I16, S_I64, S_SIZE, S_BOOL, S_STR, S_LISTENERS, S_MECHS };

typedef struct static_def {
    const char *name;      /* Kafka's (or, for Strait's own settings, the file's) */
    const char *file_path; /* the straitd.cfg setting */
    enum static_kind kind;
    size_t offset; /* into st_broker_config */
    bool sensitive;
} static_def;

#define F(field) offsetof(st_broker_config, field)

static const static_def statics[] = {
    {"broker.id", "broker.id", S_INT, F(node_id), false},
    {"log.dirs", "broker.data_dir", S_STR, F(data_dir), false},
    {"listeners", "broker.listeners", S_LISTENERS, 0, false},
    {"auto.create.topics.enable", "topics.auto_create", S_BOOL, F(auto_create_topics), false},
    {"num.partitions", "topics.num_partitions", S_INT, F(num_partitions), false},
    {"default.replication.factor", "topics.default_replication_factor", S_I16,
     F(default_replication_factor), false},
    {"socket.request.max.bytes", "socket.request_max_bytes", S_SIZE, F(socket_request_max_bytes),
     false},
    {"connections.max.idle.ms", "socket.connections_max_idle_ms", S_I64, F(connections_max_idle_ms),
     false},
    {"max.connections", "socket.max_connections", S_I64, F(max_connections), false},
    {"max.connections.per.ip", "socket.max_connections_per_ip", S_I64, F(max_connections_per_ip),
     false},
    {"max.connections.per.ip.overrides", "socket.max_connections_per_ip_overrides", S_STR,
     F(max_connections_per_ip_overrides), false},
    {"queued.max.request.bytes", "socket.queued_max_request_bytes", S_I64,
     F(queued_max_request_bytes), false},
    {"sasl.server.max.receive.size", "security.sasl_max_receive_size", S_I64,
     F(sasl_max_receive_size), false},
    {"offsets.topic.num.partitions", "groups.offsets_topic_partitions", S_INT,
     F(offsets_topic_partitions), false},
    {"offsets.topic.segment.bytes", "groups.offsets_segment_bytes", S_I64, F(offsets_segment_bytes),
     false},
    {"group.initial.rebalance.delay.ms", "groups.initial_rebalance_delay_ms", S_I64,
     F(group_initial_rebalance_delay_ms), false},
    {"group.min.session.timeout.ms", "groups.min_session_timeout_ms", S_I64,
     F(group_min_session_timeout_ms), false},
    {"group.max.session.timeout.ms", "groups.max_session_timeout_ms", S_I64,
     F(group_max_session_timeout_ms), false},
    {"group.max.size", "groups.max_size", S_INT, F(group_max_size), false},
    {"offsets.retention.minutes", "groups.offsets_retention_minutes", S_I64,
     F(offsets_retention_minutes), false},
    {"offsets.retention.check.interval.ms", "groups.offsets_retention_check_interval_ms", S_I64,
     F(offsets_retention_check_interval_ms), false},
    {"producer.id.expiration.ms", "producer.id_expiration_ms", S_I64, F(producer_id_expiration_ms),
     false},
    {"producer.id.expiration.check.interval.ms", "producer.id_expiration_check_interval_ms", S_I64,
     F(producer_id_expiration_check_interval_ms), false},
    {"log.retention.check.interval.ms", "log.retention_check_interval_ms", S_I64,
     F(retention_check_interval_ms), false},
    {"sasl.enabled.mechanisms", "security.sasl_mechanisms", S_MECHS, 0, false},
    {"super.users", "security.super_users", S_STR, F(super_users), false},
    {"allow.everyone.if.no.acl.found", "security.allow_everyone_if_no_acl_found", S_BOOL,
     F(allow_everyone_if_no_acl_found), false},
    {"quota.window.num", "quotas.window_num", S_INT, F(quota_window_num), false},
    {"quota.window.size.seconds", "quotas.window_size_seconds", S_INT, F(quota_window_size_seconds),
     false},
    /* Strait's own: offsets.retention.minutes in ms (wins when >= 0), the authentication
     * deadline, the management endpoint, and its secret (never shown) */
    {"groups.offsets_retention_ms", "groups.offsets_retention_ms", S_I64, F(offsets_retention_ms),
     false},
    {"socket.auth_timeout_ms", "socket.auth_timeout_ms", S_I64, F(auth_timeout_ms), false},
    {"mgmt.url", "mgmt.url", S_STR, F(mgmt_url), false},
    {"mgmt.token", "mgmt.token", S_STR, F(mgmt_token), true},
};
#define NSTATICS (sizeof statics / sizeof statics[0])

static void format_static(const static_def *s, const st_broker_config *cfg, char *out, size_t cap)
{
    const char *base = (const char *)cfg + s->offset;
    switch (s->kind) {
    case S_INT:
        snprintf(out, cap, "%d", *(const int32_t *)(const void *)base);
        return;
    case S_I16:
        snprintf(out, cap, "%d", *(const int16_t *)(const void *)base);
        return;
    case S_I64:
        snprintf(out, cap, "%" PRId64, *(const int64_t *)(const void *)base);
        return;
    case S_SIZE:
        snprintf(out, cap, "%zu", *(const size_t *)(const void *)base);
        return;
    case S_BOOL:
        snprintf(out, cap, "%s", *(const bool *)(const void *)base ? "true" : "false");
        return;
    case S_STR:
        snprintf(out, cap, "%s", base);
        return;
    case S_LISTENERS: {
        size_t len = 0;
        out[0] = '\0';
        for (size_t i = 0; i < cfg->nlisteners && len < cap; i++) {
            const st_listener_config *l = &cfg->listeners[i];
            bool v6 = strchr(l->host, ':') != NULL;
            len += (size_t)snprintf(out + len, cap - len, "%s%s://%s%s%s:%d", i ? "," : "",
                                    st_sec_protocol_name(l->protocol), v6 ? "[" : "", l->host,
                                    v6 ? "]" : "", l->port);
        }
        if (cfg->nlisteners == 0) /* before the listeners open: the one on host:port */
            snprintf(out, cap, "PLAINTEXT://%s:%d", cfg->listen_host, cfg->port);
        return;
    }
    case S_MECHS:
        snprintf(out, cap, "%s%s%s%s%s", cfg->sasl_mechanisms & ST_SASL_MECH_PLAIN ? "PLAIN" : "",
                 (cfg->sasl_mechanisms & ST_SASL_MECH_PLAIN) &&
                         (cfg->sasl_mechanisms & ~ST_SASL_MECH_PLAIN)
                     ? ","
                     : "",
                 cfg->sasl_mechanisms & ST_SASL_MECH_SCRAM_SHA_256 ? "SCRAM-SHA-256" : "",
                 (cfg->sasl_mechanisms & ST_SASL_MECH_SCRAM_SHA_256) &&
                         (cfg->sasl_mechanisms & ST_SASL_MECH_SCRAM_SHA_512)
                     ? ","
                     : "",
                 cfg->sasl_mechanisms & ST_SASL_MECH_SCRAM_SHA_512 ? "SCRAM-SHA-512" : "");
        return;
    }
}

/* ---- levels ---- */

static const char *kv_get(st_config_kv *kv, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].name, name) == 0)
            return kv[i].value;
    return NULL;
}

const char *st_dynconfig_get(const st_dynconfig *d, st_dyn_level level, const char *name)
{
    return kv_get(d->kv[level], d->nkv[level], name);
}

bool st_dynconfig_is_dynamic(const char *name)
{
    return st_topic_config_find_broker(name) != NULL;
}

bool st_dynconfig_is_list(const char *name)
{
    const st_topic_config_def *def = st_topic_config_find_broker(name);
    return def && st_topic_config_is_list(def);
}

bool st_dynconfig_topic_is_list(const char *topic_config)
{
    const st_topic_config_def *def = st_topic_config_find(topic_config);
    return def && st_topic_config_is_list(def);
}

/* The file's defaults, then the cluster-wide dynamic values, then this broker's. */
static int compute(const st_broker_config *cfg, st_config_kv *const kv[2], const size_t nkv[2],
                   st_log_config *out, char *err, size_t errlen)
{
    *out = cfg->log_defaults;
    static const st_dyn_level order[2] = {ST_DYN_DEFAULT, ST_DYN_BROKER};
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; i < nkv[order[l]]; i++) {
            const st_config_kv *e = &kv[order[l]][i];
            const st_topic_config_def *def = st_topic_config_find_broker(e->name);
            char why[300];
            if (!def) {
                snprintf(err, errlen, "%s is not a dynamic broker config", e->name);
                return ST_ERR_INVALID_REQUEST;
            }
            if (st_topic_config_apply(st_topic_config_name(def), e->value, out, why, sizeof why)) {
                snprintf(err, errlen, "%s=%s: %s", e->name, e->value, why);
                return ST_ERR_INVALID_CONFIG;
            }
        }
    }
    return 0;
}

void st_dynconfig_log_defaults(const st_dynconfig *d, st_log_config *out)
{
    char err[400];
    if (compute(d->cfg, d->kv, d->nkv, out, err, sizeof err) != 0) {
        st_error("broker configs: %s; using the config file's defaults", err); /* checked */
        *out = d->cfg->log_defaults;
    }
}

/* ---- the file ---- */

static int save(const st_dynconfig *d, st_config_kv *const kv[2], const size_t nkv[2], char *err,
                size_t errlen)
{
    json_t *root = json_object();
    json_object_set_new(root, "version", json_integer(1));
    for (int l = 0; l < 2; l++) {
        json_t *o = json_object();
        for (size_t i = 0; i < nkv[l]; i++)
            json_object_set_new(o, kv[l][i].name, json_string(kv[l][i].value));
        json_object_set_new(root, level_keys[l], o);
    }
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(root);
    if (!text) {
        snprintf(err, errlen, "cannot encode %s/" DYN_FILE ": out of memory", d->meta_dir);
        return -1;
    }
    int rc = st_file_write_atomic(d->meta_dir, DYN_FILE, text, strlen(text), true, err, errlen);
    free(text);
    return rc;
}

static int load(st_dynconfig *d, char *err, size_t errlen)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/" DYN_FILE, d->meta_dir);
    json_error_t jerr;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0; /* nothing set at run time yet */
    json_t *root = json_loadf(f, 0, &jerr);
    fclose(f);
    if (!root) {
        snprintf(err, errlen, "%s:%d: %s (fix or remove the file)", path, jerr.line, jerr.text);
        return -1;
    }
    int rc = -1;
    for (int l = 0; l < 2; l++) {
        json_t *o = json_object_get(root, level_keys[l]);
        if (!o)
            continue;
        if (!json_is_object(o)) {
            snprintf(err, errlen, "%s: \"%s\" must be an object", path, level_keys[l]);
            goto out;
        }
        d->kv[l] = calloc(json_object_size(o) + 1, sizeof *d->kv[l]);
        const char *key;
        json_t *val;
        json_object_foreach(o, key, val)
        {
            if (!json_is_string(val) || !st_dynconfig_is_dynamic(key)) {
                snprintf(err, errlen,
                         "%s: \"%s\" in \"%s\" must be a dynamic broker config with a string "
                         "value",
                         path, key, level_keys[l]);
                goto out;
            }
            d->kv[l][d->nkv[l]].name = strdup(key);
            d->kv[l][d->nkv[l]].value = strdup(json_string_value(val));
            d->nkv[l]++;
        }
    }
    st_log_config check;
    if (compute(d->cfg, d->kv, d->nkv, &check, err, errlen) != 0)
        goto out;
    rc = 0;
out:
    json_decref(root);
    return rc;
}

st_dynconfig *st_dynconfig_open(const char *data_dir, const st_broker_config *cfg, char *err,
                                size_t errlen)
{
    st_dynconfig *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->cfg = cfg;
    snprintf(d->meta_dir, sizeof d->meta_dir, "%s/meta", data_dir);
    if (load(d, err, errlen) != 0) {
        st_dynconfig_free(d);
        return NULL;
    }
    if (d->nkv[0] + d->nkv[1] > 0)
        st_info("broker configs: %zu set for this broker, %zu cluster-wide (" DYN_FILE ")",
                d->nkv[ST_DYN_BROKER], d->nkv[ST_DYN_DEFAULT]);
    return d;
}

void st_dynconfig_free(st_dynconfig *d)
{
    if (!d)
        return;
    for (int l = 0; l < 2; l++)
        st_config_kv_free(d->kv[l], d->nkv[l]);
    free(d);
}

/* ---- altering ---- */

/* Sets (value) or removes (NULL) name in the array; grows it by one at most. */
static void kv_put(st_config_kv *kv, size_t *n, const char *name, const char *value)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(kv[i].name, name) != 0)
            continue;
        free(kv[i].value);
        if (value) {
            kv[i].value = strdup(value);
        } else {
            free(kv[i].name);
            kv[i] = kv[--*n];
        }
        return;
    }
    if (value) {
        kv[*n].name = strdup(name);
        kv[*n].value = strdup(value);
        (*n)++;
    }
}

static bool is_static(const char *name)
{
    for (size_t i = 0; i < NSTATICS; i++)
        if (strcmp(statics[i].name, name) == 0)
            return true;
    return false;
}

int st_dynconfig_alter(st_dynconfig *d, st_dyn_level level, const st_config_set *sets, size_t n,
                       bool replace, bool validate_only, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (st_dynconfig_is_dynamic(sets[i].name))
            continue;
        if (is_static(sets[i].name))
            snprintf(err, errlen,
                     "%s cannot be changed at run time: set it in the config file and restart "
                     "the broker",
                     sets[i].name);
        else
            snprintf(err, errlen, "unknown broker config \"%s\"", sets[i].name);
        return ST_ERR_INVALID_REQUEST;
    }
    st_config_kv *kv[2] = {d->kv[0], d->kv[1]};
    size_t nkv[2] = {d->nkv[0], d->nkv[1]};
    size_t base = replace ? 0 : d->nkv[level];
    st_config_kv *fresh = calloc(base + n + 1, sizeof *fresh);
    size_t nfresh = 0;
    if (!fresh) {
        snprintf(err, errlen, "out of memory");
        return ST_ERR_UNKNOWN_SERVER_ERROR;
    }
    for (size_t i = 0; i < base; i++)
        kv_put(fresh, &nfresh, d->kv[level][i].name, d->kv[level][i].value);
    for (size_t i = 0; i < n; i++)
        kv_put(fresh, &nfresh, sets[i].name, sets[i].value);
    kv[level] = fresh;
    nkv[level] = nfresh;
    st_log_config check;
    int rc = compute(d->cfg, kv, nkv, &check, err, errlen);
    if (rc == 0 && !validate_only && save(d, kv, nkv, err, errlen) != 0)
        rc = ST_ERR_KAFKA_STORAGE_ERROR;
    if (rc != 0 || validate_only) {
        st_config_kv_free(fresh, nfresh);
        return rc;
    }
    st_config_kv_free(d->kv[level], d->nkv[level]);
    d->kv[level] = fresh;
    d->nkv[level] = nfresh;
    st_info("broker configs: %zu set %s at run time", nfresh,
            level == ST_DYN_BROKER ? "for this broker" : "cluster-wide");
    return 0;
}

/* ---- describing ---- */

void st_config_entries_free(st_config_entry *entries, size_t n)
{
    if (!entries)
        return;
    for (size_t i = 0; i < n; i++) {
        free(entries[i].value);
        for (int k = 0; k < entries[i].nsynonyms; k++)
            free(entries[i].synonyms[k].value);
    }
    free(entries);
}

static void add_synonym(st_config_entry *e, const char *name, const char *value, int8_t source)
{
    if (e->nsynonyms == ST_CONFIG_MAX_SYNONYMS)
        return;
    e->synonyms[e->nsynonyms++] =
        (st_config_synonym){name, value && !e->sensitive ? strdup(value) : NULL, source};
}

/* The broker levels of a dynamic config (def's broker name): this broker's, the
 * cluster-wide one, the config file's, then Kafka's default under the name that holds
 * it. Kafka lists them from the first one named like the config, so a default held by
 * another name (log.retention.hours for log.retention.ms) shows only after a level
 * that sets the config itself. */
static void broker_synonyms(const st_dynconfig *d, const st_topic_config_def *def,
                            st_config_entry *e)
{
    const char *bname = st_topic_config_broker_name(def);
    const char *v;
    int before = e->nsynonyms;
    if ((v = st_dynconfig_get(d, ST_DYN_BROKER, bname)))
        add_synonym(e, bname, v, ST_CONFIG_SOURCE_DYNAMIC_BROKER);
    if ((v = st_dynconfig_get(d, ST_DYN_DEFAULT, bname)))
        add_synonym(e, bname, v, ST_CONFIG_SOURCE_DYNAMIC_DEFAULT);
    if (st_broker_config_is_set(d->cfg, st_topic_config_file_path(def))) {
        char text[64];
        st_topic_config_format(def, &d->cfg->log_defaults, NULL, text, sizeof text);
        add_synonym(e, bname, text, ST_CONFIG_SOURCE_STATIC);
    }
    const char *dname, *dvalue;
    st_topic_config_kafka_default(def, &dname, &dvalue);
    if (dvalue && (e->nsynonyms > before || strcmp(dname, bname) == 0))
        add_synonym(e, dname, dvalue, ST_CONFIG_SOURCE_DEFAULT);
}

void st_dynconfig_topic_entry(const st_dynconfig *d, const char *topic_config, const char *override,
                              st_config_entry *e)
{
    const st_topic_config_def *def = st_topic_config_find(topic_config);
    e->nsynonyms = 0;
    if (override)
        add_synonym(e, topic_config, override, ST_CONFIG_SOURCE_TOPIC);
    if (def)
        broker_synonyms(d, def, e);
    e->source = e->nsynonyms > 0 ? e->synonyms[0].source : ST_CONFIG_SOURCE_DEFAULT;
}

int st_dynconfig_value(const st_dynconfig *d, const char *name, char *out, size_t cap)
{
    const st_topic_config_def *def = st_topic_config_find_broker(name);
    if (def) {
        st_log_config eff;
        st_dynconfig_log_defaults(d, &eff);
        const char *ov = st_dynconfig_get(d, ST_DYN_BROKER, name);
        if (!ov)
            ov = st_dynconfig_get(d, ST_DYN_DEFAULT, name);
        st_topic_config_format(def, &eff, ov, out, cap);
        return 0;
    }
    for (size_t i = 0; i < NSTATICS; i++)
        if (strcmp(statics[i].name, name) == 0) {
            format_static(&statics[i], d->cfg, out, cap);
            return 0;
        }
    return -1;
}

int st_dynconfig_describe(const st_dynconfig *d, bool per_broker, st_config_entry **out, size_t *n)
{
    size_t ndyn = st_topic_config_count();
    st_config_entry *e = calloc(ndyn + NSTATICS, sizeof *e);
    size_t count = 0;
    *out = NULL;
    *n = 0;
    if (!e)
        return ST_ERR__NOMEM;
    char text[PATH_MAX + 64];
    for (size_t i = 0; i < ndyn; i++) {
        const st_topic_config_def *def = st_topic_config_at(i);
        const char *bname = st_topic_config_broker_name(def);
        st_config_entry *x = &e[count];
        *x = (st_config_entry){.name = bname};
        if (!per_broker) {
            /* "": the cluster-wide dynamic defaults, and nothing else */
            const char *v = st_dynconfig_get(d, ST_DYN_DEFAULT, bname);
            if (!v)
                continue;
            x->value = strdup(v);
            x->source = ST_CONFIG_SOURCE_DYNAMIC_DEFAULT;
            add_synonym(x, bname, v, ST_CONFIG_SOURCE_DYNAMIC_DEFAULT);
            count++;
            continue;
        }
        st_dynconfig_value(d, bname, text, sizeof text);
        x->value = strdup(text);
        broker_synonyms(d, def, x);
        /* the winning level names the config itself; Kafka's default under another
         * name (log.roll.hours) still means DEFAULT_CONFIG */
        x->source = x->nsynonyms > 0 && strcmp(x->synonyms[0].name, bname) == 0
                        ? x->synonyms[0].source
                        : ST_CONFIG_SOURCE_DEFAULT;
        count++;
    }
    if (per_broker) {
        st_broker_config builtin;
        st_broker_config_defaults(&builtin);
        for (size_t i = 0; i < NSTATICS; i++) {
            const static_def *s = &statics[i];
            st_config_entry *x = &e[count++];
            bool set = st_broker_config_is_set(d->cfg, s->file_path);
            *x = (st_config_entry){.name = s->name, .read_only = true, .sensitive = s->sensitive};
            format_static(s, d->cfg, text, sizeof text);
            x->value = s->sensitive ? NULL : strdup(text);
            x->source = set ? ST_CONFIG_SOURCE_STATIC : ST_CONFIG_SOURCE_DEFAULT;
            if (set)
                add_synonym(x, s->name, text, ST_CONFIG_SOURCE_STATIC);
            format_static(s, &builtin, text, sizeof text);
            add_synonym(x, s->name, text, ST_CONFIG_SOURCE_DEFAULT);
        }
    }
    *out = e;
    *n = count;
    return 0;
}
