/*
 * The credential store: a sorted array of (user, credential) in memory, written whole to
 * one JSON file on every change. Stores hold tens to thousands of users and change at
 * human speed, so a rewrite per change is simpler and safer than any journal.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "auth/credstore.h"
#include "common/errors.h"

#define SECRET_LEN   32
#define FILE_VERSION 1
#define B64_KEY      ((ST_SCRAM_MAX_SALT + 2) / 3 * 4 + 1)

typedef struct entry {
    char *user; /* owned */
    st_scram_credential cred;
} entry;

struct st_credstore {
    char *path; /* owned; NULL: memory only */
    entry *entries;
    size_t count, cap;
    uint8_t secret[SECRET_LEN]; /* for fake credentials; never written */
};

static int entry_cmp(const char *user_a, st_scram_mech mech_a, const entry *b)
{
    int c = strcmp(user_a, b->user);
    return c ? c : (int)mech_a - (int)b->cred.mechanism;
}

/* Index of (user, mech) if present (*found = 1), else where it would be inserted. */
static size_t find(const st_credstore *cs, const char *user, st_scram_mech mech, int *found)
{
    size_t lo = 0, hi = cs->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = entry_cmp(user, mech, &cs->entries[mid]);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = 0;
    return lo;
}

static int valid_user(const char *user, char *err, size_t errlen)
{
    size_t n = user ? strlen(user) : 0;
    if (n == 0 || n > ST_SCRAM_USER_MAX) {
        snprintf(err, errlen, "user name must be 1..%d bytes (got %zu)", ST_SCRAM_USER_MAX, n);
        return ST_ERR_INVALID_REQUEST;
    }
    return 0;
}

static int valid_cred(const st_scram_credential *c, char *err, size_t errlen)
{
    const char *name = st_scram_mech_name(c->mechanism);
    if (!name) {
        snprintf(err, errlen, "unknown SCRAM mechanism %d", (int)c->mechanism);
        return ST_ERR_INVALID_REQUEST;
    }
    if (c->iterations < ST_SCRAM_MIN_ITERATIONS || c->iterations > ST_SCRAM_MAX_ITERATIONS) {
        snprintf(err, errlen, "%s iterations %d out of range %d..%d", name, c->iterations,
                 ST_SCRAM_MIN_ITERATIONS, ST_SCRAM_MAX_ITERATIONS);
        return ST_ERR_INVALID_REQUEST;
    }
    if (c->salt_len < ST_SCRAM_MIN_SALT || c->salt_len > ST_SCRAM_MAX_SALT) {
        snprintf(err, errlen, "%s salt of %zu bytes out of range %d..%d", name, c->salt_len,
                 ST_SCRAM_MIN_SALT, ST_SCRAM_MAX_SALT);
        return ST_ERR_INVALID_REQUEST;
    }
    if (c->key_len != st_scram_mech_key_len(c->mechanism)) {
        snprintf(err, errlen, "%s keys must be %zu bytes, got %zu", name,
                 st_scram_mech_key_len(c->mechanism), c->key_len);
        return ST_ERR_INVALID_REQUEST;
    }
    return 0;
}

/* Inserts or replaces without persisting. Borrows user and cred. */
static int put(st_credstore *cs, const char *user, const st_scram_credential *cred)
{
    int found;
    size_t at = find(cs, user, cred->mechanism, &found);
    if (found) {
        cs->entries[at].cred = *cred;
        return 0;
    }
    if (cs->count == cs->cap) {
        size_t cap = cs->cap ? cs->cap * 2 : 16;
        entry *e = realloc(cs->entries, cap * sizeof *e);
        if (!e)
            return ST_ERR__NOMEM;
        cs->entries = e;
        cs->cap = cap;
    }
    char *copy = strdup(user);
    if (!copy)
        return ST_ERR__NOMEM;
    memmove(&cs->entries[at + 1], &cs->entries[at], (cs->count - at) * sizeof(entry));
    cs->entries[at].user = copy;
    cs->entries[at].cred = *cred;
    cs->count++;
    return 0;
}

static void drop(st_credstore *cs, size_t at)
{
    free(cs->entries[at].user);
    OPENSSL_cleanse(&cs->entries[at].cred, sizeof cs->entries[at].cred);
    memmove(&cs->entries[at], &cs->entries[at + 1], (cs->count - at - 1) * sizeof(entry));
    cs->count--;
}

/* --- the file --- */

static json_t *b64_json(const uint8_t *p, size_t n)
{
    char text[B64_KEY];
    st_scram_b64_encode(p, n, text, sizeof text);
    return json_string(text);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Whole store → path.tmp → fsync → rename → fsync(dir). */
static int save(const st_credstore *cs, char *err, size_t errlen)
{
    json_t *root = NULL, *list = NULL;
    char *text = NULL, *tmp = NULL, *dir_copy = NULL;
    int fd = -1, rc = ST_ERR__NOMEM;
    if (!cs->path)
        return 0;
    root = json_object();
    list = json_array();
    if (!root || !list || json_object_set_new(root, "version", json_integer(FILE_VERSION)))
        goto out;
    for (size_t i = 0; i < cs->count; i++) {
        const entry *e = &cs->entries[i];
        json_t *o = json_pack("{s:s, s:s, s:i, s:o, s:o, s:o}", "user", e->user, "mechanism",
                              st_scram_mech_name(e->cred.mechanism), "iterations",
                              e->cred.iterations, "salt", b64_json(e->cred.salt, e->cred.salt_len),
                              "stored_key", b64_json(e->cred.stored_key, e->cred.key_len),
                              "server_key", b64_json(e->cred.server_key, e->cred.key_len));
        if (!o || json_array_append_new(list, o))
            goto out;
    }
    if (json_object_set(root, "credentials", list))
        goto out;
    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text || asprintf(&tmp, "%s.tmp", cs->path) < 0 || !(dir_copy = strdup(cs->path))) {
        tmp = NULL;
        goto out;
    }
    rc = ST_ERR__IO;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
        goto out;
    }
    if (write_all(fd, text, strlen(text)) || write_all(fd, "\n", 1) || fsync(fd)) {
        snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd)) {
        fd = -1;
        snprintf(err, errlen, "%s: cannot close: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, cs->path)) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, cs->path, strerror(errno));
        goto out;
    }
    /* the rename itself is only durable once the directory is synced */
    fd = open(dirname(dir_copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0)
        fsync(fd);
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc && tmp)
        unlink(tmp);
    if (rc == ST_ERR__NOMEM)
        snprintf(err, errlen, "%s: out of memory while writing credentials", cs->path);
    json_decref(root);
    json_decref(list);
    free(text);
    free(tmp);
    free(dir_copy);
    return rc;
}

static int b64_field(json_t *o, const char *name, uint8_t *out, size_t cap, size_t *len)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_string(v))
        return -1;
    int n = st_scram_b64_decode(json_string_value(v), json_string_length(v), out, cap);
    if (n < 0)
        return -1;
    *len = (size_t)n;
    return 0;
}

static int load(st_credstore *cs, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_load_file(cs->path, JSON_REJECT_DUPLICATES, &jerr);
    int rc = ST_ERR_INVALID_CONFIG;
    if (!root) {
        if (access(cs->path, F_OK) != 0 && errno == ENOENT)
            return 0; /* no file yet: an empty store */
        snprintf(err, errlen, "%s: line %d: %s", cs->path, jerr.line, jerr.text);
        return ST_ERR_INVALID_CONFIG;
    }
    json_t *version = json_object_get(root, "version");
    json_t *list = json_object_get(root, "credentials");
    if (!json_is_integer(version) || json_integer_value(version) != FILE_VERSION) {
        snprintf(err, errlen, "%s: \"version\" must be %d", cs->path, FILE_VERSION);
        goto out;
    }
    if (!json_is_array(list)) {
        snprintf(err, errlen, "%s: \"credentials\" must be an array", cs->path);
        goto out;
    }
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o)
    {
        st_scram_credential c = {0};
        const char *user = json_string_value(json_object_get(o, "user"));
        json_t *iterations = json_object_get(o, "iterations");
        size_t stored_len = 0, server_len = 0;
        char why[160] = "";
        if (!json_is_object(o) || !user) {
            snprintf(err, errlen, "%s: credential %zu: not an object with a \"user\" string",
                     cs->path, i);
            goto out;
        }
        c.mechanism = st_scram_mech_parse(json_string_value(json_object_get(o, "mechanism")));
        c.key_len = st_scram_mech_key_len(c.mechanism);
        if (!c.mechanism)
            snprintf(why, sizeof why, "\"mechanism\" must be SCRAM-SHA-256 or SCRAM-SHA-512");
        else if (!json_is_integer(iterations) || json_integer_value(iterations) > INT32_MAX ||
                 json_integer_value(iterations) < 0)
            snprintf(why, sizeof why, "\"iterations\" must be an integer");
        else if (b64_field(o, "salt", c.salt, sizeof c.salt, &c.salt_len))
            snprintf(why, sizeof why, "\"salt\" must be base64 of at most %d bytes",
                     ST_SCRAM_MAX_SALT);
        else if (b64_field(o, "stored_key", c.stored_key, sizeof c.stored_key, &stored_len) ||
                 stored_len != c.key_len)
            snprintf(why, sizeof why, "\"stored_key\" must be base64 of %zu bytes", c.key_len);
        else if (b64_field(o, "server_key", c.server_key, sizeof c.server_key, &server_len) ||
                 server_len != c.key_len)
            snprintf(why, sizeof why, "\"server_key\" must be base64 of %zu bytes", c.key_len);
        if (!why[0]) {
            c.iterations = (int)json_integer_value(iterations);
            if (valid_user(user, why, sizeof why) == 0)
                valid_cred(&c, why, sizeof why);
        }
        int found = 0;
        if (!why[0]) {
            find(cs, user, c.mechanism, &found);
            if (found)
                snprintf(why, sizeof why, "duplicate entry");
        }
        if (why[0]) {
            snprintf(err, errlen, "%s: credential %zu (user \"%.64s\"): %s", cs->path, i, user,
                     why);
            goto out;
        }
        if (put(cs, user, &c)) {
            rc = ST_ERR__NOMEM;
            snprintf(err, errlen, "%s: out of memory", cs->path);
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

/* --- public --- */

int st_credstore_open(const char *path, st_credstore **out, char *err, size_t errlen)
{
    int rc = ST_ERR__NOMEM;
    st_credstore *cs = calloc(1, sizeof *cs);
    *out = NULL;
    if (!cs || (path && !(cs->path = strdup(path)))) {
        snprintf(err, errlen, "out of memory opening the credential store");
        goto out;
    }
    if (RAND_bytes(cs->secret, sizeof cs->secret) != 1) {
        rc = ST_ERR_UNKNOWN_SERVER_ERROR;
        snprintf(err, errlen, "no random bytes for the credential store secret");
        goto out;
    }
    rc = cs->path ? load(cs, err, errlen) : 0;
out:
    if (rc) {
        st_credstore_free(cs);
        return rc;
    }
    *out = cs;
    return 0;
}

void st_credstore_free(st_credstore *cs)
{
    if (!cs)
        return;
    while (cs->count)
        drop(cs, cs->count - 1);
    free(cs->entries);
    free(cs->path);
    OPENSSL_cleanse(cs->secret, sizeof cs->secret);
    free(cs);
}

int st_credstore_set(st_credstore *cs, const char *user, const st_scram_credential *cred, char *err,
                     size_t errlen)
{
    int found, rc = valid_user(user, err, errlen);
    if (rc || (rc = valid_cred(cred, err, errlen)))
        return rc;
    size_t at = find(cs, user, cred->mechanism, &found);
    st_scram_credential old = found ? cs->entries[at].cred : (st_scram_credential){0};
    if (put(cs, user, cred)) {
        snprintf(err, errlen, "out of memory adding user \"%s\"", user);
        return ST_ERR__NOMEM;
    }
    rc = save(cs, err, errlen);
    if (rc) { /* undo, so memory matches the file */
        at = find(cs, user, cred->mechanism, &found);
        if (found && old.mechanism)
            cs->entries[at].cred = old;
        else if (found)
            drop(cs, at);
    }
    OPENSSL_cleanse(&old, sizeof old);
    return rc;
}

int st_credstore_set_password(st_credstore *cs, const char *user, st_scram_mech mech,
                              const char *password, int iterations, char *err, size_t errlen)
{
    st_scram_credential c;
    int rc = st_scram_credential_from_password(mech, password, strlen(password), NULL, 0,
                                               iterations, &c, err, errlen);
    if (rc == 0)
        rc = st_credstore_set(cs, user, &c, err, errlen);
    OPENSSL_cleanse(&c, sizeof c);
    return rc;
}

int st_credstore_remove(st_credstore *cs, const char *user, st_scram_mech mech, char *err,
                        size_t errlen)
{
    int found;
    size_t at = find(cs, user, mech, &found);
    if (!found) {
        snprintf(err, errlen, "user \"%s\" has no %s credential", user,
                 st_scram_mech_name(mech) ? st_scram_mech_name(mech) : "SCRAM");
        return ST_ERR_RESOURCE_NOT_FOUND;
    }
    entry removed = cs->entries[at];
    /* take it out without freeing, so a failed save can put it back */
    memmove(&cs->entries[at], &cs->entries[at + 1], (cs->count - at - 1) * sizeof(entry));
    cs->count--;
    int rc = save(cs, err, errlen);
    if (rc) {
        memmove(&cs->entries[at + 1], &cs->entries[at], (cs->count - at) * sizeof(entry));
        cs->entries[at] = removed;
        cs->count++;
        return rc;
    }
    free(removed.user);
    OPENSSL_cleanse(&removed.cred, sizeof removed.cred);
    return 0;
}

int st_credstore_lookup(const st_credstore *cs, const char *user, st_scram_mech mech,
                        st_scram_credential *out)
{
    int found;
    size_t at = find(cs, user, mech, &found);
    if (!found)
        return ST_ERR_RESOURCE_NOT_FOUND;
    *out = cs->entries[at].cred;
    return 0;
}

int st_credstore_lookup_or_fake(const st_credstore *cs, const char *user, st_scram_mech mech,
                                st_scram_credential *out)
{
    if (st_credstore_lookup(cs, user, mech, out) == 0)
        return 1;
    /* HMAC(secret, label NUL mech NUL user): stable per user, unpredictable without the
     * secret, so a fake salt cannot be told from a real one */
    static const char *labels[] = {"salt", "stored", "server"};
    uint8_t *dest[] = {out->salt, out->stored_key, out->server_key};
    uint8_t mac[EVP_MAX_MD_SIZE];
    char msg[8 + ST_SCRAM_USER_MAX];
    size_t ulen = strnlen(user, ST_SCRAM_USER_MAX);
    memset(out, 0, sizeof *out);
    out->mechanism = mech;
    out->key_len = st_scram_mech_key_len(mech);
    out->salt_len = ST_SCRAM_SALT_LEN;
    out->iterations = ST_SCRAM_MIN_ITERATIONS;
    /* a real user's iteration count, so the fake one does not stand out */
    for (size_t i = 0; i < cs->count; i++) {
        if (cs->entries[i].cred.mechanism == mech) {
            out->iterations = cs->entries[i].cred.iterations;
            break;
        }
    }
    for (int k = 0; k < 3; k++) {
        size_t llen = strlen(labels[k]);
        unsigned int mac_len = 0;
        memcpy(msg, labels[k], llen);
        msg[llen] = '\0';
        msg[llen + 1] = (char)mech;
        memcpy(msg + llen + 2, user, ulen);
        if (!HMAC(EVP_sha512(), cs->secret, SECRET_LEN, (const uint8_t *)msg, llen + 2 + ulen, mac,
                  &mac_len) ||
            mac_len < 64)
            RAND_bytes(mac, 64); /* HMAC failed: still a key nobody can match */
        memcpy(dest[k], mac, k == 0 ? ST_SCRAM_SALT_LEN : out->key_len);
    }
    OPENSSL_cleanse(mac, sizeof mac);
    return 0;
}

int st_credstore_has_mech(const st_credstore *cs, st_scram_mech mech)
{
    for (size_t i = 0; i < cs->count; i++)
        if (cs->entries[i].cred.mechanism == mech)
            return 1;
    return 0;
}

void st_credstore_each(const st_credstore *cs, st_credstore_each_fn fn, void *arg)
{
    for (size_t i = 0; i < cs->count; i++)
        fn(arg, cs->entries[i].user, &cs->entries[i].cred);
}

size_t st_credstore_count(const st_credstore *cs)
{
    return cs->count;
}
