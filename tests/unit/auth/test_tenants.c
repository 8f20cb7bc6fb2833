/* Unit tests for auth/tenants.c: name and prefix rules, overlap refusal in both
 * directions, one tenant per user, lookups by user and by topic, delete, and the JSON
 * round trip with all-or-nothing refusal of malformed documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/tenants.h"
#include "common/errors.h"

static char err[512];

static int setup(void **state)
{
    *state = st_tenants_new();
    err[0] = '\0';
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    st_tenants_free(*state);
    return 0;
}

static void create_ok(st_tenants *ts, const char *name, const char *prefix)
{
    int rc = st_tenants_create(ts, name, prefix, err, sizeof err);
    if (rc != 0)
        fail_msg("create %s (%s): %d %s", name, prefix ? prefix : "NULL", rc, err);
}

static void test_name_rules(void **state)
{
    st_tenants *ts = *state;
    char long_name[ST_TENANT_NAME_MAX + 2];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';

    assert_int_equal(st_tenants_create(ts, "", NULL, err, sizeof err), ST_ERR_INVALID_REQUEST);
    assert_non_null(strstr(err, "tenant name"));
    assert_int_equal(st_tenants_create(ts, "ac me", NULL, err, sizeof err), ST_ERR_INVALID_REQUEST);
    assert_non_null(strstr(err, "illegal character"));
    assert_int_equal(st_tenants_create(ts, "acme/x", NULL, err, sizeof err),
                     ST_ERR_INVALID_REQUEST);
    assert_int_equal(st_tenants_create(ts, long_name, NULL, err, sizeof err),
                     ST_ERR_INVALID_REQUEST);
    assert_non_null(strstr(err, "1 to 64"));
    long_name[ST_TENANT_NAME_MAX] = '\0'; /* exactly 64: allowed */
    create_ok(ts, long_name, "long.");
    create_ok(ts, "A-z_0.9", NULL);
    assert_int_equal(st_tenants_count(ts), 2);

    assert_int_equal(st_tenants_create(ts, "A-z_0.9", "other.", err, sizeof err),
                     ST_ERR_INVALID_REQUEST);
    assert_string_equal(err, "tenant A-z_0.9 already exists");
    assert_int_equal(st_tenants_count(ts), 2);
}

static void test_prefix_rules(void **state)
{
    st_tenants *ts = *state;
    char long_prefix[ST_TENANT_PREFIX_MAX + 2];
    memset(long_prefix, 'p', sizeof long_prefix - 1);
    long_prefix[sizeof long_prefix - 1] = '\0';

    create_ok(ts, "acme", NULL); /* default prefix: "acme." */
    assert_string_equal(st_tenants_find(ts, "acme")->prefix, "acme.");
    create_ok(ts, "beta", ""); /* "" is the default too */
    assert_string_equal(st_tenants_find(ts, "beta")->prefix, "beta.");

    assert_int_equal(st_tenants_create(ts, "x", "has space", err, sizeof err),
                     ST_ERR_INVALID_REQUEST);
    assert_non_null(strstr(err, "tenant prefix"));
    assert_int_equal(st_tenants_create(ts, "x", "a*", err, sizeof err), ST_ERR_INVALID_REQUEST);
    assert_int_equal(st_tenants_create(ts, "x", long_prefix, err, sizeof err),
                     ST_ERR_INVALID_REQUEST);
    long_prefix[ST_TENANT_PREFIX_MAX] = '\0';
    create_ok(ts, "x", long_prefix);
    assert_null(st_tenants_find(ts, "nope"));
}

static void test_overlap_refused_both_ways(void **state)
{
    st_tenants *ts = *state;
    create_ok(ts, "acme", "acme.");
    uint64_t v = st_tenants_version(ts);

    /* The new prefix starts with an existing one. */
    assert_int_equal(st_tenants_create(ts, "sub", "acme.sub.", err, sizeof err),
                     ST_ERR_INVALID_REQUEST);
    assert_non_null(strstr(err, "overlaps tenant acme"));
    assert_non_null(strstr(err, "\"acme.\""));
    /* An existing prefix starts with the new one. */
    assert_int_equal(st_tenants_create(ts, "wide", "ac", err, sizeof err), ST_ERR_INVALID_REQUEST);
    assert_non_null(strstr(err, "overlaps tenant acme"));
    /* The same prefix. */
    assert_int_equal(st_tenants_create(ts, "twin", "acme.", err, sizeof err),
                     ST_ERR_INVALID_REQUEST);
    assert_int_equal(st_tenants_count(ts), 1);
    assert_int_equal(st_tenants_version(ts), v);

    /* Sharing a start is fine when neither is a prefix of the other. */
    create_ok(ts, "acmx", "acmx.");
    create_ok(ts, "acm", "acm_");
    assert_int_equal(st_tenants_count(ts), 3);
    assert_true(st_tenants_version(ts) > v);
}

static void test_users(void **state)
{
    st_tenants *ts = *state;
    char long_user[300];
    memset(long_user, 'u', 256);
    long_user[256] = '\0';
    create_ok(ts, "acme", NULL);
    create_ok(ts, "beta", NULL);

    assert_int_equal(st_tenants_add_user(ts, "acme", "carol", err, sizeof err), 0);
    assert_int_equal(st_tenants_add_user(ts, "acme", "alice", err, sizeof err), 0);
    assert_int_equal(st_tenants_add_user(ts, "acme", "bob", err, sizeof err), 0);
    uint64_t v = st_tenants_version(ts);
    assert_int_equal(st_tenants_add_user(ts, "acme", "alice", err, sizeof err), 0); /* again */
    assert_int_equal(st_tenants_version(ts), v);

    const st_tenant *acme = st_tenants_find(ts, "acme");
    assert_int_equal(acme->nusers, 3);
    assert_string_equal(acme->users[0], "alice"); /* sorted */
    assert_string_equal(acme->users[1], "bob");
    assert_string_equal(acme->users[2], "carol");

    /* At most one tenant per user. */
    assert_int_equal(st_tenants_add_user(ts, "beta", "alice", err, sizeof err),
                     ST_ERR_INVALID_REQUEST);
    assert_non_null(strstr(err, "belongs to tenant acme"));
    assert_int_equal(st_tenants_find(ts, "beta")->nusers, 0);

    assert_int_equal(st_tenants_add_user(ts, "nope", "dave", err, sizeof err),
                     ST_ERR_RESOURCE_NOT_FOUND);
    assert_non_null(strstr(err, "no tenant named nope"));
    assert_int_equal(st_tenants_add_user(ts, "beta", "", err, sizeof err), ST_ERR_INVALID_REQUEST);
    assert_int_equal(st_tenants_add_user(ts, "beta", long_user, err, sizeof err),
                     ST_ERR_INVALID_REQUEST);
    long_user[255] = '\0';
    assert_int_equal(st_tenants_add_user(ts, "beta", long_user, err, sizeof err), 0);

    assert_string_equal(st_tenants_of_user(ts, "alice")->name, "acme");
    assert_string_equal(st_tenants_of_user(ts, "carol")->name, "acme");
    assert_string_equal(st_tenants_of_user(ts, long_user)->name, "beta");
    assert_null(st_tenants_of_user(ts, "dave"));
    assert_null(st_tenants_of_user(ts, "alic"));

    assert_int_equal(st_tenants_remove_user(ts, "bob", err, sizeof err), 0);
    assert_null(st_tenants_of_user(ts, "bob"));
    acme = st_tenants_find(ts, "acme");
    assert_int_equal(acme->nusers, 2);
    assert_string_equal(acme->users[1], "carol");
    assert_int_equal(st_tenants_remove_user(ts, "bob", err, sizeof err), ST_ERR_RESOURCE_NOT_FOUND);
    assert_non_null(strstr(err, "bob"));
    /* Removed from one tenant, a user may join another. */
    assert_int_equal(st_tenants_remove_user(ts, "alice", err, sizeof err), 0);
    assert_int_equal(st_tenants_add_user(ts, "beta", "alice", err, sizeof err), 0);
    assert_string_equal(st_tenants_of_user(ts, "alice")->name, "beta");
}

static void test_of_topic(void **state)
{
    st_tenants *ts = *state;
    create_ok(ts, "acme", "acme.");
    create_ok(ts, "acmx", "acmx.");
    create_ok(ts, "bank", "bank_");
    create_ok(ts, "zed", "z");

    assert_string_equal(st_tenants_of_topic(ts, "acme.orders", 11)->name, "acme");
    assert_string_equal(st_tenants_of_topic(ts, "acme.", 5)->name, "acme");
    assert_string_equal(st_tenants_of_topic(ts, "acmx.a", 6)->name, "acmx");
    assert_string_equal(st_tenants_of_topic(ts, "bank_1", 6)->name, "bank");
    assert_string_equal(st_tenants_of_topic(ts, "zzz", 3)->name, "zed");
    assert_null(st_tenants_of_topic(ts, "acme", 4));   /* shorter than the prefix */
    assert_null(st_tenants_of_topic(ts, "acmeX", 5));  /* sorts after acme., no match */
    assert_null(st_tenants_of_topic(ts, "acme-x", 6)); /* sorts before acme. */
    assert_null(st_tenants_of_topic(ts, "bank.1", 6));
    assert_null(st_tenants_of_topic(ts, "a", 1));
    assert_null(st_tenants_of_topic(ts, "", 0));
    /* len bounds the name: not NUL-terminated. */
    assert_string_equal(st_tenants_of_topic(ts, "acme.ordersXYZ", 11)->name, "acme");
    assert_null(st_tenants_of_topic(ts, "acme.orders", 4));
}

static void test_delete(void **state)
{
    st_tenants *ts = *state;
    create_ok(ts, "acme", NULL);
    create_ok(ts, "beta", NULL);
    assert_int_equal(st_tenants_add_user(ts, "acme", "alice", err, sizeof err), 0);
    assert_int_equal(st_tenants_add_user(ts, "beta", "bob", err, sizeof err), 0);
    uint64_t v = st_tenants_version(ts);

    assert_int_equal(st_tenants_delete(ts, "acme", err, sizeof err), 0);
    assert_true(st_tenants_version(ts) > v);
    assert_int_equal(st_tenants_count(ts), 1);
    assert_null(st_tenants_find(ts, "acme"));
    assert_null(st_tenants_of_user(ts, "alice"));
    assert_null(st_tenants_of_topic(ts, "acme.x", 6));
    assert_string_equal(st_tenants_of_user(ts, "bob")->name, "beta");
    assert_string_equal(st_tenants_of_topic(ts, "beta.x", 6)->name, "beta");
    assert_string_equal(st_tenants_at(ts, 0)->name, "beta");

    assert_int_equal(st_tenants_delete(ts, "acme", err, sizeof err), ST_ERR_RESOURCE_NOT_FOUND);
    assert_string_equal(err, "no tenant named acme");
    /* The prefix is free again, and alice may join another tenant. */
    create_ok(ts, "acme2", "acme.");
    assert_int_equal(st_tenants_add_user(ts, "acme2", "alice", err, sizeof err), 0);
}

static void test_order_and_principal(void **state)
{
    st_tenants *ts = *state;
    create_ok(ts, "m", NULL);
    create_ok(ts, "c", NULL);
    create_ok(ts, "x", NULL);
    create_ok(ts, "a", NULL);
    assert_int_equal(st_tenants_count(ts), 4);
    const char *want[] = {"a", "c", "m", "x"};
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(st_tenants_at(ts, i)->name, want[i]);
    assert_null(st_tenants_at(ts, 4));

    char buf[32];
    assert_int_equal(st_tenant_principal("acme", buf, sizeof buf), 11);
    assert_string_equal(buf, "Tenant:acme");
    char small[6];
    assert_int_equal(st_tenant_principal("acme", small, sizeof small), 11);
    assert_string_equal(small, "Tenan"); /* truncated, terminated */
}

static void test_json_round_trip(void **state)
{
    st_tenants *ts = *state;
    create_ok(ts, "acme", NULL);
    create_ok(ts, "beta", "b-");
    assert_int_equal(st_tenants_add_user(ts, "acme", "bob", err, sizeof err), 0);
    assert_int_equal(st_tenants_add_user(ts, "acme", "alice", err, sizeof err), 0);

    json_t *doc = st_tenants_to_json(ts);
    assert_non_null(doc);
    char *text = json_dumps(doc, JSON_COMPACT);
    assert_string_equal(text, "[{\"name\":\"acme\",\"prefix\":\"acme.\",\"users\":[\"alice\","
                              "\"bob\"]},{\"name\":\"beta\",\"prefix\":\"b-\",\"users\":[]}]");
    free(text);

    st_tenants *copy = st_tenants_new();
    assert_non_null(copy);
    uint64_t v = st_tenants_version(copy);
    assert_int_equal(st_tenants_load_json(copy, doc, err, sizeof err), 0);
    assert_true(st_tenants_version(copy) > v);
    assert_int_equal(st_tenants_count(copy), 2);
    assert_string_equal(st_tenants_of_user(copy, "alice")->name, "acme");
    assert_string_equal(st_tenants_of_topic(copy, "b-1", 3)->name, "beta");
    json_t *again = st_tenants_to_json(copy);
    assert_true(json_equal(doc, again));
    json_decref(again);
    json_decref(doc);

    /* "users" may be absent; loading replaces everything that was there. */
    json_t *small = json_loads("[{\"name\":\"solo\",\"prefix\":\"solo-\"}]", 0, NULL);
    assert_int_equal(st_tenants_load_json(copy, small, err, sizeof err), 0);
    assert_int_equal(st_tenants_count(copy), 1);
    assert_null(st_tenants_find(copy, "acme"));
    assert_null(st_tenants_of_user(copy, "alice"));
    assert_string_equal(st_tenants_of_topic(copy, "solo-x", 6)->name, "solo");
    json_decref(small);
    st_tenants_free(copy);
}

static void test_json_refusals(void **state)
{
    st_tenants *ts = *state;
    create_ok(ts, "keep", NULL);
    assert_int_equal(st_tenants_add_user(ts, "keep", "kim", err, sizeof err), 0);
    uint64_t v = st_tenants_version(ts);

    static const struct {
        const char *doc, *why;
    } bad[] = {
        {"{}", "must be an array"},
        {"[1]", "tenants[0] must be an object"},
        {"[{\"prefix\":\"a.\"}]", "\"name\" must be a string"},
        {"[{\"name\":\"a\"}]", "\"prefix\" must be a string"},
        {"[{\"name\":7,\"prefix\":\"a.\"}]", "\"name\" must be a string"},
        {"[{\"name\":\"a b\",\"prefix\":\"a.\"}]", "illegal character"},
        {"[{\"name\":\"a\",\"prefix\":\"\"}]", "tenant prefix"},
        {"[{\"name\":\"a\",\"prefix\":\"a.\"},{\"name\":\"a\",\"prefix\":\"b.\"}]",
         "already exists"},
        {"[{\"name\":\"a\",\"prefix\":\"a.\"},{\"name\":\"b\",\"prefix\":\"a.b\"}]", "overlaps"},
        {"[{\"name\":\"a\",\"prefix\":\"a.\",\"users\":\"x\"}]", "\"users\" must be an array"},
        {"[{\"name\":\"a\",\"prefix\":\"a.\",\"users\":[1]}]", "users[0] must be a string"},
        {"[{\"name\":\"a\",\"prefix\":\"a.\",\"users\":[\"\"]}]", "user name"},
        {"[{\"name\":\"a\",\"prefix\":\"a.\",\"users\":[\"u\"]},"
         "{\"name\":\"b\",\"prefix\":\"b.\",\"users\":[\"u\"]}]",
         "belongs to tenant a"},
        {"[{\"name\":\"a\\u0000b\",\"prefix\":\"a.\"}]", "without NUL"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_error_t jerr;
        json_t *doc = json_loads(bad[i].doc, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (!doc)
            fail_msg("test doc %zu does not parse: %s", i, jerr.text);
        err[0] = '\0';
        int rc = st_tenants_load_json(ts, doc, err, sizeof err);
        json_decref(doc);
        if (rc != ST_ERR__MALFORMED || !strstr(err, bad[i].why))
            fail_msg("doc %s: rc %d, err \"%s\", wanted MALFORMED with \"%s\"", bad[i].doc, rc, err,
                     bad[i].why);
        /* All or nothing: what was there is still there. */
        assert_int_equal(st_tenants_count(ts), 1);
        assert_string_equal(st_tenants_of_user(ts, "kim")->name, "keep");
        assert_int_equal(st_tenants_version(ts), v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_name_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefix_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlap_refused_both_ways, setup, teardown),
        cmocka_unit_test_setup_teardown(test_users, setup, teardown),
        cmocka_unit_test_setup_teardown(test_of_topic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_and_principal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
