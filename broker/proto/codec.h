/*
 * The Kafka wire codec: a read cursor with a sticky error flag, and writers onto st_buf.
 *
 * Decoding never branches on every field: each st_rd_* call on a failed cursor does
 * nothing and returns a zero value, so a handler reads all its fields and checks
 * `rd->err` once at the end (nng's nni_msg style, no hidden gotos).
 *
 * Flexible versions (KIP-482) change strings, bytes and arrays to compact forms
 * (unsigned varint length + 1, 0 meaning null) and add tagged-field blocks. Every
 * reader/writer that has both forms takes `bool flex` so one handler body serves all
 * versions.
 *
 * Varints: st_*_varint/varlong are the zigzag signed forms used in records;
 * st_*_uvarint is the unsigned form used for compact lengths and tag counts.
 */
#ifndef ST_CODEC_H
#define ST_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* A string or byte run borrowed from the request buffer; len -1 means null.
 * Valid as long as the request frame it points into. Not NUL-terminated. */
typedef struct st_str {
    const char *ptr;
    int32_t len;
} st_str;

typedef struct st_rd {
    const uint8_t *p;   /* next byte */
    const uint8_t *end; /* one past the last byte */
    int err;            /* sticky: set by the first failed read, never cleared */
} st_rd;

void st_rd_init(st_rd *rd, const void *data, size_t len);
static inline size_t st_rd_left(const st_rd *rd)
{
    return (size_t)(rd->end - rd->p);
}

int8_t st_rd_i8(st_rd *rd);
int16_t st_rd_i16(st_rd *rd);
int32_t st_rd_i32(st_rd *rd);
int64_t st_rd_i64(st_rd *rd);
uint32_t st_rd_u32(st_rd *rd);
bool st_rd_bool(st_rd *rd);
int32_t st_rd_varint(st_rd *rd);   /* zigzag, at most 5 bytes */
int64_t st_rd_varlong(st_rd *rd);  /* zigzag, at most 10 bytes */
uint32_t st_rd_uvarint(st_rd *rd); /* unsigned, at most 5 bytes */
/* Skips n bytes. */
void st_rd_skip(st_rd *rd, size_t n);
/* Returns a pointer to the next n bytes and skips them (NULL on error). */
const uint8_t *st_rd_raw(st_rd *rd, size_t n);

/* STRING / NULLABLE_STRING (int16 length) or COMPACT_ forms when flex. */
st_str st_rd_str(st_rd *rd, bool flex);
/* BYTES / NULLABLE_BYTES (int32 length) or COMPACT_ forms when flex. */
st_str st_rd_bytes(st_rd *rd, bool flex);
/* Array length: int32 (-1 null) or compact (uvarint-1). A length that could not fit in
 * the bytes left (each element takes at least `min_elem_size` bytes) sets the error and
 * returns 0, so a hostile count never drives a huge allocation. Null returns -1. */
int32_t st_rd_array(st_rd *rd, bool flex, size_t min_elem_size);
/* Skips a tagged-field block when flex; nothing otherwise. */
void st_rd_tags(st_rd *rd, bool flex);

/* Copies s into a NUL-terminated string of at most cap-1 bytes; returns false (and
 * leaves dst empty) if s is null or does not fit. */
bool st_str_copy(char *dst, size_t cap, st_str s);
/* True if s equals the C string c. */
bool st_str_eq(st_str s, const char *c);
/* Returns a new malloc'd NUL-terminated copy (caller frees); NULL for a null string. */
char *st_str_dup(st_str s);

void st_wr_varint(st_buf *b, int32_t v);
void st_wr_varlong(st_buf *b, int64_t v);
void st_wr_uvarint(st_buf *b, uint32_t v);
/* s may be NULL (null string). len < 0 means strlen(s). */
void st_wr_str(st_buf *b, bool flex, const char *s, int32_t len);
void st_wr_bytes(st_buf *b, bool flex, const void *p, int32_t len); /* p NULL → null */
void st_wr_array(st_buf *b, bool flex, int32_t n);                   /* n -1 → null */
/* An empty tagged-field block when flex; nothing otherwise. */
void st_wr_tags(st_buf *b, bool flex);
static inline void st_wr_bool(st_buf *b, bool v)
{
    st_buf_put_i8(b, v ? 1 : 0);
}

/* Size in bytes of a varint/uvarint encoding (for record sizes). */
int st_varint_size(int64_t zigzag_value);

#endif
