/* Unit tests for auth/scram.c: the RFC 7677 SCRAM-SHA-256 vector through the server
 * state machine, a full SHA-512 exchange against a client written here, wrong passwords,
 * unknown users failing only at the proof, and malformed messages failing cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/credstore.h"
#include "auth/scram.h"
#include "common/errors.h"

#define RFC_NONCE  "rOprNGfwEbeRWgbNEkqO"
#define RFC_SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_SALT   "W22ZaJ0SNY7soEsUEjb6gQ=="

static st_credstore *store_with(const char *user, st_scram_mech mech, const char *password,
                                const char *salt_b64, int iterations)
{
    st_credstore *cs = NULL;
    char err[256];
    assert_int_equal(st_credstore_open(NULL, &cs, err, sizeof err), 0);
    st_scram_credential cred;
    uint8_t salt[64];
    int salt_len = 0;
    if (salt_b64) {
        salt_len = st_scram_b64_decode(salt_b64, strlen(salt_b64), salt, sizeof salt);
        assert_true(salt_len > 0);
    }
    assert_int_equal(st_scram_credential_from_password(mech, password, strlen(password),
                                                       salt_b64 ? salt : NULL, (size_t)salt_len,
                                                       iterations, &cred, err, sizeof err),
                     0);
    assert_int_equal(st_credstore_set(cs, user, &cred, err, sizeof err), 0);
    return cs;
}

/* One step that must succeed; returns the server's message (caller frees). */
static char *step_ok(st_scram_server *s, const char *msg)
{
    char *out = NULL, err[256] = "";
    size_t out_len = 0;
    int rc =
        st_scram_server_step(s, (const uint8_t *)msg, strlen(msg), &out, &out_len, err, sizeof err);
    if (rc)
        fail_msg("step failed (%d): %s", rc, err);
    assert_non_null(out);
    assert_int_equal(out_len, strlen(out));
    return out;
}

/* One step that must fail with SASL_AUTHENTICATION_FAILED and an err containing `why`. */
static void step_fails(st_scram_server *s, const char *msg, const char *why)
{
    char *out = (char *)1, err[256] = "";
    size_t out_len = 7;
    int rc =
        st_scram_server_step(s, (const uint8_t *)msg, strlen(msg), &out, &out_len, err, sizeof err);
    assert_int_equal(rc, ST_ERR_SASL_AUTHENTICATION_FAILED);
    assert_null(out);
    assert_int_equal(out_len, 0);
    if (!strstr(err, why))
        fail_msg("message \"%s\": error \"%s\" lacks \"%s\"", msg, err, why);
    /* failed is final: a further step is a state error, not another attempt */
    rc =
        st_scram_server_step(s, (const uint8_t *)"n,,n=a,r=b", 10, &out, &out_len, err, sizeof err);
    assert_int_equal(rc, ST_ERR_ILLEGAL_SASL_STATE);
    assert_false(st_scram_server_done(s));
    assert_string_equal(st_scram_server_client_message(s), st_scram_server_client_message(s));
    assert_null(strstr(st_scram_server_client_message(s), "alice"));
}

static void test_rfc7677_vector(void **state)
{
    st_credstore *cs = store_with("user", ST_SCRAM_SHA_256, "pencil", RFC_SALT, 4096);
    st_scram_server *s = st_scram_server_new(cs, ST_SCRAM_SHA_256);
    assert_non_null(s);
    assert_int_equal(st_scram_server_set_nonce(s, RFC_SNONCE), 0);

    char *server_first = step_ok(s, "n,,n=user,r=" RFC_NONCE);
    assert_string_equal(server_first, "r=" RFC_NONCE RFC_SNONCE ",s=" RFC_SALT ",i=4096");
    assert_string_equal(st_scram_server_user(s), "user");
    assert_int_equal(st_scram_server_set_nonce(s, "late"), ST_ERR_ILLEGAL_SASL_STATE);

    char *server_final = step_ok(s, "c=biws,r=" RFC_NONCE RFC_SNONCE
                                    ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    assert_string_equal(server_final, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    assert_true(st_scram_server_done(s));

    free(server_first);
    free(server_final);
    st_scram_server_free(s);
    st_credstore_free(cs);
}

/* --- a client, written from the RFC, for full exchanges --- */

typedef struct {
    st_scram_mech mech;
    char bare[512];
    char final_without_proof[512];
    uint8_t server_key[64];
    uint8_t expected_sig[64];
    const char *nonce_prefix; /* sent before the server-first nonce (librdkafka does) */
} client;

static const EVP_MD *md(st_scram_mech mech)
{
    return mech == ST_SCRAM_SHA_256 ? EVP_sha256() : EVP_sha512();
}

/* Builds client-final for server_first; fills c->expected_sig. Returns a new string. */
static char *client_final(client *c, const char *server_first, const char *password,
                          const char *gs2_b64)
{
    size_t klen = st_scram_mech_key_len(c->mech);
    char nonce[256], salt_b64[256];
    int iterations = 0;
    assert_int_equal(
        sscanf(server_first, "r=%255[^,],s=%255[^,],i=%d", nonce, salt_b64, &iterations), 3);
    uint8_t salt[128], salted[64], client_key[64], stored[64], sig[64], proof[64];
    int salt_len = st_scram_b64_decode(salt_b64, strlen(salt_b64), salt, sizeof salt);
    assert_true(salt_len >= ST_SCRAM_MIN_SALT);
    assert_int_equal(PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, salt_len, iterations,
                                       md(c->mech), (int)klen, salted),
                     1);
    unsigned int n;
    HMAC(md(c->mech), salted, (int)klen, (const uint8_t *)"Client Key", 10, client_key, &n);
    HMAC(md(c->mech), salted, (int)klen, (const uint8_t *)"Server Key", 10, c->server_key, &n);
    EVP_Digest(client_key, klen, stored, &n, md(c->mech), NULL);
    snprintf(c->final_without_proof, sizeof c->final_without_proof, "c=%s,r=%s%s", gs2_b64,
             c->nonce_prefix ? c->nonce_prefix : "", nonce);
    char auth_message[2048];
    snprintf(auth_message, sizeof auth_message, "%s,%s,%s", c->bare, server_first,
             c->final_without_proof);
    HMAC(md(c->mech), stored, (int)klen, (const uint8_t *)auth_message, strlen(auth_message), sig,
         &n);
    for (size_t i = 0; i < klen; i++)
        proof[i] = client_key[i] ^ sig[i];
    HMAC(md(c->mech), c->server_key, (int)klen, (const uint8_t *)auth_message, strlen(auth_message),
         c->expected_sig, &n);
    char proof_b64[128];
    st_scram_b64_encode(proof, klen, proof_b64, sizeof proof_b64);
    char *out = malloc(1024);
    snprintf(out, 1024, "%s,p=%s", c->final_without_proof, proof_b64);
    return out;
}

static void test_sha512_full_exchange(void **state)
{
    st_credstore *cs = store_with("alice", ST_SCRAM_SHA_512, "s3cret-pw", NULL, 8192);
    st_scram_server *s = st_scram_server_new(cs, ST_SCRAM_SHA_512);
    client c = {.mech = ST_SCRAM_SHA_512};
    snprintf(c.bare, sizeof c.bare, "n=alice,r=fyko+d2lbbFgONRv9qkxdawL");
    char first[600];
    snprintf(first, sizeof first, "n,,%s", c.bare);

    char *server_first = step_ok(s, first);
    /* random server nonce appended to ours, our salt and iterations */
    assert_memory_equal(server_first, "r=fyko+d2lbbFgONRv9qkxdawL", 26);
    assert_true(server_first[26] != ',');
    assert_non_null(strstr(server_first, ",i=8192"));
    char *final = client_final(&c, server_first, "s3cret-pw", "biws");
    char *server_final = step_ok(s, final);
    char sig_b64[128], expect[140];
    st_scram_b64_encode(c.expected_sig, 64, sig_b64, sizeof sig_b64);
    snprintf(expect, sizeof expect, "v=%s", sig_b64);
    assert_string_equal(server_final, expect);
    assert_true(st_scram_server_done(s));
    assert_string_equal(st_scram_server_user(s), "alice");

    /* two servers pick different nonces */
    st_scram_server *s2 = st_scram_server_new(cs, ST_SCRAM_SHA_512);
    char *server_first2 = step_ok(s2, first);
    assert_string_not_equal(server_first, server_first2);

    free(server_first);
    free(server_first2);
    free(final);
    free(server_final);
    st_scram_server_free(s);
    st_scram_server_free(s2);
    st_credstore_free(cs);
}

/* Runs a full exchange with `password`; `user_escaped` goes on the wire. */
static void exchange_fails(st_credstore *cs, st_scram_mech mech, const char *user_escaped,
                           const char *password, const char *why)
{
    st_scram_server *s = st_scram_server_new(cs, mech);
    client c = {.mech = mech};
    snprintf(c.bare, sizeof c.bare, "n=%s,r=abcdefghijklmnop", user_escaped);
    char first[600];
    snprintf(first, sizeof first, "n,,%s", c.bare);
    char *server_first = step_ok(s, first); /* first round trip always succeeds */
    assert_non_null(strstr(server_first, ",s="));
    char *final = client_final(&c, server_first, password, "biws");
    step_fails(s, final, why);
    free(server_first);
    free(final);
    st_scram_server_free(s);
}

static void test_wrong_password(void **state)
{
    st_credstore *cs = store_with("alice", ST_SCRAM_SHA_256, "right", NULL, 4096);
    exchange_fails(cs, ST_SCRAM_SHA_256, "alice", "wrong", "bad proof for user \"alice\"");
    /* right password, wrong mechanism: alice has no SHA-512 credential */
    exchange_fails(cs, ST_SCRAM_SHA_512, "alice", "right", "unknown user \"alice\"");
    st_credstore_free(cs);
}

static void test_unknown_user_fails_at_final_step(void **state)
{
    st_credstore *cs = store_with("alice", ST_SCRAM_SHA_256, "pw", NULL, 4096);
    exchange_fails(cs, ST_SCRAM_SHA_256, "mallory", "pw", "unknown user \"mallory\"");

    /* server-first for an unknown user has the same shape as for a real one (salt of
     * the same size, the real users' iteration count) and is stable across attempts */
    char *firsts[3];
    const char *users[] = {"alice", "mallory", "mallory"};
    for (int i = 0; i < 3; i++) {
        st_scram_server *s = st_scram_server_new(cs, ST_SCRAM_SHA_256);
        assert_int_equal(st_scram_server_set_nonce(s, "SNONCE"), 0);
        char first[64];
        snprintf(first, sizeof first, "n,,n=%s,r=cn", users[i]);
        firsts[i] = step_ok(s, first);
        st_scram_server_free(s);
    }
    assert_int_equal(strlen(firsts[0]), strlen(firsts[1]));
    assert_non_null(strstr(firsts[1], ",i=4096"));
    assert_string_equal(firsts[1], firsts[2]);
    assert_string_not_equal(firsts[0], firsts[1]);
    for (int i = 0; i < 3; i++)
        free(firsts[i]);
    st_credstore_free(cs);
}

static void test_escaped_user_and_authzid(void **state)
{
    st_credstore *cs = store_with("a,b=c", ST_SCRAM_SHA_256, "pw", NULL, 4096);
    st_scram_server *s = st_scram_server_new(cs, ST_SCRAM_SHA_256);
    client c = {.mech = ST_SCRAM_SHA_256};
    snprintf(c.bare, sizeof c.bare, "n=a=2Cb=3Dc,r=xyz");
    char first[600];
    snprintf(first, sizeof first, "n,a=a=2Cb=3Dc,%s", c.bare);
    char *server_first = step_ok(s, first);
    assert_string_equal(st_scram_server_user(s), "a,b=c");
    /* c= must be base64 of the whole gs2 header, authzid included */
    char gs2_b64[64];
    st_scram_b64_encode((const uint8_t *)"n,a=a=2Cb=3Dc,", 14, gs2_b64, sizeof gs2_b64);
    char *final = client_final(&c, server_first, "pw", gs2_b64);
    char *server_final = step_ok(s, final);
    assert_true(st_scram_server_done(s));
    free(server_first);
    free(final);
    free(server_final);
    st_scram_server_free(s);

    /* with an authzid, c=biws (the header without it) is a mismatch */
    s = st_scram_server_new(cs, ST_SCRAM_SHA_256);
    server_first = step_ok(s, first);
    final = client_final(&c, server_first, "pw", "biws");
    step_fails(s, final, "channel binding c= does not match");
    free(server_first);
    free(final);
    st_scram_server_free(s);
    st_credstore_free(cs);
}

static void test_malformed_client_first(void **state)
{
    st_credstore *cs = store_with("alice", ST_SCRAM_SHA_256, "pw", NULL, 4096);
    static const struct {
        const char *msg, *why;
    } cases[] = {
        {"", "empty"},
        {"y,,n=alice,r=abc", "channel binding flag must be \"n\""},
        {"p=tls-unique,,n=alice,r=abc", "channel binding flag must be \"n\""},
        {"n=alice,r=abc", "channel binding flag must be \"n\""},
        {"n,", "incomplete gs2 header"},
        {"n,,r=abc,n=alice", "expected n=<user> first"},
        {"n,,n=alice", "expected r=<nonce> after n="},
        {"n,,n=alice,", "expected r=<nonce> after n="},
        {"n,,n=,r=abc", "expected n=<user> first"},
        {"n,,n=al=2Xice,r=abc", "expected n=<user> first"},
        {"n,,n=alice=2,r=abc", "expected n=<user> first"},
        {"n,,n=al,ice,r=abc", "expected r=<nonce> after n="},
        {"n,,n=alice,r=a\x01"
         "bc",
         "expected r=<nonce> after n="},
        {"n,,n=alice,r=abc,m=must", "mandatory extension"},
        {"n,,n=alice,r=abc,", "bad attribute syntax"},
        {"n,a=bob,n=alice,r=abc", "authzid \"bob\" differs from user \"alice\""},
        {"n,x=bob,n=alice,r=abc", "bad authzid"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        st_scram_server *s = st_scram_server_new(cs, ST_SCRAM_SHA_256);
        step_fails(s, cases[i].msg, cases[i].why);
        st_scram_server_free(s);
    }
    /* a NUL inside the message */
    st_scram_server *s = st_scram_server_new(cs, ST_SCRAM_SHA_256);
    char *out;
    size_t out_len;
    char err[256];
    assert_int_equal(st_scram_server_step(s, (const uint8_t *)"n,,n=a\0b,r=c", 12, &out, &out_len,
                                          err, sizeof err),
                     ST_ERR_SASL_AUTHENTICATION_FAILED);
    assert_non_null(strstr(err, "contains NUL"));
    st_scram_server_free(s);
    /* extensions after r= are allowed (Kafka's grammar) */
    s = st_scram_server_new(cs, ST_SCRAM_SHA_256);
    free(step_ok(s, "n,,n=alice,r=abc,ext=1"));
    st_scram_server_free(s);
    st_credstore_free(cs);
}

/* librdkafka's client-final nonce is its client nonce followed by the whole server-first
 * nonce; Kafka accepts a nonce that ends with the server-first one, and so must we. A
 * nonce that lacks the server's part still fails (test_malformed_client_final). */
static void test_librdkafka_nonce_form(void **state)
{
    st_credstore *cs = store_with("alice", ST_SCRAM_SHA_256, "pw", NULL, 4096);
    st_scram_server *s = st_scram_server_new(cs, ST_SCRAM_SHA_256);
    client c = {.mech = ST_SCRAM_SHA_256, .nonce_prefix = "=C0x"};
    snprintf(c.bare, sizeof c.bare, "n=alice,r==C0x");
    char *server_first = step_ok(s, "n,,n=alice,r==C0x");
    char *final = client_final(&c, server_first, "pw", "biws");
    assert_memory_equal(final, "c=biws,r==C0x=C0x", 17);
    free(step_ok(s, final));
    assert_true(st_scram_server_done(s));
    free(server_first);
    free(final);
    st_scram_server_free(s);
    st_credstore_free(cs);
}

static void test_malformed_client_final(void **state)
{
    st_credstore *cs = store_with("alice", ST_SCRAM_SHA_256, "pw", NULL, 4096);
    /* a valid proof to reuse: built for nonce "abcSN" */
    client c = {.mech = ST_SCRAM_SHA_256};
    snprintf(c.bare, sizeof c.bare, "n=alice,r=abc");
    st_scram_server *s0 = st_scram_server_new(cs, ST_SCRAM_SHA_256);
    st_scram_server_set_nonce(s0, "SN");
    char *sf = step_ok(s0, "n,,n=alice,r=abc");
    char *good = client_final(&c, sf, "pw", "biws");
    const char *proof = strstr(good, ",p=") + 3;
    char buf[512];
    static const struct {
        const char *fmt, *why;
    } cases[] = {
        {"r=abcSN,c=biws,p=%s", "expected c=<channel binding> first"},
        {"c=biws,p=%s", "expected r=<nonce> after c="},
        {"c=biws,r=abcSN", "missing p= (proof)"},
        {"c=biws,r=abcSN,p=%s,x=1", "missing p= (proof) as last attribute"},
        {"c=eSws,r=abcSN,p=%s", "channel binding c= does not match"},
        {"c=biws,r=abcXX,p=%s", "nonce does not match"},
        {"c=biws,r=abc,p=%s", "nonce does not match"},
        {"c=biws,r=abcSN,p=%%%%%%%%", "proof p= is not base64"},
        {"c=biws,r=abcSN,p=AAAA", "proof p= is not base64 of 32 bytes"},
        {"c=biws,r=abcSN,p=", "proof p= is not base64"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        st_scram_server *s = st_scram_server_new(cs, ST_SCRAM_SHA_256);
        st_scram_server_set_nonce(s, "SN");
        free(step_ok(s, "n,,n=alice,r=abc"));
        snprintf(buf, sizeof buf, cases[i].fmt, proof);
        step_fails(s, buf, cases[i].why);
        st_scram_server_free(s);
    }
    /* the unmodified message does pass, so the failures above are the edits' */
    free(step_ok(s0, good));
    assert_true(st_scram_server_done(s0));
    char *out;
    size_t out_len;
    char err[256];
    assert_int_equal(st_scram_server_step(s0, (const uint8_t *)good, strlen(good), &out, &out_len,
                                          err, sizeof err),
                     ST_ERR_ILLEGAL_SASL_STATE);
    free(sf);
    free(good);
    st_scram_server_free(s0);
    st_credstore_free(cs);
}

static void test_base64_strict(void **state)
{
    uint8_t out[16];
    char enc[16];
    assert_int_equal(st_scram_b64_decode("Zm9vYg==", 8, out, sizeof out), 4);
    assert_memory_equal(out, "foob", 4);
    assert_int_equal(st_scram_b64_encode((const uint8_t *)"fooba", 5, enc, sizeof enc), 8);
    assert_string_equal(enc, "Zm9vYmE=");
    assert_int_equal(st_scram_b64_decode("Zm9vYh==", 8, out, sizeof out), -1); /* stray bits */
    assert_int_equal(st_scram_b64_decode("Zm9vY", 5, out, sizeof out), -1);
    assert_int_equal(st_scram_b64_decode("Zm9v Yg=", 8, out, sizeof out), -1);
    assert_int_equal(st_scram_b64_decode("Zg==Zm9v", 8, out, sizeof out), -1);
    assert_int_equal(st_scram_b64_decode("Zm9vYmFy", 8, out, 5), -1); /* short cap */
    assert_int_equal(st_scram_b64_encode((const uint8_t *)"foo", 3, enc, 4), -1);
}

static void test_credential_limits(void **state)
{
    st_scram_credential c;
    char err[256];
    uint8_t salt[16] = {1}, salted[64] = {2};
    assert_int_equal(st_scram_credential_from_password(ST_SCRAM_SHA_256, "pw", 2, NULL, 0, 4095, &c,
                                                       err, sizeof err),
                     ST_ERR_INVALID_REQUEST);
    assert_non_null(strstr(err, "iterations 4095"));
    assert_int_equal(st_scram_credential_from_password(ST_SCRAM_SHA_256, "pw", 2, salt, 8, 4096, &c,
                                                       err, sizeof err),
                     ST_ERR_INVALID_REQUEST);
    assert_non_null(strstr(err, "salt of 8 bytes"));
    assert_int_equal(st_scram_credential_from_salted(ST_SCRAM_SHA_512, salt, 16, 4096, salted, 32,
                                                     &c, err, sizeof err),
                     ST_ERR_INVALID_REQUEST);
    /* from_salted and from_password agree when given the same SaltedPassword */
    st_scram_credential a, b;
    assert_int_equal(st_scram_credential_from_password(ST_SCRAM_SHA_512, "pencil", 6, salt, 16,
                                                       4096, &a, err, sizeof err),
                     0);
    assert_int_equal(PKCS5_PBKDF2_HMAC("pencil", 6, salt, 16, 4096, EVP_sha512(), 64, salted), 1);
    assert_int_equal(st_scram_credential_from_salted(ST_SCRAM_SHA_512, salt, 16, 4096, salted, 64,
                                                     &b, err, sizeof err),
                     0);
    assert_memory_equal(a.stored_key, b.stored_key, 64);
    assert_memory_equal(a.server_key, b.server_key, 64);
    assert_true(st_scram_credential_check_password(&a, "pencil", 6));
    assert_false(st_scram_credential_check_password(&a, "pencil!", 7));
    assert_int_equal(st_scram_mech_parse("SCRAM-SHA-512"), ST_SCRAM_SHA_512);
    assert_int_equal(st_scram_mech_parse("scram-sha-512"), 0);
    assert_null(st_scram_server_new(NULL, 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7677_vector),
        cmocka_unit_test(test_sha512_full_exchange),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_unknown_user_fails_at_final_step),
        cmocka_unit_test(test_escaped_user_and_authzid),
        cmocka_unit_test(test_malformed_client_first),
        cmocka_unit_test(test_malformed_client_final),
        cmocka_unit_test(test_librdkafka_nonce_form),
        cmocka_unit_test(test_base64_strict),
        cmocka_unit_test(test_credential_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
