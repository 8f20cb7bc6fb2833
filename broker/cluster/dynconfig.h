/*
 * st_dynconfig: broker configs as Kafka's admin APIs see them.
 *
 * DescribeConfigs on a BROKER resource lists this broker's configs by their Kafka names
 * (broker.id, num.partitions, log.retention.ms, ...), each with its value, its source
 * and its synonyms. The broker-wide defaults of topic configs (log.retention.ms,
 * log.cleanup.policy, message.max.bytes, ... — the ones Kafka's DynamicLogConfig makes
 * dynamic) can be changed at run time by AlterConfigs / IncrementalAlterConfigs, for
 * this broker (resource name "<id>", source DYNAMIC_BROKER_CONFIG) or cluster-wide
 * (name "", DYNAMIC_DEFAULT_BROKER_CONFIG). Those changes are kept in
 * <data_dir>/meta/broker_configs.json (rewritten atomically: temp file, fsync, rename,
 * on the loop thread like the other meta files) and take effect at once: the caller
 * hands the new defaults to the topic registry (st_topics_set_defaults). Everything
 * else is read-only: the config file's, or the built-in default.
 *
 * Precedence, as in Kafka: per-broker dynamic > cluster-wide dynamic > config file >
 * built-in default.
 *
 * Loop thread only.
 */
#ifndef ST_DYNCONFIG_H
#define ST_DYNCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/broker.h"
#include "broker/cluster/topics.h"

typedef struct st_dynconfig st_dynconfig;

/* Kafka's ConfigSource (DescribeConfigs v1+). */
enum {
    ST_CONFIG_SOURCE_TOPIC = 1,
    ST_CONFIG_SOURCE_DYNAMIC_BROKER = 2,
    ST_CONFIG_SOURCE_DYNAMIC_DEFAULT = 3,
    ST_CONFIG_SOURCE_STATIC = 4,
    ST_CONFIG_SOURCE_DEFAULT = 5,
};

/* The two levels a dynamic broker config is set at. */
typedef enum { ST_DYN_BROKER = 0, ST_DYN_DEFAULT = 1 } st_dyn_level;

#define ST_CONFIG_MAX_SYNONYMS 6

typedef struct st_config_synonym {
    const char *name; /* static */
    char *value;      /* owned; NULL: null (sensitive) */
    int8_t source;
} st_config_synonym;

/* One config as DescribeConfigs answers it. */
typedef struct st_config_entry {
    const char *name; /* static */
    char *value;      /* owned; NULL: null (a sensitive config) */
    int8_t source;    /* ST_CONFIG_SOURCE_* */
    bool read_only;
    bool sensitive;
    st_config_synonym synonyms[ST_CONFIG_MAX_SYNONYMS]; /* Kafka's order: the winner first */
    int nsynonyms;
} st_config_entry;

/* Frees n entries (their values) and the array. NULL is ignored. */
void st_config_entries_free(st_config_entry *entries, size_t n);

/*
 * Loads <data_dir>/meta/broker_configs.json (none: nothing set dynamically). Borrows
 * cfg, which must outlive the result (the broker's own copy). Returns a new handle, or
 * NULL with err naming the file and what is wrong with it.
 */
st_dynconfig *st_dynconfig_open(const char *data_dir, const st_broker_config *cfg, char *err,
                                size_t errlen);
void st_dynconfig_free(st_dynconfig *d);

/* The broker-wide topic defaults in force: the config file's with the dynamic ones
 * applied over them. */
void st_dynconfig_log_defaults(const st_dynconfig *d, st_log_config *out);

/*
 * Changes the dynamic configs of one level: each set names a broker config and a value
 * (NULL removes it); replace=true (AlterConfigs) first drops everything else set at that
 * level. All or nothing: unknown or read-only names → INVALID_REQUEST, a bad value →
 * INVALID_CONFIG, the file not written → KAFKA_STORAGE_ERROR, with err saying which and
 * why. validate_only checks and changes nothing. On success the caller applies
 * st_dynconfig_log_defaults to the topics.
 */
int st_dynconfig_alter(st_dynconfig *d, st_dyn_level level, const st_config_set *sets, size_t n,
                       bool replace, bool validate_only, char *err, size_t errlen);

/* The value set at a level, or NULL. Valid until the next alter. */
const char *st_dynconfig_get(const st_dynconfig *d, st_dyn_level level, const char *name);
/* True if `name` is a broker config that can change at run time. */
bool st_dynconfig_is_dynamic(const char *name);
/* True if `name` is a list-valued broker config (log.cleanup.policy), or topic config
 * (cleanup.policy). */
bool st_dynconfig_is_list(const char *name);
bool st_dynconfig_topic_is_list(const char *topic_config);
/* The value in force of broker config `name`, formatted into out. 0, or -1 if unknown. */
int st_dynconfig_value(const st_dynconfig *d, const char *name, char *out, size_t cap);

/* DescribeConfigs on BROKER: per_broker (resource "<id>") lists every config; otherwise
 * (resource "") only those set cluster-wide at run time, as Kafka. *out is a new array
 * the caller frees with st_config_entries_free. 0 or ST_ERR__NOMEM. */
int st_dynconfig_describe(const st_dynconfig *d, bool per_broker, st_config_entry **out, size_t *n);

/* Completes a topic config's entry: source and synonyms from the topic's override
 * (override, NULL if none) and the broker levels below it, in Kafka's order. */
void st_dynconfig_topic_entry(const st_dynconfig *d, const char *topic_config, const char *override,
                              st_config_entry *e);

#endif
