/*
 * st_waitset: requests parked until something happens to a thing named by a pointer
 * (a partition's log: data appended; later, a high watermark moved). A parked request
 * registers one link per thing it waits on; the event walks only the links of its key,
 * so an append costs nothing for the requests waiting on other partitions, however many
 * there are (it used to walk every parked fetch and hash topic names).
 *
 * The key is opaque: it is compared, hashed and never dereferenced, so a link may
 * outlive what it names (a deleted partition) without harm — a later thing at the same
 * address only wakes it early, and its owner re-checks what it waits for.
 *
 * Links belong to their owner (embedded in it, in an array); the set only chains them.
 * One set per event loop; loop thread only.
 */
#ifndef ST_WAITSET_H
#define ST_WAITSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct st_waitset st_waitset;

typedef struct st_wait_link {
    const void *key;
    void *owner;   /* the caller's, e.g. the parked fetch */
    int32_t index; /* the caller's, e.g. which of its partitions */
    /* Private to the set. */
    struct st_wait_link *next, **pprev; /* pprev NULL: not in a set */
} st_wait_link;

/* A new, empty set (aborts when out of memory, as st_buf). */
st_waitset *st_waitset_new(void);
/* Frees the set, not the links (their owners do). NULL is a no-op. */
void st_waitset_free(st_waitset *w);

/* Chains l (borrowed: it must stay put until removed) under key. */
void st_waitset_add(st_waitset *w, st_wait_link *l, const void *key, void *owner, int32_t index);
/* Unchains l; a link not in a set is left alone. */
void st_waitset_remove(st_waitset *w, st_wait_link *l);

/* The links chained under key: first, then next until NULL. Nothing may be added or
 * removed while walking (collect what to act on, act after). */
st_wait_link *st_waitset_first(const st_waitset *w, const void *key);
st_wait_link *st_waitset_next(const st_wait_link *l);

/* Links chained now. */
size_t st_waitset_count(const st_waitset *w);

#endif
