/*
 * st_cluster: a broker's place in a ZooKeeper cluster (cluster mode, docs/cluster.md) —
 * its registration, the cluster id, the controller election and, while this broker is
 * the controller, the controller's work (controller.c).
 *
 * Everything runs on the broker's loop thread, driven by the st_zk session's answers
 * (broker/cluster/zk.h). The sequence each new ZooKeeper session runs, all of it
 * idempotent so a retry may start it again from the top:
 *
 *     SESSION_NEW ─▶ persistent parents ─▶ /cluster/id (read, or create) ─▶
 *     /brokers/ids/<id> (ephemeral create; NODEEXISTS owned by another session: wait for
 *     it to go, up to the session timeout, then refuse) ─▶ election: /controller
 *     (watched); absent → multi{create /controller, set /controller_epoch at its version}
 *
 * A lost session (ST_ZK_EV_EXPIRED) is logged; a controller resigns at once (its writes
 * would fail the epoch check anyway) and the next session registers again, without a
 * restart. The first registration is waited for at start (st_cluster_wait_registered):
 * ZooKeeper unreachable or the id taken by a live broker stop straitd with the reason.
 *
 * No globals: one st_cluster per broker; tests run several in one process.
 */
#ifndef ST_CLUSTER_H
#define ST_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/cluster/zk_layout.h"

typedef struct st_cluster st_cluster;
struct st_loop;

typedef struct st_cluster_config {
    const char *zookeeper;      /* "host:port[,...][/chroot]" (cluster.zookeeper); borrowed */
    int32_t session_timeout_ms; /* cluster.zookeeper_session_timeout_ms */
    int32_t connect_timeout_ms; /* cluster.zookeeper_connect_timeout_ms */
    int32_t broker_id;          /* broker.id */
    const char *rack;           /* broker.rack; NULL or "" for none; borrowed */
    st_zk_endpoint endpoints[ST_ZK_MAX_ENDPOINTS]; /* advertised, copied */
    int32_t nendpoints;
    struct st_loop *loop; /* every callback runs here; must outlive the st_cluster */
} st_cluster_config;

/* Starts connecting and returns at once (NULL with err for a config that cannot work).
 * Loop thread. */
st_cluster *st_cluster_start(const st_cluster_config *cfg, char *err, size_t errlen);
/* Runs the loop until the first registration is done (0) or refused (-1 with err: ZooKeeper
 * unreachable within the connect timeout, or the broker id held by a live broker). For
 * start-up only, before the loop runs for good. */
int st_cluster_wait_registered(st_cluster *c, char *err, size_t errlen);
/* Closes the session (our ephemerals go at once: another broker takes over as controller
 * without waiting for the session timeout) and frees. Loop thread; blocks while
 * ZooKeeper's threads are joined. */
void st_cluster_free(st_cluster *c);

/* The cluster id read from (or written to) /cluster/id; "" before the first session. */
const char *st_cluster_id(const st_cluster *c);
/* The controller's broker id as last seen in /controller, -1 when there is none. */
int32_t st_cluster_controller_id(const st_cluster *c);
bool st_cluster_is_controller(const st_cluster *c);
/* The controller epoch this broker won with (0 when it is not the controller). */
int32_t st_cluster_controller_epoch(const st_cluster *c);
bool st_cluster_registered(const st_cluster *c);

/* Controller only: the live brokers as last read from /brokers/ids (ascending ids), and
 * whether the topics and partition states are loaded (the controller acts on them). */
int32_t st_cluster_live_brokers(const st_cluster *c, int32_t *ids, int32_t cap);
bool st_cluster_controller_ready(const st_cluster *c);

/* Controller only: creates a topic the way Kafka 2.x's controller does once it sees one —
 * replicas assigned over the live brokers (and racks when every broker has one) by
 * controller_logic, the assignment written to /brokers/topics/<t> and every partition's
 * state (leader: the first replica, ISR: all of them, the controller epoch) in one
 * ZooKeeper transaction fenced by the controller epoch's znode version. cb runs once on
 * the loop with 0 or a Kafka error code and a message: NOT_CONTROLLER (41),
 * TOPIC_ALREADY_EXISTS (36), INVALID_TOPIC_EXCEPTION (17), INVALID_PARTITIONS (37),
 * INVALID_REPLICATION_FACTOR (38, with the counts), INVALID_REPLICA_ASSIGNMENT (39),
 * REQUEST_TIMED_OUT (7: ZooKeeper did not answer; the outcome is unknown). msg is borrowed
 * for the call. A request refused before it reaches ZooKeeper is answered before this
 * returns; cb does not run if the st_cluster is freed first. The handler wiring (a
 * CreateTopics in cluster mode) waits for the data path: see docs/cluster.md. */
typedef void st_cluster_create_cb(void *arg, int error_code, const char *msg);
void st_cluster_create_topic(st_cluster *c, const char *topic, int32_t npartitions,
                             int32_t replication_factor, st_cluster_create_cb *cb, void *arg);

/* How many leader elections the controller wrote since start (tests poll it). */
uint64_t st_cluster_elections(const st_cluster *c);

#endif
