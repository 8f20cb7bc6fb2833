/*
 * The topic configs Strait understands, private to broker/cluster/.
 *
 * One table row per config, with Kafka's topic name, the broker-wide name that sets its
 * default (what DescribeConfigs on a BROKER resource shows), and how its value is
 * parsed into and formatted from st_log_config. unclean.leader.election.enable takes
 * only false (one broker has no out-of-sync replica to elect): clients send it when
 * they create topics, and false is what a single broker does.
 */
#ifndef ST_TOPIC_CONFIG_H
#define ST_TOPIC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "broker/log/log.h"

typedef struct st_topic_config_def st_topic_config_def;

/* Number of rows in the table and row i (i < count). Static storage. */
size_t st_topic_config_count(void);
const st_topic_config_def *st_topic_config_at(size_t i);
/* The row for a topic config name (NUL-terminated), or NULL if we do not know it. */
const st_topic_config_def *st_topic_config_find(const char *name);

/* Kafka's topic-level name ("retention.ms"), and the broker-level one
 * ("log.retention.ms"). Static. */
const char *st_topic_config_name(const st_topic_config_def *d);
const char *st_topic_config_broker_name(const st_topic_config_def *d);
/* The row whose broker-level name is broker_name, or NULL. */
const st_topic_config_def *st_topic_config_find_broker(const char *broker_name);
/* The straitd.cfg setting ("log.retention_ms") that sets the broker-wide default, or
 * NULL when only AlterConfigs on the broker can. Static. */
const char *st_topic_config_file_path(const st_topic_config_def *d);
/* The Kafka setting whose default applies when nothing sets this config, and that
 * default as Kafka prints it: retention.ms → "log.retention.hours", "168"; what
 * DescribeConfigs lists as the DEFAULT_CONFIG synonym. Static strings. */
void st_topic_config_kafka_default(const st_topic_config_def *d, const char **name,
                                   const char **value);
/* True for list-valued configs (cleanup.policy): IncrementalAlterConfigs may APPEND to
 * and SUBTRACT from them. */
bool st_topic_config_is_list(const st_topic_config_def *d);

/*
 * Parses value for config `name` and stores it in cfg (configs that do nothing yet are
 * only validated). Returns 0, or ST_ERR_INVALID_CONFIG with err saying what was wrong:
 * `unknown topic config "x"`, `retention.ms: "abc" is not a number`. Borrows all.
 */
int st_topic_config_apply(const char *name, const char *value, st_log_config *cfg, char *err,
                          size_t errlen);

/*
 * Formats the value of d as DescribeConfigs shows it. For configs backed by cfg the
 * value comes from cfg; for the accepted-only ones it is `override` when set, else
 * Kafka's default. Borrows all; writes at most outlen bytes including the NUL.
 */
void st_topic_config_format(const st_topic_config_def *d, const st_log_config *cfg,
                            const char *override, char *out, size_t outlen);

#endif
