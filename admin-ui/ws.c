/*
 * The console's websocket (protocol "strait-console"): one per browser tab.
 *
 * Browser → console (JSON text messages, at most ST_WS_MAX_MESSAGE bytes):
 *   {"type":"subscribe","view":"topics"}      the view now, then whenever it changes
 *   {"type":"unsubscribe","view":"topics"}
 *   {"type":"history","id":N,"series":["topic|dc1/b0|orders|bytes_in", ...]}  (<= 64)
 *   {"type":"action","id":N,"action":"topics.create","target":"dc1/b0","args":{...}}
 * Console → browser:
 *   {"type":"hello","user","role","tenant"?,"views","actions"}       once, at connect
 *   {"type":"view","view":"topics","t":<unix s>,"data":{...}}       subscribe, change
 *   {"type":"tick","t":<unix s>}                                    every survey round
 *   {"type":"history","id":N,"end":<unix s>,"series":{key:[300 values]}}
 *   {"type":"result","id":N,"ok":true,"result":...} | {...,"ok":false,"error":"..."}
 *   {"type":"error","error":"...","id"?:N}    a message that was refused; nothing changed
 *
 * A view is built once per round per scope (admins and operators share one, each tenant
 * has its own) and sent only when its text changed, so 50 tabs on one view cost one
 * build and 50 queued references to one buffer. The connection is refused before the
 * upgrade without a session cookie, with a foreign Origin or past ST_WS_MAX_PER_SESSION
 * sockets of its session (http.c), and checked again here; a session that ends (logout,
 * expiry) closes its sockets.
 *
 * Memory per socket: its queue may hold ST_WS_MAX_QUEUED bytes (mostly views, which are
 * shared), but what only it asked for (history, errors, results) stops growing once the
 * queue passes ST_WS_RX_PAUSE: the socket is no longer read until it drains, so a client
 * that sends requests and never reads the answers waits instead of costing memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin-ui/console.h"
#include "common/clock.h"
#include "common/logging.h"

#define MAX_SERIES_PER_REQUEST 64

typedef struct ws_msg {
    int refs;
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes, then len bytes of text */
} ws_msg;

typedef struct qnode {
    ws_msg *m;
    struct qnode *next;
} qnode;

struct st_ws_client {
    struct lws *wsi;
    uint64_t id;
    char session[ST_SESSION_ID_LEN + 1];
    char user[ST_CON_NAME_MAX];
    st_role role;
    char tenant[256];
    unsigned views; /* bit per st_view */
    qnode *qh, *qt;
    size_t qbytes;
    char *rx;
    size_t rx_len;
    bool rx_oversized, rx_binary;
    int pending;
    int64_t rate_sec;
    int rate_count;
    bool closing;
    bool rx_paused; /* over ST_WS_RX_PAUSE queued: not read until it drains */
    st_ws_client *next;
};

struct st_view_cache {
    st_view view;
    char scope[300];
    char *text;  /* the data part */
    ws_msg *msg; /* the last "view" message */
    uint64_t round;
    uint64_t used_round;
    bool changed;
    st_view_cache *next;
};

typedef struct ws_pss {
    st_ws_client *cl;
} ws_pss;

size_t st_ws_pss_size(void)
{
    return sizeof(ws_pss);
}

static ws_msg *msg_new(const char *text, size_t len)
{
    ws_msg *m = malloc(sizeof *m + LWS_PRE + len);
    if (!m)
        return NULL;
    m->refs = 1;
    m->len = len;
    memcpy(m->buf + LWS_PRE, text, len);
    return m;
}

static void msg_unref(ws_msg *m)
{
    if (m && --m->refs == 0)
        free(m);
}

static void client_close(st_ws_client *cl, const char *reason)
{
    if (cl->closing)
        return;
    cl->closing = true;
    lws_close_reason(cl->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)reason,
                     strlen(reason));
    lws_callback_on_writable(cl->wsi);
}

/* Queues m (takes a reference) for cl. */
static void enqueue(st_ws_client *cl, ws_msg *m)
{
    if (!m || cl->closing)
        return;
    if (cl->qbytes + m->len > ST_WS_MAX_QUEUED) {
        st_warn("console: %s's websocket is %zu bytes behind: closing it", cl->user, cl->qbytes);
        client_close(cl, "too slow: reload the page");
        return;
    }
    qnode *n = malloc(sizeof *n);
    if (!n)
        return;
    m->refs++;
    n->m = m;
    n->next = NULL;
    if (cl->qt)
        cl->qt->next = n;
    else
        cl->qh = n;
    cl->qt = n;
    cl->qbytes += m->len;
    if (!cl->rx_paused && cl->qbytes > ST_WS_RX_PAUSE) {
        cl->rx_paused = true;
        lws_rx_flow_control(cl->wsi, 0);
    }
    lws_callback_on_writable(cl->wsi);
}

static void send_text(st_ws_client *cl, const char *text, size_t len)
{
    ws_msg *m = msg_new(text, len);
    enqueue(cl, m);
    msg_unref(m);
}

static void send_json(st_ws_client *cl, json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
    json_decref(v);
    if (text)
        send_text(cl, text, strlen(text));
    free(text);
}

static void send_error(st_ws_client *cl, json_t *id, const char *msg)
{
    json_t *e = json_pack("{s:s, s:s}", "type", "error", "error", msg);
    if (e && id)
        json_object_set(e, "id", id);
    send_json(cl, e);
}

static st_ws_client *find_client(st_console *c, uint64_t id)
{
    for (st_ws_client *cl = c->clients; cl; cl = cl->next)
        if (cl->id == id)
            return cl;
    return NULL;
}

void st_ws_send_to(st_console *c, uint64_t client_id, const char *text, size_t len)
{
    st_ws_client *cl = find_client(c, client_id);
    if (cl)
        send_text(cl, text, len);
}

void st_ws_action_done(st_console *c, uint64_t client_id, const char *text, size_t len)
{
    st_ws_client *cl = find_client(c, client_id);
    if (!cl)
        return;
    cl->pending--;
    send_text(cl, text, len);
}

void st_ws_close_session(st_console *c, const char *session_id)
{
    for (st_ws_client *cl = c->clients; cl; cl = cl->next)
        if (strcmp(cl->session, session_id) == 0)
            client_close(cl, "logged out");
}

size_t st_ws_session_sockets(st_console *c, const char *session_id)
{
    size_t n = 0;
    for (st_ws_client *cl = c->clients; cl; cl = cl->next)
        n += !cl->closing && strcmp(cl->session, session_id) == 0;
    return n;
}

static st_scope scope_of(const st_ws_client *cl)
{
    return (st_scope){cl->role, cl->role == ST_ROLE_TENANT ? cl->tenant : NULL, cl->user};
}

/* The cache entry of (view, scope), built for this round. */
static st_view_cache *view_for(st_console *c, st_view v, const st_ws_client *cl)
{
    char key[300];
    snprintf(key, sizeof key, "%s", cl->role == ST_ROLE_TENANT ? cl->tenant : "");
    st_view_cache *e = c->view_cache;
    while (e && !(e->view == v && strcmp(e->scope, key) == 0))
        e = e->next;
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e)
            return NULL;
        e->view = v;
        snprintf(e->scope, sizeof e->scope, "%s", key);
        e->round = UINT64_MAX;
        e->next = c->view_cache;
        c->view_cache = e;
    }
    e->used_round = c->model->rounds;
    if (e->round == c->model->rounds && e->msg)
        return e;
    st_scope scope = scope_of(cl);
    json_t *data = st_view_build(c, v, &scope);
    char *text = data ? json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
    json_decref(data);
    if (!text)
        return e->msg ? e : NULL;
    e->round = c->model->rounds;
    e->changed = !e->text || strcmp(e->text, text) != 0;
    if (e->changed || !e->msg) {
        size_t cap = strlen(text) + 128;
        char *msg = malloc(cap);
        if (msg) {
            int n = snprintf(msg, cap, "{\"type\":\"view\",\"view\":\"%s\",\"t\":%lld,\"data\":%s}",
                             st_view_name(v), (long long)c->model->sec, text);
            msg_unref(e->msg);
            e->msg = msg_new(msg, (size_t)n);
            free(msg);
        }
        free(e->text);
        e->text = text;
    } else
        free(text);
    return e;
}

/* Drops cache entries nobody asked for in a minute. */
static void sweep_cache(st_console *c)
{
    for (st_view_cache **pe = &c->view_cache; *pe;) {
        st_view_cache *e = *pe;
        if (e->used_round + 60 < c->model->rounds) {
            *pe = e->next;
            free(e->text);
            msg_unref(e->msg);
            free(e);
        } else
            pe = &e->next;
    }
}

void st_ws_free(st_console *c)
{
    c->model->rounds += 1000; /* everything is old */
    sweep_cache(c);
}

void st_ws_push(st_console *c)
{
    char tick[64];
    int tn =
        snprintf(tick, sizeof tick, "{\"type\":\"tick\",\"t\":%lld}", (long long)c->model->sec);
    ws_msg *tick_msg = msg_new(tick, (size_t)tn);
    int64_t now = st_wall_ms();
    for (st_ws_client *cl = c->clients; cl; cl = cl->next) {
        if (cl->closing)
            continue;
        if (!st_sessions_find(c->sessions, cl->session, strlen(cl->session), now)) {
            client_close(cl, "session ended: log in again");
            continue;
        }
        for (int v = 0; v < ST_VIEW_COUNT; v++) {
            if (!(cl->views & (1u << v)))
                continue;
            st_view_cache *e = view_for(c, (st_view)v, cl);
            if (e && e->changed)
                enqueue(cl, e->msg);
        }
        enqueue(cl, tick_msg);
    }
    msg_unref(tick_msg);
    sweep_cache(c);
}

static void handle_subscribe(st_console *c, st_ws_client *cl, json_t *msg, bool on)
{
    const char *name = json_string_value(json_object_get(msg, "view"));
    int v = name ? st_view_parse(name) : -1;
    if (v < 0) {
        char err[200];
        snprintf(err, sizeof err,
                 "unknown view \"%.40s\": estate, topics, groups, tenants, quotas, acls, "
                 "mirroring or audit",
                 name ? name : "");
        send_error(cl, NULL, err);
        return;
    }
    if (!st_view_allowed((st_view)v, cl->role)) {
        char err[200];
        snprintf(err, sizeof err, "the %s view is not available to role %s", name,
                 st_role_name(cl->role));
        send_error(cl, NULL, err);
        return;
    }
    if (!on) {
        cl->views &= ~(1u << v);
        return;
    }
    cl->views |= 1u << v;
    st_bus_want(c->bus, st_view_bus_wants(c));
    st_view_cache *e = view_for(c, (st_view)v, cl);
    if (e && e->msg)
        enqueue(cl, e->msg);
}

static void handle_history(st_console *c, st_ws_client *cl, json_t *msg)
{
    json_t *id = json_object_get(msg, "id");
    json_t *keys = json_object_get(msg, "series");
    if (!json_is_array(keys) || json_array_size(keys) > MAX_SERIES_PER_REQUEST) {
        send_error(cl, id, "history: \"series\" must be an array of at most 64 series names");
        return;
    }
    st_scope scope = scope_of(cl);
    json_t *series = json_object();
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        const char *key = json_string_value(k);
        if (!key || strlen(key) > 600)
            continue;
        /* A series the scope may not read answers exactly like one that does not exist. */
        json_t *arr = st_view_series_allowed(c, key, &scope)
                          ? st_hist_get(c->model->hist, key, c->model->sec)
                          : NULL;
        json_object_set_new(series, key, arr ? arr : json_null());
    }
    json_t *reply = json_pack("{s:s, s:I, s:o}", "type", "history", "end",
                              (json_int_t)c->model->sec, "series", series);
    if (reply && id)
        json_object_set(reply, "id", id);
    send_json(cl, reply);
}

static void handle_message(st_console *c, st_ws_client *cl, const char *text, size_t len)
{
    json_error_t jerr;
    json_t *msg = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (!json_is_object(msg) || !type) {
        char err[300];
        snprintf(err, sizeof err,
                 "malformed message (%s): expected a JSON object with a \"type\", e.g. "
                 "{\"type\":\"subscribe\",\"view\":\"topics\"}",
                 msg ? "no \"type\"" : jerr.text);
        send_error(cl, NULL, err);
        json_decref(msg);
        return;
    }
    if (strcmp(type, "subscribe") == 0)
        handle_subscribe(c, cl, msg, true);
    else if (strcmp(type, "unsubscribe") == 0)
        handle_subscribe(c, cl, msg, false);
    else if (strcmp(type, "history") == 0)
        handle_history(c, cl, msg);
    else if (strcmp(type, "action") == 0) {
        if (cl->pending >= ST_WS_MAX_PENDING)
            send_error(cl, json_object_get(msg, "id"),
                       "4 actions are already running on this page: wait for one to finish");
        else {
            st_scope scope = scope_of(cl);
            cl->pending += st_action_start(c, cl->id, &scope, msg);
        }
    } else {
        char err[200];
        snprintf(err, sizeof err,
                 "unknown message type \"%.40s\": subscribe, unsubscribe, history or action", type);
        send_error(cl, json_object_get(msg, "id"), err);
    }
    json_decref(msg);
}

static void on_receive(st_console *c, st_ws_client *cl, const void *in, size_t len)
{
    struct lws *wsi = cl->wsi;
    if (lws_frame_is_binary(wsi))
        cl->rx_binary = true;
    if (!cl->rx_oversized && cl->rx_len + len > ST_WS_MAX_MESSAGE) {
        cl->rx_oversized = true;
        free(cl->rx);
        cl->rx = NULL;
    }
    if (!cl->rx_oversized && len > 0) {
        char *nb = realloc(cl->rx, cl->rx_len + len);
        if (!nb) {
            client_close(cl, "out of memory");
            return;
        }
        cl->rx = nb;
        memcpy(cl->rx + cl->rx_len, in, len);
    }
    cl->rx_len += len;
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
        return;
    int64_t sec = st_wall_ms() / 1000;
    if (sec != cl->rate_sec) {
        cl->rate_sec = sec;
        cl->rate_count = 0;
    }
    if (++cl->rate_count > ST_WS_MAX_MSGS_PER_SEC) {
        if (cl->rate_count == ST_WS_MAX_MSGS_PER_SEC + 1)
            send_error(cl, NULL,
                       "more than 100 messages in a second: the rest of this second's "
                       "messages are ignored");
    } else if (cl->rx_oversized) {
        char err[160];
        snprintf(err, sizeof err,
                 "message of %zu bytes is over the %d-byte limit: nothing was done", cl->rx_len,
                 ST_WS_MAX_MESSAGE);
        send_error(cl, NULL, err);
    } else if (cl->rx_binary)
        send_error(cl, NULL, "binary messages are not understood: send JSON text");
    else
        handle_message(c, cl, cl->rx, cl->rx_len);
    free(cl->rx);
    cl->rx = NULL;
    cl->rx_len = 0;
    cl->rx_oversized = cl->rx_binary = false;
}

static void client_free(st_console *c, st_ws_client *cl)
{
    for (st_ws_client **pp = &c->clients; *pp; pp = &(*pp)->next)
        if (*pp == cl) {
            *pp = cl->next;
            break;
        }
    while (cl->qh) {
        qnode *n = cl->qh;
        cl->qh = n->next;
        msg_unref(n->m);
        free(n);
    }
    free(cl->rx);
    free(cl);
}

static int on_established(st_console *c, struct lws *wsi, ws_pss *pss)
{
    char why[300];
    const st_session *s = st_http_session(c, wsi);
    if (!s || !st_http_origin_ok(c, wsi, why, sizeof why)) {
        st_warn("console: websocket refused: %s", s ? why : "no valid session cookie");
        return -1;
    }
    if (st_ws_session_sockets(c, s->id) >= ST_WS_MAX_PER_SESSION) {
        st_warn("console: websocket refused: %s has %d open in one session", s->user,
                ST_WS_MAX_PER_SESSION);
        return -1;
    }
    st_ws_client *cl = calloc(1, sizeof *cl);
    if (!cl)
        return -1;
    cl->wsi = wsi;
    cl->id = ++c->next_id;
    snprintf(cl->session, sizeof cl->session, "%s", s->id);
    snprintf(cl->user, sizeof cl->user, "%s", s->user);
    cl->role = s->role;
    snprintf(cl->tenant, sizeof cl->tenant, "%s", s->tenant);
    cl->next = c->clients;
    c->clients = cl;
    pss->cl = cl;
    json_t *views = json_array();
    for (int v = 0; v < ST_VIEW_COUNT; v++)
        if (st_view_allowed((st_view)v, cl->role))
            json_array_append_new(views, json_string(st_view_name((st_view)v)));
    json_t *hello = json_pack("{s:s, s:s, s:s, s:o, s:o, s:I}", "type", "hello", "user", cl->user,
                              "role", st_role_name(cl->role), "views", views, "actions",
                              st_action_list(cl->role), "t", (json_int_t)c->model->sec);
    if (hello && cl->role == ST_ROLE_TENANT)
        json_object_set_new(hello, "tenant", json_string(cl->tenant));
    send_json(cl, hello);
    return 0;
}

int st_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    st_console *c = ctx ? lws_context_user(ctx) : NULL;
    ws_pss *pss = user;
    char why[300];

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        if (!st_http_session(c, wsi) || !st_http_origin_ok(c, wsi, why, sizeof why))
            return -1;
        return 0;
    case LWS_CALLBACK_ESTABLISHED:
        memset(pss, 0, sizeof *pss);
        return on_established(c, wsi, pss);
    case LWS_CALLBACK_RECEIVE:
        if (pss->cl && !pss->cl->closing)
            on_receive(c, pss->cl, in, len);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        st_ws_client *cl = pss->cl;
        if (!cl)
            return -1;
        if (cl->closing)
            return -1;
        qnode *n = cl->qh;
        if (!n)
            return 0;
        cl->qh = n->next;
        if (!cl->qh)
            cl->qt = NULL;
        cl->qbytes -= n->m->len;
        int rc = lws_write(wsi, n->m->buf + LWS_PRE, n->m->len, LWS_WRITE_TEXT);
        msg_unref(n->m);
        free(n);
        if (rc < 0)
            return -1;
        if (cl->rx_paused && cl->qbytes <= ST_WS_RX_PAUSE / 2) {
            cl->rx_paused = false;
            lws_rx_flow_control(wsi, 1);
        }
        if (cl->qh)
            lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_CLOSED:
        if (pss && pss->cl) {
            client_free(c, pss->cl);
            pss->cl = NULL;
            if (c->bus)
                st_bus_want(c->bus, st_view_bus_wants(c));
        }
        return 0;
    default:
        return 0;
    }
}

unsigned st_ws_watched_views(st_console *c)
{
    unsigned v = 0;
    for (st_ws_client *cl = c->clients; cl; cl = cl->next)
        v |= cl->views;
    return v;
}
