/*
 * Writes seed inputs for the fuzz harnesses, so libFuzzer starts from frames the
 * broker accepts instead of having to discover the request header by chance.
 *
 *   make_seeds requests DIR   request frames (no size prefix) for fuzz_request
 *   make_seeds batches DIR    record sets for fuzz_batch (uncompressed, each codec, mixed)
 *   make_seeds interbroker DIR  a kind byte + one message body of each kind for fuzz_interbroker
 *   make_seeds txn DIR        a kind byte, a version byte + one body of each transaction
 *                             API kind at each version, for fuzz_txn
 *
 * Every frame is built with the codec writers, field by field in the order of the
 * Kafka message definitions for that version.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "broker/log/batch.h"
#include "broker/proto/codec.h"
#include "common/buf.h"
#include "common/compress.h"
#include "common/crc32c.h"
#include "tests/fuzz/ib_samples.h"
#include "broker/txn/txn_log.h"
#include "tests/fuzz/txn_samples.h"

#define TOPIC "fuzz-topic"

/* Request header v1 (v2 adds the tagged-field block when flex). */
static void header(st_buf *b, int16_t key, int16_t version, bool flex)
{
    static int32_t correlation_id = 1;
    st_buf_put_i16(b, key);
    st_buf_put_i16(b, version);
    st_buf_put_i32(b, correlation_id++);
    st_wr_str(b, false, "make-seeds", -1);
    st_wr_tags(b, flex);
}

/* One v2 record batch holding `n` small records, CRC filled in. */
static void record_batch(st_buf *b, int n)
{
    size_t start = b->len;
    const int64_t timestamp = 1700000000000;
    st_buf_put_i64(b, 0);  /* baseOffset */
    st_buf_put_i32(b, 0);  /* batchLength: patched below */
    st_buf_put_i32(b, -1); /* partitionLeaderEpoch */
    st_buf_put_i8(b, 2);   /* magic */
    st_buf_put_i32(b, 0);  /* crc: patched below */
    st_buf_put_i16(b, 0);  /* attributes: no compression, CreateTime */
    st_buf_put_i32(b, n - 1);
    st_buf_put_i64(b, timestamp);
    st_buf_put_i64(b, timestamp + n - 1);
    st_buf_put_i64(b, -1); /* producerId */
    st_buf_put_i16(b, -1); /* producerEpoch */
    st_buf_put_i32(b, -1); /* baseSequence */
    st_buf_put_i32(b, n);
    for (int i = 0; i < n; i++) {
        st_buf rec = ST_BUF_INIT;
        char value[32];
        int vlen = snprintf(value, sizeof value, "hello %d", i);
        st_buf_put_i8(&rec, 0);   /* attributes */
        st_wr_varlong(&rec, i);   /* timestampDelta */
        st_wr_varint(&rec, i);    /* offsetDelta */
        st_wr_varint(&rec, -1);   /* null key */
        st_wr_varint(&rec, vlen); /* value */
        st_buf_append(&rec, value, (size_t)vlen);
        if (i == 0) { /* one header, so the header path is seeded too */
            st_wr_varint(&rec, 1);
            st_wr_varint(&rec, 2);
            st_buf_append(&rec, "id", 2);
            st_wr_varint(&rec, 1);
            st_buf_append(&rec, "7", 1);
        } else {
            st_wr_varint(&rec, 0);
        }
        st_wr_varint(b, (int32_t)rec.len);
        st_buf_append(b, rec.data, rec.len);
        st_buf_free(&rec);
    }
    size_t size = b->len - start;
    st_buf_patch_i32(b, start + 8, (int32_t)(size - ST_BATCH_LOG_OVERHEAD));
    uint32_t crc = st_crc32c(0, b->data + start + 21, size - 21);
    st_buf_patch_i32(b, start + 17, (int32_t)crc);
}

static void api_versions_v3(st_buf *b)
{
    header(b, 18, 3, true);
    st_wr_str(b, true, "make-seeds", -1);
    st_wr_str(b, true, "1.0", -1);
    st_wr_tags(b, true);
}

static void api_versions_v0(st_buf *b)
{
    header(b, 18, 0, false);
}

static void metadata_v1(st_buf *b)
{
    header(b, 3, 1, false);
    st_wr_array(b, false, 1);
    st_wr_str(b, false, TOPIC, -1);
}

static void produce_v7(st_buf *b)
{
    st_buf records = ST_BUF_INIT;
    record_batch(&records, 3);
    header(b, 0, 7, false);
    st_wr_str(b, false, NULL, 0); /* transactional_id */
    st_buf_put_i16(b, -1);        /* acks */
    st_buf_put_i32(b, 1000);      /* timeout_ms */
    st_wr_array(b, false, 1);
    st_wr_str(b, false, TOPIC, -1);
    st_wr_array(b, false, 1);
    st_buf_put_i32(b, 0); /* partition */
    st_wr_bytes(b, false, records.data, (int32_t)records.len);
    st_buf_free(&records);
}

static void fetch_v11(st_buf *b)
{
    header(b, 1, 11, false);
    st_buf_put_i32(b, -1);      /* replica_id */
    st_buf_put_i32(b, 0);       /* max_wait_ms: answer at once */
    st_buf_put_i32(b, 1);       /* min_bytes */
    st_buf_put_i32(b, 1 << 20); /* max_bytes */
    st_buf_put_i8(b, 0);        /* isolation_level */
    st_buf_put_i32(b, 0);       /* session_id */
    st_buf_put_i32(b, -1);      /* session_epoch */
    st_wr_array(b, false, 1);
    st_wr_str(b, false, TOPIC, -1);
    st_wr_array(b, false, 1);
    st_buf_put_i32(b, 0);        /* partition */
    st_buf_put_i32(b, -1);       /* current_leader_epoch */
    st_buf_put_i64(b, 0);        /* fetch_offset */
    st_buf_put_i64(b, -1);       /* log_start_offset */
    st_buf_put_i32(b, 1 << 20);  /* partition_max_bytes */
    st_wr_array(b, false, 0);    /* forgotten_topics_data */
    st_wr_str(b, false, "", -1); /* rack_id */
}

static void list_offsets_v1(st_buf *b)
{
    header(b, 2, 1, false);
    st_buf_put_i32(b, -1); /* replica_id */
    st_wr_array(b, false, 1);
    st_wr_str(b, false, TOPIC, -1);
    st_wr_array(b, false, 1);
    st_buf_put_i32(b, 0);  /* partition */
    st_buf_put_i64(b, -1); /* timestamp: latest */
}

static void list_offsets_v5(st_buf *b)
{
    header(b, 2, 5, false);
    st_buf_put_i32(b, -1); /* replica_id */
    st_buf_put_i8(b, 0);   /* isolation_level */
    st_wr_array(b, false, 1);
    st_wr_str(b, false, TOPIC, -1);
    st_wr_array(b, false, 2);
    st_buf_put_i32(b, 0);  /* partition */
    st_buf_put_i32(b, 0);  /* current_leader_epoch */
    st_buf_put_i64(b, -1); /* timestamp: latest */
    st_buf_put_i32(b, 1);
    st_buf_put_i32(b, -1);
    st_buf_put_i64(b, -2); /* earliest */
}

/* OffsetForLeaderEpoch v3 (replica_id, current_leader_epoch) and v4 (flexible). */
static void offset_for_leader_epoch_v3(st_buf *b)
{
    header(b, 23, 3, false);
    st_buf_put_i32(b, -1); /* replica_id: a consumer */
    st_wr_array(b, false, 1);
    st_wr_str(b, false, TOPIC, -1);
    st_wr_array(b, false, 2);
    st_buf_put_i32(b, 0);  /* partition */
    st_buf_put_i32(b, 0);  /* current_leader_epoch */
    st_buf_put_i32(b, 0);  /* leader_epoch */
    st_buf_put_i32(b, 1);  /* partition */
    st_buf_put_i32(b, -1); /* current_leader_epoch: unknown */
    st_buf_put_i32(b, 7);  /* leader_epoch: one it never had */
}

static void offset_for_leader_epoch_v4(st_buf *b)
{
    header(b, 23, 4, true);
    st_buf_put_i32(b, 2); /* replica_id: a follower */
    st_wr_array(b, true, 1);
    st_wr_str(b, true, TOPIC, -1);
    st_wr_array(b, true, 1);
    st_buf_put_i32(b, 0); /* partition */
    st_buf_put_i32(b, 1); /* current_leader_epoch: ahead of ours */
    st_buf_put_i32(b, 0); /* leader_epoch */
    st_wr_tags(b, true);
    st_wr_tags(b, true);
    st_wr_tags(b, true);
}

static void create_topics_v4(st_buf *b)
{
    header(b, 19, 4, false);
    st_wr_array(b, false, 1);
    st_wr_str(b, false, "fuzz-created", -1);
    st_buf_put_i32(b, 2);     /* num_partitions */
    st_buf_put_i16(b, 1);     /* replication_factor */
    st_wr_array(b, false, 0); /* assignments */
    st_wr_array(b, false, 1); /* configs */
    st_wr_str(b, false, "retention.ms", -1);
    st_wr_str(b, false, "60000", -1);
    st_buf_put_i32(b, 5000); /* timeout_ms */
    st_wr_bool(b, false);    /* validate_only */
}

static void describe_configs_v0(st_buf *b)
{
    header(b, 32, 0, false);
    st_wr_array(b, false, 1);
    st_buf_put_i8(b, 2); /* resource_type: TOPIC */
    st_wr_str(b, false, TOPIC, -1);
    st_wr_array(b, false, -1); /* configuration_keys: all */
}

/* ---- flexible versions and the APIs added for tooling parity (issue 15) ---- */

static void metadata_v12(st_buf *b)
{
    static const uint8_t no_id[16];
    header(b, 3, 12, true);
    st_wr_array(b, true, 1);
    st_buf_append(b, no_id, sizeof no_id); /* topic_id */
    st_wr_str(b, true, TOPIC, -1);
    st_wr_tags(b, true);
    st_wr_bool(b, true);  /* allow_auto_topic_creation */
    st_wr_bool(b, false); /* include_topic_authorized_operations */
    st_wr_tags(b, true);
}

static void create_topics_v7(st_buf *b)
{
    header(b, 19, 7, true);
    st_wr_array(b, true, 1);
    st_wr_str(b, true, "fuzz-created-flex", -1);
    st_buf_put_i32(b, 2);    /* num_partitions */
    st_buf_put_i16(b, 1);    /* replication_factor */
    st_wr_array(b, true, 0); /* assignments */
    st_wr_array(b, true, 1); /* configs */
    st_wr_str(b, true, "retention.ms", -1);
    st_wr_str(b, true, "60000", -1);
    st_wr_tags(b, true);
    st_wr_tags(b, true);
    st_buf_put_i32(b, 5000); /* timeout_ms */
    st_wr_bool(b, false);    /* validate_only */
    st_wr_tags(b, true);
}

static void find_coordinator_v4(st_buf *b)
{
    header(b, 10, 4, true);
    st_buf_put_i8(b, 0); /* key_type: group */
    st_wr_array(b, true, 2);
    st_wr_str(b, true, "fuzz-group", -1);
    st_wr_str(b, true, "fuzz-group-2", -1);
    st_wr_tags(b, true);
}

static void join_group_v9(st_buf *b)
{
    static const uint8_t subscription[] = {0,   0,   0,    0,    0,    1,   0,   10,
                                           'f', 'u', 'z',  'z',  '-',  't', 'o', 'p',
                                           'i', 'c', 0xff, 0xff, 0xff, 0xff};
    header(b, 11, 9, true);
    st_wr_str(b, true, "fuzz-group", -1);
    st_buf_put_i32(b, 10000);     /* session_timeout_ms */
    st_buf_put_i32(b, 10000);     /* rebalance_timeout_ms */
    st_wr_str(b, true, "", -1);   /* member_id */
    st_wr_str(b, true, NULL, -1); /* group_instance_id */
    st_wr_str(b, true, "consumer", -1);
    st_wr_array(b, true, 1);
    st_wr_str(b, true, "range", -1);
    st_wr_bytes(b, true, subscription, sizeof subscription);
    st_wr_tags(b, true);
    st_wr_str(b, true, "seed", -1); /* reason */
    st_wr_tags(b, true);
}

static void offset_commit_v8(st_buf *b)
{
    header(b, 8, 8, true);
    st_wr_str(b, true, "fuzz-group", -1);
    st_buf_put_i32(b, -1);        /* generation: admin commit */
    st_wr_str(b, true, "", -1);   /* member_id */
    st_wr_str(b, true, NULL, -1); /* group_instance_id */
    st_wr_array(b, true, 1);
    st_wr_str(b, true, TOPIC, -1);
    st_wr_array(b, true, 1);
    st_buf_put_i32(b, 0);  /* partition */
    st_buf_put_i64(b, 1);  /* offset */
    st_buf_put_i32(b, -1); /* leader_epoch */
    st_wr_str(b, true, "m", -1);
    st_wr_tags(b, true);
    st_wr_tags(b, true);
    st_wr_tags(b, true);
}

static void offset_fetch_v8(st_buf *b)
{
    header(b, 9, 8, true);
    st_wr_array(b, true, 2);
    st_wr_str(b, true, "fuzz-group", -1);
    st_wr_array(b, true, 1);
    st_wr_str(b, true, TOPIC, -1);
    st_wr_array(b, true, 1);
    st_buf_put_i32(b, 0);
    st_wr_tags(b, true);
    st_wr_tags(b, true);
    st_wr_str(b, true, "fuzz-group-2", -1);
    st_wr_array(b, true, -1); /* every topic */
    st_wr_tags(b, true);
    st_wr_bool(b, false); /* require_stable */
    st_wr_tags(b, true);
}

static void list_groups_v4(st_buf *b)
{
    header(b, 16, 4, true);
    st_wr_array(b, true, 1);
    st_wr_str(b, true, "Stable", -1);
    st_wr_tags(b, true);
}

static void describe_groups_v5(st_buf *b)
{
    header(b, 15, 5, true);
    st_wr_array(b, true, 1);
    st_wr_str(b, true, "fuzz-group", -1);
    st_wr_bool(b, false);
    st_wr_tags(b, true);
}

static void leave_group_v5(st_buf *b)
{
    header(b, 13, 5, true);
    st_wr_str(b, true, "fuzz-group", -1);
    st_wr_array(b, true, 1);
    st_wr_str(b, true, "fuzz-member", -1);
    st_wr_str(b, true, NULL, -1);
    st_wr_str(b, true, "seed", -1);
    st_wr_tags(b, true);
    st_wr_tags(b, true);
}

static void describe_log_dirs_v4(st_buf *b)
{
    header(b, 35, 4, true);
    st_wr_array(b, true, 1);
    st_wr_str(b, true, TOPIC, -1);
    st_wr_array(b, true, 2);
    st_buf_put_i32(b, 0);
    st_buf_put_i32(b, 7);
    st_wr_tags(b, true);
    st_wr_tags(b, true);
}

static void describe_log_dirs_v0(st_buf *b)
{
    header(b, 35, 0, false);
    st_wr_array(b, false, -1); /* every topic */
}

static void offset_delete_v0(st_buf *b)
{
    header(b, 47, 0, false);
    st_wr_str(b, false, "fuzz-group", -1);
    st_wr_array(b, false, 1);
    st_wr_str(b, false, TOPIC, -1);
    st_wr_array(b, false, 1);
    st_buf_put_i32(b, 0);
}

static void describe_cluster_v0(st_buf *b)
{
    header(b, 60, 0, true);
    st_wr_bool(b, true); /* include_cluster_authorized_operations */
    st_wr_tags(b, true);
}

static void batch_one(st_buf *b)
{
    record_batch(b, 1);
}

static void batch_two(st_buf *b)
{
    record_batch(b, 2);
    record_batch(b, 5);
}

/* record_batch(n) with its records compressed by codec (common/compress.c's writer, the
 * one recompression uses), so the fuzzer starts inside every decompressor. */
static void compressed_batch(st_buf *b, int n, int codec)
{
    st_buf plain = ST_BUF_INIT;
    record_batch(&plain, n);
    size_t start = b->len;
    st_buf_append(b, plain.data, ST_BATCH_HEADER_SIZE);
    st_cstream *cs = st_cstream_new();
    char err[200];
    if (!cs || st_cstream_start(cs, codec, b, SIZE_MAX, 0, err, sizeof err) ||
        st_cstream_write(cs, plain.data + ST_BATCH_HEADER_SIZE, plain.len - ST_BATCH_HEADER_SIZE,
                         err, sizeof err) ||
        st_cstream_end(cs, err, sizeof err)) {
        fprintf(stderr, "make_seeds: compressing with codec %d failed\n", codec);
        exit(1);
    }
    st_cstream_free(cs);
    st_buf_free(&plain);
    size_t size = b->len - start;
    st_buf_patch_i32(b, start + 8, (int32_t)(size - ST_BATCH_LOG_OVERHEAD));
    b->data[start + 22] = (uint8_t)codec; /* attributes, low byte */
    uint32_t crc = st_crc32c(0, b->data + start + 21, size - 21);
    st_buf_patch_i32(b, start + 17, (int32_t)crc);
}

static void batch_gzip(st_buf *b)
{
    compressed_batch(b, 3, ST_CODEC_GZIP);
}
static void batch_snappy(st_buf *b)
{
    compressed_batch(b, 3, ST_CODEC_SNAPPY);
}
static void batch_lz4(st_buf *b)
{
    compressed_batch(b, 3, ST_CODEC_LZ4);
}
static void batch_zstd(st_buf *b)
{
    compressed_batch(b, 3, ST_CODEC_ZSTD);
}
/* two codecs in one record set */
static void batch_mixed(st_buf *b)
{
    compressed_batch(b, 2, ST_CODEC_LZ4);
    record_batch(b, 1);
    compressed_batch(b, 4, ST_CODEC_ZSTD);
}

/* DescribeTransactions and ListTransactions v0 (flexible): fuzz_txn's samples behind a
 * request header, so fuzz_request reaches their handlers. */
static void describe_transactions_v0(st_buf *b)
{
    header(b, ST_API_DESCRIBE_TRANSACTIONS, 0, true);
    txn_sample(12, 0, b);
}

static void list_transactions_v0(st_buf *b)
{
    header(b, ST_API_LIST_TRANSACTIONS, 0, true);
    txn_sample(14, 0, b);
}

typedef struct seed {
    const char *name;
    void (*build)(st_buf *b);
} seed;

static const seed request_seeds[] = {
    {"api_versions_v3", api_versions_v3},
    {"api_versions_v0", api_versions_v0},
    {"metadata_v1", metadata_v1},
    {"produce_v7", produce_v7},
    {"fetch_v11", fetch_v11},
    {"list_offsets_v1", list_offsets_v1},
    {"list_offsets_v5", list_offsets_v5},
    {"offset_for_leader_epoch_v3", offset_for_leader_epoch_v3},
    {"offset_for_leader_epoch_v4", offset_for_leader_epoch_v4},
    {"create_topics_v4", create_topics_v4},
    {"describe_configs_v0", describe_configs_v0},
    {"metadata_v12", metadata_v12},
    {"create_topics_v7", create_topics_v7},
    {"find_coordinator_v4", find_coordinator_v4},
    {"join_group_v9", join_group_v9},
    {"offset_commit_v8", offset_commit_v8},
    {"offset_fetch_v8", offset_fetch_v8},
    {"list_groups_v4", list_groups_v4},
    {"describe_groups_v5", describe_groups_v5},
    {"leave_group_v5", leave_group_v5},
    {"describe_log_dirs_v4", describe_log_dirs_v4},
    {"describe_log_dirs_v0", describe_log_dirs_v0},
    {"offset_delete_v0", offset_delete_v0},
    {"describe_cluster_v0", describe_cluster_v0},
    {"describe_transactions_v0", describe_transactions_v0},
    {"list_transactions_v0", list_transactions_v0},
};

static const seed batch_seeds[] = {
    {"batch_one", batch_one},       {"batch_two", batch_two}, {"batch_gzip", batch_gzip},
    {"batch_snappy", batch_snappy}, {"batch_lz4", batch_lz4}, {"batch_zstd", batch_zstd},
    {"batch_mixed", batch_mixed},
};

static int write_seeds(const char *dir, const seed *seeds, size_t n)
{
    if (mkdir(dir, 0755) && errno != EEXIST) {
        fprintf(stderr, "make_seeds: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        st_buf b = ST_BUF_INIT;
        seeds[i].build(&b);
        char path[4096];
        snprintf(path, sizeof path, "%s/seed_%s", dir, seeds[i].name);
        FILE *f = fopen(path, "wb");
        bool ok = f && fwrite(b.data, 1, b.len, f) == b.len;
        if (f && fclose(f))
            ok = false;
        if (!ok) {
            fprintf(stderr, "make_seeds: cannot write %s: %s\n", path, strerror(errno));
            st_buf_free(&b);
            return 1;
        }
        st_buf_free(&b);
    }
    return 0;
}

static int write_interbroker_seeds(const char *dir)
{
    if (mkdir(dir, 0755) && errno != EEXIST) {
        fprintf(stderr, "make_seeds: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    for (int kind = 0; kind < IB_SAMPLE_KINDS; kind++) {
        st_buf b = ST_BUF_INIT;
        st_buf_put_i8(&b, (int8_t)kind);
        ib_sample(kind, &b);
        char path[4096];
        snprintf(path, sizeof path, "%s/seed_kind%02d", dir, kind);
        FILE *f = fopen(path, "wb");
        bool ok = f && fwrite(b.data, 1, b.len, f) == b.len;
        if (f && fclose(f))
            ok = false;
        st_buf_free(&b);
        if (!ok) {
            fprintf(stderr, "make_seeds: cannot write %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    return 0;
}

static int write_txn_seeds(const char *dir)
{
    if (mkdir(dir, 0755) && errno != EEXIST) {
        fprintf(stderr, "make_seeds: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    for (int kind = 0; kind < TXN_SAMPLE_KINDS; kind++) {
        const st_txn_api_range *r = st_txn_api_range_of(txn_kind_key(kind));
        for (int16_t v = r->min_version; v <= r->max_version; v++) {
            st_buf b = ST_BUF_INIT;
            st_buf_put_i8(&b, (int8_t)kind);
            st_buf_put_i8(&b, (int8_t)v);
            txn_sample(kind, v, &b);
            char path[4096];
            snprintf(path, sizeof path, "%s/seed_kind%02d_v%d", dir, kind, v);
            FILE *f = fopen(path, "wb");
            bool ok = f && fwrite(b.data, 1, b.len, f) == b.len;
            if (f && fclose(f))
                ok = false;
            st_buf_free(&b);
            if (!ok) {
                fprintf(stderr, "make_seeds: cannot write %s: %s\n", path, strerror(errno));
                return 1;
            }
        }
    }
    /* a __transaction_state value (kind TXN_SAMPLE_KINDS) */
    static const st_txn_limits lim = {900000, 1000000, 100};
    st_txn_meta *m = st_txn_meta_new("seed", 4, 9, 1);
    int16_t err;
    int32_t added;
    st_str topics[2] = {{"a", 1}, {"b", 1}};
    int32_t parts[2] = {0, 3};
    st_txn_init_pid(m, &lim, 60000, -1, -1, 1, &err);
    st_txn_add_partitions(m, &lim, 9, 0, topics, parts, 2, 5, &added);
    st_buf b = ST_BUF_INIT;
    st_buf_put_i8(&b, TXN_SAMPLE_KINDS);
    st_buf_put_i8(&b, 0);
    st_txn_log_value_encode(&b, m);
    st_txn_meta_free(m);
    char path[4096];
    snprintf(path, sizeof path, "%s/seed_log_value", dir);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(b.data, 1, b.len, f) == b.len;
    if (f && fclose(f))
        ok = false;
    st_buf_free(&b);
    if (!ok) {
        fprintf(stderr, "make_seeds: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "txn") == 0)
        return write_txn_seeds(argv[2]);
    if (argc == 3 && strcmp(argv[1], "interbroker") == 0)
        return write_interbroker_seeds(argv[2]);
    if (argc == 3 && strcmp(argv[1], "requests") == 0)
        return write_seeds(argv[2], request_seeds, sizeof request_seeds / sizeof *request_seeds);
    if (argc == 3 && strcmp(argv[1], "batches") == 0)
        return write_seeds(argv[2], batch_seeds, sizeof batch_seeds / sizeof *batch_seeds);
    fprintf(stderr, "usage: make_seeds requests|batches|interbroker|txn DIR\n");
    return 2;
}
