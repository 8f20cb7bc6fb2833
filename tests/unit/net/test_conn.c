/*
 * st_server / st_conn against plain blocking sockets (the fixture, conn_fixture.h,
 * describes the test protocol): framing, large frames, holds, file ranges, closes. The
 * limits against hostile peers are tested in test_conn_read.c.
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

#include "tests/unit/net/conn_fixture.h"

static int setup(void **state)
{
    return fixture_setup(state, NULL, false);
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
    t->srv = new_server(t->loop, t);
    assert_int_equal(pthread_create(&t->thread, NULL, loop_thread, t), 0);
}

static void test_listen_errors_name_the_address(void **state)
{
    server *t = *state;
    char err[256] = "";
    /* The fixture's loop is running in its thread; use a second, idle loop here. */
    char lerr[128];
    st_loop *loop = st_loop_new(lerr, sizeof lerr);
    st_server *s = new_server(loop, t);
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
