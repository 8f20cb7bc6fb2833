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
 *
 * A request may also name who sends it, "who":"<at most 128 bytes>" (st_mgmt_call_as);
 * the server keeps every command that is not read-only in a log of the last
 * ST_MGMT_LOG_CAP (who, what, when, result, passwords blanked), read with the built-in
 * command "mgmt.log" {since?}, so the console's audit view also lists what `strait` did.
 *
 * The survey endpoint (st_mgmt_server_survey) is a second socket of the same server, an
 * NN_RESPONDENT bound beside the NN_REP, for the console's NN_SURVEYOR: one scheme, two
 * sockets. Same token, same command table, but several commands per message and only
 * those the daemon lists as read-only (a survey is a broadcast without retry, meant for
 * status once a second):
 *
 *   survey  {"token":"...","who":"...","cmds":[{"cmd":"status","args":{...}}, ...]}
 *           (1 to ST_MGMT_SURVEY_MAX_CMDS commands)
 *   answer  {"ok":true,"boot":"<16 hex digits, new at each start>",
 *            "results":[{"ok":true,"result":<any>} | {"ok":false,"error":"..."}, ...]}
 *           {"ok":false,"error":"..."}   (wrong token, malformed survey)
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

/* Closes the sockets and frees. NULL is ignored. */
void st_mgmt_server_close(st_mgmt_server *s);

#define ST_MGMT_LOG_CAP         256 /* state-changing commands kept for "mgmt.log" */
#define ST_MGMT_SURVEY_MAX_CMDS 16
#define ST_MGMT_WHO_MAX         128

/*
 * Names the server's read-only commands (NULL-terminated; borrowed, must outlive the
 * server: a static table). They run in surveys and stay out of the command log; every
 * other command is logged. With url not NULL, also binds the survey endpoint (an
 * NN_RESPONDENT) there. 0, or -1 with err naming the url and the reason.
 */
int st_mgmt_server_survey(st_mgmt_server *s, const char *url, const char *const *readonly,
                          char *err, size_t errlen);

/* The survey socket's NN_RCVFD (poll it like st_mgmt_server_fd; st_mgmt_server_process
 * serves both), or -1 without a survey endpoint. */
int st_mgmt_server_survey_fd(const st_mgmt_server *s);

/*
 * The survey url a daemon binds when none is configured, from its management url:
 * ipc://PATH → ipc://PATH.survey, tcp://HOST:PORT → tcp://HOST:PORT+100 (so straitd's
 * 9192 gives 9292 and strait-mirror's 9193 gives 9293). 0, or -1 with err for a url of
 * another shape (then configure mgmt.survey_url).
 */
int st_mgmt_survey_url_default(const char *mgmt_url, char *out, size_t cap, char *err,
                               size_t errlen);

/*
 * Sends one command and waits up to timeout_ms for the answer. Borrows every argument
 * (args may be NULL: sent as {}). Returns the reply's result as a new reference, or
 * NULL with err holding either the server's error text verbatim or what went wrong on
 * the way, e.g. "no answer from tcp://127.0.0.1:9192 within 5000 ms: is straitd
 * running?". Blocking; safe from any thread (each call has its own socket).
 */
json_t *st_mgmt_call(const char *url, const char *token, const char *cmd, json_t *args,
                     int timeout_ms, char *err, size_t errlen);

/* st_mgmt_call naming who sends it (borrowed; at most ST_MGMT_WHO_MAX bytes), e.g.
 * "console:alice". st_mgmt_call sends "unix:<login name>". */
json_t *st_mgmt_call_as(const char *url, const char *token, const char *who, const char *cmd,
                        json_t *args, int timeout_ms, char *err, size_t errlen);

/* A copy of v with every "password" value blanked, at any depth (new reference; NULL
 * gives JSON null): what the command log and the console's audit log keep of args. */
json_t *st_mgmt_redact(json_t *v);

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
