/*
 * A chunked allocator for decoded messages: a decoder puts every array of one message in
 * an arena, and the caller frees them all at once when it is done with the message, so
 * a decoder that fails half-way has nothing to unwind. Chunks are 16 KiB (or one
 * allocation's size, when larger); every allocation is zeroed and 16-byte aligned.
 *
 * Decoders check each count against the bytes left before they allocate, so an arena
 * never holds more than a small multiple of the message it came from.
 */
#ifndef ST_ARENA_H
#define ST_ARENA_H

#include <stddef.h>

typedef struct st_arena {
    struct st_arena_chunk *head;
} st_arena;

#define ST_ARENA_INIT                                                                              \
    {                                                                                              \
        NULL                                                                                       \
    }

/* Returns size zeroed bytes, valid until st_arena_free; aborts when out of memory (as
 * st_buf does). */
void *st_arena_alloc(st_arena *a, size_t size);
/* Frees everything; the arena is empty and reusable afterwards. */
void st_arena_free(st_arena *a);

#endif
