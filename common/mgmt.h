/*
 * The management bus: JSON commands over nanomsg REQ/REP.
 *
 * A daemon (straitd, strait-mirror) opens one st_mgmt_server on its management url
 * (tcp://127.0.0.1:9192 by default, or ipc:///path) and watches st_mgmt_server_fd in
 * its event loop; when the fd is readable it calls st_mgmt_server_process, which
 * answers every waiting request through the daemon's handler. The `strait` tool and
 * the console call st_mgmt_call.
 *
 * Wire format (one nanomsg message each way, UTF-8 JSON):
 *
 *   request  {"token":"<shared secret>","cmd":"topics.create","args":{...}}
 *   reply    {"ok":true,"result":<any JSON>}
 *            {"ok":false,"error":"<what was wrong, for a human>"}
 *
 * "args" may be omitted (the handler gets an empty object). Every request must carry
 * the token the server was opened with; a wrong one is refused (and logged) before the
 * handler sees anything. The bus is an admin interface: bind it to loopback. A tcp url
 * whose host is not loopback is bound as configured but logged as a warning.
 */
#ifndef ST_MGMT_H
#define ST_MGMT_H

#include <stddef.h>

#include <jansson.h>

typedef struct st_mgmt_server st_mgmt_server;

/*
 * Runs one command. Borrows cmd and args (args is always an object). Returns 0 with
 * *result set to a new reference (the server takes it; NULL is answered as JSON null),
 * or -1 with err holding a message for the caller (sent back verbatim).
 */
typedef int st_mgmt_handler(void *ctx, const char *cmd, json_t *args, json_t **result, char *err,
                            size_t errlen);

/* The error a request with a wrong token gets (the client prints it as is). */
#define ST_MGMT_BAD_TOKEN                                                                          \
    "bad token: pass --token or set STRAIT_TOKEN (the broker writes it to "                        \
    "<data_dir>/meta/mgmt.token)"

/*
 * Binds an NN_REP socket to url. Borrows url and token (both copied; token must not be
 * empty), and ctx (passed to h, must outlive the server). Returns a new server or NULL
 * with err naming the url and the reason.
 */
st_mgmt_server *st_mgmt_server_open(const char *url, const char *token, st_mgmt_handler *h,
                                    void *ctx, char *err, size_t errlen);

/* NN_RCVFD: a file descriptor that polls readable while a request waits. Owned by the
 * server; do not read or close it, only poll it. */
int st_mgmt_server_fd(const st_mgmt_server *s);

/* Answers every waiting request (calling the handler on this thread), then returns.
 * Never blocks. Call it from the thread that owns whatever the handler touches. */
void st_mgmt_server_process(st_mgmt_server *s);

/* Closes the socket and frees. NULL is ignored. */
void st_mgmt_server_close(st_mgmt_server *s);

/*
 * Sends one command and waits up to timeout_ms for the answer. Borrows every argument
 * (args may be NULL: sent as {}). Returns the reply's result as a new reference, or
 * NULL with err holding either the server's error text verbatim or what went wrong on
 * the way, e.g. "no answer from tcp://127.0.0.1:9192 within 5000 ms: is straitd
 * running?". Blocking; safe from any thread (each call has its own socket).
 */
json_t *st_mgmt_call(const char *url, const char *token, const char *cmd, json_t *args,
                     int timeout_ms, char *err, size_t errlen);

/* ---- for the daemons' command tables (straitd's admin.c, strait-mirror's admin.c) ---- */

/* "an object", "a string", "an integer", ..., "null", or "nothing" for NULL: for messages
 * like "\"flow\" must be a string, got an integer". Static. */
const char *st_json_kind(const json_t *v);

/*
 * Checks a command's arguments: `args` must be an object (NULL reads as {}) and name only
 * keys in `names` (NULL-terminated), so a typo is an error rather than a silently ignored
 * default. 0, or -1 with err such as "pause: unknown argument \"flwo\" (takes {flow})"
 * (`synopsis` is the command's argument list as help shows it).
 */
int st_mgmt_check_args(const char *cmd, const char *const *names, const char *synopsis,
                       const json_t *args, char *err, size_t errlen);

#endif
