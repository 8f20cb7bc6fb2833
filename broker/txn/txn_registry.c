/* The map of transactional ids; see txn_registry.h. */
#include "broker/txn/txn_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/txn/txn_log.h"
#include "common/arena.h"
#include "common/errors.h"

#define MIN_SLOTS 16

struct st_txn_registry {
    st_txn_meta **slots; /* NULL: empty */
    size_t nslots;       /* a power of two */
    size_t count;
};

static uint64_t hash_id(const char *p, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)p[i]) * 0x100000001b3ULL;
    return h;
}

static bool same_id(const st_txn_meta *m, st_str id)
{
    return strlen(m->transactional_id) == (size_t)id.len &&
           memcmp(m->transactional_id, id.ptr, (size_t)id.len) == 0;
}

st_txn_registry *st_txn_registry_new(void)
{
    st_txn_registry *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->slots = calloc(MIN_SLOTS, sizeof *r->slots);
    if (!r->slots) {
        free(r);
        return NULL;
    }
    r->nslots = MIN_SLOTS;
    return r;
}

void st_txn_registry_free(st_txn_registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nslots; i++)
        st_txn_meta_free(r->slots[i]);
    free(r->slots);
    free(r);
}

/* The slot holding id, or the empty slot where it would go. */
static size_t find_slot(const st_txn_registry *r, st_str id)
{
    size_t mask = r->nslots - 1, i = (size_t)hash_id(id.ptr, (size_t)id.len) & mask;
    while (r->slots[i] && !same_id(r->slots[i], id))
        i = (i + 1) & mask;
    return i;
}

st_txn_meta *st_txn_registry_get(const st_txn_registry *r, st_str id)
{
    if (id.len < 0)
        return NULL;
    return r->slots[find_slot(r, id)];
}

static int grow(st_txn_registry *r)
{
    size_t n = r->nslots * 2;
    st_txn_meta **slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < r->nslots; i++) {
        st_txn_meta *m = r->slots[i];
        if (!m)
            continue;
        size_t j = (size_t)hash_id(m->transactional_id, strlen(m->transactional_id)) & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = m;
    }
    free(r->slots);
    r->slots = slots;
    r->nslots = n;
    return 0;
}

int st_txn_registry_put(st_txn_registry *r, st_txn_meta *m)
{
    st_str id = {m->transactional_id, (int32_t)strlen(m->transactional_id)};
    size_t i = find_slot(r, id);
    if (r->slots[i]) {
        if (r->slots[i] != m)
            st_txn_meta_free(r->slots[i]);
        r->slots[i] = m;
        return 0;
    }
    if ((r->count + 1) * 2 > r->nslots) {
        if (grow(r))
            return -1;
        i = find_slot(r, id);
    }
    r->slots[i] = m;
    r->count++;
    return 0;
}

void st_txn_registry_remove(st_txn_registry *r, st_str id)
{
    if (id.len < 0)
        return;
    size_t mask = r->nslots - 1, i = find_slot(r, id);
    if (!r->slots[i])
        return;
    st_txn_meta_free(r->slots[i]);
    r->slots[i] = NULL;
    r->count--;
    /* backward shift: move up every entry of the run after i that may live at i */
    for (size_t j = (i + 1) & mask; r->slots[j]; j = (j + 1) & mask) {
        st_txn_meta *m = r->slots[j];
        size_t home = (size_t)hash_id(m->transactional_id, strlen(m->transactional_id)) & mask;
        /* m may move to i if its home is not in the cyclic range (i, j] */
        bool in_range = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_range) {
            r->slots[i] = m;
            r->slots[j] = NULL;
            i = j;
        }
    }
}

size_t st_txn_registry_count(const st_txn_registry *r)
{
    return r->count;
}

st_txn_meta *st_txn_registry_next(const st_txn_registry *r, size_t *cursor)
{
    while (*cursor < r->nslots) {
        st_txn_meta *m = r->slots[(*cursor)++];
        if (m)
            return m;
    }
    return NULL;
}

int st_txn_registry_load(st_txn_registry *r, st_bytes key, st_bytes value, char *why, size_t whylen)
{
    st_str id;
    if (st_txn_log_key_decode(key, &id) || memchr(id.ptr, 0, (size_t)id.len)) {
        snprintf(why, whylen,
                 "a key that is not a transactional id (version 0, a string without NUL)");
        return ST_ERR__MALFORMED;
    }
    if (!value.ptr) {
        st_txn_registry_remove(r, id);
        return 0;
    }
    st_arena a = ST_ARENA_INIT;
    st_txn_log_value v;
    int rc = st_txn_log_value_decode(value, &a, &v);
    if (rc) {
        snprintf(why, whylen, "transactional id \"%.*s\": a value of %d bytes that does not parse",
                 id.len > 100 ? 100 : (int)id.len, id.ptr, (int)value.len);
        goto out;
    }
    st_txn_meta *m = st_txn_meta_from_log(id, &v);
    if (!m || st_txn_registry_put(r, m)) {
        st_txn_meta_free(m);
        rc = -1;
    }
out:
    st_arena_free(&a);
    return rc;
}
