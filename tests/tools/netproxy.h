/*
 * netproxy's internals, shared by netproxy.c (the data path and main) and
 * netproxy_control.c (the control socket and its commands). See netproxy.c.
 */
#ifndef ST_NETPROXY_H
#define ST_NETPROXY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#define READ_CHUNK     65536
#define CHUNK_OVERHEAD 64 /* what a queued chunk costs beyond its bytes, for the bound */
#define MAX_EVENTS     64
#define CONTROL_LINE   256

/* What an epoll registration points at. */
typedef enum ep_kind { EP_LISTEN, EP_SIGNAL, EP_CONTROL_LISTEN, EP_CONTROL, EP_SIDE } ep_kind;

typedef struct endpoint {
    ep_kind kind;
    int fd;
    uint32_t events;         /* what is registered now */
    bool registered;         /* in the epoll set (a side waiting for nothing is not) */
    struct conn *conn;       /* EP_SIDE */
    int side;                /* EP_SIDE: 0 client, 1 target */
    char line[CONTROL_LINE]; /* EP_CONTROL: a partial command line */
    size_t line_len;
    struct endpoint *next_cc; /* EP_CONTROL: the list of control clients */
    bool is_fifo;             /* EP_CONTROL: the FIFO, which gets no answers */
} endpoint;

typedef struct chunk {
    struct chunk *next;
    int64_t due_ms; /* may not be written before this time: arrival + delay */
    size_t len, off;
    uint8_t data[];
} chunk;

/* One direction: bytes read from side `from` are queued to be written to the other. */
typedef struct direction {
    chunk *head, *tail;
    size_t queued; /* bytes + CHUNK_OVERHEAD per chunk */
    bool eof;      /* the source side sent FIN */
    bool shut;     /* FIN passed on to the destination */
    bool blocked;  /* the destination's socket buffer is full: wait for EPOLLOUT */
    double tokens; /* token bucket for the rate */
    int64_t refill_ms;
    uint64_t delivered;
} direction;

/* Following one direction's Kafka frames (netproxy_kafka.c). */
#define KAFKA_CORR_RING 256
typedef struct kstream {
    uint8_t head[16];                      /* the first bytes of the current frame */
    size_t pos;                            /* position in the current frame (from its size field) */
    int32_t size;                          /* the frame's size field, once read */
    bool broken;                           /* not Kafka framing: no longer followed */
    bool faulting;                         /* this response's error code is being rewritten */
    size_t err_at;                         /* where that error code is in the frame */
    int32_t produce_corr[KAFKA_CORR_RING]; /* requests: correlation ids of Produce */
    size_t nproduce;
} kstream;

typedef struct conn {
    struct conn *prev, *next;
    endpoint side[2]; /* 0: the client that connected to us, 1: our connection to the target */
    direction dir[2]; /* dir[0]: client → target, dir[1]: target → client */
    bool connecting;  /* side 1's non-blocking connect is in progress */
    bool dead;
    kstream kafka[2]; /* [0]: requests (client → target), [1]: responses */
} conn;

typedef struct proxy {
    int epfd;
    struct sockaddr_in listen_addr; /* the port is filled in once bound */
    struct sockaddr_storage target;
    socklen_t target_len;
    endpoint listener; /* fd -1 while cut */
    endpoint signals;
    endpoint control_listener; /* unix socket, or the FIFO itself (kind EP_CONTROL) */
    endpoint *control_clients;
    char control_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    bool control_is_socket;
    int64_t delay_ms;
    int64_t rate; /* bytes per second per direction, 0 unlimited */
    size_t buffer_bytes;
    conn *conns;
    int nconns;
    uint64_t accepted;
    uint64_t delivered[2];
    bool blackhole;    /* nothing is forwarded, nothing is closed (see netproxy.c) */
    int fail_code;     /* fail-produce: the error code to put in Produce responses */
    int64_t fail_left; /* how many more responses get it */
    bool stopping;
} proxy;

void __attribute__((noreturn, format(printf, 1, 2))) np_die(const char *fmt, ...);
/* Registers e's fd with epoll for events (e is borrowed and must outlive the fd). */
void np_ep_add(proxy *p, endpoint *e, uint32_t events);
/* (Re)opens the listener on p->listen_addr; -1 with err on failure. */
int np_listen(proxy *p, char *err, size_t errlen);
/* Closes every connection; returns how many. */
int np_kill_all(proxy *p);
/* Where new connections go ("HOST:PORT"); -1 with err if it does not resolve. */
int np_resolve_target(proxy *p, const char *arg, char *err, size_t errlen);
/* A non-negative integer, or false. */
bool np_parse_count(const char *s, int64_t *v);

/* netproxy_kafka.c: follows the Kafka frames of data read from side `from` (already
 * queued, not yet sent) and rewrites what fail-produce asks for, in place. */
void np_kafka_scan(proxy *p, conn *c, int from, uint8_t *data, size_t len);

/* netproxy_control.c */
void np_control_open(proxy *p, const char *path);
void np_on_control(proxy *p, endpoint *cc);
void np_on_control_accept(proxy *p);
void np_control_close_all(proxy *p);
int np_send_command(const char *path, const char *cmd);

#endif
