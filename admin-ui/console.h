/*
 * strait-console's private context, shared by the files of admin-ui/ (as broker_int.h
 * is by broker/). One event loop thread (libwebsockets) owns everything here; the
 * survey thread (bus.c), the worker pools (jobs.c) and the audit writer (audit.c) hand
 * their results back to it through queues and lws_cancel_service.
 *
 *   http.c     login, logout, the session, static files, /metrics
 *   ws.c       the websocket: subscriptions, pushes, history, dispatch of actions
 *   views.c    the eight views as JSON, cut to what the session may see
 *   actions.c  what may be done, by whom, on which daemon (REQ → REP on a worker)
 *   metrics.c  the estate in Prometheus text format
 */
#ifndef ST_CONSOLE_H
#define ST_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "admin-ui/audit.h"
#include "admin-ui/bus.h"
#include "admin-ui/config.h"
#include "admin-ui/jobs.h"
#include "admin-ui/model.h"
#include "admin-ui/sessions.h"

/* The views, in the order of the navigation bar. */
typedef enum st_view {
    ST_VIEW_ESTATE = 0,
    ST_VIEW_TOPICS,
    ST_VIEW_GROUPS,
    ST_VIEW_TENANTS,
    ST_VIEW_QUOTAS,
    ST_VIEW_ACLS,
    ST_VIEW_MIRRORING,
    ST_VIEW_AUDIT,
    ST_VIEW_COUNT
} st_view;

#define ST_WS_MAX_MESSAGE      (64 * 1024)        /* a browser message larger is refused */
#define ST_WS_MAX_QUEUED       (32 * 1024 * 1024) /* a client this far behind is dropped */
#define ST_WS_RX_PAUSE         (1024 * 1024)      /* queued this much: stop reading it */
#define ST_WS_MAX_PER_SESSION  16                 /* websockets (tabs) per login session */
#define ST_WS_MAX_PENDING      4                  /* actions in flight per socket */
#define ST_WS_MAX_MSGS_PER_SEC 100
#define ST_LOGIN_MAX_PENDING   8  /* logins hashing at once */
#define ST_LOGIN_MAX_PER_PEER  2  /* ... of them from one address, so one cannot take all */
#define ST_REFUSALS_PER_MINUTE 20 /* a user's refused actions audited one by one */

/* Who is asking: what a view or action is cut to. */
typedef struct st_scope {
    st_role role;
    const char *tenant; /* role tenant: its name (borrowed) */
    const char *user;
} st_scope;

/* A static file of web/, read at start. */
typedef struct st_web_file {
    const char *url;  /* "/static/app.js" */
    const char *name; /* "app.js" */
    const char *type;
    char *data;
    size_t len;
} st_web_file;

/* Refused actions of one user written to the audit log in the current minute. */
typedef struct st_refusal_budget {
    int64_t window_ms; /* wall clock when the minute began */
    unsigned logged;
    uint64_t suppressed; /* counted, not written one by one */
} st_refusal_budget;

typedef struct st_ws_client st_ws_client;
typedef struct st_view_cache st_view_cache;

typedef struct st_console {
    st_con_config *cfg;
    struct lws_context *lws;
    st_sessions *sessions;
    st_jobs *jobs;       /* management commands */
    st_jobs *login_jobs; /* PBKDF2 */
    st_bus *bus;
    st_model *model;
    st_audit *audit;
    st_web_file *files;
    size_t nfiles;
    st_ws_client *clients;
    uint64_t next_id; /* client and pending-login ids */
    int logins_pending;
    st_view_cache *view_cache;
    char *metrics_text; /* rendered at most once per round */
    size_t metrics_len;
    uint64_t metrics_round;
    uint64_t audit_version_sent;
    bool tls;
    volatile int stopping;
    char dummy_hash[256];       /* verified for unknown users, so timing says nothing */
    struct st_http_wait *waits; /* HTTP connections waiting for a login job */
    st_refusal_budget refusals[ST_CON_MAX_USERS]; /* by index in cfg->users */
} st_console;

/* ---- http.c ---- */
/* The "http" protocol's callback (protocol 0: also drains the queues on wake). */
int st_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len);
size_t st_http_pss_size(void);
/* Loads every web/ file into memory. 0 or -1 with err. */
int st_http_load_files(st_console *c, const char *web_root, char *err, size_t errlen);
void st_http_free_files(st_console *c);
/* True when the request's Origin is this console's own (or a configured one). */
bool st_http_origin_ok(st_console *c, struct lws *wsi, char *why, size_t whylen);
/* The live session of the request's cookie, or NULL. */
const st_session *st_http_session(st_console *c, struct lws *wsi);

/* ---- ws.c ---- */
int st_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len);
size_t st_ws_pss_size(void);
/* Called after each survey round: pushes changed views (and a tick) to subscribers. */
void st_ws_push(st_console *c);
/* Sends text (copied) to the client with this id, if still connected. */
void st_ws_send_to(st_console *c, uint64_t client_id, const char *text, size_t len);
/* An action of that client finished: sends its result (as st_ws_send_to) and counts it
 * out of the client's actions in flight. */
void st_ws_action_done(st_console *c, uint64_t client_id, const char *text, size_t len);
/* Closes every websocket of a session (logout). */
void st_ws_close_session(st_console *c, const char *session_id);
/* How many websockets of a session are open. */
size_t st_ws_session_sockets(st_console *c, const char *session_id);
/* Frees the view cache. */
void st_ws_free(st_console *c);
/* Bit per st_view that some open websocket watches. */
unsigned st_ws_watched_views(st_console *c);

/* ---- views.c ---- */
/* View by name (-1 if none) and name of a view. */
int st_view_parse(const char *name);
const char *st_view_name(st_view v);
/* Whether a role may open a view. */
bool st_view_allowed(st_view v, st_role role);
/* The view's data for a scope (new reference). */
json_t *st_view_build(st_console *c, st_view v, const st_scope *scope);
/* Whether a scope may read a history series (names in model.c). */
bool st_view_series_allowed(st_console *c, const char *key, const st_scope *scope);
/* Which extra survey sections the open views need (ST_BUS_WANT_*). */
unsigned st_view_bus_wants(st_console *c);

/* ---- actions.c ---- */
/*
 * Starts an action a client asked for ({"type":"action","id":N,"action":"...",
 * "target":"dc1/b0","args":{...}}, borrowed). The answer ({"type":"result","id":N,...})
 * goes to the client later (st_ws_action_done; returns 1: one more action in flight),
 * or at once for a refusal (returns 0). Loop thread.
 */
int st_action_start(st_console *c, uint64_t client_id, const st_scope *scope, json_t *msg);
/* Called from st_model_apply for each new daemon command log entry. */
void st_action_import_log(void *ctx, size_t daemon, const char *boot, json_t *entry);
/* The list of actions a role may take (for the browser to show buttons). New reference. */
json_t *st_action_list(st_role role);

/* ---- metrics.c ---- */
/* The Prometheus text for the latest round (borrowed, valid until the next round). */
const char *st_metrics_text(st_console *c, size_t *len);

#endif
