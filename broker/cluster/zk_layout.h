/*
 * Kafka 2.x's ZooKeeper layout: the znode paths and their JSON, encoded as a Kafka 2.x
 * broker writes them (so `zkCli.sh get` shows what operators know) and decoded as
 * tolerantly as Kafka reads them (older and newer versions, unknown fields ignored).
 *
 *   path                                      data (ephemeral: E)
 *   /brokers/ids/<id>                      E
 * {"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},
 *                                              "endpoints":["PLAINTEXT://h:9092"],["rack":"r1",]
 *                                              "jmx_port":-1,"host":"h","timestamp":"<ms>","port":9092,"version":4}
 *   /controller                            E  {"version":1,"brokerid":1,"timestamp":"<ms>"}
 *   /controller_epoch                         1   (a bare decimal number)
 *   /brokers/topics/<t>                       {"version":2,"partitions":{"0":[1,2,3]},
 *                                              "adding_replicas":{},"removing_replicas":{}}
 *                                             (+ "topic_id":"<base64url>" when the topic has one)
 *   /brokers/topics/<t>/partitions/<p>/state  {"controller_epoch":1,"leader":1,"version":1,
 *                                              "leader_epoch":0,"isr":[1,2,3]}
 *   /admin/delete_topics/<t>                  (no data: the name asks for deletion)
 *   /cluster/id                               {"version":"1","id":"<22 chars base64url>"}
 *
 * Field order is what Kafka 2.x (Scala 2.12 builds) writes; JSON readers do not care,
 * byte-for-byte comparisons and eyes do. One known difference: the partition map of a
 * topic is written in ascending partition order, where Kafka writes its hash-map order
 * (the same for topics of up to 3 partitions).
 *
 * Everything here is pure: no I/O. Decoders bound every array and string and never
 * trust a number's range: a node written by anyone with ZooKeeper access is input.
 */
#ifndef ST_ZK_LAYOUT_H
#define ST_ZK_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_ZK_MAX_ENDPOINTS  8
#define ST_ZK_MAX_REPLICAS   256 /* replicas (or ISR entries) of one partition */
#define ST_ZK_MAX_PARTITIONS 100000

/* ---- paths (each returns false when the name cannot be in a path) ---- */

/* A Kafka topic name: 1-249 of [A-Za-z0-9._-], not "." or "..". */
bool st_zk_topic_name_ok(const char *topic);
bool st_zk_path_broker(char *buf, size_t cap, int32_t broker_id);
bool st_zk_path_topic(char *buf, size_t cap, const char *topic);
bool st_zk_path_partitions(char *buf, size_t cap, const char *topic); /* .../partitions */
bool st_zk_path_partition(char *buf, size_t cap, const char *topic, int32_t partition);
bool st_zk_path_partition_state(char *buf, size_t cap, const char *topic, int32_t partition);
bool st_zk_path_delete_topic(char *buf, size_t cap, const char *topic);

#define ST_ZK_PATH_BROKER_IDS       "/brokers/ids"
#define ST_ZK_PATH_TOPICS           "/brokers/topics"
#define ST_ZK_PATH_CONTROLLER       "/controller"
#define ST_ZK_PATH_CONTROLLER_EPOCH "/controller_epoch"
#define ST_ZK_PATH_DELETE_TOPICS    "/admin/delete_topics"
#define ST_ZK_PATH_CLUSTER_ID       "/cluster/id"
/* The persistent parents a cluster needs, parents first (Kafka makes the same ones). */
extern const char *const st_zk_persistent_paths[];
extern const int st_zk_npersistent_paths;

/* ---- /brokers/ids/<id> ---- */

typedef struct st_zk_endpoint {
    char listener[64];          /* e.g. "PLAINTEXT", "INTERNAL" */
    char security_protocol[32]; /* PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL */
    char host[256];             /* empty for "all interfaces" */
    int32_t port;
} st_zk_endpoint;

typedef struct st_zk_broker_info {
    int32_t id;      /* from the path, not the data */
    int32_t version; /* decoded; encode always writes 4 */
    st_zk_endpoint endpoints[ST_ZK_MAX_ENDPOINTS];
    int32_t nendpoints;
    char rack[64];
    bool has_rack;
    int64_t timestamp_ms;
    int32_t jmx_port; /* -1: none */
} st_zk_broker_info;

/* Returns a new malloc'd NUL-terminated JSON text (caller frees). "host"/"port" are
 * the first PLAINTEXT endpoint's (null/-1 without one), as Kafka writes them. */
char *st_zk_broker_encode(const st_zk_broker_info *b);
/* Decodes versions 1-5. Returns 0, or -1 with err saying what was wrong. */
int st_zk_broker_decode(int32_t id, const char *json, size_t len, st_zk_broker_info *out, char *err,
                        size_t errlen);
/* "LISTENER://host:port" (host may be "[v6]" or empty) → endpoint (protocol not set). */
bool st_zk_endpoint_parse(const char *s, st_zk_endpoint *ep);

/* ---- /controller and /controller_epoch ---- */

char *st_zk_controller_encode(int32_t broker_id, int64_t timestamp_ms);
int st_zk_controller_decode(const char *json, size_t len, int32_t *broker_id, char *err,
                            size_t errlen);
/* The epoch is a bare decimal number ("1"), not JSON. buf needs 12 bytes. */
void st_zk_controller_epoch_encode(int32_t epoch, char buf[12]);
int st_zk_controller_epoch_decode(const char *data, size_t len, int32_t *epoch, char *err,
                                  size_t errlen);

/* ---- /brokers/topics/<t> ---- */

typedef struct st_zk_replica_list {
    int32_t *ids; /* owned */
    int32_t n;
} st_zk_replica_list;

typedef struct st_zk_partition_assignment {
    st_zk_replica_list replicas; /* replicas[0] is the preferred leader */
    st_zk_replica_list adding;   /* reassignment in progress (KIP-455); usually empty */
    st_zk_replica_list removing;
} st_zk_partition_assignment;

typedef struct st_zk_topic_assignment {
    int32_t npartitions;                    /* partitions 0..npartitions-1, all present */
    st_zk_partition_assignment *partitions; /* owned */
    bool has_topic_id;
    uint8_t topic_id[16];
} st_zk_topic_assignment;

/* Takes nothing; allocates an assignment of n partitions with no replicas. */
int st_zk_topic_assignment_init(st_zk_topic_assignment *t, int32_t npartitions);
void st_zk_topic_assignment_free(st_zk_topic_assignment *t);
/* Copies ids into list (replacing what it held). */
void st_zk_replica_list_set(st_zk_replica_list *list, const int32_t *ids, int32_t n);

char *st_zk_topic_encode(const st_zk_topic_assignment *t);
/* Versions 1-3; every partition 0..n-1 must be present (Kafka refuses gaps too). On
 * success *out is filled (free it with st_zk_topic_assignment_free). */
int st_zk_topic_decode(const char *json, size_t len, st_zk_topic_assignment *out, char *err,
                       size_t errlen);

/* Kafka's Uuid text: 22 characters of unpadded base64url. buf needs 23 bytes. */
void st_zk_uuid_encode(const uint8_t id[16], char buf[23]);
bool st_zk_uuid_decode(const char *s, uint8_t id[16]);

/* ---- /brokers/topics/<t>/partitions/<p>/state ---- */

typedef struct st_zk_partition_state {
    int32_t leader; /* -1: no leader */
    int32_t leader_epoch;
    int32_t controller_epoch;
    int32_t isr[ST_ZK_MAX_REPLICAS];
    int32_t nisr;
} st_zk_partition_state;

char *st_zk_partition_state_encode(const st_zk_partition_state *s);
int st_zk_partition_state_decode(const char *json, size_t len, st_zk_partition_state *out,
                                 char *err, size_t errlen);

/* ---- /cluster/id ---- */

char *st_zk_cluster_id_encode(const char *cluster_id);
/* buf of cap bytes receives the id. */
int st_zk_cluster_id_decode(const char *json, size_t len, char *buf, size_t cap, char *err,
                            size_t errlen);

#endif
