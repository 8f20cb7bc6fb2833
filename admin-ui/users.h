/*
 * Console users' passwords: PBKDF2-HMAC-SHA256 through OpenSSL, stored as
 *
 *   pbkdf2-sha256$<iterations>$<salt, base64>$<32-byte key, base64>
 *
 * (never the password). Verification takes as long for an unknown user as for a known
 * one (st_users_verify against a dummy hash), and is slow on purpose: it runs on a
 * worker thread, never on the event loop.
 */
#ifndef ST_CONSOLE_USERS_H
#define ST_CONSOLE_USERS_H

#include <stdbool.h>
#include <stddef.h>

#include "admin-ui/config.h"

#define ST_USERS_ITERATIONS                                                                        \
    310000 /* OWASP's 2023 floor for PBKDF2-HMAC-SHA256 is 600,000                                 \
            * with no other defence; logins here are also delayed                                  \
            * on failure and limited in number at once */
#define ST_USERS_HASH_MAX 256

/* Hashes password with a fresh random salt into out. 0, or -1 with err. Slow. */
int st_users_hash(const char *password, int iterations, char *out, size_t cap, char *err,
                  size_t errlen);

/* True when password matches hash (a malformed hash never matches). Slow; constant time
 * in the comparison. */
bool st_users_verify(const char *hash, const char *password);

/*
 * First start: when no user of cfg has role admin (none configured, none in the users
 * file), makes user "admin" (role admin) with a random password, writes it (hashed) to
 * path (mode 0600; its directory must exist), adds it to cfg and copies the password to
 * password_out for the caller to print once. 1 when an admin exists (nothing done), 0
 * when created, -1 with err.
 */
int st_users_first_start(st_con_config *cfg, const char *path, char *password_out, size_t cap,
                         char *err, size_t errlen);

#endif
