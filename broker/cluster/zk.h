/*
 * st_zk: the broker's ZooKeeper session, over the multi-threaded C client (zookeeper_mt),
 * with every answer delivered on the broker's event-loop thread.
 *
 * The C client runs two threads of its own (network I/O and completions) and calls back
 * on the completion thread. Here every callback does nothing but copy what it was given
 * and post it to the loop (st_loop_post), so the owner's callbacks run on the loop
 * thread, in the order ZooKeeper answered, and never hold a ZooKeeper lock. Calls on the
 * loop thread only queue a request: the C client serialises it and wakes its I/O thread,
 * nothing waits for the network. The two calls that can block — zookeeper_init (it
 * resolves the host names) and zookeeper_close (it says goodbye and joins threads) — run
 * on a session thread of this module.
 *
 * Sessions. One st_zk lives as long as the broker; the ZooKeeper sessions under it come
 * and go:
 *
 *     st_zk_new ──▶ CONNECTING ──connected──▶ CONNECTED ◀──reconnected (same session)──┐
 *                       ▲                        │                                      │
 *                       │                        ├──connection lost──▶ DISCONNECTED ────┘
 *                       │                        │                         │
 *                       └── new session ◀── EXPIRED ◀─────session expired──┘
 *
 * The owner hears each arrow through st_zk_state_cb. ST_ZK_EV_SESSION_NEW means a session
 * it has never seen: ephemeral nodes of the earlier session are gone and its watches will
 * never fire, so the owner registers again (e.g. /brokers/ids/<id>) and re-reads what it
 * watches. ST_ZK_EV_RECONNECTED means the same session came back: ephemerals and watches
 * are intact. On expiry the old session is closed and a new one opened at once; requests
 * made while there is no session complete with ST_ZK_NO_SESSION.
 *
 * Requests. Each request's callback runs exactly once, on the loop thread, even when the
 * request fails at once (it is then posted, never called from inside the request
 * function). Versions make writes conditional: -1 means any version. A watch fires at
 * most once, for the first change after it was set; a watch set in a session that
 * expires never fires (see above). Nothing the owner gets is valid after its callback
 * returns: copy what is needed.
 *
 * Nothing of an st_zk's callbacks runs after st_zk_free returns.
 */
#ifndef ST_ZK_H
#define ST_ZK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct st_zk st_zk;
struct st_loop;

/* Results: ZooKeeper's codes that matter to the broker, and the rest lumped together. */
typedef enum st_zk_rc {
    ST_ZK_OK = 0,
    ST_ZK_NONODE,           /* the node (or, for create, its parent) does not exist */
    ST_ZK_NODEEXISTS,       /* create of a node that exists */
    ST_ZK_BADVERSION,       /* a conditional write lost: someone wrote first */
    ST_ZK_NOTEMPTY,         /* delete of a node that has children */
    ST_ZK_NOCHILDREN_EPHEM, /* create under an ephemeral node */
    ST_ZK_CONNECTIONLOSS,   /* the outcome is unknown: the request may or may not have applied */
    ST_ZK_SESSION_EXPIRED,  /* the session ended before the answer came */
    ST_ZK_NO_SESSION,       /* there was no session to send it on (between sessions, closing) */
    ST_ZK_BADARGUMENTS,     /* a malformed path, or a request too large */
    ST_ZK_OTHER,            /* anything else ZooKeeper said: see the log */
} st_zk_rc;
const char *st_zk_rc_str(st_zk_rc rc); /* static text */

typedef enum st_zk_event {
    ST_ZK_EV_SESSION_NEW,     /* connected with a session the owner has not seen */
    ST_ZK_EV_RECONNECTED,     /* connected again with the same session */
    ST_ZK_EV_DISCONNECTED,    /* connection lost; the session may yet survive */
    ST_ZK_EV_EXPIRED,         /* the session is gone; a new one is being made */
    ST_ZK_EV_AUTH_FAILED,     /* ZooKeeper refused our credentials; retrying */
    ST_ZK_EV_CONNECT_TIMEOUT, /* no session within connect_timeout_ms of st_zk_new */
} st_zk_event;
const char *st_zk_event_str(st_zk_event ev);

/* The fields of ZooKeeper's Stat a broker uses. */
typedef struct st_zk_stat {
    int64_t czxid, mzxid, pzxid;
    int64_t ctime_ms, mtime_ms;
    int32_t version;         /* of the data: what conditional set/delete compare */
    int32_t cversion;        /* of the children list */
    int64_t ephemeral_owner; /* session id, 0 for a persistent node */
    int32_t data_length;
    int32_t num_children;
} st_zk_stat;

/* What a request brings back. Borrowed: valid only during the callback. */
typedef struct st_zk_result {
    st_zk_rc rc;
    const char *path; /* the node asked about; for create, the node made (sequential
                         nodes get their 10-digit suffix here) */
    const char *data; /* get: the node's bytes (NULL for a node without data) */
    int32_t data_len; /* -1 for a node without data */
    bool has_stat;    /* get, exists, set, children */
    st_zk_stat stat;
    const char *const *children; /* children: names (not paths), nchildren of them */
    int32_t nchildren;
    /* multi: the result of each operation, in order (rc is the first failure) */
    const struct st_zk_op_result *ops;
    int32_t nops;
} st_zk_result;

typedef void st_zk_cb(void *arg, const st_zk_result *r);

typedef enum st_zk_watch_type {
    ST_ZK_WATCH_CREATED,
    ST_ZK_WATCH_DELETED,
    ST_ZK_WATCH_CHANGED,  /* the data */
    ST_ZK_WATCH_CHILDREN, /* the list of children */
} st_zk_watch_type;
/* path is borrowed for the call. */
typedef void st_zk_watch_cb(void *arg, st_zk_watch_type type, const char *path);

typedef void st_zk_state_cb(void *arg, st_zk_event ev, int64_t session_id);

typedef struct st_zk_config {
    const char *connect;        /* "host:port[,host:port...][/chroot]", borrowed for st_zk_new */
    int32_t session_timeout_ms; /* asked of the server, which may clamp it */
    int32_t connect_timeout_ms; /* ST_ZK_EV_CONNECT_TIMEOUT after this long without a
                                   first session (0: never); the client keeps trying */
    struct st_loop *loop;       /* where every callback runs; must outlive the st_zk */
    st_zk_state_cb *on_state;
    void *state_arg;
} st_zk_config;

/* Starts connecting in the background and returns at once; the first session arrives as
 * ST_ZK_EV_SESSION_NEW. Returns NULL with err set for a config that cannot work (empty
 * connect string, no loop). Loop thread. */
st_zk *st_zk_new(const st_zk_config *cfg, char *err, size_t errlen);
/* Closes the session (its ephemeral nodes go at once) and frees. Callbacks of requests
 * still in flight are dropped, not called. Blocks until ZooKeeper's threads are joined:
 * call it at shutdown, on the loop thread. */
void st_zk_free(st_zk *zk);

/* The current session's id (0 while there is none) and whether it is connected now. */
int64_t st_zk_session_id(const st_zk *zk);
bool st_zk_connected(const st_zk *zk);
/* The session's id and password, for a tool (or test) that must act as this session —
 * e.g. close it on purpose to expire it. Returns false while there is no session. */
bool st_zk_session_credentials(const st_zk *zk, int64_t *id, char passwd[16]);

/* Create flags. */
enum { ST_ZK_EPHEMERAL = 1, ST_ZK_SEQUENTIAL = 2 };

/* All requests: loop thread; path and data are copied before the call returns; cb runs
 * once on the loop thread. len -1 with data NULL stores no data. */
void st_zk_create(st_zk *zk, const char *path, const void *data, int32_t len, int flags,
                  st_zk_cb *cb, void *arg);
void st_zk_set(st_zk *zk, const char *path, const void *data, int32_t len, int32_t version,
               st_zk_cb *cb, void *arg);
void st_zk_delete(st_zk *zk, const char *path, int32_t version, st_zk_cb *cb, void *arg);
/* watch may be NULL (no watch). A get or children watch is set only when the node
 * exists; an exists watch is set either way and fires on creation. */
void st_zk_get(st_zk *zk, const char *path, st_zk_watch_cb *watch, void *watch_arg, st_zk_cb *cb,
               void *arg);
void st_zk_exists(st_zk *zk, const char *path, st_zk_watch_cb *watch, void *watch_arg, st_zk_cb *cb,
                  void *arg);
void st_zk_children(st_zk *zk, const char *path, st_zk_watch_cb *watch, void *watch_arg,
                    st_zk_cb *cb, void *arg);

/* A transaction: every operation applies, or none does. */
typedef enum st_zk_op_type {
    ST_ZK_OP_CREATE,
    ST_ZK_OP_DELETE,
    ST_ZK_OP_SET,
    ST_ZK_OP_CHECK, /* the node exists with this version */
} st_zk_op_type;
typedef struct st_zk_op {
    st_zk_op_type type;
    const char *path; /* borrowed for the call */
    const void *data; /* create, set */
    int32_t len;
    int32_t version; /* delete, set, check; -1 any */
    int flags;       /* create */
} st_zk_op;
typedef struct st_zk_op_result {
    st_zk_rc rc;
    const char *path; /* create: the node made */
} st_zk_op_result;
/* At most ST_ZK_MULTI_MAX operations. */
#define ST_ZK_MULTI_MAX 1024
void st_zk_multi(st_zk *zk, const st_zk_op *ops, int32_t nops, st_zk_cb *cb, void *arg);

#endif
