/*
 * broker/quota, the request path's door to the quota engine: the identity it builds
 * (user, client id, tenant) and the version sessions cache it by — which must move when
 * a quota changes, so a session's cached identity and throttles follow the change — and
 * charging through the door throttles as the engine says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/quota/quota.h"
#include "common/logging.h"

static st_bquota *open_quota(char *dir, size_t len)
{
    snprintf(dir, len, "/tmp/st-quota-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
    st_broker_config cfg;
    st_broker_config_defaults(&cfg);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", dir);
    st_bquota *bq = NULL;
    char err[256];
    assert_int_equal(st_bquota_open(&cfg, NULL, NULL, &bq, err, sizeof err), 0);
    assert_non_null(bq);
    return bq;
}

static void test_identity(void **state)
{
    char dir[64];
    st_bquota *bq = open_quota(dir, sizeof dir);
    st_bquota_id id;
    st_bquota_identity(bq, "alice", "app-1", 5, &id);
    assert_string_equal(id.c.user, "alice");
    assert_string_equal(id.c.client_id, "app-1");
    assert_null(id.c.tenant);                  /* no security context: no tenants */
    st_bquota_identity(bq, "", NULL, -1, &id); /* not logged in, null client id */
    assert_string_equal(id.c.user, "ANONYMOUS");
    assert_string_equal(id.c.client_id, "");
    char big[ST_BQUOTA_CLIENT_ID_MAX + 10];
    memset(big, 'x', sizeof big);
    st_bquota_identity(bq, "bob", big, (int32_t)sizeof big, &id); /* too long: "" */
    assert_string_equal(id.c.client_id, "");
    st_bquota_close(bq);
    rmdir(dir);
}

/* A quota set while a client is connected changes the version (never 0), so the
 * session rebuilds its identity; and the next charge through the door throttles. */
static void test_version_moves_with_the_config(void **state)
{
    char dir[64];
    st_bquota *bq = open_quota(dir, sizeof dir);
    uint64_t v0 = st_bquota_version(bq);
    assert_true(v0 != 0);
    st_bquota_id id;
    st_bquota_identity(bq, "alice", "app", 3, &id);
    assert_int_equal(st_bquota_charge(bq, &id, ST_QUOTA_PRODUCE, 10e6), 0); /* no quota */

    st_quota_entity e = {.user = "alice"};
    char err[256];
    assert_int_equal(st_quotas_alter(st_bquota_engine(bq), &e, ST_QK_PRODUCER_BYTE_RATE, 1024,
                                     false, err, sizeof err),
                     0);
    uint64_t v1 = st_bquota_version(bq);
    assert_true(v1 != v0);
    assert_true(st_bquota_charge(bq, &id, ST_QUOTA_PRODUCE, 10e6) > 0); /* far over 1 KiB/s */
    assert_true(st_bquota_owed(bq, &id, ST_QUOTA_PRODUCE) > 0);
    double window;
    assert_true(st_bquota_window(bq, &id, ST_QUOTA_PRODUCE, &window));
    assert_true(window > 0);

    assert_int_equal(st_quotas_alter(st_bquota_engine(bq), &e, ST_QK_PRODUCER_BYTE_RATE, 0, true,
                                     err, sizeof err),
                     0);
    assert_true(st_bquota_version(bq) != v1);
    st_bquota_close(bq);
    rmdir(dir);
}

int main(void)
{
    st_logging_setup(ST_LOG_ERROR, stderr);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_version_moves_with_the_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
