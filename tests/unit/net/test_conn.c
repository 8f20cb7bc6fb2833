/*
 * st_server / st_conn against plain blocking sockets. The loop runs in its own thread;
 * the test talks to it only through sockets and st_loop_post, and every read has a
 * receive timeout, so nothing here can hang.
 *
 * The test protocol: a frame is [int32 correlation id][command byte][payload].
 *   'E' echo the payload         'F' "HEAD" + file range + "MID" + file range + "TAIL"
 *   'W' answer the payload after 100 ms from a timer (ST_CONN_WAIT)
 *   'T' a file range past the end of the file       'X' ST_CONN_CLOSE
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

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

static void note(server *t, char ev)
{
    pthread_mutex_lock(&t->mu);
    if (t->nevents + 1 < sizeof t->events)
        t->events[t->nevents++] = ev;
    pthread_mutex_unlock(&t->mu);
}

static void wait_timer_cb(st_loop *loop, st_timer *timer)
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

static int on_request(void *ctx, st_conn *c, uint8_t *frame, size_t len)
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

static void on_close(void *ctx, st_conn *c)
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

static uint8_t file_byte(size_t i)
{
    return (uint8_t)(i * 131 + (i >> 9));
}

static void *loop_thread(void *arg)
{
    server *t = arg;
    st_loop_run(t->loop);
    return NULL;
}

static int setup(void **state)
{
    server *t = calloc(1, sizeof *t);
    char err[256] = "";
    pthread_mutex_init(&t->mu, NULL);
    t->loop = st_loop_new(err, sizeof err);
    assert_non_null(t->loop);
    st_server_callbacks cb = {on_request, on_close};
    t->srv = st_server_new(t->loop, &cb, t, MAX_REQUEST);
    assert_int_equal(st_server_listen(t->srv, "127.0.0.1", 0, err, sizeof err), 0);
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

static void join_within(pthread_t thread, int ms)
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

static int teardown(void **state)
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
    int done; /* atomic */
} probe;

static void probe_fn(void *arg)
{
    probe *p = arg;
    p->conns = st_server_conn_count(p->t->srv);
    __atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
}

/* st_server_conn_count, read on the loop thread. */
static size_t conn_count(server *t)
{
    probe p = {.t = t};
    st_loop_post(t->loop, probe_fn, &p);
    int64_t deadline = st_mono_ms() + DEADLINE_MS;
    while (!__atomic_load_n(&p.done, __ATOMIC_ACQUIRE)) {
        assert_true(st_mono_ms() < deadline);
        usleep(1000);
    }
    return p.conns;
}

/* Polls until the server has `want` connections; fails after the deadline. */
static void await_conns(server *t, size_t want)
{
    int64_t deadline = st_mono_ms() + DEADLINE_MS;
    size_t n;
    while ((n = conn_count(t)) != want && st_mono_ms() < deadline)
        usleep(2000);
    assert_int_equal(n, want);
}

/* ---- a plain client ---- */

static int client(server *t)
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

static void append_frame(st_buf *out, int32_t corr, char cmd, const void *payload, size_t len)
{
    st_buf_put_i32(out, (int32_t)(5 + len));
    st_buf_put_i32(out, corr);
    st_buf_put_i8(out, (int8_t)cmd);
    st_buf_append(out, payload, len);
}

static void send_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        assert_true(w > 0);
        b += w;
        n -= (size_t)w;
    }
}

static void send_frame(int fd, int32_t corr, char cmd, const void *payload, size_t len)
{
    st_buf out = ST_BUF_INIT;
    append_frame(&out, corr, cmd, payload, len);
    send_all(fd, out.data, out.len);
    st_buf_free(&out);
}

/* Reads exactly n bytes; false on EOF, reset or timeout. */
static bool read_exact(int fd, void *p, size_t n)
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
static uint8_t *read_response(int fd, int32_t want_corr, size_t *len)
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

static void expect_echo(int fd, int32_t corr, const char *text)
{
    size_t len;
    uint8_t *body = read_response(fd, corr, &len);
    assert_int_equal(len, strlen(text));
    assert_memory_equal(body, text, len);
    free(body);
}

/* True when the server closed fd: EOF or reset before the receive timeout. */
static bool closed_by_server(int fd)
{
    char c;
    ssize_t r = recv(fd, &c, 1, 0);
    if (r == 0)
        return true;
    return r < 0 && errno == ECONNRESET;
}

/* ---- tests ---- */

static void test_pipelined_frames_answered_in_order(void **state)
{
    server *t = *state;
    int fd = client(t);
    st_buf out = ST_BUF_INIT;
    char text[32];
    for (int i = 0; i < 20; i++) {
        snprintf(text, sizeof text, "frame-%d", i);
        append_frame(&out, 1000 + i, 'E', text, strlen(text));
    }
    send_all(fd, out.data, out.len); /* all twenty in one write */
    st_buf_free(&out);
    for (int i = 0; i < 20; i++) {
        snprintf(text, sizeof text, "frame-%d", i);
        expect_echo(fd, 1000 + i, text);
    }
    await_conns(t, 1);
    close(fd);
    await_conns(t, 0);
    assert_int_equal(__atomic_load_n(&t->closes, __ATOMIC_ACQUIRE), 1);
}

static void test_frame_split_across_writes_and_large_frame(void **state)
{
    server *t = *state;
    int fd = client(t);
    /* A frame dribbled in byte by byte still arrives whole. */
    st_buf out = ST_BUF_INIT;
    append_frame(&out, 7, 'E', "slow", 4);
    for (size_t i = 0; i < out.len; i++)
        send_all(fd, out.data + i, 1);
    st_buf_free(&out);
    expect_echo(fd, 7, "slow");

    /* Bigger than the initial read buffer, under the limit. */
    size_t big = 300 * 1024;
    char *payload = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        payload[i] = (char)('a' + i % 26);
    payload[big] = 0;
    send_frame(fd, 8, 'E', payload, big);
    expect_echo(fd, 8, payload);
    /* And the connection still takes small frames after the large one. */
    send_frame(fd, 9, 'E', "small", 5);
    expect_echo(fd, 9, "small");
    free(payload);
    close(fd);
    await_conns(t, 0);
}

/* A payload whose bytes depend on its seed and position, so a misplaced chunk shows. */
static char *pattern(size_t len, unsigned seed)
{
    char *p = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        p[i] = (char)('a' + (i * 7 + seed + i / 1000) % 26);
    p[len] = 0;
    return p;
}

static void expect_echo_n(int fd, int32_t corr, const char *payload, size_t n)
{
    size_t len;
    uint8_t *body = read_response(fd, corr, &len);
    assert_int_equal(len, n);
    assert_memory_equal(body, payload, n);
    free(body);
}

typedef struct writer {
    int fd;
    const uint8_t *data;
    size_t len;
    size_t chunk; /* bytes a send, 0 for all at once */
    int pause_us; /* between chunks */
    pthread_t thread;
} writer;

static void *writer_thread(void *arg)
{
    writer *w = arg;
    size_t off = 0;
    while (off < w->len) {
        size_t n = w->chunk && w->len - off > w->chunk ? w->chunk : w->len - off;
        send_all(w->fd, w->data + off, n);
        off += n;
        if (w->pause_us)
            usleep((useconds_t)w->pause_us);
    }
    return NULL;
}

/* Sends from a thread while the test reads the answers, so neither side's socket
 * buffers have to hold everything. */
static void writer_start(writer *w, int fd, const st_buf *out, size_t chunk, int pause_us)
{
    *w = (writer){
        .fd = fd, .data = out->data, .len = out->len, .chunk = chunk, .pause_us = pause_us};
    assert_int_equal(pthread_create(&w->thread, NULL, writer_thread, w), 0);
}

static void test_large_frame_in_many_small_pieces(void **state)
{
    server *t = *state;
    int fd = client(t);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* a segment per send */
    size_t big = 100 * 1024;
    char *payload = pattern(big, 3);
    st_buf out = ST_BUF_INIT;
    append_frame(&out, 11, 'E', payload, big);
    append_frame(&out, 12, 'E', "tail", 4);
    /* 3-byte pieces first (the size prefix itself arrives split), then odd-sized ones,
     * each after a pause so the server sees them in separate reads. */
    send_all(fd, out.data, 3);
    usleep(2000);
    send_all(fd, out.data + 3, 3);
    usleep(2000);
    writer w;
    st_buf rest = {out.data + 6, out.len - 6, out.len - 6};
    writer_start(&w, fd, &rest, 997, 50);
    expect_echo_n(fd, 11, payload, big);
    expect_echo(fd, 12, "tail");
    pthread_join(w.thread, NULL);
    st_buf_free(&out);
    free(payload);
    close(fd);
    await_conns(t, 0);
}

static void test_large_and_small_frames_in_one_segment(void **state)
{
    server *t = *state;
    int fd = client(t);
    /* Sizes around every boundary a read buffer might have (4, 8, 16, 32, 64 KiB), big
     * and small interleaved, all written back to back. */
    static const size_t sizes[] = {0,      1,     100,   4090,  4091,  4092,  4096,   8187,
                                   8188,   8191,  8192,  8193,  16379, 16380, 16384,  16385,
                                   3,      32763, 32764, 32768, 65536, 7,     200000, 5,
                                   300000, 2,     65531, 65532, 1};
    const size_t count = sizeof sizes / sizeof sizes[0];
    char *payloads[sizeof sizes / sizeof sizes[0]];
    st_buf out = ST_BUF_INIT;
    for (size_t i = 0; i < count; i++) {
        payloads[i] = pattern(sizes[i], (unsigned)i);
        append_frame(&out, 100 + (int32_t)i, 'E', payloads[i], sizes[i]);
    }
    writer w;
    writer_start(&w, fd, &out, 0, 0);
    for (size_t i = 0; i < count; i++)
        expect_echo_n(fd, 100 + (int32_t)i, payloads[i], sizes[i]);
    pthread_join(w.thread, NULL);
    for (size_t i = 0; i < count; i++)
        free(payloads[i]);
    st_buf_free(&out);

    /* A big frame and the small ones right behind it in a single send. */
    size_t big = 64 * 1024;
    char *payload = pattern(big, 9);
    append_frame(&out, 1, 'E', payload, big);
    append_frame(&out, 2, 'E', "right", 5);
    append_frame(&out, 3, 'E', "behind", 6);
    send_all(fd, out.data, out.len);
    st_buf_free(&out);
    expect_echo_n(fd, 1, payload, big);
    expect_echo(fd, 2, "right");
    expect_echo(fd, 3, "behind");
    free(payload);
    close(fd);
    await_conns(t, 0);
}

static void test_large_frame_while_held(void **state)
{
    server *t = *state;
    int fd = client(t);
    size_t big = 200 * 1024;
    char *payload = pattern(big, 5);
    st_buf out = ST_BUF_INIT;
    append_frame(&out, 1, 'W', "held", 4);
    append_frame(&out, 2, 'E', payload, big);
    append_frame(&out, 3, 'W', "again", 5);
    append_frame(&out, 4, 'E', payload, big);
    writer w;
    writer_start(&w, fd, &out, 0, 0);
    int64_t t0 = st_mono_ms();
    expect_echo(fd, 1, "held");
    assert_true(st_mono_ms() - t0 >= WAIT_MS - 5);
    expect_echo_n(fd, 2, payload, big);
    expect_echo(fd, 3, "again");
    expect_echo_n(fd, 4, payload, big);
    pthread_join(w.thread, NULL);
    pthread_mutex_lock(&t->mu);
    /* Neither big frame reached on_request before the held answer ahead of it went out. */
    assert_int_equal(t->nevents, 6);
    assert_memory_equal(t->events, "WSEWSE", 6);
    pthread_mutex_unlock(&t->mu);
    st_buf_free(&out);
    free(payload);
    close(fd);
    await_conns(t, 0);
}

static void test_peer_close_mid_large_frame(void **state)
{
    server *t = *state;
    int fd = client(t);
    size_t big = 100 * 1024;
    char *payload = pattern(big, 1);
    st_buf out = ST_BUF_INIT;
    append_frame(&out, 1, 'E', payload, big);
    send_all(fd, out.data, out.len / 2);
    await_conns(t, 1);
    close(fd);
    await_conns(t, 0);
    assert_int_equal(__atomic_load_n(&t->closes, __ATOMIC_ACQUIRE), 1);
    pthread_mutex_lock(&t->mu);
    assert_int_equal(t->nevents, 0); /* the half frame was never handed over */
    pthread_mutex_unlock(&t->mu);
    st_buf_free(&out);
    free(payload);
}

static void test_oversized_frame_closes_only_that_connection(void **state)
{
    server *t = *state;
    int good = client(t);
    int bad = client(t);
    await_conns(t, 2);
    uint8_t hdr[4];
    st_put_be32(hdr, MAX_REQUEST + 1);
    send_all(bad, hdr, sizeof hdr);
    assert_true(closed_by_server(bad));
    await_conns(t, 1);
    send_frame(good, 1, 'E', "still here", 10);
    expect_echo(good, 1, "still here");
    close(bad);
    close(good);
    await_conns(t, 0);
    assert_int_equal(__atomic_load_n(&t->closes, __ATOMIC_ACQUIRE), 2);
}

static void test_garbage_size_prefix_closes(void **state)
{
    server *t = *state;
    int fd = client(t);
    uint8_t garbage[4] = {0x7f, 0xff, 0xff, 0xff};
    send_all(fd, garbage, sizeof garbage);
    assert_true(closed_by_server(fd));
    close(fd);

    fd = client(t);
    uint8_t negative[4] = {0xff, 0xff, 0xff, 0xf0};
    send_all(fd, negative, sizeof negative);
    assert_true(closed_by_server(fd));
    close(fd);
    await_conns(t, 0);
}

static void test_file_range_spliced_byte_exact(void **state)
{
    server *t = *state;
    int fd = client(t);
    send_frame(fd, 42, 'F', NULL, 0);
    send_frame(fd, 43, 'E', "after", 5); /* queued behind the big response */
    size_t len;
    uint8_t *body = read_response(fd, 42, &len);
    size_t range = FILE_BYTES - 20;
    assert_int_equal(len, 4 + range + 3 + 10 + 4);
    assert_memory_equal(body, "HEAD", 4);
    for (size_t i = 0; i < range; i++) {
        if (body[4 + i] != file_byte(7 + i))
            fail_msg("file byte %zu differs", i);
    }
    assert_memory_equal(body + 4 + range, "MID", 3);
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(body[4 + range + 3 + i], file_byte(i));
    assert_memory_equal(body + 4 + range + 13, "TAIL", 4);
    free(body);
    expect_echo(fd, 43, "after");
    close(fd);
    await_conns(t, 0);
}

static void test_truncated_file_closes(void **state)
{
    server *t = *state;
    int fd = client(t);
    send_frame(fd, 3, 'T', NULL, 0);
    uint8_t hdr[8];
    assert_true(read_exact(fd, hdr, sizeof hdr));
    assert_int_equal(st_be32(hdr), 4 + 100); /* the size promised 100 file bytes */
    uint8_t tail[10];
    assert_true(read_exact(fd, tail, sizeof tail)); /* the 10 that exist */
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(tail[i], file_byte(FILE_BYTES - 10 + i));
    assert_true(closed_by_server(fd)); /* then the connection is closed, not left hanging */
    close(fd);
    await_conns(t, 0);
}

static void test_wait_holds_next_frame(void **state)
{
    server *t = *state;
    int fd = client(t);
    st_buf out = ST_BUF_INIT;
    append_frame(&out, 1, 'W', "later", 5);
    append_frame(&out, 2, 'E', "next", 4);
    send_all(fd, out.data, out.len);
    st_buf_free(&out);
    int64_t t0 = st_mono_ms();
    expect_echo(fd, 1, "later");
    assert_true(st_mono_ms() - t0 >= WAIT_MS - 5);
    expect_echo(fd, 2, "next");
    pthread_mutex_lock(&t->mu);
    /* The echo was not even handed to on_request until the held answer went out. */
    assert_int_equal(t->nevents, 3);
    assert_memory_equal(t->events, "WSE", 3);
    pthread_mutex_unlock(&t->mu);
    close(fd);
    await_conns(t, 0);
}

static void test_close_while_held_and_close_from_handler(void **state)
{
    server *t = *state;
    int fd = client(t);
    send_frame(fd, 1, 'W', "never read", 10);
    int64_t deadline = st_mono_ms() + DEADLINE_MS;
    for (;;) { /* until the server holds the request */
        pthread_mutex_lock(&t->mu);
        bool seen = t->nevents == 1;
        pthread_mutex_unlock(&t->mu);
        if (seen)
            break;
        assert_true(st_mono_ms() < deadline);
        usleep(1000);
    }
    close(fd); /* peer gone while held: the answer is dropped, on_close runs once */
    int fd2 = client(t);
    send_frame(fd2, 5, 'X', NULL, 0);
    assert_true(closed_by_server(fd2));
    close(fd2);
    await_conns(t, 0);
    /* A held connection does not read, so it notices the EOF once the held answer has
     * gone out (100 ms); await_conns above covered that. Exactly one on_close each. */
    deadline = st_mono_ms() + DEADLINE_MS;
    while (__atomic_load_n(&t->closes, __ATOMIC_ACQUIRE) < 2 && st_mono_ms() < deadline)
        usleep(1000);
    assert_int_equal(__atomic_load_n(&t->closes, __ATOMIC_ACQUIRE), 2);
}

static void test_server_free_closes_connections(void **state)
{
    server *t = *state;
    int a = client(t);
    int b = client(t);
    await_conns(t, 2);
    st_loop_stop(t->loop);
    join_within(t->thread, DEADLINE_MS);
    st_server_free(t->srv);
    assert_int_equal(__atomic_load_n(&t->closes, __ATOMIC_ACQUIRE), 2);
    assert_true(closed_by_server(a));
    assert_true(closed_by_server(b));
    close(a);
    close(b);
    /* Give teardown a fresh server so it has something to free. */
    st_server_callbacks cb = {on_request, on_close};
    t->srv = st_server_new(t->loop, &cb, t, MAX_REQUEST);
    assert_int_equal(pthread_create(&t->thread, NULL, loop_thread, t), 0);
}

static void test_listen_errors_name_the_address(void **state)
{
    server *t = *state;
    char err[256] = "";
    /* The fixture's loop is running in its thread; use a second, idle loop here. */
    char lerr[128];
    st_loop *loop = st_loop_new(lerr, sizeof lerr);
    st_server_callbacks cb = {on_request, on_close};
    st_server *s = st_server_new(loop, &cb, t, MAX_REQUEST);
    assert_int_equal(st_server_listen(s, "127.0.0.1", t->port, err, sizeof err), -1);
    char want[128];
    snprintf(want, sizeof want, "cannot listen on 127.0.0.1:%d: Address already in use", t->port);
    assert_string_equal(err, want);
    assert_int_equal(st_server_listen(s, "127.0.0.1", 70000, err, sizeof err), -1);
    assert_non_null(strstr(err, "127.0.0.1:70000"));
    assert_int_equal(st_server_listen(s, "not-an-address.invalid", 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot listen on not-an-address.invalid:0: "));
    assert_int_equal(st_server_port(s), -1);
    /* Two listeners: the port reported is the first one's. */
    assert_int_equal(st_server_listen(s, "127.0.0.1", 0, err, sizeof err), 0);
    int first = st_server_port(s);
    assert_int_equal(st_server_listen(s, "127.0.0.1", 0, err, sizeof err), 0);
    assert_int_equal(st_server_port(s), first);
    st_server_free(s);
    st_loop_free(loop);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as straitd does: sendfile cannot suppress it per call */
    st_logging_setup(ST_LOG_WARN, stderr);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pipelined_frames_answered_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frame_split_across_writes_and_large_frame, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_large_frame_in_many_small_pieces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_and_small_frames_in_one_segment, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_large_frame_while_held, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_close_mid_large_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_frame_closes_only_that_connection, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_garbage_size_prefix_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_range_spliced_byte_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_file_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_holds_next_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_while_held_and_close_from_handler, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_server_free_closes_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listen_errors_name_the_address, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
