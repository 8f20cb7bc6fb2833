/*
 * Series store (see hist.h): an open-addressing hash table of series, each a ring of
 * ST_HIST_SECONDS floats indexed by unix second (NaN = missing). Floats: 1.2 KB per
 * series, so 1,000 topics with three series each take under 4 MB.
 */
#include "admin-ui/hist.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct series {
    char *key; /* NULL: empty slot; TOMBSTONE: deleted */
    int64_t last_sec;
    float v[ST_HIST_SECONDS];
} series;

/* The slot of second t (t may be below 0 for a series' "nothing before" seconds). */
static size_t slot_of(int64_t t)
{
    int64_t m = t % ST_HIST_SECONDS;
    return (size_t)(m < 0 ? m + ST_HIST_SECONDS : m);
}

static char tombstone;
#define TOMBSTONE (&tombstone)

struct st_hist {
    series **slots;
    size_t cap, used, live; /* used counts tombstones too */
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

st_hist *st_hist_new(void)
{
    st_hist *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->cap = 1024;
    h->slots = calloc(h->cap, sizeof *h->slots);
    if (!h->slots) {
        free(h);
        return NULL;
    }
    return h;
}

void st_hist_free(st_hist *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->cap; i++)
        if (h->slots[i] && h->slots[i] != (series *)TOMBSTONE) {
            free(h->slots[i]->key);
            free(h->slots[i]);
        }
    free(h->slots);
    free(h);
}

/* The slot holding key, or (with insert) the slot to put it in; SIZE_MAX if neither. */
static size_t find(const st_hist *h, const char *key, int insert)
{
    size_t mask = h->cap - 1, first_free = SIZE_MAX;
    for (size_t i = hash(key) & mask, probes = 0; probes < h->cap; i = (i + 1) & mask, probes++) {
        series *s = h->slots[i];
        if (!s)
            return insert && first_free != SIZE_MAX ? first_free : insert ? i : SIZE_MAX;
        if (s == (series *)TOMBSTONE) {
            if (first_free == SIZE_MAX)
                first_free = i;
            continue;
        }
        if (strcmp(s->key, key) == 0)
            return i;
    }
    return insert ? first_free : SIZE_MAX;
}

static int grow(st_hist *h)
{
    size_t cap = h->cap * 2;
    series **old = h->slots, **slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    size_t old_cap = h->cap;
    h->slots = slots;
    h->cap = cap;
    h->used = h->live;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i] && old[i] != (series *)TOMBSTONE)
            h->slots[find(h, old[i]->key, 1)] = old[i];
    free(old);
    return 0;
}

int st_hist_put(st_hist *h, const char *key, int64_t sec, double value)
{
    if ((h->used + 1) * 4 > h->cap * 3 && grow(h))
        return -1;
    size_t i = find(h, key, 1);
    if (i == SIZE_MAX)
        return -1;
    series *s = h->slots[i];
    if (!s || s == (series *)TOMBSTONE) {
        series *n = malloc(sizeof *n);
        char *k = strdup(key);
        if (!n || !k) {
            free(n);
            free(k);
            return -1;
        }
        n->key = k;
        n->last_sec = sec - ST_HIST_SECONDS; /* so every earlier slot reads missing */
        for (size_t j = 0; j < ST_HIST_SECONDS; j++)
            n->v[j] = NAN;
        if (!s)
            h->used++;
        h->live++;
        h->slots[i] = s = n;
    }
    if (sec < s->last_sec)
        return 0; /* the past is not rewritten */
    for (int64_t t = s->last_sec + 1; t < sec && t <= s->last_sec + ST_HIST_SECONDS; t++)
        s->v[slot_of(t)] = NAN;
    s->v[slot_of(sec)] = (float)value;
    s->last_sec = sec;
    return 0;
}

json_t *st_hist_get(const st_hist *h, const char *key, int64_t end_sec)
{
    size_t i = find(h, key, 0);
    if (i == SIZE_MAX)
        return NULL;
    const series *s = h->slots[i];
    json_t *a = json_array();
    for (int64_t t = end_sec - ST_HIST_SECONDS + 1; a && t <= end_sec; t++) {
        bool have =
            t <= s->last_sec && t > s->last_sec - ST_HIST_SECONDS && !isnan(s->v[slot_of(t)]);
        json_array_append_new(a, have ? json_real(s->v[slot_of(t)]) : json_null());
    }
    return a;
}

void st_hist_sweep(st_hist *h, int64_t now_sec)
{
    for (size_t i = 0; i < h->cap; i++) {
        series *s = h->slots[i];
        if (!s || s == (series *)TOMBSTONE || s->last_sec >= now_sec - ST_HIST_SECONDS)
            continue;
        free(s->key);
        free(s);
        h->slots[i] = (series *)TOMBSTONE;
        h->live--;
    }
}

size_t st_hist_count(const st_hist *h)
{
    return h->live;
}
