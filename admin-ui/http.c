/*
 * The console's HTTP side (libwebsockets protocol 0):
 *
 *   GET  /                 the app (index.html), or a redirect to /login without a session
 *   GET  /login            the login page
 *   POST /login            {"user","password"} → 200 + session cookie, or 401 after
 *                          login_failure_delay_ms (PBKDF2 runs on a worker)
 *   POST /logout           ends the session and its websockets
 *   GET  /api/session      {"user","role","tenant","views","actions"} or 401
 *   GET  /metrics          the estate in Prometheus text format (metrics.c)
 *   GET  /static/<file>    the app's scripts and styles, held in memory
 *
 * Every POST must carry an Origin naming this console (no cross-site request can log in
 * or out); the cookie is HttpOnly and SameSite=Strict (plus Secure under TLS). Protocol
 * 0 also drains the other threads' queues when lws_cancel_service wakes the loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "admin-ui/console.h"
#include "admin-ui/users.h"
#include "common/clock.h"
#include "common/fileio.h"
#include "common/logging.h"

#define MAX_BODY     4096
#define BODY_SECONDS 10 /* a POST's whole body must arrive within this */
#define CHUNK        (32 * 1024)
#define NHEADERS     4

enum { ST_IDLE = 0, ST_WAITING, ST_HEADERS, ST_BODY };

typedef struct st_http_wait http_pss;
struct st_http_wait {
    struct lws *wsi;
    st_console *c;
    char path[128];
    bool is_post;
    char *body;
    size_t body_len;
    bool body_too_big;
    /* the response */
    int state;
    unsigned status;
    const char *ctype;
    char *out; /* owned unless out_borrowed */
    bool out_borrowed;
    size_t out_len, out_sent;
    char hname[NHEADERS][32];
    char hvalue[NHEADERS][256];
    int nheaders;
    /* waiting for a login job or its failure delay */
    char peer[64]; /* the client's address, while its login is hashed */
    uint64_t wait_id;
    struct st_http_wait *next_wait;
    lws_sorted_usec_list_t sul;
    bool sul_armed;
};

typedef struct login_job {
    st_job job;
    uint64_t wait_id;
    char user[ST_CON_NAME_MAX];
    char password[256];
    char hash[ST_USERS_HASH_MAX];
    bool known, ok;
} login_job;

size_t st_http_pss_size(void)
{
    return sizeof(http_pss);
}

/* ---- static files ---- */

static const struct {
    const char *url, *name, *type;
} web_files[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/login", "login.html", "text/html; charset=utf-8"},
    {"/static/app.js", "app.js", "text/javascript; charset=utf-8"},
    {"/static/views.js", "views.js", "text/javascript; charset=utf-8"},
    {"/static/charts.js", "charts.js", "text/javascript; charset=utf-8"},
    {"/static/login.js", "login.js", "text/javascript; charset=utf-8"},
    {"/static/style.css", "style.css", "text/css; charset=utf-8"},
};
#define NWEB (sizeof web_files / sizeof web_files[0])

int st_http_load_files(st_console *c, const char *web_root, char *err, size_t errlen)
{
    c->files = calloc(NWEB, sizeof *c->files);
    if (!c->files) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < NWEB; i++) {
        char path[PATH_MAX + 64];
        st_web_file *f = &c->files[c->nfiles];
        snprintf(path, sizeof path, "%s/%s", web_root, web_files[i].name);
        FILE *fp = fopen(path, "rb");
        if (!fp) {
            snprintf(err, errlen, "cannot read %s: %s (console.web_root names admin-ui/web)", path,
                     strerror(errno));
            return -1;
        }
        size_t cap = 1 << 16, n = 0;
        char *data = malloc(cap);
        size_t got;
        while (data && (got = fread(data + n, 1, cap - n, fp)) > 0) {
            n += got;
            if (n == cap) {
                char *bigger = cap < (8u << 20) ? realloc(data, cap *= 2) : NULL;
                if (!bigger) {
                    free(data);
                    data = NULL;
                }
                data = bigger;
            }
        }
        fclose(fp);
        if (!data) {
            snprintf(err, errlen, "%s: out of memory or larger than 8 MiB", path);
            return -1;
        }
        *f = (st_web_file){web_files[i].url, web_files[i].name, web_files[i].type, data, n};
        c->nfiles++;
    }
    return 0;
}

void st_http_free_files(st_console *c)
{
    for (size_t i = 0; i < c->nfiles; i++)
        free(c->files[i].data);
    free(c->files);
    c->files = NULL;
    c->nfiles = 0;
}

static const st_web_file *find_file(st_console *c, const char *url)
{
    for (size_t i = 0; i < c->nfiles; i++)
        if (strcmp(c->files[i].url, url) == 0)
            return &c->files[i];
    return NULL;
}

/* ---- requests ---- */

bool st_http_origin_ok(st_console *c, struct lws *wsi, char *why, size_t whylen)
{
    char origin[256] = "", host[256] = "", own[300];
    if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0) {
        snprintf(why, whylen, "no Origin header (requests must come from the console's page)");
        return false;
    }
    for (size_t i = 0; i < c->cfg->norigins; i++)
        if (strcmp(origin, c->cfg->origins[i]) == 0)
            return true;
    if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) > 0) {
        snprintf(own, sizeof own, "%s://%s", c->tls ? "https" : "http", host);
        if (strcmp(origin, own) == 0)
            return true;
    }
    snprintf(why, whylen, "Origin %.100s is not this console's (%.100s)", origin, own);
    return false;
}

const st_session *st_http_session(st_console *c, struct lws *wsi)
{
    char cookie[2048], id[ST_SESSION_ID_LEN + 1];
    if (lws_hdr_copy(wsi, cookie, sizeof cookie, WSI_TOKEN_HTTP_COOKIE) <= 0 ||
        st_sessions_cookie_id(cookie, id) != 0)
        return NULL;
    return st_sessions_find(c->sessions, id, strlen(id), st_wall_ms());
}

static void add_header(http_pss *p, const char *name, const char *value)
{
    if (p->nheaders == NHEADERS)
        return;
    snprintf(p->hname[p->nheaders], sizeof p->hname[0], "%s", name);
    snprintf(p->hvalue[p->nheaders], sizeof p->hvalue[0], "%s", value);
    p->nheaders++;
}

/* Queues a response (body copied unless borrowed) and asks for a writable callback. */
static void respond(http_pss *p, unsigned status, const char *ctype, const char *body, size_t len,
                    bool borrowed)
{
    p->status = status;
    p->ctype = ctype;
    p->out_borrowed = borrowed;
    if (borrowed)
        p->out = (char *)(uintptr_t)body;
    else {
        p->out = malloc(len + 1);
        if (p->out)
            memcpy(p->out, body, len);
        else
            len = 0;
    }
    p->out_len = len;
    p->out_sent = 0;
    p->state = ST_HEADERS;
    lws_callback_on_writable(p->wsi);
}

static void respond_json(http_pss *p, unsigned status, json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!text) {
        respond(p, 500, "application/json", "{\"error\":\"out of memory\"}", 25, true);
        return;
    }
    respond(p, status, "application/json", text, strlen(text), false);
    free(text);
}

static void respond_error(http_pss *p, unsigned status, const char *msg)
{
    respond_json(p, status, json_pack("{s:s}", "error", msg));
}

static void set_cookie(http_pss *p, const char *id, int64_t max_age_s)
{
    char v[256];
    snprintf(v, sizeof v, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s",
             ST_SESSION_COOKIE, id, (long long)max_age_s, p->c->tls ? "; Secure" : "");
    add_header(p, "set-cookie:", v);
}

static json_t *session_json(const st_session *s)
{
    json_t *views = json_array();
    for (int v = 0; v < ST_VIEW_COUNT; v++)
        if (st_view_allowed((st_view)v, s->role))
            json_array_append_new(views, json_string(st_view_name((st_view)v)));
    json_t *o = json_pack("{s:s, s:s, s:o, s:o}", "user", s->user, "role", st_role_name(s->role),
                          "views", views, "actions", st_action_list(s->role));
    if (o && s->role == ST_ROLE_TENANT)
        json_object_set_new(o, "tenant", json_string(s->tenant));
    return o;
}

static void login_run(st_job *job)
{
    login_job *j = (login_job *)job;
    /* An unknown user costs the same PBKDF2 as a known one. */
    bool match = st_users_verify(j->hash, j->password);
    j->ok = j->known && match;
    OPENSSL_cleanse(j->password, sizeof j->password);
}

static http_pss *take_wait(st_console *c, uint64_t id)
{
    for (http_pss **pp = &c->waits; *pp; pp = &(*pp)->next_wait)
        if ((*pp)->wait_id == id) {
            http_pss *p = *pp;
            *pp = p->next_wait;
            p->next_wait = NULL;
            p->wait_id = 0;
            return p;
        }
    return NULL;
}

static void drop_wait(st_console *c, http_pss *p)
{
    if (p->wait_id)
        take_wait(c, p->wait_id);
}

static void failed_login_due(lws_sorted_usec_list_t *sul)
{
    http_pss *p = lws_container_of(sul, http_pss, sul);
    p->sul_armed = false;
    respond_error(p, 401, "wrong user name or password");
}

/* libwebsockets' content timeout starts again at every byte, so a body sent a byte at
 * a time held a connection for ever; this deadline counts from the request. */
static void body_too_slow(lws_sorted_usec_list_t *sul)
{
    http_pss *p = lws_container_of(sul, http_pss, sul);
    p->sul_armed = false;
    st_warn("console: a POST body took over %d s: connection closed", BODY_SECONDS);
    lws_set_timeout(p->wsi, PENDING_TIMEOUT_HTTP_CONTENT, LWS_TO_KILL_ASYNC);
}

static void login_done(st_job *job, void *ctx)
{
    st_console *c = ctx;
    login_job *j = (login_job *)job;
    c->logins_pending--;
    http_pss *p = c->stopping ? NULL : take_wait(c, j->wait_id);
    const st_con_user *u = j->ok ? st_con_config_user(c->cfg, j->user) : NULL;
    if (p && u) {
        const st_session *s = st_sessions_create(c->sessions, u, st_wall_ms());
        if (!s)
            respond_error(p, 500, "cannot make a session id (no random bytes)");
        else {
            st_info("console: %s (%s) logged in", u->name, st_role_name(u->role));
            set_cookie(p, s->id, (int64_t)c->cfg->session_hours * 3600);
            respond_json(p, 200, session_json(s));
        }
    } else if (p) {
        st_warn("console: failed login for \"%.64s\"", j->user);
        p->sul_armed = true;
        lws_sul_schedule(c->lws, 0, &p->sul, failed_login_due,
                         (lws_usec_t)c->cfg->login_failure_delay_ms * LWS_US_PER_MS);
        p->state = ST_WAITING;
    }
    free(j);
}

static void handle_login(st_console *c, http_pss *p)
{
    char why[300];
    if (!st_http_origin_ok(c, p->wsi, why, sizeof why)) {
        respond_error(p, 403, why);
        return;
    }
    if (p->body_too_big) {
        respond_error(p, 413, "login request larger than 4096 bytes");
        return;
    }
    json_error_t jerr;
    json_t *req = json_loadb(p->body ? p->body : "", p->body_len, 0, &jerr);
    const char *user = json_string_value(json_object_get(req, "user"));
    const char *password = json_string_value(json_object_get(req, "password"));
    if (!json_is_object(req) || !user || !password || strlen(user) >= ST_CON_NAME_MAX ||
        strlen(password) >= 256) {
        json_decref(req);
        respond_error(p, 400,
                      "expected {\"user\":\"...\",\"password\":\"...\"} (user under 64 bytes, "
                      "password under 256)");
        return;
    }
    /* PBKDF2 slots are few on purpose; one address may hold only some of them, so a
     * client hammering the login cannot keep everyone else out. */
    size_t from_peer = 0;
    lws_get_peer_simple(p->wsi, p->peer, sizeof p->peer);
    for (const http_pss *w = c->waits; w; w = w->next_wait)
        from_peer += strcmp(w->peer, p->peer) == 0;
    if (from_peer >= ST_LOGIN_MAX_PER_PEER || c->logins_pending >= ST_LOGIN_MAX_PENDING) {
        json_decref(req);
        respond_error(p, 503,
                      from_peer >= ST_LOGIN_MAX_PER_PEER
                          ? "too many logins from your address in progress: try again in a moment"
                          : "too many logins in progress: try again in a moment");
        return;
    }
    login_job *j = calloc(1, sizeof *j);
    if (!j) {
        json_decref(req);
        respond_error(p, 500, "out of memory");
        return;
    }
    j->job.run = login_run;
    j->job.done = login_done;
    snprintf(j->user, sizeof j->user, "%s", user);
    snprintf(j->password, sizeof j->password, "%s", password);
    const st_con_user *u = st_con_config_user(c->cfg, user);
    j->known = u != NULL;
    snprintf(j->hash, sizeof j->hash, "%s", u ? u->password_hash : c->dummy_hash);
    json_decref(req);
    j->wait_id = ++c->next_id;
    if (st_jobs_submit(c->login_jobs, &j->job) != 0) {
        OPENSSL_cleanse(j->password, sizeof j->password);
        free(j);
        respond_error(p, 503, "too many logins in progress: try again in a moment");
        return;
    }
    c->logins_pending++;
    p->wait_id = j->wait_id;
    p->next_wait = c->waits;
    c->waits = p;
    p->state = ST_WAITING;
}

static void handle_logout(st_console *c, http_pss *p)
{
    char why[300];
    if (!st_http_origin_ok(c, p->wsi, why, sizeof why)) {
        respond_error(p, 403, why);
        return;
    }
    const st_session *s = st_http_session(c, p->wsi);
    if (s) {
        char id[ST_SESSION_ID_LEN + 1];
        snprintf(id, sizeof id, "%s", s->id);
        st_info("console: %s logged out", s->user);
        st_ws_close_session(c, id);
        st_sessions_remove(c->sessions, id);
    }
    set_cookie(p, "", 0);
    respond_json(p, 200, json_pack("{s:b}", "ok", 1));
}

/*
 * /metrics names every tenant, topic and group of the estate, so it is never public: a
 * scraper sends the configured token, a person has an admin or operator session. Not
 * even a console on loopback is safe open: any web page its operator visits can read
 * it through DNS rebinding, and tenant users reach the same port.
 */
static bool metrics_allowed(st_console *c, struct lws *wsi)
{
    char auth[512];
    const char *want = c->cfg->metrics_token;
    if (want[0] && lws_hdr_copy(wsi, auth, sizeof auth, WSI_TOKEN_HTTP_AUTHORIZATION) > 7 &&
        strncmp(auth, "Bearer ", 7) == 0 && strlen(auth + 7) == strlen(want) &&
        CRYPTO_memcmp(auth + 7, want, strlen(want)) == 0)
        return true;
    const st_session *s = st_http_session(c, wsi);
    return s && s->role != ST_ROLE_TENANT;
}

static void handle_get(st_console *c, http_pss *p)
{
    const st_session *s = st_http_session(c, p->wsi);
    if (strcmp(p->path, "/") == 0 || strcmp(p->path, "/index.html") == 0) {
        if (!s) {
            add_header(p, "location:", "/login");
            respond(p, 303, "text/plain", "", 0, true);
            return;
        }
    } else if (strcmp(p->path, "/api/session") == 0) {
        if (!s)
            respond_error(p, 401, "not logged in");
        else
            respond_json(p, 200, session_json(s));
        return;
    } else if (strcmp(p->path, "/metrics") == 0) {
        if (!metrics_allowed(c, p->wsi)) {
            add_header(p, "www-authenticate:", "Bearer");
            respond_error(p, 401,
                          c->cfg->metrics_token[0]
                              ? "metrics need Authorization: Bearer <console.metrics_token> "
                                "(or an admin or operator session)"
                              : "metrics need an admin or operator session; for a scraper, "
                                "set console.metrics_token and send Authorization: Bearer "
                                "<token>");
            return;
        }
        size_t len;
        const char *text = st_metrics_text(c, &len);
        respond(p, 200, "text/plain; version=0.0.4; charset=utf-8", text, len, false);
        return;
    }
    const st_web_file *f = find_file(c, strcmp(p->path, "/index.html") == 0 ? "/" : p->path);
    if (!f) {
        respond_error(p, 404, "no such page");
        return;
    }
    respond(p, 200, f->type, f->data, f->len, true);
}

static int write_headers(http_pss *p)
{
    unsigned char buf[LWS_PRE + 4096], *start = &buf[LWS_PRE], *q = start,
                                       *end = &buf[sizeof buf - 1];
    static const char *const security[][2] = {
        {"content-security-policy:",
         "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
         "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
        {"x-content-type-options:", "nosniff"},
        {"x-frame-options:", "DENY"},
        {"referrer-policy:", "no-referrer"},
        {"cache-control:", "no-store"},
    };
    if (lws_add_http_common_headers(p->wsi, p->status | LWSAHH_FLAG_NO_SERVER_NAME, p->ctype,
                                    p->out_len, &q, end))
        return -1;
    for (size_t i = 0; i < sizeof security / sizeof security[0]; i++)
        if (lws_add_http_header_by_name(p->wsi, (const unsigned char *)security[i][0],
                                        (const unsigned char *)security[i][1],
                                        (int)strlen(security[i][1]), &q, end))
            return -1;
    for (int i = 0; i < p->nheaders; i++)
        if (lws_add_http_header_by_name(p->wsi, (const unsigned char *)p->hname[i],
                                        (const unsigned char *)p->hvalue[i],
                                        (int)strlen(p->hvalue[i]), &q, end))
            return -1;
    return lws_finalize_write_http_header(p->wsi, start, &q, end) ? -1 : 0;
}

static void reset(http_pss *p)
{
    if (!p->out_borrowed)
        free(p->out);
    p->out = NULL;
    if (p->body) /* a login's password */
        OPENSSL_cleanse(p->body, p->body_len);
    free(p->body);
    p->body = NULL;
    p->body_len = 0;
    p->body_too_big = false;
    p->nheaders = 0;
    p->state = ST_IDLE;
}

/* One writable turn: the headers, or the next chunk of the body. -1 to close. */
static int on_writable(http_pss *p)
{
    if (p->state == ST_HEADERS) {
        if (write_headers(p))
            return -1;
        p->state = ST_BODY;
        if (p->out_len > 0) {
            lws_callback_on_writable(p->wsi);
            return 0;
        }
    }
    if (p->state != ST_BODY)
        return 0;
    size_t left = p->out_len - p->out_sent, n = left < CHUNK ? left : CHUNK;
    if (n > 0) {
        unsigned char buf[LWS_PRE + CHUNK];
        memcpy(buf + LWS_PRE, p->out + p->out_sent, n);
        bool last = n == left;
        if (lws_write(p->wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) <
            (int)n)
            return -1;
        p->out_sent += n;
        if (!last) {
            lws_callback_on_writable(p->wsi);
            return 0;
        }
    }
    reset(p);
    return lws_http_transaction_completed(p->wsi) ? -1 : 0;
}

/* Everything the other threads handed back: finished jobs, the survey round. */
static void drain(st_console *c)
{
    st_jobs_drain(c->login_jobs, c);
    st_jobs_drain(c->jobs, c);
    st_bus_round *r = st_bus_take(c->bus);
    if (r) {
        st_model_apply(c->model, r, st_action_import_log, c);
        st_bus_round_free(r);
        st_bus_want(c->bus, st_view_bus_wants(c));
        st_ws_push(c);
    }
}

int st_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    st_console *c = ctx ? lws_context_user(ctx) : NULL;
    http_pss *p = user;
    char why[300];

    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (c && !c->stopping)
            drain(c);
        return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        /* The websocket's checks happen before the upgrade is answered: no session or a
         * foreign Origin gets no websocket (ws.c checks again for its protocol). */
        if (!st_http_session(c, wsi) || !st_http_origin_ok(c, wsi, why, sizeof why)) {
            st_warn("console: websocket refused: %s",
                    st_http_session(c, wsi) ? why : "no valid session cookie");
            lws_return_http_status(wsi, 403, "websocket refused: log in from the console page");
            return 1;
        }
        if (st_ws_session_sockets(c, st_http_session(c, wsi)->id) >= ST_WS_MAX_PER_SESSION) {
            st_warn("console: websocket refused: %s has %d open in one session",
                    st_http_session(c, wsi)->user, ST_WS_MAX_PER_SESSION);
            lws_return_http_status(wsi, 429,
                                   "websocket refused: too many tabs open in this "
                                   "session: close some");
            return 1;
        }
        return 0;
    case LWS_CALLBACK_HTTP: {
        memset(p, 0, sizeof *p);
        p->wsi = wsi;
        p->c = c;
        snprintf(p->path, sizeof p->path, "%s", (const char *)in);
        p->is_post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
        if (p->is_post) {
            p->sul_armed = true;
            lws_sul_schedule(c->lws, 0, &p->sul, body_too_slow,
                             (lws_usec_t)BODY_SECONDS * LWS_US_PER_SEC);
            if (strcmp(p->path, "/login") != 0 && strcmp(p->path, "/logout") != 0)
                respond_error(p, 404, "no such endpoint (POST /login or /logout)");
            return 0; /* the body arrives in LWS_CALLBACK_HTTP_BODY */
        }
        if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
            respond_error(p, 405, "only GET and POST are served");
            return 0;
        }
        handle_get(c, p);
        return 0;
    }
    case LWS_CALLBACK_HTTP_BODY:
        if (p->state != ST_IDLE || p->body_too_big)
            return 0;
        if (p->body_len + len > MAX_BODY) {
            p->body_too_big = true;
            return 0;
        }
        {
            char *nb = realloc(p->body, p->body_len + len + 1);
            if (!nb)
                return -1;
            p->body = nb;
            memcpy(p->body + p->body_len, in, len);
            p->body_len += len;
        }
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (p->sul_armed) {
            lws_sul_cancel(&p->sul);
            p->sul_armed = false;
        }
        if (p->state != ST_IDLE)
            return 0; /* already answered (404) */
        if (strcmp(p->path, "/login") == 0)
            handle_login(c, p);
        else
            handle_logout(c, p);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return on_writable(p);
    case LWS_CALLBACK_CLOSED_HTTP:
        if (p && p->c) {
            drop_wait(c, p);
            if (p->sul_armed)
                lws_sul_cancel(&p->sul);
            reset(p);
            p->c = NULL;
        }
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}
