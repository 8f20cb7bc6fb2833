/*
 * The groups.* management commands (registered in admin.c's table): list, describe,
 * delete and reset-offsets of consumer groups, for `strait groups` and the console.
 *
 * Group state and committed offsets come only from the coordinator (broker/group/
 * group.h) and log offsets only from the topic registry; what this file adds is the
 * join of the two (lag per partition, who owns it now), the decoding of each member's
 * consumer-protocol assignment for display, and the arithmetic of an offset reset.
 *
 * Results are JSON objects:
 *   groups.list                → {groups: [{group, state, protocol_type, members}]}
 *   groups.describe {group}    → {group, state, protocol_type, protocol, generation, leader,
 *                                 members: [{member_id, client_id, client_host,
 *                                            assignment: [{topic, partitions}]}],
 *                                 offsets: [{topic, partition, committed, log_end, lag,
 *                                            member_id}]}
 *   groups.delete {group}      → {group, deleted: true}
 *   groups.reset-offsets {...} → {group, dry_run, applied, active_members,
 *                                 offsets: [{topic, partition, current, new}]}
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "broker/mgmt/admin.h"
#include "broker/mgmt/mgmt_int.h"
#include "broker/broker_int.h"
#include "broker/group/group.h"
#include "common/buf.h"
#include "common/errors.h"

/* ---- helpers ---- */

/* The coordinator is opened after the topic registry; a broker built without it (the
 * fuzz harness) answers with this rather than crashing. */
static int need_groups(const st_broker *b, char *err, size_t errlen)
{
    if (b->groups)
        return 0;
    snprintf(err, errlen, "the broker has no group coordinator open");
    return -1;
}

/* The required "group" argument (borrowed from args). */
static const char *arg_group(json_t *args, char *err, size_t errlen)
{
    json_t *v = json_object_get(args, "group");
    if (!v) {
        snprintf(err, errlen, "\"group\" is required: the consumer group id");
        return NULL;
    }
    if (!json_is_string(v) || json_string_length(v) == 0) {
        snprintf(err, errlen, "\"group\" must be a non-empty string");
        return NULL;
    }
    return json_string_value(v);
}

/* A coordinator error as a message: its own text if it gave one. */
static void group_err(int code, const char *group, char *err, size_t errlen)
{
    if (*err)
        return;
    if (code == ST_ERR_GROUP_ID_NOT_FOUND)
        snprintf(err, errlen, "group \"%s\" does not exist", group);
    else
        snprintf(err, errlen, "group \"%s\": %s (Kafka error %d)", group, st_err_name(code), code);
}

/* (topic, partition) rows of describe and reset-offsets. */
typedef struct offset_row {
    char *topic; /* owned */
    int32_t partition;
    int64_t committed; /* -1: no commit */
    const char *owner; /* member id, borrowed from the result JSON; NULL: unowned */
} offset_row;

typedef struct offset_rows {
    offset_row *v;
    size_t n, cap;
    bool oom;
} offset_rows;

static void rows_free(offset_rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i].topic);
    free(r->v);
    memset(r, 0, sizeof(*r));
}

/* Adds a row; topic is copied (tlen bytes). Sets r->oom on failure. */
static void rows_add(offset_rows *r, const char *topic, size_t tlen, int32_t partition,
                     int64_t committed, const char *owner)
{
    if (r->oom)
        return;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        offset_row *v = realloc(r->v, cap * sizeof(*v));
        if (!v) {
            r->oom = true;
            return;
        }
        r->v = v;
        r->cap = cap;
    }
    char *t = strndup(topic, tlen);
    if (!t) {
        r->oom = true;
        return;
    }
    r->v[r->n++] = (offset_row){t, partition, committed, owner};
}

static int row_cmp(const void *a, const void *b)
{
    const offset_row *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    if (c)
        return c;
    return x->partition < y->partition ? -1 : x->partition > y->partition;
}

/* Sorts and merges rows with the same (topic, partition): a committed row and an
 * assigned row become one carrying both the commit and the owner. */
static void rows_sort_merge(offset_rows *r)
{
    if (r->n == 0)
        return;
    qsort(r->v, r->n, sizeof(*r->v), row_cmp);
    size_t out = 0;
    for (size_t i = 1; i < r->n; i++) {
        offset_row *keep = &r->v[out];
        if (row_cmp(keep, &r->v[i]) == 0) {
            if (keep->committed < 0)
                keep->committed = r->v[i].committed;
            if (!keep->owner)
                keep->owner = r->v[i].owner;
            free(r->v[i].topic);
        } else {
            r->v[++out] = r->v[i];
        }
    }
    r->n = out + 1;
}

static const offset_row *rows_find(const offset_rows *r, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].partition == partition && strcmp(r->v[i].topic, topic) == 0)
            return &r->v[i];
    return NULL;
}

static void collect_committed(void *arg, const st_committed_view *c)
{
    rows_add(arg, c->topic, strlen(c->topic), c->partition, c->offset, NULL);
}

/* ---- the consumer protocol assignment ---- */

/* A bounds-checked reader over bytes a client sent (the leader's assignment). */
typedef struct reader {
    const uint8_t *p;
    size_t left;
} reader;

static bool read_i16(reader *r, int16_t *v)
{
    if (r->left < 2)
        return false;
    *v = (int16_t)st_be16(r->p);
    r->p += 2;
    r->left -= 2;
    return true;
}

static bool read_i32(reader *r, int32_t *v)
{
    if (r->left < 4)
        return false;
    *v = (int32_t)st_be32(r->p);
    r->p += 4;
    r->left -= 4;
    return true;
}

/*
 * ConsumerProtocolAssignment (every version starts the same way; later fields and the
 * user data are not needed here and are left unread):
 *   int16 version | int32 n | n × {int16 len, topic bytes, int32 m, m × int32 partition}
 * Returns a new [{topic, partitions}] array, or NULL with why set (malformed bytes or
 * out of memory). Empty bytes (a member before its first SyncGroup) are an empty list.
 */
static json_t *decode_assignment(const uint8_t *bytes, size_t len, char *why, size_t whylen)
{
    reader r = {bytes, len};
    int16_t version;
    int32_t ntopics;
    json_t *list = json_array();

    if (!list) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    if (len == 0)
        return list;
    if (!read_i16(&r, &version) || version < 0 || !read_i32(&r, &ntopics) || ntopics < -1) {
        snprintf(why, whylen, "assignment header is malformed (%zu bytes)", len);
        goto bad;
    }
    for (int32_t i = 0; i < ntopics; i++) {
        int16_t tlen;
        int32_t nparts;
        if (!read_i16(&r, &tlen) || tlen < 0 || r.left < (size_t)tlen) {
            snprintf(why, whylen, "assignment topic %d: bad name length", (int)i);
            goto bad;
        }
        const char *topic = (const char *)r.p;
        r.p += tlen;
        r.left -= (size_t)tlen;
        /* Each partition is 4 bytes: a count beyond what is left is a lie. */
        if (!read_i32(&r, &nparts) || nparts < -1 ||
            (size_t)(nparts < 0 ? 0 : nparts) > r.left / 4) {
            snprintf(why, whylen, "assignment topic %d: bad partition count", (int)i);
            goto bad;
        }
        json_t *parts = json_array();
        json_t *entry = json_object();
        json_t *name = json_stringn(topic, (size_t)tlen);
        for (int32_t k = 0; parts && k < nparts; k++) {
            int32_t p = -1;
            read_i32(&r, &p); /* in bounds: checked against the count above */
            json_array_append_new(parts, json_integer(p));
        }
        if (!parts || !entry || !name) {
            json_decref(parts);
            json_decref(entry);
            json_decref(name);
            snprintf(why, whylen, name ? "out of memory" : "assignment topic name is not UTF-8");
            goto bad;
        }
        json_object_set_new(entry, "topic", name);
        json_object_set_new(entry, "partitions", parts);
        json_array_append_new(list, entry);
    }
    return list;
bad:
    json_decref(list);
    return NULL;
}

/* ---- groups.list ---- */

static void list_one(void *arg, const st_group_view *v)
{
    json_t *list = arg;
    json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:I}", "group", v->group_id, "state",
                                          st_group_state_name(v->state), "protocol_type",
                                          v->protocol_type ? v->protocol_type : "", "members",
                                          (json_int_t)v->nmembers));
}

int st_admin_groups_list(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    if (need_groups(b, err, errlen))
        return -1;
    json_t *list = json_array();
    if (!list)
        return st_admin_oom(err, errlen);
    st_groups_foreach(b->groups, list_one, list);
    *result = json_pack("{s:o}", "groups", list);
    return *result ? 0 : st_admin_oom(err, errlen);
}

/* ---- groups.describe ---- */

typedef struct describe_ctx {
    json_t *desc;      /* the result being built */
    offset_rows *rows; /* assigned partitions, owner = member id in desc */
    size_t nmembers;
    bool failed;
} describe_ctx;

static void describe_one(void *arg, const st_group_view *v)
{
    describe_ctx *d = arg;
    json_t *members = json_array();
    d->nmembers = v->nmembers;
    d->desc = json_pack("{s:s, s:s, s:s, s:s, s:i, s:o}", "group", v->group_id, "state",
                        st_group_state_name(v->state), "protocol_type",
                        v->protocol_type ? v->protocol_type : "", "protocol",
                        v->protocol ? v->protocol : "", "generation", (int)v->generation, "leader",
                        v->leader_id && *v->leader_id ? json_string(v->leader_id) : json_null());
    if (!d->desc || !members) {
        json_decref(members);
        d->failed = true;
        return;
    }
    json_object_set_new(d->desc, "members", members);
    bool consumer = v->protocol_type && strcmp(v->protocol_type, "consumer") == 0;
    for (size_t i = 0; i < v->nmembers; i++) {
        const st_group_member_view *m = &v->members[i];
        char why[128] = "";
        json_t *assignment =
            consumer ? decode_assignment(m->assignment, m->assignment_len, why, sizeof(why))
                     : json_array();
        json_t *member =
            json_pack("{s:s, s:s?, s:s, s:s, s:o}", "member_id", m->member_id, "group_instance_id",
                      m->group_instance_id, "client_id", m->client_id ? m->client_id : "",
                      "client_host", m->client_host ? m->client_host : "", "assignment",
                      assignment ? assignment : json_null());
        if (!member || json_array_append_new(members, member) != 0) {
            d->failed = true;
            return;
        }
        if (!assignment) {
            /* Shown, not fatal: a client's odd bytes must not hide the whole group. */
            json_object_set_new(member, "assignment_error", json_string(why));
            continue;
        }
        /* The owner borrows the member id string held by desc. */
        const char *owner = json_string_value(json_object_get(member, "member_id"));
        size_t k, j;
        json_t *t, *p;
        json_array_foreach(assignment, k, t)
        {
            json_t *name = json_object_get(t, "topic");
            json_array_foreach(json_object_get(t, "partitions"), j, p)
                rows_add(d->rows, json_string_value(name), json_string_length(name),
                         (int32_t)json_integer_value(p), -1, owner);
        }
    }
}

/* The log end offset of a partition, or -1 when it no longer exists. */
static int64_t log_end(st_broker *b, const char *topic, int32_t partition)
{
    st_partition *p = st_topics_partition(b->topics, topic, strlen(topic), partition);
    st_log *log = p ? st_partition_log(p) : NULL;
    return log ? st_log_end_offset(log) : -1;
}

int st_admin_groups_describe(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    offset_rows rows = {0};
    describe_ctx d = {.rows = &rows};
    json_t *offsets = NULL;
    int rc = -1;
    const char *group = arg_group(args, err, errlen);

    if (!group || need_groups(b, err, errlen))
        goto out;
    int code = st_groups_describe(b->groups, group, describe_one, &d);
    if (code != ST_ERR_NONE) {
        group_err(code, group, err, errlen);
        goto out;
    }
    if (d.failed || !d.desc) {
        st_admin_oom(err, errlen);
        goto out;
    }
    code = st_groups_offsets(b->groups, group, collect_committed, &rows);
    if (code != ST_ERR_NONE && code != ST_ERR_GROUP_ID_NOT_FOUND) {
        group_err(code, group, err, errlen);
        goto out;
    }
    if (rows.oom || !(offsets = json_array())) {
        st_admin_oom(err, errlen);
        goto out;
    }
    rows_sort_merge(&rows);
    for (size_t i = 0; i < rows.n; i++) {
        const offset_row *r = &rows.v[i];
        int64_t end = log_end(b, r->topic, r->partition);
        bool has_lag = end >= 0 && r->committed >= 0;
        if (json_array_append_new(
                offsets, json_pack("{s:s, s:i, s:o, s:o, s:o, s:o}", "topic", r->topic, "partition",
                                   (int)r->partition, "committed",
                                   r->committed >= 0 ? json_integer(r->committed) : json_null(),
                                   "log_end", end >= 0 ? json_integer(end) : json_null(), "lag",
                                   has_lag ? json_integer(end - r->committed) : json_null(),
                                   "member_id", r->owner ? json_string(r->owner) : json_null())) !=
            0) {
            st_admin_oom(err, errlen);
            goto out;
        }
    }
    json_object_set_new(d.desc, "offsets", offsets);
    offsets = NULL;
    *result = d.desc;
    d.desc = NULL;
    rc = 0;
out:
    json_decref(offsets);
    json_decref(d.desc);
    rows_free(&rows);
    return rc;
}

/* ---- groups.delete ---- */

int st_admin_groups_delete(st_broker *b, json_t *args, json_t **result, char *err, size_t errlen)
{
    const char *group = arg_group(args, err, errlen);
    if (!group || need_groups(b, err, errlen))
        return -1;
    *err = '\0';
    int code = st_groups_delete(b->groups, group, err, errlen);
    if (code != ST_ERR_NONE) {
        group_err(code, group, err, errlen);
        return -1;
    }
    *result = json_pack("{s:s, s:b}", "group", group, "deleted", 1);
    return *result ? 0 : st_admin_oom(err, errlen);
}

/* ---- groups.reset-offsets ---- */

typedef enum reset_how {
    RESET_EARLIEST,
    RESET_LATEST,
    RESET_OFFSET,
    RESET_TIME,
    RESET_SHIFT
} reset_how;

typedef struct reset_spec {
    reset_how how;
    int64_t value; /* the offset, timestamp (ms) or shift */
} reset_spec;

/* Two digits at s[0..1] in [min, max], or -1. */
static int two_digits(const char *s, int min, int max)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    int v = (s[0] - '0') * 10 + (s[1] - '0');
    return v < min || v > max ? -1 : v;
}

/*
 * ISO 8601 as Kafka's --to-datetime takes it: YYYY-MM-DDTHH:MM:SS[.fff] then Z, ±HH:MM,
 * ±HHMM or nothing (UTC: the broker's time zone is no business of the caller's).
 * 0 with *ms set, or -1.
 */
static int parse_datetime(const char *s, int64_t *ms)
{
    struct tm tm = {0};
    int year = 0, frac_ms = 0, sign = 0, zone_min = 0;
    for (int i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        year = year * 10 + (s[i] - '0');
    }
    if (s[4] != '-' || (tm.tm_mon = two_digits(s + 5, 1, 12)) < 0 || s[7] != '-' ||
        (tm.tm_mday = two_digits(s + 8, 1, 31)) < 0 || (s[10] != 'T' && s[10] != ' ') ||
        (tm.tm_hour = two_digits(s + 11, 0, 23)) < 0 || s[13] != ':' ||
        (tm.tm_min = two_digits(s + 14, 0, 59)) < 0 || s[16] != ':' ||
        (tm.tm_sec = two_digits(s + 17, 0, 60)) < 0)
        return -1;
    tm.tm_year = year - 1900;
    tm.tm_mon -= 1;
    const char *p = s + 19;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3)
                frac_ms = frac_ms * 10 + (*p - '0');
        if (digits == 0)
            return -1;
        for (; digits < 3; digits++)
            frac_ms *= 10;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        int hh = two_digits(p + 1, 0, 23), mm;
        if (hh < 0)
            return -1;
        p += 3;
        if (*p == ':')
            p++;
        if ((mm = two_digits(p, 0, 59)) < 0)
            return -1;
        p += 2;
        zone_min = hh * 60 + mm;
    }
    if (*p)
        return -1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1 && errno == EOVERFLOW)
        return -1;
    *ms = ((int64_t)t - sign * zone_min * 60) * 1000 + frac_ms;
    return 0;
}

/* Exactly one of the reset methods, with its value. */
static int parse_reset_spec(json_t *args, reset_spec *spec, char *err, size_t errlen)
{
    static const char *const names[] = {"to_earliest", "to_latest", "to_offset", "to_datetime",
                                        "shift_by"};
    int found = -1;
    for (int i = 0; i < 5; i++) {
        json_t *v = json_object_get(args, names[i]);
        if (!v || json_is_null(v) || json_is_false(v))
            continue;
        if (found >= 0) {
            snprintf(err, errlen,
                     "give only one of to_earliest, to_latest, to_offset, "
                     "to_datetime, shift_by (got \"%s\" and \"%s\")",
                     names[found], names[i]);
            return -1;
        }
        found = i;
        spec->how = (reset_how)i;
        if (i <= 1 && !json_is_true(v)) {
            snprintf(err, errlen, "\"%s\" must be true", names[i]);
            return -1;
        }
        if ((i == 2 || i == 4) && !json_is_integer(v)) {
            snprintf(err, errlen, "\"%s\" must be an integer", names[i]);
            return -1;
        }
        if (i == 2 && json_integer_value(v) < 0) {
            snprintf(err, errlen, "\"to_offset\" must be 0 or more, got %" JSON_INTEGER_FORMAT,
                     json_integer_value(v));
            return -1;
        }
        if (i == 2 || i == 4)
            spec->value = json_integer_value(v);
        if (i == 3 && json_is_integer(v) && json_integer_value(v) >= 0) {
            spec->value = json_integer_value(v);
        } else if (i == 3 && (!json_is_string(v) ||
                              parse_datetime(json_string_value(v), &spec->value) != 0)) {
            snprintf(err, errlen,
                     "\"to_datetime\" must be ISO 8601 like \"2026-11-21T10:00:00Z\" (or "
                     "\"...10:00:00.000+01:00\") or epoch milliseconds, got %s%s%s",
                     json_is_string(v) ? "\"" : "",
                     json_is_string(v) ? json_string_value(v) : "a non-string",
                     json_is_string(v) ? "\"" : "");
            return -1;
        }
    }
    if (found < 0) {
        snprintf(err, errlen,
                 "say where to reset to: one of to_earliest, to_latest, to_offset N, "
                 "to_datetime T, shift_by N");
        return -1;
    }
    return 0;
}

/*
 * The partitions to reset, each with its current commit: every committed partition for
 * topic "all", else the named topic's partitions (all, or those listed).
 */
static int reset_targets(st_broker *b, const char *group, const char *topic, json_t *partitions,
                         const offset_rows *committed, offset_rows *targets, char *err,
                         size_t errlen)
{
    if (strcmp(topic, "all") == 0) {
        if (partitions && !json_is_null(partitions)) {
            snprintf(err, errlen, "\"partitions\" needs a single topic, not \"all\"");
            return -1;
        }
        if (committed->n == 0) {
            snprintf(err, errlen, "group \"%s\" has no committed offsets: name a topic to reset",
                     group);
            return -1;
        }
        for (size_t i = 0; i < committed->n; i++) {
            const offset_row *r = &committed->v[i];
            rows_add(targets, r->topic, strlen(r->topic), r->partition, r->committed, NULL);
        }
        return 0;
    }
    st_topic *t = st_topics_find(b->topics, topic, strlen(topic));
    if (!t) {
        snprintf(err, errlen, "topic \"%s\" does not exist", topic);
        return -1;
    }
    if (!partitions || json_is_null(partitions)) {
        for (int32_t p = 0; p < st_topic_partition_count(t); p++) {
            const offset_row *c = rows_find(committed, topic, p);
            rows_add(targets, topic, strlen(topic), p, c ? c->committed : -1, NULL);
        }
        return 0;
    }
    if (!json_is_array(partitions) || json_array_size(partitions) == 0) {
        snprintf(err, errlen, "\"partitions\" must be a non-empty array of partition numbers");
        return -1;
    }
    size_t i;
    json_t *v;
    json_array_foreach(partitions, i, v)
    {
        if (!json_is_integer(v)) {
            snprintf(err, errlen, "\"partitions\"[%zu] must be a partition number", i);
            return -1;
        }
        json_int_t p = json_integer_value(v);
        if (p < 0 || p >= st_topic_partition_count(t)) {
            snprintf(err, errlen,
                     "topic \"%s\" has %d partition%s (0-%d): there is no partition "
                     "%" JSON_INTEGER_FORMAT,
                     topic, (int)st_topic_partition_count(t),
                     st_topic_partition_count(t) == 1 ? "" : "s",
                     (int)st_topic_partition_count(t) - 1, p);
            return -1;
        }
        if (rows_find(targets, topic, (int32_t)p))
            continue; /* listed twice: once is enough */
        const offset_row *c = rows_find(committed, topic, (int32_t)p);
        rows_add(targets, topic, strlen(topic), (int32_t)p, c ? c->committed : -1, NULL);
    }
    return 0;
}

/* The new offset of one partition, clamped into its log like Kafka does. */
static int reset_offset(st_broker *b, const offset_row *r, const reset_spec *spec, int64_t *out,
                        char *err, size_t errlen)
{
    st_partition *p = st_topics_partition(b->topics, r->topic, strlen(r->topic), r->partition);
    st_log *log = p ? st_partition_log(p) : NULL;
    if (!log) {
        snprintf(err, errlen,
                 "topic \"%s\" partition %d has a committed offset but no longer exists: "
                 "reset the other topics by name",
                 r->topic, (int)r->partition);
        return -1;
    }
    int64_t start = st_log_start_offset(log), end = st_log_end_offset(log), want = 0, ts;
    switch (spec->how) {
    case RESET_EARLIEST:
        want = start;
        break;
    case RESET_LATEST:
        want = end;
        break;
    case RESET_OFFSET:
        want = spec->value;
        break;
    case RESET_TIME:
        st_log_offset_for_time(log, spec->value, &want, &ts);
        if (want < 0)
            want = end; /* nothing that late: Kafka resets to the end */
        break;
    case RESET_SHIFT:
        if (r->committed < 0) {
            snprintf(err, errlen,
                     "cannot shift topic \"%s\" partition %d: the group has no committed "
                     "offset there (use to_earliest, to_latest or to_offset)",
                     r->topic, (int)r->partition);
            return -1;
        }
        if (__builtin_add_overflow(r->committed, spec->value, &want))
            want = spec->value < 0 ? start : end;
        break;
    }
    *out = want < start ? start : want > end ? end : want;
    return 0;
}

static void count_members(void *arg, const st_group_view *v)
{
    *(size_t *)arg = v->nmembers;
}

int st_admin_groups_reset_offsets(st_broker *b, json_t *args, json_t **result, char *err,
                                  size_t errlen)
{
    offset_rows committed = {0}, targets = {0};
    st_offset_set *sets = NULL;
    json_t *list = NULL;
    reset_spec spec = {0};
    size_t nmembers = 0;
    int rc = -1;
    const char *group = arg_group(args, err, errlen);
    json_t *topic = json_object_get(args, "topic");
    json_t *dry = json_object_get(args, "dry_run");

    if (!group || need_groups(b, err, errlen))
        goto out;
    if (!topic || !json_is_string(topic) || json_string_length(topic) == 0) {
        snprintf(err, errlen,
                 "\"topic\" is required: a topic name, or \"all\" for every topic "
                 "the group has committed offsets for");
        goto out;
    }
    if (dry && !json_is_boolean(dry) && !json_is_null(dry)) {
        snprintf(err, errlen, "\"dry_run\" must be true or false");
        goto out;
    }
    if (parse_reset_spec(args, &spec, err, errlen) != 0)
        goto out;
    /* A group the coordinator does not know yet has no commits; naming a topic still
     * works then, as with Kafka (it is how a new group gets its start positions). */
    int code = st_groups_offsets(b->groups, group, collect_committed, &committed);
    if (code != ST_ERR_NONE && code != ST_ERR_GROUP_ID_NOT_FOUND) {
        group_err(code, group, err, errlen);
        goto out;
    }
    if (committed.oom) {
        st_admin_oom(err, errlen);
        goto out;
    }
    if (reset_targets(b, group, json_string_value(topic), json_object_get(args, "partitions"),
                      &committed, &targets, err, errlen) != 0)
        goto out;
    if (targets.oom || !(list = json_array()) ||
        (targets.n && !(sets = calloc(targets.n, sizeof(*sets))))) {
        st_admin_oom(err, errlen);
        goto out;
    }
    for (size_t i = 0; i < targets.n; i++) {
        const offset_row *r = &targets.v[i];
        int64_t want;
        if (reset_offset(b, r, &spec, &want, err, errlen) != 0)
            goto out;
        sets[i] = (st_offset_set){r->topic, r->partition, want};
        json_array_append_new(
            list,
            json_pack("{s:s, s:i, s:o, s:I}", "topic", r->topic, "partition", (int)r->partition,
                      "current", r->committed >= 0 ? json_integer(r->committed) : json_null(),
                      "new", (json_int_t)want));
    }
    /* Unknown group → no members; the count makes a refusal (and a dry run) explicit. */
    st_groups_describe(b->groups, group, count_members, &nmembers);
    bool dry_run = json_is_true(dry);
    if (!dry_run) {
        *err = '\0';
        code = st_groups_set_offsets(b->groups, group, sets, targets.n, err, errlen);
        if (code == ST_ERR_NON_EMPTY_GROUP) {
            char why[512];
            snprintf(why, sizeof(why), "%s", err);
            snprintf(err, errlen,
                     "group \"%s\" is active (%zu member%s): stop its consumers first%s%s", group,
                     nmembers, nmembers == 1 ? "" : "s", *why ? " — " : "", why);
            goto out;
        }
        if (code != ST_ERR_NONE) {
            group_err(code, group, err, errlen);
            goto out;
        }
    }
    *result =
        json_pack("{s:s, s:b, s:b, s:I, s:O}", "group", group, "dry_run", (int)dry_run, "applied",
                  (int)!dry_run, "active_members", (json_int_t)nmembers, "offsets", list);
    rc = *result ? 0 : st_admin_oom(err, errlen);
out:
    free(sets);
    json_decref(list);
    rows_free(&committed);
    rows_free(&targets);
    return rc;
}
