/* Unit tests for auth/guard.c: the verdict cache (keys, expiry, a changed credential
 * misses), identical checks joined, the per-address rate and in-flight budgets (IPv6 by
 * /64), the broker-wide cap, and the per-address log limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth/guard.h"
#include "auth/scram.h"

static st_auth_guard *guard(int rate, int per_address, int total)
{
    char err[256];
    st_auth_guard_config cfg = {.rate_per_address = rate,
                                .inflight_per_address = per_address,
                                .inflight_total = total,
                                .cache_entries = 64,
                                .cache_ttl_ms = 1000};
    st_auth_guard *g = st_auth_guard_new(&cfg, err, sizeof err);
    assert_non_null(g);
    return g;
}

static st_scram_credential cred(uint8_t fill)
{
    st_scram_credential c;
    memset(&c, 0, sizeof c);
    c.mechanism = ST_SCRAM_SHA_512;
    c.iterations = 4096;
    c.salt_len = 32;
    c.key_len = 64;
    memset(c.salt, fill, sizeof c.salt);
    memset(c.stored_key, fill + 1, sizeof c.stored_key);
    return c;
}

static void key_of(st_auth_guard *g, uint8_t fill, const char *user, const char *pw, uint8_t *k)
{
    st_scram_credential c = cred(fill);
    st_auth_guard_key(g, &c, user, pw, strlen(pw), k);
}

static void test_cache(void **state)
{
    st_auth_guard *g = guard(0, 0, 8);
    uint8_t k1[ST_AUTH_KEY_LEN], k2[ST_AUTH_KEY_LEN], k3[ST_AUTH_KEY_LEN], k4[ST_AUTH_KEY_LEN],
        again[ST_AUTH_KEY_LEN];
    key_of(g, 1, "alice", "pw", k1);
    key_of(g, 1, "alice", "pw", again);
    key_of(g, 1, "alice", "pw2", k2);
    key_of(g, 1, "alicf", "pw", k3);
    key_of(g, 7, "alice", "pw", k4); /* the password changed: another credential */
    assert_memory_equal(k1, again, ST_AUTH_KEY_LEN);
    assert_memory_not_equal(k1, k2, ST_AUTH_KEY_LEN);
    assert_memory_not_equal(k1, k3, ST_AUTH_KEY_LEN);
    assert_memory_not_equal(k1, k4, ST_AUTH_KEY_LEN);
    /* another guard (another process) has another key: nothing is comparable across */
    st_auth_guard *other = guard(0, 0, 8);
    key_of(other, 1, "alice", "pw", again);
    assert_memory_not_equal(k1, again, ST_AUTH_KEY_LEN);
    st_auth_guard_free(other);

    assert_int_equal(st_auth_guard_cached(g, k1, 0), -1);
    void *running = NULL;
    int owner;
    assert_int_equal(st_auth_guard_check_begin(g, "10.0.0.1", k1, &owner, &running, 0),
                     ST_AUTH_ADMITTED);
    st_auth_guard_check_end(g, k1, 1, 0);
    assert_int_equal(st_auth_guard_check_begin(g, "10.0.0.1", k2, &owner, &running, 0),
                     ST_AUTH_ADMITTED);
    st_auth_guard_check_end(g, k2, 0, 0);
    assert_int_equal(st_auth_guard_cached(g, k1, 999), 1);
    assert_int_equal(st_auth_guard_cached(g, k2, 999), 0);
    assert_int_equal(st_auth_guard_cached(g, k4, 999), -1);
    /* expired after the TTL */
    assert_int_equal(st_auth_guard_cached(g, k1, 1000), -1);
    /* a check that did not run leaves no verdict */
    assert_int_equal(st_auth_guard_check_begin(g, "10.0.0.1", k3, &owner, &running, 0),
                     ST_AUTH_ADMITTED);
    st_auth_guard_check_end(g, k3, -1, 0);
    assert_int_equal(st_auth_guard_cached(g, k3, 1), -1);
    st_auth_guard_stats st;
    st_auth_guard_get_stats(g, &st);
    assert_int_equal(st.checks, 3);
    assert_int_equal(st.cache_hits, 2);
    assert_int_equal(st.inflight, 0);
    st_auth_guard_free(g);
}

static void test_join(void **state)
{
    st_auth_guard *g = guard(1, 1, 8);
    uint8_t k[ST_AUTH_KEY_LEN];
    key_of(g, 1, "alice", "pw", k);
    int first, second;
    void *running = NULL;
    assert_int_equal(st_auth_guard_check_begin(g, "10.0.0.1", k, &first, &running, 0),
                     ST_AUTH_ADMITTED);
    /* the same check again, even from an address with no budget left: joins, free */
    assert_int_equal(st_auth_guard_check_begin(g, "10.0.0.2", k, &second, &running, 0),
                     ST_AUTH_JOINED);
    assert_ptr_equal(running, &first);
    assert_int_equal(st_auth_guard_check_begin(g, "10.0.0.1", k, &second, &running, 0),
                     ST_AUTH_JOINED);
    st_auth_guard_check_end(g, k, 0, 0);
    st_auth_guard_stats st;
    st_auth_guard_get_stats(g, &st);
    assert_int_equal(st.joined, 2);
    assert_int_equal(st.checks, 1);
    st_auth_guard_free(g);
}

/* Starts a check of a fresh key for host; returns the verdict (ended at once if admitted). */
static st_auth_verdict one(st_auth_guard *g, const char *host, int64_t now, int *n, bool end)
{
    uint8_t k[ST_AUTH_KEY_LEN];
    char pw[32];
    snprintf(pw, sizeof pw, "guess-%d", (*n)++);
    key_of(g, 1, "mallory", pw, k);
    int owner;
    void *running = NULL;
    st_auth_verdict v = st_auth_guard_check_begin(g, host, k, &owner, &running, now);
    if (v == ST_AUTH_ADMITTED && end)
        st_auth_guard_check_end(g, k, 0, now);
    return v;
}

static void test_rate_per_address(void **state)
{
    st_auth_guard *g = guard(5, 0, 256);
    int n = 0;
    for (int i = 0; i < 5; i++)
        assert_int_equal(one(g, "10.0.0.1", 1000, &n, true), ST_AUTH_ADMITTED);
    assert_int_equal(one(g, "10.0.0.1", 1000, &n, true), ST_AUTH_OVER_RATE);
    assert_int_equal(one(g, "10.0.0.1", 1100, &n, true), ST_AUTH_OVER_RATE);
    /* 5 a second: one more every 200 ms */
    assert_int_equal(one(g, "10.0.0.1", 1200, &n, true), ST_AUTH_ADMITTED);
    assert_int_equal(one(g, "10.0.0.1", 1200, &n, true), ST_AUTH_OVER_RATE);
    /* another address has its own budget */
    assert_int_equal(one(g, "10.0.0.2", 1200, &n, true), ST_AUTH_ADMITTED);
    /* IPv6: one budget per /64; IPv4-mapped IPv6 is the IPv4 address */
    for (int i = 0; i < 5; i++)
        assert_int_equal(one(g, i % 2 ? "2001:db8::1" : "2001:db8::ffff:2", 1200, &n, true),
                         ST_AUTH_ADMITTED);
    assert_int_equal(one(g, "2001:db8::3", 1200, &n, true), ST_AUTH_OVER_RATE);
    assert_int_equal(one(g, "2001:db8:0:1::3", 1200, &n, true), ST_AUTH_ADMITTED);
    assert_int_equal(one(g, "::ffff:10.0.0.1", 1200, &n, true), ST_AUTH_OVER_RATE);
    /* a quiet address refills to one second's worth, no more */
    for (int i = 0; i < 5; i++)
        assert_int_equal(one(g, "10.0.0.1", 60000, &n, true), ST_AUTH_ADMITTED);
    assert_int_equal(one(g, "10.0.0.1", 60000, &n, true), ST_AUTH_OVER_RATE);
    st_auth_guard_stats st;
    st_auth_guard_get_stats(g, &st);
    assert_int_equal(st.over_rate, 6);
    st_auth_guard_free(g);
}

static void test_in_flight_limits(void **state)
{
    st_auth_guard *g = guard(0, 2, 3);
    int n = 0;
    uint8_t k[ST_AUTH_KEY_LEN];
    assert_int_equal(one(g, "10.0.0.1", 0, &n, false), ST_AUTH_ADMITTED);
    assert_int_equal(one(g, "10.0.0.1", 0, &n, false), ST_AUTH_ADMITTED);
    assert_int_equal(one(g, "10.0.0.1", 0, &n, false), ST_AUTH_OVER_INFLIGHT);
    assert_int_equal(one(g, "10.0.0.2", 0, &n, false), ST_AUTH_ADMITTED);
    /* three in flight: the broker-wide cap */
    assert_int_equal(one(g, "10.0.0.3", 0, &n, false), ST_AUTH_BUSY);
    /* the second check of 10.0.0.1 ("guess-1") ends: room for one more, anywhere */
    key_of(g, 1, "mallory", "guess-1", k);
    st_auth_guard_check_end(g, k, 0, 0);
    assert_int_equal(one(g, "10.0.0.3", 0, &n, false), ST_AUTH_ADMITTED);
    st_auth_guard_stats st;
    st_auth_guard_get_stats(g, &st);
    assert_int_equal(st.inflight, 3);
    assert_int_equal(st.over_inflight, 1);
    assert_int_equal(st.busy, 1);
    st_auth_guard_free(g);
}

/* Many addresses come and go: an address with a check in flight keeps its slot (its
 * count must come back down when the check ends). */
static void test_address_churn(void **state)
{
    st_auth_guard *g = guard(0, 1, 4);
    int n = 0;
    uint8_t k[ST_AUTH_KEY_LEN];
    assert_int_equal(one(g, "192.168.0.1", 0, &n, false), ST_AUTH_ADMITTED); /* guess-0 */
    for (int i = 0; i < 5000; i++) {
        char host[32];
        snprintf(host, sizeof host, "10.%d.%d.%d", i / 65536, i / 256 % 256, i % 256);
        assert_int_equal(one(g, host, i + 1, &n, true), ST_AUTH_ADMITTED);
    }
    assert_int_equal(one(g, "192.168.0.1", 6000, &n, false), ST_AUTH_OVER_INFLIGHT);
    key_of(g, 1, "mallory", "guess-0", k);
    st_auth_guard_check_end(g, k, 0, 6000);
    assert_int_equal(one(g, "192.168.0.1", 6000, &n, false), ST_AUTH_ADMITTED);
    st_auth_guard_free(g);
}

static void test_log_limit(void **state)
{
    st_auth_guard *g = guard(0, 0, 4);
    uint64_t suppressed = 99;
    bool last = true;
    for (int i = 0; i < ST_AUTH_GUARD_LOG_BURST; i++) {
        assert_true(st_auth_guard_log_due(g, "10.0.0.1", 1000 + i, &suppressed, &last));
        assert_int_equal(suppressed, 0);
        assert_int_equal(last, i == ST_AUTH_GUARD_LOG_BURST - 1);
    }
    for (int i = 0; i < 25; i++)
        assert_false(st_auth_guard_log_due(g, "10.0.0.1", 2000, &suppressed, &last));
    assert_true(st_auth_guard_log_due(g, "10.0.0.2", 2000, &suppressed, &last));
    assert_true(
        st_auth_guard_log_due(g, "10.0.0.1", 1000 + ST_AUTH_GUARD_LOG_MS, &suppressed, &last));
    assert_int_equal(suppressed, 25);
    assert_false(last);
    st_auth_guard_free(g);
}

static void test_bad_config(void **state)
{
    char err[256];
    st_auth_guard_config cfg = {.inflight_total = 0};
    assert_null(st_auth_guard_new(&cfg, err, sizeof err));
    cfg.inflight_total = ST_AUTH_GUARD_MAX_INFLIGHT + 1;
    assert_null(st_auth_guard_new(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "in flight"));
    /* no cache at all is allowed */
    cfg = (st_auth_guard_config){.inflight_total = 1};
    st_auth_guard *g = st_auth_guard_new(&cfg, err, sizeof err);
    assert_non_null(g);
    uint8_t k[ST_AUTH_KEY_LEN];
    key_of(g, 1, "alice", "pw", k);
    int owner;
    void *running;
    assert_int_equal(st_auth_guard_check_begin(g, "::1", k, &owner, &running, 0), ST_AUTH_ADMITTED);
    st_auth_guard_check_end(g, k, 1, 0);
    assert_int_equal(st_auth_guard_cached(g, k, 0), -1);
    st_auth_guard_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_rate_per_address),
        cmocka_unit_test(test_in_flight_limits),
        cmocka_unit_test(test_address_churn),
        cmocka_unit_test(test_log_limit),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
