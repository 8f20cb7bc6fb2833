/*
 * Per-address connection counting (iplimit.h): the override list's parser and its
 * errors, address forms, and the counting table against a plain array model through
 * many increments and decrements (deletion must keep every other address findable).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker/net/iplimit.h"

static st_ip ip_of(const char *text)
{
    st_ip ip;
    assert_true(st_ip_parse(text, strlen(text), &ip));
    return ip;
}

static void test_parse_and_format(void **state)
{
    char out[64];
    st_ip a = ip_of("10.0.0.1");
    st_ip_format(&a, out, sizeof out);
    assert_string_equal(out, "10.0.0.1");
    st_ip b = ip_of("[::1]");
    st_ip c = ip_of("::1");
    assert_memory_equal(&b, &c, sizeof b);
    st_ip_format(&b, out, sizeof out);
    assert_string_equal(out, "::1");
    /* An IPv4 peer seen through a dual-stack socket is the same address. */
    st_ip mapped = ip_of("::ffff:10.0.0.1");
    assert_memory_equal(&a, &mapped, sizeof a);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    inet_pton(AF_INET, "10.0.0.1", &sin.sin_addr);
    st_ip from_sa;
    assert_true(st_ip_from_sockaddr((struct sockaddr *)&sin, &from_sa));
    assert_memory_equal(&a, &from_sa, sizeof a);
    st_ip bad;
    assert_false(st_ip_parse("broker.example.com", 18, &bad));
    assert_false(st_ip_parse("", 0, &bad));
    assert_false(st_ip_parse("10.0.0.256", 10, &bad));
}

static void test_overrides(void **state)
{
    st_ip_limit *l;
    size_t n;
    char why[300];
    assert_int_equal(st_ip_limits_parse("", &l, &n, why, sizeof why), 0);
    assert_int_equal(n, 0);
    assert_null(l);
    assert_int_equal(st_ip_limits_parse(" 10.0.0.1:200, [::1]:0,::2:7 ", &l, &n, why, sizeof why),
                     0);
    assert_int_equal(n, 3);
    st_ip want = ip_of("10.0.0.1");
    assert_memory_equal(&l[0].ip, &want, sizeof want);
    assert_int_equal(l[0].max, 200);
    want = ip_of("::1");
    assert_memory_equal(&l[1].ip, &want, sizeof want);
    assert_int_equal(l[1].max, 0);
    want = ip_of("::2");
    assert_memory_equal(&l[2].ip, &want, sizeof want);
    assert_int_equal(l[2].max, 7);
    free(l);

    assert_int_equal(st_ip_limits_parse("10.0.0.1", &l, &n, why, sizeof why), -1);
    assert_non_null(strstr(why, "\"10.0.0.1\" must be ADDRESS:COUNT"));
    assert_int_equal(st_ip_limits_parse("10.0.0.1:-3", &l, &n, why, sizeof why), -1);
    assert_int_equal(st_ip_limits_parse("10.0.0.1:5x", &l, &n, why, sizeof why), -1);
    assert_int_equal(st_ip_limits_parse("10.0.0.1:1,host.example:5", &l, &n, why, sizeof why), -1);
    assert_non_null(strstr(why, "\"host.example\" is not an IPv4 or IPv6 address"));
    assert_null(l);
    assert_int_equal(n, 0);
}

#define NADDR 600

static void test_counts_match_a_model(void **state)
{
    st_ip_counts *t = st_ip_counts_new();
    static st_ip addrs[NADDR];
    static uint32_t model[NADDR];
    for (int i = 0; i < NADDR; i++) {
        char text[64];
        if (i % 3)
            snprintf(text, sizeof text, "10.%d.%d.%d", i % 7, i / 256, i % 256);
        else
            snprintf(text, sizeof text, "2001:db8::%x", i);
        addrs[i] = ip_of(text);
    }
    uint32_t seed = 42;
    for (int step = 0; step < 200000; step++) {
        seed = seed * 1103515245u + 12345u;
        int i = (int)((seed >> 8) % NADDR);
        bool up = ((seed >> 20) & 3) != 0 || model[i] == 0;
        if (up) {
            st_ip_counts_inc(t, &addrs[i]);
            model[i]++;
        } else {
            st_ip_counts_dec(t, &addrs[i]);
            model[i]--;
        }
        if (step % 997 == 0) {
            size_t present = 0;
            for (int k = 0; k < NADDR; k++) {
                assert_int_equal(st_ip_counts_get(t, &addrs[k]), model[k]);
                present += model[k] > 0;
            }
            assert_int_equal(st_ip_counts_size(t), present);
        }
    }
    /* Everything goes away again. */
    for (int i = 0; i < NADDR; i++)
        while (model[i]--)
            st_ip_counts_dec(t, &addrs[i]);
    assert_int_equal(st_ip_counts_size(t), 0);
    for (int i = 0; i < NADDR; i++)
        assert_int_equal(st_ip_counts_get(t, &addrs[i]), 0);
    st_ip_counts_dec(t, &addrs[0]); /* not there: no effect */
    assert_int_equal(st_ip_counts_size(t), 0);
    st_ip_counts_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_format),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_counts_match_a_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
