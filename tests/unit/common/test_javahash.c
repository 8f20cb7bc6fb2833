/* Java's String.hashCode and Kafka's partitionFor: values Java computes (taken from
 * Java's definition, s[0]*31^(n-1) + ... over UTF-16 code units), including the
 * Integer.MIN_VALUE case Utils.abs maps to 0, surrogate pairs and malformed UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/javahash.h"

#define H(s)    st_java_string_hash((s), strlen(s))
#define P(s, n) st_kafka_partition_for((s), strlen(s), (n))

static void test_hash(void **state)
{
    assert_int_equal(H(""), 0);
    assert_int_equal(H("hello"), 99162322);
    assert_int_equal(H("my-txn-1"), -1894316499);
    /* U+00E9 is one code unit, U+1F600 two (a surrogate pair) */
    assert_int_equal(H("transactional-id-\xc3\xa9\xf0\x9f\x98\x80"), 824304414);
    /* a byte that starts no valid sequence counts as U+FFFD, as Java's decoder has it */
    assert_int_equal(H("\xff"
                       "a"),
                     0xfffd * 31 + 'a');
    /* a truncated sequence too: one U+FFFD for its first byte, then the rest */
    assert_int_equal(H("\xc3"), 0xfffd);
}

static void test_partition_for(void **state)
{
    assert_int_equal(P("", 50), 0);
    assert_int_equal(P("hello", 50), 22);
    assert_int_equal(P("my-txn-1", 50), 49); /* a negative hash: abs first */
    /* hashCode is Integer.MIN_VALUE: Kafka's Utils.abs maps it to 0 */
    assert_int_equal(H("polygenelubricants"), INT32_MIN);
    assert_int_equal(P("polygenelubricants", 50), 0);
    assert_int_equal(P("hello", 0), 0);
    assert_int_equal(P("hello", -3), 0);
    assert_int_equal(P("hello", 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_partition_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
