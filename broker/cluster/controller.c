/*
 * The controller's work that needs no data path yet: the live-broker set (a watch on
 * /brokers/ids), the topics and partition states it is responsible for (a watch on
 * /brokers/topics), leader elections when brokers die or come back, partition states for
 * topics whose assignment someone else wrote (as Kafka 2.x's controller initialises
 * topics made by `kafka-topics.sh --zookeeper`), and CreateTopics' ZooKeeper side.
 *
 * Decisions come from controller_logic (pure); this file reads ZooKeeper, calls it, and
 * writes the answers back. Every write of a partition state is a transaction that first
 * checks /controller_epoch at the version this controller made when it won: a broker
 * that lost the role without knowing it yet (a paused process, an expired session)
 * fails the check and writes nothing, then resigns and runs for controller again.
 *
 *   activate ─▶ children(/brokers/ids)+watch ─▶ get each ─▶ live set ─▶
 *   children(/brokers/topics)+watch ─▶ get each assignment ─▶ get each state ─▶ pass
 *   pass(partition): dead leader/ISR members ─▶ st_ctl_on_brokers_dead; no leader ─▶
 *   st_ctl_elect_offline; no state znode ─▶ create one (leader: first live replica)
 *
 * All on the loop thread. A request's answer for an earlier controllership (ctl_gen)
 * is ignored. What fails for want of a connection is swept again by ctl_timer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/cluster/cluster_int.h"
#include "broker/cluster/controller_logic.h"
#include "common/errors.h"
#include "common/logging.h"

#define SWEEP_MS         1000
#define MAX_CREATE_PARTS ((ST_ZK_MULTI_MAX - 3) / 2) /* one transaction per topic */

static bool ctl_stale(cl_op *op)
{
    st_cluster *c = op->c;
    if (op->gen == c->ctl_gen && c->is_controller)
        return false;
    cl_op_free(op);
    return true;
}

static void sweep_later(st_cluster *c, const char *what, st_zk_rc rc)
{
    st_warn("controller: %s: %s; looking again in %d ms", what, st_zk_rc_str(rc), SWEEP_MS);
    if (!st_timer_armed(&c->ctl_timer))
        st_timer_start(c->loop, &c->ctl_timer, SWEEP_MS);
}

static void free_topics(st_cluster *c)
{
    for (int32_t t = 0; t < c->ntopics; t++) {
        for (int32_t p = 0; p < c->topics[t].npartitions; p++)
            free(c->topics[t].parts[p].replicas);
        free(c->topics[t].parts);
    }
    free(c->topics);
    c->topics = NULL;
    c->ntopics = 0;
}

static void reset(st_cluster *c)
{
    free_topics(c);
    free(c->live);
    free(c->next_live);
    c->live = c->next_live = NULL;
    c->nlive = c->nnext_live = 0;
    c->live_loaded = false;
    c->topics_listed = false;
    c->live_gen++;
    if (st_timer_armed(&c->ctl_timer))
        st_timer_stop(c->loop, &c->ctl_timer);
}

static bool live_has(const st_cluster *c, int32_t id)
{
    for (int32_t i = 0; i < c->nlive; i++)
        if (c->live[i].id == id)
            return true;
    return false;
}

static void fmt_ids(char *buf, size_t cap, const int32_t *ids, int32_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int32_t i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%d", i ? "," : "", ids[i]);
}

/* ---- partitions ---- */

static void pass(st_cluster *c, int32_t ti, int32_t pi);
static void read_state(st_cluster *c, int32_t ti, int32_t pi);

static cl_partition *op_partition(cl_op *op)
{
    st_cluster *c = op->c;
    if (op->topic_index < 0 || op->topic_index >= c->ntopics ||
        strcmp(c->topics[op->topic_index].name, op->name) != 0 ||
        op->partition >= c->topics[op->topic_index].npartitions)
        return NULL;
    return &c->topics[op->topic_index].parts[op->partition];
}

static cl_op *partition_op(st_cluster *c, int32_t ti, int32_t pi)
{
    cl_op *op = cl_op_new(c, c->ctl_gen);
    op->topic_index = ti;
    op->partition = pi;
    snprintf(op->name, sizeof op->name, "%s", c->topics[ti].name);
    return op;
}

static void partition_idle(st_cluster *c, int32_t ti, int32_t pi)
{
    cl_partition *p = &c->topics[ti].parts[pi];
    p->busy = false;
    if (p->again) {
        p->again = false;
        pass(c, ti, pi);
    }
}

static void on_state_written(void *arg, const st_zk_result *r)
{
    cl_op *op = arg;
    st_cluster *c = op->c;
    if (ctl_stale(op))
        return;
    int32_t ti = op->topic_index, pi = op->partition;
    bool created = op->count == 1;
    cl_partition *p = op_partition(op);
    cl_op_free(op);
    if (!p)
        return;
    if (r->rc == ST_ZK_OK) {
        char isr[64 * 12];
        fmt_ids(isr, sizeof isr, p->next.isr, p->next.nisr);
        st_info("controller: %s-%d: leader %d -> %d, leader epoch %d, ISR [%s]%s",
                c->topics[ti].name, pi, created ? -1 : p->state.leader, p->next.leader,
                p->next.leader_epoch, isr, created ? " (new partition)" : "");
        p->state = p->next;
        p->version = created ? 0 : p->version + 1;
        c->elections++;
        partition_idle(c, ti, pi);
        return;
    }
    p->busy = false;
    if (r->nops >= 1 && r->ops[0].rc == ST_ZK_BADVERSION) {
        /* /controller_epoch moved: a newer controller exists. Write nothing more. */
        cl_controller_resign(c, "/controller_epoch changed under it (a newer controller exists)");
        cl_elect(c);
        return;
    }
    if (r->rc == ST_ZK_BADVERSION || r->rc == ST_ZK_NODEEXISTS || r->rc == ST_ZK_NONODE) {
        read_state(c, ti, pi); /* someone else wrote it: look again */
        return;
    }
    p->loaded = false; /* the outcome is unknown: read it again on the sweep */
    sweep_later(c, "writing a partition state", r->rc);
}

/* Writes p->next: a new state znode (create) or over the version read (set), either way
 * after checking the controller epoch's version. */
static void write_state(st_cluster *c, int32_t ti, int32_t pi, bool create)
{
    cl_partition *p = &c->topics[ti].parts[pi];
    char path[600];
    if (!st_zk_path_partition_state(path, sizeof path, c->topics[ti].name, pi))
        return;
    p->next.controller_epoch = c->ctl_epoch;
    char *json = st_zk_partition_state_encode(&p->next);
    if (!json) {
        sweep_later(c, "encoding a partition state", ST_ZK_OTHER);
        return;
    }
    st_zk_op ops[2] = {
        {.type = ST_ZK_OP_CHECK,
         .path = ST_ZK_PATH_CONTROLLER_EPOCH,
         .version = c->ctl_epoch_version},
        {.type = create ? ST_ZK_OP_CREATE : ST_ZK_OP_SET,
         .path = path,
         .data = json,
         .len = (int32_t)strlen(json),
         .version = create ? 0 : p->version},
    };
    p->busy = true;
    cl_op *op = partition_op(c, ti, pi);
    op->count = create ? 1 : 0;
    st_zk_multi(c->zk, ops, 2, on_state_written, op);
    free(json);
}

/* A partition whose assignment exists but whose state znode does not: its parents
 * first (.../partitions, .../partitions/<p>), each allowed to exist already. */
static void on_state_parent(void *arg, const st_zk_result *r)
{
    cl_op *op = arg;
    st_cluster *c = op->c;
    if (ctl_stale(op))
        return;
    int32_t ti = op->topic_index, pi = op->partition, stage = op->count;
    cl_partition *p = op_partition(op);
    cl_op_free(op);
    if (!p)
        return;
    if (r->rc != ST_ZK_OK && r->rc != ST_ZK_NODEEXISTS) {
        p->busy = false;
        sweep_later(c, "creating a partition's znodes", r->rc);
        return;
    }
    if (stage == 0) {
        char path[600];
        st_zk_path_partition(path, sizeof path, c->topics[ti].name, pi);
        cl_op *next = partition_op(c, ti, pi);
        next->count = 1;
        st_zk_create(c->zk, path, NULL, -1, 0, on_state_parent, next);
        return;
    }
    write_state(c, ti, pi, true);
}

static void init_state(st_cluster *c, int32_t ti, int32_t pi)
{
    cl_partition *p = &c->topics[ti].parts[pi];
    memset(&p->next, 0, sizeof p->next);
    p->next.leader = ST_CTL_NO_LEADER;
    for (int32_t r = 0; r < p->nreplicas && p->next.nisr < ST_ZK_MAX_REPLICAS; r++)
        if (live_has(c, p->replicas[r])) {
            if (p->next.leader < 0)
                p->next.leader = p->replicas[r];
            p->next.isr[p->next.nisr++] = p->replicas[r];
        }
    if (p->next.leader < 0)
        return; /* no replica is live: wait for one (a broker change runs the pass again) */
    char path[600];
    st_zk_path_partitions(path, sizeof path, c->topics[ti].name);
    p->busy = true;
    cl_op *op = partition_op(c, ti, pi);
    op->count = 0;
    st_zk_create(c->zk, path, NULL, -1, 0, on_state_parent, op);
}

/* Looks at one partition against the live set and writes what changed. */
static void pass(st_cluster *c, int32_t ti, int32_t pi)
{
    cl_partition *p = &c->topics[ti].parts[pi];
    if (!p->loaded || !c->live_loaded)
        return;
    if (p->busy) {
        p->again = true;
        return;
    }
    if (p->version < 0) {
        init_state(c, ti, pi);
        return;
    }
    int32_t live[ST_CTL_MAX_REPLICAS * 4], nlive = 0;
    for (int32_t i = 0; i < c->nlive && nlive < (int32_t)(sizeof live / sizeof live[0]); i++)
        live[nlive++] = c->live[i].id;
    int32_t dead[ST_ZK_MAX_REPLICAS + 1], ndead = 0;
    for (int32_t i = 0; i < p->state.nisr; i++)
        if (!live_has(c, p->state.isr[i]))
            dead[ndead++] = p->state.isr[i];
    if (p->state.leader >= 0 && !live_has(c, p->state.leader)) {
        bool listed = false;
        for (int32_t i = 0; i < ndead; i++)
            listed |= dead[i] == p->state.leader;
        if (!listed)
            dead[ndead++] = p->state.leader;
    }
    st_ctl_partition cp = {.replicas = p->replicas,
                           .nreplicas = p->nreplicas,
                           .leader = p->state.leader,
                           .leader_epoch = p->state.leader_epoch,
                           .isr = p->state.isr,
                           .nisr = p->state.nisr};
    st_ctl_ids live_ids = {live, nlive}, dead_ids = {dead, ndead};
    st_ctl_decision d;
    if (ndead)
        st_ctl_on_brokers_dead(&cp, dead_ids, live_ids, false, &d);
    else if (p->state.leader < 0)
        st_ctl_elect_offline(&cp, live_ids, false, &d);
    else
        return;
    if (!d.changed)
        return;
    if (d.leader < 0 && p->state.leader >= 0)
        st_warn("controller: %s-%d is offline: no live replica in its ISR", c->topics[ti].name, pi);
    memset(&p->next, 0, sizeof p->next);
    p->next.leader = d.leader;
    p->next.leader_epoch = d.leader_epoch;
    p->next.nisr = d.nisr;
    memcpy(p->next.isr, d.isr, sizeof(int32_t) * (size_t)d.nisr);
    write_state(c, ti, pi, false);
}

static void pass_all(st_cluster *c)
{
    for (int32_t t = 0; t < c->ntopics; t++)
        for (int32_t p = 0; p < c->topics[t].npartitions; p++)
            pass(c, t, p);
}

static void on_state_get(void *arg, const st_zk_result *r)
{
    cl_op *op = arg;
    st_cluster *c = op->c;
    if (ctl_stale(op))
        return;
    int32_t ti = op->topic_index, pi = op->partition;
    cl_partition *p = op_partition(op);
    cl_op_free(op);
    if (!p)
        return;
    p->busy = false;
    if (r->rc == ST_ZK_NONODE) {
        p->version = -1;
        p->loaded = true;
    } else if (r->rc == ST_ZK_OK) {
        char why[200];
        if (st_zk_partition_state_decode(r->data ? r->data : "",
                                         r->data_len > 0 ? (size_t)r->data_len : 0, &p->state, why,
                                         sizeof why)) {
            st_error("controller: %s-%d: the state znode cannot be read (%s); leaving it alone",
                     c->topics[ti].name, pi, why);
            return;
        }
        p->version = r->stat.version;
        p->loaded = true;
    } else {
        sweep_later(c, "reading a partition state", r->rc);
        return;
    }
    partition_idle(c, ti, pi);
    pass(c, ti, pi);
}

static void read_state(st_cluster *c, int32_t ti, int32_t pi)
{
    char path[600];
    if (!st_zk_path_partition_state(path, sizeof path, c->topics[ti].name, pi))
        return;
    c->topics[ti].parts[pi].busy = true;
    st_zk_get(c->zk, path, NULL, NULL, on_state_get, partition_op(c, ti, pi));
}

/* ---- topics ---- */

static int32_t find_topic(const st_cluster *c, const char *name)
{
    for (int32_t t = 0; t < c->ntopics; t++)
        if (strcmp(c->topics[t].name, name) == 0)
            return t;
    return -1;
}

/* A topic no longer in ZooKeeper: its partitions go (answers still in flight for them
 * find none), its slot stays so other topics' indexes hold. */
static void topic_gone(st_cluster *c, int32_t ti)
{
    cl_topic *t = &c->topics[ti];
    for (int32_t p = 0; p < t->npartitions; p++)
        free(t->parts[p].replicas);
    free(t->parts);
    t->parts = NULL;
    t->npartitions = 0;
    t->loaded = true;
    t->gone = true;
}

static int32_t add_topic(st_cluster *c, const char *name)
{
    cl_topic *grown = realloc(c->topics, sizeof *grown * (size_t)(c->ntopics + 1));
    if (!grown)
        return -1;
    c->topics = grown;
    cl_topic *t = &c->topics[c->ntopics];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    return c->ntopics++;
}

/* Takes the assignment's replica lists into topic ti (all partitions unread). */
static int set_assignment(st_cluster *c, int32_t ti, const st_zk_topic_assignment *a)
{
    cl_topic *t = &c->topics[ti];
    t->parts = calloc((size_t)a->npartitions, sizeof *t->parts);
    if (!t->parts)
        return -1;
    t->npartitions = a->npartitions;
    for (int32_t p = 0; p < a->npartitions; p++) {
        cl_partition *cp = &t->parts[p];
        cp->version = -1;
        cp->nreplicas = a->partitions[p].replicas.n;
        cp->replicas = malloc(sizeof(int32_t) * (size_t)(cp->nreplicas ? cp->nreplicas : 1));
        if (!cp->replicas)
            return -1;
        memcpy(cp->replicas, a->partitions[p].replicas.ids,
               sizeof(int32_t) * (size_t)cp->nreplicas);
    }
    t->loaded = true;
    return 0;
}

static void on_topic_get(void *arg, const st_zk_result *r)
{
    cl_op *op = arg;
    st_cluster *c = op->c;
    if (ctl_stale(op))
        return;
    int32_t ti = op->topic_index;
    bool ok = ti < c->ntopics && strcmp(c->topics[ti].name, op->name) == 0;
    cl_op_free(op);
    if (!ok || c->topics[ti].loaded)
        return;
    if (r->rc == ST_ZK_NONODE) { /* deleted meanwhile */
        topic_gone(c, ti);
        return;
    }
    if (r->rc != ST_ZK_OK) {
        sweep_later(c, "reading a topic's assignment", r->rc);
        return;
    }
    st_zk_topic_assignment a;
    char why[200];
    if (st_zk_topic_decode(r->data ? r->data : "", r->data_len > 0 ? (size_t)r->data_len : 0, &a,
                           why, sizeof why)) {
        st_error("controller: topic \"%s\": its assignment in ZooKeeper cannot be read (%s); "
                 "leaving it alone",
                 c->topics[ti].name, why);
        return;
    }
    int rc = set_assignment(c, ti, &a);
    st_zk_topic_assignment_free(&a);
    if (rc) {
        sweep_later(c, "out of memory for a topic", ST_ZK_OTHER);
        return;
    }
    for (int32_t p = 0; p < c->topics[ti].npartitions; p++)
        read_state(c, ti, p);
}

static void load_topic(st_cluster *c, int32_t ti)
{
    char path[600];
    if (!st_zk_path_topic(path, sizeof path, c->topics[ti].name))
        return;
    cl_op *op = cl_op_new(c, c->ctl_gen);
    op->topic_index = ti;
    snprintf(op->name, sizeof op->name, "%s", c->topics[ti].name);
    st_zk_get(c->zk, path, NULL, NULL, on_topic_get, op);
}

static void list_topics(st_cluster *c);

static void on_topics_watch(void *arg, st_zk_watch_type type, const char *path)
{
    st_cluster *c = arg;
    (void)type;
    (void)path;
    if (c->is_controller && c->live_loaded)
        list_topics(c);
}

static void on_topics(void *arg, const st_zk_result *r)
{
    cl_op *op = arg;
    st_cluster *c = op->c;
    if (ctl_stale(op))
        return;
    cl_op_free(op);
    if (r->rc != ST_ZK_OK) {
        sweep_later(c, "listing " ST_ZK_PATH_TOPICS, r->rc);
        return;
    }
    c->topics_listed = true;
    for (int32_t t = 0; t < c->ntopics; t++) {
        bool listed = false;
        for (int32_t i = 0; i < r->nchildren && !listed; i++)
            listed = strcmp(c->topics[t].name, r->children[i]) == 0;
        if (!listed && !c->topics[t].gone) {
            st_info("controller: topic \"%s\" is gone from ZooKeeper", c->topics[t].name);
            topic_gone(c, t);
        }
    }
    for (int32_t i = 0; i < r->nchildren; i++) {
        const char *name = r->children[i];
        if (!st_zk_topic_name_ok(name))
            continue;
        int32_t ti = find_topic(c, name);
        if (ti >= 0 && !c->topics[ti].gone)
            continue;
        if (ti >= 0) { /* deleted and made again */
            c->topics[ti].gone = false;
            c->topics[ti].loaded = false;
            load_topic(c, ti);
            continue;
        }
        ti = add_topic(c, name);
        if (ti < 0) {
            sweep_later(c, "out of memory for a topic", ST_ZK_OTHER);
            return;
        }
        load_topic(c, ti);
    }
}

static void list_topics(st_cluster *c)
{
    st_zk_children(c->zk, ST_ZK_PATH_TOPICS, on_topics_watch, c, on_topics,
                   cl_op_new(c, c->ctl_gen));
}

/* ---- live brokers ---- */

static void read_live(st_cluster *c);

static void on_ids_watch(void *arg, st_zk_watch_type type, const char *path)
{
    st_cluster *c = arg;
    (void)type;
    (void)path;
    if (c->is_controller)
        read_live(c);
}

static int cmp_broker(const void *a, const void *b)
{
    const cl_broker *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* Every broker of the new list read: swap it in and act on the difference. */
static void commit_live(st_cluster *c)
{
    int32_t n = 0;
    for (int32_t i = 0; i < c->nnext_live; i++)
        if (c->next_live[i].id >= 0)
            c->next_live[n++] = c->next_live[i];
    qsort(c->next_live, (size_t)n, sizeof *c->next_live, cmp_broker);
    char gone[512] = "", back[512] = "", now[512] = "";
    size_t ug = 0, ub = 0, un = 0;
    for (int32_t i = 0; i < c->nlive && ug < sizeof gone; i++) {
        bool still = false;
        for (int32_t j = 0; j < n; j++)
            still |= c->next_live[j].id == c->live[i].id;
        if (!still)
            ug += (size_t)snprintf(gone + ug, sizeof gone - ug, " %d", c->live[i].id);
    }
    for (int32_t j = 0; j < n; j++) {
        if (c->live_loaded && !live_has(c, c->next_live[j].id) && ub < sizeof back)
            ub += (size_t)snprintf(back + ub, sizeof back - ub, " %d", c->next_live[j].id);
        if (un < sizeof now)
            un += (size_t)snprintf(now + un, sizeof now - un, " %d", c->next_live[j].id);
    }
    free(c->live);
    c->live = c->next_live;
    c->nlive = n;
    c->next_live = NULL;
    c->nnext_live = 0;
    st_info("controller: live brokers [%s ]%s%s%s%s", now, gone[0] ? ", gone:" : "", gone,
            back[0] ? ", new or back:" : "", back);
    bool first = !c->live_loaded;
    c->live_loaded = true;
    if (first)
        list_topics(c);
    else
        pass_all(c);
}

static void on_broker_get(void *arg, const st_zk_result *r)
{
    cl_op *op = arg;
    st_cluster *c = op->c;
    if (ctl_stale(op))
        return;
    bool current = (uint64_t)op->count == c->live_gen;
    int32_t slot = op->partition;
    cl_op_free(op);
    if (!current || slot >= c->nnext_live)
        return;
    cl_broker *b = &c->next_live[slot];
    if (r->rc == ST_ZK_NONODE) {
        b->id = -1; /* gone between the list and the read */
    } else if (r->rc == ST_ZK_OK) {
        st_zk_broker_info info;
        char why[200];
        if (st_zk_broker_decode(b->id, r->data ? r->data : "",
                                r->data_len > 0 ? (size_t)r->data_len : 0, &info, why,
                                sizeof why) == 0) {
            if (info.has_rack)
                snprintf(b->rack, sizeof b->rack, "%s", info.rack);
        } else {
            st_warn("controller: broker %d's registration cannot be read (%s); counting it live "
                    "without a rack",
                    b->id, why);
        }
    } else {
        sweep_later(c, "reading a broker registration", r->rc);
        c->live_gen++; /* this list is abandoned; the sweep reads a new one */
        return;
    }
    if (--c->pending_live == 0)
        commit_live(c);
}

static void on_ids(void *arg, const st_zk_result *r)
{
    cl_op *op = arg;
    st_cluster *c = op->c;
    if (ctl_stale(op))
        return;
    bool current = (uint64_t)op->count == c->live_gen;
    cl_op_free(op);
    if (!current)
        return;
    if (r->rc != ST_ZK_OK) {
        sweep_later(c, "listing " ST_ZK_PATH_BROKER_IDS, r->rc);
        return;
    }
    free(c->next_live);
    c->next_live = calloc((size_t)(r->nchildren ? r->nchildren : 1), sizeof *c->next_live);
    c->nnext_live = 0;
    if (!c->next_live) {
        sweep_later(c, "out of memory for the broker list", ST_ZK_OTHER);
        return;
    }
    for (int32_t i = 0; i < r->nchildren; i++) {
        char *end;
        long id = strtol(r->children[i], &end, 10);
        if (*end || end == r->children[i] || id < 0 || id > INT32_MAX)
            continue; /* not a broker id: not ours to judge */
        c->next_live[c->nnext_live++].id = (int32_t)id;
    }
    c->pending_live = c->nnext_live;
    if (c->nnext_live == 0) {
        commit_live(c);
        return;
    }
    for (int32_t i = 0; i < c->nnext_live; i++) {
        char path[64];
        st_zk_path_broker(path, sizeof path, c->next_live[i].id);
        cl_op *get = cl_op_new(c, c->ctl_gen);
        get->count = (int32_t)c->live_gen;
        get->partition = i;
        st_zk_get(c->zk, path, NULL, NULL, on_broker_get, get);
    }
}

static void read_live(st_cluster *c)
{
    c->live_gen++;
    cl_op *op = cl_op_new(c, c->ctl_gen);
    op->count = (int32_t)c->live_gen;
    st_zk_children(c->zk, ST_ZK_PATH_BROKER_IDS, on_ids_watch, c, on_ids, op);
}

/* After a failure: read again what is not known, then look at every partition. */
static void on_sweep(st_loop *loop, st_timer *t)
{
    st_cluster *c = t->arg;
    (void)loop;
    if (!c->is_controller)
        return;
    read_live(c); /* its commit runs pass_all (or lists the topics the first time) */
    if (!c->live_loaded)
        return;
    list_topics(c);
    for (int32_t ti = 0; ti < c->ntopics; ti++) {
        if (!c->topics[ti].loaded) {
            load_topic(c, ti);
            continue;
        }
        for (int32_t p = 0; p < c->topics[ti].npartitions; p++)
            if (!c->topics[ti].parts[p].loaded && !c->topics[ti].parts[p].busy)
                read_state(c, ti, p);
    }
}

/* ---- activation ---- */

void cl_controller_activate(st_cluster *c, int32_t epoch, int32_t epoch_version)
{
    reset(c);
    c->is_controller = true;
    c->ctl_gen++;
    c->ctl_epoch = epoch;
    c->ctl_epoch_version = epoch_version;
    c->ctl_timer.cb = on_sweep;
    c->ctl_timer.arg = c;
    read_live(c);
}

void cl_controller_resign(st_cluster *c, const char *why)
{
    if (!c->is_controller)
        return;
    st_warn("broker %d is no longer the controller (epoch %d): %s", c->broker_id, c->ctl_epoch,
            why);
    c->is_controller = false;
    c->ctl_gen++;
    reset(c);
}

void cl_controller_free(st_cluster *c)
{
    c->is_controller = false;
    reset(c);
}

int32_t st_cluster_live_brokers(const st_cluster *c, int32_t *ids, int32_t cap)
{
    if (!c->is_controller || !c->live_loaded)
        return 0;
    int32_t n = 0;
    for (int32_t i = 0; i < c->nlive && n < cap; i++)
        ids[n++] = c->live[i].id;
    return n;
}

bool st_cluster_controller_ready(const st_cluster *c)
{
    if (!c->is_controller || !c->live_loaded || !c->topics_listed)
        return false;
    for (int32_t t = 0; t < c->ntopics; t++) {
        if (!c->topics[t].loaded)
            return false;
        for (int32_t p = 0; p < c->topics[t].npartitions; p++)
            if (!c->topics[t].parts[p].loaded || c->topics[t].parts[p].busy)
                return false;
    }
    return true;
}

uint64_t st_cluster_elections(const st_cluster *c)
{
    return c->elections;
}

/* ---- CreateTopics' ZooKeeper side ---- */

static uint32_t rand_below(void *ctx, uint32_t bound)
{
    st_cluster *c = ctx;
    /* xorshift64*: good enough to spread replicas, no global state */
    uint64_t x = c->rand_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c->rand_state = x;
    return bound ? (uint32_t)((x * 2685821657736338717ull) >> 32) % bound : 0;
}

static void on_topic_created(void *arg, const st_zk_result *r)
{
    cl_op *op = arg;
    st_cluster *c = op->c;
    bool current = op->gen == c->ctl_gen && c->is_controller;
    st_cluster_create_cb *cb = op->create_cb;
    void *cb_arg = op->create_arg;
    char name[256];
    snprintf(name, sizeof name, "%s", op->name);
    cl_op_free(op);
    char msg[400];
    if (r->rc == ST_ZK_OK) {
        st_info("controller: created topic \"%s\" in ZooKeeper", name);
        /* The /brokers/topics watch loads it (its states are written already). */
        if (current && c->live_loaded)
            list_topics(c);
        cb(cb_arg, 0, "");
        return;
    }
    if (r->nops >= 1 && r->ops[0].rc == ST_ZK_BADVERSION) {
        snprintf(msg, sizeof msg,
                 "broker %d is no longer the controller (the controller epoch moved); ask the "
                 "current one",
                 c->broker_id);
        if (current) {
            cl_controller_resign(c,
                                 "/controller_epoch changed under it (a newer controller exists)");
            cl_elect(c);
        }
        cb(cb_arg, ST_ERR_NOT_CONTROLLER, msg);
    } else if (r->nops >= 2 && r->ops[1].rc == ST_ZK_NODEEXISTS) {
        snprintf(msg, sizeof msg, "topic \"%s\" already exists", name);
        cb(cb_arg, ST_ERR_TOPIC_ALREADY_EXISTS, msg);
    } else {
        snprintf(msg, sizeof msg,
                 "ZooKeeper did not confirm the creation of topic \"%s\" (%s): it may or may not "
                 "exist; describe it, or create it again",
                 name, st_zk_rc_str(r->rc));
        cb(cb_arg, ST_ERR_REQUEST_TIMED_OUT, msg);
    }
}

/* Strings the transaction borrows for the call. */
typedef struct create_scratch {
    char (*paths)[600];
    char **datas;
    int32_t n;
} create_scratch;

static void scratch_free(create_scratch *s)
{
    for (int32_t i = 0; i < s->n && s->datas; i++)
        free(s->datas[i]);
    free(s->datas);
    free(s->paths);
}

void st_cluster_create_topic(st_cluster *c, const char *topic, int32_t npartitions,
                             int32_t replication_factor, st_cluster_create_cb *cb, void *arg)
{
    char msg[400] = "";
    int code = 0;
    int32_t *assignment = NULL;
    st_ctl_broker *brokers = NULL;
    st_zk_op *ops = NULL;
    create_scratch s = {0};
    if (!c->is_controller || !c->live_loaded) {
        code = ST_ERR_NOT_CONTROLLER;
        snprintf(msg, sizeof msg, "broker %d is not the controller (the controller is %d)",
                 c->broker_id, c->controller_id);
        goto out;
    }
    if (!st_zk_topic_name_ok(topic)) {
        code = ST_ERR_INVALID_TOPIC_EXCEPTION;
        snprintf(msg, sizeof msg,
                 "\"%.255s\" is not a topic name: 1-249 of [A-Za-z0-9._-], not \".\" or \"..\"",
                 topic);
        goto out;
    }
    if (npartitions < 1 || npartitions > MAX_CREATE_PARTS) {
        code = ST_ERR_INVALID_PARTITIONS;
        snprintf(msg, sizeof msg,
                 "%d partitions: a topic has 1 to %d partitions in cluster mode (one ZooKeeper "
                 "transaction)",
                 npartitions, MAX_CREATE_PARTS);
        goto out;
    }
    if (replication_factor < 1 || replication_factor > ST_ZK_MAX_REPLICAS) {
        code = ST_ERR_INVALID_REPLICATION_FACTOR;
        snprintf(msg, sizeof msg, "replication factor %d: must be 1 to %d", replication_factor,
                 ST_ZK_MAX_REPLICAS);
        goto out;
    }
    brokers = calloc((size_t)(c->nlive ? c->nlive : 1), sizeof *brokers);
    assignment = calloc((size_t)npartitions * (size_t)replication_factor, sizeof *assignment);
    int32_t nops = 3 + 2 * npartitions;
    ops = calloc((size_t)nops, sizeof *ops);
    s.paths = calloc((size_t)nops, sizeof *s.paths);
    s.datas = calloc((size_t)nops, sizeof *s.datas);
    s.n = nops;
    if (!brokers || !assignment || !ops || !s.paths || !s.datas) {
        code = ST_ERR_REQUEST_TIMED_OUT;
        snprintf(msg, sizeof msg, "out of memory creating topic \"%s\"", topic);
        goto out;
    }
    for (int32_t i = 0; i < c->nlive; i++)
        brokers[i] = (st_ctl_broker){c->live[i].id, c->live[i].rack[0] ? c->live[i].rack : NULL};
    code = st_ctl_assign(brokers, c->nlive, npartitions, replication_factor, 0, -1, rand_below, c,
                         assignment, msg, sizeof msg);
    if (code)
        goto out;

    st_zk_topic_assignment a;
    if (st_zk_topic_assignment_init(&a, npartitions)) {
        code = ST_ERR_REQUEST_TIMED_OUT;
        snprintf(msg, sizeof msg, "out of memory creating topic \"%s\"", topic);
        goto out;
    }
    for (int32_t p = 0; p < npartitions; p++)
        st_zk_replica_list_set(&a.partitions[p].replicas,
                               assignment + (size_t)p * (size_t)replication_factor,
                               replication_factor);
    s.datas[1] = st_zk_topic_encode(&a);
    st_zk_topic_assignment_free(&a);
    ops[0] = (st_zk_op){.type = ST_ZK_OP_CHECK,
                        .path = ST_ZK_PATH_CONTROLLER_EPOCH,
                        .version = c->ctl_epoch_version};
    st_zk_path_topic(s.paths[1], sizeof s.paths[1], topic);
    ops[1] = (st_zk_op){.type = ST_ZK_OP_CREATE,
                        .path = s.paths[1],
                        .data = s.datas[1],
                        .len = s.datas[1] ? (int32_t)strlen(s.datas[1]) : 0};
    st_zk_path_partitions(s.paths[2], sizeof s.paths[2], topic);
    ops[2] = (st_zk_op){.type = ST_ZK_OP_CREATE, .path = s.paths[2], .len = -1};
    bool encoded = s.datas[1] != NULL;
    for (int32_t p = 0; p < npartitions && encoded; p++) {
        int32_t i = 3 + 2 * p;
        st_zk_path_partition(s.paths[i], sizeof s.paths[i], topic, p);
        ops[i] = (st_zk_op){.type = ST_ZK_OP_CREATE, .path = s.paths[i], .len = -1};
        st_zk_partition_state st;
        memset(&st, 0, sizeof st);
        const int32_t *replicas = assignment + (size_t)p * (size_t)replication_factor;
        st.leader = replicas[0];
        st.leader_epoch = 0;
        st.controller_epoch = c->ctl_epoch;
        st.nisr = replication_factor;
        memcpy(st.isr, replicas, sizeof(int32_t) * (size_t)replication_factor);
        s.datas[i + 1] = st_zk_partition_state_encode(&st);
        encoded = s.datas[i + 1] != NULL;
        st_zk_path_partition_state(s.paths[i + 1], sizeof s.paths[i + 1], topic, p);
        ops[i + 1] = (st_zk_op){.type = ST_ZK_OP_CREATE,
                                .path = s.paths[i + 1],
                                .data = s.datas[i + 1],
                                .len = encoded ? (int32_t)strlen(s.datas[i + 1]) : 0};
    }
    if (!encoded) {
        code = ST_ERR_REQUEST_TIMED_OUT;
        snprintf(msg, sizeof msg, "out of memory creating topic \"%s\"", topic);
        goto out;
    }
    cl_op *op = cl_op_new(c, c->ctl_gen);
    op->create_cb = cb;
    op->create_arg = arg;
    snprintf(op->name, sizeof op->name, "%s", topic);
    st_zk_multi(c->zk, ops, nops, on_topic_created, op);
out:
    scratch_free(&s);
    free(ops);
    free(assignment);
    free(brokers);
    if (code)
        cb(arg, code, msg);
}
