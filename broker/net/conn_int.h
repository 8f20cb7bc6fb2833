/*
 * Internals of the connection layer shared by its files: conn.c (connections, responses,
 * writing), conn_read.c (reading, framing, the per-turn caps and the budget for partly
 * read requests), conn_tls.c (reading and writing through TLS) and listen.c (listeners,
 * accepting and the connection caps). Nothing outside broker/net includes this; the
 * contract is conn.h.
 */
#ifndef ST_CONN_INT_H
#define ST_CONN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "broker/net/conn.h"
#include "broker/net/iplimit.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/ratelog.h"

/* The small read buffer. Frames under LARGE_FRAME are parsed out of it; keeping
 * LARGE_FRAME at half its size means a partial small frame left at the end of a read
 * needs at most a short memmove and always leaves room for the rest. */
#define RBUF_SIZE   (16 * 1024)
#define LARGE_FRAME (RBUF_SIZE / 2)
/* Responses start with this much room: a Produce answer for 16 partitions is ~700 bytes,
 * so starting at st_buf's default 256 meant two reallocs on every request. */
#define RESP_INITIAL    1024
#define LISTEN_BACKLOG  1024
#define MAX_IOV         64
#define SENDFILE_MAX    0x7ffff000 /* Linux transfers at most this much per call */
#define ACCEPT_RETRY_MS 100        /* pause after ENOMEM etc. so we do not spin on the listener */
/* Fair service (one loop serves every connection; conn_read.c has the whole story).
 * Per connection and loop turn: one read of at most READ_PER_TURN bytes and at most
 * REQUESTS_PER_TURN frames handed over. Per server and turn: at most
 * LARGE_READ_BYTES_PER_TURN read into large frames, and large frames (LARGE_FRAME or
 * more: Produce, mostly) handed over only while the turn has spent less than
 * HANDLER_US_PER_TURN in on_request; the first large frame of a turn always goes, so they
 * always progress, and one that misses its turn goes first in the next. Time is measured
 * rather than guessed from sizes, so the bound holds on a slow disk or a sanitizer build
 * alike. Small frames are never deferred: a Metadata request waits about one short turn,
 * not for every producer's backlog. */
#define READ_PER_TURN             (256 * 1024)
#define REQUESTS_PER_TURN         4
#define LARGE_READ_BYTES_PER_TURN (1024 * 1024)
#define HANDLER_US_PER_TURN       1000
/* Accepts per listener per turn: a connect storm cannot hold the loop either. */
#define ACCEPTS_PER_TURN 64
/* A large frame's buffer starts at this (or what already arrived, if more) and grows
 * fourfold as bytes arrive, never past the announced size: a peer announcing 100 MB
 * gets 64 KiB until it sends more. */
#define BIG_FIRST  (64 * 1024)
#define BIG_GROWTH 4
/* Connections that have not authenticated may hold at most this fraction (1/N) of the
 * budget for partly read requests: peers that never log in must not be able to fill it
 * and so pause every logged-in producer (Kafka does not charge them to its memory pool
 * at all). */
#define UNAUTH_BUDGET_DIVISOR 4
/* How often a rate-limited line of the connection layer may repeat. */
#define NET_LOG_INTERVAL_MS 10000
/* A line a peer could repeat without end (refused connections, accept errors, deadlines):
 * at most one per NET_LOG_INTERVAL_MS through `rl` (an st_ratelog), saying how many were
 * held back since the last one. */
#define net_log(rl, level, fmt, ...)                                                               \
    do {                                                                                           \
        uint64_t held_;                                                                            \
        if (st_logging_enabled(level) && st_ratelog_allow((rl), st_mono_ms(), &held_)) {           \
            if (held_)                                                                             \
                st_logging_write((level), __FILE__, __LINE__,                                      \
                                 fmt " (%llu more like it since the last such line)", __VA_ARGS__, \
                                 (unsigned long long)held_);                                       \
            else                                                                                   \
                st_logging_write((level), __FILE__, __LINE__, fmt, __VA_ARGS__);                   \
        }                                                                                          \
    } while (0)
#define CONTAINER(p, T, m) ((T *)((char *)(p)-offsetof(T, m)))
#define TLS_CHUNK          16384 /* one TLS record's worth of a file range per write */

typedef struct file_part {
    size_t at; /* buffer position the range is spliced before */
    st_fileref *f;
    int64_t pos;
    size_t len;
} file_part;

struct st_resp {
    st_resp *next;
    st_buf buf;
    file_part *parts; /* in buffer order */
    size_t nparts;
    size_t parts_cap;
    size_t file_bytes;
    /* Send cursor: bytes of buf sent; the part next to send; bytes of it sent. We are
     * inside parts[part] exactly when mem_off == parts[part].at. */
    size_t mem_off;
    size_t part;
    size_t file_off;
};

typedef struct listener {
    st_server *s;
    int fd;
    int port;
    char addr[80]; /* "127.0.0.1:9092", for messages */
    bool watched;
    st_timer retry; /* re-watch after running out of fds */
    int tag;
    st_tls_ctx *tls;   /* borrowed; NULL: plaintext */
    bool authenticate; /* connections start unauthenticated (SASL listeners) */
} listener;

/* The connections of one class sharing the budget for partly read requests: the
 * authenticated ones, and those that have not authenticated yet (conn_read.c). Each class
 * has its own readers and waiters, so neither ever waits behind the other. */
typedef struct budget_class {
    size_t bytes; /* of large frame buffers held by its readers (part of queued_bytes) */
    size_t limit; /* what it may hold: the whole budget, or the unauthenticated share */
    st_conn *readers_head, *readers_tail; /* reading a large frame, oldest first */
    st_conn *waiters_head, *waiters_tail; /* paused until there is room */
} budget_class;

enum { BUDGET_AUTHENTICATED, BUDGET_UNAUTHENTICATED, BUDGET_CLASSES };

/* Rate-limited log lines of the connection layer, one per kind. */
typedef struct net_log_limits {
    st_ratelog accept_error;
    st_ratelog refused;
    st_ratelog idle;
    st_ratelog auth_timeout;
    st_ratelog unauth_frame;
    st_ratelog budget;
} net_log_limits;

struct st_server {
    st_loop *loop;
    st_server_callbacks cb;
    void *ctx;
    st_server_limits lim; /* ip_overrides points at our own copy */
    st_ip_limit *overrides;
    listener **listeners;
    size_t nlisteners;
    st_conn *conns; /* doubly linked, newest first */
    size_t nconns;
    uint64_t next_id;
    st_ip_counts *per_ip; /* open connections per peer address */
    int reserve_fd;       /* held open to be given up for shedding on EMFILE; -1: none */

    /* The budget for partly read requests (queued.max.request.bytes): bytes of large
     * frame buffers allocated now, by both classes of connections. In each class,
     * connections reading a large frame are listed in the order they started it; the
     * oldest may always grow its buffer, so whatever the budget, some frame of the class
     * always completes and frees its share (no deadlock). Those that must wait are
     * queued first come, first served, within their class. */
    size_t queued_bytes;
    budget_class budget[BUDGET_CLASSES];

    /* The turn's share (HANDLER_US_PER_TURN, LARGE_READ_BYTES_PER_TURN), counted for loop
     * iteration `turn`; and connections whose whole large frame waits for a later turn,
     * first come first served, handed over by deferred_timer at the start of a turn. */
    uint64_t turn;
    int64_t turn_handler_us; /* time spent in on_request */
    unsigned turn_large;     /* large frames handed over */
    size_t turn_read_bytes;  /* bytes read into large frames */
    st_conn *deferred_head, *deferred_tail;
    st_timer deferred_timer;

    st_server_stats stats;
    net_log_limits logs;
    uint8_t *spare_rbuf; /* a small read buffer no connection holds (RBUF_SIZE), or NULL */
};

struct st_conn {
    st_server *s;
    st_conn *prev, *next;
    int fd;
    uint64_t id;
    char peer[64];
    void *data;

    uint8_t *rbuf; /* RBUF_SIZE, held only while it has unconsumed bytes [rstart, rend) */
    size_t rstart;
    size_t rend;
    /* The large frame being read (NULL if none): body bytes [0, big_have) of big_len are
     * in. Handed to on_request, which takes it, once whole. */
    uint8_t *big;
    size_t big_len;
    size_t big_have;
    size_t big_cap;     /* allocated (and charged to the budget): grows as bytes arrive */
    bool reading_big;   /* on its budget class's readers list */
    bool budget_unauth; /* charged to the unauthenticated class (set at the frame's start) */
    st_conn *rprev, *rnext;
    bool budget_wait;  /* on its class's waiters list: no reading until woken */
    bool budget_woken; /* woken, retrying: keeps its place at the front if it must wait */
    size_t budget_need;
    st_conn *wprev, *wnext;
    uint64_t turn;        /* loop iteration of the count below */
    unsigned turn_frames; /* frames handed over during that iteration */
    bool deferred;        /* a whole large frame waits for a turn's share (not reading) */
    bool turn_first;      /* being served by the deferred pass, first in line */
    st_conn *dprev, *dnext;

    st_resp *out_head, *out_tail;
    uint32_t watched; /* epoll interest currently registered */
    bool held;        /* on_request said ST_CONN_WAIT; no answer yet */
    bool resumed;     /* st_conn_send/resume ran during the current on_request */
    bool closed;
    int depth; /* nesting of st_conn__enter: free only at 0 */
    st_timer resume_timer;
    int tag;            /* of the listener */
    int lport;          /* the listener's port */
    st_tls *tls;        /* NULL: plaintext */
    int tls_read_want;  /* a TLS read waits for this (handshake may need to write) */
    int tls_write_want; /* a TLS write waits for this */
    char *close_reason; /* st_conn_close_after_send: close when the queue is empty */
    bool muted;         /* st_conn_mute: no requests read until mute_timer fires */
    st_timer mute_timer;
    bool authenticated;     /* st_conn_set_authenticated, or a listener without SASL */
    st_timer auth_timer;    /* limits.auth_timeout_ms after accept, while not authenticated */
    int64_t last_active_ms; /* loop clock of the last byte read or written */
    st_timer idle_timer;    /* limits.idle_ms: fires, and re-arms if there was activity */
    st_ip ip;               /* counted in the server's per_ip table */
};

/* realloc that aborts with a message when out of memory (as st_buf). */
void *st_conn__xalloc(void *p, size_t n);
/* Accepts fd from listener l, from address ip: a new connection, watched for reading. */
void st_conn__new(listener *l, int fd, const struct sockaddr *peer, const st_ip *ip);
/* Logs `reason` (when not NULL) at `level`, then closes as conn.h describes. */
void st_conn__close_at(st_conn *c, enum st_log_level level, const char *reason);
/* Enter/leave a callback scope (conn.c's header). */
void st_conn__enter(st_conn *c);
void st_conn__leave(st_conn *c);
/* Should the socket be read now (not held, muted, waiting for budget, ...)? */
bool st_conn__reading(const st_conn *c);

/* Reading (conn_read.c). One read of at most READ_PER_TURN bytes: 0, or -1 when the
 * connection was closed. */
/* Gives c's small read buffer back when nothing is left in it (to the server's spare, or
 * free), so that quiet connections hold none; conn_free calls it too. */
void st_conn__rbuf_release(st_conn *c);
int st_conn__read_some(st_conn *c);
/* How many bytes c may read into its large frame now (the per-connection and per-turn
 * caps); 0: not this turn. */
size_t st_conn__large_read_allowance(st_conn *c);
/* Counts n bytes read into a large frame against the turn. */
void st_conn__large_read_done(st_conn *c, size_t n);
/* Hands whole frames to on_request, at most REQUESTS_PER_TURN this turn (then the resume
 * timer continues next turn), and starts reading a large frame whose prefix is in. */
void st_conn__process_frames(st_conn *c);
/* Room in the large frame for the next read: true, or false when the buffer must grow
 * and the budget is full (the connection then waits, not reading, until woken). */
bool st_conn__big_room(st_conn *c);
/* Gives back what c holds of the budget and leaves the server's lists (close). */
void st_conn__budget_release(st_conn *c);
/* The server's deferred_timer: hands over deferred large frames, oldest first, while the
 * turn's share lasts. */
void st_conn__deferred_timer_cb(st_loop *loop, st_timer *t);

/* Send cursors (conn.c): the end of the memory run the head response's cursor is in; drop
 * fully sent responses; advance over n bytes of memory runs just written. */
size_t st_conn__mem_end(const st_resp *r);
void st_conn__pop_done(st_conn *c);
void st_conn__consume_memory(st_conn *c, size_t n);

/* TLS (conn_tls.c), with the returns of their plaintext counterparts in conn.c: 1 to go
 * on, 0 when the socket (or OpenSSL) would block, -1 when the connection was closed. */
int st_conn__tls_send_file_part(st_conn *c, st_resp *r);
int st_conn__tls_send_memory(st_conn *c);
/* 0, or -1 when the connection was closed. */
int st_conn__tls_read_some(st_conn *c);

#endif
