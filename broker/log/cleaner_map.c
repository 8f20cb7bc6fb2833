/*
 * The cleaner's key map (cleaner_int.h): record key → latest offset, as 24-byte slots
 * (two 64-bit hashes and the offset) in one linear-probing table. Keys themselves are
 * not stored, so a pass over millions of keys costs 24 bytes each (Kafka's
 * SkimpyOffsetMap stores an MD5 and the offset the same way).
 *
 * The hashes are SipHash-2-4 under two random 128-bit keys drawn per map: two equal
 * 128-bit values for different keys would make the cleaner drop a live record, so the
 * hash must stay collision-free even for keys chosen by an adversary.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "broker/log/cleaner_int.h"

typedef struct slot {
    uint64_t h1, h2;
    int64_t offset; /* -1: empty */
} slot;

struct st_key_map {
    slot *slots;
    size_t cap; /* a power of two */
    size_t count;
    size_t max_slots;
    uint64_t k[4]; /* SipHash keys: (k0, k1) for h1, (k2, k3) for h2 */
};

#define INITIAL_SLOTS ((size_t)1 << 14)
/* at most 3/4 full: linear probing stays short */
#define FULL_AT(cap) ((cap) / 4 * 3)

static inline uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = rotl(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = rotl(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = rotl(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = rotl(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = rotl(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = rotl(v2, 32);                                                                         \
    } while (0)

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t siphash24(uint64_t k0, uint64_t k1, const uint8_t *p, size_t n)
{
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    size_t whole = n & ~(size_t)7;
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m = load_le64(p + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)n << 56;
    for (size_t i = whole; i < n; i++)
        b |= (uint64_t)p[i] << (8 * (i - whole));
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static slot *alloc_slots(size_t cap)
{
    slot *s = malloc(cap * sizeof *s);
    if (s)
        for (size_t i = 0; i < cap; i++)
            s[i].offset = -1;
    return s;
}

st_key_map *st_key_map_new(size_t max_bytes)
{
    st_key_map *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->max_slots = max_bytes / sizeof(slot);
    m->cap = INITIAL_SLOTS;
    while (m->cap > 4 && m->cap > m->max_slots)
        m->cap /= 2;
    m->slots = alloc_slots(m->cap);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    if (getrandom(m->k, sizeof m->k, 0) != (ssize_t)sizeof m->k) {
        /* no entropy source: still a good hash, only not keyed against attackers */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        m->k[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL;
        m->k[1] = (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)m;
        m->k[2] = rotl(m->k[0], 29) ^ 0xc2b2ae3d27d4eb4fULL;
        m->k[3] = rotl(m->k[1], 41) ^ 0x165667b19e3779f9ULL;
    }
    return m;
}

void st_key_map_free(st_key_map *m)
{
    if (!m)
        return;
    free(m->slots);
    free(m);
}

size_t st_key_map_count(const st_key_map *m)
{
    return m->count;
}

static slot *find(slot *slots, size_t cap, uint64_t h1, uint64_t h2)
{
    size_t mask = cap - 1;
    for (size_t i = h1 & mask;; i = (i + 1) & mask) {
        slot *s = &slots[i];
        if (s->offset < 0 || (s->h1 == h1 && s->h2 == h2))
            return s;
    }
}

/* Doubles the table if the bound allows. */
static bool grow(st_key_map *m)
{
    size_t cap = m->cap * 2;
    if (cap > m->max_slots)
        return false;
    slot *slots = alloc_slots(cap);
    if (!slots)
        return false;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].offset >= 0)
            *find(slots, cap, m->slots[i].h1, m->slots[i].h2) = m->slots[i];
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return true;
}

bool st_key_map_put(st_key_map *m, const uint8_t *key, size_t len, int64_t offset)
{
    uint64_t h1 = siphash24(m->k[0], m->k[1], key, len);
    uint64_t h2 = siphash24(m->k[2], m->k[3], key, len);
    slot *s = find(m->slots, m->cap, h1, h2);
    if (s->offset >= 0) {
        if (offset > s->offset)
            s->offset = offset;
        return true;
    }
    if (m->count + 1 > FULL_AT(m->cap)) {
        if (!grow(m))
            return false;
        s = find(m->slots, m->cap, h1, h2);
    }
    *s = (slot){h1, h2, offset};
    m->count++;
    return true;
}

int64_t st_key_map_get(const st_key_map *m, const uint8_t *key, size_t len)
{
    uint64_t h1 = siphash24(m->k[0], m->k[1], key, len);
    uint64_t h2 = siphash24(m->k[2], m->k[3], key, len);
    return find(m->slots, m->cap, h1, h2)->offset;
}
