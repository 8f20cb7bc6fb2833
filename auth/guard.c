/*
 * The login guard: an address table (token buckets, checks in flight, log lines), the
 * checks in flight, and the verdict cache. See guard.h.
 *
 * Sizes are fixed at creation and small: ADDR_SLOTS addresses (the least recently seen
 * one without checks in flight makes room), inflight_total checks, cache_entries
 * verdicts in 4-way buckets. Lookups are linear scans of compact arrays; at the rates a
 * budget lets through that is far below a microsecond per login.
 */
#include "auth/guard.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define ADDR_SLOTS 1024
#define HOST_MAX   64
#define SECRET_LEN 32
#define CACHE_WAYS 4
#define MILLI      1000 /* token bucket units per attempt */

typedef struct addr_slot {
    char host[HOST_MAX];   /* normalised (IPv6: its /64); "" unused */
    int64_t tokens;        /* in 1/MILLI attempts */
    int64_t refill_ms;     /* when tokens were last topped up */
    int64_t seen_ms;       /* last attempt, for eviction */
    int inflight;          /* checks booked; > 0 pins the slot */
    int64_t log_window_ms; /* start of the current log window */
    int log_lines;         /* lines written in it */
    uint64_t suppressed;   /* lines skipped since the last one written */
} addr_slot;

typedef struct check {
    uint8_t key[ST_AUTH_KEY_LEN];
    void *owner; /* NULL: free */
    int slot;    /* in addrs */
} check;

typedef struct cache_entry {
    uint8_t key[ST_AUTH_KEY_LEN];
    int64_t expires_ms; /* 0: empty */
    int match;
} cache_entry;

/* The secret and the cache share one mapping, left out of core dumps (guard.h). */
typedef struct secret_area {
    uint8_t secret[SECRET_LEN];
    cache_entry entries[]; /* nbuckets * CACHE_WAYS */
} secret_area;

struct st_auth_guard {
    st_auth_guard_config cfg;
    addr_slot *addrs;
    uint32_t *addr_hash; /* hash of addrs[i].host, scanned first */
    check *checks;       /* cfg.inflight_total */
    int inflight;
    secret_area *area;
    size_t area_len;
    size_t nbuckets; /* power of two; 0: no cache */
    st_auth_guard_stats stats;
};

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* The address a budget is kept for: IPv4 as is, IPv6 cut to its /64 (one host usually
 * holds a whole /64), IPv4-mapped IPv6 as the IPv4 address. */
static void budget_key(const char *host, char *out, size_t cap)
{
    struct in6_addr a6;
    if (strchr(host, ':') && inet_pton(AF_INET6, host, &a6) == 1) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        char text[INET6_ADDRSTRLEN];
        if (memcmp(a6.s6_addr, mapped, sizeof mapped) == 0) {
            inet_ntop(AF_INET, a6.s6_addr + 12, text, sizeof text);
            snprintf(out, cap, "%s", text);
            return;
        }
        memset(a6.s6_addr + 8, 0, 8);
        inet_ntop(AF_INET6, &a6, text, sizeof text);
        snprintf(out, cap, "%s/64", text);
        return;
    }
    snprintf(out, cap, "%s", host);
}

/* The slot of host, made (evicting the least recently seen unpinned one) if absent. */
static int slot_of(st_auth_guard *g, const char *host, int64_t now_ms)
{
    char key[HOST_MAX];
    budget_key(host, key, sizeof key);
    uint32_t h = fnv1a(key);
    int victim = -1;
    for (int i = 0; i < ADDR_SLOTS; i++) {
        addr_slot *s = &g->addrs[i];
        if (g->addr_hash[i] == h && s->host[0] && strcmp(s->host, key) == 0)
            return i;
        if (s->inflight == 0 && (victim < 0 || s->seen_ms < g->addrs[victim].seen_ms))
            victim = i;
    }
    /* inflight_total <= ADDR_SLOTS / 4, so some slot is always unpinned */
    addr_slot *s = &g->addrs[victim];
    memset(s, 0, sizeof *s);
    snprintf(s->host, sizeof s->host, "%s", key);
    s->tokens = (int64_t)g->cfg.rate_per_address * MILLI; /* a full second's worth */
    s->refill_ms = now_ms;
    s->seen_ms = now_ms;
    g->addr_hash[victim] = h;
    return victim;
}

st_auth_guard *st_auth_guard_new(const st_auth_guard_config *cfg, char *err, size_t errlen)
{
    if (cfg->rate_per_address < 0 || cfg->inflight_per_address < 0 || cfg->inflight_total < 1 ||
        cfg->inflight_total > ST_AUTH_GUARD_MAX_INFLIGHT || cfg->cache_entries < 0 ||
        cfg->cache_ttl_ms < 0) {
        snprintf(err, errlen,
                 "authentication limits out of range: rate %d, in flight per address %d, in "
                 "flight in all %d (1..%d), cache %d entries for %lld ms",
                 cfg->rate_per_address, cfg->inflight_per_address, cfg->inflight_total,
                 ST_AUTH_GUARD_MAX_INFLIGHT, cfg->cache_entries, (long long)cfg->cache_ttl_ms);
        return NULL;
    }
    _Static_assert(ST_AUTH_GUARD_MAX_INFLIGHT * 4 <= ADDR_SLOTS, "room for unpinned addresses");
    st_auth_guard *g = calloc(1, sizeof *g);
    if (!g)
        goto nomem;
    g->cfg = *cfg;
    g->addrs = calloc(ADDR_SLOTS, sizeof *g->addrs);
    g->addr_hash = calloc(ADDR_SLOTS, sizeof *g->addr_hash);
    g->checks = calloc((size_t)cfg->inflight_total, sizeof *g->checks);
    if (!g->addrs || !g->addr_hash || !g->checks)
        goto nomem;
    if (cfg->cache_entries > 0 && cfg->cache_ttl_ms > 0) {
        g->nbuckets = 1;
        while (g->nbuckets * CACHE_WAYS < (size_t)cfg->cache_entries)
            g->nbuckets *= 2;
    }
    g->area_len = sizeof(secret_area) + g->nbuckets * CACHE_WAYS * sizeof(cache_entry);
    void *p = mmap(NULL, g->area_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        goto nomem;
    g->area = p;
    madvise(p, g->area_len, MADV_DONTDUMP); /* best effort: see guard.h */
    if (RAND_bytes(g->area->secret, SECRET_LEN) != 1) {
        snprintf(err, errlen, "no random bytes for the login cache key (RAND_bytes failed)");
        st_auth_guard_free(g);
        return NULL;
    }
    return g;
nomem:
    snprintf(err, errlen, "out of memory for the login guard");
    st_auth_guard_free(g);
    return NULL;
}

void st_auth_guard_free(st_auth_guard *g)
{
    if (!g)
        return;
    if (g->area) {
        OPENSSL_cleanse(g->area, g->area_len);
        munmap(g->area, g->area_len);
    }
    free(g->checks);
    free(g->addr_hash);
    free(g->addrs);
    free(g);
}

void st_auth_guard_key(const st_auth_guard *g, const st_scram_credential *cred, const char *user,
                       const char *password, size_t password_len, uint8_t key[ST_AUTH_KEY_LEN])
{
    /* Length-prefixed parts, so no two different inputs share a message. */
    uint8_t msg[16 + ST_SCRAM_MAX_SALT + ST_SCRAM_MAX_KEY + ST_SCRAM_USER_MAX + 2048];
    size_t n = 0, ulen = strnlen(user, ST_SCRAM_USER_MAX);
    size_t salt_len = cred->salt_len <= ST_SCRAM_MAX_SALT ? cred->salt_len : ST_SCRAM_MAX_SALT;
    size_t key_len = cred->key_len <= ST_SCRAM_MAX_KEY ? cred->key_len : ST_SCRAM_MAX_KEY;
    if (password_len > sizeof msg - 16 - ST_SCRAM_MAX_SALT - ST_SCRAM_MAX_KEY - ST_SCRAM_USER_MAX)
        password_len = sizeof msg - 16 - ST_SCRAM_MAX_SALT - ST_SCRAM_MAX_KEY - ST_SCRAM_USER_MAX;
    msg[n++] = (uint8_t)cred->mechanism;
    memcpy(msg + n, &cred->iterations, 4);
    n += 4;
    msg[n++] = (uint8_t)salt_len;
    memcpy(msg + n, cred->salt, salt_len);
    n += salt_len;
    msg[n++] = (uint8_t)key_len;
    memcpy(msg + n, cred->stored_key, key_len);
    n += key_len;
    msg[n++] = (uint8_t)ulen;
    memcpy(msg + n, user, ulen);
    n += ulen;
    msg[n++] = (uint8_t)(password_len >> 8);
    msg[n++] = (uint8_t)password_len;
    memcpy(msg + n, password, password_len);
    n += password_len;
    unsigned int out_len = 0;
    if (!HMAC(EVP_sha256(), g->area->secret, SECRET_LEN, msg, n, key, &out_len) ||
        out_len != ST_AUTH_KEY_LEN)
        RAND_bytes(key, ST_AUTH_KEY_LEN); /* HMAC failed: a key nothing else has */
    OPENSSL_cleanse(msg, n);
}

static cache_entry *bucket_of(st_auth_guard *g, const uint8_t key[ST_AUTH_KEY_LEN])
{
    uint64_t h;
    memcpy(&h, key, sizeof h); /* the key is a MAC: its bytes are already uniform */
    return &g->area->entries[(h & (g->nbuckets - 1)) * CACHE_WAYS];
}

int st_auth_guard_cached(st_auth_guard *g, const uint8_t key[ST_AUTH_KEY_LEN], int64_t now_ms)
{
    g->stats.lookups++;
    if (!g->nbuckets)
        return -1;
    cache_entry *b = bucket_of(g, key);
    for (int i = 0; i < CACHE_WAYS; i++) {
        if (b[i].expires_ms > now_ms && memcmp(b[i].key, key, ST_AUTH_KEY_LEN) == 0) {
            g->stats.cache_hits++;
            return b[i].match;
        }
    }
    return -1;
}

static void cache_put(st_auth_guard *g, const uint8_t key[ST_AUTH_KEY_LEN], int match,
                      int64_t now_ms)
{
    if (!g->nbuckets)
        return;
    cache_entry *b = bucket_of(g, key), *victim = &b[0];
    for (int i = 0; i < CACHE_WAYS; i++) {
        if (memcmp(b[i].key, key, ST_AUTH_KEY_LEN) == 0) {
            victim = &b[i];
            break;
        }
        if (b[i].expires_ms < victim->expires_ms)
            victim = &b[i]; /* empty (0) or expiring first */
    }
    memcpy(victim->key, key, ST_AUTH_KEY_LEN);
    victim->match = match;
    victim->expires_ms = now_ms + g->cfg.cache_ttl_ms;
}

/* Takes one check from the slot's token bucket: false when it is empty. */
static bool take_token(st_auth_guard *g, addr_slot *s, int64_t now_ms)
{
    if (g->cfg.rate_per_address == 0)
        return true;
    int64_t cap = (int64_t)g->cfg.rate_per_address * MILLI;
    if (now_ms > s->refill_ms) {
        /* rate checks a second = rate milli-units a millisecond */
        int64_t add = (now_ms - s->refill_ms) * g->cfg.rate_per_address;
        s->tokens = s->tokens + add > cap ? cap : s->tokens + add;
        s->refill_ms = now_ms;
    }
    if (s->tokens < MILLI)
        return false;
    s->tokens -= MILLI;
    return true;
}

st_auth_verdict st_auth_guard_check_begin(st_auth_guard *g, const char *host,
                                          const uint8_t key[ST_AUTH_KEY_LEN], void *owner,
                                          void **running, int64_t now_ms)
{
    check *free_check = NULL;
    for (int i = 0; i < g->cfg.inflight_total; i++) {
        check *c = &g->checks[i];
        if (c->owner && memcmp(c->key, key, ST_AUTH_KEY_LEN) == 0) {
            *running = c->owner;
            g->stats.joined++;
            return ST_AUTH_JOINED;
        }
        if (!c->owner && !free_check)
            free_check = c;
    }
    int slot = slot_of(g, host, now_ms);
    addr_slot *s = &g->addrs[slot];
    s->seen_ms = now_ms;
    /* the cheap refusals first; the token is taken only for a check that starts */
    if (g->cfg.inflight_per_address && s->inflight >= g->cfg.inflight_per_address) {
        g->stats.over_inflight++;
        return ST_AUTH_OVER_INFLIGHT;
    }
    if (!free_check) {
        g->stats.busy++;
        return ST_AUTH_BUSY;
    }
    if (!take_token(g, s, now_ms)) {
        g->stats.over_rate++;
        return ST_AUTH_OVER_RATE;
    }
    s->inflight++;
    memcpy(free_check->key, key, ST_AUTH_KEY_LEN);
    free_check->owner = owner;
    free_check->slot = slot;
    g->inflight++;
    g->stats.checks++;
    return ST_AUTH_ADMITTED;
}

void st_auth_guard_check_end(st_auth_guard *g, const uint8_t key[ST_AUTH_KEY_LEN], int match,
                             int64_t now_ms)
{
    for (int i = 0; i < g->cfg.inflight_total; i++) {
        check *c = &g->checks[i];
        if (c->owner && memcmp(c->key, key, ST_AUTH_KEY_LEN) == 0) {
            g->addrs[c->slot].inflight--;
            c->owner = NULL;
            g->inflight--;
            break;
        }
    }
    if (match >= 0)
        cache_put(g, key, match, now_ms);
}

bool st_auth_guard_log_due(st_auth_guard *g, const char *host, int64_t now_ms, uint64_t *suppressed,
                           bool *last)
{
    addr_slot *s = &g->addrs[slot_of(g, host, now_ms)];
    if (s->log_lines == 0 || now_ms - s->log_window_ms >= ST_AUTH_GUARD_LOG_MS) {
        s->log_window_ms = now_ms;
        s->log_lines = 0;
    }
    if (s->log_lines >= ST_AUTH_GUARD_LOG_BURST) {
        s->suppressed++;
        return false;
    }
    s->log_lines++;
    *last = s->log_lines == ST_AUTH_GUARD_LOG_BURST;
    *suppressed = s->suppressed;
    s->suppressed = 0;
    return true;
}

void st_auth_guard_get_stats(const st_auth_guard *g, st_auth_guard_stats *out)
{
    *out = g->stats;
    out->inflight = g->inflight;
}

const st_auth_guard_config *st_auth_guard_config_of(const st_auth_guard *g)
{
    return &g->cfg;
}
