/*
 * The ACL authorizer: Kafka's access-control model, exactly.
 *
 * A binding says "principal P is ALLOWed/DENIED operation O from host H on resources
 * matching pattern R". The store keeps bindings indexed by resource type, literal names in
 * a sorted table and prefixes in a second sorted table searched only at the prefix lengths
 * that exist, so st_acl_authorize (run on every produce and fetch) never scans all bindings.
 *
 * Decision rules (Kafka's AclAuthorizer / StandardAuthorizer):
 *   1. a super user is always allowed;
 *   2. the bindings "on the resource" are those whose pattern matches it, whatever their
 *      principal, host or operation (LITERAL: same name or the literal wildcard "*";
 *      PREFIXED: the name starts with the prefix). None at all → allow_everyone_if_no_acl_found
 *      (default false);
 *   3. a binding applies to the caller when its principal is the caller's or "User:*" and its
 *      host is the caller's or "*";
 *   4. an applicable DENY of the operation or of ALL denies (DENY wins);
 *   5. an applicable ALLOW of the operation or of ALL allows; ALLOW of READ, WRITE, DELETE or
 *      ALTER also allows DESCRIBE, ALLOW of ALTER_CONFIGS also allows DESCRIBE_CONFIGS;
 *   6. otherwise denied.
 *
 * The enums carry Kafka's wire codes (CreateAcls / DescribeAcls / DeleteAcls and the Java
 * classes ResourceType, PatternType, AclOperation, AclPermissionType).
 *
 * Threads: the store has no lock of its own. Every call on one store must happen on one
 * thread or under the caller's lock. st_acl_store_version() changes on every change that can
 * change a decision, so a connection may cache decisions and drop them when it moves.
 */
#ifndef ST_AUTH_ACL_H
#define ST_AUTH_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

typedef enum st_acl_resource_type {
    ST_ACL_RESOURCE_UNKNOWN = 0,
    ST_ACL_RESOURCE_ANY = 1, /* filters only */
    ST_ACL_RESOURCE_TOPIC = 2,
    ST_ACL_RESOURCE_GROUP = 3,
    ST_ACL_RESOURCE_CLUSTER = 4,
    ST_ACL_RESOURCE_TRANSACTIONAL_ID = 5,
    ST_ACL_RESOURCE_DELEGATION_TOKEN = 6,
} st_acl_resource_type;
#define ST_ACL_RESOURCE_COUNT 7
/* The one name of the cluster resource (Kafka's). */
#define ST_ACL_CLUSTER_NAME "kafka-cluster"

typedef enum st_acl_pattern_type {
    ST_ACL_PATTERN_UNKNOWN = 0,
    ST_ACL_PATTERN_ANY = 1,   /* filters only: any pattern type, name compared exactly */
    ST_ACL_PATTERN_MATCH = 2, /* filters only: every pattern that would match the name */
    ST_ACL_PATTERN_LITERAL = 3,
    ST_ACL_PATTERN_PREFIXED = 4,
} st_acl_pattern_type;

typedef enum st_acl_operation {
    ST_ACL_OP_UNKNOWN = 0,
    ST_ACL_OP_ANY = 1, /* filters only */
    ST_ACL_OP_ALL = 2,
    ST_ACL_OP_READ = 3,
    ST_ACL_OP_WRITE = 4,
    ST_ACL_OP_CREATE = 5,
    ST_ACL_OP_DELETE = 6,
    ST_ACL_OP_ALTER = 7,
    ST_ACL_OP_DESCRIBE = 8,
    ST_ACL_OP_CLUSTER_ACTION = 9,
    ST_ACL_OP_DESCRIBE_CONFIGS = 10,
    ST_ACL_OP_ALTER_CONFIGS = 11,
    ST_ACL_OP_IDEMPOTENT_WRITE = 12,
} st_acl_operation;
#define ST_ACL_OP_COUNT 13

typedef enum st_acl_permission {
    ST_ACL_PERM_UNKNOWN = 0,
    ST_ACL_PERM_ANY = 1, /* filters only */
    ST_ACL_PERM_DENY = 2,
    ST_ACL_PERM_ALLOW = 3,
} st_acl_permission;

#define ST_ACL_WILDCARD_PRINCIPAL "User:*"
#define ST_ACL_WILDCARD_HOST      "*"
#define ST_ACL_WILDCARD_RESOURCE  "*" /* a LITERAL name matching every resource of its type */

/* One ACL. Strings are borrowed by every function taking a binding. */
typedef struct st_acl_binding {
    st_acl_resource_type resource_type;
    const char *resource_name;
    st_acl_pattern_type pattern_type;
    const char *principal; /* "User:alice", or "User:*" for everyone */
    const char *host;      /* an address, or "*" for every host */
    st_acl_operation operation;
    st_acl_permission permission;
} st_acl_binding;

/*
 * Kafka's AclBindingFilter: ANY enums and NULL strings match anything. pattern_type MATCH
 * with a name selects every binding that would apply to a resource of that name (the literal
 * name, the literal "*", every prefix of it); ANY or a concrete pattern type with a name
 * compares the name exactly. UNKNOWN values are refused.
 */
typedef struct st_acl_filter {
    st_acl_resource_type resource_type;
    const char *resource_name; /* NULL: any */
    st_acl_pattern_type pattern_type;
    const char *principal; /* NULL: any */
    const char *host;      /* NULL: any */
    st_acl_operation operation;
    st_acl_permission permission;
} st_acl_filter;

/* Bindings handed to the caller: the list owns every string of its items. */
typedef struct st_acl_list {
    st_acl_binding *items;
    size_t count, cap;
} st_acl_list;

/* Frees the items and their strings and empties the list; the struct itself is the caller's. */
void st_acl_list_free(st_acl_list *list);

typedef enum st_acl_result {
    ST_ACL_DENIED = 0,
    ST_ACL_ALLOWED = 1,
} st_acl_result;

/* Why a decision came out as it did (for `strait explain`). */
typedef enum st_acl_reason {
    ST_ACL_REASON_SUPER_USER,    /* allowed: the principal is in super.users */
    ST_ACL_REASON_NO_ACL_FOUND,  /* no binding on the resource: allow_everyone_if_no_acl_found */
    ST_ACL_REASON_DENY_BINDING,  /* denied by `binding` */
    ST_ACL_REASON_ALLOW_BINDING, /* allowed by `binding` */
    ST_ACL_REASON_NO_ALLOW,      /* denied: bindings exist on the resource, none allows this */
    ST_ACL_REASON_INVALID,       /* denied: the request named an UNKNOWN/ANY op or type */
} st_acl_reason;

typedef struct st_acl_decision {
    st_acl_result result;
    st_acl_reason reason;
    /* The deciding binding when reason is DENY_BINDING or ALLOW_BINDING. Its strings are
     * borrowed from the store: valid until the store next changes (its version moves). */
    st_acl_binding binding;
} st_acl_decision;

typedef struct st_acl_store st_acl_store;

/* Returns a new empty store (no super users, allow_everyone_if_no_acl_found false), or
 * NULL when out of memory. */
st_acl_store *st_acl_store_new(void);
/* Frees the store and every binding; NULL is fine. */
void st_acl_store_free(st_acl_store *store);

/* Changes on every change that can change a decision: add, remove, load, settings. */
uint64_t st_acl_store_version(const st_acl_store *store);
/* Number of bindings held. */
size_t st_acl_store_count(const st_acl_store *store);

/* allow.everyone.if.no.acl.found. */
void st_acl_store_set_allow_if_no_acl(st_acl_store *store, bool allow);

/*
 * super.users: replaces the list with copies of `principals` ("User:admin"). The _str form
 * takes Kafka's config syntax, "User:admin;User:ops" (blanks around entries ignored).
 * Returns 0, ST_ERR_INVALID_CONFIG (message in err) for a malformed principal, or
 * ST_ERR__NOMEM; on error the previous list is kept.
 */
int st_acl_store_set_super_users(st_acl_store *store, const char *const *principals, size_t count,
                                 char *err, size_t errlen);
int st_acl_store_set_super_users_str(st_acl_store *store, const char *list, char *err,
                                     size_t errlen);

/*
 * Checks that `binding` may be stored: concrete resource type, LITERAL or PREFIXED pattern,
 * a non-empty resource name, a principal "Type:name", a non-empty host, a concrete operation
 * and ALLOW or DENY. Returns 0 or ST_ERR_INVALID_REQUEST with the reason in err.
 */
int st_acl_binding_validate(const st_acl_binding *binding, char *err, size_t errlen);

/*
 * Adds a copy of `binding` (borrowed). Adding a binding already present succeeds and changes
 * nothing, as in Kafka. Returns 0, ST_ERR_INVALID_REQUEST (message in err) or ST_ERR__NOMEM.
 */
int st_acl_add(st_acl_store *store, const st_acl_binding *binding, char *err, size_t errlen);

/* Checks a filter for DescribeAcls / DeleteAcls: 0, or ST_ERR_INVALID_REQUEST with a message
 * when a field is UNKNOWN (or out of range). */
int st_acl_filter_validate(const st_acl_filter *filter, char *err, size_t errlen);

/* True when `filter` selects `binding` (Kafka's AclBindingFilter.matches). */
bool st_acl_filter_matches(const st_acl_filter *filter, const st_acl_binding *binding);

/*
 * DescribeAcls: appends copies of every binding the filter selects to `out` (which the caller
 * zero-initialises and frees with st_acl_list_free). Returns 0, ST_ERR_INVALID_REQUEST
 * (message in err) or ST_ERR__NOMEM.
 */
int st_acl_describe(const st_acl_store *store, const st_acl_filter *filter, st_acl_list *out,
                    char *err, size_t errlen);

/*
 * DeleteAcls: removes every binding the filter selects and appends copies of them to
 * `removed` (may be NULL when the caller does not want them). Returns 0,
 * ST_ERR_INVALID_REQUEST (message in err) or ST_ERR__NOMEM (nothing removed then).
 */
int st_acl_remove(st_acl_store *store, const st_acl_filter *filter, st_acl_list *removed, char *err,
                  size_t errlen);

/*
 * The hot path: may `principal` ("User:alice") connected from `host` (its address) perform
 * `operation` on the resource (type, name)? Fills `decision` (never NULL) and returns its
 * result. No allocation. See the rules at the top of this file.
 */
st_acl_result st_acl_authorize(const st_acl_store *store, const char *principal, const char *host,
                               st_acl_operation operation, st_acl_resource_type resource_type,
                               const char *resource_name, st_acl_decision *decision);

/* "DENIED by DENY User:alice READ on TOPIC PREFIXED \"ord\" from host *": a decision explained
 * into buf (always NUL-terminated). Returns what snprintf returns. */
int st_acl_decision_format(const st_acl_decision *decision, char *buf, size_t buflen);

/*
 * Persistence for the metadata store: {"version":1,"acls":[{"resource_type":"TOPIC",
 * "resource_name":"acme.","pattern_type":"PREFIXED","principal":"User:alice","host":"*",
 * "operation":"ALL","permission":"ALLOW"}, ...]}. Only bindings are saved; super users and
 * allow_everyone_if_no_acl_found are broker configuration.
 *
 * st_acl_store_to_json returns a new reference (NULL when out of memory).
 * st_acl_store_load_json replaces every binding with those of `doc` (borrowed): all or
 * nothing. Returns 0, ST_ERR__MALFORMED with what was wrong in err, or ST_ERR__NOMEM.
 */
json_t *st_acl_store_to_json(const st_acl_store *store);
int st_acl_store_load_json(st_acl_store *store, const json_t *doc, char *err, size_t errlen);

/* Replaces every binding of `dst` with those of `src`, leaving `src` empty (its settings and
 * super users stay). Both versions move. Lets a caller build a whole new set and switch to it
 * in one step. */
void st_acl_store_take_bindings(st_acl_store *dst, st_acl_store *src);

/* Names as Kafka prints them ("TOPIC", "PREFIXED", "DESCRIBE_CONFIGS", "ALLOW"); "UNKNOWN" for
 * a code out of range. Static strings. */
const char *st_acl_resource_type_name(int code);
const char *st_acl_pattern_type_name(int code);
const char *st_acl_operation_name(int code);
const char *st_acl_permission_name(int code);
/* The reverse, case-insensitive ("topic", "Prefixed"); the UNKNOWN value (0) when no name
 * matches. */
st_acl_resource_type st_acl_resource_type_parse(const char *name);
st_acl_pattern_type st_acl_pattern_type_parse(const char *name);
st_acl_operation st_acl_operation_parse(const char *name);
st_acl_permission st_acl_permission_parse(const char *name);

#endif
