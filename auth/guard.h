/*
 * st_auth_guard: what stands between an unauthenticated peer and the costly part of a
 * login (PLAIN's PBKDF2, auth/plain.h), so that nobody without credentials can make the
 * broker burn CPU at will.
 *
 *   1. Verdicts remembered for a short while, keyed by an HMAC of (credential, user,
 *      password) under a key made at start: the same guess repeated — a flood, or a
 *      client reconnecting — costs one HMAC instead of a PBKDF2. The credential is part of
 *      the key, so a changed password or a removed user never meets an old verdict.
 *   2. One check per key at a time: a login whose exact (credential, user, password) is
 *      being checked already waits for that check instead of starting another.
 *   3. A budget per client address for the checks that remain, charged before the check
 *      starts: checks a second (a token bucket holding one second's worth) and checks in
 *      flight. IPv6 addresses count per /64, since one host usually holds a whole /64.
 *   4. A broker-wide cap on checks in flight (queued or hashing).
 *
 * So a login costs the budget only when it needs a PBKDF2 nobody else is doing: a flood
 * of one wrong password costs one check per cache period, a flood of fresh guesses gets
 * auth_attempts_per_second checks per address and then fast refusals.
 *
 * What the memory holds, and why that is acceptable: an entry is HMAC-SHA-256(k, cred ‖
 * user ‖ password) and one bit, kept at most cache_ttl_ms; k is 32 random bytes made at
 * start and never written anywhere. Without k an entry says nothing. Someone who can read
 * the process memory gets k too, and could then test guesses against the cached entries
 * at HMAC speed instead of PBKDF2 speed — but such a reader also sees every PLAIN
 * password in the request buffers as it arrives, so the cache gives away nothing new.
 * Still, the table and k live in pages marked MADV_DONTDUMP (left out of core dumps),
 * are wiped when freed, and nothing of them ever reaches a file.
 *
 * Not thread-safe: the owner's (event loop) thread only. The checks themselves run
 * elsewhere; this only books them.
 */
#ifndef ST_AUTH_GUARD_H
#define ST_AUTH_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/scram.h"

typedef struct st_auth_guard st_auth_guard;

#define ST_AUTH_KEY_LEN 32
/* Upper bound of inflight_total: the address table always has room for new addresses
 * (an address with checks in flight is never evicted). */
#define ST_AUTH_GUARD_MAX_INFLIGHT 256
/* Log lines per address: this many per this long (st_auth_guard_log_due). */
#define ST_AUTH_GUARD_LOG_BURST 10
#define ST_AUTH_GUARD_LOG_MS    10000

typedef struct st_auth_guard_config {
    int rate_per_address;     /* checks a second for one address; 0: no limit */
    int inflight_per_address; /* checks queued or running for one address; 0: no limit */
    int inflight_total;       /* checks queued or running, all addresses: 1..MAX_INFLIGHT */
    int cache_entries;        /* verdicts remembered; 0: none */
    int64_t cache_ttl_ms;     /* for this long; 0: none */
} st_auth_guard_config;

typedef enum st_auth_verdict {
    ST_AUTH_ADMITTED = 0,  /* start the check */
    ST_AUTH_JOINED,        /* the same check is running: wait for its verdict */
    ST_AUTH_OVER_RATE,     /* the address spent this second's checks */
    ST_AUTH_OVER_INFLIGHT, /* the address has inflight_per_address checks running */
    ST_AUTH_BUSY,          /* inflight_total checks running broker-wide */
} st_auth_verdict;

typedef struct st_auth_guard_stats {
    uint64_t lookups;       /* st_auth_guard_cached calls: logins that got this far */
    uint64_t cache_hits;    /* answered from a remembered verdict */
    uint64_t joined;        /* waited for an identical running check */
    uint64_t checks;        /* checks started (each one PBKDF2) */
    uint64_t over_rate;     /* refused: the address's rate */
    uint64_t over_inflight; /* refused: the address's checks in flight */
    uint64_t busy;          /* refused: the broker-wide cap */
    int inflight;           /* checks running now */
} st_auth_guard_stats;

/* A new guard (free with st_auth_guard_free), or NULL with err set (bad config, no
 * memory, no random bytes). Borrows cfg (copied). */
st_auth_guard *st_auth_guard_new(const st_auth_guard_config *cfg, char *err, size_t errlen);
void st_auth_guard_free(st_auth_guard *g);

/* The cache key of a check: HMAC(k, cred ‖ user ‖ password). Borrows everything. */
void st_auth_guard_key(const st_auth_guard *g, const st_scram_credential *cred, const char *user,
                       const char *password, size_t password_len, uint8_t key[ST_AUTH_KEY_LEN]);

/* A remembered verdict for key: 1 (password matched), 0 (it did not), -1 (none). */
int st_auth_guard_cached(st_auth_guard *g, const uint8_t key[ST_AUTH_KEY_LEN], int64_t now_ms);

/*
 * Books a check of `key` for `host` (an address without port), after a cache miss:
 *   ST_AUTH_JOINED         the same key is being checked: *running is the owner that
 *                          registered it; wait for its verdict (the caller's business).
 *                          Costs no budget;
 *   ST_AUTH_ADMITTED       charged to host's budget: run the check; `owner` (borrowed)
 *                          is registered as running it; call st_auth_guard_check_end;
 *   ST_AUTH_OVER_RATE, ST_AUTH_OVER_INFLIGHT, ST_AUTH_BUSY: refused, nothing booked.
 */
st_auth_verdict st_auth_guard_check_begin(st_auth_guard *g, const char *host,
                                          const uint8_t key[ST_AUTH_KEY_LEN], void *owner,
                                          void **running, int64_t now_ms);

/* Ends the check of key that check_begin admitted and remembers its verdict (match 1 or
 * 0; -1: the check did not run, remember nothing). */
void st_auth_guard_check_end(st_auth_guard *g, const uint8_t key[ST_AUTH_KEY_LEN], int match,
                             int64_t now_ms);

/* Log lines about `host`'s logins (failures, refusals): true when one may be written now
 * — at most ST_AUTH_GUARD_LOG_BURST per ST_AUTH_GUARD_LOG_MS per address — with
 * *suppressed the lines skipped since the last one written (to say so in it) and *last
 * set when it is the last one allowed in this window (to say that more are left out). */
bool st_auth_guard_log_due(st_auth_guard *g, const char *host, int64_t now_ms, uint64_t *suppressed,
                           bool *last);

void st_auth_guard_get_stats(const st_auth_guard *g, st_auth_guard_stats *out);

/* The configuration the guard runs with (for messages naming a limit). */
const st_auth_guard_config *st_auth_guard_config_of(const st_auth_guard *g);

#endif
