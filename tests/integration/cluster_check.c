/*
 * cluster_check: a small ZooKeeper client for the cluster-mode tests (test_cluster_zk.sh),
 * over broker/cluster/zk.c on a real st_loop.
 *
 *   cluster_check dump CONNECT
 *       prints what the brokers wrote, one line each: "cluster_id ID",
 *       "broker ID JSON" (every /brokers/ids child), "controller ID" (or "controller none"),
 *       "controller_epoch N", "state TOPIC P JSON" (every partition state)
 *   cluster_check assign CONNECT TOPIC "1,2|2,3|3,1"
 *       writes /brokers/topics/TOPIC with that assignment (partition 0 first), as
 *       `kafka-topics.sh --zookeeper` does; the controller then writes the states
 *   cluster_check set CONNECT PATH DATA
 *       sets an existing znode's data (any version): hostile data for the brokers
 *   cluster_check controller CONNECT
 *       runs four brokers' st_cluster (the module straitd runs) in this process against
 *       ZooKeeper, in a fresh chroot: one controller, CreateTopics' assignment over
 *       racks, leaders moved off a broker that dies, a controller fenced by a newer
 *       epoch, a new controller when the controller dies, an offline partition.
 *       Prints figures and "N passed, 0 failed"; exits 1 on the first failure.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/cluster/cluster.h"
#include "broker/cluster/zk.h"
#include "broker/cluster/zk_layout.h"
#include "broker/net/loop.h"
#include "common/errors.h"
#include "common/logging.h"

static st_loop *loop;
static st_zk *reader; /* the controller check's own session */
static int passed;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "cluster_check: FAIL line %d: %s: ", __LINE__, #cond);                 \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            exit(1);                                                                               \
        }                                                                                          \
        passed++;                                                                                  \
    } while (0)

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* ---- running the loop ---- */

static bool slice_over;
static void on_slice(st_loop *l, st_timer *t)
{
    (void)t;
    slice_over = true;
    st_loop_stop(l);
}

/* Runs the loop for about ms milliseconds. */
static void run_for(int ms)
{
    st_timer t = {.cb = on_slice};
    slice_over = false;
    st_loop_update_time(loop);
    st_timer_start(loop, &t, ms);
    while (!slice_over)
        st_loop_run(loop);
}

typedef bool cond_fn(void *ctx);

/* Runs the loop until cond holds, at most timeout_ms; returns the time it took (ms) or
 * fails naming what. */
static double wait_for(cond_fn *cond, void *ctx, int timeout_ms, const char *what)
{
    double t0 = now_ms();
    while (!cond(ctx)) {
        if (now_ms() - t0 > timeout_ms) {
            fprintf(stderr, "cluster_check: FAIL: timed out after %d ms waiting for %s\n",
                    timeout_ms, what);
            exit(1);
        }
        run_for(20);
    }
    passed++;
    return now_ms() - t0;
}

/* ---- a plain session for reading ---- */

typedef struct answer {
    bool done;
    st_zk_rc rc;
    char data[8192];
    int32_t data_len;
    st_zk_stat stat;
    int nchildren;
    char children[256][256];
} answer;

static void on_answer(void *arg, const st_zk_result *r)
{
    answer *a = arg;
    a->done = true;
    a->rc = r->rc;
    a->data_len = r->data_len;
    a->data[0] = '\0';
    if (r->data && r->data_len >= 0)
        snprintf(a->data, sizeof a->data, "%.*s", (int)r->data_len, r->data);
    if (r->has_stat)
        a->stat = r->stat;
    a->nchildren = 0;
    for (int i = 0; i < r->nchildren && i < 256; i++)
        snprintf(a->children[a->nchildren++], sizeof a->children[0], "%s", r->children[i]);
    st_loop_stop(loop);
}

static bool answered(void *ctx)
{
    return ((answer *)ctx)->done;
}

static answer *zget(st_zk *zk, const char *path)
{
    static answer a;
    memset(&a, 0, sizeof a);
    st_zk_get(zk, path, NULL, NULL, on_answer, &a);
    wait_for(answered, &a, 10000, path);
    return &a;
}

static answer *zchildren(st_zk *zk, const char *path)
{
    static answer a;
    memset(&a, 0, sizeof a);
    st_zk_children(zk, path, NULL, NULL, on_answer, &a);
    wait_for(answered, &a, 10000, path);
    return &a;
}

static answer *zwrite(st_zk *zk, bool create, const char *path, const char *data)
{
    static answer a;
    memset(&a, 0, sizeof a);
    if (create)
        st_zk_create(zk, path, data, data ? (int32_t)strlen(data) : -1, 0, on_answer, &a);
    else
        st_zk_set(zk, path, data, (int32_t)strlen(data), -1, on_answer, &a);
    wait_for(answered, &a, 10000, path);
    return &a;
}

static answer *zdelete(st_zk *zk, const char *path)
{
    static answer a;
    memset(&a, 0, sizeof a);
    st_zk_delete(zk, path, -1, on_answer, &a);
    wait_for(answered, &a, 10000, path);
    return &a;
}

/* Writes /brokers/topics/<topic> with one partition on `replicas`. */
static void write_assignment(const char *topic, const int32_t *replicas, int32_t n)
{
    st_zk_topic_assignment t;
    st_zk_topic_assignment_init(&t, 1);
    st_zk_replica_list_set(&t.partitions[0].replicas, replicas, n);
    char *json = st_zk_topic_encode(&t);
    st_zk_topic_assignment_free(&t);
    char path[600];
    st_zk_path_topic(path, sizeof path, topic);
    answer *a = zwrite(reader, true, path, json);
    free(json);
    CHECK(a->rc == ST_ZK_OK, "writing %s: %s", path, st_zk_rc_str(a->rc));
}

static bool session_up;
static void on_state(void *arg, st_zk_event ev, int64_t id)
{
    (void)arg;
    (void)id;
    if (ev == ST_ZK_EV_SESSION_NEW || ev == ST_ZK_EV_RECONNECTED)
        session_up = true;
    if (ev == ST_ZK_EV_CONNECT_TIMEOUT) {
        fprintf(stderr, "cluster_check: ZooKeeper does not answer\n");
        exit(1);
    }
}

static bool is_up(void *ctx)
{
    (void)ctx;
    return session_up;
}

static st_zk *connect_zk(const char *connect)
{
    char err[256];
    st_zk_config zc = {.connect = connect,
                       .session_timeout_ms = 4000,
                       .connect_timeout_ms = 10000,
                       .loop = loop,
                       .on_state = on_state};
    session_up = false;
    st_zk *zk = st_zk_new(&zc, err, sizeof err);
    CHECK(zk, "st_zk_new: %s", err);
    wait_for(is_up, NULL, 15000, "a ZooKeeper session");
    return zk;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* ---- dump ---- */

/* A read that neither answered nor found the znode missing: the dump would be partial,
 * and a check that something is absent would pass on it. */
static bool read_failed(const answer *a, const char *path)
{
    if (a->rc == ST_ZK_OK || a->rc == ST_ZK_NONODE)
        return false;
    fprintf(stderr, "cluster_check dump: reading %s: %s\n", path, st_zk_rc_str(a->rc));
    return true;
}

static int dump(const char *connect)
{
    st_zk *zk = connect_zk(connect);
    int rc = 0;
    answer *a = zget(zk, ST_ZK_PATH_CLUSTER_ID);
    rc |= read_failed(a, ST_ZK_PATH_CLUSTER_ID);
    printf("cluster_id %s\n", a->rc == ST_ZK_OK ? a->data : "none");
    a = zchildren(zk, ST_ZK_PATH_BROKER_IDS);
    rc |= read_failed(a, ST_ZK_PATH_BROKER_IDS);
    int n = a->nchildren;
    static char ids[256][256];
    memcpy(ids, a->children, sizeof ids);
    qsort(ids, (size_t)n, sizeof ids[0], cmp_str);
    for (int i = 0; i < n; i++) {
        char path[300];
        snprintf(path, sizeof path, "%s/%s", ST_ZK_PATH_BROKER_IDS, ids[i]);
        a = zget(zk, path);
        rc |= read_failed(a, path);
        if (a->rc == ST_ZK_OK)
            printf("broker %s %s\n", ids[i], a->data);
    }
    a = zget(zk, ST_ZK_PATH_CONTROLLER);
    rc |= read_failed(a, ST_ZK_PATH_CONTROLLER);
    int32_t id = -1;
    char why[200];
    if (a->rc == ST_ZK_OK &&
        st_zk_controller_decode(a->data, (size_t)a->data_len, &id, why, sizeof why) == 0)
        printf("controller %d\n", id);
    else
        printf("controller none\n");
    a = zget(zk, ST_ZK_PATH_CONTROLLER_EPOCH);
    rc |= read_failed(a, ST_ZK_PATH_CONTROLLER_EPOCH);
    printf("controller_epoch %s\n", a->rc == ST_ZK_OK ? a->data : "none");
    a = zchildren(zk, ST_ZK_PATH_TOPICS);
    rc |= read_failed(a, ST_ZK_PATH_TOPICS);
    static char topics[256][256];
    int ntopics = a->nchildren;
    memcpy(topics, a->children, sizeof topics);
    qsort(topics, (size_t)ntopics, sizeof topics[0], cmp_str);
    for (int t = 0; t < ntopics; t++) {
        char path[600];
        st_zk_path_partitions(path, sizeof path, topics[t]);
        a = zchildren(zk, path);
        rc |= read_failed(a, path);
        int np = a->nchildren;
        for (int p = 0; p < np; p++) {
            st_zk_path_partition_state(path, sizeof path, topics[t], p);
            a = zget(zk, path);
            rc |= read_failed(a, path);
            if (a->rc == ST_ZK_OK)
                printf("state %s %d %s\n", topics[t], p, a->data);
        }
    }
    st_zk_free(zk);
    return rc ? 1 : 0;
}

/* ---- set ---- */

static int set_znode(const char *connect, const char *path, const char *data)
{
    st_zk *zk = connect_zk(connect);
    answer *a = zwrite(zk, false, path, data);
    if (a->rc != ST_ZK_OK)
        fprintf(stderr, "cluster_check set: %s: %s\n", path, st_zk_rc_str(a->rc));
    int rc = a->rc == ST_ZK_OK ? 0 : 1;
    st_zk_free(zk);
    return rc;
}

/* ---- assign ---- */

static int assign(const char *connect, const char *topic, const char *spec)
{
    st_zk_topic_assignment t;
    int32_t np = 1;
    for (const char *s = spec; *s; s++)
        np += *s == '|';
    CHECK(st_zk_topic_assignment_init(&t, np) == 0, "out of memory");
    const char *s = spec;
    for (int32_t p = 0; p < np; p++) {
        int32_t ids[16], n = 0;
        while (*s && *s != '|' && n < 16) {
            ids[n++] = (int32_t)strtol(s, (char **)&s, 10);
            if (*s == ',')
                s++;
        }
        if (*s == '|')
            s++;
        st_zk_replica_list_set(&t.partitions[p].replicas, ids, n);
    }
    char *json = st_zk_topic_encode(&t);
    st_zk_topic_assignment_free(&t);
    st_zk *zk = connect_zk(connect);
    char path[600];
    st_zk_path_topic(path, sizeof path, topic);
    answer *a = zwrite(zk, true, path, json);
    CHECK(a->rc == ST_ZK_OK, "creating %s: %s", path, st_zk_rc_str(a->rc));
    printf("wrote %s %s\n", path, json);
    free(json);
    st_zk_free(zk);
    return 0;
}

/* ---- controller: four brokers in one process ---- */

#define NB 4
static st_cluster *brokers[NB + 1]; /* by id 1..NB; NULL once stopped */
static const char *racks[NB + 1] = {NULL, "a", "b", "a", "b"};

static st_cluster *start_broker(const char *connect, int32_t id)
{
    st_cluster_config cc = {.zookeeper = connect,
                            .session_timeout_ms = 4000,
                            .connect_timeout_ms = 10000,
                            .broker_id = id,
                            .rack = racks[id],
                            .nendpoints = 1,
                            .loop = loop};
    snprintf(cc.endpoints[0].listener, sizeof cc.endpoints[0].listener, "PLAINTEXT");
    snprintf(cc.endpoints[0].security_protocol, sizeof cc.endpoints[0].security_protocol,
             "PLAINTEXT");
    snprintf(cc.endpoints[0].host, sizeof cc.endpoints[0].host, "127.0.0.1");
    cc.endpoints[0].port = 19000 + id;
    char err[600];
    st_cluster *c = st_cluster_start(&cc, err, sizeof err);
    CHECK(c, "st_cluster_start %d: %s", id, err);
    CHECK(st_cluster_wait_registered(c, err, sizeof err) == 0, "broker %d: %s", id, err);
    return c;
}

/* The one controller every running broker agrees on, ready; 0 while there is none. */
static int32_t agreed_controller(void)
{
    int32_t ctl = 0;
    for (int32_t id = 1; id <= NB; id++)
        if (brokers[id] && st_cluster_is_controller(brokers[id])) {
            if (ctl)
                return 0; /* two at once: not settled (and checked below) */
            ctl = id;
        }
    if (!ctl || !st_cluster_controller_ready(brokers[ctl]))
        return 0;
    for (int32_t id = 1; id <= NB; id++)
        if (brokers[id] && st_cluster_controller_id(brokers[id]) != ctl)
            return 0;
    return ctl;
}

static bool have_controller(void *ctx)
{
    (void)ctx;
    return agreed_controller() != 0;
}

typedef struct created {
    bool done;
    int code;
    char msg[400];
} created;

static void on_created(void *arg, int code, const char *msg)
{
    created *cr = arg;
    cr->done = true;
    cr->code = code;
    snprintf(cr->msg, sizeof cr->msg, "%s", msg);
}

static bool create_done(void *ctx)
{
    return ((created *)ctx)->done;
}

static created create(int32_t ctl, const char *topic, int32_t np, int32_t rf)
{
    created cr = {0};
    st_cluster_create_topic(brokers[ctl], topic, np, rf, on_created, &cr);
    wait_for(create_done, &cr, 10000, "CreateTopics' answer");
    return cr;
}

static st_zk_partition_state read_state(const char *topic, int32_t p)
{
    char path[600];
    st_zk_path_partition_state(path, sizeof path, topic, p);
    answer *a = zget(reader, path);
    st_zk_partition_state s;
    memset(&s, 0, sizeof s);
    s.leader = -2; /* no state */
    char why[200];
    if (a->rc == ST_ZK_OK)
        CHECK(st_zk_partition_state_decode(a->data, (size_t)a->data_len, &s, why, sizeof why) == 0,
              "%s: %s", path, why);
    return s;
}

static bool in(const int32_t *ids, int32_t n, int32_t id)
{
    for (int32_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/* No partition of topic (np partitions) has `dead` as leader or in its ISR, unless it is
 * offline (leader -1, ISR its last member). */
typedef struct gone_ctx {
    const char *topic;
    int32_t np;
    int32_t dead;
} gone_ctx;

static bool broker_gone_from_states(void *ctx)
{
    gone_ctx *g = ctx;
    for (int32_t p = 0; p < g->np; p++) {
        st_zk_partition_state s = read_state(g->topic, p);
        if (s.leader == g->dead)
            return false;
        if (s.leader >= 0 && in(s.isr, s.nisr, g->dead))
            return false;
    }
    return true;
}

static void stop_broker(int32_t id)
{
    st_cluster_free(brokers[id]);
    brokers[id] = NULL;
}

static int controller_test(const char *connect)
{
    /* A fresh chroot, so the test's cluster is alone in this ZooKeeper. */
    st_zk *root = connect_zk(connect);
    char chroot[64], sub[1200];
    snprintf(chroot, sizeof chroot, "/cluster_check_%d", (int)getpid());
    answer *a = zwrite(root, true, chroot, NULL);
    CHECK(a->rc == ST_ZK_OK, "creating %s: %s", chroot, st_zk_rc_str(a->rc));
    st_zk_free(root);
    snprintf(sub, sizeof sub, "%s%s", connect, chroot);
    reader = connect_zk(sub);

    for (int32_t id = 1; id <= NB; id++)
        brokers[id] = start_broker(sub, id);
    double ms = wait_for(have_controller, NULL, 15000, "one controller all brokers agree on");
    int32_t ctl = agreed_controller();
    int32_t epoch = st_cluster_controller_epoch(brokers[ctl]);
    printf("cluster_check: controller is broker %d (epoch %d), agreed after %.0f ms\n", ctl, epoch,
           ms);
    int32_t live[8];
    CHECK(st_cluster_live_brokers(brokers[ctl], live, 8) == NB, "the controller sees %d live",
          st_cluster_live_brokers(brokers[ctl], live, 8));
    const char *cid = st_cluster_id(brokers[1]);
    CHECK(strlen(cid) == 22, "cluster id \"%s\" is not 22 characters", cid);
    for (int32_t id = 2; id <= NB; id++)
        CHECK(strcmp(st_cluster_id(brokers[id]), cid) == 0, "broker %d has cluster id %s, not %s",
              id, st_cluster_id(brokers[id]), cid);

    /* CreateTopics' ZooKeeper side: 8 partitions, RF 2, over racks a,b,a,b */
    created cr = create(ctl, "orders", 8, 2);
    CHECK(cr.code == 0, "creating orders: %d %s", cr.code, cr.msg);
    char path[600];
    st_zk_path_topic(path, sizeof path, "orders");
    a = zget(reader, path);
    CHECK(a->rc == ST_ZK_OK, "%s: %s", path, st_zk_rc_str(a->rc));
    printf("cluster_check: %s = %s\n", path, a->data);
    st_zk_topic_assignment asg;
    char why[200];
    CHECK(st_zk_topic_decode(a->data, (size_t)a->data_len, &asg, why, sizeof why) == 0, "%s", why);
    CHECK(asg.npartitions == 8, "%d partitions", asg.npartitions);
    int leads[NB + 1] = {0};
    int32_t replicas[8][2];
    for (int32_t p = 0; p < 8; p++) {
        const st_zk_replica_list *r = &asg.partitions[p].replicas;
        CHECK(r->n == 2, "partition %d has %d replicas", p, r->n);
        CHECK(r->ids[0] >= 1 && r->ids[0] <= NB && r->ids[1] >= 1 && r->ids[1] <= NB,
              "partition %d: replicas %d,%d", p, r->ids[0], r->ids[1]);
        CHECK(strcmp(racks[r->ids[0]], racks[r->ids[1]]) != 0,
              "partition %d: replicas %d and %d share rack %s", p, r->ids[0], r->ids[1],
              racks[r->ids[0]]);
        leads[r->ids[0]]++;
        replicas[p][0] = r->ids[0];
        replicas[p][1] = r->ids[1];
        st_zk_partition_state s = read_state("orders", p);
        CHECK(s.leader == r->ids[0] && s.nisr == 2 && s.isr[0] == r->ids[0] &&
                  s.isr[1] == r->ids[1] && s.leader_epoch == 0 && s.controller_epoch == epoch,
              "partition %d: state leader %d isr %d entries epoch %d/%d", p, s.leader, s.nisr,
              s.leader_epoch, s.controller_epoch);
    }
    st_zk_topic_assignment_free(&asg);
    for (int32_t id = 1; id <= NB; id++)
        CHECK(leads[id] == 2, "broker %d leads %d of 8 partitions (want 2 each)", id, leads[id]);

    cr = create(ctl, "orders", 1, 1);
    CHECK(cr.code == ST_ERR_TOPIC_ALREADY_EXISTS, "again: %d %s", cr.code, cr.msg);
    cr = create(ctl, "wide", 1, 5);
    CHECK(cr.code == ST_ERR_INVALID_REPLICATION_FACTOR && strstr(cr.msg, "4"),
          "RF 5 of 4 brokers: %d %s", cr.code, cr.msg);
    printf("cluster_check: RF 5 on 4 brokers: %s\n", cr.msg);
    cr = create(ctl, "bad/name", 1, 1);
    CHECK(cr.code == ST_ERR_INVALID_TOPIC_EXCEPTION, "bad name: %d %s", cr.code, cr.msg);
    int32_t other = ctl == 1 ? 2 : 1;
    cr = create(other, "elsewhere", 1, 1);
    CHECK(cr.code == ST_ERR_NOT_CONTROLLER, "on a non-controller: %d %s", cr.code, cr.msg);

    /* A topic written by someone else (kafka-topics --zookeeper): the controller gives
     * it states. */
    int32_t ext_ids[2] = {other, ctl};
    write_assignment("external", ext_ids, 2);
    double t0 = now_ms();
    st_zk_partition_state s;
    for (;;) {
        s = read_state("external", 0);
        if (s.leader != -2)
            break;
        CHECK(now_ms() - t0 < 10000, "no state for external-0 after 10 s");
        run_for(50);
    }
    CHECK(s.leader == other && s.nisr == 2 && s.controller_epoch == epoch,
          "external-0: leader %d, %d in ISR, controller epoch %d", s.leader, s.nisr,
          s.controller_epoch);
    printf("cluster_check: external topic's state written after %.0f ms\n", now_ms() - t0);

    /* Deleted (every znode, deepest first) and made again on another replica: the
     * controller forgets the old topic and gives the new one its state. */
    const char *ext_paths[4];
    char p_state[600], p_part[600], p_parts[600], p_topic[600];
    st_zk_path_partition_state(p_state, sizeof p_state, "external", 0);
    st_zk_path_partition(p_part, sizeof p_part, "external", 0);
    st_zk_path_partitions(p_parts, sizeof p_parts, "external");
    st_zk_path_topic(p_topic, sizeof p_topic, "external");
    ext_paths[0] = p_state, ext_paths[1] = p_part, ext_paths[2] = p_parts, ext_paths[3] = p_topic;
    for (int i = 0; i < 4; i++) {
        a = zdelete(reader, ext_paths[i]);
        CHECK(a->rc == ST_ZK_OK, "deleting %s: %s", ext_paths[i], st_zk_rc_str(a->rc));
    }
    run_for(200); /* a window in which a confused controller would write it back */
    CHECK(read_state("external", 0).leader == -2, "external-0's state came back after deletion");
    int32_t again_ids[1] = {ctl};
    write_assignment("external", again_ids, 1);
    t0 = now_ms();
    for (;;) {
        s = read_state("external", 0);
        if (s.leader != -2)
            break;
        CHECK(now_ms() - t0 < 10000, "no state for the re-created external-0 after 10 s");
        run_for(50);
    }
    CHECK(s.leader == ctl && s.nisr == 1, "re-created external-0: leader %d, %d in ISR (want %d)",
          s.leader, s.nisr, ctl);

    /* A follower-and-leader broker dies (its session closes): its leaderships move to
     * the other replica, it leaves every ISR, leader epochs go up. */
    int32_t victim = ctl == NB ? 1 : ctl + 1;
    stop_broker(victim);
    gone_ctx g = {"orders", 8, victim};
    ms = wait_for(broker_gone_from_states, &g, 15000, "leaders moved off the dead broker");
    printf("cluster_check: broker %d stopped: leaders moved and ISRs shrunk in %.0f ms\n", victim,
           ms);
    for (int32_t p = 0; p < 8; p++) {
        s = read_state("orders", p);
        if (replicas[p][0] == victim || replicas[p][1] == victim) {
            int32_t survivor = replicas[p][0] == victim ? replicas[p][1] : replicas[p][0];
            CHECK(s.leader == survivor && s.nisr == 1 && s.isr[0] == survivor &&
                      s.leader_epoch == 1,
                  "orders-%d (replicas %d,%d): leader %d, ISR of %d, leader epoch %d", p,
                  replicas[p][0], replicas[p][1], s.leader, s.nisr, s.leader_epoch);
        } else {
            CHECK(s.leader == replicas[p][0] && s.leader_epoch == 0,
                  "orders-%d untouched: leader %d, leader epoch %d", p, s.leader, s.leader_epoch);
        }
    }

    /* Fencing: a newer controller epoch appears (as if another controller had won while
     * this one was paused). The controller's next write fails its epoch check: it
     * writes nothing with the old epoch, resigns, and a controller of a newer epoch
     * carries on. */
    a = zget(reader, ST_ZK_PATH_CONTROLLER_EPOCH);
    int32_t bumped = atoi(a->data) + 10;
    char num[12];
    snprintf(num, sizeof num, "%d", bumped);
    a = zwrite(reader, false, ST_ZK_PATH_CONTROLLER_EPOCH, num);
    CHECK(a->rc == ST_ZK_OK, "bumping the epoch: %s", st_zk_rc_str(a->rc));
    int32_t victim2 = 0;
    for (int32_t id = 1; id <= NB; id++)
        if (brokers[id] && id != ctl)
            victim2 = id;
    stop_broker(victim2);
    g.dead = victim2;
    ms = wait_for(broker_gone_from_states, &g, 15000, "leaders moved off the second dead broker");
    wait_for(have_controller, NULL, 15000, "a controller after the fencing");
    int32_t ctl2 = agreed_controller();
    int32_t epoch2 = st_cluster_controller_epoch(brokers[ctl2]);
    CHECK(epoch2 > bumped, "controller epoch %d after fencing, want > %d", epoch2, bumped);
    for (int32_t p = 0; p < 8; p++) {
        s = read_state("orders", p);
        if (replicas[p][0] == victim2 || replicas[p][1] == victim2)
            CHECK(s.controller_epoch > bumped, "orders-%d written with controller epoch %d (<= %d)",
                  p, s.controller_epoch, bumped);
    }
    printf("cluster_check: fenced controller resigned; broker %d controls at epoch %d (> %d); "
           "broker %d's partitions moved in %.0f ms\n",
           ctl2, epoch2, bumped, victim2, ms);

    /* The controller dies: the last broker becomes controller, and partitions of which
     * it holds no replica go offline (leader -1, the last ISR member kept). */
    stop_broker(ctl2);
    t0 = now_ms();
    ms = wait_for(have_controller, NULL, 15000, "a new controller after the controller stopped");
    int32_t ctl3 = agreed_controller();
    CHECK(ctl3 != ctl2, "controller still %d", ctl3);
    printf("cluster_check: controller %d stopped -> broker %d took over in %.0f ms\n", ctl2, ctl3,
           ms);
    g.dead = ctl2;
    wait_for(broker_gone_from_states, &g, 15000, "leaders moved off the dead controller");
    int offline = 0;
    for (int32_t p = 0; p < 8; p++) {
        s = read_state("orders", p);
        bool has = replicas[p][0] == ctl3 || replicas[p][1] == ctl3;
        if (has)
            CHECK(s.leader == ctl3, "orders-%d: leader %d, want %d", p, s.leader, ctl3);
        else {
            CHECK(s.leader == -1 && s.nisr == 1,
                  "orders-%d: leader %d with %d in ISR, want offline", p, s.leader, s.nisr);
            offline++;
        }
    }
    printf("cluster_check: %d of 8 partitions offline with one broker left (no replica on it)\n",
           offline);
    CHECK(st_cluster_elections(brokers[ctl3]) > 0, "the last controller wrote no election");

    stop_broker(ctl3);
    st_zk_free(reader);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: cluster_check dump|assign|set|controller CONNECT [...]\n");
        return 2;
    }
    st_logging_setup(ST_LOG_INFO, stderr);
    char err[256];
    loop = st_loop_new(err, sizeof err);
    CHECK(loop, "st_loop_new: %s", err);
    int rc;
    if (strcmp(argv[1], "dump") == 0)
        rc = dump(argv[2]);
    else if (strcmp(argv[1], "assign") == 0 && argc == 5)
        rc = assign(argv[2], argv[3], argv[4]);
    else if (strcmp(argv[1], "set") == 0 && argc == 5)
        rc = set_znode(argv[2], argv[3], argv[4]);
    else if (strcmp(argv[1], "controller") == 0) {
        rc = controller_test(argv[2]);
        printf("%d passed, 0 failed\n", passed);
    } else {
        fprintf(stderr, "cluster_check: unknown command %s\n", argv[1]);
        return 2;
    }
    st_loop_free(loop);
    return rc;
}
