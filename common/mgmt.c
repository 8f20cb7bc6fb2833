/*
 * The management bus over nanomsg REQ/REP; see mgmt.h for the wire format.
 *
 * The server is a REP socket polled by the owner's event loop: nanomsg's own threads
 * do the I/O, and st_mgmt_server_process drains the socket with NN_DONTWAIT so the
 * handler always runs on the owner's thread. A REP socket answers one request at a
 * time, which is exactly what a drain loop of recv → handle → send does.
 */
#include "common/mgmt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>

#include "common/clock.h"
#include "common/logging.h"

struct st_mgmt_server {
    int sock;
    int rcvfd;
    char *url;
    char *token;
    size_t token_len;
    st_mgmt_handler *handler;
    void *ctx;
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

st_mgmt_server *st_mgmt_server_open(const char *url, const char *token, st_mgmt_handler *h,
                                    void *ctx, char *err, size_t errlen)
{
    st_mgmt_server *s = NULL;
    size_t fdlen = sizeof(int);

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
    s->url = strdup(url);
    s->token = strdup(token);
    if (!s->url || !s->token) {
        snprintf(err, errlen, "management endpoint %s: out of memory", url);
        goto fail;
    }
    s->token_len = strlen(token);
    s->handler = h;
    s->ctx = ctx;

    s->sock = nn_socket(AF_SP, NN_REP);
    if (s->sock < 0) {
        snprintf(err, errlen, "management endpoint %s: cannot create socket: %s", url,
                 nn_strerror(nn_errno()));
        goto fail;
    }
    if (nn_bind(s->sock, url) < 0) {
        int e = nn_errno();
        snprintf(err, errlen, "cannot bind management endpoint %s: %s%s", url, nn_strerror(e),
                 e == EINVAL || e == ENODEV
                     ? " (expected tcp://<ip address>:<port> or ipc:///<path>)"
                     : "");
        goto fail;
    }
    if (nn_getsockopt(s->sock, NN_SOL_SOCKET, NN_RCVFD, &s->rcvfd, &fdlen) < 0) {
        snprintf(err, errlen, "management endpoint %s: cannot get its receive fd: %s", url,
                 nn_strerror(nn_errno()));
        goto fail;
    }
    if (!url_is_local(url))
        st_warn("management endpoint %s is not bound to loopback: anyone who can reach it "
                "and knows the token can administer this daemon",
                url);
    st_info("management endpoint listening on %s", url);
    return s;

fail:
    st_mgmt_server_close(s);
    return NULL;
}

int st_mgmt_server_fd(const st_mgmt_server *s)
{
    return s->rcvfd;
}

static json_t *error_reply(const char *msg)
{
    return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

/* Builds the reply for one request body. Returns a new reference (never NULL unless
 * memory ran out). */
static json_t *answer(st_mgmt_server *s, const char *body, size_t len)
{
    char err[1024] = "";
    json_error_t jerr;
    json_t *req = NULL, *reply = NULL, *result = NULL, *args = NULL;
    const char *cmd;

    req = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!req) {
        snprintf(err, sizeof(err),
                 "malformed request: %s (line %d, column %d); expected "
                 "{\"token\":\"...\",\"cmd\":\"...\",\"args\":{...}}",
                 jerr.text, jerr.line, jerr.column);
        reply = error_reply(err);
        goto out;
    }
    json_t *jtoken = json_object_get(req, "token");
    json_t *jcmd = json_object_get(req, "cmd");
    if (!json_is_object(req) || !json_is_string(jcmd)) {
        reply = error_reply("malformed request: expected an object with a string \"cmd\", "
                            "e.g. {\"token\":\"...\",\"cmd\":\"status\",\"args\":{}}");
        goto out;
    }
    cmd = json_string_value(jcmd);
    if (!json_is_string(jtoken) ||
        !token_equal(s->token, s->token_len, json_string_value(jtoken))) {
        st_warn("management endpoint %s: refused \"%.64s\": %s token", s->url, cmd,
                json_is_string(jtoken) ? "wrong" : "missing");
        reply = error_reply(ST_MGMT_BAD_TOKEN);
        goto out;
    }
    args = json_object_get(req, "args");
    if (args && !json_is_object(args) && !json_is_null(args)) {
        reply = error_reply("malformed request: \"args\" must be an object");
        goto out;
    }
    if (args && json_is_object(args))
        json_incref(args);
    else
        args = json_object();
    if (!args) {
        reply = error_reply("out of memory");
        goto out;
    }
    if (s->handler(s->ctx, cmd, args, &result, err, sizeof(err)) != 0) {
        st_debug("management command \"%s\" failed: %s", cmd, err);
        json_decref(result);
        reply = error_reply(*err ? err : "command failed without saying why");
        goto out;
    }
    reply = json_pack("{s:b, s:o}", "ok", 1, "result", result ? result : json_null());

out:
    json_decref(args);
    json_decref(req);
    return reply;
}

void st_mgmt_server_process(st_mgmt_server *s)
{
    for (;;) {
        void *msg = NULL;
        int n = nn_recv(s->sock, &msg, NN_MSG, NN_DONTWAIT);
        if (n < 0) {
            int e = nn_errno();
            if (e != EAGAIN && e != EINTR)
                st_warn("management endpoint %s: receive failed: %s", s->url, nn_strerror(e));
            return;
        }
        json_t *reply = answer(s, msg, (size_t)n);
        nn_freemsg(msg);
        char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
        json_decref(reply);
        if (!text) /* a result jansson cannot encode, or no memory: still answer */
            text = strdup("{\"ok\":false,\"error\":\"the reply could not be encoded\"}");
        /* REP must answer before the next recv; the peer may have gone, which is fine. */
        if (!text || nn_send(s->sock, text, strlen(text), NN_DONTWAIT) < 0)
            st_warn("management endpoint %s: could not send a reply: %s", s->url,
                    text ? nn_strerror(nn_errno()) : "out of memory");
        free(text);
    }
}

void st_mgmt_server_close(st_mgmt_server *s)
{
    if (!s)
        return;
    if (s->sock >= 0)
        nn_close(s->sock);
    free(s->url);
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
