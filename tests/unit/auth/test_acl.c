/* The ACL authorizer: every decision rule with a case that fails if the rule is wrong,
 * DescribeAcls / DeleteAcls filters, validation messages, JSON round trip, and two tenants
 * isolated by PREFIXED bindings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/acl.h"
#include "common/errors.h"

#define ALICE "User:alice"
#define BOB   "User:bob"
#define HOST  "10.0.0.1"

static st_acl_store *new_store(void)
{
    st_acl_store *s = st_acl_store_new();
    assert_non_null(s);
    return s;
}

static void add(st_acl_store *s, st_acl_resource_type type, const char *name,
                st_acl_pattern_type pattern, const char *principal, const char *host,
                st_acl_operation op, st_acl_permission perm)
{
    st_acl_binding b = {type, name, pattern, principal, host, op, perm};
    char err[256] = "";
    int rc = st_acl_add(s, &b, err, sizeof err);
    if (rc)
        fail_msg("st_acl_add: %s", err);
}

static void allow(st_acl_store *s, st_acl_resource_type type, const char *name,
                  st_acl_pattern_type pattern, const char *principal, st_acl_operation op)
{
    add(s, type, name, pattern, principal, "*", op, ST_ACL_PERM_ALLOW);
}

static st_acl_result topic(const st_acl_store *s, const char *principal, st_acl_operation op,
                           const char *name)
{
    st_acl_decision d;
    return st_acl_authorize(s, principal, HOST, op, ST_ACL_RESOURCE_TOPIC, name, &d);
}

static void test_wire_codes(void **state)
{
    /* Kafka's ResourceType, PatternType, AclOperation, AclPermissionType codes */
    assert_int_equal(ST_ACL_RESOURCE_TOPIC, 2);
    assert_int_equal(ST_ACL_RESOURCE_DELEGATION_TOKEN, 6);
    assert_int_equal(ST_ACL_PATTERN_MATCH, 2);
    assert_int_equal(ST_ACL_PATTERN_PREFIXED, 4);
    assert_int_equal(ST_ACL_OP_ALL, 2);
    assert_int_equal(ST_ACL_OP_DESCRIBE, 8);
    assert_int_equal(ST_ACL_OP_IDEMPOTENT_WRITE, 12);
    assert_int_equal(ST_ACL_PERM_DENY, 2);
    assert_int_equal(ST_ACL_PERM_ALLOW, 3);
    assert_string_equal(st_acl_operation_name(ST_ACL_OP_DESCRIBE_CONFIGS), "DESCRIBE_CONFIGS");
    assert_string_equal(st_acl_resource_type_name(99), "UNKNOWN");
    assert_int_equal(st_acl_operation_parse("idempotent_write"), ST_ACL_OP_IDEMPOTENT_WRITE);
    assert_int_equal(st_acl_pattern_type_parse("Prefixed"), ST_ACL_PATTERN_PREFIXED);
    assert_int_equal(st_acl_permission_parse("maybe"), ST_ACL_PERM_UNKNOWN);
}

static void test_deny_wins(void **state)
{
    st_acl_store *s = new_store();
    allow(s, ST_ACL_RESOURCE_TOPIC, "orders", ST_ACL_PATTERN_LITERAL, ALICE, ST_ACL_OP_READ);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_READ, "orders"), ST_ACL_ALLOWED);
    /* a DENY on a broader pattern (prefix) still beats the literal ALLOW */
    add(s, ST_ACL_RESOURCE_TOPIC, "ord", ST_ACL_PATTERN_PREFIXED, ALICE, "*", ST_ACL_OP_READ,
        ST_ACL_PERM_DENY);
    st_acl_decision d;
    assert_int_equal(
        st_acl_authorize(s, ALICE, HOST, ST_ACL_OP_READ, ST_ACL_RESOURCE_TOPIC, "orders", &d),
        ST_ACL_DENIED);
    assert_int_equal(d.reason, ST_ACL_REASON_DENY_BINDING);
    assert_int_equal(d.binding.permission, ST_ACL_PERM_DENY);
    assert_int_equal(d.binding.pattern_type, ST_ACL_PATTERN_PREFIXED);
    assert_string_equal(d.binding.resource_name, "ord");
    char text[256];
    st_acl_decision_format(&d, text, sizeof text);
    assert_string_equal(text,
                        "DENIED by DENY User:alice READ on TOPIC PREFIXED \"ord\" from host *");
    /* a DENY of ALL denies every operation, including ones never allowed explicitly */
    allow(s, ST_ACL_RESOURCE_TOPIC, "orders", ST_ACL_PATTERN_LITERAL, ALICE, ST_ACL_OP_WRITE);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_WRITE, "orders"), ST_ACL_ALLOWED);
    add(s, ST_ACL_RESOURCE_TOPIC, "*", ST_ACL_PATTERN_LITERAL, "User:*", "*", ST_ACL_OP_ALL,
        ST_ACL_PERM_DENY);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_WRITE, "orders"), ST_ACL_DENIED);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_DESCRIBE, "orders"), ST_ACL_DENIED);
    st_acl_store_free(s);
}

static void test_implied_describe(void **state)
{
    static const st_acl_operation implying[] = {ST_ACL_OP_READ, ST_ACL_OP_WRITE, ST_ACL_OP_DELETE,
                                                ST_ACL_OP_ALTER};
    for (size_t i = 0; i < sizeof implying / sizeof *implying; i++) {
        st_acl_store *s = new_store();
        allow(s, ST_ACL_RESOURCE_TOPIC, "t", ST_ACL_PATTERN_LITERAL, ALICE, implying[i]);
        st_acl_decision d;
        assert_int_equal(
            st_acl_authorize(s, ALICE, HOST, ST_ACL_OP_DESCRIBE, ST_ACL_RESOURCE_TOPIC, "t", &d),
            ST_ACL_ALLOWED);
        assert_int_equal(d.binding.operation, implying[i]);
        /* implication runs one way: DESCRIBE does not grant the implying operation, and the
         * implying operation grants nothing else */
        assert_int_equal(topic(s, ALICE, ST_ACL_OP_CREATE, "t"), ST_ACL_DENIED);
        assert_int_equal(topic(s, ALICE, ST_ACL_OP_DESCRIBE_CONFIGS, "t"), ST_ACL_DENIED);
        st_acl_store_free(s);
    }
    /* CREATE does not imply DESCRIBE */
    st_acl_store *s = new_store();
    allow(s, ST_ACL_RESOURCE_TOPIC, "t", ST_ACL_PATTERN_LITERAL, ALICE, ST_ACL_OP_CREATE);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_CREATE, "t"), ST_ACL_ALLOWED);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_DESCRIBE, "t"), ST_ACL_DENIED);
    /* DESCRIBE does not imply READ */
    allow(s, ST_ACL_RESOURCE_TOPIC, "t", ST_ACL_PATTERN_LITERAL, ALICE, ST_ACL_OP_DESCRIBE);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_READ, "t"), ST_ACL_DENIED);
    /* a DENY of READ does not deny the DESCRIBE it would imply if allowed */
    add(s, ST_ACL_RESOURCE_TOPIC, "t", ST_ACL_PATTERN_LITERAL, ALICE, "*", ST_ACL_OP_READ,
        ST_ACL_PERM_DENY);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_DESCRIBE, "t"), ST_ACL_ALLOWED);
    st_acl_store_free(s);
}

static void test_implied_describe_configs(void **state)
{
    st_acl_store *s = new_store();
    allow(s, ST_ACL_RESOURCE_TOPIC, "t", ST_ACL_PATTERN_LITERAL, ALICE, ST_ACL_OP_ALTER_CONFIGS);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_DESCRIBE_CONFIGS, "t"), ST_ACL_ALLOWED);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_ALTER_CONFIGS, "t"), ST_ACL_ALLOWED);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_DESCRIBE, "t"), ST_ACL_DENIED);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_ALTER, "t"), ST_ACL_DENIED);
    st_acl_store_free(s);

    s = new_store();
    allow(s, ST_ACL_RESOURCE_TOPIC, "t", ST_ACL_PATTERN_LITERAL, ALICE, ST_ACL_OP_DESCRIBE_CONFIGS);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_ALTER_CONFIGS, "t"), ST_ACL_DENIED);
    st_acl_store_free(s);
}

static void test_allow_all(void **state)
{
    st_acl_store *s = new_store();
    allow(s, ST_ACL_RESOURCE_TOPIC, "t", ST_ACL_PATTERN_LITERAL, ALICE, ST_ACL_OP_ALL);
    for (int op = ST_ACL_OP_READ; op <= ST_ACL_OP_IDEMPOTENT_WRITE; op++)
        assert_int_equal(topic(s, ALICE, (st_acl_operation)op, "t"), ST_ACL_ALLOWED);
    /* not someone else, not another topic, not another resource type of the same name */
    assert_int_equal(topic(s, BOB, ST_ACL_OP_READ, "t"), ST_ACL_DENIED);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_READ, "t2"), ST_ACL_DENIED);
    st_acl_decision d;
    assert_int_equal(
        st_acl_authorize(s, ALICE, HOST, ST_ACL_OP_READ, ST_ACL_RESOURCE_GROUP, "t", &d),
        ST_ACL_DENIED);
    /* UNKNOWN / ANY are no operation to authorize */
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_ANY, "t"), ST_ACL_DENIED);
    assert_int_equal(
        st_acl_authorize(s, ALICE, HOST, ST_ACL_OP_UNKNOWN, ST_ACL_RESOURCE_TOPIC, "t", &d),
        ST_ACL_DENIED);
    assert_int_equal(d.reason, ST_ACL_REASON_INVALID);
    st_acl_store_free(s);
}

static void test_wildcard_principal_and_host(void **state)
{
    st_acl_store *s = new_store();
    add(s, ST_ACL_RESOURCE_TOPIC, "t", ST_ACL_PATTERN_LITERAL, "User:*", "*", ST_ACL_OP_READ,
        ST_ACL_PERM_ALLOW);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_READ, "t"), ST_ACL_ALLOWED);
    assert_int_equal(topic(s, BOB, ST_ACL_OP_READ, "t"), ST_ACL_ALLOWED);
    /* "User:*" is the wildcard; a principal literally named "User:*x" is not */
    add(s, ST_ACL_RESOURCE_TOPIC, "u", ST_ACL_PATTERN_LITERAL, "User:*x", "*", ST_ACL_OP_READ,
        ST_ACL_PERM_ALLOW);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_READ, "u"), ST_ACL_DENIED);

    /* host: exact address or "*" */
    add(s, ST_ACL_RESOURCE_TOPIC, "h", ST_ACL_PATTERN_LITERAL, ALICE, "10.0.0.9", ST_ACL_OP_WRITE,
        ST_ACL_PERM_ALLOW);
    st_acl_decision d;
    assert_int_equal(
        st_acl_authorize(s, ALICE, "10.0.0.9", ST_ACL_OP_WRITE, ST_ACL_RESOURCE_TOPIC, "h", &d),
        ST_ACL_ALLOWED);
    assert_int_equal(
        st_acl_authorize(s, ALICE, "10.0.0.10", ST_ACL_OP_WRITE, ST_ACL_RESOURCE_TOPIC, "h", &d),
        ST_ACL_DENIED);
    assert_int_equal(d.reason, ST_ACL_REASON_NO_ALLOW);
    /* a host-scoped DENY applies from that host only */
    add(s, ST_ACL_RESOURCE_TOPIC, "t", ST_ACL_PATTERN_LITERAL, "User:*", "10.6.6.6", ST_ACL_OP_READ,
        ST_ACL_PERM_DENY);
    assert_int_equal(
        st_acl_authorize(s, BOB, "10.6.6.6", ST_ACL_OP_READ, ST_ACL_RESOURCE_TOPIC, "t", &d),
        ST_ACL_DENIED);
    assert_int_equal(topic(s, BOB, ST_ACL_OP_READ, "t"), ST_ACL_ALLOWED);
    st_acl_store_free(s);
}

static void test_literal_wildcard_resource(void **state)
{
    st_acl_store *s = new_store();
    allow(s, ST_ACL_RESOURCE_TOPIC, "*", ST_ACL_PATTERN_LITERAL, ALICE, ST_ACL_OP_READ);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_READ, "anything"), ST_ACL_ALLOWED);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_READ, "*"), ST_ACL_ALLOWED);
    /* a PREFIXED "*" is an ordinary prefix: it matches only names starting with '*' */
    allow(s, ST_ACL_RESOURCE_GROUP, "*", ST_ACL_PATTERN_PREFIXED, ALICE, ST_ACL_OP_READ);
    st_acl_decision d;
    assert_int_equal(
        st_acl_authorize(s, ALICE, HOST, ST_ACL_OP_READ, ST_ACL_RESOURCE_GROUP, "g1", &d),
        ST_ACL_DENIED);
    assert_int_equal(
        st_acl_authorize(s, ALICE, HOST, ST_ACL_OP_READ, ST_ACL_RESOURCE_GROUP, "*g1", &d),
        ST_ACL_ALLOWED);
    st_acl_store_free(s);
}

static void test_prefixed(void **state)
{
    st_acl_store *s = new_store();
    allow(s, ST_ACL_RESOURCE_TOPIC, "acme.", ST_ACL_PATTERN_PREFIXED, ALICE, ST_ACL_OP_WRITE);
    /* other prefixes of various lengths around it, for the length-indexed search */
    allow(s, ST_ACL_RESOURCE_TOPIC, "a", ST_ACL_PATTERN_PREFIXED, BOB, ST_ACL_OP_READ);
    allow(s, ST_ACL_RESOURCE_TOPIC, "acme.orders.eu", ST_ACL_PATTERN_PREFIXED, BOB,
          ST_ACL_OP_WRITE);
    allow(s, ST_ACL_RESOURCE_TOPIC, "acmf.", ST_ACL_PATTERN_PREFIXED, ALICE, ST_ACL_OP_READ);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_WRITE, "acme.orders"), ST_ACL_ALLOWED);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_WRITE, "acme."), ST_ACL_ALLOWED);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_WRITE, "acme"), ST_ACL_DENIED);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_WRITE, "acmeX"), ST_ACL_DENIED);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_WRITE, "xacme.orders"), ST_ACL_DENIED);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_READ, "acmf.x"), ST_ACL_ALLOWED);
    assert_int_equal(topic(s, BOB, ST_ACL_OP_READ, "acme.orders"), ST_ACL_ALLOWED);
    assert_int_equal(topic(s, BOB, ST_ACL_OP_WRITE, "acme.orders"), ST_ACL_DENIED);
    assert_int_equal(topic(s, BOB, ST_ACL_OP_WRITE, "acme.orders.eu.1"), ST_ACL_ALLOWED);
    /* a literal binding on the prefix name does not act as a prefix */
    allow(s, ST_ACL_RESOURCE_TOPIC, "zeta.", ST_ACL_PATTERN_LITERAL, ALICE, ST_ACL_OP_WRITE);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_WRITE, "zeta.1"), ST_ACL_DENIED);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_WRITE, "zeta."), ST_ACL_ALLOWED);
    st_acl_store_free(s);
}

static void test_super_users(void **state)
{
    st_acl_store *s = new_store();
    char err[256];
    assert_int_equal(
        st_acl_store_set_super_users_str(s, " User:admin ; User:ops;", err, sizeof err), 0);
    /* even an explicit DENY of ALL does not stop a super user */
    add(s, ST_ACL_RESOURCE_TOPIC, "*", ST_ACL_PATTERN_LITERAL, "User:*", "*", ST_ACL_OP_ALL,
        ST_ACL_PERM_DENY);
    st_acl_decision d;
    assert_int_equal(
        st_acl_authorize(s, "User:ops", HOST, ST_ACL_OP_DELETE, ST_ACL_RESOURCE_TOPIC, "x", &d),
        ST_ACL_ALLOWED);
    assert_int_equal(d.reason, ST_ACL_REASON_SUPER_USER);
    assert_int_equal(topic(s, "User:admin", ST_ACL_OP_WRITE, "x"), ST_ACL_ALLOWED);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_WRITE, "x"), ST_ACL_DENIED);
    /* clusters too, with no ACL at all */
    assert_int_equal(st_acl_authorize(s, "User:admin", HOST, ST_ACL_OP_ALTER,
                                      ST_ACL_RESOURCE_CLUSTER, "kafka-cluster", &d),
                     ST_ACL_ALLOWED);
    /* a malformed entry is refused and the old list kept */
    assert_int_equal(st_acl_store_set_super_users_str(s, "User:x;admin", err, sizeof err),
                     ST_ERR_INVALID_CONFIG);
    assert_non_null(strstr(err, "\"admin\""));
    assert_int_equal(topic(s, "User:admin", ST_ACL_OP_WRITE, "x"), ST_ACL_ALLOWED);
    assert_int_equal(st_acl_store_set_super_users(s, NULL, 0, err, sizeof err), 0);
    assert_int_equal(topic(s, "User:admin", ST_ACL_OP_WRITE, "x"), ST_ACL_DENIED);
    st_acl_store_free(s);
}

static void test_no_acl_found(void **state)
{
    st_acl_store *s = new_store();
    st_acl_decision d;
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_READ, "t"), ST_ACL_DENIED); /* default false */
    uint64_t v = st_acl_store_version(s);
    st_acl_store_set_allow_if_no_acl(s, true);
    assert_true(st_acl_store_version(s) != v);
    assert_int_equal(
        st_acl_authorize(s, ALICE, HOST, ST_ACL_OP_READ, ST_ACL_RESOURCE_TOPIC, "t", &d),
        ST_ACL_ALLOWED);
    assert_int_equal(d.reason, ST_ACL_REASON_NO_ACL_FOUND);
    /* any binding on the resource, even for someone else, means "ACLs found": alice is then
     * denied, while an unrelated resource stays open */
    allow(s, ST_ACL_RESOURCE_TOPIC, "t", ST_ACL_PATTERN_LITERAL, BOB, ST_ACL_OP_READ);
    assert_int_equal(
        st_acl_authorize(s, ALICE, HOST, ST_ACL_OP_READ, ST_ACL_RESOURCE_TOPIC, "t", &d),
        ST_ACL_DENIED);
    assert_int_equal(d.reason, ST_ACL_REASON_NO_ALLOW);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_READ, "other"), ST_ACL_ALLOWED);
    /* a prefix covering the resource counts as found too */
    allow(s, ST_ACL_RESOURCE_TOPIC, "oth", ST_ACL_PATTERN_PREFIXED, BOB, ST_ACL_OP_READ);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_READ, "other"), ST_ACL_DENIED);
    st_acl_store_set_allow_if_no_acl(s, false);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_READ, "unbound"), ST_ACL_DENIED);
    st_acl_store_free(s);
}

static void test_invalid_bindings(void **state)
{
    st_acl_store *s = new_store();
    char err[256];
    const st_acl_binding good = {
        ST_ACL_RESOURCE_TOPIC, "t", ST_ACL_PATTERN_LITERAL, ALICE, "*", ST_ACL_OP_READ,
        ST_ACL_PERM_ALLOW};
    st_acl_binding b;
#define REFUSED(field, value, says)                                                                \
    do {                                                                                           \
        b = good;                                                                                  \
        b.field = value;                                                                           \
        err[0] = '\0';                                                                             \
        assert_int_equal(st_acl_add(s, &b, err, sizeof err), ST_ERR_INVALID_REQUEST);              \
        if (!strstr(err, says))                                                                    \
            fail_msg("expected \"%s\" in \"%s\"", says, err);                                      \
    } while (0)
    REFUSED(resource_type, ST_ACL_RESOURCE_ANY, "resource type ANY");
    REFUSED(resource_type, ST_ACL_RESOURCE_UNKNOWN, "resource type UNKNOWN");
    REFUSED(resource_type, (st_acl_resource_type)42, "resource type UNKNOWN (42)");
    REFUSED(pattern_type, ST_ACL_PATTERN_MATCH, "pattern type MATCH");
    REFUSED(pattern_type, ST_ACL_PATTERN_ANY, "pattern type ANY");
    REFUSED(pattern_type, ST_ACL_PATTERN_UNKNOWN, "pattern type UNKNOWN");
    REFUSED(operation, ST_ACL_OP_ANY, "operation ANY");
    REFUSED(operation, ST_ACL_OP_UNKNOWN, "operation UNKNOWN");
    REFUSED(permission, ST_ACL_PERM_ANY, "permission ANY");
    REFUSED(permission, ST_ACL_PERM_UNKNOWN, "permission UNKNOWN");
    REFUSED(resource_name, "", "resource name is empty");
    REFUSED(resource_name, NULL, "resource name is empty");
    REFUSED(principal, "alice", "\"alice\" is not of the form Type:name");
    REFUSED(principal, ":alice", "not of the form Type:name");
    REFUSED(principal, "User:", "not of the form Type:name");
    REFUSED(principal, NULL, "not of the form Type:name");
    REFUSED(host, "", "host is empty");
#undef REFUSED
    assert_int_equal(st_acl_store_count(s), 0);
    assert_int_equal(st_acl_store_version(s), 0);
    /* the good one goes in, once: adding it again changes nothing */
    assert_int_equal(st_acl_add(s, &good, err, sizeof err), 0);
    uint64_t v = st_acl_store_version(s);
    assert_int_equal(st_acl_add(s, &good, err, sizeof err), 0);
    assert_int_equal(st_acl_store_count(s), 1);
    assert_int_equal(st_acl_store_version(s), v);
    /* a filter with UNKNOWN fields is refused */
    st_acl_filter f = {ST_ACL_RESOURCE_UNKNOWN, NULL,           ST_ACL_PATTERN_ANY, NULL, NULL,
                       ST_ACL_OP_ANY,           ST_ACL_PERM_ANY};
    st_acl_list out = {0};
    assert_int_equal(st_acl_describe(s, &f, &out, err, sizeof err), ST_ERR_INVALID_REQUEST);
    assert_non_null(strstr(err, "resource type"));
    f.resource_type = ST_ACL_RESOURCE_ANY;
    f.operation = ST_ACL_OP_UNKNOWN;
    assert_int_equal(st_acl_remove(s, &f, &out, err, sizeof err), ST_ERR_INVALID_REQUEST);
    assert_non_null(strstr(err, "operation"));
    assert_int_equal(st_acl_store_count(s), 1);
    st_acl_store_free(s);
}

/* A store with a spread of bindings for the filter tests. */
static st_acl_store *filter_fixture(void)
{
    st_acl_store *s = new_store();
    allow(s, ST_ACL_RESOURCE_TOPIC, "orders", ST_ACL_PATTERN_LITERAL, ALICE, ST_ACL_OP_READ);
    allow(s, ST_ACL_RESOURCE_TOPIC, "orders", ST_ACL_PATTERN_LITERAL, BOB, ST_ACL_OP_WRITE);
    allow(s, ST_ACL_RESOURCE_TOPIC, "*", ST_ACL_PATTERN_LITERAL, BOB, ST_ACL_OP_DESCRIBE);
    allow(s, ST_ACL_RESOURCE_TOPIC, "ord", ST_ACL_PATTERN_PREFIXED, ALICE, ST_ACL_OP_WRITE);
    allow(s, ST_ACL_RESOURCE_TOPIC, "orders-eu", ST_ACL_PATTERN_PREFIXED, ALICE, ST_ACL_OP_WRITE);
    allow(s, ST_ACL_RESOURCE_TOPIC, "payments", ST_ACL_PATTERN_LITERAL, ALICE, ST_ACL_OP_READ);
    allow(s, ST_ACL_RESOURCE_GROUP, "orders", ST_ACL_PATTERN_LITERAL, ALICE, ST_ACL_OP_READ);
    add(s, ST_ACL_RESOURCE_CLUSTER, "kafka-cluster", ST_ACL_PATTERN_LITERAL, BOB, "10.0.0.2",
        ST_ACL_OP_ALTER, ST_ACL_PERM_DENY);
    assert_int_equal(st_acl_store_count(s), 8);
    return s;
}

static size_t describe_count(const st_acl_store *s, st_acl_filter f)
{
    st_acl_list out = {0};
    char err[256];
    assert_int_equal(st_acl_describe(s, &f, &out, err, sizeof err), 0);
    size_t n = out.count;
    st_acl_list_free(&out);
    return n;
}

static void test_describe_filters(void **state)
{
    st_acl_store *s = filter_fixture();
    st_acl_filter any = {ST_ACL_RESOURCE_ANY, NULL,           ST_ACL_PATTERN_ANY, NULL, NULL,
                         ST_ACL_OP_ANY,       ST_ACL_PERM_ANY};
    assert_int_equal(describe_count(s, any), 8);

    st_acl_filter f = any;
    f.resource_type = ST_ACL_RESOURCE_TOPIC;
    assert_int_equal(describe_count(s, f), 6);
    /* a name with ANY pattern type: exact name, any pattern type, no wildcard expansion */
    f.resource_name = "orders";
    assert_int_equal(describe_count(s, f), 2);
    /* MATCH: everything that would apply to topic "orders": two literal, "*", prefix "ord" */
    f.pattern_type = ST_ACL_PATTERN_MATCH;
    assert_int_equal(describe_count(s, f), 4);
    f.resource_name = "orders-eu-1";
    assert_int_equal(describe_count(s, f), 3); /* "*", "ord", "orders-eu" */
    /* a concrete pattern type with a name: exact name and that pattern type */
    f.resource_name = "ord";
    f.pattern_type = ST_ACL_PATTERN_PREFIXED;
    assert_int_equal(describe_count(s, f), 1);
    f.pattern_type = ST_ACL_PATTERN_LITERAL;
    assert_int_equal(describe_count(s, f), 0);
    /* "*" as a filter name with LITERAL selects only the wildcard binding */
    f.resource_name = "*";
    assert_int_equal(describe_count(s, f), 1);
    /* entry filters */
    f = any;
    f.principal = BOB;
    assert_int_equal(describe_count(s, f), 3);
    f.host = "10.0.0.2";
    assert_int_equal(describe_count(s, f), 1);
    f = any;
    f.permission = ST_ACL_PERM_DENY;
    assert_int_equal(describe_count(s, f), 1);
    f = any;
    f.operation = ST_ACL_OP_WRITE;
    assert_int_equal(describe_count(s, f), 3);

    /* the returned copies carry every field */
    st_acl_list out = {0};
    char err[256];
    f = any;
    f.resource_type = ST_ACL_RESOURCE_CLUSTER;
    assert_int_equal(st_acl_describe(s, &f, &out, err, sizeof err), 0);
    assert_int_equal(out.count, 1);
    assert_int_equal(out.items[0].resource_type, ST_ACL_RESOURCE_CLUSTER);
    assert_string_equal(out.items[0].resource_name, "kafka-cluster");
    assert_int_equal(out.items[0].pattern_type, ST_ACL_PATTERN_LITERAL);
    assert_string_equal(out.items[0].principal, BOB);
    assert_string_equal(out.items[0].host, "10.0.0.2");
    assert_int_equal(out.items[0].operation, ST_ACL_OP_ALTER);
    assert_int_equal(out.items[0].permission, ST_ACL_PERM_DENY);
    st_acl_list_free(&out);
    st_acl_store_free(s);
}

static void test_remove_filters(void **state)
{
    st_acl_store *s = filter_fixture();
    char err[256];
    st_acl_list removed = {0};
    /* MATCH on "orders-eu-1" for ALICE removes the prefixes "ord" and "orders-eu" only */
    st_acl_filter f = {ST_ACL_RESOURCE_TOPIC, "orders-eu-1",  ST_ACL_PATTERN_MATCH, ALICE, NULL,
                       ST_ACL_OP_ANY,         ST_ACL_PERM_ANY};
    uint64_t v = st_acl_store_version(s);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_WRITE, "orders-eu-1"), ST_ACL_ALLOWED);
    assert_int_equal(st_acl_remove(s, &f, &removed, err, sizeof err), 0);
    assert_int_equal(removed.count, 2);
    for (size_t i = 0; i < removed.count; i++) {
        assert_int_equal(removed.items[i].pattern_type, ST_ACL_PATTERN_PREFIXED);
        assert_string_equal(removed.items[i].principal, ALICE);
    }
    assert_true(st_acl_store_version(s) > v);
    assert_int_equal(st_acl_store_count(s), 6);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_WRITE, "orders-eu-1"), ST_ACL_DENIED);
    /* the removed patterns are gone from the prefix index too: "ord..." now finds no ACL */
    st_acl_decision d;
    st_acl_authorize(s, ALICE, HOST, ST_ACL_OP_WRITE, ST_ACL_RESOURCE_TOPIC, "ordinal", &d);
    assert_int_equal(d.reason, ST_ACL_REASON_NO_ALLOW); /* the literal "*" still applies */
    st_acl_list_free(&removed);

    /* a filter matching nothing removes nothing and leaves the version alone */
    v = st_acl_store_version(s);
    f = (st_acl_filter){ST_ACL_RESOURCE_GROUP, "nope",         ST_ACL_PATTERN_LITERAL, NULL, NULL,
                        ST_ACL_OP_ANY,         ST_ACL_PERM_ANY};
    assert_int_equal(st_acl_remove(s, &f, &removed, err, sizeof err), 0);
    assert_int_equal(removed.count, 0);
    assert_int_equal(st_acl_store_version(s), v);

    /* ANY everything, without asking for the removed list */
    f = (st_acl_filter){ST_ACL_RESOURCE_ANY, NULL,           ST_ACL_PATTERN_ANY, NULL, NULL,
                        ST_ACL_OP_ANY,       ST_ACL_PERM_ANY};
    assert_int_equal(st_acl_remove(s, &f, NULL, err, sizeof err), 0);
    assert_int_equal(st_acl_store_count(s), 0);
    st_acl_authorize(s, ALICE, HOST, ST_ACL_OP_READ, ST_ACL_RESOURCE_TOPIC, "orders", &d);
    assert_int_equal(d.reason, ST_ACL_REASON_NO_ACL_FOUND);
    st_acl_store_free(s);
}

static void test_json_round_trip(void **state)
{
    st_acl_store *s = filter_fixture();
    json_t *doc = st_acl_store_to_json(s);
    assert_non_null(doc);
    char *text = json_dumps(doc, JSON_SORT_KEYS);
    json_decref(doc);
    assert_non_null(text);

    json_error_t jerr;
    json_t *parsed = json_loads(text, 0, &jerr);
    assert_non_null(parsed);
    st_acl_store *t = new_store();
    allow(t, ST_ACL_RESOURCE_TOPIC, "stale", ST_ACL_PATTERN_LITERAL, ALICE, ST_ACL_OP_READ);
    uint64_t v = st_acl_store_version(t);
    char err[256];
    assert_int_equal(st_acl_store_load_json(t, parsed, err, sizeof err), 0);
    json_decref(parsed);
    assert_true(st_acl_store_version(t) > v);
    assert_int_equal(st_acl_store_count(t), 8); /* replaced, not merged */
    assert_int_equal(topic(t, ALICE, ST_ACL_OP_READ, "stale"), ST_ACL_DENIED);

    /* same bindings: every one of s is in t */
    st_acl_filter any = {ST_ACL_RESOURCE_ANY, NULL,           ST_ACL_PATTERN_ANY, NULL, NULL,
                         ST_ACL_OP_ANY,       ST_ACL_PERM_ANY};
    st_acl_list all = {0};
    assert_int_equal(st_acl_describe(s, &any, &all, err, sizeof err), 0);
    for (size_t i = 0; i < all.count; i++) {
        const st_acl_binding *b = &all.items[i];
        st_acl_filter exact = {b->resource_type, b->resource_name, b->pattern_type, b->principal,
                               b->host,          b->operation,     b->permission};
        assert_int_equal(describe_count(t, exact), 1);
    }
    st_acl_list_free(&all);
    /* and the same document again */
    json_t *again = st_acl_store_to_json(t);
    char *text2 = json_dumps(again, JSON_SORT_KEYS);
    assert_string_equal(text, text2);
    json_decref(again);
    free(text2);
    free(text);

    /* a bad document is refused with the entry and reason, and changes nothing */
    json_t *bad =
        json_pack("{s:i, s:[{s:s, s:s, s:s, s:s, s:s, s:s, s:s}]}", "version", 1, "acls",
                  "resource_type", "TOPIC", "resource_name", "x", "pattern_type", "MATCH",
                  "principal", ALICE, "host", "*", "operation", "READ", "permission", "ALLOW");
    assert_int_equal(st_acl_store_load_json(t, bad, err, sizeof err), ST_ERR__MALFORMED);
    assert_non_null(strstr(err, "entry 0"));
    assert_non_null(strstr(err, "MATCH"));
    json_decref(bad);
    bad = json_pack("{s:[{s:s}]}", "acls", "resource_type", "TOPIC");
    assert_int_equal(st_acl_store_load_json(t, bad, err, sizeof err), ST_ERR__MALFORMED);
    json_decref(bad);
    bad = json_pack("{s:i, s:[]}", "version", 2, "acls");
    assert_int_equal(st_acl_store_load_json(t, bad, err, sizeof err), ST_ERR__MALFORMED);
    assert_non_null(strstr(err, "version"));
    json_decref(bad);
    bad = json_string("nope");
    assert_int_equal(st_acl_store_load_json(t, bad, err, sizeof err), ST_ERR__MALFORMED);
    json_decref(bad);
    assert_int_equal(st_acl_store_count(t), 8);
    st_acl_store_free(t);
    st_acl_store_free(s);
}

static void tenant(st_acl_store *s, const char *prefix, const char *principal)
{
    allow(s, ST_ACL_RESOURCE_TOPIC, prefix, ST_ACL_PATTERN_PREFIXED, principal, ST_ACL_OP_ALL);
    allow(s, ST_ACL_RESOURCE_GROUP, prefix, ST_ACL_PATTERN_PREFIXED, principal, ST_ACL_OP_ALL);
    allow(s, ST_ACL_RESOURCE_TRANSACTIONAL_ID, prefix, ST_ACL_PATTERN_PREFIXED, principal,
          ST_ACL_OP_ALL);
}

static void test_tenants(void **state)
{
    st_acl_store *s = new_store();
    tenant(s, "acme.", ALICE);
    tenant(s, "globex.", BOB);
    static const st_acl_resource_type types[] = {ST_ACL_RESOURCE_TOPIC, ST_ACL_RESOURCE_GROUP,
                                                 ST_ACL_RESOURCE_TRANSACTIONAL_ID};
    st_acl_decision d;
    for (size_t t = 0; t < 3; t++) {
        for (int op = ST_ACL_OP_READ; op <= ST_ACL_OP_IDEMPOTENT_WRITE; op++) {
            assert_int_equal(st_acl_authorize(s, ALICE, HOST, op, types[t], "acme.orders", &d),
                             ST_ACL_ALLOWED);
            assert_int_equal(st_acl_authorize(s, ALICE, HOST, op, types[t], "globex.orders", &d),
                             ST_ACL_DENIED);
            assert_int_equal(d.reason, ST_ACL_REASON_NO_ALLOW);
            assert_int_equal(st_acl_authorize(s, BOB, HOST, op, types[t], "globex.orders", &d),
                             ST_ACL_ALLOWED);
            assert_int_equal(st_acl_authorize(s, BOB, HOST, op, types[t], "acme.orders", &d),
                             ST_ACL_DENIED);
        }
    }
    /* nobody owns the cluster or names outside the prefixes */
    assert_int_equal(st_acl_authorize(s, ALICE, HOST, ST_ACL_OP_ALTER, ST_ACL_RESOURCE_CLUSTER,
                                      "kafka-cluster", &d),
                     ST_ACL_DENIED);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_DESCRIBE, "acmeorders"), ST_ACL_DENIED);
    /* cache invalidation: a run-time DENY moves the version and flips the decision */
    uint64_t v = st_acl_store_version(s);
    add(s, ST_ACL_RESOURCE_TOPIC, "acme.secret", ST_ACL_PATTERN_LITERAL, ALICE, "*", ST_ACL_OP_READ,
        ST_ACL_PERM_DENY);
    assert_true(st_acl_store_version(s) != v);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_READ, "acme.secret"), ST_ACL_DENIED);
    assert_int_equal(topic(s, ALICE, ST_ACL_OP_WRITE, "acme.secret"), ST_ACL_ALLOWED);
    st_acl_store_free(s);
}

/* Many tenants: decisions stay right with hundreds of prefixes of many lengths. */
static void test_many_prefixes(void **state)
{
    st_acl_store *s = new_store();
    char prefix[64], principal[64], name[96];
    for (int i = 0; i < 500; i++) {
        snprintf(prefix, sizeof prefix, "t%d%.*s.", i, i % 7, "xxxxxxx");
        snprintf(principal, sizeof principal, "User:u%d", i);
        allow(s, ST_ACL_RESOURCE_TOPIC, prefix, ST_ACL_PATTERN_PREFIXED, principal, ST_ACL_OP_ALL);
    }
    for (int i = 0; i < 500; i++) {
        snprintf(name, sizeof name, "t%d%.*s.topic", i, i % 7, "xxxxxxx");
        snprintf(principal, sizeof principal, "User:u%d", i);
        assert_int_equal(topic(s, principal, ST_ACL_OP_WRITE, name), ST_ACL_ALLOWED);
        snprintf(principal, sizeof principal, "User:u%d", (i + 1) % 500);
        assert_int_equal(topic(s, principal, ST_ACL_OP_WRITE, name), ST_ACL_DENIED);
    }
    st_acl_store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_codes),
        cmocka_unit_test(test_deny_wins),
        cmocka_unit_test(test_implied_describe),
        cmocka_unit_test(test_implied_describe_configs),
        cmocka_unit_test(test_allow_all),
        cmocka_unit_test(test_wildcard_principal_and_host),
        cmocka_unit_test(test_literal_wildcard_resource),
        cmocka_unit_test(test_prefixed),
        cmocka_unit_test(test_super_users),
        cmocka_unit_test(test_no_acl_found),
        cmocka_unit_test(test_invalid_bindings),
        cmocka_unit_test(test_describe_filters),
        cmocka_unit_test(test_remove_filters),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_tenants),
        cmocka_unit_test(test_many_prefixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
