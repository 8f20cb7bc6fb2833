/*
 * The management bus over nanomsg REQ/REP; see mgmt.h for the wire format.
 *
 * The server is a REP socket (and optionally a RESPONDENT socket for surveys) polled by
 * the owner's event loop: nanomsg's own threads do the I/O, and st_mgmt_server_process
 * drains both sockets with NN_DONTWAIT so the handler always runs on the owner's thread.
 * REP and RESPONDENT answer one message at a time, which is exactly what a drain loop of
 * recv → handle → send does.
 */
#include "common/mgmt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <inttypes.h>
#include <pwd.h>
#include <unistd.h>

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <nanomsg/survey.h>

#include "common/clock.h"
#include "common/logging.h"

struct st_mgmt_server {
    int sock;
    int rcvfd;
    int survey_sock; /* -1 without a survey endpoint */
    int survey_rcvfd;
    char *url;
    char *survey_url;
    char *token;
    size_t token_len;
    st_mgmt_handler *handler;
    void *ctx;
    const char *const *readonly; /* borrowed static table; NULL: none named */
    char boot[17];               /* random at open: a restart shows as a new boot */
    /* The command log: entries[seq % CAP] holds seq for seq in [next - n, next). */
    json_t *log[ST_MGMT_LOG_CAP];
    uint64_t log_next;
};

/* Compares in time that depends only on the expected token's length, so the reply
 * time does not tell an attacker how many leading bytes were right. */
static bool token_equal(const char *expected, size_t expected_len, const char *given)
{
    size_t given_len = strlen(given);
    unsigned diff = (unsigned)(expected_len ^ given_len);
    for (size_t i = 0; i < expected_len; i++) {
        unsigned char g = i < given_len ? (unsigned char)given[i] : 0;
        diff |= (unsigned char)expected[i] ^ g;
    }
    return diff == 0;
}

/* True for ipc://, inproc:// and tcp:// urls whose host is 127.x, localhost, ::1 or lo. */
static bool url_is_local(const char *url)
{
    if (strncmp(url, "tcp://", 6) != 0)
        return strncmp(url, "ipc://", 6) == 0 || strncmp(url, "inproc://", 9) == 0;
    const char *host = url + 6;
    const char *semi = strchr(host, ';'); /* nanomsg's "tcp://iface;host:port" form */
    if (semi)
        host = semi + 1;
    return strncmp(host, "127.", 4) == 0 || strncmp(host, "localhost:", 10) == 0 ||
           strncmp(host, "[::1]:", 6) == 0 || strncmp(host, "lo:", 3) == 0;
}

/* A socket of `protocol` bound to url, with *rcvfd its NN_RCVFD; -1 with err. */
static int bind_socket(int protocol, const char *what, const char *url, int *rcvfd, char *err,
                       size_t errlen)
{
    size_t fdlen = sizeof(int);
    int sock = nn_socket(AF_SP, protocol);
    if (sock < 0) {
        snprintf(err, errlen, "%s %s: cannot create socket: %s", what, url,
                 nn_strerror(nn_errno()));
        return -1;
    }
    if (nn_bind(sock, url) < 0) {
        int e = nn_errno();
        snprintf(err, errlen, "cannot bind %s %s: %s%s", what, url, nn_strerror(e),
                 e == EINVAL || e == ENODEV
                     ? " (expected tcp://<ip address>:<port> or ipc:///<path>)"
                     : "");
        nn_close(sock);
        return -1;
    }
    if (nn_getsockopt(sock, NN_SOL_SOCKET, NN_RCVFD, rcvfd, &fdlen) < 0) {
        snprintf(err, errlen, "%s %s: cannot get its receive fd: %s", what, url,
                 nn_strerror(nn_errno()));
        nn_close(sock);
        return -1;
    }
    if (!url_is_local(url))
        st_warn("%s %s is not bound to loopback: anyone who can reach it and knows the token "
                "can administer this daemon",
                what, url);
    st_info("%s listening on %s", what, url);
    return sock;
}

st_mgmt_server *st_mgmt_server_open(const char *url, const char *token, st_mgmt_handler *h,
                                    void *ctx, char *err, size_t errlen)
{
    st_mgmt_server *s = NULL;

    if (!url || !*url) {
        snprintf(err, errlen, "management endpoint: no url configured (e.g. tcp://127.0.0.1:9192)");
        return NULL;
    }
    if (!token || !*token) {
        snprintf(err, errlen, "management endpoint %s: an empty token would let anyone in", url);
        return NULL;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "management endpoint %s: out of memory", url);
        return NULL;
    }
    s->sock = -1;
    s->survey_sock = -1;
    s->survey_rcvfd = -1;
    s->url = strdup(url);
    s->token = strdup(token);
    if (!s->url || !s->token) {
        snprintf(err, errlen, "management endpoint %s: out of memory", url);
        goto fail;
    }
    s->token_len = strlen(token);
    s->handler = h;
    s->ctx = ctx;
    /* Not a secret, only different at each start: time and pid mixed is enough. */
    uint64_t boot = (uint64_t)st_mono_us() * 6364136223846793005ULL ^
                    (uint64_t)st_wall_ms() * 1442695040888963407ULL ^ (uint64_t)getpid();
    snprintf(s->boot, sizeof s->boot, "%016" PRIx64, boot);

    s->sock = bind_socket(NN_REP, "management endpoint", url, &s->rcvfd, err, errlen);
    if (s->sock < 0)
        goto fail;
    return s;

fail:
    st_mgmt_server_close(s);
    return NULL;
}

int st_mgmt_server_survey(st_mgmt_server *s, const char *url, const char *const *readonly,
                          char *err, size_t errlen)
{
    s->readonly = readonly;
    if (!url)
        return 0;
    if (s->survey_sock >= 0) {
        snprintf(err, errlen, "survey endpoint: already bound to %s", s->survey_url);
        return -1;
    }
    if (!*url) {
        snprintf(err, errlen, "survey endpoint: empty url (e.g. tcp://127.0.0.1:9292)");
        return -1;
    }
    char *copy = strdup(url);
    if (!copy) {
        snprintf(err, errlen, "survey endpoint %s: out of memory", url);
        return -1;
    }
    int sock = bind_socket(NN_RESPONDENT, "survey endpoint", url, &s->survey_rcvfd, err, errlen);
    if (sock < 0) {
        free(copy);
        return -1;
    }
    s->survey_sock = sock;
    s->survey_url = copy;
    return 0;
}

int st_mgmt_server_fd(const st_mgmt_server *s)
{
    return s->rcvfd;
}

int st_mgmt_server_survey_fd(const st_mgmt_server *s)
{
    return s->survey_sock >= 0 ? s->survey_rcvfd : -1;
}

int st_mgmt_survey_url_default(const char *mgmt_url, char *out, size_t cap, char *err,
                               size_t errlen)
{
    if (strncmp(mgmt_url, "ipc://", 6) == 0) {
        if (snprintf(out, cap, "%s.survey", mgmt_url) >= (int)cap) {
            snprintf(err, errlen, "management url too long to derive a survey url from: %.64s...",
                     mgmt_url);
            return -1;
        }
        return 0;
    }
    const char *colon = strrchr(mgmt_url, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (strncmp(mgmt_url, "tcp://", 6) != 0 || !end || *end || end == colon + 1 || port < 1 ||
        port > 65535 - 100) {
        snprintf(err, errlen,
                 "cannot derive a survey url from management url \"%s\" (expected "
                 "tcp://HOST:PORT or ipc://PATH): set mgmt.survey_url",
                 mgmt_url);
        return -1;
    }
    if (snprintf(out, cap, "%.*s:%ld", (int)(colon - mgmt_url), mgmt_url, port + 100) >= (int)cap) {
        snprintf(err, errlen, "management url too long to derive a survey url from: %.64s...",
                 mgmt_url);
        return -1;
    }
    return 0;
}

static json_t *error_reply(const char *msg)
{
    return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static bool is_readonly(const st_mgmt_server *s, const char *cmd)
{
    if (strcmp(cmd, "mgmt.log") == 0)
        return true;
    for (const char *const *r = s->readonly; r && *r; r++)
        if (strcmp(*r, cmd) == 0)
            return true;
    return false;
}

json_t *st_mgmt_redact(json_t *v)
{
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *key;
        json_t *x;
        json_object_foreach(v, key, x)
        {
            json_object_set_new(
                o, key, strcmp(key, "password") == 0 ? json_string("***") : st_mgmt_redact(x));
        }
        return o;
    }
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) json_array_append_new(a, st_mgmt_redact(x));
        return a;
    }
    return v ? json_incref(v) : json_null();
}

static void log_command(st_mgmt_server *s, const char *who, const char *cmd, json_t *args, bool ok,
                        const char *error)
{
    json_t *e = json_pack("{s:I, s:I, s:s, s:s, s:o, s:b}", "seq", (json_int_t)s->log_next,
                          "time_ms", (json_int_t)st_wall_ms(), "who", who, "cmd", cmd, "args",
                          st_mgmt_redact(args), "ok", (int)ok);
    if (!e)
        return; /* out of memory: the command ran; only its log line is lost */
    if (!ok)
        json_object_set_new(e, "error", json_string(error));
    size_t slot = (size_t)(s->log_next % ST_MGMT_LOG_CAP);
    json_decref(s->log[slot]);
    s->log[slot] = e;
    s->log_next++;
}

/* mgmt.log {since?}: {"boot", "next", "lost", "entries":[...]} for seq >= since. */
static int cmd_log(st_mgmt_server *s, json_t *args, json_t **result, char *err, size_t errlen)
{
    static const char *const names[] = {"since", NULL};
    if (st_mgmt_check_args("mgmt.log", names, "{since?}", args, err, errlen) != 0)
        return -1;
    json_t *v = json_object_get(args, "since");
    uint64_t since = 0;
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            snprintf(err, errlen, "mgmt.log: \"since\" must be a sequence number >= 0, got %s",
                     st_json_kind(v));
            return -1;
        }
        since = (uint64_t)json_integer_value(v);
    }
    uint64_t oldest = s->log_next > ST_MGMT_LOG_CAP ? s->log_next - ST_MGMT_LOG_CAP : 0;
    uint64_t from = since > oldest ? since : oldest;
    json_t *entries = json_array();
    for (uint64_t q = from; entries && q < s->log_next; q++)
        json_array_append(entries, s->log[q % ST_MGMT_LOG_CAP]);
    *result = entries
                  ? json_pack("{s:s, s:I, s:I, s:o}", "boot", s->boot, "next",
                              (json_int_t)s->log_next, "lost",
                              (json_int_t)(since < oldest ? oldest - since : 0), "entries", entries)
                  : NULL;
    if (!*result) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* Runs one command (built-in or the daemon's), logging it unless read-only. 0 with
 * *result (new reference or NULL), or -1 with err. */
static int run_command(st_mgmt_server *s, const char *who, const char *cmd, json_t *args,
                       json_t **result, char *err, size_t errlen)
{
    *result = NULL;
    if (strcmp(cmd, "mgmt.log") == 0)
        return cmd_log(s, args, result, err, errlen);
    int rc = s->handler(s->ctx, cmd, args, result, err, errlen);
    if (rc != 0) {
        st_debug("management command \"%s\" failed: %s", cmd, err);
        json_decref(*result);
        *result = NULL;
        if (!*err)
            snprintf(err, errlen, "command failed without saying why");
    }
    if (!is_readonly(s, cmd))
        log_command(s, who, cmd, args, rc == 0, err);
    return rc;
}

/* The request's "args" as an object (new reference), or NULL with err. */
static json_t *request_args(json_t *req, char *err, size_t errlen)
{
    json_t *args = json_object_get(req, "args");
    if (args && !json_is_object(args) && !json_is_null(args)) {
        snprintf(err, errlen, "malformed request: \"args\" must be an object, got %s",
                 st_json_kind(args));
        return NULL;
    }
    args = args && json_is_object(args) ? json_incref(args) : json_object();
    if (!args)
        snprintf(err, errlen, "out of memory");
    return args;
}

/*
 * Parses a request or survey and checks its token and "who". Returns the request (new
 * reference) with *who pointing into it (or "unknown"), or NULL with err.
 */
static json_t *parse_request(st_mgmt_server *s, const char *what, const char *body, size_t len,
                             const char **who, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *req = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!req) {
        snprintf(err, errlen,
                 "malformed %s: %s (line %d, column %d); expected "
                 "{\"token\":\"...\",\"cmd\":\"...\",\"args\":{...}}",
                 what, jerr.text, jerr.line, jerr.column);
        return NULL;
    }
    if (!json_is_object(req)) {
        snprintf(err, errlen, "malformed %s: expected a JSON object, got %s", what,
                 st_json_kind(req));
        goto fail;
    }
    json_t *jtoken = json_object_get(req, "token");
    if (!json_is_string(jtoken) ||
        !token_equal(s->token, s->token_len, json_string_value(jtoken))) {
        st_warn("%s on %s refused: %s token", what, s->url,
                json_is_string(jtoken) ? "wrong" : "missing");
        snprintf(err, errlen, "%s", ST_MGMT_BAD_TOKEN);
        goto fail;
    }
    json_t *jwho = json_object_get(req, "who");
    *who = "unknown";
    if (jwho) {
        if (!json_is_string(jwho) || json_string_length(jwho) == 0 ||
            json_string_length(jwho) > ST_MGMT_WHO_MAX ||
            strlen(json_string_value(jwho)) != json_string_length(jwho)) {
            snprintf(err, errlen, "malformed %s: \"who\" must be a string of 1 to %d bytes", what,
                     ST_MGMT_WHO_MAX);
            goto fail;
        }
        *who = json_string_value(jwho);
    }
    return req;
fail:
    json_decref(req);
    return NULL;
}

/* Builds the reply for one request body. Returns a new reference (never NULL unless
 * memory ran out). */
static json_t *answer(st_mgmt_server *s, const char *body, size_t len)
{
    char err[1024] = "";
    json_t *reply = NULL, *result = NULL, *args = NULL;
    const char *who;
    json_t *req = parse_request(s, "request", body, len, &who, err, sizeof err);
    if (!req) {
        reply = error_reply(err);
        goto out;
    }
    json_t *jcmd = json_object_get(req, "cmd");
    if (!json_is_string(jcmd)) {
        reply = error_reply("malformed request: expected an object with a string \"cmd\", "
                            "e.g. {\"token\":\"...\",\"cmd\":\"status\",\"args\":{}}");
        goto out;
    }
    if (!(args = request_args(req, err, sizeof err))) {
        reply = error_reply(err);
        goto out;
    }
    if (run_command(s, who, json_string_value(jcmd), args, &result, err, sizeof err) != 0) {
        reply = error_reply(err);
        goto out;
    }
    reply = json_pack("{s:b, s:o}", "ok", 1, "result", result ? result : json_null());

out:
    json_decref(args);
    json_decref(req);
    return reply;
}

/* One survey's slot: {"ok":true,"result":...} or {"ok":false,"error":"..."}. */
static json_t *survey_slot(st_mgmt_server *s, const char *who, size_t i, json_t *c)
{
    char err[1024] = "";
    json_t *jcmd = json_object_get(c, "cmd");
    if (!json_is_object(c) || !json_is_string(jcmd)) {
        snprintf(err, sizeof err, "cmds[%zu]: expected {\"cmd\":\"...\",\"args\":{...}}", i);
        return error_reply(err);
    }
    const char *cmd = json_string_value(jcmd);
    if (!is_readonly(s, cmd)) {
        snprintf(err, sizeof err,
                 "\"%.64s\" is not served in a survey (only read-only commands are): send it "
                 "as a command",
                 cmd);
        return error_reply(err);
    }
    json_t *args = request_args(c, err, sizeof err), *result = NULL;
    if (!args)
        return error_reply(err);
    int rc = run_command(s, who, cmd, args, &result, err, sizeof err);
    json_decref(args);
    if (rc != 0)
        return error_reply(err);
    return json_pack("{s:b, s:o}", "ok", 1, "result", result ? result : json_null());
}

static json_t *answer_survey(st_mgmt_server *s, const char *body, size_t len)
{
    char err[1024] = "";
    const char *who;
    json_t *reply = NULL;
    json_t *req = parse_request(s, "survey", body, len, &who, err, sizeof err);
    if (!req)
        return error_reply(err);
    json_t *cmds = json_object_get(req, "cmds");
    if (!json_is_array(cmds) || json_array_size(cmds) == 0 ||
        json_array_size(cmds) > ST_MGMT_SURVEY_MAX_CMDS) {
        snprintf(err, sizeof err,
                 "malformed survey: \"cmds\" must be an array of 1 to %d "
                 "{\"cmd\":\"...\",\"args\":{...}}",
                 ST_MGMT_SURVEY_MAX_CMDS);
        reply = error_reply(err);
        goto out;
    }
    json_t *results = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(cmds, i, c) json_array_append_new(results, survey_slot(s, who, i, c));
    reply = json_pack("{s:b, s:s, s:o}", "ok", 1, "boot", s->boot, "results", results);
out:
    json_decref(req);
    return reply;
}

/* Receives and answers every waiting message of one socket. */
static void drain(st_mgmt_server *s, int sock, bool survey)
{
    const char *url = survey ? s->survey_url : s->url;
    for (;;) {
        void *msg = NULL;
        int n = nn_recv(sock, &msg, NN_MSG, NN_DONTWAIT);
        if (n < 0) {
            int e = nn_errno();
            if (e != EAGAIN && e != EINTR)
                st_warn("management endpoint %s: receive failed: %s", url, nn_strerror(e));
            return;
        }
        json_t *reply = survey ? answer_survey(s, msg, (size_t)n) : answer(s, msg, (size_t)n);
        nn_freemsg(msg);
        char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
        json_decref(reply);
        if (!text) /* a result jansson cannot encode, or no memory: still answer */
            text = strdup("{\"ok\":false,\"error\":\"the reply could not be encoded\"}");
        /* REP must answer before the next recv; the peer may have gone (a surveyor past
         * its deadline drops late answers), which is fine. */
        if (!text || nn_send(sock, text, strlen(text), NN_DONTWAIT) < 0)
            st_debug("management endpoint %s: could not send a reply: %s", url,
                     text ? nn_strerror(nn_errno()) : "out of memory");
        free(text);
    }
}

void st_mgmt_server_process(st_mgmt_server *s)
{
    drain(s, s->sock, false);
    if (s->survey_sock >= 0)
        drain(s, s->survey_sock, true);
}

void st_mgmt_server_close(st_mgmt_server *s)
{
    if (!s)
        return;
    if (s->sock >= 0)
        nn_close(s->sock);
    if (s->survey_sock >= 0)
        nn_close(s->survey_sock);
    for (size_t i = 0; i < ST_MGMT_LOG_CAP; i++)
        json_decref(s->log[i]);
    free(s->url);
    free(s->survey_url);
    free(s->token);
    free(s);
}

/* Reads the reply and returns its result (new reference) or NULL with err. */
static json_t *parse_reply(const char *url, const char *body, size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *result = NULL;
    json_t *reply = json_loadb(body, len, 0, &jerr);
    if (!reply || !json_is_object(reply)) {
        snprintf(err, errlen, "malformed reply from %s: %s", url,
                 reply ? "not a JSON object" : jerr.text);
        goto out;
    }
    json_t *ok = json_object_get(reply, "ok");
    if (!json_is_true(ok)) {
        const char *msg = json_string_value(json_object_get(reply, "error"));
        snprintf(err, errlen, "%s", msg ? msg : "the server refused without saying why");
        goto out;
    }
    result = json_object_get(reply, "result");
    result = result ? json_incref(result) : json_null();

out:
    json_decref(reply);
    return result;
}

const char *st_json_kind(const json_t *v)
{
    if (!v)
        return "nothing";
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

int st_mgmt_check_args(const char *cmd, const char *const *names, const char *synopsis,
                       const json_t *args, char *err, size_t errlen)
{
    if (args && !json_is_object(args)) {
        snprintf(err, errlen, "%s: \"args\" must be an object, got %s", cmd, st_json_kind(args));
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)args, key, v)
    {
        bool known = false;
        for (const char *const *n = names; *n && !known; n++)
            known = strcmp(*n, key) == 0;
        if (!known) {
            snprintf(err, errlen, "%s: unknown argument \"%s\" (takes %s)", cmd, key,
                     names[0] ? synopsis : "none");
            return -1;
        }
    }
    return 0;
}

json_t *st_mgmt_call(const char *url, const char *token, const char *cmd, json_t *args,
                     int timeout_ms, char *err, size_t errlen)
{
    char who[ST_MGMT_WHO_MAX + 1], buf[1024];
    struct passwd pw, *found = NULL;
    if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &found) == 0 && found)
        snprintf(who, sizeof who, "unix:%s", found->pw_name);
    else
        snprintf(who, sizeof who, "unix:uid %u", (unsigned)getuid());
    return st_mgmt_call_as(url, token, who, cmd, args, timeout_ms, err, errlen);
}

json_t *st_mgmt_call_as(const char *url, const char *token, const char *who, const char *cmd,
                        json_t *args, int timeout_ms, char *err, size_t errlen)
{
    json_t *req = NULL, *result = NULL;
    char *text = NULL;
    void *msg = NULL;
    int sock = -1, n;
    int max_size = -1;
    /* REQ resends an unanswered request after this interval; a resent topics.create
     * would run twice, so make it longer than we are willing to wait. */
    int resend_ms = timeout_ms > 0 && timeout_ms < INT32_MAX / 2 ? timeout_ms * 2 : INT32_MAX;

    req = json_pack("{s:s, s:s, s:o}", "token", token ? token : "", "cmd", cmd, "args",
                    args ? json_incref(args) : json_object());
    if (req && who && *who)
        json_object_set_new(req, "who", json_stringn(who, strnlen(who, ST_MGMT_WHO_MAX)));
    text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    if (!text) {
        snprintf(err, errlen, "cannot encode the request for \"%s\" (out of memory?)", cmd);
        goto out;
    }
    sock = nn_socket(AF_SP, NN_REQ);
    if (sock < 0) {
        snprintf(err, errlen, "cannot create a socket: %s", nn_strerror(nn_errno()));
        goto out;
    }
    nn_setsockopt(sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &max_size, sizeof(max_size));
    nn_setsockopt(sock, NN_REQ, NN_REQ_RESEND_IVL, &resend_ms, sizeof(resend_ms));
    nn_setsockopt(sock, NN_SOL_SOCKET, NN_SNDTIMEO, &timeout_ms, sizeof(timeout_ms));
    if (nn_connect(sock, url) < 0) {
        snprintf(err, errlen,
                 "bad management url \"%s\": %s (expected tcp://host:port or ipc:///path)", url,
                 nn_strerror(nn_errno()));
        goto out;
    }
    if (nn_send(sock, text, strlen(text), 0) < 0) {
        int e = nn_errno();
        if (e == ETIMEDOUT)
            snprintf(err, errlen, "no answer from %s within %d ms: is straitd running?", url,
                     timeout_ms);
        else
            snprintf(err, errlen, "cannot send to %s: %s", url, nn_strerror(e));
        goto out;
    }
    int64_t deadline = st_mono_ms() + timeout_ms;
    for (;;) {
        int left = (int)(deadline - st_mono_ms());
        if (left < 1)
            left = 1;
        nn_setsockopt(sock, NN_SOL_SOCKET, NN_RCVTIMEO, &left, sizeof(left));
        n = nn_recv(sock, &msg, NN_MSG, 0);
        if (n >= 0 || nn_errno() != EINTR || st_mono_ms() >= deadline)
            break;
    }
    if (n < 0) {
        int e = nn_errno();
        if (e == ETIMEDOUT || e == EINTR)
            snprintf(err, errlen, "no answer from %s within %d ms: is straitd running?", url,
                     timeout_ms);
        else
            snprintf(err, errlen, "cannot receive from %s: %s", url, nn_strerror(e));
        goto out;
    }
    result = parse_reply(url, msg, (size_t)n, err, errlen);

out:
    if (msg)
        nn_freemsg(msg);
    if (sock >= 0)
        nn_close(sock);
    free(text);
    json_decref(req);
    return result;
}
