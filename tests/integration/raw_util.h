/*
 * Shared by the raw-socket test clients (raw_client.c, raw_idempotent.c): failing with
 * a message, building request frames by hand (big-endian, like the protocol), and a
 * loopback connection with a read timeout. Header-only: each client is one file.
 */
#ifndef ST_TEST_RAW_UTIL_H
#define ST_TEST_RAW_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

/* Prints "<program>: FAIL: <message>" and exits 1. */
static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
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

static void put(wbuf *b, const void *p, size_t n)
{
    if (b->len + n > sizeof(b->data))
        fail("internal: frame buffer too small");
    memcpy(b->data + b->len, p, n);
    b->len += n;
}
static void put_i8(wbuf *b, int8_t v)
{
    put(b, &v, 1);
}
static void put_i16(wbuf *b, int16_t v)
{
    uint16_t n = htons((uint16_t)v);
    put(b, &n, 2);
}
static void put_i32(wbuf *b, int32_t v)
{
    uint32_t n = htonl((uint32_t)v);
    put(b, &n, 4);
}
static void put_i64(wbuf *b, int64_t v)
{
    put_i32(b, (int32_t)((uint64_t)v >> 32));
    put_i32(b, (int32_t)(uint32_t)v);
}
static void put_varint(wbuf *b, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); /* zigzag */
    while (z >= 0x80) {
        put_i8(b, (int8_t)((z & 0x7f) | 0x80));
        z >>= 7;
    }
    put_i8(b, (int8_t)z);
}
static void put_string(wbuf *b, const char *s)
{
    put_i16(b, (int16_t)strlen(s));
    put(b, s, strlen(s));
}
static void patch_i32(wbuf *b, size_t at, int32_t v)
{
    uint32_t n = htonl((uint32_t)v);
    memcpy(b->data + at, &n, 4);
}

/* Connects to 127.0.0.1:port with a read timeout; fails the test if it cannot. */
static int connect_loopback(int port, int timeout_s)
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

#endif
