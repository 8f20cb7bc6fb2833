/*
 * DescribeLogDirs (35, v0..4): the broker's log directory and, per partition, the bytes
 * its segments take — what `kafka-log-dirs.sh --describe` and `strait logdirs` show.
 *
 * One directory here (the broker's data_dir). Each partition's size is the sum of its
 * segment files (st_log_size_bytes, kept in memory, no file system walk); its offset lag
 * is 0, since a partition's only replica is its leader (log end = high watermark). v3
 * adds a top-level error code, v4 the directory's total and usable bytes (statvfs: file
 * system metadata, answered from the kernel's cache as Kafka's File.getUsableSpace is).
 * Flexible from v2.
 *
 * Authorization (Kafka's): DESCRIBE on the cluster. Without it the answer lists no
 * directory (and from v3 says CLUSTER_AUTHORIZATION_FAILED).
 *
 * Topics the request names that do not exist, and partitions they do not have, are left
 * out of the answer, as Kafka does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "broker/broker_int.h"
#include "broker/security/security.h"
#include "common/errors.h"

/* One topic the request asked about (strings point into the request). */
typedef struct asked {
    st_str name;
    const uint8_t *partitions; /* int32 each, big-endian, in the request */
    int32_t npartitions;
} asked;

static int32_t be32_at(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

/* One topic's entry: every partition (a NULL) or those asked for. Work is bounded by
 * the request's size plus the topic's partition count. */
static void write_topic(st_buf *w, bool flex, const st_topic *t, const asked *a)
{
    bool *wanted = calloc(st_topic_partition_count(t) > 0 ? (size_t)st_topic_partition_count(t) : 1,
                          sizeof *wanted);
    if (!wanted)
        abort(); /* as st_buf */
    int32_t count = 0;
    for (int32_t p = 0; p < st_topic_partition_count(t) && !a; p++)
        wanted[p] = true;
    for (int32_t i = 0; a && i < a->npartitions; i++) {
        int32_t p = be32_at(a->partitions + 4 * (size_t)i);
        if (p >= 0 && p < st_topic_partition_count(t))
            wanted[p] = true;
    }
    for (int32_t p = 0; p < st_topic_partition_count(t); p++)
        count += wanted[p];
    st_wr_str(w, flex, st_topic_name(t), -1);
    st_wr_array(w, flex, count);
    for (int32_t p = 0; p < st_topic_partition_count(t); p++) {
        if (!wanted[p])
            continue;
        const st_log *log = st_topic_log(t, p);
        st_buf_put_i32(w, p);
        st_buf_put_i64(w, log ? st_log_size_bytes(log) : 0);
        st_buf_put_i64(w, 0); /* offset lag: the only replica is the leader */
        st_wr_bool(w, false); /* is_future_key: no directory moves here */
        st_wr_tags(w, flex);
    }
    st_wr_tags(w, flex);
    free(wanted);
}

/* A requested topic that exists, and where in the request it was asked for. */
typedef struct found {
    const st_topic *topic;
    int32_t at;
} found;

static int cmp_found(const void *x, const void *y)
{
    const found *a = x, *b = y;
    if (a->topic != b->topic)
        return (uintptr_t)a->topic < (uintptr_t)b->topic ? -1 : 1;
    return (a->at > b->at) - (a->at < b->at);
}

/* The named topics that exist, each once (its first mention wins): sorted, so a
 * request naming a topic a million times costs n log n, not n squared. */
static void write_named(st_buf *w, bool flex, st_broker *b, const asked *topics, int32_t n)
{
    found *f = calloc(n > 0 ? (size_t)n : 1, sizeof *f);
    if (!f)
        abort(); /* as st_buf */
    int32_t nf = 0;
    for (int32_t i = 0; i < n; i++) {
        const st_topic *t = topics[i].name.len > 0 ? st_topics_find(b->topics, topics[i].name.ptr,
                                                                    (size_t)topics[i].name.len)
                                                   : NULL;
        if (t)
            f[nf++] = (found){t, i};
    }
    qsort(f, (size_t)nf, sizeof *f, cmp_found);
    int32_t unique = 0;
    for (int32_t k = 0; k < nf; k++)
        unique += k == 0 || f[k].topic != f[k - 1].topic;
    st_wr_array(w, flex, unique);
    for (int32_t k = 0; k < nf; k++)
        if (k == 0 || f[k].topic != f[k - 1].topic)
            write_topic(w, flex, f[k].topic, &topics[f[k].at]);
    free(f);
}

/* The data directory as an absolute path (Kafka reports absolute paths). */
static void absolute_dir(const char *dir, char *out, size_t cap)
{
    char cwd[PATH_MAX];
    if (dir[0] != '/' && getcwd(cwd, sizeof cwd)) {
        int n = snprintf(out, cap, "%s/%s", cwd, strncmp(dir, "./", 2) == 0 ? dir + 2 : dir);
        if (n >= 0 && (size_t)n < cap)
            return;
        /* longer than a path can be: the directory as configured, not a cut one */
    }
    snprintf(out, cap, "%s", dir);
}

st_req_result st_handle_describe_log_dirs(st_req *req)
{
    st_broker *b = req->broker;
    st_rd *rd = &req->rd;
    bool flex = req->flex;
    int16_t v = req->api_version;
    asked *topics = NULL;
    /* name, partitions array: at least 2 + 4 bytes (compact: 1 + 1 + tags 1) */
    int32_t n = st_rd_array(rd, flex, flex ? 3 : 6);
    if (n > 0) {
        topics = calloc((size_t)n, sizeof *topics);
        if (!topics)
            abort(); /* as st_buf */
    }
    for (int32_t i = 0; i < n && !rd->err; i++) {
        topics[i].name = st_rd_str(rd, flex);
        int32_t np = st_rd_array(rd, flex, 4);
        topics[i].npartitions = np > 0 ? np : 0;
        topics[i].partitions = st_rd_raw(rd, (size_t)topics[i].npartitions * 4);
        st_rd_tags(rd, flex);
    }
    st_rd_tags(rd, flex);
    if (rd->err) {
        free(topics);
        return ST_REQ_MALFORMED;
    }

    st_buf *w = st_resp_buf(req->resp);
    st_buf_put_i32(w, 0); /* throttle_time_ms */
    bool allowed = st_req_allowed_cluster(req);
    if (v >= 3)
        st_buf_put_i16(w, allowed ? ST_ERR_NONE : ST_ERR_CLUSTER_AUTHORIZATION_FAILED);
    if (!allowed) {
        st_wr_array(w, flex, 0);
        st_wr_tags(w, flex);
        free(topics);
        return ST_REQ_DONE;
    }
    char dir[PATH_MAX + 2];
    absolute_dir(b->cfg.data_dir, dir, sizeof dir);
    st_wr_array(w, flex, 1);
    st_buf_put_i16(w, ST_ERR_NONE);
    st_wr_str(w, flex, dir, -1);
    if (n < 0) {
        size_t count = st_topics_count(b->topics);
        st_wr_array(w, flex, (int32_t)count);
        for (size_t i = 0; i < count; i++)
            write_topic(w, flex, st_topics_at(b->topics, i), NULL);
    } else {
        write_named(w, flex, b, topics, n);
    }
    if (v >= 4) {
        struct statvfs fs;
        bool known = statvfs(b->cfg.data_dir, &fs) == 0;
        st_buf_put_i64(w, known ? (int64_t)fs.f_blocks * (int64_t)fs.f_frsize : -1);
        st_buf_put_i64(w, known ? (int64_t)fs.f_bavail * (int64_t)fs.f_frsize : -1);
    }
    st_wr_tags(w, flex);
    st_wr_tags(w, flex);
    free(topics);
    return ST_REQ_DONE;
}
