/*
 * Listeners and client connections speaking Kafka framing: a 4-byte big-endian size,
 * then that many bytes.
 *
 * Each connection reads frames and hands them to on_request one at a time. When a
 * handler answers later (long-poll fetch, produce waiting for fsync) the connection
 * stops taking requests until that answer is sent, so responses leave in request order
 * without a reorder queue (Kafka's own broker mutes a channel the same way).
 *
 * Responses are a memory buffer with file ranges spliced in; file ranges go out with
 * sendfile(2), so fetched records never pass through user space.
 *
 * Against hostile or simply numerous peers (docs/security.md, "Hostile clients"), the
 * layer enforces st_server_limits: caps on connections (in all, and per peer address)
 * applied right after accept, an idle timeout, a deadline to authenticate on SASL
 * listeners, a small frame limit until then, request buffers that grow as bytes arrive
 * within a broker-wide budget, and a bound on the work done for one connection per
 * loop turn.
 *
 * Everything here runs on the loop thread.
 */
#ifndef ST_CONN_H
#define ST_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "broker/net/iplimit.h"
#include "broker/net/loop.h"
#include "broker/net/tls.h"
#include "common/buf.h"
#include "common/fileref.h"

typedef struct st_server st_server;
typedef struct st_conn st_conn;
typedef struct st_resp st_resp;

/* What on_request returns. */
enum {
    ST_CONN_NEXT = 0,   /* done with this frame (answered, or no answer is due) */
    ST_CONN_WAIT = 1,   /* the answer comes later via st_conn_send: hold further frames */
    ST_CONN_CLOSE = -1, /* close the connection (the callee logged why) */
};

typedef struct st_server_callbacks {
    /* A whole frame, without its size prefix. Takes ownership of `frame` (free()). */
    int (*on_request)(void *ctx, st_conn *c, uint8_t *frame, size_t len);
    /* The connection is about to be freed (peer closed, error, or st_conn_close).
     * Whoever still points at it must forget it now. */
    void (*on_close)(void *ctx, st_conn *c);
} st_server_callbacks;

/* What the connection layer allows peers. "No limit" is SIZE_MAX / UINT32_MAX / 0 ms as
 * noted; st_server_limits_init sets every field to it (and max_request_bytes to 100 MiB). */
typedef struct st_server_limits {
    /* socket.request.max.bytes: a larger frame closes the connection with a log line. */
    size_t max_request_bytes;
    /* sasl.server.max.receive.size: the same, before authentication. */
    size_t max_unauth_request_bytes;
    /* queued.max.request.bytes: bytes held in partly read large frames, broker-wide;
     * past it, connections that need more wait (not reading) until some is freed.
     * Connections not yet authenticated may hold a quarter of it at most. SIZE_MAX: no
     * budget. */
    size_t queued_max_request_bytes;
    /* connections.max.idle.ms: close a connection after this long without a byte read
     * or written (one waiting for our answer is not idle). 0: never. */
    int64_t idle_ms;
    /* Close a connection of an authenticating listener that has not authenticated (TLS
     * handshake and SASL exchange) this long after accept. 0: never. */
    int64_t auth_timeout_ms;
    /* max.connections: connections past it are closed right after accept. */
    uint32_t max_connections;
    /* max.connections.per.ip, with per-address exceptions (borrowed by st_server_new,
     * which copies them). */
    uint32_t max_connections_per_ip;
    const st_ip_limit *ip_overrides;
    size_t nip_overrides;
} st_server_limits;

void st_server_limits_init(st_server_limits *lim);

/* Counters of the connection layer (status, tests). */
typedef struct st_server_stats {
    uint64_t accepted;
    uint64_t refused_max_connections; /* closed at accept: max.connections */
    uint64_t refused_per_ip;          /* closed at accept: max.connections.per.ip */
    uint64_t shed_no_fds;             /* accepted with the reserve fd and closed (EMFILE) */
    uint64_t closed_idle;             /* connections.max.idle.ms */
    uint64_t closed_auth_timeout;     /* not authenticated in time */
    uint64_t closed_unauth_frame;     /* frame over the limit before authentication */
    uint64_t budget_waits;            /* times a connection paused for the budget */
    size_t queued_bytes;              /* now: bytes of partly read large frames */
    size_t queued_unauth_bytes;       /* now: the part of it held before authentication */
    size_t budget_waiting;            /* now: connections paused for the budget */
    size_t read_buffers;              /* now: connections holding a small read buffer */
} st_server_stats;

/* Borrows loop and cb (copied); copies limits. */
st_server *st_server_new(st_loop *loop, const st_server_callbacks *cb, void *ctx,
                         const st_server_limits *limits);
void st_server_get_stats(const st_server *s, st_server_stats *out);
/* Listens on host:port (port 0 picks one; see st_server_port). May be called more than
 * once for several listeners. Returns 0 or -1 with err set. */
int st_server_listen(st_server *s, const char *host, int port, char *err, size_t errlen);
/* Like st_server_listen, for a listener whose connections carry `tag` (the layer above's
 * meaning: the security protocol) and, with tls non-NULL (borrowed: it must outlive the
 * server), speak TLS. With `authenticate`, connections start unauthenticated: small
 * frames only and a deadline, until st_conn_set_authenticated. */
int st_server_listen_ex(st_server *s, const char *host, int port, int tag, st_tls_ctx *tls,
                        bool authenticate, char *err, size_t errlen);
/* The port of the first listener. */
int st_server_port(const st_server *s);
/* The bound port of the i-th listener, or -1 past the end. */
int st_server_listener_port(const st_server *s, size_t i);
size_t st_server_conn_count(const st_server *s);
/* Closes listeners and every connection (on_close is called for each), frees. */
void st_server_free(st_server *s);

/* A response: the buffer starts with the frame size (patched on send) and the
 * correlation id; `flexible_header` adds the empty tagged-field block of response
 * header v1. Returns a new response; st_conn_send takes it. */
st_resp *st_resp_new(int32_t correlation_id, bool flexible_header);
/* The body buffer to append to (valid until the response is sent or freed). */
st_buf *st_resp_buf(st_resp *r);
/* Appends len bytes of f at pos, after whatever the buffer holds now; the response
 * takes its own reference. */
void st_resp_add_file(st_resp *r, st_fileref *f, int64_t pos, size_t len);
/* Total bytes after the size prefix so far. */
size_t st_resp_size(const st_resp *r);
void st_resp_free(st_resp *r);

/* Queues r (takes ownership) and, if the connection was holding frames (ST_CONN_WAIT),
 * resumes reading. */
void st_conn_send(st_conn *c, st_resp *r);
/* Resumes a held connection without sending anything (e.g. acks=0 after a wait). */
void st_conn_resume(st_conn *c);
/* Closes now; on_close runs before it returns. The reason is logged with the peer. */
void st_conn_close(st_conn *c, const char *reason);
/* Reads no further requests and closes once every queued response is sent (an error
 * answer that must reach the client before the close, e.g. a failed authentication).
 * `reason` is copied and logged at the close. */
void st_conn_close_after_send(st_conn *c, const char *reason);
/* Reads no further requests for ms (a quota throttle, KIP-219): answers already queued
 * still go out. A longer mute in progress is kept. */
void st_conn_mute(st_conn *c, int64_t ms);
/* st_conn_send, then st_conn_close_after_send: the answer is the last thing sent. */
void st_conn_send_and_close(st_conn *c, st_resp *r, const char *reason);
/* The peer has authenticated (the SASL exchange succeeded): frames up to
 * max_request_bytes from now on, and the authentication deadline is off. */
void st_conn_set_authenticated(st_conn *c);
bool st_conn_authenticated(const st_conn *c);
/* The tag and bound port of the listener the connection came in on. */
int st_conn_listener_tag(const st_conn *c);
int st_conn_listener_port(const st_conn *c);
/* "127.0.0.1:51234", static per connection. */
const char *st_conn_peer(const st_conn *c);
uint64_t st_conn_id(const st_conn *c);
/* One opaque pointer for the layer above (per-connection state). */
void *st_conn_get_data(const st_conn *c);
void st_conn_set_data(st_conn *c, void *data);

#endif
