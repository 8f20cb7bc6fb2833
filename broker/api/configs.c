/*
 * DescribeConfigs (32, v0..2) and AlterConfigs (33, v0..1).
 *
 * Two resource types exist here: TOPIC (2), whose configs are the registry's
 * overrides over the broker defaults, and BROKER (4), whose log.* defaults come from
 * the config file and so are read-only at run time. The config table itself lives in
 * broker/cluster/topic_config.c; this file only speaks the wire format.
 *
 * Authorization (Kafka's): DescribeConfigs needs DESCRIBE_CONFIGS, AlterConfigs
 * ALTER_CONFIGS, on the topic (else TOPIC_AUTHORIZATION_FAILED, before the name is even
 * looked at, so existence is never revealed) or, for the broker, on the cluster (else
 * CLUSTER_AUTHORIZATION_FAILED).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"
#include "broker/security/security.h"
#include "common/errors.h"
#include "common/logging.h"

#define RESOURCE_TOPIC  2
#define RESOURCE_BROKER 4

/* ConfigSource values (DescribeConfigs v1+). */
#define SOURCE_TOPIC         1
#define SOURCE_STATIC_BROKER 4
#define SOURCE_DEFAULT       5

#define MSG_LEN 320

/* One resource of a request. */
typedef struct resource {
    int8_t type;
    st_str name;
    int32_t nkeys; /* DescribeConfigs: -1 = every config */
    st_str *keys;
    st_config_set *configs; /* AlterConfigs: malloc'd names and values */
    int32_t nconfigs;
    bool has_nul; /* a config name or value held a NUL byte */
} resource;

static void resources_free(resource *r, int32_t n)
{
    for (int32_t i = 0; i < n; i++) {
        free(r[i].keys);
        for (int32_t k = 0; k < r[i].nconfigs; k++) {
            free((char *)r[i].configs[k].name);
            free((char *)r[i].configs[k].value);
        }
        free(r[i].configs);
    }
    free(r);
}

static resource *resources_new(int32_t n)
{
    resource *r = calloc(n > 0 ? (size_t)n : 1, sizeof(*r));
    if (r == NULL)
        abort(); /* as st_buf */
    return r;
}

/* Checks that a broker resource names this broker: "" (the default) or our id. */
static int check_broker_name(const st_broker *b, st_str name, char *msg, size_t msglen)
{
    char id[16];
    snprintf(id, sizeof(id), "%d", b->cfg.node_id);
    if (name.len == 0 || st_str_eq(name, id))
        return 0;
    snprintf(msg, msglen, "unexpected broker id \"%.*s\": this is broker %s (or use \"\")",
             name.len > 0 ? (int)name.len : 0, name.ptr ? name.ptr : "", id);
    return ST_ERR_INVALID_REQUEST;
}

/* A topic resource's name, NUL-terminated, or INVALID_TOPIC_EXCEPTION saying why it
 * cannot be one (the wire length decides: a NUL inside must not shorten the name). */
static int topic_name(st_str name, char *out, size_t cap, char *msg, size_t msglen)
{
    int rc = st_topic_name_check(name.ptr, (size_t)name.len, msg, msglen);
    if (rc == 0 && !st_str_copy(out, cap, name)) {
        snprintf(msg, msglen, "topic name is too long");
        rc = ST_ERR_INVALID_TOPIC_EXCEPTION;
    }
    return rc;
}

/* May the caller `op` the resource? 0, or the authorization error with msg set. Other
 * resource types are left to the handler, which refuses them. */
static int authorize_resource(const st_req *req, const resource *r, st_acl_operation op, char *msg,
                              size_t msglen)
{
    if (r->type == RESOURCE_TOPIC &&
        !st_authorize(req, op, ST_ACL_RESOURCE_TOPIC, r->name.ptr ? r->name.ptr : "",
                      r->name.len > 0 ? (size_t)r->name.len : 0)) {
        snprintf(msg, msglen, "topic \"%.*s\": %s is not authorized: it needs %s on the topic",
                 r->name.len > 0 ? (int)r->name.len : 0, r->name.ptr ? r->name.ptr : "",
                 st_req_principal(req), st_acl_operation_name(op));
        return ST_ERR_TOPIC_AUTHORIZATION_FAILED;
    }
    if (r->type == RESOURCE_BROKER && !st_authorize_cluster(req, op)) {
        snprintf(msg, msglen, "broker configs: %s is not authorized: it needs %s on the cluster",
                 st_req_principal(req), st_acl_operation_name(op));
        return ST_ERR_CLUSTER_AUTHORIZATION_FAILED;
    }
    return 0;
}

/* ---- DescribeConfigs ---- */

static bool key_wanted(const resource *r, const char *name)
{
    if (r->nkeys < 0)
        return true;
    for (int32_t k = 0; k < r->nkeys; k++)
        if (st_str_eq(r->keys[k], name))
            return true;
    return false;
}

/* Looks up the configs of one resource. On success *descs is a new array and *sources
 * (same length) the ConfigSource of each. */
static int describe_one(st_broker *b, const resource *r, st_config_desc **descs, int8_t **sources,
                        size_t *n, char *msg, size_t msglen)
{
    st_config_desc *defaults = NULL;
    size_t ndefaults = 0;
    int rc;
    *descs = NULL;
    *sources = NULL;
    *n = 0;
    if (r->type == RESOURCE_BROKER) {
        if ((rc = check_broker_name(b, r->name, msg, msglen)) != 0)
            return rc;
        if ((rc = st_topics_describe_defaults(b->topics, descs, n)) != 0)
            goto nomem;
        *sources = calloc(*n ? *n : 1, sizeof(**sources));
        if (*sources == NULL)
            goto nomem;
        for (size_t i = 0; i < *n; i++)
            (*sources)[i] = (*descs)[i].is_default ? SOURCE_DEFAULT : SOURCE_STATIC_BROKER;
        return 0;
    }
    if (r->type != RESOURCE_TOPIC) {
        snprintf(msg, msglen,
                 "resource type %d is not supported: only topics (2) and brokers (4) have "
                 "configs here",
                 r->type);
        return ST_ERR_INVALID_REQUEST;
    }
    char name[256];
    if ((rc = topic_name(r->name, name, sizeof(name), msg, msglen)) != 0)
        return rc;
    rc = st_topics_describe_configs(b->topics, name, descs, n);
    if (rc == ST_ERR_UNKNOWN_TOPIC_OR_PARTITION) {
        snprintf(msg, msglen, "topic \"%s\" does not exist", name);
        return rc;
    }
    if (rc != 0 || st_topics_describe_defaults(b->topics, &defaults, &ndefaults) != 0)
        goto nomem;
    *sources = calloc(*n ? *n : 1, sizeof(**sources));
    if (*sources == NULL)
        goto nomem;
    /* Both lists come from the same table in the same order, so entry i of the
     * broker defaults is the broker-wide setting behind topic config i. */
    for (size_t i = 0; i < *n; i++) {
        if (!(*descs)[i].is_default)
            (*sources)[i] = SOURCE_TOPIC;
        else if (i < ndefaults && !defaults[i].is_default)
            (*sources)[i] = SOURCE_STATIC_BROKER;
        else
            (*sources)[i] = SOURCE_DEFAULT;
    }
    free(defaults);
    return 0;
nomem:
    free(defaults);
    free(*descs);
    *descs = NULL;
    *n = 0;
    snprintf(msg, msglen, "out of memory describing configs");
    return ST_ERR_UNKNOWN_SERVER_ERROR;
}

int st_handle_describe_configs(st_req *req)
{
    st_broker *b = req->broker;
    st_rd *rd = &req->rd;
    bool flex = req->flex;
    int16_t v = req->api_version;
    int rc = ST_REQ_DONE;

    /* type, name, keys: at least 7 bytes */
    int32_t n = st_rd_array(rd, flex, 7);
    resource *res = resources_new(n);
    for (int32_t i = 0; i < n && !rd->err; i++) {
        res[i].type = st_rd_i8(rd);
        res[i].name = st_rd_str(rd, flex);
        if (res[i].name.len < 0)
            rd->err = 1; /* not nullable */
        res[i].nkeys = st_rd_array(rd, flex, 2);
        if (res[i].nkeys > 0) {
            res[i].keys = calloc((size_t)res[i].nkeys, sizeof(*res[i].keys));
            if (res[i].keys == NULL)
                abort(); /* as st_buf */
        }
        for (int32_t k = 0; k < res[i].nkeys; k++)
            if ((res[i].keys[k] = st_rd_str(rd, flex)).len < 0)
                rd->err = 1;
        st_rd_tags(rd, flex);
    }
    if (v >= 1)
        st_rd_bool(rd); /* include_synonyms: we have none to show */
    st_rd_tags(rd, flex);
    if (rd->err) {
        rc = ST_ERR__MALFORMED;
        goto out;
    }

    st_buf *w = st_resp_buf(req->resp);
    st_buf_put_i32(w, 0); /* throttle_time_ms */
    st_wr_array(w, flex, n);
    for (int32_t i = 0; i < n; i++) {
        const resource *r = &res[i];
        st_config_desc *descs = NULL;
        int8_t *sources = NULL;
        size_t nd = 0;
        char msg[MSG_LEN] = "";
        int err = authorize_resource(req, r, ST_ACL_OP_DESCRIBE_CONFIGS, msg, sizeof(msg));
        if (err == 0)
            err = describe_one(b, r, &descs, &sources, &nd, msg, sizeof(msg));
        if (err != 0)
            st_info("DescribeConfigs: %s: %s", st_err_name(err), msg);
        st_buf_put_i16(w, (int16_t)err);
        st_wr_str(w, flex, err ? msg : NULL, -1);
        st_buf_put_i8(w, r->type);
        st_wr_str(w, flex, r->name.ptr, r->name.len);
        int32_t shown = 0;
        for (size_t k = 0; k < nd; k++)
            shown += key_wanted(r, descs[k].name);
        st_wr_array(w, flex, shown);
        for (size_t k = 0; k < nd; k++) {
            if (!key_wanted(r, descs[k].name))
                continue;
            st_wr_str(w, flex, descs[k].name, -1);
            st_wr_str(w, flex, descs[k].value, -1);
            st_wr_bool(w, descs[k].read_only);
            if (v == 0)
                st_wr_bool(w, sources[k] == SOURCE_DEFAULT); /* is_default */
            else
                st_buf_put_i8(w, sources[k]);
            st_wr_bool(w, descs[k].sensitive);
            if (v >= 1)
                st_wr_array(w, flex, 0); /* synonyms */
            st_wr_tags(w, flex);
        }
        st_wr_tags(w, flex);
        free(descs);
        free(sources);
    }
    st_wr_tags(w, flex);
out:
    resources_free(res, n > 0 ? n : 0);
    return rc;
}

/* ---- AlterConfigs ---- */

static int alter_one(st_broker *b, const resource *r, bool validate_only, char *msg, size_t msglen)
{
    if (r->type == RESOURCE_BROKER) {
        int rc = check_broker_name(b, r->name, msg, msglen);
        if (rc != 0)
            return rc;
        snprintf(msg, msglen,
                 "broker configs are static: edit the config file and restart the broker");
        return ST_ERR_INVALID_REQUEST;
    }
    if (r->type != RESOURCE_TOPIC) {
        snprintf(msg, msglen,
                 "resource type %d is not supported: only topic (2) configs can be altered",
                 r->type);
        return ST_ERR_INVALID_REQUEST;
    }
    char name[256];
    int rc = topic_name(r->name, name, sizeof(name), msg, msglen);
    if (rc != 0)
        return rc;
    if (r->has_nul) {
        snprintf(msg, msglen, "config names and values may not contain NUL bytes");
        return ST_ERR_INVALID_CONFIG;
    }
    /* AlterConfigs replaces the whole override set (incremental is a separate API). */
    return st_topics_alter_configs(b->topics, name, r->configs, (size_t)r->nconfigs, false,
                                   validate_only, msg, msglen);
}

int st_handle_alter_configs(st_req *req)
{
    st_broker *b = req->broker;
    st_rd *rd = &req->rd;
    bool flex = req->flex;
    int rc = ST_REQ_DONE;

    /* type, name, configs: at least 7 bytes */
    int32_t n = st_rd_array(rd, flex, 7);
    resource *res = resources_new(n);
    for (int32_t i = 0; i < n && !rd->err; i++) {
        resource *r = &res[i];
        r->type = st_rd_i8(rd);
        r->name = st_rd_str(rd, flex);
        if (r->name.len < 0)
            rd->err = 1;
        int32_t nc = st_rd_array(rd, flex, 4);
        if (nc > 0) {
            r->configs = calloc((size_t)nc, sizeof(*r->configs));
            if (r->configs == NULL)
                abort(); /* as st_buf */
        }
        for (int32_t k = 0; k < nc && !rd->err; k++) {
            st_str cname = st_rd_str(rd, flex), value = st_rd_str(rd, flex);
            st_rd_tags(rd, flex);
            if (cname.len < 0) {
                rd->err = 1;
                break;
            }
            if (memchr(cname.ptr, 0, (size_t)cname.len) ||
                (value.len > 0 && memchr(value.ptr, 0, (size_t)value.len)))
                r->has_nul = true;
            r->configs[k].name = st_str_dup(cname);
            r->configs[k].value = st_str_dup(value);
            r->nconfigs++;
        }
        st_rd_tags(rd, flex);
    }
    bool validate_only = st_rd_bool(rd);
    st_rd_tags(rd, flex);
    if (rd->err) {
        rc = ST_ERR__MALFORMED;
        goto out;
    }

    st_buf *w = st_resp_buf(req->resp);
    st_buf_put_i32(w, 0); /* throttle_time_ms */
    st_wr_array(w, flex, n);
    for (int32_t i = 0; i < n; i++) {
        char msg[MSG_LEN] = "";
        int err = authorize_resource(req, &res[i], ST_ACL_OP_ALTER_CONFIGS, msg, sizeof(msg));
        if (err == 0)
            err = alter_one(b, &res[i], validate_only, msg, sizeof(msg));
        if (err != 0)
            st_info("AlterConfigs: %s: %s", st_err_name(err), msg);
        st_buf_put_i16(w, (int16_t)err);
        st_wr_str(w, flex, err ? msg : NULL, -1);
        st_buf_put_i8(w, res[i].type);
        st_wr_str(w, flex, res[i].name.ptr, res[i].name.len);
        st_wr_tags(w, flex);
    }
    st_wr_tags(w, flex);
out:
    resources_free(res, n > 0 ? n : 0);
    return rc;
}
