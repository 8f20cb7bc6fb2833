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

/* Verifies one PLAIN message (`msg`, borrowed). 0: authenticated, the user name is
 * copied into user_out (NUL-terminated; cap ST_SCRAM_USER_MAX + 1 is enough).
 * ST_ERR_SASL_AUTHENTICATION_FAILED: malformed message, authzid different from the user,
 * unknown user or wrong password; `err` says which, for the log (never the password).
 * The client should get only st_plain_client_message(). */
int st_plain_verify(const st_credstore *cs, const uint8_t *msg, size_t len, char *user_out,
                    size_t user_cap, char *err, size_t errlen);

/* The generic failure message for the client; static. */
const char *st_plain_client_message(void);

#endif
