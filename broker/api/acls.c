/*
 * DescribeAcls (29), CreateAcls (30) and DeleteAcls (31), v0..1, not flexible.
 *
 * The ACL store (auth/acl.h) holds the rules; this file speaks the wire format, checks
 * that the caller may manage ACLs (DESCRIBE on the cluster to list them, ALTER to change
 * them, as Kafka) and wraps every change in one st_security_begin / st_security_commit
 * transaction per request: all of a request's creations or deletions reach
 * security.json in one atomic write, and if that write fails every change of the request
 * is undone and answered with the storage error, so a client never sees an ACL reported
 * created that a restart would lose.
 *
 * Version 0 has no pattern type on the wire: its bindings and filters are LITERAL
 * (Kafka's default 3), so a v0 client neither sees nor deletes PREFIXED bindings it could
 * not represent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/acl.h"
#include "broker/broker_int.h"
#include "broker/security/security.h"
#include "common/errors.h"
#include "common/logging.h"

#define MSG_LEN 320

/* A request string as a C string (a new malloc'd copy, NULL for a null string); *has_nul
 * set when the wire bytes hold a NUL, which would silently shorten the name. */
static char *dup_checked(st_str s, bool *has_nul)
{
    if (s.len > 0 && memchr(s.ptr, 0, (size_t)s.len))
        *has_nul = true;
    return st_str_dup(s);
}

/* One filter of DescribeAcls / DeleteAcls, its strings owned. */
typedef struct wire_filter {
    st_acl_filter f;
    char *name, *principal, *host;
    bool has_nul;
} wire_filter;

static void read_filter(st_rd *rd, int16_t version, wire_filter *w)
{
    w->f.resource_type = (st_acl_resource_type)st_rd_i8(rd);
    w->name = dup_checked(st_rd_str(rd, false), &w->has_nul);
    w->f.pattern_type = version >= 1 ? (st_acl_pattern_type)st_rd_i8(rd) : ST_ACL_PATTERN_LITERAL;
    w->principal = dup_checked(st_rd_str(rd, false), &w->has_nul);
    w->host = dup_checked(st_rd_str(rd, false), &w->has_nul);
    w->f.operation = (st_acl_operation)st_rd_i8(rd);
    w->f.permission = (st_acl_permission)st_rd_i8(rd);
    w->f.resource_name = w->name;
    w->f.principal = w->principal;
    w->f.host = w->host;
}

static void filter_free(wire_filter *w)
{
    free(w->name);
    free(w->principal);
    free(w->host);
}

/* The security context, or NULL with an error in msg (a broker built without one). */
static st_security *security_of(const st_req *req, char *msg, size_t msglen)
{
    if (req->broker->security == NULL)
        snprintf(msg, msglen, "this broker has no security context: ACLs are unavailable");
    return req->broker->security;
}

/* ---- DescribeAcls ---- */

static int cmp_bindings(const void *x, const void *y)
{
    const st_acl_binding *a = x, *b = y;
    if (a->resource_type != b->resource_type)
        return a->resource_type < b->resource_type ? -1 : 1;
    if (a->pattern_type != b->pattern_type)
        return a->pattern_type < b->pattern_type ? -1 : 1;
    int c = strcmp(a->resource_name, b->resource_name);
    if (c != 0)
        return c;
    if ((c = strcmp(a->principal, b->principal)) != 0)
        return c;
    if ((c = strcmp(a->host, b->host)) != 0)
        return c;
    if (a->operation != b->operation)
        return a->operation < b->operation ? -1 : 1;
    return (a->permission > b->permission) - (a->permission < b->permission);
}

static bool same_resource(const st_acl_binding *a, const st_acl_binding *b)
{
    return a->resource_type == b->resource_type && a->pattern_type == b->pattern_type &&
           strcmp(a->resource_name, b->resource_name) == 0;
}

/* Writes the Resources array: bindings grouped by resource pattern, as Kafka answers. The
 * list is sorted in place. */
static void write_resources(st_buf *w, int16_t version, st_acl_list *list)
{
    if (list->count > 1)
        qsort(list->items, list->count, sizeof(*list->items), cmp_bindings);
    int32_t groups = 0;
    for (size_t i = 0; i < list->count; i++)
        groups += i == 0 || !same_resource(&list->items[i - 1], &list->items[i]);
    st_wr_array(w, false, groups);
    for (size_t i = 0; i < list->count;) {
        size_t end = i + 1;
        while (end < list->count && same_resource(&list->items[i], &list->items[end]))
            end++;
        const st_acl_binding *r = &list->items[i];
        st_buf_put_i8(w, (int8_t)r->resource_type);
        st_wr_str(w, false, r->resource_name, -1);
        if (version >= 1)
            st_buf_put_i8(w, (int8_t)r->pattern_type);
        st_wr_array(w, false, (int32_t)(end - i));
        for (; i < end; i++) {
            const st_acl_binding *b = &list->items[i];
            st_wr_str(w, false, b->principal, -1);
            st_wr_str(w, false, b->host, -1);
            st_buf_put_i8(w, (int8_t)b->operation);
            st_buf_put_i8(w, (int8_t)b->permission);
        }
    }
}

st_req_result st_handle_describe_acls(st_req *req)
{
    st_rd *rd = &req->rd;
    int16_t v = req->api_version;
    wire_filter wf = {0};
    st_acl_list list = {0};
    char msg[MSG_LEN] = "";
    st_req_result rc = ST_REQ_DONE;

    read_filter(rd, v, &wf);
    if (rd->err) {
        rc = ST_REQ_MALFORMED;
        goto out;
    }

    int err = 0;
    st_security *sec = security_of(req, msg, sizeof(msg));
    if (sec == NULL) {
        err = ST_ERR_UNKNOWN_SERVER_ERROR;
    } else if (!st_req_allowed_cluster(req)) {
        err = ST_ERR_CLUSTER_AUTHORIZATION_FAILED;
        snprintf(msg, sizeof(msg), "%s may not describe ACLs: that needs DESCRIBE on the cluster",
                 st_req_principal(req));
    } else if (wf.has_nul) {
        err = ST_ERR_INVALID_REQUEST;
        snprintf(msg, sizeof(msg), "ACL filter strings may not contain NUL bytes");
    } else {
        err = st_acl_describe(st_security_acls(sec), &wf.f, &list, msg, sizeof(msg));
        if (err == ST_ERR__NOMEM) {
            err = ST_ERR_UNKNOWN_SERVER_ERROR;
            snprintf(msg, sizeof(msg), "out of memory listing ACLs");
        }
    }
    if (err != 0) {
        st_info("DescribeAcls: %s: %s", st_err_name(err), msg);
        st_acl_list_free(&list);
    }

    st_buf *w = st_resp_buf(req->resp);
    st_buf_put_i32(w, 0); /* throttle_time_ms */
    st_buf_put_i16(w, (int16_t)err);
    st_wr_str(w, false, err ? msg : NULL, -1);
    write_resources(w, v, &list);
out:
    st_acl_list_free(&list);
    filter_free(&wf);
    return rc;
}

/* ---- CreateAcls ---- */

/* One creation of a request and its outcome. */
typedef struct creation {
    st_acl_binding b;
    char *name, *principal, *host; /* owned; b points at them */
    bool has_nul;
    int err;
    char msg[MSG_LEN];
} creation;

static void creations_free(creation *c, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        free(c[i].name);
        free(c[i].principal);
        free(c[i].host);
    }
    free(c);
}

/* Fails every creation still successful with err and msg (a request-wide failure). */
static void fail_all_creations(creation *c, int32_t n, int err, const char *msg)
{
    for (int32_t i = 0; i < n; i++)
        if (c[i].err == 0) {
            c[i].err = err;
            snprintf(c[i].msg, sizeof(c[i].msg), "%s", msg);
        }
}

/* Adds the request's valid bindings in one transaction. */
static void create_all(st_req *req, creation *c, int32_t n)
{
    char msg[MSG_LEN] = "";
    st_security *sec = security_of(req, msg, sizeof(msg));
    if (sec == NULL) {
        fail_all_creations(c, n, ST_ERR_UNKNOWN_SERVER_ERROR, msg);
        return;
    }
    if (!st_req_allowed_cluster(req)) {
        snprintf(msg, sizeof(msg), "%s may not create ACLs: that needs ALTER on the cluster",
                 st_req_principal(req));
        fail_all_creations(c, n, ST_ERR_CLUSTER_AUTHORIZATION_FAILED, msg);
        return;
    }
    /* each creation succeeds or fails on its own, as in Kafka */
    for (int32_t i = 0; i < n; i++) {
        if (c[i].has_nul) {
            c[i].err = ST_ERR_INVALID_REQUEST;
            snprintf(c[i].msg, sizeof(c[i].msg), "ACL strings may not contain NUL bytes");
            continue;
        }
        c[i].err = st_acl_binding_validate(&c[i].b, c[i].msg, sizeof(c[i].msg));
    }
    json_t *snapshot = st_security_begin(sec);
    if (snapshot == NULL) {
        fail_all_creations(c, n, ST_ERR_UNKNOWN_SERVER_ERROR, "out of memory creating ACLs");
        return;
    }
    st_acl_store *acls = st_security_acls(sec);
    int32_t added = 0;
    for (int32_t i = 0; i < n; i++) {
        if (c[i].err != 0)
            continue;
        c[i].err = st_acl_add(acls, &c[i].b, c[i].msg, sizeof(c[i].msg));
        if (c[i].err == ST_ERR__NOMEM) {
            c[i].err = ST_ERR_UNKNOWN_SERVER_ERROR;
            snprintf(c[i].msg, sizeof(c[i].msg), "out of memory creating the ACL");
        }
        added += c[i].err == 0;
    }
    if (added == 0) {
        st_security_rollback(sec, snapshot);
        return;
    }
    if (st_security_commit(sec, snapshot, msg, sizeof(msg)) != 0) {
        /* commit restored the snapshot: none of the request's ACLs exist now */
        st_error("CreateAcls: could not persist %d ACL(s), undone: %s", added, msg);
        fail_all_creations(c, n, ST_ERR_KAFKA_STORAGE_ERROR, msg);
        return;
    }
    for (int32_t i = 0; i < n; i++)
        if (c[i].err == 0)
            st_info("CreateAcls: %s %s %s on %s %s \"%s\" from host %s (by %s)",
                    st_acl_permission_name(c[i].b.permission), c[i].b.principal,
                    st_acl_operation_name(c[i].b.operation),
                    st_acl_resource_type_name(c[i].b.resource_type),
                    st_acl_pattern_type_name(c[i].b.pattern_type), c[i].b.resource_name,
                    c[i].b.host, st_req_principal(req));
}

st_req_result st_handle_create_acls(st_req *req)
{
    st_rd *rd = &req->rd;
    int16_t v = req->api_version;
    st_req_result rc = ST_REQ_DONE;

    /* type, name, [pattern], principal, host, operation, permission: at least 9 bytes */
    int32_t n = st_rd_array(rd, false, v >= 1 ? 10 : 9);
    if (n < 0)
        return ST_REQ_MALFORMED; /* creations is not nullable (CreateAclsRequest.json) */
    creation *c = calloc(n > 0 ? (size_t)n : 1, sizeof(*c));
    if (c == NULL)
        abort(); /* as st_buf */
    int32_t nread = 0;
    for (int32_t i = 0; i < n && !rd->err; i++, nread++) {
        creation *x = &c[i];
        x->b.resource_type = (st_acl_resource_type)st_rd_i8(rd);
        x->name = dup_checked(st_rd_str(rd, false), &x->has_nul);
        x->b.pattern_type = v >= 1 ? (st_acl_pattern_type)st_rd_i8(rd) : ST_ACL_PATTERN_LITERAL;
        x->principal = dup_checked(st_rd_str(rd, false), &x->has_nul);
        x->host = dup_checked(st_rd_str(rd, false), &x->has_nul);
        x->b.operation = (st_acl_operation)st_rd_i8(rd);
        x->b.permission = (st_acl_permission)st_rd_i8(rd);
        x->b.resource_name = x->name;
        x->b.principal = x->principal;
        x->b.host = x->host;
    }
    if (rd->err) {
        rc = ST_REQ_MALFORMED;
        goto out;
    }

    create_all(req, c, n);
    st_buf *w = st_resp_buf(req->resp);
    st_buf_put_i32(w, 0); /* throttle_time_ms */
    st_wr_array(w, false, n);
    for (int32_t i = 0; i < n; i++) {
        if (c[i].err != 0)
            st_info("CreateAcls: creation %d: %s: %s", i, st_err_name(c[i].err), c[i].msg);
        st_buf_put_i16(w, (int16_t)c[i].err);
        st_wr_str(w, false, c[i].err ? c[i].msg : NULL, -1);
    }
out:
    creations_free(c, nread);
    return rc;
}

/* ---- DeleteAcls ---- */

/* One filter of a request and what it removed. */
typedef struct deletion {
    wire_filter wf;
    st_acl_list removed;
    int err;
    char msg[MSG_LEN];
} deletion;

static void fail_all_deletions(deletion *d, int32_t n, int err, const char *msg)
{
    for (int32_t i = 0; i < n; i++)
        if (d[i].err == 0) {
            d[i].err = err;
            snprintf(d[i].msg, sizeof(d[i].msg), "%s", msg);
            st_acl_list_free(&d[i].removed); /* undone: nothing was deleted */
        }
}

/* Applies the filters in order, in one transaction: a binding two filters select is
 * removed by (and reported under) the first, as in Kafka. */
static void delete_all(st_req *req, deletion *d, int32_t n)
{
    char msg[MSG_LEN] = "";
    st_security *sec = security_of(req, msg, sizeof(msg));
    if (sec == NULL) {
        fail_all_deletions(d, n, ST_ERR_UNKNOWN_SERVER_ERROR, msg);
        return;
    }
    if (!st_req_allowed_cluster(req)) {
        snprintf(msg, sizeof(msg), "%s may not delete ACLs: that needs ALTER on the cluster",
                 st_req_principal(req));
        fail_all_deletions(d, n, ST_ERR_CLUSTER_AUTHORIZATION_FAILED, msg);
        return;
    }
    json_t *snapshot = st_security_begin(sec);
    if (snapshot == NULL) {
        fail_all_deletions(d, n, ST_ERR_UNKNOWN_SERVER_ERROR, "out of memory deleting ACLs");
        return;
    }
    st_acl_store *acls = st_security_acls(sec);
    size_t removed = 0;
    for (int32_t i = 0; i < n; i++) {
        if (d[i].wf.has_nul) {
            d[i].err = ST_ERR_INVALID_REQUEST;
            snprintf(d[i].msg, sizeof(d[i].msg), "ACL filter strings may not contain NUL bytes");
            continue;
        }
        d[i].err = st_acl_remove(acls, &d[i].wf.f, &d[i].removed, d[i].msg, sizeof(d[i].msg));
        if (d[i].err == ST_ERR__NOMEM) {
            d[i].err = ST_ERR_UNKNOWN_SERVER_ERROR;
            snprintf(d[i].msg, sizeof(d[i].msg), "out of memory deleting ACLs");
        }
        if (d[i].err != 0)
            st_acl_list_free(&d[i].removed);
        removed += d[i].removed.count;
    }
    if (removed == 0) {
        st_security_rollback(sec, snapshot);
        return;
    }
    if (st_security_commit(sec, snapshot, msg, sizeof(msg)) != 0) {
        st_error("DeleteAcls: could not persist the removal of %zu ACL(s), undone: %s", removed,
                 msg);
        fail_all_deletions(d, n, ST_ERR_KAFKA_STORAGE_ERROR, msg);
        return;
    }
    st_info("DeleteAcls: %zu ACL(s) removed by %s", removed, st_req_principal(req));
}

st_req_result st_handle_delete_acls(st_req *req)
{
    st_rd *rd = &req->rd;
    int16_t v = req->api_version;
    st_req_result rc = ST_REQ_DONE;

    /* type, name, [pattern], principal, host, operation, permission: at least 9 bytes */
    int32_t n = st_rd_array(rd, false, v >= 1 ? 10 : 9);
    if (n < 0)
        return ST_REQ_MALFORMED; /* filters is not nullable (DeleteAclsRequest.json) */
    deletion *d = calloc(n > 0 ? (size_t)n : 1, sizeof(*d));
    if (d == NULL)
        abort(); /* as st_buf */
    int32_t nread = 0;
    for (int32_t i = 0; i < n && !rd->err; i++, nread++)
        read_filter(rd, v, &d[i].wf);
    if (rd->err) {
        rc = ST_REQ_MALFORMED;
        goto out;
    }

    delete_all(req, d, n);
    st_buf *w = st_resp_buf(req->resp);
    st_buf_put_i32(w, 0); /* throttle_time_ms */
    st_wr_array(w, false, n);
    for (int32_t i = 0; i < n; i++) {
        if (d[i].err != 0)
            st_info("DeleteAcls: filter %d: %s: %s", i, st_err_name(d[i].err), d[i].msg);
        st_buf_put_i16(w, (int16_t)d[i].err);
        st_wr_str(w, false, d[i].err ? d[i].msg : NULL, -1);
        st_wr_array(w, false, (int32_t)d[i].removed.count);
        for (size_t k = 0; k < d[i].removed.count; k++) {
            const st_acl_binding *b = &d[i].removed.items[k];
            st_buf_put_i16(w, 0); /* this binding's deletion succeeded */
            st_wr_str(w, false, NULL, -1);
            st_buf_put_i8(w, (int8_t)b->resource_type);
            st_wr_str(w, false, b->resource_name, -1);
            if (v >= 1)
                st_buf_put_i8(w, (int8_t)b->pattern_type);
            st_wr_str(w, false, b->principal, -1);
            st_wr_str(w, false, b->host, -1);
            st_buf_put_i8(w, (int8_t)b->operation);
            st_buf_put_i8(w, (int8_t)b->permission);
        }
    }
out:
    for (int32_t i = 0; i < nread; i++) {
        filter_free(&d[i].wf);
        st_acl_list_free(&d[i].removed);
    }
    free(d);
    return rc;
}
