/*
 * Peer addresses for per-address connection limits (Kafka's max.connections.per.ip and
 * max.connections.per.ip.overrides): an address type that holds IPv4 and IPv6 alike,
 * the override list's parser, and a table counting open connections per address.
 *
 * Addresses are 16 bytes, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d), so a client
 * reaching a dual-stack listener over either family counts once.
 *
 * The table is an open-addressing hash (linear probing, backward-shift deletion, so no
 * tombstones pile up as addresses come and go) with a per-table random seed: a peer
 * choosing its source addresses (an IPv6 /64 offers plenty) cannot aim them at one
 * chain. An address leaves the table when its count drops to zero, so the table is as
 * large as the set of addresses connected now. Loop thread only (no locking).
 */
#ifndef ST_IPLIMIT_H
#define ST_IPLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct st_ip {
    uint8_t b[16];
} st_ip;

/* One entry of max.connections.per.ip.overrides. */
typedef struct st_ip_limit {
    st_ip ip;
    uint32_t max;
} st_ip_limit;

/* The address of sa (AF_INET or AF_INET6); false for another family. */
bool st_ip_from_sockaddr(const struct sockaddr *sa, st_ip *out);
/* "10.0.0.1", "::1" or "[::1]" → out; false if it is not an address (names are not
 * resolved: an override names an address). */
bool st_ip_parse(const char *text, size_t len, st_ip *out);
/* "10.0.0.1" or "::1" into out. */
void st_ip_format(const st_ip *ip, char *out, size_t cap);

/* Parses "ADDR:N,ADDR:N,..." (IPv6 as [ADDR]:N or bare, split at the last colon; spaces
 * allowed around items). *out is a new array (free()) of *n entries, NULL when spec is
 * empty. Returns 0, or -1 with why naming the bad item. */
int st_ip_limits_parse(const char *spec, st_ip_limit **out, size_t *n, char *why, size_t whylen);

typedef struct st_ip_counts st_ip_counts;

/* Returns a new, empty table (aborts when out of memory, as the connection layer). */
st_ip_counts *st_ip_counts_new(void);
void st_ip_counts_free(st_ip_counts *t);
/* Open connections from ip (0 when none). */
uint32_t st_ip_counts_get(const st_ip_counts *t, const st_ip *ip);
/* One more / one fewer connection from ip; the entry goes at zero. */
void st_ip_counts_inc(st_ip_counts *t, const st_ip *ip);
void st_ip_counts_dec(st_ip_counts *t, const st_ip *ip);
/* Addresses in the table (for tests and status). */
size_t st_ip_counts_size(const st_ip_counts *t);

#endif
