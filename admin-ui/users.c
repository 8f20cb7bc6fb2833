/*
 * PBKDF2 password hashes for console users (see users.h) and the first-start admin.
 */
#include "admin-ui/users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/fileio.h"

#define SALT_LEN 16
#define KEY_LEN  32

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding into out (cap >= 4 * ceil(n / 3) + 1). */
static void b64_encode(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = '\0';
}

/* Decodes exactly `want` bytes from the whole of in (len chars). 0 or -1. */
static int b64_decode(const char *in, size_t len, unsigned char *out, size_t want)
{
    size_t o = 0;
    unsigned v = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '=')
            break;
        const char *p = strchr(b64, in[i]);
        if (!p || !in[i])
            return -1;
        v = (v << 6) | (unsigned)(p - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == want)
                return -1;
            out[o++] = (unsigned char)(v >> bits);
        }
    }
    return o == want ? 0 : -1;
}

int st_users_hash(const char *password, int iterations, char *out, size_t cap, char *err,
                  size_t errlen)
{
    unsigned char salt[SALT_LEN], key[KEY_LEN];
    char salt64[4 * ((SALT_LEN + 2) / 3) + 1], key64[4 * ((KEY_LEN + 2) / 3) + 1];
    if (RAND_bytes(salt, sizeof salt) != 1) {
        snprintf(err, errlen, "cannot get random bytes for a salt (OpenSSL RAND_bytes)");
        return -1;
    }
    if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof salt, iterations,
                          EVP_sha256(), sizeof key, key) != 1) {
        snprintf(err, errlen, "PBKDF2 failed (OpenSSL)");
        return -1;
    }
    b64_encode(salt, sizeof salt, salt64);
    b64_encode(key, sizeof key, key64);
    OPENSSL_cleanse(key, sizeof key);
    if (snprintf(out, cap, "pbkdf2-sha256$%d$%s$%s", iterations, salt64, key64) >= (int)cap) {
        snprintf(err, errlen, "hash buffer too small");
        return -1;
    }
    return 0;
}

bool st_users_verify(const char *hash, const char *password)
{
    unsigned char salt[SALT_LEN], want[KEY_LEN], got[KEY_LEN];
    const char *prefix = "pbkdf2-sha256$";
    if (strncmp(hash, prefix, strlen(prefix)) != 0)
        return false;
    const char *p = hash + strlen(prefix);
    char *end;
    long iterations = strtol(p, &end, 10);
    if (*end != '$' || iterations < 1000 || iterations > 10000000)
        return false;
    const char *salt64 = end + 1, *key64 = strchr(salt64, '$');
    if (!key64 || b64_decode(salt64, (size_t)(key64 - salt64), salt, sizeof salt) ||
        b64_decode(key64 + 1, strlen(key64 + 1), want, sizeof want))
        return false;
    if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof salt, (int)iterations,
                          EVP_sha256(), sizeof got, got) != 1)
        return false;
    bool ok = CRYPTO_memcmp(want, got, sizeof got) == 0;
    OPENSSL_cleanse(got, sizeof got);
    return ok;
}

/* A password of 20 characters from a 62-letter alphabet (~119 bits). */
static int random_password(char *out, size_t cap, char *err, size_t errlen)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char raw[64];
    size_t n = 0;
    if (cap < 21) {
        snprintf(err, errlen, "password buffer too small");
        return -1;
    }
    while (n < 20) {
        if (RAND_bytes(raw, sizeof raw) != 1) {
            snprintf(err, errlen, "cannot get random bytes (OpenSSL RAND_bytes)");
            return -1;
        }
        for (size_t i = 0; i < sizeof raw && n < 20; i++)
            if (raw[i] < 248) /* 248 = 4 * 62: no modulo bias */
                out[n++] = alphabet[raw[i] % 62];
    }
    out[n] = '\0';
    OPENSSL_cleanse(raw, sizeof raw);
    return 0;
}

int st_users_first_start(st_con_config *cfg, const char *path, char *password_out, size_t cap,
                         char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->nusers; i++)
        if (cfg->users[i].role == ST_ROLE_ADMIN)
            return 1;
    if (st_con_config_user(cfg, "admin")) {
        snprintf(err, errlen,
                 "no user has role admin, and the name \"admin\" is taken by a %s: give "
                 "some user role admin",
                 st_role_name(st_con_config_user(cfg, "admin")->role));
        return -1;
    }
    if (cfg->nusers == ST_CON_MAX_USERS) {
        snprintf(err, errlen, "no user has role admin and there is no room for one");
        return -1;
    }
    st_con_user *u = &cfg->users[cfg->nusers];
    memset(u, 0, sizeof *u);
    snprintf(u->name, sizeof u->name, "admin");
    u->role = ST_ROLE_ADMIN;
    if (random_password(password_out, cap, err, errlen) ||
        st_users_hash(password_out, ST_USERS_ITERATIONS, u->password_hash, sizeof u->password_hash,
                      err, errlen))
        return -1;

    char text[1024], dir[PATH_MAX];
    int n = snprintf(text, sizeof text,
                     "# strait-console users, generated at the first start. Add users with\n"
                     "# `strait-console --hash-password` (see docs/console.md).\n"
                     "users = (\n"
                     "  { name = \"admin\"; role = \"admin\";\n"
                     "    password_hash = \"%s\"; }\n"
                     ");\n",
                     u->password_hash);
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (n < 0 || n >= (int)sizeof text ||
        st_file_write_atomic_mode(dir, slash ? slash + 1 : path, text, (size_t)n, true, 0600, err,
                                  errlen) < 0)
        return -1;
    cfg->nusers++;
    return 0;
}
