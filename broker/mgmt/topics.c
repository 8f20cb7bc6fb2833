/*
 * The topics.* management commands (see admin.h): list, describe, create, alter, delete.
 * Each checks its arguments' types and calls into the topic registry
 * (broker/cluster/topics.h), the one place topic logic lives.
 *
 * Tenant limits (topics, partitions) hold here as on the Kafka API paths: topics.create
 * and topics.alter's add_partitions are refused past them, with the limit's message,
 * unless the command carries "override_limits": a reason, which is logged (WARN, with
 * the limit it overrode) and echoed in the result as "limit_overridden".
 *
 * Loop thread only.
 */
#include "broker/mgmt/admin.h"
#include "broker/mgmt/mgmt_int.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker_int.h"
#include "broker/quota/quota.h"
#include "common/errors.h"
#include "common/logging.h"
#include "common/mgmt.h"

/* ---- argument helpers ---- */

/* The required "name" argument as a C string (borrowed from args). */
static const char *arg_name(json_t *args, char *err, size_t errlen)
{
    json_t *v = json_object_get(args, "name");
    if (!v) {
        snprintf(err, errlen, "\"name\" is required: the topic name");
        return NULL;
    }
    if (!json_is_string(v) || json_string_length(v) == 0) {
        snprintf(err, errlen, "\"name\" must be a non-empty string, got %s", st_json_kind(v));
        return NULL;
    }
    return json_string_value(v);
}

/* An optional integer argument within [min, max]; *out keeps its value when absent. */
static int arg_int(json_t *args, const char *key, int64_t min, int64_t max, int64_t *out, char *err,
                   size_t errlen)
{
    json_t *v = json_object_get(args, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v)) {
        snprintf(err, errlen, "\"%s\" must be an integer, got %s", key, st_json_kind(v));
        return -1;
    }
    int64_t x = json_integer_value(v);
    if (x < min || x > max) {
        snprintf(err, errlen, "\"%s\" must be between %" PRId64 " and %" PRId64 ", got %" PRId64,
                 key, min, max, x);
        return -1;
    }
    *out = x;
    return 0;
}

/* Config changes built from JSON: names borrow from the JSON, values may be owned. */
typedef struct config_list {
    st_config_set *sets;
    char **owned; /* per entry: a value we formatted (numbers, booleans), else NULL */
    size_t n;
} config_list;

static void config_list_free(config_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->owned[i]);
    free(l->sets);
    free(l->owned);
    memset(l, 0, sizeof(*l));
}

static int config_list_push(config_list *l, const char *name, const char *value, char *owned)
{
    st_config_set *sets = realloc(l->sets, (l->n + 1) * sizeof(*sets));
    if (sets)
        l->sets = sets;
    char **own = realloc(l->owned, (l->n + 1) * sizeof(*own));
    if (own)
        l->owned = own;
    if (!sets || !own) {
        free(owned);
        return -1;
    }
    l->sets[l->n] = (st_config_set){name, value};
    l->owned[l->n] = owned;
    l->n++;
    return 0;
}

/* Adds {k: v} from an object; values may be strings, integers or booleans. */
static int configs_from_object(json_t *obj, const char *key, config_list *l, char *err,
                               size_t errlen)
{
    const char *name;
    json_t *v;
    if (!obj || json_is_null(obj))
        return 0;
    if (!json_is_object(obj)) {
        snprintf(err, errlen, "\"%s\" must be an object of config names to values, got %s", key,
                 st_json_kind(obj));
        return -1;
    }
    json_object_foreach(obj, name, v)
    {
        char *owned = NULL;
        const char *value;
        if (json_is_string(v))
            value = json_string_value(v);
        else if (json_is_integer(v) &&
                 asprintf(&owned, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) >= 0)
            value = owned;
        else if (json_is_boolean(v) && (owned = strdup(json_is_true(v) ? "true" : "false")))
            value = owned;
        else {
            snprintf(err, errlen, "config \"%s\": the value must be a string, got %s", name,
                     st_json_kind(v));
            return -1;
        }
        if (config_list_push(l, name, value, owned) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* Adds a delete (value NULL) for each name in an array. */
static int deletes_from_array(json_t *arr, config_list *l, char *err, size_t errlen)
{
    size_t i;
    json_t *v;
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr)) {
        snprintf(err, errlen, "\"delete\" must be an array of config names, got %s",
                 st_json_kind(arr));
        return -1;
    }
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v)) {
            snprintf(err, errlen, "\"delete\"[%zu] must be a config name (a string), got %s", i,
                     st_json_kind(v));
            return -1;
        }
        if (config_list_push(l, json_string_value(v), NULL, NULL) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* The message for a registry error that came back without one. */
/* The optional "override_limits" argument: why the operator goes past a tenant limit.
 * *out NULL when absent; a non-empty single line of at most 200 characters otherwise
 * (it is logged). 0, or -1 with err. */
static int arg_override(json_t *args, const char **out, char *err, size_t errlen)
{
    json_t *v = json_object_get(args, "override_limits");
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    const char *reason = json_is_string(v) ? json_string_value(v) : NULL;
    size_t len = reason ? json_string_length(v) : 0;
    bool printable = len > 0 && len <= 200;
    for (size_t i = 0; printable && i < len; i++)
        printable = (unsigned char)reason[i] >= 0x20 && reason[i] != 0x7f;
    if (!printable) {
        snprintf(err, errlen,
                 "\"override_limits\" must be the reason for going past the tenant's limits: "
                 "one line of 1 to 200 printable characters, got %s",
                 st_json_kind(v));
        return -1;
    }
    *out = reason;
    return 0;
}

/* Would `topics` new topics and `partitions` new partitions under `name` pass the
 * owning tenant's limits? 0 with overridden "" when they would; 0 with overridden
 * holding the limit's message when they would not but `override` gives a reason; else
 * -1 with err saying which limit and how to go past it. */
static int check_limits(st_broker *b, const char *name, int topics, int64_t partitions,
                        const char *override, char *overridden, size_t cap, char *err,
                        size_t errlen)
{
    char msg[512];
    overridden[0] = '\0';
    if (st_bquota_check_create(b->bquota, name, strlen(name), topics, partitions, msg,
                               sizeof msg) == 0)
        return 0;
    if (!override) {
        snprintf(err, errlen,
                 "%s (POLICY_VIOLATION); to go past it for this command, give the reason with "
                 "--override-limits REASON",
                 msg);
        return -1;
    }
    snprintf(overridden, cap, "%s", msg);
    return 0;
}

/* After the change succeeded: a logged line and {limit, reason} in the result. */
static void note_override(const char *cmd, const char *name, const char *overridden,
                          const char *override, json_t *result)
{
    if (!overridden[0])
        return;
    st_warn("%s \"%s\": tenant limit overridden by operator request (%s): %s", cmd, name, override,
            overridden);
    json_object_set_new(result, "limit_overridden",
                        json_pack("{s:s, s:s}", "limit", overridden, "reason", override));
}

static st_topic *find_topic(st_broker *b, const char *name, char *err, size_t errlen)
{
    st_topic *t = st_topics_find(b->topics, name, strlen(name));
    if (!t)
        snprintf(err, errlen, "topic \"%s\" does not exist", name);
    return t;
}

/* Kafka prints topic ids as unpadded URL-safe base64 of the 16 bytes. */
static void topic_id_string(const uint8_t id[16], char out[23])
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < 16; i += 3) {
        uint32_t v = (uint32_t)id[i] << 16;
        size_t have = 16 - i < 3 ? 16 - i : 3;
        if (have > 1)
            v |= (uint32_t)id[i + 1] << 8;
        if (have > 2)
            v |= id[i + 2];
        for (size_t k = 0; k < have + 1; k++)
            out[o++] = alphabet[(v >> (18 - 6 * k)) & 63];
    }
    out[o] = '\0';
}

int st_admin_topics_list(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    json_t *list = json_array();
    size_t n = st_topics_count(b->topics);
    for (size_t i = 0; list && i < n; i++) {
        const st_topic *t = st_topics_at(b->topics, i);
        if (json_array_append_new(list, json_pack("{s:s, s:i, s:b}", "name", st_topic_name(t),
                                                  "partitions", (int)st_topic_partition_count(t),
                                                  "internal", (int)st_topic_internal(t))) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    *result = list ? json_pack("{s:o}", "topics", list) : NULL;
    if (!*result) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* The describe object for a topic (also the answer of create and alter). */
static json_t *describe_topic(st_broker *b, const st_topic *t, char *err, size_t errlen)
{
    st_config_desc *descs = NULL;
    size_t ndescs = 0;
    json_t *parts = json_array(), *configs = json_array(), *desc = NULL;
    char id[23];

    *err = '\0';
    if (!parts || !configs)
        goto out;
    for (int32_t p = 0; p < st_topic_partition_count(t); p++) {
        st_log *log = st_topic_log(t, p);
        if (json_array_append_new(parts,
                                  json_pack("{s:i, s:I, s:I, s:I, s:i}", "partition", (int)p,
                                            "start_offset", (json_int_t)st_log_start_offset(log),
                                            "end_offset", (json_int_t)st_log_end_offset(log),
                                            "size_bytes", (json_int_t)st_log_size_bytes(log),
                                            "segments", st_log_segment_count(log))) != 0)
            goto out;
    }
    int rc = st_topics_describe_configs(b->topics, st_topic_name(t), &descs, &ndescs);
    if (rc != ST_ERR_NONE) {
        snprintf(err, errlen, "topic \"%s\": cannot describe configs: %s", st_topic_name(t),
                 st_err_name(rc));
        goto out;
    }
    for (size_t i = 0; i < ndescs; i++) {
        const st_config_desc *d = &descs[i];
        if (json_array_append_new(
                configs, json_pack("{s:s, s:o, s:b, s:b, s:b}", "name", d->name, "value",
                                   d->sensitive ? json_null() : json_string(d->value), "default",
                                   (int)d->is_default, "read_only", (int)d->read_only, "sensitive",
                                   (int)d->sensitive)) != 0)
            goto out;
    }
    topic_id_string(st_topic_id(t), id);
    desc = json_pack("{s:s, s:s, s:b, s:O, s:O}", "name", st_topic_name(t), "id", id, "internal",
                     (int)st_topic_internal(t), "partitions", parts, "configs", configs);
out:
    if (!desc && !*err)
        snprintf(err, errlen, "out of memory");
    free(descs);
    json_decref(parts);
    json_decref(configs);
    return desc;
}

int st_admin_topics_describe(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    const char *name = arg_name(args, err, errlen);
    const st_topic *t = name ? find_topic(b, name, err, errlen) : NULL;
    if (!t)
        return -1;
    *result = describe_topic(b, t, err, errlen);
    return *result ? 0 : -1;
}

int st_admin_topics_create(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    config_list configs = {0};
    int64_t partitions = -1, replication = -1;
    int rc = -1;
    const char *override = NULL;
    char overridden[512] = "";
    const char *name = arg_name(args, err, errlen);

    if (!name || arg_int(args, "partitions", -1, INT32_MAX, &partitions, err, errlen) ||
        arg_int(args, "replication_factor", -1, INT16_MAX, &replication, err, errlen) ||
        arg_override(args, &override, err, errlen) ||
        configs_from_object(json_object_get(args, "configs"), "configs", &configs, err, errlen))
        goto out;
    /* An existing topic is TOPIC_ALREADY_EXISTS below, whatever the limits. */
    if (!st_topics_find(b->topics, name, strlen(name)) &&
        check_limits(b, name, 1, partitions > 0 ? partitions : b->cfg.num_partitions, override,
                     overridden, sizeof overridden, err, errlen))
        goto out;
    int code = st_topics_create(b->topics, name, (int32_t)partitions, (int16_t)replication,
                                configs.sets, configs.n, false, err, errlen);
    if (code != ST_ERR_NONE) {
        st_admin_fill_err(code, err, errlen);
        goto out;
    }
    const st_topic *t = find_topic(b, name, err, errlen);
    *result = t ? describe_topic(b, t, err, errlen) : NULL;
    rc = *result ? 0 : -1;
    if (*result)
        note_override("topics.create", name, overridden, override, *result);
out:
    config_list_free(&configs);
    return rc;
}

/* Validates every change first, then applies: a bad config does not leave the
 * partition count changed, and the reverse. */
int st_admin_topics_alter(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    config_list changes = {0};
    int64_t total = -1;
    int rc = -1, code = ST_ERR_NONE;
    const char *override = NULL;
    char overridden[512] = "";
    const char *name = arg_name(args, err, errlen);
    const st_topic *topic = name ? find_topic(b, name, err, errlen) : NULL;

    if (!topic || arg_int(args, "add_partitions", 1, INT32_MAX, &total, err, errlen) ||
        arg_override(args, &override, err, errlen) ||
        configs_from_object(json_object_get(args, "set"), "set", &changes, err, errlen) ||
        deletes_from_array(json_object_get(args, "delete"), &changes, err, errlen))
        goto out;
    if (changes.n == 0 && total < 0) {
        snprintf(err, errlen,
                 "topic \"%s\": nothing to alter: give \"set\", \"delete\" or "
                 "\"add_partitions\"",
                 name);
        goto out;
    }
    /* Growing (not shrinking: that is INVALID_PARTITIONS below) counts against the limit. */
    if (total > st_topic_partition_count(topic) &&
        check_limits(b, name, 0, total - st_topic_partition_count(topic), override, overridden,
                     sizeof overridden, err, errlen))
        goto out;
    for (int pass = 0; pass < 2; pass++) {
        bool validate_only = pass == 0;
        if (changes.n > 0)
            code = st_topics_alter_configs(b->topics, name, changes.sets, changes.n, true,
                                           validate_only, err, errlen);
        if (code == ST_ERR_NONE && total >= 0)
            code = st_topics_create_partitions(b->topics, name, (int32_t)total, validate_only, err,
                                               errlen);
        if (code != ST_ERR_NONE) {
            st_admin_fill_err(code, err, errlen);
            goto out;
        }
    }
    const st_topic *t = find_topic(b, name, err, errlen);
    *result = t ? describe_topic(b, t, err, errlen) : NULL;
    rc = *result ? 0 : -1;
    if (*result)
        note_override("topics.alter", name, overridden, override, *result);
out:
    config_list_free(&changes);
    return rc;
}

int st_admin_topics_delete(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    const char *name = arg_name(args, err, errlen);
    if (!name)
        return -1;
    int code = st_topics_delete(b->topics, name, err, errlen);
    if (code != ST_ERR_NONE) {
        st_admin_fill_err(code, err, errlen);
        return -1;
    }
    *result = json_pack("{s:s, s:b}", "name", name, "deleted", 1);
    return 0;
}
