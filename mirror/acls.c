/*
 * ACLs follow the source (sync_acls): every sync_interval, DescribeAcls on both
 * clusters; when both answers are in, the target gets the source's ACLs for mirrored
 * topics and groups, translated, and loses those the mirror made earlier that the source
 * no longer has. Within one sync interval a change on the source is on the target.
 *
 * Translation of a source binding (mf_acl_map):
 *   topics   LITERAL <t> of a mirrored topic  → LITERAL <target name of t>
 *            PREFIXED <p>, prefix naming       → PREFIXED "<source alias>.<p>"
 *            LITERAL "*", prefix naming        → PREFIXED "<source alias>."
 *            PREFIXED <p> or "*", identity     → LITERAL for each mirrored topic it covers
 *                                                (the target's own topics are not covered)
 *            operations: READ, DESCRIBE, DESCRIBE_CONFIGS as they are, ALL as those three;
 *            never WRITE, CREATE, DELETE, ALTER, ALTER_CONFIGS: a copy is written by the
 *            mirror alone (its principal's rights on the target are the operator's), and
 *            consumers, not producers, fail over to it
 *   groups   LITERAL <g> of a selected group    → the same (group ids are kept)
 *            PREFIXED, "*"                      → the same, when the flow selects every
 *                                                group; otherwise not copied
 *            operations: READ, DESCRIBE, DELETE, ALL
 *   others   (cluster, transactional ids)       not copied
 * DENY bindings are translated the same way (a DENY only takes away).
 *
 * Which target ACLs the mirror made is kept on the target, in the offsets topic (record
 * "<source alias>\0#acls": a JSON array of bindings), so a restarted daemon still knows:
 * it removes only what it made, never an ACL an operator set on the target, even one
 * equal to a mirrored one that existed before.
 *
 * Loop thread; the admin answers come through st_mflow_step (mf_acls_event).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/logging.h"
#include "mirror/flow_int.h"

static void *tag(st_mflow *f, int i)
{
    return &f->aclsync.tags[i]; /* 0 source, 1 target, 2 create, 3 delete */
}

void mf_acls_free(st_mflow *f)
{
    json_decref(f->aclsync.src);
    json_decref(f->aclsync.tgt);
    f->aclsync.src = f->aclsync.tgt = NULL;
    f->aclsync.busy = false;
}

/* "TYPE|PATTERN|NAME|PRINCIPAL|HOST|OP|PERM" with numbers for the enums: the set key. */
static void binding_key(int restype, int ptype, const char *name, const char *principal,
                        const char *host, int op, int perm, char *out, size_t cap)
{
    snprintf(out, cap, "%d|%d|%s|%s|%s|%d|%d", restype, ptype, name, principal, host, op, perm);
}

static void put(json_t *set, int restype, int ptype, const char *name, const char *principal,
                const char *host, int op, int perm)
{
    char key[1024];
    binding_key(restype, ptype, name, principal, host, op, perm, key, sizeof key);
    json_object_set_new(
        set, key, json_pack("[i,i,s,s,s,i,i]", restype, ptype, name, principal, host, op, perm));
}

static bool every_group(const st_mflow_config *fc)
{
    return fc->groups.n == 1 && strcmp(fc->groups.src[0], ".*") == 0 && fc->groups_exclude.n == 0;
}

static bool mirrored(const st_mflow *f, const mf_topic *t)
{
    return !t->heartbeat && !t->deleted;
}

void mf_acl_map(const st_mflow *f, int restype, int ptype, const char *name, const char *principal,
                const char *host, int op, int perm, json_t *out)
{
    static const int read_side[] = {RD_KAFKA_ACL_OPERATION_READ, RD_KAFKA_ACL_OPERATION_DESCRIBE,
                                    RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS};
    int ops[3], nops = 0;
    bool prefix = f->fc->naming == ST_MNAMING_PREFIX;
    if (restype == RD_KAFKA_RESOURCE_TOPIC) {
        if (op == RD_KAFKA_ACL_OPERATION_ALL) {
            memcpy(ops, read_side, sizeof read_side);
            nops = 3;
        } else {
            for (int i = 0; i < 3; i++)
                if (op == read_side[i])
                    ops[nops++] = op;
        }
        bool star = ptype == RD_KAFKA_RESOURCE_PATTERN_LITERAL && strcmp(name, "*") == 0;
        for (int k = 0; k < nops; k++) {
            if (ptype == RD_KAFKA_RESOURCE_PATTERN_LITERAL && !star) {
                mf_topic *t = mf_topic_find((st_mflow *)f, name);
                if (t && mirrored(f, t))
                    put(out, restype, ptype, t->target, principal, host, ops[k], perm);
            } else if (prefix && (star || ptype == RD_KAFKA_RESOURCE_PATTERN_PREFIXED)) {
                char p[MF_TOPIC_NAME_MAX + 64];
                snprintf(p, sizeof p, "%s.%s", f->src->alias, star ? "" : name);
                put(out, restype, RD_KAFKA_RESOURCE_PATTERN_PREFIXED, p, principal, host, ops[k],
                    perm);
            } else if (star || ptype == RD_KAFKA_RESOURCE_PATTERN_PREFIXED) {
                for (size_t i = 0; i < f->ntopics; i++) {
                    const mf_topic *t = f->topics[i];
                    if (mirrored(f, t) && (star || strncmp(t->name, name, strlen(name)) == 0))
                        put(out, restype, RD_KAFKA_RESOURCE_PATTERN_LITERAL, t->target, principal,
                            host, ops[k], perm);
                }
            }
        }
        return;
    }
    if (restype == RD_KAFKA_RESOURCE_GROUP) {
        if (op != RD_KAFKA_ACL_OPERATION_READ && op != RD_KAFKA_ACL_OPERATION_DESCRIBE &&
            op != RD_KAFKA_ACL_OPERATION_DELETE && op != RD_KAFKA_ACL_OPERATION_ALL)
            return;
        bool literal = ptype == RD_KAFKA_RESOURCE_PATTERN_LITERAL && strcmp(name, "*") != 0;
        if (literal
                ? (st_mflow_group_selected(f->fc, name) && strncmp(name, "strait-mirror.", 14) != 0)
                : every_group(f->fc))
            put(out, restype, ptype, name, principal, host, op, perm);
    }
}

static void describe(st_mflow *f, rd_kafka_t *rk, rd_kafka_queue_t *q, void *opaque)
{
    char why[256];
    rd_kafka_AclBindingFilter_t *filter = rd_kafka_AclBindingFilter_new(
        RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, NULL, NULL,
        RD_KAFKA_ACL_OPERATION_ANY, RD_KAFKA_ACL_PERMISSION_TYPE_ANY, why, sizeof why);
    if (!filter)
        return;
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBEACLS);
    rd_kafka_AdminOptions_set_request_timeout(opts, MF_ADMIN_TIMEOUT, why, sizeof why);
    rd_kafka_AdminOptions_set_opaque(opts, opaque);
    rd_kafka_DescribeAcls(rk, filter, opts, q);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_AclBinding_destroy(filter);
}

void mf_acls_round(st_mflow *f, int64_t now_ms)
{
    /* not before the record of what we made is loaded with the offsets map */
    if (!f->fc->sync_acls || !f->offsets_ready || !f->producer || !f->src_producer)
        return;
    if (f->aclsync.busy && now_ms - f->aclsync.started_ms < 60000)
        return;
    mf_acls_free(f);
    f->aclsync.busy = true;
    f->aclsync.started_ms = now_ms;
    describe(f, f->src_producer, f->src_q, tag(f, 0));
    describe(f, f->producer, f->tgt_q, tag(f, 1));
}

/* The answer's bindings: source ones translated (mf_acl_map), target ones as they are;
 * both as {key: [type, pattern, name, principal, host, op, perm]}. */
static json_t *bindings_of(st_mflow *f, rd_kafka_event_t *ev, bool translate)
{
    json_t *set = json_object();
    size_t n = 0;
    const rd_kafka_AclBinding_t **b =
        rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev), &n);
    for (size_t i = 0; set && i < n; i++) {
        int restype = rd_kafka_AclBinding_restype(b[i]);
        int ptype = rd_kafka_AclBinding_resource_pattern_type(b[i]);
        const char *name = rd_kafka_AclBinding_name(b[i]);
        const char *principal = rd_kafka_AclBinding_principal(b[i]);
        const char *host = rd_kafka_AclBinding_host(b[i]);
        int op = rd_kafka_AclBinding_operation(b[i]);
        int perm = rd_kafka_AclBinding_permission_type(b[i]);
        if (!name || !principal || !host)
            continue;
        if (translate)
            mf_acl_map(f, restype, ptype, name, principal, host, op, perm, set);
        else
            put(set, restype, ptype, name, principal, host, op, perm);
    }
    return set;
}

static rd_kafka_AclBinding_t *to_binding(const json_t *v)
{
    char why[256];
    return rd_kafka_AclBinding_new(
        (rd_kafka_ResourceType_t)json_integer_value(json_array_get(v, 0)),
        json_string_value(json_array_get(v, 2)),
        (rd_kafka_ResourcePatternType_t)json_integer_value(json_array_get(v, 1)),
        json_string_value(json_array_get(v, 3)), json_string_value(json_array_get(v, 4)),
        (rd_kafka_AclOperation_t)json_integer_value(json_array_get(v, 5)),
        (rd_kafka_AclPermissionType_t)json_integer_value(json_array_get(v, 6)), why, sizeof why);
}

static void admin_call(st_mflow *f, bool create, rd_kafka_AclBinding_t **b, size_t n)
{
    char why[256];
    if (n == 0)
        return;
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(
        f->producer, create ? RD_KAFKA_ADMIN_OP_CREATEACLS : RD_KAFKA_ADMIN_OP_DELETEACLS);
    rd_kafka_AdminOptions_set_request_timeout(opts, MF_ADMIN_TIMEOUT, why, sizeof why);
    rd_kafka_AdminOptions_set_opaque(opts, tag(f, create ? 2 : 3));
    if (create)
        rd_kafka_CreateAcls(f->producer, b, n, opts, f->tgt_q);
    else
        rd_kafka_DeleteAcls(f->producer, b, n, opts, f->tgt_q);
    rd_kafka_AdminOptions_destroy(opts);
}

/* Persists the set of bindings we made (an array of their values). */
static void persist_owned(st_mflow *f)
{
    json_t *arr = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(f->aclsync.owned, k, v)
    {
        json_array_append(arr, v);
    }
    mf_state_record_put(f, "acls", arr);
    json_decref(arr);
}

static void apply(st_mflow *f)
{
    json_t *want = f->aclsync.src, *have = f->aclsync.tgt, *owned = f->aclsync.owned;
    size_t nwant = json_object_size(want), nown = json_object_size(owned);
    rd_kafka_AclBinding_t **add = calloc(nwant ? nwant : 1, sizeof *add);
    rd_kafka_AclBinding_t **del = calloc(nown ? nown : 1, sizeof *del);
    json_t *next = json_object();
    size_t nadd = 0, ndel = 0;
    const char *k;
    json_t *v;
    if (!add || !del || !next)
        goto out;
    json_object_foreach(want, k, v)
    {
        if (!json_object_get(have, k) && (add[nadd] = to_binding(v)) != NULL) {
            nadd++;
            json_object_set(next, k, v); /* ours from now on */
        } else if (json_object_get(owned, k)) {
            json_object_set(next, k, v); /* ours and still wanted */
        }
    }
    json_object_foreach(owned, k, v)
    {
        if (!json_object_get(want, k) && json_object_get(have, k) &&
            (del[ndel] = to_binding(v)) != NULL)
            ndel++;
    }
    if (nadd || ndel)
        st_info("%s: ACLs on %s follow %s: %zu added, %zu removed", f->fc->name, f->tgt->alias,
                f->src->alias, nadd, ndel);
    admin_call(f, true, add, nadd);
    admin_call(f, false, del, ndel);
    if (!json_equal(next, owned)) {
        json_decref(f->aclsync.owned);
        f->aclsync.owned = json_incref(next);
        persist_owned(f);
    }
out:
    for (size_t i = 0; add && i < nadd; i++)
        rd_kafka_AclBinding_destroy(add[i]);
    for (size_t i = 0; del && i < ndel; i++)
        rd_kafka_AclBinding_destroy(del[i]);
    free(add);
    free(del);
    json_decref(next);
}

void mf_acls_loaded(st_mflow *f, const json_t *owned)
{
    json_decref(f->aclsync.owned);
    f->aclsync.owned = json_object();
    size_t i;
    json_t *v;
    json_array_foreach(owned, i, v)
    {
        char key[1024];
        if (!json_is_array(v) || json_array_size(v) != 7)
            continue;
        binding_key((int)json_integer_value(json_array_get(v, 0)),
                    (int)json_integer_value(json_array_get(v, 1)),
                    json_string_value(json_array_get(v, 2)) ?: "",
                    json_string_value(json_array_get(v, 3)) ?: "",
                    json_string_value(json_array_get(v, 4)) ?: "",
                    (int)json_integer_value(json_array_get(v, 5)),
                    (int)json_integer_value(json_array_get(v, 6)), key, sizeof key);
        json_object_set(f->aclsync.owned, key, v);
    }
}

static void on_written(st_mflow *f, rd_kafka_event_t *ev, bool create)
{
    const char *what = create ? "adding" : "removing";
    if (rd_kafka_event_error(ev)) {
        mf_error(f, "%s ACLs on %s: %s", what, f->tgt->alias, rd_kafka_event_error_string(ev));
        return;
    }
    size_t n = 0;
    if (create) {
        const rd_kafka_acl_result_t **r =
            rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &n);
        for (size_t i = 0; i < n; i++)
            if (rd_kafka_acl_result_error(r[i]))
                mf_error(f, "adding an ACL on %s: %s", f->tgt->alias,
                         rd_kafka_error_string(rd_kafka_acl_result_error(r[i])));
    } else {
        const rd_kafka_DeleteAcls_result_response_t **r =
            rd_kafka_DeleteAcls_result_responses(rd_kafka_event_DeleteAcls_result(ev), &n);
        for (size_t i = 0; i < n; i++)
            if (rd_kafka_DeleteAcls_result_response_error(r[i]))
                mf_error(f, "removing an ACL on %s: %s", f->tgt->alias,
                         rd_kafka_error_string(rd_kafka_DeleteAcls_result_response_error(r[i])));
    }
}

bool mf_acls_event(st_mflow *f, rd_kafka_event_t *ev)
{
    void *t = rd_kafka_event_opaque(ev);
    int which = -1;
    for (int i = 0; i < 4; i++)
        if (t == tag(f, i))
            which = i;
    if (which < 0)
        return false;
    if (which >= 2) {
        on_written(f, ev, which == 2);
        return true;
    }
    if (!f->aclsync.busy)
        return true;
    if (rd_kafka_event_error(ev)) {
        mf_error(f, "reading the ACLs of %s: %s (the mirror needs DESCRIBE on its cluster)",
                 which == 0 ? f->src->alias : f->tgt->alias, rd_kafka_event_error_string(ev));
        mf_acls_free(f);
        return true;
    }
    json_t **slot = which == 0 ? &f->aclsync.src : &f->aclsync.tgt;
    json_decref(*slot);
    *slot = bindings_of(f, ev, which == 0);
    if (f->aclsync.src && f->aclsync.tgt) {
        if (!f->aclsync.owned)
            f->aclsync.owned = json_object();
        apply(f);
        mf_acls_free(f);
    }
    return true;
}
