/*
 * The shared fixture of the connection layer's unit tests (test_conn.c, test_conn_read.c):
 * a server on a loop running in its own thread, plain blocking clients with receive
 * timeouts, and probes that read server state on the loop thread. Nothing here can hang.
 *
 * The test protocol: a frame is [int32 correlation id][command byte][payload].
 *   'E' echo the payload         'F' "HEAD" + file range + "MID" + file range + "TAIL"
 *   'W' answer the payload after 100 ms from a timer (ST_CONN_WAIT)
 *   'T' a file range past the end of the file       'X' ST_CONN_CLOSE
 *   'A' mark the connection authenticated, then echo the payload
 */
#ifndef ST_TEST_CONN_FIXTURE_H
#define ST_TEST_CONN_FIXTURE_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "broker/net/conn.h"
#include "broker/net/loop.h"
#include "common/clock.h"
#include "common/logging.h"

#define MAX_REQUEST (1024 * 1024)
#define DEADLINE_MS 5000
#define FILE_BYTES  (3 * 1024 * 1024) /* more than a socket buffer: forces EAGAIN */
#define WAIT_MS     100

typedef struct server {
    st_loop *loop;
    st_server *srv;
    pthread_t thread;
    int port;
    st_fileref *file;

    /* loop thread only */
    st_timer wait_timer;
    st_conn *waiting;
    st_resp *waiting_resp;

    pthread_mutex_t mu; /* guards events */
    char events[256];   /* 'E','F','W','X' per request, 'S' when a held answer is sent */
    size_t nevents;
    int closes; /* atomic */
} server;

static inline void note(server *t, char ev)
{
    pthread_mutex_lock(&t->mu);
    if (t->nevents + 1 < sizeof t->events)
        t->events[t->nevents++] = ev;
    pthread_mutex_unlock(&t->mu);
}

/* A server with no limits but the frame size (the limits have tests of their own). */
static inline st_server *new_server(st_loop *loop, void *ctx);

static inline void wait_timer_cb(st_loop *loop, st_timer *timer)
{
    server *t = timer->arg;
    if (!t->waiting)
        return;
    note(t, 'S');
    st_conn *c = t->waiting;
    st_resp *r = t->waiting_resp;
    t->waiting = NULL;
    t->waiting_resp = NULL;
    st_conn_send(c, r);
}

static inline int on_request(void *ctx, st_conn *c, uint8_t *frame, size_t len)
{
    server *t = ctx;
    int rc = ST_CONN_NEXT;
    if (len < 5) {
        rc = ST_CONN_CLOSE;
        goto out;
    }
    char cmd = (char)frame[4];
    note(t, cmd);
    st_resp *r = st_resp_new((int32_t)st_be32(frame), false);
    st_buf *b = st_resp_buf(r);
    switch (cmd) {
    case 'E':
        st_buf_append(b, frame + 5, len - 5);
        st_conn_send(c, r);
        break;
    case 'F':
        st_buf_append(b, "HEAD", 4);
        st_resp_add_file(r, t->file, 7, FILE_BYTES - 7 - 13);
        st_buf_append(b, "MID", 3);
        st_resp_add_file(r, t->file, 0, 10);
        st_buf_append(b, "TAIL", 4);
        assert_int_equal(st_resp_size(r), 4 + 4 + FILE_BYTES - 20 + 3 + 10 + 4);
        st_conn_send(c, r);
        break;
    case 'T': /* a range running past the end of the file, as if truncated under us */
        st_resp_add_file(r, t->file, FILE_BYTES - 10, 100);
        st_conn_send(c, r);
        break;
    case 'A':
        st_conn_set_authenticated(c);
        st_buf_append(b, frame + 5, len - 5);
        st_conn_send(c, r);
        break;
    case 'W':
        st_buf_append(b, frame + 5, len - 5);
        t->waiting = c;
        t->waiting_resp = r;
        st_timer_start(t->loop, &t->wait_timer, WAIT_MS);
        rc = ST_CONN_WAIT;
        break;
    default:
        st_resp_free(r);
        rc = ST_CONN_CLOSE;
    }
out:
    free(frame);
    return rc;
}

static inline void on_close(void *ctx, st_conn *c)
{
    server *t = ctx;
    if (t->waiting == c) {
        t->waiting = NULL;
        st_resp_free(t->waiting_resp);
        t->waiting_resp = NULL;
        st_timer_stop(t->loop, &t->wait_timer);
    }
    __atomic_add_fetch(&t->closes, 1, __ATOMIC_ACQ_REL);
}

static inline st_server *new_server(st_loop *loop, void *ctx)
{
    st_server_callbacks cb = {on_request, on_close};
    st_server_limits lim;
    st_server_limits_init(&lim);
    lim.max_request_bytes = MAX_REQUEST;
    return st_server_new(loop, &cb, ctx, &lim);
}

static inline uint8_t file_byte(size_t i)
{
    return (uint8_t)(i * 131 + (i >> 9));
}

static inline void *loop_thread(void *arg)
{
    server *t = arg;
    st_loop_run(t->loop);
    return NULL;
}

static inline int fixture_setup(void **state, const st_server_limits *lim, bool authenticate)
{
    server *t = calloc(1, sizeof *t);
    char err[256] = "";
    pthread_mutex_init(&t->mu, NULL);
    t->loop = st_loop_new(err, sizeof err);
    assert_non_null(t->loop);
    if (lim) {
        st_server_callbacks cb = {on_request, on_close};
        t->srv = st_server_new(t->loop, &cb, t, lim);
    } else {
        t->srv = new_server(t->loop, t);
    }
    assert_int_equal(
        st_server_listen_ex(t->srv, "127.0.0.1", 0, 0, NULL, authenticate, err, sizeof err), 0);
    t->port = st_server_port(t->srv);
    assert_true(t->port > 0);
    t->wait_timer.cb = wait_timer_cb;
    t->wait_timer.arg = t;

    char path[] = "/tmp/net-test-conn-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path); /* the fileref keeps it alive */
    uint8_t *data = malloc(FILE_BYTES);
    for (size_t i = 0; i < FILE_BYTES; i++)
        data[i] = file_byte(i);
    assert_int_equal(write(fd, data, FILE_BYTES), FILE_BYTES);
    free(data);
    t->file = st_fileref_new(fd);

    assert_int_equal(pthread_create(&t->thread, NULL, loop_thread, t), 0);
    *state = t;
    return 0;
}

static inline void join_within(pthread_t thread, int ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    assert_int_equal(pthread_timedjoin_np(thread, NULL, &deadline), 0);
}

static inline int teardown(void **state)
{
    server *t = *state;
    st_loop_stop(t->loop);
    join_within(t->thread, DEADLINE_MS);
    st_server_free(t->srv); /* the loop is stopped: safe from this thread */
    st_fileref_unref(t->file);
    st_loop_free(t->loop);
    pthread_mutex_destroy(&t->mu);
    free(t);
    return 0;
}

/* ---- reading server state from the test thread ---- */

typedef struct probe {
    server *t;
    size_t conns;
    st_server_stats stats;
    int done; /* atomic */
} probe;

static inline void probe_fn(void *arg)
{
    probe *p = arg;
    p->conns = st_server_conn_count(p->t->srv);
    st_server_get_stats(p->t->srv, &p->stats);
    __atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
}

/* The connection count and counters, read on the loop thread. */
static inline probe probe_server(server *t)
{
    probe p = {.t = t};
    st_loop_post(t->loop, probe_fn, &p);
    int64_t deadline = st_mono_ms() + DEADLINE_MS;
    while (!__atomic_load_n(&p.done, __ATOMIC_ACQUIRE)) {
        assert_true(st_mono_ms() < deadline);
        usleep(1000);
    }
    return p;
}

static inline size_t conn_count(server *t)
{
    return probe_server(t).conns;
}

/* Polls until the server has `want` connections; fails after the deadline. */
static inline void await_conns(server *t, size_t want)
{
    int64_t deadline = st_mono_ms() + DEADLINE_MS;
    size_t n;
    while ((n = conn_count(t)) != want && st_mono_ms() < deadline)
        usleep(2000);
    assert_int_equal(n, want);
}

/* ---- a plain client ---- */

static inline int client(server *t)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {DEADLINE_MS / 1000, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)t->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

static inline void append_frame(st_buf *out, int32_t corr, char cmd, const void *payload,
                                size_t len)
{
    st_buf_put_i32(out, (int32_t)(5 + len));
    st_buf_put_i32(out, corr);
    st_buf_put_i8(out, (int8_t)cmd);
    st_buf_append(out, payload, len);
}

static inline void send_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        assert_true(w > 0);
        b += w;
        n -= (size_t)w;
    }
}

static inline void send_frame(int fd, int32_t corr, char cmd, const void *payload, size_t len)
{
    st_buf out = ST_BUF_INIT;
    append_frame(&out, corr, cmd, payload, len);
    send_all(fd, out.data, out.len);
    st_buf_free(&out);
}

/* Reads exactly n bytes; false on EOF, reset or timeout. */
static inline bool read_exact(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    while (n > 0) {
        ssize_t r = recv(fd, b, n, 0);
        if (r <= 0)
            return false;
        b += r;
        n -= (size_t)r;
    }
    return true;
}

/* Reads one response; returns its body after the correlation id (malloc'd). */
static inline uint8_t *read_response(int fd, int32_t want_corr, size_t *len)
{
    uint8_t hdr[8];
    assert_true(read_exact(fd, hdr, sizeof hdr));
    int32_t size = (int32_t)st_be32(hdr);
    assert_true(size >= 4);
    assert_int_equal((int32_t)st_be32(hdr + 4), want_corr);
    *len = (size_t)size - 4;
    uint8_t *body = malloc(*len + 1);
    assert_true(read_exact(fd, body, *len));
    return body;
}

static inline void expect_echo(int fd, int32_t corr, const char *text)
{
    size_t len;
    uint8_t *body = read_response(fd, corr, &len);
    assert_int_equal(len, strlen(text));
    assert_memory_equal(body, text, len);
    free(body);
}

/* True when the server closed fd: EOF or reset before the receive timeout. */
static inline bool closed_by_server(int fd)
{
    char c;
    ssize_t r = recv(fd, &c, 1, 0);
    if (r == 0)
        return true;
    return r < 0 && errno == ECONNRESET;
}

#endif
