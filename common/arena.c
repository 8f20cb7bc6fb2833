/* The chunked allocator; see arena.h. */
#include "common/arena.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_BYTES 16384

struct st_arena_chunk {
    struct st_arena_chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

void *st_arena_alloc(st_arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    struct st_arena_chunk *c = a->head;
    if (!c || c->cap - c->used < size) {
        size_t cap = size > CHUNK_BYTES ? size : CHUNK_BYTES;
        c = malloc(sizeof *c + cap);
        if (!c)
            abort();
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

void st_arena_free(st_arena *a)
{
    while (a->head) {
        struct st_arena_chunk *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}
