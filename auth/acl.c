/*
 * The ACL store and authorizer (see acl.h for the rules).
 *
 * Layout: per resource type, two tables of groups. A group is one resource pattern (a name)
 * with the entries (principal, host, operation, permission) bound to it. Both tables are
 * kept sorted by name (byte order), so a literal lookup is one binary search. Prefixed
 * lookups binary-search the name cut at each prefix length that exists in the table (kept
 * as a small sorted list of lengths with counts), so a call costs
 * O(distinct prefix lengths × log groups), not O(bindings). Changes are rare (admin calls)
 * and pay for the sorted inserts.
 */
#include "auth/acl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/errors.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

typedef struct acl_entry {
    char *principal;
    char *host;
    st_acl_operation operation;
    st_acl_permission permission;
} acl_entry;

typedef struct acl_group {
    char *name;
    size_t name_len;
    acl_entry *entries;
    size_t count, cap;
} acl_group;

typedef struct prefix_len {
    size_t len;
    size_t groups; /* groups in the table with a name of this length */
} prefix_len;

typedef struct acl_table {
    acl_group *groups;
    size_t count, cap;
    prefix_len *lens; /* sorted by len; maintained for the prefixed tables only */
    size_t lens_count, lens_cap;
} acl_table;

struct st_acl_store {
    acl_table literal[ST_ACL_RESOURCE_COUNT];
    acl_table prefixed[ST_ACL_RESOURCE_COUNT];
    char **super_users;
    size_t super_count;
    bool allow_if_no_acl;
    uint64_t version;
    size_t bindings;
};

/* ---- validation ----------------------------------------------------------------------- */

static bool concrete_resource(int t)
{
    return t >= ST_ACL_RESOURCE_TOPIC && t < ST_ACL_RESOURCE_COUNT;
}

static bool concrete_operation(int op)
{
    return op >= ST_ACL_OP_ALL && op < ST_ACL_OP_COUNT;
}

/* Kafka's SecurityUtils.parseKafkaPrincipal: "Type:name", both parts non-empty. */
static bool valid_principal(const char *p)
{
    if (!p)
        return false;
    const char *colon = strchr(p, ':');
    return colon && colon != p && colon[1] != '\0';
}

int st_acl_binding_validate(const st_acl_binding *b, char *err, size_t errlen)
{
    if (!concrete_resource(b->resource_type)) {
        snprintf(err, errlen,
                 "ACL resource type %s (%d) cannot be stored: use TOPIC, GROUP, CLUSTER, "
                 "TRANSACTIONAL_ID or DELEGATION_TOKEN",
                 st_acl_resource_type_name(b->resource_type), (int)b->resource_type);
        return ST_ERR_INVALID_REQUEST;
    }
    if (b->pattern_type != ST_ACL_PATTERN_LITERAL && b->pattern_type != ST_ACL_PATTERN_PREFIXED) {
        snprintf(err, errlen, "ACL pattern type %s (%d) cannot be stored: use LITERAL or PREFIXED",
                 st_acl_pattern_type_name(b->pattern_type), (int)b->pattern_type);
        return ST_ERR_INVALID_REQUEST;
    }
    if (!b->resource_name || !*b->resource_name) {
        snprintf(err, errlen,
                 "ACL resource name is empty: name a resource, or \"*\" (LITERAL) "
                 "for every resource of the type");
        return ST_ERR_INVALID_REQUEST;
    }
    if (!valid_principal(b->principal)) {
        snprintf(err, errlen,
                 "ACL principal \"%s\" is not of the form Type:name (e.g. User:alice "
                 "or User:*)",
                 b->principal ? b->principal : "");
        return ST_ERR_INVALID_REQUEST;
    }
    if (!b->host || !*b->host) {
        snprintf(err, errlen, "ACL host is empty: give an address, or \"*\" for every host");
        return ST_ERR_INVALID_REQUEST;
    }
    if (!concrete_operation(b->operation)) {
        snprintf(err, errlen, "ACL operation %s (%d) cannot be stored: name one operation or ALL",
                 st_acl_operation_name(b->operation), (int)b->operation);
        return ST_ERR_INVALID_REQUEST;
    }
    if (b->permission != ST_ACL_PERM_ALLOW && b->permission != ST_ACL_PERM_DENY) {
        snprintf(err, errlen, "ACL permission %s (%d) cannot be stored: use ALLOW or DENY",
                 st_acl_permission_name(b->permission), (int)b->permission);
        return ST_ERR_INVALID_REQUEST;
    }
    return 0;
}

int st_acl_filter_validate(const st_acl_filter *f, char *err, size_t errlen)
{
    if (f->resource_type <= ST_ACL_RESOURCE_UNKNOWN || f->resource_type >= ST_ACL_RESOURCE_COUNT) {
        snprintf(err, errlen, "ACL filter resource type %d is unknown", (int)f->resource_type);
        return ST_ERR_INVALID_REQUEST;
    }
    if (f->pattern_type <= ST_ACL_PATTERN_UNKNOWN || f->pattern_type > ST_ACL_PATTERN_PREFIXED) {
        snprintf(err, errlen, "ACL filter pattern type %d is unknown", (int)f->pattern_type);
        return ST_ERR_INVALID_REQUEST;
    }
    if (f->operation <= ST_ACL_OP_UNKNOWN || f->operation >= ST_ACL_OP_COUNT) {
        snprintf(err, errlen, "ACL filter operation %d is unknown", (int)f->operation);
        return ST_ERR_INVALID_REQUEST;
    }
    if (f->permission <= ST_ACL_PERM_UNKNOWN || f->permission > ST_ACL_PERM_ALLOW) {
        snprintf(err, errlen, "ACL filter permission %d is unknown", (int)f->permission);
        return ST_ERR_INVALID_REQUEST;
    }
    return 0;
}

/* Kafka's ResourcePatternFilter.matches. */
static bool pattern_matches(const st_acl_filter *f, st_acl_resource_type type, const char *name,
                            st_acl_pattern_type pattern)
{
    if (f->resource_type != ST_ACL_RESOURCE_ANY && f->resource_type != type)
        return false;
    if (f->pattern_type != ST_ACL_PATTERN_ANY && f->pattern_type != ST_ACL_PATTERN_MATCH &&
        f->pattern_type != pattern)
        return false;
    if (!f->resource_name)
        return true;
    if (f->pattern_type == ST_ACL_PATTERN_ANY || f->pattern_type == pattern)
        return strcmp(f->resource_name, name) == 0;
    /* MATCH: every pattern that would apply to a resource called f->resource_name */
    if (pattern == ST_ACL_PATTERN_LITERAL)
        return strcmp(f->resource_name, name) == 0 || strcmp(name, ST_ACL_WILDCARD_RESOURCE) == 0;
    return strncmp(f->resource_name, name, strlen(name)) == 0;
}

/* Kafka's AccessControlEntryFilter.matches. */
static bool entry_matches(const st_acl_filter *f, const char *principal, const char *host,
                          st_acl_operation op, st_acl_permission perm)
{
    return (!f->principal || strcmp(f->principal, principal) == 0) &&
           (!f->host || strcmp(f->host, host) == 0) &&
           (f->operation == ST_ACL_OP_ANY || f->operation == op) &&
           (f->permission == ST_ACL_PERM_ANY || f->permission == perm);
}

bool st_acl_filter_matches(const st_acl_filter *f, const st_acl_binding *b)
{
    return pattern_matches(f, b->resource_type, b->resource_name, b->pattern_type) &&
           entry_matches(f, b->principal, b->host, b->operation, b->permission);
}

/* ---- tables --------------------------------------------------------------------------- */

/* Compares the key (key, len) with a group name in strcmp's order. */
static int key_cmp(const char *key, size_t len, const acl_group *g)
{
    size_t n = len < g->name_len ? len : g->name_len;
    int r = memcmp(key, g->name, n);
    if (r)
        return r;
    return len < g->name_len ? -1 : len > g->name_len ? 1 : 0;
}

/* Index of the group named (key, len), or -(insertion point) - 1. */
static long table_find(const acl_table *t, const char *key, size_t len)
{
    size_t lo = 0, hi = t->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = key_cmp(key, len, &t->groups[mid]);
        if (r == 0)
            return (long)mid;
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -(long)lo - 1;
}

static int lens_add(acl_table *t, size_t len)
{
    size_t i = 0;
    while (i < t->lens_count && t->lens[i].len < len)
        i++;
    if (i < t->lens_count && t->lens[i].len == len) {
        t->lens[i].groups++;
        return 0;
    }
    if (t->lens_count == t->lens_cap) {
        size_t cap = t->lens_cap ? t->lens_cap * 2 : 8;
        prefix_len *grown = realloc(t->lens, cap * sizeof *grown);
        if (!grown)
            return ST_ERR__NOMEM;
        t->lens = grown;
        t->lens_cap = cap;
    }
    memmove(&t->lens[i + 1], &t->lens[i], (t->lens_count - i) * sizeof *t->lens);
    t->lens[i] = (prefix_len){.len = len, .groups = 1};
    t->lens_count++;
    return 0;
}

static void lens_remove(acl_table *t, size_t len)
{
    for (size_t i = 0; i < t->lens_count; i++) {
        if (t->lens[i].len != len)
            continue;
        if (--t->lens[i].groups == 0) {
            memmove(&t->lens[i], &t->lens[i + 1], (t->lens_count - i - 1) * sizeof *t->lens);
            t->lens_count--;
        }
        return;
    }
}

/* Returns the group named `name`, creating it (at its sorted place) when absent; NULL when
 * out of memory. Valid until the table next changes. */
static acl_group *table_get(acl_table *t, const char *name, bool track_lens)
{
    size_t len = strlen(name);
    long at = table_find(t, name, len);
    if (at >= 0)
        return &t->groups[at];
    size_t pos = (size_t)(-at - 1);
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        acl_group *grown = realloc(t->groups, cap * sizeof *grown);
        if (!grown)
            return NULL;
        t->groups = grown;
        t->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return NULL;
    if (track_lens && lens_add(t, len) != 0) {
        free(copy);
        return NULL;
    }
    memmove(&t->groups[pos + 1], &t->groups[pos], (t->count - pos) * sizeof *t->groups);
    t->groups[pos] = (acl_group){.name = copy, .name_len = len};
    t->count++;
    return &t->groups[pos];
}

static void entry_free(acl_entry *e)
{
    free(e->principal);
    free(e->host);
}

static void group_free(acl_group *g)
{
    for (size_t i = 0; i < g->count; i++)
        entry_free(&g->entries[i]);
    free(g->entries);
    free(g->name);
}

/* Drops the group at `pos` if it has no entries left. */
static void table_prune(acl_table *t, size_t pos, bool track_lens)
{
    acl_group *g = &t->groups[pos];
    if (g->count)
        return;
    if (track_lens)
        lens_remove(t, g->name_len);
    group_free(g);
    memmove(&t->groups[pos], &t->groups[pos + 1], (t->count - pos - 1) * sizeof *t->groups);
    t->count--;
}

static void table_free(acl_table *t)
{
    for (size_t i = 0; i < t->count; i++)
        group_free(&t->groups[i]);
    free(t->groups);
    free(t->lens);
    memset(t, 0, sizeof *t);
}

/* ---- store ---------------------------------------------------------------------------- */

st_acl_store *st_acl_store_new(void)
{
    return calloc(1, sizeof(st_acl_store));
}

static void store_clear_bindings(st_acl_store *s)
{
    for (int i = 0; i < ST_ACL_RESOURCE_COUNT; i++) {
        table_free(&s->literal[i]);
        table_free(&s->prefixed[i]);
    }
    s->bindings = 0;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void st_acl_store_free(st_acl_store *s)
{
    if (!s)
        return;
    store_clear_bindings(s);
    free_strings(s->super_users, s->super_count);
    free(s);
}

uint64_t st_acl_store_version(const st_acl_store *s)
{
    return s->version;
}

size_t st_acl_store_count(const st_acl_store *s)
{
    return s->bindings;
}

void st_acl_store_set_allow_if_no_acl(st_acl_store *s, bool allow)
{
    if (s->allow_if_no_acl != allow) {
        s->allow_if_no_acl = allow;
        s->version++;
    }
}

int st_acl_store_set_super_users(st_acl_store *s, const char *const *principals, size_t count,
                                 char *err, size_t errlen)
{
    char **copy = NULL;
    size_t made = 0;
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        if (!valid_principal(principals[i])) {
            snprintf(err, errlen,
                     "super.users entry \"%s\" is not of the form Type:name (e.g. "
                     "User:admin)",
                     principals[i] ? principals[i] : "");
            rc = ST_ERR_INVALID_CONFIG;
            goto out;
        }
    }
    if (count) {
        copy = calloc(count, sizeof *copy);
        if (!copy) {
            rc = ST_ERR__NOMEM;
            goto out;
        }
    }
    for (; made < count; made++) {
        copy[made] = strdup(principals[made]);
        if (!copy[made]) {
            rc = ST_ERR__NOMEM;
            goto out;
        }
    }
    free_strings(s->super_users, s->super_count);
    s->super_users = copy;
    s->super_count = count;
    s->version++;
    copy = NULL;
out:
    if (copy)
        free_strings(copy, made);
    return rc;
}

int st_acl_store_set_super_users_str(st_acl_store *s, const char *list, char *err, size_t errlen)
{
    char *buf = strdup(list ? list : "");
    const char **items = NULL;
    size_t count = 0;
    int rc = 0;
    if (!buf) {
        rc = ST_ERR__NOMEM;
        goto out;
    }
    items = calloc(strlen(buf) / 2 + 1, sizeof *items); /* at most one entry per 2 bytes */
    if (!items) {
        rc = ST_ERR__NOMEM;
        goto out;
    }
    char *save = NULL;
    for (char *tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        while (isspace((unsigned char)*tok))
            tok++;
        char *end = tok + strlen(tok);
        while (end > tok && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (*tok)
            items[count++] = tok;
    }
    rc = st_acl_store_set_super_users(s, items, count, err, errlen);
out:
    free(items);
    free(buf);
    return rc;
}

static acl_table *table_for(st_acl_store *s, st_acl_resource_type type, st_acl_pattern_type p)
{
    return p == ST_ACL_PATTERN_PREFIXED ? &s->prefixed[type] : &s->literal[type];
}

int st_acl_add(st_acl_store *s, const st_acl_binding *b, char *err, size_t errlen)
{
    int rc = st_acl_binding_validate(b, err, errlen);
    if (rc)
        return rc;
    bool prefixed = b->pattern_type == ST_ACL_PATTERN_PREFIXED;
    acl_table *t = table_for(s, b->resource_type, b->pattern_type);
    acl_group *g = table_get(t, b->resource_name, prefixed);
    if (!g)
        goto nomem;
    for (size_t i = 0; i < g->count; i++) {
        acl_entry *e = &g->entries[i];
        if (e->operation == b->operation && e->permission == b->permission &&
            strcmp(e->principal, b->principal) == 0 && strcmp(e->host, b->host) == 0)
            return 0; /* already there: Kafka's CreateAcls is idempotent */
    }
    if (g->count == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 4;
        acl_entry *grown = realloc(g->entries, cap * sizeof *grown);
        if (!grown)
            goto nomem;
        g->entries = grown;
        g->cap = cap;
    }
    acl_entry e = {.principal = strdup(b->principal),
                   .host = strdup(b->host),
                   .operation = b->operation,
                   .permission = b->permission};
    if (!e.principal || !e.host) {
        entry_free(&e);
        goto nomem;
    }
    g->entries[g->count++] = e;
    s->bindings++;
    s->version++;
    return 0;
nomem:
    /* a group created just now and left empty must not linger */
    if (g)
        table_prune(t, (size_t)(g - t->groups), prefixed);
    snprintf(err, errlen, "out of memory adding an ACL");
    return ST_ERR__NOMEM;
}

/* ---- lists ---------------------------------------------------------------------------- */

void st_acl_list_free(st_acl_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free((char *)list->items[i].resource_name);
        free((char *)list->items[i].principal);
        free((char *)list->items[i].host);
    }
    free(list->items);
    list->items = NULL;
    list->count = list->cap = 0;
}

static int list_push(st_acl_list *list, const st_acl_binding *b)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 8;
        st_acl_binding *grown = realloc(list->items, cap * sizeof *grown);
        if (!grown)
            return ST_ERR__NOMEM;
        list->items = grown;
        list->cap = cap;
    }
    st_acl_binding copy = *b;
    copy.resource_name = strdup(b->resource_name);
    copy.principal = strdup(b->principal);
    copy.host = strdup(b->host);
    if (!copy.resource_name || !copy.principal || !copy.host) {
        free((char *)copy.resource_name);
        free((char *)copy.principal);
        free((char *)copy.host);
        return ST_ERR__NOMEM;
    }
    list->items[list->count++] = copy;
    return 0;
}

static st_acl_binding binding_of(st_acl_resource_type type, st_acl_pattern_type pattern,
                                 const acl_group *g, const acl_entry *e)
{
    return (st_acl_binding){.resource_type = type,
                            .resource_name = g->name,
                            .pattern_type = pattern,
                            .principal = e->principal,
                            .host = e->host,
                            .operation = e->operation,
                            .permission = e->permission};
}

/* Walks every binding the filter selects, copying each into `out` (may be NULL); `remove`
 * takes them out of the store. Without `remove` the store is only read (describe casts away
 * its const for this). */
static int walk(st_acl_store *s, const st_acl_filter *f, st_acl_list *out, bool remove)
{
    static const st_acl_pattern_type patterns[] = {ST_ACL_PATTERN_LITERAL, ST_ACL_PATTERN_PREFIXED};
    for (int type = ST_ACL_RESOURCE_TOPIC; type < ST_ACL_RESOURCE_COUNT; type++) {
        for (size_t p = 0; p < COUNT_OF(patterns); p++) {
            acl_table *t = table_for(s, type, patterns[p]);
            for (size_t gi = t->count; gi-- > 0;) {
                acl_group *g = &t->groups[gi];
                if (!pattern_matches(f, type, g->name, patterns[p]))
                    continue;
                size_t kept = 0;
                for (size_t ei = 0; ei < g->count; ei++) {
                    acl_entry *e = &g->entries[ei];
                    bool hit = entry_matches(f, e->principal, e->host, e->operation, e->permission);
                    if (hit && out) {
                        st_acl_binding b = binding_of(type, patterns[p], g, e);
                        if (list_push(out, &b) != 0)
                            return ST_ERR__NOMEM;
                    }
                    if (!remove)
                        continue; /* describe: the store is only read */
                    if (hit) {
                        entry_free(e);
                        s->bindings--;
                        s->version++;
                    } else {
                        g->entries[kept++] = *e;
                    }
                }
                if (!remove)
                    continue;
                g->count = kept;
                table_prune(t, gi, patterns[p] == ST_ACL_PATTERN_PREFIXED);
            }
        }
    }
    return 0;
}

int st_acl_describe(const st_acl_store *s, const st_acl_filter *f, st_acl_list *out, char *err,
                    size_t errlen)
{
    int rc = st_acl_filter_validate(f, err, errlen);
    if (rc)
        return rc;
    /* walk() does not modify the store when remove is false */
    rc = walk((st_acl_store *)s, f, out, false);
    if (rc)
        snprintf(err, errlen, "out of memory describing ACLs");
    return rc;
}

int st_acl_remove(st_acl_store *s, const st_acl_filter *f, st_acl_list *removed, char *err,
                  size_t errlen)
{
    int rc = st_acl_filter_validate(f, err, errlen);
    if (rc)
        return rc;
    if (removed) {
        /* collect first so that running out of memory removes nothing */
        size_t before = removed->count;
        rc = walk(s, f, removed, false);
        if (rc) {
            while (removed->count > before) {
                st_acl_binding *b = &removed->items[--removed->count];
                free((char *)b->resource_name);
                free((char *)b->principal);
                free((char *)b->host);
            }
            snprintf(err, errlen, "out of memory removing ACLs");
            return rc;
        }
    }
    return walk(s, f, NULL, true);
}

/* ---- authorize ------------------------------------------------------------------------ */

static const acl_entry *find_entry(const acl_group *g, const char *principal, const char *host,
                                   st_acl_permission perm, unsigned op_mask)
{
    for (size_t i = 0; i < g->count; i++) {
        const acl_entry *e = &g->entries[i];
        if (e->permission != perm || !(op_mask & (1u << e->operation)))
            continue;
        if (strcmp(e->principal, principal) != 0 &&
            strcmp(e->principal, ST_ACL_WILDCARD_PRINCIPAL) != 0)
            continue;
        if (strcmp(e->host, host) != 0 && strcmp(e->host, ST_ACL_WILDCARD_HOST) != 0)
            continue;
        return e;
    }
    return NULL;
}

/* One search over the groups applying to a resource: what to look for, and what was found. */
typedef struct search {
    const char *principal, *host;
    st_acl_permission perm;
    unsigned op_mask;
    const acl_group *group;
    st_acl_pattern_type pattern;
    const acl_entry *entry;
    size_t entries_seen;
} search;

static bool search_group(search *q, const acl_group *g, st_acl_pattern_type pattern)
{
    q->entries_seen += g->count;
    const acl_entry *e = find_entry(g, q->principal, q->host, q->perm, q->op_mask);
    if (!e)
        return false;
    q->group = g;
    q->pattern = pattern;
    q->entry = e;
    return true;
}

/* Searches every group applying to (type, name); true when an entry was found. */
static bool search_resource(const st_acl_store *s, search *q, st_acl_resource_type type,
                            const char *name)
{
    size_t len = strlen(name);
    const acl_table *lit = &s->literal[type];
    long at = table_find(lit, name, len);
    if (at >= 0 && search_group(q, &lit->groups[at], ST_ACL_PATTERN_LITERAL))
        return true;
    if (strcmp(name, ST_ACL_WILDCARD_RESOURCE) != 0) {
        at = table_find(lit, ST_ACL_WILDCARD_RESOURCE, 1);
        if (at >= 0 && search_group(q, &lit->groups[at], ST_ACL_PATTERN_LITERAL))
            return true;
    }
    const acl_table *pre = &s->prefixed[type];
    for (size_t i = 0; i < pre->lens_count && pre->lens[i].len <= len; i++) {
        at = table_find(pre, name, pre->lens[i].len);
        if (at >= 0 && search_group(q, &pre->groups[at], ST_ACL_PATTERN_PREFIXED))
            return true;
    }
    return false;
}

st_acl_result st_acl_authorize(const st_acl_store *s, const char *principal, const char *host,
                               st_acl_operation op, st_acl_resource_type type, const char *name,
                               st_acl_decision *d)
{
    memset(d, 0, sizeof *d);
    d->result = ST_ACL_DENIED;
    for (size_t i = 0; i < s->super_count; i++) {
        if (principal && strcmp(s->super_users[i], principal) == 0) {
            d->result = ST_ACL_ALLOWED;
            d->reason = ST_ACL_REASON_SUPER_USER;
            return d->result;
        }
    }
    if (!concrete_resource(type) || !concrete_operation(op) || !principal || !host || !name) {
        d->reason = ST_ACL_REASON_INVALID;
        return d->result;
    }

    search q = {.principal = principal,
                .host = host,
                .perm = ST_ACL_PERM_DENY,
                .op_mask = (1u << op) | (1u << ST_ACL_OP_ALL)};
    bool found = search_resource(s, &q, type, name);
    if (!found && q.entries_seen == 0) {
        d->result = s->allow_if_no_acl ? ST_ACL_ALLOWED : ST_ACL_DENIED;
        d->reason = ST_ACL_REASON_NO_ACL_FOUND;
        return d->result;
    }
    if (found) {
        d->reason = ST_ACL_REASON_DENY_BINDING;
        d->binding = binding_of(type, q.pattern, q.group, q.entry);
        return d->result;
    }

    /* Allowing READ, WRITE, DELETE or ALTER implies DESCRIBE; ALTER_CONFIGS implies
     * DESCRIBE_CONFIGS (Kafka's AclOperation inheritance). */
    unsigned mask = (1u << op) | (1u << ST_ACL_OP_ALL);
    if (op == ST_ACL_OP_DESCRIBE)
        mask |= (1u << ST_ACL_OP_READ) | (1u << ST_ACL_OP_WRITE) | (1u << ST_ACL_OP_DELETE) |
                (1u << ST_ACL_OP_ALTER);
    else if (op == ST_ACL_OP_DESCRIBE_CONFIGS)
        mask |= 1u << ST_ACL_OP_ALTER_CONFIGS;
    q = (search){.principal = principal, .host = host, .perm = ST_ACL_PERM_ALLOW, .op_mask = mask};
    if (search_resource(s, &q, type, name)) {
        d->result = ST_ACL_ALLOWED;
        d->reason = ST_ACL_REASON_ALLOW_BINDING;
        d->binding = binding_of(type, q.pattern, q.group, q.entry);
        return d->result;
    }
    d->reason = ST_ACL_REASON_NO_ALLOW;
    return d->result;
}

int st_acl_decision_format(const st_acl_decision *d, char *buf, size_t buflen)
{
    const char *verdict = d->result == ST_ACL_ALLOWED ? "ALLOWED" : "DENIED";
    const st_acl_binding *b = &d->binding;
    switch (d->reason) {
    case ST_ACL_REASON_SUPER_USER:
        return snprintf(buf, buflen, "%s: the principal is a super user", verdict);
    case ST_ACL_REASON_NO_ACL_FOUND:
        return snprintf(buf, buflen,
                        "%s: no ACL on the resource (allow.everyone.if.no.acl.found=%s)", verdict,
                        d->result == ST_ACL_ALLOWED ? "true" : "false");
    case ST_ACL_REASON_NO_ALLOW:
        return snprintf(buf, buflen, "%s: ACLs exist on the resource but none allows this",
                        verdict);
    case ST_ACL_REASON_INVALID:
        return snprintf(buf, buflen, "%s: the request names no concrete operation or resource",
                        verdict);
    case ST_ACL_REASON_DENY_BINDING:
    case ST_ACL_REASON_ALLOW_BINDING:
        return snprintf(buf, buflen, "%s by %s %s %s on %s %s \"%s\" from host %s", verdict,
                        st_acl_permission_name(b->permission), b->principal,
                        st_acl_operation_name(b->operation),
                        st_acl_resource_type_name(b->resource_type),
                        st_acl_pattern_type_name(b->pattern_type), b->resource_name, b->host);
    }
    return snprintf(buf, buflen, "%s", verdict);
}

/* ---- bulk replace ---------------------------------------------------------------------- */

void st_acl_store_take_bindings(st_acl_store *dst, st_acl_store *src)
{
    store_clear_bindings(dst);
    memcpy(dst->literal, src->literal, sizeof dst->literal);
    memcpy(dst->prefixed, src->prefixed, sizeof dst->prefixed);
    dst->bindings = src->bindings;
    dst->version++;
    memset(src->literal, 0, sizeof src->literal);
    memset(src->prefixed, 0, sizeof src->prefixed);
    src->bindings = 0;
    src->version++;
}
