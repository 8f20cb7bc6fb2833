/*
 * strait acls add|remove|list over the Kafka admin API (CreateAcls, DescribeAcls,
 * DeleteAcls), so they manage any Kafka cluster's ACLs. cli_security.c parses the
 * command line into the same JSON arguments the management endpoint takes, and hands
 * them here unless --via-mgmt asks for straitd's management endpoint (which needs only
 * its token: how a secured straitd gets its first rules).
 *
 * Output is the same either way: "added: ..." or "already present: ..." per rule (a
 * DescribeAcls for the exact rule first tells which), a table for list, the removed
 * rules for remove.
 */
#include <strings.h>
#include <string.h>

#include "tools/cli.h"

/* librdkafka 2.0.2 calls Kafka's CLUSTER resource type BROKER (both are code 4) and has
 * no TRANSACTIONAL_ID. */
static int resource_type(const char *name, rd_kafka_ResourceType_t *out)
{
    if (!name)
        *out = RD_KAFKA_RESOURCE_ANY;
    else if (strcmp(name, "TOPIC") == 0)
        *out = RD_KAFKA_RESOURCE_TOPIC;
    else if (strcmp(name, "GROUP") == 0)
        *out = RD_KAFKA_RESOURCE_GROUP;
    else if (strcmp(name, "CLUSTER") == 0)
        *out = RD_KAFKA_RESOURCE_BROKER;
    else
        return cli_fail("ACLs on a %s cannot be managed through librdkafka 2.0.2's admin API: "
                        "add --via-mgmt to use straitd's management endpoint",
                        name);
    return CLI_OK;
}

static const char *type_name(rd_kafka_ResourceType_t t)
{
    return t == RD_KAFKA_RESOURCE_BROKER ? "CLUSTER" : rd_kafka_ResourceType_name(t);
}

static rd_kafka_AclOperation_t operation_code(const char *name)
{
    for (int op = RD_KAFKA_ACL_OPERATION_ALL; op < RD_KAFKA_ACL_OPERATION__CNT; op++)
        if (strcasecmp(rd_kafka_AclOperation_name((rd_kafka_AclOperation_t)op), name) == 0)
            return (rd_kafka_AclOperation_t)op;
    return RD_KAFKA_ACL_OPERATION_UNKNOWN; /* the CLI checked the name already */
}

/* The rule or filter fields shared by every binding of one command. */
typedef struct acl_args {
    rd_kafka_ResourceType_t type;
    const char *name;
    rd_kafka_ResourcePatternType_t pattern;
    const char *principal, *host, *operation;
    rd_kafka_AclPermissionType_t permission;
} acl_args;

static int read_args(const json_t *args, bool filter, acl_args *a)
{
    const char *pattern = json_string_value(json_object_get(args, "pattern_type"));
    const char *permission = json_string_value(json_object_get(args, "permission"));
    if (resource_type(json_string_value(json_object_get(args, "resource_type")), &a->type))
        return CLI_FAIL;
    a->name = json_string_value(json_object_get(args, "resource_name"));
    a->pattern = pattern && strcmp(pattern, "PREFIXED") == 0 ? RD_KAFKA_RESOURCE_PATTERN_PREFIXED
                 : pattern                                   ? RD_KAFKA_RESOURCE_PATTERN_LITERAL
                 : filter                                    ? RD_KAFKA_RESOURCE_PATTERN_ANY
                                                             : RD_KAFKA_RESOURCE_PATTERN_LITERAL;
    a->principal = json_string_value(json_object_get(args, "principal"));
    a->host = json_string_value(json_object_get(args, "host"));
    if (!filter && !a->host)
        a->host = "*";
    a->operation = json_string_value(json_object_get(args, "operation"));
    a->permission = permission && strcmp(permission, "DENY") == 0
                        ? RD_KAFKA_ACL_PERMISSION_TYPE_DENY
                    : permission || !filter ? RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW
                                            : RD_KAFKA_ACL_PERMISSION_TYPE_ANY;
    return CLI_OK;
}

static rd_kafka_AclBindingFilter_t *filter_of(const acl_args *a)
{
    char err[512];
    rd_kafka_AclBindingFilter_t *f = rd_kafka_AclBindingFilter_new(
        a->type, a->name, a->pattern, a->principal, a->host,
        a->operation ? operation_code(a->operation) : RD_KAFKA_ACL_OPERATION_ANY, a->permission,
        err, sizeof err);
    if (!f)
        cli_fail("%s", err);
    return f;
}

static json_t *binding_json(const rd_kafka_AclBinding_t *b)
{
    return json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "principal", rd_kafka_AclBinding_principal(b),
        "permission", rd_kafka_AclPermissionType_name(rd_kafka_AclBinding_permission_type(b)),
        "operation", rd_kafka_AclOperation_name(rd_kafka_AclBinding_operation(b)), "resource_type",
        type_name(rd_kafka_AclBinding_restype(b)), "pattern_type",
        rd_kafka_ResourcePatternType_name(rd_kafka_AclBinding_resource_pattern_type(b)),
        "resource_name", rd_kafka_AclBinding_name(b), "host", rd_kafka_AclBinding_host(b));
}

/* DescribeAcls with the filter: a JSON array of the matching rules, or NULL (reported). */
static json_t *describe(cli_kadmin *k, const acl_args *a)
{
    rd_kafka_AclBindingFilter_t *f = filter_of(a);
    if (!f)
        return NULL;
    rd_kafka_AdminOptions_t *o = cli_kadmin_options(k, RD_KAFKA_ADMIN_OP_DESCRIBEACLS);
    rd_kafka_DescribeAcls(k->rk, f, o, k->queue);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_AclBinding_destroy(f);
    rd_kafka_event_t *ev = cli_kadmin_wait(k, RD_KAFKA_EVENT_DESCRIBEACLS_RESULT, "listing ACLs");
    if (!ev)
        return NULL;
    size_t n;
    const rd_kafka_AclBinding_t **acls =
        rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev), &n);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out, binding_json(acls[i]));
    rd_kafka_event_destroy(ev);
    return out;
}

static void print_rule(const char *verb, const json_t *r)
{
    /* Principals, names and hosts are anyone's choosing who may alter ACLs: escaped. */
    char *principal = cli_safe(json_string_value(json_object_get(r, "principal")));
    char *name = cli_safe(json_string_value(json_object_get(r, "resource_name")));
    char *host = cli_safe(json_string_value(json_object_get(r, "host")));
    printf("%s: %s %s %s on %s %s \"%s\" from host %s\n", verb,
           json_string_value(json_object_get(r, "permission")), principal,
           json_string_value(json_object_get(r, "operation")),
           json_string_value(json_object_get(r, "resource_type")),
           json_string_value(json_object_get(r, "pattern_type")), name, host);
    free(principal);
    free(name);
    free(host);
}

/* One rule: already there, or created. Appends {acl, created} to results. */
static int add_one(cli_kadmin *k, const acl_args *a, json_t *results, bool quiet)
{
    char err[512];
    json_t *present = describe(k, a);
    if (!present)
        return CLI_FAIL;
    rd_kafka_AclBinding_t *b =
        rd_kafka_AclBinding_new(a->type, a->name, a->pattern, a->principal, a->host,
                                operation_code(a->operation), a->permission, err, sizeof err);
    if (!b) {
        json_decref(present);
        return cli_fail("%s", err);
    }
    json_t *rule = binding_json(b);
    int rc = CLI_OK;
    bool created = json_array_size(present) == 0;
    if (created) {
        rd_kafka_AdminOptions_t *o = cli_kadmin_options(k, RD_KAFKA_ADMIN_OP_CREATEACLS);
        rd_kafka_CreateAcls(k->rk, &b, 1, o, k->queue);
        rd_kafka_AdminOptions_destroy(o);
        rd_kafka_event_t *ev =
            cli_kadmin_wait(k, RD_KAFKA_EVENT_CREATEACLS_RESULT, "adding an ACL");
        if (!ev) {
            rc = CLI_FAIL;
        } else {
            size_t n;
            const rd_kafka_acl_result_t **res =
                rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &n);
            const rd_kafka_error_t *e = n == 1 ? rd_kafka_acl_result_error(res[0]) : NULL;
            if (e)
                rc = cli_fail("ACL not added: %s", rd_kafka_error_string(e));
            rd_kafka_event_destroy(ev);
        }
    }
    if (rc == CLI_OK) {
        if (!quiet)
            print_rule(created ? "added" : "already present", rule);
        json_array_append_new(results, json_pack("{s:O,s:b}", "acl", rule, "created", created));
    }
    json_decref(rule);
    json_decref(present);
    rd_kafka_AclBinding_destroy(b);
    return rc;
}

static void print_table(const json_t *acls)
{
    static const char *const head[] = {"PRINCIPAL", "PERMISSION", "OPERATION", "RESOURCE-TYPE",
                                       "PATTERN",   "RESOURCE",   "HOST"};
    static const char *const keys[] = {"principal",     "permission",   "operation",
                                       "resource_type", "pattern_type", "resource_name",
                                       "host"};
    cli_table t;
    size_t i;
    json_t *v;
    cli_table_init(&t, 7, head);
    json_array_foreach(acls, i, v)
    {
        const char *row[7];
        for (int k = 0; k < 7; k++)
            row[k] = json_string_value(json_object_get(v, keys[k]));
        cli_table_row(&t, row);
    }
    cli_table_print(&t, stdout);
    cli_table_free(&t);
}

int cli_acls_kafka(cli_ctx *c, int mode, json_t *args, const cli_list *principals,
                   const cli_list *operations)
{
    cli_kadmin k = {0};
    acl_args a;
    int rc = CLI_FAIL;
    json_t *out = NULL;
    if (read_args(args, mode != 0, &a) != CLI_OK || cli_kadmin_open(c, &k) != CLI_OK)
        goto done;
    if (mode == 0) { /* add: every principal with every operation */
        out = json_array();
        rc = CLI_OK;
        for (size_t p = 0; p < principals->n; p++)
            for (size_t o = 0; o < operations->n; o++) {
                a.principal = principals->v[p];
                a.operation = operations->v[o];
                if (add_one(&k, &a, out, c->json) != CLI_OK)
                    rc = CLI_FAIL;
            }
        if (c->json)
            cli_print_json(json_array_size(out) == 1 ? json_array_get(out, 0) : out);
    } else if (mode == 2) { /* list */
        if (!(out = describe(&k, &a)))
            goto done;
        if (c->json) {
            json_t *res = json_pack("{s:O}", "acls", out);
            cli_print_json(res);
            json_decref(res);
        } else if (json_array_size(out) == 0) {
            puts("no ACLs match");
        } else {
            print_table(out);
        }
        rc = CLI_OK;
    } else { /* remove */
        rd_kafka_AclBindingFilter_t *f = filter_of(&a);
        if (!f)
            goto done;
        rd_kafka_AdminOptions_t *o = cli_kadmin_options(&k, RD_KAFKA_ADMIN_OP_DELETEACLS);
        rd_kafka_DeleteAcls(k.rk, &f, 1, o, k.queue);
        rd_kafka_AdminOptions_destroy(o);
        rd_kafka_AclBinding_destroy(f);
        rd_kafka_event_t *ev =
            cli_kadmin_wait(&k, RD_KAFKA_EVENT_DELETEACLS_RESULT, "removing ACLs");
        if (!ev)
            goto done;
        size_t n, nm = 0;
        const rd_kafka_DeleteAcls_result_response_t **res =
            rd_kafka_DeleteAcls_result_responses(rd_kafka_event_DeleteAcls_result(ev), &n);
        out = json_array();
        rc = CLI_OK;
        for (size_t i = 0; i < n; i++) {
            const rd_kafka_error_t *e = rd_kafka_DeleteAcls_result_response_error(res[i]);
            if (e) {
                rc = cli_fail("ACLs not removed: %s", rd_kafka_error_string(e));
                continue;
            }
            const rd_kafka_AclBinding_t **m =
                rd_kafka_DeleteAcls_result_response_matching_acls(res[i], &nm);
            for (size_t j = 0; j < nm; j++)
                json_array_append_new(out, binding_json(m[j]));
        }
        rd_kafka_event_destroy(ev);
        size_t removed = json_array_size(out);
        if (c->json) {
            json_t *r = json_pack("{s:I,s:O}", "count", (json_int_t)removed, "removed", out);
            cli_print_json(r);
            json_decref(r);
        } else if (rc == CLI_OK) {
            printf("removed %zu ACL%s\n", removed, removed == 1 ? "" : "s");
            if (removed) {
                putchar('\n');
                print_table(out);
            }
        }
    }
done:
    json_decref(out);
    json_decref(args);
    cli_kadmin_close(&k);
    return rc;
}
