/*
 * The transaction state machine against the protocol's rules: a producer's life
 * (init, add, commit, next transaction, abort), epoch bumps and fencing of a zombie,
 * KIP-360 retries, the answers to retried and crossed EndTxn requests, timeouts,
 * expiry, epoch exhaustion, and that a refused request changes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "broker/txn/txn_state.h"
#include "common/errors.h"

#define S(s) ((st_str){(s), (int32_t)(sizeof(s) - 1)})

static const st_txn_limits lim = {900000, 7LL * 24 * 3600 * 1000, 4};

/* A fresh id, initialised once: Empty at epoch 0. */
static st_txn_meta *fresh(int64_t pid)
{
    st_txn_meta *m = st_txn_meta_new("app-1", 5, pid, 1000);
    assert_non_null(m);
    int16_t err = -1;
    assert_int_equal(st_txn_init_pid(m, &lim, 60000, -1, -1, 1000, &err), ST_TXN_INIT_ANSWER);
    assert_int_equal(err, 0);
    assert_int_equal(m->producer_epoch, 0);
    assert_int_equal(m->status, ST_TXN_EMPTY);
    return m;
}

static int16_t add1(st_txn_meta *m, int64_t pid, int16_t epoch, st_str topic, int32_t part,
                    int64_t now, int32_t *added)
{
    return st_txn_add_partitions(m, &lim, pid, epoch, &topic, &part, 1, now, added);
}

static void test_names(void **state)
{
    assert_string_equal(st_txn_status_name(ST_TXN_PREPARE_COMMIT), "PrepareCommit");
    assert_string_equal(st_txn_status_name(ST_TXN_PREPARE_EPOCH_FENCE), "PrepareEpochFence");
    assert_string_equal(st_txn_status_name(8), "Unknown");
    assert_string_equal(st_txn_status_name(-1), "Unknown");
    st_txn_status s;
    assert_true(st_txn_status_from_name(S("CompleteAbort"), &s));
    assert_int_equal(s, ST_TXN_COMPLETE_ABORT);
    assert_false(st_txn_status_from_name(S("completeabort"), &s));
    assert_false(st_txn_status_from_name(S("Complete"), &s));
    /* a few of Kafka's allowed and forbidden transitions */
    assert_true(st_txn_transition_valid(ST_TXN_ONGOING, ST_TXN_PREPARE_COMMIT));
    assert_true(st_txn_transition_valid(ST_TXN_COMPLETE_ABORT, ST_TXN_ONGOING));
    assert_true(st_txn_transition_valid(ST_TXN_PREPARE_EPOCH_FENCE, ST_TXN_PREPARE_ABORT));
    assert_false(st_txn_transition_valid(ST_TXN_EMPTY, ST_TXN_PREPARE_COMMIT));
    assert_false(st_txn_transition_valid(ST_TXN_PREPARE_COMMIT, ST_TXN_COMPLETE_ABORT));
    assert_false(st_txn_transition_valid(ST_TXN_DEAD, ST_TXN_EMPTY));
    assert_false(st_txn_transition_valid(ST_TXN_ONGOING, (st_txn_status)9));
}

static void test_commit_then_next(void **state)
{
    st_txn_meta *m = fresh(7);
    int32_t added;
    assert_int_equal(add1(m, 7, 0, S("orders"), 0, 2000, &added), 0);
    assert_int_equal(added, 1);
    assert_int_equal(m->status, ST_TXN_ONGOING);
    assert_int_equal(m->start_ms, 2000);
    /* the same partition again: nothing new to persist; a second one */
    assert_int_equal(add1(m, 7, 0, S("orders"), 0, 2100, &added), 0);
    assert_int_equal(added, 0);
    st_str topics[3] = {S("orders"), S("orders"), S("pay")};
    int32_t parts[3] = {1, 1, 0};
    assert_int_equal(st_txn_add_partitions(m, &lim, 7, 0, topics, parts, 3, 2200, &added), 0);
    assert_int_equal(added, 2); /* the duplicate inside the request counts once */
    assert_int_equal(m->npartitions, 3);
    assert_true(st_txn_has_partition(m, S("pay"), 0));
    assert_false(st_txn_has_partition(m, S("pay"), 1));
    assert_int_equal(m->start_ms, 2000);

    bool markers;
    assert_int_equal(st_txn_end(m, 7, 0, true, 3000, &markers), 0);
    assert_true(markers);
    assert_int_equal(m->status, ST_TXN_PREPARE_COMMIT);
    /* while the markers are written: the same end again is retriable, the other not */
    assert_int_equal(st_txn_end(m, 7, 0, true, 3001, &markers), ST_ERR_CONCURRENT_TRANSACTIONS);
    assert_int_equal(st_txn_end(m, 7, 0, false, 3001, &markers), ST_ERR_INVALID_TXN_STATE);
    assert_int_equal(add1(m, 7, 0, S("x"), 0, 3001, &added), ST_ERR_CONCURRENT_TRANSACTIONS);
    int16_t err;
    assert_int_equal(st_txn_init_pid(m, &lim, 60000, -1, -1, 3001, &err), ST_TXN_INIT_ANSWER);
    assert_int_equal(err, ST_ERR_CONCURRENT_TRANSACTIONS);

    st_txn_complete(m, 3100);
    assert_int_equal(m->status, ST_TXN_COMPLETE_COMMIT);
    assert_int_equal(m->npartitions, 0);
    /* a retried commit after completion succeeds with nothing to do; an abort does not */
    assert_int_equal(st_txn_end(m, 7, 0, true, 3200, &markers), 0);
    assert_false(markers);
    assert_int_equal(st_txn_end(m, 7, 0, false, 3200, &markers), ST_ERR_INVALID_TXN_STATE);

    /* the next transaction, at the same epoch, aborted */
    assert_int_equal(add1(m, 7, 0, S("orders"), 2, 4000, &added), 0);
    assert_int_equal(m->status, ST_TXN_ONGOING);
    assert_int_equal(m->start_ms, 4000);
    assert_int_equal(st_txn_end(m, 7, 0, false, 4100, &markers), 0);
    assert_true(markers);
    assert_int_equal(m->status, ST_TXN_PREPARE_ABORT);
    st_txn_complete(m, 4200);
    assert_int_equal(m->status, ST_TXN_COMPLETE_ABORT);
    assert_int_equal(st_txn_end(m, 7, 0, false, 4300, &markers), 0);
    assert_false(markers);
    /* EndTxn with nothing begun */
    st_txn_meta_free(m);
    m = fresh(8);
    assert_int_equal(st_txn_end(m, 8, 0, true, 5000, &markers), ST_ERR_INVALID_TXN_STATE);
    st_txn_meta_free(m);
}

static void test_fencing(void **state)
{
    st_txn_meta *m = fresh(7);
    int32_t added;
    bool markers;
    int16_t err;
    /* the same id starts again (a restarted application): the epoch is bumped */
    assert_int_equal(st_txn_init_pid(m, &lim, 60000, -1, -1, 1500, &err), ST_TXN_INIT_ANSWER);
    assert_int_equal(err, 0);
    assert_int_equal(m->producer_epoch, 1);
    /* the zombie at epoch 0 is fenced everywhere; another producer id is not ours */
    assert_int_equal(add1(m, 7, 0, S("orders"), 0, 1600, &added), ST_ERR_PRODUCER_FENCED);
    assert_int_equal(st_txn_end(m, 7, 0, true, 1600, &markers), ST_ERR_PRODUCER_FENCED);
    assert_int_equal(add1(m, 99, 1, S("orders"), 0, 1600, &added),
                     ST_ERR_INVALID_PRODUCER_ID_MAPPING);
    assert_int_equal(m->status, ST_TXN_EMPTY);
    assert_int_equal(m->npartitions, 0);

    /* a new instance while a transaction is open: it is aborted at a bumped epoch first,
     * and the caller is told to retry */
    assert_int_equal(add1(m, 7, 1, S("orders"), 0, 1700, &added), 0);
    assert_int_equal(st_txn_init_pid(m, &lim, 30000, -1, -1, 1800, &err), ST_TXN_INIT_ABORT_FIRST);
    assert_int_equal(m->status, ST_TXN_PREPARE_ABORT);
    assert_int_equal(m->producer_epoch, 2);
    assert_int_equal(m->npartitions, 1); /* the markers go to these */
    assert_int_equal(st_txn_end(m, 7, 1, true, 1850, &markers), ST_ERR_PRODUCER_FENCED);
    st_txn_complete(m, 1900);
    assert_int_equal(st_txn_init_pid(m, &lim, 30000, -1, -1, 2000, &err), ST_TXN_INIT_ANSWER);
    assert_int_equal(err, 0);
    assert_int_equal(m->producer_epoch, 3);
    assert_int_equal(m->timeout_ms, 30000);
    assert_int_equal(m->status, ST_TXN_EMPTY);
    st_txn_meta_free(m);
}

static void test_kip360(void **state)
{
    st_txn_meta *m = fresh(7);
    int16_t err;
    /* the producer names its current id and epoch: bumped */
    assert_int_equal(st_txn_init_pid(m, &lim, 60000, 7, 0, 1100, &err), ST_TXN_INIT_ANSWER);
    assert_int_equal(err, 0);
    assert_int_equal(m->producer_epoch, 1);
    /* it lost the answer and asks again with epoch 0: same answer, no second bump */
    assert_int_equal(st_txn_init_pid(m, &lim, 60000, 7, 0, 1200, &err), ST_TXN_INIT_ANSWER);
    assert_int_equal(err, 0);
    assert_int_equal(m->producer_epoch, 1);
    /* a zombie's stale epoch, or another id: fenced, nothing changes */
    assert_int_equal(st_txn_init_pid(m, &lim, 60000, 7, 5, 1300, &err), ST_TXN_INIT_ANSWER);
    assert_int_equal(err, ST_ERR_PRODUCER_FENCED);
    assert_int_equal(st_txn_init_pid(m, &lim, 60000, 8, 1, 1300, &err), ST_TXN_INIT_ANSWER);
    assert_int_equal(err, ST_ERR_PRODUCER_FENCED);
    assert_int_equal(m->producer_epoch, 1);
    /* a bad timeout is refused before anything */
    assert_int_equal(st_txn_init_pid(m, &lim, 900001, -1, -1, 1400, &err), ST_TXN_INIT_ANSWER);
    assert_int_equal(err, ST_ERR_INVALID_TRANSACTION_TIMEOUT);
    assert_int_equal(st_txn_init_pid(m, &lim, 0, -1, -1, 1400, &err), ST_TXN_INIT_ANSWER);
    assert_int_equal(err, ST_ERR_INVALID_TRANSACTION_TIMEOUT);
    assert_int_equal(m->producer_epoch, 1);
    assert_int_equal(m->timeout_ms, 60000);
    st_txn_meta_free(m);
}

static void test_epoch_exhausted(void **state)
{
    st_txn_meta *m = fresh(7);
    m->producer_epoch = INT16_MAX - 1;
    int16_t err;
    assert_int_equal(st_txn_init_pid(m, &lim, 60000, -1, -1, 2000, &err), ST_TXN_INIT_NEW_PID);
    st_txn_meta_new_pid(m, 8, 2000);
    assert_int_equal(m->producer_id, 8);
    assert_int_equal(m->producer_epoch, 0);
    assert_int_equal(m->status, ST_TXN_EMPTY);

    /* a timeout at the last epoch aborts without a bump and asks for a new id */
    int32_t added;
    m->producer_epoch = INT16_MAX - 1;
    assert_int_equal(add1(m, 8, INT16_MAX - 1, S("t"), 0, 3000, &added), 0);
    bool needs_new_pid;
    st_txn_fence(m, 4000, &needs_new_pid);
    assert_true(needs_new_pid);
    assert_int_equal(m->producer_epoch, INT16_MAX - 1);
    assert_int_equal(m->status, ST_TXN_PREPARE_ABORT);
    st_txn_meta_free(m);
}

static void test_timeout_and_expiry(void **state)
{
    st_txn_meta *m = fresh(7);
    int32_t added;
    assert_false(st_txn_timed_out(m, 1000000)); /* Empty never times out */
    assert_int_equal(add1(m, 7, 0, S("t"), 0, 10000, &added), 0);
    assert_false(st_txn_timed_out(m, 10000 + 60000));
    assert_true(st_txn_timed_out(m, 10000 + 60001));
    bool needs_new_pid;
    st_txn_fence(m, 70001, &needs_new_pid);
    assert_false(needs_new_pid);
    assert_int_equal(m->producer_epoch, 1); /* the timed-out producer is fenced */
    assert_int_equal(m->status, ST_TXN_PREPARE_ABORT);
    assert_false(st_txn_timed_out(m, 1000000));
    assert_false(st_txn_expired(m, &lim, 70001 + lim.id_expiration_ms + 1)); /* in progress */
    st_txn_complete(m, 70002);
    assert_false(st_txn_expired(m, &lim, 70002 + lim.id_expiration_ms));
    assert_true(st_txn_expired(m, &lim, 70002 + lim.id_expiration_ms + 1));
    st_txn_meta_free(m);
}

static void test_partition_limit(void **state)
{
    st_txn_meta *m = fresh(7);
    int32_t added;
    /* an empty request begins nothing */
    assert_int_equal(st_txn_add_partitions(m, &lim, 7, 0, NULL, NULL, 0, 1500, &added), 0);
    assert_int_equal(m->status, ST_TXN_EMPTY);
    st_str topics[5] = {S("a"), S("a"), S("a"), S("a"), S("a")};
    int32_t parts[5] = {0, 1, 2, 3, 4};
    /* five new partitions over a limit of four: refused whole */
    assert_int_equal(st_txn_add_partitions(m, &lim, 7, 0, topics, parts, 5, 2000, &added),
                     ST_ERR_INVALID_TXN_STATE);
    assert_int_equal(m->npartitions, 0);
    assert_int_equal(m->status, ST_TXN_EMPTY);
    assert_int_equal(st_txn_add_partitions(m, &lim, 7, 0, topics, parts, 4, 2000, &added), 0);
    assert_int_equal(added, 4);
    /* ones it holds already do not count */
    assert_int_equal(st_txn_add_partitions(m, &lim, 7, 0, topics, parts, 4, 2100, &added), 0);
    assert_int_equal(st_txn_add_partitions(m, &lim, 7, 0, topics + 4, parts + 4, 1, 2100, &added),
                     ST_ERR_INVALID_TXN_STATE);
    st_txn_meta_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),           cmocka_unit_test(test_commit_then_next),
        cmocka_unit_test(test_fencing),         cmocka_unit_test(test_kip360),
        cmocka_unit_test(test_epoch_exhausted), cmocka_unit_test(test_timeout_and_expiry),
        cmocka_unit_test(test_partition_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
