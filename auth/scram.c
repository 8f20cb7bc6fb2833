/*
 * SCRAM credentials and the server side of the exchange; see scram.h for the states and
 * why an unknown user fails late. Message grammar accepted (RFC 5802 section 7, as
 * Kafka's ScramMessages reads it):
 *
 *   client-first  = "n," ["a=" saslname] "," "n=" saslname ",r=" nonce *("," ext)
 *   client-final  = "c=" base64(gs2-header) ",r=" nonce *("," ext) ",p=" base64(proof)
 *
 * Attributes must come in that order; "y"/"p=" channel binding and the reserved "m="
 * attribute are refused.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "auth/credstore.h"
#include "auth/scram.h"
#include "common/errors.h"

#define MAX_MESSAGE   4096 /* no legitimate SCRAM message comes near this */
#define NONCE_BYTES   24   /* 32 base64 characters of server nonce */
#define MAX_NONCE_LEN 256

static const char GENERIC_FAILURE[] = "Authentication failed during authentication due to "
                                      "invalid credentials with SASL mechanism SCRAM";

const char *st_scram_mech_name(st_scram_mech mech)
{
    switch (mech) {
    case ST_SCRAM_SHA_256:
        return "SCRAM-SHA-256";
    case ST_SCRAM_SHA_512:
        return "SCRAM-SHA-512";
    }
    return NULL;
}

st_scram_mech st_scram_mech_parse(const char *name)
{
    if (name && strcmp(name, "SCRAM-SHA-256") == 0)
        return ST_SCRAM_SHA_256;
    if (name && strcmp(name, "SCRAM-SHA-512") == 0)
        return ST_SCRAM_SHA_512;
    return 0;
}

size_t st_scram_mech_key_len(st_scram_mech mech)
{
    return mech == ST_SCRAM_SHA_256 ? 32 : mech == ST_SCRAM_SHA_512 ? 64 : 0;
}

static const EVP_MD *mech_md(st_scram_mech mech)
{
    return mech == ST_SCRAM_SHA_256 ? EVP_sha256() : EVP_sha512();
}

/* --- base64 --- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int st_scram_b64_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
    size_t need = (n + 2) / 3 * 4 + 1;
    if (cap < need)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = B64[(v >> 18) & 63];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? B64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? B64[v & 63] : '=';
    }
    out[o] = '\0';
    return (int)o;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int st_scram_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
    if (n % 4 != 0)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        bool last = i + 4 == n;
        int pad = 0;
        if (last && in[i + 3] == '=')
            pad = in[i + 2] == '=' ? 2 : 1;
        uint32_t v = 0;
        for (int k = 0; k < 4; k++) {
            int d = k >= 4 - pad ? 0 : b64_value(in[i + k]);
            if (d < 0)
                return -1;
            v = v << 6 | (uint32_t)d;
        }
        /* bits under the padding must be zero: one canonical encoding per value */
        if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
            return -1;
        size_t bytes = 3 - (size_t)pad;
        if (o + bytes > cap)
            return -1;
        out[o++] = (uint8_t)(v >> 16);
        if (bytes > 1)
            out[o++] = (uint8_t)(v >> 8);
        if (bytes > 2)
            out[o++] = (uint8_t)v;
    }
    return (int)o;
}

/* --- credentials --- */

static int hmac(st_scram_mech mech, const uint8_t *key, size_t key_len, const void *data,
                size_t data_len, uint8_t *out)
{
    unsigned int len = 0;
    if (!HMAC(mech_md(mech), key, (int)key_len, data, data_len, out, &len))
        return -1;
    return 0;
}

static int digest(st_scram_mech mech, const uint8_t *data, size_t len, uint8_t *out)
{
    unsigned int out_len = 0;
    return EVP_Digest(data, len, out, &out_len, mech_md(mech), NULL) == 1 ? 0 : -1;
}

static int check_params(st_scram_mech mech, size_t salt_len, int iterations, char *err,
                        size_t errlen)
{
    if (!st_scram_mech_key_len(mech)) {
        snprintf(err, errlen, "unknown SCRAM mechanism %d", (int)mech);
        return ST_ERR_INVALID_REQUEST;
    }
    if (iterations < ST_SCRAM_MIN_ITERATIONS || iterations > ST_SCRAM_MAX_ITERATIONS) {
        snprintf(err, errlen, "iterations %d out of range: must be %d..%d", iterations,
                 ST_SCRAM_MIN_ITERATIONS, ST_SCRAM_MAX_ITERATIONS);
        return ST_ERR_INVALID_REQUEST;
    }
    if (salt_len < ST_SCRAM_MIN_SALT || salt_len > ST_SCRAM_MAX_SALT) {
        snprintf(err, errlen, "salt of %zu bytes out of range: must be %d..%d bytes", salt_len,
                 ST_SCRAM_MIN_SALT, ST_SCRAM_MAX_SALT);
        return ST_ERR_INVALID_REQUEST;
    }
    return 0;
}

/* ClientKey, StoredKey and ServerKey from SaltedPassword. */
static int keys_from_salted(st_scram_credential *c, const uint8_t *salted)
{
    uint8_t client_key[ST_SCRAM_MAX_KEY];
    int rc = -1;
    if (hmac(c->mechanism, salted, c->key_len, "Client Key", 10, client_key) ||
        digest(c->mechanism, client_key, c->key_len, c->stored_key) ||
        hmac(c->mechanism, salted, c->key_len, "Server Key", 10, c->server_key))
        goto out;
    rc = 0;
out:
    OPENSSL_cleanse(client_key, sizeof client_key);
    return rc;
}

static int salted_password(st_scram_mech mech, const char *password, size_t password_len,
                           const uint8_t *salt, size_t salt_len, int iterations, uint8_t *out)
{
    return PKCS5_PBKDF2_HMAC(password, (int)password_len, salt, (int)salt_len, iterations,
                             mech_md(mech), (int)st_scram_mech_key_len(mech), out) == 1
               ? 0
               : -1;
}

int st_scram_credential_from_password(st_scram_mech mech, const char *password, size_t password_len,
                                      const uint8_t *salt, size_t salt_len, int iterations,
                                      st_scram_credential *out, char *err, size_t errlen)
{
    uint8_t salted[ST_SCRAM_MAX_KEY];
    st_scram_credential c = {0};
    if (!salt)
        salt_len = ST_SCRAM_SALT_LEN;
    int rc = check_params(mech, salt_len, iterations, err, errlen);
    if (rc)
        return rc;
    c.mechanism = mech;
    c.iterations = iterations;
    c.key_len = st_scram_mech_key_len(mech);
    c.salt_len = salt_len;
    rc = ST_ERR_UNKNOWN_SERVER_ERROR;
    if (salt) {
        memcpy(c.salt, salt, salt_len);
    } else if (RAND_bytes(c.salt, (int)salt_len) != 1) {
        snprintf(err, errlen, "no random bytes for a salt (RAND_bytes failed)");
        goto out;
    }
    if (salted_password(mech, password, password_len, c.salt, c.salt_len, iterations, salted) ||
        keys_from_salted(&c, salted)) {
        snprintf(err, errlen, "%s key derivation failed in OpenSSL", st_scram_mech_name(mech));
        goto out;
    }
    *out = c;
    rc = 0;
out:
    OPENSSL_cleanse(salted, sizeof salted);
    return rc;
}

int st_scram_credential_from_salted(st_scram_mech mech, const uint8_t *salt, size_t salt_len,
                                    int iterations, const uint8_t *salted, size_t salted_len,
                                    st_scram_credential *out, char *err, size_t errlen)
{
    st_scram_credential c = {0};
    int rc = check_params(mech, salt_len, iterations, err, errlen);
    if (rc)
        return rc;
    if (salted_len != st_scram_mech_key_len(mech)) {
        snprintf(err, errlen, "%s salted password must be %zu bytes, got %zu",
                 st_scram_mech_name(mech), st_scram_mech_key_len(mech), salted_len);
        return ST_ERR_INVALID_REQUEST;
    }
    c.mechanism = mech;
    c.iterations = iterations;
    c.key_len = salted_len;
    c.salt_len = salt_len;
    memcpy(c.salt, salt, salt_len);
    if (keys_from_salted(&c, salted)) {
        snprintf(err, errlen, "%s key derivation failed in OpenSSL", st_scram_mech_name(mech));
        return ST_ERR_UNKNOWN_SERVER_ERROR;
    }
    *out = c;
    return 0;
}

int st_scram_credential_check_password(const st_scram_credential *cred, const char *password,
                                       size_t password_len)
{
    st_scram_credential derived = *cred;
    uint8_t salted[ST_SCRAM_MAX_KEY];
    int ok = 0;
    if (!st_scram_mech_key_len(cred->mechanism) ||
        cred->key_len != st_scram_mech_key_len(cred->mechanism))
        goto out;
    if (salted_password(cred->mechanism, password, password_len, cred->salt, cred->salt_len,
                        cred->iterations, salted) ||
        keys_from_salted(&derived, salted))
        goto out;
    ok = CRYPTO_memcmp(derived.stored_key, cred->stored_key, cred->key_len) == 0;
out:
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(&derived, sizeof derived);
    return ok;
}

/* --- the server --- */

enum server_state { S_INIT, S_SENT_SERVER_FIRST, S_DONE, S_FAILED };

struct st_scram_server {
    const st_credstore *store; /* borrowed */
    st_scram_mech mech;
    enum server_state state;
    char nonce[MAX_NONCE_LEN + 1]; /* server nonce; empty until set or generated */
    char user[ST_SCRAM_USER_MAX + 1];
    bool have_user;
    char *gs2_header;        /* "n,," or "n,a=…,", owned */
    char *client_first_bare; /* owned */
    char *server_first;      /* owned */
    char *full_nonce;        /* client nonce + server nonce, owned */
    st_scram_credential cred;
    bool user_known;
};

st_scram_server *st_scram_server_new(const st_credstore *store, st_scram_mech mech)
{
    if (!st_scram_mech_key_len(mech))
        return NULL;
    st_scram_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->store = store;
    s->mech = mech;
    s->state = S_INIT;
    return s;
}

void st_scram_server_free(st_scram_server *s)
{
    if (!s)
        return;
    free(s->gs2_header);
    free(s->client_first_bare);
    free(s->server_first);
    free(s->full_nonce);
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
}

/* RFC 5802: printable ASCII except ',' */
static bool valid_nonce(const char *p, size_t n)
{
    if (n == 0 || n > MAX_NONCE_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x21 || p[i] > 0x7e || p[i] == ',')
            return false;
    return true;
}

int st_scram_server_set_nonce(st_scram_server *s, const char *nonce)
{
    if (s->state != S_INIT)
        return ST_ERR_ILLEGAL_SASL_STATE;
    if (!valid_nonce(nonce, strlen(nonce)))
        return ST_ERR_INVALID_REQUEST;
    snprintf(s->nonce, sizeof s->nonce, "%s", nonce);
    return 0;
}

int st_scram_server_done(const st_scram_server *s)
{
    return s->state == S_DONE;
}

const char *st_scram_server_user(const st_scram_server *s)
{
    return s->have_user ? s->user : NULL;
}

const char *st_scram_server_client_message(const st_scram_server *s)
{
    return GENERIC_FAILURE;
}

/* A comma-separated cursor over one NUL-free message. */
typedef struct {
    const char *p, *end;
} cursor;

/* Next attribute: "k=value" up to the next ',' or the end. false if none or not "k=". */
static bool next_attr(cursor *c, char *key, const char **val, size_t *val_len)
{
    if (c->p >= c->end)
        return false;
    const char *comma = memchr(c->p, ',', (size_t)(c->end - c->p));
    const char *stop = comma ? comma : c->end;
    if (stop - c->p < 2 || c->p[1] != '=')
        return false;
    *key = c->p[0];
    *val = c->p + 2;
    *val_len = (size_t)(stop - *val);
    c->p = comma ? comma + 1 : c->end;
    if (comma && c->p == c->end)
        c->p = comma; /* trailing comma: left for the caller's end-of-message check */
    return true;
}

/* saslname → user: "=2C" is ',', "=3D" is '=', any other '=' is malformed. */
static bool unescape_name(const char *v, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = v[i];
        if (ch == '=') {
            if (i + 2 >= n)
                return false;
            if (v[i + 1] == '2' && v[i + 2] == 'C')
                ch = ',';
            else if (v[i + 1] == '3' && v[i + 2] == 'D')
                ch = '=';
            else
                return false;
            i += 2;
        }
        if (o + 1 >= cap)
            return false;
        out[o++] = ch;
    }
    out[o] = '\0';
    return o > 0;
}

static char *dup_range(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* Extensions after r=: "key=value", key alphanumeric (Kafka's own extensions, such as
 * tokenauth=true, have multi-letter keys). "m=" is reserved for mandatory extensions we
 * cannot honour. With stop_key (client-final's 'p'), that one-letter attribute must come
 * last and its value is returned. */
static bool skip_extensions(cursor *c, char stop_key, const char **stop_val, size_t *stop_len,
                            char *err, size_t errlen, const char *what)
{
    while (c->p < c->end) {
        const char *comma = memchr(c->p, ',', (size_t)(c->end - c->p));
        const char *stop = comma ? comma : c->end;
        const char *eq = memchr(c->p, '=', (size_t)(stop - c->p));
        size_t key_len = eq ? (size_t)(eq - c->p) : 0;
        bool alnum = key_len > 0;
        for (size_t i = 0; i < key_len; i++)
            alnum =
                alnum && ((c->p[i] >= 'a' && c->p[i] <= 'z') ||
                          (c->p[i] >= 'A' && c->p[i] <= 'Z') || (c->p[i] >= '0' && c->p[i] <= '9'));
        if (!alnum || (comma && comma + 1 == c->end)) {
            snprintf(err, errlen, "%s: bad attribute syntax", what);
            return false;
        }
        if (key_len == 1 && c->p[0] == 'm') {
            snprintf(err, errlen, "%s: mandatory extension m= not supported", what);
            return false;
        }
        if (stop_key && key_len == 1 && c->p[0] == stop_key) {
            if (comma) {
                snprintf(err, errlen, "%s: missing p= (proof) as last attribute", what);
                return false;
            }
            *stop_val = eq + 1;
            *stop_len = (size_t)(stop - eq - 1);
            return true;
        }
        c->p = comma ? comma + 1 : c->end;
    }
    if (stop_key) {
        snprintf(err, errlen, "%s: missing p= (proof) as last attribute", what);
        return false;
    }
    return true;
}

static int client_first(st_scram_server *s, const char *msg, size_t n, char **out, size_t *out_len,
                        char *err, size_t errlen)
{
    const char *what = "malformed client-first message";
    char authzid[ST_SCRAM_USER_MAX + 1] = "";
    cursor c = {msg, msg + n};
    char key;
    const char *val;
    size_t len;

    /* gs2-header: "n," then an optional "a=authzid", then "," */
    if (n < 2 || msg[0] != 'n' || msg[1] != ',') {
        snprintf(err, errlen, "%s: channel binding flag must be \"n\" (got \"%.*s\")", what,
                 (int)(n < 8 ? n : 8), msg);
        return ST_ERR_SASL_AUTHENTICATION_FAILED;
    }
    c.p += 2;
    const char *comma = memchr(c.p, ',', (size_t)(c.end - c.p));
    if (!comma) {
        snprintf(err, errlen, "%s: incomplete gs2 header", what);
        return ST_ERR_SASL_AUTHENTICATION_FAILED;
    }
    if (comma != c.p) {
        if (comma - c.p < 2 || c.p[0] != 'a' || c.p[1] != '=' ||
            !unescape_name(c.p + 2, (size_t)(comma - c.p - 2), authzid, sizeof authzid)) {
            snprintf(err, errlen, "%s: bad authzid in gs2 header", what);
            return ST_ERR_SASL_AUTHENTICATION_FAILED;
        }
    }
    c.p = comma + 1;
    s->gs2_header = dup_range(msg, (size_t)(c.p - msg));
    s->client_first_bare = dup_range(c.p, (size_t)(c.end - c.p));
    if (!s->gs2_header || !s->client_first_bare)
        return ST_ERR__NOMEM;

    if (!next_attr(&c, &key, &val, &len) || key != 'n' ||
        !unescape_name(val, len, s->user, sizeof s->user)) {
        snprintf(err, errlen, "%s: expected n=<user> first after the gs2 header", what);
        return ST_ERR_SASL_AUTHENTICATION_FAILED;
    }
    s->have_user = true;
    if (authzid[0] && strcmp(authzid, s->user) != 0) {
        snprintf(err, errlen, "authzid \"%s\" differs from user \"%s\"", authzid, s->user);
        return ST_ERR_SASL_AUTHENTICATION_FAILED;
    }
    if (!next_attr(&c, &key, &val, &len) || key != 'r' || !valid_nonce(val, len)) {
        snprintf(err, errlen, "%s: expected r=<nonce> after n=", what);
        return ST_ERR_SASL_AUTHENTICATION_FAILED;
    }
    const char *cnonce = val;
    size_t cnonce_len = len;
    if (!skip_extensions(&c, 0, NULL, NULL, err, errlen, what))
        return ST_ERR_SASL_AUTHENTICATION_FAILED;

    if (!s->nonce[0]) {
        uint8_t raw[NONCE_BYTES];
        if (RAND_bytes(raw, sizeof raw) != 1) {
            snprintf(err, errlen, "no random bytes for a server nonce (RAND_bytes failed)");
            return ST_ERR_SASL_AUTHENTICATION_FAILED;
        }
        st_scram_b64_encode(raw, sizeof raw, s->nonce, sizeof s->nonce);
    }
    size_t snonce_len = strlen(s->nonce);
    s->full_nonce = malloc(cnonce_len + snonce_len + 1);
    if (!s->full_nonce)
        return ST_ERR__NOMEM;
    memcpy(s->full_nonce, cnonce, cnonce_len);
    memcpy(s->full_nonce + cnonce_len, s->nonce, snonce_len + 1);

    /* same path whether or not the user exists: see scram.h */
    s->user_known = st_credstore_lookup_or_fake(s->store, s->user, s->mech, &s->cred) == 1;

    char salt_b64[(ST_SCRAM_MAX_SALT + 2) / 3 * 4 + 1];
    st_scram_b64_encode(s->cred.salt, s->cred.salt_len, salt_b64, sizeof salt_b64);
    int sz = snprintf(NULL, 0, "r=%s,s=%s,i=%d", s->full_nonce, salt_b64, s->cred.iterations);
    s->server_first = malloc((size_t)sz + 1);
    *out = malloc((size_t)sz + 1);
    if (!s->server_first || !*out)
        return ST_ERR__NOMEM;
    snprintf(s->server_first, (size_t)sz + 1, "r=%s,s=%s,i=%d", s->full_nonce, salt_b64,
             s->cred.iterations);
    memcpy(*out, s->server_first, (size_t)sz + 1);
    *out_len = (size_t)sz;
    return 0;
}

static int client_final(st_scram_server *s, const char *msg, size_t n, char **out, size_t *out_len,
                        char *err, size_t errlen)
{
    const char *what = "malformed client-final message";
    size_t key_len = s->cred.key_len;
    char expect_cb[1100]; /* base64 of a gs2 header with a 255-char escaped authzid */
    uint8_t proof[ST_SCRAM_MAX_KEY + 3], signature[ST_SCRAM_MAX_KEY], client_key[ST_SCRAM_MAX_KEY],
        check[ST_SCRAM_MAX_KEY], server_sig[ST_SCRAM_MAX_KEY];
    char *auth_message = NULL;
    cursor c = {msg, msg + n};
    char key;
    const char *val, *proof_b64 = NULL;
    size_t len, proof_b64_len = 0;
    int rc = ST_ERR_SASL_AUTHENTICATION_FAILED;

    if (!next_attr(&c, &key, &val, &len) || key != 'c') {
        snprintf(err, errlen, "%s: expected c=<channel binding> first", what);
        goto out;
    }
    if (st_scram_b64_encode((const uint8_t *)s->gs2_header, strlen(s->gs2_header), expect_cb,
                            sizeof expect_cb) < 0 ||
        len != strlen(expect_cb) || memcmp(val, expect_cb, len) != 0) {
        snprintf(err, errlen, "%s: channel binding c= does not match the gs2 header", what);
        goto out;
    }
    if (!next_attr(&c, &key, &val, &len) || key != 'r') {
        snprintf(err, errlen, "%s: expected r=<nonce> after c=", what);
        goto out;
    }
    /* RFC 5802 wants exactly the server-first nonce here. librdkafka sends its client
     * nonce followed by the whole server-first nonce (which already starts with the
     * client nonce), and Kafka's broker accepts any nonce that ends with the server-first
     * one; so do we. The server's random part must still be there, which is what
     * protects against replay; the proof covers the message exactly as sent. */
    size_t full_len = strlen(s->full_nonce);
    if (len < full_len || memcmp(val + (len - full_len), s->full_nonce, full_len) != 0) {
        snprintf(err, errlen, "%s: nonce does not match the server-first nonce", what);
        goto out;
    }
    if (!skip_extensions(&c, 'p', &proof_b64, &proof_b64_len, err, errlen, what))
        goto out;
    if (st_scram_b64_decode(proof_b64, proof_b64_len, proof, sizeof proof) != (int)key_len) {
        snprintf(err, errlen, "%s: proof p= is not base64 of %zu bytes", what, key_len);
        goto out;
    }

    /* AuthMessage = client-first-bare "," server-first "," client-final-without-proof */
    size_t without_proof = (size_t)(proof_b64 - 3 - msg);
    size_t bare_len = strlen(s->client_first_bare), sf_len = strlen(s->server_first);
    size_t am_len = bare_len + 1 + sf_len + 1 + without_proof;
    auth_message = malloc(am_len);
    if (!auth_message) {
        rc = ST_ERR__NOMEM;
        goto out;
    }
    memcpy(auth_message, s->client_first_bare, bare_len);
    auth_message[bare_len] = ',';
    memcpy(auth_message + bare_len + 1, s->server_first, sf_len);
    auth_message[bare_len + 1 + sf_len] = ',';
    memcpy(auth_message + bare_len + 2 + sf_len, msg, without_proof);

    if (hmac(s->mech, s->cred.stored_key, key_len, auth_message, am_len, signature)) {
        snprintf(err, errlen, "HMAC failed in OpenSSL");
        goto out;
    }
    for (size_t i = 0; i < key_len; i++)
        client_key[i] = proof[i] ^ signature[i];
    if (digest(s->mech, client_key, key_len, check)) {
        snprintf(err, errlen, "digest failed in OpenSSL");
        goto out;
    }
    /* constant time, and evaluated for real and fake users alike */
    bool match = CRYPTO_memcmp(check, s->cred.stored_key, key_len) == 0;
    if (!s->user_known) {
        snprintf(err, errlen, "unknown user \"%s\" (%s)", s->user, st_scram_mech_name(s->mech));
        goto out;
    }
    if (!match) {
        snprintf(err, errlen, "bad proof for user \"%s\" (%s)", s->user,
                 st_scram_mech_name(s->mech));
        goto out;
    }
    if (hmac(s->mech, s->cred.server_key, key_len, auth_message, am_len, server_sig)) {
        snprintf(err, errlen, "HMAC failed in OpenSSL");
        goto out;
    }
    char sig_b64[(ST_SCRAM_MAX_KEY + 2) / 3 * 4 + 1];
    int sig_len = st_scram_b64_encode(server_sig, key_len, sig_b64, sizeof sig_b64);
    *out = malloc((size_t)sig_len + 3);
    if (!*out) {
        rc = ST_ERR__NOMEM;
        goto out;
    }
    memcpy(*out, "v=", 2);
    memcpy(*out + 2, sig_b64, (size_t)sig_len + 1);
    *out_len = (size_t)sig_len + 2;
    rc = 0;
out:
    free(auth_message);
    OPENSSL_cleanse(client_key, sizeof client_key);
    OPENSSL_cleanse(signature, sizeof signature);
    return rc;
}

int st_scram_server_step(st_scram_server *s, const uint8_t *in, size_t in_len, char **out,
                         size_t *out_len, char *err, size_t errlen)
{
    int rc;
    *out = NULL;
    *out_len = 0;
    if (s->state == S_DONE || s->state == S_FAILED) {
        snprintf(err, errlen, "%s exchange already %s", st_scram_mech_name(s->mech),
                 s->state == S_DONE ? "completed" : "failed");
        return ST_ERR_ILLEGAL_SASL_STATE;
    }
    if (in_len == 0 || in_len > MAX_MESSAGE || memchr(in, '\0', in_len)) {
        snprintf(err, errlen, "malformed %s message: %s",
                 s->state == S_INIT ? "client-first" : "client-final",
                 in_len == 0            ? "empty"
                 : in_len > MAX_MESSAGE ? "too long"
                                        : "contains NUL");
        rc = ST_ERR_SASL_AUTHENTICATION_FAILED;
        goto out;
    }
    if (s->state == S_INIT)
        rc = client_first(s, (const char *)in, in_len, out, out_len, err, errlen);
    else
        rc = client_final(s, (const char *)in, in_len, out, out_len, err, errlen);
out:
    if (rc) {
        free(*out);
        *out = NULL;
        *out_len = 0;
        s->state = S_FAILED;
        if (rc == ST_ERR__NOMEM)
            snprintf(err, errlen, "out of memory during %s", st_scram_mech_name(s->mech));
    } else {
        s->state = s->state == S_INIT ? S_SENT_SERVER_FIRST : S_DONE;
    }
    return rc;
}
