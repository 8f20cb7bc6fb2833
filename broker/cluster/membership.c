/*
 * A broker's membership of a ZooKeeper cluster: the session, the persistent parents,
 * /cluster/id, the ephemeral /brokers/ids/<id>, and the controller election (cluster.h
 * draws the sequence). The controller's own work is in controller.c.
 *
 * Every step is a request whose answer comes back on the loop; a step that fails in a
 * way a retry can mend (connection loss, no session yet) arms one retry timer, which
 * starts the sequence again from the top — each step accepts finding its work already
 * done (NODEEXISTS of our own session is success).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "broker/cluster/cluster_int.h"
#include "common/clock.h"
#include "common/logging.h"

#define RETRY_MS     500 /* after a step failed for want of a connection */
#define DUP_POLL_MS  250 /* looking again at a registration held by another session */
#define CONTROLLER_P ST_ZK_PATH_CONTROLLER

/* ---- ops ---- */

cl_op *cl_op_new(st_cluster *c, uint64_t gen)
{
    cl_op *op = calloc(1, sizeof *op);
    if (!op) {
        st_error("out of memory for a ZooKeeper request; aborting");
        abort();
    }
    op->c = c;
    op->gen = gen;
    op->next = c->ops.next;
    op->prev = &c->ops;
    c->ops.next->prev = op;
    c->ops.next = op;
    return op;
}

void cl_op_free(cl_op *op)
{
    op->prev->next = op->next;
    op->next->prev = op->prev;
    free(op);
}

/* True (and the op freed) when the answer belongs to an earlier session or sequence. */
static bool stale(cl_op *op)
{
    if (op->gen == op->c->session_gen)
        return false;
    cl_op_free(op);
    return true;
}

/* ---- the start-up wait ---- */

static void start_finished(st_cluster *c, const char *refusal)
{
    if (!c->starting || c->start_done)
        return;
    c->start_done = true;
    if (refusal)
        snprintf(c->start_err, sizeof c->start_err, "%.*s", (int)sizeof c->start_err - 1, refusal);
    st_loop_stop(c->loop);
}

/* How long a registration of another session may stand before we call it a live
 * broker's: ZooKeeper expires a dead session one session timeout after its last
 * heartbeat (up to a third of the timeout before the crash), rounded up to its tick;
 * half a timeout more (at least 1 s) covers both. */
static int64_t dup_wait_ms(const st_cluster *c)
{
    int64_t extra = c->session_timeout_ms / 2;
    return (int64_t)c->session_timeout_ms + (extra < 1000 ? 1000 : extra);
}

/* The connect timeout, the wait for for a previous life's registration to expire,
 * and room for the requests themselves. */
static int64_t start_deadline_ms(const st_cluster *c)
{
    return (int64_t)c->connect_timeout_ms + dup_wait_ms(c) + 10000;
}

/* ---- the sequence ---- */

static void create_parents(st_cluster *c);

static void schedule_retry(st_cluster *c, const char *what, st_zk_rc rc)
{
    st_warn("ZooKeeper: %s: %s; trying again in %d ms", what, st_zk_rc_str(rc), RETRY_MS);
    if (!st_timer_armed(&c->retry_timer))
        st_timer_start(c->loop, &c->retry_timer, RETRY_MS);
}

static void restart_sequence(st_cluster *c)
{
    c->session_gen++;
    c->step = 0;
    c->registered = false;
    c->electing = false;
    c->elect_again = false;
    if (st_timer_armed(&c->retry_timer))
        st_timer_stop(c->loop, &c->retry_timer);
    create_parents(c);
}

static void on_retry(st_loop *loop, st_timer *t)
{
    st_cluster *c = t->arg;
    (void)loop;
    /* Without a session, ST_ZK_EV_SESSION_NEW starts the sequence when one comes. */
    if (st_zk_session_id(c->zk) != 0)
        restart_sequence(c);
}

static void register_broker(st_cluster *c);
static void read_cluster_id(st_cluster *c);

static void on_parent(void *arg, const st_zk_result *r)
{
    cl_op *op = arg;
    st_cluster *c = op->c;
    if (stale(op))
        return;
    cl_op_free(op);
    const char *chroot = strchr(c->connect, '/');
    if (r->rc == ST_ZK_NONODE && c->step == 0 && chroot) {
        /* The first parent has no parent but the chroot: it does not exist. */
        char msg[1300];
        snprintf(msg, sizeof msg,
                 "the chroot \"%s\" of cluster.zookeeper (%s) does not exist in ZooKeeper: "
                 "create it first (zkCli.sh create %s), or fix cluster.zookeeper",
                 chroot, c->connect, chroot);
        if (c->starting && !c->start_done) {
            start_finished(c, msg);
            return;
        }
        st_error("%s", msg);
    }
    if (r->rc != ST_ZK_OK && r->rc != ST_ZK_NODEEXISTS) {
        schedule_retry(c, "creating the cluster's persistent znodes", r->rc);
        return;
    }
    c->step++;
    create_parents(c);
}

/* /brokers, /brokers/ids, ... one after the other (a parent before its children). */
static void create_parents(st_cluster *c)
{
    if (c->step >= st_zk_npersistent_paths) {
        read_cluster_id(c);
        return;
    }
    st_zk_create(c->zk, st_zk_persistent_paths[c->step], NULL, -1, 0, on_parent,
                 cl_op_new(c, c->session_gen));
}

static void on_cluster_id_get(void *arg, const st_zk_result *r);

static void on_cluster_id_create(void *arg, const st_zk_result *r)
{
    cl_op *op = arg;
    st_cluster *c = op->c;
    if (stale(op))
        return;
    if (r->rc == ST_ZK_OK) {
        snprintf(c->cluster_id, sizeof c->cluster_id, "%s", op->name);
        cl_op_free(op);
        st_info("created cluster id %s in ZooKeeper (%s)", c->cluster_id, ST_ZK_PATH_CLUSTER_ID);
        register_broker(c);
        return;
    }
    cl_op_free(op);
    if (r->rc == ST_ZK_NODEEXISTS) /* another broker was first: read its id */
        read_cluster_id(c);
    else
        schedule_retry(c, "creating " ST_ZK_PATH_CLUSTER_ID, r->rc);
}

static void read_cluster_id(st_cluster *c)
{
    st_zk_get(c->zk, ST_ZK_PATH_CLUSTER_ID, NULL, NULL, on_cluster_id_get,
              cl_op_new(c, c->session_gen));
}

static void on_cluster_id_get(void *arg, const st_zk_result *r)
{
    cl_op *op = arg;
    st_cluster *c = op->c;
    if (stale(op))
        return;
    cl_op_free(op);
    if (r->rc == ST_ZK_OK) {
        char why[200];
        if (st_zk_cluster_id_decode(r->data ? r->data : "",
                                    r->data_len > 0 ? (size_t)r->data_len : 0, c->cluster_id,
                                    sizeof c->cluster_id, why, sizeof why)) {
            char msg[400];
            snprintf(
                msg, sizeof msg,
                "%s in ZooKeeper holds no cluster id we can read (%s): fix or delete the znode",
                ST_ZK_PATH_CLUSTER_ID, why);
            st_error("%s", msg);
            start_finished(c, msg);
            return;
        }
        register_broker(c);
        return;
    }
    if (r->rc != ST_ZK_NONODE) {
        schedule_retry(c, "reading " ST_ZK_PATH_CLUSTER_ID, r->rc);
        return;
    }
    /* The first broker of a new cluster names it: 16 random bytes, Kafka's Uuid text. */
    uint8_t raw[16];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        schedule_retry(c, "drawing a cluster id", ST_ZK_OTHER);
        return;
    }
    cl_op *create = cl_op_new(c, c->session_gen);
    st_zk_uuid_encode(raw, create->name);
    char *json = st_zk_cluster_id_encode(create->name);
    if (!json) {
        cl_op_free(create);
        schedule_retry(c, "encoding the cluster id", ST_ZK_OTHER);
        return;
    }
    st_zk_create(c->zk, ST_ZK_PATH_CLUSTER_ID, json, (int32_t)strlen(json), 0, on_cluster_id_create,
                 create);
    free(json);
}

static void registered(st_cluster *c)
{
    c->registered = true;
    c->dup_since_ms = 0;
    st_info("registered as broker %d in ZooKeeper at %s (session 0x%" PRIx64 ", cluster id %s)",
            c->broker_id, c->connect, (uint64_t)c->session_id, c->cluster_id);
    start_finished(c, NULL);
    cl_elect(c);
}

static void on_register_get(void *arg, const st_zk_result *r)
{
    cl_op *op = arg;
    st_cluster *c = op->c;
    if (stale(op))
        return;
    cl_op_free(op);
    if (r->rc == ST_ZK_NONODE) { /* it went in between */
        register_broker(c);
        return;
    }
    if (r->rc != ST_ZK_OK) {
        schedule_retry(c, "reading our broker registration", r->rc);
        return;
    }
    if (r->has_stat && r->stat.ephemeral_owner == c->session_id) {
        registered(c); /* our own create applied before a connection loss hid its answer */
        return;
    }
    /* Another session holds our id: a live broker with the same broker.id, or this
     * broker's previous life (kill -9) whose session has not timed out yet. Wait a
     * little longer than a session timeout (dup_wait_ms) for it to go; a live broker's
     * does not. */
    st_zk_broker_info other;
    char why[200], where[300] = "endpoints unknown";
    if (r->data &&
        st_zk_broker_decode(c->broker_id, r->data, (size_t)r->data_len, &other, why, sizeof why) ==
            0 &&
        other.nendpoints > 0)
        snprintf(where, sizeof where, "%s://%s:%d", other.endpoints[0].listener,
                 other.endpoints[0].host, other.endpoints[0].port);
    int64_t now = st_mono_ms();
    if (!c->dup_since_ms) {
        c->dup_since_ms = now;
        st_warn("broker id %d is registered in ZooKeeper by another session (0x%" PRIx64
                ", %s); waiting up to %" PRId64 " ms for it to expire (a previous life of "
                "this broker?)",
                c->broker_id, (uint64_t)r->stat.ephemeral_owner, where, dup_wait_ms(c));
    }
    if (now - c->dup_since_ms >= dup_wait_ms(c)) {
        char msg[512];
        snprintf(msg, sizeof msg,
                 "broker id %d is already registered in ZooKeeper (%s/%d) by a live broker at %s "
                 "(session 0x%" PRIx64 ", still there after %" PRId64 " ms): give this broker "
                 "another broker.id, or stop the other broker",
                 c->broker_id, ST_ZK_PATH_BROKER_IDS, c->broker_id, where,
                 (uint64_t)r->stat.ephemeral_owner, dup_wait_ms(c));
        if (c->starting && !c->start_done) {
            start_finished(c, msg);
            return;
        }
        st_error("%s; trying again every %d ms", msg, DUP_POLL_MS);
        c->dup_since_ms = now; /* log again after another timeout, not every poll */
    }
    if (!st_timer_armed(&c->retry_timer))
        st_timer_start(c->loop, &c->retry_timer, DUP_POLL_MS);
}

static void on_register(void *arg, const st_zk_result *r)
{
    cl_op *op = arg;
    st_cluster *c = op->c;
    if (stale(op))
        return;
    cl_op_free(op);
    if (r->rc == ST_ZK_OK) {
        registered(c);
    } else if (r->rc == ST_ZK_NODEEXISTS || r->rc == ST_ZK_CONNECTIONLOSS) {
        char path[64];
        st_zk_path_broker(path, sizeof path, c->broker_id);
        st_zk_get(c->zk, path, NULL, NULL, on_register_get, cl_op_new(c, c->session_gen));
    } else {
        schedule_retry(c, "registering the broker", r->rc);
    }
}

static void register_broker(st_cluster *c)
{
    char path[64];
    st_zk_path_broker(path, sizeof path, c->broker_id);
    c->registration.timestamp_ms = st_wall_ms(); /* when this session registered, as Kafka */
    char *json = st_zk_broker_encode(&c->registration);
    if (!json) {
        schedule_retry(c, "encoding the broker registration", ST_ZK_OTHER);
        return;
    }
    st_zk_create(c->zk, path, json, (int32_t)strlen(json), ST_ZK_EPHEMERAL, on_register,
                 cl_op_new(c, c->session_gen));
    free(json);
}

/* ---- controller election ---- */

static void elect_done(st_cluster *c)
{
    c->electing = false;
    if (c->elect_again) {
        c->elect_again = false;
        cl_elect(c);
    }
}

static void on_controller_watch(void *arg, st_zk_watch_type type, const char *path)
{
    st_cluster *c = arg;
    (void)type;
    (void)path;
    cl_elect(c);
}

static void on_elected(void *arg, const st_zk_result *r)
{
    cl_op *op = arg;
    st_cluster *c = op->c;
    if (stale(op))
        return;
    int32_t epoch = op->count, epoch_version = op->partition;
    cl_op_free(op);
    if (r->rc == ST_ZK_OK) {
        c->controller_id = c->broker_id;
        st_info("broker %d is now the controller (controller epoch %d)", c->broker_id, epoch);
        /* the set made version+1 of /controller_epoch */
        cl_controller_activate(c, epoch, epoch_version);
        elect_done(c);
        return;
    }
    if (r->rc == ST_ZK_NODEEXISTS || r->rc == ST_ZK_BADVERSION) {
        /* another broker won (or bumped the epoch first): see who */
        c->elect_again = true;
        elect_done(c);
        return;
    }
    c->electing = false;
    schedule_retry(c, "running for controller", r->rc);
}

static void on_epoch_get(void *arg, const st_zk_result *r);

static void on_epoch_create(void *arg, const st_zk_result *r)
{
    cl_op *op = arg;
    st_cluster *c = op->c;
    if (stale(op))
        return;
    cl_op_free(op);
    if (r->rc != ST_ZK_OK && r->rc != ST_ZK_NODEEXISTS) {
        c->electing = false;
        schedule_retry(c, "creating " ST_ZK_PATH_CONTROLLER_EPOCH, r->rc);
        return;
    }
    st_zk_get(c->zk, ST_ZK_PATH_CONTROLLER_EPOCH, NULL, NULL, on_epoch_get,
              cl_op_new(c, c->session_gen));
}

static void on_epoch_get(void *arg, const st_zk_result *r)
{
    cl_op *op = arg;
    st_cluster *c = op->c;
    if (stale(op))
        return;
    cl_op_free(op);
    if (r->rc == ST_ZK_NONODE) {
        /* Kafka starts the epoch at 0 and the first controller makes it 1. */
        char zero[12];
        st_zk_controller_epoch_encode(0, zero);
        st_zk_create(c->zk, ST_ZK_PATH_CONTROLLER_EPOCH, zero, (int32_t)strlen(zero), 0,
                     on_epoch_create, cl_op_new(c, c->session_gen));
        return;
    }
    int32_t epoch = 0;
    char why[200] = "2147483647 is the last epoch: no election can make a higher one";
    if (r->rc != ST_ZK_OK) {
        c->electing = false;
        schedule_retry(c, "reading " ST_ZK_PATH_CONTROLLER_EPOCH, r->rc);
        return;
    }
    if (st_zk_controller_epoch_decode(r->data ? r->data : "",
                                      r->data_len > 0 ? (size_t)r->data_len : 0, &epoch, why,
                                      sizeof why) ||
        epoch == INT32_MAX) {
        st_error("%s in ZooKeeper is not a controller epoch (%s): this broker will not run for "
                 "controller until it is fixed",
                 ST_ZK_PATH_CONTROLLER_EPOCH, why);
        c->electing = false;
        return;
    }
    /* Win /controller and bump the epoch at the version read, in one transaction: a
     * broker that read the same epoch loses on the version, one that created
     * /controller first wins on the create. */
    char *me = st_zk_controller_encode(c->broker_id, st_wall_ms());
    char next[12];
    st_zk_controller_epoch_encode(epoch + 1, next);
    if (!me) {
        c->electing = false;
        schedule_retry(c, "encoding /controller", ST_ZK_OTHER);
        return;
    }
    st_zk_op ops[2] = {
        {.type = ST_ZK_OP_CREATE,
         .path = CONTROLLER_P,
         .data = me,
         .len = (int32_t)strlen(me),
         .flags = ST_ZK_EPHEMERAL},
        {.type = ST_ZK_OP_SET,
         .path = ST_ZK_PATH_CONTROLLER_EPOCH,
         .data = next,
         .len = (int32_t)strlen(next),
         .version = r->stat.version},
    };
    cl_op *win = cl_op_new(c, c->session_gen);
    win->count = epoch + 1;
    win->partition = r->stat.version + 1;
    st_zk_multi(c->zk, ops, 2, on_elected, win);
    free(me);
}

static void on_resigned(void *arg, const st_zk_result *r)
{
    cl_op *op = arg;
    st_cluster *c = op->c;
    if (stale(op))
        return;
    cl_op_free(op);
    (void)r; /* the watch on /controller runs the election again either way */
    elect_done(c);
}

static void on_controller_get(void *arg, const st_zk_result *r)
{
    cl_op *op = arg;
    st_cluster *c = op->c;
    if (stale(op))
        return;
    cl_op_free(op);
    if (r->rc == ST_ZK_NONODE) { /* gone in between: run */
        c->elect_again = true;
        elect_done(c);
        return;
    }
    if (r->rc != ST_ZK_OK) {
        c->electing = false;
        schedule_retry(c, "reading /controller", r->rc);
        return;
    }
    int32_t id = -1;
    char why[200];
    if (st_zk_controller_decode(r->data ? r->data : "", r->data_len > 0 ? (size_t)r->data_len : 0,
                                &id, why, sizeof why))
        st_warn("/controller in ZooKeeper cannot be read (%s); waiting for it to change", why);
    if (id != c->controller_id)
        st_info("the controller is broker %d", id);
    c->controller_id = id;
    if (id == c->broker_id && r->has_stat && r->stat.ephemeral_owner == c->session_id &&
        !c->is_controller) {
        /* We hold /controller without acting as controller: our epoch was overtaken (a
         * write failed its epoch check), or our election applied but its answer was lost
         * so we do not know the epoch we won with. Give it back and run again. */
        st_warn("/controller names this broker, which is not acting as controller (its epoch "
                "was overtaken, or its election's answer was lost); giving it back to run again");
        st_zk_delete(c->zk, CONTROLLER_P, r->stat.version, on_resigned,
                     cl_op_new(c, c->session_gen));
        return;
    }
    if (id != c->broker_id && c->is_controller)
        cl_controller_resign(c, "another broker holds /controller");
    elect_done(c);
}

static void on_controller_exists(void *arg, const st_zk_result *r)
{
    cl_op *op = arg;
    st_cluster *c = op->c;
    if (stale(op))
        return;
    cl_op_free(op);
    if (r->rc == ST_ZK_OK) {
        st_zk_get(c->zk, CONTROLLER_P, NULL, NULL, on_controller_get, cl_op_new(c, c->session_gen));
    } else if (r->rc == ST_ZK_NONODE) {
        if (c->controller_id >= 0)
            st_info("no controller (broker %d's /controller is gone); running for it",
                    c->controller_id);
        c->controller_id = -1;
        if (c->is_controller)
            cl_controller_resign(c, "/controller is gone");
        st_zk_get(c->zk, ST_ZK_PATH_CONTROLLER_EPOCH, NULL, NULL, on_epoch_get,
                  cl_op_new(c, c->session_gen));
    } else {
        c->electing = false;
        schedule_retry(c, "watching /controller", r->rc);
    }
}

void cl_elect(st_cluster *c)
{
    if (!c->registered)
        return;
    if (c->electing) {
        c->elect_again = true;
        return;
    }
    c->electing = true;
    /* exists sets its watch whether or not the node is there: a deletion (the controller
     * died) and a creation (someone won) both run this again. */
    st_zk_exists(c->zk, CONTROLLER_P, on_controller_watch, c, on_controller_exists,
                 cl_op_new(c, c->session_gen));
}

/* ---- the session ---- */

static void on_state(void *arg, st_zk_event ev, int64_t session_id)
{
    st_cluster *c = arg;
    switch (ev) {
    case ST_ZK_EV_SESSION_NEW:
        st_info("ZooKeeper session 0x%" PRIx64 " with %s%s", (uint64_t)session_id, c->connect,
                c->session_id ? ": registering again" : "");
        c->session_id = session_id;
        restart_sequence(c);
        break;
    case ST_ZK_EV_RECONNECTED:
        st_info("reconnected to ZooKeeper (session 0x%" PRIx64 " kept)", (uint64_t)session_id);
        if (!c->registered)
            restart_sequence(c);
        break;
    case ST_ZK_EV_DISCONNECTED:
        st_warn("lost the connection to ZooKeeper at %s; reconnecting (the session survives if "
                "we are back within %d ms)",
                c->connect, c->session_timeout_ms);
        break;
    case ST_ZK_EV_EXPIRED:
        st_warn("ZooKeeper session 0x%" PRIx64 " expired (ZooKeeper did not hear from us for %d "
                "ms): broker %d's registration%s is gone; registering again with a new session",
                (uint64_t)c->session_id, c->session_timeout_ms, c->broker_id,
                c->is_controller ? " and its controller role" : "");
        c->registered = false;
        c->controller_id = -1;
        c->session_gen++;
        if (c->is_controller)
            cl_controller_resign(c, "the ZooKeeper session expired");
        break;
    case ST_ZK_EV_AUTH_FAILED:
        st_error("ZooKeeper at %s refused our credentials; retrying", c->connect);
        break;
    case ST_ZK_EV_CONNECT_TIMEOUT: {
        char msg[1200];
        snprintf(msg, sizeof msg,
                 "cannot reach ZooKeeper at %s (cluster.zookeeper) within %d ms: start ZooKeeper "
                 "there, or fix cluster.zookeeper (or remove it to run a single broker without "
                 "ZooKeeper)",
                 c->connect, c->connect_timeout_ms);
        if (c->starting && !c->start_done)
            start_finished(c, msg);
        else
            st_warn("%s; still trying", msg);
        break;
    }
    }
}

/* ---- public ---- */

st_cluster *st_cluster_start(const st_cluster_config *cfg, char *err, size_t errlen)
{
    if (!cfg->zookeeper || !cfg->zookeeper[0] || strlen(cfg->zookeeper) >= 1024) {
        snprintf(err, errlen, "cluster.zookeeper must be \"host:port[,host:port...][/chroot]\"");
        return NULL;
    }
    if (cfg->broker_id < 0) {
        snprintf(err, errlen, "broker.id must be 0 or more in cluster mode, not %d",
                 cfg->broker_id);
        return NULL;
    }
    st_cluster *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->ops.next = c->ops.prev = &c->ops;
    c->loop = cfg->loop;
    snprintf(c->connect, sizeof c->connect, "%s", cfg->zookeeper);
    c->session_timeout_ms = cfg->session_timeout_ms;
    c->connect_timeout_ms = cfg->connect_timeout_ms;
    c->broker_id = cfg->broker_id;
    c->controller_id = -1;
    c->retry_timer.cb = on_retry;
    c->retry_timer.arg = c;
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        seed = (uint64_t)st_mono_ms();
    c->rand_state = seed | 1;

    st_zk_broker_info *info = &c->registration;
    info->id = cfg->broker_id;
    info->jmx_port = -1;
    if (cfg->rack && cfg->rack[0]) {
        if (strlen(cfg->rack) >= sizeof info->rack) {
            snprintf(err, errlen, "broker.rack is longer than %zu characters",
                     sizeof info->rack - 1);
            goto fail;
        }
        snprintf(info->rack, sizeof info->rack, "%s", cfg->rack);
        snprintf(c->rack, sizeof c->rack, "%s", cfg->rack);
        info->has_rack = true;
    }
    info->nendpoints = cfg->nendpoints;
    memcpy(info->endpoints, cfg->endpoints, sizeof info->endpoints);
    char *probe = st_zk_broker_encode(info); /* a registration that cannot be written fails here */
    if (!probe) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    free(probe);
    st_zk_config zc = {.connect = cfg->zookeeper,
                       .session_timeout_ms = cfg->session_timeout_ms,
                       .connect_timeout_ms = cfg->connect_timeout_ms,
                       .loop = cfg->loop,
                       .on_state = on_state,
                       .state_arg = c};
    if (!(c->zk = st_zk_new(&zc, err, errlen)))
        goto fail;
    return c;
fail:
    free(c);
    return NULL;
}

static void on_start_deadline(st_loop *loop, st_timer *t)
{
    st_cluster *c = t->arg;
    char msg[1300];
    (void)loop;
    snprintf(msg, sizeof msg,
             "ZooKeeper at %s did not let broker %d register within %" PRId64
             " ms (a session came, but requests kept failing: see the warnings above); check "
             "ZooKeeper's health and log",
             c->connect, c->broker_id, start_deadline_ms(c));
    start_finished(c, msg);
}

int st_cluster_wait_registered(st_cluster *c, char *err, size_t errlen)
{
    /* Bounded even when ZooKeeper connects but then fails every request. */
    st_timer deadline = {.cb = on_start_deadline, .arg = c};
    c->starting = true;
    st_loop_update_time(c->loop);
    st_timer_start(c->loop, &deadline, start_deadline_ms(c));
    while (!c->start_done)
        st_loop_run(c->loop);
    st_timer_stop(c->loop, &deadline);
    c->starting = false;
    if (c->start_err[0]) {
        snprintf(err, errlen, "%s", c->start_err);
        return -1;
    }
    return 0;
}

void st_cluster_free(st_cluster *c)
{
    if (!c)
        return;
    if (st_timer_armed(&c->retry_timer))
        st_timer_stop(c->loop, &c->retry_timer);
    cl_controller_free(c);
    st_zk_free(c->zk); /* drops the callbacks of what is still in flight */
    while (c->ops.next != &c->ops)
        cl_op_free(c->ops.next);
    free(c);
}

const char *st_cluster_id(const st_cluster *c)
{
    return c->cluster_id;
}

int32_t st_cluster_controller_id(const st_cluster *c)
{
    return c->controller_id;
}

bool st_cluster_is_controller(const st_cluster *c)
{
    return c->is_controller;
}

int32_t st_cluster_controller_epoch(const st_cluster *c)
{
    return c->is_controller ? c->ctl_epoch : 0;
}

bool st_cluster_registered(const st_cluster *c)
{
    return c->registered;
}
