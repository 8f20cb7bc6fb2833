/*
 * st_cluster's private state, shared by membership.c (session, registration, election)
 * and controller.c (the controller's live-broker set, topics and elections). Nothing
 * outside broker/cluster/ includes this.
 *
 * Requests in flight carry a cl_op: ZooKeeper answers come back after the state they
 * were made for may be gone (a new session, a resigned controller), so each op records
 * the generation it belongs to and its callback ignores a stale answer. Ops are listed
 * so st_cluster_free can free those whose callbacks st_zk_free drops.
 */
#ifndef ST_CLUSTER_INT_H
#define ST_CLUSTER_INT_H

#include "broker/cluster/cluster.h"
#include "broker/cluster/zk.h"
#include "broker/net/loop.h"

typedef struct cl_op {
    struct cl_op *prev, *next;
    st_cluster *c;
    uint64_t gen; /* c->session_gen (membership) or c->ctl_gen (controller) when made */
    int32_t topic_index;
    int32_t partition;
    int32_t count;
    st_cluster_create_cb *create_cb;
    void *create_arg;
    char name[256];
} cl_op;

typedef struct cl_broker {
    int32_t id;
    char rack[64];
} cl_broker;

typedef struct cl_partition {
    int32_t *replicas; /* owned; preferred leader first */
    int32_t nreplicas;
    st_zk_partition_state state;
    int32_t version;            /* the state znode's version; -1: no state znode yet */
    bool loaded;                /* state read (or known missing) */
    bool busy;                  /* a write (or read) of this partition is in flight */
    bool again;                 /* something changed while busy: look again when it ends */
    st_zk_partition_state next; /* the state being written */
} cl_partition;

typedef struct cl_topic {
    char name[256];
    int32_t npartitions;
    cl_partition *parts; /* owned */
    bool loaded;         /* assignment read */
    bool gone;           /* no longer in /brokers/topics: no partitions, kept so indexes hold */
} cl_topic;

struct st_cluster {
    st_loop *loop;
    st_zk *zk;
    char connect[1024];
    int32_t session_timeout_ms;
    int32_t connect_timeout_ms;
    int32_t broker_id;
    char rack[64];
    st_zk_broker_info registration; /* our /brokers/ids/<id>, stamped at each registration */
    char cluster_id[64];

    /* membership */
    uint64_t session_gen; /* bumped on every new session and every restart of the sequence */
    int64_t session_id;
    bool registered;
    bool starting;        /* st_cluster_wait_registered is waiting */
    bool start_done;      /* the wait is over: ok or refused */
    char start_err[512];  /* why the start was refused; "" if it was not */
    int64_t dup_since_ms; /* when a NODEEXISTS of another session was first seen */
    int32_t controller_id;
    bool electing;    /* an election's requests are in flight */
    bool elect_again; /* /controller changed meanwhile: run again when they end */
    st_timer retry_timer;
    int step; /* persistent parents created so far */

    /* controller (controller.c) */
    bool is_controller;
    uint64_t ctl_gen; /* bumped when this broker becomes controller and when it resigns */
    int32_t ctl_epoch;
    int32_t ctl_epoch_version; /* /controller_epoch's znode version we hold */
    cl_broker *live;           /* ascending ids, owned */
    int32_t nlive;
    bool live_loaded;
    int32_t pending_live; /* broker reads in flight for the current children list */
    cl_broker *next_live; /* the list being read, owned */
    int32_t nnext_live;
    cl_topic *topics; /* owned */
    int32_t ntopics;
    int32_t pending_loads; /* topic and state reads in flight */
    bool topics_listed;
    uint64_t elections;
    uint64_t live_gen;  /* bumped by every read of /brokers/ids' children */
    st_timer ctl_timer; /* a sweep after a failed controller request */
    uint64_t rand_state;

    cl_op ops; /* sentinel of the list of ops in flight */
};

cl_op *cl_op_new(st_cluster *c, uint64_t gen);
void cl_op_free(cl_op *op);

/* controller.c: called by membership.c. Loop thread. */
void cl_controller_activate(st_cluster *c, int32_t epoch, int32_t epoch_version);
void cl_controller_resign(st_cluster *c, const char *why);
void cl_controller_free(st_cluster *c);
/* membership.c: the controller lost the epoch check — run the election again. */
void cl_elect(st_cluster *c);

#endif
