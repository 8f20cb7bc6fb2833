/*
 * The topic registry on a real temporary data directory with real partition logs and a
 * real flusher: create, find, delete, grow, alter and describe, then close and reopen
 * and find everything again; the name rules; the config table's messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/cluster/topics_int.h" /* white box: the registry's own test */
#include "broker/log/log.h"
#include "common/errors.h"
#include "common/logging.h"

/* Flusher completions are queued and run by the test thread, as the loop would. */
typedef struct posted {
    void (*fn)(void *);
    void *arg;
    struct posted *next;
} posted;

typedef struct fixture {
    char dir[256];
    st_flusher *flusher;
    st_log_config defaults;
    st_topics *topics;
    pthread_mutex_t lock;
    posted *queue;
    char *logbuf; /* what st_warn & co. wrote */
    size_t loglen;
    FILE *log;
} fixture;

static void post(void *ctx, void (*fn)(void *), void *arg)
{
    fixture *f = ctx;
    posted *p = malloc(sizeof(*p));
    p->fn = fn;
    p->arg = arg;
    pthread_mutex_lock(&f->lock);
    p->next = f->queue;
    f->queue = p;
    pthread_mutex_unlock(&f->lock);
}

static void drain(fixture *f)
{
    pthread_mutex_lock(&f->lock);
    posted *p = f->queue;
    f->queue = NULL;
    pthread_mutex_unlock(&f->lock);
    while (p) {
        posted *next = p->next;
        p->fn(p->arg);
        free(p);
        p = next;
    }
}

static bool exists(const fixture *f, const char *rel)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
    return stat(path, &st) == 0;
}

static st_topics *open_registry(fixture *f)
{
    char err[512] = "";
    st_topics *t = st_topics_open(f->dir, &f->defaults, f->flusher, err, sizeof(err));
    if (t == NULL)
        fail_msg("st_topics_open: %s", err);
    return t;
}

static void close_registry(fixture *f)
{
    st_topics_close(f->topics);
    f->topics = NULL;
    drain(f);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    pthread_mutex_init(&f->lock, NULL);
    snprintf(f->dir, sizeof(f->dir), "/tmp/admin-topics-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    strcat(f->dir, "/data/nested"); /* st_topics_open must create the tree */
    f->log = open_memstream(&f->logbuf, &f->loglen);
    st_logging_setup(ST_LOG_INFO, f->log);
    char err[256];
    f->flusher = st_flusher_new(post, f, err, sizeof(err));
    assert_non_null(f->flusher);
    st_log_config_defaults(&f->defaults);
    f->topics = open_registry(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    close_registry(f);
    st_flusher_free(f->flusher);
    drain(f);
    st_logging_setup(ST_LOG_INFO, stderr);
    fclose(f->log);
    free(f->logbuf);
    char cmd[600];
    /* the mkdtemp directory is two levels up */
    snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strstr(f->dir, "/data/nested") - f->dir),
             f->dir);
    assert_int_equal(system(cmd), 0);
    pthread_mutex_destroy(&f->lock);
    free(f);
    return 0;
}

static int create(fixture *f, const char *name, int32_t partitions, const st_config_set *cfg,
                  size_t n, char *err, size_t errlen)
{
    return st_topics_create(f->topics, name, partitions, -1, cfg, n, false, err, errlen);
}

static const char *describe_value(st_topics *t, const char *topic, const char *config,
                                  bool *is_default)
{
    static char value[64];
    st_config_desc *d = NULL;
    size_t n = 0;
    assert_int_equal(st_topics_describe_configs(t, topic, &d, &n), 0);
    const char *found = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(d[i].name, config) == 0) {
            snprintf(value, sizeof(value), "%s", d[i].value);
            if (is_default)
                *is_default = d[i].is_default;
            assert_false(d[i].read_only);
            found = value;
        }
    free(d);
    if (found == NULL)
        fail_msg("config %s not described", config);
    return found;
}

static void test_create_find_list(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    st_config_set cfg[] = {{"retention.ms", "60000"}, {"cleanup.policy", "compact,delete"}};
    assert_int_equal(create(f, "orders", 3, cfg, 2, err, sizeof(err)), 0);
    assert_int_equal(create(f, "zeta", 1, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(create(f, "alpha", -1, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(create(f, "__consumer_offsets", 2, NULL, 0, err, sizeof(err)), 0);

    assert_int_equal(st_topics_count(f->topics), 4);
    assert_string_equal(st_topics_at(f->topics, 0)->name, "__consumer_offsets");
    assert_string_equal(st_topics_at(f->topics, 1)->name, "alpha");
    assert_string_equal(st_topics_at(f->topics, 2)->name, "orders");
    assert_string_equal(st_topics_at(f->topics, 3)->name, "zeta");
    assert_null(st_topics_at(f->topics, 4));

    /* Lookups take a length: the name need not be NUL-terminated. */
    st_topic *orders = st_topics_find(f->topics, "ordersXYZ", 6);
    assert_non_null(orders);
    assert_string_equal(orders->name, "orders");
    assert_null(st_topics_find(f->topics, "order", 5));
    assert_null(st_topics_find(f->topics, "ordersX", 7));
    assert_int_equal(orders->npartitions, 3);
    assert_false(orders->internal);
    assert_true(st_topics_find(f->topics, "__consumer_offsets", 18)->internal);
    assert_int_equal(st_topics_find(f->topics, "alpha", 5)->npartitions, 1);
    assert_int_equal(orders->cfg.retention_ms, 60000);
    assert_true(orders->cfg.cleanup_compact);
    assert_true(orders->cfg.cleanup_delete);
    assert_int_equal(orders->noverrides, 2);

    static const uint8_t zero[16];
    assert_memory_not_equal(orders->id, zero, 16);
    assert_memory_not_equal(orders->id, st_topics_find(f->topics, "zeta", 4)->id, 16);

    st_partition *p2 = st_topics_partition(f->topics, "orders", 6, 2);
    assert_non_null(p2);
    assert_int_equal(p2->id, 2);
    assert_ptr_equal(p2->topic, orders);
    assert_non_null(p2->log);
    assert_int_equal(st_log_end_offset(p2->log), 0);
    assert_null(st_topics_partition(f->topics, "orders", 6, 3));
    assert_null(st_topics_partition(f->topics, "orders", 6, -1));
    assert_null(st_topics_partition(f->topics, "nope", 4, 0));

    assert_true(exists(f, "orders-0"));
    assert_true(exists(f, "orders-2"));
    assert_false(exists(f, "orders-3"));
    assert_true(exists(f, "meta/topics.json"));
    assert_false(exists(f, "meta/topics.json.tmp"));
}

static void test_create_errors(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    assert_int_equal(create(f, "orders", 1, NULL, 0, err, sizeof(err)), 0);

    assert_int_equal(create(f, "orders", 1, NULL, 0, err, sizeof(err)),
                     ST_ERR_TOPIC_ALREADY_EXISTS);
    assert_string_equal(err, "topic \"orders\" already exists");

    assert_int_equal(create(f, "a.b", 1, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(create(f, "a_b", 1, NULL, 0, err, sizeof(err)),
                     ST_ERR_INVALID_TOPIC_EXCEPTION);
    assert_non_null(strstr(err, "collides with existing topic \"a.b\""));

    assert_int_equal(create(f, "p0", 0, NULL, 0, err, sizeof(err)), ST_ERR_INVALID_PARTITIONS);
    assert_non_null(strstr(err, "10000"));
    assert_int_equal(create(f, "p0", 10001, NULL, 0, err, sizeof(err)), ST_ERR_INVALID_PARTITIONS);
    assert_non_null(strstr(err, "got 10001"));

    assert_int_equal(st_topics_create(f->topics, "r3", 1, 3, NULL, 0, false, err, sizeof(err)),
                     ST_ERR_INVALID_REPLICATION_FACTOR);
    assert_string_equal(err, "replication factor 3 is larger than the 1 broker available");
    assert_int_equal(st_topics_create(f->topics, "r0", 1, 0, NULL, 0, false, err, sizeof(err)),
                     ST_ERR_INVALID_REPLICATION_FACTOR);
    assert_int_equal(st_topics_create(f->topics, "r1", 1, 1, NULL, 0, false, err, sizeof(err)), 0);

    assert_int_equal(create(f, "bad name", 1, NULL, 0, err, sizeof(err)),
                     ST_ERR_INVALID_TOPIC_EXCEPTION);
    assert_non_null(strstr(err, "contains ' '"));

    st_config_set unknown[] = {{"retention.mss", "1"}};
    assert_int_equal(create(f, "c1", 1, unknown, 1, err, sizeof(err)), ST_ERR_INVALID_CONFIG);
    assert_string_equal(err, "unknown topic config \"retention.mss\"");
    st_config_set nan[] = {{"retention.ms", "abc"}};
    assert_int_equal(create(f, "c1", 1, nan, 1, err, sizeof(err)), ST_ERR_INVALID_CONFIG);
    assert_string_equal(err, "retention.ms: \"abc\" is not a number");
    st_config_set small[] = {{"segment.bytes", "13"}};
    assert_int_equal(create(f, "c1", 1, small, 1, err, sizeof(err)), ST_ERR_INVALID_CONFIG);
    assert_non_null(strstr(err, "segment.bytes: 13 is out of range"));
    st_config_set big[] = {{"segment.bytes", "2147483648"}};
    assert_int_equal(create(f, "c1", 1, big, 1, err, sizeof(err)), ST_ERR_INVALID_CONFIG);
    st_config_set ts[] = {{"message.timestamp.type", "WallClock"}};
    assert_int_equal(create(f, "c1", 1, ts, 1, err, sizeof(err)), ST_ERR_INVALID_CONFIG);
    assert_non_null(strstr(err, "CreateTime or LogAppendTime"));
    st_config_set policy[] = {{"cleanup.policy", "compact,shred"}};
    assert_int_equal(create(f, "c1", 1, policy, 1, err, sizeof(err)), ST_ERR_INVALID_CONFIG);
    st_config_set twice[] = {{"retention.ms", "1"}, {"retention.ms", "2"}};
    assert_int_equal(create(f, "c1", 1, twice, 2, err, sizeof(err)), ST_ERR_INVALID_CONFIG);
    st_config_set null_value[] = {{"retention.ms", NULL}};
    assert_int_equal(create(f, "c1", 1, null_value, 1, err, sizeof(err)), ST_ERR_INVALID_CONFIG);
    st_config_set brotli[] = {{"compression.type", "brotli"}};
    assert_int_equal(create(f, "c1", 1, brotli, 1, err, sizeof(err)), ST_ERR_INVALID_CONFIG);
    assert_non_null(strstr(err, "producer, uncompressed, gzip, snappy, lz4 or zstd"));
    assert_false(exists(f, "c1-0"));

    /* Configs clients send at creation; unclean.leader.election.enable only as false. */
    st_config_set unclean[] = {{"unclean.leader.election.enable", "true"}};
    assert_int_equal(create(f, "c1", 1, unclean, 1, err, sizeof(err)), ST_ERR_INVALID_CONFIG);
    assert_non_null(strstr(err, "single broker"));
    st_config_set accepted[] = {{"min.insync.replicas", "1"},
                                {"compression.type", "producer"},
                                {"unclean.leader.election.enable", "false"},
                                {"delete.retention.ms", "1000"},
                                {"message.timestamp.type", "LogAppendTime"}};
    assert_int_equal(create(f, "c1", 1, accepted, 5, err, sizeof(err)), 0);
    assert_true(st_topics_find(f->topics, "c1", 2)->cfg.log_append_time);
    assert_string_equal(describe_value(f->topics, "c1", "delete.retention.ms", NULL), "1000");
    assert_string_equal(describe_value(f->topics, "c1", "compression.type", NULL), "producer");

    /* compression.type names a codec batches are recompressed into */
    st_config_set zstd[] = {{"compression.type", "zstd"}};
    assert_int_equal(create(f, "z1", 1, zstd, 1, err, sizeof(err)), 0);
    assert_int_equal(st_topics_find(f->topics, "z1", 2)->cfg.compression_type, 4);
    assert_string_equal(describe_value(f->topics, "z1", "compression.type", NULL), "zstd");

    /* validate_only checks everything and creates nothing. */
    assert_int_equal(st_topics_create(f->topics, "v1", 2, -1, NULL, 0, true, err, sizeof(err)), 0);
    assert_null(st_topics_find(f->topics, "v1", 2));
    assert_false(exists(f, "v1-0"));
    assert_int_equal(st_topics_create(f->topics, "v1", 2, 5, NULL, 0, true, err, sizeof(err)),
                     ST_ERR_INVALID_REPLICATION_FACTOR);

    /* A directory left on disk is never silently adopted by a new topic. */
    char path[512];
    snprintf(path, sizeof(path), "%s/left-0", f->dir);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(create(f, "left", 1, NULL, 0, err, sizeof(err)), ST_ERR_KAFKA_STORAGE_ERROR);
    assert_non_null(strstr(err, "left-0 already exists"));
}

static void test_name_rules(void **state)
{
    char err[256];
    char longest[251];
    memset(longest, 'x', sizeof(longest));
    assert_int_equal(st_topic_name_check(longest, 249, err, sizeof(err)), 0);
    assert_int_equal(st_topic_name_check(longest, 250, err, sizeof(err)),
                     ST_ERR_INVALID_TOPIC_EXCEPTION);
    assert_non_null(strstr(err, "250 characters"));
    assert_int_equal(st_topic_name_check("", 0, err, sizeof(err)), ST_ERR_INVALID_TOPIC_EXCEPTION);
    assert_string_equal(err, "topic name is empty");
    assert_int_equal(st_topic_name_check(".", 1, err, sizeof(err)), ST_ERR_INVALID_TOPIC_EXCEPTION);
    assert_int_equal(st_topic_name_check("..", 2, err, sizeof(err)),
                     ST_ERR_INVALID_TOPIC_EXCEPTION);
    assert_int_equal(st_topic_name_check("...", 3, err, sizeof(err)), 0);
    assert_int_equal(st_topic_name_check("Ok.name_-09", 11, err, sizeof(err)), 0);
    assert_int_equal(st_topic_name_check("a/b", 3, err, sizeof(err)),
                     ST_ERR_INVALID_TOPIC_EXCEPTION);
    assert_non_null(strstr(err, "'/'"));
    assert_int_equal(st_topic_name_check("a\0b", 3, err, sizeof(err)),
                     ST_ERR_INVALID_TOPIC_EXCEPTION);
    assert_non_null(strstr(err, "0x00 at position 1"));
    assert_int_equal(st_topic_name_check("caf\xc3\xa9", 5, err, sizeof(err)),
                     ST_ERR_INVALID_TOPIC_EXCEPTION);
}

static void test_delete(void **state)
{
    fixture *f = *state;
    char err[256];
    assert_int_equal(create(f, "gone", 2, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(create(f, "kept", 1, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(create(f, "__internal", 1, NULL, 0, err, sizeof(err)), 0);
    assert_true(exists(f, "gone-1"));

    assert_int_equal(st_topics_delete(f->topics, "gone", err, sizeof(err)), 0);
    drain(f);
    assert_null(st_topics_find(f->topics, "gone", 4));
    assert_int_equal(st_topics_count(f->topics), 2);
    assert_false(exists(f, "gone-0"));
    assert_false(exists(f, "gone-1"));
    assert_true(exists(f, "kept-0"));

    assert_int_equal(st_topics_delete(f->topics, "gone", err, sizeof(err)),
                     ST_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_string_equal(err, "topic \"gone\" does not exist");
    assert_int_equal(st_topics_delete(f->topics, "__internal", err, sizeof(err)),
                     ST_ERR_INVALID_REQUEST);
    assert_non_null(strstr(err, "internal"));

    /* The name can be used again, with fresh (empty) logs. */
    assert_int_equal(create(f, "gone", 1, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(st_log_end_offset(st_topics_partition(f->topics, "gone", 4, 0)->log), 0);

    close_registry(f);
    f->topics = open_registry(f);
    assert_int_equal(st_topics_count(f->topics), 3);
    assert_int_equal(st_topics_find(f->topics, "gone", 4)->npartitions, 1);
}

static void test_create_partitions(void **state)
{
    fixture *f = *state;
    char err[256];
    assert_int_equal(create(f, "grow", 3, NULL, 0, err, sizeof(err)), 0);
    st_topic *grow = st_topics_find(f->topics, "grow", 4);

    assert_int_equal(st_topics_create_partitions(f->topics, "grow", 5, true, err, sizeof(err)), 0);
    assert_int_equal(grow->npartitions, 3);
    assert_false(exists(f, "grow-3"));

    assert_int_equal(st_topics_create_partitions(f->topics, "grow", 5, false, err, sizeof(err)), 0);
    assert_int_equal(grow->npartitions, 5);
    assert_true(exists(f, "grow-4"));
    assert_non_null(st_topics_partition(f->topics, "grow", 4, 4)->log);
    assert_int_equal(st_topics_partition(f->topics, "grow", 4, 4)->id, 4);
    assert_ptr_equal(st_topics_partition(f->topics, "grow", 4, 0)->topic, grow);

    assert_int_equal(st_topics_create_partitions(f->topics, "grow", 4, false, err, sizeof(err)),
                     ST_ERR_INVALID_PARTITIONS);
    assert_non_null(strstr(err, "has 5 partitions"));
    assert_int_equal(st_topics_create_partitions(f->topics, "grow", 5, false, err, sizeof(err)),
                     ST_ERR_INVALID_PARTITIONS);
    assert_int_equal(st_topics_create_partitions(f->topics, "grow", 10001, false, err, sizeof(err)),
                     ST_ERR_INVALID_PARTITIONS);
    assert_int_equal(st_topics_create_partitions(f->topics, "nope", 9, false, err, sizeof(err)),
                     ST_ERR_UNKNOWN_TOPIC_OR_PARTITION);
}

static void test_alter_and_describe(void **state)
{
    fixture *f = *state;
    char err[256];
    bool is_default = false;
    st_config_set initial[] = {{"retention.ms", "1000"}, {"segment.bytes", "1048576"}};
    assert_int_equal(create(f, "cfg", 2, initial, 2, err, sizeof(err)), 0);
    st_topic *cfg = st_topics_find(f->topics, "cfg", 3);

    assert_string_equal(describe_value(f->topics, "cfg", "retention.ms", &is_default), "1000");
    assert_false(is_default);
    assert_string_equal(describe_value(f->topics, "cfg", "flush.ms", &is_default),
                        "9223372036854775807");
    assert_true(is_default);
    assert_string_equal(describe_value(f->topics, "cfg", "flush.messages", NULL),
                        "9223372036854775807");
    assert_string_equal(describe_value(f->topics, "cfg", "cleanup.policy", NULL), "delete");
    assert_string_equal(describe_value(f->topics, "cfg", "min.insync.replicas", NULL), "1");

    /* Incremental: one added, one removed, the rest kept. */
    st_config_set inc[] = {{"cleanup.policy", "compact"}, {"segment.bytes", NULL}};
    assert_int_equal(
        st_topics_alter_configs(f->topics, "cfg", inc, 2, true, false, err, sizeof(err)), 0);
    assert_int_equal(cfg->noverrides, 2);
    assert_int_equal(cfg->cfg.retention_ms, 1000);
    assert_true(cfg->cfg.cleanup_compact);
    assert_false(cfg->cfg.cleanup_delete);
    assert_int_equal(cfg->cfg.segment_bytes, f->defaults.segment_bytes);
    assert_string_equal(describe_value(f->topics, "cfg", "cleanup.policy", &is_default), "compact");
    assert_false(is_default);
    assert_string_equal(describe_value(f->topics, "cfg", "segment.bytes", &is_default),
                        "1073741824");
    assert_true(is_default);

    /* Whole replacement (AlterConfigs): what is not named goes back to the default. */
    st_config_set all[] = {{"flush.messages", "1"}};
    assert_int_equal(
        st_topics_alter_configs(f->topics, "cfg", all, 1, false, false, err, sizeof(err)), 0);
    assert_int_equal(cfg->noverrides, 1);
    assert_int_equal(cfg->cfg.flush_messages, 1);
    assert_int_equal(cfg->cfg.retention_ms, f->defaults.retention_ms);
    assert_true(cfg->cfg.cleanup_delete);

    /* Bad requests change nothing. */
    st_config_set bad[] = {{"flush.messages", "2"}, {"retention.ms", "abc"}};
    assert_int_equal(
        st_topics_alter_configs(f->topics, "cfg", bad, 2, true, false, err, sizeof(err)),
        ST_ERR_INVALID_CONFIG);
    assert_string_equal(err, "retention.ms: \"abc\" is not a number");
    st_config_set unknown[] = {{"no.such.config", NULL}};
    assert_int_equal(
        st_topics_alter_configs(f->topics, "cfg", unknown, 1, true, false, err, sizeof(err)),
        ST_ERR_INVALID_CONFIG);
    assert_string_equal(err, "unknown topic config \"no.such.config\"");
    st_config_set low[] = {{"retention.ms", "-2"}};
    assert_int_equal(
        st_topics_alter_configs(f->topics, "cfg", low, 1, true, false, err, sizeof(err)),
        ST_ERR_INVALID_CONFIG);
    assert_int_equal(cfg->cfg.flush_messages, 1);

    st_config_set vo[] = {{"retention.ms", "5"}};
    assert_int_equal(st_topics_alter_configs(f->topics, "cfg", vo, 1, true, true, err, sizeof(err)),
                     0);
    assert_int_equal(cfg->cfg.retention_ms, f->defaults.retention_ms);
    assert_int_equal(
        st_topics_alter_configs(f->topics, "none", vo, 1, true, false, err, sizeof(err)),
        ST_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_string_equal(err, "topic \"none\" does not exist");

    st_config_desc *d;
    size_t n;
    assert_int_equal(st_topics_describe_configs(f->topics, "none", &d, &n),
                     ST_ERR_UNKNOWN_TOPIC_OR_PARTITION);
}

/* Broker-wide defaults changed at run time (dynamic broker configs) reach every topic
 * that does not override them, and its logs, at once. */
static void test_set_defaults(void **state)
{
    fixture *f = *state;
    char err[256];
    st_config_set ov[] = {{"segment.bytes", "4096"}};
    assert_int_equal(create(f, "plain", 2, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(create(f, "own", 1, ov, 1, err, sizeof(err)), 0);
    st_log_config d = f->defaults;
    d.retention_ms = 3600000;
    d.segment_bytes = 8192;
    st_topics_set_defaults(f->topics, &d);
    st_topic *plain = st_topics_find(f->topics, "plain", 5);
    st_topic *own = st_topics_find(f->topics, "own", 3);
    assert_int_equal(plain->cfg.retention_ms, 3600000);
    assert_int_equal(plain->cfg.segment_bytes, 8192);
    assert_int_equal(own->cfg.retention_ms, 3600000);
    assert_int_equal(own->cfg.segment_bytes, 4096); /* its override wins */
    assert_string_equal(describe_value(f->topics, "plain", "retention.ms", NULL), "3600000");
    /* and new topics start from them */
    assert_int_equal(create(f, "later", 1, NULL, 0, err, sizeof(err)), 0);
    assert_string_equal(describe_value(f->topics, "later", "segment.bytes", NULL), "8192");
}

static void test_reopen(void **state)
{
    fixture *f = *state;
    char err[256];
    st_config_set cfg[] = {{"retention.ms", "60000"}, {"message.timestamp.type", "LogAppendTime"}};
    assert_int_equal(create(f, "orders", 4, cfg, 2, err, sizeof(err)), 0);
    assert_int_equal(create(f, "b", 1, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(st_topics_create_partitions(f->topics, "b", 2, false, err, sizeof(err)), 0);
    uint8_t id[16];
    memcpy(id, st_topics_find(f->topics, "orders", 6)->id, 16);

    close_registry(f);
    assert_true(exists(f, ".clean_shutdown"));

    /* A directory that belongs to no topic is reported and left alone. */
    char path[512];
    snprintf(path, sizeof(path), "%s/ghost-0", f->dir);
    assert_int_equal(mkdir(path, 0755), 0);

    f->topics = open_registry(f);
    assert_false(exists(f, ".clean_shutdown")); /* consumed */
    assert_int_equal(st_topics_count(f->topics), 2);
    st_topic *orders = st_topics_find(f->topics, "orders", 6);
    assert_non_null(orders);
    assert_int_equal(orders->npartitions, 4);
    assert_memory_equal(orders->id, id, 16);
    assert_int_equal(orders->cfg.retention_ms, 60000);
    assert_true(orders->cfg.log_append_time);
    assert_int_equal(orders->noverrides, 2);
    assert_int_equal(st_topics_find(f->topics, "b", 1)->npartitions, 2);
    assert_non_null(st_topics_partition(f->topics, "b", 1, 1)->log);

    fflush(f->log);
    assert_non_null(strstr(f->logbuf, "ghost-0"));
    assert_true(exists(f, "ghost-0"));
    assert_null(st_topics_find(f->topics, "ghost", 5));

    /* Without the marker (a crash), the registry still opens everything. */
    close_registry(f);
    snprintf(path, sizeof(path), "%s/.clean_shutdown", f->dir);
    assert_int_equal(unlink(path), 0);
    f->topics = open_registry(f);
    assert_int_equal(st_topics_count(f->topics), 2);
}

static void test_open_errors(void **state)
{
    fixture *f = *state;
    char err[512] = "";
    char path[512], file[400];

    /* A corrupt topics.json stops start-up with the file named. */
    close_registry(f);
    snprintf(path, sizeof(path), "%s/meta/topics.json", f->dir);
    FILE *fp = fopen(path, "w");
    fputs("{\"topics\": [ {\"name\": 1", fp);
    fclose(fp);
    assert_null(st_topics_open(f->dir, &f->defaults, f->flusher, err, sizeof(err)));
    assert_non_null(strstr(err, "topics.json"));

    fp = fopen(path, "w");
    fputs("{\"version\":1,\"topics\":[{\"name\":\"x\",\"id\":\"00\",\"partitions\":1}]}", fp);
    fclose(fp);
    assert_null(st_topics_open(f->dir, &f->defaults, f->flusher, err, sizeof(err)));
    assert_non_null(strstr(err, "32 hex digits"));
    unlink(path);

    /* A data directory that cannot be made: the message names the path. */
    snprintf(file, sizeof(file), "%s/plainfile", f->dir);
    fp = fopen(file, "w");
    fclose(fp);
    snprintf(path, sizeof(path), "%s/sub", file);
    assert_null(st_topics_open(path, &f->defaults, f->flusher, err, sizeof(err)));
    assert_non_null(strstr(err, "plainfile"));

    f->topics = open_registry(f);
    assert_int_equal(st_topics_count(f->topics), 0);
}

static void test_tick(void **state)
{
    fixture *f = *state;
    char err[256];
    assert_int_equal(create(f, "ticked", 2, NULL, 0, err, sizeof(err)), 0);
    st_topics_tick(f->topics, 1000);
    drain(f);
    assert_int_equal(st_log_segment_count(st_topics_partition(f->topics, "ticked", 6, 1)->log), 1);
}

/* Inode of topics.json: every write renames a new file over it. */
static ino_t registry_inode(const fixture *f)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/meta/topics.json", f->dir);
    assert_int_equal(stat(path, &st), 0);
    return st.st_ino;
}

static void test_batch_persists_once(void **state)
{
    fixture *f = *state;
    char err[256], name[32];
    assert_int_equal(create(f, "old", 1, NULL, 0, err, sizeof(err)), 0);
    ino_t before = registry_inode(f);

    st_topics_defer(f->topics);
    for (int i = 0; i < 50; i++) {
        snprintf(name, sizeof(name), "batch-%d", i);
        assert_int_equal(create(f, name, 2, NULL, 0, err, sizeof(err)), 0);
    }
    assert_int_equal(st_topics_delete(f->topics, "old", err, sizeof(err)), 0);
    /* in memory at once; on disk not yet, and the deleted topic's data stays */
    assert_non_null(st_topics_find(f->topics, "batch-49", 8));
    assert_null(st_topics_find(f->topics, "old", 3));
    assert_true(exists(f, "old-0"));
    assert_true(registry_inode(f) == before);

    assert_int_equal(st_topics_persist(f->topics, err, sizeof(err)), 0);
    assert_true(registry_inode(f) != before);
    assert_false(exists(f, "old-0"));
    before = registry_inode(f);
    assert_int_equal(st_topics_persist(f->topics, err, sizeof(err)), 0); /* nothing to do */
    assert_true(registry_inode(f) == before);

    /* the batch is over: a single change persists at once again */
    assert_int_equal(create(f, "single", 1, NULL, 0, err, sizeof(err)), 0);
    assert_true(registry_inode(f) != before);

    close_registry(f);
    f->topics = open_registry(f);
    assert_int_equal(st_topics_count(f->topics), 51);
    assert_int_equal(st_topics_find(f->topics, "batch-7", 7)->npartitions, 2);
}

static void test_failed_persist_undoes(void **state)
{
    fixture *f = *state;
    char err[256], tmp[512];
    assert_int_equal(create(f, "kept", 1, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(create(f, "grown", 1, NULL, 0, err, sizeof(err)), 0);
    st_log *log = st_topics_partition(f->topics, "kept", 4, 0)->log;
    int64_t kept_end = st_log_end_offset(log);

    /* a directory where the temp file goes makes every write of topics.json fail */
    snprintf(tmp, sizeof(tmp), "%s/meta/topics.json.tmp", f->dir);
    assert_int_equal(mkdir(tmp, 0755), 0);

    st_topics_defer(f->topics);
    assert_int_equal(create(f, "new", 3, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(st_topics_delete(f->topics, "kept", err, sizeof(err)), 0);
    assert_int_equal(st_topics_create_partitions(f->topics, "grown", 4, false, err, sizeof(err)),
                     0);
    assert_true(exists(f, "new-2"));
    assert_int_equal(st_topics_persist(f->topics, err, sizeof(err)), ST_ERR_KAFKA_STORAGE_ERROR);
    assert_non_null(strstr(err, "topics.json.tmp"));
    /* everything as topics.json has it */
    assert_null(st_topics_find(f->topics, "new", 3));
    assert_false(exists(f, "new-0"));
    assert_non_null(st_topics_find(f->topics, "kept", 4));
    assert_true(st_topics_partition(f->topics, "kept", 4, 0)->log == log);
    assert_int_equal(st_log_end_offset(log), kept_end);
    assert_true(exists(f, "kept-0"));
    assert_int_equal(st_topics_find(f->topics, "grown", 5)->npartitions, 1);
    assert_false(exists(f, "grown-1"));

    /* outside a batch the change fails and is undone at once */
    assert_int_equal(create(f, "single", 1, NULL, 0, err, sizeof(err)), ST_ERR_KAFKA_STORAGE_ERROR);
    assert_null(st_topics_find(f->topics, "single", 6));
    assert_false(exists(f, "single-0"));

    /* once the disk is fine again, changes persist */
    assert_int_equal(rmdir(tmp), 0);
    assert_int_equal(create(f, "later", 1, NULL, 0, err, sizeof(err)), 0);
    close_registry(f);
    f->topics = open_registry(f);
    assert_int_equal(st_topics_count(f->topics), 3);
    assert_non_null(st_topics_find(f->topics, "later", 5));
    assert_null(st_topics_find(f->topics, "new", 3));
}

/* A creation job makes its partitions on the registry's worker and registers them back
 * on the calling (loop) thread: until then the topics are invisible and their names
 * reserved; a failed write of topics.json answers each topic with the storage error and
 * leaves no directory. */
static void job_done(void *arg)
{
    (*(int *)arg)++;
}

static void wait_done(fixture *f, const int *done)
{
    for (int i = 0; i < 5000 && !*done; i++) {
        drain(f);
        if (!*done)
            usleep(1000);
    }
    assert_int_equal(*done, 1);
}

/* Runs completions until name's partition files are removed and that is known. */
static void wait_removed(fixture *f, const char *name)
{
    for (int i = 0; i < 5000 && st_topics_removing(f->topics, name); i++) {
        usleep(1000);
        drain(f);
    }
    assert_false(st_topics_removing(f->topics, name));
}

static void test_job_off_loop(void **state)
{
    fixture *f = *state;
    char err[256];
    assert_int_equal(st_topics_start_worker(f->topics, post, f, err, sizeof(err)), 0);

    st_topics_job *j = st_topics_job_new(f->topics);
    assert_int_equal(st_topics_job_add(j, "made", 3, -1, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(st_topics_job_add(j, "made", 1, -1, NULL, 0, err, sizeof(err)),
                     ST_ERR_TOPIC_ALREADY_EXISTS);
    assert_int_equal(st_topics_job_add(j, "also", 2, -1, NULL, 0, err, sizeof(err)), 0);
    int done = 0;
    assert_int_equal(st_topics_job_start(j, job_done, &done), 0);
    /* in flight: not served, and its names taken */
    assert_null(st_topics_find(f->topics, "made", 4));
    assert_int_equal(create(f, "also", 1, NULL, 0, err, sizeof(err)), ST_ERR_TOPIC_ALREADY_EXISTS);
    assert_non_null(strstr(err, "being created"));
    wait_done(f, &done);
    assert_int_equal(st_topics_job_result(j, 0, err, sizeof(err)), 0);
    assert_int_equal(st_topics_job_result(j, 1, err, sizeof(err)), 0);
    st_topics_job_free(j);
    assert_int_equal(st_topics_find(f->topics, "made", 4)->npartitions, 3);
    assert_true(exists(f, "also-1"));

    /* topics.json cannot be written: undone, with the reason */
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s/meta/topics.json.tmp", f->dir);
    assert_int_equal(mkdir(tmp, 0755), 0);
    j = st_topics_job_new(f->topics);
    assert_int_equal(st_topics_job_add(j, "lost", 2, -1, NULL, 0, err, sizeof(err)), 0);
    done = 0;
    assert_int_equal(st_topics_job_start(j, job_done, &done), 0);
    wait_done(f, &done);
    assert_int_equal(st_topics_job_result(j, 0, err, sizeof(err)), ST_ERR_KAFKA_STORAGE_ERROR);
    assert_non_null(strstr(err, "topics.json.tmp"));
    st_topics_job_free(j);
    assert_null(st_topics_find(f->topics, "lost", 4));
    wait_removed(f, "lost"); /* the undone partitions' files go on the worker too */
    assert_false(exists(f, "lost-0"));
    assert_int_equal(rmdir(tmp), 0);

    /* a directory in the way fails that topic only, on the worker */
    assert_int_equal(mkdir(strcat(strcpy(tmp, f->dir), "/stray-1"), 0755), 0);
    j = st_topics_job_new(f->topics);
    assert_int_equal(st_topics_job_add(j, "stray", 3, -1, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(st_topics_job_add(j, "fine", 1, -1, NULL, 0, err, sizeof(err)), 0);
    done = 0;
    assert_int_equal(st_topics_job_start(j, job_done, &done), 0);
    wait_done(f, &done);
    assert_int_equal(st_topics_job_result(j, 0, err, sizeof(err)), ST_ERR_KAFKA_STORAGE_ERROR);
    assert_non_null(strstr(err, "stray-1 already exists"));
    assert_int_equal(st_topics_job_result(j, 1, err, sizeof(err)), 0);
    st_topics_job_free(j);
    assert_false(exists(f, "stray-0"));
    assert_non_null(st_topics_find(f->topics, "fine", 4));

    st_topics_stop_worker(f->topics);
    close_registry(f);
    f->topics = open_registry(f);
    assert_int_equal(st_topics_count(f->topics), 3); /* made, also, fine */
}

/* A deleted topic's files are removed on the worker; until that is done (its completion
 * has run on the loop) the registry's own creations of the name are refused, so none
 * makes a directory the worker is deleting. */
static void test_delete_off_loop(void **state)
{
    fixture *f = *state;
    char err[256];
    assert_int_equal(st_topics_start_worker(f->topics, post, f, err, sizeof(err)), 0);
    assert_int_equal(create(f, "gone", 4, NULL, 0, err, sizeof(err)), 0);
    assert_true(exists(f, "gone-3"));
    assert_int_equal(st_topics_delete(f->topics, "gone", err, sizeof(err)), 0);
    assert_null(st_topics_find(f->topics, "gone", 4));
    /* the completion has not run (nothing drained): still being removed */
    assert_int_equal(create(f, "gone", 1, NULL, 0, err, sizeof(err)), ST_ERR_TOPIC_ALREADY_EXISTS);
    assert_non_null(strstr(err, "still being deleted"));
    wait_removed(f, "gone");
    assert_false(exists(f, "gone-0"));
    assert_false(exists(f, "gone-3"));
    assert_int_equal(create(f, "gone", 1, NULL, 0, err, sizeof(err)), 0);
    assert_true(exists(f, "gone-0"));

    /* a creation job queued behind a deletion of the same name finds the directory gone */
    assert_int_equal(st_topics_delete(f->topics, "gone", err, sizeof(err)), 0);
    st_topics_job *j = st_topics_job_new(f->topics);
    assert_int_equal(st_topics_job_add(j, "gone", 2, -1, NULL, 0, err, sizeof(err)), 0);
    int done = 0;
    assert_int_equal(st_topics_job_start(j, job_done, &done), 0);
    wait_done(f, &done);
    assert_int_equal(st_topics_job_result(j, 0, err, sizeof(err)), 0);
    st_topics_job_free(j);
    assert_int_equal(st_topics_find(f->topics, "gone", 4)->npartitions, 2);
    st_topics_stop_worker(f->topics);
    drain(f);
}

/* Names that differ only in '.' and '_' collide with the names being made, not only with
 * registered topics: two asked together (one CreateTopics, or a creation on the loop
 * while a job is in flight) were both made. */
static void test_job_names_collide(void **state)
{
    fixture *f = *state;
    char err[256];
    assert_int_equal(st_topics_start_worker(f->topics, post, f, err, sizeof(err)), 0);
    st_topics_job *j = st_topics_job_new(f->topics);
    assert_int_equal(st_topics_job_add(j, "a.b", 1, -1, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(st_topics_job_add(j, "a_b", 1, -1, NULL, 0, err, sizeof(err)),
                     ST_ERR_INVALID_TOPIC_EXCEPTION);
    assert_non_null(strstr(err, "collides with topic \"a.b\", being created"));
    int done = 0;
    assert_int_equal(st_topics_job_start(j, job_done, &done), 0);
    assert_int_equal(create(f, "a_b", 1, NULL, 0, err, sizeof(err)),
                     ST_ERR_INVALID_TOPIC_EXCEPTION);
    wait_done(f, &done);
    assert_int_equal(st_topics_job_result(j, 0, err, sizeof(err)), 0);
    st_topics_job_free(j);
    assert_null(st_topics_find(f->topics, "a_b", 3));
    assert_false(exists(f, "a_b-0"));
    assert_int_equal(st_topics_count(f->topics), 1);
    st_topics_stop_worker(f->topics);
    drain(f);
}

/* A deleted topic's directories that the broker had not removed when it died (kill -9
 * while the worker was deleting them) are removed at the next start: topics.json names
 * the topic under "removing". Other strays, and another topic's directories, stay. */
static void test_delete_leftovers_removed_at_start(void **state)
{
    fixture *f = *state;
    char err[256], path[512];
    assert_int_equal(create(f, "gone", 2, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(create(f, "gone-1", 1, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(st_topics_delete(f->topics, "gone", err, sizeof(err)), 0);
    assert_false(exists(f, "gone-0"));
    /* what a kill -9 leaves: partition directories of the deleted topic, with files */
    const char *left[] = {"gone-0", "gone-7"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s", f->dir, left[i]);
        assert_int_equal(mkdir(path, 0755), 0);
        strcat(path, "/00000000000000000000.log");
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fclose(fp);
    }
    snprintf(path, sizeof(path), "%s/other-0", f->dir);
    assert_int_equal(mkdir(path, 0755), 0);
    close_registry(f);
    f->topics = open_registry(f);
    assert_false(exists(f, "gone-0"));
    assert_false(exists(f, "gone-7"));
    assert_true(exists(f, "gone-1-0")); /* topic "gone-1"'s */
    assert_true(exists(f, "other-0"));  /* not known to be deleted: left alone */
    assert_int_equal(create(f, "gone", 8, NULL, 0, err, sizeof(err)), 0);
}

/* Duplicate config names are found by sorting, so 200,000 of them cost milliseconds (a
 * pairwise check took minutes on the event loop for an IncrementalAlterConfigs). */
static void test_config_duplicates(void **state)
{
    size_t n = 200000;
    st_config_set *c = calloc(n, sizeof *c);
    char(*names)[16] = calloc(n, sizeof *names);
    assert_non_null(c);
    assert_non_null(names);
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "c%07zu", (i * 7919) % n); /* a permutation */
        c[i].name = names[i];
    }
    assert_null(st_config_sets_duplicate(c, 0));
    assert_null(st_config_sets_duplicate(c, 1));
    assert_null(st_config_sets_duplicate(c, n));
    c[n - 1].name = c[0].name; /* the first and the last */
    const char *dup = st_config_sets_duplicate(c, n);
    assert_non_null(dup);
    assert_string_equal(dup, names[0]);
    free(c);
    free(names);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_find_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_errors, setup, teardown),
        cmocka_unit_test(test_name_rules),
        cmocka_unit_test(test_config_duplicates),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_partitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alter_and_describe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tick, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_persists_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_persist_undoes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_off_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_off_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_names_collide, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_leftovers_removed_at_start, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
