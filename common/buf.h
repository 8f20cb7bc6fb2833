/*
 * st_buf: a growable byte buffer with big-endian writers. Responses are built in one,
 * then handed to the connection. Allocation failure aborts the process (as Redis'
 * zmalloc does): a broker that cannot allocate a few KB cannot do anything useful.
 */
#ifndef ST_BUF_H
#define ST_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct st_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} st_buf;

#define ST_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void st_buf_reserve(st_buf *b, size_t extra); /* room for `extra` more bytes */
void st_buf_free(st_buf *b);                  /* frees data; the struct is reusable */
void st_buf_append(st_buf *b, const void *p, size_t n);
/* Appends n uninitialised bytes and returns where they start (valid until the next write). */
uint8_t *st_buf_extend(st_buf *b, size_t n);

void st_buf_put_i8(st_buf *b, int8_t v);
void st_buf_put_i16(st_buf *b, int16_t v);
void st_buf_put_i32(st_buf *b, int32_t v);
void st_buf_put_i64(st_buf *b, int64_t v);
/* Overwrites 4 bytes at `pos` (a size or count written before it was known). */
void st_buf_patch_i32(st_buf *b, size_t pos, int32_t v);

/* Big-endian loads and stores on raw memory. */
static inline uint16_t st_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t st_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t st_be64(const uint8_t *p)
{
    return ((uint64_t)st_be32(p) << 32) | st_be32(p + 4);
}
static inline void st_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void st_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void st_put_be64(uint8_t *p, uint64_t v)
{
    st_put_be32(p, (uint32_t)(v >> 32));
    st_put_be32(p + 4, (uint32_t)v);
}

#endif
