/* mf_parse_src_header: the "strait.src" provenance header a restarted flow relies on to
 * find what it already copied. Only this source's "<alias>/<offset>" may count, with the
 * epoch of a recreated source topic after "@" ("<alias>/<offset>@<epoch>"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mirror/flow_int.h"

static int64_t last_epoch;

static bool parse(const char *v, const char *alias, int64_t *off)
{
    return mf_parse_src_header(v, strlen(v), alias, off, &last_epoch);
}

static void test_own_source(void **state)
{
    int64_t off = -1;
    assert_true(parse("dc1/0", "dc1", &off));
    assert_int_equal(off, 0);
    assert_int_equal(last_epoch, 0);
    assert_true(parse("dc1/9223372036854775", "dc1", &off));
    assert_int_equal(off, 9223372036854775LL);
    /* a recreated topic's incarnation */
    assert_true(parse("dc1/17@2", "dc1", &off));
    assert_int_equal(off, 17);
    assert_int_equal(last_epoch, 2);
    assert_true(parse("dc1/5", "dc1", &off));
    assert_int_equal(last_epoch, 0);
}

static void test_other_source_or_prefix(void **state)
{
    int64_t off = 42;
    assert_false(parse("dc2/17", "dc1", &off));
    assert_false(parse("dc10/17", "dc1", &off)); /* alias is a prefix of another alias */
    assert_false(parse("dc/17", "dc1", &off));
    assert_int_equal(off, 42); /* untouched when not ours */
}

static void test_malformed(void **state)
{
    int64_t off = 42;
    assert_false(parse("dc1/", "dc1", &off));
    assert_false(parse("dc1", "dc1", &off));
    assert_false(parse("dc1-17", "dc1", &off));
    assert_false(parse("dc1/17x", "dc1", &off));
    assert_false(parse("dc1/-1", "dc1", &off));
    assert_false(parse("dc1/99999999999999999999", "dc1", &off)); /* would overflow */
    assert_false(parse("dc1/123456789012345678901", "dc1", &off));
    assert_false(parse("dc1/17@", "dc1", &off));
    assert_false(parse("dc1/@2", "dc1", &off));
    assert_false(parse("dc1/17@2@3", "dc1", &off));
    assert_false(parse("dc1/17@x", "dc1", &off));
    assert_false(mf_parse_src_header(NULL, 0, "dc1", &off, &last_epoch));
    /* a binary value: the length counts, not a NUL */
    assert_false(mf_parse_src_header("dc1/1\0"
                                     "2",
                                     6, "dc1", &off, &last_epoch));
    assert_int_equal(off, 42);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_source),
        cmocka_unit_test(test_other_source_or_prefix),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
