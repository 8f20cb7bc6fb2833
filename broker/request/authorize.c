/*
 * Authorization on the request path: the request's principal and host (its session)
 * against the security context, with the operation its table row names (request.h).
 * The decision itself is the security context's (st_security_authorize).
 */
#include <string.h>

#include "broker/request/request_int.h"
#include "broker/security/security.h"
#include "common/logging.h"

#define CLUSTER_NAME ST_ACL_CLUSTER_NAME

const char *st_req_principal(const st_req *req)
{
    const st_session *s = st_req_session(req);
    return s && s->principal[0] ? s->principal : ST_PRINCIPAL_ANONYMOUS;
}

bool st_req_allowed_to(const st_req *req, st_acl_operation op, st_acl_resource_type type,
                       const char *name, size_t len)
{
    const st_session *s = st_req_session(req);
    st_security *sec = req->pipeline ? req->pipeline->cfg.security : NULL;
    if (!s || !sec || !st_security_authorizer_enabled(sec))
        return true;
    st_acl_decision d;
    bool ok = st_security_authorize(sec, st_req_principal(req), s->host, op, type, name, len, &d);
    if (!ok && req->pipeline->cfg.quota) /* per-tenant denial counts (console, usage) */
        st_bquota_note_denial(req->pipeline->cfg.quota, s->user);
    if (!ok && st_logging_enabled(ST_LOG_DEBUG)) {
        char why[512];
        st_acl_decision_format(&d, why, sizeof why);
        st_debug("%s %s: %s %s on %s \"%.*s\" denied: %s", req->api->name, st_req_principal(req),
                 s->host, st_acl_operation_name(op), st_acl_resource_type_name(type),
                 (int)(len > 200 ? 200 : len), name, why);
    }
    return ok;
}

bool st_req_allowed(const st_req *req, const char *name, size_t len)
{
    return st_req_allowed_to(req, req->api->acl_op, req->api->acl_resource, name, len);
}

bool st_req_allowed_cluster_to(const st_req *req, st_acl_operation op)
{
    return st_req_allowed_to(req, op, ST_ACL_RESOURCE_CLUSTER, CLUSTER_NAME, strlen(CLUSTER_NAME));
}

bool st_req_allowed_cluster(const st_req *req)
{
    return st_req_allowed_cluster_to(req, req->api->acl_op);
}
