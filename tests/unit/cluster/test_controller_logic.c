/*
 * The controller's pure decisions: Kafka's replica assignment (the known layout for
 * brokers 0-4, rack spreading and balance), the replication-factor error with its
 * counts, leader elections (preferred first, clean before unclean), the ISR after
 * brokers die (the last member stays), controlled shutdown, and which partitions a
 * broker change touches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/cluster/controller_logic.h"
#include "common/errors.h"

typedef struct fixed_rand {
    uint32_t values[4];
    int next;
} fixed_rand;

static uint32_t next_rand(void *ctx, uint32_t bound)
{
    fixed_rand *r = ctx;
    return r->values[r->next++ % 4] % bound;
}

#define IDS(...)                                                                                   \
    ((st_ctl_ids){(const int32_t[]){__VA_ARGS__}, sizeof((int32_t[]){__VA_ARGS__}) / 4})
static const st_ctl_ids NONE = {NULL, 0};

static void test_assign_rack_unaware(void **state)
{
    st_ctl_broker b[5] = {{4, NULL}, {2, NULL}, {0, NULL}, {3, ""}, {1, NULL}}; /* any order */
    int32_t out[10 * 3];
    char err[256];
    assert_int_equal(st_ctl_assign(b, 5, 10, 3, 0, 0, NULL, NULL, out, err, sizeof err), 0);
    /* the layout Kafka's AdminUtils gives for these inputs */
    const int32_t want[10][3] = {{0, 1, 2}, {1, 2, 3}, {2, 3, 4}, {3, 4, 0}, {4, 0, 1},
                                 {0, 2, 3}, {1, 3, 4}, {2, 4, 0}, {3, 0, 1}, {4, 1, 2}};
    assert_memory_equal(out, want, sizeof want);

    /* random start and shift come from the function passed */
    fixed_rand r = {.values = {3, 1}};
    assert_int_equal(st_ctl_assign(b, 5, 2, 2, 0, -1, next_rand, &r, out, err, sizeof err), 0);
    assert_int_equal(r.next, 2);
    assert_int_equal(out[0], 3);           /* partition 0 led by broker index 3 */
    assert_int_equal(out[1], (3 + 2) % 5); /* shift 1: follower 2 past the leader */
    assert_int_equal(out[2], 4);

    /* CreatePartitions: numbering continues; the shift grows every n partitions */
    assert_int_equal(st_ctl_assign(b, 5, 5, 3, 5, 0, NULL, NULL, out, err, sizeof err), 0);
    assert_memory_equal(out, want[5], 5 * 3 * sizeof(int32_t));

    /* every broker leads and holds the same share */
    int32_t big[100 * 3];
    int leads[5] = {0}, holds[5] = {0};
    r = (fixed_rand){.values = {2, 4}};
    assert_int_equal(st_ctl_assign(b, 5, 100, 3, 0, -1, next_rand, &r, big, err, sizeof err), 0);
    for (int p = 0; p < 100; p++) {
        leads[big[p * 3]]++;
        for (int j = 0; j < 3; j++) {
            holds[big[p * 3 + j]]++;
            for (int k = 0; k < j; k++)
                assert_int_not_equal(big[p * 3 + j], big[p * 3 + k]);
        }
    }
    for (int i = 0; i < 5; i++) {
        assert_int_equal(leads[i], 20);
        assert_int_equal(holds[i], 60);
    }
}

static void test_assign_errors(void **state)
{
    st_ctl_broker b[2] = {{1, NULL}, {2, NULL}};
    int32_t out[64];
    char err[256];
    assert_int_equal(st_ctl_assign(b, 2, 3, 3, 0, 0, NULL, NULL, out, err, sizeof err),
                     ST_ERR_INVALID_REPLICATION_FACTOR);
    assert_non_null(strstr(err, "replication factor 3 is larger than the 2 available brokers"));
    assert_int_equal(st_ctl_assign(b, 1, 3, 2, 0, 0, NULL, NULL, out, err, sizeof err),
                     ST_ERR_INVALID_REPLICATION_FACTOR);
    assert_non_null(strstr(err, "the 1 available broker:"));
    assert_int_equal(st_ctl_assign(b, 2, 3, 0, 0, 0, NULL, NULL, out, err, sizeof err),
                     ST_ERR_INVALID_REPLICATION_FACTOR);
    assert_int_equal(st_ctl_assign(b, 2, 0, 1, 0, 0, NULL, NULL, out, err, sizeof err),
                     ST_ERR_INVALID_PARTITIONS);
    st_ctl_broker mixed[3] = {{1, "a"}, {2, NULL}, {3, "b"}};
    assert_int_equal(st_ctl_assign(mixed, 3, 3, 2, 0, 0, NULL, NULL, out, err, sizeof err),
                     ST_ERR_INVALID_REPLICA_ASSIGNMENT);
    assert_non_null(strstr(err, "2 of the 3 live brokers have broker.rack"));
    /* one broker, RF 1: fine */
    assert_int_equal(
        st_ctl_assign(b, 1, 3, 1, 0, -1, next_rand, &(fixed_rand){0}, out, err, sizeof err), 0);
    assert_int_equal(out[2], 1);
}

static const char *rack_of_id(const st_ctl_broker *b, int n, int32_t id)
{
    for (int i = 0; i < n; i++)
        if (b[i].id == id)
            return b[i].rack;
    fail_msg("broker %d not in the list", id);
    return NULL;
}

static void test_assign_rack_aware(void **state)
{
    /* racks a:{1,2} b:{3} c:{4,5}: alternated order 1,3,4,2,5 */
    st_ctl_broker b[5] = {{5, "c"}, {1, "a"}, {4, "c"}, {3, "b"}, {2, "a"}};
    int32_t out[30 * 3];
    char err[256];
    assert_int_equal(st_ctl_assign(b, 5, 5, 1, 0, 0, NULL, NULL, out, err, sizeof err), 0);
    const int32_t leaders[5] = {1, 3, 4, 2, 5};
    assert_memory_equal(out, leaders, sizeof leaders);

    /* RF 3 over 3 racks: every partition in every rack, for any start */
    for (uint32_t s = 0; s < 5; s++) {
        fixed_rand r = {.values = {s, s + 2}};
        assert_int_equal(st_ctl_assign(b, 5, 30, 3, 0, -1, next_rand, &r, out, err, sizeof err), 0);
        for (int p = 0; p < 30; p++) {
            const char *r0 = rack_of_id(b, 5, out[p * 3]), *r1 = rack_of_id(b, 5, out[p * 3 + 1]),
                       *r2 = rack_of_id(b, 5, out[p * 3 + 2]);
            if (!strcmp(r0, r1) || !strcmp(r0, r2) || !strcmp(r1, r2))
                fail_msg("start %u partition %d: racks %s %s %s", s, p, r0, r1, r2);
        }
    }
    /* RF 4 over 3 racks: racks first, then the remaining brokers; no broker twice */
    assert_int_equal(st_ctl_assign(b, 5, 10, 4, 0, 1, NULL, NULL, out, err, sizeof err), 0);
    for (int p = 0; p < 10; p++) {
        int32_t *row = &out[p * 4];
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < j; k++)
                assert_int_not_equal(row[j], row[k]);
        const char *r0 = rack_of_id(b, 5, row[0]), *r1 = rack_of_id(b, 5, row[1]),
                   *r2 = rack_of_id(b, 5, row[2]);
        assert_true(strcmp(r0, r1) && strcmp(r0, r2) && strcmp(r1, r2));
    }
}

static void test_check_assignment(void **state)
{
    char err[256];
    const int32_t p0[] = {1, 2}, p1[] = {2, 3}, dup[] = {2, 2}, gone[] = {2, 9},
                  three[] = {1, 2, 3};
    st_ctl_ids live = IDS(1, 2, 3);
    assert_int_equal(st_ctl_check_assignment((const int32_t *const[]){p0, p1}, (int32_t[]){2, 2}, 2,
                                             live, err, sizeof err),
                     0);
    assert_int_equal(st_ctl_check_assignment((const int32_t *const[]){p0, dup}, (int32_t[]){2, 2},
                                             2, live, err, sizeof err),
                     ST_ERR_INVALID_REPLICA_ASSIGNMENT);
    assert_non_null(strstr(err, "broker 2 twice"));
    assert_int_equal(st_ctl_check_assignment((const int32_t *const[]){p0, gone}, (int32_t[]){2, 2},
                                             2, live, err, sizeof err),
                     ST_ERR_INVALID_REPLICA_ASSIGNMENT);
    assert_non_null(strstr(err, "broker 9"));
    assert_int_equal(st_ctl_check_assignment((const int32_t *const[]){p0, three}, (int32_t[]){2, 3},
                                             2, live, err, sizeof err),
                     ST_ERR_INVALID_REPLICA_ASSIGNMENT);
}

static st_ctl_partition part(const int32_t *replicas, int32_t nreplicas, int32_t leader,
                             int32_t epoch, const int32_t *isr, int32_t nisr)
{
    return (st_ctl_partition){replicas, nreplicas, leader, epoch, isr, nisr};
}

static void expect(const st_ctl_decision *d, bool changed, int32_t leader, int32_t epoch,
                   const int32_t *isr, int32_t nisr)
{
    assert_int_equal(d->changed, changed);
    assert_int_equal(d->leader, leader);
    assert_int_equal(d->leader_epoch, epoch);
    assert_int_equal(d->nisr, nisr);
    for (int i = 0; i < nisr; i++)
        assert_int_equal(d->isr[i], isr[i]);
}

static void test_elections(void **state)
{
    const int32_t replicas[] = {1, 2, 3};
    st_ctl_decision d;
    /* leader 1 died; ISR 1,2,3: the next in assignment order that is live and in sync */
    st_ctl_partition p = part(replicas, 3, 1, 5, (const int32_t[]){1, 3, 2}, 3);
    st_ctl_elect_offline(&p, IDS(2, 3), false, &d);
    expect(&d, true, 2, 6, (const int32_t[]){3, 2}, 2);
    assert_false(d.unclean);
    /* only 3 in sync and 3 dead: no clean candidate; unclean off → offline */
    p = part(replicas, 3, -1, 6, (const int32_t[]){3}, 1);
    st_ctl_elect_offline(&p, IDS(1, 2), false, &d);
    expect(&d, false, -1, 6, (const int32_t[]){3}, 1);
    /* unclean on → the first live replica, alone in the ISR, flagged */
    st_ctl_elect_offline(&p, IDS(2, 1), true, &d);
    expect(&d, true, 1, 7, (const int32_t[]){1}, 1);
    assert_true(d.unclean);
    /* preferred replica back in sync → it leads again; otherwise nothing changes */
    p = part(replicas, 3, 2, 7, (const int32_t[]){2, 3, 1}, 3);
    st_ctl_elect_preferred(&p, IDS(1, 2, 3), &d);
    expect(&d, true, 1, 8, (const int32_t[]){2, 3, 1}, 3);
    p = part(replicas, 3, 2, 7, (const int32_t[]){2, 3}, 2);
    st_ctl_elect_preferred(&p, IDS(1, 2, 3), &d);
    assert_false(d.changed);
    assert_int_equal(d.leader_epoch, 7);
}

static void test_brokers_dead(void **state)
{
    const int32_t replicas[] = {1, 2, 3};
    st_ctl_decision d;
    /* a follower dies: it leaves the ISR, the leader stays, epoch bumps */
    st_ctl_partition p = part(replicas, 3, 1, 0, (const int32_t[]){1, 2, 3}, 3);
    st_ctl_on_brokers_dead(&p, IDS(3), IDS(1, 2), false, &d);
    expect(&d, true, 1, 1, (const int32_t[]){1, 2}, 2);
    /* a broker outside the ISR dies: nothing to write */
    p = part(replicas, 3, 1, 1, (const int32_t[]){1, 2}, 2);
    st_ctl_on_brokers_dead(&p, IDS(3), IDS(1, 2), false, &d);
    assert_false(d.changed);
    /* the leader dies: 2 takes over, 1 leaves the ISR */
    st_ctl_on_brokers_dead(&p, IDS(1), IDS(2, 3), false, &d);
    expect(&d, true, 2, 2, (const int32_t[]){2}, 1);
    /* the last ISR member dies: offline, leader -1, the member stays in the ISR */
    p = part(replicas, 3, 2, 2, (const int32_t[]){2}, 1);
    st_ctl_on_brokers_dead(&p, IDS(2), IDS(1, 3), false, &d);
    expect(&d, true, -1, 3, (const int32_t[]){2}, 1);
    /* it comes back: affected says it can come online, and the election picks it */
    p = part(replicas, 3, -1, 3, (const int32_t[]){2}, 1);
    int what = st_ctl_affected(&p, NONE, IDS(2), IDS(1, 2, 3));
    assert_true(what & ST_CTL_CAN_ONLINE);
    assert_true(what & ST_CTL_NEW_REPLICA);
    st_ctl_elect_offline(&p, IDS(1, 2, 3), false, &d);
    expect(&d, true, 2, 4, (const int32_t[]){2}, 1);
    /* two die at once, leader included */
    p = part(replicas, 3, 1, 4, (const int32_t[]){1, 2, 3}, 3);
    st_ctl_on_brokers_dead(&p, IDS(1, 2), IDS(3), false, &d);
    expect(&d, true, 3, 5, (const int32_t[]){3}, 1);
}

static void test_controlled_shutdown(void **state)
{
    const int32_t replicas[] = {1, 2, 3};
    st_ctl_decision d;
    /* the leader stops: leadership to the next in sync, and it leaves the ISR */
    st_ctl_partition p = part(replicas, 3, 1, 0, (const int32_t[]){1, 2, 3}, 3);
    assert_false(st_ctl_controlled_shutdown(&p, 1, IDS(1), IDS(1, 2, 3), &d));
    expect(&d, true, 2, 1, (const int32_t[]){2, 3}, 2);
    /* 2 is stopping too: 3 takes over */
    assert_false(st_ctl_controlled_shutdown(&p, 1, IDS(1, 2), IDS(1, 2, 3), &d));
    assert_int_equal(d.leader, 3);
    /* a follower stops: it leaves the ISR */
    assert_false(st_ctl_controlled_shutdown(&p, 3, IDS(3), IDS(1, 2, 3), &d));
    expect(&d, true, 1, 1, (const int32_t[]){1, 2}, 2);
    /* alone in the ISR: no one can take over, it keeps leading */
    p = part(replicas, 3, 1, 4, (const int32_t[]){1}, 1);
    assert_true(st_ctl_controlled_shutdown(&p, 1, IDS(1), IDS(1, 2, 3), &d));
    assert_false(d.changed);
    assert_int_equal(d.leader_epoch, 4);
    /* RF 1: the same */
    p = part((const int32_t[]){1}, 1, 1, 0, (const int32_t[]){1}, 1);
    assert_true(st_ctl_controlled_shutdown(&p, 1, IDS(1), IDS(1), &d));
}

static void test_affected(void **state)
{
    const int32_t replicas[] = {1, 2, 3};
    st_ctl_partition p = part(replicas, 3, 1, 0, (const int32_t[]){1, 2, 3}, 3);
    assert_int_equal(st_ctl_affected(&p, IDS(1), NONE, IDS(2, 3)),
                     ST_CTL_LEADER_LOST | ST_CTL_UNDER_REPLICATED);
    assert_int_equal(st_ctl_affected(&p, IDS(3), NONE, IDS(1, 2)),
                     ST_CTL_ISR_SHRINK | ST_CTL_UNDER_REPLICATED);
    assert_int_equal(st_ctl_affected(&p, IDS(7), NONE, IDS(1, 2, 3)), 0);
    p = part(replicas, 3, 1, 0, (const int32_t[]){1, 2}, 2);
    assert_int_equal(st_ctl_affected(&p, NONE, IDS(3), IDS(1, 2, 3)),
                     ST_CTL_NEW_REPLICA | ST_CTL_UNDER_REPLICATED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assign_rack_unaware), cmocka_unit_test(test_assign_errors),
        cmocka_unit_test(test_assign_rack_aware),   cmocka_unit_test(test_check_assignment),
        cmocka_unit_test(test_elections),           cmocka_unit_test(test_brokers_dead),
        cmocka_unit_test(test_controlled_shutdown), cmocka_unit_test(test_affected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
