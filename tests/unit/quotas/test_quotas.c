/* The quota runtime on a fake clock: Kafka's throttle numbers worked out by hand, the
 * eight-level precedence, sensor sharing, tenant caps, the request-time cap, owed versus
 * record, per-tenant metrics, usage / explain JSON, connection creation rate, and sensor
 * expiry keeping memory bounded.
 *
 * Every case uses window 11 × 1 s (Kafka's default), so a burst at t=0 is measured over the
 * padded span of 10 000 ms and throttle = (sum / span - T) / T × span = sum / T - span. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/errors.h"
#include "quotas/quotas_int.h"

#define D    ST_QUOTA_DEFAULT
#define PROD ST_QUOTA_PRODUCE
#define T0   1700000000000LL /* a wall-clock ms, so per-second metrics are realistic */

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

static void set(st_quotas *q, const char *user, const char *client, const char *tenant,
                const char *key, double value)
{
    st_quota_entity e = {user, client, tenant};
    char err[256] = "";
    if (st_quotas_alter(q, &e, key, value, false, err, sizeof err))
        fail_msg("alter %s=%g: %s", key, value, err);
}

static void unset(st_quotas *q, const char *user, const char *client, const char *key)
{
    st_quota_entity e = {user, client, NULL};
    char err[256] = "";
    assert_int_equal(st_quotas_alter(q, &e, key, 0, true, err, sizeof err), 0);
}

static int64_t rec(st_quotas *q, const char *user, const char *client, const char *tenant,
                   st_quota_kind kind, double value, int64_t at)
{
    st_quota_client c = {user, client, tenant};
    return st_quotas_record(q, &c, kind, value, T0 + at);
}

static int64_t owed(st_quotas *q, const char *user, const char *client, const char *tenant,
                    st_quota_kind kind, int64_t at)
{
    st_quota_client c = {user, client, tenant};
    return st_quotas_owed(q, &c, kind, T0 + at);
}

/* Quota 1000 B/s, 15 000 B at t=0: span padded to 10 000 ms, rate 1500 B/s, throttle
 * (1500 - 1000) / 1000 × 10 000 = 5000 ms. Not 11 000 × 0.5: Kafka's W is the span the
 * rate was measured over. At t=10 999 the span is 10 999: 15 000 / 1000 - 10.999 s = 4001
 * ms. At t=11 000 the sample is purged: nothing owed. */
static void test_throttle_formula(void **state)
{
    st_quotas *q = *state;
    set(q, "alice", NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, 1000);
    assert_int_equal(rec(q, "alice", "app", NULL, PROD, 15000, 0), 5000);
    assert_int_equal(owed(q, "alice", "app", NULL, PROD, 0), 5000);
    assert_int_equal(owed(q, "alice", "app", NULL, PROD, 5000), 5000); /* still padded */
    assert_int_equal(owed(q, "alice", "app", NULL, PROD, 10999), 4001);
    assert_int_equal(owed(q, "alice", "app", NULL, PROD, 11000), 0);
    /* exactly at the quota is within it (Kafka's upper bound is inclusive) */
    assert_int_equal(rec(q, "alice", "app", NULL, PROD, 10000, 30000), 0);
    /* 1 byte more: (1000.1 - 1000) / 1000 × 10 000 = 1 ms */
    assert_int_equal(rec(q, "alice", "app", NULL, PROD, 1, 30000), 1);
    /* other kinds are separate sensors and quotas */
    assert_int_equal(rec(q, "alice", "app", NULL, ST_QUOTA_FETCH, 1e6, 30000), 0);
}

/* Record first, then check: the request that crosses the line passes (returns 0 before it
 * is recorded, the throttle after). Lowering the quota applies to the next check at once. */
static void test_quota_change_applies_at_once(void **state)
{
    st_quotas *q = *state;
    set(q, "alice", NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, 2000);
    assert_int_equal(rec(q, "alice", "app", NULL, PROD, 15000, 0), 0); /* 1500 < 2000 */
    assert_int_equal(owed(q, "alice", "app", NULL, PROD, 0), 0);
    set(q, "alice", NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, 1000);
    assert_int_equal(owed(q, "alice", "app", NULL, PROD, 0), 5000);
    unset(q, "alice", NULL, ST_QK_PRODUCER_BYTE_RATE);
    assert_int_equal(owed(q, "alice", "app", NULL, PROD, 0), 0);
}

/* The quota explain reports for (alice, app) — "user|client=value", "-" when none. */
static void applied(st_quotas *q, const char *user, const char *client, char *out, size_t cap)
{
    st_quota_client c = {user, client, NULL};
    json_t *ex = st_quotas_explain(q, &c, PROD, T0);
    assert_non_null(ex);
    json_t *cl = json_object_get(ex, "client");
    json_t *ent = json_object_get(cl, "entity");
    if (json_is_null(ent)) {
        assert_true(json_is_null(json_object_get(cl, "quota")));
        snprintf(out, cap, "-");
    } else {
        const char *u = json_string_value(json_object_get(ent, "user"));
        const char *cid = json_string_value(json_object_get(ent, "client-id"));
        snprintf(out, cap, "%s|%s=%g", u ? u : "", cid ? cid : "",
                 json_number_value(json_object_get(cl, "quota")));
    }
    json_decref(ex);
}

/* All eight entity forms set with distinct values, removed most specific first: each
 * removal reveals the next in Kafka's order. */
static void test_precedence(void **state)
{
    st_quotas *q = *state;
    static const struct {
        const char *user, *client, *want;
    } forms[8] = {
        {"alice", "app", "alice|app=1"}, {"alice", D, "alice|<default>=2"},
        {"alice", NULL, "alice|=3"},     {D, "app", "<default>|app=4"},
        {D, D, "<default>|<default>=5"}, {D, NULL, "<default>|=6"},
        {NULL, "app", "|app=7"},         {NULL, D, "|<default>=8"},
    };
    for (int i = 7; i >= 0; i--)
        set(q, forms[i].user, forms[i].client, NULL, ST_QK_PRODUCER_BYTE_RATE, i + 1);
    char got[128];
    for (int i = 0; i < 8; i++) {
        applied(q, "alice", "app", got, sizeof got);
        assert_string_equal(got, forms[i].want);
        unset(q, forms[i].user, forms[i].client, ST_QK_PRODUCER_BYTE_RATE);
    }
    applied(q, "alice", "app", got, sizeof got);
    assert_string_equal(got, "-");
    /* a key set elsewhere does not count: precedence is per key */
    set(q, "alice", "app", NULL, ST_QK_CONSUMER_BYTE_RATE, 9);
    set(q, NULL, "app", NULL, ST_QK_PRODUCER_BYTE_RATE, 10);
    applied(q, "alice", "app", got, sizeof got);
    assert_string_equal(got, "|app=10");
    /* an unauthenticated client is user ANONYMOUS */
    set(q, "ANONYMOUS", NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, 11);
    applied(q, NULL, "app", got, sizeof got);
    assert_string_equal(got, "ANONYMOUS|=11");
    applied(q, "", "app", got, sizeof got);
    assert_string_equal(got, "ANONYMOUS|=11");
}

/* Who shares a sensor (Kafka's metric tags): a user quota is shared by all the user's
 * client ids; a client-id quota by every user of that client id; a <default> component
 * gives each name its own sensor. Two 6000 B bursts: 600 B/s each, or 1200 B/s shared
 * → (1200 - 1000) / 1000 × 10 000 = 2000 ms. */
static void test_sensor_sharing(void **state)
{
    st_quotas *q = *state;
    set(q, "alice", NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, 1000);
    assert_int_equal(rec(q, "alice", "c1", NULL, PROD, 6000, 0), 0);
    assert_int_equal(rec(q, "alice", "c2", NULL, PROD, 6000, 0), 2000);
    assert_int_equal(owed(q, "alice", "c1", NULL, PROD, 0), 2000);

    set(q, "bob", D, NULL, ST_QK_PRODUCER_BYTE_RATE, 1000);
    assert_int_equal(rec(q, "bob", "c1", NULL, PROD, 6000, 0), 0);
    assert_int_equal(rec(q, "bob", "c2", NULL, PROD, 6000, 0), 0);

    set(q, D, NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, 1000);
    assert_int_equal(rec(q, "carol", "c1", NULL, PROD, 6000, 0), 0);
    assert_int_equal(rec(q, "dave", "c1", NULL, PROD, 6000, 0), 0);
    assert_int_equal(rec(q, "carol", "c2", NULL, PROD, 6000, 0), 2000); /* carol's own */

    st_quotas *q2 = st_quotas_new(11, 1000);
    set(q2, NULL, "app", NULL, ST_QK_PRODUCER_BYTE_RATE, 1000);
    assert_int_equal(rec(q2, "erin", "app", NULL, PROD, 6000, 0), 0);
    assert_int_equal(rec(q2, "frank", "app", NULL, PROD, 6000, 0), 2000);
    st_quotas_free(q2);
}

/* Tenant acme capped at 1000 B/s: alice and bob (no user quotas) each send 6000 B; the sum
 * 12 000 B → 1200 B/s → 2000 ms for whoever crosses. globex falls back to the <default>
 * tenant's 5000 B/s. With alice's own quota of 500 B/s the larger throttle wins. */
static void test_tenant_cap(void **state)
{
    st_quotas *q = *state;
    set(q, NULL, NULL, "acme", ST_QK_PRODUCER_BYTE_RATE, 1000);
    set(q, NULL, NULL, D, ST_QK_PRODUCER_BYTE_RATE, 5000);
    assert_int_equal(rec(q, "alice", "a", "acme", PROD, 6000, 0), 0);
    assert_int_equal(rec(q, "bob", "b", "acme", PROD, 6000, 0), 2000);
    assert_int_equal(owed(q, "alice", "a", "acme", PROD, 0), 2000);
    assert_int_equal(owed(q, "carol", "c", NULL, PROD, 0), 0); /* no tenant, no cap */
    /* globex: 60 000 B → 6000 B/s vs the default tenant's 5000 → 2000 ms */
    assert_int_equal(rec(q, "gina", "g", "globex", PROD, 60000, 0), 2000);

    set(q, "alice", NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, 500);
    /* alice's sensor is new (it had no quota before): 7000 → 700 B/s vs 500 → 4000 ms;
     * tenant: 19 000 → 1900 vs 1000 → 9000 ms. The larger is returned. */
    assert_int_equal(rec(q, "alice", "a", "acme", PROD, 7000, 0), 9000);
    st_quota_client c = {"alice", "a", "acme"};
    json_t *ex = st_quotas_explain(q, &c, PROD, T0);
    json_t *cl = json_object_get(ex, "client"), *tn = json_object_get(ex, "tenant");
    assert_float_equal(json_number_value(json_object_get(cl, "rate")), 700, 1e-9);
    assert_float_equal(json_number_value(json_object_get(cl, "budget")), -200, 1e-9);
    assert_string_equal(json_string_value(json_object_get(json_object_get(tn, "entity"), "tenant")),
                        "acme");
    assert_float_equal(json_number_value(json_object_get(tn, "rate")), 1900, 1e-9);
    assert_float_equal(json_number_value(json_object_get(tn, "budget")), -900, 1e-9);
    assert_int_equal(json_integer_value(json_object_get(ex, "owed_ms")), 9000);
    json_decref(ex);
}

/* request_percentage: ms of thread time per second as percent of one thread. 520 ms in
 * the padded 10 s = 5.2 % vs 5 % → 0.2 / 5 × 10 000 = 400 ms. 50 000 ms = 500 % vs 50 %
 * → 90 000 ms, capped at one sample window (1000 ms, Kafka's ClientRequestQuotaManager).
 * Byte-rate throttles have no cap (the 40 000 ms of test_owed_vs_record). */
static void test_request_percentage_cap(void **state)
{
    st_quotas *q = *state;
    set(q, "alice", NULL, NULL, ST_QK_REQUEST_PERCENTAGE, 5);
    assert_int_equal(rec(q, "alice", "a", NULL, ST_QUOTA_REQUEST, 520, 0), 400);
    set(q, "bob", NULL, NULL, ST_QK_REQUEST_PERCENTAGE, 50);
    assert_int_equal(rec(q, "bob", "b", NULL, ST_QUOTA_REQUEST, 50000, 0), 1000);
    assert_int_equal(owed(q, "bob", "b", NULL, ST_QUOTA_REQUEST, 500), 1000);
    /* the tenant's request quota caps the same way */
    set(q, NULL, NULL, "acme", ST_QK_REQUEST_PERCENTAGE, 10);
    assert_int_equal(rec(q, "carol", "c", "acme", ST_QUOTA_REQUEST, 30000, 0), 1000);
}

/* owed() measures without recording, and creates nothing. A fetch of 50 000 B under a
 * 1000 B/s quota passes (record first) and owes 50 - 10 = 40 s; owed() stays at 40 000
 * however often it is asked, falls to 39 001 at t=10 999 and to 0 at t=11 000, when the
 * same huge fetch goes through again — a fetch bigger than the window never starves. */
static void test_owed_vs_record(void **state)
{
    st_quotas *q = *state;
    set(q, "alice", NULL, NULL, ST_QK_CONSUMER_BYTE_RATE, 1000);
    assert_int_equal(owed(q, "alice", "a", NULL, ST_QUOTA_FETCH, 0), 0);
    assert_int_equal(st_quotas__sensor_count(q), 0);
    assert_int_equal(rec(q, "alice", "a", NULL, ST_QUOTA_FETCH, 50000, 0), 40000);
    for (int i = 0; i < 3; i++)
        assert_int_equal(owed(q, "alice", "a", NULL, ST_QUOTA_FETCH, 0), 40000);
    assert_int_equal(owed(q, "alice", "a", NULL, ST_QUOTA_FETCH, 10999), 39001);
    assert_int_equal(owed(q, "alice", "a", NULL, ST_QUOTA_FETCH, 11000), 0);
    assert_int_equal(rec(q, "alice", "a", NULL, ST_QUOTA_FETCH, 50000, 11000), 40000);
    assert_int_equal(owed(q, "alice", "a", NULL, PROD, 11000), 0);
}

static double at(json_t *doc, const char *metric, size_t i)
{
    return json_number_value(json_array_get(json_object_get(doc, metric), i));
}

/* What feeds the per-second metrics, and the ring wrapping after 300 s. */
static void test_metrics(void **state)
{
    st_quotas *q = *state;
    st_quota_client c = {"alice", "a", "acme"};
    rec(q, "alice", "a", "acme", PROD, 100, 500);
    rec(q, "alice", "a", "acme", PROD, 50, 900);
    rec(q, "alice", "a", "acme", ST_QUOTA_FETCH, 200, 1500);
    rec(q, "alice", "a", "acme", ST_QUOTA_REQUEST, 3.5, 1500); /* one request */
    rec(q, "alice", "a", "acme", ST_QUOTA_REQUEST, 1, 1600);
    st_quotas_note_throttle(q, &c, 40, T0 + 1700);
    st_quotas_note(q, "acme", ST_QM_DENIALS, 1, T0 + 2000);
    rec(q, "bob", "b", NULL, PROD, 100, 500); /* no tenant: no metrics */
    assert_int_equal(st_quotas__metrics_tenants(q), 1);

    json_t *m = st_quotas_metrics(q, "acme", 4, T0 + 2500);
    assert_string_equal(json_string_value(json_object_get(m, "tenant")), "acme");
    assert_int_equal(json_integer_value(json_object_get(m, "end")), T0 / 1000 + 2);
    assert_int_equal(json_array_size(json_object_get(m, "bytes_in")), 4);
    /* seconds T0/1000 - 1 .. + 2, oldest first */
    assert_float_equal(at(m, "bytes_in", 0), 0, 0);
    assert_float_equal(at(m, "bytes_in", 1), 150, 0);
    assert_float_equal(at(m, "bytes_out", 2), 200, 0);
    assert_float_equal(at(m, "requests", 2), 2, 0);
    assert_float_equal(at(m, "throttle_ms", 2), 40, 0);
    assert_float_equal(at(m, "denials", 3), 1, 0);
    assert_float_equal(at(m, "denials", 2), 0, 0);
    json_decref(m);

    /* t = 299 s: the window is seconds 0..299 relative to T0, 300 values */
    st_quotas_note(q, "acme", ST_QM_BYTES_IN, 7, T0 + 299000);
    m = st_quotas_metrics(q, "acme", ST_QM_HISTORY_SEC, T0 + 299000);
    assert_int_equal(json_array_size(json_object_get(m, "bytes_in")), 300);
    assert_float_equal(at(m, "bytes_in", 0), 150, 0);
    assert_float_equal(at(m, "bytes_in", 299), 7, 0);
    json_decref(m);
    /* t = 300 s lands in second 0's slot: the old value is replaced, not added to */
    st_quotas_note(q, "acme", ST_QM_BYTES_IN, 9, T0 + 300000);
    m = st_quotas_metrics(q, "acme", 0 /* all */, T0 + 300000);
    assert_float_equal(at(m, "bytes_in", 299), 9, 0);
    assert_float_equal(at(m, "bytes_in", 298), 7, 0);
    assert_float_equal(at(m, "bytes_out", 0), 200, 0); /* second 1 is still in the window */
    json_decref(m);
    /* a tenant never seen: zeros */
    m = st_quotas_metrics(q, "globex", 3, T0);
    assert_int_equal(json_array_size(json_object_get(m, "denials")), 3);
    assert_float_equal(at(m, "denials", 2), 0, 0);
    json_decref(m);
}

/* usage: active sensors, tenant filter, rates in quota units, throttle in the window. */
static void test_usage_shape(void **state)
{
    st_quotas *q = *state;
    set(q, "alice", NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, 1000);
    rec(q, "alice", "a", "acme", PROD, 15000, 0);       /* throttled 5000 */
    rec(q, "bob", "b", NULL, ST_QUOTA_REQUEST, 100, 0); /* 1 % */
    json_t *all = st_quotas_usage(q, NULL, T0);
    char *text = json_dumps(all, JSON_COMPACT | JSON_REAL_PRECISION(6));
    assert_string_equal(
        text, "[{\"entity\":{\"tenant\":\"acme\"},\"kind\":\"producer_byte_rate\",\"rate\":1500.0,"
              "\"quota\":null,\"throttle_ms_window\":0},"
              "{\"entity\":{\"user\":\"alice\"},\"kind\":\"producer_byte_rate\",\"rate\":1500.0,"
              "\"quota\":1000,\"throttle_ms_window\":5000},"
              "{\"entity\":{\"user\":\"bob\",\"client-id\":\"b\"},\"kind\":\"request_percentage\","
              "\"rate\":1.0,\"quota\":null,\"throttle_ms_window\":0}]");
    free(text);
    json_decref(all);
    json_t *acme = st_quotas_usage(q, "acme", T0);
    assert_int_equal(json_array_size(acme), 2);
    json_decref(acme);
    /* after the window nothing is active */
    json_t *later = st_quotas_usage(q, NULL, T0 + 11001);
    assert_int_equal(json_array_size(later), 0);
    json_decref(later);
}

static void test_explain_shape(void **state)
{
    st_quotas *q = *state;
    st_quota_client c = {"bob", "b", NULL};
    json_t *ex = st_quotas_explain(q, &c, ST_QUOTA_FETCH, T0);
    char *text = json_dumps(ex, JSON_COMPACT);
    assert_string_equal(text, "{\"client\":{\"entity\":null,\"quota\":null,\"rate\":0.0,"
                              "\"budget\":null},\"tenant\":null,\"owed_ms\":0}");
    free(text);
    json_decref(ex);
    set(q, D, NULL, NULL, ST_QK_CONSUMER_BYTE_RATE, 2000);
    rec(q, "bob", "b", NULL, ST_QUOTA_FETCH, 5000, 0);
    ex = st_quotas_explain(q, &c, ST_QUOTA_FETCH, T0);
    text = json_dumps(ex, JSON_COMPACT);
    assert_string_equal(text, "{\"client\":{\"entity\":{\"user\":\"<default>\"},\"quota\":2000,"
                              "\"rate\":500.0,\"budget\":1500.0},\"tenant\":null,\"owed_ms\":0}");
    free(text);
    json_decref(ex);
    /* a tenant without a tenant quota: its rate, no entity */
    st_quota_client t = {"bob", "b", "acme"};
    ex = st_quotas_explain(q, &t, ST_QUOTA_FETCH, T0);
    json_t *tn = json_object_get(ex, "tenant");
    assert_true(json_is_object(tn));
    assert_true(json_is_null(json_object_get(tn, "entity")));
    assert_true(json_is_null(json_object_get(tn, "budget")));
    json_decref(ex);
    assert_null(st_quotas_explain(q, &c, (st_quota_kind)7, T0));
}

/* connection_creation_rate 2/s: at t=0 the span is padded to 10 s, so 20 connections are
 * exactly 2/s (allowed) and the 21st makes 2.1/s (refused, and not counted, so the 22nd
 * sees 2.1 again). At t=11 s the burst has aged out: 1 / 10 s = 0.1/s. */
static void test_connection_rate(void **state)
{
    st_quotas *q = *state;
    double rate = -1;
    assert_false(st_quotas_connection_created(q, "acme", T0, &rate)); /* no limit */
    assert_float_equal(rate, 0.1, 1e-12);
    st_quotas_free(q);
    *state = q = st_quotas_new(11, 1000);
    set(q, NULL, NULL, "acme", ST_QK_CONNECTION_CREATION_RATE, 2);
    for (int i = 1; i <= 20; i++) {
        assert_false(st_quotas_connection_created(q, "acme", T0, &rate));
        assert_float_equal(rate, i / 10.0, 1e-12);
    }
    assert_true(st_quotas_connection_created(q, "acme", T0, &rate));
    assert_float_equal(rate, 2.1, 1e-12);
    assert_true(st_quotas_connection_created(q, "acme", T0, &rate));
    assert_float_equal(rate, 2.1, 1e-12);
    /* 500 ms later the span is 10.5 s: 21 / 10.5 = 2.0, allowed — it would be 22 / 10.5
     * and refused had the refusals counted */
    assert_false(st_quotas_connection_created(q, "acme", T0 + 500, &rate));
    assert_float_equal(rate, 2.0, 1e-12);
    assert_false(st_quotas_connection_created(q, "globex", T0, &rate));
    assert_false(st_quotas_connection_created(q, "acme", T0 + 11000, &rate));
    assert_float_equal(rate, 0.1, 1e-12);
    assert_false(st_quotas_connection_created(q, NULL, T0, &rate));
    /* the rate shows in usage */
    json_t *u = st_quotas_usage(q, "acme", T0 + 11000);
    json_t *it = json_array_get(u, 0);
    assert_string_equal(json_string_value(json_object_get(it, "kind")),
                        ST_QK_CONNECTION_CREATION_RATE);
    assert_float_equal(json_number_value(json_object_get(it, "quota")), 2, 0);
    json_decref(u);
}

/* 20 000 client ids with no quota: usage sensors stop at 10 000 (the rest are not
 * tracked), a client under a quota still gets its sensor when the table is full (so the
 * cap never lets anyone past a quota), and once idle past the expiry, records by one
 * client sweep them away (and the idle tenant rings too). */
static void test_sensor_expiry_bounds_memory(void **state)
{
    st_quotas *q = *state;
    char cid[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(cid, sizeof cid, "client-%d", i);
        rec(q, "alice", cid, i < 10 ? "acme" : NULL, PROD, 10, i / 10);
    }
    size_t n = st_quotas__sensor_count(q);
    assert_true(n >= 10000 && n <= 10002);
    set(q, "carol", NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, 1000);
    assert_int_equal(rec(q, "carol", "x", NULL, PROD, 15000, 1999), 5000);
    assert_int_equal(st_quotas__sensor_count(q), n + 1);
    for (int i = 0; i < 20000; i++)
        rec(q, "bob", "steady", NULL, PROD, 10, 2000 + 12001 + i);
    assert_true(st_quotas__sensor_count(q) <= 2);
    for (int i = 0; i < 1000; i++)
        rec(q, "bob", "steady", NULL, PROD, 10, 400000 + i);
    assert_int_equal(st_quotas__metrics_tenants(q), 0);
}

/* A fetch is capped to what the quota allows over (num - 1) windows: 1000 B/s x 10 s;
 * the tenant's smaller quota wins; no quota, no cap. */
static void test_window_budget(void **state)
{
    st_quotas *q = *state;
    st_quota_client c = {"alice", "app", "acme"};
    double b = 0;
    assert_false(st_quotas_window_budget(q, &c, ST_QUOTA_FETCH, &b));
    set(q, "alice", NULL, NULL, ST_QK_CONSUMER_BYTE_RATE, 1000);
    assert_true(st_quotas_window_budget(q, &c, ST_QUOTA_FETCH, &b));
    assert_float_equal(b, 10000, 1e-9);
    set(q, NULL, NULL, "acme", ST_QK_CONSUMER_BYTE_RATE, 300);
    assert_true(st_quotas_window_budget(q, &c, ST_QUOTA_FETCH, &b));
    assert_float_equal(b, 3000, 1e-9);
    assert_false(st_quotas_window_budget(q, &c, ST_QUOTA_PRODUCE, &b));
}

/* Bad measurements do not crash or credit the client. */
static void test_bad_input(void **state)
{
    st_quotas *q = *state;
    set(q, "alice", NULL, NULL, ST_QK_PRODUCER_BYTE_RATE, 1000);
    assert_int_equal(rec(q, "alice", "a", NULL, PROD, 15000, 0), 5000);
    assert_int_equal(rec(q, "alice", "a", NULL, PROD, -1e9, 0), 5000);
    assert_int_equal(rec(q, "alice", "a", NULL, (st_quota_kind)9, 1, 0), 0);
    assert_int_equal(st_quotas_record(q, NULL, PROD, 1, T0), 0);
    char huge[40000];
    memset(huge, 'c', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    /* a client id too long for any config entity still finds alice's user quota, and
     * shares its sensor: 15 001 B → 15.001 s - 10 s = 5001 ms */
    assert_int_equal(rec(q, "alice", huge, NULL, PROD, 1, 0), 5001);
    assert_int_equal(rec(q, huge, huge, huge, PROD, 1, 0), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_throttle_formula), T(test_quota_change_applies_at_once),
        T(test_precedence),       T(test_sensor_sharing),
        T(test_tenant_cap),       T(test_request_percentage_cap),
        T(test_owed_vs_record),   T(test_metrics),
        T(test_usage_shape),      T(test_explain_shape),
        T(test_connection_rate),  T(test_sensor_expiry_bounds_memory),
        T(test_bad_input),        T(test_window_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
