/*
 * DescribeUserScramCredentials (50, v0) and AlterUserScramCredentials (51, v0): Kafka's
 * admin API for SCRAM users (KIP-554). Both are flexible from v0: compact strings and
 * arrays, a tagged-field block after every struct.
 *
 * The credential store (auth/credstore.h) persists each change itself, atomically.
 * The client never sends a password: an upsertion carries the salt, the iteration count
 * and SaltedPassword, from which the store keeps only StoredKey and ServerKey
 * (st_scram_credential_from_salted). Describe answers mechanism and iterations only —
 * never a salt or a key, as Kafka.
 *
 * Alter follows Kafka's rules (ZkAdminManager / ScramControlManager): results are per
 * user; a user's changes are all or nothing; its first problem is its answer, checked in
 * this order: empty or unusable name (UNACCEPTABLE_CREDENTIAL), unknown mechanism
 * (UNSUPPORTED_SASL_MECHANISM), iterations outside 4096..16384 (UNACCEPTABLE_CREDENTIAL),
 * the same (user, mechanism) twice in the request (DUPLICATE_RESOURCE), a bad salt or
 * SaltedPassword (UNACCEPTABLE_CREDENTIAL), deleting a credential that does not exist
 * (RESOURCE_NOT_FOUND). Changing both mechanisms of one user in one request is allowed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/credstore.h"
#include "auth/scram.h"
#include "broker/broker_int.h"
#include "broker/security/security.h"
#include "common/errors.h"
#include "common/logging.h"

#define MSG_LEN 320

/* A user name from the request for messages ("%.*s"); a null one prints as empty. */
#define STR_ARG(s) ((s).len > 0 ? (int)(s).len : 0), ((s).ptr ? (s).ptr : "")

static int cmp_str(st_str a, st_str b)
{
    size_t common = (size_t)(a.len < b.len ? a.len : b.len);
    int c = common ? memcmp(a.ptr, b.ptr, common) : 0;
    return c != 0 ? c : (a.len > b.len) - (a.len < b.len);
}

static int cmp_names(const void *x, const void *y)
{
    return cmp_str(*(const st_str *)x, *(const st_str *)y);
}

/* Copies a request user name into out, or says why it cannot be one. */
static int user_name(st_str s, char *out, size_t cap, char *msg, size_t msglen)
{
    if (s.len <= 0) {
        snprintf(msg, msglen, "the user name is empty");
        return ST_ERR_UNACCEPTABLE_CREDENTIAL;
    }
    if (s.len > ST_SCRAM_USER_MAX || memchr(s.ptr, 0, (size_t)s.len)) {
        snprintf(msg, msglen, "user name \"%.*s\" is not usable: at most %d bytes and no NUL bytes",
                 s.len > 64 ? 64 : (int)s.len, s.ptr, ST_SCRAM_USER_MAX);
        return ST_ERR_UNACCEPTABLE_CREDENTIAL;
    }
    st_str_copy(out, cap, s);
    return 0;
}

/* ---- DescribeUserScramCredentials ---- */

/* One (user, mechanism) of the store, for the describe-everything form. */
typedef struct cred_info {
    char *user;
    int8_t mechanism;
    int32_t iterations;
} cred_info;

typedef struct cred_infos {
    cred_info *items;
    size_t count, cap;
} cred_infos;

static void collect_cred(void *arg, const char *user, const st_scram_credential *cred)
{
    cred_infos *all = arg;
    if (all->count == all->cap) {
        all->cap = all->cap ? all->cap * 2 : 16;
        all->items = realloc(all->items, all->cap * sizeof(*all->items));
        if (all->items == NULL)
            abort(); /* as st_buf */
    }
    char *copy = strdup(user);
    if (copy == NULL)
        abort();
    all->items[all->count++] =
        (cred_info){copy, (int8_t)cred->mechanism, (int32_t)cred->iterations};
}

static void write_cred(st_buf *w, int8_t mechanism, int32_t iterations)
{
    st_buf_put_i8(w, mechanism);
    st_buf_put_i32(w, iterations);
    st_wr_tags(w, true);
}

/* Results for every user of the store (the request named none). The store walks users
 * sorted, so one user's mechanisms are adjacent. */
static void describe_everyone(st_buf *w, const st_credstore *cs)
{
    cred_infos all = {0};
    st_credstore_each(cs, collect_cred, &all);
    int32_t users = 0;
    for (size_t i = 0; i < all.count; i++)
        users += i == 0 || strcmp(all.items[i - 1].user, all.items[i].user) != 0;
    st_wr_array(w, true, users);
    for (size_t i = 0; i < all.count;) {
        size_t end = i + 1;
        while (end < all.count && strcmp(all.items[i].user, all.items[end].user) == 0)
            end++;
        st_wr_str(w, true, all.items[i].user, -1);
        st_buf_put_i16(w, 0);
        st_wr_str(w, true, NULL, -1);
        st_wr_array(w, true, (int32_t)(end - i));
        for (size_t k = i; k < end; k++)
            write_cred(w, all.items[k].mechanism, all.items[k].iterations);
        st_wr_tags(w, true);
        i = end;
    }
    for (size_t i = 0; i < all.count; i++)
        free(all.items[i].user);
    free(all.items);
}

/* The result for one named user. */
static void describe_user(st_buf *w, const st_credstore *cs, st_str name, bool duplicate)
{
    static const st_scram_mech mechs[] = {ST_SCRAM_SHA_256, ST_SCRAM_SHA_512};
    char user[ST_SCRAM_USER_MAX + 1];
    char msg[MSG_LEN] = "";
    st_scram_credential creds[2];
    int32_t found = 0;
    int err = 0;
    if (duplicate) {
        err = ST_ERR_DUPLICATE_RESOURCE;
        snprintf(msg, sizeof(msg), "user \"%.*s\" is named more than once in the request",
                 STR_ARG(name));
    } else if (user_name(name, user, sizeof(user), msg, sizeof(msg)) != 0) {
        err = ST_ERR_RESOURCE_NOT_FOUND; /* no such user can exist */
    } else {
        for (size_t m = 0; m < 2; m++)
            if (st_credstore_lookup(cs, user, mechs[m], &creds[found]) == 0)
                found++;
        if (found == 0) {
            err = ST_ERR_RESOURCE_NOT_FOUND;
            snprintf(msg, sizeof(msg), "user \"%s\" has no SCRAM credentials", user);
        }
    }
    st_wr_str(w, true, name.ptr, name.len < 0 ? 0 : name.len);
    st_buf_put_i16(w, (int16_t)err);
    st_wr_str(w, true, err ? msg : NULL, -1);
    st_wr_array(w, true, err ? 0 : found);
    for (int32_t k = 0; k < (err ? 0 : found); k++)
        write_cred(w, (int8_t)creds[k].mechanism, (int32_t)creds[k].iterations);
    st_wr_tags(w, true);
    /* the lookups copied salts and keys onto the stack: do not leave them there */
    memset(creds, 0, sizeof(creds));
}

st_req_result st_handle_describe_user_scram_credentials(st_req *req)
{
    st_rd *rd = &req->rd;
    st_req_result rc = ST_REQ_DONE;

    /* name, tags: at least 2 bytes each */
    int32_t n = st_rd_array(rd, true, 2);
    st_str *names = calloc(n > 0 ? (size_t)n : 1, sizeof(*names));
    if (names == NULL)
        abort(); /* as st_buf */
    for (int32_t i = 0; i < n && !rd->err; i++) {
        names[i] = st_rd_str(rd, true);
        if (names[i].len < 0)
            rd->err = 1; /* not nullable */
        st_rd_tags(rd, true);
    }
    st_rd_tags(rd, true);
    if (rd->err) {
        rc = ST_REQ_MALFORMED;
        goto out;
    }

    char msg[MSG_LEN] = "";
    int err = 0;
    st_security *sec = req->broker->security;
    if (sec == NULL) {
        err = ST_ERR_UNKNOWN_SERVER_ERROR;
        snprintf(msg, sizeof(msg), "this broker has no security context: no SCRAM users");
    } else if (!st_req_allowed_cluster(req)) {
        err = ST_ERR_CLUSTER_AUTHORIZATION_FAILED;
        snprintf(msg, sizeof(msg),
                 "%s may not describe SCRAM users: that needs DESCRIBE on the cluster",
                 st_req_principal(req));
    }
    if (err != 0)
        st_info("DescribeUserScramCredentials: %s: %s", st_err_name(err), msg);

    st_buf *w = st_resp_buf(req->resp);
    st_buf_put_i32(w, 0); /* throttle_time_ms */
    st_buf_put_i16(w, (int16_t)err);
    st_wr_str(w, true, err ? msg : NULL, -1);
    if (err != 0) {
        st_wr_array(w, true, 0);
    } else if (n <= 0) {
        /* null or empty: every user, as Kafka */
        describe_everyone(w, st_security_credstore(sec));
    } else {
        /* one result per distinct name, sorted (sorting, not a pairwise scan, so a huge
         * list costs n log n); a name given twice gets DUPLICATE_RESOURCE once */
        qsort(names, (size_t)n, sizeof(*names), cmp_names);
        int32_t distinct = 0;
        for (int32_t i = 0; i < n; i++)
            distinct += i == 0 || cmp_str(names[i - 1], names[i]) != 0;
        st_wr_array(w, true, distinct);
        for (int32_t i = 0; i < n;) {
            int32_t end = i + 1;
            while (end < n && cmp_str(names[i], names[end]) == 0)
                end++;
            describe_user(w, st_security_credstore(sec), names[i], end - i > 1);
            i = end;
        }
    }
    st_wr_tags(w, true);
out:
    free(names);
    return rc;
}

/* ---- AlterUserScramCredentials ---- */

/* One deletion or upsertion of the request (strings point into the frame). */
typedef struct alteration {
    st_str user;
    bool upsert;
    int8_t mechanism;
    int32_t iterations;
    st_str salt, salted;
    int32_t index; /* position in the request: keeps the sort stable */
} alteration;

static int cmp_alterations(const void *x, const void *y)
{
    const alteration *a = x, *b = y;
    int c = cmp_str(a->user, b->user);
    if (c != 0)
        return c;
    if (a->mechanism != b->mechanism)
        return a->mechanism < b->mechanism ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

/* A change applied to the store, and what to put back if a later one fails. */
typedef struct undo {
    st_scram_mech mech;
    bool existed;
    st_scram_credential before;
} undo;

/*
 * Checks one user's alterations (alts[0..n), all of the same user, sorted by mechanism)
 * in Kafka's order. 0, or the user's error with msg. On success creds[i] holds the new
 * credential of each upsertion.
 */
static int check_user(const st_credstore *cs, const alteration *alts, size_t n, const char *user,
                      st_scram_credential *creds, char *msg, size_t msglen)
{
    for (size_t i = 0; i < n; i++)
        if (st_scram_mech_name((st_scram_mech)alts[i].mechanism) == NULL) {
            snprintf(msg, msglen,
                     "user \"%s\": unknown SCRAM mechanism %d (1: SCRAM-SHA-256, 2: "
                     "SCRAM-SHA-512)",
                     user, alts[i].mechanism);
            return ST_ERR_UNSUPPORTED_SASL_MECHANISM;
        }
    for (size_t i = 0; i < n; i++)
        if (alts[i].upsert && (alts[i].iterations < ST_SCRAM_MIN_ITERATIONS ||
                               alts[i].iterations > ST_SCRAM_MAX_ITERATIONS)) {
            snprintf(msg, msglen, "user \"%s\": %s with %d iterations: too %s (allowed %d..%d)",
                     user, st_scram_mech_name((st_scram_mech)alts[i].mechanism), alts[i].iterations,
                     alts[i].iterations < ST_SCRAM_MIN_ITERATIONS ? "few" : "many",
                     ST_SCRAM_MIN_ITERATIONS, ST_SCRAM_MAX_ITERATIONS);
            return ST_ERR_UNACCEPTABLE_CREDENTIAL;
        }
    for (size_t i = 1; i < n; i++)
        if (alts[i].mechanism == alts[i - 1].mechanism) {
            snprintf(msg, msglen,
                     "user \"%s\": the %s credential is altered more than once in the request",
                     user, st_scram_mech_name((st_scram_mech)alts[i].mechanism));
            return ST_ERR_DUPLICATE_RESOURCE;
        }
    for (size_t i = 0; i < n; i++) {
        st_scram_mech mech = (st_scram_mech)alts[i].mechanism;
        if (alts[i].upsert) {
            char why[MSG_LEN];
            if (alts[i].salt.len < 0 || alts[i].salted.len < 0 ||
                st_scram_credential_from_salted(
                    mech, (const uint8_t *)alts[i].salt.ptr, (size_t)alts[i].salt.len,
                    alts[i].iterations, (const uint8_t *)alts[i].salted.ptr,
                    (size_t)alts[i].salted.len, &creds[i], why, sizeof(why)) != 0) {
                snprintf(msg, msglen, "user \"%.64s\": %s credential refused: %.200s", user,
                         st_scram_mech_name(mech),
                         alts[i].salt.len < 0 || alts[i].salted.len < 0
                             ? "salt and salted password may not be null"
                             : why);
                return ST_ERR_UNACCEPTABLE_CREDENTIAL;
            }
        } else {
            st_scram_credential old;
            int found = st_credstore_lookup(cs, user, mech, &old) == 0;
            memset(&old, 0, sizeof(old));
            if (!found) {
                snprintf(msg, msglen, "user \"%s\" has no %s credential to delete", user,
                         st_scram_mech_name(mech));
                return ST_ERR_RESOURCE_NOT_FOUND;
            }
        }
    }
    return 0;
}

/* Applies one user's checked alterations; all or nothing: a failed write puts back
 * what the earlier ones changed. */
static int apply_user(st_credstore *cs, const alteration *alts, size_t n, const char *user,
                      const st_scram_credential *creds, char *msg, size_t msglen)
{
    undo undos[2]; /* at most one alteration per mechanism once checked */
    size_t done = 0;
    int rc = 0;
    for (size_t i = 0; i < n && i < 2; i++) {
        st_scram_mech mech = (st_scram_mech)alts[i].mechanism;
        undo *u = &undos[done];
        u->mech = mech;
        u->existed = st_credstore_lookup(cs, user, mech, &u->before) == 0;
        rc = alts[i].upsert ? st_credstore_set(cs, user, &creds[i], msg, msglen)
                            : st_credstore_remove(cs, user, mech, msg, msglen);
        if (rc != 0)
            break;
        done++;
    }
    if (rc != 0) {
        while (done-- > 0) {
            char why[MSG_LEN];
            undo *u = &undos[done];
            int urc = u->existed ? st_credstore_set(cs, user, &u->before, why, sizeof(why))
                                 : st_credstore_remove(cs, user, u->mech, why, sizeof(why));
            if (urc != 0)
                st_error("AlterUserScramCredentials: user \"%s\": could not undo the %s change "
                         "after a failure: %s",
                         user, st_scram_mech_name(u->mech), why);
        }
        if (rc == ST_ERR__IO)
            rc = ST_ERR_KAFKA_STORAGE_ERROR;
        else if (rc == ST_ERR__NOMEM || rc < ST_ERR_UNKNOWN_SERVER_ERROR)
            rc = ST_ERR_UNKNOWN_SERVER_ERROR;
    }
    memset(undos, 0, sizeof(undos));
    return rc;
}

st_req_result st_handle_alter_user_scram_credentials(st_req *req)
{
    st_rd *rd = &req->rd;
    st_req_result rc = ST_REQ_DONE;
    alteration *alts = NULL;
    st_scram_credential *creds = NULL;

    /* deletion: name, mechanism, tags (3 bytes); upsertion: name, mechanism, iterations,
     * salt, salted password, tags (9 bytes) */
    int32_t ndel = st_rd_array(rd, true, 3);
    int32_t ntotal = ndel > 0 ? ndel : 0;
    alts = calloc((size_t)ntotal + 1, sizeof(*alts));
    if (alts == NULL)
        abort(); /* as st_buf */
    for (int32_t i = 0; i < ndel && !rd->err; i++) {
        alts[i] = (alteration){.user = st_rd_str(rd, true), .index = i};
        alts[i].mechanism = st_rd_i8(rd);
        st_rd_tags(rd, true);
        if (alts[i].user.len < 0)
            rd->err = 1; /* not nullable */
    }
    int32_t nups = st_rd_array(rd, true, 9);
    if (nups > 0 && !rd->err) {
        alteration *grown = realloc(alts, ((size_t)ntotal + (size_t)nups + 1) * sizeof(*alts));
        if (grown == NULL)
            abort();
        alts = grown;
    }
    for (int32_t i = 0; i < nups && !rd->err; i++) {
        alteration *a = &alts[ntotal + i];
        *a = (alteration){.user = st_rd_str(rd, true), .upsert = true, .index = ntotal + i};
        a->mechanism = st_rd_i8(rd);
        a->iterations = st_rd_i32(rd);
        a->salt = st_rd_bytes(rd, true);
        a->salted = st_rd_bytes(rd, true);
        st_rd_tags(rd, true);
        if (a->user.len < 0)
            rd->err = 1;
    }
    st_rd_tags(rd, true);
    if (rd->err) {
        rc = ST_REQ_MALFORMED;
        goto out;
    }
    ntotal += nups > 0 ? nups : 0;
    creds = calloc((size_t)ntotal + 1, sizeof(*creds));
    if (creds == NULL)
        abort();
    qsort(alts, (size_t)ntotal, sizeof(*alts), cmp_alterations);

    char denied[MSG_LEN] = "";
    int request_err = 0;
    st_security *sec = req->broker->security;
    if (sec == NULL) {
        request_err = ST_ERR_UNKNOWN_SERVER_ERROR;
        snprintf(denied, sizeof(denied), "this broker has no security context: no SCRAM users");
    } else if (!st_req_allowed_cluster(req)) {
        request_err = ST_ERR_CLUSTER_AUTHORIZATION_FAILED;
        snprintf(denied, sizeof(denied),
                 "%s may not alter SCRAM users: that needs ALTER on the cluster",
                 st_req_principal(req));
    }
    st_credstore *cs = sec ? st_security_credstore(sec) : NULL;

    st_buf *w = st_resp_buf(req->resp);
    st_buf_put_i32(w, 0); /* throttle_time_ms */
    int32_t users = 0;
    for (int32_t i = 0; i < ntotal; i++)
        users += i == 0 || cmp_str(alts[i - 1].user, alts[i].user) != 0;
    st_wr_array(w, true, users);
    for (int32_t i = 0; i < ntotal;) {
        int32_t end = i + 1;
        while (end < ntotal && cmp_str(alts[i].user, alts[end].user) == 0)
            end++;
        char user[ST_SCRAM_USER_MAX + 1] = "";
        char msg[MSG_LEN] = "";
        int err = request_err;
        if (err != 0)
            snprintf(msg, sizeof(msg), "%s", denied);
        else if ((err = user_name(alts[i].user, user, sizeof(user), msg, sizeof(msg))) == 0 &&
                 (err = check_user(cs, &alts[i], (size_t)(end - i), user, &creds[i], msg,
                                   sizeof(msg))) == 0)
            err = apply_user(cs, &alts[i], (size_t)(end - i), user, &creds[i], msg, sizeof(msg));
        if (err != 0)
            st_info("AlterUserScramCredentials: %s: %s", st_err_name(err), msg);
        else
            st_info("AlterUserScramCredentials: user \"%s\": %d credential change(s) by %s", user,
                    end - i, st_req_principal(req));
        st_wr_str(w, true, alts[i].user.ptr, alts[i].user.len);
        st_buf_put_i16(w, (int16_t)err);
        st_wr_str(w, true, err ? msg : NULL, -1);
        st_wr_tags(w, true);
        i = end;
    }
    st_wr_tags(w, true);
out:
    /* SaltedPassword is a password equivalent: wipe it from the request frame (owned by
     * req, freed by dispatch) and from our copies rather than leave it in freed memory */
    for (int32_t i = 0; alts && !rd->err && i < ntotal; i++)
        if (alts[i].salted.len > 0)
            memset((void *)alts[i].salted.ptr, 0, (size_t)alts[i].salted.len);
    if (creds != NULL) {
        memset(creds, 0, ((size_t)ntotal + 1) * sizeof(*creds));
        free(creds);
    }
    free(alts);
    return rc;
}
