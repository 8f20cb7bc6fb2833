/*
 * The connection layer against hostile peers (conn_read.c, and conn.c's timeouts): the
 * frame limit before authentication, the authentication deadline, the idle timeout,
 * buffers that grow as bytes arrive within the budget for partly read requests, and
 * the budget pausing (not failing) a connection and resuming it when room is freed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <signal.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/unit/net/conn_fixture.h"

#define UNAUTH_MAX (16 * 1024)
#define BUDGET     (256 * 1024)
#define AUTH_MS    300
#define IDLE_MS    400

/* Connections start unauthenticated; the frame limit and the budget apply, and the
 * timeouts only in the tests about them (a loaded machine must not trip them in the
 * others). */
static int setup_with(void **state, int64_t auth_ms, int64_t idle_ms)
{
    st_server_limits lim;
    st_server_limits_init(&lim);
    lim.max_request_bytes = MAX_REQUEST;
    lim.max_unauth_request_bytes = UNAUTH_MAX;
    lim.queued_max_request_bytes = BUDGET;
    lim.auth_timeout_ms = auth_ms;
    lim.idle_ms = idle_ms;
    return fixture_setup(state, &lim, true);
}

static int setup_limited(void **state)
{
    return setup_with(state, 0, 0);
}

static int setup_deadline(void **state)
{
    return setup_with(state, AUTH_MS, 0);
}

static int setup_idle(void **state)
{
    return setup_with(state, 0, IDLE_MS);
}

/* Polls until fd is closed by the server (true) or `ms` pass (false). */
static bool closed_within(int fd, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return closed_by_server(fd);
}

/* Logs in (command 'A') and checks the answer. */
static void authenticate(int fd, int32_t corr)
{
    send_frame(fd, corr, 'A', "in", 2);
    expect_echo(fd, corr, "in");
}

static void test_frame_limit_before_authentication(void **state)
{
    server *t = *state;
    char *payload = malloc(UNAUTH_MAX + 100);
    memset(payload, 'p', UNAUTH_MAX + 100);

    /* Small frames are fine before logging in. */
    int a = client(t);
    send_frame(a, 1, 'E', "hello", 5);
    expect_echo(a, 1, "hello");
    /* One just over the limit: closed, and counted. */
    send_frame(a, 2, 'E', payload, UNAUTH_MAX);
    assert_true(closed_by_server(a));
    close(a);
    /* Only the size prefix of a huge frame: closed at once, nothing allocated for it. */
    int b = client(t);
    uint8_t prefix[4] = {0x05, 0xf5, 0xe1, 0x00}; /* 100,000,000 */
    send_all(b, prefix, 4);
    assert_true(closed_by_server(b));
    close(b);
    assert_int_equal(probe_server(t).stats.closed_unauth_frame, 2);

    /* After logging in, the full frame limit applies. */
    int c = client(t);
    authenticate(c, 3);
    send_frame(c, 4, 'E', payload, UNAUTH_MAX + 100);
    size_t len;
    uint8_t *body = read_response(c, 4, &len);
    assert_int_equal(len, UNAUTH_MAX + 100);
    assert_memory_equal(body, payload, len);
    free(body);
    close(c);
    free(payload);
}

static void test_authentication_deadline(void **state)
{
    server *t = *state;
    int64_t t0 = st_mono_ms();
    int silent = client(t);
    int talker = client(t); /* talks, but never logs in */
    int member = client(t);
    authenticate(member, 1);
    send_frame(talker, 2, 'E', "hi", 2);
    expect_echo(talker, 2, "hi");
    assert_true(closed_within(silent, DEADLINE_MS));
    assert_true(closed_within(talker, DEADLINE_MS));
    int64_t took = st_mono_ms() - t0;
    assert_true(took >= AUTH_MS - 50);
    /* The one that logged in is past the deadline and still served. */
    send_frame(member, 3, 'E', "still", 5);
    expect_echo(member, 3, "still");
    assert_int_equal(probe_server(t).stats.closed_auth_timeout, 2);
    close(silent);
    close(talker);
    close(member);
}

static void test_idle_timeout(void **state)
{
    server *t = *state;
    int quiet = client(t);
    int busy = client(t);
    authenticate(quiet, 1);
    authenticate(busy, 2);
    int64_t t0 = st_mono_ms();
    /* busy talks every IDLE_MS / 4 until quiet has been closed as idle. */
    int32_t corr = 10;
    struct timeval tv = {0, (IDLE_MS / 4) * 1000};
    setsockopt(quiet, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (;;) {
        char ch;
        ssize_t r = recv(quiet, &ch, 1, 0);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            break;
        assert_true(st_mono_ms() - t0 < DEADLINE_MS);
        send_frame(busy, corr, 'E', "ping", 4);
        expect_echo(busy, corr, "ping");
        corr++;
    }
    assert_true(st_mono_ms() - t0 >= IDLE_MS - 50);
    send_frame(busy, corr, 'E', "alive", 5);
    expect_echo(busy, corr, "alive");
    assert_int_equal(probe_server(t).stats.closed_idle, 1);
    close(quiet);
    close(busy);
}

/* A frame of `size` bytes whose first `have` body bytes are sent now. */
static void send_partial(int fd, int32_t corr, size_t size, size_t have, char fill)
{
    uint8_t *buf = malloc(4 + have);
    buf[0] = (uint8_t)(size >> 24);
    buf[1] = (uint8_t)(size >> 16);
    buf[2] = (uint8_t)(size >> 8);
    buf[3] = (uint8_t)size;
    memset(buf + 4, fill, have);
    if (have >= 5) {
        uint32_t c = htonl((uint32_t)corr);
        memcpy(buf + 4, &c, 4);
        buf[8] = 'E';
    }
    send_all(fd, buf, 4 + have);
    free(buf);
}

static void expect_filled_echo(int fd, int32_t corr, size_t size, char fill)
{
    size_t len;
    uint8_t *body = read_response(fd, corr, &len);
    assert_int_equal(len, size - 5);
    for (size_t i = 0; i < len; i++)
        if (body[i] != (uint8_t)fill)
            fail_msg("echo byte %zu is %d, expected '%c'", i, body[i], fill);
    free(body);
}

static void test_budget_pauses_then_resumes(void **state)
{
    server *t = *state;
    int a = client(t);
    int b = client(t);
    authenticate(a, 1);
    authenticate(b, 2);

    /* Announcing is free: a 900 KiB frame with 10 KiB sent holds its first chunk only. */
    send_partial(a, 3, 900 * 1024, 10 * 1024, 'a');
    int64_t deadline = st_mono_ms() + DEADLINE_MS;
    probe p;
    while ((p = probe_server(t)).stats.queued_bytes == 0)
        assert_true(st_mono_ms() < deadline);
    assert_true(p.stats.queued_bytes <= 64 * 1024);

    /* a, the oldest reader, may grow past the budget: 600 KiB more. */
    uint8_t *more = malloc(600 * 1024);
    memset(more, 'a', 600 * 1024);
    send_all(a, more, 600 * 1024);
    free(more);
    while ((p = probe_server(t)).stats.queued_bytes < BUDGET)
        assert_true(st_mono_ms() < deadline);

    /* b's large frame finds the budget spent: b waits, it is not closed. */
    send_partial(b, 4, 200 * 1024, 200 * 1024, 'b');
    while ((p = probe_server(t)).stats.budget_waiting == 0)
        assert_true(st_mono_ms() < deadline);
    assert_int_equal(p.stats.budget_waits, 1);
    /* ... and small frames of others are still served meanwhile. */
    int c = client(t);
    send_frame(c, 5, 'E', "small", 5);
    expect_echo(c, 5, "small");

    /* a completes: its answer comes, the budget frees, b resumes and is answered. */
    size_t rest = 900 * 1024 - 10 * 1024 - 600 * 1024;
    more = malloc(rest);
    memset(more, 'a', rest);
    send_all(a, more, rest);
    free(more);
    expect_filled_echo(a, 3, 900 * 1024, 'a');
    expect_filled_echo(b, 4, 200 * 1024, 'b');
    p = probe_server(t);
    assert_int_equal(p.stats.budget_waiting, 0);
    assert_int_equal(p.stats.queued_bytes, 0);
    assert_int_equal(p.conns, 3);
    close(a);
    close(b);
    close(c);
}

static void test_closing_reader_frees_budget(void **state)
{
    server *t = *state;
    int a = client(t);
    int b = client(t);
    authenticate(a, 1);
    authenticate(b, 2);
    send_partial(a, 3, 900 * 1024, 400 * 1024, 'a'); /* a holds more than the budget */
    int64_t deadline = st_mono_ms() + DEADLINE_MS;
    probe p;
    while ((p = probe_server(t)).stats.queued_bytes < BUDGET)
        assert_true(st_mono_ms() < deadline);
    send_partial(b, 4, 100 * 1024, 100 * 1024, 'b');
    while ((p = probe_server(t)).stats.budget_waiting == 0)
        assert_true(st_mono_ms() < deadline);
    close(a); /* gone mid-frame: its share comes back, b goes on */
    expect_filled_echo(b, 4, 100 * 1024, 'b');
    p = probe_server(t);
    assert_int_equal(p.stats.queued_bytes, 0);
    assert_int_equal(p.conns, 1);
    close(b);
}

/* Waits until the server's counters satisfy want(stats, arg); fails after the deadline. */
static void await_stats(server *t, bool (*want)(const st_server_stats *, size_t), size_t arg)
{
    int64_t deadline = st_mono_ms() + DEADLINE_MS;
    for (;;) {
        probe p = probe_server(t);
        if (want(&p.stats, arg))
            return;
        assert_true(st_mono_ms() < deadline);
    }
}

static bool queued_is(const st_server_stats *st, size_t n)
{
    return st->queued_bytes == n;
}

static bool waiting_is(const st_server_stats *st, size_t n)
{
    return st->budget_waiting == n;
}

static void send_fill(int fd, size_t n, char fill)
{
    uint8_t *more = malloc(n);
    memset(more, fill, n);
    send_all(fd, more, n);
    free(more);
}

/* A reader that had to wait to grow while it was not the oldest, and then became the
 * oldest, must be woken: it may always grow, and while it waits nothing else can. */
static void test_oldest_reader_waiting_is_woken(void **state)
{
    server *t = *state;
    enum { BIG = 600 * 1024, FIRST = 10 * 1024, CHUNK = 64 * 1024 };
    int a = client(t), b = client(t), d = client(t), e = client(t), c = client(t);
    authenticate(a, 1);
    authenticate(b, 2);
    authenticate(d, 3);
    authenticate(e, 4);
    authenticate(c, 5);
    /* Four readers of 600 KiB frames, 64 KiB each: the 256 KiB budget is spent. */
    send_partial(a, 10, BIG, FIRST, 'a');
    await_stats(t, queued_is, CHUNK);
    send_partial(b, 11, BIG, FIRST, 'b');
    await_stats(t, queued_is, 2 * CHUNK);
    send_partial(d, 12, BIG, FIRST, 'd');
    await_stats(t, queued_is, 3 * CHUNK);
    send_partial(e, 13, BIG, FIRST, 'e');
    await_stats(t, queued_is, 4 * CHUNK);
    /* c's whole 100 KiB frame waits to start; then b waits to grow, behind c. */
    send_partial(c, 14, 100 * 1024, 100 * 1024, 'c');
    await_stats(t, waiting_is, 1);
    send_fill(b, CHUNK, 'b');
    await_stats(t, waiting_is, 2);
    /* a, the oldest, completes: c starts (and soon waits to grow), b is the oldest now. */
    send_fill(a, BIG - FIRST, 'a');
    expect_filled_echo(a, 10, BIG, 'a');
    /* b must be able to finish, and then c. */
    send_fill(b, BIG - FIRST - CHUNK, 'b');
    expect_filled_echo(b, 11, BIG, 'b');
    close(d);
    close(e);
    expect_filled_echo(c, 14, 100 * 1024, 'c');
    close(a);
    close(b);
    close(c);
}

/* Connections that have not logged in announce large frames and send nothing more:
 * together they would take the whole budget, but they may hold only their share of it
 * (a quarter), so a logged-in connection's large frame is still read at once. */
static void test_unauthenticated_cannot_take_the_budget(void **state)
{
    server *t = *state;
    enum { HOGS = 40 }; /* 40 x 16 KiB: 640 KiB, over twice the budget */
    int hogs[HOGS];
    for (int i = 0; i < HOGS; i++) {
        hogs[i] = client(t);
        send_partial(hogs[i], 100 + i, UNAUTH_MAX, 0, 'h');
    }
    int64_t deadline = st_mono_ms() + DEADLINE_MS;
    probe p;
    while ((p = probe_server(t)).stats.budget_waiting == 0)
        assert_true(st_mono_ms() < deadline);
    /* What the hogs hold: a quarter of the budget, plus the oldest one's frame. */
    assert_true(p.stats.queued_bytes <= BUDGET / 4 + UNAUTH_MAX);

    int member = client(t);
    authenticate(member, 1);
    send_partial(member, 2, 200 * 1024, 200 * 1024, 'm');
    expect_filled_echo(member, 2, 200 * 1024, 'm');
    p = probe_server(t);
    assert_true(p.stats.queued_bytes <= BUDGET / 4 + UNAUTH_MAX);

    /* The hogs leave: everything they held comes back. */
    for (int i = 0; i < HOGS; i++)
        close(hogs[i]);
    await_conns(t, 1);
    p = probe_server(t);
    assert_int_equal(p.stats.queued_bytes, 0);
    assert_int_equal(p.stats.budget_waiting, 0);
    close(member);
}

/* A connection holds its small read buffer only while it has unconsumed bytes in it: many
 * connections that sent their requests and went quiet hold none (16 KiB each before). */
static void test_quiet_connections_hold_no_read_buffer(void **state)
{
    server *t = *state;
    enum { QUIET = 50 };
    int quiet[QUIET];
    for (int i = 0; i < QUIET; i++) {
        quiet[i] = client(t);
        send_frame(quiet[i], i, 'E', "hi", 2);
        expect_echo(quiet[i], i, "hi");
    }
    assert_int_equal(probe_server(t).stats.read_buffers, 0);

    /* Half a frame: that connection keeps its bytes, in its own buffer, until the rest. */
    int partial = client(t);
    st_buf out = ST_BUF_INIT;
    append_frame(&out, 99, 'E', "split", 5);
    send_all(partial, out.data, 6);
    int64_t deadline = st_mono_ms() + DEADLINE_MS;
    while (probe_server(t).stats.read_buffers != 1)
        assert_true(st_mono_ms() < deadline);
    /* Others come and go meanwhile; the partial frame is untouched. */
    send_frame(quiet[0], 100, 'E', "again", 5);
    expect_echo(quiet[0], 100, "again");
    send_all(partial, out.data + 6, out.len - 6);
    expect_echo(partial, 99, "split");
    assert_int_equal(probe_server(t).stats.read_buffers, 0);
    st_buf_free(&out);
    for (int i = 0; i < QUIET; i++)
        close(quiet[i]);
    close(partial);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    st_logging_setup(ST_LOG_ERROR, stderr);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_frame_limit_before_authentication, setup_limited,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_authentication_deadline, setup_deadline, teardown),
        cmocka_unit_test_setup_teardown(test_idle_timeout, setup_idle, teardown),
        cmocka_unit_test_setup_teardown(test_budget_pauses_then_resumes, setup_limited, teardown),
        cmocka_unit_test_setup_teardown(test_closing_reader_frees_budget, setup_limited, teardown),
        cmocka_unit_test_setup_teardown(test_oldest_reader_waiting_is_woken, setup_limited,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unauthenticated_cannot_take_the_budget, setup_limited,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_quiet_connections_hold_no_read_buffer, setup_limited,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
