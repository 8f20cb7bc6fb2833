/*
 * The table of topic configs (see topic_config.h). Each row names a value kind; the
 * kind decides how a string is parsed and checked and how the value is shown, so a new
 * config is one row, not new code.
 */
#include "broker/cluster/topic_config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/compress.h"
#include "common/errors.h"

enum value_kind {
    KIND_I64,         /* int64_t field of st_log_config */
    KIND_I32,         /* int32_t field */
    KIND_RATIO,       /* double field in [0, 1] (min.cleanable.dirty.ratio) */
    KIND_CLEANUP,     /* cleanup.policy: cleanup_delete / cleanup_compact */
    KIND_TS_TYPE,     /* message.timestamp.type: log_append_time */
    KIND_FALSE_ONLY,  /* a boolean whose "true" one broker cannot honour */
    KIND_COMPRESSION, /* compression.type: compression_type (-1 producer, else a codec) */
};

struct st_topic_config_def {
    const char *name;
    const char *broker_name;
    enum value_kind kind;
    size_t offset; /* into st_log_config, for KIND_I64 / KIND_I32 */
    int64_t min;
    int64_t max;
    const char *noop_default; /* Kafka's default, for the accepted-only kinds */
};

#define FIELD(f) offsetof(st_log_config, f)

static const st_topic_config_def defs[] = {
    {"cleanup.policy", "log.cleanup.policy", KIND_CLEANUP, 0, 0, 0, NULL},
    {"compression.type", "compression.type", KIND_COMPRESSION, 0, 0, 0, NULL},
    {"delete.retention.ms", "log.cleaner.delete.retention.ms", KIND_I64, FIELD(delete_retention_ms),
     0, INT64_MAX, NULL},
    {"file.delete.delay.ms", "log.segment.delete.delay.ms", KIND_I64, FIELD(file_delete_delay_ms),
     0, INT64_MAX, NULL},
    {"flush.messages", "log.flush.interval.messages", KIND_I64, FIELD(flush_messages), 1, INT64_MAX,
     NULL},
    {"flush.ms", "log.flush.interval.ms", KIND_I64, FIELD(flush_ms), 0, INT64_MAX, NULL},
    {"index.interval.bytes", "log.index.interval.bytes", KIND_I32, FIELD(index_interval_bytes), 0,
     INT32_MAX, NULL},
    {"max.message.bytes", "message.max.bytes", KIND_I32, FIELD(max_message_bytes), 0, INT32_MAX,
     NULL},
    {"message.timestamp.difference.max.ms", "log.message.timestamp.difference.max.ms", KIND_I64,
     FIELD(timestamp_difference_max_ms), 0, INT64_MAX, NULL},
    {"message.timestamp.type", "log.message.timestamp.type", KIND_TS_TYPE, 0, 0, 0, NULL},
    {"min.cleanable.dirty.ratio", "log.cleaner.min.cleanable.ratio", KIND_RATIO,
     FIELD(min_cleanable_dirty_ratio), 0, 1, NULL},
    {"min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms", KIND_I64,
     FIELD(min_compaction_lag_ms), 0, INT64_MAX, NULL},
    {"min.insync.replicas", "min.insync.replicas", KIND_I32, FIELD(min_insync_replicas), 1,
     INT32_MAX, NULL},
    /* Kafka has no lower bound on retention.bytes; anything negative means unlimited. */
    {"retention.bytes", "log.retention.bytes", KIND_I64, FIELD(retention_bytes), INT64_MIN,
     INT64_MAX, NULL},
    {"retention.ms", "log.retention.ms", KIND_I64, FIELD(retention_ms), -1, INT64_MAX, NULL},
    /* 14 bytes: Kafka's smallest legal segment (one v0 record's overhead). */
    {"segment.bytes", "log.segment.bytes", KIND_I32, FIELD(segment_bytes), 14, INT32_MAX, NULL},
    {"segment.jitter.ms", "log.roll.jitter.ms", KIND_I64, FIELD(segment_jitter_ms), 0, INT64_MAX,
     NULL},
    {"segment.ms", "log.roll.ms", KIND_I64, FIELD(segment_ms), 1, INT64_MAX, NULL},
    {"unclean.leader.election.enable", "unclean.leader.election.enable", KIND_FALSE_ONLY, 0, 0, 0,
     "false"},
};

/* Where each config's broker-wide default comes from: the straitd.cfg setting that
 * sets it (NULL: only AlterConfigs on the broker can), and the Kafka setting whose
 * default applies when nothing is set, as Kafka lists it among the synonyms
 * (retention.ms falls back to log.retention.hours=168, not to log.retention.ms). */
typedef struct origin {
    const char *name;
    const char *file_path;
    const char *default_name;
    const char *default_value;
} origin;

static const origin origins[] = {
    {"cleanup.policy", "log.cleanup_policy", "log.cleanup.policy", "delete"},
    {"compression.type", NULL, "compression.type", "producer"},
    {"delete.retention.ms", "log.delete_retention_ms", "log.cleaner.delete.retention.ms",
     "86400000"},
    {"file.delete.delay.ms", NULL, "log.segment.delete.delay.ms", "60000"},
    {"flush.messages", "log.flush_messages", "log.flush.interval.messages", "9223372036854775807"},
    {"flush.ms", "log.flush_ms", "log.flush.scheduler.interval.ms", "9223372036854775807"},
    {"index.interval.bytes", "log.index_interval_bytes", "log.index.interval.bytes", "4096"},
    {"max.message.bytes", "log.max_message_bytes", "message.max.bytes", "1048588"},
    {"message.timestamp.difference.max.ms", NULL, "log.message.timestamp.difference.max.ms",
     "9223372036854775807"},
    {"message.timestamp.type", "log.message_timestamp_type", "log.message.timestamp.type",
     "CreateTime"},
    {"min.cleanable.dirty.ratio", NULL, "log.cleaner.min.cleanable.ratio", "0.5"},
    {"min.compaction.lag.ms", "log.min_compaction_lag_ms", "log.cleaner.min.compaction.lag.ms",
     "0"},
    {"min.insync.replicas", NULL, "min.insync.replicas", "1"},
    {"retention.bytes", "log.retention_bytes", "log.retention.bytes", "-1"},
    {"retention.ms", "log.retention_ms", "log.retention.hours", "168"},
    {"segment.bytes", "log.segment_bytes", "log.segment.bytes", "1073741824"},
    {"segment.jitter.ms", NULL, "log.roll.jitter.hours", "0"},
    {"segment.ms", "log.segment_ms", "log.roll.hours", "168"},
    {"unclean.leader.election.enable", NULL, "unclean.leader.election.enable", "false"},
};

static const origin *origin_of(const st_topic_config_def *d)
{
    for (size_t i = 0; i < sizeof origins / sizeof origins[0]; i++)
        if (strcmp(origins[i].name, d->name) == 0)
            return &origins[i];
    return NULL;
}

const char *st_topic_config_file_path(const st_topic_config_def *d)
{
    const origin *o = origin_of(d);
    return o ? o->file_path : NULL;
}

void st_topic_config_kafka_default(const st_topic_config_def *d, const char **name,
                                   const char **value)
{
    const origin *o = origin_of(d);
    *name = o ? o->default_name : d->broker_name;
    *value = o ? o->default_value : NULL;
}

bool st_topic_config_is_list(const st_topic_config_def *d)
{
    return d->kind == KIND_CLEANUP;
}

const st_topic_config_def *st_topic_config_find_broker(const char *broker_name)
{
    for (size_t i = 0; i < st_topic_config_count(); i++)
        if (strcmp(defs[i].broker_name, broker_name) == 0)
            return &defs[i];
    return NULL;
}

size_t st_topic_config_count(void)
{
    return sizeof(defs) / sizeof(defs[0]);
}

const st_topic_config_def *st_topic_config_at(size_t i)
{
    return i < st_topic_config_count() ? &defs[i] : NULL;
}

const st_topic_config_def *st_topic_config_find(const char *name)
{
    for (size_t i = 0; i < st_topic_config_count(); i++)
        if (strcmp(defs[i].name, name) == 0)
            return &defs[i];
    return NULL;
}

const char *st_topic_config_name(const st_topic_config_def *d)
{
    return d->name;
}

const char *st_topic_config_broker_name(const st_topic_config_def *d)
{
    return d->broker_name;
}

/* segment.bytes is an int in Kafka but an int64_t in st_log_config: the row says I32 for
 * the range and the field's width decides how it is stored. */
static bool field_is_i64(size_t offset)
{
    return offset == FIELD(segment_bytes) || offset == FIELD(segment_ms) ||
           offset == FIELD(retention_bytes) || offset == FIELD(retention_ms) ||
           offset == FIELD(flush_messages) || offset == FIELD(flush_ms) ||
           offset == FIELD(timestamp_difference_max_ms) || offset == FIELD(delete_retention_ms) ||
           offset == FIELD(min_compaction_lag_ms) || offset == FIELD(segment_jitter_ms) ||
           offset == FIELD(file_delete_delay_ms);
}

static int64_t field_get(const st_log_config *cfg, size_t offset)
{
    const char *base = (const char *)cfg + offset;
    if (field_is_i64(offset)) {
        int64_t v;
        memcpy(&v, base, sizeof(v));
        return v;
    }
    int32_t v;
    memcpy(&v, base, sizeof(v));
    return v;
}

static void field_set(st_log_config *cfg, size_t offset, int64_t value)
{
    char *base = (char *)cfg + offset;
    if (field_is_i64(offset)) {
        memcpy(base, &value, sizeof(value));
    } else {
        int32_t v = (int32_t)value;
        memcpy(base, &v, sizeof(v));
    }
}

/* Parses a whole decimal integer within [min, max]. */
static int parse_integer(const st_topic_config_def *d, const char *value, int64_t *out, char *err,
                         size_t errlen)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (value[0] == '\0' || end == value || *end != '\0' || isspace((unsigned char)value[0])) {
        snprintf(err, errlen, "%s: \"%s\" is not a number", d->name, value);
        return ST_ERR_INVALID_CONFIG;
    }
    if (errno == ERANGE || v < d->min || v > d->max) {
        if (d->min == INT64_MIN)
            snprintf(err, errlen, "%s: %s is out of range (at most %" PRId64 ")", d->name, value,
                     d->max);
        else if (d->max == INT64_MAX)
            snprintf(err, errlen, "%s: %s is out of range (at least %" PRId64 ")", d->name, value,
                     d->min);
        else
            snprintf(err, errlen, "%s: %s is out of range (%" PRId64 "..%" PRId64 ")", d->name,
                     value, d->min, d->max);
        return ST_ERR_INVALID_CONFIG;
    }
    *out = v;
    return 0;
}

static double ratio_get(const st_log_config *cfg, size_t offset)
{
    double v;
    memcpy(&v, (const char *)cfg + offset, sizeof v);
    return v;
}

/* A ratio such as min.cleanable.dirty.ratio: a decimal number within [min, max]. */
static int parse_ratio(const st_topic_config_def *d, const char *value, double *out, char *err,
                       size_t errlen)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(value, &end);
    if (value[0] == '\0' || end == value || *end != '\0' || isspace((unsigned char)value[0]) ||
        errno == ERANGE || v != v) {
        snprintf(err, errlen, "%s: \"%s\" is not a number", d->name, value);
        return ST_ERR_INVALID_CONFIG;
    }
    if (v < (double)d->min || v > (double)d->max) {
        snprintf(err, errlen, "%s: %s is out of range (%" PRId64 "..%" PRId64 ")", d->name, value,
                 d->min, d->max);
        return ST_ERR_INVALID_CONFIG;
    }
    *out = v;
    return 0;
}

/* cleanup.policy is a comma-separated list of "delete" and "compact" (Kafka's form, so
 * "compact,delete" and "delete, compact" both work). */
static int parse_cleanup(const char *value, bool *del, bool *compact, char *err, size_t errlen)
{
    *del = false;
    *compact = false;
    const char *p = value;
    for (;;) {
        while (*p == ' ')
            p++;
        const char *start = p;
        while (*p != ',' && *p != '\0')
            p++;
        const char *stop = p;
        while (stop > start && stop[-1] == ' ')
            stop--;
        size_t len = (size_t)(stop - start);
        if (len == 6 && memcmp(start, "delete", 6) == 0) {
            *del = true;
        } else if (len == 7 && memcmp(start, "compact", 7) == 0) {
            *compact = true;
        } else {
            snprintf(err, errlen,
                     "cleanup.policy: \"%s\" is not valid (use delete, compact or "
                     "\"compact,delete\")",
                     value);
            return ST_ERR_INVALID_CONFIG;
        }
        if (*p == '\0')
            return 0;
        p++; /* the comma */
    }
}

/* compression.type's values (Kafka's names) and the codec each means. */
static const struct {
    const char *name;
    int codec;
} compression_names[] = {
    {"producer", ST_BATCH_CODEC_PRODUCER}, {"uncompressed", ST_CODEC_NONE}, {"gzip", ST_CODEC_GZIP},
    {"snappy", ST_CODEC_SNAPPY},           {"lz4", ST_CODEC_LZ4},           {"zstd", ST_CODEC_ZSTD},
};

static const char *compression_text(int codec)
{
    for (size_t i = 0; i < sizeof compression_names / sizeof compression_names[0]; i++)
        if (compression_names[i].codec == codec)
            return compression_names[i].name;
    return "producer";
}

int st_topic_config_apply(const char *name, const char *value, st_log_config *cfg, char *err,
                          size_t errlen)
{
    const st_topic_config_def *d = st_topic_config_find(name);
    if (d == NULL) {
        snprintf(err, errlen, "unknown topic config \"%s\"", name);
        return ST_ERR_INVALID_CONFIG;
    }
    if (value == NULL) {
        snprintf(err, errlen, "%s: a value is required", name);
        return ST_ERR_INVALID_CONFIG;
    }
    int64_t n;
    int rc;
    switch (d->kind) {
    case KIND_I64:
    case KIND_I32:
        rc = parse_integer(d, value, &n, err, errlen);
        if (rc == 0)
            field_set(cfg, d->offset, n);
        return rc;
    case KIND_RATIO: {
        double ratio;
        rc = parse_ratio(d, value, &ratio, err, errlen);
        if (rc == 0)
            memcpy((char *)cfg + d->offset, &ratio, sizeof ratio);
        return rc;
    }
    case KIND_CLEANUP: {
        bool del, compact;
        rc = parse_cleanup(value, &del, &compact, err, errlen);
        if (rc == 0) {
            cfg->cleanup_delete = del;
            cfg->cleanup_compact = compact;
        }
        return rc;
    }
    case KIND_TS_TYPE:
        if (strcmp(value, "CreateTime") == 0) {
            cfg->log_append_time = false;
        } else if (strcmp(value, "LogAppendTime") == 0) {
            cfg->log_append_time = true;
        } else {
            snprintf(err, errlen,
                     "message.timestamp.type: \"%s\" is not valid (use CreateTime or "
                     "LogAppendTime)",
                     value);
            return ST_ERR_INVALID_CONFIG;
        }
        return 0;
    case KIND_FALSE_ONLY:
        if (strcmp(value, "false") == 0)
            return 0;
        if (strcmp(value, "true") == 0)
            snprintf(err, errlen,
                     "%s: true is not served: a single broker has no out-of-sync replica to "
                     "elect (only false)",
                     name);
        else
            snprintf(err, errlen, "%s: \"%s\" is not valid (use true or false)", name, value);
        return ST_ERR_INVALID_CONFIG;
    case KIND_COMPRESSION:
        for (size_t i = 0; i < sizeof compression_names / sizeof compression_names[0]; i++) {
            if (strcmp(value, compression_names[i].name) == 0) {
                cfg->compression_type = compression_names[i].codec;
                return 0;
            }
        }
        snprintf(err, errlen,
                 "compression.type: \"%s\" is not valid (use producer, uncompressed, gzip, "
                 "snappy, lz4 or zstd)",
                 value);
        return ST_ERR_INVALID_CONFIG;
    }
    snprintf(err, errlen, "%s: unsupported config kind", name);
    return ST_ERR_INVALID_CONFIG;
}

static const char *cleanup_text(bool del, bool compact)
{
    if (del && compact)
        return "compact,delete";
    return compact ? "compact" : "delete";
}

void st_topic_config_format(const st_topic_config_def *d, const st_log_config *cfg,
                            const char *override, char *out, size_t outlen)
{
    switch (d->kind) {
    case KIND_I64:
    case KIND_I32:
        /* INT64_MAX prints as 9223372036854775807, which is what Kafka shows for
         * flush.messages and flush.ms left to the OS. */
        snprintf(out, outlen, "%" PRId64, field_get(cfg, d->offset));
        return;
    case KIND_RATIO:
        /* %g prints Kafka's "0.5" rather than "0.500000" */
        snprintf(out, outlen, "%g", ratio_get(cfg, d->offset));
        return;
    case KIND_CLEANUP:
        snprintf(out, outlen, "%s", cleanup_text(cfg->cleanup_delete, cfg->cleanup_compact));
        return;
    case KIND_TS_TYPE:
        snprintf(out, outlen, "%s", cfg->log_append_time ? "LogAppendTime" : "CreateTime");
        return;
    case KIND_COMPRESSION:
        snprintf(out, outlen, "%s", compression_text(cfg->compression_type));
        return;
    case KIND_FALSE_ONLY:
        snprintf(out, outlen, "%s", override != NULL ? override : d->noop_default);
        return;
    }
    snprintf(out, outlen, "%s", "");
}
