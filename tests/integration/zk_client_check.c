/*
 * zk_client_check CONNECT ZK_PID DEAD_PORT: drives broker/cluster/zk.c against a real
 * ZooKeeper (test_zk_client.sh starts it) on a real st_loop, the way the broker will.
 *
 * Each step makes requests, then runs the loop until their callbacks have run (bounded
 * by a timer), and checks what came back: conditional writes, ephemeral and sequential
 * nodes, transactions, watches firing once, every callback on the loop thread, request
 * calls that return at once, a loop that keeps turning while ZooKeeper is frozen
 * (SIGSTOP by pid), a session expired on purpose (another client closes it) followed by
 * a new session and re-registration, a watch of the dead session never firing, a
 * connect timeout against a port where nothing listens, and st_zk_free with a request in
 * flight. Prints the figures and "N passed, 0 failed"; exits 1 on the first failure.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#include "broker/cluster/zk.h"
#include "broker/net/loop.h"
#include "common/logging.h"

static st_loop *loop;
static pthread_t loop_thread;
static int passed;
static double max_call_ms;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "zk_client_check: FAIL line %d: %s: ", __LINE__, #cond);               \
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

/* ---- waiting on the loop ---- */

static bool timed_out;
static void on_deadline(st_loop *l, st_timer *t)
{
    timed_out = true;
    st_loop_stop(l);
}

/* Runs the loop until *flag is set (by a callback that also stops the loop), at most
 * timeout_ms. */
static void run_until(const bool *flag, int timeout_ms, const char *what)
{
    st_timer deadline = {.cb = on_deadline};
    timed_out = false;
    st_loop_update_time(loop);
    st_timer_start(loop, &deadline, timeout_ms);
    while (!*flag && !timed_out)
        st_loop_run(loop);
    st_timer_stop(loop, &deadline);
    CHECK(*flag, "timed out after %d ms waiting for %s", timeout_ms, what);
}

/* A copied result. */
typedef struct answer {
    bool done;
    int calls;
    st_zk_rc rc;
    char path[256];
    char data[256];
    int32_t data_len;
    st_zk_stat stat;
    int nchildren;
    char children[8][64];
    int nops;
    st_zk_rc op_rc[8];
    char op_path[8][256];
} answer;

static void on_answer(void *arg, const st_zk_result *r)
{
    answer *a = arg;
    CHECK(pthread_equal(pthread_self(), loop_thread), "a request callback ran off the loop thread");
    a->calls++;
    a->done = true;
    a->rc = r->rc;
    snprintf(a->path, sizeof a->path, "%s", r->path ? r->path : "");
    a->data_len = r->data_len;
    if (r->data && r->data_len >= 0)
        snprintf(a->data, sizeof a->data, "%.*s", (int)r->data_len, r->data);
    if (r->has_stat)
        a->stat = r->stat;
    a->nchildren = r->nchildren;
    for (int i = 0; i < r->nchildren && i < 8; i++)
        snprintf(a->children[i], sizeof a->children[i], "%s", r->children[i]);
    a->nops = r->nops;
    for (int i = 0; i < r->nops && i < 8; i++) {
        a->op_rc[i] = r->ops[i].rc;
        snprintf(a->op_path[i], sizeof a->op_path[i], "%s", r->ops[i].path);
    }
    st_loop_stop(loop);
}

static void wait_answer(answer *a, const char *what)
{
    run_until(&a->done, 10000, what);
    CHECK(a->calls == 1, "%s: callback ran %d times", what, a->calls);
}

/* Times one request call: it must only queue. A call that waited for ZooKeeper would take
 * a round trip at least, and with ZooKeeper frozen (SIGSTOP) until it is thawed 1.5 s
 * later; CALL_LIMIT_MS is far below that yet far above a preemption on a loaded 2-core CI
 * machine (a 50 ms limit failed there once with 12 tests running). */
#define CALL_LIMIT_MS 250
#define TIMED(call)                                                                                \
    do {                                                                                           \
        double t0_ = now_ms();                                                                     \
        call;                                                                                      \
        double dt_ = now_ms() - t0_;                                                               \
        if (dt_ > max_call_ms)                                                                     \
            max_call_ms = dt_;                                                                     \
    } while (0)

typedef struct watch_seen {
    bool fired;
    int count;
    st_zk_watch_type type;
    char path[256];
} watch_seen;

static void on_watch(void *arg, st_zk_watch_type type, const char *path)
{
    watch_seen *w = arg;
    CHECK(pthread_equal(pthread_self(), loop_thread), "a watch ran off the loop thread");
    w->fired = true;
    w->count++;
    w->type = type;
    snprintf(w->path, sizeof w->path, "%s", path);
    st_loop_stop(loop);
}

/* Session events. */
typedef struct events {
    int n;
    st_zk_event ev[32];
    int64_t id[32];
    bool flag; /* set when the awaited event arrives */
    st_zk_event awaited;
} events;

static void on_state(void *arg, st_zk_event ev, int64_t session_id)
{
    events *e = arg;
    CHECK(pthread_equal(pthread_self(), loop_thread), "a state callback ran off the loop thread");
    printf("zk_client_check: event %s (session 0x%llx)\n", st_zk_event_str(ev),
           (unsigned long long)session_id);
    if (e->n < 32) {
        e->ev[e->n] = ev;
        e->id[e->n] = session_id;
        e->n++;
    }
    if (ev == e->awaited) {
        e->flag = true;
        st_loop_stop(loop);
    }
}

static void await_event(events *e, st_zk_event ev, int timeout_ms)
{
    e->awaited = ev;
    e->flag = false;
    for (int i = 0; i < e->n; i++)
        if (e->ev[i] == ev)
            e->flag = true;
    run_until(&e->flag, timeout_ms, st_zk_event_str(ev));
}

/* ---- ticking: how late the loop runs a 10 ms timer while ZooKeeper is frozen ---- */

static double last_tick, max_gap;
static bool ticking;
static void on_tick(st_loop *l, st_timer *t)
{
    double now = now_ms();
    if (last_tick > 0 && now - last_tick > max_gap)
        max_gap = now - last_tick;
    last_tick = now;
    if (ticking)
        st_timer_start(l, t, 10);
}

static bool frozen_done;
static void on_frozen_end(st_loop *l, st_timer *t)
{
    frozen_done = true;
    st_loop_stop(l);
}

/* ---- expiring a session on purpose: another client takes it over and closes it ---- */

static void quiet_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx) {}

static bool expire_session(const char *connect, int64_t id, const char *passwd)
{
    clientid_t cid = {.client_id = id};
    memcpy(cid.passwd, passwd, sizeof cid.passwd);
    zhandle_t *zh = zookeeper_init(connect, quiet_watcher, 4000, &cid, NULL, 0);
    if (!zh)
        return false;
    double deadline = now_ms() + 5000;
    while (zoo_state(zh) != ZOO_CONNECTED_STATE && now_ms() < deadline)
        usleep(10000);
    bool ok = zoo_state(zh) == ZOO_CONNECTED_STATE;
    zookeeper_close(zh); /* closes the session for both handles */
    return ok;
}

static void delete_tree(st_zk *zk, const char *path)
{
    answer c = {0};
    st_zk_children(zk, path, NULL, NULL, on_answer, &c);
    wait_answer(&c, "children for cleanup");
    for (int i = 0; i < c.nchildren; i++) {
        char child[512];
        snprintf(child, sizeof child, "%s/%s", path, c.children[i]);
        delete_tree(zk, child);
    }
    answer d = {0};
    st_zk_delete(zk, path, -1, on_answer, &d);
    wait_answer(&d, "delete for cleanup");
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: zk_client_check CONNECT ZK_PID DEAD_PORT\n");
        return 2;
    }
    const char *connect = argv[1];
    pid_t zk_pid = (pid_t)atoi(argv[2]);
    st_logging_setup(ST_LOG_INFO, stderr);
    char err[256];
    loop = st_loop_new(err, sizeof err);
    CHECK(loop != NULL, "%s", err);
    loop_thread = pthread_self();

    events ev = {0};
    st_zk_config cfg = {.connect = connect,
                        .session_timeout_ms = 4000,
                        .connect_timeout_ms = 10000,
                        .loop = loop,
                        .on_state = on_state,
                        .state_arg = &ev};
    double t0 = now_ms();
    st_zk *zk;
    TIMED(zk = st_zk_new(&cfg, err, sizeof err));
    CHECK(zk != NULL, "%s", err);
    await_event(&ev, ST_ZK_EV_SESSION_NEW, 15000);
    printf("zk_client_check: first session after %.0f ms\n", now_ms() - t0);
    int64_t s1 = st_zk_session_id(zk);
    CHECK(s1 != 0 && st_zk_connected(zk), "no session id");

    /* a leftover from an earlier run would make the checks below lie */
    answer pre = {0};
    st_zk_exists(zk, "/strait-test", NULL, NULL, on_answer, &pre);
    wait_answer(&pre, "exists /strait-test");
    if (pre.rc == ST_ZK_OK)
        delete_tree(zk, "/strait-test");

    /* create, and create again */
    answer a = {0};
    TIMED(st_zk_create(zk, "/strait-test", "hello", 5, 0, on_answer, &a));
    wait_answer(&a, "create /strait-test");
    CHECK(a.rc == ST_ZK_OK && strcmp(a.path, "/strait-test") == 0, "create: %s %s",
          st_zk_rc_str(a.rc), a.path);
    a = (answer){0};
    TIMED(st_zk_create(zk, "/strait-test", "x", 1, 0, on_answer, &a));
    wait_answer(&a, "create again");
    CHECK(a.rc == ST_ZK_NODEEXISTS, "second create: %s", st_zk_rc_str(a.rc));
    a = (answer){0};
    st_zk_create(zk, "/strait-test/missing/child", NULL, -1, 0, on_answer, &a);
    wait_answer(&a, "create without parent");
    CHECK(a.rc == ST_ZK_NONODE, "create without parent: %s", st_zk_rc_str(a.rc));

    /* get with a watch; a conditional set fires it once; a stale set loses */
    watch_seen w1 = {0};
    a = (answer){0};
    TIMED(st_zk_get(zk, "/strait-test", on_watch, &w1, on_answer, &a));
    wait_answer(&a, "get");
    CHECK(
        a.rc == ST_ZK_OK && a.data_len == 5 && strcmp(a.data, "hello") == 0 && a.stat.version == 0,
        "get: %s len %d \"%s\" version %d", st_zk_rc_str(a.rc), a.data_len, a.data, a.stat.version);
    a = (answer){0};
    TIMED(st_zk_set(zk, "/strait-test", "v1", 2, 0, on_answer, &a));
    wait_answer(&a, "set version 0");
    CHECK(a.rc == ST_ZK_OK && a.stat.version == 1, "set: %s version %d", st_zk_rc_str(a.rc),
          a.stat.version);
    run_until(&w1.fired, 10000, "data watch");
    CHECK(w1.type == ST_ZK_WATCH_CHANGED && strcmp(w1.path, "/strait-test") == 0,
          "watch type %d path %s", (int)w1.type, w1.path);
    a = (answer){0};
    st_zk_set(zk, "/strait-test", "v1b", 3, 0, on_answer, &a);
    wait_answer(&a, "stale set");
    CHECK(a.rc == ST_ZK_BADVERSION, "stale set: %s", st_zk_rc_str(a.rc));
    CHECK(w1.count == 1, "the data watch fired %d times", w1.count);

    /* ephemeral and sequential nodes */
    a = (answer){0};
    st_zk_create(zk, "/strait-test/eph", "e", 1, ST_ZK_EPHEMERAL, on_answer, &a);
    wait_answer(&a, "create ephemeral");
    CHECK(a.rc == ST_ZK_OK, "ephemeral: %s", st_zk_rc_str(a.rc));
    a = (answer){0};
    st_zk_exists(zk, "/strait-test/eph", NULL, NULL, on_answer, &a);
    wait_answer(&a, "exists ephemeral");
    CHECK(a.rc == ST_ZK_OK && a.stat.ephemeral_owner == s1, "owner 0x%llx, session 0x%llx",
          (unsigned long long)a.stat.ephemeral_owner, (unsigned long long)s1);
    char seq[2][256];
    for (int i = 0; i < 2; i++) {
        a = (answer){0};
        st_zk_create(zk, "/strait-test/seq-", NULL, -1, ST_ZK_SEQUENTIAL, on_answer, &a);
        wait_answer(&a, "create sequential");
        CHECK(a.rc == ST_ZK_OK && strncmp(a.path, "/strait-test/seq-", 17) == 0 &&
                  strlen(a.path) == 17 + 10,
              "sequential: %s %s", st_zk_rc_str(a.rc), a.path);
        snprintf(seq[i], sizeof seq[i], "%s", a.path);
    }
    CHECK(strcmp(seq[0], seq[1]) < 0, "sequence did not grow: %s then %s", seq[0], seq[1]);

    /* children with a watch; deleting one fires it */
    watch_seen w2 = {0};
    a = (answer){0};
    st_zk_children(zk, "/strait-test", on_watch, &w2, on_answer, &a);
    wait_answer(&a, "children");
    CHECK(a.rc == ST_ZK_OK && a.nchildren == 3, "children: %s, %d", st_zk_rc_str(a.rc),
          a.nchildren);
    a = (answer){0};
    st_zk_delete(zk, seq[0], 0, on_answer, &a);
    wait_answer(&a, "delete sequential");
    CHECK(a.rc == ST_ZK_OK, "delete: %s", st_zk_rc_str(a.rc));
    run_until(&w2.fired, 10000, "children watch");
    CHECK(w2.type == ST_ZK_WATCH_CHILDREN && w2.count == 1, "children watch %d x%d", (int)w2.type,
          w2.count);
    a = (answer){0};
    st_zk_delete(zk, "/strait-test", -1, on_answer, &a);
    wait_answer(&a, "delete non-empty");
    CHECK(a.rc == ST_ZK_NOTEMPTY, "delete non-empty: %s", st_zk_rc_str(a.rc));

    /* transactions: all or nothing */
    st_zk_op ops[3] = {
        {.type = ST_ZK_OP_CHECK, .path = "/strait-test", .version = 1},
        {.type = ST_ZK_OP_CREATE, .path = "/strait-test/m", .data = "m", .len = 1},
        {.type = ST_ZK_OP_SET, .path = "/strait-test", .data = "v2", .len = 2, .version = 1},
    };
    a = (answer){0};
    TIMED(st_zk_multi(zk, ops, 3, on_answer, &a));
    wait_answer(&a, "multi");
    CHECK(a.rc == ST_ZK_OK && a.nops == 3 && a.op_rc[1] == ST_ZK_OK &&
              strcmp(a.op_path[1], "/strait-test/m") == 0,
          "multi: %s nops %d op1 %s %s", st_zk_rc_str(a.rc), a.nops, st_zk_rc_str(a.op_rc[1]),
          a.op_path[1]);
    st_zk_op stale[2] = {
        {.type = ST_ZK_OP_CREATE, .path = "/strait-test/m2"},
        {.type = ST_ZK_OP_SET, .path = "/strait-test", .data = "v3", .len = 2, .version = 1},
    };
    a = (answer){0};
    st_zk_multi(zk, stale, 2, on_answer, &a);
    wait_answer(&a, "stale multi");
    CHECK(a.rc == ST_ZK_BADVERSION && a.nops == 2 && a.op_rc[1] == ST_ZK_BADVERSION,
          "stale multi: %s op1 %s", st_zk_rc_str(a.rc), st_zk_rc_str(a.op_rc[1]));
    a = (answer){0};
    st_zk_exists(zk, "/strait-test/m2", NULL, NULL, on_answer, &a);
    wait_answer(&a, "exists m2");
    CHECK(a.rc == ST_ZK_NONODE, "the failed transaction left m2 behind: %s", st_zk_rc_str(a.rc));

    /* an exists watch on a missing node fires on creation; a get watch on one is not set */
    watch_seen w3 = {0}, w4 = {0};
    a = (answer){0};
    st_zk_exists(zk, "/strait-test/later", on_watch, &w3, on_answer, &a);
    wait_answer(&a, "exists missing");
    CHECK(a.rc == ST_ZK_NONODE, "exists missing: %s", st_zk_rc_str(a.rc));
    a = (answer){0};
    st_zk_get(zk, "/strait-test/never", on_watch, &w4, on_answer, &a);
    wait_answer(&a, "get missing");
    CHECK(a.rc == ST_ZK_NONODE, "get missing: %s", st_zk_rc_str(a.rc));
    a = (answer){0};
    st_zk_create(zk, "/strait-test/later", NULL, -1, 0, on_answer, &a);
    wait_answer(&a, "create later");
    run_until(&w3.fired, 10000, "exists watch");
    CHECK(w3.type == ST_ZK_WATCH_CREATED, "exists watch type %d", (int)w3.type);

    /* ZooKeeper frozen: calls still return at once and the loop keeps turning */
    CHECK(kill(zk_pid, SIGSTOP) == 0, "cannot SIGSTOP pid %d", (int)zk_pid);
    st_timer tick = {.cb = on_tick};
    ticking = true;
    last_tick = 0;
    max_gap = 0;
    st_timer_start(loop, &tick, 10);
    answer frozen = {0};
    double c0 = now_ms();
    st_zk_get(zk, "/strait-test", NULL, NULL, on_answer, &frozen);
    double call_ms = now_ms() - c0;
    st_timer end = {.cb = on_frozen_end};
    frozen_done = false;
    st_timer_start(loop, &end, 1500);
    while (!frozen_done)
        st_loop_run(loop);
    kill(zk_pid, SIGCONT);
    ticking = false;
    st_timer_stop(loop, &tick);
    printf("zk_client_check: ZooKeeper stopped 1.5 s: request call %.2f ms, longest loop "
           "gap %.1f ms\n",
           call_ms, max_gap);
    CHECK(call_ms < CALL_LIMIT_MS, "a request call took %.1f ms while ZooKeeper was stopped",
          call_ms);
    CHECK(max_gap < 500, "the loop stalled %.1f ms while ZooKeeper was stopped", max_gap);
    run_until(&frozen.done, 20000, "the get sent while ZooKeeper was stopped");
    CHECK(frozen.calls == 1 && (frozen.rc == ST_ZK_OK || frozen.rc == ST_ZK_CONNECTIONLOSS),
          "frozen get: %s", st_zk_rc_str(frozen.rc));

    /* session expiry: a new session comes by itself; the owner re-registers */
    watch_seen dead = {0};
    a = (answer){0};
    st_zk_get(zk, "/strait-test", on_watch, &dead, on_answer, &a);
    wait_answer(&a, "get with a watch before expiry");
    if (!st_zk_connected(zk))
        await_event(&ev, ST_ZK_EV_RECONNECTED, 15000);
    int64_t id;
    char passwd[16];
    CHECK(st_zk_session_credentials(zk, &id, passwd), "no credentials");
    int before = ev.n;
    bool expired = false;
    for (int attempt = 0; attempt < 3 && !expired; attempt++) {
        CHECK(expire_session(connect, id, passwd), "could not take over session 0x%llx",
              (unsigned long long)id);
        ev.awaited = ST_ZK_EV_EXPIRED;
        ev.flag = false;
        st_timer deadline = {.cb = on_deadline};
        timed_out = false;
        st_loop_update_time(loop);
        st_timer_start(loop, &deadline, 10000);
        while (!ev.flag && !timed_out)
            st_loop_run(loop);
        st_timer_stop(loop, &deadline);
        expired = ev.flag;
    }
    CHECK(expired, "session 0x%llx never reported expired", (unsigned long long)id);
    double e0 = now_ms();
    ev.awaited = ST_ZK_EV_SESSION_NEW;
    ev.flag = false;
    run_until(&ev.flag, 15000, "a new session after expiry");
    int64_t s2 = st_zk_session_id(zk);
    printf("zk_client_check: new session 0x%llx %.0f ms after the expiry was seen\n",
           (unsigned long long)s2, now_ms() - e0);
    CHECK(s2 != 0 && s2 != s1, "session after expiry 0x%llx (before 0x%llx)",
          (unsigned long long)s2, (unsigned long long)s1);
    CHECK(ev.n > before, "no events recorded");
    a = (answer){0};
    st_zk_exists(zk, "/strait-test/eph", NULL, NULL, on_answer, &a);
    wait_answer(&a, "ephemeral after expiry");
    CHECK(a.rc == ST_ZK_NONODE, "the expired session's ephemeral node is still there: %s",
          st_zk_rc_str(a.rc));
    a = (answer){0};
    st_zk_create(zk, "/strait-test/eph", "e", 1, ST_ZK_EPHEMERAL, on_answer, &a);
    wait_answer(&a, "re-register");
    CHECK(a.rc == ST_ZK_OK, "re-register: %s", st_zk_rc_str(a.rc));
    a = (answer){0};
    st_zk_set(zk, "/strait-test", "v9", 2, -1, on_answer, &a);
    wait_answer(&a, "write after expiry");
    a = (answer){0};
    st_zk_get(zk, "/strait-test", NULL, NULL, on_answer, &a); /* a round trip after the write */
    wait_answer(&a, "read after write");
    CHECK(strcmp(a.data, "v9") == 0, "read \"%s\"", a.data);
    CHECK(dead.count == 0, "a watch of the expired session fired %d times", dead.count);

    /* clean up, then free with a request in flight: its callback must not run */
    delete_tree(zk, "/strait-test");
    answer inflight = {0};
    st_zk_get(zk, "/", NULL, NULL, on_answer, &inflight);
    st_zk_free(zk);
    st_loop_run_posted(loop);
    CHECK(inflight.calls == 0, "a callback ran after st_zk_free");

    /* nothing listens: a clear timeout, no session */
    char dead_connect[64];
    snprintf(dead_connect, sizeof dead_connect, "127.0.0.1:%s", argv[3]);
    events ev2 = {0};
    st_zk_config cfg2 = {.connect = dead_connect,
                         .session_timeout_ms = 4000,
                         .connect_timeout_ms = 1000,
                         .loop = loop,
                         .on_state = on_state,
                         .state_arg = &ev2};
    double d0 = now_ms();
    st_zk *zk2 = st_zk_new(&cfg2, err, sizeof err);
    CHECK(zk2 != NULL, "%s", err);
    answer none = {0};
    st_zk_get(zk2, "/", NULL, NULL, on_answer, &none);
    await_event(&ev2, ST_ZK_EV_CONNECT_TIMEOUT, 5000);
    printf("zk_client_check: connect timeout reported after %.0f ms\n", now_ms() - d0);
    CHECK(!st_zk_connected(zk2), "connected to a dead port?");
    st_zk_free(zk2);
    st_loop_run_posted(loop);
    CHECK(none.calls <= 1, "callback ran %d times", none.calls);

    CHECK(st_zk_new(&(st_zk_config){.connect = "", .loop = loop}, err, sizeof err) == NULL &&
              strstr(err, "cluster.zookeeper") != NULL,
          "empty connect string: \"%s\"", err);

    st_loop_free(loop);
    printf("zk_client_check: longest request call %.2f ms\n", max_call_ms);
    CHECK(max_call_ms < CALL_LIMIT_MS, "a request call took %.1f ms", max_call_ms);
    printf("%d passed, 0 failed\n", passed);
    return 0;
}
