/*
 * The transaction coordinator's map of transactional ids to their state (txn_state.h),
 * and its rebuild from __transaction_state: records applied in log order, the newest
 * value of a key wins and a null value (tombstone) forgets the id, as compaction would
 * leave them. Pure: no I/O (broker/txn/coordinator.c does it).
 *
 * An open-addressing table (linear probing, FNV-1a of the id, at most half full,
 * deletion by backward shift), so lookups stay O(1) with millions of ids. Ids hold no
 * NUL byte (the coordinator refuses such ids; loading skips them).
 */
#ifndef ST_TXN_REGISTRY_H
#define ST_TXN_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "broker/log/records.h"
#include "broker/proto/codec.h"
#include "broker/txn/txn_state.h"

typedef struct st_txn_registry st_txn_registry;

/* NULL when out of memory. */
st_txn_registry *st_txn_registry_new(void);
/* Frees the registry and every state in it. NULL is ignored. */
void st_txn_registry_free(st_txn_registry *r);

/* The state of id, or NULL; borrowed, valid until it is replaced or removed. */
st_txn_meta *st_txn_registry_get(const st_txn_registry *r, st_str id);
/* Takes ownership of m, replacing (and freeing) a state with the same id. 0, or -1 when
 * out of memory (m is then still the caller's). */
int st_txn_registry_put(st_txn_registry *r, st_txn_meta *m);
/* Forgets id (freeing its state); nothing if unknown. */
void st_txn_registry_remove(st_txn_registry *r, st_str id);
size_t st_txn_registry_count(const st_txn_registry *r);
/* Iteration: start with *cursor = 0; returns the next state or NULL at the end. The
 * registry must not change during an iteration. */
st_txn_meta *st_txn_registry_next(const st_txn_registry *r, size_t *cursor);

/* Applies one __transaction_state record (key and value borrowed; value.ptr NULL is a
 * tombstone). Returns 0, ST_ERR__MALFORMED (the record is skipped; why says what was
 * wrong, for the operator) or -1 when out of memory. */
int st_txn_registry_load(st_txn_registry *r, st_bytes key, st_bytes value, char *why,
                         size_t whylen);

#endif
