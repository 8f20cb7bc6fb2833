/*
 * st_credstore: the SCRAM credentials of every user, per mechanism, kept in memory and
 * persisted in one JSON file.
 *
 * Only what auth/scram.h calls a credential is stored — salt, iterations, StoredKey,
 * ServerKey — never a password or SaltedPassword (a test greps the file for both).
 * PLAIN logins are checked against the same credentials (auth/plain.h), so there is one
 * place a user's secret lives.
 *
 * File format (UTF-8 JSON, binary fields base64):
 *
 *     {"version": 1,
 *      "credentials": [
 *        {"user": "alice", "mechanism": "SCRAM-SHA-256", "iterations": 4096,
 *         "salt": "<base64>", "stored_key": "<base64>", "server_key": "<base64>"}, ...]}
 *
 * Every change is written at once and atomically (write path.tmp, fsync, rename, fsync
 * the directory): a crash leaves either the old file or the new one. If the write fails
 * the change is undone in memory too, so memory never claims what the disk lacks.
 * Loading refuses a malformed file (names the file and what is wrong) rather than
 * starting with fewer users than the operator configured.
 *
 * Unknown users: the store holds a secret of 32 random bytes (made when the store is
 * opened, never written) from which st_credstore_lookup_or_fake derives a stable fake
 * credential, so SCRAM's first round trip does not reveal whether a user exists.
 *
 * Not thread-safe: the owner serialises calls (the broker uses it from one thread).
 */
#ifndef ST_AUTH_CREDSTORE_H
#define ST_AUTH_CREDSTORE_H

#include <stddef.h>

#include "auth/scram.h"

typedef struct st_credstore st_credstore;

/* Opens the store at `path` (borrowed, copied): loads it if the file exists, starts empty
 * if it does not. `path` NULL: memory only, nothing persisted. 0 and *out (a new store,
 * free with st_credstore_free); or ST_ERR__IO / ST_ERR_INVALID_CONFIG (malformed file) /
 * ST_ERR__NOMEM with a message in err. */
int st_credstore_open(const char *path, st_credstore **out, char *err, size_t errlen);
void st_credstore_free(st_credstore *cs);

/* Adds or replaces `user`'s credential for cred->mechanism, and persists. Borrows both
 * (copied). ST_ERR_INVALID_REQUEST for a bad user name (empty, longer than
 * ST_SCRAM_USER_MAX, contains NUL) or credential; ST_ERR__IO if the file write failed
 * (the store is unchanged). */
int st_credstore_set(st_credstore *cs, const char *user, const st_scram_credential *cred, char *err,
                     size_t errlen);

/* st_credstore_set with a credential derived from `password` (random salt). */
int st_credstore_set_password(st_credstore *cs, const char *user, st_scram_mech mech,
                              const char *password, int iterations, char *err, size_t errlen);

/* Removes `user`'s credential for `mech`, and persists. ST_ERR_RESOURCE_NOT_FOUND if it
 * has none; ST_ERR__IO if the write failed (the store is unchanged). */
int st_credstore_remove(st_credstore *cs, const char *user, st_scram_mech mech, char *err,
                        size_t errlen);

/* Copies `user`'s credential for `mech` into *out: 0, or ST_ERR_RESOURCE_NOT_FOUND. */
int st_credstore_lookup(const st_credstore *cs, const char *user, st_scram_mech mech,
                        st_scram_credential *out);

/* Like lookup, but for an unknown user fills *out with a fake credential (same shape,
 * keys nobody can match, stable for a given user name while the store is open).
 * Returns 1 if the user is real, 0 if *out is fake. */
int st_credstore_lookup_or_fake(const st_credstore *cs, const char *user, st_scram_mech mech,
                                st_scram_credential *out);

/* 1 if some user has a credential for `mech`, else 0. */
int st_credstore_has_mech(const st_credstore *cs, st_scram_mech mech);

/* Calls fn for every (user, credential), sorted by user then mechanism. The pointers are
 * borrowed for the call only; fn must not change the store. */
typedef void (*st_credstore_each_fn)(void *arg, const char *user, const st_scram_credential *cred);
void st_credstore_each(const st_credstore *cs, st_credstore_each_fn fn, void *arg);
size_t st_credstore_count(const st_credstore *cs);

#endif
