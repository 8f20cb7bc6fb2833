/*
 * Tenants (see tenants.h): a name-sorted array of tenants, plus two indexes rebuilt after
 * every change — users sorted by name (for st_tenants_of_user on every request) and
 * tenants sorted by prefix (for st_tenants_of_topic). Changes are rare (an operator
 * command) and lookups frequent, so a rebuild per change is the right trade.
 *
 * Why the prefix index works: prefixes never overlap, so if prefix P starts topic T, no
 * other prefix Q sorts between P and T (Q > P differs from P before P ends, at a byte
 * greater than T's there, so Q > T). The one candidate is the greatest prefix <= T.
 */
#include "auth/tenants.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errors.h"

#define USER_MAX 255 /* ST_SCRAM_USER_MAX: a SASL user name */

typedef struct user_ref {
    const char *user; /* borrowed from the tenant's users */
    size_t tenant;    /* index into ts->v */
} user_ref;

typedef struct prefix_key {
    const char *prefix; /* borrowed from ts->v[index] */
    size_t index;
} prefix_key;

struct st_tenants {
    st_tenant *v; /* sorted by name */
    size_t n, cap;
    user_ref *users; /* sorted by user; rebuilt on change */
    size_t nusers;
    prefix_key *by_prefix; /* one per tenant, sorted by prefix; rebuilt on change */
    uint64_t version;
};

/* ---- helpers ---- */

static bool legal_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

/* 0 if s is 1..max legal characters, else ST_ERR_INVALID_REQUEST naming `what`. */
static int check_chars(const char *what, const char *s, size_t max, char *err, size_t errlen)
{
    size_t len = strlen(s);
    if (len == 0 || len > max) {
        snprintf(err, errlen, "%s \"%.*s%s\" must be 1 to %zu characters, got %zu", what, 64, s,
                 len > 64 ? "..." : "", max, len);
        return ST_ERR_INVALID_REQUEST;
    }
    for (size_t i = 0; i < len; i++)
        if (!legal_char(s[i])) {
            snprintf(err, errlen,
                     "%s \"%.*s%s\" has an illegal character at position %zu: use only "
                     "letters, digits, '.', '_' and '-'",
                     what, 64, s, len > 64 ? "..." : "", i);
            return ST_ERR_INVALID_REQUEST;
        }
    return 0;
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
    size_t plen = strlen(prefix);
    return plen <= len && memcmp(s, prefix, plen) == 0;
}

static void tenant_free(st_tenant *t)
{
    for (size_t i = 0; i < t->nusers; i++)
        free(t->users[i]);
    free(t->users);
    free(t->name);
    free(t->prefix);
}

/* Position of `name` in ts->v, or where it would go (*found false). */
static size_t find_pos(const st_tenants *ts, const char *name, bool *found)
{
    size_t lo = 0, hi = ts->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ts->v[mid].name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static int user_ref_cmp(const void *a, const void *b)
{
    return strcmp(((const user_ref *)a)->user, ((const user_ref *)b)->user);
}

static int prefix_key_cmp(const void *a, const void *b)
{
    return strcmp(((const prefix_key *)a)->prefix, ((const prefix_key *)b)->prefix);
}

/* Rebuilds both indexes and moves the version. Cannot fail: every change first makes
 * room for them with reserve_indexes. */
static void rebuild(st_tenants *ts)
{
    size_t k = 0;
    for (size_t i = 0; i < ts->n; i++)
        for (size_t j = 0; j < ts->v[i].nusers; j++)
            ts->users[k++] = (user_ref){ts->v[i].users[j], i};
    ts->nusers = k;
    qsort(ts->users, ts->nusers, sizeof(*ts->users), user_ref_cmp);

    for (size_t i = 0; i < ts->n; i++)
        ts->by_prefix[i] = (prefix_key){ts->v[i].prefix, i};
    qsort(ts->by_prefix, ts->n, sizeof(*ts->by_prefix), prefix_key_cmp);
    ts->version++;
}

/* Makes the indexes big enough for ntenants tenants and nusers users, so rebuild() cannot
 * fail after a change. 0 or ST_ERR__NOMEM. */
static int reserve_indexes(st_tenants *ts, size_t ntenants, size_t nusers)
{
    prefix_key *bp = realloc(ts->by_prefix, (ntenants ? ntenants : 1) * sizeof(*bp));
    if (!bp)
        return ST_ERR__NOMEM;
    ts->by_prefix = bp;
    user_ref *u = realloc(ts->users, (nusers ? nusers : 1) * sizeof(*u));
    if (!u)
        return ST_ERR__NOMEM;
    ts->users = u;
    return 0;
}

static size_t total_users(const st_tenants *ts)
{
    size_t n = 0;
    for (size_t i = 0; i < ts->n; i++)
        n += ts->v[i].nusers;
    return n;
}

static const user_ref *find_user(const st_tenants *ts, const char *user)
{
    size_t lo = 0, hi = ts->nusers;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ts->users[mid].user, user);
        if (c == 0)
            return &ts->users[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- life cycle ---- */

st_tenants *st_tenants_new(void)
{
    st_tenants *ts = calloc(1, sizeof(*ts));
    if (ts && reserve_indexes(ts, 0, 0) != 0) {
        st_tenants_free(ts);
        return NULL;
    }
    return ts;
}

static void clear(st_tenants *ts)
{
    for (size_t i = 0; i < ts->n; i++)
        tenant_free(&ts->v[i]);
    free(ts->v);
    free(ts->users);
    free(ts->by_prefix);
    ts->v = NULL;
    ts->users = NULL;
    ts->by_prefix = NULL;
    ts->n = ts->cap = ts->nusers = 0;
}

void st_tenants_free(st_tenants *ts)
{
    if (!ts)
        return;
    clear(ts);
    free(ts);
}

uint64_t st_tenants_version(const st_tenants *ts)
{
    return ts->version;
}

/* ---- changes ---- */

int st_tenants_create(st_tenants *ts, const char *name, const char *prefix, char *err,
                      size_t errlen)
{
    char defprefix[ST_TENANT_NAME_MAX + 2];
    int rc;

    if (!name) {
        snprintf(err, errlen, "a tenant needs a name");
        return ST_ERR_INVALID_REQUEST;
    }
    if ((rc = check_chars("tenant name", name, ST_TENANT_NAME_MAX, err, errlen)) != 0)
        return rc;
    if (!prefix || !*prefix) {
        snprintf(defprefix, sizeof(defprefix), "%s.", name);
        prefix = defprefix;
    }
    if ((rc = check_chars("tenant prefix", prefix, ST_TENANT_PREFIX_MAX, err, errlen)) != 0)
        return rc;
    bool found;
    size_t pos = find_pos(ts, name, &found);
    if (found) {
        snprintf(err, errlen, "tenant %s already exists", name);
        return ST_ERR_INVALID_REQUEST;
    }
    for (size_t i = 0; i < ts->n; i++) {
        const st_tenant *t = &ts->v[i];
        if (starts_with(prefix, strlen(prefix), t->prefix) ||
            starts_with(t->prefix, strlen(t->prefix), prefix)) {
            snprintf(err, errlen,
                     "prefix \"%s\" overlaps tenant %s's prefix \"%s\": a topic name must "
                     "belong to at most one tenant, so neither prefix may start the other",
                     prefix, t->name, t->prefix);
            return ST_ERR_INVALID_REQUEST;
        }
    }
    if (ts->n == ts->cap) {
        size_t cap = ts->cap ? ts->cap * 2 : 8;
        st_tenant *v = realloc(ts->v, cap * sizeof(*v));
        if (!v)
            return ST_ERR__NOMEM;
        ts->v = v;
        ts->cap = cap;
    }
    st_tenant t = {strdup(name), strdup(prefix), NULL, 0};
    if (!t.name || !t.prefix || reserve_indexes(ts, ts->n + 1, total_users(ts)) != 0) {
        tenant_free(&t);
        return ST_ERR__NOMEM;
    }
    memmove(&ts->v[pos + 1], &ts->v[pos], (ts->n - pos) * sizeof(*ts->v));
    ts->v[pos] = t;
    ts->n++;
    rebuild(ts);
    return 0;
}

int st_tenants_delete(st_tenants *ts, const char *name, char *err, size_t errlen)
{
    bool found;
    size_t pos = name ? find_pos(ts, name, &found) : 0;
    if (!name || !found) {
        snprintf(err, errlen, "no tenant named %s", name ? name : "(null)");
        return ST_ERR_RESOURCE_NOT_FOUND;
    }
    tenant_free(&ts->v[pos]);
    memmove(&ts->v[pos], &ts->v[pos + 1], (ts->n - pos - 1) * sizeof(*ts->v));
    ts->n--;
    rebuild(ts); /* the indexes only shrink: room is there */
    return 0;
}

int st_tenants_add_user(st_tenants *ts, const char *name, const char *user, char *err,
                        size_t errlen)
{
    if (!user || !*user || strlen(user) > USER_MAX) {
        snprintf(err, errlen, "a user name must be 1 to %d characters%s", USER_MAX,
                 user && *user ? " (this one is longer)" : "");
        return ST_ERR_INVALID_REQUEST;
    }
    const st_tenant *cur = st_tenants_of_user(ts, user);
    bool found;
    size_t pos = name ? find_pos(ts, name, &found) : 0;
    if (!name || !found) {
        snprintf(err, errlen, "no tenant named %s", name ? name : "(null)");
        return ST_ERR_RESOURCE_NOT_FOUND;
    }
    st_tenant *t = &ts->v[pos];
    if (cur == t)
        return 0;
    if (cur) {
        snprintf(err, errlen,
                 "user %s belongs to tenant %s: remove it from there first (a user belongs to "
                 "at most one tenant)",
                 user, cur->name);
        return ST_ERR_INVALID_REQUEST;
    }
    char *copy = strdup(user);
    char **users = realloc(t->users, (t->nusers + 1) * sizeof(*users));
    if (users)
        t->users = users;
    if (!copy || !users || reserve_indexes(ts, ts->n, total_users(ts) + 1) != 0) {
        free(copy);
        return ST_ERR__NOMEM;
    }
    size_t i = t->nusers;
    while (i > 0 && strcmp(t->users[i - 1], user) > 0) {
        t->users[i] = t->users[i - 1];
        i--;
    }
    t->users[i] = copy;
    t->nusers++;
    rebuild(ts);
    return 0;
}

int st_tenants_remove_user(st_tenants *ts, const char *user, char *err, size_t errlen)
{
    const user_ref *ref = user ? find_user(ts, user) : NULL;
    if (!ref) {
        snprintf(err, errlen, "user %s belongs to no tenant", user ? user : "(null)");
        return ST_ERR_RESOURCE_NOT_FOUND;
    }
    st_tenant *t = &ts->v[ref->tenant];
    for (size_t i = 0; i < t->nusers; i++)
        if (strcmp(t->users[i], user) == 0) {
            free(t->users[i]);
            memmove(&t->users[i], &t->users[i + 1], (t->nusers - i - 1) * sizeof(*t->users));
            t->nusers--;
            break;
        }
    rebuild(ts);
    return 0;
}

/* ---- lookups ---- */

const st_tenant *st_tenants_find(const st_tenants *ts, const char *name)
{
    bool found;
    size_t pos = name ? find_pos(ts, name, &found) : 0;
    return name && found ? &ts->v[pos] : NULL;
}

const st_tenant *st_tenants_of_user(const st_tenants *ts, const char *user)
{
    const user_ref *ref = user ? find_user(ts, user) : NULL;
    return ref ? &ts->v[ref->tenant] : NULL;
}

/* strcmp of prefix against topic[0..len) (topic need not be NUL-terminated). */
static int prefix_topic_cmp(const char *prefix, const char *topic, size_t len)
{
    size_t plen = strlen(prefix);
    int c = memcmp(prefix, topic, plen < len ? plen : len);
    if (c)
        return c;
    return plen < len ? -1 : plen > len;
}

const st_tenant *st_tenants_of_topic(const st_tenants *ts, const char *topic, size_t len)
{
    if (!topic)
        return NULL;
    /* The greatest prefix <= topic: the only one that can start it (see the top). */
    size_t lo = 0, hi = ts->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (prefix_topic_cmp(ts->by_prefix[mid].prefix, topic, len) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const st_tenant *t = &ts->v[ts->by_prefix[lo - 1].index];
    return starts_with(topic, len, t->prefix) ? t : NULL;
}

size_t st_tenants_count(const st_tenants *ts)
{
    return ts->n;
}

const st_tenant *st_tenants_at(const st_tenants *ts, size_t i)
{
    return i < ts->n ? &ts->v[i] : NULL;
}

int st_tenant_principal(const char *name, char *buf, size_t buflen)
{
    if (!buf || buflen == 0)
        return snprintf(NULL, 0, "Tenant:%s", name);
    return snprintf(buf, buflen, "Tenant:%s", name);
}

/* ---- persistence ---- */

json_t *st_tenants_to_json(const st_tenants *ts)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < ts->n; i++) {
        const st_tenant *t = &ts->v[i];
        json_t *users = json_array();
        for (size_t j = 0; users && j < t->nusers; j++)
            if (json_array_append_new(users, json_string(t->users[j])) != 0) {
                json_decref(users);
                users = NULL;
            }
        json_t *obj = users ? json_pack("{s:s, s:s, s:o}", "name", t->name, "prefix", t->prefix,
                                        "users", users)
                            : NULL;
        if (!obj || json_array_append_new(arr, obj) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return arr;
}

/* A string member that holds no NUL (jansson strings may), or NULL with err set. */
static const char *member_string(const json_t *obj, const char *key, size_t i, bool required,
                                 char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    if (!v && !required)
        return "";
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(err, errlen, "tenants[%zu]: \"%s\" must be a string%s", i, key,
                 v ? " without NUL bytes" : " and is missing");
        return NULL;
    }
    return json_string_value(v);
}

/* Builds the tenants of doc into fresh (empty). 0, ST_ERR__MALFORMED or ST_ERR__NOMEM. */
static int load_into(st_tenants *fresh, const json_t *doc, char *err, size_t errlen)
{
    char why[512];
    size_t i, j;
    json_t *item, *u;

    if (!json_is_array(doc)) {
        snprintf(err, errlen, "tenants must be an array of {name, prefix, users}");
        return ST_ERR__MALFORMED;
    }
    json_array_foreach(doc, i, item)
    {
        if (!json_is_object(item)) {
            snprintf(err, errlen, "tenants[%zu] must be an object {name, prefix, users}", i);
            return ST_ERR__MALFORMED;
        }
        const char *name = member_string(item, "name", i, true, err, errlen);
        const char *prefix = name ? member_string(item, "prefix", i, true, err, errlen) : NULL;
        if (!prefix)
            return ST_ERR__MALFORMED;
        if (!*prefix) { /* create would take "" as the default; a saved one is never empty */
            snprintf(err, errlen, "tenants[%zu] (%s): the tenant prefix is empty", i, name);
            return ST_ERR__MALFORMED;
        }
        int rc = st_tenants_create(fresh, name, prefix, why, sizeof(why));
        if (rc == ST_ERR__NOMEM)
            return rc;
        if (rc != 0) {
            snprintf(err, errlen, "tenants[%zu]: %s", i, why);
            return ST_ERR__MALFORMED;
        }
        json_t *users = json_object_get(item, "users");
        if (users && !json_is_array(users)) {
            snprintf(err, errlen, "tenants[%zu] (%s): \"users\" must be an array of user names", i,
                     name);
            return ST_ERR__MALFORMED;
        }
        json_array_foreach(users, j, u)
        {
            const char *user = json_string_value(u);
            if (!user || strlen(user) != json_string_length(u)) {
                snprintf(err, errlen,
                         "tenants[%zu] (%s): users[%zu] must be a string without NUL bytes", i,
                         name, j);
                return ST_ERR__MALFORMED;
            }
            rc = st_tenants_add_user(fresh, name, user, why, sizeof(why));
            if (rc == ST_ERR__NOMEM)
                return rc;
            if (rc != 0) {
                snprintf(err, errlen, "tenants[%zu] (%s): %s", i, name, why);
                return ST_ERR__MALFORMED;
            }
        }
    }
    return 0;
}

int st_tenants_load_json(st_tenants *ts, const json_t *doc, char *err, size_t errlen)
{
    st_tenants *fresh = st_tenants_new();
    if (!fresh)
        return ST_ERR__NOMEM;
    int rc = load_into(fresh, doc, err, errlen);
    if (rc == ST_ERR__NOMEM)
        snprintf(err, errlen, "out of memory loading tenants");
    if (rc == 0) {
        /* Swap contents; the version keeps moving forward so cached decisions drop. */
        uint64_t version = (ts->version > fresh->version ? ts->version : fresh->version) + 1;
        st_tenants tmp = *ts;
        *ts = *fresh;
        *fresh = tmp;
        ts->version = version;
    }
    st_tenants_free(fresh);
    return rc;
}
