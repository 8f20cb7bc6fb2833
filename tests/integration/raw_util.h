/*
 * Shared by the raw-socket test clients (raw_client.c, raw_idempotent.c,
 * raw_scram_admin.c, rk_client_quotas.c, rk_sasl.c): failing with a message, building
 * request frames by hand (big-endian, like the protocol), a loopback connection with a
 * read timeout, and reading a response through a bounds-checked cursor (raw_rd).
 * Header-only: each client is one file. Everything is static inline, so a client that
 * uses only part of it gets no unused-function warning.
 */
#ifndef ST_TEST_RAW_UTIL_H
#define ST_TEST_RAW_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Prints "<program>: FAIL: <message>" and exits 1. */
static inline void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: FAIL: ", program_invocation_short_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* A frame being built; fixed size, since test frames are small. */
typedef struct wbuf {
    uint8_t data[4096];
    size_t len;
} wbuf;

static inline void put(wbuf *b, const void *p, size_t n)
{
    if (b->len + n > sizeof(b->data))
        fail("internal: frame buffer too small");
    memcpy(b->data + b->len, p, n);
    b->len += n;
}
static inline void put_i8(wbuf *b, int8_t v)
{
    put(b, &v, 1);
}
static inline void put_i16(wbuf *b, int16_t v)
{
    uint16_t n = htons((uint16_t)v);
    put(b, &n, 2);
}
static inline void put_i32(wbuf *b, int32_t v)
{
    uint32_t n = htonl((uint32_t)v);
    put(b, &n, 4);
}
static inline void put_i64(wbuf *b, int64_t v)
{
    put_i32(b, (int32_t)((uint64_t)v >> 32));
    put_i32(b, (int32_t)(uint32_t)v);
}
static inline void put_varint(wbuf *b, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); /* zigzag */
    while (z >= 0x80) {
        put_i8(b, (int8_t)((z & 0x7f) | 0x80));
        z >>= 7;
    }
    put_i8(b, (int8_t)z);
}
static inline void put_string(wbuf *b, const char *s)
{
    put_i16(b, (int16_t)strlen(s));
    put(b, s, strlen(s));
}
static inline void patch_i32(wbuf *b, size_t at, int32_t v)
{
    uint32_t n = htonl((uint32_t)v);
    memcpy(b->data + at, &n, 4);
}

/* Connects to 127.0.0.1:port with a read timeout; fails the test if it cannot. */
static inline int connect_loopback(int port, int timeout_s)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {.tv_sec = timeout_s};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
        fail("connect to 127.0.0.1:%d: %s", port, strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

/* ---- writing and reading whole frames ---- */

static inline void send_all(int fd, const void *p, size_t n, const char *what)
{
    const uint8_t *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            fail("%s: write: %s", what, strerror(errno));
        c += w;
        n -= (size_t)w;
    }
}

/* Reads exactly n bytes or fails the test (closed connection, error, timeout). */
static inline void raw_read_full(int fd, uint8_t *p, size_t n, const char *what)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            fail("%s: no response (%s)", what, r == 0 ? "connection closed" : strerror(errno));
        got += (size_t)r;
    }
}

/* A response being read: every read checks the bytes are there ("cut short" fails). */
typedef struct raw_rd {
    const uint8_t *p, *end;
    const char *what;
} raw_rd;

static inline void raw_need(raw_rd *r, size_t n)
{
    if ((size_t)(r->end - r->p) < n)
        fail("%s: response cut short", r->what);
}
static inline int8_t raw_i8(raw_rd *r)
{
    raw_need(r, 1);
    return (int8_t)*r->p++;
}
static inline int16_t raw_i16(raw_rd *r)
{
    raw_need(r, 2);
    int16_t v = (int16_t)(r->p[0] << 8 | r->p[1]);
    r->p += 2;
    return v;
}
static inline int32_t raw_i32(raw_rd *r)
{
    raw_need(r, 4);
    uint32_t v =
        (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    return (int32_t)v;
}
static inline int64_t raw_i64(raw_rd *r)
{
    raw_need(r, 8);
    uint64_t v = 0; /* unsigned: shifting a negative int64_t left is undefined */
    for (int i = 0; i < 8; i++)
        v = v << 8 | r->p[i];
    r->p += 8;
    return (int64_t)v;
}
static inline uint32_t raw_uvarint(raw_rd *r)
{
    uint32_t v = 0;
    for (int shift = 0; shift <= 28; shift += 7) {
        uint8_t byte = (uint8_t)raw_i8(r);
        v |= (uint32_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return v;
    }
    fail("%s: uvarint too long", r->what);
}
/* n bytes into out as a NUL-terminated string (cap includes the NUL). */
static inline void raw_copy(raw_rd *r, size_t n, char *out, size_t cap)
{
    raw_need(r, n);
    if (n >= cap)
        fail("%s: string of %zu bytes too long", r->what, n);
    memcpy(out, r->p, n);
    out[n] = 0;
    r->p += n;
}
/* A NULLABLE_STRING into out; false for null (out is then ""). */
static inline bool raw_string(raw_rd *r, char *out, size_t cap)
{
    int16_t n = raw_i16(r);
    out[0] = 0;
    if (n < 0)
        return false;
    raw_copy(r, (size_t)n, out, cap);
    return true;
}
/* A COMPACT_NULLABLE_STRING into out; false for null. */
static inline bool raw_compact_string(raw_rd *r, char *out, size_t cap)
{
    uint32_t n = raw_uvarint(r);
    out[0] = 0;
    if (n == 0)
        return false;
    raw_copy(r, n - 1, out, cap);
    return true;
}
static inline void raw_skip_tags(raw_rd *r)
{
    uint32_t n = raw_uvarint(r);
    for (uint32_t i = 0; i < n; i++) {
        raw_uvarint(r); /* tag */
        uint32_t size = raw_uvarint(r);
        raw_need(r, size);
        r->p += size;
    }
}

/* Sends the frame b (patching its size), reads the answer into buf and checks its
 * correlation id; the cursor is at what follows it (response header v1's tags, if any,
 * are the caller's). */
static inline raw_rd raw_exchange(int fd, wbuf *b, int32_t correlation_id, uint8_t *buf, size_t cap,
                                  const char *what)
{
    patch_i32(b, 0, (int32_t)(b->len - 4));
    send_all(fd, b->data, b->len, what);
    uint8_t size[4];
    raw_read_full(fd, size, 4, what);
    uint32_t n =
        (uint32_t)size[0] << 24 | (uint32_t)size[1] << 16 | (uint32_t)size[2] << 8 | size[3];
    if (n < 4 || n > cap)
        fail("%s: response size %u out of range", what, n);
    raw_read_full(fd, buf, n, what);
    raw_rd r = {buf, buf + n, what};
    int32_t corr = raw_i32(&r);
    if (corr != correlation_id)
        fail("%s: correlation id %d, expected %d", what, corr, correlation_id);
    return r;
}

#endif
