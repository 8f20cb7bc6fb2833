/*
 * Internals of the connection layer shared by its files: conn.c (connections, framing,
 * responses), conn_tls.c (reading and writing through TLS) and listen.c (listeners and
 * accepting). Nothing outside broker/net includes this; the contract is conn.h.
 */
#ifndef ST_CONN_INT_H
#define ST_CONN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "broker/net/conn.h"
#include "common/logging.h"

/* The small read buffer. Frames under LARGE_FRAME are parsed out of it; keeping
 * LARGE_FRAME at half its size means a partial small frame left at the end of a read
 * needs at most a short memmove and always leaves room for the rest. */
#define RBUF_SIZE   (16 * 1024)
#define LARGE_FRAME (RBUF_SIZE / 2)
/* Responses start with this much room: a Produce answer for 16 partitions is ~700 bytes,
 * so starting at st_buf's default 256 meant two reallocs on every request. */
#define RESP_INITIAL       1024
#define LISTEN_BACKLOG     1024
#define MAX_IOV            64
#define SENDFILE_MAX       0x7ffff000 /* Linux transfers at most this much per call */
#define ACCEPT_RETRY_MS    100        /* pause after EMFILE so we do not spin on the listener */
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
    st_tls_ctx *tls; /* borrowed; NULL: plaintext */
} listener;

struct st_server {
    st_loop *loop;
    st_server_callbacks cb;
    void *ctx;
    size_t max_request_bytes;
    listener **listeners;
    size_t nlisteners;
    st_conn *conns; /* doubly linked, newest first */
    size_t nconns;
    uint64_t next_id;
};

struct st_conn {
    st_server *s;
    st_conn *prev, *next;
    int fd;
    uint64_t id;
    char peer[64];
    void *data;

    uint8_t *rbuf; /* RBUF_SIZE or NULL before the first read; unconsumed: [rstart, rend) */
    size_t rstart;
    size_t rend;
    /* The large frame being read (NULL if none): body bytes [0, big_have) of big_len are
     * in. Handed to on_request, which takes it, once whole. */
    uint8_t *big;
    size_t big_len;
    size_t big_have;

    st_resp *out_head, *out_tail;
    uint32_t watched; /* epoll interest currently registered */
    bool held;        /* on_request said ST_CONN_WAIT; no answer yet */
    bool resumed;     /* st_conn_send/resume ran during the current on_request */
    bool closed;
    int depth; /* nesting of conn_enter: free only at 0 */
    st_timer resume_timer;
    int tag;            /* of the listener */
    int lport;          /* the listener's port */
    st_tls *tls;        /* NULL: plaintext */
    int tls_read_want;  /* a TLS read waits for this (handshake may need to write) */
    int tls_write_want; /* a TLS write waits for this */
    char *close_reason; /* st_conn_close_after_send: close when the queue is empty */
    bool muted;         /* st_conn_mute: no requests read until mute_timer fires */
    st_timer mute_timer;
};

/* realloc that aborts with a message when out of memory (as st_buf). */
void *st_conn__xalloc(void *p, size_t n);
/* Accepts fd from listener l: a new connection, watched for reading. */
void st_conn__new(listener *l, int fd, const struct sockaddr *peer);
/* Logs `reason` (when not NULL) at `level`, then closes as conn.h describes. */
void st_conn__close_at(st_conn *c, enum st_log_level level, const char *reason);

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
