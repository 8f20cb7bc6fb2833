/*
 * st_tenants: which tenants exist, the topic prefix each owns, and which users belong to
 * which tenant. Pure data plus JSON persistence; the broker's security context
 * (broker/security/) owns one and saves it with the ACLs.
 *
 * Rules:
 *   - a tenant name is 1..64 characters of [A-Za-z0-9._-];
 *   - its prefix (default "<name>.") is 1..200 characters of Kafka's legal topic
 *     characters [A-Za-z0-9._-], and no two tenants' prefixes may overlap (neither may
 *     be a prefix of the other), so a topic name belongs to at most one tenant;
 *   - a user (the SASL user name, without "User:") belongs to at most one tenant.
 *
 * A tenant's ACLs are bindings on the principal "Tenant:<name>" (st_tenant_principal);
 * the authorizer checks a user's own principal and its tenant's, so adding a user to a
 * tenant or removing it takes effect on the next request.
 *
 * Lookups by user are O(log n) (a sorted index), for the per-request authorization path.
 * Not thread-safe: the broker uses it from the loop thread.
 */
#ifndef ST_AUTH_TENANTS_H
#define ST_AUTH_TENANTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define ST_TENANT_NAME_MAX   64
#define ST_TENANT_PREFIX_MAX 200

typedef struct st_tenant {
    char *name;
    char *prefix;
    char **users; /* sorted */
    size_t nusers;
} st_tenant;

typedef struct st_tenants st_tenants;

/* NULL when out of memory. */
st_tenants *st_tenants_new(void);
void st_tenants_free(st_tenants *ts);

/* Changes on every change. */
uint64_t st_tenants_version(const st_tenants *ts);

/*
 * Creates tenant `name` owning `prefix` (NULL or "": "<name>."). Returns 0;
 * ST_ERR_INVALID_REQUEST with the reason in err for a bad name or prefix, or a prefix
 * overlapping another tenant's (naming that tenant and its prefix);
 * ST_ERR_TOPIC_ALREADY_EXISTS is not used: an existing tenant is ST_ERR_INVALID_REQUEST
 * "tenant acme already exists"; ST_ERR__NOMEM.
 */
int st_tenants_create(st_tenants *ts, const char *name, const char *prefix, char *err,
                      size_t errlen);

/* Removes the tenant (its users become tenant-less). 0, or ST_ERR_RESOURCE_NOT_FOUND with
 * "no tenant named X". */
int st_tenants_delete(st_tenants *ts, const char *name, char *err, size_t errlen);

/* The tenant, or NULL. Borrowed: valid until the next change. */
const st_tenant *st_tenants_find(const st_tenants *ts, const char *name);
/* The tenant `user` belongs to, or NULL. Borrowed: valid until the next change. */
const st_tenant *st_tenants_of_user(const st_tenants *ts, const char *user);
/* The tenant whose prefix `topic` (len bytes, need not be NUL-terminated) starts with, or
 * NULL. */
const st_tenant *st_tenants_of_topic(const st_tenants *ts, const char *topic, size_t len);

/* Adds `user` to tenant `name`. 0 (also when already a member); ST_ERR_RESOURCE_NOT_FOUND
 * for an unknown tenant; ST_ERR_INVALID_REQUEST when the user belongs to another tenant
 * (named in err) or the user name is empty/too long (> 255). */
int st_tenants_add_user(st_tenants *ts, const char *name, const char *user, char *err,
                        size_t errlen);
/* Removes `user` from whatever tenant holds it. 0, or ST_ERR_RESOURCE_NOT_FOUND when it is
 * in none. */
int st_tenants_remove_user(st_tenants *ts, const char *user, char *err, size_t errlen);

/* Tenants in name order: count, and the i-th (borrowed). */
size_t st_tenants_count(const st_tenants *ts);
const st_tenant *st_tenants_at(const st_tenants *ts, size_t i);

/* "Tenant:<name>" into buf (always NUL-terminated); returns what snprintf returns. */
int st_tenant_principal(const char *name, char *buf, size_t buflen);

/*
 * Persistence: [{"name":"acme","prefix":"acme.","users":["alice","bob"]}, ...].
 * to_json returns a new reference (NULL: out of memory). load_json replaces everything
 * with `doc` (borrowed), all or nothing, applying the rules above: 0, ST_ERR__MALFORMED
 * with what was wrong in err, or ST_ERR__NOMEM.
 */
json_t *st_tenants_to_json(const st_tenants *ts);
int st_tenants_load_json(st_tenants *ts, const json_t *doc, char *err, size_t errlen);

#endif
