/*
 * Login sessions (see sessions.h): a small array, searched linearly — a console has a
 * handful of people logged in, and the bound keeps it that way.
 */
#include "admin-ui/sessions.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

struct st_sessions {
    st_session *v;
    size_t n, max, per_user;
    int64_t ttl_ms;
};

st_sessions *st_sessions_new(size_t max, size_t per_user, int64_t ttl_ms)
{
    st_sessions *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->v = calloc(max, sizeof *s->v);
    if (!s->v) {
        free(s);
        return NULL;
    }
    s->max = max;
    s->per_user = per_user;
    s->ttl_ms = ttl_ms;
    return s;
}

void st_sessions_free(st_sessions *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s->v, s->max * sizeof *s->v);
    free(s->v);
    free(s);
}

static void remove_at(st_sessions *s, size_t i)
{
    s->v[i] = s->v[s->n - 1];
    OPENSSL_cleanse(&s->v[s->n - 1], sizeof s->v[0]);
    s->n--;
}

const st_session *st_sessions_create(st_sessions *s, const st_con_user *u, int64_t now_ms)
{
    unsigned char raw[ST_SESSION_ID_LEN / 2];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return NULL;
    /* Drop expired sessions, then this user's oldest if the user is at its limit, then
     * the oldest of all if still full. */
    for (size_t i = s->n; i-- > 0;)
        if (s->v[i].expires_ms <= now_ms)
            remove_at(s, i);
    size_t mine = 0, my_oldest = 0, oldest = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].created_ms < s->v[oldest].created_ms)
            oldest = i;
        if (strcmp(s->v[i].user, u->name) != 0)
            continue;
        if (mine++ == 0 || s->v[i].created_ms < s->v[my_oldest].created_ms)
            my_oldest = i;
    }
    if (s->per_user && mine >= s->per_user)
        remove_at(s, my_oldest);
    else if (s->n == s->max)
        remove_at(s, oldest);
    st_session *x = &s->v[s->n++];
    memset(x, 0, sizeof *x);
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(x->id + 2 * i, 3, "%02x", raw[i]);
    OPENSSL_cleanse(raw, sizeof raw);
    snprintf(x->user, sizeof x->user, "%s", u->name);
    x->role = u->role;
    snprintf(x->tenant, sizeof x->tenant, "%s", u->tenant);
    x->created_ms = now_ms;
    x->expires_ms = now_ms + s->ttl_ms;
    return x;
}

const st_session *st_sessions_find(st_sessions *s, const char *id, size_t len, int64_t now_ms)
{
    if (len != ST_SESSION_ID_LEN)
        return NULL;
    for (size_t i = 0; i < s->n; i++) {
        if (CRYPTO_memcmp(s->v[i].id, id, ST_SESSION_ID_LEN) != 0)
            continue;
        if (s->v[i].expires_ms <= now_ms) {
            remove_at(s, i);
            return NULL;
        }
        return &s->v[i];
    }
    return NULL;
}

void st_sessions_remove(st_sessions *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].id, id) == 0) {
            remove_at(s, i);
            return;
        }
}

int st_sessions_cookie_id(const char *h, char *out)
{
    const size_t name_len = strlen(ST_SESSION_COOKIE);
    const char *p = h;
    while (p && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == name_len + 1 + ST_SESSION_ID_LEN &&
            strncmp(p, ST_SESSION_COOKIE, name_len) == 0 && p[name_len] == '=') {
            const char *v = p + name_len + 1;
            for (size_t i = 0; i < ST_SESSION_ID_LEN; i++) {
                char c = v[i];
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                    return -1;
            }
            memcpy(out, v, ST_SESSION_ID_LEN);
            out[ST_SESSION_ID_LEN] = '\0';
            return 0;
        }
        p = end;
    }
    return -1;
}
