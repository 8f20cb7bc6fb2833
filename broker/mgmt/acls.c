/*
 * The acls.* management commands (registered in admin.c's table), for `strait acls` and
 * the console. Every change is one security transaction (security.h), saved at once.
 *
 * Results:
 *   acls.add {...}         → {acl, created}
 *   acls.remove {filter}   → {removed: [acl], count}
 *   acls.list {filter}     → {acls: [acl]}
 * acl: {resource_type, resource_name, pattern_type, principal, host, operation, permission}.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth/acl.h"
#include "broker/mgmt/admin.h"
#include "broker/mgmt/mgmt_int.h"
#include "broker/broker_int.h"
#include "broker/security/security.h"
#include "common/errors.h"

/* ---- acls ---- */

/* The ACL enums an argument may name: the parse and print functions and the accepted
 * codes (a filter also takes the ANY value, and MATCH for pattern types). */
enum acl_kind { KIND_RESOURCE, KIND_PATTERN, KIND_OPERATION, KIND_PERMISSION };
static const struct {
    const char *key;
    int filter_min, min, max; /* codes */
} acl_kinds[] = {
    [KIND_RESOURCE] = {"resource_type", ST_ACL_RESOURCE_ANY, ST_ACL_RESOURCE_TOPIC,
                       ST_ACL_RESOURCE_DELEGATION_TOKEN},
    [KIND_PATTERN] = {"pattern_type", ST_ACL_PATTERN_ANY, ST_ACL_PATTERN_LITERAL,
                      ST_ACL_PATTERN_PREFIXED},
    [KIND_OPERATION] = {"operation", ST_ACL_OP_ANY, ST_ACL_OP_ALL, ST_ACL_OP_IDEMPOTENT_WRITE},
    [KIND_PERMISSION] = {"permission", ST_ACL_PERM_ANY, ST_ACL_PERM_DENY, ST_ACL_PERM_ALLOW},
};

static int kind_parse(enum acl_kind k, const char *s)
{
    switch (k) {
    case KIND_RESOURCE:
        return (int)st_acl_resource_type_parse(s);
    case KIND_PATTERN:
        return (int)st_acl_pattern_type_parse(s);
    case KIND_OPERATION:
        return (int)st_acl_operation_parse(s);
    default:
        return (int)st_acl_permission_parse(s);
    }
}

static const char *kind_name(enum acl_kind k, int code)
{
    switch (k) {
    case KIND_RESOURCE:
        return st_acl_resource_type_name(code);
    case KIND_PATTERN:
        return st_acl_pattern_type_name(code);
    case KIND_OPERATION:
        return st_acl_operation_name(code);
    default:
        return st_acl_permission_name(code);
    }
}

/* The accepted names of a kind, "TOPIC, GROUP, ..." into buf. */
static const char *kind_names(enum acl_kind k, bool filter, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int v = filter ? acl_kinds[k].filter_min : acl_kinds[k].min;
         v <= acl_kinds[k].max && n < len; v++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", kind_name(k, v));
    return buf;
}

/* An ACL enum argument by name (case-insensitive): *out its code, or dflt when absent.
 * `filter` also accepts ANY (and MATCH). 0, or -1 with err listing the accepted names. */
static int arg_enum(json_t *args, enum acl_kind k, bool filter, bool required, int dflt, int *out,
                    char *err, size_t errlen)
{
    char names[256];
    const char *s, *key = acl_kinds[k].key;
    *out = dflt;
    if (st_admin_arg_str(args, key, required, kind_names(k, filter, names, sizeof names), &s, err,
                         errlen))
        return -1;
    if (!s)
        return 0;
    int v = kind_parse(k, s);
    if (v < (filter ? acl_kinds[k].filter_min : acl_kinds[k].min) || v > acl_kinds[k].max) {
        snprintf(err, errlen, "\"%s\" must be one of %s, got \"%.64s\"", key, names, s);
        return -1;
    }
    *out = v;
    return 0;
}

int st_admin_acls_add(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    int rt, pt, op, perm;
    st_security *sec = st_admin_need_security(b, err, errlen);
    if (!sec)
        return -1;
    if (arg_enum(args, KIND_RESOURCE, false, true, 0, &rt, err, errlen) ||
        arg_enum(args, KIND_PATTERN, false, false, ST_ACL_PATTERN_LITERAL, &pt, err, errlen) ||
        arg_enum(args, KIND_OPERATION, false, true, 0, &op, err, errlen) ||
        arg_enum(args, KIND_PERMISSION, false, false, ST_ACL_PERM_ALLOW, &perm, err, errlen))
        return -1;
    /* The cluster has one name: it may be left out. */
    const char *name, *principal, *host;
    if (st_admin_arg_str(args, "resource_name", rt != ST_ACL_RESOURCE_CLUSTER,
                         "the resource's name (or prefix with PREFIXED; \"*\" for all)", &name, err,
                         errlen) ||
        st_admin_arg_str(args, "principal", true,
                         "who, as Type:name (User:alice, Tenant:acme, User:*)", &principal, err,
                         errlen) ||
        st_admin_arg_str(args, "host", false, "an address, or \"*\"", &host, err, errlen))
        return -1;
    st_acl_binding a = {rt,        name ? name : ST_ACL_CLUSTER_NAME,  pt,
                        principal, host ? host : ST_ACL_WILDCARD_HOST, op,
                        perm};
    int rc = st_acl_binding_validate(&a, err, errlen);
    if (rc != 0)
        return -1;
    json_t *snap = st_security_begin(sec);
    if (!snap)
        return st_admin_oom(err, errlen);
    size_t before = st_acl_store_count(st_security_acls(sec));
    rc = st_acl_add(st_security_acls(sec), &a, err, errlen);
    if (rc != 0) {
        st_security_rollback(sec, snap);
        st_admin_fill_err(rc, err, errlen);
        return -1;
    }
    bool created = st_acl_store_count(st_security_acls(sec)) > before;
    if (!created)
        st_security_rollback(sec, snap); /* already there: nothing to write */
    else if (st_security_commit(sec, snap, err, errlen) != 0)
        return -1;
    *result = json_pack("{s:o, s:b}", "acl", st_admin_acl_json(&a), "created", (int)created);
    return *result ? 0 : st_admin_oom(err, errlen);
}

/* The filter of acls.remove / acls.list: every field optional, absent = ANY. Strings
 * borrow from args. *nset counts the fields given. */
static int parse_filter(json_t *args, st_acl_filter *f, int *nset, char *err, size_t errlen)
{
    int rt, pt, op, perm;
    *nset = (int)json_object_size(args);
    if (arg_enum(args, KIND_RESOURCE, true, false, ST_ACL_RESOURCE_ANY, &rt, err, errlen) ||
        arg_enum(args, KIND_PATTERN, true, false, ST_ACL_PATTERN_ANY, &pt, err, errlen) ||
        arg_enum(args, KIND_OPERATION, true, false, ST_ACL_OP_ANY, &op, err, errlen) ||
        arg_enum(args, KIND_PERMISSION, true, false, ST_ACL_PERM_ANY, &perm, err, errlen))
        return -1;
    const char *name, *principal, *host;
    if (st_admin_arg_str(args, "resource_name", false, "a resource name", &name, err, errlen) ||
        st_admin_arg_str(args, "principal", false, "Type:name", &principal, err, errlen) ||
        st_admin_arg_str(args, "host", false, "an address or \"*\"", &host, err, errlen))
        return -1;
    *f = (st_acl_filter){rt, name, pt, principal, host, op, perm};
    return st_acl_filter_validate(f, err, errlen) == 0 ? 0 : -1;
}

int st_admin_acls_remove(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    st_acl_filter f;
    st_acl_list removed = {0};
    int nset, ret = -1;
    st_security *sec = st_admin_need_security(b, err, errlen);
    if (!sec || parse_filter(args, &f, &nset, err, errlen) != 0)
        return -1;
    if (nset == 0) {
        snprintf(err, errlen,
                 "acls.remove needs a filter (resource_type, resource_name, pattern_type, "
                 "principal, host, operation, permission); to remove every ACL say so with "
                 "resource_type \"ANY\"");
        return -1;
    }
    json_t *snap = st_security_begin(sec);
    if (!snap)
        return st_admin_oom(err, errlen);
    int rc = st_acl_remove(st_security_acls(sec), &f, &removed, err, errlen);
    if (rc != 0) {
        st_security_rollback(sec, snap);
        st_admin_fill_err(rc, err, errlen);
        goto out;
    }
    if (removed.count == 0)
        st_security_rollback(sec, snap); /* nothing matched: nothing to write */
    else if (st_security_commit(sec, snap, err, errlen) != 0)
        goto out;
    json_t *list = json_array();
    if (!list || st_admin_append_acls(list, &removed) != 0) {
        json_decref(list);
        st_admin_oom(err, errlen);
        goto out;
    }
    *result = json_pack("{s:o, s:I}", "removed", list, "count", (json_int_t)removed.count);
    ret = *result ? 0 : st_admin_oom(err, errlen);
out:
    st_acl_list_free(&removed);
    return ret;
}

int st_admin_acls_list(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    st_acl_filter f;
    st_acl_list found = {0};
    int nset, ret = -1;
    st_security *sec = st_admin_need_security(b, err, errlen);
    if (!sec || parse_filter(args, &f, &nset, err, errlen) != 0)
        return -1;
    int rc = st_acl_describe(st_security_acls(sec), &f, &found, err, errlen);
    if (rc != 0) {
        st_admin_fill_err(rc, err, errlen);
        goto out;
    }
    json_t *list = json_array();
    if (!list || st_admin_append_acls(list, &found) != 0) {
        json_decref(list);
        st_admin_oom(err, errlen);
        goto out;
    }
    *result = json_pack("{s:o}", "acls", list);
    ret = *result ? 0 : st_admin_oom(err, errlen);
out:
    st_acl_list_free(&found);
    return ret;
}
