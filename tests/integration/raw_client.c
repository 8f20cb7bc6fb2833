/*
 * raw_client PORT TOPIC REQUEST_MAX_BYTES
 *
 * Speaks Kafka framing by hand over plain sockets to send what no client library
 * would: garbage, torn frames, oversized frames, unknown APIs and versions, and Produce
 * v7 requests with a bad CRC, a wrong record count, acks=5 and an invalid topic name.
 * TOPIC must already exist (a valid Produce to it is the positive control).
 *
 * For the connection-level cases the broker must close the connection (read returns
 * EOF or a reset, with no response first); for the Produce cases it must answer with the
 * right error code. After every case a fresh connection must still get an ApiVersions
 * answer: the broker is alive. Each bad connection's local address is printed as
 * "bad-connection <case> 127.0.0.1:<port>" so the test can find the broker's log line
 * for it. Exits 1 at the first unexpected behaviour.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/crc32c.h"
#include "tests/integration/raw_util.h"

#define API_PRODUCE      0
#define API_API_VERSIONS 18
#define READ_TIMEOUT_S   10

static int port;
static int correlation_id = 100;

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static int16_t get_i16(const uint8_t *p)
{
    return (int16_t)(p[0] << 8 | p[1]);
}

/* Starts a frame: size placeholder + request header v1. */
static void begin_request(wbuf *b, int16_t key, int16_t version)
{
    b->len = 0;
    put_i32(b, 0);
    put_i16(b, key);
    put_i16(b, version);
    put_i32(b, ++correlation_id);
    put_string(b, "raw_client");
}
static void end_request(wbuf *b)
{
    patch_i32(b, 0, (int32_t)(b->len - 4));
}

static int connect_broker(void)
{
    return connect_loopback(port, READ_TIMEOUT_S);
}

static void print_bad_connection(int fd, const char *what)
{
    struct sockaddr_in local;
    socklen_t len = sizeof(local);
    getsockname(fd, (struct sockaddr *)&local, &len);
    printf("bad-connection %s 127.0.0.1:%d\n", what, ntohs(local.sin_port));
    fflush(stdout);
}

/* Reads exactly n bytes; returns n, 0 on EOF, -1 on error (errno set). */
static ssize_t read_full(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* The broker must close fd without answering. */
static void expect_closed(int fd, const char *what)
{
    uint8_t b[4];
    ssize_t r = read(fd, b, sizeof(b));
    if (r > 0)
        fail("%s: the broker answered (%zd bytes) instead of closing the connection", what, r);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        fail("%s: the connection is still open after %d s; the broker must close it", what,
             READ_TIMEOUT_S);
    if (r < 0 && errno != ECONNRESET)
        fail("%s: read: %s", what, strerror(errno));
    close(fd);
    printf("ok: %s: connection closed by the broker\n", what);
}

/* Reads one response frame into buf (up to cap bytes); checks the correlation id. */
static size_t read_response(int fd, uint8_t *buf, size_t cap, const char *what)
{
    uint8_t size[4];
    ssize_t r = read_full(fd, size, 4);
    if (r <= 0)
        fail("%s: no response (%s)", what, r == 0 ? "connection closed" : strerror(errno));
    uint32_t n = get_u32(size);
    if (n < 4 || n > cap)
        fail("%s: response size %u out of range", what, n);
    if (read_full(fd, buf, n) != (ssize_t)n)
        fail("%s: response cut short", what);
    if ((int32_t)get_u32(buf) != correlation_id)
        fail("%s: correlation id %d, expected %d", what, (int32_t)get_u32(buf), correlation_id);
    return n;
}

/* The broker still serves: ApiVersions v0 on a fresh connection answers error 0. */
static void expect_alive(const char *after)
{
    wbuf b;
    uint8_t resp[8192];
    int fd = connect_broker();
    begin_request(&b, API_API_VERSIONS, 0);
    end_request(&b);
    send_all(fd, b.data, b.len, "ApiVersions");
    read_response(fd, resp, sizeof(resp), "ApiVersions");
    if (get_i16(resp + 4) != 0)
        fail("after %s: ApiVersions answered error %d", after, get_i16(resp + 4));
    close(fd);
}

/* ApiVersions at a version we do not serve: UNSUPPORTED_VERSION (35) in the v0 layout,
 * still listing our ranges (Produce among them) so the client can retry lower. */
static void expect_api_versions_fallback(void)
{
    wbuf b;
    uint8_t resp[8192];
    int fd = connect_broker();
    begin_request(&b, API_API_VERSIONS, 9);
    end_request(&b);
    send_all(fd, b.data, b.len, "ApiVersions v9");
    size_t n = read_response(fd, resp, sizeof(resp), "ApiVersions v9");
    if (n < 10 || get_i16(resp + 4) != 35)
        fail("ApiVersions v9: error %d, expected UNSUPPORTED_VERSION (35)",
             n >= 6 ? get_i16(resp + 4) : -999);
    uint32_t count = get_u32(resp + 6);
    if (count == 0 || n < 10 + (size_t)count * 6)
        fail("ApiVersions v9: %u version ranges in %zu bytes, expected the served ranges", count,
             n);
    int produce_max = -1;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = resp + 10 + i * 6;
        if (get_i16(e) == API_PRODUCE)
            produce_max = get_i16(e + 4);
    }
    if (produce_max != 7)
        fail("ApiVersions v9: Produce max version %d, expected 7", produce_max);
    close(fd);
    printf("ok: ApiVersions v9: UNSUPPORTED_VERSION with %u ranges (v0 layout)\n", count);
}

/* One record batch holding one record; `records_count` and `corrupt_crc` make it bad. */
static void put_batch(wbuf *b, int32_t records_count, int corrupt_crc)
{
    wbuf rec = {.len = 0};
    put_i8(&rec, 0);     /* attributes */
    put_varint(&rec, 0); /* timestampDelta */
    put_varint(&rec, 0); /* offsetDelta */
    put_varint(&rec, 3); /* key */
    put(&rec, "key", 3);
    put_varint(&rec, 11); /* value */
    put(&rec, "raw-record!", 11);
    put_varint(&rec, 0); /* headers */

    size_t start = b->len;
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    put_i64(b, 0);      /* baseOffset */
    put_i32(b, 0);      /* batchLength, patched */
    put_i32(b, 0);      /* partitionLeaderEpoch */
    put_i8(b, 2);       /* magic */
    put_i32(b, 0);      /* crc, patched */
    put_i16(b, 0);      /* attributes */
    put_i32(b, 0);      /* lastOffsetDelta */
    put_i64(b, now_ms); /* baseTimestamp */
    put_i64(b, now_ms); /* maxTimestamp */
    put_i64(b, -1);     /* producerId */
    put_i16(b, -1);     /* producerEpoch */
    put_i32(b, -1);     /* baseSequence */
    put_i32(b, records_count);
    put_varint(b, (int64_t)rec.len);
    put(b, rec.data, rec.len);

    size_t size = b->len - start;
    patch_i32(b, start + 8, (int32_t)(size - 12));
    uint32_t crc = st_crc32c(0, b->data + start + 21, size - 21);
    patch_i32(b, start + 17, (int32_t)(crc ^ (corrupt_crc ? 1u : 0u)));
}

/* Sends a Produce v7 and returns the first partition's error code. */
static int produce_v7(const char *topic, int16_t acks, int32_t records_count, int corrupt_crc,
                      const char *what)
{
    wbuf b;
    uint8_t resp[8192];
    int fd = connect_broker();
    begin_request(&b, API_PRODUCE, 7);
    put_i16(&b, -1); /* transactional_id: null */
    put_i16(&b, acks);
    put_i32(&b, 5000); /* timeout_ms */
    put_i32(&b, 1);    /* topics */
    put_string(&b, topic);
    put_i32(&b, 1); /* partitions */
    put_i32(&b, 0); /* index */
    size_t records_at = b.len;
    put_i32(&b, 0); /* records size, patched */
    put_batch(&b, records_count, corrupt_crc);
    patch_i32(&b, records_at, (int32_t)(b.len - records_at - 4));
    end_request(&b);
    send_all(fd, b.data, b.len, what);

    size_t n = read_response(fd, resp, sizeof(resp), what);
    /* correlation_id, [topics] count, name, [partitions] count, index, error_code */
    size_t at = 4;
    if (n < at + 4 + 2 || get_u32(resp + at) != 1)
        fail("%s: expected one topic in the response", what);
    at += 4;
    at += 2 + (size_t)get_i16(resp + at);
    if (n < at + 4 + 4 + 2 || get_u32(resp + at) != 1)
        fail("%s: expected one partition in the response", what);
    at += 8;
    close(fd);
    return get_i16(resp + at);
}

static void expect_produce_error(const char *topic, int16_t acks, int32_t records_count,
                                 int corrupt_crc, const char *what, int want, int also_ok)
{
    int got = produce_v7(topic, acks, records_count, corrupt_crc, what);
    if (got != want && got != also_ok)
        fail("%s: error code %d, expected %d", what, got, want);
    printf("ok: %s: error code %d\n", what, got);
    expect_alive(what);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: raw_client PORT TOPIC REQUEST_MAX_BYTES\n");
        return 2;
    }
    port = atoi(argv[1]);
    const char *topic = argv[2];
    long max_bytes = atol(argv[3]);
    signal(SIGPIPE, SIG_IGN); /* writes to a connection the broker closed must not kill us */
    wbuf b;
    int fd;

    expect_alive("start");
    expect_api_versions_fallback();

    /* (1) garbage: an HTTP request (its first 4 bytes read as a ~1.2 GB frame size) */
    fd = connect_broker();
    print_bad_connection(fd, "garbage-http");
    const char http[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    send_all(fd, http, sizeof(http) - 1, "garbage-http");
    expect_closed(fd, "garbage-http");
    expect_alive("garbage-http");

    /* (1) garbage: a 6-byte frame, too short for a request header */
    fd = connect_broker();
    print_bad_connection(fd, "garbage-short");
    const uint8_t shortframe[] = {0, 0, 0, 6, 0x13, 0x37, 0xde, 0xad, 0xbe, 0xef};
    send_all(fd, shortframe, sizeof(shortframe), "garbage-short");
    expect_closed(fd, "garbage-short");
    expect_alive("garbage-short");

    /* (2) a truncated frame: announce 100 bytes, send 10, hang up */
    fd = connect_broker();
    print_bad_connection(fd, "truncated");
    begin_request(&b, API_API_VERSIONS, 0);
    patch_i32(&b, 0, 100);
    send_all(fd, b.data, 14, "truncated");
    close(fd);
    printf("ok: truncated: sent 10 of 100 announced bytes and closed\n");
    expect_alive("truncated");

    /* (3) a frame header announcing twice socket.request.max.bytes */
    fd = connect_broker();
    print_bad_connection(fd, "oversized");
    begin_request(&b, API_PRODUCE, 7);
    patch_i32(&b, 0, (int32_t)(2 * max_bytes));
    send_all(fd, b.data, b.len, "oversized");
    expect_closed(fd, "oversized");
    expect_alive("oversized");

    /* (4) an API key nobody serves */
    fd = connect_broker();
    print_bad_connection(fd, "unknown-api-key");
    begin_request(&b, 1000, 0);
    end_request(&b);
    send_all(fd, b.data, b.len, "unknown-api-key");
    expect_closed(fd, "unknown-api-key");
    expect_alive("unknown-api-key");

    /* (5) Produce at a version outside 3..7 */
    fd = connect_broker();
    print_bad_connection(fd, "unsupported-produce-version");
    begin_request(&b, API_PRODUCE, 99);
    put_i16(&b, -1);
    put_i16(&b, 1);
    put_i32(&b, 1000);
    put_i32(&b, 0);
    end_request(&b);
    send_all(fd, b.data, b.len, "unsupported-produce-version");
    expect_closed(fd, "unsupported-produce-version");
    expect_alive("unsupported-produce-version");

    /* (6) Produce v7: a valid batch first, so the harness itself is proven right */
    expect_produce_error(topic, -1, 1, 0, "produce-valid", 0, 0);
    expect_produce_error(topic, -1, 1, 1, "produce-bad-crc", 2, 2);
    expect_produce_error(topic, -1, 2, 0, "produce-bad-record-count", 87, 87);
    expect_produce_error(topic, 5, 1, 0, "produce-acks-5", 21, 21);
    expect_produce_error("bad topic/name!", -1, 1, 0, "produce-invalid-topic", 17, 3);

    printf("raw_client: all cases behaved\n");
    return 0;
}
