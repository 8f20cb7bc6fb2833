/* Growable byte buffer; see buf.h. */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void st_buf_reserve(st_buf *b, size_t extra)
{
    if (b->len + extra <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        fprintf(stderr, "out of memory growing a buffer to %zu bytes\n", cap);
        abort();
    }
    b->data = p;
    b->cap = cap;
}

void st_buf_free(st_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

uint8_t *st_buf_extend(st_buf *b, size_t n)
{
    st_buf_reserve(b, n);
    uint8_t *p = b->data + b->len;
    b->len += n;
    return p;
}

void st_buf_append(st_buf *b, const void *p, size_t n)
{
    if (n)
        memcpy(st_buf_extend(b, n), p, n);
}

void st_buf_put_i8(st_buf *b, int8_t v)
{
    *st_buf_extend(b, 1) = (uint8_t)v;
}

void st_buf_put_i16(st_buf *b, int16_t v)
{
    st_put_be16(st_buf_extend(b, 2), (uint16_t)v);
}

void st_buf_put_i32(st_buf *b, int32_t v)
{
    st_put_be32(st_buf_extend(b, 4), (uint32_t)v);
}

void st_buf_put_i64(st_buf *b, int64_t v)
{
    st_put_be64(st_buf_extend(b, 8), (uint64_t)v);
}

void st_buf_patch_i32(st_buf *b, size_t pos, int32_t v)
{
    st_put_be32(b->data + pos, (uint32_t)v);
}
