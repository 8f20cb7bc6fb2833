/* The chunked allocator: zeroed, 16-byte aligned memory across chunk boundaries, one
 * allocation larger than a chunk, and reuse after st_arena_free (ASan in the fuzz build
 * catches a leak or an overrun). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"

static void check_block(unsigned char *p, size_t n)
{
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 16, 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(p[i], 0);
    memset(p, 0xab, n); /* the next allocation must be zeroed again, not reuse this */
}

static void test_alloc(void **state)
{
    st_arena a = ST_ARENA_INIT;
    unsigned char *prev = NULL;
    /* 3000 small blocks cross several 16 KiB chunks */
    for (size_t i = 0; i < 3000; i++) {
        size_t n = 1 + i % 37;
        unsigned char *p = st_arena_alloc(&a, n);
        check_block(p, n);
        assert_ptr_not_equal(p, prev);
        prev = p;
    }
    unsigned char *big = st_arena_alloc(&a, 100000); /* larger than a chunk */
    check_block(big, 100000);
    st_arena_free(&a);
    assert_null(a.head);

    /* reusable after a free */
    unsigned char *p = st_arena_alloc(&a, 64);
    check_block(p, 64);
    st_arena_free(&a);
    st_arena_free(&a); /* freeing an empty arena is harmless */
    assert_null(a.head);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
