/*
 * ACL names and persistence: the names Kafka prints for the enums (used by the JSON form,
 * the command-line tool and explanations) and the JSON document the broker keeps in its
 * metadata store. Uses only the public store API of acl.h.
 */
#include "auth/acl.h"

#include <stdio.h>
#include <strings.h>

#include "common/errors.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- names ---------------------------------------------------------------------------- */

static const char *const resource_names[] = {
    "UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID", "DELEGATION_TOKEN"};
static const char *const pattern_names[] = {"UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED"};
static const char *const operation_names[] = {"UNKNOWN",
                                              "ANY",
                                              "ALL",
                                              "READ",
                                              "WRITE",
                                              "CREATE",
                                              "DELETE",
                                              "ALTER",
                                              "DESCRIBE",
                                              "CLUSTER_ACTION",
                                              "DESCRIBE_CONFIGS",
                                              "ALTER_CONFIGS",
                                              "IDEMPOTENT_WRITE"};
static const char *const permission_names[] = {"UNKNOWN", "ANY", "DENY", "ALLOW"};

static const char *name_of(const char *const *names, size_t n, int code)
{
    return code >= 0 && (size_t)code < n ? names[code] : "UNKNOWN";
}

static int parse_name(const char *const *names, size_t n, const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(names[i], name) == 0)
            return (int)i;
    return 0;
}

const char *st_acl_resource_type_name(int code)
{
    return name_of(resource_names, COUNT_OF(resource_names), code);
}
const char *st_acl_pattern_type_name(int code)
{
    return name_of(pattern_names, COUNT_OF(pattern_names), code);
}
const char *st_acl_operation_name(int code)
{
    return name_of(operation_names, COUNT_OF(operation_names), code);
}
const char *st_acl_permission_name(int code)
{
    return name_of(permission_names, COUNT_OF(permission_names), code);
}
st_acl_resource_type st_acl_resource_type_parse(const char *name)
{
    return (st_acl_resource_type)parse_name(resource_names, COUNT_OF(resource_names), name);
}
st_acl_pattern_type st_acl_pattern_type_parse(const char *name)
{
    return (st_acl_pattern_type)parse_name(pattern_names, COUNT_OF(pattern_names), name);
}
st_acl_operation st_acl_operation_parse(const char *name)
{
    return (st_acl_operation)parse_name(operation_names, COUNT_OF(operation_names), name);
}
st_acl_permission st_acl_permission_parse(const char *name)
{
    return (st_acl_permission)parse_name(permission_names, COUNT_OF(permission_names), name);
}

/* ---- JSON ----------------------------------------------------------------------------- */

json_t *st_acl_store_to_json(const st_acl_store *s)
{
    st_acl_filter all = {.resource_type = ST_ACL_RESOURCE_ANY,
                         .pattern_type = ST_ACL_PATTERN_ANY,
                         .operation = ST_ACL_OP_ANY,
                         .permission = ST_ACL_PERM_ANY};
    st_acl_list list = {0};
    char why[128];
    json_t *doc = NULL, *acls = json_array();
    if (!acls || st_acl_describe(s, &all, &list, why, sizeof why) != 0)
        goto out;
    for (size_t i = 0; i < list.count; i++) {
        const st_acl_binding *b = &list.items[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "resource_type",
                              st_acl_resource_type_name(b->resource_type), "resource_name",
                              b->resource_name, "pattern_type",
                              st_acl_pattern_type_name(b->pattern_type), "principal", b->principal,
                              "host", b->host, "operation", st_acl_operation_name(b->operation),
                              "permission", st_acl_permission_name(b->permission));
        if (!o || json_array_append_new(acls, o) != 0)
            goto out;
    }
    doc = json_pack("{s:i, s:O}", "version", 1, "acls", acls);
out:
    json_decref(acls);
    st_acl_list_free(&list);
    return doc;
}

int st_acl_store_load_json(st_acl_store *s, const json_t *doc, char *err, size_t errlen)
{
    st_acl_store *fresh = st_acl_store_new();
    int rc = 0;
    if (!fresh) {
        rc = ST_ERR__NOMEM;
        goto out;
    }
    json_t *version = json_is_object(doc) ? json_object_get(doc, "version") : NULL;
    if (version && (!json_is_integer(version) || json_integer_value(version) != 1)) {
        snprintf(err, errlen, "ACL document: version must be 1 (this broker reads no other)");
        rc = ST_ERR__MALFORMED;
        goto out;
    }
    json_t *acls = json_is_object(doc) ? json_object_get(doc, "acls") : NULL;
    if (!json_is_array(acls)) {
        snprintf(err, errlen, "ACL document: expected an object with an \"acls\" array");
        rc = ST_ERR__MALFORMED;
        goto out;
    }
    size_t i;
    json_t *o;
    json_array_foreach(acls, i, o)
    {
        const char *rt = NULL, *rn = NULL, *pt = NULL, *pr = NULL, *ho = NULL, *op = NULL,
                   *pe = NULL;
        json_error_t jerr;
        if (json_unpack_ex(o, &jerr, 0, "{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "resource_type", &rt,
                           "resource_name", &rn, "pattern_type", &pt, "principal", &pr, "host", &ho,
                           "operation", &op, "permission", &pe) != 0) {
            snprintf(err, errlen, "ACL document: entry %zu: %s", i, jerr.text);
            rc = ST_ERR__MALFORMED;
            goto out;
        }
        st_acl_binding b = {.resource_type = st_acl_resource_type_parse(rt),
                            .resource_name = rn,
                            .pattern_type = st_acl_pattern_type_parse(pt),
                            .principal = pr,
                            .host = ho,
                            .operation = st_acl_operation_parse(op),
                            .permission = st_acl_permission_parse(pe)};
        char why[256];
        rc = st_acl_add(fresh, &b, why, sizeof why);
        if (rc) {
            snprintf(err, errlen, "ACL document: entry %zu: %s", i, why);
            if (rc != ST_ERR__NOMEM)
                rc = ST_ERR__MALFORMED;
            goto out;
        }
    }
    /* all parsed: swap the bindings in, keep this store's settings */
    st_acl_store_take_bindings(s, fresh);
out:
    st_acl_store_free(fresh);
    return rc;
}
