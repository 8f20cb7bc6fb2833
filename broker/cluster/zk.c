/*
 * st_zk over zookeeper_mt (see zk.h for the contract). Three kinds of thread meet here:
 *
 *   loop thread          session thread (ours)        ZooKeeper's completion thread
 *   st_zk_get ───zoo_awget──────────────────────────▶ (I/O thread sends it)
 *                                                       get_done(req) copies, posts ─┐
 *   deliver(req) ◀──────────────────────────st_loop_post──────────────────────────────┘
 *   EXPIRED ──queue close(old) + open(new)──▶ zookeeper_close / zookeeper_init2
 *   opened(session) ◀────────────st_loop_post──────┘
 *
 * Ownership: a request (zk_req) is owned by the C client from the zoo_a* call until its
 * completion, then by the loop queue until it is delivered and freed. A watch (zk_watch)
 * is on its session's list from registration until it fires (then the loop queue owns
 * it) or until the session is closed (then the session thread frees it: zookeeper_close
 * has joined the threads that could fire it). A session (zk_session) is owned by the
 * loop (zk->cur) while current, then by the session thread, which closes and frees it.
 *
 * Every post holds a reference on the st_zk, so st_zk_free can return while deliveries
 * are still queued on the loop: they see `closed`, call nothing, and drop the reference;
 * the last one frees the st_zk.
 */
#include "broker/cluster/zk.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zookeeper/zookeeper.h>

#include "broker/net/loop.h"
#include "common/logging.h"

typedef struct zk_session zk_session;

typedef struct zk_watch {
    struct zk_watch *next, **pprev; /* on session->watches while registered */
    zk_session *session;
    st_zk *zk;
    st_zk_watch_cb *cb;
    void *arg;
    /* filled when it fires */
    st_zk_watch_type type;
    char *path;
} zk_watch;

struct zk_session {
    st_zk *zk;
    uint64_t gen;
    zhandle_t *zh;
    /* Held while the handle is made and announced, and by ZooKeeper's threads while they
     * post: so the loop hears "opened" before any event of the session. Guards watches. */
    pthread_mutex_t lock;
    zk_watch *watches;
    zk_session *next_closing; /* on zk->closing */
    zk_session *next_open;    /* on zk->sessions */
};

/* A session-state change, copied off ZooKeeper's thread. */
typedef struct zk_state_msg {
    st_zk *zk;
    uint64_t gen;
    int state;
    int64_t session_id;
    char passwd[16];
} zk_state_msg;

enum req_kind { REQ_CREATE, REQ_SET, REQ_DELETE, REQ_GET, REQ_EXISTS, REQ_CHILDREN, REQ_MULTI };

typedef struct zk_req {
    st_zk *zk;
    enum req_kind kind;
    st_zk_cb *cb;
    void *arg;
    char *path;
    zk_watch *watch; /* registered with this request; NULL if none */
    /* the answer */
    int zrc;
    char *data;
    int32_t data_len;
    bool has_stat;
    struct Stat stat;
    char **children;
    int32_t nchildren;
    char *created;
    /* multi: kept until the completion (the C client writes into them) */
    int32_t nops;
    zoo_op_t *ops;
    zoo_op_result_t *results;
    char **bufs; /* create ops: path buffers */
    struct Stat *stats;
    char **copies; /* paths and data handed to zoo_*_op_init */
} zk_req;

struct st_zk {
    st_loop *loop;
    char *connect;
    int32_t session_timeout_ms;
    int32_t connect_timeout_ms;
    st_zk_state_cb *on_state;
    void *state_arg;
    int refs; /* atomic: 1 for the owner + 1 per queued delivery */

    /* loop thread */
    zk_session *cur; /* NULL between sessions */
    uint64_t gen;    /* of cur, or of the session being opened */
    bool connected;
    bool ever_connected;
    bool closed;
    int64_t session_id;   /* of the connected session */
    int64_t announced_id; /* last session announced as SESSION_NEW */
    char passwd[16];
    st_timer connect_timer;

    /* session thread and its queue (guarded by tlock) */
    pthread_t thread;
    pthread_mutex_t tlock;
    pthread_cond_t twake;
    zk_session *closing;  /* to close, newest first */
    zk_session *sessions; /* every session not yet closed: the rest are closed at stop */
    bool open_pending;
    uint64_t open_gen;
    bool stopping;
    int64_t last_open_ms; /* session thread only */
};

#define SESSION_RETRY_MS 1000

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        st_error("zookeeper: out of memory");
        abort();
    }
    return p;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p) {
        st_error("zookeeper: out of memory");
        abort();
    }
    return p;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- references and posting ---- */

static void zk_ref(st_zk *zk)
{
    __atomic_add_fetch(&zk->refs, 1, __ATOMIC_ACQ_REL);
}

static void zk_destroy(st_zk *zk)
{
    pthread_mutex_destroy(&zk->tlock);
    pthread_cond_destroy(&zk->twake);
    free(zk->connect);
    free(zk);
}

static void zk_unref(st_zk *zk)
{
    if (__atomic_sub_fetch(&zk->refs, 1, __ATOMIC_ACQ_REL) == 0)
        zk_destroy(zk);
}

/* Any thread: runs fn(arg) on the loop; the delivery must end with zk_unref. */
static void zk_post(st_zk *zk, void (*fn)(void *), void *arg)
{
    zk_ref(zk);
    st_loop_post(zk->loop, fn, arg);
}

/* ---- codes ---- */

static st_zk_rc map_rc(int zrc)
{
    switch (zrc) {
    case ZOK:
        return ST_ZK_OK;
    case ZNONODE:
        return ST_ZK_NONODE;
    case ZNODEEXISTS:
        return ST_ZK_NODEEXISTS;
    case ZBADVERSION:
        return ST_ZK_BADVERSION;
    case ZNOTEMPTY:
        return ST_ZK_NOTEMPTY;
    case ZNOCHILDRENFOREPHEMERALS:
        return ST_ZK_NOCHILDREN_EPHEM;
    case ZCONNECTIONLOSS:
    case ZOPERATIONTIMEOUT:
        return ST_ZK_CONNECTIONLOSS;
    case ZSESSIONEXPIRED:
        return ST_ZK_SESSION_EXPIRED;
    case ZCLOSING:
    case ZINVALIDSTATE:
        return ST_ZK_NO_SESSION;
    case ZBADARGUMENTS:
        return ST_ZK_BADARGUMENTS;
    default:
        return ST_ZK_OTHER;
    }
}

const char *st_zk_rc_str(st_zk_rc rc)
{
    static const char *const names[] = {
        [ST_ZK_OK] = "ok",
        [ST_ZK_NONODE] = "no such node",
        [ST_ZK_NODEEXISTS] = "node exists",
        [ST_ZK_BADVERSION] = "version mismatch",
        [ST_ZK_NOTEMPTY] = "node has children",
        [ST_ZK_NOCHILDREN_EPHEM] = "ephemeral nodes cannot have children",
        [ST_ZK_CONNECTIONLOSS] = "connection lost (outcome unknown)",
        [ST_ZK_SESSION_EXPIRED] = "session expired",
        [ST_ZK_NO_SESSION] = "no ZooKeeper session",
        [ST_ZK_BADARGUMENTS] = "bad arguments",
        [ST_ZK_OTHER] = "ZooKeeper error",
    };
    return (unsigned)rc < sizeof names / sizeof names[0] && names[rc] ? names[rc] : "?";
}

const char *st_zk_event_str(st_zk_event ev)
{
    switch (ev) {
    case ST_ZK_EV_SESSION_NEW:
        return "new session";
    case ST_ZK_EV_RECONNECTED:
        return "reconnected";
    case ST_ZK_EV_DISCONNECTED:
        return "disconnected";
    case ST_ZK_EV_EXPIRED:
        return "session expired";
    case ST_ZK_EV_AUTH_FAILED:
        return "authentication failed";
    case ST_ZK_EV_CONNECT_TIMEOUT:
        return "no session yet (connect timeout)";
    }
    return "?";
}

static void copy_stat(st_zk_stat *dst, const struct Stat *s)
{
    dst->czxid = s->czxid;
    dst->mzxid = s->mzxid;
    dst->pzxid = s->pzxid;
    dst->ctime_ms = s->ctime;
    dst->mtime_ms = s->mtime;
    dst->version = s->version;
    dst->cversion = s->cversion;
    dst->ephemeral_owner = s->ephemeralOwner;
    dst->data_length = s->dataLength;
    dst->num_children = s->numChildren;
}

/* ---- watches ---- */

static void watch_unlink(zk_watch *w) /* session lock held */
{
    if (!w->pprev)
        return;
    *w->pprev = w->next;
    if (w->next)
        w->next->pprev = w->pprev;
    w->next = NULL;
    w->pprev = NULL;
}

static void watch_free(zk_watch *w)
{
    free(w->path);
    free(w);
}

static void watch_deliver(void *arg) /* loop thread */
{
    zk_watch *w = arg;
    st_zk *zk = w->zk;
    if (!zk->closed)
        w->cb(w->arg, w->type, w->path);
    watch_free(w);
    zk_unref(zk);
}

/* ZooKeeper's completion thread. Session events are ignored here: the session watcher
 * reports them once for everyone, and a watch of a dead session is freed at its close. */
static void watch_fired(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    zk_watch *w = ctx;
    if (type == ZOO_SESSION_EVENT)
        return;
    if (type == ZOO_CREATED_EVENT)
        w->type = ST_ZK_WATCH_CREATED;
    else if (type == ZOO_DELETED_EVENT)
        w->type = ST_ZK_WATCH_DELETED;
    else if (type == ZOO_CHILD_EVENT)
        w->type = ST_ZK_WATCH_CHILDREN;
    else if (type == ZOO_CHANGED_EVENT)
        w->type = ST_ZK_WATCH_CHANGED;
    else
        return; /* a watch-removal notice (ZOO_NOTWATCHING_EVENT): we never remove watches */
    zk_session *s = w->session;
    pthread_mutex_lock(&s->lock);
    watch_unlink(w);
    pthread_mutex_unlock(&s->lock);
    w->path = xstrdup(path);
    zk_post(w->zk, watch_deliver, w);
}

/* A watch the server did not take (the request failed): the C client will never call
 * it, so it can go now. Completion thread or loop thread. */
static void watch_drop(zk_watch *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->session->lock);
    watch_unlink(w);
    pthread_mutex_unlock(&w->session->lock);
    watch_free(w);
}

/* ---- requests ---- */

static zk_req *req_new(st_zk *zk, enum req_kind kind, const char *path, st_zk_cb *cb, void *arg)
{
    zk_req *r = xcalloc(1, sizeof *r);
    r->zk = zk;
    r->kind = kind;
    r->cb = cb;
    r->arg = arg;
    r->path = xstrdup(path);
    r->data_len = -1;
    return r;
}

static void req_free(zk_req *r)
{
    free(r->path);
    free(r->data);
    free(r->created);
    for (int32_t i = 0; i < r->nchildren; i++)
        free(r->children[i]);
    free(r->children);
    if (r->bufs)
        for (int32_t i = 0; i < r->nops; i++)
            free(r->bufs[i]);
    if (r->copies)
        for (int32_t i = 0; i < 2 * r->nops; i++)
            free(r->copies[i]);
    free(r->bufs);
    free(r->copies);
    free(r->ops);
    free(r->results);
    free(r->stats);
    free(r);
}

static void req_deliver(void *arg) /* loop thread */
{
    zk_req *r = arg;
    st_zk *zk = r->zk;
    if (!zk->closed) {
        st_zk_result res = {0};
        res.rc = map_rc(r->zrc);
        res.path = r->created ? r->created : r->path;
        res.data = r->data;
        res.data_len = r->data_len;
        res.has_stat = r->has_stat;
        if (r->has_stat)
            copy_stat(&res.stat, &r->stat);
        res.children = (const char *const *)r->children;
        res.nchildren = r->nchildren;
        st_zk_op_result *ops = NULL;
        if (r->kind == REQ_MULTI && r->results) {
            ops = xcalloc((size_t)r->nops, sizeof *ops);
            for (int32_t i = 0; i < r->nops; i++) {
                ops[i].rc = map_rc(r->results[i].err);
                bool made = r->ops[i].type == ZOO_CREATE_OP && r->results[i].err == ZOK;
                ops[i].path = made ? r->bufs[i] : r->copies[2 * i];
            }
            res.ops = ops;
            res.nops = r->nops;
        }
        if (r->cb)
            r->cb(r->arg, &res);
        free(ops);
    }
    req_free(r);
    zk_unref(zk);
}

/* Any thread: the request failed before reaching ZooKeeper; answer it through the loop
 * all the same, so callbacks never run inside the call that made the request. */
static void req_fail(zk_req *r, int zrc)
{
    watch_drop(r->watch);
    r->watch = NULL;
    r->zrc = zrc;
    zk_post(r->zk, req_deliver, r);
}

static void string_done(int rc, const char *value, const void *data)
{
    zk_req *r = (zk_req *)data;
    r->zrc = rc;
    if (rc == ZOK && value)
        r->created = xstrdup(value);
    zk_post(r->zk, req_deliver, r);
}

static void stat_done(int rc, const struct Stat *stat, const void *data)
{
    zk_req *r = (zk_req *)data;
    r->zrc = rc;
    if (stat && (rc == ZOK)) {
        r->stat = *stat;
        r->has_stat = true;
    }
    /* exists: the server keeps the watch on a missing node too */
    if (r->watch && !(rc == ZOK || (rc == ZNONODE && r->kind == REQ_EXISTS)))
        watch_drop(r->watch);
    r->watch = NULL;
    zk_post(r->zk, req_deliver, r);
}

static void void_done(int rc, const void *data)
{
    zk_req *r = (zk_req *)data;
    r->zrc = rc;
    zk_post(r->zk, req_deliver, r);
}

static void data_done(int rc, const char *value, int value_len, const struct Stat *stat,
                      const void *data)
{
    zk_req *r = (zk_req *)data;
    r->zrc = rc;
    if (rc == ZOK) {
        if (stat) {
            r->stat = *stat;
            r->has_stat = true;
        }
        if (value && value_len >= 0) {
            r->data = xcalloc(1, (size_t)value_len + 1); /* NUL-terminated for JSON readers */
            memcpy(r->data, value, (size_t)value_len);
            r->data_len = value_len;
        }
    }
    if (r->watch && rc != ZOK)
        watch_drop(r->watch);
    r->watch = NULL;
    zk_post(r->zk, req_deliver, r);
}

static void children_done(int rc, const struct String_vector *strings, const struct Stat *stat,
                          const void *data)
{
    zk_req *r = (zk_req *)data;
    r->zrc = rc;
    if (rc == ZOK) {
        if (stat) {
            r->stat = *stat;
            r->has_stat = true;
        }
        if (strings && strings->count > 0) {
            r->children = xcalloc((size_t)strings->count, sizeof *r->children);
            for (int32_t i = 0; i < strings->count; i++)
                r->children[i] = xstrdup(strings->data[i]);
            r->nchildren = strings->count;
        }
    }
    if (r->watch && rc != ZOK)
        watch_drop(r->watch);
    r->watch = NULL;
    zk_post(r->zk, req_deliver, r);
}

static void multi_done(int rc, const void *data)
{
    zk_req *r = (zk_req *)data;
    r->zrc = rc;
    zk_post(r->zk, req_deliver, r);
}

/* Loop thread: the handle of the current session, or NULL (the request is then failed
 * with ST_ZK_NO_SESSION). */
static zhandle_t *current(st_zk *zk)
{
    return zk->cur && !zk->closed ? zk->cur->zh : NULL;
}

static int create_mode(int flags)
{
    if ((flags & ST_ZK_EPHEMERAL) && (flags & ST_ZK_SEQUENTIAL))
        return ZOO_EPHEMERAL_SEQUENTIAL;
    if (flags & ST_ZK_EPHEMERAL)
        return ZOO_EPHEMERAL;
    if (flags & ST_ZK_SEQUENTIAL)
        return ZOO_PERSISTENT_SEQUENTIAL;
    return ZOO_PERSISTENT;
}

void st_zk_create(st_zk *zk, const char *path, const void *data, int32_t len, int flags,
                  st_zk_cb *cb, void *arg)
{
    zk_req *r = req_new(zk, REQ_CREATE, path, cb, arg);
    zhandle_t *zh = current(zk);
    if (!zh)
        return req_fail(r, ZINVALIDSTATE);
    int rc = zoo_acreate(zh, r->path, data, data ? len : -1, &ZOO_OPEN_ACL_UNSAFE,
                         create_mode(flags), string_done, r);
    if (rc != ZOK)
        req_fail(r, rc);
}

void st_zk_set(st_zk *zk, const char *path, const void *data, int32_t len, int32_t version,
               st_zk_cb *cb, void *arg)
{
    zk_req *r = req_new(zk, REQ_SET, path, cb, arg);
    zhandle_t *zh = current(zk);
    if (!zh)
        return req_fail(r, ZINVALIDSTATE);
    int rc = zoo_aset(zh, r->path, data, data ? len : -1, version, stat_done, r);
    if (rc != ZOK)
        req_fail(r, rc);
}

void st_zk_delete(st_zk *zk, const char *path, int32_t version, st_zk_cb *cb, void *arg)
{
    zk_req *r = req_new(zk, REQ_DELETE, path, cb, arg);
    zhandle_t *zh = current(zk);
    if (!zh)
        return req_fail(r, ZINVALIDSTATE);
    int rc = zoo_adelete(zh, r->path, version, void_done, r);
    if (rc != ZOK)
        req_fail(r, rc);
}

/* Loop thread: a watch entry on the current session's list (the C client may fire it as
 * soon as the request is sent, so it is listed first). */
static zk_watch *watch_new(st_zk *zk, st_zk_watch_cb *cb, void *arg)
{
    if (!cb)
        return NULL;
    zk_watch *w = xcalloc(1, sizeof *w);
    w->zk = zk;
    w->session = zk->cur;
    w->cb = cb;
    w->arg = arg;
    pthread_mutex_lock(&zk->cur->lock);
    w->next = zk->cur->watches;
    if (w->next)
        w->next->pprev = &w->next;
    w->pprev = &zk->cur->watches;
    zk->cur->watches = w;
    pthread_mutex_unlock(&zk->cur->lock);
    return w;
}

static void read_request(st_zk *zk, enum req_kind kind, const char *path, st_zk_watch_cb *watch,
                         void *watch_arg, st_zk_cb *cb, void *arg)
{
    zk_req *r = req_new(zk, kind, path, cb, arg);
    zhandle_t *zh = current(zk);
    if (!zh)
        return req_fail(r, ZINVALIDSTATE);
    r->watch = watch_new(zk, watch, watch_arg);
    watcher_fn wfn = r->watch ? watch_fired : NULL;
    int rc;
    if (kind == REQ_GET)
        rc = zoo_awget(zh, r->path, wfn, r->watch, data_done, r);
    else if (kind == REQ_EXISTS)
        rc = zoo_awexists(zh, r->path, wfn, r->watch, stat_done, r);
    else
        rc = zoo_awget_children2(zh, r->path, wfn, r->watch, children_done, r);
    if (rc != ZOK)
        req_fail(r, rc);
}

void st_zk_get(st_zk *zk, const char *path, st_zk_watch_cb *watch, void *watch_arg, st_zk_cb *cb,
               void *arg)
{
    read_request(zk, REQ_GET, path, watch, watch_arg, cb, arg);
}

void st_zk_exists(st_zk *zk, const char *path, st_zk_watch_cb *watch, void *watch_arg, st_zk_cb *cb,
                  void *arg)
{
    read_request(zk, REQ_EXISTS, path, watch, watch_arg, cb, arg);
}

void st_zk_children(st_zk *zk, const char *path, st_zk_watch_cb *watch, void *watch_arg,
                    st_zk_cb *cb, void *arg)
{
    read_request(zk, REQ_CHILDREN, path, watch, watch_arg, cb, arg);
}

static char *copy_bytes(const void *p, int32_t len)
{
    if (!p || len < 0)
        return NULL;
    char *c = xcalloc(1, (size_t)len + 1);
    memcpy(c, p, (size_t)len);
    return c;
}

void st_zk_multi(st_zk *zk, const st_zk_op *ops, int32_t nops, st_zk_cb *cb, void *arg)
{
    zk_req *r = req_new(zk, REQ_MULTI, nops > 0 ? ops[0].path : "", cb, arg);
    if (nops <= 0 || nops > ST_ZK_MULTI_MAX)
        return req_fail(r, ZBADARGUMENTS);
    r->nops = nops;
    r->ops = xcalloc((size_t)nops, sizeof *r->ops);
    r->results = xcalloc((size_t)nops, sizeof *r->results);
    r->bufs = xcalloc((size_t)nops, sizeof *r->bufs);
    r->stats = xcalloc((size_t)nops, sizeof *r->stats);
    r->copies = xcalloc(2 * (size_t)nops, sizeof *r->copies);
    for (int32_t i = 0; i < nops; i++) {
        const st_zk_op *op = &ops[i];
        char *path = r->copies[2 * i] = xstrdup(op->path);
        char *data = r->copies[2 * i + 1] = copy_bytes(op->data, op->len);
        int32_t len = data ? op->len : -1;
        switch (op->type) {
        case ST_ZK_OP_CREATE: {
            size_t cap = strlen(path) + 16; /* room for a sequential node's suffix */
            r->bufs[i] = xcalloc(1, cap);
            zoo_create_op_init(&r->ops[i], path, data, len, &ZOO_OPEN_ACL_UNSAFE,
                               create_mode(op->flags), r->bufs[i], (int)cap);
            break;
        }
        case ST_ZK_OP_DELETE:
            zoo_delete_op_init(&r->ops[i], path, op->version);
            break;
        case ST_ZK_OP_SET:
            zoo_set_op_init(&r->ops[i], path, data, len, op->version, &r->stats[i]);
            break;
        case ST_ZK_OP_CHECK:
            zoo_check_op_init(&r->ops[i], path, op->version);
            break;
        default:
            return req_fail(r, ZBADARGUMENTS);
        }
    }
    zhandle_t *zh = current(zk);
    if (!zh)
        return req_fail(r, ZINVALIDSTATE);
    int rc = zoo_amulti(zh, nops, r->ops, r->results, multi_done, r);
    if (rc != ZOK)
        req_fail(r, rc);
}

/* ---- sessions ---- */

static void state_deliver(void *arg);

/* ZooKeeper's completion thread: the handle's own watcher, which hears session events. */
static void session_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    zk_session *s = ctx;
    if (type != ZOO_SESSION_EVENT)
        return;
    zk_state_msg *m = xcalloc(1, sizeof *m);
    m->zk = s->zk;
    m->gen = s->gen;
    m->state = state;
    const clientid_t *id = zoo_client_id(zh);
    if (id) {
        m->session_id = id->client_id;
        memcpy(m->passwd, id->passwd, sizeof m->passwd);
    }
    pthread_mutex_lock(&s->lock); /* after the "opened" post of this session */
    zk_post(s->zk, state_deliver, m);
    pthread_mutex_unlock(&s->lock);
}

static void log_from_client(const char *message)
{
    st_warn("zookeeper client: %s", message);
}

static void session_opened(void *arg);

/* Session thread: makes a handle (zookeeper_init2 may resolve names: it may block).
 * Retries every SESSION_RETRY_MS until it works or the st_zk stops. */
static void open_session(st_zk *zk, uint64_t gen)
{
    for (;;) {
        int64_t wait_ms = zk->last_open_ms + SESSION_RETRY_MS - mono_ms();
        pthread_mutex_lock(&zk->tlock);
        while (!zk->stopping && wait_ms > 0) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += wait_ms / 1000;
            until.tv_nsec += (wait_ms % 1000) * 1000000;
            if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&zk->twake, &zk->tlock, &until);
            wait_ms = zk->last_open_ms + SESSION_RETRY_MS - mono_ms();
        }
        bool stopping = zk->stopping;
        pthread_mutex_unlock(&zk->tlock);
        if (stopping)
            return;
        zk->last_open_ms = mono_ms();

        zk_session *s = xcalloc(1, sizeof *s);
        s->zk = zk;
        s->gen = gen;
        pthread_mutex_init(&s->lock, NULL);
        pthread_mutex_lock(&s->lock);
        s->zh = zookeeper_init2(zk->connect, session_watcher, zk->session_timeout_ms, NULL, s, 0,
                                log_from_client);
        if (s->zh) {
            pthread_mutex_lock(&zk->tlock);
            s->next_open = zk->sessions;
            zk->sessions = s;
            pthread_mutex_unlock(&zk->tlock);
            zk_post(zk, session_opened, s);
            pthread_mutex_unlock(&s->lock);
            return;
        }
        int saved = errno;
        pthread_mutex_unlock(&s->lock);
        pthread_mutex_destroy(&s->lock);
        free(s);
        st_error("zookeeper: cannot start a session with \"%s\": %s; retrying in %d ms "
                 "(check cluster.zookeeper: host:port[,host:port][/chroot])",
                 zk->connect, strerror(saved), SESSION_RETRY_MS);
    }
}

/* Session thread: closes a handle (a round trip to the server, then joins ZooKeeper's
 * threads) and frees what was left on it. */
static void close_session(st_zk *zk, zk_session *s)
{
    pthread_mutex_lock(&zk->tlock);
    for (zk_session **pp = &zk->sessions; *pp; pp = &(*pp)->next_open) {
        if (*pp == s) {
            *pp = s->next_open;
            break;
        }
    }
    pthread_mutex_unlock(&zk->tlock);
    if (s->zh)
        zookeeper_close(s->zh);
    /* ZooKeeper's threads are gone: no watch of this session can fire any more */
    zk_watch *w = s->watches;
    while (w) {
        zk_watch *next = w->next;
        watch_free(w);
        w = next;
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static void *session_main(void *arg)
{
    st_zk *zk = arg;
    pthread_mutex_lock(&zk->tlock);
    for (;;) {
        while (!zk->closing && !zk->open_pending && !zk->stopping)
            pthread_cond_wait(&zk->twake, &zk->tlock);
        if (zk->closing) {
            zk_session *s = zk->closing;
            zk->closing = s->next_closing;
            pthread_mutex_unlock(&zk->tlock);
            close_session(zk, s);
            pthread_mutex_lock(&zk->tlock);
            continue;
        }
        if (zk->stopping) {
            /* sessions opened but not yet seen by the loop, or still current */
            zk_session *s = zk->sessions;
            if (!s)
                break;
            pthread_mutex_unlock(&zk->tlock);
            close_session(zk, s);
            pthread_mutex_lock(&zk->tlock);
            continue;
        }
        uint64_t gen = zk->open_gen;
        zk->open_pending = false;
        pthread_mutex_unlock(&zk->tlock);
        open_session(zk, gen);
        pthread_mutex_lock(&zk->tlock);
    }
    pthread_mutex_unlock(&zk->tlock);
    return NULL;
}

/* Loop thread: hands a session to the session thread to close, and optionally asks for
 * a new one. */
static void retire_session(st_zk *zk, zk_session *s, bool reopen)
{
    pthread_mutex_lock(&zk->tlock);
    if (s) {
        s->next_closing = zk->closing;
        zk->closing = s;
    }
    if (reopen) {
        zk->open_pending = true;
        zk->open_gen = zk->gen;
    }
    pthread_cond_signal(&zk->twake);
    pthread_mutex_unlock(&zk->tlock);
}

static void session_opened(void *arg) /* loop thread */
{
    zk_session *s = arg;
    st_zk *zk = s->zk; /* the post's reference keeps it; s may be freed once closed */
    if (zk->closed) {
        zk_unref(zk);
        return;
    }
    if (s->gen == zk->gen && !zk->cur)
        zk->cur = s;
    else
        retire_session(zk, s, false); /* stale; cannot happen while gens are respected */
    zk_unref(zk);
}

static void emit(st_zk *zk, st_zk_event ev)
{
    if (zk->on_state)
        zk->on_state(zk->state_arg, ev, zk->session_id);
}

static void state_deliver(void *arg) /* loop thread */
{
    zk_state_msg *m = arg;
    st_zk *zk = m->zk;
    if (zk->closed || m->gen != zk->gen)
        goto out; /* a session already given up */
    if (m->state == ZOO_CONNECTED_STATE) {
        zk->connected = true;
        zk->ever_connected = true;
        st_timer_stop(zk->loop, &zk->connect_timer);
        zk->session_id = m->session_id;
        memcpy(zk->passwd, m->passwd, sizeof zk->passwd);
        if (m->session_id != zk->announced_id) {
            zk->announced_id = m->session_id;
            st_info("zookeeper: session 0x%llx established with %s (timeout %d ms asked)",
                    (unsigned long long)m->session_id, zk->connect, zk->session_timeout_ms);
            emit(zk, ST_ZK_EV_SESSION_NEW);
        } else {
            st_info("zookeeper: session 0x%llx reconnected", (unsigned long long)m->session_id);
            emit(zk, ST_ZK_EV_RECONNECTED);
        }
    } else if (m->state == ZOO_CONNECTING_STATE || m->state == ZOO_ASSOCIATING_STATE) {
        if (zk->connected) {
            zk->connected = false;
            st_warn("zookeeper: connection to %s lost; session 0x%llx may still recover",
                    zk->connect, (unsigned long long)zk->session_id);
            emit(zk, ST_ZK_EV_DISCONNECTED);
        }
    } else if (m->state == ZOO_EXPIRED_SESSION_STATE || m->state == ZOO_AUTH_FAILED_STATE) {
        bool expired = m->state == ZOO_EXPIRED_SESSION_STATE;
        st_warn("zookeeper: session 0x%llx %s; starting a new session",
                (unsigned long long)zk->session_id,
                expired ? "expired" : "refused (authentication failed)");
        zk->connected = false;
        emit(zk, expired ? ST_ZK_EV_EXPIRED : ST_ZK_EV_AUTH_FAILED);
        if (zk->closed)
            goto out; /* the owner freed us from its callback */
        zk_session *old = zk->cur;
        zk->cur = NULL;
        zk->session_id = 0;
        zk->gen++;
        retire_session(zk, old, true);
    }
out:
    free(m);
    zk_unref(zk);
}

static void connect_timeout(st_loop *loop, st_timer *t)
{
    st_zk *zk = t->arg;
    if (!zk->ever_connected) {
        st_error("zookeeper: no session with %s after %d ms; still trying (is ZooKeeper "
                 "running there? check cluster.zookeeper)",
                 zk->connect, zk->connect_timeout_ms);
        emit(zk, ST_ZK_EV_CONNECT_TIMEOUT);
    }
}

/* ---- life ---- */

st_zk *st_zk_new(const st_zk_config *cfg, char *err, size_t errlen)
{
    if (!cfg->connect || !cfg->connect[0] || !cfg->loop) {
        snprintf(err, errlen, "zookeeper: %s",
                 !cfg->loop ? "no event loop given"
                            : "empty connect string: set "
                              "cluster.zookeeper to host:port");
        return NULL;
    }
    st_zk *zk = xcalloc(1, sizeof *zk);
    zk->loop = cfg->loop;
    zk->connect = xstrdup(cfg->connect);
    zk->session_timeout_ms = cfg->session_timeout_ms > 0 ? cfg->session_timeout_ms : 18000;
    zk->connect_timeout_ms = cfg->connect_timeout_ms;
    zk->on_state = cfg->on_state;
    zk->state_arg = cfg->state_arg;
    zk->refs = 1;
    zk->last_open_ms = mono_ms() - SESSION_RETRY_MS;
    zk->connect_timer.cb = connect_timeout;
    zk->connect_timer.arg = zk;
    pthread_mutex_init(&zk->tlock, NULL);
    pthread_cond_init(&zk->twake, NULL);
    /* The C client's own log level is process-wide; its INFO lines (every connect) would
     * drown ours. Warnings and errors still come through log_from_client. */
    zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
    zk->gen = 1;
    zk->open_pending = true;
    zk->open_gen = zk->gen;
    int rc = pthread_create(&zk->thread, NULL, session_main, zk);
    if (rc != 0) {
        snprintf(err, errlen, "zookeeper: cannot start the session thread: %s", strerror(rc));
        zk_destroy(zk);
        return NULL;
    }
    if (zk->connect_timeout_ms > 0)
        st_timer_start(zk->loop, &zk->connect_timer, zk->connect_timeout_ms);
    return zk;
}

void st_zk_free(st_zk *zk)
{
    if (!zk)
        return;
    zk->closed = true;
    st_timer_stop(zk->loop, &zk->connect_timer);
    zk_session *cur = zk->cur;
    zk->cur = NULL;
    pthread_mutex_lock(&zk->tlock);
    if (cur) {
        cur->next_closing = zk->closing;
        zk->closing = cur;
    }
    zk->stopping = true;
    zk->open_pending = false;
    pthread_cond_signal(&zk->twake);
    pthread_mutex_unlock(&zk->tlock);
    pthread_join(zk->thread, NULL);
    zk_unref(zk); /* deliveries still queued on the loop hold the rest */
}

int64_t st_zk_session_id(const st_zk *zk)
{
    return zk->connected ? zk->session_id : 0;
}

bool st_zk_connected(const st_zk *zk)
{
    return zk->connected;
}

bool st_zk_session_credentials(const st_zk *zk, int64_t *id, char passwd[16])
{
    if (!zk->session_id)
        return false;
    *id = zk->session_id;
    memcpy(passwd, zk->passwd, 16);
    return true;
}
