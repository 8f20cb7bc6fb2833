/*
 * Console users and sessions (admin-ui/users.c, sessions.c): PBKDF2 hashes verify only
 * the right password and refuse malformed hashes; the first start makes an admin only
 * when none exists; session ids are random, expire, and come only from a well-formed
 * cookie.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "admin-ui/sessions.h"
#include "admin-ui/users.h"

static void test_hash_and_verify(void **state)
{
    char h1[ST_USERS_HASH_MAX], h2[ST_USERS_HASH_MAX], err[256];
    assert_int_equal(st_users_hash("correct horse", 1000, h1, sizeof h1, err, sizeof err), 0);
    assert_int_equal(st_users_hash("correct horse", 1000, h2, sizeof h2, err, sizeof err), 0);
    assert_string_not_equal(h1, h2); /* fresh salt each time */
    assert_true(strncmp(h1, "pbkdf2-sha256$1000$", 19) == 0);
    assert_true(st_users_verify(h1, "correct horse"));
    assert_false(st_users_verify(h1, "correct hors"));
    assert_false(st_users_verify(h1, ""));
    /* malformed: never matches, never crashes */
    const char *bad[] = {"",
                         "plain",
                         "pbkdf2-sha256$",
                         "pbkdf2-sha256$10$AAAA$AAAA",
                         "pbkdf2-sha256$1000$!!!$AAAA",
                         "md5$1000$AAAA$AAAA",
                         "pbkdf2-sha256$1000$AAAAAAAAAAAAAAAAAAAAAA==$short"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(st_users_verify(bad[i], "correct horse"));
}

static void test_first_start(void **state)
{
    char dir[] = "/tmp/console-users-XXXXXX", path[256], pw[64], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/users.cfg", dir);
    st_con_config *cfg = calloc(1, sizeof *cfg);
    st_con_config_defaults(cfg);
    /* an operator alone: still no admin, so one is made */
    snprintf(cfg->users[0].name, sizeof cfg->users[0].name, "olga");
    cfg->users[0].role = ST_ROLE_OPERATOR;
    cfg->nusers = 1;
    assert_int_equal(st_users_first_start(cfg, path, pw, sizeof pw, err, sizeof err), 0);
    assert_int_equal(strlen(pw), 20);
    assert_int_equal(cfg->nusers, 2);
    assert_string_equal(cfg->users[1].name, "admin");
    assert_true(st_users_verify(cfg->users[1].password_hash, pw));
    /* the file holds the hash, never the password, and reloads */
    FILE *f = fopen(path, "r");
    char text[2048] = "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_null(strstr(text, pw));
    st_con_config *again = calloc(1, sizeof *again);
    st_con_config_defaults(again);
    assert_int_equal(st_con_config_load_users(again, path, err, sizeof err), 0);
    assert_int_equal(again->nusers, 1);
    assert_true(st_users_verify(again->users[0].password_hash, pw));
    /* an admin exists now: nothing is made */
    assert_int_equal(st_users_first_start(again, path, pw, sizeof pw, err, sizeof err), 1);
    unlink(path);
    rmdir(dir);
    free(cfg);
    free(again);
}

/* One user logging in again and again ends only its own oldest sessions: it cannot log
 * anyone else out (a tenant user once could end every admin's session this way). */
static void test_sessions_per_user(void **state)
{
    st_con_user admin = {.name = "admin", .role = ST_ROLE_ADMIN};
    st_con_user tenant = {.name = "acme-viewer", .role = ST_ROLE_TENANT, .tenant = "acme"};
    st_sessions *s = st_sessions_new(4, 2, 1000000);
    char id_admin[ST_SESSION_ID_LEN + 1], first[ST_SESSION_ID_LEN + 1], last[ST_SESSION_ID_LEN + 1];
    snprintf(id_admin, sizeof id_admin, "%s", st_sessions_create(s, &admin, 1000)->id);
    snprintf(first, sizeof first, "%s", st_sessions_create(s, &tenant, 1001)->id);
    for (int i = 0; i < 50; i++)
        snprintf(last, sizeof last, "%s", st_sessions_create(s, &tenant, 1002 + i)->id);
    assert_non_null(st_sessions_find(s, id_admin, strlen(id_admin), 2000));
    assert_null(st_sessions_find(s, first, strlen(first), 2000)); /* its own oldest went */
    assert_non_null(st_sessions_find(s, last, strlen(last), 2000));
    st_sessions_free(s);
}

static void test_sessions(void **state)
{
    st_con_user u = {.role = ST_ROLE_TENANT};
    snprintf(u.name, sizeof u.name, "acme-viewer");
    snprintf(u.tenant, sizeof u.tenant, "acme");
    st_sessions *s = st_sessions_new(2, 2, 1000);
    const st_session *a = st_sessions_create(s, &u, 10000);
    assert_non_null(a);
    char id_a[ST_SESSION_ID_LEN + 1];
    snprintf(id_a, sizeof id_a, "%s", a->id);
    assert_int_equal(strlen(id_a), ST_SESSION_ID_LEN);
    const st_session *found = st_sessions_find(s, id_a, strlen(id_a), 10500);
    assert_non_null(found);
    assert_string_equal(found->tenant, "acme");
    assert_int_equal(found->role, ST_ROLE_TENANT);
    assert_null(st_sessions_find(s, id_a, strlen(id_a) - 1, 10500)); /* a prefix is not it */
    assert_null(st_sessions_find(s, id_a, strlen(id_a), 11000));     /* expired */
    assert_null(st_sessions_find(s, id_a, strlen(id_a), 10500));     /* and gone */
    /* full: the oldest goes */
    char id_b[ST_SESSION_ID_LEN + 1], id_c[ST_SESSION_ID_LEN + 1];
    snprintf(id_b, sizeof id_b, "%s", st_sessions_create(s, &u, 20000)->id);
    snprintf(id_c, sizeof id_c, "%s", st_sessions_create(s, &u, 20001)->id);
    assert_string_not_equal(id_b, id_c);
    st_sessions_create(s, &u, 20002);
    assert_null(st_sessions_find(s, id_b, strlen(id_b), 20003));
    assert_non_null(st_sessions_find(s, id_c, strlen(id_c), 20003));
    st_sessions_remove(s, id_c);
    assert_null(st_sessions_find(s, id_c, strlen(id_c), 20003));
    st_sessions_free(s);
}

static void test_cookie_parsing(void **state)
{
    char out[ST_SESSION_ID_LEN + 1];
    char good[200];
    snprintf(good, sizeof good, "theme=dark; strait_session=%s; x=1",
             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    assert_int_equal(st_sessions_cookie_id(good, out), 0);
    assert_string_equal(out, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    assert_int_equal(st_sessions_cookie_id("strait_session=abc", out), -1);
    assert_int_equal(st_sessions_cookie_id("", out), -1);
    assert_int_equal(
        st_sessions_cookie_id(
            "xstrait_session=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            out),
        -1);
    assert_int_equal(
        st_sessions_cookie_id(
            "strait_session=0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", out),
        -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_and_verify), cmocka_unit_test(test_first_start),
        cmocka_unit_test(test_sessions),        cmocka_unit_test(test_sessions_per_user),
        cmocka_unit_test(test_cookie_parsing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
