/*
 * Committed offsets: the in-memory map group -> (topic, partition) -> offset, and its
 * durable form, records in the internal compacted topic __consumer_offsets written
 * in Kafka's own format, so that Kafka's tools (and compaction by key) understand
 * them. A group's records all go to partition Utils.abs(groupId.hashCode) % partitions,
 * as in Kafka. At open every partition is read from start to end and the records
 * applied in order; a record with a null value (tombstone) deletes its key.
 *
 * Keys and values (big-endian; strings are int16 length + bytes, -1 = null; bytes are
 * int32 length + bytes):
 *
 *   OffsetCommitKey     | int16 version (0/1; we write 1) | string group | string topic |
 *                       | int32 partition |
 *   OffsetCommitValue   | int16 version (we write 3, or 1 for an explicit expiry) |
 *                       | int64 offset | int32 leader_epoch (v3) | string metadata |
 *                       | int64 commit_timestamp | (v1 also int64 expire_timestamp)
 *   GroupMetadataKey    | int16 version = 2 | string group |
 *   GroupMetadataValue  | int16 version (we write 3) | string protocol_type |
 *                       | int32 generation | nullable string protocol |
 *                       | nullable string leader | int64 current_state_timestamp |
 *                       | int32 member count, each: string member_id,
 *                       |   nullable string group_instance_id, string client_id,
 *                       |   string client_host, int32 rebalance_timeout,
 *                       |   int32 session_timeout, bytes subscription, bytes assignment |
 *
 * Loading keeps only a group's existence, protocol type, generation and state timestamp
 * from its metadata record: members are not restored, so after a restart the group is
 * Empty and its consumers rejoin (their heartbeats get UNKNOWN_MEMBER_ID). A group whose
 * record had members counts as Empty from the load (its offsets' retention starts
 * then); one recorded Empty keeps the time it became Empty.
 *
 * Loop thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker_int.h"
#include "broker/group/group_int.h"
#include "broker/log/records.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/javahash.h"
#include "common/logging.h"

#define OFFSET_KEY_VERSION   1
#define OFFSET_VALUE_VERSION 3
#define OFFSET_VALUE_EXPIRE  1 /* the one version with an expire_timestamp */
#define GROUP_KEY_VERSION    2
#define GROUP_VALUE_VERSION  3
#define LOAD_READ_BYTES      (1 << 20)

/* ---- partition of a group ---- */

int32_t grp_offsets_partition(st_str group_id, int32_t partitions)
{
    return st_kafka_partition_for(group_id.ptr, group_id.len > 0 ? (size_t)group_id.len : 0,
                                  partitions);
}

/* ---- the in-memory map ---- */

static int offset_cmp(const grp_offset *o, st_str topic, int32_t partition)
{
    int c = -grp_str_cmp(topic, o->topic);
    if (c)
        return c;
    return o->partition < partition ? -1 : o->partition > partition ? 1 : 0;
}

/* Index of (topic, partition) in grp->offsets, or where it would go. */
static size_t offset_slot(const grp_group *grp, st_str topic, int32_t partition, bool *found)
{
    size_t lo = 0, hi = grp->noffsets;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = offset_cmp(&grp->offsets[mid], topic, partition);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c > 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

const grp_offset *grp_offsets_find(const grp_group *grp, st_str topic, int32_t partition)
{
    bool found;
    size_t i = offset_slot(grp, topic, partition, &found);
    return found ? &grp->offsets[i] : NULL;
}

static void offset_put(grp_group *grp, st_str topic, int32_t partition, int64_t offset,
                       int32_t leader_epoch, st_str metadata, int64_t commit_ts, int64_t expire_ts)
{
    bool found;
    size_t i = offset_slot(grp, topic, partition, &found);
    if (!found) {
        if (grp->noffsets == grp->offsets_cap) {
            grp->offsets_cap = grp->offsets_cap ? 2 * grp->offsets_cap : 8;
            grp->offsets = grp_xrealloc(grp->offsets, grp->offsets_cap * sizeof *grp->offsets);
        }
        memmove(&grp->offsets[i + 1], &grp->offsets[i], (grp->noffsets - i) * sizeof *grp->offsets);
        grp->noffsets++;
        grp->offsets[i] = (grp_offset){grp_dup_str(topic), partition, 0, -1, NULL, 0, -1, 0};
    }
    grp_offset *o = &grp->offsets[i];
    o->offset = offset;
    o->leader_epoch = leader_epoch;
    free(o->metadata);
    o->metadata = grp_dup_str(metadata);
    o->commit_timestamp_ms = commit_ts;
    o->expire_timestamp_ms = expire_ts;
}

static void offset_del(grp_group *grp, st_str topic, int32_t partition)
{
    bool found;
    size_t i = offset_slot(grp, topic, partition, &found);
    if (!found)
        return;
    free(grp->offsets[i].topic);
    free(grp->offsets[i].metadata);
    memmove(&grp->offsets[i], &grp->offsets[i + 1], (grp->noffsets - i - 1) * sizeof *grp->offsets);
    grp->noffsets--;
}

void grp_offsets_free(grp_group *grp)
{
    for (size_t i = 0; i < grp->noffsets; i++) {
        free(grp->offsets[i].topic);
        free(grp->offsets[i].metadata);
    }
    free(grp->offsets);
    grp->offsets = NULL;
    grp->noffsets = grp->offsets_cap = 0;
}

/* Forgets a group nothing refers to any more (no members, offsets or record). */
static void maybe_forget(st_groups *g, grp_group *grp)
{
    if (grp->state == ST_GROUP_EMPTY && !grp->nmembers && !grp->npending && !grp->noffsets &&
        !grp->has_metadata_record)
        grp_remove(g, grp);
}

/* ---- writing records ---- */

/* Records being prepared: keys and values live in `data`. */
typedef struct rec {
    size_t key_at, key_len;
    size_t value_at;
    int32_t value_len; /* -1: tombstone */
} rec;

typedef struct rec_set {
    st_buf data;
    rec *recs;
    size_t n, cap;
} rec_set;

static void rec_begin(rec_set *s)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 8;
        s->recs = grp_xrealloc(s->recs, s->cap * sizeof *s->recs);
    }
    s->recs[s->n] = (rec){s->data.len, 0, 0, -1};
}

static void rec_key_done(rec_set *s)
{
    rec *r = &s->recs[s->n];
    r->key_len = s->data.len - r->key_at;
    r->value_at = s->data.len;
}

/* Ends the record; with_value false makes it a tombstone. */
static void rec_done(rec_set *s, bool with_value)
{
    rec *r = &s->recs[s->n];
    r->value_len = with_value ? (int32_t)(s->data.len - r->value_at) : -1;
    s->n++;
}

static void rec_set_free(rec_set *s)
{
    st_buf_free(&s->data);
    free(s->recs);
}

static void put_offset_key(rec_set *s, const char *group, st_str topic, int32_t partition)
{
    rec_begin(s);
    st_buf_put_i16(&s->data, OFFSET_KEY_VERSION);
    st_wr_str(&s->data, false, group, -1);
    st_wr_str(&s->data, false, topic.ptr ? topic.ptr : "", topic.len > 0 ? topic.len : 0);
    st_buf_put_i32(&s->data, partition);
    rec_key_done(s);
}

static void put_group_key(rec_set *s, const char *group)
{
    rec_begin(s);
    st_buf_put_i16(&s->data, GROUP_KEY_VERSION);
    st_wr_str(&s->data, false, group, -1);
    rec_key_done(s);
}

static void flushed_quietly(void *arg, int err)
{
    if (err)
        st_error("flushing %s failed (%s): recent group changes may not survive a crash",
                 GROUP_OFFSETS_TOPIC, st_err_name(err));
}

/* Appends the records as one batch to the group's partition of __consumer_offsets.
 * Returns 0 or the wire code for the requests that wanted this write. *flush_log is
 * set when the log asks for a flush (NULL flush_log: the flush is asked for here and
 * not awaited). */
static int append_set(st_groups *g, const char *group, const rec_set *s, st_log **flush_log)
{
    if (s->n == 0)
        return 0;
    st_topic *t = st_topics_find(g->b->topics, GROUP_OFFSETS_TOPIC, strlen(GROUP_OFFSETS_TOPIC));
    if (!t || st_topic_partition_count(t) <= 0) {
        st_error("group \"%s\": topic %s is missing: cannot write", group, GROUP_OFFSETS_TOPIC);
        return ST_ERR_COORDINATOR_NOT_AVAILABLE;
    }
    int32_t p =
        grp_offsets_partition((st_str){group, (int32_t)strlen(group)}, st_topic_partition_count(t));
    st_log *log = st_topic_log(t, p);
    int64_t now = st_wall_ms();
    st_buf batch = ST_BUF_INIT;
    st_batch_builder bb;
    st_batch_builder_init(&bb, &batch, 0, now, -1, -1, -1, 0);
    for (size_t i = 0; i < s->n; i++) {
        const rec *r = &s->recs[i];
        st_bytes key = {s->data.data + r->key_at, (int32_t)r->key_len};
        st_bytes value = {r->value_len < 0 ? NULL : s->data.data + r->value_at, r->value_len};
        st_batch_builder_add(&bb, (int64_t)i, now, key, value, 0, (st_bytes){NULL, 0});
    }
    size_t size = st_batch_builder_finish(&bb);
    st_append_result res;
    int rc = st_log_append(log, batch.data, size, now, &res);
    st_buf_free(&batch);
    if (rc) {
        st_error("group \"%s\": appending %zu record(s) to %s-%d failed (%s): %s", group, s->n,
                 GROUP_OFFSETS_TOPIC, p, st_err_name(rc), res.why);
        /* Kafka's mapping of a failed offsets append. */
        if (rc == ST_ERR_MESSAGE_TOO_LARGE || rc == ST_ERR_RECORD_LIST_TOO_LARGE)
            return ST_ERR_INVALID_COMMIT_OFFSET_SIZE;
        return ST_ERR_COORDINATOR_NOT_AVAILABLE;
    }
    if (res.flush_needed) {
        if (flush_log)
            *flush_log = log;
        else
            st_log_flush_async(log, flushed_quietly, NULL);
    }
    return 0;
}

void grp_offsets_validate(st_groups *g, grp_commit *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (c[i].error)
            continue;
        if (c[i].topic.len <= 0 || !st_topics_partition(g->b->topics, c[i].topic.ptr,
                                                        (size_t)c[i].topic.len, c[i].partition))
            c[i].error = ST_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        else if (c[i].metadata.len > GROUP_OFFSET_METADATA_MAX)
            c[i].error = ST_ERR_OFFSET_METADATA_TOO_LARGE;
    }
}

void grp_offsets_store(st_groups *g, grp_group *grp, grp_commit *c, size_t n, st_log **flush_log)
{
    rec_set s = {ST_BUF_INIT, NULL, 0, 0};
    int64_t now = st_wall_ms();
    for (size_t i = 0; i < n; i++) {
        if (c[i].error)
            continue;
        put_offset_key(&s, grp->id, c[i].topic, c[i].partition);
        st_str md = c[i].metadata;
        bool expires = c[i].expire_timestamp_ms >= 0;
        /* Kafka writes an explicit expiry in value v1, which has no leader epoch. */
        st_buf_put_i16(&s.data, expires ? OFFSET_VALUE_EXPIRE : OFFSET_VALUE_VERSION);
        st_buf_put_i64(&s.data, c[i].offset);
        if (!expires)
            st_buf_put_i32(&s.data, c[i].leader_epoch);
        st_wr_str(&s.data, false, md.len > 0 ? md.ptr : "", md.len > 0 ? md.len : 0);
        st_buf_put_i64(&s.data, now);
        if (expires)
            st_buf_put_i64(&s.data, c[i].expire_timestamp_ms);
        rec_done(&s, true);
    }
    int rc = append_set(g, grp->id, &s, flush_log);
    for (size_t i = 0; i < n; i++) {
        if (c[i].error)
            continue;
        if (rc)
            c[i].error = (int16_t)rc;
        else
            offset_put(grp, c[i].topic, c[i].partition, c[i].offset,
                       c[i].expire_timestamp_ms >= 0 ? -1 : c[i].leader_epoch, c[i].metadata, now,
                       c[i].expire_timestamp_ms);
    }
    rec_set_free(&s);
    maybe_forget(g, grp);
}

void grp_offsets_write_group(st_groups *g, grp_group *grp)
{
    rec_set s = {ST_BUF_INIT, NULL, 0, 0};
    put_group_key(&s, grp->id);
    st_buf *d = &s.data;
    st_buf_put_i16(d, GROUP_VALUE_VERSION);
    st_wr_str(d, false, grp->protocol_type, -1);
    st_buf_put_i32(d, grp->generation);
    st_wr_str(d, false, grp->protocol[0] ? grp->protocol : NULL, -1);
    st_wr_str(d, false, grp->leader ? grp->leader->member_id : NULL, -1);
    st_buf_put_i64(d, grp->state_timestamp_ms);
    st_wr_array(d, false, (int32_t)grp->nmembers);
    for (size_t i = 0; i < grp->nmembers; i++) {
        const grp_member *m = grp->members[i];
        const grp_protocol *p = grp_member_protocol(m, grp->protocol);
        st_wr_str(d, false, m->member_id, -1);
        st_wr_str(d, false, m->group_instance_id, -1);
        st_wr_str(d, false, m->client_id, -1);
        st_wr_str(d, false, m->client_host, -1);
        st_buf_put_i32(d, m->rebalance_timeout_ms);
        st_buf_put_i32(d, m->session_timeout_ms);
        st_wr_bytes(d, false, p ? p->metadata : (const uint8_t *)"",
                    p ? (int32_t)p->metadata_len : 0);
        st_wr_bytes(d, false, m->assignment ? m->assignment : (const uint8_t *)"",
                    (int32_t)m->assignment_len);
    }
    rec_done(&s, true);
    /* The group's record is informational (offsets are what consumers resume from):
     * a failed write is logged by append_set and the rebalance goes on. */
    if (append_set(g, grp->id, &s, NULL) == 0)
        grp->has_metadata_record = true;
    rec_set_free(&s);
}

int grp_offsets_remove(st_groups *g, grp_group *grp, const bool *expired, bool group_tombstone)
{
    rec_set s = {ST_BUF_INIT, NULL, 0, 0};
    for (size_t i = 0; i < grp->noffsets; i++) {
        if (!expired[i])
            continue;
        const grp_offset *o = &grp->offsets[i];
        put_offset_key(&s, grp->id, (st_str){o->topic, (int32_t)strlen(o->topic)}, o->partition);
        rec_done(&s, false);
    }
    if (group_tombstone) {
        put_group_key(&s, grp->id);
        rec_done(&s, false);
    }
    int rc = append_set(g, grp->id, &s, NULL);
    rec_set_free(&s);
    if (rc)
        return rc;
    size_t kept = 0;
    for (size_t i = 0; i < grp->noffsets; i++) {
        if (expired[i]) {
            free(grp->offsets[i].topic);
            free(grp->offsets[i].metadata);
        } else {
            grp->offsets[kept++] = grp->offsets[i];
        }
    }
    grp->noffsets = kept;
    if (group_tombstone)
        grp->has_metadata_record = false;
    return 0;
}

int grp_offsets_delete_group(st_groups *g, grp_group *grp, char *err, size_t errlen)
{
    rec_set s = {ST_BUF_INIT, NULL, 0, 0};
    for (size_t i = 0; i < grp->noffsets; i++) {
        const grp_offset *o = &grp->offsets[i];
        put_offset_key(&s, grp->id, (st_str){o->topic, (int32_t)strlen(o->topic)}, o->partition);
        rec_done(&s, false);
    }
    put_group_key(&s, grp->id);
    rec_done(&s, false);
    int rc = append_set(g, grp->id, &s, NULL);
    rec_set_free(&s);
    if (rc) {
        snprintf(err, errlen, "group \"%s\": writing its deletion to %s failed (%s)", grp->id,
                 GROUP_OFFSETS_TOPIC, st_err_name(rc));
        return rc;
    }
    grp_offsets_free(grp);
    grp->has_metadata_record = false;
    return 0;
}

/* One tombstone per committed offset however often the request names it, as Kafka
 * writes (a partition named 50,000 times made a 50,000-record batch that
 * __consumer_offsets refused: INVALID_COMMIT_OFFSET_SIZE, nothing deleted), and the
 * array compacted once rather than moved per deletion. */
void grp_offsets_delete(st_groups *g, grp_group *grp, grp_commit *c, size_t n)
{
    rec_set s = {ST_BUF_INIT, NULL, 0, 0};
    bool *gone = grp_xcalloc(grp->noffsets ? grp->noffsets : 1, sizeof *gone);
    for (size_t i = 0; i < n; i++) {
        bool found;
        size_t k = c[i].error ? 0 : offset_slot(grp, c[i].topic, c[i].partition, &found);
        if (c[i].error || !found || gone[k])
            continue;
        gone[k] = true;
        put_offset_key(&s, grp->id, c[i].topic, c[i].partition);
        rec_done(&s, false);
    }
    int rc = append_set(g, grp->id, &s, NULL);
    for (size_t i = 0; i < n && rc; i++)
        if (!c[i].error)
            c[i].error = (int16_t)rc;
    size_t kept = 0;
    for (size_t k = 0; k < grp->noffsets; k++) {
        if (gone[k] && !rc) {
            free(grp->offsets[k].topic);
            free(grp->offsets[k].metadata);
        } else {
            grp->offsets[kept++] = grp->offsets[k];
        }
    }
    grp->noffsets = kept;
    free(gone);
    rec_set_free(&s);
    maybe_forget(g, grp);
}

int st_groups_offsets(st_groups *g, const char *group_id,
                      void (*fn)(void *arg, const st_committed_view *c), void *arg)
{
    grp_group *grp = grp_find(g, (st_str){group_id, (int32_t)strlen(group_id)});
    if (!grp)
        return ST_ERR_GROUP_ID_NOT_FOUND;
    for (size_t i = 0; i < grp->noffsets; i++) {
        const grp_offset *o = &grp->offsets[i];
        st_committed_view v = {o->topic, o->partition, o->offset, o->metadata,
                               o->commit_timestamp_ms};
        fn(arg, &v);
    }
    return 0;
}

/* ---- loading ---- */

typedef struct load_stats {
    size_t records, skipped;
} load_stats;

static void apply_offset(st_groups *g, st_str group, st_rd *key, st_bytes value, load_stats *st)
{
    st_str topic = st_rd_str(key, false);
    int32_t partition = st_rd_i32(key);
    if (key->err || group.len <= 0 || topic.len <= 0) {
        st->skipped++;
        return;
    }
    if (value.len < 0) {
        grp_group *grp = grp_find(g, group);
        if (grp) {
            offset_del(grp, topic, partition);
            maybe_forget(g, grp);
        }
        return;
    }
    st_rd v;
    st_rd_init(&v, value.ptr, (size_t)value.len);
    int16_t version = st_rd_i16(&v);
    int64_t offset = st_rd_i64(&v);
    int32_t epoch = version >= 3 ? st_rd_i32(&v) : -1;
    st_str metadata = st_rd_str(&v, false);
    int64_t ts = st_rd_i64(&v); /* v0 timestamp, v1+ commit timestamp */
    int64_t expire_ts = version == OFFSET_VALUE_EXPIRE ? st_rd_i64(&v) : -1;
    if (v.err || version < 0 || version > 3) {
        st->skipped++;
        return;
    }
    if (!grp_id_valid(group)) {
        st->skipped++;
        return;
    }
    grp_group *grp = grp_get_or_create(g, group);
    offset_put(grp, topic, partition, offset, epoch, metadata, ts, expire_ts);
}

static void apply_group(st_groups *g, st_str group, st_bytes value, load_stats *st)
{
    if (!grp_id_valid(group)) {
        st->skipped++;
        return;
    }
    if (value.len < 0) {
        grp_group *grp = grp_find(g, group);
        if (grp) {
            grp->has_metadata_record = false;
            maybe_forget(g, grp);
        }
        return;
    }
    st_rd v;
    st_rd_init(&v, value.ptr, (size_t)value.len);
    int16_t version = st_rd_i16(&v);
    st_str protocol_type = st_rd_str(&v, false); /* the first two fields in v0..v3 */
    int32_t generation = st_rd_i32(&v);
    if (v.err || version < 0 || version > 3) {
        st->skipped++;
        return;
    }
    st_rd_str(&v, false); /* protocol */
    st_rd_str(&v, false); /* leader */
    int64_t state_ts = version >= 2 ? st_rd_i64(&v) : -1;
    int32_t nmembers = st_rd_i32(&v);
    grp_group *grp = grp_get_or_create(g, group);
    free(grp->protocol_type);
    grp->protocol_type = grp_dup_str(protocol_type);
    grp->generation = generation;
    grp->has_metadata_record = true;
    /* Members are not restored: a group that had some is Empty from now on. Without a
     * readable timestamp the offsets' own commit times count (Kafka's fallback). */
    if (v.err)
        grp->state_timestamp_ms = -1;
    else
        grp->state_timestamp_ms = nmembers > 0 ? st_wall_ms() : state_ts;
}

static void apply_record(st_groups *g, const st_record *r, load_stats *st)
{
    st->records++;
    if (r->key.len < 2) {
        st->skipped++;
        return;
    }
    st_rd key;
    st_rd_init(&key, r->key.ptr, (size_t)r->key.len);
    int16_t version = st_rd_i16(&key);
    st_str group = st_rd_str(&key, false);
    if (version == 0 || version == 1)
        apply_offset(g, group, &key, r->value, st);
    else if (version == 2)
        apply_group(g, group, r->value, st);
    else
        st->skipped++; /* a newer record kind we do not know: leave it */
}

/* Applies every record of the whole batches in buf. Returns the offset after the last
 * batch read (from when nothing parsed). */
static int64_t apply_batches(st_groups *g, const uint8_t *buf, size_t len, int64_t from,
                             int32_t partition, load_stats *st)
{
    int64_t next = from;
    while (len >= ST_BATCH_LOG_OVERHEAD) {
        st_batch_info info;
        if (st_batch_header(buf, len, &info) || (size_t)info.size > len)
            break;
        if (!(info.attributes & ST_BATCH_ATTR_CONTROL)) {
            st_record_iter it;
            char why[160] = "";
            int rc = st_records_open(&it, buf, (size_t)info.size, why, sizeof why);
            st_record r;
            if (rc == 0) {
                while ((rc = st_records_next(&it, &r)) == 1)
                    if (r.offset >= from)
                        apply_record(g, &r, st);
            }
            if (rc)
                st_warn("%s-%d: batch at offset %lld unreadable (%s%s%s): the rest of its "
                        "records is skipped",
                        GROUP_OFFSETS_TOPIC, partition, (long long)info.base_offset,
                        st_err_name(rc), why[0] ? ": " : "", why);
            st_records_close(&it);
        }
        next = info.base_offset + info.last_offset_delta + 1;
        buf += info.size;
        len -= (size_t)info.size;
    }
    return next;
}

static int load_partition(st_groups *g, st_log *log, int32_t partition, load_stats *st, char *err,
                          size_t errlen)
{
    int64_t offset = st_log_start_offset(log), end = st_log_end_offset(log);
    uint8_t *buf = NULL;
    size_t cap = 0;
    int rc = 0;
    while (offset < end) {
        st_log_slice s;
        rc = st_log_read(log, offset, LOAD_READ_BYTES, &s);
        if (rc) {
            snprintf(err, errlen, "reading %s-%d at offset %lld failed: %s", GROUP_OFFSETS_TOPIC,
                     partition, (long long)offset, st_err_name(rc));
            rc = -1;
            break;
        }
        if (s.len == 0)
            break;
        if (s.len > cap) {
            cap = s.len;
            buf = grp_xrealloc(buf, cap);
        }
        size_t got = 0;
        while (got < s.len) {
            ssize_t n = pread(s.file->fd, buf + got, s.len - got, s.pos + (int64_t)got);
            if (n <= 0) {
                snprintf(err, errlen, "reading %s-%d at offset %lld failed: %s",
                         GROUP_OFFSETS_TOPIC, partition, (long long)offset,
                         n < 0 ? strerror(errno) : "unexpected end of file");
                rc = -1;
                break;
            }
            got += (size_t)n;
        }
        st_fileref_unref(s.file);
        if (rc)
            break;
        int64_t next = apply_batches(g, buf, s.len, offset, partition, st);
        if (next <= offset) {
            st_warn("%s-%d: no readable batch at offset %lld: the rest of the partition "
                    "(up to %lld) is not loaded",
                    GROUP_OFFSETS_TOPIC, partition, (long long)offset, (long long)end);
            break;
        }
        offset = next;
    }
    free(buf);
    return rc;
}

int grp_offsets_open(st_groups *g, char *err, size_t errlen)
{
    st_broker *b = g->b;
    size_t name_len = strlen(GROUP_OFFSETS_TOPIC);
    st_topic *t = st_topics_find(b->topics, GROUP_OFFSETS_TOPIC, name_len);
    if (!t) {
        char segment[32], why[256];
        snprintf(segment, sizeof segment, "%lld", (long long)b->cfg.offsets_segment_bytes);
        st_config_set configs[] = {{"cleanup.policy", "compact"}, {"segment.bytes", segment}};
        int rc = st_topics_create(b->topics, GROUP_OFFSETS_TOPIC, b->cfg.offsets_topic_partitions,
                                  1, configs, 2, false, why, sizeof why);
        if (rc) {
            snprintf(err, errlen, "cannot create %s (%d partitions): %s", GROUP_OFFSETS_TOPIC,
                     b->cfg.offsets_topic_partitions, why);
            return -1;
        }
        t = st_topics_find(b->topics, GROUP_OFFSETS_TOPIC, name_len);
        st_info("created %s with %d partitions", GROUP_OFFSETS_TOPIC,
                t ? st_topic_partition_count(t) : 0);
        if (!t) {
            snprintf(err, errlen, "%s was created but cannot be found", GROUP_OFFSETS_TOPIC);
            return -1;
        }
    }
    load_stats st = {0, 0};
    for (int32_t p = 0; p < st_topic_partition_count(t); p++)
        if (load_partition(g, st_topic_log(t, p), p, &st, err, errlen))
            return -1;
    size_t noffsets = 0;
    for (size_t i = 0; i < g->ngroups; i++)
        noffsets += g->groups[i]->noffsets;
    if (st.records)
        st_info("loaded %zu group(s) with %zu committed offset(s) from %zu record(s) of %s%s",
                g->ngroups, noffsets, st.records, GROUP_OFFSETS_TOPIC,
                st.skipped ? " (some records were not understood and skipped)" : "");
    return 0;
}
