/*
 * rk_acls BOOTSTRAP setup | after-restart | denied
 *
 * Kafka's ACL admin API (CreateAcls, DescribeAcls, DeleteAcls) through librdkafka's Admin
 * client, against a broker with the authorizer on:
 *
 *   setup          (caller is a super user, no ACLs yet)
 *                  CreateAcls of four bindings, one with a principal that is not
 *                  "Type:name" → the three valid ones succeed, the bad one alone fails
 *                  INVALID_REQUEST; DescribeAcls with an ANY filter shows exactly the
 *                  three, and narrower filters (MATCH on a topic name, a principal, a
 *                  resource type) select the right ones; DeleteAcls with a GROUP filter
 *                  and with a filter matching nothing → one binding removed and reported,
 *                  none for the other; DescribeAcls again → the two left.
 *   after-restart  DescribeAcls → exactly the two bindings left by setup (persisted).
 *   denied         (caller is not a super user and holds no ACL) DescribeAcls shows no
 *                  binding (the broker answers CLUSTER_AUTHORIZATION_FAILED, which
 *                  librdkafka 2.0.2 drops: see denied()); CreateAcls (User:mallory) →
 *                  CLUSTER_AUTHORIZATION_FAILED on the creation.
 *
 * Exits 1 naming the first step whose result was wrong.
 */
#include "rk_util.h"

typedef struct admin {
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
    rd_kafka_AdminOptions_t *options;
} admin;

/* What a binding is, for comparisons and messages. */
typedef struct want {
    rd_kafka_ResourceType_t type;
    const char *name;
    rd_kafka_ResourcePatternType_t pattern;
    const char *principal;
    const char *host;
    rd_kafka_AclOperation_t op;
    rd_kafka_AclPermissionType_t perm;
} want;

static const want ORDERS_READ = {RD_KAFKA_RESOURCE_TOPIC,
                                 "orders",
                                 RD_KAFKA_RESOURCE_PATTERN_LITERAL,
                                 "User:alice",
                                 "*",
                                 RD_KAFKA_ACL_OPERATION_READ,
                                 RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW};
static const want ACME_WRITE = {RD_KAFKA_RESOURCE_TOPIC,
                                "acme.",
                                RD_KAFKA_RESOURCE_PATTERN_PREFIXED,
                                "User:alice",
                                "*",
                                RD_KAFKA_ACL_OPERATION_WRITE,
                                RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW};
static const want GROUP_DENY = {RD_KAFKA_RESOURCE_GROUP,
                                "billing",
                                RD_KAFKA_RESOURCE_PATTERN_LITERAL,
                                "User:bob",
                                "10.0.0.7",
                                RD_KAFKA_ACL_OPERATION_READ,
                                RD_KAFKA_ACL_PERMISSION_TYPE_DENY};
/* what a principal without rights tries to grant itself (test_acls_api.sh checks that
 * security.json never names mallory) */
static const want MALLORY_ALL = {RD_KAFKA_RESOURCE_TOPIC,
                                 "loot",
                                 RD_KAFKA_RESOURCE_PATTERN_LITERAL,
                                 "User:mallory",
                                 "*",
                                 RD_KAFKA_ACL_OPERATION_ALL,
                                 RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW};
/* librdkafka accepts any principal string; the broker must refuse one without a type */
static const want BAD_PRINCIPAL = {RD_KAFKA_RESOURCE_TOPIC,
                                   "orders",
                                   RD_KAFKA_RESOURCE_PATTERN_LITERAL,
                                   "alice",
                                   "*",
                                   RD_KAFKA_ACL_OPERATION_READ,
                                   RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW};

static rd_kafka_AclBinding_t *binding_new(const want *w)
{
    char err[256];
    rd_kafka_AclBinding_t *b = rd_kafka_AclBinding_new(w->type, w->name, w->pattern, w->principal,
                                                       w->host, w->op, w->perm, err, sizeof(err));
    if (!b)
        rk_fail("AclBinding_new(%s %s): %s", w->principal, w->name, err);
    return b;
}

static rd_kafka_AclBindingFilter_t *filter_new(rd_kafka_ResourceType_t type, const char *name,
                                               rd_kafka_ResourcePatternType_t pattern,
                                               const char *principal)
{
    char err[256];
    rd_kafka_AclBindingFilter_t *f = rd_kafka_AclBindingFilter_new(
        type, name, pattern, principal, NULL, RD_KAFKA_ACL_OPERATION_ANY,
        RD_KAFKA_ACL_PERMISSION_TYPE_ANY, err, sizeof(err));
    if (!f)
        rk_fail("AclBindingFilter_new: %s", err);
    return f;
}

static rd_kafka_event_t *wait_event(admin *a, rd_kafka_event_type_t type, const char *what)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(a->queue, 30000);
    if (!ev)
        rk_fail("%s: no result within 30 s", what);
    if (rd_kafka_event_type(ev) != type)
        rk_fail("%s: unexpected event %s", what, rd_kafka_event_name(ev));
    return ev;
}

static int matches(const rd_kafka_AclBinding_t *b, const want *w)
{
    return rd_kafka_AclBinding_restype(b) == w->type &&
           strcmp(rd_kafka_AclBinding_name(b), w->name) == 0 &&
           rd_kafka_AclBinding_resource_pattern_type(b) == w->pattern &&
           strcmp(rd_kafka_AclBinding_principal(b), w->principal) == 0 &&
           strcmp(rd_kafka_AclBinding_host(b), w->host) == 0 &&
           rd_kafka_AclBinding_operation(b) == w->op &&
           rd_kafka_AclBinding_permission_type(b) == w->perm;
}

/* The bindings must be exactly `wants` (any order), each once. */
static void expect_bindings(const rd_kafka_AclBinding_t **got, size_t n, const want *const *wants,
                            size_t nwant, const char *what)
{
    if (n != nwant) {
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "  got: %s %s %s %s\n",
                    rd_kafka_ResourceType_name(rd_kafka_AclBinding_restype(got[i])),
                    rd_kafka_AclBinding_name(got[i]), rd_kafka_AclBinding_principal(got[i]),
                    rd_kafka_AclOperation_name(rd_kafka_AclBinding_operation(got[i])));
        rk_fail("%s: %zu bindings, expected %zu", what, n, nwant);
    }
    for (size_t k = 0; k < nwant; k++) {
        size_t found = 0;
        for (size_t i = 0; i < n; i++)
            found += matches(got[i], wants[k]);
        if (found != 1)
            rk_fail("%s: binding %s %s on %s found %zu times, expected once", what,
                    wants[k]->principal, rd_kafka_AclOperation_name(wants[k]->op), wants[k]->name,
                    found);
    }
    printf("ok: %s: %zu binding(s) as expected\n", what, n);
}

/* DescribeAcls with the filter (taken); checks the result is exactly `wants`, or the
 * request-level error `want_err`. */
static void describe(admin *a, rd_kafka_AclBindingFilter_t *filter, const want *const *wants,
                     size_t nwant, rd_kafka_resp_err_t want_err, const char *what)
{
    rd_kafka_DescribeAcls(a->rk, filter, a->options, a->queue);
    rd_kafka_AclBinding_destroy(filter);
    rd_kafka_event_t *ev = wait_event(a, RD_KAFKA_EVENT_DESCRIBEACLS_RESULT, what);
    rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
    if (err != want_err)
        rk_fail("%s: error %s (%s), expected %s", what, rd_kafka_err2name(err),
                rd_kafka_event_error_string(ev) ? rd_kafka_event_error_string(ev) : "",
                rd_kafka_err2name(want_err));
    if (err) {
        printf("ok: %s: %s (%s)\n", what, rd_kafka_err2name(err), rd_kafka_event_error_string(ev));
    } else {
        size_t n;
        const rd_kafka_AclBinding_t **got =
            rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev), &n);
        expect_bindings(got, n, wants, nwant, what);
    }
    rd_kafka_event_destroy(ev);
}

/* CreateAcls of `n` bindings; per-creation results must be want_errs[i]. */
static void create(admin *a, const want *const *wants, const rd_kafka_resp_err_t *want_errs,
                   size_t n, const char *what)
{
    rd_kafka_AclBinding_t *bindings[8];
    for (size_t i = 0; i < n; i++)
        bindings[i] = binding_new(wants[i]);
    rd_kafka_CreateAcls(a->rk, bindings, n, a->options, a->queue);
    rd_kafka_AclBinding_destroy_array(bindings, n);
    rd_kafka_event_t *ev = wait_event(a, RD_KAFKA_EVENT_CREATEACLS_RESULT, what);
    if (rd_kafka_event_error(ev))
        rk_fail("%s: request failed: %s", what, rd_kafka_event_error_string(ev));
    size_t nres;
    const rd_kafka_acl_result_t **res =
        rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &nres);
    if (nres != n)
        rk_fail("%s: %zu results, expected %zu", what, nres, n);
    for (size_t i = 0; i < n; i++) {
        const rd_kafka_error_t *e = rd_kafka_acl_result_error(res[i]);
        rd_kafka_resp_err_t got = e ? rd_kafka_error_code(e) : RD_KAFKA_RESP_ERR_NO_ERROR;
        if (got != want_errs[i])
            rk_fail("%s: creation %zu (%s on %s): %s (%s), expected %s", what, i,
                    wants[i]->principal, wants[i]->name, rd_kafka_err2name(got),
                    e ? rd_kafka_error_string(e) : "", rd_kafka_err2name(want_errs[i]));
        if (e && (!rd_kafka_error_string(e) || !*rd_kafka_error_string(e)))
            rk_fail("%s: creation %zu failed without a message", what, i);
        printf("ok: %s: creation %zu: %s%s%s\n", what, i, rd_kafka_err2name(got), e ? ": " : "",
               e ? rd_kafka_error_string(e) : "");
    }
    rd_kafka_event_destroy(ev);
}

static void setup(admin *a)
{
    const want *creations[] = {&ORDERS_READ, &ACME_WRITE, &BAD_PRINCIPAL, &GROUP_DENY};
    const rd_kafka_resp_err_t errs[] = {RD_KAFKA_RESP_ERR_NO_ERROR, RD_KAFKA_RESP_ERR_NO_ERROR,
                                        RD_KAFKA_RESP_ERR_INVALID_REQUEST,
                                        RD_KAFKA_RESP_ERR_NO_ERROR};
    create(a, creations, errs, 4, "CreateAcls (one invalid)");

    const want *all3[] = {&ORDERS_READ, &ACME_WRITE, &GROUP_DENY};
    describe(a, filter_new(RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, NULL), all3,
             3, 0, "DescribeAcls ANY");
    /* MATCH on a topic name: the prefixed binding applies, the literal "orders" does not */
    const want *acme[] = {&ACME_WRITE};
    describe(
        a,
        filter_new(RD_KAFKA_RESOURCE_TOPIC, "acme.payments", RD_KAFKA_RESOURCE_PATTERN_MATCH, NULL),
        acme, 1, 0, "DescribeAcls MATCH acme.payments");
    const want *alice[] = {&ORDERS_READ, &ACME_WRITE};
    describe(a,
             filter_new(RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, "User:alice"),
             alice, 2, 0, "DescribeAcls principal User:alice");
    const want *literal_topics[] = {&ORDERS_READ};
    describe(a, filter_new(RD_KAFKA_RESOURCE_TOPIC, NULL, RD_KAFKA_RESOURCE_PATTERN_LITERAL, NULL),
             literal_topics, 1, 0, "DescribeAcls LITERAL topics");
    describe(a,
             filter_new(RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, "User:carol"),
             NULL, 0, 0, "DescribeAcls principal User:carol (none)");

    /* DeleteAcls: one filter selecting the group binding, one selecting nothing */
    rd_kafka_AclBindingFilter_t *filters[2] = {
        filter_new(RD_KAFKA_RESOURCE_GROUP, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, NULL),
        filter_new(RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, "User:nobody")};
    rd_kafka_DeleteAcls(a->rk, filters, 2, a->options, a->queue);
    rd_kafka_AclBinding_destroy_array(filters, 2);
    rd_kafka_event_t *ev = wait_event(a, RD_KAFKA_EVENT_DELETEACLS_RESULT, "DeleteAcls");
    if (rd_kafka_event_error(ev))
        rk_fail("DeleteAcls: request failed: %s", rd_kafka_event_error_string(ev));
    size_t nresp;
    const rd_kafka_DeleteAcls_result_response_t **resp =
        rd_kafka_DeleteAcls_result_responses(rd_kafka_event_DeleteAcls_result(ev), &nresp);
    if (nresp != 2)
        rk_fail("DeleteAcls: %zu filter results, expected 2", nresp);
    for (size_t i = 0; i < 2; i++) {
        const rd_kafka_error_t *e = rd_kafka_DeleteAcls_result_response_error(resp[i]);
        if (e)
            rk_fail("DeleteAcls: filter %zu: %s", i, rd_kafka_error_string(e));
    }
    size_t nmatch;
    const rd_kafka_AclBinding_t **matched =
        rd_kafka_DeleteAcls_result_response_matching_acls(resp[0], &nmatch);
    const want *group[] = {&GROUP_DENY};
    expect_bindings(matched, nmatch, group, 1, "DeleteAcls GROUP filter: matching ACLs");
    rd_kafka_DeleteAcls_result_response_matching_acls(resp[1], &nmatch);
    if (nmatch != 0)
        rk_fail("DeleteAcls User:nobody filter: %zu matching ACLs, expected 0", nmatch);
    printf("ok: DeleteAcls User:nobody filter: nothing matched\n");
    rd_kafka_event_destroy(ev);

    describe(a, filter_new(RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, NULL), alice,
             2, 0, "DescribeAcls ANY after DeleteAcls");
}

static void after_restart(admin *a)
{
    const want *left[] = {&ORDERS_READ, &ACME_WRITE};
    describe(a, filter_new(RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, NULL), left,
             2, 0, "DescribeAcls ANY after a restart");
}

static void denied(admin *a)
{
    /* librdkafka 2.0.2 reads DescribeAcls' response-level error code and drops it
     * (rd_kafka_DescribeAclsResponse_parse returns NO_ERROR whatever it was), so all a
     * librdkafka client can see is an empty list although two bindings exist; the code
     * itself (31) is checked by raw_scram_admin's denied mode. */
    describe(a, filter_new(RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, NULL), NULL,
             0, RD_KAFKA_RESP_ERR_NO_ERROR, "DescribeAcls without DESCRIBE (shows nothing)");
    const want *creations[] = {&MALLORY_ALL};
    const rd_kafka_resp_err_t errs[] = {RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED};
    create(a, creations, errs, 1, "CreateAcls without ALTER");
}

int main(int argc, char **argv)
{
    if (argc != 3)
        rk_fail("usage: rk_acls BOOTSTRAP setup|after-restart|denied");
    admin a;
    a.rk = rk_new(RD_KAFKA_PRODUCER, rk_conf(argv[1]));
    a.queue = rd_kafka_queue_new(a.rk);
    a.options = rd_kafka_AdminOptions_new(a.rk, RD_KAFKA_ADMIN_OP_ANY);
    char err[256];
    if (rd_kafka_AdminOptions_set_request_timeout(a.options, 20000, err, sizeof(err)))
        rk_fail("AdminOptions: %s", err);

    if (strcmp(argv[2], "setup") == 0)
        setup(&a);
    else if (strcmp(argv[2], "after-restart") == 0)
        after_restart(&a);
    else if (strcmp(argv[2], "denied") == 0)
        denied(&a);
    else
        rk_fail("unknown mode \"%s\": setup, after-restart or denied", argv[2]);

    rd_kafka_AdminOptions_destroy(a.options);
    rd_kafka_queue_destroy(a.queue);
    rd_kafka_destroy(a.rk);
    printf("rk_acls %s: all checks passed\n", argv[2]);
    return 0;
}
