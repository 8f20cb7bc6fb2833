/* The quota configuration: alter validation and its messages, get / limit (default tenant
 * fallback), the stable listing order, and the JSON document (round trip, strict and
 * all-or-nothing load). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/errors.h"
#include "quotas/quotas.h"

#define D ST_QUOTA_DEFAULT

static int setup(void **state)
{
    *state = st_quotas_new(11, 1000);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    st_quotas_free(*state);
    return 0;
}

static void set_ok(st_quotas *q, const char *user, const char *client, const char *tenant,
                   const char *key, double value)
{
    st_quota_entity e = {user, client, tenant};
    char err[256] = "";
    int rc = st_quotas_alter(q, &e, key, value, false, err, sizeof err);
    if (rc)
        fail_msg("alter %s=%g: %s", key, value, err);
}

/* Refused with INVALID_REQUEST and a message containing `want`. */
static void set_bad(st_quotas *q, const char *user, const char *client, const char *tenant,
                    const char *key, double value, const char *want)
{
    st_quota_entity e = {user, client, tenant};
    char err[256] = "";
    uint64_t v = st_quotas_version(q);
    assert_int_equal(st_quotas_alter(q, &e, key, value, false, err, sizeof err),
                     ST_ERR_INVALID_REQUEST);
    if (!strstr(err, want))
        fail_msg("message \"%s\" lacks \"%s\"", err, want);
    assert_int_equal(st_quotas_version(q), v);
}

static void test_constructor_bounds(void **state)
{
    assert_null(st_quotas_new(1, 1000));
    assert_null(st_quotas_new(11, 99));
    st_quotas *q = st_quotas_new(2, 100);
    assert_non_null(q);
    st_quotas_free(q);
    st_quotas_free(NULL);
}

static void test_alter_get_remove(void **state)
{
    st_quotas *q = *state;
    double v = 0;
    uint64_t v0 = st_quotas_version(q);
    set_ok(q, "alice", NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, 1048576);
    assert_true(st_quotas_version(q) > v0);
    st_quota_entity alice = {"alice", NULL, NULL};
    assert_true(st_quotas_get(q, &alice, ST_QK_PRODUCER_BYTE_RATE, &v));
    assert_float_equal(v, 1048576, 0);
    assert_false(st_quotas_get(q, &alice, ST_QK_CONSUMER_BYTE_RATE, &v));
    /* exact entity only: (alice, app) is another entity */
    st_quota_entity alice_app = {"alice", "app", NULL};
    assert_false(st_quotas_get(q, &alice_app, ST_QK_PRODUCER_BYTE_RATE, &v));
    set_ok(q, "alice", NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, 2000.5);
    assert_true(st_quotas_get(q, &alice, ST_QK_PRODUCER_BYTE_RATE, &v));
    assert_float_equal(v, 2000.5, 0);
    char err[128];
    uint64_t v1 = st_quotas_version(q);
    assert_int_equal(st_quotas_alter(q, &alice, ST_QK_PRODUCER_BYTE_RATE, 0, true, err, sizeof err),
                     0);
    assert_true(st_quotas_version(q) > v1);
    assert_false(st_quotas_get(q, &alice, ST_QK_PRODUCER_BYTE_RATE, &v));
    /* removing what is not set succeeds */
    assert_int_equal(st_quotas_alter(q, &alice, ST_QK_PRODUCER_BYTE_RATE, 0, true, err, sizeof err),
                     0);
}

static void test_alter_validation(void **state)
{
    st_quotas *q = *state;
    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    set_bad(q, "alice", NULL, NULL, ST_QK_PARTITIONS, 10, "tenant limit");
    set_bad(q, NULL, "app", NULL, ST_QK_RETAINED_BYTES, 10, "tenant limit");
    set_bad(q, "alice", NULL, "acme", ST_QK_PRODUCER_BYTE_RATE, 10, "stands alone");
    set_bad(q, NULL, NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, 10, "no entity");
    set_bad(q, "", NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, 10, "user name is empty");
    set_bad(q, longname, NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, 10, "299 bytes");
    set_bad(q, "alice", NULL, NULL, "producer_rate", 10, "unknown quota key \"producer_rate\"");
    set_bad(q, "alice", NULL, NULL, NULL, 10, "unknown quota key");
    set_bad(q, "alice", NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, 0, "greater than 0 (got 0)");
    set_bad(q, "alice", NULL, NULL, ST_QK_CONSUMER_BYTE_RATE, -5, "greater than 0 (got -5)");
    set_bad(q, "alice", NULL, NULL, ST_QK_REQUEST_PERCENTAGE, 0, "greater than 0");
    set_bad(q, "alice", NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, NAN, "greater than 0");
    set_bad(q, "alice", NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, INFINITY, "greater than 0");
    set_bad(q, NULL, NULL, "acme", ST_QK_PARTITIONS, 1.5, "whole number (got 1.5)");
    set_bad(q, NULL, NULL, "acme", ST_QK_RETAINED_BYTES, 1e300, "whole number");
    set_bad(q, NULL, NULL, "acme", ST_QK_CONNECTIONS, -1, "greater than 0");
    /* the message names the entity */
    set_bad(q, "alice", "app", NULL, ST_QK_TOPICS, 3, "user \"alice\", client-id \"app\"");
    /* removing a limit from a user is refused too: the key is invalid there */
    st_quota_entity alice = {"alice", NULL, NULL};
    char err[256];
    assert_int_equal(st_quotas_alter(q, &alice, ST_QK_TOPICS, 0, true, err, sizeof err),
                     ST_ERR_INVALID_REQUEST);
    /* valid: fractional rates, request percentages above 100 (several threads), counts */
    set_ok(q, NULL, NULL, "acme", ST_QK_CONNECTION_CREATION_RATE, 0.5);
    set_ok(q, D, NULL, NULL, ST_QK_REQUEST_PERCENTAGE, 250);
    set_ok(q, NULL, NULL, "acme", ST_QK_RETAINED_BYTES, 10485760);
    set_ok(q, NULL, NULL, D, ST_QK_PRODUCER_BYTE_RATE, 5e6);
}

static void test_limit_default_tenant(void **state)
{
    st_quotas *q = *state;
    double v = 0;
    assert_false(st_quotas_limit(q, "acme", ST_QK_PARTITIONS, &v));
    set_ok(q, NULL, NULL, D, ST_QK_PARTITIONS, 100);
    assert_true(st_quotas_limit(q, "acme", ST_QK_PARTITIONS, &v));
    assert_float_equal(v, 100, 0);
    set_ok(q, NULL, NULL, "acme", ST_QK_PARTITIONS, 7);
    assert_true(st_quotas_limit(q, "acme", ST_QK_PARTITIONS, &v));
    assert_float_equal(v, 7, 0);
    assert_true(st_quotas_limit(q, "globex", ST_QK_PARTITIONS, &v));
    assert_float_equal(v, 100, 0);
    /* no tenant: no limits */
    assert_false(st_quotas_limit(q, NULL, ST_QK_PARTITIONS, &v));
    assert_false(st_quotas_limit(q, "", ST_QK_PARTITIONS, &v));
    assert_false(st_quotas_limit(q, "acme", "nonsense", &v));
}

typedef struct listing {
    char lines[32][128];
    int n;
} listing;

static void collect(void *arg, const st_quota_entity *e, const char *key, double value)
{
    listing *l = arg;
    assert_true(l->n < 32);
    snprintf(l->lines[l->n++], 128, "t=%s u=%s c=%s %s=%g", e->tenant ? e->tenant : "-",
             e->user ? e->user : "-", e->client_id ? e->client_id : "-", key, value);
}

/* Tenants, then users (the user alone before its pairs), then clients; names sorted,
 * defaults after names; keys in table order. */
static void test_each_order(void **state)
{
    st_quotas *q = *state;
    set_ok(q, NULL, "zapp", NULL, ST_QK_PRODUCER_BYTE_RATE, 1);
    set_ok(q, NULL, D, NULL, ST_QK_PRODUCER_BYTE_RATE, 2);
    set_ok(q, NULL, "app", NULL, ST_QK_PRODUCER_BYTE_RATE, 3);
    set_ok(q, D, NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, 4);
    set_ok(q, "bob", "app", NULL, ST_QK_PRODUCER_BYTE_RATE, 5);
    set_ok(q, "bob", NULL, NULL, ST_QK_CONSUMER_BYTE_RATE, 6);
    set_ok(q, "bob", NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, 7);
    set_ok(q, "alice", D, NULL, ST_QK_PRODUCER_BYTE_RATE, 8);
    set_ok(q, NULL, NULL, D, ST_QK_TOPICS, 9);
    set_ok(q, NULL, NULL, "acme", ST_QK_TOPICS, 10);
    listing l = {.n = 0};
    st_quotas_each(q, collect, &l);
    const char *want[] = {
        "t=acme u=- c=- topics=10",
        "t=<default> u=- c=- topics=9",
        "t=- u=alice c=<default> producer_byte_rate=8",
        "t=- u=bob c=- producer_byte_rate=7",
        "t=- u=bob c=- consumer_byte_rate=6",
        "t=- u=bob c=app producer_byte_rate=5",
        "t=- u=<default> c=- producer_byte_rate=4",
        "t=- u=- c=app producer_byte_rate=3",
        "t=- u=- c=zapp producer_byte_rate=1",
        "t=- u=- c=<default> producer_byte_rate=2",
    };
    assert_int_equal(l.n, 10);
    for (int i = 0; i < 10; i++)
        assert_string_equal(l.lines[i], want[i]);
}

static void test_json_round_trip(void **state)
{
    st_quotas *q = *state;
    set_ok(q, "alice", D, NULL, ST_QK_PRODUCER_BYTE_RATE, 1048576);
    set_ok(q, "alice", NULL, NULL, ST_QK_REQUEST_PERCENTAGE, 12.5);
    set_ok(q, NULL, "app", NULL, ST_QK_CONSUMER_BYTE_RATE, 2048);
    set_ok(q, NULL, NULL, "acme", ST_QK_RETAINED_BYTES, 10485760);
    set_ok(q, NULL, NULL, D, ST_QK_CONNECTION_CREATION_RATE, 2.5);
    json_t *doc = st_quotas_to_json(q);
    assert_non_null(doc);
    char *text = json_dumps(doc, JSON_COMPACT);
    /* the documented shape; whole values print as integers */
    assert_non_null(strstr(text, "{\"entity\":{\"user\":\"alice\",\"client-id\":\"<default>\"},"
                                 "\"key\":\"producer_byte_rate\",\"value\":1048576}"));
    assert_non_null(strstr(text, "\"version\":1"));
    assert_non_null(strstr(text, "\"value\":12.5"));
    free(text);

    st_quotas *copy = st_quotas_new(11, 1000);
    char err[256] = "";
    assert_int_equal(st_quotas_load_json(copy, doc, err, sizeof err), 0);
    json_t *again = st_quotas_to_json(copy);
    assert_true(json_equal(doc, again));
    double v;
    st_quota_entity acme = {NULL, NULL, "acme"};
    assert_true(st_quotas_get(copy, &acme, ST_QK_RETAINED_BYTES, &v));
    assert_float_equal(v, 10485760, 0);
    /* load replaces: an empty document empties */
    json_t *empty = json_pack("{s:i,s:[]}", "version", 1, "quotas");
    assert_int_equal(st_quotas_load_json(copy, empty, err, sizeof err), 0);
    assert_false(st_quotas_get(copy, &acme, ST_QK_RETAINED_BYTES, &v));
    json_decref(empty);
    json_decref(again);
    json_decref(doc);
    st_quotas_free(copy);
}

/* Every malformed document is refused with a message naming what was wrong, and leaves the
 * configuration exactly as it was. */
static void test_json_malformed(void **state)
{
    st_quotas *q = *state;
    set_ok(q, "alice", NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, 1000);
    json_t *before = st_quotas_to_json(q);
    static const struct {
        const char *doc, *want;
    } cases[] = {
        {"[]", "must be a JSON object"},
        {"{\"version\":2,\"quotas\":[]}", "\"version\" must be 1"},
        {"{\"quotas\":[]}", "\"version\" must be 1"},
        {"{\"version\":1}", "\"quotas\" must be an array"},
        {"{\"version\":1,\"quotas\":[],\"extra\":1}", "unknown member \"extra\""},
        {"{\"version\":1,\"quotas\":[1]}", "quotas[0]: must be an object"},
        {"{\"version\":1,\"quotas\":[{\"entity\":{\"user\":\"bob\"},\"key\":\"producer_byte_rate\"}"
         "]}",
         "quotas[0]: needs"},
        {"{\"version\":1,\"quotas\":[{\"entity\":{\"user\":\"bob\"},\"key\":\"producer_byte_rate\","
         "\"value\":\"10\"}]}",
         "quotas[0]: needs"},
        {"{\"version\":1,\"quotas\":[{\"entity\":{\"user\":\"bob\"},\"key\":\"producer_byte_rate\","
         "\"value\":10,\"x\":1}]}",
         "unknown member \"x\""},
        {"{\"version\":1,\"quotas\":[{\"entity\":{\"group\":\"g\"},\"key\":\"producer_byte_rate\","
         "\"value\":10}]}",
         "quotas[0].entity: unknown member \"group\""},
        {"{\"version\":1,\"quotas\":[{\"entity\":{\"user\":7},\"key\":\"producer_byte_rate\","
         "\"value\":10}]}",
         "quotas[0].entity.user: must be a string"},
        {"{\"version\":1,\"quotas\":[{\"entity\":{\"user\":\"a\\u0000b\"},\"key\":"
         "\"producer_byte_rate\",\"value\":10}]}",
         "NUL byte"},
        {"{\"version\":1,\"quotas\":[{\"entity\":{\"user\":\"bob\"},\"key\":\"producer_byte_rate\","
         "\"value\":10},{\"entity\":{\"user\":\"bob\",\"tenant\":\"t\"},\"key\":"
         "\"producer_byte_rate\",\"value\":10}]}",
         "quotas[1]: a tenant quota stands alone"},
        {"{\"version\":1,\"quotas\":[{\"entity\":{\"user\":\"bob\"},\"key\":\"partitions\","
         "\"value\":10}]}",
         "quotas[0]: user \"bob\": partitions is a tenant limit"},
        {"{\"version\":1,\"quotas\":[{\"entity\":{\"tenant\":\"t\"},\"key\":\"topics\","
         "\"value\":-3}]}",
         "greater than 0"},
        {"{\"version\":1,\"quotas\":[{\"entity\":{\"user\":\"bob\"},\"key\":\"producer_byte_rate\","
         "\"value\":10},{\"entity\":{\"user\":\"bob\"},\"key\":\"producer_byte_rate\","
         "\"value\":20}]}",
         "quotas[1]: producer_byte_rate is set twice"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_error_t jerr;
        json_t *doc = json_loads(cases[i].doc, JSON_ALLOW_NUL, &jerr);
        if (!doc)
            fail_msg("case %zu does not parse: %s", i, jerr.text);
        char err[256] = "";
        uint64_t v = st_quotas_version(q);
        assert_int_equal(st_quotas_load_json(q, doc, err, sizeof err), ST_ERR__MALFORMED);
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, err, cases[i].want);
        assert_int_equal(st_quotas_version(q), v);
        json_t *after = st_quotas_to_json(q);
        assert_true(json_equal(before, after));
        json_decref(after);
        json_decref(doc);
    }
    json_decref(before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constructor_bounds),
        cmocka_unit_test_setup_teardown(test_alter_get_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alter_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit_default_tenant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_malformed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
