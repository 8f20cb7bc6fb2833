/*
 * The broker's security context: who a connection is (SASL), what it may do (ACLs), and
 * the tenants, users and ACLs behind both, persisted in the metadata store.
 *
 * Files under <data_dir>/meta:
 *   credentials.json  SCRAM credentials (auth/credstore.h: never a password equivalent)
 *   security.json     {"version":1,"tenants":[...],"acls":{...}} — tenants and ACLs in one
 *                     file, because creating a tenant creates ACLs and a crash must not
 *                     leave one without the other. Written atomically on every change.
 *
 * Principals: a SASL connection is "User:<name>"; a PLAINTEXT one "User:ANONYMOUS".
 * A user that belongs to a tenant is also "Tenant:<tenant>" for authorization: a request
 * is allowed when a binding allows the user's principal or the tenant's and no binding
 * denies either (DENY wins across both), super users always.
 *
 * Everything changes live: the authorizer reads the stores on every request, so an ACL,
 * tenant membership or super-user change applies to open connections at once.
 *
 * Loop thread only.
 */
#ifndef ST_SECURITY_H
#define ST_SECURITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "auth/acl.h"
#include "auth/credstore.h"
#include "auth/guard.h"
#include "auth/tenants.h"
#include "broker/config/config.h"

typedef struct st_security st_security;

#define ST_PRINCIPAL_ANONYMOUS "User:ANONYMOUS"
#define ST_PRINCIPAL_MAX       (ST_SCRAM_USER_MAX + 8)

/* Opens (or creates) the stores under <cfg->data_dir>/meta and applies cfg's super users
 * and allow_everyone_if_no_acl_found. A malformed file fails the start with its name and
 * what is wrong. 0 and *out, or an error code with err set. */
int st_security_open(const st_broker_config *cfg, st_security **out, char *err, size_t errlen);
void st_security_free(st_security *sec);

/* security.authorizer: when false every request is allowed (ACLs are still stored). */
bool st_security_authorizer_enabled(const st_security *sec);

/* The stores (borrowed; valid while sec lives). After changing acls or tenants, call
 * st_security_commit. */
st_credstore *st_security_credstore(st_security *sec);
st_acl_store *st_security_acls(st_security *sec);
st_tenants *st_security_tenants(st_security *sec);
/* The login budget and verdict cache (security.auth_*); borrowed, valid while sec lives. */
st_auth_guard *st_security_guard(st_security *sec);

/*
 * Transactions over tenants + ACLs: st_security_begin snapshots both (a new reference,
 * NULL when out of memory); make the changes; st_security_commit writes security.json and
 * drops the snapshot. If the write fails, commit puts the snapshot back (memory never
 * claims what the disk lacks) and returns ST_ERR__IO with err set. st_security_rollback
 * restores the snapshot without writing (a change failed half way).
 */
json_t *st_security_begin(st_security *sec);
/* Moves at every commit and rollback: what was derived from the tenants or ACLs before
 * (a session's quota identity) may be stale. */
uint64_t st_security_version(const st_security *sec);
int st_security_commit(st_security *sec, json_t *snapshot, char *err, size_t errlen);
void st_security_rollback(st_security *sec, json_t *snapshot);

/*
 * The decision for `principal` ("User:alice"; its tenant is looked up from the user name)
 * connected from `host`: op on (type, name[len]) — name need not be NUL-terminated.
 * `decision` may be NULL. Super users and a disabled authorizer are allowed (decision
 * reason ST_ACL_REASON_SUPER_USER / ST_ACL_REASON_NO_ACL_FOUND when the authorizer is
 * off). For `strait explain` and the request path (broker/request/authorize.c).
 */
bool st_security_authorize(const st_security *sec, const char *principal, const char *host,
                           st_acl_operation op, st_acl_resource_type type, const char *name,
                           size_t len, st_acl_decision *decision);

/* The failed-authentication slowdown: how long to hold the failure answer to `host` (the
 * peer address without port), having counted this failure. Doubles per recent failure
 * from that address from security.failed_auth_delay_ms up to 5 s; forgotten after a
 * minute without failures. */
int64_t st_security_auth_failure_delay(st_security *sec, const char *host, int64_t now_ms);

#endif
