/*
 * The controller's decisions, as pure functions: where replicas go, who leads, who is in
 * sync after something changed. No I/O, no clock, no state of their own: the controller
 * (once wired) reads ZooKeeper, calls these, and writes their answers back with
 * conditional writes, so every rule here is unit-tested alone and the same inputs always
 * give the same answer (randomness comes in through a function the caller passes).
 *
 * The rules are Kafka 2.x's (KafkaController, PartitionStateMachine,
 * ReplicaStateMachine, AdminUtils), re-derived here:
 *
 *  - Assignment: brokers in id order (or, when every broker has a rack, alternating
 *    racks: r1-b, r2-b, r3-b, r1-b...); partition p's first replica is broker
 *    (p + start) mod n; the others follow at a shift that grows by one every n
 *    partitions, so followers of one leader spread over the cluster. With racks, a
 *    replica skips a broker whose rack (or the broker itself) already holds one while
 *    another rack (broker) holds none.
 *  - Leader election from the ISR, in assignment order (so the preferred replica, the
 *    first, wins when it can). Unclean election (a live replica outside the ISR) only
 *    when enabled; it may lose acknowledged records.
 *  - A broker that dies leaves every ISR it was in, except the last member of an ISR,
 *    which stays, so the controller still knows who holds the data. A partition whose
 *    leader died and which has no live ISR member is offline: leader -1.
 *  - Every leader or ISR change bumps the leader epoch.
 */
#ifndef ST_CONTROLLER_LOGIC_H
#define ST_CONTROLLER_LOGIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_CTL_MAX_REPLICAS 256
#define ST_CTL_NO_LEADER    (-1)

/* A broker as assignment sees it. rack NULL or "" means none. Borrowed. */
typedef struct st_ctl_broker {
    int32_t id;
    const char *rack;
} st_ctl_broker;

/* A set of broker ids (live, shutting down, changed). Borrowed. */
typedef struct st_ctl_ids {
    const int32_t *ids;
    int32_t n;
} st_ctl_ids;
bool st_ctl_ids_has(st_ctl_ids set, int32_t id);

/* Returns a uniformly random number in [0, bound). */
typedef uint32_t st_ctl_rand_fn(void *ctx, uint32_t bound);

/* Replica assignment for npartitions new partitions numbered from first_partition (0 for
 * CreateTopics; the current count for CreatePartitions), replication_factor replicas
 * each, written to out[(p - first_partition) * replication_factor + r]; out[...][0] is
 * the preferred leader. start_index >= 0 fixes the first broker and the initial
 * follower shift (Kafka does so for CreatePartitions: the index of partition 0's leader);
 * -1 draws both from rnd. Returns 0, or a Kafka error code with err saying why:
 * INVALID_PARTITIONS (37), INVALID_REPLICATION_FACTOR (38, with the counts),
 * INVALID_REPLICA_ASSIGNMENT (39: some brokers have a rack, some not). */
int st_ctl_assign(const st_ctl_broker *brokers, int32_t nbrokers, int32_t npartitions,
                  int32_t replication_factor, int32_t first_partition, int32_t start_index,
                  st_ctl_rand_fn *rnd, void *rnd_ctx, int32_t *out, char *err, size_t errlen);

/* A manual assignment (CreateTopics with assignments): every partition the same number
 * of replicas, no broker twice, every broker live. 0 or INVALID_REPLICA_ASSIGNMENT /
 * INVALID_REPLICATION_FACTOR with err set. replicas[p] has counts[p] ids. */
int st_ctl_check_assignment(const int32_t *const *replicas, const int32_t *counts,
                            int32_t npartitions, st_ctl_ids live, char *err, size_t errlen);

/* What ZooKeeper says of one partition. Borrowed. */
typedef struct st_ctl_partition {
    const int32_t *replicas; /* the assignment, preferred leader first */
    int32_t nreplicas;
    int32_t leader; /* -1: none */
    int32_t leader_epoch;
    const int32_t *isr;
    int32_t nisr;
} st_ctl_partition;

/* A decided state. changed false means: write nothing. */
typedef struct st_ctl_decision {
    bool changed;
    bool unclean; /* the leader came from outside the ISR: records may be lost */
    int32_t leader;
    int32_t leader_epoch;
    int32_t isr[ST_CTL_MAX_REPLICAS];
    int32_t nisr;
} st_ctl_decision;

/* Elects a leader for a partition without one (or whose leader is not live): the first
 * replica in assignment order that is live and in the ISR; failing that, with
 * unclean_enabled, the first live replica (ISR becomes just it). The new ISR is the old
 * one less dead brokers (the leader always in it). No candidate: leader -1, ISR as it
 * was (the last member kept) — offline. */
void st_ctl_elect_offline(const st_ctl_partition *p, st_ctl_ids live, bool unclean_enabled,
                          st_ctl_decision *out);
/* Moves leadership to the preferred replica when it is live, in the ISR and not leading
 * already; otherwise changed = false. */
void st_ctl_elect_preferred(const st_ctl_partition *p, st_ctl_ids live, st_ctl_decision *out);

/* The state after the brokers in `dead` died: a dead leader is replaced
 * (st_ctl_elect_offline), dead followers leave the ISR (the last member stays). */
void st_ctl_on_brokers_dead(const st_ctl_partition *p, st_ctl_ids dead, st_ctl_ids live,
                            bool unclean_enabled, st_ctl_decision *out);

/* Controlled shutdown of `broker`: if it leads, leadership moves to the first live ISR
 * member not shutting down (and it leaves the ISR); if it follows, it leaves the ISR
 * (unless it is the last member). Returns true if it still leads afterwards (no one to
 * take over: ControlledShutdown answers with such partitions, and the broker retries). */
bool st_ctl_controlled_shutdown(const st_ctl_partition *p, int32_t broker, st_ctl_ids shutting_down,
                                st_ctl_ids live, st_ctl_decision *out);

/* What a broker change means for one partition (a bit set; 0: nothing). */
enum {
    ST_CTL_LEADER_LOST = 1,       /* its leader is among the dead: elect */
    ST_CTL_ISR_SHRINK = 2,        /* a dead broker is in its ISR: shrink */
    ST_CTL_CAN_ONLINE = 4,        /* offline, and a returning broker could lead it */
    ST_CTL_NEW_REPLICA = 8,       /* a returning broker holds a replica: tell it (LeaderAndIsr) */
    ST_CTL_UNDER_REPLICATED = 16, /* after the change, ISR smaller than the assignment */
};
int st_ctl_affected(const st_ctl_partition *p, st_ctl_ids dead, st_ctl_ids returned,
                    st_ctl_ids live);

#endif
