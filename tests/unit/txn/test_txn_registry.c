/*
 * The coordinator's id map: 20000 ids put, replaced and half of them removed in a
 * scattered order, every survivor still found (the backward-shift deletion keeps probe
 * runs intact); a __transaction_state rebuild where the newest value wins, a tombstone
 * forgets, and bad records are skipped with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "broker/txn/txn_log.h"
#include "broker/txn/txn_registry.h"
#include "common/errors.h"

#define N 20000

static st_str id_of(char *buf, size_t cap, int i)
{
    int n = snprintf(buf, cap, "txn-%d", i);
    return (st_str){buf, n};
}

static void test_put_get_remove(void **state)
{
    st_txn_registry *r = st_txn_registry_new();
    assert_non_null(r);
    char buf[32];
    for (int i = 0; i < N; i++) {
        st_str id = id_of(buf, sizeof buf, i);
        st_txn_meta *m = st_txn_meta_new(id.ptr, (size_t)id.len, i, 0);
        assert_int_equal(st_txn_registry_put(r, m), 0);
    }
    assert_int_equal(st_txn_registry_count(r), N);
    /* a replacement frees the old state (ASan would see a leak) and keeps the count */
    st_str id7 = id_of(buf, sizeof buf, 7);
    assert_int_equal(st_txn_registry_put(r, st_txn_meta_new(id7.ptr, (size_t)id7.len, 777, 0)), 0);
    assert_int_equal(st_txn_registry_count(r), N);
    assert_int_equal(st_txn_registry_get(r, id7)->producer_id, 777);
    /* remove every other id, in a scattered order */
    for (int k = 0; k < N; k++) {
        int i = (int)(((int64_t)k * 7919) % N);
        if (i % 2 == 0)
            st_txn_registry_remove(r, id_of(buf, sizeof buf, i));
    }
    st_txn_registry_remove(r, (st_str){"nope", 4});
    assert_int_equal(st_txn_registry_count(r), N / 2);
    for (int i = 0; i < N; i++) {
        st_txn_meta *m = st_txn_registry_get(r, id_of(buf, sizeof buf, i));
        if (i % 2 == 0) {
            assert_null(m);
        } else {
            assert_non_null(m);
            assert_int_equal(m->producer_id, i == 7 ? 777 : i);
        }
    }
    size_t cursor = 0, seen = 0;
    while (st_txn_registry_next(r, &cursor))
        seen++;
    assert_int_equal(seen, N / 2);
    assert_null(st_txn_registry_get(r, (st_str){NULL, -1}));
    st_txn_registry_free(r);
    st_txn_registry_free(NULL);
}

/* The key and value of id's state at producer pid, status s. */
static void record(st_buf *k, st_buf *v, const char *id, int64_t pid, st_txn_status s)
{
    st_txn_meta *m = st_txn_meta_new(id, strlen(id), pid, 5);
    m->producer_epoch = 2;
    m->timeout_ms = 60000;
    m->status = s;
    st_txn_log_key_encode(k, id);
    st_txn_log_value_encode(v, m);
    st_txn_meta_free(m);
}

#define BYTES(b) ((st_bytes){(b).data, (int32_t)(b).len})

static void test_load(void **state)
{
    st_txn_registry *r = st_txn_registry_new();
    char why[200];
    st_buf k1 = ST_BUF_INIT, v1 = ST_BUF_INIT, k2 = ST_BUF_INIT, v2 = ST_BUF_INIT, k3 = ST_BUF_INIT,
           v3 = ST_BUF_INIT;
    record(&k1, &v1, "a", 1, ST_TXN_ONGOING);
    record(&k2, &v2, "a", 1, ST_TXN_PREPARE_COMMIT);
    record(&k3, &v3, "b", 2, ST_TXN_EMPTY);
    assert_int_equal(st_txn_registry_load(r, BYTES(k1), BYTES(v1), why, sizeof why), 0);
    assert_int_equal(st_txn_registry_load(r, BYTES(k3), BYTES(v3), why, sizeof why), 0);
    assert_int_equal(st_txn_registry_load(r, BYTES(k2), BYTES(v2), why, sizeof why), 0);
    st_txn_meta *a = st_txn_registry_get(r, (st_str){"a", 1});
    assert_non_null(a);
    assert_int_equal(a->status, ST_TXN_PREPARE_COMMIT); /* the newest wins */
    assert_int_equal(a->producer_epoch, 2);
    /* a tombstone forgets b */
    assert_int_equal(st_txn_registry_load(r, BYTES(k3), (st_bytes){NULL, -1}, why, sizeof why), 0);
    assert_null(st_txn_registry_get(r, (st_str){"b", 1}));
    assert_int_equal(st_txn_registry_count(r), 1);
    /* bad records are skipped and say why; the state is untouched */
    const uint8_t nul_key[] = {0, 0, 0, 2, 'a', 0};
    assert_int_equal(st_txn_registry_load(r, (st_bytes){nul_key, 6}, BYTES(v1), why, sizeof why),
                     ST_ERR__MALFORMED);
    assert_non_null(strstr(why, "not a transactional id"));
    assert_int_equal(st_txn_registry_load(r, BYTES(k1), (st_bytes){v1.data, 5}, why, sizeof why),
                     ST_ERR__MALFORMED);
    assert_non_null(strstr(why, "transactional id \"a\""));
    assert_int_equal(st_txn_registry_get(r, (st_str){"a", 1})->status, ST_TXN_PREPARE_COMMIT);
    st_buf_free(&k1);
    st_buf_free(&v1);
    st_buf_free(&k2);
    st_buf_free(&v2);
    st_buf_free(&k3);
    st_buf_free(&v3);
    st_txn_registry_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_remove),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
