/*
 * The tenants.*, users.* and acls.* management commands (registered in admin.c's table),
 * for `strait tenants|users|acls` and the console.
 *
 * Tenants and ACLs change only inside a security transaction (st_security_begin → change →
 * st_security_commit, or st_security_rollback when a step fails half way), so a tenant is
 * never saved without its ACLs. Credentials live in their own store, which persists each
 * change at once; commands that touch both order the steps so that a failure leaves the
 * least surprising state, and say what was done when it cannot all be undone.
 *
 * A tenant owns its topic prefix through ACLs on the principal "Tenant:<name>": ALL on the
 * PREFIXED topic, group and transactional-id patterns, and IDEMPOTENT_WRITE on the cluster.
 *
 * Results (JSON objects; no key, salt or password is ever returned):
 *   tenants.create {name, prefix?}  → the tenant as tenants.describe shows it
 *   tenants.list                    → {tenants: [{name, prefix, principal, users: [..],
 *                                                 topics: N, acls: N}]}
 *   tenants.describe {name}         → {name, prefix, principal, users: [user entry],
 *                                      topics: [{name, partitions}], acls: [acl]}
 *                                     (acls: those of Tenant:<name>, then of its users)
 *   tenants.delete {name, force?}   → {name, deleted, topics_deleted: [..],
 *                                      users_removed: [..], acls_removed: N}
 *   users.add {user, password, tenant?, mechanism?, iterations?} → user entry
 *   users.remove {user, mechanism?} → {user, removed_mechanisms: [..], left_tenant}
 *   users.list                      → {users: [user entry]}
 *   acls.*: see acls.c
 * user entry: {user, mechanisms: [{mechanism, iterations}], tenant (or null)};
 * acl: {resource_type, resource_name, pattern_type, principal, host, operation, permission}.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth/acl.h"
#include "auth/credstore.h"
#include "auth/scram.h"
#include "auth/tenants.h"
#include "broker/mgmt/admin.h"
#include "broker/mgmt/mgmt_int.h"
#include "broker/broker_int.h"
#include "broker/security/security.h"
#include "common/errors.h"

#define DEFAULT_ITERATIONS 4096

static const st_scram_mech all_mechs[] = {ST_SCRAM_SHA_256, ST_SCRAM_SHA_512};
#define NMECHS (sizeof all_mechs / sizeof all_mechs[0])

/* ---- helpers ---- */

int st_admin_oom(char *err, size_t errlen)
{
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* The security context, or NULL with err set (the fuzz harness opens none). Clears err. */
st_security *st_admin_need_security(st_broker *b, char *err, size_t errlen)
{
    *err = '\0'; /* every handler starts here: err then holds only what this command says */
    if (!b->security)
        snprintf(err, errlen,
                 "the broker has no security context open (tenants, users and "
                 "ACLs are unavailable)");
    return b->security;
}

/*
 * A string argument: *out borrows it from args, or is NULL when absent or null (an error
 * naming `what` when required). Anything but a non-empty string without NUL bytes is an
 * error. 0 or -1 with err set.
 */
int st_admin_arg_str(json_t *args, const char *key, bool required, const char *what,
                     const char **out, char *err, size_t errlen)
{
    json_t *v = json_object_get(args, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (!required)
            return 0;
        snprintf(err, errlen, "\"%s\" is required: %s", key, what);
        return -1;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(err, errlen, "\"%s\" must be a non-empty string (%s)", key, what);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

/* The required "name" of a tenant (borrowed), or NULL with err set. */
static const char *arg_tenant_name(json_t *args, char *err, size_t errlen)
{
    const char *name;
    return st_admin_arg_str(args, "name", true, "the tenant name", &name, err, errlen) ? NULL
                                                                                       : name;
}

/* The required "user" (borrowed), or NULL with err set. */
static const char *arg_user(json_t *args, char *err, size_t errlen)
{
    const char *user;
    return st_admin_arg_str(args, "user", true, "the SASL user name", &user, err, errlen) ? NULL
                                                                                          : user;
}

/* An optional boolean argument; *out keeps its value when absent. */
static int arg_bool(json_t *args, const char *key, bool *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(args, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v)) {
        snprintf(err, errlen, "\"%s\" must be true or false", key);
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

/* The message for a store error that came back without one. */
void st_admin_fill_err(int code, char *err, size_t errlen)
{
    if (!*err)
        snprintf(err, errlen, "failed: %s (error %d)", st_err_name(code), code);
}

json_t *st_admin_acl_json(const st_acl_binding *a)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "resource_type",
                     st_acl_resource_type_name(a->resource_type), "resource_name", a->resource_name,
                     "pattern_type", st_acl_pattern_type_name(a->pattern_type), "principal",
                     a->principal, "host", a->host, "operation",
                     st_acl_operation_name(a->operation), "permission",
                     st_acl_permission_name(a->permission));
}

/* Display order: principal, resource type, name, pattern, operation, permission, host. */
static int acl_cmp(const void *x, const void *y)
{
    const st_acl_binding *a = x, *b = y;
    int c = strcmp(a->principal, b->principal);
    if (!c)
        c = (int)a->resource_type - (int)b->resource_type;
    if (!c)
        c = strcmp(a->resource_name, b->resource_name);
    if (!c)
        c = (int)a->pattern_type - (int)b->pattern_type;
    if (!c)
        c = (int)a->operation - (int)b->operation;
    if (!c)
        c = (int)a->permission - (int)b->permission;
    if (!c)
        c = strcmp(a->host, b->host);
    return c;
}

/* Appends the list's bindings (sorted) to arr. 0, or -1 out of memory. */
int st_admin_append_acls(json_t *arr, st_acl_list *list)
{
    if (list->count > 1)
        qsort(list->items, list->count, sizeof(*list->items), acl_cmp);
    for (size_t i = 0; i < list->count; i++)
        if (json_array_append_new(arr, st_admin_acl_json(&list->items[i])) != 0)
            return -1;
    return 0;
}

/* A filter that selects every binding of `principal`. */
static st_acl_filter principal_filter(const char *principal)
{
    return (st_acl_filter){ST_ACL_RESOURCE_ANY, NULL,           ST_ACL_PATTERN_ANY, principal, NULL,
                           ST_ACL_OP_ANY,       ST_ACL_PERM_ANY};
}

/* Appends every binding of `principal` to arr; returns how many, or -1 out of memory. */
static long acls_of(st_security *sec, const char *principal, json_t *arr)
{
    st_acl_filter f = principal_filter(principal);
    st_acl_list list = {0};
    char why[256];
    long n = -1;
    if (st_acl_describe(st_security_acls(sec), &f, &list, why, sizeof why) == 0 &&
        (!arr || st_admin_append_acls(arr, &list) == 0))
        n = (long)list.count;
    st_acl_list_free(&list);
    return n;
}

/* {user, mechanisms: [{mechanism, iterations}], tenant}: what a console shows of a user. */
static json_t *user_json(st_security *sec, const char *user)
{
    json_t *mechs = json_array();
    for (size_t i = 0; mechs && i < NMECHS; i++) {
        st_scram_credential cred;
        if (st_credstore_lookup(st_security_credstore(sec), user, all_mechs[i], &cred) != 0)
            continue;
        json_array_append_new(mechs,
                              json_pack("{s:s, s:i}", "mechanism", st_scram_mech_name(all_mechs[i]),
                                        "iterations", cred.iterations));
        memset(&cred, 0, sizeof cred);
    }
    const st_tenant *t = st_tenants_of_user(st_security_tenants(sec), user);
    return mechs ? json_pack("{s:s, s:o, s:o}", "user", user, "mechanisms", mechs, "tenant",
                             t ? json_string(t->name) : json_null())
                 : NULL;
}

/* ---- tenants ---- */

/* Topics whose names start with prefix, in name order (borrowed from the registry). */
static json_t *topics_with_prefix(st_broker *b, const char *prefix)
{
    json_t *arr = json_array();
    size_t plen = strlen(prefix), n = st_topics_count(b->topics);
    for (size_t i = 0; arr && i < n; i++) {
        const st_topic *t = st_topics_at(b->topics, i);
        if (strncmp(st_topic_name(t), prefix, plen) == 0 &&
            json_array_append_new(arr, json_pack("{s:s, s:i}", "name", st_topic_name(t),
                                                 "partitions", (int)st_topic_partition_count(t))) !=
                0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return arr;
}

static const st_tenant *find_tenant(st_security *sec, const char *name, char *err, size_t errlen)
{
    const st_tenant *t = st_tenants_find(st_security_tenants(sec), name);
    if (!t)
        snprintf(err, errlen, "no tenant named %s", name);
    return t;
}

static json_t *describe_tenant(st_broker *b, st_security *sec, const st_tenant *t, char *err,
                               size_t errlen)
{
    char principal[ST_TENANT_NAME_MAX + 16];
    json_t *users = json_array(), *acls = json_array(), *topics = topics_with_prefix(b, t->prefix);
    json_t *desc = NULL;

    if (!users || !acls || !topics)
        goto out;
    st_tenant_principal(t->name, principal, sizeof principal);
    if (acls_of(sec, principal, acls) < 0)
        goto out;
    for (size_t i = 0; i < t->nusers; i++) {
        char user_principal[ST_PRINCIPAL_MAX + 8];
        snprintf(user_principal, sizeof user_principal, "User:%s", t->users[i]);
        if (json_array_append_new(users, user_json(sec, t->users[i])) != 0 ||
            acls_of(sec, user_principal, acls) < 0)
            goto out;
    }
    desc = json_pack("{s:s, s:s, s:s, s:O, s:O, s:O}", "name", t->name, "prefix", t->prefix,
                     "principal", principal, "users", users, "topics", topics, "acls", acls);
out:
    if (!desc)
        st_admin_oom(err, errlen);
    json_decref(users);
    json_decref(acls);
    json_decref(topics);
    return desc;
}

/* The ACLs that make a tenant own its prefix. */
static int add_tenant_acls(st_security *sec, const char *principal, const char *prefix, char *err,
                           size_t errlen)
{
    static const st_acl_resource_type owned[] = {ST_ACL_RESOURCE_TOPIC, ST_ACL_RESOURCE_GROUP,
                                                 ST_ACL_RESOURCE_TRANSACTIONAL_ID};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
        st_acl_binding a = {owned[i], prefix,        ST_ACL_PATTERN_PREFIXED, principal,
                            "*",      ST_ACL_OP_ALL, ST_ACL_PERM_ALLOW};
        int rc = st_acl_add(st_security_acls(sec), &a, err, errlen);
        if (rc != 0)
            return rc;
    }
    st_acl_binding idem = {
        ST_ACL_RESOURCE_CLUSTER,    ST_ACL_CLUSTER_NAME, ST_ACL_PATTERN_LITERAL, principal, "*",
        ST_ACL_OP_IDEMPOTENT_WRITE, ST_ACL_PERM_ALLOW};
    return st_acl_add(st_security_acls(sec), &idem, err, errlen);
}

int st_admin_tenants_create(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    char principal[ST_TENANT_NAME_MAX + 16];
    st_security *sec = st_admin_need_security(b, err, errlen);
    const char *name = sec ? arg_tenant_name(args, err, errlen) : NULL, *prefix;
    if (!name || st_admin_arg_str(args, "prefix", false, "the topic prefix the tenant owns",
                                  &prefix, err, errlen))
        return -1;
    json_t *snap = st_security_begin(sec);
    if (!snap)
        return st_admin_oom(err, errlen);
    int rc = st_tenants_create(st_security_tenants(sec), name, prefix, err, errlen);
    const st_tenant *t = rc == 0 ? st_tenants_find(st_security_tenants(sec), name) : NULL;
    if (t) {
        st_tenant_principal(name, principal, sizeof principal);
        rc = add_tenant_acls(sec, principal, t->prefix, err, errlen);
    }
    if (rc != 0) {
        st_security_rollback(sec, snap);
        st_admin_fill_err(rc, err, errlen);
        return -1;
    }
    if (st_security_commit(sec, snap, err, errlen) != 0)
        return -1;
    t = st_tenants_find(st_security_tenants(sec), name);
    *result = t ? describe_tenant(b, sec, t, err, errlen) : NULL;
    return *result ? 0 : -1;
}

int st_admin_tenants_list(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    st_security *sec = st_admin_need_security(b, err, errlen);
    if (!sec)
        return -1;
    st_tenants *ts = st_security_tenants(sec);
    json_t *list = json_array();
    for (size_t i = 0; list && i < st_tenants_count(ts); i++) {
        const st_tenant *t = st_tenants_at(ts, i);
        char principal[ST_TENANT_NAME_MAX + 16];
        st_tenant_principal(t->name, principal, sizeof principal);
        json_t *users = json_array(), *topics = topics_with_prefix(b, t->prefix);
        for (size_t j = 0; users && j < t->nusers; j++)
            json_array_append_new(users, json_string(t->users[j]));
        long nacls = acls_of(sec, principal, NULL);
        json_t *row =
            users && topics && nacls >= 0
                ? json_pack("{s:s, s:s, s:s, s:O, s:I, s:I}", "name", t->name, "prefix", t->prefix,
                            "principal", principal, "users", users, "topics",
                            (json_int_t)json_array_size(topics), "acls", (json_int_t)nacls)
                : NULL;
        json_decref(users);
        json_decref(topics);
        if (!row || json_array_append_new(list, row) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    *result = list ? json_pack("{s:o}", "tenants", list) : NULL;
    return *result ? 0 : st_admin_oom(err, errlen);
}

int st_admin_tenants_describe(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    st_security *sec = st_admin_need_security(b, err, errlen);
    const char *name = sec ? arg_tenant_name(args, err, errlen) : NULL;
    const st_tenant *t = name ? find_tenant(sec, name, err, errlen) : NULL;
    if (!t)
        return -1;
    *result = describe_tenant(b, sec, t, err, errlen);
    return *result ? 0 : -1;
}

/* Removes every credential of `user`; 0, or the first failure's code with err set. */
static int remove_credentials(st_security *sec, const char *user, json_t *removed, char *err,
                              size_t errlen)
{
    for (size_t i = 0; i < NMECHS; i++) {
        int rc = st_credstore_remove(st_security_credstore(sec), user, all_mechs[i], err, errlen);
        if (rc == ST_ERR_RESOURCE_NOT_FOUND)
            continue;
        if (rc != 0)
            return rc;
        if (removed)
            json_array_append_new(removed, json_string(st_scram_mech_name(all_mechs[i])));
    }
    *err = '\0';
    return 0;
}

int st_admin_tenants_delete(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    char principal[ST_TENANT_NAME_MAX + 16];
    bool force = false;
    json_t *topics = NULL, *users = NULL, *deleted = json_array();
    int ret = -1;
    st_security *sec = st_admin_need_security(b, err, errlen);
    const char *name = sec ? arg_tenant_name(args, err, errlen) : NULL;
    const st_tenant *t = name ? find_tenant(sec, name, err, errlen) : NULL;

    if (!t || arg_bool(args, "force", &force, err, errlen) != 0)
        goto out;
    if (!deleted || !(topics = topics_with_prefix(b, t->prefix)) || !(users = json_array())) {
        st_admin_oom(err, errlen);
        goto out;
    }
    /* Copies: the tenant changes (and its strings go) below. */
    for (size_t i = 0; i < t->nusers; i++)
        if (json_array_append_new(users, json_string(t->users[i])) != 0) {
            st_admin_oom(err, errlen);
            goto out;
        }
    size_t ntopics = json_array_size(topics), i;
    json_t *v;
    if (ntopics > 0 && !force) {
        int n = snprintf(err, errlen, "tenant %s still has %zu topic%s with prefix \"%s\" (", name,
                         ntopics, ntopics == 1 ? "" : "s", t->prefix);
        json_array_foreach(topics, i, v)
        {
            if (n < 0 || (size_t)n >= errlen || i == 5)
                break;
            n += snprintf(err + n, errlen - (size_t)n, "%s%s", i ? ", " : "",
                          json_string_value(json_object_get(v, "name")));
        }
        if (n > 0 && (size_t)n < errlen)
            snprintf(err + n, errlen - (size_t)n,
                     "%s): delete them first, or pass force (strait tenants delete --force) to "
                     "delete them with the tenant",
                     ntopics > 5 ? ", ..." : "");
        goto out;
    }
    /* Topics first, in one batch as DeleteTopics does (one write of topics.json; a failed
     * write undoes them all): if they cannot go, the tenant stays and the command can be
     * repeated. */
    char why[512] = "", persist_why[512] = "";
    const char *failed = NULL;
    int code = ST_ERR_NONE;
    st_topics_defer(b->topics);
    json_array_foreach(topics, i, v)
    {
        const char *topic = json_string_value(json_object_get(v, "name"));
        if ((code = st_topics_delete(b->topics, topic, why, sizeof why)) != ST_ERR_NONE) {
            failed = topic;
            break;
        }
        json_array_append_new(deleted, json_string(topic));
    }
    if (st_topics_persist(b->topics, persist_why, sizeof persist_why) != 0) {
        snprintf(err, errlen,
                 "tenant %s: deleting its topics failed: %s; none was deleted and the tenant is "
                 "kept",
                 name, persist_why);
        goto out;
    }
    if (failed) {
        st_admin_fill_err(code, why, sizeof why);
        snprintf(err, errlen,
                 "tenant %s: deleting topic \"%s\" failed: %s; the tenant is kept (%zu of its "
                 "%zu topics deleted)",
                 name, failed, why, json_array_size(deleted), ntopics);
        goto out;
    }
    json_t *snap = st_security_begin(sec);
    if (!snap) {
        st_admin_oom(err, errlen);
        goto out;
    }
    st_tenant_principal(name, principal, sizeof principal);
    st_acl_filter f = principal_filter(principal);
    st_acl_list removed = {0};
    int rc = st_acl_remove(st_security_acls(sec), &f, &removed, err, errlen);
    size_t nacls = removed.count;
    st_acl_list_free(&removed);
    if (rc == 0)
        rc = st_tenants_delete(st_security_tenants(sec), name, err, errlen);
    if (rc != 0) {
        st_security_rollback(sec, snap);
        st_admin_fill_err(rc, err, errlen);
        goto out;
    }
    if (st_security_commit(sec, snap, err, errlen) != 0)
        goto out;
    /* The tenant is gone; its users' credentials follow (their own store). */
    json_array_foreach(users, i, v)
    {
        if (remove_credentials(sec, json_string_value(v), NULL, why, sizeof why) != 0) {
            snprintf(err, errlen,
                     "tenant %s deleted, but the credentials of user %s could not be removed: "
                     "%s; remove them with users.remove",
                     name, json_string_value(v), why);
            goto out;
        }
    }
    *result = json_pack("{s:s, s:b, s:O, s:O, s:I}", "name", name, "deleted", 1, "topics_deleted",
                        deleted, "users_removed", users, "acls_removed", (json_int_t)nacls);
    ret = *result ? 0 : st_admin_oom(err, errlen);
out:
    json_decref(topics);
    json_decref(users);
    json_decref(deleted);
    return ret;
}

/* ---- users ---- */

/* True when `user` has a credential for some mechanism. */
static bool has_credentials(st_security *sec, const char *user)
{
    st_scram_credential cred;
    bool any = false;
    for (size_t i = 0; i < NMECHS; i++)
        any |= st_credstore_lookup(st_security_credstore(sec), user, all_mechs[i], &cred) == 0;
    memset(&cred, 0, sizeof cred);
    return any;
}

/* Puts `user` into tenant `join`, or (join NULL) takes it out of its tenant, in one
 * security transaction. 0, or -1 with err set and nothing changed. */
static int set_membership(st_security *sec, const char *user, const char *join, char *err,
                          size_t errlen)
{
    st_tenants *ts = st_security_tenants(sec);
    json_t *snap = st_security_begin(sec);
    int rc = !snap  ? ST_ERR__NOMEM
             : join ? st_tenants_add_user(ts, join, user, err, errlen)
                    : st_tenants_remove_user(ts, user, err, errlen);
    if (rc != 0) {
        st_security_rollback(sec, snap);
        if (rc == ST_ERR__NOMEM)
            return st_admin_oom(err, errlen);
        st_admin_fill_err(rc, err, errlen);
        return -1;
    }
    return st_security_commit(sec, snap, err, errlen) == 0 ? 0 : -1;
}

/* The "mechanism" argument: *out the one named, or 0 when absent (meaning both). */
static int arg_mech(json_t *args, st_scram_mech *out, char *err, size_t errlen)
{
    const char *m;
    *out = 0;
    if (st_admin_arg_str(args, "mechanism", false, "SCRAM-SHA-256 or SCRAM-SHA-512", &m, err,
                         errlen))
        return -1;
    if (!m)
        return 0;
    if (!(*out = st_scram_mech_parse(m))) {
        snprintf(err, errlen,
                 "\"mechanism\" must be \"SCRAM-SHA-256\" or \"SCRAM-SHA-512\", got "
                 "\"%.64s\"",
                 m);
        return -1;
    }
    return 0;
}

int st_admin_users_add(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    st_scram_credential old[NMECHS];
    bool had[NMECHS] = {false}, set[NMECHS] = {false};
    st_scram_mech mech = 0;
    int ret = -1;
    st_security *sec = st_admin_need_security(b, err, errlen);
    const char *user = sec ? arg_user(args, err, errlen) : NULL, *password, *tenant;
    /* Never echo the password: its messages name only the argument. */
    if (!user ||
        st_admin_arg_str(args, "password", true, "the user's password", &password, err, errlen) ||
        arg_mech(args, &mech, err, errlen) ||
        st_admin_arg_str(args, "tenant", false, "the tenant to join", &tenant, err, errlen))
        return -1;
    json_t *it = json_object_get(args, "iterations");
    int iterations = DEFAULT_ITERATIONS;
    if (it && !json_is_null(it)) {
        if (!json_is_integer(it) || json_integer_value(it) < ST_SCRAM_MIN_ITERATIONS ||
            json_integer_value(it) > ST_SCRAM_MAX_ITERATIONS) {
            snprintf(err, errlen, "\"iterations\" must be an integer from %d to %d",
                     ST_SCRAM_MIN_ITERATIONS, ST_SCRAM_MAX_ITERATIONS);
            return -1;
        }
        iterations = (int)json_integer_value(it);
    }
    st_tenants *ts = st_security_tenants(sec);
    const st_tenant *cur = st_tenants_of_user(ts, user);
    bool join = false;
    if (tenant) {
        if (!find_tenant(sec, tenant, err, errlen))
            return -1;
        if (cur && strcmp(cur->name, tenant) != 0) {
            snprintf(err, errlen,
                     "user %s belongs to tenant %s: remove it first (strait users remove %s), "
                     "then add it to tenant %s",
                     user, cur->name, user, tenant);
            return -1;
        }
        join = !cur;
    }
    /* Credentials first, keeping the old ones so a later failure can put them back. */
    st_credstore *cs = st_security_credstore(sec);
    for (size_t i = 0; i < NMECHS; i++) {
        if (mech && all_mechs[i] != mech)
            continue;
        had[i] = st_credstore_lookup(cs, user, all_mechs[i], &old[i]) == 0;
        int rc =
            st_credstore_set_password(cs, user, all_mechs[i], password, iterations, err, errlen);
        if (rc != 0) {
            st_admin_fill_err(rc, err, errlen);
            goto out;
        }
        set[i] = true;
    }
    if (join && set_membership(sec, user, tenant, err, errlen) != 0)
        goto out;
    *result = user_json(sec, user);
    ret = *result ? 0 : st_admin_oom(err, errlen);
out:
    if (ret != 0) {
        /* Undo: what we replaced comes back, what we created goes. */
        char why[256];
        for (size_t i = 0; i < NMECHS; i++) {
            if (!set[i])
                continue;
            if (had[i])
                st_credstore_set(cs, user, &old[i], why, sizeof why);
            else
                st_credstore_remove(cs, user, all_mechs[i], why, sizeof why);
        }
    }
    memset(old, 0, sizeof old);
    return ret;
}

int st_admin_users_remove(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    st_scram_mech mech = 0;
    int ret = -1;
    st_security *sec = st_admin_need_security(b, err, errlen);
    const char *user = sec ? arg_user(args, err, errlen) : NULL;
    if (!user || arg_mech(args, &mech, err, errlen) != 0)
        return -1;
    st_credstore *cs = st_security_credstore(sec);
    st_tenants *ts = st_security_tenants(sec);
    const st_tenant *t = st_tenants_of_user(ts, user);
    char *tenant = t ? strdup(t->name) : NULL;
    json_t *removed = json_array();
    if ((t && !tenant) || !removed) {
        st_admin_oom(err, errlen);
        goto out;
    }
    if (!tenant && !has_credentials(sec, user)) {
        snprintf(err, errlen, "no user named %s (it has no credentials and is in no tenant)", user);
        goto out;
    }
    int rc = 0;
    if (mech) {
        rc = st_credstore_remove(cs, user, mech, err, errlen);
        if (rc == ST_ERR_RESOURCE_NOT_FOUND)
            snprintf(err, errlen, "user %s has no %s credential", user, st_scram_mech_name(mech));
        if (rc == 0)
            json_array_append_new(removed, json_string(st_scram_mech_name(mech)));
    } else {
        rc = remove_credentials(sec, user, removed, err, errlen);
    }
    if (rc != 0) {
        st_admin_fill_err(rc, err, errlen);
        goto out;
    }
    /* Without a credential left the user is gone: its membership goes too. */
    bool leave = tenant && !has_credentials(sec, user);
    if (leave && set_membership(sec, user, NULL, err, errlen) != 0) {
        char why[512];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen,
                 "user %s: credentials removed, but it is still a member of tenant %s: %s", user,
                 tenant, why);
        goto out;
    }
    *result = json_pack("{s:s, s:O, s:o}", "user", user, "removed_mechanisms", removed,
                        "left_tenant", leave ? json_string(tenant) : json_null());
    ret = *result ? 0 : st_admin_oom(err, errlen);
out:
    free(tenant);
    json_decref(removed);
    return ret;
}

typedef struct user_names {
    char **v;
    size_t n, cap;
    bool out_of_memory;
} user_names;

static void names_add(user_names *u, const char *name)
{
    if (u->out_of_memory || (u->n > 0 && strcmp(u->v[u->n - 1], name) == 0))
        return; /* credentials come sorted by user: one entry per user */
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 16;
        char **v = realloc(u->v, cap * sizeof(*v));
        if (!v) {
            u->out_of_memory = true;
            return;
        }
        u->v = v;
        u->cap = cap;
    }
    if (!(u->v[u->n] = strdup(name)))
        u->out_of_memory = true;
    else
        u->n++;
}

static void collect_user(void *arg, const char *user, const st_scram_credential *cred)
{
    names_add(arg, user);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int st_admin_users_list(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    user_names names = {0};
    st_security *sec = st_admin_need_security(b, err, errlen);
    if (!sec)
        return -1;
    st_credstore_each(st_security_credstore(sec), collect_user, &names);
    /* Tenant members without a credential (yet) are users too. */
    st_tenants *ts = st_security_tenants(sec);
    size_t ncred = names.n;
    for (size_t i = 0; i < st_tenants_count(ts); i++) {
        const st_tenant *t = st_tenants_at(ts, i);
        for (size_t j = 0; j < t->nusers; j++) {
            char *key = t->users[j];
            if (!bsearch(&key, names.v, ncred, sizeof(*names.v), str_cmp))
                names_add(&names, key);
        }
    }
    qsort(names.v, names.n, sizeof(*names.v), str_cmp);
    json_t *list = names.out_of_memory ? NULL : json_array();
    for (size_t i = 0; list && i < names.n; i++)
        if (json_array_append_new(list, user_json(sec, names.v[i])) != 0) {
            json_decref(list);
            list = NULL;
        }
    for (size_t i = 0; i < names.n; i++)
        free(names.v[i]);
    free(names.v);
    *result = list ? json_pack("{s:o}", "users", list) : NULL;
    return *result ? 0 : st_admin_oom(err, errlen);
}
