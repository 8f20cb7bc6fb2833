/*
 * The wait set: a walk for one key finds exactly the links chained under it, whatever
 * else is chained (many keys, growth past its first buckets, removals in any order), and
 * removing a link twice or one never added is harmless.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "broker/request/waitset.h"

#define NKEYS  300
#define NLINKS 3000 /* ten per key: far past the first buckets, so the set grows */

static char keys[NKEYS]; /* their addresses are the keys */

/* How many links the walk for key k finds; every one must be under k. */
static int walk(const st_waitset *w, int k)
{
    int n = 0;
    for (st_wait_link *l = st_waitset_first(w, &keys[k]); l; l = st_waitset_next(l)) {
        assert_ptr_equal(l->key, &keys[k]);
        assert_int_equal(l->index % NKEYS, k);
        n++;
    }
    return n;
}

static void test_walk_finds_its_key_only(void **state)
{
    st_waitset *w = st_waitset_new();
    st_wait_link *links = calloc(NLINKS, sizeof *links);
    assert_non_null(links);
    for (int i = 0; i < NLINKS; i++)
        st_waitset_add(w, &links[i], &keys[i % NKEYS], NULL, i);
    assert_int_equal(st_waitset_count(w), NLINKS);
    for (int k = 0; k < NKEYS; k++)
        assert_int_equal(walk(w, k), NLINKS / NKEYS);

    /* Remove every link of even index: the odd ones stay findable. */
    for (int i = 0; i < NLINKS; i += 2)
        st_waitset_remove(w, &links[i]);
    st_waitset_remove(w, &links[0]); /* twice: no-op */
    assert_int_equal(st_waitset_count(w), NLINKS / 2);
    for (int k = 0; k < NKEYS; k++)
        assert_int_equal(walk(w, k), k % 2 ? NLINKS / NKEYS : 0); /* NKEYS is even */

    for (int i = 1; i < NLINKS; i += 2)
        st_waitset_remove(w, &links[i]);
    assert_int_equal(st_waitset_count(w), 0);
    for (int k = 0; k < NKEYS; k++)
        assert_int_equal(walk(w, k), 0);
    st_waitset_free(w);
    free(links);
}

/* A key nobody waits on, and a link never added. */
static void test_empty_and_unchained(void **state)
{
    st_waitset *w = st_waitset_new();
    st_wait_link l = {0};
    assert_null(st_waitset_first(w, &keys[0]));
    st_waitset_remove(w, &l);
    assert_int_equal(st_waitset_count(w), 0);
    st_waitset_add(w, &l, &keys[1], &l, 7);
    assert_null(st_waitset_first(w, &keys[0]));
    assert_ptr_equal(st_waitset_first(w, &keys[1]), &l);
    assert_ptr_equal(st_waitset_first(w, &keys[1])->owner, &l);
    st_waitset_remove(w, &l);
    assert_null(st_waitset_first(w, &keys[1]));
    st_waitset_free(w);
    st_waitset_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk_finds_its_key_only),
        cmocka_unit_test(test_empty_and_unchained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
