/*
 * Per-address connection counting and the override list (iplimit.h).
 */
#include "broker/net/iplimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/clock.h"

bool st_ip_from_sockaddr(const struct sockaddr *sa, st_ip *out)
{
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        out->b[10] = out->b[11] = 0xff;
        memcpy(out->b + 12, &in->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(out->b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return true;
    }
    return false;
}

bool st_ip_parse(const char *text, size_t len, st_ip *out)
{
    char buf[INET6_ADDRSTRLEN + 2];
    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        text++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    memset(out, 0, sizeof *out);
    struct in_addr v4;
    if (inet_pton(AF_INET, buf, &v4) == 1) {
        out->b[10] = out->b[11] = 0xff;
        memcpy(out->b + 12, &v4, 4);
        return true;
    }
    return inet_pton(AF_INET6, buf, out->b) == 1;
}

void st_ip_format(const st_ip *ip, char *out, size_t cap)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(ip->b, mapped, 12) == 0)
        inet_ntop(AF_INET, ip->b + 12, out, (socklen_t)cap);
    else
        inet_ntop(AF_INET6, ip->b, out, (socklen_t)cap);
}

int st_ip_limits_parse(const char *spec, st_ip_limit **out, size_t *n, char *why, size_t whylen)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    const char *p = spec;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, ",");
        while (len > 0 && p[len - 1] == ' ')
            len--;
        const char *colon = NULL;
        for (const char *q = p; q < p + len; q++)
            if (*q == ':')
                colon = q;
        st_ip ip;
        char *end = NULL;
        long long max = colon ? strtoll(colon + 1, &end, 10) : -1;
        if (!colon || colon + 1 == p + len || end != p + len || max < 0 || max > INT32_MAX) {
            snprintf(why, whylen,
                     "\"%.*s\" must be ADDRESS:COUNT with COUNT 0..2147483647 (e.g. "
                     "\"10.0.0.1:200\" or \"[::1]:50\")",
                     (int)len, p);
            goto fail;
        }
        if (!st_ip_parse(p, (size_t)(colon - p), &ip)) {
            snprintf(why, whylen,
                     "\"%.*s\" is not an IPv4 or IPv6 address (host names are not resolved: "
                     "name the address)",
                     (int)(colon - p), p);
            goto fail;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            st_ip_limit *grown = realloc(*out, cap * sizeof **out);
            if (!grown) {
                snprintf(why, whylen, "out of memory");
                goto fail;
            }
            *out = grown;
        }
        (*out)[(*n)++] = (st_ip_limit){ip, (uint32_t)max};
        p += len;
    }
    return 0;
fail:
    free(*out);
    *out = NULL;
    *n = 0;
    return -1;
}

/* ---- the counting table ---- */

typedef struct slot {
    st_ip ip;
    uint32_t count; /* 0: empty */
} slot;

struct st_ip_counts {
    slot *slots;
    size_t cap; /* a power of two */
    size_t used;
    uint64_t seed[2];
};

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p) {
        fprintf(stderr, "out of memory in the connection layer (%zu bytes)\n", n * size);
        abort();
    }
    return p;
}

/* A 64-bit finalizer (splitmix64's) over the two seeded halves. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static size_t home(const st_ip_counts *t, const st_ip *ip)
{
    uint64_t hi, lo;
    memcpy(&hi, ip->b, 8);
    memcpy(&lo, ip->b + 8, 8);
    return (size_t)(mix(hi ^ t->seed[0]) ^ mix(lo ^ t->seed[1] ^ 0x9e3779b97f4a7c15ULL)) &
           (t->cap - 1);
}

st_ip_counts *st_ip_counts_new(void)
{
    st_ip_counts *t = xcalloc(1, sizeof *t);
    t->cap = 64;
    t->slots = xcalloc(t->cap, sizeof *t->slots);
    if (getrandom(t->seed, sizeof t->seed, GRND_NONBLOCK) != (ssize_t)sizeof t->seed) {
        t->seed[0] = mix((uint64_t)st_mono_us());
        t->seed[1] = mix(t->seed[0] ^ (uint64_t)(uintptr_t)t);
    }
    return t;
}

void st_ip_counts_free(st_ip_counts *t)
{
    if (!t)
        return;
    free(t->slots);
    free(t);
}

/* The slot holding ip, or the empty slot where it would go. */
static slot *find(const st_ip_counts *t, const st_ip *ip)
{
    size_t i = home(t, ip);
    for (;;) {
        slot *s = &t->slots[i];
        if (s->count == 0 || memcmp(&s->ip, ip, sizeof *ip) == 0)
            return s;
        i = (i + 1) & (t->cap - 1);
    }
}

uint32_t st_ip_counts_get(const st_ip_counts *t, const st_ip *ip)
{
    return find(t, ip)->count;
}

static void grow(st_ip_counts *t)
{
    slot *old = t->slots;
    size_t old_cap = t->cap;
    t->cap *= 2;
    t->slots = xcalloc(t->cap, sizeof *t->slots);
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].count)
            *find(t, &old[i].ip) = old[i];
    free(old);
}

void st_ip_counts_inc(st_ip_counts *t, const st_ip *ip)
{
    slot *s = find(t, ip);
    if (s->count) {
        s->count++;
        return;
    }
    if ((t->used + 1) * 2 > t->cap) { /* at most half full: probes stay short */
        grow(t);
        s = find(t, ip);
    }
    s->ip = *ip;
    s->count = 1;
    t->used++;
}

void st_ip_counts_dec(st_ip_counts *t, const st_ip *ip)
{
    slot *s = find(t, ip);
    if (s->count == 0 || --s->count > 0)
        return;
    t->used--;
    /* Backward-shift deletion: pull later members of the probe run into the hole when
     * their home is at or before it, so every lookup still finds them. */
    size_t mask = t->cap - 1, hole = (size_t)(s - t->slots), i = hole;
    for (;;) {
        i = (i + 1) & mask;
        slot *next = &t->slots[i];
        if (next->count == 0)
            break;
        size_t want = home(t, &next->ip);
        /* next may move to hole unless its home lies cyclically in (hole, i]. */
        bool stays = hole <= i ? (want > hole && want <= i) : (want > hole || want <= i);
        if (stays)
            continue;
        t->slots[hole] = *next;
        hole = i;
    }
    t->slots[hole].count = 0;
}

size_t st_ip_counts_size(const st_ip_counts *t)
{
    return t->used;
}
