/*
 * Kafka 2.x's znodes as JSON (see zk_layout.h for the table). Encoders build jansson
 * objects in Kafka's field order and dump them compact; decoders read with bounds on
 * every count and range checks on every number.
 */
#include "broker/cluster/zk_layout.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

const char *const st_zk_persistent_paths[] = {
    "/brokers",
    "/brokers/ids",
    "/brokers/topics",
    "/brokers/seqid",
    "/admin",
    "/admin/delete_topics",
    "/config",
    "/config/topics",
    "/config/changes",
    "/config/clients",
    "/config/users",
    "/config/brokers",
    "/cluster",
    "/isr_change_notification",
    "/log_dir_event_notification",
};
const int st_zk_npersistent_paths =
    (int)(sizeof st_zk_persistent_paths / sizeof st_zk_persistent_paths[0]);

/* ---- paths ---- */

bool st_zk_topic_name_ok(const char *topic)
{
    size_t n = topic ? strlen(topic) : 0;
    if (n == 0 || n > 249 || strcmp(topic, ".") == 0 || strcmp(topic, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = topic[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool fits(int n, size_t cap)
{
    return n >= 0 && (size_t)n < cap;
}

bool st_zk_path_broker(char *buf, size_t cap, int32_t broker_id)
{
    return broker_id >= 0 && fits(snprintf(buf, cap, "/brokers/ids/%d", broker_id), cap);
}

bool st_zk_path_topic(char *buf, size_t cap, const char *topic)
{
    return st_zk_topic_name_ok(topic) && fits(snprintf(buf, cap, "/brokers/topics/%s", topic), cap);
}

bool st_zk_path_partitions(char *buf, size_t cap, const char *topic)
{
    return st_zk_topic_name_ok(topic) &&
           fits(snprintf(buf, cap, "/brokers/topics/%s/partitions", topic), cap);
}

bool st_zk_path_partition(char *buf, size_t cap, const char *topic, int32_t partition)
{
    return st_zk_topic_name_ok(topic) && partition >= 0 &&
           fits(snprintf(buf, cap, "/brokers/topics/%s/partitions/%d", topic, partition), cap);
}

bool st_zk_path_partition_state(char *buf, size_t cap, const char *topic, int32_t partition)
{
    return st_zk_topic_name_ok(topic) && partition >= 0 &&
           fits(snprintf(buf, cap, "/brokers/topics/%s/partitions/%d/state", topic, partition),
                cap);
}

bool st_zk_path_delete_topic(char *buf, size_t cap, const char *topic)
{
    return st_zk_topic_name_ok(topic) &&
           fits(snprintf(buf, cap, "/admin/delete_topics/%s", topic), cap);
}

/* ---- helpers ---- */

static json_t *parse(const char *json, size_t len, char *err, size_t errlen, const char *what)
{
    if (!json) {
        snprintf(err, errlen, "%s: the node holds no data", what);
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    if (!root) {
        snprintf(err, errlen, "%s: not JSON (%s at byte %d)", what, jerr.text, jerr.position);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(err, errlen, "%s: not a JSON object", what);
        return NULL;
    }
    return root;
}

/* An int32 field; numbers Kafka writes as strings (timestamps) are read either way. */
static bool get_i64(json_t *obj, const char *key, int64_t min, int64_t max, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    long long x;
    if (json_is_integer(v)) {
        x = json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        x = strtoll(s, &end, 10);
        if (errno || end == s || *end)
            return false;
    } else {
        return false;
    }
    if (x < min || x > max)
        return false;
    *out = x;
    return true;
}

static bool get_i32(json_t *obj, const char *key, int32_t min, int32_t *out)
{
    int64_t v;
    if (!get_i64(obj, key, min, INT32_MAX, &v))
        return false;
    *out = (int32_t)v;
    return true;
}

static bool copy_str(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap)
        return false;
    memcpy(dst, s, n + 1);
    return true;
}

static char *dump(json_t *root)
{
    char *s = root ? json_dumps(root, DUMP_FLAGS) : NULL;
    json_decref(root);
    if (!s)
        abort(); /* only on allocation failure, as st_buf does */
    return s;
}

static json_t *int_array(const int32_t *ids, int32_t n)
{
    json_t *a = json_array();
    for (int32_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer(ids[i]));
    return a;
}

/* A JSON array of broker ids: at most ST_ZK_MAX_REPLICAS, each >= 0 (-1 is allowed only
 * where allow_none says, never in these lists). */
static bool read_ids(json_t *a, int32_t *ids, int32_t cap, int32_t *n)
{
    if (!json_is_array(a) || json_array_size(a) > (size_t)cap)
        return false;
    *n = 0;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX)
            return false;
        ids[(*n)++] = (int32_t)json_integer_value(v);
    }
    return true;
}

static char *timestamp_str(int64_t ms, char buf[24])
{
    snprintf(buf, 24, "%lld", (long long)ms);
    return buf;
}

/* ---- /brokers/ids/<id> ---- */

bool st_zk_endpoint_parse(const char *s, st_zk_endpoint *ep)
{
    memset(ep, 0, sizeof *ep);
    const char *sep = strstr(s, "://");
    if (!sep || sep == s || (size_t)(sep - s) >= sizeof ep->listener)
        return false;
    memcpy(ep->listener, s, (size_t)(sep - s));
    const char *host = sep + 3, *host_end, *colon;
    if (*host == '[') {
        host_end = strchr(host, ']');
        if (!host_end || host_end[1] != ':')
            return false;
        colon = host_end + 1;
        host++;
    } else {
        colon = strrchr(host, ':');
        if (!colon)
            return false;
        host_end = colon;
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen >= sizeof ep->host)
        return false;
    memcpy(ep->host, host, hlen);
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || port < 0 || port > 65535)
        return false;
    ep->port = (int32_t)port;
    return true;
}

static void endpoint_str(const st_zk_endpoint *ep, char *buf, size_t cap)
{
    if (strchr(ep->host, ':'))
        snprintf(buf, cap, "%s://[%s]:%d", ep->listener, ep->host, ep->port);
    else
        snprintf(buf, cap, "%s://%s:%d", ep->listener, ep->host, ep->port);
}

char *st_zk_broker_encode(const st_zk_broker_info *b)
{
    json_t *root = json_object();
    json_t *map = json_object();
    json_t *eps = json_array();
    const st_zk_endpoint *plain = NULL;
    for (int32_t i = 0; i < b->nendpoints && i < ST_ZK_MAX_ENDPOINTS; i++) {
        const st_zk_endpoint *ep = &b->endpoints[i];
        json_object_set_new(map, ep->listener, json_string(ep->security_protocol));
        char s[400];
        endpoint_str(ep, s, sizeof s);
        json_array_append_new(eps, json_string(s));
        if (!plain && strcmp(ep->security_protocol, "PLAINTEXT") == 0)
            plain = ep;
    }
    char ts[24];
    json_object_set_new(root, "listener_security_protocol_map", map);
    json_object_set_new(root, "endpoints", eps);
    if (b->has_rack)
        json_object_set_new(root, "rack", json_string(b->rack));
    json_object_set_new(root, "jmx_port", json_integer(b->jmx_port));
    json_object_set_new(root, "host", plain ? json_string(plain->host) : json_null());
    json_object_set_new(root, "timestamp", json_string(timestamp_str(b->timestamp_ms, ts)));
    json_object_set_new(root, "port", json_integer(plain ? plain->port : -1));
    json_object_set_new(root, "version", json_integer(4));
    return dump(root);
}

int st_zk_broker_decode(int32_t id, const char *json, size_t len, st_zk_broker_info *out, char *err,
                        size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->id = id;
    out->jmx_port = -1;
    json_t *root = parse(json, len, err, errlen, "broker registration");
    if (!root)
        return -1;
    int rc = -1;
    if (!get_i32(root, "version", 1, &out->version)) {
        snprintf(err, errlen, "broker %d registration: no valid \"version\"", id);
        goto out;
    }
    int32_t jmx;
    if (get_i32(root, "jmx_port", -1, &jmx))
        out->jmx_port = jmx;
    get_i64(root, "timestamp", INT64_MIN, INT64_MAX, &out->timestamp_ms);
    json_t *rack = json_object_get(root, "rack");
    if (json_is_string(rack)) {
        if (!copy_str(out->rack, sizeof out->rack, json_string_value(rack))) {
            snprintf(err, errlen, "broker %d registration: rack longer than %zu bytes", id,
                     sizeof out->rack - 1);
            goto out;
        }
        out->has_rack = true;
    }
    if (out->version == 1) {
        json_t *host = json_object_get(root, "host");
        int32_t port;
        if (!json_is_string(host) || !get_i32(root, "port", 0, &port) ||
            !copy_str(out->endpoints[0].host, sizeof out->endpoints[0].host,
                      json_string_value(host))) {
            snprintf(err, errlen, "broker %d registration v1: needs \"host\" and \"port\"", id);
            goto out;
        }
        strcpy(out->endpoints[0].listener, "PLAINTEXT");
        strcpy(out->endpoints[0].security_protocol, "PLAINTEXT");
        out->endpoints[0].port = port;
        out->nendpoints = 1;
        rc = 0;
        goto out;
    }
    json_t *eps = json_object_get(root, "endpoints");
    json_t *map = json_object_get(root, "listener_security_protocol_map");
    if (!json_is_array(eps) || json_array_size(eps) == 0 ||
        json_array_size(eps) > ST_ZK_MAX_ENDPOINTS) {
        snprintf(err, errlen, "broker %d registration: \"endpoints\" must list 1 to %d endpoints",
                 id, ST_ZK_MAX_ENDPOINTS);
        goto out;
    }
    size_t i;
    json_t *v;
    json_array_foreach(eps, i, v)
    {
        st_zk_endpoint *ep = &out->endpoints[i];
        if (!json_is_string(v) || !st_zk_endpoint_parse(json_string_value(v), ep)) {
            snprintf(err, errlen,
                     "broker %d registration: endpoint %zu is not LISTENER://host:port", id, i);
            goto out;
        }
        json_t *proto = json_is_object(map) ? json_object_get(map, ep->listener) : NULL;
        const char *p = json_is_string(proto) ? json_string_value(proto) : ep->listener;
        if (!copy_str(ep->security_protocol, sizeof ep->security_protocol, p)) {
            snprintf(err, errlen, "broker %d registration: security protocol too long", id);
            goto out;
        }
    }
    out->nendpoints = (int32_t)json_array_size(eps);
    rc = 0;
out:
    json_decref(root);
    return rc;
}

/* ---- /controller, /controller_epoch ---- */

char *st_zk_controller_encode(int32_t broker_id, int64_t timestamp_ms)
{
    char ts[24];
    json_t *root = json_object();
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "brokerid", json_integer(broker_id));
    json_object_set_new(root, "timestamp", json_string(timestamp_str(timestamp_ms, ts)));
    return dump(root);
}

int st_zk_controller_decode(const char *json, size_t len, int32_t *broker_id, char *err,
                            size_t errlen)
{
    json_t *root = parse(json, len, err, errlen, "/controller");
    if (!root)
        return -1;
    int rc = get_i32(root, "brokerid", 0, broker_id) ? 0 : -1;
    if (rc)
        snprintf(err, errlen, "/controller: no valid \"brokerid\"");
    json_decref(root);
    return rc;
}

void st_zk_controller_epoch_encode(int32_t epoch, char buf[12])
{
    snprintf(buf, 12, "%d", epoch);
}

int st_zk_controller_epoch_decode(const char *data, size_t len, int32_t *epoch, char *err,
                                  size_t errlen)
{
    char tmp[16];
    if (!data || len == 0 || len >= sizeof tmp) {
        snprintf(err, errlen, "/controller_epoch: expected a number, got %zu bytes", len);
        return -1;
    }
    memcpy(tmp, data, len);
    tmp[len] = 0;
    char *end;
    errno = 0;
    long v = strtol(tmp, &end, 10);
    if (errno || end == tmp || *end || v < 0 || v > INT32_MAX) {
        snprintf(err, errlen, "/controller_epoch: \"%s\" is not a non-negative int32", tmp);
        return -1;
    }
    *epoch = (int32_t)v;
    return 0;
}

/* ---- /brokers/topics/<t> ---- */

void st_zk_replica_list_set(st_zk_replica_list *list, const int32_t *ids, int32_t n)
{
    free(list->ids);
    list->ids = NULL;
    list->n = 0;
    if (n <= 0)
        return;
    list->ids = malloc((size_t)n * sizeof *ids);
    if (!list->ids)
        abort();
    memcpy(list->ids, ids, (size_t)n * sizeof *ids);
    list->n = n;
}

int st_zk_topic_assignment_init(st_zk_topic_assignment *t, int32_t npartitions)
{
    memset(t, 0, sizeof *t);
    if (npartitions < 0 || npartitions > ST_ZK_MAX_PARTITIONS)
        return -1;
    t->partitions = calloc(npartitions ? (size_t)npartitions : 1, sizeof *t->partitions);
    if (!t->partitions)
        abort();
    t->npartitions = npartitions;
    return 0;
}

void st_zk_topic_assignment_free(st_zk_topic_assignment *t)
{
    for (int32_t i = 0; i < t->npartitions; i++) {
        free(t->partitions[i].replicas.ids);
        free(t->partitions[i].adding.ids);
        free(t->partitions[i].removing.ids);
    }
    free(t->partitions);
    memset(t, 0, sizeof *t);
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void st_zk_uuid_encode(const uint8_t id[16], char buf[23])
{
    int o = 0;
    for (int i = 0; i < 16; i += 3) {
        uint32_t v = (uint32_t)id[i] << 16;
        if (i + 1 < 16)
            v |= (uint32_t)id[i + 1] << 8;
        if (i + 2 < 16)
            v |= id[i + 2];
        int chars = i + 2 < 16 ? 4 : (i + 1 < 16 ? 3 : 2);
        for (int c = 0; c < chars; c++)
            buf[o++] = b64url[(v >> (18 - 6 * c)) & 63];
    }
    buf[o] = 0;
}

bool st_zk_uuid_decode(const char *s, uint8_t id[16])
{
    if (strlen(s) != 22)
        return false;
    uint8_t vals[24] = {0};
    for (int i = 0; i < 22; i++) {
        const char *p = strchr(b64url, s[i]);
        if (!p || !s[i])
            return false;
        vals[i] = (uint8_t)(p - b64url);
    }
    int o = 0;
    for (int i = 0; i < 24 && o < 16; i += 4) {
        uint32_t v = (uint32_t)vals[i] << 18 | (uint32_t)vals[i + 1] << 12 |
                     (uint32_t)vals[i + 2] << 6 | vals[i + 3];
        id[o++] = (uint8_t)(v >> 16);
        if (o < 16)
            id[o++] = (uint8_t)(v >> 8);
        if (o < 16)
            id[o++] = (uint8_t)v;
    }
    return (vals[21] & 15) == 0; /* the 4 bits past the 128 must be zero */
}

static json_t *replica_map(const st_zk_topic_assignment *t, int which)
{
    json_t *m = json_object();
    for (int32_t p = 0; p < t->npartitions; p++) {
        const st_zk_partition_assignment *pa = &t->partitions[p];
        const st_zk_replica_list *l = which == 0   ? &pa->replicas
                                      : which == 1 ? &pa->adding
                                                   : &pa->removing;
        if (which != 0 && l->n == 0)
            continue; /* Kafka lists only partitions being reassigned */
        char key[12];
        snprintf(key, sizeof key, "%d", p);
        json_object_set_new(m, key, int_array(l->ids, l->n));
    }
    return m;
}

char *st_zk_topic_encode(const st_zk_topic_assignment *t)
{
    json_t *root = json_object();
    json_object_set_new(root, "version", json_integer(2));
    json_object_set_new(root, "partitions", replica_map(t, 0));
    json_object_set_new(root, "adding_replicas", replica_map(t, 1));
    json_object_set_new(root, "removing_replicas", replica_map(t, 2));
    if (t->has_topic_id) {
        char id[23];
        st_zk_uuid_encode(t->topic_id, id);
        json_object_set_new(root, "topic_id", json_string(id));
    }
    return dump(root);
}

/* "17" → 17; anything else (signs, spaces, leading zeros, too large) → -1. */
static int32_t partition_key(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 9 || (n > 1 && k[0] == '0'))
        return -1;
    int32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (k[i] < '0' || k[i] > '9')
            return -1;
        v = v * 10 + (k[i] - '0');
    }
    return v;
}

static bool read_list(json_t *a, st_zk_replica_list *l)
{
    int32_t ids[ST_ZK_MAX_REPLICAS], n;
    if (!read_ids(a, ids, ST_ZK_MAX_REPLICAS, &n))
        return false;
    for (int32_t i = 0; i < n; i++)
        for (int32_t j = 0; j < i; j++)
            if (ids[i] == ids[j])
                return false; /* a broker twice in one list */
    st_zk_replica_list_set(l, ids, n);
    return true;
}

static bool read_side_map(json_t *root, const char *key, st_zk_topic_assignment *t, int which,
                          char *err, size_t errlen)
{
    json_t *m = json_object_get(root, key);
    if (!m || json_is_null(m))
        return true;
    if (!json_is_object(m)) {
        snprintf(err, errlen, "topic assignment: \"%s\" is not an object", key);
        return false;
    }
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v)
    {
        int32_t p = partition_key(k);
        if (p < 0 || p >= t->npartitions) {
            snprintf(err, errlen,
                     "topic assignment: \"%s\" names partition \"%.20s\", not one of "
                     "0..%d",
                     key, k, t->npartitions - 1);
            return false;
        }
        st_zk_partition_assignment *pa = &t->partitions[p];
        if (!read_list(v, which == 1 ? &pa->adding : &pa->removing)) {
            snprintf(err, errlen,
                     "topic assignment: \"%s\" of partition %d is not a list of "
                     "distinct broker ids",
                     key, p);
            return false;
        }
    }
    return true;
}

int st_zk_topic_decode(const char *json, size_t len, st_zk_topic_assignment *out, char *err,
                       size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_t *root = parse(json, len, err, errlen, "topic assignment");
    if (!root)
        return -1;
    int rc = -1;
    json_t *parts = json_object_get(root, "partitions");
    if (!json_is_object(parts)) {
        snprintf(err, errlen, "topic assignment: no \"partitions\" object");
        goto out;
    }
    size_t n = json_object_size(parts);
    if (n == 0 || n > ST_ZK_MAX_PARTITIONS) {
        snprintf(err, errlen, "topic assignment: %zu partitions, expected 1 to %d", n,
                 ST_ZK_MAX_PARTITIONS);
        goto out;
    }
    st_zk_topic_assignment_init(out, (int32_t)n);
    bool *seen = calloc(n ? n : 1, 1);
    if (!seen)
        abort();
    const char *k;
    json_t *v;
    json_object_foreach(parts, k, v)
    {
        int32_t p = partition_key(k);
        if (p < 0 || (size_t)p >= n || seen[p]) {
            snprintf(err, errlen, "topic assignment: partition \"%.20s\" is not one of 0..%zu", k,
                     n - 1);
            free(seen);
            goto out;
        }
        seen[p] = true;
        if (!read_list(v, &out->partitions[p].replicas) || out->partitions[p].replicas.n == 0) {
            snprintf(err, errlen,
                     "topic assignment: partition %d needs a non-empty list of "
                     "distinct broker ids",
                     p);
            free(seen);
            goto out;
        }
    }
    free(seen);
    if (!read_side_map(root, "adding_replicas", out, 1, err, errlen) ||
        !read_side_map(root, "removing_replicas", out, 2, err, errlen))
        goto out;
    json_t *tid = json_object_get(root, "topic_id");
    if (json_is_string(tid)) {
        if (!st_zk_uuid_decode(json_string_value(tid), out->topic_id)) {
            snprintf(err, errlen, "topic assignment: topic_id \"%.40s\" is not a Kafka Uuid",
                     json_string_value(tid));
            goto out;
        }
        out->has_topic_id = true;
    }
    rc = 0;
out:
    if (rc)
        st_zk_topic_assignment_free(out);
    json_decref(root);
    return rc;
}

/* ---- partition state ---- */

char *st_zk_partition_state_encode(const st_zk_partition_state *s)
{
    json_t *root = json_object();
    json_object_set_new(root, "controller_epoch", json_integer(s->controller_epoch));
    json_object_set_new(root, "leader", json_integer(s->leader));
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "leader_epoch", json_integer(s->leader_epoch));
    json_object_set_new(root, "isr", int_array(s->isr, s->nisr));
    return dump(root);
}

int st_zk_partition_state_decode(const char *json, size_t len, st_zk_partition_state *out,
                                 char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_t *root = parse(json, len, err, errlen, "partition state");
    if (!root)
        return -1;
    int rc = -1;
    if (!get_i32(root, "leader", -1, &out->leader) ||
        !get_i32(root, "leader_epoch", 0, &out->leader_epoch) ||
        !get_i32(root, "controller_epoch", 0, &out->controller_epoch)) {
        snprintf(err, errlen,
                 "partition state: needs \"leader\" (>= -1), \"leader_epoch\" and "
                 "\"controller_epoch\" (>= 0)");
        goto out;
    }
    if (!read_ids(json_object_get(root, "isr"), out->isr, ST_ZK_MAX_REPLICAS, &out->nisr)) {
        snprintf(err, errlen, "partition state: \"isr\" must be a list of at most %d broker ids",
                 ST_ZK_MAX_REPLICAS);
        goto out;
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

/* ---- /cluster/id ---- */

char *st_zk_cluster_id_encode(const char *cluster_id)
{
    json_t *root = json_object();
    json_object_set_new(root, "version", json_string("1"));
    json_object_set_new(root, "id", json_string(cluster_id));
    return dump(root);
}

int st_zk_cluster_id_decode(const char *json, size_t len, char *buf, size_t cap, char *err,
                            size_t errlen)
{
    json_t *root = parse(json, len, err, errlen, "/cluster/id");
    if (!root)
        return -1;
    json_t *id = json_object_get(root, "id");
    int rc = -1;
    if (!json_is_string(id) || json_string_length(id) == 0)
        snprintf(err, errlen, "/cluster/id: no \"id\" string");
    else if (!copy_str(buf, cap, json_string_value(id)))
        snprintf(err, errlen, "/cluster/id: id longer than %zu bytes", cap - 1);
    else
        rc = 0;
    json_decref(root);
    return rc;
}
