/*
 * The Kafka wire codec; see codec.h for the cursor model.
 *
 * Every reader starts with `if (rd->err) return 0`-style guard and every failure goes
 * through fail(), so once a read fails the cursor stays put and all later reads return
 * zero values. Nothing here trusts a length or count from the wire: each is checked
 * against the bytes actually left before anything is skipped, returned or allocated.
 */
#include "broker/proto/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"

static void fail(st_rd *rd)
{
    if (!rd->err)
        rd->err = ST_ERR__MALFORMED;
}

/* Takes n bytes if there are n left; NULL (and the sticky error) otherwise. */
static const uint8_t *take(st_rd *rd, size_t n)
{
    if (rd->err)
        return NULL;
    if (n > st_rd_left(rd)) {
        fail(rd);
        return NULL;
    }
    const uint8_t *p = rd->p;
    rd->p += n;
    return p;
}

void st_rd_init(st_rd *rd, const void *data, size_t len)
{
    /* An empty body may come as NULL; arithmetic on NULL (even + 0) is undefined. */
    static const uint8_t nothing[1];
    if (!data)
        len = 0;
    rd->p = data ? data : nothing;
    rd->end = rd->p + len;
    rd->err = 0;
}

int8_t st_rd_i8(st_rd *rd)
{
    const uint8_t *p = take(rd, 1);
    return p ? (int8_t)p[0] : 0;
}

int16_t st_rd_i16(st_rd *rd)
{
    const uint8_t *p = take(rd, 2);
    return p ? (int16_t)st_be16(p) : 0;
}

int32_t st_rd_i32(st_rd *rd)
{
    const uint8_t *p = take(rd, 4);
    return p ? (int32_t)st_be32(p) : 0;
}

int64_t st_rd_i64(st_rd *rd)
{
    const uint8_t *p = take(rd, 8);
    return p ? (int64_t)st_be64(p) : 0;
}

uint32_t st_rd_u32(st_rd *rd)
{
    const uint8_t *p = take(rd, 4);
    return p ? st_be32(p) : 0;
}

bool st_rd_bool(st_rd *rd)
{
    const uint8_t *p = take(rd, 1);
    return p ? p[0] != 0 : false;
}

/* Unsigned LEB128 of at most `max_bytes` bytes whose value fits in `bits` bits. An
 * encoding that runs longer, or whose last byte carries bits beyond `bits`, is
 * rejected: no honest encoder writes one, and accepting them would let two byte
 * strings mean the same number. */
static uint64_t read_leb128(st_rd *rd, int max_bytes, int bits)
{
    if (rd->err)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < max_bytes; i++) {
        const uint8_t *p = take(rd, 1);
        if (!p)
            return 0;
        int shift = 7 * i;
        if (shift + 7 > bits && (p[0] & 0x7f) >> (bits - shift) != 0)
            break; /* payload bits past the top of the type */
        v |= (uint64_t)(p[0] & 0x7f) << shift;
        if (!(p[0] & 0x80))
            return v;
    }
    fail(rd);
    return 0;
}

uint32_t st_rd_uvarint(st_rd *rd)
{
    return (uint32_t)read_leb128(rd, 5, 32);
}

int32_t st_rd_varint(st_rd *rd)
{
    uint32_t u = (uint32_t)read_leb128(rd, 5, 32);
    /* Undo zigzag without signed overflow: (u >> 1) fits, the mask is 0 or -1. */
    return (int32_t)(u >> 1) ^ -(int32_t)(u & 1);
}

int64_t st_rd_varlong(st_rd *rd)
{
    uint64_t u = read_leb128(rd, 10, 64);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

void st_rd_skip(st_rd *rd, size_t n)
{
    take(rd, n);
}

const uint8_t *st_rd_raw(st_rd *rd, size_t n)
{
    return take(rd, n);
}

static const st_str null_str = {NULL, -1};

/* Reads a length: int16/int32 (-1 null) or compact (uvarint, 0 null, else n-1).
 * Returns -1 for null, -2 on error (the cursor's error is set). */
static int64_t read_length(st_rd *rd, bool flex, bool wide)
{
    int64_t n;
    if (flex) {
        uint32_t u = st_rd_uvarint(rd);
        n = (int64_t)u - 1;
    } else {
        n = wide ? st_rd_i32(rd) : st_rd_i16(rd);
    }
    if (rd->err)
        return -2;
    if (n < -1 || n > INT32_MAX) {
        fail(rd);
        return -2;
    }
    return n;
}

static st_str read_run(st_rd *rd, bool flex, bool wide)
{
    int64_t n = read_length(rd, flex, wide);
    if (n < 0)
        return null_str;
    const uint8_t *p = take(rd, (size_t)n);
    if (!p)
        return null_str;
    return (st_str){(const char *)p, (int32_t)n};
}

st_str st_rd_str(st_rd *rd, bool flex)
{
    return read_run(rd, flex, false);
}

st_str st_rd_bytes(st_rd *rd, bool flex)
{
    return read_run(rd, flex, true);
}

int32_t st_rd_array(st_rd *rd, bool flex, size_t min_elem_size)
{
    int64_t n = read_length(rd, flex, true);
    if (n == -2)
        return 0;
    if (n == -1)
        return -1;
    /* No element is ever empty on the wire, so a zero minimum still costs a byte. */
    size_t min = min_elem_size ? min_elem_size : 1;
    if ((uint64_t)n > st_rd_left(rd) / min) {
        fail(rd);
        return 0;
    }
    return (int32_t)n;
}

void st_rd_tags(st_rd *rd, bool flex)
{
    if (!flex)
        return;
    uint32_t count = st_rd_uvarint(rd);
    /* Each field costs at least two bytes (tag, size), so a hostile count fails within
     * a few iterations of running out of input. */
    for (uint32_t i = 0; i < count && !rd->err; i++) {
        st_rd_uvarint(rd); /* tag: we know none, so every one is skipped */
        uint32_t size = st_rd_uvarint(rd);
        st_rd_skip(rd, size);
    }
}

bool st_str_copy(char *dst, size_t cap, st_str s)
{
    if (cap == 0)
        return false;
    if (s.len < 0 || (size_t)s.len >= cap) {
        dst[0] = '\0';
        return false;
    }
    if (s.len)
        memcpy(dst, s.ptr, (size_t)s.len);
    dst[s.len] = '\0';
    return true;
}

bool st_str_eq(st_str s, const char *c)
{
    if (s.len < 0 || !c)
        return false;
    size_t n = strlen(c);
    return n == (size_t)s.len && (n == 0 || memcmp(s.ptr, c, n) == 0);
}

char *st_str_dup(st_str s)
{
    if (s.len < 0)
        return NULL;
    char *out = malloc((size_t)s.len + 1);
    if (!out) {
        /* Same policy as st_buf: NULL already means "null string" here. */
        fprintf(stderr, "out of memory copying a %d-byte string\n", s.len);
        abort();
    }
    if (s.len)
        memcpy(out, s.ptr, (size_t)s.len);
    out[s.len] = '\0';
    return out;
}

static void write_leb128(st_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    st_buf_append(b, tmp, n);
}

void st_wr_uvarint(st_buf *b, uint32_t v)
{
    write_leb128(b, v);
}

void st_wr_varint(st_buf *b, int32_t v)
{
    uint32_t u = (uint32_t)v;
    write_leb128(b, (u << 1) ^ (0u - (u >> 31)));
}

void st_wr_varlong(st_buf *b, int64_t v)
{
    uint64_t u = (uint64_t)v;
    write_leb128(b, (u << 1) ^ (0ull - (u >> 63)));
}

void st_wr_str(st_buf *b, bool flex, const char *s, int32_t len)
{
    if (!s) {
        if (flex)
            st_wr_uvarint(b, 0);
        else
            st_buf_put_i16(b, -1);
        return;
    }
    size_t n = len < 0 ? strlen(s) : (size_t)len;
    /* A STRING cannot be longer than int16 allows; every string we send (names,
     * messages) is far shorter, so cutting keeps the frame well-formed rather than
     * corrupting everything after it. */
    if (n > INT16_MAX)
        n = INT16_MAX;
    if (flex)
        st_wr_uvarint(b, (uint32_t)n + 1);
    else
        st_buf_put_i16(b, (int16_t)n);
    st_buf_append(b, s, n);
}

void st_wr_bytes(st_buf *b, bool flex, const void *p, int32_t len)
{
    if (!p || len < 0) {
        if (flex)
            st_wr_uvarint(b, 0);
        else
            st_buf_put_i32(b, -1);
        return;
    }
    if (flex)
        st_wr_uvarint(b, (uint32_t)len + 1);
    else
        st_buf_put_i32(b, len);
    st_buf_append(b, p, (size_t)len);
}

void st_wr_array(st_buf *b, bool flex, int32_t n)
{
    if (flex)
        st_wr_uvarint(b, n < 0 ? 0 : (uint32_t)n + 1);
    else
        st_buf_put_i32(b, n < 0 ? -1 : n);
}

void st_wr_tags(st_buf *b, bool flex)
{
    if (flex)
        st_wr_uvarint(b, 0);
}

int st_varint_size(int64_t zigzag_value)
{
    uint64_t v = (uint64_t)zigzag_value;
    int n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}
