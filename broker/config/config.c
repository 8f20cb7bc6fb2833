/*
 * straitd's configuration: Kafka's broker settings in one libconfig file, grouped
 * because libconfig names cannot contain dots (log.retention.ms → log.retention_ms).
 * Every setting has a default; an unknown setting or a wrong type fails the start
 * with file, line and reason, so a typo never silently falls back to a default.
 */
#include "broker/config/config.h"

#include <errno.h>
#include <libconfig.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/net/iplimit.h"
#include "common/errors.h"
#include "common/logging.h"

void st_broker_config_defaults(st_broker_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->node_id = 0;
    snprintf(cfg->listen_host, sizeof cfg->listen_host, "127.0.0.1");
    cfg->port = 9092;
    /* Kafka 2.5+'s zookeeper.session.timeout.ms and its connection timeout default */
    cfg->zookeeper_session_timeout_ms = 18000;
    cfg->zookeeper_connect_timeout_ms = 18000;
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "./data");
    cfg->socket_request_max_bytes = 104857600;
    cfg->connections_max_idle_ms = 600000;
    cfg->auth_timeout_ms = 10000;
    cfg->max_connections = INT32_MAX;
    cfg->max_connections_per_ip = INT32_MAX;
    cfg->queued_max_request_bytes = 536870912;
    cfg->sasl_max_receive_size = 524288;
    cfg->auto_create_topics = true;
    cfg->num_partitions = 1;
    cfg->default_replication_factor = 1;
    cfg->offsets_topic_partitions = 50;
    cfg->offsets_segment_bytes = 104857600;
    cfg->group_initial_rebalance_delay_ms = 3000;
    cfg->group_min_session_timeout_ms = 6000;
    cfg->group_max_session_timeout_ms = 1800000;
    cfg->group_max_size = 1000;
    cfg->offsets_retention_minutes = 10080;
    cfg->offsets_retention_ms = -1;
    cfg->offsets_retention_check_interval_ms = 600000;
    cfg->producer_id_expiration_ms = 86400000;
    cfg->producer_id_expiration_check_interval_ms = 600000;
    cfg->txn_max_timeout_ms = 900000;
    cfg->txn_id_expiration_ms = 604800000;
    cfg->retention_check_interval_ms = 300000;
    st_log_config_defaults(&cfg->log_defaults);
    snprintf(cfg->mgmt_url, sizeof cfg->mgmt_url, "tcp://127.0.0.1:9192");
    snprintf(cfg->log_level, sizeof cfg->log_level, "info");
    snprintf(cfg->log_format, sizeof cfg->log_format, "text");
    cfg->sasl_mechanisms =
        ST_SASL_MECH_PLAIN | ST_SASL_MECH_SCRAM_SHA_256 | ST_SASL_MECH_SCRAM_SHA_512;
    cfg->failed_auth_delay_ms = 100;
    cfg->auth_attempts_per_second = 20;
    cfg->auth_checks_per_address = 4;
    cfg->auth_checks_max = 64;
    cfg->auth_cache_entries = 4096;
    cfg->auth_cache_ms = 60000;
    cfg->worker_threads = 2;
    cfg->quota_window_num = 11;
    cfg->quota_window_size_seconds = 1;
}

const char *st_sec_protocol_name(st_sec_protocol p)
{
    switch (p) {
    case ST_SEC_PLAINTEXT:
        return "PLAINTEXT";
    case ST_SEC_SASL_PLAINTEXT:
        return "SASL_PLAINTEXT";
    case ST_SEC_SASL_SSL:
        return "SASL_SSL";
    }
    return "UNKNOWN";
}

/* Parses one "PROTOCOL://host:port" (host may be empty: every address; [v6] allowed). */
static int parse_listener(const char *item, size_t len, st_listener_config *out, char *why,
                          size_t whylen)
{
    static const st_sec_protocol protos[] = {ST_SEC_PLAINTEXT, ST_SEC_SASL_PLAINTEXT,
                                             ST_SEC_SASL_SSL};
    const char *sep = memmem(item, len, "://", 3);
    bool found = false;
    for (size_t i = 0; sep && i < sizeof protos / sizeof protos[0]; i++) {
        const char *name = st_sec_protocol_name(protos[i]);
        if (strlen(name) == (size_t)(sep - item) && strncmp(item, name, strlen(name)) == 0) {
            out->protocol = protos[i];
            found = true;
        }
    }
    if (!found) {
        snprintf(why, whylen,
                 "listener \"%.*s\" must be PROTOCOL://host:port with PROTOCOL one of "
                 "PLAINTEXT, SASL_PLAINTEXT, SASL_SSL",
                 (int)len, item);
        return -1;
    }
    const char *hp = sep + 3, *end = item + len;
    const char *colon = NULL;
    for (const char *p = hp; p < end; p++)
        if (*p == ':')
            colon = p;
    char *num_end;
    long port = colon ? strtol(colon + 1, &num_end, 10) : -1;
    if (!colon || colon + 1 == end || num_end != end || port < 0 || port > 65535) {
        snprintf(why, whylen, "listener \"%.*s\" needs a port 0..65535 (0: a free port)", (int)len,
                 item);
        return -1;
    }
    const char *h = hp, *he = colon;
    if (he - h >= 2 && *h == '[' && he[-1] == ']') {
        h++;
        he--;
    }
    if ((size_t)(he - h) >= sizeof out->host) {
        snprintf(why, whylen, "listener \"%.*s\": host name too long", (int)len, item);
        return -1;
    }
    snprintf(out->host, sizeof out->host, "%.*s", (int)(he - h), h);
    out->port = (int)port;
    return 0;
}

/* broker.listeners: comma-separated listeners, at most ST_MAX_LISTENERS. */
static int parse_listeners(st_broker_config *cfg, const char *v, char *why, size_t whylen)
{
    cfg->nlisteners = 0;
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, ",");
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (cfg->nlisteners == ST_MAX_LISTENERS) {
            snprintf(why, whylen, "broker.listeners: at most %d listeners", ST_MAX_LISTENERS);
            return -1;
        }
        if (parse_listener(p, n, &cfg->listeners[cfg->nlisteners], why, whylen))
            return -1;
        cfg->nlisteners++;
        p += n;
    }
    return 0;
}

/* security.sasl_mechanisms: "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512" in any order/subset. */
static int parse_mechanisms(st_broker_config *cfg, const char *v, char *why, size_t whylen)
{
    unsigned set = 0;
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 0)
            break;
        if (n == 5 && strncmp(p, "PLAIN", 5) == 0)
            set |= ST_SASL_MECH_PLAIN;
        else if (n == 13 && strncmp(p, "SCRAM-SHA-256", 13) == 0)
            set |= ST_SASL_MECH_SCRAM_SHA_256;
        else if (n == 13 && strncmp(p, "SCRAM-SHA-512", 13) == 0)
            set |= ST_SASL_MECH_SCRAM_SHA_512;
        else {
            snprintf(why, whylen,
                     "security.sasl_mechanisms: unknown mechanism \"%.*s\" (PLAIN, "
                     "SCRAM-SHA-256, SCRAM-SHA-512)",
                     (int)n, p);
            return -1;
        }
        p += n;
    }
    if (!set) {
        snprintf(why, whylen, "security.sasl_mechanisms must name at least one mechanism");
        return -1;
    }
    cfg->sasl_mechanisms = set;
    return 0;
}

enum kind {
    K_INT,
    K_INT64,
    K_BOOL,
    K_STR,
    K_FLUSH,
    K_TSTYPE,
    K_POLICY,
    K_LISTENERS,
    K_MECHS,
    K_IPLIMITS, /* a string of ADDRESS:COUNT items, checked at load */
};

/* One row per accepted setting: "group.name", its kind and where it lands. */
typedef struct setting {
    const char *path;
    enum kind kind;
    size_t offset;
    size_t size; /* strings: capacity */
    int64_t min, max;
} setting;

#define F(field) offsetof(st_broker_config, field)
#define L(field) (offsetof(st_broker_config, log_defaults) + offsetof(st_log_config, field))

static const setting settings[] = {
    {"broker.id", K_INT, F(node_id), 0, 0, INT32_MAX},
    {"broker.host", K_STR, F(listen_host), sizeof(((st_broker_config *)0)->listen_host), 0, 0},
    {"broker.port", K_INT, F(port), 0, 0, 65535},
    {"broker.advertised_host", K_STR, F(advertised_host),
     sizeof(((st_broker_config *)0)->advertised_host), 0, 0},
    {"broker.advertised_port", K_INT, F(advertised_port), 0, 0, 65535},
    {"broker.data_dir", K_STR, F(data_dir), sizeof(((st_broker_config *)0)->data_dir), 0, 0},
    {"broker.cluster_id", K_STR, F(cluster_id), sizeof(((st_broker_config *)0)->cluster_id), 0, 0},
    {"broker.rack", K_STR, F(rack), sizeof(((st_broker_config *)0)->rack), 0, 0},
    {"cluster.zookeeper", K_STR, F(zookeeper), sizeof(((st_broker_config *)0)->zookeeper), 0, 0},
    {"cluster.zookeeper_session_timeout_ms", K_INT, F(zookeeper_session_timeout_ms), 0, 400,
     600000},
    {"cluster.zookeeper_connect_timeout_ms", K_INT, F(zookeeper_connect_timeout_ms), 0, 100,
     600000},
    {"broker.log_level", K_STR, F(log_level), sizeof(((st_broker_config *)0)->log_level), 0, 0},
    {"broker.log_format", K_STR, F(log_format), sizeof(((st_broker_config *)0)->log_format), 0, 0},
    {"socket.request_max_bytes", K_INT64, F(socket_request_max_bytes), sizeof(size_t), 1024,
     INT32_MAX},
    {"socket.connections_max_idle_ms", K_INT64, F(connections_max_idle_ms), 8, 1, INT64_MAX},
    {"socket.auth_timeout_ms", K_INT64, F(auth_timeout_ms), 8, 1, INT64_MAX},
    {"socket.max_connections", K_INT64, F(max_connections), 8, 0, INT32_MAX},
    {"socket.max_connections_per_ip", K_INT64, F(max_connections_per_ip), 8, 0, INT32_MAX},
    {"socket.max_connections_per_ip_overrides", K_IPLIMITS, F(max_connections_per_ip_overrides),
     sizeof(((st_broker_config *)0)->max_connections_per_ip_overrides), 0, 0},
    {"socket.queued_max_request_bytes", K_INT64, F(queued_max_request_bytes), 8, -1, INT64_MAX},
    {"security.sasl_max_receive_size", K_INT64, F(sasl_max_receive_size), 8, 64, INT32_MAX},
    {"topics.auto_create", K_BOOL, F(auto_create_topics), 0, 0, 0},
    {"topics.num_partitions", K_INT, F(num_partitions), 0, 1, 10000},
    {"topics.default_replication_factor", K_INT, F(default_replication_factor), 2, 1, 1},
    {"groups.offsets_topic_partitions", K_INT, F(offsets_topic_partitions), 0, 1, 1000},
    {"groups.offsets_segment_bytes", K_INT64, F(offsets_segment_bytes), 8, 1024, INT32_MAX},
    {"groups.initial_rebalance_delay_ms", K_INT64, F(group_initial_rebalance_delay_ms), 8, 0,
     INT32_MAX},
    {"groups.min_session_timeout_ms", K_INT64, F(group_min_session_timeout_ms), 8, 1, INT32_MAX},
    {"groups.max_session_timeout_ms", K_INT64, F(group_max_session_timeout_ms), 8, 1, INT32_MAX},
    {"groups.max_size", K_INT, F(group_max_size), 0, 1, INT32_MAX},
    {"groups.offsets_retention_minutes", K_INT64, F(offsets_retention_minutes), 8, 1,
     INT64_MAX / 60000},
    {"groups.offsets_retention_ms", K_INT64, F(offsets_retention_ms), 8, -1, INT64_MAX},
    {"groups.offsets_retention_check_interval_ms", K_INT64, F(offsets_retention_check_interval_ms),
     8, 1, INT64_MAX},
    {"producer.id_expiration_ms", K_INT64, F(producer_id_expiration_ms), 8, 1, INT64_MAX},
    {"producer.id_expiration_check_interval_ms", K_INT64,
     F(producer_id_expiration_check_interval_ms), 8, 1, INT64_MAX},
    {"transaction.max_timeout_ms", K_INT64, F(txn_max_timeout_ms), 8, 1, INT32_MAX},
    {"transaction.id_expiration_ms", K_INT64, F(txn_id_expiration_ms), 8, 1, INT64_MAX},
    {"log.retention_check_interval_ms", K_INT64, F(retention_check_interval_ms), 8, 10, INT64_MAX},
    {"log.segment_bytes", K_INT64, L(segment_bytes), 8, 14, INT32_MAX},
    {"log.segment_ms", K_INT64, L(segment_ms), 8, 1, INT64_MAX},
    {"log.retention_ms", K_INT64, L(retention_ms), 8, -1, INT64_MAX},
    {"log.retention_bytes", K_INT64, L(retention_bytes), 8, -1, INT64_MAX},
    {"log.flush_messages", K_FLUSH, L(flush_messages), 8, -1, INT64_MAX},
    {"log.flush_ms", K_FLUSH, L(flush_ms), 8, -1, INT64_MAX},
    {"log.delete_retention_ms", K_INT64, L(delete_retention_ms), 8, 0, INT64_MAX},
    {"log.min_compaction_lag_ms", K_INT64, L(min_compaction_lag_ms), 8, 0, INT64_MAX},
    {"log.max_message_bytes", K_INT, L(max_message_bytes), 0, 64, INT32_MAX},
    {"log.index_interval_bytes", K_INT, L(index_interval_bytes), 0, 0, INT32_MAX},
    {"log.message_timestamp_type", K_TSTYPE, L(log_append_time), 0, 0, 0},
    {"log.cleanup_policy", K_POLICY, L(cleanup_delete), 0, 0, 0},
    {"mgmt.url", K_STR, F(mgmt_url), sizeof(((st_broker_config *)0)->mgmt_url), 0, 0},
    {"mgmt.survey_url", K_STR, F(mgmt_survey_url), sizeof(((st_broker_config *)0)->mgmt_survey_url),
     0, 0},
    {"mgmt.token", K_STR, F(mgmt_token), sizeof(((st_broker_config *)0)->mgmt_token), 0, 0},
    {"broker.listeners", K_LISTENERS, 0, 0, 0, 0},
    {"security.sasl_mechanisms", K_MECHS, 0, 0, 0, 0},
    {"security.ssl_certificate", K_STR, F(ssl_certificate),
     sizeof(((st_broker_config *)0)->ssl_certificate), 0, 0},
    {"security.ssl_key", K_STR, F(ssl_key), sizeof(((st_broker_config *)0)->ssl_key), 0, 0},
    {"security.authorizer", K_BOOL, F(authorizer), 0, 0, 0},
    {"security.super_users", K_STR, F(super_users), sizeof(((st_broker_config *)0)->super_users), 0,
     0},
    {"security.allow_everyone_if_no_acl_found", K_BOOL, F(allow_everyone_if_no_acl_found), 0, 0, 0},
    {"security.failed_auth_delay_ms", K_INT64, F(failed_auth_delay_ms), 8, 0, 60000},
    {"security.auth_attempts_per_second", K_INT, F(auth_attempts_per_second), 0, 0, 1000000},
    {"security.auth_checks_per_address", K_INT, F(auth_checks_per_address), 0, 0, 256},
    {"security.auth_checks_max", K_INT, F(auth_checks_max), 0, 1, 256},
    {"security.auth_cache_entries", K_INT, F(auth_cache_entries), 0, 0, 1048576},
    {"security.auth_cache_ms", K_INT64, F(auth_cache_ms), 8, 0, 3600000},
    {"broker.worker_threads", K_INT, F(worker_threads), 0, 1, 64},
    {"quotas.window_num", K_INT, F(quota_window_num), 0, 2, 1000},
    {"quotas.window_size_seconds", K_INT, F(quota_window_size_seconds), 0, 1, 3600},
};

_Static_assert(sizeof settings / sizeof settings[0] <= ST_BROKER_MAX_SETTINGS,
               "raise ST_BROKER_MAX_SETTINGS");

static const setting *find_setting(const char *path)
{
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (strcmp(settings[i].path, path) == 0)
            return &settings[i];
    return NULL;
}

bool st_broker_config_is_set(const st_broker_config *cfg, const char *path)
{
    const setting *def = path ? find_setting(path) : NULL;
    return def && cfg->set_in_file[def - settings];
}

static int fail(char *err, size_t errlen, const char *file, const config_setting_t *s,
                const char *what)
{
    snprintf(err, errlen, "%s:%d: %s", file, s ? config_setting_source_line(s) : 0, what);
    return -1;
}

static int apply(st_broker_config *cfg, const setting *def, const config_setting_t *s,
                 const char *path, const char *file, char *err, size_t errlen)
{
    char why[512];
    uint8_t *base = (uint8_t *)cfg;
    int type = config_setting_type(s);
    switch (def->kind) {
    case K_INT:
    case K_INT64:
    case K_FLUSH: {
        if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
            snprintf(why, sizeof why, "%s must be an integer", path);
            return fail(err, errlen, file, s, why);
        }
        long long v = config_setting_get_int64(s);
        if (v < def->min || v > def->max) {
            snprintf(why, sizeof why, "%s = %lld is out of range [%lld, %lld]", path, v,
                     (long long)def->min, (long long)def->max);
            return fail(err, errlen, file, s, why);
        }
        if (def->kind == K_FLUSH && v <= 0)
            v = INT64_MAX; /* -1: leave flushing to the OS, as Kafka's default */
        if (def->kind == K_INT && def->size == 2)
            *(int16_t *)(base + def->offset) = (int16_t)v;
        else if (def->kind == K_INT)
            *(int32_t *)(base + def->offset) = (int32_t)v;
        else if (def->size == sizeof(size_t) && def->offset == F(socket_request_max_bytes))
            *(size_t *)(base + def->offset) = (size_t)v;
        else
            *(int64_t *)(base + def->offset) = (int64_t)v;
        return 0;
    }
    case K_BOOL:
        if (type != CONFIG_TYPE_BOOL) {
            snprintf(why, sizeof why, "%s must be true or false", path);
            return fail(err, errlen, file, s, why);
        }
        *(bool *)(base + def->offset) = config_setting_get_bool(s);
        return 0;
    default:
        break;
    }
    if (type != CONFIG_TYPE_STRING) {
        snprintf(why, sizeof why, "%s must be a string", path);
        return fail(err, errlen, file, s, why);
    }
    const char *v = config_setting_get_string(s);
    if (def->kind == K_IPLIMITS) {
        st_ip_limit *limits;
        size_t n;
        char bad[300];
        if (st_ip_limits_parse(v, &limits, &n, bad, sizeof bad)) {
            snprintf(why, sizeof why, "%s: %s", path, bad);
            return fail(err, errlen, file, s, why);
        }
        free(limits);
    }
    if (def->kind == K_STR || def->kind == K_IPLIMITS) {
        if (strlen(v) >= def->size) {
            snprintf(why, sizeof why, "%s is longer than %zu characters", path, def->size - 1);
            return fail(err, errlen, file, s, why);
        }
        snprintf((char *)(base + def->offset), def->size, "%s", v);
        return 0;
    }
    if (def->kind == K_LISTENERS || def->kind == K_MECHS) {
        int rc = def->kind == K_LISTENERS ? parse_listeners(cfg, v, why, sizeof why)
                                          : parse_mechanisms(cfg, v, why, sizeof why);
        return rc ? fail(err, errlen, file, s, why) : 0;
    }
    if (def->kind == K_TSTYPE) {
        if (strcmp(v, "CreateTime") && strcmp(v, "LogAppendTime")) {
            snprintf(why, sizeof why, "%s must be \"CreateTime\" or \"LogAppendTime\", not \"%s\"",
                     path, v);
            return fail(err, errlen, file, s, why);
        }
        cfg->log_defaults.log_append_time = strcmp(v, "LogAppendTime") == 0;
        return 0;
    }
    /* K_POLICY */
    bool del = false, compact = false;
    if (strcmp(v, "delete") == 0)
        del = true;
    else if (strcmp(v, "compact") == 0)
        compact = true;
    else if (strcmp(v, "compact,delete") == 0 || strcmp(v, "delete,compact") == 0)
        del = compact = true;
    else {
        snprintf(why, sizeof why,
                 "%s must be \"delete\", \"compact\" or \"compact,delete\", not \"%s\"", path, v);
        return fail(err, errlen, file, s, why);
    }
    cfg->log_defaults.cleanup_delete = del;
    cfg->log_defaults.cleanup_compact = compact;
    return 0;
}

int st_broker_config_load(st_broker_config *cfg, const char *path, char *err, size_t errlen)
{
    config_t lc;
    int rc = -1;
    config_init(&lc);
    if (!config_read_file(&lc, path)) {
        if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
            snprintf(err, errlen, "%s: cannot read the config file: %s", path, strerror(errno));
        else
            snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&lc),
                     config_error_text(&lc));
        goto out;
    }
    config_setting_t *root = config_root_setting(&lc);
    for (int g = 0; g < config_setting_length(root); g++) {
        config_setting_t *group = config_setting_get_elem(root, (unsigned)g);
        if (config_setting_type(group) != CONFIG_TYPE_GROUP) {
            char why[300];
            snprintf(why, sizeof why,
                     "\"%s\" must be a group (broker, socket, topics, groups, producer, log, mgmt, "
                     "security or quotas)",
                     config_setting_name(group));
            fail(err, errlen, path, group, why);
            goto out;
        }
        for (int i = 0; i < config_setting_length(group); i++) {
            config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
            char full[300];
            snprintf(full, sizeof full, "%s.%s", config_setting_name(group),
                     config_setting_name(s));
            const setting *def = find_setting(full);
            if (!def) {
                char why[400];
                snprintf(why, sizeof why,
                         "unknown setting \"%s\" (deploy/config/straitd.cfg lists them all)", full);
                fail(err, errlen, path, s, why);
                goto out;
            }
            if (apply(cfg, def, s, full, path, err, errlen))
                goto out;
            cfg->set_in_file[def - settings] = 1;
        }
    }
    if (st_logging_parse_level(cfg->log_level) < 0) {
        snprintf(err, errlen, "%s: broker.log_level must be debug, info, warn or error, not \"%s\"",
                 path, cfg->log_level);
        goto out;
    }
    if (st_logging_parse_format(cfg->log_format) < 0) {
        snprintf(err, errlen, "%s: broker.log_format must be \"text\" or \"json\", not \"%s\"",
                 path, cfg->log_format);
        goto out;
    }
    rc = 0;
out:
    config_destroy(&lc);
    return rc;
}
