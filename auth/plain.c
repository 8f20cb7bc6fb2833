/*
 * PLAIN against SCRAM credentials; see plain.h for why the password is checked by
 * recomputing StoredKey, and why the check is split in halves.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth/plain.h"
#include "common/errors.h"

const char *st_plain_client_message(void)
{
    return "Authentication failed: Invalid username or password";
}

int st_plain_parse(const st_credstore *cs, const uint8_t *msg, size_t len, st_plain_attempt *a,
                   char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    const char *p = (const char *)msg;
    const char *nul1 = len ? memchr(p, '\0', len) : NULL;
    const char *nul2 = nul1 ? memchr(nul1 + 1, '\0', len - (size_t)(nul1 + 1 - p)) : NULL;
    if (!nul1 || !nul2) {
        snprintf(err, errlen, "malformed PLAIN message: expected authzid NUL user NUL password");
        return ST_ERR_SASL_AUTHENTICATION_FAILED;
    }
    size_t authzid_len = (size_t)(nul1 - p);
    const char *user = nul1 + 1;
    size_t user_len = (size_t)(nul2 - user);
    const char *password = nul2 + 1;
    size_t password_len = len - (size_t)(password - p);
    if (user_len == 0 || user_len > ST_SCRAM_USER_MAX) {
        snprintf(err, errlen, "malformed PLAIN message: user name must be 1..%d bytes",
                 ST_SCRAM_USER_MAX);
        return ST_ERR_SASL_AUTHENTICATION_FAILED;
    }
    if (password_len == 0 || password_len > ST_PLAIN_PASSWORD_MAX ||
        memchr(password, '\0', password_len)) {
        snprintf(err, errlen,
                 "malformed PLAIN message for user \"%.*s\": password must be 1..%d bytes "
                 "without NUL",
                 (int)user_len, user, ST_PLAIN_PASSWORD_MAX);
        return ST_ERR_SASL_AUTHENTICATION_FAILED;
    }
    /* user is NUL-terminated by nul2 */
    if (authzid_len && (authzid_len != user_len || memcmp(p, user, user_len) != 0)) {
        snprintf(err, errlen, "PLAIN authzid \"%.*s\" differs from user \"%s\"",
                 (int)(authzid_len > 64 ? 64 : authzid_len), p, user);
        return ST_ERR_SASL_AUTHENTICATION_FAILED;
    }
    memcpy(a->user, user, user_len + 1);
    memcpy(a->password, password, password_len);
    a->password_len = password_len;
    a->known = st_credstore_lookup(cs, user, ST_SCRAM_SHA_512, &a->cred) == 0 ||
               st_credstore_lookup(cs, user, ST_SCRAM_SHA_256, &a->cred) == 0;
    if (!a->known) {
        /* the dummy costs what a real user's check costs: see plain.h */
        st_scram_mech mech = !st_credstore_has_mech(cs, ST_SCRAM_SHA_512) &&
                                     st_credstore_has_mech(cs, ST_SCRAM_SHA_256)
                                 ? ST_SCRAM_SHA_256
                                 : ST_SCRAM_SHA_512;
        st_credstore_lookup_or_fake(cs, user, mech, &a->cred);
    }
    return 0;
}

void st_plain_hash(st_plain_attempt *a)
{
    /* evaluated for a dummy credential too: the same work either way */
    a->match = st_scram_credential_check_password(&a->cred, a->password, a->password_len);
}

int st_plain_result(const st_plain_attempt *a, char *err, size_t errlen)
{
    if (!a->known) {
        snprintf(err, errlen, "unknown user \"%s\" (PLAIN)", a->user);
        return ST_ERR_SASL_AUTHENTICATION_FAILED;
    }
    if (!a->match) {
        snprintf(err, errlen, "bad password for user \"%s\" (PLAIN)", a->user);
        return ST_ERR_SASL_AUTHENTICATION_FAILED;
    }
    return 0;
}

void st_plain_attempt_clear(st_plain_attempt *a)
{
    OPENSSL_cleanse(a->password, sizeof a->password);
    OPENSSL_cleanse(&a->cred, sizeof a->cred);
    a->password_len = 0;
}

int st_plain_verify(const st_credstore *cs, const uint8_t *msg, size_t len, char *user_out,
                    size_t user_cap, char *err, size_t errlen)
{
    st_plain_attempt a;
    int rc = st_plain_parse(cs, msg, len, &a, err, errlen);
    if (rc == 0) {
        st_plain_hash(&a);
        rc = st_plain_result(&a, err, errlen);
    }
    if (rc == 0 && strlen(a.user) + 1 > user_cap) {
        snprintf(err, errlen, "user name \"%s\" does not fit the caller's buffer", a.user);
        rc = ST_ERR_SASL_AUTHENTICATION_FAILED;
    }
    if (rc == 0)
        memcpy(user_out, a.user, strlen(a.user) + 1);
    st_plain_attempt_clear(&a);
    return rc;
}
