/*
 * SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677): credentials and the server side
 * of the exchange, as Kafka's SaslAuthenticate carries it.
 *
 * A credential is what the broker keeps per user and mechanism: salt, iteration count,
 * StoredKey = H(HMAC(SaltedPassword, "Client Key")) and ServerKey =
 * HMAC(SaltedPassword, "Server Key"), with SaltedPassword = PBKDF2-HMAC(password, salt,
 * iterations). Neither the password nor SaltedPassword is ever kept: both let an attacker
 * who reads the store log in, StoredKey/ServerKey do not (a stolen StoredKey still needs
 * a brute force of the password to produce a proof).
 *
 * Limits (Kafka's own): iterations 4096..16384 — fewer is refused (kafkajs refuses them
 * too), more would let one PLAIN login burn a core; salt 16..128 bytes.
 *
 * The server is a per-connection state machine fed the client's messages:
 *
 *     INIT --client-first--> SENT_SERVER_FIRST --client-final--> DONE
 *       |                        |
 *       +------ any error -------+----> FAILED (every later step: ILLEGAL_SASL_STATE)
 *
 * An unknown user is not refused at client-first: the store hands back a fake credential
 * derived from its secret (stable per user name), so server-first looks the same for a
 * user that exists and one that does not, and the failure comes at the proof check on
 * the same code path as a wrong password.
 *
 * Error messages written to `err` are for the broker's log ("bad proof for user alice");
 * the client gets only st_scram_server_client_message(), which says nothing about why.
 *
 * Not thread-safe: one server belongs to one connection, on its loop thread.
 */
#ifndef ST_AUTH_SCRAM_H
#define ST_AUTH_SCRAM_H

#include <stddef.h>
#include <stdint.h>

typedef enum st_scram_mech {
    ST_SCRAM_SHA_256 = 1,
    ST_SCRAM_SHA_512 = 2,
} st_scram_mech;

#define ST_SCRAM_MIN_ITERATIONS 4096
#define ST_SCRAM_MAX_ITERATIONS 16384
#define ST_SCRAM_MIN_SALT       16
#define ST_SCRAM_MAX_SALT       128
#define ST_SCRAM_SALT_LEN       32 /* what st_scram_credential_from_password generates */
#define ST_SCRAM_MAX_KEY        64 /* SHA-512 digest */
#define ST_SCRAM_USER_MAX       255

typedef struct st_scram_credential {
    st_scram_mech mechanism;
    int iterations;
    size_t salt_len;
    uint8_t salt[ST_SCRAM_MAX_SALT];
    size_t key_len; /* digest size: 32 or 64 */
    uint8_t stored_key[ST_SCRAM_MAX_KEY];
    uint8_t server_key[ST_SCRAM_MAX_KEY];
} st_scram_credential;

/* "SCRAM-SHA-256" / "SCRAM-SHA-512"; static. NULL for an unknown value. */
const char *st_scram_mech_name(st_scram_mech mech);
/* The mechanism for a Kafka name (exact, case-sensitive, as Kafka); 0 if unknown. */
st_scram_mech st_scram_mech_parse(const char *name);
/* Digest size of the mechanism: 32 or 64; 0 if unknown. */
size_t st_scram_mech_key_len(st_scram_mech mech);

/* Derives a credential from a password. `salt` NULL: ST_SCRAM_SALT_LEN random bytes
 * (RAND_bytes). Borrows everything; fills *out. Refuses iterations or salt out of range
 * with ST_ERR_INVALID_REQUEST and a message. */
int st_scram_credential_from_password(st_scram_mech mech, const char *password, size_t password_len,
                                      const uint8_t *salt, size_t salt_len, int iterations,
                                      st_scram_credential *out, char *err, size_t errlen);

/* Builds a credential from a SaltedPassword a client computed itself
 * (AlterUserScramCredentials sends salt and SaltedPassword, never the password). The
 * salted password is used and forgotten. Same limits as above. */
int st_scram_credential_from_salted(st_scram_mech mech, const uint8_t *salt, size_t salt_len,
                                    int iterations, const uint8_t *salted, size_t salted_len,
                                    st_scram_credential *out, char *err, size_t errlen);

/* Recomputes StoredKey from `password` with the credential's salt and iterations and
 * compares it in constant time. 1 on match, 0 otherwise. PLAIN uses this. */
int st_scram_credential_check_password(const st_scram_credential *cred, const char *password,
                                       size_t password_len);

/* Strict base64 (RFC 4648, padded, no whitespace). encode: writes a NUL-terminated string
 * into out (cap >= 4*ceil(n/3)+1), returns its length or -1 if cap is short. decode:
 * returns the byte count or -1 for bad input or a short cap. */
int st_scram_b64_encode(const uint8_t *in, size_t n, char *out, size_t cap);
int st_scram_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap);

/* --- the server side of one exchange --- */

struct st_credstore;
typedef struct st_scram_server st_scram_server;

/* Returns a new server (free with st_scram_server_free), NULL if out of memory or the
 * mechanism is unknown. Borrows `store`: it must outlive the server. */
st_scram_server *st_scram_server_new(const struct st_credstore *store, st_scram_mech mech);
void st_scram_server_free(st_scram_server *s);

/* Tests only: use `nonce` (printable ASCII, no ',') as the server nonce instead of a
 * random one. Must be called before the first step. Borrows `nonce` (copied).
 * ST_ERR_ILLEGAL_SASL_STATE after the first step, ST_ERR_INVALID_REQUEST if not valid. */
int st_scram_server_set_nonce(st_scram_server *s, const char *nonce);

/* Feeds the client's next message (`in`, borrowed) and produces the server's answer.
 * 0: *out is a new NUL-terminated string (caller frees) of *out_len bytes to send —
 *    server-first after client-first, server-final after client-final.
 * ST_ERR_SASL_AUTHENTICATION_FAILED: the exchange failed (malformed message, unknown
 *    user, bad proof); `err` says why, for the log; send the client
 *    st_scram_server_client_message() and close. *out is NULL.
 * ST_ERR_ILLEGAL_SASL_STATE: called after DONE or FAILED.
 * ST_ERR__NOMEM. */
int st_scram_server_step(st_scram_server *s, const uint8_t *in, size_t in_len, char **out,
                         size_t *out_len, char *err, size_t errlen);

/* 1 once client-final was verified (server-final produced), else 0. */
int st_scram_server_done(const st_scram_server *s);
/* The user name (unescaped) once client-first was parsed, else NULL. Valid until free.
 * Means authenticated only when st_scram_server_done() is 1. */
const char *st_scram_server_user(const st_scram_server *s);
/* The generic message for the client on failure; static. */
const char *st_scram_server_client_message(const st_scram_server *s);

#endif
