/*
 * SASL PLAIN (RFC 4616): one message, `authzid NUL user NUL password`, checked against
 * the SCRAM credential store.
 *
 * The store holds no password equivalent (see credstore.h), so PLAIN cannot compare
 * passwords. Instead it recomputes what SCRAM would: SaltedPassword from the offered
 * password with the user's stored salt and iterations, then StoredKey, compared in
 * constant time with the stored one. The user's SCRAM-SHA-512 credential is used if it
 * has one, else SCRAM-SHA-256. A user with neither is checked against a fake credential
 * on the same code path, so timing does not tell an unknown user from a wrong password.
 *
 * PLAIN sends the password in clear: the broker should offer it only on SASL_SSL (or on
 * loopback), which is the listener configuration's business, not this file's.
 */
#ifndef ST_AUTH_PLAIN_H
#define ST_AUTH_PLAIN_H

#include <stddef.h>
#include <stdint.h>

#include "auth/credstore.h"
#include "auth/scram.h"

/* The longest password PLAIN accepts. */
#define ST_PLAIN_PASSWORD_MAX 1024

/*
 * One PLAIN login in two halves, so the costly one can run off the event loop:
 *
 *   st_plain_parse   (cheap, owner's thread: reads the store) splits the message and
 *                    copies the user's credential, or a dummy of the same cost, into *a;
 *   st_plain_hash    (costly: PBKDF2; any thread) touches nothing but *a;
 *   st_plain_result  says what it came to; st_plain_attempt_clear wipes the password.
 *
 * The dummy for an unknown user (auth/credstore.h: keys nobody can match, stable per user
 * name) has the mechanism and iteration count a real user's check would use — SCRAM-SHA-512
 * if any user has such a credential, as PLAIN prefers it, else SCRAM-SHA-256 — so
 * an unknown user costs what a known one does and cannot be told apart by timing.
 */
typedef struct st_plain_attempt {
    char user[ST_SCRAM_USER_MAX + 1];
    int known;                /* 1: cred is the user's; 0: a dummy */
    st_scram_credential cred; /* what the password is checked against */
    size_t password_len;
    char password[ST_PLAIN_PASSWORD_MAX]; /* cleared by st_plain_attempt_clear */
    int match;                            /* set by st_plain_hash (or a cached verdict) */
} st_plain_attempt;

/* Parses `msg` (borrowed) into *a. 0, or ST_ERR_SASL_AUTHENTICATION_FAILED for a malformed
 * message or an authzid different from the user, with `err` saying which (never the
 * password). Nothing costly happens here. */
int st_plain_parse(const st_credstore *cs, const uint8_t *msg, size_t len, st_plain_attempt *a,
                   char *err, size_t errlen);
/* PBKDF2 of the password against a->cred: sets a->match. Any thread; reads and writes only
 * *a. */
void st_plain_hash(st_plain_attempt *a);
/* 0: authenticated as a->user. ST_ERR_SASL_AUTHENTICATION_FAILED: unknown user or wrong
 * password, `err` says which, for the log. Call after st_plain_hash. */
int st_plain_result(const st_plain_attempt *a, char *err, size_t errlen);
/* Wipes the password (and the copied credential) from *a. */
void st_plain_attempt_clear(st_plain_attempt *a);

/* All of the above in one call, on the caller's thread. 0: authenticated, the user name
 * is copied into user_out (NUL-terminated; cap ST_SCRAM_USER_MAX + 1 is enough).
 * ST_ERR_SASL_AUTHENTICATION_FAILED: malformed message, authzid different from the user,
 * unknown user or wrong password; `err` says which, for the log (never the password).
 * The client should get only st_plain_client_message(). */
int st_plain_verify(const st_credstore *cs, const uint8_t *msg, size_t len, char *user_out,
                    size_t user_cap, char *err, size_t errlen);

/* The generic failure message for the client; static. */
const char *st_plain_client_message(void);

#endif
