/*
 * PLAIN against SCRAM credentials; see plain.h for why the password is checked by
 * recomputing StoredKey.
 */
#include <stdio.h>
#include <string.h>

#include "auth/plain.h"
#include "common/errors.h"

#define MAX_PASSWORD 1024

const char *st_plain_client_message(void)
{
    return "Authentication failed: Invalid username or password";
}

int st_plain_verify(const st_credstore *cs, const uint8_t *msg, size_t len, char *user_out,
                    size_t user_cap, char *err, size_t errlen)
{
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
    if (user_len == 0 || user_len > ST_SCRAM_USER_MAX || user_len + 1 > user_cap) {
        snprintf(err, errlen, "malformed PLAIN message: user name must be 1..%d bytes",
                 ST_SCRAM_USER_MAX);
        return ST_ERR_SASL_AUTHENTICATION_FAILED;
    }
    if (password_len == 0 || password_len > MAX_PASSWORD || memchr(password, '\0', password_len)) {
        snprintf(err, errlen,
                 "malformed PLAIN message for user \"%.*s\": password must be 1..%d bytes "
                 "without NUL",
                 (int)user_len, user, MAX_PASSWORD);
        return ST_ERR_SASL_AUTHENTICATION_FAILED;
    }
    /* user is NUL-terminated by nul2 */
    if (authzid_len && (authzid_len != user_len || memcmp(p, user, user_len) != 0)) {
        snprintf(err, errlen, "PLAIN authzid \"%.*s\" differs from user \"%s\"",
                 (int)(authzid_len > 64 ? 64 : authzid_len), p, user);
        return ST_ERR_SASL_AUTHENTICATION_FAILED;
    }

    st_scram_credential cred;
    int known = st_credstore_lookup(cs, user, ST_SCRAM_SHA_512, &cred) == 0 ||
                st_credstore_lookup(cs, user, ST_SCRAM_SHA_256, &cred) == 0;
    if (!known)
        st_credstore_lookup_or_fake(cs, user, ST_SCRAM_SHA_512, &cred);
    /* evaluated for a fake credential too: the same work either way */
    int match = st_scram_credential_check_password(&cred, password, password_len);
    if (!known) {
        snprintf(err, errlen, "unknown user \"%s\" (PLAIN)", user);
        return ST_ERR_SASL_AUTHENTICATION_FAILED;
    }
    if (!match) {
        snprintf(err, errlen, "bad password for user \"%s\" (PLAIN)", user);
        return ST_ERR_SASL_AUTHENTICATION_FAILED;
    }
    memcpy(user_out, user, user_len + 1);
    return 0;
}
