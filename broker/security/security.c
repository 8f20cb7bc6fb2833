/*
 * The security context: stores, their persistence, and the authorization decision that
 * joins a user's principal with its tenant's. See security.h.
 */
#include "broker/security/security.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/errors.h"
#include "common/fileio.h"
#include "common/logging.h"

#define SECURITY_FILE "security.json"
#define CREDS_FILE    "credentials.json"
/* Failed-authentication slowdown: addresses remembered, the cap, and how long a quiet
 * address keeps its count. */
#define FAIL_SLOTS     256
#define FAIL_MAX_MS    5000
#define FAIL_FORGET_MS 60000

typedef struct fail_slot {
    char host[64];
    int count;
    int64_t last_ms;
} fail_slot;

struct st_security {
    bool authorizer;
    int64_t failed_auth_delay_ms;
    st_credstore *creds;
    st_acl_store *acls;
    st_tenants *tenants;
    st_auth_guard *guard;
    char meta_dir[PATH_MAX + 8];
    uint64_t version; /* bumped at every commit and rollback (st_security_version) */
    fail_slot fails[FAIL_SLOTS];
};

static json_t *snapshot(const st_security *sec)
{
    json_t *t = st_tenants_to_json(sec->tenants);
    json_t *a = st_acl_store_to_json(sec->acls);
    json_t *doc =
        t && a ? json_pack("{s:i, s:o, s:o}", "version", 1, "tenants", t, "acls", a) : NULL;
    if (!doc) {
        json_decref(t);
        json_decref(a);
    }
    return doc;
}

/* Replaces tenants and ACLs with doc's (borrowed). Both parts are checked before either
 * is applied: the ACLs go into a scratch store first and are switched in after the
 * tenants loaded, so a bad file changes nothing. */
static int load_doc(st_security *sec, const json_t *doc, char *err, size_t errlen)
{
    json_t *t = json_object_get(doc, "tenants");
    json_t *a = json_object_get(doc, "acls");
    if (!json_is_object(doc) || json_integer_value(json_object_get(doc, "version")) != 1 ||
        !json_is_array(t) || !json_is_object(a)) {
        snprintf(err, errlen, "expected {\"version\":1, \"tenants\":[...], \"acls\":{...}}");
        return ST_ERR__MALFORMED;
    }
    st_acl_store *scratch = st_acl_store_new();
    if (!scratch)
        return ST_ERR__NOMEM;
    int rc = st_acl_store_load_json(scratch, a, err, errlen);
    if (rc == 0)
        rc = st_tenants_load_json(sec->tenants, t, err, errlen);
    if (rc == 0)
        st_acl_store_take_bindings(sec->acls, scratch);
    st_acl_store_free(scratch);
    return rc;
}

int st_security_open(const st_broker_config *cfg, st_security **out, char *err, size_t errlen)
{
    st_security *sec = calloc(1, sizeof *sec);
    json_t *doc = NULL;
    char path[PATH_MAX + 64];
    int rc = ST_ERR__NOMEM;
    if (!sec)
        goto fail;
    sec->authorizer = cfg->authorizer;
    sec->failed_auth_delay_ms = cfg->failed_auth_delay_ms;
    snprintf(sec->meta_dir, sizeof sec->meta_dir, "%s/meta", cfg->data_dir);
    if (mkdir(sec->meta_dir, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", sec->meta_dir, strerror(errno));
        rc = ST_ERR__IO;
        goto fail;
    }
    sec->acls = st_acl_store_new();
    sec->tenants = st_tenants_new();
    if (!sec->acls || !sec->tenants)
        goto fail;
    st_acl_store_set_allow_if_no_acl(sec->acls, cfg->allow_everyone_if_no_acl_found);
    st_auth_guard_config gc = {
        .rate_per_address = cfg->auth_attempts_per_second,
        .inflight_per_address = cfg->auth_checks_per_address,
        .inflight_total = cfg->auth_checks_max,
        .cache_entries = cfg->auth_cache_entries,
        .cache_ttl_ms = cfg->auth_cache_ms,
    };
    if (!(sec->guard = st_auth_guard_new(&gc, err, errlen))) {
        rc = ST_ERR_INVALID_CONFIG;
        goto fail;
    }
    char why[512];
    rc = st_acl_store_set_super_users_str(sec->acls, cfg->super_users, why, sizeof why);
    if (rc) {
        snprintf(err, errlen, "security.super_users: %s", why);
        goto fail;
    }
    snprintf(path, sizeof path, "%s/%s", sec->meta_dir, CREDS_FILE);
    rc = st_credstore_open(path, &sec->creds, err, errlen);
    if (rc)
        goto fail;

    snprintf(path, sizeof path, "%s/%s", sec->meta_dir, SECURITY_FILE);
    json_error_t jerr;
    doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        if (access(path, F_OK) == 0) {
            snprintf(err, errlen,
                     "%s:%d: %s (fix or move the file: straitd will not start with "
                     "fewer tenants and ACLs than were stored)",
                     path, jerr.line, jerr.text);
            rc = ST_ERR_INVALID_CONFIG;
            goto fail;
        }
    } else {
        rc = load_doc(sec, doc, why, sizeof why);
        if (rc) {
            snprintf(err, errlen, "%s: %s", path, why);
            if (rc == ST_ERR__MALFORMED)
                rc = ST_ERR_INVALID_CONFIG;
            goto fail;
        }
    }
    json_decref(doc);
    st_info("security: authorizer %s, %zu ACLs, %zu tenants, %zu SCRAM credentials",
            sec->authorizer ? "on" : "off", st_acl_store_count(sec->acls),
            st_tenants_count(sec->tenants), st_credstore_count(sec->creds));
    *out = sec;
    return 0;
fail:
    if (rc == ST_ERR__NOMEM)
        snprintf(err, errlen, "out of memory opening the security stores");
    json_decref(doc);
    st_security_free(sec);
    return rc;
}

void st_security_free(st_security *sec)
{
    if (!sec)
        return;
    st_credstore_free(sec->creds);
    st_acl_store_free(sec->acls);
    st_tenants_free(sec->tenants);
    st_auth_guard_free(sec->guard);
    free(sec);
}

bool st_security_authorizer_enabled(const st_security *sec)
{
    return sec->authorizer;
}

st_credstore *st_security_credstore(st_security *sec)
{
    return sec->creds;
}

st_acl_store *st_security_acls(st_security *sec)
{
    return sec->acls;
}

st_tenants *st_security_tenants(st_security *sec)
{
    return sec->tenants;
}

st_auth_guard *st_security_guard(st_security *sec)
{
    return sec->guard;
}

json_t *st_security_begin(st_security *sec)
{
    return snapshot(sec);
}

uint64_t st_security_version(const st_security *sec)
{
    return sec->version;
}

void st_security_rollback(st_security *sec, json_t *snap)
{
    sec->version++;
    if (!snap)
        return;
    char why[256];
    if (load_doc(sec, snap, why, sizeof why))
        st_error("security: cannot restore the state before a failed change: %s", why);
    json_decref(snap);
}

int st_security_commit(st_security *sec, json_t *snap, char *err, size_t errlen)
{
    sec->version++;
    json_t *doc = snapshot(sec);
    char *text = doc ? json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    if (!text) {
        st_security_rollback(sec, snap);
        snprintf(err, errlen, "out of memory saving the security store");
        return ST_ERR__NOMEM;
    }
    char why[512];
    int rc = st_file_write_atomic_mode(sec->meta_dir, SECURITY_FILE, text, strlen(text), true, 0600,
                                       why, sizeof why);
    free(text);
    if (rc < 0) {
        st_security_rollback(sec, snap);
        snprintf(err, errlen, "cannot save the change (undone): %s", why);
        st_error("security: %s", err);
        return ST_ERR__IO;
    }
    json_decref(snap);
    return 0;
}

/* ---- authorization ---- */

/* Combines the user's and its tenant's decisions: DENY by either wins, then ALLOW by
 * either; otherwise the user's decision (no ACL found / no allow) stands. */
static bool combine(const st_acl_decision *u, const st_acl_decision *t, st_acl_decision *out)
{
    const st_acl_decision *pick = u;
    if (u->reason == ST_ACL_REASON_DENY_BINDING)
        pick = u;
    else if (t->reason == ST_ACL_REASON_DENY_BINDING)
        pick = t;
    else if (u->result == ST_ACL_ALLOWED)
        pick = u;
    else if (t->result == ST_ACL_ALLOWED && t->reason == ST_ACL_REASON_ALLOW_BINDING)
        pick = t;
    if (out)
        *out = *pick;
    return pick->result == ST_ACL_ALLOWED;
}

bool st_security_authorize(const st_security *sec, const char *principal, const char *host,
                           st_acl_operation op, st_acl_resource_type type, const char *name,
                           size_t len, st_acl_decision *decision)
{
    if (!sec->authorizer) {
        if (decision) {
            memset(decision, 0, sizeof *decision);
            decision->result = ST_ACL_ALLOWED;
            decision->reason = ST_ACL_REASON_NO_ACL_FOUND;
        }
        return true;
    }
    /* Resource names are length-delimited on the wire; the store wants C strings. Topic
     * names are at most 249 bytes; group ids can be longer, so those go to the heap. */
    if (decision) {
        memset(decision, 0, sizeof *decision);
        decision->result = ST_ACL_DENIED;
        decision->reason = ST_ACL_REASON_INVALID;
    }
    /* A NUL inside a wire name would cut the C string short and the check would be about
     * another resource (a LITERAL allow on "g1" covering "g1\0x"): deny. */
    if (memchr(name, '\0', len))
        return false;
    char small[256], *copy = small;
    if (len >= sizeof small) {
        copy = malloc(len + 1);
        if (!copy)
            return false;
    }
    memcpy(copy, name, len);
    copy[len] = '\0';

    st_acl_decision du, dt;
    st_acl_authorize(sec->acls, principal, host, op, type, copy, &du);
    bool allowed = du.result == ST_ACL_ALLOWED;
    const st_tenant *tenant = NULL;
    if (du.reason != ST_ACL_REASON_SUPER_USER && du.reason != ST_ACL_REASON_DENY_BINDING &&
        strncmp(principal, "User:", 5) == 0)
        tenant = st_tenants_of_user(sec->tenants, principal + 5);
    if (tenant) {
        char tp[ST_TENANT_NAME_MAX + 16];
        st_tenant_principal(tenant->name, tp, sizeof tp);
        st_acl_authorize(sec->acls, tp, host, op, type, copy, &dt);
        allowed = combine(&du, &dt, decision);
    } else if (decision) {
        *decision = du;
    }
    if (copy != small)
        free(copy);
    return allowed;
}

int64_t st_security_auth_failure_delay(st_security *sec, const char *host, int64_t now_ms)
{
    fail_slot *slot = NULL, *oldest = &sec->fails[0];
    for (size_t i = 0; i < FAIL_SLOTS; i++) {
        fail_slot *f = &sec->fails[i];
        if (f->host[0] && strcmp(f->host, host) == 0) {
            slot = f;
            break;
        }
        if (f->last_ms < oldest->last_ms)
            oldest = f;
    }
    if (!slot) {
        /* A full table forgets the address that failed longest ago: an attacker cycling
         * through many addresses gets the base delay, which is what one address gets. */
        slot = oldest;
        snprintf(slot->host, sizeof slot->host, "%s", host);
        slot->count = 0;
    } else if (now_ms - slot->last_ms > FAIL_FORGET_MS) {
        slot->count = 0;
    }
    slot->last_ms = now_ms;
    if (slot->count < 30)
        slot->count++;
    int64_t delay = sec->failed_auth_delay_ms;
    for (int i = 1; i < slot->count && delay < FAIL_MAX_MS; i++)
        delay *= 2;
    return delay > FAIL_MAX_MS ? FAIL_MAX_MS : delay;
}
