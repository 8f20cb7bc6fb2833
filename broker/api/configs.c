/*
 * DescribeConfigs (32, v0..2), AlterConfigs (33, v0..1) and IncrementalAlterConfigs
 * (44, v0..1, v1 flexible).
 *
 * Two resource types exist here: TOPIC (2), whose configs are the registry's overrides
 * over the broker-wide defaults, and BROKER (4): "<id>" is this broker (every config,
 * Kafka's names), "" the cluster-wide dynamic defaults. The broker-wide defaults of
 * topic configs are dynamic and altered through BROKER resources, the rest of the
 * broker's configs are read-only (broker/cluster/dynconfig.h). Values, sources,
 * synonyms and flags are Kafka's: a topic config no level sets is DEFAULT_CONFIG with
 * Kafka's default value (flush.messages 9223372036854775807), is_default in v0 means
 * "source is DEFAULT_CONFIG", synonyms list the levels from the winning one down.
 *
 * Authorization (Kafka's): DescribeConfigs needs DESCRIBE_CONFIGS, the alters
 * ALTER_CONFIGS, on the topic (else TOPIC_AUTHORIZATION_FAILED, before the name is even
 * looked at, so existence is never revealed) or, for the broker, on the cluster (else
 * CLUSTER_AUTHORIZATION_FAILED).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"
#include "broker/cluster/dynconfig.h"
#include "broker/security/security.h"
#include "common/errors.h"
#include "common/logging.h"

#define RESOURCE_TOPIC  2
#define RESOURCE_BROKER 4

/* IncrementalAlterConfigs operations. */
enum { OP_SET = 0, OP_DELETE = 1, OP_APPEND = 2, OP_SUBTRACT = 3 };

#define MSG_LEN 320

/* One resource of a request. */
typedef struct resource {
    int8_t type;
    st_str name;
    int32_t nkeys; /* DescribeConfigs: -1 = every config */
    st_str *keys;
    st_config_set *configs; /* AlterConfigs: malloc'd names and values */
    int8_t *ops;            /* IncrementalAlterConfigs: each config's operation */
    int32_t nconfigs;
    bool has_nul;   /* a config name or value held a NUL byte */
    bool duplicate; /* DescribeConfigs: an earlier resource has this type and name */
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
        free(r[i].ops);
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

/* May the caller do the row's operation (DESCRIBE_CONFIGS, ALTER_CONFIGS) on the
 * resource? 0, or the authorization error with msg set. Other resource types are left to
 * the handler, which refuses them. */
static int authorize_resource(const st_req *req, const resource *r, char *msg, size_t msglen)
{
    st_acl_operation op = req->api->acl_op;
    if (r->type == RESOURCE_TOPIC && !st_req_allowed(req, r->name.ptr ? r->name.ptr : "",
                                                     r->name.len > 0 ? (size_t)r->name.len : 0)) {
        snprintf(msg, msglen, "topic \"%.*s\": %s is not authorized: it needs %s on the topic",
                 r->name.len > 0 ? (int)r->name.len : 0, r->name.ptr ? r->name.ptr : "",
                 st_req_principal(req), st_acl_operation_name(op));
        return ST_ERR_TOPIC_AUTHORIZATION_FAILED;
    }
    if (r->type == RESOURCE_BROKER && !st_req_allowed_cluster(req)) {
        snprintf(msg, msglen, "broker configs: %s is not authorized: it needs %s on the cluster",
                 st_req_principal(req), st_acl_operation_name(op));
        return ST_ERR_CLUSTER_AUTHORIZATION_FAILED;
    }
    return 0;
}

/* ---- DescribeConfigs ---- */

static int cmp_str(st_str a, st_str b)
{
    size_t la = a.len > 0 ? (size_t)a.len : 0, lb = b.len > 0 ? (size_t)b.len : 0;
    int c = memcmp(a.ptr ? a.ptr : "", b.ptr ? b.ptr : "", la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

static int cmp_key(const void *a, const void *b)
{
    return cmp_str(*(const st_str *)a, *(const st_str *)b);
}

/* Whether config `name` is asked for: every one (null keys), or one of the resource's
 * keys, which st_handle_describe_configs sorted (a request may list millions: each
 * entry costs a binary search, not a pass over them). */
static bool key_wanted(const resource *r, const char *name)
{
    if (r->nkeys < 0)
        return true;
    st_str want = {name, (int32_t)strlen(name)};
    return r->nkeys > 0 && bsearch(&want, r->keys, (size_t)r->nkeys, sizeof *r->keys, cmp_key);
}

static int cmp_resource(const void *a, const void *b, void *arg)
{
    const resource *res = arg;
    const resource *x = &res[*(const int32_t *)a], *y = &res[*(const int32_t *)b];
    if (x->type != y->type)
        return x->type < y->type ? -1 : 1;
    int c = cmp_str(x->name, y->name);
    if (c)
        return c;
    return *(const int32_t *)a < *(const int32_t *)b ? -1 : 1; /* request order */
}

/* Marks every resource whose type and name an earlier one of the request has. Each
 * answer can be a few KB (a broker's configs with synonyms): answering the same
 * resource again and again let an 8-byte entry cost 3 KB of response, 360 times the
 * request (a 100 MiB request, 36 GB of memory). Sorting keeps it O(n log n). */
static int32_t mark_duplicates(resource *res, int32_t n)
{
    int32_t marked = 0;
    if (n < 2)
        return 0;
    int32_t *order = malloc((size_t)n * sizeof *order);
    if (order == NULL)
        abort(); /* as st_buf */
    for (int32_t i = 0; i < n; i++)
        order[i] = i;
    qsort_r(order, (size_t)n, sizeof *order, cmp_resource, res);
    for (int32_t i = 1; i < n; i++) {
        const resource *prev = &res[order[i - 1]], *cur = &res[order[i]];
        if (prev->type == cur->type && cmp_str(prev->name, cur->name) == 0) {
            res[order[i]].duplicate = true;
            marked++;
        }
    }
    free(order);
    return marked;
}

/* A topic's configs as entries: value from the registry, source and synonyms from the
 * topic's override and the broker levels under it. */
static int describe_topic(st_broker *b, const char *name, st_config_entry **out, size_t *n)
{
    st_config_desc *descs = NULL;
    size_t nd = 0;
    *out = NULL;
    *n = 0;
    int rc = st_topics_describe_configs(b->topics, name, &descs, &nd);
    if (rc != 0)
        return rc;
    st_config_entry *e = calloc(nd ? nd : 1, sizeof *e);
    if (!e) {
        free(descs);
        return ST_ERR__NOMEM;
    }
    for (size_t i = 0; i < nd; i++) {
        e[i] = (st_config_entry){.name = descs[i].name, .value = strdup(descs[i].value)};
        st_dynconfig_topic_entry(b->dynconfig, descs[i].name,
                                 descs[i].is_default ? NULL : descs[i].value, &e[i]);
    }
    free(descs);
    *out = e;
    *n = nd;
    return 0;
}

/* Looks up the configs of one resource. On success *entries is a new array. */
static int describe_one(st_broker *b, const resource *r, st_config_entry **entries, size_t *n,
                        char *msg, size_t msglen)
{
    int rc;
    *entries = NULL;
    *n = 0;
    if (r->type == RESOURCE_BROKER) {
        if ((rc = check_broker_name(b, r->name, msg, msglen)) != 0)
            return rc;
        rc = st_dynconfig_describe(b->dynconfig, r->name.len > 0, entries, n);
    } else if (r->type != RESOURCE_TOPIC) {
        snprintf(msg, msglen,
                 "resource type %d is not supported: only topics (2) and brokers (4) have "
                 "configs here",
                 r->type);
        return ST_ERR_INVALID_REQUEST;
    } else {
        char name[256];
        if ((rc = topic_name(r->name, name, sizeof(name), msg, msglen)) != 0)
            return rc;
        rc = describe_topic(b, name, entries, n);
        if (rc == ST_ERR_UNKNOWN_TOPIC_OR_PARTITION) {
            snprintf(msg, msglen, "topic \"%s\" does not exist", name);
            return rc;
        }
    }
    if (rc != 0) {
        snprintf(msg, msglen, "out of memory describing configs");
        return ST_ERR_UNKNOWN_SERVER_ERROR;
    }
    return 0;
}

st_req_result st_handle_describe_configs(st_req *req)
{
    st_broker *b = req->broker;
    st_rd *rd = &req->rd;
    bool flex = req->flex;
    int16_t v = req->api_version;
    st_req_result rc = ST_REQ_DONE;

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
    bool include_synonyms = v >= 1 && st_rd_bool(rd);
    st_rd_tags(rd, flex);
    if (rd->err) {
        rc = ST_REQ_MALFORMED;
        goto out;
    }
    for (int32_t i = 0; i < n; i++)
        if (res[i].nkeys > 1)
            qsort(res[i].keys, (size_t)res[i].nkeys, sizeof *res[i].keys, cmp_key);
    int32_t duplicates = mark_duplicates(res, n);
    if (duplicates > 0) /* one line, not one per resource */
        st_info("DescribeConfigs: %d of %d resources named more than once: INVALID_REQUEST for "
                "the repeats",
                duplicates, n);

    st_buf *w = st_resp_buf(req->resp);
    st_buf_put_i32(w, 0); /* throttle_time_ms */
    st_wr_array(w, flex, n);
    for (int32_t i = 0; i < n; i++) {
        const resource *r = &res[i];
        st_config_entry *entries = NULL;
        size_t ne = 0;
        char msg[MSG_LEN] = "";
        int err = 0;
        if (r->duplicate) {
            /* short: one is written per repeat */
            snprintf(msg, sizeof msg, "named more than once in this request");
            err = ST_ERR_INVALID_REQUEST;
        }
        if (err == 0)
            err = authorize_resource(req, r, msg, sizeof(msg));
        if (err == 0)
            err = describe_one(b, r, &entries, &ne, msg, sizeof(msg));
        if (err != 0 && !r->duplicate)
            st_info("DescribeConfigs: %s: %s", st_err_name(err), msg);
        st_buf_put_i16(w, (int16_t)err);
        st_wr_str(w, flex, err ? msg : NULL, -1);
        st_buf_put_i8(w, r->type);
        st_wr_str(w, flex, r->name.ptr, r->name.len);
        int32_t shown = 0;
        for (size_t k = 0; k < ne; k++)
            shown += key_wanted(r, entries[k].name);
        st_wr_array(w, flex, shown);
        for (size_t k = 0; k < ne; k++) {
            const st_config_entry *e = &entries[k];
            if (!key_wanted(r, e->name))
                continue;
            st_wr_str(w, flex, e->name, -1);
            st_wr_str(w, flex, e->value, -1);
            st_wr_bool(w, e->read_only);
            if (v == 0)
                st_wr_bool(w, e->source == ST_CONFIG_SOURCE_DEFAULT); /* is_default */
            else
                st_buf_put_i8(w, e->source);
            st_wr_bool(w, e->sensitive);
            if (v >= 1) {
                int ns = include_synonyms ? e->nsynonyms : 0;
                st_wr_array(w, flex, ns);
                for (int s = 0; s < ns; s++) {
                    st_wr_str(w, flex, e->synonyms[s].name, -1);
                    st_wr_str(w, flex, e->synonyms[s].value, -1);
                    st_buf_put_i8(w, e->synonyms[s].source);
                    st_wr_tags(w, flex);
                }
            }
            st_wr_tags(w, flex);
        }
        st_wr_tags(w, flex);
        st_config_entries_free(entries, ne);
    }
    st_wr_tags(w, flex);
out:
    resources_free(res, n > 0 ? n : 0);
    return rc;
}

/* ---- AlterConfigs and IncrementalAlterConfigs ---- */

/* "a, b,c" → whether item (len bytes) is one of the comma-separated entries. */
static bool list_has(const char *list, const char *item, size_t len)
{
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t t = n;
        while (t > 0 && p[t - 1] == ' ')
            t--;
        if (t == len && t > 0 && memcmp(p, item, len) == 0)
            return true;
        p += n;
    }
    return false;
}

/* APPEND (items of `arg` not in `base` added) or SUBTRACT (items of `arg` removed) on a
 * comma-separated list. Returns a new string. */
static char *list_op(const char *base, const char *arg, bool append)
{
    size_t cap = strlen(base) + strlen(arg) + 2;
    char *out = calloc(1, cap);
    if (!out)
        abort(); /* as st_buf */
    size_t len = 0;
    const char *lists[2] = {base, append ? arg : ""};
    for (int l = 0; l < 2; l++) {
        for (const char *p = lists[l]; *p;) {
            while (*p == ' ' || *p == ',')
                p++;
            size_t n = strcspn(p, ",");
            size_t t = n;
            while (t > 0 && p[t - 1] == ' ')
                t--;
            bool keep = t > 0 && !list_has(out, p, t) && (append || !list_has(arg, p, t));
            if (keep)
                len += (size_t)snprintf(out + len, cap - len, "%s%.*s", len ? "," : "", (int)t, p);
            p += n;
        }
    }
    return out;
}

/* The level of a broker resource: "" cluster-wide, "<our id>" this broker. */
static int broker_level(const st_broker *b, st_str name, st_dyn_level *level, char *msg,
                        size_t msglen)
{
    int rc = check_broker_name(b, name, msg, msglen);
    *level = name.len > 0 ? ST_DYN_BROKER : ST_DYN_DEFAULT;
    return rc;
}

/* The value an APPEND or SUBTRACT starts from: the resource's own setting, else the
 * value in force. A new string. */
static char *current_value(st_broker *b, const resource *r, st_dyn_level level, const char *topic,
                           const char *config)
{
    char text[256] = "";
    if (r->type == RESOURCE_BROKER) {
        const char *v = st_dynconfig_get(b->dynconfig, level, config);
        if (v)
            return strdup(v);
        st_dynconfig_value(b->dynconfig, config, text, sizeof text);
        return strdup(text);
    }
    st_topic *t = st_topics_find(b->topics, topic, strlen(topic));
    const char *override = t ? st_topic_override(t, config) : NULL;
    if (override)
        return strdup(override);
    st_config_desc *descs = NULL;
    size_t nd = 0;
    if (st_topics_describe_configs(b->topics, topic, &descs, &nd) == 0)
        for (size_t i = 0; i < nd; i++)
            if (strcmp(descs[i].name, config) == 0)
                snprintf(text, sizeof text, "%s", descs[i].value);
    free(descs);
    return strdup(text);
}

/* IncrementalAlterConfigs: turns each operation into the value to set (NULL: remove
 * the setting), in r->configs. Kafka's rules: a name at most once, APPEND and SUBTRACT
 * only on list configs, SET needs a value. */
static int resolve_ops(st_broker *b, resource *r, st_dyn_level level, const char *topic, char *msg,
                       size_t msglen)
{
    const char *dup = st_config_sets_duplicate(r->configs, (size_t)r->nconfigs);
    if (dup) {
        snprintf(msg, msglen, "config \"%s\" appears twice: one operation per config", dup);
        return ST_ERR_INVALID_REQUEST;
    }
    for (int32_t k = 0; k < r->nconfigs; k++) {
        st_config_set *c = &r->configs[k];
        int8_t op = r->ops[k];
        bool list = r->type == RESOURCE_BROKER ? st_dynconfig_is_list(c->name)
                                               : st_dynconfig_topic_is_list(c->name);
        if (op == OP_SET && !c->value) {
            snprintf(msg, msglen, "SET %s: a value is required (DELETE removes a setting)",
                     c->name);
            return ST_ERR_INVALID_REQUEST;
        } else if (op == OP_DELETE) {
            free((char *)c->value);
            c->value = NULL;
        } else if (op == OP_APPEND || op == OP_SUBTRACT) {
            if (!list) {
                snprintf(msg, msglen, "%s %s: only list configs (cleanup.policy) take it",
                         op == OP_APPEND ? "APPEND" : "SUBTRACT", c->name);
                return ST_ERR_INVALID_CONFIG;
            }
            char *base = current_value(b, r, level, topic, c->name);
            char *value = list_op(base, c->value ? c->value : "", op == OP_APPEND);
            free(base);
            free((char *)c->value);
            c->value = value;
        } else if (op != OP_SET) {
            snprintf(msg, msglen,
                     "%s: unknown operation %d (0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT)", c->name,
                     op);
            return ST_ERR_INVALID_REQUEST;
        }
    }
    return 0;
}

static int alter_one(st_broker *b, resource *r, bool incremental, bool validate_only, char *msg,
                     size_t msglen)
{
    char name[256] = "";
    st_dyn_level level = ST_DYN_DEFAULT;
    int rc;
    if (r->type == RESOURCE_BROKER)
        rc = broker_level(b, r->name, &level, msg, msglen);
    else if (r->type == RESOURCE_TOPIC)
        rc = topic_name(r->name, name, sizeof(name), msg, msglen);
    else {
        snprintf(msg, msglen,
                 "resource type %d is not supported: only topic (2) and broker (4) configs can "
                 "be altered",
                 r->type);
        return ST_ERR_INVALID_REQUEST;
    }
    if (rc != 0)
        return rc;
    if (r->has_nul) {
        snprintf(msg, msglen, "config names and values may not contain NUL bytes");
        return ST_ERR_INVALID_CONFIG;
    }
    if (r->type == RESOURCE_TOPIC && !st_topics_find(b->topics, name, strlen(name))) {
        snprintf(msg, msglen, "topic \"%s\" does not exist", name);
        return ST_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    if (incremental && (rc = resolve_ops(b, r, level, name, msg, msglen)) != 0)
        return rc;
    if (r->type == RESOURCE_TOPIC)
        /* AlterConfigs replaces the whole override set, IncrementalAlterConfigs edits it */
        return st_topics_alter_configs(b->topics, name, r->configs, (size_t)r->nconfigs,
                                       incremental, validate_only, msg, msglen);
    rc = st_dynconfig_alter(b->dynconfig, level, r->configs, (size_t)r->nconfigs, !incremental,
                            validate_only, msg, msglen);
    if (rc == 0 && !validate_only) {
        st_log_config defaults;
        st_dynconfig_log_defaults(b->dynconfig, &defaults);
        st_topics_set_defaults(b->topics, &defaults);
    }
    return rc;
}

/* Both alters share a layout: resources of (type, name, configs of (name, [op,] value)),
 * then validate_only; IncrementalAlterConfigs adds the operation byte. */
static st_req_result handle_alter(st_req *req, bool incremental, const char *api)
{
    st_broker *b = req->broker;
    st_rd *rd = &req->rd;
    bool flex = req->flex;
    st_req_result rc = ST_REQ_DONE;

    /* type, name, configs: at least 7 bytes (4 in the compact forms, with tags) */
    int32_t n = st_rd_array(rd, flex, flex ? 4 : 7);
    resource *res = resources_new(n);
    for (int32_t i = 0; i < n && !rd->err; i++) {
        resource *r = &res[i];
        r->type = st_rd_i8(rd);
        r->name = st_rd_str(rd, flex);
        if (r->name.len < 0)
            rd->err = 1;
        /* name, [operation,] value: 4 or 5 bytes, 4 compact with tags */
        int32_t nc = st_rd_array(rd, flex, flex ? 4 : incremental ? 5 : 4);
        if (nc > 0) {
            r->configs = calloc((size_t)nc, sizeof(*r->configs));
            r->ops = calloc((size_t)nc, sizeof(*r->ops));
            if (r->configs == NULL || r->ops == NULL)
                abort(); /* as st_buf */
        }
        for (int32_t k = 0; k < nc && !rd->err; k++) {
            st_str cname = st_rd_str(rd, flex);
            int8_t op = incremental ? st_rd_i8(rd) : OP_SET;
            st_str value = st_rd_str(rd, flex);
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
            r->ops[k] = op;
            r->nconfigs++;
        }
        st_rd_tags(rd, flex);
    }
    bool validate_only = st_rd_bool(rd);
    st_rd_tags(rd, flex);
    if (rd->err) {
        rc = ST_REQ_MALFORMED;
        goto out;
    }

    st_buf *w = st_resp_buf(req->resp);
    st_buf_put_i32(w, 0); /* throttle_time_ms */
    st_wr_array(w, flex, n);
    for (int32_t i = 0; i < n; i++) {
        char msg[MSG_LEN] = "";
        int err = authorize_resource(req, &res[i], msg, sizeof(msg));
        if (err == 0)
            err = alter_one(b, &res[i], incremental, validate_only, msg, sizeof(msg));
        if (err != 0)
            st_info("%s: %s: %s", api, st_err_name(err), msg);
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

st_req_result st_handle_alter_configs(st_req *req)
{
    return handle_alter(req, false, "AlterConfigs");
}

st_req_result st_handle_incremental_alter_configs(st_req *req)
{
    return handle_alter(req, true, "IncrementalAlterConfigs");
}
