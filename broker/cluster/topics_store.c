/*
 * topics.json and the few file-system steps the registry needs (see topics_int.h).
 *
 * The file is rewritten whole on every change: temp file, fsync, rename over the old
 * one, fsync of the directory. A crash leaves either the old or the new file, never a
 * torn one, and the registry never has to merge or replay anything.
 */
#include "broker/cluster/topics_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/fileio.h"

#define TOPICS_FILE "topics.json"

void st_config_kv_free(st_config_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].name);
        free(kv[i].value);
    }
    free(kv);
}

void st_topic_free(st_topic *topic)
{
    if (topic == NULL)
        return;
    free(topic->name);
    free(topic->partitions);
    st_config_kv_free(topic->overrides, topic->noverrides);
    free(topic);
}

int st_topics_store_save(const char *meta_dir, st_topic *const *topics, size_t n,
                         const char *const *removing, size_t nremoving, char *err, size_t errlen)
{
    int rc = -1;
    char *text = NULL;
    json_t *root = json_object();
    json_t *arr = json_array();
    json_object_set_new(root, "version", json_integer(1));
    json_object_set(root, "topics", arr);
    for (size_t i = 0; i < n; i++) {
        const st_topic *topic = topics[i];
        char hex[33];
        for (int k = 0; k < 16; k++)
            snprintf(hex + 2 * k, 3, "%02x", topic->id[k]);
        json_t *ov = json_object();
        for (size_t k = 0; k < topic->noverrides; k++)
            json_object_set_new(ov, topic->overrides[k].name,
                                json_string(topic->overrides[k].value));
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(topic->name));
        json_object_set_new(o, "id", json_string(hex));
        json_object_set_new(o, "partitions", json_integer(topic->npartitions));
        json_object_set_new(o, "overrides", ov);
        json_array_append_new(arr, o);
    }
    if (nremoving > 0) { /* older versions ignore the key */
        json_t *rm = json_array();
        for (size_t i = 0; i < nremoving; i++)
            json_array_append_new(rm, json_string(removing[i]));
        json_object_set_new(root, "removing", rm);
    }
    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text == NULL) {
        snprintf(err, errlen, "cannot encode %s/" TOPICS_FILE ": out of memory", meta_dir);
        goto out;
    }
    rc = st_file_write_atomic(meta_dir, TOPICS_FILE, text, strlen(text), true, err, errlen);
out:
    free(text);
    json_decref(arr);
    json_decref(root);
    return rc;
}

static int parse_hex_id(const char *s, uint8_t id[16])
{
    if (strlen(s) != 32)
        return -1;
    for (int k = 0; k < 16; k++) {
        unsigned v;
        if (sscanf(s + 2 * k, "%2x", &v) != 1 ||
            !((s[2 * k] >= '0' && s[2 * k] <= '9') || (s[2 * k] >= 'a' && s[2 * k] <= 'f')))
            return -1;
        id[k] = (uint8_t)v;
    }
    return 0;
}

/* Builds one topic from its topics.json entry (logs not opened yet). */
static st_topic *topic_from_json(const char *path, json_t *o, size_t i, char *err, size_t errlen)
{
    const char *name = json_string_value(json_object_get(o, "name"));
    const char *id = json_string_value(json_object_get(o, "id"));
    json_t *np = json_object_get(o, "partitions");
    json_t *ov = json_object_get(o, "overrides");
    char why[256];
    if (name == NULL || st_topic_name_check(name, strlen(name), why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s: topic #%zu: %s", path, i, name ? why : "\"name\" is missing");
        return NULL;
    }
    st_topic *topic = calloc(1, sizeof(*topic));
    if (topic == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    topic->name = strdup(name);
    topic->internal = strncmp(name, "__", 2) == 0;
    if (id == NULL || parse_hex_id(id, topic->id) != 0) {
        snprintf(err, errlen, "%s: topic \"%s\": \"id\" must be 32 hex digits", path, name);
        goto fail;
    }
    if (!json_is_integer(np) || json_integer_value(np) < 1 ||
        json_integer_value(np) > ST_TOPICS_MAX_PARTITIONS) {
        snprintf(err, errlen, "%s: topic \"%s\": \"partitions\" must be 1..%d", path, name,
                 ST_TOPICS_MAX_PARTITIONS);
        goto fail;
    }
    topic->npartitions = (int32_t)json_integer_value(np);
    if (ov != NULL && !json_is_object(ov)) {
        snprintf(err, errlen, "%s: topic \"%s\": \"overrides\" must be an object", path, name);
        goto fail;
    }
    size_t n = ov ? json_object_size(ov) : 0;
    topic->overrides = calloc(n ? n : 1, sizeof(*topic->overrides));
    const char *key;
    json_t *val;
    json_object_foreach(ov, key, val)
    {
        if (!json_is_string(val)) {
            snprintf(err, errlen, "%s: topic \"%s\": override \"%s\" must be a string", path, name,
                     key);
            goto fail;
        }
        topic->overrides[topic->noverrides].name = strdup(key);
        topic->overrides[topic->noverrides].value = strdup(json_string_value(val));
        topic->noverrides++;
    }
    return topic;
fail:
    st_topic_free(topic);
    return NULL;
}

int st_topics_store_load(const char *meta_dir, st_topics_store_cb *cb,
                         st_topics_store_removing_cb *removing_cb, void *arg, char *err,
                         size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/" TOPICS_FILE, meta_dir);
    int rc = -1;
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (root == NULL) {
        if (access(path, F_OK) != 0 && errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
        return -1;
    }
    json_t *arr = json_object_get(root, "topics");
    if (!json_is_array(arr)) {
        snprintf(err, errlen, "%s: \"topics\" must be an array", path);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(arr); i++) {
        st_topic *topic = topic_from_json(path, json_array_get(arr, i), i, err, errlen);
        if (topic == NULL || cb(arg, topic, err, errlen) != 0)
            goto out;
    }
    json_t *rm = json_object_get(root, "removing");
    for (size_t i = 0; json_is_array(rm) && i < json_array_size(rm); i++) {
        const char *name = json_string_value(json_array_get(rm, i));
        char why[256];
        /* a name that is not one cannot name a directory of ours: skip it */
        if (name && st_topic_name_check(name, strlen(name), why, sizeof(why)) == 0)
            removing_cb(arg, name);
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}
