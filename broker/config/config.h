/*
 * straitd's configuration: every setting with its default (st_broker_config_defaults),
 * loaded from a libconfig file (config.c; deploy/config/straitd.cfg documents each).
 * Read-only once the broker runs: what changes at run time are the dynamic broker
 * configs (broker/cluster/dynconfig.h), layered over it.
 */
#ifndef ST_CONFIG_H
#define ST_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/log/log.h"

/* Listener security protocols (Kafka's names). */
typedef enum st_sec_protocol {
    ST_SEC_PLAINTEXT = 0,
    ST_SEC_SASL_PLAINTEXT = 1,
    ST_SEC_SASL_SSL = 2,
} st_sec_protocol;

/* "PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"; static. */
const char *st_sec_protocol_name(st_sec_protocol p);

/* SASL mechanisms, as a bit set (security.sasl_mechanisms). */
#define ST_SASL_MECH_PLAIN         1u
#define ST_SASL_MECH_SCRAM_SHA_256 2u
#define ST_SASL_MECH_SCRAM_SHA_512 4u

#define ST_MAX_LISTENERS 8
/* Room for config.c's table of settings. */
#define ST_BROKER_MAX_SETTINGS 96

typedef struct st_listener_config {
    st_sec_protocol protocol;
    char host[256];
    int port; /* 0: a free port */
} st_listener_config;

/* Every option has a default (st_broker_config_defaults); the config file
 * (deploy/config/straitd.cfg documents each) overrides them. */
typedef struct st_broker_config {
    int32_t node_id;           /* broker.id [0] */
    char listen_host[256];     /* listener host [127.0.0.1] */
    int port;                  /* listener port [9092] */
    char advertised_host[256]; /* what Metadata tells clients [listen_host] */
    int advertised_port;       /* what Metadata tells clients [0: the bound port]; a proxy in front
                                * of the broker sets it */
    char data_dir[PATH_MAX];   /* log.dirs [./data] */
    char cluster_id[64];       /* [generated once, kept in data_dir/meta; in cluster mode
                                * /cluster/id in ZooKeeper] */
    char rack[64];             /* broker.rack ["": none] */
    /* Cluster mode (docs/cluster.md): on when cluster.zookeeper is set. */
    char zookeeper[1024];                 /* cluster.zookeeper "host:port[,...][/chroot]" [""] */
    int32_t zookeeper_session_timeout_ms; /* cluster.zookeeper_session_timeout_ms [18000] */
    int32_t zookeeper_connect_timeout_ms; /* cluster.zookeeper_connect_timeout_ms [18000] */
    size_t socket_request_max_bytes;      /* socket.request.max.bytes [104857600] */
    /* Connection limits (docs/security.md, "Hostile clients"). */
    int64_t connections_max_idle_ms; /* connections.max.idle.ms [600000] */
    int64_t auth_timeout_ms;         /* socket.auth_timeout_ms: TLS + SASL deadline [10000] */
    int64_t max_connections;         /* max.connections [2147483647] */
    int64_t max_connections_per_ip;  /* max.connections.per.ip [2147483647] */
    char max_connections_per_ip_overrides[1024]; /* "ADDR:N,..." [""] */
    int64_t queued_max_request_bytes;   /* queued.max.request.bytes [536870912]; -1: no limit */
    int64_t sasl_max_receive_size;      /* sasl.server.max.receive.size [524288] */
    bool auto_create_topics;            /* auto.create.topics.enable [true] */
    int32_t num_partitions;             /* num.partitions [1] */
    int16_t default_replication_factor; /* default.replication.factor [1] */
    int32_t offsets_topic_partitions;   /* offsets.topic.num.partitions [50] */
    int64_t offsets_segment_bytes;      /* offsets.topic.segment.bytes [104857600] */
    int64_t group_initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms [3000] */
    int64_t group_min_session_timeout_ms;     /* group.min.session.timeout.ms [6000] */
    int64_t group_max_session_timeout_ms;     /* group.max.session.timeout.ms [1800000] */
    int32_t group_max_size;                   /* group.max.size [1000; Kafka: unlimited] */
    int64_t offsets_retention_minutes;        /* offsets.retention.minutes [10080: 7 days] */
    int64_t offsets_retention_ms;             /* the same in ms, when set [-1: from the minutes] */
    int64_t offsets_retention_check_interval_ms; /* offsets.retention.check.interval.ms
                                                  * [600000] */
    int64_t producer_id_expiration_ms;           /* producer.id.expiration.ms [86400000: 1 day] */
    int64_t producer_id_expiration_check_interval_ms; /* producer.id.expiration.check.
                                                       * interval.ms [600000] */
    int64_t txn_max_timeout_ms;          /* transaction.max.timeout.ms [900000: 15 min] */
    int64_t txn_id_expiration_ms;        /* transactional.id.expiration.ms [604800000: 7 days] */
    int64_t retention_check_interval_ms; /* log.retention.check.interval.ms [300000] */
    st_log_config log_defaults;          /* log.* broker-wide topic defaults */
    char mgmt_url[256];                  /* management endpoint [tcp://127.0.0.1:9192] */
    char mgmt_survey_url[256]; /* survey endpoint for the console ["": derived from mgmt_url] */
    char
        mgmt_token[256]; /* shared secret; empty → generated, written to data_dir/meta/mgmt.token */
    char log_level[16]; /* [info] */
    char log_format[8]; /* "text" or "json" (one JSON object a line) [text] */

    /* broker.listeners ["": one PLAINTEXT listener on listen_host:port]. When set, --host
     * and --port override the first listener's host and port. */
    st_listener_config listeners[ST_MAX_LISTENERS];
    size_t nlisteners;
    unsigned sasl_mechanisms;            /* security.sasl_mechanisms [all three] */
    char ssl_certificate[PATH_MAX];      /* security.ssl_certificate: PEM chain (SASL_SSL) */
    char ssl_key[PATH_MAX];              /* security.ssl_key: PEM private key (SASL_SSL) */
    bool authorizer;                     /* security.authorizer [false] */
    char super_users[1024];              /* security.super_users ["User:a;User:b"] */
    bool allow_everyone_if_no_acl_found; /* security.allow_everyone_if_no_acl_found [false] */
    int64_t failed_auth_delay_ms;        /* security.failed_auth_delay_ms [100] */
    /* Login budget (auth/guard.h), charged before any password hashing. */
    int32_t auth_attempts_per_second;  /* security.auth_attempts_per_second, per address [20] */
    int32_t auth_checks_per_address;   /* security.auth_checks_per_address, in flight [4] */
    int32_t auth_checks_max;           /* security.auth_checks_max, in flight broker-wide [64] */
    int32_t auth_cache_entries;        /* security.auth_cache_entries [4096] */
    int64_t auth_cache_ms;             /* security.auth_cache_ms [60000] */
    int32_t worker_threads;            /* broker.worker_threads: the worker pool [2] */
    int32_t quota_window_num;          /* quotas.window_num (quota.window.num) [11] */
    int32_t quota_window_size_seconds; /* quotas.window_size_seconds [1] */

    /* Which settings the file set (config.c's table order): DescribeConfigs reports
     * those as STATIC_BROKER_CONFIG, the others as DEFAULT_CONFIG. */
    unsigned char set_in_file[ST_BROKER_MAX_SETTINGS];
} st_broker_config;

void st_broker_config_defaults(st_broker_config *cfg);
/* True if the config file set `path` ("log.retention_ms"). */
bool st_broker_config_is_set(const st_broker_config *cfg, const char *path);
/* Loads `path` over the defaults. On a bad file returns -1 with err holding
 * "path:line: reason". */
int st_broker_config_load(st_broker_config *cfg, const char *path, char *err, size_t errlen);

#endif
