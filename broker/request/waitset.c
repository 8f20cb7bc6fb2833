/*
 * The wait set: a chained hash table of intrusive links keyed by pointer. It doubles when
 * it holds more than two links a bucket on average, so a walk for one key looks at about
 * two links besides its own; it never shrinks (a few pointers per bucket, sized by the
 * most requests ever parked at once). Loop thread only.
 */
#include "broker/request/waitset.h"

#include <stdlib.h>

#define FIRST_BUCKETS 64

struct st_waitset {
    st_wait_link **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
};

static size_t bucket_of(const void *key, size_t nbuckets)
{
    uint64_t k = (uint64_t)(uintptr_t)key;
    k ^= k >> 33; /* allocations are aligned: mix the high bits down (murmur3's finaliser) */
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (size_t)k & (nbuckets - 1);
}

static st_wait_link **new_buckets(size_t n)
{
    st_wait_link **b = calloc(n, sizeof *b);
    if (!b)
        abort(); /* as st_buf */
    return b;
}

st_waitset *st_waitset_new(void)
{
    st_waitset *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    w->nbuckets = FIRST_BUCKETS;
    w->buckets = new_buckets(w->nbuckets);
    return w;
}

void st_waitset_free(st_waitset *w)
{
    if (!w)
        return;
    free(w->buckets);
    free(w);
}

static void chain(st_wait_link **head, st_wait_link *l)
{
    l->next = *head;
    if (*head)
        (*head)->pprev = &l->next;
    *head = l;
    l->pprev = head;
}

static void grow(st_waitset *w)
{
    size_t n = w->nbuckets * 2;
    st_wait_link **b = new_buckets(n);
    for (size_t i = 0; i < w->nbuckets; i++) {
        st_wait_link *l = w->buckets[i];
        while (l) {
            st_wait_link *next = l->next;
            chain(&b[bucket_of(l->key, n)], l);
            l = next;
        }
    }
    free(w->buckets);
    w->buckets = b;
    w->nbuckets = n;
}

void st_waitset_add(st_waitset *w, st_wait_link *l, const void *key, void *owner, int32_t index)
{
    if (w->count >= 2 * w->nbuckets)
        grow(w);
    l->key = key;
    l->owner = owner;
    l->index = index;
    chain(&w->buckets[bucket_of(key, w->nbuckets)], l);
    w->count++;
}

void st_waitset_remove(st_waitset *w, st_wait_link *l)
{
    if (!l->pprev)
        return;
    *l->pprev = l->next;
    if (l->next)
        l->next->pprev = l->pprev;
    l->next = NULL;
    l->pprev = NULL;
    w->count--;
}

static st_wait_link *from(st_wait_link *l, const void *key)
{
    while (l && l->key != key)
        l = l->next;
    return l;
}

st_wait_link *st_waitset_first(const st_waitset *w, const void *key)
{
    return from(w->buckets[bucket_of(key, w->nbuckets)], key);
}

st_wait_link *st_waitset_next(const st_wait_link *l)
{
    return from(l->next, l->key);
}

size_t st_waitset_count(const st_waitset *w)
{
    return w->count;
}
