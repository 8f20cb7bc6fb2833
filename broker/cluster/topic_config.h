/*
 * The topic configs Strait understands, private to broker/cluster/.
 *
 * One table row per config, with Kafka's topic name, the broker-wide name that sets its
 * default (what DescribeConfigs on a BROKER resource shows), and how its value is
 * parsed into and formatted from st_log_config. Some configs are accepted and
 * described without changing anything yet (min.insync.replicas on a single node,
 * compression.type=producer, file.delete.delay.ms): clients send them when they create
 * topics, and refusing them would break those clients for no benefit.
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

/* True if d's value in cfg equals Kafka's default (st_log_config_defaults). */
bool st_topic_config_is_kafka_default(const st_topic_config_def *d, const st_log_config *cfg);

#endif
