/* Unit tests for auth/credstore.c and auth/plain.c: add/replace/remove/list, the file
 * round trip, refusal of corrupt files, no password equivalent on disk, and PLAIN logins
 * checked against the stored SCRAM credentials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "auth/credstore.h"
#include "auth/plain.h"
#include "auth/scram.h"
#include "common/errors.h"

static char path[256];

static int setup(void **state)
{
    snprintf(path, sizeof path, "/tmp/sasl-credstore-%d.json", (int)getpid());
    unlink(path);
    return 0;
}

static int teardown(void **state)
{
    unlink(path);
    return 0;
}

static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_file(size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 16);
    *len = fread(buf, 1, (1 << 16) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

typedef struct {
    char seen[8][64];
    int n;
} listing;

static void collect(void *arg, const char *user, const st_scram_credential *cred)
{
    listing *l = arg;
    snprintf(l->seen[l->n++], 64, "%s/%s/%d", user, st_scram_mech_name(cred->mechanism),
             cred->iterations);
}

static void test_round_trip(void **state)
{
    st_credstore *cs;
    char err[256];
    assert_int_equal(st_credstore_open(path, &cs, err, sizeof err), 0); /* no file: empty */
    assert_int_equal(st_credstore_count(cs), 0);
    assert_int_equal(
        st_credstore_set_password(cs, "bob", ST_SCRAM_SHA_512, "pw-b", 4096, err, sizeof err), 0);
    assert_int_equal(
        st_credstore_set_password(cs, "alice", ST_SCRAM_SHA_256, "pw-a", 8192, err, sizeof err), 0);
    assert_int_equal(
        st_credstore_set_password(cs, "alice", ST_SCRAM_SHA_512, "pw-a", 4096, err, sizeof err), 0);
    /* replace */
    assert_int_equal(
        st_credstore_set_password(cs, "bob", ST_SCRAM_SHA_512, "pw-b2", 5000, err, sizeof err), 0);
    assert_int_equal(
        st_credstore_set_password(cs, "carol", ST_SCRAM_SHA_256, "x", 4095, err, sizeof err),
        ST_ERR_INVALID_REQUEST);
    assert_int_equal(
        st_credstore_set_password(cs, "", ST_SCRAM_SHA_256, "x", 4096, err, sizeof err),
        ST_ERR_INVALID_REQUEST);
    assert_int_equal(st_credstore_count(cs), 3);
    st_scram_credential before;
    assert_int_equal(st_credstore_lookup(cs, "alice", ST_SCRAM_SHA_256, &before), 0);
    st_credstore_free(cs);

    assert_int_equal(st_credstore_open(path, &cs, err, sizeof err), 0);
    listing l = {0};
    st_credstore_each(cs, collect, &l);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.seen[0], "alice/SCRAM-SHA-256/8192");
    assert_string_equal(l.seen[1], "alice/SCRAM-SHA-512/4096");
    assert_string_equal(l.seen[2], "bob/SCRAM-SHA-512/5000");
    st_scram_credential after;
    assert_int_equal(st_credstore_lookup(cs, "alice", ST_SCRAM_SHA_256, &after), 0);
    assert_int_equal(after.salt_len, before.salt_len);
    assert_true(after.salt_len >= 16);
    assert_memory_equal(after.salt, before.salt, before.salt_len);
    assert_memory_equal(after.stored_key, before.stored_key, 32);
    assert_memory_equal(after.server_key, before.server_key, 32);
    assert_true(st_scram_credential_check_password(&after, "pw-a", 4));

    assert_int_equal(st_credstore_remove(cs, "alice", ST_SCRAM_SHA_256, err, sizeof err), 0);
    assert_int_equal(st_credstore_remove(cs, "alice", ST_SCRAM_SHA_256, err, sizeof err),
                     ST_ERR_RESOURCE_NOT_FOUND);
    assert_non_null(strstr(err, "alice"));
    st_credstore_free(cs);
    assert_int_equal(st_credstore_open(path, &cs, err, sizeof err), 0);
    assert_int_equal(st_credstore_count(cs), 2);
    assert_int_equal(st_credstore_lookup(cs, "alice", ST_SCRAM_SHA_256, &after),
                     ST_ERR_RESOURCE_NOT_FOUND);
    st_credstore_free(cs);
    char tmp_path[300];
    snprintf(tmp_path, sizeof tmp_path, "%s.tmp", path);
    assert_int_equal(access(tmp_path, F_OK), -1);
}

static void test_file_holds_no_password_equivalent(void **state)
{
    st_credstore *cs;
    char err[256];
    const char *password = "Tr0ub4dor&3-horse";
    assert_int_equal(st_credstore_open(path, &cs, err, sizeof err), 0);
    assert_int_equal(
        st_credstore_set_password(cs, "alice", ST_SCRAM_SHA_256, password, 4096, err, sizeof err),
        0);
    assert_int_equal(
        st_credstore_set_password(cs, "alice", ST_SCRAM_SHA_512, password, 4096, err, sizeof err),
        0);
    size_t len;
    char *file = read_file(&len);
    assert_null(memmem(file, len, password, strlen(password)));
    /* SaltedPassword of each credential, raw and base64, must not be in the file */
    for (st_scram_mech m = ST_SCRAM_SHA_256; m <= ST_SCRAM_SHA_512; m++) {
        st_scram_credential c;
        assert_int_equal(st_credstore_lookup(cs, "alice", m, &c), 0);
        uint8_t salted[64];
        size_t klen = st_scram_mech_key_len(m);
        assert_int_equal(PKCS5_PBKDF2_HMAC(password, (int)strlen(password), c.salt, (int)c.salt_len,
                                           c.iterations,
                                           m == ST_SCRAM_SHA_256 ? EVP_sha256() : EVP_sha512(),
                                           (int)klen, salted),
                         1);
        char b64[128];
        st_scram_b64_encode(salted, klen, b64, sizeof b64);
        assert_null(memmem(file, len, salted, klen));
        assert_null(memmem(file, len, b64, strlen(b64)));
        /* while what is meant to be there is */
        st_scram_b64_encode(c.stored_key, klen, b64, sizeof b64);
        assert_non_null(memmem(file, len, b64, strlen(b64)));
    }
    free(file);
    st_credstore_free(cs);
}

static void test_corrupt_files_refused(void **state)
{
    static const struct {
        const char *text, *why;
    } cases[] = {
        {"{\"version\": 1, \"credentials\": [", "line"},
        {"[]", "\"version\" must be 1"},
        {"{\"version\": 2, \"credentials\": []}", "\"version\" must be 1"},
        {"{\"version\": 1}", "\"credentials\" must be an array"},
        {"{\"version\": 1, \"credentials\": [3]}", "credential 0"},
        {"{\"version\":1,\"credentials\":[{\"user\":\"a\",\"mechanism\":\"SCRAM-SHA-1\","
         "\"iterations\":4096,\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"stored_key\":\"\","
         "\"server_key\":\"\"}]}",
         "\"mechanism\" must be"},
        {"{\"version\":1,\"credentials\":[{\"user\":\"a\",\"mechanism\":\"SCRAM-SHA-256\","
         "\"iterations\":4096,\"salt\":\"!!!!\",\"stored_key\":\"\",\"server_key\":\"\"}]}",
         "\"salt\" must be base64"},
        {"{\"version\":1,\"credentials\":[{\"user\":\"a\",\"mechanism\":\"SCRAM-SHA-256\","
         "\"iterations\":4096,\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"stored_key\":\"AAAA\","
         "\"server_key\":\"AAAA\"}]}",
         "\"stored_key\" must be base64 of 32 bytes"},
        {"{\"version\":1,\"credentials\":[{\"user\":\"a\",\"mechanism\":\"SCRAM-SHA-256\","
         "\"iterations\":100,\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\","
         "\"stored_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
         "\"server_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}]}",
         "iterations 100 out of range"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(cases[i].text);
        st_credstore *cs = (st_credstore *)1;
        char err[256] = "";
        assert_int_equal(st_credstore_open(path, &cs, err, sizeof err), ST_ERR_INVALID_CONFIG);
        if (!strstr(err, cases[i].why) || !strstr(err, path))
            fail_msg("case %zu: \"%s\" lacks \"%s\" or the path", i, err, cases[i].why);
    }
    /* the last case with valid iterations loads, so the refusals above are the edits' */
    write_file("{\"version\":1,\"credentials\":[{\"user\":\"a\",\"mechanism\":\"SCRAM-SHA-256\","
               "\"iterations\":4096,\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\","
               "\"stored_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
               "\"server_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}]}");
    st_credstore *cs;
    char err[256];
    assert_int_equal(st_credstore_open(path, &cs, err, sizeof err), 0);
    assert_int_equal(st_credstore_count(cs), 1);
    st_credstore_free(cs);
}

static void test_failed_write_leaves_store_unchanged(void **state)
{
    st_credstore *cs;
    char err[256];
    assert_int_equal(st_credstore_open("/nonexistent-dir-sasl/creds.json", &cs, err, sizeof err),
                     0);
    assert_int_equal(
        st_credstore_set_password(cs, "alice", ST_SCRAM_SHA_256, "pw", 4096, err, sizeof err),
        ST_ERR__IO);
    assert_non_null(strstr(err, "/nonexistent-dir-sasl/creds.json.tmp"));
    assert_int_equal(st_credstore_count(cs), 0);
    st_credstore_free(cs);
}

static int plain(st_credstore *cs, const char *authzid, const char *user, const char *password,
                 char *user_out, char *err)
{
    uint8_t msg[512];
    size_t n = 0;
    memcpy(msg + n, authzid, strlen(authzid));
    n += strlen(authzid);
    msg[n++] = 0;
    memcpy(msg + n, user, strlen(user));
    n += strlen(user);
    msg[n++] = 0;
    memcpy(msg + n, password, strlen(password));
    n += strlen(password);
    return st_plain_verify(cs, msg, n, user_out, ST_SCRAM_USER_MAX + 1, err, 256);
}

static void test_plain(void **state)
{
    st_credstore *cs;
    char err[256], user[ST_SCRAM_USER_MAX + 1];
    assert_int_equal(st_credstore_open(NULL, &cs, err, sizeof err), 0);
    assert_int_equal(
        st_credstore_set_password(cs, "alice", ST_SCRAM_SHA_256, "pw-a", 4096, err, sizeof err), 0);
    assert_int_equal(
        st_credstore_set_password(cs, "bob", ST_SCRAM_SHA_512, "pw-b", 4096, err, sizeof err), 0);
    /* a SHA-256 credential and a SHA-512 one both verify PLAIN */
    assert_int_equal(plain(cs, "", "alice", "pw-a", user, err), 0);
    assert_string_equal(user, "alice");
    assert_int_equal(plain(cs, "bob", "bob", "pw-b", user, err), 0);
    assert_string_equal(user, "bob");

    assert_int_equal(plain(cs, "", "alice", "pw-b", user, err), ST_ERR_SASL_AUTHENTICATION_FAILED);
    assert_non_null(strstr(err, "bad password for user \"alice\""));
    assert_null(strstr(err, "pw-b"));
    assert_int_equal(plain(cs, "", "mallory", "pw-a", user, err),
                     ST_ERR_SASL_AUTHENTICATION_FAILED);
    assert_non_null(strstr(err, "unknown user \"mallory\""));
    assert_int_equal(plain(cs, "bob", "alice", "pw-a", user, err),
                     ST_ERR_SASL_AUTHENTICATION_FAILED);
    assert_non_null(strstr(err, "differs"));
    assert_int_equal(plain(cs, "", "", "pw-a", user, err), ST_ERR_SASL_AUTHENTICATION_FAILED);
    assert_int_equal(plain(cs, "", "alice", "", user, err), ST_ERR_SASL_AUTHENTICATION_FAILED);
    assert_int_equal(
        st_plain_verify(cs, (const uint8_t *)"alice\0pw", 8, user, sizeof user, err, sizeof err),
        ST_ERR_SASL_AUTHENTICATION_FAILED);
    assert_non_null(strstr(err, "malformed PLAIN"));
    assert_int_equal(st_plain_verify(cs, (const uint8_t *)"\0alice\0pw-a\0x", 13, user, sizeof user,
                                     err, sizeof err),
                     ST_ERR_SASL_AUTHENTICATION_FAILED);
    assert_int_equal(st_plain_verify(cs, NULL, 0, user, sizeof user, err, sizeof err),
                     ST_ERR_SASL_AUTHENTICATION_FAILED);
    assert_null(strstr(st_plain_client_message(), "alice"));
    st_credstore_free(cs);
}

static void test_fake_credential_stable(void **state)
{
    st_credstore *cs;
    char err[256];
    assert_int_equal(st_credstore_open(NULL, &cs, err, sizeof err), 0);
    st_scram_credential a, b, c;
    assert_int_equal(st_credstore_lookup_or_fake(cs, "ghost", ST_SCRAM_SHA_512, &a), 0);
    assert_int_equal(st_credstore_lookup_or_fake(cs, "ghost", ST_SCRAM_SHA_512, &b), 0);
    assert_int_equal(st_credstore_lookup_or_fake(cs, "ghost2", ST_SCRAM_SHA_512, &c), 0);
    assert_int_equal(a.salt_len, ST_SCRAM_SALT_LEN);
    assert_int_equal(a.key_len, 64);
    assert_memory_equal(a.salt, b.salt, a.salt_len);
    assert_memory_equal(a.stored_key, b.stored_key, 64);
    assert_memory_not_equal(a.salt, c.salt, a.salt_len);
    assert_int_equal(
        st_credstore_set_password(cs, "ghost", ST_SCRAM_SHA_512, "pw", 4096, err, sizeof err), 0);
    assert_int_equal(st_credstore_lookup_or_fake(cs, "ghost", ST_SCRAM_SHA_512, &c), 1);
    st_credstore_free(cs);
}

static st_plain_attempt parsed(const st_credstore *cs, const char *user, const char *password)
{
    uint8_t msg[300];
    size_t n = 0;
    msg[n++] = 0;
    memcpy(msg + n, user, strlen(user) + 1);
    n += strlen(user) + 1;
    memcpy(msg + n, password, strlen(password));
    n += strlen(password);
    st_plain_attempt a;
    char err[256];
    assert_int_equal(st_plain_parse(cs, msg, n, &a, err, sizeof err), 0);
    return a;
}

/* An unknown user is checked against a dummy that costs what a real user's check costs:
 * the mechanism PLAIN would pick for a real user, and a real user's iteration count. */
static void test_plain_dummy_costs_like_a_user(void **state)
{
    st_credstore *cs;
    char err[256];
    assert_int_equal(st_credstore_open(NULL, &cs, err, sizeof err), 0);
    assert_int_equal(
        st_credstore_set_password(cs, "carol", ST_SCRAM_SHA_256, "pw-c", 8192, err, sizeof err), 0);
    st_plain_attempt known = parsed(cs, "carol", "wrong"), ghost = parsed(cs, "ghost", "wrong");
    assert_int_equal(known.known, 1);
    assert_int_equal(ghost.known, 0);
    /* only SHA-256 users: a SHA-256 dummy (a SHA-512 one would be slower, and tell) */
    assert_int_equal(ghost.cred.mechanism, ST_SCRAM_SHA_256);
    assert_int_equal(ghost.cred.iterations, known.cred.iterations);
    st_plain_hash(&known);
    st_plain_hash(&ghost);
    assert_int_equal(known.match, 0);
    assert_int_equal(ghost.match, 0);
    assert_int_equal(st_plain_result(&known, err, sizeof err), ST_ERR_SASL_AUTHENTICATION_FAILED);
    assert_non_null(strstr(err, "bad password"));
    assert_int_equal(st_plain_result(&ghost, err, sizeof err), ST_ERR_SASL_AUTHENTICATION_FAILED);
    assert_non_null(strstr(err, "unknown user"));
    st_plain_attempt_clear(&known);
    st_plain_attempt_clear(&ghost);

    /* a SHA-512 user appears: PLAIN prefers SHA-512, so does the dummy */
    assert_int_equal(
        st_credstore_set_password(cs, "dave", ST_SCRAM_SHA_512, "pw-d", 12000, err, sizeof err), 0);
    known = parsed(cs, "dave", "pw-d");
    ghost = parsed(cs, "ghost", "pw-d");
    assert_int_equal(ghost.cred.mechanism, ST_SCRAM_SHA_512);
    assert_int_equal(ghost.cred.iterations, 12000);
    st_plain_hash(&known);
    assert_int_equal(st_plain_result(&known, err, sizeof err), 0);
    assert_string_equal(known.user, "dave");
    st_plain_attempt_clear(&known);
    st_plain_attempt_clear(&ghost);
    /* cleared: no password left behind */
    static const char zeros[ST_PLAIN_PASSWORD_MAX];
    assert_memory_equal(known.password, zeros, sizeof zeros);
    st_credstore_free(cs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_holds_no_password_equivalent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_files_refused, setup, teardown),
        cmocka_unit_test(test_failed_write_leaves_store_unchanged),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_fake_credential_stable),
        cmocka_unit_test(test_plain_dummy_costs_like_a_user),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
